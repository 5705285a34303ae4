/* store backend PostgreSQL: data versions. */
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "monitor/qstats.h"
#include "store/pg_vers.h"

/* DESIGN
 * A request learns the versions exactly, at one round trip (pgs_refresh:
 * the commit counter, then data_versions when it moved). The watcher
 * thread (store_watch_versions) does not poll: it sleeps on its own
 * connection LISTENing on brisk_versions, which every announcing commit
 * NOTIFYs (delivered only if it commits), and looks when one arrives, or
 * once a second as a fallback (a notification lost with a connection).
 * So an idle instance costs the primary one query a second, and commits
 * of other instances reach store_on_outside_change within milliseconds. */

#define WATCH_TICK_MS 100       /* how soon a stopping store is noticed */
#define WATCH_FALLBACK_MS 1000  /* a look without a notification */
#define LOOK_SQL "SELECT n FROM brisk_commits"

static bool pg_run_prepare(PGconn *pc, const char *name, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQprepare(pc, name, sql, 0, NULL);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		pg_first_line(err, errlen, PQerrorMessage(pc));
	PQclear(r);
	return ok;
}

bool pg_look_ensure(pg_store *s)
{
	if (s->look && PQstatus(s->look) == CONNECTION_OK)
		return true;
	if (s->look)
		PQfinish(s->look);
	char err[400];
	s->look = pg_connect(s, err, sizeof err);
	s->loaded = false; /* commits may have been missed meanwhile */
	/* prepared once: every request looks, and a simple query is parsed
	 * and planned anew each time */
	if (s->look && !pg_run_prepare(s->look, "look", LOOK_SQL, err, sizeof err)) {
		PQfinish(s->look);
		s->look = NULL;
	}
	return s->look != NULL;
}


bool pg_vers_load(pg_store *s)
{
	PGresult *r = PQexec(s->look, "SELECT org, tbl, version FROM data_versions");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return false;
	}
	pthread_mutex_lock(&s->base.ver_lock);
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t org = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		int tbl = atoi(PQgetvalue(r, i, 1));
		/* a version this process did not set yet: someone else's commit
		 * (at open, everything is) */
		if (store_vers_put(&s->base, org, tbl, strtoull(PQgetvalue(r, i, 2), NULL, 10)) && s->opened)
			store_masks_add(&s->outside_org, &s->outside_mask, &s->noutside, &s->capoutside, org, TBL_BIT(tbl));
	}
	pthread_mutex_unlock(&s->base.ver_lock);
	PQclear(r);
	return true;
}

/* Exact, at the price of one round trip: the commit counter tells whether
 * anyone committed since the last load. A notification alone could still
 * be on its way when a client that got its write acknowledged by another
 * instance asks this one. */
bool pgs_refresh(store_t *base)
{
	pg_store *s = PS(base);
	bool ok = pg_look_ensure(s);
	if (ok) {
		PGresult *r = PQexecPrepared(s->look, "look", 0, NULL, NULL, NULL, 0);
		ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
		if (!ok && pg_is_loss(s->look, r)) {
			char why[300];
			pg_first_line(why, sizeof why, PQerrorMessage(s->look));
			pg_note_down(s, why);
		}
		int64_t n = ok ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
		PQclear(r);
		if (ok && (n != s->commits_seen || !s->loaded || s->pending)) {
			ok = pg_vers_load(s);
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
int pgs_refresh_try(store_t *base)
{
	(void)base;
	return 0;
}

void pgs_sizes(store_t *base, int64_t *db_bytes, int64_t *wal_bytes)
{
	pg_store *s = PS(base);
	*db_bytes = 0;
	*wal_bytes = 0;
	pthread_mutex_lock(&base->refresh_lock);
	if (pg_look_ensure(s)) {
		PGresult *r = PQexec(s->look, "SELECT pg_database_size(current_database())");
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			*db_bytes = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}
	pthread_mutex_unlock(&base->refresh_lock);
}

/* The watcher's connection LISTENs; false if the server cannot be reached
 * (the watcher then looks once a second). */
static bool watch_listen(pg_store *s)
{
	if (s->watch && PQstatus(s->watch) == CONNECTION_OK)
		return true;
	if (s->watch)
		PQfinish(s->watch);
	char err[400];
	s->watch = pg_connect(s, err, sizeof err);
	if (s->watch && !pg_run(s->watch, "LISTEN brisk_versions", err, sizeof err)) {
		log_error("store: cannot listen for version changes: %s", err);
		PQfinish(s->watch);
		s->watch = NULL;
	}
	return s->watch != NULL;
}

/* Hands the changes of other processes to the store's listener, with no
 * lock held. */
static void outside_fire(pg_store *s)
{
	pthread_mutex_lock(&s->base.ver_lock);
	int n = s->noutside;
	int64_t *orgs = s->outside_org;
	unsigned *masks = s->outside_mask;
	s->outside_org = NULL;
	s->outside_mask = NULL;
	s->noutside = s->capoutside = 0;
	store_change_fn fn = s->base.on_outside;
	void *ud = s->base.on_outside_ud;
	pthread_mutex_unlock(&s->base.ver_lock);
	for (int i = 0; fn && i < n; i++)
		fn(ud, orgs[i], masks[i]);
	free(orgs);
	free(masks);
}

void pgs_watch(store_t *base)
{
	pg_store *s = PS(base);
	const uint64_t fallback_ns = WATCH_FALLBACK_MS * 1000000ull;
	uint64_t last_look = 0, last_try = 0;
	while (!atomic_load(&base->watch_stop)) {
		uint64_t now = qstats_now_ns();
		bool up = s->watch && PQstatus(s->watch) == CONNECTION_OK, woke = false;
		if (!up && now - last_try >= fallback_ns) { /* reconnects at the slow pace */
			last_try = now;
			up = watch_listen(s);
			woke = up; /* notifications may have been missed meanwhile */
		}
		if (up) {
			struct pollfd pfd = {.fd = PQsocket(s->watch), .events = POLLIN};
			if (poll(&pfd, 1, WATCH_TICK_MS) > 0) {
				PQconsumeInput(s->watch);
				PGnotify *n;
				while ((n = PQnotifies(s->watch))) {
					woke = true;
					PQfreemem(n);
				}
				if (PQstatus(s->watch) != CONNECTION_OK)
					woke = true; /* lost: look (which reports it), reconnect later */
			}
		} else {
			poll(NULL, 0, WATCH_TICK_MS);
		}
		now = qstats_now_ns();
		if (woke || now - last_look >= fallback_ns) {
			store_refresh_versions(base);
			last_look = now;
		}
		outside_fire(s);
	}
	if (s->watch)
		PQfinish(s->watch);
	s->watch = NULL;
}
