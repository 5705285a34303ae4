/* Sign-in sessions, an organisation's users and API tokens, and its
 * audit log. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/audit.h"
#include "auth/password.h"
#include "auth/session.h"
#include "auth/users.h"
#include "http/api.h"
#include "http/auth.h"
#include "http/ratelimit.h"

/* The body as a JSON object whose keys are all in keys (NULL-terminated);
 * NULL with a 4xx set on r otherwise. The caller frees it. */
static json_t *json_body(http_req_t *r, const char *const *keys, const char *example)
{
	json_t *root = api_json_body(r, "the body");
	if (!root)
		return NULL;
	if (!json_is_object(root)) {
		http_problem(r, 400, "the body must be an object such as %s", example);
		json_decref(root);
		return NULL;
	}
	const char *key;
	json_t *val;
	json_object_foreach(root, key, val) {
		bool known = false;
		for (int i = 0; keys[i]; i++)
			known |= !strcmp(keys[i], key);
		if (!known || !(json_is_string(val) || json_is_boolean(val))) {
			http_problem(r, 400, known ? "'%.40s' has the wrong type" : "unknown field '%.40s' (see %s)", key, example);
			json_decref(root);
			return NULL;
		}
	}
	return root;
}

static const char *str_field(json_t *root, const char *name)
{
	return json_string_value(json_object_get(root, name));
}

static void session_cookie(http_req_t *r, const char *id, int max_age)
{
	char v[256];
	snprintf(v, sizeof v, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", SESSION_COOKIE, id, max_age,
	         r->tls ? "; Secure" : "");
	http_add_header(r, "Set-Cookie", v);
}

/* {"user","org","role","scope"[,"csrf"]}: who the caller is. */
static void who_json(http_server_t *srv, http_req_t *r, const char *csrf)
{
	char slug[128] = "";
	store_conn_t *c = store_read_begin(http_server_store(srv));
	store_stmt_t *st = store_prepare(c, "SELECT slug FROM orgs WHERE id = ?");
	store_bind_i64(st, 1, r->who.org);
	if (store_step(st) == STORE_ROW)
		snprintf(slug, sizeof slug, "%s", store_col_text(st, 0, NULL));
	store_reset(st);
	store_read_end(c);
	buf_puts(&r->out, "{\"data\":{\"user\":");
	buf_json_str(&r->out, r->who.name, strlen(r->who.name));
	buf_puts(&r->out, ",\"org\":");
	buf_json_str(&r->out, slug, strlen(slug));
	buf_printf(&r->out, ",\"role\":\"%s\",\"scope\":\"%s\",\"via\":\"%s\"", policy_role_name(r->who.role),
	           r->who.read_only ? "read" : "write", r->bearer ? "token" : "session");
	if (csrf) {
		buf_puts(&r->out, ",\"csrf\":");
		buf_json_str(&r->out, csrf, strlen(csrf));
	}
	buf_puts(&r->out, "}}");
}

void api_session_create(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	static const char *const keys[] = {"user", "password", NULL};
	if (!api_check_params(r, allowed))
		return;
	json_t *root = json_body(r, keys, "{\"user\":\"alice\",\"password\":\"...\"}");
	if (!root)
		return;
	const char *name = str_field(root, "user"), *pw = str_field(root, "password");
	if (!name || !pw || !*name) {
		http_problem(r, 400, "sign-in needs \"user\" and \"password\"");
		json_decref(root);
		return;
	}
	int wait;
	if (!ratelimit_signin_allowed(r->peer, name, strlen(name), &wait)) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", wait);
		http_problem(r, 429, "too many failed sign-ins: retry in %d s", wait);
		http_add_header(r, "Retry-After", ra);
		json_decref(root);
		return;
	}
	auth_principal p;
	char hash[PASSWORD_HASH_BUFSZ] = "";
	bool disabled = false;
	int found = users_find(http_server_store(srv), name, &p, hash, sizeof hash, &disabled);
	if (found < 0) {
		http_problem(r, 503, "the store is unavailable; retry shortly");
		json_decref(root);
		return;
	}
	/* one answer for every failure, and the same work: nothing tells
	 * which user names exist */
	bool ok = password_verify(found == 1 && hash[0] ? hash : NULL, pw) && !disabled && p.role > 0;
	if (!ok) {
		ratelimit_signin_failed(r->peer, name, strlen(name));
		http_problem(r, 401, "wrong user name or password");
		json_decref(root);
		return;
	}
	ratelimit_signin_succeeded(r->peer, name, strlen(name));
	json_decref(root); /* name was in it */
	char id[SESSION_ID_BUFSZ], csrf[SESSION_ID_BUFSZ], err[256];
	if (session_create(http_server_store(srv), p.user, id, csrf, err, sizeof err) != 0) {
		http_store_failed(r, 503, err);
		return;
	}
	r->who = p;
	r->org = p.org;
	session_cookie(r, id, SESSION_MAX_S);
	who_json(srv, r, csrf);
	http_json(r, 200);
}

