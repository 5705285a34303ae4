#include "ingest/detect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "core/money.h"
#include "core/utf8.h"
#include "ingest/csv.h"
#include "ingest/detect_names.h"
#include "ingest/layout.h"
#include "ingest/sample.h"

/* DESIGN
 * Everything is decided on the first DETECT_MAX_BYTES (cut at the last
 * full line), converted to UTF-8 once the encoding is chosen, read with
 * the same CSV reader as the import. Each decision needs evidence from the
 * values: a day above 12 for the day/month order, a separator followed by
 * two digits for the decimal mark. Two readings that both take every value
 * of the sample and disagree on what they mean stop detection with both
 * named; weaker doubts lower the confidence and are said in the notes. */

#define MAX_ROWS 1100
#define STRUCT_ROWS 200

typedef struct {
	const char *p;
	size_t len, pos;
} mem_rd;

static ssize_t mem_read(void *ud, char *buf, size_t n)
{
	mem_rd *m = ud;
	size_t k = m->len - m->pos < n ? m->len - m->pos : n;
	memcpy(buf, m->p + m->pos, k);
	m->pos += k;
	return (ssize_t)k;
}

/* The sample as rows of cells (copies, NUL-terminated in text). */
typedef struct {
	buf_t text;
	size_t *off;    /* per cell: offset in text */
	int *first, *n; /* per row: first cell, cell count */
	uint64_t *line; /* per row: its first line */
	int nrows, ncells, capcells;
} grid;

static const char *cell(const grid *g, int row, int col)
{
	return col < g->n[row] ? g->text.p + g->off[g->first[row] + col] : "";
}

static void grid_free(grid *g)
{
	buf_free(&g->text);
	free(g->off);
	free(g->first);
	free(g->n);
	free(g->line);
	memset(g, 0, sizeof *g);
}

static void grid_read(grid *g, const char *p, size_t len, char delim, int maxrows)
{
	grid_free(g);
	g->first = xcalloc((size_t)maxrows, sizeof *g->first);
	g->n = xcalloc((size_t)maxrows, sizeof *g->n);
	g->line = xcalloc((size_t)maxrows, sizeof *g->line);
	mem_rd m = {p, len, 0};
	csv_reader_t *r = csv_new(mem_read, &m, delim, 0);
	csv_row_t *row = xmalloc(sizeof *row);
	while (g->nrows < maxrows && csv_next(r, row) == CSV_ROW) {
		if (g->ncells + (int)row->nfields > g->capcells) {
			g->capcells = (g->capcells + (int)row->nfields) * 2;
			g->off = xrealloc(g->off, (size_t)g->capcells * sizeof *g->off);
		}
		g->first[g->nrows] = g->ncells;
		g->n[g->nrows] = (int)row->nfields;
		g->line[g->nrows] = row->line;
		for (size_t i = 0; i < row->nfields; i++) {
			slice_t f = slice_trim(row->fields[i]);
			g->off[g->ncells++] = g->text.len;
			buf_put(&g->text, f.p, f.len);
			buf_putc(&g->text, '\0');
		}
		g->nrows++;
	}
	free(row);
	csv_free(r);
}

typedef struct {
	detect_result *r;
	entity_kind kind;
	const char *(*given)(void *ud, const char *name);
	void *ud;
	char *why;
	size_t whylen;
	buf_t utf8;       /* the sample in UTF-8 */
	grid g;
	int header;       /* row of the header, -1 without one */
	int data;         /* first data row */
	int width;        /* columns of the data rows */
	int col[ENTITY_MAXCOLS]; /* per field: its column, or -1 */
	int debit, credit, indicator, category;
	money_opts money;
	bool signed_values; /* some amount is negative */
} ctx;

static const char *given(ctx *c, const char *name)
{
	return c->given ? c->given(c->ud, name) : NULL;
}

