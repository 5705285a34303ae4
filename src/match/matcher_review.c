#include "match/matcher.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/mem.h"
#include "core/money.h"
#include "ingest/entity.h"
#include "match/alias.h"
#include "match/batch.h"
#include "match/blocking.h"
#include "match/credit.h"
#include "match/rules.h"
#include "match/matcher_int.h"

/* Decisions people take: confirm, reject, manual allocation. */


typedef struct {
	int64_t rid, amount;
	date_t date;
	char cur[4]; /* "" the org's currency, else the ISO code */
} payment_row;

static matcher_status begin(store_t *s, writer *wr, char *err, size_t errlen)
{
	wr->err = err;
	wr->errlen = errlen;
	wr->w = store_write_begin(s, err, errlen);
	return wr->w ? MATCHER_OK : MATCHER_FAILED;
}

static matcher_status finish(writer *wr, matcher_status st)
{
	if (st != MATCHER_OK) {
		store_write_rollback(wr->w);
		return st;
	}
	store_write_touch(wr->w, wr->org, TBL_BIT(TBL_ALLOCATIONS) | TBL_BIT(TBL_INVOICES));
	return store_write_commit(wr->w, wr->err, wr->errlen) == 0 ? MATCHER_OK : MATCHER_FAILED;
}

static matcher_status find_payment(writer *wr, const char *id, size_t len, payment_row *p)
{
	static const char *q = "SELECT rid, amount, date, currency FROM payments WHERE org = ?1 AND id = ?2";
	store_stmt_t *st = store_prepare(wr->w, q);
	store_bind_i64(st, 1, wr->org);
	store_bind_text(st, 2, id, len);
	store_status rc = store_step(st);
	if (rc == STORE_ROW) {
		p->rid = store_col_i64(st, 0);
		p->amount = store_col_i64(st, 1);
		p->date = (date_t)store_col_i64(st, 2);
		size_t n;
		const char *c = store_col_text(st, 3, &n);
		snprintf(p->cur, sizeof p->cur, "%.*s", (int)(n < 3 ? n : 3), c);
	}
	store_reset(st);
	if (rc == STORE_ROW)
		return MATCHER_OK;
	if (rc == STORE_DONE) {
		snprintf(wr->err, wr->errlen, "unknown payment '%.*s'", (int)(len > 80 ? 80 : len), id);
		return MATCHER_NOT_FOUND;
	}
	matcher_fail_store(wr, "finding the payment");
	return MATCHER_FAILED;
}

static matcher_status refresh(writer *wr, int64_t invoice)
{
	if (entity_invoice_refresh(wr->w, invoice) == 0)
		return MATCHER_OK;
	matcher_fail_store(wr, "refreshing the invoice");
	return MATCHER_FAILED;
}

static void money_str(int64_t cents, char *buf)
{
	money_format(cents, buf);
}

