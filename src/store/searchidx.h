/* searchidx: applies the text-search index changes queued by the triggers
 * of schema migration 9 (table search_pending) to the FTS5 tables, one
 * statement per table, inside the open write transaction. */
#ifndef BRISK_SEARCHIDX_H
#define BRISK_SEARCHIDX_H

#include "store/store.h"

/* Called by store_write_commit before COMMIT. Returns 0, or -1 on a store
 * error (store_errmsg tells; the caller rolls back). Cheap when nothing is
 * queued. */
int searchidx_sync(store_conn_t *w);

#endif
