/* Tests of src/tasks: the priority queue (against a naive model), the task
 * status state machine, task records in the store (guarded transitions,
 * restart recovery, org isolation), the event hub (replay after
 * Last-Event-ID, reset when too old) and the task system in-process
 * (submit to success, cancel while queued, a full queue, recovery of a
 * crashed run and its leftover files). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "helpers.h"
#include "tasks/events.h"
#include "tasks/pqueue.h"
#include "tasks/taskrec.h"
#include "tasks/tasks.h"

/* ---- pqueue ---- */

Test(pqueue, more_urgent_levels_first_fifo_within)
{
	pqueue_t *q = pqueue_new(16);
	cr_assert(pqueue_push(q, PQ_BULK, 1));
	cr_assert(pqueue_push(q, PQ_NORMAL, 2));
	cr_assert(pqueue_push(q, PQ_INTERACTIVE, 3));
	cr_assert(pqueue_push(q, PQ_BULK, 4));
	cr_assert(pqueue_push(q, PQ_INTERACTIVE, 5));
	cr_assert(pqueue_push(q, PQ_NORMAL, 6));
	int64_t want[] = {3, 5, 2, 6, 1, 4};
	pqueue_level lv_want[] = {PQ_INTERACTIVE, PQ_INTERACTIVE, PQ_NORMAL, PQ_NORMAL, PQ_BULK, PQ_BULK};
	for (int i = 0; i < 6; i++) {
		int64_t id;
		pqueue_level lv;
		cr_assert(pqueue_pop(q, &id, &lv));
		cr_expect_eq(id, want[i], "pop %d: %lld", i, (long long)id);
		cr_expect_eq(lv, lv_want[i]);
	}
	int64_t id;
	cr_expect_not(pqueue_pop(q, &id, NULL));
	pqueue_free(q);
}

Test(pqueue, bounded_and_fails_loudly_when_full)
{
	pqueue_t *q = pqueue_new(3);
	cr_assert(pqueue_push(q, PQ_BULK, 1));
	cr_assert(pqueue_push(q, PQ_INTERACTIVE, 2));
	cr_assert(pqueue_push(q, PQ_NORMAL, 3));
	cr_expect_not(pqueue_push(q, PQ_INTERACTIVE, 4), "a full queue refuses");
	cr_expect_eq(pqueue_len(q), 3);
	int64_t id;
	cr_assert(pqueue_pop(q, &id, NULL));
	cr_expect_eq(id, 2);
	cr_expect(pqueue_push(q, PQ_INTERACTIVE, 4), "room again after a pop");
	cr_expect_not(pqueue_push(q, (pqueue_level)7, 9), "unknown level refused");
	cr_expect_not(pqueue_push(q, (pqueue_level)-1, 9));
	cr_expect_eq(pqueue_len(q), 3);
	pqueue_free(q);
}

Test(pqueue, remove_keeps_the_order_of_the_rest)
{
	pqueue_t *q = pqueue_new(8);
	for (int i = 1; i <= 5; i++)
		pqueue_push(q, PQ_NORMAL, i);
	cr_expect(pqueue_remove(q, 3));
	cr_expect_not(pqueue_remove(q, 3));
	cr_expect_not(pqueue_remove(q, 42));
	cr_expect_eq(pqueue_level_len(q, PQ_NORMAL), 4);
	int64_t want[] = {1, 2, 4, 5}, id;
	for (int i = 0; i < 4; i++) {
		cr_assert(pqueue_pop(q, &id, NULL));
		cr_expect_eq(id, want[i]);
	}
	pqueue_free(q);
}

