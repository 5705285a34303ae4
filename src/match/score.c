#include "match/score.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/money.h"
#include "match/fuzzy.h"
#include "match/normalize.h"

/* DESIGN
 * Confidences are fixed points per rule, adjusted by the evidence that
 * DATA.md names (customer agreement, equal amount, edit distance), so that
 * the strongest rules stay apart by more than tie_margin from weaker ones
 * that point elsewhere:
 *
 *   rule 1  exact reference  customer agrees: 0.99 (equal amount), 0.95 (partial)
 *                            customer unknown: 0.92 / 0.70; clashes: 0.85 / 0.55
 *   rule 2  fuzzy reference  equal amount: 0.93 (1 edit), 0.90 (2); partial 0.82 / 0.78
 *   rule 3  amount+customer  0.80 .. 0.90 with the name similarity; 0.90 on equal ids;
 *                            paid up to a year after its window: 0.60 (review only)
 *   rule 1, a number without its prefix or year (unique, customer agrees):
 *                            0.97 (equal amount), 0.90 (partial);
 *                            customer unknown: 0.80 / 0.60
 *
 * A mistyped reference may name another open invoice exactly. When that one
 * only fits as a partial payment (0.95) while the true invoice has the exact
 * amount and a near reference (0.90..0.93), the two tie and the payment goes
 * to review instead of being applied to the wrong invoice. A payment dated
 * before its invoice's window loses 0.2: prepayments exist, but a reference
 * to an invoice that did not exist yet is more often a typo. */

void score_opts_init(score_opts *o)
{
	*o = (score_opts){
		.auto_threshold = 0.75,
		.review_threshold = 0.5,
		.name_threshold = 0.8,
		.days_before_issue = 7,
		.days_after_due = 90,
		.max_ref_distance = 2,
		.tie_margin = 0.05,
		.ambiguity_factor = 0.7,
		.tol_abs = 1000,
		.tol_pct = 0.02,
		.overpay_max = 0.5,
		.batch_max = 5,
		.use_fuzzy = true,
		.use_amount_customer = true,
		.use_batch_reference = true,
		.use_batch_amount = true,
		.use_writeoff = true,
		.use_credit = true,
		.use_aliases = true,
	};
}

