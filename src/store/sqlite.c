/* store backend: SQLite (the embedded default). */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "monitor/qstats.h"
#include "store/backend.h"
#include "store/schema.h"
#include "store/sqlite_bulk.h"
#include "store/sqlite_int.h"
#include "store/sqlite_wb.h"

/* DESIGN
 * SQLite in WAL mode: readers never block the writer nor each other, and
 * each read transaction sees one snapshot. Writes are serialised in-process
 * by a mutex around the one writer connection (SQLite allows one writer
 * anyway; queueing here is cheaper than spinning on SQLITE_BUSY), and
 * against other processes (a CLI import) by busy_timeout.
 *
 * Statements are cached per connection, keyed by the address of the SQL
 * literal, so a hot path prepares once and then only binds and steps.
 *
 * Other processes' commits are seen through PRAGMA data_version, and, for
 * event loops that must not touch SQLite, through the WAL-index header in
 * the -shm file (it changes with every commit of any process). */


static int conn_open(lite_store *s, lite_conn *c, bool writer, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->base.store = &s->base;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(s->path, &c->db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", s->path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
		sqlite3_close(c->db);
		c->db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(c->db, s->base.opts.busy_timeout_ms);
	/* Pragmas, each deliberate:
	 * - journal_mode=WAL: readers see a snapshot and never block the writer.
	 * - synchronous=NORMAL: in WAL, a commit survives a process crash; only
	 *   an OS crash may lose the last commits, never corrupt the file.
	 * - foreign_keys=ON: every row's org must exist; allocations die with
	 *   their payment or invoice.
	 * - cache_size / mmap_size: the dashboard's working set (rollups, open
	 *   invoices, index pages) stays in memory; mmap avoids a copy per page.
	 * - temp_store=MEMORY: sorts and GROUP BY temporaries never touch disk.
	 * - journal_size_limit: a big import grows the WAL to its own size;
	 *   after the checkpoint the file is cut back instead of staying huge. */
	char sql[512];
	snprintf(sql, sizeof sql,
	         "%s PRAGMA foreign_keys=ON;"
	         "PRAGMA cache_size=-%lld; PRAGMA mmap_size=%lld; PRAGMA temp_store=MEMORY;"
	         "PRAGMA journal_size_limit=67108864;",
	         s->rollback_journal ? "" : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
	         (long long)s->base.opts.cache_kib, (long long)s->base.opts.mmap_bytes);
	char *msg = NULL;
	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot configure %s: %s", s->path, msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(c->db);
		c->db = NULL;
		return -1;
	}
	if (!writer)
		sqlite3_exec(c->db, "PRAGMA query_only=ON", NULL, NULL, NULL);
	return 0;
}

static void conn_close(lite_conn *c)
{
	lite_wb_stop(c->wb);
	c->wb = NULL; /* a write left open: its thread goes first */
	store_conn_free_touch(&c->base);
	buf_free(&c->bulk);
	if (!c->db)
		return;
	for (int i = 0; i < STMT_SLOTS; i++)
		if (c->stmts[i].st)
			sqlite3_finalize(c->stmts[i].st);
	sqlite3_close(c->db);
	c->db = NULL;
}

static int migrate(lite_store *s, char *err, size_t errlen)
{
	sqlite3 *db = s->writer.db;
	sqlite3_stmt *st;
	int have = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			have = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (have > schema_count()) {
		snprintf(err, errlen, "%s has schema version %d, newer than this brisk (%d): upgrade brisk",
		         s->path, have, schema_count());
		return -1;
	}
	for (int n = have + 1; n <= schema_count(); n++) {
		char *msg = NULL;
		char ver[64];
		snprintf(ver, sizeof ver, "PRAGMA user_version=%d;", n);
		/* Each migration and its version bump commit together, so a crash
		 * mid-migration leaves the previous version intact. */
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, schema_sql(n), NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, ver, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errlen, "migration %d failed on %s: %s", n, s->path, msg ? msg : "?");
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		log_debug("store: applied migration %d", n);
	}
	s->base.schema_version = schema_count();
	return 0;
}

