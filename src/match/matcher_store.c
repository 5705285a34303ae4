#include "match/matcher.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/mem.h"
#include "core/money.h"
#include "ingest/entity.h"
#include "match/alias.h"
#include "match/batch.h"
#include "match/blocking.h"
#include "match/credit.h"
#include "match/rules.h"
#include "match/matcher_int.h"

/* The store phase of a run: see the DESIGN note of matcher.c. */

int matcher_fail_store(writer *wr, const char *what)
{
	snprintf(wr->err, wr->errlen, "%s: %s", what, store_errmsg(wr->w));
	return -1;
}

int matcher_drop_proposals(writer *wr, int64_t payment)
{
	static const char *q = "DELETE FROM allocations WHERE payment = ?1 AND state = 'proposed'";
	store_stmt_t *st = store_prepare(wr->w, q);
	store_bind_i64(st, 1, payment);
	store_status rc = store_step(st);
	store_reset(st);
	return rc == STORE_DONE ? 0 : matcher_fail_store(wr, "removing a proposal");
}

int matcher_insert_alloc(writer *wr, int64_t payment, int64_t invoice, int64_t amount, date_t day, int rule,
                        double conf, const char *state, int64_t writeoff, int reason)
{
	static const char *q = "INSERT INTO allocations(org, payment, invoice, amount, pay_date, rule, confidence, state, "
	                       "writeoff, writeoff_reason) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
	store_stmt_t *st = store_prepare(wr->w, q);
	const char *rn = score_rule_name(rule), *why = batch_reason_name(reason);
	store_bind_i64(st, 1, wr->org);
	store_bind_i64(st, 2, payment);
	store_bind_i64(st, 3, invoice);
	store_bind_i64(st, 4, amount);
	store_bind_i64(st, 5, day);
	store_bind_text(st, 6, rn, strlen(rn));
	/* Decisions hold a float; store the 3 decimals it stands for. */
	store_bind_double(st, 7, round(conf * 1000) / 1000);
	store_bind_text(st, 8, state, strlen(state));
	store_bind_i64(st, 9, writeoff);
	store_bind_text(st, 10, why, strlen(why));
	store_status rc = store_step(st);
	store_reset(st);
	return rc == STORE_DONE ? 0 : matcher_fail_store(wr, "storing an allocation");
}

/* Stores entry e's allocations (several invoices, a write-off) and the
 * credit an applied overpayment leaves, and reports each allocation. */
static int store_entry(const blocking_t *b, const matcher_opts *o, const batch_set *bs, const decision *d,
                       const blocking_payment *p, writer *wr, uint8_t *touched)
{
	size_t ninv;
	const blocking_invoice *inv = blocking_invoices(b, &ninv);
	const batch_entry *e = &bs->e[d->entry - 1];
	const char *state = d->verdict == SCORE_APPLIED ? "applied" : "proposed";
	int rc = 0;
	for (uint32_t k = e->first; k < e->first + e->n && rc == 0; k++) {
		const batch_alloc *a = &bs->a[k];
		if (d->verdict == SCORE_APPLIED)
			touched[a->inv] = 1;
		if (wr->w)
			rc = matcher_insert_alloc(wr, p->rid, inv[a->inv].rid, a->amount, p->date, d->rule, d->conf, state,
			                  a->writeoff, a->writeoff ? e->reason : 0);
		if (o->on_decision) {
			matcher_decision md = {
				.payment_id = p->id,
				.payment_id_len = p->id_len,
				.invoice_id = inv[a->inv].id,
				.invoice_id_len = inv[a->inv].id_len,
				.amount = a->amount,
				.rule = d->rule,
				.confidence = d->conf,
				.verdict = (score_verdict)d->verdict,
			};
			o->on_decision(o->decision_ud, &md);
		}
	}
	if (rc == 0 && wr->w && e->credit > 0 && d->verdict == SCORE_APPLIED &&
	    credit_record(wr->w, wr->org, p->rid, inv[bs->a[e->first + e->n - 1].inv].rid) != 0)
		rc = matcher_fail_store(wr, "storing a credit");
	return rc;
}

/* Stores the settled decisions in payment date order and reports them;
 * wr->w NULL = dry run. */