bool score_opts_check(const score_opts *o, char *why, size_t whylen)
{
	const char *bad = NULL;
	if (!(o->auto_threshold >= 0 && o->auto_threshold <= 1))
		bad = "the auto threshold must be within [0, 1]";
	else if (!(o->review_threshold >= 0 && o->review_threshold <= o->auto_threshold))
		bad = "the review threshold must be within [0, auto threshold]";
	else if (!(o->name_threshold >= 0 && o->name_threshold <= 1))
		bad = "the name threshold must be within [0, 1]";
	else if (o->days_before_issue < 0 || o->days_after_due < 0)
		bad = "date windows must not be negative";
	else if (o->max_ref_distance < 0 || o->max_ref_distance > 3)
		bad = "the reference edit distance must be 0 to 3";
	else if (!(o->tie_margin >= 0 && o->tie_margin < 1) || !(o->ambiguity_factor >= 0 && o->ambiguity_factor <= 1))
		bad = "tie margin and ambiguity factor must be within [0, 1]";
	else if (o->tol_abs < 0 || o->tol_abs > 100000000 || !(o->tol_pct >= 0 && o->tol_pct <= 0.2))
		bad = "the write-off tolerance must be 0 to 1000000.00 and 0 to 20%";
	else if (!(o->overpay_max >= 0 && o->overpay_max <= 1))
		bad = "the overpayment share must be within [0, 1]";
	else if (o->batch_max < 2 || o->batch_max > 6)
		bad = "the invoices per batch payment must be 2 to 6";
	if (bad)
		snprintf(why, whylen, "%s", bad);
	return !bad;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Separators of reference tokens: whitespace and punctuation that
 * norm_invoice would keep ('-', '_', '/', '#' and '.' are removed inside a
 * token instead, so "INV-2025/004213" stays one token). */
static bool is_sep(unsigned char c)
{
	if (c <= ' ' || c == 0x7f)
		return true;
	return c < 0x80 && !(c >= '0' && c <= '9') && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !strchr("-_/#.", c);
}

static void add_tok(score_payment *p, size_t off, size_t len, bool joined, size_t min_len, size_t max_len)
{
	if (p->ntok == SCORE_MAX_TOKS || len == 0 || (max_len && (len < min_len || len > max_len)))
		return;
	const char *s = joined ? p->toks.p + off : p->ref.p + off;
	size_t digits = 0;
	for (size_t i = 0; i < len; i++)
		digits += is_digit(s[i]);
	if (!digits)
		return;
	p->tok[p->ntok].off = off;
	p->tok[p->ntok].len = len;
	p->tok[p->ntok].joined = joined;
	p->tok[p->ntok].ndigits = digits;
	p->tok[p->ntok].digits_only = digits == len;
	p->ntok++;
}

void score_payment_prepare(score_payment *p, const char *payer, size_t payer_len, const char *ref, size_t ref_len,
                           int64_t amount, date_t date, size_t min_len, size_t max_len)
{
	p->amount = amount;
	p->date = date;
	p->ntok = 0;
	buf_reset(&p->payer);
	buf_reset(&p->ref);
	buf_reset(&p->start);
	buf_reset(&p->toks);
	buf_reset(&p->keys);
	norm_payer(payer, payer_len, &p->payer);
	p->nkey = norm_ref_keys(ref, ref_len, &p->keys, p->key, SCORE_MAX_KEYS);

	/* Canonical tokens, concatenated; word[] remembers where each starts. */
	size_t word[64], nword = 0;
	for (size_t i = 0; i < ref_len;) {
		while (i < ref_len && is_sep((unsigned char)ref[i]))
			i++;
		size_t j = i;
		while (j < ref_len && !is_sep((unsigned char)ref[j]))
			j++;
		if (j == i)
			break;
		size_t at = p->ref.len;
		norm_invoice(ref + i, j - i, &p->ref);
		if (p->ref.len > at) {
			if (nword < 64)
				word[nword++] = at;
			buf_reserve(&p->start, p->ref.len - at);
			memset(p->start.p + p->start.len, 0, p->ref.len - at);
			p->start.p[p->start.len] = 1;
			p->start.len += p->ref.len - at;
		}
		i = j;
	}
	buf_putc(&p->start, 1); /* the end of ref is a boundary too */
	if (!p->ref.p)
		buf_puts(&p->ref, "");

	/* Fuzzy tokens: each token, then joins of 2 and 3 neighbours ("inv
	 * 2025 004213" written with spaces is one number). */
	for (size_t k = 0; k < nword; k++) {
		size_t end = k + 1 < nword ? word[k + 1] : p->ref.len;
		add_tok(p, word[k], end - word[k], false, min_len, max_len);
	}
	for (size_t span = 2; span <= 3; span++)
		for (size_t k = 0; k + span <= nword; k++) {
			size_t end = k + span < nword ? word[k + span] : p->ref.len;
			size_t off = p->toks.len;
			buf_put(&p->toks, p->ref.p + word[k], end - word[k]);
			add_tok(p, off, end - word[k], true, min_len, max_len);
		}
}

void score_payment_free(score_payment *p)
{
	buf_free(&p->payer);
	buf_free(&p->ref);
	buf_free(&p->start);
	buf_free(&p->toks);
	buf_free(&p->keys);
	p->ntok = 0;
	p->nkey = 0;
}

const char *score_payment_tok(const score_payment *p, size_t i, size_t *len)
{
	*len = p->tok[i].len;
	return (p->tok[i].joined ? p->toks.p : p->ref.p) + p->tok[i].off;
}

#define TRUNCATED_MIN 14 /* bytes: shorter payers are names, not cut fields */

double score_name_sim(const char *a, size_t alen, const char *b, size_t blen, double cutoff)
{
	/* Token-set ratio is 100 whenever one name's words contain the other's
	 * ("Global Logistics" in "Global Logistics Solutions"): an automatic
	 * decision needs every word to count, on both sides. */
	bool cut = alen >= TRUNCATED_MIN && alen < blen && b[alen] != ' ' && a[alen - 1] != ' ' && !memcmp(a, b, alen);
	double sim = fuzzy_token_sort_ratio(a, alen, b, blen, cut ? 0 : cutoff * 100) / 100.0;
	if (cut && sim < 0.9)
		sim = 0.9;
	return sim >= cutoff ? sim : 0;
}

static bool key_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && !memcmp(a, b, alen);
}

