/* Tests of src/ingest/csv.c: the streaming RFC 4180 reader.
 *
 * Most tests render everything the reader returns as text (see dump) and
 * compare it with the expected text, once with the whole input handed over
 * in one read and once one byte per read, so every case also checks that
 * chunk boundaries change nothing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "helpers.h"
#include "ingest/csv.h"

/* ---- rendering ---- */

/* Renders a reader's whole output: "LINE:{f1}{f2}" per record, "LINE:!" for
 * a malformed record, then "EOF" or "FATAL", one per line. The fatal
 * message and the reasons are checked by the tests that care. */
static char *dump_opts(const char *in, size_t len, char delim, size_t chunk, size_t max_record)
{
	mem_reader m = mem_reader_of(in, len, chunk);
	csv_reader_t *r = csv_new(mem_read, &m, delim, max_record);
	csv_row_t *row = malloc(sizeof *row);
	buf_t b = BUF_INIT;
	for (;;) {
		csv_result cr = csv_next(r, row);
		if (cr == CSV_EOF) {
			buf_puts(&b, "EOF\n");
			break;
		}
		if (cr == CSV_FATAL) {
			buf_puts(&b, "FATAL\n");
			break;
		}
		buf_printf(&b, "%llu:", (unsigned long long)row->line);
		if (row->error)
			buf_putc(&b, '!');
		for (size_t i = 0; i < row->nfields; i++) {
			buf_putc(&b, '{');
			buf_put(&b, row->fields[i].p, row->fields[i].len);
			buf_putc(&b, '}');
		}
		buf_putc(&b, '\n');
	}
	free(row);
	csv_free(r);
	return buf_steal(&b);
}

static char *dump(const char *in, char delim)
{
	return dump_opts(in, strlen(in), delim, 0, 0);
}

/* s with control characters escaped, for failure messages (static). */
static const char *visible(const char *s, size_t n)
{
	static char out[2][1024];
	static int which;
	char *o = out[which ^= 1];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 5 < sizeof out[0]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n')
			k += (size_t)sprintf(o + k, "\\n");
		else if (c == '\r')
			k += (size_t)sprintf(o + k, "\\r");
		else if (c < 0x20)
			k += (size_t)sprintf(o + k, "\\x%02x", c);
		else
			o[k++] = (char)c;
	}
	o[k] = '\0';
	return o;
}

/* Checks the rendering of in, read whole and in reads of 1, 2 and 3 bytes. */
static void expect_dump_n(const char *in, size_t len, char delim, const char *want)
{
	static const size_t chunks[] = {0, 1, 2, 3};
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		char *got = dump_opts(in, len, delim, chunks[i], 0);
		cr_expect_str_eq(got, want, "input \"%s\" (chunk %zu): got \"%s\"", visible(in, len), chunks[i],
		                 visible(got, strlen(got)));
		free(got);
	}
}

static void expect_dump(const char *in, const char *want)
{
	expect_dump_n(in, strlen(in), ',', want);
}

/* The reason of the first malformed record of in (static copy), or "". */
static const char *first_error(const char *in)
{
	static char why[200];
	mem_reader m = mem_reader_of(in, strlen(in), 0);
	csv_reader_t *r = csv_new(mem_read, &m, ',', 0);
	csv_row_t *row = malloc(sizeof *row);
	why[0] = '\0';
	while (csv_next(r, row) == CSV_ROW)
		if (row->error) {
			snprintf(why, sizeof why, "%s", row->error);
			break;
		}
	free(row);
	csv_free(r);
	return why;
}

/* The fatal message after reading all of in (static copy), or "". */
static const char *fatal_of_chunked(const char *in, size_t len, size_t max_record, size_t chunk)
{
	static char why[200];
	mem_reader m = mem_reader_of(in, len, chunk);
	csv_reader_t *r = csv_new(mem_read, &m, ',', max_record);
	csv_row_t *row = malloc(sizeof *row);
	csv_result cr;
	while ((cr = csv_next(r, row)) == CSV_ROW)
		;
	snprintf(why, sizeof why, "%s", cr == CSV_FATAL ? csv_fatal(r) : "");
	free(row);
	csv_free(r);
	return why;
}