/* Random pushes, pops and removals against three plain arrays. */
Test(pqueue, matches_a_naive_model)
{
	enum { CAP = 7, OPS = 20000 };
	pqueue_t *q = pqueue_new(CAP);
	int64_t model[3][OPS];
	size_t head[3] = {0}, tail[3] = {0};
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	int64_t next = 1;
	for (int op = 0; op < OPS; op++) {
		size_t n = 0;
		for (int l = 0; l < 3; l++)
			n += tail[l] - head[l];
		cr_assert_eq(pqueue_len(q), n);
		size_t r = test_rng_below(&rng, 10);
		if (r < 5) {
			int l = (int)test_rng_below(&rng, 3);
			bool ok = pqueue_push(q, (pqueue_level)l, next);
			cr_assert_eq(ok, n < CAP, "push at %zu of %d", n, CAP);
			if (ok)
				model[l][tail[l]++] = next;
			next++;
		} else if (r < 9) {
			int64_t id = -1;
			pqueue_level lv;
			bool got = pqueue_pop(q, &id, &lv);
			cr_assert_eq(got, n > 0);
			if (!got)
				continue;
			int l = 0;
			while (head[l] == tail[l])
				l++;
			cr_assert_eq(lv, (pqueue_level)l);
			cr_assert_eq(id, model[l][head[l]++]);
		} else if (n > 0) {
			/* remove a random queued id */
			int l;
			do
				l = (int)test_rng_below(&rng, 3);
			while (head[l] == tail[l]);
			size_t k = head[l] + test_rng_below(&rng, tail[l] - head[l]);
			cr_assert(pqueue_remove(q, model[l][k]));
			memmove(&model[l][k], &model[l][k + 1], (tail[l] - k - 1) * sizeof(int64_t));
			tail[l]--;
		}
	}
	pqueue_free(q);
}

Test(pqueue, level_names)
{
	for (int i = 0; i < PQ__LEVELS; i++) {
		pqueue_level lv;
		cr_assert(pqueue_level_parse(pqueue_level_name((pqueue_level)i), &lv));
		cr_expect_eq(lv, (pqueue_level)i);
	}
	pqueue_level lv;
	cr_expect_not(pqueue_level_parse("urgent", &lv));
	cr_expect_str_eq(pqueue_level_name((pqueue_level)9), "unknown");
}

/* ---- the state machine ---- */

Test(taskstate, transitions)
{
	/* rows: from; columns: to (pending running succeeded failed cancelled interrupted) */
	static const bool ok[TASK__STATUSES][TASK__STATUSES] = {
		[TASK_PENDING] = {0, 1, 0, 1, 1, 0},
		[TASK_RUNNING] = {1, 0, 1, 1, 1, 1},
	};
	for (int f = 0; f < TASK__STATUSES; f++)
		for (int t = 0; t < TASK__STATUSES; t++)
			cr_expect_eq(taskrec_can_move((task_status)f, (task_status)t), ok[f][t], "%s -> %s",
			             taskrec_status_name((task_status)f), taskrec_status_name((task_status)t));
}

Test(taskstate, final_statuses_and_names)
{
	for (int s = 0; s < TASK__STATUSES; s++) {
		task_status back;
		cr_assert(taskrec_status_parse(taskrec_status_name((task_status)s), &back));
		cr_expect_eq(back, (task_status)s);
		bool final = s >= TASK_SUCCEEDED;
		cr_expect_eq(taskrec_status_final((task_status)s), final, "%s", taskrec_status_name((task_status)s));
	}
	task_status x;
	cr_expect_not(taskrec_status_parse("done", &x));
}

/* ---- records in the store ---- */

static store_fx fx;

static void rec_setup(void)
{
	store_fx_open(&fx, "acme");
}

static void rec_teardown(void)
{
	store_fx_close(&fx);
}

TestSuite(taskrec, .init = rec_setup, .fini = rec_teardown);

static int64_t insert(const char *kind, const char *params)
{
	char err[256];
	int64_t id = taskrec_insert(fx.store, fx.org, kind, PQ_NORMAL, params, NULL, NULL, err, sizeof err);
	cr_assert_gt(id, 0, "%s", err);
	return id;
}

static task_status status_of(int64_t id)
{
	taskrec_t t;
	cr_assert_eq(taskrec_load(fx.store, id, &t), 1);
	task_status s = t.status;
	taskrec_clear(&t);
	return s;
}

