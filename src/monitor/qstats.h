/* qstats: the timing of every store statement.
 *
 * The store calls qstats_record once per statement execution (from its
 * first step to its last step or its reset) with the SQL text's address,
 * which is also its identity: the store caches statements by that address
 * and callers pass string literals. Each distinct statement gets running
 * stats (count, total and longest time, a small histogram for p95); every
 * execution is observed in brisk_db_query_duration_seconds{class}; one
 * slower than the threshold (default 100 ms) is logged with its text and
 * parameter shape (count and types of the bound parameters, never their
 * values) and kept among the last QSTATS_SLOW_KEEP slow ones.
 *
 * Recording takes no lock (a table lookup and a few relaxed atomic adds)
 * except for a slow statement or the first execution of a statement.
 * Everything here is thread-safe. */
#ifndef BRISK_QSTATS_H
#define BRISK_QSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"

#define QSTATS_SLOW_KEEP 100     /* slow executions kept, newest first */
#define QSTATS_STATEMENTS 1024   /* distinct statements tracked; more share one "(other)" entry */

/* Parameter types of a shape: 3 bits per parameter, parameter i (1-based)
 * at bits 3(i-1); the first QSTATS_SHAPE_MAX parameters are described. */
enum { QSTATS_P_UNSET, QSTATS_P_INT, QSTATS_P_REAL, QSTATS_P_TEXT, QSTATS_P_BLOB, QSTATS_P_NULL };
#define QSTATS_SHAPE_MAX 21
#define QSTATS_SHAPE_SET(shape, idx, type)                                                        \
	do {                                                                                      \
		if ((idx) >= 1 && (idx) <= QSTATS_SHAPE_MAX)                                      \
			(shape) = ((shape) & ~((uint64_t)7 << (3 * ((idx) - 1)))) |               \
				  ((uint64_t)(type) << (3 * ((idx) - 1)));                        \
	} while (0)

/* Monotonic nanoseconds: the clock the store reads around statements. */
static inline uint64_t qstats_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Records one execution of the statement sql (its address identifies it;
 * the text is copied the first time) that took ns nanoseconds; write: it
 * may change the database; nparams bound parameters with the given shape. */
void qstats_record(const char *sql, uint64_t ns, bool write, int nparams, uint64_t shape);

/* The slow-query threshold in seconds (default 0.1); <= 0 turns slow
 * logging and keeping off. */
void qstats_set_threshold(double seconds);
double qstats_threshold(void);

/* Totals over every execution recorded. */
typedef struct {
	uint64_t executions, reads, writes, slow;
	double seconds; /* summed durations */
} qstats_totals;
void qstats_get_totals(qstats_totals *t);

/* One statement's stats; text belongs to qstats (valid until
 * qstats_reset_for_tests). */
typedef struct {
	const char *text;
	bool write;
	uint64_t count;
	double total_s, max_s, p95_s;
} qstats_stmt;

/* Fills out with up to n statements, most total time first; returns how
 * many. */
size_t qstats_top(qstats_stmt *out, size_t n);
/* The stats of the statement whose text equals sql (any address); false
 * when it never ran. */
bool qstats_find(const char *sql, qstats_stmt *out);

/* Appends {"threshold_ms":..,"slow":[{"at","duration_ms","class","sql",
 * "params":{"count","types":[..]}}...],"statements":[{"sql","class",
 * "count","total_ms","mean_ms","p95_ms","max_ms"}...]}: slow executions
 * newest first, statements by total time (at most max_statements). */
void qstats_json(buf_t *out, size_t max_statements);

/* Appends the shape as text: "3 params (int, text, null)", "no params". */
void qstats_shape_text(buf_t *out, int nparams, uint64_t shape);

/* Forgets everything and the registry histograms it holds (call after
 * metrics_reset_for_tests). For tests: no other thread may record. */
void qstats_reset_for_tests(void);

#endif
