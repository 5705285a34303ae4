/* alias: what the matcher learns from people (issue 15). When someone
 * confirms a match or allocates a payment by hand, the payer's spelling
 * (normalised as the rules compare it) is remembered as an alias of the
 * invoice's customer; later runs score that payer 1.0 against that
 * customer ("learned" in explain). Aliases are listed and removed through
 * the API and `brisk match --aliases / --forget-alias`. */
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

/* The customer the payer (raw text) is a learned alias of: appended to
 * out, true; false when none. */
bool alias_of(store_conn_t *c, int64_t org, const char *payer, size_t len, buf_t *out);

/* Appends {"aliases": [{payer, spelling, customer, created_at}]} (by payer). */
matcher_status alias_list(store_t *s, int64_t org, buf_t *out, char *err, size_t errlen);

/* Forgets the alias of payer (raw or normalised text): NOT_FOUND when
 * there is none. */
matcher_status alias_remove(store_t *s, int64_t org, const char *payer, size_t len, char *err, size_t errlen);

#endif
