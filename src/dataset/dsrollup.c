#include "dataset/dsrollup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/mem.h"

/* DESIGN
 * A cell is one allocation: the key (dim, level, bucket, value) and per
 * measure n (values counted), sum, min, max, in an open-addressed table of
 * pointers by a 64-bit hash of the key. A row touches levels x (1 + dims)
 * cells; imports flush every ~100,000 cells, so memory stays bounded.
 * min and max cannot be retracted: a cell that lost a value is marked and
 * its min and max are read again from ds_rows after its upsert (rare:
 * only a replaced row whose values changed). */

typedef struct {
	uint64_t h;
	int32_t bucket;
	int8_t dim, lvl;
	bool dirty;
	uint32_t vlen;
	int64_t cnt;
	uint8_t has_lo; /* bit i: lo/hi of measure i hold a value */
	int64_t v[];    /* n[nm], s[nm], lo[nm], hi[nm], then the value's bytes */
} cell;

struct dsrollup {
	int64_t ds, org;
	const dsdef_t *d;
	int nm, nlv;
	interval_t lv[3];
	cell **slots;
	size_t cap, n, bytes;
	int64_t rows, mag; /* deltas */
	bool mag_bad;
};

int dsrollup_levels(interval_t grain, interval_t out[3])
{
	int n = 0;
	out[n++] = grain;
	if (grain == INTERVAL_DAY)
		out[n++] = INTERVAL_MONTH;
	if (grain != INTERVAL_YEAR)
		out[n++] = INTERVAL_YEAR;
	return n;
}

dsrollup_t *dsrollup_new(int64_t ds, int64_t org, const dsdef_t *d)
{
	dsrollup_t *a = xcalloc(1, sizeof *a);
	a->ds = ds;
	a->org = org;
	a->d = d;
	a->nm = d->nmeasures;
	a->nlv = dsrollup_levels(d->grain, a->lv);
	a->cap = 1024;
	a->slots = xcalloc(a->cap, sizeof *a->slots);
	return a;
}

static void clear(dsrollup_t *a)
{
	for (size_t i = 0; i < a->cap; i++) {
		free(a->slots[i]);
		a->slots[i] = NULL;
	}
	a->n = a->bytes = 0;
	a->rows = a->mag = 0;
	a->mag_bad = false;
}

void dsrollup_free(dsrollup_t *a)
{
	if (!a)
		return;
	clear(a);
	free(a->slots);
	free(a);
}

size_t dsrollup_bytes(const dsrollup_t *a)
{
	return a->bytes;
}

static const char *cell_val(const dsrollup_t *a, const cell *c)
{
	return (const char *)(c->v + 4 * a->nm);
}

static void grow(dsrollup_t *a)
{
	size_t ncap = a->cap * 2;
	cell **ns = xcalloc(ncap, sizeof *ns);
	for (size_t i = 0; i < a->cap; i++)
		if (a->slots[i]) {
			size_t j = a->slots[i]->h & (ncap - 1);
			while (ns[j])
				j = (j + 1) & (ncap - 1);
			ns[j] = a->slots[i];
		}
	free(a->slots);
	a->slots = ns;
	a->cap = ncap;
}

static cell *find(dsrollup_t *a, int dim, int lvl, int32_t bucket, slice_t val)
{
	int32_t k[3] = {dim, lvl, bucket};
	XXH64_hash_t h = XXH3_64bits_withSeed(val.p, val.len, XXH3_64bits(k, sizeof k));
	size_t j = h & (a->cap - 1);
	for (cell *c; (c = a->slots[j]); j = (j + 1) & (a->cap - 1))
		if (c->h == h && c->dim == dim && c->lvl == lvl && c->bucket == bucket && c->vlen == val.len &&
		    !memcmp(cell_val(a, c), val.p, val.len))
			return c;
	size_t sz = sizeof(cell) + 4 * (size_t)a->nm * sizeof(int64_t) + val.len + 1;
	cell *c = xcalloc(1, sz);
	a->bytes += sz + 2 * sizeof *a->slots + 16; /* its slot and malloc's own */
	c->h = h;
	c->dim = (int8_t)dim;
	c->lvl = (int8_t)lvl;
	c->bucket = bucket;
	c->vlen = (uint32_t)val.len;
	memcpy((char *)cell_val(a, c), val.p, val.len);
	a->slots[j] = c;
	if (++a->n * 2 > a->cap)
		grow(a);
	return c;
}

