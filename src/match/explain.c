#include "match/explain.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/date.h"
#include "core/mem.h"
#include "core/currency.h"
#include "core/money.h"
#include "match/alias.h"
#include "match/credit.h"
#include "match/fuzzy.h"
#include "match/habit.h"
#include "match/jput.h"
#include "match/normalize.h"
#include "match/rules.h"
#include "store/settings.h"

/* DESIGN
 * An explanation scores the payment against every open invoice with the
 * same score_pair a run uses, instead of rebuilding a run's indexes for one
 * payment: one sequential pass, with the payer/customer similarity cached
 * per customer text. Only the ranks and rids of the best few are kept during
 * the pass; their texts are read back afterwards. */

typedef struct {
	uint64_t *keys;
	float *vals;
	uint8_t *used;
	size_t cap, n;
} sim_cache;

static float *cache_slot(sim_cache *c, uint64_t key, bool *fresh)
{
	if ((c->n + 1) * 10 > c->cap * 7) {
		sim_cache old = *c;
		c->cap = old.cap ? old.cap * 2 : 256;
		c->n = 0;
		c->keys = xmalloc(c->cap * sizeof *c->keys);
		c->vals = xmalloc(c->cap * sizeof *c->vals);
		c->used = xcalloc(c->cap, 1);
		for (size_t i = 0; i < old.cap; i++)
			if (old.used[i]) {
				bool f;
				*cache_slot(c, old.keys[i], &f) = old.vals[i];
			}
		free(old.keys);
		free(old.vals);
		free(old.used);
	}
	size_t i = (size_t)key & (c->cap - 1);
	while (c->used[i] && c->keys[i] != key)
		i = (i + 1) & (c->cap - 1);
	*fresh = !c->used[i];
	if (*fresh) {
		c->used[i] = 1;
		c->keys[i] = key;
		c->n++;
	}
	return &c->vals[i];
}

static void cache_free(sim_cache *c)
{
	free(c->keys);
	free(c->vals);
	free(c->used);
}

typedef struct {
	int64_t rid;
	double rank;
	score_cand c;
	char other_cur[4]; /* set when excluded for being in another currency ("" = the org's) */
	bool other;
} shown;

/* Higher is shown first: a rule that holds, then its confidence, then how
 * close the pair came on each test. */
static double rank_of(const score_cand *c, size_t canon_len)
{
	double ref = c->ref_dist == 0 ? 1 : c->ref_dist < 255 && canon_len ? 1 - (double)c->ref_dist / canon_len : 0;
	double near = 0.45 * ref + 0.35 * c->name_sim + 0.1 * !!(c->flags & SCORE_AMOUNT_EQUAL) +
	              0.1 * !!(c->flags & SCORE_DATE_OK);
	return (c->rule ? 10 : 0) + 2 * c->conf + near;
}

typedef struct {
	score_payment pay;
	const char *cid;
	size_t cid_len;
	shown top[EXPLAIN_CANDIDATES];
	size_t ntop;
	score_cand *ruled;
	int64_t *ruled_rid;
	size_t nruled, cap;
	/* Open invoices the reference names whose outstanding is below the
	 * payment: "amount above outstanding". */
	int64_t short_rid[EXPLAIN_CANDIDATES];
	size_t nshort;
	int64_t org;
	char cur[4];     /* the payment's currency ("" = the org's) */
	char org_cur[4]; /* the org's, to name it */
	const char *alias; /* the customer the payer is a learned alias of, or NULL */
	size_t alias_len;
	bool alias_account; /* the alias comes from the payer's account (alias_beaten) */
} scan;

static void keep(scan *sc, int64_t rid, const score_cand *c, size_t canon_len, const char *other_cur)
{
	double r = rank_of(c, canon_len);
	if (sc->ntop == EXPLAIN_CANDIDATES && r <= sc->top[sc->ntop - 1].rank)
		return;
	size_t i = sc->ntop < EXPLAIN_CANDIDATES ? sc->ntop++ : sc->ntop - 1;
	while (i > 0 && sc->top[i - 1].rank < r) {
		sc->top[i] = sc->top[i - 1];
		i--;
	}
	sc->top[i] = (shown){rid, r, *c, "", other_cur != NULL};
	if (other_cur)
		snprintf(sc->top[i].other_cur, sizeof sc->top[i].other_cur, "%s", other_cur);
}

