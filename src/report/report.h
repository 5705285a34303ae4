/* report: the monthly management report of an organisation as a PDF (A4,
 * four pages, drawn with cairo): KPIs with their change against the
 * month before, the cash flow of the last twelve months and the balance,
 * costs by category, receivables aging, top customers and lead
 * follow-ups. Every figure comes from the dashboard views (src/analytics)
 * over one read snapshot, so the report agrees with the API to the cent.
 * The file appears at its path only when complete. */
#ifndef BRISK_REPORT_H
#define BRISK_REPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define REPORT_PAGES 4

/* Parses "YYYY-MM" (years 1900..9999). */
bool report_month_parse(const char *s, int *year, int *month);

/* Progress: percent done and what is being drawn. */
typedef void (*report_progress_fn)(void *ud, int pct, const char *what);

/* Writes the report of org for the month into path (a temporary file
 * beside it, renamed when complete). Returns 0, or -1 with a reason in err
 * (the org is unknown, the store failed, the file cannot be written, or
 * *cancel was set; nothing is left at path then). */
int report_run(store_t *s, int64_t org, int year, int month, const char *path, report_progress_fn progress,
               void *ud, atomic_int *cancel, char *err, size_t errlen);

/* Releases the caches cairo keeps for the whole process (fonts). Call once
 * at exit, when no report is being drawn, so leak checkers see only real
 * leaks. */
void report_shutdown(void);

#endif