Test(taskrec, insert_and_load)
{
	int64_t id = insert("export", "{\"entity\":\"costs\"}");
	taskrec_t t;
	cr_assert_eq(taskrec_load(fx.store, id, &t), 1);
	cr_expect_eq(t.org, fx.org);
	cr_expect_str_eq(t.kind, "export");
	cr_expect_eq(t.status, TASK_PENDING);
	cr_expect_eq(t.priority, PQ_NORMAL);
	cr_expect_str_eq(t.params, "{\"entity\":\"costs\"}");
	cr_expect_eq(t.started_at[0], '\0');
	cr_expect_eq(strlen(t.created_at), 24, "%s", t.created_at);
	taskrec_clear(&t);
	cr_expect_eq(taskrec_load(fx.store, id + 100, &t), 0);
	taskrec_clear(&t);
}

Test(taskrec, one_claim_wins_and_final_is_final)
{
	int64_t id = insert("match", NULL);
	cr_expect_eq(taskrec_start(fx.store, id, "a", false), 1);
	cr_expect_eq(taskrec_start(fx.store, id, "b", false), 0, "already running");
	cr_expect_eq(status_of(id), TASK_RUNNING);
	cr_expect_eq(taskrec_progress(fx.store, id, 140, "half"), 0);
	taskrec_t t;
	taskrec_load(fx.store, id, &t);
	cr_expect_eq(t.progress, 100, "clamped");
	cr_expect_str_eq(t.owner, "a");
	cr_expect_eq(t.attempts, 1);
	taskrec_clear(&t);
	taskrec_result res = {"{\"applied\":3}", NULL, NULL, NULL};
	cr_expect_eq(taskrec_finish(fx.store, id, NULL, TASK_CANCELLED, NULL, "x"), 0, "no owner: pending ones only");
	cr_expect_eq(taskrec_finish(fx.store, id, "b", TASK_FAILED, NULL, "x"), 0, "not b's claim");
	cr_expect_eq(taskrec_finish(fx.store, id, "a", TASK_SUCCEEDED, &res, NULL), 1);
	cr_expect_eq(taskrec_finish(fx.store, id, "a", TASK_FAILED, NULL, "late"), 0, "a final status never moves");
	cr_expect_eq(taskrec_start(fx.store, id, "c", true), 0, "not even for a re-run");
	taskrec_load(fx.store, id, &t);
	cr_expect_eq(t.status, TASK_SUCCEEDED);
	cr_expect_eq(t.progress, 100);
	cr_expect_str_eq(t.result, "{\"applied\":3}");
	cr_expect_null(t.error);
	cr_expect_neq(t.finished_at[0], '\0');
	taskrec_clear(&t);
	cr_expect_eq(taskrec_finish(fx.store, id, NULL, TASK_RUNNING, NULL, NULL), -1, "running is not an end");
}

Test(taskrec, cancel_pending_and_rerun_running)
{
	int64_t a = insert("report", NULL), b = insert("report", NULL);
	cr_expect_eq(taskrec_finish(fx.store, a, NULL, TASK_CANCELLED, NULL, "cancelled before it started"), 1);
	cr_expect_eq(taskrec_start(fx.store, a, "w", false), 0, "a cancelled task never starts");
	cr_expect_eq(taskrec_start(fx.store, b, "w1", false), 1);
	cr_expect_eq(taskrec_start(fx.store, b, "w2", true), 1, "a shared queue re-delivers a dead worker's task");
	taskrec_t t;
	taskrec_load(fx.store, b, &t);
	cr_expect_eq(t.attempts, 2);
	cr_expect_str_eq(t.owner, "w2");
	taskrec_clear(&t);
	cr_expect_eq(taskrec_requeue(fx.store, b, "w1", "back"), 0, "w1 lost its claim to w2");
	cr_expect_eq(taskrec_requeue(fx.store, b, "w2", "back"), 1);
	cr_expect_eq(status_of(b), TASK_PENDING);
	cr_expect_eq(taskrec_requeue(fx.store, b, NULL, "back"), 0, "only running goes back");
}

static int interrupted_seen;

static void count_interrupted(void *ud, const taskrec_t *t)
{
	(void)ud;
	cr_expect_eq(t->status, TASK_RUNNING);
	interrupted_seen++;
}

