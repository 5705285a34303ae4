/* Background tasks over HTTP: submit, list, get, cancel, download; large
 * CSV uploads as import tasks. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "http/api.h"
#include "http/api_tasks.h"
#include "http/app.h"
#include "http/authz.h"
#include "ingest/entity.h"
#include "tasks/taskkind.h"
#include "tasks/tasks.h"

#define MAX_RESULT_BYTES ((off_t)2 << 30)

static tasks_t *tasks_of(http_server_t *srv, http_req_t *r)
{
	app_t *app = http_server_app(srv);
	if (!app || !app->tasks) {
		http_problem(r, 503, "background tasks are not running on this server");
		return NULL;
	}
	return app->tasks;
}

static void answer(http_req_t *r, tasks_status st, const char *err)
{
	static const int codes[] = {[TASKS_OK] = 200,       [TASKS_INVALID] = 400, [TASKS_NOT_FOUND] = 404,
	                            [TASKS_CONFLICT] = 409, [TASKS_BUSY] = 503,    [TASKS_FAILED] = 500};
	if (st == TASKS_NOT_FOUND)
		http_problem(r, 404, "no such task");
	else
		http_store_failed(r, codes[st], err && *err ? err : "the task system failed");
	if (st == TASKS_BUSY)
		http_add_header(r, "Retry-After", "2");
}

/* The task named in the path: its public id (tasks_public_id) turned back
 * into the store's. */
static bool id_param(http_req_t *r, tasks_t *t, int64_t *id)
{
	slice_t s = r->params[0];
	char buf[24];
	if (s.len == 0 || s.len >= sizeof buf) {
		http_problem(r, 404, "no such task");
		return false;
	}
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	char *end;
	long long v = strtoll(buf, &end, 10);
	if (*end || end == buf || v < 0) {
		http_problem(r, 404, "no such task: task ids are numbers");
		return false;
	}
	*id = tasks_private_id(t, v);
	return true;
}

/* A 202 with the task's JSON and its Location. */
/* Queues a task with the request's audit entry in the same transaction:
 * an entry written after it would wait for the store's writer, which the
 * task (an import) may already hold for minutes. */
static tasks_status submit(http_req_t *r, tasks_t *t, const char *kind, const char *params, int priority,
                           const char *input_file, int64_t *id, char *err, size_t errlen)
{
	char target[512];
	audit_entry e;
	authz_audit_entry(r, &e, target);
	store_thread_on_commit(NULL, NULL); /* the entry goes in here, once */
	tasks_status st = tasks_submit_audited(t, r->org, kind, params, priority, input_file, r->who.user ? &e : NULL,
	                                       id, err, errlen);
	r->audited = st == TASKS_OK;
	return st;
}

static void accepted(http_req_t *r, tasks_t *t, int64_t id)
{
	char loc[64];
	long long pub = (long long)tasks_public_id(t, id);
	snprintf(loc, sizeof loc, "/api/v1/tasks/%lld", pub);
	buf_reset(&r->out);
	if (tasks_get(t, r->org, id, &r->out) != TASKS_OK)
		buf_printf(&r->out, "{\"id\":%lld,\"status\":\"pending\"}", pub);
	http_add_header(r, "Location", loc);
	http_json(r, 202);
}

