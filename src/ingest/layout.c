#include "ingest/layout.h"

#include <ctype.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "ingest/recode.h"
#include "ingest/sample.h"

bool layout_table(import_encoding e, sb_table *t, char *err, size_t errlen)
{
	static const char *const iconv_names[] = {"UTF-8", "WINDOWS-1252", "ISO-8859-1", "ISO-8859-2", "WINDOWS-1250"};
	iconv_t cd = iconv_open("UTF-8", iconv_names[e]);
	if (cd == (iconv_t)-1) {
		snprintf(err, errlen, "encoding %s is not available on this system", iconv_names[e]);
		return false;
	}
	for (int b = 0; b < 256; b++) {
		char in = (char)b, *ip = &in, *op = t->utf8[b];
		size_t il = 1, ol = 4;
		iconv(cd, NULL, NULL, NULL, NULL);
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
			t->len[b] = 0;
		else
			t->len[b] = (unsigned char)(4 - ol);
	}
	iconv_close(cd);
	return true;
}

bool layout_convert_row(const sb_table *t, csv_row_t *row, buf_t *out, char *why, size_t whylen)
{
	/* Convert every field first; slices are fixed up after, since the
	 * buffer may move while growing. */
	size_t offs[CSV_MAX_FIELDS + 1];
	size_t nf = row->nfields;
	buf_reset(out);
	for (size_t i = 0; i < nf; i++) {
		offs[i] = out->len;
		slice_t in = row->fields[i];
		for (size_t j = 0; j < in.len; j++) {
			unsigned char b = (unsigned char)in.p[j];
			if (!t->len[b]) {
				snprintf(why, whylen, "column %zu: byte 0x%02x is not valid in the declared encoding", i + 1, b);
				return false;
			}
			buf_put(out, t->utf8[b], t->len[b]);
		}
	}
	offs[nf] = out->len;
	for (size_t i = 0; i < nf; i++)
		row->fields[i] = (slice_t){out->p ? out->p + offs[i] : "", offs[i + 1] - offs[i]};
	return true;
}

/* Column of h named name (trimmed, case-insensitive): its index, -1 if
 * none, -2 if two columns have that name (then *other is the second). */
static int find_col(const csv_row_t *h, const char *name, int *other)
{
	slice_t want = slice_trim(slice_cstr(name));
	int found = -1;
	for (size_t i = 0; i < h->nfields; i++) {
		slice_t got = slice_trim(h->fields[i]);
		if (got.len == want.len && strncasecmp(got.p, want.p, want.len) == 0) {
			if (found >= 0) {
				*other = (int)i;
				return -2;
			}
			found = (int)i;
		}
	}
	return found;
}

/* The first column named name (after find_col said there are two). */
static int first_col(const csv_row_t *h, const char *name)
{
	for (size_t j = 0; j < h->nfields; j++)
		if (slice_ieq_cstr(slice_trim(h->fields[j]), name))
			return (int)j;
	return -1;
}

static uint64_t name_hash(slice_t name)
{
	char low[256];
	name = slice_trim(name);
	size_t n = name.len < sizeof low ? name.len : sizeof low;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name.p[i]);
	return XXH3_64bits(low, n) | 1;
}

typedef struct {
	char *p;
	size_t len;
	const char *names[ENTITY_MAXCOLS + 3];
	int nnames;
} problems;

static void problem(problems *pb, const char *name, const char *fmt, const char *a, const char *b)
{
	if (pb->len)
		pb->len += (size_t)snprintf(pb->p + pb->len, 512 - pb->len, "; ");
	if (pb->len < 512)
		pb->len += (size_t)snprintf(pb->p + pb->len, 512 - pb->len, fmt, a, b);
	if (pb->len > 511)
		pb->len = 511;
	if (pb->nnames < (int)(sizeof pb->names / sizeof pb->names[0]))
		pb->names[pb->nnames++] = name;
}

/* A named column (debit, credit, sign) of the header or by position. */
static bool side_column(const import_opts *o, const csv_row_t *h, const char *name, const char *what, int *out,
                        problems *pb, char *err, size_t errlen)
{
	*out = -1;
	if (!name)
		return true;
	if (o->no_header) {
		*out = atoi(name) - 1;
		return true;
	}
	int other;
	*out = find_col(h, name, &other);
	if (*out == -2) {
		snprintf(err, errlen, "line %llu: the header has two columns named '%s' (columns %d and %d): rename one",
		         (unsigned long long)h->line, name, first_col(h, name) + 1, other + 1);
		return false;
	}
	if (*out < 0)
		problem(pb, name, "%s column '%s' is not in the header", what, name);
	return true;
}

