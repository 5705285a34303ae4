#include "ingest/detect_int.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "core/currency.h"
#include "core/date.h"
#include "core/mem.h"
#include "ingest/csv.h"
#include "ingest/detect_names.h"
#include "ingest/sample.h"

bool dt_looks_like_data(const char *v)
{
	size_t nf;
	const char *const *fmts = sample_date_formats(&nf);
	timestamp_t t;
	for (size_t i = 0; i < nf; i++)
		if (timestamp_parse_fmt(v, strlen(v), fmts[i], &t))
			return true;
	int64_t x;
	money_opts m = {.decimal = '.', .thousands = ',', .symbols = true, .plus = true, .parens = true,
	                .trailing_minus = true};
	money_opts e = {.decimal = ',', .thousands = '.', .symbols = true, .plus = true, .parens = true,
	                .trailing_minus = true};
	return *v && (money_parse_opts(v, strlen(v), &m, &x) == MONEY_OK || money_parse_opts(v, strlen(v), &e, &x) == MONEY_OK);
}


char dt_decimal_of(const char *v)
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

/* Without a header, columns are told by their values: the first whose
 * values are all dates, the first all amounts, then the text ones. */
static bool all_values(const ctx *c, int col, bool dates)
{
	int n = 0;
	for (int i = c->data; i < c->g.nrows; i++) {
		if (c->g.n[i] < 2)
			continue;
		const char *v = dt_cell(&c->g, i, col);
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
		money_opts m1 = {.decimal = '.', .symbols = true, .plus = true, .parens = true, .thousands = ',',
		                 .trailing_minus = true};
		money_opts m2 = {.decimal = ',', .symbols = true, .plus = true, .parens = true, .thousands = '.',
		                 .trailing_minus = true};
		bool is_money = money_parse_opts(v, strlen(v), &m1, &x) == MONEY_OK ||
		                money_parse_opts(v, strlen(v), &m2, &x) == MONEY_OK;
		if (dates ? !is_date : (is_date || !is_money))
			return false;
	}
	return n > 0;
}

/* An amount in any of the common notations ("5 000,00", "1'250.00"). */
static bool any_amount(const char *v)
{
	static const char marks[][2] = {{'.', ','}, {',', '.'}, {',', ' '}, {'.', '\''}, {'.', ' '}};
	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
		money_opts m = {.decimal = marks[i][0], .thousands = marks[i][1], .symbols = true, .plus = true,
		                .parens = true, .trailing_minus = true};
		int64_t x;
		if (money_parse_opts(v, strlen(v), &m, &x) == MONEY_OK)
			return true;
	}
	return false;
}

/* DE89 3704 0044 0532 0130 00: two letters, two digits, 11-30 more. */
static bool iban_shaped(const char *v)
{
	size_t n = 0;
	for (const char *p = v; *p; p++) {
		if (*p == ' ')
			continue;
		bool ok = n < 2 ? (*p >= 'A' && *p <= 'Z') : n < 4 ? (*p >= '0' && *p <= '9') : isalnum((unsigned char)*p);
		if (!ok)
			return false;
		n++;
	}
	return n >= 15 && n <= 34;
}

bool dt_direction_words(const ctx *c, int col)
{
	int rows = 0;
	for (int i = c->data; i < c->g.nrows; i++) {
		const char *v = c->g.n[i] >= 2 ? dt_cell(&c->g, i, col) : "";
		if (!*v)
			continue;
		if (!detect_direction(v, strlen(v)))
			return false;
		rows++;
	}
	return rows > 0;
}

