#include "monitor/qstats.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "monitor/metrics.h"

/*
 * DESIGN
 *
 * Statements live in an open-addressed table of QSTATS_STATEMENTS atomic
 * pointers keyed by the SQL address. An entry is built completely (key,
 * copied text, class) before a compare-and-swap publishes it, so a reader
 * that finds it sees it whole; entries are never removed (statements are
 * literals: a process has a few hundred). When the table is full, further
 * statements share the "(other)" entry rather than growing it.
 *
 * Per-statement histogram: 2 buckets per doubling of microseconds (bucket
 * 0 below 1 us, then [2^b, 1.5 * 2^b) and [1.5 * 2^b, 2^(b+1)) us), enough
 * for a p95 within about 25 %; the global latency distribution with its
 * finer buckets is brisk_db_query_duration_seconds.
 */

#define SLOTS QSTATS_STATEMENTS /* a power of two */
#define QBUCKETS 53             /* 0, then 2 per doubling up to 2^26 us (67 s) */

struct entry {
	const char *key;
	char *text;
	bool write;
	_Atomic uint64_t count, total_ns, max_ns;
	_Atomic uint64_t bucket[QBUCKETS];
};

struct slow {
	double at;                /* wall clock, seconds */
	uint64_t ns;
	struct entry *e;
	int nparams;
	uint64_t shape;
};

static _Atomic(struct entry *) table[SLOTS];
static char other_text[] = "(other statements)";
static struct entry other = {.key = NULL, .text = other_text};
static _Atomic uint64_t threshold_ns = 100000000u;
static _Atomic uint64_t n_slow;
static _Atomic(metrics_histogram_t *) hist_read, hist_write;
static _Atomic(metrics_counter_t *) slow_counter;

static pthread_mutex_t slow_mu = PTHREAD_MUTEX_INITIALIZER;
static struct slow ring[QSTATS_SLOW_KEEP];
static unsigned ring_n, ring_next;

static struct entry *entry_get(const char *sql, bool write);
static unsigned qbucket(uint64_t ns);
static double entry_p95(struct entry *e);
static void observe_metrics(bool write, uint64_t ns);
static void note_slow(struct entry *e, uint64_t ns, int nparams, uint64_t shape);
static void put_sql_compact(buf_t *out, const char *sql, size_t max);
static void put_iso_time(buf_t *out, double at);
static void stmt_fill(struct entry *e, qstats_stmt *out);

void qstats_record(const char *sql, uint64_t ns, bool write, int nparams, uint64_t shape)
{
	struct entry *e = sql ? entry_get(sql, write) : &other;
	atomic_fetch_add_explicit(&e->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&e->total_ns, ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&e->bucket[qbucket(ns)], 1, memory_order_relaxed);
	uint64_t mx = atomic_load_explicit(&e->max_ns, memory_order_relaxed);
	while (ns > mx && !atomic_compare_exchange_weak_explicit(&e->max_ns, &mx, ns, memory_order_relaxed,
								 memory_order_relaxed))
		;
	observe_metrics(write, ns);
	uint64_t th = atomic_load_explicit(&threshold_ns, memory_order_relaxed);
	if (th && ns >= th)
		note_slow(e, ns, nparams, shape);
}

void qstats_set_threshold(double seconds)
{
	atomic_store(&threshold_ns, seconds > 0 ? (uint64_t)(seconds * 1e9) : 0);
}

double qstats_threshold(void)
{
	return (double)atomic_load(&threshold_ns) / 1e9;
}

void qstats_get_totals(qstats_totals *t)
{
	/* Summed from the entries, so recording touches no shared counter. */
	memset(t, 0, sizeof *t);
	uint64_t ns = 0;
	for (size_t i = 0; i <= SLOTS; i++) {
		struct entry *e = i < SLOTS ? atomic_load_explicit(&table[i], memory_order_acquire) : &other;
		if (!e)
			continue;
		uint64_t n = atomic_load_explicit(&e->count, memory_order_relaxed);
		t->executions += n;
		*(e->write ? &t->writes : &t->reads) += n;
		ns += atomic_load_explicit(&e->total_ns, memory_order_relaxed);
	}
	t->slow = atomic_load(&n_slow);
	t->seconds = (double)ns / 1e9;
}