bool layout_plan(const import_opts *o, const csv_row_t *h, const char *head, size_t headlen, layout_t *l,
                 char *err, size_t errlen)
{
	const entity_def *d = entity_get(o->kind);
	char pbuf[512];
	problems pb = {pbuf, 0, {0}, 0};
	pbuf[0] = '\0';
	l->ncols = h ? h->nfields : 0;
	l->amount = -1;
	for (int i = d->ncols - 1; i >= 0; i--)
		if (d->cols[i].type == COL_MONEY)
			l->amount = i;
	for (size_t i = 0; i < CSV_MAX_FIELDS; i++)
		l->header_hash[i] = h && i < h->nfields ? name_hash(h->fields[i]) : (uint64_t)i * 2 + 1;
	/* Without a header, a map names every column read: the others are
	 * absent, never guessed from their canonical position. */
	bool any_map = false;
	for (int i = 0; i < d->ncols; i++)
		any_map |= o->map[i] != NULL;
	for (int i = 0; i < d->ncols; i++) {
		const char *f = d->cols[i].name;
		int other;
		l->src[i] = -1;
		if (recode_computes(o->recode, i))
			continue; /* from its expression, even when a column has its name */
		if (o->consts[i]) {
			if (h && find_col(h, f, &other) != -1) {
				snprintf(err, errlen,
				         "set %s=%s: the file has a '%s' column; use --default %s=%s (default=) to fill only its empty "
				         "values, or map %s to another column",
				         f, o->consts[i], f, f, o->consts[i], f);
				return false;
			}
			continue;
		}
		if (o->no_header) {
			if (o->map[i])
				l->src[i] = atoi(o->map[i]) - 1;
			else if (!any_map)
				l->src[i] = i; /* canonical order of DATA.md, id first */
			continue;
		}
		const char *name = o->map[i] ? o->map[i] : f;
		l->src[i] = find_col(h, name, &other);
		if (l->src[i] == -2) {
			snprintf(err, errlen,
			         "line %llu: the header has two columns named '%s' (columns %d and %d): rename one, or map %s to "
			         "another column",
			         (unsigned long long)h->line, name, first_col(h, name) + 1, other + 1, f);
			return false;
		}
		if (l->src[i] < 0 && o->map[i])
			problem(&pb, name, "mapped column '%s' (for %s) is not in the header", name, f);
	}
	if (!side_column(o, h, o->debit, "debit", &l->debit, &pb, err, errlen) ||
	    !side_column(o, h, o->credit, "credit", &l->credit, &pb, err, errlen) ||
	    !side_column(o, h, o->sign_column, "sign", &l->sign, &pb, err, errlen))
		return false;
	bool required_missing = false;
	for (int i = 0; i < d->ncols; i++) {
		bool computed = (i == l->amount && o->debit) || recode_computes(o->recode, i) || recode_rule_sets(o->recode, i);
		if (d->cols[i].required && l->src[i] < 0 && !o->consts[i] && !o->defaults[i] && !computed &&
		    !o->map[i]) {
			problem(&pb, d->cols[i].name, "the header has no '%s' column%s", d->cols[i].name, "");
			required_missing = true;
		}
	}
	if (!pb.len)
		return true;
	char hint[160] = "";
	sample_header_hint(head, headlen, o, pb.names, pb.nnames, h ? h->nfields : 0, hint, sizeof hint);
	snprintf(err, errlen, "line %llu: %s%s%s%s", (unsigned long long)(h ? h->line : 1), pbuf,
	         required_missing ? " (required for " : "", required_missing ? d->name : "",
	         required_missing ? "; map a column to each: --map FIELD=HEADER, or map= over HTTP)" : "");
	if (hint[0]) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, "; %s", hint);
	}
	return false;
}

bool layout_check_positions(const import_opts *o, const layout_t *l, size_t ncols, char *err, size_t errlen)
{
	if (!o->no_header || !ncols)
		return true;
	const entity_def *d = entity_get(o->kind);
	for (int i = 0; i < d->ncols; i++)
		if (o->map[i] && (size_t)l->src[i] >= ncols) {
			snprintf(err, errlen, "map %s=%s: the rows have %zu columns", d->cols[i].name, o->map[i], ncols);
			return false;
		}
	const struct {
		const char *what, *name;
		int col;
	} sides[] = {{"debit", o->debit, l->debit}, {"credit", o->credit, l->credit}, {"sign_column", o->sign_column, l->sign}};
	for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++)
		if (sides[i].name && (size_t)sides[i].col >= ncols) {
			snprintf(err, errlen, "%s %s: the rows have %zu columns", sides[i].what, sides[i].name, ncols);
			return false;
		}
	return true;
}

/* Debit and credit in micro-units when rounding or when the currency has
 * other than 2 fraction digits (so the difference is rounded once, exactly,
 * into the currency's minor units), else in cents. */
