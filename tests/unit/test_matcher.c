/* Tests of src/match/matcher.c, score.c, blocking.c and explain.c: small
 * hand-made data sets, one per rule and per situation (partial payments,
 * ties, unrelated payments, re-runs, a person's decisions), imported into a
 * store in a temporary directory and checked with plain SQL (helpers.h);
 * then a generated data set against its ground truth. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "helpers.h"
#include "ingest/gen.h"
#include "match/explain.h"
#include "match/matcher.h"
#include "match/score.h"

#define INV_HEAD "id,number,customer,customer_id,issue_date,due_date,amount,status\n"
#define PAY_HEAD "id,date,payer,amount,reference,customer_id\n"

/* Three customers, invoices issued 2025-03-01, due 2025-03-31. */
#define INVOICES                                                                              \
	INV_HEAD "IV1,INV-2025-000123,Penang Trading Sdn Bhd,C1,2025-03-01,2025-03-31,1000.00,open\n" \
	         "IV2,INV-2025-000456,Acme Logistics Ltd,C2,2025-03-01,2025-03-31,250.75,open\n"      \
	         "IV3,INV-2025-000789,Golden Bakery,C3,2025-03-01,2025-03-31,99.99,open\n"

static store_fx fx;
static char err[512];
static matcher_result res;

static void setup(void)
{
	store_fx_open(&fx, "acme");
}

static void teardown(void)
{
	store_fx_close(&fx);
}

TestSuite(matcher, .init = setup, .fini = teardown);

/* ---- helpers ---- */

static void load(entity_kind k, const char *csv)
{
	import_opts o = fx_opts(&fx, k);
	import_result ir;
	cr_assert_eq(fx_import(&fx, &o, csv, strlen(csv), &ir, err, sizeof err), 0, "import: %s", err);
	cr_assert_eq(ir.rejected, 0, "rejected: %s", ir.nkept ? ir.kept[0].reason : "?");
}

static void run_with(matcher_opts *o)
{
	cr_assert_eq(matcher_run(fx.store, fx.org, o, &res, err, sizeof err), 0, "matcher_run: %s", err);
}

static void run(void)
{
	matcher_opts o;
	matcher_opts_init(&o);
	o.threads = 2;
	run_with(&o);
}

/* "invoice|state|rule" of payment pid's allocations, or "" when none. */
static char *alloc_of(const char *pid)
{
	char sql[512];
	snprintf(sql, sizeof sql,
	         "SELECT i.id, a.state, a.rule, a.amount FROM allocations a JOIN payments p ON p.rid = a.payment "
	         "JOIN invoices i ON i.rid = a.invoice WHERE p.id = '%s' ORDER BY a.rid",
	         pid);
	return db_text(&fx, sql);
}

static void expect_alloc(const char *pid, const char *want)
{
	char *got = alloc_of(pid);
	cr_expect_str_eq(got, want, "payment %s", pid);
	free(got);
}

/* "status|outstanding" of invoice iid. */
static void expect_invoice(const char *iid, const char *want)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT status, outstanding FROM invoices WHERE id = '%s'", iid);
	char *got = db_text(&fx, sql);
	cr_expect_str_eq(got, want, "invoice %s", iid);
	free(got);
}

static double confidence_of(const char *pid)
{
	char sql[256];
	snprintf(sql, sizeof sql,
	         "SELECT CAST(a.confidence * 1000 AS INTEGER) FROM allocations a JOIN payments p ON p.rid = a.payment "
	         "WHERE p.id = '%s'",
	         pid);
	return (double)db_i64(&fx, sql) / 1000;
}

/* ---- the rules ---- */

Test(matcher, rule1_reference_exact)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-03-20,PENANG TRADING SDN BHD,1000.00,Payment for inv 2025/000123,\n");
	run();
	cr_expect_eq(res.applied, 1);
	expect_alloc("P1", "IV1|applied|reference|100000\n");
	expect_invoice("IV1", "paid|0\n");
	cr_expect_geq(confidence_of("P1"), 0.95);
	cr_expect_eq(db_i64(&fx, "SELECT pay_date FROM allocations"), date_from_ymd(2025, 3, 20));
}

Test(matcher, rule1_payer_disagrees_on_partial_is_only_proposed)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-03-20,Zhang Wei,400.00,INV-2025-000123,\n");
	run();
	cr_expect_eq(res.proposed, 1);
	expect_alloc("P1", "IV1|proposed|reference|40000\n");
	expect_invoice("IV1", "open|100000\n");
}

