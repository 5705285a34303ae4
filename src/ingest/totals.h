/* totals: a total or balance line among an export's rows ("TOTAL",
 * "Summe", "Saldo" with the sum of the rows above it) is not a
 * transaction; stored, it would double a month's figures. */
#ifndef BRISK_TOTALS_H
#define BRISK_TOTALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/entity.h"

/* The rows since the file's start or its last total line. Zero it. */
typedef struct {
	int64_t sum, pos, neg;
	uint64_t n;
} totals_run;

/* True (why says so) when rec, a valid row of kind k, is a total line: one
 * of its text fields is a total word (total, subtotal, summe, gesamt,
 * saldo, balance, totaal, somme, suma, razem...) and its amount is the sum
 * of the two or more rows before it (all, or only the credits or debits,
 * with or without sign). Otherwise the row is counted in t. */
bool totals_check(totals_run *t, entity_kind k, const record_t *rec, char *why, size_t whylen);

#endif
