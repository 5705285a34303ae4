/* redisq: the task queue in Redis, shared by every instance (a reliable
 * queue). Three lists of waiting items (one per priority level) and one
 * processing list; an item is "LEVEL:ID".
 *
 * Taking an item moves it atomically (one Lua script) from the most urgent
 * non-empty list to the processing list and gives it a lease, a key that
 * expires unless its worker renews it. Any instance periodically reaps the
 * processing list: an item whose lease is gone (its worker died or lost
 * its connection) goes back to the front of its queue, and another worker
 * takes it. A finished item is acknowledged: removed from processing.
 * Connection failures are reported, never fatal: the caller retries. */
#ifndef BRISK_REDISQ_H
#define BRISK_REDISQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tasks/pqueue.h"

typedef struct redisq redisq_t;

/* Parses redis://[:password@]host[:port][/db] and keys the queue under
 * prefix (NULL = "brisk:tasks"). Returns NULL with err on a bad URL only:
 * an unreachable server shows up as failing calls. owner names this
 * instance in leases. */
redisq_t *redisq_new(const char *url, const char *prefix, int timeout_ms, const char *owner, char *err,
                     size_t errlen);
void redisq_free(redisq_t *q);

/* Appends id at level lv. False when Redis is unreachable. */
bool redisq_push(redisq_t *q, int64_t id, pqueue_level lv);
/* Takes the oldest item of the most urgent level with a lease of lease_ms.
 * Returns 1 (id, lv set), 0 when every queue is empty, -1 on an error. */
int redisq_pop(redisq_t *q, int64_t *id, pqueue_level *lv, int lease_ms);
/* Extends this instance's lease of a taken item. Returns 1, 0 when the
 * lease is gone (expired, reaped, or Redis lost it: another worker may
 * run the task now), -1 when Redis cannot be reached. */
int redisq_renew(redisq_t *q, int64_t id, pqueue_level lv, int lease_ms);
/* The item is done: off the processing list, lease dropped; a no-op when
 * another instance holds the item now. */
void redisq_ack(redisq_t *q, int64_t id, pqueue_level lv);
/* Puts a taken item back at the front of its queue at once (a graceful
 * stop hands its running tasks to the other instances), unless another
 * instance holds it now or it is already waiting. */
bool redisq_requeue(redisq_t *q, int64_t id, pqueue_level lv);
/* Calls each for every item in Redis (waiting or processing), from one
 * atomic snapshot. Returns how many, or -1 when unreachable. */
int redisq_each(redisq_t *q, void (*each)(void *ud, int64_t id, pqueue_level lv), void *ud);
/* Returns the items of dead workers (no lease) to their queues. Returns
 * how many, or -1 on an error. */
int redisq_reap(redisq_t *q);
/* Items waiting at each level and being processed (-1 when unreachable). */
void redisq_lengths(redisq_t *q, int64_t waiting[PQ__LEVELS], int64_t *processing);

#endif
