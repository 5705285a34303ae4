/* advisor: concrete recommendations from brisk's own measurements.
 *
 * The monitor gathers what it measured into an advisor_input; the advisor
 * applies a fixed set of checks and writes each finding as a
 * recommendation with its evidence:
 *   plan_scan     a dashboard or list statement whose query plan scans a
 *                 large table (EXPLAIN QUERY PLAN over
 *                 analytics_statements(), row counts of the tables);
 *   view_hit_rate a view with a low cache hit rate, with its likely cause:
 *                 writes to the tables it reads, entries expiring before
 *                 the data changes (TTL too short against the write rate),
 *                 or a cache too small;
 *   slow_route    a route whose p95 over 15 minutes is above its threshold,
 *                 with the statements that take the most time;
 *   wal_growth    a write-ahead log that is large or keeps growing;
 *   cache_size    L1 evicting entries while full (hot keys pushed out);
 *   slow_queries  statements above the slow-query threshold.
 * Pure apart from reading the database file for plans and row counts. */
#ifndef BRISK_ADVISOR_H
#define BRISK_ADVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

typedef struct {
	const char *name;
	int cls;              /* monitor_route_class */
	uint64_t count;       /* requests over the last 15 minutes */
	double p95_ms;        /* over the last 15 minutes; NaN when none */
} advisor_route;

typedef struct {
	const char *name;     /* route name of the view */
	uint64_t hits, misses; /* since start: served from a tier or coalesced / computed */
} advisor_view;

typedef struct {
	const char *db_path;  /* SQLite file for EXPLAIN; NULL skips plan checks */
	int64_t large_rows;   /* a table this big is "large" (default 10000 when 0) */

	const advisor_route *routes;
	size_t nroutes;
	double dash_warn_ms, api_warn_ms;

	const advisor_view *views;
	size_t nviews;

	bool cache_enabled;
	uint64_t l1_hits, l1_misses, l1_evictions, l1_expirations;
	uint64_t l1_bytes, l1_entries;
	int64_t l1_max_bytes;
	int64_t ttl_s;

	double window_s;                /* span of the write counts below */
	uint64_t writes[TBL__COUNT];    /* data version bumps per table in the window */

	int64_t db_bytes, wal_bytes;
	double wal_growth_bytes_per_min; /* over the window; NaN when unknown */
} advisor_input;

/* Appends {"generated_at","recommendations":[{"kind","severity":"info"|
 * "warning"|"critical","title","detail","action","evidence":{...}}...],
 * "checks":[{"kind","ok","note"}...]}: the most severe first. */
void advisor_report(const advisor_input *in, buf_t *out);

/* The tables (TBL_BIT mask) a dashboard view reads, by route name; 0 for
 * a route that is not a view. Mirrors the views in src/http/api_views.c. */
unsigned advisor_view_tables(const char *view);

/* The name of table t ("costs", "sales_orders", ...). */
const char *advisor_table_name(store_table t);

#endif
