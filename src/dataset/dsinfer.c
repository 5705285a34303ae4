#include "dataset/dsinfer.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "core/decimal.h"
#include "core/mem.h"
#include "dataset/dsdef.h"
#include "dataset/dsvalue.h"
#include "ingest/csv.h"
#include "ingest/layout.h"
#include "ingest/sample.h"

#define SAMPLE 500
#define PREVIEW 10
#define DISTINCT_CAP 1024

#define FORMATS 32 /* room for sample_date_formats() */

typedef struct {
	int nonblank, dates, months, quarters, years, numbers, integers, max_dec;
	int fmt_hits[FORMATS]; /* values each common date format reads (no date_format given) */
	size_t distinct;
	uint64_t seen[DISTINCT_CAP * 2];
	bool capped;
	size_t total_len;
} colstat;

typedef struct {
	const char *p;
	size_t len, pos;
} mem_src;

static ssize_t mem_read(void *ud, char *buf, size_t n)
{
	mem_src *m = ud;
	size_t k = m->len - m->pos < n ? m->len - m->pos : n;
	memcpy(buf, m->p + m->pos, k);
	m->pos += k;
	return (ssize_t)k;
}

static char guess_delimiter(const char *p, size_t len)
{
	const char *nl = memchr(p, '\n', len);
	size_t n = nl ? (size_t)(nl - p) : len;
	static const char cands[] = ",;\t|";
	char best = ',';
	size_t most = 0;
	for (int i = 0; cands[i]; i++) {
		size_t k = 0;
		for (size_t j = 0; j < n; j++)
			k += p[j] == cands[i];
		if (k > most)
			most = k, best = cands[i];
	}
	return best;
}

static void note_distinct(colstat *s, slice_t v)
{
	if (s->capped)
		return;
	uint64_t h = XXH3_64bits(v.p, v.len) | 1;
	size_t cap = DISTINCT_CAP * 2, j = h & (cap - 1);
	while (s->seen[j] && s->seen[j] != h)
		j = (j + 1) & (cap - 1);
	if (!s->seen[j]) {
		s->seen[j] = h;
		if (++s->distinct >= DISTINCT_CAP)
			s->capped = true;
	}
}

static int decimals_of(slice_t v, char mark)
{
	const char *d = memchr(v.p, mark, v.len);
	if (!d)
		return 0;
	int n = 0;
	for (const char *q = d + 1; q < v.p + v.len && isdigit((unsigned char)*q); q++)
		n++;
	return n;
}

static void observe(colstat *s, slice_t raw, const import_opts *o)
{
	slice_t v = slice_trim(raw);
	if (!v.len)
		return;
	s->nonblank++;
	s->total_len += v.len;
	note_distinct(s, v);
	date_t d;
	char why[8];
	timestamp_t ts;
	if (timestamp_parse_fmt(v.p, v.len, o->parse.date_format, &ts))
		s->dates++;
	size_t nf;
	const char *const *fmts = sample_date_formats(&nf);
	for (size_t f = 0; !o->parse.date_format && f < nf && f < FORMATS; f++)
		s->fmt_hits[f] += timestamp_parse_fmt(v.p, v.len, fmts[f], &ts);
	if (dsvalue_time(v, INTERVAL_MONTH, NULL, &d, why, sizeof why) && v.len <= 7)
		s->months++;
	if (dsvalue_time(v, INTERVAL_QUARTER, NULL, &d, why, sizeof why) && v.len <= 7)
		s->quarters++;
	if (v.len == 4 && dsvalue_time(v, INTERVAL_YEAR, NULL, &d, why, sizeof why) && v.p[0] >= '1' && v.p[0] <= '2')
		s->years++;
	decimal_t x;
	if (decimal_parse(v.p, v.len, o->parse.money_lenient ? &o->parse.money : NULL, &x)) {
		s->numbers++;
		int dec = decimals_of(v, o->parse.money.decimal ? o->parse.money.decimal : '.');
		s->integers += dec == 0;
		s->max_dec = dec > s->max_dec ? dec : s->max_dec;
	}
}

static bool name_has(const char *col, const char *const *words)
{
	char low[DSDEF_COLUMN_MAX + 1];
	size_t n = strlen(col);
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)col[i]);
	for (int i = 0; words[i]; i++)
		if (strstr(low, words[i]))
			return true;
	return false;
}

