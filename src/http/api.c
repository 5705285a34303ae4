#include "http/api.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/currency.h"
#include "http/api_tasks.h"
#include "http/app.h"
#include "http/static.h"
#include "monitor/metrics.h"
#include "monitor/monitor.h"
#include "store/schema.h"
#include "store/store.h"

/* Monitoring (api_monitor.c): the endpoints, and the route table with the
 * dashboard views instrumented for per-view cache statistics. */
void api_monitor_performance(http_server_t *srv, http_req_t *r);
void api_monitor_slow_queries(http_server_t *srv, http_req_t *r);
void api_monitor_report(http_server_t *srv, http_req_t *r);
void api_monitor_alerts(http_server_t *srv, http_req_t *r);
const http_route *api_monitor_routes(const http_route *routes, size_t n);

static void health(http_server_t *srv, http_req_t *r)
{
	buf_puts(&r->out, "{\"status\":\"ok\"}");
	http_json(r, 200);
}

static void ready(http_server_t *srv, http_req_t *r)
{
	static const char *q = "SELECT count(*) FROM orgs";
	store_t *s = http_server_store(srv);
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	bool ok = st && store_step(st) == STORE_ROW;
	char why[300] = "";
	if (!ok)
		snprintf(why, sizeof why, "%s", store_errmsg(c));
	store_reset(st);
	store_read_end(c);
	/* A server store that went away says why, even between requests. */
	char down[300];
	if (!store_reachable(s, down, sizeof down)) {
		ok = false;
		snprintf(why, sizeof why, "%s", down);
	}
	int64_t db, wal;
	store_file_sizes(s, &db, &wal);
	/* Redis is reported, never fatal: without it the cache is local only. */
	app_t *app = http_server_app(srv);
	bool redis_on = false, redis_up = false;
	monitor_redis_state(app ? app->cache : NULL, &redis_on, &redis_up);
	bool migrated = store_schema_version(s) >= schema_count();
	int nrep;
	uint64_t rserved, rbehind;
	store_replica_stats(s, &nrep, &rserved, &rbehind);
	buf_printf(&r->out, "{\"status\":\"%s\",\"store\":{\"backend\":\"%s\",\"reachable\":%s,\"reason\":",
	           ok && migrated ? "ready" : "unavailable", store_backend_name(s), ok ? "true" : "false");
	if (ok)
		buf_puts(&r->out, "null");
	else
		buf_json_str(&r->out, why, strlen(why));
	buf_printf(&r->out, ",\"schema_version\":%d,\"db_bytes\":%lld,"
	                    "\"wal_bytes\":%lld},\"migrations\":{\"applied\":%d,\"expected\":%d,\"ok\":%s},"
	                    "\"redis\":{\"configured\":%s,\"up\":%s},"
	                    "\"replicas\":{\"configured\":%d,\"reads_served\":%llu,\"reads_to_primary\":%llu}}",
	           store_schema_version(s), (long long)db, (long long)wal, store_schema_version(s), schema_count(), migrated ? "true" : "false",
	           redis_on ? "true" : "false", redis_up ? "true" : "false", nrep, (unsigned long long)rserved,
	           (unsigned long long)rbehind);
	http_json(r, ok && migrated ? 200 : 503);
}

static void metrics_page(http_server_t *srv, http_req_t *r)
{
	metrics_render(&r->out);
	r->status = 200;
	r->content_type_out = "text/plain; version=0.0.4; charset=utf-8";
}

bool api_org_load(store_conn_t *c, http_req_t *r, api_org *o)
{
	static const char *q = "SELECT slug, currency, opening_balance FROM orgs WHERE id = ?";
	store_stmt_t *st = store_prepare(c, q);
	store_bind_i64(st, 1, r->org);
	bool ok = store_step(st) == STORE_ROW;
	if (ok) {
		snprintf(o->slug, sizeof o->slug, "%s", store_col_text(st, 0, NULL));
		size_t len;
		const char *cur = store_col_text(st, 1, &len);
		if (!currency_canon(cur, len, o->currency))
			snprintf(o->currency, sizeof o->currency, "%s", CURRENCY_DEFAULT);
		o->minor_units = currency_minor(o->currency, 3);
		o->opening_balance = store_col_i64(st, 2);
	}
	store_reset(st);
	if (!ok)
		http_problem(r, 500, "the organisation of this token no longer exists");
	return ok;
}

