/* Data sets (issue 13): the catalogue (list, create, describe, drop, infer
 * a definition from a file's head), imports, and the cached views. The
 * views run on a worker: the definition is read first (its dimensions and
 * measures decide which parameters exist), then the answer comes from the
 * cache like every dashboard view, keyed by the data set's store id and
 * version (bumped by each write of its rows) and the normalised parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "dataset/dsimport.h"
#include "dataset/dsinfer.h"
#include "dataset/dsstore.h"
#include "dataset/dsview.h"
#include "http/api.h"
#include "http/api_tasks.h"
#include "http/app.h"

#define MAX_POINTS 3660 /* a series' buckets: bounds the work of one request */

static bool name_param(http_req_t *r, char *name)
{
	slice_t s = r->nparams > 0 ? r->params[0] : (slice_t){"", 0};
	if (!dsdef_name_ok(s.p, s.len)) {
		http_problem(r, 404, "no data set '%.*s' (names are a lowercase letter then letters, digits or _)",
		             (int)(s.len > 40 ? 40 : s.len), s.p);
		return false;
	}
	memcpy(name, s.p, s.len);
	name[s.len] = '\0';
	return true;
}

/* Loads data set name in c's snapshot, or answers 404/500. */
static bool load(store_conn_t *c, http_req_t *r, const char *name, dsstore_info *i)
{
	int rc = dsstore_get(c, r->org, name, i);
	if (rc == 0)
		http_problem(r, 404, "no data set '%s' in this organisation", name);
	else if (rc < 0)
		http_store_failed(r, 500, store_errmsg(c));
	return rc == 1;
}

typedef struct {
	buf_t *out;
	store_conn_t *c;
	bool any;
} list_ctx;

static void emit(void *ud, const dsstore_info *i)
{
	list_ctx *x = ud;
	if (x->any)
		buf_putc(x->out, ',');
	x->any = true;
	dsstore_json(x->c, i, x->out);
}

void api_datasets_list(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	store_conn_t *c = store_read_begin(http_server_store(srv));
	api_org o;
	if (api_org_load(c, r, &o)) {
		api_envelope_begin(r, &o);
		buf_puts(&r->out, "{\"items\":[");
		list_ctx x = {&r->out, c, false};
		if (dsstore_list(c, r->org, emit, &x) < 0)
			http_store_failed(r, 500, store_errmsg(c));
		else {
			buf_puts(&r->out, "]}");
			api_envelope_end(r);
			http_json(r, 200);
		}
	}
	store_read_end(c);
}

/* The DATASET object of name in a fresh snapshot, with status. */
static void answer_dataset(http_server_t *srv, http_req_t *r, const char *name, int status)
{
	store_conn_t *c = store_read_begin(http_server_store(srv));
	api_org o;
	dsstore_info *i = xmalloc(sizeof *i);
	if (api_org_load(c, r, &o) && load(c, r, name, i)) {
		buf_reset(&r->out);
		api_envelope_begin(r, &o);
		dsstore_json(c, i, &r->out);
		api_envelope_end(r);
		http_json(r, status);
	}
	free(i);
	store_read_end(c);
}

void api_datasets_create(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	json_t *j = api_json_body(r, "the data set definition");
	if (!j)
		return;
	dsdef_t *d = xmalloc(sizeof *d);
	char why[300];
	if (!dsdef_from_json(j, d, why, sizeof why)) {
		http_problem(r, 400, "%s", why);
	} else {
		int rc = dsstore_create(http_server_store(srv), r->org, d, why, sizeof why);
		if (rc == 1)
			http_problem(r, 409, "a data set '%s' already exists (drop it first, or choose another name)", d->name);
		else if (rc < 0)
			http_store_failed(r, strstr(why, "busy") ? 503 : 500, why);
		else
			answer_dataset(srv, r, d->name, 201);
	}
	free(d);
	json_decref(j);
}

void api_datasets_get(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	char name[DSDEF_NAME_MAX + 1];
	if (api_check_params(r, allowed) && name_param(r, name))
		answer_dataset(srv, r, name, 200);
}

void api_datasets_drop(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	char name[DSDEF_NAME_MAX + 1], why[300];
	if (!api_check_params(r, allowed) || !name_param(r, name))
		return;
	int rc = dsstore_drop(http_server_store(srv), r->org, name, why, sizeof why);
	if (rc == 0)
		http_problem(r, 404, "no data set '%s' in this organisation", name);
	else if (rc < 0)
		http_store_failed(r, strstr(why, "busy") ? 503 : 500, why);
	else
		http_json(r, 204);
}

