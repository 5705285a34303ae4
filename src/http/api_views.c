/* The dashboard views: parameters validated here, figures computed by
 * src/analytics on one read snapshot, wrapped in the envelope. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "analytics/analytics.h"
#include "http/api.h"
#include "http/admission.h"
#include "http/app.h"
#include "http/warm.h"

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

/* The cache key (and ETag) = org + view + normalised parameters (km) + the
 * data versions the view reads, so an unchanged answer costs no
 * computation and a write makes every older answer unreachable at once. */
static bool view_key(http_server_t *srv, http_req_t *r, unsigned tables, const void *km, size_t kmlen,
                     rcache_key *k)
{
	store_t *s = http_server_store(srv);
	/* Versions are looked up exactly on every request (a commit by another
	 * process counts at once), but an event loop never waits on the store:
	 * when it would, the request goes to a worker, which may. */
	bool known;
	if (r->on_worker) {
		/* once per request: the admission pass's look would cost a round
		 * trip on PostgreSQL and tell nothing the first did not (it was
		 * taken after the request arrived) */
		if (!r->vers_looked)
			r->vers_known = store_refresh_versions(s);
		r->vers_looked = true;
		known = r->vers_known;
	} else {
		if (store_refresh_versions_try(s) != 1) {
			r->defer = true;
			return false;
		}
		known = true;
	}
	uint64_t v[TBL__COUNT];
	for (int t = 0; t < TBL__COUNT; t++)
		v[t] = tables & TBL_BIT(t) ? store_version(s, r->org, (store_table)t) : 0;
	rcache_key_init(k, r->org, r->route->name);
	rcache_key_add(k, km, kmlen);
	rcache_key_finish(k, v, TBL__COUNT);
	/* Unreadable store: the versions may be stale, so no cached answer may
	 * pass for fresh; compute (which will likely fail) or say stale. */
	k->no_lookup = !known;
	return true;
}

typedef struct {
	http_server_t *srv;
	http_req_t *r;
	api_view_fn fn;
	void *ud;
} compute_ctx;

/* Computes the enveloped view in a fresh read snapshot. */
static int compute(void *ud, buf_t *out, char *err, size_t errlen)
{
	compute_ctx *x = ud;
	store_t *s = http_server_store(x->srv);
	store_conn_t *c = store_read_begin(s);
	api_org o;
	int rc = -1;
	if (!api_org_load_known(s, c, x->r, &o)) {
		snprintf(err, errlen, "the organisation no longer exists");
		goto out;
	}
	http_req_t tmp = {0}; /* the envelope helpers write to a request */
	tmp.out = *out;
	api_envelope_begin(&tmp, &o);
	*out = tmp.out;
	rc = x->fn(x->ud, c, &o, out, err, errlen);
	if (rc == 0)
		buf_putc(out, '}');
out:
	store_read_end(c);
	return rc;
}

typedef struct {
	analytics_params p;
	view_fn fn;
	const char *of, *by; /* breakdown only */
} builtin_view;

static int compute_builtin(void *ud, store_conn_t *c, const api_org *o, buf_t *out, char *err, size_t errlen)
{
	builtin_view *v = ud;
	v->p.opening_balance = o->opening_balance;
	return v->of ? analytics_breakdown(c, &v->p, v->of, v->by, out, err, errlen) : v->fn(c, &v->p, out, err, errlen);
}

/* Answers from a cached (or freshly built) entry, picking the variant the
 * client accepts. */
static void respond_entry(http_req_t *r, lru_entry_t *e, const char *source)
{
	slice_t body = lru_entry_blob(e, RC_BODY), gz = lru_entry_blob(e, RC_GZIP), zs = lru_entry_blob(e, RC_ZSTD);
	slice_t etag = lru_entry_blob(e, RC_ETAG);
	buf_reset(&r->out);
	if (body.len >= 1024 && r->accept_zstd && zs.len && zs.len < body.len) {
		buf_put(&r->out, zs.p, zs.len);
		r->encoding_out = "zstd";
	} else if (body.len >= 1024 && r->accept_gzip && gz.len && gz.len < body.len) {
		buf_put(&r->out, gz.p, gz.len);
		r->encoding_out = "gzip";
	} else {
		buf_put(&r->out, body.p, body.len);
	}
	snprintf(r->etag, sizeof r->etag, "%.*s", (int)etag.len, etag.p);
	http_add_header(r, "X-Cache", source);
	http_json(r, 200);
}