void api_tasks_submit(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	tasks_t *t = tasks_of(srv, r);
	if (!t)
		return;
	if (!http_body_is_json(r)) {
		http_problem(r, 415, "send {\"kind\": ..., \"params\": {...}} as application/json");
		return;
	}
	json_error_t je;
	json_t *root = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(root)) {
		http_problem(r, 400, "the body must be a JSON object {\"kind\": ..., \"params\": {...}}%s%s",
		             root ? "" : ": ", root ? "" : je.text);
		json_decref(root);
		return;
	}
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		if (strcmp(key, "kind") && strcmp(key, "params") && strcmp(key, "priority")) {
			http_problem(r, 400, "unknown field '%.40s' (kind, params, priority)", key);
			json_decref(root);
			return;
		}
	}
	const char *kind = json_string_value(json_object_get(root, "kind"));
	json_t *params = json_object_get(root, "params");
	json_t *prio = json_object_get(root, "priority");
	pqueue_level lv = PQ_NORMAL;
	const taskkind_t *k = kind ? taskkind_find(kind) : NULL;
	char err[512] = "";
	if (!kind) {
		http_problem(r, 400, "kind is required (%s)", taskkind_list());
	} else if (k && !k->submittable) {
		http_problem(r, 400, "imports start with POST /api/v1/import/{entity} (a data set's: POST "
		                     "/api/v1/datasets/{name}/import) with the CSV file as the body");
	} else if (params && !json_is_object(params)) {
		http_problem(r, 400, "params must be a JSON object");
	} else if (prio && (!json_is_string(prio) || !pqueue_level_parse(json_string_value(prio), &lv))) {
		http_problem(r, 400, "priority must be interactive, normal or bulk");
	} else {
		char *ptext = params ? json_dumps(params, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
		int64_t id;
		tasks_status st = submit(r, t, kind, ptext, prio ? (int)lv : -1, NULL, &id, err, sizeof err);
		free(ptext);
		if (st == TASKS_OK)
			accepted(r, t, id);
		else
			answer(r, st, err);
	}
	json_decref(root);
}

void api_tasks_list(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {"status", "kind", "limit", NULL};
	if (!api_check_params(r, allowed))
		return;
	tasks_t *t = tasks_of(srv, r);
	if (!t)
		return;
	int limit = 100;
	const char *v = query_get(&r->query, "limit");
	if (v) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || end == v || n < 1 || n > 1000) {
			http_problem(r, 400, "limit must be a whole number from 1 to 1000");
			return;
		}
		limit = (int)n;
	}
	char err[256] = "";
	tasks_status st = tasks_list(t, r->org, query_get(&r->query, "status"), query_get(&r->query, "kind"), limit,
	                             &r->out, err, sizeof err);
	if (st == TASKS_OK)
		http_json(r, 200);
	else
		answer(r, st, err);
}

void api_tasks_get(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	int64_t id;
	if (!api_check_params(r, allowed))
		return;
	tasks_t *t = tasks_of(srv, r);
	if (!t || !id_param(r, t, &id))
		return;
	tasks_status st = tasks_get(t, r->org, id, &r->out);
	if (st == TASKS_OK)
		http_json(r, 200);
	else
		answer(r, st, "cannot read the task (store error)");
}

void api_tasks_cancel(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	int64_t id;
	if (!api_check_params(r, allowed))
		return;
	tasks_t *t = tasks_of(srv, r);
	if (!t || !id_param(r, t, &id))
		return;
	char err[256] = "";
	tasks_status st = tasks_cancel(t, r->org, id, &r->out, err, sizeof err);
	if (st != TASKS_OK) {
		answer(r, st, err);
		return;
	}
	/* 200 when it is already cancelled, 202 while it winds down. The task's
	 * own status is the first "status" member (params come later and may
	 * hold a status filter of their own). */
	const char *first = strstr(r->out.p, "\"status\":\"");
	bool done = first && !strncmp(first + 10, "cancelled\"", 10);
	http_json(r, done ? 200 : 202);
}

