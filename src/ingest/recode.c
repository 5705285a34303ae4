#include "ingest/recode.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "ingest/expr.h"

/* DESIGN
 * Order on a row: compute, then values, then rules, then where. Rules'
 * conditions are all tested on the row as computed and recoded, before
 * any rule assigns, so their order never matters; two matching rules that
 * set one field to different values reject the row (naming both), two
 * rules with the same condition that disagree are refused before any row.
 * A --where that leaves a row out wins over any error of that row: a
 * filtered row is never a rejection. Names in --where and conditions are
 * the file's columns first, then the entity's fields (as they would be
 * stored, before the sign options); names in --compute are columns only. */

#define MAX_RULES 256
#define FIELD_SLOT 100000 /* slots from here are entity fields, below file columns */

typedef struct {
	char *from, *to;
} pair_t;

typedef struct {
	expr_t *cond;
	char *text;   /* the condition as written, for messages */
	int nset;
	int col[ENTITY_MAXCOLS];
	char *val[ENTITY_MAXCOLS];
} rule_t;

struct recode {
	entity_kind kind;
	pair_t *pairs[ENTITY_MAXCOLS]; /* --values per field */
	int npairs[ENTITY_MAXCOLS];
	expr_t *compute[ENTITY_MAXCOLS];
	expr_t *where;
	rule_t *rules;
	int nrules;
};

static char *dup_slice(slice_t s)
{
	char *c = xmalloc(s.len + 1);
	memcpy(c, s.p, s.len);
	c[s.len] = '\0';
	return c;
}

/* A quote opens only at the start of a token: the apostrophe of
 * "McDonald's" or "Won't" is text. */
static bool opens_quote(const char *start, const char *p, bool single)
{
	if (*p != '"' && !(single && (*p == '\'' || *p == '`')))
		return false;
	unsigned char prev = p > start ? (unsigned char)p[-1] : ' ';
	return !((prev >= 'a' && prev <= 'z') || (prev >= 'A' && prev <= 'Z') || (prev >= '0' && prev <= '9') ||
	         prev >= 0x80);
}

/* The next item of a list separated by one of seps, separators inside
 * "quotes" kept; expr also keeps them inside 'quotes', `backticks`,
 * [brackets] and parentheses (expressions, rules). */
static slice_t next_item(const char **pp, const char *seps, bool expr)
{
	const char *p = *pp, *st = p;
	int depth = 0;
	char q = 0;
	for (; *p; p++) {
		if (q) {
			if (*p == q)
				q = 0;
		} else if (opens_quote(st, p, expr)) {
			q = *p;
		} else if (expr && *p == '[') {
			q = ']';
		} else if (expr && *p == '(') {
			depth++;
		} else if (expr && *p == ')') {
			depth--;
		} else if (depth <= 0 && strchr(seps, *p)) {
			break;
		}
	}
	*pp = *p ? p + 1 : p;
	return (slice_t){st, (size_t)(p - st)};
}

/* Position of the first c outside "quotes" in s, or -1. */
static long find_unquoted(slice_t s, char c)
{
	char q = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (q) {
			if (s.p[i] == q)
				q = 0;
		} else if (s.p[i] == '"' && opens_quote(s.p, s.p + i, false)) {
			q = s.p[i];
		} else if (s.p[i] == c) {
			return (long)i;
		}
	}
	return -1;
}

/* Trimmed, without surrounding double quotes ("" inside is one). */
static char *unquote(slice_t s)
{
	s = slice_trim(s);
	if (s.len < 2 || s.p[0] != '"' || s.p[s.len - 1] != '"')
		return dup_slice(s);
	char q = s.p[0], *out = xmalloc(s.len), *w = out;
	for (size_t i = 1; i + 1 < s.len; i++) {
		*w++ = s.p[i];
		if (s.p[i] == q && s.p[i + 1] == q)
			i++;
	}
	*w = '\0';
	return out;
}

static int field_of(const entity_def *d, slice_t name, const char *what, char *why, size_t whylen)
{
	name = slice_trim(name);
	int i = entity_col_index(d, name.p, name.len);
	if (i < 0) {
		char list[200] = "";
		for (int j = 0; j < d->ncols; j++)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", d->cols[j].name);
		snprintf(why, whylen, "%s: '%.*s' is not a field of %s (%s)", what, (int)(name.len > 40 ? 40 : name.len),
		         name.p, d->name, list);
	}
	return i;
}