static const char *fatal_of(const char *in, size_t len, size_t max_record)
{
	return fatal_of_chunked(in, len, max_record, 0);
}

/* ---- fields and quoting ---- */

Test(csv, plain_records)
{
	expect_dump("a,b\nc,d\n", "1:{a}{b}\n2:{c}{d}\nEOF\n");
	expect_dump("a,b\nc,d", "1:{a}{b}\n2:{c}{d}\nEOF\n");
	expect_dump("x\n", "1:{x}\nEOF\n");
}

Test(csv, empty_input)
{
	expect_dump("", "EOF\n");
	expect_dump("\n\n\r\n", "EOF\n");
}

Test(csv, empty_fields)
{
	expect_dump(",,\n", "1:{}{}{}\nEOF\n");
	expect_dump("a,\n,b\n", "1:{a}{}\n2:{}{b}\nEOF\n");
	expect_dump("\"\"\n", "1:{}\nEOF\n");
	expect_dump("\"\",\"\"\n", "1:{}{}\nEOF\n");
}

Test(csv, quoted_fields)
{
	expect_dump("\"a\",\"b c\"\n", "1:{a}{b c}\nEOF\n");
	expect_dump("\"a\",b,\"c\"", "1:{a}{b}{c}\nEOF\n");
}

Test(csv, doubled_quotes)
{
	expect_dump("\"say \"\"hi\"\"\",x\n", "1:{say \"hi\"}{x}\nEOF\n");
	expect_dump("\"\"\"\"\n", "1:{\"}\nEOF\n");
	expect_dump("\"a\"\"\",\"\"\"b\"\n", "1:{a\"}{\"b}\nEOF\n");
}

Test(csv, embedded_delimiter)
{
	expect_dump("\"Acme, Inc.\",12.50\n", "1:{Acme, Inc.}{12.50}\nEOF\n");
	expect_dump("\",,,\"\n", "1:{,,,}\nEOF\n");
}

Test(csv, spaces_are_data)
{
	expect_dump(" a , b \n", "1:{ a }{ b }\nEOF\n");
	expect_dump(" \n", "1:{ }\nEOF\n");
}

/* ---- line ends and line numbers ---- */

Test(csv, embedded_newlines_keep_line_numbers)
{
	expect_dump("\"a\nb\",c\nd,e\n", "1:{a\nb}{c}\n3:{d}{e}\nEOF\n");
	expect_dump("h\n\"1\n2\n3\",\"x\ny\"\nz\n", "1:{h}\n2:{1\n2\n3}{x\ny}\n6:{z}\nEOF\n");
	/* CRLF inside quotes is data, and still one line */
	expect_dump("\"a\r\nb\"\r\nc\r\n", "1:{a\r\nb}\n3:{c}\nEOF\n");
}

Test(csv, crlf)
{
	expect_dump("a,b\r\nc,d\r\n", "1:{a}{b}\n2:{c}{d}\nEOF\n");
	expect_dump("a\r\nb\nc\r\n", "1:{a}\n2:{b}\n3:{c}\nEOF\n");
	expect_dump("\"a\"\r\n\"b\"", "1:{a}\n2:{b}\nEOF\n");
}

Test(csv, cr_only_line_ends)
{
	/* Old Mac exports: not in DATA.md, but the reader treats a lone CR as
	 * a line end rather than data. */
	expect_dump("a,b\rc,d\r", "1:{a}{b}\n2:{c}{d}\nEOF\n");
	expect_dump("\"x\"\ry", "1:{x}\n2:{y}\nEOF\n");
}

Test(csv, blank_lines_skipped)
{
	expect_dump("\n\na\n\n\nb\n\n", "3:{a}\n6:{b}\nEOF\n");
	expect_dump("\r\n\r\na\r\n\r\nb", "3:{a}\n5:{b}\nEOF\n");
	expect_dump("a\n\n\"q\nq\"\n\nb\n", "1:{a}\n3:{q\nq}\n6:{b}\nEOF\n");
}

/* Regression (fixed; csv.c, csv_next, blank-line check): a blank line ended by a
 * lone CR is returned as a record with one empty field instead of being
 * skipped like LF and CRLF blank lines. Found by this test. */
