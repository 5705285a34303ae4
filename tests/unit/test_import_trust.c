/* Issue 20 ("imports never store a wrong number silently") and the import
 * bits of issue 22 item 11: one test per defect, each on a small file that
 * reproduces the shape seen in a real bank or ERP export. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "helpers.h"
#include "ingest/import.h"

static store_fx fx;
static import_result res;
static char err[640];

static void setup(void)
{
	store_fx_open(&fx, "trust");
}

static void teardown(void)
{
	store_fx_close(&fx);
}

TestSuite(trust, .init = setup, .fini = teardown);

static int imp(const import_opts *o, const char *csv)
{
	return fx_import(&fx, o, csv, strlen(csv), &res, err, sizeof err);
}

#define OK(o, csv) cr_assert_eq(imp(o, csv), 0, "import failed: %s", err)
#define FAILS(o, csv, part)                                                                     \
	do {                                                                                        \
		cr_assert_eq(imp(o, csv), -1, "import should fail (%s)", part);                        \
		cr_expect(strstr(err, part) != NULL, "error \"%s\" lacks \"%s\"", err, part);          \
	} while (0)

static int64_t q(const char *sql)
{
	return db_i64(&fx, sql);
}

static bool reason_has(int i, const char *part)
{
	return i < res.nkept && strstr(res.kept[i].reason, part) != NULL;
}

static bool warned(const char *part)
{
	for (int i = 0; i < res.nwarnings; i++)
		if (strstr(res.warnings[i], part))
			return true;
	return false;
}

static import_opts opts(entity_kind k)
{
	return fx_opts(&fx, k);
}

/* 1: a debit column whose values already carry a minus is money out. */
Test(trust, item01_debit_column_with_minus_signs_is_money_out)
{
	import_opts o = opts(ENT_PAYMENTS);
	o.debit = "debet";
	o.credit = "credit";
	o.parse.money = (money_opts){.decimal = ','};
	o.parse.money_lenient = true;
	FAILS(&o, "id;date;payer;debet;credit\np1;2024-03-01;Shop;-16,52;\n", "try --delimiter ;");
	o.delimiter = ';';
	OK(&o, "id;date;payer;debet;credit\np1;2024-03-01;Shop;-16,52;\np2;2024-03-01;Shop;16,52;\n"
	       "p3;2024-03-02;Client;;100,00\n");
	cr_expect_eq(q("SELECT amount FROM payments WHERE id = 'p1'"), -1652);
	cr_expect_eq(q("SELECT amount FROM payments WHERE id = 'p2'"), -1652);
	cr_expect_eq(q("SELECT amount FROM payments WHERE id = 'p3'"), 10000);
}

/* 2: rows without an id keep their ids under another mapping; a file
 * imported again with other options is said. */
Test(trust, item02_derived_ids_survive_a_changed_mapping_and_warn)
{
	const char *f = "Datum,Omschrijving,Bedrag,Tegenrekening\n"
	                "2024-01-05,Coffee,3.00,NL01\n2024-01-05,Coffee,3.00,NL01\n2024-01-06,Rent,900.00,NL02\n";
	import_opts o = opts(ENT_COSTS);
	char why[128];
	cr_assert(import_parse_map(&o, "date=Datum,category=Omschrijving,amount=Bedrag", why, sizeof why));
	OK(&o, f);
	cr_expect_eq(res.inserted, 3);
	cr_expect_eq(res.nwarnings, 0);
	import_opts_free(&o);
	import_opts o2 = opts(ENT_COSTS);
	cr_assert(import_parse_map(&o2, "date=Datum,category=Tegenrekening,amount=Bedrag,description=Omschrijving", why,
	                           sizeof why));
	OK(&o2, f);
	cr_expect_eq(res.inserted, 0);
	cr_expect_eq(res.replaced, 3);
	cr_expect_eq(q("SELECT count(*) FROM costs"), 3, "two equal lines stay two, nothing doubled");
	cr_expect(warned("imported before"), "no warning: %d", res.nwarnings);
	/* the same options again: no warning */
	OK(&o2, f);
	cr_expect_eq(res.nwarnings, 0);
	import_opts_free(&o2);
}

