#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/analytics.h"
#include "analytics/internal.h"
#include "analytics/source.h"
#include "core/mem.h"

/* A cash-flow series longer than this is a mistake (daily over 100+ years),
 * not a dashboard; refusing keeps one request from building megabytes. */
#define MAX_BUCKETS 50000

void analytics_params_init(analytics_params *p, int64_t org, date_t from, date_t to)
{
	*p = (analytics_params){
		.org = org, .from = from, .to = to, .interval = INTERVAL_MONTH, .as_of = to, .day = to, .top = 10,
	};
}

/* Sales (status not cancelled) from the by-status rollup's items: five
 * dims per month, where the by-customer rollup would read one row per
 * customer. */
static void sales_of(const an_items *it, int64_t *cnt, int64_t *total)
{
	*cnt = *total = 0;
	for (size_t i = 0; i < it->n; i++)
		if (strcmp(it->v[i].key, "cancelled") != 0) {
			*cnt += it->v[i].cnt;
			*total += it->v[i].total;
		}
}

/* Leads not won or lost, from the (creator, status) rollup's items. */
static int64_t open_of(const an_items *it)
{
	int64_t n = 0;
	for (size_t i = 0; i < it->n; i++) {
		const char *st = memchr(it->v[i].key, '\x1f', it->v[i].klen);
		st = st ? st + 1 : it->v[i].key;
		if (strcmp(st, "won") != 0 && strcmp(st, "lost") != 0)
			n += it->v[i].cnt;
	}
	return n;
}

/* Payments (in) and invoices (inv) in currencies other than the org's,
 * per currency: shown apart, never summed into the org's figures.
 * cashflow set: {"currency","inflow","count"}; else the overview's
 * {"currency","cash_in","cash_in_count","invoiced","invoiced_count"}. */
static void currencies_put(buf_t *out, const an_items *in, const an_items *inv, bool cashflow)
{
	/* Both lists are sorted by code: merge them. */
	buf_puts(out, ",\"other_currencies\":[");
	size_t i = 0, j = 0;
	bool first = true;
	while (i < in->n || j < inv->n) {
		int cmp = i == in->n ? 1 : j == inv->n ? -1 : strcmp(in->v[i].key, inv->v[j].key);
		const an_item *a = cmp <= 0 ? &in->v[i] : NULL, *b = cmp >= 0 ? &inv->v[j] : NULL;
		const an_item *k = a ? a : b;
		buf_puts(out, first ? "{\"currency\":" : ",{\"currency\":");
		buf_json_str(out, k->key, k->klen);
		if (cashflow)
			buf_printf(out, ",\"inflow\":%lld,\"count\":%lld}", (long long)a->total, (long long)a->cnt);
		else
			buf_printf(out, ",\"cash_in\":%lld,\"cash_in_count\":%lld,\"invoiced\":%lld,\"invoiced_count\":%lld}",
			           (long long)(a ? a->total : 0), (long long)(a ? a->cnt : 0), (long long)(b ? b->total : 0),
			           (long long)(b ? b->cnt : 0));
		first = false;
		i += a != NULL;
		j += b != NULL;
	}
	buf_putc(out, ']');
}

/* Net of every day up to and including `to`, before the opening balance. */
static int net_through(store_conn_t *c, const analytics_params *p, date_t to, int64_t *net, char *err,
                       size_t errlen)
{
	source_sum v[] = {{ROLLUP_CASH_IN, AN_DATE_MIN, to, 0, 0}, {ROLLUP_COSTS_CATEGORY, AN_DATE_MIN, to, 0, 0}};
	if (source_totals(c, p->org, p->naive, v, 2, err, errlen) != 0)
		return -1;
	*net = v[0].total - v[1].total;
	return 0;
}

typedef struct {
	int64_t cash_in, cash_out, sales, sales_cnt;
} period;

