#include "ingest/import.h"

#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/mem.h"
#include "core/utf8.h"

/* DESIGN
 * One pass: read a record, map its fields onto the entity's columns,
 * convert the encoding, validate, upsert. The write transaction spans the
 * file, so a crash or a cancel stores nothing; rollup deltas are summed in
 * memory (bounded by days x dims, not rows) and flushed before commit.
 * Rows without an id get one derived from their content, so re-running an
 * import replaces instead of duplicating. */

bool import_parse_encoding(const char *n, import_encoding *out)
{
	static const struct {
		const char *name;
		import_encoding e;
	} names[] = {{"utf-8", ENC_UTF8}, {"utf8", ENC_UTF8}, {"windows-1252", ENC_CP1252},
	             {"cp1252", ENC_CP1252}, {"iso-8859-1", ENC_LATIN1}, {"latin1", ENC_LATIN1},
	             {"iso-8859-2", ENC_LATIN2}, {"latin2", ENC_LATIN2}, {"windows-1250", ENC_CP1250},
	             {"cp1250", ENC_CP1250}};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcasecmp(n, names[i].name)) {
			*out = names[i].e;
			return true;
		}
	return false;
}

/* Splits "a=b,c=\"d, e\"" and stores each value in slots[index of a].
 * Values may be double-quoted (to hold commas; "" is a quote). The strings
 * live in one copy owned by the options (freed by import_opts_free). */
static bool parse_pairs(import_opts *o, const char **slots, const char *spec, char *why, size_t whylen)
{
	const entity_def *d = entity_get(o->kind);
	if (o->nowned == (int)(sizeof o->owned / sizeof o->owned[0])) {
		snprintf(why, whylen, "too many option lists");
		return false;
	}
	char *copy = xmalloc(strlen(spec) + 1);
	o->owned[o->nowned++] = copy;
	const char *p = spec;
	char *w = copy;
	while (*p) {
		const char *eq = strchr(p, '=');
		const char *comma = strchr(p, ',');
		if (!eq || (comma && comma < eq)) {
			size_t l = comma ? (size_t)(comma - p) : strlen(p);
			snprintf(why, whylen, "'%.*s' is not field=value", (int)(l > 60 ? 60 : l), p);
			return false;
		}
		char *name = w;
		memcpy(w, p, (size_t)(eq - p));
		w += eq - p;
		*w++ = '\0';
		p = eq + 1;
		char *val = w;
		if (*p == '"') {
			for (p++;; p++) {
				if (!*p) {
					snprintf(why, whylen, "unclosed quote in the value of '%s'", name);
					return false;
				}
				if (*p == '"' && p[1] == '"') {
					*w++ = '"';
					p++;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*w++ = *p;
				}
			}
			if (*p && *p != ',') {
				snprintf(why, whylen, "unexpected text after the quoted value of '%s'", name);
				return false;
			}
		} else {
			while (*p && *p != ',')
				*w++ = *p++;
		}
		*w++ = '\0';
		if (*p == ',')
			p++;
		int ci = entity_col_index(d, name, strlen(name));
		if (ci < 0) {
			snprintf(why, whylen, "'%s' is not a field of %s", name, d->name);
			return false;
		}
		slots[ci] = val;
	}
	return true;
}

bool import_parse_map(import_opts *o, const char *spec, char *why, size_t whylen)
{
	return parse_pairs(o, o->map, spec, why, whylen);
}

bool import_parse_consts(import_opts *o, const char *spec, char *why, size_t whylen)
{
	return parse_pairs(o, o->consts, spec, why, whylen);
}

void import_opts_free(import_opts *o)
{
	for (int i = 0; i < o->nowned; i++)
		free(o->owned[i]);
	o->nowned = 0;
}

/* A single-byte encoding as a table byte -> UTF-8 (empty = undefined). */
typedef struct {
	char utf8[256][4];
	unsigned char len[256];
} sb_table;

static bool build_table(import_encoding e, sb_table *t, char *err, size_t errlen)
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

/* Converts in place into out; false if a byte is undefined in the encoding. */
static bool convert(const sb_table *t, slice_t in, buf_t *out, size_t *bad)
{
	for (size_t i = 0; i < in.len; i++) {
		unsigned char b = (unsigned char)in.p[i];
		if (!t->len[b]) {
			*bad = i;
			return false;
		}
		buf_put(out, t->utf8[b], t->len[b]);
	}
	return true;
}

