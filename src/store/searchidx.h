/* searchidx: keeps the text-search tables (SQLite: FTS5, migrations 9,
 * 15, 18; PostgreSQL: pg_trgm, migration 21) in step with the rows: inside
 * each write transaction, the rows it inserted (and on SQLite the changes
 * the triggers queued in search_pending; PostgreSQL's triggers apply them
 * themselves); after a large import, in transactions of their own (the
 * catch-up). */
#ifndef BRISK_SEARCHIDX_H
#define BRISK_SEARCHIDX_H

#include "store/store.h"

/* PostgreSQL's text-search body: this expression of the searched columns,
 * held by t_fts (below) under a GIN trigram index; the dialect (dialect.c)
 * turns SQLite's `t_fts MATCH ?15` into a LIKE on it. */
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

/* PostgreSQL's search table of t (migration 21): t_fts(rowid = t's rid,
 * body = the expression above) under a GIN trigram index, filled like
 * SQLite's FTS5 table (rows up to search_mark's rid, the rest by the
 * catch-up), so an import does not build the index in its transaction.
 * Statement triggers (transition tables: one statement, not one per row)
 * keep the indexed rows in step with their updates and deletes. */
#define SEARCH_PG_TABLE(t, body, n)                                                                          \
	"DROP INDEX " t "_search;"                                                                                \
	"CREATE TABLE " t "_fts(rowid BIGINT PRIMARY KEY, body TEXT NOT NULL);"                                 \
	"INSERT INTO " t "_fts SELECT rid, " body " FROM " t ";"                                                \
	"CREATE INDEX " t "_fts_body ON " t "_fts USING gin (body gin_trgm_ops);"                               \
	"INSERT INTO search_mark SELECT " n ", coalesce(max(rid), 0) FROM " t ";"                               \
	"CREATE FUNCTION " t "_fts_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"                         \
	"  IF TG_OP = 'DELETE' THEN"                                                                            \
	"    DELETE FROM " t "_fts f USING old_rows o WHERE f.rowid = o.rid;"                                   \
	"  ELSE"                                                                                                \
	"    UPDATE " t "_fts f SET body = n.body FROM (SELECT rid, " body " AS body FROM new_rows) n"          \
	"      WHERE f.rowid = n.rid AND f.body <> n.body;"                                                     \
	"  END IF;"                                                                                             \
	"  RETURN NULL;"                                                                                        \
	"END $$;"                                                                                               \
	"CREATE TRIGGER " t "_fts_del AFTER DELETE ON " t " REFERENCING OLD TABLE AS old_rows"                  \
	"  FOR EACH STATEMENT EXECUTE FUNCTION " t "_fts_keep();"                                               \
	"CREATE TRIGGER " t "_fts_upd AFTER UPDATE ON " t " REFERENCING NEW TABLE AS new_rows"                  \
	"  FOR EACH STATEMENT EXECUTE FUNCTION " t "_fts_keep();"

/* The expression above for table t ("costs", ...), or NULL. */
const char *searchidx_pg_body(const char *t, size_t tlen);

/* Called by store_write_begin: notes the largest rid of each table (the
 * rows above it at commit are the transaction's new ones: writers take
 * turns on both backends) and how far the index goes. 0 or -1. */
int searchidx_begin(store_conn_t *w);

/* Leaves the rows the write transaction w inserts out of the index at its
 * commit (a large import): searchidx_catch_up indexes them afterwards,
 * and searches scan them until then. Changes to older rows still reach
 * the index at commit. */
void searchidx_defer(store_conn_t *w);

/* Called by store_write_commit before COMMIT. Returns 0, or -1 on a store
 * error (store_errmsg tells; the caller rolls back). Cheap when nothing is
 * queued. */
int searchidx_sync(store_conn_t *w);

/* PostgreSQL: empties the search tables in w's transaction, which leaves
 * every row to the catch-up (brisk migrate writes rows under rids the
 * index may already have passed). Nothing on SQLite. 0 or -1. */
int searchidx_restart(store_conn_t *w);

/* In c's snapshot: rows of the searched tables that are not indexed yet
 * (an upper bound, by rid) into *rows. 1 some, 0 none, -1 on a store
 * error. */
int searchidx_behind(store_conn_t *c, int64_t *rows);

/* Indexes up to budget rows (PostgreSQL: at most 10000) that are behind,
 * in one write transaction of its own. 1 = more are left, 0 = the index is up to date, -1 = a store
 * error (in err; nothing changed). */
int searchidx_catch_up(store_t *s, int64_t budget, char *err, size_t errlen);

/* In c's snapshot: the rid up to which table's rows are in its search
 * index (those above it must be scanned). False on a store error or an
 * unknown table. */
bool searchidx_upto(store_conn_t *c, const char *table, int64_t *upto);

/* A thread that runs searchidx_catch_up whenever rows are behind (looks
 * every second, so imports by other processes and instances are caught
 * up too). Stopped by searchidx_indexer_stop (store_close calls it). */
void searchidx_indexer_start(store_t *s);
void searchidx_indexer_stop(store_t *s);

#endif
