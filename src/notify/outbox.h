/* outbox: notifications waiting to be delivered (webhooks and e-mail), kept
 * in the store in the transaction that decided them, so a crash loses none,
 * and sent by a delivery thread with retries and backoff. A receiver that
 * fails or hangs delays only its own deliveries, never a write. */
#ifndef BRISK_OUTBOX_H
#define BRISK_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

typedef struct outbox outbox_t;

typedef struct {
	const char *smtp_url;  /* smtp://host:port (or smtps://); NULL/"" = no e-mail */
	const char *smtp_from; /* the From address */
	const char *smtp_user, *smtp_password; /* optional */
	int timeout_ms;        /* per attempt (default 10000) */
	int max_attempts;      /* then the delivery fails (default 8) */
	int retry_base_ms;     /* first backoff, doubled each attempt (default 5000) */
} outbox_opts;

/* A delivery thread over s (not started). Strings are copied. Never NULL. */
outbox_t *outbox_new(store_t *s, const outbox_opts *o);
void outbox_start(outbox_t *ob);
/* Stops the thread (an attempt in flight ends first) and frees ob. */
void outbox_free(outbox_t *ob);
/* Wakes the thread: something was queued. Any thread; NULL is a no-op. */
void outbox_kick(outbox_t *ob);

/* Queues one delivery inside the caller's write transaction w. channel is
 * "webhook" (target a URL, payload JSON) or "email" (target an address,
 * payload the text body, subject its subject); attachment: a file path
 * sent with an e-mail (NULL: none), org 0 = the operator's. source says
 * what made it ("alert:3", "schedule:1", "monitor"). 0, or -1 (store). */
int outbox_add(store_conn_t *w, int64_t org, const char *source, const char *channel, const char *target,
               const char *subject, const char *payload, const char *attachment);

/* The org's webhook signing secret (64 hex chars), created in w on first
 * use. 0, or -1 (store). */
int outbox_secret(store_conn_t *w, int64_t org, char out[65]);

/* Appends {"items":[{"id","source","channel","target","state","attempts",
 * "last_status","last_error","created_at","sent_at"}]} newest first. */
int outbox_json(store_conn_t *c, int64_t org, int limit, buf_t *out);

/* The signature header value for body at unix time ts: "t=TS,sha256=HEX" of
 * HMAC-SHA256(secret, "TS.BODY"). */
void outbox_sign(const char *secret, int64_t ts, const char *body, size_t len, char out[128]);

#endif
