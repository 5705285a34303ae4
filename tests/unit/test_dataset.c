/* Tests of src/dataset: definitions (dsdef.c), cell values (dsvalue.c) and
 * the top N by value of breakdowns (dstop.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/dsdef.h"
#include "dataset/dsinfer.h"
#include "dataset/dsrollup.h"
#include "dataset/dstop.h"
#include "dataset/dsvalue.h"

static const char *good =
	"{\"name\":\"orders\",\"title\":\"Retail\",\"time\":{\"column\":\"Order Date\",\"grain\":\"month\"},"
	"\"dimensions\":[{\"name\":\"region\",\"column\":\"Region\"},{\"name\":\"cat\"}],"
	"\"measures\":[{\"name\":\"sales\",\"column\":\"Sales\",\"type\":\"money\"},"
	"{\"name\":\"qty\",\"column\":\"Quantity\",\"type\":\"integer\"},"
	"{\"name\":\"disc\",\"column\":\"Discount\",\"type\":\"decimal\",\"scale\":3}],"
	"\"key\":[\"Order ID\",\"Product ID\"],\"required\":[\"Sales\"]}";

Test(dsdef, parses_the_contract_shape)
{
	dsdef_t d;
	char why[256];
	cr_assert(dsdef_parse(good, strlen(good), &d, why, sizeof why), "%s", why);
	cr_assert_str_eq(d.name, "orders");
	cr_assert_eq(d.grain, INTERVAL_MONTH);
	cr_assert_eq(d.ndims, 2);
	cr_assert_str_eq(d.dims[1].column, "cat", "a column defaults to the name");
	cr_assert_eq(d.nmeasures, 3);
	cr_assert_eq(d.measures[2].type, DSM_DECIMAL);
	cr_assert_eq(d.measures[2].scale, 3);
	cr_assert_eq(d.nkey, 2);
	cr_assert_str_eq(d.required[0], "Sales");
	cr_assert_eq(dsdef_dim_index(&d, "cat"), 1);
	cr_assert_eq(dsdef_measure_index(&d, "qty"), 1);
	/* the JSON form reads back to itself */
	buf_t a = BUF_INIT, b = BUF_INIT;
	dsdef_t d2;
	dsdef_json(&d, &a);
	cr_assert(dsdef_parse(a.p, a.len, &d2, why, sizeof why), "%s", why);
	dsdef_json(&d2, &b);
	cr_assert_str_eq(a.p, b.p);
	buf_free(&a);
	buf_free(&b);
}

static void refused(const char *json, const char *reason_part)
{
	dsdef_t d;
	char why[256] = "";
	cr_assert_not(dsdef_parse(json, strlen(json), &d, why, sizeof why), "accepted: %s", json);
	cr_assert(strstr(why, reason_part), "'%s' lacks '%s'", why, reason_part);
}

#define T "\"time\":{\"column\":\"D\"}"
#define M "\"measures\":[{\"name\":\"m\",\"type\":\"integer\"}]"

Test(dsdef, refuses_with_a_reason)
{
	refused("[]", "object");
	refused("{\"name\":\"x\"", "not valid JSON");
	refused("{\"name\":\"Orders\"," T "," M "}", "name");
	refused("{\"name\":\"1x\"," T "," M "}", "name");
	refused("{\"name\":\"x\"," M "}", "time is missing");
	refused("{\"name\":\"x\",\"time\":{\"column\":\"D\",\"grain\":\"week\"}," M "}", "grain");
	refused("{\"name\":\"x\"," T "}", "measures");
	refused("{\"name\":\"x\"," T ",\"measures\":[]}", "measures");
	refused("{\"name\":\"x\"," T ",\"measures\":[{\"name\":\"m\",\"type\":\"float\"}]}", "never floating point");
	refused("{\"name\":\"x\"," T ",\"measures\":[{\"name\":\"m\",\"type\":\"decimal\"}]}", "scale");
	refused("{\"name\":\"x\"," T ",\"measures\":[{\"name\":\"m\",\"type\":\"decimal\",\"scale\":7}]}", "scale");
	refused("{\"name\":\"x\"," T ",\"measures\":[{\"name\":\"m\",\"type\":\"money\",\"scale\":2}]}", "decimal measures only");
	refused("{\"name\":\"x\"," T "," M ",\"dimension\":[]}", "unknown member 'dimension'");
	refused("{\"name\":\"x\"," T "," M ",\"dimensions\":[{\"name\":\"m\"}]}", "used twice");
	refused("{\"name\":\"x\"," T "," M ",\"dimensions\":[{\"name\":\"a\",\"column\":\"d\"}]}", "is used twice (time, dimensions");
	refused("{\"name\":\"x\"," T "," M ",\"key\":[\"A\",\"a\"]}", "twice");
	refused("{\"name\":\"x\"," T "," M ",\"dimensions\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"},{\"name\":\"d1\"},"
	        "{\"name\":\"e\"},{\"name\":\"f\"},{\"name\":\"g\"},{\"name\":\"h\"},{\"name\":\"i\"}]}", "at most 8");
	refused("{\"name\":\"x\"," T "," M ",\"title\":7}", "title");
	refused("{\"name\":\"x\",\"time\":{\"column\":\"   \"}," M "}", "column name");
	refused("{\"name\":\"x\",\"time\":{\"column\":\"D\",\"format\":\"%d/%m\"}," M "}", "time.format");
	refused("{\"name\":\"x\",\"time\":{\"column\":\"D\",\"format\":7}," M "}", "time.format");
}