/* A total line with a date (a hand-made expense sheet, a statement's
 * "Summe"): its amount is the sum of the rows above, so storing it would
 * double the month. Rejected with the reason; "Total Energies" paying an
 * amount no sum reaches is a transaction. */
Test(trust, total_lines_are_not_transactions)
{
	import_opts o = opts(ENT_COSTS);
	OK(&o, "date,category,vendor,amount\n2024-01-04,Office,Paper Co,45.99\n2024-01-11,Phone,Telco,38.50\n"
	       "2024-01-19,Fuel,Total Energies,1200.00\n2024-01-31,All,TOTAL,1284.49\n"
	       "2024-02-02,Fuel,Total Energies,60.00\n2024-02-03,Fuel,Total Energies,60.00\n"
	       "2024-02-28,Sum,Summe Februar:,120.00\n");
	cr_expect_eq(res.inserted, 5);
	cr_expect_eq(res.rejected, 2);
	cr_expect(reason_has(0, "a total line, not a transaction: its amount 1284.49 is the sum of the 3 rows above it"),
	          "%s", res.nkept ? res.kept[0].reason : "");
	cr_expect_eq(q("SELECT sum(amount) FROM costs"), 128449 + 12000);
	/* a statement's debit total, unsigned, after signed rows */
	import_opts p = opts(ENT_PAYMENTS);
	OK(&p, "date,payer,amount\n2024-03-01,Client,500.00\n2024-03-02,Shop,-16.52\n2024-03-03,Shop,-3.48\n"
	       "2024-03-31,Saldo Soll,20.00\n");
	cr_expect_eq(res.rejected, 1);
	cr_expect_eq(q("SELECT sum(amount) FROM payments"), 48000);
}

/* A total line under a row rejected for another reason (a bad date) sums
 * that row too: it is still a total line, not a fourth cost. */
/* An opening or closing balance line (Volksbank's Anfangssaldo and
 * Endsaldo, "Saldo anterior", "Opening balance") is the account's state:
 * never stored as a payment, whatever its amount; "Saldo per" words in a
 * real purpose are kept. */
Test(trust, balance_lines_are_not_transactions)
{
	import_opts o = opts(ENT_PAYMENTS);
	o.split = true;
	OK(&o, "date,payer,amount,reference\n2024-01-01,Anfangssaldo,5000.00,Anfangssaldo\n"
	       "2024-01-02,Muster GmbH,1250.00,RE 118\n2024-01-05,Stadtwerke,-84.20,Strom\n"
	       "2024-01-09,Opening balance:,300.00,\n2024-01-10,Kunde,10.00,Saldo Rechnung 7\n"
	       "2024-01-31,Endsaldo,6165.80,Endsaldo\n");
	cr_expect_eq(res.rejected, 3);
	cr_expect(strstr(res.kept[0].reason, "a balance line ('Anfangssaldo')"), "%s", res.kept[0].reason);
	cr_expect_eq(q("SELECT sum(amount) FROM payments"), 126000);
	cr_expect_eq(q("SELECT sum(amount) FROM costs"), 8420);
}

