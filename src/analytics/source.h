/* source: the figures of a rollup metric over a date range, read from the
 * rollup table (fast) or recomputed from the base tables (naive). The views
 * sit on top of this and never know which one answered. */
#ifndef BRISK_ANALYTICS_SOURCE_H
#define BRISK_ANALYTICS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analytics/internal.h"
#include "analytics/reads.h"
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
int source_figures(store_conn_t *c, int64_t org, bool naive, source_sum *sums, int nsums, source_dim *dims,
                   int ndims, char *err, size_t errlen);

/* The same gathered into rd: the figures are set once rd has run. */
void source_figures_add(an_reads *rd, int64_t org, source_sum *sums, int nsums, source_dim *dims, int ndims);

/* Per day over [from, to], ascending, appended to out. With months set a
 * whole calendar month inside the range may come as one row dated the first
 * of the month (callers whose buckets are whole months set it). */
int source_series(store_conn_t *c, int64_t org, bool naive, rollup_metric m, date_t from, date_t to, bool months,
                  source_rows *out, char *err, size_t errlen);

/* The same gathered into rd: out is filled once rd has run. */
void source_series_add(an_reads *rd, int64_t org, rollup_metric m, date_t from, date_t to, bool months,
                       source_rows *out);

void source_rows_free(source_rows *r);

/* DSO's one read: the 90 days invoiced up to as_of (aging.c). */
source_sum an_dso_sum(const analytics_params *p);

/* The fast-path SQL texts of this file (for analytics_statements). */
extern const char source_sql_sum[], source_sql_day[], source_sql_dim[];

#endif
