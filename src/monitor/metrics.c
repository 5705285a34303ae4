#include "monitor/metrics.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "monitor/process.h"

/*
 * DESIGN
 *
 * The registry is a list of families (name, help, type), each with a list
 * of series (one per label set), guarded by one mutex. Only creation,
 * rendering and window snapshots take it; recording never does.
 *
 * Hot path: a counter or histogram owns one shard per CPU (a power of two
 * >= the number of configured CPUs, at most MAX_SHARDS), each aligned to a
 * cache line. A recording thread picks the shard of the CPU it runs on
 * (sched_getcpu reads the kernel's rseq area, a couple of nanoseconds) and
 * updates it with relaxed atomics. Being preempted between the lookup and
 * the add only means two CPUs touch one shard for a moment: the atomics
 * keep the count exact, only the cache line moves. Readers sum the shards;
 * a read is not one instant across buckets, which Prometheus tolerates.
 *
 * Histogram: the bucket index is a branch-free binary search over the 82
 * bounds padded with +Inf to 128. Each shard holds 83 bucket counts and the
 * sum as the bits of a double, updated by compare-and-swap (uncontended, so
 * it succeeds the first time). The count is the sum of the buckets, so
 * _count always equals the +Inf bucket.
 *
 * Windows: a histogram keeps two rings of snapshots of its summed bucket
 * counts, one every 10 s (7 slots: a minute back) and one every 60 s (16
 * slots: fifteen minutes back), plus the implicit all-zero snapshot at its
 * creation. A window's counts are "now minus the newest snapshot at least
 * window seconds old"; counts only grow, so the difference never wraps.
 * 23 snapshots of 83 counters cost about 15 KB per histogram.
 */

#define NBOUNDS 82                /* finite bucket bounds */
#define NCELLS (NBOUNDS + 1)      /* plus the +Inf bucket */
_Static_assert(NCELLS == METRICS_NCELLS, "metrics.h states the cell count");
#define SEARCH_SIZE 128           /* NBOUNDS padded with +Inf to a power of two */
#define MAX_SHARDS 64
#define FINE_STEP 10.0
#define FINE_SLOTS 7
#define COARSE_STEP 60.0
#define COARSE_SLOTS 16

enum kind { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM };

static const char *const kind_names[] = {"counter", "gauge", "histogram"};

struct family;

/* First member of every series type, so a struct series * converts back. */
struct series {
	struct series *next;
	struct family *fam;
	char *labels;             /* validated, escaped; "" for none */
	metrics_value_fn fn;      /* set: a value computed at scrape time only */
	void *arg;
};

struct family {
	struct family *next;
	char *name;
	char *help;
	enum kind kind;
	struct series *head, **tail;
};

struct counter_cell {
	_Atomic uint64_t v;
} __attribute__((aligned(64)));

struct metrics_counter {
	struct series s;
	void *raw;
	struct counter_cell *cells;
};

struct metrics_gauge {
	struct series s;
	_Atomic uint64_t bits;    /* a double */
};

struct hist_cell {
	_Atomic uint64_t count[NCELLS];
	_Atomic uint64_t sum_bits; /* a double */
} __attribute__((aligned(64)));

struct snap {
	double t;
	uint64_t count[NCELLS];
};

struct ring {
	struct snap *slot;
	unsigned cap, n, next;    /* next: slot the coming snapshot overwrites */
	double step;
	double last;              /* time of the newest snapshot (or creation) */
};

struct metrics_histogram {
	struct series s;
	void *raw;
	struct hist_cell *cells;
	pthread_mutex_t mu;       /* guards the rings */
	double created;
	struct ring fine, coarse;
};

static struct {
	pthread_mutex_t mu;
	struct family *head, **tail;
} reg = {PTHREAD_MUTEX_INITIALIZER, NULL, &reg.head};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static unsigned shard_mask;
static double bounds[SEARCH_SIZE];
static char le_text[NBOUNDS][16];
static atomic_uint next_thread_shard;
static double (*clock_now)(void);

