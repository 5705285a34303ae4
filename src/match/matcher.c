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

/* DESIGN
 * Three phases. Load: one read snapshot into the blocking index (no lock
 * held). Decide: threads take chunks of payments and write one decision
 * each into their own slots; the index is read-only while they run, so
 * there is nothing to lock. Then one thread settles the applied decisions
 * in payment date order (matches by reference first, see settle),
 * re-checking each invoice's remaining amount, so that two payments never
 * over-allocate an invoice (the first one wins; partial payments complete
 * an invoice in order), and sets the new amounts in the index for another
 * round over the payments left (see decide).
 * Store: one thread writes the decisions in a single write transaction.
 *
 * The snapshot may be stale by the time the writer is ours. The data
 * versions of payments, invoices and allocations are read before the
 * snapshot and again under the writer: if they moved, someone wrote in
 * between and the run starts over, instead of re-checking row by row. */

#define CHUNK 256
#define MAX_ATTEMPTS 3
#define MAX_ROUNDS 16

typedef struct {
	uint32_t inv;
	float conf;
	uint8_t rule, verdict;
	uint32_t entry; /* 1-based in the run's batch_set: several invoices, a write-off or a credit */
} decision;

typedef struct {
	const blocking_t *b;
	const matcher_opts *o;
	decision *dec;
	const uint32_t *idx; /* the payments to score, NULL = all */
	size_t n;
	atomic_size_t next, done;
	atomic_int stop;
} pool;

static bool cancelled(const matcher_opts *o)
{
	return o->cancel && atomic_load(o->cancel);
}

void matcher_opts_init(matcher_opts *o)
{
	memset(o, 0, sizeof *o);
	score_opts_init(&o->score);
	o->org_rules = true;
}

/* ---- scoring ---- */

static void score_range(pool *p, blocking_scratch *s, size_t from, size_t to)
{
	for (size_t k = from; k < to; k++) {
		size_t i = p->idx ? p->idx[k] : k;
		blocking_candidates(p->b, &p->o->score, i, s);
		size_t best, rival;
		double conf;
		score_verdict v = score_decide(&p->o->score, s->cand, s->ncand, s->closed_named, &best, &conf, &rival);
		/* A reference naming an invoice exactly, paid more than it has
		 * left (an overpayment, match/batch.h), outranks a near number
		 * or an equal amount elsewhere. */
		if (v != SCORE_UNMATCHED && best < s->ncand && p->o->score.use_credit &&
		    (s->cand[best].rule == SCORE_RULE_FUZZY || s->cand[best].rule == SCORE_RULE_AMOUNT_CUSTOMER))
			for (size_t c = 0; c < s->ncand; c++)
				if ((s->cand[c].flags & SCORE_EXACT_REF) && !(s->cand[c].flags & SCORE_CUST_CLASH) &&
				    !(s->cand[c].flags & SCORE_AMOUNT_FITS))
					v = SCORE_UNMATCHED;
		decision *d = &p->dec[i];
		d->verdict = (uint8_t)v;
		d->conf = (float)conf;
		d->inv = best < s->ncand ? s->cand[best].inv : BLOCKING_NONE;
		d->rule = best < s->ncand ? s->cand[best].rule : SCORE_RULE_NONE;
		d->entry = 0;
	}
}

static void *worker(void *arg)
{
	pool *p = arg;
	blocking_scratch s = {0};
	for (;;) {
		if (atomic_load(&p->stop) || cancelled(p->o)) {
			atomic_store(&p->stop, 1);
			break;
		}
		size_t from = atomic_fetch_add(&p->next, CHUNK);
		if (from >= p->n)
			break;
		size_t to = from + CHUNK < p->n ? from + CHUNK : p->n;
		score_range(p, &s, from, to);
		atomic_fetch_add(&p->done, to - from);
	}
	blocking_scratch_free(&s);
	return NULL;
}

static int online_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* Scores payments idx[0..n) (all of them when idx is NULL); false when
 * cancelled. The calling thread reports progress while the workers run. */
