/* store backend PostgreSQL: bulk inserts (store_batch_*) by COPY into a
 * staging table and one INSERT ... SELECT. Private to src/store. */
#ifndef BRISK_STORE_PG_COPY_H
#define BRISK_STORE_PG_COPY_H

#include "store/pg.h"

/* The store_backend entries of the same names (see backend.h). */
store_batch_t *pgs_batch_new(store_conn_t *w, const char *insert_sql);
store_stmt_t *pgs_batch_stmt(store_batch_t *base);
void pgs_batch_row(store_batch_t *base);
size_t pgs_batch_rows(store_batch_t *base);
int pgs_batch_run(store_batch_t *base, bool *inserted, char *err, size_t errlen);
void pgs_batch_free(store_batch_t *base);

#endif
