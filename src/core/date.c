#include "core/date.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * DESIGN
 *
 * A date is a day count, so differences, ranges and sorting are plain integer
 * arithmetic. Conversions use Howard Hinnant's days_from_civil /
 * civil_from_days: they shift the year to start on 1 March so the leap day is
 * the last day of the shifted year, then count whole 400-year eras (146097
 * days). They are exact for every proleptic Gregorian date, with no tables and
 * no dependence on time_t, the TZ variable or the C library's locale.
 */

static int floor_div(int64_t a, int b)
{
	int64_t q = a / b;
	if ((a % b) != 0 && ((a < 0) != (b < 0)))
		q--;
	return (int)q;
}

static int floor_mod(int64_t a, int b)
{
	return (int)(a - (int64_t)floor_div(a, b) * b);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads exactly n digits at s. */
static bool read_fixed(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Parses "YYYY-MM-DD" at s, which must have at least 10 bytes. */
static bool parse_ymd10(const char *s, date_t *out)
{
	int y, m, d;
	if (!read_fixed(s, 4, &y) || s[4] != '-' || !read_fixed(s + 5, 2, &m) || s[7] != '-' ||
	    !read_fixed(s + 8, 2, &d))
		return false;
	if (!date_valid(y, m, d))
		return false;
	*out = date_from_ymd(y, m, d);
	return true;
}

bool date_parse(const char *s, size_t len, date_t *out)
{
	if (!s || len != 10)
		return false;
	return parse_ymd10(s, out);
}

static const char *const month_names[12] = {
	"january", "february", "march",     "april",   "may",      "june",
	"july",    "august",   "september", "october", "november", "december",
};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Matches the first n letters of name at p, case-insensitively. */
static bool match_prefix(const char *p, const char *end, const char *name, size_t n)
{
	if ((size_t)(end - p) < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != name[i])
			return false;
	return true;
}

/*
 * Reads a month name at *pp. Like strptime, %b and %B both take either form;
 * the full name is tried first so "June" is not read as "Jun" + "e".
 */
static bool read_month_name(const char **pp, const char *end, int *m)
{
	for (int i = 0; i < 12; i++) {
		size_t n = strlen(month_names[i]);
		if (match_prefix(*pp, end, month_names[i], n)) {
			*pp += n;
			*m = i + 1;
			return true;
		}
	}
	for (int i = 0; i < 12; i++) {
		if (match_prefix(*pp, end, month_names[i], 3)) {
			*pp += 3;
			*m = i + 1;
			return true;
		}
	}
	return false;
}

/* Reads between min and max digits at *pp, greedily. */
static bool read_digits(const char **pp, const char *end, int min, int max, int *out)
{
	const char *p = *pp;
	int v = 0, n = 0;
	while (n < max && p < end && is_digit(*p)) {
		v = v * 10 + (*p - '0');
		p++;
		n++;
	}
	if (n < min)
		return false;
	*pp = p;
	*out = v;
	return true;
}

/* A time of day and offset after a date: "[ T]HH:MM[:SS][ ][Z|+HH[:]MM]". */
static bool read_offset(const char **pp, const char *end, int16_t *off)
{
	const char *p = *pp;
	if (p < end && *p == 'Z') {
		*off = 0;
		*pp = p + 1;
		return true;
	}
	if (p >= end || (*p != '+' && *p != '-'))
		return false;
	int sign = *p == '-' ? -1 : 1, oh, om = 0;
	p++;
	if (!read_digits(&p, end, 2, 2, &oh))
		return false;
	if (p < end && *p == ':')
		p++;
	if (p < end && !read_digits(&p, end, 2, 2, &om))
		return false;
	if (om > 59 || oh * 60 + om > 18 * 60)
		return false;
	*off = (int16_t)(sign * (oh * 60 + om));
	*pp = p;
	return true;
}

static bool read_time(const char **pp, const char *end, timestamp_t *t)
{
	const char *p = *pp;
	int hh, mi, ss = 0;
	if (p >= end || (*p != ' ' && *p != 'T'))
		return false;
	p++;
	if (!read_digits(&p, end, 1, 2, &hh) || p >= end || *p != ':')
		return false;
	p++;
	if (!read_digits(&p, end, 2, 2, &mi))
		return false;
	if (p < end && *p == ':') {
		p++;
		if (!read_digits(&p, end, 2, 2, &ss))
			return false;
	}
	if (hh > 23 || mi > 59 || ss > 59)
		return false;
	t->has_time = true;
	t->seconds = hh * 3600 + mi * 60 + ss;
	const char *q = p < end && *p == ' ' ? p + 1 : p;
	if (read_offset(&q, end, &t->offset_min)) {
		t->has_offset = true;
		p = q;
	}
	*pp = p;
	return true;
}

/* Reads the date of fmt at *pp (not necessarily the whole input). */
static bool parse_fmt_at(const char **pp, const char *end, const char *fmt, timestamp_t *t)
{
	const char *p = *pp;
	int y = -1, m = -1, d = -1, hh = -1, mi = 0, ss = 0;

	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			if (p >= end || *p != *f)
				return false;
			p++;
			continue;
		}
		f++;
		switch (*f) {
		case 'Y':
			/* Exactly 4 digits: a 2-digit year under %Y is a wrong format, not year 25. */
			if (!read_digits(&p, end, 4, 4, &y))
				return false;
			break;
		case 'y':
			/* The POSIX strptime pivot: 69-99 are 1969-1999, 00-68 are 2000-2068. */
			if (!read_digits(&p, end, 2, 2, &y))
				return false;
			y += y >= 69 ? 1900 : 2000;
			break;
		case 'm':
			if (!read_digits(&p, end, 1, 2, &m))
				return false;
			break;
		case 'e':
			/* strftime pads %e with a space: " 5". */
			if (p < end && *p == ' ')
				p++;
			/* fall through */
		case 'd':
			if (!read_digits(&p, end, 1, 2, &d))
				return false;
			break;
		case 'b':
		case 'B':
			if (!read_month_name(&p, end, &m))
				return false;
			break;
		case 'H':
			if (!read_digits(&p, end, 1, 2, &hh) || hh > 23)
				return false;
			break;
		case 'M':
			if (!read_digits(&p, end, 2, 2, &mi) || mi > 59)
				return false;
			break;
		case 'S':
			if (!read_digits(&p, end, 2, 2, &ss) || ss > 59)
				return false;
			break;
		case 'z':
			if (!read_offset(&p, end, &t->offset_min))
				return false;
			t->has_offset = true;
			break;
		case '%':
			if (p >= end || *p != '%')
				return false;
			p++;
			break;
		default:
			/* Unknown conversions, and a lone '%' at the end of fmt. */
			return false;
		}
	}
	if (y < 0 || m < 0 || d < 0 || !date_valid(y, m, d))
		return false;
	t->date = date_from_ymd(y, m, d);
	if (hh >= 0) {
		t->has_time = true;
		t->seconds = hh * 3600 + mi * 60 + ss;
	}
	*pp = p;
	return true;
}

