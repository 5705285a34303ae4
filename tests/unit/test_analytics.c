#include <criterion/criterion.h>
#include <ctype.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analytics/analytics.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/money.h"
#include "ingest/entity.h"
#include "store/rollup.h"
#include "store/searchidx.h"
#include "store/store.h"

/* ---- fixture: a store in a temp dir, rows written through entity_upsert ---- */

typedef struct {
	char dir[64];
	store_t *s;
	store_conn_t *w;
	rollup_acc_t *acc;
	int64_t org;
} fx;

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb, (void)flag, (void)f;
	return remove(p);
}

static void fx_open(fx *f)
{
	char err[256];
	memset(f, 0, sizeof *f);
	strcpy(f->dir, "/tmp/brisk-analytics-XXXXXX");
	cr_assert(mkdtemp(f->dir));
	f->s = store_open(f->dir, NULL, err, sizeof err);
	cr_assert(f->s, "%s", err);
}

static void fx_close(fx *f)
{
	store_close(f->s);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int64_t fx_org(fx *f, const char *slug)
{
	char err[256];
	int64_t id = store_org_id(f->s, slug, true, err, sizeof err);
	cr_assert(id > 0, "%s", err);
	return id;
}

static void fx_begin(fx *f, int64_t org)
{
	char err[256];
	f->org = org;
	f->w = store_write_begin(f->s, err, sizeof err);
	cr_assert(f->w, "%s", err);
	f->acc = rollup_acc_new(org);
	store_write_touch(f->w, org, 0x3f);
}

static void fx_commit(fx *f)
{
	char err[256];
	cr_assert_eq(rollup_flush(f->acc, f->w), 0);
	rollup_acc_free(f->acc);
	cr_assert_eq(store_write_commit(f->w, err, sizeof err), 0, "%s", err);
	f->w = NULL;
	f->acc = NULL;
}

static void put(fx *f, entity_kind k, const char *const *vals)
{
	const entity_def *d = entity_get(k);
	record_t r;
	char why[256];
	bool replaced;
	memset(&r, 0, sizeof r);
	for (int i = 0; i < d->ncols && d->cols[i].name; i++)
		if (vals[i]) {
			r.raw[i] = slice_cstr(vals[i]);
			r.present[i] = true;
		}
	cr_assert(entity_validate(k, &r, NULL, why, sizeof why), "%s", why);
	cr_assert_eq(entity_upsert(f->w, k, f->org, &r, f->acc, &replaced, why, sizeof why), 0, "%s", why);
}

typedef struct {
	char s[8][48];
} strs;

static const char *ds(strs *t, int i, date_t d)
{
	date_format(d, t->s[i]);
	return t->s[i];
}

static const char *ms(strs *t, int i, int64_t cents)
{
	money_format(cents, t->s[i]);
	return t->s[i];
}

static date_t D(const char *s)
{
	date_t d;
	cr_assert(date_parse(s, strlen(s), &d), "bad date %s", s);
	return d;
}

static void cost(fx *f, const char *id, date_t day, const char *cat, int64_t amount, const char *vendor)
{
	strs t;
	const char *v[] = {id, ds(&t, 0, day), cat, ms(&t, 1, amount), vendor, vendor ? "desc of it" : NULL};
	put(f, ENT_COSTS, v);
}

static void sale(fx *f, const char *id, date_t day, const char *cust, const char *status, int64_t amount)
{
	strs t;
	const char *v[] = {id, ds(&t, 0, day), cust, status, ms(&t, 1, amount)};
	put(f, ENT_SALES_ORDERS, v);
}

/* cur: a currency code, NULL = the org's. */
static void invoice_cur(fx *f, const char *id, const char *cust, date_t issue, date_t due, int64_t amount,
                        const char *status, const char *cur)
{
	strs t;
	char num[48];
	snprintf(num, sizeof num, "INV-%s", id);
	const char *v[] = {id, num, cust, ds(&t, 0, issue), ds(&t, 1, due), ms(&t, 2, amount), "", status, cur};
	put(f, ENT_INVOICES, v);
}

static void invoice(fx *f, const char *id, const char *cust, date_t issue, date_t due, int64_t amount,
                    const char *status)
{
	invoice_cur(f, id, cust, issue, due, amount, status, NULL);
}

static void payment_cur(fx *f, const char *id, date_t day, const char *payer, int64_t amount, const char *ref,
                        const char *cur)
{
	strs t;
	const char *v[] = {id, ds(&t, 0, day), payer, ms(&t, 1, amount), ref, NULL, cur, NULL}; /* no payer_account */
	put(f, ENT_PAYMENTS, v);
}

static void payment(fx *f, const char *id, date_t day, const char *payer, int64_t amount, const char *ref)
{
	payment_cur(f, id, day, payer, amount, ref, NULL);
}

static void lead(fx *f, const char *id, const char *created_at, const char *creator, const char *status,
                 const date_t *followup, const int64_t *value)
{
	strs t;
	const char *v[] = {id,   created_at, creator, status, "Lead Name", "0123", "web",
	                   followup ? ds(&t, 0, *followup) : NULL, value ? ms(&t, 1, *value) : NULL};
	put(f, ENT_LEADS, v);
}

static void alloc(fx *f, const char *inv, const char *pay, int64_t amount, date_t day, const char *state)
{
	static const char *ins =
		"INSERT INTO allocations(org, payment, invoice, amount, pay_date, rule, confidence, state) "
		"VALUES(?1, (SELECT rid FROM payments WHERE org = ?1 AND id = ?2), "
		"(SELECT rid FROM invoices WHERE org = ?1 AND id = ?3), ?4, ?5, 'test', 1.0, ?6)";
	static const char *rid = "SELECT rid FROM invoices WHERE org = ? AND id = ?";
	store_stmt_t *st = store_prepare(f->w, ins);
	store_bind_i64(st, 1, f->org);
	store_bind_text(st, 2, pay, strlen(pay));
	store_bind_text(st, 3, inv, strlen(inv));
	store_bind_i64(st, 4, amount);
	store_bind_i64(st, 5, day);
	store_bind_text(st, 6, state, strlen(state));
	cr_assert_eq(store_step(st), STORE_DONE, "%s", store_errmsg(f->w));
	store_reset(st);
	st = store_prepare(f->w, rid);
	store_bind_i64(st, 1, f->org);
	store_bind_text(st, 2, inv, strlen(inv));
	cr_assert_eq(store_step(st), STORE_ROW);
	int64_t r = store_col_i64(st, 0);
	store_reset(st);
	cr_assert_eq(entity_invoice_refresh(f->w, r), 0);
}

/* ---- running views ---- */

typedef int (*view_fn)(store_conn_t *, const analytics_params *, buf_t *, char *, size_t);

static char *view(fx *f, view_fn fn, const analytics_params *p)
{
	char err[256] = "";
	buf_t b = BUF_INIT;
	store_conn_t *c = store_read_begin(f->s);
	int rc = fn(c, p, &b, err, sizeof err);
	store_read_end(c);
	cr_assert_eq(rc, 0, "view failed: %s", err);
	return buf_steal(&b);
}

static char *breakdown(fx *f, const analytics_params *p, const char *of, const char *by)
{
	char err[256] = "";
	buf_t b = BUF_INIT;
	store_conn_t *c = store_read_begin(f->s);
	int rc = analytics_breakdown(c, p, of, by, &b, err, sizeof err);
	store_read_end(c);
	cr_assert_eq(rc, 0, "breakdown failed: %s", err);
	return buf_steal(&b);
}

/* Asserts the view's fast and naive JSON, and the expected text if given. */
static void expect(fx *f, view_fn fn, const analytics_params *p, const char *want)
{
	analytics_params q = *p;
	q.naive = false;
	char *fast = view(f, fn, &q);
	q.naive = true;
	char *naive = view(f, fn, &q);
	if (want)
		cr_assert_str_eq(fast, want);
	cr_assert_str_eq(fast, naive);
	free(fast);
	free(naive);
}

/* ---- hand-computed checks ---- */

Test(analytics, cashflow_buckets_clip_and_balance)
{
	fx f;
	fx_open(&f);
	fx_begin(&f, fx_org(&f, "acme"));
	payment(&f, "p1", D("2024-01-10"), "A", 100000, "");
	payment(&f, "p2", D("2024-01-31"), "A", 50000, "");
	payment(&f, "p3", D("2024-02-15"), "B", 20000, "");
	payment(&f, "p4", D("2024-04-01"), "B", 99900, ""); /* after the range */
	cost(&f, "c1", D("2023-12-20"), "rent", 30000, "landlord");
	cost(&f, "c2", D("2024-03-05"), "rent", 10000, NULL);
	cost(&f, "c3", D("2024-03-10"), "fuel", 1, NULL);
	fx_commit(&f);

	analytics_params p;
	analytics_params_init(&p, f.org, D("2024-01-15"), D("2024-03-10"));
	p.opening_balance = 1000000;
	expect(&f, analytics_cashflow, &p,
	       "{\"from\":\"2024-01-15\",\"to\":\"2024-03-10\",\"interval\":\"month\",\"opening_balance\":1000000,"
	       "\"buckets\":["
	       "{\"start\":\"2024-01-15\",\"end\":\"2024-01-31\",\"inflow\":50000,\"outflow\":0,\"net\":50000,"
	       "\"balance\":1120000},"
	       "{\"start\":\"2024-02-01\",\"end\":\"2024-02-29\",\"inflow\":20000,\"outflow\":0,\"net\":20000,"
	       "\"balance\":1140000},"
	       "{\"start\":\"2024-03-01\",\"end\":\"2024-03-10\",\"inflow\":0,\"outflow\":10001,\"net\":-10001,"
	       "\"balance\":1129999}]," "\"other_currencies\":[]}");

	/* Weeks: a Wednesday start clips the first week; empty weeks are listed. */
	analytics_params_init(&p, f.org, D("2024-01-17"), D("2024-02-06"));
	p.interval = INTERVAL_WEEK;
	expect(&f, analytics_cashflow, &p,
	       "{\"from\":\"2024-01-17\",\"to\":\"2024-02-06\",\"interval\":\"week\",\"opening_balance\":0,"
	       "\"buckets\":["
	       "{\"start\":\"2024-01-17\",\"end\":\"2024-01-21\",\"inflow\":0,\"outflow\":0,\"net\":0,\"balance\":70000},"
	       "{\"start\":\"2024-01-22\",\"end\":\"2024-01-28\",\"inflow\":0,\"outflow\":0,\"net\":0,\"balance\":70000},"
	       "{\"start\":\"2024-01-29\",\"end\":\"2024-02-04\",\"inflow\":50000,\"outflow\":0,\"net\":50000,"
	       "\"balance\":120000},"
	       "{\"start\":\"2024-02-05\",\"end\":\"2024-02-06\",\"inflow\":0,\"outflow\":0,\"net\":0,"
	       "\"balance\":120000}]," "\"other_currencies\":[]}");

	/* Quarter and year buckets, clipped on both sides. */
	analytics_params_init(&p, f.org, D("2024-02-10"), D("2024-04-01"));
	p.interval = INTERVAL_QUARTER;
	expect(&f, analytics_cashflow, &p,
	       "{\"from\":\"2024-02-10\",\"to\":\"2024-04-01\",\"interval\":\"quarter\",\"opening_balance\":0,"
	       "\"buckets\":["
	       "{\"start\":\"2024-02-10\",\"end\":\"2024-03-31\",\"inflow\":20000,\"outflow\":10001,\"net\":9999,"
	       "\"balance\":129999},"
	       "{\"start\":\"2024-04-01\",\"end\":\"2024-04-01\",\"inflow\":99900,\"outflow\":0,\"net\":99900,"
	       "\"balance\":229899}]," "\"other_currencies\":[]}");

	/* Daily over two years: 731 buckets (2024 is a leap year). */
	analytics_params_init(&p, f.org, D("2023-01-01"), D("2024-12-31"));
	p.interval = INTERVAL_DAY;
	char *j = view(&f, analytics_cashflow, &p);
	int n = 0;
	for (const char *s = j; (s = strstr(s, "{\"start\":")); s++)
		n++;
	cr_assert_eq(n, 731);
	cr_assert(strstr(j, "{\"start\":\"2024-12-31\",\"end\":\"2024-12-31\",\"inflow\":0,\"outflow\":0,\"net\":0,"
	                    "\"balance\":229899}],\"other_currencies\":[]}"));
	free(j);
	expect(&f, analytics_cashflow, &p, NULL);
	fx_close(&f);
}

Test(analytics, aging_bucket_boundaries)
{
	fx f;
	fx_open(&f);
	fx_begin(&f, fx_org(&f, "acme"));
	date_t as_of = D("2024-06-30");
	static const int late[] = {0, 1, 30, 31, 60, 61, 90, 91, -5};
	char id[16];
	for (int i = 0; i < 9; i++) {
		snprintf(id, sizeof id, "i%d", i);
		invoice(&f, id, "Cust", as_of - 200, as_of - late[i], 1000 * (i + 1), NULL);
	}
	invoice(&f, "void", "Cust", as_of - 40, as_of - 35, 777, "void");
	invoice(&f, "future", "Cust", as_of + 1, as_of + 30, 888, NULL);
	invoice(&f, "paid_before", "Cust", as_of - 50, as_of - 40, 5000, NULL);
	invoice(&f, "paid_after", "Cust", as_of - 50, as_of - 40, 6000, NULL);    /* 31_60 at full */
	invoice(&f, "partial", "Cust", as_of - 50, as_of - 45, 7000, NULL);       /* 31_60, 7000-2500 */
	invoice(&f, "proposed_only", "Cust", as_of - 10, as_of - 3, 100, NULL);   /* 1_30, proposals ignored */
	invoice(&f, "paid_on_day", "Cust", as_of - 10, as_of - 3, 300, NULL);     /* paid on as_of: gone */
	payment(&f, "p1", as_of - 20, "Cust", 5000, "");
	payment(&f, "p2", as_of + 3, "Cust", 6000, "");
	payment(&f, "p3", as_of - 1, "Cust", 2500, "");
	payment(&f, "p4", as_of, "Cust", 400, "");
	alloc(&f, "paid_before", "p1", 5000, as_of - 20, "applied");
	alloc(&f, "paid_after", "p2", 6000, as_of + 3, "confirmed");
	alloc(&f, "partial", "p3", 2500, as_of - 1, "manual");
	alloc(&f, "proposed_only", "p4", 100, as_of, "proposed");
	alloc(&f, "paid_on_day", "p4", 300, as_of, "applied");
	fx_commit(&f);

	analytics_params p;
	analytics_params_init(&p, f.org, as_of - 30, as_of);
	expect(&f, analytics_aging, &p,
	       "{\"as_of\":\"2024-06-30\",\"buckets\":{"
	       "\"current\":{\"count\":2,\"amount\":10000},"
	       "\"1_30\":{\"count\":3,\"amount\":5100},"
	       "\"31_60\":{\"count\":4,\"amount\":19500},"
	       "\"61_90\":{\"count\":2,\"amount\":13000},"
	       "\"over_90\":{\"count\":1,\"amount\":8000}},"
	       "\"total\":{\"count\":12,\"amount\":55600}}");
	/* After everything is paid the fast path adds back nothing. */
	p.as_of = as_of + 10;
	expect(&f, analytics_aging, &p, NULL);
	/* Before anything was issued. */
	p.as_of = as_of - 300;
	expect(&f, analytics_aging, &p,
	       "{\"as_of\":\"2023-09-04\",\"buckets\":{\"current\":{\"count\":0,\"amount\":0},"
	       "\"1_30\":{\"count\":0,\"amount\":0},\"31_60\":{\"count\":0,\"amount\":0},"
	       "\"61_90\":{\"count\":0,\"amount\":0},\"over_90\":{\"count\":0,\"amount\":0}},"
	       "\"total\":{\"count\":0,\"amount\":0}}");
	fx_close(&f);
}

Test(analytics, dso_rounding)
{
	fx f;
	fx_open(&f);
	fx_begin(&f, fx_org(&f, "acme"));
	date_t as_of = D("2024-06-30");
	/* Outstanding 1 cent of 1800 invoiced: 1/1800 x 90 = 0.05 -> 0.1. */
	invoice(&f, "a", "Cust", as_of - 89, as_of + 10, 1800, NULL);
	invoice(&f, "old", "Cust", as_of - 90, as_of - 60, 5000, NULL); /* outside the 90 days */
	payment(&f, "p", as_of - 5, "Cust", 1799, "");
	payment(&f, "q", as_of - 5, "Cust", 5000, "");
	alloc(&f, "a", "p", 1799, as_of - 5, "applied");
	alloc(&f, "old", "q", 5000, as_of - 5, "applied");
	fx_commit(&f);

	analytics_params p;
	analytics_params_init(&p, f.org, as_of, as_of);
	expect(&f, analytics_dso, &p, "{\"as_of\":\"2024-06-30\",\"outstanding\":1,\"invoiced_90d\":1800,\"dso\":0.1}");
	/* Before the payments both are open and both inside the window. */
	p.as_of = as_of - 6;
	expect(&f, analytics_dso, &p,
	       "{\"as_of\":\"2024-06-24\",\"outstanding\":6800,\"invoiced_90d\":6800,\"dso\":90.0}");
	/* Nothing invoiced in the window: null. */
	p.as_of = as_of - 200;
	expect(&f, analytics_dso, &p, "{\"as_of\":\"2023-12-13\",\"outstanding\":0,\"invoiced_90d\":0,\"dso\":null}");
	fx_close(&f);
}

Test(analytics, breakdown_top_n_and_other)
{
	fx f;
	fx_open(&f);
	fx_begin(&f, fx_org(&f, "acme"));
	date_t d = D("2024-03-15");
	cost(&f, "1", d, "a", 500, "v1");
	cost(&f, "2", d + 1, "b", 300, "v1");
	cost(&f, "3", d + 2, "c", 200, "v2");
	cost(&f, "3b", d + 2, "c", 100, NULL);
	cost(&f, "4", d + 3, "d", 100, "v2");
	cost(&f, "5", d + 4, "e", 50, "v3");
	cost(&f, "6", d - 30, "e", 9999, "v3"); /* outside */
	sale(&f, "s1", d, "Zed", "completed", 1000);
	sale(&f, "s2", d, "Amy", "cancelled", 5000);
	sale(&f, "s3", d, "Amy", "pending", 1000);
	sale(&f, "s4", d, "Bob", "shipped", 700);
	fx_commit(&f);

	analytics_params p;
	analytics_params_init(&p, f.org, d, d + 10);
	p.top = 2;
	char *j = breakdown(&f, &p, "costs", "category");
	cr_assert_str_eq(j, "{\"of\":\"costs\",\"by\":\"category\",\"from\":\"2024-03-15\",\"to\":\"2024-03-25\","
	                    "\"total\":{\"count\":6,\"amount\":1250},\"items\":[{\"key\":\"a\",\"count\":1,\"amount\":500},"
	                    "{\"key\":\"b\",\"count\":1,\"amount\":300}],\"other\":{\"count\":4,\"amount\":450}}");
	free(j);
	p.naive = true;
	j = breakdown(&f, &p, "costs", "category");
	cr_assert(strstr(j, "\"other\":{\"count\":4,\"amount\":450}"));
	free(j);
	p.naive = false;
	p.top = 10;
	j = breakdown(&f, &p, "sales", "status");
	cr_assert_str_eq(j, "{\"of\":\"sales\",\"by\":\"status\",\"from\":\"2024-03-15\",\"to\":\"2024-03-25\","
	                    "\"total\":{\"count\":4,\"amount\":7700},\"items\":["
	                    "{\"key\":\"cancelled\",\"count\":1,\"amount\":5000},"
	                    "{\"key\":\"completed\",\"count\":1,\"amount\":1000},"
	                    "{\"key\":\"pending\",\"count\":1,\"amount\":1000},"
	                    "{\"key\":\"shipped\",\"count\":1,\"amount\":700}],\"other\":{\"count\":0,\"amount\":0}}");
	free(j);
	j = breakdown(&f, &p, "costs", "vendor");
	cr_assert(strstr(j, "\"items\":[{\"key\":\"v1\",\"count\":2,\"amount\":800},{\"key\":\"v2\",\"count\":2,"
	                    "\"amount\":300},{\"key\":\"\",\"count\":1,\"amount\":100},{\"key\":\"v3\",\"count\":1,"
	                    "\"amount\":50}]"),
	          "%s", j);
	free(j);
	/* Ties by name: Amy and Zed both 1000; cancelled excluded. */
	expect(&f, analytics_top_customers, &p,
	       "{\"from\":\"2024-03-15\",\"to\":\"2024-03-25\",\"items\":[{\"customer\":\"Amy\",\"amount\":1000,"
	       "\"count\":1},{\"customer\":\"Zed\",\"amount\":1000,\"count\":1},{\"customer\":\"Bob\",\"amount\":700,"
	       "\"count\":1}]}");

	char err[256];
	buf_t b = BUF_INIT;
	store_conn_t *c = store_read_begin(f.s);
	cr_assert_eq(analytics_breakdown(c, &p, "costs", "status", &b, err, sizeof err), -1);
	cr_assert(strstr(err, "unknown breakdown"));
	store_read_end(c);
	buf_free(&b);
	fx_close(&f);
}

Test(analytics, overview_previous_and_change)
{
	fx f;
	fx_open(&f);
	fx_begin(&f, fx_org(&f, "acme"));
	/* Period 2024-03-01..2024-03-31 (31 days), previous 2024-01-30..2024-02-29. */
	payment(&f, "p1", D("2024-03-05"), "A", 15000, "");
	payment(&f, "p2", D("2024-02-10"), "A", 10000, "");
	payment(&f, "p3", D("2024-01-29"), "A", 777, ""); /* before previous: only balance */
	cost(&f, "c1", D("2024-03-06"), "x", 3000, NULL);
	sale(&f, "s1", D("2024-03-07"), "A", "completed", 2000);
	sale(&f, "s2", D("2024-03-08"), "B", "cancelled", 9000);
	sale(&f, "s3", D("2024-01-30"), "B", "pending", 3000);
	invoice(&f, "i1", "A", D("2024-03-01"), D("2024-03-15"), 4000, NULL); /* overdue at 03-31 */
	invoice(&f, "i2", "A", D("2024-03-20"), D("2024-04-15"), 6000, NULL);
	date_t fu = D("2024-03-31"), past = D("2024-03-01");
	int64_t v = 12345;
	lead(&f, "l1", "2024-03-02T10:00:00Z", "ann", "new", &fu, &v);
	lead(&f, "l2", "2023-03-02", "ann", "won", &fu, NULL);
	lead(&f, "l3", "2022-01-01", "bob", "contacted", &past, NULL);
	fx_commit(&f);

	analytics_params p;
	analytics_params_init(&p, f.org, D("2024-03-01"), D("2024-03-31"));
	p.opening_balance = -100;
	expect(&f, analytics_overview, &p,
	       "{\"from\":\"2024-03-01\",\"to\":\"2024-03-31\",\"cash_in\":15000,\"cash_out\":3000,\"net\":12000,"
	       "\"opening_balance\":-100,\"closing_balance\":22677,\"sales\":2000,\"sales_count\":1,"
	       "\"outstanding\":10000,\"overdue\":4000,\"open_invoices\":2,\"open_leads\":2,\"followups_due\":1,"
	       "\"previous\":{\"from\":\"2024-01-30\",\"to\":\"2024-02-29\",\"cash_in\":10000,\"cash_out\":0,"
	       "\"net\":10000,\"sales\":3000},"
	       "\"change\":{\"cash_in\":50.0,\"cash_out\":null,\"net\":20.0,\"sales\":-33.3},"
	       "\"other_currencies\":[]}");
	fx_close(&f);
}

Test(analytics, leads_summary_and_payment_behaviour)
{
	fx f;
	fx_open(&f);
	fx_begin(&f, fx_org(&f, "acme"));
	date_t day = D("2024-05-10");
	date_t early = day - 3, late = day + 3;
	lead(&f, "1", "2024-05-01T23:30:00-05:00", "zoe", "new", &day, NULL);
	lead(&f, "2", "2024-05-02", "zoe", "won", &day, NULL);        /* won: no follow-up */
	lead(&f, "3", "2024-04-30 12:00:00", "amy", "qualified", &early, NULL); /* outside range, overdue */
	lead(&f, "4", "2024-05-09", "amy", "lost", NULL, NULL);
	lead(&f, "5", "2024-05-03", "bob", "proposal", &late, NULL);   /* future follow-up only */
	lead(&f, "6", "2023-01-01", "cat", "new", &late, NULL);        /* nothing to report */
	invoice(&f, "a", "Slow", D("2024-01-01"), D("2024-01-31"), 1000, NULL);
	invoice(&f, "b", "Slow", D("2024-01-01"), D("2024-02-10"), 1000, NULL);
	invoice(&f, "c", "Fast", D("2024-01-01"), D("2024-02-10"), 1000, NULL);
	invoice(&f, "d", "Fast", D("2024-01-01"), D("2024-02-10"), 1000, NULL); /* partly paid: excluded */
	payment(&f, "p", D("2024-01-01"), "x", 99999, "");
	alloc(&f, "a", "p", 400, D("2024-01-20"), "applied");
	alloc(&f, "a", "p", 600, D("2024-02-05"), "applied"); /* completes 5 days late */
	alloc(&f, "b", "p", 1000, D("2024-02-09"), "manual"); /* 1 day early */
	alloc(&f, "c", "p", 1000, D("2024-02-01"), "applied"); /* 9 days early */
	alloc(&f, "d", "p", 500, D("2024-02-01"), "applied");
	fx_commit(&f);

	analytics_params p;
	analytics_params_init(&p, f.org, D("2024-05-01"), D("2024-05-31"));
	p.day = day;
	expect(&f, analytics_leads_summary, &p,
	       "{\"date\":\"2024-05-10\",\"creators\":["
	       "{\"creator\":\"amy\",\"created\":1,\"by_status\":{\"new\":0,\"contacted\":0,\"qualified\":0,"
	       "\"proposal\":0,\"won\":0,\"lost\":1},\"followups_due\":0,\"overdue_followups\":1},"
	       "{\"creator\":\"bob\",\"created\":1,\"by_status\":{\"new\":0,\"contacted\":0,\"qualified\":0,"
	       "\"proposal\":1,\"won\":0,\"lost\":0},\"followups_due\":0,\"overdue_followups\":0},"
	       "{\"creator\":\"zoe\",\"created\":2,\"by_status\":{\"new\":1,\"contacted\":0,\"qualified\":0,"
	       "\"proposal\":0,\"won\":1,\"lost\":0},\"followups_due\":1,\"overdue_followups\":0}]}");

	analytics_params_init(&p, f.org, D("2024-01-01"), D("2024-02-29"));
	expect(&f, analytics_payment_behaviour, &p,
	       "{\"from\":\"2024-01-01\",\"to\":\"2024-02-29\",\"customers\":["
	       "{\"customer\":\"Slow\",\"invoices_paid\":2,\"avg_days_late\":2.0,\"share_late\":0.500},"
	       "{\"customer\":\"Fast\",\"invoices_paid\":1,\"avg_days_late\":-9.0,\"share_late\":0.000}]}");
	fx_close(&f);
}

/* ---- property: rollups == base tables over random data and ranges ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static int64_t rn(int64_t n)
{
	return (int64_t)(rnd() % (uint64_t)n);
}

static const char *const categories[] = {"rent", "payroll", "fuel", "software", "travel", "misc"};
static const char *const vendors[] = {"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Soylent", "Stark", "Wayne"};
static const char *const customers[] = {"Alpha Ltd", "Beta GmbH", "Gamma SA", "Delta Inc", "Epsilon", "Zeta",
                                        "Eta",       "Theta",     "Iota",     "Kappa",     "Lambda",  "Mu"};
static const char *const sstat[] = {"pending", "confirmed", "shipped", "completed", "cancelled"};
static const char *const lead_status[] = {"new", "contacted", "qualified", "proposal", "won", "lost"};
static const char *const creators[] = {"ann", "bob", "cy", "dee", "eve"};
static const char *const astate[] = {"applied", "confirmed", "manual", "proposed"};

#define NEL(a) ((int64_t)(sizeof a / sizeof a[0]))

/* Currencies other than the org's (USD): two decimals, and three (KWD). */
static const char *const foreign[] = {"EUR", "GBP", "KWD", "usd"};

static void gen_org(fx *f, int64_t org, int n)
{
	date_t base = D("2023-01-01");
	char id[32], id2[32], ts[40];
	fx_begin(f, org);
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "c%d", i);
		cost(f, id, base + (date_t)rn(731), categories[rn(NEL(categories))],
		     rn(10) == 0 ? -rn(5000) : rn(500000), rn(5) ? vendors[rn(NEL(vendors))] : NULL);
	}
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "s%d", i);
		sale(f, id, base + (date_t)rn(731), customers[rn(NEL(customers))], sstat[rn(NEL(sstat))], rn(300000));
	}
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "p%d", i);
		payment_cur(f, id, base + (date_t)rn(731), customers[rn(NEL(customers))], 1 + rn(200000),
		            rn(2) ? "ref INV-x" : "Transfer", rn(8) ? NULL : foreign[rn(NEL(foreign))]);
	}
	int ninv = n / 2;
	for (int i = 0; i < ninv; i++) {
		snprintf(id, sizeof id, "i%d", i);
		date_t issue = base + (date_t)rn(731);
		int64_t amount = 100 + rn(200000);
		invoice_cur(f, id, customers[rn(NEL(customers))], issue, issue + (date_t)rn(61), amount,
		            rn(20) == 0 ? "void" : NULL, rn(8) ? NULL : foreign[rn(NEL(foreign))]);
		/* Allocations: none, partial, or several summing to the amount. */
		int kind = (int)rn(4);
		int64_t left = amount;
		date_t pd = issue + (date_t)rn(20);
		for (int a = 0; kind && a < 3 && left > 0; a++) {
			int64_t part = a == 2 || kind == 3 ? left : 1 + rn(left);
			if (kind == 1)
				part = left / 2 + 1;
			snprintf(id2, sizeof id2, "p%d", (int)rn(n));
			alloc(f, id, id2, part, pd, astate[rn(NEL(astate))]);
			left -= part;
			pd += (date_t)rn(60);
			if (kind == 1)
				break;
		}
	}
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "l%d", i);
		date_t cd = base + (date_t)rn(731);
		char dd[DATE_BUFSZ];
		date_format(cd, dd);
		switch (rn(3)) {
		case 0: snprintf(ts, sizeof ts, "%s", dd); break;
		case 1: snprintf(ts, sizeof ts, "%sT23:%02d:00-05:00", dd, (int)rn(60)); break;
		default: snprintf(ts, sizeof ts, "%s 01:00:00Z", dd); break;
		}
		date_t fu = cd + (date_t)rn(90);
		int64_t v = rn(100000);
		lead(f, id, ts, creators[rn(NEL(creators))], lead_status[rn(NEL(lead_status))], rn(4) ? &fu : NULL,
		     rn(3) ? &v : NULL);
	}
	/* Replacements and deletions retract rollups; a payment whose amount
	 * changes loses its allocations (invoices reopen). */
	for (int i = 0; i < n / 20; i++) {
		snprintf(id, sizeof id, "c%d", (int)rn(n));
		cost(f, id, base + (date_t)rn(731), categories[rn(NEL(categories))], rn(90000), NULL);
		snprintf(id, sizeof id, "s%d", (int)rn(n));
		sale(f, id, base + (date_t)rn(731), customers[rn(NEL(customers))], "cancelled", rn(300000));
		snprintf(id, sizeof id, "p%d", (int)rn(n));
		/* a replacement may move a payment into or out of a foreign currency */
		payment_cur(f, id, base + (date_t)rn(731), customers[rn(NEL(customers))], 1 + rn(200000), "",
		            rn(4) ? NULL : foreign[rn(NEL(foreign))]);
		snprintf(id, sizeof id, "l%d", (int)rn(n));
		lead(f, id, "2024-02-29T12:00:00Z", "zed", "won", NULL, NULL);
		static const entity_kind kinds[] = {ENT_COSTS, ENT_SALES_ORDERS, ENT_INVOICES, ENT_PAYMENTS, ENT_LEADS};
		static const char prefix[] = "csipl";
		int k = (int)rn(5);
		snprintf(id, sizeof id, "%c%d", prefix[k], (int)rn(k == 2 ? n / 2 : n));
		cr_assert_geq(entity_delete(f->w, kinds[k], org, id, strlen(id), f->acc), 0);
	}
	fx_commit(f);
}

