/* split: one bank statement, both directions (--split). The file is read
 * as payments; a line with a negative amount (a debit) becomes a cost of
 * the same amount, positive, with the payer as vendor, the reference as
 * description and the category from a column (split_category) or
 * Uncategorised. Both kinds are written in the import's one transaction. */
#ifndef BRISK_SPLIT_H
#define BRISK_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest/csv.h"
#include "ingest/entity.h"
#include "ingest/options.h"

#define SPLIT_DEFAULT_CATEGORY "Uncategorised"

/* The file column of o->split_category in header h (NULL: no header, a
 * 1-based position), -1 when there is none to read. False with err when
 * the named column is missing. */
bool split_plan(const import_opts *o, const csv_row_t *h, int *col, char *err, size_t errlen);

/* True if the validated payment pay is a debit that goes to costs. */
bool split_is_debit(const import_opts *o, const record_t *pay);

/* Builds and validates the cost of debit pay (same id) from the converted
 * row. False with why (a foreign-currency debit: costs are in the org's
 * currency). */
bool split_cost(const record_t *pay, const csv_row_t *row, int col, const entity_parse_opts *parse, record_t *cost,
                char *why, size_t whylen);

#endif
