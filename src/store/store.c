#include "store/store.h"
#include "store/searchidx.h"

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

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "monitor/qstats.h"
#include "store/schema.h"

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
 * A PostgreSQL backend implements this same header: store.c becomes the
 * dispatch over a table of functions, with this file's code as the SQLite
 * entry. Callers already write portable SQL with `?` placeholders. */

#define STMT_SLOTS 128 /* per connection; power of two */
#define WAL_HDR 48     /* bytes of one copy of the WAL-index header */

struct store_stmt {
	const char *key;
	sqlite3_stmt *st;
	store_conn_t *conn;
	uint64_t t0;    /* monotonic ns of the first step; 0 = not running */
	uint64_t shape; /* bound parameter types, for slow-query logs */
};

struct store_conn {
	store_t *store;
	sqlite3 *db;
	struct store_stmt stmts[STMT_SLOTS];
	bool in_use;
	/* write transaction state: touched (org, mask) pairs */
	int64_t *touch_org;
	unsigned *touch_mask;
	int ntouch, captouch;
};

typedef struct {
	int64_t org;
	uint64_t v[TBL__COUNT];
} org_versions;

struct store {
	char *path;
	store_opts opts;
	store_conn_t *readers;
	int nreaders;
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	store_conn_t writer;
	pthread_mutex_t write_lock;
	/* versions: a small array (orgs are few per instance); guarded */
	pthread_mutex_t ver_lock;
	pthread_mutex_t refresh_lock; /* guards ver_db; never the writer's lock, so
	                               * a long import does not stall readers */
	org_versions *vers;
	int nvers, capvers;
	_Atomic uint64_t refreshed_us; /* last store_refresh_versions look */
	_Atomic uint64_t refresh_since_us; /* a look in progress since, or 0 */
	const uint8_t *shm;            /* read-only map of brisk.db-shm */
	int shm_fd;                    /* kept open: see map_shm */
	size_t shm_len;
	uint8_t shm_seen[48];          /* its header at the last full look (ver_lock) */
	bool shm_seen_ok;
	sqlite3_stmt *ver_stmt;        /* PRAGMA data_version on ver_db */
	atomic_bool refresh_ok;
	_Atomic uint64_t reloads;      /* versions reloaded after outside commits */
	pthread_t watch_tid;           /* store_watch_versions */
	bool watching;
	atomic_bool watch_stop;
	unsigned watch_period_us;
	sqlite3 *ver_db; /* dedicated connection to notice other processes' commits */
	int64_t ver_seen;
	store_change_fn on_change;
	void *on_change_ud;
	int schema_version;
};

static int conn_open(store_t *s, store_conn_t *c, bool writer, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->store = s;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(s->path, &c->db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", s->path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
		sqlite3_close(c->db);
		c->db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(c->db, s->opts.busy_timeout_ms);
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
	         "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
	         "PRAGMA cache_size=-%lld; PRAGMA mmap_size=%lld; PRAGMA temp_store=MEMORY;"
	         "PRAGMA journal_size_limit=67108864;",
	         (long long)s->opts.cache_kib, (long long)s->opts.mmap_bytes);
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

static void conn_close(store_conn_t *c)
{
	free(c->touch_org);
	free(c->touch_mask);
	c->touch_org = NULL;
	c->touch_mask = NULL;
	if (!c->db)
		return;
	for (int i = 0; i < STMT_SLOTS; i++)
		if (c->stmts[i].st)
			sqlite3_finalize(c->stmts[i].st);
	sqlite3_close(c->db);
	c->db = NULL;
}

static int migrate(store_t *s, char *err, size_t errlen)
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
	s->schema_version = schema_count();
	return 0;
}

static org_versions *vers_find(store_t *s, int64_t org, bool create)
{
	for (int i = 0; i < s->nvers; i++)
		if (s->vers[i].org == org)
			return &s->vers[i];
	if (!create)
		return NULL;
	if (s->nvers == s->capvers) {
		s->capvers = s->capvers ? s->capvers * 2 : 8;
		s->vers = xrealloc(s->vers, (size_t)s->capvers * sizeof *s->vers);
	}
	org_versions *v = &s->vers[s->nvers++];
	memset(v, 0, sizeof *v);
	v->org = org;
	return v;
}

/* The WAL-index header (the first copy, 48 bytes) of the -shm file. Both
 * copies equal means no writer was half way through updating it. */
