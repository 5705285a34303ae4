/* monitor: what brisk knows about its own speed, served to people.
 *
 * A monitor watches one server's store and response cache. A thread takes
 * a sample every few seconds (cache counters, data versions, file sizes,
 * process CPU and memory), keeps 15 minutes of them for sliding windows,
 * and evaluates the alerts (alerts.h) against the configured thresholds:
 * route latency p95 over the last minute by route class, the cache hit
 * rate over five minutes, resident memory and CPU. Changes are logged and
 * handed to the listener set with monitor_on_alert.
 *
 * It also registers the cache and store series of /metrics, computed from
 * rcache statistics at scrape time (brisk_cache_requests_total{tier,
 * result}, ...) and the task counts (brisk_tasks{kind,status}, taskstats.h),
 * and builds the JSON of /api/v1/performance, its
 * slow-queries and report (advisor.h) sub-resources, and /api/v1/alerts.
 *
 * Route classes, per-view cache results and the alert listener are
 * process-wide (like the metrics registry): set them before or after any
 * monitor exists. Everything here is thread-safe. */
#ifndef BRISK_MONITOR_H
#define BRISK_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/rcache.h"
#include "core/buf.h"
#include "core/config.h"
#include "monitor/metrics.h"
#include "store/store.h"

typedef struct monitor monitor_t;

typedef struct {
	double interval_s;          /* sampling and alert evaluation period (5) */
	double slow_query_s;        /* slow-query threshold (0.1); <= 0 off */
	double dash_p95_warn_ms, dash_p95_crit_ms; /* dashboard views (400, 600) */
	double api_p95_warn_ms, api_p95_crit_ms;   /* other API routes (200, 500) */
	uint64_t latency_min_requests;             /* per route per minute to judge (20) */
	double cache_hit_warn_pct, cache_hit_crit_pct; /* below these (70, 50) */
	uint64_t cache_min_requests;               /* in the 5-minute window (100) */
	double rss_warn_mib, rss_crit_mib;         /* resident memory (512, 1024) */
	double cpu_warn_pct, cpu_crit_pct;         /* of all CPUs over a minute (80, 95) */
	const char *db_path;        /* the SQLite file, for the advisor's plans (NULL: none) */
	int64_t cache_ttl_s;        /* the cache settings, for the advisor */
	int64_t cache_bytes;
} monitor_opts;

/* Route classes, which decide the latency thresholds. */
typedef enum { MONITOR_ROUTE_OTHER, MONITOR_ROUTE_DASHBOARD, MONITOR_ROUTE_API } monitor_route_class;

/* Fills the defaults above. */
void monitor_opts_init(monitor_opts *o);
/* Defaults, then the [monitor] and [alerts] settings and the cache
 * settings of c. db_path stays NULL: the caller knows the store's file. */
void monitor_opts_from_config(monitor_opts *o, const config_t *c);

/* Starts monitoring store s and cache c (c may be NULL) with a copy of o,
 * applies the slow-query threshold, registers the /metrics series and
 * starts the sampling thread. Never NULL. The series report the newest
 * monitor while several exist. */
monitor_t *monitor_new(const monitor_opts *o, store_t *s, rcache_t *c);
/* Replaces the alert thresholds and the slow-query threshold of a running
 * monitor (a SIGHUP reload); the interval, db_path and cache settings it
 * started with stay. */
void monitor_set_thresholds(monitor_t *m, const monitor_opts *o);
/* Stops the thread and frees m; its /metrics series then read 0. NULL is
 * a no-op. */
void monitor_free(monitor_t *m);
/* Takes a sample and evaluates the alerts now (the thread does this every
 * interval; tests call it directly). */
void monitor_tick(monitor_t *m);

/* Appends the objects served by the API (see docs/api.md):
 * performance: {"uptime_seconds","routes":[...],"cache":{...},"store":
 * {...},"tasks":{...}|null,"process":{...},"alerts":{"warning","critical"}};
 * slow queries: qstats_json; alerts: {"firing","resolved","thresholds",
 * "interval_seconds"}; report: advisor_report. */
void monitor_performance_json(monitor_t *m, buf_t *out);
void monitor_slow_queries_json(monitor_t *m, buf_t *out);
void monitor_alerts_json(monitor_t *m, buf_t *out);
void monitor_report_json(monitor_t *m, buf_t *out);

/* The class of route name (default OTHER: never alerted on). */
void monitor_set_route_class(const char *route, monitor_route_class cls);
monitor_route_class monitor_route_class_of(const char *route);

/* The counter brisk_cache_view_requests_total{view,result} (result one of
 * hit_l1, hit_l2, hit_l3, coalesced, miss, stale, not_modified): callers
 * look it up once and count each response of the view. */
metrics_counter_t *monitor_view_counter(const char *view, const char *result);

/* A listener for alert changes: fn(ud, json, firing) runs on the monitor
 * thread for each alert that starts firing, changes severity or resolves,
 * with the alert object of GET /api/v1/alerts (valid during the call). It
 * must return quickly. NULL fn removes the listener. One listener per
 * process. Once this returns, the previous listener is not running and
 * will not be called again (its state may be freed). */
typedef void (*monitor_alert_fn)(void *ud, const char *json, bool firing);
void monitor_on_alert(monitor_alert_fn fn, void *ud);

/* Redis (L2) state from c's statistics: whether a URL is configured and
 * whether it answers. c may be NULL (both false). */
void monitor_redis_state(rcache_t *c, bool *configured, bool *up);

#endif
