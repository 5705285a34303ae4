#include "tasks/taskrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"

/* DESIGN
 * Records are written through the store's single writer. A long import
 * holds that writer for its whole transaction, so the writes here are
 * short and retried while the store says it is busy, and no caller does
 * one on a path that must answer at once (progress is flushed by its own
 * thread, see tasks.c). */

static const char *const status_names[TASK__STATUSES] = {"pending",   "running",   "succeeded",
                                                         "failed",    "cancelled", "interrupted"};

const char *taskrec_status_name(task_status st)
{
	return (int)st >= 0 && st < TASK__STATUSES ? status_names[st] : "unknown";
}

bool taskrec_status_parse(const char *s, task_status *out)
{
	for (int i = 0; i < TASK__STATUSES; i++)
		if (!strcmp(s, status_names[i])) {
			*out = (task_status)i;
			return true;
		}
	return false;
}

bool taskrec_status_final(task_status st)
{
	return st == TASK_SUCCEEDED || st == TASK_FAILED || st == TASK_CANCELLED || st == TASK_INTERRUPTED;
}

bool taskrec_can_move(task_status from, task_status to)
{
	switch (from) {
	case TASK_PENDING:
		return to == TASK_RUNNING || to == TASK_CANCELLED || to == TASK_FAILED;
	case TASK_RUNNING:
		return to == TASK_SUCCEEDED || to == TASK_FAILED || to == TASK_CANCELLED || to == TASK_INTERRUPTED ||
		       to == TASK_PENDING;
	default:
		return false;
	}
}

void taskrec_clear(taskrec_t *t)
{
	free(t->params);
	free(t->message);
	free(t->result);
	free(t->result_file);
	free(t->result_name);
	free(t->result_type);
	free(t->error);
	free(t->input_file);
	memset(t, 0, sizeof *t);
}

void taskrec_now(char out[32])
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	time_t sec = tv.tv_sec;
	gmtime_r(&sec, &tm);
	char base[24];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", base, (int)(tv.tv_usec / 1000));
}

/* The writer, waiting out another process's transaction for up to ~30 s;
 * a request's thread (bounded writes) is refused once, as it asked. */
static store_conn_t *write_begin(store_t *s, char *err, size_t errlen)
{
	for (int i = 0;; i++) {
		store_conn_t *w = store_write_begin(s, err, errlen);
		if (w || i >= 60 || store_thread_writes_bounded())
			return w;
		usleep(500 * 1000);
	}
}

/* Runs one guarded statement filled by bind; returns rows changed or -1. */
static int64_t write_one(store_t *s, const char *sql, void (*bind)(store_stmt_t *st, const void *ud), const void *ud)
{
	char err[256];
	store_conn_t *w = write_begin(s, err, sizeof err);
	if (!w)
		return -1;
	store_stmt_t *st = store_prepare(w, sql);
	if (!st) {
		store_write_rollback(w);
		return -1;
	}
	bind(st, ud);
	store_status rc = store_step(st);
	store_reset(st);
	int64_t n = store_changes(w);
	if (rc != STORE_DONE) {
		store_write_rollback(w);
		return -1;
	}
	if (store_write_commit(w, err, sizeof err) != 0)
		return -1;
	return n;
}

static void bind_opt_text(store_stmt_t *st, int idx, const char *s)
{
	if (s)
		store_bind_text(st, idx, s, strlen(s));
	else
		store_bind_null(st, idx);
}

