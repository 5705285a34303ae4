/* Currencies: the ISO 4217 table, amounts in a currency's minor units, the
 * organisation settings, and the currency of imported payments and
 * invoices (issue 20 item 13, issue 21 item 3). */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/currency.h"
#include "core/money.h"
#include "helpers.h"
#include "ingest/import.h"
#include "match/explain.h"
#include "match/matcher.h"
#include "store/settings.h"

/* ---- the table ---- */

Test(currency, iso_4217_minor_units)
{
	cr_expect_eq(currency_minor("USD", 3), 2);
	cr_expect_eq(currency_minor("eur", 3), 2);
	cr_expect_eq(currency_minor("JPY", 3), 0);
	cr_expect_eq(currency_minor("KRW", 3), 0);
	cr_expect_eq(currency_minor("BHD", 3), 3);
	cr_expect_eq(currency_minor("KWD", 3), 3);
	cr_expect_eq(currency_minor("TND", 3), 3);
	cr_expect_eq(currency_minor("CLF", 3), 4);
	cr_expect_eq(currency_minor("XYZ", 3), -1);
	cr_expect_eq(currency_minor("XAU", 3), -1); /* gold is no business currency */
	cr_expect_eq(currency_minor("US", 2), -1);
	cr_expect_eq(currency_minor("USDX", 4), -1);
	cr_expect_eq(currency_minor("U$D", 3), -1);
	char c[4];
	cr_expect(currency_canon("gbp", 3, c) && !strcmp(c, "GBP"));
	cr_expect(!currency_canon("", 0, c));
}

/* ---- money in minor units ---- */

static int64_t parse_minor(const char *s, const money_opts *o, int minor, money_status want, const char *code)
{
	int64_t v = -424242;
	char got[4] = "?";
	money_status st = money_parse_minor(s, strlen(s), o, minor, &v, got);
	cr_expect_eq(st, want, "'%s' minor %d: status %d, want %d", s, minor, st, want);
	if (code)
		cr_expect_str_eq(got, code, "'%s': code '%s', want '%s'", s, got, code);
	return v;
}

Test(currency, parse_respects_minor_units)
{
	cr_expect_eq(parse_minor("1500", NULL, 0, MONEY_OK, ""), 1500);
	parse_minor("1500.5", NULL, 0, MONEY_PRECISION, NULL);
	parse_minor("1500.", NULL, 0, MONEY_SYNTAX, NULL);
	cr_expect_eq(parse_minor("1.234", NULL, 3, MONEY_OK, ""), 1234);
	cr_expect_eq(parse_minor("-1.2", NULL, 3, MONEY_OK, ""), -1200);
	parse_minor("1.2345", NULL, 3, MONEY_PRECISION, NULL);
	cr_expect_eq(parse_minor("12.5", NULL, 2, MONEY_OK, ""), 1250);
	cr_expect_eq(parse_minor("9223372036854775807", NULL, 0, MONEY_OK, ""), INT64_MAX);
	parse_minor("9223372036854775808", NULL, 0, MONEY_OVERFLOW, NULL);
	parse_minor("9223372036854775.807", NULL, 3, MONEY_OK, NULL);
	parse_minor("9223372036854775.808", NULL, 3, MONEY_OVERFLOW, NULL);
	parse_minor("922337203685477.5808", NULL, 4, MONEY_OVERFLOW, NULL);
	money_opts r = {.round = true};
	cr_expect_eq(parse_minor("1500.5", &r, 0, MONEY_OK, ""), 1500); /* half to even */
	cr_expect_eq(parse_minor("1501.5", &r, 0, MONEY_OK, ""), 1502);
	cr_expect_eq(parse_minor("1.2345", &r, 3, MONEY_OK, ""), 1234);
	parse_minor("1", NULL, 5, MONEY_SYNTAX, NULL);
}