void dsrollup_add(dsrollup_t *a, date_t day, const slice_t *dims, const int64_t *m, const bool *has, int sign)
{
	a->rows += sign;
	for (int i = 0; i < a->nm; i++)
		if (has[i]) {
			/* |m| < 10^15 (checked by the importer): no overflow here */
			int64_t mag = m[i] < 0 ? -m[i] : m[i];
			a->mag += sign * mag;
			if (a->mag > DSROLLUP_MAGNITUDE_MAX || a->mag < -DSROLLUP_MAGNITUDE_MAX)
				a->mag_bad = true;
		}
	for (int l = 0; l < a->nlv; l++) {
		int32_t b = date_bucket_start(day, a->lv[l]);
		for (int dim = 0; dim <= a->d->ndims; dim++) {
			cell *c = find(a, dim, (int)a->lv[l], b, dim ? dims[dim - 1] : (slice_t){"", 0});
			int64_t *n = c->v, *s = c->v + a->nm, *lo = c->v + 2 * a->nm, *hi = c->v + 3 * a->nm;
			c->cnt += sign;
			for (int i = 0; i < a->nm; i++) {
				if (!has[i])
					continue;
				n[i] += sign;
				s[i] += sign * m[i];
				if (sign < 0) {
					c->dirty = true;
				} else if (!(c->has_lo & (1u << i))) {
					lo[i] = hi[i] = m[i];
					c->has_lo |= (uint8_t)(1u << i);
				} else {
					lo[i] = m[i] < lo[i] ? m[i] : lo[i];
					hi[i] = m[i] > hi[i] ? m[i] : hi[i];
				}
			}
			if (sign < 0)
				c->dirty = true;
		}
	}
}

#define UPD(i)                                                                                                   \
	"n" #i " = ds_rollup.n" #i " + excluded.n" #i ", s" #i " = ds_rollup.s" #i " + excluded.s" #i ", lo" #i     \
	" = CASE WHEN excluded.lo" #i " IS NULL OR (ds_rollup.lo" #i " IS NOT NULL AND ds_rollup.lo" #i            \
	" <= excluded.lo" #i ") THEN ds_rollup.lo" #i " ELSE excluded.lo" #i " END, hi" #i                          \
	" = CASE WHEN excluded.hi" #i " IS NULL OR (ds_rollup.hi" #i " IS NOT NULL AND ds_rollup.hi" #i            \
	" >= excluded.hi" #i ") THEN ds_rollup.hi" #i " ELSE excluded.hi" #i " END"
#define COLS(p) p "0," p "1," p "2," p "3," p "4," p "5," p "6," p "7"

static const char *const upsert_sql =
	"INSERT INTO ds_rollup(ds, dim, lvl, bucket, val, cnt, " COLS("n") ", " COLS("s") ", " COLS("lo") ", " COLS(
		"hi") ", org) VALUES(?,?,?,?,?,?, ?,?,?,?,?,?,?,?, ?,?,?,?,?,?,?,?, ?,?,?,?,?,?,?,?, ?,?,?,?,?,?,?,?, ?) "
	      "ON CONFLICT(ds, dim, lvl, bucket, val) DO UPDATE SET cnt = ds_rollup.cnt + excluded.cnt, " UPD(0) ", " UPD(
		      1) ", " UPD(2) ", " UPD(3) ", " UPD(4) ", " UPD(5) ", " UPD(6) ", " UPD(7);

#define MINMAX(i) "min(m" #i "), max(m" #i ")"
#define MINMAX_ALL MINMAX(0) "," MINMAX(1) "," MINMAX(2) "," MINMAX(3) "," MINMAX(4) "," MINMAX(5) "," MINMAX(6) "," MINMAX(7)
#define RECOMP(cond) "SELECT " MINMAX_ALL " FROM ds_rows WHERE ds = ? AND day >= ? AND day < ?" cond
static const char *const recompute_sql[DSDEF_MAX_DIMS + 1] = {
	RECOMP(""), RECOMP(" AND d0 = ?"), RECOMP(" AND d1 = ?"), RECOMP(" AND d2 = ?"), RECOMP(" AND d3 = ?"),
	RECOMP(" AND d4 = ?"), RECOMP(" AND d5 = ?"), RECOMP(" AND d6 = ?"), RECOMP(" AND d7 = ?"),
};
static const char *const set_minmax_sql =
	"UPDATE ds_rollup SET lo0 = ?, hi0 = ?, lo1 = ?, hi1 = ?, lo2 = ?, hi2 = ?, lo3 = ?, hi3 = ?, lo4 = ?, hi4 = ?, "
	"lo5 = ?, hi5 = ?, lo6 = ?, hi6 = ?, lo7 = ?, hi7 = ? WHERE ds = ? AND dim = ? AND lvl = ? AND bucket = ? AND val = ?";

