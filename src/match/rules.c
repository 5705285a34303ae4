#include "match/rules.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/currency.h"
#include "auth/audit.h"
#include "core/money.h"
#include "store/settings.h"

/* DESIGN
 * One table names every rule setting: its JSON key, where it lives in
 * score_opts, its kind and its range. Loading, merging, printing and
 * validating all walk it, so a new setting is one line here. Shares are
 * written as percents in JSON ("writeoff_max_percent": 2 is 0.02). */

enum { K_UNIT, K_DAYS, K_DIST, K_PCT, K_MONEY, K_COUNT, K_ON };

typedef struct {
	const char *key;
	int kind;
	size_t off;
	double lo, hi; /* as written in JSON */
} field;

#define F(k, kind, m, lo, hi) {k, kind, offsetof(score_opts, m), lo, hi}

static const field fields[] = {
	F("auto_threshold", K_UNIT, auto_threshold, 0, 1),
	F("review_threshold", K_UNIT, review_threshold, 0, 1),
	F("name_threshold", K_UNIT, name_threshold, 0, 1),
	F("days_before_issue", K_DAYS, days_before_issue, 0, 3650),
	F("days_after_due", K_DAYS, days_after_due, 0, 3650),
	F("max_ref_distance", K_DIST, max_ref_distance, 0, 3),
	F("writeoff_max", K_MONEY, tol_abs, 0, 1e8),
	F("writeoff_max_percent", K_PCT, tol_pct, 0, 20),
	F("overpayment_max_percent", K_PCT, overpay_max, 0, 100),
	F("batch_max_invoices", K_COUNT, batch_max, 2, 6),
	F("fuzzy_reference", K_ON, use_fuzzy, 0, 1),
	F("amount_customer", K_ON, use_amount_customer, 0, 1),
	F("batch_reference", K_ON, use_batch_reference, 0, 1),
	F("batch_amount", K_ON, use_batch_amount, 0, 1),
	F("writeoff", K_ON, use_writeoff, 0, 1),
	F("credit", K_ON, use_credit, 0, 1),
	F("aliases", K_ON, use_aliases, 0, 1),
};

#define NFIELDS (sizeof fields / sizeof fields[0])

static void *at(score_opts *o, const field *f)
{
	return (char *)o + f->off;
}

static const void *cat(const score_opts *o, const field *f)
{
	return (const char *)o + f->off;
}

static bool same(const score_opts *a, const score_opts *b, const field *f)
{
	switch (f->kind) {
	case K_UNIT:
	case K_PCT: return *(const double *)cat(a, f) == *(const double *)cat(b, f);
	case K_MONEY: return *(const int64_t *)cat(a, f) == *(const int64_t *)cat(b, f);
	case K_ON: return *(const bool *)cat(a, f) == *(const bool *)cat(b, f);
	default: return *(const int *)cat(a, f) == *(const int *)cat(b, f);
	}
}

static void copy(score_opts *dst, const score_opts *src, const field *f)
{
	size_t n = f->kind == K_UNIT || f->kind == K_PCT ? sizeof(double)
	           : f->kind == K_MONEY                  ? sizeof(int64_t)
	           : f->kind == K_ON                     ? sizeof(bool)
	                                                 : sizeof(int);
	memcpy(at(dst, f), cat(src, f), n);
}

void rules_merge(const score_opts *org_rules, const score_opts *explicit_opts, score_opts *o)
{
	score_opts def;
	score_opts_init(&def);
	score_opts out = *explicit_opts; /* fields not in the table stay the caller's */
	for (size_t i = 0; i < NFIELDS; i++)
		copy(&out, same(explicit_opts, &def, &fields[i]) ? org_rules : explicit_opts, &fields[i]);
	*o = out;
}

