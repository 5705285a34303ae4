/* dsimport: a CSV file into a data set, through the importer's reader and
 * options (delimiter, encoding, skip, date and number formats, dry run,
 * max_rejects, the rejects file): each row checked with its line and
 * reason, the whole file one transaction with the rollups, idempotent by
 * the definition's key (a row with a known key replaces it) or, without
 * one, by content (the same rows imported again change nothing). */
#ifndef BRISK_DSIMPORT_H
#define BRISK_DSIMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/csv.h"
#include "ingest/import.h"
#include "ingest/options.h"
#include "store/store.h"

/* The import options a data set takes (HTTP query names; the CLI's are
 * the same with '-'), NULL-terminated. */
extern const char *const dsimport_option_names[];

/* Fills o (zeroed by the caller, org set) from name -> value lookups,
 * refusing the options that only mean something for the built-in kinds
 * (map, set, split...). Free with import_opts_free. False with why. */
bool dsimport_options(import_opts *o, const char *(*get)(void *ud, const char *name), void *ud, char *why,
                      size_t whylen);

/* Imports the file read through fn into data set name of o->org.
 * Returns 0 (committed, or validated only on a dry run), -1 when nothing
 * was stored (err says why: an unusable header, the store, too many
 * rejections, a cancel), -2 when the data set does not exist. */
int dsimport_run(store_t *s, const char *name, csv_read_fn fn, void *ud, const import_opts *o, import_result *res,
                 char *err, size_t errlen);

#endif