/* DESIGN (the org rows views read)
 * Kept by (store, org) with the org's settings version: only settings
 * writes change the row, and they bump that version. A request that
 * looked at the versions (a view's) gets the row without a statement, so
 * on PostgreSQL the read's BEGIN goes in one round trip with the view's
 * reads instead of one of its own for this row. The row kept was read in
 * a snapshot taken after the version was known: never older than its
 * version says. */
#define ORG_SLOTS 64
static struct {
	const store_t *s;
	int64_t org;
	uint64_t ver;
	api_org o;
} org_kept[ORG_SLOTS];
static pthread_mutex_t org_kept_lock = PTHREAD_MUTEX_INITIALIZER;

bool api_org_load_known(store_t *s, store_conn_t *c, http_req_t *r, api_org *o)
{
	if (!r->vers_looked || !r->vers_known)
		return api_org_load(c, r, o);
	uint64_t ver = store_version(s, r->org, TBL_SETTINGS);
	unsigned i = (unsigned)((uint64_t)r->org % ORG_SLOTS);
	pthread_mutex_lock(&org_kept_lock);
	bool hit = org_kept[i].s == s && org_kept[i].org == r->org && org_kept[i].ver == ver;
	if (hit)
		*o = org_kept[i].o;
	pthread_mutex_unlock(&org_kept_lock);
	if (hit)
		return true;
	if (!api_org_load(c, r, o))
		return false;
	pthread_mutex_lock(&org_kept_lock);
	org_kept[i].s = s;
	org_kept[i].org = r->org;
	org_kept[i].ver = ver;
	org_kept[i].o = *o;
	pthread_mutex_unlock(&org_kept_lock);
	return true;
}

void api_envelope_begin(http_req_t *r, const api_org *o)
{
	buf_puts(&r->out, "{\"org\":");
	buf_json_str(&r->out, o->slug, strlen(o->slug));
	buf_puts(&r->out, ",\"currency\":");
	buf_json_str(&r->out, o->currency, strlen(o->currency));
	buf_printf(&r->out, ",\"minor_units\":%d,\"money\":\"integer minor units (cents)\",\"data\":", o->minor_units);
}

void api_envelope_end(http_req_t *r)
{
	buf_putc(&r->out, '}');
}

bool api_flag(http_req_t *r, const char *name, bool *out)
{
	const char *v = query_get(&r->query, name);
	*out = false;
	if (!v)
		return true;
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"))
		*out = true;
	else if (strcmp(v, "0") && strcmp(v, "false") && strcmp(v, "no")) {
		/* a typo must not silently mean "no" (dry_run=ture would write) */
		http_problem(r, 400, "'%s' must be 1, true, yes, 0, false or no, not '%.20s'", name, v);
		return false;
	}
	return true;
}

