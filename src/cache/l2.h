/* l2: the Redis tier. Connections are per calling thread; a failing Redis
 * is marked down and retried with exponential backoff, so an outage costs
 * one timeout, not one per request. Nothing here ever fails a request. */
#ifndef BRISK_L2_H
#define BRISK_L2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct l2 l2_t;

/* Parses redis://[:password@]host[:port][/db]. NULL with err on a bad URL
 * (never for an unreachable server). */
l2_t *l2_new(const char *url, int timeout_ms, char *err, size_t errlen);
void l2_free(l2_t *l);

/* GET into out; true on a hit. */
bool l2_get(l2_t *l, const char *key, size_t keylen, buf_t *out);
/* SET with a TTL (PX). */
void l2_set(l2_t *l, const char *key, size_t keylen, const char *val, size_t len, uint64_t ttl_ms);
/* SET NX PX: true when this caller holds the lock. */
bool l2_lock(l2_t *l, const char *key, size_t keylen, uint64_t ttl_ms);
void l2_unlock(l2_t *l, const char *key, size_t keylen);
/* PUBLISH on the change channel. */
void l2_publish(l2_t *l, const char *msg);
/* Starts a thread that SUBSCRIBEs to the change channel and calls fn for
 * each message (reconnecting with backoff). */
void l2_subscribe(l2_t *l, void (*fn)(void *ud, const char *msg, size_t len), void *ud);

typedef struct {
	uint64_t hits, misses, errors, sets, lock_waits;
	bool up;
	uint64_t outages;    /* transitions to down */
	double last_error_at;
} l2_stats_t;
void l2_stats(l2_t *l, l2_stats_t *out);

#endif
