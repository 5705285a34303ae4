/* Issue 15: one payment for several invoices, overpayments' credits,
 * underpayments written off within the tolerance, aliases learned from
 * people. One tiny hand-written data set per case, imported into a real
 * store and reconciled; then properties of the subset-sum search and of a
 * whole run on random small books (cents conserved, no invoice over-settled). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/analytics.h"
#include "helpers.h"
#include "ingest/gen.h"
#include "match/alias.h"
#include "match/batch.h"
#include "match/matcher.h"

#define INV_HEAD "id,number,customer,customer_id,issue_date,due_date,amount,status\n"
#define PAY_HEAD "id,date,payer,amount,reference,customer_id\n"

static store_fx fx;
static char why[512];

static void open_fx(void)
{
	store_fx_open(&fx, "acme");
}

static void close_fx(void)
{
	store_fx_close(&fx);
}

TestSuite(batch, .init = open_fx, .fini = close_fx);

static void load(const char *invoices, const char *payments)
{
	const char *csv[2] = {invoices, payments};
	entity_kind kind[2] = {ENT_INVOICES, ENT_PAYMENTS};
	for (int i = 0; i < 2; i++) {
		if (!csv[i])
			continue;
		import_opts io = fx_opts(&fx, kind[i]);
		import_result ir;
		cr_assert_eq(fx_import(&fx, &io, csv[i], strlen(csv[i]), &ir, why, sizeof why), 0, "%s", why);
		cr_assert_eq(ir.rejected, 0);
	}
}

static matcher_result run_with(const matcher_opts *o)
{
	matcher_result r;
	cr_assert_eq(matcher_run(fx.store, fx.org, o, &r, why, sizeof why), 0, "%s", why);
	return r;
}

static matcher_result run(void)
{
	matcher_opts o;
	matcher_opts_init(&o);
	o.threads = 1;
	return run_with(&o);
}

/* The payment's allocations, "invoice:amount+writeoff:state:rule" by
 * invoice id, space-separated; "-" when none. */
static void expect(const char *payment, const char *want)
{
	char sql[600];
	snprintf(sql, sizeof sql,
	         "SELECT coalesce((SELECT group_concat(x, ' ') FROM (SELECT i.id || ':' || a.amount || '+' || a.writeoff "
	         "|| ':' || a.state || ':' || a.rule AS x FROM allocations a JOIN invoices i ON i.rid = a.invoice "
	         "JOIN payments p ON p.rid = a.payment WHERE p.id = '%s' AND a.state <> 'rejected' ORDER BY i.id)), '-')",
	         payment);
	char *got = db_text(&fx, sql);
	got[strcspn(got, "\n")] = '\0';
	cr_expect_str_eq(got, want, "payment %s", payment);
	free(got);
}

static void expect_status(const char *invoice, const char *want)
{
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT status || ' ' || outstanding FROM invoices WHERE id = '%s'", invoice);
	char *got = db_text(&fx, sql);
	got[strcspn(got, "\n")] = '\0';
	cr_expect_str_eq(got, want, "invoice %s", invoice);
	free(got);
}

Test(batch, reference_names_several_invoices)
{
	load(INV_HEAD "A,INV-2025-0101,Kowalski Bau GmbH,,2025-03-01,2025-03-31,100.00,open\n"
	              "B,INV-2025-0102,Kowalski Bau GmbH,,2025-03-05,2025-04-04,250.50,open\n"
	              "C,INV-2025-0103,Kowalski Bau GmbH,,2025-03-09,2025-04-08,49.50,open\n"
	              "D,INV-2025-0104,Kowalski Bau GmbH,,2025-03-10,2025-04-09,77.00,open\n",
	     PAY_HEAD "P1,2025-04-02,KOWALSKI BAU,400.00,INV-2025-0101 INV-2025-0102 INV-2025-0103,\n");
	matcher_result r = run();
	cr_expect_eq(r.applied, 1);
	expect("P1", "A:10000+0:applied:batch_reference B:25050+0:applied:batch_reference "
	             "C:4950+0:applied:batch_reference");
	expect_status("A", "paid 0");
	expect_status("D", "open 7700");
}

