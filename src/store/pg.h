/* store backend PostgreSQL: what its modules share (pg.c: connections,
 * pools, transactions; pg_stmt.c: statements; pg_vers.c: data versions;
 * pg_copy.c: bulk loads). Private to src/store. */
#ifndef BRISK_STORE_PG_H
#define BRISK_STORE_PG_H

#include <libpq-fe.h>

#include "store/backend.h"

#define STMT_SLOTS 256 /* per connection; power of two */
#define READ_BEGIN "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
#define ADVISORY_WRITER 0x6272736bLL /* "brsk": the one writer lock */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25
#define OID_FLOAT8 701
#define OID_VARCHAR 1043

typedef struct {
	int kind;
	int64_t i;
	double d;
	const char *p;
	size_t len;
	char *owned; /* copy of text/blob, or a NUL-terminated rendering */
	uint64_t be; /* big-endian binary for int8/float8 */
} pg_val;

typedef struct {
	store_stmt_t base;
	char name[24];
	char *sql; /* translated */
	int nparams;
	bool prepared, writes;
	bool generic; /* its SQL carries STORE_PLAN_GENERIC (store.h) */
	Oid *types; /* as PostgreSQL settled them (describe) */
	pg_val *vals;
	PGresult *res;
	int row, nrows;
	bool finished;
} pg_stmt;

typedef struct {
	store_conn_t base;
	PGconn *pc;
	pg_stmt *stmts[STMT_SLOTS];
	int nnamed;
	int64_t changes;
	char err[512];
	bool writer;
	/* Read transactions cost no round trip of their own: BEGIN goes in one
	 * pipeline with the first statement, ROLLBACK is sent without waiting
	 * and its answer read at the next read_begin. */
	bool begin_pending, rollback_pending;
	/* rows bulk-loaded into each table by the open write transaction */
	struct {
		char table[48];
		int64_t rows;
	} bulk[8];
	int nbulk;
	bool replica;    /* in the replica pool */
	const char *url; /* the server it connects to (the store's) */
} pg_conn;

/* A table that took this many rows in one transaction is analysed after
 * the commit: until autovacuum comes round (a minute or more), the planner
 * would plan the first dashboards after an import on the sizes of before. */
#define ANALYZE_AFTER_ROWS 10000 /* and the rollup vacuumed (pgs_commit) */

typedef struct {
	store_t base;
	char *url;
	pg_conn *readers;
	int nreaders;
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	pg_conn writer;
	PGconn *look;  /* version looks and loads; sizes (refresh_lock) */
	PGconn *watch; /* LISTEN brisk_versions (the watcher thread's) */
	/* (org, mask)s changed by others, for store_on_outside_change (ver_lock) */
	int64_t *outside_org;
	unsigned *outside_mask;
	int noutside, capoutside;
	bool loaded, pending;
	_Atomic int64_t commits_seen; /* brisk_commits.n at the last load */
	atomic_bool refresh_ok;
	_Atomic uint64_t faults; /* lost connections + failed connects */
	atomic_bool down;        /* the last connect failed, or a loss since */
	bool opened;             /* open succeeded: outages are logged */
	pthread_mutex_t why_lock;
	char why[512]; /* of the last fault (why_lock) */
	char **rurls; /* read replicas */
	int nrurls;
	pg_conn *rreaders; /* read_conns per replica, url round robin */
	int nrreaders;
	atomic_uint rnext;
	_Atomic uint64_t rdown_until_ns; /* a replica could not be reached: primary only until then */
	_Atomic uint64_t rserved, rbehind; /* reads a replica served / left to the primary */
	struct pg_locks *locks; /* store_lock_*, store_shared_* (pg_lock.c) */
} pg_store;

#define PS(s) ((pg_store *)(s))
#define PC(c) ((pg_conn *)(c))
#define PT(t) ((pg_stmt *)(t))

/* The first line of libpq's message msg into dst. */
void pg_first_line(char *dst, size_t n, const char *msg);
/* The server went away (or could not be reached): counted, kept, logged
 * once per outage. */
void pg_note_down(pg_store *s, const char *why);
/* Whether a failure means the connection (or the server) is gone rather
 * than the statement being wrong. r may be NULL. */
bool pg_is_loss(PGconn *pc, const PGresult *r);
/* Runs sql (no parameters); false with the reason in err (may be NULL). */
bool pg_run(PGconn *pc, const char *sql, char *err, size_t errlen);
/* A new session on the primary with brisk's settings; NULL + reason. */
PGconn *pg_connect(pg_store *s, char *err, size_t errlen);

#endif
