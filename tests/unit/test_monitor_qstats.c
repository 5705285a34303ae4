/* qstats: per-statement stats, the slow-query ring and its parameter
 * shapes, and the store's timing hooks feeding them. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "monitor/metrics.h"
#include "monitor/qstats.h"

static void fresh(void)
{
	metrics_reset_for_tests();
	qstats_reset_for_tests();
}

TestSuite(monitor_qstats, .init = fresh, .fini = fresh);

static const char *const q_a = "SELECT a FROM t WHERE x = ?";
static const char *const q_b = "UPDATE t SET a = ? WHERE x = ?";

static json_t *json_of(void)
{
	buf_t b = BUF_INIT;
	qstats_json(&b, 50);
	json_error_t e;
	json_t *j = json_loadb(b.p, b.len, 0, &e);
	cr_assert_not_null(j, "qstats_json is not JSON: %s: %s", e.text, b.p);
	buf_free(&b);
	return j;
}

Test(monitor_qstats, per_statement_counts_totals_and_p95)
{
	for (int i = 1; i <= 100; i++)
		qstats_record(q_a, (uint64_t)i * 10000, false, 1, 0); /* 10 us .. 1 ms */
	qstats_record(q_b, 5000000, true, 2, 0);                  /* 5 ms */
	qstats_totals t;
	qstats_get_totals(&t);
	cr_assert_eq(t.executions, 101);
	cr_assert_eq(t.reads, 100);
	cr_assert_eq(t.writes, 1);
	cr_assert_float_eq(t.seconds, 0.0505 + 0.005, 1e-9);

	qstats_stmt top[4];
	cr_assert_eq(qstats_top(top, 4), 2);
	cr_assert_str_eq(top[0].text, q_a, "most total time first");
	cr_assert_eq(top[0].count, 100);
	cr_assert_float_eq(top[0].total_s, 0.0505, 1e-9);
	cr_assert_float_eq(top[0].max_s, 0.001, 1e-12);
	/* exact p95 is 0.95 ms; the statement histogram has 2 buckets per doubling */
	cr_assert(top[0].p95_s > 0.95e-3 * 0.75 && top[0].p95_s <= 1e-3, "p95 %g", top[0].p95_s);
	cr_assert_not(top[0].write);
	cr_assert(top[1].write);
	cr_assert_float_eq(top[1].p95_s, 0.005, 1e-9, "never above the max");

	qstats_stmt s;
	char copy[64];
	snprintf(copy, sizeof copy, "%s", q_b);
	cr_assert(qstats_find(copy, &s), "found by text at another address");
	cr_assert_eq(s.count, 1);
	cr_assert_not(qstats_find("SELECT 1", &s));

	/* The registry histogram counts every execution, by class. */
	buf_t out = BUF_INIT;
	metrics_render(&out);
	cr_assert(strstr(out.p, "brisk_db_query_duration_seconds_count{class=\"read\"} 100\n"), "%s", out.p);
	cr_assert(strstr(out.p, "brisk_db_query_duration_seconds_count{class=\"write\"} 1\n"));
	buf_free(&out);
}

Test(monitor_qstats, slow_statements_are_kept_with_their_shape_newest_first)
{
	qstats_set_threshold(0.1);
	uint64_t shape = 0;
	QSTATS_SHAPE_SET(shape, 1, QSTATS_P_INT);
	QSTATS_SHAPE_SET(shape, 2, QSTATS_P_TEXT);
	QSTATS_SHAPE_SET(shape, 3, QSTATS_P_NULL);
	qstats_record(q_a, 99000000, false, 1, 0);     /* below: not slow */
	qstats_record(q_b, 150000000, true, 3, shape); /* 150 ms */
	qstats_record(q_a, 250000000, false, 1, 0);    /* 250 ms, newest */
	json_t *j = json_of();
	cr_assert_float_eq(json_number_value(json_object_get(j, "threshold_ms")), 100, 1e-9);
	json_t *slow = json_object_get(j, "slow");
	cr_assert_eq(json_array_size(slow), 2);
	json_t *s0 = json_array_get(slow, 0), *s1 = json_array_get(slow, 1);
	cr_assert_str_eq(json_string_value(json_object_get(s0, "sql")), q_a);
	cr_assert_float_eq(json_number_value(json_object_get(s0, "duration_ms")), 250, 1e-6);
	cr_assert_str_eq(json_string_value(json_object_get(s1, "class")), "write");
	json_t *p = json_object_get(s1, "params");
	cr_assert_eq(json_integer_value(json_object_get(p, "count")), 3);
	json_t *types = json_object_get(p, "types");
	cr_assert_eq(json_array_size(types), 3);
	cr_assert_str_eq(json_string_value(json_array_get(types, 0)), "int");
	cr_assert_str_eq(json_string_value(json_array_get(types, 1)), "text");
	cr_assert_str_eq(json_string_value(json_array_get(types, 2)), "null");
	cr_assert_eq(json_integer_value(json_object_get(j, "slow_total")), 2);
	json_decref(j);

	buf_t t = BUF_INIT;
	qstats_shape_text(&t, 3, shape);
	cr_assert_str_eq(t.p, "3 params (int, text, null)");
	buf_reset(&t);
	qstats_shape_text(&t, 0, 0);
	cr_assert_str_eq(t.p, "no params");
	buf_free(&t);
}

