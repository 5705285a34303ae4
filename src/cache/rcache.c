#include "cache/rcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "cache/l2.h"
#include "cache/l3.h"
#include "cache/record.h"
#include "core/clock.h"
#include "core/compress.h"
#include "core/log.h"
#include "core/mem.h"

/* DESIGN
 * Single-flight: a miss registers its key in a small in-flight table; a
 * second miss on the same key waits on that slot's condition variable
 * instead of computing. Across instances the Redis lock plays that role:
 * the loser polls L2 briefly for the winner's result.
 *
 * Stale copies: every entry is also put under its "stable" key (the key
 * without data versions). When a computation fails (the store is locked
 * or unreachable), that copy is served and marked stale; it is never
 * served while the store works. */

#define COMPRESS_MIN 1024
#define GZIP_FAST_FROM (32u << 10) /* bodies from this size are gzipped at level 1 */
#define INFLIGHT_SLOTS 64
/* How long another instance's computation of a key is waited for while it
 * holds the key's lock (which it lets go when it fails or dies): about
 * the longest a view may take (statements time out at 60 s by default). */
#define SHARED_WAIT_S 30.0

typedef struct flight {
	bool busy;
	uint64_t hash;
	char key[512];
	size_t keylen;
	pthread_cond_t done_cond;
	bool done;
	lru_entry_t *result; /* referenced for each waiter */
	int waiters;
} flight_t;

struct rcache {
	rcache_opts o;
	lru_t *l1;
	l2_t *l2;
	l3_t *l3;
	pthread_mutex_t flock;
	flight_t flights[INFLIGHT_SLOTS];
	atomic_uint_fast64_t l1_hits, l1_misses, computed, waited, stale, compute_us, saved_us, compute_errors;
	rcache_shared shared; /* o.shared's copy; all NULL: none */
	atomic_uint_fast64_t sh_hits, sh_misses, sh_waits;
	void (*peer_fn)(void *ud, int64_t org, unsigned mask);
	void *peer_ud;
};

void rcache_key_init(rcache_key *k, int64_t org, const char *view)
{
	k->org = org;
	k->len = 0;
	k->no_lookup = false;
	rcache_key_add(k, &org, sizeof org);
	rcache_key_add(k, view, strlen(view) + 1);
}

void rcache_key_add(rcache_key *k, const void *p, size_t n)
{
	if (k->len + n > sizeof k->bytes)
		n = sizeof k->bytes - k->len; /* keys are built from bounded parts */
	memcpy(k->bytes + k->len, p, n);
	k->len += n;
}

void rcache_key_finish(rcache_key *k, const uint64_t *versions, size_t n)
{
	k->stable_len = k->len;
	k->stable_hash = XXH3_64bits(k->bytes, k->len) ^ 0x5374616c65ull;
	rcache_key_add(k, versions, n * sizeof *versions);
	k->hash = XXH3_64bits(k->bytes, k->len);
}

static void on_peer_message(void *ud, const char *msg, size_t len)
{
	rcache_t *c = ud;
	long long org;
	unsigned mask;
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%.*s", (int)(len < 63 ? len : 63), msg);
	if (sscanf(tmp, "%lld %u", &org, &mask) == 2 && c->peer_fn)
		c->peer_fn(c->peer_ud, org, mask);
}

rcache_t *rcache_new(const rcache_opts *o, char *err, size_t errlen)
{
	rcache_t *c = xcalloc(1, sizeof *c);
	c->o = *o;
	if (!c->o.shards)
		c->o.shards = 16;
	if (!c->o.ttl_ms)
		c->o.ttl_ms = 10 * 60 * 1000;
	pthread_mutex_init(&c->flock, NULL);
	for (int i = 0; i < INFLIGHT_SLOTS; i++)
		pthread_cond_init(&c->flights[i].done_cond, NULL);
	if (o->memory_bytes > 0)
		c->l1 = lru_new((size_t)o->memory_bytes, c->o.shards);
	if (o->redis_url && *o->redis_url) {
		c->l2 = l2_new(o->redis_url, o->redis_timeout_ms, err, errlen);
		if (!c->l2) {
			rcache_free(c);
			return NULL;
		}
		l2_subscribe(c->l2, on_peer_message, c);
	} else if (o->shared && o->shared->get && o->shared->put && o->shared->lock && o->shared->unlock) {
		c->shared = *o->shared;
	}
	if (o->disk_dir && *o->disk_dir) {
		c->l3 = l3_new(o->disk_dir, o->disk_bytes, c->o.ttl_ms, err, errlen);
		if (!c->l3) {
			rcache_free(c);
			return NULL;
		}
	}
	return c;
}

