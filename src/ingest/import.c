#include "ingest/import.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/currency.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "ingest/layout.h"
#include "ingest/overlap.h"
#include "ingest/recode.h"
#include "ingest/rowloop.h"
#include "ingest/sample.h"
#include "ingest/split.h"
#include "ingest/totals.h"
#include "ingest/writer.h"
#include <xxhash.h>
#include "store/searchidx.h"
#include "store/settings.h"
#include "core/date.h"

/* DESIGN
 * The first rows (up to SAMPLE_ROWS, at most PREFETCH_MAX bytes) are read
 * ahead and checked against the options before any write (sample.c); the
 * same bytes are then replayed to the main pass. One pass: read a record,
 * map its fields onto the entity's columns (layout.c), validate, upsert.
 * The write transaction spans the file, so a crash, a cancel or ids
 * repeated in the file store nothing; rollup deltas are summed in memory
 * (bounded by days x dims, not rows) and flushed as they fill up.
 * Rows without an id get one derived from the raw record (not the mapping)
 * and its occurrence number, so re-running an import replaces instead of
 * duplicating, whatever options are given the second time. The id check
 * and occurrence numbers keep one 64-bit hash per distinct id or record
 * (8 bytes a row while the file's ids go up, which needs no lookup:
 * rowloop_ids; 11 to 21 in a table otherwise): the only memory that
 * grows with the file. */

/* Bytes read ahead for the sample and the header hints; replayed after. */
#define PREFETCH_MAX (8u << 20)

/* New rows from which an import leaves them to the search index's
 * catch-up (searchidx.h) instead of indexing them in its transaction:
 * below it the index is built at commit as for any write. */
#define IMPORT_DEFER_INDEX_ROWS 10000

typedef struct {
	csv_read_fn fn;
	void *ud;
	char *head;          /* bytes read ahead */
	size_t hlen, hpos;
	bool eof;            /* fn returned 0 while reading ahead */
	ssize_t err;         /* fn failed while reading ahead */
	XXH3_state_t *hash;  /* of every byte of the file (its fingerprint) */
} source_t;

