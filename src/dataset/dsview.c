#include "dataset/dsview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "dataset/dsagg.h"
#include "dataset/dsrollup.h"
#include "dataset/dstop.h"

/* DESIGN
 * A range [from, to] is cut into segments of the coarsest rollup level
 * that fits: whole years from the year cells, whole months of the edges
 * from the month cells, the remaining days from the grain's cells, so a
 * two-year range reads a few dozen cells whatever the rows. A series may
 * use a level only if its buckets nest in the interval's (months in
 * quarters, never in weeks). Cells are read whole and added up in C
 * (dsagg_merge), the same arithmetic the reference mode's SQL does. */

#define EACH(f) f(0) "," f(1) "," f(2) "," f(3) "," f(4) "," f(5) "," f(6) "," f(7)
#define N(i) "n" #i
#define S(i) "s" #i
#define LO(i) "lo" #i
#define HI(i) "hi" #i
#define CELL "cnt, " EACH(N) ", " EACH(S) ", " EACH(LO) ", " EACH(HI)

typedef struct {
	interval_t lvl;
	date_t lo, hi; /* bucket starts */
} seg;

#define MAX_SEGS 16

static bool nests(interval_t lvl, interval_t iv)
{
	if (lvl == INTERVAL_DAY)
		return true;
	if (iv == INTERVAL_WEEK || iv == INTERVAL_DAY)
		return false;
	return lvl <= iv; /* MONTH < QUARTER < YEAR */
}

/* Levels usable for interval iv (or any, when iv < 0), finest first. */
static int usable_levels(const dsdef_t *d, int iv, interval_t out[3])
{
	interval_t all[3];
	int n = dsrollup_levels(d->grain, all), k = 0;
	for (int i = 0; i < n; i++)
		if (i == 0 || iv < 0 || nests(all[i], (interval_t)iv))
			out[k++] = all[i];
	return k;
}

static void decompose(const interval_t *lv, int k, date_t from, date_t to, seg *out, int *n)
{
	if (from > to || *n >= MAX_SEGS)
		return;
	if (k == 0) {
		out[(*n)++] = (seg){lv[0], from, to};
		return;
	}
	interval_t L = lv[k];
	date_t first = date_bucket_start(from, L);
	if (first < from)
		first = date_bucket_next(from, L);
	date_t end = date_bucket_start(to + 1, L); /* buckets starting before end lie inside */
	if (first >= end) {
		decompose(lv, k - 1, from, to, out, n);
		return;
	}
	out[(*n)++] = (seg){L, first, end - 1};
	decompose(lv, k - 1, from, first - 1, out, n);
	decompose(lv, k - 1, end, to, out, n);
}

/* Reads the cells of one dimension value (dim 0: the whole data set) in
 * the segments; fn gets each cell's bucket and figures. */
static int read_cells(store_conn_t *c, int64_t ds, int dim, const char *val, const seg *sg, int nseg,
                      void (*fn)(void *ud, date_t bucket, const dsagg *a), void *ud, char *err, size_t errlen)
{
	static const char *q = "SELECT bucket, " CELL " FROM ds_rollup WHERE ds = ? AND dim = ? AND val = ? AND lvl = ? "
	                       "AND bucket >= ? AND bucket <= ?";
	dsagg a;
	for (int i = 0; i < nseg; i++) {
		store_stmt_t *st = store_prepare(c, q);
		if (!st)
			goto fail;
		store_bind_i64(st, 1, ds);
		store_bind_i64(st, 2, dim);
		store_bind_text(st, 3, val, strlen(val));
		store_bind_i64(st, 4, sg[i].lvl);
		store_bind_i64(st, 5, sg[i].lo);
		store_bind_i64(st, 6, sg[i].hi);
		store_status rc;
		while ((rc = store_step(st)) == STORE_ROW) {
			dsagg_read(st, 1, &a);
			fn(ud, (date_t)store_col_i64(st, 0), &a);
		}
		store_reset(st);
		if (rc != STORE_DONE)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "store error: %s", store_errmsg(c));
	return -1;
}

/* The one filter the rollups can answer: its dimension (1-based) and
 * value, or dim 0 and "" without filters. False when there are more. */
static bool one_filter(const dsview_params *p, int *dim, const char **val)
{
	*dim = 0;
	*val = "";
	if (p->nfilters > 1)
		return false;
	for (int i = 0; i < DSDEF_MAX_DIMS; i++)
		if (p->filter[i]) {
			*dim = i + 1;
			*val = p->filter[i];
		}
	return true;
}

/* ---- JSON ---- */

static int scale_of(const dsstore_info *ds, const dsview_params *p, int m)
{
	const dsdef_measure *x = &ds->def.measures[m];
	return x->type == DSM_MONEY ? p->minor : x->scale;
}