Test(taskrec, interrupt_running_at_restart)
{
	int64_t a = insert("import", NULL), b = insert("export", NULL), c = insert("report", NULL);
	taskrec_start(fx.store, a, "dead", false);
	taskrec_start(fx.store, b, "dead", false);
	interrupted_seen = 0;
	cr_expect_eq(taskrec_interrupt_running(fx.store, NULL, count_interrupted, NULL), 2);
	cr_expect_eq(interrupted_seen, 2);
	cr_expect_eq(status_of(a), TASK_INTERRUPTED);
	cr_expect_eq(status_of(b), TASK_INTERRUPTED);
	cr_expect_eq(status_of(c), TASK_PENDING, "pending tasks wait for the next run");
	taskrec_t t;
	taskrec_load(fx.store, a, &t);
	cr_expect_not_null(t.error);
	cr_expect_neq(t.finished_at[0], '\0');
	taskrec_clear(&t);
	cr_expect_eq(taskrec_interrupt_running(fx.store, NULL, NULL, NULL), 0);
}

static int listed;

static void count_listed(void *ud, const taskrec_t *t)
{
	cr_expect_eq(t->org, *(int64_t *)ud);
	listed++;
}

Test(taskrec, list_filters_and_isolation)
{
	char err[256];
	int64_t other = store_org_id(fx.store, "globex", true, err, sizeof err);
	insert("export", NULL);
	int64_t m = insert("match", NULL);
	insert("export", NULL);
	taskrec_insert(fx.store, other, "export", PQ_BULK, NULL, NULL, NULL, err, sizeof err);
	taskrec_start(fx.store, m, "w", false);
	listed = 0;
	cr_assert_eq(taskrec_list(fx.store, fx.org, -1, NULL, 100, count_listed, &fx.org), 0);
	cr_expect_eq(listed, 3, "the other org's task is not listed");
	listed = 0;
	taskrec_list(fx.store, fx.org, -1, "export", 100, count_listed, &fx.org);
	cr_expect_eq(listed, 2);
	listed = 0;
	taskrec_list(fx.store, fx.org, TASK_RUNNING, NULL, 100, count_listed, &fx.org);
	cr_expect_eq(listed, 1);
	listed = 0;
	taskrec_list(fx.store, fx.org, -1, NULL, 1, count_listed, &fx.org);
	cr_expect_eq(listed, 1, "limit");
	listed = 0;
	taskrec_list(fx.store, other, -1, NULL, 100, count_listed, &other);
	cr_expect_eq(listed, 1);
}

Test(taskrec, cancel_requests_reach_the_owner)
{
	int64_t a = insert("match", NULL), b = insert("match", NULL);
	taskrec_start(fx.store, a, "me", false);
	taskrec_start(fx.store, b, "them", false);
	taskrec_request_cancel(fx.store, a);
	taskrec_request_cancel(fx.store, b);
	int64_t ids[4];
	cr_expect_eq(taskrec_cancel_requests(fx.store, "me", ids, 4), 1);
	cr_expect_eq(ids[0], a);
}

Test(taskrec, json_and_live_files)
{
	char err[256];
	int64_t id = taskrec_insert(fx.store, fx.org, "import", PQ_BULK, "{\"entity\":\"costs\"}", "spool-abc", NULL, err,
	                            sizeof err);
	cr_expect(taskrec_file_live(fx.store, "spool-abc"));
	cr_expect_not(taskrec_file_live(fx.store, "spool-xyz"));
	taskrec_start(fx.store, id, "w", false);
	taskrec_result res = {"{\"inserted\":1}", "1-x.csv", "x.csv", "text/csv"};
	taskrec_finish(fx.store, id, "w", TASK_SUCCEEDED, &res, NULL);
	cr_expect_not(taskrec_file_live(fx.store, "spool-abc"), "an ended task's upload is nobody's");
	taskrec_t t;
	taskrec_load(fx.store, id, &t);
	buf_t b = BUF_INIT;
	taskrec_json(&t, t.id, -1, NULL, &b);
	json_error_t je;
	json_t *j = json_loads(b.p, 0, &je);
	cr_assert_not_null(j, "%s: %s", je.text, b.p);
	cr_expect_eq(json_integer_value(json_object_get(j, "id")), id);
	cr_expect_str_eq(json_string_value(json_object_get(j, "status")), "succeeded");
	cr_expect_str_eq(json_string_value(json_object_get(j, "priority")), "bulk");
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(j, "result"), "inserted")), 1);
	cr_expect_str_eq(json_string_value(json_object_get(j, "file_name")), "x.csv");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "params"), "entity")), "costs");
	json_decref(j);
	buf_free(&b);
	taskrec_clear(&t);
}