Test(currency, parse_keeps_the_code_written_in_the_value)
{
	money_opts o = {.symbols = true, .thousands = ','};
	cr_expect_eq(parse_minor("EUR 95.00", &o, 2, MONEY_OK, "EUR"), 9500);
	cr_expect_eq(parse_minor("95.00 eur", &o, 2, MONEY_OK, "EUR"), 9500);
	cr_expect_eq(parse_minor("\xe2\x82\xac" "1,234.50", &o, 2, MONEY_OK, "EUR"), 123450);
	cr_expect_eq(parse_minor("$12.00", &o, 2, MONEY_OK, ""), 1200); /* shared symbol: no guess */
	cr_expect_eq(parse_minor("\xc2\xa3" "3.00", &o, 2, MONEY_OK, ""), 300);
	cr_expect_eq(parse_minor("RM 5.00", &o, 2, MONEY_OK, "MYR"), 500);
	cr_expect_eq(parse_minor("KWD 1.250", &o, 3, MONEY_OK, "KWD"), 1250);
	cr_expect_eq(parse_minor("CHF 7", &o, 2, MONEY_OK, "CHF"), 700);
	/* the code comes back with a precision error, to retry in its units */
	parse_minor("KWD 1.255", &o, 2, MONEY_PRECISION, "KWD");
	/* zeros past the places are exact, but for three places (a thousands
	 * group?): 1.2500 is 1.25, 1.250 stays a precision error */
	cr_expect_eq(parse_minor("KWD 1.2500", &o, 2, MONEY_OK, "KWD"), 125);
	parse_minor("KWD 1.250", &o, 2, MONEY_PRECISION, "KWD");
	parse_minor("EURO 5", &o, 2, MONEY_SYNTAX, NULL);
	parse_minor("EUR 5 USD", &o, 2, MONEY_SYNTAX, NULL);
}

Test(currency, format_minor_units)
{
	char b[MONEY_BUFSZ];
	money_format_minor(1500, 0, b);
	cr_expect_str_eq(b, "1500");
	money_format_minor(-1234, 3, b);
	cr_expect_str_eq(b, "-1.234");
	money_format_minor(5, 3, b);
	cr_expect_str_eq(b, "0.005");
	money_format_minor(INT64_MIN, 0, b);
	cr_expect_str_eq(b, "-9223372036854775808");
	money_format_minor(INT64_MIN, 4, b);
	cr_expect_str_eq(b, "-922337203685477.5808");
	money_format_minor(123, 2, b);
	cr_expect_str_eq(b, "1.23");
	for (int m = 0; m <= MONEY_MAX_MINOR; m++) {
		int64_t vals[] = {0, 1, -1, 999, 100000, INT64_MAX, INT64_MIN};
		for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
			int64_t back;
			size_t n = money_format_minor(vals[i], m, b);
			cr_expect_eq(money_parse_minor(b, n, NULL, m, &back, NULL), MONEY_OK, "%s", b);
			cr_expect_eq(back, vals[i], "round trip of %s at minor %d", b, m);
		}
	}
}

/* ---- organisation settings ---- */

static store_fx fx;
static import_result res;
static char err[512];

static void setup(void)
{
	store_fx_open(&fx, "acme");
}

static void teardown(void)
{
	store_fx_close(&fx);
}

static settings_status set(const char *cur, const int64_t *bal, bool force)
{
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	err[0] = '\0';
	settings_status st = settings_update(w, fx.org, cur, bal, force, err, sizeof err);
	if (st == SETTINGS_OK)
		cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);
	else
		store_write_rollback(w);
	return st;
}

static org_settings get(void)
{
	org_settings o;
	store_conn_t *r = store_read_begin(fx.store);
	cr_assert(settings_get(r, fx.org, &o));
	store_read_end(r);
	return o;
}

static int import_kind(entity_kind k, const char *csv, bool symbols)
{
	import_opts o = fx_opts(&fx, k);
	if (symbols) {
		o.parse.money_lenient = true;
		o.parse.money.symbols = true;
	}
	return fx_import(&fx, &o, csv, strlen(csv), &res, err, sizeof err);
}

static void expect_rejection(int i, uint64_t line, const char *part)
{
	cr_assert_lt(i, res.nkept, "only %d rejections kept", res.nkept);
	cr_expect_eq(res.kept[i].line, line, "rejection %d on line %llu: %s", i, (unsigned long long)res.kept[i].line,
	             res.kept[i].reason);
	cr_expect(strstr(res.kept[i].reason, part), "rejection \"%s\" lacks \"%s\"", res.kept[i].reason, part);
}

TestSuite(settings, .init = setup, .fini = teardown);

Test(settings, defaults_then_set_and_touch_the_settings_version)
{
	org_settings o = get();
	cr_expect_str_eq(o.currency, "USD");
	cr_expect_eq(o.minor, 2);
	cr_expect_eq(o.opening_balance, 0);
	uint64_t v0 = store_version(fx.store, fx.org, TBL_SETTINGS);
	int64_t bal = 1500;
	cr_assert_eq(set("jpy", &bal, false), SETTINGS_OK, "%s", err);
	o = get();
	cr_expect_str_eq(o.currency, "JPY");
	cr_expect_eq(o.minor, 0);
	cr_expect_eq(o.opening_balance, 1500);
	cr_expect_gt(store_version(fx.store, fx.org, TBL_SETTINGS), v0, "caches keyed on settings must miss");
	cr_expect_eq(set("XYZ", NULL, false), SETTINGS_INVALID);
	cr_expect(strstr(err, "ISO 4217"), "%s", err);
}

