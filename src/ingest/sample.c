#include "ingest/sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"

/* DESIGN
 * The sample keeps short copies of the date and amount values of the first
 * SAMPLE_ROWS rows (bounded memory), so several readings can be tried on
 * them: the format given, and the common formats of real exports. A stop
 * needs evidence: values the options reject that another reading takes
 * whole. The same readings give single rejections their hint. */

#define VAL_MAX 48

typedef struct {
	char v[VAL_MAX];
	uint8_t len;
	uint64_t line;
} val_t;

struct sample {
	const import_opts *o;
	val_t *dates, *amounts;
	size_t ndates, namounts, capdates;
	int median_year; /* 0 until sample_verdict */
};

/* Common formats of real exports, most frequent first. */
static const char *const date_formats[] = {
	"%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y", "%Y/%m/%d", "%Y.%m.%d",
	"%d/%m/%y", "%m/%d/%y", "%d.%m.%y", "%d-%m-%y", "%d %b %Y", "%d-%b-%Y", "%d-%b-%y", "%d %b %y", "%b %d, %Y",
	"%b %d %Y", "%d %B %Y", "%B %d, %Y", "%Y%m%d",
};
#define NFORMATS (sizeof date_formats / sizeof date_formats[0])

const char *const *sample_date_formats(size_t *n)
{
	*n = NFORMATS;
	return date_formats;
}

sample_t *sample_new(const import_opts *o)
{
	sample_t *s = xcalloc(1, sizeof *s);
	s->o = o;
	s->capdates = SAMPLE_ROWS * 4;
	s->dates = xcalloc(s->capdates, sizeof *s->dates);
	s->amounts = xcalloc(SAMPLE_ROWS * 3, sizeof *s->amounts);
	return s;
}

void sample_free(sample_t *s)
{
	if (!s)
		return;
	free(s->dates);
	free(s->amounts);
	free(s);
}

static void keep(val_t *v, slice_t raw, uint64_t line)
{
	size_t n = raw.len < VAL_MAX ? raw.len : VAL_MAX;
	memcpy(v->v, raw.p, n);
	v->len = (uint8_t)n;
	v->line = line;
}

void sample_add(sample_t *s, const record_t *rec, uint64_t line)
{
	const entity_def *d = entity_get(s->o->kind);
	for (int i = 0; i < d->ncols; i++) {
		if (!rec->present[i] || rec->parsed[i] || s->o->consts[i])
			continue;
		slice_t v = slice_trim(rec->raw[i]);
		if (!v.len || v.len >= VAL_MAX)
			continue;
		col_type t = d->cols[i].type;
		if ((t == COL_DATE || t == COL_TIMESTAMP) && s->ndates < s->capdates)
			keep(&s->dates[s->ndates++], v, line);
		else if (t == COL_MONEY && s->namounts < SAMPLE_ROWS * 3)
			keep(&s->amounts[s->namounts++], v, line);
	}
}

static bool reads(const val_t *v, const char *fmt, timestamp_t *t)
{
	return timestamp_parse_fmt(v->v, v->len, fmt, t);
}

static size_t failures(const sample_t *s, const char *fmt, size_t *first)
{
	size_t n = 0;
	timestamp_t t;
	for (size_t i = 0; i < s->ndates; i++)
		if (!reads(&s->dates[i], fmt, &t) && n++ == 0 && first)
			*first = i;
	return n;
}

