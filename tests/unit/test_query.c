/* Tests of src/http/query.c: query strings split into decoded pairs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "helpers.h"
#include "http/query.h"

static query_t q;
static char why[128];

static void teardown(void)
{
	query_free(&q);
}

TestSuite(query, .fini = teardown);

static bool parse(const char *s)
{
	query_free(&q);
	why[0] = '\0';
	return query_parse(&q, s, strlen(s), why, sizeof why);
}

static void expect_pair(const char *name, const char *value)
{
	const char *got = query_get(&q, name);
	cr_assert_not_null(got, "no parameter '%s'", name);
	cr_expect_str_eq(got, value, "parameter '%s'", name);
}

static void expect_fail(const char *s, const char *part)
{
	cr_expect_not(parse(s), "\"%s\" accepted", s);
	cr_expect(strstr(why, part) != NULL, "\"%s\": reason \"%s\" lacks \"%s\"", s, why, part);
}

Test(query, empty)
{
	cr_expect(parse(""));
	cr_expect_eq(q.n, 0);
	cr_expect(query_parse(&q, NULL, 0, why, sizeof why));
	cr_expect_eq(q.n, 0);
	cr_expect_null(query_get(&q, "a"));
}

Test(query, pairs_in_order)
{
	cr_assert(parse("from=2024-01-01&to=2024-12-31&interval=month"), "%s", why);
	cr_expect_eq(q.n, 3);
	cr_expect_str_eq(q.name[0], "from");
	cr_expect_str_eq(q.name[2], "interval");
	expect_pair("from", "2024-01-01");
	expect_pair("to", "2024-12-31");
	expect_pair("interval", "month");
	cr_expect_null(query_get(&q, "From"), "names are case-sensitive");
}

Test(query, decoding)
{
	cr_assert(parse("q=a+b%20c&plus=%2B&e=%C3%A9&hex=%4a%4A&n%61me=x"), "%s", why);
	expect_pair("q", "a b c");
	expect_pair("plus", "+");
	expect_pair("e", "\xC3\xA9");
	expect_pair("hex", "JJ");
	expect_pair("name", "x");
	cr_assert(parse("a+b=1"), "%s", why);
	expect_pair("a b", "1");
}

Test(query, missing_and_empty_values)
{
	cr_assert(parse("flag&empty=&x=1=2"), "%s", why);
	expect_pair("flag", "");
	expect_pair("empty", "");
	expect_pair("x", "1=2");
}

Test(query, empty_segments_skipped)
{
	cr_assert(parse("&&a=1&&b=2&"), "%s", why);
	cr_expect_eq(q.n, 2);
	expect_pair("a", "1");
	expect_pair("b", "2");
	cr_assert(parse("&"), "%s", why);
	cr_expect_eq(q.n, 0);
}

Test(query, malformed)
{
	expect_fail("=v", "no name");
	expect_fail("a=1&=2", "no name");
	expect_fail("%", "malformed");
	expect_fail("%4", "malformed");
	expect_fail("a%4", "malformed");
	expect_fail("%zz=1", "malformed");
	expect_fail("a=%G1", "malformed %-escape in parameter 'a'");
	expect_fail("a=%", "malformed");
	expect_fail("a=b%2", "malformed");
}

Test(query, nul_bytes_rejected)
{
	expect_fail("a=%00", "malformed");
	expect_fail("%00=1", "malformed");
	/* a raw NUL would cut the name short for strcmp-based lookups */
	query_free(&q);
	cr_expect_not(query_parse(&q, "a\0b=1", 5, why, sizeof why), "raw NUL in a name accepted");
	query_free(&q);
	cr_expect_not(query_parse(&q, "a=1\0x", 5, why, sizeof why), "raw NUL in a value accepted");
}

Test(query, duplicates_rejected)
{
	expect_fail("a=1&a=2", "'a' is given twice");
	expect_fail("a=1&%61=2", "given twice");
	expect_fail("a&a", "given twice");
}

Test(query, at_most_query_max_pairs)
{
	buf_t b = BUF_INIT;
	for (int i = 0; i < QUERY_MAX; i++)
		buf_printf(&b, "%sp%d=%d", i ? "&" : "", i, i);
	cr_expect(parse(b.p), "%s", why);
	cr_expect_eq(q.n, QUERY_MAX);
	expect_pair("p31", "31");
	buf_puts(&b, "&one=more");
	expect_fail(b.p, "too many");
	buf_free(&b);
	/* the most output per input byte: single-letter names without '=' */
	b = (buf_t)BUF_INIT;
	for (int i = 0; i < QUERY_MAX; i++)
		buf_printf(&b, "%s%c", i ? "&" : "", 'A' + i);
	cr_expect(parse(b.p), "%s", why);
	cr_expect_eq(q.n, QUERY_MAX);
	buf_free(&b);
}

