/* store backend: PostgreSQL over libpq (scale-out). */
#include <endian.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "monitor/qstats.h"
#include "store/backend.h"
#include "store/dialect.h"
#include "store/schema.h"

/* DESIGN
 * The same contract as sqlite.c on a server:
 * - Reads: a pool of connections (opened on first use, store.pool_size),
 *   each read a REPEATABLE READ READ ONLY transaction: one snapshot, as a
 *   SQLite read transaction. Its BEGIN travels in one pipeline with the
 *   first statement and its ROLLBACK is not waited for (its answer is
 *   read when the connection is next taken), so a read costs one round
 *   trip per statement and none more: a dashboard runs about twenty.
 * - Writes: one writer connection per process, and one writer across all
 *   processes and instances through a transaction-scoped advisory lock
 *   taken at BEGIN (SQLite's single-writer rule, which the rollups rely on:
 *   no two transactions race to update one rollup cell). A writer waiting
 *   longer than busy_timeout gets "busy", as on SQLite.
 * - Statements: the caller's SQL literal is translated once (dialect.c),
 *   prepared with PQprepare on first use per connection and cached by the
 *   literal's address; parameter types come from the first binding (int8,
 *   float8; text and NULL inferred) and PQdescribePrepared tells the types
 *   PostgreSQL settled on, so each value is sent in binary when the types
 *   agree and as text (converted by PostgreSQL) when they do not. Results
 *   come as text and are parsed by the accessors.
 * - Versions: every commit that touched a table NOTIFYs brisk_versions (in
 *   the transaction: delivered only if it commits); a listener connection
 *   reloads data_versions when one arrives, so commits of other processes
 *   and instances are seen within milliseconds.
 * - A lost connection is reset on its next use (statements re-prepared);
 *   the statement that met the loss fails and the caller reports it. A
 *   read or write that finds its pooled connection dead at BEGIN (the
 *   server restarted while it idled) reconnects and goes on: only work in
 *   flight when the server went away fails. Every loss and failed connect
 *   is counted (store_faults), and the last connect's outcome kept
 *   (store_reachable), so the HTTP layer answers 503 + Retry-After, not
 *   500, for the seconds the server is away.
 * - Read replicas (store_opts.read_urls): every commit bumps
 *   brisk_commits.n. A read first learns the primary's counter (a shared
 *   version look: at least every write acknowledged before it began), then
 *   opens its snapshot on a replica with `SELECT n FROM brisk_commits`: a
 *   replica that has replayed that far serves the whole read transaction
 *   from a snapshot holding every such write; one that has not is left and
 *   the read goes to the primary. A replica is never waited for, and its
 *   faults never make the store unavailable. */

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
#define ANALYZE_AFTER_ROWS 10000

typedef struct {
	store_t base;
	char *url;
	pg_conn *readers;
	int nreaders;
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	pg_conn writer;
	PGconn *listen; /* LISTEN brisk_versions; version loads; sizes (refresh_lock) */
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
} pg_store;

#define PS(s) ((pg_store *)(s))
#define PC(c) ((pg_conn *)(c))
#define PT(t) ((pg_stmt *)(t))

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* NOTICEs (e.g. "relation exists, skipping") are not ours to print */
}

/* First line of libpq's message (they end in newlines, some have two). */
static void first_line(char *dst, size_t n, const char *msg)
{
	snprintf(dst, n, "%s", msg ? msg : "?");
	char *nl = strchr(dst, '\n');
	if (nl)
		*nl = 0;
}

/* The server went away (or could not be reached): counted, kept. */
static void note_down(pg_store *s, const char *why)
{
	atomic_fetch_add(&s->faults, 1);
	pthread_mutex_lock(&s->why_lock);
	snprintf(s->why, sizeof s->why, "%s", why);
	pthread_mutex_unlock(&s->why_lock);
	/* logged once per outage, not at every attempt of every connection;
	 * brisk's own start says it once, as its error */
	if (!atomic_exchange(&s->down, true) && s->opened)
		log_error("store: PostgreSQL is unavailable (%s); requests get 503 until it is back", why);
}

static void note_up(pg_store *s)
{
	if (atomic_exchange(&s->down, false) && s->opened)
		log_info("store: PostgreSQL is reachable again");
}

/* Whether a failure means the connection (or the server) is gone rather
 * than the statement being wrong: connection exceptions (08), the server
 * shutting down or restarting (57P0x). */
static bool is_loss(PGconn *pc, const PGresult *r)
{
	if (!pc || PQstatus(pc) != CONNECTION_OK)
		return true;
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	return state && (!strncmp(state, "08", 2) || !strncmp(state, "57P", 3));
}

/* A connection to url (the primary's or a replica's: only the primary's
 * faults make the store unavailable). */
static PGconn *connect_url(pg_store *s, const char *url, char *err, size_t errlen)
{
	bool primary = url == s->url;
	PGconn *pc = PQconnectdb(url);
	if (!pc || PQstatus(pc) != CONNECTION_OK) {
		char why[300];
		first_line(why, sizeof why, pc ? PQerrorMessage(pc) : "out of memory");
		snprintf(err, errlen, "cannot connect to PostgreSQL (%s:%s/%s): %s", pc && PQhost(pc) ? PQhost(pc) : "?",
		         pc && PQport(pc) ? PQport(pc) : "?", pc && PQdb(pc) ? PQdb(pc) : "?", why);
		PQfinish(pc);
		if (primary)
			note_down(s, err);
		return NULL;
	}
	PQsetNoticeProcessor(pc, quiet, NULL);
	char sql[256];
	snprintf(sql, sizeof sql,
	         "SET statement_timeout = %d; SET application_name = 'brisk'; SET TIME ZONE 'UTC';"
	         "SET client_min_messages = warning",
	         s->base.opts.statement_timeout_ms);
	PGresult *r = PQexec(pc, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		first_line(err, errlen, PQerrorMessage(pc));
		if (primary && is_loss(pc, r))
			note_down(s, err);
		PQclear(r);
		PQfinish(pc);
		return NULL;
	}
	PQclear(r);
	if (primary)
		note_up(s);
	return pc;
}