/* fmt with %d and %m (or %e) swapped, in out; false if it has not both. */
static bool swapped(const char *fmt, char *out, size_t outlen)
{
	const char *d = strstr(fmt, "%d"), *m = strstr(fmt, "%m");
	if (!d)
		d = strstr(fmt, "%e");
	if (!d || !m || strlen(fmt) >= outlen)
		return false;
	strcpy(out, fmt);
	out[d - fmt + 1] = 'm';
	out[m - fmt + 1] = 'd';
	return true;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void median_year(sample_t *s, const char *fmt)
{
	int *ys = xmalloc((s->ndates + 1) * sizeof *ys);
	size_t n = 0;
	timestamp_t t;
	for (size_t i = 0; i < s->ndates; i++)
		if (reads(&s->dates[i], fmt, &t)) {
			int y, m, d;
			date_to_ymd(t.date, &y, &m, &d);
			ys[n++] = y;
		}
	if (n) {
		qsort(ys, n, sizeof *ys, cmp_int);
		s->median_year = ys[n / 2];
	}
	free(ys);
}

static bool dates_verdict(sample_t *s, char *err, size_t errlen, char *warn, size_t warnlen)
{
	const char *cur = s->o->parse.date_format;
	const char *shown = cur ? cur : "%Y-%m-%d";
	size_t first = 0, bad = failures(s, cur, &first);
	median_year(s, cur);
	if (!s->ndates)
		return true;
	if (bad == 0) {
		/* Every date read; but if the day/month swap reads them all too,
		 * with another meaning, the order is a guess: say so. */
		char sw[64];
		if (!cur || !swapped(cur, sw, sizeof sw) || failures(s, sw, NULL) != 0)
			return true;
		timestamp_t a, b;
		for (size_t i = 0; i < s->ndates; i++)
			if (reads(&s->dates[i], cur, &a) && reads(&s->dates[i], sw, &b) && a.date != b.date) {
				snprintf(warn, warnlen,
				         "every date of the first %zu rows also reads as %s (e.g. '%.*s' on line %llu): "
				         "dates were read as %s; check the day/month order",
				         s->ndates, sw, s->dates[i].len, s->dates[i].v, (unsigned long long)s->dates[i].line, cur);
				return true;
			}
		return true;
	}
	const val_t *v = &s->dates[first];
	const char *fits[2] = {NULL, NULL};
	for (size_t i = 0; i < NFORMATS; i++) {
		if (!strcmp(date_formats[i], shown) || failures(s, date_formats[i], NULL))
			continue;
		if (!fits[0])
			fits[0] = date_formats[i];
		else if (!fits[1])
			fits[1] = date_formats[i];
	}
	if (fits[0] && fits[1]) {
		snprintf(err, errlen,
		         "date format %s rejects %zu of %zu dates in the first rows (line %llu: '%.*s'), while %s and %s "
		         "both read them all: give the right one with --date-format (date_format=); nothing was stored",
		         shown, bad, s->ndates, (unsigned long long)v->line, v->len, v->v, fits[0], fits[1]);
		return false;
	}
	if (fits[0]) {
		snprintf(err, errlen,
		         "date format %s rejects %zu of %zu dates in the first rows (line %llu: '%.*s'), while %s reads them "
		         "all: use --date-format %s (date_format=); nothing was stored",
		         shown, bad, s->ndates, (unsigned long long)v->line, v->len, v->v, fits[0], fits[0]);
		return false;
	}
	/* A few bad dates are rejected row by row; a large share is the format. */
	if (bad >= 5 && bad * 4 >= s->ndates) {
		snprintf(err, errlen,
		         "date format %s rejects %zu of %zu dates in the first rows (line %llu: '%.*s'): give the file's "
		         "format with --date-format (date_format=), e.g. %%d/%%m/%%Y; nothing was stored",
		         shown, bad, s->ndates, (unsigned long long)v->line, v->len, v->v);
		return false;
	}
	return true;
}

/* The same money options with the decimal mark and thousands separator
 * exchanged: the reading a collision would have meant. */
static bool money_swap(const money_opts *m, money_opts *out)
{
	char dec = m->decimal ? m->decimal : '.';
	if (!m->thousands || (m->thousands != ',' && m->thousands != '.'))
		return false;
	*out = *m;
	out->decimal = m->thousands;
	out->thousands = dec;
	return true;
}

static bool money_verdict(const sample_t *s, char *err, size_t errlen)
{
	const entity_parse_opts *p = &s->o->parse;
	money_opts sw;
	if (!p->money_lenient || !money_swap(&p->money, &sw))
		return true;
	int64_t c;
	for (size_t i = 0; i < s->namounts; i++) {
		const val_t *v = &s->amounts[i];
		if (money_parse_opts(v->v, v->len, &p->money, &c) == MONEY_OK ||
		    money_parse_opts(v->v, v->len, &sw, &c) != MONEY_OK)
			continue;
		snprintf(err, errlen,
		         "thousands separator '%c' is the file's decimal mark (line %llu: '%.*s'), so amounts like '1%c500' "
		         "would be read 1000 times too large: %s; nothing was stored",
		         p->money.thousands, (unsigned long long)v->line, v->len, v->v, p->money.thousands,
		         sw.decimal == ',' ? "use --decimal-comma (decimal_comma=1), with --thousands . if needed"
		                           : "drop --decimal-comma (use --thousands , if needed)");
		return false;
	}
	return true;
}

bool sample_verdict(sample_t *s, char *err, size_t errlen, char *warn, size_t warnlen)
{
	warn[0] = '\0';
	return money_verdict(s, err, errlen) && dates_verdict(s, err, errlen, warn, warnlen);
}

bool sample_placeholder(const sample_t *s, date_t d)
{
	int y, m, dd;
	date_to_ymd(d, &y, &m, &dd);
	if (y < 1900 || y > 2200 || (y == 1900 && m == 1 && dd == 1) || (y == 1970 && m == 1 && dd == 1 && s->median_year > 1990))
		return true;
	return s->median_year && abs(y - s->median_year) > 50;
}

const char *sample_date_hint(slice_t v, const char *current)
{
	timestamp_t t;
	for (size_t i = 0; i < NFORMATS; i++)
		if ((!current || strcmp(current, date_formats[i])) && timestamp_parse_fmt(v.p, v.len, date_formats[i], &t))
			return date_formats[i];
	return NULL;
}

const char *sample_money_hint(slice_t v, const entity_parse_opts *current)
{
	static const struct {
		const char *hint;
		money_opts m;
	} tries[] = {
		{"--round (round=1)", {.decimal = '.', .round = true}},
		{"--decimal-comma (decimal_comma=1)", {.decimal = ','}},
		{"--decimal-comma --round", {.decimal = ',', .round = true}},
		{"--thousands , (thousands=,)", {.decimal = '.', .thousands = ','}},
		{"--decimal-comma --thousands .", {.decimal = ',', .thousands = '.'}},
		{"--decimal-comma --thousands ' '", {.decimal = ',', .thousands = ' '}},
		{"--thousands \"'\"", {.decimal = '.', .thousands = '\''}},
		{"--plus (plus=1)", {.decimal = '.', .plus = true}},
		{"--parens (parens=1)", {.decimal = '.', .parens = true}},
		{"--trailing-minus (trailing_minus=1)", {.decimal = '.', .trailing_minus = true}},
		{"--decimal-comma --thousands . --trailing-minus", {.decimal = ',', .thousands = '.', .trailing_minus = true}},
		{"--currency (currency=1)", {.decimal = '.', .symbols = true}},
	};
	money_opts base = current->money_lenient ? current->money : (money_opts){.decimal = '.'};
	if (!base.decimal)
		base.decimal = '.';
	int64_t c;
	for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
		/* Each try adds to what is in force (a file may need two options). */
		money_opts m = base;
		const money_opts *t = &tries[i].m;
		if (t->decimal == ',' && base.decimal != ',') {
			m.decimal = ',';
			if (m.thousands == ',')
				m.thousands = 0;
		}
		if (t->thousands && !m.thousands && t->thousands != m.decimal)
			m.thousands = t->thousands;
		m.round |= t->round;
		m.plus |= t->plus;
		m.parens |= t->parens;
		m.trailing_minus |= t->trailing_minus;
		m.symbols |= t->symbols;
		if (!memcmp(&m, &base, sizeof m))
			continue;
		if (money_parse_opts(v.p, v.len, &m, &c) == MONEY_OK)
			return tries[i].hint;
	}
	money_opts all = base;
	all.symbols = all.plus = all.parens = true;
	if (!all.thousands)
		all.thousands = all.decimal == ',' ? '.' : ',';
	if (money_parse_opts(v.p, v.len, &all, &c) == MONEY_OK)
		return all.decimal == ',' ? "--currency --thousands . (and --plus/--parens if signed so)"
		                          : "--currency --thousands , (and --plus/--parens if signed so)";
	return NULL;
}