/* ---- events ---- */

typedef struct {
	buf_t got;
	bool alive;
	int released;
} sink;

static bool sink_send(void *ud, const char *p, size_t n)
{
	sink *s = ud;
	if (!s->alive)
		return false;
	buf_put(&s->got, p, n);
	return true;
}

static void sink_release(void *ud)
{
	((sink *)ud)->released++;
}

/* The ids of the events in s->got, in order. */
static int ids_of(const sink *s, uint64_t *ids, int max)
{
	int n = 0;
	for (const char *p = s->got.p; p && (p = strstr(p, "id: ")) && n < max; p += 4)
		ids[n++] = strtoull(p + 4, NULL, 10);
	return n;
}

Test(events, delivers_to_the_org_only)
{
	events_t *e = events_new(8, 60000);
	sink a = {BUF_INIT, true, 0}, b = {BUF_INIT, true, 0};
	events_subscribe(e, 1, 10, NULL, sink_send, sink_release, &a);
	events_subscribe(e, 2, 20, NULL, sink_send, sink_release, &b);
	events_publish(e, 10, "{\"x\":1}", 7);
	events_publish_data(e, 20, TBL_BIT(TBL_COSTS) | TBL_BIT(TBL_INVOICES));
	cr_expect(strstr(a.got.p, "data: {\"x\":1}\n\n") != NULL, "%s", a.got.p);
	cr_expect(strstr(a.got.p, "tables") == NULL);
	cr_expect(strstr(b.got.p, "data: {\"type\":\"data\",\"tables\":[\"costs\",\"invoices\"]}\n\n") != NULL, "%s",
	          b.got.p);
	cr_expect(strstr(b.got.p, "\"x\"") == NULL);
	cr_expect(strncmp(a.got.p, "retry: ", 7) == 0);
	cr_expect_eq(events_subscribers(e), 2);
	events_free(e);
	cr_expect_eq(a.released, 1);
	cr_expect_eq(b.released, 1);
	buf_free(&a.got);
	buf_free(&b.got);
}

Test(events, replays_after_last_event_id)
{
	events_t *e = events_new(8, 60000);
	uint64_t id[5];
	for (int i = 0; i < 5; i++) {
		char j[32];
		int n = snprintf(j, sizeof j, "{\"n\":%d}", i);
		id[i] = events_publish(e, 7, j, (size_t)n);
		cr_expect(i == 0 || id[i] > id[i - 1], "ids grow");
	}
	char last[32];
	snprintf(last, sizeof last, "%llu", (unsigned long long)id[2]);
	sink s = {BUF_INIT, true, 0};
	events_subscribe(e, 1, 7, last, sink_send, sink_release, &s);
	uint64_t got[8];
	cr_assert_eq(ids_of(&s, got, 8), 2, "%s", s.got.p);
	cr_expect_eq(got[0], id[3]);
	cr_expect_eq(got[1], id[4]);
	cr_expect(strstr(s.got.p, "reset") == NULL);
	/* and new events follow */
	events_publish(e, 7, "{\"n\":5}", 7);
	cr_expect_eq(ids_of(&s, got, 8), 3);
	events_free(e);
	buf_free(&s.got);
}

Test(events, reset_when_the_ring_no_longer_reaches_back)
{
	events_t *e = events_new(4, 60000);
	uint64_t first = events_publish(e, 7, "{}", 2);
	for (int i = 0; i < 6; i++)
		events_publish(e, 7, "{}", 2);
	char last[32];
	snprintf(last, sizeof last, "%llu", (unsigned long long)first);
	sink s = {BUF_INIT, true, 0};
	events_subscribe(e, 1, 7, last, sink_send, sink_release, &s);
	cr_expect(strstr(s.got.p, "{\"type\":\"reset\"}") != NULL, "%s", s.got.p);
	uint64_t got[8];
	cr_expect_eq(ids_of(&s, got, 8), 5, "reset + the 4 kept");
	sink old = {BUF_INIT, true, 0};
	events_subscribe(e, 2, 7, "12", sink_send, sink_release, &old);
	cr_expect(strstr(old.got.p, "reset") != NULL, "an id from before this process");
	sink junk = {BUF_INIT, true, 0};
	events_subscribe(e, 3, 7, "abc", sink_send, sink_release, &junk);
	cr_expect(strstr(junk.got.p, "reset") != NULL);
	events_free(e);
	buf_free(&s.got);
	buf_free(&old.got);
	buf_free(&junk.got);
}