int matcher_apply(const blocking_t *b, const matcher_opts *o, const batch_set *bs, const credit_set *cs,
                 const decision *dec, writer *wr, matcher_result *res, uint64_t total)
{
	size_t ninv, npay;
	const blocking_invoice *inv = blocking_invoices(b, &ninv);
	const blocking_payment *pay = blocking_payments(b, &npay);
	uint8_t *touched = xcalloc(ninv ? ninv : 1, 1);
	int rc = 0;
	double last = clock_now_s();
	for (size_t i = 0; i < npay && rc == 0; i++) {
		const blocking_payment *p = &pay[i];
		const decision *d = &dec[i];
		if ((i & 4095) == 0) {
			if (matcher_cancelled(o)) {
				snprintf(wr->err, wr->errlen, "cancelled; nothing was stored");
				rc = -1;
				break;
			}
			double t = clock_now_s();
			if (o->progress && t - last >= 0.1) {
				o->progress(o->progress_ud, npay + i, total);
				last = t;
			}
		}
		const blocking_invoice *v = d->verdict != SCORE_UNMATCHED ? &inv[d->inv] : NULL;
		res->applied += d->verdict == SCORE_APPLIED;
		res->proposed += d->verdict == SCORE_PROPOSED;
		res->unmatched += d->verdict == SCORE_UNMATCHED;
		if (v && d->entry) {
			const batch_entry *e = &bs->e[d->entry - 1];
			uint64_t sig = 0;
			for (uint32_t k = e->first; k < e->first + e->n; k++)
				sig += blocking_alloc_sig(inv[bs->a[k].inv].rid, bs->a[k].amount);
			/* The same proposal as before: nothing to write (a re-run changes nothing). */
			bool keep = d->verdict == SCORE_PROPOSED && p->prop_n == e->n && p->prop_sig == sig &&
			            p->prop_rule == d->rule && fabs(p->prop_conf - d->conf) < 5e-4;
			if (wr->w && p->prop_rid && !keep) {
				rc = matcher_drop_proposals(wr, p->rid);
				res->changed++;
			}
			if (rc == 0 && !keep) {
				rc = store_entry(b, o, bs, d, p, wr, touched);
				res->changed += e->n;
			} else if (rc == 0 && o->on_decision) {
				store_entry(b, o, bs, d, p, &(writer){.org = wr->org}, touched); /* report only */
			}
			continue;
		}
		if (d->verdict == SCORE_APPLIED)
			touched[d->inv] = 1;
		if (wr->w) {
			bool keep = p->prop_rid > 0 && d->verdict == SCORE_PROPOSED && p->prop_inv == v->rid &&
			            p->prop_rule == d->rule && fabs(p->prop_conf - d->conf) < 5e-4;
			if (p->prop_rid && !keep) {
				rc = matcher_drop_proposals(wr, p->rid);
				res->changed++;
			}
			if (rc == 0 && v && !keep) {
				rc = matcher_insert_alloc(wr, p->rid, v->rid, p->amount, p->date, d->rule, d->conf,
				                  d->verdict == SCORE_APPLIED ? "applied" : "proposed", 0, 0);
				res->changed++;
			}
		}
		if (o->on_decision) {
			matcher_decision md = {
				.payment_id = p->id,
				.payment_id_len = p->id_len,
				.invoice_id = v ? v->id : NULL,
				.invoice_id_len = v ? v->id_len : 0,
				.amount = v ? p->amount : 0,
				.rule = v ? d->rule : SCORE_RULE_NONE,
				.confidence = d->conf,
				.verdict = (score_verdict)d->verdict,
			};
			o->on_decision(o->decision_ud, &md);
		}
	}
	/* Credits go after the payments: they cover what is left unpaid. */
	for (size_t k = 0; k < cs->nu && rc == 0; k++) {
		const credit_use *u = &cs->u[k];
		touched[u->inv] = 1;
		res->changed++;
		if (wr->w)
			rc = matcher_insert_alloc(wr, u->payment, inv[u->inv].rid, u->amount, u->date, SCORE_RULE_CREDIT, 1.0,
			                  "applied", 0, 0);
	}
	for (size_t k = 0; k < ninv && rc == 0 && wr->w; k++)
		if (touched[k] && entity_invoice_refresh(wr->w, inv[k].rid) != 0)
			rc = matcher_fail_store(wr, "refreshing an invoice");
	free(touched);
	return rc;
}
