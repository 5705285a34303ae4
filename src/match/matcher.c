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
#include "match/habit.h"
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

/* An invoice a payment left unapplied had among its candidates: the
 * payment's verdict can only change when that invoice's amount does (or
 * when another invoice's new amount equals the payment's, see rescore). */
typedef struct {
	uint32_t inv, pay;
} watch;

typedef struct {
	watch *w;
	size_t n, cap;
} watch_list;

typedef struct {
	const blocking_t *b;
	const matcher_opts *o;
	decision *dec;
	const uint32_t *idx; /* the payments to score, NULL = all */
	size_t n;
	atomic_size_t next, done;
	atomic_int stop;
	pthread_mutex_t mu; /* guards watched */
	watch_list *watched;
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

static void watch_add(watch_list *l, uint32_t inv, uint32_t pay)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->w = xrealloc(l->w, l->cap * sizeof *l->w);
	}
	l->w[l->n++] = (watch){inv, pay};
}

static void score_range(pool *p, blocking_scratch *s, watch_list *wl, size_t from, size_t to)
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
		if (v != SCORE_APPLIED)
			for (size_t c = 0; c < s->ncand; c++)
				watch_add(wl, s->cand[c].inv, (uint32_t)i);
	}
}

static void *worker(void *arg)
{
	pool *p = arg;
	blocking_scratch s = {0};
	watch_list wl = {0};
	for (;;) {
		if (atomic_load(&p->stop) || matcher_cancelled(p->o)) {
			atomic_store(&p->stop, 1);
			break;
		}
		size_t from = atomic_fetch_add(&p->next, CHUNK);
		if (from >= p->n)
			break;
		size_t to = from + CHUNK < p->n ? from + CHUNK : p->n;
		score_range(p, &s, &wl, from, to);
		atomic_fetch_add(&p->done, to - from);
	}
	pthread_mutex_lock(&p->mu);
	watch_list *all = p->watched;
	if (all->n + wl.n > all->cap) {
		all->cap = all->n + wl.n;
		all->w = xrealloc(all->w, all->cap * sizeof *all->w);
	}
	if (wl.n)
		memcpy(all->w + all->n, wl.w, wl.n * sizeof *wl.w);
	all->n += wl.n;
	pthread_mutex_unlock(&p->mu);
	free(wl.w);
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
                      watch_list *watched, uint64_t *done, uint64_t total)
{
	pool p = {.b = b, .o = o, .dec = dec, .idx = idx, .n = n, .watched = watched};
	pthread_mutex_init(&p.mu, NULL);
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
	pthread_mutex_destroy(&p.mu);
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
/* What a round's settle changed: the invoices whose amounts it set, and
 * the payments it refused (their invoice was taken). */
typedef struct {
	uint8_t *inv_chg, *pay_dirty;
	uint32_t *chg;
	size_t nchg;
} changes;

static void changed(changes *ch, uint32_t inv)
{
	if (!ch->inv_chg[inv]) {
		ch->inv_chg[inv] = 1;
		ch->chg[ch->nchg++] = inv;
	}
}

static size_t settle(blocking_t *b, const score_opts *o, batch_set *bs, decision *dec, const uint32_t *idx, size_t n,
                     changes *ch)
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
				ch->pay_dirty[i] = 1;
				continue;
			}
			/* A little less than a named invoice's amount: fees, a discount. */
			if (d->rule == SCORE_RULE_REFERENCE || d->rule == SCORE_RULE_FUZZY)
				d->entry = batch_tolerance(b, o, i, d->inv, bs);
			blocking_set_outstanding(b, d->inv, d->entry ? 0 : inv[d->inv].outstanding - pay[i].amount);
			changed(ch, d->inv);
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

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, c = *(const int64_t *)y;
	return a < c ? -1 : a > c;
}

/* The payments left over whose verdict the last settle may have changed,
 * into left[] (ascending); the rest would be scored exactly as before.
 * A payment's candidates only lose amount as invoices are settled, and
 * the one way to gain a candidate is an invoice's new amount equal to the
 * payment's. Drops the watches of the payments returned (scoring them
 * again watches anew) and of those applied; clears ch. */
static size_t rescore(const blocking_t *b, const decision *dec, watch_list *wl, changes *ch, uint32_t *left)
{
	size_t npay, ninv;
	const blocking_payment *pay = blocking_payments(b, &npay);
	const blocking_invoice *inv = blocking_invoices(b, &ninv);
	int64_t *amt = xmalloc((ch->nchg ? ch->nchg : 1) * sizeof *amt);
	size_t na = 0;
	for (size_t k = 0; k < ch->nchg; k++)
		if (inv[ch->chg[k]].outstanding > 0)
			amt[na++] = inv[ch->chg[k]].outstanding;
	qsort(amt, na, sizeof *amt, cmp_i64);
	for (size_t k = 0; k < wl->n; k++)
		if (ch->inv_chg[wl->w[k].inv])
			ch->pay_dirty[wl->w[k].pay] = 1;
	size_t n = 0;
	for (size_t i = 0; i < npay; i++) {
		if (dec[i].verdict == SCORE_APPLIED)
			continue;
		if (!ch->pay_dirty[i] && na && pay[i].amount > 0 &&
		    bsearch(&pay[i].amount, amt, na, sizeof *amt, cmp_i64))
			ch->pay_dirty[i] = 1;
		if (ch->pay_dirty[i])
			left[n++] = (uint32_t)i;
	}
	size_t kept = 0;
	for (size_t k = 0; k < wl->n; k++)
		if (!ch->pay_dirty[wl->w[k].pay] && dec[wl->w[k].pay].verdict != SCORE_APPLIED)
			wl->w[kept++] = wl->w[k];
	wl->n = kept;
	memset(ch->pay_dirty, 0, npay);
	for (size_t k = 0; k < ch->nchg; k++)
		ch->inv_chg[ch->chg[k]] = 0;
	ch->nchg = 0;
	free(amt);
	return n;
}