static void compare_all(fx *f, const analytics_params *p)
{
	static const view_fn views[] = {analytics_overview,       analytics_aging, analytics_leads_summary,
	                                analytics_top_customers,  analytics_dso,   analytics_payment_behaviour};
	static const char *const bd[4][2] = {
		{"costs", "category"}, {"costs", "vendor"}, {"sales", "status"}, {"sales", "customer"}};
	for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
		expect(f, views[i], p, NULL);
	analytics_params q = *p;
	for (int i = 0; i < 4; i++) {
		q.naive = false;
		char *a = breakdown(f, &q, bd[i][0], bd[i][1]);
		q.naive = true;
		char *b = breakdown(f, &q, bd[i][0], bd[i][1]);
		cr_assert_str_eq(a, b);
		free(a);
		free(b);
	}
	for (int iv = INTERVAL_DAY; iv <= INTERVAL_YEAR; iv++) {
		q = *p;
		q.interval = (interval_t)iv;
		expect(f, analytics_cashflow, &q, NULL);
		expect(f, analytics_dashboard, &q, NULL);
	}
}

Test(analytics, rollups_match_base_tables, .timeout = 240)
{
	fx f;
	fx_open(&f);
	rng_state = 42;
	int64_t org1 = fx_org(&f, "acme"), org2 = fx_org(&f, "other");
	gen_org(&f, org1, 1500);
	gen_org(&f, org2, 300);
	date_t base = D("2023-01-01");
	for (int r = 0; r < 50; r++) {
		analytics_params p;
		date_t from = base - 60 + (date_t)rn(731 + 120);
		date_t len = r % 3 == 0 ? 1 + (date_t)rn(40) : 1 + (date_t)rn(800);
		analytics_params_init(&p, r % 5 == 4 ? org2 : org1, from, from + len - 1);
		p.as_of = base - 30 + (date_t)rn(800);
		p.day = base + (date_t)rn(800);
		p.top = 1 + (int)rn(12);
		p.opening_balance = rn(1000000) - 500000;
		compare_all(&f, &p);
	}
	/* Whole history in one range, and a range with no data at all. */
	analytics_params p;
	analytics_params_init(&p, org1, D("2022-01-01"), D("2025-12-31"));
	compare_all(&f, &p);
	analytics_params_init(&p, org1, D("2030-01-01"), D("2030-02-01"));
	compare_all(&f, &p);
	fx_close(&f);
}

