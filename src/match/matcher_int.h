/* matcher_int: what the phases of match/matcher share (internal to
 * matcher.c, matcher_store.c and matcher_review.c). */
#ifndef BRISK_MATCHER_INT_H
#define BRISK_MATCHER_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "match/batch.h"
#include "match/blocking.h"
#include "match/credit.h"
#include "match/matcher.h"

/* One payment's decision of a run. */
typedef struct {
	uint32_t inv;
	float conf;
	uint8_t rule, verdict;
	uint32_t entry; /* 1-based in the run's batch_set: several invoices, a write-off or a credit */
} decision;

typedef struct alloc_pend alloc_pend;

/* The write transaction of a run or a review decision; w NULL = dry run.
 * pend NULL: each allocation is inserted at once; else rows wait there and
 * go in by many-row statements (a run's store phase, matcher_store.c). */
typedef struct {
	store_conn_t *w;
	int64_t org;
	char *err;
	size_t errlen;
	alloc_pend *pend;
} writer;

static inline bool matcher_cancelled(const matcher_opts *o)
{
	return o->cancel && atomic_load(o->cancel);
}

/* Formats the store's last error after what into wr->err; returns -1. */
int matcher_fail_store(writer *wr, const char *what);
/* Deletes payment's proposed allocations; 0 or -1 (wr->err set). */
int matcher_drop_proposals(writer *wr, int64_t payment);
/* Inserts one allocation row (or queues it, wr->pend); 0 or -1 (wr->err set). */
int matcher_insert_alloc(writer *wr, int64_t payment, int64_t invoice, int64_t amount, date_t day, int rule,
                         double conf, const char *state, int64_t writeoff, int reason);
/* Stores the settled decisions (dec, one per payment of b) and the credit
 * uses in payment date order, reports them through o->on_decision and
 * counts them in res; wr->w NULL = dry run. 0 or -1 (wr->err set). */
int matcher_apply(const blocking_t *b, const matcher_opts *o, const batch_set *bs, const credit_set *cs,
                  const decision *dec, writer *wr, matcher_result *res, uint64_t total);

#endif
