/* record: one cached response as bytes, the format of the L2 (Redis) and
 * L3 (disk) tiers. The identity body travels zstd-compressed (it is the
 * zstd variant), so a record costs what the compressed response costs. */
#ifndef BRISK_RECORD_H
#define BRISK_RECORD_H

#include <stdbool.h>

#include "cache/lru.h"
#include "core/buf.h"

/* Serialises the blobs of a cached response (see rcache.h RC_*) plus the
 * full key (to rule out hash collisions) into out. */
void record_encode(const lru_value_t *v, const void *key, size_t keylen, buf_t *out);

/* Decodes a record whose key must equal key. Fills v with slices into
 * scratch (the identity body is decompressed there). Returns false on any
 * mismatch or corruption (the caller treats it as a miss). */
bool record_decode(const char *p, size_t n, const void *key, size_t keylen, lru_value_t *v, buf_t *scratch);

#endif