/* ---- EXPLAIN QUERY PLAN: no full scan of any table on the fast path ---- */

Test(analytics, statements_use_indexes)
{
	fx f;
	fx_open(&f);
	fx_org(&f, "acme");
	char path[128];
	snprintf(path, sizeof path, "%s/brisk.db", f.dir);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	size_t n;
	const char *const *sql = analytics_statements(&n);
	cr_assert(n >= 20);
	for (size_t i = 0; i < n; i++) {
		char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql[i]);
		sqlite3_stmt *st;
		cr_assert_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK, "%s: %s", sqlite3_errmsg(db), sql[i]);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *detail = (const char *)sqlite3_column_text(st, 3);
			/* A full-text MATCH shows as a SCAN of the virtual table
			 * with a match index (":M"): an index lookup, not a scan. */
			bool fts = strstr(detail, "VIRTUAL TABLE INDEX") && strstr(detail, ":M");
			cr_assert(strncmp(detail, "SCAN ", 5) != 0 || fts, "%s\n  in: %s", detail, sql[i]);
		}
		sqlite3_finalize(st);
		sqlite3_free(q);
	}
	sqlite3_close(db);
	fx_close(&f);
}

/* ---- lists: keyset pagination ---- */

static char *list_page(fx *f, entity_kind k, const analytics_list_params *lp, int *rc, char *err, size_t errlen)
{
	buf_t b = BUF_INIT;
	store_conn_t *c = store_read_begin(f->s);
	*rc = analytics_list(c, k, lp, &b, err, errlen);
	store_read_end(c);
	return buf_steal(&b);
}

