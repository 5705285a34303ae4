/* habit: how many days after an invoice's due date each customer usually
 * pays, learned from the payments matched to its invoices by reference
 * (stored ones, and those of the run under way). It breaks ties between
 * equal candidates: several open invoices of one amount for one customer,
 * where "the invoice whose due date is nearest" proposes the newest one to
 * a customer who habitually pays a month late.
 *
 * Only delays within HABIT_MAX_DAYS of the due date count: a payment
 * months late is an exception, not a habit. The mean is kept as an exact
 * integer sum and count, so that a re-run (which finds this run's matches
 * stored) learns exactly what the run did and proposes the same invoice. */
#ifndef BRISK_HABIT_H
#define BRISK_HABIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "match/blocking.h"
#include "store/store.h"

#define HABIT_MAX_DAYS 60
#define HABIT_MIN_PAYMENTS 3 /* fewer say nothing usual */

typedef struct {
	int64_t *sum;  /* per blocking customer: days late, summed */
	uint32_t *n;   /* per blocking customer: payments counted */
	size_t ncust;
} habit_set;

/* Loads the habits of b's customers from org's stored allocations applied
 * or confirmed by rule "reference" (c inside a read transaction). 0, or -1
 * with a reason in err (h is then empty). Release with habit_free. */
int habit_load(store_conn_t *c, int64_t org, const blocking_t *b, habit_set *h, char *err, size_t errlen);
/* Counts one payment of customer cust made `late` days after the due date
 * (ignored beyond HABIT_MAX_DAYS either way). */
void habit_add(habit_set *h, uint32_t cust, int32_t late);
/* The days customer cust usually pays after the due date (rounded mean);
 * false when fewer than HABIT_MIN_PAYMENTS were counted. */
bool habit_days(const habit_set *h, uint32_t cust, int32_t *days);
/* The same for one customer's text, straight from the store (explain):
 * 1 with *days set, 0 when fewer than HABIT_MIN_PAYMENTS, -1 on a store
 * error. */
int habit_customer(store_conn_t *c, int64_t org, const char *cust, size_t n, int32_t *days);
/* The tie order's distance of a payment dated paid from an invoice due on
 * due: how far from the customer's habit when known, else score_due_gap. */
int32_t habit_gap(const habit_set *h, uint32_t cust, date_t paid, date_t due);
/* The same for a customer known to pay `days` after the due date. */
int32_t habit_gap_days(int32_t days, date_t paid, date_t due);
void habit_free(habit_set *h);

#endif