/* Decides every payment. Applying a payment changes its invoice's
 * outstanding amount, which may make another payment's amount equal to it
 * (the rest of a split payment whose reference says nothing): so the
 * payments left over that this may concern are scored again against the
 * new amounts (see rescore), until a round applies nothing more. A re-run
 * then finds nothing new either. */
static bool decide(blocking_t *b, const matcher_opts *o, batch_set *bs, decision *dec, uint64_t *done,
                   uint64_t total)
{
	size_t npay, ninv;
	blocking_payments(b, &npay);
	blocking_invoices(b, &ninv);
	watch_list wl = {0};
	changes ch = {xcalloc(ninv ? ninv : 1, 1), xcalloc(npay ? npay : 1, 1),
	              xmalloc((ninv ? ninv : 1) * sizeof *ch.chg), 0};
	bool ok = score_all(b, o, dec, NULL, npay, &wl, done, total);
	size_t applied = ok ? settle(b, &o->score, bs, dec, NULL, npay, &ch) : 0;
	uint32_t *left = xmalloc((npay ? npay : 1) * sizeof *left);
	for (int round = 1; round < MAX_ROUNDS && applied > 0 && ok; round++) {
		size_t n = rescore(b, dec, &wl, &ch, left);
		if (!n)
			break;
		ok = score_all(b, o, dec, left, n, &wl, done, total);
		applied = ok ? settle(b, &o->score, bs, dec, left, n, &ch) : 0;
	}
	free(left);
	free(wl.w);
	free(ch.inv_chg);
	free(ch.pay_dirty);
	free(ch.chg);
	if (ok)
		decide_batches(b, o, bs, dec);
	return ok;
}

/* Payment i scored again, with the tie order's distances taken from the
 * customers' habits when h is not NULL: its verdict, *best and *conf. */
static score_verdict rescore_one(const blocking_t *b, const score_opts *o, const habit_set *h, size_t i,
                                 blocking_scratch *s, uint32_t *best, uint8_t *rule, double *conf)
{
	size_t npay, ninv, k, rival;
	const blocking_payment *pay = blocking_payments(b, &npay);
	const blocking_invoice *inv = blocking_invoices(b, &ninv);
	blocking_candidates(b, o, i, s);
	if (h)
		for (size_t c = 0; c < s->ncand; c++)
			s->cand[c].due_gap = habit_gap(h, inv[s->cand[c].inv].cust, pay[i].date, inv[s->cand[c].inv].due);
	score_verdict v = score_decide(o, s->cand, s->ncand, s->closed_named, &k, conf, &rival);
	bool tied = k < s->ncand && (s->cand[k].flags & SCORE_AMBIGUOUS);
	*best = tied ? s->cand[k].inv : BLOCKING_NONE;
	*rule = tied ? s->cand[k].rule : SCORE_RULE_NONE;
	return v;
}

/* A proposal whose best candidate ties with another (several open
 * invoices of one amount for one customer, say) went to the invoice whose
 * due date is nearest the payment: the newest one, for a customer who
 * habitually pays a month late. Those proposals are picked again by the
 * customers' habits (match/habit.h), learned from the stored matches by
 * reference and this run's. Only proposals change, and only which of the
 * tied invoices they name: never a verdict or a confidence. */
static int repick_ties(store_t *st, int64_t org, const blocking_t *b, const matcher_opts *o, decision *dec,
                       char *err, size_t errlen)
{
	size_t npay, ninv, nt = 0;
	const blocking_payment *pay = blocking_payments(b, &npay);
	const blocking_invoice *inv = blocking_invoices(b, &ninv);
	uint32_t *tied = xmalloc((npay ? npay : 1) * sizeof *tied);
	blocking_scratch s = {0};
	for (size_t i = 0; i < npay; i++) {
		uint32_t k;
		uint8_t rule;
		double conf;
		if (dec[i].verdict != SCORE_PROPOSED || dec[i].entry)
			continue;
		if (rescore_one(b, &o->score, NULL, i, &s, &k, &rule, &conf) == SCORE_PROPOSED && k == dec[i].inv &&
		    rule == dec[i].rule && (float)conf == dec[i].conf)
			tied[nt++] = (uint32_t)i;
	}
	int rc = 0;
	habit_set h = {0};
	if (nt) {
		store_conn_t *c = store_read_begin(st);
		rc = habit_load(c, org, b, &h, err, errlen);
		store_read_end(c);
	}
	if (nt && rc == 0) {
		for (size_t i = 0; i < npay; i++)
			if (dec[i].verdict == SCORE_APPLIED && dec[i].rule == SCORE_RULE_REFERENCE)
				habit_add(&h, inv[dec[i].inv].cust, (int32_t)(pay[i].date - inv[dec[i].inv].due));
		for (size_t t = 0; t < nt; t++) {
			uint32_t k;
			uint8_t rule;
			double conf;
			decision *d = &dec[tied[t]];
			if (rescore_one(b, &o->score, &h, tied[t], &s, &k, &rule, &conf) == SCORE_PROPOSED &&
			    k != BLOCKING_NONE && (float)conf == d->conf) {
				d->inv = k;
				d->rule = rule;
			}
		}
	}
	habit_free(&h);
	blocking_scratch_free(&s);
	free(tied);
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
	if (repick_ties(s, org, b, o, dec, err, errlen) != 0)
		goto out;
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
