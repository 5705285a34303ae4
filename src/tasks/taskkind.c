#include "tasks/taskkind.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/date.h"
#include "core/mem.h"
#include "dataset/dsdef.h"
#include "dataset/dsimport.h"
#include "ingest/prepare.h"
#include "match/matcher.h"
#include "report/export.h"
#include "report/report.h"

/* ---- params helpers ---- */

/* A string member of a JSON object, for the parsers that read text. */
static const char *json_get(void *ud, const char *name)
{
	return json_string_value(json_object_get((json_t *)ud, name));
}

/* Checks every member of params is in allowed and a string (when
 * strings_only). */
static bool only_keys(json_t *params, const char *const *allowed, bool strings_only, char *why, size_t whylen)
{
	const char *key;
	json_t *v;
	json_object_foreach(params, key, v) {
		bool known = false;
		for (int i = 0; allowed[i] && !known; i++)
			known = !strcmp(key, allowed[i]);
		if (!known) {
			char list[512] = "";
			for (int i = 0; allowed[i]; i++)
				snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", allowed[i]);
			snprintf(why, whylen, "unknown parameter '%.40s' (this kind takes: %s)", key, allowed[0] ? list : "none");
			return false;
		}
		if (strings_only && !json_is_string(v)) {
			snprintf(why, whylen, "parameter '%.40s' must be a string, as in the list API's query", key);
			return false;
		}
	}
	return true;
}

static bool entity_param(json_t *params, entity_kind *k, char *why, size_t whylen)
{
	const char *e = json_string_value(json_object_get(params, "entity"));
	if (!e) {
		snprintf(why, whylen, "params.entity is required: costs, sales_orders, invoices, payments or leads");
		return false;
	}
	if (!entity_by_name(e, strlen(e), k)) {
		snprintf(why, whylen, "unknown entity '%.40s' (costs, sales_orders, invoices, payments, leads)", e);
		return false;
	}
	return true;
}

/* ---- import ---- */

void taskkind_import_json(const import_result *res, buf_t *out)
{
	buf_printf(out, "{\"inserted\":%lld,\"replaced\":%lld,\"rejected\":%lld,\"skipped\":%lld,\"rejections\":[",
	           (long long)res->inserted, (long long)res->replaced, (long long)res->rejected, (long long)res->skipped);
	for (int i = 0; i < res->nkept; i++) {
		buf_printf(out, "%s{\"line\":%llu,\"reason\":", i ? "," : "", (unsigned long long)res->kept[i].line);
		buf_json_str(out, res->kept[i].reason, strlen(res->kept[i].reason));
		buf_putc(out, '}');
	}
	buf_printf(out, "],\"rejections_truncated\":%s,\"warnings\":[", res->rejected > res->nkept ? "true" : "false");
	for (int i = 0; i < res->nwarnings; i++) {
		if (i)
			buf_putc(out, ',');
		buf_json_str(out, res->warnings[i], strlen(res->warnings[i]));
	}
	buf_printf(out, "],\"seconds\":%.3f}", res->seconds);
}

static bool import_check(json_t *params, char *why, size_t whylen)
{
	static const char *const allowed[] = {"entity", "options", "size", NULL};
	entity_kind k;
	if (!only_keys(params, allowed, false, why, whylen) || !entity_param(params, &k, why, whylen))
		return false;
	json_t *opts = json_object_get(params, "options");
	if (opts && (!json_is_object(opts) || !only_keys(opts, import_option_names, true, why, whylen)))
		return false;
	import_opts o = {.kind = k};
	bool ok = import_options_parse(&o, json_get, opts, why, whylen);
	import_opts_free(&o);
	return ok;
}

typedef struct {
	int fd;
	taskkind_ctx *c;
	uint64_t size;
} import_src;

static ssize_t read_fd(void *ud, char *buf, size_t n)
{
	return read(((import_src *)ud)->fd, buf, n);
}

static void import_progress(void *ud, uint64_t bytes, uint64_t rows)
{
	import_src *src = ud;
	char msg[96];
	snprintf(msg, sizeof msg, "%llu rows read", (unsigned long long)rows);
	/* the commit takes the last stretch: reading ends at 95% */
	int pct = src->size ? (int)(bytes * 95 / src->size) : 0;
	src->c->progress(src->c->progress_ud, pct, msg);
}

