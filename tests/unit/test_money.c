#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/money.h"

static money_status parse(const char *s, int64_t *out)
{
	return money_parse(s, strlen(s), out);
}

static money_status parse_o(const char *s, const money_opts *o, int64_t *out)
{
	return money_parse_opts(s, strlen(s), o, out);
}

static void expect_ok(const char *s, int64_t want)
{
	int64_t v = 12345;
	money_status st = parse(s, &v);
	cr_expect_eq(st, MONEY_OK, "\"%s\": status %d", s, st);
	cr_expect_eq(v, want, "\"%s\": %" PRId64 " != %" PRId64, s, v, want);
}

static void expect_st(const char *s, money_status want)
{
	int64_t v = 777;
	money_status st = parse(s, &v);
	cr_expect_eq(st, want, "\"%s\": status %d, want %d", s, st, want);
	cr_expect_eq(v, 777, "\"%s\": *out written on failure", s);
}

static void expect_ok_o(const char *s, const money_opts *o, int64_t want)
{
	int64_t v = 12345;
	money_status st = parse_o(s, o, &v);
	cr_expect_eq(st, MONEY_OK, "\"%s\": status %d", s, st);
	cr_expect_eq(v, want, "\"%s\": %" PRId64 " != %" PRId64, s, v, want);
}

static void expect_st_o(const char *s, const money_opts *o, money_status want)
{
	int64_t v = 777;
	money_status st = parse_o(s, o, &v);
	cr_expect_eq(st, want, "\"%s\": status %d, want %d", s, st, want);
	cr_expect_eq(v, 777, "\"%s\": *out written on failure", s);
}

/* Tiny deterministic PRNG so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

Test(money_parse, accepts_canonical)
{
	expect_ok("0", 0);
	expect_ok("1", 100);
	expect_ok("1234.5", 123450);
	expect_ok("-12.00", -1200);
	expect_ok("0.07", 7);
	expect_ok("-0.07", -7);
	expect_ok("0.1", 10);
	expect_ok("12.34", 1234);
	expect_ok("007", 700);
	expect_ok("00.01", 1);
	expect_ok("-0", 0);
	expect_ok("-0.00", 0);
	expect_ok("-0.0", 0);
	expect_ok("1000000", 100000000);
	expect_ok("  42.10  ", 4210);
	expect_ok(" -3", -300);
	expect_ok("92233720368547758.07", INT64_MAX);
	expect_ok("-92233720368547758.08", INT64_MIN);
	expect_ok("92233720368547758", 9223372036854775800);
	expect_ok("-92233720368547758", -9223372036854775800);
	expect_ok("0000000000000000000000000000001.5", 150);
}

Test(money_parse, rejects_syntax)
{
	const char *bad[] = {
		"1e5", "12,50", "--1", "+1", ".5", "5.", "1 000", "-", "0x10", "abc",
		"1.2.3", "1..2", "- 1", "1-", "$1", "1$", "(1)", "1.-5", "1.5a", "a1",
		"\t1", "1\t", "1\n", "١", "1,000.00", "1'000", "12.", "-.5", "-5.",
		"NaN", "inf", "1 .5", "1. 5", "0x", "+0", " - ", "1_000", "١٢",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		expect_st(bad[i], MONEY_SYNTAX);
}

Test(money_parse, empty)
{
	expect_st("", MONEY_EMPTY);
	expect_st(" ", MONEY_EMPTY);
	expect_st("     ", MONEY_EMPTY);
	int64_t v = 9;
	cr_expect_eq(money_parse(NULL, 0, &v), MONEY_EMPTY);
	cr_expect_eq(v, 9);
}

Test(money_parse, precision)
{
	expect_st("1.234", MONEY_PRECISION);
	expect_st("0.001", MONEY_PRECISION);
	expect_st("-0.001", MONEY_PRECISION);
	expect_st("1.2340", MONEY_PRECISION);
	/* three places may be a thousands group read as decimals: refused */
	expect_st("1.000", MONEY_PRECISION);
	expect_st("-0.000", MONEY_PRECISION);
	expect_st("957.5775", MONEY_PRECISION);
	expect_st("1.2345678901234567890", MONEY_PRECISION);
}

/* US Bank writes four places: zeros past the cents are exact */
Test(money_parse, zeros_past_the_cents_are_exact)
{
	expect_ok("1250.0000", 125000);
	expect_ok("-84.2000", -8420);
	expect_ok("-0.0000", 0);
	expect_ok("7.10", 710);
}