Test(matcher, rule1_number_inside_a_longer_number_is_not_contained)
{
	load(ENT_INVOICES, INV_HEAD "IV1,INV-1,Penang Trading,,2025-03-01,2025-03-31,10.00,open\n");
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-03-20,Someone Else,5.00,INV-12,\n"
	                            "P2,2025-03-21,Someone Else,5.00,INV 1 and more,\n");
	run();
	expect_alloc("P1", "");
	expect_alloc("P2", "IV1|proposed|reference|500\n");
}

Test(matcher, rule2_fuzzy_reference)
{
	load(ENT_INVOICES, INVOICES);
	/* 000123 mistyped as 000132, amount and customer agree */
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-03-25,Penang Trading S/B,1000.00,IBG INV-2025-000132,\n"
	                            "P2,2025-03-25,ACME LOGISTICS,250.75,inv 2025 000457 thanks,\n");
	run();
	cr_expect_eq(res.applied, 2);
	expect_alloc("P1", "IV1|applied|fuzzy_reference|100000\n");
	expect_alloc("P2", "IV2|applied|fuzzy_reference|25075\n");
	double c = confidence_of("P1");
	cr_expect(c >= 0.85 && c <= 0.95, "confidence %.3f", c);
}

Test(matcher, rule2_needs_the_customer)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-03-25,Unrelated Person,1000.00,INV-2025-000132,\n");
	run();
	cr_expect_eq(res.unmatched, 1);
	expect_alloc("P1", "");
}

Test(matcher, rule3_amount_and_customer)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-04-10,PAYMENT FROM GOLDEN BAKERY,99.99,GIRO,\n"
	                            "P2,2025-03-05,Acme Logistics Limited,250.75,,\n");
	run();
	cr_expect_eq(res.applied, 2);
	expect_alloc("P1", "IV3|applied|amount_customer|9999\n");
	expect_alloc("P2", "IV2|applied|amount_customer|25075\n");
	double c = confidence_of("P1");
	cr_expect(c >= 0.8 && c <= 0.9, "confidence %.3f", c);
}

Test(matcher, rule3_customer_id_stands_for_the_name)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-04-10,J. Smith (director),99.99,,C3\n");
	run();
	expect_alloc("P1", "IV3|applied|amount_customer|9999\n");
}

Test(matcher, rule3_outside_the_date_window)
{
	load(ENT_INVOICES, INVOICES);
	/* window: issue - 7 = 2025-02-22 .. due + 90 = 2025-06-29 */
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-02-21,Golden Bakery,99.99,,\n"
	                            "P2,2025-06-30,Golden Bakery,99.99,,\n"
	                            "P3,2025-06-29,Golden Bakery,99.99,,\n");
	run();
	expect_alloc("P1", "");
	expect_alloc("P2", "");
	expect_alloc("P3", "IV3|applied|amount_customer|9999\n");
}

Test(matcher, rule3_name_below_threshold)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-04-10,Golden Gate Motors,99.99,,\n");
	run();
	expect_alloc("P1", "");
}

Test(matcher, thresholds_are_configurable)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-04-10,Golden Bakery,99.99,,\n");
	matcher_opts o;
	matcher_opts_init(&o);
	o.score.auto_threshold = 0.95;
	run_with(&o);
	cr_expect_eq(res.proposed, 1);
	expect_alloc("P1", "IV3|proposed|amount_customer|9999\n");
	o.score.review_threshold = 0.96;
	cr_expect_eq(matcher_run(fx.store, fx.org, &o, &res, err, sizeof err), -1);
	cr_expect(strstr(err, "review threshold") != NULL, "%s", err);
}

/* ---- partial payments, ties, unrelated payments ---- */

Test(matcher, partial_payments_complete_an_invoice)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-03-10,Penang Trading,400.00,INV-2025-000123 part 1,\n");
	run();
	expect_alloc("P1", "IV1|applied|reference|40000\n");
	expect_invoice("IV1", "partial|60000\n");
	/* The rest arrives later, with a reference nobody can read: it equals
	 * the outstanding amount now. */
	load(ENT_PAYMENTS, PAY_HEAD "P2,2025-04-02,PENANG TRADING SDN BHD,600.00,TRANSFER 99812,\n");
	run();
	cr_expect_eq(res.payments, 1);
	expect_alloc("P2", "IV1|applied|amount_customer|60000\n");
	expect_invoice("IV1", "paid|0\n");
}

