#include "ingest/split.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { P_DATE = 1, P_PAYER = 2, P_AMOUNT = 3, P_REF = 4, P_CUR = 6 };
enum { C_DATE = 1, C_CATEGORY = 2, C_AMOUNT = 3, C_VENDOR = 4, C_DESC = 5 };

bool split_plan(const import_opts *o, const csv_row_t *h, int *col, char *err, size_t errlen)
{
	*col = -1;
	if (!o->split || !o->split_category)
		return true;
	if (!h) {
		*col = atoi(o->split_category) - 1;
		if (*col >= 0)
			return true;
		snprintf(err, errlen, "split_category '%.40s': without a header, give a column position", o->split_category);
		return false;
	}
	slice_t want = slice_trim(slice_cstr(o->split_category));
	for (size_t i = 0; i < h->nfields; i++) {
		slice_t f = slice_trim(h->fields[i]);
		if (f.len == want.len && !strncasecmp(f.p, want.p, f.len)) {
			*col = (int)i;
			return true;
		}
	}
	snprintf(err, errlen, "split_category: the file has no column '%.60s'", o->split_category);
	return false;
}

bool split_is_debit(const import_opts *o, const record_t *pay)
{
	return o->split && pay->num[P_AMOUNT] < 0;
}

bool split_cost(const record_t *pay, const csv_row_t *row, int col, const entity_parse_opts *parse, record_t *cost,
                char *why, size_t whylen)
{
	if (pay->present[P_CUR]) {
		snprintf(why, whylen, "a debit in %.3s: costs are in the organisation's currency (import it apart)",
		         pay->canon[P_CUR]);
		return false;
	}
	memset(cost->present, 0, sizeof cost->present);
	memset(cost->parsed, 0, sizeof cost->parsed);
	cost->raw[0] = pay->raw[0];
	cost->present[0] = true;
	cost->raw[C_DATE] = pay->raw[P_DATE];
	cost->present[C_DATE] = true;
	slice_t cat = col >= 0 && (size_t)col < row->nfields ? slice_trim(row->fields[col]) : (slice_t){0};
	cost->raw[C_CATEGORY] = cat.len ? cat : SLICE_LIT(SPLIT_DEFAULT_CATEGORY);
	cost->present[C_CATEGORY] = true;
	cost->raw[C_AMOUNT] = SLICE_LIT("0");
	cost->present[C_AMOUNT] = cost->parsed[C_AMOUNT] = true;
	cost->num[C_AMOUNT] = -pay->num[P_AMOUNT];
	cost->raw[C_VENDOR] = pay->raw[P_PAYER];
	cost->present[C_VENDOR] = pay->present[P_PAYER];
	cost->raw[C_DESC] = pay->raw[P_REF];
	cost->present[C_DESC] = pay->present[P_REF];
	return entity_validate(ENT_COSTS, cost, parse, why, whylen);
}
