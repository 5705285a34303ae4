#include "notify/figures.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analytics/analytics.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/money.h"
#include "store/settings.h"

/* The views a figure is read from. */
enum { SRC_TODAY, SRC_30D, SRC_AGING, SRC_DSO, SRC_UNMATCHED, SRC__COUNT };

#define CASH (TBL_BIT(TBL_COSTS) | TBL_BIT(TBL_PAYMENTS) | TBL_BIT(TBL_SETTINGS))
#define RECV (TBL_BIT(TBL_INVOICES) | TBL_BIT(TBL_ALLOCATIONS) | TBL_BIT(TBL_PAYMENTS))

static const figure_def catalogue[] = {
	{"cash_balance", "cash balance", FIG_MONEY, CASH, SRC_TODAY},
	{"cash_in_30d", "cash received in the last 30 days", FIG_MONEY, CASH, SRC_30D},
	{"cash_out_30d", "cash paid out in the last 30 days", FIG_MONEY, CASH, SRC_30D},
	{"net_30d", "net cash flow of the last 30 days", FIG_MONEY, CASH, SRC_30D},
	{"sales_30d", "sales of the last 30 days", FIG_MONEY, TBL_BIT(TBL_SALES_ORDERS), SRC_30D},
	{"outstanding", "receivables outstanding", FIG_MONEY, RECV, SRC_TODAY},
	{"overdue", "receivables overdue", FIG_MONEY, RECV, SRC_TODAY},
	{"open_invoices", "open invoices", FIG_COUNT, RECV, SRC_TODAY},
	{"overdue_60_amount", "receivables more than 60 days overdue", FIG_MONEY, RECV, SRC_AGING},
	{"overdue_60_count", "invoices more than 60 days overdue", FIG_COUNT, RECV, SRC_AGING},
	{"overdue_90_amount", "receivables more than 90 days overdue", FIG_MONEY, RECV, SRC_AGING},
	{"overdue_90_count", "invoices more than 90 days overdue", FIG_COUNT, RECV, SRC_AGING},
	{"dso", "days sales outstanding", FIG_DAYS, RECV, SRC_DSO},
	{"open_leads", "open leads", FIG_COUNT, TBL_BIT(TBL_LEADS), SRC_TODAY},
	{"followups_due", "lead follow-ups due", FIG_COUNT, TBL_BIT(TBL_LEADS), SRC_TODAY},
	{"unmatched_payments_amount", "payments not matched to an invoice", FIG_MONEY,
	 TBL_BIT(TBL_PAYMENTS) | TBL_BIT(TBL_ALLOCATIONS), SRC_UNMATCHED},
	{"unmatched_payments_count", "unmatched payments", FIG_COUNT, TBL_BIT(TBL_PAYMENTS) | TBL_BIT(TBL_ALLOCATIONS),
	 SRC_UNMATCHED},
	{"largest_unmatched_payment", "largest unmatched payment", FIG_MONEY,
	 TBL_BIT(TBL_PAYMENTS) | TBL_BIT(TBL_ALLOCATIONS), SRC_UNMATCHED},
};

const figure_def *figures_all(size_t *n)
{
	*n = sizeof catalogue / sizeof catalogue[0];
	return catalogue;
}

const figure_def *figure_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++)
		if (strlen(catalogue[i].name) == len && !memcmp(catalogue[i].name, name, len))
			return &catalogue[i];
	return NULL;
}

int figure_decimals(const figure_def *f, int minor)
{
	return f->unit == FIG_MONEY ? minor : f->unit == FIG_DAYS ? 1 : 0;
}

struct figure_ctx {
	store_conn_t *c;
	int64_t org;
	date_t today;
	bool have_settings;
	org_settings os;
	json_t *src[SRC__COUNT];
	int64_t unmatched[3]; /* count, amount, largest */
	bool have_unmatched;
};

figure_ctx *figure_ctx_new(store_conn_t *c, int64_t org, date_t today)
{
	figure_ctx *x = xcalloc(1, sizeof *x);
	x->c = c;
	x->org = org;
	x->today = today;
	return x;
}

void figure_ctx_free(figure_ctx *x)
{
	if (!x)
		return;
	for (int i = 0; i < SRC__COUNT; i++)
		json_decref(x->src[i]);
	free(x);
}

