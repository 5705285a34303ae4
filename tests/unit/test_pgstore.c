/* Tests of src/store/pg.c on a real PostgreSQL server: the bulk path
 * (COPY into a staging table, one INSERT ... SELECT) that imports use,
 * and the store's fault reporting. BRISK_TEST_PG_URL names a server
 * (postgresql://user@host:port, scripts/test.sh sets it in its PostgreSQL
 * pass); each test creates its own database there. Without it every test
 * is skipped. */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static store_t *s;
static int64_t org;
static char db_url[600];

/* A fresh database on the test server; its URL in url. */
static bool fresh_db(char *url, size_t n)
{
	const char *base = getenv("BRISK_TEST_PG_URL");
	if (!base || !*base)
		return false;
	static int seq;
	char name[64], admin[512], sql[128];
	snprintf(name, sizeof name, "t_pgstore_%d_%d", (int)getpid(), ++seq);
	snprintf(admin, sizeof admin, "%s/postgres", base);
	PGconn *pc = PQconnectdb(admin);
	cr_assert_eq(PQstatus(pc), CONNECTION_OK, "%s", PQerrorMessage(pc));
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
	PGresult *r = PQexec(pc, sql);
	cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(pc));
	PQclear(r);
	PQfinish(pc);
	snprintf(url, n, "%s/%s", base, name);
	return true;
}

static void setup(void)
{
	char err[400] = "";
	if (!fresh_db(db_url, sizeof db_url))
		return;
	store_opts o = {.url = db_url};
	s = store_open("/nonexistent-unused", &o, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	org = store_org_id(s, "acme", true, err, sizeof err);
	cr_assert_geq(org, 0, "%s", err);
}

static void teardown(void)
{
	store_close(s);
	s = NULL;
}

TestSuite(pgstore, .init = setup, .fini = teardown);

#define NEED_PG()                                                                                       \
	do {                                                                                                \
		if (!s)                                                                                         \
			cr_skip_test("BRISK_TEST_PG_URL is not set (scripts/test.sh sets it in its PostgreSQL pass)"); \
	} while (0)

static const char *const ins =
	"INSERT INTO costs(org, id, date, category, amount, vendor, description) VALUES(?,?,?,?,?,?,?) "
	"ON CONFLICT(org, id) DO NOTHING";

static void add(store_batch_t *b, const char *id, int64_t amount, const char *desc)
{
	store_stmt_t *st = store_batch_stmt(b);
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, id, strlen(id));
	store_bind_i64(st, 3, 19000);
	store_bind_text(st, 4, "Rent", 4);
	store_bind_i64(st, 5, amount);
	store_bind_text(st, 6, "", 0);
	store_bind_text(st, 7, desc, strlen(desc));
	store_batch_row(b);
}

Test(pgstore, batch_tells_which_rows_went_in)
{
	NEED_PG();
	char err[400] = "";
	store_conn_t *w = store_write_begin(s, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	store_batch_t *b = store_batch_new(w, ins);
	cr_assert_not_null(b, "PostgreSQL has a bulk path");
	add(b, "a", 100, "first");
	cr_assert_eq(store_batch_run(b, NULL, err, sizeof err), 0, "%s", err);
	/* b new, a existed, c new, b again (its twin went in first), odd text */
	add(b, "b", 200, "tab\there");
	add(b, "a", 999, "replaced?");
	add(b, "c", 300, "back\\slash\nnew line \xc3\xa9");
	add(b, "b", 201, "twin");
	cr_assert_eq(store_batch_rows(b), 4);
	bool got[4] = {true, true, true, true};
	cr_assert_eq(store_batch_run(b, got, err, sizeof err), 0, "%s", err);
	cr_expect(got[0] && !got[1] && got[2] && !got[3], "inserted: %d %d %d %d", got[0], got[1], got[2], got[3]);
	cr_assert_eq(store_batch_rows(b), 0, "a run empties the batch");
	store_batch_free(b);
	cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);

	store_conn_t *c = store_read_begin(s);
	static const char *q = "SELECT id, amount, description FROM costs WHERE org = ? ORDER BY id";
	store_stmt_t *st = store_prepare(c, q);
	store_bind_i64(st, 1, org);
	const char *want_id[] = {"a", "b", "c"};
	const int64_t want_amt[] = {100, 200, 300};
	const char *want_desc[] = {"first", "tab\there", "back\\slash\nnew line \xc3\xa9"};
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(store_step(st), STORE_ROW, "%s", store_errmsg(c));
		cr_expect_str_eq(store_col_text(st, 0, NULL), want_id[i]);
		cr_expect_eq(store_col_i64(st, 1), want_amt[i]);
		cr_expect_str_eq(store_col_text(st, 2, NULL), want_desc[i], "text goes through COPY unchanged");
	}
	cr_expect_eq(store_step(st), STORE_DONE);
	store_reset(st);
	store_read_end(c);
}

