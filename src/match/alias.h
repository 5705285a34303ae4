/* alias: what the matcher learns from people (issue 15). When someone
 * confirms a match or allocates a payment by hand, the payer's spelling
 * (normalised as the rules compare it) and the payer's account (when the
 * bank file gave one: payments.payer_account) are remembered as aliases of
 * the invoice's customer; later runs score that payer 1.0 against that
 * customer ("learned" in explain), the account before the spelling.
 * Aliases are listed and removed through the API and
 * `brisk match --aliases / --forget-alias`. */
#ifndef BRISK_ALIAS_H
#define BRISK_ALIAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "match/blocking.h"
#include "match/matcher.h"
#include "store/store.h"

/* Gives b org's aliases (c inside the read transaction b was loaded in).
 * 0, or -1 with a reason. */
int alias_load(store_conn_t *c, int64_t org, blocking_t *b, char *err, size_t errlen);

/* Remembers payment's payer as an alias of invoice's customer (rids), in
 * the caller's write transaction. A payer that normalises to fewer than 3
 * bytes teaches nothing. 0, or -1 on a store error. */
int alias_learn(store_conn_t *w, int64_t org, int64_t payment, int64_t invoice);

typedef enum { ALIAS_NONE, ALIAS_NAME, ALIAS_ACCOUNT } alias_kind;

/* Another customer's name similarity when a learned account names the
 * payment's customer: halved, so that the account outranks a spelling (a
 * namesake no longer ties with the account's customer). */
static inline double alias_beaten(double sim)
{
	return sim * 0.5;
}

/* The customer the account (as stored, may be empty) or else the payer
 * (raw text) is a learned alias of, appended to out; which one told, or
 * ALIAS_NONE. */
alias_kind alias_of(store_conn_t *c, int64_t org, const char *payer, size_t len, const char *account, size_t alen,
                    buf_t *out);

/* Appends {"aliases": [{payer, spelling, customer, created_at}] (by payer),
 * "accounts": [{account, customer, created_at}] (by account)}. */
matcher_status alias_list(store_t *s, int64_t org, buf_t *out, char *err, size_t errlen);

/* Forgets the alias of payer (raw or normalised text) and the learned
 * account written so (raw or normalised): NOT_FOUND when neither is. */
matcher_status alias_remove(store_t *s, int64_t org, const char *payer, size_t len, char *err, size_t errlen);

#endif