int64_t taskrec_insert(store_t *s, int64_t org, const char *kind, pqueue_level prio, const char *params,
                       const char *input_file, const audit_entry *audit, char *err, size_t errlen)
{
	static const char *sql = "INSERT INTO tasks(org, kind, priority, params, status, created_at, input_file) "
	                         "VALUES(?, ?, ?, ?, 'pending', ?, ?) RETURNING id";
	store_conn_t *w = write_begin(s, err, errlen);
	if (!w)
		return -1;
	char now[32];
	taskrec_now(now);
	store_stmt_t *st = store_prepare(w, sql);
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, kind, strlen(kind));
	store_bind_i64(st, 3, prio);
	store_bind_text(st, 4, params ? params : "{}", strlen(params ? params : "{}"));
	store_bind_text(st, 5, now, strlen(now));
	bind_opt_text(st, 6, input_file);
	int64_t id = store_step(st) == STORE_ROW ? store_col_i64(st, 0) : -1;
	store_reset(st);
	if (id < 0 || (audit && audit_add(w, org, audit->actor, audit->action, audit->target, audit->detail) != 0)) {
		snprintf(err, errlen, "cannot record the task: %s", store_errmsg(w));
		store_write_rollback(w);
		return -1;
	}
	if (store_write_commit(w, err, errlen) != 0)
		return -1;
	return id;
}

#define COLS                                                                                              \
	"id, org, kind, priority, status, progress, attempts, cancel_requested, created_at, started_at, "  \
	"finished_at, owner, params, message, result, result_file, result_name, result_type, error, input_file"

static char *col_dup(store_stmt_t *st, int col)
{
	if (store_col_is_null(st, col))
		return NULL;
	size_t n;
	const char *p = store_col_text(st, col, &n);
	return xstrndup(p, n);
}

static void col_copy(store_stmt_t *st, int col, char *dst, size_t cap)
{
	size_t n;
	const char *p = store_col_text(st, col, &n);
	snprintf(dst, cap, "%.*s", (int)n, p);
}

static void row_read(store_stmt_t *st, taskrec_t *t)
{
	memset(t, 0, sizeof *t);
	t->id = store_col_i64(st, 0);
	t->org = store_col_i64(st, 1);
	col_copy(st, 2, t->kind, sizeof t->kind);
	int64_t p = store_col_i64(st, 3);
	t->priority = p >= 0 && p < PQ__LEVELS ? (pqueue_level)p : PQ_NORMAL;
	char status[16];
	col_copy(st, 4, status, sizeof status);
	if (!taskrec_status_parse(status, &t->status))
		t->status = TASK_FAILED;
	t->progress = (int)store_col_i64(st, 5);
	t->attempts = (int)store_col_i64(st, 6);
	t->cancel_requested = store_col_i64(st, 7) != 0;
	col_copy(st, 8, t->created_at, sizeof t->created_at);
	col_copy(st, 9, t->started_at, sizeof t->started_at);
	col_copy(st, 10, t->finished_at, sizeof t->finished_at);
	col_copy(st, 11, t->owner, sizeof t->owner);
	t->params = col_dup(st, 12);
	t->message = col_dup(st, 13);
	t->result = col_dup(st, 14);
	t->result_file = col_dup(st, 15);
	t->result_name = col_dup(st, 16);
	t->result_type = col_dup(st, 17);
	t->error = col_dup(st, 18);
	t->input_file = col_dup(st, 19);
}

/* Calls each on every row of st (then reset); 0, or -1 on a store error. */
static int each_row(store_stmt_t *st, void (*each)(void *ud, const taskrec_t *t), void *ud)
{
	store_status r;
	while ((r = store_step(st)) == STORE_ROW) {
		taskrec_t t;
		row_read(st, &t);
		each(ud, &t);
		taskrec_clear(&t);
	}
	store_reset(st);
	return r == STORE_DONE ? 0 : -1;
}

int taskrec_load(store_t *s, int64_t id, taskrec_t *out)
{
	static const char *sql = "SELECT " COLS " FROM tasks WHERE id = ?";
	memset(out, 0, sizeof *out);
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, sql);
	int found = -1;
	if (st) {
		store_bind_i64(st, 1, id);
		store_status rc = store_step(st);
		if (rc == STORE_ROW) {
			row_read(st, out);
			found = 1;
		} else if (rc == STORE_DONE) {
			found = 0;
		}
		store_reset(st);
	}
	store_read_end(c);
	return found;
}

