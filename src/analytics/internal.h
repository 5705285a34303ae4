/* internal: helpers shared by the analytics files (not part of the public
 * face; only src/analytics/ includes this). */
#ifndef BRISK_ANALYTICS_INTERNAL_H
#define BRISK_ANALYTICS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analytics/analytics.h"
#include "analytics/reads.h"
#include "core/buf.h"
#include "core/date.h"
#include "store/store.h"

/* The widest range "all history" stands for; both are month edges so that
 * an all-history sum reads monthly rollup rows only. */
#define AN_DATE_MIN ((date_t)-719162)  /* 0001-01-01 */
#define AN_DATE_MAX ((date_t)2932896)  /* 9999-12-31 */

/* A keyed (count, amount) pair: a dim of a rollup, a customer... */
typedef struct {
	char *key;
	size_t klen;
	int64_t cnt, total;
} an_item;

typedef struct {
	an_item *v;
	size_t n, cap;
	uint32_t *slot; /* hash index over v (index + 1; 0 = empty) */
	size_t nslot;
} an_items;

/* Adds (cnt, total) to the item with this key, creating it (key copied). */
void an_items_add(an_items *l, const char *key, size_t klen, int64_t cnt, int64_t total);
/* Sorts by key (bytewise). */
void an_items_sort_key(an_items *l);
/* Sorts by total desc, ties by key bytewise. */
void an_items_sort_amount(an_items *l);
/* Finds an item by key, or NULL. */
an_item *an_items_find(an_items *l, const char *key, size_t klen);
void an_items_free(an_items *l);

/* Appends "YYYY-MM-DD" with quotes. */
void an_put_date(buf_t *b, date_t d);
/* Appends num/den rounded half away from zero to `decimals` places as a
 * JSON number (den != 0; "0.0", never "-0.0"). */
void an_put_ratio(buf_t *b, int64_t num, int64_t den, int decimals);
/* Same with num scaled by mul first (exact, 128-bit). */
void an_put_ratio_mul(buf_t *b, int64_t num, int64_t mul, int64_t den, int decimals);
/* Percent change cur vs prev, one decimal, or null when prev is 0. */
void an_put_change(buf_t *b, int64_t cur, int64_t prev);

/* Writes "store error: <sqlite message>" (with what was being read). */
int an_store_err(store_conn_t *c, const char *what, char *err, size_t errlen);
/* Checks the common params; -1 with a reason when they are unusable. */
int an_check_params(const analytics_params *p, char *err, size_t errlen);

/* Receivables at as_of (aging.c), shared by aging, overview and dso. */
typedef struct {
	int64_t cnt[5], amount[5]; /* current, 1_30, 31_60, 61_90, over_90 */
	int64_t total_cnt, total_amount;
} an_aging;
int an_aging_compute(store_conn_t *c, int64_t org, date_t as_of, bool naive, an_aging *a, char *err,
                     size_t errlen);
/* The same gathered into rd: *a is set once rd has run. */
void an_aging_add(an_reads *rd, int64_t org, date_t as_of, an_aging *a);

/* The JSON objects shared by a view and the dashboard, from what their
 * reads gave (items are sorted here, by amount). */
void an_aging_json(const an_aging *a, date_t as_of, buf_t *out);
void an_breakdown_put(const analytics_params *p, const char *of, const char *by, an_items *it, buf_t *out);
void an_top_customers_put(const analytics_params *p, an_items *it, buf_t *out);
/* DSO's one read (the 90 days invoiced, a source_sum: source.h) and its
 * object from the receivables and that sum's total. */
void an_dso_put(const analytics_params *p, const an_aging *ag, int64_t invoiced, buf_t *out);

/* Leads with a follow-up on day (status not won/lost) (leads.c), gathered
 * into rd: *n is set once rd has run. */
void an_followups_due_add(an_reads *rd, int64_t org, date_t day, int64_t *n);

/* Fast-path SQL texts defined in the other files (analytics_statements). */
extern const char aging_sql_open[], aging_sql_future[], aging_sql_later[];
extern const char leads_sql_followups[], leads_sql_due[];
extern const char behaviour_sql[];
/* The list statements (lists.c): *n of them. */
const char *const *lists_statements(size_t *n);
/* The searched list statements (q of 3+ characters): *n of them. */
const char *const *lists_search_statements(size_t *n);

#endif
