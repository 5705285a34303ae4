/* metrics: the process-wide registry of counters, gauges and histograms,
 * rendered in the Prometheus text exposition format 0.0.4.
 *
 * Recording (counter_add, histogram_observe) takes no lock: each series
 * keeps one cache-line-aligned shard of relaxed atomic counters per CPU,
 * summed when read. Creating a series takes the registry lock; callers look
 * a series up once and keep the pointer, which stays valid for the life of
 * the process (until metrics_reset_for_tests).
 *
 * Histogram buckets are fixed for every histogram: upper bounds
 * 50e-6 * 2^(i/4) seconds rounded to 3 significant digits, i = 0..81
 * (4 buckets per doubling, 50 us up to 62.4 s; 82 bounds plus +Inf), so
 * a quantile estimate is within one bucket, about 19 %, of the truth.
 *
 * Programming errors (an invalid metric name or label string, one name
 * registered with two types) abort with a message, like out-of-memory.
 * Everything here is thread-safe unless said otherwise. */
#ifndef BRISK_METRICS_H
#define BRISK_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct metrics_counter metrics_counter_t;
typedef struct metrics_gauge metrics_gauge_t;
typedef struct metrics_histogram metrics_histogram_t;

/* Cells of a histogram's per-bucket counts: the finite buckets and +Inf. */
#define METRICS_NCELLS 83

/* A value computed at scrape time (resident memory, cache stats...). It is
 * called with the registry locked, so it must not call metrics_* itself. */
typedef double (*metrics_value_fn)(void *arg);

/* Labels: every function taking `labels` expects the text that goes between
 * the braces of the exposition format, e.g. route="/api/v1/overview",code="200",
 * with values already escaped (\\, \", \n): use metrics_label_append to build
 * one from raw values. NULL or "" means no labels. The string is copied. */

/* Appends name="value" to *labels (with a comma first if *labels is not
 * empty), escaping the len bytes of value as the format requires. */
void metrics_label_append(buf_t *labels, const char *name, const char *value, size_t len);

/* Copies the value of label name in labels (as above), escapes undone and
 * NUL-terminated, into out (n bytes). False when the label is absent or
 * its value does not fit. */
bool metrics_label_get(const char *labels, const char *name, char *out, size_t n);

/* Returns the counter name{labels}, creating it (and its family, with help
 * as the HELP text; a later help for the same name is ignored) if needed.
 * The registry owns it. Aborts on an invalid name or labels or if name is
 * already registered with another type. */
metrics_counter_t *metrics_counter(const char *name, const char *help, const char *labels);

/* Adds n to c. Lock-free; about one uncontended atomic add. */
void metrics_counter_add(metrics_counter_t *c, uint64_t n);

/* The current total of c (sum over shards). */
uint64_t metrics_counter_value(const metrics_counter_t *c);

/* Registers a counter whose value fn(arg) computes at scrape time (it must
 * never decrease). Registering the same name and labels again replaces fn
 * and arg. Aborts as metrics_counter does. */
void metrics_counter_func(const char *name, const char *help, const char *labels,
			  metrics_value_fn fn, void *arg);

/* Returns the gauge name{labels}, created at 0 if needed; as metrics_counter. */
metrics_gauge_t *metrics_gauge(const char *name, const char *help, const char *labels);

/* Sets, adds to (d may be negative) and reads g. A gauge is one atomic
 * word, not sharded: for values changed on every request prefer two
 * counters or a metrics_gauge_func. */
void metrics_gauge_set(metrics_gauge_t *g, double v);
void metrics_gauge_add(metrics_gauge_t *g, double d);
double metrics_gauge_value(const metrics_gauge_t *g);

/* Registers a gauge whose value fn(arg) computes at scrape time; as
 * metrics_counter_func. */
void metrics_gauge_func(const char *name, const char *help, const char *labels,
			metrics_value_fn fn, void *arg);

/* Returns the histogram name{labels} (buckets as described above), created
 * empty if needed; as metrics_counter. The label name "le" is reserved. */
metrics_histogram_t *metrics_histogram(const char *name, const char *help, const char *labels);

/* Records one observation of v seconds: v <= a bound counts in that bound's
 * bucket; v above the last bound counts only in +Inf. NaN is ignored.
 * Lock-free: one bucket search and two uncontended atomic updates. */
