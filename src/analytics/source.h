/* source: the figures of a rollup metric over a date range, read from the
 * rollup table (fast) or recomputed from the base tables (naive). The views
 * sit on top of this and never know which one answered. */
#ifndef BRISK_ANALYTICS_SOURCE_H
#define BRISK_ANALYTICS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analytics/internal.h"
#include "store/rollup.h"

typedef struct {
	date_t day; /* a day, or the first of a month standing for the whole month */
	int64_t cnt, total;
} source_row;

typedef struct {
	source_row *v;
	size_t n, cap;
} source_rows;

/* (count, total) of metric m over [from, to]. 0, or -1 with a reason. */
int source_total(store_conn_t *c, int64_t org, bool naive, rollup_metric m, date_t from, date_t to, int64_t *cnt,
                 int64_t *total, char *err, size_t errlen);

/* Per dim over [from, to], added into out, which ends sorted by key. */
int source_by_dim(store_conn_t *c, int64_t org, bool naive, rollup_metric m, date_t from, date_t to,
                  an_items *out, char *err, size_t errlen);

/* Per day over [from, to], ascending, appended to out. With months set a
 * whole calendar month inside the range may come as one row dated the first
 * of the month (callers whose buckets are whole months set it). */
int source_series(store_conn_t *c, int64_t org, bool naive, rollup_metric m, date_t from, date_t to, bool months,
                  source_rows *out, char *err, size_t errlen);

void source_rows_free(source_rows *r);

/* The fast-path SQL texts of this file (for analytics_statements). */
extern const char source_sql_sum[], source_sql_day[], source_sql_dim[];

#endif
