/* Entity collections: JSON writes, deletes and CSV imports through the same
 * validation as brisk import; lists through src/analytics. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/analytics.h"
#include "core/currency.h"
#include "core/mem.h"
#include "http/api.h"
#include "ingest/import.h"
#include "ingest/prepare.h"
#include "ingest/preview.h"
#include "ingest/profile.h"
#include "store/settings.h"

#define MAX_JSON_ROWS 10000

static bool kind_param(http_req_t *r, entity_kind *k)
{
	slice_t s = r->params[0];
	if (!entity_by_name(s.p, s.len, k)) {
		http_problem(r, 404, "no such collection '%.*s' (costs, sales_orders, invoices, payments, leads)",
		             (int)(s.len > 40 ? 40 : s.len), s.p);
		return false;
	}
	return true;
}

static void write_report(http_req_t *r, const import_result *res, const char *where)
{
	buf_printf(&r->out, "{\"inserted\":%lld,\"replaced\":%lld,\"rejected\":%lld,", (long long)res->inserted,
	           (long long)res->replaced, (long long)res->rejected);
	if (strcmp(where, "index"))
		buf_printf(&r->out, "\"skipped\":%lld,", (long long)res->skipped); /* CSV imports only (--where) */
	buf_puts(&r->out, "\"rejections\":[");
	for (int i = 0; i < res->nkept; i++) {
		buf_printf(&r->out, "%s{\"%s\":%llu,\"reason\":", i ? "," : "", where, (unsigned long long)res->kept[i].line);
		buf_json_str(&r->out, res->kept[i].reason, strlen(res->kept[i].reason));
		buf_putc(&r->out, '}');
	}
	buf_printf(&r->out, "],\"rejections_truncated\":%s,\"warnings\":[", res->rejected > res->nkept ? "true" : "false");
	for (int i = 0; i < res->nwarnings; i++) {
		if (i)
			buf_putc(&r->out, ',');
		buf_json_str(&r->out, res->warnings[i], strlen(res->warnings[i]));
	}
	buf_printf(&r->out, "],\"seconds\":%.3f}", res->seconds);
}

/* A 422 problem+json when no row was valid, with the per-row report as
 * extension members (RFC 9457). */
static void none_valid(http_req_t *r, const import_result *res, const char *where)
{
	http_problem(r, 422, "no row was valid: %lld rejected (see rejections); nothing was stored",
	             (long long)res->rejected);
	buf_t rep = BUF_INIT;
	buf_t keep = r->out;
	r->out = rep;
	write_report(r, res, where);
	rep = r->out;
	r->out = keep;
	r->out.len--;
	buf_putc(&r->out, ',');
	buf_put(&r->out, rep.p + 1, rep.len - 1);
	buf_free(&rep);
}

void api_import_report(http_req_t *r, const import_result *res)
{
	if (res->inserted + res->replaced == 0 && res->rejected > 0) {
		none_valid(r, res, "line");
	} else {
		write_report(r, res, "line");
		http_json(r, 200);
	}
}

/* ---- CSV import over HTTP ---- */

