#include "match/fuzzy.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "match/fuzzy_bits.h"

/* Scores are built on the bit-parallel distances of match/fuzzy_bits.c. */

typedef struct {
	const uint32_t *p;
	size_t len;
} tok_t;

static double ratio_cp(const uint32_t *a, size_t m, const uint32_t *b, size_t n, double cutoff);
static double pm_ratio(const pm_t *pm, const uint32_t *s, size_t n, double cutoff);
static double partial_impl(const uint32_t *s1, size_t m, const uint32_t *s2, size_t n,
                           double cutoff);
static size_t tokenize(const uint32_t *s, size_t n, tok_t **out, tok_t *small, size_t nsmall);
static void join_tokens(const tok_t *t, size_t k, cpstr_t *out, size_t cap);
static double jaro(const uint32_t *a, size_t m, const uint32_t *b, size_t n);

/* NaN and negative cutoffs mean "no cutoff". */
static double clean_cutoff(double c)
{
	return c > 0 ? c : 0;
}

size_t fuzzy_levenshtein(const char *a, size_t alen, const char *b, size_t blen)
{
	cpstr_t x, y;
	fz_cp_decode(&x, a, alen);
	fz_cp_decode(&y, b, blen);
	size_t d = fz_lev_cp(x.p, x.len, y.p, y.len, x.len + y.len);
	fz_cp_free(&y);
	fz_cp_free(&x);
	return d;
}

#define BAND_MAX_LEN 64 /* the banded fast path's longest string */

static bool all_ascii(const char *s, size_t n)
{
	unsigned char any = 0;
	for (size_t i = 0; i < n; i++)
		any |= (unsigned char)s[i];
	return any < 0x80;
}

/* Levenshtein distance of two short ASCII strings when it is at most max,
 * else max + 1: a table kept to the band |i - j| <= max. The matcher asks
 * this of mistyped invoice numbers (max 1 or 2) thousands of times per
 * payment, where decoding code points and building bit masks cost more
 * than the few cells of the band. */
static size_t lev_band(const unsigned char *a, size_t m, const unsigned char *b, size_t n, size_t max)
{
	size_t big = max + 1, row[2][BAND_MAX_LEN + 2];
	size_t *prev = row[0], *cur = row[1];
	for (size_t j = 0; j <= n + 1; j++)
		prev[j] = j <= max ? j : big;
	for (size_t i = 1; i <= m; i++) {
		size_t lo = i > max ? i - max : 1, hi = i + max < n ? i + max : n;
		cur[lo - 1] = lo == 1 && i <= max ? i : big;
		size_t least = cur[lo - 1];
		for (size_t j = lo; j <= hi; j++) {
			size_t c = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < c)
				c = prev[j] + 1;
			if (cur[j - 1] + 1 < c)
				c = cur[j - 1] + 1;
			cur[j] = c < big ? c : big;
			least = cur[j] < least ? cur[j] : least;
		}
		cur[hi + 1] = big; /* the next row's cell above, outside this band */
		if (least >= big)
			return big;
		size_t *t = prev;
		prev = cur;
		cur = t;
	}
	return prev[n] < big ? prev[n] : big;
}

size_t fuzzy_levenshtein_max(const char *a, size_t alen, const char *b, size_t blen,
                             size_t max)
{
	if (max <= 3 && alen <= BAND_MAX_LEN && blen <= BAND_MAX_LEN && all_ascii(a, alen) && all_ascii(b, blen)) {
		size_t diff = alen > blen ? alen - blen : blen - alen;
		if (diff > max)
			return max + 1;
		return lev_band((const unsigned char *)a, alen, (const unsigned char *)b, blen, max);
	}
	cpstr_t x, y;
	fz_cp_decode(&x, a, alen);
	fz_cp_decode(&y, b, blen);
	/* The distance never exceeds the longer length: clamping keeps max + 1
	 * from overflowing without changing the answer. */
	size_t lim = x.len + y.len;
	size_t d = fz_lev_cp(x.p, x.len, y.p, y.len, max < lim ? max : lim);
	fz_cp_free(&y);
	fz_cp_free(&x);
	return d;
}

