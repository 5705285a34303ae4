#include "monitor/monitor.h"

#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "monitor/advisor.h"
#include "monitor/alerts.h"
#include "monitor/process.h"
#include "monitor/qstats.h"
#include "monitor/sampler.h"
#include "monitor/taskstats.h"

/*
 * DESIGN
 *
 * Samples (sampler.h): 15 minutes of them, one per interval, taken by the
 * monitor thread. Route latencies do not need samples: the metrics
 * registry keeps its own windows for histograms.
 *
 * /metrics series computed from the cache read the newest monitor through
 * `active` (under active_mu), refreshing its parsed rcache statistics at
 * most every 250 ms, so a scrape parses them once, not once per series.
 * The registry never forgets a function series: a freed monitor leaves
 * them reading zeros.
 */

#define HISTORY_S 900.0
#define LATENCY_WINDOW_S 60.0
#define HIT_WINDOW_S 300.0
#define CPU_WINDOW_S 60.0
#define MAX_ROUTE_CLASSES 128

struct monitor {
	monitor_opts o;
	char *db_path;
	store_t *store;
	rcache_t *cache;
	alerts_t *alerts;
	pthread_t thread;
	pthread_mutex_t mu; /* guards stop */
	pthread_mutex_t omu; /* guards o (a reload replaces its thresholds) */
	double interval_s;   /* o.interval_s, for the thread: never changes */
	pthread_cond_t cond;
	bool stop;
	sampler_t *samples;
	sampler_cache scrape;      /* for /metrics, under active_mu */
	double scrape_at;
};

static pthread_mutex_t active_mu = PTHREAD_MUTEX_INITIALIZER;
static monitor_t *active;

static pthread_mutex_t global_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char name[64];
	monitor_route_class cls;
} classes[MAX_ROUTE_CLASSES];
static size_t nclasses;
/* The listener, and held while it runs: replacing it waits for a call in
 * flight, so a caller may free the old listener's state right after. */
static pthread_mutex_t alert_mu = PTHREAD_MUTEX_INITIALIZER;
static monitor_alert_fn alert_fn;
static void *alert_ud;

static double mono_now(void);
static double wall_now(void);
static void *thread_main(void *arg);
static void evaluate(monitor_t *m);
static void register_series(const sampler_cache *c);

/* ---- options ---- */

void monitor_opts_init(monitor_opts *o)
{
	memset(o, 0, sizeof *o);
	o->interval_s = 5;
	o->slow_query_s = 0.1;
	o->dash_p95_warn_ms = 400;
	o->dash_p95_crit_ms = 600;
	o->api_p95_warn_ms = 200;
	o->api_p95_crit_ms = 500;
	o->latency_min_requests = 20;
	o->cache_hit_warn_pct = 70;
	o->cache_hit_crit_pct = 50;
	o->cache_min_requests = 100;
	o->rss_warn_mib = 512;
	o->rss_crit_mib = 1024;
	o->cpu_warn_pct = 80;
	o->cpu_crit_pct = 95;
	o->cache_ttl_s = 600;
}

void monitor_opts_from_config(monitor_opts *o, const config_t *c)
{
	monitor_opts_init(o);
	o->interval_s = (double)c->monitor_interval_s;
	o->slow_query_s = (double)c->slow_query_ms / 1e3;
	o->dash_p95_warn_ms = (double)c->alert_dash_p95_warn_ms;
	o->dash_p95_crit_ms = (double)c->alert_dash_p95_crit_ms;
	o->api_p95_warn_ms = (double)c->alert_api_p95_warn_ms;
	o->api_p95_crit_ms = (double)c->alert_api_p95_crit_ms;
	o->latency_min_requests = (uint64_t)c->alert_latency_min_requests;
	o->cache_hit_warn_pct = (double)c->alert_cache_hit_warn_pct;
	o->cache_hit_crit_pct = (double)c->alert_cache_hit_crit_pct;
	o->cache_min_requests = (uint64_t)c->alert_cache_min_requests;
	o->rss_warn_mib = (double)c->alert_rss_warn_bytes / 1048576.0;
	o->rss_crit_mib = (double)c->alert_rss_crit_bytes / 1048576.0;
	o->cpu_warn_pct = (double)c->alert_cpu_warn_pct;
	o->cpu_crit_pct = (double)c->alert_cpu_crit_pct;
	o->cache_ttl_s = c->cache_ttl_s;
	o->cache_bytes = c->cache_bytes;
}