Test(trust, total_line_after_a_rejected_row)
{
	import_opts o = opts(ENT_COSTS);
	OK(&o, "date,category,vendor,amount\n2024-01-04,Office,Paper Co,45.99\n2024-01-11,Phone,Telco,38.50\n"
	       "2024-02-30,Fuel,Garage,1200.00\n2024-01-31,All,TOTAL,1284.49\n");
	cr_expect_eq(res.inserted, 2);
	cr_expect_eq(res.rejected, 2);
	cr_expect(reason_has(0, "bad date"), "%s", res.nkept ? res.kept[0].reason : "");
	cr_expect(reason_has(1, "a total line, not a transaction: its amount 1284.49"), "%s",
	          res.nkept > 1 ? res.kept[1].reason : "");
	cr_expect_eq(q("SELECT sum(amount) FROM costs"), 4599 + 3850);
	/* debit and credit columns with a German decimal comma, the bad row's
	 * payer missing; the total of the debits only */
	import_opts p = opts(ENT_PAYMENTS);
	p.delimiter = ';';
	p.debit = "Soll";
	p.credit = "Haben";
	p.parse.money = (money_opts){.decimal = ',', .thousands = '.'};
	p.parse.money_lenient = true;
	OK(&p, "date;payer;Soll;Haben\n2024-03-01;Client;;1.500,00\n2024-03-02;Shop;16,52;\n2024-03-03;;3,48;\n"
	       "2024-03-31;Summe Soll;20,00;\n");
	cr_expect_eq(res.rejected, 2);
	cr_expect_eq(q("SELECT sum(amount) FROM payments"), 150000 - 1652);
}

/* One account exported in two formats (the bank's CSV-MT940, then its
 * CAMT CSV): other columns, so other derived ids; the months both cover
 * would be stored twice: refused, nothing stored, unless allow_overlap
 * (then said). The same file again, or another account with one equal
 * line, says nothing. */
Test(trust, same_account_in_another_format_is_refused)
{
	import_opts o = opts(ENT_PAYMENTS);
	o.split = true;
	OK(&o, "date,payer,amount,reference\n2024-01-02,Muster GmbH,1250.00,RE 118\n2024-01-05,Stadtwerke,-84.20,Strom\n"
	       "2024-01-09,Cafe,-3.50,Kaffee\n2024-01-09,Cafe,-3.50,Kaffee\n2024-01-15,Acme,380.50,RE 119\n");
	cr_expect_eq(res.nwarnings, 0);
	const char *camt = "Buchungstag,Beguenstigter/Zahlungspflichtiger,Verwendungszweck,Betrag,Info\n"
	                   "2024-01-05,STADTWERKE KOELN,Abschlag Strom Januar,-84.20,Umsatz gebucht\n"
	                   "2024-01-09,CAFE MUELLER,Kaffee,-3.50,Umsatz gebucht\n"
	                   "2024-01-09,CAFE MUELLER,Kaffee,-3.50,Umsatz gebucht\n"
	                   "2024-01-15,ACME LTD,RE 119,380.50,Umsatz gebucht\n"
	                   "2024-02-01,Vermieter,Miete Februar,-900.00,Umsatz gebucht\n";
	import_opts c = opts(ENT_PAYMENTS);
	char why[128];
	cr_assert(import_parse_map(&c, "date=Buchungstag,payer=Beguenstigter/Zahlungspflichtiger,reference=Verwendungszweck,"
	                               "amount=Betrag", why, sizeof why));
	c.split = true;
	int64_t before = q("SELECT count(*) FROM payments") + q("SELECT count(*) FROM costs");
	FAILS(&c, camt, "4 of 4 rows dated within what is stored (of the first 5) twin a row another import stored");
	cr_expect(strstr(err, "line 2: 2024-01-05, -84.20"), "%s", err);
	cr_expect(strstr(err, "Nothing was stored") && strstr(err, "--allow-overlap"), "%s", err);
	cr_expect_eq(q("SELECT count(*) FROM payments") + q("SELECT count(*) FROM costs"), before);
	c.allow_overlap = true;
	OK(&c, camt);
	cr_expect(warned("twin a row another import stored"), "%s", res.nwarnings ? res.warnings[0] : "no warning");
	cr_expect(warned("Stored again (allow_overlap)"), "%s", res.nwarnings ? res.warnings[0] : "");
	cr_expect_eq(res.inserted, 5);
	/* the same file again: its own ids, nothing said */
	OK(&c, camt);
	cr_expect_eq(res.nwarnings, 0, "%s", res.nwarnings ? res.warnings[0] : "");
	cr_expect_eq(res.replaced, 5);
	import_opts_free(&c);
	/* another account: one equal line among others, nothing said */
	OK(&o, "date,payer,amount,reference\n2024-01-05,Stadtwerke,-84.20,Strom Halle\n2024-01-06,Post,-12.00,Porto\n"
	       "2024-01-07,Shop,-19.99,Papier\n2024-01-08,Client,50.00,RE 7\n");
	cr_expect_eq(res.nwarnings, 0, "%s", res.nwarnings ? res.warnings[0] : "");
}