size_t fuzzy_indel(const char *a, size_t alen, const char *b, size_t blen)
{
	cpstr_t x, y;
	fz_cp_decode(&x, a, alen);
	fz_cp_decode(&y, b, blen);
	size_t d = fz_indel_cp(x.p, x.len, y.p, y.len, x.len + y.len);
	fz_cp_free(&y);
	fz_cp_free(&x);
	return d;
}

double fuzzy_ratio(const char *a, size_t alen, const char *b, size_t blen,
                   double score_cutoff)
{
	double cutoff = clean_cutoff(score_cutoff);
	if (cutoff > 100)
		return 0;
	cpstr_t x, y;
	fz_cp_decode(&x, a, alen);
	fz_cp_decode(&y, b, blen);
	double r = ratio_cp(x.p, x.len, y.p, y.len, cutoff);
	fz_cp_free(&y);
	fz_cp_free(&x);
	return r;
}

double fuzzy_partial_ratio(const char *a, size_t alen, const char *b, size_t blen,
                           double score_cutoff)
{
	double cutoff = clean_cutoff(score_cutoff);
	if (cutoff > 100)
		return 0;
	cpstr_t x, y;
	fz_cp_decode(&x, a, alen);
	fz_cp_decode(&y, b, blen);
	size_t m = x.len, n = y.len;
	double r;
	if (m == 0 && n == 0) {
		r = 100;
	} else if (m == 0 || n == 0) {
		r = 0;
	} else {
		if (m <= n)
			r = partial_impl(x.p, m, y.p, n, cutoff);
		else
			r = partial_impl(y.p, n, x.p, m, cutoff);
		/* With equal lengths the windows of either string in the other
		 * differ at the ends; RapidFuzz tries both ways. */
		if (r != 100 && m == n) {
			double r2 = partial_impl(y.p, n, x.p, m, r > cutoff ? r : cutoff);
			if (r2 > r)
				r = r2;
		}
	}
	fz_cp_free(&y);
	fz_cp_free(&x);
	return r >= cutoff ? r : 0;
}

double fuzzy_token_sort_ratio(const char *a, size_t alen, const char *b, size_t blen,
                              double score_cutoff)
{
	double cutoff = clean_cutoff(score_cutoff);
	if (cutoff > 100)
		return 0;
	cpstr_t x, y, jx, jy;
	tok_t sx[32], sy[32], *tx, *ty;
	fz_cp_decode(&x, a, alen);
	fz_cp_decode(&y, b, blen);
	size_t kx = tokenize(x.p, x.len, &tx, sx, 32);
	size_t ky = tokenize(y.p, y.len, &ty, sy, 32);
	join_tokens(tx, kx, &jx, x.len);
	join_tokens(ty, ky, &jy, y.len);
	double r = ratio_cp(jx.p, jx.len, jy.p, jy.len, cutoff);
	fz_cp_free(&jy);
	fz_cp_free(&jx);
	if (ty != sy)
		free(ty);
	if (tx != sx)
		free(tx);
	fz_cp_free(&y);
	fz_cp_free(&x);
	return r;
}

/* Removes adjacent duplicates from a sorted token array; returns the count. */
static size_t tok_unique(tok_t *t, size_t k);
static int tok_cmp(const void *pa, const void *pb);

static double norm_distance(size_t dist, size_t lensum, double cutoff)
{
	double s = lensum ? 100 - 100 * (double)dist / (double)lensum : 100;
	return s >= cutoff ? s : 0;
}