void rules_json(const score_opts *o, buf_t *out)
{
	buf_putc(out, '{');
	bool in_rules = false;
	for (size_t i = 0; i < NFIELDS; i++) {
		const field *f = &fields[i];
		if (f->kind == K_ON && !in_rules) {
			buf_puts(out, ",\"rules\":{");
			in_rules = true;
		} else if (i) {
			buf_putc(out, ',');
		}
		buf_printf(out, "\"%s\":", f->key);
		switch (f->kind) {
		case K_UNIT: buf_printf(out, "%.3f", *(const double *)cat(o, f)); break;
		case K_PCT: buf_printf(out, "%.3f", *(const double *)cat(o, f) * 100); break;
		case K_MONEY: buf_printf(out, "%lld", (long long)*(const int64_t *)cat(o, f)); break;
		case K_ON: buf_puts(out, *(const bool *)cat(o, f) ? "true" : "false"); break;
		default: buf_printf(out, "%d", *(const int *)cat(o, f));
		}
	}
	buf_puts(out, in_rules ? "}}" : "}");
}

/* Sets field f of o from v; false with a reason. minor: the org's
 * currency decimals, for money written as a decimal string. */
static bool set_field(score_opts *o, const field *f, json_t *v, int minor, char *err, size_t errlen)
{
	if (f->kind == K_ON) {
		if (!json_is_boolean(v)) {
			snprintf(err, errlen, "rules.%s must be true or false", f->key);
			return false;
		}
		*(bool *)at(o, f) = json_is_true(v);
		return true;
	}
	if (f->kind == K_MONEY && json_is_string(v)) {
		int64_t m;
		if (money_parse_minor(json_string_value(v), json_string_length(v), NULL, minor, &m, NULL) != MONEY_OK ||
		    m < 0 || m > (int64_t)f->hi) {
			snprintf(err, errlen, "%s must be an amount such as \"10.00\" (or integer minor units) from 0", f->key);
			return false;
		}
		*(int64_t *)at(o, f) = m;
		return true;
	}
	bool integral = f->kind != K_UNIT && f->kind != K_PCT;
	if (!json_is_number(v) || (integral && !json_is_integer(v))) {
		snprintf(err, errlen, "%s must be %s", f->key, integral ? "an integer" : "a number");
		return false;
	}
	double d = json_number_value(v);
	if (!(d >= f->lo && d <= f->hi)) {
		snprintf(err, errlen, "%s must be within [%g, %g]", f->key, f->lo, f->hi);
		return false;
	}
	switch (f->kind) {
	case K_UNIT: *(double *)at(o, f) = d; break;
	case K_PCT: *(double *)at(o, f) = d / 100; break;
	case K_MONEY: *(int64_t *)at(o, f) = (int64_t)json_integer_value(v); break;
	default: *(int *)at(o, f) = (int)json_integer_value(v);
	}
	return true;
}

/* Applies the keys of obj (and of obj.rules) to o. */
static bool apply_json(score_opts *o, json_t *obj, int minor, char *err, size_t errlen)
{
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "the rules must be a JSON object");
		return false;
	}
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (!strcmp(key, "rules")) {
			if (!json_is_object(v)) {
				snprintf(err, errlen, "rules must be an object of rule names and true/false");
				return false;
			}
			const char *rk;
			json_t *rv;
			json_object_foreach(v, rk, rv) {
				size_t i = 0;
				while (i < NFIELDS && (fields[i].kind != K_ON || strcmp(fields[i].key, rk)))
					i++;
				if (i == NFIELDS) {
					snprintf(err, errlen, "unknown rule '%.60s' (the reference rule is always on)", rk);
					return false;
				}
				if (!set_field(o, &fields[i], rv, minor, err, errlen))
					return false;
			}
			continue;
		}
		size_t i = 0;
		while (i < NFIELDS && (fields[i].kind == K_ON || strcmp(fields[i].key, key)))
			i++;
		if (i == NFIELDS) {
			snprintf(err, errlen, "unknown setting '%.60s'", key);
			return false;
		}
		if (!set_field(o, &fields[i], v, minor, err, errlen))
			return false;
	}
	return score_opts_check(o, err, errlen);
}

