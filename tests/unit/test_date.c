#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/date.h"

static date_t ymd(int y, int m, int d)
{
	cr_assert(date_valid(y, m, d), "%04d-%02d-%02d", y, m, d);
	return date_from_ymd(y, m, d);
}

static bool parse(const char *s, date_t *out)
{
	return date_parse(s, strlen(s), out);
}

static bool parse_fmt(const char *s, const char *fmt, date_t *out)
{
	return date_parse_fmt(s, strlen(s), fmt, out);
}

static void expect_fmt(const char *s, const char *fmt, int y, int m, int d)
{
	date_t v = -1;
	cr_expect(parse_fmt(s, fmt, &v), "\"%s\" with \"%s\" rejected", s, fmt);
	cr_expect_eq(v, ymd(y, m, d), "\"%s\" with \"%s\"", s, fmt);
}

static void expect_fmt_bad(const char *s, const char *fmt)
{
	date_t v = 4242;
	cr_expect_not(parse_fmt(s, fmt, &v), "\"%s\" with \"%s\" accepted", s, fmt);
	cr_expect_eq(v, 4242);
}

/* glibc's view of a day count, for cross-checks (time_t is 64-bit here). */
static struct tm tm_of(date_t d)
{
	time_t t = (time_t)d * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	return tm;
}

Test(date_civil, epoch_and_known_days)
{
	cr_expect_eq(date_from_ymd(1970, 1, 1), 0);
	cr_expect_eq(date_from_ymd(1970, 1, 2), 1);
	cr_expect_eq(date_from_ymd(1969, 12, 31), -1);
	cr_expect_eq(date_from_ymd(2000, 3, 1), 11017);
	cr_expect_eq(date_from_ymd(2025, 1, 1), 20089);
	cr_expect_eq(date_from_ymd(1, 1, 1), -719162);
	cr_expect_eq(date_from_ymd(9999, 12, 31), 2932896);
	int y, m, d;
	date_to_ymd(-719162, &y, &m, &d);
	cr_expect(y == 1 && m == 1 && d == 1);
	date_to_ymd(2932896, &y, &m, &d);
	cr_expect(y == 9999 && m == 12 && d == 31);
}

Test(date_civil, from_ymd_normalises_month)
{
	cr_expect_eq(date_from_ymd(2024, 13, 1), date_from_ymd(2025, 1, 1));
	cr_expect_eq(date_from_ymd(2024, 0, 1), date_from_ymd(2023, 12, 1));
	cr_expect_eq(date_from_ymd(2024, -11, 1), date_from_ymd(2023, 1, 1));
	cr_expect_eq(date_from_ymd(2024, 1, 32), date_from_ymd(2024, 2, 1));
}

Test(date_civil, every_day_1900_2100)
{
	date_t first = ymd(1900, 1, 1), last = ymd(2100, 12, 31);
	int py = 1899, pm = 12, pd = 31, pw = date_weekday(first - 1);
	for (date_t d = first; d <= last; d++) {
		int y, m, dd;
		date_to_ymd(d, &y, &m, &dd);
		cr_assert(date_valid(y, m, dd), "%d", d);
		cr_assert_eq(date_from_ymd(y, m, dd), d);

		/* Consecutive days are consecutive calendar dates. */
		if (y == py && m == pm)
			cr_assert_eq(dd, pd + 1);
		else if (y == py)
			cr_assert(m == pm + 1 && dd == 1 && pd == date_days_in_month(py, pm));
		else
			cr_assert(y == py + 1 && m == 1 && dd == 1 && pm == 12 && pd == 31);

		int w = date_weekday(d);
		cr_assert(w >= 1 && w <= 7);
		cr_assert_eq(w, pw % 7 + 1, "weekday of %d", d);

		char buf[DATE_BUFSZ];
		cr_assert_eq(date_format(d, buf), 10);
		date_t back;
		cr_assert(parse(buf, &back), "%s", buf);
		cr_assert_eq(back, d);
		char ref[32];
		snprintf(ref, sizeof(ref), "%04d-%02d-%02d", y, m, dd);
		cr_assert_str_eq(buf, ref);

		py = y;
		pm = m;
		pd = dd;
		pw = w;
	}
}

