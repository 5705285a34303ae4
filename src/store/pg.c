/* store backend: PostgreSQL over libpq (scale-out). */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "monitor/qstats.h"
#include "store/pg.h"
#include "store/pg_lock.h"
#include "store/pg_copy.h"
#include "store/pg_stmt.h"
#include "store/pg_vers.h"
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
 * - Versions (pg_vers.c): a request looks at the commit counter (one round
 *   trip) and reloads data_versions when it moved; every commit that
 *   touched a table NOTIFYs brisk_versions (in the transaction: delivered
 *   only if it commits), which wakes the watcher thread, so commits of
 *   other processes and instances are seen within milliseconds without
 *   polling.
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

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* NOTICEs (e.g. "relation exists, skipping") are not ours to print */
}

/* First line of libpq's message (they end in newlines, some have two). */
void pg_first_line(char *dst, size_t n, const char *msg)
{
	snprintf(dst, n, "%s", msg ? msg : "?");
	char *nl = strchr(dst, '\n');
	if (nl)
		*nl = 0;
}

/* The server went away (or could not be reached): counted, kept. */
void pg_note_down(pg_store *s, const char *why)
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
bool pg_is_loss(PGconn *pc, const PGresult *r)
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
		pg_first_line(why, sizeof why, pc ? PQerrorMessage(pc) : "out of memory");
		snprintf(err, errlen, "cannot connect to PostgreSQL (%s:%s/%s): %s", pc && PQhost(pc) ? PQhost(pc) : "?",
		         pc && PQport(pc) ? PQport(pc) : "?", pc && PQdb(pc) ? PQdb(pc) : "?", why);
		PQfinish(pc);
		if (primary)
			pg_note_down(s, err);
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
		pg_first_line(err, errlen, PQerrorMessage(pc));
		if (primary && pg_is_loss(pc, r))
			pg_note_down(s, err);
		PQclear(r);
		PQfinish(pc);
		return NULL;
	}
	PQclear(r);
	if (primary)
		note_up(s);
	return pc;
}

PGconn *pg_connect(pg_store *s, char *err, size_t errlen)
{
	return connect_url(s, s->url, err, errlen);
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
			pg_stmt_clear(c->stmts[i]);
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
			pg_stmt_free(c->stmts[i]);
	memset(c->stmts, 0, sizeof c->stmts);
	if (c->pc)
		PQfinish(c->pc);
	c->pc = NULL;
}

