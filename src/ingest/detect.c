#include "ingest/detect.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "core/money.h"
#include "core/utf8.h"
#include "ingest/csv.h"
#include "ingest/detect_int.h"
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

const char *dt_cell(const grid *g, int row, int col)
{
	return col < g->n[row] ? g->text.p + g->off[g->first[row] + col] : "";
}

const char *dt_col_name(const ctx *c, int col, char pos[16])
{
	if (c->header >= 0)
		return dt_cell(&c->g, c->header, col);
	snprintf(pos, 16, "%d", col + 1);
	return pos;
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

const char *dt_given(ctx *c, const char *name)
{
	return c->given ? c->given(c->ud, name) : NULL;
}

void dt_note(ctx *c, int cost, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void dt_note(ctx *c, int cost, const char *fmt, ...)
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

void dt_choose(ctx *c, const char *name, const char *value)
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
		unsigned cp = t->len[p[i]] == 2   ? ((u[0] & 0x1fu) << 6) | (u[1] & 0x3fu)
		              : t->len[p[i]] == 3 ? ((u[0] & 0x0fu) << 12) | ((u[1] & 0x3fu) << 6) | (u[2] & 0x3fu)
		                                  : 0;
		/* "£84.20" (Nationwide): a currency sign before a digit, where
		 * windows-1250 would read "Ł84.20" */
		bool money = (cp == 0xa3 || cp == 0xa5 || cp == 0x20ac) && i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '9';
		if (money) {
			score += 3;
			continue;
		}
		bool letter = cp >= 0xc0 && cp <= 0x17f && cp != 0xd7 && cp != 0xf7;
		bool beside = (i > 0 && ((p[i - 1] | 0x20) >= 'a' && (p[i - 1] | 0x20) <= 'z')) ||
		              (i + 1 < n && ((p[i + 1] | 0x20) >= 'a' && (p[i + 1] | 0x20) <= 'z'));
		score += letter ? (beside ? 2 : 1) : -1;
	}
	return score;
}

/* How many cells of the first lines, read through t, name a column
 * (cp1250's "částka" does, cp1252's "èástka" does not). */
static int names_through(const sb_table *t, const unsigned char *p, size_t n)
{
	char cell[128];
	size_t k = 0;
	int names = 0, lines = 0;
	for (size_t i = 0; i <= n && lines < 60; i++) {
		unsigned char b = i < n ? p[i] : '\n';
		if (b == ',' || b == ';' || b == '\t' || b == '|' || b == '\n' || b == '\r') {
			for (int r = 0; r < ROLE__COUNT && k; r++)
				if (detect_name_score((detect_role)r, cell, k)) {
					names++;
					break;
				}
			k = 0;
			lines += b == '\n';
			continue;
		}
		if (k + t->len[b] < sizeof cell) {
			memcpy(cell + k, t->utf8[b], t->len[b]);
			k += t->len[b];
		}
	}
	return names;
}

