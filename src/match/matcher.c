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

#include <sys/resource.h>

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
	const blocking_t *b;
	const matcher_opts *o;
	decision *dec;
	const uint32_t *idx; /* the payments to score, NULL = all */
	size_t n;
	atomic_size_t next, done;
	atomic_int stop;
} pool;

/* Processor seconds of the whole process (every thread) so far. */
static double cpu_now(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
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
		if (atomic_load(&p->stop) || matcher_cancelled(p->o)) {
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
	return !atomic_load(&p.stop) && !matcher_cancelled(o);
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
	for (size_t i = 0; i < npay && !matcher_cancelled(o); i++) {
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
	double t0 = clock_now_s(), c0 = cpu_now();
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
		if (matcher_cancelled(o))
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
	double t1 = clock_now_s(), c1 = cpu_now();
	res->load_seconds = t1 - t0;
	res->load_cpu = c1 - c0;
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
	double t2 = clock_now_s(), c2 = cpu_now();
	res->score_seconds = t2 - t1;
	res->score_cpu = c2 - c1;
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
	if (matcher_apply(b, o, &bs, &cs, dec, &wr, res, total) != 0) {
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
	res->store_cpu = cpu_now() - c2;
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
