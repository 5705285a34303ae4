/* tasks: the background task system. A pool of worker threads takes task
 * ids from a priority queue (interactive before normal before bulk; in
 * memory, or in Redis shared by every instance when a URL is given), runs
 * the kind's code (src/tasks/taskkind.c) and records every step in the
 * task's row (src/tasks/taskrec.c): pending, running with progress,
 * then succeeded, failed, cancelled or interrupted.
 *
 * Guarantees:
 * - cancellation is cooperative and quick: the kinds poll an atomic flag
 *   (import_run and matcher_run between rows, exports between pages), and
 *   a cancel asked on another instance is seen within half a second;
 * - a task runs at most its kind's timeout, then fails with a clear error;
 * - nothing half-written is ever visible: imports are one transaction,
 *   files are written under a temporary name and renamed when complete;
 * - tasks running when the process died are marked interrupted at the next
 *   start (with the in-memory queue), or handed to another worker when
 *   their lease expires (with Redis); their leftovers are deleted.
 * Progress and status changes are published as events (src/tasks/events.h)
 * when a hub is given. */
#ifndef BRISK_TASKS_H
#define BRISK_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"
#include "tasks/events.h"
#include "tasks/taskrec.h"

typedef struct tasks tasks_t;

typedef struct {
	const char *data_dir; /* files go to DATA/tasks (created) */
	int workers;          /* threads; <= 0 = online cores */
	int queue_cap;        /* in-memory queue bound; <= 0 = 10000 */
	/* seconds per kind; <= 0 = the defaults (import 600, match 900,
	 * export 300, report 300, refresh 120) */
	int timeout_import, timeout_match, timeout_export, timeout_report, timeout_refresh;
	int64_t import_async_bytes; /* uploads larger than this become tasks (API) */
	const char *redis_url;      /* NULL or "" = the in-memory queue */
	int redis_timeout_ms;       /* per Redis call; <= 0 = 1000 */
	int lease_ms;               /* Redis: a silent worker's task moves on after this; <= 0 = 15000 */
	events_t *events;           /* NULL = publish nothing */
	/* The refresh kind's work: warm the cache of org (NULL = no cache). */
	void (*refresh)(void *ud, int64_t org);
	void *refresh_ud;
} tasks_opts;

typedef enum {
	TASKS_OK = 0,
	TASKS_INVALID,   /* unknown kind, bad params (400) */
	TASKS_NOT_FOUND, /* no such task in the caller's org (404) */
	TASKS_CONFLICT,  /* already finished, no result yet (409) */
	TASKS_BUSY,      /* the queue is full or unreachable (503) */
	TASKS_FAILED,    /* the store or the disk failed (500) */
} tasks_status;

/* Creates the system over an open store: makes DATA/tasks, recovers from
 * a previous process (interrupted tasks, leftover files) and queues the
 * pending tasks. Threads start with tasks_start. NULL with err on failure
 * (the directory cannot be made, a bad Redis URL). */
tasks_t *tasks_new(store_t *s, const tasks_opts *o, char *err, size_t errlen);
/* Starts the workers and the watchdog. */
void tasks_start(tasks_t *t);
/* Stops: running tasks are cancelled and marked interrupted (or, with
 * Redis, handed back to the queue for another instance), threads joined.
 * NULL is a no-op. */
void tasks_free(tasks_t *t);

/* Submits a task of kind for org with params (a JSON object text; NULL =
 * {}) at priority (a pqueue_level, or -1 for the kind's own), and an
 * input file already under the task directory (NULL = none): the task
 * owns it from here, deleted when the task ends or the submission fails.
 * *id gets the task's id. */
tasks_status tasks_submit(tasks_t *t, int64_t org, const char *kind, const char *params, int priority,
                          const char *input_file, int64_t *id, char *err, size_t errlen);
/* tasks_submit, with audit (who asked) written in the task's own insert
 * transaction: a request that queues work is logged without a second
 * write, which could wait behind the very task it queued. */
tasks_status tasks_submit_audited(tasks_t *t, int64_t org, const char *kind, const char *params, int priority,
                                  const char *input_file, const audit_entry *audit, int64_t *id, char *err,
                                  size_t errlen);
/* Writes len bytes to a new file in the task directory (fsynced) and puts
 * its name (not the path) in name (64 bytes): the input of a task about to
 * be submitted. 0 or -1 with err. */
int tasks_spool(tasks_t *t, const char *p, size_t len, char name[64], char *err, size_t errlen);
/* Cancels task id of org: a pending task is cancelled at once, a running
 * one is told to stop (it ends as cancelled within about a second). out
 * gets the task's JSON afterwards. CONFLICT when it had already ended. */
tasks_status tasks_cancel(tasks_t *t, int64_t org, int64_t id, buf_t *out, char *err, size_t errlen);
/* The id an org is shown for task id, and back (a keyed permutation:
 * ids shown reveal nothing about other orgs' tasks). Ids in every other
 * function of this header are the private ones. */
int64_t tasks_public_id(const tasks_t *t, int64_t id);
int64_t tasks_private_id(const tasks_t *t, int64_t public_id);
/* Appends the task's JSON (live progress when it runs here). */
tasks_status tasks_get(tasks_t *t, int64_t org, int64_t id, buf_t *out);
/* Appends {"items":[...]}: org's tasks, newest first, filtered by status
 * and kind names (NULL = any), at most limit. INVALID on an unknown status
 * or kind (err says which). */
tasks_status tasks_list(tasks_t *t, int64_t org, const char *status, const char *kind, int limit, buf_t *out,
                        char *err, size_t errlen);
/* The record of a succeeded task of org with its result, and the full path
 * of its file in path ("" when the result is JSON only). CONFLICT when the
 * task has not succeeded (err says where it is). taskrec_clear(rec) after. */
tasks_status tasks_result(tasks_t *t, int64_t org, int64_t id, taskrec_t *rec, char *path, size_t pathlen,
                          char *err, size_t errlen);
/* Uploads larger than this run as import tasks. */
int64_t tasks_import_async_bytes(tasks_t *t);

#endif
