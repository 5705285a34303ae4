/* decimal: exact decimal numbers, a 128-bit integer and a decimal scale
 * (value = num / 10^scale), for computed import fields: sums of amounts
 * with up to 9 decimals and products by decimal constants never lose a
 * digit. Never floating point; every operation checks overflow. */
#ifndef BRISK_DECIMAL_H
#define BRISK_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/money.h"

typedef struct {
	__int128 num;
	int scale; /* 0..DECIMAL_MAX_SCALE */
} decimal_t;

#define DECIMAL_MAX_SCALE 36

/* Reads len bytes of text as a number with money's export options (NULL:
 * the strict form), at the finest scale it needs (2 to 9 decimals, so
 * "0.125" is exact and large amounts still fit). False if it is not one. */
bool decimal_parse(const char *s, size_t len, const money_opts *mo, decimal_t *out);

/* a + b, a - b, a * b; false on overflow (or a scale past the maximum). */
bool decimal_add(decimal_t a, decimal_t b, decimal_t *out);
bool decimal_sub(decimal_t a, decimal_t b, decimal_t *out);
bool decimal_mul(decimal_t a, decimal_t b, decimal_t *out);
/* -1, 0 or 1, exactly (also when one side cannot be scaled to the other). */
int decimal_cmp(decimal_t a, decimal_t b);

/* Plain decimal text ("-12.50", to the value's scale) into buf of n bytes
 * (DECIMAL_BUFSZ is always enough); returns the length written. */
#define DECIMAL_BUFSZ 64
size_t decimal_format(decimal_t v, char *buf, size_t n);

typedef enum { DECIMAL_OK, DECIMAL_INEXACT, DECIMAL_BOUND } decimal_status;

/* v in units of 10^-minor (minor 0..9): exact, or rounded half-to-even
 * with round; DECIMAL_INEXACT when it needs rounding without round,
 * DECIMAL_BOUND when |result| is not below MONEY_MAX_ABS. *out is written
 * on DECIMAL_OK only. */
decimal_status decimal_to_minor(decimal_t v, int minor, bool round, int64_t *out);

#endif
