#include <stdio.h>
#include <stdlib.h>

#include "analytics/internal.h"
#include "analytics/source.h"
#include "core/mem.h"

/* DESIGN
 * Receivables at a past date without a history table: the invoices column
 * `outstanding` holds today's balance (amount minus every applied
 * allocation), and the partial index invoices_open holds exactly the
 * invoices with a positive balance today, so "open today" costs what is
 * unpaid, not what was ever issued. To step back to as_of, add back the
 * allocations paid after as_of (index allocations_date): an invoice paid
 * since then reappears, a partly paid one regains the later payments.
 * Both corrections touch only the payments after as_of, usually few. */

/* Open today, per due date: open_recv is kept by triggers (schema 4). */
const char aging_sql_open[] = "SELECT due_date, cnt, total FROM open_recv WHERE org = ? AND cnt <> 0";
/* ...less those issued after as_of (index invoices_issue: usually few). The
 * unary + keeps the planner off invoices_open, which holds every open one. */
const char aging_sql_future[] =
	"SELECT due_date, count(*), sum(outstanding) FROM invoices "
	"WHERE org = ? AND issue_date > ? AND +outstanding > 0 AND +status <> 'void' AND currency = '' GROUP BY due_date";
/* Allocations (and the write-offs they carry) after as_of, per invoice issued by as_of. */
const char aging_sql_later[] =
	"SELECT i.due_date, i.outstanding, sum(a.amount + a.writeoff) FROM allocations a JOIN invoices i ON i.rid = a.invoice "
	"WHERE a.org = ?1 AND a.pay_date > ?2 AND a.state IN ('applied','confirmed','manual') "
	"AND i.issue_date <= ?2 AND i.status <> 'void' AND i.currency = '' GROUP BY i.rid";

static const char naive_sql[] =
	"SELECT i.due_date, i.amount - coalesce((SELECT sum(a.amount + a.writeoff) FROM allocations a WHERE a.invoice = i.rid "
	"AND a.state IN ('applied','confirmed','manual') AND a.pay_date <= ?2), 0) "
	"FROM invoices i WHERE i.org = ?1 AND i.status <> 'void' AND i.currency = '' AND i.issue_date <= ?2";

static const char *const bucket_names[5] = {"current", "1_30", "31_60", "61_90", "over_90"};

static int bucket_of(date_t as_of, date_t due)
{
	int64_t late = (int64_t)as_of - due;
	if (late <= 0)
		return 0;
	if (late <= 30)
		return 1;
	if (late <= 60)
		return 2;
	if (late <= 90)
		return 3;
	return 4;
}

static void add(an_aging *a, int b, int64_t cnt, int64_t amount)
{
	a->cnt[b] += cnt;
	a->amount[b] += amount;
	a->total_cnt += cnt;
	a->total_amount += amount;
}

static int compute_naive(store_conn_t *c, int64_t org, date_t as_of, an_aging *a, char *err, size_t errlen)
{
	store_stmt_t *st = store_prepare(c, naive_sql);
	if (!st)
		return an_store_err(c, "prepare", err, errlen);
	store_bind_i64(st, 1, org);
	store_bind_i64(st, 2, as_of);
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		int64_t o = store_col_i64(st, 1);
		if (o > 0)
			add(a, bucket_of(as_of, (date_t)store_col_i64(st, 0)), 1, o);
	}
	store_reset(st);
	return rc == STORE_DONE ? 0 : an_store_err(c, "aging", err, errlen);
}

typedef struct {
	int64_t org;
	date_t as_of;
	an_aging *a;
} fast_ctx;

static void bind_org(void *ud, store_stmt_t *st, int i)
{
	store_bind_i64(st, 1, ((fast_ctx *)ud)->org);
}

static void bind_org_date(void *ud, store_stmt_t *st, int i)
{
	fast_ctx *x = ud;
	store_bind_i64(st, 1, x->org);
	store_bind_i64(st, 2, x->as_of);
}

static void row_open(void *ud, store_stmt_t *st, int i)
{
	fast_ctx *x = ud;
	add(x->a, bucket_of(x->as_of, (date_t)store_col_i64(st, 0)), store_col_i64(st, 1), store_col_i64(st, 2));
}

