/* credit: what an overpayment leaves on a payment (issue 15). A payment
 * applied to invoices for less than its amount keeps the rest as a credit
 * of the customer of those invoices; a later run spends it on that
 * customer's invoices issued on or after the payment's date, oldest first
 * (rule "credit"), once payments have settled what they name.
 *
 * The credit left is never stored as a number that could drift: it is the
 * payment's amount minus its applied, confirmed and manual allocations;
 * payment_credits only says which payments hold one and whose it is. */
#ifndef BRISK_CREDIT_H
#define BRISK_CREDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "match/blocking.h"
#include "store/store.h"

typedef struct {
	int64_t payment; /* rid */
	int64_t left;    /* credit left, minor units */
	date_t date;
	uint32_t cust;   /* blocking customer */
	char cur[4];
} credit_item;

typedef struct {
	int64_t payment;
	uint32_t inv; /* index in blocking_invoices */
	int64_t amount;
	date_t date;  /* the later of the payment's and the invoice's issue date */
} credit_use;

typedef struct {
	credit_item *c;
	size_t n;
	credit_use *u;
	size_t nu, capu;
} credit_set;

/* Loads org's credits left whose customer has open invoices in b, through
 * c (inside the read transaction b was loaded in). 0, or -1 with a reason. */
int credit_load(store_conn_t *c, int64_t org, const blocking_t *b, credit_set *cs, char *err, size_t errlen);

/* Spends the credits on the open invoices (after the run's payments have
 * settled theirs), recording the uses and taking them off the invoices. */
void credit_decide(blocking_t *b, credit_set *cs);

void credit_free(credit_set *cs);

/* Marks payment (rid) as holding a credit of the customer of invoice
 * (rid), the last invoice it paid. 0, or -1 on a store error. */
int credit_record(store_conn_t *w, int64_t org, int64_t payment, int64_t invoice);

/* The credit left on a payment (rid), 0 when it holds none; -1 on a store
 * error. */
int64_t credit_left(store_conn_t *c, int64_t payment);

#endif