Test(date_civil, full_range_round_trip)
{
	for (date_t d = ymd(1, 1, 1); d <= ymd(9999, 12, 31); d++) {
		int y, m, dd;
		date_to_ymd(d, &y, &m, &dd);
		cr_assert(date_valid(y, m, dd));
		cr_assert_eq(date_from_ymd(y, m, dd), d);
	}
}

Test(date_civil, matches_glibc_1970_2100)
{
	for (date_t d = ymd(1970, 1, 1); d <= ymd(2100, 12, 31); d++) {
		struct tm tm = tm_of(d);
		int y, m, dd;
		date_to_ymd(d, &y, &m, &dd);
		cr_assert(y == tm.tm_year + 1900 && m == tm.tm_mon + 1 && dd == tm.tm_mday);
		cr_assert_eq(date_weekday(d), tm.tm_wday == 0 ? 7 : tm.tm_wday);
	}
}

Test(date_civil, weekdays)
{
	cr_expect_eq(date_weekday(0), 4);                   /* 1970-01-01 Thursday */
	cr_expect_eq(date_weekday(ymd(2024, 1, 1)), 1);     /* Monday */
	cr_expect_eq(date_weekday(ymd(2025, 6, 15)), 7);    /* Sunday */
	cr_expect_eq(date_weekday(ymd(1900, 1, 1)), 1);     /* Monday */
	cr_expect_eq(date_weekday(ymd(1, 1, 1)), 1);        /* proleptic Monday */
}

