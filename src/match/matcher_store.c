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

/* The store phase of a run: see the DESIGN note of matcher.c. */

int matcher_fail_store(writer *wr, const char *what)
{
	snprintf(wr->err, wr->errlen, "%s: %s", what, store_errmsg(wr->w));
	return -1;
}

int matcher_drop_proposals(writer *wr, int64_t payment)
{
	static const char *q = "DELETE FROM allocations WHERE payment = ?1 AND state = 'proposed'";
	store_stmt_t *st = store_prepare(wr->w, q);
	store_bind_i64(st, 1, payment);
	store_status rc = store_step(st);
	store_reset(st);
	return rc == STORE_DONE ? 0 : matcher_fail_store(wr, "removing a proposal");
}

/* DESIGN (store phase)
 * A run writes an allocation per settled payment and rewrites every
 * invoice it paid: at a million payments, a statement per row is most of
 * the run. Allocations wait in a buffer and go in ROWS at a time through
 * one many-row INSERT (a tail in TAIL-row statements, then row by row);
 * the invoices' new amounts are the ones settling computed in memory
 * (blocking_set_outstanding: the same sum of allocations and write-offs
 * the store would add up), written ROWS at a time by one UPDATE ... FROM
 * (VALUES ...), in rid order so that the table and its indexes are walked
 * forwards. Both statements are plain SQL both backends read (dialect.c
 * numbers the ?). ROWS is large because on PostgreSQL each statement is a
 * round trip and fires the invoices' statement triggers (open_recv): at
 * 64 rows a 150k-payment run spent most of its store phase waiting on
 * 4,700 round trips; at 512 it makes 600. Not more: libpq (15) refuses
 * a statement's parameter description over 30,000 bytes (7,500
 * parameters; the insert binds 10 a row). PostgreSQL still reaches every
 * invoice by its key at that size (the rids are sorted). */

#define ROWS 512          /* rows per many-row statement */
#define TAIL 32           /* rows per statement of what is left */
#define ALLOC_COLS 10
#define ALLOC_SQL "INSERT INTO allocations(org, payment, invoice, amount, pay_date, rule, confidence, state, " \
                  "writeoff, writeoff_reason) VALUES"
#define ALLOC_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
/* An invoice's amounts from its new outstanding (v.column2): what
 * entity_invoice_refresh computes from the allocations. */
#define REFRESH_SQL "UPDATE invoices SET outstanding = v.column2, status = CASE WHEN status = 'void' THEN 'void' " \
                    "WHEN v.column2 >= amount THEN 'open' WHEN v.column2 <= 0 THEN 'paid' ELSE 'partial' END " \
                    "FROM (VALUES"
#define REFRESH_ROW "(CAST(? AS BIGINT), CAST(? AS BIGINT))"
#define REFRESH_END ") AS v WHERE invoices.rid = v.column1"

typedef struct {
	int64_t payment, invoice, amount, writeoff;
	date_t day;
	float conf;
	uint8_t rule, reason;
	bool applied;
} pend_row;

struct alloc_pend {
	pend_row r[ROWS];
	size_t n;
};

/* The statements of ROWS, TAIL and 1 row, built once: the statement
 * cache is keyed by the text's address. */
static const size_t sizes[] = {ROWS, TAIL, 1};
#define NSIZES (sizeof sizes / sizeof sizes[0])
static char *alloc_sql[NSIZES], *refresh_sql[NSIZES];
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;

static char *many(const char *head, const char *row, size_t n, const char *end)
{
	size_t hl = strlen(head), rl = strlen(row), el = strlen(end);
	char *s = xmalloc(hl + n * (rl + 1) + el + 1), *p = s;
	memcpy(p, head, hl);
	p += hl;
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		memcpy(p, row, rl);
		p += rl;
	}
	memcpy(p, end, el + 1);
	return s;
}