Test(matcher, partial_payments_in_one_run_apply_in_date_order)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, PAY_HEAD "P2,2025-04-02,Penang Trading,600.00,INV-2025-000123 (instalment 2/2),\n"
	                            "P1,2025-03-10,Penang Trading,400.00,INV2025-000123 (instalment 1/2),\n"
	                            "P3,2025-04-09,Penang Trading,1000.00,INV-2025-000123,\n");
	run();
	expect_alloc("P1", "IV1|applied|reference|40000\n");
	expect_alloc("P2", "IV1|applied|reference|60000\n");
	/* paid twice: the invoice has nothing left for the third payment */
	expect_alloc("P3", "");
	expect_invoice("IV1", "paid|0\n");
	cr_expect_eq(res.applied, 2);
	cr_expect_eq(res.unmatched, 1);
}

Test(matcher, the_unreadable_rest_of_a_split_payment_in_the_same_run)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-03-10,Penang Trading,400.00,INV-2025-000123 part 1,\n"
	                            "P2,2025-04-02,PENANG TRADING SDN BHD,600.00,TRANSFER 99812,\n");
	run();
	cr_expect_eq(res.applied, 2);
	expect_alloc("P2", "IV1|applied|amount_customer|60000\n");
	expect_invoice("IV1", "paid|0\n");
	run();
	cr_expect_eq(res.payments, 0);
	cr_expect_eq(res.changed, 0);
}

Test(matcher, a_tie_is_proposed_not_applied)
{
	load(ENT_INVOICES, INV_HEAD "IV1,INV-2025-000001,Golden Bakery,,2025-03-01,2025-03-31,50.00,open\n"
	                            "IV2,INV-2025-000002,Golden Bakery,,2025-03-02,2025-04-01,50.00,open\n");
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-03-20,GOLDEN BAKERY,50.00,monthly fee,\n");
	run();
	cr_expect_eq(res.proposed, 1);
	cr_expect_eq(res.applied, 0);
	double c = confidence_of("P1");
	cr_expect(c >= 0.5 && c < 0.75, "confidence %.3f", c);
	expect_invoice("IV1", "open|5000\n");
	expect_invoice("IV2", "open|5000\n");
}

Test(matcher, unrelated_payments_stay_unmatched)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-03-31,BANK INTEREST,12.34,INTEREST MAR 2025,\n"
	                            "P2,2025-03-31,AirAsia Berhad,99.99,REFUND 123456,\n"
	                            "P3,2025-03-31,CASH DEPOSIT,1000.00,CDM 01234,\n");
	run();
	cr_expect_eq(res.unmatched, 3);
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM allocations"), 0);
}

Test(matcher, void_and_paid_invoices_are_not_candidates)
{
	load(ENT_INVOICES, INV_HEAD "IV1,INV-2025-000001,Golden Bakery,,2025-03-01,2025-03-31,50.00,void\n");
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-03-20,Golden Bakery,50.00,INV-2025-000001,\n");
	run();
	cr_expect_eq(res.invoices, 0);
	expect_alloc("P1", "");
}

/* ---- re-runs and people ---- */

static const char *const MIXED = PAY_HEAD "P1,2025-03-20,Penang Trading,1000.00,INV-2025-000123,\n"
                                          "P2,2025-03-20,Zhang Wei,100.00,INV-2025-000456,\n"
                                          "P3,2025-03-20,BANK INTEREST,1.00,,\n";

Test(matcher, a_rerun_changes_nothing)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, MIXED);
	run();
	cr_expect_eq(res.applied, 1);
	cr_expect_eq(res.proposed, 1);
	cr_expect_eq(res.unmatched, 1);
	const char *all = "SELECT rid, payment, invoice, amount, rule, confidence, state FROM allocations ORDER BY rid";
	char *before = db_text(&fx, all);
	char *inv_before = db_text(&fx, "SELECT * FROM invoices ORDER BY rid");
	uint64_t v = store_version(fx.store, fx.org, TBL_ALLOCATIONS);
	run();
	cr_expect_eq(res.changed, 0);
	cr_expect_eq(res.payments, 2, "the applied payment is left alone");
	cr_expect_eq(res.proposed, 1);
	cr_expect_eq(res.unmatched, 1);
	char *after = db_text(&fx, all);
	char *inv_after = db_text(&fx, "SELECT * FROM invoices ORDER BY rid");
	cr_expect_str_eq(after, before);
	cr_expect_str_eq(inv_after, inv_before);
	cr_expect_eq(store_version(fx.store, fx.org, TBL_ALLOCATIONS), v, "no write, no version bump");
	free(before);
	free(after);
	free(inv_before);
	free(inv_after);
}