void api_session_get(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	char csrf[SESSION_ID_BUFSZ];
	size_t sl;
	const char *sid = !r->bearer && r->cookie ? session_from_cookie(r->cookie, &sl) : NULL;
	auth_principal p;
	bool have = sid && session_resolve(http_server_store(srv), sid, sl, &p, csrf) == 0;
	who_json(srv, r, have ? csrf : NULL);
	r->etag[0] = '\0';
	http_json(r, 200);
}

void api_session_delete(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	size_t sl;
	const char *sid = r->cookie ? session_from_cookie(r->cookie, &sl) : NULL;
	char err[300];
	if (sid && session_end(http_server_store(srv), sid, sl, err, sizeof err) != 0) {
		http_store_failed(r, 503, err); /* still signed in: say so */
		return;
	}
	session_cookie(r, "", 0);
	r->status = 204;
}

/* {"data": the org's list as fill writes it}: users, tokens. */
static void org_list(http_server_t *srv, http_req_t *r, bool (*fill)(store_conn_t *, int64_t, buf_t *))
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	store_conn_t *c = store_read_begin(http_server_store(srv));
	buf_puts(&r->out, "{\"data\":");
	bool ok = fill(c, r->org, &r->out);
	store_read_end(c);
	buf_putc(&r->out, '}');
	if (!ok) {
		buf_reset(&r->out);
		http_problem(r, 503, "the store is unavailable; retry shortly");
		return;
	}
	http_json(r, 200);
}

void api_users_list(http_server_t *srv, http_req_t *r)
{
	org_list(srv, r, users_json);
}

/* A role the caller may hand out: none above its own. -1 with a 4xx set. */
static int grantable_role(http_req_t *r, const char *name)
{
	int role = policy_role_parse(name);
	if (role < 0) {
		http_problem(r, 400, "unknown role '%.20s' (viewer, analyst, admin or operator)", name ? name : "");
		return -1;
	}
	if (role > r->who.role) {
		http_problem(r, 403, "an %s cannot make an %s", policy_role_name(r->who.role), policy_role_name(role));
		return -1;
	}
	return role;
}

void api_users_add(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	static const char *const keys[] = {"name", "role", "password", NULL};
	if (!api_check_params(r, allowed))
		return;
	json_t *root = json_body(r, keys, "{\"name\":\"bob\",\"role\":\"viewer\",\"password\":\"...\"}");
	if (!root)
		return;
	const char *name = str_field(root, "name"), *pw = str_field(root, "password");
	int role = grantable_role(r, str_field(root, "role"));
	char err[256];
	if (role >= 0 && !name)
		http_problem(r, 400, "a user needs a \"name\"");
	else if (role >= 0 && users_add(http_server_store(srv), r->org, name, role, pw, r->who.name, err, sizeof err) < 0)
		http_problem(r, strstr(err, "exists") ? 409 : 400, "%s", err);
	else if (role >= 0) {
		buf_puts(&r->out, "{\"data\":{\"name\":");
		buf_json_str(&r->out, name, strlen(name));
		buf_printf(&r->out, ",\"role\":\"%s\"}}", policy_role_name(role));
		http_json(r, 201);
	}
	json_decref(root);
}

