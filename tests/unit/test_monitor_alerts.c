/* Alerts: the state machine (fire, escalate, resolve, since/resolved_at),
 * the monitor evaluating route latencies against thresholds, and the
 * advisor's findings from given measurements. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "analytics/analytics.h"
#include "monitor/advisor.h"
#include "monitor/alerts.h"
#include "monitor/metrics.h"
#include "monitor/monitor.h"
#include "monitor/qstats.h"
#include "monitor/taskstats.h"

static void fresh(void)
{
	metrics_reset_for_tests();
	qstats_reset_for_tests();
	taskstats_reset_for_tests();
}

TestSuite(monitor_alerts, .init = fresh, .fini = fresh);

struct changes {
	int n;
	alert_severity now[16], was[16];
	char msg[16][256];
};

static void on_change(void *ud, const char *json, const char *message, alert_severity now, alert_severity was)
{
	struct changes *c = ud;
	json_t *j = json_loads(json, 0, NULL);
	cr_assert_not_null(j, "alert JSON: %s", json);
	json_decref(j);
	c->now[c->n] = now;
	c->was[c->n] = was;
	snprintf(c->msg[c->n++], sizeof c->msg[0], "%s", message);
}

static json_t *alerts_doc(alerts_t *a)
{
	buf_t b = BUF_INIT;
	alerts_json(a, &b);
	json_t *j = json_loadb(b.p, b.len, 0, NULL);
	cr_assert_not_null(j, "%s", b.p);
	buf_free(&b);
	return j;
}

static void round_of(alerts_t *a, double now, double value, struct changes *c)
{
	alerts_begin(a, now);
	if (!isnan(value)) {
		alert_check chk = {"route_p95:overview", "route_p95", "overview", "p95 of overview", "ms", value, 400,
				   600, false};
		alerts_check(a, &chk);
	}
	alerts_end(a, on_change, c);
}

Test(monitor_alerts, fire_escalate_resolve)
{
	alerts_t *a = alerts_new();
	struct changes c = {0};
	round_of(a, 1000, 300, &c);
	cr_assert_eq(c.n, 0, "below warn: nothing");
	round_of(a, 1005, 450, &c);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.now[0], ALERT_WARNING);
	cr_assert_eq(c.was[0], ALERT_OK);
	cr_assert(strstr(c.msg[0], "450 ms") && strstr(c.msg[0], "warning above 400"), "%s", c.msg[0]);
	round_of(a, 1010, 460, &c);
	cr_assert_eq(c.n, 1, "no change, no callback");
	round_of(a, 1015, 700, &c);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.now[1], ALERT_CRITICAL);
	cr_assert_eq(alerts_count(a, ALERT_WARNING), 1);
	cr_assert_eq(alerts_count(a, ALERT_CRITICAL), 1);

	json_t *j = alerts_doc(a);
	json_t *f = json_array_get(json_object_get(j, "firing"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f, "severity")), "critical");
	cr_assert_str_eq(json_string_value(json_object_get(f, "state")), "firing");
	cr_assert_str_eq(json_string_value(json_object_get(f, "since")), "1970-01-01T00:16:45Z",
			 "since is when it first fired (1005), not when it escalated");
	cr_assert(json_is_null(json_object_get(f, "resolved_at")));
	json_decref(j);

	round_of(a, 1020, 100, &c);
	cr_assert_eq(c.n, 3);
	cr_assert_eq(c.now[2], ALERT_OK);
	cr_assert_eq(c.was[2], ALERT_CRITICAL);
	cr_assert(strstr(c.msg[2], "back below"), "%s", c.msg[2]);
	cr_assert_eq(alerts_count(a, ALERT_WARNING), 0);
	j = alerts_doc(a);
	cr_assert_eq(json_array_size(json_object_get(j, "firing")), 0);
	json_t *r = json_array_get(json_object_get(j, "resolved"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(r, "state")), "resolved");
	cr_assert_str_eq(json_string_value(json_object_get(r, "since")), "1970-01-01T00:16:45Z");
	cr_assert_str_eq(json_string_value(json_object_get(r, "resolved_at")), "1970-01-01T00:17:00Z");
	json_decref(j);

	/* firing again starts a new episode */
	round_of(a, 2000, 500, &c);
	j = alerts_doc(a);
	f = json_array_get(json_object_get(j, "firing"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f, "since")), "1970-01-01T00:33:20Z");
	json_decref(j);
	/* a round that no longer checks it (no traffic) resolves it */
	round_of(a, 2005, NAN, &c);
	cr_assert_eq(c.now[c.n - 1], ALERT_OK);
	cr_assert_eq(alerts_count(a, ALERT_WARNING), 0);
	alerts_free(a);
}