Test(matcher, the_touch_mask_bumps_allocations_and_invoices)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, MIXED);
	uint64_t a = store_version(fx.store, fx.org, TBL_ALLOCATIONS), i = store_version(fx.store, fx.org, TBL_INVOICES);
	run();
	cr_expect_gt(store_version(fx.store, fx.org, TBL_ALLOCATIONS), a);
	cr_expect_gt(store_version(fx.store, fx.org, TBL_INVOICES), i);
}

Test(matcher, dry_run_stores_nothing)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, MIXED);
	matcher_opts o;
	matcher_opts_init(&o);
	o.dry_run = true;
	run_with(&o);
	cr_expect_eq(res.applied, 1);
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM allocations"), 0);
	expect_invoice("IV1", "open|100000\n");
}

Test(matcher, cancel_stores_nothing)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, MIXED);
	atomic_int stop = 1;
	matcher_opts o;
	matcher_opts_init(&o);
	o.cancel = &stop;
	cr_expect_eq(matcher_run(fx.store, fx.org, &o, &res, err, sizeof err), -1);
	cr_expect(strstr(err, "cancel") != NULL, "%s", err);
	cr_expect_eq(db_i64(&fx, "SELECT count(*) FROM allocations"), 0);
}

Test(matcher, a_confirm_survives_a_rerun)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, MIXED);
	run();
	cr_assert_eq(matcher_confirm(fx.store, fx.org, "P2", 2, err, sizeof err), MATCHER_OK, "%s", err);
	expect_alloc("P2", "IV2|confirmed|reference|10000\n");
	expect_invoice("IV2", "partial|15075\n");
	run();
	cr_expect_eq(res.payments, 1);
	expect_alloc("P2", "IV2|confirmed|reference|10000\n");
	/* nothing left to confirm */
	cr_expect_eq(matcher_confirm(fx.store, fx.org, "P2", 2, err, sizeof err), MATCHER_CONFLICT);
	cr_expect(strstr(err, "no proposed match") != NULL, "%s", err);
}

Test(matcher, a_reject_survives_a_rerun)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, MIXED);
	run();
	cr_assert_eq(matcher_reject(fx.store, fx.org, "P1", 2, err, sizeof err), MATCHER_OK, "%s", err);
	expect_alloc("P1", "IV1|rejected|reference|100000\n");
	expect_invoice("IV1", "open|100000\n");
	run();
	expect_alloc("P1", "IV1|rejected|reference|100000\n");
	expect_invoice("IV1", "open|100000\n");
	cr_expect_eq(matcher_reject(fx.store, fx.org, "P1", 2, err, sizeof err), MATCHER_CONFLICT);
	cr_expect_eq(matcher_reject(fx.store, fx.org, "P3", 2, err, sizeof err), MATCHER_CONFLICT);
	cr_expect_eq(matcher_reject(fx.store, fx.org, "nope", 4, err, sizeof err), MATCHER_NOT_FOUND);
	cr_expect(strstr(err, "unknown payment 'nope'") != NULL, "%s", err);
}

Test(matcher, confirm_checks_the_outstanding_amount)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-03-20,Zhang Wei,900.00,INV-2025-000123,\n"
	                            "P2,2025-03-21,Penang Trading,200.00,,\n");
	run();
	expect_alloc("P1", "IV1|proposed|reference|90000\n");
	cr_assert_eq(matcher_manual(fx.store, fx.org, "P2", 2, "IV1", 3, 0, err, sizeof err), MATCHER_OK, "%s", err);
	expect_invoice("IV1", "partial|80000\n");
	cr_expect_eq(matcher_confirm(fx.store, fx.org, "P1", 2, err, sizeof err), MATCHER_CONFLICT);
	cr_expect(strstr(err, "800.00 outstanding") != NULL, "%s", err);
}