static void note(ctx *c, int cost, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(ctx *c, int cost, const char *fmt, ...)
{
	size_t n = strlen(c->r->notes);
	if (n && n + 2 < sizeof c->r->notes) {
		memcpy(c->r->notes + n, "; ", 3);
		n += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->r->notes + n, sizeof c->r->notes - n, fmt, ap);
	va_end(ap);
	c->r->confidence -= cost;
}

static void choose(ctx *c, const char *name, const char *value)
{
	optlist_set(&c->r->opts, name, value);
}

/* ---- encoding ---- */

static int letter_score(const sb_table *t, const unsigned char *p, size_t n)
{
	int score = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x80)
			continue;
		if (!t->len[p[i]]) {
			score -= 3;
			continue;
		}
		/* the code point of a 2-byte sequence: letters of Latin-1 and
		 * Latin Extended-A (U+00C0-U+017F) but for x and / signs */
		const unsigned char *u = (const unsigned char *)t->utf8[p[i]];
		unsigned cp = t->len[p[i]] == 2 ? ((u[0] & 0x1fu) << 6) | (u[1] & 0x3fu) : 0;
		bool letter = cp >= 0xc0 && cp <= 0x17f && cp != 0xd7 && cp != 0xf7;
		bool beside = (i > 0 && ((p[i - 1] | 0x20) >= 'a' && (p[i - 1] | 0x20) <= 'z')) ||
		              (i + 1 < n && ((p[i + 1] | 0x20) >= 'a' && (p[i + 1] | 0x20) <= 'z'));
		score += letter ? (beside ? 2 : 1) : -1;
	}
	return score;
}

static bool pick_encoding(ctx *c, const char *head, size_t len, import_encoding *enc)
{
	const char *g = given(c, "encoding");
	if (g)
		return import_parse_encoding(g, enc) || (snprintf(c->why, c->whylen, "unknown encoding '%.40s'", g), false);
	if (utf8_valid(head, len, NULL)) {
		*enc = ENC_UTF8;
		return true;
	}
	static const import_encoding order[] = {ENC_CP1252, ENC_CP1250, ENC_LATIN2, ENC_LATIN1};
	static const char *const names[] = {"windows-1252", "windows-1250", "iso-8859-2", "iso-8859-1"};
	int best = -1, second = -1, bi = 0;
	sb_table *t = xmalloc(sizeof *t);
	for (int i = 0; i < 4; i++) {
		char err[128];
		if (!layout_table(order[i], t, err, sizeof err))
			continue;
		int s = letter_score(t, (const unsigned char *)head, len);
		if (s > best) {
			second = best;
			best = s;
			bi = i;
		} else if (s > second) {
			second = s;
		}
	}
	free(t);
	*enc = order[bi];
	choose(c, "encoding", names[bi]);
	note(c, best - second < 4 ? 15 : 5, "encoding %s (not UTF-8; its bytes outside ASCII read as letters)", names[bi]);
	return true;
}

/* ---- delimiter, header ---- */

static int mode_width(const grid *g, int *count)
{
	int best = 0, bestn = 0;
	for (int i = 0; i < g->nrows; i++) {
		if (g->n[i] < 2)
			continue;
		int k = 0;
		for (int j = 0; j < g->nrows; j++)
			k += g->n[j] == g->n[i];
		if (k > bestn || (k == bestn && g->n[i] > best)) {
			best = g->n[i];
			bestn = k;
		}
	}
	*count = bestn;
	return best;
}

static bool pick_delimiter(ctx *c, char *delim)
{
	const char *g = given(c, "delimiter");
	if (g) {
		*delim = !strcmp(g, "tab") || !strcmp(g, "\\t") ? '\t' : g[0];
		return true;
	}
	static const char cands[] = {',', ';', '\t', '|'};
	int bestn = 0, bestw = 0;
	char best = ',';
	for (size_t i = 0; i < sizeof cands; i++) {
		grid_read(&c->g, c->utf8.p, c->utf8.len, cands[i], STRUCT_ROWS);
		int n, w = mode_width(&c->g, &n);
		if (w >= 2 && (n > bestn || (n == bestn && w > bestw))) {
			bestn = n;
			bestw = w;
			best = cands[i];
		}
	}
	if (bestw < 2) {
		snprintf(c->why, c->whylen,
		         "cannot find the delimiter: no , ; tab or | splits the lines into the same number of columns; give "
		         "--delimiter (delimiter=)");
		return false;
	}
	*delim = best;
	if (best != ',')
		choose(c, "delimiter", best == '\t' ? "tab" : (char[]){best, 0});
	return true;
}

/* How many cells of row name a column of any kind. */
static int header_names(const grid *g, int row)
{
	int k = 0;
	for (int i = 0; i < g->n[row]; i++) {
		const char *h = cell(g, row, i);
		for (int r = 0; r < ROLE__COUNT; r++)
			if (detect_name_score((detect_role)r, h, strlen(h))) {
				k++;
				break;
			}
	}
	return k;
}