bool dt_values_fit(const ctx *c, detect_role role, int col)
{
	/* "Amount Due", "Open balance": what is still owed, never the
	 * invoice's amount (Odoo's "Amount Due" beside "Total Signed") */
	if (role == ROLE_AMOUNT && c->header >= 0) {
		const char *h = dt_cell(&c->g, c->header, col);
		if (detect_name_score(ROLE_BALANCE_DUE, h, strlen(h)) >= 2000)
			return false;
	}
	if (role == ROLE_CUSTOMER_ID) {
		/* an "Account number" of IBANs is the other party's account
		 * (N26), never a customer number; one number on every line of a
		 * bank statement is the exporting account's (RBC) */
		int n = 0, iban = 0;
		const char *first = NULL;
		bool varies = false;
		for (int i = c->data; i < c->g.nrows; i++) {
			const char *v = c->g.n[i] >= 2 ? dt_cell(&c->g, i, col) : "";
			if (!*v)
				continue;
			n++;
			iban += iban_shaped(v);
			varies |= first && strcmp(first, v);
			first = first ? first : v;
		}
		return !n || (iban * 2 < n && (varies || n < 3 || c->kind != ENT_PAYMENTS));
	}
	if (role == ROLE_CURRENCY) {
		/* ISO codes only: a "€" or "Euro" column would reject every row */
		int n = 0;
		char code[4];
		for (int i = c->data; i < c->g.nrows; i++) {
			const char *v = c->g.n[i] >= 2 ? dt_cell(&c->g, i, col) : "";
			slice_t t = slice_trim(slice_cstr(v));
			if (t.len && !currency_canon(t.p, t.len, code))
				return false;
			n += t.len > 0;
		}
		return n > 0;
	}
	bool date = role == ROLE_DATE || role == ROLE_ISSUE_DATE || role == ROLE_DUE_DATE || role == ROLE_CREATED_AT;
	bool text = role == ROLE_TEXT || role == ROLE_PARTY || role == ROLE_ACCOUNT;
	if (!date && !text && role != ROLE_AMOUNT)
		return true;
	if (text) {
		/* the same text on every row (the exporting account's own name)
		 * names no counterparty */
		const char *first = NULL;
		int rows = 0;
		bool varies = false;
		for (int i = c->data; i < c->g.nrows; i++) {
			const char *v = c->g.n[i] >= 2 ? dt_cell(&c->g, i, col) : "";
			if (!*v)
				continue;
			rows++;
			varies |= first && strcmp(first, v);
			first = first ? first : v;
		}
		return rows && (varies || rows < 3) && !dt_direction_words(c, col);
	}
	int n = 0, fit = 0;
	size_t nf;
	const char *const *fmts = sample_date_formats(&nf);
	const char *name = c->header >= 0 ? dt_cell(&c->g, c->header, col) : "";
	for (int i = c->data; i < c->g.nrows; i++) {
		const char *v = c->g.n[i] >= 2 ? dt_cell(&c->g, i, col) : "";
		if (!*v || !strcmp(v, name))
			continue;
		n++;
		timestamp_t t;
		bool is_date = false;
		for (size_t f = 0; f < nf && !is_date; f++)
			is_date = timestamp_parse_fmt(v, strlen(v), fmts[f], &t);
		fit += date ? is_date : !is_date && any_amount(v);
	}
	return !n || fit * 2 >= n;
}

/* How much column col looks like the amount: some values negative (a
 * balance rarely is), values with a decimal mark. */
static int amount_score(const ctx *c, int col)
{
	int neg = 0, dec = 0;
	for (int i = c->data; i < c->g.nrows; i++) {
		const char *v = c->g.n[i] >= 2 ? dt_cell(&c->g, i, col) : "";
		neg += strchr(v, '-') != NULL || strchr(v, '(') != NULL || strstr(v, "\xe2\x88\x92") != NULL;
		dec += dt_decimal_of(v) != 0;
	}
	return (neg ? 2 : 0) + (dec ? 1 : 0);
}

/* Mean length of column col's values (text columns: the longest is the
 * description). */
static size_t mean_len(const ctx *c, int col)
{
	size_t sum = 0, n = 0;
	for (int i = c->data; i < c->g.nrows; i++)
		if (c->g.n[i] >= 2) {
			sum += strlen(dt_cell(&c->g, i, col));
			n++;
		}
	return n ? sum / n : 0;
}

