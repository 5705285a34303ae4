/* Tests of src/store: migrations, durability, snapshots, data versions
 * (in this process and across processes), organisations, the statement
 * layer, rollup sums against naive SQL, and EXPLAIN QUERY PLAN over every
 * dashboard statement (no full scan of a base table). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/analytics.h"
#include "core/date.h"
#include "core/money.h"
#include "helpers.h"
#include "ingest/entity.h"
#include "ingest/gen.h"
#include "store/rollup.h"
#include "store/schema.h"
#include "store/store.h"

static store_fx fx;

static void setup(void)
{
	store_fx_open(&fx, "acme");
}

static void teardown(void)
{
	store_fx_close(&fx);
}

TestSuite(store, .init = setup, .fini = teardown);

/* ---- helpers ---- */

static const char *const count_costs_sql = "SELECT count(*) FROM costs";

static int64_t count_costs(store_conn_t *c)
{
	store_stmt_t *st = store_prepare(c, count_costs_sql);
	cr_assert_not_null(st);
	cr_assert_eq(store_step(st), STORE_ROW, "%s", store_errmsg(c));
	int64_t n = store_col_i64(st, 0);
	store_reset(st);
	return n;
}

static void import_costs(store_t *s, int64_t org, const char *csv)
{
	import_opts o = {.kind = ENT_COSTS, .org = org};
	import_result res;
	char err[256] = "";
	mem_reader m = mem_reader_of(csv, strlen(csv), 0);
	cr_assert_eq(import_run(s, mem_read, &m, &o, &res, err, sizeof err), 0, "%s", err);
}

static const char *const three_costs = "id,date,category,amount\n"
	"c1,2024-01-01,Rent,1.00\nc2,2024-01-02,Food,2.00\nc3,2024-01-03,Food,3.00\n";

/* Commits an empty write that touches mask of org on store s. */
static void touch(store_t *s, int64_t org, unsigned mask)
{
	char err[256] = "";
	store_conn_t *w = store_write_begin(s, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	store_write_touch(w, org, mask);
	cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);
}

/* ---- schema and durability ---- */

Test(store, migrations_applied)
{
	cr_expect_eq(store_schema_version(fx.store), schema_count());
	cr_expect_eq(db_i64(&fx, "PRAGMA user_version"), schema_count());
	cr_expect_gt(schema_count(), 0);
	cr_expect_null(schema_sql(0));
	cr_expect_null(schema_sql(schema_count() + 1));
	static const char *const tables[] = {"orgs", "tokens", "data_versions", "costs", "sales_orders", "invoices",
	                                     "payments", "leads", "allocations", "rollup"};
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
		         tables[i]);
		cr_expect_eq(db_i64(&fx, sql), 1, "table %s missing", tables[i]);
	}
	char *mode = db_text(&fx, "PRAGMA journal_mode");
	cr_expect_str_eq(mode, "wal\n");
	free(mode);
}

Test(store, reopen_keeps_data_and_schema)
{
	import_costs(fx.store, fx.org, three_costs);
	store_fx_shut(&fx);
	store_fx_reopen(&fx);
	cr_expect_eq(store_schema_version(fx.store), schema_count());
	store_conn_t *r = store_read_begin(fx.store);
	cr_expect_eq(count_costs(r), 3);
	store_read_end(r);
	char err[256] = "";
	cr_expect_eq(store_org_id(fx.store, "acme", false, err, sizeof err), fx.org);
}

Test(store, newer_schema_is_refused)
{
	store_fx_shut(&fx);
	sqlite3 *db = store_fx_db(&fx);
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version=%d", schema_count() + 1);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	char err[256] = "";
	cr_expect_null(store_open(fx.dir, NULL, err, sizeof err));
	cr_expect(strstr(err, "newer than this brisk") != NULL, "%s", err);
	/* put it back so teardown's close has nothing to do */
	db = store_fx_db(&fx);
	snprintf(sql, sizeof sql, "PRAGMA user_version=%d", schema_count());
	sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	store_fx_reopen(&fx);
}

Test(store, unusable_directory_fails_with_a_reason)
{
	char err[256] = "";
	cr_expect_null(store_open("/proc/brisk-cannot-exist/x", NULL, err, sizeof err));
	cr_expect(strstr(err, "/proc/brisk-cannot-exist/x") != NULL, "%s", err);
}

/* ---- snapshots ---- */

Test(store, read_snapshot_does_not_see_later_commit)
{
	store_conn_t *r = store_read_begin(fx.store);
	cr_expect_eq(count_costs(r), 0); /* the snapshot starts here */
	import_costs(fx.store, fx.org, three_costs);
	cr_expect_eq(count_costs(r), 0, "a read transaction saw a commit made after it started");
	store_read_end(r);
	r = store_read_begin(fx.store);
	cr_expect_eq(count_costs(r), 3);
	store_read_end(r);
}

Test(store, readers_cannot_write)
{
	store_conn_t *r = store_read_begin(fx.store);
	cr_expect_eq(store_exec(r, "DELETE FROM orgs"), -1);
	store_read_end(r);
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM orgs"), 1);
}

Test(store, rollback_discards)
{
	char err[256] = "";
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	cr_expect_eq(store_exec(w, "INSERT INTO orgs(slug, name) VALUES('tmp', 'tmp')"), 0);
	store_write_touch(w, fx.org, TBL_BIT(TBL_COSTS));
	store_write_rollback(w);
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM orgs"), 1);
	cr_expect_eq(store_version(fx.store, fx.org, TBL_COSTS), 0);
	/* the writer was released */
	touch(fx.store, fx.org, TBL_BIT(TBL_COSTS));
	cr_expect_eq(store_version(fx.store, fx.org, TBL_COSTS), 1);
}