int taskrec_list(store_t *s, int64_t org, int status, const char *kind, int limit,
                 void (*each)(void *ud, const taskrec_t *t), void *ud)
{
	static const char *sql = "SELECT " COLS " FROM tasks WHERE org = ? AND (? IS NULL OR status = ?) "
	                         "AND (? IS NULL OR kind = ?) ORDER BY id DESC LIMIT ?";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, sql);
	int rc = -1;
	if (st) {
		const char *sn = status >= 0 ? taskrec_status_name((task_status)status) : NULL;
		store_bind_i64(st, 1, org);
		bind_opt_text(st, 2, sn);
		bind_opt_text(st, 3, sn);
		bind_opt_text(st, 4, kind);
		bind_opt_text(st, 5, kind);
		store_bind_i64(st, 6, limit < 1 ? 1 : limit > 1000 ? 1000 : limit);
		rc = each_row(st, each, ud);
	}
	store_read_end(c);
	return rc;
}

int taskrec_each_status(store_t *s, task_status stt, void (*each)(void *ud, const taskrec_t *t), void *ud)
{
	static const char *sql = "SELECT " COLS " FROM tasks WHERE status = ? ORDER BY id";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, sql);
	int rc = -1;
	if (st) {
		const char *sn = taskrec_status_name(stt);
		store_bind_text(st, 1, sn, strlen(sn));
		rc = each_row(st, each, ud);
	}
	store_read_end(c);
	return rc;
}

typedef struct {
	int64_t id;
	const char *a, *b;
	int n;
	const char *now;
	const taskrec_result *res;
	const char *status;
} bind_args;

static void bind_start(store_stmt_t *st, const void *ud)
{
	const bind_args *x = ud;
	store_bind_text(st, 1, x->now, strlen(x->now));
	store_bind_text(st, 2, x->a, strlen(x->a));
	store_bind_i64(st, 3, x->id);
	store_bind_i64(st, 4, x->n);
}

int taskrec_start(store_t *s, int64_t id, const char *owner, bool rerun)
{
	static const char *sql = "UPDATE tasks SET status = 'running', started_at = ?, owner = ?, "
	                         "attempts = attempts + 1, progress = 0, message = '' WHERE id = ? "
	                         "AND (status = 'pending' OR (? <> 0 AND status = 'running'))";
	char now[32];
	taskrec_now(now);
	bind_args x = {.id = id, .a = owner, .now = now, .n = rerun};
	int64_t n = write_one(s, sql, bind_start, &x);
	return n < 0 ? -1 : n > 0;
}

static void bind_progress(store_stmt_t *st, const void *ud)
{
	const bind_args *x = ud;
	store_bind_i64(st, 1, x->n);
	bind_opt_text(st, 2, x->a ? x->a : "");
	store_bind_i64(st, 3, x->id);
}

int taskrec_progress(store_t *s, int64_t id, int pct, const char *message)
{
	static const char *sql = "UPDATE tasks SET progress = ?, message = ? WHERE id = ? AND status = 'running'";
	bind_args x = {.id = id, .n = pct < 0 ? 0 : pct > 100 ? 100 : pct, .a = message};
	return write_one(s, sql, bind_progress, &x) < 0 ? -1 : 0;
}

static void bind_finish(store_stmt_t *st, const void *ud)
{
	const bind_args *x = ud;
	const taskrec_result *r = x->res;
	store_bind_text(st, 1, x->status, strlen(x->status));
	store_bind_text(st, 2, x->now, strlen(x->now));
	bind_opt_text(st, 3, r ? r->json : NULL);
	bind_opt_text(st, 4, r ? r->file : NULL);
	bind_opt_text(st, 5, r ? r->name : NULL);
	bind_opt_text(st, 6, r ? r->type : NULL);
	bind_opt_text(st, 7, x->a);
	store_bind_i64(st, 8, x->n);
	store_bind_i64(st, 9, x->id);
	bind_opt_text(st, 10, x->b);
}

