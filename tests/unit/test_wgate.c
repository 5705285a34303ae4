/* Tests of the store's writer gate (src/store/wgate.c): a thread marked
 * bounded is refused with a reason and a retry time while another holds
 * the writer, a try never waits, unmarked threads wait their turn, and a
 * refusal makes no change. Waits are on conditions, never on durations. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "store/store.h"

static store_fx fx;

static void setup(void)
{
	store_fx_open(&fx, "acme");
}

static void teardown(void)
{
	store_fx_close(&fx);
}

TestSuite(wgate, .init = setup, .fini = teardown);

typedef struct {
	store_t *s;
	bool bounded, try_only;
	/* out */
	bool got;
	int refusals, retry;
	char err[300];
	atomic_bool done;
} attempt;

static void *attempt_main(void *arg)
{
	attempt *a = arg;
	store_thread_bound_writes(a->bounded);
	store_thread_refusals(NULL, NULL, 0);
	store_conn_t *w = a->try_only ? store_write_try_begin(a->s) : store_write_begin(a->s, a->err, sizeof a->err);
	a->got = w != NULL;
	if (w)
		store_write_rollback(w);
	a->refusals = store_thread_refusals(&a->retry, a->err[0] ? NULL : a->err, sizeof a->err);
	store_thread_bound_writes(false);
	atomic_store(&a->done, true);
	return NULL;
}

static void run_attempt(attempt *a)
{
	pthread_t t;
	pthread_create(&t, NULL, attempt_main, a);
	pthread_join(t, NULL);
}

Test(wgate, bounded_thread_is_refused_with_who_and_when)
{
	char err[256] = "";
	store_opts o = {.write_wait_ms = 20};
	store_close(fx.store);
	fx.store = store_open(fx.dir, &o, err, sizeof err);
	cr_assert_not_null(fx.store, "%s", err);

	store_thread_label("an import");
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	store_thread_progress(40);

	attempt a = {.s = fx.store, .bounded = true};
	run_attempt(&a);
	cr_expect_not(a.got);
	cr_expect_eq(a.refusals, 1);
	cr_expect_geq(a.retry, 1);
	cr_expect(strstr(a.err, "the store is busy: an import is writing") != NULL, "%s", a.err);
	cr_expect(strstr(a.err, "40% done") != NULL, "%s", a.err);
	cr_expect(strstr(a.err, "retry in about") != NULL, "%s", a.err);

	attempt t = {.s = fx.store, .bounded = true, .try_only = true};
	run_attempt(&t);
	cr_expect_not(t.got, "a try does not wait");
	cr_expect_eq(t.refusals, 0, "a try that finds the writer held is no refusal");

	/* an unmarked thread waits for its turn and then gets it */
	attempt u = {.s = fx.store, .bounded = false};
	pthread_t ut;
	pthread_create(&ut, NULL, attempt_main, &u);
	for (int i = 0; i < 20; i++)
		usleep(1000); /* a head start: it is not yet done, the writer is held */
	cr_expect_not(atomic_load(&u.done), "an unbounded writer waits");
	store_write_rollback(w);
	store_thread_label(NULL);
	pthread_join(ut, NULL);
	cr_expect(u.got, "%s", u.err);
	cr_expect_eq(u.refusals, 0);

	attempt b = {.s = fx.store, .bounded = true};
	run_attempt(&b);
	cr_expect(b.got, "the writer is free: %s", b.err);
	attempt bt = {.s = fx.store, .try_only = true};
	run_attempt(&bt);
	cr_expect(bt.got, "a try takes a free writer");
}

Test(wgate, another_process_writing_is_a_bounded_refusal)
{
	char err[256] = "";
	store_opts o = {.write_wait_ms = 20};
	store_t *other = store_open(fx.dir, &o, err, sizeof err);
	cr_assert_not_null(other, "%s", err);
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	attempt a = {.s = other, .bounded = true};
	run_attempt(&a);
	cr_expect_not(a.got);
	cr_expect_eq(a.refusals, 1);
	cr_expect(strstr(a.err, "busy") != NULL, "%s", a.err);
	attempt t = {.s = other, .try_only = true};
	run_attempt(&t);
	cr_expect_not(t.got);
	store_write_rollback(w);
	store_close(other);
}

static int hook_calls;

static int hook_insert(void *ud, store_conn_t *w)
{
	hook_calls++;
	store_stmt_t *st = store_prepare(w, "INSERT INTO audit(org, at, actor, action, target, detail) "
	                                    "VALUES(?, 0, 'test', 'hooked', '', '')");
	store_bind_i64(st, 1, *(int64_t *)ud);
	store_status rc = store_step(st);
	store_reset(st);
	return rc == STORE_DONE ? 0 : -1;
}

static int64_t hooked_rows(void)
{
	return db_i64(&fx, "SELECT count(*) FROM audit WHERE action = 'hooked'");
}

Test(wgate, commit_hook_goes_in_with_the_first_commit_only)
{
	char err[256] = "";
	store_thread_on_commit(hook_insert, &fx.org);
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	store_write_rollback(w);
	cr_expect_not(store_thread_on_commit_done(), "a rollback carries nothing");
	cr_expect_eq(hook_calls, 0);
	w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);
	cr_expect(store_thread_on_commit_done());
	w = store_write_begin(fx.store, err, sizeof err);
	cr_assert_not_null(w, "%s", err);
	cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);
	cr_expect_eq(hook_calls, 1, "once");
	cr_expect_eq(hooked_rows(), 1);
	store_thread_on_commit(NULL, NULL);
	cr_expect_not(store_thread_on_commit_done());
}
