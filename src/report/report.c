#include "report/report.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analytics/analytics.h"
#include "core/buf.h"
#include "core/currency.h"
#include "core/date.h"
#include "core/mem.h"
#include "report/chart.h"

/* DESIGN
 * Two phases: load every figure (views as JSON, parsed with jansson) in
 * one read snapshot, then draw. Drawing never touches the store, so a
 * report is internally consistent even while imports commit. Pages are
 * laid out top-down with a running y; each section knows its height, so
 * nothing overlaps whatever the data (long names are cut with "...",
 * long tables are capped and say so). */

#define PAGE_W 595.28 /* A4 in points */
#define PAGE_H 841.89
#define MARGIN 42.0
#define CONTENT_W (PAGE_W - 2 * MARGIN)
#define MAX_LEAD_ROWS 24

static const char *const month_names[12] = {"January", "February", "March",     "April",   "May",      "June",
                                            "July",    "August",   "September", "October", "November", "December"};
static const char *const month_abbr[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

typedef struct {
	char slug[128], name[128], currency[8];
	int minor; /* the currency's decimals */
	int64_t opening_balance;
	int year, month;
	date_t from, to, pfrom, pto;
	char title[64], prev_title[64]; /* "June 2025", "May 2025" */
	json_t *ov, *pov, *cf, *costs, *aging, *top, *leads, *dso, *pdso, *behaviour;
} rdata;

bool report_month_parse(const char *s, int *year, int *month)
{
	if (!s || strlen(s) != 7 || s[4] != '-')
		return false;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return false;
	int y = atoi(s), m = atoi(s + 5);
	if (y < 1900 || m < 1 || m > 12)
		return false;
	*year = y;
	*month = m;
	return true;
}

static int64_t jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* ---- loading ---- */

typedef int (*view_fn)(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen);

static json_t *view(store_conn_t *c, view_fn fn, const analytics_params *p, buf_t *b, char *err, size_t errlen)
{
	buf_reset(b);
	if (fn(c, p, b, err, errlen) != 0)
		return NULL;
	json_error_t je;
	json_t *j = json_loadb(b->p, b->len, 0, &je);
	if (!j)
		snprintf(err, errlen, "a view returned unreadable JSON: %s", je.text);
	return j;
}

static bool load_org(store_conn_t *c, int64_t org, rdata *d)
{
	static const char *sql = "SELECT slug, name, currency, opening_balance FROM orgs WHERE id = ?";
	store_stmt_t *st = store_prepare(c, sql);
	store_bind_i64(st, 1, org);
	bool ok = store_step(st) == STORE_ROW;
	if (ok) {
		snprintf(d->slug, sizeof d->slug, "%s", store_col_text(st, 0, NULL));
		snprintf(d->name, sizeof d->name, "%s", store_col_text(st, 1, NULL));
		size_t cl;
		const char *cur = store_col_text(st, 2, &cl);
		if (!currency_canon(cur, cl, d->currency))
			snprintf(d->currency, sizeof d->currency, "%s", CURRENCY_DEFAULT);
		d->minor = currency_minor(d->currency, 3);
		d->opening_balance = store_col_i64(st, 3);
	}
	store_reset(st);
	return ok;
}

static int load(store_t *s, int64_t org, rdata *d, char *err, size_t errlen)
{
	store_conn_t *c = store_read_begin(s);
	buf_t b = BUF_INIT;
	int rc = -1;
	if (!load_org(c, org, d)) {
		snprintf(err, errlen, "organisation %lld does not exist", (long long)org);
		goto out;
	}
	analytics_params p, pp;
	analytics_params_init(&p, org, d->from, d->to);
	p.opening_balance = d->opening_balance;
	analytics_params_init(&pp, org, d->pfrom, d->pto);
	pp.opening_balance = d->opening_balance;
	if (!(d->ov = view(c, analytics_overview, &p, &b, err, errlen)) ||
	    !(d->pov = view(c, analytics_overview, &pp, &b, err, errlen)) ||
	    !(d->aging = view(c, analytics_aging, &p, &b, err, errlen)) ||
	    !(d->dso = view(c, analytics_dso, &p, &b, err, errlen)) ||
	    !(d->pdso = view(c, analytics_dso, &pp, &b, err, errlen)) ||
	    !(d->leads = view(c, analytics_leads_summary, &p, &b, err, errlen)))
		goto out;
	p.top = 10;
	if (!(d->top = view(c, analytics_top_customers, &p, &b, err, errlen)))
		goto out;
	p.top = 8;
	buf_reset(&b);
	if (analytics_breakdown(c, &p, "costs", "category", &b, err, errlen) != 0 ||
	    !(d->costs = json_loadb(b.p, b.len, 0, NULL)))
		goto out;
	/* twelve months ending with the report's month */
	analytics_params yp = p;
	yp.from = date_add_months(d->from, -11);
	yp.interval = INTERVAL_MONTH;
	if (!(d->cf = view(c, analytics_cashflow, &yp, &b, err, errlen)) ||
	    !(d->behaviour = view(c, analytics_payment_behaviour, &yp, &b, err, errlen)))
		goto out;
	rc = 0;
out:
	buf_free(&b);
	store_read_end(c);
	return rc;
}

static void unload(rdata *d)
{
	json_t **all[] = {&d->ov, &d->pov, &d->cf, &d->costs, &d->aging, &d->top, &d->leads, &d->dso, &d->pdso,
	                  &d->behaviour};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		json_decref(*all[i]);
		*all[i] = NULL;
	}
}

