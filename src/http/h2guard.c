#include "http/h2guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <h2o/cache_digests.h>
#include <h2o/http2.h>

#include "core/buf.h"
#include "core/mem.h"

/* h2o's HPACK decoder is exported but declared in http2_internal.h, which
 * needs a header Debian does not ship (khash.h): its table and prototypes
 * as h2o 2.2 defines them (the ring of entries is only ever touched by
 * h2o's own functions). */
struct st_h2o_hpack_header_table_t {
	void *entries;
	size_t num_entries, entry_capacity, entry_start_index;
	size_t hpack_size, hpack_capacity, hpack_max_capacity;
};
int h2o_hpack_parse_headers(h2o_req_t *req, struct st_h2o_hpack_header_table_t *header_table, const uint8_t *src,
                            size_t len, int *pseudo_header_exists_map, size_t *content_length,
                            h2o_cache_digests_t **digests, const char **err_desc);
void h2o_hpack_dispose_header_table(struct st_h2o_hpack_header_table_t *header_table);

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define FRAME_HEADER 9
enum { T_DATA = 0, T_HEADERS = 1, T_CONTINUATION = 9 };
enum { F_END_STREAM = 1, F_END_HEADERS = 4, F_PADDED = 8, F_PRIORITY = 0x20 };
#define NREFUSED 16

struct h2guard {
	struct st_h2o_hpack_header_table_t table;
	bool broken;         /* decoding failed: no more checks */
	bool preface_done;
	/* a header block spread over HEADERS + CONTINUATION frames */
	buf_t block;
	uint32_t block_stream;
	bool block_body;     /* its HEADERS frame did not end the stream */
	bool block_open;
	char *block_flags;   /* that frame's flags byte, NULL once out of reach */
	struct {
		uint32_t id;
		uint64_t key; /* method, path and authorization, as the handler sees them */
		int status;   /* -1: free or answered */
		int grace;    /* scans that still drop its DATA after the answer */
		char why[200];
	} refused[NREFUSED];
	unsigned nrefused;
	size_t skip; /* bytes at the start of the next scan already judged */
	size_t tail; /* bytes at the end of this scan not judged (incomplete) */
};

static uint64_t key_of(const char *m, size_t ml, const char *p, size_t pl, const char *a, size_t al)
{
	XXH3_state_t *st = XXH3_createState();
	XXH3_64bits_reset(st);
	XXH3_64bits_update(st, m, ml);
	XXH3_64bits_update(st, "\n", 1);
	XXH3_64bits_update(st, p, pl);
	XXH3_64bits_update(st, "\n", 1);
	if (a)
		XXH3_64bits_update(st, a, al);
	uint64_t k = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return k;
}

h2guard_t *h2guard_new(void)
{
	h2guard_t *g = xcalloc(1, sizeof *g);
	for (int i = 0; i < NREFUSED; i++)
		g->refused[i].status = -1;
	g->table.hpack_capacity = g->table.hpack_max_capacity = H2O_HTTP2_SETTINGS_HOST.header_table_size;
	return g;
}

void h2guard_free(h2guard_t *g)
{
	if (!g)
		return;
	h2o_hpack_dispose_header_table(&g->table);
	buf_free(&g->block);
	free(g);
}

static uint32_t be24(const unsigned char *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t stream_of(const unsigned char *p)
{
	return ((uint32_t)p[5] << 24 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 8 | p[8]) & 0x7fffffffu;
}

/* DATA of a refused stream is dropped until its answer has had time to
 * leave (a few reads after it was made: h2o writes it on the next turn of
 * the loop); later DATA reaches h2o, which resets the stream, and the
 * client stops. Dropping it for good would stall the connection's flow
 * control window, which only DATA that h2o consumes replenishes. */
static bool drops_data(const h2guard_t *g, uint32_t id)
{
	for (int i = 0; i < NREFUSED; i++)
		if (g->refused[i].id == id && (g->refused[i].status >= 0 || g->refused[i].grace > 0))
			return true;
	return false;
}

/* Decodes the gathered block and judges the request it opens. */
static void end_block(h2guard_t *g, h2guard_judge_fn judge, void *ud)
{
	g->block_open = false;
	h2o_req_t *req = xcalloc(1, sizeof *req);
	h2o_mem_init_pool(&req->pool);
	int exists = 0;
	size_t cl = SIZE_MAX;
	h2o_cache_digests_t *digests = NULL;
	const char *err = NULL;
	int rc = h2o_hpack_parse_headers(req, &g->table, (const uint8_t *)g->block.p, g->block.len, &exists, &cl, &digests,
	                                 &err);
	if (digests)
		h2o_cache_digests_destroy(digests);
	/* a soft error (a bad header value) is h2o's to answer; a hard one
	 * ends the connection, and the table may no longer match h2o's */
	if (rc != 0 && rc != H2O_HTTP2_ERROR_INVALID_HEADER_CHAR)
		g->broken = true;
	if (!g->broken && g->block_body && g->block_flags && req->input.method.len) {
		ssize_t ai = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
		h2o_iovec_t auth = ai >= 0 ? req->headers.entries[ai].value : h2o_iovec_init(NULL, 0);
		char why[200] = "";
		bool cookie = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, -1) >= 0;
		int status = judge(ud, req->input.method.base, req->input.method.len, req->input.path.base,
		                   req->input.path.len, auth.base, auth.len, cookie, cl, why, sizeof why);
		if (status >= 0) {
			/* h2o now takes the request as complete, without a body;
			 * status 0: the handler's own answer (404, 405) is right */
			*g->block_flags |= F_END_STREAM;
			unsigned i = g->nrefused++ % NREFUSED;
			g->refused[i].id = g->block_stream;
			g->refused[i].key = key_of(req->input.method.base, req->input.method.len, req->input.path.base,
			                           req->input.path.len, auth.base, auth.len);
			g->refused[i].status = status;
			g->refused[i].grace = 0;
			snprintf(g->refused[i].why, sizeof g->refused[i].why, "%s", why);
		}
	}
	h2o_mem_clear_pool(&req->pool);
	free(req);
	buf_reset(&g->block);
}

