/* Tests of src/ingest/expr.c (parsing, exact arithmetic, conditions) and
 * src/ingest/recode.c through import_run: --values, --compute, --where and
 * rules on small hand-written files, with the exact rows and cent sums
 * stored, and the errors for bad expressions, unknown columns and
 * ambiguous rules. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "helpers.h"
#include "ingest/expr.h"
#include "ingest/import.h"
#include "ingest/recode.h"

/* ---- expr alone ---- */

typedef struct {
	const char *names[8], *vals[8];
} row_vals;

static slice_t get_val(void *ud, int slot)
{
	row_vals *r = ud;
	return slice_cstr(r->vals[slot] ? r->vals[slot] : "");
}

/* Evaluates text over name=value pairs (names bound in order of use). */
static bool eval_with(const char *text, row_vals *rv, expr_val *out, char *why)
{
	char w[200];
	expr_t *e = expr_parse(text, strlen(text), EXPR_VALUE, NULL, w, sizeof w);
	cr_assert(e, "%s: %s", text, w);
	int slots[8];
	for (int i = 0; i < expr_nnames(e); i++) {
		slots[i] = -1;
		for (int j = 0; j < 8 && rv->names[j]; j++)
			if (!strcasecmp(rv->names[j], expr_name(e, i)))
				slots[i] = j;
		cr_assert_geq(slots[i], 0, "%s: no value for %s", text, expr_name(e, i));
	}
	expr_ctx c = {get_val, rv, slots, NULL, NULL};
	bool ok = expr_eval(e, &c, out, why, 200);
	expr_free(e);
	return ok;
}

static void expect_num(const char *text, row_vals *rv, const char *want)
{
	expr_val v;
	char why[200] = "", got[64];
	cr_assert(eval_with(text, rv, &v, why), "%s: %s", text, why);
	cr_assert_eq(v.kind, EXPR_NUM, "%s: not a number", text);
	decimal_format(v.num, got, sizeof got);
	cr_expect_str_eq(got, want, "%s = %s, want %s", text, got, want);
}

static bool test_with(const char *text, row_vals *rv)
{
	char w[200];
	expr_t *e = expr_parse(text, strlen(text), EXPR_COND, NULL, w, sizeof w);
	cr_assert(e, "%s: %s", text, w);
	int slots[8];
	for (int i = 0; i < expr_nnames(e); i++) {
		slots[i] = -1;
		for (int j = 0; j < 8 && rv->names[j]; j++)
			if (!strcasecmp(rv->names[j], expr_name(e, i)))
				slots[i] = j;
		cr_assert_geq(slots[i], 0, "%s: no value for %s", text, expr_name(e, i));
	}
	expr_ctx c = {get_val, rv, slots, NULL, NULL};
	bool out = false;
	cr_assert(expr_test(e, &c, &out, w, sizeof w), "%s: %s", text, w);
	expr_free(e);
	return out;
}

static void expect_parse_error(const char *text, expr_mode mode, const char *part)
{
	char w[200] = "";
	expr_t *e = expr_parse(text, strlen(text), mode, NULL, w, sizeof w);
	cr_expect_null(e, "%s parsed", text);
	expr_free(e);
	cr_expect(strstr(w, part) != NULL, "%s: \"%s\" lacks \"%s\"", text, w, part);
}

Test(expr, exact_decimal_arithmetic)
{
	row_vals rv = {{"Sales", "Profit", "Order Date", "big"}, {"261.96", "41.9136", "2016-11-08", "9999999999999.99"}};
	expect_num("Sales - Profit", &rv, "220.0464");
	expect_num("[Sales] + Profit * 2", &rv, "345.7872");
	expect_num("-(Sales - 0.96) * 1.5", &rv, "-391.500");
	expect_num("Sales * 0.1 + Sales * 0.2", &rv, "78.588");
	expect_num("abs(Profit - Sales)", &rv, "220.0464");
	expect_num("big + big", &rv, "19999999999999.98");
	/* 0.1 + 0.2 is 0.3 exactly: no binary floating point anywhere */
	expect_num("0.1 + 0.2", &rv, "0.3");
	expect_num("$1 - $2", &(row_vals){{"$1", "$2"}, {"10", "0.01"}}, "9.99");
}

