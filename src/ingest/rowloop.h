/* rowloop: the parts of an import's row loop every importer shares (the
 * built-in entities' import.c and the data sets' dsimport.c): lines
 * skipped before the header, cancel and progress every 1024 rows, rejected
 * rows kept with line and reason (and written to the rejects file), the
 * --max-rejects limits, and occurrence numbers of repeated hashes. */
#ifndef BRISK_ROWLOOP_H
#define BRISK_ROWLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ingest/csv.h"
#include "ingest/import.h"
#include "ingest/options.h"

/* A csv_read_fn over fn/ud that drops the first lines_left LF-terminated
 * lines (skip=N). */
typedef struct {
	csv_read_fn fn;
	void *ud;
	int lines_left;
} rowloop_skip;

ssize_t rowloop_read_skipping(void *ud, char *buf, size_t n);

/* The loop's count of rows read and the time of its last progress report. */
typedef struct {
	const import_opts *o;
	uint64_t rows;
	double last;
} rowloop;

void rowloop_init(rowloop *l, const import_opts *o);

/* Counts a row read from r. Every 1024 rows: false (err says so) when the
 * import is cancelled; progress at most every 0.1 s. */
bool rowloop_next(rowloop *l, csv_reader_t *r, char *err, size_t errlen);

/* After the last row: a last progress report, then false (err set) when the
 * import was cancelled meanwhile. */
bool rowloop_end(rowloop *l, csv_reader_t *r, char *err, size_t errlen);

/* Writes the rejects file's header: line, reason and the file's own columns,
 * so the file can be fixed and imported again as it is. No-op without one. */
void rowloop_rejects_header(const import_opts *o, const csv_row_t *header);

/* Records a rejected row: counted, the first IMPORT_KEEP_REJECTS kept with
 * line and reason, and written with its original columns to o->rejects. */
void rowloop_reject(const import_opts *o, import_result *res, const csv_row_t *row, uint64_t line, const char *why);

/* --max-rejects N: true (err set: nothing is stored) past N rejections. */
bool rowloop_too_many(const import_opts *o, const import_result *res, uint64_t rows, char *err, size_t errlen);

/* --max-rejects N or P% judged on the whole file, after the last row. */
bool rowloop_too_many_final(const import_opts *o, const import_result *res, uint64_t rows, char *err,
                            size_t errlen);

/* Occurrence numbers of 64-bit hashes within one file: keys only, at most
 * 3/4 full (11 to 21 bytes a distinct hash); counts come at the first repeat.
 * Zero-initialise; rowloop_seq_free releases. */
typedef struct {
	uint64_t *keys;
	uint32_t *counts;
	size_t cap, n;
} rowloop_seq;

/* Occurrence of h so far in the file: 0 the first time. */
uint64_t rowloop_seq_next(rowloop_seq *m, uint64_t h);
void rowloop_seq_free(rowloop_seq *m);

/* The ids of one file, to refuse a repeat. While each id sorts after the
 * one before (most exports number their rows) it is new, exactly, and its
 * hash is only appended to a list (8 bytes a row, written in order); at
 * the first id that does not, the hashes go into a rowloop_seq, which
 * checks the rest. Zero-initialise; rowloop_ids_free releases. */
typedef struct {
	uint64_t *hashes; /* while in order */
	size_t n, cap;
	char *last;       /* the id before, while in order */
	size_t last_len, last_cap;
	bool unordered;
	rowloop_seq seen; /* once unordered */
} rowloop_ids;

/* True the first time id (h: its 64-bit hash) is seen in the file. */
bool rowloop_ids_new(rowloop_ids *m, const char *id, size_t len, uint64_t h);
void rowloop_ids_free(rowloop_ids *m);

#endif