/* The import reports its progress through the task and stops at its cancel. */
static void follow(taskkind_ctx *c, import_opts *o, import_src *src)
{
	o->progress = import_progress;
	o->progress_ud = src;
	o->cancel = c->cancel;
	c->progress(c->progress_ud, 0, "reading the upload");
}

/* Opens the spooled upload into src (its size for the progress). */
static bool open_upload(taskkind_ctx *c, import_src *src)
{
	if (!c->input) {
		snprintf(c->err, sizeof c->err, "the uploaded file is missing");
		return false;
	}
	src->fd = open(c->input, O_RDONLY | O_CLOEXEC);
	if (src->fd < 0) {
		snprintf(c->err, sizeof c->err, "the uploaded file is no longer available: %s", strerror(errno));
		return false;
	}
	struct stat sb;
	if (fstat(src->fd, &sb) == 0)
		src->size = (uint64_t)sb.st_size;
	return true;
}

/* The task's result: 0, or -1 when no row of the file was stored. */
static int import_outcome(taskkind_ctx *c, const import_result *res)
{
	taskkind_import_json(res, &c->result);
	/* As the CLI exits 1 and the sync API answers 422: a file of which no
	 * row was stored did not import, whatever the task did (the result
	 * keeps the rejections). */
	if (res->inserted + res->replaced == 0 && res->rejected > 0) {
		snprintf(c->err, sizeof c->err, "no row was valid: %lld rejected (see the result's rejections); nothing was stored",
		         (long long)res->rejected);
		return -1;
	}
	return 0;
}

static int import_run_task(taskkind_ctx *c)
{
	entity_kind k;
	entity_param(c->params, &k, c->err, sizeof c->err);
	json_t *opts = json_object_get(c->params, "options");
	import_opts o = {.kind = k, .org = c->org};
	int rc = -1;
	import_src src = {.fd = -1, .c = c};
	import_result *res = xcalloc(1, sizeof *res);
	import_prep prep;
	memset(&prep, 0, sizeof prep);
	if (!open_upload(c, &src))
		goto out;
	/* a profile and detection (profile=, detect=1) add to the options */
	if (!import_prepare(&prep, c->store, &o, json_get, opts, read_fd, &src, c->err, sizeof c->err))
		goto out;
	follow(c, &o, &src);
	if (import_run(c->store, import_prep_read, &prep, &o, res, c->err, sizeof c->err) != 0)
		goto out;
	rc = import_outcome(c, res);
out:
	if (src.fd >= 0)
		close(src.fd);
	free(res);
	import_opts_free(&o);
	import_prep_free(&prep);
	return rc;
}

/* ---- a data set's import ---- */

static bool dsimport_check(json_t *params, char *why, size_t whylen)
{
	static const char *const allowed[] = {"dataset", "options", "size", NULL};
	if (!only_keys(params, allowed, false, why, whylen))
		return false;
	const char *name = json_string_value(json_object_get(params, "dataset"));
	if (!name || !dsdef_name_ok(name, strlen(name))) {
		snprintf(why, whylen, "params.dataset must be a data set's name");
		return false;
	}
	json_t *opts = json_object_get(params, "options");
	if (opts && (!json_is_object(opts) || !only_keys(opts, dsimport_option_names, true, why, whylen)))
		return false;
	import_opts o = {0};
	bool ok = dsimport_options(&o, json_get, opts, why, whylen);
	import_opts_free(&o);
	return ok;
}

static int dsimport_task(taskkind_ctx *c)
{
	const char *name = json_string_value(json_object_get(c->params, "dataset"));
	import_opts o = {.org = c->org};
	import_src src = {.fd = -1, .c = c};
	import_result *res = xcalloc(1, sizeof *res);
	int rc = -1;
	if (!dsimport_options(&o, json_get, json_object_get(c->params, "options"), c->err, sizeof c->err))
		goto out;
	o.org = c->org;
	if (!open_upload(c, &src))
		goto out;
	follow(c, &o, &src);
	if (dsimport_run(c->store, name, read_fd, &src, &o, res, c->err, sizeof c->err) != 0)
		goto out;
	rc = import_outcome(c, res);
out:
	if (src.fd >= 0)
		close(src.fd);
	free(res);
	import_opts_free(&o);
	return rc;
}