/* ---- drawing helpers ---- */

static void page_frame(cairo_t *cr, const rdata *d, int page)
{
	char left[256], right[32];
	snprintf(left, sizeof left, "%s  ·  Management report %s", d->name[0] ? d->name : d->slug, d->title);
	snprintf(right, sizeof right, "Page %d of %d", page, REPORT_PAGES);
	chart_rule(cr, MARGIN, PAGE_H - 34, PAGE_W - MARGIN, PAGE_H - 34, 0.5, CHART_RULE);
	chart_text_fit(cr, MARGIN, PAGE_H - 22, CONTENT_W - 80, left, 8, false, CHART_LEFT, CHART_GREY);
	chart_text(cr, PAGE_W - MARGIN, PAGE_H - 22, right, 8, false, CHART_RIGHT, CHART_GREY);
}

/* A section heading with an optional note on the right; returns y below. */
static double section(cairo_t *cr, double y, const char *title, const char *note)
{
	chart_text(cr, MARGIN, y, title, 12.5, true, CHART_LEFT, CHART_INK);
	if (note)
		chart_text(cr, PAGE_W - MARGIN, y, note, 8.5, false, CHART_RIGHT, CHART_GREY);
	chart_rule(cr, MARGIN, y + 5, PAGE_W - MARGIN, y + 5, 1.2, CHART_ACCENT);
	return y + 20;
}

/* Table cells: rows x cols strings, freed by cells_free. */
static char ***cells_new(int rows, int cols)
{
	char ***t = xcalloc((size_t)rows + 1, sizeof *t);
	for (int r = 0; r < rows; r++)
		t[r] = xcalloc((size_t)cols, sizeof **t);
	return t;
}

static void cells_free(char ***t, int rows, int cols)
{
	for (int r = 0; r < rows; r++) {
		for (int c = 0; c < cols; c++)
			free(t[r][c]);
		free(t[r]);
	}
	free(t);
}

static char *fmt_money(const rdata *d, int64_t cents)
{
	char b[48];
	chart_money(cents, d->minor, b, sizeof b);
	return xstrdup(b);
}

static char *fmt_int(int64_t v)
{
	char b[32];
	snprintf(b, sizeof b, "%lld", (long long)v);
	return xstrdup(b);
}

static char *fmt_share(int64_t part, int64_t whole)
{
	char b[32];
	if (whole == 0)
		snprintf(b, sizeof b, "-");
	else
		snprintf(b, sizeof b, "%.1f%%", 100.0 * (double)part / (double)whole);
	return xstrdup(b);
}

static void month_label(const char *date, char *out, size_t n)
{
	/* "2025-06-01" -> "Jun 25" */
	int m = atoi(date + 5);
	snprintf(out, n, "%s %.2s", m >= 1 && m <= 12 ? month_abbr[m - 1] : "?", date + 2);
}

/* ---- page 1: KPIs and the cash flow ---- */

typedef struct {
	const char *label;
	double cur, prev;
	bool money, up_is_good, has_prev;
} kpi;

