/* sqlite_int: the SQLite backend's types, shared by sqlite.c and
 * sqlite_batch.c (its bulk-insert half). Private to the backend. */
#ifndef BRISK_STORE_SQLITE_INT_H
#define BRISK_STORE_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/backend.h"

#define STMT_SLOTS 128 /* per connection; power of two */
#define WAL_HDR 48     /* bytes of one copy of the WAL-index header */

struct lite_batch;

typedef struct {
	store_stmt_t base;
	sqlite3_stmt *st;
	struct lite_batch *batch; /* a batch's: bindings are kept by the batch */
} lite_stmt;

typedef struct {
	store_conn_t base;
	sqlite3 *db;
	lite_stmt stmts[STMT_SLOTS];
	buf_t bulk; /* indexes to build before COMMIT (sqlite_bulk.h) */
	bool fk_off; /* foreign keys off until the commit (store_write_begin_org) */
	/* the page cache's bytes, noted by the connection's owner at the end
	 * of each transaction: sqlite3_db_status may not be called while
	 * another thread uses the connection */
	_Atomic int64_t cache_used;
	struct lite_wb *wb; /* the writer's, during a long write (store_write_long) */
} lite_conn;

typedef struct {
	store_t base;
	char *path;
	lite_conn *readers;
	int nreaders;
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	lite_conn writer;
	_Atomic uint64_t refreshed_us; /* last look */
	const uint8_t *shm;            /* read-only map of brisk.db-shm */
	int shm_fd;                    /* kept open: see map_shm */
	int db_fd;                     /* brisk.db, for lite_wb; kept open as shm_fd */
	size_t shm_len;
	uint8_t shm_seen[48];          /* its header at the last full look (ver_lock) */
	bool shm_seen_ok;
	sqlite3_stmt *ver_stmt;        /* PRAGMA data_version on ver_db */
	atomic_bool refresh_ok;
	sqlite3 *ver_db; /* dedicated connection to notice other processes' commits */
	bool rollback_journal; /* a bulk load's (store_opts.bulk_load): WAL again at close */
	int64_t ver_seen;
} lite_store;

#define LS(s) ((lite_store *)(s))
#define LC(c) ((lite_conn *)(c))
#define LT(t) ((lite_stmt *)(t))

/* The backend's batch entries (store_batch_* in store.h says what each
 * does); sqlite_batch.c. */
store_batch_t *lite_batch_new(store_conn_t *w, const char *insert_sql);
store_stmt_t *lite_batch_stmt(store_batch_t *b);
void lite_batch_row(store_batch_t *b);
size_t lite_batch_rows(store_batch_t *b);
int lite_batch_run(store_batch_t *b, bool *inserted, char *err, size_t errlen);
/* A value bound to a batch's statement (lite_bind hands it over). */
void lite_batch_bind(struct lite_batch *b, int idx, int kind, int64_t i, double d, const void *p, size_t len,
                     bool copy);
int lite_batch_bulk(store_batch_t *b, char *err, size_t errlen);
void lite_batch_free(store_batch_t *b);

#endif
