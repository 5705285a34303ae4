#include "match/alias.h"

#include <stdio.h>
#include <string.h>

#include "ingest/entity.h"
#include "match/normalize.h"

/* Hands each (key, customer) row of q (bound to org) to add. */
static int load_rows(store_conn_t *c, int64_t org, blocking_t *b, const char *q,
                     void (*add)(blocking_t *, const char *, size_t, const char *, size_t), char *err, size_t errlen)
{
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
		add(b, p, pl, cu, cl);
	}
	store_reset(st);
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "loading aliases: %s", store_errmsg(c));
		return -1;
	}
	return 0;
}

int alias_load(store_conn_t *c, int64_t org, blocking_t *b, char *err, size_t errlen)
{
	/* An empty customer: confirmed for several customers, it names none. */
	static const char *names = "SELECT payer, customer FROM payer_aliases WHERE org = ?1 AND customer <> ''";
	static const char *accounts = "SELECT account, customer FROM account_aliases WHERE org = ?1 AND customer <> ''";
	if (load_rows(c, org, b, names, blocking_add_alias, err, errlen) != 0)
		return -1;
	return load_rows(c, org, b, accounts, blocking_add_account, err, errlen);
}

int alias_learn(store_conn_t *w, int64_t org, int64_t payment, int64_t invoice)
{
	static const char *sel = "SELECT p.payer, i.customer, p.payer_account FROM payments p, invoices i "
	                         "WHERE p.rid = ?1 AND i.rid = ?2";
	/* A payer (or account) confirmed for a second customer (a holding
	 * paying for its subsidiaries, a payment provider) names none of them
	 * from then on: its customer becomes '' until the alias is forgotten. */
	static const char *acc = "INSERT INTO account_aliases(org, account, customer) VALUES(?1, ?2, ?3) "
	                         "ON CONFLICT(org, account) DO UPDATE SET customer = CASE WHEN "
	                         "account_aliases.customer = excluded.customer THEN excluded.customer ELSE '' END";
	static const char *ins = "INSERT INTO payer_aliases(org, payer, spelling, customer) VALUES(?1, ?2, ?3, ?4) "
	                         "ON CONFLICT(org, payer) DO UPDATE SET spelling = excluded.spelling, "
	                         "customer = CASE WHEN payer_aliases.customer = excluded.customer THEN excluded.customer "
	                         "ELSE '' END";
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
	size_t al;
	const char *account = store_col_text(st, 2, &al);
	buf_t norm = BUF_INIT, raw = BUF_INIT, cu = BUF_INIT, ac = BUF_INIT;
	norm_payer(payer, pl, &norm);
	buf_put(&raw, payer, pl);
	buf_put(&cu, cust, cl);
	buf_put(&ac, account, al);
	store_reset(st);
	int ret = 0;
	if (ac.len) {
		st = store_prepare(w, acc);
		store_bind_i64(st, 1, org);
		store_bind_text(st, 2, ac.p, ac.len);
		store_bind_text(st, 3, cu.p ? cu.p : "", cu.len);
		ret = store_step(st) == STORE_DONE ? 0 : -1;
		store_reset(st);
	}
	if (ret == 0 && norm.len >= 3) {
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
	buf_free(&ac);
	return ret;
}

/* Appends the customer of the one row q finds for (org, key); true then. */
static bool lookup(store_conn_t *c, const char *q, int64_t org, const char *key, size_t len, buf_t *out)
{
	store_stmt_t *st = store_prepare(c, q);
	bool found = false;
	if (st) {
		store_bind_i64(st, 1, org);
		store_bind_text(st, 2, key ? key : "", len);
		if (store_step(st) == STORE_ROW) {
			size_t n;
			const char *cu = store_col_text(st, 0, &n);
			buf_put(out, cu, n);
			found = true;
		}
		store_reset(st);
	}
	return found;
}

alias_kind alias_of(store_conn_t *c, int64_t org, const char *payer, size_t len, const char *account, size_t alen,
                    buf_t *out)
{
	static const char *qa = "SELECT customer FROM account_aliases WHERE org = ?1 AND account = ?2 AND customer <> ''";
	static const char *qn = "SELECT customer FROM payer_aliases WHERE org = ?1 AND payer = ?2 AND customer <> ''";
	if (alen && lookup(c, qa, org, account, alen, out))
		return ALIAS_ACCOUNT;
	buf_t norm = BUF_INIT;
	norm_payer(payer, len, &norm);
	bool found = lookup(c, qn, org, norm.p, norm.len, out);
	buf_free(&norm);
	return found ? ALIAS_NAME : ALIAS_NONE;
}

/* Appends the rows of q (org bound) as JSON objects with these keys,
 * comma separated. False on a store error. */
static bool list_rows(store_conn_t *c, const char *q, int64_t org, const char *const *keys, int nkeys, buf_t *out)
{
	store_stmt_t *st = store_prepare(c, q);
	if (!st)
		return false;
	store_bind_i64(st, 1, org);
	store_status rc;
	for (int k = 0; (rc = store_step(st)) == STORE_ROW; k++) {
		buf_puts(out, k ? ",{" : "{");
		for (int i = 0; i < nkeys; i++) {
			size_t n;
			const char *v = store_col_text(st, i, &n);
			buf_printf(out, "%s\"%s\":", i ? "," : "", keys[i]);
			buf_json_str(out, v, n);
		}
		buf_puts(out, "}");
	}
	store_reset(st);
	return rc == STORE_DONE;
}

matcher_status alias_list(store_t *s, int64_t org, buf_t *out, char *err, size_t errlen)
{
	static const char *qn = "SELECT payer, spelling, customer, created_at FROM payer_aliases WHERE org = ?1 "
	                        "ORDER BY payer";
	static const char *qa = "SELECT account, customer, created_at FROM account_aliases WHERE org = ?1 ORDER BY account";
	static const char *const kn[] = {"payer", "spelling", "customer", "created_at"};
	static const char *const ka[] = {"account", "customer", "created_at"};
	store_conn_t *c = store_read_begin(s);
	buf_puts(out, "{\"aliases\":[");
	bool ok = list_rows(c, qn, org, kn, 4, out);
	buf_puts(out, "],\"accounts\":[");
	ok = ok && list_rows(c, qa, org, ka, 3, out);
	buf_puts(out, "]}");
	store_read_end(c);
	if (!ok) {
		snprintf(err, errlen, "listing aliases: the store failed");
		return MATCHER_FAILED;
	}
	return MATCHER_OK;
}

matcher_status alias_remove(store_t *s, int64_t org, const char *payer, size_t len, char *err, size_t errlen)
{
	static const char *qn = "DELETE FROM payer_aliases WHERE org = ?1 AND (payer = ?2 OR payer = ?3)";
	static const char *qa = "DELETE FROM account_aliases WHERE org = ?1 AND (account = ?2 OR account = ?3)";
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return MATCHER_FAILED;
	buf_t norm = BUF_INIT;
	norm_payer(payer, len, &norm);
	char acc[ENTITY_ACCOUNT_MAX];
	size_t al = entity_norm_account(payer, len, acc, sizeof acc);
	const char *q[2] = {qn, qa};
	const char *alt[2] = {norm.p ? norm.p : "", acc};
	size_t altlen[2] = {norm.len, al};
	store_status rc = STORE_DONE;
	int64_t n = 0;
	for (int i = 0; i < 2 && rc == STORE_DONE; i++) {
		store_stmt_t *st = store_prepare(w, q[i]);
		store_bind_i64(st, 1, org);
		store_bind_text(st, 2, payer, len);
		store_bind_text(st, 3, alt[i], altlen[i]);
		rc = store_step(st);
		store_reset(st);
		n += rc == STORE_DONE ? store_changes(w) : 0;
	}
	buf_free(&norm);
	if (rc != STORE_DONE || n == 0) {
		store_write_rollback(w);
		if (rc != STORE_DONE) {
			snprintf(err, errlen, "forgetting the alias: the store failed");
			return MATCHER_FAILED;
		}
		snprintf(err, errlen, "no alias for payer or account '%.*s'", (int)(len > 80 ? 80 : len), payer);
		return MATCHER_NOT_FOUND;
	}
	/* Allocations' version: cached matcher results may have used it. */
	store_write_touch(w, org, TBL_BIT(TBL_ALLOCATIONS));
	return store_write_commit(w, err, errlen) == 0 ? MATCHER_OK : MATCHER_FAILED;
}