typedef struct {
	uint64_t *keys;
	uint32_t *counts;
	size_t cap, n;
} seq_map;

/* Occurrence number of a content hash within this file (0 for the first). */
static uint64_t seq_next(seq_map *m, uint64_t h)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t oc = m->cap;
		uint64_t *ok = m->keys;
		uint32_t *ov = m->counts;
		m->cap = oc ? oc * 2 : 1024;
		m->keys = xcalloc(m->cap, sizeof *m->keys);
		m->counts = xcalloc(m->cap, sizeof *m->counts);
		for (size_t i = 0; i < oc; i++)
			if (ok[i]) {
				size_t j = ok[i] & (m->cap - 1);
				while (m->keys[j])
					j = (j + 1) & (m->cap - 1);
				m->keys[j] = ok[i];
				m->counts[j] = ov[i];
			}
		free(ok);
		free(ov);
	}
	h |= 1;
	size_t j = h & (m->cap - 1);
	while (m->keys[j] && m->keys[j] != h)
		j = (j + 1) & (m->cap - 1);
	if (!m->keys[j]) {
		m->keys[j] = h;
		m->n++;
		return 0;
	}
	return ++m->counts[j];
}

static void write_reject(FILE *f, uint64_t line, const char *reason, const csv_row_t *row)
{
	buf_t b = BUF_INIT;
	buf_printf(&b, "%llu,", (unsigned long long)line);
	buf_csv_field(&b, reason, strlen(reason));
	for (size_t i = 0; i < row->nfields; i++) {
		buf_putc(&b, ',');
		buf_csv_field(&b, row->fields[i].p, row->fields[i].len);
	}
	buf_putc(&b, '\n');
	fwrite(b.p, 1, b.len, f);
	buf_free(&b);
}

static void reject(import_result *res, const import_opts *o, const csv_row_t *row, uint64_t line, const char *why)
{
	res->rejected++;
	if (res->nkept < IMPORT_KEEP_REJECTS) {
		res->kept[res->nkept].line = line;
		snprintf(res->kept[res->nkept].reason, sizeof res->kept[0].reason, "%.150s", why);
		res->nkept++;
	}
	if (o->rejects)
		write_reject(o->rejects, line, why, row);
}

/* Where each entity column comes from: a file column, a constant, or none. */
typedef struct {
	int src[ENTITY_MAXCOLS]; /* file column index, or -1 */
	int debit, credit;       /* file columns, or -1 */
	size_t ncols;            /* columns in the header */
} layout_t;

static int find_header(const csv_row_t *h, const char *name)
{
	slice_t want = slice_trim(slice_cstr(name));
	for (size_t i = 0; i < h->nfields; i++) {
		slice_t got = slice_trim(h->fields[i]);
		if (got.len == want.len && strncasecmp(got.p, want.p, want.len) == 0)
			return (int)i;
	}
	return -1;
}

static bool plan_layout(const entity_def *d, const import_opts *o, const csv_row_t *h, layout_t *l, char *err,
                        size_t errlen)
{
	l->ncols = h ? h->nfields : 0;
	l->debit = l->credit = -1;
	/* Without a header, a map names every column read: the others are
	 * absent, never guessed from their canonical position. */
	bool any_map = false;
	for (int i = 0; i < d->ncols; i++)
		any_map |= o->map[i] != NULL;
	for (int i = 0; i < d->ncols; i++) {
		l->src[i] = -1;
		if (o->consts[i])
			continue;
		if (o->no_header) {
			if (o->map[i]) {
				char *end;
				long pos = strtol(o->map[i], &end, 10);
				if (*end || pos < 1 || pos > CSV_MAX_FIELDS) {
					snprintf(err, errlen, "--map %s=%s: without a header, give a column position (1, 2, ...)",
					         d->cols[i].name, o->map[i]);
					return false;
				}
				l->src[i] = (int)pos - 1;
			} else if (!any_map) {
				l->src[i] = i; /* canonical order of DATA.md, id first */
			}
			continue;
		}
		const char *name = o->map[i] ? o->map[i] : d->cols[i].name;
		l->src[i] = find_header(h, name);
		if (l->src[i] < 0 && o->map[i]) {
			snprintf(err, errlen, "line 1: mapped column '%s' (for %s) is not in the header", name, d->cols[i].name);
			return false;
		}
	}
	if (o->debit || o->credit) {
		if (!o->debit || !o->credit) {
			snprintf(err, errlen, "debit and credit columns go together");
			return false;
		}
		l->debit = o->no_header ? atoi(o->debit) - 1 : find_header(h, o->debit);
		l->credit = o->no_header ? atoi(o->credit) - 1 : find_header(h, o->credit);
		if (l->debit < 0 || l->credit < 0) {
			snprintf(err, errlen, "line 1: debit/credit column '%s' not found", l->debit < 0 ? o->debit : o->credit);
			return false;
		}
	}
	for (int i = 0; i < d->ncols; i++) {
		bool is_amount = d->cols[i].type == COL_MONEY && d->cols[i].required;
		if (d->cols[i].required && l->src[i] < 0 && !o->consts[i] && !(is_amount && l->debit >= 0)) {
			snprintf(err, errlen, "line 1: the header has no '%s' column (required for %s; map a column to it: --map %s=HEADER, or map= over HTTP)",
			         d->cols[i].name, d->name, d->cols[i].name);
			return false;
		}
	}
	return true;
}