Test(events, closed_subscribers_are_released_once)
{
	events_t *e = events_new(8, 60000);
	sink a = {BUF_INIT, true, 0}, b = {BUF_INIT, true, 0};
	events_subscribe(e, 1, 7, NULL, sink_send, sink_release, &a);
	events_subscribe(e, 2, 7, NULL, sink_send, sink_release, &b);
	events_close(e, 1);
	events_close(e, 99); /* unknown: ignored */
	b.alive = false;     /* a failed send closes too */
	events_publish(e, 7, "{}", 2);
	size_t before = a.got.len;
	events_publish(e, 7, "{}", 2);
	cr_expect_eq(a.got.len, before, "nothing after close");
	for (int i = 0; i < 30 && (a.released == 0 || b.released == 0); i++)
		usleep(100 * 1000); /* the hub's thread sweeps every second */
	cr_expect_eq(a.released, 1);
	cr_expect_eq(b.released, 1);
	cr_expect_eq(events_subscribers(e), 0);
	events_free(e);
	cr_expect_eq(a.released, 1, "never twice");
	buf_free(&a.got);
	buf_free(&b.got);
}

Test(events, heartbeat)
{
	events_t *e = events_new(8, 60000);
	sink a = {BUF_INIT, true, 0};
	events_subscribe(e, 1, 7, NULL, sink_send, sink_release, &a);
	events_heartbeat(e);
	cr_expect(strstr(a.got.p, ": ping\n\n") != NULL);
	events_free(e);
	buf_free(&a.got);
}

/* ---- the system, in-process ---- */

TestSuite(tasks, .init = rec_setup, .fini = rec_teardown);

static tasks_t *tasks_open(int queue_cap)
{
	tasks_opts o = {.data_dir = fx.dir, .workers = 2, .queue_cap = queue_cap};
	char err[256] = "";
	tasks_t *t = tasks_new(fx.store, &o, err, sizeof err);
	cr_assert_not_null(t, "%s", err);
	return t;
}

static task_status wait_final(int64_t id)
{
	for (int i = 0; i < 600; i++) {
		task_status s = status_of(id);
		if (taskrec_status_final(s))
			return s;
		usleep(50 * 1000);
	}
	return status_of(id);
}

Test(tasks, report_runs_to_success_with_its_file)
{
	tasks_t *t = tasks_open(0);
	tasks_start(t);
	int64_t id;
	char err[256] = "";
	cr_assert_eq(tasks_submit(t, fx.org, "report", "{\"month\":\"2026-05\"}", -1, NULL, &id, err, sizeof err),
	             TASKS_OK, "%s", err);
	cr_assert_eq(wait_final(id), TASK_SUCCEEDED);
	taskrec_t rec;
	char path[1024];
	cr_assert_eq(tasks_result(t, fx.org, id, &rec, path, sizeof path, err, sizeof err), TASKS_OK, "%s", err);
	struct stat sb;
	cr_expect_eq(stat(path, &sb), 0, "%s", path);
	cr_expect_gt(sb.st_size, 1000);
	cr_expect_str_eq(rec.result_name, "report-2026-05.pdf");
	cr_expect_str_eq(rec.result_type, "application/pdf");
	taskrec_clear(&rec);
	cr_expect_eq(tasks_result(t, fx.org + 1, id, &rec, path, sizeof path, err, sizeof err), TASKS_NOT_FOUND,
	             "another org does not see it");
	buf_t b = BUF_INIT;
	cr_expect_eq(tasks_cancel(t, fx.org, id, &b, err, sizeof err), TASKS_CONFLICT, "it has ended");
	buf_free(&b);
	tasks_free(t);
}

