#include "match/fuzzy.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* DESIGN
 *
 * Strings are decoded from UTF-8 into arrays of code points (uint32_t); an
 * invalid byte b becomes U+DC00 + b, a lone surrogate that valid UTF-8 never
 * produces, so it equals only the same invalid byte. Short strings decode
 * into stack buffers (cpstr_t), long ones into the heap.
 *
 * Both distances are bit-parallel over a "pattern" string of m code points
 * (the shorter one) while the other string is read one code point at a time:
 *   - Indel = m + n - 2 * LCS, the LCS by Hyyro's bit-vector recurrence
 *     S' = (S + U) | (S - U), U = S & PM[c]; the zero bits of S count the LCS.
 *   - Levenshtein by Myers' algorithm in Hyyro's 2003 formulation (vertical
 *     delta vectors VP/VN, one step per text character).
 * PM[c] is the bit mask of the positions of c in the pattern. Code points
 * below 256 index a direct table; others live in a small open-addressing hash
 * map (load <= 1/2, key 0 means empty, which is safe since 0 < 256).
 * Patterns up to 64 code points use one 64-bit word (pm1_t, on the stack);
 * longer ones use blocks of words (pmn_t): the LCS addition carries from word
 * to word, Levenshtein passes the horizontal deltas (+1/-1) from word to word
 * as in Myers' block-based algorithm.
 *
 * Score cutoffs become a distance bound: first the length difference alone
 * (a lower bound of both distances), then the running computation stops as
 * soon as the remaining text cannot bring the distance back under the bound.
 * The final score is computed by the same formula with and without a cutoff
 * and then compared to the cutoff, so a cut result is 0 or the exact score. */

#define CP_STACK 256  /* code points decoded on the stack */
#define PM1_SLOTS 128 /* map slots of a one-word pattern (>= 2 * 64) */

typedef struct {
	uint32_t *p;
	size_t len;
	uint32_t small[CP_STACK];
} cpstr_t;

typedef struct {
	uint64_t tab[256];
	int has_map;
	uint32_t keys[PM1_SLOTS];
	uint64_t vals[PM1_SLOTS];
} pm1_t;

typedef struct {
	size_t words;
	uint64_t *tab;  /* 256 rows of `words` words */
	size_t mask;    /* map slots - 1 */
	uint32_t *keys;
	uint64_t *vals; /* one row per slot */
	uint64_t *zero; /* the row of code points absent from the pattern */
} pmn_t;

typedef struct {
	size_t len;   /* pattern length in code points */
	size_t words; /* 1: use one; > 1: use many; 0: empty pattern */
	pm1_t one;
	pmn_t many;
} pm_t;

typedef struct {
	const uint32_t *p;
	size_t len;
} tok_t;

static void cp_decode(cpstr_t *c, const char *s, size_t n);
static void cp_free(cpstr_t *c);
static void pm_build(pm_t *pm, const uint32_t *s, size_t n);
static void pm_free(pm_t *pm);
static size_t lcs_pm(const pm_t *pm, const uint32_t *s, size_t n, size_t min_lcs);
static size_t lev_cp(const uint32_t *a, size_t m, const uint32_t *b, size_t n, size_t max);
static size_t indel_cp(const uint32_t *a, size_t m, const uint32_t *b, size_t n, size_t max);
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
	cp_decode(&x, a, alen);
	cp_decode(&y, b, blen);
	size_t d = lev_cp(x.p, x.len, y.p, y.len, x.len + y.len);
	cp_free(&y);
	cp_free(&x);
	return d;
}

size_t fuzzy_levenshtein_max(const char *a, size_t alen, const char *b, size_t blen,
                             size_t max)
{
	cpstr_t x, y;
	cp_decode(&x, a, alen);
	cp_decode(&y, b, blen);
	/* The distance never exceeds the longer length: clamping keeps max + 1
	 * from overflowing without changing the answer. */
	size_t lim = x.len + y.len;
	size_t d = lev_cp(x.p, x.len, y.p, y.len, max < lim ? max : lim);
	cp_free(&y);
	cp_free(&x);
	return d;
}

size_t fuzzy_indel(const char *a, size_t alen, const char *b, size_t blen)
{
	cpstr_t x, y;
	cp_decode(&x, a, alen);
	cp_decode(&y, b, blen);
	size_t d = indel_cp(x.p, x.len, y.p, y.len, x.len + y.len);
	cp_free(&y);
	cp_free(&x);
	return d;
}