Test(monitor_alerts, below_thresholds_and_the_resolved_ring)
{
	alerts_t *a = alerts_new();
	struct changes c = {0};
	for (int i = 0; i < 2 * ALERTS_KEEP_RESOLVED + 11; i++) {
		double v = i % 2 ? 90 : 40; /* hit rate: 40 % critical, 90 % fine */
		alerts_begin(a, 100 + i);
		alert_check chk = {"cache_hit_rate", "cache_hit_rate", "cache", "cache hit rate", "%", v, 70, 50, true};
		alerts_check(a, &chk);
		c.n = 0;
		alerts_end(a, on_change, &c);
		cr_assert_eq(c.n, 1);
		cr_assert_eq(c.now[0], i % 2 ? ALERT_OK : ALERT_CRITICAL);
	}
	json_t *j = alerts_doc(a);
	cr_assert_eq(json_array_size(json_object_get(j, "resolved")), ALERTS_KEEP_RESOLVED);
	cr_assert_eq(json_array_size(json_object_get(j, "firing")), 1);
	json_decref(j);
	alerts_free(a);
}

/* ---- the monitor over a real store ---- */

static struct {
	int n;
	bool firing;
	char json[1024];
} heard;

static void listener(void *ud, const char *json, bool firing)
{
	(void)ud;
	heard.n++;
	heard.firing = firing;
	snprintf(heard.json, sizeof heard.json, "%s", json);
}

static json_t *doc(monitor_t *m, void (*fn)(monitor_t *, buf_t *))
{
	buf_t b = BUF_INIT;
	fn(m, &b);
	json_error_t e;
	json_t *j = json_loadb(b.p, b.len, 0, &e);
	cr_assert_not_null(j, "%s: %s", e.text, b.p);
	buf_free(&b);
	return j;
}

Test(monitor_alerts, the_monitor_fires_on_route_latency_and_reports)
{
	store_fx fx;
	store_fx_open(&fx, "acme");
	monitor_opts o;
	monitor_opts_init(&o);
	o.interval_s = 3600; /* the test ticks by hand */
	monitor_set_route_class("overview", MONITOR_ROUTE_DASHBOARD);
	monitor_set_route_class("payments_list", MONITOR_ROUTE_API);
	heard.n = 0;
	monitor_on_alert(listener, NULL);
	monitor_t *m = monitor_new(&o, fx.store, NULL);

	metrics_histogram_t *ov = metrics_histogram("brisk_http_request_duration_seconds", "t",
						    "route=\"overview\",code=\"200\"");
	metrics_histogram_t *ov304 = metrics_histogram("brisk_http_request_duration_seconds", "t",
						       "route=\"overview\",code=\"304\"");
	metrics_histogram_t *pl = metrics_histogram("brisk_http_request_duration_seconds", "t",
						    "route=\"payments_list\",code=\"200\"");
	metrics_histogram_t *st = metrics_histogram("brisk_http_request_duration_seconds", "t",
						    "route=\"static\",code=\"200\"");
	for (int i = 0; i < 30; i++) {
		metrics_histogram_observe(ov, 0.45);   /* dashboard p95 450 ms: warning (400) */
		metrics_histogram_observe(pl, 0.010);  /* API 10 ms: fine */
		metrics_histogram_observe(st, 5.0);    /* not a judged class */
	}
	for (int i = 0; i < 10; i++)
		metrics_histogram_observe(pl, 0.9);    /* a slow quarter: p95 well above 500 ms */
	metrics_histogram_observe(ov304, 0.45);
	monitor_tick(m);

	json_t *a = doc(m, monitor_alerts_json);
	json_t *firing = json_object_get(a, "firing");
	cr_assert_eq(json_array_size(firing), 2, "%s", json_dumps(a, 0));
	bool saw_ov = false, saw_pl = false;
	for (size_t i = 0; i < 2; i++) {
		json_t *f = json_array_get(firing, i);
		const char *id = json_string_value(json_object_get(f, "id"));
		const char *sev = json_string_value(json_object_get(f, "severity"));
		if (!strcmp(id, "route_p95:overview")) {
			saw_ov = true;
			cr_assert_str_eq(sev, "warning");
		} else if (!strcmp(id, "route_p95:payments_list")) {
			saw_pl = true;
			cr_assert_str_eq(sev, "critical");
		}
	}
	cr_assert(saw_ov && saw_pl);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(json_object_get(a, "thresholds"),
									 "dashboard_p95_ms"), "warn")), 400);
	json_decref(a);
	cr_assert_eq(heard.n, 2, "the listener heard both");
	cr_assert(heard.firing);

	/* the performance document: per-route windows summed over codes */
	json_t *p = doc(m, monitor_performance_json);
	json_t *routes = json_object_get(p, "routes");
	bool found = false;
	for (size_t i = 0; i < json_array_size(routes); i++) {
		json_t *r = json_array_get(routes, i);
		if (strcmp(json_string_value(json_object_get(r, "route")), "overview"))
			continue;
		found = true;
		cr_assert_str_eq(json_string_value(json_object_get(r, "class")), "dashboard");
		json_t *w = json_object_get(r, "1m");
		cr_assert_eq(json_integer_value(json_object_get(w, "count")), 31);
		double p95 = json_number_value(json_object_get(w, "p95_ms"));
		cr_assert(p95 > 450 / 1.2 && p95 < 450 * 1.2, "p95 %g", p95);
		cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "15m"), "count")), 31);
	}
	cr_assert(found);
	json_t *tasks = json_object_get(p, "tasks");
	cr_assert(json_is_object(tasks), "the store has task records (an empty table)");
	cr_assert_eq(json_integer_value(json_object_get(tasks, "pending")), 0);
	cr_assert(json_number_value(json_object_get(json_object_get(p, "process"), "rss_bytes")) > 0);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(p, "alerts"), "warning")), 2);
	json_decref(p);

	json_t *rep = doc(m, monitor_report_json);
	cr_assert(json_array_size(json_object_get(rep, "checks")) >= 5);
	json_decref(rep);

	monitor_on_alert(NULL, NULL);
	monitor_free(m);
	store_fx_close(&fx);
}

