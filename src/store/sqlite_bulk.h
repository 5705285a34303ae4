/* sqlite_bulk: an import into a table that holds no row yet (a new
 * store's first load) builds the table's secondary indexes once, sorted,
 * when it commits, instead of entry by entry as rows arrive. Private to
 * sqlite.c. */
#ifndef BRISK_STORE_SQLITE_BULK_H
#define BRISK_STORE_SQLITE_BULK_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Inside a write transaction: when table has no row, drops its indexes
 * other than the unique ones and appends their CREATE statements to
 * rebuild (which lite_bulk_rebuild must run before COMMIT). Does nothing
 * when the table has rows. False on an SQLite error (in err): the caller
 * rolls back, which brings back whatever was dropped. */
bool lite_bulk_drop(sqlite3 *db, const char *table, buf_t *rebuild, char *err, size_t errlen);

/* Inside a write transaction: drops trigger name and appends its CREATE
 * statement to rebuild (see store_suspend_trigger). 1 dropped, 0 no such
 * trigger, -1 on an SQLite error (in err; the caller rolls back). */
int lite_bulk_suspend_trigger(sqlite3 *db, const char *name, buf_t *rebuild, char *err, size_t errlen);

/* Builds the indexes (and creates the triggers) rebuild names (nothing
 * when empty) and empties it.
 * 0, or -1 on an SQLite error (in err; the caller rolls back). */
int lite_bulk_rebuild(sqlite3 *db, buf_t *rebuild, char *err, size_t errlen);

#endif
