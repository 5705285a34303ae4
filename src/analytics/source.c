#include "analytics/source.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/mem.h"

/* DESIGN
 * A range [from, to] is read as at most three segments: daily rollup rows
 * for the ragged start, monthly rows (metric | ROLLUP_MONTHLY) for the whole
 * months inside, daily rows for the ragged end; the same split rollup_sum
 * makes, but here every read reports store errors and can group by day or
 * by dim. The naive side answers the same three questions with GROUP BY
 * over the base table the metric summarises: it is the reference the fast
 * side is tested against, so it shares no SQL with it. */

const char source_sql_sum[] = "SELECT coalesce(sum(cnt),0), coalesce(sum(total),0) FROM rollup "
                              "WHERE org = ? AND metric = ? AND day BETWEEN ? AND ?" STORE_PLAN_GENERIC;
/* The primary key orders rows by day, so this groups without sorting. */
const char source_sql_day[] = "SELECT day, sum(cnt), sum(total) FROM rollup "
                              "WHERE org = ? AND metric = ? AND day BETWEEN ? AND ? GROUP BY day ORDER BY day"
                              STORE_PLAN_GENERIC;
/* Not grouped in SQL: summing in a C hash table is several times cheaper
 * than SQLite's sorter when a dim (customers) has thousands of values. */
const char source_sql_dim[] = "SELECT dim, cnt, total FROM rollup "
                              "WHERE org = ? AND metric = ? AND day BETWEEN ? AND ?" STORE_PLAN_GENERIC;

#define NAIVE_DAY(tbl, col, val, cond)                                                                       \
	"SELECT " col ", count(*), sum(" val ") FROM " tbl " WHERE org = ? AND " col " BETWEEN ? AND ?" cond \
	" GROUP BY " col " ORDER BY " col
#define NAIVE_DIM(tbl, col, dim, val, cond)                                                                    \
	"SELECT " dim ", count(*), sum(" val ") FROM " tbl " WHERE org = ? AND " col " BETWEEN ? AND ?" cond \
	" GROUP BY 1"

static const char *const naive_day[] = {
	[ROLLUP_CASH_IN] = NAIVE_DAY("payments", "date", "amount", " AND currency = ''"),
	[ROLLUP_COSTS_CATEGORY] = NAIVE_DAY("costs", "date", "amount", ""),
	[ROLLUP_COSTS_VENDOR] = NAIVE_DAY("costs", "date", "amount", ""),
	[ROLLUP_SALES_STATUS] = NAIVE_DAY("sales_orders", "date", "amount", ""),
	[ROLLUP_SALES_CUSTOMER] = NAIVE_DAY("sales_orders", "date", "amount", " AND status <> 'cancelled'"),
	[ROLLUP_INVOICED] = NAIVE_DAY("invoices", "issue_date", "amount", " AND status <> 'void' AND currency = ''"),
	[ROLLUP_LEADS] = NAIVE_DAY("leads", "created_date", "coalesce(value, 0)", ""),
	[ROLLUP_CASH_IN_FX] = NAIVE_DAY("payments", "date", "amount", " AND currency <> ''"),
	[ROLLUP_INVOICED_FX] = NAIVE_DAY("invoices", "issue_date", "amount", " AND status <> 'void' AND currency <> ''"),
};

static const char *const naive_dim[] = {
	[ROLLUP_CASH_IN] = NAIVE_DIM("payments", "date", "''", "amount", " AND currency = ''"),
	[ROLLUP_COSTS_CATEGORY] = NAIVE_DIM("costs", "date", "category", "amount", ""),
	[ROLLUP_COSTS_VENDOR] = NAIVE_DIM("costs", "date", "vendor", "amount", ""),
	[ROLLUP_SALES_STATUS] = NAIVE_DIM("sales_orders", "date", "status", "amount", ""),
	[ROLLUP_SALES_CUSTOMER] = NAIVE_DIM("sales_orders", "date", "customer", "amount",
	                                    " AND status <> 'cancelled'"),
	[ROLLUP_INVOICED] = NAIVE_DIM("invoices", "issue_date", "''", "amount", " AND status <> 'void' AND currency = ''"),
	[ROLLUP_LEADS] = NAIVE_DIM("leads", "created_date", "creator || char(31) || status", "coalesce(value, 0)", ""),
	[ROLLUP_CASH_IN_FX] = NAIVE_DIM("payments", "date", "currency", "amount", " AND currency <> ''"),
	[ROLLUP_INVOICED_FX] = NAIVE_DIM("invoices", "issue_date", "currency", "amount",
	                                 " AND status <> 'void' AND currency <> ''"),
};

#define NMETRICS (sizeof naive_day / sizeof naive_day[0])

typedef struct {
	int32_t metric;
	date_t from, to;
} segment;

