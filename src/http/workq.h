/* workq: a fixed pool of threads draining a bounded FIFO of jobs. A full
 * queue is refused (the caller answers 503), never grown. */
#ifndef BRISK_WORKQ_H
#define BRISK_WORKQ_H

#include <stddef.h>

typedef struct workq workq_t;

/* Starts nthreads workers with room for capacity queued jobs. */
workq_t *workq_new(int nthreads, size_t capacity);
/* Queues fn(arg). Returns 0, or -1 when the queue is full. */
int workq_push(workq_t *q, void (*fn)(void *), void *arg);
/* Jobs queued but not started (for metrics). */
size_t workq_pending(workq_t *q);
/* Runs the queued jobs to completion, then stops and frees the pool. */
void workq_free(workq_t *q);

#endif