Test(batch, amount_is_the_sum_of_a_set_of_the_payers_invoices)
{
	load(INV_HEAD "A,INV-0201,Nordlicht Optik AG,,2025-01-10,2025-02-09,120.00,open\n"
	              "B,INV-0202,Nordlicht Optik AG,,2025-01-20,2025-02-19,310.25,open\n"
	              "C,INV-0203,Nordlicht Optik AG,,2025-02-01,2025-03-03,89.90,open\n"
	              "D,INV-0204,Nordlicht Optik AG,,2025-02-10,2025-03-12,455.00,open\n"
	              "E,INV-0205,Other Firm Ltd,,2025-02-10,2025-03-12,89.90,open\n",
	     PAY_HEAD "P1,2025-03-05,Nordlicht Optik,400.15,Thank you,\n");
	run();
	expect("P1", "B:31025+0:applied:batch_amount C:8990+0:applied:batch_amount");
	expect_status("A", "open 12000");
}

Test(batch, two_sets_adding_up_are_proposed_nearest_due_first)
{
	load(INV_HEAD "A,INV-0301,Vega Foods,,2025-01-10,2025-02-09,100.00,open\n"
	              "B,INV-0302,Vega Foods,,2025-01-20,2025-02-19,50.00,open\n"
	              "C,INV-0303,Vega Foods,,2025-02-01,2025-03-03,60.00,open\n"
	              "D,INV-0304,Vega Foods,,2025-02-10,2025-03-12,90.00,open\n",
	     PAY_HEAD "P1,2025-03-05,VEGA FOODS,150.00,payment,\n");
	matcher_result r = run();
	cr_expect_eq(r.applied, 0);
	cr_expect_eq(r.proposed, 1);
	/* 100 + 50 and 60 + 90: the set due around the payment (03-03 and
	 * 03-12), not the one a month overdue, for a person to confirm. */
	expect("P1", "C:6000+0:proposed:batch_amount D:9000+0:proposed:batch_amount");
	r = run();
	cr_expect_eq(r.changed, 0, "the same proposal again writes nothing");
	cr_assert_eq(matcher_confirm(fx.store, fx.org, "P1", 2, why, sizeof why), MATCHER_OK, "%s", why);
	expect("P1", "C:6000+0:confirmed:batch_amount D:9000+0:confirmed:batch_amount");
	expect_status("D", "paid 0");
	expect_status("A", "open 10000");
}

Test(batch, overpayment_leaves_a_credit_a_later_invoice_uses)
{
	load(INV_HEAD "A,INV-0401,Sato Trading,,2025-01-10,2025-02-09,100.00,open\n",
	     PAY_HEAD "P1,2025-02-01,SATO TRADING,130.00,INV-0401,\n");
	run();
	expect("P1", "A:10000+0:applied:reference");
	expect_status("A", "paid 0");
	char *c = db_text(&fx, "SELECT count(*) FROM payment_credits");
	cr_expect_str_eq(c, "1\n");
	free(c);
	/* A later invoice of the same customer takes the 30.00 left. */
	load(INV_HEAD "B,INV-0402,Sato Trading,,2025-02-15,2025-03-15,50.00,open\n"
	              "X,INV-0403,Someone Else,,2025-02-15,2025-03-15,50.00,open\n",
	     NULL);
	run();
	expect("P1", "A:10000+0:applied:reference B:3000+0:applied:credit");
	expect_status("B", "partial 2000");
	expect_status("X", "open 5000");
	/* Nothing is left: a third run changes nothing. */
	matcher_result r = run();
	cr_expect_eq(r.changed, 0);
	/* Rejecting the payment takes its match and its credit away. */
	cr_assert_eq(matcher_reject(fx.store, fx.org, "P1", 2, why, sizeof why), MATCHER_OK, "%s", why);
	expect("P1", "-");
	expect_status("B", "open 5000");
	char *c2 = db_text(&fx, "SELECT count(*) FROM payment_credits");
	cr_expect_str_eq(c2, "0\n");
	free(c2);
	r = run();
	expect("P1", "-");
	expect_status("B", "open 5000");
}