int an_overview_json(store_conn_t *c, const analytics_params *p, const an_aging *ag, buf_t *out, char *err,
                     size_t errlen)
{
	int64_t len = (int64_t)p->to - p->from + 1;
	/* The previous period stops at 0001-01-01, the first day a date can
	 * print; a period starting there has none (null dates, zero figures). */
	int64_t pf = (int64_t)p->from - len;
	date_t pfrom = (date_t)(pf < AN_DATE_MIN ? AN_DATE_MIN : pf), pto = p->from - 1;
	bool has_prev = p->from > AN_DATE_MIN;
	period cur = {0}, prev = {0};
	int64_t due;
	/* Every rollup figure in one round trip (store_each_many): on a server
	 * store each one costs more than reading the rows. */
	source_sum sums[] = {
		{ROLLUP_CASH_IN, p->from, p->to, 0, 0},   {ROLLUP_COSTS_CATEGORY, p->from, p->to, 0, 0},
		{ROLLUP_CASH_IN, AN_DATE_MIN, p->to, 0, 0}, {ROLLUP_COSTS_CATEGORY, AN_DATE_MIN, p->to, 0, 0},
		{ROLLUP_CASH_IN, pfrom, pto, 0, 0},         {ROLLUP_COSTS_CATEGORY, pfrom, pto, 0, 0},
	};
	an_items sales = {0}, psales = {0}, leads = {0}, fx_in = {0}, fx_inv = {0};
	source_dim dims[] = {
		{ROLLUP_SALES_STATUS, p->from, p->to, &sales}, {ROLLUP_LEADS, AN_DATE_MIN, AN_DATE_MAX, &leads},
		{ROLLUP_CASH_IN_FX, p->from, p->to, &fx_in},   {ROLLUP_INVOICED_FX, p->from, p->to, &fx_inv},
		{ROLLUP_SALES_STATUS, pfrom, pto, &psales},
	};
	int rc = -1;
	if (source_figures(c, p->org, p->naive, sums, has_prev ? 6 : 4, dims, has_prev ? 5 : 4, err, errlen) != 0 ||
	    an_followups_due(c, p->org, p->day, p->naive, &due, err, errlen) != 0)
		goto done;
	cur.cash_in = sums[0].total;
	cur.cash_out = sums[1].total;
	int64_t net_to = sums[2].total - sums[3].total;
	if (has_prev) {
		prev.cash_in = sums[4].total;
		prev.cash_out = sums[5].total;
	}
	sales_of(&sales, &cur.sales_cnt, &cur.sales);
	sales_of(&psales, &prev.sales_cnt, &prev.sales);
	buf_puts(out, "{\"from\":");
	an_put_date(out, p->from);
	buf_puts(out, ",\"to\":");
	an_put_date(out, p->to);
	buf_printf(out,
	           ",\"cash_in\":%lld,\"cash_out\":%lld,\"net\":%lld,\"opening_balance\":%lld,"
	           "\"closing_balance\":%lld,\"sales\":%lld,\"sales_count\":%lld,\"outstanding\":%lld,"
	           "\"overdue\":%lld,\"open_invoices\":%lld,\"open_leads\":%lld,\"followups_due\":%lld",
	           (long long)cur.cash_in, (long long)cur.cash_out, (long long)(cur.cash_in - cur.cash_out),
	           (long long)p->opening_balance, (long long)(p->opening_balance + net_to), (long long)cur.sales,
	           (long long)cur.sales_cnt, (long long)ag->total_amount,
	           (long long)(ag->total_amount - ag->amount[0]), (long long)ag->total_cnt, (long long)open_of(&leads),
	           (long long)due);
	buf_puts(out, ",\"previous\":{\"from\":");
	if (has_prev)
		an_put_date(out, pfrom);
	else
		buf_puts(out, "null");
	buf_puts(out, ",\"to\":");
	if (has_prev)
		an_put_date(out, pto);
	else
		buf_puts(out, "null");
	buf_printf(out, ",\"cash_in\":%lld,\"cash_out\":%lld,\"net\":%lld,\"sales\":%lld}", (long long)prev.cash_in,
	           (long long)prev.cash_out, (long long)(prev.cash_in - prev.cash_out), (long long)prev.sales);
	buf_puts(out, ",\"change\":{\"cash_in\":");
	an_put_change(out, cur.cash_in, prev.cash_in);
	buf_puts(out, ",\"cash_out\":");
	an_put_change(out, cur.cash_out, prev.cash_out);
	buf_puts(out, ",\"net\":");
	an_put_change(out, cur.cash_in - cur.cash_out, prev.cash_in - prev.cash_out);
	buf_puts(out, ",\"sales\":");
	an_put_change(out, cur.sales, prev.sales);
	buf_putc(out, '}');
	currencies_put(out, &fx_in, &fx_inv, false);
	buf_putc(out, '}');
	rc = 0;
done:
	an_items_free(&sales);
	an_items_free(&psales);
	an_items_free(&leads);
	an_items_free(&fx_in);
	an_items_free(&fx_inv);
	return rc;
}

int analytics_overview(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen)
{
	an_aging ag;
	if (an_check_params(p, err, errlen) != 0 || an_aging_compute(c, p->org, p->as_of, p->naive, &ag, err, errlen))
		return -1;
	return an_overview_json(c, p, &ag, out, err, errlen);
}

typedef struct {
	date_t start, end;
	int64_t in, out;
} bucket;

/* Adds each row to the bucket holding its day; rows and buckets ascend. */
static void fill(bucket *b, size_t nb, const source_rows *r, bool inflow)
{
	size_t j = 0;
	for (size_t i = 0; i < r->n; i++) {
		date_t d = r->v[i].day;
		while (j < nb && b[j].end < d)
			j++;
		if (j == nb)
			break;
		if (d < b[j].start)
			continue;
		if (inflow)
			b[j].in += r->v[i].total;
		else
			b[j].out += r->v[i].total;
	}
}