Test(csv, blank_line_cr_only_skipped)
{
	expect_dump("a\r\rb\r", "1:{a}\n3:{b}\nEOF\n");
}

/* ---- byte order mark ---- */

Test(csv, bom_skipped)
{
	char *got = dump("\xEF\xBB\xBF" "id,amount\n1,2\n", ',');
	cr_expect_str_eq(got, "1:{id}{amount}\n2:{1}{2}\nEOF\n");
	free(got);
	got = dump("\xEF\xBB\xBF", ',');
	cr_expect_str_eq(got, "EOF\n");
	free(got);
	/* only at the very start: later it is data */
	got = dump("a\n\xEF\xBB\xBF" "b\n", ',');
	cr_expect_str_eq(got, "1:{a}\n2:{\xEF\xBB\xBF" "b}\nEOF\n");
	free(got);
}

/* Regression (fixed; csv.c, getb): the BOM is recognised only when the first read
 * returns at least 3 bytes; a reader that hands out fewer (a pipe, a slow
 * network body) keeps it as data in the first header name. */
Test(csv, bom_split_across_reads)
{
	const char *in = "\xEF\xBB\xBF" "id\n1\n";
	for (size_t chunk = 1; chunk <= 3; chunk++) {
		char *got = dump_opts(in, strlen(in), ',', chunk, 0);
		cr_expect_str_eq(got, "1:{id}\n2:{1}\nEOF\n", "chunk %zu", chunk);
		free(got);
	}
}

/* ---- delimiters ---- */

Test(csv, each_delimiter)
{
	expect_dump_n("a;b,c\n\"x;y\";z\n", 14, ';', "1:{a}{b,c}\n2:{x;y}{z}\nEOF\n");
	expect_dump_n("a\tb,c\n\"x\ty\"\tz\n", 14, '\t', "1:{a}{b,c}\n2:{x\ty}{z}\nEOF\n");
	expect_dump_n("a|b,c\n\"x|y\"|z\n", 14, '|', "1:{a}{b,c}\n2:{x|y}{z}\nEOF\n");
	/* 0 means the default, a comma */
	expect_dump_n("a,b\n", 4, 0, "1:{a}{b}\nEOF\n");
}

/* ---- malformed records: the record alone is rejected ---- */

Test(csv, quote_in_unquoted_field)
{
	expect_dump("a,b\"c,d\ne,f\n", "1:!\n2:{e}{f}\nEOF\n");
	expect_dump("ab\"\ncd\n", "1:!\n2:{cd}\nEOF\n");
	cr_expect(strstr(first_error("x,5\"\n"), "quote inside an unquoted field") != NULL, "%s",
	          first_error("x,5\"\n"));
}

Test(csv, text_after_closing_quote)
{
	expect_dump("\"a\"b,c\nd\n", "1:!\n2:{d}\nEOF\n");
	expect_dump("\"a\" ,c\nd\n", "1:!\n2:{d}\nEOF\n");
	cr_expect(strstr(first_error("\"a\"b\n"), "after a closing quote") != NULL, "%s", first_error("\"a\"b\n"));
}

Test(csv, malformed_multiline_record_keeps_line_numbers)
{
	/* the bad record spans lines 2-3; the next starts on line 4 */
	expect_dump("h\n\"a\nb\"x,y\nc\n", "1:{h}\n2:!\n4:{c}\nEOF\n");
	expect_dump("\"a\nb\",c\"d\ne\n", "1:!\n3:{e}\nEOF\n");
}

Test(csv, too_many_columns)
{
	buf_t b = BUF_INIT;
	for (int i = 0; i < CSV_MAX_FIELDS; i++)
		buf_puts(&b, i ? ",x" : "x");
	buf_puts(&b, "\n");
	size_t at_limit = b.len;
	buf_puts(&b, "x");
	for (int i = 0; i < CSV_MAX_FIELDS; i++)
		buf_puts(&b, ",x");
	buf_puts(&b, "\nok\n");
	mem_reader m = mem_reader_of(b.p, b.len, 0);
	csv_reader_t *r = csv_new(mem_read, &m, ',', 0);
	csv_row_t *row = malloc(sizeof *row);
	cr_assert_eq(csv_next(r, row), CSV_ROW);
	cr_expect_null(row->error);
	cr_expect_eq(row->nfields, CSV_MAX_FIELDS);
	cr_assert_eq(csv_next(r, row), CSV_ROW);
	cr_expect_not_null(row->error, "257 columns accepted");
	cr_expect_eq(row->line, 2);
	cr_assert_eq(csv_next(r, row), CSV_ROW);
	cr_expect_null(row->error);
	cr_expect_eq(row->line, 3);
	cr_expect_eq(row->nfields, 1);
	cr_expect_eq(csv_next(r, row), CSV_EOF);
	cr_expect_gt(csv_bytes(r), at_limit);
	free(row);
	csv_free(r);
	buf_free(&b);
}

