#include "tasks/tasks.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "report/report.h"
#include "store/secret.h"
#include "tasks/internal.h"
#include "tasks/pqueue.h"
#include "tasks/redisq.h"
#include "tasks/taskkind.h"

/* DESIGN
 * Threads: `workers` runners, a watchdog and a flusher.
 * - A runner takes an id from the queue, claims the task in the store
 *   (a guarded pending -> running UPDATE, so one claim wins), registers it
 *   in the in-memory `running` list with its cancel flag and deadline, and
 *   runs the kind. The outcome follows from the run's return and the
 *   reason its flag was set (user, timeout, shutdown).
 * - The watchdog (every 100 ms) sets the flag of tasks past their
 *   deadline, polls the store for cancels asked on other instances, and,
 *   with Redis, renews the leases of running tasks and reaps those of dead
 *   workers.
 * - Without Redis on a store other instances share (PostgreSQL: `shared`),
 *   the store is the queue: an idle runner polls it for pending tasks
 *   (every POLL_S, one runner at a time), and a runner takes the task's
 *   store lock (a session advisory lock, which dies with its process)
 *   before the claim and keeps it until the end. So a claim is exactly
 *   once (the lock, then the guarded update), and the watchdog of any
 *   instance finding a running task whose lock it can take knows its
 *   process died: it hands the task back to pending (runs it again, as
 *   with Redis). A runner whose lock was lost (the store restarted and
 *   another took it) stops, as one whose Redis lease ran out.
 * - The flusher writes progress to the store once a second. It is its own
 *   thread because a store write can wait for a long import's transaction
 *   (SQLite has one writer) and nothing else should wait with it; reads of
 *   a running task's progress on this instance come from memory anyway.
 * Events are published outside the lock (the hub has its own). */

#define MAX_ATTEMPTS 3  /* a task whose worker died this often is given up */
#define LEASE_MS 15000  /* Redis lease by default; renewed every fifth of it */
#define CANCEL_POLL_S 0.5
#define RETRY_S 1.0     /* a store error: try the task again after this */
#define FINISH_TRIES 60
#define POLL_S 0.5     /* shared store: idle runners look for pending tasks */
#define TAKEOVER_S 2.0 /* shared store: look for running tasks of dead processes */

/* Waits on cv for at most sec seconds (lock held). */
static void wait_for(tasks_t *t, pthread_cond_t *cv, double sec)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	long ns = ts.tv_nsec + (long)(sec * 1e9);
	ts.tv_sec += ns / 1000000000L;
	ts.tv_nsec = ns % 1000000000L;
	pthread_cond_timedwait(cv, &t->lock, &ts);
}

static int timeout_of(const tasks_t *t, const char *kind)
{
	const tasks_opts *o = &t->o;
	if (!strcmp(kind, "import") || !strcmp(kind, "dataset_import"))
		return o->timeout_import > 0 ? o->timeout_import : 600;
	if (!strcmp(kind, "match"))
		return o->timeout_match > 0 ? o->timeout_match : 900;
	if (!strcmp(kind, "export"))
		return o->timeout_export > 0 ? o->timeout_export : 300;
	if (!strcmp(kind, "report"))
		return o->timeout_report > 0 ? o->timeout_report : 300;
	return o->timeout_refresh > 0 ? o->timeout_refresh : 120;
}

char *tasks_path_in(const tasks_t *t, const char *name)
{
	char *p = xmalloc(strlen(t->dir) + strlen(name) + 2);
	sprintf(p, "%s/%s", t->dir, name);
	return p;
}

void tasks_remove_file(const tasks_t *t, const char *name)
{
	if (!name || !*name || strchr(name, '/'))
		return;
	char *p = tasks_path_in(t, name);
	if (unlink(p) != 0 && errno != ENOENT)
		log_warn("tasks: cannot remove %s: %s", p, strerror(errno));
	free(p);
}

/* Task ids are a store-wide counter: orgs see them permuted (core/seal.h),
 * so the numbers say nothing about other orgs' tasks. */