/* ---- lifetime ---- */

monitor_t *monitor_new(const monitor_opts *o, store_t *s, rcache_t *c)
{
	monitor_t *m = xcalloc(1, sizeof *m);
	m->o = *o;
	if (!(m->o.interval_s > 0))
		m->o.interval_s = 5;
	if (o->db_path)
		m->db_path = xstrdup(o->db_path);
	m->o.db_path = m->db_path;
	m->store = s;
	m->cache = c;
	m->alerts = alerts_new();
	pthread_mutex_init(&m->mu, NULL);
	pthread_mutex_init(&m->omu, NULL);
	pthread_cond_init(&m->cond, NULL);
	qstats_set_threshold(m->o.slow_query_s);
	/* The first sample is taken now: windows start at the server's start. */
	m->interval_s = m->o.interval_s;
	m->samples = sampler_new(s, c, HISTORY_S, m->o.interval_s);
	sampler_sample first;
	sampler_take(m->samples, &first);
	register_series(&first.cache);
	taskstats_refresh(s);
	pthread_mutex_lock(&active_mu);
	active = m;
	pthread_mutex_unlock(&active_mu);
	pthread_create(&m->thread, NULL, thread_main, m);
	return m;
}

void monitor_free(monitor_t *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->stop = true;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->thread, NULL);
	pthread_mutex_lock(&active_mu);
	if (active == m)
		active = NULL;
	pthread_mutex_unlock(&active_mu);
	alerts_free(m->alerts);
	pthread_mutex_destroy(&m->mu);
	pthread_mutex_destroy(&m->omu);
	pthread_cond_destroy(&m->cond);
	sampler_free(m->samples);
	free(m->db_path);
	free(m);
}

void monitor_tick(monitor_t *m)
{
	sampler_push(m->samples);
	taskstats_refresh(m->store);
	metrics_tick();
	evaluate(m);
}

/* ---- route latencies, from the registry's histograms ---- */

struct route_agg {
	char name[64];
	uint64_t w1[METRICS_NCELLS], w15[METRICS_NCELLS], all[METRICS_NCELLS];
	uint64_t n1, n15, nall;
	double sum;
};

struct route_set {
	struct route_agg *v;
	size_t n, cap;
};

static void route_cb(void *ud, const char *labels, metrics_histogram_t *h)
{
	struct route_set *rs = ud;
	char name[64];
	if (!metrics_label_get(labels, "route", name, sizeof name))
		return;
	struct route_agg *r = NULL;
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->v[i].name, name))
			r = &rs->v[i];
	if (!r) {
		if (rs->n == rs->cap) {
			rs->cap = rs->cap ? rs->cap * 2 : 16;
			rs->v = xrealloc(rs->v, rs->cap * sizeof *rs->v);
		}
		r = &rs->v[rs->n++];
		memset(r, 0, sizeof *r);
		snprintf(r->name, sizeof r->name, "%s", name);
	}
	uint64_t c[METRICS_NCELLS];
	r->n1 += metrics_histogram_window_counts(h, LATENCY_WINDOW_S, c);
	for (size_t i = 0; i < METRICS_NCELLS; i++)
		r->w1[i] += c[i];
	r->n15 += metrics_histogram_window_counts(h, HISTORY_S, c);
	for (size_t i = 0; i < METRICS_NCELLS; i++)
		r->w15[i] += c[i];
	r->nall += metrics_histogram_window_counts(h, 0, c);
	for (size_t i = 0; i < METRICS_NCELLS; i++)
		r->all[i] += c[i];
	r->sum += metrics_histogram_sum(h);
}

