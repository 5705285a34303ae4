/* auth: bearer tokens. A token is "brisk_" + 43 base64url characters of
 * randomness; only its SHA-256 is stored. Lookups are cached in memory. */
#ifndef BRISK_AUTH_H
#define BRISK_AUTH_H

#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

#define AUTH_TOKEN_BUFSZ 64

/* Creates a token for org; writes it (NUL-terminated) into out. 0 or -1. */
int auth_token_create(store_t *s, int64_t org, const char *label, char out[AUTH_TOKEN_BUFSZ], char *err, size_t errlen);
/* Prints id, org, label, created, revoked for org slug (NULL = all). */
int auth_token_list(store_t *s, const char *org_slug, FILE *f, char *err, size_t errlen);
int auth_token_revoke(store_t *s, int64_t id, char *err, size_t errlen);

#define AUTH_UNAVAILABLE (-2)
#define AUTH_NEEDS_LOOKUP (-3)

/* Resolves a presented token to its org id; -1 if unknown or revoked;
 * AUTH_UNAVAILABLE when the store cannot answer and the token is not
 * known from before. Thread-safe; answers cached for a few seconds. */
int64_t auth_resolve(store_t *s, const char *token, size_t len);
/* The same from the cache alone, never touching the store (event loops):
 * AUTH_NEEDS_LOOKUP when the cache cannot say. */
int64_t auth_resolve_cached(const char *token, size_t len);

#endif