double fuzzy_token_set_ratio(const char *a, size_t alen, const char *b, size_t blen,
                             double score_cutoff)
{
	double cutoff = clean_cutoff(score_cutoff);
	if (cutoff > 100)
		return 0;
	cpstr_t x, y, jab, jba;
	tok_t sx[32], sy[32], *tx, *ty;
	double result = 0;
	fz_cp_decode(&x, a, alen);
	fz_cp_decode(&y, b, blen);
	size_t kx = tokenize(x.p, x.len, &tx, sx, 32);
	size_t ky = tokenize(y.p, y.len, &ty, sy, 32);
	jab.p = jba.p = NULL;
	if (kx == 0 || ky == 0)
		goto out; /* RapidFuzz (and FuzzyWuzzy) give 0 here */
	kx = tok_unique(tx, kx);
	ky = tok_unique(ty, ky);

	/* Partition by merging the sorted sets in place: the intersection is
	 * only measured, the differences are compacted to the array fronts. */
	size_t i = 0, j = 0, nab = 0, nba = 0, nsect = 0, sect_len = 0;
	while (i < kx || j < ky) {
		int c = i == kx ? 1 : j == ky ? -1 : tok_cmp(&tx[i], &ty[j]);
		if (c < 0) {
			tx[nab++] = tx[i++];
		} else if (c > 0) {
			ty[nba++] = ty[j++];
		} else {
			sect_len += tx[i].len + (nsect ? 1 : 0);
			nsect++;
			i++;
			j++;
		}
	}
	if (nsect && (!nab || !nba)) {
		result = 100;
		goto out;
	}
	join_tokens(tx, nab, &jab, x.len);
	join_tokens(ty, nba, &jba, y.len);
	size_t ab_len = jab.len, ba_len = jba.len;
	size_t sep = sect_len != 0;
	size_t sect_ab_len = sect_len + sep + ab_len;
	size_t sect_ba_len = sect_len + sep + ba_len;
	size_t lensum = sect_ab_len + sect_ba_len;
	double f = ceil((double)lensum * (1 - cutoff / 100));
	size_t max = f >= (double)lensum ? lensum : f <= 0 ? 0 : (size_t)f;
	/* Prefixing both sides with the common tokens changes no distance. */
	size_t dist = fz_indel_cp(jab.p, ab_len, jba.p, ba_len, max);
	if (dist <= max)
		result = norm_distance(dist, lensum, cutoff);
	if (sect_len) {
		double r1 = norm_distance(sep + ab_len, sect_len + sect_ab_len, cutoff);
		double r2 = norm_distance(sep + ba_len, sect_len + sect_ba_len, cutoff);
		if (r1 > result)
			result = r1;
		if (r2 > result)
			result = r2;
	}
out:
	if (jba.p)
		fz_cp_free(&jba);
	if (jab.p)
		fz_cp_free(&jab);
	if (ty != sy)
		free(ty);
	if (tx != sx)
		free(tx);
	fz_cp_free(&y);
	fz_cp_free(&x);
	return result;
}

double fuzzy_jaro_winkler(const char *a, size_t alen, const char *b, size_t blen)
{
	cpstr_t x, y;
	fz_cp_decode(&x, a, alen);
	fz_cp_decode(&y, b, blen);
	size_t prefix = 0, lim = x.len < y.len ? x.len : y.len;
	if (lim > 4)
		lim = 4;
	while (prefix < lim && x.p[prefix] == y.p[prefix])
		prefix++;
	double sim = jaro(x.p, x.len, y.p, y.len);
	if (sim > 0.7) {
		sim += (double)prefix * 0.1 * (1.0 - sim);
		if (sim > 1.0)
			sim = 1.0;
	}
	fz_cp_free(&y);
	fz_cp_free(&x);
	return sim;
}

struct fuzzy_pattern {
	size_t len;
	uint32_t *cp;
	pm_t pm;
};

fuzzy_pattern_t *fuzzy_pattern_new(const char *s, size_t len)
{
	fuzzy_pattern_t *p = xmalloc(sizeof *p);
	cpstr_t c;
	fz_cp_decode(&c, s, len);
	p->len = c.len;
	p->cp = xmalloc((c.len ? c.len : 1) * sizeof(uint32_t));
	if (c.len)
		memcpy(p->cp, c.p, c.len * sizeof(uint32_t));
	fz_cp_free(&c);
	fz_pm_build(&p->pm, p->cp, p->len);
	return p;
}

double fuzzy_pattern_ratio(const fuzzy_pattern_t *p, const char *s, size_t len,
                           double score_cutoff)
{
	double cutoff = clean_cutoff(score_cutoff);
	if (cutoff > 100)
		return 0;
	cpstr_t y;
	fz_cp_decode(&y, s, len);
	double r = pm_ratio(&p->pm, y.p, y.len, cutoff);
	fz_cp_free(&y);
	return r;
}

