#include "cache/l2.h"

#include <errno.h>
#include <hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/redisurl.h"
#include "core/mem.h"

#define CHANNEL "brisk:changes"
#define MAX_BACKOFF_S 5.0

struct l2 {
	redisurl_t url;
	int timeout_ms;
	pthread_key_t tls; /* per-thread redisContext */
	pthread_mutex_t lock; /* guards down_until/backoff and the conns list */
	double down_until, backoff;
	redisContext **conns;
	int nconns, capconns;
	atomic_uint_fast64_t hits, misses, errors, sets, lock_waits, outages;
	atomic_bool up;
	double last_error_at;
	pthread_t sub_tid;
	atomic_bool sub_running, stopping;
	void (*sub_fn)(void *, const char *, size_t);
	void *sub_ud;
};

l2_t *l2_new(const char *url, int timeout_ms, char *err, size_t errlen)
{
	l2_t *l = xcalloc(1, sizeof *l);
	l->timeout_ms = timeout_ms > 0 ? timeout_ms : 50;
	if (!redisurl_parse(url, &l->url, err, errlen)) {
		free(l);
		return NULL;
	}
	pthread_key_create(&l->tls, NULL);
	pthread_mutex_init(&l->lock, NULL);
	atomic_store(&l->up, true);
	return l;
}

static void mark_down(l2_t *l, const char *why)
{
	pthread_mutex_lock(&l->lock);
	l->backoff = l->backoff ? l->backoff * 2 : 0.1;
	if (l->backoff > MAX_BACKOFF_S)
		l->backoff = MAX_BACKOFF_S;
	l->down_until = clock_now_s() + l->backoff;
	l->last_error_at = clock_now_s();
	pthread_mutex_unlock(&l->lock);
	atomic_fetch_add(&l->errors, 1);
	if (atomic_exchange(&l->up, false)) {
		atomic_fetch_add(&l->outages, 1);
		log_warn("cache: redis %s:%d is unavailable (%s); serving from memory and the store", l->url.host, l->url.port, why);
	}
}

static redisContext *connect_one(l2_t *l)
{
	char why[160];
	redisContext *c = redisurl_connect(&l->url, l->timeout_ms, why, sizeof why);
	if (!c)
		mark_down(l, why);
	return c;
}

/* This thread's connection, or NULL while Redis is considered down. */
static redisContext *conn(l2_t *l)
{
	redisContext *c = pthread_getspecific(l->tls);
	if (c)
		return c;
	pthread_mutex_lock(&l->lock);
	bool down = clock_now_s() < l->down_until;
	pthread_mutex_unlock(&l->lock);
	if (down)
		return NULL;
	c = connect_one(l);
	if (!c)
		return NULL;
	pthread_mutex_lock(&l->lock);
	if (l->nconns == l->capconns) {
		l->capconns = l->capconns ? l->capconns * 2 : 8;
		l->conns = xrealloc(l->conns, (size_t)l->capconns * sizeof *l->conns);
	}
	l->conns[l->nconns++] = c;
	l->backoff = 0;
	pthread_mutex_unlock(&l->lock);
	if (!atomic_exchange(&l->up, true))
		log_info("cache: redis %s:%d is back", l->url.host, l->url.port);
	pthread_setspecific(l->tls, c);
	return c;
}

/* Drops this thread's broken connection. */
static void conn_failed(l2_t *l, redisContext *c, const char *why)
{
	pthread_mutex_lock(&l->lock);
	for (int i = 0; i < l->nconns; i++)
		if (l->conns[i] == c) {
			l->conns[i] = l->conns[--l->nconns];
			break;
		}
	pthread_mutex_unlock(&l->lock);
	pthread_setspecific(l->tls, NULL);
	/* why may point into c (its errstr): keep a copy before freeing c */
	char reason[128];
	snprintf(reason, sizeof reason, "%s", why);
	redisFree(c);
	mark_down(l, reason);
}

static redisReply *command(l2_t *l, int argc, const char **argv, const size_t *lens)
{
	redisContext *c = conn(l);
	if (!c)
		return NULL;
	redisReply *r = redisCommandArgv(c, argc, argv, lens);
	if (!r || c->err) {
		conn_failed(l, c, c->err ? c->errstr : "no reply");
		if (r)
			freeReplyObject(r);
		return NULL;
	}
	return r;
}

bool l2_get(l2_t *l, const char *key, size_t keylen, buf_t *out)
{
	const char *argv[] = {"GET", key};
	size_t lens[] = {3, keylen};
	redisReply *r = command(l, 2, argv, lens);
	bool hit = r && r->type == REDIS_REPLY_STRING;
	if (hit) {
		buf_reset(out);
		buf_put(out, r->str, r->len);
	}
	if (r)
		freeReplyObject(r);
	atomic_fetch_add(hit ? &l->hits : &l->misses, 1);
	return hit;
}

