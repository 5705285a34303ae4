/* blocking: an organisation's unsettled payments and open invoices loaded
 * compactly into memory, with the indexes that find a payment's candidate
 * invoices without comparing it to all of them: canonical invoice number
 * (hash), invoice key and its forms without prefix or year (hash),
 * outstanding amount (hash), customer-name tokens (inverted index
 * over customers, each with its invoices by issue date).
 *
 * Built once by one thread; afterwards read-only, so any number of threads
 * may call blocking_candidates at once, each with its own scratch. */
#ifndef BRISK_BLOCKING_H
#define BRISK_BLOCKING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match/score.h"
#include "store/store.h"

/* An open invoice (outstanding > 0, not void; outstanding as loaded, or
 * as set by blocking_set_outstanding). Strings point into the blocking's
 * arena and are not NUL-terminated. */
typedef struct {
	int64_t rid, amount, outstanding;
	date_t issue, due;
	uint32_t cust;     /* customer (distinct customer text) */
	uint32_t cid;      /* interned customer_id, 0 = none */
	uint32_t next_num; /* next invoice in the same number-hash chain */
	uint32_t next_amt; /* next invoice with the same outstanding */
	const char *id, *canon, *key; /* key: norm_invoice_key of the number */
	uint16_t id_len, canon_len, key_len;
	char cur[4]; /* currency: "" the org's, else the ISO code */
} blocking_invoice;

/* A payment with no allocation other than proposals. */
typedef struct {
	int64_t rid, amount;
	int64_t prop_rid; /* its proposed allocation: 0 none, -1 several */
	int64_t prop_inv; /* that proposal's invoice rid */
	float prop_conf;
	uint8_t prop_rule;
	uint8_t prop_n;    /* its proposed allocations (several for a batch) */
	uint64_t prop_sig; /* blocking_alloc_sig summed over them */
	date_t date;
	uint32_t cid; /* 0 none; BLOCKING_CID_UNKNOWN when on no open invoice */
	uint64_t account; /* hash of the payer's account (payer_account), 0 = none */
	const char *id, *payer, *ref;
	uint16_t id_len, payer_len, ref_len;
	char cur[4]; /* currency: "" the org's, else the ISO code */
} blocking_payment;

/* An allocation's signature (invoice rid, amount), summed over a
 * payment's allocations to tell whether a new decision is the same set. */
static inline uint64_t blocking_alloc_sig(int64_t invoice, int64_t amount)
{
	uint64_t k = (uint64_t)invoice * 0x9E3779B97F4A7C15ull ^ (uint64_t)amount;
	k ^= k >> 31;
	return k * 0xBF58476D1CE4E5B9ull;
}

#define BLOCKING_NONE UINT32_MAX
#define BLOCKING_CID_UNKNOWN (UINT32_MAX - 1)

typedef struct blocking blocking_t;

/* Loads org's payments (in payment date order, then rid) and open invoices
 * through c, which must be inside a read transaction, and builds the
 * indexes. cancel may be NULL. Returns NULL with a reason in err on a store
 * error or a cancel. Release with blocking_free. */
blocking_t *blocking_load(store_conn_t *c, int64_t org, atomic_int *cancel, char *err, size_t errlen);
void blocking_free(blocking_t *b);

const blocking_invoice *blocking_invoices(const blocking_t *b, size_t *n);
const blocking_payment *blocking_payments(const blocking_t *b, size_t *n);
/* Sets invoice k's outstanding amount (a payment was applied to it in
 * memory), so that later blocking_candidates calls score against it and
 * find it by its new amount. Not thread-safe: call between scoring rounds,
 * never during one. */
void blocking_set_outstanding(blocking_t *b, size_t k, int64_t outstanding);

/* Bytes held (arena, arrays, indexes), for the memory budget. */
size_t blocking_bytes(const blocking_t *b);

/* Per-thread working memory for blocking_candidates. Zero it before the
 * first use; release with blocking_scratch_free. */
typedef struct {
	score_payment pay;
	score_cand *cand;
	size_t ncand, cap;
	uint32_t *cust;      /* customers similar to the payer */
	float *cust_sim;
	size_t ncust, cap_cust;
	uint64_t payer_hash; /* of the prepared payer */
	uint32_t alias;      /* the customer its learned account or spelling names, or BLOCKING_NONE */
	bool alias_account;  /* alias comes from the account: other customers' names count less */
	size_t closed_named;  /* paid or void invoices the reference names (score_decide) */
	char cur[4];          /* the payment's currency: other ones are never candidates */
	struct blocking_sim *sims; /* direct-mapped cache of (payer, customer) similarities */
} blocking_scratch;

void blocking_scratch_free(blocking_scratch *s);

/* Scores payment i against its candidates: invoices whose number the
 * reference contains or writes otherwise (score_key_match), invoices whose outstanding equals the amount, and,
 * when the reference looks like a mistyped number and neither found one,
 * the open invoices of customers named like the payer (most recent first,
 * bounded); never an invoice in another currency. Leaves them in
 * s->cand[0..s->ncand), s->pay prepared and s->closed_named set. */
void blocking_candidates(const blocking_t *b, const score_opts *o, size_t i, blocking_scratch *s);

/* After blocking_candidates(i): the customers named like the payer, best
 * first, in s->cust[0..s->ncust) with their similarity in s->cust_sim
 * (the payer's learned alias, if any, at 1.0). */
void blocking_payer_customers(const blocking_t *b, const score_opts *o, blocking_scratch *s);
/* Customer k's open invoices (indexes into blocking_invoices), oldest
 * first; *n their count. */
const uint32_t *blocking_customer_invoices(const blocking_t *b, uint32_t k, size_t *n);
/* The same invoices with, side by side, their issue dates and current
 * outstanding amounts: a walk that skips most of a large customer's
 * invoices reads two sequential arrays instead of each invoice. span is
 * the customer's longest due - issue, so no invoice issued before
 * d - span is due on or after d. Valid until blocking_free. */
typedef struct {
	const uint32_t *inv;
	const date_t *issue;
	const int64_t *out;
	size_t n;
	int32_t span;
} blocking_cust_view;
blocking_cust_view blocking_customer_view(const blocking_t *b, uint32_t k);
/* The first position in v whose issue date is on or after d. */
size_t blocking_view_from(const blocking_cust_view *v, date_t d);
/* The customer of that exact text, or BLOCKING_NONE when none has an open
 * invoice. */
uint32_t blocking_find_customer(const blocking_t *b, const char *s, size_t n);
/* How many distinct customers (blocking_invoice.cust is below it). */
size_t blocking_customers(const blocking_t *b);
/* Learned aliases (match/alias.h): payer text -> customer text. Call
 * before blocking_candidates; a payer normalising to an alias's payer
 * scores 1.0 against its customer. */
void blocking_add_alias(blocking_t *b, const char *payer_norm, size_t plen, const char *customer, size_t clen);
/* Learned accounts: a payment from that account (payer_account, as
 * stored) scores 1.0 against the customer, whatever its payer's spelling
 * says (an account outranks a spelling). */
void blocking_add_account(blocking_t *b, const char *account, size_t alen, const char *customer, size_t clen);
/* True when payment i's account or payer is a learned alias of customer k. */
bool blocking_is_alias(const blocking_t *b, const blocking_scratch *s, uint32_t k);

#endif