void fuzzy_pattern_free(fuzzy_pattern_t *p)
{
	if (!p)
		return;
	fz_pm_free(&p->pm);
	free(p->cp);
	free(p);
}

/* Largest Indel distance that can still score cutoff over lensum characters;
 * rounded up, so it never excludes a score that reaches the cutoff. */
static size_t max_dist_for(size_t lensum, double cutoff)
{
	double f = ceil((double)lensum * (1.0 - cutoff / 100.0));
	if (f >= (double)lensum)
		return lensum;
	return f <= 0 ? 0 : (size_t)f;
}

static double ratio_score(size_t dist, size_t lensum, double cutoff)
{
	double s = lensum ? 100.0 * (1.0 - (double)dist / (double)lensum) : 100.0;
	return s >= cutoff ? s : 0;
}

static double ratio_cp(const uint32_t *a, size_t m, const uint32_t *b, size_t n, double cutoff)
{
	size_t lensum = m + n;
	if (lensum == 0)
		return 100.0;
	size_t max = max_dist_for(lensum, cutoff);
	size_t d = fz_indel_cp(a, m, b, n, max);
	return d <= max ? ratio_score(d, lensum, cutoff) : 0;
}

/* fuzzy_ratio of the prepared pattern and s (no affix stripping: the
 * pattern's vectors are fixed). */
static double pm_ratio(const pm_t *pm, const uint32_t *s, size_t n, double cutoff)
{
	size_t m = pm->len, lensum = m + n;
	if (lensum == 0)
		return 100.0;
	size_t max = max_dist_for(lensum, cutoff);
	if ((m > n ? m - n : n - m) > max)
		return 0;
	size_t lcs = fz_lcs_pm(pm, s, n, fz_min_lcs_for(lensum, max));
	size_t d = lensum - 2 * lcs;
	return d <= max ? ratio_score(d, lensum, cutoff) : 0;
}

/* RapidFuzz's partial ratio for 1 <= m <= n: the best ratio of s1 against the
 * prefixes of s2 shorter than m, its windows of length m and its suffixes.
 * A window whose new end character is not in s1 cannot beat its neighbour,
 * so it is skipped. Each new best raises the cutoff for the rest. */
static double partial_impl(const uint32_t *s1, size_t m, const uint32_t *s2, size_t n,
                           double cutoff)
{
	pm_t pm;
	double best = 0;
	fz_pm_build(&pm, s1, m);
	for (size_t i = 1; i < m; i++) {
		if (!fz_pm_has(&pm, s2[i - 1]))
			continue;
		double r = pm_ratio(&pm, s2, i, cutoff);
		if (r > best) {
			best = cutoff = r;
			if (best == 100)
				goto out;
		}
	}
	for (size_t i = 0; i < n - m; i++) {
		if (!fz_pm_has(&pm, s2[i + m - 1]))
			continue;
		double r = pm_ratio(&pm, s2 + i, m, cutoff);
		if (r > best) {
			best = cutoff = r;
			if (best == 100)
				goto out;
		}
	}
	for (size_t i = n - m; i < n; i++) {
		if (!fz_pm_has(&pm, s2[i]))
			continue;
		double r = pm_ratio(&pm, s2 + i, n - i, cutoff);
		if (r > best) {
			best = cutoff = r;
			if (best == 100)
				goto out;
		}
	}
out:
	fz_pm_free(&pm);
	return best;
}

/* ---- tokens --------------------------------------------------------------- */

/* Python's str.split() whitespace, which RapidFuzz uses. */
static inline int is_space_cp(uint32_t c)
{
	if (c > 0x20 && c < 0x85)
		return 0;
	if (c <= 0x20)
		return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
	switch (c) {
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202F: case 0x205F: case 0x3000:
		return 1;
	default:
		return c >= 0x2000 && c <= 0x200A;
	}
}