static int by_total_desc(const void *a, const void *b)
{
	const qstats_stmt *x = a, *y = b;
	return x->total_s < y->total_s ? 1 : x->total_s > y->total_s ? -1 : 0;
}

size_t qstats_top(qstats_stmt *out, size_t n)
{
	qstats_stmt *all = xmalloc((SLOTS + 1) * sizeof *all);
	size_t k = 0;
	for (size_t i = 0; i < SLOTS; i++) {
		struct entry *e = atomic_load_explicit(&table[i], memory_order_acquire);
		if (e && atomic_load_explicit(&e->count, memory_order_relaxed))
			stmt_fill(e, &all[k++]);
	}
	if (atomic_load_explicit(&other.count, memory_order_relaxed))
		stmt_fill(&other, &all[k++]);
	qsort(all, k, sizeof *all, by_total_desc);
	if (k > n)
		k = n;
	memcpy(out, all, k * sizeof *all);
	free(all);
	return k;
}

bool qstats_find(const char *sql, qstats_stmt *out)
{
	for (size_t i = 0; i < SLOTS; i++) {
		struct entry *e = atomic_load_explicit(&table[i], memory_order_acquire);
		if (e && (e->key == sql || strcmp(e->text, sql) == 0)) {
			stmt_fill(e, out);
			return true;
		}
	}
	return false;
}

void qstats_json(buf_t *out, size_t max_statements)
{
	buf_printf(out, "{\"threshold_ms\":%.1f,\"slow_total\":%llu,\"slow\":[", qstats_threshold() * 1e3,
		   (unsigned long long)atomic_load(&n_slow));
	pthread_mutex_lock(&slow_mu);
	for (unsigned i = 0; i < ring_n; i++) {
		const struct slow *s = &ring[(ring_next + QSTATS_SLOW_KEEP - 1 - i) % QSTATS_SLOW_KEEP];
		buf_puts(out, i ? ",{\"at\":" : "{\"at\":");
		put_iso_time(out, s->at);
		buf_printf(out, ",\"duration_ms\":%.3f,\"class\":\"%s\",\"sql\":", (double)s->ns / 1e6,
			   s->e->write ? "write" : "read");
		buf_json_str(out, s->e->text, strlen(s->e->text));
		buf_printf(out, ",\"params\":{\"count\":%d,\"types\":[", s->nparams);
		static const char *const names[] = {"unset", "int", "real", "text", "blob", "null"};
		for (int p = 0; p < s->nparams && p < QSTATS_SHAPE_MAX; p++) {
			unsigned t = (unsigned)(s->shape >> (3 * p)) & 7;
			buf_printf(out, "%s\"%s\"", p ? "," : "", t < 6 ? names[t] : "unset");
		}
		buf_puts(out, "]}}");
	}
	pthread_mutex_unlock(&slow_mu);
	buf_puts(out, "],\"statements\":[");
	qstats_stmt *top = xmalloc((max_statements + 1) * sizeof *top);
	size_t n = qstats_top(top, max_statements);
	for (size_t i = 0; i < n; i++) {
		const qstats_stmt *s = &top[i];
		buf_puts(out, i ? ",{\"sql\":" : "{\"sql\":");
		buf_json_str(out, s->text, strlen(s->text));
		buf_printf(out,
			   ",\"class\":\"%s\",\"count\":%llu,\"total_ms\":%.3f,\"mean_ms\":%.4f,\"p95_ms\":%.4f,"
			   "\"max_ms\":%.3f}",
			   s->write ? "write" : "read", (unsigned long long)s->count, s->total_s * 1e3,
			   s->count ? s->total_s * 1e3 / (double)s->count : 0, s->p95_s * 1e3, s->max_s * 1e3);
	}
	free(top);
	buf_puts(out, "]}");
}

