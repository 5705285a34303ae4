/* expr: the small expression language of import recoding (--compute,
 * --where, the conditions of rules). Values are text or exact decimals
 * (a 128-bit integer and a scale: never floating point); conditions
 * compare, match regular expressions and combine with and/or/not.
 * Parsing is done once, before any row; names are bound by the caller to
 * slots it resolves per row. */
#ifndef BRISK_EXPR_H
#define BRISK_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/decimal.h"
#include "core/money.h"

typedef struct expr expr_t;

typedef enum {
	EXPR_VALUE, /* Sales - Profit, coalesce(engage_date, close_date), Price * 1.2 */
	EXPR_COND,  /* deal_stage != Lost and amount > 0, description ~ SALARY|PAYROLL */
} expr_mode;

/* Longest expression text accepted (bytes). */
#define EXPR_MAX_TEXT 4096

/* Parses len bytes of text. A condition stops before a top-level word
 * "then" (rules); *consumed (if not NULL) gets the bytes read, else the
 * whole text must be one expression. NULL with a reason naming the place
 * ("at 'x': expected ..."). The result belongs to the caller: expr_free. */
expr_t *expr_parse(const char *text, size_t len, expr_mode mode, size_t *consumed, char *why, size_t whylen);
void expr_free(expr_t *e);

/* The names the expression reads, in order of first use (each once):
 * header names as written ("Order Date" from [Order Date]) or "$3" for a
 * column by position. */
int expr_nnames(const expr_t *e);
const char *expr_name(const expr_t *e, int i);

typedef enum { EXPR_NULL, EXPR_TEXT, EXPR_NUM } expr_kind;

/* A value: empty text is EXPR_NULL (arithmetic on it gives EXPR_NULL,
 * coalesce skips it); a number is exact (decimal.h). */
typedef struct {
	expr_kind kind;
	slice_t text;
	decimal_t num;
} expr_val;

/* What evaluation reads: the text of name i is get(ud, slots[i]);
 * text is read as a number with money (NULL: the strict form) and as a
 * date with date_format (NULL: YYYY-MM-DD) where one is needed. */
typedef struct {
	slice_t (*get)(void *ud, int slot);
	void *ud;
	const int *slots;
	const money_opts *money;
	const char *date_format;
} expr_ctx;

/* Evaluates a value expression. False with why (a text operand that is
 * not a number, an overflow), naming the operand. */
bool expr_eval(const expr_t *e, const expr_ctx *c, expr_val *out, char *why, size_t whylen);
/* Evaluates a condition. Comparisons are numeric when both sides are
 * numbers, by date when both are dates, else text ignoring case and
 * spaces; an empty value is empty text. False with why only when an
 * arithmetic operand fails. */
bool expr_test(const expr_t *e, const expr_ctx *c, bool *out, char *why, size_t whylen);

/* Text equality as --values and conditions see it: ASCII case and all
 * whitespace ignored ("Closed  won" = "closedWon"). */
bool expr_text_same(slice_t a, slice_t b);

#endif