static void routes_collect(struct route_set *rs)
{
	memset(rs, 0, sizeof *rs);
	metrics_histogram_each("brisk_http_request_duration_seconds", route_cb, rs);
}

static double ms_q(const uint64_t *c, uint64_t n, double q)
{
	return n ? metrics_counts_quantile(c, q) * 1e3 : NAN;
}

static void put_ms(buf_t *out, double v)
{
	if (isfinite(v))
		buf_printf(out, "%.3f", v);
	else
		buf_puts(out, "null");
}

static void put_window(buf_t *out, const char *name, const uint64_t *c, uint64_t n)
{
	buf_printf(out, "\"%s\":{\"count\":%llu,\"p50_ms\":", name, (unsigned long long)n);
	put_ms(out, ms_q(c, n, 0.5));
	buf_puts(out, ",\"p95_ms\":");
	put_ms(out, ms_q(c, n, 0.95));
	buf_puts(out, ",\"p99_ms\":");
	put_ms(out, ms_q(c, n, 0.99));
	buf_putc(out, '}');
}

static const char *class_name(monitor_route_class c)
{
	return c == MONITOR_ROUTE_DASHBOARD ? "dashboard" : c == MONITOR_ROUTE_API ? "api" : "other";
}

/* ---- per-view cache results ---- */

struct view_agg {
	advisor_view *v;
	size_t n, cap;
};

static void view_cb(void *ud, const char *labels, uint64_t value)
{
	struct view_agg *va = ud;
	char name[64], result[32];
	if (!metrics_label_get(labels, "view", name, sizeof name) ||
	    !metrics_label_get(labels, "result", result, sizeof result))
		return;
	advisor_view *v = NULL;
	for (size_t i = 0; i < va->n; i++)
		if (!strcmp(va->v[i].name, name))
			v = &va->v[i];
	if (!v) {
		if (va->n == va->cap) {
			va->cap = va->cap ? va->cap * 2 : 16;
			va->v = xrealloc(va->v, va->cap * sizeof *va->v);
		}
		v = &va->v[va->n++];
		memset(v, 0, sizeof *v);
		v->name = xstrdup(name);
	}
	/* A revalidation (304) never reaches the cache: neither. */
	if (!strncmp(result, "hit_", 4) || !strcmp(result, "coalesced"))
		v->hits += value;
	else if (!strcmp(result, "miss") || !strcmp(result, "stale"))
		v->misses += value;
}

static void views_collect(struct view_agg *va)
{
	memset(va, 0, sizeof *va);
	metrics_counter_each("brisk_cache_view_requests_total", view_cb, va);
}

static void views_free(struct view_agg *va)
{
	for (size_t i = 0; i < va->n; i++)
		free((char *)va->v[i].name);
	free(va->v);
}

/* ---- the JSON documents ---- */

static double rate(uint64_t hits, uint64_t total)
{
	return total ? (double)hits / (double)total : NAN;
}

static void put_rate(buf_t *out, double r)
{
	if (isfinite(r))
		buf_printf(out, "%.4f", r);
	else
		buf_puts(out, "null");
}

static void put_tier(buf_t *out, const char *name, bool on, uint64_t h0, uint64_t m0, uint64_t h1, uint64_t m1)
{
	buf_printf(out, "\"%s\":{\"enabled\":%s", name, on ? "true" : "false");
	if (on) {
		buf_printf(out, ",\"hits\":%llu,\"misses\":%llu,\"hit_rate\":", (unsigned long long)h1,
			   (unsigned long long)m1);
		put_rate(out, rate(h1, h1 + m1));
		buf_puts(out, ",\"hit_rate_5m\":");
		put_rate(out, rate(h1 - h0, h1 - h0 + m1 - m0));
	}
	buf_putc(out, '}');
}

