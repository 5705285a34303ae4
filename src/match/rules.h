/* rules: an organisation's own reconciliation rules (issue 15):
 * thresholds, tolerances, date windows and which rules are on, stored per
 * organisation as one JSON object, with every change kept in a history
 * (who, when, before, after).
 *
 * A run starts from the defaults (score_opts_init), takes the
 * organisation's stored rules over them, and then the caller's options
 * that differ from the defaults over those (an explicit --auto 0.9 wins). */
#ifndef BRISK_RULES_H
#define BRISK_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "match/matcher.h"
#include "match/score.h"
#include "store/store.h"

/* Fills o with org's rules (defaults where none are stored), reading
 * through c. 0, or -1 with a reason (the stored text is damaged, the store
 * failed). */
int rules_load(store_conn_t *c, int64_t org, score_opts *o, char *err, size_t errlen);

/* *o = org's rules, then the fields of explicit that differ from the
 * defaults. */
void rules_merge(const score_opts *org_rules, const score_opts *explicit_opts, score_opts *o);

/* Appends o as the JSON object of docs/api.md (money in minor units). */
void rules_json(const score_opts *o, buf_t *out);

/* Applies the JSON object body (any subset of rules_json's keys) to org's
 * rules, validates the result and stores it with a history row naming
 * actor; appends the new rules to out. MATCHER_INVALID with the reason for
 * an unknown key, a bad value or an inconsistent result (nothing stored). */
matcher_status rules_update(store_t *s, int64_t org, const char *body, size_t len, const char *actor, buf_t *out,
                            char *err, size_t errlen);

/* Appends {"changes": [{at, actor, before, after}]}, newest first, at most
 * limit (1..1000). */
matcher_status rules_history(store_t *s, int64_t org, int limit, buf_t *out, char *err, size_t errlen);

#endif