static int unmatched(figure_ctx *x, char *err, size_t errlen)
{
	if (x->have_unmatched)
		return 0;
	/* A payment is unmatched while nothing of it is allocated; payments in
	 * another currency than the org's are left to their own dashboards. */
	store_stmt_t *st = store_prepare(x->c, "SELECT count(*), coalesce(sum(p.amount),0), coalesce(max(p.amount),0) "
	                                       "FROM payments p WHERE p.org = ? AND (p.currency = '' OR p.currency = ?) "
	                                       "AND NOT EXISTS (SELECT 1 FROM allocations a WHERE a.payment = p.rid)");
	if (!st) {
		snprintf(err, errlen, "unmatched payments: %s", store_errmsg(x->c));
		return -1;
	}
	store_bind_i64(st, 1, x->org);
	store_bind_text(st, 2, x->os.currency, strlen(x->os.currency));
	if (store_step(st) != STORE_ROW) {
		snprintf(err, errlen, "unmatched payments: %s", store_errmsg(x->c));
		store_reset(st);
		return -1;
	}
	for (int i = 0; i < 3; i++)
		x->unmatched[i] = store_col_i64(st, i);
	store_reset(st);
	x->have_unmatched = true;
	return 0;
}

static json_t *view(figure_ctx *x, int src, char *err, size_t errlen)
{
	if (x->src[src])
		return x->src[src];
	analytics_params p;
	analytics_params_init(&p, x->org, src == SRC_30D ? x->today - 29 : x->today, x->today);
	p.opening_balance = x->os.opening_balance;
	buf_t out = BUF_INIT;
	int rc = src == SRC_AGING ? analytics_aging(x->c, &p, &out, err, errlen)
	         : src == SRC_DSO ? analytics_dso(x->c, &p, &out, err, errlen)
	                          : analytics_overview(x->c, &p, &out, err, errlen);
	if (rc == 0) {
		json_error_t je;
		x->src[src] = json_loadb(out.p, out.len, 0, &je);
		if (!x->src[src])
			snprintf(err, errlen, "figure view: %s", je.text);
	}
	buf_free(&out);
	return x->src[src];
}

/* An integer member of o (nested by one '.'), 0 when absent. */
static int64_t member(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);
	if (b)
		v = json_object_get(v, b);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

int figure_eval(figure_ctx *x, const figure_def *f, int64_t *value, bool *null, char *err, size_t errlen)
{
	*value = 0;
	*null = false;
	if (!x->have_settings) {
		if (!settings_get(x->c, x->org, &x->os)) {
			snprintf(err, errlen, "organisation %lld not found", (long long)x->org);
			return -1;
		}
		x->have_settings = true;
	}
	if (f->source == SRC_UNMATCHED) {
		if (unmatched(x, err, errlen) != 0)
			return -1;
		*value = !strcmp(f->name, "unmatched_payments_count")    ? x->unmatched[0]
		         : !strcmp(f->name, "unmatched_payments_amount") ? x->unmatched[1]
		                                                         : x->unmatched[2];
		return 0;
	}
	json_t *o = view(x, f->source, err, errlen);
	if (!o)
		return -1;
	const char *n = f->name;
	if (!strcmp(n, "cash_balance"))
		*value = member(o, "closing_balance", NULL);
	else if (!strcmp(n, "cash_in_30d"))
		*value = member(o, "cash_in", NULL);
	else if (!strcmp(n, "cash_out_30d"))
		*value = member(o, "cash_out", NULL);
	else if (!strcmp(n, "net_30d"))
		*value = member(o, "net", NULL);
	else if (!strcmp(n, "sales_30d"))
		*value = member(o, "sales", NULL);
	else if (!strcmp(n, "outstanding") || !strcmp(n, "overdue") || !strcmp(n, "open_invoices") ||
	         !strcmp(n, "open_leads") || !strcmp(n, "followups_due"))
		*value = member(o, n, NULL);
	else if (!strncmp(n, "overdue_60_", 11) || !strncmp(n, "overdue_90_", 11)) {
		const char *field = !strcmp(n + 11, "count") ? "count" : "amount";
		*value = member(json_object_get(o, "buckets"), "over_90", field);
		if (n[8] == '6')
			*value += member(json_object_get(o, "buckets"), "61_90", field);
	} else if (!strcmp(n, "dso")) {
		json_t *d = json_object_get(o, "dso");
		if (json_is_number(d))
			*value = llround(json_number_value(d) * 10);
		else
			*null = true;
	}
	return 0;
}

const char *figure_format(const figure_def *f, int minor, int64_t v, char *buf, size_t len)
{
	char tmp[48];
	if (f->unit == FIG_MONEY) {
		money_format_minor(v, minor, tmp);
		snprintf(buf, len, "%s", tmp);
	} else if (f->unit == FIG_DAYS)
		snprintf(buf, len, "%s%lld.%lld days", v < 0 ? "-" : "", (long long)(llabs(v) / 10),
		         (long long)(llabs(v) % 10));
	else
		snprintf(buf, len, "%lld", (long long)v);
	return buf;
}
