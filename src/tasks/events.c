#include "tasks/events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/clock.h"
#include "core/buf.h"
#include "core/mem.h"
#include "store/store.h"

/* DESIGN
 * One mutex guards the whole hub: publishing is a few memcpy's and one
 * send per subscriber of one org, and sends only queue bytes (the HTTP
 * loop writes them), so a single lock stays short. Orgs hash into a fixed
 * table of chains; each org owns its ring and its subscriber list.
 *
 * A connection's close callback may come after the hub released the
 * subscription, so it names the subscription by key and only flips its
 * `closed` flag; the hub's thread unlinks and releases closed
 * subscriptions (outside the lock) within a second. */

#define BUCKETS 64

typedef struct events_sub events_sub_t;

struct events_sub {
	events_sub_t *next;
	uint64_t key;
	int64_t org;
	events_send_fn send;
	events_release_fn release;
	void *ud;
	atomic_bool closed;
};

typedef struct {
	uint64_t id;
	char *text;
	size_t len;
} event;

typedef struct org_hub {
	struct org_hub *next;
	int64_t org;
	event *ring;
	size_t head, n;
	uint64_t evicted; /* highest id pushed out of the ring, 0 = none */
	uint64_t next_id; /* this org's own counter: ids say nothing of others */
	events_sub_t *subs;
} org_hub;

struct events {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ring_size, heartbeat_ms;
	uint64_t first_id; /* start of every org's ids: this process's start in µs */
	org_hub *buckets[BUCKETS];
	int nsubs;
	bool stop;
	pthread_t tid;
};

static org_hub *org_find(events_t *e, int64_t org, bool create)
{
	size_t b = (size_t)((uint64_t)org * 0x9E3779B97F4A7C15ull >> 58) % BUCKETS;
	for (org_hub *o = e->buckets[b]; o; o = o->next)
		if (o->org == org)
			return o;
	if (!create)
		return NULL;
	org_hub *o = xcalloc(1, sizeof *o);
	o->org = org;
	o->ring = xcalloc((size_t)e->ring_size, sizeof *o->ring);
	o->next_id = e->first_id; /* above every id of an earlier process */
	o->next = e->buckets[b];
	e->buckets[b] = o;
	return o;
}

/* Sends to one subscriber unless closed; a failed send closes it. */
static void sub_send(events_sub_t *s, const char *p, size_t n)
{
	if (atomic_load(&s->closed))
		return;
	if (!s->send(s->ud, p, n))
		atomic_store(&s->closed, true);
}

/* Unlinks closed subscriptions onto *dead (released by the caller after
 * unlocking). */
static void sweep(events_t *e, events_sub_t **dead)
{
	for (int b = 0; b < BUCKETS; b++)
		for (org_hub *o = e->buckets[b]; o; o = o->next) {
			events_sub_t **pp = &o->subs;
			while (*pp) {
				events_sub_t *s = *pp;
				if (atomic_load(&s->closed)) {
					*pp = s->next;
					s->next = *dead;
					*dead = s;
					e->nsubs--;
				} else {
					pp = &s->next;
				}
			}
		}
}

static void release_all(events_sub_t *dead)
{
	while (dead) {
		events_sub_t *next = dead->next;
		if (dead->release)
			dead->release(dead->ud);
		free(dead);
		dead = next;
	}
}

static void *heartbeat_main(void *arg)
{
	events_t *e = arg;
	double next_ping = clock_now_s() + e->heartbeat_ms / 1000.0;
	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&e->cond, &e->lock, &ts);
		if (e->stop)
			break;
		bool ping = clock_now_s() >= next_ping;
		pthread_mutex_unlock(&e->lock);
		if (ping) {
			events_heartbeat(e);
			next_ping = clock_now_s() + e->heartbeat_ms / 1000.0;
		}
		events_sub_t *dead = NULL;
		pthread_mutex_lock(&e->lock);
		sweep(e, &dead);
		pthread_mutex_unlock(&e->lock);
		release_all(dead);
		pthread_mutex_lock(&e->lock);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

events_t *events_new(int ring_size, int heartbeat_ms)
{
	events_t *e = xcalloc(1, sizeof *e);
	e->ring_size = ring_size > 0 ? ring_size : 256;
	e->heartbeat_ms = heartbeat_ms > 0 ? heartbeat_ms : 15000;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	/* microseconds: a restart would have to follow a million events a
	 * second to reuse an id (and they stay below 2^53, exact in JSON) */
	e->first_id = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	pthread_create(&e->tid, NULL, heartbeat_main, e);
	return e;
}

void events_free(events_t *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stop = true;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->tid, NULL);
	events_sub_t *dead = NULL;
	for (int b = 0; b < BUCKETS; b++) {
		org_hub *o = e->buckets[b];
		while (o) {
			org_hub *next = o->next;
			while (o->subs) {
				events_sub_t *s = o->subs;
				o->subs = s->next;
				s->next = dead;
				dead = s;
			}
			for (size_t i = 0; i < o->n; i++)
				free(o->ring[(o->head + i) % (size_t)e->ring_size].text);
			free(o->ring);
			free(o);
			o = next;
		}
	}
	release_all(dead);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