typedef struct {
	store_t *store;
	store_conn_t *w;
	rollup_acc_t *acc;
	sb_table *table;
	buf_t conv; /* converted field bytes */
	seq_map seqs;
	char amount_buf[MONEY_BUFSZ];
} run_state;

/* Builds one record from a CSV row. Returns false with why set. */
static bool build_record(const entity_def *d, const import_opts *o, const layout_t *l, run_state *rs,
                         const csv_row_t *row, record_t *rec, char *why, size_t whylen)
{
	if (!o->no_header && row->nfields != l->ncols) {
		snprintf(why, whylen, "has %zu columns, the header has %zu", row->nfields, l->ncols);
		return false;
	}
	memset(rec->present, 0, sizeof rec->present);
	memset(rec->parsed, 0, sizeof rec->parsed);
	slice_t f[CSV_MAX_FIELDS];
	size_t nf = row->nfields;
	if (rs->table) {
		/* Convert every field first; offsets are fixed up after, since the
		 * conversion buffer may move while growing. */
		size_t offs[CSV_MAX_FIELDS + 1];
		buf_reset(&rs->conv);
		for (size_t i = 0; i < nf; i++) {
			size_t bad;
			offs[i] = rs->conv.len;
			if (!convert(rs->table, row->fields[i], &rs->conv, &bad)) {
				snprintf(why, whylen, "column %zu: byte 0x%02x is not valid in the declared encoding", i + 1,
				         (unsigned char)row->fields[i].p[bad]);
				return false;
			}
		}
		offs[nf] = rs->conv.len;
		for (size_t i = 0; i < nf; i++)
			f[i] = (slice_t){rs->conv.p ? rs->conv.p + offs[i] : "", offs[i + 1] - offs[i]};
	} else {
		memcpy(f, row->fields, nf * sizeof f[0]);
	}
	for (int i = 0; i < d->ncols; i++) {
		if (o->consts[i]) {
			rec->raw[i] = slice_cstr(o->consts[i]);
			rec->present[i] = true;
		} else if (l->src[i] >= 0) {
			if ((size_t)l->src[i] >= nf) {
				if (d->cols[i].required) {
					snprintf(why, whylen, "has %zu columns, '%s' is column %d", nf, d->cols[i].name, l->src[i] + 1);
					return false;
				}
				continue;
			}
			rec->raw[i] = f[l->src[i]];
			rec->present[i] = true;
		}
	}
	if (l->debit >= 0) {
		/* amount = credit - debit; each side parsed with the same options. */
		int64_t de = 0, cr = 0;
		slice_t sd = (size_t)l->debit < nf ? slice_trim(f[l->debit]) : SLICE_LIT("");
		slice_t sc = (size_t)l->credit < nf ? slice_trim(f[l->credit]) : SLICE_LIT("");
		const money_opts *mo = o->parse.money_lenient ? &o->parse.money : NULL;
		money_status st1 = sd.len ? money_parse_opts(sd.p, sd.len, mo, &de) : MONEY_OK;
		money_status st2 = sc.len ? money_parse_opts(sc.p, sc.len, mo, &cr) : MONEY_OK;
		if (st1 != MONEY_OK || st2 != MONEY_OK) {
			snprintf(why, whylen, "bad %s amount: %s", st1 != MONEY_OK ? "debit" : "credit",
			         money_strerror(st1 != MONEY_OK ? st1 : st2));
			return false;
		}
		if (!sd.len && !sc.len) {
			snprintf(why, whylen, "both debit and credit are empty");
			return false;
		}
		int64_t amt = cr;
		if (__builtin_sub_overflow(cr, de, &amt)) {
			snprintf(why, whylen, "credit - debit overflows");
			return false;
		}
		for (int i = 0; i < d->ncols; i++)
			if (d->cols[i].type == COL_MONEY && d->cols[i].required) {
				size_t n = money_format(amt, rs->amount_buf);
				rec->raw[i] = (slice_t){rs->amount_buf, n};
				rec->present[i] = true;
				rec->parsed[i] = true; /* already exact: not re-read with the file's options */
				rec->num[i] = amt;
			}
	}
	return true;
}