bool dt_map_by_content(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	int date = -1, amount = -1, ascore = -1, text[2] = {-1, -1};
	int money[CSV_MAX_FIELDS], nmoney = 0;
	for (int i = 0; i < c->width && i < CSV_MAX_FIELDS; i++) {
		if (all_values(c, i, true)) {
			if (date < 0)
				date = i;
		} else if (all_values(c, i, false)) {
			money[nmoney++] = i;
			int sc = amount_score(c, i);
			if (sc > ascore) {
				ascore = sc;
				amount = i;
			}
		} else if (dt_filled(c, i) > 50) {
			if (text[0] < 0 || mean_len(c, i) > mean_len(c, text[0])) {
				text[1] = text[0];
				text[0] = i;
			} else if (text[1] < 0 || mean_len(c, i) > mean_len(c, text[1])) {
				text[1] = i;
			}
		}
	}
	bool sides_given = dt_given(c, "debit") || dt_given(c, "credit");
	if (!sides_given && !dt_user_gives(c, "amount") && entity_col_index(d, "amount", 6) >= 0) {
		if (!dt_split_sides(c, money, nmoney))
			return false;
	}
	static const char *const party[] = {"payer", "vendor", "customer", "name"};
	static const char *const desc[] = {"reference", "description"};
	for (int i = 1; i < d->ncols; i++) {
		const char *f = d->cols[i].name;
		if (dt_user_gives(c, f))
			continue;
		if (d->cols[i].type == COL_DATE || d->cols[i].type == COL_TIMESTAMP) {
			c->col[i] = d->cols[i].required ? date : -1;
		} else if (d->cols[i].type == COL_MONEY) {
			c->col[i] = c->debit >= 0 || sides_given ? -1 : amount;
		} else {
			for (size_t k = 0; k < 4; k++)
				if (!strcmp(f, party[k]))
					c->col[i] = text[0];
			for (size_t k = 0; k < 2; k++)
				if (!strcmp(f, desc[k]))
					c->col[i] = text[1];
		}
	}
	dt_note(c, 10, "columns told by their values");
	return true;
}

/* ---- values ---- */

int dt_values(const ctx *c, int col, const char **out, int cap)
{
	int n = 0;
	const char *name = c->header >= 0 ? dt_cell(&c->g, c->header, col) : NULL;
	/* a line shorter than the header is rejected alone (QuickBooks'
	 * "Friday, February 02, 2024 10:00 AM" footer): it says nothing */
	int width = c->header >= 0 ? c->g.n[c->header] : 0;
	for (int i = c->data; i < c->g.nrows && n < cap; i++)
		if (c->g.n[i] >= 2 && c->g.n[i] >= width && col < c->g.n[i] && *dt_cell(&c->g, i, col) &&
		    !(name && !strcmp(name, dt_cell(&c->g, i, col))))
			out[n++] = dt_cell(&c->g, i, col);
	return n;
}

/* "38,50-", "1.200,00 -": a digit, then the minus (SAP, mainframes). */
static bool minus_after(slice_t s)
{
	if (s.len < 2 || s.p[s.len - 1] != '-')
		return false;
	slice_t n = slice_trim((slice_t){s.p, s.len - 1});
	return n.len && n.p[n.len - 1] >= '0' && n.p[n.len - 1] <= '9';
}