json_t *api_json_body(http_req_t *r, const char *what)
{
	if (!http_body_is_json(r)) {
		http_problem(r, 415, "send %s as application/json", what);
		return NULL;
	}
	json_error_t jerr;
	json_t *root = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		http_problem(r, 400, "the body is not valid JSON: %s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
	return root;
}

bool api_check_params(http_req_t *r, const char *const *allowed)
{
	const char *bad = query_unknown(&r->query, allowed);
	if (!bad)
		return true;
	char list[512] = "";
	for (int i = 0; allowed[i]; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", allowed[i]);
	http_problem(r, 400, "unknown parameter '%s' (this endpoint takes: %s)", bad, allowed[0] ? list : "none");
	return false;
}

static const http_route routes[] = {
	{HTTP_GET, "/", static_page, false, true, "index", false},
	{HTTP_GET, "/assets/{file}", static_file, false, true, "static", false},
	{HTTP_GET, "/overview", static_page, false, true, "page_overview", false},
	{HTTP_GET, "/receivables", static_page, false, true, "page_receivables", false},
	{HTTP_GET, "/leads", static_page, false, true, "page_leads", false},
	{HTTP_GET, "/imports", static_page, false, true, "page_imports", false},
	{HTTP_GET, "/performance", static_page, false, true, "page_performance", false},
	{HTTP_GET, "/alerts", static_page, false, true, "page_alerts", false},
	{HTTP_GET, "/datasets", static_page, false, true, "page_datasets", false},
	{HTTP_GET, "/datasets/{name}", static_page, false, true, "page_dataset", false},
	{HTTP_GET, "/healthz", health, false, true, "healthz", false},
	{HTTP_GET, "/readyz", ready, false, false, "readyz", false},
	{HTTP_GET, "/metrics", metrics_page, true, false, "metrics", false},
	{HTTP_GET, "/api/v1/openapi.json", static_file, false, true, "openapi", false},
	{HTTP_GET, "/api/v1/dashboard", api_views_dashboard, true, true, "dashboard", false},
	{HTTP_GET, "/api/v1/overview", api_views_overview, true, true, "overview", false},
	{HTTP_GET, "/api/v1/cashflow", api_views_cashflow, true, true, "cashflow", false},
	{HTTP_GET, "/api/v1/breakdown", api_views_breakdown, true, true, "breakdown", false},
	{HTTP_GET, "/api/v1/aging", api_views_aging, true, true, "aging", false},
	{HTTP_GET, "/api/v1/leads/summary", api_views_leads_summary, true, true, "leads_summary", false},
	{HTTP_GET, "/api/v1/top-customers", api_views_top_customers, true, true, "top_customers", false},
	{HTTP_GET, "/api/v1/dso", api_views_dso, true, true, "dso", false},
	{HTTP_GET, "/api/v1/payment-behaviour", api_views_payment_behaviour, true, true, "payment_behaviour", false},
	{HTTP_GET, "/api/v1/cache/stats", api_cache_stats, true, true, "cache_stats", false},
	{HTTP_DELETE, "/api/v1/cache", api_cache_clear, true, true, "cache_clear", false},
	{HTTP_POST, "/api/v1/match", api_match_run, true, false, "match", false},
	{HTTP_GET, "/api/v1/match/proposals", api_match_proposals, true, false, "match_proposals", false},
	{HTTP_POST, "/api/v1/match/manual", api_match_manual, true, false, "match_manual", false},
	{HTTP_POST, "/api/v1/match/{payment_id}/confirm", api_match_confirm, true, false, "match_confirm", false},
	{HTTP_POST, "/api/v1/match/{payment_id}/reject", api_match_reject, true, false, "match_reject", false},
	{HTTP_GET, "/api/v1/payments/{id}/explain", api_match_explain, true, false, "explain", false},
	{HTTP_GET, "/api/v1/match/rules", api_rules_get, true, false, "match_rules", false},
	{HTTP_PUT, "/api/v1/match/rules", api_rules_put, true, false, "match_rules_put", false},
	{HTTP_GET, "/api/v1/match/rules/history", api_rules_history, true, false, "match_rules_history", false},
	{HTTP_GET, "/api/v1/match/aliases", api_aliases_list, true, false, "match_aliases", false},
	{HTTP_DELETE, "/api/v1/match/aliases", api_aliases_delete, true, false, "match_aliases_delete", false},
	{HTTP_GET, "/api/v1/performance", api_monitor_performance, true, false, "performance", false},
	{HTTP_GET, "/api/v1/performance/slow-queries", api_monitor_slow_queries, true, false, "performance_slow", false},
	{HTTP_GET, "/api/v1/performance/report", api_monitor_report, true, false, "performance_report", false},
	{HTTP_GET, "/api/v1/alerts", api_monitor_alerts, true, false, "alerts", false},
	{HTTP_POST, "/api/v1/tasks", api_tasks_submit, true, false, "tasks_submit", false},
	{HTTP_GET, "/api/v1/tasks", api_tasks_list, true, false, "tasks_list", false},
	{HTTP_GET, "/api/v1/tasks/{id}", api_tasks_get, true, false, "task", false},
	{HTTP_DELETE, "/api/v1/tasks/{id}", api_tasks_cancel, true, false, "task_cancel", false},
	{HTTP_GET, "/api/v1/tasks/{id}/result", api_tasks_result, true, false, "task_result", false},
	{HTTP_GET, "/api/v1/events", api_events_stream, true, true, "events", true},
	{HTTP_GET, "/api/v1/settings", api_settings_get, true, false, "settings", false},
	{HTTP_PUT, "/api/v1/settings", api_settings_put, true, false, "settings_put", false},
	{HTTP_GET, "/api/v1/alert-figures", api_alerts_figures, true, false, "alert_figures", false},
	{HTTP_GET, "/api/v1/alert-rules", api_alerts_list, true, false, "alert_rules", false},
	{HTTP_POST, "/api/v1/alert-rules", api_alerts_create, true, false, "alert_rule_create", false},
	{HTTP_GET, "/api/v1/alert-rules/{id}", api_alerts_get, true, false, "alert_rule", false},
	{HTTP_PUT, "/api/v1/alert-rules/{id}", api_alerts_put, true, false, "alert_rule_put", false},
	{HTTP_DELETE, "/api/v1/alert-rules/{id}", api_alerts_delete, true, false, "alert_rule_delete", false},
	{HTTP_GET, "/api/v1/alert-events", api_alerts_events, true, false, "alert_events", false},
	{HTTP_GET, "/api/v1/alert-deliveries", api_alerts_deliveries, true, false, "alert_deliveries", false},
	{HTTP_GET, "/api/v1/schedules", api_schedules_list, true, false, "schedules", false},
	{HTTP_POST, "/api/v1/schedules", api_schedules_create, true, false, "schedule_create", false},
	{HTTP_GET, "/api/v1/schedules/{id}", api_schedules_get, true, false, "schedule", false},
	{HTTP_DELETE, "/api/v1/schedules/{id}", api_schedules_delete, true, false, "schedule_delete", false},
	{HTTP_POST, "/api/v1/schedules/{id}/run", api_schedules_run, true, false, "schedule_run", false},
	{HTTP_POST, "/api/v1/session", api_session_create, false, false, "sign_in", false},
	{HTTP_GET, "/api/v1/session", api_session_get, true, false, "session", false},
	{HTTP_DELETE, "/api/v1/session", api_session_delete, true, false, "sign_out", false},
	{HTTP_GET, "/api/v1/users", api_users_list, true, false, "users", false},
	{HTTP_POST, "/api/v1/users", api_users_add, true, false, "users_add", false},
	{HTTP_PUT, "/api/v1/users/{name}", api_user_put, true, false, "user_put", false},
	{HTTP_GET, "/api/v1/audit", api_audit_list, true, false, "audit", false},
	{HTTP_GET, "/api/v1/tokens", api_tokens_list, true, false, "tokens", false},
	{HTTP_POST, "/api/v1/tokens", api_tokens_create, true, false, "tokens_add", false},
	{HTTP_DELETE, "/api/v1/tokens/{id}", api_token_delete, true, false, "token_delete", false},
	{HTTP_POST, "/api/v1/import/{kind}", api_tasks_import, true, false, "import", false},
	{HTTP_GET, "/api/v1/import-profiles", api_profiles_list, true, false, "profiles", false},
	{HTTP_PUT, "/api/v1/import-profiles/{name}", api_profiles_put, true, false, "profile_put", false},
	{HTTP_DELETE, "/api/v1/import-profiles/{name}", api_profiles_delete, true, false, "profile_delete", false},
	{HTTP_GET, "/api/v1/datasets", api_datasets_list, true, false, "datasets", false},
	{HTTP_POST, "/api/v1/datasets", api_datasets_create, true, false, "dataset_create", false},
	{HTTP_POST, "/api/v1/datasets/infer", api_datasets_infer, true, false, "dataset_infer", false},
	{HTTP_GET, "/api/v1/datasets/{name}", api_datasets_get, true, false, "dataset", false},
	{HTTP_DELETE, "/api/v1/datasets/{name}", api_datasets_drop, true, false, "dataset_drop", false},
	{HTTP_POST, "/api/v1/datasets/{name}/import", api_datasets_import, true, false, "dataset_import", false},
	{HTTP_GET, "/api/v1/datasets/{name}/totals", api_datasets_totals, true, false, "dataset_totals", false},
	{HTTP_GET, "/api/v1/datasets/{name}/series", api_datasets_series, true, false, "dataset_series", false},
	{HTTP_GET, "/api/v1/datasets/{name}/breakdown", api_datasets_breakdown, true, false, "dataset_breakdown", false},
	{HTTP_GET, "/api/v1/datasets/{name}/pivot", api_datasets_pivot, true, false, "dataset_pivot", false},
	{HTTP_GET, "/api/v1/datasets/{name}/rows", api_datasets_rows, true, false, "dataset_rows", false},
	{HTTP_GET, "/api/v1/{kind}", api_rows_list, true, false, "list", false},
	{HTTP_POST, "/api/v1/{kind}", api_rows_post, true, false, "write", false},
	{HTTP_DELETE, "/api/v1/{kind}/{id}", api_rows_delete, true, false, "delete", false},
};

const http_route *api_routes(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return api_monitor_routes(routes, *n);
}
