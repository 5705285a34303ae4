#include "ingest/expr.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/date.h"
#include "core/mem.h"

/* DESIGN
 * A recursive-descent parser over the text (no token array) builds nodes
 * in one growable array; children are indices. Grammar:
 *   sum     := product (('+' | '-') product)*
 *   product := unary ('*' unary)*      one side a constant: exact, no division
 *   unary   := '-' unary | primary
 *   primary := NUMBER | 'text' | "text" | [Name] | `Name` | $N | NAME
 *            | coalesce(sum, ...) | abs(sum) | '(' sum ')'
 *   cond    := and ('or' and)* ; and := not ('and' not)*
 *   not     := 'not' not | '(' cond ')' | sum OP rhs
 *   OP      := = == != <> < <= > >= ~ !~
 * The right side of a comparison is a value as typed, not an expression:
 * `deal_stage != Closed Won`, `close_date >= 2017-01-01`, `memo ~ SALARY|PAY`
 * read the words up to a top-level and/or/then or ')' (quote it to hold
 * those); [Name] there reads a column. Numbers are 128-bit integers with
 * a decimal scale, so sums of int64 cents and products by constants with
 * up to 18 decimals cannot lose a digit; overflow is an error. */

typedef enum { N_NAME, N_NUM, N_TEXT, N_NEG, N_ADD, N_SUB, N_MUL, N_COALESCE, N_ABS, N_CMP, N_MATCH, N_AND, N_OR, N_NOT } node_kind;
enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

#define MAX_NODES 1024
#define MAX_DEPTH 48
#define MAX_SCALE 18

typedef struct {
	node_kind k;
	int a, b, next; /* children; N_COALESCE chains its arguments by next */
	int op;         /* N_CMP: OP_*; N_MATCH: 1 when negated */
	int name;       /* N_NAME */
	__int128 num;   /* N_NUM */
	int scale;
	char *text;     /* N_TEXT (owned) */
	size_t tlen;
	regex_t *re;    /* N_MATCH (owned) */
} node;

struct expr {
	node *nodes;
	int nnodes, cap;
	char **names;
	int nnames, namecap;
	int root;
};

typedef struct {
	const char *s;
	size_t len, pos;
	expr_t *e;
	int depth;
	char *why;
	size_t whylen;
} parser;

static bool ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(parser *p)
{
	while (p->pos < p->len && is_space(p->s[p->pos]))
		p->pos++;
}

static int fail(parser *p, const char *fmt, const char *what)
{
	size_t at = p->pos < p->len ? p->pos : p->len;
	size_t n = p->len - at > 20 ? 20 : p->len - at;
	char where[48];
	if (n)
		snprintf(where, sizeof where, "at '%.*s'", (int)n, p->s + at);
	else
		snprintf(where, sizeof where, "at the end");
	char msg[200];
	snprintf(msg, sizeof msg, fmt, what);
	snprintf(p->why, p->whylen, "%s: %s", where, msg);
	return -1;
}

/* Is the word kw (case-insensitive, whole word) at pos? */
static bool word_at(const parser *p, size_t pos, const char *kw)
{
	size_t n = strlen(kw);
	return pos + n <= p->len && !strncasecmp(p->s + pos, kw, n) &&
	       (pos + n == p->len || !ident_char((unsigned char)p->s[pos + n]));
}

static bool keyword(parser *p, const char *kw)
{
	skip_ws(p);
	if (!word_at(p, p->pos, kw))
		return false;
	p->pos += strlen(kw);
	return true;
}

static bool punct(parser *p, char c)
{
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == c) {
		p->pos++;
		return true;
	}
	return false;
}

static int new_node(parser *p, node_kind k)
{
	expr_t *e = p->e;
	if (e->nnodes == MAX_NODES)
		return fail(p, "the expression is too long%s", "");
	if (e->nnodes == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->nodes = xrealloc(e->nodes, (size_t)e->cap * sizeof *e->nodes);
	}
	node *n = &e->nodes[e->nnodes];
	memset(n, 0, sizeof *n);
	n->k = k;
	n->a = n->b = n->next = -1;
	return e->nnodes++;
}