int score_key_match(const score_payment *p, const char *key, size_t len)
{
	if (!len || !p->nkey)
		return 0;
	bool prefixed = !is_digit(key[0]);
	const char *dot1 = memchr(key, '.', len), *dotn = dot1;
	for (const char *d = dot1; d; d = memchr(d + 1, '.', (size_t)(key + len - d - 1)))
		dotn = d;
	const char *last = dotn && is_digit(dotn[1]) ? dotn + 1 : NULL;
	size_t last_len = last ? (size_t)(key + len - last) : 0;
	size_t pre_len = prefixed && dot1 ? (size_t)(dot1 - key) : 0;
	int best = 0;
	for (size_t i = 0; i < p->nkey && best != 1; i++) {
		const char *k = p->keys.p + p->key[i].off;
		size_t kl = p->key[i].len;
		if (key_eq(k, kl, key, len)) {
			best = 1;
		} else if (!p->key[i].bare) {
			/* "INV.42" for "INV.2025.42": the prefix and the last number */
			if (pre_len && last && dot1 != dotn && kl == pre_len + 1 + last_len && !memcmp(k, key, pre_len + 1) &&
			    !memcmp(k + pre_len + 1, last, last_len))
				best = 2;
		} else if ((pre_len && key_eq(k, kl, dot1 + 1, len - pre_len - 1)) || (last && key_eq(k, kl, last, last_len))) {
			best = 2;
		}
	}
	return best;
}

bool score_ref_contains(const score_payment *p, const char *canon, size_t len)
{
	const char *r = p->ref.p, *end = r + p->ref.len;
	const char *st = p->start.p;
	if (len == 0 || len > p->ref.len)
		return false;
	for (const char *h = r; h + len <= end; h++) {
		h = memmem(h, (size_t)(end - h), canon, len);
		if (!h)
			return false;
		size_t s = (size_t)(h - r), e = s + len;
		bool lb = s == 0 || st[s], rb = e == p->ref.len || st[e];
		/* "INV1" inside "INV12" is another number, unless the bank wrote
		 * them as separate words. */
		if (!lb && is_digit(canon[0]) && is_digit(r[s - 1]))
			continue;
		if (!rb && is_digit(canon[len - 1]) && is_digit(r[e]))
			continue;
		if (len < 4 && !(lb && rb))
			continue;
		return true;
	}
	return false;
}

static int allowed(size_t len, int max)
{
	if (len < 6)
		return 0;
	return len < 9 && max > 1 ? 1 : max;
}

int score_ref_distance(const score_payment *p, const char *canon, size_t len, int max)
{
	int best = 255;
	int m = allowed(len, max);
	if (m > 0) {
		for (size_t i = 0; i < p->ntok; i++) {
			size_t tl;
			const char *t = score_payment_tok(p, i, &tl);
			if (tl + (size_t)m < len || tl > len + (size_t)m)
				continue;
			size_t d = fuzzy_levenshtein_max(t, tl, canon, len, (size_t)m);
			if ((int)d <= m && (int)d < best)
				best = (int)d;
		}
	}
	/* "2025-004213" for INV-2025-004213: the digits after a letter prefix. */
	size_t k = 0;
	while (k < len && !is_digit(canon[k]))
		k++;
	if (k == 0 || len - k < 6)
		return best;
	for (size_t i = k; i < len; i++)
		if (!is_digit(canon[i]))
			return best;
	int md = allowed(len - k, max);
	for (size_t i = 0; i < p->ntok && best > 0; i++) {
		if (!p->tok[i].digits_only)
			continue;
		size_t tl;
		const char *t = score_payment_tok(p, i, &tl);
		if (tl + (size_t)md < len - k || tl > len - k + (size_t)md)
			continue;
		size_t d = fuzzy_levenshtein_max(t, tl, canon + k, len - k, (size_t)md);
		if ((int)d <= md && (int)d < best)
			best = (int)d;
	}
	return best;
}

