#include "auth/session.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"

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

/* Last-used stamps the writer could not take at once (a long import held
 * it): a request never waits for a stamp. They are kept here, honoured by
 * session_resolve, and written with the next stamp that finds the writer
 * free. Lost with the process, which only ages a session by the time the
 * writer was held. */
#define PENDING_MAX 4096

typedef struct {
	unsigned char h[crypto_hash_sha256_BYTES];
	int64_t seen;
} pending_stamp;

static pending_stamp *pending;
static atomic_int npending; /* also read without the lock: any left? */
static int cappending;
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t pending_seen(const unsigned char *h)
{
	int64_t seen = 0;
	pthread_mutex_lock(&pending_lock);
	for (int i = 0; i < npending; i++)
		if (!memcmp(pending[i].h, h, crypto_hash_sha256_BYTES)) {
			seen = pending[i].seen;
			break;
		}
	pthread_mutex_unlock(&pending_lock);
	return seen;
}

/* Keeps the later stamp of h; false when the list is full. */
static bool pending_put(const unsigned char *h, int64_t seen)
{
	bool ok = true;
	pthread_mutex_lock(&pending_lock);
	int i = 0;
	while (i < npending && memcmp(pending[i].h, h, crypto_hash_sha256_BYTES))
		i++;
	if (i < npending) {
		if (seen > pending[i].seen)
			pending[i].seen = seen;
	} else if (npending >= PENDING_MAX) {
		ok = false;
	} else {
		if (npending == cappending) {
			cappending = cappending ? cappending * 2 : 16;
			pending = xrealloc(pending, (size_t)cappending * sizeof *pending);
		}
		memcpy(pending[npending].h, h, crypto_hash_sha256_BYTES);
		pending[npending++].seen = seen;
	}
	pthread_mutex_unlock(&pending_lock);
	return ok;
}

/* Writes h's stamp, and every pending one, if the writer is free now;
 * else keeps it pending. */
static void stamp(store_t *s, const unsigned char *h, int64_t now)
{
	static const char *touch = "UPDATE sessions SET seen_at = ? WHERE hash = ? AND seen_at < ?";
	store_conn_t *w = store_write_try_begin(s);
	if (!w) {
		static atomic_long warned;
		long t = (long)time(NULL);
		if (!pending_put(h, now) && atomic_exchange(&warned, t) != t)
			log_warn("session: %d last-used stamps already wait for the store's writer; one more is dropped",
			         PENDING_MAX);
		return;
	}
	pthread_mutex_lock(&pending_lock);
	pending_stamp *v = pending;
	int n = npending;
	pending = NULL;
	npending = cappending = 0;
	pthread_mutex_unlock(&pending_lock);
	bool ok = true;
	for (int i = -1; ok && i < n; i++) {
		store_stmt_t *st = store_prepare(w, touch);
		int64_t at = i < 0 ? now : v[i].seen;
		store_bind_i64(st, 1, at);
		store_bind_blob(st, 2, i < 0 ? h : v[i].h, crypto_hash_sha256_BYTES);
		store_bind_i64(st, 3, at);
		ok = st && store_step(st) == STORE_DONE;
		store_reset(st);
	}
	char err[300];
	if (ok)
		ok = store_write_commit(w, err, sizeof err) == 0;
	else
		store_write_rollback(w);
	for (int i = 0; !ok && i < n; i++)
		pending_put(v[i].h, v[i].seen);
	free(v);
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
	int64_t seen = 0, created = 0;
	bool gone = false; /* disabled, unknown role, or past its maximum age */
	if (rc == STORE_ROW) {
		memset(p, 0, sizeof *p);
		p->user = store_col_i64(st, 0);
		snprintf(csrf, SESSION_ID_BUFSZ, "%s", store_col_text(st, 1, NULL));
		created = store_col_i64(st, 2);
		seen = store_col_i64(st, 3);
		p->org = store_col_i64(st, 4);
		p->role = policy_role_parse(store_col_text(st, 5, NULL));
		snprintf(p->name, sizeof p->name, "%s", store_col_text(st, 6, NULL));
		gone = store_col_i64(st, 7) || p->role < 0 || created + SESSION_MAX_S <= now;
		if (gone || seen + SESSION_IDLE_S <= now)
			ok = -1;
	}
	store_reset(st);
	store_read_end(c);
	int64_t later = pending_seen(h); /* a stamp the writer could not take yet */
	if (rc == STORE_ROW && !gone && later > seen) {
		seen = later;
		ok = seen + SESSION_IDLE_S <= now ? -1 : 0;
	}
	if (ok == 0)
		hint_set(h, p->org, p->user, now + HINT_TTL_S);
	else if (ok == -1)
		hint_set(h, 0, 0, 0);
	/* stamps put off while the writer was held go with the next one */
	if (ok == 0 && (now - seen >= SEEN_GRANULE_S || atomic_load(&npending) > 0))
		stamp(s, h, now);
	return ok;
}

int session_end(store_t *s, const char *id, size_t len, char *err, size_t errlen)
{
	static const char *q = "DELETE FROM sessions WHERE hash = ?";
	unsigned char h[crypto_hash_sha256_BYTES];
	id_hash(id, len, h);
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return -1;
	store_stmt_t *st = store_prepare(w, q);
	store_bind_blob(st, 1, h, sizeof h);
	store_status rc = st ? store_step(st) : STORE_ERROR;
	store_reset(st);
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "cannot end the session: %s", store_errmsg(w));
		store_write_rollback(w);
		return -1;
	}
	if (store_write_commit(w, err, errlen) != 0)
		return -1;
	hint_set(h, 0, 0, 0);
	return 0;
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
