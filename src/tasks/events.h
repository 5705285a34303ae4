/* events: the per-organisation event hub behind GET /api/v1/events.
 *
 * Publishers (task progress, committed writes) hand in a JSON object; the
 * hub gives it an id, formats it as a server-sent event ("id: N\ndata:
 * JSON\n\n"), keeps it in the org's ring of recent events and sends it to
 * the org's subscribers. A subscriber that reconnects with the id of the
 * last event it saw gets the newer ones of the ring first, so nothing
 * between its two connections is lost; when the ring no longer reaches
 * back that far it gets {"type":"reset"} (refetch everything) instead.
 *
 * Ids grow across restarts (they start from the clock in microseconds), so
 * an id from before a restart reads as "too old" rather than as "new".
 * Each org has its own sequence, so its ids do not count others' events. A
 * thread sends ": ping" to every subscriber every heartbeat interval, so
 * proxies keep idle streams open and dead peers are noticed. */
#ifndef BRISK_EVENTS_H
#define BRISK_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct events events_t;

/* Sends bytes to one subscriber; returns false once it is gone. Called
 * with the hub's lock held: it must not call back into the hub. */
typedef bool (*events_send_fn)(void *ud, const char *p, size_t n);
/* Called once when the hub drops a subscriber (after events_close, or
 * at events_free): the subscriber's resources are released there. */
typedef void (*events_release_fn)(void *ud);

/* A hub keeping the last ring_size events per org (0 = 256) and sending a
 * heartbeat every heartbeat_ms (0 = 15000). Never NULL. */
events_t *events_new(int ring_size, int heartbeat_ms);
/* Stops the heartbeat and releases every subscriber. NULL is a no-op. */
void events_free(events_t *e);

/* Publishes the JSON object json (len bytes, one line) to org's
 * subscribers. Returns the event id. Any thread. */
uint64_t events_publish(events_t *e, int64_t org, const char *json, size_t len);
/* Publishes {"type":"data","tables":[...]} for a store change mask. */
void events_publish_data(events_t *e, int64_t org, unsigned table_mask);

/* Subscribes to org under key (the caller's unique number for this
 * subscription). last_id (NULL or "" = none) is the Last-Event-ID of a
 * reconnecting client: the newer buffered events are sent at once, before
 * any new one. The hub calls release(ud) exactly once when it drops the
 * subscription. */
void events_subscribe(events_t *e, uint64_t key, int64_t org, const char *last_id, events_send_fn send,
                      events_release_fn release, void *ud);
/* Marks subscription key closed: the hub stops sending and releases it
 * within a second. A key already dropped is ignored, so a connection's
 * close callback may call this at any time (it takes a numeric key, not a
 * pointer the hub may have freed). */
void events_close(events_t *e, uint64_t key);
/* Sends ": ping" to every subscriber now and drops closed ones (the
 * heartbeat thread does this on its own). */
void events_heartbeat(events_t *e);
/* Subscribers connected now (for metrics and tests). */
int events_subscribers(events_t *e);

#endif