static int add_name(parser *p, const char *s, size_t len)
{
	expr_t *e = p->e;
	slice_t t = slice_trim((slice_t){s, len});
	if (!t.len)
		return fail(p, "an empty column name%s", "");
	for (int i = 0; i < e->nnames; i++)
		if (strlen(e->names[i]) == t.len && !strncasecmp(e->names[i], t.p, t.len))
			return i;
	if (e->nnames == e->namecap) {
		e->namecap = e->namecap ? e->namecap * 2 : 8;
		e->names = xrealloc(e->names, (size_t)e->namecap * sizeof *e->names);
	}
	char *c = xmalloc(t.len + 1);
	memcpy(c, t.p, t.len);
	c[t.len] = '\0';
	e->names[e->nnames] = c;
	return e->nnames++;
}

static int name_node(parser *p, const char *s, size_t len)
{
	int nm = add_name(p, s, len);
	if (nm < 0)
		return -1;
	int n = new_node(p, N_NAME);
	if (n >= 0)
		p->e->nodes[n].name = nm;
	return n;
}

static int text_node(parser *p, const char *s, size_t len)
{
	int n = new_node(p, N_TEXT);
	if (n < 0)
		return -1;
	node *d = &p->e->nodes[n];
	d->text = xmalloc(len + 1);
	memcpy(d->text, s, len);
	d->text[len] = '\0';
	d->tlen = len;
	return n;
}

/* 'text' or "text" ('' or "" inside is the quote itself). */
static int quoted(parser *p)
{
	char q = p->s[p->pos++];
	buf_t b = BUF_INIT;
	for (;;) {
		if (p->pos >= p->len) {
			buf_free(&b);
			return fail(p, "unclosed quote%s", "");
		}
		char c = p->s[p->pos++];
		if (c == q) {
			if (p->pos < p->len && p->s[p->pos] == q) {
				buf_putc(&b, q);
				p->pos++;
				continue;
			}
			break;
		}
		buf_putc(&b, c);
	}
	int n = text_node(p, b.p ? b.p : "", b.len);
	buf_free(&b);
	return n;
}

/* [Name], `Name` or $N: a column named explicitly. */
static int bracketed(parser *p)
{
	char open = p->s[p->pos];
	if (open == '$') {
		size_t st = p->pos++;
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
		if (p->pos - st < 2 || p->pos - st > 4 || p->s[st + 1] == '0') {
			p->pos = st;
			return fail(p, "$ must be followed by a column position (1, 2, ...)%s", "");
		}
		return name_node(p, p->s + st, p->pos - st);
	}
	char close = open == '[' ? ']' : '`';
	const char *end = memchr(p->s + p->pos + 1, close, p->len - p->pos - 1);
	if (!end)
		return fail(p, "unclosed column name (%s)", open == '[' ? "[Name]" : "`Name`");
	size_t st = p->pos + 1;
	p->pos = (size_t)(end - p->s) + 1;
	return name_node(p, p->s + st, (size_t)(end - p->s) - st);
}

static int number(parser *p)
{
	__int128 v = 0;
	int scale = 0, digits = 0;
	bool frac = false;
	size_t st = p->pos;
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c == '.' && !frac && p->pos + 1 < p->len && p->s[p->pos + 1] >= '0' && p->s[p->pos + 1] <= '9') {
			frac = true;
		} else if (c >= '0' && c <= '9') {
			if (++digits > 30) {
				p->pos = st;
				return fail(p, "a number with more than 30 digits%s", "");
			}
			v = v * 10 + (c - '0');
			scale += frac;
		} else {
			break;
		}
		p->pos++;
	}
	if (p->pos < p->len && ident_char((unsigned char)p->s[p->pos])) {
		p->pos = st;
		return fail(p, "a number followed by letters: put a column name in [brackets]%s", "");
	}
	if (scale > MAX_SCALE) {
		p->pos = st;
		return fail(p, "more than 18 decimal places%s", "");
	}
	int n = new_node(p, N_NUM);
	if (n >= 0) {
		p->e->nodes[n].num = v;
		p->e->nodes[n].scale = scale;
	}
	return n;
}

static int sum(parser *p);

static int call(parser *p, const char *fn, size_t fnlen)
{
	node_kind k;
	if (fnlen == 8 && !strncasecmp(fn, "coalesce", 8))
		k = N_COALESCE;
	else if (fnlen == 3 && !strncasecmp(fn, "abs", 3))
		k = N_ABS;
	else {
		char f[40];
		snprintf(f, sizeof f, "%.*s", (int)(fnlen > 30 ? 30 : fnlen), fn);
		p->pos -= fnlen + 1;
		return fail(p, "unknown function '%s' (coalesce, abs)", f);
	}
	int n = new_node(p, k);
	if (n < 0)
		return -1;
	int prev = -1, count = 0;
	do {
		int a = sum(p);
		if (a < 0)
			return -1;
		if (prev < 0)
			p->e->nodes[n].a = a;
		else
			p->e->nodes[prev].next = a;
		prev = a;
		count++;
	} while (punct(p, ','));
	if (!punct(p, ')'))
		return fail(p, "expected ',' or ')' in the arguments of %s", k == N_ABS ? "abs" : "coalesce");
	if (k == N_ABS && count != 1)
		return fail(p, "abs takes one argument%s", "");
	return n;
}

