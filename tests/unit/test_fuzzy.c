/* Unit and property tests for match/fuzzy: known values from RapidFuzz and
 * python-Levenshtein, then the bit-parallel distances against the plain
 * dynamic programme on random code point strings (ASCII and 2-, 3- and
 * 4-byte UTF-8, lengths 0..300 so that multi-word blocks are crossed). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/fuzzy.h"

#define S(x) (x), strlen(x)

static void expect_near(double got, double want, const char *what)
{
	cr_expect(fabs(got - want) < 1e-6, "%s: got %.10f, want %.10f", what, got, want);
}

/* ---- known values --------------------------------------------------------- */

Test(fuzzy, levenshtein_known)
{
	cr_expect_eq(fuzzy_levenshtein(S("kitten"), S("sitting")), 3);
	cr_expect_eq(fuzzy_levenshtein(S(""), S("")), 0);
	cr_expect_eq(fuzzy_levenshtein(S("abc"), S("")), 3);
	cr_expect_eq(fuzzy_levenshtein(S(""), S("abcd")), 4);
	cr_expect_eq(fuzzy_levenshtein(S("flaw"), S("lawn")), 2);
	cr_expect_eq(fuzzy_levenshtein(S("Saturday"), S("Sunday")), 3);
	cr_expect_eq(fuzzy_levenshtein(S("same"), S("same")), 0);
}

Test(fuzzy, levenshtein_max)
{
	cr_expect_eq(fuzzy_levenshtein_max(S("kitten"), S("sitting"), 3), 3);
	cr_expect_eq(fuzzy_levenshtein_max(S("kitten"), S("sitting"), 2), 3);
	cr_expect_eq(fuzzy_levenshtein_max(S("kitten"), S("sitting"), 0), 1);
	cr_expect_eq(fuzzy_levenshtein_max(S("a"), S("abcdefgh"), 2), 3);
	cr_expect_eq(fuzzy_levenshtein_max(S("INV2025004213"), S("INV2025004231"), 2), 2);
	cr_expect_eq(fuzzy_levenshtein_max(S("abc"), S("abc"), 0), 0);
	cr_expect_eq(fuzzy_levenshtein_max(S("abc"), S("xyz"), SIZE_MAX), 3);
}

Test(fuzzy, indel_known)
{
	cr_expect_eq(fuzzy_indel(S("kitten"), S("sitting")), 5);
	cr_expect_eq(fuzzy_indel(S("this is a test"), S("this is a test!")), 1);
	cr_expect_eq(fuzzy_indel(S(""), S("abc")), 3);
	cr_expect_eq(fuzzy_indel(S("abc"), S("cba")), 4);
}

Test(fuzzy, ratio_known)
{
	expect_near(fuzzy_ratio(S("this is a test"), S("this is a test!"), 0), 96.55172413793103,
	            "ratio");
	expect_near(fuzzy_ratio(S("kitten"), S("sitting"), 0), 100.0 * (1 - 5.0 / 13), "kitten");
	expect_near(fuzzy_ratio(S(""), S(""), 0), 100, "two empty");
	expect_near(fuzzy_ratio(S("abc"), S(""), 0), 0, "one empty");
	expect_near(fuzzy_ratio(S("abc"), S("abc"), 0), 100, "equal");
	/* python-Levenshtein: Levenshtein.ratio("Acme Trading", "ACME Tradng") */
	expect_near(fuzzy_ratio(S("Acme Trading"), S("ACME Tradng"), 0), 100.0 * 16 / 23,
	            "acme");
}

Test(fuzzy, ratio_is_on_code_points)
{
	/* "café" vs "cafe": one code point differs, not two bytes. */
	cr_expect_eq(fuzzy_levenshtein(S("caf\xc3\xa9"), S("cafe")), 1);
	cr_expect_eq(fuzzy_indel(S("caf\xc3\xa9"), S("cafe")), 2);
	expect_near(fuzzy_ratio(S("caf\xc3\xa9"), S("cafe"), 0), 75, "cafe");
	/* 3- and 4-byte characters count once. */
	cr_expect_eq(fuzzy_levenshtein(S("\xe2\x82\xac" "5"), S("$5")), 1);
	cr_expect_eq(fuzzy_levenshtein(S("\xf0\x9f\x98\x80"), S("\xf0\x9f\x98\x81")), 1);
	cr_expect_eq(fuzzy_levenshtein(S("\xe4\xb8\xad\xe6\x96\x87"), S("\xe4\xb8\xad")), 1);
}

