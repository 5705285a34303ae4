#include "ingest/csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define CHUNK (256 * 1024)

struct csv_reader {
	csv_read_fn fn;
	void *ud;
	char delim;
	size_t max_record;
	char *in;            /* input chunk */
	size_t in_len, in_pos;
	bool eof, started, done;
	uint64_t bytes, line;
	buf_t rec;           /* unescaped bytes of the current record */
	size_t starts[CSV_MAX_FIELDS + 1];
	char fatal[160];
};

csv_reader_t *csv_new(csv_read_fn fn, void *ud, char delim, size_t max_record)
{
	csv_reader_t *r = xcalloc(1, sizeof *r);
	r->fn = fn;
	r->ud = ud;
	r->delim = delim ? delim : ',';
	r->max_record = max_record ? max_record : CSV_DEFAULT_MAX_RECORD;
	r->in = xmalloc(CHUNK);
	r->line = 1;
	return r;
}

void csv_free(csv_reader_t *r)
{
	if (!r)
		return;
	free(r->in);
	buf_free(&r->rec);
	free(r);
}

const char *csv_fatal(const csv_reader_t *r)
{
	return r->fatal;
}

void csv_set_first_line(csv_reader_t *r, uint64_t line)
{
	r->line = line;
}

uint64_t csv_bytes(const csv_reader_t *r)
{
	return r->bytes;
}

/* Next input byte, or -1 at end (-2 on a read error). */
static int getb(csv_reader_t *r)
{
	if (r->in_pos == r->in_len) {
		if (r->eof)
			return -1;
		ssize_t n = r->fn(r->ud, r->in, CHUNK);
		if (n < 0) {
			snprintf(r->fatal, sizeof r->fatal, "read error at byte %llu", (unsigned long long)r->bytes);
			return -2;
		}
		if (n == 0) {
			r->eof = true;
			return -1;
		}
		r->in_len = (size_t)n;
		r->in_pos = 0;
		if (!r->started) {
			r->started = true;
			/* A UTF-8 byte order mark is not data. Short reads (a pipe, a
			 * slow body) may split it: gather three bytes first. */
			while (r->in_len < 3 && (n = r->fn(r->ud, r->in + r->in_len, CHUNK - r->in_len)) > 0)
				r->in_len += (size_t)n;
			if (n < 0) {
				snprintf(r->fatal, sizeof r->fatal, "read error at byte %llu", (unsigned long long)r->in_len);
				return -2;
			}
			if (n == 0 && r->in_len < 3)
				r->eof = true;
			if (r->in_len >= 3 && memcmp(r->in, "\xEF\xBB\xBF", 3) == 0) {
				r->in_pos = 3;
				r->bytes = 3;
			}
			if (r->in_pos == r->in_len)
				return getb(r);
		}
	}
	r->bytes++;
	return (unsigned char)r->in[r->in_pos++];
}

static void ungetb(csv_reader_t *r)
{
	r->in_pos--;
	r->bytes--;
}

/* Appends c and the run of ordinary bytes after it that is already in the
 * input chunk (up to a1, a2, a quote, LF or NUL, which the caller's state
 * machine handles): one copy per run instead of a call per byte. */
static void take_run(csv_reader_t *r, int c, char a1, char a2)
{
	size_t start = r->in_pos - 1, i = r->in_pos;
	if (c == '\n') {
		buf_putc(&r->rec, '\n');
		return;
	}
	while (i < r->in_len) {
		char ch = r->in[i];
		if (ch == a1 || ch == a2 || ch == '"' || ch == '\n' || ch == '\0')
			break;
		i++;
	}
	buf_put(&r->rec, r->in + start, i - start);
	r->bytes += i - r->in_pos;
	r->in_pos = i;
}

static csv_result fail(csv_reader_t *r, const char *fmt, unsigned long long line)
{
	if (!r->fatal[0])
		snprintf(r->fatal, sizeof r->fatal, fmt, line);
	r->done = true;
	return CSV_FATAL;
}

/* Skips to the end of the current line after a malformed record. */
static int skip_line(csv_reader_t *r)
{
	for (;;) {
		int c = getb(r);
		if (c < 0)
			return c;
		if (c == 0)
			return -3;
		if (c == '\n') {
			r->line++;
			return 0;
		}
	}
}