#define LATE_DAYS 365  /* how long after its window rule 3 still proposes */
#define LATE_CONF 0.60

void score_pair(const score_opts *o, const score_payment *p, const score_invoice *v, double name_sim, int cid_rel,
                score_cand *c)
{
	unsigned f = 0;
	c->name_sim = (float)name_sim;
	c->cid_rel = (int8_t)cid_rel;
	c->rule = SCORE_RULE_NONE;
	c->conf = 0;
	c->issue = v->issue;
	c->due_gap = score_due_gap(p->date, v->due);
	int km = score_ref_contains(p, v->canon, v->canon_len) ? 1 : score_key_match(p, v->key, v->key_len);
	if (km == 1) {
		f |= SCORE_EXACT_REF;
		c->ref_dist = 0;
	} else {
		c->ref_dist = (uint8_t)score_ref_distance(p, v->canon, v->canon_len, o->max_ref_distance);
		if (km == 2)
			f |= SCORE_LOOSE_REF;
	}
	if (p->amount > 0 && p->amount == v->outstanding)
		f |= SCORE_AMOUNT_EQUAL;
	if (p->amount > 0 && p->amount <= v->outstanding)
		f |= SCORE_AMOUNT_FITS;
	if (p->date < (date_t)(v->issue - o->days_before_issue))
		f |= SCORE_EARLY;
	else if (p->date <= (date_t)(v->due + o->days_after_due))
		f |= SCORE_DATE_OK;
	if (cid_rel > 0 || (cid_rel == 0 && name_sim >= o->name_threshold))
		f |= SCORE_CUST_AGREE;
	if (cid_rel < 0 || (cid_rel == 0 && name_sim < 0.5))
		f |= SCORE_CUST_CLASH;
	c->flags = (uint16_t)f;

	bool eq = f & SCORE_AMOUNT_EQUAL, agree = f & SCORE_CUST_AGREE, clash = f & SCORE_CUST_CLASH;
	double best = 0;
	int rule = SCORE_RULE_NONE;
	if ((f & SCORE_EXACT_REF) && (f & SCORE_AMOUNT_FITS)) {
		double k = agree ? (eq ? 0.99 : 0.95) : clash ? (eq ? 0.85 : 0.55) : (eq ? 0.92 : 0.70);
		if (f & SCORE_EARLY)
			k -= 0.2;
		best = k;
		rule = SCORE_RULE_REFERENCE;
	}
	if (o->use_fuzzy && !(f & SCORE_EXACT_REF) && c->ref_dist <= o->max_ref_distance && (f & SCORE_AMOUNT_FITS) &&
	    agree) {
		double k = eq ? (c->ref_dist <= 1 ? 0.93 : 0.90) : (c->ref_dist <= 1 ? 0.82 : 0.78);
		if (cid_rel > 0)
			k += 0.02;
		if (f & SCORE_EARLY)
			k -= 0.2;
		if (k > best) {
			best = k;
			rule = SCORE_RULE_FUZZY;
		}
	}
	if (o->use_amount_customer && eq && agree && (f & SCORE_DATE_OK)) {
		double t = o->name_threshold < 1 ? (name_sim - o->name_threshold) / (1 - o->name_threshold) : 1;
		t = t < 0 ? 0 : t > 1 ? 1 : t;
		double k = cid_rel > 0 ? 0.90 : 0.80 + 0.10 * t;
		if (k > best) {
			best = k;
			rule = SCORE_RULE_AMOUNT_CUSTOMER;
		}
	}
	/* Paid after the window, within a year: the customer's invoice of
	 * exactly that amount, paid months late, is still the likeliest one,
	 * but never applied (LATE_CONF stays below the auto threshold). */
	if (o->use_amount_customer && eq && agree && !(f & (SCORE_DATE_OK | SCORE_EARLY)) &&
	    p->date <= (date_t)(v->due + o->days_after_due + LATE_DAYS)) {
		double k = fmin(LATE_CONF, o->auto_threshold - 0.01);
		if (k > best) {
			best = k;
			rule = SCORE_RULE_AMOUNT_CUSTOMER;
		}
	}
	c->rule_base = (uint8_t)rule;
	c->conf_base = (float)best;
	/* A number written without its prefix or year: as good as the number
	 * when the customer agrees (score_decide checks it is unique). */
	if ((f & SCORE_LOOSE_REF) && (f & SCORE_AMOUNT_FITS) && !clash) {
		double k = agree ? (eq ? 0.97 : 0.90) : (eq ? 0.80 : 0.60);
		if (f & SCORE_EARLY)
			k -= 0.2;
		if (k > best) {
			best = k;
			rule = SCORE_RULE_REFERENCE;
		}
	}
	c->rule = (uint8_t)rule;
	c->conf = (float)best;
}

