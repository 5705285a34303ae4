#include "ingest/rowloop.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/mem.h"

ssize_t rowloop_read_skipping(void *ud, char *buf, size_t n)
{
	rowloop_skip *k = ud;
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

void rowloop_init(rowloop *l, const import_opts *o)
{
	l->o = o;
	l->rows = 0;
	l->last = clock_now_s();
}

static bool cancelled(const rowloop *l, char *err, size_t errlen)
{
	if (!l->o->cancel || !atomic_load(l->o->cancel))
		return false;
	snprintf(err, errlen, "cancelled after %llu rows; nothing was stored", (unsigned long long)l->rows);
	return true;
}

bool rowloop_next(rowloop *l, csv_reader_t *r, char *err, size_t errlen)
{
	l->rows++;
	if (l->rows & 1023)
		return true;
	if (cancelled(l, err, errlen))
		return false;
	if (l->o->progress) {
		double t = clock_now_s();
		if (t - l->last >= 0.1) {
			l->o->progress(l->o->progress_ud, csv_bytes(r), l->rows);
			l->last = t;
		}
	}
	return true;
}

bool rowloop_end(rowloop *l, csv_reader_t *r, char *err, size_t errlen)
{
	if (l->o->progress)
		l->o->progress(l->o->progress_ud, csv_bytes(r), l->rows);
	return !cancelled(l, err, errlen);
}

static void reject_line(buf_t *b, const csv_row_t *row)
{
	for (size_t i = 0; i < row->nfields; i++) {
		buf_putc(b, ',');
		buf_csv_field(b, row->fields[i].p, row->fields[i].len);
	}
	buf_putc(b, '\n');
}

void rowloop_rejects_header(const import_opts *o, const csv_row_t *header)
{
	if (!o->rejects)
		return;
	buf_t b = BUF_INIT;
	buf_puts(&b, "line,reason");
	reject_line(&b, header);
	fwrite(b.p, 1, b.len, o->rejects);
	buf_free(&b);
}

void rowloop_reject(const import_opts *o, import_result *res, const csv_row_t *row, uint64_t line, const char *why)
{
	res->rejected++;
	if (res->nkept < IMPORT_KEEP_REJECTS) {
		res->kept[res->nkept].line = line;
		snprintf(res->kept[res->nkept].reason, sizeof res->kept[0].reason, "%.*s",
		         (int)sizeof res->kept[0].reason - 1, why);
		res->nkept++;
	}
	if (o->rejects) {
		buf_t b = BUF_INIT;
		buf_printf(&b, "%llu,", (unsigned long long)line);
		buf_csv_field(&b, why, strlen(why));
		reject_line(&b, row);
		fwrite(b.p, 1, b.len, o->rejects);
		buf_free(&b);
	}
}

bool rowloop_too_many(const import_opts *o, const import_result *res, uint64_t rows, char *err, size_t errlen)
{
	if (o->max_rejects_kind != MAXREJ_COUNT || res->rejected <= o->max_rejects)
		return false;
	snprintf(err, errlen,
	         "more than %lld rows rejected (--max-rejects %lld), the last on line %llu after %llu rows read: nothing "
	         "was stored",
	         (long long)o->max_rejects, (long long)o->max_rejects,
	         (unsigned long long)(res->nkept ? res->kept[res->nkept - 1].line : 0), (unsigned long long)rows);
	return true;
}

bool rowloop_too_many_final(const import_opts *o, const import_result *res, uint64_t rows, char *err,
                            size_t errlen)
{
	if (rowloop_too_many(o, res, rows, err, errlen))
		return true;
	if (o->max_rejects_kind != MAXREJ_PERCENT || !rows || res->rejected * 10000 <= o->max_rejects * (int64_t)rows)
		return false;
	snprintf(err, errlen,
	         "%lld of %llu rows rejected (%.2f%%), more than --max-rejects %lld.%02lld%%: nothing was stored",
	         (long long)res->rejected, (unsigned long long)rows, (double)res->rejected * 100.0 / (double)rows,
	         (long long)(o->max_rejects / 100), (long long)(o->max_rejects % 100));
	return true;
}

uint64_t rowloop_seq_next(rowloop_seq *m, uint64_t h)
{
	if ((m->n + 1) * 4 > m->cap * 3) {
		size_t oc = m->cap;
		uint64_t *ok = m->keys;
		uint32_t *ov = m->counts;
		m->cap = oc ? oc * 2 : 1024;
		m->keys = xcalloc(m->cap, sizeof *m->keys);
		m->counts = ov ? xcalloc(m->cap, sizeof *m->counts) : NULL;
		for (size_t i = 0; i < oc; i++)
			if (ok[i]) {
				size_t j = ok[i] & (m->cap - 1);
				while (m->keys[j])
					j = (j + 1) & (m->cap - 1);
				m->keys[j] = ok[i];
				if (ov)
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
	if (!m->counts)
		m->counts = xcalloc(m->cap, sizeof *m->counts);
	return ++m->counts[j];
}

void rowloop_seq_free(rowloop_seq *m)
{
	free(m->keys);
	free(m->counts);
	*m = (rowloop_seq){0};
}

/* DESIGN (ids in order)
 * A table of hashes is read at random, a cache and TLB miss a row (the
 * reader's largest cost after parsing, 13% of it at 1M costs); a file
 * whose ids go up needs none of it: an id after the one before is new. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Compares a and b run by run: digits by their number (then by how many
 * leading zeros), the rest by bytes, so IV999999 < IV1000000 and 9 < 10.
 * A total order (0 only for equal strings): ids that go up in it are
 * distinct. */
static int natural_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;
	while (i < an && j < bn) {
		bool da = is_digit(a[i]), db = is_digit(b[j]);
		if (da != db)
			return da ? -1 : 1;
		size_t ie = i, je = j;
		while (ie < an && is_digit(a[ie]) == da)
			ie++;
		while (je < bn && is_digit(b[je]) == db)
			je++;
		if (da) {
			size_t za = i, zb = j;
			while (za < ie && a[za] == '0')
				za++;
			while (zb < je && b[zb] == '0')
				zb++;
			if (ie - za != je - zb)
				return ie - za < je - zb ? -1 : 1;
			int c = memcmp(a + za, b + zb, ie - za);
			if (c)
				return c;
			if (za - i != zb - j)
				return za - i < zb - j ? -1 : 1;
		} else {
			size_t k = ie - i < je - j ? ie - i : je - j;
			int c = memcmp(a + i, b + j, k);
			if (c)
				return c;
			if (ie - i != je - j)
				return ie - i < je - j ? -1 : 1;
		}
		i = ie;
		j = je;
	}
	return (i < an) - (j < bn);
}

bool rowloop_ids_new(rowloop_ids *m, const char *id, size_t len, uint64_t h)
{
	if (!m->unordered) {
		if (!m->n || natural_cmp(id, len, m->last, m->last_len) > 0) {
			if (m->n == m->cap) {
				m->cap = m->cap ? m->cap * 2 : 4096;
				m->hashes = xrealloc(m->hashes, m->cap * sizeof *m->hashes);
			}
			m->hashes[m->n++] = h;
			if (len > m->last_cap) {
				m->last_cap = len * 2;
				m->last = xrealloc(m->last, m->last_cap);
			}
			memcpy(m->last, id, len);
			m->last_len = len;
			return true;
		}
		m->unordered = true;
		for (size_t i = 0; i < m->n; i++)
			rowloop_seq_next(&m->seen, m->hashes[i]);
		free(m->hashes);
		m->hashes = NULL;
	}
	return rowloop_seq_next(&m->seen, h) == 0;
}

void rowloop_ids_free(rowloop_ids *m)
{
	free(m->hashes);
	free(m->last);
	rowloop_seq_free(&m->seen);
	*m = (rowloop_ids){0};
}
