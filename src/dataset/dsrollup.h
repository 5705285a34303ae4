/* dsrollup: a data set's rollups, per (dimension, level, bucket, value)
 * with every measure's count, sum, min and max (table ds_rollup). Deltas
 * are summed in memory during a write and upserted per cell by
 * dsrollup_flush inside the same transaction; a retraction (a row
 * replaced) marks its cells so their min and max are recomputed from the
 * rows at the flush. dim 0 is the whole data set (val ''), dim i+1 the
 * definition's dimension i. */
#ifndef BRISK_DSROLLUP_H
#define BRISK_DSROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/date.h"
#include "dataset/dsdef.h"
#include "store/store.h"

/* Sum of |measure| over a data set's rows (every measure) stays below
 * this, so any sum of a subset fits an int64 (checked at each flush). */
#define DSROLLUP_MAGNITUDE_MAX (INT64_C(1) << 62)

/* The levels kept for a grain, finest first: the grain itself, then month
 * (day grain only) and year (any grain finer than a year). Returns n. */
int dsrollup_levels(interval_t grain, interval_t out[3]);

typedef struct dsrollup dsrollup_t;

/* An accumulator for data set ds (store id) of org, definition d (borrowed). */
dsrollup_t *dsrollup_new(int64_t ds, int64_t org, const dsdef_t *d);
void dsrollup_free(dsrollup_t *a);
/* Adds (sign 1) or retracts (sign -1) one row: its day, dimension values
 * (d->ndims, already trimmed) and measures (has[i] false = blank). */
void dsrollup_add(dsrollup_t *a, date_t day, const slice_t *dims, const int64_t *m, const bool *has, int sign);
/* Bytes the cells held in memory take, about (callers flush past a bound). */
size_t dsrollup_bytes(const dsrollup_t *a);
/* Writes the pending cells and the data set's row count and magnitude.
 * 0, or -1 with err (the magnitude bound, or a store error): the caller
 * rolls the whole write back. Empties the accumulator either way. */
int dsrollup_flush(dsrollup_t *a, store_conn_t *w, char *err, size_t errlen);

#endif
