/* The dashboard views: parameters validated here, figures computed by
 * src/analytics on one read snapshot, wrapped in the envelope. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "analytics/analytics.h"
#include "http/api.h"

#define MAX_RANGE_DAYS 3660 /* ten years: bounds the work of one request */

typedef int (*view_fn)(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen);

static bool parse_date_param(http_req_t *r, const char *name, date_t *out)
{
	const char *v = query_get(&r->query, name);
	if (!v)
		return true;
	if (!date_parse(v, strlen(v), out)) {
		http_problem(r, 400, "parameter '%s' must be a date YYYY-MM-DD, not '%.40s'", name, v);
		return false;
	}
	return true;
}

/* from/to/interval/as_of/date/top with defaults: the 365 days ending today. */
static bool parse_params(http_server_t *srv, http_req_t *r, analytics_params *p)
{
	memset(p, 0, sizeof *p);
	p->org = r->org;
	p->naive = http_server_config(srv)->naive;
	p->to = date_today();
	p->interval = INTERVAL_MONTH;
	p->top = 10;
	bool has_from = query_get(&r->query, "from") != NULL;
	if (!parse_date_param(r, "to", &p->to) || !parse_date_param(r, "from", &p->from))
		return false;
	if (!has_from)
		p->from = p->to - 364;
	if (p->from > p->to) {
		http_problem(r, 400, "'from' is after 'to'");
		return false;
	}
	if (p->to - p->from + 1 > MAX_RANGE_DAYS) {
		http_problem(r, 400, "the range spans %d days; at most %d are allowed", p->to - p->from + 1, MAX_RANGE_DAYS);
		return false;
	}
	p->as_of = p->to;
	p->day = p->to;
	if (!parse_date_param(r, "as_of", &p->as_of) || !parse_date_param(r, "date", &p->day))
		return false;
	const char *iv = query_get(&r->query, "interval");
	if (iv && !interval_parse(iv, strlen(iv), &p->interval)) {
		http_problem(r, 400, "parameter 'interval' must be day, week, month, quarter or year, not '%.20s'", iv);
		return false;
	}
	const char *top = query_get(&r->query, "top");
	if (top) {
		char *end;
		long n = strtol(top, &end, 10);
		if (*end || end == top || n < 1 || n > 100) {
			http_problem(r, 400, "parameter 'top' must be a whole number from 1 to 100");
			return false;
		}
		p->top = (int)n;
	}
	return true;
}

/* ETag = the data versions the view reads + its normalised parameters, so
 * an unchanged answer costs no computation at all. */
static bool etag_check(http_server_t *srv, http_req_t *r, const analytics_params *p, unsigned tables,
                       const char *extra)
{
	store_t *s = http_server_store(srv);
	store_refresh_versions(s);
	uint64_t v[TBL__COUNT + 8];
	int n = 0;
	for (int t = 0; t < TBL__COUNT; t++)
		v[n++] = tables & TBL_BIT(t) ? store_version(s, r->org, (store_table)t) : 0;
	v[n++] = (uint64_t)r->org;
	v[n++] = ((uint64_t)(uint32_t)p->from << 32) | (uint32_t)p->to;
	v[n++] = ((uint64_t)(uint32_t)p->as_of << 32) | (uint32_t)p->day;
	v[n++] = ((uint64_t)p->interval << 32) | (uint32_t)p->top;
	v[n++] = p->naive;
	v[n++] = XXH3_64bits(r->route->name, strlen(r->route->name));
	v[n++] = extra ? XXH3_64bits(extra, strlen(extra)) : 0;
	char tag[48];
	snprintf(tag, sizeof tag, "\"v%016llx\"", (unsigned long long)XXH3_64bits(v, (size_t)n * sizeof v[0]));
	return http_not_modified(r, tag);
}