/* ---- import ---- */

/* The query's import options: async is the route's, not the importer's. */
static const char *import_option(void *ud, const char *name)
{
	return strcmp(name, "async") ? api_query_value(ud, name) : NULL;
}

void api_datasets_import(http_server_t *srv, http_req_t *r)
{
	char name[DSDEF_NAME_MAX + 1], why[512];
	const char *allowed[32];
	int na = 0;
	for (; dsimport_option_names[na]; na++)
		allowed[na] = dsimport_option_names[na];
	allowed[na++] = "async";
	allowed[na] = NULL;
	if (!api_check_params(r, allowed) || !name_param(r, name))
		return;
	if (!r->body || !r->body_len) {
		http_problem(r, 400, "the request body is empty: send the CSV file as the body");
		return;
	}
	import_opts o = {.org = r->org};
	if (!dsimport_options(&o, import_option, &r->query, why, sizeof why)) {
		http_problem(r, 400, "%s", why);
		import_opts_free(&o);
		return;
	}
	int async = api_tasks_upload_async(srv, r);
	if (async) {
		/* a large file: imported by a task (progress, cancel), 202 now */
		if (async > 0) {
			store_conn_t *c = store_read_begin(http_server_store(srv));
			dsstore_info *i = xmalloc(sizeof *i);
			if (load(c, r, name, i))
				api_tasks_upload(srv, r, "dataset_import", "dataset", name);
			store_read_end(c);
			free(i);
		}
		import_opts_free(&o);
		return;
	}
	api_mem_reader m = {r->body, r->body_len, 0};
	import_result *res = xmalloc(sizeof *res);
	int rc = dsimport_run(http_server_store(srv), name, api_mem_read, &m, &o, res, why, sizeof why);
	if (rc == -2)
		http_problem(r, 404, "%s", why);
	else if (rc != 0)
		http_store_failed(r, strstr(why, "busy") ? 503 : 422, why);
	else
		api_import_report(r, res);
	free(res);
	import_opts_free(&o);
}

/* ---- infer ---- */

void api_datasets_infer(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {"name", "delimiter", "encoding", "skip", "date_format", "decimal_comma",
	                                      "thousands", "currency", "plus", "parens", "round", NULL};
	char why[512];
	if (!api_check_params(r, allowed))
		return;
	const char *name = query_get(&r->query, "name");
	if (name && !dsdef_name_ok(name, strlen(name))) {
		http_problem(r, 400, "name must be a lowercase letter then up to 39 lowercase letters, digits or _");
		return;
	}
	if (!r->body || !r->body_len) {
		http_problem(r, 400, "the request body is empty: send the CSV file (or its first lines) as the body");
		return;
	}
	import_opts o = {.org = r->org};
	if (!dsimport_options(&o, api_query_value, &r->query, why, sizeof why)) {
		http_problem(r, 400, "%s", why);
		import_opts_free(&o);
		return;
	}
	store_conn_t *c = store_read_begin(http_server_store(srv));
	api_org org;
	if (api_org_load(c, r, &org)) {
		buf_t data = BUF_INIT;
		if (dsinfer_run(r->body, r->body_len, name ? name : "dataset", &o, org.minor_units, &data, why, sizeof why)) {
			api_envelope_begin(r, &org);
			buf_put(&r->out, data.p, data.len);
			api_envelope_end(r);
			http_json(r, 200);
		} else {
			http_problem(r, 422, "%s", why);
		}
		buf_free(&data);
	}
	store_read_end(c);
	import_opts_free(&o);
}

/* ---- views ---- */

typedef enum { V_TOTALS, V_SERIES, V_BREAKDOWN, V_PIVOT, V_ROWS } view_kind;

typedef struct {
	view_kind kind;
	char name[DSDEF_NAME_MAX + 1];
	dsview_params p;
	int64_t id;
	int64_t org;
} view_ctx;

static int compute_view(void *ud, store_conn_t *c, const api_org *o, buf_t *out, char *err, size_t errlen)
{
	view_ctx *v = ud;
	dsstore_info *i = xmalloc(sizeof *i);
	int rc = -1;
	if (dsstore_get(c, v->org, v->name, i) != 1 || i->id != v->id) {
		snprintf(err, errlen, "data set '%s' was dropped meanwhile", v->name);
		goto out;
	}
	v->p.minor = o->minor_units;
	switch (v->kind) {
	case V_TOTALS: rc = dsview_totals(c, i, &v->p, out, err, errlen); break;
	case V_SERIES: rc = dsview_series(c, i, &v->p, out, err, errlen); break;
	case V_BREAKDOWN: rc = dsview_breakdown(c, i, &v->p, out, err, errlen); break;
	case V_PIVOT: rc = dsview_pivot(c, i, &v->p, out, err, errlen); break;
	case V_ROWS: rc = dsview_rows(c, v->org, i, &v->p, out, err, errlen); break;
	}
out:
	free(i);
	return rc;
}