Test(fuzzy, invalid_utf8_is_tolerated)
{
	/* Each invalid byte is a character equal only to itself. */
	cr_expect_eq(fuzzy_levenshtein(S("\xff"), S("\xfe")), 1);
	cr_expect_eq(fuzzy_levenshtein(S("a\xff" "b"), S("a\xff" "b")), 0);
	cr_expect_eq(fuzzy_levenshtein(S("\xc3"), S("\xc3\xa9")), 1);  /* truncated vs é */
	cr_expect_eq(fuzzy_levenshtein(S("\xc0\xaf"), S("/")), 2);      /* overlong '/' */
	cr_expect_eq(fuzzy_levenshtein(S("\xed\xa0\x80"), S("x")), 3);  /* encoded surrogate */
	cr_expect_eq(fuzzy_levenshtein("a\0b", 3, "a\0c", 3), 1);       /* NUL is a character */
}

Test(fuzzy, decoding_at_every_position)
{
	/* ASCII runs are widened in blocks: put a multi-byte or invalid byte at
	 * every position of strings around the block size. */
	static const char *const odd[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff"};
	char a[64], b[64];
	for (size_t len = 1; len <= 40; len++) {
		for (size_t at = 0; at < len; at++) {
			for (size_t k = 0; k < 4; k++) {
				size_t ol = strlen(odd[k]), la = 0, lb = 0;
				for (size_t i = 0; i < len; i++) {
					if (i == at) {
						memcpy(a + la, odd[k], ol), la += ol;
						b[lb++] = 'x';
					} else {
						a[la++] = b[lb++] = (char)('a' + i % 26);
					}
				}
				cr_assert_eq(fuzzy_levenshtein(a, la, b, lb), 1, "len %zu at %zu kind %zu",
				             len, at, k);
				cr_assert_eq(fuzzy_indel(a, la, a, la), 0);
			}
		}
	}
}

Test(fuzzy, partial_ratio_known)
{
	expect_near(fuzzy_partial_ratio(S("this is a test"), S("this is a test!"), 0), 100, "test!");
	expect_near(fuzzy_partial_ratio(S("a certain string"), S("cetain"), 0), 83.33333333333334,
	            "cetain");
	expect_near(fuzzy_partial_ratio(S("cetain"), S("a certain string"), 0), 83.33333333333334,
	            "cetain swapped");
	expect_near(fuzzy_partial_ratio(S("fuzzy"), S("this is fuzzy text"), 0), 100, "inside");
	expect_near(fuzzy_partial_ratio(S(""), S(""), 0), 100, "two empty");
	expect_near(fuzzy_partial_ratio(S(""), S("abc"), 0), 0, "one empty");
	expect_near(fuzzy_partial_ratio(S("abc"), S("xyz"), 0), 0, "disjoint");
}

Test(fuzzy, token_ratios_known)
{
	expect_near(fuzzy_token_sort_ratio(S("fuzzy wuzzy was a bear"), S("wuzzy fuzzy was a bear"), 0),
	            100, "token_sort");
	expect_near(fuzzy_token_sort_ratio(S("fuzzy was a bear"), S("fuzzy fuzzy was a bear"), 0),
	            100.0 * (1 - 6.0 / 38), "token_sort dup");
	expect_near(fuzzy_token_set_ratio(S("fuzzy was a bear"), S("fuzzy fuzzy was a bear"), 0), 100,
	            "token_set");
	expect_near(fuzzy_token_set_ratio(S("fuzzy was a bear but not a dog"), S("fuzzy was a bear"), 0),
	            100, "token_set subset");
	expect_near(fuzzy_token_set_ratio(S("fuzzy was a bear but not a dog"),
	                                  S("fuzzy was a bear but not a cat"), 0),
	            92.3076923076923, "token_set dog/cat");
	expect_near(fuzzy_token_set_ratio(S(""), S(""), 0), 0, "token_set empty");
	expect_near(fuzzy_token_set_ratio(S("   "), S("a"), 0), 0, "token_set blank");
	expect_near(fuzzy_token_sort_ratio(S(""), S(""), 0), 100, "token_sort empty");
	/* Tokens split on Unicode whitespace too (U+3000, U+00A0). */
	expect_near(fuzzy_token_sort_ratio(S("b\xe3\x80\x80" "a"), S("a\xc2\xa0" "b"), 0), 100,
	            "unicode spaces");
	/* No shared token: the ratio of the sorted differences. */
	expect_near(fuzzy_token_set_ratio(S("acme trading"), S("akme tradin"), 0),
	            fuzzy_ratio(S("acme trading"), S("akme tradin"), 0), "no intersection");
}

Test(fuzzy, jaro_winkler_known)
{
	expect_near(fuzzy_jaro_winkler(S("MARTHA"), S("MARHTA")), 0.9611111111111111, "martha");
	expect_near(fuzzy_jaro_winkler(S("DWAYNE"), S("DUANE")), 0.84, "dwayne");
	expect_near(fuzzy_jaro_winkler(S("DIXON"), S("DICKSONX")), 0.8133333333333332, "dixon");
	expect_near(fuzzy_jaro_winkler(S(""), S("")), 1, "two empty");
	expect_near(fuzzy_jaro_winkler(S("a"), S("")), 0, "one empty");
	expect_near(fuzzy_jaro_winkler(S("abc"), S("xyz")), 0, "disjoint");
	expect_near(fuzzy_jaro_winkler(S("M\xc3\xbcller"), S("M\xc3\xbcller")), 1, "umlaut");
	/* Jaro below 0.7 gets no prefix boost: jaro("abcdef", "abxyzw") = 5/9. */
	expect_near(fuzzy_jaro_winkler(S("abcdef"), S("abxyzw")), 5.0 / 9, "no boost");
}

Test(fuzzy, cutoff_above_100_and_nan)
{
	cr_expect_eq(fuzzy_ratio(S("a"), S("a"), 100.5), 0);
	cr_expect_eq(fuzzy_ratio(S("a"), S("a"), 100), 100);
	cr_expect_eq(fuzzy_ratio(S("ab"), S("a"), NAN), fuzzy_ratio(S("ab"), S("a"), 0));
	cr_expect_eq(fuzzy_ratio(S("ab"), S("a"), -5), fuzzy_ratio(S("ab"), S("a"), 0));
}

Test(fuzzy, pattern_known)
{
	fuzzy_pattern_t *p = fuzzy_pattern_new(S("this is a test"));
	expect_near(fuzzy_pattern_ratio(p, S("this is a test!"), 0), 96.55172413793103, "pattern");
	cr_expect_eq(fuzzy_pattern_ratio(p, S("this is a test!"), 97), 0);
	expect_near(fuzzy_pattern_ratio(p, S("this is a test"), 100), 100, "pattern equal");
	fuzzy_pattern_free(p);
	fuzzy_pattern_t *e = fuzzy_pattern_new(S(""));
	cr_expect_eq(fuzzy_pattern_ratio(e, S(""), 0), 100);
	cr_expect_eq(fuzzy_pattern_ratio(e, S("x"), 0), 0);
	fuzzy_pattern_free(e);
	fuzzy_pattern_free(NULL);
}

/* ---- property tests ------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static size_t rnd_below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

/* Alphabets: small ones make many matches (long common subsequences), large
 * ones few; mixed ones put 1- to 4-byte characters side by side. */
static const uint32_t alpha_ab[] = {'a', 'b'};
static const uint32_t alpha_ascii[] = {'a', 'b', 'c', 'd', 'e', ' ', 'X', '0'};
static const uint32_t alpha_mixed[] = {'a', 0xE9, 0xFC, 0x20AC, 0x4E2D, 0x1F600, 0x1D11E, 'z'};
static const uint32_t alpha_wide[] = {0x100, 0x101, 0x3B1, 0x4E2D, 0x6587, 0x1F600};
static const struct {
	const uint32_t *c;
	size_t n;
} alphabets[] = {
	{alpha_ab, 2}, {alpha_ascii, 8}, {alpha_mixed, 8}, {alpha_wide, 6}, {NULL, 0},
};
#define NALPHA (sizeof alphabets / sizeof alphabets[0])

static uint32_t rnd_cp(size_t alpha)
{
	if (alphabets[alpha].c)
		return alphabets[alpha].c[rnd_below(alphabets[alpha].n)];
	/* Any scalar value, weighted towards each UTF-8 length. */
	switch (rnd_below(4)) {
	case 0: return 1 + (uint32_t)rnd_below(0x7F);
	case 1: return 0x80 + (uint32_t)rnd_below(0x780);
	case 2: {
		uint32_t c = 0x800 + (uint32_t)rnd_below(0xF800);
		return c >= 0xD800 && c <= 0xDFFF ? c - 0x800 : c;
	}
	default: return 0x10000 + (uint32_t)rnd_below(0x100000);
	}
}

static size_t utf8_encode(const uint32_t *cp, size_t n, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t c = cp[i];
		if (c < 0x80) {
			out[k++] = (char)c;
		} else if (c < 0x800) {
			out[k++] = (char)(0xC0 | (c >> 6));
			out[k++] = (char)(0x80 | (c & 0x3F));
		} else if (c < 0x10000) {
			out[k++] = (char)(0xE0 | (c >> 12));
			out[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
			out[k++] = (char)(0x80 | (c & 0x3F));
		} else {
			out[k++] = (char)(0xF0 | (c >> 18));
			out[k++] = (char)(0x80 | ((c >> 12) & 0x3F));
			out[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
			out[k++] = (char)(0x80 | (c & 0x3F));
		}
	}
	return k;
}

/* The plain O(m*n) dynamic programme; sub is the substitution cost (1 for
 * Levenshtein, 2 for Indel, where a substitution is a delete plus insert). */
static size_t dp_distance(const uint32_t *a, size_t m, const uint32_t *b, size_t n, size_t sub)
{
	size_t *row = malloc((n + 1) * sizeof *row);
	for (size_t j = 0; j <= n; j++)
		row[j] = j;
	for (size_t i = 1; i <= m; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= n; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] == b[j - 1] ? 0 : sub);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	size_t d = row[n];
	free(row);
	return d;
}

typedef struct {
	uint32_t a[300], b[300];
	size_t m, n;
	char ua[1200], ub[1200];
	size_t la, lb;
} pair_t;

/* A random pair: unrelated strings, or b an edited copy of a (so distances
 * are small and cutoffs land on both sides). */
static void rnd_pair(pair_t *p, size_t maxlen)
{
	size_t alpha = rnd_below(NALPHA);
	p->m = rnd_below(maxlen + 1);
	for (size_t i = 0; i < p->m; i++)
		p->a[i] = rnd_cp(alpha);
	if (rnd_below(2)) {
		p->n = rnd_below(maxlen + 1);
		for (size_t i = 0; i < p->n; i++)
			p->b[i] = rnd_cp(alpha);
	} else {
		memcpy(p->b, p->a, p->m * sizeof(uint32_t));
		p->n = p->m;
		size_t edits = rnd_below(p->m / 4 + 3);
		for (size_t e = 0; e < edits; e++) {
			size_t at = rnd_below(p->n + 1);
			switch (rnd_below(3)) {
			case 0: /* insert */
				if (p->n < maxlen) {
					memmove(p->b + at + 1, p->b + at, (p->n - at) * sizeof(uint32_t));
					p->b[at] = rnd_cp(alpha);
					p->n++;
				}
				break;
			case 1: /* delete */
				if (at < p->n) {
					memmove(p->b + at, p->b + at + 1, (p->n - at - 1) * sizeof(uint32_t));
					p->n--;
				}
				break;
			default: /* substitute */
				if (at < p->n)
					p->b[at] = rnd_cp(alpha);
			}
		}
	}
	p->la = utf8_encode(p->a, p->m, p->ua);
	p->lb = utf8_encode(p->b, p->n, p->ub);
}

Test(fuzzy_property, distances_match_dynamic_programme, .timeout = 240)
{
	pair_t p;
	size_t crossed = 0;
	for (int t = 0; t < 3000; t++) {
		rnd_pair(&p, 300);
		crossed += p.m > 64 || p.n > 64;
		size_t lev = dp_distance(p.a, p.m, p.b, p.n, 1);
		size_t ind = dp_distance(p.a, p.m, p.b, p.n, 2);
		size_t got_lev = fuzzy_levenshtein(p.ua, p.la, p.ub, p.lb);
		size_t got_ind = fuzzy_indel(p.ua, p.la, p.ub, p.lb);
		cr_assert_eq(got_lev, lev, "levenshtein #%d (%zu, %zu cps): got %zu, want %zu", t,
		             p.m, p.n, got_lev, lev);
		cr_assert_eq(got_ind, ind, "indel #%d (%zu, %zu cps): got %zu, want %zu", t, p.m,
		             p.n, got_ind, ind);
		cr_assert_eq(fuzzy_levenshtein(p.ub, p.lb, p.ua, p.la), lev, "symmetry #%d", t);

		size_t max = rnd_below(lev + 3);
		size_t got_max = fuzzy_levenshtein_max(p.ua, p.la, p.ub, p.lb, max);
		cr_assert_eq(got_max, lev <= max ? lev : max + 1, "levenshtein_max #%d", t);

		double want = p.m + p.n ? 100.0 * (1.0 - (double)ind / (double)(p.m + p.n)) : 100.0;
		double r = fuzzy_ratio(p.ua, p.la, p.ub, p.lb, 0);
		cr_assert_eq(r, want, "ratio #%d: got %.17g, want %.17g", t, r, want);
	}
	cr_expect_gt(crossed, 1000, "too few pairs over one 64-bit word");
}

Test(fuzzy_property, cutoff_gives_zero_or_exact_score, .timeout = 240)
{
	pair_t p;
	int cut = 0, kept = 0;
	for (int t = 0; t < 3000; t++) {
		rnd_pair(&p, 300);
		double full = fuzzy_ratio(p.ua, p.la, p.ub, p.lb, 0);
		/* Cutoffs near the score are the interesting ones. */
		double c = rnd_below(3) ? full + ((double)rnd_below(2001) - 1000) / 100.0
		                        : (double)rnd_below(10001) / 100.0;
		if (c > 100)
			c = 100;
		double want = full >= c ? full : 0;
		double r = fuzzy_ratio(p.ua, p.la, p.ub, p.lb, c);
		cr_assert_eq(r, want, "ratio #%d cutoff %.4f: got %.17g, full %.17g", t, c, r, full);
		cut += want == 0 && full != 0;
		kept += want != 0;

		/* The exact score as a cutoff must keep it. */
		cr_assert_eq(fuzzy_ratio(p.ua, p.la, p.ub, p.lb, full), full, "ratio #%d at score", t);

		fuzzy_pattern_t *pat = fuzzy_pattern_new(p.ua, p.la);
		cr_assert_eq(fuzzy_pattern_ratio(pat, p.ub, p.lb, 0), full, "pattern #%d", t);
		cr_assert_eq(fuzzy_pattern_ratio(pat, p.ub, p.lb, c), want, "pattern #%d cutoff", t);
		fuzzy_pattern_free(pat);

		double ts = fuzzy_token_set_ratio(p.ua, p.la, p.ub, p.lb, 0);
		double ts_c = fuzzy_token_set_ratio(p.ua, p.la, p.ub, p.lb, c);
		cr_assert(ts_c == 0 || ts_c == ts, "token_set #%d: %g vs %g", t, ts_c, ts);
		cr_assert(ts_c == (ts >= c ? ts : 0), "token_set #%d cutoff %g: %g vs %g", t, c, ts_c, ts);
		double tso = fuzzy_token_sort_ratio(p.ua, p.la, p.ub, p.lb, 0);
		double tso_c = fuzzy_token_sort_ratio(p.ua, p.la, p.ub, p.lb, c);
		cr_assert(tso_c == (tso >= c ? tso : 0), "token_sort #%d: %g vs %g", t, tso_c, tso);
	}
	cr_expect_gt(cut, 300, "cutoff rarely cut");
	cr_expect_gt(kept, 300, "cutoff rarely kept");
}

/* Partial ratio by brute force: every prefix shorter than the needle, every
 * window of its length, every suffix; both ways round for equal lengths. */
static double naive_partial_one(const uint32_t *s1, size_t m, const uint32_t *s2, size_t n)
{
	double best = 0;
	for (size_t start = 0; start < n; start++) {
		for (size_t end = start + 1; end <= n; end++) {
			size_t len = end - start;
			int prefix = start == 0 && len < m;
			int window = len == m;
			int suffix = end == n && len < m;
			if (!prefix && !window && !suffix)
				continue;
			size_t d = dp_distance(s1, m, s2 + start, len, 2);
			double r = 100.0 * (1.0 - (double)d / (double)(m + len));
			if (r > best)
				best = r;
		}
	}
	return best;
}

static double naive_partial(const uint32_t *a, size_t m, const uint32_t *b, size_t n)
{
	if (!m && !n)
		return 100;
	if (!m || !n)
		return 0;
	double r = m <= n ? naive_partial_one(a, m, b, n) : naive_partial_one(b, n, a, m);
	if (m == n) {
		double r2 = naive_partial_one(b, n, a, m);
		if (r2 > r)
			r = r2;
	}
	return r;
}

Test(fuzzy_property, partial_ratio_matches_brute_force, .timeout = 240)
{
	pair_t p;
	for (int t = 0; t < 400; t++) {
		rnd_pair(&p, t < 300 ? 40 : 90);
		if (rnd_below(2) && p.m > 4) {
			/* Make the needle a lightly edited slice of the haystack. */
			size_t from = rnd_below(p.m / 2), len = 2 + rnd_below(p.m - from - 1);
			memcpy(p.b, p.a + from, len * sizeof(uint32_t));
			p.n = len;
			if (len > 2)
				p.b[rnd_below(len)] = 'q';
			p.lb = utf8_encode(p.b, p.n, p.ub);
		}
		double want = naive_partial(p.a, p.m, p.b, p.n);
		double got = fuzzy_partial_ratio(p.ua, p.la, p.ub, p.lb, 0);
		cr_assert(fabs(got - want) < 1e-9, "partial #%d (%zu, %zu): got %.12f, want %.12f", t,
		          p.m, p.n, got, want);
		double c = want + ((double)rnd_below(1001) - 500) / 100.0;
		double got_c = fuzzy_partial_ratio(p.ua, p.la, p.ub, p.lb, c);
		cr_assert(got_c == (got >= c ? got : 0), "partial #%d cutoff %g: %g vs %g", t, c,
		          got_c, got);
	}
}

/* Short pairs with small limits: the banded fast path of
 * fuzzy_levenshtein_max (ASCII, at most 64 bytes, max <= 3; invoice
 * numbers a payment may have mistyped) against the plain programme. */
Test(fuzzy_property, short_distances_with_small_limits)
{
	pair_t p;
	for (int t = 0; t < 20000; t++) {
		rnd_pair(&p, t % 2 ? 16 : 70);
		size_t lev = dp_distance(p.a, p.m, p.b, p.n, 1);
		for (size_t max = 0; max <= 4; max++) {
			size_t got = fuzzy_levenshtein_max(p.ua, p.la, p.ub, p.lb, max);
			cr_assert_eq(got, lev <= max ? lev : max + 1, "#%d max %zu (%zu, %zu cps): got %zu, want %zu", t,
			             max, p.m, p.n, got, lev);
		}
	}
}