static bool shm_header(store_t *s, uint8_t *out)
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
static bool vers_load(store_t *s)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->ver_db, "SELECT org, tbl, version FROM data_versions", -1, &st, NULL) != SQLITE_OK)
		return false;
	int rc;
	pthread_mutex_lock(&s->ver_lock);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int tbl = sqlite3_column_int(st, 1);
		if (tbl < 0 || tbl >= TBL__COUNT)
			continue;
		org_versions *v = vers_find(s, sqlite3_column_int64(st, 0), true);
		v->v[tbl] = (uint64_t)sqlite3_column_int64(st, 2);
	}
	pthread_mutex_unlock(&s->ver_lock);
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
static void map_shm(store_t *s)
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

store_t *store_open(const char *dir, const store_opts *opts, char *err, size_t errlen)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create data directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	store_t *s = xcalloc(1, sizeof *s);
	s->shm_fd = -1;
	size_t n = strlen(dir) + 16;
	s->path = xmalloc(n);
	snprintf(s->path, n, "%s/brisk.db", dir);
	store_opts d = {0};
	if (opts)
		d = *opts;
	if (d.read_conns <= 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		d.read_conns = cores > 0 ? (int)cores * 2 : 4;
		if (d.read_conns < 2)
			d.read_conns = 2;
	}
	if (d.cache_kib <= 0)
		d.cache_kib = 64 * 1024;
	if (d.mmap_bytes <= 0)
		d.mmap_bytes = (int64_t)1 << 30;
	if (d.busy_timeout_ms <= 0)
		d.busy_timeout_ms = 5000;
	s->opts = d;
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_cond_init(&s->pool_cond, NULL);
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_mutex_init(&s->ver_lock, NULL);
	pthread_mutex_init(&s->refresh_lock, NULL);

	if (conn_open(s, &s->writer, true, err, errlen) != 0)
		goto fail;
	if (migrate(s, err, errlen) != 0)
		goto fail;
	s->readers = xcalloc((size_t)d.read_conns, sizeof *s->readers);
	for (int i = 0; i < d.read_conns; i++) {
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
	return s;
fail:
	store_close(s);
	return NULL;
}

void store_close(store_t *s)
{
	if (!s)
		return;
	if (s->watching) {
		atomic_store(&s->watch_stop, true);
		pthread_join(s->watch_tid, NULL);
	}
	/* The writer closes last: the last connection to close checkpoints the
	 * WAL into the database and removes it, which a read-only one cannot. */
	if (s->ver_stmt)
		sqlite3_finalize(s->ver_stmt);
	if (s->ver_db)
		sqlite3_close(s->ver_db);
	for (int i = 0; i < s->nreaders; i++)
		conn_close(&s->readers[i]);
	conn_close(&s->writer);
	/* only now that SQLite holds no locks on the file (see map_shm) */
	if (s->shm)
		munmap((void *)s->shm, s->shm_len);
	if (s->shm_fd >= 0)
		close(s->shm_fd);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_cond_destroy(&s->pool_cond);
	pthread_mutex_destroy(&s->write_lock);
	pthread_mutex_destroy(&s->ver_lock);
	pthread_mutex_destroy(&s->refresh_lock);
	free(s->readers);
	free(s->vers);
	free(s->path);
	free(s);
}

int store_schema_version(store_t *s)
{
	return s->schema_version;
}

store_conn_t *store_read_begin(store_t *s)
{
	pthread_mutex_lock(&s->pool_lock);
	store_conn_t *c = NULL;
	for (;;) {
		for (int i = 0; i < s->nreaders; i++)
			if (!s->readers[i].in_use) {
				c = &s->readers[i];
				break;
			}
		if (c)
			break;
		pthread_cond_wait(&s->pool_cond, &s->pool_lock);
	}
	c->in_use = true;
	pthread_mutex_unlock(&s->pool_lock);
	/* BEGIN is deferred: the snapshot starts at the first read. */
	sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL);
	return c;
}

void store_read_end(store_conn_t *c)
{
	sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	store_t *s = c->store;
	pthread_mutex_lock(&s->pool_lock);
	c->in_use = false;
	pthread_cond_signal(&s->pool_cond);
	pthread_mutex_unlock(&s->pool_lock);
}

store_conn_t *store_write_begin(store_t *s, char *err, size_t errlen)
{
	pthread_mutex_lock(&s->write_lock);
	store_conn_t *c = &s->writer;
	c->ntouch = 0;
	char *msg = NULL;
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "the store is busy (%s): another process may be writing; try again",
		         msg ? msg : sqlite3_errmsg(c->db));
		sqlite3_free(msg);
		pthread_mutex_unlock(&s->write_lock);
		return NULL;
	}
	return c;
}

