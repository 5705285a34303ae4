/* wgate: the store's one-writer gate (private to src/store; callers use
 * the store_thread_* calls of store.h).
 *
 * One writer at a time per process, as before, but a waiter can give up:
 * a thread serving requests waits at most store.write_wait_ms for the
 * writer and is then refused with a reason and a time to retry, instead
 * of holding its worker for a whole import. */
#ifndef BRISK_WGATE_H
#define BRISK_WGATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t freed; /* on CLOCK_MONOTONIC */
	bool held;
	/* who holds it (lock): their label (store_thread_label), since when,
	 * and how far they are (store_thread_progress, written without lock) */
	char what[64];
	double since_s;
	pthread_t owner;
	_Atomic int pct;
} wgate_t;

void wgate_init(wgate_t *g);
void wgate_destroy(wgate_t *g);
/* Takes the gate for store s: waits without bound on an unmarked thread,
 * at most wait_ms on a bounded one (then -1 with the reason in err, the
 * refusal noted for store_thread_refusals). nowait: -1 at once (err "",
 * nothing noted) when it is held. */
int wgate_acquire(wgate_t *g, int wait_ms, bool nowait, char *err, size_t errlen);
void wgate_release(wgate_t *g);
/* Notes a refusal of this thread (a backend's busy answer after the gate
 * was taken): retry_s seconds, why as the reason. */
void wgate_note_refusal(int retry_s, const char *why);

/* store_write_commit's side of store_thread_on_commit: runs this
 * thread's armed fn in w before the COMMIT, and then learns whether the
 * commit went through. */
void wgate_commit_hook(store_conn_t *w);
void wgate_commit_outcome(bool committed);

#endif