void qstats_shape_text(buf_t *out, int nparams, uint64_t shape)
{
	static const char *const names[] = {"unset", "int", "real", "text", "blob", "null"};
	if (nparams <= 0) {
		buf_puts(out, "no params");
		return;
	}
	buf_printf(out, "%d param%s (", nparams, nparams == 1 ? "" : "s");
	for (int p = 0; p < nparams; p++) {
		if (p == QSTATS_SHAPE_MAX) {
			buf_puts(out, ", ...");
			break;
		}
		unsigned t = (unsigned)(shape >> (3 * p)) & 7;
		buf_printf(out, "%s%s", p ? ", " : "", t < 6 ? names[t] : "unset");
	}
	buf_putc(out, ')');
}

void qstats_reset_for_tests(void)
{
	for (size_t i = 0; i < SLOTS; i++) {
		struct entry *e = atomic_exchange(&table[i], NULL);
		if (e) {
			free(e->text);
			free(e);
		}
	}
	atomic_store(&other.count, 0);
	atomic_store(&other.total_ns, 0);
	atomic_store(&other.max_ns, 0);
	for (size_t b = 0; b < QBUCKETS; b++)
		atomic_store(&other.bucket[b], 0);
	atomic_store(&n_slow, 0);
	atomic_store(&hist_read, NULL);
	atomic_store(&hist_write, NULL);
	atomic_store(&slow_counter, NULL);
	atomic_store(&threshold_ns, 100000000u);
	pthread_mutex_lock(&slow_mu);
	ring_n = ring_next = 0;
	pthread_mutex_unlock(&slow_mu);
}

/* Private helpers. */

static struct entry *entry_get(const char *sql, bool write)
{
	uintptr_t h = (uintptr_t)sql;
	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ull;
	size_t i = (size_t)(h >> 40) & (SLOTS - 1);
	struct entry *fresh = NULL;
	for (size_t probe = 0; probe < SLOTS; probe++, i = (i + 1) & (SLOTS - 1)) {
		struct entry *e = atomic_load_explicit(&table[i], memory_order_acquire);
		if (e) {
			if (e->key == sql) {
				if (fresh) {
					free(fresh->text);
					free(fresh);
				}
				return e;
			}
			continue;
		}
		if (!fresh) {
			fresh = xcalloc(1, sizeof *fresh);
			fresh->key = sql;
			fresh->text = xstrdup(sql);
			fresh->write = write;
		}
		struct entry *expected = NULL;
		if (atomic_compare_exchange_strong_explicit(&table[i], &expected, fresh, memory_order_acq_rel,
							    memory_order_acquire))
			return fresh;
		/* Lost the slot to another statement, or to this one: look again. */
		if (expected->key == sql) {
			free(fresh->text);
			free(fresh);
			return expected;
		}
	}
	if (fresh) {
		free(fresh->text);
		free(fresh);
	}
	return &other;
}

static unsigned qbucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	if (!us)
		return 0;
	unsigned b = 63u - (unsigned)__builtin_clzll(us);
	unsigned half = b ? (unsigned)(us >> (b - 1)) & 1u : 0;
	unsigned i = 1 + 2 * b + half;
	return i < QBUCKETS ? i : QBUCKETS - 1;
}

/* Bucket i's range in seconds. */
static void qbucket_range(unsigned i, double *lo, double *hi)
{
	if (!i) {
		*lo = 0;
		*hi = 1e-6;
		return;
	}
	unsigned b = (i - 1) / 2, half = (i - 1) % 2;
	double base = ldexp(1e-6, (int)b);
	*lo = base * (half ? 1.5 : 1.0);
	*hi = base * (half ? 2.0 : 1.5);
}