static bool looks_like_data(const char *v)
{
	size_t nf;
	const char *const *fmts = sample_date_formats(&nf);
	timestamp_t t;
	for (size_t i = 0; i < nf; i++)
		if (timestamp_parse_fmt(v, strlen(v), fmts[i], &t))
			return true;
	int64_t x;
	money_opts m = {.decimal = '.', .thousands = ',', .symbols = true, .plus = true, .parens = true};
	money_opts e = {.decimal = ',', .thousands = '.', .symbols = true, .plus = true, .parens = true};
	return *v && (money_parse_opts(v, strlen(v), &m, &x) == MONEY_OK || money_parse_opts(v, strlen(v), &e, &x) == MONEY_OK);
}

static bool pick_header(ctx *c)
{
	int n;
	c->width = mode_width(&c->g, &n);
	const char *skip = given(c, "skip"), *nh = given(c, "no_header");
	bool no_header = nh && (!strcmp(nh, "1") || !strcmp(nh, "true") || !strcmp(nh, "yes"));
	if (skip || no_header) {
		long k = skip ? strtol(skip, NULL, 10) : 0;
		int row = 0;
		while (row < c->g.nrows && c->g.line[row] <= (uint64_t)k)
			row++;
		c->header = no_header ? -1 : row;
		c->data = no_header ? row : row + 1;
		return row < c->g.nrows || (snprintf(c->why, c->whylen, "nothing after the lines skipped"), false);
	}
	int best = -1, bestk = 1;
	for (int i = 0; i < c->g.nrows && i < 60; i++) {
		int k = header_names(&c->g, i);
		if (k > bestk) {
			bestk = k;
			best = i;
		}
	}
	if (best >= 0) {
		c->header = best;
		c->data = best + 1;
		if (c->g.line[best] > 1) {
			char v[24];
			snprintf(v, sizeof v, "%llu", (unsigned long long)c->g.line[best] - 1);
			choose(c, "skip", v);
			note(c, 0, "the header is on line %llu", (unsigned long long)c->g.line[best]);
		}
		return true;
	}
	/* No line names the columns: a file without a header starts with data
	 * (a date or an amount in its first full-width row). */
	for (int i = 0; i < c->g.nrows && i < 60; i++) {
		if (c->g.n[i] != c->width)
			continue;
		int k = 0;
		for (int j = 0; j < c->g.n[i]; j++)
			k += looks_like_data(cell(&c->g, i, j));
		if (k >= 2) {
			c->header = -1;
			c->data = i;
			choose(c, "no_header", "1");
			if (c->g.line[i] > 1) {
				char v[24];
				snprintf(v, sizeof v, "%llu", (unsigned long long)c->g.line[i] - 1);
				choose(c, "skip", v);
			}
			note(c, 10, "no header line: columns by position");
			return true;
		}
		break;
	}
	snprintf(c->why, c->whylen,
	         "cannot find the header: no line among the first ones names the columns (date, amount, ...) and the "
	         "first rows are not data; give --skip N to reach the header, or --no-header with --map by position");
	return false;
}

/* ---- columns ---- */

typedef struct {
	const char *field;
	detect_role roles[3];
	int nroles;
} field_plan;

static int plan_of(entity_kind k, field_plan *p)
{
#define F(f, ...) p[n++] = (field_plan){f, {__VA_ARGS__}, sizeof((detect_role[]){__VA_ARGS__}) / sizeof(detect_role)}
	int n = 0;
	switch (k) {
	case ENT_COSTS:
		F("id", ROLE_ID); F("date", ROLE_DATE); F("amount", ROLE_AMOUNT); F("category", ROLE_CATEGORY);
		F("vendor", ROLE_PARTY); F("description", ROLE_TEXT);
		break;
	case ENT_PAYMENTS:
		F("id", ROLE_ID); F("date", ROLE_DATE); F("amount", ROLE_AMOUNT); F("payer", ROLE_PARTY);
		F("reference", ROLE_TEXT); F("customer_id", ROLE_CUSTOMER_ID);
		break;
	case ENT_SALES_ORDERS:
		F("id", ROLE_ID, ROLE_NUMBER); F("date", ROLE_DATE); F("amount", ROLE_AMOUNT); F("customer", ROLE_PARTY);
		F("status", ROLE_STATUS);
		break;
	case ENT_INVOICES:
		F("number", ROLE_NUMBER); F("issue_date", ROLE_ISSUE_DATE, ROLE_DATE); F("due_date", ROLE_DUE_DATE);
		F("amount", ROLE_AMOUNT); F("customer", ROLE_PARTY); F("customer_id", ROLE_CUSTOMER_ID);
		break;
	default:
		F("id", ROLE_ID); F("created_at", ROLE_CREATED_AT, ROLE_DATE); F("creator", ROLE_CREATOR);
		F("status", ROLE_STATUS); F("name", ROLE_NAME, ROLE_PARTY); F("mobile", ROLE_MOBILE);
		F("source", ROLE_SOURCE); F("followup_date", ROLE_FOLLOWUP); F("value", ROLE_AMOUNT);
		break;
	}
	return n;
#undef F
}