Test(query, unknown_names)
{
	static const char *const allowed[] = {"from", "to", NULL};
	cr_assert(parse("from=1&to=2"));
	cr_expect_null(query_unknown(&q, allowed));
	cr_assert(parse("from=1&limit=2"));
	cr_expect_str_eq(query_unknown(&q, allowed), "limit");
}

Test(query, decode_in_place_and_options)
{
	char s[] = "a%20b+c";
	long n = query_decode(s, strlen(s), s, false);
	cr_assert_eq(n, 5);
	cr_expect(!memcmp(s, "a b+c", 5));
	char t[] = "x+y";
	cr_expect_eq(query_decode(t, 3, t, true), 3);
	cr_expect(!memcmp(t, "x y", 3));
	char out[8];
	cr_expect_eq(query_decode("%41", 3, out, false), 1);
	cr_expect_eq(out[0], 'A');
	cr_expect_eq(query_decode("%4", 2, out, false), -1);
	cr_expect_eq(query_decode("", 0, out, false), 0);
}

Test(query, free_is_idempotent)
{
	cr_assert(parse("a=1"));
	query_free(&q);
	query_free(&q);
	cr_expect_eq(q.n, 0);
}

/* Percent-encodes every byte except unreserved ones (spaces as '+'). */
static void encode(buf_t *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')
			buf_putc(b, (char)c);
		else if (c == ' ')
			buf_putc(b, '+');
		else
			buf_printf(b, "%%%02X", c);
	}
}

Test(query, property_encode_then_parse)
{
	uint64_t rs = 0x9e11u;
	for (int iter = 0; iter < 3000; iter++) {
		int n = 1 + (int)test_rng_below(&rs, QUERY_MAX);
		char names[QUERY_MAX][12], values[QUERY_MAX][24];
		size_t vlen[QUERY_MAX];
		buf_t b = BUF_INIT;
		for (int i = 0; i < n; i++) {
			snprintf(names[i], sizeof names[i], "k%d", i);
			vlen[i] = test_rng_below(&rs, sizeof values[i]);
			for (size_t j = 0; j < vlen[i]; j++)
				values[i][j] = (char)(1 + test_rng_below(&rs, 255)); /* any byte but NUL */
			if (i)
				buf_putc(&b, '&');
			encode(&b, names[i], strlen(names[i]));
			buf_putc(&b, '=');
			encode(&b, values[i], vlen[i]);
		}
		cr_assert(query_parse(&q, b.p, b.len, why, sizeof why), "iteration %d: %s (%s)", iter, why, b.p);
		cr_assert_eq(q.n, n);
		for (int i = 0; i < n; i++) {
			const char *v = query_get(&q, names[i]);
			cr_assert_not_null(v);
			cr_assert(strlen(v) == vlen[i] && !memcmp(v, values[i], vlen[i]), "iteration %d pair %d", iter, i);
		}
		query_free(&q);
		buf_free(&b);
	}
}

/* Arbitrary bytes: never a crash or an overrun (ASan watches), and a
 * success always yields NUL-free names that are unique. */
Test(query, property_arbitrary_input)
{
	static const char alphabet[] = "a=&%+0F9g\0";
	uint64_t rs = 0x9e12u;
	for (int iter = 0; iter < 20000; iter++) {
		char s[64];
		size_t n = test_rng_below(&rs, sizeof s);
		for (size_t i = 0; i < n; i++)
			s[i] = alphabet[test_rng_below(&rs, sizeof alphabet - 1)];
		char *copy = malloc(n ? n : 1); /* exact size, so ASan sees overreads */
		memcpy(copy, s, n);
		if (query_parse(&q, copy, n, why, sizeof why)) {
			cr_assert_leq(q.n, QUERY_MAX);
			for (int i = 0; i < q.n; i++)
				for (int j = i + 1; j < q.n; j++)
					cr_assert(strcmp(q.name[i], q.name[j]), "duplicate name");
		}
		query_free(&q);
		free(copy);
	}
}
