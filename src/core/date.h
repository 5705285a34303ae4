/* date: calendar dates as days since 1970-01-01 (proleptic Gregorian),
 * timestamps, ISO weeks and bucket arithmetic for the dashboard intervals. */
#ifndef BRISK_DATE_H
#define BRISK_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int32_t date_t; /* days since 1970-01-01; valid years 1..9999 */

#define DATE_BUFSZ 11 /* "YYYY-MM-DD" + NUL */

/* Strict "YYYY-MM-DD" with a real calendar day (leap years checked).
 * Returns true and sets *out; false on anything else (no trimming). */
bool date_parse(const char *s, size_t len, date_t *out);

/* Parses by a strptime-like format: %Y (exactly 4 digits) %y (exactly 2
 * digits, pivoting like strptime: 69-99 are 19yy, 00-68 are 20yy) %m %d (1 or 2 digits) %e (like %d, after an optional
 * space) %b %B (month name, case-insensitive; like strptime both take "Jan"
 * or "January") %H %M %S (time, ignored here) %z (+HHMM, +HH:MM or Z,
 * ignored here) %%; other characters, spaces included, match literally.
 * Year, month and day must all appear, the whole input must be consumed and
 * the day must exist. Unknown conversions fail. */
bool date_parse_fmt(const char *s, size_t len, const char *fmt, date_t *out);

/* Checks a date format up front: known conversions only, exactly one year,
 * month and day. False with a reason naming the format. */
bool date_fmt_check(const char *fmt, char *why, size_t whylen);

/* Writes "YYYY-MM-DD" + NUL into buf (DATE_BUFSZ bytes); returns 10.
 * Outside years 1..9999 the year is written modulo 10000 (never overruns). */
size_t date_format(date_t d, char *buf);

/* Civil conversions. date_from_ymd does not validate (use date_valid): a
 * month outside 1..12 rolls into other years and a day past the month's end
 * rolls on, so date_from_ymd(2024, 13, 1) is 2025-01-01. date_days_in_month
 * returns 0 for a month outside 1..12. */
date_t date_from_ymd(int y, int m, int d);
void date_to_ymd(date_t d, int *y, int *m, int *dd);
bool date_valid(int y, int m, int d);
int date_days_in_month(int y, int m);

/* ISO weekday 1 = Monday .. 7 = Sunday. */
int date_weekday(date_t d);
/* ISO-8601 week number and its week-year (e.g. 2021-01-03 is 2020-W53). */
void date_iso_week(date_t d, int *iso_year, int *week);

/* Adds n months, clamping the day to the end of the target month. */
date_t date_add_months(date_t d, int n);

/* Dashboard bucket intervals. */
typedef enum { INTERVAL_DAY, INTERVAL_WEEK, INTERVAL_MONTH, INTERVAL_QUARTER, INTERVAL_YEAR } interval_t;

/* "day"|"week"|"month"|"quarter"|"year" -> interval; false if unknown. */
bool interval_parse(const char *s, size_t len, interval_t *out);
/* The name interval_parse accepts; "unknown" for a value outside the enum. */
const char *interval_name(interval_t iv);

/* First day of the bucket that contains d (week starts Monday). */
date_t date_bucket_start(date_t d, interval_t iv);
/* First day of the next bucket after the one containing d. */
date_t date_bucket_next(date_t d, interval_t iv);

/* Timestamps: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS" or "YYYY-MM-DD HH:MM:SS",
 * optionally followed by "Z" or "+HH:MM"/"-HH:MM" (also after a bare date, as
 * XML Schema's xs:date allows). No fractional seconds, no leap second. */
typedef struct {
	date_t date;       /* the calendar date as written, before any offset */
	int32_t seconds;   /* seconds into that day as written (0 if date only) */
	int16_t offset_min;/* offset east of UTC in minutes (0 for Z or none) */
	bool has_time;
	bool has_offset;
} timestamp_t;

/* Parses a timestamp (strict). Returns false on any malformation, e.g. hour
 * 24, minute 60, offset past +-18:00, trailing garbage. */
bool timestamp_parse(const char *s, size_t len, timestamp_t *out);

/* The lenient form for imports: the date by fmt (NULL = YYYY-MM-DD), then
 * optionally a time "[ T]H:MM[:SS]" and an offset "[ ]Z|+HH[:]MM", unless
 * fmt itself read them. A date field keeps out->date, the date as written. */
bool timestamp_parse_fmt(const char *s, size_t len, const char *fmt, timestamp_t *out);

/* Formats canonically: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS" plus "Z" or
 * "+HH:MM" when an offset was given (a zero offset is written "Z"). buf
 * needs TIMESTAMP_BUFSZ bytes; returns the length (NUL-terminated). */
#define TIMESTAMP_BUFSZ 32
size_t timestamp_format(const timestamp_t *t, char *buf);

/* Writes a Unix time as "YYYY-MM-DDTHH:MM:SSZ" (UTC) + NUL into buf
 * (DATE_UTC_ISO_BUFSZ bytes) and returns buf, for JSON and logs. */
#define DATE_UTC_ISO_BUFSZ 21
char *date_utc_iso(int64_t unix_s, char *buf);

/* Today's date in UTC (or BRISK_TODAY=YYYY-MM-DD when set, for tests; an
 * override that is not a valid date is ignored). */
date_t date_today(void);

#endif