static int stored(store_conn_t *c, int64_t org, buf_t *text)
{
	static const char *q = "SELECT rules FROM match_rules WHERE org = ?1";
	store_stmt_t *st = store_prepare(c, q);
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	store_status rc = store_step(st);
	if (rc == STORE_ROW) {
		size_t n;
		const char *s = store_col_text(st, 0, &n);
		buf_put(text, s, n);
	}
	store_reset(st);
	return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

static int org_minor(store_conn_t *c, int64_t org)
{
	org_settings set;
	const char *cur = settings_get(c, org, &set) ? set.currency : CURRENCY_DEFAULT;
	return currency_minor(cur, 3);
}

int rules_load(store_conn_t *c, int64_t org, score_opts *o, char *err, size_t errlen)
{
	score_opts_init(o);
	buf_t text = BUF_INIT;
	int rc = stored(c, org, &text);
	if (rc < 0) {
		snprintf(err, errlen, "reading the reconciliation rules: %s", store_errmsg(c));
	} else if (rc == 1) {
		json_t *j = json_loadb(text.p, text.len, 0, NULL);
		rc = j && apply_json(o, j, org_minor(c, org), err, errlen) ? 0 : -1;
		if (!j)
			snprintf(err, errlen, "the stored reconciliation rules are not valid JSON");
		json_decref(j);
	}
	buf_free(&text);
	return rc < 0 ? -1 : 0;
}

/* "key: old -> new, ..." of the settings that differ between two objects
 * of rules_json (one level of nesting: "rules.credit"), for the audit log. */
static void diff_json(const json_t *a, const json_t *b, const char *prefix, buf_t *out)
{
	const char *key;
	json_t *vb;
	json_object_foreach((json_t *)b, key, vb) {
		json_t *va = json_object_get(a, key);
		if (json_is_object(vb)) {
			char sub[64];
			snprintf(sub, sizeof sub, "%s%s.", prefix, key);
			diff_json(va, vb, sub, out);
			continue;
		}
		if (va && json_equal(va, vb))
			continue;
		char *sa = va ? json_dumps(va, JSON_ENCODE_ANY) : NULL, *sb = json_dumps(vb, JSON_ENCODE_ANY);
		buf_printf(out, "%s%s%s: %s -> %s", out->len ? ", " : "", prefix, key, sa ? sa : "(none)",
		           sb ? sb : "?");
		free(sa);
		free(sb);
	}
}

/* Records a change of the rules in the audit log, in transaction w. */
static int audit_change(store_conn_t *w, int64_t org, const char *actor, const buf_t *before, const buf_t *after)
{
	json_t *a = json_loadb(before->p, before->len, 0, NULL), *b = json_loadb(after->p, after->len, 0, NULL);
	buf_t detail = BUF_INIT;
	if (a && b)
		diff_json(a, b, "", &detail);
	buf_putc(&detail, '\0');
	int rc = audit_add(w, org, actor, "match_rules_put", "match rules", detail.p);
	buf_free(&detail);
	json_decref(a);
	json_decref(b);
	return rc;
}

matcher_status rules_update(store_t *s, int64_t org, const char *body, size_t len, const char *actor, buf_t *out,
                            char *err, size_t errlen)
{
	static const char *up = "INSERT INTO match_rules(org, rules) VALUES(?1, ?2) "
	                        "ON CONFLICT(org) DO UPDATE SET rules = excluded.rules";
	static const char *hist = "INSERT INTO match_rules_history(org, actor, before, after) VALUES(?1, ?2, ?3, ?4)";
	json_error_t jerr;
	json_t *j = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		snprintf(err, errlen, "the body is not valid JSON: %s (line %d, column %d)", jerr.text, jerr.line,
		         jerr.column);
		return MATCHER_INVALID;
	}
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w) {
		json_decref(j);
		return MATCHER_FAILED;
	}
	score_opts o;
	matcher_status st = MATCHER_OK;
	buf_t before = BUF_INIT, after = BUF_INIT;
	if (rules_load(w, org, &o, err, errlen) != 0) {
		st = MATCHER_FAILED;
	} else {
		rules_json(&o, &before);
		if (!apply_json(&o, j, org_minor(w, org), err, errlen))
			st = MATCHER_INVALID;
	}
	if (st == MATCHER_OK) {
		rules_json(&o, &after);
		bool changed = before.len != after.len || memcmp(before.p, after.p, after.len) != 0;
		const char *q[2] = {up, hist};
		for (int i = 0; i < 2 && changed && st == MATCHER_OK; i++) {
			store_stmt_t *ps = store_prepare(w, q[i]);
			store_bind_i64(ps, 1, org);
			if (i == 0) {
				store_bind_text(ps, 2, after.p, after.len);
			} else {
				store_bind_text(ps, 2, actor, strlen(actor));
				store_bind_text(ps, 3, before.p, before.len);
				store_bind_text(ps, 4, after.p, after.len);
			}
			if (store_step(ps) != STORE_DONE) {
				snprintf(err, errlen, "storing the rules: %s", store_errmsg(w));
				st = MATCHER_FAILED;
			}
			store_reset(ps);
		}
		if (st == MATCHER_OK && changed && audit_change(w, org, actor, &before, &after) != 0) {
			snprintf(err, errlen, "recording the change in the audit log: %s", store_errmsg(w));
			st = MATCHER_FAILED;
		}
		if (st == MATCHER_OK && changed) {
			/* Proposals and explanations follow the rules: caches go. */
			store_write_touch(w, org, TBL_BIT(TBL_SETTINGS) | TBL_BIT(TBL_ALLOCATIONS));
			if (store_write_commit(w, err, errlen) != 0)
				st = MATCHER_FAILED;
		} else {
			store_write_rollback(w);
		}
		if (st == MATCHER_OK)
			buf_put(out, after.p, after.len);
	} else {
		store_write_rollback(w);
	}
	buf_free(&before);
	buf_free(&after);
	json_decref(j);
	return st;
}

