/* Tests of the import's bulk path (src/ingest/writer.c): files of more
 * than one writer chunk (5000 rows), where the reader sums the rollups and
 * an invoice import sums the open receivables itself with the store's
 * row trigger suspended (store_suspend_trigger). What it stores must equal
 * what the row-by-row path and the triggers store. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "helpers.h"
#include "ingest/entity.h"
#include "ingest/import.h"
#include "ingest/rowloop.h"
#include <xxhash.h>

#define INV_HEAD "id,number,customer,issue_date,due_date,amount,status,currency\n"

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

TestSuite(import_bulk, .init = setup, .fini = teardown);

/* n invoices from id first on: open, void, foreign, zero and
 * negative amounts, due dates spread over a few months; variant changes
 * statuses, amounts and due dates of the same ids. */
static char *invoices(int first, int n, int variant)
{
	static const char *const status[] = {"open", "open", "void", "open", "open"};
	buf_t b = BUF_INIT;
	buf_puts(&b, INV_HEAD);
	for (int i = first; i < first + n; i++) {
		int v = i + variant;
		long amount = (v % 13 == 0) ? 0 : (v % 17 == 0) ? -(long)(v % 900) : (long)(v % 5000) + 1;
		buf_printf(&b, "inv%d,N-%d,Customer %d,2024-%02d-%02d,2024-%02d-%02d,%ld.%02d,%s,%s\n", i, i, i % 50,
		           1 + i % 6, 1 + i % 28, 7 + (v % 5), 1 + v % 28, amount, v % 100, status[v % 5],
		           v % 11 == 0 ? "EUR" : "");
	}
	return buf_steal(&b);
}

static void import_ok(const char *csv, bool allow_dups)
{
	import_opts o = fx_opts(&fx, ENT_INVOICES);
	o.allow_duplicate_ids = allow_dups;
	cr_assert_eq(fx_import(&fx, &o, csv, strlen(csv), &res, err, sizeof err), 0, "import: %s", err);
	cr_assert_eq(res.rejected, 0, "rejected: %s", res.nkept ? res.kept[0].reason : "");
}

/* open_recv as the triggers keep it: the open invoices in the org's
 * currency per due date (rows whose count went to zero are left). */
static void expect_open_recv_consistent(void)
{
	char *diff = db_text(&fx, "WITH want AS (SELECT org, due_date, count(*) AS cnt, sum(outstanding) AS total "
	                          "  FROM invoices WHERE outstanding > 0 AND status <> 'void' AND currency = '' "
	                          "  GROUP BY org, due_date),"
	                          " have AS (SELECT org, due_date, cnt, total FROM open_recv WHERE cnt <> 0 OR total <> 0)"
	                          " SELECT 'missing', * FROM (SELECT * FROM want EXCEPT SELECT * FROM have)"
	                          " UNION ALL SELECT 'extra', * FROM (SELECT * FROM have EXCEPT SELECT * FROM want)"
	                          " LIMIT 20");
	cr_expect_str_eq(diff, "", "open_recv differs from the invoices:\n%s", diff);
	free(diff);
	cr_expect_gt(db_i64(&fx, "SELECT count(*) FROM open_recv WHERE cnt > 0"), 0);
}

static void expect_trigger_kept(void)
{
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'open_recv_ins'"),
	             1, "the open receivables trigger is missing after the import");
}

Test(import_bulk, open_receivables_summed_in_memory_equal_the_triggers)
{
	char *a = invoices(0, 12000, 0);
	import_ok(a, false);
	cr_expect_eq(res.inserted, 12000);
	expect_open_recv_consistent();
	expect_trigger_kept();
	/* replacements of a part with other statuses, amounts and due dates,
	 * and new rows, in one file of more than one chunk */
	char *b = invoices(6000, 9000, 3);
	import_ok(b, false);
	cr_expect_eq(res.inserted, 3000);
	cr_expect_eq(res.replaced, 6000);
	expect_open_recv_consistent();
	expect_trigger_kept();
	/* the same file again stores nothing new and changes no sum */
	char *before = db_text(&fx, "SELECT * FROM open_recv ORDER BY 1, 2");
	import_ok(b, false);
	cr_expect_eq(res.inserted, 0);
	char *after = db_text(&fx, "SELECT * FROM open_recv ORDER BY 1, 2");
	cr_expect_str_eq(after, before);
	/* a row written after the import goes through the trigger again */
	import_ok(INV_HEAD "late,N-late,Late Ltd,2024-03-01,2024-12-01,10.00,open,\n", false);
	expect_open_recv_consistent();
	free(before);
	free(after);
	free(a);
	free(b);
}

