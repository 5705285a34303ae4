#include "cache/lru.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"

/*
 * DESIGN
 *
 * The cache is an array of shards picked by the high half of a mixed hash;
 * each shard is an independent LRU: a chained hash table (low bits of the
 * same mixed hash) plus a doubly linked list, most recently used at the head,
 * both guarded by the shard's mutex. Shards are cache-line aligned so two
 * busy shards never share a line.
 *
 * An entry is one allocation: the header, the blob table, then the key and
 * the blob bytes, each followed by a NUL. It is immutable once published, so
 * readers use it without any lock. Its reference count starts at one, the
 * reference owned by the cache; lru_get adds one under the shard lock (so an
 * entry can not be freed between lookup and increment), and whoever drops
 * the count to zero frees it. Unlinked entries are collected on a local list
 * and released after the shard lock is dropped, so free() never runs under
 * a lock.
 *
 * Accounting: an entry counts its full allocation size against the shard's
 * budget while it is linked in the shard. Entries that were removed but are
 * still held by readers no longer count; they are bounded by the number of
 * requests in flight.
 */

struct lru_entry {
	struct lru_entry *prev, *next; /* LRU list; guarded by the shard lock */
	struct lru_entry *hnext;       /* hash chain, then the local free list */
	uint64_t hash;
	uint64_t tag;
	uint64_t expires_ms;           /* 0: never */
	size_t size;                   /* bytes accounted against the budget */
	atomic_uint refs;
	uint32_t nblobs;
	size_t keylen;
	const char *key;
	slice_t blob[];                /* nblobs slices, then the bytes */
};

struct shard {
	pthread_mutex_t mu;
	lru_entry_t **buckets;
	size_t mask;                   /* number of buckets - 1 */
	lru_entry_t *head, *tail;
	size_t budget;
	size_t bytes, count;
	/* Mirrors of the figures above plus event counts, readable without the
	 * lock by lru_stats. */
	_Atomic uint64_t st_hits, st_misses, st_inserts, st_evictions, st_expirations, st_rejects;
	_Atomic uint64_t st_bytes, st_entries;
} __attribute__((aligned(64)));

struct lru {
	struct shard *shards;
	void *shards_raw;
	unsigned nshards;
	lru_clock_fn now_ms;
	void *clock_arg;
};

#define INITIAL_BUCKETS 16
#define DEFAULT_SHARDS 16
#define MAX_SHARDS 1024

/* Private helpers. */
static uint64_t mix64(uint64_t h);
static uint64_t monotonic_ms(void *arg);
static struct shard *shard_of(const lru_t *c, uint64_t m);
static lru_entry_t **chain_of(struct shard *s, uint64_t m);
static lru_entry_t *shard_find(struct shard *s, uint64_t m, uint64_t hash, const void *key, size_t keylen);
static void shard_unlink(struct shard *s, lru_entry_t *e, lru_entry_t **freed);
static void shard_link_front(struct shard *s, lru_entry_t *e);
static void shard_grow(struct shard *s);
static void release_list(lru_entry_t *list);
static void stat_add(_Atomic uint64_t *a, int64_t d);

lru_t *lru_new(size_t max_bytes, unsigned nshards)
{
	unsigned n = 1;
	if (nshards == 0)
		nshards = DEFAULT_SHARDS;
	if (nshards > MAX_SHARDS)
		nshards = MAX_SHARDS;
	while (n < nshards)
		n <<= 1;

	lru_t *c = xcalloc(1, sizeof *c);
	c->nshards = n;
	c->now_ms = monotonic_ms;
	/* xmalloc only promises 16-byte alignment; over-allocate to align. */
	c->shards_raw = xmalloc(n * sizeof(struct shard) + 64);
	c->shards = (struct shard *)(((uintptr_t)c->shards_raw + 63) & ~(uintptr_t)63);
	for (unsigned i = 0; i < n; i++) {
		struct shard *s = &c->shards[i];
		memset(s, 0, sizeof *s);
		pthread_mutex_init(&s->mu, NULL);
		s->buckets = xcalloc(INITIAL_BUCKETS, sizeof *s->buckets);
		s->mask = INITIAL_BUCKETS - 1;
		s->budget = max_bytes / n;
	}
	return c;
}