void api_tasks_result(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	int64_t id;
	if (!api_check_params(r, allowed))
		return;
	tasks_t *t = tasks_of(srv, r);
	if (!t || !id_param(r, t, &id))
		return;
	taskrec_t rec;
	char path[1024], err[768] = "";
	tasks_status st = tasks_result(t, r->org, id, &rec, path, sizeof path, err, sizeof err);
	if (st != TASKS_OK) {
		answer(r, st, err);
		return;
	}
	if (!path[0]) {
		buf_puts(&r->out, rec.result ? rec.result : "{}");
		http_json(r, 200);
		taskrec_clear(&rec);
		return;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		http_problem(r, 410, "the result file of task %lld is gone (%s)", (long long)id, strerror(errno));
		if (fd >= 0)
			close(fd);
		taskrec_clear(&rec);
		return;
	}
	if (sb.st_size > MAX_RESULT_BYTES) {
		http_problem(r, 413, "the result is too large to download over the API (%lld bytes)", (long long)sb.st_size);
		close(fd);
		taskrec_clear(&rec);
		return;
	}
	buf_reserve(&r->out, (size_t)sb.st_size + 1);
	size_t got = 0;
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, r->out.p + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)sb.st_size) {
		buf_reset(&r->out);
		http_problem(r, 500, "cannot read the result file of task %lld", (long long)id);
		taskrec_clear(&rec);
		return;
	}
	r->out.len = got;
	r->out.p[got] = '\0';
	/* the name is ours (entity, dates, digits): no quoting needed */
	char disp[200];
	snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", rec.result_name ? rec.result_name : "result");
	http_add_header(r, "Content-Disposition", disp);
	r->status = 200;
	r->content_type_out = strstr(rec.result_type ? rec.result_type : "", "csv") ? "text/csv; charset=utf-8"
	                      : strstr(rec.result_type ? rec.result_type : "", "pdf") ? "application/pdf"
	                      : strstr(rec.result_type ? rec.result_type : "", "sheet")
	                          ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	                          : "application/octet-stream";
	taskrec_clear(&rec);
}

/* ---- large uploads ---- */

static const char *query_lookup(void *ud, const char *name)
{
	return query_get((const query_t *)ud, name);
}

int api_tasks_upload_async(http_server_t *srv, http_req_t *r)
{
	app_t *app = http_server_app(srv);
	bool async;
	if (!api_flag(r, "async", &async))
		return -1;
	return app && app->tasks && (async || (int64_t)r->body_len > tasks_import_async_bytes(app->tasks));
}

/* The query's options but async, as the task's "options" object. */
static json_t *upload_options(const http_req_t *r)
{
	json_t *opts = json_object();
	for (int i = 0; i < r->query.n; i++)
		if (strcmp(r->query.name[i], "async"))
			json_object_set_new(opts, r->query.name[i], json_string(r->query.value[i]));
	return opts;
}

void api_tasks_upload(http_server_t *srv, http_req_t *r, const char *kind, const char *target_key,
                      const char *target)
{
	tasks_t *t = ((app_t *)http_server_app(srv))->tasks;
	json_t *params = json_pack("{s:s, s:o, s:I}", target_key, target, "options", upload_options(r), "size",
	                           (json_int_t)r->body_len);
	char *ptext = json_dumps(params, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(params);
	char name[64], err[512] = "";
	int64_t id;
	if (tasks_spool(t, r->body, r->body_len, name, err, sizeof err) != 0) {
		http_store_failed(r, 507, err);
	} else {
		tasks_status st = submit(r, t, kind, ptext, -1, name, &id, err, sizeof err);
		if (st == TASKS_OK)
			accepted(r, t, id);
		else
			answer(r, st, err);
	}
	free(ptext);
}

void api_tasks_import(http_server_t *srv, http_req_t *r)
{
	int async = api_tasks_upload_async(srv, r);
	if (async <= 0) {
		if (!async)
			api_rows_import(srv, r);
		return;
	}
	entity_kind k;
	slice_t ks = r->params[0];
	if (!entity_by_name(ks.p, ks.len, &k)) {
		http_problem(r, 404, "no such collection '%.*s' (costs, sales_orders, invoices, payments, leads)",
		             (int)(ks.len > 40 ? 40 : ks.len), ks.p);
		return;
	}
	if (!api_check_import_params(r))
		return;
	if (!r->body || r->body_len == 0) {
		http_problem(r, 400, "the request body is empty: send the CSV file as the body");
		return;
	}
	char why[256];
	import_opts o = {.kind = k};
	bool ok = import_options_parse(&o, query_lookup, &r->query, why, sizeof why);
	import_opts_free(&o);
	if (!ok) {
		http_problem(r, 400, "%s", why);
		return;
	}
	api_tasks_upload(srv, r, "import", "entity", entity_get(k)->name);
}
