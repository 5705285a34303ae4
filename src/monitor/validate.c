#include "monitor/validate.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "monitor/loadgen.h"

#define NAIVE_REPEATS_MAX 10 /* the naive mode is slow by design: fewer samples */

struct side {
	loadgen_conn_t *conn;
	int port;
	bool naive;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of v[0..n) (sorted in place); NaN when empty. */
static double pct(double *v, size_t n, double q)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof *v, cmp_double);
	size_t k = (size_t)ceil(q * (double)n);
	return v[k ? k - 1 : 0];
}

static void say(const validate_http *v, const char *fmt, const char *what)
{
	if (v->log) {
		fprintf(v->log, fmt, what);
		fflush(v->log);
	}
}

/* One request that must answer want (200 for reads); its time in ms. */
static int call(const validate_http *v, struct side *s, const char *method, const char *path, int want, buf_t *body,
		double *ms, char *err, size_t errlen)
{
	int status = 0;
	double secs = 0;
	char why[256];
	if (loadgen_request(s->conn, method, path, v->token, NULL, 0, &status, body, &secs, why, sizeof why) != 0) {
		snprintf(err, errlen, "%s %s on the %s server: %s", method, path, s->naive ? "naive" : "main", why);
		return -1;
	}
	if (status != want) {
		snprintf(err, errlen, "%s %s on the %s server answered %d, not %d", method, path,
			 s->naive ? "naive" : "main", status, want);
		return -1;
	}
	if (ms)
		*ms = secs * 1e3;
	return 0;
}

/* n requests of path, each after clearing the cache when cold; p50/p95
 * (cold) or p50/p99 (warm) into the two outputs. */
static int sample(const validate_http *v, struct side *s, const char *path, bool cold, int n, double *a, double *b,
		  char *err, size_t errlen)
{
	double *ms = xcalloc((size_t)n + 1, sizeof *ms);
	int rc = 0;
	if (!cold)
		rc = call(v, s, "GET", path, 200, NULL, NULL, err, errlen); /* fill the cache */
	for (int i = 0; i < n && rc == 0; i++) {
		if (cold)
			rc = call(v, s, "DELETE", "/api/v1/cache", 200, NULL, NULL, err, errlen);
		if (rc == 0)
			rc = call(v, s, "GET", path, 200, NULL, &ms[i], err, errlen);
	}
	if (rc == 0) {
		*a = pct(ms, (size_t)n, 0.5);
		*b = pct(ms, (size_t)n, cold ? 0.95 : 0.99);
	}
	free(ms);
	return rc;
}

static int latency_scenario(const validate_http *v, targets_t *t, struct side *main, struct side *naive,
			    const char *name, const char *path, bool cold, char *err, size_t errlen)
{
	say(v, "validate: %s\n", name);
	double a, b, na = NAN, nb = NAN;
	int n = v->repeats;
	if (sample(v, main, path, cold, n, &a, &b, err, errlen) != 0)
		return -1;
	if (naive && sample(v, naive, path, cold, n < NAIVE_REPEATS_MAX ? n : NAIVE_REPEATS_MAX, &na, &nb, err,
			    errlen) != 0)
		return -1;
	targets_record(t, name, "p50_ms", a, na, "ms");
	targets_record(t, name, cold ? "p95_ms" : "p99_ms", b, nb, "ms");
	targets_note(t, name, "%d requests of %s%s", n, path, cold ? ", cache cleared before each" : ", warm");
	return 0;
}