/* The best unused column for role (-1 if none names it). */
static int best_column(ctx *c, detect_role role, const bool *used)
{
	if (c->header < 0)
		return -1;
	int best = -1, bs = 0;
	for (int i = 0; i < c->g.n[c->header]; i++) {
		const char *h = cell(&c->g, c->header, i);
		int s = used[i] ? 0 : detect_name_score(role, h, strlen(h));
		if (s > bs) {
			bs = s;
			best = i;
		}
	}
	return best;
}

/* Share of data rows whose cell col is not empty, in percent. */
static int filled(const ctx *c, int col)
{
	int n = 0, k = 0;
	for (int i = c->data; i < c->g.nrows; i++)
		if (c->g.n[i] >= 2) {
			n++;
			k += *cell(&c->g, i, col) != '\0';
		}
	return n ? k * 100 / n : 0;
}

static bool user_gives(ctx *c, const char *field)
{
	return optlist_list_has(given(c, "map"), field) || optlist_list_has(given(c, "set"), field) ||
	       optlist_list_has(given(c, "default"), field);
}

static void map_columns(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	bool used[CSV_MAX_FIELDS] = {0};
	field_plan plan[ENTITY_MAXCOLS];
	int np = plan_of(c->kind, plan);
	for (int i = 0; i < ENTITY_MAXCOLS; i++)
		c->col[i] = -1;
	c->debit = c->credit = c->indicator = c->category = -1;
	bool money_given = given(c, "debit") || given(c, "credit");
	for (int f = 0; f < np; f++) {
		int fi = entity_col_index(d, plan[f].field, strlen(plan[f].field));
		if (user_gives(c, plan[f].field) || (money_given && d->cols[fi].type == COL_MONEY))
			continue;
		for (int r = 0; r < plan[f].nroles && c->col[fi] < 0; r++) {
			int col = best_column(c, plan[f].roles[r], used);
			/* an amount column that is mostly empty is a split one's half */
			if (col >= 0 && plan[f].roles[r] == ROLE_AMOUNT && filled(c, col) < 50)
				col = -1;
			if (col >= 0) {
				c->col[fi] = col;
				used[col] = true;
			}
		}
		/* a bank statement with one text column: it names the payer */
		if (c->col[fi] < 0 && (!strcmp(plan[f].field, "payer") || !strcmp(plan[f].field, "vendor"))) {
			int col = best_column(c, ROLE_TEXT, used);
			if (col >= 0) {
				c->col[fi] = col;
				used[col] = true;
			}
		}
	}
	int amount = entity_col_index(d, "amount", 6);
	if (amount >= 0 && c->col[amount] < 0 && !money_given && !user_gives(c, "amount")) {
		c->debit = best_column(c, ROLE_DEBIT, used);
		c->credit = best_column(c, ROLE_CREDIT, used);
		if (c->debit < 0 || c->credit < 0)
			c->debit = c->credit = -1;
	}
	if (!given(c, "sign_column") && !money_given)
		c->indicator = best_column(c, ROLE_INDICATOR, used);
	if (c->kind == ENT_PAYMENTS)
		c->category = best_column(c, ROLE_CATEGORY, used);
}

/* Without a header, columns are told by their values: the first whose
 * values are all dates, the first all amounts, then the text ones. */
static bool all_values(const ctx *c, int col, bool dates)
{
	int n = 0;
	for (int i = c->data; i < c->g.nrows; i++) {
		if (c->g.n[i] < 2)
			continue;
		const char *v = cell(&c->g, i, col);
		if (!*v)
			continue;
		n++;
		size_t nf;
		const char *const *fmts = sample_date_formats(&nf);
		timestamp_t t;
		bool is_date = false;
		for (size_t f = 0; f < nf && !is_date; f++)
			is_date = timestamp_parse_fmt(v, strlen(v), fmts[f], &t);
		int64_t x;
		money_opts m1 = {.decimal = '.', .symbols = true, .plus = true, .parens = true, .thousands = ','};
		money_opts m2 = {.decimal = ',', .symbols = true, .plus = true, .parens = true, .thousands = '.'};
		bool is_money = money_parse_opts(v, strlen(v), &m1, &x) == MONEY_OK ||
		                money_parse_opts(v, strlen(v), &m2, &x) == MONEY_OK;
		if (dates ? !is_date : (is_date || !is_money))
			return false;
	}
	return n > 0;
}