/* The WAL-index header (the first copy, 48 bytes) of the -shm file. Both
 * copies equal means no writer was half way through updating it. */
static bool shm_header(lite_store *s, uint8_t *out)
{
	const volatile uint8_t *p = s->shm;
	uint8_t a[WAL_HDR], b[WAL_HDR];
	for (int i = 0; i < WAL_HDR; i++)
		a[i] = p[i];
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	for (int i = 0; i < WAL_HDR; i++)
		b[i] = p[WAL_HDR + i];
	if (memcmp(a, b, WAL_HDR) != 0)
		return false;
	memcpy(out, a, WAL_HDR);
	return true;
}

/* Reloads every version; false if the store could not be read. */
static bool vers_load(lite_store *s)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->ver_db, "SELECT org, tbl, version FROM data_versions", -1, &st, NULL) != SQLITE_OK)
		return false;
	int rc;
	pthread_mutex_lock(&s->base.ver_lock);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		store_vers_put(&s->base, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1),
		               (uint64_t)sqlite3_column_int64(st, 2));
	pthread_mutex_unlock(&s->base.ver_lock);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE;
}

static int64_t data_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

/* Maps the -shm file read-only (it exists once a WAL connection is open);
 * without it every nowait check says "look", which is merely slower.
 * The descriptor stays open until store_close has closed every SQLite
 * connection: closing any descriptor of a file drops ALL of the process's
 * POSIX locks on it, SQLite's own shared-memory locks included (which
 * would let another process truncate the file under this one's maps). */
