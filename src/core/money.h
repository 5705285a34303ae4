/* money: exact amounts as int64 minor units (cents). Never floating point. */
#ifndef BRISK_MONEY_H
#define BRISK_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	MONEY_OK = 0,
	MONEY_EMPTY,     /* no digits at all */
	MONEY_SYNTAX,    /* not a number in the accepted form */
	MONEY_PRECISION, /* more than 2 fraction digits (strict form) */
	MONEY_OVERFLOW,  /* does not fit in int64 cents */
	MONEY_BOUND,     /* fits int64 but |amount| >= MONEY_MAX_ABS (not returned by the parsers) */
} money_status;

/* A stored amount is below 10^15 cents (10 trillion units) in magnitude: far
 * above any real business figure, and small enough that the totals of an
 * org, bounded in turn by rollup (ROLLUP_MAGNITUDE_MAX), never overflow. */
#define MONEY_MAX_ABS INT64_C(1000000000000000)

/* True when |cents| < MONEY_MAX_ABS. */
static inline bool money_in_bounds(int64_t cents)
{
	return cents > -MONEY_MAX_ABS && cents < MONEY_MAX_ABS;
}

/* Options for real-world exports (DATA.md "Real-world exports"); the zero
 * value plus decimal='.' is the strict canonical form. */
typedef struct {
	char decimal;       /* '.' (default when 0) or ',' */
	char thousands;     /* 0 = none accepted; else ',', '.', ' ', '\'' */
	bool symbols;       /* accept currency symbols/codes ($, €, £, RM, USD...) */
	bool plus;          /* accept a leading '+' */
	bool parens;        /* "(12.50)" means -12.50 */
	bool round;         /* >2 fraction digits are rounded half-to-even, not rejected */
	bool trailing_minus; /* "38,50-" (SAP, mainframe statements) means -38.50 */
} money_opts;

/* Parses the strict DATA.md form: optional '-', digits, optional '.' and 1-2
 * digits. Rejects "1e5", "12,50", "1.234", "--1", "+1", ".5", "5.", blanks
 * inside, and overflow; "-0" is 0. Leading/trailing ASCII spaces (' ' only,
 * not tabs) are trimmed. Empty or all-space input is MONEY_EMPTY; a lone "-"
 * is MONEY_SYNTAX. Checks run in the order syntax, precision, overflow, so a
 * malformed 30-digit string is MONEY_SYNTAX. Writes *out only on MONEY_OK. */
money_status money_parse(const char *s, size_t len, int64_t *out);

/* Parses with export options (see money_opts). NULL opts = money_parse.
 * Around the number, in any order and each at most once: a currency symbol or
 * code (case-insensitive, before or after, spaces allowed next to it), a sign
 * ('-', or '+' with plus; with trailing_minus also a '-' after the number)
 * and, with parens, "(...)" meaning negative; a sign inside or beside
 * parentheses, or two signs, are rejected. Thousands separators must sit
 * between a 1-3 digit leading group and exact 3-digit groups ("1,234,567";
 * no separators at all is also fine); with thousands ' ' the no-break spaces
 * U+00A0 and U+202F count too, with '\'' also U+2019. thousands equal to
 * decimal is ignored. The number needs a digit before the decimal mark and
 * one after it (".5" and "5." are rejected). Rounding is half-to-even on the
 * magnitude, so "-0.125" gives -12. */
money_status money_parse_opts(const char *s, size_t len, const money_opts *o, int64_t *out);

/* Like money_parse_opts (NULL opts = the strict form's syntax) but in units
 * of 10^-digits (2..9): exact sub-cent values, e.g. debit and credit
 * subtracted before one rounding. Digits past digits are rounded only with
 * o->round (else MONEY_PRECISION). */
money_status money_parse_units(const char *s, size_t len, const money_opts *o, int digits, int64_t *out);
/* Rounds units of 10^-digits to cents, half-to-even. */
int64_t money_round_units(int64_t v, int digits);

/* The most fraction digits an ISO 4217 currency has (CLF, UYW). */
#define MONEY_MAX_MINOR 4

/* money_parse_opts (o NULL = the strict form) for a currency with minor
 * fraction digits (0-4, see currency.h): "1500" is 1500 for JPY (0), "1.234"
 * is 1234 for KWD (3); more fraction digits than minor is MONEY_PRECISION
 * unless o->round. With o->symbols, the currency written in the value is
 * reported in code (if not NULL): an ISO 4217 code upper-cased, the code of
 * an unambiguous symbol (€ EUR, zł PLN, RM MYR...), or "" (none, or a
 * shared symbol such as "$"); it is reported for MONEY_PRECISION and
 * MONEY_OVERFLOW too, so a caller can retry with that code's minor units. */
money_status money_parse_minor(const char *s, size_t len, const money_opts *o, int minor, int64_t *out,
                               char code[4]);

/* Formats cents as "-1234.50" into buf (at least MONEY_BUFSZ bytes);
 * returns the length written (NUL-terminated). Never fails, INT64_MIN
 * included; the output always parses back with money_parse. */
#define MONEY_BUFSZ 24
size_t money_format(int64_t cents, char *buf);
/* The same for a currency with minor fraction digits (0-4): "1500" for
 * JPY, "1.234" for KWD. Out-of-range minor formats with 2. */
size_t money_format_minor(int64_t v, int minor, char *buf);

/* A short English reason for a status, e.g. "more than 2 decimal places". */
const char *money_strerror(money_status st);

/* Adds with overflow detection: returns false (and leaves *acc) on overflow. */
bool money_add(int64_t *acc, int64_t v);

#endif