/* A value given for an enum field must be one it takes. */
static bool value_ok(const entity_col *c, const char *v, const char *what, char *why, size_t whylen)
{
	if (c->type != COL_ENUM)
		return true;
	char list[160] = "";
	for (int j = 0; c->values[j]; j++) {
		if (!strcasecmp(v, c->values[j]))
			return true;
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", c->values[j]);
	}
	snprintf(why, whylen, "%s: '%.40s' is not a %s (%s)", what, v, c->name, list);
	return false;
}

static bool parse_values(recode_t *r, const char *spec, char *why, size_t whylen)
{
	const entity_def *d = entity_get(r->kind);
	int cur = -1;
	const char *p = spec;
	while (*p) {
		slice_t item = slice_trim(next_item(&p, ",", false));
		if (!item.len)
			continue;
		long eq = find_unquoted(item, '='), colon = find_unquoted(item, ':');
		if (eq >= 0 && (colon < 0 || eq < colon)) {
			cur = field_of(d, (slice_t){item.p, (size_t)eq}, "values", why, whylen);
			if (cur < 0)
				return false;
			if (r->npairs[cur]) {
				snprintf(why, whylen, "values: '%s' is given twice: list all its values in one place",
				         d->cols[cur].name);
				return false;
			}
			item = (slice_t){item.p + eq + 1, item.len - (size_t)eq - 1};
			colon = find_unquoted(item, ':');
		}
		if (cur < 0 || colon < 0) {
			snprintf(why, whylen, "values: '%.*s' is not FIELD=FROM:TO (e.g. status=Prospecting:new,Engaging:contacted)",
			         (int)(item.len > 40 ? 40 : item.len), item.p);
			return false;
		}
		char *from = unquote((slice_t){item.p, (size_t)colon});
		char *to = unquote((slice_t){item.p + colon + 1, item.len - (size_t)colon - 1});
		r->pairs[cur] = xrealloc(r->pairs[cur], (size_t)(r->npairs[cur] + 1) * sizeof *r->pairs[cur]);
		r->pairs[cur][r->npairs[cur]++] = (pair_t){from, to};
		char what[64];
		snprintf(what, sizeof what, "values %s", d->cols[cur].name);
		if (!value_ok(&d->cols[cur], to, what, why, whylen))
			return false;
		for (int j = 0; j < r->npairs[cur] - 1; j++)
			if (expr_text_same(slice_cstr(r->pairs[cur][j].from), slice_cstr(from)) &&
			    !expr_text_same(slice_cstr(r->pairs[cur][j].to), slice_cstr(to))) {
				snprintf(why, whylen, "values %s: '%.40s' is recoded twice, to '%.40s' and to '%.40s'",
				         d->cols[cur].name, from, r->pairs[cur][j].to, to);
				return false;
			}
	}
	return true;
}

static bool parse_compute(recode_t *r, const char *spec, char *why, size_t whylen)
{
	const entity_def *d = entity_get(r->kind);
	const char *p = spec;
	while (*p) {
		slice_t item = slice_trim(next_item(&p, ",", true));
		if (!item.len)
			continue;
		long eq = find_unquoted(item, '=');
		if (eq < 0) {
			snprintf(why, whylen, "compute: '%.*s' is not FIELD=EXPRESSION (e.g. amount=Sales - Profit)",
			         (int)(item.len > 40 ? 40 : item.len), item.p);
			return false;
		}
		int col = field_of(d, (slice_t){item.p, (size_t)eq}, "compute", why, whylen);
		if (col < 0)
			return false;
		if (r->compute[col]) {
			snprintf(why, whylen, "compute: '%s' is given twice", d->cols[col].name);
			return false;
		}
		slice_t ex = slice_trim((slice_t){item.p + eq + 1, item.len - (size_t)eq - 1});
		/* The HTTP and profile forms may keep the quotes of the shell's. */
		if (ex.len >= 2 && ex.p[0] == '"' && ex.p[ex.len - 1] == '"' && !memchr(ex.p + 1, '"', ex.len - 2))
			ex = (slice_t){ex.p + 1, ex.len - 2};
		char w[200];
		if (!ex.len) {
			snprintf(why, whylen, "compute %s: the expression is empty", d->cols[col].name);
			return false;
		}
		if (!(r->compute[col] = expr_parse(ex.p, ex.len, EXPR_VALUE, NULL, w, sizeof w))) {
			snprintf(why, whylen, "compute %s: %s", d->cols[col].name, w);
			return false;
		}
	}
	return true;
}

