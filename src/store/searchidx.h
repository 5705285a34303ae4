/* searchidx: keeps the FTS5 text-search tables (schema migrations 9, 15,
 * 18) in step with the rows: inside each write transaction, the rows it
 * inserted and the changes the triggers queued in search_pending; after a
 * large import, in transactions of their own (the catch-up). */
#ifndef BRISK_SEARCHIDX_H
#define BRISK_SEARCHIDX_H

#include "store/store.h"

/* PostgreSQL's text-search index (migration 9's .pg, pg_trgm): a GIN
 * trigram index per kind on this expression of the searched columns; the
 * dialect (dialect.c) turns SQLite's `t_fts MATCH ?15` into a LIKE on the
 * same expression, so the planner can use the index. */
#define SEARCH_PG_SEP " || chr(31) || "
#define SEARCH_PG_COL(c) "coalesce(" c ", '')"
#define SEARCH_PG_BODY_COSTS                                                                                 \
	"lower(" SEARCH_PG_COL("id") SEARCH_PG_SEP SEARCH_PG_COL("category") SEARCH_PG_SEP SEARCH_PG_COL("vendor") \
	SEARCH_PG_SEP SEARCH_PG_COL("description") ")"
#define SEARCH_PG_BODY_SALES_ORDERS "lower(" SEARCH_PG_COL("id") SEARCH_PG_SEP SEARCH_PG_COL("customer") ")"
#define SEARCH_PG_BODY_INVOICES                                                                              \
	"lower(" SEARCH_PG_COL("id") SEARCH_PG_SEP SEARCH_PG_COL("number") SEARCH_PG_SEP SEARCH_PG_COL("customer")  \
	SEARCH_PG_SEP SEARCH_PG_COL("customer_id") ")"
#define SEARCH_PG_BODY_PAYMENTS                                                                              \
	"lower(" SEARCH_PG_COL("id") SEARCH_PG_SEP SEARCH_PG_COL("payer") SEARCH_PG_SEP SEARCH_PG_COL("reference")  \
	SEARCH_PG_SEP SEARCH_PG_COL("customer_id") ")"
#define SEARCH_PG_BODY_LEADS                                                                                 \
	"lower(" SEARCH_PG_COL("id") SEARCH_PG_SEP SEARCH_PG_COL("name") SEARCH_PG_SEP SEARCH_PG_COL("creator")      \
	SEARCH_PG_SEP SEARCH_PG_COL("mobile") SEARCH_PG_SEP SEARCH_PG_COL("source") ")"

/* The expression above for table t ("costs", ...), or NULL. */
const char *searchidx_pg_body(const char *t, size_t tlen);

/* Called by store_write_begin: notes the largest rid of each table (the
 * rows above it at commit are the transaction's new ones) and how far the
 * index goes (PostgreSQL: nothing). 0 or -1. */
int searchidx_begin(store_conn_t *w);

/* Leaves the rows the write transaction w inserts out of the index at its
 * commit (a large import): searchidx_catch_up indexes them afterwards,
 * and searches scan them until then. Changes to older rows still reach
 * the index at commit. */
void searchidx_defer(store_conn_t *w);

/* Called by store_write_commit before COMMIT (PostgreSQL: nothing to do,
 * its indexes are kept by the table writes). Returns 0, or -1 on a store
 * error (store_errmsg tells; the caller rolls back). Cheap when nothing is
 * queued. */
int searchidx_sync(store_conn_t *w);

/* In c's snapshot: rows of the searched tables that are not indexed yet
 * (an upper bound, by rid) into *rows. 1 some, 0 none (always on
 * PostgreSQL), -1 on a store error. */
int searchidx_behind(store_conn_t *c, int64_t *rows);

/* Indexes up to budget rows that are behind, in one write transaction of
 * its own. 1 = more are left, 0 = the index is up to date, -1 = a store
 * error (in err; nothing changed). */
int searchidx_catch_up(store_t *s, int64_t budget, char *err, size_t errlen);

/* In c's snapshot: the rid up to which table's rows are in its search
 * index (those above it must be scanned); INT64_MAX on PostgreSQL. False
 * on a store error or an unknown table. */
bool searchidx_upto(store_conn_t *c, const char *table, int64_t *upto);

/* A thread that runs searchidx_catch_up whenever rows are behind (looks
 * every second, so imports by other processes are caught up too);
 * nothing on PostgreSQL. Stopped by searchidx_indexer_stop (store_close
 * calls it). */
void searchidx_indexer_start(store_t *s);
void searchidx_indexer_stop(store_t *s);

#endif