Test(expr, nulls_propagate_and_coalesce_skips_them)
{
	row_vals rv = {{"engage", "close", "a", "b"}, {"", "2017-03-01", "5", ""}};
	expr_val v;
	char why[200];
	cr_assert(eval_with("coalesce(engage, close)", &rv, &v, why));
	cr_expect_eq(v.kind, EXPR_TEXT);
	cr_expect(slice_eq_cstr(v.text, "2017-03-01"));
	cr_assert(eval_with("a - b", &rv, &v, why));
	cr_expect_eq(v.kind, EXPR_NULL, "an empty operand gives an empty result, not 0");
	expect_num("a - coalesce(b, 0)", &rv, "5.00");
}

Test(expr, a_text_operand_is_an_error_naming_its_column)
{
	row_vals rv = {{"Sales", "Profit"}, {"12.00", "n/a"}};
	expr_val v;
	char why[200] = "";
	cr_assert_not(eval_with("Sales - Profit", &rv, &v, why));
	cr_expect(strstr(why, "column 'Profit': 'n/a' is not a number"), "%s", why);
}

Test(expr, minor_units_exact_or_rounded_half_even)
{
	decimal_t v = {220046, 3}; /* 220.046 */
	int64_t out = 0;
	cr_expect_eq(decimal_to_minor(v, 2, false, &out), DECIMAL_INEXACT);
	cr_assert_eq(decimal_to_minor(v, 2, true, &out), DECIMAL_OK);
	cr_expect_eq(out, 22005);
	v.num = -1125; /* -1.125 -> -1.12 (half to even) */
	cr_assert_eq(decimal_to_minor(v, 2, true, &out), DECIMAL_OK);
	cr_expect_eq(out, -112);
	v.num = -1135; /* -1.135 -> -1.14 */
	cr_assert_eq(decimal_to_minor(v, 2, true, &out), DECIMAL_OK);
	cr_expect_eq(out, -114);
	v = (decimal_t){15, 0}; /* 15 -> 1500 cents, 15 yen */
	cr_assert_eq(decimal_to_minor(v, 2, false, &out), DECIMAL_OK);
	cr_expect_eq(out, 1500);
	cr_assert_eq(decimal_to_minor(v, 0, false, &out), DECIMAL_OK);
	cr_expect_eq(out, 15);
	/* |amount| < 10^15 cents */
	v = (decimal_t){(__int128)10000000000000, 0};
	cr_expect_eq(decimal_to_minor(v, 2, false, &out), DECIMAL_BOUND);
	v.num -= 1;
	cr_expect_eq(decimal_to_minor(v, 2, false, &out), DECIMAL_OK);
	cr_expect_eq(out, 999999999999900);
	/* a product of 30-digit constants overflows, never wraps */
	decimal_t big = {(__int128)1000000000000000000 * 1000000000000000000, 0}, r;
	cr_expect_not(decimal_mul(big, big, &r));
	cr_expect_eq(decimal_cmp((decimal_t){1, 0}, (decimal_t){big.num, 36}), 0, "1 = 10^36 / 10^36");
	cr_expect_lt(decimal_cmp((decimal_t){-5, 1}, (decimal_t){1, 36}), 0);
}

Test(expr, conditions)
{
	row_vals rv = {{"deal_stage", "amount", "close_date", "description", "Close Value"},
	               {"Lost", "0.00", "2017-03-01", "ACME PAYROLL MARCH", "1,054"}};
	cr_expect_not(test_with("deal_stage != Lost", &rv));
	cr_expect(test_with("deal_stage = lost", &rv), "text compares ignore case");
	cr_expect(test_with("deal_stage != Closed Won", &rv));
	cr_expect_not(test_with("amount != 0", &rv), "0.00 is the number 0");
	cr_expect(test_with("close_date >= 2017-01-01 and close_date < 2017-04-01", &rv));
	cr_expect(test_with("description ~ SALARY|PAYROLL", &rv));
	cr_expect(test_with("description ~ 'payroll'", &rv), "patterns ignore case");
	cr_expect(test_with("not (deal_stage = Won or amount > 10)", &rv));
	cr_expect(test_with("(amount - 1) < 0", &rv), "a parenthesised arithmetic left side");
	cr_expect(test_with("description !~ ^SALARY", &rv));
	cr_expect(test_with("deal_stage = [deal_stage]", &rv));
	cr_expect(test_with("deal_stage = 'Lost'", &rv));
}