/* ---- not CSV at all: the whole file fails ---- */

Test(csv, unterminated_quote_is_fatal)
{
	expect_dump("a\n\"b,c\nd\n", "1:{a}\nFATAL\n");
	const char *why = fatal_of("a\n\"b,c\nd\n", 9, 0);
	cr_expect(strstr(why, "line 2") && strstr(why, "never closed"), "%s", why);
	expect_dump("\"", "FATAL\n");
	expect_dump("\"abc\"\"", "FATAL\n");
}

Test(csv, nul_byte_is_fatal)
{
	expect_dump_n("a,b\nc\0d\n", 8, ',', "1:{a}{b}\nFATAL\n");
	const char *why = fatal_of("a,b\nc\0d\n", 8, 0);
	cr_expect(strstr(why, "line 2") && strstr(why, "NUL"), "%s", why);
	/* inside quotes, and inside the rest of a malformed line */
	expect_dump_n("\"a\0\"\n", 5, ',', "FATAL\n");
	expect_dump_n("a\"b\0\nc\n", 7, ',', "FATAL\n");
	/* UTF-16 text is full of NULs */
	expect_dump_n("\xFF\xFEi\0d\0\n\0", 8, ',', "FATAL\n");
}

Test(csv, record_over_limit_is_fatal)
{
	char in[64];
	memset(in, 'x', sizeof in);
	memcpy(in, "ok\n", 3);
	in[sizeof in - 1] = '\n';
	char *got = dump_opts(in, sizeof in, ',', 0, 16);
	cr_expect_str_eq(got, "1:{ok}\nFATAL\n");
	free(got);
	const char *why = fatal_of(in, sizeof in, 16);
	cr_expect(strstr(why, "line 2") && strstr(why, "longer than the limit"), "%s", why);
	/* exactly at the limit is fine */
	got = dump_opts("0123456789abcdef\n", 17, ',', 1, 16);
	cr_expect_str_eq(got, "1:{0123456789abcdef}\nEOF\n");
	free(got);
	/* an unclosed quote runs into the limit before the end of the file */
	got = dump_opts("\"xxxxxxxxxxxxxxxxxxxxxxxxxxx\nyyyyyyyyy\n", 39, ',', 0, 16);
	cr_expect_str_eq(got, "FATAL\n");
	free(got);
}

/* Found by fuzz_csv: a run copied at once past the limit and ending at a NUL
 * was reported as a NUL byte, read byte by byte as over the limit. */
Test(csv, over_limit_then_nul_same_reason_any_chunking)
{
	static const char in[] = "k1,2024-01-00,Rent,12xxxxxxxxxxxxxxxxxxxx\0tail\n";
	char whole[200];
	snprintf(whole, sizeof whole, "%s", fatal_of_chunked(in, sizeof in - 1, 16, 0));
	cr_expect(strstr(whole, "longer than the limit"), "%s", whole);
	for (size_t chunk = 1; chunk <= 7; chunk++)
		cr_expect_str_eq(fatal_of_chunked(in, sizeof in - 1, 16, chunk), whole, "chunk %zu", chunk);
}

Test(csv, read_error_is_fatal)
{
	mem_reader m = mem_reader_of("a\nb\nc\n", 6, 2);
	m.fail_at = 4;
	csv_reader_t *r = csv_new(mem_read, &m, ',', 0);
	csv_row_t *row = malloc(sizeof *row);
	cr_expect_eq(csv_next(r, row), CSV_ROW);
	cr_expect_eq(csv_next(r, row), CSV_ROW);
	cr_expect_eq(csv_next(r, row), CSV_FATAL);
	cr_expect(strstr(csv_fatal(r), "read error") != NULL, "%s", csv_fatal(r));
	free(row);
	csv_free(r);
}