static void kpi_card(cairo_t *cr, double x, double y, double w, double h, const kpi *k, const rdata *d)
{
	chart_fill(cr, x, y, w, h, (chart_rgb){0.955, 0.962, 0.972});
	chart_fill(cr, x, y, 3, h, CHART_ACCENT);
	chart_text(cr, x + 10, y + 16, k->label, 8.5, false, CHART_LEFT, CHART_GREY);
	char v[64];
	if (k->money)
		chart_money((int64_t)k->cur, d->minor, v, sizeof v);
	else
		snprintf(v, sizeof v, "%.1f days", k->cur);
	chart_text_fit(cr, x + 10, y + 38, w - 16, v, 15, true, CHART_LEFT, CHART_INK);
	char ch[96];
	chart_rgb col = CHART_GREY;
	if (!k->has_prev || k->prev == 0) {
		snprintf(ch, sizeof ch, "no figure for %s", d->prev_title);
	} else {
		double pct = (k->cur - k->prev) / fabs(k->prev) * 100.0;
		bool up = pct > 0.05, down = pct < -0.05;
		snprintf(ch, sizeof ch, "%s %.1f%% vs %s", up ? "▲" : down ? "▼" : "=", fabs(pct), d->prev_title);
		if (up || down)
			col = (up == k->up_is_good) ? CHART_GOOD : CHART_BAD;
	}
	chart_text_fit(cr, x + 10, y + h - 10, w - 16, ch, 8, false, CHART_LEFT, col);
}

static void page_kpis(cairo_t *cr, const rdata *d)
{
	chart_text(cr, MARGIN, 62, "Management report", 21, true, CHART_LEFT, CHART_INK);
	chart_text(cr, PAGE_W - MARGIN, 62, d->title, 15, true, CHART_RIGHT, CHART_ACCENT);
	char sub[320], from[DATE_BUFSZ], to[DATE_BUFSZ];
	date_format(d->from, from);
	date_format(d->to, to);
	snprintf(sub, sizeof sub, "%s  ·  %s to %s  ·  amounts in %s", d->name[0] ? d->name : d->slug, from, to,
	         d->currency);
	chart_text_fit(cr, MARGIN, 80, CONTENT_W, sub, 9, false, CHART_LEFT, CHART_GREY);
	chart_rule(cr, MARGIN, 90, PAGE_W - MARGIN, 90, 1.5, CHART_INK);

	json_t *pd = json_object_get(d->dso, "dso"), *ppd = json_object_get(d->pdso, "dso");
	kpi k[6] = {
		{"Cash in", (double)jint(d->ov, "cash_in"), (double)jint(d->pov, "cash_in"), true, true, true},
		{"Cash out", (double)jint(d->ov, "cash_out"), (double)jint(d->pov, "cash_out"), true, false, true},
		{"Net cash flow", (double)jint(d->ov, "net"), (double)jint(d->pov, "net"), true, true, true},
		{"Sales", (double)jint(d->ov, "sales"), (double)jint(d->pov, "sales"), true, true, true},
		{"Receivables outstanding", (double)jint(d->ov, "outstanding"), (double)jint(d->pov, "outstanding"), true,
		 false, true},
		{"Days sales outstanding", json_number_value(pd), json_number_value(ppd), false, false, json_is_number(ppd)},
	};
	double gap = 10, w = (CONTENT_W - 2 * gap) / 3, h = 62, y = 104;
	for (int i = 0; i < 6; i++) {
		if (i == 5 && !json_is_number(pd)) {
			k[i].cur = 0;
			k[i].has_prev = false;
		}
		kpi_card(cr, MARGIN + (i % 3) * (w + gap), y + (i / 3) * (h + gap), w, h, &k[i], d);
	}
	y += 2 * h + gap + 34;
	char note[320], m[48];
	chart_money(jint(d->ov, "closing_balance"), d->minor, m, sizeof m);
	int nn = snprintf(note, sizeof note, "closing balance %s", m);
	/* Cash in other currencies is not in these figures: say so, apart. */
	json_t *oc = json_object_get(d->ov, "other_currencies"), *oe;
	size_t oi;
	json_array_foreach(oc, oi, oe) {
		const char *code = json_string_value(json_object_get(oe, "currency"));
		if (!code || !jint(oe, "cash_in") || nn < 0 || (size_t)nn >= sizeof note)
			continue;
		chart_money(jint(oe, "cash_in"), currency_minor(code, strlen(code)), m, sizeof m);
		nn += snprintf(note + nn, sizeof note - (size_t)nn, "%s%s %s", nn && strstr(note, "apart") ? ", " :
		               "  ·  received apart: ", code, m);
	}
	y = section(cr, y, "Cash flow, last 12 months", note);
	json_t *b = json_object_get(d->cf, "buckets");
	int n = (int)json_array_size(b);
	if (n > 12)
		n = 12;
	int64_t in[12], out[12], bal[12];
	char lab[12][16];
	const char *labels[12];
	for (int i = 0; i < n; i++) {
		json_t *e = json_array_get(b, (size_t)i);
		in[i] = jint(e, "inflow");
		out[i] = jint(e, "outflow");
		bal[i] = jint(e, "balance");
		month_label(jstr(e, "start"), lab[i], sizeof lab[i]);
		labels[i] = lab[i];
	}
	double lx = chart_legend(cr, MARGIN + 40, y + 4, "Cash in (payments)", CHART_IN);
	chart_legend(cr, lx, y + 4, "Cash out (costs)", CHART_OUT);
	chart_bars(cr, MARGIN + 40, y + 16, CONTENT_W - 40, 220, labels, n, in, out, d->minor, CHART_IN, CHART_OUT);
	y += 16 + 220 + 34;
	y = section(cr, y, "Cash balance at month end", NULL);
	chart_line(cr, MARGIN + 40, y + 8, CONTENT_W - 40, 170, labels, n, bal, d->minor, CHART_ACCENT);
}