bool dt_pick_money(ctx *c)
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
	static const char *const money_names[] = {"decimal_comma", "thousands", "currency", "plus",
	                                          "parens", "round", "trailing_minus"};
	bool money_given = false;
	for (size_t i = 0; i < sizeof money_names / sizeof money_names[0]; i++)
		money_given |= dt_given(c, money_names[i]) != NULL;
	const char **v = xmalloc(MAX_ROWS * 3 * sizeof *v);
	int n = 0;
	for (int i = 0; i < nc && nc <= 3; i++)
		n += dt_values(c, cols[i], v + n, MAX_ROWS);
	int comma = 0, dot = 0;
	bool sym = false, plus = false, parens = false, space = false, apos = false, commas = false, dots = false;
	int trail = 0;
	const char *trail_ex = NULL;
	for (int i = 0; i < n; i++) {
		char m = dt_decimal_of(v[i]);
		comma += m == ',';
		dot += m == '.';
		for (const unsigned char *p = (const unsigned char *)v[i]; *p; p++) {
			if (*p == 0xc2 && p[1] == 0xa0) {
				space = true;
				p++;
			} else if (*p == 0xe2 && p[1] == 0x80 && p[2] == 0xaf) {
				/* U+202F, the group separator of French locales */
				space = true;
				p += 2;
			} else if (*p == 0xe2 && p[1] == 0x88 && p[2] == 0x92) {
				p += 2; /* U+2212, a minus sign */
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
		/* "38,50-": SAP prints the minus after the number */
		if (minus_after(s) && !trail++)
			trail_ex = v[i];
		parens |= s.len && (s.p[0] == '(' || strchr(v[i], '('));
	}
	bool ok = true;
	if (money_given) {
		c->money.decimal = dt_given(c, "decimal_comma") ? ',' : '.';
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
		dt_choose(c, "decimal_comma", "1");
		dt_note(c, 0, "decimal comma (%d amounts end in ,NN)", comma);
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
		dt_choose(c, "thousands", m.thousands == ' ' ? "space" : (char[]){m.thousands, 0});
	m.symbols = sym;
	m.plus = plus;
	m.parens = parens;
	if (sym)
		dt_choose(c, "currency", "1");
	if (plus)
		dt_choose(c, "plus", "1");
	if (parens)
		dt_choose(c, "parens", "1");
	if (trail) {
		m.trailing_minus = true;
		dt_choose(c, "trailing_minus", "1");
		dt_note(c, 0, "%d amounts carry the minus after the number (e.g. '%.30s')", trail, trail_ex);
	}
	if (!comma && !dot && n)
		dt_note(c, 5, "no amount of the sample shows a decimal mark: . assumed");
	/* Superstore's 957.5775 (a discount's share): rounded, and said */
	int fine = 0;
	const char *fine_ex = NULL;
	for (int i = 0; i < n; i++) {
		int64_t y;
		if (money_parse_opts(v[i], strlen(v[i]), &m, &y) == MONEY_PRECISION && !fine++)
			fine_ex = v[i];
	}
	/* only once the sample shows the decimal mark: "1.234" alone may be a
	 * thousand, which rounding would store as 1.23 */
	if (fine && (comma || dot) && !dt_given(c, "round")) {
		m.round = true;
		dt_choose(c, "round", "1");
		dt_note(c, 5, "%d amounts of the sample have more than 2 decimals (e.g. '%.30s'): rounded half-to-even to the "
		        "cent", fine, fine_ex);
	}
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
		dt_note(c, 10, "%d of %d amounts of the sample are not read (e.g. '%.30s'): their rows will be rejected", bad, n,
		     first);
check_signs:
	for (int i = 0; i < n; i++)
		if (money_parse_opts(v[i], strlen(v[i]), &c->money, &x) == MONEY_OK && x < 0)
			c->signed_values = true;
out:
	free(v);
	return ok;
}

/* A column no field reads whose every value is a debit/credit word, both
 * directions present ("Dr / Cr", "Type" of DEBIT and CREDIT): the sign of
 * unsigned amounts whatever the column is called; -1 when none. */
static int indicator_by_values(const ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	for (int col = 0; c->header >= 0 && col < c->g.n[c->header] && col < CSV_MAX_FIELDS; col++) {
		bool read = false;
		for (int f = 0; f < d->ncols; f++)
			read |= c->col[f] == col;
		int in = 0, out = 0, other = 0;
		for (int i = c->data; i < c->g.nrows && !read && !other; i++) {
			const char *v = c->g.n[i] >= 2 ? dt_cell(&c->g, i, col) : "";
			int dir = *v ? detect_direction(v, strlen(v)) : 2;
			in += dir == 1;
			out += dir == -1;
			other += dir == 0;
		}
		if (!read && !other && in && out)
			return col;
	}
	return -1;
}

bool dt_pick_signs(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	int amount = entity_col_index(d, "amount", 6);
	if (c->debit >= 0) {
		char pd[16], pc[16];
		dt_choose(c, "debit", dt_col_name(c, c->debit, pd));
		dt_choose(c, "credit", dt_col_name(c, c->credit, pc));
		dt_note(c, 0, "separate debit and credit columns");
		if (c->kind == ENT_COSTS && !dt_given(c, "negate")) {
			/* amount = credit - debit; a cost is money out */
			dt_choose(c, "negate", "1");
			dt_note(c, 0, "costs are the debits, money out (--negate)");
		}
		return true;
	}
	if (amount < 0 || c->col[amount] < 0)
		return true;
	/* only a statement's lines go both ways: an invoice's O/C (SAP
	 * Business One's DocStatus, open/closed) is no sign */
	if (c->indicator < 0 && !c->signed_values && !dt_given(c, "sign_column") &&
	    (c->kind == ENT_PAYMENTS || c->kind == ENT_COSTS))
		c->indicator = indicator_by_values(c);
	if (c->indicator >= 0 && !c->signed_values) {
		/* The distinct values of the indicator and what they say. */
		char list[128] = "";
		const char *seen[8];
		int nseen = 0, unknown = 0;
		for (int i = c->data; i < c->g.nrows; i++) {
			if (c->g.n[i] < 2)
				continue;
			const char *v = dt_cell(&c->g, i, c->indicator);
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
				dt_choose(c, "sign_column", dt_cell(&c->g, c->header, c->indicator));
				dt_choose(c, "negative_values", list);
			}
			dt_note(c, 0, "column '%s' tells the sign", dt_cell(&c->g, c->header, c->indicator));
			return true;
		}
		/* Unsigned amounts beside a sign column we cannot read: reading them
		 * as written would store every debit as money in. */
		const char *col = dt_cell(&c->g, c->header, c->indicator);
		if (!dt_user_gives(c, "amount")) {
			char vals[160] = "";
			for (int j = 0; j < nseen && strlen(vals) < 100; j++)
				snprintf(vals + strlen(vals), sizeof vals - strlen(vals), "%s'%.20s'", j ? ", " : "", seen[j]);
			snprintf(c->why, c->whylen,
			         "column '%.40s' may tell the sign of the unsigned amounts but its values (%s) are not known "
			         "ones: give --sign-column '%.40s' --negative-values VALUES (those meaning money out), or "
			         "--map amount=COLUMN to read the amounts as written",
			         col, vals, col);
			return false;
		}
		dt_note(c, 10, "column '%s' may tell the sign but its values are not known ones: amounts read as written",
		     col);
	}
	if (c->kind == ENT_COSTS && c->signed_values && !dt_given(c, "negate")) {
		int neg = 0, n = 0;
		int64_t x;
		for (int i = c->data; i < c->g.nrows; i++) {
			const char *v = c->g.n[i] >= 2 ? dt_cell(&c->g, i, c->col[amount]) : "";
			if (*v && money_parse_opts(v, strlen(v), &c->money, &x) == MONEY_OK) {
				n++;
				neg += x < 0;
			}
		}
		/* (a running balance cannot say it: a card's or a ledger's grows
		 * with its costs, a bank account's with its money in) */
		if (neg * 4 > n && (n - neg) * 4 > n && !dt_user_gives(c, "amount")) {
			/* Stripe's balance export: charges in, refunds and fees out */
			snprintf(c->why, c->whylen,
			         "%d of %d amounts of the sample are negative, the others positive, and nothing says which way "
			         "is money out: a statement of money in and out is imported with `brisk import "
			         "payments FILE --split` (money in to payments, money out to costs); for costs give --negate "
			         "if the negative amounts are the costs, or --map amount=COLUMN to read them as written (positive "
			         "the costs, negative the refunds)",
			         neg, n);
			return false;
		} else if (neg * 2 > n) {
			dt_choose(c, "negate", "1");
			dt_note(c, 10, "%d of %d amounts are negative: costs are money out (--negate)", neg, n);
		}
	}
	return true;
}