int taskrec_finish(store_t *s, int64_t id, const char *owner, task_status to, const taskrec_result *res,
                   const char *error)
{
	/* progress reads 100 only for a success: a cancelled task keeps where it stopped */
	static const char *sql = "UPDATE tasks SET status = ?, finished_at = ?, result = ?, result_file = ?, "
	                         "result_name = ?, result_type = ?, error = ?, progress = CASE WHEN ?8 <> 0 THEN 100 "
	                         "ELSE progress END, message = CASE WHEN ?8 <> 0 THEN 'done' ELSE message END "
	                         "WHERE id = ?9 AND (status = 'pending' OR (status = 'running' AND owner = ?10))";
	if (!taskrec_status_final(to))
		return -1;
	char now[32];
	taskrec_now(now);
	bind_args x = {.id = id, .now = now, .res = res, .a = error, .b = owner, .status = taskrec_status_name(to),
	               .n = to == TASK_SUCCEEDED};
	int64_t n = write_one(s, sql, bind_finish, &x);
	return n < 0 ? -1 : n > 0;
}

static void bind_requeue(store_stmt_t *st, const void *ud)
{
	const bind_args *x = ud;
	bind_opt_text(st, 1, x->a ? x->a : "");
	store_bind_i64(st, 2, x->id);
	bind_opt_text(st, 3, x->b);
}

int taskrec_requeue(store_t *s, int64_t id, const char *owner, const char *message)
{
	static const char *sql = "UPDATE tasks SET status = 'pending', owner = '', started_at = NULL, progress = 0, "
	                         "message = ?1 WHERE id = ?2 AND status = 'running' AND (?3 IS NULL OR owner = ?3)";
	bind_args x = {.id = id, .a = message, .b = owner};
	int64_t n = write_one(s, sql, bind_requeue, &x);
	return n < 0 ? -1 : n > 0;
}

static void bind_id(store_stmt_t *st, const void *ud)
{
	store_bind_i64(st, 1, ((const bind_args *)ud)->id);
}

int taskrec_request_cancel(store_t *s, int64_t id)
{
	static const char *sql = "UPDATE tasks SET cancel_requested = 1 WHERE id = ? AND status IN ('pending', 'running')";
	bind_args x = {.id = id};
	return write_one(s, sql, bind_id, &x) < 0 ? -1 : 0;
}

int taskrec_cancel_requests(store_t *s, const char *owner, int64_t *ids, int max)
{
	static const char *sql = "SELECT id FROM tasks WHERE status = 'running' AND owner = ? AND cancel_requested = 1 "
	                         "LIMIT ?";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, sql);
	int n = -1;
	if (st) {
		store_bind_text(st, 1, owner, strlen(owner));
		store_bind_i64(st, 2, max);
		n = 0;
		while (n < max && store_step(st) == STORE_ROW)
			ids[n++] = store_col_i64(st, 0);
		store_reset(st);
	}
	store_read_end(c);
	return n;
}

int taskrec_interrupt_running(store_t *s, const char *owner, void (*each)(void *ud, const taskrec_t *t), void *ud)
{
	static const char *sel = "SELECT " COLS " FROM tasks WHERE status = 'running' AND (? IS NULL OR owner = ?)";
	static const char *upd = "UPDATE tasks SET status = 'interrupted', finished_at = ?, error = ? "
	                         "WHERE status = 'running' AND (? IS NULL OR owner = ?)";
	static const char *why = "the server stopped while the task ran; nothing it wrote was kept";
	char err[256], now[32];
	taskrec_now(now);
	store_conn_t *w = write_begin(s, err, sizeof err);
	if (!w)
		return -1;
	/* Read and update in one write transaction: nothing starts in between. */
	store_stmt_t *st = store_prepare(w, sel);
	bind_opt_text(st, 1, owner);
	bind_opt_text(st, 2, owner);
	int n = 0;
	while (store_step(st) == STORE_ROW) {
		taskrec_t t;
		row_read(st, &t);
		if (each)
			each(ud, &t);
		taskrec_clear(&t);
		n++;
	}
	store_reset(st);
	st = store_prepare(w, upd);
	store_bind_text(st, 1, now, strlen(now));
	store_bind_text(st, 2, why, strlen(why));
	bind_opt_text(st, 3, owner);
	bind_opt_text(st, 4, owner);
	store_status rc = store_step(st);
	store_reset(st);
	if (rc != STORE_DONE) {
		store_write_rollback(w);
		return -1;
	}
	return store_write_commit(w, err, sizeof err) == 0 ? n : -1;
}