static int primary(parser *p)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, "expected a column, a number or a function%s", "");
	char c = p->s[p->pos];
	if (c == '(') {
		p->pos++;
		int n = sum(p);
		if (n >= 0 && !punct(p, ')'))
			return fail(p, "expected ')'%s", "");
		return n;
	}
	if (c == '\'' || c == '"')
		return quoted(p);
	if (c == '[' || c == '`' || c == '$')
		return bracketed(p);
	if (c >= '0' && c <= '9')
		return number(p);
	if (ident_start((unsigned char)c)) {
		size_t st = p->pos;
		while (p->pos < p->len && ident_char((unsigned char)p->s[p->pos]))
			p->pos++;
		size_t wl = p->pos - st;
		if (punct(p, '('))
			return call(p, p->s + st, wl);
		return name_node(p, p->s + st, wl);
	}
	if (c == '/')
		return fail(p, "division is not supported (it is not exact): multiply by a constant, e.g. * 0.5%s", "");
	return fail(p, "expected a column, a number or a function%s", "");
}

static int unary(parser *p)
{
	if (++p->depth > MAX_DEPTH)
		return fail(p, "the expression is nested too deeply%s", "");
	int n;
	if (punct(p, '-')) {
		int a = unary(p);
		if (a < 0)
			return -1;
		n = new_node(p, N_NEG);
		if (n >= 0)
			p->e->nodes[n].a = a;
	} else {
		n = primary(p);
	}
	p->depth--;
	return n;
}

/* A subtree without columns or text: a constant. */
static bool constant(const expr_t *e, int n)
{
	const node *d = &e->nodes[n];
	switch (d->k) {
	case N_NUM:
		return true;
	case N_NEG:
	case N_ABS:
		return constant(e, d->a);
	case N_ADD:
	case N_SUB:
	case N_MUL:
		return constant(e, d->a) && constant(e, d->b);
	default:
		return false;
	}
}

static int binary(parser *p, node_kind k, int a, int b)
{
	if (b < 0)
		return -1;
	int n = new_node(p, k);
	if (n >= 0) {
		p->e->nodes[n].a = a;
		p->e->nodes[n].b = b;
	}
	return n;
}

static int product(parser *p)
{
	int n = unary(p);
	while (n >= 0) {
		if (punct(p, '*')) {
			size_t at = p->pos;
			n = binary(p, N_MUL, n, unary(p));
			if (n >= 0 && !constant(p->e, p->e->nodes[n].a) && !constant(p->e, p->e->nodes[n].b)) {
				p->pos = at;
				return fail(p, "multiplication needs a constant on one side (e.g. Price * 1.2)%s", "");
			}
		} else if (punct(p, '/')) {
			p->pos--;
			return fail(p, "division is not supported (it is not exact): multiply by a constant, e.g. * 0.5%s", "");
		} else {
			break;
		}
	}
	return n;
}

static int sum(parser *p)
{
	int n = product(p);
	while (n >= 0) {
		if (punct(p, '+'))
			n = binary(p, N_ADD, n, product(p));
		else if (punct(p, '-'))
			n = binary(p, N_SUB, n, product(p));
		else
			break;
	}
	return n;
}

/* ---- conditions ---- */

static int cond_or(parser *p);

/* The end of a value typed as is: before a top-level and/or/then, an
 * unmatched ')' or the end; regex classes [...] are skipped whole. */
static size_t raw_end(const parser *p, size_t i)
{
	int depth = 0;
	while (i < p->len) {
		char c = p->s[i];
		if (c == '[') {
			size_t j = i + 1;
			if (j < p->len && p->s[j] == '^')
				j++;
			if (j < p->len && p->s[j] == ']')
				j++;
			const char *e = memchr(p->s + j, ']', p->len - j);
			i = e ? (size_t)(e - p->s) + 1 : p->len;
			continue;
		}
		if (c == '\\' && i + 1 < p->len) {
			i += 2;
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')' && depth-- == 0)
			break;
		if (is_space(c) && depth == 0 &&
		    (word_at(p, i + 1, "and") || word_at(p, i + 1, "or") || word_at(p, i + 1, "then")))
			break;
		i++;
	}
	return i;
}

