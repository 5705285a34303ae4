/* entity: the five kinds of business rows of DATA.md, their columns, the
 * validation of one row, and its idempotent upsert into the store (with the
 * rollup deltas). Shared by the CSV importer and the JSON API. */
#ifndef BRISK_ENTITY_H
#define BRISK_ENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/money.h"
#include "store/rollup.h"
#include "store/store.h"

typedef enum { ENT_COSTS, ENT_SALES_ORDERS, ENT_INVOICES, ENT_PAYMENTS, ENT_LEADS, ENT__COUNT } entity_kind;

typedef enum { COL_TEXT, COL_DATE, COL_MONEY, COL_TIMESTAMP, COL_ENUM, COL_CURRENCY } col_type;

#define ENTITY_MAXCOLS 10
#define ENTITY_MAX_TEXT 2000 /* bytes; longer is rejected, never truncated */

typedef struct {
	const char *name;
	col_type type;
	bool required;
	const char *const *values; /* COL_ENUM: NULL-terminated allowed values */
	const char *deflt;         /* value when absent (NULL = none) */
} entity_col;

typedef struct {
	const char *name; /* "costs", ... as in URLs and CLI */
	store_table table;
	int ncols;
	entity_col cols[ENTITY_MAXCOLS]; /* cols[0] is always "id" */
} entity_def;

/* One row being imported: raw text per column (as given, trimmed) and the
 * parsed value (cents for money, days for dates). */
typedef struct {
	slice_t raw[ENTITY_MAXCOLS];
	bool present[ENTITY_MAXCOLS];
	bool parsed[ENTITY_MAXCOLS]; /* num already holds the value (computed, e.g. credit - debit) */
	int64_t num[ENTITY_MAXCOLS];
	timestamp_t ts;
	char idbuf[40]; /* holds a derived id when the row has none */
	char canon[ENTITY_MAXCOLS][16]; /* canonical lowercase enum values */
} record_t;

/* Parsing options for real-world exports (zero value = strict DATA.md). */
typedef struct {
	money_opts money;
	bool money_lenient; /* use money opts instead of the strict form */
	const char *date_format; /* strptime-like, NULL = YYYY-MM-DD; for every date and timestamp field */
	char currency[4];   /* the org's ISO 4217 currency ("" = USD): minor units and what is foreign */
} entity_parse_opts;

const entity_def *entity_get(entity_kind k);
/* By name ("costs", "sales_orders", ...); NULL if unknown. */
const entity_def *entity_by_name(const char *name, size_t len, entity_kind *kind);
/* Column index by name (case-insensitive, trimmed), or -1. */
int entity_col_index(const entity_def *d, const char *name, size_t len);

/* Index of kind k's currency column (invoices, payments), or -1. */
int entity_currency_col(entity_kind k);
/* Index of kind k's amount column, or -1 (leads: a value, no amount). */
int entity_amount_col(entity_kind k);
/* The currency r names before validation: its currency column, else an
 * ISO code written in its amount (with --currency); "" when it names none
 * (or an unknown one, which validation rejects). */
void entity_named_currency(entity_kind k, const record_t *r, const entity_parse_opts *o, char code[4]);

/* Validates r in place (parses dates and money with the minor units of the
 * row's currency, checks enums and required columns, fills defaults; the
 * currency column ends '' for the org's own currency, else the code). Returns true, or false with a one-line reason
 * in why (e.g. "bad amount '12,50': not a number"). */
bool entity_validate(entity_kind k, record_t *r, const entity_parse_opts *o, char *why, size_t whylen);

/* Derives an id for a row without one: a hash of its content, so that
 * re-importing the same file replaces instead of duplicating. seq tells
 * identical rows of one file apart. */
void entity_derive_id(entity_kind k, record_t *r, uint64_t seq);

/* Bulk inserts (PostgreSQL: COPY): NULL when the store has none. Rows are
 * added with entity_batch_add, then store_batch_run tells which went in:
 * give those to entity_inserted (their rollups), and run entity_upsert for
 * the others (they replace an existing row). */
store_batch_t *entity_batch_new(store_conn_t *w, entity_kind k);
void entity_batch_add(store_batch_t *b, entity_kind k, int64_t org, const record_t *r);
void entity_inserted(rollup_acc_t *acc, entity_kind k, const record_t *r);
/* The day a validated row of kind k is dated by (the key of its table's
 * date index and of its rollups). */
date_t entity_row_day(entity_kind k, const record_t *r);

/* Inserts or replaces one validated row of org inside an open write
 * transaction, adding its rollup deltas to acc. *replaced tells which.
 * Returns 0, or -1 with the store's reason in why. */
int entity_upsert(store_conn_t *w, entity_kind k, int64_t org, const record_t *r, rollup_acc_t *acc,
                  bool *replaced, char *why, size_t whylen);

/* entity_upsert for a row whose own deltas the caller already gave
 * entity_inserted (before knowing whether it would be new): acc gets only
 * the retraction of the row it replaces. */
int entity_upsert_counted(store_conn_t *w, entity_kind k, int64_t org, const record_t *r, rollup_acc_t *acc,
                          bool *replaced, char *why, size_t whylen);
/* The trigger that keeps a summary of kind k's rows on every INSERT
 * (invoices: open_recv_ins), or NULL. A bulk writer may suspend it
 * (store_suspend_trigger) and give each inserted row to entity_open_recv
 * instead (sign -1 takes one back). */
const char *entity_insert_trigger(entity_kind k);
void entity_open_recv(rollup_acc_t *acc, entity_kind k, int sign, const record_t *r);

/* Deletes one row by id (retracting rollups). Returns 1 deleted, 0 not
 * found, -1 on a store error. */
int entity_delete(store_conn_t *w, entity_kind k, int64_t org, const char *id, size_t idlen, rollup_acc_t *acc);

/* Recomputes an invoice's outstanding amount and derived status (open,
 * partial, paid; void stays void) from its allocations. 0 or -1. */
int entity_invoice_refresh(store_conn_t *w, int64_t invoice_rid);

/* The touch mask a write of kind k produces (payments/invoices also touch
 * allocations). */
unsigned entity_touch_mask(entity_kind k);

/* Longest payer_account accepted, in bytes as written (IBANs: 34 + spaces). */
#define ENTITY_ACCOUNT_MAX 64

/* A payer's account as it is stored and compared (issue 15): IBANs are
 * printed in groups of four and typed in any case, so blanks go and ASCII
 * letters are upper case ("de89 3704 0044" is "DE8937040044"). Writes at
 * most cap bytes to out; returns how many. */
size_t entity_norm_account(const char *s, size_t len, char *out, size_t cap);

#endif