/* Private helpers. */
static void init(void);
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static double monotonic_now(void);
static unsigned shard_index(void);
static size_t bucket_of(double v);
static uint64_t dbl_bits(double d);
static double bits_dbl(uint64_t u);
static void *alloc_aligned(size_t size, void **raw);
static int name_valid(const char *s);
static int labels_valid(const char *s, int forbid_le);
static struct family *family_get(const char *name, const char *help, enum kind kind);
static struct series *series_find(struct family *f, const char *labels);
static void series_add(struct family *f, struct series *s, const char *labels);
static struct series *func_series(const char *name, const char *help, const char *labels,
				  enum kind kind, metrics_value_fn fn, void *arg);
static void hist_totals(const metrics_histogram_t *h, uint64_t out[NCELLS]);
static void hist_snapshot_locked(metrics_histogram_t *h, double now);
static double quantile_of(const uint64_t count[NCELLS], double q);
static void put_sample_name(buf_t *out, const char *name, const char *suffix, const char *labels,
			    const char *le);
static void render_series(buf_t *out, const struct family *f, struct series *s);

metrics_counter_t *metrics_counter(const char *name, const char *help, const char *labels)
{
	pthread_once(&init_once, init);
	pthread_mutex_lock(&reg.mu);
	struct family *f = family_get(name, help, KIND_COUNTER);
	struct series *s = series_find(f, labels);
	if (s && s->fn)
		die("counter %s{%s} is registered as a function", name, labels ? labels : "");
	if (!s) {
		if (!labels_valid(labels, 0))
			die("invalid labels for %s: %s", name, labels);
		metrics_counter_t *c = xcalloc(1, sizeof *c);
		c->cells = alloc_aligned((shard_mask + 1) * sizeof(struct counter_cell), &c->raw);
		s = &c->s;
		series_add(f, s, labels);
	}
	pthread_mutex_unlock(&reg.mu);
	return (metrics_counter_t *)s;
}

void metrics_counter_add(metrics_counter_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->cells[shard_index()].v, n, memory_order_relaxed);
}

uint64_t metrics_counter_value(const metrics_counter_t *c)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i <= shard_mask; i++)
		sum += atomic_load_explicit(&c->cells[i].v, memory_order_relaxed);
	return sum;
}

void metrics_counter_func(const char *name, const char *help, const char *labels,
			  metrics_value_fn fn, void *arg)
{
	func_series(name, help, labels, KIND_COUNTER, fn, arg);
}

metrics_gauge_t *metrics_gauge(const char *name, const char *help, const char *labels)
{
	pthread_once(&init_once, init);
	pthread_mutex_lock(&reg.mu);
	struct family *f = family_get(name, help, KIND_GAUGE);
	struct series *s = series_find(f, labels);
	if (s && s->fn)
		die("gauge %s{%s} is registered as a function", name, labels ? labels : "");
	if (!s) {
		if (!labels_valid(labels, 0))
			die("invalid labels for %s: %s", name, labels);
		metrics_gauge_t *g = xcalloc(1, sizeof *g);
		atomic_init(&g->bits, dbl_bits(0.0));
		s = &g->s;
		series_add(f, s, labels);
	}
	pthread_mutex_unlock(&reg.mu);
	return (metrics_gauge_t *)s;
}

void metrics_gauge_set(metrics_gauge_t *g, double v)
{
	atomic_store_explicit(&g->bits, dbl_bits(v), memory_order_relaxed);
}

void metrics_gauge_add(metrics_gauge_t *g, double d)
{
	uint64_t old = atomic_load_explicit(&g->bits, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&g->bits, &old, dbl_bits(bits_dbl(old) + d),
						      memory_order_relaxed, memory_order_relaxed))
		;
}

double metrics_gauge_value(const metrics_gauge_t *g)
{
	return bits_dbl(atomic_load_explicit(&g->bits, memory_order_relaxed));
}

void metrics_gauge_func(const char *name, const char *help, const char *labels,
			metrics_value_fn fn, void *arg)
{
	func_series(name, help, labels, KIND_GAUGE, fn, arg);
}