static bool debit_credit(const import_opts *o, const layout_t *l, const csv_row_t *row, record_t *rec,
                         layout_scratch *sc, char *why, size_t whylen)
{
	size_t nf = row->nfields;
	slice_t sd = (size_t)l->debit < nf ? slice_trim(row->fields[l->debit]) : SLICE_LIT("");
	slice_t sc_ = (size_t)l->credit < nf ? slice_trim(row->fields[l->credit]) : SLICE_LIT("");
	const money_opts *mo = o->parse.money_lenient ? &o->parse.money : NULL;
	int minor = sc->minor;
	bool round = mo && mo->round;
	int digits = round || minor != 2 ? 6 : 2;
	int64_t de = 0, cr = 0;
	money_status st1 = sd.len ? money_parse_units(sd.p, sd.len, mo, digits, &de) : MONEY_OK;
	money_status st2 = sc_.len ? money_parse_units(sc_.p, sc_.len, mo, digits, &cr) : MONEY_OK;
	if (st1 != MONEY_OK || st2 != MONEY_OK) {
		slice_t v = st1 != MONEY_OK ? sd : sc_;
		const char *hint = sample_money_hint(v, &o->parse);
		snprintf(why, whylen, "bad %s amount '%.*s': %s%s%s", st1 != MONEY_OK ? "debit" : "credit",
		         (int)(v.len > 40 ? 40 : v.len), v.p, money_strerror(st1 != MONEY_OK ? st1 : st2),
		         hint ? "; try " : "", hint ? hint : "");
		return false;
	}
	if (!sd.len && !sc_.len) {
		snprintf(why, whylen, "both debit and credit are empty");
		return false;
	}
	/* A debit column is money out whatever its sign: "-16,52" and "16,52"
	 * both mean 16.52 paid. */
	int64_t amt;
	if (de == INT64_MIN || __builtin_sub_overflow(cr, de < 0 ? -de : de, &amt)) {
		snprintf(why, whylen, "credit - debit overflows");
		return false;
	}
	if (digits != minor) {
		int64_t scale = 1;
		for (int k = minor; k < digits; k++)
			scale *= 10;
		if (!round && amt % scale != 0) {
			snprintf(why, whylen, "credit - debit has more than %d decimal place%s for the organisation's currency; try --round",
			         minor, minor == 1 ? "" : "s");
			return false;
		}
		/* money_round_units rounds 10^-d units to 10^-2: d = digits - minor + 2
		 * divides by exactly 10^(digits - minor). */
		amt = money_round_units(amt, digits - minor + 2);
	}
	int i = l->amount;
	size_t n = money_format_minor(amt, minor, sc->amount_buf);
	rec->raw[i] = (slice_t){sc->amount_buf, n};
	rec->present[i] = true;
	rec->parsed[i] = true; /* already exact: not re-read with the file's options */
	rec->num[i] = amt;
	return true;
}

/* "a,b,c," under a header of three: a trailing delimiter (NatWest, many
 * exports) adds empty cells past the header, which hold nothing. */
static bool empty_beyond(const csv_row_t *row, size_t ncols)
{
	if (row->nfields < ncols)
		return false;
	for (size_t i = ncols; i < row->nfields; i++)
		if (slice_trim(row->fields[i]).len)
			return false;
	return true;
}

bool layout_record(const import_opts *o, const layout_t *l, const csv_row_t *row, record_t *rec,
                   layout_scratch *sc, uint64_t *hash, char *why, size_t whylen)
{
	const entity_def *d = entity_get(o->kind);
	if (!o->no_header && row->nfields != l->ncols && !empty_beyond(row, l->ncols)) {
		snprintf(why, whylen, "has %zu columns, the header has %zu%s", row->nfields, l->ncols,
		         row->nfields == 1 && l->ncols > 1 ? " (another delimiter on this line?)" : "");
		return false;
	}
	memset(rec->present, 0, sizeof rec->present);
	memset(rec->parsed, 0, sizeof rec->parsed);
	size_t nf = row->nfields;
	const slice_t *f = row->fields;
	for (int i = 0; i < d->ncols; i++) {
		if (o->consts[i]) {
			rec->raw[i] = slice_cstr(o->consts[i]);
			rec->present[i] = true;
		} else if (l->src[i] >= 0) {
			if ((size_t)l->src[i] < nf) {
				/* An exported cell comes back exactly (csv_needs_guard). */
				rec->raw[i] = csv_unguard(f[l->src[i]]);
				rec->present[i] = true;
			} else if (d->cols[i].required && !o->defaults[i]) {
				snprintf(why, whylen, "has %zu columns, '%s' is column %d", nf, d->cols[i].name, l->src[i] + 1);
				return false;
			}
		}
		if (o->defaults[i] && (!rec->present[i] || !slice_trim(rec->raw[i]).len)) {
			rec->raw[i] = slice_cstr(o->defaults[i]);
			rec->present[i] = true;
		}
	}
	if (l->debit >= 0 && !debit_credit(o, l, row, rec, sc, why, whylen))
		return false;
	/* The raw record's id: each column's name and value, summed so that the
	 * column order does not matter, nor the mapping, nor empty columns.
	 * Only rows without an id need it. */
	*hash = 0;
	if (rec->present[0] && slice_trim(rec->raw[0]).len)
		return true;
	uint64_t h = 0;
	for (size_t i = 0; i < nf; i++) {
		slice_t v = slice_trim(f[i]);
		if (v.len)
			h += XXH3_64bits_withSeed(v.p, v.len, l->header_hash[i < CSV_MAX_FIELDS ? i : 0]);
	}
	*hash = XXH3_64bits_withSeed(&h, sizeof h, (uint64_t)o->kind + 1);
	return true;
}

