/* options: what an import is told about a file (mapping, constants and
 * defaults, formats, sign conventions), read the same way from the CLI, the
 * HTTP query and a background task's JSON, and checked for contradictions
 * before any row is read. */
#ifndef BRISK_IMPORT_OPTIONS_H
#define BRISK_IMPORT_OPTIONS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ingest/entity.h"

typedef enum { ENC_UTF8, ENC_CP1252, ENC_LATIN1, ENC_LATIN2, ENC_CP1250 } import_encoding;

typedef struct {
	entity_kind kind;
	int64_t org;
	char delimiter;               /* 0 = ',' */
	import_encoding encoding;
	int skip_lines;               /* lines before the header (or data) */
	bool no_header;               /* columns by position (map gives 1-based positions) */
	const char *map[ENTITY_MAXCOLS];      /* per entity column: the file's header name */
	const char *consts[ENTITY_MAXCOLS];   /* per entity column: a constant value (--set) */
	const char *defaults[ENTITY_MAXCOLS]; /* per entity column: the value when empty (--default) */
	const char *debit;            /* header of a debit column: amount = credit - |debit| */
	const char *credit;
	bool negate;                  /* the file's amounts have the opposite sign (card statements) */
	const char *sign_column;      /* a column telling the sign (O/I, CR/DR, +/-) */
	const char *negative_values;  /* its values meaning negative, comma-separated */
	bool allow_duplicate_ids;     /* an id twice in the file: the last row wins */
	/* Recoding (recode.h), as given: per-field values, computed fields,
	 * the row filter and the rules; parsed into recode (owned). */
	const char *values, *compute, *where, *rules;
	struct recode *recode;
	entity_parse_opts parse;
	FILE *rejects;                /* if set, rejected rows are written here as CSV */
	bool dry_run;                 /* validate everything, store nothing */
	/* --max-rejects: more rejected rows than this stores nothing */
	enum { MAXREJ_NONE, MAXREJ_COUNT, MAXREJ_PERCENT } max_rejects_kind;
	int64_t max_rejects;          /* rows, or hundredths of a percent */
	bool split;                   /* payments import of a bank statement: debits go to costs */
	const char *split_category;   /* --split: the column giving a cost's category */
	bool allow_overlap;           /* store a file whose rows twin another import's (overlap.h) */
	bool keep_transfers;          /* --split: store transfers between own accounts as costs and payments */
	/* called for each row as it would be stored (dry-run previews) */
	void (*preview)(void *ud, entity_kind kind, const record_t *rec, uint64_t line);
	void *preview_ud;
	/* progress: called at most every 100 ms with bytes read and rows seen */
	void (*progress)(void *ud, uint64_t bytes, uint64_t rows);
	void *progress_ud;
	atomic_int *cancel;           /* set non-zero to abandon (nothing stored) */
	char *owned[8];               /* strings parsed by import_parse_map/consts/defaults */
	int nowned;
} import_opts;

/* The option names import_options_parse reads, as in the HTTP query
 * (the CLI's long options are the same with '-' for '_'); NULL-terminated. */
extern const char *const import_option_names[];

/* Fills o (zeroed by the caller, kind set) from name -> value lookups:
 * map, set, default, delimiter, encoding, skip, no_header, date_format,
 * decimal_comma, thousands, currency, plus, parens, round, debit, credit,
 * negate, sign_column, negative_values, allow_duplicate_ids, dry_run,
 * values, compute, where, rules (recode.h), max_rejects (N or P%), split,
 * split_category, keep_transfers, allow_overlap (profile and detect are read by prepare.c, before;
 * listed so every caller accepts them). Flags
 * take 1/true/yes/0/false/no. Then checks the options against each other
 * (import_options_check). Strings stay borrowed from get's source except
 * the parsed lists (import_opts_free). False with a reason. */
bool import_options_parse(import_opts *o, const char *(*get)(void *ud, const char *name), void *ud, char *why,
                          size_t whylen);

/* Refuses options that contradict each other (a field both set and mapped,
 * the same column as debit and credit, a thousands separator equal to the
 * decimal mark, a bad date format...). False with a reason. */
bool import_options_check(const import_opts *o, char *why, size_t whylen);

/* A hash of the options that decide what a file's rows become (mapping,
 * formats, signs): two imports of one file with different hashes read it
 * differently. */
uint64_t import_options_hash(const import_opts *o);

/* Parses "field=Header,field2=\"Header, 2\"" into o->map (set o->kind
 * first); false with a reason (also for a field given twice). The strings
 * belong to o: import_opts_free. */
bool import_parse_map(import_opts *o, const char *spec, char *why, size_t whylen);
/* Parses "field=value,..." into o->consts. */
bool import_parse_consts(import_opts *o, const char *spec, char *why, size_t whylen);
/* Parses "field=value,..." into o->defaults. */
bool import_parse_defaults(import_opts *o, const char *spec, char *why, size_t whylen);
/* Frees what the parsers above allocated (and o->recode). */
void import_opts_free(import_opts *o);
/* "utf-8", "windows-1252"/"cp1252", "iso-8859-1"/"latin1", "iso-8859-2",
 * "windows-1250"/"cp1250". */
bool import_parse_encoding(const char *name, import_encoding *out);

#endif