/* Appends the ids of a page to ids (NUL-separated) and returns next_cursor. */
static char *page_ids(const char *json, buf_t *ids, int *count)
{
	for (const char *s = json; (s = strstr(s, "{\"id\":\"")); ) {
		s += 7;
		const char *e = strchr(s, '"');
		buf_put(ids, s, (size_t)(e - s));
		buf_putc(ids, '\n');
		(*count)++;
		s = e;
	}
	const char *nc = strstr(json, "\"next_cursor\":");
	cr_assert(nc);
	nc += 14;
	if (!strncmp(nc, "null", 4))
		return NULL;
	cr_assert_eq(*nc, '"');
	const char *e = strchr(nc + 1, '"');
	return strndup(nc + 1, (size_t)(e - nc - 1));
}

static void walk(fx *f, entity_kind k, analytics_list_params lp, int limit, buf_t *ids, int *count)
{
	char err[256];
	int rc;
	lp.limit = limit;
	lp.cursor = NULL;
	char *cursor = NULL;
	int pages = 0;
	do {
		char *j = list_page(f, k, &lp, &rc, err, sizeof err);
		cr_assert_eq(rc, 0, "%s", err);
		free(cursor);
		cursor = page_ids(j, ids, count);
		lp.cursor = cursor;
		free(j);
		cr_assert(++pages < 100000);
	} while (cursor);
}