matcher_status rules_history(store_t *s, int64_t org, int limit, buf_t *out, char *err, size_t errlen)
{
	static const char *q = "SELECT at, actor, before, after FROM match_rules_history WHERE org = ?1 "
	                       "ORDER BY rid DESC LIMIT ?2";
	if (limit < 1 || limit > 1000) {
		snprintf(err, errlen, "limit must be 1 to 1000");
		return MATCHER_INVALID;
	}
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	if (!st) {
		snprintf(err, errlen, "reading the rules' history: %s", store_errmsg(c));
		store_read_end(c);
		return MATCHER_FAILED;
	}
	store_bind_i64(st, 1, org);
	store_bind_i64(st, 2, limit);
	buf_puts(out, "{\"changes\":[");
	store_status rc;
	for (int k = 0; (rc = store_step(st)) == STORE_ROW; k++) {
		size_t n;
		const char *v = store_col_text(st, 0, &n);
		buf_puts(out, k ? ",{\"at\":" : "{\"at\":");
		buf_json_str(out, v, n);
		v = store_col_text(st, 1, &n);
		buf_puts(out, ",\"actor\":");
		buf_json_str(out, v, n);
		/* before and after are rules_json objects: embedded as they are. */
		v = store_col_text(st, 2, &n);
		buf_puts(out, ",\"before\":");
		buf_put(out, v, n);
		v = store_col_text(st, 3, &n);
		buf_puts(out, ",\"after\":");
		buf_put(out, v, n);
		buf_putc(out, '}');
	}
	buf_puts(out, "]}");
	store_reset(st);
	store_read_end(c);
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "reading the rules' history: the store failed");
		return MATCHER_FAILED;
	}
	return MATCHER_OK;
}