/* ---- data versions ---- */

Test(store, versions_bump_per_touched_org_and_table)
{
	char err[256] = "";
	int64_t other = store_org_id(fx.store, "other", true, err, sizeof err);
	cr_assert_geq(other, 0, "%s", err);
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	store_write_touch(w, fx.org, TBL_BIT(TBL_COSTS) | TBL_BIT(TBL_PAYMENTS));
	store_write_touch(w, fx.org, TBL_BIT(TBL_COSTS)); /* twice in one commit = once */
	store_write_touch(w, other, TBL_BIT(TBL_LEADS));
	cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);
	cr_expect_eq(store_version(fx.store, fx.org, TBL_COSTS), 1);
	cr_expect_eq(store_version(fx.store, fx.org, TBL_PAYMENTS), 1);
	cr_expect_eq(store_version(fx.store, fx.org, TBL_LEADS), 0);
	cr_expect_eq(store_version(fx.store, other, TBL_LEADS), 1);
	cr_expect_eq(store_version(fx.store, other, TBL_COSTS), 0);
	cr_expect_eq(store_version(fx.store, 9999, TBL_COSTS), 0);
	touch(fx.store, fx.org, TBL_BIT(TBL_COSTS));
	cr_expect_eq(store_version(fx.store, fx.org, TBL_COSTS), 2);
	cr_expect_eq(store_version(fx.store, fx.org, TBL_PAYMENTS), 1);
}

Test(store, versions_persist_across_reopen)
{
	touch(fx.store, fx.org, TBL_BIT(TBL_INVOICES));
	touch(fx.store, fx.org, TBL_BIT(TBL_INVOICES) | TBL_BIT(TBL_SETTINGS));
	store_fx_shut(&fx);
	store_fx_reopen(&fx);
	cr_expect_eq(store_version(fx.store, fx.org, TBL_INVOICES), 2);
	cr_expect_eq(store_version(fx.store, fx.org, TBL_SETTINGS), 1);
	touch(fx.store, fx.org, TBL_BIT(TBL_INVOICES));
	cr_expect_eq(store_version(fx.store, fx.org, TBL_INVOICES), 3);
}

Test(store, refresh_sees_another_process_commit)
{
	char err[256] = "";
	store_t *other = store_open(fx.dir, NULL, err, sizeof err);
	cr_assert_not_null(other, "%s", err);
	touch(other, fx.org, TBL_BIT(TBL_SALES_ORDERS));
	touch(other, fx.org, TBL_BIT(TBL_SALES_ORDERS));
	cr_expect_eq(store_version(fx.store, fx.org, TBL_SALES_ORDERS), 0, "versions read without a refresh");
	store_refresh_versions(fx.store);
	cr_expect_eq(store_version(fx.store, fx.org, TBL_SALES_ORDERS), 2);
	store_refresh_versions(fx.store); /* nothing new: unchanged */
	cr_expect_eq(store_version(fx.store, fx.org, TBL_SALES_ORDERS), 2);
	/* and the other way round, with real rows */
	import_costs(fx.store, fx.org, three_costs);
	store_refresh_versions(other);
	cr_expect_eq(store_version(other, fx.org, TBL_COSTS), store_version(fx.store, fx.org, TBL_COSTS));
	cr_expect_gt(store_version(other, fx.org, TBL_COSTS), 0);
	store_close(other);
}

typedef struct {
	int calls;
	int64_t org;
	unsigned mask;
} change_seen;

static void on_change(void *ud, int64_t org, unsigned mask)
{
	change_seen *c = ud;
	c->calls++;
	c->org = org;
	c->mask = mask;
}

Test(store, change_listener_called_after_commit)
{
	change_seen seen = {0};
	store_on_change(fx.store, on_change, &seen);
	touch(fx.store, fx.org, TBL_BIT(TBL_LEADS));
	cr_expect_eq(seen.calls, 1);
	cr_expect_eq(seen.org, fx.org);
	cr_expect_eq(seen.mask, TBL_BIT(TBL_LEADS));
	char err[256];
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	store_write_touch(w, fx.org, TBL_BIT(TBL_COSTS));
	store_write_rollback(w);
	cr_expect_eq(seen.calls, 1, "called for a rollback");
	store_on_change(fx.store, NULL, NULL);
}

Test(store, second_writer_gets_busy_not_stuck)
{
	char err[256] = "";
	store_opts quick = {.busy_timeout_ms = 100};
	store_t *other = store_open(fx.dir, &quick, err, sizeof err);
	cr_assert_not_null(other, "%s", err);
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	cr_expect_null(store_write_begin(other, err, sizeof err));
	cr_expect(strstr(err, "busy") != NULL, "%s", err);
	store_write_rollback(w);
	store_conn_t *w2 = store_write_begin(other, err, sizeof err);
	cr_expect_not_null(w2, "%s", err);
	if (w2)
		store_write_rollback(w2);
	store_close(other);
}

