/* auth: bearer tokens. A token is "brisk_" + 43 base64url characters of
 * randomness; only its SHA-256 is stored. A token belongs to a user (and
 * acts with that user's role), has a scope (read: GET/HEAD only; write)
 * and an optional expiry, and can be revoked. Lookups are cached in
 * memory for a few seconds. */
#ifndef BRISK_AUTH_H
#define BRISK_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "auth/policy.h"
#include "core/buf.h"
#include "store/store.h"

#define AUTH_TOKEN_BUFSZ 64

typedef struct {
	int64_t user;       /* owner; 0 = the org's generated admin user ("SLUG-admin") */
	int64_t org;        /* with user 0 */
	bool read_only;     /* scope read */
	int64_t expires_at; /* Unix seconds; 0 = never */
	const char *label;
	const char *actor;  /* who creates it, for the audit log */
	int64_t *id_out;    /* when set: receives the new token's id */
} auth_token_opts;

/* Creates a token for org (its generated admin user); writes it
 * (NUL-terminated) into out. 0 or -1. */
int auth_token_create(store_t *s, int64_t org, const char *label, char out[AUTH_TOKEN_BUFSZ], char *err, size_t errlen);
/* The same with an owner, scope and expiry. 0 or -1 with a reason. */
int auth_token_create_opts(store_t *s, const auth_token_opts *o, char out[AUTH_TOKEN_BUFSZ], char *err,
                           size_t errlen);
/* Prints id, org, user, scope, label, created, expiry, state for org slug (NULL = all). */
int auth_token_list(store_t *s, const char *org_slug, FILE *f, char *err, size_t errlen);
/* Revokes token id (of org in_org; 0: any org). 0, or -1 with a reason
 * ("no token with id N" when there is none in that org). */
int auth_token_revoke(store_t *s, int64_t id, int64_t in_org, const char *actor, char *err, size_t errlen);
/* The role of the user token id acts as, when it is org's; -1 when org
 * has no such token; -2 when the store cannot answer. */
int auth_token_role(store_t *s, int64_t id, int64_t org);
/* Appends org's tokens as a JSON array of {id, user, scope, label,
 * created, expires (null: never), state (active, revoked, expired)}.
 * False when the store failed (out holds a partial array). */
bool auth_tokens_json(store_conn_t *c, int64_t org, buf_t *out);
/* Unix seconds of an expiry as typed (30d, 12h, 90m, YYYY-MM-DD at UTC
 * midnight, never = 0) from now; -1 when unreadable. */
int64_t auth_expiry_parse(const char *s, int64_t now);
/* Forgets every cached answer (a user's role or state changed). */
void auth_cache_clear(void);

/* The rate limiter's key of a signed-in browser's user (a token's own
 * buckets are keyed by the token). */
static inline uint64_t auth_rate_key(int64_t user)
{
	return (uint64_t)user | (uint64_t)1 << 62;
}

#define AUTH_UNAVAILABLE (-2)
#define AUTH_NEEDS_LOOKUP (-3)

/* Resolves a presented token to its org id, filling p (may be NULL) with
 * who it acts as; -1 if unknown, revoked, expired or its user disabled;
 * AUTH_UNAVAILABLE when the store cannot answer and the token is not
 * known from before. Thread-safe; answers cached for a few seconds. */
int64_t auth_resolve(store_t *s, const char *token, size_t len, auth_principal *p);
/* The same from the cache alone, never touching the store (event loops):
 * AUTH_NEEDS_LOOKUP when the cache cannot say. */
int64_t auth_resolve_cached(const char *token, size_t len, auth_principal *p);

#endif
