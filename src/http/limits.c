/* limits: what the server does with the rate limiter and the admission
 * pool for one request, and the headers every answer carries (security
 * headers, RateLimit-*). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "core/log.h"
#include "auth/session.h"
#include "http/auth.h"
#include "http/ratelimit.h"
#include "http/server_int.h"

static void retry_after(http_req_t *r, int s)
{
	char v[16];
	snprintf(v, sizeof v, "%d", s < 1 ? 1 : s);
	http_add_header(r, "Retry-After", v);
}

bool limits_check(http_server_t *srv, http_req_t *r)
{
	(void)srv;
	if (r->rl_checked || !r->route)
		return true;
	r->rl_checked = true;
	uint64_t who = r->principal;
	if (!who && r->bearer)
		who = XXH3_64bits(r->bearer, strlen(r->bearer));
	if (!who)
		return true;
	rl_class cls = ratelimit_class_of(r->route->name, r->method == HTTP_GET || r->method == HTTP_HEAD);
	rl_verdict v;
	bool ok = ratelimit_take(who, cls, &v);
	if (v.limited) {
		r->rl_limit = v.limit;
		r->rl_remaining = v.remaining;
		r->rl_reset = v.reset_s;
		r->rl_window = v.window_s;
		r->rl_class = ratelimit_class_name(cls);
	}
	if (ok)
		return true;
	http_problem(r, 429, "too many %s requests: at most %d at once, refilled to %d over %d s; retry in %d s "
	                     "(limits are per token and per class of route: ratelimit.* settings)",
	             r->rl_class, v.limit, v.limit, v.window_s, v.retry_after);
	retry_after(r, v.retry_after);
	return false;
}

bool limits_bad_token_blocked(http_req_t *r)
{
	int wait;
	if (!ratelimit_bad_token_blocked(r->peer, &wait))
		return false;
	http_problem(r, 429, "too many requests with unknown or missing API tokens from this address; retry in %d s",
	             wait);
	retry_after(r, wait);
	return true;
}

void limits_bad_token(http_req_t *r)
{
	ratelimit_bad_token_note(r->peer);
}

/* Who a request acts for, as far as memory knows before its check (on
 * the loop): a token the cache knows, or a session resolved before. The
 * org (0 when unknown) and, through *principal, its rate-limit key. */
static int64_t known_org(const http_req_t *r, uint64_t *principal)
{
	*principal = 0;
	if (r->org > 0)
		return r->org;
	if (r->bearer) {
		int64_t o = auth_resolve_cached(r->bearer, strlen(r->bearer), NULL);
		return o > 0 ? o : 0;
	}
	size_t sl;
	const char *sid = r->cookie ? session_from_cookie(r->cookie, &sl) : NULL;
	int64_t org, user;
	if (!sid || !session_hint(sid, sl, &org, &user))
		return 0;
	*principal = auth_rate_key(user);
	return org;
}

bool limits_early(http_server_t *srv, http_req_t *r)
{
	if (!r->route->auth)
		return false;
	uint64_t principal;
	int64_t org = known_org(r, &principal);
	if (org <= 0)
		return false;
	r->org = org;
	if (principal)
		r->principal = principal;
	return !limits_check(srv, r);
}

bool limits_admit(http_server_t *srv, job_t *j, void (*fn)(void *))
{
	http_req_t *r = &j->r;
	int prio = r->admit > 0 ? r->admit - 1 : admission_prio_of(r->route->name);
	if (prio < 0)
		prio = ADM_BULK;
	/* the org, when memory knows the token or session; else the token
	 * (or session id) itself stands for one, its check happening when
	 * the job runs: never one slot shared by every unknown caller */
	uint64_t principal;
	int64_t org = r->route->auth ? known_org(r, &principal) : 0;
	if (org <= 0) {
		size_t sl = 0;
		const char *key = r->bearer ? r->bearer : r->cookie ? session_from_cookie(r->cookie, &sl) : NULL;
		if (key && !sl)
			sl = strlen(key);
		org = key ? -(int64_t)(XXH3_64bits(key, sl) >> 2) - 1 : -1;
	}
	r->admit = 0;
	r->admitted = true;
	int rc = admission_push(srv->admission, org, (adm_prio)prio, fn, j);
	if (rc == 0)
		return true;
	r->admitted = false;
	http_problem(r, 503, "%s: retry shortly",
	             rc == ADMISSION_ORG_FULL ? "this organisation has too many requests waiting to be computed"
	                                      : "the server has too many requests waiting to be computed");
	retry_after(r, 1);
	return false;
}

static void add(h2o_req_t *req, const char *name, const char *value)
{
	h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0, NULL, value, strlen(value));
}

static bool has(const http_req_t *r, const char *name)
{
	for (int i = 0; i < r->nxh; i++)
		if (!strcasecmp(r->xh_name[i], name))
			return true;
	return false;
}

void limits_headers(http_server_t *srv, h2o_req_t *req, http_req_t *r)
{
	/* Every answer: no MIME sniffing, no referrer leak, never framed.
	 * The web page sets its own CSP (scripts by hash); everything else
	 * is data that needs no source at all. */
	if (!has(r, "X-Content-Type-Options"))
		add(req, "x-content-type-options", "nosniff");
	if (!has(r, "Referrer-Policy"))
		add(req, "referrer-policy", "no-referrer");
	if (!has(r, "Content-Security-Policy"))
		add(req, "content-security-policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
	add(req, "x-frame-options", "DENY");
	add(req, "cross-origin-opener-policy", "same-origin");
	if (srv->ssl_ctx && srv->cfg.hsts_max_age > 0) {
		char v[64];
		snprintf(v, sizeof v, "max-age=%d", srv->cfg.hsts_max_age);
		add(req, "strict-transport-security", h2o_strdup(&req->pool, v, SIZE_MAX).base);
	}
	if (r->rl_limit > 0) {
		/* draft-ietf-httpapi-ratelimit-headers (-06): the three fields and
		 * the policy (quota;w=window) */
		char v[96];
		snprintf(v, sizeof v, "%d", r->rl_limit);
		add(req, "ratelimit-limit", h2o_strdup(&req->pool, v, SIZE_MAX).base);
		snprintf(v, sizeof v, "%d", r->rl_remaining);
		add(req, "ratelimit-remaining", h2o_strdup(&req->pool, v, SIZE_MAX).base);
		snprintf(v, sizeof v, "%d", r->rl_reset);
		add(req, "ratelimit-reset", h2o_strdup(&req->pool, v, SIZE_MAX).base);
		snprintf(v, sizeof v, "%d;w=%d;name=\"%s\"", r->rl_limit, r->rl_window, r->rl_class ? r->rl_class : "");
		add(req, "ratelimit-policy", h2o_strdup(&req->pool, v, SIZE_MAX).base);
	}
}