void metrics_histogram_observe(metrics_histogram_t *h, double v);

/* Number and sum of all observations so far. */
uint64_t metrics_histogram_count(const metrics_histogram_t *h);
double metrics_histogram_sum(const metrics_histogram_t *h);

/* Estimates the q-quantile (0 <= q <= 1) of all observations the way
 * Prometheus' histogram_quantile does: find the bucket holding rank q*count
 * and interpolate linearly inside it (the first bucket starts at 0; a rank
 * in +Inf returns the last finite bound). Returns NaN when there are no
 * observations or q is NaN, -Inf for q < 0, +Inf for q > 1. */
double metrics_histogram_quantile(const metrics_histogram_t *h, double q);

/* As metrics_histogram_quantile, over the observations of about the last
 * window_seconds only. Built from snapshots of the bucket counts taken every
 * 10 s for the last minute and every 60 s for the last 15 minutes (see
 * metrics_tick): the window really covered starts at the newest snapshot
 * at least window_seconds old, so it is up to 10 s (windows <= 60 s) or
 * 60 s (longer ones) longer than asked; windows longer than 15 minutes, or
 * than the histogram's age, cover everything since it was created. */
double metrics_histogram_window_quantile(metrics_histogram_t *h, double window_seconds, double q);

/* Fills counts with the per-bucket (not cumulative) counts of h's
 * observations over about the last window_seconds, as
 * metrics_histogram_window_quantile counts them; window_seconds <= 0 means
 * since creation. Returns their total. */
uint64_t metrics_histogram_window_counts(metrics_histogram_t *h, double window_seconds,
					 uint64_t counts[METRICS_NCELLS]);

/* The q-quantile of per-bucket counts (from window_counts, or sums of
 * several series' counts), estimated as metrics_histogram_quantile does. */
double metrics_counts_quantile(const uint64_t counts[METRICS_NCELLS], double q);

/* Calls fn for every series of the histogram (counter) family name, in
 * registration order, with its labels; nothing when there is no such
 * family. fn runs with the registry locked: it may read the series
 * (counts, window counts, quantiles) but must not create or render any.
 * A counter computed by a function reports that function's value. */
typedef void (*metrics_histogram_each_fn)(void *ud, const char *labels, metrics_histogram_t *h);
typedef void (*metrics_counter_each_fn)(void *ud, const char *labels, uint64_t value);
void metrics_histogram_each(const char *name, metrics_histogram_each_fn fn, void *ud);
void metrics_counter_each(const char *name, metrics_counter_each_fn fn, void *ud);

/* Takes the snapshots the sliding windows need for every histogram that is
 * due one. Call it every few seconds (a timer on one event loop); window
 * queries and metrics_render also call it, so a window stays right even
 * when this is called late. */
void metrics_tick(void);

/* Appends the whole registry to out in the Prometheus text format 0.0.4:
 * one HELP and TYPE per family, its series together, histograms as
 * cumulative _bucket{le=...} lines then _sum and _count, followed by the
 * process_* metrics (see process.h). */
void metrics_render(buf_t *out);

/* Exposition helpers for families rendered outside the registry: a
 * family's HELP and TYPE lines, and a sample value (shortest text that
 * reads back as v; whole numbers in full; NaN, +Inf, -Inf). */
void metrics_format_family(buf_t *out, const char *name, const char *help, const char *type);
void metrics_format_value(buf_t *out, double v);

/* Number of finite histogram buckets and the upper bound of bucket i
 * (i < metrics_bucket_count(); larger i returns +Inf). */
size_t metrics_bucket_count(void);
double metrics_bucket_bound(size_t i);
/* The index of the bucket v (seconds) counts in: the first whose bound is
 * >= v, or metrics_bucket_count() (+Inf) above the last bound or for NaN. */
size_t metrics_bucket_index(double v);

/* Replaces the monotonic clock (seconds) used for sliding windows; NULL
 * restores CLOCK_MONOTONIC. For tests: call it while no other thread uses
 * the registry. */
void metrics_set_clock(double (*now)(void));

/* Frees every series and family and restores the clock. Pointers returned
 * earlier become invalid. For tests only: no other thread may use the
 * registry meanwhile. */
void metrics_reset_for_tests(void);

#endif