void api_view_serve(http_server_t *srv, http_req_t *r, unsigned tables, const void *km, size_t kmlen, bool warmable,
                    api_view_fn fn, void *ud)
{
	app_t *app = http_server_app(srv);
	rcache_key k;
	compute_ctx cx = {srv, r, fn, ud}, *x = &cx;
	if (!view_key(srv, r, tables | TBL_BIT(TBL_SETTINGS), km, kmlen, &k))
		return; /* deferred to a worker */
	char tag[24];
	snprintf(tag, sizeof tag, "\"v%016llx\"", (unsigned long long)k.hash);
	if (!k.no_lookup && http_not_modified(r, tag))
		return;
	if (!r->on_worker) {
		/* On the event loop only an L1 hit is answered; anything else
		 * goes to a worker so the loop never waits on the store. */
		lru_entry_t *e = rcache_get_l1(app->cache, &k);
		r->l1_looked = true;
		if (!e) {
			/* a miss: computed from the admission pool, in its turn */
			r->defer = true;
			r->admit = 1 + ADM_DASHBOARD;
			return;
		}
		rcache_count_l1_hit(app->cache, e);
		respond_entry(r, e, "HIT-L1");
		lru_entry_release(e);
		return;
	}
	if (warmable && app->warm && strcmp(r->request_id, "warm") != 0)
		warm_note(app->warm, r->org, r->route->name, r->nparams ? r->params[0] : (slice_t){"", 0}, r->raw_query);
	if (!r->l1_looked) {
		/* Deferred before the loop could look (the versions needed a look
		 * at the store, as every request on PostgreSQL): look and count
		 * here, as the loop would have. */
		lru_entry_t *e = rcache_get_l1(app->cache, &k);
		if (e) {
			rcache_count_l1_hit(app->cache, e);
			respond_entry(r, e, "HIT-L1");
			lru_entry_release(e);
			return;
		}
		r->l1_looked = true;
	}
	if (!r->admitted) {
		/* found missing on a plain worker: wait for admission */
		r->defer = true;
		r->admit = 1 + ADM_DASHBOARD;
		return;
	}
	rcache_source src;
	char err[256];
	lru_entry_t *e = rcache_fetch(app->cache, &k, "application/json", compute, x, &src, err, sizeof err);
	if (!e) {
		http_problem(r, 503, "could not compute the view: %s", err);
		return;
	}
	static const char *const names[] = {"HIT-L1", "HIT-L2", "HIT-L3", "MISS", "COALESCED", "STALE"};
	respond_entry(r, e, names[src]);
	if (src == RC_STALE) {
		/* Never silently: the client is told the figures are an older copy. */
		http_add_header(r, "X-Brisk-Stale", "true");
		http_add_header(r, "Warning", "110 brisk \"Response is stale: the store is unavailable\"");
	}
	lru_entry_release(e);
}

/* The key material of a built-in view: its normalised parameters. */
static void builtin_serve(http_server_t *srv, http_req_t *r, builtin_view *v, unsigned tables, const char *extra)
{
	const analytics_params *p = &v->p;
	int32_t parts[] = {p->from, p->to, p->as_of, p->day, (int32_t)p->interval, p->top, p->naive};
	char km[sizeof parts + 64] = {0};
	memcpy(km, parts, sizeof parts);
	size_t n = sizeof parts;
	if (extra)
		n += (size_t)snprintf(km + n, sizeof km - n, "%s", extra) + 1;
	api_view_serve(srv, r, tables, km, n, true, compute_builtin, v);
}

static void run_view(http_server_t *srv, http_req_t *r, const char *const *allowed, unsigned tables, view_fn fn)
{
	builtin_view v = {.fn = fn};
	if (!api_check_params(r, allowed) || !parse_params(srv, r, &v.p))
		return;
	builtin_serve(srv, r, &v, tables, NULL);
}

#define ALL_TABLES (TBL_BIT(TBL_DATASETS) - 1) /* every built-in table */
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
	builtin_view v = {p, NULL, of, by};
	builtin_serve(srv, r, &v, TBL_BIT(costs ? TBL_COSTS : TBL_SALES_ORDERS), extra);
}