double fuzzy_ratio(const char *a, size_t alen, const char *b, size_t blen,
                   double score_cutoff)
{
	double cutoff = clean_cutoff(score_cutoff);
	if (cutoff > 100)
		return 0;
	cpstr_t x, y;
	cp_decode(&x, a, alen);
	cp_decode(&y, b, blen);
	double r = ratio_cp(x.p, x.len, y.p, y.len, cutoff);
	cp_free(&y);
	cp_free(&x);
	return r;
}

double fuzzy_partial_ratio(const char *a, size_t alen, const char *b, size_t blen,
                           double score_cutoff)
{
	double cutoff = clean_cutoff(score_cutoff);
	if (cutoff > 100)
		return 0;
	cpstr_t x, y;
	cp_decode(&x, a, alen);
	cp_decode(&y, b, blen);
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
	cp_free(&y);
	cp_free(&x);
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
	cp_decode(&x, a, alen);
	cp_decode(&y, b, blen);
	size_t kx = tokenize(x.p, x.len, &tx, sx, 32);
	size_t ky = tokenize(y.p, y.len, &ty, sy, 32);
	join_tokens(tx, kx, &jx, x.len);
	join_tokens(ty, ky, &jy, y.len);
	double r = ratio_cp(jx.p, jx.len, jy.p, jy.len, cutoff);
	cp_free(&jy);
	cp_free(&jx);
	if (ty != sy)
		free(ty);
	if (tx != sx)
		free(tx);
	cp_free(&y);
	cp_free(&x);
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
	cp_decode(&x, a, alen);
	cp_decode(&y, b, blen);
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
	size_t dist = indel_cp(jab.p, ab_len, jba.p, ba_len, max);
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
		cp_free(&jba);
	if (jab.p)
		cp_free(&jab);
	if (ty != sy)
		free(ty);
	if (tx != sx)
		free(tx);
	cp_free(&y);
	cp_free(&x);
	return result;
}

double fuzzy_jaro_winkler(const char *a, size_t alen, const char *b, size_t blen)
{
	cpstr_t x, y;
	cp_decode(&x, a, alen);
	cp_decode(&y, b, blen);
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
	cp_free(&y);
	cp_free(&x);
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
	cp_decode(&c, s, len);
	p->len = c.len;
	p->cp = xmalloc((c.len ? c.len : 1) * sizeof(uint32_t));
	if (c.len)
		memcpy(p->cp, c.p, c.len * sizeof(uint32_t));
	cp_free(&c);
	pm_build(&p->pm, p->cp, p->len);
	return p;
}

double fuzzy_pattern_ratio(const fuzzy_pattern_t *p, const char *s, size_t len,
                           double score_cutoff)
{
	double cutoff = clean_cutoff(score_cutoff);
	if (cutoff > 100)
		return 0;
	cpstr_t y;
	cp_decode(&y, s, len);
	double r = pm_ratio(&p->pm, y.p, y.len, cutoff);
	cp_free(&y);
	return r;
}

void fuzzy_pattern_free(fuzzy_pattern_t *p)
{
	if (!p)
		return;
	pm_free(&p->pm);
	free(p->cp);
	free(p);
}

/* ---- UTF-8 ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes available) stored in *cp,
 * or 0 if it is invalid (overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t need;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1, c &= 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2, c &= 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n <= need)
		return 0;
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return need + 1;
}

#ifdef __SSE2__
/* Widens 16 ASCII bytes to code points. */
static inline void widen16(uint32_t *out, __m128i v)
{
	__m128i z = _mm_setzero_si128();
	__m128i lo = _mm_unpacklo_epi8(v, z), hi = _mm_unpackhi_epi8(v, z);
	_mm_storeu_si128((__m128i *)out, _mm_unpacklo_epi16(lo, z));
	_mm_storeu_si128((__m128i *)(out + 4), _mm_unpackhi_epi16(lo, z));
	_mm_storeu_si128((__m128i *)(out + 8), _mm_unpacklo_epi16(hi, z));
	_mm_storeu_si128((__m128i *)(out + 12), _mm_unpackhi_epi16(hi, z));
}
#endif

