/* search: the text search (q=) of lists, kept apart so that a store backend
 * can swap it (PostgreSQL: pg_trgm GIN indexes and ILIKE). Under SQLite each
 * kind has a contentless FTS5 trigram table <table>_fts (schema migration 9)
 * whose rowid is the row's rid, so a search reads the index entries of its
 * trigrams, then only the rows they name: it costs what it finds, not the
 * size of the organisation's history. */
#ifndef BRISK_ANALYTICS_SEARCH_H
#define BRISK_ANALYTICS_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "store/store.h"

/* The FROM clause of a searched list of table t: the index drives, the
 * table is probed by rid. Its condition is SEARCH_COND(t), which takes the
 * expression search_terms builds as ?15. Rows it yields may be false
 * positives: the statement must still check the columns themselves. */
#define SEARCH_FROM(t) t "_fts CROSS JOIN " t " ON " t ".rid = " t "_fts.rowid"
#define SEARCH_COND(t) t "_fts MATCH ?15"

/* The fewest characters (code points) a query needs to use the index. */
#define SEARCH_MIN_CHARS 3

/* Writes into out (reset first) the index expression for the substring q
 * on c's store: SQLite, some of q's trigrams (at most 8, first and last
 * included), all required; PostgreSQL, the LIKE pattern %q%.
 * Returns false when q has fewer than SEARCH_MIN_CHARS characters: no
 * index can narrow it, the caller filters the org's rows instead. */
bool search_terms(store_conn_t *c, const char *q, buf_t *out);

#endif
