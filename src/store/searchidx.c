#include "store/searchidx.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "store/backend.h"

/* DESIGN
 * search_mark holds, per table, W: every row with rid <= W is in the index
 * as it is now, and nothing above W is. A search reads the index for rids
 * up to W and scans the rows above it (lists.c), so its answer is exact
 * wherever the index stands.
 *
 * A write transaction notes each table's largest rid when it begins (B)
 * and uses min(W, B) as W (rows above B do not exist, and their entries
 * went with them). SQLite gives a new row the largest rid + 1 (one writer
 * at a time), so the rows it inserts are those above B. At commit a small
 * write indexes them in one INSERT ... SELECT per table (when W = B) and W
 * becomes the largest rid; a large import defers them (searchidx_defer):
 * W stays, the import commits without building the index, and
 * searchidx_catch_up indexes the rows above W afterwards, in transactions
 * of their own that each move W (a crash in between leaves W where the
 * index is). Updates and deletes of rows up to W are queued by triggers
 * with the text the index holds (a contentless table cannot look it up):
 * at commit, for each queued rid, its first queued text leaves the index
 * and the row, if it still exists, is indexed again as it is now. What the
 * queue says of rows above W is ignored: they were never indexed. */

/* The largest rid of each table, then its W, in one statement. */
static const char *const max_sql =
	"SELECT (SELECT coalesce(max(rid), 0) FROM costs), (SELECT coalesce(max(rid), 0) FROM sales_orders), "
	"(SELECT coalesce(max(rid), 0) FROM invoices), (SELECT coalesce(max(rid), 0) FROM payments), "
	"(SELECT coalesce(max(rid), 0) FROM leads), "
	"(SELECT rid FROM search_mark WHERE tbl = 1), (SELECT rid FROM search_mark WHERE tbl = 2), "
	"(SELECT rid FROM search_mark WHERE tbl = 3), (SELECT rid FROM search_mark WHERE tbl = 4), "
	"(SELECT rid FROM search_mark WHERE tbl = 5)";

static const char *const set_w_sql = "UPDATE search_mark SET rid = ? WHERE tbl = ?";

/* Per table: the first queued text of each older rid leaves the index. */
static const char *const del_sql[] = {
	NULL,
	"INSERT INTO costs_fts(costs_fts, rowid, body) SELECT 'delete', rid, body FROM "
	"(SELECT rid, body, min(seq) FROM search_pending WHERE tbl = 1 AND rid <= ? GROUP BY rid)",
	"INSERT INTO sales_orders_fts(sales_orders_fts, rowid, body) SELECT 'delete', rid, body FROM "
	"(SELECT rid, body, min(seq) FROM search_pending WHERE tbl = 2 AND rid <= ? GROUP BY rid)",
	"INSERT INTO invoices_fts(invoices_fts, rowid, body) SELECT 'delete', rid, body FROM "
	"(SELECT rid, body, min(seq) FROM search_pending WHERE tbl = 3 AND rid <= ? GROUP BY rid)",
	"INSERT INTO payments_fts(payments_fts, rowid, body) SELECT 'delete', rid, body FROM "
	"(SELECT rid, body, min(seq) FROM search_pending WHERE tbl = 4 AND rid <= ? GROUP BY rid)",
	"INSERT INTO leads_fts(leads_fts, rowid, body) SELECT 'delete', rid, body FROM "
	"(SELECT rid, body, min(seq) FROM search_pending WHERE tbl = 5 AND rid <= ? GROUP BY rid)",
};

#define COSTS_BODY "id || char(31) || category || char(31) || vendor || char(31) || description"
#define SALES_BODY "id || char(31) || customer"
#define INVOICES_BODY "id || char(31) || number || char(31) || customer || char(31) || customer_id"
#define PAYMENTS_BODY "id || char(31) || payer || char(31) || reference || char(31) || customer_id"
#define LEADS_BODY "id || char(31) || name || char(31) || creator || char(31) || mobile || char(31) || source"