Test(batch, underpayment_within_tolerance_is_written_off)
{
	load(INV_HEAD "A,INV-0501,Lumen Labs,,2025-01-10,2025-02-09,1000.00,open\n"
	              "B,INV-0502,Lumen Labs,,2025-01-12,2025-02-11,500.00,open\n"
	              "C,INV-0503,Lumen Labs,,2025-01-14,2025-02-13,800.00,open\n",
	     PAY_HEAD "P1,2025-02-05,LUMEN LABS,992.50,INV-0501,\n"
	              "P2,2025-02-06,LUMEN LABS,490.00,INV-0502 skonto 2%,\n"
	              "P3,2025-02-07,LUMEN LABS,700.00,INV-0503,\n");
	run();
	expect("P1", "A:99250+750:applied:reference");
	expect_status("A", "paid 0");
	expect("P2", "B:49000+1000:applied:reference");
	char *r = db_text(&fx, "SELECT writeoff_reason FROM allocations WHERE writeoff > 0 ORDER BY rid");
	cr_expect_str_eq(r, "fees\ndiscount\n");
	free(r);
	/* 100.00 short is not a fee: a partial payment. */
	expect("P3", "C:70000+0:applied:reference");
	expect_status("C", "partial 10000");
}

Test(batch, tolerance_and_rules_are_per_run_options)
{
	load(INV_HEAD "A,INV-0601,Lumen Labs,,2025-01-10,2025-02-09,1000.00,open\n",
	     PAY_HEAD "P1,2025-02-05,LUMEN LABS,992.50,INV-0601,\n");
	matcher_opts o;
	matcher_opts_init(&o);
	o.threads = 1;
	o.score.use_writeoff = false;
	run_with(&o);
	expect("P1", "A:99250+0:applied:reference");
	expect_status("A", "partial 750");
}

Test(batch, a_confirmed_payer_spelling_is_learned)
{
	load(INV_HEAD "A,INV-0701,Johnson Smith Trading Ltd,,2025-01-10,2025-02-09,300.00,open\n"
	              "B,INV-0702,Johnson Smith Trading Ltd,,2025-02-10,2025-03-12,410.00,open\n",
	     PAY_HEAD "P1,2025-02-01,JST HOLDING,300.00,,\n");
	run();
	expect("P1", "-");
	cr_assert_eq(matcher_manual(fx.store, fx.org, "P1", 2, "A", 1, 0, why, sizeof why), MATCHER_OK, "%s", why);
	buf_t out = BUF_INIT;
	cr_assert_eq(alias_list(fx.store, fx.org, &out, why, sizeof why), MATCHER_OK);
	cr_expect(strstr(out.p, "\"customer\":\"Johnson Smith Trading Ltd\""), "%s", out.p);
	cr_expect(strstr(out.p, "\"spelling\":\"JST HOLDING\""), "%s", out.p);
	buf_free(&out);
	/* The same payer, next month: found by the learned alias. */
	load(NULL, PAY_HEAD "P2,2025-03-01,JST Holding,410.00,,\n");
	run();
	expect("P2", "B:41000+0:applied:amount_customer");
	cr_assert_eq(alias_remove(fx.store, fx.org, "JST HOLDING", 11, why, sizeof why), MATCHER_OK, "%s", why);
	cr_expect_eq(alias_remove(fx.store, fx.org, "JST HOLDING", 11, why, sizeof why), MATCHER_NOT_FOUND);
}

/* A customer with 60 open invoices in the payment's window: some set of
 * them adds up to almost any amount, and some invoice lies a fee above
 * almost any amount. A payment with no reference whose amount a set (or
 * one invoice less a fee) happens to fit is not applied there; the same
 * amounts for a customer with three invoices are. */
static void many_invoices(buf_t *inv, const char *customer, int n, uint64_t *seed, int64_t *amt)
{
	for (int i = 0; i < n; i++) {
		amt[i] = 20000 + (int64_t)test_rng_below(seed, 180000);
		buf_printf(inv, "%c%02d,INV-%c%03d,%s,,2025-%02d-%02d,2025-%02d-%02d,%lld.%02lld,open\n", customer[0], i,
		           customer[0], i, customer, 1 + i / 28, 1 + i % 28, 2 + i / 28, 1 + i % 28,
		           (long long)(amt[i] / 100), (long long)(amt[i] % 100));
	}
}