static void reference_ids(fx *f, const char *sql, int64_t org, const char *text, buf_t *ids, int *count)
{
	store_conn_t *c = store_read_begin(f->s);
	store_stmt_t *st = store_prepare(c, sql);
	cr_assert(st, "%s", store_errmsg(c));
	store_bind_i64(st, 1, org);
	if (text)
		store_bind_text(st, 2, text, strlen(text));
	while (store_step(st) == STORE_ROW) {
		size_t len;
		const char *s = store_col_text(st, 0, &len);
		buf_put(ids, s, len);
		buf_putc(ids, '\n');
		(*count)++;
	}
	store_reset(st);
	store_read_end(c);
}

Test(analytics, list_pagination_walks_every_row_once, .timeout = 120)
{
	static const char *const ref[ENT__COUNT][4] = {
#define REF(t, dc, amt)                                                                                        \
	{"SELECT id FROM " t " WHERE org = ? ORDER BY " dc " DESC, rid DESC",                                  \
	 "SELECT id FROM " t " WHERE org = ? ORDER BY " dc ", rid",                                            \
	 "SELECT id FROM " t " WHERE org = ? ORDER BY " amt " DESC, rid DESC",                                 \
	 "SELECT id FROM " t " WHERE org = ? ORDER BY " amt ", rid"}
		[ENT_COSTS] = REF("costs", "date", "amount"),
		[ENT_SALES_ORDERS] = REF("sales_orders", "date", "amount"),
		[ENT_INVOICES] = REF("invoices", "issue_date", "amount"),
		[ENT_PAYMENTS] = REF("payments", "date", "amount"),
		[ENT_LEADS] = REF("leads", "created_date", "coalesce(value, 0)"),
#undef REF
	};
	fx f;
	fx_open(&f);
	rng_state = 7;
	int64_t org = fx_org(&f, "acme"), org2 = fx_org(&f, "other");
	gen_org(&f, org, 400);
	gen_org(&f, org2, 50);
	static const int limits[] = {1, 7, 100, 1000};
	for (int k = 0; k < ENT__COUNT; k++)
		for (int s = 0; s < 4; s++) {
			buf_t want = BUF_INIT;
			int nwant = 0;
			reference_ids(&f, ref[k][s], org, NULL, &want, &nwant);
			cr_assert(nwant >= 150);
			for (int l = 0; l < 4; l++) {
				if (limits[l] == 1 && s % 2)
					continue; /* one row per page: once per entity is enough */
				analytics_list_params lp;
				analytics_list_params_init(&lp, org);
				lp.sort = (analytics_sort)s;
				lp.fields = 1; /* id only */
				buf_t got = BUF_INIT;
				int ngot = 0;
				walk(&f, (entity_kind)k, lp, limits[l], &got, &ngot);
				cr_assert_eq(ngot, nwant, "%s sort %d limit %d", entity_get(k)->name, s, limits[l]);
				cr_assert_str_eq(got.p, want.p);
				buf_free(&got);
			}
			buf_free(&want);
		}

	/* Filters: category + amount range + date range, amount desc. */
	{
		static const char *sql = "SELECT id FROM costs WHERE org = ? AND category = ? AND amount BETWEEN 1000 "
		                         "AND 300000 AND date BETWEEN 19450 AND 19800 ORDER BY amount DESC, rid DESC";
		buf_t want = BUF_INIT, got = BUF_INIT;
		int nwant = 0, ngot = 0;
		reference_ids(&f, sql, org, "fuel", &want, &nwant);
		analytics_list_params lp;
		analytics_list_params_init(&lp, org);
		lp.sort = ANALYTICS_SORT_AMOUNT_DESC;
		lp.category = "fuel";
		lp.has_min = lp.has_max = lp.has_from = lp.has_to = true;
		lp.min_amount = 1000;
		lp.max_amount = 300000;
		lp.from = 19450;
		lp.to = 19800;
		walk(&f, ENT_COSTS, lp, 3, &got, &ngot);
		cr_assert(nwant > 3);
		cr_assert_eq(ngot, nwant);
		cr_assert_str_eq(got.p, want.p);
		buf_free(&want);
		buf_free(&got);
	}
	/* q: case-insensitive substring over the text columns. */
	{
		static const char *sql = "SELECT id FROM payments WHERE org = ? AND (instr(lower(reference), ?2) > 0 "
		                         "OR instr(lower(payer), ?2) > 0) ORDER BY date, rid";
		buf_t want = BUF_INIT, got = BUF_INIT;
		int nwant = 0, ngot = 0;
		reference_ids(&f, sql, org, "ta", &want, &nwant);
		analytics_list_params lp;
		analytics_list_params_init(&lp, org);
		lp.sort = ANALYTICS_SORT_DATE_ASC;
		lp.q = "TA";
		walk(&f, ENT_PAYMENTS, lp, 50, &got, &ngot);
		cr_assert(nwant > 10);
		cr_assert_eq(ngot, nwant);
		cr_assert_str_eq(got.p, want.p);
		buf_free(&want);
		buf_free(&got);
	}
	fx_close(&f);
}