Test(settings, currency_change_refused_once_rows_exist_unless_forced)
{
	cr_assert_eq(import_kind(ENT_COSTS, "date,category,amount\n2024-01-02,rent,10.00\n", false), 0, "%s", err);
	cr_expect_eq(set("EUR", NULL, false), SETTINGS_CONFLICT);
	cr_expect(strstr(err, "1 rows") && strstr(err, "force"), "%s", err);
	cr_expect_str_eq(get().currency, "USD");
	/* the opening balance alone can change */
	int64_t bal = -250;
	cr_expect_eq(set(NULL, &bal, false), SETTINGS_OK, "%s", err);
	cr_expect_eq(set("EUR", NULL, true), SETTINGS_OK, "%s", err);
	cr_expect_str_eq(get().currency, "EUR");
	cr_expect_eq(get().opening_balance, -250);
}

Test(settings, opening_balance_alone_blocks_a_silent_currency_change)
{
	int64_t bal = 100;
	cr_assert_eq(set(NULL, &bal, false), SETTINGS_OK, "%s", err);
	cr_expect_eq(set("KWD", NULL, false), SETTINGS_CONFLICT);
	cr_expect_eq(set("KWD", &bal, false), SETTINGS_OK, "%s", err); /* given anew, in KWD */
}

Test(settings, forced_change_refused_onto_a_currency_rows_are_stored_in)
{
	/* one row in the org's own currency: the org does not take EUR (a
	 * first file all in EUR would make it the org's) */
	cr_assert_eq(import_kind(ENT_PAYMENTS, "date,payer,amount,currency\n2024-01-02,A,10.00,EUR\n2024-01-03,B,5.00,\n",
	                         false),
	             0, "%s", err);
	cr_expect_eq(set("EUR", NULL, true), SETTINGS_CONFLICT);
	cr_expect(strstr(err, "foreign"), "%s", err);
	cr_expect_eq(set("GBP", NULL, true), SETTINGS_OK, "%s", err);
}

/* ---- the currency of imported rows ---- */

static bool warned(const char *part)
{
	for (int i = 0; i < res.nwarnings; i++)
		if (strstr(res.warnings[i], part))
			return true;
	return false;
}

Test(settings, a_first_file_all_in_one_currency_makes_it_the_orgs)
{
	/* CaixaBank's "-84,20EUR": costs would be refused in USD */
	const char *csv = "date,category,amount\n2024-01-05,Power,84.20 EUR\n2024-01-09,Coffee,EUR 3.50\n";
	import_opts o = fx_opts(&fx, ENT_COSTS);
	o.parse.money_lenient = true;
	o.parse.money.symbols = true;
	o.dry_run = true;
	cr_assert_eq(fx_import(&fx, &o, csv, strlen(csv), &res, err, sizeof err), 0, "%s", err);
	cr_expect_eq(res.inserted, 2);
	cr_expect(warned("would become EUR"), "%s", res.nwarnings ? res.warnings[0] : "no warning");
	cr_expect_str_eq(get().currency, "USD", "a dry run changes nothing");
	o.dry_run = false;
	cr_assert_eq(fx_import(&fx, &o, csv, strlen(csv), &res, err, sizeof err), 0, "%s", err);
	cr_expect_eq(res.inserted, 2);
	cr_expect(warned("is now EUR"));
	cr_expect_str_eq(get().currency, "EUR");
	char *t = db_text(&fx, "SELECT sum(amount) FROM costs");
	cr_expect_str_eq(t, "8770\n");
	free(t);
	/* the org holds rows now: a file in GBP is refused row by row, the org stays */
	const char *gbp = "date,category,amount\n2024-02-01,Power,GBP 10.00\n";
	fx_import(&fx, &o, gbp, strlen(gbp), &res, err, sizeof err);
	cr_expect_eq(res.inserted, 0);
	cr_expect_eq(res.rejected, 1);
	cr_expect_str_eq(get().currency, "EUR");
}