Test(batch, an_amount_many_open_invoices_fit_by_chance_is_not_applied)
{
	uint64_t seed = 2121;
	int64_t amt[60];
	buf_t inv = BUF_INIT, pay = BUF_INIT;
	buf_puts(&inv, INV_HEAD);
	many_invoices(&inv, "Orion Steel", 60, &seed, amt);
	buf_putc(&inv, '\0');
	int64_t set = amt[40] + amt[47] + amt[52], fee = amt[45] - 650;
	buf_printf(&pay, PAY_HEAD "P1,2025-03-20,ORION STEEL,%lld.%02lld,PAYMENT,\n"
	                          "P2,2025-03-21,ORION STEEL,%lld.%02lld,,\n",
	           (long long)(set / 100), (long long)(set % 100), (long long)(fee / 100), (long long)(fee % 100));
	buf_putc(&pay, '\0');
	load(inv.p, pay.p);
	buf_free(&inv);
	buf_free(&pay);
	matcher_result r = run();
	cr_expect_eq(r.applied, 0, "a coincidence is never applied");
	char *n = db_text(&fx, "SELECT count(*) FROM allocations WHERE state = 'applied'");
	cr_expect_str_eq(n, "0\n");
	free(n);
}

Test(batch, the_same_amounts_for_a_customer_with_few_invoices_are_applied)
{
	load(INV_HEAD "A,INV-0901,Orion Steel,,2025-02-01,2025-03-03,1234.56,open\n"
	              "B,INV-0902,Orion Steel,,2025-02-05,2025-03-07,789.10,open\n"
	              "C,INV-0903,Orion Steel,,2025-02-09,2025-03-11,1500.00,open\n"
	              "D,INV-0904,Vega Foods,,2025-02-09,2025-03-11,1493.50,open\n",
	     PAY_HEAD "P1,2025-03-10,ORION STEEL,2023.66,PAYMENT,\n"
	              "P2,2025-03-12,ORION STEEL,1493.50,,\n");
	matcher_result r = run();
	cr_expect_eq(r.applied, 2);
	expect("P1", "A:123456+0:applied:batch_amount B:78910+0:applied:batch_amount");
	/* 6.50 short of Orion's 1500.00: a fee; Vega's 1493.50 is not Orion's. */
	expect("P2", "C:149350+650:applied:amount_customer");
}

Test(batch, a_set_of_another_customers_invoices_is_never_taken)
{
	load(INV_HEAD "A,INV-0801,Blue Harbor Inc,,2025-01-10,2025-02-09,40.00,open\n"
	              "B,INV-0802,Blue Harbor Inc,,2025-01-20,2025-02-19,60.00,open\n",
	     PAY_HEAD "P1,2025-02-20,GREEN FIELD LLC,100.00,,\n");
	run();
	expect("P1", "-");
}

/* ---- properties ---- */

/* Brute force: is there a set of kmin..kmax amounts within [t, t + slack]? */
static int64_t brute_best(const int64_t *a, size_t n, int64_t t, int64_t slack, int kmin, int kmax)
{
	int64_t best = -1;
	for (uint32_t m = 1; m < (1u << n); m++) {
		int k = __builtin_popcount(m);
		if (k < kmin || k > kmax)
			continue;
		int64_t s = 0;
		for (size_t i = 0; i < n; i++)
			if (m & (1u << i))
				s += a[i];
		if (s >= t && s <= t + slack && (best < 0 || s - t < best))
			best = s - t;
	}
	return best;
}

