/* Monitoring endpoints (/api/v1/performance, its slow-queries and report,
 * /api/v1/alerts) and the route instrumentation the monitor needs.
 *
 * Instrumentation: api_monitor_routes returns a copy of the route table in
 * which each dashboard view's handler is wrapped: after the view answers,
 * the wrapper counts where the answer came from (its X-Cache header, or a
 * 304) in brisk_cache_view_requests_total{view,result}. It also tells the
 * monitor each route's class: dashboard views, other GET /api/v1 reads,
 * and the rest (writes, imports, streams, downloads: never alerted on). */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "http/api.h"
#include "http/app.h"
#include "monitor/monitor.h"

#define NRESULTS 7

static const char *const result_names[NRESULTS] = {"hit_l1", "hit_l2", "hit_l3", "miss",
						   "coalesced", "stale", "not_modified"};
static const char *const xcache_values[NRESULTS] = {"HIT-L1", "HIT-L2", "HIT-L3", "MISS", "COALESCED", "STALE",
						    NULL};

static const http_route *orig;
static http_route *wrapped;
static _Atomic(metrics_counter_t *) (*counters)[NRESULTS];

static void view_wrapper(http_server_t *srv, http_req_t *r);

static bool is_view(http_handler_fn fn)
{
	static const http_handler_fn views[] = {
		api_views_dashboard,	 api_views_overview, api_views_cashflow,
		api_views_breakdown,	 api_views_aging,    api_views_leads_summary,
		api_views_top_customers, api_views_dso,	     api_views_payment_behaviour,
	};
	for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
		if (views[i] == fn)
			return true;
	return false;
}

/* Routes that are slow by nature (uploads, streams, downloads) are not
 * judged by the API latency thresholds. */
static bool long_by_nature(const char *name)
{
	return strstr(name, "import") || strstr(name, "events") || strstr(name, "export") || strstr(name, "report");
}

const http_route *api_monitor_routes(const http_route *routes, size_t n)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&mu);
	/* The table is static: wrap it once, and keep the copy for good
	 * (servers hold pointers into it). */
	if (!orig) {
		wrapped = xmalloc(n * sizeof *wrapped);
		counters = xcalloc(n, sizeof *counters);
		memcpy(wrapped, routes, n * sizeof *wrapped);
		for (size_t i = 0; i < n; i++) {
			const http_route *rt = &routes[i];
			monitor_route_class cls = MONITOR_ROUTE_OTHER;
			if (is_view(rt->fn)) {
				wrapped[i].fn = view_wrapper;
				cls = MONITOR_ROUTE_DASHBOARD;
			} else if (rt->method == HTTP_GET && !strncmp(rt->pattern, "/api/v1/", 8) &&
				   !long_by_nature(rt->name)) {
				cls = MONITOR_ROUTE_API;
			}
			monitor_set_route_class(rt->name, cls);
		}
		orig = routes;
	}
	pthread_mutex_unlock(&mu);
	return orig == routes ? wrapped : routes;
}

static void view_wrapper(http_server_t *srv, http_req_t *r)
{
	size_t i = (size_t)(r->route - wrapped);
	orig[i].fn(srv, r);
	/* Deferred to a worker (counted there), or a warming replay. */
	if (r->defer || !strcmp(r->request_id, "warm"))
		return;
	int res = -1;
	if (r->status == 304) {
		res = NRESULTS - 1;
	} else {
		for (int h = 0; h < r->nxh && res < 0; h++)
			if (!strcasecmp(r->xh_name[h], "X-Cache"))
				for (int k = 0; k < NRESULTS - 1; k++)
					if (!strcmp(r->xh_value[h], xcache_values[k]))
						res = k;
	}
	if (res < 0)
		return;
	metrics_counter_t *c = atomic_load_explicit(&counters[i][res], memory_order_acquire);
	if (!c) {
		c = monitor_view_counter(orig[i].name, result_names[res]);
		atomic_store_explicit(&counters[i][res], c, memory_order_release);
	}
	metrics_counter_add(c, 1);
}

/* ---- handlers ---- */

static monitor_t *monitor_of(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return NULL;
	app_t *app = http_server_app(srv);
	if (!app || !app->monitor) {
		http_problem(r, 503, "monitoring is not running in this process");
		return NULL;
	}
	return app->monitor;
}

typedef void (*doc_fn)(monitor_t *m, buf_t *out);

static void serve_doc(http_server_t *srv, http_req_t *r, doc_fn fn)
{
	monitor_t *m = monitor_of(srv, r);
	if (!m)
		return;
	buf_puts(&r->out, "{\"data\":");
	fn(m, &r->out);
	buf_putc(&r->out, '}');
	/* Live figures: the server's ETag of the body, never a cache key's. */
	r->etag[0] = '\0';
	http_json(r, 200);
}

void api_monitor_performance(http_server_t *srv, http_req_t *r)
{
	serve_doc(srv, r, monitor_performance_json);
}

void api_monitor_slow_queries(http_server_t *srv, http_req_t *r)
{
	serve_doc(srv, r, monitor_slow_queries_json);
}

void api_monitor_report(http_server_t *srv, http_req_t *r)
{
	serve_doc(srv, r, monitor_report_json);
}

void api_monitor_alerts(http_server_t *srv, http_req_t *r)
{
	serve_doc(srv, r, monitor_alerts_json);
}