/* ---- page 2: the cash-flow table and costs by category ---- */

static void page_costs(cairo_t *cr, const rdata *d)
{
	double y = section(cr, 62, "Cash flow by month", d->currency);
	json_t *b = json_object_get(d->cf, "buckets");
	int n = (int)json_array_size(b);
	if (n > 12)
		n = 12;
	static const char *const head[] = {"Month", "Cash in", "Cash out", "Net", "Balance at end"};
	static const double widths[] = {111.28, 100, 100, 100, 100};
	static const chart_align al[] = {CHART_LEFT, CHART_RIGHT, CHART_RIGHT, CHART_RIGHT, CHART_RIGHT};
	char ***rows = cells_new(n + 1, 5);
	int64_t tin = 0, tout = 0;
	for (int i = 0; i < n; i++) {
		json_t *e = json_array_get(b, (size_t)i);
		const char *start = jstr(e, "start");
		int m = atoi(start + 5);
		char lab[32];
		snprintf(lab, sizeof lab, "%s %.4s", m >= 1 && m <= 12 ? month_names[m - 1] : "?", start);
		rows[i][0] = xstrdup(lab);
		rows[i][1] = fmt_money(d, jint(e, "inflow"));
		rows[i][2] = fmt_money(d, jint(e, "outflow"));
		rows[i][3] = fmt_money(d, jint(e, "net"));
		rows[i][4] = fmt_money(d, jint(e, "balance"));
		tin += jint(e, "inflow");
		tout += jint(e, "outflow");
	}
	rows[n][0] = xstrdup("12 months");
	rows[n][1] = fmt_money(d, tin);
	rows[n][2] = fmt_money(d, tout);
	rows[n][3] = fmt_money(d, tin - tout);
	chart_table_spec t = {5, head, widths, al, 9, true};
	y = chart_table(cr, MARGIN, y, &t, rows, n + 1);
	cells_free(rows, n + 1, 5);

	char note[160], m[48];
	chart_money(jint(json_object_get(d->costs, "total"), "amount"), d->minor, m, sizeof m);
	snprintf(note, sizeof note, "%s, total %s", d->title, m);
	y = section(cr, y + 34, "Costs by category", note);
	json_t *items = json_object_get(d->costs, "items");
	json_t *other = json_object_get(d->costs, "other");
	int ni = (int)json_array_size(items);
	if (ni > 8)
		ni = 8;
	bool has_other = jint(other, "count") > 0;
	int nb = ni + (has_other ? 1 : 0);
	const char *labels[9];
	int64_t v[9];
	for (int i = 0; i < ni; i++) {
		json_t *e = json_array_get(items, (size_t)i);
		labels[i] = jstr(e, "key");
		v[i] = jint(e, "amount");
	}
	if (has_other) {
		labels[ni] = "Other categories";
		v[ni] = jint(other, "amount");
	}
	if (nb == 0) {
		chart_text(cr, MARGIN, y + 12, "No costs were recorded this month.", 9, false, CHART_LEFT, CHART_GREY);
		return;
	}
	chart_hbars(cr, MARGIN, y, CONTENT_W, 16.0 * nb, labels, nb, v, d->minor, CHART_OUT);
	y += 16.0 * nb + 14;
	static const char *const chead[] = {"Category", "Entries", "Amount", "Share"};
	static const double cw[] = {231.28, 80, 120, 80};
	static const chart_align cal[] = {CHART_LEFT, CHART_RIGHT, CHART_RIGHT, CHART_RIGHT};
	int64_t total = jint(json_object_get(d->costs, "total"), "amount");
	char ***cr2 = cells_new(nb + 1, 4);
	for (int i = 0; i < nb; i++) {
		json_t *e = i < ni ? json_array_get(items, (size_t)i) : other;
		cr2[i][0] = xstrdup(labels[i]);
		cr2[i][1] = fmt_int(jint(e, "count"));
		cr2[i][2] = fmt_money(d, v[i]);
		cr2[i][3] = fmt_share(v[i], total);
	}
	cr2[nb][0] = xstrdup("Total");
	cr2[nb][1] = fmt_int(jint(json_object_get(d->costs, "total"), "count"));
	cr2[nb][2] = fmt_money(d, total);
	cr2[nb][3] = xstrdup(total ? "100.0%" : "-");
	chart_table_spec ct = {4, chead, cw, cal, 9, true};
	chart_table(cr, MARGIN, y, &ct, cr2, nb + 1);
	cells_free(cr2, nb + 1, 4);
}