Test(batch, subset_search_properties)
{
	uint64_t seed = 15;
	for (int round = 0; round < 3000; round++) {
		size_t n = 1 + test_rng_below(&seed, 14);
		int64_t a[BATCH_SCAN];
		for (size_t i = 0; i < n; i++)
			a[i] = 1 + (int64_t)test_rng_below(&seed, round % 3 ? 20000 : 50); /* small: many ties */
		int kmin = 1 + (int)test_rng_below(&seed, 2), kmax = kmin + (int)test_rng_below(&seed, 4);
		int64_t t = 1 + (int64_t)test_rng_below(&seed, 40000);
		if (round % 2) { /* a target that some set reaches */
			t = 0;
			for (size_t i = 0; i < n; i += 2)
				t += a[i];
		}
		int64_t slack = round % 4 == 0 ? (int64_t)test_rng_below(&seed, 500) : 0;
		size_t budget = round % 5 == 0 ? 1 + test_rng_below(&seed, 50) : BATCH_BUDGET;
		batch_query q = {a, n, t, slack, kmin, kmax, budget, 0};
		batch_found f;
		batch_subset(&q, &f);
		/* Bounded: never more sets than the budget. */
		cr_assert_leq(f.steps, budget);
		if (f.k) {
			cr_assert(f.k >= kmin && f.k <= kmax);
			int64_t s = 0;
			for (int i = 0; i < f.k; i++) {
				cr_assert_lt(f.pick[i], n);
				if (i)
					cr_assert_gt(f.pick[i], f.pick[i - 1], "each amount at most once");
				s += a[f.pick[i]];
			}
			cr_assert_eq(s, f.sum);
			cr_assert(s >= t && s <= t + slack);
		}
		if (!f.exhausted) {
			int64_t best = brute_best(a, n, t, slack, kmin, kmax > BATCH_KMAX ? BATCH_KMAX : kmax);
			cr_assert_eq(f.k ? f.sum - t : -1, best, "round %d: the closest set", round);
		}
	}
}

/* Random small books through whole runs: whatever the rules decide, no
 * invoice is settled beyond its amount, and every payment's applied cash
 * plus the credit it holds never exceeds the payment (it equals it when a
 * credit was recorded). */