/* Superstore's 11/8/2016: the sample's days above 12 decide the format,
 * which the definition keeps for the imports; no day above 12 is asked. */
Test(dsinfer, a_date_format_the_sample_decides_is_kept)
{
	const char *csv = "Order Date,Region,Sales\n11/8/2016,East,10.00\n6/12/2016,West,5.00\n6/19/2016,East,2.50\n";
	import_opts o = {0};
	buf_t out = BUF_INIT;
	char why[256];
	cr_assert(dsinfer_run(csv, strlen(csv), "orders", &o, 2, &out, why, sizeof why), "%s", why);
	cr_assert(strstr(out.p, "%m/%d/%Y"), "%s", out.p);
	buf_free(&out);
	const char *amb = "Order Date,Region,Sales\n1/2/2016,East,10.00\n3/4/2016,West,5.00\n";
	cr_assert_not(dsinfer_run(amb, strlen(amb), "orders", &o, 2, &out, why, sizeof why));
	cr_assert(strstr(why, "%d/%m/%Y") && strstr(why, "%m/%d/%Y"), "%s", why);
	buf_free(&out);
	/* the definition reads back with its format */
	dsdef_t d;
	const char *def = "{\"name\":\"x\",\"time\":{\"column\":\"D\",\"format\":\"%m/%d/%Y\"}," M "}";
	cr_assert(dsdef_parse(def, strlen(def), &d, why, sizeof why), "%s", why);
	cr_assert_str_eq(d.time_format, "%m/%d/%Y");
}

static date_t day(const char *s)
{
	date_t d;
	cr_assert(date_parse(s, strlen(s), &d));
	return d;
}

Test(dsvalue, time_at_each_grain)
{
	date_t d;
	char why[128];
	cr_assert(dsvalue_time(slice_cstr(" 2024-03-05 "), INTERVAL_DAY, NULL, &d, why, sizeof why));
	cr_assert_eq(d, day("2024-03-05"));
	cr_assert(dsvalue_time(slice_cstr("2024-03-05T10:11:12Z"), INTERVAL_DAY, NULL, &d, why, sizeof why));
	cr_assert_eq(d, day("2024-03-05"));
	cr_assert(dsvalue_time(slice_cstr("05/03/2024"), INTERVAL_DAY, "%d/%m/%Y", &d, why, sizeof why));
	cr_assert_eq(d, day("2024-03-05"));
	cr_assert(dsvalue_time(slice_cstr("2024-03"), INTERVAL_MONTH, NULL, &d, why, sizeof why));
	cr_assert_eq(d, day("2024-03-01"));
	cr_assert(dsvalue_time(slice_cstr("2024-03-17"), INTERVAL_MONTH, NULL, &d, why, sizeof why));
	cr_assert_eq(d, day("2024-03-01"));
	const char *quarters[] = {"2024-Q3", "2024Q3", "2024 Q3", "Q3 2024", "q3-2024", "2024-08-09"};
	for (size_t i = 0; i < sizeof quarters / sizeof quarters[0]; i++) {
		cr_assert(dsvalue_time(slice_cstr(quarters[i]), INTERVAL_QUARTER, NULL, &d, why, sizeof why), "%s", quarters[i]);
		cr_assert_eq(d, day("2024-07-01"), "%s", quarters[i]);
	}
	cr_assert(dsvalue_time(slice_cstr("2019"), INTERVAL_YEAR, NULL, &d, why, sizeof why));
	cr_assert_eq(d, day("2019-01-01"));
	cr_assert_not(dsvalue_time(slice_cstr("2019"), INTERVAL_DAY, NULL, &d, why, sizeof why));
	cr_assert_not(dsvalue_time(slice_cstr("2024-Q5"), INTERVAL_QUARTER, NULL, &d, why, sizeof why));
	cr_assert_not(dsvalue_time(slice_cstr("2024-02-30"), INTERVAL_DAY, NULL, &d, why, sizeof why));
	cr_assert(strstr(why, "2024-02-30"));
	cr_assert_not(dsvalue_time(slice_cstr(""), INTERVAL_DAY, NULL, &d, why, sizeof why));
	cr_assert(strstr(why, "blank"));
}