static void map_shm(lite_store *s)
{
	char p[4200];
	snprintf(p, sizeof p, "%s-shm", s->path);
	s->shm_fd = open(p, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (s->shm_fd < 0)
		return;
	if (fstat(s->shm_fd, &st) == 0 && st.st_size >= 2 * WAL_HDR) {
		void *m = mmap(NULL, 2 * WAL_HDR, PROT_READ, MAP_SHARED, s->shm_fd, 0);
		if (m != MAP_FAILED) {
			s->shm = m;
			s->shm_len = 2 * WAL_HDR;
		}
	}
}

static void lite_close(store_t *base);

/* DESIGN (a bulk load's journal)
 * In WAL mode every page a write makes goes to the WAL and, at the
 * checkpoint after the COMMIT, again into the database: a 1M-row import
 * writes its 116 MB twice, and the copy was a quarter of its time. A
 * rollback journal holds only the old content of pages that existed
 * before the write; new pages go to the database once. SQLite changes
 * out of WAL only for the store's sole connection ("database is locked"
 * when another process has it open: the WAL stays, nothing else
 * changes), so only the writer is open here; the readers and ver_db,
 * opened after, use the file as it is. synchronous=FULL: in a rollback
 * journal that is what makes a commit atomic across a power loss. A
 * crash mid-load leaves a hot journal that the next opener plays back
 * before anything reads; it then sets WAL as every connection does. */
static void leave_wal(lite_store *s)
{
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(s->writer.db, "PRAGMA journal_mode=DELETE", -1, &st, NULL) == SQLITE_OK &&
	          sqlite3_step(st) == SQLITE_ROW && sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "delete") == 0;
	sqlite3_finalize(st);
	if (!ok) {
		log_debug("store: %s is open elsewhere: the bulk load keeps the WAL", s->path);
		return;
	}
	sqlite3_exec(s->writer.db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	s->rollback_journal = true;
}

/* Back to WAL after a bulk load (the writer is the last connection). If
 * another process has opened the store meanwhile the change waits; on
 * failure the next opener makes it, as every connection asks for WAL. */
static void back_to_wal(lite_store *s)
{
	if (sqlite3_exec(s->writer.db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK)
		log_warn("store: %s stays in rollback-journal mode until its next open: %s", s->path,
		         sqlite3_errmsg(s->writer.db));
}

/* Before SQLite initialises: no global memory statistics (nothing reads
 * them), so its allocations take no global mutex (a tenth of an import's
 * time was spent there). Too late if SQLite already started: harmless. */
static void lite_global_config(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static store_t *lite_open(const char *dir, const store_opts *o, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, lite_global_config);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create data directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	lite_store *s = xcalloc(1, sizeof *s);
	store_common_init(&s->base, &store_sqlite_backend, o);
	s->shm_fd = -1;
	s->db_fd = -1;
	size_t n = strlen(dir) + 16;
	s->path = xmalloc(n);
	snprintf(s->path, n, "%s/brisk.db", dir);
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_cond_init(&s->pool_cond, NULL);

	if (conn_open(s, &s->writer, true, err, errlen) != 0)
		goto fail;
	if (migrate(s, err, errlen) != 0)
		goto fail;
	if (o->bulk_load)
		leave_wal(s);
	s->readers = xcalloc((size_t)o->read_conns, sizeof *s->readers);
	for (int i = 0; i < o->read_conns; i++) {
		if (conn_open(s, &s->readers[i], false, err, errlen) != 0)
			goto fail;
		s->nreaders++;
	}
	if (sqlite3_open_v2(s->path, &s->ver_db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", s->path, sqlite3_errmsg(s->ver_db));
		goto fail;
	}
	s->ver_seen = data_version(s->ver_db);
	map_shm(s);
	vers_load(s);
	return &s->base;
fail:
	lite_close(&s->base);
	return NULL;
}

static void lite_close(store_t *base)
{
	lite_store *s = LS(base);
	/* The writer closes last: the last connection to close checkpoints the
	 * WAL into the database and removes it, which a read-only one cannot. */
	if (s->ver_stmt)
		sqlite3_finalize(s->ver_stmt);
	if (s->ver_db)
		sqlite3_close(s->ver_db);
	for (int i = 0; i < s->nreaders; i++)
		conn_close(&s->readers[i]);
	if (s->rollback_journal && s->writer.db)
		back_to_wal(s);
	conn_close(&s->writer);
	/* only now that SQLite holds no locks on the file (see map_shm) */
	if (s->shm)
		munmap((void *)s->shm, s->shm_len);
	if (s->shm_fd >= 0)
		close(s->shm_fd);
	if (s->db_fd >= 0)
		close(s->db_fd);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_cond_destroy(&s->pool_cond);
	store_common_free(base);
	free(s->readers);
	free(s->path);
	free(s);
}

static store_conn_t *lite_read_begin(store_t *base)
{
	lite_store *s = LS(base);
	pthread_mutex_lock(&s->pool_lock);
	lite_conn *c = NULL;
	for (;;) {
		for (int i = 0; i < s->nreaders; i++)
			if (!s->readers[i].base.in_use) {
				c = &s->readers[i];
				break;
			}
		if (c)
			break;
		pthread_cond_wait(&s->pool_cond, &s->pool_lock);
	}
	c->base.in_use = true;
	pthread_mutex_unlock(&s->pool_lock);
	/* BEGIN is deferred: the snapshot starts at the first read. */
	sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL);
	return &c->base;
}

/* Notes c's page cache size (see lite_conn.cache_used). */
static void note_cache(lite_conn *c)
{
	int cur = 0, hi = 0;
	if (sqlite3_db_status(c->db, SQLITE_DBSTATUS_CACHE_USED, &cur, &hi, 0) == SQLITE_OK)
		atomic_store_explicit(&c->cache_used, cur, memory_order_relaxed);
}

static int64_t lite_page_cache_bytes(store_t *base)
{
	lite_store *s = LS(base);
	int64_t n = atomic_load_explicit(&s->writer.cache_used, memory_order_relaxed);
	for (int i = 0; i < s->nreaders; i++)
		n += atomic_load_explicit(&s->readers[i].cache_used, memory_order_relaxed);
	return n;
}

static void lite_read_end(store_conn_t *c)
{
	sqlite3_exec(LC(c)->db, "COMMIT", NULL, NULL, NULL);
	note_cache(LC(c));
	lite_store *s = LS(c->store);
	pthread_mutex_lock(&s->pool_lock);
	c->in_use = false;
	pthread_cond_signal(&s->pool_cond);
	pthread_mutex_unlock(&s->pool_lock);
}

/* Foreign keys back on after a write of one org's rows (outside any
 * transaction: the pragma is a no-op inside one). */
static void fk_restore(lite_conn *c)
{
	if (c->fk_off && sqlite3_exec(c->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK)
		log_error("store: cannot turn foreign keys back on: %s", sqlite3_errmsg(c->db));
	c->fk_off = false;
}

/* DESIGN (one org's rows)
 * SQLite checks a row's foreign key by opening a cursor on orgs, seeking
 * and closing it, for every row inserted. A write of one org's rows
 * (store_write_begin_org) turns foreign keys off before its BEGIN (the
 * pragma is a no-op inside a transaction, and every statement prepared
 * meanwhile is compiled again without the checks) and checks the org
 * once, after the BEGIN: no other writer can delete it before the
 * commit, which turns them back on (as does a rollback, or a failed
 * commit). The rows such a write makes name no other parent. */
static bool org_exists(sqlite3 *db, int64_t org)
{
	sqlite3_stmt *st = NULL;
	bool found = sqlite3_prepare_v2(db, "SELECT 1 FROM orgs WHERE id = ?", -1, &st, NULL) == SQLITE_OK &&
	             sqlite3_bind_int64(st, 1, org) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static store_conn_t *lite_write_begin(store_t *base, char *err, size_t errlen)
{
	lite_conn *c = &LS(base)->writer;
	char *msg = NULL;
	c->fk_off = base->begin_org > 0 && sqlite3_exec(c->db, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL) == SQLITE_OK;
	/* another process's writer is waited for as long as this write may
	 * wait (a request's is bounded); later waits (a checkpoint at the
	 * commit) keep the store's own timeout */
	sqlite3_busy_timeout(c->db, base->begin_wait_ms);
	int rc = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
	sqlite3_busy_timeout(c->db, base->opts.busy_timeout_ms);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "the store is busy (%s): another process may be writing; try again",
		         msg ? msg : sqlite3_errmsg(c->db));
		sqlite3_free(msg);
		fk_restore(c);
		return NULL;
	}
	if (c->fk_off && !org_exists(c->db, base->begin_org)) {
		snprintf(err, errlen, "organisation %lld does not exist", (long long)base->begin_org);
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		fk_restore(c);
		return NULL;
	}
	return &c->base;
}

/* Ends a long write's writeback (store_write_long), if one runs. */
static void wb_end(lite_conn *c)
{
	lite_wb_stop(c->wb);
	c->wb = NULL;
}

static int lite_commit(store_conn_t *c, bool announce, char *err, size_t errlen)
{
	(void)announce; /* other processes see the commit in data_version */
	sqlite3 *db = LC(c)->db;
	int rc = 0;
	if (lite_bulk_rebuild(db, &LC(c)->bulk, err, errlen) != 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		rc = -1;
	} else if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "commit failed: %s", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		rc = -1;
	} else {
		note_cache(LC(c));
	}
	fk_restore(LC(c));
	/* only now: the COMMIT ran the checkpoint (sqlite_wb.c) */
	wb_end(LC(c));
	return rc;
}

static void lite_rollback(store_conn_t *c)
{
	sqlite3_exec(LC(c)->db, "ROLLBACK", NULL, NULL, NULL);
	wb_end(LC(c));
	buf_reset(&LC(c)->bulk); /* the dropped indexes and triggers are back */
	fk_restore(LC(c));
}

static void lite_write_long(store_conn_t *c)
{
	lite_store *s = LS(c->store);
	if (LC(c)->wb)
		return;
	if (s->db_fd < 0) /* opened once, closed after the connections (sqlite_wb.c) */
		s->db_fd = open(s->path, O_RDONLY | O_CLOEXEC);
	char wal[4096];
	snprintf(wal, sizeof wal, "%s-wal", s->path);
	LC(c)->wb = lite_wb_start(wal, s->db_fd);
}

static int lite_suspend_trigger(store_conn_t *c, const char *name, char *err, size_t errlen)
{
	return lite_bulk_suspend_trigger(LC(c)->db, name, &LC(c)->bulk, err, errlen);
}

static store_stmt_t *lite_prepare(store_conn_t *base, const char *sql)
{
	lite_conn *c = LC(base);
	uintptr_t h = (uintptr_t)sql;
	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ull;
	unsigned i = (unsigned)(h >> 40) & (STMT_SLOTS - 1);
	for (unsigned probe = 0; probe < STMT_SLOTS; probe++, i = (i + 1) & (STMT_SLOTS - 1)) {
		lite_stmt *e = &c->stmts[i];
		if (e->base.key == sql) {
			if (e->base.t0)
				store_stmt_timed(&e->base);
			e->base.shape = 0;
			sqlite3_reset(e->st);
			sqlite3_clear_bindings(e->st);
			return &e->base;
		}
		if (!e->base.key) {
			if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &e->st, NULL) != SQLITE_OK) {
				log_error("store: cannot prepare: %s: %s", sqlite3_errmsg(c->db), sql);
				e->st = NULL;
				return NULL;
			}
			e->base.key = sql;
			e->base.conn = base;
			return &e->base;
		}
	}
	log_error("store: statement cache full");
	return NULL;
}