Test(csv, finished_reader_stays_finished)
{
	mem_reader m = mem_reader_of("a\n", 2, 0);
	csv_reader_t *r = csv_new(mem_read, &m, ',', 0);
	csv_row_t row;
	cr_expect_eq(csv_next(r, &row), CSV_ROW);
	cr_expect_eq(csv_next(r, &row), CSV_EOF);
	cr_expect_eq(csv_next(r, &row), CSV_EOF);
	csv_free(r);
	m = mem_reader_of("\"a", 2, 0);
	r = csv_new(mem_read, &m, ',', 0);
	cr_expect_eq(csv_next(r, &row), CSV_FATAL);
	cr_expect_eq(csv_next(r, &row), CSV_FATAL);
	csv_free(r);
	csv_free(NULL);
}

Test(csv, bytes_counts_everything_consumed)
{
	const char *in = "\xEF\xBB\xBF" "a,b\r\n\n\"c\nd\"\n";
	mem_reader m = mem_reader_of(in, strlen(in), 0);
	csv_reader_t *r = csv_new(mem_read, &m, ',', 0);
	csv_row_t row;
	uint64_t last = 0;
	while (csv_next(r, &row) == CSV_ROW) {
		cr_expect_geq(csv_bytes(r), last);
		last = csv_bytes(r);
	}
	cr_expect_eq(csv_bytes(r), strlen(in));
	csv_free(r);
}

/* ---- properties over random input ---- */

/* A random field over an alphabet rich in the characters that matter. */
static void random_field(uint64_t *rs, buf_t *out)
{
	static const char *const atoms[] = {"a", "b", "7", " ", ",", ";", "\t", "|", "\"", "\n", "\r\n", "\r", "é", "x y"};
	size_t n = test_rng_below(rs, 6);
	for (size_t i = 0; i < n; i++)
		buf_puts(out, atoms[test_rng_below(rs, sizeof atoms / sizeof atoms[0])]);
}

static bool needs_quotes(const char *f, size_t n, char delim)
{
	for (size_t i = 0; i < n; i++)
		if (f[i] == '"' || f[i] == '\n' || f[i] == '\r' || f[i] == delim)
			return true;
	return false;
}

static void encode_field(buf_t *csv, const char *f, size_t n, bool quote)
{
	if (!quote) {
		buf_put(csv, f, n);
		return;
	}
	buf_putc(csv, '"');
	for (size_t i = 0; i < n; i++) {
		if (f[i] == '"')
			buf_putc(csv, '"');
		buf_putc(csv, f[i]);
	}
	buf_putc(csv, '"');
}

/* Lines a quoted field spans beyond its first: inside quotes only LF
 * counts (a lone CR there is data, as DATA.md knows only LF and CRLF). */
static size_t count_newlines(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n';
	return k;
}

/* Builds a random well-formed file and, alongside, the dump the reader
 * must produce for it. */
static void random_file(uint64_t *rs, char delim, buf_t *csv, buf_t *want)
{
	uint64_t line = 1;
	size_t nrec = 1 + test_rng_below(rs, 12);
	for (size_t r = 0; r < nrec; r++) {
		while (test_rng_below(rs, 5) == 0) {
			buf_puts(csv, test_rng_below(rs, 2) ? "\n" : "\r\n");
			line++;
		}
		size_t nf = 1 + test_rng_below(rs, 5);
		buf_printf(want, "%llu:", (unsigned long long)line);
		for (size_t i = 0; i < nf; i++) {
			buf_t f = BUF_INIT;
			random_field(rs, &f);
			/* a record of one empty field would be a blank line */
			bool quote = needs_quotes(f.p, f.len, delim) || test_rng_below(rs, 4) == 0 || (nf == 1 && !f.len);
			if (i)
				buf_putc(csv, delim);
			encode_field(csv, f.p ? f.p : "", f.len, quote);
			buf_putc(want, '{');
			buf_put(want, f.p, f.len);
			buf_putc(want, '}');
			line += count_newlines(f.p, f.len);
			buf_free(&f);
		}
		buf_putc(want, '\n');
		if (r + 1 < nrec || test_rng_below(rs, 2)) {
			buf_puts(csv, test_rng_below(rs, 3) ? "\n" : "\r\n");
			line++;
		}
	}
	buf_puts(want, "EOF\n");
}