static int rhs(parser *p, bool pattern)
{
	skip_ws(p);
	if (p->pos < p->len && (p->s[p->pos] == '\'' || p->s[p->pos] == '"'))
		return quoted(p);
	if (!pattern && p->pos < p->len && (p->s[p->pos] == '[' || p->s[p->pos] == '`' || p->s[p->pos] == '$'))
		return bracketed(p);
	size_t end = raw_end(p, p->pos);
	slice_t v = slice_trim((slice_t){p->s + p->pos, end - p->pos});
	if (!v.len)
		return fail(p, "expected a value to compare with (quote an empty one: '')%s", "");
	p->pos = end;
	return text_node(p, v.p, v.len);
}

static bool comparison_op(parser *p, node_kind *k, int *op)
{
	skip_ws(p);
	static const struct {
		const char *t;
		node_kind k;
		int op;
	} ops[] = {{"==", N_CMP, OP_EQ}, {"!=", N_CMP, OP_NE}, {"<>", N_CMP, OP_NE}, {"<=", N_CMP, OP_LE},
	           {">=", N_CMP, OP_GE}, {"!~", N_MATCH, 1},   {"=", N_CMP, OP_EQ},  {"<", N_CMP, OP_LT},
	           {">", N_CMP, OP_GT},  {"~", N_MATCH, 0}};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		size_t n = strlen(ops[i].t);
		if (p->pos + n <= p->len && !memcmp(p->s + p->pos, ops[i].t, n)) {
			p->pos += n;
			*k = ops[i].k;
			*op = ops[i].op;
			return true;
		}
	}
	return false;
}

static int comparison(parser *p)
{
	int a = sum(p);
	if (a < 0)
		return -1;
	node_kind k;
	int op;
	if (!comparison_op(p, &k, &op))
		return fail(p, "expected a comparison (=, !=, <, <=, >, >=, ~ for a pattern, !~)%s", "");
	int b = rhs(p, k == N_MATCH);
	if (b < 0)
		return -1;
	int n = new_node(p, k);
	if (n < 0)
		return -1;
	node *d = &p->e->nodes[n];
	d->a = a;
	d->b = b;
	d->op = op;
	if (k == N_MATCH) {
		d->re = xmalloc(sizeof *d->re);
		int rc = regcomp(d->re, p->e->nodes[b].text, REG_EXTENDED | REG_ICASE | REG_NOSUB);
		if (rc != 0) {
			char msg[120];
			regerror(rc, d->re, msg, sizeof msg);
			free(d->re);
			d->re = NULL;
			return fail(p, "bad pattern: %s", msg);
		}
	}
	return n;
}

/* Drops the nodes and names of an abandoned attempt. */
static void truncate_to(expr_t *e, int nnodes, int nnames)
{
	for (int i = nnodes; i < e->nnodes; i++) {
		free(e->nodes[i].text);
		if (e->nodes[i].re) {
			regfree(e->nodes[i].re);
			free(e->nodes[i].re);
		}
	}
	e->nnodes = nnodes;
	for (int i = nnames; i < e->nnames; i++)
		free(e->names[i]);
	e->nnames = nnames;
}

static int cond_not(parser *p)
{
	if (++p->depth > MAX_DEPTH)
		return fail(p, "the condition is nested too deeply%s", "");
	int n;
	if (keyword(p, "not")) {
		int a = cond_not(p);
		n = a < 0 ? -1 : new_node(p, N_NOT);
		if (n >= 0)
			p->e->nodes[n].a = a;
	} else if (punct(p, '(')) {
		/* A condition in parentheses, or the start of an arithmetic left
		 * side such as (Sales - Profit) > 0: try the first, else the second. */
		size_t at = p->pos - 1;
		int nn = p->e->nnodes, nm = p->e->nnames;
		n = cond_or(p);
		node_kind k;
		int op;
		size_t after;
		if (n >= 0 && punct(p, ')') && ((after = p->pos), !comparison_op(p, &k, &op))) {
			p->pos = after;
		} else {
			truncate_to(p->e, nn, nm);
			p->pos = at;
			n = comparison(p);
		}
	} else {
		n = comparison(p);
	}
	p->depth--;
	return n;
}