void store_write_touch(store_conn_t *c, int64_t org, unsigned mask)
{
	for (int i = 0; i < c->ntouch; i++)
		if (c->touch_org[i] == org) {
			c->touch_mask[i] |= mask;
			return;
		}
	if (c->ntouch == c->captouch) {
		c->captouch = c->captouch ? c->captouch * 2 : 8;
		c->touch_org = xrealloc(c->touch_org, (size_t)c->captouch * sizeof *c->touch_org);
		c->touch_mask = xrealloc(c->touch_mask, (size_t)c->captouch * sizeof *c->touch_mask);
	}
	c->touch_org[c->ntouch] = org;
	c->touch_mask[c->ntouch++] = mask;
}

int store_write_commit(store_conn_t *c, char *err, size_t errlen)
{
	store_t *s = c->store;
	static const char *bump =
		"INSERT INTO data_versions(org, tbl, version) VALUES(?, ?, 1) "
		"ON CONFLICT(org, tbl) DO UPDATE SET version = version + 1 RETURNING version";
	/* Text-search index changes queued by triggers (searchidx.c). */
	if (searchidx_sync(c) != 0) {
		snprintf(err, errlen, "commit failed: updating the search index: %s", sqlite3_errmsg(c->db));
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		c->ntouch = 0;
		pthread_mutex_unlock(&s->write_lock);
		return -1;
	}
	uint64_t (*newv)[TBL__COUNT] = xcalloc((size_t)c->ntouch + 1, sizeof *newv);
	for (int i = 0; i < c->ntouch; i++)
		for (int t = 0; t < TBL__COUNT; t++) {
			if (!(c->touch_mask[i] & TBL_BIT(t)))
				continue;
			store_stmt_t *st = store_prepare(c, bump);
			store_bind_i64(st, 1, c->touch_org[i]);
			store_bind_i64(st, 2, t);
			if (st && store_step(st) == STORE_ROW)
				newv[i][t] = (uint64_t)store_col_i64(st, 0);
			store_reset(st);
		}
	if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "commit failed: %s", sqlite3_errmsg(c->db));
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		c->ntouch = 0;
		free(newv);
		pthread_mutex_unlock(&s->write_lock);
		return -1;
	}
	pthread_mutex_lock(&s->ver_lock);
	for (int i = 0; i < c->ntouch; i++) {
		org_versions *v = vers_find(s, c->touch_org[i], true);
		for (int t = 0; t < TBL__COUNT; t++)
			if (newv[i][t] > v->v[t])
				v->v[t] = newv[i][t];
	}
	pthread_mutex_unlock(&s->ver_lock);
	free(newv);
	int n = c->ntouch;
	int64_t *orgs = xmalloc((size_t)n * sizeof *orgs + 1);
	unsigned *masks = xmalloc((size_t)n * sizeof *masks + 1);
	if (n) {
		memcpy(orgs, c->touch_org, (size_t)n * sizeof *orgs);
		memcpy(masks, c->touch_mask, (size_t)n * sizeof *masks);
	}
	c->ntouch = 0;
	pthread_mutex_unlock(&s->write_lock);
	if (s->on_change)
		for (int i = 0; i < n; i++)
			s->on_change(s->on_change_ud, orgs[i], masks[i]);
	free(orgs);
	free(masks);
	return 0;
}

void store_write_rollback(store_conn_t *c)
{
	sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	c->ntouch = 0;
	pthread_mutex_unlock(&c->store->write_lock);
}

/* Every statement is timed from its first step to its last (DONE or an
 * error) or its reset, and reported to monitor/qstats. */
static void stmt_timed(store_stmt_t *st)
{
	qstats_record(st->key, qstats_now_ns() - st->t0, !sqlite3_stmt_readonly(st->st),
	              sqlite3_bind_parameter_count(st->st), st->shape);
	st->t0 = 0;
}

