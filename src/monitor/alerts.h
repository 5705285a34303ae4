/* alerts: threshold alerts with state.
 *
 * An evaluation round (alerts_begin, one alerts_check per measurement,
 * alerts_end) compares each measurement with its warning and critical
 * thresholds. An alert fires when its measurement crosses the warning
 * threshold, changes severity when it crosses the critical one and back,
 * and resolves when it is back on the good side, or when a round no longer
 * checks it (no traffic: nothing is wrong). Each alert remembers when it
 * started firing and, once resolved, when; the last ALERTS_KEEP_RESOLVED
 * resolved ones are kept for the API. alerts_end reports every change to
 * a callback (to log it and push it to listeners).
 *
 * Thread-safe: rounds and readers may run on different threads. */
#ifndef BRISK_ALERTS_H
#define BRISK_ALERTS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define ALERTS_KEEP_RESOLVED 50

typedef enum { ALERT_OK, ALERT_WARNING, ALERT_CRITICAL } alert_severity;

typedef struct alerts alerts_t;

/* One measurement against its thresholds. Strings are copied. */
typedef struct {
	const char *id;      /* stable identity, e.g. "route_p95:overview" */
	const char *kind;    /* "route_p95", "cache_hit_rate", "rss", "cpu" */
	const char *subject; /* the route, the cache tier, "process" */
	const char *what;    /* for messages: "p95 latency of overview over 1 min" */
	const char *unit;    /* of value and thresholds: "ms", "%", "MiB" */
	double value;
	double warn, crit;   /* thresholds */
	bool below;          /* bad when value < threshold (hit rates); else when > */
} alert_check;

/* Called by alerts_end for each alert whose severity changed: json is the
 * alert's object (as in alerts_json), message its one-line description,
 * now the new severity (ALERT_OK: resolved), was the one before. Both
 * strings are valid during the call only. */
typedef void (*alerts_change_fn)(void *ud, const char *json, const char *message, alert_severity now,
				 alert_severity was);

/* A new, empty set of alerts. Never NULL. */
alerts_t *alerts_new(void);
/* Frees a; NULL is a no-op. */
void alerts_free(alerts_t *a);

/* Starts a round at wall-clock time now (seconds since the epoch). */
void alerts_begin(alerts_t *a, double now);
/* Evaluates one measurement in the current round. */
void alerts_check(alerts_t *a, const alert_check *c);
/* Ends the round: alerts not checked in it resolve. Calls fn (may be NULL)
 * for each change, in check order. Returns the number of changes. */
size_t alerts_end(alerts_t *a, alerts_change_fn fn, void *ud);

/* Number of alerts firing at severity sev or above. */
size_t alerts_count(alerts_t *a, alert_severity sev);

/* Appends {"firing":[...],"resolved":[...]}: firing alerts in the order
 * they started, resolved ones newest first. Each alert is {"id","kind",
 * "subject","severity":"warning"|"critical"|"ok","state":"firing"|
 * "resolved","value","unit","warn","critical","message","since",
 * "resolved_at","changed_at"} with times as ISO-8601 UTC (null when not
 * applicable). */
void alerts_json(alerts_t *a, buf_t *out);

/* "ok", "warning" or "critical". */
const char *alerts_severity_name(alert_severity s);

#endif