/* Kept for the process's life (the statement cache holds the texts). */
static void build_sql(void)
{
	for (size_t k = 0; k < NSIZES; k++) {
		alloc_sql[k] = many(ALLOC_SQL, ALLOC_ROW, sizes[k], "");
		refresh_sql[k] = many(REFRESH_SQL, REFRESH_ROW, sizes[k], REFRESH_END);
	}
}

/* The largest statement size that n rows fill (index into sizes). */
static size_t size_for(size_t n)
{
	size_t k = 0;
	while (sizes[k] > n)
		k++;
	return k;
}

/* Binds row r's ten columns from parameter base + 1 on. */
static void bind_alloc(store_stmt_t *st, int base, int64_t org, const pend_row *r)
{
	const char *rn = score_rule_name(r->rule), *why = batch_reason_name(r->reason);
	const char *state = r->applied ? "applied" : "proposed";
	store_bind_i64(st, base + 1, org);
	store_bind_i64(st, base + 2, r->payment);
	store_bind_i64(st, base + 3, r->invoice);
	store_bind_i64(st, base + 4, r->amount);
	store_bind_i64(st, base + 5, r->day);
	store_bind_text(st, base + 6, rn, strlen(rn));
	/* Decisions hold a float; store the 3 decimals it stands for. */
	store_bind_double(st, base + 7, round((double)r->conf * 1000) / 1000);
	store_bind_text(st, base + 8, state, strlen(state));
	store_bind_i64(st, base + 9, r->writeoff);
	store_bind_text(st, base + 10, why, strlen(why));
}

/* Inserts rows[0..n) through the statement sql holding n rows. */
static int insert_rows(writer *wr, const char *sql, const pend_row *rows, size_t n)
{
	store_stmt_t *st = store_prepare(wr->w, sql);
	if (!st)
		return matcher_fail_store(wr, "preparing the allocations' insert");
	for (size_t i = 0; i < n; i++)
		bind_alloc(st, (int)i * ALLOC_COLS, wr->org, &rows[i]);
	store_status rc = store_step(st);
	store_reset(st);
	return rc == STORE_DONE ? 0 : matcher_fail_store(wr, "storing an allocation");
}

/* Writes the queued rows in as few statements as their count allows. */
static int flush_pend(writer *wr)
{
	alloc_pend *p = wr->pend;
	int rc = 0;
	for (size_t i = 0; i < p->n && rc == 0;) {
		size_t k = size_for(p->n - i);
		rc = insert_rows(wr, alloc_sql[k], &p->r[i], sizes[k]);
		i += sizes[k];
	}
	p->n = 0;
	return rc;
}

int matcher_insert_alloc(writer *wr, int64_t payment, int64_t invoice, int64_t amount, date_t day, int rule,
                        double conf, const char *state, int64_t writeoff, int reason)
{
	pend_row r = {payment, invoice, amount, writeoff, day, (float)conf, (uint8_t)rule, (uint8_t)reason,
	              !strcmp(state, "applied")};
	if (strcmp(state, "applied") != 0 && strcmp(state, "proposed") != 0) {
		/* Review decisions (confirmed, manual) are single rows anyway. */
		static const char *q = "INSERT INTO allocations(org, payment, invoice, amount, pay_date, rule, confidence, "
		                       "state, writeoff, writeoff_reason) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
		store_stmt_t *st = store_prepare(wr->w, q);
		bind_alloc(st, 0, wr->org, &r);
		store_bind_text(st, 8, state, strlen(state));
		store_status rc = store_step(st);
		store_reset(st);
		return rc == STORE_DONE ? 0 : matcher_fail_store(wr, "storing an allocation");
	}
	pthread_once(&sql_once, build_sql);
	if (!wr->pend)
		return insert_rows(wr, alloc_sql[NSIZES - 1], &r, 1);
	wr->pend->r[wr->pend->n++] = r;
	return wr->pend->n == ROWS ? flush_pend(wr) : 0;
}

typedef struct {
	int64_t rid, outstanding;
} inv_amount;

static int cmp_rid(const void *a, const void *b)
{
	int64_t x = ((const inv_amount *)a)->rid, y = ((const inv_amount *)b)->rid;
	return (x > y) - (x < y);
}

