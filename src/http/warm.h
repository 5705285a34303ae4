/* warm: cache warming. After start and after every committed write, the
 * views users open first (the dashboard, overview, monthly cash flow of
 * the last 12 months, aging today) and the parameter combinations each
 * org asked for most (data set views too) are recomputed in the background,
 * so the next request is a hit. */
#ifndef BRISK_WARM_H
#define BRISK_WARM_H

#include <stdint.h>

#include "http/server.h"

typedef struct warm warm_t;

/* Starts the warming thread over srv's routes. */
warm_t *warm_new(http_server_t *srv);
/* Stops the thread (pending work is dropped). NULL is a no-op. */
void warm_free(warm_t *w);
/* Schedules a warm-up of org (deduplicated; cheap; any thread). */
void warm_org(warm_t *w, int64_t org);
/* Schedules every organisation in the store. */
void warm_all(warm_t *w);
/* Records that org asked route (with path parameter param, len 0 none)
 * with query (for re-warming). */
void warm_note(warm_t *w, int64_t org, const char *route, slice_t param, const char *query);

#endif
