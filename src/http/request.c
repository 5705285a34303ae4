/* request: what a handler sees of an h2o request, copied out of it (path,
 * query, body, the headers that matter) with the server's limits, and the
 * synthetic requests the cache warmer computes views with. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/mem.h"
#include "http/server_int.h"

/* Below h2o's own parser limit (100, answered with a plain 400), so a
 * request with many headers gets a proper 431 from us. */
#define MAX_HEADERS 64

void srv_req_free(http_req_t *r)
{
	free(r->path);
	free(r->raw_path);
	free(r->param_mem);
	free(r->raw_query);
	query_free(&r->query);
	free(r->body);
	free(r->content_type);
	free(r->bearer);
	free(r->cookie);
	free(r->csrf);
	free(r->if_none_match);
	buf_free(&r->out);
	for (int i = 0; i < r->nxh; i++)
		free(r->xh_value[i]);
}

static char *hdr_dup(h2o_req_t *req, const h2o_token_t *tok)
{
	ssize_t i = h2o_find_header(&req->headers, tok, -1);
	if (i < 0)
		return NULL;
	h2o_iovec_t v = req->headers.entries[i].value;
	return xstrndup(v.base, v.len);
}

static void make_request_id(http_req_t *r, h2o_req_t *req)
{
	ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
	if (i >= 0) {
		h2o_iovec_t v = req->headers.entries[i].value;
		/* A caller's id is echoed only if it is short and plain. */
		bool ok = v.len > 0 && v.len < sizeof r->request_id;
		for (size_t k = 0; ok && k < v.len; k++) {
			char c = v.base[k];
			ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
		}
		if (ok) {
			memcpy(r->request_id, v.base, v.len);
			r->request_id[v.len] = '\0';
			return;
		}
	}
	static atomic_uint_fast64_t seq;
	/* set once by whichever loop thread comes first (same value anyway) */
	static atomic_uint_fast64_t boot_at;
	uint64_t boot = atomic_load_explicit(&boot_at, memory_order_relaxed);
	if (!boot) {
		boot = (uint64_t)time(NULL);
		atomic_store_explicit(&boot_at, boot, memory_order_relaxed);
	}
	snprintf(r->request_id, sizeof r->request_id, "%08llx-%06llx", (unsigned long long)(boot & 0xffffffff),
	         (unsigned long long)atomic_fetch_add(&seq, 1));
}

static http_method parse_method(h2o_iovec_t m)
{
	if (h2o_memis(m.base, m.len, H2O_STRLIT("GET")))
		return HTTP_GET;
	if (h2o_memis(m.base, m.len, H2O_STRLIT("HEAD")))
		return HTTP_HEAD;
	if (h2o_memis(m.base, m.len, H2O_STRLIT("POST")))
		return HTTP_POST;
	if (h2o_memis(m.base, m.len, H2O_STRLIT("PUT")))
		return HTTP_PUT;
	if (h2o_memis(m.base, m.len, H2O_STRLIT("DELETE")))
		return HTTP_DELETE;
	return HTTP_OTHER;
}

/* True when an Accept-Encoding value lists coding with a q-value above 0. */
static bool accepts(const char *ae, const char *coding)
{
	size_t cl = strlen(coding);
	const char *p = ae;
	while (*p) {
		p += strspn(p, " ,");
		size_t tl = strcspn(p, " ;,");
		bool match = tl == cl && !strncasecmp(p, coding, cl);
		p += tl;
		double q = 1;
		p += strspn(p, " ");
		while (*p == ';') {
			p++;
			p += strspn(p, " ");
			if ((*p == 'q' || *p == 'Q') && p[1] == '=')
				q = strtod(p + 2, NULL);
			p += strcspn(p, ";,");
		}
		if (match)
			return q > 0;
		p += strcspn(p, ",");
	}
	return false;
}

/* Copies what handlers need out of h2o. Returns false with r set to a
 * problem response when the request breaks a limit. */
bool srv_req_copy(h2o_req_t *req, http_req_t *r)
{
	memset(r, 0, sizeof *r);
	r->started = clock_now_s();
	make_request_id(r, req);
	r->method = parse_method(req->method);
	size_t qa = req->query_at;
	size_t plen = qa != SIZE_MAX ? qa : req->path.len;
	char *path = xmalloc(plen + 1);
	long dl = query_decode(req->path.base, plen, path, false);
	if (dl < 0) {
		path[0] = '\0';
		r->path = path;
		http_problem(r, 400, "malformed %%-escape in the path");
		return false;
	}
	path[dl] = '\0';
	r->path = path;
	r->raw_path = xstrndup(req->path.base, plen);
	if (req->path.len > MAX_URL) {
		http_problem(r, 414, "the URL is %zu bytes long; at most %d are accepted", req->path.len, MAX_URL);
		return false;
	}
	if (req->headers.size > MAX_HEADERS) {
		http_problem(r, 431, "%zu request headers; at most %d are accepted", req->headers.size, MAX_HEADERS);
		return false;
	}
	if (qa != SIZE_MAX) {
		r->raw_query = xstrndup(req->path.base + qa + 1, req->path.len - qa - 1);
		char why[160];
		if (!query_parse(&r->query, r->raw_query, strlen(r->raw_query), why, sizeof why)) {
			http_problem(r, 400, "%s", why);
			return false;
		}
	}
	if (req->entity.base) {
		r->body = xstrndup(req->entity.base, req->entity.len);
		r->body_len = req->entity.len;
	}
	r->content_type = hdr_dup(req, H2O_TOKEN_CONTENT_TYPE);
	r->if_none_match = hdr_dup(req, H2O_TOKEN_IF_NONE_MATCH);
	char *auth = hdr_dup(req, H2O_TOKEN_AUTHORIZATION);
	if (auth) {
		if (!strncasecmp(auth, "Bearer ", 7)) {
			char *t = auth + 7;
			while (*t == ' ')
				t++;
			r->bearer = xstrdup(t);
		}
		free(auth);
	}
	r->cookie = hdr_dup(req, H2O_TOKEN_COOKIE);
	ssize_t xi = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-csrf-token"), -1);
	if (xi >= 0)
		r->csrf = xstrndup(req->headers.entries[xi].value.base, req->headers.entries[xi].value.len);
	r->tls = req->scheme == &H2O_URL_SCHEME_HTTPS;
	char *ae = hdr_dup(req, H2O_TOKEN_ACCEPT_ENCODING);
	if (ae) {
		r->accept_gzip = accepts(ae, "gzip");
		r->accept_zstd = accepts(ae, "zstd");
		free(ae);
	}
	return true;
}

void http_req_synthetic(http_req_t *r, const http_route *route, int64_t org, const char *param, const char *query)
{
	memset(r, 0, sizeof *r);
	r->started = clock_now_s();
	r->method = HTTP_GET;
	r->path = xstrdup(route->pattern);
	r->route = route;
	r->org = org;
	r->on_worker = true;
	r->admitted = true; /* the caller's own thread computes it */
	snprintf(r->request_id, sizeof r->request_id, "warm");
	if (param && *param) {
		r->params[0] = slice_cstr(param);
		r->nparams = 1;
	}
	if (query && *query) {
		char why[160];
		r->raw_query = xstrdup(query);
		query_parse(&r->query, r->raw_query, strlen(r->raw_query), why, sizeof why);
	}
}

void http_req_release(http_req_t *r)
{
	srv_req_free(r);
}
