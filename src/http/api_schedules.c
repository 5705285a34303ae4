/* Scheduled reports and exports (src/notify/schedule.h) of the caller's
 * organisation: list, create, read, delete, run now. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/api.h"
#include "http/app.h"
#include "notify/notify.h"
#include "notify/schedule.h"
#include "tasks/taskkind.h"

static bool check_task(const char *kind, json_t *params, char *why, size_t whylen)
{
	const taskkind_t *k = taskkind_find(kind);
	return k && k->check(params, why, whylen);
}

static bool schedule_id(http_req_t *r, int64_t *id)
{
	char *end;
	long long v = strtoll(r->params[0].p, &end, 10);
	if (end == r->params[0].p || *end || v < 1) {
		http_problem(r, 404, "no schedule '%.40s' in this organisation", r->params[0].p);
		return false;
	}
	*id = v;
	return true;
}

static void answer(http_server_t *srv, http_req_t *r, int64_t id, int status)
{
	store_conn_t *c = store_read_begin(http_server_store(srv));
	api_org o;
	report_schedule s;
	if (api_org_load(c, r, &o)) {
		int f = schedule_get(c, r->org, id, &s);
		if (f == 1) {
			api_envelope_begin(r, &o);
			schedule_json(&s, &r->out);
			api_envelope_end(r);
			http_json(r, status);
			schedule_clear(&s);
		} else
			http_problem(r, f == 0 ? 404 : 500, "%s schedule %lld", f == 0 ? "no such" : "cannot read",
			             (long long)id);
	}
	store_read_end(c);
}

void api_schedules_list(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	store_conn_t *c = store_read_begin(http_server_store(srv));
	api_org o;
	report_schedule *list = NULL;
	size_t n = 0;
	if (api_org_load(c, r, &o)) {
		if (schedule_list(c, r->org, 0, &list, &n) == 0) {
			api_envelope_begin(r, &o);
			buf_puts(&r->out, "{\"items\":[");
			for (size_t i = 0; i < n; i++) {
				if (i)
					buf_putc(&r->out, ',');
				schedule_json(&list[i], &r->out);
			}
			buf_puts(&r->out, "]}");
			api_envelope_end(r);
			http_json(r, 200);
		} else
			http_problem(r, 500, "reading the schedules: %s", store_errmsg(c));
	}
	for (size_t i = 0; i < n; i++)
		schedule_clear(&list[i]);
	free(list);
	store_read_end(c);
}

void api_schedules_create(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	json_t *root = api_json_body(r, "the schedule");
	if (!root)
		return;
	report_schedule s;
	schedule_init(&s, r->org);
	char err[512];
	if (schedule_from_json(root, true, check_task, &s, err, sizeof err) != 0) {
		http_problem(r, 400, "%s", err);
		goto out;
	}
	store_conn_t *w = store_write_begin(http_server_store(srv), err, sizeof err);
	if (!w) {
		http_problem(r, 503, "%s", err);
		goto out;
	}
	if (schedule_insert(w, &s, (int64_t)time(NULL)) != 0) {
		http_problem(r, 500, "storing the schedule: %s", store_errmsg(w));
		store_write_rollback(w);
		goto out;
	}
	if (store_write_commit(w, err, sizeof err) != 0) {
		http_problem(r, 500, "%s", err);
		goto out;
	}
	answer(srv, r, s.id, 201);
out:
	schedule_clear(&s);
	json_decref(root);
}

void api_schedules_get(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	int64_t id;
	if (api_check_params(r, allowed) && schedule_id(r, &id))
		answer(srv, r, id, 200);
}

/* DELETE (run false) or POST .../run (run true: due now). */
static void change(http_server_t *srv, http_req_t *r, bool run)
{
	static const char *const allowed[] = {NULL};
	int64_t id;
	if (!api_check_params(r, allowed) || !schedule_id(r, &id))
		return;
	char err[512];
	store_conn_t *w = store_write_begin(http_server_store(srv), err, sizeof err);
	if (!w) {
		http_problem(r, 503, "%s", err);
		return;
	}
	int n = run ? schedule_run_now(w, r->org, id, (int64_t)time(NULL)) : schedule_delete(w, r->org, id);
	if (n <= 0) {
		store_write_rollback(w);
		http_problem(r, n == 0 ? 404 : 500, "%s schedule %lld", n == 0 ? "no such" : "cannot change",
		             (long long)id);
		return;
	}
	if (store_write_commit(w, err, sizeof err) != 0) {
		http_problem(r, 500, "%s", err);
		return;
	}
	if (!run) {
		http_json(r, 204);
		return;
	}
	app_t *app = http_server_app(srv);
	notify_schedules_soon(app ? app->notify : NULL);
	answer(srv, r, id, 202);
}

void api_schedules_delete(http_server_t *srv, http_req_t *r)
{
	change(srv, r, false);
}

void api_schedules_run(http_server_t *srv, http_req_t *r)
{
	change(srv, r, true);
}
