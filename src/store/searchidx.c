#include "store/searchidx.h"

#include <stdbool.h>
#include <string.h>

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

int searchidx_sync(store_conn_t *w)
{
	/* PostgreSQL's trigram indexes are ordinary indexes: no queue. */
	if (!strcmp(store_backend_name(store_of(w)), "postgresql"))
		return 0;
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
