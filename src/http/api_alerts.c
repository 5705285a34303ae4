/* Business alerts (src/notify): the rules of the caller's organisation,
 * the figures they can watch, their history and the deliveries. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "http/app.h"
#include "http/query.h"
#include "notify/notify.h"
#include "notify/rules.h"

static notify_t *notify_of(http_server_t *srv)
{
	app_t *app = http_server_app(srv);
	return app ? app->notify : NULL;
}

/* The {id} path parameter: a positive integer, else a 404 set on r. */
static bool rule_id(http_req_t *r, int64_t *id)
{
	char *end;
	long long v = strtoll(r->params[0].p, &end, 10);
	if (end == r->params[0].p || *end || v < 1) {
		http_problem(r, 404, "no alert rule '%.40s' in this organisation", r->params[0].p);
		return false;
	}
	*id = v;
	return true;
}

/* ?limit=1..1000 (default 100); false with a 400 set on r. */
static bool limit_param(http_req_t *r, int *limit)
{
	const char *v = query_get(&r->query, "limit");
	*limit = 100;
	if (!v)
		return true;
	char *end;
	long n = strtol(v, &end, 10);
	if (*end || end == v || n < 1 || n > 1000) {
		http_problem(r, 400, "limit must be a whole number from 1 to 1000");
		return false;
	}
	*limit = (int)n;
	return true;
}

/* Appends the rule with the figure's value now (rules store the value of
 * their last change only). */
static void rule_live(figure_ctx *x, alert_rule *rule, int minor, buf_t *out)
{
	char err[128];
	int64_t v;
	bool null;
	if (figure_eval(x, rule->fig, &v, &null, err, sizeof err) == 0) {
		rule->has_value = !null;
		rule->value = v;
	}
	alert_rule_json(rule, minor, out);
}

void api_alerts_figures(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	store_conn_t *c = store_read_begin(http_server_store(srv));
	api_org o;
	if (api_org_load(c, r, &o)) {
		size_t n;
		const figure_def *f = figures_all(&n);
		figure_ctx *x = figure_ctx_new(c, r->org, date_today());
		api_envelope_begin(r, &o);
		buf_puts(&r->out, "{\"items\":[");
		bool ok = true;
		for (size_t i = 0; i < n && ok; i++) {
			char err[256], txt[48];
			int64_t v;
			bool null;
			ok = figure_eval(x, &f[i], &v, &null, err, sizeof err) == 0;
			if (!ok) {
				http_problem(r, 500, "%s", err);
				break;
			}
			buf_printf(&r->out, "%s{\"name\":\"%s\",\"what\":", i ? "," : "", f[i].name);
			buf_json_str(&r->out, f[i].what, strlen(f[i].what));
			buf_printf(&r->out, ",\"unit\":\"%s\",\"decimals\":%d,\"value\":",
			           f[i].unit == FIG_MONEY ? "money" : f[i].unit == FIG_DAYS ? "days" : "count",
			           figure_decimals(&f[i], o.minor_units));
			if (null)
				buf_puts(&r->out, "null,\"value_text\":null}");
			else
				buf_printf(&r->out, "%lld,\"value_text\":\"%s\"}", (long long)v,
				           figure_format(&f[i], o.minor_units, v, txt, sizeof txt));
		}
		figure_ctx_free(x);
		if (ok) {
			buf_puts(&r->out, "]}");
			api_envelope_end(r);
			http_json(r, 200);
		}
	}
	store_read_end(c);
}

void api_alerts_list(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	store_conn_t *c = store_read_begin(http_server_store(srv));
	api_org o;
	alert_rule *rules = NULL;
	size_t n = 0;
	if (!api_org_load(c, r, &o))
		goto out;
	if (alert_rules_list(c, r->org, 0, false, &rules, &n) != 0) {
		http_problem(r, 500, "reading the alert rules: %s", store_errmsg(c));
		goto out;
	}
	figure_ctx *x = figure_ctx_new(c, r->org, date_today());
	api_envelope_begin(r, &o);
	buf_puts(&r->out, "{\"items\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&r->out, ',');
		rule_live(x, &rules[i], o.minor_units, &r->out);
	}
	figure_ctx_free(x);
	buf_puts(&r->out, "]}");
	api_envelope_end(r);
	http_json(r, 200);
out:
	for (size_t i = 0; i < n; i++)
		alert_rule_clear(&rules[i]);
	free(rules);
	store_read_end(c);
}

static void answer_rule(http_server_t *srv, http_req_t *r, int64_t id, int status, const char *secret)
{
	store_conn_t *c = store_read_begin(http_server_store(srv));
	api_org o;
	alert_rule rule;
	int found = 0;
	if (api_org_load(c, r, &o)) {
		found = alert_rule_get(c, r->org, id, &rule);
		if (found == 1) {
			figure_ctx *x = figure_ctx_new(c, r->org, date_today());
			api_envelope_begin(r, &o);
			rule_live(x, &rule, o.minor_units, &r->out);
			if (secret) { /* shown once, when the first webhook is set up */
				r->out.len--;
				buf_printf(&r->out, ",\"webhook_secret\":\"%s\"}", secret);
			}
			api_envelope_end(r);
			http_json(r, status);
			figure_ctx_free(x);
			alert_rule_clear(&rule);
		} else if (found == 0)
			http_problem(r, 404, "no alert rule %lld in this organisation", (long long)id);
		else
			http_problem(r, 500, "reading the alert rule: %s", store_errmsg(c));
	}
	store_read_end(c);
}