static bool parse_rule(recode_t *r, slice_t st, int no, char *why, size_t whylen)
{
	const entity_def *d = entity_get(r->kind);
	if (st.len < 3 || strncasecmp(st.p, "if", 2) || (st.p[2] != ' ' && st.p[2] != '\t')) {
		snprintf(why, whylen, "rule %d: expected 'if CONDITION then FIELD=VALUE', not '%.*s'", no,
		         (int)(st.len > 40 ? 40 : st.len), st.p);
		return false;
	}
	if (r->nrules == MAX_RULES) {
		snprintf(why, whylen, "more than %d rules", MAX_RULES);
		return false;
	}
	st = slice_trim((slice_t){st.p + 3, st.len - 3});
	char w[200];
	size_t used;
	expr_t *cond = expr_parse(st.p, st.len, EXPR_COND, &used, w, sizeof w);
	if (!cond) {
		snprintf(why, whylen, "rule %d: %s", no, w);
		return false;
	}
	r->rules = xrealloc(r->rules, (size_t)(r->nrules + 1) * sizeof *r->rules);
	rule_t *ru = &r->rules[r->nrules++];
	memset(ru, 0, sizeof *ru);
	ru->cond = cond;
	ru->text = dup_slice(slice_trim((slice_t){st.p, used}));
	slice_t rest = slice_trim((slice_t){st.p + used, st.len - used});
	if (rest.len < 5 || strncasecmp(rest.p, "then", 4) || (rest.p[4] != ' ' && rest.p[4] != '\t')) {
		snprintf(why, whylen, "rule %d: expected 'then FIELD=VALUE' after the condition", no);
		return false;
	}
	char *list = dup_slice((slice_t){rest.p + 5, rest.len - 5});
	const char *p = list;
	bool ok = true;
	while (ok && *p) {
		slice_t a = slice_trim(next_item(&p, ",", false));
		long eq = find_unquoted(a, '=');
		if (eq < 0) {
			snprintf(why, whylen, "rule %d: '%.*s' is not FIELD=VALUE", no, (int)(a.len > 40 ? 40 : a.len), a.p);
			ok = false;
			break;
		}
		char what[32];
		snprintf(what, sizeof what, "rule %d", no);
		int col = field_of(d, (slice_t){a.p, (size_t)eq}, what, why, whylen);
		ok = col >= 0;
		for (int j = 0; ok && j < ru->nset; j++)
			if (ru->col[j] == col) {
				snprintf(why, whylen, "rule %d sets '%s' twice", no, d->cols[col].name);
				ok = false;
			}
		if (!ok)
			break;
		ru->col[ru->nset] = col;
		ru->val[ru->nset] = unquote((slice_t){a.p + eq + 1, a.len - (size_t)eq - 1});
		ok = value_ok(&d->cols[col], ru->val[ru->nset], what, why, whylen);
		ru->nset++;
	}
	free(list);
	if (ok && !ru->nset) {
		snprintf(why, whylen, "rule %d sets nothing after 'then'", no);
		ok = false;
	}
	/* The same condition twice with different values can never be right. */
	for (int i = 0; ok && i < r->nrules - 1; i++) {
		const rule_t *o = &r->rules[i];
		if (!expr_text_same(slice_cstr(o->text), slice_cstr(ru->text)))
			continue;
		for (int a = 0; a < o->nset; a++)
			for (int b = 0; b < ru->nset; b++)
				if (ok && o->col[a] == ru->col[b] && !expr_text_same(slice_cstr(o->val[a]), slice_cstr(ru->val[b]))) {
					snprintf(why, whylen, "rules %d and %d are ambiguous: the same condition sets %s to '%.40s' and to '%.40s'",
					         i + 1, no, d->cols[o->col[a]].name, o->val[a], ru->val[b]);
					ok = false;
				}
	}
	return ok;
}

static bool parse_rules(recode_t *r, const char *text, char *why, size_t whylen)
{
	const char *p = text;
	int no = 0;
	while (*p) {
		slice_t st = slice_trim(next_item(&p, "\n;", true));
		if (!st.len || st.p[0] == '#')
			continue;
		if (!parse_rule(r, st, ++no, why, whylen))
			return false;
	}
	return true;
}

