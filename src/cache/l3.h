/* l3: the disk tier: one file per entry (a record, see record.h) under a
 * directory, named by the key hash; bounded by bytes (oldest files go
 * first). Entries survive restarts: keys embed data versions that persist
 * in the store, so a stale file can never match a newer key. */
#ifndef BRISK_L3_H
#define BRISK_L3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct l3 l3_t;

/* Opens (creating) dir; counts what is there. NULL with err on failure. */
l3_t *l3_new(const char *dir, int64_t max_bytes, uint64_t ttl_ms, char *err, size_t errlen);
void l3_free(l3_t *d);
/* Reads the file of hash into out; true on a hit (and not expired). */
bool l3_get(l3_t *d, uint64_t hash, buf_t *out);
/* Writes atomically (temp file + rename), then trims to the budget. */
void l3_put(l3_t *d, uint64_t hash, const char *p, size_t n);

typedef struct {
	uint64_t hits, misses, writes, evictions, errors;
	int64_t bytes, entries;
} l3_stats_t;
void l3_stats(l3_t *d, l3_stats_t *out);

#endif
