#include "http/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/audit.h"
#include "auth/users.h"
#include "core/buf.h"
#include "core/date.h"

static void token_hash(const char *tok, size_t len, unsigned char out[crypto_hash_sha256_BYTES])
{
	crypto_hash_sha256(out, (const unsigned char *)tok, len);
}

int auth_token_create(store_t *s, int64_t org, const char *label, char out[AUTH_TOKEN_BUFSZ], char *err,
                      size_t errlen)
{
	auth_token_opts o = {.org = org, .label = label, .actor = "brisk"};
	return auth_token_create_opts(s, &o, out, err, errlen);
}

int auth_token_create_opts(store_t *s, const auth_token_opts *o, char out[AUTH_TOKEN_BUFSZ], char *err,
                           size_t errlen)
{
	static const char *ins = "INSERT INTO tokens(org, hash, label, user_id, scope, expires_at) "
	                         "SELECT u.org, ?, ?, u.id, ?, ? FROM users u WHERE u.id = ?";
	static const char *org_q = "SELECT org, id FROM tokens WHERE hash = ?";
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	int64_t user = o->user;
	if (!user && (user = users_org_admin(s, o->org, err, errlen)) < 0)
		return -1;
	unsigned char rnd[32];
	randombytes_buf(rnd, sizeof rnd);
	memcpy(out, "brisk_", 6);
	sodium_bin2base64(out + 6, AUTH_TOKEN_BUFSZ - 6, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	unsigned char h[crypto_hash_sha256_BYTES];
	token_hash(out, strlen(out), h);
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return -1;
	const char *label = o->label ? o->label : "";
	const char *scope = o->read_only ? "read" : "write";
	store_stmt_t *st = store_prepare(w, ins);
	store_bind_blob(st, 1, h, sizeof h);
	store_bind_text(st, 2, label, strlen(label));
	store_bind_text(st, 3, scope, strlen(scope));
	store_bind_i64(st, 4, o->expires_at);
	store_bind_i64(st, 5, user);
	store_status rc = store_step(st);
	store_reset(st);
	int64_t org = -1;
	if (rc == STORE_DONE && store_changes(w) == 1) {
		st = store_prepare(w, org_q);
		store_bind_blob(st, 1, h, sizeof h);
		if (store_step(st) == STORE_ROW) {
			org = store_col_i64(st, 0);
			if (o->id_out)
				*o->id_out = store_col_i64(st, 1);
		}
		store_reset(st);
	}
	char detail[96];
	snprintf(detail, sizeof detail, "scope %s%s", scope, o->expires_at ? ", expires" : "");
	if (org < 0 || audit_add(w, org, o->actor ? o->actor : "brisk", "token_create", label, detail) != 0) {
		snprintf(err, errlen, "cannot store token: %s", org < 0 ? "no such user" : store_errmsg(w));
		store_write_rollback(w);
		return -1;
	}
	return store_write_commit(w, err, errlen);
}

int auth_token_list(store_t *s, const char *org_slug, FILE *f, char *err, size_t errlen)
{
	static const char *q = "SELECT t.id, o.slug, coalesce(u.name, ''), t.scope, t.label, t.created_at, t.expires_at, "
	                       "t.revoked FROM tokens t JOIN orgs o ON o.id = t.org LEFT JOIN users u ON u.id = t.user_id "
	                       "WHERE ? = '' OR o.slug = ? ORDER BY t.id";
	const char *slug = org_slug ? org_slug : "";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	store_bind_text(st, 1, slug, strlen(slug));
	store_bind_text(st, 2, slug, strlen(slug));
	fprintf(f, "%-6s %-16s %-24s %-6s %-16s %-22s %-22s %s\n", "id", "org", "user", "scope", "label", "created",
	        "expires", "state");
	time_t now = time(NULL);
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		int64_t exp = store_col_i64(st, 6);
		char expires[32] = "never";
		if (exp)
			date_utc_iso(exp, expires);
		fprintf(f, "%-6lld %-16s %-24s %-6s %-16s %-22s %-22s %s\n", (long long)store_col_i64(st, 0),
		        store_col_text(st, 1, NULL), store_col_text(st, 2, NULL), store_col_text(st, 3, NULL),
		        store_col_text(st, 4, NULL), store_col_text(st, 5, NULL), expires,
		        store_col_i64(st, 7) ? "revoked" : exp && exp <= now ? "expired" : "active");
	}
	if (rc != STORE_DONE)
		snprintf(err, errlen, "cannot list tokens: %s", store_errmsg(c));
	store_reset(st);
	store_read_end(c);
	return rc == STORE_DONE ? 0 : -1;
}