/* Rollup cells held in memory before they are written (about 100 bytes
 * each): bounds an import's memory whatever the file. */
#define ROLLUP_FLUSH_CELLS 100000

/* Writes the pending rollup cells; false with err set (the caller aborts). */
static bool flush_rollups(run_state *rs, char *err, size_t errlen)
{
	int rc = rollup_flush(rs->acc, rs->w);
	if (rc == ROLLUP_E_BOUND)
		snprintf(err, errlen, "%s", rollup_bound_reason());
	else if (rc != 0)
		snprintf(err, errlen, "store error while updating rollups: %s; nothing was stored", store_errmsg(rs->w));
	return rc == 0;
}

typedef struct {
	csv_read_fn fn;
	void *ud;
	int lines_left;
} skip_reader;

/* Drops the first lines_left lines (LF-terminated) of the input. */
static ssize_t read_skipping(void *ud, char *buf, size_t n)
{
	skip_reader *k = ud;
	for (;;) {
		ssize_t got = k->fn(k->ud, buf, n);
		if (got <= 0 || k->lines_left == 0)
			return got;
		size_t i = 0;
		while (i < (size_t)got && k->lines_left > 0) {
			char *nl = memchr(buf + i, '\n', (size_t)got - i);
			if (!nl) {
				i = (size_t)got;
				break;
			}
			i = (size_t)(nl - buf) + 1;
			k->lines_left--;
		}
		if (i < (size_t)got) {
			memmove(buf, buf + i, (size_t)got - i);
			return got - (ssize_t)i;
		}
	}
}