static int scan_invoices(store_conn_t *c, int64_t org, const score_opts *o, scan *sc, char *err, size_t errlen)
{
	static const char *q = "SELECT rid, number, customer, customer_id, issue_date, due_date, outstanding, currency "
	                       "FROM invoices WHERE org = ?1 AND outstanding > 0 AND status <> 'void'";
	buf_t key = BUF_INIT;
	store_stmt_t *st = store_prepare(c, q);
	if (!st) {
		snprintf(err, errlen, "reading invoices: %s", store_errmsg(c));
		return -1;
	}
	store_bind_i64(st, 1, org);
	sim_cache cache = {0};
	buf_t canon = BUF_INIT, name = BUF_INIT;
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		size_t nl, cl, il;
		const char *num = store_col_text(st, 1, &nl);
		const char *cust = store_col_text(st, 2, &cl);
		const char *cid = store_col_text(st, 3, &il);
		buf_reset(&canon);
		norm_invoice(num, nl, &canon);
		buf_reset(&key);
		norm_invoice_key(num, nl, &key);
		bool fresh;
		float *sim = cache_slot(&cache, XXH3_64bits(cust, cl), &fresh);
		if (fresh) {
			buf_reset(&name);
			norm_name(cust, cl, &name);
			bool learned = sc->alias && sc->alias_len == cl && !memcmp(sc->alias, cust, cl);
			*sim = learned ? 1.0f : (float)score_name_sim(sc->pay.payer.p, sc->pay.payer.len, name.p, name.len, 0);
			if (!learned && sc->alias_account)
				*sim = (float)alias_beaten(*sim);
		}
		int rel = !sc->cid_len || !il ? 0 : il == sc->cid_len && !memcmp(cid, sc->cid, il) ? 1 : -1;
		score_invoice v = {canon.p ? canon.p : "", canon.len, store_col_i64(st, 6),
		                   (date_t)store_col_i64(st, 4), (date_t)store_col_i64(st, 5), key.p ? key.p : "", key.len};
		score_cand cand = {.inv = (uint32_t)sc->nruled};
		score_pair(o, &sc->pay, &v, *sim, rel, &cand);
		int64_t rid = store_col_i64(st, 0);
		/* Another currency is never a candidate (as in a run): shown, with why. */
		size_t ul;
		const char *ucur = store_col_text(st, 7, &ul);
		char icur[4];
		snprintf(icur, sizeof icur, "%.*s", (int)(ul < 3 ? ul : 3), ucur);
		bool other = strcmp(icur, sc->cur) != 0;
		if (other) {
			cand.rule = 0;
			cand.conf = 0;
		}
		if (!other && (cand.flags & SCORE_EXACT_REF) && !(cand.flags & SCORE_AMOUNT_FITS) && sc->pay.amount > 0 &&
		    sc->nshort < EXPLAIN_CANDIDATES)
			sc->short_rid[sc->nshort++] = rid;
		/* score_decide also sees the invoices the reference names whose
		 * rules fail: a reference naming several is never applied. */
		if (!other && (cand.rule || (cand.flags & (SCORE_EXACT_REF | SCORE_LOOSE_REF)))) {
			if (sc->nruled == sc->cap) {
				sc->cap = sc->cap ? sc->cap * 2 : 16;
				sc->ruled = xrealloc(sc->ruled, sc->cap * sizeof *sc->ruled);
				sc->ruled_rid = xrealloc(sc->ruled_rid, sc->cap * sizeof *sc->ruled_rid);
			}
			sc->ruled[sc->nruled] = cand;
			sc->ruled_rid[sc->nruled++] = rid;
		}
		keep(sc, rid, &cand, canon.len, other ? icur : NULL);
	}
	store_reset(st);
	cache_free(&cache);
	buf_free(&canon);
	buf_free(&name);
	buf_free(&key);
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "reading invoices: %s", store_errmsg(c));
		return -1;
	}
	return 0;
}

static const char *invoice_id(store_conn_t *c, int64_t rid, buf_t *tmp)
{
	static const char *q = "SELECT id FROM invoices WHERE rid = ?1";
	store_stmt_t *st = store_prepare(c, q);
	store_bind_i64(st, 1, rid);
	buf_reset(tmp);
	if (store_step(st) == STORE_ROW) {
		size_t n;
		const char *s = store_col_text(st, 0, &n);
		buf_put(tmp, s, n);
	}
	store_reset(st);
	return tmp->p ? tmp->p : "";
}

