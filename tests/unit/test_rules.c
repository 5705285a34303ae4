/* Issue 15: an organisation's reconciliation rules, stored, validated,
 * kept in a change history, and taken by runs (explicit options win). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "match/matcher.h"
#include "match/rules.h"

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

TestSuite(rules, .init = open_fx, .fini = close_fx);

static matcher_status update(const char *json, buf_t *out)
{
	buf_reset(out);
	return rules_update(fx.store, fx.org, json, strlen(json), "test", out, why, sizeof why);
}

static score_opts loaded(void)
{
	score_opts o;
	store_conn_t *c = store_read_begin(fx.store);
	cr_assert_eq(rules_load(c, fx.org, &o, why, sizeof why), 0, "%s", why);
	store_read_end(c);
	return o;
}

Test(rules, defaults_then_changes_with_history)
{
	score_opts o = loaded(), d;
	score_opts_init(&d);
	cr_expect_eq(o.tol_abs, d.tol_abs);
	buf_t out = BUF_INIT;
	cr_assert_eq(update("{\"writeoff_max\": \"5.00\", \"writeoff_max_percent\": 1, \"days_after_due\": 120,"
	                    " \"rules\": {\"batch_amount\": false}}", &out),
	             MATCHER_OK, "%s", why);
	json_t *j = json_loads(out.p, 0, NULL);
	cr_assert_not_null(j, "%s", out.p);
	cr_expect_eq(json_integer_value(json_object_get(j, "writeoff_max")), 500);
	cr_expect(json_is_false(json_object_get(json_object_get(j, "rules"), "batch_amount")));
	json_decref(j);
	o = loaded();
	cr_expect_eq(o.tol_abs, 500);
	cr_expect_float_eq(o.tol_pct, 0.01, 1e-12);
	cr_expect_eq(o.days_after_due, 120);
	cr_expect(!o.use_batch_amount && o.use_batch_reference);
	/* The same again changes nothing and records nothing. */
	cr_assert_eq(update("{\"days_after_due\": 120}", &out), MATCHER_OK);
	buf_reset(&out);
	cr_assert_eq(rules_history(fx.store, fx.org, 10, &out, why, sizeof why), MATCHER_OK);
	j = json_loads(out.p, 0, NULL);
	json_t *ch = json_object_get(j, "changes");
	cr_assert_eq(json_array_size(ch), 1, "%s", out.p);
	json_t *c0 = json_array_get(ch, 0);
	cr_expect_str_eq(json_string_value(json_object_get(c0, "actor")), "test");
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(c0, "before"), "days_after_due")), 90);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(c0, "after"), "days_after_due")), 120);
	json_decref(j);
	buf_free(&out);
}

Test(rules, bad_rules_are_refused_and_nothing_stored)
{
	buf_t out = BUF_INIT;
	const char *bad[] = {
		"{\"auto_threshold\": 1.5}",
		"{\"auto_threshold\": 0.4, \"review_threshold\": 0.6}",
		"{\"writeoff_max\": -1}",
		"{\"writeoff_max\": \"ten\"}",
		"{\"batch_max_invoices\": 9}",
		"{\"days_after_due\": 1.5}",
		"{\"rules\": {\"reference\": false}}",
		"{\"rules\": {\"credit\": 1}}",
		"{\"colour\": \"blue\"}",
		"[1, 2]",
		"{\"writeoff_max\": 1,",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(update(bad[i], &out), MATCHER_INVALID, "%s accepted", bad[i]);
	buf_reset(&out);
	cr_assert_eq(rules_history(fx.store, fx.org, 10, &out, why, sizeof why), MATCHER_OK);
	cr_expect_str_eq(out.p, "{\"changes\":[]}");
	buf_free(&out);
}

Test(rules, runs_take_the_org_rules_and_explicit_options_win)
{
	const char *inv = "id,number,customer,customer_id,issue_date,due_date,amount,status\n"
	                  "A,INV-0601,Lumen Labs,,2025-01-10,2025-02-09,1000.00,open\n";
	const char *pay = "id,date,payer,amount,reference,customer_id\n"
	                  "P1,2025-02-05,LUMEN LABS,992.50,INV-0601,\n";
	import_result ir;
	import_opts io = fx_opts(&fx, ENT_INVOICES);
	cr_assert_eq(fx_import(&fx, &io, inv, strlen(inv), &ir, why, sizeof why), 0, "%s", why);
	io = fx_opts(&fx, ENT_PAYMENTS);
	cr_assert_eq(fx_import(&fx, &io, pay, strlen(pay), &ir, why, sizeof why), 0, "%s", why);
	buf_t out = BUF_INIT;
	/* The org switches write-offs off and wants 0.995 to apply. */
	cr_assert_eq(update("{\"rules\": {\"writeoff\": false}, \"auto_threshold\": 0.995}", &out), MATCHER_OK);
	buf_free(&out);
	matcher_opts o;
	matcher_opts_init(&o);
	o.threads = 1;
	o.dry_run = true;
	matcher_result r;
	cr_assert_eq(matcher_run(fx.store, fx.org, &o, &r, why, sizeof why), 0, "%s", why);
	cr_expect_eq(r.applied, 0, "the org's auto threshold");
	cr_expect_eq(r.proposed, 1);
	/* An explicit threshold wins over the org's. */
	o.score.auto_threshold = 0.9;
	o.dry_run = false;
	cr_assert_eq(matcher_run(fx.store, fx.org, &o, &r, why, sizeof why), 0, "%s", why);
	cr_expect_eq(r.applied, 1);
	char *got = db_text(&fx, "SELECT status || ' ' || outstanding FROM invoices");
	cr_expect_str_eq(got, "partial 750\n", "no write-off: the org switched it off");
	free(got);
}

Test(rules, merge_keeps_explicit_and_takes_the_rest)
{
	score_opts org, ex, out;
	score_opts_init(&org);
	score_opts_init(&ex);
	org.tol_abs = 1;
	org.auto_threshold = 0.9;
	org.use_credit = false;
	ex.auto_threshold = 0.8;
	rules_merge(&org, &ex, &out);
	cr_expect_float_eq(out.auto_threshold, 0.8, 1e-12);
	cr_expect_eq(out.tol_abs, 1);
	cr_expect(!out.use_credit);
}
