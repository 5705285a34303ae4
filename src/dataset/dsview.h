/* dsview: a data set's views (totals, time series, breakdown by one
 * dimension with top N and "other", pivot of two dimensions, the rows
 * with keyset pagination), written as the "data" member of the API's
 * envelope. Totals, series and breakdowns read the rollups (O(buckets))
 * when at most one filter applies (for a breakdown: none, or one on the
 * dimension broken down); otherwise, and always in naive mode, they are
 * computed from the rows (dsnaive.c), which tests compare byte for byte. */
#ifndef BRISK_DSVIEW_H
#define BRISK_DSVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/date.h"
#include "dataset/dsstore.h"
#include "store/store.h"

typedef struct {
	date_t from, to;      /* inclusive days */
	interval_t interval;  /* series */
	int measure;          /* series: -1 = every measure; breakdown, pivot: the measure */
	int by, cols;         /* breakdown: by; pivot: by (rows) and cols */
	int top;              /* breakdown, pivot */
	const char *filter[DSDEF_MAX_DIMS]; /* f.<dim>=value (trimmed), NULL = none */
	int nfilters;
	int minor;            /* the org currency's minor units (money measures) */
	bool naive;           /* reference mode: from the rows */
	int limit;            /* rows */
	bool has_cursor;      /* rows: continue after (cur_day, cur_rid) */
	int32_t cur_day;
	int64_t cur_rid;
} dsview_params;

/* Each appends the view's JSON object to out: 0, or -1 with err (a store
 * error). */
int dsview_totals(store_conn_t *c, const dsstore_info *ds, const dsview_params *p, buf_t *out, char *err,
                  size_t errlen);
int dsview_series(store_conn_t *c, const dsstore_info *ds, const dsview_params *p, buf_t *out, char *err,
                  size_t errlen);
int dsview_breakdown(store_conn_t *c, const dsstore_info *ds, const dsview_params *p, buf_t *out, char *err,
                     size_t errlen);
int dsview_pivot(store_conn_t *c, const dsstore_info *ds, const dsview_params *p, buf_t *out, char *err,
                 size_t errlen);
/* Rows in (day, row) order from the cursor; next_cursor is sealed
 * (core/seal.h) so it cannot be forged or read across organisations. */
int dsview_rows(store_conn_t *c, int64_t org, const dsstore_info *ds, const dsview_params *p, buf_t *out,
                char *err, size_t errlen);
/* Decodes a cursor of dsview_rows for data set ds into p; false if it is
 * not one. */
bool dsview_cursor(store_conn_t *c, int64_t org, const dsstore_info *ds, const char *tok, dsview_params *p);

/* Points a series of interval over [from, to] has. */
int64_t dsview_points(date_t from, date_t to, interval_t iv);

#endif
