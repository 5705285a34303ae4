/* pg_lock: cross-instance locks on PostgreSQL (session advisory locks)
 * and the cache table instances share without Redis. */
#include "store/pg_lock.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"

/* DESIGN
 * One connection of its own, serialised by a mutex: lock calls are a few
 * per task and per cold key, never waiting on the server (try-locks only),
 * so they do not need a pool. The locks this process holds are also kept
 * here: when the session drops (the server restarted, a network cut) the
 * server has released them all, so the next call reconnects and takes
 * them again; one another session took meanwhile is lost (held says 0)
 * and its owner stops the work it guarded. Reconnects are tried at most
 * once a second, so an outage costs each caller one quick failure.
 *
 * The same connection reads and writes brisk_cache (UNLOGGED: a crash
 * empties it, which a cache may be), outside the store's writer: a cache
 * fill never waits for an import's transaction. Keys name data versions,
 * so an entry is never stale, only unused; expired ones are deleted now
 * and then by the writes.
 *
 * A cache fill is sent in pipeline mode, each command with its own sync
 * (so each commits at once), without waiting for its answer: the unlock
 * that follows it goes in the same pipeline and one round trip answers
 * both (they cost a computed view two before its response); any other
 * use of the connection reads the answers first (drain). The server runs
 * a session's commands in order, so the entry is in before the key's
 * lock goes; a failed fill only loses a cache entry. */

#define RETRY_NS 1000000000ULL
#define CHECK_NS 1000000000ULL

struct pg_locks {
	pthread_mutex_t mu;
	char *url;
	PGconn *pc;
	uint64_t tried_ns, checked_ns;
	int unread; /* pipelined commands whose answers are not read yet */
	int64_t *keys;
	size_t n, cap;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

pg_locks *pg_locks_new(const char *url)
{
	pg_locks *l = xcalloc(1, sizeof *l);
	pthread_mutex_init(&l->mu, NULL);
	l->url = xstrdup(url);
	return l;
}

void pg_locks_free(pg_locks *l)
{
	if (!l)
		return;
	if (l->pc)
		PQfinish(l->pc);
	pthread_mutex_destroy(&l->mu);
	free(l->keys);
	free(l->url);
	free(l);
}

/* Reads (and drops) the answers of the pipelined commands, then leaves
 * pipeline mode. Lock held. */
static void drain(pg_locks *l)
{
	while (l->pc && l->unread > 0) {
		PGresult *r = PQgetResult(l->pc);
		if (!r) { /* between two commands' answers, or the session is gone */
			if (PQstatus(l->pc) != CONNECTION_OK)
				break;
			continue;
		}
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC)
			l->unread--;
		PQclear(r);
	}
	if (l->pc && PQpipelineStatus(l->pc) != PQ_PIPELINE_OFF && !PQexitPipelineMode(l->pc)) {
		PQfinish(l->pc); /* answers left unread: start over */
		l->pc = NULL;
	}
	l->unread = 0;
}

/* Sends a command in the pipeline with a sync of its own (it commits on
 * its own), without waiting for its answer (drain reads it). Lock held. */
static void send_unread(pg_locks *l, const char *sql, int n, const char *const *vals, const int *lens,
                        const int *fmts)
{
	if (PQpipelineStatus(l->pc) == PQ_PIPELINE_OFF && !PQenterPipelineMode(l->pc))
		return;
	if (PQsendQueryParams(l->pc, sql, n, NULL, vals, lens, fmts, 0) == 1 && PQpipelineSync(l->pc) == 1)
		l->unread++;
}

static ssize_t find(const pg_locks *l, int64_t key)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->keys[i] == key)
			return (ssize_t)i;
	return -1;
}

static void forget(pg_locks *l, size_t i)
{
	l->keys[i] = l->keys[--l->n];
}

/* 1 / 0 as pg_try_advisory_lock answers, -1 the session is gone (then
 * closed). Lock held. */
static int try_lock(pg_locks *l, int64_t key)
{
	char v[24];
	snprintf(v, sizeof v, "%lld", (long long)key);
	const char *vals[] = {v};
	drain(l);
	PGresult *r = PQexecParams(l->pc, "SELECT pg_try_advisory_lock($1::bigint)", 1, NULL, vals, NULL, NULL, 0);
	int rc = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		rc = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (rc < 0) {
		PQfinish(l->pc);
		l->pc = NULL;
	}
	return rc;
}

/* A working session, reconnecting (and retaking every lock held) when it
 * was lost; false when the server cannot be reached. Lock held. */
