/* sqlite_wb: the kernel's writeback of a long write's files, started
 * while the write runs. Private to the SQLite backend. */
#ifndef BRISK_STORE_SQLITE_WB_H
#define BRISK_STORE_SQLITE_WB_H

typedef struct lite_wb lite_wb;

/* Starts a thread that asks the kernel, every few milliseconds, to start
 * writing back the dirty pages of the WAL at wal_path (opened when it
 * exists) and of the database open on db_fd (the caller's: it stays open
 * after lite_wb_stop). NULL if no thread could be started (nothing
 * changes then but the speed of the commit). */
lite_wb *lite_wb_start(const char *wal_path, int db_fd);
/* Stops and frees it; NULL is fine. */
void lite_wb_stop(lite_wb *w);

#endif