Test(money_parse, overflow)
{
	expect_st("92233720368547758.08", MONEY_OVERFLOW);
	expect_st("-92233720368547758.09", MONEY_OVERFLOW);
	expect_st("92233720368547759", MONEY_OVERFLOW);
	expect_st("100000000000000000", MONEY_OVERFLOW);
	expect_st("99999999999999999999999999999999", MONEY_OVERFLOW);
	expect_st("-99999999999999999999999999999999.99", MONEY_OVERFLOW);
	/* Syntax errors are reported as such even past int64. */
	expect_st("99999999999999999999999999x", MONEY_SYNTAX);
}

Test(money_parse, respects_len)
{
	int64_t v = 0;
	cr_expect_eq(money_parse("12.345", 5, &v), MONEY_OK);
	cr_expect_eq(v, 1234);
	cr_expect_eq(money_parse("12.3\0" "5", 6, &v), MONEY_SYNTAX);
	cr_expect_eq(money_parse("7xyz", 1, &v), MONEY_OK);
	cr_expect_eq(v, 700);
}

Test(money_parse, opts_null_is_strict)
{
	int64_t v = 0;
	cr_expect_eq(money_parse_opts("1.234", 5, NULL, &v), MONEY_PRECISION);
	cr_expect_eq(money_parse_opts("+1", 2, NULL, &v), MONEY_SYNTAX);
	cr_expect_eq(money_parse_opts("-1.5", 4, NULL, &v), MONEY_OK);
	cr_expect_eq(v, -150);
}

