/* Criterion's process arena does not start under ThreadSanitizer
 * (Snaipe/Criterion#274), so the stress test also builds as a plain program:
 *   gcc ... -fsanitize=thread -DLRU_TSAN_MAIN tests/unit/test_lru.c ...
 * and runs without Criterion. */
#ifndef LRU_TSAN_MAIN
#include <criterion/criterion.h>
#endif
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cache/lru.h"

static uint64_t fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

#ifndef LRU_TSAN_MAIN
static lru_value_t val1(const char *body)
{
	lru_value_t v = {.nblobs = 1};
	v.blob[0] = slice_cstr(body);
	return v;
}

static int put_str(lru_t *c, const char *key, const char *body, uint64_t tag, uint64_t ttl)
{
	lru_value_t v = val1(body);
	return lru_put(c, fnv1a(key, strlen(key)), key, strlen(key), &v, tag, ttl);
}

static lru_entry_t *get_str(lru_t *c, const char *key)
{
	return lru_get(c, fnv1a(key, strlen(key)), key, strlen(key));
}

static int has(lru_t *c, const char *key)
{
	lru_entry_t *e = get_str(c, key);
	lru_entry_release(e);
	return e != NULL;
}

/* Budget of one shard holding exactly n entries of this key/body size. */
static size_t budget_for(unsigned n, const char *key, const char *body)
{
	lru_value_t v = val1(body);
	return n * lru_entry_size(strlen(key), &v);
}

Test(lru, put_get_blobs)
{
	lru_t *c = lru_new(1 << 20, 4);
	lru_value_t v = {.nblobs = 4};
	v.blob[0] = SLICE_LIT("{\"a\":1}");
	v.blob[1] = (slice_t){"\x1f\x8b\x00\x01", 4}; /* binary, with a NUL */
	v.blob[2] = (slice_t){NULL, 0};
	v.blob[3] = SLICE_LIT("\"etag-1\"");
	cr_assert_eq(lru_put(c, 42, "k1", 2, &v, 7, 0), 0);

	lru_entry_t *e = lru_get(c, 42, "k1", 2);
	cr_assert_not_null(e);
	cr_assert_eq(lru_entry_nblobs(e), 4);
	slice_t b0 = lru_entry_blob(e, 0);
	cr_assert_eq(b0.len, 7);
	cr_assert_str_eq(b0.p, "{\"a\":1}"); /* NUL-terminated */
	slice_t b1 = lru_entry_blob(e, 1);
	cr_assert_eq(b1.len, 4);
	cr_assert_eq(memcmp(b1.p, "\x1f\x8b\x00\x01", 4), 0);
	cr_assert_eq(lru_entry_blob(e, 2).len, 0);
	cr_assert_str_eq(lru_entry_blob(e, 3).p, "\"etag-1\"");
	cr_assert_null(lru_entry_blob(e, 4).p);
	cr_assert_eq(lru_entry_key(e).len, 2);
	cr_assert_str_eq(lru_entry_key(e).p, "k1");
	cr_assert_eq(lru_entry_hash(e), 42);
	cr_assert_eq(lru_entry_tag(e), 7);
	lru_entry_release(e);

	cr_assert_null(lru_get(c, 43, "k1", 2));
	lru_stats_t st;
	lru_stats(c, &st);
	cr_assert_eq(st.hits, 1);
	cr_assert_eq(st.misses, 1);
	cr_assert_eq(st.entries, 1);
	cr_assert_eq(st.bytes, lru_entry_size(2, &v));
	lru_free(c);
}

Test(lru, lru_order_touch_on_get)
{
	lru_t *c = lru_new(budget_for(3, "a", "body"), 1);
	put_str(c, "a", "body", 0, 0);
	put_str(c, "b", "body", 0, 0);
	put_str(c, "c", "body", 0, 0);
	cr_assert(has(c, "a")); /* a becomes most recent; b is now the oldest */
	put_str(c, "d", "body", 0, 0);
	cr_assert(has(c, "a"));
	cr_assert_not(has(c, "b"));
	cr_assert(has(c, "c"));
	cr_assert(has(c, "d"));
	lru_stats_t st;
	lru_stats(c, &st);
	cr_assert_eq(st.evictions, 1);
	cr_assert_eq(st.entries, 3);
	lru_free(c);
}