int import_run(store_t *s, csv_read_fn fn, void *ud, const import_opts *o, import_result *res, char *err,
               size_t errlen)
{
	memset(res, 0, sizeof *res);
	double t0 = clock_now_s();
	const entity_def *d = entity_get(o->kind);
	run_state rs = {0};
	skip_reader sk = {fn, ud, o->skip_lines};
	csv_reader_t *r = o->skip_lines > 0 ? csv_new(read_skipping, &sk, o->delimiter, 0)
	                                    : csv_new(fn, ud, o->delimiter, 0);
	csv_set_first_line(r, (uint64_t)o->skip_lines + 1);
	int rc = -1;
	csv_row_t *row = xmalloc(sizeof *row);
	record_t *rec = xmalloc(sizeof *rec);
	store_conn_t *w = NULL;
	layout_t layout;
	char why[256];
	if (o->encoding != ENC_UTF8) {
		rs.table = xmalloc(sizeof *rs.table);
		if (!build_table(o->encoding, rs.table, err, errlen))
			goto out;
	}
	/* Lines before the header are skipped as raw lines (csv_new got a
	 * reader that drops them), whatever quotes or blanks they hold. */
	csv_row_t *header = NULL;
	if (!o->no_header) {
		csv_result cr = csv_next(r, row);
		if (cr == CSV_FATAL) {
			snprintf(err, errlen, "%s", csv_fatal(r));
			goto out;
		}
		if (cr == CSV_EOF) {
			snprintf(err, errlen, "the file is empty: expected a header line");
			goto out;
		}
		if (row->error) {
			snprintf(err, errlen, "line %llu: bad header: %s", (unsigned long long)row->line, row->error);
			goto out;
		}
		/* The header must be readable text in the declared encoding. */
		for (size_t i = 0; i < row->nfields; i++)
			if (!rs.table && !utf8_valid(row->fields[i].p, row->fields[i].len, NULL)) {
				snprintf(err, errlen,
				         "line %llu: the header is not valid UTF-8: declare the file's encoding (e.g. --encoding windows-1252)",
				         (unsigned long long)row->line);
				goto out;
			}
		header = row;
	}
	if (o->rejects) {
		/* The rejects file keeps the original columns, so it can be fixed
		 * and imported again as it is (line and reason are ignored). */
		buf_t b = BUF_INIT;
		buf_puts(&b, "line,reason");
		for (size_t i = 0; header && i < header->nfields; i++) {
			buf_putc(&b, ',');
			buf_csv_field(&b, header->fields[i].p, header->fields[i].len);
		}
		buf_putc(&b, '\n');
		fwrite(b.p, 1, b.len, o->rejects);
		buf_free(&b);
	}
	if (!plan_layout(d, o, header, &layout, err, errlen))
		goto out;

	if (!o->dry_run) {
		w = store_write_begin(s, err, errlen);
		if (!w)
			goto out;
	}
	rs.w = w;
	rs.acc = rollup_acc_new(o->org);
	uint64_t rows = 0, encoding_rejects = 0;
	double last = clock_now_s();
	for (;;) {
		csv_result cr = csv_next(r, row);
		if (cr == CSV_EOF)
			break;
		if (cr == CSV_FATAL) {
			snprintf(err, errlen, "%s; nothing was stored", csv_fatal(r));
			goto abort;
		}
		rows++;
		if ((rows & 1023) == 0) {
			if (o->cancel && atomic_load(o->cancel)) {
				snprintf(err, errlen, "cancelled after %llu rows; nothing was stored", (unsigned long long)rows);
				goto abort;
			}
			double t = clock_now_s();
			if (o->progress && t - last >= 0.1) {
				o->progress(o->progress_ud, csv_bytes(r), rows);
				last = t;
			}
		}
		if (row->error) {
			reject(res, o, row, row->line, row->error);
			continue;
		}
		if (!build_record(d, o, &layout, &rs, row, rec, why, sizeof why) ||
		    !entity_validate(o->kind, rec, &o->parse, why, sizeof why)) {
			if (strstr(why, "UTF-8") || strstr(why, "encoding"))
				encoding_rejects++;
			reject(res, o, row, row->line, why);
			continue;
		}
		if (!rec->present[0]) {
			entity_derive_id(o->kind, rec, 0);
			uint64_t h = strtoull(rec->idbuf + 1, NULL, 16);
			uint64_t seq = seq_next(&rs.seqs, h);
			if (seq)
				entity_derive_id(o->kind, rec, seq);
		}
		if (o->dry_run) {
			res->inserted++;
			continue;
		}
		bool replaced;
		if (entity_upsert(w, o->kind, o->org, rec, rs.acc, &replaced, why, sizeof why) != 0) {
			snprintf(err, errlen, "line %llu: %s; nothing was stored", (unsigned long long)row->line, why);
			goto abort;
		}
		if (replaced)
			res->replaced++;
		else
			res->inserted++;
		/* Constant memory: high-cardinality rollups (a cell per customer
		 * and day) are flushed into the transaction as they fill up. */
		if (rollup_pending(rs.acc) > ROLLUP_FLUSH_CELLS && !flush_rollups(&rs, err, errlen))
			goto abort;
	}
	if (rows > 0 && encoding_rejects == rows) {
		snprintf(err, errlen, "no row is valid UTF-8: declare the file's encoding (e.g. --encoding windows-1252); nothing was stored");
		goto abort;
	}
	if (o->progress)
		o->progress(o->progress_ud, csv_bytes(r), rows);
	if (o->cancel && atomic_load(o->cancel)) {
		snprintf(err, errlen, "cancelled after %llu rows; nothing was stored", (unsigned long long)rows);
		goto abort;
	}
	if (w) {
		if (!flush_rollups(&rs, err, errlen))
			goto abort;
		if (res->inserted || res->replaced)
			store_write_touch(w, o->org, entity_touch_mask(o->kind));
		if (store_write_commit(w, err, errlen) != 0)
			goto out_acc;
	}
	rc = 0;
	goto out_acc;
abort:
	if (w)
		store_write_rollback(w);
	res->inserted = res->replaced = 0;
out_acc:
	rollup_acc_free(rs.acc);
out:
	res->seconds = clock_now_s() - t0;
	free(rs.seqs.keys);
	free(rs.seqs.counts);
	buf_free(&rs.conv);
	free(rs.table);
	free(row);
	free(rec);
	csv_free(r);
	return rc;
}