Test(money_format, basics)
{
	struct {
		int64_t v;
		const char *s;
	} cases[] = {
		{0, "0.00"},
		{7, "0.07"},
		{-7, "-0.07"},
		{10, "0.10"},
		{-123450, "-1234.50"},
		{123450, "1234.50"},
		{100, "1.00"},
		{-100, "-1.00"},
		{99, "0.99"},
		{INT64_MAX, "92233720368547758.07"},
		{INT64_MIN, "-92233720368547758.08"},
		{INT64_MIN + 1, "-92233720368547758.07"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char buf[MONEY_BUFSZ];
		size_t n = money_format(cases[i].v, buf);
		cr_expect_str_eq(buf, cases[i].s);
		cr_expect_eq(n, strlen(cases[i].s));
	}
}

static void check_round_trip(int64_t v)
{
	char buf[MONEY_BUFSZ], ref[64];
	size_t n = money_format(v, buf);
	cr_assert(n < MONEY_BUFSZ);
	cr_assert_eq(n, strlen(buf));

	/* Reference rendering through printf on the unsigned magnitude. */
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	snprintf(ref, sizeof(ref), "%s%" PRIu64 ".%02" PRIu64, v < 0 ? "-" : "", mag / 100, mag % 100);
	cr_assert_str_eq(buf, ref);

	int64_t back = 0;
	cr_assert_eq(money_parse(buf, n, &back), MONEY_OK, "%s", buf);
	cr_assert_eq(back, v, "%s", buf);

	money_opts o = {.decimal = '.', .thousands = ',', .symbols = true, .plus = true,
			.parens = true, .round = true};
	back = 0;
	cr_assert_eq(money_parse_opts(buf, n, &o, &back), MONEY_OK, "%s", buf);
	cr_assert_eq(back, v, "%s", buf);
}

Test(money_format, round_trip_dense)
{
	for (int64_t v = -200000; v <= 200000; v++)
		check_round_trip(v);
}

Test(money_format, round_trip_random_and_edges)
{
	for (int i = 0; i < 200000; i++) {
		int64_t v = (int64_t)rng();
		/* Vary the magnitude so every length is exercised. */
		int shift = (int)(rng() % 64);
		check_round_trip(v >> shift);
	}
	int64_t edges[] = {INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1, 1, -1, 99, -99, 100, -100};
	for (size_t i = 0; i < sizeof(edges) / sizeof(*edges); i++)
		check_round_trip(edges[i]);
	for (int64_t p = 1; p < INT64_MAX / 10; p *= 10) {
		check_round_trip(p);
		check_round_trip(-p);
		check_round_trip(p - 1);
		check_round_trip(1 - p);
	}
}

Test(money_format, canonical_strings_round_trip)
{
	const char *canon[] = {"0.00", "0.01", "-0.01", "1.00", "-1234.50", "42.42",
			       "92233720368547758.07", "-92233720368547758.08", "1000000.00"};
	for (size_t i = 0; i < sizeof(canon) / sizeof(*canon); i++) {
		int64_t v;
		char buf[MONEY_BUFSZ];
		cr_assert_eq(parse(canon[i], &v), MONEY_OK);
		money_format(v, buf);
		cr_expect_str_eq(buf, canon[i]);
	}
}

Test(money_opts, decimal_comma)
{
	money_opts o = {.decimal = ','};
	expect_ok_o("12,50", &o, 1250);
	expect_ok_o("-0,07", &o, -7);
	expect_ok_o("3", &o, 300);
	expect_st_o("12.50", &o, MONEY_SYNTAX);
	expect_st_o("1,234", &o, MONEY_PRECISION);
	expect_st_o("12,", &o, MONEY_SYNTAX);
	expect_st_o(",5", &o, MONEY_SYNTAX);
}

/* U+2212 MINUS SIGN (Numbers, French exports) is a minus, once. */
Test(money_opts, unicode_minus_sign)
{
	money_opts o = {.decimal = ',', .thousands = ' '};
	expect_ok_o("\xe2\x88\x92" "84,20", &o, -8420);
	expect_ok_o("\xe2\x88\x92" "1\xe2\x80\xaf" "200,00", &o, -120000);
	expect_st_o("\xe2\x88\x92-5", &o, MONEY_SYNTAX);
	expect_st_o("\xe2\x88", &o, MONEY_SYNTAX);
}

Test(money_opts, default_decimal_is_dot)
{
	money_opts o = {0};
	expect_ok_o("12.50", &o, 1250);
	expect_st_o("12,50", &o, MONEY_SYNTAX);
	expect_st_o("+1", &o, MONEY_SYNTAX);
	expect_st_o("(1)", &o, MONEY_SYNTAX);
	expect_st_o("$1", &o, MONEY_SYNTAX);
	expect_st_o("1.234", &o, MONEY_PRECISION);
	expect_st_o("", &o, MONEY_EMPTY);
	expect_st_o("   ", &o, MONEY_EMPTY);
}

Test(money_opts, thousands_comma)
{
	money_opts o = {.decimal = '.', .thousands = ','};
	expect_ok_o("1,234", &o, 123400);
	expect_ok_o("1,234.56", &o, 123456);
	expect_ok_o("12,345,678.90", &o, 1234567890);
	expect_ok_o("-123,456", &o, -12345600);
	expect_ok_o("999", &o, 99900);
	expect_ok_o("1234567.89", &o, 123456789); /* separators stay optional */
	expect_st_o("1,23", &o, MONEY_SYNTAX);
	expect_st_o("1,2345", &o, MONEY_SYNTAX);
	expect_st_o("1234,567", &o, MONEY_SYNTAX);
	expect_st_o(",123", &o, MONEY_SYNTAX);
	expect_st_o("1,,234", &o, MONEY_SYNTAX);
	expect_st_o("1,234,", &o, MONEY_SYNTAX);
	expect_st_o("1,234,56", &o, MONEY_SYNTAX);
	expect_st_o("12,34,567", &o, MONEY_SYNTAX); /* Indian lakh grouping is not 3-digit */
	expect_st_o("1,234.5,6", &o, MONEY_SYNTAX);
	expect_st_o("1.234,56", &o, MONEY_SYNTAX);
}

Test(money_opts, thousands_dot_decimal_comma)
{
	money_opts o = {.decimal = ',', .thousands = '.'};
	expect_ok_o("1.234,56", &o, 123456);
	expect_ok_o("1.234.567", &o, 123456700);
	expect_ok_o("-0,5", &o, -50);
	expect_st_o("1.23,45", &o, MONEY_SYNTAX);
	expect_st_o("1,234.56", &o, MONEY_SYNTAX);
}

Test(money_opts, thousands_space_and_apostrophe)
{
	money_opts o = {.decimal = ',', .thousands = ' ', .symbols = true};
	expect_ok_o("1 234,56", &o, 123456);
	expect_ok_o("1\xc2\xa0" "234,56", &o, 123456);        /* NBSP */
	expect_ok_o("1\xe2\x80\xaf" "234\xe2\x80\xaf" "567", &o, 123456700); /* NNBSP */
	expect_ok_o("1 234 €", &o, 123400);
	expect_ok_o("1 234,50\xc2\xa0€", &o, 123450);
	expect_st_o("1  234", &o, MONEY_SYNTAX);
	expect_st_o("12 34", &o, MONEY_SYNTAX);

	money_opts sw = {.decimal = '.', .thousands = '\''};
	expect_ok_o("1'234'567.50", &sw, 123456750);
	expect_ok_o("1\xe2\x80\x99" "234.50", &sw, 123450);
	expect_st_o("1'23", &sw, MONEY_SYNTAX);
}

Test(money_opts, thousands_equal_to_decimal_is_ignored)
{
	money_opts o = {.decimal = ',', .thousands = ','};
	expect_ok_o("12,50", &o, 1250);
	expect_st_o("1,234,56", &o, MONEY_SYNTAX);
}

Test(money_opts, symbols)
{
	money_opts o = {.decimal = '.', .symbols = true};
	expect_ok_o("$12.50", &o, 1250);
	expect_ok_o("$ 12.50", &o, 1250);
	expect_ok_o("12.50$", &o, 1250);
	expect_ok_o("\xe2\x82\xac" "5", &o, 500);         /* €5 */
	expect_ok_o("5 \xe2\x82\xac", &o, 500);           /* 5 € */
	expect_ok_o("\xc2\xa3" "3.10", &o, 310);           /* £ */
	expect_ok_o("\xc2\xa5" "1000", &o, 100000);        /* ¥ */
	expect_ok_o("RM 10.90", &o, 1090);
	expect_ok_o("RM10.90", &o, 1090);
	expect_ok_o("10.90 MYR", &o, 1090);
	expect_ok_o("USD 7", &o, 700);
	expect_ok_o("7 usd", &o, 700);
	expect_ok_o("EUR-7.25", &o, -725);
	expect_ok_o("-$7.25", &o, -725);
	expect_ok_o("$-7.25", &o, -725);
	expect_ok_o("-7.25 EUR", &o, -725);
	expect_ok_o("US$ 1.00", &o, 100);
	expect_ok_o("S$1", &o, 100);
	expect_ok_o("  $ 1.00  ", &o, 100);
	expect_st_o("$", &o, MONEY_SYNTAX);
	expect_st_o("$$1", &o, MONEY_SYNTAX);
	expect_st_o("$1$", &o, MONEY_SYNTAX);
	expect_st_o("USD 1 EUR", &o, MONEY_SYNTAX);
	expect_st_o("USDX 1", &o, MONEY_SYNTAX);
	expect_ok_o("RMB1", &o, 100);
	expect_st_o("XYZ 1", &o, MONEY_SYNTAX);
	expect_st_o("1 2 $", &o, MONEY_SYNTAX);
	expect_st_o("1e5", &o, MONEY_SYNTAX);
	expect_st_o("+$1", &o, MONEY_SYNTAX); /* plus not enabled */
}

Test(money_opts, plus)
{
	money_opts o = {.plus = true};
	expect_ok_o("+1", &o, 100);
	expect_ok_o("+0.07", &o, 7);
	expect_ok_o("-1", &o, -100);
	expect_st_o("++1", &o, MONEY_SYNTAX);
	expect_st_o("+-1", &o, MONEY_SYNTAX);
	expect_st_o("-+1", &o, MONEY_SYNTAX);
	expect_st_o("+", &o, MONEY_SYNTAX);
	expect_st_o("1+", &o, MONEY_SYNTAX);
}

/* SAP and mainframe statements print the minus after the number. */
Test(money_opts, trailing_minus)
{
	money_opts o = {.decimal = ',', .thousands = '.', .trailing_minus = true, .symbols = true};
	expect_ok_o("38,50-", &o, -3850);
	expect_ok_o("1.200,00-", &o, -120000);
	expect_ok_o("1.200,00 -", &o, -120000);
	expect_ok_o("1.200,00- EUR", &o, -120000);
	expect_ok_o("38,50", &o, 3850);
	expect_ok_o("-38,50", &o, -3850);
	expect_ok_o("0,00-", &o, 0);
	expect_st_o("-38,50-", &o, MONEY_SYNTAX);
	expect_st_o("38,50--", &o, MONEY_SYNTAX);
	expect_st_o("-", &o, MONEY_SYNTAX);
	expect_st_o("38-,50", &o, MONEY_SYNTAX);
	money_opts p = {.decimal = '.', .parens = true, .trailing_minus = true};
	expect_st_o("(12.50)-", &p, MONEY_SYNTAX);
	expect_ok_o("12.50\xe2\x88\x92", &p, -1250);
	/* without the option a trailing minus stays refused */
	money_opts n = {.decimal = ',', .thousands = '.'};
	expect_st_o("38,50-", &n, MONEY_SYNTAX);
	expect_st_o("38.50-", NULL, MONEY_SYNTAX);
}

Test(money_opts, parens)
{
	money_opts o = {.parens = true, .symbols = true, .thousands = ','};
	expect_ok_o("(12.50)", &o, -1250);
	expect_ok_o("(1,234.00)", &o, -123400);
	expect_ok_o("($12.50)", &o, -1250);
	expect_ok_o("$(12.50)", &o, -1250);
	expect_ok_o("(12.50 EUR)", &o, -1250);
	expect_ok_o("(12.50) EUR", &o, -1250);
	expect_ok_o("(0)", &o, 0);
	expect_ok_o("(92233720368547758.08)", &o, INT64_MIN);
	expect_st_o("(12.50", &o, MONEY_SYNTAX);
	expect_st_o("12.50)", &o, MONEY_SYNTAX);
	expect_st_o("(-12.50)", &o, MONEY_SYNTAX);
	expect_st_o("-(12.50)", &o, MONEY_SYNTAX);
	expect_st_o("((12.50))", &o, MONEY_SYNTAX);
	expect_st_o("()", &o, MONEY_SYNTAX);
	expect_st_o("(12.50 )", &o, MONEY_SYNTAX);
	expect_st_o("(92233720368547758.09)", &o, MONEY_OVERFLOW);
}

Test(money_opts, round_half_even)
{
	money_opts o = {.round = true};
	expect_ok_o("957.5775", &o, 95758);
	expect_ok_o("0.125", &o, 12);
	expect_ok_o("0.135", &o, 14);
	expect_ok_o("-0.125", &o, -12);
	expect_ok_o("-0.135", &o, -14);
	expect_ok_o("0.1250000000000001", &o, 13);
	expect_ok_o("0.1249999999999999", &o, 12);
	expect_ok_o("0.12500000", &o, 12);
	expect_ok_o("0.004", &o, 0);
	expect_ok_o("0.005", &o, 0);
	expect_ok_o("0.015", &o, 2);
	expect_ok_o("0.0051", &o, 1);
	expect_ok_o("-0.005", &o, 0);
	expect_ok_o("0.995", &o, 100);
	expect_ok_o("9.999", &o, 1000);
	expect_ok_o("1.2", &o, 120);
	expect_ok_o("1.23", &o, 123);
	expect_ok_o("92233720368547758.064", &o, INT64_MAX - 1);
	expect_ok_o("92233720368547758.065", &o, INT64_MAX - 1); /* ...06 is even */
	expect_ok_o("92233720368547758.0749", &o, INT64_MAX);
	expect_st_o("92233720368547758.075", &o, MONEY_OVERFLOW);
	expect_ok_o("-92233720368547758.075", &o, INT64_MIN); /* ...07 odd, up to 08 */
	expect_st_o("-92233720368547758.0851", &o, MONEY_OVERFLOW);

	money_opts strict = {.round = false};
	expect_st_o("957.5775", &strict, MONEY_PRECISION);
	expect_st_o("0.125", &strict, MONEY_PRECISION);
}

/* Slow obvious rounding on a string of digits, as the property reference. */
static int64_t ref_round(int neg, uint64_t ip, const char *frac)
{
	size_t n = strlen(frac);
	uint64_t cents = ip * 100;
	if (n > 0)
		cents += (uint64_t)(frac[0] - '0') * 10;
	if (n > 1)
		cents += (uint64_t)(frac[1] - '0');
	if (n > 2) {
		/* Compare the tail with "5000..." digit by digit. */
		int cmp = 0;
		for (size_t i = 2; i < n && cmp == 0; i++) {
			int want = i == 2 ? 5 : 0;
			cmp = (frac[i] - '0') - want;
		}
		if (cmp > 0 || (cmp == 0 && cents % 2 == 1))
			cents++;
	}
	return neg ? -(int64_t)cents : (int64_t)cents;
}

Test(money_opts, round_property)
{
	money_opts o = {.round = true};
	for (int i = 0; i < 200000; i++) {
		char frac[24], s[64];
		int neg = (int)(rng() % 2);
		uint64_t ip = rng() % 1000000;
		size_t nf = 1 + rng() % 12;
		for (size_t k = 0; k < nf; k++) {
			/* Bias towards 5 and 0 to hit ties often. */
			uint64_t r = rng() % 4;
			frac[k] = (char)(r == 0 ? '5' : r == 1 ? '0' : '0' + rng() % 10);
		}
		frac[nf] = '\0';
		snprintf(s, sizeof(s), "%s%" PRIu64 ".%s", neg ? "-" : "", ip, frac);
		int64_t v = 0;
		cr_assert_eq(parse_o(s, &o, &v), MONEY_OK, "%s", s);
		cr_assert_eq(v, ref_round(neg, ip, frac), "%s -> %" PRId64, s, v);
	}
}

/* Renders cents with a thousands separator and decimal mark, like an export. */
static void render(int64_t v, char th, char dec, char *out)
{
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char digits[32];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, mag / 100);
	char *p = out;
	if (v < 0)
		*p++ = '-';
	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			*p++ = th;
		*p++ = digits[i];
	}
	sprintf(p, "%c%02" PRIu64, dec, mag % 100);
}

