#include "auth/users.h"

#include <string.h>
#include <time.h>

#include "auth/audit.h"
#include "auth/password.h"
#include "auth/session.h"
#include "http/auth.h"

bool users_name_valid(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);
	if (n == 0 || n > USER_NAME_MAX) {
		snprintf(err, errlen, "a user name is 1 to %d characters long", USER_NAME_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._@+-", c))) {
			snprintf(err, errlen, "'%s' is not a valid user name: use letters, digits and . _ @ + -", name);
			return false;
		}
	}
	return true;
}

/* The org of user name in w's transaction, and its id; -1 when missing. */
static int64_t user_org(store_conn_t *w, const char *name, int64_t *org)
{
	static const char *q = "SELECT id, org FROM users WHERE name = ?";
	store_stmt_t *st = store_prepare(w, q);
	store_bind_text(st, 1, name, strlen(name));
	int64_t id = -1;
	if (store_step(st) == STORE_ROW) {
		id = store_col_i64(st, 0);
		*org = store_col_i64(st, 1);
	}
	store_reset(st);
	return id;
}

int64_t users_add(store_t *s, int64_t org, const char *name, int role, const char *password, const char *actor,
                  char *err, size_t errlen)
{
	static const char *ins = "INSERT INTO users(org, name, role, pw_hash, created_at) VALUES(?, ?, ?, ?, ?)";
	if (!users_name_valid(name, err, errlen))
		return -1;
	if (role < ROLE_VIEWER || role > ROLE_OPERATOR) {
		snprintf(err, errlen, "unknown role (viewer, analyst, admin or operator)");
		return -1;
	}
	char hash[PASSWORD_HASH_BUFSZ] = "";
	if (password && (!password_acceptable(password, err, errlen) || password_hash(password, hash, err, errlen) != 0))
		return -1;
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return -1;
	int64_t other;
	if (user_org(w, name, &other) >= 0) {
		store_write_rollback(w);
		snprintf(err, errlen, "a user named '%s' exists already (user names are unique across the server)", name);
		return -1;
	}
	store_stmt_t *st = store_prepare(w, ins);
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, name, strlen(name));
	const char *rn = policy_role_name(role);
	store_bind_text(st, 3, rn, strlen(rn));
	store_bind_text(st, 4, hash, strlen(hash));
	store_bind_i64(st, 5, (int64_t)time(NULL));
	store_status rc = store_step(st);
	store_reset(st);
	int64_t id = -1;
	if (rc == STORE_DONE)
		id = user_org(w, name, &other);
	if (id < 0 || audit_add(w, org, actor, "user_add", name, rn) != 0) {
		snprintf(err, errlen, "cannot store the user: %s", store_errmsg(w));
		store_write_rollback(w);
		return -1;
	}
	return store_write_commit(w, err, errlen) == 0 ? id : -1;
}

/* Runs UPDATE users SET ... WHERE name = ? (text value bound first, or
 * the integer when text is NULL), ends the user's sessions when asked,
 * and logs action; one transaction. */
static int user_update(store_t *s, const char *sql, const char *name, const char *text, int64_t num, bool end_sessions,
                       const char *actor, const char *action, const char *detail, char *err, size_t errlen)
{
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return -1;
	int64_t org = 0;
	int64_t id = user_org(w, name, &org);
	if (id < 0) {
		store_write_rollback(w);
		snprintf(err, errlen, "no user named '%s' (see 'brisk user list')", name);
		return -1;
	}
	store_stmt_t *st = store_prepare(w, sql);
	if (text)
		store_bind_text(st, 1, text, strlen(text));
	else
		store_bind_i64(st, 1, num);
	store_bind_i64(st, 2, id);
	store_status rc = store_step(st);
	store_reset(st);
	if (rc != STORE_DONE || (end_sessions && session_end_user(w, id) != 0) ||
	    audit_add(w, org, actor, action, name, detail) != 0) {
		snprintf(err, errlen, "cannot change the user: %s", store_errmsg(w));
		store_write_rollback(w);
		return -1;
	}
	if (store_write_commit(w, err, errlen) != 0)
		return -1;
	auth_cache_clear();
	return 0;
}

int users_set_password(store_t *s, const char *name, const char *password, const char *actor, char *err,
                       size_t errlen)
{
	char hash[PASSWORD_HASH_BUFSZ];
	if (!password_acceptable(password, err, errlen) || password_hash(password, hash, err, errlen) != 0)
		return -1;
	return user_update(s, "UPDATE users SET pw_hash = ? WHERE id = ?", name, hash, 0, true, actor, "user_passwd", "",
	                   err, errlen);
}