metrics_histogram_t *metrics_histogram(const char *name, const char *help, const char *labels)
{
	pthread_once(&init_once, init);
	pthread_mutex_lock(&reg.mu);
	struct family *f = family_get(name, help, KIND_HISTOGRAM);
	struct series *s = series_find(f, labels);
	if (!s) {
		if (!labels_valid(labels, 1))
			die("invalid labels for histogram %s: %s", name, labels);
		metrics_histogram_t *h = xcalloc(1, sizeof *h);
		h->cells = alloc_aligned((shard_mask + 1) * sizeof(struct hist_cell), &h->raw);
		pthread_mutex_init(&h->mu, NULL);
		h->created = clock_now();
		h->fine = (struct ring){xcalloc(FINE_SLOTS, sizeof(struct snap)), FINE_SLOTS, 0, 0,
					FINE_STEP, h->created};
		h->coarse = (struct ring){xcalloc(COARSE_SLOTS, sizeof(struct snap)), COARSE_SLOTS, 0, 0,
					  COARSE_STEP, h->created};
		s = &h->s;
		series_add(f, s, labels);
	}
	pthread_mutex_unlock(&reg.mu);
	return (metrics_histogram_t *)s;
}

void metrics_histogram_observe(metrics_histogram_t *h, double v)
{
	if (isnan(v))
		return;
	struct hist_cell *c = &h->cells[shard_index()];
	atomic_fetch_add_explicit(&c->count[bucket_of(v)], 1, memory_order_relaxed);
	uint64_t old = atomic_load_explicit(&c->sum_bits, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&c->sum_bits, &old, dbl_bits(bits_dbl(old) + v),
						      memory_order_relaxed, memory_order_relaxed))
		;
}

uint64_t metrics_histogram_count(const metrics_histogram_t *h)
{
	uint64_t count[NCELLS], total = 0;
	hist_totals(h, count);
	for (size_t i = 0; i < NCELLS; i++)
		total += count[i];
	return total;
}

double metrics_histogram_sum(const metrics_histogram_t *h)
{
	double sum = 0;
	for (unsigned i = 0; i <= shard_mask; i++)
		sum += bits_dbl(atomic_load_explicit(&h->cells[i].sum_bits, memory_order_relaxed));
	return sum;
}

double metrics_histogram_quantile(const metrics_histogram_t *h, double q)
{
	uint64_t count[NCELLS];
	hist_totals(h, count);
	return quantile_of(count, q);
}

uint64_t metrics_histogram_window_counts(metrics_histogram_t *h, double window_seconds,
					 uint64_t counts[METRICS_NCELLS])
{
	uint64_t base[NCELLS] = {0}, total = 0;
	double now = clock_now();
	double target = window_seconds > 0 ? now - window_seconds : -INFINITY;

	pthread_mutex_lock(&h->mu);
	hist_snapshot_locked(h, now);
	/* The creation time is the all-zero snapshot: the fallback when no
	 * snapshot is old enough (the histogram is younger than the window). */
	const struct snap *best = NULL;
	double best_t = h->created;
	const struct ring *rings[] = {&h->fine, &h->coarse};
	for (size_t r = 0; r < 2; r++)
		for (unsigned i = 0; i < rings[r]->n; i++) {
			const struct snap *sn = &rings[r]->slot[i];
			if (sn->t <= target && sn->t > best_t) {
				best = sn;
				best_t = sn->t;
			}
		}
	if (best)
		memcpy(base, best->count, sizeof base);
	hist_totals(h, counts);
	pthread_mutex_unlock(&h->mu);

	for (size_t i = 0; i < NCELLS; i++) {
		counts[i] -= base[i];
		total += counts[i];
	}
	return total;
}

double metrics_histogram_window_quantile(metrics_histogram_t *h, double window_seconds, double q)
{
	uint64_t count[NCELLS];
	/* A window of 0 or less would mean "everything" to window_counts. */
	if (!(window_seconds > 0))
		window_seconds = 1e-9;
	metrics_histogram_window_counts(h, window_seconds, count);
	return quantile_of(count, q);
}

double metrics_counts_quantile(const uint64_t counts[METRICS_NCELLS], double q)
{
	pthread_once(&init_once, init);
	return quantile_of(counts, q);
}

void metrics_histogram_each(const char *name, metrics_histogram_each_fn fn, void *ud)
{
	pthread_once(&init_once, init);
	pthread_mutex_lock(&reg.mu);
	for (struct family *f = reg.head; f; f = f->next)
		if (f->kind == KIND_HISTOGRAM && strcmp(f->name, name) == 0)
			for (struct series *s = f->head; s; s = s->next)
				fn(ud, s->labels, (metrics_histogram_t *)s);
	pthread_mutex_unlock(&reg.mu);
}