/* sum / count to scale + 2 decimals, halves away from zero, as text. */
static void put_avg(buf_t *out, int64_t sum, int64_t count, int scale)
{
	if (!count) {
		buf_puts(out, "null");
		return;
	}
	__int128 num = (__int128)sum * 100, mag = num < 0 ? -num : num;
	__int128 q = (2 * mag + count) / (2 * (__int128)count);
	int digits = scale + 2;
	__int128 p10 = 1;
	for (int i = 0; i < digits; i++)
		p10 *= 10;
	unsigned long long ip = (unsigned long long)(q / p10), fp = (unsigned long long)(q % p10);
	buf_printf(out, "\"%s%llu.%0*llu\"", num < 0 && q ? "-" : "", ip, digits, fp);
}

static void put_nullable(buf_t *out, bool has, int64_t v)
{
	if (has)
		buf_put_i64(out, v);
	else
		buf_puts(out, "null");
}

/* {"sum","count","min","max"[,"avg"]} of measure i of a. */
static void put_measure(buf_t *out, const dsagg *a, int i, int scale, bool avg)
{
	bool has = a->has & (1u << i);
	buf_printf(out, "{\"sum\":%lld,\"count\":%lld,\"min\":", (long long)a->s[i], (long long)a->n[i]);
	put_nullable(out, has, a->lo[i]);
	buf_puts(out, ",\"max\":");
	put_nullable(out, has, a->hi[i]);
	if (avg) {
		buf_puts(out, ",\"avg\":");
		put_avg(out, a->s[i], a->n[i], scale);
	}
	buf_putc(out, '}');
}

static void put_measures(buf_t *out, const dsstore_info *ds, const dsview_params *p, const dsagg *a, bool avg)
{
	buf_puts(out, "\"measures\":{");
	bool first = true;
	for (int i = 0; i < ds->def.nmeasures; i++) {
		if (p->measure >= 0 && i != p->measure)
			continue;
		buf_printf(out, "%s\"%s\":", first ? "" : ",", ds->def.measures[i].name);
		put_measure(out, a, i, scale_of(ds, p, i), avg);
		first = false;
	}
	buf_putc(out, '}');
}

static void put_range(buf_t *out, const dsview_params *p)
{
	char a[DATE_BUFSZ], b[DATE_BUFSZ];
	date_format(p->from, a);
	date_format(p->to, b);
	buf_printf(out, "\"from\":\"%s\",\"to\":\"%s\"", a, b);
}

/* ---- totals ---- */

static void add_all(void *ud, date_t bucket, const dsagg *a)
{
	dsagg_merge(ud, a);
}

int dsview_totals(store_conn_t *c, const dsstore_info *ds, const dsview_params *p, buf_t *out, char *err,
                  size_t errlen)
{
	dsagg t = {0};
	int dim;
	const char *val;
	if (p->naive || !one_filter(p, &dim, &val)) {
		if (dsnaive_totals(c, ds->id, p, &t, err, errlen) != 0)
			return -1;
	} else {
		interval_t lv[3];
		seg sg[MAX_SEGS];
		int nseg = 0;
		decompose(lv, usable_levels(&ds->def, -1, lv) - 1, p->from, p->to, sg, &nseg);
		if (read_cells(c, ds->id, dim, val, sg, nseg, add_all, &t, err, errlen) != 0)
			return -1;
	}
	buf_putc(out, '{');
	put_range(out, p);
	buf_printf(out, ",\"rows\":%lld,", (long long)t.rows);
	dsview_params all = *p;
	all.measure = -1;
	put_measures(out, ds, &all, &t, true);
	buf_putc(out, '}');
	return 0;
}

/* ---- series ---- */

int64_t dsview_points(date_t from, date_t to, interval_t iv)
{
	int64_t n = 0;
	for (date_t b = date_bucket_start(from, iv); b <= to && n <= 100000; b = date_bucket_next(b, iv))
		n++;
	return n;
}

typedef struct {
	date_t *starts;
	dsagg *pts;
	int64_t n;
	interval_t iv;
} series_acc;

static void add_point(void *ud, date_t bucket, const dsagg *a)
{
	series_acc *s = ud;
	date_t b = date_bucket_start(bucket, s->iv);
	int64_t lo = 0, hi = s->n - 1;
	while (lo < hi) { /* the point whose start is b */
		int64_t mid = (lo + hi + 1) / 2;
		if (s->starts[mid] <= b)
			lo = mid;
		else
			hi = mid - 1;
	}
	dsagg_merge(&s->pts[lo], a);
}