/* Sets the touched invoices' outstanding amounts and statuses to what
 * settling left in b. */
static int refresh_invoices(const blocking_t *b, const uint8_t *touched, writer *wr)
{
	size_t ninv, n = 0;
	const blocking_invoice *inv = blocking_invoices(b, &ninv);
	for (size_t k = 0; k < ninv; k++)
		n += touched[k];
	inv_amount *v = xmalloc((n ? n : 1) * sizeof *v);
	n = 0;
	for (size_t k = 0; k < ninv; k++)
		if (touched[k])
			v[n++] = (inv_amount){inv[k].rid, inv[k].outstanding};
	qsort(v, n, sizeof *v, cmp_rid);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0;) {
		size_t m = sizes[size_for(n - i)];
		store_stmt_t *st = store_prepare(wr->w, refresh_sql[size_for(n - i)]);
		if (!st) {
			rc = matcher_fail_store(wr, "preparing the invoices' update");
			break;
		}
		for (size_t j = 0; j < m; j++) {
			store_bind_i64(st, (int)(2 * j + 1), v[i + j].rid);
			store_bind_i64(st, (int)(2 * j + 2), v[i + j].outstanding);
		}
		if (store_step(st) != STORE_DONE)
			rc = matcher_fail_store(wr, "refreshing an invoice");
		store_reset(st);
		i += m;
	}
	free(v);
	return rc;
}

/* Stores entry e's allocations (several invoices, a write-off) and the
 * credit an applied overpayment leaves, and reports each allocation. */
static int store_entry(const blocking_t *b, const matcher_opts *o, const batch_set *bs, const decision *d,
                       const blocking_payment *p, writer *wr, uint8_t *touched)
{
	size_t ninv;
	const blocking_invoice *inv = blocking_invoices(b, &ninv);
	const batch_entry *e = &bs->e[d->entry - 1];
	const char *state = d->verdict == SCORE_APPLIED ? "applied" : "proposed";
	int rc = 0;
	for (uint32_t k = e->first; k < e->first + e->n && rc == 0; k++) {
		const batch_alloc *a = &bs->a[k];
		if (d->verdict == SCORE_APPLIED)
			touched[a->inv] = 1;
		if (wr->w)
			rc = matcher_insert_alloc(wr, p->rid, inv[a->inv].rid, a->amount, p->date, d->rule, d->conf, state,
			                  a->writeoff, a->writeoff ? e->reason : 0);
		if (o->on_decision) {
			matcher_decision md = {
				.payment_id = p->id,
				.payment_id_len = p->id_len,
				.invoice_id = inv[a->inv].id,
				.invoice_id_len = inv[a->inv].id_len,
				.amount = a->amount,
				.rule = d->rule,
				.confidence = d->conf,
				.verdict = (score_verdict)d->verdict,
			};
			o->on_decision(o->decision_ud, &md);
		}
	}
	if (rc == 0 && wr->w && e->credit > 0 && d->verdict == SCORE_APPLIED &&
	    credit_record(wr->w, wr->org, p->rid, inv[bs->a[e->first + e->n - 1].inv].rid) != 0)
		rc = matcher_fail_store(wr, "storing a credit");
	return rc;
}

/* Stores the settled decisions in payment date order and reports them;
 * wr->w NULL = dry run. */