static int cond_and(parser *p)
{
	int n = cond_not(p);
	while (n >= 0 && keyword(p, "and"))
		n = binary(p, N_AND, n, cond_not(p));
	return n;
}

static int cond_or(parser *p)
{
	int n = cond_and(p);
	while (n >= 0 && keyword(p, "or"))
		n = binary(p, N_OR, n, cond_and(p));
	return n;
}

expr_t *expr_parse(const char *text, size_t len, expr_mode mode, size_t *consumed, char *why, size_t whylen)
{
	if (len > EXPR_MAX_TEXT) {
		snprintf(why, whylen, "longer than %d bytes", EXPR_MAX_TEXT);
		return NULL;
	}
	expr_t *e = xcalloc(1, sizeof *e);
	parser p = {text, len, 0, e, 0, why, whylen};
	e->root = mode == EXPR_COND ? cond_or(&p) : sum(&p);
	skip_ws(&p);
	if (e->root >= 0 && p.pos < len) {
		bool then = mode == EXPR_COND && consumed && word_at(&p, p.pos, "then");
		if (!then)
			e->root = fail(&p, mode == EXPR_COND ? "expected 'and', 'or' or the end%s"
			                                     : "expected an operator (+, -, *) or the end%s",
			               "");
	}
	if (e->root < 0) {
		expr_free(e);
		return NULL;
	}
	if (consumed)
		*consumed = p.pos;
	return e;
}

void expr_free(expr_t *e)
{
	if (!e)
		return;
	truncate_to(e, 0, 0);
	free(e->nodes);
	free(e->names);
	free(e);
}

int expr_nnames(const expr_t *e)
{
	return e->nnames;
}

const char *expr_name(const expr_t *e, int i)
{
	return e->names[i];
}

/* ---- evaluation ---- */

static bool pow10_128(int k, __int128 *out)
{
	__int128 v = 1;
	for (int i = 0; i < k; i++)
		if (__builtin_mul_overflow(v, 10, &v))
			return false;
	*out = v;
	return true;
}

/* Text as a number, with the import's money options, at the finest scale
 * it needs (so "0.125" is exact, and large amounts still fit). */
static bool text_number(slice_t t, const money_opts *mo, expr_val *v)
{
	money_opts o;
	if (mo) {
		o = *mo;
		o.round = false;
	}
	for (int d = 2; d <= 9; d++) {
		int64_t x;
		money_status st = money_parse_units(t.p, t.len, mo ? &o : NULL, d, &x);
		if (st == MONEY_OK) {
			v->kind = EXPR_NUM;
			v->num = x;
			v->scale = d;
			return true;
		}
		if (st != MONEY_PRECISION)
			return false;
	}
	return false;
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
	const node *d = &e->nodes[n];
	snprintf(why, whylen, "%s%s%s'%.*s%s' is not a number", d->k == N_NAME ? "column '" : "",
	         d->k == N_NAME ? e->names[d->name] : "", d->k == N_NAME ? "': " : "", (int)(t.len > 40 ? 40 : t.len),
	         t.p, t.len > 40 ? "..." : "");
	return false;
}

static bool align(expr_val *a, expr_val *b, char *why, size_t whylen)
{
	expr_val *lo = a->scale < b->scale ? a : b;
	int hi = a->scale < b->scale ? b->scale : a->scale;
	__int128 f;
	if (!pow10_128(hi - lo->scale, &f) || __builtin_mul_overflow(lo->num, f, &lo->num)) {
		snprintf(why, whylen, "a number is too large");
		return false;
	}
	lo->scale = hi;
	return true;
}

static bool arith(const expr_t *e, const node *d, const expr_ctx *c, expr_val *out, char *why, size_t whylen)
{
	expr_val a, b;
	if (!as_number(e, d->a, c, &a, why, whylen) || !as_number(e, d->b, c, &b, why, whylen))
		return false;
	if (a.kind == EXPR_NULL || b.kind == EXPR_NULL) {
		out->kind = EXPR_NULL;
		return true;
	}
	bool ovf;
	out->kind = EXPR_NUM;
	if (d->k == N_MUL) {
		out->scale = a.scale + b.scale;
		ovf = out->scale > 2 * MAX_SCALE || __builtin_mul_overflow(a.num, b.num, &out->num);
	} else {
		if (!align(&a, &b, why, whylen))
			return false;
		out->scale = a.scale;
		ovf = d->k == N_ADD ? __builtin_add_overflow(a.num, b.num, &out->num)
		                    : __builtin_sub_overflow(a.num, b.num, &out->num);
	}
	if (ovf) {
		snprintf(why, whylen, "the result is too large");
		return false;
	}
	return true;
}