/* ---- the advisor's findings ---- */

static json_t *report(const advisor_input *in)
{
	buf_t b = BUF_INIT;
	advisor_report(in, &b);
	json_t *j = json_loadb(b.p, b.len, 0, NULL);
	cr_assert_not_null(j, "%s", b.p);
	buf_free(&b);
	return j;
}

static json_t *find_rec(json_t *rep, const char *kind)
{
	json_t *recs = json_object_get(rep, "recommendations");
	for (size_t i = 0; i < json_array_size(recs); i++)
		if (!strcmp(json_string_value(json_object_get(json_array_get(recs, i), "kind")), kind))
			return json_array_get(recs, i);
	return NULL;
}

Test(monitor_alerts, advisor_low_hit_rate_causes)
{
	advisor_view views[] = {{"cashflow", 10, 90}, {"overview", 95, 5}};
	advisor_input in = {0};
	in.views = views;
	in.nviews = 2;
	in.cache_enabled = true;
	in.ttl_s = 600;
	in.window_s = 900;
	in.l1_max_bytes = 64 << 20;
	in.wal_growth_bytes_per_min = NAN;

	/* writes every 9 s to payments: the cause is the writes */
	in.writes[TBL_PAYMENTS] = 100;
	json_t *rep = report(&in);
	json_t *r = find_rec(rep, "view_hit_rate");
	cr_assert_not_null(r);
	cr_assert(strstr(json_string_value(json_object_get(r, "title")), "cashflow"));
	cr_assert(strstr(json_string_value(json_object_get(r, "detail")), "payments (100)"),
		  "%s", json_string_value(json_object_get(r, "detail")));
	json_decref(rep);

	/* no writes but entries expiring: the TTL is too short */
	in.writes[TBL_PAYMENTS] = 0;
	in.l1_expirations = 80;
	in.l1_evictions = 0;
	rep = report(&in);
	r = find_rec(rep, "view_hit_rate");
	cr_assert(strstr(json_string_value(json_object_get(r, "action")), "ttl_seconds"), "%s",
		  json_string_value(json_object_get(r, "action")));
	json_decref(rep);

	/* a full cache evicting: too small, also as its own finding */
	in.l1_expirations = 0;
	in.l1_evictions = 500;
	in.l1_misses = 1000;
	in.l1_bytes = in.l1_max_bytes;
	rep = report(&in);
	r = find_rec(rep, "view_hit_rate");
	cr_assert(strstr(json_string_value(json_object_get(r, "action")), "memory_bytes"));
	cr_assert_not_null(find_rec(rep, "cache_size"));
	json_decref(rep);
}

Test(monitor_alerts, advisor_slow_routes_and_wal)
{
	advisor_route routes[] = {{"overview", MONITOR_ROUTE_DASHBOARD, 100, 900},
				  {"payments_list", MONITOR_ROUTE_API, 100, 150},
				  {"import", MONITOR_ROUTE_OTHER, 100, 9000}};
	advisor_input in = {0};
	in.routes = routes;
	in.nroutes = 3;
	in.dash_warn_ms = 400;
	in.api_warn_ms = 200;
	in.db_bytes = 100 << 20;
	in.wal_bytes = (int64_t)300 << 20;
	in.wal_growth_bytes_per_min = 20.0 * 1048576;
	json_t *rep = report(&in);
	json_t *r = find_rec(rep, "slow_route");
	cr_assert_not_null(r);
	cr_assert_str_eq(json_string_value(json_object_get(r, "severity")), "critical", "900 ms is over twice 400");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "evidence"), "route")), "overview");
	cr_assert_eq(json_array_size(json_object_get(rep, "recommendations")), 2, "overview and the WAL only");
	cr_assert_not_null(find_rec(rep, "wal_growth"));
	json_decref(rep);
}