bool layout_in_list(slice_t v, const char *list)
{
	const char *p = list;
	for (;;) {
		const char *c = strchr(p, ',');
		slice_t item = slice_trim((slice_t){p, c ? (size_t)(c - p) : strlen(p)});
		if (item.len == v.len && !strncasecmp(item.p, v.p, v.len))
			return true;
		if (!c)
			return false;
		p = c + 1;
	}
}

bool layout_sign(const import_opts *o, const layout_t *l, const csv_row_t *row, record_t *rec, char *why,
                 size_t whylen)
{
	if (l->amount < 0 || !rec->present[l->amount])
		return true;
	int64_t *v = &rec->num[l->amount];
	if (l->sign >= 0) {
		slice_t s = (size_t)l->sign < row->nfields ? slice_trim(row->fields[l->sign]) : SLICE_LIT("");
		if (!s.len) {
			snprintf(why, whylen, "the sign column '%s' is empty (negative_values: %.60s)", o->sign_column,
			         o->negative_values);
			return false;
		}
		if (*v < 0) {
			snprintf(why, whylen, "amount '%.*s' is signed while the sign column '%s' says '%.*s': with a sign "
			         "column amounts must be unsigned",
			         (int)(rec->raw[l->amount].len > 30 ? 30 : rec->raw[l->amount].len), rec->raw[l->amount].p,
			         o->sign_column, (int)(s.len > 20 ? 20 : s.len), s.p);
			return false;
		}
		if (layout_in_list(s, o->negative_values))
			*v = -*v;
	}
	if (o->negate) {
		if (*v == INT64_MIN) {
			snprintf(why, whylen, "amount too large to negate");
			return false;
		}
		*v = -*v;
	}
	return true;
}

void layout_hint(const import_opts *o, const record_t *rec, char *why, size_t whylen)
{
	const entity_def *d = entity_get(o->kind);
	const char *fmt = o->parse.date_format;
	size_t n = strlen(why);
	for (int i = 0; i < d->ncols; i++) {
		const entity_col *c = &d->cols[i];
		slice_t v = rec->present[i] ? slice_trim(rec->raw[i]) : SLICE_LIT("");
		if (!v.len) {
			if (c->required && !o->defaults[i]) {
				snprintf(why + n, whylen - n, " (--default %s=VALUE fills empty ones)", c->name);
				return;
			}
			continue;
		}
		if (rec->parsed[i])
			continue;
		if (c->type == COL_ENUM) {
			bool known = false;
			for (int j = 0; c->values[j] && !known; j++)
				known = slice_ieq_cstr(v, c->values[j]);
			if (!known) {
				bool q = memchr(v.p, ' ', v.len) || memchr(v.p, ',', v.len) || memchr(v.p, ':', v.len);
				snprintf(why + n, whylen - n, "; recode it with --values %s=%s%.*s%s:VALUE (values= over HTTP)",
				         c->name, q ? "\"" : "", (int)(v.len > 30 ? 30 : v.len), v.p, q ? "\"" : "");
				return;
			}
			continue;
		}
		timestamp_t t;
		if ((c->type == COL_DATE || c->type == COL_TIMESTAMP) && !timestamp_parse_fmt(v.p, v.len, fmt, &t)) {
			const char *h = sample_date_hint(v, fmt);
			if (h)
				snprintf(why + n, whylen - n, "; try --date-format %s", h);
			return;
		}
		int64_t cents;
		if (c->type == COL_MONEY &&
		    money_parse_opts(v.p, v.len, o->parse.money_lenient ? &o->parse.money : NULL, &cents) != MONEY_OK) {
			const char *h = sample_money_hint(v, &o->parse);
			if (h)
				snprintf(why + n, whylen - n, "; try %s", h);
			return;
		}
	}
}