Test(batch, cents_are_conserved_over_random_books)
{
	uint64_t seed = 2115;
	for (int round = 0; round < 12; round++) {
		buf_t inv = BUF_INIT, pay = BUF_INIT;
		buf_puts(&inv, INV_HEAD);
		buf_puts(&pay, PAY_HEAD);
		const char *names[] = {"Alpha Metal", "Beta Cloth", "Gamma Paper"};
		int64_t amt[24];
		for (int i = 0; i < 24; i++) {
			amt[i] = 1000 + (int64_t)test_rng_below(&seed, 30) * 500;
			buf_printf(&inv, "R%dI%d,INV-%d-%03d,%s,,2025-01-%02d,2025-02-%02d,%lld.%02lld,open\n", round, i, round,
			           i, names[i % 3], 1 + i, 1 + i, (long long)(amt[i] / 100), (long long)(amt[i] % 100));
		}
		for (int j = 0; j < 16; j++) {
			int i = (int)test_rng_below(&seed, 24), k = (int)test_rng_below(&seed, 24);
			int64_t v = amt[i];
			char ref[64] = "";
			switch (test_rng_below(&seed, 5)) {
			case 0: v += amt[k]; snprintf(ref, sizeof ref, "INV-%d-%03d INV-%d-%03d", round, i, round, k); break;
			case 1: v += amt[k]; break;
			case 2: v -= (int64_t)test_rng_below(&seed, 900); snprintf(ref, sizeof ref, "INV-%d-%03d", round, i); break;
			case 3: v += (int64_t)test_rng_below(&seed, 5000); snprintf(ref, sizeof ref, "INV-%d-%03d", round, i); break;
			default: break;
			}
			buf_printf(&pay, "R%dP%d,2025-02-%02d,%s,%lld.%02lld,%s,\n", round, j, 1 + j, names[i % 3],
			           (long long)(v / 100), (long long)(v % 100), ref);
		}
		buf_putc(&inv, '\0');
		buf_putc(&pay, '\0');
		load(inv.p, pay.p);
		buf_free(&inv);
		buf_free(&pay);
		run();
		run(); /* credits spent on a second run */
		char *bad = db_text(&fx, "SELECT i.id FROM invoices i WHERE i.amount < (SELECT coalesce(sum(a.amount + "
		                         "a.writeoff), 0) FROM allocations a WHERE a.invoice = i.rid AND a.state IN "
		                         "('applied','confirmed','manual')) OR i.outstanding < 0");
		cr_expect_str_eq(bad, "", "invoices settled beyond their amount: %s", bad);
		free(bad);
		bad = db_text(&fx, "SELECT p.id FROM payments p WHERE p.amount < (SELECT coalesce(sum(a.amount), 0) FROM "
		                   "allocations a WHERE a.payment = p.rid AND a.state IN ('applied','confirmed','manual'))");
		cr_expect_str_eq(bad, "", "payments allocated beyond their amount: %s", bad);
		free(bad);
		bad = db_text(&fx, "SELECT p.id FROM payments p WHERE p.amount < (SELECT coalesce(sum(a.amount), 0) FROM "
		                   "allocations a WHERE a.payment = p.rid AND a.state = 'proposed')");
		cr_expect_str_eq(bad, "", "proposals beyond their payment: %s", bad);
		free(bad);
		bad = db_text(&fx, "SELECT a.rid FROM allocations a WHERE a.amount <= 0 OR a.writeoff < 0");
		cr_expect_str_eq(bad, "");
		free(bad);
		/* Cents conserved, per payment: what it did not allocate is its
		 * recorded credit; a payment without one is allocated in full. */
		bad = db_text(&fx, "SELECT p.id FROM payments p WHERE EXISTS (SELECT 1 FROM allocations a WHERE a.payment = "
		                   "p.rid AND a.state IN ('applied','confirmed','manual')) AND NOT EXISTS (SELECT 1 FROM "
		                   "payment_credits k WHERE k.payment = p.rid) AND p.amount <> (SELECT sum(a.amount) FROM "
		                   "allocations a WHERE a.payment = p.rid AND a.state IN ('applied','confirmed','manual'))");
		cr_expect_str_eq(bad, "", "payments with cents neither allocated nor held as credit: %s", bad);
		free(bad);
		/* Per invoice: the stored outstanding is the amount less the
		 * allocations and write-offs, exactly. */
		bad = db_text(&fx, "SELECT i.id FROM invoices i WHERE i.outstanding <> i.amount - (SELECT coalesce(sum("
		                   "a.amount + a.writeoff), 0) FROM allocations a WHERE a.invoice = i.rid AND a.state IN "
		                   "('applied','confirmed','manual'))");
		cr_expect_str_eq(bad, "", "invoices whose outstanding is not amount - allocated - written off: %s", bad);
		free(bad);
		/* A write-off settles its invoice, within the tolerance (10.00). */
		bad = db_text(&fx, "SELECT a.rid FROM allocations a JOIN invoices i ON i.rid = a.invoice WHERE a.writeoff > 0 "
		                   "AND a.state IN ('applied','confirmed','manual') AND (i.outstanding <> 0 OR a.writeoff > "
		                   "1000)");
		cr_expect_str_eq(bad, "", "write-offs that leave their invoice open or exceed 10.00: %s", bad);
		free(bad);
	}
}

/* Bounded time whatever the amounts: the most invoices and the largest
 * sets the search takes, all equal and never adding up to the target,
 * visit no more sets than the budget, and a smaller budget says it ran
 * out (a set found then is only proposed). */
Test(batch, subset_search_is_bounded_at_its_worst)
{
	int64_t a[BATCH_SCAN + 10];
	for (size_t i = 0; i < BATCH_SCAN + 10; i++)
		a[i] = 100;
	batch_query q = {a, BATCH_SCAN, 100 * BATCH_KMAX + 1, 0, 2, BATCH_KMAX, BATCH_BUDGET, 0};
	batch_found f;
	cr_expect_eq(batch_subset(&q, &f), 0);
	cr_expect_leq(f.steps, (size_t)BATCH_BUDGET);
	q.budget = 1000;
	cr_expect_eq(batch_subset(&q, &f), 0);
	cr_expect(f.exhausted && f.steps <= 1000, "steps %zu", f.steps);
	q.n = BATCH_SCAN + 10; /* more than it scans: the oldest BATCH_SCAN only */
	q.target = 100 * BATCH_KMAX;
	q.budget = BATCH_BUDGET;
	cr_expect_eq(batch_subset(&q, &f), BATCH_KMAX);
	for (int i = 0; i < f.k; i++)
		cr_expect_lt(f.pick[i], BATCH_SCAN);
}

