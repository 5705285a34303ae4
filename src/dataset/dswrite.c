#include "dataset/dswrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/mem.h"

/* DESIGN
 * A batch is written in three passes, each one store_each:
 *  1. every row's INSERT ... ON CONFLICT DO NOTHING RETURNING rid, in
 *     file order: a row that returns went in (the first of its key);
 *  2. for the keys of the rows that did not, the stored row (after pass
 *     1, so a key first inserted by this batch reads that insert);
 *  3. walking those rows in file order against the stored values (each
 *     replacement becomes the next one's old row), the changed keys' last
 *     values, one UPDATE each.
 * The rollup gets what a statement per row gave it: each insert added,
 * each changed replacement's old row retracted and its new one added. */

#define BATCH_ROWS 512

/* A row of the batch, its dims in the batch's arena. */
typedef struct {
	date_t day;
	size_t doff[DSDEF_MAX_DIMS], dlen[DSDEF_MAX_DIMS];
	int64_t m[DSDEF_MAX_MEASURES];
	bool has[DSDEF_MAX_MEASURES];
	char key[128];
	size_t keylen;
	bool inserted;
	int slot; /* its key's entry in olds (replacements) */
} brow;

/* A replaced key's stored row, then its latest values. */
typedef struct {
	int64_t rid;
	const brow *cur; /* the key's first row, then its stored values, then its latest */
	bool found, dirty;
} old_row;

struct dswrite {
	store_conn_t *w;
	const dsstore_info *info;
	int64_t org;
	dsrollup_t *acc;
	import_result *res;
	brow rows[BATCH_ROWS];
	int n;
	buf_t arena;
	old_row olds[BATCH_ROWS];
	int nolds;
	int table[2 * BATCH_ROWS]; /* key hash -> olds index + 1 */
	int dirty[BATCH_ROWS];
	int ndirty;
};

#define D8 "d0, d1, d2, d3, d4, d5, d6, d7"
#define M8 "m0, m1, m2, m3, m4, m5, m6, m7"
static const char *const ins_sql = "INSERT INTO ds_rows(ds, rkey, day, " D8 ", " M8 ", org) VALUES(?, ?, ?, "
                                   "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                   "ON CONFLICT(ds, rkey) DO NOTHING RETURNING rid";
static const char *const old_sql = "SELECT rid, day, " D8 ", " M8 " FROM ds_rows WHERE ds = ? AND rkey = ?";
static const char *const upd_sql = "UPDATE ds_rows SET day = ?, d0 = ?, d1 = ?, d2 = ?, d3 = ?, d4 = ?, d5 = ?, "
                                   "d6 = ?, d7 = ?, m0 = ?, m1 = ?, m2 = ?, m3 = ?, m4 = ?, m5 = ?, m6 = ?, m7 = ? "
                                   "WHERE rid = ?";

dswrite *dswrite_new(store_conn_t *w, const dsstore_info *info, int64_t org, dsrollup_t *acc, import_result *res)
{
	dswrite *b = xcalloc(1, sizeof *b);
	b->w = w;
	b->info = info;
	b->org = org;
	b->acc = acc;
	b->res = res;
	return b;
}

void dswrite_free(dswrite *b)
{
	if (!b)
		return;
	buf_free(&b->arena);
	free(b);
}

/* x's values as a dsrow with dims in the arena (valid until it grows). */
static void view_of(const dswrite *b, const brow *x, dsrow *out)
{
	out->day = x->day;
	for (int i = 0; i < DSDEF_MAX_DIMS; i++)
		out->dims[i] = (slice_t){b->arena.p + x->doff[i], x->dlen[i]};
	memcpy(out->m, x->m, sizeof out->m);
	memcpy(out->has, x->has, sizeof out->has);
}