static bool score_all(const blocking_t *b, const matcher_opts *o, decision *dec, const uint32_t *idx, size_t n,
                      uint64_t *done, uint64_t total)
{
	pool p = {.b = b, .o = o, .dec = dec, .idx = idx, .n = n};
	int nt = o->threads > 0 ? o->threads : online_cores();
	if ((size_t)nt > n / CHUNK + 1)
		nt = (int)(n / CHUNK + 1);
	pthread_t *th = xcalloc((size_t)nt, sizeof *th);
	int started = 0;
	for (int i = 0; i < nt; i++) {
		if (pthread_create(&th[i], NULL, worker, &p) != 0)
			break;
		started++;
	}
	if (!started)
		worker(&p); /* no thread to be had: do it here */
	/* The workers finish on their own; this thread only reports. */
	double last = clock_now_s();
	while (started && atomic_load(&p.done) < n && !atomic_load(&p.stop)) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
		if (o->progress && clock_now_s() - last >= 0.1) {
			uint64_t d = *done + atomic_load(&p.done);
			o->progress(o->progress_ud, d < total ? d : total, total);
			last = clock_now_s();
		}
	}
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	*done += n;
	return !atomic_load(&p.stop) && !cancelled(o);
}

/* Takes the applied decisions of payments idx[0..n) (ascending: payment
 * date order) off their invoices' outstanding amounts; a payment whose
 * invoice an earlier one already settled is not applied. Matches by
 * reference go first: a payment whose amount merely equals an invoice's
 * (a part of another invoice, by coincidence) must not take the invoice
 * from the payment that names it. Returns how many were applied. */
static size_t settle(blocking_t *b, const score_opts *o, batch_set *bs, decision *dec, const uint32_t *idx, size_t n)
{
	size_t npay, ninv, applied = 0;
	const blocking_payment *pay = blocking_payments(b, &npay);
	const blocking_invoice *inv = blocking_invoices(b, &ninv);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < n; k++) {
			size_t i = idx ? idx[k] : k;
			decision *d = &dec[i];
			if (d->verdict != SCORE_APPLIED || (d->rule == SCORE_RULE_AMOUNT_CUSTOMER) != (pass == 1))
				continue;
			if (inv[d->inv].outstanding < pay[i].amount) {
				d->verdict = SCORE_UNMATCHED;
				continue;
			}
			/* A little less than a named invoice's amount: fees, a discount. */
			if (d->rule == SCORE_RULE_REFERENCE || d->rule == SCORE_RULE_FUZZY)
				d->entry = batch_tolerance(b, o, i, d->inv, bs);
			blocking_set_outstanding(b, d->inv, d->entry ? 0 : inv[d->inv].outstanding - pay[i].amount);
			applied++;
		}
	}
	return applied;
}

/* The payments the single-invoice rounds left: several invoices, an
 * overpayment, an underpayment (match/batch.h), one at a time in payment
 * date order, since each one applied changes invoices' amounts. */
static void decide_batches(blocking_t *b, const matcher_opts *o, batch_set *bs, decision *dec)
{
	size_t npay;
	blocking_payments(b, &npay);
	blocking_scratch s = {0};
	for (size_t i = 0; i < npay && !cancelled(o); i++) {
		decision *d = &dec[i];
		if (d->verdict == SCORE_APPLIED)
			continue;
		size_t mark = bs->ne, amark = bs->n;
		batch_decision bd = batch_payment(b, &o->score, i, &s, bs);
		score_verdict v = bd.conf >= o->score.auto_threshold     ? SCORE_APPLIED
		                  : bd.conf >= o->score.review_threshold ? SCORE_PROPOSED
		                                                         : SCORE_UNMATCHED;
		bool better = bd.rule && v != SCORE_UNMATCHED && (v == SCORE_APPLIED || bd.conf > d->conf);
		if (better && v == SCORE_APPLIED && !batch_settle(b, bs, bd.entry))
			better = false;
		if (!better) {
			bs->ne = mark; /* forget its allocations */
			bs->n = amark;
			continue;
		}
		d->verdict = (uint8_t)v;
		d->conf = (float)bd.conf;
		d->rule = (uint8_t)bd.rule;
		d->entry = bd.entry;
		d->inv = bs->a[bs->e[bd.entry - 1].first].inv;
	}
	blocking_scratch_free(&s);
}