int64_t tasks_public_id(const tasks_t *t, int64_t id)
{
	return (int64_t)seal_permute(t->idkey, (uint64_t)id);
}

int64_t tasks_private_id(const tasks_t *t, int64_t public_id)
{
	return (int64_t)seal_unpermute(t->idkey, (uint64_t)public_id);
}

void tasks_publish(tasks_t *t, int64_t org, int64_t id, const char *kind, task_status st, int progress,
                    const char *message)
{
	if (!t->o.events)
		return;
	buf_t b = BUF_INIT;
	buf_printf(&b, "{\"type\":\"task\",\"id\":%lld,\"kind\":", (long long)tasks_public_id(t, id));
	buf_json_str(&b, kind, strlen(kind));
	buf_printf(&b, ",\"status\":\"%s\",\"progress\":%d,\"message\":", taskrec_status_name(st), progress);
	buf_json_str(&b, message ? message : "", message ? strlen(message) : 0);
	buf_putc(&b, '}');
	events_publish(t->o.events, org, b.p, b.len);
	buf_free(&b);
}

running *tasks_find_running(tasks_t *t, int64_t id)
{
	for (running *r = t->running; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

/* ---- the queue: in memory or in Redis ---- */

bool tasks_queue_push(tasks_t *t, int64_t id, pqueue_level lv)
{
	if (t->rq)
		return redisq_push(t->rq, id, lv);
	pthread_mutex_lock(&t->lock);
	bool ok = pqueue_push(t->q, lv, id);
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	return ok;
}

/* Shared store: queues the oldest pending tasks here too, whichever
 * instance recorded them (the claim decides who runs one). Lock held;
 * released while the store is read. */
static void poll_pending(tasks_t *t)
{
	int64_t ids[16];
	pqueue_level lvs[16];
	t->polling = true;
	t->next_poll = clock_now_s() + POLL_S;
	pthread_mutex_unlock(&t->lock);
	int n = taskrec_pending(t->store, ids, lvs, 16);
	pthread_mutex_lock(&t->lock);
	t->polling = false;
	for (int i = 0; i < n; i++) {
		pqueue_remove(t->q, ids[i]); /* once, even if submitted here */
		pqueue_push(t->q, lvs[i], ids[i]);
	}
	if (n > 0)
		pthread_cond_broadcast(&t->cond);
}

/* Blocks for the next id; false when stopping. */
static bool queue_pop(tasks_t *t, int64_t *id, pqueue_level *lv)
{
	pthread_mutex_lock(&t->lock);
	bool got = false;
	while (!t->stopping && !got) {
		if (t->rq) {
			pthread_mutex_unlock(&t->lock);
			got = redisq_pop(t->rq, id, lv, t->lease_ms) == 1;
			pthread_mutex_lock(&t->lock);
			/* an empty (or unreachable) shared queue is polled */
			if (!got && !t->stopping)
				wait_for(t, &t->cond, 0.2);
		} else if (pqueue_pop(t->q, id, lv)) {
			got = true;
		} else if (t->shared && !t->polling && clock_now_s() >= t->next_poll) {
			poll_pending(t);
		} else if (t->shared) {
			wait_for(t, &t->cond, POLL_S);
		} else {
			pthread_cond_wait(&t->cond, &t->lock);
		}
	}
	if (got && t->stopping && t->rq) {
		/* taken just as we stop: hand it straight back */
		pthread_mutex_unlock(&t->lock);
		redisq_requeue(t->rq, *id, *lv);
		return false;
	}
	pthread_mutex_unlock(&t->lock);
	return got;
}

static void queue_done(tasks_t *t, int64_t id, pqueue_level lv)
{
	if (t->rq)
		redisq_ack(t->rq, id, lv);
}

/* ---- running a task ---- */

typedef struct {
	tasks_t *t;
	running *r;
} run_ctx;

static void on_progress(void *ud, int pct, const char *msg)
{
	run_ctx *x = ud;
	tasks_t *t = x->t;
	running *r = x->r;
	/* 100 means finished, which only the outcome says */
	pct = pct < 0 ? 0 : pct > 99 ? 99 : pct;
	msg = msg ? msg : "";
	pthread_mutex_lock(&t->lock);
	bool changed = pct != r->progress || strcmp(msg, r->message) != 0;
	r->progress = pct;
	snprintf(r->message, sizeof r->message, "%s", msg);
	r->dirty |= changed;
	double now = clock_now_s();
	bool send = changed && ((pct != r->sent_progress && now - r->sent_at >= 0.1) || now - r->sent_at >= 1.0);
	char m[160];
	if (send) {
		r->sent_progress = pct;
		r->sent_at = now;
		snprintf(m, sizeof m, "%s", r->message);
	}
	pthread_mutex_unlock(&t->lock);
	if (send)
		tasks_publish(t, r->org, r->id, r->kind, TASK_RUNNING, pct, m);
	store_thread_progress(pct); /* the retry time of requests it holds up */
	if (r->hold && pct >= t->hold_pct)
		while (!atomic_load(&r->cancel))
			usleep(20000);
}

/* Reads BRISK_TEST_TASK_HOLD (see internal.h); anything malformed is off. */
static void read_hold(tasks_t *t)
{
	t->hold_pct = -1;
	const char *e = getenv("BRISK_TEST_TASK_HOLD");
	const char *colon = e ? strchr(e, ':') : NULL;
	if (!colon || colon == e || (size_t)(colon - e) >= sizeof t->hold_kind)
		return;
	char *end;
	long pct = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || pct < 0 || pct > 99)
		return;
	memcpy(t->hold_kind, e, (size_t)(colon - e));
	t->hold_kind[colon - e] = '\0';
	t->hold_pct = (int)pct;
	log_warn("tasks: BRISK_TEST_TASK_HOLD is set: the first attempt of each %s task stops at %ld%% (a test hook)",
	         t->hold_kind, pct);
}

/* Ends a task that cannot run (unknown kind, given up). */
static void end_now(tasks_t *t, const taskrec_t *rec, pqueue_level lv, task_status st, const char *why)
{
	if (taskrec_finish(t->store, rec->id, rec->owner, st, NULL, why) == 1) {
		tasks_remove_file(t, rec->input_file);
		tasks_publish(t, rec->org, rec->id, rec->kind, st, rec->progress, why);
	}
	queue_done(t, rec->id, lv);
}

/* Sleeps up to sec seconds; false when the tasks are stopping. */
static bool pause_unless_stopping(tasks_t *t, double sec)
{
	double until = clock_now_s() + sec;
	pthread_mutex_lock(&t->lock);
	while (!t->stopping && clock_now_s() < until)
		wait_for(t, &t->cond, until - clock_now_s());
	bool go = !t->stopping;
	pthread_mutex_unlock(&t->lock);
	return go;
}

/* The store could not take the task's claim (a full disk, a stuck
 * store): it stays pending and is tried again in a moment, so it starts
 * once the store recovers instead of waiting for a restart. A shared
 * queue redelivers it by itself when its lease runs out. */
static void retry_later(tasks_t *t, int64_t id, pqueue_level lv)
{
	static atomic_long logged;
	long now = (long)time(NULL);
	if (atomic_exchange(&logged, now) != now)
		log_warn("tasks: the store cannot start task %lld (disk full or unavailable); retrying", (long long)id);
	if (t->rq || !pause_unless_stopping(t, RETRY_S))
		return;
	if (!tasks_queue_push(t, id, lv))
		log_error("tasks: task %lld could not be queued again; it starts at the next restart", (long long)id);
}

static void run_one(tasks_t *t, int64_t id, pqueue_level lv)
{
	taskrec_t rec;
	int found = taskrec_load(t->store, id, &rec);
	if (found != 1) {
		if (found == 0)
			queue_done(t, id, lv);
		else
			retry_later(t, id, lv);
		taskrec_clear(&rec);
		return;
	}
	bool rerun = t->rq && rec.status == TASK_RUNNING;
	const taskkind_t *k = taskkind_find(rec.kind);
	if (rec.status != TASK_PENDING && !rerun) {
		queue_done(t, id, lv); /* cancelled while it waited */
	} else if (!k) {
		end_now(t, &rec, lv, TASK_FAILED, "unknown kind of task");
	} else if (rec.attempts >= MAX_ATTEMPTS) {
		end_now(t, &rec, lv, TASK_INTERRUPTED, "its worker stopped three times; given up");
	} else {
		/* shared store: the lock first, so a running task without its lock
		 * is one whose process died */
		int locked = t->shared ? store_lock_try(t->store, STORE_LOCK_TASK, id) : 1;
		int claimed = locked == 1 ? taskrec_start(t->store, id, t->owner, rerun) : locked;
		if (claimed != 1) {
			if (locked == 1 && t->shared)
				store_lock_release(t->store, STORE_LOCK_TASK, id);
			if (claimed == 0)
				queue_done(t, id, lv); /* another worker has it */
			else
				retry_later(t, id, lv);
			taskrec_clear(&rec);
			return;
		}
		running *r = xcalloc(1, sizeof *r);
		r->id = id;
		r->org = rec.org;
		r->lv = lv;
		snprintf(r->kind, sizeof r->kind, "%s", rec.kind);
		r->timeout_s = timeout_of(t, rec.kind);
		r->deadline = clock_now_s() + r->timeout_s;
		r->sent_at = clock_now_s();
		r->lease_ok_at = clock_now_s();
		r->hold = t->hold_pct >= 0 && rec.attempts == 0 && !strcmp(t->hold_kind, rec.kind);
		pthread_mutex_lock(&t->lock);
		r->next = t->running;
		t->running = r;
		/* a stop that came while we claimed still applies */
		if (t->stopping) {
			r->why = STOP_SHUTDOWN;
			atomic_store(&r->cancel, 1);
		}
		pthread_mutex_unlock(&t->lock);
		tasks_publish(t, rec.org, id, rec.kind, TASK_RUNNING, 0, rerun ? "started again: its worker had stopped" : "started");

		json_t *params = json_loads(rec.params ? rec.params : "{}", 0, NULL);
		if (!json_is_object(params)) {
			json_decref(params);
			params = json_object();
		}
		char *input = rec.input_file ? tasks_path_in(t, rec.input_file) : NULL;
		run_ctx x = {t, r};
		taskkind_ctx c = {.id = id, .org = rec.org, .params = params, .store = t->store, .dir = t->dir,
		                  .input = input, .cancel = &r->cancel, .progress = on_progress, .progress_ud = &x,
		                  .refresh = t->o.refresh, .refresh_ud = t->o.refresh_ud};
		store_thread_label(k->writer); /* a request refused meanwhile is told who writes */
		int rc = k->run(&c);
		store_thread_label(NULL);

		pthread_mutex_lock(&t->lock);
		int why = r->why;
		pthread_mutex_unlock(&t->lock);
		task_status to = TASK_SUCCEEDED;
		char error[640] = "";
		if (rc != 0) {
			switch (why) {
			case STOP_TIMEOUT:
				to = TASK_FAILED;
				snprintf(error, sizeof error, "timed out after %d s, the limit for %s tasks (tasks.timeout_%s); "
				         "nothing it did was kept", r->timeout_s, rec.kind, rec.kind);
				break;
			case STOP_USER:
				to = TASK_CANCELLED;
				snprintf(error, sizeof error, "%s", c.err[0] ? c.err : "cancelled; nothing it did was kept");
				break;
			case STOP_SHUTDOWN:
			case STOP_LOST:
				to = TASK_INTERRUPTED;
				snprintf(error, sizeof error, "the server stopped while the task ran; nothing it wrote was kept");
				break;
			default:
				to = TASK_FAILED;
				snprintf(error, sizeof error, "%s", c.err[0] ? c.err : "failed");
			}
		}
		if (to != TASK_SUCCEEDED && c.file[0])
			tasks_remove_file(t, c.file);
		if (to == TASK_INTERRUPTED && (t->rq || t->shared)) {
			/* another instance takes it over (both steps are no-ops when one
			 * already has) */
			const char *m = why == STOP_LOST ? "handed back to the queue: its worker lost its lease"
			                                 : "handed back to the queue: its server stopped";
			if (taskrec_requeue(t->store, id, t->owner, m) == 1)
				tasks_publish(t, rec.org, id, rec.kind, TASK_PENDING, 0, m);
			if (t->rq)
				redisq_requeue(t->rq, id, lv);
		} else {
			taskrec_result res = {c.result.len ? c.result.p : NULL, c.file[0] ? c.file : NULL,
			                      c.file[0] ? c.name : NULL, c.file[0] ? c.type : NULL};
			int fin = taskrec_finish(t->store, id, t->owner, to, &res, to == TASK_SUCCEEDED ? NULL : error);
			/* a full disk may refuse the record of the end too: try for a
			 * while rather than leave the task running until a restart */
			for (int i = 0; fin == -1 && i < FINISH_TRIES && pause_unless_stopping(t, RETRY_S); i++)
				fin = taskrec_finish(t->store, id, t->owner, to, &res, to == TASK_SUCCEEDED ? NULL : error);
			if (fin != 1 && c.file[0])
				tasks_remove_file(t, c.file);
			if (fin == 1 || to != TASK_SUCCEEDED)
				tasks_remove_file(t, rec.input_file);
			if (fin == -1)
				log_error("tasks: cannot record the end of task %lld (%s)", (long long)id, rec.kind);
			queue_done(t, id, lv);
			int pct;
			pthread_mutex_lock(&t->lock);
			pct = to == TASK_SUCCEEDED ? 100 : r->progress;
			pthread_mutex_unlock(&t->lock);
			tasks_publish(t, rec.org, id, rec.kind, to, pct, to == TASK_SUCCEEDED ? "done" : error);
		}
		pthread_mutex_lock(&t->lock);
		for (running **pp = &t->running; *pp; pp = &(*pp)->next)
			if (*pp == r) {
				*pp = r->next;
				break;
			}
		pthread_mutex_unlock(&t->lock);
		if (t->shared)
			store_lock_release(t->store, STORE_LOCK_TASK, id);
		free(r);
		free(input);
		json_decref(params);
		buf_free(&c.result);
	}
	taskrec_clear(&rec);
}

static void *worker_main(void *arg)
{
	tasks_t *t = arg;
	int64_t id;
	pqueue_level lv;
	while (queue_pop(t, &id, &lv))
		run_one(t, id, lv);
	return NULL;
}

/* ---- watchdog and flusher ---- */


/* Shared store: a running task whose store lock this process no longer
 * holds (the store restarted and another instance took it) stops and is
 * handed back, as one whose Redis lease ran out. */
static void check_locks(tasks_t *t)
{
	int64_t ids[64];
	int n = 0;
	pthread_mutex_lock(&t->lock);
	for (running *r = t->running; r && n < 64; r = r->next)
		ids[n++] = r->id;
	pthread_mutex_unlock(&t->lock);
	for (int i = 0; i < n; i++) {
		if (store_lock_held(t->store, STORE_LOCK_TASK, ids[i]) != 0)
			continue;
		pthread_mutex_lock(&t->lock);
		running *r = tasks_find_running(t, ids[i]);
		if (r && r->why == STOP_NONE) {
			r->why = STOP_LOST;
			atomic_store(&r->cancel, 1);
			log_warn("tasks: task %lld lost its store lock; handing it back", (long long)ids[i]);
		}
		pthread_mutex_unlock(&t->lock);
	}
}

static void *watchdog_main(void *arg)
{
	tasks_t *t = arg;
	double next_poll = 0, next_renew = clock_now_s() + t->renew_s, next_reap = clock_now_s() + 1;
	/* Redis may lose queued items while this server runs (killed without
	 * persistence, flushed): look for orphans every few leases, not only at
	 * the next start, or their tasks would stay pending until then. */
	double orphan_s = t->lease_ms / 1000.0 * 4 > 10 ? t->lease_ms / 1000.0 * 4 : 10;
	double next_orphans = clock_now_s() + orphan_s;
	double next_takeover = clock_now_s() + TAKEOVER_S, next_check = clock_now_s() + 1;
	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		wait_for(t, &t->tick, 0.1);
		double now = clock_now_s();
		for (running *r = t->running; r; r = r->next)
			if (now > r->deadline && r->why == STOP_NONE) {
				r->why = STOP_TIMEOUT;
				atomic_store(&r->cancel, 1);
			}
		bool poll = now >= next_poll && t->running;
		bool renew = t->rq && now >= next_renew;
		bool reap = t->rq && now >= next_reap;
		int64_t ids[64];
		pqueue_level lvs[64];
		int n = 0;
		if (renew)
			for (running *r = t->running; r && n < 64; r = r->next) {
				ids[n] = r->id;
				lvs[n++] = r->lv;
			}
		pthread_mutex_unlock(&t->lock);
		if (poll) {
			next_poll = now + CANCEL_POLL_S;
			int64_t want[64];
			int m = taskrec_cancel_requests(t->store, t->owner, want, 64);
			pthread_mutex_lock(&t->lock);
			for (int i = 0; i < m; i++) {
				running *r = tasks_find_running(t, want[i]);
				if (r && r->why == STOP_NONE) {
					r->why = STOP_USER;
					atomic_store(&r->cancel, 1);
				}
			}
			pthread_mutex_unlock(&t->lock);
		}
		if (renew) {
			next_renew = now + t->renew_s;
			for (int i = 0; i < n; i++) {
				int rc = redisq_renew(t->rq, ids[i], lvs[i], t->lease_ms);
				pthread_mutex_lock(&t->lock);
				running *r = tasks_find_running(t, ids[i]);
				/* Gone for sure, or unconfirmed for a whole lease (Redis has
				 * expired it by now): another worker may have the task. */
				if (r && rc == 1)
					r->lease_ok_at = now;
				else if (r && r->why == STOP_NONE && (rc == 0 || now - r->lease_ok_at > t->lease_ms / 1000.0)) {
					r->why = STOP_LOST;
					atomic_store(&r->cancel, 1);
					log_warn("tasks: task %lld lost its lease in the shared queue; handing it back",
					         (long long)ids[i]);
				}
				pthread_mutex_unlock(&t->lock);
			}
		}
		if (reap) {
			next_reap = now + t->reap_s;
			int back = redisq_reap(t->rq);
			if (back > 0)
				log_warn("tasks: %d task(s) of stopped workers went back to the shared queue", back);
		}
		if (t->rq && now >= next_orphans) {
			next_orphans = now + orphan_s;
			tasks_recover_redis(t, false);
		}
		if (t->shared && now >= next_check) {
			next_check = now + 1;
			check_locks(t);
		}
		if (t->shared && now >= next_takeover) {
			next_takeover = now + TAKEOVER_S;
			tasks_take_over_dead(t);
		}
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void *flusher_main(void *arg)
{
	tasks_t *t = arg;
	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		wait_for(t, &t->tick, 1.0);
		typedef struct {
			int64_t id;
			int pct;
			char msg[160];
		} item;
		item batch[32];
		int n = 0;
		for (running *r = t->running; r && n < 32; r = r->next)
			if (r->dirty) {
				r->dirty = false;
				batch[n].id = r->id;
				batch[n].pct = r->progress;
				memcpy(batch[n++].msg, r->message, sizeof r->message);
			}
		pthread_mutex_unlock(&t->lock);
		for (int i = 0; i < n; i++)
			taskrec_progress(t->store, batch[i].id, batch[i].pct, batch[i].msg);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

tasks_t *tasks_new(store_t *s, const tasks_opts *o, char *err, size_t errlen)
{
	tasks_t *t = xcalloc(1, sizeof *t);
	t->o = *o;
	t->store = s;
	t->dir = xmalloc(strlen(o->data_dir) + 8);
	sprintf(t->dir, "%s/tasks", o->data_dir);
	if (mkdir(t->dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", t->dir, strerror(errno));
		free(t->dir);
		free(t);
		return NULL;
	}
	char host[64] = "host";
	gethostname(host, sizeof host - 1);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(t->owner, sizeof t->owner, "%s:%d:%lx", host, (int)getpid(), (unsigned long)ts.tv_nsec);
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	pthread_cond_init(&t->tick, NULL);
	read_hold(t);
	store_conn_t *kc = store_read_begin(s);
	int krc = secret_key(kc, t->idkey);
	store_read_end(kc);
	if (krc != 0) {
		snprintf(err, errlen, "cannot read the store key for task ids");
		pthread_mutex_destroy(&t->lock);
		pthread_cond_destroy(&t->cond);
		pthread_cond_destroy(&t->tick);
		free(t->dir);
		free(t);
		return NULL;
	}
	t->q = pqueue_new(o->queue_cap > 0 ? (size_t)o->queue_cap : 10000);
	t->lease_ms = o->lease_ms > 0 ? o->lease_ms : LEASE_MS;
	t->renew_s = t->lease_ms / 5000.0;
	t->reap_s = t->lease_ms / 3000.0;
	if (o->redis_url && *o->redis_url) {
		t->rq = redisq_new(o->redis_url, NULL, o->redis_timeout_ms > 0 ? o->redis_timeout_ms : 1000, t->owner, err,
		                   errlen);
		if (!t->rq) {
			tasks_free(t);
			return NULL;
		}
		tasks_recover_redis(t, true);
	} else if ((t->shared = store_has_locks(s))) {
		/* Other instances may be running theirs: only a task whose lock is
		 * free died with its process. */
		tasks_take_over_dead(t);
		taskrec_each_status(s, TASK_PENDING, tasks_queue_pending, t);
	} else {
		/* Alone on this store: whatever was running died with its process.
		 * With a shared queue other instances may be running them: their
		 * leases tell, and reaping hands them over instead. */
		int n = taskrec_interrupt_running(s, NULL, tasks_drop_files_of, t);
		if (n < 0)
			log_error("tasks: cannot mark the interrupted tasks (the store is busy?)");
		taskrec_each_status(s, TASK_PENDING, tasks_queue_pending, t);
	}
	tasks_sweep_dir(t);
	return t;
}

void tasks_start(tasks_t *t)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	t->nworkers = t->o.workers > 0 ? t->o.workers : cores > 0 ? (int)cores : 1;
	t->workers = xcalloc((size_t)t->nworkers, sizeof *t->workers);
	for (int i = 0; i < t->nworkers; i++)
		pthread_create(&t->workers[i], NULL, worker_main, t);
	pthread_create(&t->watchdog, NULL, watchdog_main, t);
	pthread_create(&t->flusher, NULL, flusher_main, t);
	t->started = true;
}

void tasks_free(tasks_t *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	for (running *r = t->running; r; r = r->next)
		if (r->why == STOP_NONE) {
			r->why = STOP_SHUTDOWN;
			atomic_store(&r->cancel, 1);
		}
	pthread_cond_broadcast(&t->cond);
	pthread_cond_broadcast(&t->tick);
	pthread_mutex_unlock(&t->lock);
	if (t->started) {
		for (int i = 0; i < t->nworkers; i++)
			pthread_join(t->workers[i], NULL);
		pthread_join(t->watchdog, NULL);
		pthread_join(t->flusher, NULL);
		/* no report is drawn any more */
		report_shutdown();
	}
	free(t->workers);
	redisq_free(t->rq);
	pqueue_free(t->q);
	pthread_cond_destroy(&t->cond);
	pthread_cond_destroy(&t->tick);
	pthread_mutex_destroy(&t->lock);
	free(t->dir);
	free(t);
}