int users_set_role(store_t *s, const char *name, int role, const char *actor, char *err, size_t errlen)
{
	if (role < ROLE_VIEWER || role > ROLE_OPERATOR) {
		snprintf(err, errlen, "unknown role (viewer, analyst, admin or operator)");
		return -1;
	}
	const char *rn = policy_role_name(role);
	return user_update(s, "UPDATE users SET role = ? WHERE id = ?", name, rn, 0, false, actor, "user_role", rn, err,
	                   errlen);
}

int users_set_disabled(store_t *s, const char *name, bool disabled, const char *actor, char *err, size_t errlen)
{
	return user_update(s, "UPDATE users SET disabled = ? WHERE id = ?", name, NULL, disabled, disabled, actor,
	                   disabled ? "user_disable" : "user_enable", "", err, errlen);
}

int users_find(store_t *s, const char *name, auth_principal *p, char *hash, size_t hashlen, bool *disabled)
{
	static const char *q = "SELECT id, org, role, pw_hash, disabled FROM users WHERE name = ?";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	store_bind_text(st, 1, name, strlen(name));
	store_status rc = store_step(st);
	if (rc == STORE_ROW) {
		memset(p, 0, sizeof *p);
		p->user = store_col_i64(st, 0);
		p->org = store_col_i64(st, 1);
		p->role = policy_role_parse(store_col_text(st, 2, NULL));
		snprintf(p->name, sizeof p->name, "%s", name);
		snprintf(hash, hashlen, "%s", store_col_text(st, 3, NULL));
		*disabled = store_col_i64(st, 4) != 0;
	}
	store_reset(st);
	store_read_end(c);
	return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

int64_t users_org_admin(store_t *s, int64_t org, char *err, size_t errlen)
{
	static const char *q = "SELECT u.id FROM users u JOIN orgs o ON o.id = u.org "
	                       "WHERE u.org = ? AND u.name = o.slug || '-admin'";
	static const char *slug_q = "SELECT slug FROM orgs WHERE id = ?";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	store_bind_i64(st, 1, org);
	int64_t id = store_step(st) == STORE_ROW ? store_col_i64(st, 0) : -1;
	store_reset(st);
	char name[160] = "";
	if (id < 0) {
		st = store_prepare(c, slug_q);
		store_bind_i64(st, 1, org);
		if (store_step(st) == STORE_ROW)
			snprintf(name, sizeof name, "%s-admin", store_col_text(st, 0, NULL));
		store_reset(st);
	}
	store_read_end(c);
	if (id >= 0)
		return id;
	if (!name[0]) {
		snprintf(err, errlen, "no organisation with id %lld", (long long)org);
		return -1;
	}
	return users_add(s, org, name, ROLE_ADMIN, NULL, "brisk", err, errlen);
}

int users_print(store_t *s, const char *org_slug, FILE *f, char *err, size_t errlen)
{
	static const char *q = "SELECT u.id, o.slug, u.name, u.role, u.disabled, u.pw_hash FROM users u "
	                       "JOIN orgs o ON o.id = u.org WHERE ? = '' OR o.slug = ? ORDER BY o.slug, u.name";
	const char *slug = org_slug ? org_slug : "";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	store_bind_text(st, 1, slug, strlen(slug));
	store_bind_text(st, 2, slug, strlen(slug));
	fprintf(f, "%-6s %-20s %-32s %-9s %s\n", "id", "org", "name", "role", "state");
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW)
		fprintf(f, "%-6lld %-20s %-32s %-9s %s\n", (long long)store_col_i64(st, 0), store_col_text(st, 1, NULL),
		        store_col_text(st, 2, NULL), store_col_text(st, 3, NULL),
		        store_col_i64(st, 4) ? "disabled" : *store_col_text(st, 5, NULL) ? "active" : "tokens only");
	if (rc != STORE_DONE)
		snprintf(err, errlen, "cannot list users: %s", store_errmsg(c));
	store_reset(st);
	store_read_end(c);
	return rc == STORE_DONE ? 0 : -1;
}

bool users_json(store_conn_t *c, int64_t org, buf_t *out)
{
	static const char *q = "SELECT name, role, disabled, pw_hash, created_at FROM users WHERE org = ? ORDER BY name";
	store_stmt_t *st = store_prepare(c, q);
	store_bind_i64(st, 1, org);
	buf_putc(out, '[');
	store_status rc;
	int n = 0;
	while ((rc = store_step(st)) == STORE_ROW) {
		size_t len;
		const char *v = store_col_text(st, 0, &len);
		buf_puts(out, n++ ? ",{\"name\":" : "{\"name\":");
		buf_json_str(out, v, len);
		v = store_col_text(st, 1, &len);
		buf_puts(out, ",\"role\":");
		buf_json_str(out, v, len);
		buf_printf(out, ",\"disabled\":%s,\"password\":%s}", store_col_i64(st, 2) ? "true" : "false",
		           *store_col_text(st, 3, NULL) ? "true" : "false");
	}
	store_reset(st);
	buf_putc(out, ']');
	return rc == STORE_DONE;
}