Test(expr, bad_expressions_say_where)
{
	expect_parse_error("Sales -", EXPR_VALUE, "at the end");
	expect_parse_error("Sales * Profit", EXPR_VALUE, "multiplication needs a constant");
	expect_parse_error("Sales / 2", EXPR_VALUE, "division is not supported");
	expect_parse_error("sum(Sales)", EXPR_VALUE, "unknown function 'sum'");
	expect_parse_error("coalesce(a b)", EXPR_VALUE, "expected ',' or ')'");
	expect_parse_error("[Order Date", EXPR_VALUE, "unclosed column name");
	expect_parse_error("'abc", EXPR_VALUE, "unclosed quote");
	expect_parse_error("Sales Profit", EXPR_VALUE, "expected an operator");
	expect_parse_error("1.2.3", EXPR_VALUE, "at");
	expect_parse_error("deal_stage", EXPR_COND, "expected a comparison");
	expect_parse_error("deal_stage !=", EXPR_COND, "expected a value");
	expect_parse_error("memo ~ (a", EXPR_COND, "bad pattern");
	/* glibc's regcomp would need memory exponential in these */
	expect_parse_error("memo ~ ve++++++++++++++++++++++++", EXPR_COND, "a repetition of a repetition");
	expect_parse_error("memo ~ ((((((((((a+)+)+)+)+)+)+)+)+)+)", EXPR_COND, "nested more than 8 deep");
	expect_parse_error("memo ~ (a{100}){100}", EXPR_COND, "multiplying past 1000");
	expect_parse_error("a = 1 and", EXPR_COND, "at the end");
	char deep[300];
	memset(deep, '(', 200);
	strcpy(deep + 200, "1");
	expect_parse_error(deep, EXPR_VALUE, "nested too deeply");
}

/* ---- through the importer ---- */

static store_fx fx;
static import_result res;
static char err[640];

static void setup(void)
{
	store_fx_open(&fx, "acme");
}

static void teardown(void)
{
	store_fx_close(&fx);
}

TestSuite(recode, .init = setup, .fini = teardown);

typedef struct {
	const char *k[12], *v[12];
} params;

static const char *param(void *ud, const char *name)
{
	params *p = ud;
	for (int i = 0; i < 12 && p->k[i]; i++)
		if (!strcmp(p->k[i], name))
			return p->v[i];
	return NULL;
}

/* Parses the options as the CLI and HTTP do, then imports csv. 0, -1 for
 * a failed import, -2 for options refused (err says why). */
static int import_with(entity_kind k, params p, const char *csv)
{
	import_opts o = fx_opts(&fx, k);
	err[0] = '\0';
	memset(&res, 0, sizeof res);
	int rc;
	if (!import_options_parse(&o, param, &p, err, sizeof err))
		rc = -2;
	else
		rc = fx_import(&fx, &o, csv, strlen(csv), &res, err, sizeof err);
	import_opts_free(&o);
	return rc;
}

static void expect_counts(int64_t ins, int64_t rej, int64_t skip)
{
	cr_expect_eq(res.inserted, ins, "inserted %lld, want %lld", (long long)res.inserted, (long long)ins);
	cr_expect_eq(res.rejected, rej, "rejected %lld, want %lld (%s)", (long long)res.rejected, (long long)rej,
	             res.nkept ? res.kept[0].reason : "");
	cr_expect_eq(res.skipped, skip, "skipped %lld, want %lld", (long long)res.skipped, (long long)skip);
}

static void expect_rows(const char *sql, const char *want)
{
	char *got = db_text(&fx, sql);
	cr_expect_str_eq(got, want, "%s:\ngot:\n%swant:\n%s", sql, got, want);
	free(got);
}

