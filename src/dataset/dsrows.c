/* The rows of a data set, in (day, row) order, a page at a time: keyset
 * pagination on (day, rid) through the index ds_rows(ds, day, rid), with a
 * sealed cursor (rids are a counter shared by every organisation). */
#include <stdio.h>
#include <string.h>

#include "core/seal.h"
#include "dataset/dsview.h"
#include "store/secret.h"

#define D8 "d0, d1, d2, d3, d4, d5, d6, d7"
#define M8 "m0, m1, m2, m3, m4, m5, m6, m7"
#define ROWS_WHERE                                                                                                 \
	" FROM ds_rows WHERE ds = ?1 AND day >= ?2 AND day <= ?3 AND (?4 IS NULL OR d0 = ?4) AND (?5 IS NULL OR d1 = " \
	"?5) AND (?6 IS NULL OR d2 = ?6) AND (?7 IS NULL OR d3 = ?7) AND (?8 IS NULL OR d4 = ?8) AND (?9 IS NULL OR "  \
	"d5 = ?9) AND (?10 IS NULL OR d6 = ?10) AND (?11 IS NULL OR d7 = ?11)"

typedef struct {
	int64_t org, ds, rid;
	int32_t day;
} cursor_pt;

bool dsview_cursor(store_conn_t *c, int64_t org, const dsstore_info *ds, const char *tok, dsview_params *p)
{
	uint8_t sk[SEAL_KEYBYTES];
	cursor_pt pt;
	if (secret_key(c, sk) != 0 || seal_open(sk, tok, &pt, sizeof pt) != (int)sizeof pt || pt.org != org ||
	    pt.ds != ds->id)
		return false;
	p->has_cursor = true;
	p->cur_day = pt.day;
	p->cur_rid = pt.rid;
	return true;
}

int dsview_rows(store_conn_t *c, int64_t org, const dsstore_info *ds, const dsview_params *p, buf_t *out,
                char *err, size_t errlen)
{
	static const char *q = "SELECT rid, day, " D8 ", " M8 ROWS_WHERE
	                       " AND (day > ?12 OR (day = ?12 AND rid > ?13)) ORDER BY day, rid LIMIT ?14";
	uint8_t sk[SEAL_KEYBYTES];
	store_stmt_t *st = store_prepare(c, q);
	if (!st || secret_key(c, sk) != 0) {
		snprintf(err, errlen, "store error: %s", store_errmsg(c));
		return -1;
	}
	store_bind_i64(st, 1, ds->id);
	store_bind_i64(st, 2, p->from);
	store_bind_i64(st, 3, p->to);
	for (int i = 0; i < DSDEF_MAX_DIMS; i++)
		if (p->filter[i])
			store_bind_text(st, 4 + i, p->filter[i], strlen(p->filter[i]));
		else
			store_bind_null(st, 4 + i);
	store_bind_i64(st, 12, p->has_cursor ? p->cur_day : INT32_MIN);
	store_bind_i64(st, 13, p->has_cursor ? p->cur_rid : -1);
	store_bind_i64(st, 14, p->limit + 1); /* one more tells whether a next page exists */
	const dsdef_t *d = &ds->def;
	buf_puts(out, "{\"items\":[");
	store_status rc;
	int n = 0;
	cursor_pt last;
	memset(&last, 0, sizeof last); /* padding too: the token is the bytes */
	last.org = org;
	last.ds = ds->id;
	while ((rc = store_step(st)) == STORE_ROW) {
		if (n == p->limit)
			break;
		int64_t rid = store_col_i64(st, 0);
		date_t day = (date_t)store_col_i64(st, 1);
		char dbuf[DATE_BUFSZ];
		date_format(day, dbuf);
		buf_printf(out, "%s{\"_id\":%llu,", n ? "," : "", (unsigned long long)seal_permute(sk, (uint64_t)rid));
		buf_json_str(out, d->time_column, strlen(d->time_column));
		buf_printf(out, ":\"%s\"", dbuf);
		for (int i = 0; i < d->ndims; i++) {
			size_t len;
			const char *v = store_col_text(st, 2 + i, &len);
			buf_printf(out, ",\"%s\":", d->dims[i].name);
			buf_json_str(out, v, len);
		}
		for (int i = 0; i < d->nmeasures; i++) {
			buf_printf(out, ",\"%s\":", d->measures[i].name);
			if (store_col_is_null(st, 10 + i))
				buf_puts(out, "null");
			else
				buf_put_i64(out, store_col_i64(st, 10 + i));
		}
		buf_putc(out, '}');
		last.rid = rid;
		last.day = day;
		n++;
	}
	bool more = rc == STORE_ROW;
	store_reset(st);
	if (!more && rc != STORE_DONE) {
		snprintf(err, errlen, "store error: %s", store_errmsg(c));
		return -1;
	}
	buf_puts(out, "],\"next_cursor\":");
	if (more) {
		char tok[SEAL_TOKEN_BUFSZ];
		seal_token(sk, &last, sizeof last, tok);
		buf_printf(out, "\"%s\"}", tok);
	} else {
		buf_puts(out, "null}");
	}
	return 0;
}