void metrics_counter_each(const char *name, metrics_counter_each_fn fn, void *ud)
{
	pthread_once(&init_once, init);
	pthread_mutex_lock(&reg.mu);
	for (struct family *f = reg.head; f; f = f->next)
		if (f->kind == KIND_COUNTER && strcmp(f->name, name) == 0)
			for (struct series *s = f->head; s; s = s->next)
				fn(ud, s->labels,
				   s->fn ? (uint64_t)s->fn(s->arg) : metrics_counter_value((metrics_counter_t *)s));
	pthread_mutex_unlock(&reg.mu);
}

void metrics_tick(void)
{
	pthread_once(&init_once, init);
	double now = clock_now();
	pthread_mutex_lock(&reg.mu);
	for (struct family *f = reg.head; f; f = f->next) {
		if (f->kind != KIND_HISTOGRAM)
			continue;
		for (struct series *s = f->head; s; s = s->next) {
			metrics_histogram_t *h = (metrics_histogram_t *)s;
			pthread_mutex_lock(&h->mu);
			hist_snapshot_locked(h, now);
			pthread_mutex_unlock(&h->mu);
		}
	}
	pthread_mutex_unlock(&reg.mu);
}

void metrics_render(buf_t *out)
{
	metrics_tick();
	pthread_mutex_lock(&reg.mu);
	for (struct family *f = reg.head; f; f = f->next) {
		metrics_format_family(out, f->name, f->help, kind_names[f->kind]);
		for (struct series *s = f->head; s; s = s->next)
			render_series(out, f, s);
	}
	pthread_mutex_unlock(&reg.mu);
	process_render(out);
}

size_t metrics_bucket_count(void)
{
	return NBOUNDS;
}

double metrics_bucket_bound(size_t i)
{
	pthread_once(&init_once, init);
	return i < NBOUNDS ? bounds[i] : INFINITY;
}

size_t metrics_bucket_index(double v)
{
	pthread_once(&init_once, init);
	return isnan(v) ? NBOUNDS : bucket_of(v);
}

void metrics_set_clock(double (*now)(void))
{
	pthread_once(&init_once, init);
	clock_now = now ? now : monotonic_now;
}

void metrics_reset_for_tests(void)
{
	pthread_once(&init_once, init);
	pthread_mutex_lock(&reg.mu);
	struct family *f = reg.head;
	while (f) {
		struct family *fnext = f->next;
		struct series *s = f->head;
		while (s) {
			struct series *snext = s->next;
			if (!s->fn && f->kind == KIND_COUNTER) {
				free(((metrics_counter_t *)s)->raw);
			} else if (!s->fn && f->kind == KIND_HISTOGRAM) {
				metrics_histogram_t *h = (metrics_histogram_t *)s;
				free(h->raw);
				free(h->fine.slot);
				free(h->coarse.slot);
				pthread_mutex_destroy(&h->mu);
			}
			free(s->labels);
			free(s);
			s = snext;
		}
		free(f->name);
		free(f->help);
		free(f);
		f = fnext;
	}
	reg.head = NULL;
	reg.tail = &reg.head;
	clock_now = monotonic_now;
	pthread_mutex_unlock(&reg.mu);
}

/* Private helpers. */