/* ---- match ---- */

static bool match_opts(json_t *params, matcher_opts *o, char *why, size_t whylen)
{
	static const char *const allowed[] = {"auto", "review", "name_threshold", "dry_run", NULL};
	if (!only_keys(params, allowed, false, why, whylen))
		return false;
	matcher_opts_init(o);
	static const char *const num[] = {"auto", "review", "name_threshold"};
	double *dst[] = {&o->score.auto_threshold, &o->score.review_threshold, &o->score.name_threshold};
	for (int i = 0; i < 3; i++) {
		json_t *v = json_object_get(params, num[i]);
		if (!v)
			continue;
		if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1) {
			snprintf(why, whylen, "%s must be a number within [0, 1]", num[i]);
			return false;
		}
		*dst[i] = json_number_value(v);
	}
	json_t *dr = json_object_get(params, "dry_run");
	if (dr && !json_is_boolean(dr)) {
		snprintf(why, whylen, "dry_run must be true or false");
		return false;
	}
	o->dry_run = json_is_true(dr);
	return score_opts_check(&o->score, why, whylen);
}

static bool match_check(json_t *params, char *why, size_t whylen)
{
	matcher_opts o;
	return match_opts(params, &o, why, whylen);
}

static void match_progress(void *ud, uint64_t done, uint64_t total)
{
	taskkind_ctx *c = ud;
	char msg[96];
	snprintf(msg, sizeof msg, "reconciling: %llu of %llu steps", (unsigned long long)done,
	         (unsigned long long)total);
	c->progress(c->progress_ud, total ? (int)(done * 99 / total) : 0, msg);
}

static int match_run(taskkind_ctx *c)
{
	matcher_opts o;
	if (!match_opts(c->params, &o, c->err, sizeof c->err))
		return -1;
	o.progress = match_progress;
	o.progress_ud = c;
	o.cancel = c->cancel;
	matcher_result r;
	if (matcher_run(c->store, c->org, &o, &r, c->err, sizeof c->err) != 0)
		return -1;
	buf_printf(&c->result,
	           "{\"payments\":%lld,\"invoices\":%lld,\"applied\":%lld,\"proposed\":%lld,\"unmatched\":%lld,"
	           "\"changed\":%lld,\"dry_run\":%s,\"seconds\":%.3f}",
	           (long long)r.payments, (long long)r.invoices, (long long)r.applied, (long long)r.proposed,
	           (long long)r.unmatched, (long long)r.changed, o.dry_run ? "true" : "false", r.seconds);
	return 0;
}

/* ---- refresh ---- */

static bool refresh_check(json_t *params, char *why, size_t whylen)
{
	static const char *const allowed[] = {NULL};
	return only_keys(params, allowed, false, why, whylen);
}

static int refresh_run(taskkind_ctx *c)
{
	if (!c->refresh) {
		snprintf(c->err, sizeof c->err, "the response cache is off: there is nothing to warm");
		return -1;
	}
	c->refresh(c->refresh_ud, c->org);
	buf_puts(&c->result, "{\"warming\":true}");
	return 0;
}

/* ---- export ---- */

static bool export_req_of(json_t *params, int64_t org, export_req *q, char *why, size_t whylen)
{
	/* analytics_list_filters' names, and what an export adds */
	static const char *const allowed[] = {"entity", "format", "from",       "to",         "category",
	                                      "status", "customer", "creator",  "vendor",     "min_amount",
	                                      "max_amount", "q",  "sort",       "fields",     NULL};
	entity_kind k;
	if (!only_keys(params, allowed, true, why, whylen) || !entity_param(params, &k, why, whylen) ||
	    !export_parse(q, k, org, json_get, params, why, whylen))
		return false;
	const char *f = json_string_value(json_object_get(params, "format"));
	if (f && !export_format_parse(f, &q->format)) {
		snprintf(why, whylen, "format must be csv or xlsx");
		return false;
	}
	return true;
}

static bool export_check(json_t *params, char *why, size_t whylen)
{
	export_req q;
	return export_req_of(params, 0, &q, why, whylen);
}

