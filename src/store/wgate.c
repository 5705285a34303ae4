#include "store/wgate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "store/store.h"

/* DESIGN
 * A mutex and a condition variable on the monotonic clock rather than a
 * bare mutex: a waiter can give up after a bound (a wall-clock jump does
 * not stretch it), and one that gives up can say who holds the writer.
 * Which threads give up is a property of the thread, not of the call: the
 * HTTP server marks the threads serving requests (store_thread_bound_writes),
 * so every write a request makes, deep in any module, is bounded, and
 * task runners, the CLI and background flushers keep waiting as before. */

static _Thread_local bool tl_bounded;
static _Thread_local const char *tl_label;
static _Thread_local wgate_t *tl_gate; /* the gate this thread last took */
static _Thread_local int tl_refusals, tl_retry_s;
static _Thread_local char tl_why[256];
/* store_thread_on_commit: armed, run in the transaction being committed, done */
static _Thread_local store_commit_fn tl_hook;
static _Thread_local void *tl_hook_ud;
static _Thread_local enum { HOOK_NONE, HOOK_ARMED, HOOK_IN_TX, HOOK_DONE } tl_hook_state;

void wgate_init(wgate_t *g)
{
	memset(g, 0, sizeof *g);
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&g->freed, &a);
	pthread_condattr_destroy(&a);
}

void wgate_destroy(wgate_t *g)
{
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->freed);
}

void wgate_note_refusal(int retry_s, const char *why)
{
	tl_refusals++;
	tl_retry_s = retry_s < 1 ? 1 : retry_s;
	snprintf(tl_why, sizeof tl_why, "%s", why);
}

/* The reason and the retry time of a refusal (gate locked): from the
 * holder's progress when it reports one (elapsed x left / done), else the
 * bound itself (the holder took longer than that already). */
static int refusal(const wgate_t *g, int wait_ms, char *err, size_t errlen)
{
	double held = clock_now_s() - g->since_s;
	int pct = atomic_load(&g->pct);
	int retry = wait_ms < 1000 ? 1 : (wait_ms + 999) / 1000;
	if (pct > 0 && pct < 100 && held > 0) {
		double left = held * (100 - pct) / pct;
		retry = left > 300 ? 300 : (int)ceil(left) + 1;
	}
	const char *what = g->what[0] ? g->what : "another write";
	if (pct > 0 && pct < 100)
		snprintf(err, errlen, "the store is busy: %s is writing (for %.0f s, %d%% done); "
		         "retry in about %d s", what, held, pct, retry);
	else
		snprintf(err, errlen, "the store is busy: %s is writing (for %.0f s); retry in "
		         "about %d s", what, held, retry);
	return retry;
}

int wgate_acquire(wgate_t *g, int wait_ms, bool nowait, char *err, size_t errlen)
{
	bool bounded = tl_bounded && !nowait;
	struct timespec until;
	if (bounded) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		long ns = until.tv_nsec + (long)(wait_ms % 1000) * 1000000L;
		until.tv_sec += wait_ms / 1000 + ns / 1000000000L;
		until.tv_nsec = ns % 1000000000L;
	}
	pthread_mutex_lock(&g->lock);
	while (g->held) {
		int rc = 0;
		if (nowait)
			rc = ETIMEDOUT;
		else if (bounded)
			rc = pthread_cond_timedwait(&g->freed, &g->lock, &until);
		else
			pthread_cond_wait(&g->freed, &g->lock);
		if (rc == ETIMEDOUT && g->held) {
			if (nowait) {
				if (errlen)
					err[0] = '\0';
			} else {
				int retry = refusal(g, wait_ms, err, errlen);
				wgate_note_refusal(retry, err);
			}
			pthread_mutex_unlock(&g->lock);
			return -1;
		}
	}
	g->held = true;
	g->owner = pthread_self();
	g->since_s = clock_now_s();
	snprintf(g->what, sizeof g->what, "%s", tl_label ? tl_label : "");
	atomic_store(&g->pct, 0);
	pthread_mutex_unlock(&g->lock);
	tl_gate = g;
	return 0;
}

void wgate_release(wgate_t *g)
{
	pthread_mutex_lock(&g->lock);
	g->held = false;
	g->what[0] = '\0';
	pthread_cond_signal(&g->freed);
	pthread_mutex_unlock(&g->lock);
}

/* ---- the per-thread calls of store.h ---- */

void store_thread_bound_writes(bool on)
{
	tl_bounded = on;
}

bool store_thread_writes_bounded(void)
{
	return tl_bounded;
}

int store_thread_refusals(int *retry_s, char *why, size_t whylen)
{
	int n = tl_refusals;
	if (n) {
		if (retry_s)
			*retry_s = tl_retry_s;
		if (why && whylen)
			snprintf(why, whylen, "%s", tl_why);
	}
	tl_refusals = 0;
	return n;
}

void store_thread_label(const char *what)
{
	tl_label = what;
}

void store_thread_progress(int pct)
{
	wgate_t *g = tl_gate;
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	if (g->held && pthread_equal(g->owner, pthread_self()))
		atomic_store(&g->pct, pct);
	pthread_mutex_unlock(&g->lock);
}

void store_thread_on_commit(store_commit_fn fn, void *ud)
{
	tl_hook = fn;
	tl_hook_ud = ud;
	tl_hook_state = fn ? HOOK_ARMED : HOOK_NONE;
}

bool store_thread_on_commit_done(void)
{
	return tl_hook_state == HOOK_DONE;
}

void wgate_commit_hook(store_conn_t *w)
{
	if (tl_hook_state == HOOK_ARMED && tl_hook(tl_hook_ud, w) == 0)
		tl_hook_state = HOOK_IN_TX;
}

void wgate_commit_outcome(bool committed)
{
	if (tl_hook_state == HOOK_IN_TX)
		tl_hook_state = committed ? HOOK_DONE : HOOK_ARMED;
}