store_stmt_t *store_prepare(store_conn_t *c, const char *sql)
{
	uintptr_t h = (uintptr_t)sql;
	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ull;
	unsigned i = (unsigned)(h >> 40) & (STMT_SLOTS - 1);
	for (unsigned probe = 0; probe < STMT_SLOTS; probe++, i = (i + 1) & (STMT_SLOTS - 1)) {
		struct store_stmt *e = &c->stmts[i];
		if (e->key == sql) {
			if (e->t0)
				stmt_timed(e);
			e->shape = 0;
			sqlite3_reset(e->st);
			sqlite3_clear_bindings(e->st);
			return e;
		}
		if (!e->key) {
			if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &e->st, NULL) != SQLITE_OK) {
				log_error("store: cannot prepare: %s: %s", sqlite3_errmsg(c->db), sql);
				e->st = NULL;
				return NULL;
			}
			e->key = sql;
			e->conn = c;
			return e;
		}
	}
	log_error("store: statement cache full");
	return NULL;
}

void store_bind_i64(store_stmt_t *st, int idx, int64_t v)
{
	if (st) {
		QSTATS_SHAPE_SET(st->shape, idx, QSTATS_P_INT);
		sqlite3_bind_int64(st->st, idx, v);
	}
}

void store_bind_double(store_stmt_t *st, int idx, double v)
{
	if (st) {
		QSTATS_SHAPE_SET(st->shape, idx, QSTATS_P_REAL);
		sqlite3_bind_double(st->st, idx, v);
	}
}

void store_bind_text(store_stmt_t *st, int idx, const char *s, size_t len)
{
	if (st) {
		QSTATS_SHAPE_SET(st->shape, idx, QSTATS_P_TEXT);
		sqlite3_bind_text64(st->st, idx, s ? s : "", s ? len : 0, SQLITE_TRANSIENT, SQLITE_UTF8);
	}
}

void store_bind_text_nocopy(store_stmt_t *st, int idx, const char *s, size_t len)
{
	if (st) {
		QSTATS_SHAPE_SET(st->shape, idx, QSTATS_P_TEXT);
		sqlite3_bind_text64(st->st, idx, s ? s : "", s ? len : 0, SQLITE_STATIC, SQLITE_UTF8);
	}
}

void store_bind_blob(store_stmt_t *st, int idx, const void *p, size_t len)
{
	if (st) {
		QSTATS_SHAPE_SET(st->shape, idx, QSTATS_P_BLOB);
		sqlite3_bind_blob64(st->st, idx, p, len, SQLITE_TRANSIENT);
	}
}

void store_bind_null(store_stmt_t *st, int idx)
{
	if (st) {
		QSTATS_SHAPE_SET(st->shape, idx, QSTATS_P_NULL);
		sqlite3_bind_null(st->st, idx);
	}
}

store_status store_step(store_stmt_t *st)
{
	if (!st)
		return STORE_ERROR;
	if (!st->t0)
		st->t0 = qstats_now_ns();
	int rc = sqlite3_step(st->st);
	if (rc != SQLITE_ROW)
		stmt_timed(st);
	if (rc == SQLITE_ROW)
		return STORE_ROW;
	if (rc == SQLITE_DONE)
		return STORE_DONE;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return STORE_CONSTRAINT;
	log_error("store: %s", sqlite3_errmsg(st->conn->db));
	return STORE_ERROR;
}

int64_t store_col_i64(store_stmt_t *st, int col)
{
	return sqlite3_column_int64(st->st, col);
}

double store_col_double(store_stmt_t *st, int col)
{
	return sqlite3_column_double(st->st, col);
}

const char *store_col_text(store_stmt_t *st, int col, size_t *len)
{
	const unsigned char *t = sqlite3_column_text(st->st, col);
	if (len)
		*len = t ? (size_t)sqlite3_column_bytes(st->st, col) : 0;
	return t ? (const char *)t : "";
}

bool store_col_is_null(store_stmt_t *st, int col)
{
	return sqlite3_column_type(st->st, col) == SQLITE_NULL;
}

void store_reset(store_stmt_t *st)
{
	if (st) {
		if (st->t0)
			stmt_timed(st);
		st->shape = 0;
		sqlite3_reset(st->st);
		sqlite3_clear_bindings(st->st);
	}
}