static PGconn *connect_to(pg_store *s, char *err, size_t errlen)
{
	return connect_url(s, s->url, err, errlen);
}

static void stmt_clear(pg_stmt *st)
{
	if (st->res)
		PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	st->nrows = 0;
	st->finished = false;
	for (int i = 0; i < st->nparams; i++) {
		free(st->vals[i].owned);
		memset(&st->vals[i], 0, sizeof st->vals[i]);
	}
}

static void stmt_free(pg_stmt *st)
{
	stmt_clear(st);
	free(st->sql);
	free(st->types);
	free(st->vals);
	free(st);
}

/* The connection is usable, reconnecting if it was lost (its prepared
 * statements died with it). */
static bool conn_ensure(pg_conn *c)
{
	pg_store *s = PS(c->base.store);
	if (c->pc && PQstatus(c->pc) == CONNECTION_OK)
		return true;
	if (c->pc) {
		PQreset(c->pc);
		if (PQstatus(c->pc) == CONNECTION_OK) {
			PQfinish(c->pc); /* reset kept no session settings: start clean */
			c->pc = NULL;
		}
	}
	if (c->pc) {
		PQfinish(c->pc);
		c->pc = NULL;
	}
	for (int i = 0; i < STMT_SLOTS; i++)
		if (c->stmts[i]) {
			stmt_clear(c->stmts[i]);
			c->stmts[i]->prepared = false;
		}
	c->pc = connect_url(s, c->url ? c->url : s->url, c->err, sizeof c->err);
	c->rollback_pending = false;
	return c->pc != NULL;
}

static void conn_close(pg_conn *c)
{
	store_conn_free_touch(&c->base);
	for (int i = 0; i < STMT_SLOTS; i++)
		if (c->stmts[i])
			stmt_free(c->stmts[i]);
	memset(c->stmts, 0, sizeof c->stmts);
	if (c->pc)
		PQfinish(c->pc);
	c->pc = NULL;
}

/* Runs sql (no parameters); false with the reason in err. */
static bool run(PGconn *pc, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(pc, sql);
	ExecStatusType rs = PQresultStatus(r);
	bool ok = rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK;
	if (!ok && err)
		first_line(err, errlen, PQerrorMessage(pc));
	PQclear(r);
	return ok;
}

static int migrate(pg_store *s, char *err, size_t errlen)
{
	PGconn *pc = s->writer.pc;
	char sql[256], why[400] = "";
	/* Instances starting together: the lock makes one migrate, the others
	 * wait and then find the schema current. DDL is transactional here, so
	 * all pending migrations and the version commit as one. */
	snprintf(sql, sizeof sql,
	         "BEGIN; SELECT pg_advisory_xact_lock(%lld);"
	         "CREATE TABLE IF NOT EXISTS brisk_schema(version BIGINT NOT NULL);"
	         "CREATE TABLE IF NOT EXISTS brisk_commits(n BIGINT NOT NULL);"
	         "INSERT INTO brisk_commits SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM brisk_commits)",
	         ADVISORY_WRITER);
	if (!run(pc, sql, why, sizeof why)) {
		snprintf(err, errlen, "cannot read the schema version: %s", why);
		run(pc, "ROLLBACK", NULL, 0);
		return -1;
	}
	PGresult *r = PQexec(pc, "SELECT coalesce(max(version), 0) FROM brisk_schema");
	int have = PQresultStatus(r) == PGRES_TUPLES_OK ? atoi(PQgetvalue(r, 0, 0)) : -1;
	PQclear(r);
	if (have < 0 || have > schema_count()) {
		if (have < 0)
			snprintf(err, errlen, "cannot read the schema version: %s", PQerrorMessage(pc));
		else
			snprintf(err, errlen, "the database has schema version %d, newer than this brisk (%d): upgrade brisk",
			         have, schema_count());
		run(pc, "ROLLBACK", NULL, 0);
		return -1;
	}
	for (int n = have + 1; n <= schema_count(); n++) {
		char *m = schema_sql_pg(n);
		bool ok = run(pc, m, why, sizeof why);
		free(m);
		if (!ok) {
			snprintf(err, errlen, "migration %d failed on PostgreSQL: %s", n, why);
			run(pc, "ROLLBACK", NULL, 0);
			return -1;
		}
		log_debug("store: applied migration %d", n);
	}
	snprintf(sql, sizeof sql, "DELETE FROM brisk_schema; INSERT INTO brisk_schema VALUES(%d); COMMIT",
	         schema_count());
	if (!run(pc, sql, why, sizeof why)) {
		snprintf(err, errlen, "cannot commit the schema: %s", why);
		run(pc, "ROLLBACK", NULL, 0);
		return -1;
	}
	s->base.schema_version = schema_count();
	return 0;
}

static bool listen_ensure(pg_store *s)
{
	if (s->listen && PQstatus(s->listen) == CONNECTION_OK)
		return true;
	if (s->listen)
		PQfinish(s->listen);
	char err[400];
	s->listen = connect_to(s, err, sizeof err);
	if (!s->listen)
		return false;
	if (!run(s->listen, "LISTEN brisk_versions", err, sizeof err)) {
		log_error("store: cannot listen for version changes: %s", err);
		PQfinish(s->listen);
		s->listen = NULL;
		return false;
	}
	s->loaded = false; /* notifications may have been missed meanwhile */
	return true;
}

static bool vers_load(pg_store *s)
{
	PGresult *r = PQexec(s->listen, "SELECT org, tbl, version FROM data_versions");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return false;
	}
	pthread_mutex_lock(&s->base.ver_lock);
	for (int i = 0; i < PQntuples(r); i++)
		store_vers_put(&s->base, strtoll(PQgetvalue(r, i, 0), NULL, 10), atoi(PQgetvalue(r, i, 1)),
		               strtoull(PQgetvalue(r, i, 2), NULL, 10));
	pthread_mutex_unlock(&s->base.ver_lock);
	PQclear(r);
	return true;
}

/* Parses the replica URLs (separated by commas or spaces) and lays out
 * their pool: read_conns connections per replica, interleaved so that a
 * round robin over the pool is one over the replicas. */