static void export_progress(void *ud, uint64_t rows, uint64_t estimate)
{
	taskkind_ctx *c = ud;
	char msg[96];
	snprintf(msg, sizeof msg, "%llu rows written", (unsigned long long)rows);
	c->progress(c->progress_ud, estimate ? (int)(rows * 99 / estimate) : 0, msg);
}

static int export_task(taskkind_ctx *c)
{
	export_req q;
	if (!export_req_of(c->params, c->org, &q, c->err, sizeof c->err))
		return -1;
	const char *ent = entity_get(q.kind)->name, *ext = export_format_ext(q.format);
	char today[DATE_BUFSZ];
	date_format(date_today(), today);
	snprintf(c->file, sizeof c->file, "%lld-%s.%s", (long long)c->id, ent, ext);
	snprintf(c->name, sizeof c->name, "%s-%s.%s", ent, today, ext);
	c->type = export_content_type(q.format);
	char *path = xmalloc(strlen(c->dir) + strlen(c->file) + 2);
	sprintf(path, "%s/%s", c->dir, c->file);
	uint64_t rows = 0;
	int rc = export_run(c->store, &q, path, export_progress, c, c->cancel, &rows, c->err, sizeof c->err);
	if (rc == 0) {
		struct stat sb;
		buf_printf(&c->result, "{\"entity\":\"%s\",\"format\":\"%s\",\"rows\":%llu,\"bytes\":%lld}", ent, ext,
		           (unsigned long long)rows, stat(path, &sb) == 0 ? (long long)sb.st_size : 0LL);
	} else {
		c->file[0] = '\0';
	}
	free(path);
	return rc;
}

/* ---- report ---- */

static bool report_month(json_t *params, int *y, int *m, char *why, size_t whylen)
{
	static const char *const allowed[] = {"month", NULL};
	if (!only_keys(params, allowed, true, why, whylen))
		return false;
	const char *mo = json_string_value(json_object_get(params, "month"));
	if (!mo) {
		/* the last complete month */
		int d;
		date_to_ymd(date_add_months(date_today(), -1), y, m, &d);
		return true;
	}
	if (!report_month_parse(mo, y, m)) {
		snprintf(why, whylen, "month must be YYYY-MM, e.g. 2025-06");
		return false;
	}
	return true;
}

static bool report_check(json_t *params, char *why, size_t whylen)
{
	int y, m;
	return report_month(params, &y, &m, why, whylen);
}

static void report_progress(void *ud, int pct, const char *what)
{
	taskkind_ctx *c = ud;
	c->progress(c->progress_ud, pct >= 100 ? 99 : pct, what);
}

static int report_task(taskkind_ctx *c)
{
	int y, m;
	if (!report_month(c->params, &y, &m, c->err, sizeof c->err))
		return -1;
	snprintf(c->file, sizeof c->file, "%lld-report-%04d-%02d.pdf", (long long)c->id, y, m);
	snprintf(c->name, sizeof c->name, "report-%04d-%02d.pdf", y, m);
	c->type = "application/pdf";
	char *path = xmalloc(strlen(c->dir) + strlen(c->file) + 2);
	sprintf(path, "%s/%s", c->dir, c->file);
	int rc = report_run(c->store, c->org, y, m, path, report_progress, c, c->cancel, c->err, sizeof c->err);
	if (rc == 0) {
		struct stat sb;
		buf_printf(&c->result, "{\"month\":\"%04d-%02d\",\"pages\":%d,\"bytes\":%lld}", y, m, REPORT_PAGES,
		           stat(path, &sb) == 0 ? (long long)sb.st_size : 0LL);
	} else {
		c->file[0] = '\0';
	}
	free(path);
	return rc;
}

/* ---- the table ---- */

static const taskkind_t kinds[] = {
	{"import", PQ_BULK, false, "an import", import_check, import_run_task},
	{"dataset_import", PQ_BULK, false, "a data set import", dsimport_check, dsimport_task},
	{"match", PQ_NORMAL, true, "a reconciliation run", match_check, match_run},
	{"refresh", PQ_NORMAL, true, "a refresh task", refresh_check, refresh_run},
	{"export", PQ_INTERACTIVE, true, "an export task", export_check, export_task},
	{"report", PQ_INTERACTIVE, true, "a report task", report_check, report_task},
};

const taskkind_t *taskkind_find(const char *name)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

const char *taskkind_list(void)
{
	return "import, match, refresh, export, report";
}