void api_user_put(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	static const char *const keys[] = {"role", "password", "disabled", NULL};
	if (!api_check_params(r, allowed))
		return;
	char name[USER_NAME_MAX + 1];
	snprintf(name, sizeof name, "%.*s", (int)r->params[0].len, r->params[0].p);
	auth_principal p;
	char hash[PASSWORD_HASH_BUFSZ];
	bool disabled;
	store_t *s = http_server_store(srv);
	/* another org's user is no different from none */
	if (users_find(s, name, &p, hash, sizeof hash, &disabled) != 1 || p.org != r->org) {
		http_problem(r, 404, "no user named '%s' in this organisation", name);
		return;
	}
	if (p.role > r->who.role) {
		http_problem(r, 403, "an %s cannot change an %s", policy_role_name(r->who.role), policy_role_name(p.role));
		return;
	}
	json_t *root = json_body(r, keys, "{\"role\":\"analyst\",\"disabled\":false,\"password\":\"...\"}");
	if (!root)
		return;
	json_t *jrole = json_object_get(root, "role"), *jdis = json_object_get(root, "disabled");
	const char *pw = str_field(root, "password");
	char err[256] = "";
	int rc = 0;
	if (jrole) {
		int role = grantable_role(r, json_string_value(jrole));
		rc = role < 0 ? 1 : users_set_role(s, name, role, r->who.name, err, sizeof err);
	}
	if (rc == 0 && jdis)
		rc = users_set_disabled(s, name, json_is_true(jdis), r->who.name, err, sizeof err);
	if (rc == 0 && pw)
		rc = users_set_password(s, name, pw, r->who.name, err, sizeof err);
	json_decref(root);
	if (rc < 0)
		http_problem(r, 400, "%s", err);
	if (rc != 0)
		return;
	store_conn_t *c = store_read_begin(s);
	buf_puts(&r->out, "{\"data\":");
	users_json(c, r->org, &r->out);
	store_read_end(c);
	buf_putc(&r->out, '}');
	http_json(r, 200);
}

void api_tokens_list(http_server_t *srv, http_req_t *r)
{
	org_list(srv, r, auth_tokens_json);
}

/* The owner a new token may have: a user of the caller's organisation
 * whose role is not above the caller's (the caller itself by default).
 * Its id, or -1 with a 4xx set. */
static int64_t token_owner(http_server_t *srv, http_req_t *r, const char *name)
{
	if (!name)
		return r->who.user;
	auth_principal p;
	char hash[PASSWORD_HASH_BUFSZ];
	bool disabled;
	int found = users_find(http_server_store(srv), name, &p, hash, sizeof hash, &disabled);
	if (found < 0) {
		http_problem(r, 503, "the store is unavailable; retry shortly");
		return -1;
	}
	if (found != 1 || p.org != r->org) {
		http_problem(r, 404, "no user named '%.64s' in this organisation", name);
		return -1;
	}
	if (p.role > r->who.role) {
		http_problem(r, 403, "an %s cannot make a token of an %s", policy_role_name(r->who.role),
		             policy_role_name(p.role));
		return -1;
	}
	if (disabled) {
		http_problem(r, 422, "user '%.64s' is disabled: its tokens would not work", name);
		return -1;
	}
	return p.user;
}

