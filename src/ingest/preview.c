#include "ingest/preview.h"

#include <string.h>

#include "core/date.h"
#include "core/money.h"

/* The stored form of field i into tmp (or the text itself). */
static slice_t value_of(entity_kind k, const record_t *rec, int i, int minor, char *tmp)
{
	const entity_col *c = &entity_get(k)->cols[i];
	switch (c->type) {
	case COL_DATE:
		return (slice_t){tmp, date_format((date_t)rec->num[i], tmp)};
	case COL_TIMESTAMP:
		return (slice_t){tmp, timestamp_format(&rec->ts, tmp)};
	case COL_MONEY:
		return (slice_t){tmp, money_format_minor(rec->num[i], minor, tmp)};
	default:
		return rec->raw[i];
	}
}

void preview_text(entity_kind k, const record_t *rec, int minor, buf_t *out)
{
	const entity_def *d = entity_get(k);
	char tmp[64];
	for (int i = 0; i < d->ncols; i++) {
		if (!rec->present[i])
			continue;
		slice_t v = value_of(k, rec, i, minor, tmp);
		buf_printf(out, "%s%s=%.*s", i ? "  " : "", d->cols[i].name, (int)(v.len > 60 ? 60 : v.len), v.p);
	}
}

void preview_json(entity_kind k, const record_t *rec, uint64_t line, int minor, buf_t *out)
{
	const entity_def *d = entity_get(k);
	char tmp[64];
	buf_printf(out, "{\"kind\":\"%s\",\"line\":%llu,\"row\":{", d->name, (unsigned long long)line);
	int n = 0;
	for (int i = 0; i < d->ncols; i++) {
		if (!rec->present[i])
			continue;
		slice_t v = value_of(k, rec, i, minor, tmp);
		buf_printf(out, "%s\"%s\":", n++ ? "," : "", d->cols[i].name);
		buf_json_str(out, v.p, v.len);
	}
	buf_puts(out, "}}");
}
