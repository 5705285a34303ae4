/* import: CSV rows of one entity kind into the store, per DATA.md: header
 * matching and mapping, per-row validation with line and reason, idempotent
 * upsert, the whole file in one transaction, constant memory. */
#ifndef BRISK_IMPORT_H
#define BRISK_IMPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ingest/csv.h"
#include "ingest/entity.h"
#include "store/store.h"

typedef enum { ENC_UTF8, ENC_CP1252, ENC_LATIN1, ENC_LATIN2, ENC_CP1250 } import_encoding;

typedef struct {
	entity_kind kind;
	int64_t org;
	char delimiter;               /* 0 = ',' */
	import_encoding encoding;
	int skip_lines;               /* lines before the header (or data) */
	bool no_header;               /* columns by position (map gives 1-based positions) */
	const char *map[ENTITY_MAXCOLS];    /* per entity column: the file's header name */
	const char *consts[ENTITY_MAXCOLS]; /* per entity column: a constant value */
	const char *debit;            /* header of a debit column: amount = credit - debit */
	const char *credit;
	entity_parse_opts parse;
	FILE *rejects;                /* if set, rejected rows are written here as CSV */
	bool dry_run;                 /* validate everything, store nothing */
	/* progress: called at most every 100 ms with bytes read and rows seen */
	void (*progress)(void *ud, uint64_t bytes, uint64_t rows);
	void *progress_ud;
	atomic_int *cancel;           /* set non-zero to abandon (nothing stored) */
	char *owned[4];               /* strings parsed by import_parse_map/consts */
	int nowned;
} import_opts;

#define IMPORT_KEEP_REJECTS 100

typedef struct {
	uint64_t line;
	char reason[160];
} import_rejection;

typedef struct {
	int64_t inserted, replaced, rejected;
	int nkept;                                 /* rejections kept below */
	import_rejection kept[IMPORT_KEEP_REJECTS]; /* the first ones, in order */
	double seconds;
} import_result;

/* Parses "field=Header,field2=\"Header, 2\"" into o->map (set o->kind
 * first); false with a reason. The strings belong to o: import_opts_free. */
bool import_parse_map(import_opts *o, const char *spec, char *why, size_t whylen);
/* Parses "field=value,..." into o->consts. */
bool import_parse_consts(import_opts *o, const char *spec, char *why, size_t whylen);
/* Frees what import_parse_map/consts allocated. */
void import_opts_free(import_opts *o);
/* "utf-8", "windows-1252"/"cp1252", "iso-8859-1"/"latin1", "iso-8859-2",
 * "windows-1250"/"cp1250". */
bool import_parse_encoding(const char *name, import_encoding *out);

/* Runs an import reading through fn. Returns 0 (rows committed, or none on
 * a dry run) or -1 when the file as a whole is unusable, the import was
 * cancelled or the store failed: nothing is stored and err says why (with
 * the line where it applies). Strings in o are borrowed. */
int import_run(store_t *s, csv_read_fn fn, void *ud, const import_opts *o, import_result *res, char *err,
               size_t errlen);

#endif
