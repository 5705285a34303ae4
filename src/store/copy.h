/* copy: copies organisations from one store to another (brisk migrate:
 * an embedded SQLite store into PostgreSQL), then verifies the copy.
 *
 * Every table both stores have is copied column by column (so tables
 * other modules add later come along), except what the target derives by
 * itself or keeps per process: text-search tables, open receivables
 * (triggers keep them), data versions (bumped, so caches miss), task
 * records (their files stay in the source's data directory). Row ids are
 * kept, so references between rows (allocations -> payments, invoices)
 * stay true; an organisation is matched by slug. For each organisation,
 * one transaction deletes its rows in the target and inserts the source's:
 * running it again gives the same target. */
#ifndef BRISK_STORE_COPY_H
#define BRISK_STORE_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* One table of one organisation, as counted after the copy. */
typedef struct {
	char table[64];
	int64_t src_rows, dst_rows;
	int64_t src_cents, dst_cents; /* sum of the money columns, 0 if none */
	bool has_cents;
	bool derived; /* not copied: the target computed it (open_recv) */
} copy_count;

typedef struct {
	char slug[128];
	int64_t src_id, dst_id;
	copy_count *counts;
	int ncounts;
	bool equal; /* every count and sum agrees */
} copy_org;

typedef struct {
	copy_org *orgs;
	int norgs;
	char skipped[512]; /* tables left out, for the report */
} copy_result;

/* Copies the organisation named slug (NULL = every one) from src into dst
 * and counts both sides. Returns 0 (see result->orgs[i].equal), or -1 with
 * a one-line reason in err (nothing of the failing organisation is kept).
 * progress (may be NULL) is told each table as it starts. Free the result
 * with copy_result_free. */
int store_copy(store_t *src, store_t *dst, const char *slug, copy_result *result,
               void (*progress)(void *ud, const char *slug, const char *table), void *ud, char *err,
               size_t errlen);
void copy_result_free(copy_result *r);

#endif
