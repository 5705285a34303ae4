/* store backend: what src/store/store.c needs from a backend (sqlite.c,
 * pg.c). Private to src/store: callers only ever see store.h.
 *
 * Each backend allocates its own larger structs whose FIRST member is the
 * common one below (store_t, store_conn_t, store_stmt_t), so a pointer to
 * either is a pointer to both. */
#ifndef BRISK_STORE_BACKEND_H
#define BRISK_STORE_BACKEND_H

#include <pthread.h>
#include <stdatomic.h>

#include "store/store.h"
#include "store/wgate.h"

typedef struct store_backend store_backend;

typedef struct {
	int64_t org;
	uint64_t v[TBL__COUNT];
} store_org_versions;

/* The part of a store every backend shares: versions, the writer's lock,
 * the change listener, the watch thread. */
struct store {
	const store_backend *be;
	store_opts opts;
	int schema_version;
	wgate_t gate;               /* one writer per process (wgate.c) */
	int begin_wait_ms;          /* the writer's wait on other processes, for the write
	                             * being begun (gate held) */
	int64_t begin_org;          /* > 0: the write being begun writes only this org's
	                             * rows (store_write_begin_org; gate held) */
	pthread_mutex_t ver_lock;   /* guards vers */
	store_org_versions *vers;
	int nvers, capvers;
	pthread_mutex_t refresh_lock; /* one look at outside commits at a time */
	_Atomic uint64_t refresh_since_us;
	uint64_t look_started_ns; /* of the last completed look (refresh_lock) */
	bool look_ok;
	_Atomic uint64_t reloads;
	pthread_t watch_tid;
	bool watching;
	atomic_bool watch_stop;
	unsigned watch_period_us;
	store_change_fn on_change;
	void *on_change_ud;
	store_change_fn on_outside; /* (ver_lock) */
	void *on_outside_ud;
	/* the search index catch-up thread (searchidx.c) */
	pthread_t indexer_tid;
	bool indexing;
	atomic_bool indexer_stop;
};

struct store_conn {
	store_t *store;
	bool in_use;
	/* write transaction state: touched (org, mask) pairs */
	int64_t *touch_org;
	unsigned *touch_mask;
	int ntouch, captouch;
	/* searchidx.c: largest rid of each searched table when the write
	 * began, how far its index went then (stored and as used), how far it
	 * goes at commit, and whether new rows are left to the catch-up */
	int64_t search_mark[6], search_w0[6], search_w[6], search_upto[6];
	bool search_marked, search_defer;
};

/* A backend's batch starts with this. */
struct store_batch {
	store_conn_t *conn;
};

struct store_stmt {
	store_conn_t *conn;
	const char *key; /* the caller's SQL literal (cache key, qstats id) */
	uint64_t t0;     /* monotonic ns of the first step; 0 = not running */
	uint64_t shape;  /* bound parameter types, for slow-query logs */
};

/* Bound value kinds (bind). */
enum { STORE_V_NULL, STORE_V_INT, STORE_V_REAL, STORE_V_TEXT, STORE_V_BLOB };