static bool given(const char *s)
{
	return s && slice_trim(slice_cstr(s)).len;
}

bool recode_parse(entity_kind k, const char *values, const char *compute, const char *where, const char *rules,
                  recode_t **out, char *why, size_t whylen)
{
	*out = NULL;
	if (!given(values) && !given(compute) && !given(where) && !given(rules))
		return true;
	recode_t *r = xcalloc(1, sizeof *r);
	r->kind = k;
	bool ok = true;
	if (given(values))
		ok = parse_values(r, values, why, whylen);
	if (ok && given(compute))
		ok = parse_compute(r, compute, why, whylen);
	if (ok && given(where)) {
		char w[200];
		size_t len = strlen(where);
		if (!(r->where = expr_parse(where, len, EXPR_COND, NULL, w, sizeof w))) {
			snprintf(why, whylen, "where: %s", w);
			ok = false;
		}
	}
	if (ok && given(rules))
		ok = parse_rules(r, rules, why, whylen);
	if (!ok) {
		recode_free(r);
		return false;
	}
	*out = r;
	return true;
}

void recode_free(recode_t *r)
{
	if (!r)
		return;
	for (int i = 0; i < ENTITY_MAXCOLS; i++) {
		for (int j = 0; j < r->npairs[i]; j++) {
			free(r->pairs[i][j].from);
			free(r->pairs[i][j].to);
		}
		free(r->pairs[i]);
		expr_free(r->compute[i]);
	}
	expr_free(r->where);
	for (int i = 0; i < r->nrules; i++) {
		expr_free(r->rules[i].cond);
		free(r->rules[i].text);
		for (int j = 0; j < r->rules[i].nset; j++)
			free(r->rules[i].val[j]);
	}
	free(r->rules);
	free(r);
}

bool recode_computes(const recode_t *r, int col)
{
	return r && col >= 0 && col < ENTITY_MAXCOLS && r->compute[col];
}

bool recode_rule_sets(const recode_t *r, int col)
{
	for (int i = 0; r && i < r->nrules; i++)
		for (int j = 0; j < r->rules[i].nset; j++)
			if (r->rules[i].col[j] == col)
				return true;
	return false;
}

/* ---- binding and rows ---- */

struct recode_plan {
	const recode_t *r;
	const import_opts *o;
	int minor;
	int *compute_slots[ENTITY_MAXCOLS];
	int *where_slots;
	int **rule_slots;
	bool *matched;
	char num[ENTITY_MAXCOLS][DECIMAL_BUFSZ];
	const csv_row_t *row; /* the row being recoded */
	const record_t *rec;
};

static slice_t get_slot(void *ud, int slot)
{
	const recode_plan *p = ud;
	if (slot >= FIELD_SLOT) {
		int i = slot - FIELD_SLOT;
		return p->rec->present[i] ? p->rec->raw[i] : SLICE_LIT("");
	}
	return (size_t)slot < p->row->nfields ? csv_unguard(p->row->fields[slot]) : SLICE_LIT("");
}

