#include "http/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"

static void auth_cache_clear(void);

static void token_hash(const char *tok, size_t len, unsigned char out[crypto_hash_sha256_BYTES])
{
	crypto_hash_sha256(out, (const unsigned char *)tok, len);
}

int auth_token_create(store_t *s, int64_t org, const char *label, char out[AUTH_TOKEN_BUFSZ], char *err,
                      size_t errlen)
{
	static const char *ins = "INSERT INTO tokens(org, hash, label) VALUES(?, ?, ?)";
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	unsigned char rnd[32];
	randombytes_buf(rnd, sizeof rnd);
	memcpy(out, "brisk_", 6);
	sodium_bin2base64(out + 6, AUTH_TOKEN_BUFSZ - 6, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	unsigned char h[crypto_hash_sha256_BYTES];
	token_hash(out, strlen(out), h);
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return -1;
	store_stmt_t *st = store_prepare(w, ins);
	store_bind_i64(st, 1, org);
	store_bind_blob(st, 2, h, sizeof h);
	store_bind_text(st, 3, label, strlen(label));
	if (store_step(st) != STORE_DONE) {
		snprintf(err, errlen, "cannot store token: %s", store_errmsg(w));
		store_reset(st);
		store_write_rollback(w);
		return -1;
	}
	store_reset(st);
	return store_write_commit(w, err, errlen);
}

int auth_token_list(store_t *s, const char *org_slug, FILE *f, char *err, size_t errlen)
{
	static const char *q = "SELECT t.id, o.slug, t.label, t.created_at, t.revoked FROM tokens t "
	                       "JOIN orgs o ON o.id = t.org WHERE ?1 IS NULL OR o.slug = ?1 ORDER BY t.id";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	if (org_slug)
		store_bind_text(st, 1, org_slug, strlen(org_slug));
	fprintf(f, "%-6s %-20s %-20s %-22s %s\n", "id", "org", "label", "created", "state");
	while (store_step(st) == STORE_ROW)
		fprintf(f, "%-6lld %-20s %-20s %-22s %s\n", (long long)store_col_i64(st, 0), store_col_text(st, 1, NULL),
		        store_col_text(st, 2, NULL), store_col_text(st, 3, NULL),
		        store_col_i64(st, 4) ? "revoked" : "active");
	store_reset(st);
	store_read_end(c);
	(void)err;
	(void)errlen;
	return 0;
}

int auth_token_revoke(store_t *s, int64_t id, char *err, size_t errlen)
{
	static const char *q = "UPDATE tokens SET revoked = 1 WHERE id = ?";
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return -1;
	store_stmt_t *st = store_prepare(w, q);
	store_bind_i64(st, 1, id);
	store_step(st);
	store_reset(st);
	if (store_changes(w) != 1) {
		store_write_rollback(w);
		snprintf(err, errlen, "no token with id %lld", (long long)id);
		return -1;
	}
	if (store_write_commit(w, err, errlen) != 0)
		return -1;
	auth_cache_clear();
	return 0;
}

/* A small direct-mapped cache of hash -> org with an expiry, so a request
 * costs one SHA-256 and no store read. A revoke made by this process
 * clears it at once; one made by another process (brisk token revoke
 * while the server runs) takes effect within AUTH_TTL_S. */
#define AUTH_CACHE 256
#define AUTH_TTL_S 5

static struct {
	unsigned char h[crypto_hash_sha256_BYTES];
	int64_t org;
	time_t expires;
} cache[AUTH_CACHE];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static void auth_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	memset(cache, 0, sizeof cache);
	pthread_mutex_unlock(&cache_lock);
}

int64_t auth_resolve_cached(const char *token, size_t len)
{
	if (len < 10 || len > AUTH_TOKEN_BUFSZ)
		return -1;
	unsigned char h[crypto_hash_sha256_BYTES];
	token_hash(token, len, h);
	unsigned slot = (h[0] | (unsigned)h[1] << 8) % AUTH_CACHE;
	int64_t org = AUTH_NEEDS_LOOKUP;
	pthread_mutex_lock(&cache_lock);
	if (cache[slot].expires > time(NULL) && !memcmp(cache[slot].h, h, sizeof h))
		org = cache[slot].org;
	pthread_mutex_unlock(&cache_lock);
	return org;
}

int64_t auth_resolve(store_t *s, const char *token, size_t len)
{
	static const char *q = "SELECT org FROM tokens WHERE hash = ? AND revoked = 0";
	if (len < 10 || len > AUTH_TOKEN_BUFSZ)
		return -1;
	unsigned char h[crypto_hash_sha256_BYTES];
	token_hash(token, len, h);
	unsigned slot = (h[0] | (unsigned)h[1] << 8) % AUTH_CACHE;
	time_t now = time(NULL);
	int64_t known = -1; /* what the cache said, even if expired */
	pthread_mutex_lock(&cache_lock);
	if (!memcmp(cache[slot].h, h, sizeof h)) {
		known = cache[slot].org;
		if (cache[slot].expires > now) {
			pthread_mutex_unlock(&cache_lock);
			return known;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	store_bind_blob(st, 1, h, sizeof h);
	store_status rc = store_step(st);
	int64_t org = rc == STORE_ROW ? store_col_i64(st, 0) : -1;
	store_reset(st);
	store_read_end(c);
	if (rc != STORE_ROW && rc != STORE_DONE) {
		/* The store cannot answer: a token known a moment ago still stands
		 * (so cached dashboards can be served, marked stale); an unknown
		 * one is neither accepted nor remembered as refused. */
		return known >= 0 ? known : AUTH_UNAVAILABLE;
	}
	pthread_mutex_lock(&cache_lock);
	memcpy(cache[slot].h, h, sizeof h);
	cache[slot].org = org;
	cache[slot].expires = now + AUTH_TTL_S;
	pthread_mutex_unlock(&cache_lock);
	return org;
}
