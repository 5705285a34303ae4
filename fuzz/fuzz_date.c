/* fuzz_date: date_parse, date_parse_fmt and timestamp_parse.
 *
 * Byte 0 picks a format for date_parse_fmt (bits 0-2: one of the export
 * formats, or 7: the format is the input up to its first NUL and the date
 * the rest); the rest is the text. Checks: a strict date formats back to
 * exactly the input; any parsed date is a real calendar day; a timestamp
 * formats to text that parses back to the same value. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "core/date.h"

static void check_real_day(date_t d, const char *what)
{
	int y, m, dd;
	date_to_ymd(d, &y, &m, &dd);
	FUZZ_CHECK(date_valid(y, m, dd), "%s gave %d-%d-%d", what, y, m, dd);
	FUZZ_CHECK(date_from_ymd(y, m, dd) == d, "%s: ymd round trip", what);
}

static void fuzz_timestamp(const char *s, size_t n)
{
	timestamp_t t;
	if (!timestamp_parse(s, n, &t))
		return;
	check_real_day(t.date, "timestamp_parse");
	FUZZ_CHECK(t.seconds >= 0 && t.seconds < 86400, "seconds %d", t.seconds);
	FUZZ_CHECK(t.offset_min >= -18 * 60 && t.offset_min <= 18 * 60, "offset %d", t.offset_min);
	char buf[TIMESTAMP_BUFSZ];
	size_t k = timestamp_format(&t, buf);
	FUZZ_CHECK(k == strlen(buf) && k < TIMESTAMP_BUFSZ, "format length %zu", k);
	timestamp_t u;
	FUZZ_CHECK(timestamp_parse(buf, k, &u), "\"%s\" does not parse back", buf);
	FUZZ_CHECK(u.date == t.date && u.seconds == t.seconds && u.offset_min == t.offset_min &&
	               u.has_time == t.has_time && u.has_offset == t.has_offset,
	           "\"%.*s\" -> \"%s\" changed", (int)n, s, buf);
	date_t d;
	FUZZ_CHECK(date_parse(buf, 10, &d) && d == t.date, "the date part of \"%s\"", buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const formats[] = {"%d/%m/%Y", "%m/%d/%Y", "%d.%m.%y", "%d %b %Y",
	                                      "%Y-%m-%d", "%e %B %Y", "%d%%%m%%%Y"};
	if (size < 1)
		return 0;
	const char *s = (const char *)data + 1;
	size_t n = size - 1;

	date_t d;
	if (date_parse(s, n, &d)) {
		char buf[DATE_BUFSZ];
		FUZZ_CHECK(n == 10 && date_format(d, buf) == 10 && !memcmp(buf, s, 10), "\"%.*s\" is not canonical",
		           (int)n, s);
		check_real_day(d, "date_parse");
	}
	fuzz_timestamp(s, n);

	unsigned pick = data[0] & 7;
	char *fmt = NULL;
	const char *text = s;
	size_t tlen = n;
	if (pick == 7) {
		const char *nul = memchr(s, '\0', n);
		if (!nul)
			return 0;
		fmt = strndup(s, (size_t)(nul - s));
		text = nul + 1;
		tlen = n - (size_t)(nul - s) - 1;
	}
	if (date_parse_fmt(text, tlen, fmt ? fmt : formats[pick], &d))
		check_real_day(d, "date_parse_fmt");
	free(fmt);
	return 0;
}
