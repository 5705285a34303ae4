/* jput: the JSON pieces explanations and the review list are written
 * from (match/explain.c, match/proposals.c): money as integer cents, as
 * everywhere in the API, dates as "YYYY-MM-DD", a statement's text column
 * as a JSON string, object keys with their commas. */
#ifndef BRISK_JPUT_H
#define BRISK_JPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/date.h"
#include "store/store.h"

void jput_money(buf_t *b, int64_t cents);
void jput_date(buf_t *b, date_t d);
/* Column col of the current row of st, as a JSON string. */
void jput_text(buf_t *b, store_stmt_t *st, int col);
/* "k": after a comma unless *first (then cleared). */
void jput_key(buf_t *b, bool *first, const char *k);

/* A key and the column of st it takes its value from, of a kind:
 * JPUT_TEXT, JPUT_MONEY (integer cents), JPUT_DATE (days) or JPUT_CONF (a
 * confidence, 3 decimals). */
enum { JPUT_TEXT, JPUT_MONEY, JPUT_DATE, JPUT_CONF };
typedef struct {
	const char *key;
	int col, kind;
} jput_field;
/* Appends fields f[0..n) of st's current row, as jput_key does. */
void jput_fields(buf_t *b, bool *first, store_stmt_t *st, const jput_field *f, size_t n);

#endif
