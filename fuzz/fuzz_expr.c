/* fuzz_expr: the recoding expressions of src/ingest/expr.c and the option
 * texts of src/ingest/recode.c over arbitrary text.
 *
 * Byte 0 picks what the rest is: bit 0 a condition (else a value
 * expression), bit 1 a rules text, bit 2 a --values text, bit 3 a
 * --compute text (for costs). Checks: a refusal says why; a parsed
 * expression names only non-empty names; evaluating over a fixed row
 * either succeeds or says why, twice alike; a number formats to text that
 * reads back as the same number; rounding to cents never fails but for
 * the amount bound. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "core/money.h"
#include "ingest/expr.h"
#include "ingest/recode.h"

static const char *const row[] = {"12.50", "", "abc", "2024-01-05", "-0.125", "99999999999999.99", "1,234.5", "0"};
#define NROW (sizeof row / sizeof row[0])

static slice_t get(void *ud, int slot)
{
	(void)ud;
	return slice_cstr(row[(size_t)slot % NROW]);
}

static void check_number(decimal_t v)
{
	char buf[DECIMAL_BUFSZ];
	size_t n = decimal_format(v, buf, sizeof buf);
	FUZZ_CHECK(n == strlen(buf) && n > 0, "format length %zu", n);
	if (v.scale < 2 || v.scale > 9 || v.num > INT64_MAX || v.num < -INT64_MAX)
		return;
	decimal_t back;
	FUZZ_CHECK(decimal_parse(buf, n, NULL, &back) && decimal_cmp(back, v) == 0, "\"%s\" does not read back", buf);
}

static void run_expr(const char *s, size_t n, expr_mode mode)
{
	char why[200] = "";
	expr_t *e = expr_parse(s, n, mode, NULL, why, sizeof why);
	if (!e) {
		FUZZ_CHECK(why[0], "a refusal without a reason");
		return;
	}
	int slots[EXPR_MAX_TEXT];
	for (int i = 0; i < expr_nnames(e); i++) {
		FUZZ_CHECK(expr_name(e, i)[0], "an empty name");
		slots[i] = i;
	}
	expr_ctx c = {get, NULL, slots, NULL, NULL};
	money_opts mo = {.decimal = '.', .thousands = ','};
	for (int pass = 0; pass < 2; pass++) {
		c.money = pass ? &mo : NULL;
		if (mode == EXPR_COND) {
			bool a = false, b = false;
			char w1[200] = "", w2[200] = "";
			bool ok1 = expr_test(e, &c, &a, w1, sizeof w1), ok2 = expr_test(e, &c, &b, w2, sizeof w2);
			FUZZ_CHECK(ok1 == ok2 && (!ok1 || a == b), "two evaluations differ");
			FUZZ_CHECK(ok1 || w1[0], "a failed test without a reason");
			continue;
		}
		expr_val v, w;
		char w1[200] = "", w2[200] = "";
		bool ok1 = expr_eval(e, &c, &v, w1, sizeof w1), ok2 = expr_eval(e, &c, &w, w2, sizeof w2);
		FUZZ_CHECK(ok1 == ok2, "two evaluations differ");
		if (!ok1) {
			FUZZ_CHECK(w1[0], "a failed evaluation without a reason");
			continue;
		}
		FUZZ_CHECK(v.kind == w.kind && (v.kind != EXPR_NUM || decimal_cmp(v.num, w.num) == 0), "two evaluations differ");
		if (v.kind != EXPR_NUM)
			continue;
		check_number(v.num);
		int64_t cents;
		decimal_status st = decimal_to_minor(v.num, 2, true, &cents);
		FUZZ_CHECK(st != DECIMAL_INEXACT, "rounding with round left it inexact");
		FUZZ_CHECK(st != DECIMAL_OK || money_in_bounds(cents), "%lld out of bounds", (long long)cents);
	}
	expr_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > EXPR_MAX_TEXT + 1)
		return 0;
	uint8_t bits = data[0];
	char *s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if (bits & 14) {
		/* NUL-terminated option texts, as the option parser hands them. */
		recode_t *r = NULL;
		char why[320] = "";
		bool ok = recode_parse(ENT_COSTS, bits & 4 ? s : NULL, bits & 8 ? s : NULL, NULL, bits & 2 ? s : NULL, &r,
		                       why, sizeof why);
		FUZZ_CHECK(ok || why[0], "a refusal without a reason");
		FUZZ_CHECK(ok || !r, "a refusal with a result");
		recode_free(r);
	} else {
		run_expr(s, size - 1, bits & 1 ? EXPR_COND : EXPR_VALUE);
	}
	free(s);
	return 0;
}
