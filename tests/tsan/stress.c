/* tsan_stress: the shared structures that many threads use at once, driven
 * from many threads without Criterion (whose forking arena cannot run under
 * ThreadSanitizer, Snaipe/Criterion#274), for scripts/tsan.sh. Built only in
 * a -Db_sanitize=thread build. Checks totals too; TSan checks the rest.
 *   metrics: histograms, counters and gauges observed from 8 threads
 *   events:  publishers on 4 threads, subscribers joining and leaving on 2,
 *            the heartbeat thread of the hub, replay by Last-Event-ID
 *   admission: 4 threads pushing misses of 6 orgs at every priority into
 *            the pool (its workers, the per-org cap, the queue bounds),
 *            the queue length read meanwhile; every admitted job runs
 *            once and no org runs more at once than its cap */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/admission.h"
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

/* ---- admission ---- */

#define ADM_PUSHERS 4
#define ADM_JOBS 3000
#define ADM_ORGS 6
#define ADM_CAP 2

static admission_t *adm;
static atomic_int adm_running[ADM_ORGS], adm_peak[ADM_ORGS];
static atomic_long adm_ran, adm_admitted, adm_refused;

static void adm_job(void *arg)
{
	int org = (int)(intptr_t)arg;
	int now = atomic_fetch_add(&adm_running[org], 1) + 1;
	int peak = atomic_load(&adm_peak[org]);
	while (now > peak && !atomic_compare_exchange_weak(&adm_peak[org], &peak, now))
		;
	for (volatile int i = 0; i < 200; i++)
		;
	atomic_fetch_sub(&adm_running[org], 1);
	atomic_fetch_add(&adm_ran, 1);
}

static void *adm_pusher(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < ADM_JOBS; i++) {
		int org = (i + id) % ADM_ORGS;
		int rc = admission_push(adm, org + 1, (adm_prio)(i % ADM__PRIOS), adm_job, (void *)(intptr_t)org);
		atomic_fetch_add(rc == 0 ? &adm_admitted : &adm_refused, 1);
		if (i % 64 == 0)
			(void)admission_queued(adm);
	}
	return NULL;
}

static void admission_stress(void)
{
	adm = admission_new(&(admission_opts){.threads = 4, .queue = 256, .org_queue = 64, .org_concurrency = ADM_CAP});
	pthread_t t[ADM_PUSHERS];
	for (int i = 0; i < ADM_PUSHERS; i++)
		pthread_create(&t[i], NULL, adm_pusher, (void *)(intptr_t)i);
	for (int i = 0; i < ADM_PUSHERS; i++)
		pthread_join(t[i], NULL);
	admission_free(adm); /* runs what is still queued */
	CHECK(atomic_load(&adm_ran) == atomic_load(&adm_admitted), "admission ran %ld of %ld admitted jobs",
	      atomic_load(&adm_ran), atomic_load(&adm_admitted));
	CHECK(atomic_load(&adm_admitted) + atomic_load(&adm_refused) == (long)ADM_PUSHERS * ADM_JOBS, "jobs lost");
	for (int o = 0; o < ADM_ORGS; o++)
		CHECK(atomic_load(&adm_peak[o]) <= ADM_CAP, "org %d ran %d jobs at once (cap %d)", o + 1,
		      atomic_load(&adm_peak[o]), ADM_CAP);
}

int main(void)
{
	metrics_stress();
	events_stress();
	admission_stress();
	printf("tsan_stress: %s\n", problems ? "FAILED" : "ok");
	return problems != 0;
}
