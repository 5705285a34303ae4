#include "store/searchidx.h"

#include <stdbool.h>
#include <string.h>

#include "store/backend.h"

/* DESIGN
 * Rows inserted by a transaction are exactly those above the largest rid
 * each table had when it began (SQLite gives a new row the largest rid +
 * 1; one writer at a time): at commit one INSERT ... SELECT per table
 * indexes them from the table itself, so no trigger runs per new row, and
 * FTS5 flushes its buffer once per table and commit, not once per row.
 * Updates and deletes of older rows are queued by triggers with the text
 * the index holds (a contentless table cannot look it up). At commit, for
 * each queued rid, its first queued text is deleted from the index and
 * the row, if it still exists, is indexed again as it is now. Rows above
 * the mark were never indexed: what the queue says of them is ignored. */

/* The largest rid of each table, in one statement (run twice a write). */
static const char *const max_sql =
	"SELECT (SELECT coalesce(max(rid), 0) FROM costs), (SELECT coalesce(max(rid), 0) FROM sales_orders), "
	"(SELECT coalesce(max(rid), 0) FROM invoices), (SELECT coalesce(max(rid), 0) FROM payments), "
	"(SELECT coalesce(max(rid), 0) FROM leads)";

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

/* Per table: the rows this transaction inserted. */
static const char *const new_sql[] = {
	NULL,
	"INSERT INTO costs_fts(rowid, body) SELECT rid, " COSTS_BODY " FROM costs WHERE rid > ?",
	"INSERT INTO sales_orders_fts(rowid, body) SELECT rid, " SALES_BODY " FROM sales_orders WHERE rid > ?",
	"INSERT INTO invoices_fts(rowid, body) SELECT rid, " INVOICES_BODY " FROM invoices WHERE rid > ?",
	"INSERT INTO payments_fts(rowid, body) SELECT rid, " PAYMENTS_BODY " FROM payments WHERE rid > ?",
	"INSERT INTO leads_fts(rowid, body) SELECT rid, " LEADS_BODY " FROM leads WHERE rid > ?",
};

static bool is_pg(store_conn_t *w)
{
	return !strcmp(store_backend_name(store_of(w)), "postgresql");
}

/* Runs one statement (with arg as its parameter unless arg < 0); false on
 * a store error. */
static bool run(store_conn_t *w, const char *sql, int64_t arg)
{
	store_stmt_t *st = store_prepare(w, sql);
	if (!st)
		return false;
	if (arg >= 0)
		store_bind_i64(st, 1, arg);
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW)
		;
	store_reset(st);
	return rc == STORE_DONE;
}

/* The largest rid of each table into max[1..5]; false on a store error. */
static bool max_rids(store_conn_t *w, int64_t *max)
{
	store_stmt_t *st = store_prepare(w, max_sql);
	bool ok = st && store_step(st) == STORE_ROW;
	for (int t = 1; ok && t <= 5; t++)
		max[t] = store_col_i64(st, t - 1);
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

int searchidx_begin(store_conn_t *w)
{
	w->search_marked = false;
	if (is_pg(w))
		return 0;
	if (!max_rids(w, w->search_mark))
		return -1;
	w->search_marked = true;
	return 0;
}

int searchidx_sync(store_conn_t *w)
{
	static const char *tables = "SELECT DISTINCT tbl FROM search_pending";
	static const char *clear = "DELETE FROM search_pending";
	if (!w->search_marked)
		return 0; /* PostgreSQL: its trigram indexes are kept by the table */
	store_stmt_t *st = store_prepare(w, tables);
	if (!st)
		return -1;
	bool queued[6] = {false}, any = false;
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		int64_t t = store_col_i64(st, 0);
		if (t >= 1 && t <= 5)
			queued[t] = any = true;
	}
	store_reset(st);
	if (rc != STORE_DONE)
		return -1;
	int64_t now[6];
	if (!max_rids(w, now))
		return -1;
	for (int t = 1; t <= 5; t++) {
		int64_t mark = w->search_mark[t];
		if (queued[t] && (!run(w, del_sql[t], mark) || !run(w, again_sql[t], mark)))
			return -1;
		if (now[t] > mark && !run(w, new_sql[t], mark))
			return -1;
	}
	return !any || run(w, clear, -1) ? 0 : -1;
}
