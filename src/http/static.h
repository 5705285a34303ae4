/* static: the web UI, served from files built into the binary.
 *
 * scripts/embed_web.py turns web/ (and uPlot from node_modules) into a
 * generated table of static_asset at build time. Every asset but the page
 * has a content-hashed name and is cached by browsers for a year; the page
 * itself ("/") revalidates on every load (its ETag makes that a 304) and
 * names the hashed files. Bodies are stored both plain and gzip-compressed,
 * so a request never compresses anything (r->encoding_out). The OpenAPI
 * document (/api/v1/openapi.json) is one more entry of the table. */
#ifndef BRISK_STATIC_H
#define BRISK_STATIC_H

#include <stdbool.h>
#include <stddef.h>

#include "http/server.h"

typedef struct {
	const char *path;         /* "/" or "/assets/app.3f2a1c9d0e.js" */
	const char *content_type;
	const unsigned char *body;
	size_t len;
	const unsigned char *gz;  /* gzip of body, or NULL when that is not smaller */
	size_t gz_len;
	const char *etag;         /* quoted content hash */
	bool immutable;           /* hashed name: cache for a year */
} static_asset;

/* The generated table (static storage). */
extern const static_asset static_assets[];
extern const size_t static_nassets;
/* Content-Security-Policy of the page: its own origin only, and exactly
 * its inline import map. */
extern const char static_index_csp[];
/* Compressed size of all JS and CSS, for reports and tests. */
extern const size_t static_bundle_gz_bytes;

/* The asset at path (NUL-terminated), or NULL. */
const static_asset *static_find(const char *path);

/* Route handlers. static_page answers "/" and the UI's page paths
 * ("/receivables", ...) with the page; static_file answers
 * "/assets/{file}" with a hashed asset, or 404. Both are cheap enough for
 * the event loop. */
void static_page(http_server_t *srv, http_req_t *r);
void static_file(http_server_t *srv, http_req_t *r);

#endif
