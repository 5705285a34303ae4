#include "dataset/dsstore.h"
#include "core/date.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int dsstore_create(store_t *s, int64_t org, const dsdef_t *d, char *err, size_t errlen)
{
	static const char *q = "INSERT INTO datasets(org, name, def, nrows, mag, created_at) VALUES(?, ?, ?, 0, 0, ?) "
	                       "ON CONFLICT(org, name) DO NOTHING RETURNING id";
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return -1;
	buf_t def = BUF_INIT;
	dsdef_json(d, &def);
	char now[DATE_UTC_ISO_BUFSZ];
	date_utc_iso(time(NULL), now);
	store_stmt_t *st = store_prepare(w, q);
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, d->name, strlen(d->name));
	store_bind_text(st, 3, def.p, def.len);
	store_bind_text(st, 4, now, strlen(now));
	store_status rc = store_step(st);
	store_reset(st);
	buf_free(&def);
	if (rc == STORE_DONE) {
		store_write_rollback(w);
		return 1;
	}
	if (rc != STORE_ROW) {
		snprintf(err, errlen, "store error: %s", store_errmsg(w));
		store_write_rollback(w);
		return -1;
	}
	store_write_touch(w, org, TBL_BIT(TBL_DATASETS));
	return store_write_commit(w, err, errlen) == 0 ? 0 : -1;
}

static bool fill(store_stmt_t *st, dsstore_info *i)
{
	i->id = store_col_i64(st, 0);
	size_t n;
	const char *def = store_col_text(st, 1, &n);
	char why[256];
	if (!dsdef_parse(def, n, &i->def, why, sizeof why))
		return false; /* stored by dsstore_create after validation: cannot happen */
	i->rows = store_col_i64(st, 2);
	snprintf(i->created_at, sizeof i->created_at, "%s", store_col_text(st, 3, NULL));
	i->version = store_col_i64(st, 4);
	return true;
}

int dsstore_get(store_conn_t *c, int64_t org, const char *name, dsstore_info *out)
{
	static const char *q = "SELECT id, def, nrows, created_at, version FROM datasets WHERE org = ? AND name = ?";
	store_stmt_t *st = store_prepare(c, q);
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, name, strlen(name));
	store_status rc = store_step(st);
	int res = rc == STORE_ROW ? (fill(st, out) ? 1 : -1) : rc == STORE_DONE ? 0 : -1;
	store_reset(st);
	return res;
}

int dsstore_list(store_conn_t *c, int64_t org, void (*fn)(void *ud, const dsstore_info *i), void *ud)
{
	static const char *q = "SELECT id, def, nrows, created_at, version FROM datasets WHERE org = ? ORDER BY name";
	store_stmt_t *st = store_prepare(c, q);
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	int n = 0;
	store_status rc;
	dsstore_info *i = malloc(sizeof *i);
	while ((rc = store_step(st)) == STORE_ROW)
		if (fill(st, i))
			fn(ud, i), n++;
	store_reset(st);
	free(i);
	return rc == STORE_DONE ? n : -1;
}

int dsstore_drop(store_t *s, int64_t org, const char *name, char *err, size_t errlen)
{
	static const char *qid = "SELECT id FROM datasets WHERE org = ? AND name = ?";
	static const char *const qdel[] = {"DELETE FROM ds_rows WHERE ds = ?", "DELETE FROM ds_rollup WHERE ds = ?",
	                                   "DELETE FROM datasets WHERE id = ?"};
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return -1;
	store_stmt_t *st = store_prepare(w, qid);
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, name, strlen(name));
	store_status rc = store_step(st);
	int64_t id = rc == STORE_ROW ? store_col_i64(st, 0) : 0;
	store_reset(st);
	if (rc != STORE_ROW) {
		if (rc != STORE_DONE)
			snprintf(err, errlen, "store error: %s", store_errmsg(w));
		store_write_rollback(w);
		return rc == STORE_DONE ? 0 : -1;
	}
	for (size_t k = 0; k < sizeof qdel / sizeof qdel[0]; k++) {
		st = store_prepare(w, qdel[k]);
		store_bind_i64(st, 1, id);
		rc = store_step(st);
		store_reset(st);
		if (rc != STORE_DONE) {
			snprintf(err, errlen, "store error: %s", store_errmsg(w));
			store_write_rollback(w);
			return -1;
		}
	}
	store_write_touch(w, org, TBL_BIT(TBL_DATASETS));
	return store_write_commit(w, err, errlen) == 0 ? 1 : -1;
}

bool dsstore_dates(store_conn_t *c, int64_t id, int32_t *min, int32_t *max)
{
	/* two index probes (ds, day), the same on both backends */
	static const char *q = "SELECT (SELECT day FROM ds_rows WHERE ds = ?1 ORDER BY day LIMIT 1), "
	                       "(SELECT day FROM ds_rows WHERE ds = ?1 ORDER BY day DESC LIMIT 1)";
	store_stmt_t *st = store_prepare(c, q);
	if (!st)
		return false;
	store_bind_i64(st, 1, id);
	bool ok = store_step(st) == STORE_ROW && !store_col_is_null(st, 0);
	if (ok) {
		*min = (int32_t)store_col_i64(st, 0);
		*max = (int32_t)store_col_i64(st, 1);
	}
	store_reset(st);
	return ok;
}

void dsstore_json(store_conn_t *c, const dsstore_info *i, buf_t *out)
{
	dsdef_json(&i->def, out);
	out->len--; /* reopen the definition's object */
	buf_printf(out, ",\"rows\":%lld,\"created_at\":", (long long)i->rows);
	buf_json_str(out, i->created_at, strlen(i->created_at));
	int32_t lo, hi;
	if (dsstore_dates(c, i->id, &lo, &hi)) {
		char a[DATE_BUFSZ], b[DATE_BUFSZ];
		date_format(lo, a);
		date_format(hi, b);
		buf_printf(out, ",\"min_date\":\"%s\",\"max_date\":\"%s\"}", a, b);
	} else {
		buf_puts(out, ",\"min_date\":null,\"max_date\":null}");
	}
}
