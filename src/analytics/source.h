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

/* Many ranges at once: each request's figures over its [from, to], read
 * in one round trip of the store (store_each) where one per range and
 * month segment would cost one each. sums: (cnt, total) set; dims: per
 * dim added into out, which ends sorted by key. 0, or -1 with a reason. */
typedef struct {
	rollup_metric m;
	date_t from, to;
	int64_t cnt, total; /* out */
} source_sum;
typedef struct {
	rollup_metric m;
	date_t from, to;
	an_items *out;
} source_dim;
int source_totals(store_conn_t *c, int64_t org, bool naive, source_sum *v, int n, char *err, size_t errlen);
int source_by_dims(store_conn_t *c, int64_t org, bool naive, source_dim *v, int n, char *err, size_t errlen);
/* Both at once: one round trip for all. */
int source_figures(store_conn_t *c, int64_t org, bool naive, source_sum *sums, int nsums, source_dim *dims,
                   int ndims, char *err, size_t errlen);

/* Per day over [from, to], ascending, appended to out. With months set a
 * whole calendar month inside the range may come as one row dated the first
 * of the month (callers whose buckets are whole months set it). */
int source_series(store_conn_t *c, int64_t org, bool naive, rollup_metric m, date_t from, date_t to, bool months,
                  source_rows *out, char *err, size_t errlen);

void source_rows_free(source_rows *r);

/* The fast-path SQL texts of this file (for analytics_statements). */
extern const char source_sql_sum[], source_sql_day[], source_sql_dim[];

#endif
