#include "dataset/dsimport.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "core/clock.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "dataset/dsrollup.h"
#include "dataset/dsstore.h"
#include "dataset/dsvalue.h"
#include "dataset/dswrite.h"
#include "ingest/layout.h"
#include "ingest/rowloop.h"
#include "store/settings.h"

/* DESIGN
 * The reader, the encodings, the option parser and the number and date
 * parsers are the importer's; what differs is the target: a row becomes
 * (key, day, d0..d7, m0..m7) in ds_rows. The key is the definition's key
 * columns' values (a 128-bit hash of them when long), or without a key a
 * hash of the stored values plus the occurrence of those values in the file (so identical rows of
 * one file are all kept, and the same file imported again replaces each
 * row by itself). A replaced row whose values did not change touches no
 * rollup; one that changed is retracted and added again. */

const char *const dsimport_option_names[] = {"delimiter", "encoding", "skip", "date_format", "decimal_comma",
                                             "thousands", "currency", "plus", "parens", "round", "dry_run",
                                             "max_rejects", NULL};

typedef struct {
	const char *(*get)(void *ud, const char *name);
	void *ud;
	const char *refused;
} filter;

static const char *filtered(void *ud, const char *name)
{
	filter *f = ud;
	for (int i = 0; dsimport_option_names[i]; i++)
		if (!strcmp(name, dsimport_option_names[i]))
			return f->get(f->ud, name);
	if (!f->refused && f->get(f->ud, name))
		f->refused = name;
	return NULL;
}

bool dsimport_options(import_opts *o, const char *(*get)(void *ud, const char *name), void *ud, char *why,
                      size_t whylen)
{
	filter f = {get, ud, NULL};
	o->kind = ENT_COSTS; /* the mapping options it would read are refused above */
	if (!import_options_parse(o, filtered, &f, why, whylen))
		return false;
	if (f.refused) {
		snprintf(why, whylen, "option '%s' does not apply to data sets (their definition names the columns); "
		                      "they take: delimiter, encoding, skip, date_format, decimal_comma, thousands, currency, "
		                      "plus, parens, round, dry_run, max_rejects", f.refused);
		return false;
	}
	return true;
}

/* Rollup cells are flushed past this many bytes: few flushes (a cell of a
 * low-cardinality dimension is rewritten at each), bounded memory. */
#define ROLLUP_FLUSH_BYTES (48u << 20)

typedef struct {
	dsstore_info *info;
	const import_opts *o;
	int minor;
	int tcol, dcol[DSDEF_MAX_DIMS], mcol[DSDEF_MAX_MEASURES], kcol[DSDEF_MAX_KEY], rcol[DSDEF_MAX_REQUIRED];
	sb_table *table;
	csv_row_t *crow;
	buf_t conv;
	/* occurrences of each content hash in this file (no key) */
	rowloop_seq seen;
	store_conn_t *w;
	dsrollup_t *acc;
	dswrite *out; /* the rows' writer (not on a dry run) */
	import_result *res;
	XXH3_state_t *hs;
} run_t;

/* ---- header ---- */

static int find_col(const csv_row_t *h, const char *name, char *err, size_t errlen)
{
	int at = -1;
	slice_t want = slice_cstr(name);
	for (size_t i = 0; i < h->nfields; i++) {
		slice_t f = slice_trim(h->fields[i]);
		if (f.len == want.len && !strncasecmp(f.p, want.p, f.len)) {
			if (at >= 0) {
				snprintf(err, errlen, "the header has column '%s' twice (columns %d and %zu)", name, at + 1, i + 1);
				return -2;
			}
			at = (int)i;
		}
	}
	return at;
}