int dsview_series(store_conn_t *c, const dsstore_info *ds, const dsview_params *p, buf_t *out, char *err,
                  size_t errlen)
{
	series_acc s = {.iv = p->interval, .n = dsview_points(p->from, p->to, p->interval)};
	s.starts = xmalloc((size_t)s.n * sizeof *s.starts);
	s.pts = xcalloc((size_t)s.n, sizeof *s.pts);
	date_t b = date_bucket_start(p->from, p->interval);
	for (int64_t i = 0; i < s.n; i++, b = date_bucket_next(b, p->interval))
		s.starts[i] = b;
	int dim, rc;
	const char *val;
	if (p->naive || !one_filter(p, &dim, &val)) {
		rc = dsnaive_days(c, ds->id, p, add_point, &s, err, errlen);
	} else {
		interval_t lv[3];
		seg sg[MAX_SEGS];
		int nseg = 0;
		decompose(lv, usable_levels(&ds->def, (int)p->interval, lv) - 1, p->from, p->to, sg, &nseg);
		rc = read_cells(c, ds->id, dim, val, sg, nseg, add_point, &s, err, errlen);
	}
	if (rc == 0) {
		buf_printf(out, "{\"interval\":\"%s\",", interval_name(p->interval));
		put_range(out, p);
		buf_puts(out, ",\"points\":[");
		for (int64_t i = 0; i < s.n; i++) {
			char d[DATE_BUFSZ];
			date_format(s.starts[i], d);
			buf_printf(out, "%s{\"start\":\"%s\",\"rows\":%lld,", i ? "," : "", d, (long long)s.pts[i].rows);
			put_measures(out, ds, p, &s.pts[i], false);
			buf_putc(out, '}');
		}
		buf_puts(out, "]}");
	}
	free(s.starts);
	free(s.pts);
	return rc;
}

/* ---- breakdown ---- */

/* One measure's columns only: a breakdown reads every value's cell, and
 * decoding 33 columns of each costs more than the rest of the view. */
#define ONE(i) "SELECT val, cnt, n" #i ", s" #i ", lo" #i ", hi" #i " FROM ds_rollup WHERE ds = ? AND dim = ? AND lvl = ? " \
	"AND bucket >= ? AND bucket <= ?"
static const char *const values_sql[DSDEF_MAX_MEASURES] = {ONE(0), ONE(1), ONE(2), ONE(3), ONE(4), ONE(5), ONE(6), ONE(7)};

static int read_values(store_conn_t *c, int64_t ds, int dim, int m, const seg *sg, int nseg, const char *only,
                       dstop *t, char *err, size_t errlen)
{
	for (int i = 0; i < nseg; i++) {
		store_stmt_t *st = store_prepare(c, values_sql[m]);
		if (!st)
			goto fail;
		store_bind_i64(st, 1, ds);
		store_bind_i64(st, 2, dim);
		store_bind_i64(st, 3, sg[i].lvl);
		store_bind_i64(st, 4, sg[i].lo);
		store_bind_i64(st, 5, sg[i].hi);
		store_status rc;
		while ((rc = store_step(st)) == STORE_ROW) {
			size_t len;
			const char *v = store_col_text(st, 0, &len);
			if (only && (len != strlen(only) || memcmp(v, only, len)))
				continue; /* filtered on the dimension broken down: that value alone */
			bool has = !store_col_is_null(st, 4);
			dstop_add(t, v, len, store_col_i64(st, 1), store_col_i64(st, 2), store_col_i64(st, 3), has,
			          has ? store_col_i64(st, 4) : 0, has ? store_col_i64(st, 5) : 0);
		}
		store_reset(st);
		if (rc != STORE_DONE)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "store error: %s", store_errmsg(c));
	return -1;
}

typedef struct {
	dstop *t;
	int m;
} by_value;

static void add_value(void *ud, slice_t v, const dsagg *a)
{
	by_value *x = ud;
	int m = x->m;
	bool has = a->has & (1u << m);
	dstop_add(x->t, v.p, v.len, a->rows, a->n[m], a->s[m], has, a->lo[m], a->hi[m]);
}