static void cp_decode(cpstr_t *c, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t *out = c->p = n <= CP_STACK ? c->small : xmalloc(n * sizeof(uint32_t));
	size_t i = 0, k = 0;
#ifdef __SSE2__
	/* Names are mostly ASCII: widen 16 bytes at a time while they are, the
	 * tail by an overlapping last block. Until the first non-ASCII byte,
	 * code point k is byte k, so the general loop can take over at i. */
	if (n >= 16) {
		while (i + 16 <= n) {
			__m128i v = _mm_loadu_si128((const __m128i *)(s + i));
			if (_mm_movemask_epi8(v))
				break;
			widen16(out + i, v);
			i += 16;
		}
		if (i + 16 > n) {
			__m128i v = _mm_loadu_si128((const __m128i *)(s + n - 16));
			if (i == n || !_mm_movemask_epi8(v)) {
				if (i < n)
					widen16(out + n - 16, v);
				c->len = n;
				return;
			}
		}
		k = i;
	}
#endif
	while (i < n) {
		if (s[i] < 0x80) {
			out[k++] = s[i++];
			continue;
		}
		uint32_t cp;
		size_t l = utf8_seq(s + i, n - i, &cp);
		if (l) {
			out[k++] = cp;
			i += l;
		} else {
			out[k++] = 0xDC00 | s[i++];
		}
	}
	c->len = k;
}

static void cp_free(cpstr_t *c)
{
	if (c->p != c->small)
		free(c->p);
	c->p = NULL;
}

/* ---- pattern-match vectors ------------------------------------------------ */

static size_t map_slot(const uint32_t *keys, size_t mask, uint32_t c)
{
	size_t i = (size_t)(((uint64_t)c * 0x9E3779B97F4A7C15ull) >> 40) & mask;
	while (keys[i] != 0 && keys[i] != c)
		i = (i + 1) & mask;
	return i;
}

static inline uint64_t pm1_get(const pm1_t *pm, uint32_t c)
{
	if (c < 256)
		return pm->tab[c];
	if (!pm->has_map)
		return 0;
	size_t i = map_slot(pm->keys, PM1_SLOTS - 1, c);
	return pm->keys[i] == c ? pm->vals[i] : 0;
}

static inline const uint64_t *pmn_row(const pmn_t *pm, uint32_t c)
{
	if (c < 256)
		return pm->tab + (size_t)c * pm->words;
	size_t i = map_slot(pm->keys, pm->mask, c);
	return pm->keys[i] == c ? pm->vals + i * pm->words : pm->zero;
}

static void pm_build(pm_t *pm, const uint32_t *s, size_t n)
{
	pm->len = n;
	pm->words = (n + 63) / 64;
	if (pm->words == 1) {
		pm1_t *o = &pm->one;
		memset(o->tab, 0, sizeof o->tab);
		o->has_map = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t bit = 1ull << i;
			if (s[i] < 256) {
				o->tab[s[i]] |= bit;
				continue;
			}
			if (!o->has_map) {
				memset(o->keys, 0, sizeof o->keys);
				o->has_map = 1;
			}
			size_t k = map_slot(o->keys, PM1_SLOTS - 1, s[i]);
			if (o->keys[k] == 0) {
				o->keys[k] = s[i];
				o->vals[k] = 0;
			}
			o->vals[k] |= bit;
		}
	} else if (pm->words > 1) {
		pmn_t *o = &pm->many;
		size_t w = pm->words, wide = 0, cap = 2;
		for (size_t i = 0; i < n; i++)
			wide += s[i] >= 256;
		while (cap < 2 * wide)
			cap *= 2;
		o->words = w;
		o->mask = cap - 1;
		o->tab = xcalloc(256 * w, sizeof(uint64_t));
		o->keys = xcalloc(cap, sizeof(uint32_t));
		o->vals = xcalloc(cap * w, sizeof(uint64_t));
		o->zero = xcalloc(w, sizeof(uint64_t));
		for (size_t i = 0; i < n; i++) {
			uint64_t *row;
			if (s[i] < 256) {
				row = o->tab + (size_t)s[i] * w;
			} else {
				size_t k = map_slot(o->keys, o->mask, s[i]);
				o->keys[k] = s[i];
				row = o->vals + k * w;
			}
			row[i / 64] |= 1ull << (i % 64);
		}
	}
}

static void pm_free(pm_t *pm)
{
	if (pm->words > 1) {
		free(pm->many.zero);
		free(pm->many.vals);
		free(pm->many.keys);
		free(pm->many.tab);
	}
	pm->words = 0;
}

static int pm_has(const pm_t *pm, uint32_t c)
{
	if (pm->words == 1)
		return pm1_get(&pm->one, c) != 0;
	const uint64_t *row = pmn_row(&pm->many, c);
	for (size_t w = 0; w < pm->words; w++)
		if (row[w])
			return 1;
	return 0;
}

/* ---- longest common subsequence (for Indel) ------------------------------- */

/* Without -mpopcnt, __builtin_popcountll is a libgcc call: inline SWAR. */
static inline size_t popcount64(uint64_t x)
{
#ifdef __POPCNT__
	return (size_t)__builtin_popcountll(x);
#else
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
	return (size_t)((x * 0x0101010101010101ull) >> 56);
#endif
}