/* Per table: the older rows queued, as they are now. */
static const char *const again_sql[] = {
	NULL,
	"INSERT INTO costs_fts(rowid, body) SELECT rid, " COSTS_BODY " FROM costs "
	"WHERE rid IN (SELECT rid FROM search_pending WHERE tbl = 1 AND rid <= ?)",
	"INSERT INTO sales_orders_fts(rowid, body) SELECT rid, " SALES_BODY " FROM sales_orders "
	"WHERE rid IN (SELECT rid FROM search_pending WHERE tbl = 2 AND rid <= ?)",
	"INSERT INTO invoices_fts(rowid, body) SELECT rid, " INVOICES_BODY " FROM invoices "
	"WHERE rid IN (SELECT rid FROM search_pending WHERE tbl = 3 AND rid <= ?)",
	"INSERT INTO payments_fts(rowid, body) SELECT rid, " PAYMENTS_BODY " FROM payments "
	"WHERE rid IN (SELECT rid FROM search_pending WHERE tbl = 4 AND rid <= ?)",
	"INSERT INTO leads_fts(rowid, body) SELECT rid, " LEADS_BODY " FROM leads "
	"WHERE rid IN (SELECT rid FROM search_pending WHERE tbl = 5 AND rid <= ?)",
};

/* Per table: the rows in a rid range (new ones, or the catch-up's). */
static const char *const new_sql[] = {
	NULL,
	"INSERT INTO costs_fts(rowid, body) SELECT rid, " COSTS_BODY " FROM costs WHERE rid > ? AND rid <= ?",
	"INSERT INTO sales_orders_fts(rowid, body) SELECT rid, " SALES_BODY
	" FROM sales_orders WHERE rid > ? AND rid <= ?",
	"INSERT INTO invoices_fts(rowid, body) SELECT rid, " INVOICES_BODY " FROM invoices WHERE rid > ? AND rid <= ?",
	"INSERT INTO payments_fts(rowid, body) SELECT rid, " PAYMENTS_BODY " FROM payments WHERE rid > ? AND rid <= ?",
	"INSERT INTO leads_fts(rowid, body) SELECT rid, " LEADS_BODY " FROM leads WHERE rid > ? AND rid <= ?",
};

/* PostgreSQL's: its t_fts tables hold the rows' text (searchidx.h). */
static const char *const new_pg_sql[] = {
	NULL,
	"INSERT INTO costs_fts(rowid, body) SELECT rid, " SEARCH_PG_BODY_COSTS " FROM costs WHERE rid > ? AND rid <= ?",
	"INSERT INTO sales_orders_fts(rowid, body) SELECT rid, " SEARCH_PG_BODY_SALES_ORDERS
	" FROM sales_orders WHERE rid > ? AND rid <= ?",
	"INSERT INTO invoices_fts(rowid, body) SELECT rid, " SEARCH_PG_BODY_INVOICES
	" FROM invoices WHERE rid > ? AND rid <= ?",
	"INSERT INTO payments_fts(rowid, body) SELECT rid, " SEARCH_PG_BODY_PAYMENTS
	" FROM payments WHERE rid > ? AND rid <= ?",
	"INSERT INTO leads_fts(rowid, body) SELECT rid, " SEARCH_PG_BODY_LEADS " FROM leads WHERE rid > ? AND rid <= ?",
};

static const char *const tables[] = {NULL, "costs", "sales_orders", "invoices", "payments", "leads"};

static bool is_pg(store_conn_t *w)
{
	return !strcmp(store_backend_name(store_of(w)), "postgresql");
}

/* Runs one statement (with a, then b, as its parameters when they are not
 * negative); false on a store error. */
static bool run(store_conn_t *w, const char *sql, int64_t a, int64_t b)
{
	store_stmt_t *st = store_prepare(w, sql);
	if (!st)
		return false;
	if (a >= 0)
		store_bind_i64(st, 1, a);
	if (b >= 0)
		store_bind_i64(st, 2, b);
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW)
		;
	store_reset(st);
	return rc == STORE_DONE;
}

/* The largest rid of each table into max[1..5] and its W into w[1..5]
 * (either may be NULL); false on a store error. */