static void init(void)
{
	/* 2^(i/4) as 2^(i div 4) * 2^((i mod 4)/4), to need no libm. */
	static const double quarter[4] = {1.0, 1.18920711500272106672, 1.41421356237309504880,
					  1.68179283050742908606};
	for (size_t i = 0; i < NBOUNDS; i++) {
		double b = 50e-6 * (double)(1u << (i / 4)) * quarter[i % 4];
		/* Round to 3 significant digits so the le labels are short and
		 * the bound used for counting is exactly the number printed. */
		snprintf(le_text[i], sizeof le_text[i], "%.3g", b);
		bounds[i] = strtod(le_text[i], NULL);
	}
	for (size_t i = NBOUNDS; i < SEARCH_SIZE; i++)
		bounds[i] = INFINITY;

	int ncpu = get_nprocs_conf();
	unsigned n = 1;
	while (n < (unsigned)ncpu && n < MAX_SHARDS)
		n <<= 1;
	shard_mask = n - 1;
	clock_now = monotonic_now;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("brisk: metrics: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

static double monotonic_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static unsigned shard_index(void)
{
	int cpu = sched_getcpu();
	if (cpu < 0) {
		/* No getcpu (seccomp, exotic kernels): one shard per thread,
		 * dealt round-robin, is the next best thing. */
		static _Thread_local int mine = -1;
		if (mine < 0)
			mine = (int)(atomic_fetch_add_explicit(&next_thread_shard, 1, memory_order_relaxed) & 0x7fffffff);
		cpu = mine;
	}
	return (unsigned)cpu & shard_mask;
}

/* Index of the first bucket whose bound is >= v (the le semantics); values
 * above the last finite bound land in NBOUNDS, the +Inf bucket. */
static size_t bucket_of(double v)
{
	size_t i = 0;
	for (size_t half = SEARCH_SIZE / 2; half; half >>= 1)
		if (bounds[i + half - 1] < v)
			i += half;
	return i;
}

static uint64_t dbl_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

static double bits_dbl(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* xmalloc promises 16-byte alignment only; shards need a line each. The
 * memory is zeroed, which is a valid initial value for the atomics. */
static void *alloc_aligned(size_t size, void **raw)
{
	*raw = xcalloc(1, size + 64);
	return (void *)(((uintptr_t)*raw + 63) & ~(uintptr_t)63);
}

static int name_valid(const char *s)
{
	if (!s || !*s)
		return 0;
	for (const char *p = s; *p; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
			 (p != s && c >= '0' && c <= '9');
		if (!ok)
			return 0;
	}
	return 1;
}

/* name="value"(,name="value")* with the exposition format's escapes. */
static int labels_valid(const char *s, int forbid_le)
{
	if (!s || !*s)
		return 1;
	for (;;) {
		const char *n = s;
		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
		       (s != n && *s >= '0' && *s <= '9'))
			s++;
		if (s == n)
			return 0;
		if (forbid_le && s - n == 2 && n[0] == 'l' && n[1] == 'e')
			return 0;
		if (*s++ != '=' || *s++ != '"')
			return 0;
		while (*s != '"') {
			if (*s == '\0' || *s == '\n')
				return 0;
			if (*s == '\\') {
				s++;
				if (*s != '\\' && *s != '"' && *s != 'n')
					return 0;
			}
			s++;
		}
		s++;
		if (*s == '\0')
			return 1;
		if (*s++ != ',')
			return 0;
	}
}

/* Called with reg.mu held. */
static struct family *family_get(const char *name, const char *help, enum kind kind)
{
	struct family *f;
	for (f = reg.head; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			break;
	if (f) {
		if (f->kind != kind)
			die("%s is a %s, not a %s", name, kind_names[f->kind], kind_names[kind]);
		return f;
	}
	if (!name_valid(name))
		die("invalid metric name \"%s\"", name ? name : "(null)");
	f = xcalloc(1, sizeof *f);
	f->name = xstrdup(name);
	f->help = xstrdup(help ? help : "");
	f->kind = kind;
	f->tail = &f->head;
	*reg.tail = f;
	reg.tail = &f->next;
	return f;
}

static struct series *series_find(struct family *f, const char *labels)
{
	if (!labels)
		labels = "";
	for (struct series *s = f->head; s; s = s->next)
		if (strcmp(s->labels, labels) == 0)
			return s;
	return NULL;
}

static void series_add(struct family *f, struct series *s, const char *labels)
{
	s->fam = f;
	s->labels = xstrdup(labels ? labels : "");
	*f->tail = s;
	f->tail = &s->next;
}

static struct series *func_series(const char *name, const char *help, const char *labels,
				  enum kind kind, metrics_value_fn fn, void *arg)
{
	pthread_once(&init_once, init);
	pthread_mutex_lock(&reg.mu);
	struct family *f = family_get(name, help, kind);
	struct series *s = series_find(f, labels);
	if (s && !s->fn)
		die("%s{%s} is already registered as a plain %s", name, labels ? labels : "", kind_names[kind]);
	if (!s) {
		if (!labels_valid(labels, 0))
			die("invalid labels for %s: %s", name, labels);
		s = xcalloc(1, sizeof *s);
		series_add(f, s, labels);
	}
	s->fn = fn;
	s->arg = arg;
	pthread_mutex_unlock(&reg.mu);
	return s;
}

static void hist_totals(const metrics_histogram_t *h, uint64_t out[NCELLS])
{
	memset(out, 0, NCELLS * sizeof *out);
	for (unsigned i = 0; i <= shard_mask; i++)
		for (size_t b = 0; b < NCELLS; b++)
			out[b] += atomic_load_explicit(&h->cells[i].count[b], memory_order_relaxed);
}

static void ring_push(struct ring *r, double now, const uint64_t count[NCELLS])
{
	struct snap *sn = &r->slot[r->next];
	sn->t = now;
	memcpy(sn->count, count, sizeof sn->count);
	r->next = (r->next + 1) % r->cap;
	if (r->n < r->cap)
		r->n++;
	r->last = now;
}

/* Called with h->mu held. */
static void hist_snapshot_locked(metrics_histogram_t *h, double now)
{
	int fine = now - h->fine.last >= h->fine.step;
	int coarse = now - h->coarse.last >= h->coarse.step;
	if (!fine && !coarse)
		return;
	uint64_t count[NCELLS];
	hist_totals(h, count);
	if (fine)
		ring_push(&h->fine, now, count);
	if (coarse)
		ring_push(&h->coarse, now, count);
}

/* Prometheus' bucketQuantile over per-bucket (not cumulative) counts. One
 * difference: for q = 0 it returns the lower end of the first non-empty
 * bucket instead of interpolating in an empty first bucket. */
static double quantile_of(const uint64_t count[NCELLS], double q)
{
	if (isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	uint64_t total = 0;
	for (size_t i = 0; i < NCELLS; i++)
		total += count[i];
	if (!total)
		return NAN;
	double rank = q * (double)total;
	uint64_t before = 0;
	for (size_t b = 0; b < NBOUNDS; b++) {
		uint64_t cum = before + count[b];
		if (cum > 0 && (double)cum >= rank) {
			double start = b ? bounds[b - 1] : 0.0;
			return start + (bounds[b] - start) * ((rank - (double)before) / (double)count[b]);
		}
		before = cum;
	}
	return bounds[NBOUNDS - 1];
}

static void put_sample_name(buf_t *out, const char *name, const char *suffix, const char *labels,
			    const char *le)
{
	buf_puts(out, name);
	if (suffix)
		buf_puts(out, suffix);
	if (*labels || le) {
		buf_putc(out, '{');
		buf_puts(out, labels);
		if (le) {
			if (*labels)
				buf_putc(out, ',');
			buf_printf(out, "le=\"%s\"", le);
		}
		buf_putc(out, '}');
	}
	buf_putc(out, ' ');
}

static void render_series(buf_t *out, const struct family *f, struct series *s)
{
	if (s->fn) {
		put_sample_name(out, f->name, NULL, s->labels, NULL);
		metrics_format_value(out, s->fn(s->arg));
		buf_putc(out, '\n');
		return;
	}
	switch (f->kind) {
	case KIND_COUNTER:
		put_sample_name(out, f->name, NULL, s->labels, NULL);
		buf_printf(out, "%llu\n", (unsigned long long)metrics_counter_value((metrics_counter_t *)s));
		break;
	case KIND_GAUGE:
		put_sample_name(out, f->name, NULL, s->labels, NULL);
		metrics_format_value(out, metrics_gauge_value((metrics_gauge_t *)s));
		buf_putc(out, '\n');
		break;
	case KIND_HISTOGRAM: {
		const metrics_histogram_t *h = (metrics_histogram_t *)s;
		uint64_t count[NCELLS], cum = 0;
		hist_totals(h, count);
		for (size_t b = 0; b < NCELLS; b++) {
			cum += count[b];
			put_sample_name(out, f->name, "_bucket", s->labels, b < NBOUNDS ? le_text[b] : "+Inf");
			buf_printf(out, "%llu\n", (unsigned long long)cum);
		}
		put_sample_name(out, f->name, "_sum", s->labels, NULL);
		metrics_format_value(out, metrics_histogram_sum(h));
		buf_putc(out, '\n');
		put_sample_name(out, f->name, "_count", s->labels, NULL);
		buf_printf(out, "%llu\n", (unsigned long long)cum);
		break;
	}
	}
}