static void upsert_bind(const dsrollup_t *a, store_stmt_t *st, const cell *c)
{
	store_bind_i64(st, 1, a->ds);
	store_bind_i64(st, 2, c->dim);
	store_bind_i64(st, 3, c->lvl);
	store_bind_i64(st, 4, c->bucket);
	store_bind_text(st, 5, cell_val(a, c), c->vlen);
	store_bind_i64(st, 6, c->cnt);
	store_bind_i64(st, 39, a->org);
	for (int i = 0; i < DSDEF_MAX_MEASURES; i++) {
		bool in = i < a->nm, lo = in && (c->has_lo & (1u << i));
		store_bind_i64(st, 7 + i, in ? c->v[i] : 0);
		store_bind_i64(st, 15 + i, in ? c->v[a->nm + i] : 0);
		if (lo) {
			store_bind_i64(st, 23 + i, c->v[2 * a->nm + i]);
			store_bind_i64(st, 31 + i, c->v[3 * a->nm + i]);
		} else {
			store_bind_null(st, 23 + i);
			store_bind_null(st, 31 + i);
		}
	}
}

/* The cells (distinct keys, in key order) through the store's bulk path:
 * multi-row INSERTs on SQLite; on PostgreSQL a COPY and one INSERT ...
 * SELECT, where a statement per cell cost a round trip each (two thirds
 * of a data set import's time). */
static bool upsert_all(dsrollup_t *a, store_conn_t *w, cell **list, size_t k, char *err, size_t errlen)
{
	store_batch_t *b = store_batch_new(w, upsert_sql);
	bool ok = true;
	for (size_t i = 0; ok && i < k; i++) {
		store_stmt_t *st = b ? store_batch_stmt(b) : store_prepare(w, upsert_sql);
		if (!st)
			return false;
		upsert_bind(a, st, list[i]);
		if (b) {
			store_batch_row(b);
			continue;
		}
		ok = store_step(st) == STORE_DONE;
		store_reset(st);
	}
	if (b) {
		ok = store_batch_run(b, NULL, err, errlen) == 0;
		store_batch_free(b);
	}
	return ok;
}

static void no_row(void *ud, store_stmt_t *st, int i)
{
	(void)ud, (void)st, (void)i;
}

/* Min and max of retracted cells read again from the rows, a chunk at a
 * time: per dimension one store_each of the reads, then one of the
 * updates (a round trip each on PostgreSQL, not two per cell). */
#define RECOMPUTE_CHUNK 4096
typedef struct {
	dsrollup_t *a;
	cell **c;          /* the chunk's dirty cells */
	int *of;           /* the reads' cells: indexes into c */
	int64_t (*v)[2 * DSDEF_MAX_MEASURES];
	bool (*null)[2 * DSDEF_MAX_MEASURES];
} recomp;

static void recomp_bind(void *ud, store_stmt_t *st, int i)
{
	const recomp *x = ud;
	const cell *c = x->c[x->of[i]];
	store_bind_i64(st, 1, x->a->ds);
	store_bind_i64(st, 2, c->bucket);
	store_bind_i64(st, 3, date_bucket_next(c->bucket, (interval_t)c->lvl));
	if (c->dim)
		store_bind_text(st, 4, cell_val(x->a, c), c->vlen);
}

static void recomp_row(void *ud, store_stmt_t *st, int i)
{
	recomp *x = ud;
	int k = x->of[i];
	for (int j = 0; j < 2 * DSDEF_MAX_MEASURES; j++) {
		x->null[k][j] = store_col_is_null(st, j);
		x->v[k][j] = x->null[k][j] ? 0 : store_col_i64(st, j);
	}
}

static void set_bind(void *ud, store_stmt_t *st, int k)
{
	const recomp *x = ud;
	const cell *c = x->c[k];
	for (int j = 0; j < 2 * DSDEF_MAX_MEASURES; j++)
		if (x->null[k][j])
			store_bind_null(st, 1 + j);
		else
			store_bind_i64(st, 1 + j, x->v[k][j]);
	store_bind_i64(st, 17, x->a->ds);
	store_bind_i64(st, 18, c->dim);
	store_bind_i64(st, 19, c->lvl);
	store_bind_i64(st, 20, c->bucket);
	store_bind_text(st, 21, cell_val(x->a, c), c->vlen);
}