int32_t score_due_gap(date_t paid, date_t due)
{
	/* Paying well before the due date is rarer than paying late. */
	return paid >= due ? (int32_t)(paid - due) : (int32_t)(due - paid) * 2;
}

static bool better(const score_cand *a, const score_cand *b)
{
	if (a->conf != b->conf)
		return a->conf > b->conf;
	if (a->rule != b->rule)
		return a->rule < b->rule;
	return a->inv < b->inv;
}

/* How closely the reference names the invoice: the number, the number
 * without prefix or year, a few edits away, not at all. */
static int ref_rank(const score_cand *c)
{
	if (c->flags & SCORE_EXACT_REF)
		return 0;
	if (c->flags & SCORE_LOOSE_REF)
		return 1;
	return c->ref_dist < 255 ? 2 + c->ref_dist : 255;
}

/* Order of a tie: reference, confidence (a closer name), due date
 * proximity, age. */
static bool tie_before(const score_cand *a, const score_cand *b)
{
	int ra = ref_rank(a), rb = ref_rank(b);
	if (ra != rb)
		return ra < rb;
	if (fabsf(a->conf - b->conf) > 0.005f)
		return a->conf > b->conf;
	if (a->due_gap != b->due_gap)
		return a->due_gap < b->due_gap;
	if (a->issue != b->issue)
		return a->issue < b->issue;
	return a->inv < b->inv;
}

/* The one candidate with the exact amount and an agreeing customer that
 * the reference names most closely (and some reference names it), or n
 * when none or several share that place. */
static size_t ref_leader(const score_cand *c, size_t n)
{
	size_t u = n;
	int best = 255, nbest = 0;
	for (size_t i = 0; i < n; i++) {
		if (c[i].rule == SCORE_RULE_NONE || !(c[i].flags & SCORE_AMOUNT_EQUAL) || !(c[i].flags & SCORE_CUST_AGREE))
			continue;
		int r = ref_rank(&c[i]);
		if (r < best) {
			best = r;
			nbest = 1;
			u = i;
		} else if (r == best) {
			nbest++;
		}
	}
	return best < 255 && nbest == 1 ? u : n;
}

#define REF_ELSEWHERE 0.1 /* the reference points at another candidate */

