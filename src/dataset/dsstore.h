/* dsstore: the catalogue of data sets (table datasets) and their stored
 * rows (ds_rows, one generic table with fixed slots d0..d7 / m0..m7) on
 * both store backends. Every write of a data set's rows bumps its own
 * version (dsrollup_flush), which its views' cache keys embed: a write into
 * one data set leaves the other data sets' cached answers valid. */
#ifndef BRISK_DSSTORE_H
#define BRISK_DSSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "dataset/dsdef.h"
#include "store/store.h"

typedef struct {
	int64_t id;       /* the store's id (never shown: ids are shared by orgs) */
	dsdef_t def;
	int64_t rows;
	int64_t version;  /* bumped by every write of its rows: its views' cache keys embed it */
	char created_at[24];
} dsstore_info;

/* Creates data set d of org. Returns 0, 1 when org already has one of that
 * name, -1 on a store error (reason in err). */
int dsstore_create(store_t *s, int64_t org, const dsdef_t *d, char *err, size_t errlen);
/* Reads data set name of org in c's snapshot: 1 found (into *out), 0 no
 * such data set, -1 store error. */
int dsstore_get(store_conn_t *c, int64_t org, const char *name, dsstore_info *out);
/* Calls fn for each data set of org, by name. Returns the count or -1. */
int dsstore_list(store_conn_t *c, int64_t org, void (*fn)(void *ud, const dsstore_info *i), void *ud);
/* Drops data set name of org with its rows and rollups in one transaction:
 * 1 dropped, 0 no such data set, -1 store error (reason in err). */
int dsstore_drop(store_t *s, int64_t org, const char *name, char *err, size_t errlen);
/* First and last day of a data set's rows; false when it has none. */
bool dsstore_dates(store_conn_t *c, int64_t id, int32_t *min, int32_t *max);
/* Appends the API's DATASET object ({"name",...,"rows","min_date","max_date"}). */
void dsstore_json(store_conn_t *c, const dsstore_info *i, buf_t *out);

#endif
