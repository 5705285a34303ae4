/* csv: a streaming RFC 4180 reader that knows where it is.
 *
 * Why not libcsv (the first choice in DESIGN.md): rejections must name the
 * line of the record, and libcsv neither reports positions nor tells blank
 * lines apart; it also turns a malformed quote into a whole-file error or
 * silently accepts it. This reader reports each record's first line and
 * byte offset, rejects a malformed record alone and resynchronises at the
 * next line, and fails the file only when it cannot be CSV (NUL bytes, a
 * record past the size limit, an unterminated quote at end of input). */
#ifndef BRISK_CSV_H
#define BRISK_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

/* Reads up to n bytes into buf; returns bytes read, 0 at end, -1 on error. */
typedef ssize_t (*csv_read_fn)(void *ud, char *buf, size_t n);

typedef struct csv_reader csv_reader_t;

#define CSV_MAX_FIELDS 256
#define CSV_DEFAULT_MAX_RECORD (1u << 20)

typedef struct {
	size_t nfields;
	slice_t fields[CSV_MAX_FIELDS]; /* valid until the next csv_next */
	uint64_t line;                  /* 1-based line where the record starts */
	const char *error;              /* non-NULL: this record is malformed (reason) */
} csv_row_t;

typedef enum { CSV_ROW = 1, CSV_EOF = 0, CSV_FATAL = -1 } csv_result;

/* A reader over fn with delimiter delim (',' ';' '\t' '|'); max_record 0 =
 * 1 MiB. Caller frees with csv_free. Never fails. */
csv_reader_t *csv_new(csv_read_fn fn, void *ud, char delim, size_t max_record);
void csv_free(csv_reader_t *r);
/* Next record (blank lines are skipped). CSV_FATAL: csv_fatal() tells why
 * and where; the reader is finished. */
csv_result csv_next(csv_reader_t *r, csv_row_t *row);
const char *csv_fatal(const csv_reader_t *r);
/* Numbers the first line line (default 1): lines a caller dropped before
 * handing the rest to the reader still count. */
void csv_set_first_line(csv_reader_t *r, uint64_t line);
/* Bytes consumed so far (for progress). */
uint64_t csv_bytes(const csv_reader_t *r);

/* Spreadsheet formula neutralisation (OWASP "CSV injection"), one rule for
 * both directions so that export then import gives the exact value back.
 * A cell that starts with = + - @ TAB or CR, or with an apostrophe followed
 * by one of those or by another apostrophe, is written with one more
 * leading apostrophe; a cell read that starts with an apostrophe followed by
 * one of those (or another apostrophe) loses its first apostrophe.
 * csv_needs_guard tells whether s must be prefixed when written. */
bool csv_needs_guard(const char *s, size_t n);
/* The field without the guard apostrophe csv_needs_guard asked for. */
slice_t csv_unguard(slice_t f);

#endif
