/* export: every row of one entity list that matches the list filters of
 * GET /api/v1/{kind}, written to a CSV or an XLSX file.
 *
 * Rows are read page by page through analytics_list (keyset cursor, one
 * read snapshot), so memory stays flat whatever the table size, and the
 * file holds exactly the rows the list API pages through, in its order.
 * CSV carries DATA.md's canonical forms (money "1234.50", dates
 * YYYY-MM-DD), so an export imports back unchanged; XLSX carries numbers
 * with a 2-decimal format and real dates. The file appears at its path
 * only when complete: it is written under a temporary name and renamed. */
#ifndef BRISK_EXPORT_H
#define BRISK_EXPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analytics/analytics.h"
#include "ingest/entity.h"
#include "store/store.h"

typedef enum { EXPORT_CSV, EXPORT_XLSX } export_format;

typedef struct {
	entity_kind kind;
	export_format format;
	analytics_list_params lp; /* filters, sort and fields; limit and cursor are the exporter's */
} export_req;

/* A filter's text value by name, or NULL when absent. */
typedef analytics_get_fn export_get_fn;

/* Fills q (format CSV) for org and kind from the filters get returns,
 * with the rules and messages of the list API. The strings stay borrowed
 * from get's source, which must outlive q. Returns false with a reason. */
bool export_parse(export_req *q, entity_kind kind, int64_t org, export_get_fn get, void *ud, char *why,
                  size_t whylen);
/* "csv" / "xlsx". */
bool export_format_parse(const char *s, export_format *out);
const char *export_format_ext(export_format f);
/* The Content-Type of a file in format f. */
const char *export_content_type(export_format f);

/* Progress: rows written so far and an estimate of the total (rows of the
 * org in the date range; 0 when unknown), at most every 100 ms. */
typedef void (*export_progress_fn)(void *ud, uint64_t rows, uint64_t estimate);

/* Writes the rows into path. Returns 0 (*rows set), or -1 with a reason in
 * err: a bad filter, the store failed, the disk is full, or *cancel was
 * set (checked every page); nothing is left at path or beside it then. */
int export_run(store_t *s, const export_req *q, const char *path, export_progress_fn progress, void *ud,
               atomic_int *cancel, uint64_t *rows, char *err, size_t errlen);

#endif