void monitor_performance_json(monitor_t *m, buf_t *out)
{
	buf_printf(out, "{\"uptime_seconds\":%.1f,\"routes\":[", process_uptime());
	struct route_set rs;
	routes_collect(&rs);
	for (size_t i = 0; i < rs.n; i++) {
		struct route_agg *r = &rs.v[i];
		buf_puts(out, i ? ",{\"route\":" : "{\"route\":");
		buf_json_str(out, r->name, strlen(r->name));
		buf_printf(out, ",\"class\":\"%s\",", class_name(monitor_route_class_of(r->name)));
		put_window(out, "1m", r->w1, r->n1);
		buf_putc(out, ',');
		put_window(out, "15m", r->w15, r->n15);
		buf_printf(out, ",\"total\":{\"count\":%llu,\"mean_ms\":", (unsigned long long)r->nall);
		put_ms(out, r->nall ? r->sum * 1e3 / (double)r->nall : NAN);
		buf_puts(out, "}}");
	}
	free(rs.v);

	sampler_sample old, now;
	sampler_window(m->samples, HIT_WINDOW_S, &old, &now, true);
	const sampler_cache *a = &old.cache, *b = &now.cache;
	buf_puts(out, "],\"cache\":{\"tiers\":{");
	put_tier(out, "l1", b->l1_enabled, a->l1_hits, a->l1_misses, b->l1_hits, b->l1_misses);
	buf_putc(out, ',');
	put_tier(out, "l2", b->l2_enabled, a->l2_hits, a->l2_misses, b->l2_hits, b->l2_misses);
	buf_putc(out, ',');
	put_tier(out, "l3", b->l3_enabled, a->l3_hits, a->l3_misses, b->l3_hits, b->l3_misses);
	uint64_t served = b->l1_hits + b->l2_hits + b->l3_hits, lookups = b->l1_hits + b->l1_misses;
	buf_puts(out, "},\"hit_rate\":");
	put_rate(out, rate(served, lookups));
	buf_printf(out, ",\"computed\":%llu,\"evictions\":%llu,\"bytes\":%llu,\"entries\":%llu,\"views\":[",
		   (unsigned long long)b->computed, (unsigned long long)b->l1_evictions,
		   (unsigned long long)b->l1_bytes, (unsigned long long)b->l1_entries);
	struct view_agg va;
	views_collect(&va);
	for (size_t i = 0; i < va.n; i++) {
		buf_puts(out, i ? ",{\"view\":" : "{\"view\":");
		buf_json_str(out, va.v[i].name, strlen(va.v[i].name));
		buf_printf(out, ",\"hits\":%llu,\"misses\":%llu,\"hit_rate\":", (unsigned long long)va.v[i].hits,
			   (unsigned long long)va.v[i].misses);
		put_rate(out, rate(va.v[i].hits, va.v[i].hits + va.v[i].misses));
		buf_putc(out, '}');
	}
	views_free(&va);

	qstats_totals qt;
	qstats_get_totals(&qt);
	int64_t db = 0, wal = 0;
	store_file_sizes(m->store, &db, &wal);
	buf_printf(out,
		   "]},\"store\":{\"queries\":%llu,\"reads\":%llu,\"writes\":%llu,\"mean_ms\":%.4f,"
		   "\"total_seconds\":%.3f,\"slow\":%llu,\"slow_threshold_ms\":%.1f,\"db_bytes\":%lld,\"wal_bytes\":%lld,"
		   "\"top_statements\":[",
		   (unsigned long long)qt.executions, (unsigned long long)qt.reads, (unsigned long long)qt.writes,
		   qt.executions ? qt.seconds * 1e3 / (double)qt.executions : 0, qt.seconds,
		   (unsigned long long)qt.slow, qstats_threshold() * 1e3, (long long)db, (long long)wal);
	qstats_stmt top[5];
	size_t nt = qstats_top(top, 5);
	for (size_t i = 0; i < nt; i++) {
		buf_puts(out, i ? ",{\"sql\":" : "{\"sql\":");
		buf_json_str(out, top[i].text, strlen(top[i].text));
		buf_printf(out, ",\"count\":%llu,\"total_ms\":%.3f,\"p95_ms\":%.4f}", (unsigned long long)top[i].count,
			   top[i].total_s * 1e3, top[i].p95_s * 1e3);
	}

	process_stats ps;
	process_read(&ps);
	sampler_sample c0, newest;
	sampler_window(m->samples, CPU_WINDOW_S, &c0, &newest, false);
	bool have_cpu = now.t > c0.t + 1 && c0.cpu_s >= 0;
	double cpu_pct = have_cpu ? (now.cpu_s - c0.cpu_s) / ((now.t - c0.t) * process_cpus()) * 100 : NAN;
	buf_puts(out, "]},\"tasks\":");
	taskstats_json(m->store, out);
	buf_printf(out, ",\"process\":{\"rss_bytes\":%.0f,\"virtual_bytes\":%.0f,\"cpu_seconds\":%.3f,"
			"\"cpu_percent_1m\":",
		   ps.resident_bytes, ps.virtual_bytes, ps.cpu_seconds);
	put_ms(out, cpu_pct);
	buf_printf(out, ",\"cpus\":%d,\"threads\":%.0f,\"open_fds\":%.0f},\"alerts\":{\"warning\":%zu,\"critical\":%zu}}",
		   process_cpus(), ps.threads, ps.open_fds, alerts_count(m->alerts, ALERT_WARNING),
		   alerts_count(m->alerts, ALERT_CRITICAL));
}

