#include "ingest/expr.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "core/date.h"
#include "core/decimal.h"
#include "ingest/expr_int.h"

/* DESIGN
 * Values are text, exact decimals or empty (EXPR_NULL); text becomes a
 * number only where arithmetic or a comparison asks for one, read with
 * the import's money options, so "1,234.50" under --thousands , is
 * 1234.50 here as in an amount column. */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ---- evaluation ---- */

/* Text as a number, with the import's money options. */
static bool text_number(slice_t t, const money_opts *mo, expr_val *v)
{
	if (!decimal_parse(t.p, t.len, mo, &v->num))
		return false;
	v->kind = EXPR_NUM;
	return true;
}

static bool eval(const expr_t *e, int n, const expr_ctx *c, expr_val *out, char *why, size_t whylen);
static bool test(const expr_t *e, int n, const expr_ctx *c, bool *out, char *why, size_t whylen);

static bool as_number(const expr_t *e, int n, const expr_ctx *c, expr_val *v, char *why, size_t whylen)
{
	if (!eval(e, n, c, v, why, whylen))
		return false;
	if (v->kind != EXPR_TEXT)
		return true;
	slice_t t = v->text;
	if (text_number(t, c->money, v))
		return true;
	const expr_node *d = &e->nodes[n];
	snprintf(why, whylen, "%s%s%s'%.*s%s' is not a number", d->k == N_NAME ? "column '" : "",
	         d->k == N_NAME ? e->names[d->name] : "", d->k == N_NAME ? "': " : "", (int)(t.len > 40 ? 40 : t.len),
	         t.p, t.len > 40 ? "..." : "");
	return false;
}

static bool arith(const expr_t *e, const expr_node *d, const expr_ctx *c, expr_val *out, char *why, size_t whylen)
{
	expr_val a, b;
	if (!as_number(e, d->a, c, &a, why, whylen) || !as_number(e, d->b, c, &b, why, whylen))
		return false;
	if (a.kind == EXPR_NULL || b.kind == EXPR_NULL) {
		out->kind = EXPR_NULL;
		return true;
	}
	out->kind = EXPR_NUM;
	bool ok = d->k == N_MUL   ? decimal_mul(a.num, b.num, &out->num)
	          : d->k == N_ADD ? decimal_add(a.num, b.num, &out->num)
	                          : decimal_sub(a.num, b.num, &out->num);
	if (!ok)
		snprintf(why, whylen, "the result is too large");
	return ok;
}

static bool eval(const expr_t *e, int n, const expr_ctx *c, expr_val *out, char *why, size_t whylen)
{
	const expr_node *d = &e->nodes[n];
	switch (d->k) {
	case N_NAME:
		out->text = slice_trim(c->get(c->ud, c->slots[d->name]));
		out->kind = out->text.len ? EXPR_TEXT : EXPR_NULL;
		return true;
	case N_TEXT:
		out->text = (slice_t){d->text, d->tlen};
		out->kind = d->tlen ? EXPR_TEXT : EXPR_NULL;
		return true;
	case N_NUM:
		out->kind = EXPR_NUM;
		out->num = d->num;
		return true;
	case N_NEG:
	case N_ABS:
		if (!as_number(e, d->a, c, out, why, whylen))
			return false;
		if (out->kind == EXPR_NUM && (d->k == N_NEG || out->num.num < 0))
			out->num.num = -out->num.num; /* magnitudes stay far below the 128-bit minimum */
		return true;
	case N_ADD:
	case N_SUB:
	case N_MUL:
		return arith(e, d, c, out, why, whylen);
	case N_COALESCE:
		for (int a = d->a; a >= 0; a = e->nodes[a].next) {
			if (!eval(e, a, c, out, why, whylen))
				return false;
			if (out->kind != EXPR_NULL)
				return true;
		}
		out->kind = EXPR_NULL;
		return true;
	default: {
		bool t;
		if (!test(e, n, c, &t, why, whylen))
			return false;
		out->kind = EXPR_TEXT;
		out->text = t ? SLICE_LIT("true") : SLICE_LIT("false");
		return true;
	}
	}
}

bool expr_eval(const expr_t *e, const expr_ctx *c, expr_val *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof *out);
	return eval(e, e->root, c, out, why, whylen);
}

/* ---- conditions ---- */

