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

typedef struct {
	int64_t cash_in, cash_out, sales, sales_cnt;
} period;

/* The overview's figures: every read of them, gathered. */
typedef struct {
	date_t pfrom, pto;
	bool has_prev;
	source_sum sums[6];
	source_dim dims[5];
	an_items sales, psales, leads, fx_in, fx_inv;
	int64_t due;
} ov_figures;

static void ov_init(ov_figures *o, const analytics_params *p)
{
	*o = (ov_figures){0};
	int64_t len = (int64_t)p->to - p->from + 1;
	/* The previous period stops at 0001-01-01, the first day a date can
	 * print; a period starting there has none (null dates, zero figures). */
	int64_t pf = (int64_t)p->from - len;
	o->pfrom = (date_t)(pf < AN_DATE_MIN ? AN_DATE_MIN : pf);
	o->pto = p->from - 1;
	o->has_prev = p->from > AN_DATE_MIN;
	source_sum sums[] = {
		{ROLLUP_CASH_IN, p->from, p->to, 0, 0},   {ROLLUP_COSTS_CATEGORY, p->from, p->to, 0, 0},
		{ROLLUP_CASH_IN, AN_DATE_MIN, p->to, 0, 0}, {ROLLUP_COSTS_CATEGORY, AN_DATE_MIN, p->to, 0, 0},
		{ROLLUP_CASH_IN, o->pfrom, o->pto, 0, 0},   {ROLLUP_COSTS_CATEGORY, o->pfrom, o->pto, 0, 0},
	};
	source_dim dims[] = {
		{ROLLUP_SALES_STATUS, p->from, p->to, &o->sales}, {ROLLUP_LEADS, AN_DATE_MIN, AN_DATE_MAX, &o->leads},
		{ROLLUP_CASH_IN_FX, p->from, p->to, &o->fx_in},   {ROLLUP_INVOICED_FX, p->from, p->to, &o->fx_inv},
		{ROLLUP_SALES_STATUS, o->pfrom, o->pto, &o->psales},
	};
	memcpy(o->sums, sums, sizeof sums);
	memcpy(o->dims, dims, sizeof dims);
}

static void ov_free(ov_figures *o)
{
	an_items_free(&o->sales);
	an_items_free(&o->psales);
	an_items_free(&o->leads);
	an_items_free(&o->fx_in);
	an_items_free(&o->fx_inv);
}

/* Gathers the figures into rd: every rollup figure and the follow-ups. */
static void ov_add(an_reads *rd, const analytics_params *p, ov_figures *o)
{
	source_figures_add(rd, p->org, o->sums, o->has_prev ? 6 : 4, o->dims, o->has_prev ? 5 : 4);
	an_followups_due_add(rd, p->org, p->day, &o->due);
}

static void ov_json(const analytics_params *p, const ov_figures *o, const an_aging *ag, buf_t *out)
{
	period cur = {0}, prev = {0};
	cur.cash_in = o->sums[0].total;
	cur.cash_out = o->sums[1].total;
	int64_t net_to = o->sums[2].total - o->sums[3].total;
	if (o->has_prev) {
		prev.cash_in = o->sums[4].total;
		prev.cash_out = o->sums[5].total;
	}
	sales_of(&o->sales, &cur.sales_cnt, &cur.sales);
	sales_of(&o->psales, &prev.sales_cnt, &prev.sales);
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
	           (long long)(ag->total_amount - ag->amount[0]), (long long)ag->total_cnt, (long long)open_of(&o->leads),
	           (long long)o->due);
	buf_puts(out, ",\"previous\":{\"from\":");
	if (o->has_prev)
		an_put_date(out, o->pfrom);
	else
		buf_puts(out, "null");
	buf_puts(out, ",\"to\":");
	if (o->has_prev)
		an_put_date(out, o->pto);
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
	currencies_put(out, &o->fx_in, &o->fx_inv, false);
	buf_putc(out, '}');
}

