#include "match/blocking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/mem.h"
#include "match/blocking_int.h"
#include "match/alias.h"
#include "match/normalize.h"

/* Candidate generation over the loaded data (match/blocking_load.c):
 * see the DESIGN note there. */

void blocking_scratch_free(blocking_scratch *s)
{
	score_payment_free(&s->pay);
	free(s->cand);
	free(s->cust);
	free(s->cust_sim);
	free(s->sims);
	memset(s, 0, sizeof *s);
}

#define SIM_CACHE 65536 /* per thread: 1 MiB */

struct blocking_sim {
	uint64_t key;
	float sim;
};

/* Payers repeat (a customer pays many invoices, written a few ways), so
 * similarities are cached per (payer text, customer) across payments. A
 * learned alias is looked at first: it depends on the payment's account
 * too, so it is never cached under the payer's text. */
static double name_sim(const blocking_t *b, blocking_scratch *s, uint32_t cust)
{
	if (blocking_is_alias(b, s, cust))
		return 1.0;
	if (!s->sims)
		s->sims = xcalloc(SIM_CACHE, sizeof *s->sims);
	uint64_t key = mix(s->payer_hash + 0x9E3779B97F4A7C15ull * (cust + 1)) | 1;
	struct blocking_sim *e = &s->sims[key & (SIM_CACHE - 1)];
	if (e->key == key)
		return s->alias_account ? alias_beaten(e->sim) : e->sim;
	const customer *c = &b->cust[cust];
	/* Below 0.5 only "clash" matters, so the ratio may stop early. */
	double sim = score_name_sim(s->pay.payer.p, s->pay.payer.len, c->norm, c->norm_len, 0.5);
	e->key = key;
	e->sim = (float)sim;
	return s->alias_account ? alias_beaten(e->sim) : e->sim;
}

static int cid_rel(uint32_t pay_cid, uint32_t inv_cid)
{
	if (!pay_cid || !inv_cid)
		return 0;
	return pay_cid == inv_cid ? 1 : -1;
}

static void add(const blocking_t *b, const score_opts *o, blocking_scratch *s, uint32_t pay_cid, uint32_t k)
{
	/* Matching never crosses currencies: 95.00 EUR does not pay 95.00 USD. */
	if (strncmp(b->inv[k].cur, s->cur, sizeof s->cur) != 0)
		return;
	for (size_t i = 0; i < s->ncand; i++)
		if (s->cand[i].inv == k)
			return;
	GROW(s->cand, s->ncand, s->cap);
	const blocking_invoice *v = &b->inv[k];
	score_invoice si = {v->canon, v->canon_len, v->outstanding, v->issue, v->due, v->key, v->key_len};
	score_cand *c = &s->cand[s->ncand++];
	c->inv = k;
	score_pair(o, &s->pay, &si, name_sim(b, s, v->cust), cid_rel(pay_cid, v->cid), c);
}

/* An invoice of the right amount holds rule 2 or 3 only when the customer
 * agrees: others are not worth scoring. */
static void add_agreeing(const blocking_t *b, const score_opts *o, blocking_scratch *s, uint32_t pay_cid, uint32_t k)
{
	int rel = cid_rel(pay_cid, b->inv[k].cid);
	if (rel > 0 || (rel == 0 && name_sim(b, s, b->inv[k].cust) >= o->name_threshold))
		add(b, o, s, pay_cid, k);
}

#define TOKEN_LIST_MAX 5000 /* a token this common names no one in particular */