/* Appends s percent-encoded (a cursor is opaque text). */
static void put_escaped(buf_t *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~", c))
			buf_putc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

/* Walks the payments list page by page; page latencies into ms[]. */
static int walk(const validate_http *v, struct side *s, int max_pages, double *ms, int *pages, char *err,
		size_t errlen)
{
	buf_t path = BUF_INIT, body = BUF_INIT;
	char *cursor = NULL;
	int rc = 0;
	*pages = 0;
	while (*pages < max_pages) {
		buf_reset(&path);
		buf_puts(&path, "/api/v1/payments?limit=100");
		if (cursor) {
			buf_puts(&path, "&cursor=");
			put_escaped(&path, cursor);
		}
		if ((rc = call(v, s, "GET", path.p, 200, &body, &ms[*pages], err, errlen)) != 0)
			break;
		(*pages)++;
		json_t *j = json_loadb(body.p, body.len, 0, NULL);
		json_t *next = json_object_get(json_object_get(j, "data"), "next_cursor");
		free(cursor);
		cursor = json_is_string(next) ? xstrdup(json_string_value(next)) : NULL;
		json_decref(j);
		if (!cursor)
			break;
	}
	free(cursor);
	buf_free(&path);
	buf_free(&body);
	return rc;
}

static int pagination(const validate_http *v, targets_t *t, struct side *main, struct side *naive, char *err,
		      size_t errlen)
{
	say(v, "validate: %s\n", "deep_pagination");
	int maxp = v->max_pages > 0 ? v->max_pages : 200;
	double *ms = xcalloc((size_t)maxp + 1, sizeof *ms);
	double first = NAN, deep = NAN, nfirst = NAN, ndeep = NAN;
	int pages = 0, npages = 0;
	int rc = walk(v, main, maxp, ms, &pages, err, errlen);
	if (rc == 0 && pages) {
		/* deep first: pct sorts in place */
		int half = pages / 2;
		deep = pct(ms + half, (size_t)(pages - half), 0.5);
		first = pct(ms, (size_t)(pages < 5 ? pages : 5), 0.5);
	}
	if (rc == 0 && naive) {
		/* The same walk: lists read base tables in both modes. */
		rc = walk(v, naive, maxp, ms, &npages, err, errlen);
		if (rc == 0 && npages) {
			int half = npages / 2;
			ndeep = pct(ms + half, (size_t)(npages - half), 0.5);
			nfirst = pct(ms, (size_t)(npages < 5 ? npages : 5), 0.5);
		}
	}
	free(ms);
	if (rc != 0)
		return -1;
	targets_record(t, "deep_pagination", "first_p50_ms", first, nfirst, "ms");
	targets_record(t, "deep_pagination", "deep_p50_ms", deep, ndeep, "ms");
	targets_record(t, "deep_pagination", "pages", pages, NAN, "pages of 100");
	targets_note(t, "deep_pagination", "payments by date, 100 per page, %d pages (to row %d); deep = the second half",
		     pages, pages * 100);
	return 0;
}

static int concurrent(const validate_http *v, targets_t *t, struct side *main, struct side *naive, char *err,
		      size_t errlen)
{
	say(v, "validate: %s\n", "concurrent");
	char p1[160], p2[160], p3[160];
	snprintf(p1, sizeof p1, "/api/v1/overview?from=%s&to=%s", v->from, v->to);
	snprintf(p2, sizeof p2, "/api/v1/cashflow?from=%s&to=%s&interval=month", v->from, v->to);
	snprintf(p3, sizeof p3, "/api/v1/aging?as_of=%s", v->to);
	const char *const paths[] = {p1, p2, p3};
	for (size_t i = 0; i < 3; i++)
		if (call(v, main, "GET", paths[i], 200, NULL, NULL, err, errlen) != 0)
			return -1;
	loadgen_opts o = {.host = v->host,
			  .port = main->port,
			  .paths = paths,
			  .npaths = 3,
			  .token = v->token,
			  .connections = v->clients > 0 ? v->clients : 32,
			  .seconds = v->seconds > 0 ? v->seconds : 10};
	loadgen_result r, nr = {0};
	if (loadgen_run(&o, &r, err, errlen) != 0)
		return -1;
	nr.rps = nr.p50_ms = nr.p99_ms = NAN;
	if (naive) {
		o.port = naive->port;
		o.seconds = o.seconds / 2 > 1 ? o.seconds / 2 : 1;
		if (loadgen_run(&o, &nr, err, errlen) != 0)
			return -1;
	}
	targets_record(t, "concurrent", "rps", r.rps, nr.rps, "req/s");
	targets_record(t, "concurrent", "p50_ms", r.p50_ms, nr.p50_ms, "ms");
	targets_record(t, "concurrent", "p99_ms", r.p99_ms, nr.p99_ms, "ms");
	targets_record(t, "concurrent", "errors", (double)(r.failed + r.connect_errors),
		       naive ? (double)(nr.failed + nr.connect_errors) : NAN, "");
	targets_note(t, "concurrent", "%d keep-alive clients for %.0f s over overview, monthly cash flow and aging "
				      "(warm); %llu requests",
		     o.connections, v->seconds > 0 ? v->seconds : 10, (unsigned long long)r.requests);
	return 0;
}

int validate_http_run(const validate_http *v_in, targets_t *t, char *err, size_t errlen)
{
	validate_http v = *v_in;
	if (!v.host)
		v.host = "127.0.0.1";
	if (v.repeats <= 0)
		v.repeats = 20;
	struct side main = {NULL, v.port, false}, naive = {NULL, v.naive_port, true};
	int rc = -1;
	main.conn = loadgen_connect(v.host, v.port, err, errlen);
	if (!main.conn)
		return -1;
	if (v.naive_port && !(naive.conn = loadgen_connect(v.host, v.naive_port, err, errlen)))
		goto out;
	struct side *nv = v.naive_port ? &naive : NULL;
	char overview[160], cashflow[160];
	snprintf(overview, sizeof overview, "/api/v1/overview?from=%s&to=%s", v.from, v.to);
	snprintf(cashflow, sizeof cashflow, "/api/v1/cashflow?from=%s&to=%s&interval=day", v.from, v.to);
	if (latency_scenario(&v, t, &main, nv, "overview_cold", overview, true, err, errlen) != 0 ||
	    latency_scenario(&v, t, &main, nv, "overview_warm", overview, false, err, errlen) != 0 ||
	    latency_scenario(&v, t, &main, nv, "cashflow_daily", cashflow, true, err, errlen) != 0 ||
	    pagination(&v, t, &main, nv, err, errlen) != 0 || concurrent(&v, t, &main, nv, err, errlen) != 0)
		goto out;
	rc = 0;
out:
	loadgen_close(main.conn);
	loadgen_close(naive.conn);
	return rc;
}