static bool id_like(const char *col)
{
	static const char *const w[] = {"code", "zip", "postal", "phone", "number", "nr", "no.", "iban", NULL};
	size_t n = strlen(col);
	if (n >= 2 && !strcasecmp(col + n - 2, "id") && (n == 2 || !isalpha((unsigned char)col[n - 3]) ||
	                                                 islower((unsigned char)col[n - 3])))
		return true;
	return name_has(col, w);
}

/* A lowercase name from a column name: letters and digits, '_' between. */
static void make_name(const char *col, const dsdef_t *d, char *out)
{
	size_t k = 0;
	bool sep = false;
	for (const char *p = col; *p && k < DSDEF_NAME_MAX - 3; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) && c < 128) {
			if (sep && k)
				out[k++] = '_';
			out[k++] = (char)tolower(c);
			sep = false;
		} else {
			sep = true;
		}
	}
	out[k] = '\0';
	if (!k || !isalpha((unsigned char)out[0])) {
		memmove(out + 2, out, k + 1);
		out[0] = 'c', out[1] = '_';
		k += 2;
	}
	char base[DSDEF_NAME_MAX + 1];
	memcpy(base, out, k + 1);
	base[36] = '\0';
	for (int n = 2; n < 100 && (dsdef_dim_index(d, out) >= 0 || dsdef_measure_index(d, out) >= 0); n++)
		sprintf(out, "%.36s_%d", base, n % 100); /* 36 + 3 bytes: fits */
}