/* 4: card statements (spending positive), indicator columns, a sign apart
 * from a currency symbol. */
Test(trust, item04_sign_conventions)
{
	import_opts o = opts(ENT_COSTS);
	o.negate = true;
	OK(&o, "id,date,category,amount\nc1,2024-01-01,Food,12.50\nc2,2024-01-02,Refund,-3.00\n");
	cr_expect_eq(q("SELECT amount FROM costs WHERE id = 'c1'"), -1250);
	cr_expect_eq(q("SELECT amount FROM costs WHERE id = 'c2'"), 300);
	import_opts s = opts(ENT_PAYMENTS);
	s.sign_column = "Type";
	s.negative_values = "DR, o";
	OK(&s, "id,date,payer,amount,Type\np1,2024-01-01,A,10.00,CR\np2,2024-01-01,B,10.00,DR\n"
	       "p3,2024-01-01,C,5.00,O\np4,2024-01-01,D,5.00,I\np5,2024-01-01,E,-5.00,DR\np6,2024-01-01,F,5.00,\n");
	cr_expect_eq(q("SELECT sum(amount) FROM payments WHERE id IN ('p1','p4')"), 1500);
	cr_expect_eq(q("SELECT sum(amount) FROM payments WHERE id IN ('p2','p3')"), -1500);
	cr_expect_eq(res.rejected, 2);
	cr_expect(reason_has(0, "must be unsigned"), "%s", res.kept[0].reason);
	cr_expect(reason_has(1, "sign column 'Type' is empty"), "%s", res.kept[1].reason);
	import_opts m = opts(ENT_PAYMENTS);
	m.parse.money = (money_opts){.decimal = '.', .thousands = ',', .symbols = true, .plus = true};
	m.parse.money_lenient = true;
	OK(&m, "id,date,payer,amount\nq1,2024-01-01,A,\"+ £1,100.00\"\nq2,2024-01-01,B,\"- $5.00\"\n");
	cr_expect_eq(q("SELECT amount FROM payments WHERE id = 'q1'"), 110000);
	cr_expect_eq(q("SELECT amount FROM payments WHERE id = 'q2'"), -500);
}

/* 5: options checked against the first rows before any write. */
Test(trust, item05_sample_stops_a_swapped_date_format)
{
	import_opts o = opts(ENT_COSTS);
	o.parse.date_format = "%m/%d/%y";
	FAILS(&o, "date,category,amount\n03/02/21,A,1.00\n13/02/21,A,1.00\n25/12/21,A,1.00\n05/01/21,A,1.00\n",
	      "use --date-format %d/%m/%y");
	cr_expect_eq(q("SELECT count(*) FROM costs"), 0);
	/* every date fits both orders: stored as told, with a warning */
	OK(&o, "date,category,amount\n03/02/21,A,1.00\n05/01/21,A,1.00\n");
	cr_expect(warned("check the day/month order"));
}

Test(trust, item05_sample_stops_thousands_that_are_the_decimal_mark)
{
	import_opts o = opts(ENT_COSTS);
	o.parse.money = (money_opts){.decimal = '.', .thousands = ','};
	o.parse.money_lenient = true;
	FAILS(&o, "date,category,amount\n2024-01-01,A,\"3,024\"\n2024-01-01,A,\"261,96\"\n", "use --decimal-comma");
	cr_expect_eq(q("SELECT count(*) FROM costs"), 0);
}

