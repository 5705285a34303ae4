#include "store/searchidx.h"

#include <stdbool.h>

/* DESIGN
 * One INSERT ... SELECT per FTS table moves every queued change in order
 * (seq): a NULL command column is an insert, 'delete' removes the entry
 * whose exact old text the trigger kept (a contentless table cannot look it
 * up). FTS5 then flushes its buffer once per table and commit, not once per
 * row. */

static const char *const apply_sql[] = {
	"INSERT INTO costs_fts(costs_fts, rowid, body) SELECT CASE WHEN del THEN 'delete' END, rid, body "
	"FROM search_pending WHERE tbl = 1 ORDER BY seq",
	"INSERT INTO sales_orders_fts(sales_orders_fts, rowid, body) SELECT CASE WHEN del THEN 'delete' END, rid, body "
	"FROM search_pending WHERE tbl = 2 ORDER BY seq",
	"INSERT INTO invoices_fts(invoices_fts, rowid, body) SELECT CASE WHEN del THEN 'delete' END, rid, body "
	"FROM search_pending WHERE tbl = 3 ORDER BY seq",
	"INSERT INTO payments_fts(payments_fts, rowid, body) SELECT CASE WHEN del THEN 'delete' END, rid, body "
	"FROM search_pending WHERE tbl = 4 ORDER BY seq",
	"INSERT INTO leads_fts(leads_fts, rowid, body) SELECT CASE WHEN del THEN 'delete' END, rid, body "
	"FROM search_pending WHERE tbl = 5 ORDER BY seq",
};

/* Runs one statement to completion; false on a store error. */
static bool run(store_conn_t *w, const char *sql)
{
	store_stmt_t *st = store_prepare(w, sql);
	if (!st)
		return false;
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW)
		;
	store_reset(st);
	return rc == STORE_DONE;
}

int searchidx_sync(store_conn_t *w)
{
	static const char *tables = "SELECT DISTINCT tbl FROM search_pending";
	static const char *clear = "DELETE FROM search_pending";
	store_stmt_t *st = store_prepare(w, tables);
	if (!st)
		return -1;
	bool want[6] = {false}, any = false;
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		int64_t t = store_col_i64(st, 0);
		if (t >= 1 && t <= 5)
			want[t] = any = true;
	}
	store_reset(st);
	if (rc != STORE_DONE)
		return -1;
	if (!any)
		return 0;
	for (int t = 1; t <= 5; t++)
		if (want[t] && !run(w, apply_sql[t - 1]))
			return -1;
	return run(w, clear) ? 0 : -1;
}
