#include "dataset/dsvalue.h"

#include <stdio.h>
#include <string.h>

#include "core/decimal.h"
#include "ingest/csv.h"

static bool digits(const char *p, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return n > 0;
}

/* "YYYY-MM", "YYYY/MM", "YYYY-Qn", "YYYYQn", "YYYY Qn", "Qn YYYY", "Qn-YYYY", "YYYY". */
static bool short_form(slice_t v, interval_t grain, date_t *out)
{
	int y, m, q;
	const char *p = v.p;
	size_t n = v.len;
	if (grain == INTERVAL_YEAR && n == 4 && digits(p, 4, &y) && y >= 1) {
		*out = date_from_ymd(y, 1, 1);
		return true;
	}
	if (grain == INTERVAL_MONTH && n >= 6 && n <= 7 && digits(p, 4, &y) && (p[4] == '-' || p[4] == '/') &&
	    digits(p + 5, n - 5, &m) && y >= 1 && m >= 1 && m <= 12) {
		*out = date_from_ymd(y, m, 1);
		return true;
	}
	if (grain == INTERVAL_QUARTER) {
		const char *yp = NULL, *qp = NULL;
		if (n >= 6 && n <= 7 && digits(p, 4, &y)) {
			yp = p;
			qp = p + n - 2;
			if (n == 7 && !strchr("- /", p[4]))
				return false;
		} else if (n >= 6 && n <= 7 && (p[0] == 'Q' || p[0] == 'q')) {
			qp = p;
			yp = p + n - 4;
			if (n == 7 && !strchr("- /", p[2]))
				return false;
		}
		if (yp && (qp[0] == 'Q' || qp[0] == 'q') && digits(yp, 4, &y) && digits(qp + 1, 1, &q) && q >= 1 && q <= 4 &&
		    y >= 1) {
			*out = date_from_ymd(y, 3 * q - 2, 1);
			return true;
		}
	}
	return false;
}

bool dsvalue_time(slice_t v, interval_t grain, const char *fmt, date_t *out, char *why, size_t whylen)
{
	v = slice_trim(v);
	if (!v.len) {
		snprintf(why, whylen, "is blank");
		return false;
	}
	date_t d;
	timestamp_t ts;
	if (short_form(v, grain, &d)) {
		*out = d;
		return true;
	}
	if (!timestamp_parse_fmt(v.p, v.len, fmt, &ts)) {
		static const char *const forms[] = {[INTERVAL_DAY] = "a date YYYY-MM-DD",
		                                    [INTERVAL_MONTH] = "a month YYYY-MM or a date YYYY-MM-DD",
		                                    [INTERVAL_QUARTER] = "a quarter YYYY-Qn or a date YYYY-MM-DD",
		                                    [INTERVAL_YEAR] = "a year YYYY or a date YYYY-MM-DD"};
		snprintf(why, whylen, "'%.*s' is not %s%s%s", (int)(v.len > 40 ? 40 : v.len), v.p,
		         grain == INTERVAL_WEEK ? "a date" : forms[grain], fmt ? " in the format " : "", fmt ? fmt : "");
		return false;
	}
	*out = date_bucket_start(ts.date, grain);
	return true;
}

bool dsvalue_measure(slice_t v, int scale, const money_opts *mo, int64_t *out, char *why, size_t whylen)
{
	v = slice_trim(v);
	decimal_t d;
	int sh = (int)(v.len > 40 ? 40 : v.len);
	if (!decimal_parse(v.p, v.len, mo, &d)) {
		bool comma = memchr(v.p, ',', v.len) != NULL && (!mo || mo->decimal != ',');
		snprintf(why, whylen, "'%.*s' is not a number%s", sh, v.p,
		         comma ? " (a decimal comma? try decimal_comma, or thousands ,)" : "");
		return false;
	}
	switch (decimal_to_minor(d, scale, mo && mo->round, out)) {
	case DECIMAL_OK:
		return true;
	case DECIMAL_INEXACT:
		snprintf(why, whylen, "'%.*s' has more than %d decimal%s (round would round it)", sh, v.p, scale,
		         scale == 1 ? "" : "s");
		return false;
	default:
		snprintf(why, whylen, "'%.*s' is too large (at most 10^15 units of 10^-%d)", sh, v.p, scale);
		return false;
	}
}

bool dsvalue_dim(slice_t v, slice_t *out, char *why, size_t whylen)
{
	*out = csv_unguard(slice_trim(v));
	if (out->len > DSVALUE_MAX_TEXT) {
		snprintf(why, whylen, "a value of %zu bytes is longer than %d", out->len, DSVALUE_MAX_TEXT);
		return false;
	}
	return true;
}