/* 6: contradictory options are refused before any row; --default. */
Test(trust, item06_contradictory_options_refused)
{
	char why[256];
	import_opts o = opts(ENT_COSTS);
	cr_expect_not(import_parse_map(&o, "amount=A,amount=B", why, sizeof why));
	cr_expect(strstr(why, "'amount' is given twice") != NULL, "%s", why);
	import_opts_free(&o);
	o = opts(ENT_COSTS);
	cr_assert(import_parse_map(&o, "category=Cat", why, sizeof why));
	cr_assert(import_parse_consts(&o, "category=Rent", why, sizeof why));
	FAILS(&o, "date,Cat,amount\n2024-01-01,A,1.00\n", "both give 'category'");
	import_opts_free(&o);
	o = opts(ENT_COSTS);
	o.debit = "Amount";
	o.credit = " amount";
	FAILS(&o, "date,category,Amount\n2024-01-01,A,1.00\n", "the same column");
	o = opts(ENT_COSTS);
	o.no_header = true;
	cr_assert(import_parse_map(&o, "date=1,category=2,amount=7", why, sizeof why));
	FAILS(&o, "2024-01-01,A,1.00\n", "amount=7: the rows have 3 columns");
	import_opts_free(&o);
	o = opts(ENT_COSTS);
	o.parse.money = (money_opts){.decimal = ',', .thousands = ','};
	o.parse.money_lenient = true;
	FAILS(&o, "date,category,amount\n", "also the decimal mark");
	cr_expect_eq(q("SELECT count(*) FROM costs"), 0);
}

Test(trust, item06_default_fills_only_empty_values)
{
	char why[256];
	import_opts o = opts(ENT_SALES_ORDERS);
	cr_assert(import_parse_defaults(&o, "status=completed", why, sizeof why));
	OK(&o, "id,date,customer,status,amount\ns1,2024-01-01,A,pending,1.00\ns2,2024-01-01,B,,1.00\n");
	cr_expect_eq(res.inserted, 2);
	cr_expect_eq(q("SELECT count(*) FROM sales_orders WHERE id = 's1' AND status = 'pending'"), 1);
	cr_expect_eq(q("SELECT count(*) FROM sales_orders WHERE id = 's2' AND status = 'completed'"), 1);
	/* a column the file lacks altogether */
	OK(&o, "id,date,customer,amount\ns3,2024-01-01,C,1.00\n");
	cr_expect_eq(q("SELECT count(*) FROM sales_orders WHERE id = 's3' AND status = 'completed'"), 1);
	import_opts_free(&o);
}

/* 7: every missing column at once (the exit code is in the e2e test). */
Test(trust, item07_every_missing_column_listed_at_once)
{
	import_opts o = opts(ENT_INVOICES);
	FAILS(&o, "number,customer,total\nI1,A,1.00\n", "no 'issue_date' column; the header has no 'due_date' column; "
	                                              "the header has no 'amount' column");
}

/* 8: the date format applies to timestamps; times and offsets after dates. */
Test(trust, item08_date_format_for_every_date_and_timestamp)
{
	import_opts o = opts(ENT_LEADS);
	o.parse.date_format = "%m/%d/%Y";
	OK(&o, "id,created_at,creator,status,followup_date\nl1,7/22/2017,ann,new,8/1/2017\n"
	       "l2,7/23/2017 14:05,ann,new,\n");
	cr_expect_eq(res.inserted, 2, "%s", res.nkept ? res.kept[0].reason : "");
	cr_expect_eq(q("SELECT created_date FROM leads WHERE id = 'l1'"), date_from_ymd(2017, 7, 22));
	cr_expect_eq(q("SELECT followup_date FROM leads WHERE id = 'l1'"), date_from_ymd(2017, 8, 1));
	import_opts c = opts(ENT_COSTS);
	OK(&c, "id,date,category,amount\nc1,2018-02-25 12:34:56 +0000,A,1.00\n");
	cr_expect_eq(q("SELECT date FROM costs WHERE id = 'c1'"), date_from_ymd(2018, 2, 25));
	import_opts b = opts(ENT_COSTS);
	b.parse.date_format = "%d/%m/%Q";
	FAILS(&b, "id,date,category,amount\n", "unknown conversion %Q");
}

