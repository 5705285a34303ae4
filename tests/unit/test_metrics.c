#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/metrics.h"

static void fresh(void)
{
	metrics_reset_for_tests();
}

TestSuite(metrics, .init = fresh, .fini = fresh);

/* Cumulative count of the bucket le="le" of histogram name (no labels), read
 * back from the exposition text; -1 if absent. */
static long long bucket_line(const char *name, const char *le)
{
	buf_t out = BUF_INIT;
	metrics_render(&out);
	char want[128];
	snprintf(want, sizeof want, "\n%s_bucket{le=\"%s\"} ", name, le);
	char *p = strstr(out.p, want);
	long long v = p ? atoll(p + strlen(want)) : -1;
	buf_free(&out);
	return v;
}

static void le_of(size_t i, char *out, size_t n)
{
	snprintf(out, n, "%.3g", metrics_bucket_bound(i));
}

Test(metrics, bucket_layout)
{
	size_t n = metrics_bucket_count();
	cr_assert_eq(n, 82);
	cr_assert_float_eq(metrics_bucket_bound(0), 50e-6, 1e-12);
	cr_assert_float_eq(metrics_bucket_bound(4), 100e-6, 1e-12);
	cr_assert_float_eq(metrics_bucket_bound(40), 0.0512, 1e-12);
	cr_assert_geq(metrics_bucket_bound(n - 1), 60.0);
	for (size_t i = 1; i < n; i++) {
		double r = metrics_bucket_bound(i) / metrics_bucket_bound(i - 1);
		cr_assert(r > 1.17 && r < 1.21, "ratio %g at %zu", r, i);
	}
	cr_assert(isinf(metrics_bucket_bound(n)));
}

Test(metrics, bucket_boundaries_are_inclusive)
{
	metrics_histogram_t *h = metrics_histogram("t_seconds", "test", NULL);
	double b10 = metrics_bucket_bound(10);
	metrics_histogram_observe(h, b10);                 /* le is inclusive */
	metrics_histogram_observe(h, nextafter(b10, 1.0)); /* just above: next bucket */
	metrics_histogram_observe(h, 0.0);
	metrics_histogram_observe(h, -1.0);                /* below everything: first bucket */
	metrics_histogram_observe(h, 1e6);                 /* only in +Inf */
	metrics_histogram_observe(h, NAN);                 /* ignored */
	char le[32];
	le_of(0, le, sizeof le);
	cr_assert_eq(bucket_line("t_seconds", le), 2);
	le_of(9, le, sizeof le);
	cr_assert_eq(bucket_line("t_seconds", le), 2);
	le_of(10, le, sizeof le);
	cr_assert_eq(bucket_line("t_seconds", le), 3);
	le_of(11, le, sizeof le);
	cr_assert_eq(bucket_line("t_seconds", le), 4);
	le_of(81, le, sizeof le);
	cr_assert_eq(bucket_line("t_seconds", le), 4);
	cr_assert_eq(bucket_line("t_seconds", "+Inf"), 5);
	cr_assert_eq(metrics_histogram_count(h), 5);
}

Test(metrics, counts_and_sum)
{
	metrics_histogram_t *h = metrics_histogram("c_seconds", "test", "route=\"/x\"");
	for (int i = 0; i < 1000; i++)
		metrics_histogram_observe(h, 0.25);
	cr_assert_eq(metrics_histogram_count(h), 1000);
	cr_assert_float_eq(metrics_histogram_sum(h), 250.0, 1e-9);
	cr_assert_eq(metrics_histogram("c_seconds", "other help", "route=\"/x\""), h);
	cr_assert_neq(metrics_histogram("c_seconds", "test", "route=\"/y\""), h);
}