/* Binds day, d0..d7, m0..m7 from parameter first. */
static void bind_values(store_stmt_t *st, int first, const dsdef_t *d, const dsrow *x)
{
	store_bind_i64(st, first, x->day);
	for (int i = 0; i < DSDEF_MAX_DIMS; i++)
		if (i < d->ndims)
			store_bind_text_nocopy(st, first + 1 + i, x->dims[i].p, x->dims[i].len);
		else
			store_bind_text(st, first + 1 + i, "", 0);
	for (int i = 0; i < DSDEF_MAX_MEASURES; i++)
		if (i < d->nmeasures && x->has[i])
			store_bind_i64(st, first + 9 + i, x->m[i]);
		else
			store_bind_null(st, first + 9 + i);
}

int dswrite_add(dswrite *b, const dsrow *x, char *err, size_t errlen)
{
	brow *r = &b->rows[b->n++];
	r->day = x->day;
	for (int i = 0; i < DSDEF_MAX_DIMS; i++) {
		bool used = i < b->info->def.ndims;
		r->doff[i] = b->arena.len;
		r->dlen[i] = used ? x->dims[i].len : 0;
		if (used)
			buf_put(&b->arena, x->dims[i].p, x->dims[i].len);
	}
	memcpy(r->m, x->m, sizeof r->m);
	memcpy(r->has, x->has, sizeof r->has);
	memcpy(r->key, x->key, x->keylen);
	r->key[x->keylen] = '\0';
	r->keylen = x->keylen;
	r->inserted = false;
	return b->n == BATCH_ROWS ? dswrite_flush(b, err, errlen) : 0;
}

/* ---- pass 1: inserts ---- */

static void ins_bind(void *ud, store_stmt_t *st, int i)
{
	dswrite *b = ud;
	dsrow v;
	view_of(b, &b->rows[i], &v);
	store_bind_i64(st, 1, b->info->id);
	store_bind_text_nocopy(st, 2, b->rows[i].key, b->rows[i].keylen);
	bind_values(st, 3, &b->info->def, &v);
	store_bind_i64(st, 20, b->org);
}

static void ins_row(void *ud, store_stmt_t *st, int i)
{
	(void)st;
	((dswrite *)ud)->rows[i].inserted = true;
}

/* ---- pass 2: the stored rows of replaced keys ---- */

/* The olds entry of key (added when missing). */
static int old_slot(dswrite *b, const brow *r)
{
	size_t mask = sizeof b->table / sizeof b->table[0] - 1;
	size_t h = (size_t)XXH3_64bits(r->key, r->keylen) & mask;
	for (;; h = (h + 1) & mask) {
		int k = b->table[h] - 1;
		if (k < 0)
			break;
		const brow *first = b->olds[k].cur;
		if (first->keylen == r->keylen && !memcmp(first->key, r->key, r->keylen))
			return k;
	}
	int k = b->nolds++;
	b->olds[k] = (old_row){.cur = r}; /* cur: the key's first row, until read */
	b->table[h] = k + 1;
	return k;
}

/* Stored values are kept as a brow in the arena (offsets: it may grow). */
typedef struct {
	dswrite *b;
	brow *stored; /* one per olds entry */
} old_read;

static void old_bind(void *ud, store_stmt_t *st, int i)
{
	dswrite *b = ((old_read *)ud)->b;
	const brow *r = b->olds[i].cur;
	store_bind_i64(st, 1, b->info->id);
	store_bind_text_nocopy(st, 2, r->key, r->keylen);
}

static void old_row_read(void *ud, store_stmt_t *st, int i)
{
	old_read *o = ud;
	dswrite *b = o->b;
	const dsdef_t *d = &b->info->def;
	brow *s = &o->stored[i];
	b->olds[i].rid = store_col_i64(st, 0);
	b->olds[i].found = true;
	s->day = (date_t)store_col_i64(st, 1);
	for (int k = 0; k < DSDEF_MAX_DIMS; k++) {
		size_t len = 0;
		const char *p = k < d->ndims ? store_col_text(st, 2 + k, &len) : "";
		s->doff[k] = b->arena.len;
		s->dlen[k] = len;
		buf_put(&b->arena, p, len);
	}
	for (int k = 0; k < DSDEF_MAX_MEASURES; k++) {
		s->has[k] = k < d->nmeasures && !store_col_is_null(st, 10 + k);
		s->m[k] = s->has[k] ? store_col_i64(st, 10 + k) : 0;
	}
}