bool date_parse_fmt(const char *s, size_t len, const char *fmt, date_t *out)
{
	if (!s || !fmt)
		return false;
	const char *p = s, *end = s + len;
	timestamp_t t = {0};
	if (!parse_fmt_at(&p, end, fmt, &t) || p != end)
		return false;
	*out = t.date;
	return true;
}

bool timestamp_parse_fmt(const char *s, size_t len, const char *fmt, timestamp_t *out)
{
	if (!s)
		return false;
	const char *p = s, *end = s + len;
	timestamp_t t = {0};
	if (!fmt) {
		if (len < 10 || !parse_ymd10(s, &t.date))
			return false;
		p += 10;
	} else if (!parse_fmt_at(&p, end, fmt, &t)) {
		return false;
	}
	if (!t.has_time && p < end && !read_time(&p, end, &t))
		return false;
	if (!t.has_offset && p < end) {
		const char *q = p < end && *p == ' ' && t.has_time ? p + 1 : p;
		if (!read_offset(&q, end, &t.offset_min))
			return false;
		t.has_offset = true;
		p = q;
	}
	if (p != end)
		return false;
	*out = t;
	return true;
}

bool date_fmt_check(const char *fmt, char *why, size_t whylen)
{
	int y = 0, m = 0, d = 0;
	for (const char *f = fmt; *f; f++) {
		if (*f != '%')
			continue;
		switch (*++f) {
		case 'Y': case 'y': y++; break;
		case 'm': case 'b': case 'B': m++; break;
		case 'd': case 'e': d++; break;
		case 'H': case 'M': case 'S': case 'z': case '%': break;
		case '\0':
			snprintf(why, whylen, "date format '%.40s' ends with a lone %%", fmt);
			return false;
		default:
			snprintf(why, whylen, "date format '%.40s': unknown conversion %%%c (use %%Y %%y %%m %%d %%e %%b %%B %%H %%M %%S %%z)",
			         fmt, *f);
			return false;
		}
	}
	if (y != 1 || m != 1 || d != 1) {
		snprintf(why, whylen, "date format '%.40s' needs one year (%%Y or %%y), one month (%%m, %%b) and one day (%%d, %%e)",
		         fmt);
		return false;
	}
	return true;
}