Test(settings, a_file_of_two_currencies_leaves_the_org_as_it_is)
{
	const char *csv = "date,payer,amount,currency\n2024-01-02,A,10.00,EUR\n2024-01-03,B,5.00,GBP\n";
	cr_assert_eq(import_kind(ENT_PAYMENTS, csv, false), 0, "%s", err);
	cr_expect_eq(res.inserted, 2);
	cr_expect(!warned("currency"));
	cr_expect_str_eq(get().currency, "USD");
}

Test(settings, payments_carry_their_currency)
{
	const char *csv = "id,date,payer,amount,currency\n"
	                  "p1,2024-01-02,A,100.00,\n"       /* the org's */
	                  "p2,2024-01-02,B,EUR 95.00,\n"    /* code in the value */
	                  "p3,2024-01-03,C,95.00 EUR,eur\n" /* both, agreeing */
	                  "p4,2024-01-03,D,EUR 5.00,USD\n"  /* contradiction */
	                  "p5,2024-01-04,E,1.250,KWD\n"     /* 3 decimals */
	                  "p6,2024-01-04,F,7.00,XXQ\n"      /* not ISO 4217 */
	                  "p7,2024-01-05,G,12.00,usd\n"     /* the org's, spelled out */
	                  "p8,2024-01-05,H,1500.5,JPY\n";   /* JPY has no decimals */
	cr_assert_eq(import_kind(ENT_PAYMENTS, csv, true), 0, "%s", err);
	cr_expect_eq(res.inserted, 5);
	cr_expect_eq(res.rejected, 3);
	expect_rejection(0, 5, "is in EUR but the row's currency is USD");
	expect_rejection(1, 7, "unknown currency 'XXQ'");
	expect_rejection(2, 9, "more than 0 decimal places for JPY");
	char *t = db_text(&fx, "SELECT id, amount, currency FROM payments ORDER BY id");
	cr_expect_str_eq(t, "p1|10000|\np2|9500|EUR\np3|9500|EUR\np5|1250|KWD\np7|1200|\n");
	free(t);
	/* foreign rows roll up apart, per currency; the org's total is its own */
	t = db_text(&fx, "SELECT metric, dim, sum(cnt), sum(total) FROM rollup WHERE metric IN (1, 8) GROUP BY 1, 2");
	cr_expect_str_eq(t, "1||2|11200\n8|EUR|2|19000\n8|KWD|1|1250\n");
	free(t);
	/* re-importing in another currency moves the row between rollups */
	cr_assert_eq(import_kind(ENT_PAYMENTS, "id,date,payer,amount,currency\np2,2024-01-02,B,95.00,\n", true), 0);
	t = db_text(&fx, "SELECT metric, dim, sum(cnt), sum(total) FROM rollup WHERE metric IN (1, 8) GROUP BY 1, 2 "
	                 "HAVING sum(cnt) <> 0");
	cr_expect_str_eq(t, "1||3|20700\n8|EUR|1|9500\n8|KWD|1|1250\n");
	free(t);
}

Test(settings, amounts_follow_the_org_currency_minor_units)
{
	int64_t bal = 0;
	cr_assert_eq(set("JPY", &bal, false), SETTINGS_OK, "%s", err);
	cr_assert_eq(import_kind(ENT_INVOICES,
	                         "id,number,customer,issue_date,due_date,amount,currency\n"
	                         "i1,INV-1,A,2024-01-02,2024-02-01,1500,\n"
	                         "i2,INV-2,A,2024-01-02,2024-02-01,15.50,\n"
	                         "i3,INV-3,A,2024-01-02,2024-02-01,15.50,USD\n",
	                         false),
	             0, "%s", err);
	expect_rejection(0, 3, "more than 0 decimal places for JPY");
	char *t = db_text(&fx, "SELECT id, amount, outstanding, currency FROM invoices ORDER BY id");
	cr_expect_str_eq(t, "i1|1500|1500|\ni3|1550|1550|USD\n");
	free(t);
	/* open receivables count the org's currency only */
	cr_expect_eq(db_i64(&fx, "SELECT sum(total) FROM open_recv"), 1500);
	/* costs have no currency column: a foreign code is refused, never summed */
	cr_assert_eq(import_kind(ENT_COSTS, "date,category,amount\n2024-01-02,rent,EUR 10\n2024-01-02,rent,JPY 10\n",
	                         true),
	             0, "%s", err);
	expect_rejection(0, 2, "organisation's currency");
	cr_expect_eq(db_i64(&fx, "SELECT sum(amount) FROM costs"), 10);
}

