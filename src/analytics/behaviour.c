#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/analytics.h"
#include "analytics/internal.h"
#include "core/mem.h"

/* due_date >= issue_date is a validation rule, so the issue_date bound only
 * narrows the rows (index invoices_issue) and never drops one. */
const char behaviour_sql[] =
	"SELECT i.customer, i.due_date, max(a.pay_date) FROM invoices i JOIN allocations a ON a.invoice = i.rid "
	"WHERE i.org = ?1 AND i.issue_date <= ?3 AND i.status = 'paid' AND i.due_date BETWEEN ?2 AND ?3 "
	"AND a.state IN ('applied','confirmed','manual') GROUP BY i.rid";

static const char naive_sql[] =
	"SELECT i.customer, i.due_date, (SELECT max(a.pay_date) FROM allocations a WHERE a.invoice = i.rid "
	"AND a.state IN ('applied','confirmed','manual')) FROM invoices i "
	"WHERE i.org = ?1 AND i.status = 'paid' AND i.due_date BETWEEN ?2 AND ?3";

typedef struct {
	const char *name;
	size_t len;
	int64_t paid, days, late;
} payer;

static int slowest_first(const void *x, const void *y)
{
	const payer *a = x, *b = y;
	/* days/paid compared exactly by cross-multiplying. */
	__int128 l = (__int128)a->days * b->paid, r = (__int128)b->days * a->paid;
	if (l != r)
		return l > r ? -1 : 1;
	int c = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);
	return c ? c : (a->len < b->len ? -1 : a->len > b->len);
}

int analytics_payment_behaviour(store_conn_t *c, const analytics_params *p, buf_t *out, char *err,
                                size_t errlen)
{
	if (an_check_params(p, err, errlen) != 0)
		return -1;
	store_stmt_t *st = store_prepare(c, p->naive ? naive_sql : behaviour_sql);
	if (!st)
		return an_store_err(c, "prepare", err, errlen);
	store_bind_i64(st, 1, p->org);
	store_bind_i64(st, 2, p->from);
	store_bind_i64(st, 3, p->to);
	/* Two lists with the same keys: (count, days late) and (late, 0). */
	an_items days = {0}, late = {0};
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		if (store_col_is_null(st, 2))
			continue;
		size_t len;
		const char *k = store_col_text(st, 0, &len);
		int64_t d = store_col_i64(st, 2) - store_col_i64(st, 1);
		an_items_add(&days, k, len, 1, d);
		an_items_add(&late, k, len, d > 0, 0);
	}
	store_reset(st);
	if (rc != STORE_DONE) {
		an_items_free(&days);
		an_items_free(&late);
		return an_store_err(c, "payment behaviour", err, errlen);
	}
	an_items_sort_key(&days);
	an_items_sort_key(&late);
	payer *v = xcalloc(days.n ? days.n : 1, sizeof *v);
	for (size_t i = 0; i < days.n; i++)
		v[i] = (payer){days.v[i].key, days.v[i].klen, days.v[i].cnt, days.v[i].total, late.v[i].cnt};
	qsort(v, days.n, sizeof *v, slowest_first);
	buf_puts(out, "{\"from\":");
	an_put_date(out, p->from);
	buf_puts(out, ",\"to\":");
	an_put_date(out, p->to);
	buf_puts(out, ",\"customers\":[");
	for (size_t i = 0; i < days.n; i++) {
		buf_puts(out, i ? ",{\"customer\":" : "{\"customer\":");
		buf_json_str(out, v[i].name, v[i].len);
		buf_printf(out, ",\"invoices_paid\":%lld,\"avg_days_late\":", (long long)v[i].paid);
		an_put_ratio(out, v[i].days, v[i].paid, 1);
		buf_puts(out, ",\"share_late\":");
		an_put_ratio(out, v[i].late, v[i].paid, 3);
		buf_putc(out, '}');
	}
	buf_puts(out, "]}");
	free(v);
	an_items_free(&days);
	an_items_free(&late);
	return 0;
}