/* A large import leaves its rows out of the search index (searchidx.h);
 * searches scan them until the catch-up, so q= finds the same rows before
 * it, after a crash before it (the store closed and opened again), and
 * after it, in every sort. */
Test(analytics, search_exact_before_and_after_the_index_catches_up)
{
	static const char *const ref[4] = {
		"SELECT id FROM payments WHERE org = ? AND instr(lower(id || char(31) || payer || char(31) || reference), ?2) > 0 "
		"ORDER BY date DESC, rid DESC",
		"SELECT id FROM payments WHERE org = ? AND instr(lower(id || char(31) || payer || char(31) || reference), ?2) > 0 "
		"ORDER BY date, rid",
		"SELECT id FROM payments WHERE org = ? AND instr(lower(id || char(31) || payer || char(31) || reference), ?2) > 0 "
		"ORDER BY amount DESC, rid DESC",
		"SELECT id FROM payments WHERE org = ? AND instr(lower(id || char(31) || payer || char(31) || reference), ?2) > 0 "
		"ORDER BY amount, rid"};
	fx f;
	fx_open(&f);
	rng_state = 11;
	int64_t org = fx_org(&f, "acme");
	gen_org(&f, org, 200); /* indexed at its commit */
	fx_begin(&f, org);
	for (int i = 0; i < 300; i++) {
		char id[32], ref_[32];
		snprintf(id, sizeof id, "late-%d", i);
		snprintf(ref_, sizeof ref_, "%s %d", i % 3 ? "Tacoma" : "Quux", i);
		payment(&f, id, (date_t)(19500 + i % 40), i % 2 ? "Tango Ltd" : "Zulu", 100 + i * 7 % 900, ref_);
	}
	searchidx_defer(f.w);
	fx_commit(&f);
	char err[256];
	for (int stage = 0; stage < 3; stage++) {
		if (stage == 1) { /* a crash between the commit and the catch-up */
			store_close(f.s);
			f.s = store_open(f.dir, NULL, err, sizeof err);
			cr_assert(f.s, "%s", err);
		}
		store_conn_t *r = store_read_begin(f.s);
		int64_t behind;
		cr_assert_eq(searchidx_behind(r, &behind), stage < 2 ? 1 : 0);
		store_read_end(r);
		static const char *const qs[] = {"tac", "TANGO", "uux", "late-2", "ta"};
		for (size_t qi = 0; qi < sizeof qs / sizeof qs[0]; qi++)
			for (int so = 0; so < 4; so++) {
				char lq[16];
				for (size_t i = 0; i <= strlen(qs[qi]); i++)
					lq[i] = (char)tolower((unsigned char)qs[qi][i]);
				buf_t want = BUF_INIT, got = BUF_INIT;
				int nwant = 0, ngot = 0;
				reference_ids(&f, ref[so], org, lq, &want, &nwant);
				analytics_list_params lp;
				analytics_list_params_init(&lp, org);
				lp.sort = (analytics_sort)so;
				lp.q = qs[qi];
				lp.fields = 1;
				walk(&f, ENT_PAYMENTS, lp, 37, &got, &ngot);
				cr_assert(nwant > 0, "%s", qs[qi]);
				cr_assert_eq(ngot, nwant, "stage %d q %s sort %d", stage, qs[qi], so);
				cr_assert_str_eq(got.p ? got.p : "", want.p ? want.p : "");
				buf_free(&want);
				buf_free(&got);
			}
		if (stage == 1) {
			int rc;
			while ((rc = searchidx_catch_up(f.s, 100, err, sizeof err)) == 1)
				;
			cr_assert_eq(rc, 0, "%s", err);
		}
	}
	fx_close(&f);
}