Test(pgstore, batch_upsert_sums)
{
	NEED_PG();
	static const char *up = "INSERT INTO rollup(org, metric, day, dim, cnt, total) VALUES(?,?,?,?,?,?) "
	                        "ON CONFLICT(org, metric, day, dim) DO UPDATE SET cnt = rollup.cnt + excluded.cnt, "
	                        "total = rollup.total + excluded.total";
	char err[400] = "";
	for (int round = 0; round < 2; round++) {
		store_conn_t *w = store_write_begin(s, err, sizeof err);
		cr_assert_not_null(w, "%s", err);
		store_batch_t *b = store_batch_new(w, up);
		cr_assert_not_null(b);
		for (int d = 0; d < 3; d++) {
			store_stmt_t *st = store_batch_stmt(b);
			store_bind_i64(st, 1, org);
			store_bind_i64(st, 2, 900);
			store_bind_i64(st, 3, 20000 + d);
			store_bind_text(st, 4, "", 0);
			store_bind_i64(st, 5, 1);
			store_bind_i64(st, 6, 10 * (d + 1));
			store_batch_row(b);
		}
		cr_assert_eq(store_batch_run(b, NULL, err, sizeof err), 0, "%s", err);
		store_batch_free(b);
		cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);
	}
	store_conn_t *c = store_read_begin(s);
	static const char *q = "SELECT sum(cnt), sum(total) FROM rollup WHERE org = ? AND metric = 900";
	store_stmt_t *st = store_prepare(c, q);
	store_bind_i64(st, 1, org);
	cr_assert_eq(store_step(st), STORE_ROW);
	cr_expect_eq(store_col_i64(st, 0), 6);
	cr_expect_eq(store_col_i64(st, 1), 120);
	store_reset(st);
	store_read_end(c);
}