static int tok_cmp(const void *pa, const void *pb)
{
	const tok_t *a = pa, *b = pb;
	size_t n = a->len < b->len ? a->len : b->len;
	for (size_t i = 0; i < n; i++)
		if (a->p[i] != b->p[i])
			return a->p[i] < b->p[i] ? -1 : 1;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* Splits s at whitespace into tokens sorted by code point; *out is small when
 * nsmall is enough, else a heap array the caller frees. */
static size_t tokenize(const uint32_t *s, size_t n, tok_t **out, tok_t *small, size_t nsmall)
{
	size_t k = 0, cap = nsmall;
	tok_t *t = small;
	for (size_t i = 0; i < n;) {
		while (i < n && is_space_cp(s[i]))
			i++;
		if (i == n)
			break;
		size_t start = i;
		while (i < n && !is_space_cp(s[i]))
			i++;
		if (k == cap) {
			/* At most (n + 1) / 2 tokens fit in n code points. */
			cap = (n + 1) / 2;
			tok_t *h = xmalloc(cap * sizeof *h);
			memcpy(h, t, k * sizeof *h);
			t = h;
		}
		t[k++] = (tok_t){s + start, i - start};
	}
	if (k > 16) {
		qsort(t, k, sizeof *t, tok_cmp);
	} else {
		/* A name has a handful of words: insertion sort beats qsort. */
		for (size_t i = 1; i < k; i++) {
			tok_t x = t[i];
			size_t j = i;
			for (; j > 0 && tok_cmp(&t[j - 1], &x) > 0; j--)
				t[j] = t[j - 1];
			t[j] = x;
		}
	}
	*out = t;
	return k;
}

static size_t tok_unique(tok_t *t, size_t k)
{
	size_t o = 0;
	for (size_t i = 0; i < k; i++)
		if (o == 0 || tok_cmp(&t[o - 1], &t[i]) != 0)
			t[o++] = t[i];
	return o;
}

/* Joins tokens with single spaces; cap bounds the result (the source length). */
static void join_tokens(const tok_t *t, size_t k, cpstr_t *out, size_t cap)
{
	out->p = cap <= CP_STACK ? out->small : xmalloc((cap ? cap : 1) * sizeof(uint32_t));
	size_t len = 0;
	for (size_t i = 0; i < k; i++) {
		if (i)
			out->p[len++] = ' ';
		memcpy(out->p + len, t[i].p, t[i].len * sizeof(uint32_t));
		len += t[i].len;
	}
	out->len = len;
}

/* ---- Jaro ----------------------------------------------------------------- */

/* Jaro similarity as RapidFuzz computes it: matches within a window of
 * max(m, n) / 2 - 1, half the out-of-order matches (rounded down) count as
 * transpositions. */
static double jaro(const uint32_t *a, size_t m, const uint32_t *b, size_t n)
{
	if (m == 0 && n == 0)
		return 1.0;
	if (m == 0 || n == 0)
		return 0.0;
	if (m == 1 && n == 1)
		return a[0] == b[0] ? 1.0 : 0.0;
	size_t bound = (m > n ? m : n) / 2;
	bound = bound ? bound - 1 : 0;
	unsigned char small[2 * CP_STACK];
	unsigned char *fa = m + n <= sizeof small ? small : xmalloc(m + n);
	unsigned char *fb = fa + m;
	memset(fa, 0, m + n);
	size_t common = 0;
	for (size_t i = 0; i < m; i++) {
		size_t lo = i > bound ? i - bound : 0;
		size_t hi = i + bound < n - 1 ? i + bound : n - 1;
		for (size_t j = lo; j <= hi; j++) {
			if (!fb[j] && b[j] == a[i]) {
				fa[i] = fb[j] = 1;
				common++;
				break;
			}
		}
	}
	double sim = 0;
	if (common) {
		size_t trans = 0, k = 0;
		for (size_t i = 0; i < m; i++) {
			if (!fa[i])
				continue;
			while (!fb[k])
				k++;
			if (a[i] != b[k])
				trans++;
			k++;
		}
		double c = (double)common;
		sim = (c / (double)m + c / (double)n + (c - (double)(trans / 2)) / c) / 3.0;
	}
	if (fa != small)
		free(fa);
	return sim;
}