static int64_t sum_of(const char *table, const char *col)
{
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT coalesce(sum(%s), 0) FROM %s WHERE org = %lld", col, table, (long long)fx.org);
	return db_i64(&fx, sql);
}

static const char *const crm =
	"opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
	"1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,2016-10-20,2017-03-01,1054\n"
	"Z063OYW0,Darcel Schlecht,GTXPro,Isdom,Won,2016-10-25,2017-03-11,4514\n"
	"EC4QE1BX,Darcel Schlecht,MG Special,Cancity,Lost,2016-10-25,2017-03-07,0\n"
	"MV1LWRNH,Moses Frase,GTX Basic,Codehow,Engaging,2016-10-25,,\n"
	"PE84CX4O,Zane Levy,GTX Basic,Hatfan,Prospecting,,2017-01-02,\n"
	"ZNBS69V1,Anna Snelling,MG Special,Ron-tech,closed  WON,2016-10-29,2017-03-18,51.50\n";

#define CRM_MAP "id=opportunity_id,creator=sales_agent,name=account,status=deal_stage,value=close_value"

Test(recode, values_recode_case_and_space_insensitively)
{
	cr_assert_eq(import_with(ENT_LEADS,
	                         (params){{"map", "values", "where", "compute"},
	                                  {CRM_MAP, "status=Prospecting:new,Engaging:contacted,\"Closed Won\":won",
	                                   "deal_stage != Lost", "created_at=coalesce(engage_date, close_date)"}},
	                         crm),
	             0, "%s", err);
	expect_counts(5, 0, 1);
	expect_rows("SELECT id, status, created_at, value FROM leads ORDER BY id",
	            "1C1I7A6R|won|2016-10-20|105400\n"
	            "MV1LWRNH|contacted|2016-10-25|NULL\n"
	            "PE84CX4O|new|2017-01-02|NULL\n"
	            "Z063OYW0|won|2016-10-25|451400\n"
	            "ZNBS69V1|won|2016-10-29|5150\n");
	cr_expect_eq(sum_of("leads", "value"), 105400 + 451400 + 5150);
}

Test(recode, unknown_values_are_still_rejected_with_the_list_and_the_option)
{
	cr_assert_eq(import_with(ENT_LEADS,
	                         (params){{"map", "values", "compute"},
	                                  {CRM_MAP, "status=Prospecting:new", "created_at=coalesce(engage_date, close_date)"}},
	                         crm),
	             0, "%s", err);
	expect_counts(4, 2, 0);
	cr_assert_eq(res.nkept, 2);
	cr_expect_eq(res.kept[0].line, 5);
	cr_expect(strstr(res.kept[0].reason, "unknown status 'Engaging': expected one of new, contacted, qualified"),
	          "%s", res.kept[0].reason);
	cr_expect(strstr(res.kept[0].reason, "--values status=Engaging:VALUE"), "%s", res.kept[0].reason);
}

Test(recode, values_options_are_checked_before_any_row)
{
	cr_expect_eq(import_with(ENT_LEADS, (params){{"map", "values"}, {CRM_MAP, "status=Won:victory"}}, crm), -2);
	cr_expect(strstr(err, "'victory' is not a status (new, contacted"), "%s", err);
	cr_expect_eq(import_with(ENT_LEADS, (params){{"values"}, {"stage=Won:won"}}, crm), -2);
	cr_expect(strstr(err, "'stage' is not a field of leads"), "%s", err);
	cr_expect_eq(import_with(ENT_LEADS, (params){{"values"}, {"Won:won"}}, crm), -2);
	cr_expect(strstr(err, "not FIELD=FROM:TO"), "%s", err);
	cr_expect_eq(import_with(ENT_LEADS, (params){{"values"}, {"status=Won:won,won :lost"}}, crm), -2);
	cr_expect(strstr(err, "recoded twice"), "%s", err);
}

