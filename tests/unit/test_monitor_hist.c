/* Histogram buckets and percentile estimates as the monitor reads them:
 * bucket indexes, window counts, quantiles of summed counts, estimates
 * against exact percentiles of known distributions, series iteration and
 * label reading. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/metrics.h"

static double fake_now;
static double fake_clock(void)
{
	return fake_now;
}

static void fresh(void)
{
	metrics_reset_for_tests();
	fake_now = 1000;
}

TestSuite(monitor_hist, .init = fresh, .fini = fresh);

Test(monitor_hist, bucket_index_follows_le_semantics)
{
	size_t n = metrics_bucket_count();
	cr_assert_eq(metrics_bucket_index(0.0), 0);
	cr_assert_eq(metrics_bucket_index(-1.0), 0);
	for (size_t i = 0; i < n; i++) {
		double b = metrics_bucket_bound(i);
		cr_assert_eq(metrics_bucket_index(b), i, "bound %zu itself", i);
		cr_assert_eq(metrics_bucket_index(nextafter(b, INFINITY)), i + 1, "just above bound %zu", i);
		if (i)
			cr_assert_eq(metrics_bucket_index(nextafter(b, 0)), i, "just below bound %zu", i);
	}
	cr_assert_eq(metrics_bucket_index(1e9), n, "above the last bound: +Inf");
	cr_assert_eq(metrics_bucket_index(INFINITY), n);
	cr_assert_eq(metrics_bucket_index(NAN), n);
	cr_assert_eq(METRICS_NCELLS, n + 1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Exact percentile (nearest rank) of sorted v. */
static double exact(const double *v, size_t n, double q)
{
	size_t k = (size_t)ceil(q * (double)n);
	return v[k ? k - 1 : 0];
}

static uint64_t rng = 88172645463325252ull;
static double uniform01(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

/* Each distribution's p50, p95 and p99 estimated from the buckets must be
 * within one bucket width (19 %) of the exact value. */
static void check_estimates(const char *name, double (*draw)(void))
{
	enum { N = 50000 };
	static double v[N];
	char hname[64];
	snprintf(hname, sizeof hname, "est_%s_seconds", name);
	metrics_histogram_t *h = metrics_histogram(hname, "test", NULL);
	for (size_t i = 0; i < N; i++) {
		v[i] = draw();
		metrics_histogram_observe(h, v[i]);
	}
	qsort(v, N, sizeof v[0], cmp_double);
	const double qs[] = {0.5, 0.9, 0.95, 0.99};
	for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
		double want = exact(v, N, qs[k]), got = metrics_histogram_quantile(h, qs[k]);
		cr_assert(fabs(got - want) <= 0.19 * want, "%s p%g: estimated %g, exact %g", name, qs[k] * 100, got,
			  want);
		uint64_t c[METRICS_NCELLS];
		metrics_histogram_window_counts(h, 0, c);
		cr_assert_float_eq(metrics_counts_quantile(c, qs[k]), got, 1e-12);
	}
}

static double draw_uniform(void)
{
	return 0.001 + 0.2 * uniform01(); /* 1 to 201 ms */
}

static double draw_exponential(void)
{
	return -0.02 * log(uniform01()); /* mean 20 ms */
}

static double draw_lognormal(void)
{
	double u1 = uniform01(), u2 = uniform01();
	double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
	return exp(log(0.005) + 0.8 * z); /* median 5 ms, long tail */
}

static double draw_bimodal(void)
{
	/* 90 % cache hits near 0.3 ms, 10 % computations near 40 ms */
	return uniform01() < 0.9 ? 0.0002 + 0.0002 * uniform01() : 0.03 + 0.02 * uniform01();
}

Test(monitor_hist, estimates_within_one_bucket_of_exact_percentiles)
{
	check_estimates("uniform", draw_uniform);
	check_estimates("exponential", draw_exponential);
	check_estimates("lognormal", draw_lognormal);
	check_estimates("bimodal", draw_bimodal);
}

Test(monitor_hist, summed_counts_give_the_quantile_of_the_union)
{
	metrics_histogram_t *a = metrics_histogram("u_seconds", "t", "code=\"200\"");
	metrics_histogram_t *b = metrics_histogram("u_seconds", "t", "code=\"304\"");
	metrics_histogram_t *all = metrics_histogram("all_seconds", "t", NULL);
	for (int i = 0; i < 1000; i++) {
		double x = 0.001 * (1 + i % 97), y = 0.0001 * (1 + i % 13);
		metrics_histogram_observe(a, x);
		metrics_histogram_observe(b, y);
		metrics_histogram_observe(all, x);
		metrics_histogram_observe(all, y);
	}
	uint64_t ca[METRICS_NCELLS], cb[METRICS_NCELLS];
	cr_assert_eq(metrics_histogram_window_counts(a, 0, ca), 1000);
	cr_assert_eq(metrics_histogram_window_counts(b, 0, cb), 1000);
	for (size_t i = 0; i < METRICS_NCELLS; i++)
		ca[i] += cb[i];
	for (double q = 0.05; q < 1; q += 0.05)
		cr_assert_float_eq(metrics_counts_quantile(ca, q), metrics_histogram_quantile(all, q), 1e-12, "q %g", q);
	uint64_t empty[METRICS_NCELLS] = {0};
	cr_assert(isnan(metrics_counts_quantile(empty, 0.5)));
}