/* The journal mode of DIR/brisk.db as a fresh connection of its own sees it. */
static void journal_mode(const char *dir, char *out, size_t outlen)
{
	char path[512];
	snprintf(path, sizeof path, "%s/brisk.db", dir);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	snprintf(out, outlen, "?");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

Test(store, bulk_load_writes_without_the_wal_only_when_alone)
{
	char err[256] = "", mode[16];
	store_fx_shut(&fx);
	store_opts bulk = {.read_conns = 2, .bulk_load = true};
	/* alone: a rollback journal until the close, rows committed as usual */
	store_t *s = store_open(fx.dir, &bulk, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	journal_mode(fx.dir, mode, sizeof mode);
	cr_expect_str_eq(mode, "delete", "the load's own journal");
	import_costs(s, fx.org, three_costs);
	store_conn_t *r = store_read_begin(s);
	cr_expect_eq(count_costs(r), 3, "the readers see the load's commit");
	store_read_end(r);
	store_close(s);
	journal_mode(fx.dir, mode, sizeof mode);
	cr_expect_str_eq(mode, "wal", "WAL again after the load");
	/* open elsewhere: the WAL stays, and the load works as any write */
	store_fx_reopen(&fx);
	r = store_read_begin(fx.store);
	cr_expect_eq(count_costs(r), 3);
	store_read_end(r);
	s = store_open(fx.dir, &bulk, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	store_conn_t *w = store_write_begin(s, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	store_write_rollback(w);
	journal_mode(fx.dir, mode, sizeof mode);
	cr_expect_str_eq(mode, "wal", "another connection is open: no change");
	store_close(s);
}

/* ---- organisations ---- */

Test(store, org_create_and_lookup)
{
	char err[256] = "";
	cr_expect_eq(store_org_id(fx.store, "nobody", false, err, sizeof err), -1);
	cr_expect(strstr(err, "no organisation 'nobody'") != NULL, "%s", err);
	int64_t a = store_org_id(fx.store, "beta", true, err, sizeof err);
	cr_assert_geq(a, 0, "%s", err);
	cr_expect_neq(a, fx.org);
	cr_expect_eq(store_org_id(fx.store, "beta", true, err, sizeof err), a);
	cr_expect_eq(store_org_id(fx.store, "beta", false, err, sizeof err), a);
	cr_expect_eq(store_org_id(fx.store, "acme", false, err, sizeof err), fx.org);
	/* slugs are exact */
	cr_expect_eq(store_org_id(fx.store, "ACME", false, err, sizeof err), -1);
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM orgs"), 2);
}

/* ---- statements ---- */

static const char *const bad_sql = "SELEC nothing";
static const char *const org_ins_sql = "INSERT INTO orgs(slug, name) VALUES(?, ?)";
static const char *const cost_ins_sql =
	"INSERT INTO costs(org, id, date, category, amount) VALUES(?, 'x', 0, 'c', 1)";
static const char *const echo_sql = "SELECT ?, ?, ?, ?, ?";

Test(store, statement_layer)
{
	char err[256] = "";
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	cr_expect_null(store_prepare(w, bad_sql));
	cr_expect_eq(store_step(NULL), STORE_ERROR);
	store_stmt_t *st = store_prepare(w, org_ins_sql);
	cr_expect_eq(store_prepare(w, org_ins_sql), st, "statements are cached by their SQL pointer");
	store_bind_text(st, 1, "acme", 4);
	store_bind_text(st, 2, "dup", 3);
	cr_expect_eq(store_step(st), STORE_CONSTRAINT, "unique slug");
	store_reset(st);
	/* foreign keys are on: a row of a missing org is refused */
	st = store_prepare(w, cost_ins_sql);
	store_bind_i64(st, 1, 424242);
	cr_expect_eq(store_step(st), STORE_CONSTRAINT, "foreign key not enforced");
	store_reset(st);
	st = store_prepare(w, echo_sql);
	store_bind_i64(st, 1, INT64_MIN);
	store_bind_double(st, 2, 0.5);
	store_bind_text(st, 3, "a\0b", 3);
	store_bind_null(st, 4);
	store_bind_blob(st, 5, "\x01\x02", 2);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_expect_eq(store_col_i64(st, 0), INT64_MIN);
	cr_expect_eq(store_col_double(st, 1), 0.5);
	size_t len = 0;
	const char *t = store_col_text(st, 2, &len);
	cr_expect(len == 3 && !memcmp(t, "a\0b", 3), "text is binary-safe");
	cr_expect(store_col_is_null(st, 3));
	cr_expect_str_eq(store_col_text(st, 3, &len), "");
	cr_expect_eq(len, 0);
	cr_expect_eq(store_step(st), STORE_DONE);
	store_reset(st);
	cr_expect_eq(store_of(w), fx.store);
	store_write_rollback(w);
	int64_t db = 0, wal = 0;
	store_file_sizes(fx.store, &db, &wal);
	cr_expect_gt(db, 0);
}

/* ---- concurrency: a small pool, many readers, one writer ---- */

typedef struct {
	store_t *s;
	int errors;
} reader_arg;

static void *reader_main(void *p)
{
	reader_arg *a = p;
	int64_t last = 0;
	for (int i = 0; i < 300; i++) {
		store_conn_t *r = store_read_begin(a->s);
		store_stmt_t *st = store_prepare(r, count_costs_sql);
		if (!st || store_step(st) != STORE_ROW) {
			a->errors++;
		} else {
			int64_t n = store_col_i64(st, 0);
			if (n < last) /* committed rows never disappear */
				a->errors++;
			last = n;
		}
		store_reset(st);
		store_read_end(r);
	}
	return NULL;
}

Test(store, readers_and_writer_in_threads)
{
	store_fx_shut(&fx);
	char err[256] = "";
	store_opts small = {.read_conns = 2};
	fx.store = store_open(fx.dir, &small, err, sizeof err);
	cr_assert_not_null(fx.store, "%s", err);
	enum { NREADERS = 4 };
	pthread_t th[NREADERS];
	reader_arg args[NREADERS];
	for (int i = 0; i < NREADERS; i++) {
		args[i] = (reader_arg){fx.store, 0};
		pthread_create(&th[i], NULL, reader_main, &args[i]);
	}
	for (int i = 0; i < 30; i++) {
		char csv[128];
		snprintf(csv, sizeof csv, "id,date,category,amount\nt%d,2024-01-01,A,1.00\n", i);
		import_costs(fx.store, fx.org, csv);
	}
	for (int i = 0; i < NREADERS; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(args[i].errors, 0, "reader %d", i);
	}
	cr_expect_eq(store_version(fx.store, fx.org, TBL_COSTS), 30);
}

/* ---- a populated store ---- */

static void populate(void)
{
	char csvdir[4096];
	snprintf(csvdir, sizeof csvdir, "%s/csv", fx.dir);
	gen_opts g;
	gen_opts_init(&g);
	g.scale = 0.1;
	g.seed = 5;
	g.end = date_from_ymd(2026, 10, 31);
	char err[256] = "";
	cr_assert_eq(gen_write(csvdir, &g, NULL, err, sizeof err), 0, "gen: %s", err);
	static const char *const files[ENT__COUNT] = {"costs", "sales_orders", "invoices", "payments", "leads"};
	for (int k = 0; k < ENT__COUNT; k++) {
		char path[4200];
		import_result res;
		snprintf(path, sizeof path, "%s/%s.csv", csvdir, files[k]);
		fx_import_file(&fx, (entity_kind)k, path, &res);
	}
}

/* What rollup_sum must equal, computed from a base table. */
typedef struct {
	rollup_metric metric;
	const char *dim;     /* NULL = all */
	const char *naive;   /* printf format: org, from, to (and dim) */
} rollup_case;

static const rollup_case rollup_cases[] = {
	{ROLLUP_CASH_IN, NULL,
	 "SELECT count(*) || '|' || coalesce(sum(amount), 0) FROM payments WHERE org = %lld AND date BETWEEN %d AND %d"},
	{ROLLUP_COSTS_CATEGORY, NULL,
	 "SELECT count(*) || '|' || coalesce(sum(amount), 0) FROM costs WHERE org = %lld AND date BETWEEN %d AND %d"},
	{ROLLUP_COSTS_CATEGORY, "dim",
	 "SELECT count(*) || '|' || coalesce(sum(amount), 0) FROM costs WHERE org = %lld AND date BETWEEN %d AND %d "
	 "AND category = '%s'"},
	{ROLLUP_COSTS_VENDOR, "dim",
	 "SELECT count(*) || '|' || coalesce(sum(amount), 0) FROM costs WHERE org = %lld AND date BETWEEN %d AND %d "
	 "AND vendor = '%s'"},
	{ROLLUP_SALES_STATUS, "dim",
	 "SELECT count(*) || '|' || coalesce(sum(amount), 0) FROM sales_orders WHERE org = %lld AND date BETWEEN %d "
	 "AND %d AND status = '%s'"},
	{ROLLUP_SALES_CUSTOMER, NULL,
	 "SELECT count(*) || '|' || coalesce(sum(amount), 0) FROM sales_orders WHERE org = %lld AND date BETWEEN %d "
	 "AND %d AND status <> 'cancelled'"},
	{ROLLUP_INVOICED, NULL,
	 "SELECT count(*) || '|' || coalesce(sum(amount), 0) FROM invoices WHERE org = %lld AND issue_date BETWEEN %d "
	 "AND %d AND status <> 'void'"},
	{ROLLUP_LEADS, NULL,
	 "SELECT count(*) || '|' || coalesce(sum(coalesce(value, 0)), 0) FROM leads WHERE org = %lld AND "
	 "created_date BETWEEN %d AND %d"},
};

/* A dim value that occurs for the case's metric (the most frequent). */
static char *some_dim(const rollup_case *rc)
{
	char sql[256];
	snprintf(sql, sizeof sql,
	         "SELECT dim FROM rollup WHERE org = %lld AND metric = %d GROUP BY dim ORDER BY sum(cnt) DESC LIMIT 1",
	         (long long)fx.org, (int)rc->metric);
	char *d = db_text(&fx, sql);
	char *nl = strchr(d, '\n');
	if (nl)
		*nl = '\0';
	return d;
}

Test(store, property_rollup_sum_equals_naive_sql, .timeout = 240)
{
	populate();
	date_t lo = date_from_ymd(2024, 10, 1), hi = date_from_ymd(2026, 11, 30);
	uint64_t rs = 0xfeedu;
	store_conn_t *r = store_read_begin(fx.store);
	for (size_t k = 0; k < sizeof rollup_cases / sizeof rollup_cases[0]; k++) {
		const rollup_case *rc = &rollup_cases[k];
		char *dim = rc->dim ? some_dim(rc) : NULL;
		cr_assert(!dim || !strchr(dim, '\''), "dim with a quote: %s", dim);
		for (int i = 0; i < 150; i++) {
			date_t from = lo + (date_t)test_rng_below(&rs, (size_t)(hi - lo));
			date_t to = from + (date_t)test_rng_below(&rs, i % 3 ? 400 : 40) - 2; /* some empty ranges */
			int64_t cnt = -1, total = -1;
			rollup_sum(r, fx.org, rc->metric, from, to, dim, &cnt, &total);
			char sql[512], got[64];
			snprintf(sql, sizeof sql, rc->naive, (long long)fx.org, from, to, dim);
			char *want = db_text(&fx, sql);
			snprintf(got, sizeof got, "%lld|%lld\n", (long long)cnt, (long long)total);
			if (from > to)
				cr_expect_str_eq(got, "0|0\n");
			else
				cr_expect_str_eq(got, want, "metric %d dim %s [%d, %d]: rollup %s, naive %s", rc->metric,
				                 dim ? dim : "*", from, to, got, want);
			free(want);
		}
		free(dim);
	}
	store_read_end(r);
}

/* ---- EXPLAIN QUERY PLAN over the dashboard statements ---- */

static bool is_base_table(const char *name, size_t len)
{
	static const char *const base[] = {"costs", "sales_orders", "invoices", "payments", "leads", "allocations",
	                                   "rollup"};
	for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
		if (strlen(base[i]) == len && !memcmp(base[i], name, len))
			return true;
	return false;
}

/* The table a plan line's "SCAN x" reads: x itself, or the table an alias
 * stands for ("SCAN a" where the SQL says "allocations a"). */
static bool scans_base_table(const char *detail, const char *sql)
{
	if (strncmp(detail, "SCAN ", 5))
		return false;
	const char *name = detail + 5;
	size_t len = strcspn(name, " ");
	if (is_base_table(name, len))
		return true;
	/* an alias: find "<table> <alias>" in the SQL */
	static const char *const base[] = {"costs", "sales_orders", "invoices", "payments", "leads", "allocations",
	                                   "rollup"};
	for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
		char pat[64];
		snprintf(pat, sizeof pat, "%s %.*s ", base[i], (int)len, name);
		if (strstr(sql, pat))
			return true;
	}
	return false;
}

/* A full scan is a SCAN of a base table without an index; rollup must
 * always be searched (a SCAN of it, even by its primary key, is a scan of
 * every org's history). */
static bool plan_line_bad(const char *detail, const char *sql)
{
	if (!scans_base_table(detail, sql))
		return false;
	if (!strncmp(detail, "SCAN rollup", 11))
		return true;
	return !strstr(detail, "USING INDEX") && !strstr(detail, "USING COVERING INDEX");
}

/* Appends the plan of sql to out; returns the number of bad lines. */
static int explain(sqlite3 *db, const char *sql, buf_t *out)
{
	char *q = NULL;
	cr_assert_geq(asprintf(&q, "EXPLAIN QUERY PLAN %s", sql), 0);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, q, -1, &st, NULL);
	cr_assert_eq(rc, SQLITE_OK, "cannot prepare %s: %s", sql, sqlite3_errmsg(db));
	for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++)
		sqlite3_bind_int64(st, i, 0);
	int bad = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(st, 3);
		bool b = plan_line_bad(detail, sql);
		bad += b;
		buf_printf(out, "  %s%s\n", b ? "!! " : "   ", detail);
	}
	sqlite3_finalize(st);
	free(q);
	return bad;
}

