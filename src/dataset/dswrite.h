/* dswrite: a data set import's rows written to ds_rows in batches. A
 * batch's inserts, the reads of the rows its keys replace and their
 * updates each go to the store as one store_each (one round trip each on
 * PostgreSQL, where a statement per row cost one per row); SQLite steps
 * them in turn, as before. Stored rows and rollups end the same as one
 * statement per row in file order. Only dataset/. */
#ifndef BRISK_DSWRITE_H
#define BRISK_DSWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "dataset/dsrollup.h"
#include "dataset/dsstore.h"
#include "ingest/import.h"
#include "store/store.h"

/* One parsed row: dims point into the reader's row (copied when added). */
typedef struct {
	date_t day;
	slice_t dims[DSDEF_MAX_DIMS];
	int64_t m[DSDEF_MAX_MEASURES];
	bool has[DSDEF_MAX_MEASURES];
	char key[128]; /* "k:" the key's values, or "h:"/"c:" a hash */
	size_t keylen;
} dsrow;

typedef struct dswrite dswrite;

/* A writer into w's transaction for data set info (borrowed, as acc and
 * res: inserted/replaced are counted there). Never NULL. */
dswrite *dswrite_new(store_conn_t *w, const dsstore_info *info, int64_t org, dsrollup_t *acc, import_result *res);
/* Adds x (copied); writes the batch when it is full. 0, or -1 with err
 * (a store error: the caller rolls back). */
int dswrite_add(dswrite *b, const dsrow *x, char *err, size_t errlen);
/* Writes the rows added since the last write. 0 or -1 as dswrite_add. */
int dswrite_flush(dswrite *b, char *err, size_t errlen);
void dswrite_free(dswrite *b);

#endif