static bool plan(run_t *r, const csv_row_t *h, char *err, size_t errlen)
{
	const dsdef_t *d = &r->info->def;
	char missing[600] = "";
	size_t ml = 0;
	int nmiss = 0;
	struct {
		const char *name;
		int *slot;
	} want[1 + DSDEF_MAX_DIMS + DSDEF_MAX_MEASURES + DSDEF_MAX_KEY + DSDEF_MAX_REQUIRED];
	int n = 0;
	want[n].name = d->time_column, want[n++].slot = &r->tcol;
	for (int i = 0; i < d->ndims; i++)
		want[n].name = d->dims[i].column, want[n++].slot = &r->dcol[i];
	for (int i = 0; i < d->nmeasures; i++)
		want[n].name = d->measures[i].column, want[n++].slot = &r->mcol[i];
	for (int i = 0; i < d->nkey; i++)
		want[n].name = d->key[i], want[n++].slot = &r->kcol[i];
	for (int i = 0; i < d->nrequired; i++)
		want[n].name = d->required[i], want[n++].slot = &r->rcol[i];
	for (int i = 0; i < n; i++) {
		int at = find_col(h, want[i].name, err, errlen);
		if (at == -2)
			return false;
		if (at < 0 && ml < sizeof missing - 1) {
			ml += (size_t)snprintf(missing + ml, sizeof missing - ml, "%s'%s'", nmiss ? ", " : "", want[i].name);
			nmiss++;
		}
		*want[i].slot = at;
	}
	if (nmiss) {
		buf_t cols = BUF_INIT;
		for (size_t i = 0; i < h->nfields && i < 30; i++)
			buf_printf(&cols, "%s'%.*s'", i ? ", " : "", (int)(h->fields[i].len > 40 ? 40 : h->fields[i].len),
			           h->fields[i].p);
		snprintf(err, errlen, "the file lacks column%s %s of data set '%s' (its header has: %s)", nmiss > 1 ? "s" : "",
		         missing, d->name, cols.len ? cols.p : "nothing");
		buf_free(&cols);
		return false;
	}
	return true;
}

/* ---- rejections ---- */