/* Decides every payment. Applying a payment changes its invoice's
 * outstanding amount, which may make another payment's amount equal to it
 * (the rest of a split payment whose reference says nothing): so the
 * payments left over are scored again against the new amounts, until a
 * round applies nothing more. A re-run then finds nothing new either. */
static bool decide(blocking_t *b, const matcher_opts *o, batch_set *bs, decision *dec, uint64_t *done,
                   uint64_t total)
{
	size_t npay;
	blocking_payments(b, &npay);
	if (!score_all(b, o, dec, NULL, npay, done, total))
		return false;
	size_t applied = settle(b, &o->score, bs, dec, NULL, npay);
	uint32_t *left = xmalloc((npay ? npay : 1) * sizeof *left);
	bool ok = true;
	for (int round = 1; round < MAX_ROUNDS && applied > 0 && ok; round++) {
		size_t n = 0;
		for (size_t i = 0; i < npay; i++)
			if (dec[i].verdict != SCORE_APPLIED)
				left[n++] = (uint32_t)i;
		ok = score_all(b, o, dec, left, n, done, total);
		applied = ok ? settle(b, &o->score, bs, dec, left, n) : 0;
	}
	free(left);
	if (ok)
		decide_batches(b, o, bs, dec);
	return ok;
}

/* ---- storing ---- */

typedef struct {
	store_conn_t *w;
	int64_t org;
	char *err;
	size_t errlen;
} writer;

static int fail_store(writer *wr, const char *what)
{
	snprintf(wr->err, wr->errlen, "%s: %s", what, store_errmsg(wr->w));
	return -1;
}

static int drop_proposals(writer *wr, int64_t payment)
{
	static const char *q = "DELETE FROM allocations WHERE payment = ?1 AND state = 'proposed'";
	store_stmt_t *st = store_prepare(wr->w, q);
	store_bind_i64(st, 1, payment);
	store_status rc = store_step(st);
	store_reset(st);
	return rc == STORE_DONE ? 0 : fail_store(wr, "removing a proposal");
}

