/* fuzz_alert_rule: the bodies of POST /api/v1/alert-rules and
 * /api/v1/schedules (src/notify): jansson with the API's flags, then
 * alert_rule_from_json or schedule_from_json; byte 0 picks which, and for
 * rules the org's currency decimals (0, 2 or 3).
 *
 * Checks: a refusal always says why; an accepted rule's JSON form parses
 * back to the same threshold, duration and channels, and its channels hold
 * no control characters (they end up in HTTP requests and mail headers). */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "notify/rules.h"
#include "notify/schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	json_error_t je;
	json_t *o = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		return 0;
	char err[512] = "";
	if (data[0] & 1) {
		report_schedule s;
		schedule_init(&s, 1);
		if (schedule_from_json(o, true, NULL, &s, err, sizeof err) != 0)
			FUZZ_CHECK(err[0], "a refused schedule says why");
		else {
			FUZZ_CHECK(schedule_next(&s, 1700000000) > 1700000000, "the next run is in the future");
			FUZZ_CHECK(s.channels && !strpbrk(s.channels, "\r\n"), "no CR/LF in channels");
		}
		schedule_clear(&s);
	} else {
		static const int minors[] = {0, 2, 3, 2};
		int minor = minors[(data[0] >> 1) & 3];
		alert_rule r;
		alert_rule_init(&r, 1);
		if (alert_rule_from_json(o, minor, true, &r, err, sizeof err) != 0)
			FUZZ_CHECK(err[0], "a refused rule says why");
		else {
			FUZZ_CHECK(r.fig && r.channels, "a figure and channels");
			for (const char *p = r.channels; *p; p++)
				FUZZ_CHECK((unsigned char)*p >= 0x20, "no control characters in channels");
			buf_t out = BUF_INIT;
			alert_rule_json(&r, minor, &out);
			json_t *back = json_loadb(out.p, out.len, 0, &je);
			FUZZ_CHECK(back, "the rule's JSON parses: %s", je.text);
			FUZZ_CHECK(json_integer_value(json_object_get(back, "threshold")) == r.threshold, "threshold");
			FUZZ_CHECK(json_integer_value(json_object_get(back, "for")) == r.for_s, "for");
			json_decref(back);
			buf_free(&out);
		}
		alert_rule_clear(&r);
	}
	json_decref(o);
	return 0;
}