struct store_backend {
	const char *name;
	/* Opens TARGET (a data dir or a URL) with opts already defaulted, sets
	 * s->be and applies migrations. NULL + reason on failure. */
	store_t *(*open)(const char *target, const store_opts *o, char *err, size_t errlen);
	void (*close)(store_t *s);
	store_conn_t *(*read_begin)(store_t *s);
	void (*read_end)(store_conn_t *c);
	/* Begins the write transaction on the writer; the caller holds
	 * the gate; waits for other processes up to s->begin_wait_ms. NULL +
	 * reason ("the store is busy ...") if the store stays busy. */
	store_conn_t *(*write_begin)(store_t *s, char *err, size_t errlen);
	/* Commits (telling other processes when announce is set); on failure
	 * rolls back and returns -1 with a reason. */
	int (*commit)(store_conn_t *c, bool announce, char *err, size_t errlen);
	void (*rollback)(store_conn_t *c);
	store_stmt_t *(*prepare)(store_conn_t *c, const char *sql);
	/* kind is STORE_V_*; p/len for text and blobs; copy = false: p stays
	 * valid until the statement is stepped to completion or reset. */
	void (*bind)(store_stmt_t *st, int idx, int kind, int64_t i, double d, const void *p, size_t len, bool copy);
	store_status (*step)(store_stmt_t *st);
	int64_t (*col_i64)(store_stmt_t *st, int col);
	double (*col_double)(store_stmt_t *st, int col);
	const char *(*col_text)(store_stmt_t *st, int col, size_t *len);
	bool (*col_is_null)(store_stmt_t *st, int col);
	void (*reset)(store_stmt_t *st);
	/* Whether the statement may write, and its parameter count (qstats). */
	bool (*stmt_writes)(store_stmt_t *st);
	/* store_each_many in one round trip, st[g] prepared for v[g] (NULL:
	 * store_step each set in turn); 0 or -1 with the reason in errmsg. */
	int (*each)(store_conn_t *c, store_stmt_t *const *st, const store_each_t *v, int k);
	int (*stmt_nparams)(store_stmt_t *st);
	int (*exec)(store_conn_t *c, const char *sql);
	int64_t (*changes)(store_conn_t *c);
	const char *(*errmsg)(store_conn_t *c);
	/* Looks for commits of other processes, reloading versions (through
	 * store_vers_put) when something changed; false if the store could not
	 * be read. Called with refresh_lock held. */
	bool (*refresh)(store_t *s);
	/* Never blocks: 1 = versions in memory are exact, 0 = look. */
	int (*refresh_try)(store_t *s);
	void (*sizes)(store_t *s, int64_t *db_bytes, int64_t *wal_bytes);
	/* store_faults / store_reachable; NULL = never faults (SQLite). */
	uint64_t (*faults)(store_t *s);
	bool (*reachable)(store_t *s, char *why, size_t whylen);
	/* The watcher thread's loop (store_watch_versions) until watch_stop;
	 * NULL = look every watch_period_us. */
	void (*watch)(store_t *s);
	/* store_lock_* with the key made of namespace and id; NULL = none. */
	int (*lock_try)(store_t *s, int64_t key);
	void (*lock_release)(store_t *s, int64_t key);
	int (*lock_held)(store_t *s, int64_t key);
	void *(*shared_get)(store_t *s, const void *key, size_t klen, size_t *n);
	void (*shared_put)(store_t *s, const void *key, size_t klen, const void *v, size_t n, uint64_t ttl_ms);
	/* Bulk inserts (store_batch_*); batch_new NULL = none. */
	store_batch_t *(*batch_new)(store_conn_t *w, const char *insert_sql);
	store_stmt_t *(*batch_stmt)(store_batch_t *b);
	void (*batch_row)(store_batch_t *b);
	size_t (*batch_rows)(store_batch_t *b);
	int (*batch_run)(store_batch_t *b, bool *inserted, char *err, size_t errlen);
	int (*batch_bulk)(store_batch_t *b, char *err, size_t errlen); /* NULL: nothing to do */
	void (*batch_free)(store_batch_t *b);
	/* store_page_cache_bytes; NULL: 0 (the server's own cache). */
	int64_t (*page_cache_bytes)(store_t *s);
	/* store_suspend_trigger; NULL: triggers always fire. */
	int (*suspend_trigger)(store_conn_t *w, const char *name, char *err, size_t errlen);
	/* store_write_long; NULL: nothing to do. */
	void (*write_long)(store_conn_t *w);
};

/* Splits a batch's "INSERT INTO t(a, b) VALUES(...) ON CONFLICT(k) DO ..."
 * into t, "a, b" and "k) DO ..." (caller frees the three); false if the
 * statement has another shape. */
bool store_parse_insert(const char *sql, char **table, char **cols, char **key);

extern const store_backend store_sqlite_backend;
extern const store_backend store_pg_backend;

/* Initialises the common part of a store the backend allocated. */
void store_common_init(store_t *s, const store_backend *be, const store_opts *o);
void store_common_free(store_t *s);
/* Sets one version read from the store (keeps the larger); true if it
 * grew. Caller holds ver_lock. */
bool store_vers_put(store_t *s, int64_t org, int tbl, uint64_t v);
/* Reports the end of one statement execution to monitoring. */
void store_stmt_timed(store_stmt_t *st);
void store_conn_free_touch(store_conn_t *c);
/* Adds mask to org's entry of the parallel lists (orgs, masks), n long,
 * cap allocated, making one if needed. */
void store_masks_add(int64_t **orgs, unsigned **masks, int *n, int *cap, int64_t org, unsigned mask);

#endif