Test(csv, property_round_trip_any_chunking)
{
	static const char delims[] = {',', ';', '\t', '|'};
	uint64_t rs = 0x5eed0001u;
	for (int iter = 0; iter < 2000; iter++) {
		char delim = delims[iter % 4];
		buf_t csv = BUF_INIT, want = BUF_INIT;
		random_file(&rs, delim, &csv, &want);
		size_t chunk = iter % 3 == 0 ? 1 : 1 + test_rng_below(&rs, 9);
		char *whole = dump_opts(csv.p, csv.len, delim, 0, 0);
		char *small = dump_opts(csv.p, csv.len, delim, chunk, 0);
		cr_assert_str_eq(whole, want.p, "iteration %d: input \"%s\"\ngot:\n%s", iter, csv.p, whole);
		cr_assert_str_eq(small, want.p, "iteration %d, chunk %zu: input \"%s\"", iter, chunk, csv.p);
		free(whole);
		free(small);
		buf_free(&csv);
		buf_free(&want);
	}
}

/* Byte soup, malformed records and fatal errors included: reading one byte
 * at a time must give exactly what one big read gives. (The BOM is left
 * out of the first position: see bom_split_across_reads.) */
Test(csv, property_chunking_invariant_on_soup)
{
	static const char *const atoms[] = {"a", ",", "\"", "\"\"", "\n", "\r", "\r\n", ";", "x", " ", "\xEF\xBB\xBF", "\xC3"};
	uint64_t rs = 0x5eed0002u;
	for (int iter = 0; iter < 5000; iter++) {
		buf_t in = BUF_INIT;
		size_t n = test_rng_below(&rs, 40);
		for (size_t i = 0; i < n; i++) {
			size_t k = test_rng_below(&rs, sizeof atoms / sizeof atoms[0]);
			if (i == 0 && k == 10)
				k = 0;
			buf_puts(&in, atoms[k]);
		}
		if (test_rng_below(&rs, 50) == 0)
			buf_putc(&in, '\0');
		size_t max = test_rng_below(&rs, 3) == 0 ? 8 : 0;
		char *whole = dump_opts(in.p ? in.p : "", in.len, ',', 0, max);
		for (size_t chunk = 1; chunk <= 4; chunk++) {
			char *small = dump_opts(in.p ? in.p : "", in.len, ',', chunk, max);
			cr_assert_str_eq(small, whole, "iteration %d, chunk %zu: input \"%.*s\"", iter, chunk, (int)in.len,
			                 in.p ? in.p : "");
			free(small);
		}
		free(whole);
		buf_free(&in);
	}
}

/* A big file read through the reader's own chunking (records straddle
 * its 256 KiB boundary many times). */
Test(csv, large_input_crosses_internal_chunks)
{
	buf_t in = BUF_INIT;
	const int n = 60000;
	for (int i = 0; i < n; i++)
		buf_printf(&in, "%d,\"name, %d\",\"multi\nline\"\n", i, i);
	mem_reader m = mem_reader_of(in.p, in.len, 100003);
	csv_reader_t *r = csv_new(mem_read, &m, ',', 0);
	csv_row_t *row = malloc(sizeof *row);
	int seen = 0;
	char want[32];
	while (csv_next(r, row) == CSV_ROW) {
		cr_assert_null(row->error, "row %d", seen);
		cr_assert_eq(row->nfields, 3);
		cr_assert_eq(row->line, (uint64_t)seen * 2 + 1);
		int k = snprintf(want, sizeof want, "name, %d", seen);
		cr_assert(row->fields[1].len == (size_t)k && !memcmp(row->fields[1].p, want, (size_t)k), "row %d", seen);
		seen++;
	}
	cr_expect_eq(seen, n);
	cr_expect_eq(csv_bytes(r), in.len);
	free(row);
	csv_free(r);
	buf_free(&in);
}
