/* store backend PostgreSQL: data versions. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "store/pg_vers.h"

bool pg_listen_ensure(pg_store *s)
{
	if (s->listen && PQstatus(s->listen) == CONNECTION_OK)
		return true;
	if (s->listen)
		PQfinish(s->listen);
	char err[400];
	s->listen = pg_connect(s, err, sizeof err);
	if (!s->listen)
		return false;
	if (!pg_run(s->listen, "LISTEN brisk_versions", err, sizeof err)) {
		log_error("store: cannot listen for version changes: %s", err);
		PQfinish(s->listen);
		s->listen = NULL;
		return false;
	}
	s->loaded = false; /* notifications may have been missed meanwhile */
	return true;
}

bool pg_vers_load(pg_store *s)
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
bool pgs_refresh(store_t *base)
{
	pg_store *s = PS(base);
	bool ok = pg_listen_ensure(s);
	if (ok) {
		drain(s);
		PGresult *r = PQexec(s->listen, "SELECT n FROM brisk_commits");
		ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
		if (!ok && pg_is_loss(s->listen, r)) {
			char why[300];
			pg_first_line(why, sizeof why, PQerrorMessage(s->listen));
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
	if (pg_listen_ensure(s)) {
		PGresult *r = PQexec(s->listen, "SELECT pg_database_size(current_database())");
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			*db_bytes = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}
	pthread_mutex_unlock(&base->refresh_lock);
}
