/* taskrec: background task records in the store (table `tasks`), their
 * status state machine, and their JSON form for the API.
 *
 * A record holds what a task is (kind, org, params JSON, priority), where
 * it is (status, progress 0-100 with a message, owner instance, attempts)
 * and what it produced (a result JSON object, or a file under DATA/tasks
 * with its download name and content type, or an error). Every change is
 * a guarded UPDATE (WHERE status = the expected one), so two instances or
 * a cancel racing a worker never both win. */
#ifndef BRISK_TASKREC_H
#define BRISK_TASKREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/audit.h"
#include "core/buf.h"
#include "store/store.h"
#include "tasks/pqueue.h"

typedef enum {
	TASK_PENDING,
	TASK_RUNNING,
	TASK_SUCCEEDED,
	TASK_FAILED,
	TASK_CANCELLED,
	TASK_INTERRUPTED,
	TASK__STATUSES
} task_status;

/* "pending", "running", ...; "unknown" outside the enum. */
const char *taskrec_status_name(task_status st);
bool taskrec_status_parse(const char *s, task_status *out);
/* True for succeeded, failed, cancelled and interrupted: nothing moves on. */
bool taskrec_status_final(task_status st);
/* The state machine: pending -> running | cancelled | failed;
 * running -> succeeded | failed | cancelled | interrupted, and back to
 * pending when a shared queue hands the task of a dead worker to another;
 * final states never move. */
bool taskrec_can_move(task_status from, task_status to);

typedef struct {
	int64_t id, org;
	char kind[16];
	pqueue_level priority;
	task_status status;
	int progress;
	int attempts;
	bool cancel_requested;
	char created_at[32], started_at[32], finished_at[32]; /* "" when unset */
	char owner[64];
	/* heap strings (taskrec_clear frees them); NULL when unset */
	char *params;      /* JSON object */
	char *message;
	char *result;      /* JSON object */
	char *result_file; /* file name under DATA/tasks */
	char *result_name; /* download name */
	char *result_type; /* content type */
	char *error;
	char *input_file;  /* spooled upload under DATA/tasks */
} taskrec_t;

void taskrec_clear(taskrec_t *t);

/* What a finished task produced (all optional, borrowed). */
typedef struct {
	const char *json, *file, *name, *type;
} taskrec_result;

/* The current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ" (32 bytes). */
void taskrec_now(char out[32]);

/* Inserts a pending task, and audit (NULL = none) in the same transaction.
 * Returns its id, or -1 with a reason in err (the store failed or stayed
 * busy). Strings are copied. */
int64_t taskrec_insert(store_t *s, int64_t org, const char *kind, pqueue_level prio, const char *params,
                       const char *input_file, const audit_entry *audit, char *err, size_t errlen);
/* Reads task id into out (cleared first; taskrec_clear after). Returns 1,
 * 0 when there is no such task, -1 on a store error. */
int taskrec_load(store_t *s, int64_t id, taskrec_t *out);
/* Calls each for the tasks of org, newest first, at most limit (1..1000);
 * status < 0 and kind NULL mean any. Returns 0 or -1 (store error). */
int taskrec_list(store_t *s, int64_t org, int status, const char *kind, int limit,
                 void (*each)(void *ud, const taskrec_t *t), void *ud);
/* Calls each for every task in status st (any org), oldest first. */
int taskrec_each_status(store_t *s, task_status st, void (*each)(void *ud, const taskrec_t *t), void *ud);

/* Ids and priorities of the oldest pending tasks, most urgent first (at
 * most max): for instances sharing a store without a shared queue.
 * Returns how many, or -1. */
int taskrec_pending(store_t *s, int64_t *ids, pqueue_level *lvs, int max);

/* pending -> running, claimed by owner (attempts + 1); with rerun also
 * running -> running (a shared queue re-delivered the task of a dead
 * worker). Returns 1 when this caller claimed it, 0 when it was not
 * claimable, -1 on a store error. */
int taskrec_start(store_t *s, int64_t id, const char *owner, bool rerun);
/* Records progress of a running task (pct clamped to 0..100). 0 or -1. */
int taskrec_progress(store_t *s, int64_t id, int pct, const char *message);
/* Moves a pending task, or a running one claimed by owner (NULL: pending
 * only), to a final status with its result or error (both may be NULL).
 * Returns 1, 0 when it was final, running under another owner (or under
 * any, with owner NULL), -1 on a store error. */
int taskrec_finish(store_t *s, int64_t id, const char *owner, task_status to, const taskrec_result *res,
                   const char *error);
/* running (claimed by owner, NULL: anyone) -> pending, for a shared queue
 * to deliver again. 1, 0 or -1. */
int taskrec_requeue(store_t *s, int64_t id, const char *owner, const char *message);
/* Flags a running task for cancellation by whichever instance runs it. */
int taskrec_request_cancel(store_t *s, int64_t id);
/* Ids (at most max) of running tasks of owner flagged for cancellation;
 * returns how many, or -1. */
int taskrec_cancel_requests(store_t *s, const char *owner, int64_t *ids, int max);
/* Marks every running task (of owner, or of anyone when owner is NULL)
 * interrupted, calling each for it first (its files are the caller's to
 * remove). Returns how many, or -1. */
int taskrec_interrupt_running(store_t *s, const char *owner, void (*each)(void *ud, const taskrec_t *t), void *ud);
/* True when a pending or running task still reads or writes file (a name
 * under DATA/tasks); files no one owns are leftovers of a crash. */
bool taskrec_file_live(store_t *s, const char *file);

/* Appends the API's JSON object for t. live_progress >= 0 overrides the
 * stored progress (a running task's latest, kept in memory); live_message
 * likewise when not NULL. */
void taskrec_json(const taskrec_t *t, int64_t public_id, int live_progress, const char *live_message, buf_t *out);

#endif