void monitor_slow_queries_json(monitor_t *m, buf_t *out)
{
	(void)m;
	qstats_json(out, 50);
}

static void opts_copy(monitor_t *m, monitor_opts *o)
{
	pthread_mutex_lock(&m->omu);
	*o = m->o;
	pthread_mutex_unlock(&m->omu);
}

void monitor_set_thresholds(monitor_t *m, const monitor_opts *o)
{
	pthread_mutex_lock(&m->omu);
	monitor_opts keep = m->o;
	m->o = *o;
	/* what the thread and the advisor were built with stays */
	m->o.interval_s = keep.interval_s;
	m->o.db_path = keep.db_path;
	m->o.cache_ttl_s = keep.cache_ttl_s;
	m->o.cache_bytes = keep.cache_bytes;
	pthread_mutex_unlock(&m->omu);
	qstats_set_threshold(o->slow_query_s);
}

void monitor_alerts_json(monitor_t *m, buf_t *out)
{
	monitor_opts ov;
	opts_copy(m, &ov);
	const monitor_opts *o = &ov;
	alerts_json(m->alerts, out);
	out->len--; /* reopen the object */
	buf_printf(out,
		   ",\"thresholds\":{\"dashboard_p95_ms\":{\"warn\":%g,\"critical\":%g},\"api_p95_ms\":{\"warn\":%g,"
		   "\"critical\":%g},\"latency_min_requests\":%llu,\"cache_hit_percent\":{\"warn\":%g,\"critical\":%g},"
		   "\"cache_min_requests\":%llu,\"rss_mib\":{\"warn\":%g,\"critical\":%g},\"cpu_percent\":{\"warn\":%g,"
		   "\"critical\":%g}},\"interval_seconds\":%g}",
		   o->dash_p95_warn_ms, o->dash_p95_crit_ms, o->api_p95_warn_ms, o->api_p95_crit_ms,
		   (unsigned long long)o->latency_min_requests, o->cache_hit_warn_pct, o->cache_hit_crit_pct,
		   (unsigned long long)o->cache_min_requests, o->rss_warn_mib, o->rss_crit_mib, o->cpu_warn_pct,
		   o->cpu_crit_pct, o->interval_s);
}