Test(tasks, bad_submissions_are_refused_at_once)
{
	tasks_t *t = tasks_open(0);
	int64_t id;
	char err[256];
	cr_expect_eq(tasks_submit(t, fx.org, "dance", NULL, -1, NULL, &id, err, sizeof err), TASKS_INVALID);
	cr_expect_eq(tasks_submit(t, fx.org, "export", "{\"entity\":\"nope\"}", -1, NULL, &id, err, sizeof err),
	             TASKS_INVALID);
	cr_expect(strstr(err, "nope") != NULL, "%s", err);
	cr_expect_eq(tasks_submit(t, fx.org, "export", "{\"entity\":\"costs\",\"limit\":\"5\"}", -1, NULL, &id, err,
	                          sizeof err),
	             TASKS_INVALID, "limit is the exporter's");
	cr_expect_eq(tasks_submit(t, fx.org, "report", "{\"month\":\"2026-13\"}", -1, NULL, &id, err, sizeof err),
	             TASKS_INVALID);
	cr_expect_eq(tasks_submit(t, fx.org, "match", "{\"auto\":2}", -1, NULL, &id, err, sizeof err), TASKS_INVALID);
	cr_expect_eq(tasks_submit(t, fx.org, "match", "[1]", -1, NULL, &id, err, sizeof err), TASKS_INVALID);
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM tasks"), 0, "nothing recorded");
	tasks_free(t);
}

Test(tasks, cancel_while_queued_and_a_full_queue)
{
	tasks_t *t = tasks_open(2); /* not started: everything stays queued */
	int64_t a, b, c;
	char err[256];
	cr_assert_eq(tasks_submit(t, fx.org, "match", NULL, -1, NULL, &a, err, sizeof err), TASKS_OK);
	cr_assert_eq(tasks_submit(t, fx.org, "match", NULL, -1, NULL, &b, err, sizeof err), TASKS_OK);
	cr_expect_eq(tasks_submit(t, fx.org, "match", NULL, -1, NULL, &c, err, sizeof err), TASKS_BUSY);
	cr_expect_eq(status_of(c), TASK_FAILED, "a refused task says so");
	buf_t out = BUF_INIT;
	cr_expect_eq(tasks_cancel(t, fx.org + 1, a, &out, err, sizeof err), TASKS_NOT_FOUND);
	cr_assert_eq(tasks_cancel(t, fx.org, a, &out, err, sizeof err), TASKS_OK, "%s", err);
	cr_expect(strstr(out.p, "\"status\":\"cancelled\"") != NULL, "%s", out.p);
	cr_expect_eq(tasks_submit(t, fx.org, "match", NULL, -1, NULL, &c, err, sizeof err), TASKS_OK,
	             "the cancelled one left the queue");
	buf_free(&out);
	tasks_free(t);
	cr_expect_eq(status_of(b), TASK_PENDING, "queued work survives a stop");
}

Test(tasks, a_restart_interrupts_the_dead_run_and_drops_its_files)
{
	char err[256], path[1100];
	int64_t dead = insert("export", "{\"entity\":\"costs\"}");
	int64_t queued = insert("refresh", NULL);
	taskrec_start(fx.store, dead, "gone", false);
	snprintf(path, sizeof path, "%s/tasks", fx.dir);
	mkdir(path, 0755);
	const char *leftovers[] = {"1-costs.csv.tmp", "spool-zzzzzz", "999-orphan.csv"};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/tasks/%s", fx.dir, leftovers[i]);
		FILE *f = fopen(path, "w");
		cr_assert_not_null(f);
		fputs("half", f);
		fclose(f);
	}
	tasks_opts o = {.data_dir = fx.dir, .workers = 1};
	tasks_t *t = tasks_new(fx.store, &o, err, sizeof err);
	cr_assert_not_null(t, "%s", err);
	cr_expect_eq(status_of(dead), TASK_INTERRUPTED);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/tasks/%s", fx.dir, leftovers[i]);
		cr_expect_neq(access(path, F_OK), 0, "%s is gone", leftovers[i]);
	}
	tasks_start(t);
	/* refresh without a cache fails, but it ran: the queued task was picked up */
	cr_expect_eq(wait_final(queued), TASK_FAILED);
	tasks_free(t);
}