Test(store, explain_no_full_scan_on_dashboard_statements, .timeout = 240)
{
	populate();
	size_t n = 0;
	const char *const *stmts = analytics_statements(&n);
	cr_assert_gt(n, 0, "analytics_statements is empty");
	sqlite3 *db = store_fx_db(&fx);
	int bad_total = 0;
	buf_t report = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		buf_t plan = BUF_INIT;
		int bad = explain(db, stmts[i], &plan);
		if (bad)
			buf_printf(&report, "statement %zu: %s\n%s", i, stmts[i], plan.p);
		bad_total += bad;
		buf_free(&plan);
	}
	/* the store's own hot statements too */
	static const char *const own[] = {
		("SELECT coalesce(sum(cnt),0), coalesce(sum(total),0) FROM rollup WHERE org = ? AND metric = ? AND day "
		 "BETWEEN ? AND ? AND dim = ?"),
		"DELETE FROM rollup WHERE org = ? AND cnt = 0 AND total = 0",
		"SELECT rid, date, category, vendor, amount FROM costs WHERE org = ? AND id = ?",
		"SELECT DISTINCT invoice FROM allocations WHERE payment = ?",
	};
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
		buf_t plan = BUF_INIT;
		int bad = explain(db, own[i], &plan);
		if (bad)
			buf_printf(&report, "store statement: %s\n%s", own[i], plan.p);
		bad_total += bad;
		buf_free(&plan);
	}
	sqlite3_close(db);
	cr_expect_eq(bad_total, 0, "full scans in query plans:\n%s", report.p ? report.p : "");
	buf_free(&report);
}

