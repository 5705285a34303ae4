/* score: the reconciliation rules of DATA.md applied to one (payment,
 * invoice) pair, and the decision over a payment's candidates.
 *
 * Pure functions over prepared values: the matcher (which finds candidates
 * through its indexes) and explain (which scans) score pairs the same way,
 * so an explanation always agrees with what a run decided. Thread-safe as
 * long as each thread has its own score_payment. */
#ifndef BRISK_SCORE_H
#define BRISK_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/date.h"
#include "match/normalize.h"

/* Rules, strongest first (DATA.md); SCORE_RULE_NONE when no rule holds. */
enum {
	SCORE_RULE_NONE,
	SCORE_RULE_REFERENCE,
	SCORE_RULE_FUZZY,
	SCORE_RULE_AMOUNT_CUSTOMER,
	SCORE_RULE_MANUAL,
	SCORE_RULE_BATCH_REFERENCE, /* one payment, the invoices its reference names (match/batch.h) */
	SCORE_RULE_BATCH_AMOUNT,    /* one payment, a set of the payer's invoices by amount */
	SCORE_RULE_CREDIT,          /* an earlier overpayment's credit, on a later invoice */
	SCORE_RULE_COUNT
};

typedef enum { SCORE_UNMATCHED, SCORE_PROPOSED, SCORE_APPLIED } score_verdict;

/* Thresholds and windows, validated once (score_opts_check) before a run. */
typedef struct {
	double auto_threshold;   /* applied at or above (default 0.75) */
	double review_threshold; /* proposed at or above, below auto (default 0.5) */
	double name_threshold;   /* payer ~ customer, score_name_sim in [0,1] (0.8) */
	int days_before_issue;   /* rule 3 window starts issue_date - this (7) */
	int days_after_due;      /* and ends due_date + this (90) */
	int max_ref_distance;    /* rule 2 edit distance, 0..3 (2) */
	double tie_margin;       /* a rival this close to the best is a tie (0.05) */
	double ambiguity_factor; /* a tied best is scaled by this (0.7), and kept below auto */
	/* Issue 15 (match/batch.h): what is left after an invoice's payment. */
	int64_t tol_abs;         /* an underpayment is written off up to this, minor units (1000) */
	double tol_pct;          /* and up to this share of what was due (0.02) */
	double overpay_max;      /* an applied overpayment leaves at most this share as credit (0.5) */
	int batch_max;           /* invoices one payment may settle by amount, 2..6 (5) */
	/* Which rules are on (all by default); the reference rule always is. */
	bool use_fuzzy, use_amount_customer, use_batch_reference, use_batch_amount, use_writeoff, use_credit,
		use_aliases;
} score_opts;

/* Fills the defaults above. */
void score_opts_init(score_opts *o);
/* False with a reason when thresholds are out of [0,1], review > auto, etc. */
bool score_opts_check(const score_opts *o, char *why, size_t whylen);

#define SCORE_MAX_TOKS 32
#define SCORE_MAX_KEYS 8

/* A payment prepared once for many pairs: normalised payer, the reference
 * as canonical tokens (norm_invoice per token) concatenated, and the tokens
 * (and joins of 2-3 adjacent tokens) eligible for fuzzy comparison. Owns its
 * buffers: reuse one per thread, release with score_payment_free. */
typedef struct {
	int64_t amount;
	date_t date;
	buf_t payer;  /* norm_name of the payer */
	buf_t ref;    /* canonical tokens, concatenated */
	buf_t start;  /* start.p[i] = 1 where a token of ref starts at i */
	buf_t toks;   /* storage for joined tokens */
	buf_t keys;   /* the reference's numbers as invoice keys (norm_ref_keys) */
	norm_key key[SCORE_MAX_KEYS];
	size_t nkey;
	size_t ntok;
	struct {
		size_t off, len; /* in ref (plain token) or toks (join) */
		size_t ndigits;
		bool joined, digits_only;
	} tok[SCORE_MAX_TOKS];
} score_payment;

/* Prepares p (initialise it zeroed the first time). Fuzzy tokens keep only
 * lengths in [min_len, max_len] holding a digit (pass the range of the
 * invoice numbers in play, widened by the edit distance; 0, 0 = any). */
void score_payment_prepare(score_payment *p, const char *payer, size_t payer_len, const char *ref, size_t ref_len,
                           int64_t amount, date_t date, size_t min_len, size_t max_len);
void score_payment_free(score_payment *p);
/* The i-th fuzzy token. */
const char *score_payment_tok(const score_payment *p, size_t i, size_t *len);

/* An invoice as the rules see it; canon is norm_invoice(number), key is
 * norm_invoice_key(number). */
typedef struct {
	const char *canon;
	size_t canon_len;
	int64_t outstanding;
	date_t issue, due;
	const char *key;
	size_t key_len;
} score_invoice;