static const char *const superstore =
	"Row ID,Order ID,Order Date,Customer Name,Category,Sales,Quantity,Discount,Profit\n"
	"1,CA-2016-152156,11/8/2016,Claire Gute,Furniture,261.96,2,0,41.9136\n"
	"2,CA-2016-152156,11/8/2016,Claire Gute,Furniture,731.94,3,0,219.582\n"
	"3,CA-2016-138688,6/12/2016,Darrin Van Huff,Office Supplies,14.62,2,0,6.8714\n"
	"4,US-2015-108966,10/11/2015,Sean O'Donnell,Furniture,957.5775,5,0.45,-383.031\n"
	"5,US-2015-108966,10/11/2015,Sean O'Donnell,Office Supplies,22.368,2,0.2,2.5164\n";

Test(recode, computed_cost_of_goods_is_exact)
{
	/* cost = Sales - Profit, exact to the 4th decimal, then one rounding */
	params p = {{"map", "compute", "date_format", "round"},
	            {"id=Row ID,date=Order Date,description=Order ID,vendor=Customer Name", "amount=Sales - Profit",
	             "%m/%d/%Y", "1"}};
	cr_assert_eq(import_with(ENT_COSTS, p, superstore), 0, "%s", err);
	expect_counts(5, 0, 0);
	/* 220.0464 -> 220.05; 512.358; 7.7486; 1340.6085; 19.8516 */
	expect_rows("SELECT id, category, amount FROM costs ORDER BY CAST(id AS INTEGER)",
	            "1|Furniture|22005\n2|Furniture|51236\n3|Office Supplies|775\n4|Furniture|134061\n"
	            "5|Office Supplies|1985\n");
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM costs WHERE date = %d", (int)date_from_ymd(2016, 11, 8));
	cr_expect_eq(db_i64(&fx, sql), 2, "11/8/2016 read with the date format");
	cr_expect_eq(sum_of("costs", "amount"), 22005 + 51236 + 775 + 134061 + 1985);
}

Test(recode, a_computed_amount_finer_than_a_cent_is_rejected_without_round)
{
	params p = {{"map", "compute", "date_format"}, {"id=Row ID,date=Order Date", "amount=Sales - Profit", "%m/%d/%Y"}};
	cr_assert_eq(import_with(ENT_COSTS, p, superstore), 0, "%s", err);
	expect_counts(0, 5, 0);
	cr_expect(strstr(res.kept[0].reason, "compute amount: 220.0464 has more than 2 decimal places"), "%s",
	          res.kept[0].reason);
	cr_expect(strstr(res.kept[0].reason, "try --round"), "%s", res.kept[0].reason);
}

Test(recode, multiplication_by_a_constant_and_where_on_a_computed_amount)
{
	const char *csv = "ref,date,net,vat_rate\n"
	                  "A,2024-01-05,100.00,x\n"
	                  "B,2024-01-06,0.00,x\n"
	                  "C,2024-01-07,19.99,x\n"
	                  "D,2024-01-08,-5.00,x\n";
	params p = {{"map", "compute", "where", "set"},
	            {"id=ref", "amount=net * 1.2", "amount != 0", "category=Supplies"}};
	cr_assert_eq(import_with(ENT_COSTS, p, csv), 0, "%s", err);
	/* 19.99 * 1.2 = 23.988: with --round only */
	expect_counts(2, 1, 1);
	cr_expect(strstr(res.kept[0].reason, "compute amount: 23.988 has more than 2 decimal places"), "%s",
	          res.kept[0].reason);
	expect_rows("SELECT id, amount FROM costs ORDER BY id", "A|12000\nD|-600\n");
	p.k[4] = "round";
	p.v[4] = "yes";
	cr_assert_eq(import_with(ENT_COSTS, p, csv), 0, "%s", err);
	expect_rows("SELECT id, amount FROM costs ORDER BY id", "A|12000\nC|2399\nD|-600\n");
	cr_expect_eq(sum_of("costs", "amount"), 13799);
}