ssize_t api_mem_read(void *ud, char *buf, size_t n)
{
	api_mem_reader *m = ud;
	size_t left = m->len - m->pos;
	if (n > left)
		n = left;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

const char *api_query_value(void *ud, const char *name)
{
	return query_get(ud, name);
}

typedef struct {
	buf_t out;
	int n, minor;
} preview_acc;

#define PREVIEW_ROWS 20

static void on_preview(void *ud, entity_kind k, const record_t *rec, uint64_t line)
{
	preview_acc *pv = ud;
	if (pv->n >= PREVIEW_ROWS)
		return;
	buf_putc(&pv->out, pv->n++ ? ',' : '[');
	preview_json(k, rec, line, pv->minor, &pv->out);
}

/* After write_report: split_costs, what detection chose, the preview. */
static void extra_report(http_req_t *r, const import_prep *p, const import_opts *o, const import_result *res,
                         const preview_acc *pv)
{
	r->out.len--; /* the report's closing brace */
	if (o->split)
		buf_printf(&r->out, ",\"split_costs\":%lld,\"split_transfers\":%lld", (long long)res->split_costs,
		           (long long)res->split_transfers);
	if (p->detected) {
		buf_printf(&r->out, ",\"detected\":{\"confidence\":%d,\"options\":", p->det.confidence);
		profile_options_json(&p->det.opts, &r->out);
		buf_puts(&r->out, ",\"notes\":");
		buf_json_str(&r->out, p->det.notes, strlen(p->det.notes));
		buf_puts(&r->out, ",\"columns\":[");
		for (int i = 0; i < p->det.ncolumns; i++) {
			if (i)
				buf_putc(&r->out, ',');
			buf_json_str(&r->out, p->det.columns[i], strlen(p->det.columns[i]));
		}
		buf_t cmd = BUF_INIT;
		import_prep_cmdline(p, o, "FILE", &cmd);
		buf_puts(&r->out, "],\"command\":");
		buf_json_str(&r->out, cmd.p, cmd.len);
		buf_free(&cmd);
		buf_putc(&r->out, '}');
	}
	if (o->dry_run) {
		buf_puts(&r->out, ",\"preview\":");
		if (pv->n)
			buf_put(&r->out, pv->out.p, pv->out.len), buf_putc(&r->out, ']');
		else
			buf_puts(&r->out, "[]");
	}
	buf_putc(&r->out, '}');
}

bool api_check_import_params(http_req_t *r)
{
	const char *allowed[64];
	size_t na = 0;
	for (; import_option_names[na] && na < 62; na++)
		allowed[na] = import_option_names[na];
	allowed[na++] = "async";
	allowed[na] = NULL;
	return api_check_params(r, allowed);
}

void api_rows_import(http_server_t *srv, http_req_t *r)
{
	import_opts o = {0};
	if (!kind_param(r, &o.kind) || !api_check_import_params(r))
		return;
	if (!r->body || r->body_len == 0) {
		http_problem(r, 400, "the request body is empty: send the CSV file as the body");
		return;
	}
	char why[512];
	o.org = r->org;
	api_mem_reader m = {r->body, r->body_len, 0};
	import_prep prep;
	store_t *st = http_server_store(srv);
	if (!import_prepare(&prep, st, &o, api_query_value, &r->query, api_mem_read, &m, why, sizeof why)) {
		/* detection unsure: the file is not usable as it is (422) */
		if (prep.refused)
			http_problem(r, 422, "detection is unsure: %s; give the options (or a profile) yourself", why);
		else
			http_problem(r, 400, "%s", why);
		import_opts_free(&o);
		import_prep_free(&prep);
		return;
	}
	preview_acc pv = {.out = BUF_INIT, .minor = 2};
	if (o.dry_run) {
		org_settings set;
		store_conn_t *c = store_read_begin(st);
		if (settings_get(c, o.org, &set))
			pv.minor = set.minor;
		store_read_end(c);
		o.preview = on_preview;
		o.preview_ud = &pv;
	}
	import_result *res = xmalloc(sizeof *res);
	char err[512];
	if (import_run(st, import_prep_read, &prep, &o, res, err, sizeof err) != 0) {
		bool busy = strstr(err, "busy") != NULL;
		http_store_failed(r, busy ? 503 : 422, err);
	} else if (res->inserted + res->replaced == 0 && res->rejected > 0) {
		none_valid(r, res, "line");
	} else {
		write_report(r, res, "line");
		extra_report(r, &prep, &o, res, &pv);
		http_json(r, 200);
	}
	buf_free(&pv.out);
	free(res);
	import_opts_free(&o);
	import_prep_free(&prep);
}

/* ---- JSON writes ---- */

/* Fills rec from a JSON object; strings kept alive by the caller's json. */
static bool record_from_json(entity_kind k, json_t *obj, record_t *rec, char money[][MONEY_BUFSZ], char *why,
                             size_t whylen)
{
	const entity_def *d = entity_get(k);
	memset(rec->present, 0, sizeof rec->present);
	memset(rec->parsed, 0, sizeof rec->parsed);
	if (!json_is_object(obj)) {
		snprintf(why, whylen, "a row must be a JSON object");
		return false;
	}
	const char *key;
	json_t *val;
	json_object_foreach(obj, key, val) {
		int ci = entity_col_index(d, key, strlen(key));
		if (ci < 0) {
			snprintf(why, whylen, "unknown field '%.40s' for %s", key, d->name);
			return false;
		}
		if (json_is_null(val))
			continue;
		if (json_is_string(val)) {
			rec->raw[ci] = (slice_t){json_string_value(val), json_string_length(val)};
		} else if (json_is_integer(val) && d->cols[ci].type == COL_MONEY) {
			/* integers are minor units (cents), as in every response:
			 * exact whatever the currency's decimals */
			size_t n = money_format((int64_t)json_integer_value(val), money[ci]);
			rec->raw[ci] = (slice_t){money[ci], n};
			rec->parsed[ci] = true;
			rec->num[ci] = (int64_t)json_integer_value(val);
		} else if (json_is_real(val) && d->cols[ci].type == COL_MONEY) {
			snprintf(why, whylen, "field '%s': money is integer cents or a decimal string such as \"12.50\", "
			                      "never a floating-point number", key);
			return false;
		} else {
			snprintf(why, whylen, "field '%s' must be a string", key);
			return false;
		}
		rec->present[ci] = true;
	}
	return true;
}

/* A body is walked once without building anything (json_scan), so its
 * shape is bounded before the first allocation; then each row is parsed
 * alone and freed after its upsert. Whatever the body, parsing holds one
 * row at a time: a body costs about its own size, not 100 times it. */
#define MAX_ROW_VALUES 256 /* values inside one row, nested ones included */

/* The end of the JSON value at p[i] (whitespace skipped), counting the
 * values inside it into *values. Strings and escapes are skipped, not
 * checked (the parser does that). Returns n on a truncated value. */
static size_t value_end(const char *p, size_t n, size_t i, size_t *values)
{
	int depth = 0;
	*values = 1;
	for (; i < n; i++) {
		char c = p[i];
		if (c == '"') {
			for (i++; i < n && p[i] != '"'; i++)
				if (p[i] == '\\')
					i++;
			if (depth == 0)
				return i < n ? i + 1 : n;
		} else if (c == '{' || c == '[') {
			if (depth++ > 0)
				(*values)++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i; /* closes the enclosing array: not ours */
			if (--depth == 0)
				return i + 1;
		} else if (c == ',') {
			if (depth == 0)
				return i;
			(*values)++;
		} else if (depth == 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
			return i; /* the end of a bare number or literal */
		}
	}
	return n;
}

static size_t skip_ws(const char *p, size_t n, size_t i)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	return i;
}

