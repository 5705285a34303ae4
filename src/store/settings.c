#include "store/settings.h"

#include <stdio.h>
#include <string.h>

#include "core/currency.h"

bool settings_get(store_conn_t *c, int64_t org, org_settings *out)
{
	static const char *q = "SELECT currency, opening_balance FROM orgs WHERE id = ?";
	store_stmt_t *st = store_prepare(c, q);
	if (!st)
		return false;
	store_bind_i64(st, 1, org);
	bool ok = store_step(st) == STORE_ROW;
	if (ok) {
		size_t len;
		const char *cur = store_col_text(st, 0, &len);
		/* A code written before validation existed falls back to the
		 * default rather than breaking every view. */
		if (!currency_canon(cur, len, out->currency))
			memcpy(out->currency, CURRENCY_DEFAULT, 4);
		out->minor = currency_minor(out->currency, 3);
		out->opening_balance = store_col_i64(st, 1);
	}
	store_reset(st);
	return ok;
}

/* Rows whose amounts are in the org's currency (anything with money). */
static int64_t count_rows(store_conn_t *w, int64_t org, const char *sql)
{
	store_stmt_t *st = store_prepare(w, sql);
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	int64_t n = store_step(st) == STORE_ROW ? store_col_i64(st, 0) : -1;
	store_reset(st);
	return n;
}

int64_t settings_money_rows(store_conn_t *c, int64_t org)
{
	static const char *has_rows =
		"SELECT (SELECT count(*) FROM costs WHERE org = ?1) + (SELECT count(*) FROM sales_orders WHERE org = ?1)"
		" + (SELECT count(*) FROM invoices WHERE org = ?1) + (SELECT count(*) FROM payments WHERE org = ?1)"
		" + (SELECT count(*) FROM leads WHERE org = ?1 AND value IS NOT NULL)";
	return count_rows(c, org, has_rows);
}

settings_status settings_update(store_conn_t *w, int64_t org, const char *currency, const int64_t *opening,
                                bool force, char *why, size_t whylen)
{
	org_settings cur;
	if (!settings_get(w, org, &cur)) {
		snprintf(why, whylen, "no such organisation");
		return SETTINGS_INVALID;
	}
	char code[4];
	memcpy(code, cur.currency, 4);
	if (currency && !currency_canon(currency, strlen(currency), code)) {
		snprintf(why, whylen, "'%.16s' is not an ISO 4217 currency code (e.g. USD, EUR, JPY)", currency);
		return SETTINGS_INVALID;
	}
	if (strcmp(code, cur.currency) != 0) {
		static const char *in_new =
			"SELECT (SELECT count(*) FROM invoices WHERE org = ?1 AND currency = ?2)"
			" + (SELECT count(*) FROM payments WHERE org = ?1 AND currency = ?2)";
		int64_t n = settings_money_rows(w, org);
		if (n < 0)
			goto store_fail;
		bool stale_opening = !opening && cur.opening_balance != 0;
		if ((n > 0 || stale_opening) && !force) {
			snprintf(why, whylen,
			         "the organisation already holds %lld rows%s in %s: their stored minor units would change "
			         "meaning; change it deliberately with force (--force) if they were imported in the wrong "
			         "currency",
			         (long long)n, stale_opening ? " and an opening balance" : "", cur.currency);
			return SETTINGS_CONFLICT;
		}
		store_stmt_t *st = store_prepare(w, in_new);
		if (!st)
			goto store_fail;
		store_bind_i64(st, 1, org);
		store_bind_text(st, 2, code, 3);
		n = store_step(st) == STORE_ROW ? store_col_i64(st, 0) : -1;
		store_reset(st);
		if (n < 0)
			goto store_fail;
		if (n > 0) {
			snprintf(why, whylen,
			         "%lld invoices and payments are stored in %s as a foreign currency: re-import them (or "
			         "delete them) before making %s the organisation's currency",
			         (long long)n, code, code);
			return SETTINGS_CONFLICT;
		}
	}
	static const char *upd = "UPDATE orgs SET currency = ?2, opening_balance = ?3 WHERE id = ?1";
	store_stmt_t *st = store_prepare(w, upd);
	if (!st)
		goto store_fail;
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, code, 3);
	store_bind_i64(st, 3, opening ? *opening : cur.opening_balance);
	store_status rc = store_step(st);
	store_reset(st);
	if (rc != STORE_DONE)
		goto store_fail;
	store_write_touch(w, org, TBL_BIT(TBL_SETTINGS));
	return SETTINGS_OK;
store_fail:
	snprintf(why, whylen, "store error: %s", store_errmsg(w));
	return SETTINGS_STORE;
}
