/* fuzz_dataset_def: data set definitions (the body of POST
 * /api/v1/datasets and `brisk dataset create --file`, src/dataset/dsdef.c),
 * and the value readers of its import (dsvalue.c). Byte 0 picks: even, the
 * rest is a definition; odd, the rest is a cell read as time (each grain),
 * measure (scale 0..6, strict and lenient) and dimension.
 *
 * Checks: a refusal always says why; an accepted definition's JSON form
 * parses back to the same JSON form (nothing lost or changed on the way
 * through the store); every name accepted passes dsdef_name_ok; a measure
 * read is below 10^15 units; a time read is the start of its grain's
 * bucket; a dimension is at most DSVALUE_MAX_TEXT bytes and trimmed. */
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "dataset/dsdef.h"
#include "dataset/dsvalue.h"

static void values(const char *p, size_t n)
{
	char why[256];
	slice_t v = {p, n};
	static const interval_t grains[] = {INTERVAL_DAY, INTERVAL_MONTH, INTERVAL_QUARTER, INTERVAL_YEAR};
	for (int g = 0; g < 4; g++) {
		date_t d;
		why[0] = '\0';
		if (dsvalue_time(v, grains[g], g == 1 ? "%d/%m/%Y" : NULL, &d, why, sizeof why))
			FUZZ_CHECK(date_bucket_start(d, grains[g]) == d, "a time is the start of its bucket");
		else
			FUZZ_CHECK(why[0], "a refused time says why");
	}
	money_opts lenient = {.decimal = ',', .thousands = '.', .symbols = true, .plus = true, .parens = true, .round = true};
	for (int scale = 0; scale <= DSDEF_MAX_SCALE; scale++) {
		int64_t x;
		why[0] = '\0';
		if (dsvalue_measure(v, scale, scale & 1 ? &lenient : NULL, &x, why, sizeof why))
			FUZZ_CHECK(money_in_bounds(x), "a measure is below 10^15 units");
		else
			FUZZ_CHECK(why[0], "a refused measure says why");
	}
	slice_t dv;
	if (dsvalue_dim(v, &dv, why, sizeof why)) {
		FUZZ_CHECK(dv.len <= DSVALUE_MAX_TEXT, "a dimension value is bounded");
		FUZZ_CHECK(!dv.len || (dv.p[dv.len - 1] != ' ' && dv.p[dv.len - 1] != '\t'), "a dimension value is trimmed");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	if (data[0] & 1) {
		values(p, n);
		return 0;
	}
	static dsdef_t d, d2;
	char why[512] = "";
	if (!dsdef_parse(p, n, &d, why, sizeof why)) {
		FUZZ_CHECK(why[0], "a refused definition says why");
		return 0;
	}
	FUZZ_CHECK(dsdef_name_ok(d.name, strlen(d.name)), "the name is valid");
	buf_t a = BUF_INIT, b = BUF_INIT;
	dsdef_json(&d, &a);
	FUZZ_CHECK(dsdef_parse(a.p, a.len, &d2, why, sizeof why), "the JSON form parses back");
	dsdef_json(&d2, &b);
	FUZZ_CHECK(a.len == b.len && !memcmp(a.p, b.p, a.len), "the JSON form is stable");
	buf_free(&a);
	buf_free(&b);
	return 0;
}
