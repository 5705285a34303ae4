#include <stdio.h>
#include <string.h>

#include "analytics/analytics.h"
#include "core/money.h"

/* One parser for the list API, exports and export tasks: the same filter
 * must mean the same rows, with the same message when it is wrong. */

static bool money_filter(analytics_get_fn get, void *ud, const char *name, bool *has, int64_t *out, char *why,
                         size_t whylen)
{
	const char *v = get(ud, name);
	if (!v)
		return true;
	money_status st = money_parse(v, strlen(v), out);
	if (st != MONEY_OK) {
		snprintf(why, whylen, "parameter '%s' must be an amount such as 12.50 (%s)", name, money_strerror(st));
		return false;
	}
	*has = true;
	return true;
}

static bool date_filter(analytics_get_fn get, void *ud, const char *name, bool *has, date_t *out, char *why,
                        size_t whylen)
{
	const char *v = get(ud, name);
	if (!v)
		return true;
	if (!date_parse(v, strlen(v), out)) {
		snprintf(why, whylen, "parameter '%s' must be a date YYYY-MM-DD", name);
		return false;
	}
	*has = true;
	return true;
}

static bool fields_filter(const char *v, entity_kind k, uint32_t *fields, char *why, size_t whylen)
{
	for (const char *p = v; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		uint32_t bit = analytics_field_bit(k, p, len);
		if (!bit) {
			snprintf(why, whylen, "unknown field '%.*s' for %s", (int)(len > 40 ? 40 : len), p, entity_get(k)->name);
			return false;
		}
		*fields |= bit;
		p += len + (e ? 1 : 0);
	}
	return true;
}

bool analytics_list_filters(analytics_list_params *lp, entity_kind k, analytics_get_fn get, void *ud, char *why,
                            size_t whylen)
{
	if (!date_filter(get, ud, "from", &lp->has_from, &lp->from, why, whylen) ||
	    !date_filter(get, ud, "to", &lp->has_to, &lp->to, why, whylen) ||
	    !money_filter(get, ud, "min_amount", &lp->has_min, &lp->min_amount, why, whylen) ||
	    !money_filter(get, ud, "max_amount", &lp->has_max, &lp->max_amount, why, whylen))
		return false;
	lp->category = get(ud, "category");
	lp->status = get(ud, "status");
	lp->customer = get(ud, "customer");
	lp->creator = get(ud, "creator");
	lp->vendor = get(ud, "vendor");
	lp->q = get(ud, "q");
	const char *v;
	if ((v = get(ud, "sort"))) {
		static const char *const sorts[] = {"-date", "date", "-amount", "amount"};
		int found = -1;
		for (int i = 0; i < 4; i++)
			if (!strcmp(v, sorts[i]))
				found = i;
		if (found < 0) {
			snprintf(why, whylen, "sort must be date, -date, amount or -amount");
			return false;
		}
		lp->sort = (analytics_sort)found;
	}
	if ((v = get(ud, "fields")) && !fields_filter(v, k, &lp->fields, why, whylen))
		return false;
	return true;
}
