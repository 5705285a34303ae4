/* gen_accounts: the payers' bank accounts of brisk gen (issue 15's
 * learning from accounts): each customer pays from its own IBAN, a fifth
 * of them now and then from a second one, and some from an account their
 * group shares with two other customers (a parent company paying for its
 * subsidiaries: an account that names no single customer). Accounts are a
 * pure function of (seed, customer), so the truth file lists them without
 * remembering which were used. Private to src/ingest/gen*.c. */
#ifndef BRISK_GEN_ACCOUNTS_H
#define BRISK_GEN_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "ingest/gen_names.h"

#define GEN_GROUP_SIZE 3 /* customers 3g, 3g+1, 3g+2 share group g's account */

enum { GEN_ACCT_OWN, GEN_ACCT_SECOND, GEN_ACCT_GROUP };

/* Whether customer cu has a second account. */
int gen_account_has_second(uint64_t seed, uint32_t cu);

/* Appends customer cu's account of that kind to out: an IBAN with valid
 * check digits, without spaces. */
void gen_account(uint64_t seed, uint32_t cu, int kind, buf_t *out);

/* The account payment text: of the customer's accounts (its own mostly),
 * written compact or in groups of four as banks print them, drawn from
 * r (the accounts' own stream, so other files keep their bytes). */
void gen_account_pick(gen_rng *r, uint64_t seed, uint32_t cu, buf_t *out);


#endif