static bool pick_encoding(ctx *c, const char *head, size_t len, import_encoding *enc)
{
	const char *g = dt_given(c, "encoding");
	if (g)
		return import_parse_encoding(g, enc) || (snprintf(c->why, c->whylen, "unknown encoding '%.40s'", g), false);
	if (utf8_valid(head, len, NULL)) {
		*enc = ENC_UTF8;
		return true;
	}
	static const import_encoding order[] = {ENC_CP1252, ENC_CP1250, ENC_LATIN2, ENC_LATIN1};
	static const char *const names[] = {"windows-1252", "windows-1250", "iso-8859-2", "iso-8859-1"};
	long long best = LLONG_MIN, second = LLONG_MIN;
	int bi = 0;
	sb_table *t = xmalloc(sizeof *t);
	for (int i = 0; i < 4; i++) {
		char err[128];
		if (!layout_table(order[i], t, err, sizeof err))
			continue;
		/* the header's names first, then how the bytes read as letters */
		long long s = names_through(t, (const unsigned char *)head, len) * 1000000000LL +
		              letter_score(t, (const unsigned char *)head, len);
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
	dt_choose(c, "encoding", names[bi]);
	dt_note(c, best - second < 4 ? 15 : 5, "encoding %s (not UTF-8; its bytes outside ASCII read as letters)", names[bi]);
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
	const char *g = dt_given(c, "delimiter");
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
		dt_choose(c, "delimiter", best == '\t' ? "tab" : (char[]){best, 0});
	return true;
}

/* How many cells of row name a column of any kind. */
static int header_names(const grid *g, int row)
{
	int k = 0;
	for (int i = 0; i < g->n[row]; i++) {
		const char *h = dt_cell(g, row, i);
		for (int r = 0; r < ROLE__COUNT; r++)
			if (detect_name_score((detect_role)r, h, strlen(h))) {
				k++;
				break;
			}
	}
	return k;
}

static bool pick_header(ctx *c)
{
	int n;
	c->width = mode_width(&c->g, &n);
	const char *skip = dt_given(c, "skip"), *nh = dt_given(c, "no_header");
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
			dt_choose(c, "skip", v);
			dt_note(c, 0, "the header is on line %llu", (unsigned long long)c->g.line[best]);
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
			k += dt_looks_like_data(dt_cell(&c->g, i, j));
		if (k >= 2) {
			c->header = -1;
			c->data = i;
			dt_choose(c, "no_header", "1");
			if (c->g.line[i] > 1) {
				char v[24];
				snprintf(v, sizeof v, "%llu", (unsigned long long)c->g.line[i] - 1);
				dt_choose(c, "skip", v);
			}
			dt_note(c, 10, "no header line: columns by position");
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
		F("reference", ROLE_TEXT); F("customer_id", ROLE_CUSTOMER_ID); F("payer_account", ROLE_ACCOUNT);
		F("currency", ROLE_CURRENCY);
		break;
	case ENT_SALES_ORDERS:
		F("id", ROLE_ID, ROLE_NUMBER); F("date", ROLE_DATE); F("amount", ROLE_AMOUNT);
		F("customer", ROLE_PARTY, ROLE_CUSTOMER_ID); F("status", ROLE_STATUS);
		break;
	case ENT_INVOICES:
		F("number", ROLE_NUMBER); F("issue_date", ROLE_ISSUE_DATE, ROLE_DATE); F("due_date", ROLE_DUE_DATE);
		/* no name column (IBM's receivables sample): the customer's id names it */
		F("amount", ROLE_AMOUNT); F("customer", ROLE_PARTY, ROLE_CUSTOMER_ID); F("customer_id", ROLE_CUSTOMER_ID);
		F("currency", ROLE_CURRENCY);
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

/* Is column col's name also another column's (ING's two 'Waluta')? An
 * option cannot name it. */
static bool name_repeated(const ctx *c, int col)
{
	const char *h = dt_cell(&c->g, c->header, col);
	for (int i = 0; i < c->g.n[c->header]; i++)
		if (i != col && !strcasecmp(dt_cell(&c->g, c->header, i), h))
			return true;
	return false;
}

int dt_best_column(ctx *c, detect_role role, const bool *used)
{
	if (c->header < 0)
		return -1;
	int best = -1, bs = 0;
	for (int i = 0; i < c->g.n[c->header]; i++) {
		const char *h = dt_cell(&c->g, c->header, i);
		int s = used[i] ? 0 : detect_name_score(role, h, strlen(h));
		if (s > bs && name_repeated(c, i))
			s = 0;
		if (s > bs) {
			bs = s;
			best = i;
		}
	}
	return best;
}

void dt_used_columns(const ctx *c, bool *used)
{
	const entity_def *d = entity_get(c->kind);
	memset(used, 0, CSV_MAX_FIELDS * sizeof *used);
	for (int f = 0; f < d->ncols; f++)
		if (c->col[f] >= 0 && c->col[f] < CSV_MAX_FIELDS)
			used[c->col[f]] = true;
}

/* Share of data rows whose cell col is not empty, in percent. */
int dt_filled(const ctx *c, int col)
{
	int n = 0, k = 0;
	for (int i = c->data; i < c->g.nrows; i++)
		if (c->g.n[i] >= 2) {
			n++;
			k += *dt_cell(&c->g, i, col) != '\0';
		}
	return n ? k * 100 / n : 0;
}

bool dt_user_gives(ctx *c, const char *field)
{
	return optlist_list_has(dt_given(c, "map"), field) || optlist_list_has(dt_given(c, "set"), field) ||
	       optlist_list_has(dt_given(c, "default"), field);
}

/* The best unused column for role whose values fit it (a Swedish
 * 'Valuta' of SEK is no date; an empty 'Zpráva' is no reference, nor one
 * IBAN on every row a payer's account); the best by name when none does
 * (but for an account). */
static int fitting_column(ctx *c, detect_role role, const bool *used)
{
	bool tried[CSV_MAX_FIELDS];
	memcpy(tried, used, sizeof tried);
	int first = dt_best_column(c, role, tried), col = first;
	while (col >= 0 && !dt_values_fit(c, role, col)) {
		tried[col] = true;
		col = dt_best_column(c, role, tried);
	}
	/* one IBAN on every row is the exporting account's, never a payer's;
	 * IBANs are no customer number */
	if (col < 0 && first >= 0 && role == ROLE_AMOUNT) { /* never the balance due, even alone */
		const char *h = dt_cell(&c->g, c->header, first);
		if (detect_name_score(ROLE_BALANCE_DUE, h, strlen(h)) >= 2000)
			return -1;
		/* nor dates: HDFC's "Value Dt", ICICI's "Value Date" */
		if (dt_values_fit(c, ROLE_DATE, first))
			return -1;
	}
	if (col < 0 && first >= 0 && (role == ROLE_TEXT || role == ROLE_PARTY) && dt_direction_words(c, first))
		return -1;
	return col >= 0 || role == ROLE_ACCOUNT || role == ROLE_CUSTOMER_ID || role == ROLE_CURRENCY ? col : first;
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
	bool money_given = dt_given(c, "debit") || dt_given(c, "credit");
	/* The caller's own mapping: its columns are taken (and their values
	 * judged like the others). */
	for (int fi = 0; fi < d->ncols; fi++) {
		char v[256];
		if (!optlist_list_value(dt_given(c, "map"), d->cols[fi].name, v, sizeof v))
			continue;
		int col = -1;
		if (c->header < 0) {
			col = atoi(v) - 1;
		} else {
			for (int i = 0; i < c->g.n[c->header] && col < 0; i++)
				if (!strcasecmp(dt_cell(&c->g, c->header, i), v))
					col = i;
		}
		if (col >= 0 && col < CSV_MAX_FIELDS) {
			c->col[fi] = col;
			c->mapped[fi] = used[col] = true;
		}
	}
	for (int f = 0; f < np; f++) {
		int fi = entity_col_index(d, plan[f].field, strlen(plan[f].field));
		if (dt_user_gives(c, plan[f].field) || (money_given && d->cols[fi].type == COL_MONEY))
			continue;
		for (int r = 0; r < plan[f].nroles && c->col[fi] < 0; r++) {
			int col = fitting_column(c, plan[f].roles[r], used);
			/* an amount column that is mostly empty is a split one's half */
			if (col >= 0 && plan[f].roles[r] == ROLE_AMOUNT && dt_filled(c, col) < 50)
				col = -1;
			if (col >= 0) {
				c->col[fi] = col;
				used[col] = true;
			}
		}
		/* a bank statement with one text column: it names the payer */
		if (c->col[fi] < 0 && (!strcmp(plan[f].field, "payer") || !strcmp(plan[f].field, "vendor"))) {
			int col = fitting_column(c, ROLE_TEXT, used);
			if (col >= 0) {
				c->col[fi] = col;
				used[col] = true;
			}
		}
	}
	int amount = entity_col_index(d, "amount", 6);
	if (amount >= 0 && c->col[amount] < 0 && !money_given && !dt_user_gives(c, "amount")) {
		c->debit = dt_best_column(c, ROLE_DEBIT, used);
		c->credit = dt_best_column(c, ROLE_CREDIT, used);
		if (c->debit < 0 || c->credit < 0)
			c->debit = c->credit = -1;
	}
	if (!dt_given(c, "sign_column") && !money_given)
		c->indicator = dt_best_column(c, ROLE_INDICATOR, used);
	if (c->kind == ENT_PAYMENTS)
		c->category = dt_best_column(c, ROLE_CATEGORY, used);
}

/* A statement whose counterparty is empty on some lines (card payments,
 * fees: Fio, Nordea, Revolut) would lose them as payments without a payer:
 * the reference stands in for it where it is empty. */
static void payer_fallback(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	int p = entity_col_index(d, "payer", 5), r = entity_col_index(d, "reference", 9);
	if (c->kind != ENT_PAYMENTS || p < 0 || r < 0 || c->col[p] < 0 || c->mapped[p] || c->col[r] < 0 ||
	    c->header < 0 || dt_given(c, "compute"))
		return;
	int filled = dt_filled(c, c->col[p]);
	if (filled >= 100 || dt_filled(c, c->col[r]) <= filled)
		return;
	const char *pn = dt_cell(&c->g, c->header, c->col[p]), *rn = dt_cell(&c->g, c->header, c->col[r]);
	if (strpbrk(pn, "[]") || strpbrk(rn, "[]"))
		return;
	char expr[400];
	const char *amount = optlist_get(&c->r->opts, "compute"); /* the net of a fee (detect_fees.c) */
	snprintf(expr, sizeof expr, "%s%spayer=coalesce([%s], [%s])", amount ? amount : "", amount ? "," : "", pn, rn);
	dt_choose(c, "compute", expr);
	dt_note(c, 5, "'%s' is empty on %d%% of the sample's rows: there '%s' names the payer", pn, 100 - filled, rn);
	c->col[p] = -1;
}

/* An invoice export's own "Open balance": invoices it shows settled are
 * stored open all the same (brisk settles them from payments), which a new
 * user should hear before the receivables look inflated. */
static void note_settled(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	int amount = entity_col_index(d, "amount", 6);
	if (c->kind != ENT_INVOICES || amount < 0 || c->col[amount] < 0)
		return;
	bool used[CSV_MAX_FIELDS];
	dt_used_columns(c, used);
	int due = dt_best_column(c, ROLE_BALANCE_DUE, used);
	if (due < 0)
		return;
	int n = 0, settled = 0;
	for (int i = c->data; i < c->g.nrows; i++) {
		const char *a = c->g.n[i] >= 2 ? dt_cell(&c->g, i, c->col[amount]) : "";
		const char *b = c->g.n[i] >= 2 ? dt_cell(&c->g, i, due) : "";
		int64_t x, y;
		if (money_parse_opts(a, strlen(a), &c->money, &x) != MONEY_OK || x <= 0 ||
		    money_parse_opts(b, strlen(b), &c->money, &y) != MONEY_OK)
			continue;
		n++;
		settled += y == 0;
	}
	if (settled)
		dt_note(c, 15,
		        "%d of %d invoices of the sample show '%s' 0 (settled in the source): they are stored open, "
		        "brisk settles invoices from the payments (import them, then brisk match)",
		        settled, n, dt_cell(&c->g, c->header, due));
}

/* ---- the options ---- */

static void emit_map(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	buf_t b = BUF_INIT;
	for (int i = 0; i < d->ncols; i++) {
		if (c->col[i] < 0 || c->mapped[i])
			continue;
		char pos[16];
		const char *h = dt_col_name(c, c->col[i], pos);
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
		dt_choose(c, "map", b.p);
	}
	buf_free(&b);
}

static bool check_required(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	char missing[160] = "";
	for (int i = 1; i < d->ncols; i++) {
		if (!d->cols[i].required || c->col[i] >= 0 || dt_user_gives(c, d->cols[i].name) ||
		    optlist_list_has(optlist_get(&c->r->opts, "default"), d->cols[i].name))
			continue;
		if (d->cols[i].type == COL_MONEY && (c->debit >= 0 || dt_given(c, "debit")))
			continue;
		if (c->kind == ENT_COSTS && !strcmp(d->cols[i].name, "category")) {
			dt_choose(c, "default", "category=Uncategorised");
			dt_note(c, 0, "no category column: Uncategorised");
			continue;
		}
		snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s", missing[0] ? ", " : "",
		         d->cols[i].name);
	}
	if (!missing[0])
		return true;
	char cols[400] = "";
	for (int i = 0; c->header >= 0 && i < c->g.n[c->header]; i++)
		snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s'%s'", i ? ", " : "", dt_cell(&c->g, c->header, i));
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
	if (c.header < 0 && !dt_map_by_content(&c))
		goto out;
	if (!dt_pick_status(&c) || !check_required(&c) || !dt_pick_dates(&c) || !dt_pick_money(&c) ||
	    !dt_pick_net(&c) || !dt_pick_signs(&c) || (!dt_card_statement(&c) && !dt_costs_one_way(&c)))
		goto out;
	note_settled(&c);
	dt_pick_invoice_status(&c);
	payer_fallback(&c);
	if (c.category >= 0 && dt_given(&c, "split") && !dt_given(&c, "split_category"))
		dt_choose(&c, "split_category", dt_cell(&c.g, c.header, c.category));
	emit_map(&c);
	int ncols = c.header >= 0 ? c.g.n[c.header] : c.width;
	for (int i = 0; i < ncols && i < DETECT_MAX_COLUMNS; i++) {
		char pos[16];
		snprintf(pos, sizeof pos, "%d", i + 1);
		r->columns[r->ncolumns++] = xstrdup(c.header >= 0 ? dt_cell(&c.g, c.header, i) : pos);
	}
	if (c.g.nrows - c.data < 3)
		dt_note(&c, 20, "only %d data rows to judge from", c.g.nrows - c.data);
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