/* Resolves every name of e to a slot; fields only where fields is set. */
static int *bind_expr(const expr_t *e, const entity_def *d, const csv_row_t *h, bool fields, const char *what,
                      char *err, size_t errlen)
{
	int n = expr_nnames(e);
	int *slots = xcalloc((size_t)(n ? n : 1), sizeof *slots);
	for (int i = 0; i < n; i++) {
		const char *name = expr_name(e, i);
		slots[i] = -1;
		if (name[0] == '$') {
			slots[i] = atoi(name + 1) - 1;
			continue;
		}
		for (size_t j = 0; h && j < h->nfields; j++)
			if (slice_ieq_cstr(slice_trim(h->fields[j]), name)) {
				if (slots[i] >= 0) {
					snprintf(err, errlen, "%s: the header has two columns named '%s' (columns %d and %zu): rename one",
					         what, name, slots[i] + 1, j + 1);
					free(slots);
					return NULL;
				}
				slots[i] = (int)j;
			}
		if (slots[i] >= 0)
			continue;
		int f = fields ? entity_col_index(d, name, strlen(name)) : -1;
		if (f >= 0) {
			slots[i] = FIELD_SLOT + f;
			continue;
		}
		if (!h) {
			snprintf(err, errlen, "%s: unknown column '%.60s': without a header, name columns by position ($1, $2, ...)",
			         what, name);
		} else {
			char list[300] = "", guess[64] = "";
			size_t nl = strlen(name);
			for (size_t j = 0; j < h->nfields; j++) {
				slice_t c = slice_trim(h->fields[j]);
				/* "Sub" of Sub-Category, "Order" of Order Date: the rest was read as more of the expression */
				if (!guess[0] && c.len > nl && !strncasecmp(c.p, name, nl) && !isalnum((unsigned char)c.p[nl]))
					snprintf(guess, sizeof guess, "; did you mean [%.*s]?", (int)(c.len > 40 ? 40 : c.len), c.p);
				if (strlen(list) < 240)
					snprintf(list + strlen(list), sizeof list - strlen(list), "%s%.*s", j ? ", " : "",
					         (int)(c.len > 40 ? 40 : c.len), c.p);
			}
			snprintf(err, errlen, "%s: unknown column '%.60s' (the header has: %s%s; a name with spaces or symbols goes in [brackets])%s",
			         what, name, list, strlen(list) >= 240 ? ", ..." : "", guess);
		}
		free(slots);
		return NULL;
	}
	return slots;
}

void recode_set_minor(recode_plan *p, int minor)
{
	p->minor = minor;
}

recode_plan *recode_bind(const import_opts *o, const csv_row_t *h, int minor, char *err, size_t errlen)
{
	const recode_t *r = o->recode;
	if (!r)
		return NULL;
	const entity_def *d = entity_get(r->kind);
	recode_plan *p = xcalloc(1, sizeof *p);
	p->r = r;
	p->o = o;
	p->minor = minor;
	char what[48];
	for (int i = 0; i < d->ncols; i++) {
		if (!r->compute[i])
			continue;
		snprintf(what, sizeof what, "compute %s", d->cols[i].name);
		if (!(p->compute_slots[i] = bind_expr(r->compute[i], d, h, false, what, err, errlen)))
			goto fail;
	}
	if (r->where && !(p->where_slots = bind_expr(r->where, d, h, true, "where", err, errlen)))
		goto fail;
	p->rule_slots = xcalloc((size_t)r->nrules + 1, sizeof *p->rule_slots);
	p->matched = xcalloc((size_t)r->nrules + 1, sizeof *p->matched);
	for (int i = 0; i < r->nrules; i++) {
		snprintf(what, sizeof what, "rule %d", i + 1);
		if (!(p->rule_slots[i] = bind_expr(r->rules[i].cond, d, h, true, what, err, errlen)))
			goto fail;
	}
	return p;
fail:
	recode_plan_free(p);
	return NULL;
}

void recode_plan_free(recode_plan *p)
{
	if (!p)
		return;
	for (int i = 0; i < ENTITY_MAXCOLS; i++)
		free(p->compute_slots[i]);
	free(p->where_slots);
	for (int i = 0; p->rule_slots && i < p->r->nrules; i++)
		free(p->rule_slots[i]);
	free(p->rule_slots);
	free(p->matched);
	free(p);
}

static void first_error(char *err, size_t n, const char *fmt, const char *a, const char *b)
{
	if (!err[0])
		snprintf(err, n, fmt, a, b);
}

static void set_field(record_t *rec, int i, slice_t v)
{
	rec->raw[i] = v;
	rec->present[i] = v.len > 0;
	rec->parsed[i] = false;
}

