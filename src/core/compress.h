/* compress: one-shot gzip and zstd of a buffer (HTTP bodies, cache
 * records). */
#ifndef BRISK_COMPRESS_H
#define BRISK_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Replaces out's content with the gzip (RFC 1952) form of p. Returns false
 * (out empty) if compression failed. */
bool compress_gzip(const void *p, size_t n, int level, buf_t *out);
/* Replaces out's content with the zstd frame of p. False on failure. */
bool compress_zstd(const void *p, size_t n, int level, buf_t *out);

#endif