void monitor_report_json(monitor_t *m, buf_t *out)
{
	advisor_input in = {0};
	monitor_opts ov;
	opts_copy(m, &ov);
	in.db_path = m->db_path;
	in.dash_warn_ms = ov.dash_p95_warn_ms;
	in.api_warn_ms = ov.api_p95_warn_ms;

	struct route_set rs;
	routes_collect(&rs);
	advisor_route *routes = xcalloc(rs.n + 1, sizeof *routes);
	for (size_t i = 0; i < rs.n; i++)
		routes[i] = (advisor_route){rs.v[i].name, (int)monitor_route_class_of(rs.v[i].name), rs.v[i].n15,
					    ms_q(rs.v[i].w15, rs.v[i].n15, 0.95)};
	in.routes = routes;
	in.nroutes = rs.n;

	struct view_agg va;
	views_collect(&va);
	in.views = va.v;
	in.nviews = va.n;

	sampler_sample old, now;
	sampler_window(m->samples, HISTORY_S, &old, &now, true);
	const sampler_cache *c = &now.cache;
	in.cache_enabled = c->l1_enabled;
	in.l1_hits = c->l1_hits;
	in.l1_misses = c->l1_misses;
	in.l1_evictions = c->l1_evictions;
	in.l1_expirations = c->l1_expirations;
	in.l1_bytes = c->l1_bytes;
	in.l1_entries = c->l1_entries;
	in.l1_max_bytes = c->l1_max_bytes;
	in.ttl_s = ov.cache_ttl_s;
	in.window_s = now.t - old.t;
	for (int t = 0; t < TBL__COUNT; t++)
		in.writes[t] = now.ver[t] - old.ver[t];
	store_file_sizes(m->store, &in.db_bytes, &in.wal_bytes);
	in.wal_growth_bytes_per_min =
		in.window_s >= 60 ? (double)(now.wal_bytes - old.wal_bytes) / in.window_s * 60 : NAN;
	advisor_report(&in, out);
	views_free(&va);
	free(routes);
	free(rs.v);
}

/* ---- process-wide registrations ---- */

void monitor_set_route_class(const char *route, monitor_route_class cls)
{
	pthread_mutex_lock(&global_mu);
	size_t i;
	for (i = 0; i < nclasses; i++)
		if (!strcmp(classes[i].name, route))
			break;
	if (i == nclasses && nclasses < MAX_ROUTE_CLASSES)
		snprintf(classes[nclasses++].name, sizeof classes[0].name, "%s", route);
	if (i < nclasses)
		classes[i].cls = cls;
	pthread_mutex_unlock(&global_mu);
}

monitor_route_class monitor_route_class_of(const char *route)
{
	monitor_route_class c = MONITOR_ROUTE_OTHER;
	pthread_mutex_lock(&global_mu);
	for (size_t i = 0; i < nclasses; i++)
		if (!strcmp(classes[i].name, route))
			c = classes[i].cls;
	pthread_mutex_unlock(&global_mu);
	return c;
}

metrics_counter_t *monitor_view_counter(const char *view, const char *result)
{
	buf_t labels = BUF_INIT;
	metrics_label_append(&labels, "view", view, strlen(view));
	metrics_label_append(&labels, "result", result, strlen(result));
	metrics_counter_t *c = metrics_counter("brisk_cache_view_requests_total",
					       "Dashboard view responses by where the answer came from", labels.p);
	buf_free(&labels);
	return c;
}

void monitor_on_alert(monitor_alert_fn fn, void *ud)
{
	pthread_mutex_lock(&alert_mu);
	alert_fn = fn;
	alert_ud = ud;
	pthread_mutex_unlock(&alert_mu);
}

void monitor_redis_state(rcache_t *c, bool *configured, bool *up)
{
	sampler_cache s;
	sampler_cache_read(c, &s);
	*configured = s.l2_redis;
	*up = s.l2_redis && s.l2_up;
}

/* ---- private: sampling ---- */

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Memory a thread frees stays in its glibc arena (up to 8 per core), so
 * the resident size creeps up to every arena's high-water mark long after
 * the live set stopped growing: in a soak, 80 MB held for 22 MB in use.
 * Handing the free pages back once a minute keeps RSS near the live set
 * (a trim takes milliseconds). */
#define TRIM_EVERY_S 60.0