static int replicas_init(pg_store *s, const char *urls, char *err, size_t errlen)
{
	for (const char *p = urls ? urls : ""; *p;) {
		size_t n = strcspn(p, ", \t");
		if (n) {
			if (strncmp(p, "postgresql://", 13) && strncmp(p, "postgres://", 11)) {
				snprintf(err, errlen, "store.read_url: '%.*s' is not a postgresql:// URL", (int)(n > 60 ? 60 : n), p);
				return -1;
			}
			s->rurls = xrealloc(s->rurls, (size_t)(s->nrurls + 1) * sizeof *s->rurls);
			s->rurls[s->nrurls++] = xstrndup(p, n);
		}
		p += n;
		p += strspn(p, ", \t");
	}
	if (!s->nrurls)
		return 0;
	s->nrreaders = s->nrurls * s->base.opts.read_conns;
	s->rreaders = xcalloc((size_t)s->nrreaders, sizeof *s->rreaders);
	for (int i = 0; i < s->nrreaders; i++) {
		s->rreaders[i].base.store = &s->base;
		s->rreaders[i].replica = true;
		s->rreaders[i].url = s->rurls[i % s->nrurls];
	}
	return 0;
}

void store_replica_stats(store_t *base, int *replicas, uint64_t *served, uint64_t *behind)
{
	bool pg = base->be == &store_pg_backend;
	*replicas = pg ? PS(base)->nrurls : 0;
	*served = pg ? atomic_load(&PS(base)->rserved) : 0;
	*behind = pg ? atomic_load(&PS(base)->rbehind) : 0;
}

static void pgs_close(store_t *base);

static store_t *pgs_open(const char *url, const store_opts *o, char *err, size_t errlen)
{
	pg_store *s = xcalloc(1, sizeof *s);
	store_common_init(&s->base, &store_pg_backend, o);
	s->url = xstrdup(url);
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_cond_init(&s->pool_cond, NULL);
	pthread_mutex_init(&s->why_lock, NULL);
	s->writer.base.store = &s->base;
	s->writer.writer = true;
	s->readers = xcalloc((size_t)o->read_conns, sizeof *s->readers);
	s->nreaders = o->read_conns;
	for (int i = 0; i < s->nreaders; i++)
		s->readers[i].base.store = &s->base;
	if (replicas_init(s, o->read_urls, err, errlen) != 0)
		goto fail;
	if (!(s->writer.pc = connect_to(s, err, errlen)))
		goto fail;
	if (migrate(s, err, errlen) != 0)
		goto fail;
	if (!listen_ensure(s) || !vers_load(s)) {
		snprintf(err, errlen, "cannot read data versions from PostgreSQL");
		goto fail;
	}
	s->loaded = true;
	atomic_store(&s->refresh_ok, true);
	s->opened = true;
	return &s->base;
fail:
	pgs_close(&s->base);
	return NULL;
}

static void pgs_close(store_t *base)
{
	pg_store *s = PS(base);
	for (int i = 0; i < s->nreaders; i++)
		conn_close(&s->readers[i]);
	for (int i = 0; i < s->nrreaders; i++)
		conn_close(&s->rreaders[i]);
	for (int i = 0; i < s->nrurls; i++)
		free(s->rurls[i]);
	free(s->rurls);
	free(s->rreaders);
	conn_close(&s->writer);
	if (s->listen)
		PQfinish(s->listen);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_cond_destroy(&s->pool_cond);
	pthread_mutex_destroy(&s->why_lock);
	store_common_free(base);
	free(s->readers);
	free(s->url);
	free(s);
}

/* Takes a free connection of pool[0..n), looking from start, connected
 * ones first (a new connection costs milliseconds), waiting while all are
 * busy, and readies it: the last read's ROLLBACK answer taken, a
 * connection the server closed while it idled found and replaced. */
static pg_conn *pool_take(pg_store *s, pg_conn *pool, int n, int start)
{
	pthread_mutex_lock(&s->pool_lock);
	pg_conn *c = NULL;
	for (;;) {
		for (int pass = 0; pass < 2 && !c; pass++)
			for (int k = 0; k < n; k++) {
				pg_conn *e = &pool[(start + k) % n];
				if (!e->base.in_use && (pass || e->pc)) {
					c = e;
					break;
				}
			}
		if (c)
			break;
		pthread_cond_wait(&s->pool_cond, &s->pool_lock);
	}
	c->base.in_use = true;
	pthread_mutex_unlock(&s->pool_lock);
	if (c->pc && c->rollback_pending) { /* the last read's ROLLBACK answer */
		PGresult *r;
		while ((r = PQgetResult(c->pc)))
			PQclear(r);
		c->rollback_pending = false;
	}
	/* A connection the server closed while it idled (a restart) has its
	 * goodbye, or EOF, waiting on the socket: found without a round trip,
	 * and replaced before the read starts. */
	if (c->pc && PQstatus(c->pc) == CONNECTION_OK) {
		struct pollfd pfd = {.fd = PQsocket(c->pc), .events = POLLIN};
		if (poll(&pfd, 1, 0) > 0)
			PQconsumeInput(c->pc);
	}
	return c;
}

static void pool_give(pg_store *s, pg_conn *c)
{
	pthread_mutex_lock(&s->pool_lock);
	c->base.in_use = false;
	pthread_cond_broadcast(&s->pool_cond); /* waiters wait on either pool */
	pthread_mutex_unlock(&s->pool_lock);
}

/* A read transaction on a replica that has replayed every commit the
 * primary had when this read began, or NULL (none has, none answers: the
 * caller reads on the primary). */