/* debit/credit columns are read in the org's minor units too, not cents */
Test(settings, debit_credit_follow_the_org_currency_minor_units)
{
	int64_t bal = 0;
	cr_assert_eq(set("JPY", &bal, false), SETTINGS_OK, "%s", err);
	import_opts o = fx_opts(&fx, ENT_PAYMENTS);
	o.debit = "D";
	o.credit = "C";
	const char *y = "id,date,payer,D,C\np1,2024-01-02,A,1500,\np2,2024-01-02,A,,2000\n"
	                "p3,2024-01-02,A,15.5,\n";
	cr_assert_eq(fx_import(&fx, &o, y, strlen(y), &res, err, sizeof err), 0, "%s", err);
	expect_rejection(0, 4, "more than 0 decimal places");
	cr_expect_eq(db_i64(&fx, "SELECT amount FROM payments WHERE id = 'p1'"), -1500);
	cr_expect_eq(db_i64(&fx, "SELECT amount FROM payments WHERE id = 'p2'"), 2000);
	/* with --round the difference is rounded once, half-to-even, to yen */
	o.parse.money = (money_opts){.decimal = '.', .round = true};
	o.parse.money_lenient = true;
	const char *r = "id,date,payer,D,C\np4,2024-01-02,A,0.2,16.7\n";
	cr_assert_eq(fx_import(&fx, &o, r, strlen(r), &res, err, sizeof err), 0, "%s", err);
	cr_expect_eq(db_i64(&fx, "SELECT amount FROM payments WHERE id = 'p4'"), 16);
	/* three fraction digits for KWD */
	store_fx_close(&fx);
	store_fx_open(&fx, "kw");
	cr_assert_eq(set("KWD", &bal, false), SETTINGS_OK, "%s", err);
	import_opts k = fx_opts(&fx, ENT_PAYMENTS);
	k.debit = "D";
	k.credit = "C";
	const char *kw = "id,date,payer,D,C\nk1,2024-01-02,A,0.001,1.234\n";
	cr_assert_eq(fx_import(&fx, &k, kw, strlen(kw), &res, err, sizeof err), 0, "%s", err);
	cr_expect_eq(db_i64(&fx, "SELECT amount FROM payments WHERE id = 'k1'"), 1233);
}

/* ---- matching never crosses currencies ---- */

Test(settings, matching_never_crosses_currencies)
{
	cr_assert_eq(import_kind(ENT_INVOICES,
	                         "id,number,customer,issue_date,due_date,amount\n"
	                         "i1,INV-1001,Acme Ltd,2024-01-02,2024-02-01,95.00\n"
	                         "i2,INV-1002,Acme Ltd,2024-01-02,2024-02-01,40.00\n",
	                         false),
	             0, "%s", err);
	cr_assert_eq(import_kind(ENT_INVOICES, "id,number,customer,issue_date,due_date,amount,currency\n"
	                                       "i3,INV-1003,Acme Ltd,2024-01-02,2024-02-01,40.00,EUR\n",
	                         false),
	             0, "%s", err);
	/* same figure, same reference, same payer: only the currency differs */
	cr_assert_eq(import_kind(ENT_PAYMENTS,
	                         "id,date,payer,amount,reference\n"
	                         "p1,2024-01-10,Acme Ltd,EUR 95.00,INV-1001\n"
	                         "p2,2024-01-10,Acme Ltd,EUR 40.00,INV-1003\n",
	                         true),
	             0, "%s", err);
	matcher_opts o;
	matcher_opts_init(&o);
	matcher_result mr;
	cr_assert_eq(matcher_run(fx.store, fx.org, &o, &mr, err, sizeof err), 0, "%s", err);
	char *t = db_text(&fx, "SELECT p.id, i.id, a.state FROM allocations a JOIN payments p ON p.rid = a.payment "
	                       "JOIN invoices i ON i.rid = a.invoice ORDER BY p.id");
	cr_expect_str_eq(t, "p2|i3|applied\n", "only the EUR invoice may take the EUR payment");
	free(t);

	buf_t out = BUF_INIT;
	cr_assert_eq(explain_payment(fx.store, fx.org, "p1", 2, NULL, &out, err, sizeof err), MATCHER_OK, "%s", err);
	cr_expect(strstr(out.p, "\"verdict\":\"unmatched\""), "%s", out.p);
	cr_expect(strstr(out.p, "other currency: the invoice is in USD, the payment in EUR"), "%s", out.p);
	buf_free(&out);

	/* a person cannot cross currencies either */
	cr_expect_eq(matcher_manual(fx.store, fx.org, "p1", 2, "i1", 2, 0, err, sizeof err), MATCHER_CONFLICT);
	cr_expect(strstr(err, "different currencies"), "%s", err);
}