csv_result csv_next(csv_reader_t *r, csv_row_t *row)
{
	if (r->done)
		return r->fatal[0] ? CSV_FATAL : CSV_EOF;
	for (;;) {
		buf_reset(&r->rec);
		size_t nf = 0;
		r->starts[0] = 0;
		row->line = r->line;
		row->error = NULL;
		int c = getb(r);
		if (c == -1) {
			r->done = true;
			return CSV_EOF;
		}
		if (c == -2)
			return fail(r, "read error (line %llu)", (unsigned long long)r->line);
		/* blank line (LF or CRLF) */
		if (c == '\n') {
			r->line++;
			continue;
		}
		if (c == '\r') {
			/* CRLF or a lone CR (old Mac files): a blank line either way */
			int d = getb(r);
			if (d != '\n' && d >= 0)
				ungetb(r);
			r->line++;
			continue;
		}
		bool quoted = false, after_quote = false, field_start = true;
		uint64_t newlines = 0;
		for (;; c = getb(r)) {
			/* The limit first: a run taken at once may have passed it
			 * already, and the reason must not depend on read sizes. */
			if (r->rec.len > r->max_record)
				return fail(r, "line %llu: record longer than the limit: not a CSV file, or an unclosed quote",
				            (unsigned long long)r->line);
			if (c == 0)
				return fail(r, "line %llu: NUL byte: this is not a text CSV file (binary or UTF-16?)",
				            (unsigned long long)(r->line + newlines));
			if (c == -2)
				return fail(r, "read error (line %llu)", (unsigned long long)r->line);
			if (quoted) {
				if (c == -1)
					return fail(r, "line %llu: quoted field never closed before end of file",
					            (unsigned long long)r->line);
				if (c == '"') {
					int d = getb(r);
					if (d == '"') {
						buf_putc(&r->rec, '"');
						continue;
					}
					if (d >= 0)
						ungetb(r);
					quoted = false;
					after_quote = true;
					continue;
				}
				if (c == '\n')
					newlines++;
				take_run(r, c, '"', '"');
				continue;
			}
			if (c == -1 || c == '\n' || c == '\r' || c == r->delim) {
				if (c == '\r') {
					int d = getb(r);
					if (d != '\n' && d >= 0)
						ungetb(r);
					c = '\n';
				}
				if (nf >= CSV_MAX_FIELDS) {
					row->error = "more than 256 columns";
				} else {
					r->starts[++nf] = r->rec.len;
				}
				if (c == r->delim) {
					field_start = true;
					after_quote = false;
					continue;
				}
				r->line += newlines + (c == '\n');
				break;
			}
			if (after_quote) {
				row->error = "unexpected character after a closing quote";
				r->line += newlines;
				int s = skip_line(r);
				if (s == -3)
					return fail(r, "line %llu: NUL byte: this is not a text CSV file", (unsigned long long)r->line);
				break;
			}
			if (c == '"') {
				if (field_start) {
					quoted = true;
					field_start = false;
					continue;
				}
				row->error = "a quote inside an unquoted field (quote the whole field and double the quote)";
				r->line += newlines;
				int s = skip_line(r);
				if (s == -3)
					return fail(r, "line %llu: NUL byte: this is not a text CSV file", (unsigned long long)r->line);
				break;
			}
			field_start = false;
			take_run(r, c, r->delim, '\r');
		}
		if (row->error) {
			row->nfields = 0;
			return CSV_ROW;
		}
		row->nfields = nf;
		const char *base = r->rec.p ? r->rec.p : "";
		for (size_t i = 0; i < nf; i++)
			row->fields[i] = (slice_t){base + r->starts[i], r->starts[i + 1] - r->starts[i]};
		return CSV_ROW;
	}
}

/* The characters that make a spreadsheet read a cell as a formula. */
static bool formula_lead(char c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

bool csv_needs_guard(const char *s, size_t n)
{
	if (n == 0)
		return false;
	return formula_lead(s[0]) || (s[0] == '\'' && n > 1 && (formula_lead(s[1]) || s[1] == '\''));
}

slice_t csv_unguard(slice_t f)
{
	if (f.len > 1 && f.p[0] == '\'' && (formula_lead(f.p[1]) || f.p[1] == '\''))
		return (slice_t){f.p + 1, f.len - 1};
	return f;
}
