/* preview: a row as it would be stored (canonical dates, exact amounts),
 * for --dry-run's first rows (CLI) and the web Imports page's preview. */
#ifndef BRISK_PREVIEW_H
#define BRISK_PREVIEW_H

#include "core/buf.h"
#include "ingest/entity.h"

/* Appends "field=value  field=value ..." (fields present only). minor:
 * the org's currency decimals. */
void preview_text(entity_kind k, const record_t *rec, int minor, buf_t *out);
/* Appends {"kind":..,"line":..,"row":{field:value}} (money as a decimal string). */
void preview_json(entity_kind k, const record_t *rec, uint64_t line, int minor, buf_t *out);

#endif