/* ---- page 3: receivables and customers ---- */

static void page_receivables(cairo_t *cr, const rdata *d)
{
	char note[128], asof[DATE_BUFSZ];
	date_format(d->to, asof);
	json_t *dso = json_object_get(d->dso, "dso");
	if (json_is_number(dso))
		snprintf(note, sizeof note, "as of %s  ·  DSO %.1f days", asof, json_number_value(dso));
	else
		snprintf(note, sizeof note, "as of %s", asof);
	double y = section(cr, 62, "Receivables aging", note);
	static const char *const keys[] = {"current", "1_30", "31_60", "61_90", "over_90"};
	static const char *const names[] = {"Not yet due", "1-30 days late", "31-60 days late", "61-90 days late",
	                                    "Over 90 days late"};
	json_t *bk = json_object_get(d->aging, "buckets");
	int64_t v[5];
	for (int i = 0; i < 5; i++)
		v[i] = jint(json_object_get(bk, keys[i]), "amount");
	chart_bars(cr, MARGIN + 40, y, CONTENT_W - 40, 150, names, 5, v, NULL, d->minor, CHART_ACCENT, CHART_ACCENT);
	y += 150 + 12;
	static const char *const head[] = {"Bucket", "Invoices", "Outstanding", "Share"};
	static const double w[] = {231.28, 80, 120, 80};
	static const chart_align al[] = {CHART_LEFT, CHART_RIGHT, CHART_RIGHT, CHART_RIGHT};
	json_t *tot = json_object_get(d->aging, "total");
	char ***rows = cells_new(6, 4);
	for (int i = 0; i < 5; i++) {
		rows[i][0] = xstrdup(names[i]);
		rows[i][1] = fmt_int(jint(json_object_get(bk, keys[i]), "count"));
		rows[i][2] = fmt_money(d, v[i]);
		rows[i][3] = fmt_share(v[i], jint(tot, "amount"));
	}
	rows[5][0] = xstrdup("Total outstanding");
	rows[5][1] = fmt_int(jint(tot, "count"));
	rows[5][2] = fmt_money(d, jint(tot, "amount"));
	rows[5][3] = xstrdup(jint(tot, "amount") ? "100.0%" : "-");
	chart_table_spec t = {4, head, w, al, 9, true};
	y = chart_table(cr, MARGIN, y, &t, rows, 6);
	cells_free(rows, 6, 4);

	y = section(cr, y + 34, "Top customers by sales", d->title);
	json_t *items = json_object_get(d->top, "items");
	int n = (int)json_array_size(items);
	if (n > 10)
		n = 10;
	if (n == 0) {
		chart_text(cr, MARGIN, y + 12, "No sales this month.", 9, false, CHART_LEFT, CHART_GREY);
		return;
	}
	int64_t sales = jint(d->ov, "sales");
	static const char *const th[] = {"#", "Customer", "Orders", "Sales", "Share"};
	static const double tw[] = {30, 241.28, 70, 100, 70};
	static const chart_align ta[] = {CHART_RIGHT, CHART_LEFT, CHART_RIGHT, CHART_RIGHT, CHART_RIGHT};
	char ***tr = cells_new(n, 5);
	for (int i = 0; i < n; i++) {
		json_t *e = json_array_get(items, (size_t)i);
		tr[i][0] = fmt_int(i + 1);
		tr[i][1] = xstrdup(jstr(e, "customer"));
		tr[i][2] = fmt_int(jint(e, "count"));
		tr[i][3] = fmt_money(d, jint(e, "amount"));
		tr[i][4] = fmt_share(jint(e, "amount"), sales);
	}
	chart_table_spec tt = {5, th, tw, ta, 9, false};
	chart_table(cr, MARGIN, y, &tt, tr, n);
	cells_free(tr, n, 5);
}

