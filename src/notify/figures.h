/* figures: the business figures an alert rule can watch. Each is read from
 * the same dashboard views the API serves (so an alert and the dashboard
 * never disagree), at a given day, and declares the tables it reads so a
 * commit re-evaluates only the rules it can change. */
#ifndef BRISK_FIGURES_H
#define BRISK_FIGURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "store/store.h"

typedef enum {
	FIG_MONEY, /* minor units of the org's currency */
	FIG_COUNT, /* a number of rows */
	FIG_DAYS,  /* days with one decimal, held in tenths (DSO) */
} figure_unit;

typedef struct {
	const char *name;  /* "cash_balance" */
	const char *what;  /* for messages: "cash balance" */
	figure_unit unit;
	unsigned tables;   /* TBL_BIT mask of the tables it reads */
	int source;        /* internal: which view computes it */
} figure_def;

/* The catalogue (static storage); *n gets its length. */
const figure_def *figures_all(size_t *n);
/* The figure called name (len bytes), or NULL. */
const figure_def *figure_find(const char *name, size_t len);
/* Decimal places of a value of f in an org whose currency has minor
 * decimals: money minor, days 1, counts 0. */
int figure_decimals(const figure_def *f, int minor);

/* One evaluation's reads: each view computed at most once per context.
 * c is a read (or write) connection the caller owns; today the day the
 * figures are taken at. */
typedef struct figure_ctx figure_ctx;
figure_ctx *figure_ctx_new(store_conn_t *c, int64_t org, date_t today);
void figure_ctx_free(figure_ctx *x);

/* The value of f in x's org at x's day, in the figure's units (see
 * figure_unit); *null when undefined (DSO with nothing invoiced). 0, or -1
 * with a one-line reason in err (store error, missing org). */
int figure_eval(figure_ctx *x, const figure_def *f, int64_t *value, bool *null, char *err, size_t errlen);

/* Formats v of f for messages ("20,000.00 EUR" style without grouping:
 * "20000.00", "45.3 days", "12"). Returns buf. */
const char *figure_format(const figure_def *f, int minor, int64_t v, char *buf, size_t len);

#endif