static void lite_bind(store_stmt_t *t, int idx, int kind, int64_t i, double d, const void *p, size_t len, bool copy)
{
	sqlite3_stmt *st = LT(t)->st;
	if (LT(t)->batch) {
		lite_batch_bind(LT(t)->batch, idx, kind, i, d, p, len, copy);
		return;
	}
	switch (kind) {
	case STORE_V_INT: sqlite3_bind_int64(st, idx, i); break;
	case STORE_V_REAL: sqlite3_bind_double(st, idx, d); break;
	case STORE_V_TEXT:
		sqlite3_bind_text64(st, idx, p, len, copy ? SQLITE_TRANSIENT : SQLITE_STATIC, SQLITE_UTF8);
		break;
	case STORE_V_BLOB: sqlite3_bind_blob64(st, idx, p, len, SQLITE_TRANSIENT); break;
	default: sqlite3_bind_null(st, idx); break;
	}
}

static store_status lite_step(store_stmt_t *t)
{
	int rc = sqlite3_step(LT(t)->st);
	if (rc == SQLITE_ROW)
		return STORE_ROW;
	if (rc == SQLITE_DONE)
		return STORE_DONE;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return STORE_CONSTRAINT;
	log_error("store: %s", sqlite3_errmsg(LC(t->conn)->db));
	return STORE_ERROR;
}