Test(monitor_alerts, advisor_reads_plans_of_the_dashboard_statements)
{
	store_fx fx;
	store_fx_open(&fx, "acme");
	buf_t csv = BUF_INIT;
	buf_puts(&csv, "id,date,category,amount,vendor,description\n");
	for (int i = 0; i < 60; i++)
		buf_printf(&csv, "c%d,2026-01-%02d,Rent,%d.00,V%d,x\n", i, 1 + i % 28, 10 + i, i % 7);
	import_opts o = fx_opts(&fx, ENT_COSTS);
	import_result res;
	char err[256];
	cr_assert_eq(fx_import(&fx, &o, csv.p, csv.len, &res, err, sizeof err), 0, "%s", err);
	buf_free(&csv);
	char path[600];
	snprintf(path, sizeof path, "%s/brisk.db", fx.dir);
	advisor_input in = {0};
	in.db_path = path;
	in.large_rows = 50;
	in.wal_growth_bytes_per_min = NAN;
	json_t *rep = report(&in);
	json_t *r = find_rec(rep, "plan_scan");
	cr_assert_not_null(r, "the costs list sorted by amount reads all the org's rows: %s", json_dumps(rep, 0));
	json_t *ev = json_object_get(r, "evidence");
	cr_assert_str_eq(json_string_value(json_object_get(ev, "table")), "costs");
	cr_assert_eq(json_integer_value(json_object_get(ev, "table_rows")), 60);
	cr_assert(strstr(json_string_value(json_object_get(ev, "plan")), "costs"));
	size_t n;
	analytics_statements(&n);
	json_t *checks = json_object_get(rep, "checks");
	char want[64];
	snprintf(want, sizeof want, "%zu statements' plans read", n);
	cr_assert(strstr(json_string_value(json_object_get(json_array_get(checks, 0), "note")), want));
	json_decref(rep);
	store_fx_close(&fx);
}

Test(monitor_alerts, task_counts_by_kind_and_status)
{
	store_fx fx;
	store_fx_open(&fx, "acme");
	sqlite3 *db = store_fx_db(&fx);
	char sql[512];
	const char *rows[][2] = {{"import", "succeeded"}, {"import", "succeeded"}, {"import", "pending"},
				 {"match", "running"}};
	for (size_t i = 0; i < 4; i++) {
		snprintf(sql, sizeof sql,
			 "INSERT INTO tasks(org, kind, status, created_at) VALUES(%lld, '%s', '%s', '2026-01-01T00:00:00Z')",
			 (long long)fx.org, rows[i][0], rows[i][1]);
		cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	}
	sqlite3_close(db);
	cr_assert(taskstats_refresh(fx.store));
	buf_t out = BUF_INIT;
	metrics_render(&out);
	cr_assert(strstr(out.p, "# TYPE brisk_tasks gauge\n"));
	cr_assert(strstr(out.p, "brisk_tasks{kind=\"import\",status=\"succeeded\"} 2\n"), "%s", out.p);
	cr_assert(strstr(out.p, "brisk_tasks{kind=\"match\",status=\"running\"} 1\n"));
	buf_reset(&out);
	taskstats_json(fx.store, &out);
	json_t *j = json_loadb(out.p, out.len, 0, NULL);
	cr_assert_not_null(j, "%s", out.p);
	cr_assert_eq(json_integer_value(json_object_get(j, "pending")), 1);
	cr_assert_eq(json_integer_value(json_object_get(j, "running")), 1);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(json_object_get(j, "by_kind"), "import"),
							"succeeded")), 2);
	json_decref(j);

	/* a task that finishes moves from one series to another */
	db = store_fx_db(&fx);
	cr_assert_eq(sqlite3_exec(db, "UPDATE tasks SET status = 'succeeded' WHERE kind = 'match'", NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	taskstats_refresh(fx.store);
	buf_reset(&out);
	metrics_render(&out);
	cr_assert(strstr(out.p, "brisk_tasks{kind=\"match\",status=\"running\"} 0\n"));
	cr_assert(strstr(out.p, "brisk_tasks{kind=\"match\",status=\"succeeded\"} 1\n"));
	buf_free(&out);
	store_fx_close(&fx);
}
