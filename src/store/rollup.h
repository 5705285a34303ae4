/* rollup: daily (and monthly) aggregates per (org, metric, day, dim),
 * accumulated in memory during a write and flushed into the same
 * transaction, so dashboards read O(days x dims) rows, never base tables. */
#ifndef BRISK_ROLLUP_H
#define BRISK_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "store/store.h"

typedef enum {
	ROLLUP_CASH_IN = 1,        /* payments in the org's currency by date; dim "" */
	ROLLUP_COSTS_CATEGORY = 2, /* costs by date; dim category */
	ROLLUP_COSTS_VENDOR = 3,   /* costs by date; dim vendor */
	ROLLUP_SALES_STATUS = 4,   /* sales orders by date; dim status */
	ROLLUP_SALES_CUSTOMER = 5, /* sales orders by date, status not cancelled; dim customer */
	ROLLUP_INVOICED = 6,       /* invoices in the org's currency by issue date, not void; dim "" */
	ROLLUP_LEADS = 7,          /* leads by created date; dim creator "\x1f" status; total = value */
	ROLLUP_CASH_IN_FX = 8,     /* payments in other currencies by date; dim the ISO code */
	ROLLUP_INVOICED_FX = 9,    /* invoices in other currencies by issue date, not void; dim the ISO code */
} rollup_metric;

/* Added to a metric for its monthly rows (day = first day of the month). */
#define ROLLUP_MONTHLY 0x100

/* One row per org (day 0, dim ""): cnt = rows, total = the sum of |amount|
 * over every row that feeds a total (one primary metric per row). Kept at
 * most ROLLUP_MAGNITUDE_MAX, so any sum over a subset of an org's rows, and
 * the sum or difference of two such sums, fits in int64: views, exports and
 * reconciliation cannot overflow. */
#define ROLLUP_MAGNITUDE 0x200
#define ROLLUP_MAGNITUDE_MAX (INT64_C(1) << 62)

/* rollup_flush's refusal when a write would take an org past the bound. */
#define ROLLUP_E_BOUND (-2)

typedef struct rollup_acc rollup_acc_t;

/* A new empty accumulator for one org. Caller frees with rollup_acc_free. */
rollup_acc_t *rollup_acc_new(int64_t org);
void rollup_acc_free(rollup_acc_t *a);
/* Empties a (cells, pending magnitude, overflow), keeping its memory for
 * the next cells: an importer reuses one rather than allocating anew. */
void rollup_acc_reset(rollup_acc_t *a);
/* Adds cnt and total to (metric, day, dim); negative values retract a row. */
void rollup_add(rollup_acc_t *a, rollup_metric m, date_t day, const char *dim, size_t dimlen,
                int64_t cnt, int64_t total);
/* Writes the accumulated deltas (daily and monthly) into the open write
 * transaction and empties the accumulator. Returns 0, -1 on a store error,
 * or ROLLUP_E_BOUND when the org's totals would leave the checked range
 * (nothing written; rollup_bound_reason says why). The caller rolls back. */
int rollup_flush(rollup_acc_t *a, store_conn_t *w);
/* The user-facing reason for ROLLUP_E_BOUND (a static string). */
const char *rollup_bound_reason(void);
/* Adds cnt invoices of total outstanding to the open receivables due on
 * due (the open_recv table), for a writer that suspended the trigger
 * keeping it (store_suspend_trigger); rollup_flush writes them. */
void rollup_open_recv(rollup_acc_t *a, date_t due, int64_t cnt, int64_t total);
/* Sorts the pending cells into the order rollup_flush writes them in, so
 * that another thread than the flushing one can pay for it. Adding a new
 * cell afterwards undoes it (rollup_flush sorts again). */
void rollup_seal(rollup_acc_t *a);
/* Moves a's monthly cells and its pending magnitude change into monthly
 * (added to what it holds), leaving a the daily cells; a keeps any
 * overflow it saw (its flush refuses). See writer.c for why. */
void rollup_split_monthly(rollup_acc_t *a, rollup_acc_t *monthly);
/* Adds src's pending deltas to dst's and empties src. */
void rollup_acc_merge(rollup_acc_t *dst, rollup_acc_t *src);
/* Number of distinct cells pending (for tests and memory checks). */
size_t rollup_pending(const rollup_acc_t *a);

/* Sums (count, total) of a metric over [from, to], optionally for one dim
 * (dim NULL = all dims), reading monthly rows for whole months inside the
 * range and daily rows for the ragged edges. */
void rollup_sum(store_conn_t *c, int64_t org, rollup_metric m, date_t from, date_t to,
                const char *dim, int64_t *cnt, int64_t *total);

#endif