static int64_t lite_col_i64(store_stmt_t *t, int col)
{
	return sqlite3_column_int64(LT(t)->st, col);
}

static double lite_col_double(store_stmt_t *t, int col)
{
	return sqlite3_column_double(LT(t)->st, col);
}

static const char *lite_col_text(store_stmt_t *t, int col, size_t *len)
{
	const unsigned char *s = sqlite3_column_text(LT(t)->st, col);
	if (len)
		*len = s ? (size_t)sqlite3_column_bytes(LT(t)->st, col) : 0;
	return s ? (const char *)s : "";
}

static bool lite_col_is_null(store_stmt_t *t, int col)
{
	return sqlite3_column_type(LT(t)->st, col) == SQLITE_NULL;
}

static void lite_reset(store_stmt_t *t)
{
	sqlite3_reset(LT(t)->st);
	sqlite3_clear_bindings(LT(t)->st);
}

static bool lite_stmt_writes(store_stmt_t *t)
{
	return !sqlite3_stmt_readonly(LT(t)->st);
}

static int lite_stmt_nparams(store_stmt_t *t)
{
	return sqlite3_bind_parameter_count(LT(t)->st);
}

static int lite_exec(store_conn_t *c, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(LC(c)->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("store: %s: %s", msg ? msg : "?", sql);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int64_t lite_changes(store_conn_t *c)
{
	return sqlite3_changes64(LC(c)->db);
}

static const char *lite_errmsg(store_conn_t *c)
{
	return sqlite3_errmsg(LC(c)->db);
}

/* One look at PRAGMA data_version (a prepared statement: about a
 * microsecond), and a reload when another connection committed. */
static bool lite_refresh(store_t *base)
{
	lite_store *s = LS(base);
	/* The header is read first: a commit landing during the look makes the
	 * next nowait check differ and look again, never the reverse. */
	uint8_t h[WAL_HDR];
	bool hdr_ok = s->shm && shm_header(s, h);
	int64_t dv = -1;
	if (!s->ver_stmt && sqlite3_prepare_v3(s->ver_db, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT,
	                                       &s->ver_stmt, NULL) != SQLITE_OK)
		s->ver_stmt = NULL;
	if (s->ver_stmt) {
		if (sqlite3_step(s->ver_stmt) == SQLITE_ROW)
			dv = sqlite3_column_int64(s->ver_stmt, 0);
		sqlite3_reset(s->ver_stmt);
	}
	bool ok = dv >= 0;
	if (ok && dv != s->ver_seen) {
		ok = vers_load(s);
		if (ok) {
			s->ver_seen = dv;
			atomic_fetch_add(&base->reloads, 1);
		}
	}
	pthread_mutex_lock(&base->ver_lock);
	s->shm_seen_ok = ok && hdr_ok;
	if (hdr_ok)
		memcpy(s->shm_seen, h, WAL_HDR);
	pthread_mutex_unlock(&base->ver_lock);
	atomic_store(&s->refresh_ok, ok);
	atomic_store(&s->refreshed_us, (uint64_t)(clock_now_s() * 1e6));
	return ok;
}

static int lite_refresh_try(store_t *base)
{
	/* No SQLite call here (one could wait on a lock for seconds): the
	 * WAL-index header in the shared memory file changes with every commit
	 * of any process. Unchanged since the last full look: the versions in
	 * memory are exact. Changed (or unreadable): let a worker look. */
	lite_store *s = LS(base);
	uint8_t h[WAL_HDR];
	if (!s->shm || !shm_header(s, h))
		return 0;
	pthread_mutex_lock(&base->ver_lock);
	bool same = s->shm_seen_ok && memcmp(h, s->shm_seen, WAL_HDR) == 0;
	pthread_mutex_unlock(&base->ver_lock);
	return same && atomic_load(&s->refresh_ok) ? 1 : 0;
}

static void lite_sizes(store_t *base, int64_t *db_bytes, int64_t *wal_bytes)
{
	lite_store *s = LS(base);
	struct stat st;
	char wal[4096];
	*db_bytes = stat(s->path, &st) == 0 ? (int64_t)st.st_size : 0;
	snprintf(wal, sizeof wal, "%s-wal", s->path);
	*wal_bytes = stat(wal, &st) == 0 ? (int64_t)st.st_size : 0;
}

const store_backend store_sqlite_backend = {
	.name = "sqlite",
	.open = lite_open,
	.close = lite_close,
	.read_begin = lite_read_begin,
	.read_end = lite_read_end,
	.page_cache_bytes = lite_page_cache_bytes,
	.write_begin = lite_write_begin,
	.commit = lite_commit,
	.rollback = lite_rollback,
	.prepare = lite_prepare,
	.bind = lite_bind,
	.step = lite_step,
	.col_i64 = lite_col_i64,
	.col_double = lite_col_double,
	.col_text = lite_col_text,
	.col_is_null = lite_col_is_null,
	.reset = lite_reset,
	.stmt_writes = lite_stmt_writes,
	.stmt_nparams = lite_stmt_nparams,
	.exec = lite_exec,
	.changes = lite_changes,
	.errmsg = lite_errmsg,
	.refresh = lite_refresh,
	.refresh_try = lite_refresh_try,
	.sizes = lite_sizes,
	.batch_new = lite_batch_new,
	.batch_stmt = lite_batch_stmt,
	.batch_row = lite_batch_row,
	.batch_rows = lite_batch_rows,
	.batch_run = lite_batch_run,
	.batch_bulk = lite_batch_bulk,
	.batch_free = lite_batch_free,
	.suspend_trigger = lite_suspend_trigger,
	.write_long = lite_write_long,
};