static pg_conn *replica_begin(pg_store *s)
{
	if (atomic_load(&s->rdown_until_ns) > qstats_now_ns() || !store_refresh_versions(&s->base))
		return NULL;
	int64_t need = atomic_load(&s->commits_seen);
	unsigned start = atomic_fetch_add(&s->rnext, 1) % (unsigned)s->nrreaders;
	pg_conn *c = pool_take(s, s->rreaders, s->nrreaders, (int)start);
	bool ok = false;
	if (conn_ensure(c)) {
		/* The first statement takes the snapshot the whole read sees. */
		PGresult *r = PQexec(c->pc, READ_BEGIN "; SELECT n FROM brisk_commits");
		ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
		     strtoll(PQgetvalue(r, 0, 0), NULL, 10) >= need;
		PQclear(r);
		if (!ok && PQstatus(c->pc) == CONNECTION_OK)
			run(c->pc, "ROLLBACK", NULL, 0);
	} else {
		atomic_store(&s->rdown_until_ns, qstats_now_ns() + 5000000000ull); /* retried in 5 s */
	}
	c->begin_pending = false; /* begun (or given back) */
	if (ok) {
		atomic_fetch_add(&s->rserved, 1);
		return c;
	}
	atomic_fetch_add(&s->rbehind, 1);
	pool_give(s, c);
	return NULL;
}

static store_conn_t *pgs_read_begin(store_t *base)
{
	pg_store *s = PS(base);
	pg_conn *c = s->nrreaders ? replica_begin(s) : NULL;
	if (c)
		return &c->base;
	c = pool_take(s, s->readers, s->nreaders, 0);
	/* A failure here shows as STORE_ERROR on the first step. */
	conn_ensure(c);
	c->begin_pending = true;
	return &c->base;
}

/* Runs a pending BEGIN of a read on its own (before a statement that
 * cannot share its pipeline). False with the reason in c->err. */
static bool begin_now(pg_conn *c)
{
	if (!c->begin_pending)
		return true;
	c->begin_pending = false;
	return run(c->pc, READ_BEGIN, c->err, sizeof c->err);
}

/* The read's BEGIN and the statement's execution in one pipeline: one
 * round trip. Returns the statement's result (NULL on a send failure). */
static PGresult *exec_with_begin(pg_conn *c, pg_stmt *st, int n, const char *const *vals, const int *lens,
                                 const int *fmts)
{
	c->begin_pending = false;
	PGconn *pc = c->pc;
	if (PQenterPipelineMode(pc) != 1)
		return NULL;
	PGresult *res = NULL, *r;
	bool sent = PQsendQueryParams(pc, READ_BEGIN, 0, NULL, NULL, NULL, NULL, 0) == 1 &&
	            PQsendQueryPrepared(pc, st->name, n, vals, lens, fmts, 0) == 1 && PQpipelineSync(pc) == 1;
	if (sent) {
		/* BEGIN's result, the statement's, each ended by NULL, then the sync */
		bool begun = false;
		if ((r = PQgetResult(pc))) {
			begun = PQresultStatus(r) == PGRES_COMMAND_OK;
			if (!begun)
				res = r; /* its error is the statement's */
			else
				PQclear(r);
			while ((r = PQgetResult(pc)))
				PQclear(r);
		}
		if ((r = PQgetResult(pc))) {
			if (begun)
				res = r;
			else
				PQclear(r);
			while ((r = PQgetResult(pc)))
				PQclear(r);
		}
		while ((r = PQgetResult(pc))) { /* the sync */
			bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
			PQclear(r);
			if (sync)
				break;
		}
	}
	if (PQexitPipelineMode(pc) != 1) {
		/* results left behind (a broken exchange): the connection is
		 * replaced at its next use rather than trusted */
		PQfinish(pc);
		c->pc = NULL;
	}
	return res;
}

static void pgs_read_end(store_conn_t *base)
{
	pg_conn *c = PC(base);
	for (int i = 0; i < STMT_SLOTS; i++)
		if (c->stmts[i] && c->stmts[i]->res)
			stmt_clear(c->stmts[i]);
	/* read only: nothing to commit; not waited for (read_begin reads it) */
	if (c->pc && PQstatus(c->pc) == CONNECTION_OK && !c->begin_pending)
		c->rollback_pending = PQsendQuery(c->pc, "ROLLBACK") == 1;
	c->begin_pending = false;
	pool_give(PS(base->store), c);
}

static store_conn_t *pgs_write_begin(store_t *base, char *err, size_t errlen)
{
	pg_conn *c = &PS(base)->writer;
	if (!conn_ensure(c)) {
		snprintf(err, errlen, "%s", c->err);
		return NULL;
	}
	char sql[200];
	snprintf(sql, sizeof sql, "BEGIN; SET LOCAL lock_timeout = %d; SELECT pg_advisory_xact_lock(%lld)",
	         base->opts.busy_timeout_ms, ADVISORY_WRITER);
	char why[400];
	bool ok = run(c->pc, sql, why, sizeof why);
	if (!ok && PQstatus(c->pc) != CONNECTION_OK && conn_ensure(c)) /* died while idle */
		ok = run(c->pc, sql, why, sizeof why);
	if (!ok) {
		run(c->pc, "ROLLBACK", NULL, 0);
		if (PQstatus(c->pc) != CONNECTION_OK)
			snprintf(err, errlen, "the store is unavailable: %s", why);
		else
			snprintf(err, errlen, "the store is busy (%s): another process may be writing; try again", why);
		return NULL;
	}
	return &c->base;
}

static int pgs_commit(store_conn_t *base, bool announce, char *err, size_t errlen)
{
	pg_conn *c = PC(base);
	for (int i = 0; i < STMT_SLOTS; i++)
		if (c->stmts[i] && c->stmts[i]->res)
			stmt_clear(c->stmts[i]);
	/* Every commit counts (a task row, a token): a replica's counter then
	 * tells whether it holds every acknowledged write. */
	PGresult *r = PQexec(c->pc, announce ? "UPDATE brisk_commits SET n = n + 1;"
	                                       "SELECT pg_notify('brisk_versions', ''); COMMIT"
	                                     : "UPDATE brisk_commits SET n = n + 1; COMMIT");
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK && !strcmp(PQcmdStatus(r), "COMMIT");
	if (!ok) {
		char why[400];
		first_line(why, sizeof why, PQresultStatus(r) == PGRES_COMMAND_OK ? "an earlier statement failed"
		                                                                  : PQerrorMessage(c->pc));
		snprintf(err, errlen, "commit failed: %s", why);
		if (is_loss(c->pc, r))
			note_down(PS(base->store), why);
		run(c->pc, "ROLLBACK", NULL, 0);
	}
	PQclear(r);
	for (int i = 0; ok && i < c->nbulk; i++)
		if (c->bulk[i].rows >= ANALYZE_AFTER_ROWS) {
			char sql[80], why[300];
			snprintf(sql, sizeof sql, "ANALYZE %s", c->bulk[i].table);
			if (!run(c->pc, sql, why, sizeof why))
				log_warn("store: %s after a bulk load: %s", sql, why); /* statistics only: the data is in */
		}
	c->nbulk = 0;
	return ok ? 0 : -1;
}

