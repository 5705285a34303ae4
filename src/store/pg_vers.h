/* store backend PostgreSQL: data versions (loads, exact looks, the LISTEN
 * connection). Private to src/store. */
#ifndef BRISK_STORE_PG_VERS_H
#define BRISK_STORE_PG_VERS_H

#include "store/pg.h"

/* The connection for version looks is up (reconnecting it if needed); false if the
 * server cannot be reached. Caller holds refresh_lock (or is opening). */
bool pg_look_ensure(pg_store *s);
/* Reads every (org, table) version into the store; false on failure. */
bool pg_vers_load(pg_store *s);

/* The store_backend entries of the same names (see backend.h). */
bool pgs_refresh(store_t *base);
int pgs_refresh_try(store_t *base);
void pgs_sizes(store_t *base, int64_t *db_bytes, int64_t *wal_bytes);
void pgs_watch(store_t *base);

#endif
