/* session: web sign-in sessions. The browser holds a random session id in
 * an HttpOnly cookie; the store holds only its SHA-256, the user, a CSRF
 * token the page must echo on writes, and when it was made and last used.
 * A session ends after SESSION_IDLE_S without use, SESSION_MAX_S after
 * sign-in, at sign-out, or when its user is disabled or gets a new
 * password. */
#ifndef BRISK_SESSION_H
#define BRISK_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/policy.h"
#include "store/store.h"

#define SESSION_IDLE_S (30 * 60)
#define SESSION_MAX_S (12 * 3600)
#define SESSION_ID_BUFSZ 48
#define SESSION_COOKIE "brisk_session"

/* Starts a session for user: writes its id and CSRF token (both
 * NUL-terminated, URL-safe). 0, or -1 with a reason. */
int session_create(store_t *s, int64_t user, char id[SESSION_ID_BUFSZ], char csrf[SESSION_ID_BUFSZ], char *err,
                   size_t errlen);
/* Resolves a session id: fills p and csrf. 0 valid; -1 unknown, expired
 * or its user disabled; -2 the store cannot answer. Marks it used, never
 * waiting for the writer: a stamp it cannot write now is kept in memory
 * (and counted here) until a later one can. */
int session_resolve(store_t *s, const char *id, size_t len, auth_principal *p, char csrf[SESSION_ID_BUFSZ]);
/* Who session id was when last resolved in this process (within a
 * minute): its org and user, from memory only, never the store. False
 * when unknown. A hint to key queues and rate limits by before the
 * session is checked; never a proof the session is valid. */
bool session_hint(const char *id, size_t len, int64_t *org, int64_t *user);
/* Ends one session (sign-out). 0, or -1 with the reason in err (the
 * store is busy or failed: the session still stands). */
int session_end(store_t *s, const char *id, size_t len, char *err, size_t errlen);
/* Ends every session of user inside write transaction w. 0 or -1. */
int session_end_user(store_conn_t *w, int64_t user);
/* The session id in a Cookie header value, or NULL; *len its length. */
const char *session_from_cookie(const char *cookie, size_t *len);

#endif