Test(metrics, quantile_interpolates_like_prometheus)
{
	metrics_histogram_t *h = metrics_histogram("q_seconds", "test", NULL);
	cr_assert(isnan(metrics_histogram_quantile(h, 0.5)));
	/* 100 observations in bucket 20 (bound19, bound20]. */
	double lo = metrics_bucket_bound(19), hi = metrics_bucket_bound(20);
	for (int i = 0; i < 100; i++)
		metrics_histogram_observe(h, hi);
	cr_assert_float_eq(metrics_histogram_quantile(h, 0.5), lo + (hi - lo) * 0.5, 1e-12);
	cr_assert_float_eq(metrics_histogram_quantile(h, 0.25), lo + (hi - lo) * 0.25, 1e-12);
	cr_assert_float_eq(metrics_histogram_quantile(h, 1.0), hi, 1e-12);
	cr_assert_float_eq(metrics_histogram_quantile(h, 0.0), lo, 1e-12);
	cr_assert(isinf(metrics_histogram_quantile(h, 1.5)) && metrics_histogram_quantile(h, 1.5) > 0);
	cr_assert(isinf(metrics_histogram_quantile(h, -0.1)) && metrics_histogram_quantile(h, -0.1) < 0);
	cr_assert(isnan(metrics_histogram_quantile(h, NAN)));

	/* 100 more in +Inf: the top half answers with the last finite bound. */
	for (int i = 0; i < 100; i++)
		metrics_histogram_observe(h, 1000.0);
	cr_assert_float_eq(metrics_histogram_quantile(h, 0.9), metrics_bucket_bound(81), 1e-12);

	/* First bucket interpolates from 0. */
	metrics_histogram_t *f = metrics_histogram("q0_seconds", "test", NULL);
	for (int i = 0; i < 10; i++)
		metrics_histogram_observe(f, 1e-6);
	cr_assert_float_eq(metrics_histogram_quantile(f, 0.5), metrics_bucket_bound(0) * 0.5, 1e-15);
}

Test(metrics, quantile_uniform_distribution)
{
	metrics_histogram_t *h = metrics_histogram("u_seconds", "test", NULL);
	/* Uniform on (0, 2] s. */
	for (int i = 1; i <= 100000; i++)
		metrics_histogram_observe(h, i * 2e-5);
	double qs[] = {0.01, 0.5, 0.9, 0.95};
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		double want = 2.0 * qs[i], got = metrics_histogram_quantile(h, qs[i]);
		/* Linear interpolation is exact where the density is uniform over
		 * the whole bucket, up to the discreteness of the sample. */
		cr_assert(fabs(got - want) / want < 0.001, "q%g: got %g want %g", qs[i], got, want);
	}
	/* p99 = 1.98 falls in (1.95, 2.32], filled only up to 2: the estimate
	 * spreads it over the bucket, off by less than one bucket width. */
	double p99 = metrics_histogram_quantile(h, 0.99);
	cr_assert(p99 > 1.95 && p99 <= 2.32 && fabs(p99 - 1.98) / 1.98 < 0.19, "p99 %g", p99);
}

Test(metrics, quantile_bimodal_distribution)
{
	metrics_histogram_t *h = metrics_histogram("b_seconds", "test", NULL);
	/* 90 % fast around 2 ms, 10 % slow around 800 ms. */
	for (int i = 0; i < 9000; i++)
		metrics_histogram_observe(h, 0.0015 + (i % 100) * 1e-5);
	for (int i = 0; i < 1000; i++)
		metrics_histogram_observe(h, 0.7 + (i % 100) * 2e-3);
	double p50 = metrics_histogram_quantile(h, 0.5);
	double p95 = metrics_histogram_quantile(h, 0.95);
	double p99 = metrics_histogram_quantile(h, 0.99);
	cr_assert(p50 > 0.0015 * 0.8 && p50 < 0.0025 * 1.2, "p50 %g", p50);
	cr_assert(p95 > 0.7 * 0.8 && p95 < 0.9 * 1.2, "p95 %g", p95);
	cr_assert(p99 > p95 && p99 < 0.9 * 1.2, "p99 %g", p99);
}

static double fake_time;

static double fake_now(void)
{
	return fake_time;
}

/* Advances the fake clock in 1 s steps, observing per_second values of v
 * each second and ticking as a server timer would. */
static void run_for(metrics_histogram_t *h, int seconds, int per_second, double v)
{
	for (int s = 0; s < seconds; s++) {
		for (int i = 0; i < per_second; i++)
			metrics_histogram_observe(h, v);
		fake_time += 1.0;
		metrics_tick();
	}
}

