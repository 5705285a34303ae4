/* store: the persistent store behind one small interface.
 *
 * Callers see connections, transactions and prepared statements with `?`
 * placeholders; the backend (SQLite now, PostgreSQL later: see
 * store_backend.h) decides how they run. A store has a pool of read
 * connections, each reading one consistent snapshot per transaction, and a
 * single serialised writer. Every committed write bumps the data version of
 * each (org, table) it touched, which is what cache keys embed. */
#ifndef BRISK_STORE_H
#define BRISK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;
typedef struct store_conn store_conn_t;
typedef struct store_stmt store_stmt_t;

/* Tables whose versions are tracked (bit positions in a touch mask). */
typedef enum {
	TBL_COSTS,
	TBL_SALES_ORDERS,
	TBL_INVOICES,
	TBL_PAYMENTS,
	TBL_LEADS,
	TBL_ALLOCATIONS,
	TBL_SETTINGS,
	TBL_DATASETS, /* every data set of the org (issue 13) */
	TBL__COUNT
} store_table;

#define TBL_BIT(t) (1u << (t))

/* Result of store_step. */
typedef enum { STORE_ROW, STORE_DONE, STORE_ERROR, STORE_CONSTRAINT } store_status;

typedef struct {
	/* postgresql://... (or postgres://) selects PostgreSQL; NULL or empty
	 * = $DATABASE_URL if set, else SQLite in the data directory. */
	const char *url;
	/* PostgreSQL read replicas: URLs separated by commas or spaces (NULL
	 * or empty = none). A read goes to one only when it has replayed every
	 * commit the primary had when the read began; else to the primary. */
	const char *read_urls;
	bool embedded;       /* SQLite in the data directory, whatever DATABASE_URL says */
	int read_conns;      /* read pool size (SQLite: default 2 x cores, min 2;
	                      * PostgreSQL: default 20, opened on demand) */
	int statement_timeout_ms; /* PostgreSQL statement_timeout (default 60000) */
	int64_t cache_kib;   /* page cache per connection (default 64 MiB) */
	int64_t mmap_bytes;  /* memory-mapped I/O window (0: default 1 GiB; < 0: none,
	                      * so a one-pass reader's RSS stays bounded) */
	int busy_timeout_ms; /* wait on a locked database (default 5000) */
	int write_wait_ms;   /* a bounded thread's wait for the writer (default
	                      * 3000; store_thread_bound_writes) */
	/* A bulk load (`brisk import` of a large file). SQLite: when no other
	 * process has the store open, the store leaves WAL for a rollback
	 * journal until store_close, so a write of new pages puts each page in
	 * the database once rather than in the WAL and again at the
	 * checkpoint; other processes wait for its write as for any writer's
	 * (busy_timeout), and cannot open it meanwhile. Else (another process
	 * has it open, or PostgreSQL) nothing changes. */
	bool bulk_load;
} store_opts;

/* Opens (creating if needed) the store in data directory DIR
 * (DIR/brisk.db), or the PostgreSQL database the URL names (see
 * store_opts.url), and applies pending migrations. NULL opts = defaults.
 * Returns NULL and writes a one-line reason into err on failure. */
store_t *store_open(const char *dir, const store_opts *opts, char *err, size_t errlen);
/* Closes every connection; no transaction may be open. NULL is a no-op. */
void store_close(store_t *s);

/* Schema version after migrations (for /readyz and tests). */
int store_schema_version(store_t *s);

/* Takes a pooled read connection and starts a read transaction: everything
 * read until store_read_end sees one snapshot. Blocks while all are busy.
 * Never fails (a broken connection shows up as STORE_ERROR on step). */
store_conn_t *store_read_begin(store_t *s);
void store_read_end(store_conn_t *c);

/* Takes the single writer (serialised by a mutex) and begins an immediate
 * transaction. Returns NULL with a reason in err if the database stays
 * locked past the busy timeout (e.g. another process is importing). */
store_conn_t *store_write_begin(store_t *s, char *err, size_t errlen);
/* store_write_begin for a write that only adds or replaces rows of org
 * (an import: no delete, no org changed): the org is checked to exist
 * once, inside the transaction, instead of by each row's foreign key
 * (SQLite checks those row by row: about 10% of a 1M-row invoice import's
 * writer), until the commit or rollback. NULL with the reason in err,
 * also when the org does not exist. */
store_conn_t *store_write_begin_org(store_t *s, int64_t org, char *err, size_t errlen);
/* Begins a write only if the writer is free at this moment: NULL
 * otherwise (also on a store error), with nothing noted as refused. For
 * writes that can be put off (a session's last-used stamp). */