static int insert_alloc(writer *wr, int64_t payment, int64_t invoice, int64_t amount, date_t day, int rule,
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
	return rc == STORE_DONE ? 0 : fail_store(wr, "storing an allocation");
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
			rc = insert_alloc(wr, p->rid, inv[a->inv].rid, a->amount, p->date, d->rule, d->conf, state,
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
		rc = fail_store(wr, "storing a credit");
	return rc;
}

/* Stores the settled decisions in payment date order and reports them;
 * wr->w NULL = dry run. */
static int apply(const blocking_t *b, const matcher_opts *o, const batch_set *bs, const credit_set *cs,
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
			if (cancelled(o)) {
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
				rc = drop_proposals(wr, p->rid);
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
				rc = drop_proposals(wr, p->rid);
				res->changed++;
			}
			if (rc == 0 && v && !keep) {
				rc = insert_alloc(wr, p->rid, v->rid, p->amount, p->date, d->rule, d->conf,
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
			rc = insert_alloc(wr, u->payment, inv[u->inv].rid, u->amount, u->date, SCORE_RULE_CREDIT, 1.0,
			                  "applied", 0, 0);
	}
	for (size_t k = 0; k < ninv && rc == 0 && wr->w; k++)
		if (touched[k] && entity_invoice_refresh(wr->w, inv[k].rid) != 0)
			rc = fail_store(wr, "refreshing an invoice");
	free(touched);
	return rc;
}

static void versions(store_t *s, int64_t org, uint64_t v[3])
{
	store_refresh_versions(s);
	v[0] = store_version(s, org, TBL_PAYMENTS);
	v[1] = store_version(s, org, TBL_INVOICES);
	v[2] = store_version(s, org, TBL_ALLOCATIONS);
}

static int run_once(store_t *s, int64_t org, const matcher_opts *o, matcher_result *res, bool *retry, char *err,
                    size_t errlen)
{
	*retry = false;
	double t0 = clock_now_s();
	uint64_t v0[3], v1[3];
	versions(s, org, v0);
	store_conn_t *rc = store_read_begin(s);
	blocking_t *b = blocking_load(rc, org, o->cancel, err, errlen);
	credit_set cs = {0};
	batch_set bs = {0};
	if (b && ((o->score.use_aliases && alias_load(rc, org, b, err, errlen) != 0) ||
	          (o->score.use_credit && credit_load(rc, org, b, &cs, err, errlen) != 0))) {
		blocking_free(b);
		b = NULL;
	}
	store_read_end(rc);
	if (!b) {
		if (cancelled(o))
			snprintf(err, errlen, "cancelled; nothing was stored");
		return -1;
	}
	size_t npay, ninv;
	blocking_payments(b, &npay);
	blocking_invoices(b, &ninv);
	uint64_t total = 2 * (uint64_t)npay;
	memset(res, 0, sizeof *res);
	res->payments = (int64_t)npay;
	res->invoices = (int64_t)ninv;
	res->memory = blocking_bytes(b);
	double t1 = clock_now_s();
	res->load_seconds = t1 - t0;
	if (o->progress)
		o->progress(o->progress_ud, 0, total);
	decision *dec = xcalloc(npay ? npay : 1, sizeof *dec);
	int ret = -1;
	writer wr = {.org = org, .err = err, .errlen = errlen};
	uint64_t done = 0;
	if (!decide(b, o, &bs, dec, &done, total)) {
		snprintf(err, errlen, "cancelled; nothing was stored");
		goto out;
	}
	credit_decide(b, &cs);
	double t2 = clock_now_s();
	res->score_seconds = t2 - t1;
	if (!o->dry_run) {
		wr.w = store_write_begin(s, err, errlen);
		if (!wr.w)
			goto out;
		versions(s, org, v1);
		if (memcmp(v0, v1, sizeof v0) != 0) {
			store_write_rollback(wr.w);
			snprintf(err, errlen, "the data changed while matching; try again");
			*retry = true;
			goto out;
		}
	}
	if (apply(b, o, &bs, &cs, dec, &wr, res, total) != 0) {
		if (wr.w)
			store_write_rollback(wr.w);
		goto out;
	}
	if (wr.w && res->changed == 0) {
		store_write_rollback(wr.w); /* nothing to bump: caches stay valid */
	} else if (wr.w) {
		store_write_touch(wr.w, org, TBL_BIT(TBL_ALLOCATIONS) | TBL_BIT(TBL_INVOICES));
		if (store_write_commit(wr.w, err, errlen) != 0)
			goto out;
	}
	res->store_seconds = clock_now_s() - t2;
	if (o->progress)
		o->progress(o->progress_ud, total, total);
	ret = 0;
out:
	free(dec);
	batch_set_free(&bs);
	credit_free(&cs);
	blocking_free(b);
	return ret;
}

int matcher_run(store_t *s, int64_t org, const matcher_opts *o, matcher_result *res, char *err, size_t errlen)
{
	double t0 = clock_now_s();
	memset(res, 0, sizeof *res);
	char why[160];
	matcher_opts mo = *o;
	if (o->org_rules) {
		score_opts stored;
		store_conn_t *c = store_read_begin(s);
		int lrc = rules_load(c, org, &stored, err, errlen);
		store_read_end(c);
		if (lrc != 0)
			return -1;
		rules_merge(&stored, &o->score, &mo.score);
		o = &mo;
	}
	if (!score_opts_check(&o->score, why, sizeof why)) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	bool retry = true;
	int rc = -1;
	for (int attempt = 0; attempt < MAX_ATTEMPTS && retry; attempt++)
		rc = run_once(s, org, o, res, &retry, err, errlen);
	res->seconds = clock_now_s() - t0;
	return rc;
}

/* ---- decisions people take ---- */

typedef struct {
	int64_t rid, amount;
	date_t date;
	char cur[4]; /* "" the org's currency, else the ISO code */
} payment_row;

static matcher_status begin(store_t *s, writer *wr, char *err, size_t errlen)
{
	wr->err = err;
	wr->errlen = errlen;
	wr->w = store_write_begin(s, err, errlen);
	return wr->w ? MATCHER_OK : MATCHER_FAILED;
}

static matcher_status finish(writer *wr, matcher_status st)
{
	if (st != MATCHER_OK) {
		store_write_rollback(wr->w);
		return st;
	}
	store_write_touch(wr->w, wr->org, TBL_BIT(TBL_ALLOCATIONS) | TBL_BIT(TBL_INVOICES));
	return store_write_commit(wr->w, wr->err, wr->errlen) == 0 ? MATCHER_OK : MATCHER_FAILED;
}

static matcher_status find_payment(writer *wr, const char *id, size_t len, payment_row *p)
{
	static const char *q = "SELECT rid, amount, date, currency FROM payments WHERE org = ?1 AND id = ?2";
	store_stmt_t *st = store_prepare(wr->w, q);
	store_bind_i64(st, 1, wr->org);
	store_bind_text(st, 2, id, len);
	store_status rc = store_step(st);
	if (rc == STORE_ROW) {
		p->rid = store_col_i64(st, 0);
		p->amount = store_col_i64(st, 1);
		p->date = (date_t)store_col_i64(st, 2);
		size_t n;
		const char *c = store_col_text(st, 3, &n);
		snprintf(p->cur, sizeof p->cur, "%.*s", (int)(n < 3 ? n : 3), c);
	}
	store_reset(st);
	if (rc == STORE_ROW)
		return MATCHER_OK;
	if (rc == STORE_DONE) {
		snprintf(wr->err, wr->errlen, "unknown payment '%.*s'", (int)(len > 80 ? 80 : len), id);
		return MATCHER_NOT_FOUND;
	}
	fail_store(wr, "finding the payment");
	return MATCHER_FAILED;
}

static matcher_status refresh(writer *wr, int64_t invoice)
{
	if (entity_invoice_refresh(wr->w, invoice) == 0)
		return MATCHER_OK;
	fail_store(wr, "refreshing the invoice");
	return MATCHER_FAILED;
}

static void money_str(int64_t cents, char *buf)
{
	money_format(cents, buf);
}

matcher_status matcher_confirm(store_t *s, int64_t org, const char *payment_id, size_t len, char *err,
                               size_t errlen)
{
	/* A proposal is one decision: one invoice, or the set of a payment
	 * for several; confirming takes all of it. */
	static const char *q = "SELECT a.rid, a.invoice, a.amount + a.writeoff, i.outstanding, i.status, i.id, a.amount "
	                       "FROM allocations a JOIN invoices i ON i.rid = a.invoice "
	                       "WHERE a.payment = ?1 AND a.state = 'proposed' ORDER BY a.rid LIMIT 64";
	static const char *upd = "UPDATE allocations SET state = 'confirmed' WHERE payment = ?1 AND state = 'proposed'";
	writer wr = {.org = org};
	payment_row p;
	matcher_status st = begin(s, &wr, err, errlen);
	if (st != MATCHER_OK)
		return st;
	if ((st = find_payment(&wr, payment_id, len, &p)) != MATCHER_OK)
		return finish(&wr, st);
	store_stmt_t *sel = store_prepare(wr.w, q);
	store_bind_i64(sel, 1, p.rid);
	int64_t inv[64], cash = 0;
	size_t n = 0;
	bool full = true;
	store_status rc;
	while ((rc = store_step(sel)) == STORE_ROW && n < 64) {
		int64_t settles = store_col_i64(sel, 2), outstanding = store_col_i64(sel, 3);
		size_t sl, il;
		const char *status = store_col_text(sel, 4, &sl);
		const char *iid = store_col_text(sel, 5, &il);
		bool is_void = sl == 4 && !memcmp(status, "void", 4);
		if (is_void || settles > outstanding) {
			char a[MONEY_BUFSZ], b[MONEY_BUFSZ];
			money_str(settles, a);
			money_str(outstanding, b);
			if (is_void)
				snprintf(err, errlen, "invoice '%.*s' is void", (int)(il > 80 ? 80 : il), iid);
			else
				snprintf(err, errlen, "invoice '%.*s' has %s outstanding, less than the %s proposed",
				         (int)(il > 80 ? 80 : il), iid, b, a);
			store_reset(sel);
			return finish(&wr, MATCHER_CONFLICT);
		}
		full = full && settles == outstanding;
		cash += store_col_i64(sel, 6);
		inv[n++] = store_col_i64(sel, 1);
	}
	store_reset(sel);
	if (rc != STORE_DONE && rc != STORE_ROW)
		return finish(&wr, (fail_store(&wr, "finding the proposal"), MATCHER_FAILED));
	if (n == 0) {
		snprintf(err, errlen, "payment '%.*s' has no proposed match to confirm", (int)(len > 80 ? 80 : len),
		         payment_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	store_stmt_t *u = store_prepare(wr.w, upd);
	store_bind_i64(u, 1, p.rid);
	rc = store_step(u);
	store_reset(u);
	if (rc != STORE_DONE)
		return finish(&wr, (fail_store(&wr, "confirming"), MATCHER_FAILED));
	for (size_t i = 0; i < n && st == MATCHER_OK; i++)
		st = refresh(&wr, inv[i]);
	/* A person said this payer is this customer; an overpayment's rest is
	 * the customer's credit. */
	if (st == MATCHER_OK && alias_learn(wr.w, org, p.rid, inv[0]) != 0)
		st = (fail_store(&wr, "learning the payer's alias"), MATCHER_FAILED);
	if (st == MATCHER_OK && full && cash < p.amount && credit_record(wr.w, org, p.rid, inv[n - 1]) != 0)
		st = (fail_store(&wr, "storing the credit"), MATCHER_FAILED);
	return finish(&wr, st);
}

matcher_status matcher_reject(store_t *s, int64_t org, const char *payment_id, size_t len, char *err,
                              size_t errlen)
{
	static const char *sel = "SELECT DISTINCT invoice FROM allocations WHERE payment = ?1 AND state <> 'rejected'";
	static const char *upd = "UPDATE allocations SET state = 'rejected' WHERE payment = ?1 AND state <> 'rejected'";
	writer wr = {.org = org};
	payment_row p;
	matcher_status st = begin(s, &wr, err, errlen);
	if (st != MATCHER_OK)
		return st;
	if ((st = find_payment(&wr, payment_id, len, &p)) != MATCHER_OK)
		return finish(&wr, st);
	int64_t inv[64];
	size_t n = 0;
	store_stmt_t *q = store_prepare(wr.w, sel);
	store_bind_i64(q, 1, p.rid);
	store_status rc;
	while ((rc = store_step(q)) == STORE_ROW && n < 64)
		inv[n++] = store_col_i64(q, 0);
	store_reset(q);
	if (rc != STORE_DONE && rc != STORE_ROW)
		return finish(&wr, (fail_store(&wr, "finding the match"), MATCHER_FAILED));
	if (n == 0) {
		snprintf(err, errlen, "payment '%.*s' has no match to reject", (int)(len > 80 ? 80 : len), payment_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	/* A rejected payment holds no credit any more (match/credit.h). */
	const char *const stmts[] = {upd, "DELETE FROM payment_credits WHERE payment = ?1"};
	for (int k = 0; k < 2; k++) {
		q = store_prepare(wr.w, stmts[k]);
		store_bind_i64(q, 1, p.rid);
		rc = store_step(q);
		store_reset(q);
		if (rc != STORE_DONE)
			return finish(&wr, (fail_store(&wr, "rejecting"), MATCHER_FAILED));
	}
	for (size_t i = 0; i < n && st == MATCHER_OK; i++)
		st = refresh(&wr, inv[i]);
	return finish(&wr, st);
}

matcher_status matcher_manual(store_t *s, int64_t org, const char *payment_id, size_t plen, const char *invoice_id,
                              size_t ilen, int64_t amount, char *err, size_t errlen)
{
	static const char *qi = "SELECT rid, outstanding, status, currency FROM invoices WHERE org = ?1 AND id = ?2";
	static const char *qa = "SELECT coalesce(sum(amount), 0) FROM allocations "
	                        "WHERE payment = ?1 AND state IN ('applied', 'confirmed', 'manual')";
	int ip = (int)(plen > 80 ? 80 : plen), ii = (int)(ilen > 80 ? 80 : ilen);
	if (amount < 0) {
		snprintf(err, errlen, "the amount must be positive (or 0 for what is left of the payment)");
		return MATCHER_INVALID;
	}
	writer wr = {.org = org};
	payment_row p;
	matcher_status st = begin(s, &wr, err, errlen);
	if (st != MATCHER_OK)
		return st;
	if ((st = find_payment(&wr, payment_id, plen, &p)) != MATCHER_OK)
		return finish(&wr, st);
	store_stmt_t *q = store_prepare(wr.w, qi);
	store_bind_i64(q, 1, org);
	store_bind_text(q, 2, invoice_id, ilen);
	store_status rc = store_step(q);
	int64_t inv = 0, outstanding = 0;
	bool is_void = false, other_cur = false;
	if (rc == STORE_ROW) {
		size_t sl, cl;
		const char *status = store_col_text(q, 2, &sl);
		const char *cur = store_col_text(q, 3, &cl);
		inv = store_col_i64(q, 0);
		outstanding = store_col_i64(q, 1);
		is_void = sl == 4 && !memcmp(status, "void", 4);
		other_cur = cl != strlen(p.cur) || memcmp(cur, p.cur, cl) != 0;
	}
	store_reset(q);
	if (rc == STORE_DONE) {
		snprintf(err, errlen, "unknown invoice '%.*s'", ii, invoice_id);
		return finish(&wr, MATCHER_NOT_FOUND);
	}
	if (rc != STORE_ROW)
		return finish(&wr, (fail_store(&wr, "finding the invoice"), MATCHER_FAILED));
	if (is_void) {
		snprintf(err, errlen, "invoice '%.*s' is void", ii, invoice_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	if (other_cur) {
		/* Amounts in two currencies cannot settle each other. */
		snprintf(err, errlen, "invoice '%.*s' and payment '%.*s' are in different currencies", ii, invoice_id, ip,
		         payment_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	q = store_prepare(wr.w, qa);
	store_bind_i64(q, 1, p.rid);
	if (store_step(q) != STORE_ROW) {
		store_reset(q);
		return finish(&wr, (fail_store(&wr, "summing the payment's allocations"), MATCHER_FAILED));
	}
	int64_t left = p.amount - store_col_i64(q, 0);
	store_reset(q);
	if (amount == 0)
		amount = left;
	char a[MONEY_BUFSZ], b[MONEY_BUFSZ];
	money_str(amount, a);
	if (left <= 0) {
		snprintf(err, errlen, "payment '%.*s' is already fully allocated", ip, payment_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	if (amount > left) {
		money_str(left, b);
		snprintf(err, errlen, "amount %s exceeds the %s left of payment '%.*s'", a, b, ip, payment_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	if (amount > outstanding) {
		money_str(outstanding, b);
		snprintf(err, errlen, "amount %s exceeds the %s outstanding on invoice '%.*s'", a, b, ii, invoice_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	if (drop_proposals(&wr, p.rid) != 0 ||
	    insert_alloc(&wr, p.rid, inv, amount, p.date, SCORE_RULE_MANUAL, 1.0, "manual", 0, 0) != 0)
		return finish(&wr, MATCHER_FAILED);
	if (alias_learn(wr.w, org, p.rid, inv) != 0)
		return finish(&wr, (fail_store(&wr, "learning the payer's alias"), MATCHER_FAILED));
	return finish(&wr, refresh(&wr, inv));
}
