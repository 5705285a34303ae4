/* dstop: one measure's figures by dimension value, merged as values come
 * (a breakdown reads a value once per rollup segment), and the top N by
 * sum. Compact on purpose: a breakdown of a 10,000-value dimension spent
 * most of its time allocating and probing full 8-measure aggregates.
 * Internal to src/dataset. */
#ifndef BRISK_DSTOP_H
#define BRISK_DSTOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint32_t off, len; /* the value's bytes in the table's arena (dstop_value) */
	uint64_t h;
	int64_t rows, n, s, lo, hi;
	bool has; /* lo/hi hold a value */
} dstop_item;

typedef struct dstop dstop;

dstop *dstop_new(void);
void dstop_free(dstop *t);
/* Adds the figures of value v (rows, then the measure's count, sum and,
 * when has, min and max) to its item, created at the first sight. */
void dstop_add(dstop *t, const char *v, size_t len, int64_t rows, int64_t n, int64_t s, bool has, int64_t lo,
               int64_t hi);
/* The item of value v (zero figures if none: the table keeps it). */
const dstop_item *dstop_get(dstop *t, const char *v, size_t len);
/* The items, the first min(top, count) of them the largest sums in order
 * (sum descending, ties by the value's bytes), the rest after them in no
 * order. Returns the count; the array stays the table's until the next add. */
size_t dstop_top(dstop *t, size_t top, const dstop_item **items);
/* The bytes of an item's value (NUL-terminated, owned by the table). */
const char *dstop_value(const dstop *t, const dstop_item *it);

#endif