static bool int_param(http_req_t *r, const char *name, int lo, int hi, int *out)
{
	const char *v = query_get(&r->query, name);
	if (!v)
		return true;
	char *end;
	long n = strtol(v, &end, 10);
	if (*end || end == v || n < lo || n > hi) {
		http_problem(r, 400, "parameter '%s' must be a whole number from %d to %d", name, lo, hi);
		return false;
	}
	*out = (int)n;
	return true;
}

static bool date_param(http_req_t *r, const char *name, date_t *out, bool *given)
{
	const char *v = query_get(&r->query, name);
	*given = v != NULL;
	if (v && !date_parse(v, strlen(v), out)) {
		http_problem(r, 400, "parameter '%s' must be a date YYYY-MM-DD, not '%.40s'", name, v);
		return false;
	}
	return true;
}

static bool dim_param(http_req_t *r, const dsdef_t *d, const char *name, bool need, int *out)
{
	const char *v = query_get(&r->query, name);
	if (!v && !need)
		return true;
	if (!v || (*out = dsdef_dim_index(d, v)) < 0) {
		buf_t names = BUF_INIT;
		for (int i = 0; i < d->ndims; i++)
			buf_printf(&names, "%s%s", i ? ", " : "", d->dims[i].name);
		http_problem(r, 400, "parameter '%s' must name a dimension of '%s' (%s)", name, d->name,
		             d->ndims ? names.p : "it has none");
		buf_free(&names);
		return false;
	}
	return true;
}

/* Parameters common to every view, checked against the definition. */
static bool parse_view(http_req_t *r, view_kind kind, store_conn_t *c, const dsstore_info *i, view_ctx *v)
{
	static const char *const common[] = {"from", "to", NULL};
	static const char *const extra[][5] = {[V_TOTALS] = {NULL},
	                                       [V_SERIES] = {"interval", "measure", NULL},
	                                       [V_BREAKDOWN] = {"by", "measure", "top", NULL},
	                                       [V_PIVOT] = {"rows", "cols", "measure", "top", NULL},
	                                       [V_ROWS] = {"limit", "cursor", NULL}};
	const dsdef_t *d = &i->def;
	dsview_params *p = &v->p;
	for (int q = 0; q < r->query.n; q++) {
		const char *n = r->query.name[q];
		bool ok = false;
		for (int k = 0; common[k] && !ok; k++)
			ok = !strcmp(n, common[k]);
		for (int k = 0; extra[kind][k] && !ok; k++)
			ok = !strcmp(n, extra[kind][k]);
		if (!ok && !strncmp(n, "f.", 2)) {
			int di = dsdef_dim_index(d, n + 2);
			if (di < 0) {
				http_problem(r, 400, "filter '%.60s': '%s' has no dimension '%.40s'", n, d->name, n + 2);
				return false;
			}
			/* values are kept as stored: trimmed, case kept */
			slice_t t = slice_trim(slice_cstr(r->query.value[q]));
			r->query.value[q][t.p - r->query.value[q] + t.len] = '\0';
			p->filter[di] = t.p;
			p->nfilters++;
			ok = true;
		}
		if (!ok) {
			http_problem(r, 400, "unknown parameter '%.60s' (this view takes from, to, f.<dimension>%s%s%s%s%s%s%s%s)", n,
			             extra[kind][0] ? ", " : "", extra[kind][0] ? extra[kind][0] : "",
			             extra[kind][1] ? ", " : "", extra[kind][1] ? extra[kind][1] : "",
			             extra[kind][2] ? ", " : "", extra[kind][2] ? extra[kind][2] : "",
			             extra[kind][3] ? ", " : "", extra[kind][3] ? extra[kind][3] : "");
			return false;
		}
	}
	bool has_from, has_to;
	if (!date_param(r, "from", &p->from, &has_from) || !date_param(r, "to", &p->to, &has_to))
		return false;
	if (has_from && has_to && p->from > p->to) {
		http_problem(r, 400, "'from' is after 'to'");
		return false;
	}
	/* Defaults: the data set's own time range (its rows may be years old). */
	int32_t lo, hi;
	bool any = dsstore_dates(c, i->id, &lo, &hi);
	if (!has_to)
		p->to = any ? hi : date_today();
	if (!has_from)
		p->from = any ? lo : p->to - 364;
	if (!has_to && p->to < p->from)
		p->to = p->from;
	if (!has_from && p->from > p->to)
		p->from = p->to;
	p->interval = d->grain > INTERVAL_MONTH ? d->grain : INTERVAL_MONTH;
	const char *iv = query_get(&r->query, "interval");
	if (iv && !interval_parse(iv, strlen(iv), &p->interval)) {
		http_problem(r, 400, "parameter 'interval' must be day, week, month, quarter or year, not '%.20s'", iv);
		return false;
	}
	if (kind == V_SERIES && (p->interval < d->grain || (d->grain != INTERVAL_DAY && p->interval == INTERVAL_WEEK))) {
		http_problem(r, 400, "interval '%s' is finer than the data set's grain (%s)", interval_name(p->interval),
		             interval_name(d->grain));
		return false;
	}
	if (kind == V_SERIES && dsview_points(p->from, p->to, p->interval) > MAX_POINTS) {
		http_problem(r, 400, "the series would have more than %d points: narrow from/to or use a coarser interval",
		             MAX_POINTS);
		return false;
	}
	const char *m = query_get(&r->query, "measure");
	p->measure = kind == V_SERIES ? -1 : 0;
	if (m && (p->measure = dsdef_measure_index(d, m)) < 0) {
		http_problem(r, 400, "parameter 'measure': '%s' has no measure '%.40s'", d->name, m);
		return false;
	}
	p->top = kind == V_PIVOT ? 20 : 10;
	p->limit = 100;
	if (!int_param(r, "top", 1, 1000, &p->top) || !int_param(r, "limit", 1, 1000, &p->limit))
		return false;
	if (kind == V_BREAKDOWN && !dim_param(r, d, "by", true, &p->by))
		return false;
	if (kind == V_PIVOT && (!dim_param(r, d, "rows", true, &p->by) || !dim_param(r, d, "cols", true, &p->cols)))
		return false;
	const char *cur = query_get(&r->query, "cursor");
	if (kind == V_ROWS && cur && !dsview_cursor(c, r->org, i, cur, p)) {
		http_problem(r, 400, "this cursor is not one of this data set's (it comes from next_cursor)");
		return false;
	}
	return true;
}