Test(matcher, manual_matches_and_their_errors)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, MIXED);
	run();
	cr_expect_eq(matcher_manual(fx.store, fx.org, "X", 1, "IV3", 3, 0, err, sizeof err), MATCHER_NOT_FOUND);
	cr_expect_eq(matcher_manual(fx.store, fx.org, "P3", 2, "IV9", 3, 0, err, sizeof err), MATCHER_NOT_FOUND);
	cr_expect(strstr(err, "unknown invoice 'IV9'") != NULL, "%s", err);
	cr_expect_eq(matcher_manual(fx.store, fx.org, "P3", 2, "IV3", 3, -5, err, sizeof err), MATCHER_INVALID);
	cr_expect_eq(matcher_manual(fx.store, fx.org, "P3", 2, "IV3", 3, 200, err, sizeof err), MATCHER_CONFLICT);
	cr_expect(strstr(err, "exceeds the 1.00 left") != NULL, "%s", err);
	/* P2 (100.00) proposed to IV2; a person sends it to IV3 (99.99) instead */
	cr_expect_eq(matcher_manual(fx.store, fx.org, "P2", 2, "IV3", 3, 0, err, sizeof err), MATCHER_CONFLICT);
	cr_expect(strstr(err, "99.99 outstanding") != NULL, "%s", err);
	cr_assert_eq(matcher_manual(fx.store, fx.org, "P2", 2, "IV3", 3, 9999, err, sizeof err), MATCHER_OK, "%s", err);
	expect_alloc("P2", "IV3|manual|manual|9999\n");
	expect_invoice("IV3", "paid|0\n");
	expect_invoice("IV2", "open|25075\n");
	run();
	expect_alloc("P2", "IV3|manual|manual|9999\n");
	cr_expect_eq(matcher_manual(fx.store, fx.org, "P1", 2, "IV2", 3, 0, err, sizeof err), MATCHER_CONFLICT);
	cr_expect(strstr(err, "fully allocated") != NULL, "%s", err);
}

/* ---- explain ---- */

static json_t *explain(const char *pid)
{
	buf_t out = BUF_INIT;
	cr_assert_eq(explain_payment(fx.store, fx.org, pid, strlen(pid), NULL, &out, err, sizeof err), MATCHER_OK, "%s",
	             err);
	json_error_t je;
	json_t *j = json_loads(out.p, 0, &je);
	cr_assert_not_null(j, "bad JSON (%s): %s", je.text, out.p);
	buf_free(&out);
	return j;
}

static const char *str_at(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : "";
}

Test(matcher, explain_a_matched_payment)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, MIXED);
	run();
	json_t *j = explain("P1");
	cr_expect_str_eq(str_at(j, "status"), "applied");
	json_t *a = json_array_get(json_object_get(j, "allocations"), 0);
	cr_expect_str_eq(str_at(a, "invoice_id"), "IV1");
	cr_expect_str_eq(str_at(a, "invoice_number"), "INV-2025-000123");
	cr_expect_str_eq(str_at(a, "rule"), "reference");
	cr_expect_str_eq(str_at(a, "state"), "applied");
	cr_expect_eq(json_integer_value(json_object_get(a, "amount")), 100000); /* cents */

	cr_expect_gt(json_real_value(json_object_get(a, "confidence")), 0.9);
	cr_expect_null(json_object_get(j, "candidates"), "settled: no candidates");
	cr_expect_str_eq(str_at(json_object_get(j, "payment"), "reference"), "INV-2025-000123");
	json_decref(j);
	/* a payment no run has seen yet: what a run would decide */
	load(ENT_PAYMENTS, PAY_HEAD "P4,2025-03-20,Golden Bakery,10.00,INV-2025-000780,\n");
	j = explain("P4");
	json_t *c = json_array_get(json_object_get(j, "candidates"), 0);
	cr_expect_str_eq(str_at(c, "invoice_id"), "IV3");
	cr_expect_eq(json_integer_value(json_object_get(c, "reference_distance")), 1);
	cr_expect_gt(json_real_value(json_object_get(c, "reference_similarity")), 0.9);
	cr_expect_str_eq(str_at(c, "rule"), "fuzzy_reference");
	cr_expect(json_is_null(json_object_get(c, "refused")));
	cr_expect_str_eq(str_at(json_object_get(j, "decision"), "verdict"), "applied");
	json_decref(j);
}

