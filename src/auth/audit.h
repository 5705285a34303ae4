/* audit: the per-organisation log of who changed what and when (imports,
 * reconciliation decisions, row writes and deletes, exports, settings,
 * users and tokens, sign-ins). Rows are only ever appended. */
#ifndef BRISK_AUDIT_H
#define BRISK_AUDIT_H

#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "store/store.h"

/* One entry, for a caller that writes it inside a transaction it makes
 * for another reason (a queued task's insert). Strings are borrowed. */
typedef struct audit_entry {
	const char *actor, *action, *target, *detail;
} audit_entry;

/* Appends one entry inside the caller's write transaction w (so the entry
 * commits or rolls back with the change). 0, or -1 (store_errmsg tells). */
int audit_add(store_conn_t *w, int64_t org, const char *actor, const char *action, const char *target,
              const char *detail);
/* The same in a transaction of its own. 0, or -1 with a reason. */
int audit_record(store_t *s, int64_t org, const char *actor, const char *action, const char *target,
                 const char *detail, char *err, size_t errlen);
/* Newest first: at most limit entries with id below before (0 = from the
 * newest), as a JSON array into out; *next gets the id to pass as before
 * for the next page (0 when this was the last). False on a store error. */
bool audit_json(store_conn_t *c, int64_t org, int64_t before, int limit, buf_t *out, int64_t *next);
/* Prints an organisation's log (slug), newest first, at most limit lines. */
int audit_print(store_t *s, const char *org_slug, int limit, FILE *f, char *err, size_t errlen);

#endif