static void source_prefetch(source_t *s, int want_lines)
{
	size_t cap = 64 * 1024;
	s->head = xmalloc(cap);
	int lines = 0;
	while (s->hlen < PREFETCH_MAX && lines < want_lines) {
		if (cap - s->hlen < 16 * 1024) {
			cap *= 2;
			s->head = xrealloc(s->head, cap);
		}
		ssize_t n = s->fn(s->ud, s->head + s->hlen, cap - s->hlen);
		if (n <= 0) {
			s->eof = n == 0;
			s->err = n < 0 ? n : 0;
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			lines += s->head[s->hlen + (size_t)i] == '\n';
		s->hlen += (size_t)n;
	}
	XXH3_64bits_update(s->hash, s->head, s->hlen);
}

/* The whole file: the bytes read ahead, then the rest. */
static ssize_t source_read(void *ud, char *buf, size_t n)
{
	source_t *s = ud;
	if (s->hpos < s->hlen) {
		size_t k = s->hlen - s->hpos < n ? s->hlen - s->hpos : n;
		memcpy(buf, s->head + s->hpos, k);
		s->hpos += k;
		return (ssize_t)k;
	}
	if (s->err)
		return s->err;
	if (s->eof)
		return 0;
	ssize_t got = s->fn(s->ud, buf, n);
	if (got > 0)
		XXH3_64bits_update(s->hash, buf, (size_t)got);
	return got;
}

typedef struct {
	const char *p;
	size_t len, pos;
} head_reader;

/* Only the bytes read ahead (cut at the last full line). */
static ssize_t head_read(void *ud, char *buf, size_t n)
{
	head_reader *h = ud;
	size_t k = h->len - h->pos < n ? h->len - h->pos : n;
	memcpy(buf, h->p + h->pos, k);
	h->pos += k;
	return (ssize_t)k;
}

static void warn(import_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(import_result *res, const char *fmt, ...)
{
	if (res->nwarnings == IMPORT_MAX_WARNINGS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->warnings[res->nwarnings++], sizeof res->warnings[0], fmt, ap);
	va_end(ap);
}

/* Lines of a few examples, for warnings: "4, 9, 12". */
typedef struct {
	uint64_t count;
	uint64_t lines[5];
	char first[48];
} examples;

static void example(examples *e, uint64_t line, slice_t v)
{
	if (e->count < 5)
		e->lines[e->count] = line;
	if (!e->count)
		snprintf(e->first, sizeof e->first, "%.*s", (int)(v.len > 40 ? 40 : v.len), v.p);
	e->count++;
}

static const char *example_lines(const examples *e, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = '\0';
	for (uint64_t i = 0; i < e->count && i < 5 && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%llu", i ? ", " : "", (unsigned long long)e->lines[i]);
	if (e->count > 5 && k < n)
		snprintf(buf + k, n - k, ", ...");
	return buf;
}

typedef struct {
	layout_t layout;
	layout_scratch scratch;
	sb_table *table;
	buf_t conv;          /* converted field bytes */
	csv_row_t *crow;     /* the row converted to UTF-8 (the original goes to the rejects file) */
	sample_t *sample;
	rowloop_seq seqs;        /* occurrences of record hashes */
	rowloop_ids ids;         /* the file's ids seen */
	examples dup_ids, placeholders;
	uint64_t last_id;     /* hash of the previous row's id */
	uint64_t dup_next;    /* repeats right after a row of the same id: line items */
	examples credit_notes; /* invoices of a negative amount */
	/* the currency the sample's rows name (entity_named_currency): the
	 * first code, and how many rows of how many name it */
	char named[4];
	int named_rows, sampled_rows;
	entity_parse_opts parse; /* o->parse with the org's currency */
	recode_plan *recode;     /* --compute, --values, rules, --where (NULL: none) */
	split_plan_t split;  /* --split: the category column, transfers between own accounts */
	record_t *cost;      /* --split: a debit as a cost */
	overlap_t *overlap;  /* the sample's rows without an id (overlap.h) */
} run_state;

/* Builds and validates one record; false with why (and the fixing option),
 * or false with *skipped set for a row --where leaves out. */
static bool make_record(const import_opts *o, run_state *rs, const csv_row_t *row, record_t *rec, uint64_t *hash,
                        bool *skipped, char *why, size_t whylen)
{
	*skipped = false;
	const csv_row_t *src = row;
	if (rs->table) {
		rs->crow->nfields = row->nfields;
		rs->crow->line = row->line;
		memcpy(rs->crow->fields, row->fields, row->nfields * sizeof row->fields[0]);
		if (!layout_convert_row(rs->table, rs->crow, &rs->conv, why, whylen))
			return false;
		src = rs->crow;
	}
	if (!layout_record(o, &rs->layout, src, rec, &rs->scratch, hash, why, whylen))
		return false;
	if (rs->recode) {
		recode_verdict v = recode_apply(rs->recode, src, rec, why, whylen);
		*skipped = v == RECODE_SKIP;
		if (v != RECODE_KEEP)
			return false;
	}
	if (!entity_validate(o->kind, rec, &rs->parse, why, whylen)) {
		layout_hint(o, rec, why, whylen);
		return false;
	}
	return layout_sign(o, &rs->layout, src, rec, why, whylen);
}

/* Counts the sample's rows that name the currency its first row names. */
static void note_currency(const import_opts *o, run_state *rs, const record_t *rec)
{
	char code[4];
	entity_named_currency(o->kind, rec, &rs->parse, code);
	if (!rs->sampled_rows++)
		memcpy(rs->named, code, 4);
	rs->named_rows += code[0] && !strcmp(code, rs->named);
}

/* DESIGN (an org's first file names its currency)
 * A new organisation is in USD until told otherwise. A first file whose
 * every sampled row names one other currency (EUR 95.00 with --currency,
 * a Währung column of EUR) would have its costs rejected and its
 * payments kept apart as foreign money, so the organisation takes that
 * currency instead, and the import says so. Only while it holds no rows
 * and no opening balance (settings_update refuses otherwise), and only
 * from the default currency. w NULL: a dry run, which says what would be. */
static void adopt_currency(store_t *s, store_conn_t *w, const import_opts *o, run_state *rs, import_result *res)
{
	if (!rs->named[0] || rs->named_rows != rs->sampled_rows || !strcmp(rs->named, rs->parse.currency) ||
	    strcmp(rs->parse.currency, CURRENCY_DEFAULT) != 0)
		return;
	char why[320];
	if (w) {
		if (settings_update(w, o->org, rs->named, NULL, false, why, sizeof why) != SETTINGS_OK)
			return;
	} else {
		store_conn_t *c = store_read_begin(s);
		int64_t n = c ? settings_money_rows(c, o->org) : -1;
		store_read_end(c);
		if (n != 0)
			return;
	}
	warn(res,
	     "the organisation's currency %s %s, not %s: it held no rows, and every amount of the file's first rows is in "
	     "%s (brisk org set --currency changes it)",
	     w ? "is now" : "would become", rs->named, CURRENCY_DEFAULT, rs->named);
	memcpy(rs->parse.currency, rs->named, 4);
	rs->scratch.minor = currency_minor(rs->named, 3);
	if (rs->recode)
		recode_set_minor(rs->recode, rs->scratch.minor);
}

/* Reads the sample from the bytes read ahead and judges the options. */
static bool check_sample(const import_opts *o, run_state *rs, source_t *src, record_t *rec, import_result *res,
                         char *err, size_t errlen)
{
	size_t len = src->hlen;
	if (!src->eof) /* the last line may be cut: leave it out */
		while (len && src->head[len - 1] != '\n')
			len--;
	head_reader hr = {src->head, len, 0};
	rowloop_skip sk = {head_read, &hr, o->skip_lines};
	csv_reader_t *r = csv_new(rowloop_read_skipping, &sk, o->delimiter, 0);
	csv_set_first_line(r, (uint64_t)o->skip_lines + 1); /* the lines the file has */
	csv_row_t *row = xmalloc(sizeof *row);
	size_t widest = 0;
	char why[256];
	bool header = !o->no_header;
	for (int n = 0; n < SAMPLE_ROWS + 1 && csv_next(r, row) == CSV_ROW;) {
		if (header) {
			header = false;
			continue;
		}
		if (row->error)
			continue;
		n++;
		widest = row->nfields > widest ? row->nfields : widest;
		uint64_t h;
		const csv_row_t *cr = row;
		if (rs->table) {
			if (!layout_convert_row(rs->table, row, &rs->conv, why, sizeof why))
				continue;
		}
		if (layout_record(o, &rs->layout, cr, rec, &rs->scratch, &h, why, sizeof why) &&
		    (!rs->recode || recode_apply(rs->recode, cr, rec, why, sizeof why) == RECODE_KEEP)) {
			sample_add(rs->sample, rec, row->line);
			note_currency(o, rs, rec);
			split_note(&rs->split, cr);
			if (rs->overlap && entity_validate(o->kind, rec, &rs->parse, why, sizeof why) &&
			    layout_sign(o, &rs->layout, cr, rec, why, sizeof why))
				overlap_add(rs->overlap, rec, h, row->line);
		}
	}
	csv_free(r);
	free(row);
	char w[320];
	if (!layout_check_positions(o, &rs->layout, widest, err, errlen) ||
	    !sample_verdict(rs->sample, err, errlen, w, sizeof w))
		return false;
	if (w[0])
		warn(res, "%s", w);
	return true;
}

/* An invoice of a negative amount (a credit note in Odoo's, Xero's or
 * SAP's export) is stored as written, but said: it lowers the invoiced
 * total and is neither a receivable nor matched to any payment. */
static void check_credit_note(const import_opts *o, run_state *rs, const record_t *rec, uint64_t line)
{
	if (o->kind != ENT_INVOICES)
		return;
	int a = entity_amount_col(ENT_INVOICES);
	if (rec->present[a] && rec->num[a] < 0)
		example(&rs->credit_notes, line, rec->raw[1]);
}

/* Placeholder dates (1111-11-11...) are stored as written, but said. */
static void check_placeholders(const import_opts *o, run_state *rs, const record_t *rec, uint64_t line)
{
	const entity_def *d = entity_get(o->kind);
	for (int i = 1; i < d->ncols; i++)
		if (rec->present[i] && (d->cols[i].type == COL_DATE || d->cols[i].type == COL_TIMESTAMP) &&
		    sample_placeholder(rs->sample, (date_t)rec->num[i])) {
			example(&rs->placeholders, line, rec->raw[i]);
			return;
		}
}

/* Gives rec its id: the file's (checked for repeats) or one derived from
 * the raw record. False if the id was already seen in this file. */
static bool assign_id(const import_opts *o, run_state *rs, record_t *rec, uint64_t hash, uint64_t line)
{
	if (rec->present[0]) {
		uint64_t h = XXH3_64bits_withSeed(rec->raw[0].p, rec->raw[0].len, 0x1d5), prev = rs->last_id;
		rs->last_id = h;
		if (rowloop_ids_new(&rs->ids, rec->raw[0].p, rec->raw[0].len, h))
			return true;
		rs->dup_next += h == prev;
		example(&rs->dup_ids, line, rec->raw[0]);
		return false;
	}
	uint64_t seq = rowloop_seq_next(&rs->seqs, hash);
	snprintf(rec->idbuf, sizeof rec->idbuf, "h%016llx", (unsigned long long)hash);
	if (seq)
		snprintf(rec->idbuf + 17, sizeof rec->idbuf - 17, "-%llu", (unsigned long long)seq);
	rec->raw[0] = slice_cstr(rec->idbuf);
	rec->present[0] = true;
	return true;
}

/* An invoice export without ids: a number seen before in the file is a
 * line item of that invoice (Zoho, Shopify repeat the total on each) or
 * the invoice twice; stored, it would double the receivable. The first
 * row stays; false with why for the others. */
static bool invoice_number_first(const import_opts *o, run_state *rs, const record_t *rec, char *why, size_t whylen)
{
	enum { I_NUMBER = 1 };
	if (o->kind != ENT_INVOICES || !rec->present[I_NUMBER])
		return true;
	slice_t n = rec->raw[I_NUMBER];
	if (rowloop_seq_next(&rs->seqs, XXH3_64bits_withSeed(n.p, n.len, 0x1e7)) == 0)
		return true;
	snprintf(why, whylen,
	         "invoice number '%.*s' again: a line item of the invoice above or the invoice twice; its first row is "
	         "stored (one row per invoice; map an id column to store both)",
	         (int)(n.len > 40 ? 40 : n.len), n.p);
	return false;
}

/* Remembers which options read this file; warns when a file imported
 * before is imported again with other ones. w NULL: a dry run (no write). */
static void fingerprint(store_t *s, store_conn_t *w, const import_opts *o, uint64_t file_hash, import_result *res)
{
	char fh[17], oh[17];
	snprintf(fh, sizeof fh, "%016llx", (unsigned long long)file_hash);
	snprintf(oh, sizeof oh, "%016llx", (unsigned long long)import_options_hash(o));
	const char *kind = entity_get(o->kind)->name;
	store_conn_t *c = w ? w : store_read_begin(s);
	store_stmt_t *st = store_prepare(c, "SELECT options_hash, imported_at FROM import_files "
	                                    "WHERE org = ? AND entity = ? AND file_hash = ?");
	store_bind_i64(st, 1, o->org);
	store_bind_text(st, 2, kind, strlen(kind));
	store_bind_text(st, 3, fh, 16);
	if (store_step(st) == STORE_ROW) {
		size_t l1, l2;
		const char *prev = store_col_text(st, 0, &l1);
		const char *at = store_col_text(st, 1, &l2);
		if (l1 != 16 || memcmp(prev, oh, 16))
			warn(res,
			     "this file was imported before (%.*s) with other options (mapping, formats or signs): its rows "
			     "replaced the ones of that import (ids come from the raw records), now read with these options",
			     (int)(l2 > 20 ? 20 : l2), at);
	}
	store_reset(st);
	if (!w) {
		store_read_end(c);
		return;
	}
	char now[DATE_UTC_ISO_BUFSZ];
	date_utc_iso(time(NULL), now);
	st = store_prepare(w, "INSERT INTO import_files(org, entity, file_hash, options_hash, imported_at) "
	                      "VALUES(?,?,?,?,?) ON CONFLICT(org, entity, file_hash) DO UPDATE SET "
	                      "options_hash = excluded.options_hash, imported_at = excluded.imported_at");
	store_bind_i64(st, 1, o->org);
	store_bind_text(st, 2, kind, strlen(kind));
	store_bind_text(st, 3, fh, 16);
	store_bind_text(st, 4, oh, 16);
	store_bind_text(st, 5, now, strlen(now));
	store_step(st);
	store_reset(st);
}

static int read_header(const import_opts *o, run_state *rs, csv_reader_t *r, csv_row_t *row, csv_row_t **header,
                       char *err, size_t errlen)
{
	*header = NULL;
	if (o->no_header)
		return 0;
	csv_result cr = csv_next(r, row);
	if (cr == CSV_FATAL) {
		snprintf(err, errlen, "%s", csv_fatal(r));
		return -1;
	}
	if (cr == CSV_EOF) {
		snprintf(err, errlen, "the file is empty: expected a header line");
		return -1;
	}
	if (row->error) {
		snprintf(err, errlen, "line %llu: bad header: %s", (unsigned long long)row->line, row->error);
		return -1;
	}
	/* The header must be readable text in the declared encoding. */
	for (size_t i = 0; i < row->nfields; i++)
		if (!rs->table && !utf8_valid(row->fields[i].p, row->fields[i].len, NULL)) {
			snprintf(err, errlen,
			         "line %llu: the header is not valid UTF-8: declare the file's encoding (e.g. --encoding windows-1252)",
			         (unsigned long long)row->line);
			return -1;
		}
	rowloop_rejects_header(o, row);
	*header = row;
	if (rs->table) {
		/* Header names are matched as text, in the file's encoding. */
		char why[160];
		if (!layout_convert_row(rs->table, row, &rs->conv, why, sizeof why)) {
			snprintf(err, errlen, "line %llu: bad header: %s", (unsigned long long)row->line, why);
			return -1;
		}
	}
	return 0;
}

static void final_warnings(const import_opts *o, run_state *rs, import_result *res)
{
	char lines[96];
	if (rs->placeholders.count)
		warn(res,
		     "%llu rows have a date that looks like a placeholder ('%s' on line %s): stored as written; fix the "
		     "file if they are not real dates",
		     (unsigned long long)rs->placeholders.count, rs->placeholders.first,
		     example_lines(&rs->placeholders, lines, sizeof lines));
	if (rs->dup_ids.count && o->allow_duplicate_ids)
		warn(res, "%llu rows repeat an id seen earlier in the file ('%s' again on line %s): the last row of each id was kept",
		     (unsigned long long)rs->dup_ids.count, rs->dup_ids.first, example_lines(&rs->dup_ids, lines, sizeof lines));
	if (rs->credit_notes.count)
		warn(res,
		     "%llu invoices have a negative amount ('%s' on line %s): stored as written, as credit notes: they lower "
		     "the invoiced total, are not receivables and are never matched to a payment",
		     (unsigned long long)rs->credit_notes.count, rs->credit_notes.first,
		     example_lines(&rs->credit_notes, lines, sizeof lines));
}

int import_run(store_t *s, csv_read_fn fn, void *ud, const import_opts *o, import_result *res, char *err,
               size_t errlen)
{
	memset(res, 0, sizeof *res);
	double t0 = clock_now_s();
	run_state rs = {0};
	rs.parse = o->parse;
	{
		/* Amounts are read with the minor units of the org's currency. */
		org_settings set;
		store_conn_t *rc0 = store_read_begin(s);
		bool found = settings_get(rc0, o->org, &set);
		store_read_end(rc0);
		memcpy(rs.parse.currency, found ? set.currency : CURRENCY_DEFAULT, 4);
		rs.scratch.minor = currency_minor(rs.parse.currency, 3);
	}
	source_t src = {.fn = fn, .ud = ud, .hash = XXH3_createState()};
	XXH3_64bits_reset(src.hash);
	rowloop_skip sk = {source_read, &src, o->skip_lines};
	csv_reader_t *r = NULL;
	int rc = -1;
	csv_row_t *row = xmalloc(sizeof *row);
	record_t *rec = xmalloc(sizeof *rec);
	store_conn_t *w = NULL;
	import_writer *iw = NULL;
	char why[320];
	rs.sample = sample_new(o);
	if (!import_options_check(o, err, errlen))
		goto out;
	if (o->encoding != ENC_UTF8) {
		rs.table = xmalloc(sizeof *rs.table);
		rs.crow = xmalloc(sizeof *rs.crow);
		if (!layout_table(o->encoding, rs.table, err, errlen))
			goto out;
	}
	source_prefetch(&src, o->skip_lines + SAMPLE_ROWS + 2);
	r = csv_new(rowloop_read_skipping, &sk, o->delimiter, 0);
	csv_set_first_line(r, (uint64_t)o->skip_lines + 1);
	csv_row_t *header;
	if (read_header(o, &rs, r, row, &header, err, errlen) != 0 ||
	    !layout_plan(o, header, src.head, src.hlen, &rs.layout, err, errlen))
		goto out;
	if (o->recode && !(rs.recode = recode_bind(o, header, rs.scratch.minor, err, errlen)))
		goto out;
	/* split_plan before the sample reuses the header's bytes */
	rs.overlap = overlap_new(o);
	if (!split_plan(o, header, &rs.layout, &rs.split, err, errlen) ||
	    !check_sample(o, &rs, &src, rec, res, err, errlen))
		goto out;
	if (overlap_verdict(rs.overlap, s, o->org, why, sizeof why)) {
		if (!o->allow_overlap) {
			snprintf(err, errlen,
			         "%s Nothing was stored: import only the months not stored yet, delete the other import's rows "
			         "for those months, or pass --allow-overlap (allow_overlap=1) to store them again",
			         why);
			goto out;
		}
		warn(res, "%s Stored again (allow_overlap)", why);
	}
	if (o->split)
		rs.cost = xmalloc(sizeof *rs.cost);

	if (!o->dry_run) {
		w = store_write_begin_org(s, o->org, err, errlen);
		if (!w)
			goto out;
	}
	adopt_currency(s, w, o, &rs, res);
	/* Batches on the writer thread (writer.c), --split's costs too. */
	if (w)
		iw = import_writer_new(w, o->kind, o->org);
	uint64_t encoding_rejects = 0;
	totals_run totals = {0};
	rowloop rl;
	rowloop_init(&rl, o);
	for (;;) {
		csv_result cr = csv_next(r, row);
		if (cr == CSV_EOF)
			break;
		if (cr == CSV_FATAL) {
			snprintf(err, errlen, "%s; nothing was stored", csv_fatal(r));
			goto abort;
		}
		if (!rowloop_next(&rl, r, err, errlen))
			goto abort;
		if (row->error) {
			rowloop_reject(o, res, row, row->line, row->error);
			if (rowloop_too_many(o, res, rl.rows, err, errlen))
				goto abort;
			continue;
		}
		uint64_t hash;
		bool skipped;
		if (!make_record(o, &rs, row, rec, &hash, &skipped, why, sizeof why)) {
			if (skipped) {
				res->skipped++;
				continue;
			}
			if (strstr(why, "UTF-8") || strstr(why, "encoding"))
				encoding_rejects++;
			totals_rejected(&totals, o, &rs.layout, rs.table ? rs.crow : row, rs.scratch.minor);
			rowloop_reject(o, res, row, row->line, why);
			if (rowloop_too_many(o, res, rl.rows, err, errlen))
				goto abort;
			continue;
		}
		if (totals_check(&totals, o->kind, rec, why, sizeof why)) {
			rowloop_reject(o, res, row, row->line, why);
			if (rowloop_too_many(o, res, rl.rows, err, errlen))
				goto abort;
			continue;
		}
		if (o->split) {
			split_note(&rs.split, rs.table ? rs.crow : row);
			if (split_transfer(o, &rs.split, rec, rs.table ? rs.crow : row))
				continue;
		}
		check_placeholders(o, &rs, rec, row->line);
		check_credit_note(o, &rs, rec, row->line);
		bool derived = !rec->present[0];
		if (!assign_id(o, &rs, rec, hash, row->line) && !o->allow_duplicate_ids)
			continue; /* the import fails at the end; keep counting */
		if (derived && !invoice_number_first(o, &rs, rec, why, sizeof why)) {
			rowloop_reject(o, res, row, row->line, why);
			if (rowloop_too_many(o, res, rl.rows, err, errlen))
				goto abort;
			continue;
		}
		entity_kind kind = o->kind;
		const record_t *out = rec;
		if (split_is_debit(o, rec)) {
			if (!split_cost(rec, rs.table ? rs.crow : row, rs.split.category, &rs.parse, rs.cost, why, sizeof why)) {
				rowloop_reject(o, res, row, row->line, why);
				if (rowloop_too_many(o, res, rl.rows, err, errlen))
					goto abort;
				continue;
			}
			kind = ENT_COSTS;
			out = rs.cost;
			res->split_costs++;
		}
		if (o->preview)
			o->preview(o->preview_ud, kind, out, row->line);
		if (o->dry_run) {
			res->inserted++;
			continue;
		}
		if (!import_writer_add(iw, kind, out, row->line, err, errlen))
			goto abort;
	}
	if (rowloop_too_many_final(o, res, rl.rows, err, errlen))
		goto abort;
	if (rl.rows > 0 && encoding_rejects == rl.rows) {
		snprintf(err, errlen, "no row is valid UTF-8: declare the file's encoding (e.g. --encoding windows-1252); nothing was stored");
		goto abort;
	}
	if (rs.dup_ids.count && !o->allow_duplicate_ids && rs.dup_next == rs.dup_ids.count) {
		/* Superstore, Shopify: an order's lines share its id */
		char lines[96];
		snprintf(err, errlen,
		         "%llu rows repeat the id of the row just above ('%s' again on line %s): line items of one %s, as "
		         "shop and ERP exports write them; brisk stores one row per id and does not sum lines, so nothing "
		         "was stored: import one row per %s, or map id to a column unique per line (each line then counts "
		         "as one); --allow-duplicate-ids would keep only each id's last line",
		         (unsigned long long)rs.dup_ids.count, rs.dup_ids.first, example_lines(&rs.dup_ids, lines, sizeof lines),
		         o->kind == ENT_INVOICES ? "invoice" : o->kind == ENT_SALES_ORDERS ? "order" : "record",
		         o->kind == ENT_INVOICES ? "invoice" : o->kind == ENT_SALES_ORDERS ? "order" : "record");
		goto abort;
	}
	if (rs.dup_ids.count && !o->allow_duplicate_ids) {
		char lines[96];
		snprintf(err, errlen,
		         "%llu rows repeat an id seen earlier in the file ('%s' again on line %s): ids must be unique in a "
		         "file; fix the ids, or pass --allow-duplicate-ids (allow_duplicate_ids=1) to keep the last row of "
		         "each; nothing was stored",
		         (unsigned long long)rs.dup_ids.count, rs.dup_ids.first,
		         example_lines(&rs.dup_ids, lines, sizeof lines));
		goto abort;
	}
	if (!rowloop_end(&rl, r, err, errlen))
		goto abort;
	if (iw) {
		/* The writer's counts, before the fingerprint that depends on them. */
		uint64_t ins, rep;
		if (!import_writer_finish(iw, err, errlen))
			goto abort;
		import_writer_counts(iw, &ins, &rep);
		res->inserted = (int64_t)ins;
		res->replaced = (int64_t)rep;
		/* Its statements live on the write connection: finalized before
		 * the commit hands the connection to the next writer (ThreadSanitizer
		 * saw this free race a task flusher's commit). */
		import_writer_free(iw);
		iw = NULL;
	}
	/* The ids seen (8 bytes a row) are not needed past the rows: let go
	 * of them before the commit's index build, the import's peak. */
	rowloop_seq_free(&rs.seqs);
	rowloop_ids_free(&rs.ids);
	final_warnings(o, &rs, res);
	res->split_transfers = rs.split.transfers;
	split_transfers_said(&rs.split, why, sizeof why);
	if (why[0])
		warn(res, "%s", why);
	if (res->inserted || res->replaced)
		fingerprint(s, w, o, XXH3_64bits_digest(src.hash), res);
	if (w) {
		if (res->inserted || res->replaced)
			store_write_touch(w, o->org, entity_touch_mask(o->kind) | (res->split_costs ? entity_touch_mask(ENT_COSTS) : 0));
		/* A large import commits without building the search index: its
		 * catch-up follows in transactions of its own (searchidx.h). */
		if (res->inserted >= IMPORT_DEFER_INDEX_ROWS)
			searchidx_defer(w);
		if (store_write_commit(w, err, errlen) != 0)
			goto out;
	}
	rc = 0;
	goto out;
abort:
	/* The writer thread lets go of the connection first. */
	import_writer_free(iw);
	iw = NULL;
	if (w)
		store_write_rollback(w);
	res->inserted = res->replaced = 0;
	res->nwarnings = 0;
out:
	import_writer_free(iw);
	recode_plan_free(rs.recode);
	overlap_free(rs.overlap);
	res->seconds = clock_now_s() - t0;
	rowloop_seq_free(&rs.seqs);
	rowloop_ids_free(&rs.ids);
	buf_free(&rs.conv);
	free(rs.table);
	free(rs.crow);
	free(rs.cost);
	sample_free(rs.sample);
	free(src.head);
	XXH3_freeState(src.hash);
	free(row);
	free(rec);
	csv_free(r);
	return rc;
}
