/* admission: the worker pool for expensive requests (cache misses of
 * dashboards, lists, imports and downloads), with a bounded queue, strict
 * priority between classes, and a cap on how many one organisation runs
 * at once, so one tenant's flood waits for its own turns while others'
 * requests find a free worker. Cheap work (cache hits found off the loop,
 * 304s, small writes) never enters it: it keeps the plain workq. */
#ifndef BRISK_ADMISSION_H
#define BRISK_ADMISSION_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
	ADM_DASHBOARD, /* dashboard views: people wait for these */
	ADM_LIST,      /* lists, proposals, explanations */
	ADM_BULK,      /* imports, exports, downloads */
	ADM__PRIOS
} adm_prio;

typedef struct {
	int threads;         /* workers; default 2 x cores */
	int queue;           /* queued jobs at most, every org; default 1024 */
	int org_queue;       /* queued jobs of one org at most; default 256 */
	int org_concurrency; /* running jobs of one org at most; default threads / 2 (at least 1);
	                        lowered to cores / orgs with work while others have some */
	int nice;            /* CPU priority of the workers below the event loops (0: same) */
} admission_opts;

typedef struct admission admission_t;

/* Starts the pool (zeros in o take the defaults). */
admission_t *admission_new(const admission_opts *o);
/* Queues fn(arg) for org at priority p. 0; ADMISSION_FULL when the whole
 * queue is full; ADMISSION_ORG_FULL when org's share is. */
#define ADMISSION_FULL (-1)
#define ADMISSION_ORG_FULL (-2)
int admission_push(admission_t *a, int64_t org, adm_prio p, void (*fn)(void *), void *arg);
/* Queued (not running) jobs, all classes (metrics). */
size_t admission_queued(admission_t *a);
/* Runs what is queued, stops the workers and frees the pool. */
void admission_free(admission_t *a);
/* The priority a route (by name) is admitted at; -1 when the route is
 * cheap and does not go through admission (views enter it on a miss). */
int admission_prio_of(const char *route_name);
const char *admission_prio_name(adm_prio p);

#endif
