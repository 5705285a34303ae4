/* reads: the independent reads of a view gathered and run together: one
 * round trip on PostgreSQL (store_each_many) where each figure read on its
 * own would cost one; SQLite steps them in turn. The naive side (the
 * reference) reads at once, in each *_add, as it always did. Only
 * src/analytics/. */
#ifndef BRISK_ANALYTICS_READS_H
#define BRISK_ANALYTICS_READS_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

#define AN_READS_MAX 24

/* Called once the reads ran (ok or not), in the order registered: folds
 * what the rows gave and frees ud. */
typedef void (*an_reads_done_fn)(void *ud, bool ok);

typedef struct {
	store_conn_t *c;
	bool naive;
	store_each_t v[AN_READS_MAX];
	int n;
	an_reads_done_fn done[AN_READS_MAX];
	void *done_ud[AN_READS_MAX];
	int ndone;
	bool full;       /* more than AN_READS_MAX were added: the run fails */
	char failed[300]; /* the first failure of a read done at once, or "" */
} an_reads;

void an_reads_init(an_reads *r, store_conn_t *c, bool naive);
/* Adds a statement run for n parameter sets (as store_each_many). */
void an_reads_add(an_reads *r, const char *sql, int n, store_each_fn bind, store_each_fn row, void *ud);
/* Adds a finisher (see an_reads_done_fn). */
void an_reads_then(an_reads *r, an_reads_done_fn fn, void *ud);
/* A read done at once failed (why: its reason): the run fails with it. */
void an_reads_fail(an_reads *r, const char *why);
/* Runs every read, then every finisher; 0, or -1 with "store error (what):
 * reason" (or the first failure) in err. r is empty again afterwards. */
int an_reads_run(an_reads *r, const char *what, char *err, size_t errlen);

#endif
