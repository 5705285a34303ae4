/* dsvalue: one cell of a data set's file read as what the definition says
 * it is: the time column at its grain, an exact measure, a dimension
 * value. Shared by the importer and the inference of a definition. */
#ifndef BRISK_DSVALUE_H
#define BRISK_DSVALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/money.h"

#define DSVALUE_MAX_TEXT 2000 /* bytes of a dimension value; longer is rejected, never truncated */

/* The time column: at grain day a date (fmt: a date format, NULL =
 * YYYY-MM-DD, a time of day after it ignored); month also "YYYY-MM";
 * quarter also "YYYY-Qn", "YYYYQn", "Qn YYYY"; year also "YYYY". The day
 * stored is the first of the grain's bucket. False with why. */
bool dsvalue_time(slice_t v, interval_t grain, const char *fmt, date_t *out, char *why, size_t whylen);
/* A measure of scale digits (money: the currency's minor units; integer:
 * 0): exact, or rounded half-to-even when mo->round; mo NULL = the strict
 * form (optional '-', digits, '.', digits). |value| < 10^15 units. False
 * with why. */
bool dsvalue_measure(slice_t v, int scale, const money_opts *mo, int64_t *out, char *why, size_t whylen);
/* A dimension value: trailing and leading spaces dropped, the CSV formula
 * guard removed, case kept; false (with why) past DSVALUE_MAX_TEXT bytes. */
bool dsvalue_dim(slice_t v, slice_t *out, char *why, size_t whylen);

#endif
