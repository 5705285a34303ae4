/* dsagg: the figures of a set of rows of a data set (rows, and per
 * measure count, sum, min, max), how two combine, a table of them by
 * dimension value, and the base-row queries of the reference mode
 * (dsnaive.c). Internal to src/dataset. */
#ifndef BRISK_DSAGG_H
#define BRISK_DSAGG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "dataset/dsview.h"

typedef struct {
	int64_t rows;
	int64_t n[DSDEF_MAX_MEASURES], s[DSDEF_MAX_MEASURES], lo[DSDEF_MAX_MEASURES], hi[DSDEF_MAX_MEASURES];
	uint8_t has; /* bit i: lo[i]/hi[i] hold a value */
} dsagg;

/* dst += src (sums fit: a data set's magnitude is bounded). */
void dsagg_merge(dsagg *dst, const dsagg *src);
/* Reads rows, then n, s, lo, hi of 8 measures from columns first.. of st. */
void dsagg_read(store_stmt_t *st, int first, dsagg *a);

/* Reference mode over ds_rows. Totals into *a; series: fn per day with
 * rows; breakdown: fn per value of dimension by; pivot: fn per (row value,
 * col value). 0 or -1 (err). */
int dsnaive_totals(store_conn_t *c, int64_t ds, const dsview_params *p, dsagg *a, char *err, size_t errlen);
int dsnaive_days(store_conn_t *c, int64_t ds, const dsview_params *p, void (*fn)(void *ud, date_t day, const dsagg *a),
                 void *ud, char *err, size_t errlen);
int dsnaive_breakdown(store_conn_t *c, int64_t ds, const dsview_params *p, int by,
                      void (*fn)(void *ud, slice_t v, const dsagg *a), void *ud, char *err, size_t errlen);
int dsnaive_pivot(store_conn_t *c, int64_t ds, const dsview_params *p,
                  void (*fn)(void *ud, slice_t a, slice_t b, const dsagg *g), void *ud, char *err, size_t errlen);

#endif