/* Splits [from, to] into daily edges and whole months (see DESIGN). */
static int segments(rollup_metric m, date_t from, date_t to, bool months, segment seg[3])
{
	if (from > to)
		return 0;
	date_t m_first = date_bucket_start(from, INTERVAL_MONTH);
	if (m_first < from)
		m_first = date_bucket_next(from, INTERVAL_MONTH);
	date_t m_end = date_bucket_start(to + 1, INTERVAL_MONTH); /* exclusive */
	if (!months || m_first >= m_end) {
		seg[0] = (segment){(int32_t)m, from, to};
		return 1;
	}
	int n = 0;
	if (from < m_first)
		seg[n++] = (segment){(int32_t)m, from, m_first - 1};
	seg[n++] = (segment){(int32_t)m | ROLLUP_MONTHLY, m_first, m_end - 1};
	if (m_end <= to)
		seg[n++] = (segment){(int32_t)m, m_end, to};
	return n;
}

static bool metric_ok(rollup_metric m, char *err, size_t errlen)
{
	if ((size_t)m < NMETRICS && naive_day[m])
		return true;
	snprintf(err, errlen, "unknown rollup metric %d", (int)m);
	return false;
}

static void rows_add(source_rows *r, date_t day, int64_t cnt, int64_t total)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->v = xrealloc(r->v, r->cap * sizeof *r->v);
	}
	r->v[r->n++] = (source_row){day, cnt, total};
}

void source_rows_free(source_rows *r)
{
	free(r->v);
	*r = (source_rows){0};
}

/* Runs a naive (org, from, to) statement, handing each row to the
 * caller's collector through the two output lists (one of them NULL). */
static int run(store_conn_t *c, const char *sql, int64_t org, const segment *s, source_rows *rows, an_items *items,
               char *err, size_t errlen)
{
	store_stmt_t *st = store_prepare(c, sql);
	if (!st)
		return an_store_err(c, "prepare", err, errlen);
	int i = 1;
	store_bind_i64(st, i++, org);
	store_bind_i64(st, i++, s->from);
	store_bind_i64(st, i++, s->to);
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		int64_t cnt = store_col_i64(st, 1), total = store_col_i64(st, 2);
		if (cnt == 0)
			continue; /* an aggregate without GROUP BY over no rows */
		if (rows) {
			rows_add(rows, (date_t)store_col_i64(st, 0), cnt, total);
		} else {
			size_t len;
			const char *k = store_col_text(st, 0, &len);
			an_items_add(items, k, len, cnt, total);
		}
	}
	store_reset(st);
	return rc == STORE_DONE ? 0 : an_store_err(c, "rollup", err, errlen);
}

int source_total(store_conn_t *c, int64_t org, bool naive, rollup_metric m, date_t from, date_t to, int64_t *cnt,
                 int64_t *total, char *err, size_t errlen)
{
	*cnt = *total = 0;
	if (!metric_ok(m, err, errlen))
		return -1;
	if (naive) {
		source_rows r = {0};
		segment s = {(int32_t)m, from, to};
		int rc = from <= to ? run(c, naive_day[m], org, &s, &r, NULL, err, errlen) : 0;
		for (size_t i = 0; i < r.n; i++) {
			*cnt += r.v[i].cnt;
			*total += r.v[i].total;
		}
		source_rows_free(&r);
		return rc;
	}
	/* the segments in one round trip */
	source_sum v = {m, from, to, 0, 0};
	int rc = source_figures(c, org, false, &v, 1, NULL, 0, err, errlen);
	*cnt = v.cnt;
	*total = v.total;
	return rc;
}

int source_by_dim(store_conn_t *c, int64_t org, bool naive, rollup_metric m, date_t from, date_t to,
                  an_items *out, char *err, size_t errlen)
{
	if (!metric_ok(m, err, errlen))
		return -1;
	if (naive) {
		segment s = {(int32_t)m, from, to};
		if (from <= to && run(c, naive_dim[m], org, &s, NULL, out, err, errlen) != 0)
			return -1;
		an_items_sort_key(out);
		return 0;
	}
	source_dim d = {m, from, to, out}; /* the segments in one round trip */
	return source_figures(c, org, false, NULL, 0, &d, 1, err, errlen);
}

int source_series(store_conn_t *c, int64_t org, bool naive, rollup_metric m, date_t from, date_t to, bool months,
                  source_rows *out, char *err, size_t errlen)
{
	if (!metric_ok(m, err, errlen))
		return -1;
	if (naive) {
		segment s = {(int32_t)m, from, to};
		return from <= to ? run(c, naive_day[m], org, &s, out, NULL, err, errlen) : 0;
	}
	an_reads rd;
	an_reads_init(&rd, c, false);
	source_series_add(&rd, org, m, from, to, months, out);
	return an_reads_run(&rd, "rollup", err, errlen);
}

/* The segments of many requests, each knowing its request (store_each). */
typedef struct {
	int64_t org;
	segment *seg;
	int *owner;
	int n;
	source_sum *sums;
	source_dim *dims;
	source_rows *rows;
} many;

static void many_init(many *x, int64_t org, int nreq)
{
	*x = (many){.org = org};
	x->seg = xmalloc((size_t)nreq * 3 * sizeof *x->seg + 1);
	x->owner = xmalloc((size_t)nreq * 3 * sizeof *x->owner + 1);
}