matcher_status matcher_confirm(store_t *s, int64_t org, const char *payment_id, size_t len, char *err,
                               size_t errlen)
{
	/* A proposal is one decision: one invoice, or the set of a payment
	 * for several; confirming takes all of it. */
	static const char *q = "SELECT a.rid, a.invoice, a.amount + a.writeoff, i.outstanding, i.status, i.id, a.amount "
	                       "FROM allocations a JOIN invoices i ON i.rid = a.invoice "
	                       "WHERE a.payment = ?1 AND a.state = 'proposed' ORDER BY a.rid LIMIT 64";
	static const char *upd = "UPDATE allocations SET state = 'confirmed' WHERE payment = ?1 AND state = 'proposed'";
	writer wr = {.org = org};
	payment_row p;
	matcher_status st = begin(s, &wr, err, errlen);
	if (st != MATCHER_OK)
		return st;
	if ((st = find_payment(&wr, payment_id, len, &p)) != MATCHER_OK)
		return finish(&wr, st);
	store_stmt_t *sel = store_prepare(wr.w, q);
	store_bind_i64(sel, 1, p.rid);
	int64_t inv[64], cash = 0;
	size_t n = 0;
	bool full = true;
	store_status rc;
	while ((rc = store_step(sel)) == STORE_ROW && n < 64) {
		int64_t settles = store_col_i64(sel, 2), outstanding = store_col_i64(sel, 3);
		size_t sl, il;
		const char *status = store_col_text(sel, 4, &sl);
		const char *iid = store_col_text(sel, 5, &il);
		bool is_void = sl == 4 && !memcmp(status, "void", 4);
		if (is_void || settles > outstanding) {
			char a[MONEY_BUFSZ], b[MONEY_BUFSZ];
			money_str(settles, a);
			money_str(outstanding, b);
			if (is_void)
				snprintf(err, errlen, "invoice '%.*s' is void", (int)(il > 80 ? 80 : il), iid);
			else
				snprintf(err, errlen, "invoice '%.*s' has %s outstanding, less than the %s proposed",
				         (int)(il > 80 ? 80 : il), iid, b, a);
			store_reset(sel);
			return finish(&wr, MATCHER_CONFLICT);
		}
		full = full && settles == outstanding;
		cash += store_col_i64(sel, 6);
		inv[n++] = store_col_i64(sel, 1);
	}
	store_reset(sel);
	if (rc != STORE_DONE && rc != STORE_ROW)
		return finish(&wr, (matcher_fail_store(&wr, "finding the proposal"), MATCHER_FAILED));
	if (n == 0) {
		snprintf(err, errlen, "payment '%.*s' has no proposed match to confirm", (int)(len > 80 ? 80 : len),
		         payment_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	store_stmt_t *u = store_prepare(wr.w, upd);
	store_bind_i64(u, 1, p.rid);
	rc = store_step(u);
	store_reset(u);
	if (rc != STORE_DONE)
		return finish(&wr, (matcher_fail_store(&wr, "confirming"), MATCHER_FAILED));
	for (size_t i = 0; i < n && st == MATCHER_OK; i++)
		st = refresh(&wr, inv[i]);
	/* A person said this payer is this customer; an overpayment's rest is
	 * the customer's credit. */
	if (st == MATCHER_OK && alias_learn(wr.w, org, p.rid, inv[0]) != 0)
		st = (matcher_fail_store(&wr, "learning the payer's alias"), MATCHER_FAILED);
	if (st == MATCHER_OK && full && cash < p.amount && credit_record(wr.w, org, p.rid, inv[n - 1]) != 0)
		st = (matcher_fail_store(&wr, "storing the credit"), MATCHER_FAILED);
	return finish(&wr, st);
}

matcher_status matcher_reject(store_t *s, int64_t org, const char *payment_id, size_t len, char *err,
                              size_t errlen)
{
	static const char *sel = "SELECT DISTINCT invoice FROM allocations WHERE payment = ?1 AND state <> 'rejected'";
	static const char *upd = "UPDATE allocations SET state = 'rejected' WHERE payment = ?1 AND state <> 'rejected'";
	writer wr = {.org = org};
	payment_row p;
	matcher_status st = begin(s, &wr, err, errlen);
	if (st != MATCHER_OK)
		return st;
	if ((st = find_payment(&wr, payment_id, len, &p)) != MATCHER_OK)
		return finish(&wr, st);
	int64_t inv[64];
	size_t n = 0;
	store_stmt_t *q = store_prepare(wr.w, sel);
	store_bind_i64(q, 1, p.rid);
	store_status rc;
	while ((rc = store_step(q)) == STORE_ROW && n < 64)
		inv[n++] = store_col_i64(q, 0);
	store_reset(q);
	if (rc != STORE_DONE && rc != STORE_ROW)
		return finish(&wr, (matcher_fail_store(&wr, "finding the match"), MATCHER_FAILED));
	if (n == 0) {
		snprintf(err, errlen, "payment '%.*s' has no match to reject", (int)(len > 80 ? 80 : len), payment_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	/* A rejected payment holds no credit any more (match/credit.h). */
	const char *const stmts[] = {upd, "DELETE FROM payment_credits WHERE payment = ?1"};
	for (int k = 0; k < 2; k++) {
		q = store_prepare(wr.w, stmts[k]);
		store_bind_i64(q, 1, p.rid);
		rc = store_step(q);
		store_reset(q);
		if (rc != STORE_DONE)
			return finish(&wr, (matcher_fail_store(&wr, "rejecting"), MATCHER_FAILED));
	}
	for (size_t i = 0; i < n && st == MATCHER_OK; i++)
		st = refresh(&wr, inv[i]);
	return finish(&wr, st);
}

matcher_status matcher_manual(store_t *s, int64_t org, const char *payment_id, size_t plen, const char *invoice_id,
                              size_t ilen, int64_t amount, char *err, size_t errlen)
{
	static const char *qi = "SELECT rid, outstanding, status, currency FROM invoices WHERE org = ?1 AND id = ?2";
	static const char *qa = "SELECT coalesce(sum(amount), 0) FROM allocations "
	                        "WHERE payment = ?1 AND state IN ('applied', 'confirmed', 'manual')";
	int ip = (int)(plen > 80 ? 80 : plen), ii = (int)(ilen > 80 ? 80 : ilen);
	if (amount < 0) {
		snprintf(err, errlen, "the amount must be positive (or 0 for what is left of the payment)");
		return MATCHER_INVALID;
	}
	writer wr = {.org = org};
	payment_row p;
	matcher_status st = begin(s, &wr, err, errlen);
	if (st != MATCHER_OK)
		return st;
	if ((st = find_payment(&wr, payment_id, plen, &p)) != MATCHER_OK)
		return finish(&wr, st);
	store_stmt_t *q = store_prepare(wr.w, qi);
	store_bind_i64(q, 1, org);
	store_bind_text(q, 2, invoice_id, ilen);
	store_status rc = store_step(q);
	int64_t inv = 0, outstanding = 0;
	bool is_void = false, other_cur = false;
	if (rc == STORE_ROW) {
		size_t sl, cl;
		const char *status = store_col_text(q, 2, &sl);
		const char *cur = store_col_text(q, 3, &cl);
		inv = store_col_i64(q, 0);
		outstanding = store_col_i64(q, 1);
		is_void = sl == 4 && !memcmp(status, "void", 4);
		other_cur = cl != strlen(p.cur) || memcmp(cur, p.cur, cl) != 0;
	}
	store_reset(q);
	if (rc == STORE_DONE) {
		snprintf(err, errlen, "unknown invoice '%.*s'", ii, invoice_id);
		return finish(&wr, MATCHER_NOT_FOUND);
	}
	if (rc != STORE_ROW)
		return finish(&wr, (matcher_fail_store(&wr, "finding the invoice"), MATCHER_FAILED));
	if (is_void) {
		snprintf(err, errlen, "invoice '%.*s' is void", ii, invoice_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	if (other_cur) {
		/* Amounts in two currencies cannot settle each other. */
		snprintf(err, errlen, "invoice '%.*s' and payment '%.*s' are in different currencies", ii, invoice_id, ip,
		         payment_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	q = store_prepare(wr.w, qa);
	store_bind_i64(q, 1, p.rid);
	if (store_step(q) != STORE_ROW) {
		store_reset(q);
		return finish(&wr, (matcher_fail_store(&wr, "summing the payment's allocations"), MATCHER_FAILED));
	}
	int64_t left = p.amount - store_col_i64(q, 0);
	store_reset(q);
	if (amount == 0)
		amount = left;
	char a[MONEY_BUFSZ], b[MONEY_BUFSZ];
	money_str(amount, a);
	if (left <= 0) {
		snprintf(err, errlen, "payment '%.*s' is already fully allocated", ip, payment_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	if (amount > left) {
		money_str(left, b);
		snprintf(err, errlen, "amount %s exceeds the %s left of payment '%.*s'", a, b, ip, payment_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	if (amount > outstanding) {
		money_str(outstanding, b);
		snprintf(err, errlen, "amount %s exceeds the %s outstanding on invoice '%.*s'", a, b, ii, invoice_id);
		return finish(&wr, MATCHER_CONFLICT);
	}
	if (matcher_drop_proposals(&wr, p.rid) != 0 ||
	    matcher_insert_alloc(&wr, p.rid, inv, amount, p.date, SCORE_RULE_MANUAL, 1.0, "manual", 0, 0) != 0)
		return finish(&wr, MATCHER_FAILED);
	if (alias_learn(wr.w, org, p.rid, inv) != 0)
		return finish(&wr, (matcher_fail_store(&wr, "learning the payer's alias"), MATCHER_FAILED));
	return finish(&wr, refresh(&wr, inv));
}