/* A tie is broken by the customers' habits, as a run does (matcher.c's
 * repick_ties): the candidates' tie distances are set from them. */
static void tie_by_habit(store_conn_t *c, const score_opts *o, scan *sc, size_t closed)
{
	static const char *q = "SELECT customer, due_date FROM invoices WHERE rid = ?1";
	size_t best, rival;
	double conf;
	score_cand *copy = xmalloc((sc->nruled ? sc->nruled : 1) * sizeof *copy);
	if (sc->nruled)
		memcpy(copy, sc->ruled, sc->nruled * sizeof *copy);
	score_verdict v = score_decide(o, copy, sc->nruled, closed, &best, &conf, &rival);
	bool tied = v == SCORE_PROPOSED && best < sc->nruled && (copy[best].flags & SCORE_AMBIGUOUS);
	free(copy);
	for (size_t i = 0; tied && i < sc->nruled; i++) {
		store_stmt_t *st = store_prepare(c, q);
		store_bind_i64(st, 1, sc->ruled_rid[i]);
		if (store_step(st) == STORE_ROW) {
			size_t n;
			const char *cust = store_col_text(st, 0, &n);
			char *name = xmalloc(n + 1);
			memcpy(name, cust, n);
			date_t due = (date_t)store_col_i64(st, 1);
			store_reset(st);
			int32_t days;
			if (habit_customer(c, sc->org, name, n, &days) == 1)
				sc->ruled[i].due_gap = habit_gap_days(days, sc->pay.date, due);
			free(name);
		} else {
			store_reset(st);
		}
	}
}

static void put_decision(store_conn_t *c, const score_opts *o, scan *sc, size_t closed, buf_t *out,
                         int64_t *best_rid, int64_t *rival_rid, int *verdict, double *conf, unsigned *best_flags)
{
	size_t best, rival;
	tie_by_habit(c, o, sc, closed);
	*verdict = score_decide(o, sc->ruled, sc->nruled, closed, &best, conf, &rival);
	*best_flags = best < sc->nruled ? sc->ruled[best].flags : 0;
	*best_rid = best < sc->nruled ? sc->ruled_rid[best] : 0;
	*rival_rid = rival < sc->nruled ? sc->ruled_rid[rival] : 0;
	static const char *const verdicts[] = {"unmatched", "proposed", "applied"};
	buf_t tmp = BUF_INIT;
	buf_printf(out, ",\"decision\":{\"verdict\":\"%s\",\"invoice_id\":", verdicts[*verdict]);
	if (*best_rid) {
		const char *id = invoice_id(c, *best_rid, &tmp);
		buf_json_str(out, id, strlen(id));
		buf_printf(out, ",\"rule\":\"%s\"", score_rule_name(sc->ruled[best].rule));
	} else {
		buf_puts(out, "null,\"rule\":null");
	}
	buf_printf(out, ",\"confidence\":%.3f,\"ambiguous_with\":", *conf);
	if (*rival_rid && (*best_flags & SCORE_AMBIGUOUS)) {
		const char *id = invoice_id(c, *rival_rid, &tmp);
		buf_json_str(out, id, strlen(id));
	} else {
		buf_puts(out, "null");
	}
	buf_puts(out, ",\"also_named\":");
	if (*rival_rid && !(*best_flags & SCORE_AMBIGUOUS)) {
		const char *id = invoice_id(c, *rival_rid, &tmp);
		buf_json_str(out, id, strlen(id));
	} else {
		buf_puts(out, "null");
	}
	buf_free(&tmp);
}

static void put_reason(buf_t *out, size_t *n, const char *id, size_t idlen, const char *num, size_t numlen,
                       const char *reason)
{
	buf_puts(out, (*n)++ ? ",{\"invoice_id\":" : "{\"invoice_id\":");
	buf_json_str(out, id, idlen);
	buf_puts(out, ",\"number\":");
	buf_json_str(out, num, numlen);
	buf_printf(out, ",\"reason\":\"%s\"}", reason);
}

/* Why invoices the payment points at are not candidates (DATA.md: void
 * invoices are never outstanding; a paid one has nothing left): those
 * whose number the reference names, or, when it names none, those of the
 * payer's customer with the payment's amount. Ends the decision object.
 * *closed counts those the reference names. */
