/* notify: evaluates the organisations' alert rules (rules.h) when a commit
 * touches a table a rule reads, and on a timer for durations and the days
 * that pass; records firings and resolutions, publishes them on the org's
 * event stream and queues their webhooks and e-mails (outbox.h). Runs on
 * its own thread: a commit only marks its org, so writes never wait for an
 * evaluation or a receiver. */
#ifndef BRISK_NOTIFY_H
#define BRISK_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "notify/outbox.h"
#include "store/store.h"

struct events;
typedef struct notify notify_t;

typedef struct {
	int tick_ms;          /* timer evaluation period (default 60000) */
	outbox_opts out;      /* delivery */
	const char *operator_webhook; /* performance alerts go there too (or NULL) */
	const char *operator_email;
} notify_opts;

/* An engine over s publishing to ev (may be NULL). Not started. */
notify_t *notify_new(store_t *s, struct events *ev, const notify_opts *o);
void notify_start(notify_t *n);
/* Stops the threads (pending evaluations are dropped; notify_changed may
 * still be called after). NULL is a no-op. */
void notify_stop(notify_t *n);
/* Stops the threads if running and frees n; NULL is a no-op. */
void notify_free(notify_t *n);

/* A commit touched mask of org: re-evaluate the rules reading those tables
 * soon. Any thread, never blocks on the store; NULL n is a no-op. */
void notify_changed(notify_t *n, int64_t org, unsigned mask);

/* Evaluates org's enabled rules reading mask (0 = all) now, on the calling
 * thread. Returns the number of firings and resolutions, or -1 (reason in
 * err). */
int notify_evaluate(notify_t *n, int64_t org, unsigned mask, char *err, size_t errlen);

/* Sends a message to the operator's channels (notify_opts), e.g. a
 * performance alert: subject one line, json the event object. */
void notify_operator(notify_t *n, const char *subject, const char *json);

/* Scheduled reports run as tasks of t (set once tasks exist; NULL: no
 * schedules run). */
struct tasks;
void notify_set_tasks(notify_t *n, struct tasks *t);
/* Runs the schedules that are due and delivers finished runs, now. */
void notify_run_schedules(notify_t *n);
/* Asks the engine's thread to look at the schedules soon (a schedule was
 * made due by "run now"). NULL is a no-op. */
void notify_schedules_soon(notify_t *n);

/* The delivery engine (for the API's signing secret and tests). */
outbox_t *notify_outbox(notify_t *n);

#endif