Test(lru, eviction_by_bytes)
{
	char big[1000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	size_t one = budget_for(1, "k00", big);
	lru_t *c = lru_new(one * 5 + one / 2, 1);
	for (int i = 0; i < 20; i++) {
		char k[8];
		snprintf(k, sizeof k, "k%02d", i);
		cr_assert_eq(put_str(c, k, big, 0, 0), 0);
		lru_stats_t st;
		lru_stats(c, &st);
		cr_assert_leq(st.bytes, one * 5 + one / 2);
	}
	lru_stats_t st;
	lru_stats(c, &st);
	cr_assert_eq(st.entries, 5);
	cr_assert_eq(st.bytes, 5 * one);
	cr_assert_eq(st.evictions, 15);
	cr_assert(has(c, "k19"));
	cr_assert(has(c, "k15"));
	cr_assert_not(has(c, "k14"));

	/* A smaller entry takes only the room it needs: still 5 big ones fit
	 * with it, since the budget has half an entry spare. */
	cr_assert_eq(put_str(c, "s", "", 0, 0), 0);
	lru_stats(c, &st);
	cr_assert_eq(st.entries, 6);
	lru_free(c);
}

Test(lru, too_big_is_not_stored)
{
	lru_t *c = lru_new(4096, 4); /* 1 KiB per shard */
	char big[2000];
	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	cr_assert_eq(put_str(c, "small", "v", 0, 0), 0);
	cr_assert_eq(put_str(c, "big", big, 0, 0), -1);
	cr_assert_not(has(c, "big"));
	cr_assert(has(c, "small"));
	/* Too big under an existing key removes the stale older value. */
	cr_assert_eq(put_str(c, "small", big, 0, 0), -1);
	cr_assert_not(has(c, "small"));
	lru_stats_t st;
	lru_stats(c, &st);
	cr_assert_eq(st.rejects, 2);
	cr_assert_eq(st.bytes, 0);
	cr_assert_eq(st.entries, 0);

	lru_value_t v = {.nblobs = LRU_MAX_BLOBS + 1};
	cr_assert_eq(lru_put(c, 1, "x", 1, &v, 0, 0), -1);
	lru_free(c);
}

Test(lru, replace_same_key)
{
	lru_t *c = lru_new(1 << 16, 2);
	put_str(c, "k", "one", 0, 0);
	lru_entry_t *old = get_str(c, "k");
	put_str(c, "k", "second", 0, 0);
	lru_entry_t *e = get_str(c, "k");
	cr_assert_str_eq(lru_entry_blob(e, 0).p, "second");
	cr_assert_str_eq(lru_entry_blob(old, 0).p, "one"); /* still readable */
	lru_stats_t st;
	lru_stats(c, &st);
	cr_assert_eq(st.entries, 1);
	cr_assert_eq(st.bytes, budget_for(1, "k", "second"));
	lru_entry_release(old);
	lru_entry_release(e);
	lru_free(c);
}

Test(lru, byte_accounting_back_to_zero)
{
	lru_t *c = lru_new(1 << 20, 8);
	for (int i = 0; i < 200; i++) {
		char k[16], body[64];
		snprintf(k, sizeof k, "key%d", i);
		snprintf(body, sizeof body, "body of %d with some length", i);
		put_str(c, k, body, (uint64_t)(i % 3), 0);
	}
	lru_stats_t st;
	lru_stats(c, &st);
	cr_assert_eq(st.entries, 200);
	cr_assert_gt(st.bytes, 200 * 20);
	cr_assert_gt(lru_clear_tag(c, 1), 0);
	cr_assert_gt(lru_delete_prefix(c, "key1", 4), 0);
	cr_assert_eq(lru_delete(c, fnv1a("key0", 4), "key0", 4), 1);
	cr_assert_eq(lru_delete(c, fnv1a("key0", 4), "key0", 4), 0);
	size_t left = lru_clear(c);
	lru_stats(c, &st);
	cr_assert_gt(left, 0);
	cr_assert_eq(st.entries, 0);
	cr_assert_eq(st.bytes, 0);
	lru_free(c);
}

struct fake_clock {
	uint64_t now;
};

static uint64_t fake_now(void *arg)
{
	return ((struct fake_clock *)arg)->now;
}

Test(lru, ttl_expiry_injected_clock)
{
	struct fake_clock clk = {1000};
	lru_t *c = lru_new(1 << 16, 2);
	lru_set_clock(c, fake_now, &clk);
	put_str(c, "short", "s", 0, 100);
	put_str(c, "long", "l", 0, 10000);
	put_str(c, "forever", "f", 0, 0);
	clk.now = 1099;
	cr_assert(has(c, "short"));
	clk.now = 1100;
	cr_assert_not(has(c, "short")); /* expired: miss, and freed */
	lru_stats_t st;
	lru_stats(c, &st);
	cr_assert_eq(st.expirations, 1);
	cr_assert_eq(st.entries, 2);

	clk.now = 1000000;
	cr_assert_eq(lru_expire(c), 1); /* "long" swept without being asked for */
	lru_stats(c, &st);
	cr_assert_eq(st.entries, 1);
	cr_assert_eq(st.expirations, 2);
	cr_assert(has(c, "forever"));
	lru_free(c);
}

Test(lru, ttl_expiry_real_clock)
{
	lru_t *c = lru_new(1 << 16, 2);
	put_str(c, "k", "v", 0, 30);
	cr_assert(has(c, "k"));
	struct timespec ts = {0, 80 * 1000000};
	nanosleep(&ts, NULL);
	cr_assert_not(has(c, "k"));
	lru_free(c);
}

Test(lru, expired_tail_counts_as_expiration)
{
	struct fake_clock clk = {0};
	lru_t *c = lru_new(budget_for(2, "a", "x"), 1);
	lru_set_clock(c, fake_now, &clk);
	put_str(c, "a", "x", 0, 10);
	put_str(c, "b", "x", 0, 0);
	clk.now = 50;
	put_str(c, "c", "x", 0, 0);
	lru_stats_t st;
	lru_stats(c, &st);
	cr_assert_eq(st.expirations, 1);
	cr_assert_eq(st.evictions, 0);
	lru_free(c);
}

Test(lru, refcount_keeps_evicted_entry_readable)
{
	lru_t *c = lru_new(budget_for(1, "a", "first body"), 1);
	put_str(c, "a", "first body", 0, 0);
	lru_entry_t *e = get_str(c, "a");
	lru_entry_t *e2 = lru_entry_ref(e);
	put_str(c, "b", "other body", 0, 0); /* evicts a */
	cr_assert_not(has(c, "a"));
	lru_clear(c);
	/* ASan would report a use-after-free here if eviction had freed it. */
	cr_assert_str_eq(lru_entry_blob(e, 0).p, "first body");
	lru_entry_release(e);
	cr_assert_str_eq(lru_entry_blob(e2, 0).p, "first body");
	lru_entry_release(e2);

	put_str(c, "c", "third", 0, 0);
	lru_entry_t *e3 = get_str(c, "c");
	lru_free(c); /* the reader's reference outlives the cache */
	cr_assert_str_eq(lru_entry_blob(e3, 0).p, "third");
	lru_entry_release(e3);
}

Test(lru, clear_tag)
{
	lru_t *c = lru_new(1 << 20, 4);
	put_str(c, "org1/a", "x", 1, 0);
	put_str(c, "org1/b", "x", 1, 0);
	put_str(c, "org2/a", "x", 2, 0);
	cr_assert_eq(lru_clear_tag(c, 1), 2);
	cr_assert_not(has(c, "org1/a"));
	cr_assert_not(has(c, "org1/b"));
	cr_assert(has(c, "org2/a"));
	cr_assert_eq(lru_clear_tag(c, 1), 0);
	cr_assert_eq(lru_delete_prefix(c, "org2/", 5), 1);
	cr_assert_not(has(c, "org2/a"));
	lru_free(c);
}

Test(lru, hash_collision_different_key_is_miss)
{
	lru_t *c = lru_new(1 << 20, 4);
	lru_value_t va = val1("A"), vb = val1("B");
	cr_assert_eq(lru_put(c, 999, "alpha", 5, &va, 0, 0), 0);
	cr_assert_null(lru_get(c, 999, "bravo", 5));
	cr_assert_null(lru_get(c, 999, "alph", 4));
	/* Both keys may live under one hash; each gets its own value. */
	cr_assert_eq(lru_put(c, 999, "bravo", 5, &vb, 0, 0), 0);
	lru_entry_t *a = lru_get(c, 999, "alpha", 5);
	lru_entry_t *b = lru_get(c, 999, "bravo", 5);
	cr_assert_str_eq(lru_entry_blob(a, 0).p, "A");
	cr_assert_str_eq(lru_entry_blob(b, 0).p, "B");
	lru_entry_release(a);
	lru_entry_release(b);
	cr_assert_eq(lru_delete(c, 999, "alpha", 5), 1);
	cr_assert_not_null(b = lru_get(c, 999, "bravo", 5));
	lru_entry_release(b);
	lru_free(c);
}

Test(lru, table_growth_keeps_entries)
{
	lru_t *c = lru_new(64 << 20, 1);
	for (int i = 0; i < 5000; i++) {
		char k[16];
		snprintf(k, sizeof k, "g%d", i);
		put_str(c, k, k, 0, 0);
	}
	for (int i = 0; i < 5000; i++) {
		char k[16];
		snprintf(k, sizeof k, "g%d", i);
		lru_entry_t *e = get_str(c, k);
		cr_assert_not_null(e);
		cr_assert_str_eq(lru_entry_blob(e, 0).p, k);
		lru_entry_release(e);
	}
	lru_free(c);
}

#endif

/* Stress: threads get, put, delete and clear over a small key space in a
 * cache small enough to evict constantly. Every value embeds its key, so a
 * reader checks it got the bytes for the key it asked for. */
#define STRESS_THREADS 8
#define STRESS_KEYS 512
#define STRESS_OPS 40000

struct stress_arg {
	lru_t *c;
	unsigned seed;
	uint64_t hits;
	uint64_t bad; /* Criterion asserts only from the test's own thread */
};

static void *stress_thread(void *p)
{
	struct stress_arg *a = p;
	unsigned s = a->seed;
	lru_entry_t *held = NULL;
	for (int i = 0; i < STRESS_OPS; i++) {
		s = s * 1103515245u + 12345u;
		unsigned r = s >> 8;
		char key[32], body[160];
		int kn = snprintf(key, sizeof key, "key-%u", r % STRESS_KEYS);
		/* Keys collide on purpose in the hash (mod 64), never in bytes. */
		uint64_t h = fnv1a(key, (size_t)kn) % 64;
		unsigned op = (r >> 12) % 100;
		if (op < 60) {
			lru_entry_t *e = lru_get(a->c, h, key, (size_t)kn);
			if (e) {
				slice_t b = lru_entry_blob(e, 0);
				if (b.len < (size_t)kn || memcmp(b.p, key, (size_t)kn) != 0 || b.p[kn] != '|')
					a->bad++;
				a->hits++;
				/* Keep some entries across later evictions. */
				if (op < 5) {
					lru_entry_release(held);
					held = e;
				} else {
					lru_entry_release(e);
				}
			}
		} else if (op < 95) {
			int bn = snprintf(body, sizeof body, "%s|%0*u", key, (int)(r % 100), r);
			lru_value_t v = {.nblobs = 2};
			v.blob[0] = (slice_t){body, (size_t)bn};
			v.blob[1] = (slice_t){key, (size_t)kn};
			lru_put(a->c, h, key, (size_t)kn, &v, r % 4, (r % 7) ? 0 : 1);
		} else if (op < 99) {
			lru_delete(a->c, h, key, (size_t)kn);
		} else if (r % 50 == 0) {
			lru_clear_tag(a->c, r % 4);
		} else {
			lru_expire(a->c);
		}
		if (held) {
			slice_t k = lru_entry_blob(held, 1);
			slice_t b = lru_entry_blob(held, 0);
			if (memcmp(b.p, k.p, k.len) != 0)
				a->bad++;
		}
	}
	lru_entry_release(held);
	return NULL;
}

/* Runs the stress workload; returns the number of problems found. */
static int stress_run(void)
{
	int problems = 0;
	lru_t *c = lru_new(24 * 1024, 4);
	pthread_t t[STRESS_THREADS];
	struct stress_arg args[STRESS_THREADS];
	for (int i = 0; i < STRESS_THREADS; i++) {
		args[i] = (struct stress_arg){c, (unsigned)i * 7919u + 1, 0, 0};
		pthread_create(&t[i], NULL, stress_thread, &args[i]);
	}
	uint64_t hits = 0;
	for (int i = 0; i < STRESS_THREADS; i++) {
		pthread_join(t[i], NULL);
		hits += args[i].hits;
		if (args[i].bad) {
			fprintf(stderr, "stress: thread %d read wrong bytes %llu times\n", i,
				(unsigned long long)args[i].bad);
			problems++;
		}
	}
	lru_stats_t st;
	lru_stats(c, &st);
	if (st.hits != hits || st.evictions == 0 || st.bytes > 24 * 1024) {
		fprintf(stderr, "stress: hits %llu/%llu evictions %llu bytes %llu\n",
			(unsigned long long)st.hits, (unsigned long long)hits,
			(unsigned long long)st.evictions, (unsigned long long)st.bytes);
		problems++;
	}
	lru_clear(c);
	lru_stats(c, &st);
	if (st.bytes != 0 || st.entries != 0) {
		fprintf(stderr, "stress: %llu bytes left after clear\n", (unsigned long long)st.bytes);
		problems++;
	}
	lru_free(c);
	return problems;
}

#ifndef LRU_TSAN_MAIN
Test(lru, stress_threads, .timeout = 120)
{
	cr_assert_eq(stress_run(), 0);
}
#else
int main(void)
{
	int problems = stress_run();
	printf("lru stress: %s\n", problems ? "FAILED" : "ok");
	return problems != 0;
}
#endif