score_verdict score_decide(const score_opts *o, score_cand *c, size_t n, size_t closed_named, size_t *best,
                           double *conf, size_t *rival)
{
	/* Invoices the reference names: exactly (whatever their rules), or
	 * without prefix or year (when the customer does not clash). Such
	 * loose evidence stands only when no number is named exactly. */
	size_t named = 0, loose = 0, other = n;
	for (size_t i = 0; i < n; i++) {
		if (c[i].flags & SCORE_EXACT_REF)
			named++;
		else if ((c[i].flags & SCORE_LOOSE_REF) && !(c[i].flags & SCORE_CUST_CLASH))
			loose++;
	}
	if (named || closed_named)
		for (size_t i = 0; i < n; i++)
			if ((c[i].flags & SCORE_LOOSE_REF) && !(c[i].flags & SCORE_EXACT_REF)) {
				c[i].conf = c[i].conf_base;
				c[i].rule = c[i].rule_base;
				c[i].flags &= (uint16_t)~SCORE_LOOSE_REF;
			}
	/* Two invoices of the same amount and customer: a reference that
	 * names one of them more closely than the others decides (the others
	 * lose REF_ELSEWHERE), instead of a tie. */
	size_t u = ref_leader(c, n);
	if (u != n)
		for (size_t i = 0; i < n; i++)
			if (i != u && c[i].rule != SCORE_RULE_NONE && ref_rank(&c[i]) > ref_rank(&c[u]))
				c[i].conf = c[i].conf > REF_ELSEWHERE ? c[i].conf - (float)REF_ELSEWHERE : 0;
	size_t b = n, r = n;
	for (size_t i = 0; i < n; i++)
		if (c[i].rule != SCORE_RULE_NONE && (b == n || better(&c[i], &c[b])))
			b = i;
	*best = b;
	*rival = n;
	*conf = 0;
	if (b == n)
		return SCORE_UNMATCHED;
	double k = c[b].conf;
	{
		/* A tie: the first in tie order is proposed, the second is the rival. */
		size_t first = n, second = n;
		for (size_t i = 0; i < n; i++) {
			if (c[i].rule == SCORE_RULE_NONE || c[i].conf + o->tie_margin + 1e-6 < k)
				continue;
			if (first == n || tie_before(&c[i], &c[first])) {
				second = first;
				first = i;
			} else if (second == n || tie_before(&c[i], &c[second])) {
				second = i;
			}
		}
		if (second != n) {
			b = first;
			r = second;
			k = c[b].conf;
		}
	}
	/* The reference names another open invoice of exactly the payment's
	 * amount (another customer's, say) and the best only resembles that
	 * number or matches by amount and name: reference and amount say one
	 * invoice, the payer's name another; a person decides. (A named
	 * invoice of another amount is a typo's victim: the best stands.) */
	bool elsewhere = false;
	if (r == n && !(c[b].flags & SCORE_EXACT_REF))
		for (size_t i = 0; i < n && !elsewhere; i++)
			if (i != b && c[i].rule != SCORE_RULE_NONE && (c[i].flags & SCORE_EXACT_REF) &&
			    (c[i].flags & SCORE_AMOUNT_EQUAL)) {
				other = i;
				elsewhere = true;
			}
	/* The payer owes the same amount on an invoice past the window too
	 * (paid months late, LATE_CONF): which of the two this pays is a
	 * guess, as between two invoices in the window. */
	if (r == n && !elsewhere && c[b].rule == SCORE_RULE_AMOUNT_CUSTOMER && (c[b].flags & SCORE_DATE_OK))
		for (size_t i = 0; i < n && r == n; i++)
			if (i != b && c[i].rule == SCORE_RULE_AMOUNT_CUSTOMER && !(c[i].flags & SCORE_DATE_OK))
				r = i;
	/* A near number (rule 2) on a part of an invoice is a guess when the
	 * reference is as near to another invoice of the payer's, one the
	 * payment would overpay, say: the typo could be either. */
	if (r == n && !elsewhere && c[b].rule == SCORE_RULE_FUZZY && !(c[b].flags & SCORE_AMOUNT_EQUAL))
		for (size_t i = 0; i < n && !elsewhere; i++)
			if (i != b && c[i].ref_dist <= c[b].ref_dist && !(c[i].flags & SCORE_CUST_CLASH)) {
				other = i;
				elsewhere = true;
			}
	*best = b;
	/* Paid and void invoices count as named too, so that a re-run (when
	 * the run before paid one of them) decides as the first run did. */
	bool several = elsewhere || named + closed_named >= 2 || (!named && !closed_named && loose >= 2);
	if (several && r == n)
		for (size_t i = 0; i < n && other == n; i++)
			if (i != b && (c[i].flags & (named ? SCORE_EXACT_REF : SCORE_LOOSE_REF)) &&
			    (named || !(c[i].flags & SCORE_CUST_CLASH)))
				other = i;
	if (r != n || several) {
		k *= o->ambiguity_factor;
		if (r != n)
			c[b].flags |= SCORE_AMBIGUOUS;
		if (several)
			c[b].flags |= SCORE_SEVERAL;
		*rival = r != n ? r : other;
	}
	/* Stored as REAL and compared again on re-runs: keep 3 decimals. */
	k = round(k * 1000) / 1000;
	/* Whatever the thresholds, a tie is never applied automatically. */
	if ((r != n || several) && k >= o->auto_threshold)
		k = fmax(0, ceil(o->auto_threshold * 1000 - 1) / 1000);
	*conf = k;
	if (k >= o->auto_threshold)
		return SCORE_APPLIED;
	return k >= o->review_threshold ? SCORE_PROPOSED : SCORE_UNMATCHED;
}