void lru_free(lru_t *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		lru_entry_t *e = s->head;
		while (e) {
			lru_entry_t *next = e->next;
			lru_entry_release(e);
			e = next;
		}
		free(s->buckets);
		pthread_mutex_destroy(&s->mu);
	}
	free(c->shards_raw);
	free(c);
}

void lru_set_clock(lru_t *c, lru_clock_fn now_ms, void *arg)
{
	c->now_ms = now_ms ? now_ms : monotonic_ms;
	c->clock_arg = now_ms ? arg : NULL;
}

lru_entry_t *lru_get(lru_t *c, uint64_t hash, const void *key, size_t keylen)
{
	uint64_t m = mix64(hash);
	struct shard *s = shard_of(c, m);
	lru_entry_t *freed = NULL;

	pthread_mutex_lock(&s->mu);
	lru_entry_t *e = shard_find(s, m, hash, key, keylen);
	if (e && e->expires_ms && c->now_ms(c->clock_arg) >= e->expires_ms) {
		shard_unlink(s, e, &freed);
		stat_add(&s->st_expirations, 1);
		e = NULL;
	}
	if (e) {
		if (s->head != e) {
			/* Move to front without touching the hash chain. */
			e->prev->next = e->next;
			if (e->next)
				e->next->prev = e->prev;
			else
				s->tail = e->prev;
			e->prev = NULL;
			e->next = s->head;
			s->head->prev = e;
			s->head = e;
		}
		atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
		stat_add(&s->st_hits, 1);
	} else {
		stat_add(&s->st_misses, 1);
	}
	pthread_mutex_unlock(&s->mu);
	release_list(freed);
	return e;
}

int lru_put(lru_t *c, uint64_t hash, const void *key, size_t keylen, const lru_value_t *v,
	    uint64_t tag, uint64_t ttl_ms)
{
	uint64_t m = mix64(hash);
	struct shard *s = shard_of(c, m);
	lru_entry_t *freed = NULL;

	if (v->nblobs > LRU_MAX_BLOBS) {
		lru_delete(c, hash, key, keylen);
		pthread_mutex_lock(&s->mu);
		stat_add(&s->st_rejects, 1);
		pthread_mutex_unlock(&s->mu);
		return -1;
	}

	/* Build the entry before taking the lock: copying a large body must not
	 * stall the shard. */
	size_t size = lru_entry_size(keylen, v);
	lru_entry_t *e = NULL;
	if (size <= s->budget) {
		e = xmalloc(size);
		memset(e, 0, sizeof *e);
		e->hash = hash;
		e->tag = tag;
		e->size = size;
		e->nblobs = v->nblobs;
		e->keylen = keylen;
		atomic_init(&e->refs, 1);
		char *p = (char *)(e->blob + v->nblobs);
		if (keylen)
			memcpy(p, key, keylen);
		p[keylen] = '\0';
		e->key = p;
		p += keylen + 1;
		for (unsigned i = 0; i < v->nblobs; i++) {
			size_t len = v->blob[i].len;
			if (len)
				memcpy(p, v->blob[i].p, len);
			p[len] = '\0';
			e->blob[i] = (slice_t){p, len};
			p += len + 1;
		}
	}

	pthread_mutex_lock(&s->mu);
	uint64_t now = c->now_ms(c->clock_arg);
	lru_entry_t *old = shard_find(s, m, hash, key, keylen);
	if (old)
		shard_unlink(s, old, &freed);
	if (!e) {
		stat_add(&s->st_rejects, 1);
		pthread_mutex_unlock(&s->mu);
		release_list(freed);
		return -1;
	}
	e->expires_ms = ttl_ms ? now + ttl_ms : 0;
	while (s->bytes + size > s->budget && s->tail) {
		lru_entry_t *victim = s->tail;
		int expired = victim->expires_ms && now >= victim->expires_ms;
		shard_unlink(s, victim, &freed);
		stat_add(expired ? &s->st_expirations : &s->st_evictions, 1);
	}
	shard_link_front(s, e);
	stat_add(&s->st_inserts, 1);
	if (s->count > s->mask + 1)
		shard_grow(s);
	pthread_mutex_unlock(&s->mu);
	release_list(freed);
	return 0;
}

