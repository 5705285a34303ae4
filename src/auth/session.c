#include "auth/session.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Used-at is written at most this often: one write a minute per active
 * session, not one per request. */
#define SEEN_GRANULE_S 60

/* Who a session was, remembered from its last check: the event loop
 * keys admission and rate limits by it before the worker checks the
 * session in the store (a stale hint only picks the wrong queue for a
 * moment; it never lets a request in). Direct-mapped by the id's hash. */
#define HINTS 256
#define HINT_TTL_S 60

static struct {
	unsigned char h[crypto_hash_sha256_BYTES];
	int64_t org, user;
	int64_t until;
} hints[HINTS];
static pthread_mutex_t hints_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned hint_slot(const unsigned char *h)
{
	return (h[0] | (unsigned)h[1] << 8) % HINTS;
}

static void hint_set(const unsigned char *h, int64_t org, int64_t user, int64_t until)
{
	unsigned i = hint_slot(h);
	pthread_mutex_lock(&hints_lock);
	memcpy(hints[i].h, h, crypto_hash_sha256_BYTES);
	hints[i].org = org;
	hints[i].user = user;
	hints[i].until = until;
	pthread_mutex_unlock(&hints_lock);
}

static void random_id(char out[SESSION_ID_BUFSZ])
{
	unsigned char rnd[32];
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2base64(out, SESSION_ID_BUFSZ, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void id_hash(const char *id, size_t len, unsigned char h[crypto_hash_sha256_BYTES])
{
	crypto_hash_sha256(h, (const unsigned char *)id, len);
}

int session_create(store_t *s, int64_t user, char id[SESSION_ID_BUFSZ], char csrf[SESSION_ID_BUFSZ], char *err,
                   size_t errlen)
{
	static const char *ins = "INSERT INTO sessions(hash, user_id, csrf, created_at, seen_at) VALUES(?, ?, ?, ?, ?)";
	static const char *purge = "DELETE FROM sessions WHERE created_at < ? OR seen_at < ?";
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	random_id(id);
	random_id(csrf);
	unsigned char h[crypto_hash_sha256_BYTES];
	id_hash(id, strlen(id), h);
	int64_t now = (int64_t)time(NULL);
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return -1;
	/* expired sessions go as new ones come: the table stays small */
	store_stmt_t *st = store_prepare(w, purge);
	store_bind_i64(st, 1, now - SESSION_MAX_S);
	store_bind_i64(st, 2, now - SESSION_IDLE_S);
	store_status rc = store_step(st);
	store_reset(st);
	if (rc == STORE_DONE) {
		st = store_prepare(w, ins);
		store_bind_blob(st, 1, h, sizeof h);
		store_bind_i64(st, 2, user);
		store_bind_text(st, 3, csrf, strlen(csrf));
		store_bind_i64(st, 4, now);
		store_bind_i64(st, 5, now);
		rc = store_step(st);
		store_reset(st);
	}
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "cannot store the session: %s", store_errmsg(w));
		store_write_rollback(w);
		return -1;
	}
	return store_write_commit(w, err, errlen);
}

int session_resolve(store_t *s, const char *id, size_t len, auth_principal *p, char csrf[SESSION_ID_BUFSZ])
{
	static const char *q = "SELECT s.user_id, s.csrf, s.created_at, s.seen_at, u.org, u.role, u.name, u.disabled "
	                       "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?";
	static const char *touch = "UPDATE sessions SET seen_at = ? WHERE hash = ?";
	if (len < 20 || len >= SESSION_ID_BUFSZ)
		return -1;
	unsigned char h[crypto_hash_sha256_BYTES];
	id_hash(id, len, h);
	int64_t now = (int64_t)time(NULL);
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	store_bind_blob(st, 1, h, sizeof h);
	store_status rc = store_step(st);
	int ok = rc == STORE_ROW ? 0 : rc == STORE_DONE ? -1 : -2;
	int64_t seen = 0;
	if (rc == STORE_ROW) {
		memset(p, 0, sizeof *p);
		p->user = store_col_i64(st, 0);
		snprintf(csrf, SESSION_ID_BUFSZ, "%s", store_col_text(st, 1, NULL));
		int64_t created = store_col_i64(st, 2);
		seen = store_col_i64(st, 3);
		p->org = store_col_i64(st, 4);
		p->role = policy_role_parse(store_col_text(st, 5, NULL));
		snprintf(p->name, sizeof p->name, "%s", store_col_text(st, 6, NULL));
		if (store_col_i64(st, 7) || p->role < 0 || created + SESSION_MAX_S <= now || seen + SESSION_IDLE_S <= now)
			ok = -1;
	}
	store_reset(st);
	store_read_end(c);
	if (ok == 0)
		hint_set(h, p->org, p->user, now + HINT_TTL_S);
	else if (ok == -1)
		hint_set(h, 0, 0, 0);
	if (ok == 0 && now - seen >= SEEN_GRANULE_S) {
		char err[160];
		store_conn_t *w = store_write_begin(s, err, sizeof err);
		if (w) {
			st = store_prepare(w, touch);
			store_bind_i64(st, 1, now);
			store_bind_blob(st, 2, h, sizeof h);
			store_step(st);
			store_reset(st);
			store_write_commit(w, err, sizeof err);
		}
	}
	return ok;
}

void session_end(store_t *s, const char *id, size_t len)
{
	static const char *q = "DELETE FROM sessions WHERE hash = ?";
	unsigned char h[crypto_hash_sha256_BYTES];
	id_hash(id, len, h);
	hint_set(h, 0, 0, 0);
	char err[160];
	store_conn_t *w = store_write_begin(s, err, sizeof err);
	if (!w)
		return;
	store_stmt_t *st = store_prepare(w, q);
	store_bind_blob(st, 1, h, sizeof h);
	store_step(st);
	store_reset(st);
	store_write_commit(w, err, sizeof err);
}

bool session_hint(const char *id, size_t len, int64_t *org, int64_t *user)
{
	if (len < 20 || len >= SESSION_ID_BUFSZ)
		return false;
	unsigned char h[crypto_hash_sha256_BYTES];
	id_hash(id, len, h);
	unsigned i = hint_slot(h);
	pthread_mutex_lock(&hints_lock);
	bool ok = hints[i].until > (int64_t)time(NULL) && hints[i].org > 0 && !memcmp(hints[i].h, h, sizeof h);
	if (ok) {
		*org = hints[i].org;
		*user = hints[i].user;
	}
	pthread_mutex_unlock(&hints_lock);
	return ok;
}

int session_end_user(store_conn_t *w, int64_t user)
{
	static const char *q = "DELETE FROM sessions WHERE user_id = ?";
	store_stmt_t *st = store_prepare(w, q);
	store_bind_i64(st, 1, user);
	store_status rc = store_step(st);
	store_reset(st);
	return rc == STORE_DONE ? 0 : -1;
}

const char *session_from_cookie(const char *cookie, size_t *len)
{
	const size_t nl = strlen(SESSION_COOKIE);
	for (const char *p = cookie; p && *p;) {
		p += strspn(p, " ;");
		if (!strncmp(p, SESSION_COOKIE, nl) && p[nl] == '=') {
			const char *v = p + nl + 1;
			*len = strcspn(v, "; ");
			return *len ? v : NULL;
		}
		p = strchr(p, ';');
	}
	return NULL;
}
