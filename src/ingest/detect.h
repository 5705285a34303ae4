/* detect: the import options a file needs, chosen from its first bytes
 * (never the whole file): encoding, delimiter, lines before the header or
 * no header, the column of each field by its name in common languages,
 * the date format (decided by the values), decimal mark, thousands
 * separator, currency symbols, signs (+, parentheses, an indicator column,
 * separate debit and credit columns). What it chose comes back as options
 * (the API names) with a confidence; when two readings fit the sample
 * equally and mean different things it refuses with the candidates rather
 * than guess. */
#ifndef BRISK_DETECT_H
#define BRISK_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest/entity.h"
#include "ingest/optlist.h"

/* Bytes of a file detection looks at, at most (and 1000 rows). */
#define DETECT_MAX_BYTES (1u << 20)
#define DETECT_MAX_COLUMNS 64

typedef struct {
	optlist opts;      /* the options chosen, only those the caller left out */
	int confidence;    /* 0-100 */
	char notes[1024];  /* why, one short clause per decision ("; "-separated) */
	int ncolumns;      /* the header's columns (or "1".."n" without one) */
	char *columns[DETECT_MAX_COLUMNS];
} detect_result;

/* Detects how to import head (the first len bytes of a file; eof: that is
 * the whole file) as kind. given reads the options the caller fixed
 * (NULL = none): they are kept and detection works around them. Returns
 * true with r filled, or false with why (the candidates when unsure, or
 * what is missing). r is freed with detect_free either way. */
bool detect_run(entity_kind kind, const char *head, size_t len, bool eof, const char *(*given)(void *ud, const char *name),
                void *ud, detect_result *r, char *why, size_t whylen);
void detect_free(detect_result *r);

#endif