Test(analytics, list_rows_fields_and_errors)
{
	fx f;
	fx_open(&f);
	fx_begin(&f, fx_org(&f, "acme"));
	invoice(&f, "i1", "Quote \"Co\"", D("2024-01-02"), D("2024-02-01"), 12345, NULL);
	payment(&f, "p1", D("2024-01-05"), "Quote Co", 2345, "INV-i1");
	alloc(&f, "i1", "p1", 2345, D("2024-01-05"), "applied");
	int64_t v = 500;
	lead(&f, "l1", "2024-01-03T09:30:00+02:00", "ann", "new", NULL, &v);
	fx_commit(&f);

	char err[256];
	int rc;
	analytics_list_params lp;
	analytics_list_params_init(&lp, f.org);
	char *j = list_page(&f, ENT_INVOICES, &lp, &rc, err, sizeof err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(j, "{\"items\":[{\"id\":\"i1\",\"number\":\"INV-i1\",\"customer\":\"Quote \\\"Co\\\"\","
	                    "\"issue_date\":\"2024-01-02\",\"due_date\":\"2024-02-01\",\"amount\":12345,"
	                    "\"customer_id\":\"\",\"status\":\"partial\",\"currency\":\"USD\",\"outstanding\":10000}],"
	                    "\"next_cursor\":null}");
	free(j);
	lp.fields = analytics_field_bit(ENT_INVOICES, "amount", 6) | analytics_field_bit(ENT_INVOICES, "outstanding", 11);
	j = list_page(&f, ENT_INVOICES, &lp, &rc, err, sizeof err);
	cr_assert_str_eq(j, "{\"items\":[{\"id\":\"i1\",\"amount\":12345,\"outstanding\":10000}],\"next_cursor\":null}");
	free(j);
	lp.fields = 0;
	j = list_page(&f, ENT_LEADS, &lp, &rc, err, sizeof err);
	cr_assert_str_eq(j, "{\"items\":[{\"id\":\"l1\",\"created_at\":\"2024-01-03T09:30:00+02:00\",\"creator\":\"ann\","
	                    "\"status\":\"new\",\"name\":\"Lead Name\",\"mobile\":\"0123\",\"source\":\"web\","
	                    "\"followup_date\":null,\"value\":500}],\"next_cursor\":null}");
	free(j);
	cr_assert_eq(analytics_field_bit(ENT_COSTS, "outstanding", 11), 0);

	lp.cursor = "not-a-cursor!";
	j = list_page(&f, ENT_LEADS, &lp, &rc, err, sizeof err);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(err, "invalid cursor");
	free(j);
	lp.cursor = NULL;
	lp.category = "x";
	j = list_page(&f, ENT_LEADS, &lp, &rc, err, sizeof err);
	cr_assert_eq(rc, -1);
	free(j);
	lp.category = NULL;
	lp.limit = 1001;
	j = list_page(&f, ENT_LEADS, &lp, &rc, err, sizeof err);
	cr_assert_eq(rc, -1);
	free(j);

	/* A cursor of one sort is refused by another. */
	fx_begin(&f, f.org);
	lead(&f, "l2", "2024-01-04", "bob", "new", NULL, NULL);
	fx_commit(&f);
	analytics_list_params_init(&lp, f.org);
	lp.limit = 1;
	j = list_page(&f, ENT_LEADS, &lp, &rc, err, sizeof err);
	cr_assert_eq(rc, 0);
	buf_t ids = BUF_INIT;
	int n = 0;
	char *cur = page_ids(j, &ids, &n);
	cr_assert(cur);
	cr_assert_str_eq(ids.p, "l2\n");
	free(j);
	lp.cursor = cur;
	lp.sort = ANALYTICS_SORT_AMOUNT_ASC;
	j = list_page(&f, ENT_LEADS, &lp, &rc, err, sizeof err);
	cr_assert_eq(rc, -1);
	free(j);
	free(cur);
	buf_free(&ids);
	fx_close(&f);
}

/* ---- exact decimal rounding (internal helpers) ---- */

#include "analytics/internal.h"

static void ratio_is(int64_t num, int64_t mul, int64_t den, int dec, const char *want)
{
	buf_t b = BUF_INIT;
	an_put_ratio_mul(&b, num, mul, den, dec);
	cr_assert_str_eq(b.p, want, "%lld*%lld/%lld", (long long)num, (long long)mul, (long long)den);
	buf_free(&b);
}

Test(analytics, ratio_rounding)
{
	ratio_is(1, 90, 1800, 1, "0.1");     /* 0.05: half away from zero */
	ratio_is(-1, 90, 1800, 1, "-0.1");
	ratio_is(1, 90, 1801, 1, "0.0");     /* 0.0499.. */
	ratio_is(-1, 90, 1801, 1, "0.0");    /* never "-0.0" */
	ratio_is(1, 1, 3, 3, "0.333");
	ratio_is(2, 1, 3, 3, "0.667");
	ratio_is(1, 1, 1, 3, "1.000");
	ratio_is(7, 1, -2, 1, "-3.5");
	ratio_is(123456, 1, 1, 0, "123456");
	ratio_is(INT64_MAX, 100, 1, 1, "922337203685477580700.0");
	ratio_is(INT64_MIN, 100, 1, 1, "-922337203685477580800.0");
	buf_t b = BUF_INIT;
	an_put_change(&b, -50, -100); /* a loss halved: +50% */
	buf_putc(&b, ' ');
	an_put_change(&b, 5, 0);
	buf_putc(&b, ' ');
	an_put_change(&b, INT64_MAX, INT64_MIN);
	cr_assert_str_eq(b.p, "50.0 null 200.0");
	buf_free(&b);
}

/* ---- currencies: foreign rows apart, never in the org's figures ---- */

Test(analytics, other_currencies_apart_from_the_org_figures)
{
	fx f;
	fx_open(&f);
	int64_t org = fx_org(&f, "acme");
	fx_begin(&f, org);
	payment(&f, "p1", D("2024-03-05"), "A", 10000, "");
	payment_cur(&f, "p2", D("2024-03-06"), "B", 9500, "", "EUR");
	payment_cur(&f, "p3", D("2024-03-07"), "C", 500, "", "EUR");
	payment_cur(&f, "p4", D("2024-03-07"), "D", 1250, "", "KWD"); /* "12.50" KWD: 12500 fils */
	payment_cur(&f, "p5", D("2024-02-07"), "E", 700, "", "GBP"); /* outside the range */
	invoice_cur(&f, "i1", "B", D("2024-03-01"), D("2024-03-31"), 9500, NULL, "EUR");
	invoice_cur(&f, "i2", "C", D("2024-03-01"), D("2024-03-31"), 300, NULL, "CHF");
	invoice_cur(&f, "i3", "D", D("2024-03-01"), D("2024-03-31"), 400, "void", "CHF");
	invoice(&f, "i4", "A", D("2024-03-01"), D("2024-04-30"), 2000, NULL);
	fx_commit(&f);
	analytics_params p;
	analytics_params_init(&p, org, D("2024-03-01"), D("2024-03-31"));
	p.as_of = D("2024-03-31");
	for (int naive = 0; naive < 2; naive++) {
		p.naive = naive;
		char *j = view(&f, analytics_overview, &p);
		cr_expect(strstr(j, "\"cash_in\":10000,"), "%s", j);
		cr_expect(strstr(j, "\"outstanding\":2000,"), "foreign invoices are not receivables in USD: %s", j);
		cr_expect(strstr(j, ",\"other_currencies\":[{\"currency\":\"CHF\",\"cash_in\":0,\"cash_in_count\":0,"
		                    "\"invoiced\":300,\"invoiced_count\":1},{\"currency\":\"EUR\",\"cash_in\":10000,"
		                    "\"cash_in_count\":2,\"invoiced\":9500,\"invoiced_count\":1},{\"currency\":\"KWD\","
		                    "\"cash_in\":12500,\"cash_in_count\":1,\"invoiced\":0,\"invoiced_count\":0}]}"),
		          "%s", j);
		free(j);
		j = view(&f, analytics_cashflow, &p);
		cr_expect(strstr(j, "\"inflow\":10000,") && strstr(j, "],\"other_currencies\":[{\"currency\":\"EUR\","
		                                                      "\"inflow\":10000,\"count\":2},{\"currency\":\"KWD\","
		                                                      "\"inflow\":12500,\"count\":1}]}"),
		          "%s", j);
		free(j);
	}
	/* and both paths agree byte for byte on every view */
	p.naive = false;
	compare_all(&f, &p);
	fx_close(&f);
}
