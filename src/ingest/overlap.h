/* overlap: one account exported in two formats (a CSV-MT940 export, then
 * a CAMT-like one) gives its lines other derived ids (they hash the raw
 * record, whose columns differ), so months both files cover would be
 * stored twice. An id that ignores the format cannot be had safely: only
 * the date and the amount are common to every format (names and
 * references are cut and split differently; one format carries the
 * account, the other does not), and those two alone would merge equal
 * lines of two accounts. So the first rows of a file are looked up
 * before anything is written, and a file whose rows mostly twin rows of
 * another import is refused (allow_overlap stores it, with a warning):
 * a finance tool that stores a month's lines twice overstates every
 * figure built on them, and the user can always force it. */
#ifndef BRISK_OVERLAP_H
#define BRISK_OVERLAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/entity.h"
#include "ingest/options.h"
#include "store/store.h"

typedef struct overlap overlap_t;

/* For an import of o (payments or costs: NULL for the other kinds). */
overlap_t *overlap_new(const import_opts *o);
/* Keeps a validated, signed row of the sample that has no id of its own
 * (hash: its raw record's, which its derived id is made of). ov may be
 * NULL. */
void overlap_add(overlap_t *ov, const record_t *rec, uint64_t hash, uint64_t line);
/* Looks the rows kept up in the store (one read transaction). True with
 * warn filled when at least 3 rows, and half the rows dated within what is
 * stored, have a row of the same date and amount under another derived id
 * and none of their own. */
bool overlap_verdict(overlap_t *ov, store_t *s, int64_t org, char *warn, size_t warnlen);
void overlap_free(overlap_t *ov);

#endif