Test(matcher, explain_an_unmatched_payment)
{
	load(ENT_INVOICES, INVOICES);
	/* More than a year after IV3's window: not even proposed. */
	load(ENT_PAYMENTS, PAY_HEAD "P1,2026-07-01,Golden Bakery,99.99,,\n");
	run();
	json_t *j = explain("P1");
	cr_expect_str_eq(str_at(j, "status"), "unmatched");
	cr_expect_eq(json_array_size(json_object_get(j, "allocations")), 0);
	cr_expect_str_eq(str_at(json_object_get(j, "decision"), "verdict"), "unmatched");
	json_t *cands = json_object_get(j, "candidates");
	cr_assert_eq(json_array_size(cands), 3);
	json_t *c = json_array_get(cands, 0);
	cr_expect_str_eq(str_at(c, "invoice_id"), "IV3", "the closest first");
	cr_expect(json_is_true(json_object_get(c, "amount_equal")));
	cr_expect(json_is_false(json_object_get(c, "date_in_window")));
	cr_expect(json_is_real(json_object_get(c, "reference_similarity")));
	cr_expect_gt(json_real_value(json_object_get(c, "name_similarity")), 0.99);
	cr_expect(json_is_null(json_object_get(c, "rule")));
	cr_expect(strstr(str_at(c, "refused"), "outside 2025-02-22 .. 2025-06-29") != NULL, "%s", str_at(c, "refused"));
	c = json_array_get(cands, 1);
	cr_expect(strstr(str_at(c, "refused"), "differs from outstanding") != NULL, "%s", str_at(c, "refused"));
	cr_expect(strstr(str_at(c, "refused"), "payer name similarity") != NULL, "%s", str_at(c, "refused"));
	json_decref(j);
	buf_t out = BUF_INIT;
	cr_expect_eq(explain_payment(fx.store, fx.org, "nope", 4, NULL, &out, err, sizeof err), MATCHER_NOT_FOUND);
	cr_expect_eq(out.len, 0);
	buf_free(&out);
}

Test(matcher, explain_a_tie)
{
	load(ENT_INVOICES, INV_HEAD "IV1,INV-2025-000001,Golden Bakery,,2025-03-01,2025-03-31,50.00,open\n"
	                            "IV2,INV-2025-000002,Golden Bakery,,2025-03-02,2025-04-01,50.00,open\n");
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-03-20,GOLDEN BAKERY,50.00,,\n");
	run();
	json_t *j = explain("P1");
	cr_expect_str_eq(str_at(j, "status"), "proposed");
	json_t *d = json_object_get(j, "decision");
	cr_expect_str_eq(str_at(d, "verdict"), "proposed");
	cr_expect(json_is_string(json_object_get(d, "ambiguous_with")));
	json_t *c0 = json_array_get(json_object_get(j, "candidates"), 0);
	json_t *c1 = json_array_get(json_object_get(j, "candidates"), 1);
	cr_expect(strstr(str_at(c0, "refused"), "ties with") != NULL, "%s", str_at(c0, "refused"));
	cr_expect(strstr(str_at(c1, "refused"), "ties with") != NULL, "%s", str_at(c1, "refused"));
	json_decref(j);
}

Test(matcher, proposals_page_by_sealed_cursor)
{
	load(ENT_INVOICES, INVOICES);
	load(ENT_PAYMENTS, PAY_HEAD "P1,2025-03-20,Zhang Wei,1.00,INV-2025-000123,\n"
	                            "P2,2025-03-20,Zhang Wei,2.00,INV-2025-000456,\n"
	                            "P3,2025-03-20,Zhang Wei,3.00,INV-2025-000789,\n");
	run();
	cr_assert_eq(res.proposed, 3);
	char *cursor = NULL;
	int pages = 0, rows = 0;
	do {
		buf_t out = BUF_INIT;
		cr_assert_eq(explain_proposals(fx.store, fx.org, cursor, 2, &out, err, sizeof err), MATCHER_OK, "%s", err);
		cr_expect_null(strstr(out.p, "rid"), "no row id is shown: %s", out.p);
		json_t *j = json_loads(out.p, 0, NULL);
		cr_assert_not_null(j, "%s", out.p);
		json_t *list = json_object_get(j, "proposals");
		rows += (int)json_array_size(list);
		json_t *first = json_array_get(list, 0);
		if (pages == 0) {
			cr_expect_str_eq(str_at(first, "payment_id"), "P1");
			cr_expect_str_eq(str_at(first, "invoice_id"), "IV1");
			cr_expect_str_eq(str_at(first, "rule"), "reference");
		}
		json_t *next = json_object_get(j, "next_cursor");
		if (json_is_string(next) && pages == 0) {
			/* opaque and sealed: another org, an altered or a plain
			 * number cursor are all refused */
			buf_t o2 = BUF_INIT;
			cr_expect_eq(explain_proposals(fx.store, fx.org + 1, json_string_value(next), 2, &o2, err, sizeof err),
			             MATCHER_INVALID);
			char bad[200];
			snprintf(bad, sizeof bad, "%s", json_string_value(next));
			bad[5] = bad[5] == 'A' ? 'B' : 'A';
			cr_expect_eq(explain_proposals(fx.store, fx.org, bad, 2, &o2, err, sizeof err), MATCHER_INVALID);
			cr_expect_eq(explain_proposals(fx.store, fx.org, "2", 2, &o2, err, sizeof err), MATCHER_INVALID);
			buf_free(&o2);
		}
		free(cursor);
		cursor = json_is_string(next) ? strdup(json_string_value(next)) : NULL;
		pages++;
		json_decref(j);
		buf_free(&out);
	} while (cursor && pages < 5);
	free(cursor);
	cr_expect_eq(pages, 2);
	cr_expect_eq(rows, 3);
	buf_t out = BUF_INIT;
	cr_expect_eq(explain_proposals(fx.store, fx.org, NULL, 0, &out, err, sizeof err), MATCHER_INVALID);
	buf_free(&out);
}