void rcache_free(rcache_t *c)
{
	if (!c)
		return;
	l2_free(c->l2);
	l3_free(c->l3);
	if (c->l1)
		lru_free(c->l1);
	for (int i = 0; i < INFLIGHT_SLOTS; i++)
		pthread_cond_destroy(&c->flights[i].done_cond);
	pthread_mutex_destroy(&c->flock);
	free(c);
}

bool rcache_enabled(const rcache_t *c)
{
	return c && c->l1;
}

lru_entry_t *rcache_get_l1(rcache_t *c, const rcache_key *k)
{
	if (!rcache_enabled(c) || k->no_lookup)
		return NULL;
	lru_entry_t *e = lru_get(c->l1, k->hash, k->bytes, k->len);
	atomic_fetch_add(e ? &c->l1_hits : &c->l1_misses, 1);
	return e;
}

static uint64_t meta_us(const lru_entry_t *e)
{
	slice_t m = lru_entry_blob(e, RC_META);
	uint64_t us = 0;
	if (m.len == sizeof us)
		memcpy(&us, m.p, sizeof us);
	return us;
}

void rcache_count_l1_hit(rcache_t *c, const lru_entry_t *e)
{
	atomic_fetch_add(&c->saved_us, meta_us(e));
}

/* Builds the value (with compressed variants) for a body. */
static void build_value(const rcache_key *k, const char *ctype, const buf_t *body, uint64_t us, buf_t *gz,
                        buf_t *zs, char *etag, lru_value_t *v)
{
	if (!compress_zstd(body->p, body->len, 3, zs))
		buf_reset(zs);
	/* gzip 6 of a big answer (a 1,000-item breakdown, 90 KB) cost more than
	 * computing it; level 1 is 2.5x faster for ~20% more bytes */
	if (body->len < COMPRESS_MIN || !compress_gzip(body->p, body->len, body->len < GZIP_FAST_FROM ? 6 : 1, gz))
		buf_reset(gz);
	/* The ETag is the key hash: versions + parameters, so a 304 can be
	 * answered before anything is looked up or computed. */
	snprintf(etag, 24, "\"v%016llx\"", (unsigned long long)k->hash);
	static _Thread_local uint64_t meta;
	meta = us;
	memset(v, 0, sizeof *v);
	v->nblobs = RC__BLOBS;
	v->blob[RC_BODY] = (slice_t){body->p ? body->p : "", body->len};
	v->blob[RC_GZIP] = (slice_t){gz->p ? gz->p : "", gz->len};
	v->blob[RC_ZSTD] = (slice_t){zs->p ? zs->p : "", zs->len};
	v->blob[RC_ETAG] = slice_cstr(etag);
	v->blob[RC_CTYPE] = slice_cstr(ctype);
	v->blob[RC_META] = (slice_t){(const char *)&meta, sizeof meta};
}

/* Stores v in L1 (under the key and the stable key) and returns the L1
 * entry; with L1 off, a private entry (an LRU of one) is returned. */
static lru_entry_t *fill_l1(rcache_t *c, const rcache_key *k, const lru_value_t *v)
{
	if (!rcache_enabled(c))
		return NULL;
	lru_put(c->l1, k->hash, k->bytes, k->len, v, (uint64_t)k->org, c->o.ttl_ms);
	lru_put(c->l1, k->stable_hash, k->bytes, k->stable_len, v, (uint64_t)k->org, c->o.ttl_ms * 6);
	return lru_get(c->l1, k->hash, k->bytes, k->len);
}

lru_entry_t *rcache_build(const rcache_key *k, const char *content_type, const buf_t *body)
{
	/* A throwaway one-entry LRU gives the caller the same refcounted entry
	 * type whether or not caching is on. */
	buf_t gz = BUF_INIT, zs = BUF_INIT;
	char etag[24];
	lru_value_t v;
	build_value(k, content_type, body, 0, &gz, &zs, etag, &v);
	lru_t *one = lru_new(lru_entry_size(k->len, &v) * 2 + 4096, 1);
	lru_put(one, k->hash, k->bytes, k->len, &v, 0, 0);
	lru_entry_t *e = lru_get(one, k->hash, k->bytes, k->len);
	lru_free(one); /* the entry outlives its cache through its reference */
	buf_free(&gz);
	buf_free(&zs);
	return e;
}