static void run_view(http_server_t *srv, http_req_t *r, view_kind kind)
{
	view_ctx *v = xcalloc(1, sizeof *v);
	dsstore_info *i = xmalloc(sizeof *i);
	store_conn_t *c = NULL;
	if (!name_param(r, v->name))
		goto out;
	c = store_read_begin(http_server_store(srv));
	if (!load(c, r, v->name, i) || !parse_view(r, kind, c, i, v))
		goto out;
	store_read_end(c);
	c = NULL;
	v->kind = kind;
	v->id = i->id;
	v->org = r->org;
	v->p.naive = http_server_config(srv)->naive;
	/* key material: the data set, the normalised parameters, the filters */
	buf_t km = BUF_INIT;
	const dsview_params *p = &v->p;
	int64_t parts[] = {kind, v->id, i->version, p->from, p->to, p->interval, p->measure, p->by, p->cols, p->top,
	                   p->limit, p->has_cursor, p->cur_day, p->cur_rid, p->naive};
	buf_put(&km, parts, sizeof parts);
	for (int k = 0; k < DSDEF_MAX_DIMS; k++)
		if (p->filter[k]) {
			buf_printf(&km, "%d=", k);
			buf_put(&km, p->filter[k], strlen(p->filter[k]) + 1);
		}
	/* the data set's own version, read with its definition, stands for its
	 * data: no org-wide table version (an import into another data set
	 * leaves these answers valid) */
	api_view_serve(srv, r, 0, km.p, km.len, true, compute_view, v);
	buf_free(&km);
out:
	if (c)
		store_read_end(c);
	free(i);
	free(v);
}

void api_datasets_totals(http_server_t *srv, http_req_t *r)
{
	run_view(srv, r, V_TOTALS);
}

void api_datasets_series(http_server_t *srv, http_req_t *r)
{
	run_view(srv, r, V_SERIES);
}

void api_datasets_breakdown(http_server_t *srv, http_req_t *r)
{
	run_view(srv, r, V_BREAKDOWN);
}

void api_datasets_pivot(http_server_t *srv, http_req_t *r)
{
	run_view(srv, r, V_PIVOT);
}

void api_datasets_rows(http_server_t *srv, http_req_t *r)
{
	run_view(srv, r, V_ROWS);
}