Test(monitor_qstats, the_ring_keeps_the_last_hundred)
{
	qstats_set_threshold(0.001);
	for (int i = 0; i < 250; i++)
		qstats_record(q_a, 2000000 + (uint64_t)i * 1000, false, 0, 0);
	json_t *j = json_of();
	json_t *slow = json_object_get(j, "slow");
	cr_assert_eq(json_array_size(slow), QSTATS_SLOW_KEEP);
	double newest = json_number_value(json_object_get(json_array_get(slow, 0), "duration_ms"));
	double oldest = json_number_value(json_object_get(json_array_get(slow, QSTATS_SLOW_KEEP - 1), "duration_ms"));
	cr_assert_float_eq(newest, 2.249, 1e-6);
	cr_assert_float_eq(oldest, 2.150, 1e-6);
	cr_assert_eq(json_integer_value(json_object_get(j, "slow_total")), 250);
	json_decref(j);
	qstats_set_threshold(0);
	qstats_record(q_a, 9000000000u, false, 0, 0);
	qstats_totals t;
	qstats_get_totals(&t);
	cr_assert_eq(t.slow, 250, "threshold 0 turns slow logging off");
}

Test(monitor_qstats, a_full_table_shares_one_entry)
{
	static char sql[QSTATS_STATEMENTS + 10][32];
	for (int i = 0; i < QSTATS_STATEMENTS + 10; i++) {
		snprintf(sql[i], sizeof sql[i], "SELECT %d", i);
		qstats_record(sql[i], 1000, false, 0, 0);
	}
	qstats_stmt *all = malloc((QSTATS_STATEMENTS + 1) * sizeof *all);
	size_t n = qstats_top(all, QSTATS_STATEMENTS + 1);
	cr_assert_eq(n, QSTATS_STATEMENTS + 1);
	uint64_t total = 0;
	bool other = false;
	for (size_t i = 0; i < n; i++) {
		total += all[i].count;
		if (!strcmp(all[i].text, "(other statements)")) {
			other = true;
			cr_assert_eq(all[i].count, 10);
		}
	}
	cr_assert(other);
	cr_assert_eq(total, QSTATS_STATEMENTS + 10);
	free(all);
}

/* Through the store: every statement is timed from its first step to its
 * end or reset, with its class and bound parameter types. */
Test(monitor_qstats, the_store_times_every_statement)
{
	static const char *const ins = "INSERT INTO orgs(slug, name) VALUES(?, ?)";
	static const char *const sel = "SELECT id FROM orgs WHERE slug = ? OR id = ?";
	/* ~30 ms of work for one step, to be slow against a 5 ms threshold */
	static const char *const slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
					"SELECT count(*) FROM c WHERE ? IS NULL OR x > 0";
	store_fx fx;
	store_fx_open(&fx, "acme");
	qstats_reset_for_tests();
	qstats_set_threshold(0.005);
	char err[256];
	store_conn_t *w = store_write_begin(fx.store, err, sizeof err);
	store_stmt_t *st = store_prepare(w, ins);
	store_bind_text(st, 1, "beta", 4);
	store_bind_text(st, 2, "Beta", 4);
	cr_assert_eq(store_step(st), STORE_DONE);
	store_reset(st);
	cr_assert_eq(store_write_commit(w, err, sizeof err), 0, "%s", err);

	store_conn_t *c = store_read_begin(fx.store);
	for (int i = 0; i < 3; i++) {
		st = store_prepare(c, sel);
		store_bind_text(st, 1, "beta", 4);
		store_bind_i64(st, 2, 1);
		while (store_step(st) == STORE_ROW)
			;
		store_reset(st); /* after DONE: not counted twice */
	}
	st = store_prepare(c, sel);
	store_bind_text(st, 1, "acme", 4);
	store_bind_null(st, 2);
	cr_assert_eq(store_step(st), STORE_ROW);
	store_reset(st); /* a ROW then a reset ends it too */
	st = store_prepare(c, slow);
	store_bind_i64(st, 1, 300000);
	store_bind_double(st, 2, 1.5);
	cr_assert_eq(store_step(st), STORE_ROW);
	/* left running: the next prepare of the same statement ends it */
	st = store_prepare(c, slow);
	store_reset(st);
	store_read_end(c);

	qstats_stmt s;
	cr_assert(qstats_find(sel, &s));
	cr_assert_eq(s.count, 4);
	cr_assert_not(s.write);
	cr_assert(qstats_find(ins, &s));
	cr_assert_eq(s.count, 1);
	cr_assert(s.write);
	cr_assert(qstats_find(slow, &s));
	cr_assert_eq(s.count, 1);

	json_t *j = json_of();
	json_t *rows = json_object_get(j, "slow");
	bool found = false;
	for (size_t i = 0; i < json_array_size(rows); i++) {
		json_t *r = json_array_get(rows, i);
		if (strcmp(json_string_value(json_object_get(r, "sql")), slow))
			continue;
		found = true;
		json_t *types = json_object_get(json_object_get(r, "params"), "types");
		cr_assert_eq(json_array_size(types), 2);
		cr_assert_str_eq(json_string_value(json_array_get(types, 0)), "int");
		cr_assert_str_eq(json_string_value(json_array_get(types, 1)), "real");
	}
	cr_assert(found, "the recursive query (>5 ms) is in the slow ring");
	json_decref(j);
	store_fx_close(&fx);
}