static void pgs_rollback(store_conn_t *base)
{
	pg_conn *c = PC(base);
	for (int i = 0; i < STMT_SLOTS; i++)
		if (c->stmts[i] && c->stmts[i]->res)
			stmt_clear(c->stmts[i]);
	c->nbulk = 0;
	if (c->pc)
		run(c->pc, "ROLLBACK", NULL, 0);
}

static bool sql_writes(const char *sql)
{
	while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(')
		sql++;
	return strncasecmp(sql, "SELECT", 6) != 0 && strncasecmp(sql, "WITH", 4) != 0 &&
	       strncasecmp(sql, "VALUES", 6) != 0;
}

static store_stmt_t *pgs_prepare(store_conn_t *base, const char *sql)
{
	pg_conn *c = PC(base);
	uintptr_t h = (uintptr_t)sql;
	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ull;
	unsigned i = (unsigned)(h >> 40) & (STMT_SLOTS - 1);
	for (unsigned probe = 0; probe < STMT_SLOTS; probe++, i = (i + 1) & (STMT_SLOTS - 1)) {
		pg_stmt *e = c->stmts[i];
		if (e && e->base.key == sql) {
			if (e->base.t0)
				store_stmt_timed(&e->base);
			e->base.shape = 0;
			stmt_clear(e);
			return &e->base;
		}
		if (!e) {
			e = xcalloc(1, sizeof *e);
			e->base.key = sql;
			e->base.conn = base;
			e->sql = dialect_pg_query(sql, &e->nparams);
			e->writes = sql_writes(sql);
			e->vals = xcalloc((size_t)e->nparams + 1, sizeof *e->vals);
			e->types = xcalloc((size_t)e->nparams + 1, sizeof *e->types);
			e->row = -1;
			snprintf(e->name, sizeof e->name, "b%d", ++c->nnamed);
			c->stmts[i] = e;
			return &e->base;
		}
	}
	log_error("store: statement cache full");
	return NULL;
}

static void pgs_bind(store_stmt_t *t, int idx, int kind, int64_t i, double d, const void *p, size_t len, bool copy)
{
	pg_stmt *st = PT(t);
	if (idx < 1 || idx > st->nparams)
		return;
	pg_val *v = &st->vals[idx - 1];
	free(v->owned);
	memset(v, 0, sizeof *v);
	v->kind = kind;
	v->i = i;
	v->d = d;
	v->len = len;
	if ((kind == STORE_V_TEXT || kind == STORE_V_BLOB) && copy) {
		v->owned = xmalloc(len + 1);
		memcpy(v->owned, p, len);
		v->owned[len] = 0;
		v->p = v->owned;
	} else {
		v->p = p;
	}
}

/* Prepares on this connection with types from the current bindings. */
static bool stmt_prepare(pg_conn *c, pg_stmt *st)
{
	Oid *types = xcalloc((size_t)st->nparams + 1, sizeof *types);
	/* A failed prepare aborts the transaction: a savepoint keeps the
	 * retry (and the caller's transaction) alive. Once per connection. */
	bool sp = PQtransactionStatus(c->pc) == PQTRANS_INTRANS && run(c->pc, "SAVEPOINT brisk_prepare", NULL, 0);
	for (int k = 0; k < st->nparams; k++) {
		int kind = st->vals[k].kind;
		types[k] = kind == STORE_V_INT ? OID_INT8 : kind == STORE_V_REAL ? OID_FLOAT8 : kind == STORE_V_BLOB ? OID_BYTEA : 0;
	}
	/* A parameter no context types (`? IS NULL`, one the SQL skips) is
	 * named in the error: it becomes text, and the prepare is retried. */
	for (int tries = 0;; tries++) {
		PGresult *r = PQprepare(c->pc, st->name, st->sql, st->nparams, types);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		int bad = 0;
		if (!ok && state && (!strcmp(state, "42P18") || !strcmp(state, "42P08"))) {
			const char *m = strstr(PQresultErrorMessage(r), "parameter $");
			bad = m ? atoi(m + 11) : 0;
		}
		if (!ok)
			first_line(c->err, sizeof c->err, PQerrorMessage(c->pc));
		PQclear(r);
		if (ok)
			break;
		if (sp)
			run(c->pc, "ROLLBACK TO SAVEPOINT brisk_prepare", NULL, 0);
		if (bad < 1 || bad > st->nparams || types[bad - 1] != 0 || tries > st->nparams) {
			if (sp)
				run(c->pc, "RELEASE SAVEPOINT brisk_prepare", NULL, 0);
			free(types);
			log_error("store: cannot prepare: %s: %s", c->err, st->sql);
			return false;
		}
		types[bad - 1] = OID_TEXT;
	}
	free(types);
	if (sp)
		run(c->pc, "RELEASE SAVEPOINT brisk_prepare", NULL, 0);
	PGresult *r = PQdescribePrepared(c->pc, st->name);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		first_line(c->err, sizeof c->err, PQerrorMessage(c->pc));
		PQclear(r);
		return false;
	}
	for (int k = 0; k < st->nparams && k < PQnparams(r); k++)
		st->types[k] = PQparamtype(r, k);
	PQclear(r);
	st->prepared = true;
	return true;
}