bool expr_text_same(slice_t a, slice_t b)
{
	size_t i = 0, j = 0;
	for (;;) {
		while (i < a.len && is_space(a.p[i]))
			i++;
		while (j < b.len && is_space(b.p[j]))
			j++;
		if (i == a.len || j == b.len)
			return i == a.len && j == b.len;
		char x = a.p[i++], y = b.p[j++];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
}

static int text_order(slice_t a, slice_t b)
{
	size_t i = 0, j = 0;
	for (;;) {
		while (i < a.len && is_space(a.p[i]))
			i++;
		while (j < b.len && is_space(b.p[j]))
			j++;
		if (i == a.len || j == b.len)
			return (i < a.len) - (j < b.len);
		unsigned char x = (unsigned char)a.p[i++], y = (unsigned char)b.p[j++];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return x < y ? -1 : 1;
	}
}

static bool as_date(slice_t t, const char *fmt, int64_t *out)
{
	timestamp_t ts;
	if (!t.len)
		return false;
	if ((fmt && timestamp_parse_fmt(t.p, t.len, fmt, &ts)) || timestamp_parse_fmt(t.p, t.len, NULL, &ts)) {
		*out = (int64_t)ts.date * 86400 + ts.seconds - ts.offset_min * 60;
		return true;
	}
	return false;
}

/* The text of a value (a number formatted into tmp). */
static slice_t text_of(const expr_val *v, char tmp[DECIMAL_BUFSZ])
{
	if (v->kind == EXPR_NUM)
		return (slice_t){tmp, decimal_format(v->num, tmp, DECIMAL_BUFSZ)};
	return v->kind == EXPR_TEXT ? v->text : SLICE_LIT("");
}

static int order(const expr_val *a, const expr_val *b, const expr_ctx *c)
{
	expr_val x = *a, y = *b;
	bool xn = x.kind == EXPR_NUM || (x.kind == EXPR_TEXT && text_number(x.text, c->money, &x));
	bool yn = y.kind == EXPR_NUM || (y.kind == EXPR_TEXT && text_number(y.text, c->money, &y));
	if (xn && yn)
		return decimal_cmp(x.num, y.num);
	char tx[DECIMAL_BUFSZ], ty[DECIMAL_BUFSZ];
	slice_t sa = text_of(a, tx), sb = text_of(b, ty);
	int64_t da, db;
	if (as_date(sa, c->date_format, &da) && as_date(sb, c->date_format, &db))
		return (da > db) - (da < db);
	return text_order(sa, sb);
}

static bool test(const expr_t *e, int n, const expr_ctx *c, bool *out, char *why, size_t whylen)
{
	const expr_node *d = &e->nodes[n];
	bool x;
	switch (d->k) {
	case N_AND:
	case N_OR:
		if (!test(e, d->a, c, &x, why, whylen))
			return false;
		if (x == (d->k == N_OR)) {
			*out = x;
			return true;
		}
		return test(e, d->b, c, out, why, whylen);
	case N_NOT:
		if (!test(e, d->a, c, &x, why, whylen))
			return false;
		*out = !x;
		return true;
	case N_MATCH: {
		expr_val v;
		if (!eval(e, d->a, c, &v, why, whylen))
			return false;
		char tmp[DECIMAL_BUFSZ];
		slice_t t = text_of(&v, tmp);
		regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)t.len};
		x = regexec(d->re, t.len ? t.p : "", 1, &m, REG_STARTEND) == 0;
		*out = d->op ? !x : x;
		return true;
	}
	case N_CMP: {
		expr_val a, b;
		if (!eval(e, d->a, c, &a, why, whylen) || !eval(e, d->b, c, &b, why, whylen))
			return false;
		/* Numbers, else dates, else text (case and spaces aside). */
		int o = order(&a, &b, c);
		*out = d->op == OP_EQ   ? o == 0
		       : d->op == OP_NE ? o != 0
		       : d->op == OP_LT ? o < 0
		       : d->op == OP_LE ? o <= 0
		       : d->op == OP_GT ? o > 0
		                        : o >= 0;
		return true;
	}
	default: {
		/* A value used as a condition: true when not empty. */
		expr_val v;
		if (!eval(e, n, c, &v, why, whylen))
			return false;
		*out = v.kind != EXPR_NULL;
		return true;
	}
	}
}

bool expr_test(const expr_t *e, const expr_ctx *c, bool *out, char *why, size_t whylen)
{
	return test(e, e->root, c, out, why, whylen);
}
