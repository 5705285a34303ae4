/* recode: what an import does to a row between reading its columns and
 * validating it, for exports whose values are not brisk's: --compute
 * (fields from expressions over the columns), --values (per-field
 * recoding: Prospecting -> new), rules (if CONDITION then FIELD=VALUE) and
 * --where (rows left out, counted apart from rejections). Parsed once
 * from the options' text (the same for the CLI, HTTP, tasks and profiles),
 * then bound to a file's header before any row is read. */
#ifndef BRISK_RECODE_H
#define BRISK_RECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest/csv.h"
#include "ingest/entity.h"
#include "ingest/options.h"

typedef struct recode recode_t;

/* Parses the option texts (any may be NULL) for entity kind k: values
 * "status=Prospecting:new,Engaging:contacted", compute
 * "amount=Sales - Profit,created_at=coalesce(engage_date, close_date)",
 * where "deal_stage != Lost", rules "if description ~ SALARY|PAYROLL then
 * category=Payroll" (one per line or separated by ';'; # starts a
 * comment). *out is NULL when none is given. False with a reason that
 * names the option; *out is then NULL. The result owns copies of what it
 * keeps: recode_free. */
bool recode_parse(entity_kind k, const char *values, const char *compute, const char *where, const char *rules,
                  recode_t **out, char *why, size_t whylen);
void recode_free(recode_t *r);

/* True when field col is computed (r may be NULL). */
bool recode_computes(const recode_t *r, int col);
/* True when a rule may set field col (r may be NULL). */
bool recode_rule_sets(const recode_t *r, int col);

typedef struct recode_plan recode_plan;

/* Binds the names of o->recode's expressions to the header h (NULL when
 * the file has none: columns are then $1, $2...). In --where and rule
 * conditions a name that is no column is the entity's field of that name
 * (its value as it would be stored). minor: the org currency's fraction
 * digits, for computed amounts. NULL with err naming an unknown column
 * and the header's columns. Borrows o and h's names only during the call. */
recode_plan *recode_bind(const import_opts *o, const csv_row_t *h, int minor, char *err, size_t errlen);
/* The org currency's fraction digits changed (an empty org took its first
 * file's currency): computed amounts are written in minor units from now. */
void recode_set_minor(recode_plan *p, int minor);
void recode_plan_free(recode_plan *p);

typedef enum { RECODE_KEEP, RECODE_SKIP, RECODE_REJECT } recode_verdict;

/* Applies the plan to one record filled from row by layout_record:
 * computes, recodes, applies the rules, then tests --where. RECODE_SKIP
 * for a row --where leaves out (never a rejection, even when its values
 * are bad), RECODE_REJECT with why (a computed operand that is not a
 * number, two rules setting a field to different values). The record's
 * slices may point into the plan until the next call. */
recode_verdict recode_apply(recode_plan *p, const csv_row_t *row, record_t *rec, char *why, size_t whylen);

#endif