Test(metrics, window_quantiles)
{
	fake_time = 1000.0;
	metrics_set_clock(fake_now);
	metrics_histogram_t *h = metrics_histogram("w_seconds", "test", NULL);

	/* Young histogram: every window covers its whole life. */
	run_for(h, 30, 10, 0.5);
	cr_assert_float_eq(metrics_histogram_window_quantile(h, 60, 0.5),
			   metrics_histogram_quantile(h, 0.5), 1e-12);
	cr_assert_float_eq(metrics_histogram_window_quantile(h, 900, 0.5),
			   metrics_histogram_quantile(h, 0.5), 1e-12);

	/* Ten slow minutes, then three fast ones. */
	run_for(h, 570, 10, 0.5);
	run_for(h, 180, 10, 0.002);
	double w1 = metrics_histogram_window_quantile(h, 60, 0.5);
	double w15 = metrics_histogram_window_quantile(h, 900, 0.5);
	double w15_p99 = metrics_histogram_window_quantile(h, 900, 0.99);
	double all = metrics_histogram_quantile(h, 0.5);
	cr_assert(w1 > 0.0015 && w1 < 0.0025, "1 min p50 %g", w1);
	/* 13 minutes old: the 15-minute window is its whole life, mostly slow. */
	cr_assert(w15 > 0.4 && w15 < 0.6, "15 min p50 %g", w15);
	cr_assert(w15_p99 > 0.4 && w15_p99 < 0.6, "15 min p99 %g", w15_p99);
	cr_assert(all > 0.4 && all < 0.6);

	/* 20 more fast minutes: the 15-minute window is all fast now, while
	 * the whole-life p99 still sees the slow start. */
	run_for(h, 1200, 10, 0.002);
	double w15b = metrics_histogram_window_quantile(h, 900, 0.99);
	cr_assert(w15b > 0.0015 && w15b < 0.0025, "15 min p99 %g", w15b);
	cr_assert_gt(metrics_histogram_quantile(h, 0.99), 0.4);

	/* The 1-minute window counts 60..70 s of observations. */
	metrics_histogram_t *g = metrics_histogram("w2_seconds", "test", NULL);
	run_for(g, 300, 1, 0.001);
	run_for(g, 60, 1, 1.0);
	cr_assert_float_eq(metrics_histogram_window_quantile(g, 60, 0.5), metrics_histogram_window_quantile(g, 60, 0.1), 0.2);
	cr_assert_gt(metrics_histogram_window_quantile(g, 60, 0.2), 0.5);
}

Test(metrics, window_without_ticks_uses_lazy_snapshots)
{
	fake_time = 50.0;
	metrics_set_clock(fake_now);
	metrics_histogram_t *h = metrics_histogram("lazy_seconds", "test", NULL);
	for (int i = 0; i < 100; i++)
		metrics_histogram_observe(h, 1.0);
	fake_time += 20;
	/* The window query snapshots itself. */
	cr_assert_gt(metrics_histogram_window_quantile(h, 60, 0.5), 0.5);
	fake_time += 80;
	for (int i = 0; i < 100; i++)
		metrics_histogram_observe(h, 0.001);
	double w = metrics_histogram_window_quantile(h, 60, 0.99);
	cr_assert(w < 0.002, "window p99 %g", w);
}

Test(metrics, counters_and_gauges)
{
	metrics_counter_t *c = metrics_counter("req_total", "Requests.", "code=\"200\"");
	metrics_counter_add(c, 3);
	metrics_counter_add(c, 4);
	cr_assert_eq(metrics_counter_value(c), 7);
	cr_assert_eq(metrics_counter("req_total", "Requests.", "code=\"200\""), c);
	cr_assert_neq(metrics_counter("req_total", "Requests.", "code=\"500\""), c);

	metrics_gauge_t *g = metrics_gauge("inflight", "In flight.", NULL);
	metrics_gauge_set(g, 2.5);
	metrics_gauge_add(g, -1);
	cr_assert_float_eq(metrics_gauge_value(g), 1.5, 1e-12);
	cr_assert_eq(metrics_gauge("inflight", "x", ""), g);
}

Test(metrics, type_mismatch_aborts, .signal = SIGABRT)
{
	metrics_counter("dup_total", "x", NULL);
	metrics_gauge("dup_total", "x", NULL);
}