static bool ensure(pg_locks *l)
{
	drain(l);
	if (l->pc && PQstatus(l->pc) == CONNECTION_OK)
		return true;
	if (l->pc) {
		PQfinish(l->pc);
		l->pc = NULL;
	}
	uint64_t now = now_ns();
	if (l->tried_ns && now - l->tried_ns < RETRY_NS)
		return false;
	l->tried_ns = now;
	const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
	const char *vals[] = {l->url, "brisk locks", "5", NULL};
	l->pc = PQconnectdbParams(keys, vals, 1);
	if (!l->pc || PQstatus(l->pc) != CONNECTION_OK) {
		if (l->pc)
			PQfinish(l->pc);
		l->pc = NULL;
		return false;
	}
	PQsetNoticeProcessor(l->pc, quiet, NULL);
	l->checked_ns = now;
	for (size_t i = 0; i < l->n;) {
		int rc = try_lock(l, l->keys[i]);
		if (rc < 0)
			return false; /* gone again: the keys are retaken at the next connect */
		if (rc == 0) {
			log_warn("store: lock %lld was taken by another instance while PostgreSQL was away",
			         (long long)l->keys[i]);
			forget(l, i);
		} else {
			i++;
		}
	}
	return true;
}

int pg_locks_try(pg_locks *l, int64_t key)
{
	pthread_mutex_lock(&l->mu);
	int rc = 0; /* held by another thread of this process: as good as another's */
	if (find(l, key) < 0) {
		rc = ensure(l) ? try_lock(l, key) : -1;
		if (rc == 1) {
			if (l->n == l->cap) {
				l->cap = l->cap ? l->cap * 2 : 16;
				l->keys = xrealloc(l->keys, l->cap * sizeof *l->keys);
			}
			l->keys[l->n++] = key;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

void pg_locks_release(pg_locks *l, int64_t key)
{
	pthread_mutex_lock(&l->mu);
	ssize_t i = find(l, key);
	if (i >= 0) {
		forget(l, (size_t)i);
		if (l->pc && PQstatus(l->pc) == CONNECTION_OK) {
			char v[24];
			snprintf(v, sizeof v, "%lld", (long long)key);
			const char *vals[] = {v};
			/* behind a fill still in flight: one round trip for both */
			send_unread(l, "SELECT pg_advisory_unlock($1::bigint)", 1, vals, NULL, NULL);
			drain(l);
		}
	}
	pthread_mutex_unlock(&l->mu);
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000ULL + (uint64_t)ts.tv_nsec / 1000000ULL;
}

void *pg_locks_cache_get(pg_locks *l, const void *key, size_t klen, size_t *n)
{
	char now[24];
	snprintf(now, sizeof now, "%llu", (unsigned long long)wall_ms());
	const char *vals[] = {key, now};
	int lens[] = {(int)klen, 0}, fmts[] = {1, 0};
	void *out = NULL;
	pthread_mutex_lock(&l->mu);
	if (ensure(l)) {
		PGresult *r = PQexecParams(l->pc, "SELECT v FROM brisk_cache WHERE k = $1 AND expires_ms > $2::bigint", 2,
		                           NULL, vals, lens, fmts, 1);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
			*n = (size_t)PQgetlength(r, 0, 0);
			out = xmalloc(*n + 1);
			memcpy(out, PQgetvalue(r, 0, 0), *n);
		}
		PQclear(r);
	}
	pthread_mutex_unlock(&l->mu);
	return out;
}

void pg_locks_cache_put(pg_locks *l, const void *key, size_t klen, const void *v, size_t n, uint64_t ttl_ms)
{
	static _Atomic unsigned puts;
	uint64_t now = wall_ms();
	char exp[24], nows[24];
	snprintf(exp, sizeof exp, "%llu", (unsigned long long)(now + ttl_ms));
	snprintf(nows, sizeof nows, "%llu", (unsigned long long)now);
	const char *vals[] = {key, v, exp};
	int lens[] = {(int)klen, (int)n, 0}, fmts[] = {1, 1, 0};
	pthread_mutex_lock(&l->mu);
	if (ensure(l)) {
		send_unread(l,
		            "INSERT INTO brisk_cache(k, v, expires_ms) VALUES($1, $2, $3::bigint) "
		            "ON CONFLICT(k) DO UPDATE SET v = excluded.v, expires_ms = excluded.expires_ms",
		            3, vals, lens, fmts);
		if (++puts % 256 == 0) {
			const char *dv[] = {nows};
			send_unread(l, "DELETE FROM brisk_cache WHERE expires_ms <= $1::bigint", 1, dv, NULL, NULL);
		}
	}
	pthread_mutex_unlock(&l->mu);
}

int pg_locks_held(pg_locks *l, int64_t key)
{
	pthread_mutex_lock(&l->mu);
	uint64_t now = now_ns();
	if (l->pc && now - l->checked_ns >= CHECK_NS) {
		/* a dead session shows only when used */
		l->checked_ns = now;
		drain(l);
		PGresult *r = PQexec(l->pc, "SELECT 1");
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			PQfinish(l->pc);
			l->pc = NULL;
		}
		PQclear(r);
	}
	int rc = find(l, key) < 0 ? 0 : 1;
	if (rc == 1 && !ensure(l))
		rc = -1;
	else if (rc == 1)
		rc = find(l, key) < 0 ? 0 : 1; /* the reconnect may have lost it */
	pthread_mutex_unlock(&l->mu);
	return rc;
}
