#include "tasks/tasks.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"
#include "tasks/internal.h"
#include "tasks/taskkind.h"

/* The calls of tasks.h that callers make on a running system (the pool
 * itself is tasks.c). */

tasks_status tasks_submit(tasks_t *t, int64_t org, const char *kind, const char *params, int priority,
                          const char *input_file, int64_t *id, char *err, size_t errlen)
{
	return tasks_submit_audited(t, org, kind, params, priority, input_file, NULL, id, err, errlen);
}

tasks_status tasks_submit_audited(tasks_t *t, int64_t org, const char *kind, const char *params, int priority,
                                  const char *input_file, const audit_entry *audit, int64_t *id, char *err,
                                  size_t errlen)
{
	const taskkind_t *k = taskkind_find(kind);
	if (!k) {
		snprintf(err, errlen, "unknown kind '%.40s' (%s)", kind, taskkind_list());
		tasks_remove_file(t, input_file);
		return TASKS_INVALID;
	}
	json_error_t je;
	json_t *p = json_loads(params && *params ? params : "{}", JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(p)) {
		snprintf(err, errlen, "params must be a JSON object");
		json_decref(p);
		tasks_remove_file(t, input_file);
		return TASKS_INVALID;
	}
	if (!k->check(p, err, errlen)) {
		json_decref(p);
		tasks_remove_file(t, input_file);
		return TASKS_INVALID;
	}
	pqueue_level lv = priority >= 0 && priority < PQ__LEVELS ? (pqueue_level)priority : k->priority;
	char *canon = json_dumps(p, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(p);
	*id = taskrec_insert(t->store, org, kind, lv, canon, input_file, audit, err, errlen);
	free(canon);
	if (*id < 0) {
		tasks_remove_file(t, input_file);
		return TASKS_FAILED;
	}
	/* "queued" goes out first: a worker may start it at once */
	tasks_publish(t, org, *id, kind, TASK_PENDING, 0, "queued");
	if (!tasks_queue_push(t, *id, lv)) {
		const char *why = t->rq ? "the shared task queue (Redis) is unreachable; try again shortly"
		                        : "the task queue is full; try again shortly";
		taskrec_finish(t->store, *id, NULL, TASK_FAILED, NULL, why);
		tasks_remove_file(t, input_file);
		snprintf(err, errlen, "%s", why);
		tasks_publish(t, org, *id, kind, TASK_FAILED, 0, why);
		return TASKS_BUSY;
	}
	return TASKS_OK;
}

int tasks_spool(tasks_t *t, const char *p, size_t len, char name[64], char *err, size_t errlen)
{
	char *path = tasks_path_in(t, "spool-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0) {
		snprintf(err, errlen, "cannot store the upload: %s", strerror(errno));
		free(path);
		return -1;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	bool ok = off == len && fsync(fd) == 0;
	if (!ok)
		snprintf(err, errlen, "cannot store the upload: %s", strerror(errno ? errno : EIO));
	close(fd);
	if (!ok)
		unlink(path);
	else
		snprintf(name, 64, "%s", strrchr(path, '/') + 1);
	free(path);
	return ok ? 0 : -1;
}

/* Loads task id when it belongs to org. */
static tasks_status load_own(tasks_t *t, int64_t org, int64_t id, taskrec_t *rec)
{
	int f = taskrec_load(t->store, id, rec);
	if (f < 0)
		return TASKS_FAILED;
	if (f == 0 || rec->org != org) {
		taskrec_clear(rec);
		return TASKS_NOT_FOUND;
	}
	return TASKS_OK;
}

/* The task's JSON with live progress from memory. */
static void json_live(tasks_t *t, const taskrec_t *rec, buf_t *out)
{
	int pct = -1;
	char msg[160];
	bool live = false;
	if (rec->status == TASK_RUNNING) {
		pthread_mutex_lock(&t->lock);
		running *r = tasks_find_running(t, rec->id);
		if (r) {
			live = true;
			pct = r->progress;
			snprintf(msg, sizeof msg, "%s", r->why == STOP_USER ? "cancelling" : r->message);
		}
		pthread_mutex_unlock(&t->lock);
	}
	taskrec_json(rec, tasks_public_id(t, rec->id), pct, live ? msg : NULL, out);
}

tasks_status tasks_cancel(tasks_t *t, int64_t org, int64_t id, buf_t *out, char *err, size_t errlen)
{
	taskrec_t rec;
	tasks_status st = load_own(t, org, id, &rec);
	if (st != TASKS_OK)
		return st;
	if (taskrec_status_final(rec.status)) {
		snprintf(err, errlen, "task %lld has already ended (%s)", (long long)id, taskrec_status_name(rec.status));
		taskrec_clear(&rec);
		return TASKS_CONFLICT;
	}
	if (rec.status == TASK_PENDING) {
		pthread_mutex_lock(&t->lock);
		if (!t->rq)
			pqueue_remove(t->q, id);
		pthread_mutex_unlock(&t->lock);
		/* a queued Redis item finds the task cancelled and is dropped */
		if (taskrec_finish(t->store, id, NULL, TASK_CANCELLED, NULL, "cancelled before it started") == 1) {
			tasks_remove_file(t, rec.input_file);
			tasks_publish(t, org, id, rec.kind, TASK_CANCELLED, 0, "cancelled before it started");
		}
	} else {
		pthread_mutex_lock(&t->lock);
		running *r = tasks_find_running(t, id);
		if (r && r->why == STOP_NONE) {
			r->why = STOP_USER;
			atomic_store(&r->cancel, 1);
		}
		pthread_mutex_unlock(&t->lock);
		/* it runs on another instance: its watchdog polls for this */
		if (!r && taskrec_request_cancel(t->store, id) != 0) {
			snprintf(err, errlen, "cannot record the cancellation (the store is busy); try again");
			taskrec_clear(&rec);
			return TASKS_FAILED;
		}
	}
	taskrec_clear(&rec);
	return tasks_get(t, org, id, out);
}

tasks_status tasks_get(tasks_t *t, int64_t org, int64_t id, buf_t *out)
{
	taskrec_t rec;
	tasks_status st = load_own(t, org, id, &rec);
	if (st != TASKS_OK)
		return st;
	json_live(t, &rec, out);
	taskrec_clear(&rec);
	return TASKS_OK;
}

typedef struct {
	tasks_t *t;
	buf_t *out;
	int n;
} list_ctx;

static void list_one(void *ud, const taskrec_t *rec)
{
	list_ctx *x = ud;
	if (x->n++)
		buf_putc(x->out, ',');
	json_live(x->t, rec, x->out);
}

tasks_status tasks_list(tasks_t *t, int64_t org, const char *status, const char *kind, int limit, buf_t *out,
                        char *err, size_t errlen)
{
	task_status st = TASK_PENDING;
	if (status && !taskrec_status_parse(status, &st)) {
		snprintf(err, errlen,
		         "unknown status '%.40s' (pending, running, succeeded, failed, cancelled, interrupted)", status);
		return TASKS_INVALID;
	}
	if (kind && !taskkind_find(kind)) {
		snprintf(err, errlen, "unknown kind '%.40s' (%s)", kind, taskkind_list());
		return TASKS_INVALID;
	}
	list_ctx x = {t, out, 0};
	buf_puts(out, "{\"items\":[");
	if (taskrec_list(t->store, org, status ? (int)st : -1, kind, limit, list_one, &x) != 0) {
		snprintf(err, errlen, "cannot read the tasks (store error)");
		return TASKS_FAILED;
	}
	buf_puts(out, "]}");
	return TASKS_OK;
}

tasks_status tasks_result(tasks_t *t, int64_t org, int64_t id, taskrec_t *rec, char *path, size_t pathlen,
                          char *err, size_t errlen)
{
	tasks_status st = load_own(t, org, id, rec);
	if (st != TASKS_OK)
		return st;
	if (rec->status != TASK_SUCCEEDED) {
		if (rec->status == TASK_PENDING || rec->status == TASK_RUNNING)
			snprintf(err, errlen, "task %lld is %s: its result is not ready yet", (long long)id,
			         taskrec_status_name(rec->status));
		else
			snprintf(err, errlen, "task %lld ended %s and has no result%s%s", (long long)id,
			         taskrec_status_name(rec->status), rec->error ? ": " : "", rec->error ? rec->error : "");
		taskrec_clear(rec);
		return TASKS_CONFLICT;
	}
	path[0] = '\0';
	if (rec->result_file)
		snprintf(path, pathlen, "%s/%s", t->dir, rec->result_file);
	return TASKS_OK;
}

int64_t tasks_import_async_bytes(tasks_t *t)
{
	return t->o.import_async_bytes;
}