int analytics_overview(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen)
{
	if (an_check_params(p, err, errlen) != 0)
		return -1;
	/* every read in one round trip of the store: on a server store each
	 * costs more than the statement itself */
	an_aging ag;
	ov_figures o;
	ov_init(&o, p);
	an_reads rd;
	an_reads_init(&rd, c, p->naive);
	an_aging_add(&rd, p->org, p->as_of, &ag);
	ov_add(&rd, p, &o);
	int rc = an_reads_run(&rd, "overview", err, errlen);
	if (rc == 0)
		ov_json(p, &o, &ag, out);
	ov_free(&o);
	return rc;
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

/* The cash flow: its buckets and its reads (both series, the net of every
 * day before from, before the opening balance, and the inflow in other
 * currencies). */
typedef struct {
	bucket *b;
	size_t nb;
	source_rows in, cost;
	source_sum before[2];
	source_dim fx;
	an_items fx_in;
} cf_figures;

static int cf_init(cf_figures *f, const analytics_params *p, char *err, size_t errlen)
{
	*f = (cf_figures){0};
	for (date_t s = p->from; s <= p->to; s = date_bucket_next(s, p->interval))
		if (++f->nb > MAX_BUCKETS) {
			snprintf(err, errlen, "more than %d %s buckets: choose a longer interval", MAX_BUCKETS,
			         interval_name(p->interval));
			return -1;
		}
	f->b = xcalloc(f->nb, sizeof *f->b);
	size_t i = 0;
	for (date_t s = p->from; s <= p->to; s = date_bucket_next(s, p->interval), i++) {
		date_t e = date_bucket_next(s, p->interval) - 1;
		f->b[i] = (bucket){s, e < p->to ? e : p->to, 0, 0};
	}
	f->before[0] = (source_sum){ROLLUP_CASH_IN, AN_DATE_MIN, p->from - 1, 0, 0};
	f->before[1] = (source_sum){ROLLUP_COSTS_CATEGORY, AN_DATE_MIN, p->from - 1, 0, 0};
	return 0;
}

static void cf_add(an_reads *rd, const analytics_params *p, cf_figures *f)
{
	/* Month-aligned buckets take whole months from the monthly rollup rows. */
	bool months = p->interval >= INTERVAL_MONTH;
	source_series_add(rd, p->org, ROLLUP_CASH_IN, p->from, p->to, months, &f->in);
	source_series_add(rd, p->org, ROLLUP_COSTS_CATEGORY, p->from, p->to, months, &f->cost);
	f->fx = (source_dim){ROLLUP_CASH_IN_FX, p->from, p->to, &f->fx_in};
	source_figures_add(rd, p->org, f->before, 2, &f->fx, 1);
}

static void cf_json(const analytics_params *p, cf_figures *f, buf_t *out)
{
	fill(f->b, f->nb, &f->in, true);
	fill(f->b, f->nb, &f->cost, false);
	buf_puts(out, "{\"from\":");
	an_put_date(out, p->from);
	buf_puts(out, ",\"to\":");
	an_put_date(out, p->to);
	buf_printf(out, ",\"interval\":\"%s\",\"opening_balance\":%lld,\"buckets\":[", interval_name(p->interval),
	           (long long)p->opening_balance);
	int64_t bal = p->opening_balance + f->before[0].total - f->before[1].total;
	for (size_t i = 0; i < f->nb; i++) {
		const bucket *b = &f->b[i];
		bal += b->in - b->out;
		buf_puts(out, i ? ",{\"start\":" : "{\"start\":");
		an_put_date(out, b->start);
		buf_puts(out, ",\"end\":");
		an_put_date(out, b->end);
		buf_printf(out, ",\"inflow\":%lld,\"outflow\":%lld,\"net\":%lld,\"balance\":%lld}", (long long)b->in,
		           (long long)b->out, (long long)(b->in - b->out), (long long)bal);
	}
	buf_putc(out, ']');
	an_items none = {0};
	currencies_put(out, &f->fx_in, &none, true);
	buf_putc(out, '}');
}

static void cf_free(cf_figures *f)
{
	an_items_free(&f->fx_in);
	source_rows_free(&f->in);
	source_rows_free(&f->cost);
	free(f->b);
}

int analytics_cashflow(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen)
{
	cf_figures f;
	if (an_check_params(p, err, errlen) != 0 || cf_init(&f, p, err, errlen) != 0)
		return -1;
	an_reads rd; /* one round trip of the store */
	an_reads_init(&rd, c, p->naive);
	cf_add(&rd, p, &f);
	int rc = an_reads_run(&rd, "cash flow", err, errlen);
	if (rc == 0)
		cf_json(p, &f, out);
	cf_free(&f);
	return rc;
}

int analytics_dashboard(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen)
{
	cf_figures cf;
	if (an_check_params(p, err, errlen) != 0 || cf_init(&cf, p, err, errlen) != 0)
		return -1;
	/* Every read of every part in one round trip of the store. */
	an_aging ag;
	ov_figures o;
	ov_init(&o, p);
	an_items costs = {0}, sales = {0}, top = {0};
	source_dim parts[] = {
		{ROLLUP_COSTS_CATEGORY, p->from, p->to, &costs},
		{ROLLUP_SALES_STATUS, p->from, p->to, &sales},
		{ROLLUP_SALES_CUSTOMER, p->from, p->to, &top},
	};
	source_sum inv = an_dso_sum(p);
	an_reads rd;
	an_reads_init(&rd, c, p->naive);
	an_aging_add(&rd, p->org, p->as_of, &ag);
	ov_add(&rd, p, &o);
	cf_add(&rd, p, &cf);
	source_figures_add(&rd, p->org, &inv, 1, parts, 3);
	int rc = an_reads_run(&rd, "dashboard", err, errlen);
	if (rc == 0) {
		buf_puts(out, "{\"overview\":");
		ov_json(p, &o, &ag, out);
		buf_puts(out, ",\"cashflow\":");
		cf_json(p, &cf, out);
		buf_puts(out, ",\"costs_by_category\":");
		an_breakdown_put(p, "costs", "category", &costs, out);
		buf_puts(out, ",\"sales_by_status\":");
		an_breakdown_put(p, "sales", "status", &sales, out);
		buf_puts(out, ",\"aging\":");
		an_aging_json(&ag, p->as_of, out);
		buf_puts(out, ",\"top_customers\":");
		an_top_customers_put(p, &top, out);
		buf_puts(out, ",\"dso\":");
		an_dso_put(p, &ag, inv.total, out);
		buf_putc(out, '}');
	}
	an_items_free(&costs);
	an_items_free(&sales);
	an_items_free(&top);
	ov_free(&o);
	cf_free(&cf);
	return rc;
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
