/* users: the people of an organisation, each with one role (policy.h) and
 * an argon2id password hash (none for an account used by tokens only).
 * User names are unique across the server: they are what one signs in
 * with. Every change is written to the audit log in its transaction,
 * as done by `actor`. */
#ifndef BRISK_USERS_H
#define BRISK_USERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "auth/policy.h"
#include "core/buf.h"
#include "store/store.h"

#define USER_NAME_MAX 63

/* False with a reason unless name is 1..63 of [A-Za-z0-9._@+-]. */
bool users_name_valid(const char *name, char *err, size_t errlen);
/* Adds a user to org with role and password (NULL: none, cannot sign in
 * until given one). Returns its id, or -1 with a reason. */
int64_t users_add(store_t *s, int64_t org, const char *name, int role, const char *password, const char *actor,
                  char *err, size_t errlen);
/* Changes one user (by name). Disabling ends its sessions, and its tokens
 * stop working (within the token cache's few seconds in other processes);
 * a new password ends its sessions. 0, or -1 with a reason. */
int users_set_password(store_t *s, const char *name, const char *password, const char *actor, char *err,
                       size_t errlen);
int users_set_role(store_t *s, const char *name, int role, const char *actor, char *err, size_t errlen);
int users_set_disabled(store_t *s, const char *name, bool disabled, const char *actor, char *err, size_t errlen);
/* Finds an enabled-or-not user by name: fills p (role, org, id, name) and
 * hash (may be ""). 1 found, 0 not, -1 store error. */
int users_find(store_t *s, const char *name, auth_principal *p, char *hash, size_t hashlen, bool *disabled);
/* The user tokens of org belong to when none is named ("SLUG-admin",
 * role admin, no password), created on first use. Its id, or -1. */
int64_t users_org_admin(store_t *s, int64_t org, char *err, size_t errlen);
/* Prints the users of org slug (NULL: all). */
int users_print(store_t *s, const char *org_slug, FILE *f, char *err, size_t errlen);
/* The users of org as a JSON array into out. False on a store error. */
bool users_json(store_conn_t *c, int64_t org, buf_t *out);

#endif