void api_tokens_create(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	static const char *const keys[] = {"user", "scope", "expires", "label", NULL};
	static const char *const example = "{\"user\":\"reports\",\"scope\":\"read\",\"expires\":\"90d\",\"label\":\"grafana\"}";
	if (!api_check_params(r, allowed))
		return;
	json_t *root = json_body(r, keys, example);
	if (!root)
		return;
	const char *scope = str_field(root, "scope"), *expires = str_field(root, "expires");
	const char *label = str_field(root, "label");
	int64_t now = (int64_t)time(NULL);
	char tok[AUTH_TOKEN_BUFSZ], err[256];
	int64_t id = 0;
	auth_token_opts o = {.label = label ? label : "", .actor = r->who.name, .id_out = &id};
	if (json_object_get(root, "scope") && (!scope || (strcmp(scope, "read") && strcmp(scope, "write"))))
		http_problem(r, 400, "\"scope\" is \"read\" or \"write\"");
	else if (json_object_get(root, "expires") && (!expires || (o.expires_at = auth_expiry_parse(expires, now)) < 0))
		http_problem(r, 400, "\"expires\" is 30d, 12h, 90m, a date YYYY-MM-DD or never");
	else if (o.expires_at && o.expires_at <= now)
		http_problem(r, 400, "\"expires\" '%.20s' is in the past", expires);
	else if ((json_object_get(root, "user") && !str_field(root, "user")) ||
	         (json_object_get(root, "label") && !label) || strlen(o.label) > 100)
		http_problem(r, 400, "\"user\" and \"label\" are strings (a label of at most 100 bytes)");
	else if ((o.user = token_owner(srv, r, str_field(root, "user"))) > 0) {
		o.read_only = scope && !strcmp(scope, "read");
		if (auth_token_create_opts(http_server_store(srv), &o, tok, err, sizeof err) != 0) {
			http_store_failed(r, 503, err);
		} else {
			const char *owner = str_field(root, "user") ? str_field(root, "user") : r->who.name;
			buf_printf(&r->out, "{\"data\":{\"id\":%lld,\"token\":\"%s\",\"user\":", (long long)id, tok);
			buf_json_str(&r->out, owner, strlen(owner));
			buf_printf(&r->out, ",\"scope\":\"%s\",\"label\":", o.read_only ? "read" : "write");
			buf_json_str(&r->out, o.label, strlen(o.label));
			buf_puts(&r->out, "}}");
			r->etag[0] = '\0';
			http_json(r, 201);
			explicit_bzero(tok, sizeof tok);
		}
	}
	json_decref(root);
}

void api_token_delete(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	char idtext[24];
	snprintf(idtext, sizeof idtext, "%.*s", (int)(r->params[0].len < 20 ? r->params[0].len : 20), r->params[0].p);
	char *end;
	long long id = strtoll(idtext, &end, 10);
	store_t *s = http_server_store(srv);
	/* another org's token is no different from none */
	int role = id > 0 && !*end && r->params[0].len < 20 ? auth_token_role(s, id, r->org) : -1;
	char err[256];
	if (role == -2)
		http_problem(r, 503, "the store is unavailable; retry shortly");
	else if (role < 0)
		http_problem(r, 404, "no token %.20s in this organisation (GET /api/v1/tokens lists them)", idtext);
	else if (role > r->who.role)
		http_problem(r, 403, "an %s cannot revoke a token of an %s", policy_role_name(r->who.role),
		             policy_role_name(role));
	else if (auth_token_revoke(s, id, r->org, r->who.name, err, sizeof err) != 0)
		http_problem(r, strstr(err, "no token") ? 404 : 503, "%s", err);
	else
		r->status = 204;
}

void api_audit_list(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {"limit", "before", NULL};
	if (!api_check_params(r, allowed))
		return;
	long limit = 100, before = 0;
	const char *v;
	char *end;
	if ((v = query_get(&r->query, "limit")) && ((limit = strtol(v, &end, 10)) < 1 || limit > 1000 || *end)) {
		http_problem(r, 400, "limit must be a whole number from 1 to 1000");
		return;
	}
	if ((v = query_get(&r->query, "before")) && ((before = strtol(v, &end, 10)) < 1 || *end)) {
		http_problem(r, 400, "before must be an entry id (the next_before of the page before)");
		return;
	}
	store_conn_t *c = store_read_begin(http_server_store(srv));
	int64_t next = 0;
	buf_puts(&r->out, "{\"data\":");
	bool ok = audit_json(c, r->org, before, (int)limit, &r->out, &next);
	store_read_end(c);
	if (!ok) {
		buf_reset(&r->out);
		http_problem(r, 503, "the store is unavailable; retry shortly");
		return;
	}
	if (next)
		buf_printf(&r->out, ",\"next_before\":%lld}", (long long)next);
	else
		buf_puts(&r->out, ",\"next_before\":null}");
	http_json(r, 200);
}
