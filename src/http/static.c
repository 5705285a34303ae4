#include "http/static.h"

#include <string.h>

const static_asset *static_find(const char *path)
{
	/* a dozen entries: a scan is as fast as anything cleverer */
	for (size_t i = 0; i < static_nassets; i++)
		if (!strcmp(static_assets[i].path, path))
			return &static_assets[i];
	return NULL;
}

static void send_asset(http_req_t *r, const static_asset *a)
{
	bool gz = a->gz && r->accept_gzip;
	/* The two encodings are two representations: each has its own tag. */
	char tag[64];
	size_t n = strlen(a->etag);
	if (gz && n >= 2 && n + 4 < sizeof tag) {
		memcpy(tag, a->etag, n - 1);
		memcpy(tag + n - 1, ".gz\"", 5);
	} else {
		memcpy(tag, a->etag, n + 1 < sizeof tag ? n + 1 : sizeof tag);
		tag[sizeof tag - 1] = '\0';
	}
	http_add_header(r, "Cache-Control", a->immutable ? "public, max-age=31536000, immutable" : "no-cache");
	http_add_header(r, "X-Content-Type-Options", "nosniff");
	if (!strcmp(a->path, "/")) {
		http_add_header(r, "Content-Security-Policy", static_index_csp);
		http_add_header(r, "Referrer-Policy", "no-referrer");
	}
	if (http_not_modified(r, tag))
		return;
	r->status = 200;
	r->content_type_out = a->content_type;
	if (gz) {
		buf_put(&r->out, (const char *)a->gz, a->gz_len);
		r->encoding_out = "gzip"; /* the server sends it as is */
	} else {
		buf_put(&r->out, (const char *)a->body, a->len);
	}
}

void static_page(http_server_t *srv, http_req_t *r)
{
	const static_asset *a = static_find("/");
	if (!a) {
		http_problem(r, 500, "this binary was built without its web UI");
		return;
	}
	send_asset(r, a);
}

void static_file(http_server_t *srv, http_req_t *r)
{
	const static_asset *a = static_find(r->path);
	if (!a || !strcmp(a->path, "/")) {
		/* An old page asking for a file of an older build lands here. */
		http_problem(r, 404, "no such file: %s (reload the page)", r->path);
		return;
	}
	send_asset(r, a);
}