static void run_view(http_server_t *srv, http_req_t *r, const char *const *allowed, unsigned tables, view_fn fn)
{
	analytics_params p;
	if (!api_check_params(r, allowed) || !parse_params(srv, r, &p))
		return;
	if (etag_check(srv, r, &p, tables | TBL_BIT(TBL_SETTINGS), NULL))
		return;
	store_conn_t *c = store_read_begin(http_server_store(srv));
	api_org o;
	if (api_org_load(c, r, &o)) {
		p.opening_balance = o.opening_balance;
		api_envelope_begin(r, &o);
		char err[256];
		if (fn(c, &p, &r->out, err, sizeof err) == 0) {
			api_envelope_end(r);
			http_json(r, 200);
		} else {
			http_problem(r, 500, "could not compute the view: %s", err);
		}
	}
	store_read_end(c);
}

#define ALL_TABLES 0xffffu
#define RANGE "from", "to"

void api_views_dashboard(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {RANGE, "interval", "as_of", "date", "top", NULL};
	run_view(srv, r, allowed, ALL_TABLES, analytics_dashboard);
}

void api_views_overview(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {RANGE, "as_of", "date", NULL};
	run_view(srv, r, allowed, ALL_TABLES, analytics_overview);
}

void api_views_cashflow(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {RANGE, "interval", NULL};
	run_view(srv, r, allowed, TBL_BIT(TBL_PAYMENTS) | TBL_BIT(TBL_COSTS), analytics_cashflow);
}

void api_views_aging(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {"as_of", NULL};
	run_view(srv, r, allowed, TBL_BIT(TBL_INVOICES) | TBL_BIT(TBL_ALLOCATIONS) | TBL_BIT(TBL_PAYMENTS),
	         analytics_aging);
}

void api_views_leads_summary(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {RANGE, "date", NULL};
	run_view(srv, r, allowed, TBL_BIT(TBL_LEADS), analytics_leads_summary);
}

void api_views_top_customers(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {RANGE, "top", NULL};
	run_view(srv, r, allowed, TBL_BIT(TBL_SALES_ORDERS), analytics_top_customers);
}

void api_views_dso(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {"as_of", NULL};
	run_view(srv, r, allowed, TBL_BIT(TBL_INVOICES) | TBL_BIT(TBL_ALLOCATIONS) | TBL_BIT(TBL_PAYMENTS),
	         analytics_dso);
}

void api_views_payment_behaviour(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {RANGE, NULL};
	run_view(srv, r, allowed, TBL_BIT(TBL_INVOICES) | TBL_BIT(TBL_ALLOCATIONS) | TBL_BIT(TBL_PAYMENTS),
	         analytics_payment_behaviour);
}

void api_views_breakdown(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {RANGE, "of", "by", "top", NULL};
	analytics_params p;
	if (!api_check_params(r, allowed) || !parse_params(srv, r, &p))
		return;
	const char *of = query_get(&r->query, "of"), *by = query_get(&r->query, "by");
	if (!of || !by) {
		http_problem(r, 400, "breakdown needs 'of' (costs or sales) and 'by' (costs: category or vendor; "
		                     "sales: status or customer)");
		return;
	}
	bool costs = !strcmp(of, "costs"), sales = !strcmp(of, "sales");
	if (!(costs && (!strcmp(by, "category") || !strcmp(by, "vendor"))) &&
	    !(sales && (!strcmp(by, "status") || !strcmp(by, "customer")))) {
		http_problem(r, 400, "cannot break down '%.20s' by '%.20s': use of=costs&by=category|vendor or "
		                     "of=sales&by=status|customer", of, by);
		return;
	}
	char extra[64];
	snprintf(extra, sizeof extra, "%s/%s", of, by);
	unsigned tables = TBL_BIT(costs ? TBL_COSTS : TBL_SALES_ORDERS) | TBL_BIT(TBL_SETTINGS);
	if (etag_check(srv, r, &p, tables, extra))
		return;
	store_conn_t *c = store_read_begin(http_server_store(srv));
	api_org o;
	if (api_org_load(c, r, &o)) {
		api_envelope_begin(r, &o);
		char err[256];
		if (analytics_breakdown(c, &p, of, by, &r->out, err, sizeof err) == 0) {
			api_envelope_end(r);
			http_json(r, 200);
		} else {
			http_problem(r, 500, "could not compute the breakdown: %s", err);
		}
	}
	store_read_end(c);
}