uint64_t events_publish(events_t *e, int64_t org, const char *json, size_t len)
{
	pthread_mutex_lock(&e->lock);
	org_hub *o = org_find(e, org, true);
	uint64_t id = ++o->next_id;
	buf_t b = BUF_INIT;
	buf_printf(&b, "id: %llu\ndata: ", (unsigned long long)id);
	buf_put(&b, json, len);
	buf_puts(&b, "\n\n");
	size_t cap = (size_t)e->ring_size;
	if (o->n == cap) {
		event *old = &o->ring[o->head];
		o->evicted = old->id;
		free(old->text);
		o->head = (o->head + 1) % cap;
		o->n--;
	}
	event *ev = &o->ring[(o->head + o->n) % cap];
	ev->id = id;
	ev->len = b.len;
	ev->text = buf_steal(&b);
	o->n++;
	for (events_sub_t *s = o->subs; s; s = s->next)
		sub_send(s, ev->text, ev->len);
	pthread_mutex_unlock(&e->lock);
	return id;
}

static const char *const table_names[TBL__COUNT] = {
	[TBL_COSTS] = "costs",       [TBL_SALES_ORDERS] = "sales_orders", [TBL_INVOICES] = "invoices",
	[TBL_PAYMENTS] = "payments", [TBL_LEADS] = "leads",               [TBL_ALLOCATIONS] = "allocations",
	[TBL_SETTINGS] = "settings",   [TBL_DATASETS] = "datasets",
};

void events_publish_data(events_t *e, int64_t org, unsigned table_mask)
{
	if (!e || !table_mask)
		return;
	char json[256];
	size_t n = (size_t)snprintf(json, sizeof json, "{\"type\":\"data\",\"tables\":[");
	bool first = true;
	for (int t = 0; t < TBL__COUNT; t++)
		if (table_mask & TBL_BIT(t)) {
			n += (size_t)snprintf(json + n, sizeof json - n, "%s\"%s\"", first ? "" : ",", table_names[t]);
			first = false;
		}
	n += (size_t)snprintf(json + n, sizeof json - n, "]}");
	events_publish(e, org, json, n);
}

void events_subscribe(events_t *e, uint64_t key, int64_t org, const char *last_id, events_send_fn send,
                      events_release_fn release, void *ud)
{
	events_sub_t *s = xcalloc(1, sizeof *s);
	s->key = key;
	s->org = org;
	s->send = send;
	s->release = release;
	s->ud = ud;
	pthread_mutex_lock(&e->lock);
	org_hub *o = org_find(e, org, true);
	/* Tells EventSource how soon to reconnect; also proves the subscription
	 * exists before the first event. */
	sub_send(s, "retry: 2000\n\n", 13);
	if (last_id && *last_id) {
		char *end;
		unsigned long long last = strtoull(last_id, &end, 10);
		bool valid = *end == '\0' && end != last_id;
		/* Events this client never saw may be gone: before this process
		 * started, or pushed out of the ring. It must refetch. */
		if (!valid || last < e->first_id || (o->evicted && last < o->evicted)) {
			char reset[96];
			int n = snprintf(reset, sizeof reset, "id: %llu\ndata: {\"type\":\"reset\"}\n\n",
			                 (unsigned long long)o->next_id);
			sub_send(s, reset, (size_t)n);
		}
		for (size_t i = 0; valid && i < o->n; i++) {
			event *ev = &o->ring[(o->head + i) % (size_t)e->ring_size];
			if (ev->id > last)
				sub_send(s, ev->text, ev->len);
		}
	}
	s->next = o->subs;
	o->subs = s;
	e->nsubs++;
	pthread_mutex_unlock(&e->lock);
}

void events_close(events_t *e, uint64_t key)
{
	pthread_mutex_lock(&e->lock);
	for (int b = 0; b < BUCKETS; b++)
		for (org_hub *o = e->buckets[b]; o; o = o->next)
			for (events_sub_t *s = o->subs; s; s = s->next)
				if (s->key == key)
					atomic_store(&s->closed, true);
	pthread_mutex_unlock(&e->lock);
}

void events_heartbeat(events_t *e)
{
	pthread_mutex_lock(&e->lock);
	for (int b = 0; b < BUCKETS; b++)
		for (org_hub *o = e->buckets[b]; o; o = o->next)
			for (events_sub_t *s = o->subs; s; s = s->next)
				sub_send(s, ": ping\n\n", 8);
	pthread_mutex_unlock(&e->lock);
}

int events_subscribers(events_t *e)
{
	pthread_mutex_lock(&e->lock);
	int n = e->nsubs;
	pthread_mutex_unlock(&e->lock);
	return n;
}
