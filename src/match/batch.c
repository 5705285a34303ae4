#include "match/batch.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* DESIGN
 * The amount search is a depth-first walk over sets in index order (the
 * invoices due nearest the payment first): the first set found at a given
 * distance from the target is the preferred one, later ones at the same
 * distance only count as ties. Amounts are positive, so a branch whose
 * total passed the target plus slack is cut; a budget of visited sets
 * bounds the time whatever the data (24 invoices and sets of 5 are 55,000
 * sets at most).
 *
 * Confidence follows the single-invoice rules' scale: a set that is the
 * only one adding up, from a payer named like one customer, is applied
 * (0.90, as rule 3); ties and exhausted searches are proposed, never
 * applied (issue 21: never settle the wrong invoice). An exact total is
 * evidence only when it is rare: a customer with hundreds of open invoices
 * has some set adding up to almost any amount, and some invoice a fee
 * above it. So the walk also counts the sets whose totals fall near the
 * payment without reaching it, which estimates how many would reach it by
 * coincidence (scaled up to the whole window when it holds more invoices
 * than the walk takes); above a bound the set is proposed, not applied. */

static void visit(const batch_query *q, batch_found *r, uint32_t *cur, int depth, size_t from, int64_t sum,
                  int64_t *best)
{
	for (size_t j = from; j < q->n; j++) {
		if (r->steps >= q->budget) {
			r->exhausted = true;
			return;
		}
		r->steps++;
		if (q->amount[j] <= 0)
			continue;
		int64_t s2 = sum + q->amount[j];
		if (s2 > q->target + (q->slack > q->near ? q->slack : q->near))
			continue;
		cur[depth] = (uint32_t)j;
		int k = depth + 1;
		if (k >= q->kmin && q->near && s2 != q->target && s2 >= q->target - q->near && s2 <= q->target + q->near)
			r->near++;
		if (k >= q->kmin && s2 >= q->target && s2 <= q->target + q->slack) {
			int64_t diff = s2 - q->target;
			if (!r->k || diff < *best) {
				*best = diff;
				r->k = k;
				r->sum = s2;
				r->ties = 0;
				memcpy(r->pick, cur, (size_t)k * sizeof *cur);
			} else if (diff == *best) {
				r->ties++;
			}
		}
		if (k < q->kmax)
			visit(q, r, cur, k, j + 1, s2, best);
		if (r->exhausted)
			return;
	}
}

int batch_subset(const batch_query *q, batch_found *r)
{
	memset(r, 0, sizeof *r);
	int kmax = q->kmax > BATCH_KMAX ? BATCH_KMAX : q->kmax;
	if (q->target <= 0 || q->kmin < 1 || q->kmin > kmax || q->slack < 0 || q->near < 0)
		return 0;
	batch_query qq = *q;
	qq.kmax = kmax;
	qq.n = q->n > BATCH_SCAN ? BATCH_SCAN : q->n;
	uint32_t cur[BATCH_KMAX];
	int64_t best = 0;
	visit(&qq, r, cur, 0, 0, 0, &best);
	return r->k;
}

void batch_set_free(batch_set *bs)
{
	free(bs->a);
	free(bs->e);
	memset(bs, 0, sizeof *bs);
}

bool batch_within_tolerance(const score_opts *o, int64_t diff, int64_t due)
{
	return diff >= 0 && diff <= o->tol_abs && (double)diff <= o->tol_pct * (double)due + 1e-9;
}

const char *batch_reason_name(int reason)
{
	return reason == BATCH_REASON_FEES ? "fees" : reason == BATCH_REASON_DISCOUNT ? "discount" : "";
}

/* A reference that says so is a discount taken; else the bank's fees. */
static int reason_of(const blocking_payment *p)
{
	static const char *const words[] = {"discount", "skonto", "rabatt", "escompte", "sconto", "descuento", NULL};
	char low[256];
	size_t n = p->ref_len < sizeof low - 1 ? p->ref_len : sizeof low - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)p->ref[i]);
	low[n] = '\0';
	for (size_t i = 0; words[i]; i++)
		if (strstr(low, words[i]))
			return BATCH_REASON_DISCOUNT;
	return BATCH_REASON_FEES;
}