/* One value in the form PostgreSQL reads for the parameter's type. */
static void value_of(pg_val *v, Oid type, const char **val, int *len, int *fmt)
{
	char num[40];
	*fmt = 1;
	switch (v->kind) {
	case STORE_V_NULL:
		*val = NULL;
		*len = 0;
		return;
	case STORE_V_INT:
		if (type == OID_INT8) {
			v->be = htobe64((uint64_t)v->i);
			*val = (const char *)&v->be;
			*len = 8;
			return;
		}
		snprintf(num, sizeof num, "%lld", (long long)v->i);
		break;
	case STORE_V_REAL:
		if (type == OID_FLOAT8) {
			uint64_t u;
			memcpy(&u, &v->d, 8);
			v->be = htobe64(u);
			*val = (const char *)&v->be;
			*len = 8;
			return;
		}
		snprintf(num, sizeof num, "%.17g", v->d);
		break;
	default:
		/* text and bytea take raw bytes in binary */
		if (v->kind == STORE_V_BLOB || type == OID_TEXT || type == OID_VARCHAR || type == OID_BYTEA ||
		    type == 0) {
			*val = v->p;
			*len = (int)v->len;
			return;
		}
		if (!v->owned) { /* text for another type: PostgreSQL converts it */
			v->owned = xmalloc(v->len + 1);
			memcpy(v->owned, v->p, v->len);
			v->owned[v->len] = 0;
			v->p = v->owned;
		}
		*val = v->p;
		*len = 0;
		*fmt = 0;
		return;
	}
	free(v->owned);
	v->owned = xstrdup(num);
	*val = v->owned;
	*len = 0;
	*fmt = 0;
}

static store_status pgs_step(store_stmt_t *t)
{
	pg_stmt *st = PT(t);
	pg_conn *c = PC(t->conn);
	if (st->finished)
		return STORE_DONE;
	if (!st->res) {
		if (!c->pc || PQstatus(c->pc) != CONNECTION_OK) {
			snprintf(c->err, sizeof c->err, "the connection to PostgreSQL is lost");
			if (!c->replica)
				note_down(PS(c->base.store), c->err);
			st->finished = true;
			return STORE_ERROR;
		}
		if (!st->prepared && !stmt_prepare(c, st)) {
			st->finished = true;
			return STORE_ERROR;
		}
		int n = st->nparams;
		const char **vals = xcalloc((size_t)n + 1, sizeof *vals);
		int *lens = xcalloc((size_t)n + 1, sizeof *lens);
		int *fmts = xcalloc((size_t)n + 1, sizeof *fmts);
		for (int k = 0; k < n; k++)
			value_of(&st->vals[k], st->types[k], &vals[k], &lens[k], &fmts[k]);
		if (c->begin_pending)
			st->res = exec_with_begin(c, st, n, vals, lens, fmts);
		else
			st->res = PQexecPrepared(c->pc, st->name, n, vals, lens, fmts, 0);
		free(vals);
		free(lens);
		free(fmts);
		ExecStatusType rs = PQresultStatus(st->res);
		if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
			const char *state = PQresultErrorField(st->res, PG_DIAG_SQLSTATE);
			bool constraint = state && !strncmp(state, "23", 2);
			bool loss = is_loss(c->pc, st->res);
			first_line(c->err, sizeof c->err, PQerrorMessage(c->pc));
			if (loss && !c->replica)
				note_down(PS(c->base.store), c->err);
			PQclear(st->res);
			st->res = NULL;
			st->finished = true;
			if (constraint)
				return STORE_CONSTRAINT;
			if (!loss)
				log_error("store: %s", c->err);
			return STORE_ERROR;
		}
		st->nrows = rs == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
		st->row = -1;
		c->changes = strtoll(PQcmdTuples(st->res), NULL, 10);
	}
	if (++st->row < st->nrows)
		return STORE_ROW;
	st->finished = true;
	return STORE_DONE;
}

static const char *cell(pg_stmt *st, int col)
{
	if (!st->res || st->row < 0 || st->row >= st->nrows || col < 0 || col >= PQnfields(st->res) ||
	    PQgetisnull(st->res, st->row, col))
		return NULL;
	return PQgetvalue(st->res, st->row, col);
}

static int64_t pgs_col_i64(store_stmt_t *t, int col)
{
	const char *v = cell(PT(t), col);
	if (!v)
		return 0;
	if (v[0] == 't' || v[0] == 'f') /* booleans read as SQLite's 1 / 0 */
		return v[0] == 't';
	char *end;
	long long n = strtoll(v, &end, 10);
	if (*end == '.' || *end == 'e' || *end == 'E') /* numeric (sum, avg): truncates, as SQLite's cast */
		return (int64_t)strtod(v, NULL);
	return n;
}

static double pgs_col_double(store_stmt_t *t, int col)
{
	const char *v = cell(PT(t), col);
	if (!v)
		return 0;
	if (v[0] == 't' || v[0] == 'f')
		return v[0] == 't';
	return strtod(v, NULL);
}

static const char *pgs_col_text(store_stmt_t *t, int col, size_t *len)
{
	pg_stmt *st = PT(t);
	const char *v = cell(st, col);
	if (len)
		*len = v ? (size_t)PQgetlength(st->res, st->row, col) : 0;
	return v ? v : "";
}

static bool pgs_col_is_null(store_stmt_t *t, int col)
{
	return cell(PT(t), col) == NULL;
}

static void pgs_reset(store_stmt_t *t)
{
	stmt_clear(PT(t));
}

static bool pgs_stmt_writes(store_stmt_t *t)
{
	return PT(t)->writes;
}

static int pgs_stmt_nparams(store_stmt_t *t)
{
	return PT(t)->nparams;
}

static int pgs_exec(store_conn_t *base, const char *sql)
{
	pg_conn *c = PC(base);
	if (!c->pc || !begin_now(c) || !run(c->pc, sql, c->err, sizeof c->err)) {
		if (!c->pc)
			snprintf(c->err, sizeof c->err, "not connected");
		log_error("store: %s: %s", c->err, sql);
		return -1;
	}
	return 0;
}

static int64_t pgs_changes(store_conn_t *c)
{
	return PC(c)->changes;
}

static const char *pgs_errmsg(store_conn_t *c)
{
	return PC(c)->err;
}

/* Takes the notifications that arrived; true if there was one. Never
 * blocks. */