void h2guard_scan(h2guard_t *g, char *buf, size_t *len, bool skip_preface, h2guard_judge_fn judge, void *ud)
{
	size_t at = g->skip < *len ? g->skip : *len, n = *len;
	g->skip = 0;
	g->block_flags = NULL; /* frames of earlier reads are h2o's now */
	if (skip_preface && !g->preface_done) {
		if (n < sizeof PREFACE - 1)
			return;
		if (!memcmp(buf, PREFACE, sizeof PREFACE - 1))
			at = sizeof PREFACE - 1;
		g->preface_done = true;
	}
	for (int i = 0; i < NREFUSED; i++)
		if (g->refused[i].status < 0 && g->refused[i].grace > 0)
			g->refused[i].grace--;
	while (!g->broken && n - at >= FRAME_HEADER) {
		unsigned char *f = (unsigned char *)buf + at;
		size_t flen = be24(f);
		if (n - at < FRAME_HEADER + flen)
			break; /* incomplete: judged when it is whole */
		unsigned type = f[3], flags = f[4];
		uint32_t id = stream_of(f);
		const unsigned char *pay = f + FRAME_HEADER;
		size_t plen = flen;
		if (type == T_HEADERS || type == T_CONTINUATION) {
			if (type == T_HEADERS) {
				size_t pad = 0, skip = 0;
				if (flags & F_PADDED) {
					if (plen < 1) {
						g->broken = true;
						break;
					}
					pad = pay[0];
					skip = 1;
				}
				if (flags & F_PRIORITY)
					skip += 5;
				if (skip + pad > plen) {
					g->broken = true;
					break;
				}
				buf_reset(&g->block);
				g->block_open = true;
				g->block_stream = id;
				g->block_body = !(flags & F_END_STREAM);
				g->block_flags = (char *)&f[4];
				pay += skip;
				plen -= skip + pad;
			} else if (!g->block_open || id != g->block_stream) {
				g->broken = true; /* h2o refuses this too */
				break;
			}
			buf_put(&g->block, (const char *)pay, plen);
			if (flags & F_END_HEADERS)
				end_block(g, judge, ud);
		} else if (type == T_DATA && drops_data(g, id)) {
			memmove(f, f + FRAME_HEADER + flen, n - at - FRAME_HEADER - flen);
			n -= FRAME_HEADER + flen;
			continue;
		}
		at += FRAME_HEADER + flen;
	}
	*len = n;
	g->tail = g->broken ? 0 : n - at;
}

void h2guard_after(h2guard_t *g, size_t left)
{
	/* h2o consumes whole frames: what it left beyond the unjudged tail
	 * was judged already and must not be decoded twice */
	g->skip = left > g->tail ? left - g->tail : 0;
}

bool h2guard_refused(h2guard_t *g, const char *method, size_t method_len, const char *path, size_t path_len,
                     const char *auth, size_t auth_len, int *status, char *why, size_t whylen)
{
	uint64_t k = key_of(method, method_len, path, path_len, auth, auth_len);
	for (int i = 0; i < NREFUSED; i++) {
		if (g->refused[i].status < 0 || g->refused[i].key != k)
			continue;
		*status = g->refused[i].status;
		snprintf(why, whylen, "%s", g->refused[i].why);
		g->refused[i].status = -1;
		g->refused[i].grace = 3;
		return true;
	}
	return false;
}
