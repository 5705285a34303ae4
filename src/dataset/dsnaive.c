/* The reference mode of the data set views: every figure from ds_rows
 * with plain SQL aggregates, independent of the rollups (dsrollup.c) the
 * normal mode reads. Also the path for filter combinations the rollups do
 * not hold (two filters or more; a breakdown filtered on another
 * dimension) and for pivots. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/dsagg.h"

#define EACH(f) f(0) "," f(1) "," f(2) "," f(3) "," f(4) "," f(5) "," f(6) "," f(7)
#define CNT(i) "count(m" #i ")"
#define SUM(i) "sum(m" #i ")"
#define MIN(i) "min(m" #i ")"
#define MAX(i) "max(m" #i ")"
#define AGGS "count(*), " EACH(CNT) ", " EACH(SUM) ", " EACH(MIN) ", " EACH(MAX)
#define WHERE                                                                                                      \
	" FROM ds_rows WHERE ds = ?1 AND day >= ?2 AND day <= ?3 AND (?4 IS NULL OR d0 = ?4) AND (?5 IS NULL OR d1 = " \
	"?5) AND (?6 IS NULL OR d2 = ?6) AND (?7 IS NULL OR d3 = ?7) AND (?8 IS NULL OR d4 = ?8) AND (?9 IS NULL OR "  \
	"d5 = ?9) AND (?10 IS NULL OR d6 = ?10) AND (?11 IS NULL OR d7 = ?11)"
#define DIM(n) "CASE CAST(?" #n " AS BIGINT) WHEN 0 THEN d0 WHEN 1 THEN d1 WHEN 2 THEN d2 WHEN 3 THEN d3 WHEN 4 THEN d4 " \
	"WHEN 5 THEN d5 WHEN 6 THEN d6 ELSE d7 END"

void dsagg_merge(dsagg *dst, const dsagg *src)
{
	dst->rows += src->rows;
	for (int i = 0; i < DSDEF_MAX_MEASURES; i++) {
		dst->n[i] += src->n[i];
		dst->s[i] += src->s[i];
		if (!(src->has & (1u << i)))
			continue;
		if (!(dst->has & (1u << i))) {
			dst->lo[i] = src->lo[i];
			dst->hi[i] = src->hi[i];
			dst->has |= (uint8_t)(1u << i);
		} else {
			dst->lo[i] = src->lo[i] < dst->lo[i] ? src->lo[i] : dst->lo[i];
			dst->hi[i] = src->hi[i] > dst->hi[i] ? src->hi[i] : dst->hi[i];
		}
	}
}

void dsagg_read(store_stmt_t *st, int first, dsagg *a)
{
	memset(a, 0, sizeof *a);
	a->rows = store_col_i64(st, first);
	for (int i = 0; i < DSDEF_MAX_MEASURES; i++) {
		a->n[i] = store_col_i64(st, first + 1 + i);
		a->s[i] = store_col_i64(st, first + 9 + i);
		if (!store_col_is_null(st, first + 17 + i)) {
			a->lo[i] = store_col_i64(st, first + 17 + i);
			a->hi[i] = store_col_i64(st, first + 25 + i);
			a->has |= (uint8_t)(1u << i);
		}
	}
}

/* ---- base-row queries ---- */

static void bind_range(store_stmt_t *st, int64_t ds, const dsview_params *p)
{
	store_bind_i64(st, 1, ds);
	store_bind_i64(st, 2, p->from);
	store_bind_i64(st, 3, p->to);
	for (int i = 0; i < DSDEF_MAX_DIMS; i++)
		if (p->filter[i])
			store_bind_text(st, 4 + i, p->filter[i], strlen(p->filter[i]));
		else
			store_bind_null(st, 4 + i);
}

static int fail(store_conn_t *c, char *err, size_t errlen)
{
	snprintf(err, errlen, "store error: %s", store_errmsg(c));
	return -1;
}

int dsnaive_totals(store_conn_t *c, int64_t ds, const dsview_params *p, dsagg *a, char *err, size_t errlen)
{
	static const char *q = "SELECT " AGGS WHERE;
	store_stmt_t *st = store_prepare(c, q);
	if (!st)
		return fail(c, err, errlen);
	bind_range(st, ds, p);
	store_status rc = store_step(st);
	if (rc == STORE_ROW)
		dsagg_read(st, 0, a);
	store_reset(st);
	return rc == STORE_ROW ? 0 : fail(c, err, errlen);
}

int dsnaive_days(store_conn_t *c, int64_t ds, const dsview_params *p, void (*fn)(void *ud, date_t day, const dsagg *a),
                 void *ud, char *err, size_t errlen)
{
	static const char *q = "SELECT day, " AGGS WHERE " GROUP BY day";
	store_stmt_t *st = store_prepare(c, q);
	if (!st)
		return fail(c, err, errlen);
	bind_range(st, ds, p);
	store_status rc;
	dsagg a;
	while ((rc = store_step(st)) == STORE_ROW) {
		dsagg_read(st, 1, &a);
		fn(ud, (date_t)store_col_i64(st, 0), &a);
	}
	store_reset(st);
	return rc == STORE_DONE ? 0 : fail(c, err, errlen);
}

int dsnaive_breakdown(store_conn_t *c, int64_t ds, const dsview_params *p, int by,
                      void (*fn)(void *ud, slice_t v, const dsagg *a), void *ud, char *err, size_t errlen)
{
	static const char *q = "SELECT " DIM(12) ", " AGGS WHERE " GROUP BY 1";
	store_stmt_t *st = store_prepare(c, q);
	if (!st)
		return fail(c, err, errlen);
	bind_range(st, ds, p);
	store_bind_i64(st, 12, by);
	store_status rc;
	dsagg a;
	while ((rc = store_step(st)) == STORE_ROW) {
		size_t len;
		const char *v = store_col_text(st, 0, &len);
		dsagg_read(st, 1, &a);
		fn(ud, (slice_t){v, len}, &a);
	}
	store_reset(st);
	return rc == STORE_DONE ? 0 : fail(c, err, errlen);
}

int dsnaive_pivot(store_conn_t *c, int64_t ds, const dsview_params *p,
                  void (*fn)(void *ud, slice_t a, slice_t b, const dsagg *g), void *ud, char *err, size_t errlen)
{
	static const char *q = "SELECT " DIM(12) ", " DIM(13) ", " AGGS WHERE " GROUP BY 1, 2";
	store_stmt_t *st = store_prepare(c, q);
	if (!st)
		return fail(c, err, errlen);
	bind_range(st, ds, p);
	store_bind_i64(st, 12, p->by);
	store_bind_i64(st, 13, p->cols);
	store_status rc;
	dsagg g;
	while ((rc = store_step(st)) == STORE_ROW) {
		slice_t a, b;
		a.p = store_col_text(st, 0, &a.len);
		b.p = store_col_text(st, 1, &b.len);
		dsagg_read(st, 2, &g);
		fn(ud, a, b, &g);
	}
	store_reset(st);
	return rc == STORE_DONE ? 0 : fail(c, err, errlen);
}