int auth_token_revoke(store_t *s, int64_t id, int64_t in_org, const char *actor, char *err, size_t errlen)
{
	static const char *q = "UPDATE tokens SET revoked = 1 WHERE id = ? AND (? = 0 OR org = ?)";
	static const char *org_q = "SELECT org, label FROM tokens WHERE id = ?";
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return -1;
	store_stmt_t *st = store_prepare(w, q);
	store_bind_i64(st, 1, id);
	store_bind_i64(st, 2, in_org);
	store_bind_i64(st, 3, in_org);
	store_step(st);
	store_reset(st);
	if (store_changes(w) != 1) {
		store_write_rollback(w);
		snprintf(err, errlen, "no token with id %lld", (long long)id);
		return -1;
	}
	st = store_prepare(w, org_q);
	store_bind_i64(st, 1, id);
	int64_t org = 0;
	char label[128] = "";
	if (store_step(st) == STORE_ROW) {
		org = store_col_i64(st, 0);
		snprintf(label, sizeof label, "%s", store_col_text(st, 1, NULL));
	}
	store_reset(st);
	char target[160];
	snprintf(target, sizeof target, "token %lld%s%s", (long long)id, label[0] ? " " : "", label);
	if (audit_add(w, org, actor ? actor : "brisk", "token_revoke", target, "") != 0) {
		snprintf(err, errlen, "cannot write the audit log: %s", store_errmsg(w));
		store_write_rollback(w);
		return -1;
	}
	if (store_write_commit(w, err, errlen) != 0)
		return -1;
	auth_cache_clear();
	return 0;
}

int64_t auth_expiry_parse(const char *s, int64_t now)
{
	if (!strcmp(s, "never"))
		return 0;
	char *end;
	long n = strtol(s, &end, 10);
	if (end != s && n > 0 && n <= 100000 && *end && strchr("dhm", *end) && end[1] == '\0')
		return now + n * (*end == 'd' ? 86400 : *end == 'h' ? 3600 : 60);
	date_t day;
	if (strlen(s) == 10 && date_parse(s, 10, &day))
		return (int64_t)day * 86400;
	return -1;
}

int auth_token_role(store_t *s, int64_t id, int64_t org)
{
	static const char *q = "SELECT u.role FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ? AND t.org = ?";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	store_bind_i64(st, 1, id);
	store_bind_i64(st, 2, org);
	store_status rc = store_step(st);
	int role = rc == STORE_DONE ? -1 : -2;
	if (rc == STORE_ROW && (role = policy_role_parse(store_col_text(st, 0, NULL))) < 0)
		role = ROLE_OPERATOR; /* a role this build does not know: only the highest may touch it */
	store_reset(st);
	store_read_end(c);
	return role;
}

bool auth_tokens_json(store_conn_t *c, int64_t org, buf_t *out)
{
	static const char *q = "SELECT t.id, coalesce(u.name, ''), t.scope, t.label, t.created_at, t.expires_at, t.revoked "
	                       "FROM tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.org = ? ORDER BY t.id";
	store_stmt_t *st = store_prepare(c, q);
	store_bind_i64(st, 1, org);
	int64_t now = (int64_t)time(NULL);
	buf_putc(out, '[');
	store_status rc;
	int n = 0;
	while ((rc = store_step(st)) == STORE_ROW) {
		size_t len;
		buf_printf(out, "%s{\"id\":%lld,\"user\":", n++ ? "," : "", (long long)store_col_i64(st, 0));
		const char *v = store_col_text(st, 1, &len);
		buf_json_str(out, v, len);
		buf_printf(out, ",\"scope\":\"%s\",\"label\":", store_col_text(st, 2, NULL));
		v = store_col_text(st, 3, &len);
		buf_json_str(out, v, len);
		buf_puts(out, ",\"created\":");
		v = store_col_text(st, 4, &len);
		buf_json_str(out, v, len);
		int64_t exp = store_col_i64(st, 5);
		char at[32];
		if (exp) {
			date_utc_iso(exp, at);
			buf_printf(out, ",\"expires\":\"%s\"", at);
		} else {
			buf_puts(out, ",\"expires\":null");
		}
		buf_printf(out, ",\"state\":\"%s\"}",
		           store_col_i64(st, 6) ? "revoked" : exp && exp <= now ? "expired" : "active");
	}
	store_reset(st);
	buf_putc(out, ']');
	return rc == STORE_DONE;
}

/* A small direct-mapped cache of hash -> principal with an expiry, so a
 * request costs one SHA-256 and no store read. A revoke (or a user's
 * change) made by this process clears it at once; one made by another
 * process (brisk token revoke while the server runs) takes effect within
 * AUTH_TTL_S. A token's own expiry is checked on every use. */