/* Stores a computed value in field i (an amount exactly, in minor units). */
static void computed(recode_plan *p, record_t *rec, int i, const expr_val *v, char *err, size_t errlen)
{
	const entity_col *c = &entity_get(p->r->kind)->cols[i];
	if (v->kind == EXPR_NULL) {
		const char *dflt = p->o->defaults[i];
		set_field(rec, i, dflt ? slice_cstr(dflt) : SLICE_LIT(""));
		return;
	}
	if (v->kind == EXPR_TEXT) {
		set_field(rec, i, v->text);
		return;
	}
	if (c->type != COL_MONEY) {
		set_field(rec, i, (slice_t){p->num[i], decimal_format(v->num, p->num[i], sizeof p->num[i])});
		return;
	}
	int64_t x;
	decimal_status st = decimal_to_minor(v->num, p->minor, p->o->parse.money.round, &x);
	if (st != DECIMAL_OK) {
		char t[DECIMAL_BUFSZ], w[200];
		decimal_format(v->num, t, sizeof t);
		if (st == DECIMAL_INEXACT)
			snprintf(w, sizeof w, "%s has more than %d decimal place%s for the organisation's currency; try --round", t,
			         p->minor, p->minor == 1 ? "" : "s");
		else
			snprintf(w, sizeof w, "%.40s is out of bounds (%s)", t, money_strerror(MONEY_BOUND));
		first_error(err, errlen, "compute %s: %s", c->name, w);
		set_field(rec, i, SLICE_LIT(""));
		return;
	}
	set_field(rec, i, (slice_t){p->num[i], money_format_minor(x, p->minor, p->num[i])});
	rec->parsed[i] = true; /* exact already: not re-read with the file's options */
	rec->num[i] = x;
}

recode_verdict recode_apply(recode_plan *p, const csv_row_t *row, record_t *rec, char *why, size_t whylen)
{
	const recode_t *r = p->r;
	const entity_def *d = entity_get(r->kind);
	p->row = row;
	p->rec = rec;
	expr_ctx c = {get_slot, p, NULL, p->o->parse.money_lenient ? &p->o->parse.money : NULL, p->o->parse.date_format};
	char err[320] = "", w[200];
	for (int i = 0; i < d->ncols; i++) {
		if (!r->compute[i])
			continue;
		expr_val v;
		c.slots = p->compute_slots[i];
		if (!expr_eval(r->compute[i], &c, &v, w, sizeof w)) {
			first_error(err, sizeof err, "compute %s: %s", d->cols[i].name, w);
			set_field(rec, i, SLICE_LIT(""));
			continue;
		}
		computed(p, rec, i, &v, err, sizeof err);
	}
	for (int i = 0; i < d->ncols; i++) {
		slice_t cur = rec->present[i] ? slice_trim(rec->raw[i]) : SLICE_LIT("");
		for (int j = 0; j < r->npairs[i]; j++)
			if (expr_text_same(cur, slice_cstr(r->pairs[i][j].from))) {
				set_field(rec, i, slice_cstr(r->pairs[i][j].to));
				break;
			}
	}
	/* Every condition on the same row first: the rules' order never matters. */
	for (int i = 0; i < r->nrules; i++) {
		c.slots = p->rule_slots[i];
		p->matched[i] = false;
		if (!expr_test(r->rules[i].cond, &c, &p->matched[i], w, sizeof w)) {
			char no[16];
			snprintf(no, sizeof no, "%d", i + 1);
			first_error(err, sizeof err, "rule %s: %s", no, w);
		}
	}
	int setby[ENTITY_MAXCOLS];
	const char *setval[ENTITY_MAXCOLS];
	for (int i = 0; i < ENTITY_MAXCOLS; i++)
		setby[i] = -1;
	for (int i = 0; i < r->nrules; i++) {
		if (!p->matched[i])
			continue;
		const rule_t *ru = &r->rules[i];
		for (int j = 0; j < ru->nset; j++) {
			int col = ru->col[j];
			if (setby[col] >= 0 && !expr_text_same(slice_cstr(setval[col]), slice_cstr(ru->val[j]))) {
				if (!err[0])
					snprintf(err, sizeof err,
					         "rules %d (if %.60s) and %d (if %.60s) both match and set %s to '%.30s' and '%.30s': "
					         "make one condition narrower",
					         setby[col] + 1, r->rules[setby[col]].text, i + 1, ru->text, d->cols[col].name,
					         setval[col], ru->val[j]);
				continue;
			}
			setby[col] = i;
			setval[col] = ru->val[j];
			set_field(rec, col, slice_cstr(ru->val[j]));
		}
	}
	if (r->where) {
		bool keep;
		c.slots = p->where_slots;
		if (!expr_test(r->where, &c, &keep, w, sizeof w)) {
			snprintf(why, whylen, "where: %s", w);
			return RECODE_REJECT;
		}
		if (!keep)
			return RECODE_SKIP;
	}
	if (err[0]) {
		snprintf(why, whylen, "%s", err);
		return RECODE_REJECT;
	}
	return RECODE_KEEP;
}