static void reject(run_t *r, const csv_row_t *row, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reject(run_t *r, const csv_row_t *row, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	rowloop_reject(r->o, r->res, row, row->line, why);
}

/* ---- one row ---- */


static slice_t field(const csv_row_t *row, int col)
{
	return col >= 0 && (size_t)col < row->nfields ? row->fields[col] : (slice_t){"", 0};
}

static void make_key(run_t *r, const csv_row_t *row, dsrow *x)
{
	const dsdef_t *d = &r->info->def;
	XXH3_state_t *st = r->hs;
	XXH3_128bits_reset(st);
	if (d->nkey) {
		/* short keys are stored as they are (their order keeps the index
		 * writes of a sorted file local); long ones as a hash */
		size_t k = 2;
		memcpy(x->key, "k:", 2);
		for (int i = 0; i < d->nkey; i++) {
			slice_t v = slice_trim(field(row, r->kcol[i]));
			uint32_t len = (uint32_t)v.len;
			XXH3_128bits_update(st, &len, sizeof len);
			XXH3_128bits_update(st, v.p, v.len);
			if (k != SIZE_MAX && k + v.len + 1 < sizeof x->key && !memchr(v.p, 0x1f, v.len)) {
				if (i)
					x->key[k++] = 0x1f;
				memcpy(x->key + k, v.p, v.len);
				k += v.len;
			} else {
				k = SIZE_MAX;
			}
		}
		if (k != SIZE_MAX) {
			x->key[k] = '\0';
			x->keylen = k;
			return;
		}
	} else {
		XXH3_128bits_update(st, &x->day, sizeof x->day);
		for (int i = 0; i < d->ndims; i++) {
			uint32_t len = (uint32_t)x->dims[i].len;
			XXH3_128bits_update(st, &len, sizeof len);
			XXH3_128bits_update(st, x->dims[i].p, x->dims[i].len);
		}
		for (int i = 0; i < d->nmeasures; i++) {
			int64_t v[2] = {x->has[i], x->has[i] ? x->m[i] : 0};
			XXH3_128bits_update(st, v, sizeof v);
		}
		XXH128_hash_t h0 = XXH3_128bits_digest(st);
		uint32_t seq = (uint32_t)rowloop_seq_next(&r->seen, h0.low64 ^ h0.high64);
		XXH3_128bits_update(st, &seq, sizeof seq);
	}
	XXH128_hash_t h = XXH3_128bits_digest(st);
	x->keylen = (size_t)snprintf(x->key, sizeof x->key, "%s%016llx%016llx", d->nkey ? "h:" : "c:",
	                             (unsigned long long)h.high64, (unsigned long long)h.low64);
}

/* Parses a row into x; false (rejected, reason recorded) when it is bad. */
static bool parse_row(run_t *r, const csv_row_t *row, dsrow *x)
{
	const dsdef_t *d = &r->info->def;
	const import_opts *o = r->o;
	char why[224];
	if (!r->table) {
		int cols[1 + DSDEF_MAX_DIMS + DSDEF_MAX_MEASURES];
		int n = 0;
		cols[n++] = r->tcol;
		for (int i = 0; i < d->ndims; i++)
			cols[n++] = r->dcol[i];
		for (int i = 0; i < n; i++) {
			slice_t f = field(row, cols[i]);
			if (!utf8_valid(f.p, f.len, NULL)) {
				reject(r, row, "column %d is not valid UTF-8: declare the file's encoding (e.g. encoding=windows-1252)",
				       cols[i] + 1);
				return false;
			}
		}
	}
	for (int i = 0; i < d->nrequired; i++)
		if (!slice_trim(field(row, r->rcol[i])).len) {
			reject(r, row, "'%s' is required but blank", d->required[i]);
			return false;
		}
	const char *fmt = o->parse.date_format ? o->parse.date_format : d->time_format[0] ? d->time_format : NULL;
	if (!dsvalue_time(field(row, r->tcol), d->grain, fmt, &x->day, why, sizeof why)) {
		reject(r, row, "%s: %s", d->time_column, why);
		return false;
	}
	for (int i = 0; i < d->ndims; i++)
		if (!dsvalue_dim(field(row, r->dcol[i]), &x->dims[i], why, sizeof why)) {
			reject(r, row, "%s: %s", d->dims[i].column, why);
			return false;
		}
	const money_opts *mo = o->parse.money_lenient ? &o->parse.money : NULL;
	for (int i = 0; i < d->nmeasures; i++) {
		const dsdef_measure *m = &d->measures[i];
		slice_t v = field(row, r->mcol[i]);
		x->has[i] = slice_trim(v).len > 0;
		x->m[i] = 0;
		int scale = m->type == DSM_MONEY ? r->minor : m->scale;
		if (x->has[i] && !dsvalue_measure(v, scale, mo, &x->m[i], why, sizeof why)) {
			reject(r, row, "%s: %s", m->column, why);
			return false;
		}
	}
	make_key(r, row, x);
	return true;
}

/* ---- the file ---- */

static int load(run_t *r, store_t *s, const char *name, char *err, size_t errlen)
{
	store_conn_t *c = r->w ? r->w : store_read_begin(s);
	int found = dsstore_get(c, r->o->org, name, r->info);
	org_settings set;
	r->minor = settings_get(c, r->o->org, &set) ? set.minor : 2;
	if (!r->w)
		store_read_end(c);
	if (found < 0)
		snprintf(err, errlen, "store error while reading data set '%s'", name);
	else if (!found)
		snprintf(err, errlen, "no data set '%s' in this organisation", name);
	return found == 1 ? 0 : found == 0 ? -2 : -1;
}

int dsimport_run(store_t *s, const char *name, csv_read_fn fn, void *ud, const import_opts *o, import_result *res,
                 char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	double t0 = clock_now_s();
	run_t r = {.o = o, .res = res, .info = xmalloc(sizeof(dsstore_info)), .hs = XXH3_createState()};
	rowloop_skip sk = {fn, ud, o->skip_lines};
	csv_row_t *row = xmalloc(sizeof *row);
	csv_reader_t *cr = NULL;
	int rc = -1;
	if (o->no_header) {
		snprintf(err, errlen, "a data set's file needs its header: the definition names the columns");
		goto out;
	}
	if (!o->dry_run && !(r.w = store_write_begin(s, err, errlen)))
		goto out;
	if ((rc = load(&r, s, name, err, errlen)) != 0)
		goto out;
	rc = -1;
	if (o->encoding != ENC_UTF8) {
		r.table = xmalloc(sizeof *r.table);
		r.crow = xmalloc(sizeof *r.crow);
		if (!layout_table(o->encoding, r.table, err, errlen))
			goto out;
	}
	cr = csv_new(rowloop_read_skipping, &sk, o->delimiter ? o->delimiter : ',', 0);
	csv_set_first_line(cr, (uint64_t)o->skip_lines + 1);
	csv_result got = csv_next(cr, row);
	if (got != CSV_ROW || row->error) {
		snprintf(err, errlen, "%s", got == CSV_FATAL ? csv_fatal(cr) : got == CSV_EOF ? "the file is empty: expected a header line" : row->error);
		goto out;
	}
	if (r.table && !layout_convert_row(r.table, row, &r.conv, err, errlen))
		goto out;
	if (!plan(&r, row, err, errlen))
		goto out;
	rowloop_rejects_header(o, row);
	r.acc = dsrollup_new(r.info->id, o->org, &r.info->def);
	if (r.w)
		r.out = dswrite_new(r.w, r.info, o->org, r.acc, res);
	rowloop rl;
	rowloop_init(&rl, o);
	dsrow x;
	for (;;) {
		got = csv_next(cr, row);
		if (got == CSV_EOF)
			break;
		if (got == CSV_FATAL) {
			snprintf(err, errlen, "%s; nothing was stored", csv_fatal(cr));
			goto out;
		}
		if (!rowloop_next(&rl, cr, err, errlen))
			goto out;
		if (row->error) {
			reject(&r, row, "%s", row->error);
		} else {
			const csv_row_t *use = row;
			char why[256];
			if (r.table) {
				*r.crow = *row;
				use = r.crow;
			}
			if (r.table && !layout_convert_row(r.table, r.crow, &r.conv, why, sizeof why))
				reject(&r, row, "%s", why);
			else if (parse_row(&r, use, &x)) {
				if (!r.w)
					res->inserted++;
				else if (dswrite_add(r.out, &x, err, errlen) != 0)
					goto out;
				else if (dsrollup_bytes(r.acc) > ROLLUP_FLUSH_BYTES &&
				         (dswrite_flush(r.out, err, errlen) != 0 || dsrollup_flush(r.acc, r.w, err, errlen) != 0))
					goto out;
			}
		}
		if (rowloop_too_many(o, res, rl.rows, err, errlen))
			goto out;
	}
	if (rowloop_too_many_final(o, res, rl.rows, err, errlen) || !rowloop_end(&rl, cr, err, errlen))
		goto out;
	if (r.w) {
		if (dswrite_flush(r.out, err, errlen) != 0 || dsrollup_flush(r.acc, r.w, err, errlen) != 0)
			goto out;
		store_write_touch(r.w, o->org, TBL_BIT(TBL_DATASETS));
		store_conn_t *w = r.w;
		r.w = NULL;
		if (store_write_commit(w, err, errlen) != 0)
			goto out;
	}
	rc = 0;
out:
	if (r.w)
		store_write_rollback(r.w);
	res->seconds = clock_now_s() - t0;
	dswrite_free(r.out);
	dsrollup_free(r.acc);
	csv_free(cr);
	free(row);
	free(r.table);
	free(r.crow);
	buf_free(&r.conv);
	rowloop_seq_free(&r.seen);
	free(r.info);
	XXH3_freeState(r.hs);
	return rc;
}