static bool drain(pg_store *s)
{
	bool any = false;
	if (!PQconsumeInput(s->listen))
		return false;
	PGnotify *n;
	while ((n = PQnotifies(s->listen))) {
		any = true;
		PQfreemem(n);
	}
	return any;
}

/* Exact, at the price of one round trip: the commit counter tells whether
 * anyone committed since the last load. A notification alone could still
 * be on its way when a client that got its write acknowledged by another
 * instance asks this one. */
static bool pgs_refresh(store_t *base)
{
	pg_store *s = PS(base);
	bool ok = listen_ensure(s);
	if (ok) {
		drain(s);
		PGresult *r = PQexec(s->listen, "SELECT n FROM brisk_commits");
		ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
		if (!ok && is_loss(s->listen, r)) {
			char why[300];
			first_line(why, sizeof why, PQerrorMessage(s->listen));
			note_down(s, why);
		}
		int64_t n = ok ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
		PQclear(r);
		if (ok && (n != s->commits_seen || !s->loaded || s->pending)) {
			ok = vers_load(s);
			if (ok) {
				s->commits_seen = n;
				s->loaded = true;
				s->pending = false;
				atomic_fetch_add(&base->reloads, 1);
			}
		}
	}
	atomic_store(&s->refresh_ok, ok);
	return ok;
}

/* Nothing in this process can tell without asking the server: look. */
static int pgs_refresh_try(store_t *base)
{
	(void)base;
	return 0;
}

static void pgs_sizes(store_t *base, int64_t *db_bytes, int64_t *wal_bytes)
{
	pg_store *s = PS(base);
	*db_bytes = 0;
	*wal_bytes = 0;
	pthread_mutex_lock(&base->refresh_lock);
	if (listen_ensure(s)) {
		PGresult *r = PQexec(s->listen, "SELECT pg_database_size(current_database())");
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			*db_bytes = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}
	pthread_mutex_unlock(&base->refresh_lock);
}

static uint64_t pgs_faults(store_t *base)
{
	return atomic_load(&PS(base)->faults);
}

static bool pgs_reachable(store_t *base, char *why, size_t whylen)
{
	pg_store *s = PS(base);
	if (!atomic_load(&s->down))
		return true;
	pthread_mutex_lock(&s->why_lock);
	snprintf(why, whylen, "%s", s->why);
	pthread_mutex_unlock(&s->why_lock);
	return false;
}

/* ---- bulk inserts: COPY into a staging table, one INSERT ... SELECT ---- */

typedef struct {
	store_batch_t base;
	pg_stmt st; /* receives the bindings of one row */
	char *table, *cols, *key; /* key: "k) DO ..." */
	int idpos;     /* 0-based position of the id column */
	buf_t data;    /* COPY text rows */
	buf_t ids;     /* each row's id, NUL-terminated */
	size_t *idoff;
	size_t nrows, cap;
} pg_batch;

static store_batch_t *pgs_batch_new(store_conn_t *w, const char *insert_sql)
{
	char *table, *cols, *key;
	if (!store_parse_insert(insert_sql, &table, &cols, &key))
		return NULL;
	pg_batch *b = xcalloc(1, sizeof *b);
	b->base.conn = w;
	b->table = table;
	b->cols = cols;
	b->key = key;
	int n = 1, pos = -1, i = 0;
	for (const char *c = cols; *c; c++)
		if (*c == ',')
			n++;
	/* the position of the column named id */
	for (const char *c = cols; c && *c; i++) {
		while (*c == ' ')
			c++;
		if (!strncmp(c, "id", 2) && (c[2] == ',' || c[2] == ' ' || !c[2]))
			pos = i;
		c = strchr(c, ',');
		if (c)
			c++;
	}
	b->idpos = pos;
	b->st.base.conn = w;
	b->st.base.key = insert_sql;
	b->st.nparams = n;
	b->st.vals = xcalloc((size_t)n + 1, sizeof *b->st.vals);
	b->st.types = xcalloc((size_t)n + 1, sizeof *b->st.types);
	return &b->base;
}

static store_stmt_t *pgs_batch_stmt(store_batch_t *base)
{
	return &((pg_batch *)base)->st.base;
}

/* One value in COPY's text format. */
static void copy_value(buf_t *out, const pg_val *v)
{
	switch (v->kind) {
	case STORE_V_INT: buf_printf(out, "%lld", (long long)v->i); return;
	case STORE_V_REAL: buf_printf(out, "%.17g", v->d); return;
	case STORE_V_TEXT:
		for (size_t i = 0; i < v->len; i++) {
			char c = v->p[i];
			switch (c) {
			case '\\': buf_puts(out, "\\\\"); break;
			case '\n': buf_puts(out, "\\n"); break;
			case '\r': buf_puts(out, "\\r"); break;
			case '\t': buf_puts(out, "\\t"); break;
			default: buf_putc(out, c); break;
			}
		}
		return;
	default: buf_puts(out, "\\N"); return; /* NULL (blobs are not imported) */
	}
}

static void pgs_batch_row(store_batch_t *base)
{
	pg_batch *b = (pg_batch *)base;
	buf_printf(&b->data, "%zu", b->nrows);
	for (int k = 0; k < b->st.nparams; k++) {
		buf_putc(&b->data, '\t');
		copy_value(&b->data, &b->st.vals[k]);
	}
	buf_putc(&b->data, '\n');
	if (b->nrows == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->idoff = xrealloc(b->idoff, b->cap * sizeof *b->idoff);
	}
	b->idoff[b->nrows++] = b->ids.len;
	if (b->idpos >= 0)
		buf_put(&b->ids, b->st.vals[b->idpos].p, b->st.vals[b->idpos].len);
	buf_putc(&b->ids, 0);
	stmt_clear(&b->st);
}