static void note(buf_t *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(buf_t *notes, const char *fmt, ...)
{
	char s[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s, sizeof s, fmt, ap);
	va_end(ap);
	buf_putc(notes, notes->len ? ',' : '[');
	buf_json_str(notes, s, strlen(s));
}

static void put_scaled(buf_t *out, int64_t v, int scale)
{
	char digits[32];
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int n = snprintf(digits, sizeof digits, "%0*llu", scale + 1, (unsigned long long)mag);
	buf_printf(out, "%s%.*s", v < 0 ? "-" : "", n - scale, digits);
	if (scale)
		buf_printf(out, ".%s", digits + n - scale);
}

typedef struct {
	csv_row_t *rows;
	int n;
	buf_t *mem; /* the sample's bytes (rows point into them) */
} infer_sample;

/* Without date_format and without an ISO date column: the first column
 * one common format reads in 9 rows of 10 (Superstore's 11/8/2016) is the
 * time, its format kept in the definition. Two formats that read it alike
 * and disagree (no day above 12) are refused with both. False with why
 * only then. */
static bool time_by_format(const csv_row_t *hdr, const colstat *st, dsdef_t *d, int *tcol, buf_t *notes, char *why,
                           size_t whylen)
{
	size_t nf;
	const char *const *fmts = sample_date_formats(&nf);
	for (size_t i = 0; i < hdr->nfields; i++) {
		const colstat *c = &st[i];
		int best = 0;
		size_t bf = 0, ties = 0, other = 0;
		for (size_t f = 0; f < nf && f < FORMATS; f++) {
			if (c->fmt_hits[f] > best) {
				best = c->fmt_hits[f];
				bf = f;
				ties = 0;
			} else if (best && c->fmt_hits[f] == best) {
				ties++;
				other = f;
			}
		}
		if (!c->nonblank || best * 10 < c->nonblank * 9)
			continue;
		char col[DSDEF_COLUMN_MAX + 1];
		snprintf(col, sizeof col, "%.*s", (int)(hdr->fields[i].len > DSDEF_COLUMN_MAX ? DSDEF_COLUMN_MAX : hdr->fields[i].len),
		         hdr->fields[i].p);
		if (ties) {
			snprintf(why, whylen,
			         "'%s' holds dates that read as %s and as %s (no day above 12 in the sample): give date_format",
			         col, fmts[bf], fmts[other]);
			return false;
		}
		*tcol = (int)i;
		d->grain = INTERVAL_DAY;
		snprintf(d->time_column, sizeof d->time_column, "%s", col);
		snprintf(d->time_format, sizeof d->time_format, "%s", fmts[bf]);
		note(notes, "time: '%s' holds dates written %s in every row of the sample (grain day; the format is kept in "
		            "the definition)", col, fmts[bf]);
		return true;
	}
	return true;
}

bool dsinfer_run(const char *csv, size_t len, const char *name, const import_opts *o, int minor, buf_t *out,
                 char *why, size_t whylen)
{
	mem_src src = {csv, len, 0};
	/* a body cut mid-line (the head of a large file): drop the cut line */
	if (len && csv[len - 1] != '\n') {
		const char *nl = memrchr(csv, '\n', len);
		if (nl)
			src.len = (size_t)(nl - csv) + 1;
	}
	for (int k = 0; k < o->skip_lines && src.pos < src.len; k++) {
		const char *nl = memchr(csv + src.pos, '\n', src.len - src.pos);
		src.pos = nl ? (size_t)(nl - csv) + 1 : src.len;
	}
	char delim = o->delimiter ? o->delimiter : guess_delimiter(csv + src.pos, src.len - src.pos);
	csv_reader_t *r = csv_new(mem_read, &src, delim, 0);
	sb_table *tab = NULL;
	csv_row_t *hdr = xcalloc(1, sizeof *hdr);
	infer_sample s = {xcalloc(SAMPLE, sizeof(csv_row_t)), 0, xcalloc(SAMPLE + 1, sizeof(buf_t))};
	colstat *st = NULL;
	dsdef_t *d = xcalloc(1, sizeof *d);
	buf_t notes = BUF_INIT;
	bool ok = false;
	if (o->encoding != ENC_UTF8) {
		tab = xmalloc(sizeof *tab);
		if (!layout_table(o->encoding, tab, why, whylen))
			goto out;
	}
	if (csv_next(r, hdr) != CSV_ROW || hdr->error || hdr->nfields < 2) {
		snprintf(why, whylen, "no header line with two columns or more (delimiter '%c')", delim);
		goto out;
	}
	if (tab && !layout_convert_row(tab, hdr, &s.mem[SAMPLE], why, whylen))
		goto out;
	/* the header's fields must survive the next reads: copy them */
	buf_t hb = BUF_INIT;
	size_t off[CSV_MAX_FIELDS];
	for (size_t i = 0; i < hdr->nfields; i++) {
		off[i] = hb.len;
		buf_put(&hb, hdr->fields[i].p, hdr->fields[i].len);
	}
	for (size_t i = 0; i < hdr->nfields; i++)
		hdr->fields[i].p = hb.p + off[i];
	st = xcalloc(hdr->nfields, sizeof *st);
	csv_row_t row;
	while (s.n < SAMPLE && csv_next(r, &row) == CSV_ROW) {
		if (row.error)
			continue;
		if (tab && !layout_convert_row(tab, &row, &s.mem[s.n], why, whylen))
			continue;
		/* keep the row: copy its bytes */
		buf_t *b = &s.mem[s.n];
		size_t o2[CSV_MAX_FIELDS];
		buf_t tmp = BUF_INIT;
		for (size_t i = 0; i < row.nfields; i++) {
			o2[i] = tmp.len;
			buf_put(&tmp, row.fields[i].p, row.fields[i].len);
		}
		buf_free(b);
		*b = tmp;
		for (size_t i = 0; i < row.nfields; i++)
			row.fields[i].p = b->p + o2[i];
		s.rows[s.n++] = row;
		for (size_t i = 0; i < hdr->nfields && i < row.nfields; i++)
			observe(&st[i], row.fields[i], o);
	}
	if (!s.n) {
		snprintf(why, whylen, "the file has a header but no rows to look at");
		goto hb_out;
	}
	snprintf(d->name, sizeof d->name, "%s", name);
	/* the time column: dates first, then months, quarters, years */
	int tcol = -1;
	static const char *const yearw[] = {"year", "jahr", "ano", "año", "annee", "année", "fy", "period", NULL};
	for (int pass = 0; pass < 4 && tcol < 0; pass++)
		for (size_t i = 0; i < hdr->nfields && tcol < 0; i++) {
			colstat *c = &st[i];
			if (!c->nonblank)
				continue;
			int hit = pass == 0 ? c->dates : pass == 1 ? c->months : pass == 2 ? c->quarters : c->years;
			char col[DSDEF_COLUMN_MAX + 1];
			snprintf(col, sizeof col, "%.*s", (int)hdr->fields[i].len, hdr->fields[i].p);
			if (hit * 10 >= c->nonblank * 9 && (pass < 3 || name_has(col, yearw))) {
				tcol = (int)i;
				d->grain = pass == 0 ? INTERVAL_DAY : pass == 1 ? INTERVAL_MONTH : pass == 2 ? INTERVAL_QUARTER : INTERVAL_YEAR;
				snprintf(d->time_column, sizeof d->time_column, "%s", col);
				note(&notes, "time: '%s' holds %s in every row of the sample (grain %s)", col,
				     pass == 0 ? "dates" : pass == 1 ? "months" : pass == 2 ? "quarters" : "years",
				     interval_name(d->grain));
			}
		}
	if (tcol < 0 && !o->parse.date_format && !time_by_format(hdr, st, d, &tcol, &notes, why, whylen))
		goto hb_out;
	if (tcol < 0) {
		snprintf(why, whylen, "no column holds dates (YYYY-MM-DD, or give date_format), months (YYYY-MM), quarters "
		                      "(YYYY-Qn) or years (a column named like 'Year') in every row: a data set needs one");
		goto hb_out;
	}
	static const char *const moneyw[] = {"sales", "amount", "price", "revenue", "profit", "cost", "total", "spend",
	                                     "paid", "income", "expense", "budget", "fee", "tax", "value", "eur", "usd",
	                                     "gbp", "betrag", "umsatz", "importe", "montant", NULL};
	for (size_t i = 0; i < hdr->nfields; i++) {
		colstat *c = &st[i];
		char col[DSDEF_COLUMN_MAX + 1];
		snprintf(col, sizeof col, "%.*s", (int)(hdr->fields[i].len > DSDEF_COLUMN_MAX ? DSDEF_COLUMN_MAX : hdr->fields[i].len),
		         hdr->fields[i].p);
		slice_t tc = slice_trim(slice_cstr(col));
		memmove(col, tc.p, tc.len);
		col[tc.len] = '\0';
		if ((int)i == tcol || !col[0])
			continue;
		bool unique = !c->capped && (int)c->distinct == c->nonblank && c->nonblank > 1;
		if (id_like(col)) {
			if (unique && c->nonblank == s.n && !d->nkey) {
				snprintf(d->key[d->nkey++], DSDEF_COLUMN_MAX + 1, "%s", col);
				note(&notes, "key: '%s' is unique in the sample: importing a row with a known '%s' again replaces it", col, col);
			} else {
				note(&notes, "'%s' looks like an identifier: not a measure nor a dimension", col);
			}
			continue;
		}
		if (c->nonblank && c->numbers * 10 >= c->nonblank * 9 && c->dates < c->nonblank) {
			if (d->nmeasures == DSDEF_MAX_MEASURES) {
				note(&notes, "'%s' is numeric but a data set has at most %d measures", col, DSDEF_MAX_MEASURES);
				continue;
			}
			if (c->max_dec > DSDEF_MAX_SCALE) {
				note(&notes, "'%s' has up to %d decimals, more than %d: left out", col, c->max_dec, DSDEF_MAX_SCALE);
				continue;
			}
			dsdef_measure *m = &d->measures[d->nmeasures];
			make_name(col, d, m->name);
			snprintf(m->column, sizeof m->column, "%s", col);
			if (name_has(col, moneyw) && c->max_dec <= minor) {
				m->type = DSM_MONEY;
				note(&notes, "measure '%s': '%s' is numeric with a money name (money, exact to the minor unit)", m->name, col);
			} else if (c->integers * 10 >= c->numbers * 9) {
				/* a stray decimal among whole numbers is more likely an error */
				m->type = DSM_INTEGER;
				note(&notes, "measure '%s': '%s' holds whole numbers (integer)%s", m->name, col,
				     c->integers < c->nonblank ? "; a few values are not, and would be rejected" : "");
			} else {
				m->type = DSM_DECIMAL;
				m->scale = c->max_dec;
				note(&notes, "measure '%s': '%s' has up to %d decimals (decimal, scale %d)", m->name, col, c->max_dec,
				     c->max_dec);
			}
			d->nmeasures++;
			continue;
		}
		bool repeats = c->capped || (size_t)c->nonblank > c->distinct || s.n < 20;
		if (!repeats || (c->nonblank && c->total_len / (size_t)c->nonblank > 60)) {
			note(&notes, "'%s' is text that rarely repeats (names, descriptions): not a dimension", col);
			continue;
		}
		if (d->ndims == DSDEF_MAX_DIMS) {
			note(&notes, "'%s' could be a dimension but a data set has at most %d", col, DSDEF_MAX_DIMS);
			continue;
		}
		dsdef_dim *x = &d->dims[d->ndims];
		make_name(col, d, x->name);
		snprintf(x->column, sizeof x->column, "%s", col);
		note(&notes, "dimension '%s': '%s' has %s%zu distinct values in %d rows", x->name, col, c->capped ? "over " : "",
		     c->distinct, c->nonblank);
		d->ndims++;
	}
	if (!d->nmeasures) {
		snprintf(why, whylen, "no column is numeric in every row of the sample: a data set needs a measure");
		goto hb_out;
	}
	if (!d->nkey)
		note(&notes, "no key: rows are told apart by their content (importing the same file again changes nothing)");
	buf_puts(out, "{\"definition\":");
	dsdef_json(d, out);
	buf_puts(out, ",\"preview\":[");
	for (int k = 0; k < s.n && k < PREVIEW; k++) {
		const csv_row_t *rw = &s.rows[k];
		buf_puts(out, k ? ",{" : "{");
		bool first = true;
		char w[200];
		for (size_t i = 0; i < hdr->nfields; i++) {
			slice_t f = i < rw->nfields ? rw->fields[i] : (slice_t){"", 0};
			slice_t hc = slice_trim(hdr->fields[i]);
			char col[DSDEF_COLUMN_MAX + 1];
			snprintf(col, sizeof col, "%.*s", (int)(hc.len > DSDEF_COLUMN_MAX ? DSDEF_COLUMN_MAX : hc.len), hc.p);
			int mi = -1, di = -1;
			for (int q = 0; q < d->nmeasures; q++)
				if (!strcmp(d->measures[q].column, col))
					mi = q;
			for (int q = 0; q < d->ndims; q++)
				if (!strcmp(d->dims[q].column, col))
					di = q;
			if ((int)i != tcol && mi < 0 && di < 0)
				continue;
			if (!first)
				buf_putc(out, ',');
			first = false;
			buf_json_str(out, col, strlen(col));
			buf_putc(out, ':');
			date_t day;
			int64_t v;
			slice_t dv;
			const char *tf = o->parse.date_format ? o->parse.date_format : d->time_format[0] ? d->time_format : NULL;
			if ((int)i == tcol && dsvalue_time(f, d->grain, tf, &day, w, sizeof w)) {
				char db[DATE_BUFSZ];
				date_format(day, db);
				buf_printf(out, "\"%s\"", db);
			} else if (mi >= 0 && slice_trim(f).len) {
				int sc = d->measures[mi].type == DSM_MONEY ? minor : d->measures[mi].scale;
				if (dsvalue_measure(f, sc, o->parse.money_lenient ? &o->parse.money : NULL, &v, w, sizeof w)) {
					buf_putc(out, '"');
					put_scaled(out, v, sc);
					buf_putc(out, '"');
				} else {
					buf_puts(out, "null");
				}
			} else if (di >= 0 && dsvalue_dim(f, &dv, w, sizeof w)) {
				buf_json_str(out, dv.p, dv.len);
			} else {
				buf_puts(out, "null");
			}
		}
		buf_putc(out, '}');
	}
	buf_puts(out, "],\"notes\":");
	if (notes.len)
		buf_put(out, notes.p, notes.len), buf_putc(out, ']');
	else
		buf_puts(out, "[]");
	buf_putc(out, '}');
	ok = true;
hb_out:
	buf_free(&hb);
out:
	csv_free(r);
	free(tab);
	free(hdr);
	for (int i = 0; i <= SAMPLE; i++)
		buf_free(&s.mem[i]);
	free(s.mem);
	free(s.rows);
	free(st);
	free(d);
	buf_free(&notes);
	return ok;
}