/* The shared tier's entry for k into rec (counted). */
static bool shared_get(rcache_t *c, const rcache_key *k, buf_t *rec)
{
	size_t n = 0;
	void *p = c->shared.get(c->shared.ud, k->bytes, k->len, &n);
	if (!p) {
		atomic_fetch_add(&c->sh_misses, 1);
		return false;
	}
	atomic_fetch_add(&c->sh_hits, 1);
	buf_reset(rec);
	buf_put(rec, p, n);
	free(p);
	return true;
}

static lru_entry_t *from_record(rcache_t *c, const rcache_key *k, const buf_t *rec)
{
	lru_value_t v;
	buf_t scratch = BUF_INIT;
	lru_entry_t *e = NULL;
	if (record_decode(rec->p, rec->len, k->bytes, k->len, &v, &scratch))
		e = fill_l1(c, k, &v);
	buf_free(&scratch);
	return e;
}

static flight_t *flight_join(rcache_t *c, const rcache_key *k, bool *leader)
{
	flight_t *free_slot = NULL;
	for (int i = 0; i < INFLIGHT_SLOTS; i++) {
		flight_t *f = &c->flights[i];
		if (f->busy && f->hash == k->hash && f->keylen == k->len && !memcmp(f->key, k->bytes, k->len)) {
			*leader = false;
			f->waiters++;
			return f;
		}
		if (!f->busy && !free_slot)
			free_slot = f;
	}
	*leader = true;
	if (free_slot) {
		free_slot->busy = true;
		free_slot->done = false;
		free_slot->result = NULL;
		free_slot->waiters = 0;
		free_slot->hash = k->hash;
		free_slot->keylen = k->len;
		memcpy(free_slot->key, k->bytes, k->len);
	}
	return free_slot; /* NULL: table full, compute without coalescing */
}