typedef struct {
	const char *p;
	size_t n, pos;
	bool array;  /* rows in an array (else one row object) */
	size_t rows; /* counted by json_rows_scan */
} json_rows;

/* Checks the outline of a body (a row object or an array of rows) and
 * counts the rows, allocating nothing. False with why on a bad shape. */
static bool json_rows_scan(json_rows *j, char *why, size_t whylen)
{
	size_t i = skip_ws(j->p, j->n, 0), values;
	if (i < j->n && j->p[i] == '{') {
		size_t e = value_end(j->p, j->n, i, &values);
		if (skip_ws(j->p, j->n, e) != j->n) {
			snprintf(why, whylen, "the body is not valid JSON: extra data after the row at byte %zu", e);
			return false;
		}
		j->array = false;
		j->rows = 1;
		j->pos = i;
		return values <= MAX_ROW_VALUES ||
		       (snprintf(why, whylen, "a row holds more than %d values", MAX_ROW_VALUES), false);
	}
	if (i >= j->n || j->p[i] != '[') {
		snprintf(why, whylen, "the body must be a row object or an array of 1 to %d row objects", MAX_JSON_ROWS);
		return false;
	}
	j->array = true;
	j->pos = i + 1;
	i = skip_ws(j->p, j->n, i + 1);
	j->rows = 0;
	if (i < j->n && j->p[i] == ']')
		i++;
	else
		for (;;) {
			if (++j->rows > MAX_JSON_ROWS) {
				snprintf(why, whylen, "more than %d rows in one request: split the array, or import a CSV file "
				                      "with POST /api/v1/import/{kind}", MAX_JSON_ROWS);
				return false;
			}
			size_t e = value_end(j->p, j->n, i, &values);
			if (values > MAX_ROW_VALUES) {
				snprintf(why, whylen, "row %zu holds more than %d values", j->rows - 1, MAX_ROW_VALUES);
				return false;
			}
			i = skip_ws(j->p, j->n, e);
			if (i < j->n && j->p[i] == ',') {
				i = skip_ws(j->p, j->n, i + 1);
				continue;
			}
			if (i < j->n && j->p[i] == ']') {
				i++;
				break;
			}
			snprintf(why, whylen, "the body is not valid JSON: expected ',' or ']' at byte %zu", i);
			return false;
		}
	if (skip_ws(j->p, j->n, i) != j->n) {
		snprintf(why, whylen, "the body is not valid JSON: extra data after the array at byte %zu", i);
		return false;
	}
	if (j->rows == 0) {
		snprintf(why, whylen, "the body must be a row object or an array of 1 to %d row objects", MAX_JSON_ROWS);
		return false;
	}
	return true;
}