Test(metrics, invalid_labels_abort, .signal = SIGABRT)
{
	metrics_counter("bad_total", "x", "route=/x");
}

Test(metrics, reserved_le_label_aborts, .signal = SIGABRT)
{
	metrics_histogram("bad_seconds", "x", "le=\"1\"");
}

Test(metrics, invalid_name_aborts, .signal = SIGABRT)
{
	metrics_counter("9lives", "x", NULL);
}

static double forty_two(void *arg)
{
	return 42.0 + (arg ? *(double *)arg : 0);
}

/* A line-by-line checker of the text format 0.0.4, with POSIX regexes. */
struct expo_check {
	regex_t help, type, sample;
};

#define NAME_RE "[a-zA-Z_:][a-zA-Z0-9_:]*"
#define LABEL_RE "[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
#define VALUE_RE "(NaN|[+-]Inf|[-+]?[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?|[-+]?\\.[0-9]+([eE][-+]?[0-9]+)?)"

static void expo_init(struct expo_check *x)
{
	cr_assert_eq(regcomp(&x->help, "^# HELP (" NAME_RE ") ([^\n\\\\]|\\\\[\\\\n])*$", REG_EXTENDED), 0);
	cr_assert_eq(regcomp(&x->type, "^# TYPE (" NAME_RE ") (counter|gauge|histogram|summary|untyped)$",
			     REG_EXTENDED), 0);
	cr_assert_eq(regcomp(&x->sample, "^(" NAME_RE ")(\\{" LABEL_RE "(," LABEL_RE ")*\\})? " VALUE_RE "$",
			     REG_EXTENDED), 0);
}

static void expo_free(struct expo_check *x)
{
	regfree(&x->help);
	regfree(&x->type);
	regfree(&x->sample);
}

static char *group(const char *line, const regmatch_t *m)
{
	return strndup(line + m->rm_so, (size_t)(m->rm_eo - m->rm_so));
}

/* Checks every line and the structure: HELP then TYPE once per family,
 * samples only under their family's TYPE, families never split, histogram
 * buckets cumulative with +Inf last and equal to _count. Returns the number
 * of sample lines. */
static int expo_validate(const char *text)
{
	struct expo_check x;
	expo_init(&x);
	char *copy = strdup(text), *save = NULL;
	char family[128] = "", type[32] = "", seen[64][128];
	int nseen = 0, samples = 0;
	long long last_bucket = -1;
	double last_le = -INFINITY;
	cr_assert(text[0] && text[strlen(text) - 1] == '\n', "output must end with a newline");
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		regmatch_t m[4];
		if (!regexec(&x.help, line, 4, m, 0)) {
			char *n = group(line, &m[1]);
			for (int i = 0; i < nseen; i++)
				cr_assert_str_neq(seen[i], n, "family %s appears twice", n);
			cr_assert_lt(nseen, 64);
			snprintf(seen[nseen++], sizeof seen[0], "%s", n);
			snprintf(family, sizeof family, "%s", n);
			type[0] = '\0';
			free(n);
		} else if (!regexec(&x.type, line, 4, m, 0)) {
			char *n = group(line, &m[1]);
			cr_assert_str_eq(n, family, "TYPE %s without its HELP", n);
			snprintf(type, sizeof type, "%s", line + m[2].rm_so);
			free(n);
			last_bucket = -1;
			last_le = -INFINITY;
		} else {
			cr_assert_eq(regexec(&x.sample, line, 4, m, 0), 0, "bad line: %s", line);
			cr_assert(type[0], "sample before TYPE: %s", line);
			char *n = group(line, &m[1]);
			size_t fl = strlen(family);
			long long v = atoll(strrchr(line, ' ') + 1);
			if (strcmp(type, "histogram") == 0) {
				cr_assert(strncmp(n, family, fl) == 0, "%s outside family %s", n, family);
				const char *suf = n + fl;
				if (strcmp(suf, "_bucket") == 0) {
					const char *le = strstr(line, "le=\"");
					cr_assert_not_null(le);
					double lv = strcmp(le + 4, "+Inf\"") == 0 ? INFINITY : strtod(le + 4, NULL);
					cr_assert(lv > last_le, "le must ascend: %s", line);
					cr_assert(v >= last_bucket, "buckets must be cumulative: %s", line);
					last_bucket = v;
					last_le = lv;
				} else if (strcmp(suf, "_count") == 0) {
					cr_assert(isinf(last_le), "+Inf bucket must precede _count");
					cr_assert_eq(v, last_bucket, "_count must equal the +Inf bucket");
					last_bucket = -1; /* the next series starts over */
					last_le = -INFINITY;
				} else {
					cr_assert_str_eq(suf, "_sum", "unexpected %s", n);
				}
			} else {
				cr_assert_str_eq(n, family, "sample %s outside family %s", n, family);
			}
			free(n);
			samples++;
		}
	}
	free(copy);
	expo_free(&x);
	return samples;
}