Test(date_civil, valid_and_days_in_month)
{
	cr_expect(date_valid(2024, 2, 29));
	cr_expect_not(date_valid(2025, 2, 29));
	cr_expect(date_valid(2000, 2, 29));
	cr_expect_not(date_valid(1900, 2, 29));
	cr_expect_not(date_valid(2025, 13, 1));
	cr_expect_not(date_valid(2025, 0, 1));
	cr_expect_not(date_valid(2025, 1, 0));
	cr_expect_not(date_valid(2025, 4, 31));
	cr_expect_not(date_valid(0, 1, 1));
	cr_expect_not(date_valid(10000, 1, 1));
	cr_expect(date_valid(1, 1, 1));
	cr_expect(date_valid(9999, 12, 31));
	int want[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	for (int m = 1; m <= 12; m++) {
		cr_expect_eq(date_days_in_month(2023, m), want[m - 1]);
		cr_expect_eq(date_days_in_month(2024, m), m == 2 ? 29 : want[m - 1]);
	}
	cr_expect_eq(date_days_in_month(2100, 2), 28);
	cr_expect_eq(date_days_in_month(2400, 2), 29);
	cr_expect_eq(date_days_in_month(2024, 0), 0);
	cr_expect_eq(date_days_in_month(2024, 13), 0);
}

Test(date_parse, accepts)
{
	date_t d;
	cr_expect(parse("2025-01-01", &d));
	cr_expect_eq(d, 20089);
	cr_expect(parse("2024-02-29", &d));
	cr_expect_eq(d, ymd(2024, 2, 29));
	cr_expect(parse("0001-01-01", &d));
	cr_expect_eq(d, ymd(1, 1, 1));
	cr_expect(parse("9999-12-31", &d));
	cr_expect(parse("1970-01-01", &d));
	cr_expect_eq(d, 0);
	cr_expect(date_parse("2025-03-04xyz", 10, &d));
	cr_expect_eq(d, ymd(2025, 3, 4));
}

Test(date_parse, rejects)
{
	const char *bad[] = {
		"2025-02-29", "2025-13-01", "2025-1-01", "2025-01-1", "2025-01-01 ", " 2025-01-01",
		"2025-01-01x", "2025-00-10", "2025-01-00", "2025-01-32", "2025-04-31", "1900-02-29",
		"0000-01-01", "25-01-01", "2025/01/01", "2025-01-01T00:00:00", "20250101", "",
		"2025-01", "abcd-ef-gh", "2025-0a-01", "+025-01-01", "-025-01-01", "2025--1-01",
		"2025-01-+1", "２０２５-01-01", "2025_01_01", "12025-01-01",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		date_t d = 4242;
		cr_expect_not(parse(bad[i], &d), "\"%s\" accepted", bad[i]);
		cr_expect_eq(d, 4242);
	}
	date_t d;
	cr_expect_not(date_parse(NULL, 0, &d));
	cr_expect_not(date_parse("2025-01-01", 9, &d));
	cr_expect_not(date_parse("2025-01-01\0", 11, &d));
}

Test(date_format, known)
{
	char buf[DATE_BUFSZ];
	cr_expect_eq(date_format(0, buf), 10);
	cr_expect_str_eq(buf, "1970-01-01");
	date_format(ymd(1, 1, 1), buf);
	cr_expect_str_eq(buf, "0001-01-01");
	date_format(ymd(9999, 12, 31), buf);
	cr_expect_str_eq(buf, "9999-12-31");
	date_format(ymd(2024, 2, 29), buf);
	cr_expect_str_eq(buf, "2024-02-29");
}

Test(date_parse_fmt, formats)
{
	expect_fmt("31/12/2025", "%d/%m/%Y", 2025, 12, 31);
	expect_fmt("1/2/2025", "%d/%m/%Y", 2025, 2, 1);
	expect_fmt("01/02/2025", "%d/%m/%Y", 2025, 2, 1);
	expect_fmt("12/31/2025", "%m/%d/%Y", 2025, 12, 31);
	expect_fmt("31.12.25", "%d.%m.%y", 2025, 12, 31);
	expect_fmt("5.1.00", "%d.%m.%y", 2000, 1, 5);
	/* %y pivots like strptime (issue 22 item 11): 69-99 are 19yy, 00-68 20yy */
	expect_fmt("01.01.99", "%d.%m.%y", 1999, 1, 1);
	expect_fmt("31.12.69", "%d.%m.%y", 1969, 12, 31);
	expect_fmt("01.01.68", "%d.%m.%y", 2068, 1, 1);
	expect_fmt("05 Mar 2025", "%d %b %Y", 2025, 3, 5);
	expect_fmt("5 mar 2025", "%d %b %Y", 2025, 3, 5);
	expect_fmt("5 MAR 2025", "%d %b %Y", 2025, 3, 5);
	expect_fmt("5 March 2025", "%d %B %Y", 2025, 3, 5);
	expect_fmt("5 march 2025", "%e %B %Y", 2025, 3, 5);
	expect_fmt(" 5 Mar 2025", "%e %b %Y", 2025, 3, 5);
	expect_fmt("15 Mar 2025", "%e %b %Y", 2025, 3, 15);
	expect_fmt("Sep 9, 2024", "%b %e, %Y", 2024, 9, 9);
	expect_fmt("September 9, 2024", "%B %d, %Y", 2024, 9, 9);
	/* strptime-compatible: %b takes full names, %B abbreviations. */
	expect_fmt("9 September 2024", "%d %b %Y", 2024, 9, 9);
	expect_fmt("9 Sep 2024", "%d %B %Y", 2024, 9, 9);
	expect_fmt("20250704", "%Y%m%d", 2025, 7, 4);
	expect_fmt("2025-07-04", "%Y-%m-%d", 2025, 7, 4);
	expect_fmt("100% 2025-07-04", "100%% %Y-%m-%d", 2025, 7, 4);
	expect_fmt("29/02/2024", "%d/%m/%Y", 2024, 2, 29);
	expect_fmt("2024年2月29日", "%Y年%m月%d日", 2024, 2, 29);
}

Test(date_parse_fmt, rejects)
{
	expect_fmt_bad("29/02/2025", "%d/%m/%Y");
	expect_fmt_bad("31/04/2025", "%d/%m/%Y");
	expect_fmt_bad("12/31/2025", "%d/%m/%Y");
	expect_fmt_bad("00/01/2025", "%d/%m/%Y");
	expect_fmt_bad("01/00/2025", "%d/%m/%Y");
	expect_fmt_bad("01/01/2025 ", "%d/%m/%Y");
	expect_fmt_bad("01/01/2025x", "%d/%m/%Y");
	expect_fmt_bad("01/01/25", "%d/%m/%Y");
	expect_fmt_bad("01/01/025", "%d/%m/%Y");
	expect_fmt_bad("01/01/20255", "%d/%m/%Y");
	expect_fmt_bad("001/01/2025", "%d/%m/%Y");
	expect_fmt_bad("01-01-2025", "%d/%m/%Y");
	expect_fmt_bad("01/01/2025", "%d/%m");
	expect_fmt_bad("01/01", "%d/%m/%Y");
	expect_fmt_bad("01/2025", "%m/%Y");       /* no day */
	expect_fmt_bad("01/2025", "%d/%Y");       /* no month */
	expect_fmt_bad("01/01", "%d/%m");         /* no year */
	expect_fmt_bad("1.1.2025", "%d.%m.%y");
	expect_fmt_bad("1.1.5", "%d.%m.%y");
	expect_fmt_bad("5 Foo 2025", "%d %b %Y");
	expect_fmt_bad("5 Ma 2025", "%d %b %Y");
	expect_fmt_bad("5 Marc 2025", "%d %b %Y");
	expect_fmt_bad("2025-07-04", "%Y-%m-%q");
	expect_fmt_bad("2025-07-04%", "%Y-%m-%d%");
	expect_fmt_bad("2025-07-04x", "%Y-%m-%d%%");
	expect_fmt_bad("", "%Y-%m-%d");
	expect_fmt_bad("2025-07-04", "");
	expect_fmt_bad("  5 Mar 2025", "%e %b %Y");
	expect_fmt_bad("-1/01/2025", "%d/%m/%Y");
	expect_fmt_bad("+1/01/2025", "%d/%m/%Y");
	date_t d;
	cr_expect_not(date_parse_fmt(NULL, 0, "%Y", &d));
	cr_expect_not(date_parse_fmt("2025", 4, NULL, &d));
	cr_expect_not(date_parse_fmt("31/12/2025", 9, "%d/%m/%Y", &d)); /* "31/12/202" */
}

/* Issue 20 item 8: times and offsets after a date, in the import's lenient
 * form; the format string is checked up front. */
Test(date_parse_fmt, timestamps_and_format_check)
{
	timestamp_t t;
	cr_assert(timestamp_parse_fmt("2018-02-25 12:34:56 +0000", 25, NULL, &t));
	cr_expect(t.date == ymd(2018, 2, 25) && t.has_time && t.seconds == 45296 && t.has_offset && t.offset_min == 0);
	cr_assert(timestamp_parse_fmt("7/22/2017", 9, "%m/%d/%Y", &t));
	cr_expect(t.date == ymd(2017, 7, 22) && !t.has_time);
	cr_assert(timestamp_parse_fmt("7/22/2017 9:05", 14, "%m/%d/%Y", &t));
	cr_expect(t.has_time && t.seconds == 9 * 3600 + 300);
	cr_assert(timestamp_parse_fmt("22.07.2017 09:05:01+02:00", 25, "%d.%m.%Y", &t));
	cr_expect(t.offset_min == 120);
	cr_assert(timestamp_parse_fmt("2017-07-22T10:00:00-0530", 24, "%Y-%m-%dT%H:%M:%S%z", &t));
	cr_expect(t.seconds == 36000 && t.offset_min == -330);
	cr_expect_not(timestamp_parse_fmt("2018-02-25 25:00", 16, NULL, &t));
	cr_expect_not(timestamp_parse_fmt("2018-02-25 12:34 junk", 21, NULL, &t));
	char why[160];
	cr_expect(date_fmt_check("%d/%m/%Y %H:%M", why, sizeof why));
	cr_expect_not(date_fmt_check("%d/%m/%Q", why, sizeof why));
	cr_expect(strstr(why, "unknown conversion %Q") != NULL, "%s", why);
	cr_expect_not(date_fmt_check("%d/%m", why, sizeof why));
	cr_expect_not(date_fmt_check("%Y-%m-%d %", why, sizeof why));
}

/* Every day formatted by glibc strftime must parse back with the same format. */
Test(date_parse_fmt, against_strftime)
{
	const char *fmts[] = {"%d/%m/%Y", "%m/%d/%Y", "%d %b %Y", "%e %B %Y", "%Y%m%d",
			      "%b %d, %Y", "%Y-%m-%d", "%d.%m.%y"};
	for (date_t d = ymd(1970, 1, 1); d <= ymd(2100, 12, 31); d++) {
		struct tm tm = tm_of(d);
		for (size_t i = 0; i < sizeof(fmts) / sizeof(*fmts); i++) {
			/* %y pivots at 69, so only 1969-2068 round-trip. */
			if (strstr(fmts[i], "%y") && (tm.tm_year < 69 || tm.tm_year > 168))
				continue;
			char s[64];
			size_t n = strftime(s, sizeof(s), fmts[i], &tm);
			date_t back;
			cr_assert(date_parse_fmt(s, n, fmts[i], &back), "\"%s\" with \"%s\"", s, fmts[i]);
			cr_assert_eq(back, d, "\"%s\" with \"%s\"", s, fmts[i]);
		}
	}
}

Test(date_iso_week, known)
{
	struct {
		int y, m, d, iy, w;
	} cases[] = {
		{2021, 1, 3, 2020, 53}, {2021, 1, 4, 2021, 1},   {2026, 1, 1, 2026, 1},
		{2024, 12, 30, 2025, 1}, {2020, 12, 31, 2020, 53}, {2008, 12, 29, 2009, 1},
		{2010, 1, 3, 2009, 53},  {2025, 6, 15, 2025, 24},  {2027, 1, 1, 2026, 53},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		int iy, w;
		date_iso_week(ymd(cases[i].y, cases[i].m, cases[i].d), &iy, &w);
		cr_expect(iy == cases[i].iy && w == cases[i].w, "%04d-%02d-%02d -> %d-W%02d", cases[i].y,
			  cases[i].m, cases[i].d, iy, w);
	}
}

Test(date_iso_week, against_strftime_1970_2100)
{
	for (date_t d = ymd(1970, 1, 1); d <= ymd(2100, 12, 31); d++) {
		struct tm tm = tm_of(d);
		char ref[32], got[32];
		strftime(ref, sizeof(ref), "%G %V", &tm);
		int iy, w;
		date_iso_week(d, &iy, &w);
		snprintf(got, sizeof(got), "%d %02d", iy, w);
		cr_assert_str_eq(got, ref, "day %d", d);
	}
}

Test(date_add_months, clamping)
{
	cr_expect_eq(date_add_months(ymd(2024, 1, 31), 1), ymd(2024, 2, 29));
	cr_expect_eq(date_add_months(ymd(2025, 1, 31), 1), ymd(2025, 2, 28));
	cr_expect_eq(date_add_months(ymd(2024, 3, 31), -1), ymd(2024, 2, 29));
	cr_expect_eq(date_add_months(ymd(2024, 3, 31), 1), ymd(2024, 4, 30));
	cr_expect_eq(date_add_months(ymd(2024, 12, 15), 1), ymd(2025, 1, 15));
	cr_expect_eq(date_add_months(ymd(2024, 1, 15), -1), ymd(2023, 12, 15));
	cr_expect_eq(date_add_months(ymd(2024, 1, 15), -13), ymd(2022, 12, 15));
	cr_expect_eq(date_add_months(ymd(2024, 2, 29), 12), ymd(2025, 2, 28));
	cr_expect_eq(date_add_months(ymd(2024, 2, 29), 48), ymd(2028, 2, 29));
	cr_expect_eq(date_add_months(ymd(2024, 5, 31), 0), ymd(2024, 5, 31));
	cr_expect_eq(date_add_months(ymd(2024, 8, 31), 1), ymd(2024, 9, 30));
	cr_expect_eq(date_add_months(ymd(2000, 1, 1), 1200), ymd(2100, 1, 1));
	cr_expect_eq(date_add_months(ymd(2000, 1, 1), -1200), ymd(1900, 1, 1));
}

Test(date_add_months, property)
{
	for (date_t d = ymd(1990, 1, 1); d <= ymd(2040, 12, 31); d++) {
		int y, m, dd;
		date_to_ymd(d, &y, &m, &dd);
		for (int n = -25; n <= 25; n++) {
			date_t r = date_add_months(d, n);
			int ry, rm, rd;
			date_to_ymd(r, &ry, &rm, &rd);
			cr_assert_eq(ry * 12 + rm, y * 12 + m + n);
			int dim = date_days_in_month(ry, rm);
			cr_assert_eq(rd, dd < dim ? dd : dim);
		}
	}
}

Test(interval, parse_and_name)
{
	const char *names[] = {"day", "week", "month", "quarter", "year"};
	interval_t ivs[] = {INTERVAL_DAY, INTERVAL_WEEK, INTERVAL_MONTH, INTERVAL_QUARTER, INTERVAL_YEAR};
	for (size_t i = 0; i < 5; i++) {
		interval_t iv = (interval_t)-1;
		cr_expect(interval_parse(names[i], strlen(names[i]), &iv));
		cr_expect_eq(iv, ivs[i]);
		cr_expect_str_eq(interval_name(ivs[i]), names[i]);
	}
	const char *bad[] = {"", "days", "Day", "WEEK", "mon", "quarterly", "yea", "year ", " day", "hour"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		interval_t iv = INTERVAL_YEAR;
		cr_expect_not(interval_parse(bad[i], strlen(bad[i]), &iv), "\"%s\"", bad[i]);
		cr_expect_eq(iv, INTERVAL_YEAR);
	}
	interval_t iv;
	cr_expect(interval_parse("dayX", 3, &iv));
	cr_expect_eq(iv, INTERVAL_DAY);
	cr_expect_not(interval_parse(NULL, 0, &iv));
	cr_expect_not_null(interval_name((interval_t)42));
}

Test(bucket, known)
{
	date_t d = ymd(2025, 8, 14); /* Thursday */
	cr_expect_eq(date_bucket_start(d, INTERVAL_DAY), d);
	cr_expect_eq(date_bucket_next(d, INTERVAL_DAY), d + 1);
	cr_expect_eq(date_bucket_start(d, INTERVAL_WEEK), ymd(2025, 8, 11));
	cr_expect_eq(date_bucket_next(d, INTERVAL_WEEK), ymd(2025, 8, 18));
	cr_expect_eq(date_bucket_start(d, INTERVAL_MONTH), ymd(2025, 8, 1));
	cr_expect_eq(date_bucket_next(d, INTERVAL_MONTH), ymd(2025, 9, 1));
	cr_expect_eq(date_bucket_start(d, INTERVAL_QUARTER), ymd(2025, 7, 1));
	cr_expect_eq(date_bucket_next(d, INTERVAL_QUARTER), ymd(2025, 10, 1));
	cr_expect_eq(date_bucket_start(d, INTERVAL_YEAR), ymd(2025, 1, 1));
	cr_expect_eq(date_bucket_next(d, INTERVAL_YEAR), ymd(2026, 1, 1));
	cr_expect_eq(date_bucket_next(ymd(2025, 12, 31), INTERVAL_QUARTER), ymd(2026, 1, 1));
	cr_expect_eq(date_bucket_start(ymd(2025, 8, 17), INTERVAL_WEEK), ymd(2025, 8, 11)); /* Sunday */
	cr_expect_eq(date_bucket_start(ymd(2025, 8, 18), INTERVAL_WEEK), ymd(2025, 8, 18)); /* Monday */
	cr_expect_eq(date_bucket_start(ymd(2021, 1, 3), INTERVAL_WEEK), ymd(2020, 12, 28));
}

Test(bucket, property_1900_2100)
{
	interval_t ivs[] = {INTERVAL_DAY, INTERVAL_WEEK, INTERVAL_MONTH, INTERVAL_QUARTER, INTERVAL_YEAR};
	for (size_t i = 0; i < 5; i++) {
		interval_t iv = ivs[i];
		date_t prev_start = date_bucket_start(ymd(1900, 1, 1), iv);
		date_t prev_next = date_bucket_next(ymd(1900, 1, 1), iv);
		for (date_t d = ymd(1900, 1, 1); d <= ymd(2100, 12, 31); d++) {
			date_t s = date_bucket_start(d, iv), n = date_bucket_next(d, iv);
			cr_assert(s <= d && d < n, "%s at %d: [%d, %d)", interval_name(iv), d, s, n);
			cr_assert_eq(date_bucket_start(s, iv), s);
			cr_assert_eq(date_bucket_start(n, iv), n);
			cr_assert_eq(date_bucket_start(n - 1, iv), s);
			/* Buckets tile the line: a new one starts exactly where the last ended. */
			if (s != prev_start) {
				cr_assert_eq(s, prev_next);
				cr_assert_eq(s, d);
			} else {
				cr_assert_eq(n, prev_next);
			}
			prev_start = s;
			prev_next = n;

			int y, m, dd;
			date_to_ymd(s, &y, &m, &dd);
			switch (iv) {
			case INTERVAL_DAY:
				cr_assert_eq(n - s, 1);
				break;
			case INTERVAL_WEEK:
				cr_assert_eq(date_weekday(s), 1);
				cr_assert_eq(n - s, 7);
				break;
			case INTERVAL_MONTH:
				cr_assert_eq(dd, 1);
				cr_assert_eq(n - s, date_days_in_month(y, m));
				break;
			case INTERVAL_QUARTER:
				cr_assert(dd == 1 && (m - 1) % 3 == 0);
				cr_assert(n - s >= 90 && n - s <= 92);
				break;
			case INTERVAL_YEAR:
				cr_assert(dd == 1 && m == 1);
				cr_assert(n - s == 365 || n - s == 366);
				break;
			}
		}
	}
}

static void expect_ts(const char *s, const char *canon, int y, int m, int d, int secs, bool has_time,
		      bool has_off, int off)
{
	timestamp_t t;
	memset(&t, 0xab, sizeof(t));
	cr_assert(timestamp_parse(s, strlen(s), &t), "\"%s\" rejected", s);
	cr_expect_eq(t.date, ymd(y, m, d), "\"%s\"", s);
	cr_expect_eq(t.seconds, secs, "\"%s\"", s);
	cr_expect_eq(t.has_time, has_time, "\"%s\"", s);
	cr_expect_eq(t.has_offset, has_off, "\"%s\"", s);
	cr_expect_eq(t.offset_min, off, "\"%s\"", s);
	char buf[TIMESTAMP_BUFSZ];
	size_t n = timestamp_format(&t, buf);
	cr_expect_eq(n, strlen(buf));
	cr_expect_str_eq(buf, canon, "\"%s\"", s);
	timestamp_t back;
	cr_assert(timestamp_parse(buf, n, &back), "\"%s\"", buf);
	cr_expect(back.date == t.date && back.seconds == t.seconds && back.has_time == t.has_time &&
		  back.has_offset == t.has_offset && back.offset_min == t.offset_min);
}

Test(timestamp, accepts)
{
	expect_ts("2025-01-01", "2025-01-01", 2025, 1, 1, 0, false, false, 0);
	expect_ts("2025-01-01T00:00:00", "2025-01-01T00:00:00", 2025, 1, 1, 0, true, false, 0);
	expect_ts("2025-01-01 13:45:07", "2025-01-01T13:45:07", 2025, 1, 1, 49507, true, false, 0);
	expect_ts("2025-01-01T23:59:59Z", "2025-01-01T23:59:59Z", 2025, 1, 1, 86399, true, true, 0);
	expect_ts("2025-01-01T10:00:00+08:00", "2025-01-01T10:00:00+08:00", 2025, 1, 1, 36000, true,
		  true, 480);
	expect_ts("2025-01-01 10:00:00-05:30", "2025-01-01T10:00:00-05:30", 2025, 1, 1, 36000, true,
		  true, -330);
	expect_ts("2025-01-01T10:00:00+18:00", "2025-01-01T10:00:00+18:00", 2025, 1, 1, 36000, true,
		  true, 1080);
	expect_ts("2025-01-01T10:00:00-18:00", "2025-01-01T10:00:00-18:00", 2025, 1, 1, 36000, true,
		  true, -1080);
	expect_ts("2025-01-01T10:00:00+00:00", "2025-01-01T10:00:00Z", 2025, 1, 1, 36000, true, true, 0);
	expect_ts("2025-01-01T10:00:00-00:00", "2025-01-01T10:00:00Z", 2025, 1, 1, 36000, true, true, 0);
	/* A date with a zone designator, as XML Schema's xs:date allows. */
	expect_ts("2025-01-01Z", "2025-01-01Z", 2025, 1, 1, 0, false, true, 0);
	expect_ts("2025-01-01+01:00", "2025-01-01+01:00", 2025, 1, 1, 0, false, true, 60);
	expect_ts("2024-02-29T12:00:00", "2024-02-29T12:00:00", 2024, 2, 29, 43200, true, false, 0);
}

Test(timestamp, rejects)
{
	const char *bad[] = {
		"2025-01-01T",
		"2025-01-01 ",
		"2025-01-01T24:00:00",
		"2025-01-01T23:60:00",
		"2025-01-01T23:59:60",
		"2025-01-01T1:00:00",
		"2025-01-01T10:00",
		"2025-01-01T10:00:0",
		"2025-01-01T10:00:00.5",
		"2025-01-01T10:00:00z",
		"2025-01-01t10:00:00",
		"2025-01-01T10:00:00+18:01",
		"2025-01-01T10:00:00-19:00",
		"2025-01-01T10:00:00+08:60",
		"2025-01-01T10:00:00+0800",
		"2025-01-01T10:00:00+08",
		"2025-01-01T10:00:00+8:00",
		"2025-01-01T10:00:00 +08:00",
		"2025-01-01T10:00:00ZZ",
		"2025-01-01T10:00:00Z ",
		"2025-01-01T10:00:00+08:00x",
		"2025-01-01T10-00-00",
		"2025-01-01T10:00:00T",
		"2025-01-01  10:00:00",
		"2025-02-29T10:00:00",
		"2025-13-01",
		"2025-1-01T10:00:00",
		"",
		"2025",
		"T10:00:00",
		"2025-01-01X",
		"2025-01-01TZ",
		"2025-01-01T-1:00:00",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		timestamp_t t = {.date = 4242};
		cr_expect_not(timestamp_parse(bad[i], strlen(bad[i]), &t), "\"%s\" accepted", bad[i]);
		cr_expect_eq(t.date, 4242);
	}
	timestamp_t t;
	cr_expect_not(timestamp_parse(NULL, 0, &t));
}

Test(timestamp, round_trip_many)
{
	const int offs[] = {0, 60, -60, 330, -330, 345, 1080, -1080, 765};
	int k = 0;
	for (date_t d = ymd(1999, 12, 25); d <= ymd(2001, 1, 5); d++) {
		for (int sec = 0; sec < 86400; sec += 997) {
			timestamp_t t = {.date = d, .seconds = sec, .has_time = true};
			t.has_offset = k % 3 != 0;
			t.offset_min = t.has_offset ? (int16_t)offs[k % 9] : 0;
			k++;
			char buf[TIMESTAMP_BUFSZ];
			size_t n = timestamp_format(&t, buf);
			timestamp_t back;
			cr_assert(timestamp_parse(buf, n, &back), "%s", buf);
			cr_assert(back.date == t.date && back.seconds == t.seconds && back.has_time &&
				  back.has_offset == t.has_offset && back.offset_min == t.offset_min, "%s", buf);
		}
	}
}

Test(date_today, env_override)
{
	setenv("BRISK_TODAY", "2025-03-04", 1);
	cr_expect_eq(date_today(), ymd(2025, 3, 4));
	setenv("BRISK_TODAY", "2024-02-29", 1);
	cr_expect_eq(date_today(), ymd(2024, 2, 29));

	/* An invalid override is ignored: the clock is used. */
	unsetenv("BRISK_TODAY");
	date_t before = (date_t)(time(NULL) / 86400);
	date_t real = date_today();
	date_t after = (date_t)(time(NULL) / 86400);
	cr_expect(real >= before && real <= after);
	setenv("BRISK_TODAY", "2025-02-29", 1);
	date_t bad = date_today();
	cr_expect(bad >= before && bad <= after + 1);
	unsetenv("BRISK_TODAY");
}

Test(timestamp, utc_iso_matches_gmtime)
{
	/* day arithmetic against the C library over leap days, epoch and both signs */
	const int64_t ts[] = {0, 1, 86399, 86400, 951782400, 951868799, 1709164800, 1767225599, 253402300799, -1, -86401};
	for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
		char mine[DATE_UTC_ISO_BUFSZ], libc[64];
		time_t t = (time_t)ts[i];
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(libc, sizeof libc, "%Y-%m-%dT%H:%M:%SZ", &tm);
		cr_expect_str_eq(date_utc_iso(ts[i], mine), libc, "%lld", (long long)ts[i]);
	}
}
