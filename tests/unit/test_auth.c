/* Tests of src/auth: the route x role table against the router's own
 * route list, role names, argon2id password hashes, session cookies and
 * the session hints the event loop keys queues by. */
#include <criterion/criterion.h>
#include <string.h>

#include "auth/password.h"
#include "auth/policy.h"
#include "auth/session.h"
#include "auth/users.h"
#include "helpers.h"
#include "http/api.h"
#include "store/store.h"

Test(policy, every_route_of_the_table_has_a_rule_that_matches_its_auth_flag)
{
	size_t n;
	const http_route *rt = api_routes(&n);
	cr_assert_gt(n, 40);
	for (size_t i = 0; i < n; i++) {
		int role = policy_route_role(rt[i].name);
		cr_expect_neq(role, POLICY_NO_RULE, "route %s (%s) has no rule in src/auth/policy.c", rt[i].name,
		              rt[i].pattern);
		cr_expect_eq(role == ROLE_PUBLIC, !rt[i].auth, "route %s: public rule and auth flag disagree", rt[i].name);
	}
	cr_expect_eq(policy_route_role("no-such-route"), POLICY_NO_RULE);
	cr_expect_eq(policy_route_role(NULL), POLICY_NO_RULE);
}

Test(policy, monitoring_is_the_operators_and_roles_are_ordered)
{
	cr_expect_eq(policy_route_role("performance"), ROLE_OPERATOR);
	cr_expect_eq(policy_route_role("metrics"), ROLE_OPERATOR);
	cr_expect_eq(policy_route_role("alerts"), ROLE_OPERATOR);
	cr_expect_eq(policy_route_role("settings_put"), ROLE_ADMIN);
	cr_expect_eq(policy_route_role("import"), ROLE_ANALYST);
	cr_expect_eq(policy_route_role("dashboard"), ROLE_VIEWER);
	cr_expect_lt(ROLE_VIEWER, ROLE_ANALYST);
	cr_expect_lt(ROLE_ANALYST, ROLE_ADMIN);
	cr_expect_lt(ROLE_ADMIN, ROLE_OPERATOR);
	for (int r = ROLE_VIEWER; r <= ROLE_OPERATOR; r++)
		cr_expect_eq(policy_role_parse(policy_role_name(r)), r);
	cr_expect_eq(policy_role_parse("public"), -1, "nobody is given the public role");
	cr_expect_eq(policy_role_parse("Admin"), -1);
	cr_expect_eq(policy_role_parse(NULL), -1);
}

Test(password, argon2id_hash_verifies_only_its_password)
{
	char h[PASSWORD_HASH_BUFSZ], err[128];
	cr_assert_eq(password_hash("correct horse", h, err, sizeof err), 0, "%s", err);
	cr_expect_eq(strncmp(h, "$argon2id$", 10), 0, "%s", h);
	cr_expect(password_verify(h, "correct horse"));
	cr_expect_not(password_verify(h, "correct hors"));
	cr_expect_not(password_verify(h, ""));
	cr_expect_not(password_verify("", "correct horse"), "no password set: nothing signs in");
	cr_expect_not(password_verify("$2y$10$notargon", "x"));
	cr_expect_not(password_verify(NULL, "correct horse"), "an unknown user never signs in");
	char h2[PASSWORD_HASH_BUFSZ];
	cr_assert_eq(password_hash("correct horse", h2, err, sizeof err), 0);
	cr_expect_str_neq(h, h2, "salted: the same password hashes differently");
}

Test(password, length_bounds)
{
	char err[128];
	cr_expect_not(password_acceptable("short", err, sizeof err));
	cr_expect(strstr(err, "at least 8") != NULL, "%s", err);
	cr_expect(password_acceptable("12345678", err, sizeof err));
	char big[PASSWORD_MAX + 2];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	cr_expect_not(password_acceptable(big, err, sizeof err));
}

Test(session, cookie_header_parsing)
{
	size_t n = 0;
	const char *v = session_from_cookie("a=1; brisk_session=abc_DEF-1; b=2", &n);
	cr_assert_not_null(v);
	cr_expect_eq(n, 9);
	cr_expect_eq(strncmp(v, "abc_DEF-1", 9), 0);
	v = session_from_cookie("brisk_session=xyz", &n);
	cr_assert_not_null(v);
	cr_expect_eq(n, 3);
	cr_expect_null(session_from_cookie("xbrisk_session=1; other=2", &n), "another cookie's name is not ours");
	cr_expect_null(session_from_cookie("brisk_session=; a=1", &n), "an emptied cookie is none");
	cr_expect_null(session_from_cookie("", &n));
	cr_expect_null(session_from_cookie("brisk_sessionx=1", &n));
}

/* The event loop keys admission and rate limits by who a session was the
 * last time it was checked: known after a check, forgotten at sign-out,
 * never for an id that failed. */
Test(session, hint_follows_checks_and_sign_out)
{
	char *dir = tmpdir_new();
	char err[256];
	store_t *s = store_open(dir, NULL, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	int64_t org = store_org_id(s, "hintco", true, err, sizeof err);
	cr_assert_gt(org, 0, "%s", err);
	int64_t user = users_add(s, org, "hint.user", ROLE_ANALYST, "long-enough-1", "test", err, sizeof err);
	cr_assert_gt(user, 0, "%s", err);
	char id[SESSION_ID_BUFSZ], csrf[SESSION_ID_BUFSZ], csrf2[SESSION_ID_BUFSZ];
	cr_assert_eq(session_create(s, user, id, csrf, err, sizeof err), 0, "%s", err);
	int64_t o = 0, u = 0;
	cr_expect_not(session_hint(id, strlen(id), &o, &u), "not checked yet: no hint");
	auth_principal p;
	cr_assert_eq(session_resolve(s, id, strlen(id), &p, csrf2), 0);
	cr_expect(session_hint(id, strlen(id), &o, &u));
	cr_expect_eq(o, org);
	cr_expect_eq(u, user);
	char other[SESSION_ID_BUFSZ];
	snprintf(other, sizeof other, "%s", id);
	other[0] = other[0] == 'A' ? 'B' : 'A';
	cr_expect_not(session_hint(other, strlen(other), &o, &u), "another id is not hinted");
	cr_expect_eq(session_resolve(s, other, strlen(other), &p, csrf2), -1);
	cr_expect_eq(session_end(s, id, strlen(id), err, sizeof err), 0, "%s", err);
	cr_expect_not(session_hint(id, strlen(id), &o, &u), "signed out: no hint");
	store_close(s);
	tmpdir_remove(dir);
}