int lru_delete(lru_t *c, uint64_t hash, const void *key, size_t keylen)
{
	uint64_t m = mix64(hash);
	struct shard *s = shard_of(c, m);
	lru_entry_t *freed = NULL;

	pthread_mutex_lock(&s->mu);
	lru_entry_t *e = shard_find(s, m, hash, key, keylen);
	if (e)
		shard_unlink(s, e, &freed);
	pthread_mutex_unlock(&s->mu);
	release_list(freed);
	return e != NULL;
}

size_t lru_clear_if(lru_t *c, lru_pred_fn pred, void *arg)
{
	size_t removed = 0;
	for (unsigned i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		lru_entry_t *freed = NULL;
		pthread_mutex_lock(&s->mu);
		lru_entry_t *e = s->head;
		while (e) {
			lru_entry_t *next = e->next;
			if (pred(e, arg)) {
				shard_unlink(s, e, &freed);
				removed++;
			}
			e = next;
		}
		pthread_mutex_unlock(&s->mu);
		release_list(freed);
	}
	return removed;
}

static int match_tag(const lru_entry_t *e, void *arg)
{
	return e->tag == *(const uint64_t *)arg;
}

size_t lru_clear_tag(lru_t *c, uint64_t tag)
{
	return lru_clear_if(c, match_tag, &tag);
}

static int match_prefix(const lru_entry_t *e, void *arg)
{
	const slice_t *pre = arg;
	return e->keylen >= pre->len && memcmp(e->key, pre->p, pre->len) == 0;
}

size_t lru_delete_prefix(lru_t *c, const void *prefix, size_t len)
{
	slice_t pre = {prefix, len};
	return lru_clear_if(c, match_prefix, &pre);
}

static int match_all(const lru_entry_t *e, void *arg)
{
	return 1;
}

size_t lru_clear(lru_t *c)
{
	return lru_clear_if(c, match_all, NULL);
}

struct expire_arg {
	uint64_t now;
	size_t n;
};

static int match_expired(const lru_entry_t *e, void *arg)
{
	struct expire_arg *a = arg;
	return e->expires_ms && a->now >= e->expires_ms;
}

size_t lru_expire(lru_t *c)
{
	struct expire_arg a = {c->now_ms(c->clock_arg), 0};
	size_t total = 0;
	/* Per shard, so each removal is counted as an expiration where it
	 * happened. */
	for (unsigned i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		lru_entry_t *freed = NULL;
		size_t n = 0;
		pthread_mutex_lock(&s->mu);
		for (lru_entry_t *e = s->head, *next; e; e = next) {
			next = e->next;
			if (match_expired(e, &a)) {
				shard_unlink(s, e, &freed);
				n++;
			}
		}
		stat_add(&s->st_expirations, (int64_t)n);
		pthread_mutex_unlock(&s->mu);
		release_list(freed);
		total += n;
	}
	return total;
}

void lru_stats(const lru_t *c, lru_stats_t *out)
{
	memset(out, 0, sizeof *out);
	for (unsigned i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		out->hits += atomic_load_explicit(&s->st_hits, memory_order_relaxed);
		out->misses += atomic_load_explicit(&s->st_misses, memory_order_relaxed);
		out->inserts += atomic_load_explicit(&s->st_inserts, memory_order_relaxed);
		out->evictions += atomic_load_explicit(&s->st_evictions, memory_order_relaxed);
		out->expirations += atomic_load_explicit(&s->st_expirations, memory_order_relaxed);
		out->rejects += atomic_load_explicit(&s->st_rejects, memory_order_relaxed);
		out->bytes += atomic_load_explicit(&s->st_bytes, memory_order_relaxed);
		out->entries += atomic_load_explicit(&s->st_entries, memory_order_relaxed);
	}
}

void lru_entry_release(lru_entry_t *e)
{
	if (!e)
		return;
	/* acq_rel: the freeing thread must see every other holder's reads done. */
	if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
		free(e);
}

lru_entry_t *lru_entry_ref(lru_entry_t *e)
{
	atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	return e;
}