lru_entry_t *rcache_fetch(rcache_t *c, const rcache_key *k, const char *content_type, rcache_compute_fn fn,
                          void *ud, rcache_source *src, char *err, size_t errlen)
{
	/* Requests are counted once, by the loop's rcache_get_l1; this second
	 * look only catches a result that landed in between. */
	lru_entry_t *e = rcache_enabled(c) && !k->no_lookup ? lru_get(c->l1, k->hash, k->bytes, k->len) : NULL;
	if (e) {
		*src = RC_FROM_L1;
		return e;
	}
	bool leader = true;
	flight_t *f = NULL;
	if (rcache_enabled(c) && !k->no_lookup) {
		pthread_mutex_lock(&c->flock);
		f = flight_join(c, k, &leader);
		if (!leader) {
			while (!f->done)
				pthread_cond_wait(&f->done_cond, &c->flock);
			e = f->result ? lru_entry_ref(f->result) : NULL;
			if (--f->waiters == 0 && f->done) {
				if (f->result)
					lru_entry_release(f->result);
				f->busy = false;
			}
			pthread_mutex_unlock(&c->flock);
			atomic_fetch_add(&c->waited, 1);
			*src = RC_WAITED;
			if (e) {
				atomic_fetch_add(&c->saved_us, meta_us(e));
				return e;
			}
			snprintf(err, errlen, "the computation this request waited for failed");
			return NULL;
		}
		pthread_mutex_unlock(&c->flock);
	}

	buf_t rec = BUF_INIT;
	bool locked = false, slocked = false;
	/* Caching off (no L1): no tier is asked or filled either; a shared
	 * tier's answer could not be kept, and its round trips cost more on
	 * PostgreSQL than the view. */
	if (k->no_lookup || !rcache_enabled(c))
		goto compute;
	if (c && c->l3 && l3_get(c->l3, k->hash, &rec) && (e = from_record(c, k, &rec))) {
		*src = RC_FROM_L3;
		goto done;
	}
	if (c && !c->l2 && c->shared.get) {
		if (shared_get(c, k, &rec) && (e = from_record(c, k, &rec))) {
			*src = RC_FROM_L2;
			goto done;
		}
		/* Another instance may be computing this key: wait for its answer
		 * while it holds the key's lock; take over if it lets go without
		 * one (its computation failed, or it died). */
		int lk = c->shared.lock(c->shared.ud, k->hash);
		if (lk == 0)
			atomic_fetch_add(&c->sh_waits, 1);
		double until = clock_now_s() + SHARED_WAIT_S;
		for (int i = 1, nap = 10000; lk == 0 && clock_now_s() < until; i++) {
			usleep((useconds_t)nap);
			nap = nap < 200000 ? nap * 5 / 4 : 200000;
			if (shared_get(c, k, &rec) && (e = from_record(c, k, &rec))) {
				*src = RC_FROM_L2;
				goto done;
			}
			if (i % 4 == 0)
				lk = c->shared.lock(c->shared.ud, k->hash);
		}
		slocked = lk == 1;
		/* Double-checked: the holder may have filled the key and let go
		 * between our miss and our lock; computing again would be waste. */
		if (slocked && shared_get(c, k, &rec) && (e = from_record(c, k, &rec))) {
			c->shared.unlock(c->shared.ud, k->hash);
			*src = RC_FROM_L2;
			goto done;
		}
	}
	if (c && c->l2) {
		if (l2_get(c->l2, k->bytes, k->len, &rec) && (e = from_record(c, k, &rec))) {
			*src = RC_FROM_L2;
			goto done;
		}
		/* Another instance may be computing this key: wait briefly for it. */
		locked = l2_lock(c->l2, k->bytes, k->len, 5000);
		/* Double-checked, as above: the lock may be free because the
		 * holder has just stored the answer. */
		if (locked && l2_get(c->l2, k->bytes, k->len, &rec) && (e = from_record(c, k, &rec))) {
			l2_unlock(c->l2, k->bytes, k->len);
			*src = RC_FROM_L2;
			goto done;
		}
		for (int i = 0; !locked && i < 100; i++) {
			usleep(10000);
			if (l2_get(c->l2, k->bytes, k->len, &rec) && (e = from_record(c, k, &rec))) {
				*src = RC_FROM_L2;
				goto done;
			}
		}
	}

compute:;
	buf_t body = BUF_INIT;
	double t0 = clock_now_s();
	int rc = fn(ud, &body, err, errlen);
	uint64_t us = (uint64_t)((clock_now_s() - t0) * 1e6);
	if (rc == 0) {
		buf_t gz = BUF_INIT, zs = BUF_INIT;
		char etag[24];
		lru_value_t v;
		build_value(k, content_type, &body, us, &gz, &zs, etag, &v);
		e = fill_l1(c, k, &v);
		if (rcache_enabled(c) && (c->l2 || c->l3 || c->shared.put)) {
			buf_reset(&rec);
			record_encode(&v, k->bytes, k->len, &rec);
			if (c->l2)
				l2_set(c->l2, k->bytes, k->len, rec.p, rec.len, c->o.ttl_ms);
			else if (c->shared.put)
				c->shared.put(c->shared.ud, k->bytes, k->len, rec.p, rec.len, c->o.ttl_ms);
			if (c->l3)
				l3_put(c->l3, k->hash, rec.p, rec.len);
		}
		if (!e)
			e = rcache_build(k, content_type, &body);
		buf_free(&gz);
		buf_free(&zs);
		*src = RC_COMPUTED;
		if (c) {
			atomic_fetch_add(&c->computed, 1);
			atomic_fetch_add(&c->compute_us, us);
		}
	} else if (c && rcache_enabled(c)) {
		atomic_fetch_add(&c->compute_errors, 1);
		e = lru_get(c->l1, k->stable_hash, k->bytes, k->stable_len);
		if (e) {
			*src = RC_STALE;
			atomic_fetch_add(&c->stale, 1);
			log_warn("cache: serving a stale copy: %s", err);
		}
	}
	buf_free(&body);
	if (locked)
		l2_unlock(c->l2, k->bytes, k->len);
	if (slocked)
		c->shared.unlock(c->shared.ud, k->hash);
done:
	buf_free(&rec);
	if (f) {
		pthread_mutex_lock(&c->flock);
		f->done = true;
		f->result = e && *src != RC_STALE ? lru_entry_ref(e) : NULL;
		if (f->waiters == 0) {
			if (f->result)
				lru_entry_release(f->result);
			f->busy = false;
		} else {
			pthread_cond_broadcast(&f->done_cond);
		}
		pthread_mutex_unlock(&c->flock);
	}
	return e;
}