static void *thread_main(void *arg)
{
	monitor_t *m = arg;
	double trimmed = clock_now_s();
	pthread_mutex_lock(&m->mu);
	while (!m->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		double t = (double)until.tv_sec + (double)until.tv_nsec * 1e-9 + m->interval_s;
		until.tv_sec = (time_t)t;
		until.tv_nsec = (long)((t - (double)until.tv_sec) * 1e9);
		pthread_cond_timedwait(&m->cond, &m->mu, &until);
		if (m->stop)
			break;
		pthread_mutex_unlock(&m->mu);
		monitor_tick(m);
		if (clock_now_s() - trimmed >= TRIM_EVERY_S) {
			malloc_trim(0);
			trimmed = clock_now_s();
		}
		pthread_mutex_lock(&m->mu);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

/* ---- private: alerts ---- */

static void on_change(void *ud, const char *json, const char *message, alert_severity now, alert_severity was)
{
	(void)ud;
	if (now == ALERT_OK)
		log_info("alert resolved: %s", message);
	else
		log_warn("alert %s%s: %s", alerts_severity_name(now), was == ALERT_OK ? "" : " (was warning)", message);
	pthread_mutex_lock(&alert_mu);
	if (alert_fn)
		alert_fn(alert_ud, json, now != ALERT_OK);
	pthread_mutex_unlock(&alert_mu);
}

static void evaluate(monitor_t *m)
{
	monitor_opts ov;
	opts_copy(m, &ov);
	const monitor_opts *o = &ov;
	alerts_begin(m->alerts, wall_now());
	char id[128], what[160];

	struct route_set rs;
	routes_collect(&rs);
	for (size_t i = 0; i < rs.n; i++) {
		struct route_agg *r = &rs.v[i];
		monitor_route_class cls = monitor_route_class_of(r->name);
		if (cls == MONITOR_ROUTE_OTHER || r->n1 < o->latency_min_requests)
			continue;
		bool dash = cls == MONITOR_ROUTE_DASHBOARD;
		snprintf(id, sizeof id, "route_p95:%s", r->name);
		snprintf(what, sizeof what, "p95 latency of %s over the last minute", r->name);
		alert_check c = {id, "route_p95", r->name, what, "ms", ms_q(r->w1, r->n1, 0.95),
				 dash ? o->dash_p95_warn_ms : o->api_p95_warn_ms,
				 dash ? o->dash_p95_crit_ms : o->api_p95_crit_ms, false};
		alerts_check(m->alerts, &c);
	}
	free(rs.v);

	sampler_sample old, now;
	if (sampler_window(m->samples, HIT_WINDOW_S, &old, &now, false) && now.cache.l1_enabled) {
		uint64_t lookups = (now.cache.l1_hits + now.cache.l1_misses) - (old.cache.l1_hits + old.cache.l1_misses);
		uint64_t served = (now.cache.l1_hits + now.cache.l2_hits + now.cache.l3_hits) -
				  (old.cache.l1_hits + old.cache.l2_hits + old.cache.l3_hits);
		if (lookups >= o->cache_min_requests) {
			alert_check c = {"cache_hit_rate", "cache_hit_rate", "cache",
					 "cache hit rate over the last 5 minutes", "%",
					 100.0 * (double)served / (double)lookups, o->cache_hit_warn_pct,
					 o->cache_hit_crit_pct, true};
			alerts_check(m->alerts, &c);
		}
	}

	alert_check rss = {"rss", "rss", "process", "resident memory", "MiB", now.rss / 1048576.0,
			   o->rss_warn_mib, o->rss_crit_mib, false};
	if (now.rss >= 0)
		alerts_check(m->alerts, &rss);
	if (sampler_window(m->samples, CPU_WINDOW_S, &old, &now, false) && now.t - old.t >= CPU_WINDOW_S / 2 && old.cpu_s >= 0) {
		double pct = (now.cpu_s - old.cpu_s) / ((now.t - old.t) * process_cpus()) * 100;
		alert_check c = {"cpu", "cpu", "process", "CPU use over the last minute (share of all cores)", "%",
				 pct, o->cpu_warn_pct, o->cpu_crit_pct, false};
		alerts_check(m->alerts, &c);
	}
	alerts_end(m->alerts, on_change, m);
}

/* ---- private: /metrics series ---- */

enum { S_L1_HIT, S_L1_MISS, S_L2_HIT, S_L2_MISS, S_L3_HIT, S_L3_MISS, S_L1_EVICT, S_L1_BYTES, S_DB, S_WAL, S_PAGES,
       S_WARN, S_CRIT };

static double series_value(void *arg)
{
	int which = (int)(intptr_t)arg;
	double v = 0;
	pthread_mutex_lock(&active_mu);
	monitor_t *m = active;
	if (m) {
		double now = mono_now();
		if (which <= S_L1_BYTES && now - m->scrape_at > 0.25) {
			sampler_cache_read(m->cache, &m->scrape);
			m->scrape_at = now;
		}
		const sampler_cache *c = &m->scrape;
		int64_t db = 0, wal = 0;
		switch (which) {
		case S_L1_HIT: v = (double)c->l1_hits; break;
		case S_L1_MISS: v = (double)c->l1_misses; break;
		case S_L2_HIT: v = (double)c->l2_hits; break;
		case S_L2_MISS: v = (double)c->l2_misses; break;
		case S_L3_HIT: v = (double)c->l3_hits; break;
		case S_L3_MISS: v = (double)c->l3_misses; break;
		case S_L1_EVICT: v = (double)c->l1_evictions; break;
		case S_L1_BYTES: v = (double)c->l1_bytes; break;
		case S_DB:
		case S_WAL:
			store_file_sizes(m->store, &db, &wal);
			v = (double)(which == S_DB ? db : wal);
			break;
		case S_PAGES: v = (double)store_page_cache_bytes(m->store); break;
		case S_WARN: v = (double)alerts_count(m->alerts, ALERT_WARNING) - (double)alerts_count(m->alerts, ALERT_CRITICAL); break;
		case S_CRIT: v = (double)alerts_count(m->alerts, ALERT_CRITICAL); break;
		}
	}
	pthread_mutex_unlock(&active_mu);
	return v;
}

static void register_series(const sampler_cache *c)
{
	static const struct {
		const char *labels;
		int which;
	} req[] = {{"tier=\"l1\",result=\"hit\"", S_L1_HIT},  {"tier=\"l1\",result=\"miss\"", S_L1_MISS},
		   {"tier=\"l2\",result=\"hit\"", S_L2_HIT},  {"tier=\"l2\",result=\"miss\"", S_L2_MISS},
		   {"tier=\"l3\",result=\"hit\"", S_L3_HIT},  {"tier=\"l3\",result=\"miss\"", S_L3_MISS}};
	for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
		/* Only the tiers that exist: a tier that is off has no lookups. */
		if ((i / 2 == 1 && !c->l2_enabled) || (i / 2 == 2 && !c->l3_enabled) || (i / 2 == 0 && !c->l1_enabled))
			continue;
		metrics_counter_func("brisk_cache_requests_total", "Response cache lookups by tier and result",
				     req[i].labels, series_value, (void *)(intptr_t)req[i].which);
	}
	metrics_counter_func("brisk_cache_evictions_total", "Live entries dropped to make room", "tier=\"l1\"",
			     series_value, (void *)(intptr_t)S_L1_EVICT);
	metrics_gauge_func("brisk_cache_bytes", "Bytes held by the cache tier", "tier=\"l1\"", series_value,
			   (void *)(intptr_t)S_L1_BYTES);
	metrics_gauge_func("brisk_db_size_bytes", "Size of the store's files", "file=\"db\"", series_value,
			   (void *)(intptr_t)S_DB);
	metrics_gauge_func("brisk_db_size_bytes", "Size of the store's files", "file=\"wal\"", series_value,
			   (void *)(intptr_t)S_WAL);
	metrics_gauge_func("brisk_db_page_cache_bytes", "Bytes in the store's page caches in this process (SQLite: every "
			   "connection, each bounded by store.cache_mib; PostgreSQL: 0)", NULL, series_value,
			   (void *)(intptr_t)S_PAGES);
	metrics_gauge_func("brisk_alerts_firing", "Alerts firing by severity", "severity=\"warning\"", series_value,
			   (void *)(intptr_t)S_WARN);
	metrics_gauge_func("brisk_alerts_firing", "Alerts firing by severity", "severity=\"critical\"",
			   series_value, (void *)(intptr_t)S_CRIT);
}