int taskrec_pending(store_t *s, int64_t *ids, pqueue_level *lvs, int max)
{
	static const char *sql = "SELECT id, priority FROM tasks WHERE status = 'pending' ORDER BY priority, id LIMIT ?";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, sql);
	int n = -1;
	if (st) {
		store_bind_i64(st, 1, max);
		n = 0;
		store_status rc = STORE_DONE;
		while (n < max && (rc = store_step(st)) == STORE_ROW) {
			int64_t p = store_col_i64(st, 1);
			ids[n] = store_col_i64(st, 0);
			lvs[n++] = p >= PQ_INTERACTIVE && p < PQ__LEVELS ? (pqueue_level)p : PQ_NORMAL;
		}
		if (n < max && rc == STORE_ERROR)
			n = -1;
		store_reset(st);
	}
	store_read_end(c);
	return n;
}

bool taskrec_file_live(store_t *s, const char *file)
{
	static const char *sql = "SELECT 1 FROM tasks WHERE status IN ('pending', 'running') "
	                         "AND (input_file = ? OR result_file = ?) LIMIT 1";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, sql);
	bool live = true; /* when in doubt, keep the file */
	if (st) {
		store_bind_text(st, 1, file, strlen(file));
		store_bind_text(st, 2, file, strlen(file));
		store_status rc = store_step(st);
		live = rc != STORE_DONE;
		store_reset(st);
	}
	store_read_end(c);
	return live;
}

static void json_opt_str(buf_t *out, const char *key, const char *v)
{
	buf_printf(out, ",\"%s\":", key);
	if (v && *v)
		buf_json_str(out, v, strlen(v));
	else
		buf_puts(out, "null");
}

void taskrec_json(const taskrec_t *t, int64_t public_id, int live_progress, const char *live_message, buf_t *out)
{
	buf_printf(out, "{\"id\":%lld,\"kind\":", (long long)public_id);
	buf_json_str(out, t->kind, strlen(t->kind));
	buf_printf(out, ",\"status\":\"%s\",\"priority\":\"%s\",\"progress\":%d,\"message\":",
	           taskrec_status_name(t->status), pqueue_level_name(t->priority),
	           live_progress >= 0 ? live_progress : t->progress);
	const char *msg = live_message ? live_message : t->message ? t->message : "";
	buf_json_str(out, msg, strlen(msg));
	buf_printf(out, ",\"params\":%s", t->params && *t->params ? t->params : "{}");
	json_opt_str(out, "created_at", t->created_at);
	json_opt_str(out, "started_at", t->started_at);
	json_opt_str(out, "finished_at", t->finished_at);
	buf_printf(out, ",\"attempts\":%d,\"result\":%s", t->attempts, t->result && *t->result ? t->result : "null");
	if (t->status == TASK_SUCCEEDED && (t->result_file || t->result)) {
		buf_printf(out, ",\"result_url\":\"/api/v1/tasks/%lld/result\"", (long long)public_id);
	} else {
		buf_puts(out, ",\"result_url\":null");
	}
	json_opt_str(out, "file_name", t->result_file ? t->result_name : NULL);
	json_opt_str(out, "content_type", t->result_file ? t->result_type : NULL);
	json_opt_str(out, "error", t->error);
	buf_putc(out, '}');
}