size_t date_format(date_t d, char *buf)
{
	int y, m, dd;
	date_to_ymd(d, &y, &m, &dd);
	/* Out-of-range years keep their last 4 digits so buf is never overrun. */
	y = floor_mod(y, 10000);
	buf[0] = (char)('0' + y / 1000);
	buf[1] = (char)('0' + y / 100 % 10);
	buf[2] = (char)('0' + y / 10 % 10);
	buf[3] = (char)('0' + y % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m / 10);
	buf[6] = (char)('0' + m % 10);
	buf[7] = '-';
	buf[8] = (char)('0' + dd / 10);
	buf[9] = (char)('0' + dd % 10);
	buf[10] = '\0';
	return 10;
}

date_t date_from_ymd(int y, int m, int d)
{
	/* Normalising the month first lets date_add_months pass any month count. */
	int64_t yy = (int64_t)y + floor_div((int64_t)m - 1, 12);
	int64_t mm = floor_mod((int64_t)m - 1, 12) + 1;
	yy -= mm <= 2;
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (mm > 2 ? mm - 3 : mm + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (date_t)(era * 146097 + doe - 719468);
}

void date_to_ymd(date_t d, int *y, int *m, int *dd)
{
	int64_t z = (int64_t)d + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t day = doy - (153 * mp + 2) / 5 + 1;
	int64_t mon = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (mon <= 2));
	*m = (int)mon;
	*dd = (int)day;
}

bool date_valid(int y, int m, int d)
{
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= date_days_in_month(y, m);
}

int date_days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12)
		return 0;
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int date_weekday(date_t d)
{
	/* 1970-01-01 was a Thursday (ISO 4). */
	return floor_mod((int64_t)d + 3, 7) + 1;
}

void date_iso_week(date_t d, int *iso_year, int *week)
{
	/* An ISO week belongs to the year that holds its Thursday. */
	date_t thu = d - (date_weekday(d) - 1) + 3;
	int y, m, dd;
	date_to_ymd(thu, &y, &m, &dd);
	*iso_year = y;
	*week = (thu - date_from_ymd(y, 1, 1)) / 7 + 1;
}

date_t date_add_months(date_t d, int n)
{
	int y, m, dd;
	date_to_ymd(d, &y, &m, &dd);
	int64_t total = (int64_t)y * 12 + (m - 1) + n;
	int ny = floor_div(total, 12);
	int nm = floor_mod(total, 12) + 1;
	int dim = date_days_in_month(ny, nm);
	return date_from_ymd(ny, nm, dd < dim ? dd : dim);
}

static const char *const interval_names[] = {
	[INTERVAL_DAY] = "day",         [INTERVAL_WEEK] = "week", [INTERVAL_MONTH] = "month",
	[INTERVAL_QUARTER] = "quarter", [INTERVAL_YEAR] = "year",
};

bool interval_parse(const char *s, size_t len, interval_t *out)
{
	if (!s)
		return false;
	for (int i = INTERVAL_DAY; i <= INTERVAL_YEAR; i++) {
		if (strlen(interval_names[i]) == len && memcmp(s, interval_names[i], len) == 0) {
			*out = (interval_t)i;
			return true;
		}
	}
	return false;
}

const char *interval_name(interval_t iv)
{
	if ((int)iv < INTERVAL_DAY || iv > INTERVAL_YEAR)
		return "unknown";
	return interval_names[iv];
}

