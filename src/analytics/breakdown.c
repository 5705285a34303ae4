#include <stdio.h>
#include <string.h>

#include "analytics/analytics.h"
#include "analytics/internal.h"
#include "analytics/source.h"

static const struct {
	const char *of, *by;
	rollup_metric metric;
} kinds[] = {
	{"costs", "category", ROLLUP_COSTS_CATEGORY},
	{"costs", "vendor", ROLLUP_COSTS_VENDOR},
	{"sales", "status", ROLLUP_SALES_STATUS},
	/* The by-customer rollup leaves cancelled orders out, as sales does. */
	{"sales", "customer", ROLLUP_SALES_CUSTOMER},
};

static void put_range(buf_t *out, const analytics_params *p)
{
	buf_puts(out, "\"from\":");
	an_put_date(out, p->from);
	buf_puts(out, ",\"to\":");
	an_put_date(out, p->to);
}

/* The kinds[] entry of (of, by), or -1 with the reason in err. */
static int kind_of(const char *of, const char *by, char *err, size_t errlen)
{
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
		if (of && by && !strcmp(kinds[k].of, of) && !strcmp(kinds[k].by, by))
			return (int)k;
	snprintf(err, errlen, "unknown breakdown '%s' by '%s': costs by category|vendor, sales by status|customer",
	         of ? of : "", by ? by : "");
	return -1;
}

void an_breakdown_put(const analytics_params *p, const char *of, const char *by, an_items *it, buf_t *out)
{
	an_items_sort_amount(it);
	int64_t tc = 0, ta = 0, oc = 0, oa = 0;
	for (size_t i = 0; i < it->n; i++) {
		tc += it->v[i].cnt;
		ta += it->v[i].total;
		if (i >= (size_t)p->top) {
			oc += it->v[i].cnt;
			oa += it->v[i].total;
		}
	}
	buf_puts(out, "{\"of\":");
	buf_json_str(out, of, strlen(of));
	buf_puts(out, ",\"by\":");
	buf_json_str(out, by, strlen(by));
	buf_putc(out, ',');
	put_range(out, p);
	buf_printf(out, ",\"total\":{\"count\":%lld,\"amount\":%lld},\"items\":[", (long long)tc, (long long)ta);
	for (size_t i = 0; i < it->n && i < (size_t)p->top; i++) {
		buf_puts(out, i ? ",{\"key\":" : "{\"key\":");
		buf_json_str(out, it->v[i].key, it->v[i].klen);
		buf_printf(out, ",\"count\":%lld,\"amount\":%lld}", (long long)it->v[i].cnt, (long long)it->v[i].total);
	}
	buf_printf(out, "],\"other\":{\"count\":%lld,\"amount\":%lld}}", (long long)oc, (long long)oa);
}

int analytics_breakdown(store_conn_t *c, const analytics_params *p, const char *of, const char *by, buf_t *out,
                        char *err, size_t errlen)
{
	int k;
	if (an_check_params(p, err, errlen) != 0 || (k = kind_of(of, by, err, errlen)) < 0)
		return -1;
	an_items it = {0};
	if (source_by_dim(c, p->org, p->naive, kinds[k].metric, p->from, p->to, &it, err, errlen) != 0) {
		an_items_free(&it);
		return -1;
	}
	an_breakdown_put(p, kinds[k].of, kinds[k].by, &it, out);
	an_items_free(&it);
	return 0;
}

void an_top_customers_put(const analytics_params *p, an_items *it, buf_t *out)
{
	an_items_sort_amount(it);
	buf_putc(out, '{');
	put_range(out, p);
	buf_puts(out, ",\"items\":[");
	for (size_t i = 0; i < it->n && i < (size_t)p->top; i++) {
		buf_puts(out, i ? ",{\"customer\":" : "{\"customer\":");
		buf_json_str(out, it->v[i].key, it->v[i].klen);
		buf_printf(out, ",\"amount\":%lld,\"count\":%lld}", (long long)it->v[i].total, (long long)it->v[i].cnt);
	}
	buf_puts(out, "]}");
}

int analytics_top_customers(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen)
{
	if (an_check_params(p, err, errlen) != 0)
		return -1;
	an_items it = {0};
	int rc = source_by_dim(c, p->org, p->naive, ROLLUP_SALES_CUSTOMER, p->from, p->to, &it, err, errlen);
	if (rc == 0)
		an_top_customers_put(p, &it, out);
	an_items_free(&it);
	return rc;
}
