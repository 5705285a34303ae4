/* currency: the ISO 4217 list (active codes and their minor units), so
 * every amount is read and printed with its currency's decimals. */
#ifndef BRISK_CURRENCY_H
#define BRISK_CURRENCY_H

#include <stdbool.h>
#include <stddef.h>

/* Minor units (fraction digits: JPY 0, USD 2, KWD 3, CLF 4) of an ISO 4217
 * code of len bytes, matched case-insensitively; -1 when it is not an
 * active code. */
int currency_minor(const char *code, size_t len);

/* Copies the upper-case code into out[4] when code is an active ISO 4217
 * code; false (out untouched) otherwise. */
bool currency_canon(const char *code, size_t len, char out[4]);

/* The default currency of an organisation that never set one. */
#define CURRENCY_DEFAULT "USD"

#endif