Test(money_opts, thousands_property)
{
	money_opts o1 = {.decimal = '.', .thousands = ','};
	money_opts o2 = {.decimal = ',', .thousands = '.'};
	money_opts o3 = {.decimal = ',', .thousands = ' '};
	for (int i = 0; i < 100000; i++) {
		int64_t v = (int64_t)rng() >> (rng() % 64);
		char s[64];
		int64_t back;
		render(v, ',', '.', s);
		cr_assert_eq(parse_o(s, &o1, &back), MONEY_OK, "%s", s);
		cr_assert_eq(back, v, "%s", s);
		render(v, '.', ',', s);
		cr_assert_eq(parse_o(s, &o2, &back), MONEY_OK, "%s", s);
		cr_assert_eq(back, v, "%s", s);
		render(v, ' ', ',', s);
		cr_assert_eq(parse_o(s, &o3, &back), MONEY_OK, "%s", s);
		cr_assert_eq(back, v, "%s", s);
	}
}

Test(money_opts, all_options_together)
{
	money_opts o = {.decimal = ',', .thousands = '.', .symbols = true, .plus = true,
			.parens = true, .round = true};
	expect_ok_o("(\xe2\x82\xac 1.234,5678)", &o, -123457);
	expect_ok_o("+1.234,565 EUR", &o, 123456);
	expect_ok_o("RM 0,005", &o, 0);
	expect_ok_o("-RM 0,015", &o, -2);
	expect_st_o("+(1)", &o, MONEY_SYNTAX);
	expect_st_o("EUR", &o, MONEY_SYNTAX);
	expect_st_o("", &o, MONEY_EMPTY);
}