static void similar_customers(const blocking_t *b, const score_opts *o, blocking_scratch *s)
{
	s->ncust = 0;
	slice_t tok[16];
	size_t nt = norm_tokens(s->pay.payer.p, s->pay.payer.len, tok, 16);
	nt = nt < 16 ? nt : 16;
	/* The two rarest tokens of the payer: a customer similar enough shares
	 * one of them, and common words ("trading") would list everybody. */
	uint32_t p0 = BLOCKING_NONE, p1 = BLOCKING_NONE;
	uint32_t n0 = 0, n1 = 0;
	for (size_t k = 0; k < nt; k++) {
		uint32_t t = map_get(&b->tokmap, XXH3_64bits(tok[k].p, tok[k].len));
		if (t == BLOCKING_NONE || t == p0 || t == p1)
			continue;
		uint32_t n = b->tok_start[t + 1] - b->tok_start[t];
		if (n > TOKEN_LIST_MAX)
			continue;
		if (p0 == BLOCKING_NONE || n < n0) {
			p1 = p0, n1 = n0;
			p0 = t, n0 = n;
		} else if (p1 == BLOCKING_NONE || n < n1) {
			p1 = t, n1 = n;
		}
	}
	uint32_t pick[2] = {p0, p1};
	for (int j = 0; j < 2 && pick[j] != BLOCKING_NONE; j++) {
		for (uint32_t e = b->tok_start[pick[j]]; e < b->tok_start[pick[j] + 1]; e++) {
			uint32_t cu = b->tok_cust[e];
			double sim = name_sim(b, s, cu);
			if (sim < o->name_threshold)
				continue;
			bool dup = false;
			for (size_t k = 0; k < s->ncust && !dup; k++)
				dup = s->cust[k] == cu;
			if (dup)
				continue;
			if (s->ncust == s->cap_cust) {
				s->cap_cust = s->cap_cust ? s->cap_cust * 2 : 16;
				s->cust = xrealloc(s->cust, s->cap_cust * sizeof *s->cust);
				s->cust_sim = xrealloc(s->cust_sim, s->cap_cust * sizeof *s->cust_sim);
			}
			s->cust[s->ncust] = cu;
			s->cust_sim[s->ncust++] = (float)sim;
		}
	}
}

/* Partial payments with a mistyped reference: the recent invoices of the
 * payer's customers whose number is near. Those the payment does not fit
 * into (it overpays them) are candidates too: a number as near to one of
 * them makes the one it fits a guess (score_decide). */
static void fallback(const blocking_t *b, const score_opts *o, blocking_scratch *s, uint32_t cid)
{
	similar_customers(b, o, s);
	/* The best-named customers only: "Tan, Ng & Partners" resembles every
	 * "X, Y & Partners" above the threshold, but itself best. */
	float top = 0;
	for (size_t j = 0; j < s->ncust; j++)
		top = s->cust_sim[j] > top ? s->cust_sim[j] : top;
	size_t kept = 0;
	for (size_t j = 0; j < s->ncust; j++)
		if (s->cust_sim[j] >= top - 0.05f) {
			s->cust[kept] = s->cust[j];
			s->cust_sim[kept++] = s->cust_sim[j];
		}
	s->ncust = kept;
	if (s->ncust > FALLBACK_CUSTOMERS)
		return; /* the payer's name picks no one in particular */
	date_t hi = s->pay.date + o->days_before_issue, lo = s->pay.date - FALLBACK_DAYS;
	size_t had = s->ncand;
	/* The second pass, over the invoices the payment would overpay (by
	 * less than their amount), only when the first found one it fits into,
	 * and only for a number as near as that one's; one is enough. */
	int near = o->max_ref_distance;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (s->ncand == had)
				return;
			near = 0;
			for (size_t k = had; k < s->ncand; k++)
				near = s->cand[k].ref_dist > near ? s->cand[k].ref_dist : near;
		}
		size_t budget = FALLBACK_BUDGET;
		for (size_t j = 0; j < s->ncust && budget; j++) {
			blocking_cust_view cv = blocking_customer_view(b, s->cust[j]);
			for (size_t e = blocking_view_from(&cv, hi + 1); e-- > 0 && budget; budget--) {
				if (cv.issue[e] < lo)
					break;
				if (pass == 0 ? cv.out[e] <= s->pay.amount
				              : cv.out[e] <= 0 || cv.out[e] > s->pay.amount || cv.out[e] < s->pay.amount / 2)
					continue;
				const blocking_invoice *v = &b->inv[cv.inv[e]];
				if (score_ref_distance(&s->pay, v->canon, v->canon_len, near) > near)
					continue;
				add(b, o, s, cid, cv.inv[e]);
				if (pass == 1)
					return;
			}
		}
	}
}

