#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "tasks/internal.h"
#include "tasks/pqueue.h"
#include "tasks/redisq.h"
#include "tasks/taskrec.h"

/* DESIGN
 * What a starting server (and the watchdog, for other instances) does with
 * tasks a stopped or dead process left: interrupted ones marked, orphaned
 * queue entries and dead instances' running tasks handed back, files no
 * task owns deleted. Split from tasks.c, which runs them. */

void tasks_drop_files_of(void *ud, const taskrec_t *rec)
{
	tasks_t *t = ud;
	tasks_remove_file(t, rec->result_file);
	tasks_remove_file(t, rec->input_file);
	log_warn("tasks: task %lld (%s) was running when the server stopped: marked interrupted", (long long)rec->id,
	         rec->kind);
}

/* Deletes files no task owns: temporary files of tasks not running,
 * results of tasks that did not succeed, uploads of ended tasks. */
void tasks_sweep_dir(tasks_t *t)
{
	DIR *d = opendir(t->dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (n[0] == '.')
			continue;
		bool drop = false;
		if (!strncmp(n, "spool-", 6)) {
			drop = !taskrec_file_live(t->store, n);
		} else if (n[0] >= '0' && n[0] <= '9') {
			taskrec_t rec;
			int f = taskrec_load(t->store, strtoll(n, NULL, 10), &rec);
			size_t l = strlen(n);
			bool tmp = l > 4 && !strcmp(n + l - 4, ".tmp");
			if (f == 0)
				drop = true;
			else if (f == 1 && tmp)
				drop = rec.status != TASK_RUNNING;
			else if (f == 1)
				drop = taskrec_status_final(rec.status) && rec.status != TASK_SUCCEEDED;
			taskrec_clear(&rec);
		}
		if (drop)
			tasks_remove_file(t, n);
	}
	closedir(d);
}

/* With Redis: tasks the store says are waiting or running but no list
 * holds (Redis lost its data, or an instance died between recording a
 * task and queueing it) are queued again. Only tasks older than two
 * leases: a younger one may be on its way into the queue right now. */
typedef struct {
	tasks_t *t;
	int64_t *ids;
	size_t n, cap;
	char cutoff[32];
	int pushed;
} orphan_ctx;

static void note_item(void *ud, int64_t id, pqueue_level lv)
{
	orphan_ctx *x = ud;
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 64;
		x->ids = xrealloc(x->ids, x->cap * sizeof *x->ids);
	}
	x->ids[x->n++] = id;
}

static void requeue_orphan(void *ud, const taskrec_t *rec)
{
	orphan_ctx *x = ud;
	const char *since = rec->status == TASK_RUNNING ? rec->started_at : rec->created_at;
	if (strcmp(since, x->cutoff) >= 0)
		return;
	for (size_t i = 0; i < x->n; i++)
		if (x->ids[i] == rec->id)
			return;
	if (redisq_push(x->t->rq, rec->id, rec->priority))
		x->pushed++;
}

void tasks_recover_redis(tasks_t *t, bool at_start)
{
	orphan_ctx x = {.t = t};
	time_t cut = time(NULL) - 2 * (t->lease_ms / 1000 + 1);
	struct tm tm;
	gmtime_r(&cut, &tm);
	strftime(x.cutoff, sizeof x.cutoff, "%Y-%m-%dT%H:%M:%S", &tm);
	if (redisq_each(t->rq, note_item, &x) < 0) {
		if (at_start)
			log_warn("tasks: the shared queue is unreachable at start; tasks it lost are queued again later");
	} else {
		taskrec_each_status(t->store, TASK_PENDING, requeue_orphan, &x);
		taskrec_each_status(t->store, TASK_RUNNING, requeue_orphan, &x);
		if (x.pushed)
			log_warn("tasks: %d task(s) missing from the shared queue were queued again", x.pushed);
	}
	free(x.ids);
}

/* Shared store: running tasks of other processes whose store lock is
 * free belong to a process that died (SIGKILL, power loss, a stop that
 * could not say): each goes back to pending, to be run again here or
 * anywhere (a claim takes the lock first, so a live one never looks
 * dead). Their temporary files are swept once they are not running. */
typedef struct {
	tasks_t *t;
	int64_t ids[64];
	char owners[64][64];
	int n;
} dead_ctx;

static void note_running(void *ud, const taskrec_t *rec)
{
	dead_ctx *x = ud;
	if (x->n < 64 && strcmp(rec->owner, x->t->owner) != 0) {
		x->ids[x->n] = rec->id;
		snprintf(x->owners[x->n++], sizeof x->owners[0], "%s", rec->owner);
	}
}

void tasks_take_over_dead(tasks_t *t)
{
	static const char *m = "handed back to the queue: its server stopped";
	dead_ctx *x = xcalloc(1, sizeof *x);
	x->t = t;
	if (taskrec_each_status(t->store, TASK_RUNNING, note_running, x) != 0)
		x->n = 0;
	for (int i = 0; i < x->n; i++) {
		if (store_lock_try(t->store, STORE_LOCK_TASK, x->ids[i]) != 1)
			continue; /* alive (or cannot tell now) */
		int back = taskrec_requeue(t->store, x->ids[i], x->owners[i], m);
		store_lock_release(t->store, STORE_LOCK_TASK, x->ids[i]);
		if (back != 1)
			continue; /* it ended or moved meanwhile */
		taskrec_t rec;
		if (taskrec_load(t->store, x->ids[i], &rec) == 1) {
			log_warn("tasks: task %lld (%s) of a stopped process (%s) is queued again", (long long)rec.id,
			         rec.kind, x->owners[i]);
			tasks_publish(t, rec.org, rec.id, rec.kind, TASK_PENDING, 0, m);
			tasks_queue_push(t, rec.id, rec.priority);
		}
		taskrec_clear(&rec);
	}
	free(x);
}

void tasks_queue_pending(void *ud, const taskrec_t *rec)
{
	tasks_t *t = ud;
	if (!pqueue_push(t->q, rec->priority, rec->id))
		taskrec_finish(t->store, rec->id, NULL, TASK_FAILED, NULL, "the task queue was full when the server started");
}
