/* matcher: reconciliation of an organisation's payments with its open
 * invoices (DATA.md, Reconciliation), and the decisions people take on it.
 *
 * A run loads the payments no one has settled yet, scores them in parallel
 * against the candidates blocking finds (again for those left over, after
 * the applied ones changed invoices' outstanding amounts), and stores the
 * decisions in one write transaction, in payment date order: allocations
 * (state applied or proposed), invoices' outstanding amounts and statuses,
 * data versions.
 * Re-running is safe: settled payments (applied, confirmed, manual,
 * rejected) are left alone, proposals are decided again, and a run that
 * changes nothing writes nothing. */
#ifndef BRISK_MATCHER_H
#define BRISK_MATCHER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match/score.h"
#include "store/store.h"

/* Status of the calls a person makes (and of explain), for HTTP mapping. */
typedef enum {
	MATCHER_OK = 0,
	MATCHER_NOT_FOUND, /* unknown payment or invoice (404) */
	MATCHER_CONFLICT,  /* the state forbids it: nothing to confirm, over-allocation (409) */
	MATCHER_INVALID,   /* a bad argument: a negative amount (422) */
	MATCHER_FAILED,    /* the store failed or is busy (500/503) */
} matcher_status;

/* One decision of a run, as reported to on_decision. Strings are borrowed
 * for the duration of the call and not NUL-terminated. */
typedef struct {
	const char *payment_id;
	size_t payment_id_len;
	const char *invoice_id; /* NULL when unmatched */
	size_t invoice_id_len;
	int64_t amount;         /* allocated (or proposed), cents; 0 if unmatched */
	int rule;               /* SCORE_RULE_*, NONE if unmatched */
	double confidence;      /* of the best candidate, also when unmatched */
	score_verdict verdict;
} matcher_decision;

typedef struct {
	score_opts score;
	int threads;  /* scoring threads; <= 0 = online cores */
	bool dry_run; /* decide and report, store nothing */
	/* Take the organisation's stored rules (match/rules.h) for the score
	 * fields left at their defaults (true after matcher_opts_init). */
	bool org_rules;
	/* Optional: called from the calling thread at most every 100 ms, with
	 * work done out of total (loading, scoring, then storing). */
	void (*progress)(void *ud, uint64_t done, uint64_t total);
	void *progress_ud;
	atomic_int *cancel; /* set non-zero to abandon: nothing is stored */
	/* Optional: every decision, in payment date order, before the commit. */
	void (*on_decision)(void *ud, const matcher_decision *d);
	void *decision_ud;
} matcher_opts;

typedef struct {
	int64_t payments; /* considered (not settled before the run) */
	int64_t invoices; /* open invoices considered */
	int64_t applied, proposed, unmatched;
	int64_t changed;  /* allocations written or removed */
	size_t memory;    /* bytes held by the in-memory index */
	double seconds;   /* in all, and per phase: */
	double load_seconds, score_seconds, store_seconds;
	/* processor time per phase (all threads): what a busy machine's wall
	 * clock hides */
	double load_cpu, score_cpu, store_cpu;
} matcher_result;

/* Defaults: score_opts_init, the org's rules, threads 0, no dry run, no callbacks. */
void matcher_opts_init(matcher_opts *o);

/* Runs reconciliation for org. Returns 0 (res filled), or -1 with a reason
 * in err: invalid options, the store failed or stayed busy, cancelled, or
 * the data kept changing underneath (each time the run starts over, at
 * most three times). Nothing is stored on failure. */
int matcher_run(store_t *s, int64_t org, const matcher_opts *o, matcher_result *res, char *err, size_t errlen);

/* A person confirms the proposed match of payment payment_id: its state
 * becomes confirmed and the invoice is refreshed. CONFLICT when there is no
 * proposal or the invoice can no longer take the amount. */
matcher_status matcher_confirm(store_t *s, int64_t org, const char *payment_id, size_t len, char *err,
                               size_t errlen);

/* A person rejects the payment's match (proposed or applied, or confirmed /
 * manual to undo them): its state becomes rejected, the invoice is
 * refreshed, and later runs leave the payment alone. CONFLICT when the
 * payment has no match to reject. */
matcher_status matcher_reject(store_t *s, int64_t org, const char *payment_id, size_t len, char *err,
                              size_t errlen);

/* A person allocates amount cents of the payment to invoice invoice_id
 * (amount 0: what is left of the payment; negative: INVALID). Replaces the
 * payment's proposal; may be called again to split a payment over
 * invoices. Refuses (CONFLICT) more than the payment has left or the
 * invoice's outstanding, and void invoices. */
matcher_status matcher_manual(store_t *s, int64_t org, const char *payment_id, size_t plen, const char *invoice_id,
                              size_t ilen, int64_t amount, char *err, size_t errlen);

#endif