Test(recode, compute_errors_come_before_any_row)
{
	params p = {{"map", "compute"}, {"id=Row ID,date=Order Date", "amount=Sales - Proft"}};
	cr_expect_eq(import_with(ENT_COSTS, p, superstore), -1);
	cr_expect(strstr(err, "compute amount: unknown column 'Proft' (the header has: Row ID, Order ID"), "%s", err);
	cr_expect_eq(res.inserted + res.rejected, 0);
	p.v[1] = "amount=Sales - Order Date";
	cr_expect_eq(import_with(ENT_COSTS, p, superstore), -2, "two names side by side: %s", err);
	p.v[1] = "amount=Sales - Row-ID";
	cr_expect_eq(import_with(ENT_COSTS, p, superstore), -1);
	cr_expect(strstr(err, "unknown column 'Row'") && strstr(err, "did you mean [Row ID]?"), "%s", err);
	p.v[1] = "amount=Sales -";
	cr_expect_eq(import_with(ENT_COSTS, p, superstore), -2);
	cr_expect(strstr(err, "compute amount: at the end"), "%s", err);
	p.v[1] = "amount=Sales * Profit";
	cr_expect_eq(import_with(ENT_COSTS, p, superstore), -2);
	cr_expect(strstr(err, "multiplication needs a constant"), "%s", err);
	p.v[1] = "total=Sales";
	cr_expect_eq(import_with(ENT_COSTS, p, superstore), -2);
	cr_expect(strstr(err, "'total' is not a field of costs"), "%s", err);
	/* a computed field is not also mapped */
	params q = {{"map", "compute"}, {"amount=Sales,date=Order Date", "amount=Sales - Profit"}};
	cr_expect_eq(import_with(ENT_COSTS, q, superstore), -2);
	cr_expect(strstr(err, "compute amount=... and map amount=..."), "%s", err);
}

Test(recode, where_filters_by_column_and_skipped_rows_are_not_rejections)
{
	params p = {{"map", "where", "compute", "values"},
	            {CRM_MAP, "deal_stage != Lost and deal_stage != Prospecting", "created_at=coalesce(engage_date, close_date)",
	             "status=Engaging:contacted,closed won:won"}};
	cr_assert_eq(import_with(ENT_LEADS, p, crm), 0, "%s", err);
	expect_counts(4, 0, 2);
	p.v[1] = "close_date >= 2017-03-01 and close_date < 2017-03-15";
	cr_assert_eq(import_with(ENT_LEADS, p, crm), 0, "%s", err);
	cr_expect_eq(res.replaced, 2, "Won rows of 1 and 11 March");
	cr_expect_eq(res.inserted, 1, "the Lost row of 7 March is in: its status 'Lost' is valid");
	cr_expect_eq(res.skipped, 3);
	cr_expect_eq(res.rejected, 0);
	p.v[1] = "deal_stag != Lost";
	cr_expect_eq(import_with(ENT_LEADS, p, crm), -1);
	cr_expect(strstr(err, "where: unknown column 'deal_stag' (the header has: opportunity_id"), "%s", err);
	p.v[1] = "deal_stage Lost";
	cr_expect_eq(import_with(ENT_LEADS, p, crm), -2);
	cr_expect(strstr(err, "where: at 'Lost': expected a comparison"), "%s", err);
}

Test(recode, a_skipped_row_is_never_a_rejection)
{
	/* Row 3's amount is not a number, but --where leaves it out first. */
	const char *csv = "ref,date,kind,net\n"
	                  "A,2024-01-05,sale,10.00\n"
	                  "B,2024-01-06,void,n/a\n"
	                  "C,2024-01-07,sale,2.50\n";
	params p = {{"map", "compute", "where", "set"}, {"id=ref", "amount=net - 0", "kind = sale", "category=Sales"}};
	cr_assert_eq(import_with(ENT_COSTS, p, csv), 0, "%s", err);
	expect_counts(2, 0, 1);
	cr_expect_eq(sum_of("costs", "amount"), 1250);
}

static const char *const bank =
	"Date,Description,Amount\n"
	"2024-03-01,ACME LTD SALARY MARCH,-3200.00\n"
	"2024-03-02,TESCO STORES 2931,-54.20\n"
	"2024-03-03,PAYROLL TAX HMRC,-640.00\n"
	"2024-03-04,SHELL 0831 FUEL,-61.05\n"
	"2024-03-05,AMAZON MKTPLACE,-19.99\n";

