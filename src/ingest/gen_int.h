/* gen_int: what the files of brisk gen share (internal to gen.c and
 * gen_sheets.c): the run's context and the row output helpers. */
#ifndef BRISK_GEN_INT_H
#define BRISK_GEN_INT_H

#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "ingest/gen.h"
#include "ingest/gen_batch.h"
#include "ingest/gen_names.h"

enum { F_COSTS, F_SALES, F_INVOICES, F_PAYMENTS, F_LEADS, F_TRUTH, F_ACCOUNTS, F_COUNT };

/* PRNG streams, one per use. */
enum { S_CUSTOMERS = 1, S_COSTS, S_SALES, S_INVOICES, S_PAYMENTS, S_LEADS, S_DAYS, S_ACCOUNTS };

typedef struct {
	gen_name name;
	char id[8];        /* "C00042" */
	double size;       /* median invoice amount, currency units */
	double delay_mean; /* days after the due date it usually pays */
	double delay_sd;
	double bad_debt;   /* chance an invoice is never paid */
	int terms;         /* payment terms, days */
	int64_t fee;       /* a fee some invoices repeat, at most monthly (ties, issue 21) */
	date_t fee_issue;  /* when it was last invoiced */
} customer;

typedef struct {
	int64_t amount;    /* 0 for unrelated payments until written */
	date_t date;
	uint32_t seq;      /* creation order: the unique tie-break of the sort */
	uint32_t invoice;  /* invoice row number, 1-based; 0 = belongs to none */
	uint32_t customer;
	uint32_t inv_seq;
	uint16_t inv_year;
	uint8_t part, nparts;
	uint32_t batch;    /* gen_batches index + 1 when it pays several invoices */
} pay_rec;

#define DAY_PAD 400 /* days cached as strings either side of the range */

typedef struct {
	const gen_opts *o;
	const char *dir;
	date_t start, end;
	uint32_t ndays;
	customer *cust;
	double *cust_cdf;
	size_t ncust;
	pay_rec *pays;
	size_t npays, cap_pays;
	gen_batches batches;
	double batch_p; /* chance an invoice joins a batch */
	FILE *f[F_COUNT];
	buf_t row, tmp, tmp2;
	char (*day_str)[DATE_BUFSZ];
	gen_counts n;
	uint64_t done, total, next_report;
	char *err;
	size_t errlen;
	int failed;
} ctx;

/* Row output: a date, cents as units, prefix + zero-padded number, a CSV
 * field (quoted when needed) from a buffer or a C string. */
void gen_put_date(ctx *c, buf_t *b, date_t d);
void gen_put_money(buf_t *b, int64_t cents);
void gen_put_id(buf_t *b, const char *prefix, uint64_t n, int width);
void gen_put_field(buf_t *b, const buf_t *text);
void gen_put_cfield(buf_t *b, const char *s);
/* Writes the row buffer (plus LF) to file f and empties it; 0 or -1 (c->err set). */
int gen_emit(ctx *c, int f);
/* Rows per day over the range (heap, caller frees): see gen.c. */
uint32_t *gen_day_counts(ctx *c, uint64_t stream, uint64_t target, double weekend);
/* Index of u in a cumulative table (the first entry > u). */
size_t gen_cdf_pick(const double *cdf, size_t n, double u);
/* A customer index drawn by the customers' weights. */
size_t gen_pick_customer(ctx *c, gen_rng *r);
/* units as cents, clamped to [min, max]. */
int64_t gen_cents_of(double units, int64_t min, int64_t max);

/* The sheets without relations (gen_sheets.c): 0 or -1 (c->err set). */
int gen_write_costs(ctx *c, uint64_t target);
int gen_write_sales(ctx *c, uint64_t target);
int gen_write_leads(ctx *c, uint64_t target);
/* accounts.csv, the payers' accounts' truth (gen_accounts.c): 0 or -1. */
int gen_write_accounts(ctx *c);

#endif
