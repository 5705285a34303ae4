/* proposals: the reconciliation proposals waiting for a person, paged
 * (GET /api/v1/match/proposals, the review inbox). */
#ifndef BRISK_PROPOSALS_H
#define BRISK_PROPOSALS_H

#include <stdint.h>

#include "core/buf.h"
#include "match/matcher.h"
#include "store/store.h"

/* Appends the proposals waiting for review, in payment order, after the
 * cursor (NULL = from the start), at most limit (1..1000):
 *   {"proposals": [{payment_id, date, payer, amount, reference,
 *     invoice_id, invoice_number, customer, outstanding, rule, confidence,
 *     invoices: [{invoice_id, invoice_number, customer, outstanding, amount,
 *     writeoff}]}], "next_cursor": an opaque string or null}
 * one entry per payment (the invoice_* fields are its first invoice's);
 * The cursor is sealed (core/seal.h) for this org: it shows no row id.
 * Returns MATCHER_OK, MATCHER_INVALID (bad limit; a cursor that is not a
 * next_cursor of this org, with "cursor" in err) or MATCHER_FAILED. */
matcher_status explain_proposals(store_t *s, int64_t org, const char *cursor, int limit, buf_t *out, char *err,
                                 size_t errlen);

#endif