/* Parses the next row (after json_rows_scan accepted the body): a new
 * reference, or NULL with why when its text is not valid JSON. */
static json_t *json_rows_next(json_rows *j, char *why, size_t whylen)
{
	size_t values, i = skip_ws(j->p, j->n, j->pos);
	size_t e = value_end(j->p, j->n, i, &values);
	json_error_t jerr;
	json_t *row = json_loadb(j->p + i, e - i, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!row)
		snprintf(why, whylen, "the body is not valid JSON: %s (row at byte %zu)", jerr.text, i + (size_t)jerr.position);
	i = skip_ws(j->p, j->n, e);
	j->pos = i < j->n && j->p[i] == ',' ? i + 1 : i;
	return row;
}

void api_rows_post(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	entity_kind k;
	if (!kind_param(r, &k) || !api_check_params(r, allowed))
		return;
	if (!http_body_is_json(r)) {
		http_problem(r, 415, "send rows as application/json (CSV files go to POST /api/v1/import/%s)", entity_get(k)->name);
		return;
	}
	char err[512], why[256];
	json_rows j = {r->body ? r->body : "", r->body_len, 0, false, 0};
	if (!json_rows_scan(&j, why, sizeof why)) {
		http_problem(r, strstr(why, "more than") && j.rows > MAX_JSON_ROWS ? 413 : 400, "%s", why);
		return;
	}
	store_conn_t *w = store_write_begin(http_server_store(srv), err, sizeof err);
	if (!w) {
		http_problem(r, 503, "%s", err);
		return;
	}
	rollup_acc_t *acc = rollup_acc_new(r->org);
	import_result *res = xcalloc(1, sizeof *res);
	record_t rec;
	entity_parse_opts po = {0};
	org_settings set;
	memcpy(po.currency, settings_get(w, r->org, &set) ? set.currency : CURRENCY_DEFAULT, 4);
	char money[ENTITY_MAXCOLS][MONEY_BUFSZ];
	bool failed = false, bad_json = false;
	for (size_t i = 0; i < j.rows; i++) {
		json_t *row = json_rows_next(&j, why, sizeof why);
		if (!row) {
			bad_json = true;
			break;
		}
		bool ok = record_from_json(k, row, &rec, money, why, sizeof why) &&
		          entity_validate(k, &rec, &po, why, sizeof why);
		if (!ok) {
			json_decref(row);
			res->rejected++;
			if (res->nkept < IMPORT_KEEP_REJECTS) {
				res->kept[res->nkept].line = i;
				snprintf(res->kept[res->nkept++].reason, sizeof res->kept[0].reason, "%.150s", why);
			}
			continue;
		}
		if (!rec.present[0])
			entity_derive_id(k, &rec, i);
		bool replaced;
		int rc = entity_upsert(w, k, r->org, &rec, acc, &replaced, why, sizeof why);
		json_decref(row);
		if (rc != 0) {
			failed = true;
			break;
		}
		if (replaced)
			res->replaced++;
		else
			res->inserted++;
	}
	int frc = failed || bad_json ? -1 : rollup_flush(acc, w);
	if (bad_json) {
		store_write_rollback(w);
		http_problem(r, 400, "%s", why);
	} else if (frc == ROLLUP_E_BOUND) {
		store_write_rollback(w);
		http_problem(r, 422, "%s", rollup_bound_reason());
	} else if (frc != 0) {
		snprintf(err, sizeof err, "store error: %s", failed ? why : store_errmsg(w));
		store_write_rollback(w);
		http_store_failed(r, 500, err);
	} else if (res->inserted + res->replaced == 0) {
		store_write_rollback(w);
		none_valid(r, res, "index");
	} else {
		store_write_touch(w, r->org, entity_touch_mask(k));
		if (store_write_commit(w, err, sizeof err) != 0) {
			http_store_failed(r, 500, err);
		} else {
			write_report(r, res, "index");
			http_json(r, 200);
		}
	}
	rollup_acc_free(acc);
	free(res);
}

