/* dsinfer: a data set definition proposed from a file's header and first
 * rows (`brisk dataset create --infer FILE`, POST /api/v1/datasets/infer):
 * the time column and its grain, the numeric columns as exact measures
 * (money, integer, or decimal at the scale seen), text columns of
 * repeating values as dimensions, an id column unique in the sample as the
 * key; with the reason of each choice, for the user to confirm. */
#ifndef BRISK_DSINFER_H
#define BRISK_DSINFER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "ingest/options.h"

/* Reads up to the first 500 rows of csv (len bytes; a cut last line is
 * ignored) with o's delimiter (0 = the one the header uses most),
 * encoding and number and date formats; minor = the org currency's
 * decimals. Appends {"definition":{...},"preview":[...],"notes":[...]} to
 * out. False with why (no header, no time column, no measure). */
bool dsinfer_run(const char *csv, size_t len, const char *name, const import_opts *o, int minor, buf_t *out,
                 char *why, size_t whylen);

#endif