static void row_future(void *ud, store_stmt_t *st, int i)
{
	fast_ctx *x = ud;
	add(x->a, bucket_of(x->as_of, (date_t)store_col_i64(st, 0)), -store_col_i64(st, 1), -store_col_i64(st, 2));
}

static void row_later(void *ud, store_stmt_t *st, int i)
{
	fast_ctx *x = ud;
	int b = bucket_of(x->as_of, (date_t)store_col_i64(st, 0));
	int64_t now = store_col_i64(st, 1), then = now + store_col_i64(st, 2);
	if (now > 0) /* counted above with today's balance */
		add(x->a, b, -1, -now);
	if (then > 0)
		add(x->a, b, 1, then);
}

static void fast_done(void *ud, bool ok)
{
	(void)ok;
	free(ud);
}

void an_aging_add(an_reads *rd, int64_t org, date_t as_of, an_aging *a)
{
	*a = (an_aging){0};
	char why[300];
	if (rd->naive) {
		if (compute_naive(rd->c, org, as_of, a, why, sizeof why) != 0)
			an_reads_fail(rd, why);
		return;
	}
	fast_ctx *x = xmalloc(sizeof *x);
	*x = (fast_ctx){org, as_of, a};
	an_reads_add(rd, aging_sql_open, 1, bind_org, row_open, x);
	an_reads_add(rd, aging_sql_future, 1, bind_org_date, row_future, x);
	an_reads_add(rd, aging_sql_later, 1, bind_org_date, row_later, x);
	an_reads_then(rd, fast_done, x);
}

int an_aging_compute(store_conn_t *c, int64_t org, date_t as_of, bool naive, an_aging *a, char *err,
                     size_t errlen)
{
	/* the three reads in one round trip of the store */
	an_reads rd;
	an_reads_init(&rd, c, naive);
	an_aging_add(&rd, org, as_of, a);
	return an_reads_run(&rd, "aging", err, errlen);
}

void an_aging_json(const an_aging *a, date_t as_of, buf_t *out)
{
	buf_puts(out, "{\"as_of\":");
	an_put_date(out, as_of);
	buf_puts(out, ",\"buckets\":{");
	for (int i = 0; i < 5; i++)
		buf_printf(out, "%s\"%s\":{\"count\":%lld,\"amount\":%lld}", i ? "," : "", bucket_names[i],
		           (long long)a->cnt[i], (long long)a->amount[i]);
	buf_printf(out, "},\"total\":{\"count\":%lld,\"amount\":%lld}}", (long long)a->total_cnt,
	           (long long)a->total_amount);
}

int analytics_aging(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen)
{
	an_aging a;
	if (an_check_params(p, err, errlen) != 0 || an_aging_compute(c, p->org, p->as_of, p->naive, &a, err, errlen))
		return -1;
	an_aging_json(&a, p->as_of, out);
	return 0;
}

source_sum an_dso_sum(const analytics_params *p)
{
	return (source_sum){ROLLUP_INVOICED, p->as_of - 89, p->as_of, 0, 0};
}

void an_dso_put(const analytics_params *p, const an_aging *ag, int64_t invoiced, buf_t *out)
{
	buf_puts(out, "{\"as_of\":");
	an_put_date(out, p->as_of);
	buf_printf(out, ",\"outstanding\":%lld,\"invoiced_90d\":%lld,\"dso\":", (long long)ag->total_amount,
	           (long long)invoiced);
	if (invoiced == 0)
		buf_puts(out, "null");
	else
		an_put_ratio_mul(out, ag->total_amount, 90, invoiced, 1);
	buf_putc(out, '}');
}

int analytics_dso(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen)
{
	if (an_check_params(p, err, errlen) != 0)
		return -1;
	/* the receivables and the 90 days invoiced in one round trip */
	an_aging a;
	an_reads rd;
	an_reads_init(&rd, c, p->naive);
	source_sum inv = an_dso_sum(p);
	an_aging_add(&rd, p->org, p->as_of, &a);
	source_figures_add(&rd, p->org, &inv, 1, NULL, 0);
	if (an_reads_run(&rd, "dso", err, errlen) != 0)
		return -1;
	an_dso_put(p, &a, inv.total, out);
	return 0;
}