Test(metrics, exposition_format)
{
	buf_t labels = BUF_INIT;
	metrics_label_append(&labels, "route", "/api/v1/overview", 16);
	metrics_label_append(&labels, "org", "a \"b\" \\c\nd", 10);
	cr_assert_str_eq(labels.p, "route=\"/api/v1/overview\",org=\"a \\\"b\\\" \\\\c\\nd\"");

	metrics_counter_t *c = metrics_counter("http_requests_total", "Requests served.\nBy route \\ code.",
					       "route=\"/api/v1/overview\",code=\"200\"");
	metrics_counter_add(c, 12);
	metrics_counter_add(metrics_counter("http_requests_total", NULL, labels.p), 1);
	metrics_counter_add(metrics_counter("plain_total", "No labels.", NULL), 5);
	metrics_gauge_set(metrics_gauge("queue_depth", "Queued tasks.", NULL), 0.125);
	double extra = 0.5;
	metrics_gauge_func("cache_bytes", "Cache size.", "tier=\"l1\"", forty_two, &extra);
	metrics_counter_func("cache_hits_total", "Cache hits.", NULL, forty_two, NULL);
	metrics_histogram_t *h1 = metrics_histogram("http_request_duration_seconds", "Latency.",
						    "route=\"/api/v1/overview\"");
	metrics_histogram_t *h2 = metrics_histogram("http_request_duration_seconds", "Latency.",
						    "route=\"/api/v1/sales\"");
	metrics_histogram_t *h3 = metrics_histogram("bare_seconds", "No labels.", NULL);
	for (int i = 0; i < 50; i++) {
		metrics_histogram_observe(h1, 0.001 * i);
		metrics_histogram_observe(h2, 0.1 * i);
		metrics_histogram_observe(h3, 100.0);
	}
	/* Created after another family: must still render with its own. */
	metrics_counter_add(metrics_counter("http_requests_total", NULL, "route=\"/x\",code=\"404\""), 2);

	buf_t out = BUF_INIT;
	metrics_render(&out);
	int samples = expo_validate(out.p);
	/* 3 + 1 counters, gauge, 2 funcs, 3 histograms * (83 + 2), process. */
	cr_assert_geq(samples, 4 + 1 + 2 + 3 * 85 + 5, "%d samples", samples);

	const char *want[] = {
		"# HELP http_requests_total Requests served.\\nBy route \\\\ code.\n"
		"# TYPE http_requests_total counter\n"
		"http_requests_total{route=\"/api/v1/overview\",code=\"200\"} 12\n"
		"http_requests_total{route=\"/api/v1/overview\",org=\"a \\\"b\\\" \\\\c\\nd\"} 1\n"
		"http_requests_total{route=\"/x\",code=\"404\"} 2\n",
		"\nplain_total 5\n",
		"\nqueue_depth 0.125\n",
		"# TYPE cache_bytes gauge\ncache_bytes{tier=\"l1\"} 42.5\n",
		"# TYPE cache_hits_total counter\ncache_hits_total 42\n",
		"# TYPE http_request_duration_seconds histogram\n"
		"http_request_duration_seconds_bucket{route=\"/api/v1/overview\",le=\"5e-05\"} 1\n"
		"http_request_duration_seconds_bucket{route=\"/api/v1/overview\",le=\"5.95e-05\"} 1\n",
		"http_request_duration_seconds_bucket{route=\"/api/v1/overview\",le=\"+Inf\"} 50\n"
		"http_request_duration_seconds_sum{route=\"/api/v1/overview\"} 1.2",
		"\nhttp_request_duration_seconds_count{route=\"/api/v1/sales\"} 50\n",
		"\nbare_seconds_bucket{le=\"62.3\"} 0\nbare_seconds_bucket{le=\"+Inf\"} 50\n"
		"bare_seconds_sum 5000\nbare_seconds_count 50\n",
		"# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ",
		"# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes ",
		"# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds ",
		"# TYPE process_open_fds gauge\nprocess_open_fds ",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		cr_assert_not_null(strstr(out.p, want[i]), "missing:\n%s\n--- in:\n%.3000s", want[i], out.p);

	/* Process metrics are plausible. */
	double rss = atof(strstr(out.p, "\nprocess_resident_memory_bytes ") + 31);
	double start = atof(strstr(out.p, "\nprocess_start_time_seconds ") + 28);
	double fds = atof(strstr(out.p, "\nprocess_open_fds ") + 18);
	cr_assert(rss > 1e5 && rss < 1e11, "rss %g", rss);
	cr_assert(fabs(start - (double)time(NULL)) < 3600, "start %f", start);
	cr_assert(fds >= 3, "fds %g", fds);
	buf_free(&out);
	buf_free(&labels);
}

Test(metrics, exposition_checker_rejects_bad_lines)
{
	struct expo_check x;
	expo_init(&x);
	const char *bad[] = {
		"name{route=\"a\"b\"} 1", "name{route=\"a\\x\"} 1", "name{9=\"a\"} 1", "9name 1",
		"name 1 2 3", "name one", "name{a=\"b\"}1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_neq(regexec(&x.sample, bad[i], 0, NULL, 0), 0, "accepted: %s", bad[i]);
	const char *good[] = {"a_b:c 1", "x{a=\"\\\"\\\\\\n\"} -1.5e-07", "x +Inf", "x NaN", "x{a=\"\"} 0"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		cr_assert_eq(regexec(&x.sample, good[i], 0, NULL, 0), 0, "rejected: %s", good[i]);
	expo_free(&x);
}

#define THREADS 4
#define PER_THREAD 200000

struct obs_arg {
	metrics_histogram_t *h;
	metrics_counter_t *c;
	metrics_gauge_t *g;
	int id;
};

static void *observer(void *p)
{
	struct obs_arg *a = p;
	for (int i = 0; i < PER_THREAD; i++) {
		/* Sums of quarters are exact in a double, so the total is too. */
		metrics_histogram_observe(a->h, 0.25 * (1 + (i + a->id) % 4));
		metrics_counter_add(a->c, 1);
		if (i % 16 == 0)
			metrics_gauge_add(a->g, 1);
	}
	return NULL;
}

Test(metrics, concurrent_observe_sums_exactly)
{
	metrics_histogram_t *h = metrics_histogram("cc_seconds", "test", NULL);
	metrics_counter_t *c = metrics_counter("cc_total", "test", NULL);
	metrics_gauge_t *g = metrics_gauge("cc_gauge", "test", NULL);
	pthread_t t[THREADS];
	struct obs_arg args[THREADS];
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct obs_arg){h, c, g, i};
		pthread_create(&t[i], NULL, observer, &args[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	uint64_t n = (uint64_t)THREADS * PER_THREAD;
	cr_assert_eq(metrics_histogram_count(h), n);
	cr_assert_eq(metrics_counter_value(c), n);
	cr_assert_float_eq(metrics_gauge_value(g), (double)(THREADS * (PER_THREAD / 16)), 0);
	/* Each value 0.25, 0.5, 0.75, 1.0 appears n/4 times. */
	cr_assert_eq(metrics_histogram_sum(h), 0.625 * (double)n);
	cr_assert_eq(bucket_line("cc_seconds", "0.25"), -1); /* 0.25 is not a bound */
	cr_assert_eq(bucket_line("cc_seconds", "+Inf"), (long long)n);
	char le[32];
	for (size_t i = 0; i < metrics_bucket_count(); i++) {
		if (metrics_bucket_bound(i) >= 1.0) {
			le_of(i, le, sizeof le);
			cr_assert_eq(bucket_line("cc_seconds", le), (long long)n);
			break;
		}
	}
}
