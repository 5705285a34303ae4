#include "match/habit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* The matches a habit is learned from (habit_add counts the same). */
#define HABIT_FROM                                                                                     \
	"FROM allocations a JOIN payments p ON p.rid = a.payment JOIN invoices i ON i.rid = a.invoice "   \
	"WHERE a.org = ?1 AND a.rule = 'reference' AND a.state IN ('applied', 'confirmed') "              \
	"AND p.date - i.due_date BETWEEN -" STR(HABIT_MAX_DAYS) " AND " STR(HABIT_MAX_DAYS) " "

/* Rounded half away from zero, in integers: the same on every run. */
static int32_t mean_days(int64_t s, int64_t n)
{
	return (int32_t)(s >= 0 ? (2 * s + n) / (2 * n) : -((-2 * s + n) / (2 * n)));
}

int habit_load(store_conn_t *c, int64_t org, const blocking_t *b, habit_set *h, char *err, size_t errlen)
{
	static const char *q = "SELECT i.customer, CAST(sum(p.date - i.due_date) AS BIGINT), count(*) " HABIT_FROM
	                       "GROUP BY i.customer";
	size_t ncust = blocking_customers(b);
	h->ncust = ncust;
	h->sum = xcalloc(ncust ? ncust : 1, sizeof *h->sum);
	h->n = xcalloc(ncust ? ncust : 1, sizeof *h->n);
	store_stmt_t *st = store_prepare(c, q);
	if (!st) {
		snprintf(err, errlen, "loading payment habits: %s", store_errmsg(c));
		habit_free(h);
		return -1;
	}
	store_bind_i64(st, 1, org);
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		size_t n;
		const char *cust = store_col_text(st, 0, &n);
		uint32_t k = blocking_find_customer(b, cust, n);
		if (k == BLOCKING_NONE)
			continue; /* nothing of that customer is open: no tie to break */
		h->sum[k] += store_col_i64(st, 1);
		h->n[k] += (uint32_t)store_col_i64(st, 2);
	}
	store_reset(st);
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "loading payment habits: %s", store_errmsg(c));
		habit_free(h);
		return -1;
	}
	return 0;
}

void habit_add(habit_set *h, uint32_t cust, int32_t late)
{
	if (cust < h->ncust && late >= -HABIT_MAX_DAYS && late <= HABIT_MAX_DAYS) {
		h->sum[cust] += late;
		h->n[cust]++;
	}
}

bool habit_days(const habit_set *h, uint32_t cust, int32_t *days)
{
	if (!h || cust >= h->ncust || h->n[cust] < HABIT_MIN_PAYMENTS)
		return false;
	*days = mean_days(h->sum[cust], h->n[cust]);
	return true;
}

int habit_customer(store_conn_t *c, int64_t org, const char *cust, size_t n, int32_t *days)
{
	static const char *q =
		"SELECT CAST(coalesce(sum(p.date - i.due_date), 0) AS BIGINT), count(*) " HABIT_FROM "AND i.customer = ?2";
	store_stmt_t *st = store_prepare(c, q);
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, cust, n);
	int rc = -1;
	if (store_step(st) == STORE_ROW) {
		int64_t s = store_col_i64(st, 0), k = store_col_i64(st, 1);
		rc = k >= HABIT_MIN_PAYMENTS;
		if (rc)
			*days = mean_days(s, k);
	}
	store_reset(st);
	return rc;
}

int32_t habit_gap(const habit_set *h, uint32_t cust, date_t paid, date_t due)
{
	int32_t days;
	return habit_days(h, cust, &days) ? habit_gap_days(days, paid, due) : score_due_gap(paid, due);
}

int32_t habit_gap_days(int32_t days, date_t paid, date_t due)
{
	int32_t d = (int32_t)(paid - due) - days;
	return d < 0 ? -d : d;
}

void habit_free(habit_set *h)
{
	free(h->sum);
	free(h->n);
	memset(h, 0, sizeof *h);
}