unsigned lru_entry_nblobs(const lru_entry_t *e)
{
	return e->nblobs;
}

slice_t lru_entry_blob(const lru_entry_t *e, unsigned i)
{
	if (i >= e->nblobs)
		return (slice_t){NULL, 0};
	return e->blob[i];
}

slice_t lru_entry_key(const lru_entry_t *e)
{
	return (slice_t){e->key, e->keylen};
}

uint64_t lru_entry_hash(const lru_entry_t *e)
{
	return e->hash;
}

uint64_t lru_entry_tag(const lru_entry_t *e)
{
	return e->tag;
}

size_t lru_entry_size(size_t keylen, const lru_value_t *v)
{
	unsigned n = v->nblobs <= LRU_MAX_BLOBS ? v->nblobs : LRU_MAX_BLOBS;
	size_t size = sizeof(lru_entry_t) + n * sizeof(slice_t) + keylen + 1;
	for (unsigned i = 0; i < n; i++)
		size += v->blob[i].len + 1;
	return size;
}

/* Private helpers. */

/* The finaliser of MurmurHash3: callers' hashes may be weak in some bits,
 * and shard and bucket must use independent ones. */
static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t monotonic_ms(void *arg)
{
	struct timespec ts;
	/* Coarse is enough for a memory bound and costs no syscall. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct shard *shard_of(const lru_t *c, uint64_t m)
{
	return &c->shards[(m >> 32) & (c->nshards - 1)];
}

static lru_entry_t **chain_of(struct shard *s, uint64_t m)
{
	return &s->buckets[m & s->mask];
}

static lru_entry_t *shard_find(struct shard *s, uint64_t m, uint64_t hash, const void *key, size_t keylen)
{
	for (lru_entry_t *e = *chain_of(s, m); e; e = e->hnext)
		if (e->hash == hash && e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
			return e;
	return NULL;
}

/* Removes e from the shard and pushes it on *freed; the cache's reference
 * moves to that list. */
static void shard_unlink(struct shard *s, lru_entry_t *e, lru_entry_t **freed)
{
	lru_entry_t **pp = chain_of(s, mix64(e->hash));
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;

	if (e->prev)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	e->prev = e->next = NULL;

	s->bytes -= e->size;
	s->count--;
	stat_add(&s->st_bytes, -(int64_t)e->size);
	stat_add(&s->st_entries, -1);

	e->hnext = *freed;
	*freed = e;
}

static void shard_link_front(struct shard *s, lru_entry_t *e)
{
	lru_entry_t **chain = chain_of(s, mix64(e->hash));
	e->hnext = *chain;
	*chain = e;

	e->prev = NULL;
	e->next = s->head;
	if (s->head)
		s->head->prev = e;
	else
		s->tail = e;
	s->head = e;

	s->bytes += e->size;
	s->count++;
	stat_add(&s->st_bytes, (int64_t)e->size);
	stat_add(&s->st_entries, 1);
}

static void shard_grow(struct shard *s)
{
	size_t n = (s->mask + 1) * 2;
	lru_entry_t **nb = xcalloc(n, sizeof *nb);
	for (size_t i = 0; i <= s->mask; i++) {
		lru_entry_t *e = s->buckets[i];
		while (e) {
			lru_entry_t *next = e->hnext;
			lru_entry_t **chain = &nb[mix64(e->hash) & (n - 1)];
			e->hnext = *chain;
			*chain = e;
			e = next;
		}
	}
	free(s->buckets);
	s->buckets = nb;
	s->mask = n - 1;
}

static void release_list(lru_entry_t *list)
{
	while (list) {
		lru_entry_t *next = list->hnext;
		lru_entry_release(list);
		list = next;
	}
}

/* Stats are only written under the shard lock, so a plain load and store
 * is race-free and avoids a locked read-modify-write; atomics only make
 * the lock-free reads in lru_stats well defined. */
static void stat_add(_Atomic uint64_t *a, int64_t d)
{
	uint64_t v = atomic_load_explicit(a, memory_order_relaxed);
	atomic_store_explicit(a, v + (uint64_t)d, memory_order_relaxed);
}