static int put_not_candidates(store_conn_t *c, const score_opts *o, scan *sc, buf_t *out, size_t *closed)
{
	static const char *q = "SELECT id, number, customer, customer_id, status, amount FROM invoices "
	                       "WHERE org = ?1 AND (outstanding <= 0 OR status = 'void')";
	static const char *qs = "SELECT id, number FROM invoices WHERE rid = ?1";
	buf_t canon = BUF_INIT, key = BUF_INIT, name = BUF_INIT;
	size_t n = 0;
	*closed = 0;
	buf_puts(out, ",\"not_candidates\":[");
	store_stmt_t *st = store_prepare(c, q);
	store_bind_i64(st, 1, sc->org);
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		size_t nl, il, cl, sl, dl;
		const char *num = store_col_text(st, 1, &nl);
		buf_reset(&canon);
		norm_invoice(num, nl, &canon);
		buf_reset(&key);
		norm_invoice_key(num, nl, &key);
		bool named = score_ref_contains(&sc->pay, canon.p ? canon.p : "", canon.len);
		*closed += named; /* as a run counts them (blocking) */
		named = named || score_key_match(&sc->pay, key.p ? key.p : "", key.len) == 1;
		if (!named && store_col_i64(st, 5) == sc->pay.amount && sc->pay.amount > 0) {
			const char *cid = store_col_text(st, 3, &dl);
			const char *cust = store_col_text(st, 2, &cl);
			buf_reset(&name);
			norm_name(cust, cl, &name);
			named = (sc->cid_len && dl == sc->cid_len && !memcmp(cid, sc->cid, dl)) ||
			        score_name_sim(sc->pay.payer.p, sc->pay.payer.len, name.p ? name.p : "", name.len, 0) >=
			                o->name_threshold;
		}
		if (!named || n == EXPLAIN_CANDIDATES)
			continue;
		const char *id = store_col_text(st, 0, &il);
		const char *status = store_col_text(st, 4, &sl);
		put_reason(out, &n, id, il, num, nl, sl == 4 && !memcmp(status, "void", 4) ? "void" : "already paid");
	}
	store_reset(st);
	for (size_t k = 0; k < sc->nshort && n < EXPLAIN_CANDIDATES && rc != STORE_ERROR; k++) {
		st = store_prepare(c, qs);
		store_bind_i64(st, 1, sc->short_rid[k]);
		if (store_step(st) == STORE_ROW) {
			size_t il, nl;
			const char *id = store_col_text(st, 0, &il);
			const char *num = store_col_text(st, 1, &nl);
			put_reason(out, &n, id, il, num, nl, "amount above outstanding");
		}
		store_reset(st);
	}
	buf_puts(out, "]}");
	buf_free(&canon);
	buf_free(&key);
	buf_free(&name);
	return rc == STORE_ROW || rc == STORE_DONE ? 0 : -1;
}