Test(dsvalue, measures_are_exact)
{
	int64_t v;
	char why[128];
	cr_assert(dsvalue_measure(slice_cstr("12.5"), 2, NULL, &v, why, sizeof why));
	cr_assert_eq(v, 1250);
	cr_assert(dsvalue_measure(slice_cstr("-0.125"), 3, NULL, &v, why, sizeof why));
	cr_assert_eq(v, -125);
	cr_assert(dsvalue_measure(slice_cstr("7"), 0, NULL, &v, why, sizeof why));
	cr_assert_eq(v, 7);
	cr_assert(dsvalue_measure(slice_cstr("0.000001"), 6, NULL, &v, why, sizeof why));
	cr_assert_eq(v, 1);
	cr_assert_not(dsvalue_measure(slice_cstr("1.5"), 0, NULL, &v, why, sizeof why));
	cr_assert(strstr(why, "more than 0 decimals"), "%s", why);
	cr_assert_not(dsvalue_measure(slice_cstr("12,50"), 2, NULL, &v, why, sizeof why));
	cr_assert(strstr(why, "decimal_comma"), "%s", why);
	cr_assert_not(dsvalue_measure(slice_cstr("1e5"), 2, NULL, &v, why, sizeof why));
	cr_assert_not(dsvalue_measure(slice_cstr("10000000000000000"), 0, NULL, &v, why, sizeof why));
	cr_assert(strstr(why, "too large"), "%s", why);
	money_opts eu = {.decimal = ',', .thousands = '.', .round = true};
	cr_assert(dsvalue_measure(slice_cstr("1.234,5678"), 2, &eu, &v, why, sizeof why));
	cr_assert_eq(v, 123457);
}

Test(dsvalue, dimensions_are_trimmed_case_kept)
{
	slice_t v;
	char why[128];
	cr_assert(dsvalue_dim(slice_cstr("  East  "), &v, why, sizeof why));
	cr_assert_eq(v.len, 4);
	cr_assert(!memcmp(v.p, "East", 4));
	cr_assert(dsvalue_dim(slice_cstr("east"), &v, why, sizeof why));
	cr_assert(!memcmp(v.p, "east", 4), "case is kept");
	char big[DSVALUE_MAX_TEXT + 2];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	cr_assert_not(dsvalue_dim(slice_cstr(big), &v, why, sizeof why));
}

Test(dsrollup, levels_per_grain)
{
	interval_t lv[3];
	cr_assert_eq(dsrollup_levels(INTERVAL_DAY, lv), 3);
	cr_assert_eq(lv[1], INTERVAL_MONTH);
	cr_assert_eq(lv[2], INTERVAL_YEAR);
	cr_assert_eq(dsrollup_levels(INTERVAL_QUARTER, lv), 2);
	cr_assert_eq(dsrollup_levels(INTERVAL_YEAR, lv), 1);
}

/* The reference order: sum descending, then the value's bytes. */
typedef struct {
	char v[16];
	int64_t s, rows;
} ref_item;

static int ref_cmp(const void *x, const void *y)
{
	const ref_item *a = x, *b = y;
	if (a->s != b->s)
		return a->s > b->s ? -1 : 1;
	return strcmp(a->v, b->v);
}

Test(dstop, top_n_equals_a_full_sort_with_merges_ties_and_prefixes)
{
	enum { N = 3000 };
	static ref_item ref[N];
	unsigned seed = 7;
	for (int i = 0; i < N; i++) {
		/* many equal sums (ties by value) and values that prefix others */
		snprintf(ref[i].v, sizeof ref[i].v, "k%05d%s", i / 3 * 7 % 1000, i % 3 == 0 ? "" : i % 3 == 1 ? "a" : "ab");
		seed = seed * 1103515245u + 12345u;
		ref[i].s = (int64_t)(seed >> 20) % 50 - 20;
		ref[i].rows = 0;
	}
	size_t tops[] = {0, 1, 2, 9, 10, 100, 999, N - 1, N, N + 5};
	for (size_t ti = 0; ti < sizeof tops / sizeof tops[0]; ti++) {
		dstop *t = dstop_new();
		/* each value arrives in two parts (two rollup segments) */
		for (int i = 0; i < N; i++)
			dstop_add(t, ref[i].v, strlen(ref[i].v), 1, 1, ref[i].s - 3, true, ref[i].s, ref[i].s);
		for (int i = N - 1; i >= 0; i--)
			dstop_add(t, ref[i].v, strlen(ref[i].v), 1, 1, 3, true, -100 - i, 100);
		const dstop_item *it;
		size_t n = dstop_top(t, tops[ti], &it);
		cr_assert_eq(n, (size_t)N);
		qsort(ref, N, sizeof ref[0], ref_cmp);
		size_t k = tops[ti] < N ? tops[ti] : N;
		int64_t rest = 0, want_rest = 0;
		for (size_t i = 0; i < k; i++) {
			cr_assert_str_eq(dstop_value(t, &it[i]), ref[i].v, "top %zu, place %zu", tops[ti], i);
			cr_assert_eq(it[i].s, ref[i].s);
			cr_assert_eq(it[i].rows, 2);
			cr_assert(it[i].has && it[i].hi == 100 && it[i].lo < -99);
		}
		for (size_t i = k; i < n; i++) {
			rest += it[i].s;
			want_rest += ref[i].s;
		}
		cr_assert_eq(rest, want_rest, "the rest holds the other values");
		/* a lookup after the reorder still finds each value's item */
		cr_assert_eq(dstop_get(t, ref[N / 2].v, strlen(ref[N / 2].v))->s, ref[N / 2].s);
		cr_assert_eq(dstop_get(t, "absent", 6)->rows, 0);
		dstop_free(t);
	}
}
