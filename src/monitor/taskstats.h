/* taskstats: background tasks by kind and status, read from the store's
 * task records (src/tasks keeps one row per task), for the gauge
 * brisk_tasks{kind,status} and the "tasks" object of /api/v1/performance.
 * Counts come from the store, so they cover every instance sharing it.
 * Thread-safe. */
#ifndef BRISK_TASKSTATS_H
#define BRISK_TASKSTATS_H

#include <stdbool.h>

#include "core/buf.h"
#include "store/store.h"

/* Re-reads the counts and updates the brisk_tasks series (registering a
 * series the first time a kind and status appear; one that disappears
 * reads 0). Returns false when the store has no task records. */
bool taskstats_refresh(store_t *s);

/* Appends {"pending","running","by_kind":{KIND:{STATUS:N,...},...}} read
 * now, or null when the store has no task records. */
void taskstats_json(store_t *s, buf_t *out);

/* Forgets the series (after metrics_reset_for_tests). */
void taskstats_reset_for_tests(void);

#endif
