/* metrics_bench: cost of recording on the hot path.
 *
 *   metrics_bench [threads (2)] [ops per thread (20000000)]
 *
 * Every thread records into the same series, which is the hot-path case (all
 * requests of a route hit one histogram). For histogram observe, counter add
 * and, for scale, a plain shared atomic add (what an unsharded counter would
 * cost), prints nanoseconds per operation two ways: wall time / ops per
 * thread, and each thread's own CPU time / its ops (averaged). The second
 * still counts cache-line stalls but not time spent waiting for a CPU, so
 * it stays meaningful on a machine busy with other work. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "monitor/metrics.h"

#define NVALUES 4096

enum op { OP_OBSERVE, OP_COUNTER, OP_SHARED_ATOMIC };

static const char *const op_names[] = {"histogram_observe", "counter_add", "shared atomic add"};

struct run {
	enum op op;
	long ops;
	metrics_histogram_t *h;
	metrics_counter_t *c;
	const double *values;
	pthread_barrier_t *start;
	double cpu_ns;            /* per thread: CPU time spent in the loop */
};

static _Atomic uint64_t shared_counter;

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *worker(void *p)
{
	struct run *r = p;
	pthread_barrier_wait(r->start);
	double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	switch (r->op) {
	case OP_OBSERVE:
		for (long i = 0; i < r->ops; i++)
			metrics_histogram_observe(r->h, r->values[i & (NVALUES - 1)]);
		break;
	case OP_COUNTER:
		for (long i = 0; i < r->ops; i++)
			metrics_counter_add(r->c, 1);
		break;
	case OP_SHARED_ATOMIC:
		for (long i = 0; i < r->ops; i++)
			atomic_fetch_add_explicit(&shared_counter, 1, memory_order_relaxed);
		break;
	}
	r->cpu_ns = (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e9;
	return NULL;
}

struct result {
	double wall_ns, cpu_ns; /* per op, per thread */
};

static struct result run_op(enum op op, int threads, long ops, metrics_histogram_t *h,
			    metrics_counter_t *c, const double *values)
{
	pthread_t *t = malloc(sizeof *t * (size_t)threads);
	struct run *r = malloc(sizeof *r * (size_t)threads);
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
	for (int i = 0; i < threads; i++) {
		r[i] = (struct run){op, ops, h, c, values, &start, 0};
		pthread_create(&t[i], NULL, worker, &r[i]);
	}
	pthread_barrier_wait(&start);
	double t0 = clock_s(CLOCK_MONOTONIC);
	double cpu = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		cpu += r[i].cpu_ns;
	}
	double elapsed = clock_s(CLOCK_MONOTONIC) - t0;
	pthread_barrier_destroy(&start);
	free(r);
	free(t);
	return (struct result){elapsed * 1e9 / (double)ops, cpu / threads / (double)ops};
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	long ops = argc > 2 ? atol(argv[2]) : 20000000L;
	if (threads < 1 || ops < 1) {
		fprintf(stderr, "usage: metrics_bench [threads] [ops per thread]\n");
		return 2;
	}

	/* Latencies spread from 100 us to 2 s, so the bucket search is not
	 * always answered by the same branch history. */
	static double values[NVALUES];
	uint32_t s = 12345;
	for (int i = 0; i < NVALUES; i++) {
		s = s * 1664525u + 1013904223u;
		values[i] = 1e-4 * (1 + (s >> 8) % 20000);
	}

	metrics_histogram_t *h = metrics_histogram("bench_seconds", "bench", "route=\"/bench\"");
	metrics_counter_t *c = metrics_counter("bench_total", "bench", NULL);

	printf("metrics_bench: %d thread(s), %ld ops each, %d CPUs\n", threads, ops, get_nprocs());
	for (int op = OP_OBSERVE; op <= OP_SHARED_ATOMIC; op++) {
		run_op((enum op)op, threads, ops / 10, h, c, values); /* warm up */
		struct result res = run_op((enum op)op, threads, ops, h, c, values);
		printf("  %-18s %6.1f ns/op wall per thread, %6.1f ns/op thread CPU\n", op_names[op],
		       res.wall_ns, res.cpu_ns);
	}

	uint64_t want = (uint64_t)threads * (uint64_t)(ops + ops / 10);
	if (metrics_histogram_count(h) != want || metrics_counter_value(c) != want) {
		fprintf(stderr, "metrics_bench: lost updates (%llu, %llu, want %llu)\n",
			(unsigned long long)metrics_histogram_count(h),
			(unsigned long long)metrics_counter_value(c), (unsigned long long)want);
		return 1;
	}
	printf("  p50 %.4f s, p99 %.4f s of the recorded values\n", metrics_histogram_quantile(h, 0.5),
	       metrics_histogram_quantile(h, 0.99));
	return 0;
}