static void map_by_content(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	int date = -1, amount = -1, text[2] = {-1, -1};
	for (int i = 0; i < c->width && i < CSV_MAX_FIELDS; i++) {
		if (date < 0 && all_values(c, i, true))
			date = i;
		else if (amount < 0 && all_values(c, i, false))
			amount = i;
		else if (!all_values(c, i, true) && !all_values(c, i, false) && filled(c, i) > 50) {
			if (text[0] < 0)
				text[0] = i;
			else if (text[1] < 0)
				text[1] = i;
		}
	}
	static const char *const party[] = {"payer", "vendor", "customer", "name"};
	static const char *const desc[] = {"reference", "description"};
	for (int i = 1; i < d->ncols; i++) {
		const char *f = d->cols[i].name;
		if (user_gives(c, f))
			continue;
		if (d->cols[i].type == COL_DATE || d->cols[i].type == COL_TIMESTAMP) {
			c->col[i] = d->cols[i].required ? date : -1;
		} else if (d->cols[i].type == COL_MONEY) {
			c->col[i] = amount;
		} else {
			for (size_t k = 0; k < 4; k++)
				if (!strcmp(f, party[k]))
					c->col[i] = text[0];
			for (size_t k = 0; k < 2; k++)
				if (!strcmp(f, desc[k]))
					c->col[i] = text[1];
		}
	}
	note(c, 10, "columns told by their values");
}

/* ---- values ---- */

/* Up to cap values of column col in the data rows (non-empty). */
static int values(const ctx *c, int col, const char **out, int cap)
{
	int n = 0;
	for (int i = c->data; i < c->g.nrows && n < cap; i++)
		if (c->g.n[i] >= 2 && col < c->g.n[i] && *cell(&c->g, i, col))
			out[n++] = cell(&c->g, i, col);
	return n;
}

static bool pick_dates(ctx *c)
{
	if (given(c, "date_format"))
		return true;
	const entity_def *d = entity_get(c->kind);
	const char **v = xmalloc(MAX_ROWS * 3 * sizeof *v);
	int n = 0;
	for (int i = 0; i < d->ncols; i++)
		if (c->col[i] >= 0 && (d->cols[i].type == COL_DATE || d->cols[i].type == COL_TIMESTAMP))
			n += values(c, c->col[i], v + n, MAX_ROWS);
	bool ok = true;
	timestamp_t t, u;
	size_t nf;
	const char *const *fmts = sample_date_formats(&nf);
	const char *fits[24];
	int nfits = 0, bestk = 0;
	const char *bestf = NULL;
	for (size_t f = 0; f < nf && n; f++) {
		int k = 0;
		for (int i = 0; i < n; i++)
			k += timestamp_parse_fmt(v[i], strlen(v[i]), f ? fmts[f] : NULL, &t);
		if (k == n)
			fits[nfits++] = f ? fmts[f] : NULL;
		if (k > bestk) {
			bestk = k;
			bestf = fmts[f];
		}
	}
	if (!n)
		goto out;
	if (!nfits) {
		/* a total or balance line among the rows: rejected alone */
		if (bestf && (bestk * 10 >= n * 9 || (n >= 4 && bestk >= n - 1))) {
			choose(c, "date_format", bestf);
			note(c, 15, "date format %s reads %d of %d dates of the sample (the others will be rejected)", bestf,
			     bestk, n);
			goto out;
		}
		int bad = 0;
		for (int i = 0; i < n && bestf; i++)
			if (!timestamp_parse_fmt(v[i], strlen(v[i]), bestf, &t)) {
				bad = i;
				break;
			}
		snprintf(c->why, c->whylen, "no common date format reads the dates (e.g. '%.40s'): give --date-format", v[bad]);
		ok = false;
		goto out;
	}
	/* Formats that read every date: they must mean the same dates. */
	for (int f = 1; f < nfits; f++)
		for (int i = 0; i < n; i++) {
			timestamp_parse_fmt(v[i], strlen(v[i]), fits[0], &t);
			timestamp_parse_fmt(v[i], strlen(v[i]), fits[f], &u);
			if (t.date != u.date) {
				snprintf(c->why, c->whylen,
				         "cannot tell the date format: every date of the sample reads as %s and as %s (e.g. '%.30s'; "
				         "no day above 12 decides); candidates: --date-format '%s' or --date-format '%s'",
				         fits[0] ? fits[0] : "%Y-%m-%d", fits[f], v[i], fits[0] ? fits[0] : "%Y-%m-%d", fits[f]);
				ok = false;
				goto out;
			}
		}
	if (fits[0]) {
		choose(c, "date_format", fits[0]);
		note(c, n < 5 ? 10 : 0, "date format %s reads all %d dates of the sample", fits[0], n);
	}
out:
	free(v);
	return ok;
}