/* Issue 15 item 6: the demo's receivables look like a small business's:
 * generated with the demo's shares of batch payments, fees and
 * overpayments, reconciled, DSO is within 30 to 60 days and few invoices
 * are bad debts (over 90 days past due). */
Test(batch, demo_receivables_look_like_a_small_business)
{
	char dir[] = "/tmp/brisk-test-demo-XXXXXX";
	cr_assert(mkdtemp(dir));
	gen_opts g;
	gen_opts_init(&g);
	g.scale = 0.3;
	g.end = date_from_ymd(2026, 6, 30);
	g.batch = 0.05;
	g.fees = 0.02;
	g.overpay = 0.01;
	gen_counts n;
	cr_assert_eq(gen_write(dir, &g, &n, why, sizeof why), 0, "%s", why);
	char path[256];
	import_result ir;
	snprintf(path, sizeof path, "%s/invoices.csv", dir);
	fx_import_file(&fx, ENT_INVOICES, path, &ir);
	snprintf(path, sizeof path, "%s/payments.csv", dir);
	fx_import_file(&fx, ENT_PAYMENTS, path, &ir);
	run();
	analytics_params p;
	analytics_params_init(&p, fx.org, g.end - 90, g.end);
	buf_t out = BUF_INIT;
	store_conn_t *c = store_read_begin(fx.store);
	cr_assert_eq(analytics_dso(c, &p, &out, why, sizeof why), 0, "%s", why);
	store_read_end(c);
	const char *d = strstr(out.p, "\"dso\":");
	cr_assert_not_null(d, "%s", out.p);
	double dso = strtod(d + 6, NULL);
	cr_expect(dso >= 30 && dso <= 60, "DSO %.1f days: %s", dso, out.p);
	buf_free(&out);
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM invoices WHERE outstanding > 0 AND status <> 'void' AND due_date < %d",
	         (int)(g.end - 90));
	int64_t bad = db_i64(&fx, sql);
	cr_expect(bad > 0 && bad * 100 < (int64_t)n.invoices * 3, "%lld bad debts of %llu invoices", (long long)bad,
	          (unsigned long long)n.invoices);
	const char *files[] = {"costs", "sales_orders", "invoices", "payments", "leads", "truth"};
	for (size_t i = 0; i < 6; i++) {
		snprintf(path, sizeof path, "%s/%s.csv", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* Bookkeepers' everyday cases, each as a tiny book. */
Test(batch, bookkeeper_one_transfer_for_two_invoices_naming_one)
{
	/* 1,500.00 for INV-1001 (1,000.00) and INV-1002 (500.00), the
	 * reference naming only the first: the named invoice is settled, the
	 * rest is held as the customer's credit, never put on the other
	 * invoice by guess (a person allocates it). */
	load(INV_HEAD "A,INV-1001,Hallberg Design AB,,2025-03-01,2025-03-31,1000.00,open\n"
	              "B,INV-1002,Hallberg Design AB,,2025-03-03,2025-04-02,500.00,open\n",
	     PAY_HEAD "P1,2025-04-01,HALLBERG DESIGN AB,1500.00,INV-1001,\n");
	run();
	expect("P1", "A:100000+0:applied:reference");
	expect_status("A", "paid 0");
	expect_status("B", "open 50000");
	char *c = db_text(&fx, "SELECT count(*) FROM payment_credits");
	cr_expect_str_eq(c, "1\n");
	free(c);
}

Test(batch, bookkeeper_a_batch_short_by_a_bank_fee)
{
	/* Two named invoices paid 7.50 short of their 1,200.00 (0.6 %): a
	 * bank fee, written off the newest; both are paid. */
	load(INV_HEAD "A,INV-1101,Castro Logistica SL,,2025-03-01,2025-03-31,700.00,open\n"
	              "B,INV-1102,Castro Logistica SL,,2025-03-03,2025-04-02,500.00,open\n",
	     PAY_HEAD "P1,2025-04-01,CASTRO LOGISTICA,1192.50,INV-1101 INV-1102,\n");
	run();
	expect("P1", "A:70000+0:applied:batch_reference B:49250+750:applied:batch_reference");
	expect_status("A", "paid 0");
	expect_status("B", "paid 0");
}
