/* store backend PostgreSQL: prepared statements (store_prepare and the
 * binding, stepping and column calls behind store.h), cached per
 * connection by the caller's SQL literal. Private to src/store. */
#ifndef BRISK_STORE_PG_STMT_H
#define BRISK_STORE_PG_STMT_H

#include "store/pg.h"

/* Drops the statement's result and bindings (it stays prepared). */
void pg_stmt_clear(pg_stmt *st);
/* Clears and frees st. */
void pg_stmt_free(pg_stmt *st);

/* The store_backend entries of the same names (see backend.h). */
store_stmt_t *pgs_prepare(store_conn_t *base, const char *sql);
void pgs_bind(store_stmt_t *t, int idx, int kind, int64_t i, double d, const void *p, size_t len, bool copy);
store_status pgs_step(store_stmt_t *t);
int64_t pgs_col_i64(store_stmt_t *t, int col);
double pgs_col_double(store_stmt_t *t, int col);
const char *pgs_col_text(store_stmt_t *t, int col, size_t *len);
bool pgs_col_is_null(store_stmt_t *t, int col);
void pgs_reset(store_stmt_t *t);
bool pgs_stmt_writes(store_stmt_t *t);
int pgs_stmt_nparams(store_stmt_t *t);
int pgs_each(store_conn_t *base, store_stmt_t *const *sts, const store_each_t *v, int k);

#endif
