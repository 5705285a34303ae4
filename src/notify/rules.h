/* rules: alert rules on business figures (figures.h), stored per
 * organisation with their state (ok, pending while a duration runs, firing)
 * and the history of their firings. Pure storage and decisions: notify.c
 * decides when to evaluate and delivers. */
#ifndef BRISK_RULES_H
#define BRISK_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "notify/figures.h"
#include "store/store.h"

#define RULE_MAX_TARGETS 10

typedef struct {
	int64_t org, id;          /* id: per organisation, from 1 */
	char name[128];
	const figure_def *fig;
	char op[3];               /* "<", "<=", ">", ">=" */
	int64_t threshold;        /* in the figure's units (figure_unit) */
	int64_t for_s;            /* the condition must hold this long (0: at once) */
	char severity[10];        /* "info", "warning", "critical" */
	char *channels;           /* {"webhooks":[...],"emails":[...]}, owned */
	bool enabled;
	char state[8];            /* "ok", "pending", "firing" */
	int64_t since;            /* unix s the condition started to hold (pending, firing) */
	int64_t evaluated_at, created_at;
	bool has_value;           /* value at the last evaluation (false: never, or undefined) */
	int64_t value;
} alert_rule;

/* Frees what r owns; r can be reused after alert_rule_init. */
void alert_rule_clear(alert_rule *r);
void alert_rule_init(alert_rule *r, int64_t org);

/* Reads the fields of a JSON object into r: on create every required field
 * (figure, op, threshold) must be there; otherwise only those present
 * change. minor: the org's currency decimals (thresholds of money figures
 * are integer minor units or a decimal string). 0, or -1 with a reason
 * naming the field. */
int alert_rule_from_json(json_t *o, int minor, bool create, alert_rule *r, char *err, size_t errlen);
/* Reads "webhooks" and "emails" of o (each absent one kept from old, a
 * channels text or NULL) into *out as {"webhooks":[...],"emails":[...]}
 * (malloc'd; the old *out is freed). URLs must be http(s), addresses plain;
 * neither may hold spaces or controls. 0, or -1 with a reason. */
int alert_channels_parse(json_t *o, const char *old, char **out, char *err, size_t errlen);
/* Checks that o is an object (else the reason shows example) whose keys are
 * all in known (NULL-terminated); 0, or -1 with a reason listing them. */
int notify_known_fields(json_t *o, const char *const *known, const char *example, char *err, size_t errlen);
/* The fields rules and schedules share: "name" (1 to namelen-1 bytes;
 * default_name on create when absent), "enabled" (a boolean) and the
 * channels (alert_channels_parse). 0, or -1 with a reason. */
int notify_common_fields(json_t *o, bool create, const char *default_name, char *name, size_t namelen, bool *enabled,
                         char **channels, char *err, size_t errlen);
/* Appends r as a JSON object (thresholds and values both as integers in
 * the figure's units and formatted). */
void alert_rule_json(const alert_rule *r, int minor, buf_t *out);

/* Storage, inside the caller's transaction. insert sets r->id. get returns
 * 1 found, 0 not found, -1 store error; delete returns rows deleted or -1.
 * list: the org's rules (all when mask is 0, else those whose figure reads
 * a table in mask; only enabled ones when enabled_only), in id order;
 * *out is malloc'd, free each with alert_rule_clear then free(*out). */
int alert_rule_insert(store_conn_t *w, alert_rule *r, char *err, size_t errlen);
int alert_rule_update(store_conn_t *w, const alert_rule *r, char *err, size_t errlen);
int alert_rule_delete(store_conn_t *w, int64_t org, int64_t id);
int alert_rule_get(store_conn_t *c, int64_t org, int64_t id, alert_rule *r);
int alert_rules_list(store_conn_t *c, int64_t org, unsigned mask, bool enabled_only, alert_rule **out, size_t *n);
/* Orgs with at least one enabled rule (malloc'd array, *n entries). */
int alert_rule_orgs(store_conn_t *c, int64_t **out, size_t *n);

typedef enum {
	RULE_SAME,    /* nothing to record */
	RULE_PENDING, /* the condition started to hold; the duration runs */
	RULE_CANCEL,  /* it stopped holding before the duration ran out */
	RULE_FIRE,    /* it fires now */
	RULE_RESOLVE, /* it was firing and no longer holds */
} rule_step;

/* What a new value (has_value false: undefined, which never holds) means
 * for r at unix time now. Pure. */
rule_step alert_rule_step(const alert_rule *r, bool has_value, int64_t value, int64_t now);
/* Applies step to r's state (state, since, value, evaluated_at) and stores
 * it: with a guard on the state read, so of two instances evaluating at
 * once only one records a change. Returns 1 applied, 0 lost the race, -1
 * store error. */
int alert_rule_apply(store_conn_t *w, alert_rule *r, rule_step step, bool has_value, int64_t value, int64_t now);

/* History: appends an event ("fired", "resolved") of rule r. */
int alert_event_add(store_conn_t *w, const alert_rule *r, const char *event, const char *message, int64_t now);
/* Appends {"items":[{"id","rule","rule_name","event","at","value","message"}]}
 * newest first; rule 0 = every rule of the org; limit 1..1000. */
int alert_events_json(store_conn_t *c, int64_t org, int64_t rule, int limit, buf_t *out);

/* One-line description: "Low cash: cash balance 19500.00 < 20000.00". */
void alert_rule_message(const alert_rule *r, int minor, bool firing, buf_t *out);

#endif
