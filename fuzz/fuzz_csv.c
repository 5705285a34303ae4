/* fuzz_csv: the streaming CSV reader over arbitrary bytes.
 *
 * Byte 0 picks the delimiter (bits 0-1) and a small record limit (bits
 * 2-7: 1..64 bytes, so the limit path is reached); the rest is the file.
 * Checks, beyond ASan/UBSan: row invariants (field count, record size,
 * line numbers, bytes consumed) and that reading one byte per call gives
 * exactly what one big read gives. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "core/buf.h"
#include "ingest/csv.h"

/* Renders every result of a reader into out (fields, errors, fatal). */
static void render(const uint8_t *p, size_t n, char delim, size_t max, size_t chunk, buf_t *out)
{
	fuzz_reader in = {p, n, 0, chunk};
	csv_reader_t *r = csv_new(fuzz_read, &in, delim, max);
	csv_row_t *row = malloc(sizeof *row);
	uint64_t last_line = 0, max_line = 1;
	for (size_t i = 0; i < n; i++)
		max_line += p[i] == '\n' || p[i] == '\r';
	csv_result cr;
	while ((cr = csv_next(r, row)) == CSV_ROW) {
		FUZZ_CHECK(row->line > last_line, "line %llu after %llu", (unsigned long long)row->line,
		           (unsigned long long)last_line);
		FUZZ_CHECK(row->line <= max_line, "line %llu of %llu", (unsigned long long)row->line,
		           (unsigned long long)max_line);
		last_line = row->line;
		buf_printf(out, "%llu:", (unsigned long long)row->line);
		if (row->error) {
			FUZZ_CHECK(row->nfields == 0, "a malformed record with fields");
			buf_printf(out, "!%s", row->error);
		}
		FUZZ_CHECK(row->nfields <= CSV_MAX_FIELDS, "%zu fields", row->nfields);
		size_t total = 0;
		for (size_t i = 0; i < row->nfields; i++) {
			total += row->fields[i].len;
			buf_putc(out, '{');
			buf_put(out, row->fields[i].p, row->fields[i].len);
			buf_putc(out, '}');
		}
		FUZZ_CHECK(total <= max, "record of %zu bytes past the limit %zu", total, max);
		FUZZ_CHECK(csv_bytes(r) <= n, "consumed %llu of %zu", (unsigned long long)csv_bytes(r), n);
		buf_putc(out, '\n');
	}
	if (cr == CSV_FATAL) {
		FUZZ_CHECK(csv_fatal(r)[0], "fatal without a message");
		buf_printf(out, "FATAL %s\n", csv_fatal(r));
	} else {
		FUZZ_CHECK(csv_bytes(r) == n, "EOF after %llu of %zu bytes", (unsigned long long)csv_bytes(r), n);
		buf_puts(out, "EOF\n");
	}
	FUZZ_CHECK(csv_next(r, row) == cr, "a finished reader changed its mind");
	free(row);
	csv_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[] = {',', ';', '\t', '|'};
	if (size < 1)
		return 0;
	char delim = delims[data[0] & 3];
	size_t max = 1 + (size_t)(data[0] >> 2);
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	buf_t whole = BUF_INIT, bytewise = BUF_INIT;
	render(p, n, delim, max, 0, &whole);
	render(p, n, delim, max, 1, &bytewise);
	FUZZ_CHECK(whole.len == bytewise.len && !memcmp(whole.p, bytewise.p, whole.len),
	           "one-byte reads differ:\n%s---\n%s", whole.p, bytewise.p);
	buf_free(&whole);
	buf_free(&bytewise);
	return 0;
}