static uint32_t new_entry(batch_set *bs, int reason)
{
	if (bs->ne == bs->cape) {
		bs->cape = bs->cape ? bs->cape * 2 : 256;
		bs->e = xrealloc(bs->e, bs->cape * sizeof *bs->e);
	}
	bs->e[bs->ne] = (batch_entry){.first = (uint32_t)bs->n, .reason = (uint8_t)reason};
	return (uint32_t)++bs->ne;
}

static void add_alloc(batch_set *bs, uint32_t inv, int64_t amount, int64_t writeoff)
{
	if (bs->n == bs->cap) {
		bs->cap = bs->cap ? bs->cap * 2 : 1024;
		bs->a = xrealloc(bs->a, bs->cap * sizeof *bs->a);
	}
	bs->a[bs->n++] = (batch_alloc){inv, amount, writeoff};
	bs->e[bs->ne - 1].n++;
}

/* Allocates payment amount over invoices inv[0..n) (oldest first): each
 * in full while the amount lasts; a shortfall within the tolerance is
 * written off the newest ones, a surplus left as credit. */
static uint32_t allocate(const blocking_t *b, const score_opts *o, const blocking_payment *p, const uint32_t *inv,
                         size_t n, bool writeoff, batch_set *bs)
{
	size_t ninv;
	const blocking_invoice *v = blocking_invoices(b, &ninv);
	int64_t due = 0;
	for (size_t k = 0; k < n; k++)
		due += v[inv[k]].outstanding;
	int64_t shortfall = due > p->amount ? due - p->amount : 0;
	if (shortfall && !(writeoff && batch_within_tolerance(o, shortfall, due)))
		writeoff = false;
	uint32_t e = new_entry(bs, writeoff && shortfall ? reason_of(p) : BATCH_REASON_NONE);
	int64_t left = p->amount, off = writeoff ? shortfall : 0;
	/* Write-offs come off the newest invoices: the oldest are paid in full. */
	int64_t *wo = xcalloc(n ? n : 1, sizeof *wo);
	for (size_t k = n; k-- > 0 && off > 0;) {
		int64_t t = v[inv[k]].outstanding - 1 < off ? v[inv[k]].outstanding - 1 : off;
		wo[k] = t > 0 ? t : 0;
		off -= wo[k];
	}
	for (size_t k = 0; k < n && left > 0; k++) {
		int64_t a = v[inv[k]].outstanding - wo[k];
		a = a < left ? a : left;
		add_alloc(bs, inv[k], a, a + wo[k] <= v[inv[k]].outstanding ? wo[k] : 0);
		left -= a;
	}
	free(wo);
	bs->e[e - 1].credit = left;
	return e;
}

static int by_issue(const void *x, const void *y, void *ctx)
{
	const blocking_invoice *v = ctx;
	uint32_t a = *(const uint32_t *)x, c = *(const uint32_t *)y;
	if (v[a].issue != v[c].issue)
		return v[a].issue < v[c].issue ? -1 : 1;
	return a < c ? -1 : a > c;
}

/* Below auto, whatever the evidence. */
static double held(const score_opts *o, double conf)
{
	double c = conf * o->ambiguity_factor;
	return c < o->auto_threshold ? c : o->auto_threshold - 0.01;
}

/* The invoices the reference names exactly: all of them settled at once,
 * a surplus as credit, a shortfall written off or held for review. */