/* Runs sql (no parameters); false with the reason in err. */
bool pg_run(PGconn *pc, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(pc, sql);
	ExecStatusType rs = PQresultStatus(r);
	bool ok = rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK;
	if (!ok && err)
		pg_first_line(err, errlen, PQerrorMessage(pc));
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
	if (!pg_run(pc, sql, why, sizeof why)) {
		snprintf(err, errlen, "cannot read the schema version: %s", why);
		pg_run(pc, "ROLLBACK", NULL, 0);
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
		pg_run(pc, "ROLLBACK", NULL, 0);
		return -1;
	}
	for (int n = have + 1; n <= schema_count(); n++) {
		char *m = schema_sql_pg(n);
		bool ok = pg_run(pc, m, why, sizeof why);
		free(m);
		if (!ok) {
			snprintf(err, errlen, "migration %d failed on PostgreSQL: %s", n, why);
			pg_run(pc, "ROLLBACK", NULL, 0);
			return -1;
		}
		log_debug("store: applied migration %d", n);
	}
	snprintf(sql, sizeof sql, "DELETE FROM brisk_schema; INSERT INTO brisk_schema VALUES(%d); COMMIT",
	         schema_count());
	if (!pg_run(pc, sql, why, sizeof why)) {
		snprintf(err, errlen, "cannot commit the schema: %s", why);
		pg_run(pc, "ROLLBACK", NULL, 0);
		return -1;
	}
	s->base.schema_version = schema_count();
	return 0;
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
	s->locks = pg_locks_new(url);
	if (replicas_init(s, o->read_urls, err, errlen) != 0)
		goto fail;
	if (!(s->writer.pc = pg_connect(s, err, errlen)))
		goto fail;
	if (migrate(s, err, errlen) != 0)
		goto fail;
	if (!pg_look_ensure(s) || !pg_vers_load(s)) {
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
	if (s->look)
		PQfinish(s->look);
	free(s->outside_org);
	free(s->outside_mask);
	pg_locks_free(s->locks);
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
			pg_run(c->pc, "ROLLBACK", NULL, 0);
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
	return pg_run(c->pc, READ_BEGIN, c->err, sizeof c->err);
}

static void pgs_read_end(store_conn_t *base)
{
	pg_conn *c = PC(base);
	for (int i = 0; i < STMT_SLOTS; i++)
		if (c->stmts[i] && c->stmts[i]->res)
			pg_stmt_clear(c->stmts[i]);
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
	         base->begin_wait_ms, ADVISORY_WRITER);
	char why[400];
	bool ok = pg_run(c->pc, sql, why, sizeof why);
	if (!ok && PQstatus(c->pc) != CONNECTION_OK && conn_ensure(c)) /* died while idle */
		ok = pg_run(c->pc, sql, why, sizeof why);
	if (!ok) {
		pg_run(c->pc, "ROLLBACK", NULL, 0);
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
			pg_stmt_clear(c->stmts[i]);
	/* Every commit counts (a task row, a token): a replica's counter then
	 * tells whether it holds every acknowledged write. */
	PGresult *r = PQexec(c->pc, announce ? "UPDATE brisk_commits SET n = n + 1;"
	                                       "SELECT pg_notify('brisk_versions', ''); COMMIT"
	                                     : "UPDATE brisk_commits SET n = n + 1; COMMIT");
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK && !strcmp(PQcmdStatus(r), "COMMIT");
	if (!ok) {
		char why[400];
		pg_first_line(why, sizeof why, PQresultStatus(r) == PGRES_COMMAND_OK ? "an earlier statement failed"
		                                                                  : PQerrorMessage(c->pc));
		snprintf(err, errlen, "commit failed: %s", why);
		if (pg_is_loss(c->pc, r))
			pg_note_down(PS(base->store), why);
		pg_run(c->pc, "ROLLBACK", NULL, 0);
	}
	PQclear(r);
	for (int i = 0; ok && i < c->nbulk; i++)
		if (c->bulk[i].rows >= ANALYZE_AFTER_ROWS) {
			char sql[80], why[300];
			/* the rollup is vacuumed too: its views read it by index-only
			 * scans, which visit the heap for pages the visibility map
			 * does not mark (all of a fresh load's until autovacuum). It
			 * is small; the kinds' tables are not, and are read through
			 * the heap anyway. */
			snprintf(sql, sizeof sql, "%s %s", strcmp(c->bulk[i].table, "rollup") ? "ANALYZE" : "VACUUM (ANALYZE)",
			         c->bulk[i].table);
			if (!pg_run(c->pc, sql, why, sizeof why))
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
			pg_stmt_clear(c->stmts[i]);
	c->nbulk = 0;
	if (c->pc)
		pg_run(c->pc, "ROLLBACK", NULL, 0);
}

static int pgs_exec(store_conn_t *base, const char *sql)
{
	pg_conn *c = PC(base);
	if (!c->pc || !begin_now(c) || !pg_run(c->pc, sql, c->err, sizeof c->err)) {
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

static int pgs_lock_try(store_t *base, int64_t key)
{
	return pg_locks_try(PS(base)->locks, key);
}

static void pgs_lock_release(store_t *base, int64_t key)
{
	pg_locks_release(PS(base)->locks, key);
}

static int pgs_lock_held(store_t *base, int64_t key)
{
	return pg_locks_held(PS(base)->locks, key);
}

static void *pgs_shared_get(store_t *base, const void *key, size_t klen, size_t *n)
{
	return pg_locks_cache_get(PS(base)->locks, key, klen, n);
}

static void pgs_shared_put(store_t *base, const void *key, size_t klen, const void *v, size_t n, uint64_t ttl_ms)
{
	pg_locks_cache_put(PS(base)->locks, key, klen, v, n, ttl_ms);
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
	.each = pgs_each,
	.stmt_nparams = pgs_stmt_nparams,
	.exec = pgs_exec,
	.changes = pgs_changes,
	.errmsg = pgs_errmsg,
	.refresh = pgs_refresh,
	.refresh_try = pgs_refresh_try,
	.sizes = pgs_sizes,
	.faults = pgs_faults,
	.reachable = pgs_reachable,
	.watch = pgs_watch,
	.lock_try = pgs_lock_try,
	.lock_release = pgs_lock_release,
	.lock_held = pgs_lock_held,
	.shared_get = pgs_shared_get,
	.shared_put = pgs_shared_put,
	.batch_new = pgs_batch_new,
	.batch_stmt = pgs_batch_stmt,
	.batch_row = pgs_batch_row,
	.batch_rows = pgs_batch_rows,
	.batch_run = pgs_batch_run,
	.batch_free = pgs_batch_free,
};
