/* sampler: periodic samples of what the monitor judges over time (cache
 * counters, data versions per table, store file sizes, process CPU and
 * memory), kept for a bounded history so that rates over sliding windows
 * are "newest minus the newest sample at least that old".
 * Thread-safe: one thread pushes, any thread reads. */
#ifndef BRISK_SAMPLER_H
#define BRISK_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "cache/rcache.h"
#include "store/store.h"

/* The response cache's counters (zero for tiers that are off). */
typedef struct {
	bool l1_enabled, l2_enabled, l2_up, l3_enabled;
	bool l2_redis; /* L2 is Redis (not the store's shared tier) */
	uint64_t l1_hits, l1_misses, l1_evictions, l1_expirations, l1_bytes, l1_entries;
	int64_t l1_max_bytes;
	uint64_t l2_hits, l2_misses, l3_hits, l3_misses, computed;
} sampler_cache;

typedef struct {
	double t;                  /* monotonic seconds */
	sampler_cache cache;
	double cpu_s, rss;         /* -1 when unknown */
	int64_t db_bytes, wal_bytes;
	uint64_t ver[TBL__COUNT];  /* data versions summed over organisations */
} sampler_sample;

typedef struct sampler sampler_t;

/* A sampler of store s and cache c (c may be NULL) keeping about
 * history_s seconds of samples taken every interval_s. It holds one sample
 * taken now. Never NULL. */
sampler_t *sampler_new(store_t *s, rcache_t *c, double history_s, double interval_s);
void sampler_free(sampler_t *sp);

/* Takes a sample now into out (not kept). */
void sampler_take(sampler_t *sp, sampler_sample *out);
/* Takes a sample now and keeps it (dropping the oldest beyond history). */
void sampler_push(sampler_t *sp);

/* Fills now with the newest kept sample, or with live, a sample taken
 * now; and old with the newest kept sample at least window seconds older
 * than now (the oldest one while the history is shorter). False when old
 * is not older than now (nothing to compare yet). */
bool sampler_window(sampler_t *sp, double window, sampler_sample *old, sampler_sample *now, bool live);

/* Reads c's counters (rcache_stats_json, parsed). c may be NULL. */
void sampler_cache_read(rcache_t *c, sampler_cache *out);

#endif