static bool max_rids(store_conn_t *c, int64_t *max, int64_t *w)
{
	store_stmt_t *st = store_prepare(c, max_sql);
	bool ok = st && store_step(st) == STORE_ROW;
	for (int t = 1; ok && t <= 5; t++) {
		if (max)
			max[t] = store_col_i64(st, t - 1);
		if (w)
			w[t] = store_col_i64(st, t + 4);
	}
	store_reset(st);
	return ok;
}

const char *searchidx_pg_body(const char *t, size_t tlen)
{
	static const char *const body[][2] = {
		{"costs", SEARCH_PG_BODY_COSTS},       {"sales_orders", SEARCH_PG_BODY_SALES_ORDERS},
		{"invoices", SEARCH_PG_BODY_INVOICES}, {"payments", SEARCH_PG_BODY_PAYMENTS},
		{"leads", SEARCH_PG_BODY_LEADS},
	};
	for (size_t i = 0; i < sizeof body / sizeof body[0]; i++)
		if (strlen(body[i][0]) == tlen && !memcmp(body[i][0], t, tlen))
			return body[i][1];
	return NULL;
}

/* The statement indexing table t's rows in a rid range. */
static const char *new_rows_sql(store_conn_t *w, int t)
{
	return is_pg(w) ? new_pg_sql[t] : new_sql[t];
}

int searchidx_begin(store_conn_t *w)
{
	w->search_marked = w->search_defer = false;
	if (!max_rids(w, w->search_mark, w->search_w0))
		return -1;
	for (int t = 1; t <= 5; t++) {
		int64_t b = w->search_mark[t];
		w->search_w[t] = w->search_upto[t] = w->search_w0[t] < b ? w->search_w0[t] : b;
	}
	w->search_marked = true;
	return 0;
}

void searchidx_defer(store_conn_t *w)
{
	w->search_defer = true;
}

int searchidx_sync(store_conn_t *w)
{
	static const char *queued_sql = "SELECT DISTINCT tbl FROM search_pending";
	static const char *clear = "DELETE FROM search_pending";
	if (!w->search_marked)
		return 0;
	bool queued[6] = {false}, any = false;
	/* PostgreSQL's triggers keep older rows' entries themselves */
	store_stmt_t *st = is_pg(w) ? NULL : store_prepare(w, queued_sql);
	if (!st && !is_pg(w))
		return -1;
	store_status rc = STORE_DONE;
	while (st && (rc = store_step(st)) == STORE_ROW) {
		int64_t t = store_col_i64(st, 0);
		if (t >= 1 && t <= 5)
			queued[t] = any = true;
	}
	if (st)
		store_reset(st);
	if (rc != STORE_DONE)
		return -1;
	int64_t now[6];
	if (!max_rids(w, now, NULL))
		return -1;
	for (int t = 1; t <= 5; t++) {
		int64_t wb = w->search_w[t], b = w->search_mark[t], upto = w->search_upto[t];
		if (queued[t] && (!run(w, del_sql[t], wb, -1) || !run(w, again_sql[t], wb, -1)))
			return -1;
		if (!w->search_defer && upto == b && now[t] > b) {
			if (!run(w, new_rows_sql(w, t), b, now[t]))
				return -1;
			upto = now[t];
		}
		if (upto != w->search_w0[t] && !run(w, set_w_sql, upto, t))
			return -1;
	}
	return !any || run(w, clear, -1, -1) ? 0 : -1;
}

int searchidx_restart(store_conn_t *w)
{
	static const char *const clear[] = {NULL, "DELETE FROM costs_fts", "DELETE FROM sales_orders_fts",
	                                    "DELETE FROM invoices_fts", "DELETE FROM payments_fts",
	                                    "DELETE FROM leads_fts"};
	if (!w->search_marked || !is_pg(w))
		return 0;
	for (int t = 1; t <= 5; t++) {
		if (!run(w, clear[t], -1, -1))
			return -1;
		w->search_upto[t] = 0;
	}
	w->search_defer = true;
	return 0;
}