static void put_candidates(store_conn_t *c, const score_opts *o, scan *sc, buf_t *out, int64_t best_rid,
                           int64_t rival_rid, int verdict, double conf, unsigned best_flags)
{
	static const char *q = "SELECT id, number, customer, issue_date, due_date, outstanding FROM invoices WHERE rid = ?1";
	buf_t why = BUF_INIT, canon = BUF_INIT, tmp = BUF_INIT;
	buf_puts(out, ",\"candidates\":[");
	for (size_t k = 0; k < sc->ntop; k++) {
		const shown *sh = &sc->top[k];
		store_stmt_t *st = store_prepare(c, q);
		store_bind_i64(st, 1, sh->rid);
		if (store_step(st) != STORE_ROW) {
			store_reset(st);
			continue;
		}
		const score_cand *cd = &sh->c;
		size_t nl;
		const char *num = store_col_text(st, 1, &nl);
		buf_reset(&canon);
		norm_invoice(num, nl, &canon);
		score_invoice v = {canon.p ? canon.p : "", canon.len, store_col_i64(st, 5), (date_t)store_col_i64(st, 3),
		                   (date_t)store_col_i64(st, 4), "", 0};
		buf_puts(out, k ? ",{" : "{");
		bool first = true;
		jput_key(out, &first, "invoice_id");
		jput_text(out, st, 0);
		jput_key(out, &first, "number");
		jput_text(out, st, 1);
		jput_key(out, &first, "customer");
		jput_text(out, st, 2);
		jput_key(out, &first, "issue_date");
		jput_date(out, v.issue);
		jput_key(out, &first, "due_date");
		jput_date(out, v.due);
		jput_key(out, &first, "outstanding");
		jput_money(out, v.outstanding);
		jput_key(out, &first, "reference_exact");
		buf_puts(out, cd->flags & SCORE_EXACT_REF ? "true" : "false");
		jput_key(out, &first, "reference_distance");
		if (cd->ref_dist == 255)
			buf_puts(out, "null");
		else
			buf_printf(out, "%d", cd->ref_dist);
		/* 1 for the number itself; else how well it aligns anywhere in
		 * the reference (fuzzy partial ratio). */
		jput_key(out, &first, "reference_similarity");
		double rs = cd->flags & SCORE_EXACT_REF ? 1 : fuzzy_partial_ratio(v.canon, v.canon_len, sc->pay.ref.p,
		                                                                   sc->pay.ref.len, 0) / 100;
		buf_printf(out, "%.3f", rs);
		jput_key(out, &first, "name_similarity");
		buf_printf(out, "%.3f", cd->name_sim);
		jput_key(out, &first, "customer_id_match");
		buf_puts(out, cd->cid_rel > 0 ? "true" : cd->cid_rel < 0 ? "false" : "null");
		jput_key(out, &first, "amount_equal");
		buf_puts(out, cd->flags & SCORE_AMOUNT_EQUAL ? "true" : "false");
		jput_key(out, &first, "amount_fits");
		buf_puts(out, cd->flags & SCORE_AMOUNT_FITS ? "true" : "false");
		jput_key(out, &first, "date_in_window");
		buf_puts(out, cd->flags & SCORE_DATE_OK ? "true" : "false");
		jput_key(out, &first, "rule");
		if (cd->rule)
			buf_printf(out, "\"%s\"", score_rule_name(cd->rule));
		else
			buf_puts(out, "null");
		jput_key(out, &first, "confidence");
		buf_printf(out, "%.3f", cd->conf);
		store_reset(st);

		buf_reset(&why);
		if (sh->other) {
			buf_printf(&why, "other currency: the invoice is in %s, the payment in %s",
			           sh->other_cur[0] ? sh->other_cur : sc->org_cur, sc->cur[0] ? sc->cur : sc->org_cur);
		} else if (!cd->rule) {
			score_refusal(o, &sc->pay, &v, cd, &why);
		} else if (sh->rid == best_rid) {
			if (rival_rid && (best_flags & SCORE_AMBIGUOUS))
				buf_printf(&why, "ties with invoice '%s': confidence %.3f after ambiguity; ",
				           invoice_id(c, rival_rid, &tmp), conf);
			else if (rival_rid)
				buf_printf(&why, "the reference also names (or is as near to) invoice '%s': confidence %.3f after "
				           "ambiguity; ",
				           invoice_id(c, rival_rid, &tmp), conf);
			if (verdict == SCORE_PROPOSED)
				buf_printf(&why, "confidence %.3f is below the auto threshold %.2f: proposed for review", conf,
				           o->auto_threshold);
			else if (verdict == SCORE_UNMATCHED)
				buf_printf(&why, "confidence %.3f is below the review threshold %.2f", conf,
				           o->review_threshold);
		} else if (sh->rid == rival_rid && (best_flags & SCORE_AMBIGUOUS)) {
			buf_printf(&why, "ties with invoice '%s', so neither is applied", invoice_id(c, best_rid, &tmp));
		} else if (sh->rid == rival_rid) {
			buf_printf(&why, "the reference names (or is as near to) it and invoice '%s', so neither is applied",
			           invoice_id(c, best_rid, &tmp));
		} else {
			buf_printf(&why, "invoice '%s' scores higher", invoice_id(c, best_rid, &tmp));
		}
		jput_key(out, &first, "refused");
		if (why.len)
			buf_json_str(out, why.p, why.len);
		else
			buf_puts(out, "null");
		buf_putc(out, '}');
	}
	buf_putc(out, ']');
	buf_free(&why);
	buf_free(&canon);
	buf_free(&tmp);
}