int analytics_cashflow(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen)
{
	if (an_check_params(p, err, errlen) != 0)
		return -1;
	size_t nb = 0;
	for (date_t s = p->from; s <= p->to; s = date_bucket_next(s, p->interval))
		if (++nb > MAX_BUCKETS) {
			snprintf(err, errlen, "more than %d %s buckets: choose a longer interval", MAX_BUCKETS,
			         interval_name(p->interval));
			return -1;
		}
	bucket *b = xcalloc(nb, sizeof *b);
	size_t i = 0;
	for (date_t s = p->from; s <= p->to; s = date_bucket_next(s, p->interval), i++) {
		date_t e = date_bucket_next(s, p->interval) - 1;
		b[i] = (bucket){s, e < p->to ? e : p->to, 0, 0};
	}
	/* Month-aligned buckets take whole months from the monthly rollup rows. */
	bool months = p->interval >= INTERVAL_MONTH;
	source_rows in = {0}, cost = {0};
	int64_t prior = 0;
	int rc = -1;
	if (source_series(c, p->org, p->naive, ROLLUP_CASH_IN, p->from, p->to, months, &in, err, errlen) != 0 ||
	    source_series(c, p->org, p->naive, ROLLUP_COSTS_CATEGORY, p->from, p->to, months, &cost, err, errlen) ||
	    net_through(c, p, p->from - 1, &prior, err, errlen) != 0)
		goto done;
	fill(b, nb, &in, true);
	fill(b, nb, &cost, false);
	buf_puts(out, "{\"from\":");
	an_put_date(out, p->from);
	buf_puts(out, ",\"to\":");
	an_put_date(out, p->to);
	buf_printf(out, ",\"interval\":\"%s\",\"opening_balance\":%lld,\"buckets\":[", interval_name(p->interval),
	           (long long)p->opening_balance);
	int64_t bal = p->opening_balance + prior;
	for (i = 0; i < nb; i++) {
		bal += b[i].in - b[i].out;
		buf_puts(out, i ? ",{\"start\":" : "{\"start\":");
		an_put_date(out, b[i].start);
		buf_puts(out, ",\"end\":");
		an_put_date(out, b[i].end);
		buf_printf(out, ",\"inflow\":%lld,\"outflow\":%lld,\"net\":%lld,\"balance\":%lld}", (long long)b[i].in,
		           (long long)b[i].out, (long long)(b[i].in - b[i].out), (long long)bal);
	}
	buf_putc(out, ']');
	an_items fx_in = {0}, none = {0};
	source_dim fx = {ROLLUP_CASH_IN_FX, p->from, p->to, &fx_in};
	rc = source_by_dims(c, p->org, p->naive, &fx, 1, err, errlen);
	if (rc == 0) {
		currencies_put(out, &fx_in, &none, true);
		buf_putc(out, '}');
	}
	an_items_free(&fx_in);
done:
	source_rows_free(&in);
	source_rows_free(&cost);
	free(b);
	return rc;
}

int analytics_dashboard(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen)
{
	an_aging ag;
	if (an_check_params(p, err, errlen) != 0 || an_aging_compute(c, p->org, p->as_of, p->naive, &ag, err, errlen))
		return -1;
	buf_puts(out, "{\"overview\":");
	if (an_overview_json(c, p, &ag, out, err, errlen) != 0)
		return -1;
	buf_puts(out, ",\"cashflow\":");
	if (analytics_cashflow(c, p, out, err, errlen) != 0)
		return -1;
	buf_puts(out, ",\"costs_by_category\":");
	if (analytics_breakdown(c, p, "costs", "category", out, err, errlen) != 0)
		return -1;
	buf_puts(out, ",\"sales_by_status\":");
	if (analytics_breakdown(c, p, "sales", "status", out, err, errlen) != 0)
		return -1;
	buf_puts(out, ",\"aging\":");
	an_aging_json(&ag, p->as_of, out);
	buf_puts(out, ",\"top_customers\":");
	if (analytics_top_customers(c, p, out, err, errlen) != 0)
		return -1;
	buf_puts(out, ",\"dso\":");
	if (an_dso_json(c, p, &ag, out, err, errlen) != 0)
		return -1;
	buf_putc(out, '}');
	return 0;
}

static const char *stmts[64];
static size_t nstmts;

static void collect_statements(void)
{
	static const char *const fast[] = {
		source_sql_sum, source_sql_day,      source_sql_dim, aging_sql_open, aging_sql_future,
		aging_sql_later, leads_sql_followups, leads_sql_due,  behaviour_sql,
	};
	size_t nl;
	for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++)
		stmts[nstmts++] = fast[i];
	const char *const *l = lists_statements(&nl);
	for (size_t i = 0; i < nl && nstmts < sizeof stmts / sizeof stmts[0]; i++)
		stmts[nstmts++] = l[i];
	l = lists_search_statements(&nl);
	for (size_t i = 0; i < nl && nstmts < sizeof stmts / sizeof stmts[0]; i++)
		stmts[nstmts++] = l[i];
}

const char *const *analytics_statements(size_t *n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, collect_statements);
	*n = nstmts;
	return stmts;
}