Test(monitor_hist, window_counts_forget_old_observations)
{
	metrics_set_clock(fake_clock);
	metrics_histogram_t *h = metrics_histogram("w_seconds", "t", NULL);
	for (int i = 0; i < 100; i++)
		metrics_histogram_observe(h, 0.5); /* slow, a while ago */
	/* Time passes with the periodic ticks a server makes. */
	for (int s = 0; s < 70; s += 5) {
		fake_now += 5;
		metrics_tick();
	}
	for (int i = 0; i < 10; i++)
		metrics_histogram_observe(h, 0.002);
	uint64_t c[METRICS_NCELLS];
	cr_assert_eq(metrics_histogram_window_counts(h, 60, c), 10, "the last minute holds only the recent ones");
	cr_assert_float_eq(metrics_counts_quantile(c, 0.95), metrics_histogram_window_quantile(h, 60, 0.95), 1e-12);
	cr_assert(metrics_counts_quantile(c, 0.99) < 0.0025);
	cr_assert_eq(metrics_histogram_window_counts(h, 900, c), 110, "15 minutes reach back to the start");
	cr_assert(metrics_counts_quantile(c, 0.5) > 0.4);
	cr_assert_eq(metrics_histogram_window_counts(h, 0, c), 110);
	/* A quarter of an hour later, both windows are empty. */
	for (int s = 0; s < 1000; s += 10) {
		fake_now += 10;
		metrics_tick();
	}
	cr_assert_eq(metrics_histogram_window_counts(h, 60, c), 0);
	cr_assert_eq(metrics_histogram_window_counts(h, 900, c), 0);
	cr_assert(isnan(metrics_histogram_window_quantile(h, 60, 0.5)));
	metrics_set_clock(NULL);
}

struct seen {
	char labels[8][64];
	uint64_t count[8];
	int n;
};

static void each_hist(void *ud, const char *labels, metrics_histogram_t *h)
{
	struct seen *s = ud;
	snprintf(s->labels[s->n], sizeof s->labels[0], "%s", labels);
	s->count[s->n++] = metrics_histogram_count(h);
}

static void each_counter(void *ud, const char *labels, uint64_t v)
{
	struct seen *s = ud;
	snprintf(s->labels[s->n], sizeof s->labels[0], "%s", labels);
	s->count[s->n++] = v;
}

static double forty_two(void *arg)
{
	(void)arg;
	return 42;
}

Test(monitor_hist, iteration_over_a_family)
{
	metrics_histogram_observe(metrics_histogram("it_seconds", "t", "route=\"a\""), 0.1);
	metrics_histogram_t *b = metrics_histogram("it_seconds", "t", "route=\"b\"");
	metrics_histogram_observe(b, 0.1);
	metrics_histogram_observe(b, 0.2);
	metrics_histogram_observe(metrics_histogram("other_seconds", "t", NULL), 1);
	struct seen s = {0};
	metrics_histogram_each("it_seconds", each_hist, &s);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.labels[0], "route=\"a\"");
	cr_assert_eq(s.count[0], 1);
	cr_assert_str_eq(s.labels[1], "route=\"b\"");
	cr_assert_eq(s.count[1], 2);
	s.n = 0;
	metrics_histogram_each("nope_seconds", each_hist, &s);
	cr_assert_eq(s.n, 0);

	metrics_counter_add(metrics_counter("it_total", "t", "x=\"1\""), 5);
	metrics_counter_func("it_total", "t", "x=\"2\"", forty_two, NULL);
	metrics_counter_each("it_total", each_counter, &s);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.count[0], 5);
	cr_assert_eq(s.count[1], 42, "a function counter reports its function's value");
}

Test(monitor_hist, label_values_read_back_unescaped)
{
	buf_t l = BUF_INIT;
	metrics_label_append(&l, "route", "over\"view", 9);
	metrics_label_append(&l, "code", "200", 3);
	metrics_label_append(&l, "path", "a\\b\nc", 5);
	char v[64];
	cr_assert(metrics_label_get(l.p, "route", v, sizeof v));
	cr_assert_str_eq(v, "over\"view");
	cr_assert(metrics_label_get(l.p, "code", v, sizeof v));
	cr_assert_str_eq(v, "200");
	cr_assert(metrics_label_get(l.p, "path", v, sizeof v));
	cr_assert_str_eq(v, "a\\b\nc");
	cr_assert_not(metrics_label_get(l.p, "rout", v, sizeof v), "a prefix is not the name");
	cr_assert_not(metrics_label_get(l.p, "route", v, 4), "too long for the buffer");
	cr_assert_not(metrics_label_get("", "route", v, sizeof v));
	cr_assert_not(metrics_label_get(NULL, "route", v, sizeof v));
	buf_free(&l);
}

Test(monitor_hist, value_formatting)
{
	struct {
		double v;
		const char *want;
	} cases[] = {{0, "0"},	       {20000, "20000"}, {0.1, "0.1"},	{1.5e-7, "1.5e-07"},
		     {NAN, "NaN"},     {INFINITY, "+Inf"}, {-INFINITY, "-Inf"}, {-3, "-3"},
		     {0.30000000000000004, "0.30000000000000004"}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf_t b = BUF_INIT;
		metrics_format_value(&b, cases[i].v);
		cr_assert_str_eq(b.p, cases[i].want);
		buf_free(&b);
	}
	buf_t b = BUF_INIT;
	metrics_format_family(&b, "x_total", "line\nbreak \\ here", "counter");
	cr_assert_str_eq(b.p, "# HELP x_total line\\nbreak \\\\ here\n# TYPE x_total counter\n");
	buf_free(&b);
}