date_t date_bucket_start(date_t d, interval_t iv)
{
	int y, m, dd;
	switch (iv) {
	case INTERVAL_DAY:
		return d;
	case INTERVAL_WEEK:
		return d - (date_weekday(d) - 1);
	case INTERVAL_MONTH:
		date_to_ymd(d, &y, &m, &dd);
		return date_from_ymd(y, m, 1);
	case INTERVAL_QUARTER:
		date_to_ymd(d, &y, &m, &dd);
		return date_from_ymd(y, (m - 1) / 3 * 3 + 1, 1);
	case INTERVAL_YEAR:
		date_to_ymd(d, &y, &m, &dd);
		return date_from_ymd(y, 1, 1);
	}
	return d;
}

date_t date_bucket_next(date_t d, interval_t iv)
{
	date_t s = date_bucket_start(d, iv);
	switch (iv) {
	case INTERVAL_DAY:
		return s + 1;
	case INTERVAL_WEEK:
		return s + 7;
	case INTERVAL_MONTH:
		return date_add_months(s, 1);
	case INTERVAL_QUARTER:
		return date_add_months(s, 3);
	case INTERVAL_YEAR:
		return date_add_months(s, 12);
	}
	return d + 1;
}

bool timestamp_parse(const char *s, size_t len, timestamp_t *out)
{
	if (!s || len < 10)
		return false;
	timestamp_t t = {0};
	if (!parse_ymd10(s, &t.date))
		return false;
	const char *p = s + 10, *end = s + len;

	if (p < end && (*p == 'T' || *p == ' ')) {
		int hh, mi, ss;
		if (end - p < 9 || !read_fixed(p + 1, 2, &hh) || p[3] != ':' ||
		    !read_fixed(p + 4, 2, &mi) || p[6] != ':' || !read_fixed(p + 7, 2, &ss))
			return false;
		if (hh > 23 || mi > 59 || ss > 59)
			return false;
		t.has_time = true;
		t.seconds = hh * 3600 + mi * 60 + ss;
		p += 9;
	}

	if (p < end && *p == 'Z') {
		t.has_offset = true;
		p++;
	} else if (p < end && (*p == '+' || *p == '-')) {
		int oh, om;
		if (end - p < 6 || !read_fixed(p + 1, 2, &oh) || p[3] != ':' ||
		    !read_fixed(p + 4, 2, &om))
			return false;
		if (om > 59 || oh * 60 + om > 18 * 60)
			return false;
		t.has_offset = true;
		t.offset_min = (int16_t)((*p == '-' ? -1 : 1) * (oh * 60 + om));
		p += 6;
	}

	if (p != end)
		return false;
	*out = t;
	return true;
}

static char *put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

char *date_utc_iso(int64_t unix_s, char *buf)
{
	/* day arithmetic, not gmtime_r: no time_t range or libc dependence */
	int64_t day = unix_s / 86400, sec = unix_s % 86400;
	if (sec < 0) {
		sec += 86400;
		day--;
	}
	timestamp_t t = {.date = (date_t)day, .seconds = (int32_t)sec, .has_time = true, .has_offset = true};
	timestamp_format(&t, buf);
	return buf;
}

size_t timestamp_format(const timestamp_t *t, char *buf)
{
	char *p = buf + date_format(t->date, buf);
	if (t->has_time) {
		int sec = t->seconds;
		*p++ = 'T';
		p = put2(p, sec / 3600);
		*p++ = ':';
		p = put2(p, sec / 60 % 60);
		*p++ = ':';
		p = put2(p, sec % 60);
	}
	if (t->has_offset) {
		int off = t->offset_min;
		if (off == 0) {
			*p++ = 'Z';
		} else {
			*p++ = off < 0 ? '-' : '+';
			if (off < 0)
				off = -off;
			p = put2(p, off / 60);
			*p++ = ':';
			p = put2(p, off % 60);
		}
	}
	*p = '\0';
	return (size_t)(p - buf);
}

date_t date_today(void)
{
	const char *env = getenv("BRISK_TODAY");
	date_t d;
	/* An invalid override falls back to the clock rather than to a fake date. */
	if (env && date_parse(env, strlen(env), &d))
		return d;
	return (date_t)floor_div((int64_t)time(NULL), 86400);
}
