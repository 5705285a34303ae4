#include "match/alias.h"

#include <stdio.h>
#include <string.h>

#include "match/normalize.h"

int alias_load(store_conn_t *c, int64_t org, blocking_t *b, char *err, size_t errlen)
{
	static const char *q = "SELECT payer, customer FROM payer_aliases WHERE org = ?1";
	store_stmt_t *st = store_prepare(c, q);
	if (!st) {
		snprintf(err, errlen, "loading aliases: %s", store_errmsg(c));
		return -1;
	}
	store_bind_i64(st, 1, org);
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		size_t pl, cl;
		const char *p = store_col_text(st, 0, &pl);
		const char *cu = store_col_text(st, 1, &cl);
		blocking_add_alias(b, p, pl, cu, cl);
	}
	store_reset(st);
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "loading aliases: %s", store_errmsg(c));
		return -1;
	}
	return 0;
}

int alias_learn(store_conn_t *w, int64_t org, int64_t payment, int64_t invoice)
{
	static const char *sel = "SELECT p.payer, i.customer FROM payments p, invoices i WHERE p.rid = ?1 AND i.rid = ?2";
	static const char *ins = "INSERT INTO payer_aliases(org, payer, spelling, customer) VALUES(?1, ?2, ?3, ?4) "
	                         "ON CONFLICT(org, payer) DO UPDATE SET spelling = excluded.spelling, "
	                         "customer = excluded.customer";
	store_stmt_t *st = store_prepare(w, sel);
	if (!st)
		return -1;
	store_bind_i64(st, 1, payment);
	store_bind_i64(st, 2, invoice);
	store_status rc = store_step(st);
	if (rc != STORE_ROW) {
		store_reset(st);
		return rc == STORE_DONE ? 0 : -1;
	}
	size_t pl, cl;
	const char *payer = store_col_text(st, 0, &pl);
	const char *cust = store_col_text(st, 1, &cl);
	buf_t norm = BUF_INIT, raw = BUF_INIT, cu = BUF_INIT;
	norm_payer(payer, pl, &norm);
	buf_put(&raw, payer, pl);
	buf_put(&cu, cust, cl);
	store_reset(st);
	int ret = 0;
	if (norm.len >= 3) {
		st = store_prepare(w, ins);
		store_bind_i64(st, 1, org);
		store_bind_text(st, 2, norm.p, norm.len);
		store_bind_text(st, 3, raw.p ? raw.p : "", raw.len);
		store_bind_text(st, 4, cu.p ? cu.p : "", cu.len);
		ret = store_step(st) == STORE_DONE ? 0 : -1;
		store_reset(st);
	}
	buf_free(&norm);
	buf_free(&raw);
	buf_free(&cu);
	return ret;
}

bool alias_of(store_conn_t *c, int64_t org, const char *payer, size_t len, buf_t *out)
{
	static const char *q = "SELECT customer FROM payer_aliases WHERE org = ?1 AND payer = ?2";
	buf_t norm = BUF_INIT;
	norm_payer(payer, len, &norm);
	store_stmt_t *st = store_prepare(c, q);
	bool found = false;
	if (st) {
		store_bind_i64(st, 1, org);
		store_bind_text(st, 2, norm.p ? norm.p : "", norm.len);
		if (store_step(st) == STORE_ROW) {
			size_t n;
			const char *cu = store_col_text(st, 0, &n);
			buf_put(out, cu, n);
			found = true;
		}
		store_reset(st);
	}
	buf_free(&norm);
	return found;
}

matcher_status alias_list(store_t *s, int64_t org, buf_t *out, char *err, size_t errlen)
{
	static const char *q = "SELECT payer, spelling, customer, created_at FROM payer_aliases WHERE org = ?1 ORDER BY payer";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	if (!st) {
		snprintf(err, errlen, "listing aliases: %s", store_errmsg(c));
		store_read_end(c);
		return MATCHER_FAILED;
	}
	store_bind_i64(st, 1, org);
	buf_puts(out, "{\"aliases\":[");
	store_status rc;
	static const char *const keys[] = {"payer", "spelling", "customer", "created_at"};
	for (int k = 0; (rc = store_step(st)) == STORE_ROW; k++) {
		buf_puts(out, k ? ",{" : "{");
		for (int i = 0; i < 4; i++) {
			size_t n;
			const char *v = store_col_text(st, i, &n);
			buf_printf(out, "%s\"%s\":", i ? "," : "", keys[i]);
			buf_json_str(out, v, n);
		}
		buf_puts(out, "}");
	}
	buf_puts(out, "]}");
	store_reset(st);
	store_read_end(c);
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "listing aliases: the store failed");
		return MATCHER_FAILED;
	}
	return MATCHER_OK;
}

matcher_status alias_remove(store_t *s, int64_t org, const char *payer, size_t len, char *err, size_t errlen)
{
	static const char *q = "DELETE FROM payer_aliases WHERE org = ?1 AND (payer = ?2 OR payer = ?3)";
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return MATCHER_FAILED;
	buf_t norm = BUF_INIT;
	norm_payer(payer, len, &norm);
	store_stmt_t *st = store_prepare(w, q);
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, payer, len);
	store_bind_text(st, 3, norm.p ? norm.p : "", norm.len);
	store_status rc = store_step(st);
	store_reset(st);
	buf_free(&norm);
	int64_t n = rc == STORE_DONE ? store_changes(w) : 0;
	if (rc != STORE_DONE || n == 0) {
		store_write_rollback(w);
		if (rc != STORE_DONE) {
			snprintf(err, errlen, "forgetting the alias: the store failed");
			return MATCHER_FAILED;
		}
		snprintf(err, errlen, "no alias for payer '%.*s'", (int)(len > 80 ? 80 : len), payer);
		return MATCHER_NOT_FOUND;
	}
	/* Allocations' version: cached matcher results may have used it. */
	store_write_touch(w, org, TBL_BIT(TBL_ALLOCATIONS));
	return store_write_commit(w, err, errlen) == 0 ? MATCHER_OK : MATCHER_FAILED;
}