static void many_add(many *x, int req, rollup_metric m, date_t from, date_t to, bool months)
{
	int k = segments(m, from, to, months, x->seg + x->n);
	for (int i = 0; i < k; i++)
		x->owner[x->n++] = req;
}

static void many_free(many *x)
{
	free(x->seg);
	free(x->owner);
}

static void many_bind(void *ud, store_stmt_t *st, int i)
{
	many *x = ud;
	store_bind_i64(st, 1, x->org);
	store_bind_i64(st, 2, x->seg[i].metric);
	store_bind_i64(st, 3, x->seg[i].from);
	store_bind_i64(st, 4, x->seg[i].to);
}

static void sum_row(void *ud, store_stmt_t *st, int i)
{
	many *x = ud;
	x->sums[x->owner[i]].cnt += store_col_i64(st, 0);
	x->sums[x->owner[i]].total += store_col_i64(st, 1);
}

static void dim_row(void *ud, store_stmt_t *st, int i)
{
	many *x = ud;
	int64_t cnt = store_col_i64(st, 1), total = store_col_i64(st, 2);
	if (cnt == 0)
		return;
	size_t len;
	const char *k = store_col_text(st, 0, &len);
	an_items_add(x->dims[x->owner[i]].out, k, len, cnt, total);
}

static void day_row(void *ud, store_stmt_t *st, int i)
{
	many *x = ud;
	(void)i;
	int64_t cnt = store_col_i64(st, 1);
	if (cnt != 0) /* segments ascend, and so do their rows */
		rows_add(x->rows, (date_t)store_col_i64(st, 0), cnt, store_col_i64(st, 2));
}

static void series_done(void *ud, bool ok)
{
	(void)ok;
	many_free(ud);
	free(ud);
}

void source_series_add(an_reads *rd, int64_t org, rollup_metric m, date_t from, date_t to, bool months,
                       source_rows *out)
{
	if (rd->naive) {
		char why[300];
		if (source_series(rd->c, org, true, m, from, to, months, out, why, sizeof why) != 0)
			an_reads_fail(rd, why);
		return;
	}
	many *x = xmalloc(sizeof *x);
	many_init(x, org, 1);
	x->rows = out;
	many_add(x, 0, m, from, to, months);
	if (x->n)
		an_reads_add(rd, source_sql_day, x->n, many_bind, day_row, x);
	an_reads_then(rd, series_done, x);
}

typedef struct {
	many s, d;
	int ndims;
} figures;

static void figures_done(void *ud, bool ok)
{
	figures *f = ud;
	(void)ok;
	for (int i = 0; i < f->ndims; i++)
		an_items_sort_key(f->d.dims[i].out);
	many_free(&f->s);
	many_free(&f->d);
	free(f);
}

void source_figures_add(an_reads *rd, int64_t org, source_sum *sums, int nsums, source_dim *dims, int ndims)
{
	char why[300];
	for (int i = 0; i < nsums; i++)
		if (!metric_ok(sums[i].m, why, sizeof why))
			return an_reads_fail(rd, why);
	for (int i = 0; i < ndims; i++)
		if (!metric_ok(dims[i].m, why, sizeof why))
			return an_reads_fail(rd, why);
	if (rd->naive) { /* the reference: range by range, at once */
		for (int i = 0; i < nsums; i++)
			if (source_total(rd->c, org, true, sums[i].m, sums[i].from, sums[i].to, &sums[i].cnt, &sums[i].total, why,
			                 sizeof why) != 0)
				return an_reads_fail(rd, why);
		for (int i = 0; i < ndims; i++)
			if (source_by_dim(rd->c, org, true, dims[i].m, dims[i].from, dims[i].to, dims[i].out, why, sizeof why))
				return an_reads_fail(rd, why);
		return;
	}
	figures *f = xcalloc(1, sizeof *f);
	many_init(&f->s, org, nsums);
	many_init(&f->d, org, ndims);
	f->s.sums = sums;
	f->d.dims = dims;
	f->ndims = ndims;
	for (int i = 0; i < nsums; i++) {
		sums[i].cnt = sums[i].total = 0;
		many_add(&f->s, i, sums[i].m, sums[i].from, sums[i].to, true);
	}
	for (int i = 0; i < ndims; i++)
		many_add(&f->d, i, dims[i].m, dims[i].from, dims[i].to, true);
	if (f->s.n)
		an_reads_add(rd, source_sql_sum, f->s.n, many_bind, sum_row, &f->s);
	if (f->d.n)
		an_reads_add(rd, source_sql_dim, f->d.n, many_bind, dim_row, &f->d);
	an_reads_then(rd, figures_done, f);
}

int source_figures(store_conn_t *c, int64_t org, bool naive, source_sum *sums, int nsums, source_dim *dims,
                   int ndims, char *err, size_t errlen)
{
	an_reads rd;
	an_reads_init(&rd, c, naive);
	source_figures_add(&rd, org, sums, nsums, dims, ndims);
	return an_reads_run(&rd, "rollup", err, errlen);
}
