/* Business alerts (src/notify): the state machine of a rule (ok, pending
 * for a duration, firing, resolved), rule and schedule validation, the
 * webhook signature, and when a schedule runs next. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "core/date.h"
#include "notify/outbox.h"
#include "notify/rules.h"
#include "notify/schedule.h"

static alert_rule rule_of(const char *json)
{
	alert_rule r;
	alert_rule_init(&r, 1);
	char err[256] = "";
	json_t *o = json_loads(json, 0, NULL);
	cr_assert(o);
	int rc = alert_rule_from_json(o, 2, true, &r, err, sizeof err);
	json_decref(o);
	cr_assert_eq(rc, 0, "%s", err);
	return r;
}

Test(notify, fires_once_and_resolves)
{
	alert_rule r = rule_of("{\"figure\":\"cash_balance\",\"op\":\"<\",\"threshold\":\"200.00\"}");
	cr_expect_eq(r.threshold, 20000);
	cr_expect_eq(alert_rule_step(&r, true, 30000, 100), RULE_SAME);
	cr_expect_eq(alert_rule_step(&r, true, 20000, 100), RULE_SAME, "not below: equal");
	cr_expect_eq(alert_rule_step(&r, true, 19999, 100), RULE_FIRE);
	strcpy(r.state, "firing");
	cr_expect_eq(alert_rule_step(&r, true, 100, 200), RULE_SAME, "still below: no second firing");
	cr_expect_eq(alert_rule_step(&r, false, 0, 200), RULE_RESOLVE, "undefined never holds");
	cr_expect_eq(alert_rule_step(&r, true, 20000, 200), RULE_RESOLVE);
	alert_rule_clear(&r);
}

Test(notify, duration_goes_through_pending)
{
	alert_rule r = rule_of("{\"figure\":\"largest_unmatched_payment\",\"op\":\">\",\"threshold\":\"5000\",\"for\":\"1d\"}");
	cr_expect_eq(r.for_s, 86400);
	cr_expect_eq(alert_rule_step(&r, true, 600000, 1000), RULE_PENDING);
	strcpy(r.state, "pending");
	r.since = 1000;
	cr_expect_eq(alert_rule_step(&r, true, 600000, 1000 + 86399), RULE_SAME);
	cr_expect_eq(alert_rule_step(&r, true, 600000, 1000 + 86400), RULE_FIRE);
	cr_expect_eq(alert_rule_step(&r, true, 400000, 1000 + 5), RULE_CANCEL);
	alert_rule_clear(&r);
}

Test(notify, thresholds_in_the_figures_units)
{
	alert_rule r = rule_of("{\"figure\":\"dso\",\"op\":\">=\",\"threshold\":\"45.5\"}");
	cr_expect_eq(r.threshold, 455, "tenths of a day");
	alert_rule_clear(&r);
	r = rule_of("{\"figure\":\"overdue_60_count\",\"op\":\">\",\"threshold\":0}");
	cr_expect_eq(r.threshold, 0);
	alert_rule_clear(&r);
	const char *bad[] = {
		"{\"figure\":\"open_invoices\",\"op\":\">\",\"threshold\":\"1.5\"}",
		"{\"figure\":\"cash_balance\",\"op\":\"<\",\"threshold\":1e3}",
		"{\"figure\":\"cash_balance\",\"op\":\"<\",\"threshold\":\"99999999999999999\"}",
		"{\"figure\":\"cash_balance\",\"op\":\"<\",\"threshold\":1,\"emails\":[\"a@@b.c\"]}",
		"{\"figure\":\"cash_balance\",\"op\":\"<\",\"threshold\":1,\"webhooks\":[\"http://x/\\r\\n\"]}",
		"{\"figure\":\"cash_balance\",\"op\":\"<\",\"threshold\":1,\"name\":\"\"}",
		"[]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		alert_rule_init(&r, 1);
		char err[256] = "";
		json_t *o = json_loads(bad[i], 0, NULL);
		cr_expect_neq(alert_rule_from_json(o, 2, true, &r, err, sizeof err), 0, "%s", bad[i]);
		cr_expect(err[0], "a reason for %s", bad[i]);
		json_decref(o);
		alert_rule_clear(&r);
	}
}

Test(notify, webhook_signature_is_hmac_sha256)
{
	/* RFC 4231 has no "t." prefix: computed with
	 * printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key */
	char sig[128];
	outbox_sign("key", 1700000000, "{\"a\":1}", 7, sig);
	cr_expect_str_eq(sig, "t=1700000000,sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03");
}

static report_schedule sched_of(const char *json)
{
	report_schedule s;
	schedule_init(&s, 1);
	char err[256] = "";
	json_t *o = json_loads(json, 0, NULL);
	int rc = schedule_from_json(o, true, NULL, &s, err, sizeof err);
	json_decref(o);
	cr_assert_eq(rc, 0, "%s", err);
	return s;
}

static int64_t at(int y, int m, int d, int hh, int mm)
{
	return (int64_t)date_from_ymd(y, m, d) * 86400 + hh * 3600 + mm * 60;
}

Test(notify, schedule_next_run)
{
	report_schedule s = sched_of("{\"kind\":\"report\",\"every\":\"monthly:2\",\"at\":\"07:30\"}");
	cr_expect_eq(schedule_next(&s, at(2026, 12, 1, 12, 0)), at(2026, 12, 2, 7, 30));
	cr_expect_eq(schedule_next(&s, at(2026, 12, 2, 7, 30)), at(2027, 1, 2, 7, 30), "strictly after now");
	schedule_clear(&s);
	s = sched_of("{\"kind\":\"export\",\"params\":{\"kind\":\"invoices\"},\"every\":\"weekly:mon\"}");
	/* 2026-12-04 is a Friday: the next Monday is the 7th, at 06:00 */
	cr_expect_eq(schedule_next(&s, at(2026, 12, 4, 18, 0)), at(2026, 12, 7, 6, 0));
	schedule_clear(&s);
	s = sched_of("{\"kind\":\"report\",\"every\":\"daily\",\"at\":\"23:59\"}");
	cr_expect_eq(schedule_next(&s, at(2026, 12, 31, 23, 59)), at(2027, 1, 1, 23, 59));
	schedule_clear(&s);
}