Test(pgstore, a_failed_batch_aborts_with_a_reason)
{
	NEED_PG();
	char err[400] = "";
	store_conn_t *w = store_write_begin(s, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	store_batch_t *b = store_batch_new(w, ins);
	store_stmt_t *st = store_batch_stmt(b);
	store_bind_i64(st, 1, org + 1000); /* no such org: the foreign key refuses */
	store_bind_text(st, 2, "x", 1);
	store_bind_i64(st, 3, 19000);
	store_bind_text(st, 4, "Rent", 4);
	store_bind_i64(st, 5, 1);
	store_bind_text(st, 6, "", 0);
	store_bind_text(st, 7, "", 0);
	store_batch_row(b);
	cr_expect_neq(store_batch_run(b, NULL, err, sizeof err), 0);
	cr_expect(strstr(err, "foreign key") != NULL, "%s", err);
	store_batch_free(b);
	store_write_rollback(w);
	cr_expect(store_reachable(s, err, sizeof err), "a refused row is not an outage");
}

Test(pgstore, unreachable_server_is_one_clear_reason)
{
	NEED_PG();
	char err[400] = "";
	store_opts o = {.url = "postgresql://brisk@127.0.0.1:1/nothing"};
	store_t *other = store_open("/nonexistent-unused", &o, err, sizeof err);
	cr_assert_null(other);
	cr_expect(strstr(err, "cannot connect to PostgreSQL (127.0.0.1:1/nothing)") != NULL, "%s", err);
	cr_expect_null(strchr(err, '\n'), "one line: %s", err);
	cr_expect(store_reachable(s, err, sizeof err), "the other store is fine");
	cr_expect_eq(store_faults(s), 0);
}

typedef struct {
	pthread_mutex_t mu;
	int64_t org;
	unsigned mask;
} heard;

static void on_outside(void *ud, int64_t o, unsigned mask)
{
	heard *h = ud;
	pthread_mutex_lock(&h->mu);
	if (o == org) {
		h->org = o;
		h->mask |= mask;
	}
	pthread_mutex_unlock(&h->mu);
}

Test(pgstore, another_instance_hears_a_commit)
{
	NEED_PG();
	char err[400] = "";
	store_opts o = {.url = db_url};
	store_t *other = store_open("/nonexistent-unused", &o, err, sizeof err);
	cr_assert_not_null(other, "%s", err);
	heard h = {.mu = PTHREAD_MUTEX_INITIALIZER};
	store_on_outside_change(other, on_outside, &h);
	store_watch_versions(other, 0);
	uint64_t before = store_version(other, org, TBL_COSTS);
	store_conn_t *w = store_write_begin(s, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	store_write_touch(w, org, TBL_BIT(TBL_COSTS));
	cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);
	/* told by the watcher (NOTIFY, or its slow look): wait for it */
	unsigned mask = 0;
	for (int i = 0; i < 600 && !(mask & TBL_BIT(TBL_COSTS)); i++) {
		usleep(50000);
		pthread_mutex_lock(&h.mu);
		mask = h.mask;
		pthread_mutex_unlock(&h.mu);
	}
	cr_expect(mask & TBL_BIT(TBL_COSTS), "the other store heard the costs change (mask %x)", mask);
	cr_expect_gt(store_version(other, org, TBL_COSTS), before, "and knows its version");
	store_close(other);
}

typedef struct {
	int64_t div[4];
	int64_t got[4];
	int rows;
} each_ctx;

static void each_bind(void *ud, store_stmt_t *st, int i)
{
	store_bind_i64(st, 1, ((each_ctx *)ud)->div[i]);
}

static void each_row(void *ud, store_stmt_t *st, int i)
{
	each_ctx *x = ud;
	x->got[i] = store_col_i64(st, 0);
	x->rows++;
}

Test(pgstore, each_runs_many_sets_in_one_go)
{
	NEED_PG();
	static const char *q = "SELECT 100 / ?";
	store_conn_t *c = store_read_begin(s); /* its BEGIN goes in the same pipeline */
	each_ctx x = {.div = {1, 2, 4, 5}};
	cr_assert_eq(store_each(c, q, 4, each_bind, each_row, &x), 0, "%s", store_errmsg(c));
	cr_expect_eq(x.rows, 4);
	cr_expect(x.got[0] == 100 && x.got[1] == 50 && x.got[2] == 25 && x.got[3] == 20);
	store_read_end(c);

	c = store_read_begin(s);
	each_ctx y = {.div = {1, 0, 4, 5}};
	cr_expect_eq(store_each(c, q, 4, each_bind, each_row, &y), -1, "a failing set fails the run");
	cr_expect(strstr(store_errmsg(c), "division by zero") != NULL, "%s", store_errmsg(c));
	cr_expect_eq(y.rows, 1, "the sets before it were read, none after");
	store_read_end(c);

	c = store_read_begin(s); /* the connection is fine afterwards */
	each_ctx z = {.div = {10, 20}};
	cr_assert_eq(store_each(c, q, 2, each_bind, each_row, &z), 0, "%s", store_errmsg(c));
	cr_expect(z.got[0] == 10 && z.got[1] == 5);
	store_read_end(c);
	cr_expect(store_reachable(s, NULL, 0), "a failed statement is not an outage");
}

Test(pgstore, each_many_runs_several_statements_in_one_go)
{
	NEED_PG();
	static const char *q1 = "SELECT 100 / ?", *q2 = "SELECT ? * 3";
	store_conn_t *c = store_read_begin(s);
	each_ctx x = {.div = {4, 5}}, y = {.div = {7}};
	store_each_t v[] = {{q1, 2, each_bind, each_row, &x}, {q2, 1, each_bind, each_row, &y}};
	cr_assert_eq(store_each_many(c, v, 2), 0, "%s", store_errmsg(c));
	cr_expect(x.rows == 2 && x.got[0] == 25 && x.got[1] == 20);
	cr_expect(y.rows == 1 && y.got[0] == 21);
	store_read_end(c);
}

/* Another process on the same database (a second store is a second set
 * of sessions, as another instance's). */
static store_t *second(void)
{
	char err[400] = "";
	store_opts o = {.url = db_url};
	store_t *t = store_open("/nonexistent-unused", &o, err, sizeof err);
	cr_assert_not_null(t, "%s", err);
	return t;
}

Test(pgstore, locks_are_exclusive_across_instances_and_die_with_them)
{
	NEED_PG();
	store_t *t = second();
	cr_assert(store_has_locks(s));
	cr_assert_eq(store_lock_try(s, STORE_LOCK_TASK, 42), 1);
	cr_expect_eq(store_lock_try(s, STORE_LOCK_TASK, 42), 0, "not reentrant: another caller here is told no");
	cr_expect_eq(store_lock_try(t, STORE_LOCK_TASK, 42), 0, "held by the other instance");
	cr_expect_eq(store_lock_try(t, STORE_LOCK_CACHE, 42), 1, "namespaces are apart");
	cr_expect_eq(store_lock_held(s, STORE_LOCK_TASK, 42), 1);
	store_lock_release(s, STORE_LOCK_TASK, 42);
	cr_expect_eq(store_lock_held(s, STORE_LOCK_TASK, 42), 0);
	cr_expect_eq(store_lock_try(t, STORE_LOCK_TASK, 42), 1, "free once released");
	/* the holder goes away (its sessions close): the lock is free */
	store_close(t);
	/* the server lets go when the session's backend has ended, a moment
	 * after the connection closed */
	int got = 0;
	for (int i = 0; i < 500 && got != 1; i++) {
		got = store_lock_try(s, STORE_LOCK_TASK, 42);
		if (got != 1)
			usleep(10000);
	}
	cr_expect_eq(got, 1, "free once its process is gone");
	cr_expect_eq(store_lock_try(s, STORE_LOCK_CACHE, 42), 1);
}

Test(pgstore, shared_cache_entries_are_seen_by_every_instance)
{
	NEED_PG();
	store_t *t = second();
	const char key[] = {'k', 0, 1, 2}, val[] = {0, 'v', (char)0xff, 0};
	size_t n = 0;
	cr_expect_null(store_shared_get(s, key, sizeof key, &n));
	store_shared_put(s, key, sizeof key, val, sizeof val, 60000);
	/* a put is not waited for: the next use of s's session reads its answer */
	free(store_shared_get(s, key, sizeof key, &n));
	char *got = store_shared_get(t, key, sizeof key, &n);
	cr_assert_not_null(got, "put by one instance, read by another");
	cr_expect_eq(n, sizeof val);
	cr_expect(!memcmp(got, val, sizeof val), "bytes unchanged (binary)");
	free(got);
	store_shared_put(s, key, sizeof key, val, sizeof val, 0);
	cr_expect_null(store_shared_get(s, key, sizeof key, &n));
	cr_expect_null(store_shared_get(t, key, sizeof key, &n), "expired");
	store_close(t);
}
