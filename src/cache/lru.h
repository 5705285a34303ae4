/* lru: the in-process L1 cache of final HTTP responses.
 *
 * Sharded (a mutex per shard), LRU order per shard, bounded by total bytes
 * (the budget is split evenly across shards). Keys are a 64-bit hash chosen
 * by the caller plus the full key bytes, compared on every hit so a hash
 * collision is a miss, never a wrong answer. Values are immutable,
 * reference-counted entries: a reader keeps using an entry after it was
 * evicted, replaced or cleared, until it calls lru_entry_release().
 * TTLs only bound memory (freshness comes from versioned keys): an expired
 * entry is a miss and is freed when found, evicted, or swept.
 * All functions are thread-safe unless said otherwise. */
#ifndef BRISK_LRU_H
#define BRISK_LRU_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct lru lru_t;
typedef struct lru_entry lru_entry_t;

/* Most blobs one entry holds. Their meaning is the caller's (for example
 * 0 body, 1 gzip body, 2 zstd body, 3 ETag, 4 content type). */
#define LRU_MAX_BLOBS 8

/* The value stored by lru_put: nblobs byte strings, copied into the entry.
 * A blob may be empty ({NULL, 0}) for "not available". */
typedef struct {
	slice_t blob[LRU_MAX_BLOBS];
	unsigned nblobs;
} lru_value_t;

typedef struct {
	uint64_t hits, misses;  /* lru_get outcomes (an expired hit is a miss) */
	uint64_t inserts;       /* entries stored by lru_put */
	uint64_t evictions;     /* live entries dropped to make room */
	uint64_t expirations;   /* entries dropped because their TTL passed */
	uint64_t rejects;       /* lru_put values larger than a shard's budget */
	uint64_t bytes;         /* current accounted size of stored entries */
	uint64_t entries;       /* current number of stored entries */
} lru_stats_t;

/* Milliseconds on a monotonic clock; arg is the pointer given to
 * lru_set_clock. */
typedef uint64_t (*lru_clock_fn)(void *arg);

/* Called under a shard's lock for lru_clear_if: return non-zero to remove e.
 * It must not call into the same cache. */
typedef int (*lru_pred_fn)(const lru_entry_t *e, void *arg);

/* Creates a cache holding at most max_bytes of entries (key bytes + value
 * bytes + a fixed per-entry overhead, see lru_entry_size), split across
 * nshards shards (0 picks a default; rounded up to a power of two). The
 * caller owns the result and frees it with lru_free. Aborts on OOM. */
lru_t *lru_new(size_t max_bytes, unsigned nshards);

/* Drops the cache's references to every entry and frees the cache. Entries
 * still held by readers stay valid until released. Not thread-safe: no other
 * call on c may run concurrently or follow. c may be NULL. */
void lru_free(lru_t *c);

/* Replaces the clock used for TTLs (NULL restores CLOCK_MONOTONIC), mainly
 * so tests can move time. Call before the cache is shared between threads. */
void lru_set_clock(lru_t *c, lru_clock_fn now_ms, void *arg);

/* Looks up (hash, key). On a hit, moves the entry to the front of its
 * shard's LRU order and returns it with a reference the caller must drop
 * with lru_entry_release. Returns NULL on a miss, including an entry with
 * the same hash but different key bytes, or an expired entry (which is
 * freed then). */
lru_entry_t *lru_get(lru_t *c, uint64_t hash, const void *key, size_t keylen);

/* Stores a copy of key and of every blob of v under (hash, key), replacing
 * any entry with the same hash and key, tagged with tag (an opaque number
 * for lru_clear_tag, e.g. the organisation id). ttl_ms 0 means no expiry.
 * Evicts least recently used entries of the shard to make room. Returns 0
 * when stored, -1 when the entry is larger than a shard's budget or v has
 * more than LRU_MAX_BLOBS blobs (nothing is stored, an older entry under
 * the same key is removed). Aborts on OOM. */
int lru_put(lru_t *c, uint64_t hash, const void *key, size_t keylen, const lru_value_t *v,
	    uint64_t tag, uint64_t ttl_ms);

/* Removes the entry under (hash, key) if any. Returns 1 if one was removed,
 * 0 otherwise. */
int lru_delete(lru_t *c, uint64_t hash, const void *key, size_t keylen);

/* Removes every entry for which pred returns non-zero (see lru_pred_fn).
 * Returns how many were removed. Scans every shard: meant for rare
 * invalidations, not for the request path. */
size_t lru_clear_if(lru_t *c, lru_pred_fn pred, void *arg);

/* Removes every entry stored with tag. Returns how many were removed. */
size_t lru_clear_tag(lru_t *c, uint64_t tag);

/* Removes every entry whose key starts with the len bytes at prefix.
 * Returns how many were removed. */
size_t lru_delete_prefix(lru_t *c, const void *prefix, size_t len);

/* Removes every entry. Returns how many were removed. */
size_t lru_clear(lru_t *c);

/* Frees every expired entry now (a periodic sweep keeps memory bounded even
 * for keys nobody asks for again). Returns how many were removed. */
size_t lru_expire(lru_t *c);

/* Fills *out with counters summed over shards; each is read atomically but
 * the set is not one snapshot. */
void lru_stats(const lru_t *c, lru_stats_t *out);

/* Drops a reference taken by lru_get; the entry is freed with the last one.
 * e may be NULL. e must not be used afterwards. */
void lru_entry_release(lru_entry_t *e);

/* Takes one more reference to e (for handing it to another thread); drop it
 * with lru_entry_release. Returns e. */
lru_entry_t *lru_entry_ref(lru_entry_t *e);

/* Accessors. The bytes live as long as the caller's reference. Every blob
 * and the key are followed by a NUL byte not counted in len, so text blobs
 * (ETag, content type) can be used as C strings. */
unsigned lru_entry_nblobs(const lru_entry_t *e);
slice_t lru_entry_blob(const lru_entry_t *e, unsigned i);   /* {NULL, 0} if i >= nblobs */
slice_t lru_entry_key(const lru_entry_t *e);
uint64_t lru_entry_hash(const lru_entry_t *e);
uint64_t lru_entry_tag(const lru_entry_t *e);

/* The bytes an entry with this key length and value counts against the
 * budget: keylen + all blob lengths + a fixed overhead. */
size_t lru_entry_size(size_t keylen, const lru_value_t *v);

#endif
