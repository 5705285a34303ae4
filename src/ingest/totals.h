/* totals: a total or balance line among an export's rows ("TOTAL",
 * "Summe", "Saldo" with the sum of the rows above it) is not a
 * transaction; stored, it would double a month's figures. */
#ifndef BRISK_TOTALS_H
#define BRISK_TOTALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/csv.h"
#include "ingest/entity.h"
#include "ingest/layout.h"

/* The rows since the file's start or its last total line. Zero it. */
typedef struct {
	int64_t sum, pos, neg; /* the valid rows */
	uint64_t n;
	/* the valid rows and the rejected ones whose amount reads: a total
	 * line counts every row of its export, a row we refused included */
	int64_t all, apos, aneg;
	bool rejected; /* a rejected row with an amount is in all */
} totals_run;

/* True (why says so) when rec, a valid row of kind k, is a balance line
 * (a text field is just "Anfangssaldo", "Opening balance", "Saldo
 * anterior"...: refused whatever its amount) or a total line: one
 * of its text fields is a total word (total, subtotal, summe, gesamt,
 * saldo, balance, totaal, somme, suma, razem...) and its amount is the sum
 * of the two or more rows before it (all, or only the credits or debits,
 * with or without sign; the rows rejected for another reason counted or
 * not). Otherwise the row is counted in t. */
bool totals_check(totals_run *t, entity_kind k, const record_t *rec, char *why, size_t whylen);
/* Is the cell v a total word or a balance phrase ("Total Utilities",
 * "TOTAL", "Anfangssaldo")? Detection leaves such rows out of its sample. */
bool totals_word(const char *v, size_t len);

/* Counts a row rejected for another reason (a bad date, a missing field)
 * by its amount as written, when that reads with o's options through
 * layout l: the total line below it sums it too. row: the row in UTF-8. */
void totals_rejected(totals_run *t, const import_opts *o, const layout_t *l, const csv_row_t *row, int minor);

#endif
