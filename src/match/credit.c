#include "match/credit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define CREDIT_LEFT                                                                                           \
	"p.amount - coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.payment = p.rid "                 \
	"AND a.state IN ('applied', 'confirmed', 'manual')), 0)"
/* A payment whose own match is gone (rejected, or the payment replaced)
 * holds no credit, whatever payment_credits says. */
#define CREDIT_HELD                                                                                           \
	" AND EXISTS (SELECT 1 FROM allocations a WHERE a.payment = p.rid "                                     \
	"AND a.state IN ('applied', 'confirmed', 'manual') AND a.rule <> 'credit')"

int credit_load(store_conn_t *c, int64_t org, const blocking_t *b, credit_set *cs, char *err, size_t errlen)
{
	static const char *q = "SELECT p.rid, " CREDIT_LEFT ", p.date, p.currency, i.customer FROM payment_credits k "
	                       "JOIN payments p ON p.rid = k.payment JOIN invoices i ON i.rid = k.invoice "
	                       "WHERE k.org = ?1" CREDIT_HELD " ORDER BY p.date, p.rid";
	memset(cs, 0, sizeof *cs);
	store_stmt_t *st = store_prepare(c, q);
	if (!st) {
		snprintf(err, errlen, "loading credits: %s", store_errmsg(c));
		return -1;
	}
	store_bind_i64(st, 1, org);
	size_t cap = 0;
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		int64_t left = store_col_i64(st, 1);
		size_t n, cl;
		const char *cust = store_col_text(st, 4, &n);
		uint32_t k = left > 0 ? blocking_find_customer(b, cust, n) : BLOCKING_NONE;
		if (k == BLOCKING_NONE)
			continue; /* spent, or nothing of that customer is open */
		if (cs->n == cap) {
			cap = cap ? cap * 2 : 64;
			cs->c = xrealloc(cs->c, cap * sizeof *cs->c);
		}
		credit_item *it = &cs->c[cs->n++];
		it->payment = store_col_i64(st, 0);
		it->left = left;
		it->date = (date_t)store_col_i64(st, 2);
		const char *cur = store_col_text(st, 3, &cl);
		snprintf(it->cur, sizeof it->cur, "%.*s", (int)(cl < 3 ? cl : 3), cur);
		it->cust = k;
	}
	store_reset(st);
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "loading credits: %s", store_errmsg(c));
		credit_free(cs);
		return -1;
	}
	return 0;
}

void credit_decide(blocking_t *b, credit_set *cs)
{
	size_t ninv;
	const blocking_invoice *v = blocking_invoices(b, &ninv);
	for (size_t j = 0; j < cs->n; j++) {
		credit_item *it = &cs->c[j];
		size_t n;
		const uint32_t *ci = blocking_customer_invoices(b, it->cust, &n);
		for (size_t k = 0; k < n && it->left > 0; k++) {
			const blocking_invoice *w = &v[ci[k]];
			if (w->outstanding <= 0 || w->issue < it->date || strncmp(w->cur, it->cur, sizeof w->cur) != 0)
				continue;
			int64_t a = w->outstanding < it->left ? w->outstanding : it->left;
			if (cs->nu == cs->capu) {
				cs->capu = cs->capu ? cs->capu * 2 : 64;
				cs->u = xrealloc(cs->u, cs->capu * sizeof *cs->u);
			}
			cs->u[cs->nu++] = (credit_use){it->payment, ci[k], a, w->issue > it->date ? w->issue : it->date};
			it->left -= a;
			blocking_set_outstanding(b, ci[k], w->outstanding - a);
		}
	}
}

void credit_free(credit_set *cs)
{
	free(cs->c);
	free(cs->u);
	memset(cs, 0, sizeof *cs);
}

int credit_record(store_conn_t *w, int64_t org, int64_t payment, int64_t invoice)
{
	static const char *q = "INSERT INTO payment_credits(org, payment, invoice) VALUES(?1, ?2, ?3) "
	                       "ON CONFLICT(payment) DO UPDATE SET invoice = excluded.invoice";
	store_stmt_t *st = store_prepare(w, q);
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	store_bind_i64(st, 2, payment);
	store_bind_i64(st, 3, invoice);
	store_status rc = store_step(st);
	store_reset(st);
	return rc == STORE_DONE ? 0 : -1;
}

int64_t credit_left(store_conn_t *c, int64_t payment)
{
	static const char *q = "SELECT " CREDIT_LEFT " FROM payment_credits k JOIN payments p ON p.rid = k.payment "
	                       "WHERE k.payment = ?1" CREDIT_HELD;
	store_stmt_t *st = store_prepare(c, q);
	if (!st)
		return -1;
	store_bind_i64(st, 1, payment);
	store_status rc = store_step(st);
	int64_t left = rc == STORE_ROW ? store_col_i64(st, 0) : 0;
	store_reset(st);
	return rc == STORE_ROW || rc == STORE_DONE ? (left > 0 ? left : 0) : -1;
}