Test(import_bulk, repeated_ids_keep_the_last_row)
{
	/* the second half repeats the first half's ids with other values */
	char *a = invoices(0, 6000, 0), *b = invoices(0, 6000, 2);
	buf_t f = BUF_INIT;
	buf_puts(&f, a);
	buf_puts(&f, b + strlen(INV_HEAD));
	char *csv = buf_steal(&f);
	import_ok(csv, true);
	cr_expect_eq(res.inserted, 6000);
	cr_expect_eq(res.replaced, 6000);
	expect_open_recv_consistent();
	expect_trigger_kept();
	free(a);
	free(b);
	free(csv);
}

Test(import_bulk, failed_import_keeps_the_trigger_and_the_sums)
{
	char *a = invoices(0, 6000, 0);
	import_ok(a, false);
	char *before = db_text(&fx, "SELECT * FROM open_recv ORDER BY 1, 2");
	/* a read error past the first chunks: the writer had suspended the
	 * trigger; the rollback brings it back */
	char *b = invoices(3000, 20000, 1);
	mem_reader m = mem_reader_of(b, strlen(b), 4096);
	m.fail_at = (int)(strlen(b) * 3 / 4);
	import_opts o = fx_opts(&fx, ENT_INVOICES);
	cr_expect_eq(import_run(fx.store, mem_read, &m, &o, &res, err, sizeof err), -1, "the import did not fail");
	cr_expect(strstr(err, "nothing was stored") != NULL, "%s", err);
	char *after = db_text(&fx, "SELECT * FROM open_recv ORDER BY 1, 2");
	cr_expect_str_eq(after, before);
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM invoices"), 6000);
	expect_trigger_kept();
	expect_open_recv_consistent();
	free(a);
	free(b);
	free(before);
	free(after);
}

/* A write on the store's writer connection of a cost naming an org that
 * does not exist: refused while foreign keys are on. */
static void expect_foreign_keys_on(void)
{
	char why[256];
	store_conn_t *w = store_write_begin(fx.store, why, sizeof why);
	cr_assert_not_null(w, "%s", why);
	store_stmt_t *st = store_prepare(w, "INSERT INTO costs(org, id, date, category, amount) VALUES(?, 'x', 1, 'c', 1)");
	store_bind_i64(st, 1, fx.org + 1000);
	cr_expect_eq(store_step(st), STORE_CONSTRAINT, "a row of a missing org went in: foreign keys are off");
	store_reset(st);
	store_write_rollback(w);
}

Test(import_bulk, an_import_checks_its_org_once_and_turns_foreign_keys_back_on)
{
	expect_foreign_keys_on();
	/* committed */
	char *a = invoices(0, 6000, 0);
	import_ok(a, false);
	expect_foreign_keys_on();
	/* failed: rolled back */
	mem_reader m = mem_reader_of(a, strlen(a), 4096);
	m.fail_at = (int)(strlen(a) / 2);
	import_opts o = fx_opts(&fx, ENT_INVOICES);
	cr_expect_eq(import_run(fx.store, mem_read, &m, &o, &res, err, sizeof err), -1, "the import did not fail");
	expect_foreign_keys_on();
	/* an org that does not exist: refused before any row */
	o = fx_opts(&fx, ENT_INVOICES);
	o.org = fx.org + 1000;
	cr_expect_eq(fx_import(&fx, &o, a, strlen(a), &res, err, sizeof err), -1, "an import into a missing org went in");
	cr_expect(strstr(err, "does not exist") != NULL, "%s", err);
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM invoices"), 6000);
	expect_foreign_keys_on();
	free(a);
}

/* n sales orders in date order over 420 days from 2024-01-01, of 5003
 * customers and every status: more daily cells than a flush takes and
 * more monthly cells than the writer keeps back (writer.c hand_over);
 * variant changes statuses and amounts of the same ids. */
static char *sales(int n, int variant)
{
	static const char *const status[] = {"pending", "confirmed", "shipped", "completed", "cancelled"};
	buf_t b = BUF_INIT;
	buf_puts(&b, "id,date,customer,status,amount\n");
	for (int i = 0; i < n; i++) {
		int v = i + variant, day = (int)((int64_t)i * 420 / n);
		int y = 2024 + day / 365, doy = day % 365, m = 1 + doy / 31, d = 1 + (doy % 31) * 28 / 31;
		if (m > 12)
			m = 12;
		buf_printf(&b, "so%d,%04d-%02d-%02d,Customer %d,%s,%d.%02d\n", i, y, m, d, i % 5003, status[v % 5],
		           v % 977 - 100, v % 100);
	}
	return buf_steal(&b);
}

/* The rollups of sales orders as the row-by-row path keeps them: status
 * and customer (not cancelled) per day and per month, and the org's
 * magnitude. */