/* The checker itself: it must catch the scans it is meant to catch. */
Test(store, explain_checker_catches_scans)
{
	cr_expect(plan_line_bad("SCAN costs", "SELECT * FROM costs"));
	cr_expect(plan_line_bad("SCAN a", "SELECT * FROM allocations a JOIN invoices i ON 1"));
	cr_expect(plan_line_bad("SCAN rollup", "SELECT * FROM rollup"));
	cr_expect_not(plan_line_bad("SCAN costs USING INDEX costs_date", "SELECT * FROM costs"));
	cr_expect_not(plan_line_bad("SCAN i USING COVERING INDEX x", "SELECT * FROM invoices i JOIN y"));
	cr_expect_not(plan_line_bad("SEARCH rollup USING PRIMARY KEY (org=? AND metric=?)", "x"));
	cr_expect_not(plan_line_bad("USE TEMP B-TREE FOR ORDER BY", "x"));
	cr_expect_not(plan_line_bad("SCAN CONSTANT ROW", "x"));
}

/* ---- the accumulator's monthly cells ---- */

/* Rows of rollup that disagree: a monthly row against the sum of its
 * month's daily rows, either way round. */
static int64_t monthly_mismatches(void)
{
	static const char *sql =
		"WITH d AS (SELECT org, metric | 256 AS metric, day - (CAST(strftime('%d', day * 86400, 'unixepoch') AS "
		"INTEGER) - 1) AS day, dim, sum(cnt) AS cnt, sum(total) AS total FROM rollup WHERE metric < 256 "
		"GROUP BY 1, 2, 3, 4 HAVING sum(cnt) <> 0 OR sum(total) <> 0), "
		"m AS (SELECT org, metric, day, dim, cnt, total FROM rollup WHERE metric BETWEEN 257 AND 511) "
		"SELECT (SELECT count(*) FROM (SELECT * FROM d EXCEPT SELECT * FROM m)) + "
		"(SELECT count(*) FROM (SELECT * FROM m EXCEPT SELECT * FROM d))";
	store_conn_t *r = store_read_begin(fx.store);
	store_stmt_t *st = store_prepare(r, sql);
	cr_assert_not_null(st);
	cr_assert_eq(store_step(st), STORE_ROW, "%s", store_errmsg(r));
	int64_t n = store_col_i64(st, 0);
	store_reset(st);
	store_read_end(r);
	return n;
}

