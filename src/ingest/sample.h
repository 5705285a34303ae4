/* sample: what the first rows of a file say about the import options,
 * before anything is written. A date format that rejects a large share of
 * the dates while another format reads them all, or a thousands separator
 * that is really the file's decimal mark, stops the import with the reason
 * and the option that fixes it. Also the hints that name that option in a
 * single row's rejection, and placeholder dates (1111-11-11). */
#ifndef BRISK_SAMPLE_H
#define BRISK_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/entity.h"
#include "ingest/options.h"

#define SAMPLE_ROWS 1000

typedef struct sample sample_t;

/* A sample for imports of o (borrowed until sample_free). Never fails. */
sample_t *sample_new(const import_opts *o);
void sample_free(sample_t *s);
/* Adds one row (its raw values, before validation) read on line. */
void sample_add(sample_t *s, const record_t *rec, uint64_t line);
/* False when the options cannot be right for the sample: err says why and
 * which option would fit. True otherwise; a warning (ambiguous day/month
 * order) may be written into warn (empty if none). */
bool sample_verdict(sample_t *s, char *err, size_t errlen, char *warn, size_t warnlen);
/* True if d looks like a placeholder rather than a real date: 1111-11-11,
 * 0001-01-01, 1900-01-01, 9999-12-31, or decades away from the sample's
 * median year. */
bool sample_placeholder(const sample_t *s, date_t d);

/* The common date formats of real exports, most frequent first (n gets
 * how many): what --detect tries. */
const char *const *sample_date_formats(size_t *n);

/* A date format among the common ones that reads v (NULL if none): the
 * hint of a rejected date. */
const char *sample_date_hint(slice_t v, const char *current);
/* The option that would read the amount v ("--decimal-comma", "--round",
 * "--currency", ...), NULL if none; current are the options in force. */
const char *sample_money_hint(slice_t v, const entity_parse_opts *current);

/* A hint for a header that lacks columns: the delimiter that splits it, or
 * the --skip that reaches a line naming the columns. head holds the first
 * bytes of the file. Writes "" when there is none. */
void sample_header_hint(const char *head, size_t len, const import_opts *o, const char *const *names, int nnames,
                        size_t header_fields, char *hint, size_t hintlen);

#endif
