#include "match/fuzzy_bits.h"

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

void fz_cp_decode(cpstr_t *c, const char *str, size_t n)
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

void fz_cp_free(cpstr_t *c)
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

void fz_pm_build(pm_t *pm, const uint32_t *s, size_t n)
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

void fz_pm_free(pm_t *pm)
{
	if (pm->words > 1) {
		free(pm->many.zero);
		free(pm->many.vals);
		free(pm->many.keys);
		free(pm->many.tab);
	}
	pm->words = 0;
}

int fz_pm_has(const pm_t *pm, uint32_t c)
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

size_t fz_lcs_pm(const pm_t *pm, const uint32_t *s, size_t n, size_t min_lcs)
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
size_t fz_lev_cp(const uint32_t *a, size_t m, const uint32_t *b, size_t n, size_t max)
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
	fz_pm_build(&pm, a, m);
	size_t d = m <= 64 ? lev1(&pm.one, m, b, n, max) : levn(&pm.many, m, b, n, max);
	fz_pm_free(&pm);
	return d <= max ? d : max + 1;
}

/* ---- Indel and the ratios ------------------------------------------------- */

/* Smallest LCS that keeps m + n - 2 * LCS within max. */
size_t fz_min_lcs_for(size_t lensum, size_t max)
{
	return lensum > max ? (lensum - max + 1) / 2 : 0;
}

size_t fz_indel_cp(const uint32_t *a, size_t m, const uint32_t *b, size_t n, size_t max)
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
	fz_pm_build(&pm, a, m);
	size_t lcs = fz_lcs_pm(&pm, b, n, fz_min_lcs_for(lensum, max));
	fz_pm_free(&pm);
	size_t d = lensum - 2 * lcs;
	return d <= max ? d : max + 1;
}