static const char *const rule_names[] = {"",       "reference",       "fuzzy_reference", "amount_customer",
                                         "manual", "batch_reference", "batch_amount",    "credit"};

const char *score_rule_name(int rule)
{
	return rule >= 0 && rule < SCORE_RULE_COUNT ? rule_names[rule] : "";
}

int score_rule_parse(const char *s, size_t len)
{
	for (int i = 1; i < SCORE_RULE_COUNT; i++)
		if (strlen(rule_names[i]) == len && !memcmp(rule_names[i], s, len))
			return i;
	return 0;
}

static void sep(buf_t *out, size_t at)
{
	if (out->len > at)
		buf_puts(out, "; ");
}

static void money(buf_t *out, int64_t cents)
{
	char s[MONEY_BUFSZ];
	buf_put(out, s, money_format(cents, s));
}

static void name_reason(const score_opts *o, const score_cand *c, buf_t *out)
{
	if (c->cid_rel < 0)
		buf_puts(out, "the payment's customer id differs from the invoice's");
	else
		buf_printf(out, "payer name similarity %.2f is below %.2f", c->name_sim, o->name_threshold);
}

static void amount_reason(const score_payment *p, const score_invoice *v, buf_t *out, bool need_equal)
{
	if (p->amount <= 0) {
		buf_puts(out, "the amount is not positive");
		return;
	}
	buf_puts(out, "amount ");
	money(out, p->amount);
	buf_puts(out, p->amount > v->outstanding ? " exceeds outstanding " : need_equal ? " differs from outstanding " : " vs outstanding ");
	money(out, v->outstanding);
}

void score_refusal(const score_opts *o, const score_payment *p, const score_invoice *v, const score_cand *c,
                   buf_t *out)
{
	size_t at = out->len;
	unsigned f = c->flags;
	if (c->rule != SCORE_RULE_NONE)
		return;
	if (f & SCORE_EXACT_REF) {
		amount_reason(p, v, out, false);
		return;
	}
	if (c->ref_dist <= o->max_ref_distance) {
		buf_printf(out, "reference is %d edit%s from the number", c->ref_dist, c->ref_dist == 1 ? "" : "s");
		if (!(f & SCORE_AMOUNT_FITS)) {
			sep(out, at);
			amount_reason(p, v, out, false);
		}
		if (!(f & SCORE_CUST_AGREE)) {
			sep(out, at);
			name_reason(o, c, out);
		}
		return;
	}
	buf_puts(out, "reference does not mention the number");
	if (!(f & SCORE_AMOUNT_EQUAL)) {
		sep(out, at);
		amount_reason(p, v, out, true);
	}
	if (!(f & SCORE_CUST_AGREE)) {
		sep(out, at);
		name_reason(o, c, out);
	}
	if (!(f & SCORE_DATE_OK)) {
		char d[DATE_BUFSZ], a[DATE_BUFSZ], b[DATE_BUFSZ];
		date_format(p->date, d);
		date_format(v->issue - o->days_before_issue, a);
		date_format(v->due + o->days_after_due, b);
		sep(out, at);
		buf_printf(out, "paid %s, outside %s .. %s", d, a, b);
	}
}