static batch_decision by_reference(const blocking_t *b, const score_opts *o, const blocking_payment *p,
                                   blocking_scratch *s, batch_set *bs)
{
	batch_decision d = {0};
	size_t ninv;
	const blocking_invoice *v = blocking_invoices(b, &ninv);
	uint32_t named[16];
	size_t n = 0;
	bool agree = true, clash = false, same = true;
	int64_t due = 0;
	for (size_t k = 0; k < s->ncand; k++) {
		const score_cand *c = &s->cand[k];
		if (!(c->flags & SCORE_EXACT_REF) || v[c->inv].outstanding <= 0)
			continue;
		if (c->flags & SCORE_CUST_CLASH) {
			clash = true;
			continue;
		}
		if (n == 16)
			return d; /* a list of numbers, not a remittance */
		agree = agree && (c->flags & SCORE_CUST_AGREE);
		same = same && (!n || v[c->inv].cust == v[named[0]].cust);
		due += v[c->inv].outstanding;
		named[n++] = c->inv;
	}
	if (!n || (n == 1 && p->amount <= due))
		return d; /* one invoice, partly paid: the single-invoice rules' case */
	qsort_r(named, n, sizeof *named, by_issue, (void *)v);
	bool exact = p->amount == due, over = p->amount > due;
	bool within = !over && batch_within_tolerance(o, due - p->amount, due);
	if (over && !o->use_credit)
		return d;
	if (!over && !exact && !(within && o->use_writeoff) && n < 2)
		return d;
	double conf = agree && same ? 0.97 : same ? 0.85 : 0.6;
	if (over)
		conf = agree && same && (double)(p->amount - due) <= o->overpay_max * (double)p->amount ? 0.9 : 0.6;
	else if (!exact)
		conf = within && o->use_writeoff ? conf - 0.05 : 0.6; /* a part of several invoices: which ones? */
	if (clash || s->closed_named)
		conf = held(o, conf); /* it also names someone else's, or a paid one */
	d.rule = n >= 2 ? SCORE_RULE_BATCH_REFERENCE : SCORE_RULE_REFERENCE;
	d.conf = conf;
	d.entry = allocate(b, o, p, named, n, o->use_writeoff, bs);
	return d;
}

/* A search over one customer's open invoices in the payment's window:
 * sets of 2..batch_max adding up exactly, else (write-offs on) one invoice
 * a little above the payment. *single says which; chance is how many such
 * sets (or invoices) the customer's amounts would give by coincidence. */
typedef struct {
	uint32_t idx[BATCH_SCAN];
	int64_t amt[BATCH_SCAN];
	batch_found f;
	bool single;
	size_t window;  /* the customer's open invoices in the payment's window */
	double chance;  /* expected sets adding up by coincidence */
} amount_search;

/* How far an invoice's due date is from the payment: days early count
 * twice (paying well before the due date is rarer than paying late). */
static int64_t due_cost(const blocking_payment *p, const blocking_invoice *w)
{
	int64_t g = (int64_t)p->date - (int64_t)w->due;
	return g >= 0 ? g : -2 * g;
}

/* Sets of 2..kmax among n, summed over the sizes. */
static double sets_of(size_t n, int kmax)
{
	double all = 0, c = (double)n;
	for (int k = 2; k <= kmax && (size_t)k <= n; k++) {
		c = c * (double)(n - (size_t)k + 1) / k;
		all += c;
	}
	return all;
}