/* The decimal mark a value shows: ',' or '.' followed by 1-2 digits at the
 * end (or the last of two different marks); 0 when it does not say. */
static char decimal_of(const char *v)
{
	const char *last = NULL;
	bool both = strchr(v, ',') && strchr(v, '.');
	for (const char *p = v; *p; p++)
		if (*p == ',' || *p == '.')
			last = p;
	if (!last)
		return 0;
	if (both)
		return *last;
	int digits = 0;
	const char *p = last + 1;
	while (*p >= '0' && *p <= '9')
		p++, digits++;
	return digits >= 1 && digits != 3 ? *last : 0;
}

static bool pick_money(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	int cols[3], nc = 0;
	for (int i = 0; i < d->ncols; i++)
		if (c->col[i] >= 0 && d->cols[i].type == COL_MONEY)
			cols[nc++] = c->col[i];
	if (c->debit >= 0) {
		cols[nc++] = c->debit;
		cols[nc++] = c->credit;
	}
	static const char *const money_names[] = {"decimal_comma", "thousands", "currency", "plus", "parens", "round"};
	bool money_given = false;
	for (size_t i = 0; i < sizeof money_names / sizeof money_names[0]; i++)
		money_given |= given(c, money_names[i]) != NULL;
	const char **v = xmalloc(MAX_ROWS * 3 * sizeof *v);
	int n = 0;
	for (int i = 0; i < nc && nc <= 3; i++)
		n += values(c, cols[i], v + n, MAX_ROWS);
	int comma = 0, dot = 0;
	bool sym = false, plus = false, parens = false, space = false, apos = false, commas = false, dots = false;
	for (int i = 0; i < n; i++) {
		char m = decimal_of(v[i]);
		comma += m == ',';
		dot += m == '.';
		for (const unsigned char *p = (const unsigned char *)v[i]; *p; p++) {
			if (*p == 0xc2 && p[1] == 0xa0) {
				space = true;
				p++;
			} else if (*p == ' ' && p != (const unsigned char *)v[i] && p[-1] >= '0' && p[-1] <= '9' &&
			           p[1] >= '0' && p[1] <= '9') {
				space = true;
			} else if (*p == '\'' || (*p == 0xe2 && p[1] == 0x80 && p[2] == 0x99)) {
				apos = true;
			} else if (!strchr("0123456789.,-+() ", *p)) {
				sym = true;
			}
			commas |= *p == ',';
			dots |= *p == '.';
		}
		slice_t s = slice_trim(slice_cstr(v[i]));
		plus |= s.len && s.p[0] == '+';
		parens |= s.len && (s.p[0] == '(' || strchr(v[i], '('));
	}
	bool ok = true;
	if (money_given) {
		c->money.decimal = given(c, "decimal_comma") ? ',' : '.';
		goto check_signs;
	}
	if (comma && dot) {
		snprintf(c->why, c->whylen,
		         "cannot tell the decimal mark: %d amounts of the sample end in ,NN and %d in .NN; candidates: "
		         "--decimal-comma --thousands . or --thousands ,",
		         comma, dot);
		ok = false;
		goto out;
	}
	money_opts m = {.decimal = comma ? ',' : '.'};
	if (comma) {
		choose(c, "decimal_comma", "1");
		note(c, 0, "decimal comma (%d amounts end in ,NN)", comma);
	}
	if (space)
		m.thousands = ' ';
	else if (apos)
		m.thousands = '\'';
	else if (m.decimal == ',' && dots)
		m.thousands = '.';
	else if (m.decimal == '.' && commas)
		m.thousands = ',';
	if (m.thousands)
		choose(c, "thousands", m.thousands == ' ' ? "space" : (char[]){m.thousands, 0});
	m.symbols = sym;
	m.plus = plus;
	m.parens = parens;
	if (sym)
		choose(c, "currency", "1");
	if (plus)
		choose(c, "plus", "1");
	if (parens)
		choose(c, "parens", "1");
	if (!comma && !dot && n)
		note(c, 5, "no amount of the sample shows a decimal mark: . assumed");
	c->money = m;
	int bad = 0;
	const char *first = NULL;
	int64_t x;
	for (int i = 0; i < n; i++)
		if (money_parse_opts(v[i], strlen(v[i]), &m, &x) != MONEY_OK && !bad++)
			first = v[i];
	if (bad * 5 > n) {
		snprintf(c->why, c->whylen,
		         "cannot read the amounts: %d of %d in the sample are not amounts with these options (e.g. '%.30s')",
		         bad, n, first);
		ok = false;
		goto out;
	}
	if (bad)
		note(c, 10, "%d of %d amounts of the sample are not read (e.g. '%.30s'): their rows will be rejected", bad, n,
		     first);
check_signs:
	for (int i = 0; i < n; i++)
		if (money_parse_opts(v[i], strlen(v[i]), &c->money, &x) == MONEY_OK && x < 0)
			c->signed_values = true;
out:
	free(v);
	return ok;
}

