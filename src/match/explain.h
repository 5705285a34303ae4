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
#include "match/proposals.h"
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

#endif