/* 9: header names in a single-byte encoding are matched as text. */
Test(trust, item09_header_transcoded_before_matching)
{
	char why[128];
	import_opts o = opts(ENT_COSTS);
	o.encoding = ENC_CP1252;
	cr_assert(import_parse_map(&o, "date=Datum,category=Kategorie,amount=Betrag \xc3\xbc" "ber", why, sizeof why));
	OK(&o, "Datum,Kategorie,Betrag \xfc" "ber\n2024-01-01,Caf\xe9,2.00\n");
	cr_expect_eq(res.inserted, 1);
	cr_expect_eq(q("SELECT amount FROM costs"), 200);
	import_opts_free(&o);
}

/* 10: placeholder dates are stored, and said with count and lines. */
Test(trust, item10_placeholder_dates_warned)
{
	import_opts o = opts(ENT_INVOICES);
	OK(&o, "number,customer,issue_date,due_date,amount\nI1,A,2024-01-01,2024-02-01,1.00\n"
	       "I2,A,2024-01-02,9999-12-31,1.00\nI3,A,1111-11-11,2024-02-01,1.00\nI4,A,2024-01-03,2024-02-03,1.00\n");
	cr_expect_eq(res.inserted, 4);
	cr_expect(warned("2 rows have a date that looks like a placeholder ('9999-12-31' on line 3, 4)"), "%s",
	          res.nwarnings ? res.warnings[0] : "none");
}

/* 11: --round with debit/credit computes exactly and rounds once. */
Test(trust, item11_round_with_debit_credit_rounds_once)
{
	import_opts o = opts(ENT_PAYMENTS);
	o.debit = "D";
	o.credit = "C";
	o.parse.money = (money_opts){.decimal = '.', .round = true};
	o.parse.money_lenient = true;
	/* 10.005 - 0.004 = 10.001 -> 10.00 (each rounded first: 10.00 - 0.00 = 10.00;
	 * 0.125 - 0.120 = 0.005 -> 0.00 half-even, not 0.12 - 0.12 = 0.00) and
	 * 2.675 - 0 with 0.005 - 0.004 = 0.001: see the sums */
	OK(&o, "id,date,payer,D,C\np1,2024-01-01,A,0.004,10.005\np2,2024-01-01,A,0.0051,0.0149\n"
	       "p3,2024-01-01,A,,2.675\n");
	cr_expect_eq(q("SELECT amount FROM payments WHERE id = 'p1'"), 1000);
	/* 0.0149 - 0.0051 = 0.0098 -> 0.01; per column it would be 0.01 - 0.01 = 0.00 */
	cr_expect_eq(q("SELECT amount FROM payments WHERE id = 'p2'"), 1);
	cr_expect_eq(q("SELECT amount FROM payments WHERE id = 'p3'"), 268);
}

/* 12: a rejection names the option that would have read the value. */
Test(trust, item12_rejections_name_the_fixing_option)
{
	import_opts o = opts(ENT_COSTS);
	o.parse.date_format = "%d/%m/%Y";
	OK(&o, "date,category,amount\n01/02/2018,A,1.00\n02/02/2018,A,1.00\n11/8/2018x,A,1.00\n"
	       "03/02/2018,A,957.5775\n04/02/2018,A,\"261,96\"\n05/02/2018,A,$5.00\n06/02/2018,A,(5.00)\n"
	       "07/02/2018,A,2018-08-11\n");
	cr_expect(reason_has(0, "expected %d/%m/%Y"), "%s", res.kept[0].reason);
	cr_expect(reason_has(1, "more than 2 decimal places; try --round"), "%s", res.kept[1].reason);
	cr_expect(reason_has(2, "try --decimal-comma"), "%s", res.kept[2].reason);
	cr_expect(reason_has(3, "try --currency"), "%s", res.kept[3].reason);
	cr_expect(reason_has(4, "try --parens"), "%s", res.kept[4].reason);
	import_opts d = opts(ENT_COSTS);
	OK(&d, "date,category,amount\n2018-02-01,A,1.00\n2018-02-02,A,1.00\n11/8/2018,A,1.00\n");
	cr_expect(reason_has(0, "try --date-format %d/%m/%Y"), "%s", res.kept[0].reason);
	/* a header not found: the delimiter or the --skip that finds it */
	FAILS(&d, "date;category;amount\n2018-02-01;A;1.00\n", "try --delimiter ;");
	FAILS(&d, "Bank export\nAccount 123\ndate,category,amount\n2018-02-01,A,1.00\n", "try --skip 2");
}