void l2_set(l2_t *l, const char *key, size_t keylen, const char *val, size_t len, uint64_t ttl_ms)
{
	char ttl[24];
	snprintf(ttl, sizeof ttl, "%llu", (unsigned long long)ttl_ms);
	const char *argv[] = {"SET", key, val, "PX", ttl};
	size_t lens[] = {3, keylen, len, 2, strlen(ttl)};
	redisReply *r = command(l, 5, argv, lens);
	if (r) {
		atomic_fetch_add(&l->sets, 1);
		freeReplyObject(r);
	}
}

/* "lock:" + the key's bytes. Keys are binary (they start with the org id
 * as 8 raw bytes), so they are copied, never printed as strings. */
static size_t lock_key(char *out, size_t cap, const char *key, size_t keylen)
{
	if (keylen > cap - 5)
		keylen = cap - 5;
	memcpy(out, "lock:", 5);
	memcpy(out + 5, key, keylen);
	return 5 + keylen;
}

bool l2_lock(l2_t *l, const char *key, size_t keylen, uint64_t ttl_ms)
{
	char ttl[24], lk[600];
	snprintf(ttl, sizeof ttl, "%llu", (unsigned long long)ttl_ms);
	size_t n = lock_key(lk, sizeof lk, key, keylen);
	const char *argv[] = {"SET", lk, "1", "NX", "PX", ttl};
	size_t lens[] = {3, n, 1, 2, 2, strlen(ttl)};
	redisReply *r = command(l, 6, argv, lens);
	/* Redis down: behave as if we hold the lock (compute locally). */
	bool got = !r || r->type == REDIS_REPLY_STATUS;
	if (r)
		freeReplyObject(r);
	if (!got)
		atomic_fetch_add(&l->lock_waits, 1);
	return got;
}

void l2_unlock(l2_t *l, const char *key, size_t keylen)
{
	char lk[600];
	size_t n = lock_key(lk, sizeof lk, key, keylen);
	const char *argv[] = {"DEL", lk};
	size_t lens[] = {3, n};
	redisReply *r = command(l, 2, argv, lens);
	if (r)
		freeReplyObject(r);
}

void l2_publish(l2_t *l, const char *msg)
{
	const char *argv[] = {"PUBLISH", CHANNEL, msg};
	size_t lens[] = {7, strlen(CHANNEL), strlen(msg)};
	redisReply *r = command(l, 3, argv, lens);
	if (r)
		freeReplyObject(r);
}

static void *sub_main(void *arg)
{
	l2_t *l = arg;
	double backoff = 0.1;
	while (!atomic_load(&l->stopping)) {
		redisContext *c = connect_one(l);
		if (!c) {
			usleep((useconds_t)(backoff * 1e6));
			backoff = backoff * 2 > MAX_BACKOFF_S ? MAX_BACKOFF_S : backoff * 2;
			continue;
		}
		backoff = 0.1;
		/* A blocking read that wakes every 200 ms to notice shutdown. */
		struct timeval tv = {0, 200000};
		redisSetTimeout(c, tv);
		redisReply *r = redisCommand(c, "SUBSCRIBE %s", CHANNEL);
		if (r)
			freeReplyObject(r);
		while (!atomic_load(&l->stopping)) {
			void *reply = NULL;
			if (redisGetReply(c, &reply) != REDIS_OK) {
				if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
					c->err = 0; /* just the poll timeout */
					c->errstr[0] = '\0';
					continue;
				}
				break;
			}
			redisReply *m = reply;
			if (m && m->type == REDIS_REPLY_ARRAY && m->elements == 3 && m->element[2]->type == REDIS_REPLY_STRING)
				l->sub_fn(l->sub_ud, m->element[2]->str, m->element[2]->len);
			if (m)
				freeReplyObject(m);
		}
		redisFree(c);
	}
	return NULL;
}

void l2_subscribe(l2_t *l, void (*fn)(void *ud, const char *msg, size_t len), void *ud)
{
	l->sub_fn = fn;
	l->sub_ud = ud;
	atomic_store(&l->sub_running, true);
	pthread_create(&l->sub_tid, NULL, sub_main, l);
}

void l2_stats(l2_t *l, l2_stats_t *o)
{
	o->hits = atomic_load(&l->hits);
	o->misses = atomic_load(&l->misses);
	o->errors = atomic_load(&l->errors);
	o->sets = atomic_load(&l->sets);
	o->lock_waits = atomic_load(&l->lock_waits);
	o->outages = atomic_load(&l->outages);
	o->up = atomic_load(&l->up);
	pthread_mutex_lock(&l->lock);
	o->last_error_at = l->last_error_at;
	pthread_mutex_unlock(&l->lock);
}

void l2_free(l2_t *l)
{
	if (!l)
		return;
	atomic_store(&l->stopping, true);
	if (atomic_load(&l->sub_running))
		pthread_join(l->sub_tid, NULL);
	for (int i = 0; i < l->nconns; i++)
		redisFree(l->conns[i]);
	free(l->conns);
	pthread_key_delete(l->tls);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
