/* taskkind: what each kind of background task does, over the same library
 * code the CLI and the synchronous API run:
 *   import   a spooled CSV upload through import_run (one transaction)
 *   dataset_import  the same into a data set (dsimport_run)
 *   match    the reconciliation engine (matcher_run)
 *   refresh  a cache warm-up of the org (a hook: the cache lives in http)
 *   export   a filtered list to CSV or XLSX (export_run)
 *   report   the monthly management report PDF (report_run)
 * Each kind checks its params when a task is submitted (so a bad request
 * fails at once, not later in a worker) and runs with a cancel flag and a
 * progress callback. Files are written under the task directory with the
 * task id as prefix, appearing only when complete. */
#ifndef BRISK_TASKKIND_H
#define BRISK_TASKKIND_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "ingest/import.h"
#include "store/store.h"
#include "tasks/pqueue.h"

typedef struct {
	/* in */
	int64_t id, org;
	json_t *params;       /* the task's params object (borrowed) */
	store_t *store;
	const char *dir;      /* the task directory (DATA/tasks) */
	const char *input;    /* full path of the spooled upload, or NULL */
	atomic_int *cancel;
	void (*progress)(void *ud, int pct, const char *message);
	void *progress_ud;
	void (*refresh)(void *ud, int64_t org); /* NULL: no cache to warm */
	void *refresh_ud;
	/* out */
	buf_t result;         /* a JSON object, or empty */
	char file[160];       /* the result file's name inside dir, or "" */
	char name[128];       /* its download name */
	const char *type;     /* its content type */
	char err[512];        /* why run failed */
} taskkind_ctx;

typedef struct {
	const char *name;
	pqueue_level priority; /* unless the submitter chose one */
	bool submittable;      /* through POST /api/v1/tasks (imports come with their upload) */
	const char *writer;    /* what it is while it holds the store's writer ("an import") */
	/* Validates params (a JSON object); false with a person-readable reason. */
	bool (*check)(json_t *params, char *why, size_t whylen);
	/* Runs the task; 0 or -1 with c->err set. */
	int (*run)(taskkind_ctx *c);
} taskkind_t;

/* The kind called name, or NULL. */
const taskkind_t *taskkind_find(const char *name);
/* "import, match, refresh, export, report" for messages. */
const char *taskkind_list(void);

/* Appends the import report {"inserted","replaced","rejected",
 * "rejections":[{"line","reason"}],"rejections_truncated","warnings":[text],"seconds"}. */
void taskkind_import_json(const import_result *res, buf_t *out);

#endif