static bool eval(const expr_t *e, int n, const expr_ctx *c, expr_val *out, char *why, size_t whylen)
{
	const node *d = &e->nodes[n];
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
		out->scale = d->scale;
		return true;
	case N_NEG:
	case N_ABS:
		if (!as_number(e, d->a, c, out, why, whylen))
			return false;
		if (out->kind == EXPR_NUM && (d->k == N_NEG || out->num < 0))
			out->num = -out->num; /* magnitudes stay far below the 128-bit minimum */
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

size_t expr_format_num(const expr_val *v, char *buf, size_t n)
{
	char tmp[64];
	int k = 0;
	unsigned __int128 m = v->num < 0 ? -(unsigned __int128)v->num : (unsigned __int128)v->num;
	do {
		tmp[k++] = (char)('0' + (int)(m % 10));
		m /= 10;
		if (k == v->scale)
			tmp[k++] = '.';
	} while (m || k <= v->scale);
	if (tmp[k - 1] == '.')
		tmp[k++] = '0';
	if (v->num < 0)
		tmp[k++] = '-';
	size_t w = 0;
	while (k > 0 && w + 1 < n)
		buf[w++] = tmp[--k];
	if (n)
		buf[w] = '\0';
	return w;
}

bool expr_to_minor(const expr_val *v, int minor, bool round, int64_t *out, char *why, size_t whylen)
{
	__int128 x = v->num, f;
	if (v->scale > minor) {
		pow10_128(v->scale - minor, &f);
		__int128 q = x / f, r = x % f;
		if (r) {
			if (!round) {
				char t[64];
				expr_format_num(v, t, sizeof t);
				snprintf(why, whylen, "%s has more than %d decimal place%s for the organisation's currency; try --round",
				         t, minor, minor == 1 ? "" : "s");
				return false;
			}
			__int128 ar = r < 0 ? -r : r;
			/* half to even, on the magnitude */
			if (2 * ar > f || (2 * ar == f && (q & 1)))
				q += x < 0 ? -1 : 1;
		}
		x = q;
	} else if (v->scale < minor) {
		pow10_128(minor - v->scale, &f);
		if (__builtin_mul_overflow(x, f, &x))
			x = (__int128)MONEY_MAX_ABS;
	}
	if (x <= -(__int128)MONEY_MAX_ABS || x >= (__int128)MONEY_MAX_ABS) {
		snprintf(why, whylen, "the result is out of bounds (%s)", money_strerror(MONEY_BOUND));
		return false;
	}
	*out = (int64_t)x;
	return true;
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

static int order(expr_val *a, expr_val *b, const expr_ctx *c)
{
	expr_val x = *a, y = *b;
	bool xn = x.kind == EXPR_NUM || (x.kind == EXPR_TEXT && text_number(x.text, c->money, &x));
	bool yn = y.kind == EXPR_NUM || (y.kind == EXPR_TEXT && text_number(y.text, c->money, &y));
	if (xn && yn) {
		char why[8];
		if (align(&x, &y, why, sizeof why))
			return (x.num > y.num) - (x.num < y.num);
	}
	char tx[64], ty[64];
	slice_t sa = a->kind == EXPR_TEXT ? a->text : SLICE_LIT("");
	slice_t sb = b->kind == EXPR_TEXT ? b->text : SLICE_LIT("");
	if (a->kind == EXPR_NUM)
		sa = (slice_t){tx, expr_format_num(a, tx, sizeof tx)};
	if (b->kind == EXPR_NUM)
		sb = (slice_t){ty, expr_format_num(b, ty, sizeof ty)};
	int64_t da, db;
	if (as_date(sa, c->date_format, &da) && as_date(sb, c->date_format, &db))
		return (da > db) - (da < db);
	return text_order(sa, sb);
}

static bool test(const expr_t *e, int n, const expr_ctx *c, bool *out, char *why, size_t whylen)
{
	const node *d = &e->nodes[n];
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
		char tmp[64];
		slice_t t = v.kind == EXPR_TEXT ? v.text : SLICE_LIT("");
		if (v.kind == EXPR_NUM)
			t = (slice_t){tmp, expr_format_num(&v, tmp, sizeof tmp)};
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