static bool search_customer(const blocking_t *b, const score_opts *o, const blocking_payment *p, uint32_t cust,
                            amount_search *a)
{
	size_t ninv, n = 0;
	const blocking_invoice *v = blocking_invoices(b, &ninv);
	blocking_cust_view cv = blocking_customer_view(b, cust);
	int64_t cost[BATCH_SCAN];
	/* Totals within this of the payment tell how densely the customer's
	 * amounts cover it. */
	int64_t near = p->amount / 50 > 1000 ? p->amount / 50 : 1000;
	int64_t near1w = p->amount / 5 > 5000 ? p->amount / 5 : 5000; /* wider: single amounts are sparser */
	size_t near1 = 0, single = SIZE_MAX, single_ties = 0;
	a->window = 0;
	/* Invoices issued before the payment's window less the customer's
	 * longest terms are all due before it: skipped unread. */
	date_t last = (date_t)(p->date + o->days_before_issue);
	for (size_t k = blocking_view_from(&cv, (date_t)(p->date - o->days_after_due - cv.span));
	     k < cv.n && cv.issue[k] <= last; k++) {
		if (cv.out[k] <= 0)
			continue;
		const blocking_invoice *w = &v[cv.inv[k]];
		if (strncmp(w->cur, p->cur, sizeof w->cur) != 0)
			continue;
		if (p->date < (date_t)(w->issue - o->days_before_issue) || p->date > (date_t)(w->due + o->days_after_due))
			continue;
		if (p->cid && w->cid != p->cid)
			continue;
		a->window++;
		int64_t out = w->outstanding, c = due_cost(p, w);
		/* One invoice a little above the payment: the closest, then the
		 * nearest due; the others within the tolerance make it a guess.
		 * The invoices near the payment but not within it say how likely
		 * one would be within it by chance. */
		bool fits = out > p->amount && batch_within_tolerance(o, out - p->amount, out);
		if (!fits && out != p->amount && out >= p->amount - near1w && out <= p->amount + near1w)
			near1++;
		if (fits) {
			if (single == SIZE_MAX) {
				single = cv.inv[k];
			} else {
				single_ties++;
				if (out < v[single].outstanding ||
				    (out == v[single].outstanding && c < due_cost(p, &v[single])))
					single = cv.inv[k];
			}
		}
		/* The BATCH_SCAN invoices due nearest the payment, nearest first
		 * (the older first among equals): a customer pays the invoices
		 * of the time, not the oldest it left open. */
		size_t at = n < BATCH_SCAN ? n : BATCH_SCAN;
		while (at > 0 && cost[at - 1] > c)
			at--;
		if (at == BATCH_SCAN)
			continue;
		size_t keep = n < BATCH_SCAN ? n : BATCH_SCAN - 1;
		memmove(&cost[at + 1], &cost[at], (keep - at) * sizeof *cost);
		memmove(&a->idx[at + 1], &a->idx[at], (keep - at) * sizeof *a->idx);
		cost[at] = c;
		a->idx[at] = cv.inv[k];
		n = keep + 1;
	}
	a->single = false;
	a->chance = 0;
	memset(&a->f, 0, sizeof a->f);
	if (!n)
		return false;
	for (size_t k = 0; k < n; k++)
		a->amt[k] = v[a->idx[k]].outstanding;
	batch_query q = {a->amt, n, p->amount, 0, 2, o->batch_max, BATCH_BUDGET, near};
	if (o->use_batch_amount && batch_subset(&q, &a->f)) {
		/* Totals near the payment per cent, times the sets of the whole
		 * window over those searched. */
		a->chance = (double)a->f.near / (double)(2 * near) * sets_of(a->window, o->batch_max) /
		            sets_of(n, o->batch_max);
		return true;
	}
	if (!o->use_writeoff || single == SIZE_MAX)
		return false;
	/* One invoice, a little less paid (fees, a discount). */
	a->idx[0] = (uint32_t)single;
	a->amt[0] = v[single].outstanding;
	a->f = (batch_found){.pick = {0}, .k = 1, .sum = a->amt[0], .ties = single_ties};
	/* Amounts near the payment per cent, times the cents a tolerance spans. */
	int64_t span = (int64_t)(o->tol_pct * (double)p->amount);
	span = span < o->tol_abs ? span : o->tol_abs;
	a->chance = (double)near1 / (double)(2 * near1w - span) * (double)span;
	a->single = true;
	return true;
}

#define AMOUNT_CUSTOMERS 8 /* look-alike customers searched, at most */
/* Coincidences expected (amount_search.chance) up to which a decision by
 * amount alone is applied: a set of several invoices, one invoice less a
 * fee; and up to which that one invoice is still proposed. Measured on
 * generated data with batch payments, partial payments, fees and
 * overpayments (bench/match.sh): above them most such matches were wrong. */
#define CHANCE_SET 1.0
#define CHANCE_ONE 0.02
#define CHANCE_ONE_REVIEW 0.1

/* The payer's open invoices whose amounts add up to the payment. The
 * customers named about as well as the best are all searched: a set found
 * for one of them alone is applied; sets for several are only proposed. */