static bool recompute_chunk(dsrollup_t *a, store_conn_t *w, cell **c, int n)
{
	recomp x = {a, c, xmalloc((size_t)n * sizeof *x.of), xmalloc((size_t)n * sizeof *x.v),
	            xmalloc((size_t)n * sizeof *x.null)};
	bool ok = true;
	for (int d = 0; ok && d <= DSDEF_MAX_DIMS; d++) {
		int m = 0;
		for (int k = 0; k < n; k++)
			if (c[k]->dim == d)
				x.of[m++] = k;
		ok = !m || store_each(w, recompute_sql[d], m, recomp_bind, recomp_row, &x) == 0;
	}
	ok = ok && store_each(w, set_minmax_sql, n, set_bind, no_row, &x) == 0;
	free(x.of);
	free(x.v);
	free(x.null);
	return ok;
}

static bool totals(dsrollup_t *a, store_conn_t *w, char *err, size_t errlen)
{
	static const char *qget = "SELECT mag FROM datasets WHERE id = ?";
	static const char *qset = "UPDATE datasets SET nrows = nrows + ?, mag = ?, version = version + 1 WHERE id = ?";
	store_stmt_t *st = store_prepare(w, qget);
	if (!st)
		return false;
	store_bind_i64(st, 1, a->ds);
	bool ok = store_step(st) == STORE_ROW;
	int64_t mag = ok ? store_col_i64(st, 0) : 0;
	store_reset(st);
	if (!ok)
		return false;
	__int128 nm = (__int128)mag + a->mag;
	if (a->mag_bad || nm > DSROLLUP_MAGNITUDE_MAX || nm < 0) {
		snprintf(err, errlen, "the data set's measures would add up past 2^62 in magnitude (sums would no longer be "
		                      "exact): nothing was stored");
		return false;
	}
	st = store_prepare(w, qset);
	store_bind_i64(st, 1, a->rows);
	store_bind_i64(st, 2, (int64_t)nm);
	store_bind_i64(st, 3, a->ds);
	ok = store_step(st) == STORE_DONE;
	store_reset(st);
	return ok;
}

static __thread int sort_nm; /* qsort has no context argument */

/* The table's key order (dim, lvl, bucket, val): upserts in that order
 * touch the B-tree's pages in sequence instead of at random. */
static int cell_cmp(const void *x, const void *y)
{
	const cell *a = *(const cell *const *)x, *b = *(const cell *const *)y;
	if (a->dim != b->dim)
		return a->dim - b->dim;
	if (a->lvl != b->lvl)
		return a->lvl - b->lvl;
	if (a->bucket != b->bucket)
		return a->bucket < b->bucket ? -1 : 1;
	size_t n = a->vlen < b->vlen ? a->vlen : b->vlen;
	int c = memcmp(a->v + 4 * sort_nm, b->v + 4 * sort_nm, n);
	return c ? c : (a->vlen > b->vlen) - (a->vlen < b->vlen);
}

int dsrollup_flush(dsrollup_t *a, store_conn_t *w, char *err, size_t errlen)
{
	static const char *qzero = "DELETE FROM ds_rollup WHERE ds = ? AND cnt = 0";
	err[0] = '\0';
	bool ok = totals(a, w, err, errlen), dirty = false;
	cell **list = xmalloc((a->n + 1) * sizeof *list);
	size_t k = 0;
	for (size_t i = 0; i < a->cap; i++)
		if (a->slots[i])
			list[k++] = a->slots[i];
	sort_nm = a->nm;
	qsort(list, k, sizeof *list, cell_cmp);
	ok = ok && upsert_all(a, w, list, k, err, errlen);
	/* min and max of retracted cells read again from the rows, which the
	 * upserts do not touch */
	size_t nd = 0;
	for (size_t i = 0; i < k; i++)
		if (list[i]->dirty)
			list[nd++] = list[i]; /* the list is not needed in key order any more */
	dirty = nd > 0;
	for (size_t i = 0; ok && i < nd; i += RECOMPUTE_CHUNK)
		ok = recompute_chunk(a, w, list + i, nd - i < RECOMPUTE_CHUNK ? (int)(nd - i) : RECOMPUTE_CHUNK);
	free(list);
	if (ok && dirty) {
		store_stmt_t *st = store_prepare(w, qzero);
		store_bind_i64(st, 1, a->ds);
		ok = store_step(st) == STORE_DONE;
		store_reset(st);
	}
	if (!ok && !err[0])
		snprintf(err, errlen, "store error while updating the data set's rollups: %s; nothing was stored",
		         store_errmsg(w));
	clear(a);
	return ok ? 0 : -1;
}
