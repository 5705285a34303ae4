#include "core/compress.h"

#include <zlib.h>
#include <zstd.h>

bool compress_gzip(const void *p, size_t n, int level, buf_t *out)
{
	buf_reset(out);
	z_stream z = {0};
	/* windowBits 15 + 16: a gzip header and trailer, not raw zlib */
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	uLong bound = deflateBound(&z, (uLong)n);
	buf_reserve(out, bound);
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out->p;
	z.avail_out = (uInt)bound;
	bool ok = deflate(&z, Z_FINISH) == Z_STREAM_END;
	out->len = ok ? z.total_out : 0;
	deflateEnd(&z);
	return ok;
}

bool compress_zstd(const void *p, size_t n, int level, buf_t *out)
{
	buf_reset(out);
	size_t bound = ZSTD_compressBound(n);
	buf_reserve(out, bound);
	size_t got = ZSTD_compress(out->p, bound, p ? p : "", n, level);
	if (ZSTD_isError(got))
		return false;
	out->len = got;
	return true;
}
