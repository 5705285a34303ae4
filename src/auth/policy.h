/* policy: roles and the one authorisation table (route name x least role).
 *
 * Roles are ordered: a role may do everything the roles below it may.
 * viewer reads its organisation; analyst also imports, reconciles,
 * exports and writes rows; admin also manages users, tokens and settings;
 * operator also sees the server-wide monitoring (every organisation's
 * load, slow queries, alerts, /metrics). A route absent from the table is
 * refused to everyone (tests/unit/test_auth.c and tests/e2e/authz.test.mjs
 * fail on such a route). */
#ifndef BRISK_POLICY_H
#define BRISK_POLICY_H

#include <stdbool.h>
#include <stdint.h>

typedef enum { ROLE_PUBLIC = 0, ROLE_VIEWER, ROLE_ANALYST, ROLE_ADMIN, ROLE_OPERATOR } auth_role;

#define POLICY_NO_RULE (-1)

/* "viewer", "analyst", "admin", "operator" ("public" for ROLE_PUBLIC). */
const char *policy_role_name(int role);
/* The role named s (not "public"), or -1. */
int policy_role_parse(const char *s);
/* The least role route `name` needs (ROLE_PUBLIC: no sign-in at all), or
 * POLICY_NO_RULE when the table has no rule for it. */
int policy_route_role(const char *name);

/* Who a request acts as: from a token or a session cookie. */
typedef struct {
	int64_t org;
	int64_t user;
	int role;        /* auth_role */
	bool read_only;  /* a token of scope read: GET and HEAD only */
	char name[64];   /* the user's name (audit log) */
} auth_principal;

#endif