/* Monthly cells are summed from the daily ones when they are needed
 * (rollup.c: derive): adds, retractions, seals, splits, merges and
 * flushes in any order leave every monthly row the sum of its days. */
Test(store, rollup_monthly_cells_are_the_sum_of_the_days)
{
	char err[256] = "";
	uint64_t seed = 12345;
	rollup_acc_t *a = rollup_acc_new(fx.org), *b = rollup_acc_new(fx.org), *m = rollup_acc_new(fx.org);
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	for (int i = 0; i < 20000; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		uint32_t r = (uint32_t)(seed >> 33);
		char dim[8];
		snprintf(dim, sizeof dim, "c%u", r % 37);
		date_t day = 19700 + (date_t)(r / 37 % 90);
		int64_t sign = r % 5 == 0 ? -1 : 1;
		rollup_acc_t *to = r % 3 == 0 ? b : a;
		rollup_add(to, ROLLUP_SALES_CUSTOMER, day, dim, strlen(dim), sign, sign * (int64_t)(r % 1000));
		switch (r % 997) {
		case 1: rollup_seal(a); break;
		case 2: rollup_split_monthly(a, m); break;
		case 3: rollup_acc_merge(a, b); break;
		case 4: cr_assert_eq(rollup_flush(a, w), 0); break;
		case 5: rollup_seal(a); cr_assert_eq(rollup_flush(a, w), 0); break;
		default: break;
		}
	}
	rollup_acc_merge(a, b);
	cr_assert_eq(rollup_flush(a, w), 0);
	cr_assert_eq(rollup_flush(m, w), 0);
	cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);
	cr_expect_eq(monthly_mismatches(), 0);
	rollup_acc_free(a);
	rollup_acc_free(b);
	rollup_acc_free(m);
}

/* ---- checked totals (issue 22 item 1) ---- */

static int flush_once(rollup_acc_t *a)
{
	char err[256] = "";
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	int rc = rollup_flush(a, w);
	if (rc == 0)
		cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);
	else
		store_write_rollback(w);
	return rc;
}

static const char *const magnitude_sql = "SELECT coalesce(max(total), 0) FROM rollup WHERE metric = 512";

Test(store, rollup_refuses_a_write_past_the_magnitude_bound)
{
	const int64_t max = MONEY_MAX_ABS - 1;
	rollup_acc_t *a = rollup_acc_new(fx.org);
	/* 4611 rows of the largest amount fit under 2^62, one more does not */
	for (int i = 0; i < 4611; i++)
		rollup_add(a, ROLLUP_CASH_IN, 20000 + i % 40, "", 0, 1, i % 2 ? max : -max);
	cr_assert_eq(flush_once(a), 0);
	cr_expect_eq(db_i64(&fx, magnitude_sql), 4611 * max);
	rollup_add(a, ROLLUP_COSTS_CATEGORY, 20000, "Rent", 4, 1, max);
	cr_expect_eq(flush_once(a), ROLLUP_E_BOUND);
	cr_expect_eq(db_i64(&fx, magnitude_sql), 4611 * max, "a refused flush writes nothing");
	/* secondary metrics (the same row's second dim) do not count twice */
	rollup_add(a, ROLLUP_COSTS_VENDOR, 20000, "V", 1, 1, max);
	cr_expect_eq(flush_once(a), 0);
	/* a retraction frees room, and a lower magnitude always passes */
	rollup_add(a, ROLLUP_CASH_IN, 20000, "", 0, -1, -max);
	cr_expect_eq(flush_once(a), 0);
	cr_expect_eq(db_i64(&fx, magnitude_sql), 4610 * max);
	rollup_add(a, ROLLUP_COSTS_CATEGORY, 20000, "Rent", 4, 1, max);
	cr_expect_eq(flush_once(a), 0);
	/* a cell delta leaving int64 in memory is refused, not wrapped */
	rollup_add(a, ROLLUP_SALES_CUSTOMER, 20000, "c", 1, 1, INT64_MAX);
	rollup_add(a, ROLLUP_SALES_CUSTOMER, 20000, "c", 1, 1, INT64_MAX);
	cr_expect_eq(flush_once(a), ROLLUP_E_BOUND);
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM rollup WHERE typeof(total) <> 'integer'"), 0);
	rollup_acc_free(a);
}

