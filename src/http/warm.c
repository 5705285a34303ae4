#include "http/warm.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"

#define MAX_PENDING 256
#define MAX_DEMAND 256
#define REWARM_TOP 8

typedef struct {
	int64_t org;
	char route[32];
	char param[64]; /* the path parameter (a data set's name), "" none */
	char query[256];
	uint64_t count;
} demand_t;

struct warm {
	http_server_t *srv;
	pthread_t tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	int64_t pending[MAX_PENDING];
	int npending;
	demand_t demand[MAX_DEMAND];
	int ndemand;
	uint64_t reloads_seen;
};

static void replay(warm_t *w, int64_t org, const char *route_name, const char *param, const char *query)
{
	const http_route *rt = http_server_route(w->srv, route_name);
	if (!rt)
		return;
	http_req_t r;
	http_req_synthetic(&r, rt, org, param, query);
	rt->fn(w->srv, &r);
	if (r.status != 200 && r.status != 304)
		log_debug("warm: %s?%s for org %lld answered %d", route_name, query ? query : "", (long long)org, r.status);
	http_req_release(&r);
}

static void warm_one(warm_t *w, int64_t org)
{
	char q[128], f[DATE_BUFSZ], t[DATE_BUFSZ];
	date_t today = date_today();
	date_format(date_add_months(date_bucket_start(today, INTERVAL_MONTH), -11), f);
	date_format(today, t);
	replay(w, org, "dashboard", NULL, NULL);
	replay(w, org, "overview", NULL, NULL);
	snprintf(q, sizeof q, "interval=month&from=%s&to=%s", f, t);
	replay(w, org, "cashflow", NULL, q);
	replay(w, org, "aging", NULL, NULL);
	/* then what this org actually asks for most */
	demand_t top[REWARM_TOP];
	int n = 0;
	pthread_mutex_lock(&w->lock);
	for (int i = 0; i < w->ndemand; i++) {
		if (w->demand[i].org != org)
			continue;
		int j = n < REWARM_TOP ? n++ : REWARM_TOP - 1;
		if (j == REWARM_TOP - 1 && n == REWARM_TOP && top[j].count >= w->demand[i].count)
			continue;
		top[j] = w->demand[i];
		while (j > 0 && top[j - 1].count < top[j].count) {
			demand_t tmp = top[j - 1];
			top[j - 1] = top[j];
			top[j] = tmp;
			j--;
		}
	}
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < n; i++)
		replay(w, org, top[i].route, top[i].param, top[i].query);
}

/* Commits by other processes (a `brisk import` while the server runs)
 * reach no on-change hook: a look at the store every second finds them. */
static void poll_outside_commits(warm_t *w)
{
	store_t *s = http_server_store(w->srv);
	store_refresh_versions(s);
	uint64_t n = store_version_reloads(s);
	if (n != w->reloads_seen) {
		w->reloads_seen = n;
		pthread_mutex_unlock(&w->lock);
		warm_all(w);
		pthread_mutex_lock(&w->lock);
	}
}

static void *warm_main(void *arg)
{
	warm_t *w = arg;
	pthread_mutex_lock(&w->lock);
	w->reloads_seen = store_version_reloads(http_server_store(w->srv));
	for (;;) {
		while (!w->stop && w->npending == 0) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			if (pthread_cond_timedwait(&w->cond, &w->lock, &until) != 0 && !w->stop)
				poll_outside_commits(w);
		}
		if (w->stop)
			break;
		int64_t org = w->pending[0];
		memmove(w->pending, w->pending + 1, (size_t)--w->npending * sizeof w->pending[0]);
		pthread_mutex_unlock(&w->lock);
		warm_one(w, org);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

warm_t *warm_new(http_server_t *srv)
{
	warm_t *w = xcalloc(1, sizeof *w);
	w->srv = srv;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	pthread_create(&w->tid, NULL, warm_main, w);
	return w;
}

void warm_free(warm_t *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->tid, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}

void warm_org(warm_t *w, int64_t org)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	bool queued = false;
	for (int i = 0; i < w->npending; i++)
		if (w->pending[i] == org)
			queued = true;
	if (!queued && w->npending < MAX_PENDING) {
		w->pending[w->npending++] = org;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
}

void warm_all(warm_t *w)
{
	static const char *q = "SELECT id FROM orgs ORDER BY id";
	store_t *s = http_server_store(w->srv);
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	int64_t ids[MAX_PENDING];
	int n = 0;
	while (store_step(st) == STORE_ROW && n < MAX_PENDING)
		ids[n++] = store_col_i64(st, 0);
	store_reset(st);
	store_read_end(c);
	for (int i = 0; i < n; i++)
		warm_org(w, ids[i]);
}

void warm_note(warm_t *w, int64_t org, const char *route, slice_t param, const char *query)
{
	if (!w)
		return;
	const char *qq = query ? query : "";
	if (strlen(route) >= sizeof w->demand[0].route || strlen(qq) >= sizeof w->demand[0].query ||
	    param.len >= sizeof w->demand[0].param || memchr(param.p, 0, param.len))
		return;
	pthread_mutex_lock(&w->lock);
	int lowest = -1;
	for (int i = 0; i < w->ndemand; i++) {
		demand_t *d = &w->demand[i];
		if (d->org == org && !strcmp(d->route, route) && !strcmp(d->query, qq) && strlen(d->param) == param.len &&
		    !memcmp(d->param, param.p, param.len)) {
			d->count++;
			pthread_mutex_unlock(&w->lock);
			return;
		}
		if (lowest < 0 || d->count < w->demand[lowest].count)
			lowest = i;
	}
	/* a full table forgets its least asked-for entry */
	int slot = w->ndemand < MAX_DEMAND ? w->ndemand++ : lowest;
	demand_t *d = &w->demand[slot];
	d->org = org;
	d->count = 1;
	memcpy(d->route, route, strlen(route) + 1);
	memcpy(d->query, qq, strlen(qq) + 1);
	memcpy(d->param, param.p, param.len);
	d->param[param.len] = '\0';
	pthread_mutex_unlock(&w->lock);
}