/* Candidate flags. */
enum {
	SCORE_EXACT_REF = 1,     /* reference contains the number (rule 1's test) */
	SCORE_AMOUNT_EQUAL = 2,  /* payment amount == outstanding */
	SCORE_AMOUNT_FITS = 4,   /* 0 < amount <= outstanding */
	SCORE_DATE_OK = 8,       /* within [issue - before, due + after] */
	SCORE_CUST_AGREE = 16,   /* customer id equal, or payer name similar */
	SCORE_CUST_CLASH = 32,   /* customer id differs, or name similarity < 0.5 */
	SCORE_EARLY = 64,        /* paid before the window opens */
	SCORE_AMBIGUOUS = 128,   /* set by score_decide on a tied best */
	SCORE_LOOSE_REF = 256,   /* the reference writes the number without its prefix or year */
	SCORE_SEVERAL = 512,     /* set by score_decide: the reference names several invoices */
};

/* One scored pair. inv is the caller's index of the invoice. */
typedef struct {
	uint32_t inv;
	float conf;       /* confidence of the best rule that holds, 0 if none */
	float name_sim;   /* payer vs customer, [0,1] */
	float conf_base;  /* the same without SCORE_LOOSE_REF's evidence */
	date_t issue;     /* the invoice's, for ranking ties */
	int32_t due_gap;  /* days the payment is late, or twice the days it is early */
	uint16_t flags;   /* SCORE_* flags */
	uint8_t rule;     /* SCORE_RULE_* */
	uint8_t rule_base;
	uint8_t ref_dist; /* 0 exact or prefix-less, 1..max fuzzy, 255 none */
	int8_t cid_rel;   /* +1 customer ids equal, -1 differ, 0 unknown */
} score_cand;

/* Name similarity in [0,1] of a normalised payer a (norm_payer) and
 * customer b (norm_name); 0 when below cutoff (in [0,1]; 0 = exact value
 * always). Every word counts on both sides (token-sort ratio, not
 * token-set's containment), so "global logistics solutions" is 0.76 to
 * "global logistics"; a payer cut mid-word by the bank's field width (at
 * least 14 bytes, a prefix of b ending inside one of b's words) scores at
 * least 0.9. */
double score_name_sim(const char *a, size_t alen, const char *b, size_t blen, double cutoff);

/* True when the reference contains the canonical number at a sensible
 * place: not inside a longer digit run, and as whole tokens for numbers
 * shorter than 4 characters. */
bool score_ref_contains(const score_payment *p, const char *canon, size_t len);

/* Smallest edit distance between a fuzzy token of p and the number (or its
 * digits after a letter prefix, for references that omit "INV"); 255 when
 * above the allowed distance (max, and less for short numbers). */
int score_ref_distance(const score_payment *p, const char *canon, size_t len, int max);

/* 1 when one of the reference's numbers is the invoice key (zeros aside:
 * "INV42" for INV-0042), 2 when it is the key without its letter prefix,
 * or its year ("#42", "2025/42", "INV42" for INV-2025-000042), else 0. */
int score_key_match(const score_payment *p, const char *key, size_t len);

/* Scores a pair: c gets the flags, the rule that holds with the highest
 * confidence and the name similarity given (computed by the caller, who
 * can cache it per customer). cid_rel: +1 when the payment's customer_id
 * equals the invoice's, -1 when both are set and differ, else 0. */
void score_pair(const score_opts *o, const score_payment *p, const score_invoice *v, double name_sim, int cid_rel,
                score_cand *c);

/* Picks the best of n candidates (one per invoice): *best its index (n when
 * none has a rule), *conf its confidence after ambiguity and *rival the
 * tied rival's (or the other named invoice's) index or n. Returns the
 * verdict. When one candidate alone has the closest reference among those
 * with the exact amount and an agreeing customer, the candidates the
 * reference names less closely lose 0.1 first. Candidates within
 * tie_margin of the best are a tie. A tie is ranked by reference, confidence,
 * due date proximity, then age, and the first one kept with
 * SCORE_AMBIGUOUS; a reference that names several invoices (counting
 * closed_named, the paid or void ones the caller found), or, without
 * an exact number, leaves out a prefix or year that several share), or
 * names exactly another invoice of the payment's amount than the best,
 * sets SCORE_SEVERAL. Both scale the confidence by ambiguity_factor and keep it
 * below auto: never applied. May change c (flags, and loose-number rules
 * when an exact number is named). */
/* The tie order's distance of a payment dated paid from an invoice due on
 * due, knowing nothing of the customer's habits (match/habit.h): the days
 * late, or twice the days early. */
int32_t score_due_gap(date_t paid, date_t due);

score_verdict score_decide(const score_opts *o, score_cand *c, size_t n, size_t closed_named, size_t *best,
                           double *conf, size_t *rival);

/* "reference", "fuzzy_reference", "amount_customer", "manual",
 * "batch_reference", "batch_amount", "credit", "" for none;
 * and back (0 when unknown). */
const char *score_rule_name(int rule);
int score_rule_parse(const char *s, size_t len);

/* Appends why the pair was not matched (or was held back), for a person:
 * the failed tests of the closest rule, "; "-separated. */
void score_refusal(const score_opts *o, const score_payment *p, const score_invoice *v, const score_cand *c,
                   buf_t *out);

#endif