/* ---- bulk inserts (store_batch_*) and the search index ---- */

static const char *const batch_ins_sql = "INSERT INTO costs(org, id, date, category, amount) VALUES(?,?,?,?,?) "
                                         "ON CONFLICT(org, id) DO NOTHING";
static const char *const cost_cat_sql = "SELECT category FROM costs WHERE org = ? AND id = ?";

static void batch_add(store_batch_t *b, int64_t org, const char *id, const char *cat)
{
	store_stmt_t *st = store_batch_stmt(b);
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, id, strlen(id));
	store_bind_i64(st, 3, 0);
	store_bind_text(st, 4, cat, strlen(cat));
	store_bind_i64(st, 5, 1);
	store_batch_row(b);
}

/* inserted[] names exactly the rows that went in: not an id stored
 * before, not the later twins of an id in the batch. */
Test(store, batch_tells_which_rows_went_in)
{
	import_costs(fx.store, fx.org, three_costs);
	char err[256] = "";
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	store_batch_t *b = store_batch_new(w, batch_ins_sql);
	cr_assert_not_null(b, "SQLite has a bulk path");
	const char *ids[] = {"n1", "c2", "n2", "n1", "c3", "n3", "n2"};
	const bool want[] = {true, false, true, false, false, true, false};
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < 7; i++)
			batch_add(b, fx.org, round ? "m" : ids[i], round ? "Again" : "New");
		cr_assert_eq(store_batch_rows(b), 7);
		bool got[7];
		cr_assert_eq(store_batch_run(b, got, err, sizeof err), 0, "%s", err);
		for (size_t i = 0; i < 7; i++)
			cr_expect_eq(got[i], round ? i == 0 : want[i], "round %d row %zu", round, i);
		cr_expect_eq(store_batch_rows(b), 0, "a run empties the batch");
	}
	/* the first row of an id is the one stored */
	store_stmt_t *st = store_prepare(w, cost_cat_sql);
	store_bind_i64(st, 1, fx.org);
	store_bind_text(st, 2, "c2", 2);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_expect_str_eq(store_col_text(st, 0, NULL), "Food", "an id stored before is left alone");
	store_reset(st);
	/* every row went in: the fast path */
	batch_add(b, fx.org, "f1", "X");
	batch_add(b, fx.org, "f2", "X");
	bool two[2] = {false, false};
	cr_assert_eq(store_batch_run(b, two, err, sizeof err), 0, "%s", err);
	cr_expect(two[0] && two[1]);
	store_batch_free(b);
	cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);
	store_conn_t *r = store_read_begin(fx.store);
	cr_expect_eq(count_costs(r), 3 + 3 + 1 + 2);
	store_read_end(r);
}

/* Past a group of rows (SQLite runs 256 per statement), with stored ids and
 * twins inside a group: inserted[] still names exactly the rows that went
 * in, and the first of twins is the one stored. */
Test(store, batch_groups_tell_which_rows_went_in)
{
	import_costs(fx.store, fx.org, three_costs);
	char err[256] = "";
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	store_batch_t *b = store_batch_new(w, batch_ins_sql);
	cr_assert_not_null(b);
	enum { N = 700 };
	char ids[N][16];
	bool want[N], got[N];
	int64_t fresh = 0;
	for (int i = 0; i < N; i++) {
		if (i % 5 == 0)
			snprintf(ids[i], sizeof ids[i], "c%d", 1 + i % 3); /* stored before */
		else if (i % 7 == 3)
			memcpy(ids[i], ids[i - 1], sizeof ids[i]); /* a twin */
		else
			snprintf(ids[i], sizeof ids[i], "g%d", i);
		want[i] = ids[i][0] == 'g' && (i == 0 || strcmp(ids[i], ids[i - 1]) || i % 7 != 3);
		fresh += want[i];
		batch_add(b, fx.org, ids[i], i % 7 == 3 ? "Twin" : "First");
	}
	cr_assert_eq(store_batch_run(b, got, err, sizeof err), 0, "%s", err);
	for (int i = 0; i < N; i++)
		cr_expect_eq(got[i], want[i], "row %d (%s)", i, ids[i]);
	store_batch_free(b);
	cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM costs WHERE category = 'Twin'"), 0);
	store_conn_t *r = store_read_begin(fx.store);
	cr_expect_eq(count_costs(r), 3 + fresh);
	store_read_end(r);
}

static const char *const cost_index_sql = "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'costs' "
                                          "AND sql IS NOT NULL";

/* store_batch_bulk on a table with no row: its non-unique indexes are gone
 * while the load runs (the unique one still refuses twins), back at the
 * commit and equal to the rows; a rollback brings them back too; a table
 * with rows keeps them. */