static double entry_p95(struct entry *e)
{
	uint64_t c[QBUCKETS], total = 0;
	for (unsigned i = 0; i < QBUCKETS; i++)
		total += c[i] = atomic_load_explicit(&e->bucket[i], memory_order_relaxed);
	if (!total)
		return 0;
	double rank = 0.95 * (double)total, max = (double)atomic_load(&e->max_ns) / 1e9;
	uint64_t before = 0;
	for (unsigned i = 0; i < QBUCKETS; i++) {
		if (c[i] && (double)(before + c[i]) >= rank) {
			double lo, hi;
			qbucket_range(i, &lo, &hi);
			double v = lo + (hi - lo) * ((rank - (double)before) / (double)c[i]);
			return v < max ? v : max;
		}
		before += c[i];
	}
	return max;
}

static void stmt_fill(struct entry *e, qstats_stmt *out)
{
	out->text = e->text;
	out->write = e->write;
	out->count = atomic_load_explicit(&e->count, memory_order_relaxed);
	out->total_s = (double)atomic_load_explicit(&e->total_ns, memory_order_relaxed) / 1e9;
	out->max_s = (double)atomic_load_explicit(&e->max_ns, memory_order_relaxed) / 1e9;
	out->p95_s = entry_p95(e);
}

static void observe_metrics(bool write, uint64_t ns)
{
	_Atomic(metrics_histogram_t *) *slot = write ? &hist_write : &hist_read;
	metrics_histogram_t *h = atomic_load_explicit(slot, memory_order_acquire);
	if (!h) {
		/* Idempotent: racing threads get the same series. */
		h = metrics_histogram("brisk_db_query_duration_seconds",
				      "Store statement execution time, first step to last step or reset, by class",
				      write ? "class=\"write\"" : "class=\"read\"");
		atomic_store_explicit(slot, h, memory_order_release);
	}
	metrics_histogram_observe(h, (double)ns / 1e9);
}

static void note_slow(struct entry *e, uint64_t ns, int nparams, uint64_t shape)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	atomic_fetch_add(&n_slow, 1);
	metrics_counter_t *c = atomic_load(&slow_counter);
	if (!c) {
		c = metrics_counter("brisk_db_slow_queries_total", "Store statements slower than the slow-query threshold",
				    NULL);
		atomic_store(&slow_counter, c);
	}
	metrics_counter_add(c, 1);
	pthread_mutex_lock(&slow_mu);
	ring[ring_next] = (struct slow){(double)ts.tv_sec + (double)ts.tv_nsec * 1e-9, ns, e, nparams, shape};
	ring_next = (ring_next + 1) % QSTATS_SLOW_KEEP;
	if (ring_n < QSTATS_SLOW_KEEP)
		ring_n++;
	pthread_mutex_unlock(&slow_mu);

	buf_t msg = BUF_INIT;
	qstats_shape_text(&msg, nparams, shape);
	buf_puts(&msg, ": ");
	put_sql_compact(&msg, e->text, 400);
	log_warn("slow query: %.1f ms (%s), %s", (double)ns / 1e6, e->write ? "write" : "read", msg.p);
	buf_free(&msg);
}

/* The statement on one line: whitespace runs as one space, at most max
 * bytes (then "..."). */
static void put_sql_compact(buf_t *out, const char *sql, size_t max)
{
	size_t n = 0;
	bool space = false;
	for (const char *p = sql; *p; p++) {
		bool ws = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
		if (ws) {
			space = n > 0;
			continue;
		}
		if (n >= max) {
			buf_puts(out, "...");
			return;
		}
		if (space) {
			buf_putc(out, ' ');
			n++;
			space = false;
		}
		buf_putc(out, *p);
		n++;
	}
}

static void put_iso_time(buf_t *out, double at)
{
	time_t t = (time_t)at;
	struct tm tm;
	gmtime_r(&t, &tm);
	char s[40];
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(out, "\"%s.%03dZ\"", s, (int)((at - (double)t) * 1000));
}