int store_exec(store_conn_t *c, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("store: %s: %s", msg ? msg : "?", sql);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int64_t store_changes(store_conn_t *c)
{
	return sqlite3_changes64(c->db);
}

const char *store_errmsg(store_conn_t *c)
{
	return sqlite3_errmsg(c->db);
}

store_t *store_of(store_conn_t *c)
{
	return c->store;
}

uint64_t store_version(store_t *s, int64_t org, store_table t)
{
	pthread_mutex_lock(&s->ver_lock);
	org_versions *v = vers_find(s, org, false);
	uint64_t r = v ? v->v[t] : 0;
	pthread_mutex_unlock(&s->ver_lock);
	return r;
}

/* One look at PRAGMA data_version (a prepared statement: about a
 * microsecond), and a reload when another connection committed. Called
 * with refresh_lock held. */
static bool refresh_locked(store_t *s)
{
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
			atomic_fetch_add(&s->reloads, 1);
		}
	}
	pthread_mutex_lock(&s->ver_lock);
	s->shm_seen_ok = ok && hdr_ok;
	if (hdr_ok)
		memcpy(s->shm_seen, h, WAL_HDR);
	pthread_mutex_unlock(&s->ver_lock);
	atomic_store(&s->refresh_ok, ok);
	atomic_store(&s->refreshed_us, (uint64_t)(clock_now_s() * 1e6));
	return ok;
}

bool store_refresh_versions(store_t *s)
{
	pthread_mutex_lock(&s->refresh_lock);
	atomic_store(&s->refresh_since_us, (uint64_t)(clock_now_s() * 1e6));
	bool ok = refresh_locked(s);
	atomic_store(&s->refresh_since_us, 0);
	pthread_mutex_unlock(&s->refresh_lock);
	return ok;
}

int store_refresh_versions_try(store_t *s)
{
	/* No SQLite call here (one could wait on a lock for seconds): the
	 * WAL-index header in the shared memory file changes with every commit
	 * of any process. Unchanged since the last full look: the versions in
	 * memory are exact. Changed (or unreadable): let a worker look. */
	uint8_t h[WAL_HDR];
	if (!s->shm || !shm_header(s, h))
		return 0;
	pthread_mutex_lock(&s->ver_lock);
	bool same = s->shm_seen_ok && memcmp(h, s->shm_seen, WAL_HDR) == 0;
	pthread_mutex_unlock(&s->ver_lock);
	return same && atomic_load(&s->refresh_ok) ? 1 : 0;
}

uint64_t store_version_reloads(store_t *s)
{
	return atomic_load(&s->reloads);
}

static void *watch_main(void *arg)
{
	store_t *s = arg;
	while (!atomic_load(&s->watch_stop)) {
		store_refresh_versions(s);
		usleep((useconds_t)s->watch_period_us);
	}
	return NULL;
}

void store_watch_versions(store_t *s, unsigned period_us)
{
	if (s->watching)
		return;
	s->watch_period_us = period_us ? period_us : 1000;
	s->watching = pthread_create(&s->watch_tid, NULL, watch_main, s) == 0;
}

void store_on_change(store_t *s, store_change_fn fn, void *ud)
{
	s->on_change = fn;
	s->on_change_ud = ud;
}

int64_t store_org_id(store_t *s, const char *slug, bool create, char *err, size_t errlen)
{
	static const char *q = "SELECT id FROM orgs WHERE slug = ?";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	store_bind_text(st, 1, slug, strlen(slug));
	int64_t id = store_step(st) == STORE_ROW ? store_col_i64(st, 0) : -1;
	store_reset(st);
	store_read_end(c);
	if (id >= 0 || !create) {
		if (id < 0)
			snprintf(err, errlen, "no organisation '%s'", slug);
		return id;
	}
	static const char *ins = "INSERT INTO orgs(slug, name) VALUES(?, ?) "
	                         "ON CONFLICT(slug) DO UPDATE SET slug = slug RETURNING id";
	c = store_write_begin(s, err, errlen);
	if (!c)
		return -1;
	st = store_prepare(c, ins);
	store_bind_text(st, 1, slug, strlen(slug));
	store_bind_text(st, 2, slug, strlen(slug));
	id = store_step(st) == STORE_ROW ? store_col_i64(st, 0) : -1;
	store_reset(st);
	if (id < 0) {
		snprintf(err, errlen, "cannot create organisation '%s': %s", slug, store_errmsg(c));
		store_write_rollback(c);
		return -1;
	}
	if (store_write_commit(c, err, errlen) != 0)
		return -1;
	return id;
}

void store_file_sizes(store_t *s, int64_t *db_bytes, int64_t *wal_bytes)
{
	struct stat st;
	char wal[4096];
	*db_bytes = stat(s->path, &st) == 0 ? (int64_t)st.st_size : 0;
	snprintf(wal, sizeof wal, "%s-wal", s->path);
	*wal_bytes = stat(wal, &st) == 0 ? (int64_t)st.st_size : 0;
}