static batch_decision by_amount(const blocking_t *b, const score_opts *o, const blocking_payment *p,
                                blocking_scratch *s, batch_set *bs)
{
	batch_decision d = {0};
	if (p->cid == BLOCKING_CID_UNKNOWN)
		return d; /* its customer id is on no open invoice */
	blocking_payer_customers(b, o, s);
	size_t nc = 0;
	while (nc < s->ncust && s->cust_sim[nc] >= s->cust_sim[0] - 0.05f)
		nc++;
	if (!nc || nc > AMOUNT_CUSTOMERS)
		return d; /* nobody, or a name that fits many */
	amount_search a, first = {.single = false};
	size_t found = 0;
	for (size_t j = 0; j < nc; j++)
		if (search_customer(b, o, p, s->cust[j], &a) && found++ == 0)
			first = a;
	if (!found)
		return d;
	/* One customer of those named alike has a set: look-alikes ("Ong &
	 * Sons S.A.", "Ong & Sons PLC") rarely both have one to the cent. */
	bool unique = found == 1 && !first.f.ties && !first.f.exhausted;
	double conf = (first.single ? 0.85 : 0.90) + (p->cid ? 0.02 : 0);
	/* A payment with no reference is only as good a match for a set as
	 * the set is rare: among many open invoices, some set adds up to
	 * almost any amount, and some invoice lies a fee above it. */
	double most = first.single ? CHANCE_ONE : CHANCE_SET;
	if (first.chance > (first.single ? CHANCE_ONE_REVIEW : CHANCE_SET) && (first.single || !unique))
		return d; /* a coincidence as likely as not: not even worth a look */
	if (!unique || first.chance > most)
		conf = held(o, conf);
	uint32_t set[BATCH_KMAX];
	for (int k = 0; k < first.f.k; k++)
		set[k] = first.idx[first.f.pick[k]];
	qsort_r(set, (size_t)first.f.k, sizeof *set, by_issue, (void *)blocking_invoices(b, &(size_t){0}));
	d.rule = first.single ? SCORE_RULE_AMOUNT_CUSTOMER : SCORE_RULE_BATCH_AMOUNT;
	d.conf = conf;
	d.entry = allocate(b, o, p, set, (size_t)first.f.k, true, bs);
	return d;
}

batch_decision batch_payment(const blocking_t *b, const score_opts *o, size_t i, blocking_scratch *s, batch_set *bs)
{
	batch_decision d = {0};
	size_t npay;
	const blocking_payment *p = &blocking_payments(b, &npay)[i];
	if (p->amount <= 0)
		return d;
	blocking_candidates(b, o, i, s);
	if (o->use_batch_reference || o->use_credit || o->use_writeoff) {
		d = by_reference(b, o, p, s, bs);
		if (d.rule)
			return d;
	}
	/* A reference naming something, or a candidate worth a look: not a
	 * payment for a set found by its amount. */
	for (size_t k = 0; k < s->ncand; k++)
		if ((s->cand[k].flags & (SCORE_EXACT_REF | SCORE_LOOSE_REF)) || s->cand[k].conf >= o->review_threshold ||
		    s->cand[k].ref_dist <= o->max_ref_distance)
			return d;
	if (!o->use_batch_amount && !o->use_writeoff)
		return d;
	return by_amount(b, o, p, s, bs);
}

bool batch_settle(blocking_t *b, const batch_set *bs, uint32_t entry)
{
	size_t ninv;
	const blocking_invoice *v = blocking_invoices(b, &ninv);
	const batch_entry *e = &bs->e[entry - 1];
	for (uint32_t k = e->first; k < e->first + e->n; k++) {
		/* The same invoice never appears twice in one entry. */
		if (v[bs->a[k].inv].outstanding < bs->a[k].amount + bs->a[k].writeoff)
			return false;
	}
	for (uint32_t k = e->first; k < e->first + e->n; k++) {
		const batch_alloc *a = &bs->a[k];
		blocking_set_outstanding(b, a->inv, v[a->inv].outstanding - a->amount - a->writeoff);
	}
	return true;
}

uint32_t batch_tolerance(const blocking_t *b, const score_opts *o, size_t payment, uint32_t k, batch_set *bs)
{
	size_t npay, ninv;
	const blocking_payment *p = &blocking_payments(b, &npay)[payment];
	const blocking_invoice *v = &blocking_invoices(b, &ninv)[k];
	int64_t rest = v->outstanding - p->amount;
	if (!o->use_writeoff || rest <= 0 || !batch_within_tolerance(o, rest, v->outstanding))
		return 0;
	uint32_t e = new_entry(bs, reason_of(p));
	add_alloc(bs, k, p->amount, rest);
	return e;
}
