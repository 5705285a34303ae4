/* split: one bank statement, both directions (--split). The file is read
 * as payments; a line with a negative amount (a debit) becomes a cost of
 * the same amount, positive, with the payer as vendor, the reference as
 * description and the category from a column (split_category) or
 * Uncategorised. Both kinds are written in the import's one transaction.
 *
 * A line that moves money between the owner's own accounts (a PayPal
 * withdrawal to the bank, a Stripe payout, a Revolut top-up, a rebooking
 * to the savings account) is neither a cost nor a customer's payment. It
 * is left out of both tables where the file says so: a type column
 * (Type, Typ, Buchungstext...) with such a value, or the other party's
 * account equal to an account the file is an export of (its Auftragskonto
 * / Rekening column). Those lines are counted and listed, never dropped
 * silently; keep_transfers stores them as before. */
#ifndef BRISK_SPLIT_H
#define BRISK_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/csv.h"
#include "ingest/entity.h"
#include "ingest/layout.h"
#include "ingest/options.h"

#define SPLIT_DEFAULT_CATEGORY "Uncategorised"
#define SPLIT_OWN_MAX 8 /* accounts a file of several accounts may hold */

typedef struct {
	int category;      /* the category column, or -1 */
	int kind;          /* a column naming the kind of line, or -1 */
	int own;           /* the exporting account's column, or -1 */
	int nown;          /* own accounts seen, SPLIT_OWN_MAX + 1: too many (not an own-account column) */
	char accounts[SPLIT_OWN_MAX][36];
	int64_t transfers; /* lines left out */
	uint64_t lines[5]; /* the first ones */
	char first[96];    /* what the first one was */
} split_plan_t;

/* Plans --split for header h (NULL: none; split_category is then a
 * 1-based position) and layout l. False with err when the named category
 * column is missing. Without --split the plan finds nothing. */
bool split_plan(const import_opts *o, const csv_row_t *h, const layout_t *l, split_plan_t *p, char *err,
                size_t errlen);

/* Notes the own account of a (converted) row of the sample, before any
 * row is judged, so a transfer to an account whose lines come later in
 * the file is known. */
void split_note(split_plan_t *p, const csv_row_t *row);

/* True if the validated payment pay (from the converted row) is a
 * transfer between own accounts to leave out; counts it. */
bool split_transfer(const import_opts *o, split_plan_t *p, const record_t *pay, const csv_row_t *row);

/* The warning about the transfers left out, or "" when none. */
void split_transfers_said(const split_plan_t *p, char *buf, size_t n);

/* True if the validated payment pay is a debit that goes to costs. */
bool split_is_debit(const import_opts *o, const record_t *pay);

/* Builds and validates the cost of debit pay (same id) from the converted
 * row. False with why (a foreign-currency debit: costs are in the org's
 * currency). */
bool split_cost(const record_t *pay, const csv_row_t *row, int col, const entity_parse_opts *parse, record_t *cost,
                char *why, size_t whylen);

#endif