Test(money_misc, strerror)
{
	money_status all[] = {MONEY_OK, MONEY_EMPTY, MONEY_SYNTAX, MONEY_PRECISION, MONEY_OVERFLOW};
	for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++) {
		const char *m = money_strerror(all[i]);
		cr_assert_not_null(m);
		cr_expect_gt(strlen(m), 0);
	}
	cr_expect_str_eq(money_strerror(MONEY_PRECISION), "more than 2 decimal places");
	cr_expect_not_null(money_strerror((money_status)99));
}

Test(money_misc, add)
{
	int64_t acc = 0;
	cr_expect(money_add(&acc, 150));
	cr_expect(money_add(&acc, -50));
	cr_expect_eq(acc, 100);
	acc = INT64_MAX - 1;
	cr_expect(money_add(&acc, 1));
	cr_expect_eq(acc, INT64_MAX);
	cr_expect_not(money_add(&acc, 1));
	cr_expect_eq(acc, INT64_MAX);
	acc = INT64_MIN;
	cr_expect_not(money_add(&acc, -1));
	cr_expect_eq(acc, INT64_MIN);
	cr_expect(money_add(&acc, INT64_MAX));
	cr_expect_eq(acc, -1);
}

Test(money_misc, sum_of_parsed_equals_exact_total)
{
	/* Ten cents a thousand times is exactly 100.00, unlike binary floats. */
	int64_t acc = 0, v;
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(parse("0.10", &v), MONEY_OK);
		cr_assert(money_add(&acc, v));
	}
	char buf[MONEY_BUFSZ];
	money_format(acc, buf);
	cr_expect_str_eq(buf, "100.00");
}