int dsview_breakdown(store_conn_t *c, const dsstore_info *ds, const dsview_params *p, buf_t *out, char *err,
                     size_t errlen)
{
	dstop *t = dstop_new();
	int dim, rc;
	const char *val;
	/* the rollups hold one dimension per cell: a filter on another needs the rows */
	if (!p->naive && one_filter(p, &dim, &val) && (dim == 0 || dim == p->by + 1)) {
		interval_t lv[3];
		seg sg[MAX_SEGS];
		int nseg = 0;
		decompose(lv, usable_levels(&ds->def, -1, lv) - 1, p->from, p->to, sg, &nseg);
		rc = read_values(c, ds->id, p->by + 1, p->measure, sg, nseg, dim ? val : NULL, t, err, errlen);
	} else {
		by_value x = {t, p->measure};
		rc = dsnaive_breakdown(c, ds->id, p, p->by, add_value, &x, err, errlen);
	}
	if (rc == 0) {
		const dstop_item *it;
		size_t n = dstop_top(t, (size_t)p->top, &it), k = n < (size_t)p->top ? n : (size_t)p->top;
		buf_printf(out, "{\"by\":\"%s\",\"measure\":\"%s\",", ds->def.dims[p->by].name, ds->def.measures[p->measure].name);
		put_range(out, p);
		buf_puts(out, ",\"items\":[");
		for (size_t i = 0; i < k; i++) {
			buf_puts(out, i ? ",{\"value\":" : "{\"value\":");
			buf_json_str(out, dstop_value(t, &it[i]), it[i].len);
			buf_printf(out, ",\"rows\":%lld,\"sum\":%lld,\"count\":%lld,\"min\":", (long long)it[i].rows,
			           (long long)it[i].s, (long long)it[i].n);
			put_nullable(out, it[i].has, it[i].lo);
			buf_puts(out, ",\"max\":");
			put_nullable(out, it[i].has, it[i].hi);
			buf_putc(out, '}');
		}
		int64_t orows = 0, osum = 0, ocount = 0;
		for (size_t i = k; i < n; i++) {
			orows += it[i].rows;
			osum += it[i].s;
			ocount += it[i].n;
		}
		buf_printf(out, "],\"other\":{\"values\":%lld,\"rows\":%lld,\"sum\":%lld,\"count\":%lld}}",
		           (long long)(n - k), (long long)orows, (long long)osum, (long long)ocount);
	}
	dstop_free(t);
	return rc;
}

/* ---- pivot ---- */

typedef struct {
	dstop *rows, *cols, *cells;
	int m;
	buf_t key;
} pivot_acc;

static void pair_key(buf_t *k, slice_t a, slice_t b)
{
	buf_reset(k);
	buf_printf(k, "%zu:", a.len);
	buf_put(k, a.p, a.len);
	buf_put(k, b.p, b.len);
}

static void add_pair(void *ud, slice_t a, slice_t b, const dsagg *g)
{
	pivot_acc *x = ud;
	by_value r = {x->rows, x->m}, c = {x->cols, x->m}, cell = {x->cells, x->m};
	add_value(&r, a, g);
	add_value(&c, b, g);
	pair_key(&x->key, a, b);
	add_value(&cell, (slice_t){x->key.p, x->key.len}, g);
}

static void put_values(buf_t *out, const dstop *t, const dstop_item *it, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(out, ',');
		buf_json_str(out, dstop_value(t, &it[i]), it[i].len);
	}
}

int dsview_pivot(store_conn_t *c, const dsstore_info *ds, const dsview_params *p, buf_t *out, char *err,
                 size_t errlen)
{
	pivot_acc x = {dstop_new(), dstop_new(), dstop_new(), p->measure, BUF_INIT};
	int rc = dsnaive_pivot(c, ds->id, p, add_pair, &x, err, errlen);
	if (rc == 0) {
		const dstop_item *ri, *ci;
		size_t nr = dstop_top(x.rows, (size_t)p->top, &ri), nc = dstop_top(x.cols, (size_t)p->top, &ci);
		nr = nr < (size_t)p->top ? nr : (size_t)p->top;
		nc = nc < (size_t)p->top ? nc : (size_t)p->top;
		buf_printf(out, "{\"measure\":\"%s\",\"by\":\"%s\",\"cols_by\":\"%s\",", ds->def.measures[p->measure].name,
		           ds->def.dims[p->by].name, ds->def.dims[p->cols].name);
		put_range(out, p);
		buf_puts(out, ",\"rows\":[");
		put_values(out, x.rows, ri, nr);
		buf_puts(out, "],\"cols\":[");
		put_values(out, x.cols, ci, nc);
		buf_puts(out, "],\"cells\":[");
		/* a pair without rows is added empty here (rows 0): null */
		for (size_t i = 0; i < nr; i++) {
			buf_puts(out, i ? ",[" : "[");
			for (size_t j = 0; j < nc; j++) {
				if (j)
					buf_putc(out, ',');
				pair_key(&x.key, (slice_t){dstop_value(x.rows, &ri[i]), ri[i].len},
				         (slice_t){dstop_value(x.cols, &ci[j]), ci[j].len});
				const dstop_item *g = dstop_get(x.cells, x.key.p, x.key.len);
				put_nullable(out, g->rows > 0, g->s);
			}
			buf_putc(out, ']');
		}
		buf_puts(out, "]}");
	}
	dstop_free(x.rows);
	dstop_free(x.cols);
	dstop_free(x.cells);
	buf_free(&x.key);
	return rc;
}