/* Issue 22 item 11: a column name twice in the header is an error when it
 * is read; unused repeats (blank trailing columns) are harmless. */
Test(trust, duplicated_header_column_is_an_error)
{
	import_opts o = opts(ENT_COSTS);
	FAILS(&o, "date,category,amount,Amount\n2024-01-01,A,1.00,2.00\n", "two columns named 'amount' (columns 3 and 4)");
	OK(&o, "date,category,amount,,\n2024-01-01,A,1.00,,\n");
	cr_expect_eq(res.inserted, 1);
}

/* Issue 14: a file of several chunks into an empty table, in date order
 * (its date index kept and appended to) or not (the index built at the
 * commit): either way every row, the index equal to the table, and the
 * rollups summing the rows. */
static void large_file(bool shuffled)
{
	import_opts o = opts(ENT_COSTS);
	buf_t csv = BUF_INIT;
	buf_puts(&csv, "id,date,category,amount\n");
	enum { N = 12000 };
	for (int i = 0; i < N; i++) {
		char date[16];
		date_format(date_from_ymd(2024, 1, 1) + (shuffled ? (i * 7919) % 700 : i * 700 / N), date);
		buf_printf(&csv, "s%d,%s,Cat%d,%d.%02d\n", i, date, i % 9, i % 500, i % 100);
	}
	cr_assert_eq(fx_import(&fx, &o, csv.p, csv.len, &res, err, sizeof err), 0, "%s", err);
	buf_free(&csv);
	cr_expect_eq(res.inserted, N);
	cr_expect_eq(q("SELECT count(*) FROM costs INDEXED BY costs_date WHERE org > 0 AND date >= 0"), N,
	             "the date index holds every row");
	cr_expect_eq(q("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"), 0);
	cr_expect_eq(q("SELECT sum(cnt) FROM rollup WHERE metric = 2"), N);
	cr_expect_eq(q("SELECT sum(total) FROM rollup WHERE metric = 2"), q("SELECT sum(amount) FROM costs"));
}

Test(trust, a_large_file_in_date_order_is_stored_whole, .timeout = 120)
{
	large_file(false);
}

Test(trust, a_large_file_out_of_date_order_is_stored_whole, .timeout = 120)
{
	large_file(true);
}

/* A credit note in an invoice export (a negative amount: Odoo's RINV,
 * Xero's CN) is stored as written and said: it lowers the invoiced total
 * and is neither a receivable nor open to matching. */
Test(trust, a_negative_invoice_is_stored_as_a_credit_note_and_said)
{
	import_opts o = opts(ENT_INVOICES);
	OK(&o, "number,customer,issue_date,due_date,amount\nINV-1,Acme,2025-01-01,2025-01-31,100.00\n"
	       "RINV-1,Acme,2025-01-05,2025-02-04,-30.00\n");
	cr_expect_eq(res.inserted, 2);
	cr_expect(warned("1 invoices have a negative amount ('RINV-1' on line 3)"), "no warning: %d", res.nwarnings);
	cr_expect_eq(q("SELECT amount FROM invoices WHERE number = 'RINV-1'"), -3000);
	cr_expect_eq(q("SELECT coalesce(sum(total), 0) FROM open_recv"), 10000, "not a receivable");
	OK(&o, "number,customer,issue_date,due_date,amount\nINV-2,Acme,2025-01-01,2025-01-31,100.00\n");
	cr_expect_eq(res.nwarnings, 0);
}