/* The LCS of the pattern and s, or some value below min_lcs as soon as the
 * LCS is certain to end below min_lcs (the LCS so far plus the characters
 * left is an upper bound). */
static size_t lcs1(const pm1_t *pm, size_t m, const uint32_t *s, size_t n, size_t min_lcs)
{
	uint64_t S = ~0ull;
	uint64_t mask = m == 64 ? ~0ull : (1ull << m) - 1;
	for (size_t j = 0; j < n; j++) {
		uint64_t U = S & pm1_get(pm, s[j]);
		S = (S + U) | (S - U);
		/* Check the bound now and then: counting every step costs more
		 * than it saves on names of a few dozen characters. */
		if (min_lcs && (j & 7) == 7 && popcount64(~S & mask) + (n - j - 1) < min_lcs)
			return 0;
	}
	return popcount64(~S & mask);
}

static size_t lcsn(const pmn_t *pm, size_t m, const uint32_t *s, size_t n, size_t min_lcs)
{
	size_t words = pm->words;
	uint64_t small[16];
	uint64_t *S = words <= 16 ? small : xmalloc(words * sizeof(uint64_t));
	uint64_t last = m % 64 ? (1ull << (m % 64)) - 1 : ~0ull;
	size_t lcs = 0;
	for (size_t w = 0; w < words; w++)
		S[w] = ~0ull;
	for (size_t j = 0; j < n; j++) {
		const uint64_t *row = pmn_row(pm, s[j]);
		uint64_t carry = 0;
		for (size_t w = 0; w < words; w++) {
			uint64_t sw = S[w], u = sw & row[w];
			uint64_t x = sw + carry;
			uint64_t c1 = x < carry;
			uint64_t sum = x + u;
			carry = c1 | (sum < u);
			S[w] = sum | (sw - u);
		}
		/* Counting costs as much as a step: check now and then. */
		if (min_lcs && (j % 16 == 15)) {
			size_t cur = 0;
			for (size_t w = 0; w + 1 < words; w++)
				cur += popcount64(~S[w]);
			cur += popcount64(~S[words - 1] & last);
			if (cur + (n - j - 1) < min_lcs)
				goto out;
		}
	}
	for (size_t w = 0; w + 1 < words; w++)
		lcs += popcount64(~S[w]);
	lcs += popcount64(~S[words - 1] & last);
out:
	if (S != small)
		free(S);
	return lcs;
}

static size_t lcs_pm(const pm_t *pm, const uint32_t *s, size_t n, size_t min_lcs)
{
	if (pm->words == 0 || n == 0)
		return 0;
	if (pm->words == 1)
		return lcs1(&pm->one, pm->len, s, n, min_lcs);
	return lcsn(&pm->many, pm->len, s, n, min_lcs);
}

/* ---- Levenshtein ---------------------------------------------------------- */

/* Distance of the pattern (m >= 1 code points) and s, or max + 1 once it is
 * certain to exceed max (each remaining character lowers it by at most 1). */
static size_t lev1(const pm1_t *pm, size_t m, const uint32_t *s, size_t n, size_t max)
{
	uint64_t VP = ~0ull, VN = 0, last = 1ull << (m - 1);
	size_t dist = m;
	for (size_t j = 0; j < n; j++) {
		uint64_t X = pm1_get(pm, s[j]) | VN;
		uint64_t D0 = (((X & VP) + VP) ^ VP) | X;
		uint64_t HP = VN | ~(D0 | VP);
		uint64_t HN = D0 & VP;
		dist += (HP & last) != 0;
		dist -= (HN & last) != 0;
		if (dist > max + (n - j - 1))
			return max + 1;
		HP = (HP << 1) | 1;
		HN <<= 1;
		VP = HN | ~(D0 | HP);
		VN = HP & D0;
	}
	return dist;
}