/* Case-insensitive: does line (len bytes) contain name? */
static bool line_has(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; n && i + n <= len; i++)
		if (!strncasecmp(line + i, name, n))
			return true;
	return false;
}

void sample_header_hint(const char *head, size_t len, const import_opts *o, const char *const *names, int nnames,
                        size_t header_fields, char *hint, size_t hintlen)
{
	hint[0] = '\0';
	char delim = o->delimiter ? o->delimiter : ',';
	/* Walk the raw lines: the header line (after skip) and the next ones. */
	const char *p = head, *end = head + len;
	for (int ln = 0; ln < 40 && p < end; ln++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (ln == o->skip_lines && header_fields == 1) {
			static const char delims[] = {';', '\t', '|', ','};
			for (size_t i = 0; i < sizeof delims; i++)
				if (delims[i] != delim && memchr(p, delims[i], l)) {
					snprintf(hint, hintlen, "the header is one column: try --delimiter %s",
					         delims[i] == '\t' ? "tab" : (char[]){delims[i], 0});
					return;
				}
		}
		if (ln != o->skip_lines) {
			int found = 0;
			for (int i = 0; i < nnames; i++)
				found += line_has(p, l, names[i]);
			if (nnames && found == nnames) {
				snprintf(hint, hintlen, "line %d names the columns: try --skip %d", ln + 1, ln);
				return;
			}
		}
		p = nl ? nl + 1 : end;
	}
}