static void pick_signs(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	int amount = entity_col_index(d, "amount", 6);
	if (c->debit >= 0) {
		choose(c, "debit", cell(&c->g, c->header, c->debit));
		choose(c, "credit", cell(&c->g, c->header, c->credit));
		note(c, 0, "separate debit and credit columns");
		if (c->kind == ENT_COSTS && !given(c, "negate") &&
		    filled(c, c->debit) > filled(c, c->credit)) {
			choose(c, "negate", "1");
			note(c, 10, "most rows are debits: costs are money out (--negate)");
		}
		return;
	}
	if (amount < 0 || c->col[amount] < 0)
		return;
	if (c->indicator >= 0 && !c->signed_values) {
		/* The distinct values of the indicator and what they say. */
		char list[128] = "";
		const char *seen[8];
		int nseen = 0, unknown = 0;
		for (int i = c->data; i < c->g.nrows; i++) {
			if (c->g.n[i] < 2)
				continue;
			const char *v = cell(&c->g, i, c->indicator);
			bool dup = false;
			for (int j = 0; j < nseen; j++)
				dup |= !strcmp(seen[j], v);
			if (dup || !*v)
				continue;
			if (nseen == 8) {
				unknown++;
				break;
			}
			seen[nseen++] = v;
			int dir = detect_direction(v, strlen(v));
			unknown += dir == 0;
			/* costs are money out: a credit makes one negative */
			if (dir == (c->kind == ENT_COSTS ? 1 : -1))
				snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? "," : "", v);
		}
		if (!unknown && nseen) {
			if (list[0]) {
				choose(c, "sign_column", cell(&c->g, c->header, c->indicator));
				choose(c, "negative_values", list);
			}
			note(c, 0, "column '%s' tells the sign", cell(&c->g, c->header, c->indicator));
			return;
		}
		note(c, 10, "column '%s' may tell the sign but its values are not known ones: amounts read as written",
		     cell(&c->g, c->header, c->indicator));
	}
	if (c->kind == ENT_COSTS && c->signed_values && !given(c, "negate")) {
		int neg = 0, n = 0;
		int64_t x;
		for (int i = c->data; i < c->g.nrows; i++) {
			const char *v = c->g.n[i] >= 2 ? cell(&c->g, i, c->col[amount]) : "";
			if (*v && money_parse_opts(v, strlen(v), &c->money, &x) == MONEY_OK) {
				n++;
				neg += x < 0;
			}
		}
		if (neg * 2 > n) {
			choose(c, "negate", "1");
			note(c, 10, "%d of %d amounts are negative: costs are money out (--negate)", neg, n);
		}
	}
}

/* ---- the options ---- */

