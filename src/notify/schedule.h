/* schedule: reports and exports produced on a schedule (the monthly PDF on
 * the 2nd, the open invoices as XLSX every Monday) and delivered by the
 * alerts' channels. Each run is an ordinary background task (visible in the
 * task list); notify.c submits it when due and delivers its file once it
 * has succeeded. Times are UTC. */
#ifndef BRISK_SCHEDULE_H
#define BRISK_SCHEDULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

typedef struct {
	int64_t org, id;
	char name[128];
	char *task;           /* {"kind":"report"|"export","params":{...}}, owned */
	char every[16];       /* "daily", "weekly:mon".."weekly:sun", "monthly:1".."monthly:28" */
	int at_minute;        /* minute of the day, UTC */
	char *channels;       /* {"webhooks":[...],"emails":[...]}, owned */
	bool enabled;
	int64_t next_run;     /* unix s */
	int64_t last_run;     /* 0: never */
	int64_t last_task;    /* the task of the last run (private id), 0: none */
	bool delivered;       /* the last run's result was delivered (or failed and said so) */
	int64_t created_at;
} report_schedule;

void schedule_init(report_schedule *s, int64_t org);
void schedule_clear(report_schedule *s);

/* Reads {"name","kind","params","every","at","webhooks","emails","enabled"}
 * into s (create: kind and every required). check validates the task's
 * params as the task kind would (NULL: not checked). 0, or -1 with a reason. */
typedef bool (*schedule_check_fn)(const char *kind, json_t *params, char *why, size_t whylen);
int schedule_from_json(json_t *o, bool create, schedule_check_fn check, report_schedule *s, char *err, size_t errlen);
void schedule_json(const report_schedule *s, buf_t *out);

/* The first run time after unix time now. */
int64_t schedule_next(const report_schedule *s, int64_t now);

/* Storage (as rules.h): insert sets s->id and next_run; get 1/0/-1; delete
 * returns rows or -1; list of one org (org > 0) or every org's due ones
 * (org 0: enabled, next_run <= now, or a run not yet delivered). */
int schedule_insert(store_conn_t *w, report_schedule *s, int64_t now);
int schedule_get(store_conn_t *c, int64_t org, int64_t id, report_schedule *s);
int schedule_delete(store_conn_t *w, int64_t org, int64_t id);
int schedule_list(store_conn_t *c, int64_t org, int64_t now, report_schedule **out, size_t *n);
/* Claims a due run: moves next_run on (guarded by the old value) and
 * records task. 1 claimed, 0 another instance did, -1 store error. */
int schedule_claim(store_conn_t *w, report_schedule *s, int64_t now, int64_t task);
/* Marks the last run delivered. */
int schedule_delivered(store_conn_t *w, const report_schedule *s);
/* Makes it due now ("run now"). 1 found, 0 not, -1 error. */
int schedule_run_now(store_conn_t *w, int64_t org, int64_t id, int64_t now);

#endif