#define BANK_RULES "if Description ~ SALARY|PAYROLL then category=Payroll\n" \
	"# groceries and fuel\n" \
	"if Description ~ TESCO then category=Groceries, vendor=Tesco\n" \
	"if Description ~ SHELL|BP then category = Fuel\n"

Test(recode, rules_set_fields_from_patterns)
{
	params p = {{"map", "rules", "default"}, {"date=Date,description=Description,amount=Amount", BANK_RULES,
	                                          "category=Uncategorised"}};
	cr_assert_eq(import_with(ENT_COSTS, p, bank), 0, "%s", err);
	expect_counts(5, 0, 0);
	expect_rows("SELECT category, vendor, amount FROM costs ORDER BY date",
	            "Payroll||-320000\nGroceries|Tesco|-5420\nPayroll||-64000\nFuel||-6105\nUncategorised||-1999\n");
	expect_rows("SELECT category, sum(amount) FROM costs GROUP BY category ORDER BY category",
	            "Fuel|-6105\nGroceries|-5420\nPayroll|-384000\nUncategorised|-1999\n");
}

Test(recode, two_matching_rules_that_disagree_reject_the_row)
{
	params p = {{"map", "rules", "default"},
	            {"date=Date,description=Description,amount=Amount",
	             "if Description ~ PAYROLL then category=Payroll; if Description ~ TAX then category=Taxes;"
	             "if Amount < -1000 then category=Payroll",
	             "category=Uncategorised"}};
	cr_assert_eq(import_with(ENT_COSTS, p, bank), 0, "%s", err);
	expect_counts(4, 1, 0);
	cr_expect_eq(res.kept[0].line, 4);
	cr_expect(strstr(res.kept[0].reason, "rules 1 (if Description ~ PAYROLL) and 2 (if Description ~ TAX) both "
	                                     "match and set category to 'Payroll' and 'Taxes'"),
	          "%s", res.kept[0].reason);
	/* rules 1 and 3 both match the salary line but agree: fine */
	cr_expect_eq(sum_of("costs", "amount"), -320000 - 5420 - 6105 - 1999);
}

Test(recode, rules_errors_come_before_any_row)
{
	params p = {{"map", "rules", "default"}, {"date=Date,description=Description,amount=Amount", "", "category=x"}};
	p.v[1] = "if Description ~ TESCO then category=Groceries\nif description ~ tesco then category=Food";
	cr_expect_eq(import_with(ENT_COSTS, p, bank), -2);
	cr_expect(strstr(err, "rules 1 and 2 are ambiguous"), "%s", err);
	p.v[1] = "Description ~ TESCO then category=Groceries";
	cr_expect_eq(import_with(ENT_COSTS, p, bank), -2);
	cr_expect(strstr(err, "rule 1: expected 'if CONDITION then FIELD=VALUE'"), "%s", err);
	p.v[1] = "if Description ~ TESCO category=Groceries";
	cr_expect_eq(import_with(ENT_COSTS, p, bank), -2);
	cr_expect(strstr(err, "rule 1:"), "%s", err);
	p.v[1] = "if Description ~ TESCO then colour=Groceries";
	cr_expect_eq(import_with(ENT_COSTS, p, bank), -2);
	cr_expect(strstr(err, "'colour' is not a field of costs"), "%s", err);
	p.v[1] = "if Memo ~ TESCO then category=Groceries";
	cr_expect_eq(import_with(ENT_COSTS, p, bank), -1);
	cr_expect(strstr(err, "rule 1: unknown column 'Memo' (the header has: Date, Description, Amount"), "%s", err);
	p.v[1] = "if Description ~ TESCO( then category=Groceries";
	cr_expect_eq(import_with(ENT_COSTS, p, bank), -2);
	cr_expect(strstr(err, "rule 1:"), "%s", err);
}

Test(recode, options_change_the_import_fingerprint_only_when_given)
{
	import_opts a = fx_opts(&fx, ENT_COSTS), b = fx_opts(&fx, ENT_COSTS);
	uint64_t h0 = import_options_hash(&a);
	b.where = "amount != 0";
	cr_expect_neq(import_options_hash(&b), h0);
	b.where = NULL;
	cr_expect_eq(import_options_hash(&b), h0);
}