static size_t levn(const pmn_t *pm, size_t m, const uint32_t *s, size_t n, size_t max)
{
	size_t words = pm->words;
	uint64_t small[32];
	uint64_t *VP = words <= 16 ? small : xmalloc(2 * words * sizeof(uint64_t));
	uint64_t *VN = VP + words;
	uint64_t last = 1ull << ((m - 1) % 64);
	size_t dist = m;
	for (size_t w = 0; w < words; w++) {
		VP[w] = ~0ull;
		VN[w] = 0;
	}
	for (size_t j = 0; j < n; j++) {
		const uint64_t *row = pmn_row(pm, s[j]);
		/* Horizontal deltas entering the block from above: the first
		 * row of the matrix grows by one per column. */
		uint64_t hp_in = 1, hn_in = 0;
		for (size_t w = 0; w < words; w++) {
			uint64_t vp = VP[w], vn = VN[w];
			/* A negative delta entering the block acts as a match in
			 * its first row (Myers 1999, block-based variant). */
			uint64_t X = row[w] | hn_in;
			uint64_t D0 = (((X & vp) + vp) ^ vp) | X | vn;
			uint64_t HP = vn | ~(D0 | vp);
			uint64_t HN = D0 & vp;
			uint64_t hp_out, hn_out;
			if (w + 1 < words) {
				hp_out = HP >> 63;
				hn_out = HN >> 63;
			} else {
				hp_out = (HP & last) != 0;
				hn_out = (HN & last) != 0;
			}
			HP = (HP << 1) | hp_in;
			HN = (HN << 1) | hn_in;
			hp_in = hp_out;
			hn_in = hn_out;
			VP[w] = HN | ~(D0 | HP);
			VN[w] = HP & D0;
		}
		dist += hp_in;
		dist -= hn_in;
		if (dist > max + (n - j - 1)) {
			dist = max + 1;
			break;
		}
	}
	if (VP != small)
		free(VP);
	return dist;
}

/* Common prefixes and suffixes change neither distance: drop them. */
static void strip_affix(const uint32_t **a, size_t *m, const uint32_t **b, size_t *n)
{
	size_t p = 0;
	while (p < *m && p < *n && (*a)[p] == (*b)[p])
		p++;
	*a += p, *b += p, *m -= p, *n -= p;
	while (*m && *n && (*a)[*m - 1] == (*b)[*n - 1])
		(*m)--, (*n)--;
}

/* Distance if at most max, else max + 1. */
static size_t lev_cp(const uint32_t *a, size_t m, const uint32_t *b, size_t n, size_t max)
{
	strip_affix(&a, &m, &b, &n);
	if (m > n) {
		const uint32_t *t = a;
		size_t tl = m;
		a = b, m = n, b = t, n = tl;
	}
	if (n - m > max)
		return max + 1;
	if (m == 0)
		return n;
	if (max == 0)
		return 1; /* after stripping, a[0] != b[0] */
	pm_t pm;
	pm_build(&pm, a, m);
	size_t d = m <= 64 ? lev1(&pm.one, m, b, n, max) : levn(&pm.many, m, b, n, max);
	pm_free(&pm);
	return d <= max ? d : max + 1;
}

/* ---- Indel and the ratios ------------------------------------------------- */

/* Smallest LCS that keeps m + n - 2 * LCS within max. */
static size_t min_lcs_for(size_t lensum, size_t max)
{
	return lensum > max ? (lensum - max + 1) / 2 : 0;
}

static size_t indel_cp(const uint32_t *a, size_t m, const uint32_t *b, size_t n, size_t max)
{
	strip_affix(&a, &m, &b, &n);
	if (m > n) {
		const uint32_t *t = a;
		size_t tl = m;
		a = b, m = n, b = t, n = tl;
	}
	if (n - m > max)
		return max + 1;
	if (m == 0)
		return n;
	size_t lensum = m + n;
	pm_t pm;
	pm_build(&pm, a, m);
	size_t lcs = lcs_pm(&pm, b, n, min_lcs_for(lensum, max));
	pm_free(&pm);
	size_t d = lensum - 2 * lcs;
	return d <= max ? d : max + 1;
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
	size_t d = indel_cp(a, m, b, n, max);
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
	size_t lcs = lcs_pm(pm, s, n, min_lcs_for(lensum, max));
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
	pm_build(&pm, s1, m);
	for (size_t i = 1; i < m; i++) {
		if (!pm_has(&pm, s2[i - 1]))
			continue;
		double r = pm_ratio(&pm, s2, i, cutoff);
		if (r > best) {
			best = cutoff = r;
			if (best == 100)
				goto out;
		}
	}
	for (size_t i = 0; i < n - m; i++) {
		if (!pm_has(&pm, s2[i + m - 1]))
			continue;
		double r = pm_ratio(&pm, s2 + i, m, cutoff);
		if (r > best) {
			best = cutoff = r;
			if (best == 100)
				goto out;
		}
	}
	for (size_t i = n - m; i < n; i++) {
		if (!pm_has(&pm, s2[i]))
			continue;
		double r = pm_ratio(&pm, s2 + i, n - i, cutoff);
		if (r > best) {
			best = cutoff = r;
			if (best == 100)
				goto out;
		}
	}
out:
	pm_free(&pm);
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
