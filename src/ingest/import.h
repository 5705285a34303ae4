/* import: CSV rows of one entity kind into the store, per DATA.md: header
 * matching and mapping, per-row validation with line and reason, idempotent
 * upsert, the whole file in one transaction, memory bounded but for one hash per id (checks, occurrences). */
#ifndef BRISK_IMPORT_H
#define BRISK_IMPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ingest/csv.h"
#include "ingest/entity.h"
#include "ingest/options.h"
#include "store/store.h"

#define IMPORT_KEEP_REJECTS 100

typedef struct {
	uint64_t line;
	char reason[256];
} import_rejection;

#define IMPORT_MAX_WARNINGS 8

typedef struct {
	int64_t inserted, replaced, rejected;
	int64_t skipped;                            /* rows --where left out (not rejections) */
	int64_t split_costs;                        /* --split: debits stored as costs (in inserted/replaced) */
	int64_t split_transfers;                    /* --split: transfers between own accounts left out */
	int nwarnings;                              /* things stored that deserve a look */
	char warnings[IMPORT_MAX_WARNINGS][320];
	int nkept;                                 /* rejections kept below */
	import_rejection kept[IMPORT_KEEP_REJECTS]; /* the first ones, in order */
	double seconds;
} import_result;

/* Runs an import reading through fn. Returns 0 (rows committed, or none on
 * a dry run) or -1 when the file as a whole is unusable, the import was
 * cancelled or the store failed: nothing is stored and err says why (with
 * the line where it applies). Strings in o are borrowed. */
int import_run(store_t *s, csv_read_fn fn, void *ud, const import_opts *o, import_result *res, char *err,
               size_t errlen);

#endif