void api_rows_delete(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	entity_kind k;
	if (!kind_param(r, &k) || !api_check_params(r, allowed))
		return;
	char err[512];
	store_conn_t *w = store_write_begin(http_server_store(srv), err, sizeof err);
	if (!w) {
		http_problem(r, 503, "%s", err);
		return;
	}
	rollup_acc_t *acc = rollup_acc_new(r->org);
	int rc = entity_delete(w, k, r->org, r->params[1].p, r->params[1].len, acc);
	if (rc == 1 && rollup_flush(acc, w) == 0) {
		store_write_touch(w, r->org, entity_touch_mask(k));
		if (store_write_commit(w, err, sizeof err) == 0) {
			r->status = 204;
		} else {
			http_problem(r, 500, "%s", err);
		}
	} else {
		store_write_rollback(w);
		if (rc == 0)
			http_problem(r, 404, "no %s row with id '%.*s'", entity_get(k)->name, (int)r->params[1].len,
			             r->params[1].p);
		else
			http_problem(r, 500, "store error while deleting");
	}
	rollup_acc_free(acc);
}

/* ---- lists ---- */

static const char *query_getter(void *ud, const char *name)
{
	return query_get(ud, name);
}

void api_rows_list(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {"from", "to", "category", "status", "customer", "creator", "vendor",
	                                      "min_amount", "max_amount", "q", "sort", "limit", "cursor", "fields",
	                                      NULL};
	entity_kind k;
	if (!kind_param(r, &k) || !api_check_params(r, allowed))
		return;
	analytics_list_params lp;
	analytics_list_params_init(&lp, r->org);
	const query_t *q = &r->query;
	char why[256];
	if (!analytics_list_filters(&lp, k, query_getter, (void *)q, why, sizeof why)) {
		http_problem(r, 400, "%s", why);
		return;
	}
	const char *v;
	if ((v = query_get(q, "limit"))) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || end == v || n < 1 || n > 1000) {
			http_problem(r, 400, "limit must be a whole number from 1 to 1000");
			return;
		}
		lp.limit = (int)n;
	}
	lp.cursor = query_get(q, "cursor");
	store_conn_t *c = store_read_begin(http_server_store(srv));
	api_org o;
	if (api_org_load(c, r, &o)) {
		api_envelope_begin(r, &o);
		char err[256];
		if (analytics_list(c, k, &lp, &r->out, err, sizeof err) == 0) {
			api_envelope_end(r);
			http_json(r, 200);
		} else {
			http_problem(r, 400, "%s", err);
		}
	}
	store_read_end(c);
}
