/* profile: named import options kept per organisation (brisk profile
 * save, --profile NAME, profile= over HTTP, the web Imports page). A
 * profile keeps the options as text (optlist's form), read back by the
 * same option parser as any import, so every import option can be in one. */
#ifndef BRISK_PROFILE_H
#define BRISK_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "ingest/optlist.h"
#include "store/store.h"

/* True if name is a profile name: 1-64 of A-Z a-z 0-9 . _ - (why says not). */
bool profile_name_ok(const char *name, char *why, size_t whylen);

/* Checks opts as the options of an import of kind ("" = any kind: they
 * must suit at least one), and that each value survives the stored text
 * and the JSON form (UTF-8, no control characters but tab, CR and LF, no
 * trailing CR). False with the reason. */
bool profile_check(const optlist *opts, const char *kind, char *why, size_t whylen);

/* Loads org's profile name into opts (and its kind, "" for any, into
 * kind[16] if not NULL). 1 found, 0 no such profile, -1 store error (why). */
int profile_load(store_t *s, int64_t org, const char *name, optlist *opts, char *kind, char *why, size_t whylen);

/* Saves (creates or replaces) org's profile in one write transaction.
 * 0, or -1 with why. */
int profile_save(store_t *s, int64_t org, const char *name, const char *kind, const optlist *opts, char *why,
                 size_t whylen);

/* Deletes it: 1 deleted, 0 not found, -1 store error. */
int profile_delete(store_t *s, int64_t org, const char *name, char *why, size_t whylen);

/* Appends org's profiles to out as a JSON array of {"name","kind",
 * "options":{name:value},"updated_at"}, by name. 0 or -1. */
int profile_list_json(store_t *s, int64_t org, buf_t *out);

/* Appends one optlist as a JSON object {name:value}. */
void profile_options_json(const optlist *opts, buf_t *out);

#endif
