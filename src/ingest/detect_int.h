/* detect_int: what detect.c (structure: encoding, delimiter, header,
 * columns by name) and the modules of what the values say share:
 * detect_values.c (amounts, signs, columns of a file without a header),
 * detect_dates.c, detect_fees.c (gross, fee, net), detect_sides.c (which
 * way the money moves) and detect_status.c (status words). Internal to
 * detection. */
#ifndef BRISK_DETECT_INT_H
#define BRISK_DETECT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/money.h"
#include "ingest/detect.h"
#include "ingest/detect_names.h"

#define MAX_ROWS 1100

/* The sample as rows of cells (copies, NUL-terminated in text). */
typedef struct {
	buf_t text;
	size_t *off;    /* per cell: offset in text */
	int *first, *n; /* per row: first cell, cell count */
	uint64_t *line; /* per row: its first line */
	int nrows, ncells, capcells;
} grid;

/* One detection: its inputs, the sample and what was decided so far. */
typedef struct {
	detect_result *r;
	entity_kind kind;
	const char *(*given)(void *ud, const char *name);
	void *ud;
	char *why;
	size_t whylen;
	buf_t utf8;       /* the sample in UTF-8 */
	grid g;
	int header;       /* row of the header, -1 without one */
	int data;         /* first data row */
	int width;        /* columns of the data rows */
	int col[ENTITY_MAXCOLS]; /* per field: its column, or -1 */
	bool mapped[ENTITY_MAXCOLS]; /* the caller maps this field (col is its column) */
	int debit, credit, indicator, category;
	money_opts money;
	bool signed_values; /* some amount is negative */
} ctx;

/* The text of a cell ("" past the row's end). */
const char *dt_cell(const grid *g, int row, int col);
/* How an option names column col: its header, or its position (written
 * into pos) in a file without one. */
const char *dt_col_name(const ctx *c, int col, char pos[16]);
/* An option the caller fixed, or NULL. */
const char *dt_given(ctx *c, const char *name);
/* Adds a clause to the notes and takes cost off the confidence. */
void dt_note(ctx *c, int cost, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sets an option detection chose. */
void dt_choose(ctx *c, const char *name, const char *value);
/* Share of data rows whose cell col is not empty, in percent. */
int dt_filled(const ctx *c, int col);
/* The best unused column for role (-1 if none names it, or no header). */
int dt_best_column(ctx *c, detect_role role, const bool *used);
/* Marks the columns the fields read so far (CSV_MAX_FIELDS entries). */
void dt_used_columns(const ctx *c, bool *used);
/* Does the caller give field (in map, set or default)? */
bool dt_user_gives(ctx *c, const char *field);

/* detect_values.c (the status columns: detect_status.c) */
/* The decimal mark a value shows: ',' or '.' followed by 1-2 digits at the
 * end (or the last of two different marks); 0 when it does not say. */
char dt_decimal_of(const char *v);
/* Up to cap values of column col in the data rows (non-empty; not the
 * header's own name, which exports of several pages repeat). */
int dt_values(const ctx *c, int col, const char **out, int cap);
/* A value that reads as a date or an amount in a common format. */
bool dt_looks_like_data(const char *v);
/* Do column col's values fit role (dates for a date, amounts for an
 * amount, some text for a text)? True when the sample cannot tell. */
bool dt_values_fit(const ctx *c, detect_role role, int col);
/* Is every value of column col a debit/credit word (Chase's Details of
 * DEBIT and CREDIT)? Such a column names no one and references nothing. */
bool dt_direction_words(const ctx *c, int col);
/* Without a header: the fields' columns by their values. False with why
 * when a debit and a credit column cannot be told apart. */
bool dt_map_by_content(ctx *c);
/* Decimal mark, thousands separator, symbols, signs of the amounts. */
bool dt_pick_money(ctx *c);
/* An indicator column, debit/credit, --negate for costs (false with why
 * when a sign column's values cannot be read). */
bool dt_pick_signs(ctx *c);

/* An invoice export's status column, when it says some invoices are
 * void (Void, Cancelled, Draft, Storniert...): mapped, its words recoded
 * to open/void with values. Unknown words: noted, not mapped. */
void dt_pick_invoice_status(ctx *c);
/* A sales order or lead file's status column in brisk's words (recoded
 * with values), or by default completed orders, new leads when it has
 * none; false with why when a word is unknown. */
bool dt_pick_status(ctx *c);

/* detect_sides.c */
/* Among a headerless file's amount columns, a debit and a credit column
 * (c->debit, c->credit), told by a running balance; false with why when
 * two such columns have no balance to tell them apart. */
bool dt_split_sides(ctx *c, const int *money, int nmoney);
/* A costs file whose sample brings in as much money as goes out is a bank
 * statement: false with why (the payments --split command); a smaller
 * share of money in is noted (refunds). */
bool dt_costs_one_way(ctx *c);
/* A card's statement (most amounts positive, negative ones worded as the
 * card's repayment): those left out with where, and for payments the
 * charges negated (money out). True when it is one. */
bool dt_card_statement(ctx *c);

/* detect_dates.c */
/* The date format that reads every date (false with why when none, or
 * when two disagree and the file's language, date separator and decimal
 * mark do not tell the day's place, or contradict each other). */
bool dt_pick_dates(ctx *c);

/* detect_fees.c */
/* A payment processor's gross, fee and net columns: the amount is the net
 * (what reached the account), from its column or computed; false with the
 * candidates when the fee's sign cannot be told. */
bool dt_pick_net(ctx *c);

#endif
