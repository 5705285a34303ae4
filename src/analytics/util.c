#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "analytics/internal.h"
#include "core/mem.h"

static uint64_t key_hash(const char *key, size_t klen)
{
	return XXH3_64bits(key, klen);
}

static void rehash(an_items *l)
{
	free(l->slot);
	l->nslot = 64;
	while (l->nslot < l->n * 2 + 2)
		l->nslot *= 2;
	l->slot = xcalloc(l->nslot, sizeof *l->slot);
	for (size_t i = 0; i < l->n; i++) {
		size_t j = key_hash(l->v[i].key, l->v[i].klen) & (l->nslot - 1);
		while (l->slot[j])
			j = (j + 1) & (l->nslot - 1);
		l->slot[j] = (uint32_t)(i + 1);
	}
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t *lookup(an_items *l, const char *key, size_t klen)
{
	if (!l->slot || l->n * 2 + 2 > l->nslot)
		rehash(l);
	size_t j = key_hash(key, klen) & (l->nslot - 1);
	for (;; j = (j + 1) & (l->nslot - 1)) {
		uint32_t s = l->slot[j];
		if (!s || (l->v[s - 1].klen == klen && !memcmp(l->v[s - 1].key, key, klen)))
			return &l->slot[j];
	}
}

void an_items_add(an_items *l, const char *key, size_t klen, int64_t cnt, int64_t total)
{
	uint32_t *s = lookup(l, key, klen);
	if (*s) {
		l->v[*s - 1].cnt += cnt;
		l->v[*s - 1].total += total;
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = (an_item){xstrndup(key, klen), klen, cnt, total};
	*s = (uint32_t)l->n;
}

static int key_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);
	if (r)
		return r;
	return al < bl ? -1 : al > bl;
}

static int by_key(const void *x, const void *y)
{
	const an_item *a = x, *b = y;
	return key_cmp(a->key, a->klen, b->key, b->klen);
}

static int by_amount(const void *x, const void *y)
{
	const an_item *a = x, *b = y;
	if (a->total != b->total)
		return a->total > b->total ? -1 : 1;
	return key_cmp(a->key, a->klen, b->key, b->klen);
}

/* Reordering invalidates the hash index; the next lookup rebuilds it. */
static void drop_index(an_items *l)
{
	free(l->slot);
	l->slot = NULL;
	l->nslot = 0;
}

void an_items_sort_key(an_items *l)
{
	drop_index(l);
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, by_key);
}

void an_items_sort_amount(an_items *l)
{
	drop_index(l);
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, by_amount);
}

an_item *an_items_find(an_items *l, const char *key, size_t klen)
{
	uint32_t *s = lookup(l, key, klen);
	return *s ? &l->v[*s - 1] : NULL;
}

void an_items_free(an_items *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].key);
	free(l->v);
	free(l->slot);
	*l = (an_items){0};
}

void an_put_date(buf_t *b, date_t d)
{
	buf_json_date(b, d);
}

/* num/den with den != 0, in 128 bits so that no figure can overflow. */
static void put_ratio(buf_t *b, __int128 n, __int128 d, int decimals)
{
	/* Exact decimal rounding in integers: a float would make the fast and
	 * naive paths (and other languages' checkers) disagree on halves. */
	if (d < 0) {
		n = -n;
		d = -d;
	}
	__int128 scale = 1;
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	n *= scale;
	bool neg = n < 0;
	if (neg)
		n = -n;
	__int128 q = n / d;
	if ((n % d) * 2 >= d) /* half away from zero */
		q++;
	char digits[48];
	int len = 0;
	for (__int128 x = q; len == 0 || x > 0 || len <= decimals; x /= 10)
		digits[len++] = (char)('0' + (int)(x % 10));
	if (neg && q != 0)
		buf_putc(b, '-');
	while (len > 0) {
		buf_putc(b, digits[--len]);
		if (len == decimals && decimals > 0)
			buf_putc(b, '.');
	}
}

void an_put_ratio_mul(buf_t *b, int64_t num, int64_t mul, int64_t den, int decimals)
{
	put_ratio(b, (__int128)num * mul, den, decimals);
}

void an_put_ratio(buf_t *b, int64_t num, int64_t den, int decimals)
{
	put_ratio(b, num, den, decimals);
}

void an_put_change(buf_t *b, int64_t cur, int64_t prev)
{
	if (prev == 0) {
		buf_puts(b, "null");
		return;
	}
	/* Relative to |prev|, so a smaller loss reads as an improvement. */
	__int128 p = prev;
	put_ratio(b, ((__int128)cur - p) * 100, p < 0 ? -p : p, 1);
}

int an_store_err(store_conn_t *c, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "store error (%s): %s", what, store_errmsg(c));
	return -1;
}

int an_check_params(const analytics_params *p, char *err, size_t errlen)
{
	if (p->from > p->to) {
		snprintf(err, errlen, "from is after to");
		return -1;
	}
	if (p->from < AN_DATE_MIN || p->to > AN_DATE_MAX || p->as_of < AN_DATE_MIN || p->as_of > AN_DATE_MAX ||
	    p->day < AN_DATE_MIN || p->day > AN_DATE_MAX) {
		snprintf(err, errlen, "date outside years 1..9999");
		return -1;
	}
	if (p->interval < INTERVAL_DAY || p->interval > INTERVAL_YEAR) {
		snprintf(err, errlen, "unknown interval");
		return -1;
	}
	if (p->top < 1 || p->top > 1000) {
		snprintf(err, errlen, "top must be 1..1000");
		return -1;
	}
	return 0;
}