/* Collects a several-invoice decision's rule and set for "batch". */
static void batch_note(buf_t *set, store_stmt_t *st, const char *rule, size_t rl)
{
	if (!set->len) {
		buf_puts(set, ",\"batch\":{\"rule\":");
		buf_json_str(set, rule, rl);
		bool by_ref = rl == 15 && !memcmp(rule, "batch_reference", 15);
		buf_puts(set, by_ref ? ",\"why\":\"the reference names these invoices; the payment settles them together\""
		                     : ",\"why\":\"no usable reference; the amount equals the total of this set of the "
		                       "payer's open invoices (searched nearest due first; a set that is not the only one "
		                       "adding up, or one of a customer with so many open invoices that some set would add up "
		                       "by chance, is only proposed)\"");
		buf_puts(set, ",\"set\":[");
	} else {
		buf_putc(set, ',');
	}
	jput_text(set, st, 1);
}

/* Writes the allocations (and in set the several-invoice rule and set, if
 * any); returns the payment's status. */
static const char *put_allocations(store_conn_t *c, int64_t pay_rid, buf_t *out, buf_t *set, int *rc)
{
	static const char *q = "SELECT i.id, i.number, a.amount, a.rule, a.confidence, a.state, a.writeoff, "
	                       "a.writeoff_reason FROM allocations a "
	                       "JOIN invoices i ON i.rid = a.invoice WHERE a.payment = ?1 ORDER BY a.rid";
	static const char *const states[] = {"applied", "confirmed", "manual", "proposed", "rejected"};
	int rank = 5;
	store_stmt_t *st = store_prepare(c, q);
	store_bind_i64(st, 1, pay_rid);
	buf_puts(out, ",\"allocations\":[");
	store_status s;
	bool first_row = true;
	while ((s = store_step(st)) == STORE_ROW) {
		size_t n;
		const char *state = store_col_text(st, 5, &n);
		for (int k = 0; k < 5; k++)
			if (strlen(states[k]) == n && !memcmp(states[k], state, n) && k < rank)
				rank = k;
		buf_puts(out, first_row ? "{" : ",{");
		first_row = false;
		bool first = true;
		static const jput_field fields[] = {
			{"invoice_id", 0, JPUT_TEXT}, {"invoice_number", 1, JPUT_TEXT}, {"amount", 2, JPUT_MONEY},
			{"rule", 3, JPUT_TEXT},       {"confidence", 4, JPUT_CONF},    {"state", 5, JPUT_TEXT},
			{"writeoff", 6, JPUT_MONEY},  {"writeoff_reason", 7, JPUT_TEXT},
		};
		/* The write-off pair only when there is one. */
		jput_fields(out, &first, st, fields, store_col_i64(st, 6) > 0 ? 8 : 6);
		buf_putc(out, '}');
		size_t rl;
		const char *rule = store_col_text(st, 3, &rl);
		if (rl > 6 && !memcmp(rule, "batch_", 6) && !(n == 8 && !memcmp(state, "rejected", 8)))
			batch_note(set, st, rule, rl);
	}
	store_reset(st);
	buf_putc(out, ']');
	*rc = s == STORE_DONE ? 0 : -1;
	return rank < 5 ? states[rank] : "unmatched";
}

