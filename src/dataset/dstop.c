#include "dataset/dstop.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/buf.h"
#include "core/mem.h"

/* DESIGN
 * Items live in one array, their values' bytes in one arena, and an
 * open-addressed index of item numbers (at most half full) finds a value's
 * item. The top N: a quickselect puts the N largest first in O(count),
 * then only those N are sorted. */

struct dstop {
	dstop_item *it;
	size_t n, cap;
	uint32_t *idx; /* item number + 1; 0 = free */
	size_t icap;
	bool moved;    /* items reordered since the index was built */
	buf_t arena;
};

dstop *dstop_new(void)
{
	dstop *t = xcalloc(1, sizeof *t);
	t->icap = 1024;
	t->idx = xcalloc(t->icap, sizeof *t->idx);
	return t;
}

void dstop_free(dstop *t)
{
	if (!t)
		return;
	free(t->it);
	free(t->idx);
	buf_free(&t->arena);
	free(t);
}

const char *dstop_value(const dstop *t, const dstop_item *it)
{
	return t->arena.p + it->off;
}

static void reindex(dstop *t, size_t ncap)
{
	uint32_t *ni = xcalloc(ncap, sizeof *ni);
	for (size_t i = 0; i < t->n; i++) {
		size_t j = t->it[i].h & (ncap - 1);
		while (ni[j])
			j = (j + 1) & (ncap - 1);
		ni[j] = (uint32_t)i + 1;
	}
	free(t->idx);
	t->idx = ni;
	t->icap = ncap;
	t->moved = false;
}

static dstop_item *find(dstop *t, const char *v, size_t len)
{
	if (t->moved)
		reindex(t, t->icap);
	uint64_t h = XXH3_64bits(v, len);
	size_t j = h & (t->icap - 1);
	for (uint32_t k; (k = t->idx[j]); j = (j + 1) & (t->icap - 1)) {
		dstop_item *it = &t->it[k - 1];
		if (it->h == h && it->len == len && !memcmp(t->arena.p + it->off, v, len))
			return it;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->it = xrealloc(t->it, t->cap * sizeof *t->it);
	}
	dstop_item *it = &t->it[t->n];
	*it = (dstop_item){.off = (uint32_t)t->arena.len, .len = (uint32_t)len, .h = h};
	buf_put(&t->arena, v, len);
	buf_putc(&t->arena, '\0');
	t->idx[j] = (uint32_t)++t->n;
	if (t->n * 2 > t->icap)
		reindex(t, t->icap * 2);
	return it;
}

void dstop_add(dstop *t, const char *v, size_t len, int64_t rows, int64_t n, int64_t s, bool has, int64_t lo,
               int64_t hi)
{
	dstop_item *it = find(t, v, len);
	it->rows += rows;
	it->n += n;
	it->s += s;
	if (!has)
		return;
	if (!it->has) {
		it->lo = lo;
		it->hi = hi;
		it->has = true;
	} else {
		it->lo = lo < it->lo ? lo : it->lo;
		it->hi = hi > it->hi ? hi : it->hi;
	}
}

const dstop_item *dstop_get(dstop *t, const char *v, size_t len)
{
	return find(t, v, len);
}

/* Sum descending, then the value's bytes (a prefix first). */
static int before(const dstop *t, const dstop_item *a, const dstop_item *b)
{
	if (a->s != b->s)
		return a->s > b->s ? -1 : 1;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(t->arena.p + a->off, t->arena.p + b->off, n);
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static __thread const dstop *sort_t; /* qsort has no context argument */

static int cmp(const void *x, const void *y)
{
	return before(sort_t, x, y);
}

static void swap(dstop_item *a, dstop_item *b)
{
	dstop_item x = *a;
	*a = *b;
	*b = x;
}

/* Reorders it[lo, hi) so that the k - lo first in order are it[lo, k). */
static void select_first(const dstop *t, dstop_item *it, size_t lo, size_t hi, size_t k)
{
	while (hi - lo > 1 && k > lo && k < hi) {
		/* median of three as pivot, moved to hi - 1 */
		size_t mid = lo + (hi - lo) / 2;
		if (before(t, &it[mid], &it[lo]) < 0)
			swap(&it[mid], &it[lo]);
		if (before(t, &it[hi - 1], &it[lo]) < 0)
			swap(&it[hi - 1], &it[lo]);
		if (before(t, &it[mid], &it[hi - 1]) < 0)
			swap(&it[mid], &it[hi - 1]);
		size_t store = lo;
		for (size_t i = lo; i < hi - 1; i++)
			if (before(t, &it[i], &it[hi - 1]) < 0)
				swap(&it[i], &it[store++]);
		swap(&it[store], &it[hi - 1]);
		/* it[lo, store) before the pivot at store, the rest after it */
		if (k <= store)
			hi = store;
		else
			lo = store + 1;
	}
}

size_t dstop_top(dstop *t, size_t top, const dstop_item **items)
{
	size_t k = top < t->n ? top : t->n;
	if (k < t->n)
		select_first(t, t->it, 0, t->n, k);
	sort_t = t;
	qsort(t->it, k, sizeof *t->it, cmp);
	t->moved = true; /* the index names items by number: rebuilt at the next lookup */
	*items = t->it;
	return t->n;
}
