/* layout: where each field of an entity comes from in a file (a column, a
 * constant, a default), and the making of one record from one CSV row:
 * encoding conversion, debit/credit computed exactly, the sign conventions
 * (negate, a sign column), and the hint naming the option that would have
 * read a rejected value. Used by import.c for the sample and the file. */
#ifndef BRISK_LAYOUT_H
#define BRISK_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "ingest/csv.h"
#include "ingest/entity.h"
#include "ingest/options.h"

/* A single-byte encoding as a table byte -> UTF-8 (len 0 = undefined). */
typedef struct {
	char utf8[256][4];
	unsigned char len[256];
} sb_table;

/* Fills t for encoding e; false with a reason if iconv lacks it. */
bool layout_table(import_encoding e, sb_table *t, char *err, size_t errlen);
/* Converts the fields of row in place into out (the row's slices then point
 * into out, valid until out changes); false with the first bad byte. */
bool layout_convert_row(const sb_table *t, csv_row_t *row, buf_t *out, char *why, size_t whylen);

typedef struct {
	int src[ENTITY_MAXCOLS]; /* file column index, or -1 */
	int debit, credit, sign; /* file columns, or -1 */
	int amount;              /* the entity's amount field (first money column), or -1 */
	size_t ncols;            /* columns in the header */
	uint64_t header_hash[CSV_MAX_FIELDS]; /* per column: hash of its name (record ids) */
} layout_t;

/* Plans the layout from the header h (NULL without one). Fails with every
 * missing required column at once, a column name matched twice in the
 * header, a constant for a field the file has; err then names the fix
 * (hint from head: the first bytes of the file). */
bool layout_plan(const import_opts *o, const csv_row_t *h, const char *head, size_t headlen, layout_t *l,
                 char *err, size_t errlen);
/* Without a header: every position read must exist in rows of ncols
 * columns (the widest of the sample). */
bool layout_check_positions(const import_opts *o, const layout_t *l, size_t ncols, char *err, size_t errlen);

/* Scratch space for layout_record. */
typedef struct {
	char amount_buf[MONEY_BUFSZ];
	int minor; /* fraction digits of the org's currency (set by the caller) */
} layout_scratch;

/* Fills rec from the (converted) row: fields, constants and defaults, the
 * amount from debit/credit. *hash gets a hash of the raw record (each
 * column's name and value, in any order) for rows without an id. False
 * with why. */
bool layout_record(const import_opts *o, const layout_t *l, const csv_row_t *row, record_t *rec,
                   layout_scratch *sc, uint64_t *hash, char *why, size_t whylen);

/* After entity_validate: applies --negate and the sign column to the
 * amount. False with why (a signed amount under a sign column, an empty
 * indicator). */
bool layout_sign(const import_opts *o, const layout_t *l, const csv_row_t *row, record_t *rec, char *why,
                 size_t whylen);

/* Appends to why ("; try --date-format %m/%d/%Y") the option that would
 * have read the value that entity_validate refused, if there is one. */
void layout_hint(const import_opts *o, const record_t *rec, char *why, size_t whylen);

/* Is v one of the comma-separated values of list (trimmed, any case)?
 * The test of --negative-values. */
bool layout_in_list(slice_t v, const char *list);

#endif
