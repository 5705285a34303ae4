/* gen: a deterministic generator of realistic business data: the five CSV
 * files of DATA.md (costs, sales_orders, invoices, payments, leads) plus
 * truth.csv (payment_id,invoice_id, one row per invoice a payment settles;
 * a payment of no invoice has one row with an empty invoice_id), the
 * ground truth that the reconciliation benchmark scores matches against;
 * with accounts > 0 also accounts.csv (account,customer_id,kind: every
 * account a customer pays from, kind own, second or group; a group's
 * account is listed once per customer it pays for). The same options give
 * byte-identical files; accounts > 0 changes no other file's bytes but
 * payments.csv's extra column. */
#ifndef BRISK_GEN_H
#define BRISK_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"

#define GEN_SCALE_MAX 10000.0

typedef struct {
	double scale;  /* 1 = about 10,000 rows per entity; 0 < scale <= GEN_SCALE_MAX */
	uint64_t seed;
	date_t end;    /* last day of the two years of data */
	/* Issue 15 (all 0 by default, which keeps the historical bytes): */
	double batch;   /* share of payments that settle 2-4 invoices at once, 0..0.5 */
	double fees;    /* share of single payments short by a bank fee (within 2% and 10.00), 0..1 */
	double overpay; /* share of single payments above the invoice (up to +10%), 0..1 */
	/* Share of invoice payments that carry the payer's account (IBAN) in a
	 * payer_account column; > 0 also writes accounts.csv (gen_accounts.h). */
	double accounts;
	/* Optional (NULL = none): called now and then with the fraction done,
	 * in [0, 1], from the calling thread; the last call is with 1. */
	void (*progress)(void *ud, double frac);
	void *ud;
} gen_opts;

/* Rows written per file (headers excluded), and customers invented. */
typedef struct {
	uint64_t customers;
	uint64_t costs, sales_orders, invoices, payments, leads, truth, accounts;
} gen_counts;

/* Sets the defaults: scale 1, seed 42, end = date_today(), no progress. */
void gen_opts_init(gen_opts *o);

/* Writes costs.csv, sales_orders.csv, invoices.csv, payments.csv, leads.csv
 * and truth.csv into dir, creating dir (and missing parents) if needed and
 * replacing files of those names. Memory stays small apart from 32 bytes
 * per payment, kept to sort payments by date. counts may be NULL; else it
 * is filled on success. Returns 0, or -1 with a one-line message in err
 * (errlen bytes, may be 0) naming the file and the OS error, or the bad
 * option; files written so far are left in place. */
int gen_write(const char *dir, const gen_opts *o, gen_counts *counts, char *err, size_t errlen);

#endif
