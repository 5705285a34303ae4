/* tsan_stress: the shared structures that many threads use at once, driven
 * from many threads without Criterion (whose forking arena cannot run under
 * ThreadSanitizer, Snaipe/Criterion#274), for scripts/tsan.sh. Built only in
 * a -Db_sanitize=thread build. Checks totals too; TSan checks the rest.
 *   metrics: histograms, counters and gauges observed from 8 threads
 *   events:  publishers on 4 threads, subscribers joining and leaving on 2,
 *            the heartbeat thread of the hub, replay by Last-Event-ID */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/metrics.h"
#include "tasks/events.h"

#define THREADS 8
#define PER_THREAD 20000

static int problems;
#define CHECK(cond, ...)                                          \
	do {                                                          \
		if (!(cond)) {                                            \
			fprintf(stderr, "tsan_stress: " __VA_ARGS__);         \
			fputc('\n', stderr);                                  \
			problems++;                                           \
		}                                                         \
	} while (0)

/* ---- metrics ---- */

static metrics_histogram_t *hist;
static metrics_counter_t *count;
static metrics_gauge_t *gauge;

static void *observer(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		metrics_histogram_observe(hist, 0.25 * (1 + (i + id) % 4));
		metrics_counter_add(count, 1);
		if (i % 16 == 0)
			metrics_gauge_add(gauge, 1);
	}
	return NULL;
}

static void metrics_stress(void)
{
	hist = metrics_histogram("tsan_seconds", "stress", NULL);
	count = metrics_counter("tsan_total", "stress", NULL);
	gauge = metrics_gauge("tsan_gauge", "stress", NULL);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, observer, (void *)(intptr_t)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	uint64_t n = (uint64_t)THREADS * PER_THREAD;
	CHECK(metrics_histogram_count(hist) == n, "histogram count %" PRIu64, metrics_histogram_count(hist));
	CHECK(metrics_counter_value(count) == n, "counter %" PRIu64, (uint64_t)metrics_counter_value(count));
	CHECK(metrics_histogram_sum(hist) == 0.625 * (double)n, "histogram sum %f", metrics_histogram_sum(hist));
}

/* ---- events ---- */

#define PUBLISHERS 4
#define EVENTS 2000
#define SUBS 64

typedef struct {
	atomic_long bytes;
	atomic_int released;
} sub_t;

static events_t *hub;
static sub_t subs[SUBS];

static bool on_send(void *ud, const char *p, size_t n)
{
	(void)p;
	sub_t *s = ud;
	atomic_fetch_add(&s->bytes, (long)n);
	return true;
}

static void on_release(void *ud)
{
	sub_t *s = ud;
	atomic_fetch_add(&s->released, 1);
}

static void *publisher(void *arg)
{
	int id = (int)(intptr_t)arg;
	char json[64];
	for (int i = 0; i < EVENTS; i++) {
		int n = snprintf(json, sizeof json, "{\"type\":\"stress\",\"p\":%d,\"i\":%d}", id, i);
		events_publish(hub, 1 + i % 3, json, (size_t)n);
		if (i % 100 == 0)
			events_publish_data(hub, 1, 1u << (i % 5));
	}
	return NULL;
}

static void *subscriber(void *arg)
{
	int half = (int)(intptr_t)arg;
	for (int k = half; k < SUBS; k += 2) {
		char last[32];
		snprintf(last, sizeof last, "%d", k * 10);
		events_subscribe(hub, (uint64_t)k + 1, 1 + k % 3, k % 4 ? NULL : last, on_send, on_release, &subs[k]);
		if (k % 3 == 0)
			events_close(hub, (uint64_t)k + 1);
		if (k % 8 == 0)
			events_heartbeat(hub);
	}
	return NULL;
}

static void events_stress(void)
{
	hub = events_new(128, 5);
	pthread_t p[PUBLISHERS], s[2];
	for (int i = 0; i < PUBLISHERS; i++)
		pthread_create(&p[i], NULL, publisher, (void *)(intptr_t)i);
	for (int i = 0; i < 2; i++)
		pthread_create(&s[i], NULL, subscriber, (void *)(intptr_t)i);
	for (int i = 0; i < PUBLISHERS; i++)
		pthread_join(p[i], NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(s[i], NULL);
	events_free(hub);
	for (int k = 0; k < SUBS; k++)
		CHECK(atomic_load(&subs[k].released) == 1, "subscriber %d released %d times", k,
		      atomic_load(&subs[k].released));
}

int main(void)
{
	metrics_stress();
	events_stress();
	printf("tsan_stress: %s\n", problems ? "FAILED" : "ok");
	return problems != 0;
}