matcher_status explain_payment(store_t *s, int64_t org, const char *payment_id, size_t len, const score_opts *o,
                               buf_t *out, char *err, size_t errlen)
{
	static const char *q = "SELECT rid, id, date, payer, amount, reference, customer_id, currency, payer_account "
	                       "FROM payments WHERE org = ?1 AND id = ?2";
	score_opts defaults;
	store_conn_t *c = store_read_begin(s);
	if (!o) {
		/* The org's rules, as a run takes them. */
		if (rules_load(c, org, &defaults, err, errlen) != 0) {
			store_read_end(c);
			return MATCHER_FAILED;
		}
		o = &defaults;
	}
	store_stmt_t *st = store_prepare(c, q);
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, payment_id, len);
	store_status rc = store_step(st);
	if (rc != STORE_ROW) {
		if (rc == STORE_DONE)
			snprintf(err, errlen, "unknown payment '%.*s'", (int)(len > 80 ? 80 : len), payment_id);
		else
			snprintf(err, errlen, "reading the payment: %s", store_errmsg(c));
		store_reset(st);
		store_read_end(c);
		return rc == STORE_DONE ? MATCHER_NOT_FOUND : MATCHER_FAILED;
	}
	size_t at = out->len;
	scan sc = {.org = org};
	int64_t rid = store_col_i64(st, 0), amount = store_col_i64(st, 4);
	date_t day = (date_t)store_col_i64(st, 2);
	size_t pl, rl, cl;
	const char *payer = store_col_text(st, 3, &pl);
	const char *ref = store_col_text(st, 5, &rl);
	const char *cid = store_col_text(st, 6, &cl);
	score_payment_prepare(&sc.pay, payer, pl, ref, rl, amount, day, 0, 0);
	size_t al;
	const char *account = store_col_text(st, 8, &al);
	char *cid_copy = xstrndup(cid, cl), *payer_copy = xstrndup(payer, pl), *account_copy = xstrndup(account, al);
	sc.cid = cid_copy;
	sc.cid_len = cl;
	size_t ul;
	const char *ucur = store_col_text(st, 7, &ul);
	snprintf(sc.cur, sizeof sc.cur, "%.*s", (int)(ul < 3 ? ul : 3), ucur);
	buf_puts(out, "{\"payment\":{");
	bool first = true;
	jput_key(out, &first, "id");
	jput_text(out, st, 1);
	jput_key(out, &first, "date");
	jput_date(out, day);
	jput_key(out, &first, "payer");
	jput_text(out, st, 3);
	jput_key(out, &first, "amount");
	jput_money(out, amount);
	jput_key(out, &first, "reference");
	jput_text(out, st, 5);
	jput_key(out, &first, "customer_id");
	jput_text(out, st, 6);
	if (al) {
		jput_key(out, &first, "payer_account");
		jput_text(out, st, 8);
	}
	buf_putc(out, '}');
	store_reset(st);
	org_settings set;
	memcpy(sc.org_cur, settings_get(c, org, &set) ? set.currency : CURRENCY_DEFAULT, 4);

	int arc = 0;
	buf_t allocs = BUF_INIT, bset = BUF_INIT, learned = BUF_INIT;
	const char *status = put_allocations(c, rid, &allocs, &bset, &arc);
	buf_printf(out, ",\"status\":\"%s\"", status);
	buf_put(out, allocs.p, allocs.len);
	if (bset.len) {
		buf_put(out, bset.p, bset.len);
		buf_puts(out, "]}");
	}
	int64_t credit = credit_left(c, rid);
	if (credit > 0) {
		buf_puts(out, ",\"credit\":");
		jput_money(out, credit);
	}
	alias_kind ak = o->use_aliases ? alias_of(c, org, payer_copy, pl, account_copy, al, &learned) : ALIAS_NONE;
	if (ak != ALIAS_NONE) {
		buf_puts(out, ",\"learned\":{\"customer\":");
		buf_json_str(out, learned.p, learned.len);
		buf_printf(out, ",\"by\":\"%s\",\"why\":\"a person matched this payer's %s to this customer; it scores 1.0 "
		                "against it\"}",
		           ak == ALIAS_ACCOUNT ? "account" : "spelling", ak == ALIAS_ACCOUNT ? "account" : "spelling");
		sc.alias = learned.p;
		sc.alias_len = learned.len;
		sc.alias_account = ak == ALIAS_ACCOUNT;
	}
	buf_free(&allocs);
	buf_free(&bset);
	matcher_status ret = MATCHER_OK;
	bool settled = !strcmp(status, "applied") || !strcmp(status, "confirmed") || !strcmp(status, "manual");
	if (arc != 0) {
		snprintf(err, errlen, "reading allocations: %s", store_errmsg(c));
		ret = MATCHER_FAILED;
	} else if (!settled) {
		if (scan_invoices(c, org, o, &sc, err, errlen) != 0) {
			ret = MATCHER_FAILED;
		} else {
			int64_t best, rival;
			int verdict;
			double conf;
			unsigned best_flags;
			size_t closed;
			buf_t reasons = BUF_INIT;
			if (put_not_candidates(c, o, &sc, &reasons, &closed) != 0) {
				snprintf(err, errlen, "reading invoices: %s", store_errmsg(c));
				ret = MATCHER_FAILED;
			}
			put_decision(c, o, &sc, closed, out, &best, &rival, &verdict, &conf, &best_flags);
			buf_put(out, reasons.p, reasons.len);
			buf_free(&reasons);
			put_candidates(c, o, &sc, out, best, rival, verdict, conf, best_flags);
		}
	}
	buf_putc(out, '}');
	store_read_end(c);
	if (ret != MATCHER_OK) {
		out->len = at;
		if (out->p)
			out->p[at] = '\0';
	}
	free(cid_copy);
	free(payer_copy);
	free(account_copy);
	buf_free(&learned);
	free(sc.ruled);
	free(sc.ruled_rid);
	score_payment_free(&sc.pay);
	return ret;
}