/* ---- page 4: leads and payers ---- */

static void page_leads(cairo_t *cr, const rdata *d)
{
	char asof[DATE_BUFSZ], note[160];
	date_format(d->to, asof);
	snprintf(note, sizeof note, "leads created in %s; follow-ups as of %s", d->title, asof);
	double y = section(cr, 62, "Lead follow-ups", note);
	json_t *cs = json_object_get(d->leads, "creators");
	int n = (int)json_array_size(cs);
	int shown = n > MAX_LEAD_ROWS ? MAX_LEAD_ROWS : n;
	static const char *const head[] = {"Salesperson", "New leads", "Won", "Lost", "Follow-ups due", "Overdue"};
	static const double w[] = {151.28, 62, 56, 56, 96, 90};
	static const chart_align al[] = {CHART_LEFT, CHART_RIGHT, CHART_RIGHT, CHART_RIGHT, CHART_RIGHT, CHART_RIGHT};
	char ***rows = cells_new(shown + 1, 6);
	int64_t t[5] = {0};
	for (int i = 0; i < n; i++) {
		json_t *e = json_array_get(cs, (size_t)i);
		json_t *bs = json_object_get(e, "by_status");
		int64_t f[5] = {jint(e, "created"), jint(bs, "won"), jint(bs, "lost"), jint(e, "followups_due"),
		                jint(e, "overdue_followups")};
		for (int k = 0; k < 5; k++)
			t[k] += f[k];
		if (i >= shown)
			continue;
		rows[i][0] = xstrdup(jstr(e, "creator"));
		for (int k = 0; k < 5; k++)
			rows[i][k + 1] = fmt_int(f[k]);
	}
	rows[shown][0] = xstrdup(n > shown ? "All salespeople" : "Total");
	for (int k = 0; k < 5; k++)
		rows[shown][k + 1] = fmt_int(t[k]);
	chart_table_spec tt = {6, head, w, al, 9, true};
	y = chart_table(cr, MARGIN, y, &tt, rows, shown + 1);
	cells_free(rows, shown + 1, 6);
	if (n > shown) {
		char more[96];
		snprintf(more, sizeof more, "%d more salespeople are counted in the total only.", n - shown);
		chart_text(cr, MARGIN, y + 12, more, 8, false, CHART_LEFT, CHART_GREY);
		y += 14;
	}
	if (t[4] > 0) {
		char warn[128];
		snprintf(warn, sizeof warn, "%lld follow-ups are overdue: open leads whose follow-up date has passed.",
		         (long long)t[4]);
		chart_text(cr, MARGIN, y + 14, warn, 9, true, CHART_LEFT, CHART_BAD);
		y += 16;
	}

	y = section(cr, y + 34, "Slowest payers", "invoices due in the last 12 months, fully paid");
	json_t *pc = json_object_get(d->behaviour, "customers");
	int np = (int)json_array_size(pc);
	if (np > 10)
		np = 10;
	if (np == 0) {
		chart_text(cr, MARGIN, y + 12, "No invoice due in these months has been paid in full yet.", 9, false,
		           CHART_LEFT, CHART_GREY);
		return;
	}
	static const char *const ph[] = {"Customer", "Invoices paid", "Average days late", "Paid late"};
	static const double pw[] = {231.28, 90, 100, 90};
	static const chart_align pa[] = {CHART_LEFT, CHART_RIGHT, CHART_RIGHT, CHART_RIGHT};
	char ***pr = cells_new(np, 4);
	for (int i = 0; i < np; i++) {
		json_t *e = json_array_get(pc, (size_t)i);
		char b[32];
		pr[i][0] = xstrdup(jstr(e, "customer"));
		pr[i][1] = fmt_int(jint(e, "invoices_paid"));
		snprintf(b, sizeof b, "%.1f", json_number_value(json_object_get(e, "avg_days_late")));
		pr[i][2] = xstrdup(b);
		snprintf(b, sizeof b, "%.0f%%", 100.0 * json_number_value(json_object_get(e, "share_late")));
		pr[i][3] = xstrdup(b);
	}
	chart_table_spec pt = {4, ph, pw, pa, 9, false};
	chart_table(cr, MARGIN, y, &pt, pr, np);
	cells_free(pr, np, 4);
}

