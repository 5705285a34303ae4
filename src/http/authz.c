#include "http/authz.h"

#include <sodium.h>
#include <string.h>

#include "auth/audit.h"
#include "auth/session.h"
#include "core/log.h"
#include "http/auth.h"
#include "http/server_int.h"

static bool is_write(const http_req_t *r)
{
	return r->method != HTTP_GET && r->method != HTTP_HEAD;
}

static bool from_token(http_server_t *srv, http_req_t *r, bool may_wait)
{
	/* An event loop only uses what the token cache knows; a token it
	 * must look up in the store goes to a worker with its request (a
	 * stream must start on its loop, so it looks up there). */
	size_t len = strlen(r->bearer);
	r->org = auth_resolve_cached(r->bearer, len, &r->who);
	/* An address sending unknown tokens by the dozen is refused before
	 * its tokens are looked up (a token the cache knows as good passes). */
	if (r->org < 0 && limits_bad_token_blocked(r))
		return false;
	if (r->org == AUTH_NEEDS_LOOKUP && may_wait)
		r->org = auth_resolve(http_server_store(srv), r->bearer, len, &r->who);
	if (r->org == AUTH_NEEDS_LOOKUP) {
		r->defer = true;
		return false;
	}
	if (r->org == AUTH_UNAVAILABLE) {
		http_problem(r, 503, "the store is unavailable, so the API token cannot be checked; retry shortly");
		http_add_header(r, "Retry-After", "5");
		return false;
	}
	if (r->org < 0) {
		limits_bad_token(r);
		http_problem(r, 401, "the API token is unknown or revoked (or expired, or its user is disabled)");
		http_add_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
		return false;
	}
	return true;
}

static bool from_session(http_server_t *srv, http_req_t *r, const char *sid, size_t len)
{
	char csrf[SESSION_ID_BUFSZ];
	int rc = session_resolve(http_server_store(srv), sid, len, &r->who, csrf);
	if (rc == -2) {
		http_problem(r, 503, "the store is unavailable, so the session cannot be checked; retry shortly");
		http_add_header(r, "Retry-After", "5");
		return false;
	}
	if (rc < 0) {
		http_problem(r, 401, "the session has ended (signed out, expired, or the user was disabled): sign in again");
		return false;
	}
	r->org = r->who.org;
	/* A cookie rides along with any request the browser makes, even one
	 * another site's page starts: a write must also prove it comes from
	 * our page, which alone can read the CSRF token. */
	if (is_write(r) && (!r->csrf || strlen(r->csrf) != strlen(csrf) || sodium_memcmp(r->csrf, csrf, strlen(csrf)))) {
		http_problem(r, 403, "a signed-in browser's change needs the session's CSRF token in the X-CSRF-Token "
		                     "header (GET /api/v1/session tells it)");
		return false;
	}
	return true;
}

bool authz_request(http_server_t *srv, http_req_t *r)
{
	const http_route *rt = r->route;
	int need = policy_route_role(rt->name);
	if (need == POLICY_NO_RULE) {
		/* fail closed: a route nobody wrote a rule for is nobody's */
		log_warn("authz: route %s has no rule in auth/policy.c: refused", rt->name);
		http_problem(r, 403, "route %s has no authorisation rule", rt->name);
		return false;
	}
	if (need == ROLE_PUBLIC)
		return true;
	/* Writes (and their audit entries) never run on an event loop. */
	bool may_wait = r->on_worker || rt->loop_only;
	size_t sl = 0;
	const char *sid = r->cookie ? session_from_cookie(r->cookie, &sl) : NULL;
	if (!may_wait && (is_write(r) || (!r->bearer && sid))) {
		r->defer = true;
		return false;
	}
	if (r->bearer) {
		if (!from_token(srv, r, may_wait))
			return false;
	} else if (sid) {
		if (!from_session(srv, r, sid, sl))
			return false;
	} else {
		if (limits_bad_token_blocked(r))
			return false;
		limits_bad_token(r);
		http_problem(r, 401, "this call needs a signed-in caller: send 'Authorization: Bearer TOKEN' (create one "
		                     "with 'brisk token create'), or sign in (POST /api/v1/session)");
		http_add_header(r, "WWW-Authenticate", "Bearer");
		return false;
	}
	/* rate limits count per token (the limiter hashes it), or per user
	 * for a signed-in browser */
	if (!r->bearer)
		r->principal = auth_rate_key(r->who.user);
	if (r->who.read_only && is_write(r)) {
		http_problem(r, 403, "this token's scope is read: it cannot change anything");
		return false;
	}
	if (r->who.role < need) {
		http_problem(r, 403, "this needs the %s role; %s is %s", policy_role_name(need), r->who.name,
		             policy_role_name(r->who.role));
		return false;
	}
	return true;
}

void authz_audit_entry(const http_req_t *r, audit_entry *e, char target[512])
{
	snprintf(target, 512, "%s %s", r->method == HTTP_POST ? "POST" : r->method == HTTP_PUT ? "PUT" : "DELETE",
	         r->path ? r->path : "");
	*e = (audit_entry){.actor = r->who.name, .action = r->route->name, .target = target,
	                   .detail = r->raw_query ? r->raw_query : ""};
}

/* Whether write r gets the generic audit entry (when it succeeds). */
static bool audited_here(const http_req_t *r)
{
	if (!is_write(r) || !r->who.user || r->audited)
		return false;
	/* Emptying the org's cache changes no data; its commit would only
	 * make the next reads look at the store again. */
	if (!strcmp(r->route->name, "cache_clear"))
		return false;
	/* A change of the match rules logs itself, with what changed
	 * (match/rules.c), in its own transaction. */
	return strcmp(r->route->name, "match_rules_put") != 0;
}

static int carry_audit(void *ud, store_conn_t *w)
{
	authz_carry *c = ud;
	return audit_add(w, c->r->org, c->e.actor, c->e.action, c->e.target, c->e.detail);
}

void authz_before(http_req_t *r, authz_carry *c)
{
	if (!audited_here(r))
		return;
	c->r = r;
	authz_audit_entry(r, &c->e, c->target);
	store_thread_on_commit(carry_audit, c);
}

void authz_after(http_server_t *srv, http_req_t *r)
{
	/* went in with the request's first commit: nothing more */
	if (store_thread_on_commit_done())
		r->audited = true;
	store_thread_on_commit(NULL, NULL);
	if (!audited_here(r) || r->status < 200 || r->status >= 300)
		return;
	char target[512], err[256];
	audit_entry e;
	authz_audit_entry(r, &e, target);
	if (audit_record(http_server_store(srv), r->org, e.actor, e.action, e.target, e.detail, err, sizeof err) != 0)
		log_warn("audit: %s by %s not recorded: %s", r->route->name, r->who.name, err);
}