void blocking_candidates(const blocking_t *b, const score_opts *o, size_t i, blocking_scratch *s)
{
	const blocking_payment *p = &b->pay[i];
	s->ncand = 0;
	memcpy(s->cur, p->cur, sizeof s->cur);
	size_t d = (size_t)o->max_ref_distance;
	score_payment_prepare(&s->pay, p->payer, p->payer_len, p->ref, p->ref_len, p->amount, p->date,
	                      b->min_len > d ? b->min_len - d : 1, b->max_len + d);
	s->payer_hash = XXH3_64bits(s->pay.payer.p, s->pay.payer.len);
	s->alias = p->account && b->acctmap.cap ? map_get(&b->acctmap, p->account) : BLOCKING_NONE;
	s->alias_account = s->alias != BLOCKING_NONE;
	if (s->alias == BLOCKING_NONE && b->aliasmap.cap)
		s->alias = map_get(&b->aliasmap, s->payer_hash);
	const char *r = s->pay.ref.p;
	size_t rl = s->pay.ref.len;
	for (size_t at = 0; at < rl; at++) {
		if (!b->first[(unsigned char)r[at]])
			continue;
		for (size_t k = 0; k < b->nlens && at + b->lens[k] <= rl; k++)
			for (uint32_t v = map_get(&b->nummap, XXH3_64bits(r + at, b->lens[k])); v != BLOCKING_NONE;
			     v = b->inv[v].next_num)
				add(b, o, s, p->cid, v);
	}
	/* Paid and void invoices the reference names. */
	s->closed_named = 0;
	for (size_t at = 0; at < rl && b->nclosed; at++) {
		if (!b->cfirst[(unsigned char)r[at]] || (at && !s->pay.start.p[at] && r[at - 1] >= '0' && r[at - 1] <= '9' &&
		                                        r[at] >= '0' && r[at] <= '9'))
			continue; /* not where a number starts */
		for (size_t k = 0; k < b->nclen; k++)
			for (uint32_t v = at + b->clen[k] <= rl ? map_get(&b->closedmap, XXH3_64bits(r + at, b->clen[k]))
			                                        : BLOCKING_NONE;
			     v != BLOCKING_NONE; v = b->closed[v].next)
				if (score_ref_contains(&s->pay, b->closed[v].canon, b->closed[v].len)) {
					s->closed_named++;
					break;
				}
	}
	/* Numbers written otherwise: "INV42", "#42", "2025/42". */
	for (size_t k = 0; k < s->pay.nkey; k++) {
		uint64_t h = XXH3_64bits(s->pay.keys.p + s->pay.key[k].off, s->pay.key[k].len);
		size_t walk = 0;
		for (uint32_t e = map_get(&b->keymap, h); e != BLOCKING_NONE && walk < KEY_WALK_MAX; e = b->keys[e].next)
			if (b->keys[e].h == h && b->inv[b->keys[e].inv].outstanding > 0 && ++walk)
				add(b, o, s, p->cid, b->keys[e].inv);
	}
	/* Invoices of the same amount, as loaded or as set since; on data with
	 * many equal amounts (a subscription price) the walk is bounded. */
	size_t walk = 0;
	for (uint32_t v = p->amount > 0 ? map_get(&b->amtmap, (uint64_t)p->amount) : BLOCKING_NONE;
	     v != BLOCKING_NONE && walk < AMOUNT_WALK_MAX; v = b->inv[v].next_amt, walk++)
		if (b->inv[v].outstanding == p->amount)
			add_agreeing(b, o, s, p->cid, v);
	for (uint32_t m = p->amount > 0 ? map_get(&b->movedmap, (uint64_t)p->amount) : BLOCKING_NONE;
	     m != BLOCKING_NONE && walk < AMOUNT_WALK_MAX; m = b->moved[m].next, walk++)
		if (b->inv[b->moved[m].inv].outstanding == p->amount)
			add_agreeing(b, o, s, p->cid, b->moved[m].inv);
	bool near = false;
	for (size_t k = 0; k < s->ncand && !near; k++)
		near = s->cand[k].ref_dist <= o->max_ref_distance && (s->cand[k].flags & SCORE_AMOUNT_FITS) &&
		       !(s->cand[k].flags & SCORE_CUST_CLASH);
	/* Only a token with about as many digits as a number can be one
	 * mistyped ("TRANSFER 733683" is not). */
	bool numberish = false;
	for (size_t k = 0; k < s->pay.ntok && !numberish; k++)
		numberish = s->pay.tok[k].ndigits + d >= b->min_digits && s->pay.tok[k].ndigits <= b->max_digits + d;
	if (!near && numberish && p->amount > 0)
		fallback(b, o, s, p->cid);
}

