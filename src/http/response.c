/* response: what the server does with a handler's answer: ETag and 304,
 * compression, the headers, the access log and latency histograms, and
 * handing the bytes to h2o. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <xxhash.h>

#include "core/clock.h"
#include "core/compress.h"
#include "http/server_int.h"
#include "core/date.h"

#define COMPRESS_MIN 1024

/* Compresses src into dst; false if it does not pay off or fails. */
static bool gzip_body(const buf_t *src, buf_t *dst)
{
	return compress_gzip(src->p, src->len, 5, dst) && dst->len < src->len;
}

static bool zstd_body(const buf_t *src, buf_t *dst)
{
	return compress_zstd(src->p, src->len, 3, dst) && dst->len < src->len;
}

/* After the handler: ETag, 304, compression. Runs where the handler ran. */
void srv_finish_response(http_req_t *r, const char **encoding)
{
	*encoding = NULL;
	if (r->status == 200 && r->method != HTTP_POST) {
		if (!r->etag[0]) {
			uint64_t h = XXH3_64bits(r->out.p, r->out.len);
			char tag[40];
			snprintf(tag, sizeof tag, "\"%016llx\"", (unsigned long long)h);
			http_not_modified(r, tag);
		} else if (r->if_none_match && strstr(r->if_none_match, r->etag)) {
			r->status = 304;
			buf_reset(&r->out);
		}
	}
	if (r->encoding_out) {
		*encoding = r->status == 304 ? NULL : r->encoding_out;
		return;
	}
	if (r->status == 304 || r->out.len < COMPRESS_MIN)
		return;
	buf_t z = BUF_INIT;
	if (r->accept_zstd && zstd_body(&r->out, &z))
		*encoding = "zstd";
	else if (r->accept_gzip && gzip_body(&r->out, &z))
		*encoding = "gzip";
	if (*encoding) {
		buf_free(&r->out);
		r->out = z;
	} else {
		buf_free(&z);
	}
}

/* Per (route, status) latency histograms, created on first use and then
 * found in a small table without touching the registry lock. */
#define STATUS_SLOTS 16
static const int status_slot_codes[STATUS_SLOTS] = {200, 201, 202, 204, 304, 400, 401, 403,
                                                    404, 405, 413, 415, 422, 429, 500, 503};

static void observe(http_server_t *srv, http_req_t *r)
{
	int slot = STATUS_SLOTS - 1;
	for (int i = 0; i < STATUS_SLOTS; i++)
		if (status_slot_codes[i] == r->status)
			slot = i;
	size_t ri = r->route ? (size_t)(r->route - srv->routes) : srv->nroutes;
	metrics_histogram_t **cell = &srv->hist[ri * STATUS_SLOTS + (size_t)slot];
	metrics_histogram_t *h = atomic_load((_Atomic(metrics_histogram_t *) *)cell);
	if (!h) {
		buf_t labels = BUF_INIT;
		const char *name = r->route ? r->route->name : "unmatched";
		char code[8];
		snprintf(code, sizeof code, "%d", status_slot_codes[slot]);
		metrics_label_append(&labels, "route", name, strlen(name));
		metrics_label_append(&labels, "code", code, strlen(code));
		h = metrics_histogram("brisk_http_request_duration_seconds", "HTTP request latency by route and status",
		                      labels.p);
		buf_free(&labels);
		atomic_store((_Atomic(metrics_histogram_t *) *)cell, h);
	}
	metrics_histogram_observe(h, clock_now_s() - r->started);
}

void srv_access_log(http_server_t *srv, h2o_req_t *req, http_req_t *r)
{
	observe(srv, r);
	if (!srv->access)
		return;
	char ts[DATE_UTC_ISO_BUFSZ];
	date_utc_iso(time(NULL), ts);
	fprintf(srv->access, "%s %s %.*s %d %zu %.2fms %s\n", ts, r->request_id, (int)req->method.len, req->method.base,
	        r->status, r->out.len, (clock_now_s() - r->started) * 1000, r->path ? r->path : "-");
}

void srv_send_response(http_server_t *srv, h2o_req_t *req, http_req_t *r, const char *encoding)
{
	req->res.status = r->status;
	req->res.reason = r->status == 304 ? "Not Modified" : reply_status_title(r->status);
	if (r->status < 400)
		req->res.reason = r->status == 200 ? "OK" : r->status == 201 ? "Created" : r->status == 202 ? "Accepted"
		                : r->status == 204 ? "No Content" : r->status == 304 ? "Not Modified" : "OK";
	h2o_mem_pool_t *pool = &req->pool;
	if (r->content_type_out && r->status != 304)
		h2o_add_header(pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, r->content_type_out,
		               strlen(r->content_type_out));
	if (r->etag[0])
		h2o_add_header(pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, h2o_strdup(pool, r->etag, SIZE_MAX).base,
		               strlen(r->etag));
	if (encoding)
		h2o_add_header(pool, &req->res.headers, H2O_TOKEN_CONTENT_ENCODING, NULL, encoding, strlen(encoding));
	h2o_add_header(pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Accept-Encoding"));
	h2o_add_header_by_str(pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL,
	                      h2o_strdup(pool, r->request_id, SIZE_MAX).base, strlen(r->request_id));
	for (int i = 0; i < r->nxh; i++) {
		/* HTTP/2 forbids upper-case field names (the stream is reset with
		 * PROTOCOL_ERROR); HTTP/1 is case-blind, so lower-case for both. */
		h2o_iovec_t name = h2o_strdup(pool, r->xh_name[i], SIZE_MAX);
		h2o_strtolower(name.base, name.len);
		h2o_add_header_by_str(pool, &req->res.headers, name.base, name.len, 1, NULL,
		                      h2o_strdup(pool, r->xh_value[i], SIZE_MAX).base, strlen(r->xh_value[i]));
	}
	/* API answers revalidate every time (ETag makes that cheap) unless the
	 * handler chose otherwise (hashed static assets). */
	bool has_cc = false;
	for (int i = 0; i < r->nxh; i++)
		if (!strcasecmp(r->xh_name[i], "Cache-Control"))
			has_cc = true;
	if (!has_cc)
		h2o_add_header(pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
	limits_headers(srv, req, r);
	srv_access_log(srv, req, r);
	if (r->status == 304 || r->status == 204) {
		h2o_send_inline(req, "", 0);
		conn_after_final_send(req);
		return;
	}
	/* One copy into the request pool, with a Content-Length (h2o_send_inline
	 * would copy again and fall back to chunked encoding). */
	static h2o_generator_t generator = {NULL, NULL};
	h2o_iovec_t body = h2o_strdup(pool, r->out.p ? r->out.p : "", r->out.len);
	req->res.content_length = body.len;
	h2o_start_response(req, &generator);
	if (r->method == HTTP_HEAD)
		h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
	else
		h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
	conn_after_final_send(req);
}