Test(store, batch_bulk_builds_indexes_at_commit)
{
	int64_t n_idx = db_i64(&fx, cost_index_sql);
	cr_assert(n_idx >= 2);
	char err[256] = "";
	for (int round = 0; round < 3; round++) {
		store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
		cr_assert_not_null(w, "%s", err);
		store_batch_t *b = store_batch_new(w, batch_ins_sql);
		cr_assert_not_null(b);
		cr_assert_eq(store_batch_bulk(b, err, sizeof err), 0, "%s", err);
		store_stmt_t *st = store_prepare(w, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
		                                    "tbl_name = 'costs' AND sql IS NOT NULL AND ? = 1");
		store_bind_i64(st, 1, 1);
		cr_assert_eq(store_step(st), STORE_ROW);
		cr_expect_eq(store_col_i64(st, 0), round == 2 ? n_idx : 1, "round %d: only the unique index stays", round);
		store_reset(st);
		const char *ids[] = {"b1", "b2", "b1", "b3"};
		bool got[4];
		for (int i = 0; i < 4; i++)
			batch_add(b, fx.org, round == 2 ? "later" : ids[i], "Bulk");
		cr_assert_eq(store_batch_run(b, got, err, sizeof err), 0, "%s", err);
		if (round < 2)
			cr_expect(got[0] && got[1] && !got[2] && got[3], "the unique index still refuses a twin");
		store_batch_free(b);
		if (round == 0) {
			store_write_rollback(w);
			cr_expect_eq(db_i64(&fx, cost_index_sql), n_idx, "a rollback brings the indexes back");
			continue;
		}
		cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);
		cr_expect_eq(db_i64(&fx, cost_index_sql), n_idx, "round %d: the commit built them", round);
	}
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"), 0);
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM costs INDEXED BY costs_date WHERE org > 0 AND date >= 0"), 4);
}

static const char *const fts_count_sql = "SELECT count(*) FROM costs_fts WHERE costs_fts MATCH ?";
static const char *const like_count_sql =
	"SELECT count(*) FROM costs WHERE (id || char(31) || category || char(31) || vendor || char(31) || description) "
	"LIKE '%' || ? || '%'";

static int64_t count_of(store_conn_t *c, const char *sql, const char *arg)
{
	store_stmt_t *st = store_prepare(c, sql);
	store_bind_text(st, 1, arg, strlen(arg));
	cr_assert_eq(store_step(st), STORE_ROW, "%s", store_errmsg(c));
	int64_t n = store_col_i64(st, 0);
	store_reset(st);
	return n;
}

static void exec_w(store_conn_t *w, const char *sql)
{
	cr_assert_eq(store_exec(w, sql), 0, "%s: %s", sql, store_errmsg(w));
}

/* The index names exactly the rows whose text holds a trigram, whatever
 * a transaction did to them: inserted, updated twice, deleted, inserted
 * then updated or deleted, the newest row deleted and its rid reused. */
Test(store, search_index_follows_every_write)
{
	import_costs(fx.store, fx.org, "id,date,category,amount,vendor\n"
	                               "a1,2024-01-01,Alpha,1.00,Qop\na2,2024-01-02,Beta,2.00,Qop\n"
	                               "a3,2024-01-03,Gamma,3.00,Zed\na4,2024-01-04,Delta,4.00,Zed\n");
	char err[256] = "";
	for (int round = 0; round < 2; round++) {
		store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
		cr_assert_not_null(w, "%s", err);
		if (round == 0) {
			exec_w(w, "UPDATE costs SET category = 'Kappa' WHERE id = 'a1'");
			exec_w(w, "UPDATE costs SET category = 'Lambda' WHERE id = 'a1'");
			exec_w(w, "UPDATE costs SET amount = 9 WHERE id = 'a2'"); /* no searched column */
			exec_w(w, "DELETE FROM costs WHERE id = 'a4'");           /* the newest: its rid is reused */
			exec_w(w, "INSERT INTO costs(org, id, date, category, amount) VALUES(1, 'b1', 0, 'Omega', 1)");
			exec_w(w, "INSERT INTO costs(org, id, date, category, amount) VALUES(1, 'b2', 0, 'Sigma', 1)");
			exec_w(w, "UPDATE costs SET category = 'Theta' WHERE id = 'b2'");
			exec_w(w, "INSERT INTO costs(org, id, date, category, amount) VALUES(1, 'b3', 0, 'Ypsilon', 1)");
			exec_w(w, "DELETE FROM costs WHERE id = 'b3'");
		} else {
			exec_w(w, "UPDATE costs SET vendor = 'Xix' WHERE id = 'b1'");
			exec_w(w, "DELETE FROM costs WHERE id = 'a3'");
		}
		cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);
		store_conn_t *r = store_read_begin(fx.store);
		const char *probe[] = {"alp", "kap", "lam", "bet", "gam", "del", "ome", "sig", "the", "yps", "qop", "zed", "xix"};
		for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++)
			cr_expect_eq(count_of(r, fts_count_sql, probe[i]), count_of(r, like_count_sql, probe[i]),
			             "round %d: '%s'", round, probe[i]);
		cr_expect_eq(count_of(r, "SELECT count(*) FROM search_pending WHERE ? <> ''", "x"), 0);
		store_read_end(r);
	}
}

typedef struct {
	int64_t v[3];
	int64_t got[3];
	int rows;
} each_ctx;

static void each_bind(void *ud, store_stmt_t *st, int i)
{
	store_bind_i64(st, 1, ((each_ctx *)ud)->v[i]);
}

static void each_row(void *ud, store_stmt_t *st, int i)
{
	each_ctx *x = ud;
	x->got[i] += store_col_i64(st, 0);
	x->rows++;
}

Test(store, each_runs_a_statement_per_parameter_set)
{
	static const char *q = "SELECT ? * 2 UNION ALL SELECT 1";
	store_conn_t *c = store_read_begin(fx.store);
	each_ctx x = {.v = {1, 5, 7}};
	cr_assert_eq(store_each(c, q, 3, each_bind, each_row, &x), 0, "%s", store_errmsg(c));
	cr_expect_eq(x.rows, 6);
	cr_expect(x.got[0] == 3 && x.got[1] == 11 && x.got[2] == 15);
	store_read_end(c);
}