#define AUTH_CACHE 256
#define AUTH_TTL_S 5

static struct {
	unsigned char h[crypto_hash_sha256_BYTES];
	int64_t org;
	int64_t token_expires; /* 0 = never */
	auth_principal who;
	time_t expires;
} cache[AUTH_CACHE];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

void auth_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	memset(cache, 0, sizeof cache);
	pthread_mutex_unlock(&cache_lock);
}

/* The cached answer for slot (locked): its org, or -1 past the token's expiry. */
static int64_t cached_answer(unsigned slot, time_t now, auth_principal *p)
{
	if (cache[slot].org < 0)
		return -1;
	if (cache[slot].token_expires && cache[slot].token_expires <= now)
		return -1;
	if (p)
		*p = cache[slot].who;
	return cache[slot].org;
}

int64_t auth_resolve_cached(const char *token, size_t len, auth_principal *p)
{
	if (len < 10 || len > AUTH_TOKEN_BUFSZ)
		return -1;
	unsigned char h[crypto_hash_sha256_BYTES];
	token_hash(token, len, h);
	unsigned slot = (h[0] | (unsigned)h[1] << 8) % AUTH_CACHE;
	int64_t org = AUTH_NEEDS_LOOKUP;
	time_t now = time(NULL);
	pthread_mutex_lock(&cache_lock);
	if (cache[slot].expires > now && !memcmp(cache[slot].h, h, sizeof h))
		org = cached_answer(slot, now, p);
	pthread_mutex_unlock(&cache_lock);
	return org;
}

int64_t auth_resolve(store_t *s, const char *token, size_t len, auth_principal *p)
{
	static const char *q = "SELECT t.org, t.user_id, u.role, u.name, t.scope, t.expires_at FROM tokens t "
	                       "JOIN users u ON u.id = t.user_id WHERE t.hash = ? AND t.revoked = 0 AND u.disabled = 0";
	if (len < 10 || len > AUTH_TOKEN_BUFSZ)
		return -1;
	unsigned char h[crypto_hash_sha256_BYTES];
	token_hash(token, len, h);
	unsigned slot = (h[0] | (unsigned)h[1] << 8) % AUTH_CACHE;
	time_t now = time(NULL);
	bool known = false; /* the cache knew it, even if expired */
	auth_principal was;
	int64_t known_org = -1;
	pthread_mutex_lock(&cache_lock);
	if (!memcmp(cache[slot].h, h, sizeof h)) {
		known = true;
		known_org = cached_answer(slot, now, &was);
		if (cache[slot].expires > now) {
			pthread_mutex_unlock(&cache_lock);
			if (p && known_org >= 0)
				*p = was;
			return known_org;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	store_bind_blob(st, 1, h, sizeof h);
	store_status rc = store_step(st);
	int64_t org = -1, token_expires = 0;
	auth_principal who;
	memset(&who, 0, sizeof who);
	if (rc == STORE_ROW) {
		org = store_col_i64(st, 0);
		who.org = org;
		who.user = store_col_i64(st, 1);
		who.role = policy_role_parse(store_col_text(st, 2, NULL));
		snprintf(who.name, sizeof who.name, "%s", store_col_text(st, 3, NULL));
		who.read_only = !strcmp(store_col_text(st, 4, NULL), "read");
		token_expires = store_col_i64(st, 5);
		if (who.role < 0)
			org = -1;
	}
	store_reset(st);
	store_read_end(c);
	if (rc != STORE_ROW && rc != STORE_DONE) {
		/* The store cannot answer: a token known a moment ago still stands
		 * (so cached dashboards can be served, marked stale); an unknown
		 * one is neither accepted nor remembered as refused. */
		if (known && known_org >= 0) {
			if (p)
				*p = was;
			return known_org;
		}
		return AUTH_UNAVAILABLE;
	}
	pthread_mutex_lock(&cache_lock);
	/* A refused token never evicts another token still cached as good: a
	 * flood of unknown tokens must not push good ones out (and then have
	 * them refused by the flooding address's limit before any lookup). */
	if (org < 0 && cache[slot].expires > now && cache[slot].org >= 0 && memcmp(cache[slot].h, h, sizeof h)) {
		pthread_mutex_unlock(&cache_lock);
		return -1;
	}
	memcpy(cache[slot].h, h, sizeof h);
	cache[slot].org = org;
	cache[slot].token_expires = token_expires;
	cache[slot].who = who;
	cache[slot].expires = now + AUTH_TTL_S;
	int64_t ans = cached_answer(slot, now, p);
	pthread_mutex_unlock(&cache_lock);
	return ans;
}
