/* analytics: the dashboard views of DATA.md "Dashboard figures" and the
 * entity lists, serialised as JSON objects.
 *
 * Every view reads one store_conn_t the caller opened with store_read_begin,
 * so all views of one request see one snapshot. Views read rollups (the
 * fast path) unless params.naive is set, in which case they recompute the
 * same figures from the base tables (the reference the tests compare to,
 * byte for byte). Money is integer cents, dates "YYYY-MM-DD". */
#ifndef BRISK_ANALYTICS_H
#define BRISK_ANALYTICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/date.h"
#include "ingest/entity.h"
#include "store/store.h"

typedef struct {
	int64_t org;             /* from the authenticated caller, never the request */
	date_t from, to;         /* inclusive; from <= to */
	interval_t interval;     /* cashflow buckets */
	date_t as_of;            /* aging, dso, overview receivables */
	date_t day;              /* leads summary day */
	int top;                 /* breakdown/top customers: top N, then "other" */
	bool naive;              /* compute from base tables instead of rollups */
	int64_t opening_balance; /* orgs.opening_balance */
} analytics_params;

/* Fills the documented defaults: interval month, as_of = day = to, top 10,
 * naive false, opening_balance 0. The caller then overrides what it has. */
void analytics_params_init(analytics_params *p, int64_t org, date_t from, date_t to);

/* Each view appends one JSON object to out and returns 0, or returns -1 with
 * a one-line reason in err (bad parameters, store error); out may then hold
 * a partial object, which the caller discards. The caller owns out and c. */

/* {"from","to","cash_in","cash_out","net","opening_balance","closing_balance",
 *  "sales","sales_count","outstanding","overdue","open_invoices","open_leads",
 *  "followups_due","previous":{"from","to","cash_in","cash_out","net","sales"},
 *  "change":{"cash_in","cash_out","net","sales"}} (percent, one decimal, or
 * null when the previous figure is 0). */
int analytics_overview(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen);

/* {"from","to","interval","opening_balance","buckets":[{"start","end",
 *  "inflow","outflow","net","balance"}...]}: every bucket intersecting
 * [from, to], clipped, empty ones included; balance = balance(end). */
int analytics_cashflow(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen);

/* {"of","by","from","to","total":{"count","amount"},"items":[{"key","count",
 *  "amount"}...],"other":{"count","amount"}}: of "costs" by "category" or
 * "vendor", of "sales" by "status" (cancelled included) or "customer"
 * (cancelled excluded). Items by amount desc, ties by key (bytewise); the
 * top p->top, the rest summed into other. Unknown of/by: -1. */
int analytics_breakdown(store_conn_t *c, const analytics_params *p, const char *of, const char *by, buf_t *out,
                        char *err, size_t errlen);

/* {"as_of","buckets":{"current","1_30","31_60","61_90","over_90"},"total"},
 * each {"count","amount"} of invoices outstanding at p->as_of. */
int analytics_aging(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen);

/* {"date","creators":[{"creator","created","by_status":{six statuses},
 *  "followups_due","overdue_followups"}...]} sorted by creator (bytewise);
 * date = p->day; created/by_status over leads created in [from, to]. */
int analytics_leads_summary(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen);

/* {"from","to","items":[{"customer","amount","count"}...]}: the top p->top
 * customers by sales (cancelled excluded), ties by name. */
int analytics_top_customers(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen);

/* {"as_of","outstanding","invoiced_90d","dso"}: dso = outstanding /
 * invoiced over [as_of-89, as_of] x 90, one decimal, null when nothing was
 * invoiced. */
int analytics_dso(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen);

/* {"from","to","customers":[{"customer","invoices_paid","avg_days_late",
 *  "share_late"}...]} over paid invoices with due_date in [from, to]; the
 * completing payment is the latest pay_date of the invoice's allocations.
 * Slowest payers first (avg_days_late desc, ties by name). */
int analytics_payment_behaviour(store_conn_t *c, const analytics_params *p, buf_t *out, char *err,
                                size_t errlen);

/* Everything the Overview page shows: {"overview","cashflow",
 * "costs_by_category","sales_by_status","aging","top_customers","dso"},
 * each the object of the view above. */
int analytics_dashboard(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen);

/* Every SQL text the fast (rollup) path and the lists prepare, for the
 * EXPLAIN QUERY PLAN test. Static storage; *n gets the count. */
const char *const *analytics_statements(size_t *n);

/* ---- entity lists ---- */

typedef enum {
	ANALYTICS_SORT_DATE_DESC = 0, /* the default */
	ANALYTICS_SORT_DATE_ASC,
	ANALYTICS_SORT_AMOUNT_DESC,
	ANALYTICS_SORT_AMOUNT_ASC,
} analytics_sort;

/* Field bit for the invoices' derived "outstanding" column; the other bits
 * are 1 << (column index in entity_get(k)->cols). */
#define ANALYTICS_FIELD_OUTSTANDING (1u << ENTITY_MAXCOLS)

typedef struct {
	int64_t org;
	bool has_from, has_to;   /* on the entity's date column */
	date_t from, to;
	/* Equality filters, NUL-terminated, NULL = any. An entity without the
	 * column fails the call (payments: customer matches payer). */
	const char *category, *status, *customer, *creator, *vendor;
	bool has_min, has_max;   /* on amount (leads: value, absent = 0) */
	int64_t min_amount, max_amount;
	const char *q;           /* case-insensitive (ASCII) substring over text columns */
	analytics_sort sort;
	int limit;               /* 1..1000; 0 = 100 */
	const char *cursor;      /* next_cursor of the previous page; NULL = first */
	uint32_t fields;         /* column bits; 0 = all; "id" is always included */
} analytics_list_params;

/* Zero value with the org set: every row, date desc, 100 per page. */
void analytics_list_params_init(analytics_list_params *lp, int64_t org);

/* A filter's text value by name, or NULL when absent (a query string, a
 * task's JSON params, the command line). */
typedef const char *(*analytics_get_fn)(void *ud, const char *name);
/* Sets lp's filters, sort and fields of kind k from what get returns, with
 * the list API's rules and messages (limit and cursor are the caller's).
 * Strings stay borrowed from get's source. False with a reason. */
bool analytics_list_filters(analytics_list_params *lp, entity_kind k, analytics_get_fn get, void *ud, char *why,
                            size_t whylen);

/* The field bit of column NAME of entity k ("outstanding" for invoices
 * too), or 0 if the entity has no such column. */
uint32_t analytics_field_bit(entity_kind k, const char *name, size_t len);
/* How many of the entity's columns (entity_def order) a list or an export
 * shows: DATA.md's, not import-only fields such as payer_account; also
 * never more than the entity describes. */
int analytics_list_ncols(entity_kind k);

/* Appends {"items":[{...}],"next_cursor":"..."|null}: one page of rows of
 * kind k, keyset-paginated (a deep page costs what the first does). Rows
 * carry DATA.md column names, money in cents, dates "YYYY-MM-DD"; invoices
 * also "outstanding"; leads' created_at as stored. Returns 0, or -1 with a
 * reason (invalid cursor, limit out of range, filter the entity lacks). */
int analytics_list(store_conn_t *c, entity_kind k, const analytics_list_params *lp, buf_t *out, char *err,
                   size_t errlen);

#endif