store_conn_t *store_write_try_begin(store_t *s);

/* Bounded writes (issue 17). One writer at a time, and a long import
 * holds it for its whole transaction (SQLite: other processes too; a
 * server store: every instance). A thread that serves requests marks
 * itself bounded: each store_write_begin it makes then waits at most
 * store.write_wait_ms, and a bounded wait that runs out fails with "the
 * store is busy: an import is writing ...; retry in about N s" in err and
 * counts as one refusal of this thread. Unmarked threads (task runners,
 * the CLI, flushers) wait as long as it takes. */
void store_thread_bound_writes(bool on);
bool store_thread_writes_bounded(void);
/* Refusals of this thread since the last call (the count is then reset),
 * with the last one's advised wait in seconds and its reason. */
int store_thread_refusals(int *retry_s, char *why, size_t whylen);
/* Names what this thread's writes are ("an import": a string that
 * outlives the thread's use of the store; NULL = nothing), so the
 * refusals of others can say who holds the writer. */
void store_thread_label(const char *what);
/* How far this thread's write in progress is, in percent: the refused
 * are told how long to wait from it. No-op unless it holds the writer. */
void store_thread_progress(int pct);

/* Something that must commit with the change it describes (a request's
 * audit entry): fn(ud, w) runs inside the next write transaction this
 * thread commits, just before its COMMIT, once. A failing fn (-1) leaves
 * it armed for the next commit and does not stop this one. (NULL, NULL)
 * disarms. store_thread_on_commit_done tells whether it went in with a
 * commit since it was armed. */
typedef int (*store_commit_fn)(void *ud, store_conn_t *w);
void store_thread_on_commit(store_commit_fn fn, void *ud);
bool store_thread_on_commit_done(void);

/* Marks tables of an org as changed by this transaction. */
void store_write_touch(store_conn_t *c, int64_t org, unsigned table_mask);
/* Commits and bumps the versions of touched (org, table)s. Returns 0, or -1
 * (rolled back, reason in err). Releases the writer either way. */
int store_write_commit(store_conn_t *c, char *err, size_t errlen);
/* Rolls back and releases the writer. */
void store_write_rollback(store_conn_t *c);

/* Prepares (or fetches from this connection's cache, keyed by the sql
 * pointer, so pass string literals) a statement, reset with no bindings.
 * The statement belongs to the connection. Returns NULL on a syntax error
 * (store_errmsg tells). */
store_stmt_t *store_prepare(store_conn_t *c, const char *sql);
/* Binds by 1-based index. Text is copied. */
void store_bind_i64(store_stmt_t *st, int idx, int64_t v);
void store_bind_double(store_stmt_t *st, int idx, double v);
void store_bind_text(store_stmt_t *st, int idx, const char *s, size_t len);
/* Binds text WITHOUT copying: it must stay unchanged until the statement
 * is stepped to completion or reset (hot import paths). */
void store_bind_text_nocopy(store_stmt_t *st, int idx, const char *s, size_t len);
void store_bind_blob(store_stmt_t *st, int idx, const void *p, size_t len);
void store_bind_null(store_stmt_t *st, int idx);
/* Steps: STORE_ROW with a row ready, STORE_DONE, STORE_CONSTRAINT (a
 * uniqueness/check violation) or STORE_ERROR (store_errmsg tells). */
store_status store_step(store_stmt_t *st);
/* Column accessors for the current row (0-based). Text stays valid until
 * the next step/reset; NULL reads as 0 / "" (len 0). */
int64_t store_col_i64(store_stmt_t *st, int col);
double store_col_double(store_stmt_t *st, int col);
const char *store_col_text(store_stmt_t *st, int col, size_t *len);
bool store_col_is_null(store_stmt_t *st, int col);
/* Resets the statement so it can be bound and stepped again. */
void store_reset(store_stmt_t *st);
/* Runs the statement sql (as store_prepare takes it) once for each of n
 * parameter sets: bind(ud, st, i) binds set i (0-based) as for
 * store_step, row(ud, st, i) reads each row set i returns (store_col_*).
 * PostgreSQL sends all n executions in one pipeline, so the whole costs
 * one round trip where n store_step loops cost n; SQLite steps them in
 * turn. Returns 0, or -1 (store_errmsg tells; rows of sets before the
 * failure may have been read). */
