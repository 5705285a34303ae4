/* targets: the performance targets of `brisk validate` and the figures
 * measured against them.
 *
 * Targets live in an INI file (bench/validate-targets.ini), one section
 * per scenario, one key per bound: FIGURE_max or FIGURE_min, e.g.
 *     [overview_cold]
 *     p50_ms_max = 10
 * The runner records figures per scenario (with the naive mode's figure
 * beside it when there is one), then targets_judge compares each bound
 * with its figure. A bound whose figure was never recorded is reported as
 * not measured, not as a miss. Not thread-safe: one runner fills it. */
#ifndef BRISK_TARGETS_H
#define BRISK_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"

typedef struct targets targets_t;

/* Loads the bounds of path. NULL with "FILE:LINE: reason" in err on a
 * missing file, a syntax error, a key not ending in _max/_min or a value
 * that is not a number. */
targets_t *targets_load(const char *path, char *err, size_t errlen);
/* An empty set (no bounds): every figure is only reported. Never NULL. */
targets_t *targets_new(void);
void targets_free(targets_t *t);

/* Records figure (e.g. "p50_ms") of scenario, its unit ("ms", "rows/s")
 * and the naive mode's value (NaN: none). A second record replaces the
 * first. Strings are copied. */
void targets_record(targets_t *t, const char *scenario, const char *figure, double value, double naive,
		    const char *unit);
/* Attaches a note to scenario (shown in the table and the JSON). */
void targets_note(targets_t *t, const char *scenario, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Compares every bound with its figure. Returns the number missed. */
size_t targets_judge(targets_t *t);
/* The number of bounds whose figure was never recorded (after judge). */
size_t targets_unmeasured(const targets_t *t);

/* Prints the table: scenario, figure, value, naive, target, verdict. */
void targets_table(const targets_t *t, FILE *out);
/* Appends {"scenarios":[{"name","notes":[..],"figures":[{"name","value",
 * "unit","naive","target":{"max"|"min"}|null,"met":true|false|null}]}],
 * "missed":N,"unmeasured":[..]}. */
void targets_json(const targets_t *t, buf_t *out);

#endif