/* ---- scoring details ---- */

Test(score, contains_respects_number_boundaries)
{
	score_payment p = {0};
	const char *ref = "Payment INV 2025-0012, ref 77";
	score_payment_prepare(&p, "x", 1, ref, strlen(ref), 100, 0, 0, 0);
	cr_expect_str_eq(p.ref.p, "PAYMENTINV20250012REF77");
	cr_expect(score_ref_contains(&p, "INV20250012", 11));
	cr_expect(score_ref_contains(&p, "20250012", 8), "whole token");
	cr_expect(!score_ref_contains(&p, "INV2025001", 10), "inside a longer number");
	cr_expect(!score_ref_contains(&p, "7", 1), "short numbers must be whole tokens");
	cr_expect(score_ref_contains(&p, "77", 2));
	cr_expect_eq(score_ref_distance(&p, "INV20250021", 11, 2), 2);
	cr_expect_eq(score_ref_distance(&p, "INV20250013", 11, 2), 1);
	cr_expect_eq(score_ref_distance(&p, "INV20259999", 11, 2), 255);
	score_payment_free(&p);
}

Test(score, decide_scales_a_tie)
{
	score_opts o;
	score_opts_init(&o);
	score_cand c[2] = {{.inv = 0, .conf = 0.9f, .rule = SCORE_RULE_AMOUNT_CUSTOMER},
	                   {.inv = 1, .conf = 0.88f, .rule = SCORE_RULE_AMOUNT_CUSTOMER}};
	size_t best, rival;
	double conf;
	cr_expect_eq(score_decide(&o, c, 2, 0, &best, &conf, &rival), SCORE_PROPOSED);
	cr_expect_eq(best, 0);
	cr_expect_eq(rival, 1);
	cr_expect(conf < o.auto_threshold && conf >= o.review_threshold, "%.3f", conf);
	o.auto_threshold = 0.6; /* 0.9 x 0.7 = 0.63 would pass it: a tie still may not */
	cr_expect_eq(score_decide(&o, c, 2, 0, &best, &conf, &rival), SCORE_PROPOSED);
	cr_expect(conf < 0.6, "%.3f", conf);
	score_opts_init(&o);
	c[1].conf = 0.5f;
	c[0].flags = 0;
	cr_expect_eq(score_decide(&o, c, 2, 0, &best, &conf, &rival), SCORE_APPLIED);
	cr_expect_eq(rival, 2);
}

/* ---- a generated data set against its ground truth ---- */

typedef struct {
	char (*pay)[16], (*inv)[16];
	int verdict[4096];
	size_t n;
} decisions;

static void collect(void *ud, const matcher_decision *d)
{
	decisions *ds = ud;
	if (ds->n >= 4096)
		return;
	snprintf(ds->pay[ds->n], 16, "%.*s", (int)d->payment_id_len, d->payment_id);
	snprintf(ds->inv[ds->n], 16, "%.*s", (int)(d->invoice_id ? d->invoice_id_len : 0), d->invoice_id ? d->invoice_id : "");
	ds->verdict[ds->n++] = d->verdict;
}

