/* explain: why a payment went where it went, as JSON for people and the API.
 *
 * Money is written as a JSON number with two decimals (1234.50), dates as
 * "YYYY-MM-DD", similarities and confidences with three decimals. */
#ifndef BRISK_EXPLAIN_H
#define BRISK_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "match/matcher.h"
#include "match/score.h"
#include "store/store.h"

#define EXPLAIN_CANDIDATES 5

/* Appends to out one JSON object for payment payment_id of org:
 *   {"payment": {...}, "status": "applied|confirmed|manual|proposed|rejected|unmatched",
 *    "allocations": [{invoice_id, invoice_number, amount, rule, confidence, state}],
 *    "decision": {verdict, invoice_id, rule, confidence, ambiguous_with},
 *    "candidates": [...]}
 * "decision" and "candidates" are present unless the payment is settled
 * (applied, confirmed, manual): they score the payment against every open
 * invoice now, with the rules of a run (o; NULL = defaults), and list the
 * best EXPLAIN_CANDIDATES with their scores (reference exact, edit distance
 * and similarity, name similarity, customer ids, amount equal and fitting,
 * date window, rule and confidence) and,
 * for each one not chosen, the reason. Reads one snapshot; the cost is one
 * pass over the open invoices. Returns MATCHER_OK, MATCHER_NOT_FOUND (out
 * untouched) or MATCHER_FAILED, with a reason in err. */
matcher_status explain_payment(store_t *s, int64_t org, const char *payment_id, size_t len, const score_opts *o,
                               buf_t *out, char *err, size_t errlen);

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
