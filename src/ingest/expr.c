#include "ingest/expr.h"

#include "ingest/expr_int.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/date.h"
#include "core/decimal.h"
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

static int new_node(parser *p, expr_node_kind k)
{
	expr_t *e = p->e;
	if (e->nnodes == EXPR_MAX_NODES)
		return fail(p, "the expression is too long%s", "");
	if (e->nnodes == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->nodes = xrealloc(e->nodes, (size_t)e->cap * sizeof *e->nodes);
	}
	expr_node *n = &e->nodes[e->nnodes];
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
	expr_node *d = &p->e->nodes[n];
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
	if (scale > EXPR_MAX_SCALE) {
		p->pos = st;
		return fail(p, "more than 18 decimal places%s", "");
	}
	int n = new_node(p, N_NUM);
	if (n >= 0)
		p->e->nodes[n].num = (decimal_t){v, scale};
	return n;
}

static int sum(parser *p);

static int call(parser *p, const char *fn, size_t fnlen)
{
	expr_node_kind k;
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
	if (++p->depth > EXPR_MAX_DEPTH)
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
	const expr_node *d = &e->nodes[n];
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

static int binary(parser *p, expr_node_kind k, int a, int b)
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

static bool comparison_op(parser *p, expr_node_kind *k, int *op)
{
	skip_ws(p);
	static const struct {
		const char *t;
		expr_node_kind k;
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

/* glibc's regcomp copies a group once per repetition operator and per
 * count of a bound, so stacked or nested repetitions grow exponentially:
 * patterns that could are refused (a bank or CRM pattern never needs
 * them). NULL when fine, else why. */
static const char *pattern_risk(const char *re)
{
	if (strlen(re) > 512)
		return "longer than 512 bytes";
	int depth = 0;
	long copies = 1;
	bool after_rep = false;
	for (const char *c = re; *c; c++) {
		if (*c == '\\' && c[1]) {
			c++;
			after_rep = false;
			continue;
		}
		if (*c == '[') { /* a bracket expression: no operators inside */
			const char *e = c + 1;
			if (*e == '^')
				e++;
			if (*e == ']')
				e++;
			e = strchr(e, ']');
			if (!e)
				return NULL; /* regcomp says what is wrong */
			c = e;
			after_rep = false;
			continue;
		}
		bool rep = *c == '*' || *c == '+' || *c == '?' || *c == '{';
		if (rep && after_rep)
			return "a repetition of a repetition (such as a++ or a*{2})";
		if (*c == '{') {
			char *end;
			long m = strtol(c + 1, &end, 10), n = m;
			if (*end == ',')
				n = end[1] == '}' ? m : strtol(end + 1, &end, 10);
			if (m > 100 || n > 100)
				return "a repetition count above 100";
			copies *= n > 1 ? n : 1;
			if (copies > 1000)
				return "repetition counts multiplying past 1000";
			c = strchr(c, '}') ? strchr(c, '}') : c;
		} else if (*c == '(' && ++depth > 8) {
			return "groups nested more than 8 deep";
		} else if (*c == ')') {
			depth--;
		}
		after_rep = rep;
	}
	return NULL;
}

static int comparison(parser *p)
{
	int a = sum(p);
	if (a < 0)
		return -1;
	expr_node_kind k;
	int op;
	if (!comparison_op(p, &k, &op))
		return fail(p, "expected a comparison (=, !=, <, <=, >, >=, ~ for a pattern, !~)%s", "");
	int b = rhs(p, k == N_MATCH);
	if (b < 0)
		return -1;
	int n = new_node(p, k);
	if (n < 0)
		return -1;
	expr_node *d = &p->e->nodes[n];
	d->a = a;
	d->b = b;
	d->op = op;
	if (k == N_MATCH) {
		const char *risk = pattern_risk(p->e->nodes[b].text);
		if (risk)
			return fail(p, "bad pattern: %s", risk);
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
	if (++p->depth > EXPR_MAX_DEPTH)
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
		expr_node_kind k;
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
	if (memchr(text, '\0', len)) {
		snprintf(why, whylen, "contains a NUL byte");
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