Test(matcher, generated_data_meets_the_quality_bar, .timeout = 120)
{
	char *gdir = tmpdir_new();
	gen_opts g;
	gen_opts_init(&g);
	g.scale = 0.2;
	g.end = date_from_ymd(2026, 6, 30);
	cr_assert_eq(gen_write(gdir, &g, NULL, err, sizeof err), 0, "%s", err);
	char path[4096];
	import_result ir;
	snprintf(path, sizeof path, "%s/invoices.csv", gdir);
	fx_import_file(&fx, ENT_INVOICES, path, &ir);
	snprintf(path, sizeof path, "%s/payments.csv", gdir);
	fx_import_file(&fx, ENT_PAYMENTS, path, &ir);

	/* One thread and four decide alike. */
	static decisions one, four;
	one.pay = calloc(4096, 16), one.inv = calloc(4096, 16);
	four.pay = calloc(4096, 16), four.inv = calloc(4096, 16);
	matcher_opts o;
	matcher_opts_init(&o);
	o.dry_run = true;
	o.threads = 1;
	o.on_decision = collect;
	o.decision_ud = &one;
	run_with(&o);
	o.threads = 4;
	o.decision_ud = &four;
	run_with(&o);
	cr_assert_eq(one.n, four.n);
	for (size_t i = 0; i < one.n; i++) {
		cr_assert_str_eq(one.pay[i], four.pay[i]);
		cr_assert_str_eq(one.inv[i], four.inv[i]);
		cr_assert_eq(one.verdict[i], four.verdict[i]);
	}

	o.dry_run = false;
	o.on_decision = NULL;
	run_with(&o);
	/* truth.csv: payment_id,invoice_id */
	snprintf(path, sizeof path, "%s/truth.csv", gdir);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	char line[128];
	long related = 0, right = 0;
	sqlite3 *db = store_fx_db(&fx);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db,
	                   "SELECT i.id FROM allocations a JOIN payments p ON p.rid = a.payment JOIN invoices i "
	                   "ON i.rid = a.invoice WHERE p.id = ?1 AND a.state = 'applied'",
	                   -1, &st, NULL);
	cr_assert(fgets(line, sizeof line, f));
	while (fgets(line, sizeof line, f)) {
		char *comma = strchr(line, ',');
		cr_assert_not_null(comma);
		*comma = '\0';
		char *inv = comma + 1;
		inv[strcspn(inv, "\r\n")] = '\0';
		related += *inv != '\0';
		sqlite3_bind_text(st, 1, line, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			right += !strcmp((const char *)sqlite3_column_text(st, 0), inv);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	/* The store phase writes the invoices' amounts settling computed in
	 * memory, in many-row statements: they must be what the allocations
	 * add up to, as entity_invoice_refresh would compute them. */
	sqlite3_prepare_v2(db,
	                   "SELECT count(*) FROM invoices i LEFT JOIN (SELECT invoice, sum(amount + writeoff) AS paid "
	                   "FROM allocations WHERE state IN ('applied','confirmed','manual') GROUP BY invoice) a "
	                   "ON a.invoice = i.rid WHERE i.status <> 'void' AND (i.outstanding <> i.amount - "
	                   "coalesce(a.paid, 0) OR i.status <> CASE WHEN coalesce(a.paid, 0) = 0 THEN 'open' "
	                   "WHEN a.paid >= i.amount THEN 'paid' ELSE 'partial' END)",
	                   -1, &st, NULL);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_expect_eq(sqlite3_column_int64(st, 0), 0, "invoices whose amounts disagree with their allocations");
	sqlite3_finalize(st);
	sqlite3_prepare_v2(db, "SELECT count(*) FROM allocations", -1, &st, NULL);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_expect_gt(sqlite3_column_int64(st, 0), 64, "enough allocations for the many-row statements");
	sqlite3_finalize(st);
	sqlite3_close(db);
	fclose(f);
	double precision = res.applied ? (double)right / (double)res.applied : 0;
	double recall = related ? (double)right / (double)related : 0;
	cr_expect_geq(precision, 0.995, "precision %.4f (%ld of %lld)", precision, right, (long long)res.applied);
	cr_expect_geq(recall, 0.97, "recall %.4f (%ld of %ld)", recall, right, related);
	free(one.pay), free(one.inv), free(four.pay), free(four.inv);
	tmpdir_remove(gdir);
}