void api_alerts_get(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	int64_t id;
	if (api_check_params(r, allowed) && rule_id(r, &id))
		answer_rule(srv, r, id, 200, NULL);
}

/* Creates (id 0) or changes rule id from the JSON body; answers it. */
static void save(http_server_t *srv, http_req_t *r, int64_t id)
{
	json_t *root = api_json_body(r, "the alert rule");
	if (!root)
		return;
	char err[512], secret[65] = "";
	bool new_secret = false;
	alert_rule rule;
	alert_rule_init(&rule, r->org);
	store_conn_t *w = store_write_begin(http_server_store(srv), err, sizeof err);
	if (!w) {
		http_problem(r, 503, "%s", err);
		goto out;
	}
	api_org o;
	if (!api_org_load(w, r, &o))
		goto out;
	int minor = o.minor_units;
	if (id) {
		int f = alert_rule_get(w, r->org, id, &rule);
		if (f != 1) {
			http_problem(r, f == 0 ? 404 : 500, f == 0 ? "no alert rule %lld in this organisation"
			                                           : "reading alert rule %lld", (long long)id);
			goto out;
		}
	}
	if (alert_rule_from_json(root, minor, id == 0, &rule, err, sizeof err) != 0) {
		http_problem(r, 400, "%s", err);
		goto out;
	}
	if (id == 0 && alert_rule_insert(w, &rule, err, sizeof err) != 0) {
		http_problem(r, 500, "%s", err);
		goto out;
	}
	if (id && alert_rule_update(w, &rule, err, sizeof err) != 0) {
		http_problem(r, 500, "%s", err);
		goto out;
	}
	if (rule.channels && strstr(rule.channels, "\"webhooks\":[\"")) {
		store_stmt_t *q = store_prepare(w, "SELECT 1 FROM notify_keys WHERE org = ?");
		if (q) {
			store_bind_i64(q, 1, r->org);
			new_secret = store_step(q) == STORE_DONE;
			store_reset(q);
		}
		if (outbox_secret(w, r->org, secret) != 0) {
			http_problem(r, 500, "creating the webhook secret: %s", store_errmsg(w));
			goto out;
		}
	}
	if (store_write_commit(w, err, sizeof err) != 0) {
		w = NULL;
		http_problem(r, 500, "%s", err);
		goto out;
	}
	w = NULL;
	/* evaluate the new or changed rule now, not at the next commit */
	if (notify_of(srv))
		notify_changed(notify_of(srv), r->org, ~0u);
	answer_rule(srv, r, rule.id, id ? 200 : 201, new_secret ? secret : NULL);
out:
	if (w)
		store_write_rollback(w);
	alert_rule_clear(&rule);
	json_decref(root);
}

void api_alerts_create(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (api_check_params(r, allowed))
		save(srv, r, 0);
}

void api_alerts_put(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	int64_t id;
	if (api_check_params(r, allowed) && rule_id(r, &id))
		save(srv, r, id);
}

void api_alerts_delete(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	int64_t id;
	if (!api_check_params(r, allowed) || !rule_id(r, &id))
		return;
	char err[512];
	store_conn_t *w = store_write_begin(http_server_store(srv), err, sizeof err);
	if (!w) {
		http_problem(r, 503, "%s", err);
		return;
	}
	int n = alert_rule_delete(w, r->org, id);
	if (n <= 0) {
		store_write_rollback(w);
		if (n == 0)
			http_problem(r, 404, "no alert rule %lld in this organisation", (long long)id);
		else
			http_problem(r, 500, "deleting the rule failed");
		return;
	}
	if (store_write_commit(w, err, sizeof err) != 0) {
		http_problem(r, 500, "%s", err);
		return;
	}
	http_json(r, 204);
}

void api_alerts_events(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {"rule", "limit", NULL};
	int limit;
	if (!api_check_params(r, allowed) || !limit_param(r, &limit))
		return;
	int64_t rule = 0;
	const char *v = query_get(&r->query, "rule");
	if (v) {
		char *end;
		long long n = strtoll(v, &end, 10);
		if (*end || end == v || n < 1) {
			http_problem(r, 400, "rule must be the id of an alert rule");
			return;
		}
		rule = n;
	}
	store_conn_t *c = store_read_begin(http_server_store(srv));
	api_org o;
	if (api_org_load(c, r, &o)) {
		api_envelope_begin(r, &o);
		if (alert_events_json(c, r->org, rule, limit, &r->out) == 0) {
			api_envelope_end(r);
			http_json(r, 200);
		} else
			http_problem(r, 500, "reading the alert history: %s", store_errmsg(c));
	}
	store_read_end(c);
}

void api_alerts_deliveries(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {"limit", NULL};
	int limit;
	if (!api_check_params(r, allowed) || !limit_param(r, &limit))
		return;
	store_conn_t *c = store_read_begin(http_server_store(srv));
	api_org o;
	if (api_org_load(c, r, &o)) {
		api_envelope_begin(r, &o);
		if (outbox_json(c, r->org, limit, &r->out) == 0) {
			api_envelope_end(r);
			http_json(r, 200);
		} else
			http_problem(r, 500, "reading the deliveries: %s", store_errmsg(c));
	}
	store_read_end(c);
}