static size_t pgs_batch_rows(store_batch_t *base)
{
	return ((pg_batch *)base)->nrows;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int batch_load(pg_batch *b, bool *inserted, char *err, size_t errlen)
{
	pg_conn *c = PC(b->base.conn);
	buf_t q = BUF_INIT;
	int rc = -1;
	buf_printf(&q,
	           "CREATE TEMP TABLE IF NOT EXISTS brisk_stage_%s AS SELECT 0::bigint AS brisk_seq, %s FROM %s WITH NO DATA;"
	           "COPY brisk_stage_%s(brisk_seq, %s) FROM STDIN",
	           b->table, b->cols, b->table, b->table, b->cols);
	PGresult *r = PQexec(c->pc, q.p);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		first_line(err, errlen, PQerrorMessage(c->pc));
		PQclear(r);
		goto out;
	}
	PQclear(r);
	bool sent = PQputCopyData(c->pc, b->data.p ? b->data.p : "", (int)b->data.len) == 1;
	PQputCopyEnd(c->pc, sent ? NULL : "brisk: sending failed");
	bool copied = true;
	while ((r = PQgetResult(c->pc))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			if (copied)
				first_line(err, errlen, PQerrorMessage(c->pc));
			copied = false;
		}
		PQclear(r);
	}
	if (!copied)
		goto out;
	buf_reset(&q);
	buf_printf(&q,
	           "INSERT INTO %s(%s) SELECT %s FROM brisk_stage_%s ORDER BY brisk_seq ON CONFLICT(%s%s",
	           b->table, b->cols, b->cols, b->table, b->key, inserted && b->idpos >= 0 ? " RETURNING id" : "");
	r = PQexec(c->pc, q.p);
	if (!inserted && PQresultStatus(r) == PGRES_COMMAND_OK) {
		PQclear(r);
		goto truncate;
	}
	if (PQresultStatus(r) != PGRES_TUPLES_OK || b->idpos < 0) {
		first_line(err, errlen, PQerrorMessage(c->pc));
		PQclear(r);
		goto out;
	}
	/* Inserted: the first row of the batch holding each returned id (the
	 * rows went in in batch order; a later twin met the first). */
	int n = PQntuples(r);
	char **got = xmalloc(((size_t)n + 1) * sizeof *got);
	for (int i = 0; i < n; i++)
		got[i] = PQgetvalue(r, i, 0);
	qsort(got, (size_t)n, sizeof *got, cmp_str);
	bool *taken = xcalloc((size_t)n + 1, 1);
	for (size_t i = 0; i < b->nrows; i++) {
		const char *id = b->ids.p + b->idoff[i];
		char **hit = n ? bsearch(&id, got, (size_t)n, sizeof *got, cmp_str) : NULL;
		/* twins sit side by side: step to the first one not yet taken */
		while (hit && hit > got && !strcmp(hit[-1], id))
			hit--;
		while (hit && hit < got + n && !strcmp(*hit, id) && taken[hit - got])
			hit++;
		inserted[i] = hit && hit < got + n && !strcmp(*hit, id);
		if (inserted[i])
			taken[hit - got] = true;
	}
	free(taken);
	free(got);
	PQclear(r);
truncate:
	buf_reset(&q);
	buf_printf(&q, "TRUNCATE brisk_stage_%s", b->table);
	rc = run(c->pc, q.p, err, errlen) ? 0 : -1;
out:
	buf_free(&q);
	if (rc != 0) {
		snprintf(c->err, sizeof c->err, "%s", err); /* for store_errmsg */
		if (is_loss(c->pc, NULL))
			note_down(PS(c->base.store), err);
	}
	return rc;
}

/* Counts rows bulk-loaded into table by c's transaction (see pgs_commit). */
static void note_bulk(pg_conn *c, const char *table, size_t rows)
{
	int i = 0;
	while (i < c->nbulk && strcmp(c->bulk[i].table, table))
		i++;
	if (i == c->nbulk) {
		if (c->nbulk == (int)(sizeof c->bulk / sizeof c->bulk[0]) || strlen(table) >= sizeof c->bulk[0].table)
			return;
		snprintf(c->bulk[c->nbulk].table, sizeof c->bulk[0].table, "%s", table);
		c->bulk[c->nbulk++].rows = 0;
	}
	c->bulk[i].rows += (int64_t)rows;
}

static int pgs_batch_run(store_batch_t *base, bool *inserted, char *err, size_t errlen)
{
	pg_batch *b = (pg_batch *)base;
	int rc = 0;
	if (b->nrows) {
		uint64_t t0 = qstats_now_ns();
		rc = batch_load(b, inserted, err, errlen);
		qstats_record(b->st.base.key, qstats_now_ns() - t0, true, b->st.nparams, 0);
		if (rc == 0)
			note_bulk(PC(b->base.conn), b->table, b->nrows);
	}
	buf_reset(&b->data);
	buf_reset(&b->ids);
	b->nrows = 0;
	return rc;
}

static void pgs_batch_free(store_batch_t *base)
{
	pg_batch *b = (pg_batch *)base;
	stmt_clear(&b->st);
	free(b->st.vals);
	free(b->st.types);
	free(b->table);
	free(b->cols);
	free(b->key);
	free(b->idoff);
	buf_free(&b->data);
	buf_free(&b->ids);
	free(b);
}

const store_backend store_pg_backend = {
	.name = "postgresql",
	.open = pgs_open,
	.close = pgs_close,
	.read_begin = pgs_read_begin,
	.read_end = pgs_read_end,
	.write_begin = pgs_write_begin,
	.commit = pgs_commit,
	.rollback = pgs_rollback,
	.prepare = pgs_prepare,
	.bind = pgs_bind,
	.step = pgs_step,
	.col_i64 = pgs_col_i64,
	.col_double = pgs_col_double,
	.col_text = pgs_col_text,
	.col_is_null = pgs_col_is_null,
	.reset = pgs_reset,
	.stmt_writes = pgs_stmt_writes,
	.stmt_nparams = pgs_stmt_nparams,
	.exec = pgs_exec,
	.changes = pgs_changes,
	.errmsg = pgs_errmsg,
	.refresh = pgs_refresh,
	.refresh_try = pgs_refresh_try,
	.sizes = pgs_sizes,
	.faults = pgs_faults,
	.reachable = pgs_reachable,
	.batch_new = pgs_batch_new,
	.batch_stmt = pgs_batch_stmt,
	.batch_row = pgs_batch_row,
	.batch_rows = pgs_batch_rows,
	.batch_run = pgs_batch_run,
	.batch_free = pgs_batch_free,
};