int matcher_apply(const blocking_t *b, const matcher_opts *o, const batch_set *bs, const credit_set *cs,
                 const decision *dec, writer *wr, matcher_result *res, uint64_t total)
{
	size_t ninv, npay;
	const blocking_invoice *inv = blocking_invoices(b, &ninv);
	const blocking_payment *pay = blocking_payments(b, &npay);
	uint8_t *touched = xcalloc(ninv ? ninv : 1, 1);
	alloc_pend *pend = wr->w ? xmalloc(sizeof *pend) : NULL;
	if (pend)
		pend->n = 0;
	wr->pend = pend;
	int rc = 0;
	double last = clock_now_s();
	for (size_t i = 0; i < npay && rc == 0; i++) {
		const blocking_payment *p = &pay[i];
		const decision *d = &dec[i];
		if ((i & 4095) == 0) {
			if (matcher_cancelled(o)) {
				snprintf(wr->err, wr->errlen, "cancelled; nothing was stored");
				rc = -1;
				break;
			}
			double t = clock_now_s();
			if (o->progress && t - last >= 0.1) {
				o->progress(o->progress_ud, npay + i, total);
				last = t;
			}
		}
		const blocking_invoice *v = d->verdict != SCORE_UNMATCHED ? &inv[d->inv] : NULL;
		res->applied += d->verdict == SCORE_APPLIED;
		res->proposed += d->verdict == SCORE_PROPOSED;
		res->unmatched += d->verdict == SCORE_UNMATCHED;
		if (v && d->entry) {
			const batch_entry *e = &bs->e[d->entry - 1];
			uint64_t sig = 0;
			for (uint32_t k = e->first; k < e->first + e->n; k++)
				sig += blocking_alloc_sig(inv[bs->a[k].inv].rid, bs->a[k].amount);
			/* The same proposal as before: nothing to write (a re-run changes nothing). */
			bool keep = d->verdict == SCORE_PROPOSED && p->prop_n == e->n && p->prop_sig == sig &&
			            p->prop_rule == d->rule && fabs(p->prop_conf - d->conf) < 5e-4;
			if (wr->w && p->prop_rid && !keep) {
				rc = matcher_drop_proposals(wr, p->rid);
				res->changed++;
			}
			if (rc == 0 && !keep) {
				rc = store_entry(b, o, bs, d, p, wr, touched);
				res->changed += e->n;
			} else if (rc == 0 && o->on_decision) {
				store_entry(b, o, bs, d, p, &(writer){.org = wr->org}, touched); /* report only */
			}
			continue;
		}
		if (d->verdict == SCORE_APPLIED)
			touched[d->inv] = 1;
		if (wr->w) {
			bool keep = p->prop_rid > 0 && d->verdict == SCORE_PROPOSED && p->prop_inv == v->rid &&
			            p->prop_rule == d->rule && fabs(p->prop_conf - d->conf) < 5e-4;
			if (p->prop_rid && !keep) {
				rc = matcher_drop_proposals(wr, p->rid);
				res->changed++;
			}
			if (rc == 0 && v && !keep) {
				rc = matcher_insert_alloc(wr, p->rid, v->rid, p->amount, p->date, d->rule, d->conf,
				                  d->verdict == SCORE_APPLIED ? "applied" : "proposed", 0, 0);
				res->changed++;
			}
		}
		if (o->on_decision) {
			matcher_decision md = {
				.payment_id = p->id,
				.payment_id_len = p->id_len,
				.invoice_id = v ? v->id : NULL,
				.invoice_id_len = v ? v->id_len : 0,
				.amount = v ? p->amount : 0,
				.rule = v ? d->rule : SCORE_RULE_NONE,
				.confidence = d->conf,
				.verdict = (score_verdict)d->verdict,
			};
			o->on_decision(o->decision_ud, &md);
		}
	}
	/* Credits go after the payments: they cover what is left unpaid. */
	for (size_t k = 0; k < cs->nu && rc == 0; k++) {
		const credit_use *u = &cs->u[k];
		touched[u->inv] = 1;
		res->changed++;
		if (wr->w)
			rc = matcher_insert_alloc(wr, u->payment, inv[u->inv].rid, u->amount, u->date, SCORE_RULE_CREDIT, 1.0,
			                  "applied", 0, 0);
	}
	if (rc == 0 && wr->w && wr->pend)
		rc = flush_pend(wr);
	if (rc == 0 && wr->w) {
		pthread_once(&sql_once, build_sql);
		rc = refresh_invoices(b, touched, wr);
	}
	wr->pend = NULL;
	free(pend);
	free(touched);
	return rc;
}