void blocking_payer_customers(const blocking_t *b, const score_opts *o, blocking_scratch *s)
{
	similar_customers(b, o, s);
	uint32_t a = s->alias;
	bool listed = false;
	for (size_t k = 0; k < s->ncust && !listed; k++)
		listed = s->cust[k] == a;
	if (a != BLOCKING_NONE && !listed) {
		if (s->ncust == s->cap_cust) {
			s->cap_cust = s->cap_cust ? s->cap_cust * 2 : 16;
			s->cust = xrealloc(s->cust, s->cap_cust * sizeof *s->cust);
			s->cust_sim = xrealloc(s->cust_sim, s->cap_cust * sizeof *s->cust_sim);
		}
		s->cust[s->ncust] = a;
		s->cust_sim[s->ncust++] = 1.0f;
	}
	/* Best first (insertion sort: a handful). */
	for (size_t i = 1; i < s->ncust; i++)
		for (size_t j = i; j > 0 && s->cust_sim[j] > s->cust_sim[j - 1]; j--) {
			uint32_t c = s->cust[j];
			float f = s->cust_sim[j];
			s->cust[j] = s->cust[j - 1], s->cust_sim[j] = s->cust_sim[j - 1];
			s->cust[j - 1] = c, s->cust_sim[j - 1] = f;
		}
}

const uint32_t *blocking_customer_invoices(const blocking_t *b, uint32_t k, size_t *n)
{
	*n = b->cust_start[k + 1] - b->cust_start[k];
	return b->cust_inv + b->cust_start[k];
}

blocking_cust_view blocking_customer_view(const blocking_t *b, uint32_t k)
{
	uint32_t from = b->cust_start[k];
	return (blocking_cust_view){b->cust_inv + from, b->cust_issue + from, b->cust_out + from,
	                            b->cust_start[k + 1] - from, b->cust_span[k]};
}

size_t blocking_view_from(const blocking_cust_view *v, date_t d)
{
	size_t l = 0, r = v->n;
	while (l < r) {
		size_t m = l + (r - l) / 2;
		if (v->issue[m] < d)
			l = m + 1;
		else
			r = m;
	}
	return l;
}

uint32_t blocking_find_customer(const blocking_t *b, const char *s, size_t n)
{
	for (uint32_t k = map_get(&b->custmap, XXH3_64bits(s, n)); k != BLOCKING_NONE; k = b->cust[k].next)
		if (b->cust[k].raw_len == n && !memcmp(b->cust[k].raw, s, n))
			return k;
	return BLOCKING_NONE;
}

size_t blocking_customers(const blocking_t *b)
{
	return b->ncust;
}

void blocking_add_alias(blocking_t *b, const char *payer_norm, size_t plen, const char *cust, size_t clen)
{
	uint32_t k = blocking_find_customer(b, cust, clen);
	if (k == BLOCKING_NONE)
		return; /* the customer has nothing open: nothing to find */
	if (!b->aliasmap.cap)
		map_init(&b->aliasmap, 64);
	map_put(&b->aliasmap, XXH3_64bits(payer_norm, plen), k);
}

void blocking_add_account(blocking_t *b, const char *account, size_t alen, const char *cust, size_t clen)
{
	uint32_t k = blocking_find_customer(b, cust, clen);
	if (k == BLOCKING_NONE || alen == 0)
		return;
	if (!b->acctmap.cap)
		map_init(&b->acctmap, 64);
	map_put(&b->acctmap, XXH3_64bits(account, alen) | 1, k);
}

bool blocking_is_alias(const blocking_t *b, const blocking_scratch *s, uint32_t k)
{
	(void)b;
	return s->alias != BLOCKING_NONE && s->alias == k;
}
