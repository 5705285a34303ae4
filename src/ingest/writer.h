/* writer: the write side of an import. Takes validated records in file
 * order and stores them in the open write transaction: new rows in bulk
 * (store_batch_*), rows whose id exists by the row-by-row replace, and the
 * rollup deltas of both, summed in memory and flushed as they fill up. */
#ifndef BRISK_IMPORT_WRITER_H
#define BRISK_IMPORT_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "ingest/entity.h"
#include "store/store.h"

typedef struct import_writer import_writer;

/* A writer of kind k rows (and costs, for --split) of org into w (a write
 * transaction the caller opened and later commits or rolls back). Free
 * with import_writer_free. */
import_writer *import_writer_new(store_conn_t *w, entity_kind k, int64_t org);
/* Queues one validated record of kind k (copied: rec may change after the
 * call); line is the file line named by a store error. Returns false with
 * a reason in err once the store failed (the caller rolls back). */
bool import_writer_add(import_writer *iw, entity_kind k, const record_t *rec, uint64_t line, char *err,
                       size_t errlen);
/* Writes what is queued and the rollup deltas. False with err as above. */
bool import_writer_finish(import_writer *iw, char *err, size_t errlen);
/* Rows stored so far: new ones and replacements of an existing id. */
void import_writer_counts(const import_writer *iw, uint64_t *inserted, uint64_t *replaced);
void import_writer_free(import_writer *iw);

#endif
