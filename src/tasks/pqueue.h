/* pqueue: a bounded priority queue of task ids with three levels
 * (interactive before normal before bulk), first in first out within a
 * level. Not thread-safe: the task pool guards it with its own lock. */
#ifndef BRISK_PQUEUE_H
#define BRISK_PQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { PQ_INTERACTIVE = 0, PQ_NORMAL = 1, PQ_BULK = 2, PQ__LEVELS = 3 } pqueue_level;

typedef struct pqueue pqueue_t;

/* A queue holding at most cap ids in all (cap >= 1). Never NULL. */
pqueue_t *pqueue_new(size_t cap);
/* Frees q and what it holds. NULL is a no-op. */
void pqueue_free(pqueue_t *q);
/* Appends id at level lv. Returns false, changing nothing, when the queue
 * is full or lv is out of range (the caller reports it: queues never grow
 * without bound). */
bool pqueue_push(pqueue_t *q, pqueue_level lv, int64_t id);
/* Takes the oldest id of the most urgent non-empty level. Returns false
 * when the queue is empty. lv may be NULL. */
bool pqueue_pop(pqueue_t *q, int64_t *id, pqueue_level *lv);
/* Removes id wherever it is queued; true when it was there. */
bool pqueue_remove(pqueue_t *q, int64_t id);
/* Ids queued in all, and at one level. */
size_t pqueue_len(const pqueue_t *q);
size_t pqueue_level_len(const pqueue_t *q, pqueue_level lv);
/* "interactive", "normal", "bulk"; parse returns false on anything else. */
const char *pqueue_level_name(pqueue_level lv);
bool pqueue_level_parse(const char *s, pqueue_level *out);

#endif