typedef void (*store_each_fn)(void *ud, store_stmt_t *st, int i);
int store_each(store_conn_t *c, const char *sql, int n, store_each_fn bind, store_each_fn row, void *ud);
/* The same for k statements at once (several reads that do not depend on
 * each other): all of v[0]'s sets, then v[1]'s, ... in one round trip on
 * PostgreSQL. */
typedef struct {
	const char *sql;
	int n;
	store_each_fn bind, row;
	void *ud;
} store_each_t;
int store_each_many(store_conn_t *c, const store_each_t *v, int k);
/* A comment a read's SQL may end with: its plan does not depend on its
 * parameters' values (a key range), so PostgreSQL runs it on its generic
 * plan through store_each_many instead of planning it anew at each
 * execution, as it keeps doing where the values' estimates come out
 * cheaper (a rollup range of a metric an org has no rows of). SQLite
 * ignores it. */
#define STORE_PLAN_GENERIC " /*plan:generic*/"
/* Runs SQL with no parameters and no result rows (DDL, pragmas). 0 or -1. */
int store_exec(store_conn_t *c, const char *sql);
/* Rows changed by the last INSERT/UPDATE/DELETE on this connection. */
int64_t store_changes(store_conn_t *c);
const char *store_errmsg(store_conn_t *c);
store_t *store_of(store_conn_t *c);

/* Current data version of (org, table) as last committed by this process or
 * read from the store; cheap (no I/O). */
uint64_t store_version(store_t *s, int64_t org, store_table t);
/* Re-reads versions committed by other processes (e.g. a CLI import while
 * the server runs). About a microsecond when nothing changed. Returns false
 * when the store could not be read: the versions in memory may be stale.
 * May wait (on another look in progress, or on a stuck store). */
bool store_refresh_versions(store_t *s);
/* For an event loop, never touching SQLite: 1 = nothing was committed by
 * anyone since the last full look, so the versions in memory are exact;
 * 0 = something changed or cannot be told: look with
 * store_refresh_versions from a thread that may wait. */
int store_refresh_versions_try(store_t *s);
/* Counts reloads caused by commits of other connections (a change seen). */
uint64_t store_version_reloads(store_t *s);
/* Starts a thread that looks at the versions every period_us (0 = 1 ms):
 * if the store gets stuck, this thread is the one left waiting, and event
 * loops see a look in progress and hand their requests to workers.
 * PostgreSQL does not poll: the thread sleeps on LISTEN brisk_versions
 * and looks when a commit announces itself, or once a second.
 * Stopped by store_close. */
void store_watch_versions(store_t *s, unsigned period_us);
/* Called after each commit with the org and the mask of tables bumped.
 * Used by the cache and the event stream. One listener per store. */
typedef void (*store_change_fn)(void *ud, int64_t org, unsigned table_mask);
void store_on_change(store_t *s, store_change_fn fn, void *ud);
/* Called from the watcher thread (store_watch_versions), with no store
 * lock held, with each org whose versions commits of OTHER processes or
 * instances moved and the mask of those tables: on PostgreSQL within
 * milliseconds of the commit (LISTEN/NOTIFY), so instances without Redis
 * can warm caches and tell event streams. Rarely also for a commit of this
 * process (seen before its own bookkeeping). Not called on SQLite (yet).
 * NULL fn = none. */
void store_on_outside_change(store_t *s, store_change_fn fn, void *ud);

/* Looks up an organisation by slug; creates it when create is set.
 * Returns its id, or -1 when missing (or on error, reason in err). */
int64_t store_org_id(store_t *s, const char *slug, bool create, char *err, size_t errlen);

/* Bulk insert for imports. insert_sql is an `INSERT INTO t(cols)
 * VALUES(?, ...) ON CONFLICT(key) DO ...` (with an `id` column for
 * inserted[], below); rows are
 * bound through store_batch_stmt (parameters 1..n, as for the statement)
 * and ended with store_batch_row. store_batch_run inserts them as the
 * statement would, in order, and sets inserted[i] for each row that went
 * in (false: its id existed, or an earlier row of the batch had it);
 * inserted may be NULL, and must be for a DO UPDATE statement (whose rows
 * must then have distinct keys).
 * Rows may be written as they are added (SQLite: 64 per multi-row INSERT;
 * text bound without a copy must stay until the run); PostgreSQL streams
 * them by COPY into a staging table and inserts them in one statement at
 * the run. NULL where the backend has no bulk path: use statements. */
