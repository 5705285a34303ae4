#include "cache/record.h"

#include <string.h>
#include <zstd.h>

#include "cache/rcache.h"

/* Layout: "BRC1" | u32 keylen | key | then for each blob except the
 * identity body: u32 len | bytes. The body is rebuilt from the zstd blob. */

static void put_u32(buf_t *b, uint32_t v)
{
	buf_put(b, &v, 4);
}

void record_encode(const lru_value_t *v, const void *key, size_t keylen, buf_t *out)
{
	buf_put(out, "BRC1", 4);
	put_u32(out, (uint32_t)keylen);
	buf_put(out, key, keylen);
	put_u32(out, (uint32_t)v->blob[RC_BODY].len);
	for (unsigned i = RC_GZIP; i < RC__BLOBS; i++) {
		put_u32(out, (uint32_t)v->blob[i].len);
		buf_put(out, v->blob[i].p, v->blob[i].len);
	}
}

static bool get_u32(const char **p, const char *end, uint32_t *v)
{
	if (end - *p < 4)
		return false;
	memcpy(v, *p, 4);
	*p += 4;
	return true;
}

bool record_decode(const char *p, size_t n, const void *key, size_t keylen, lru_value_t *v, buf_t *scratch)
{
	const char *end = p + n;
	uint32_t kl, bodylen;
	if (n < 8 || memcmp(p, "BRC1", 4) != 0)
		return false;
	p += 4;
	if (!get_u32(&p, end, &kl) || kl != keylen || (size_t)(end - p) < kl || memcmp(p, key, kl) != 0)
		return false;
	p += kl;
	if (!get_u32(&p, end, &bodylen))
		return false;
	memset(v, 0, sizeof *v);
	v->nblobs = RC__BLOBS;
	for (unsigned i = RC_GZIP; i < RC__BLOBS; i++) {
		uint32_t l;
		if (!get_u32(&p, end, &l) || (size_t)(end - p) < l)
			return false;
		v->blob[i] = (slice_t){p, l};
		p += l;
	}
	if (p != end)
		return false;
	buf_reset(scratch);
	if (v->blob[RC_ZSTD].len) {
		buf_reserve(scratch, bodylen);
		size_t got = ZSTD_decompress(scratch->p, bodylen, v->blob[RC_ZSTD].p, v->blob[RC_ZSTD].len);
		if (ZSTD_isError(got) || got != bodylen)
			return false;
		scratch->len = got;
	} else if (bodylen) {
		return false; /* every record carries its body compressed */
	}
	v->blob[RC_BODY] = (slice_t){scratch->p ? scratch->p : "", bodylen};
	return true;
}