int searchidx_behind(store_conn_t *c, int64_t *rows)
{
	*rows = 0;
	int64_t max[6], w[6];
	if (!max_rids(c, max, w))
		return -1;
	for (int t = 1; t <= 5; t++)
		if (max[t] > w[t])
			*rows += max[t] - w[t];
	return *rows > 0;
}

/* PostgreSQL's GIN inserts cost several times FTS5's per row: fewer rows
 * per transaction keep other writers' wait for the lock well under its
 * timeout (5 s) on a loaded server. */
#define PG_CATCH_UP_ROWS 10000

int searchidx_catch_up(store_t *s, int64_t budget, char *err, size_t errlen)
{
	if (!strcmp(store_backend_name(s), "postgresql") && budget > PG_CATCH_UP_ROWS)
		budget = PG_CATCH_UP_ROWS;
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return -1;
	bool more = false;
	for (int t = 1; t <= 5; t++) {
		int64_t from = w->search_w[t], b = w->search_mark[t];
		if (from >= b)
			continue;
		if (budget <= 0) {
			more = true;
			continue;
		}
		int64_t to = b - from > budget ? from + budget : b;
		if (!run(w, new_rows_sql(w, t), from, to)) {
			snprintf(err, errlen, "indexing %s for search: %s", tables[t], store_errmsg(w));
			store_write_rollback(w);
			return -1;
		}
		w->search_upto[t] = to;
		budget -= to - from;
		more = more || to < b;
	}
	if (store_write_commit(w, err, errlen) != 0)
		return -1;
	return more ? 1 : 0;
}

bool searchidx_upto(store_conn_t *c, const char *table, int64_t *upto)
{
	static const char *sql = "SELECT rid FROM search_mark WHERE tbl = ?";
	*upto = INT64_MAX;
	int t = 1;
	while (t <= 5 && strcmp(tables[t], table))
		t++;
	if (t > 5)
		return false;
	store_stmt_t *st = store_prepare(c, sql);
	if (!st)
		return false;
	store_bind_i64(st, 1, t);
	bool ok = store_step(st) == STORE_ROW;
	if (ok)
		*upto = store_col_i64(st, 0);
	store_reset(st);
	return ok;
}

/* Rows indexed per catch-up transaction: long enough that FTS5 flushes
 * its buffer rarely, short enough that a request's write (which gives up
 * after store.write_wait_ms) waits well under a second for the lock even
 * on a loaded machine: 50,000 held it for seconds under load. */
#define CATCH_UP_ROWS 10000

/* Rows behind, or -1 when the store could not be read. */
static int64_t rows_behind(store_t *s)
{
	store_conn_t *r = store_read_begin(s);
	if (!r)
		return -1;
	int64_t rows;
	int rc = searchidx_behind(r, &rows);
	store_read_end(r);
	return rc < 0 ? -1 : rows;
}

static void *indexer_main(void *arg)
{
	store_t *s = arg;
	bool logged = false;
	while (!atomic_load(&s->indexer_stop)) {
		int64_t behind = rows_behind(s);
		if (behind > 0) {
			char err[300];
			if (!logged && behind >= CATCH_UP_ROWS)
				log_info("search index: indexing %lld new rows in the background", (long long)behind);
			logged = true;
			int rc = searchidx_catch_up(s, CATCH_UP_ROWS, err, sizeof err);
			if (rc < 0)
				log_error("search index: %s (tried again in a second)", err);
			if (rc == 1) {
				usleep(2000); /* the lock's other waiters go first */
				continue;
			}
		} else {
			logged = false;
		}
		/* a second between looks, stopping early on store_close */
		for (int i = 0; i < 20 && !atomic_load(&s->indexer_stop); i++)
			usleep(50000);
	}
	return NULL;
}

void searchidx_indexer_start(store_t *s)
{
	if (s->indexing)
		return;
	atomic_store(&s->indexer_stop, false);
	s->indexing = pthread_create(&s->indexer_tid, NULL, indexer_main, s) == 0;
}

void searchidx_indexer_stop(store_t *s)
{
	if (!s->indexing)
		return;
	atomic_store(&s->indexer_stop, true);
	pthread_join(s->indexer_tid, NULL);
	s->indexing = false;
}