typedef struct store_batch store_batch_t;
store_batch_t *store_batch_new(store_conn_t *w, const char *insert_sql);
store_stmt_t *store_batch_stmt(store_batch_t *b);
void store_batch_row(store_batch_t *b);
size_t store_batch_rows(store_batch_t *b);
/* Before a large load through b: when b's table holds no row at all (a
 * new store), SQLite builds its non-unique indexes at the commit, sorted,
 * instead of entry by entry (a rollback restores them); nothing otherwise,
 * and nothing on PostgreSQL. 0, or -1 on a store error (in err: roll
 * back). */
int store_batch_bulk(store_batch_t *b, char *err, size_t errlen);
/* Before a large load: suspends the trigger named until the commit, which
 * creates it again as it was (a rollback or a crash keeps it), for a
 * writer that does the trigger's work itself in fewer statements (SQLite
 * runs a trigger program per row). 1 suspended; 0 where the backend keeps
 * it firing (PostgreSQL's run once per statement): the caller does
 * nothing more; -1 on a store error (in err: roll back). */
int store_suspend_trigger(store_conn_t *w, const char *name, char *err, size_t errlen);
/* Returns 0, or -1 with the reason in err (the transaction is then
 * aborted: roll it back). Empties the batch either way. */
int store_batch_run(store_batch_t *b, bool *inserted, char *err, size_t errlen);
/* Tells the store that the open write transaction w will write a lot (an
 * import of many rows): SQLite has the kernel write its files back while
 * it runs, so the fsyncs of its commit find little left to write
 * (sqlite_wb.h). Ends with the transaction; other backends ignore it. */
void store_write_long(store_conn_t *w);
void store_batch_free(store_batch_t *b);

/* Faults of a server store (PostgreSQL) as this process saw them: a count
 * that grows at every lost connection and failed connect, so a caller can
 * tell a failure of its own request was the store going away; and whether
 * the last attempt to reach it failed (why: the reason, or ""). SQLite: 0
 * and true. */
uint64_t store_faults(store_t *s);
bool store_reachable(store_t *s, char *why, size_t whylen);

/* Replicas configured, reads they served, and reads left to the primary
 * because the replica chosen had not replayed far enough (or was down).
 * Zeros on SQLite. */
void store_replica_stats(store_t *s, int *replicas, uint64_t *served, uint64_t *behind);

/* Locks across processes and instances of a server store (PostgreSQL
 * session advisory locks on one connection of this process), held until
 * released or until the process dies (its session ends with it): a lock
 * held while working on something says a live process works on it. A
 * lock is named by a namespace (STORE_LOCK_*) and an id (48 bits kept).
 * store_lock_try: 1 taken, 0 another process (or another caller in this
 * one: the locks are not reentrant) holds it, -1 no such locks (SQLite: store_has_locks is false) or the server
 * cannot be reached now. */
enum { STORE_LOCK_TASK = 1, STORE_LOCK_CACHE = 2 };
bool store_has_locks(store_t *s);
int store_lock_try(store_t *s, int ns, int64_t id);
/* Releases a lock held here (no-op otherwise). */
void store_lock_release(store_t *s, int ns, int64_t id);
/* 1 still held here; 0 lost (the session dropped and another process took
 * it meanwhile: stop what it guards); -1 cannot tell now (the server is
 * away). At most one round trip a second. */
int store_lock_held(store_t *s, int ns, int64_t id);

/* A cache the instances of a server store share (PostgreSQL: an UNLOGGED
 * table, emptied by a crash), for caches without Redis. get: the entry
 * under key if unexpired, malloc'd (caller frees) with its size in *n,
 * else NULL (also on SQLite, which has none: store_has_locks tells).
 * put replaces, ignoring failures; it does not wait for the server (the
 * next lock, get or release of this store reads its answer first, so a
 * lock released after a put is released after the entry is in). */
void *store_shared_get(store_t *s, const void *key, size_t klen, size_t *n);
void store_shared_put(store_t *s, const void *key, size_t klen, const void *v, size_t n, uint64_t ttl_ms);

/* "sqlite" or "postgresql". */
const char *store_backend_name(store_t *s);

/* Database and WAL file sizes in bytes (for monitoring; PostgreSQL: the
 * database's size, WAL 0). */
void store_file_sizes(store_t *s, int64_t *db_bytes, int64_t *wal_bytes);

/* Bytes in this process's page caches of the store (SQLite: every
 * connection's, as of its last transaction; each is bounded by
 * store.cache_mib); 0 for PostgreSQL, whose cache is the server's. */
int64_t store_page_cache_bytes(store_t *s);

#endif
