/* internal: what tasks.c (the pool, the watchdog, recovery) and
 * tasks_ops.c (the calls of tasks.h callers make) share. Not a public
 * header: nothing outside src/tasks includes it. */
#ifndef BRISK_TASKS_INTERNAL_H
#define BRISK_TASKS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/seal.h"
#include "tasks/pqueue.h"
#include "tasks/redisq.h"
#include "tasks/taskrec.h"
#include "tasks/tasks.h"

/* Why a running task's cancel flag was set. STOP_LOST: its Redis lease
 * (or its store lock) is gone, so another worker may be running it: hand it back, record
 * nothing. */
enum { STOP_NONE, STOP_USER, STOP_TIMEOUT, STOP_SHUTDOWN, STOP_LOST };

typedef struct running {
	struct running *next;
	int64_t id, org;
	char kind[16];
	pqueue_level lv;
	atomic_int cancel;
	int why;          /* STOP_*; guarded by the lock like the rest */
	double deadline;
	int timeout_s;
	int progress;
	char message[160];
	bool dirty;       /* progress not yet in the store */
	int sent_progress;
	double sent_at;
	double lease_ok_at; /* Redis: when the lease was last confirmed */
	bool hold;          /* BRISK_TEST_TASK_HOLD applies to this run */
} running;

struct tasks {
	tasks_opts o;
	uint8_t idkey[SEAL_KEYBYTES]; /* seals task ids shown to orgs (tasks_public_id) */
	store_t *store;
	char *dir;
	char owner[96];
	pthread_mutex_t lock;
	pthread_cond_t cond; /* queue not empty, or stopping: runners wait here */
	pthread_cond_t tick; /* stopping: the watchdog and flusher sleep here */
	pqueue_t *q;
	redisq_t *rq;
	running *running;
	bool stopping, started;
	int nworkers;
	pthread_t *workers, watchdog, flusher;
	int lease_ms;
	double renew_s, reap_s;
	/* No Redis, a store shared by instances (PostgreSQL): pending tasks are
	 * polled from the store, a running task is guarded by a store lock
	 * (store_lock_*) that dies with its process. */
	bool shared, polling;
	double next_poll;
	/* BRISK_TEST_TASK_HOLD=KIND:PCT, for the fault tests only: the first
	 * attempt of a KIND task stops once its progress reaches PCT until
	 * its cancel flag is set (stop, timeout, lost lease) or the process
	 * is killed, so a test can interrupt it mid-way on a machine of any
	 * speed. Unset: hold_pct is -1. */
	char hold_kind[16];
	int hold_pct;
};

/* The full path of a file of the task directory (caller frees). */
char *tasks_path_in(const tasks_t *t, const char *name);
/* Deletes a file of the task directory (NULL, "" and paths are ignored). */
void tasks_remove_file(const tasks_t *t, const char *name);
/* Publishes a task event to the org's stream (no-op without a hub). */
void tasks_publish(tasks_t *t, int64_t org, int64_t id, const char *kind, task_status st, int progress,
                   const char *message);
/* The running entry of task id on this instance, or NULL (lock held). */
running *tasks_find_running(tasks_t *t, int64_t id);
/* Queues id at lv; false when the queue is full or unreachable. */
bool tasks_queue_push(tasks_t *t, int64_t id, pqueue_level lv);

/* recover.c: what a stopped or dead process left behind. */
/* taskrec_interrupt_running's callback: deletes the task's files, logs. */
void tasks_drop_files_of(void *ud, const taskrec_t *rec);
/* Deletes files of the task directory that no live task owns. */
void tasks_sweep_dir(tasks_t *t);
/* With Redis: tasks the store says are waiting or running but no Redis
 * list holds (older than two leases) are queued again; at_start only
 * changes what an unreachable Redis logs. */
void tasks_recover_redis(tasks_t *t, bool at_start);
/* Shared store without Redis: running tasks whose lock is free (their
 * process died) go back to pending. */
void tasks_take_over_dead(tasks_t *t);
/* taskrec_each_status callback: queues a pending task in memory (ud: t). */
void tasks_queue_pending(void *ud, const taskrec_t *rec);

#endif