static void emit_map(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	buf_t b = BUF_INIT;
	for (int i = 0; i < d->ncols; i++) {
		if (c->col[i] < 0)
			continue;
		char pos[16];
		const char *h = pos;
		if (c->header >= 0)
			h = cell(&c->g, c->header, c->col[i]);
		else
			snprintf(pos, sizeof pos, "%d", c->col[i] + 1);
		if (!strcasecmp(h, d->cols[i].name))
			continue; /* the header already says it */
		buf_printf(&b, "%s%s=", b.len ? "," : "", d->cols[i].name);
		if (strpbrk(h, ",\"=")) {
			buf_putc(&b, '"');
			for (const char *p = h; *p; p++) {
				if (*p == '"')
					buf_putc(&b, '"');
				buf_putc(&b, *p);
			}
			buf_putc(&b, '"');
		} else {
			buf_puts(&b, h);
		}
	}
	if (b.len) {
		buf_putc(&b, '\0');
		choose(c, "map", b.p);
	}
	buf_free(&b);
}

static bool check_required(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	char missing[160] = "";
	for (int i = 1; i < d->ncols; i++) {
		if (!d->cols[i].required || c->col[i] >= 0 || user_gives(c, d->cols[i].name))
			continue;
		if (d->cols[i].type == COL_MONEY && (c->debit >= 0 || given(c, "debit")))
			continue;
		if (c->kind == ENT_COSTS && !strcmp(d->cols[i].name, "category")) {
			choose(c, "default", "category=Uncategorised");
			note(c, 0, "no category column: Uncategorised");
			continue;
		}
		snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s", missing[0] ? ", " : "",
		         d->cols[i].name);
	}
	if (!missing[0])
		return true;
	char cols[400] = "";
	for (int i = 0; c->header >= 0 && i < c->g.n[c->header]; i++)
		snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s'%s'", i ? ", " : "", cell(&c->g, c->header, i));
	snprintf(c->why, c->whylen, "no column for %s among %s: give --map FIELD=COLUMN (or --set FIELD=VALUE)", missing,
	         cols[0] ? cols : "the file's columns");
	return false;
}

bool detect_run(entity_kind kind, const char *head, size_t len, bool eof, const char *(*given_fn)(void *, const char *),
                void *ud, detect_result *r, char *why, size_t whylen)
{
	memset(r, 0, sizeof *r);
	r->confidence = 100;
	ctx c = {.r = r, .kind = kind, .given = given_fn, .ud = ud, .why = why, .whylen = whylen};
	if (!eof) /* the last line may be cut */
		while (len && head[len - 1] != '\n')
			len--;
	bool ok = false;
	import_encoding enc;
	char delim;
	if (!len) {
		snprintf(why, whylen, "the file is empty");
		goto out;
	}
	if (!pick_encoding(&c, head, len, &enc))
		goto out;
	if (enc == ENC_UTF8) {
		buf_put(&c.utf8, head, len);
	} else {
		sb_table *t = xmalloc(sizeof *t);
		bool tok = layout_table(enc, t, why, whylen);
		for (size_t i = 0; tok && i < len; i++)
			buf_put(&c.utf8, t->utf8[(unsigned char)head[i]], t->len[(unsigned char)head[i]]);
		free(t);
		if (!tok)
			goto out;
	}
	if (!pick_delimiter(&c, &delim))
		goto out;
	grid_read(&c.g, c.utf8.p, c.utf8.len, delim, MAX_ROWS);
	if (!pick_header(&c))
		goto out;
	map_columns(&c);
	if (c.header < 0)
		map_by_content(&c);
	if (!check_required(&c) || !pick_dates(&c) || !pick_money(&c))
		goto out;
	pick_signs(&c);
	if (c.category >= 0 && given(&c, "split") && !given(&c, "split_category"))
		choose(&c, "split_category", cell(&c.g, c.header, c.category));
	emit_map(&c);
	int ncols = c.header >= 0 ? c.g.n[c.header] : c.width;
	for (int i = 0; i < ncols && i < DETECT_MAX_COLUMNS; i++) {
		char pos[16];
		snprintf(pos, sizeof pos, "%d", i + 1);
		r->columns[r->ncolumns++] = xstrdup(c.header >= 0 ? cell(&c.g, c.header, i) : pos);
	}
	if (c.g.nrows - c.data < 3)
		note(&c, 20, "only %d data rows to judge from", c.g.nrows - c.data);
	if (r->confidence < 5)
		r->confidence = 5;
	ok = true;
out:
	grid_free(&c.g);
	buf_free(&c.utf8);
	return ok;
}

void detect_free(detect_result *r)
{
	optlist_free(&r->opts);
	for (int i = 0; i < r->ncolumns; i++)
		free(r->columns[i]);
	r->ncolumns = 0;
}