size_t rcache_clear_org(rcache_t *c, int64_t org)
{
	return rcache_enabled(c) ? lru_clear_tag(c->l1, (uint64_t)org) : 0;
}

void rcache_publish_change(rcache_t *c, int64_t org, unsigned mask)
{
	if (!c || !c->l2)
		return;
	char msg[64];
	snprintf(msg, sizeof msg, "%lld %u", (long long)org, mask);
	l2_publish(c->l2, msg);
}

void rcache_on_peer_change(rcache_t *c, void (*fn)(void *ud, int64_t org, unsigned mask), void *ud)
{
	c->peer_fn = fn;
	c->peer_ud = ud;
}

static double rate(uint64_t hits, uint64_t misses)
{
	return hits + misses ? (double)hits / (double)(hits + misses) : 0;
}

void rcache_stats_json(rcache_t *c, buf_t *out)
{
	lru_stats_t s = {0};
	if (rcache_enabled(c))
		lru_stats(c->l1, &s);
	uint64_t h = atomic_load(&c->l1_hits), m = atomic_load(&c->l1_misses);
	buf_printf(out,
	           "{\"l1\":{\"enabled\":%s,\"hits\":%llu,\"misses\":%llu,\"hit_rate\":%.4f,\"evictions\":%llu,"
	           "\"expirations\":%llu,\"bytes\":%llu,\"entries\":%llu,\"max_bytes\":%lld}",
	           rcache_enabled(c) ? "true" : "false", (unsigned long long)h, (unsigned long long)m, rate(h, m),
	           (unsigned long long)s.evictions, (unsigned long long)s.expirations, (unsigned long long)s.bytes,
	           (unsigned long long)s.entries, (long long)c->o.memory_bytes);
	if (c->l2) {
		l2_stats_t r;
		l2_stats(c->l2, &r);
		buf_printf(out,
		           ",\"l2\":{\"enabled\":true,\"up\":%s,\"hits\":%llu,\"misses\":%llu,\"hit_rate\":%.4f,"
		           "\"errors\":%llu,\"outages\":%llu,\"lock_waits\":%llu}",
		           r.up ? "true" : "false", (unsigned long long)r.hits, (unsigned long long)r.misses,
		           rate(r.hits, r.misses), (unsigned long long)r.errors, (unsigned long long)r.outages,
		           (unsigned long long)r.lock_waits);
	} else if (c->shared.get) {
		uint64_t sh = atomic_load(&c->sh_hits), sm = atomic_load(&c->sh_misses);
		buf_printf(out,
		           ",\"l2\":{\"enabled\":true,\"backend\":\"store\",\"up\":true,\"hits\":%llu,\"misses\":%llu,"
		           "\"hit_rate\":%.4f,\"errors\":0,\"outages\":0,\"lock_waits\":%llu}",
		           (unsigned long long)sh, (unsigned long long)sm, rate(sh, sm),
		           (unsigned long long)atomic_load(&c->sh_waits));
	} else {
		buf_puts(out, ",\"l2\":{\"enabled\":false}");
	}
	if (c->l3) {
		l3_stats_t d;
		l3_stats(c->l3, &d);
		buf_printf(out,
		           ",\"l3\":{\"enabled\":true,\"hits\":%llu,\"misses\":%llu,\"hit_rate\":%.4f,\"writes\":%llu,"
		           "\"evictions\":%llu,\"bytes\":%lld,\"entries\":%lld}",
		           (unsigned long long)d.hits, (unsigned long long)d.misses, rate(d.hits, d.misses),
		           (unsigned long long)d.writes, (unsigned long long)d.evictions, (long long)d.bytes,
		           (long long)d.entries);
	} else {
		buf_puts(out, ",\"l3\":{\"enabled\":false}");
	}
	buf_printf(out,
	           ",\"computed\":%llu,\"coalesced_waits\":%llu,\"stale_served\":%llu,\"compute_errors\":%llu,"
	           "\"compute_seconds\":%.3f,\"compute_seconds_saved\":%.3f}",
	           (unsigned long long)atomic_load(&c->computed), (unsigned long long)atomic_load(&c->waited),
	           (unsigned long long)atomic_load(&c->stale), (unsigned long long)atomic_load(&c->compute_errors),
	           (double)atomic_load(&c->compute_us) / 1e6, (double)atomic_load(&c->saved_us) / 1e6);
}
