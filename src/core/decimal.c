#include "core/decimal.h"

static bool pow10_128(int k, __int128 *out)
{
	__int128 v = 1;
	for (int i = 0; i < k; i++)
		if (__builtin_mul_overflow(v, 10, &v))
			return false;
	*out = v;
	return true;
}

bool decimal_parse(const char *s, size_t len, const money_opts *mo, decimal_t *out)
{
	money_opts o;
	if (mo) {
		o = *mo;
		o.round = false; /* more decimals: try a finer scale, never round */
	}
	for (int d = 2; d <= 9; d++) {
		int64_t x;
		money_status st = money_parse_units(s, len, mo ? &o : NULL, d, &x);
		if (st == MONEY_OK) {
			out->num = x;
			out->scale = d;
			return true;
		}
		if (st != MONEY_PRECISION)
			return false;
	}
	return false;
}

/* Brings a and b to the larger scale; false if that overflows. */
static bool align(decimal_t *a, decimal_t *b)
{
	decimal_t *lo = a->scale < b->scale ? a : b;
	int hi = a->scale < b->scale ? b->scale : a->scale;
	__int128 f;
	if (!pow10_128(hi - lo->scale, &f) || __builtin_mul_overflow(lo->num, f, &lo->num))
		return false;
	lo->scale = hi;
	return true;
}

bool decimal_add(decimal_t a, decimal_t b, decimal_t *out)
{
	if (!align(&a, &b) || __builtin_add_overflow(a.num, b.num, &out->num))
		return false;
	out->scale = a.scale;
	return true;
}

bool decimal_sub(decimal_t a, decimal_t b, decimal_t *out)
{
	if (!align(&a, &b) || __builtin_sub_overflow(a.num, b.num, &out->num))
		return false;
	out->scale = a.scale;
	return true;
}

bool decimal_mul(decimal_t a, decimal_t b, decimal_t *out)
{
	if (a.scale + b.scale > DECIMAL_MAX_SCALE || __builtin_mul_overflow(a.num, b.num, &out->num))
		return false;
	out->scale = a.scale + b.scale;
	return true;
}

int decimal_cmp(decimal_t a, decimal_t b)
{
	int sa = (a.num > 0) - (a.num < 0), sb = (b.num > 0) - (b.num < 0);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	decimal_t x = a, y = b;
	if (!align(&x, &y)) {
		/* The side scaled up is the larger in magnitude; same signs. */
		bool a_bigger = a.scale < b.scale;
		return (a_bigger ? 1 : -1) * sa;
	}
	return (x.num > y.num) - (x.num < y.num);
}

size_t decimal_format(decimal_t v, char *buf, size_t n)
{
	char tmp[DECIMAL_BUFSZ + 8];
	int k = 0;
	unsigned __int128 m = v.num < 0 ? -(unsigned __int128)v.num : (unsigned __int128)v.num;
	do {
		tmp[k++] = (char)('0' + (int)(m % 10));
		m /= 10;
		if (k == v.scale)
			tmp[k++] = '.';
	} while (m || k <= v.scale);
	if (tmp[k - 1] == '.')
		tmp[k++] = '0';
	if (v.num < 0)
		tmp[k++] = '-';
	size_t w = 0;
	while (k > 0 && w + 1 < n)
		buf[w++] = tmp[--k];
	if (n)
		buf[w] = '\0';
	return w;
}

decimal_status decimal_to_minor(decimal_t v, int minor, bool round, int64_t *out)
{
	__int128 x = v.num, f;
	if (v.scale > minor) {
		pow10_128(v.scale - minor, &f);
		__int128 q = x / f, r = x % f;
		if (r) {
			if (!round)
				return DECIMAL_INEXACT;
			__int128 ar = r < 0 ? -r : r;
			/* half to even, on the magnitude (f / 2 exactly: f is a power of ten) */
			if (ar > f / 2 || (ar == f / 2 && (q & 1)))
				q += x < 0 ? -1 : 1;
		}
		x = q;
	} else if (v.scale < minor) {
		if (!pow10_128(minor - v.scale, &f) || __builtin_mul_overflow(x, f, &x))
			return DECIMAL_BOUND;
	}
	if (x <= -(__int128)MONEY_MAX_ABS || x >= (__int128)MONEY_MAX_ABS)
		return DECIMAL_BOUND;
	*out = (int64_t)x;
	return DECIMAL_OK;
}