/* ---- the run ---- */

static bool cancelled(atomic_int *cancel)
{
	return cancel && atomic_load(cancel);
}

int report_run(store_t *s, int64_t org, int year, int month, const char *path, report_progress_fn progress,
               void *ud, atomic_int *cancel, char *err, size_t errlen)
{
	rdata d = {.year = year, .month = month};
	d.from = date_from_ymd(year, month, 1);
	d.to = date_from_ymd(year, month, date_days_in_month(year, month));
	d.pfrom = date_add_months(d.from, -1);
	d.pto = d.from - 1;
	int py, pm, pd;
	date_to_ymd(d.pfrom, &py, &pm, &pd);
	snprintf(d.title, sizeof d.title, "%s %d", month_names[month - 1], year);
	snprintf(d.prev_title, sizeof d.prev_title, "%s %d", month_names[pm - 1], py);
	if (progress)
		progress(ud, 5, "reading the figures");
	if (load(s, org, &d, err, errlen) != 0) {
		unload(&d);
		return -1;
	}
	char *tmp = xmalloc(strlen(path) + 8);
	sprintf(tmp, "%s.tmp", path);
	int rc = -1;
	cairo_surface_t *surf = cairo_pdf_surface_create(tmp, PAGE_W, PAGE_H);
	if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, cairo_status_to_string(cairo_surface_status(surf)));
		cairo_surface_destroy(surf);
		goto out;
	}
	char title[128];
	snprintf(title, sizeof title, "Management report %s", d.title);
	cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, title);
	cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, "brisk " BRISK_VERSION);
	cairo_t *cr = cairo_create(surf);
	void (*pages[REPORT_PAGES])(cairo_t *, const rdata *) = {page_kpis, page_costs, page_receivables, page_leads};
	static const char *const what[REPORT_PAGES] = {"drawing the KPIs and the cash flow", "drawing the costs",
	                                              "drawing the receivables", "drawing the leads"};
	bool ok = true;
	for (int i = 0; i < REPORT_PAGES && ok; i++) {
		if (cancelled(cancel)) {
			snprintf(err, errlen, "cancelled; no file was kept");
			ok = false;
			break;
		}
		if (progress)
			progress(ud, 20 + i * 20, what[i]);
		pages[i](cr, &d);
		page_frame(cr, &d, i + 1);
		cairo_show_page(cr);
	}
	cairo_destroy(cr);
	cairo_surface_finish(surf);
	cairo_status_t st = cairo_surface_status(surf);
	cairo_surface_destroy(surf);
	if (ok && st != CAIRO_STATUS_SUCCESS) {
		snprintf(err, errlen, "cannot write the PDF: %s", cairo_status_to_string(st));
		ok = false;
	}
	if (ok) {
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) != 0) {
			snprintf(err, errlen, "cannot write the PDF: %s", strerror(errno));
			ok = false;
		}
		if (fd >= 0)
			close(fd);
	}
	if (ok && rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot move the report into place at %s: %s", path, strerror(errno));
		ok = false;
	}
	if (!ok) {
		unlink(tmp);
		goto out;
	}
	if (progress)
		progress(ud, 100, "done");
	rc = 0;
out:
	free(tmp);
	unload(&d);
	return rc;
}

void report_shutdown(void)
{
	cairo_debug_reset_static_data();
	/* fontconfig (loaded by cairo, not linked by us) keeps its parsed
	 * configuration until FcFini; looked up so brisk needs no direct
	 * dependency on it. */
	void (*fini)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "FcFini");
	if (fini)
		fini();
}
