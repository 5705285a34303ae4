/* batch: what a payment does beyond "one payment, one invoice, the exact
 * amount" (issue 15): one payment settling several invoices (the ones its
 * reference names, or a set of the payer's open invoices whose amounts add
 * up to it), an overpayment leaving a credit on the payment, and an
 * underpayment within the organisation's tolerance settling the invoice
 * with a write-off.
 *
 * The matcher calls batch_payment for each payment its single-invoice
 * rounds left unapplied, one at a time in payment date order (each
 * decision changes invoices' outstanding amounts), and batch_tolerance for
 * each single-invoice match it applies. Cents are conserved: a decision's
 * allocations plus its credit equal the payment, and an allocation plus
 * its write-off never exceed what the invoice had outstanding. */
#ifndef BRISK_BATCH_H
#define BRISK_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match/blocking.h"
#include "match/score.h"

#define BATCH_KMAX 6        /* invoices per payment by amount, at most */
#define BATCH_SCAN 24       /* a payer's open invoices the amount search considers, oldest first */
#define BATCH_BUDGET 200000 /* subsets the search may visit per payment */

/* ---- the bounded subset-sum search (pure; property-tested) ---- */

typedef struct {
	const int64_t *amount; /* n positive amounts, in preference order (oldest first) */
	size_t n;              /* at most BATCH_SCAN */
	int64_t target;        /* the payment */
	int64_t slack;         /* a set may exceed the target by this much (underpayment) */
	int kmin, kmax;        /* set sizes, 1 <= kmin <= kmax <= BATCH_KMAX */
	size_t budget;         /* subsets visited at most */
	int64_t near;          /* count the sets within this of the target, besides it (0: none) */
} batch_query;

typedef struct {
	uint32_t pick[BATCH_KMAX]; /* the best set, ascending indexes */
	int k;                     /* its size; 0 = none found */
	int64_t sum;               /* its total, in [target, target + slack] */
	size_t ties;               /* other sets as close to the target (0 = unique) */
	size_t steps;              /* subsets visited (<= budget) */
	size_t near;               /* sets within q->near of the target, not on it */
	bool exhausted;            /* the budget ran out: uniqueness unknown */
} batch_found;

/* Finds the set of kmin..kmax amounts whose total is closest above the
 * target within the slack (exact first); among equally close sets, the
 * first in index order (the preferred first). Counts in r->near the sets
 * whose totals fall within q->near of the target but miss it: how densely
 * totals lie around it, so how likely an exact one is by chance. Visits
 * at most q->budget sets. Returns r->k. */
int batch_subset(const batch_query *q, batch_found *r);

/* ---- decisions ---- */

enum { BATCH_REASON_NONE, BATCH_REASON_FEES, BATCH_REASON_DISCOUNT };

typedef struct {
	uint32_t inv;     /* index in blocking_invoices */
	int64_t amount;   /* cash of the payment */
	int64_t writeoff; /* written off the invoice along with it */
} batch_alloc;

typedef struct {
	uint32_t first, n; /* allocations in batch_set.a */
	int64_t credit;    /* left on the payment (overpayment) */
	uint8_t reason;    /* of the write-offs: BATCH_REASON_* */
} batch_entry;

/* The decisions' allocations of one run. Zero it; release with
 * batch_set_free. */
typedef struct {
	batch_alloc *a;
	size_t n, cap;
	batch_entry *e;
	size_t ne, cape;
} batch_set;

void batch_set_free(batch_set *bs);

/* The outcome of batch_payment: rule SCORE_RULE_NONE when nothing holds. */
typedef struct {
	int rule;
	double conf;
	uint32_t entry; /* 1-based index in bs->e, 0 = none */
} batch_decision;

/* Decides payment i (not applied by the single-invoice rounds) against the
 * current outstanding amounts, appending its allocations to bs. Does not
 * change the blocking: the caller takes an applied decision's allocations
 * off the invoices (batch_settle). */
batch_decision batch_payment(const blocking_t *b, const score_opts *o, size_t i, blocking_scratch *s, batch_set *bs);

/* Takes entry e's allocations (and write-offs) off the invoices; false,
 * changing nothing, when one no longer has enough outstanding. */
bool batch_settle(blocking_t *b, const batch_set *bs, uint32_t entry);

/* A single-invoice match of amount on invoice k (outstanding before it):
 * when what remains is within the tolerance, a new entry (1-based) that
 * settles the invoice with a write-off, else 0. */
uint32_t batch_tolerance(const blocking_t *b, const score_opts *o, size_t payment, uint32_t k, batch_set *bs);

/* True when an underpayment of diff on total due is within o's tolerance. */
bool batch_within_tolerance(const score_opts *o, int64_t diff, int64_t due);

/* "fees", "discount" or "". */
const char *batch_reason_name(int reason);

#endif
