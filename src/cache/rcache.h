/* rcache: the response cache in front of the dashboard views.
 *
 * A key is org + view + normalised parameters + the data versions of the
 * tables the view reads, so a committed write makes every stale entry
 * unreachable at once; TTLs only bound memory. Tiers: L1 in-process LRU
 * of final bytes (identity, gzip, zstd, ETag), L2 Redis shared by all
 * instances (optional), L3 zstd files on disk surviving restarts
 * (optional). Misses are computed once per key (single-flight), across
 * instances too when Redis is there (a short SET NX PX lock), or through
 * a tier the store shares (rcache_shared: PostgreSQL without Redis). */
#ifndef BRISK_RCACHE_H
#define BRISK_RCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/lru.h"
#include "core/buf.h"

typedef struct rcache rcache_t;

/* A shared tier without Redis (the store's: store_shared_*, store_lock_*),
 * used as L2 when no redis_url is given. get returns a malloc'd copy or
 * NULL; lock: 1 taken, 0 another instance holds it, -1 none. */
typedef struct {
	void *ud;
	void *(*get)(void *ud, const void *key, size_t klen, size_t *n);
	void (*put)(void *ud, const void *key, size_t klen, const void *v, size_t n, uint64_t ttl_ms);
	int (*lock)(void *ud, uint64_t hash);
	void (*unlock)(void *ud, uint64_t hash);
} rcache_shared;

typedef struct {
	int64_t memory_bytes;  /* L1 budget; 0 disables caching entirely */
	unsigned shards;       /* L1 shards (default 16) */
	uint64_t ttl_ms;       /* L1/L2/L3 lifetime bound (default 10 min) */
	const char *redis_url; /* redis://host:port[/db] or NULL: no L2 */
	const rcache_shared *shared; /* L2 without Redis, or NULL */
	int redis_timeout_ms;  /* connect and command timeout (default 50) */
	const char *disk_dir;  /* L3 directory or NULL: no L3 */
	int64_t disk_bytes;    /* L3 budget (default 256 MiB) */
} rcache_opts;

/* Blob positions of a cached response. */
/* RC_META holds the computation time in microseconds (uint64, native order). */
enum { RC_BODY, RC_GZIP, RC_ZSTD, RC_ETAG, RC_CTYPE, RC_META, RC__BLOBS };

/* A cache key under construction. The part before the versions also names
 * the "last good copy" used when the store fails. */
typedef struct {
	char bytes[512];
	size_t len;
	size_t stable_len; /* bytes before the versions were appended */
	uint64_t hash, stable_hash;
	int64_t org;
	bool no_lookup; /* versions unknown (store unreadable): compute, or stale */
} rcache_key;

/* Starts a key for (org, view). */
void rcache_key_init(rcache_key *k, int64_t org, const char *view);
/* Appends normalised parameter bytes. */
void rcache_key_add(rcache_key *k, const void *p, size_t n);
/* Appends the data versions (last) and computes the hashes. */
void rcache_key_finish(rcache_key *k, const uint64_t *versions, size_t n);

/* Opens the tiers. A Redis or disk tier that cannot be reached is logged
 * and retried later, never fatal. Returns NULL only on a bad option (err). */
rcache_t *rcache_new(const rcache_opts *o, char *err, size_t errlen);
void rcache_free(rcache_t *c);
bool rcache_enabled(const rcache_t *c);

/* L1 only: safe and cheap on an event loop. Returns a referenced entry
 * (release with lru_entry_release) or NULL. */
lru_entry_t *rcache_get_l1(rcache_t *c, const rcache_key *k);

/* Computes the body of a response into out (JSON); 0, or -1 with err. */
typedef int (*rcache_compute_fn)(void *ud, buf_t *out, char *err, size_t errlen);

typedef enum { RC_FROM_L1, RC_FROM_L2, RC_FROM_L3, RC_COMPUTED, RC_WAITED, RC_STALE } rcache_source;

/* The full path for a worker thread: L1, L2, L3, else compute once per key
 * (concurrent callers for the same key wait for that computation), fill
 * the tiers. When computing fails, the last good copy of the same view
 * and parameters is returned with *src = RC_STALE, if there is one.
 * Returns a referenced entry, or NULL with err (nothing cached or stale). */
lru_entry_t *rcache_fetch(rcache_t *c, const rcache_key *k, const char *content_type, rcache_compute_fn fn,
                          void *ud, rcache_source *src, char *err, size_t errlen);

/* Builds a standalone entry (not cached) from a body, with its compressed
 * variants and ETag: used when caching is off. */
lru_entry_t *rcache_build(const rcache_key *k, const char *content_type, const buf_t *body);

/* Drops every L1 entry of org (L2/L3 entries become unreachable by version
 * or expire). Returns the count dropped. */
size_t rcache_clear_org(rcache_t *c, int64_t org);

/* Tells peers (via Redis) that org's tables in mask changed. */
void rcache_publish_change(rcache_t *c, int64_t org, unsigned mask);
/* Called on a peer's change notice (from the Redis subscriber thread). */
void rcache_on_peer_change(rcache_t *c, void (*fn)(void *ud, int64_t org, unsigned mask), void *ud);

/* Appends the statistics object of every tier as JSON. */
void rcache_stats_json(rcache_t *c, buf_t *out);
/* Counts a hit served on the loop (L1) with the computation it saved. */
void rcache_count_l1_hit(rcache_t *c, const lru_entry_t *e);

#endif