static void expect_sales_rollups_consistent(void)
{
	static const char *const sql =
		"WITH s AS (SELECT org, date, CAST(julianday(date(date * 86400, 'unixepoch', 'start of month'))"
		"             - 2440587.5 AS INTEGER) AS month, customer, status, amount FROM sales_orders),"
		" want AS (SELECT org, 4 AS metric, date AS day, status AS dim, count(*) AS cnt, sum(amount) AS total"
		"            FROM s GROUP BY 1, 2, 3, 4"
		"          UNION ALL SELECT org, 5, date, customer, count(*), sum(amount) FROM s"
		"            WHERE status <> 'cancelled' GROUP BY 1, 2, 3, 4"
		"          UNION ALL SELECT org, 260, month, status, count(*), sum(amount) FROM s GROUP BY 1, 2, 3, 4"
		"          UNION ALL SELECT org, 261, month, customer, count(*), sum(amount) FROM s"
		"            WHERE status <> 'cancelled' GROUP BY 1, 2, 3, 4"
		"          UNION ALL SELECT org, 512, 0, '', count(*), sum(abs(amount)) FROM s GROUP BY 1),"
		" have AS (SELECT * FROM rollup WHERE cnt <> 0 OR total <> 0)"
		" SELECT 'missing', * FROM (SELECT * FROM want EXCEPT SELECT * FROM have)"
		" UNION ALL SELECT 'extra', * FROM (SELECT * FROM have EXCEPT SELECT * FROM want)"
		" LIMIT 20";
	char *diff = db_text(&fx, sql);
	cr_expect_str_eq(diff, "", "rollup differs from the sales orders:\n%s", diff);
	free(diff);
	cr_expect_gt(db_i64(&fx, "SELECT count(*) FROM rollup WHERE metric = 261"), 50000);
}

static void import_sales_ok(const char *csv)
{
	import_opts o = fx_opts(&fx, ENT_SALES_ORDERS);
	cr_assert_eq(fx_import(&fx, &o, csv, strlen(csv), &res, err, sizeof err), 0, "import: %s", err);
	cr_assert_eq(res.rejected, 0, "rejected: %s", res.nkept ? res.kept[0].reason : "");
}

Test(import_bulk, rollups_kept_back_and_written_last_equal_the_rows, .timeout = 300)
{
	char *a = sales(140000, 0);
	import_sales_ok(a);
	cr_expect_eq(res.inserted, 140000);
	expect_sales_rollups_consistent();
	/* replacements take back what the old rows held, in other cells */
	char *b = sales(140000, 2);
	import_sales_ok(b);
	cr_expect_eq(res.replaced, 140000);
	expect_sales_rollups_consistent();
	free(a);
	free(b);
}

/* The in-file id check (rowloop_ids): exact while the ids go up in
 * natural order (digits by number), by hashes after. */
static bool id_new(rowloop_ids *m, const char *id)
{
	return rowloop_ids_new(m, id, strlen(id), XXH3_64bits(id, strlen(id)));
}

Test(import_bulk, ids_in_order_past_their_padding_and_every_repeat_refused)
{
	rowloop_ids m = {0};
	char id[32];
	for (int i = 1; i <= 1200; i++) {
		snprintf(id, sizeof id, "IV%03d", i); /* IV999, then IV1000 */
		cr_assert(id_new(&m, id), "%s refused", id);
	}
	cr_expect(!m.unordered, "IV1000 after IV999 broke the order");
	cr_expect(id_new(&m, "IV1200-a"));
	cr_expect(id_new(&m, "IV01201"), "leading zeros make another id");
	cr_expect(!id_new(&m, "IV01201"), "an id repeated right after itself went in");
	cr_expect(m.unordered);
	cr_expect(!id_new(&m, "IV500"), "an earlier id went in again");
	cr_expect(id_new(&m, "IV0500"), "IV0500 is not IV500");
	cr_expect(id_new(&m, "A1"));
	cr_expect(!id_new(&m, "A1"));
	rowloop_ids_free(&m);
	/* unordered from the start: the hashes decide */
	const char *ids[] = {"b", "a", "c", "a10", "a9", "a09"};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		cr_expect(id_new(&m, ids[i]), "%s refused", ids[i]);
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		cr_expect(!id_new(&m, ids[i]), "%s went in twice", ids[i]);
	rowloop_ids_free(&m);
}

Test(import_bulk, a_repeated_id_in_an_ordered_file_is_refused)
{
	/* ids in order, then one of them again near the end */
	char *a = invoices(0, 7000, 0);
	buf_t f = BUF_INIT;
	buf_puts(&f, a);
	buf_puts(&f, "inv6990,N-x,Customer x,2024-01-01,2024-02-01,1.00,open,\n");
	char *csv = buf_steal(&f);
	import_opts o = fx_opts(&fx, ENT_INVOICES);
	cr_expect_eq(fx_import(&fx, &o, csv, strlen(csv), &res, err, sizeof err), -1, "a repeated id went in");
	cr_expect(strstr(err, "inv6990") != NULL, "%s", err);
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM invoices"), 0);
	free(a);
	free(csv);
}