static bool same_values(const dswrite *b, const brow *x, const brow *y)
{
	const dsdef_t *d = &b->info->def;
	if (x->day != y->day)
		return false;
	for (int i = 0; i < d->ndims; i++)
		if (x->dlen[i] != y->dlen[i] || memcmp(b->arena.p + x->doff[i], b->arena.p + y->doff[i], x->dlen[i]))
			return false;
	for (int i = 0; i < d->nmeasures; i++)
		if (x->has[i] != y->has[i] || (x->has[i] && x->m[i] != y->m[i]))
			return false;
	return true;
}

/* ---- pass 3: updates ---- */

static void upd_bind(void *ud, store_stmt_t *st, int i)
{
	dswrite *b = ud;
	const old_row *o = &b->olds[b->dirty[i]];
	dsrow v;
	view_of(b, o->cur, &v);
	bind_values(st, 1, &b->info->def, &v);
	store_bind_i64(st, 18, o->rid);
}

static void no_row(void *ud, store_stmt_t *st, int i)
{
	(void)ud, (void)st, (void)i;
}

static int store_fail(dswrite *b, char *err, size_t errlen)
{
	snprintf(err, errlen, "store error: %s; nothing was stored", store_errmsg(b->w));
	return -1;
}

int dswrite_flush(dswrite *b, char *err, size_t errlen)
{
	int rc = 0;
	if (!b->n)
		return 0;
	if (store_each(b->w, ins_sql, b->n, ins_bind, ins_row, b) != 0) {
		rc = store_fail(b, err, errlen);
		goto out;
	}
	memset(b->table, 0, sizeof b->table);
	b->nolds = b->ndirty = 0;
	for (int i = 0; i < b->n; i++) {
		brow *r = &b->rows[i];
		dsrow v;
		view_of(b, r, &v);
		if (r->inserted) {
			b->res->inserted++;
			dsrollup_add(b->acc, v.day, v.dims, v.m, v.has, 1);
		} else {
			b->res->replaced++;
			r->slot = old_slot(b, r);
		}
	}
	if (!b->nolds)
		goto out;
	brow *stored = xcalloc((size_t)b->nolds, sizeof *stored);
	old_read rd = {b, stored};
	if (store_each(b->w, old_sql, b->nolds, old_bind, old_row_read, &rd) != 0) {
		free(stored);
		rc = store_fail(b, err, errlen);
		goto out;
	}
	for (int k = 0; k < b->nolds; k++) {
		if (!b->olds[k].found) { /* it conflicted, so it is stored: the store changed under us */
			free(stored);
			snprintf(err, errlen, "store error: a replaced row of data set '%s' vanished; nothing was stored",
			         b->info->def.name);
			rc = -1;
			goto out;
		}
		b->olds[k].cur = &stored[k];
	}
	for (int i = 0; i < b->n; i++) {
		brow *r = &b->rows[i];
		if (r->inserted)
			continue;
		old_row *o = &b->olds[r->slot];
		if (same_values(b, o->cur, r))
			continue;
		dsrow was, now;
		view_of(b, o->cur, &was);
		view_of(b, r, &now);
		dsrollup_add(b->acc, was.day, was.dims, was.m, was.has, -1);
		dsrollup_add(b->acc, now.day, now.dims, now.m, now.has, 1);
		o->cur = r;
		if (!o->dirty)
			b->dirty[b->ndirty++] = r->slot;
		o->dirty = true;
	}
	if (b->ndirty && store_each(b->w, upd_sql, b->ndirty, upd_bind, no_row, b) != 0)
		rc = store_fail(b, err, errlen);
	free(stored);
out:
	b->n = 0;
	buf_reset(&b->arena);
	return rc;
}
