#include "http/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <xxhash.h>

#include "core/clock.h"

/* DESIGN
 * One table of buckets for everything (principal x class, refused tokens
 * by address, sign-in failures by account and by address), indexed by a
 * 64-bit hash of (kind, key). A bucket holds the tokens left and when it
 * was last refilled; refilling is computed on use, so nothing runs in the
 * background. Stripes of locks keep threads of different keys apart. */

#define SLOTS (1u << 15)
#define STRIPES 64u
#define SIGNIN_FORGET_S 900.0

typedef struct {
	uint64_t key;   /* 0 = empty */
	double tokens;  /* buckets: tokens left; sign-in: failures */
	double at;      /* buckets: last refill; sign-in: last failure */
	double until;   /* sign-in: refused before this time */
} slot_t;

static slot_t slots[SLOTS];
static pthread_mutex_t stripes[STRIPES];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static ratelimit_config cfg;
static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;

enum { K_PRINCIPAL = 1, K_BADTOK = 16, K_SIGNIN_ACCOUNT, K_SIGNIN_ADDR };

static void init_locks(void)
{
	for (unsigned i = 0; i < STRIPES; i++)
		pthread_mutex_init(&stripes[i], NULL);
}

void ratelimit_configure(const ratelimit_config *c)
{
	pthread_mutex_lock(&cfg_lock);
	cfg = *c;
	pthread_mutex_unlock(&cfg_lock);
}

static void config_get(ratelimit_config *out)
{
	pthread_mutex_lock(&cfg_lock);
	*out = cfg; /* all zero until configured: no limits */
	pthread_mutex_unlock(&cfg_lock);
}

rl_class ratelimit_class_of(const char *name, bool is_get)
{
	static const struct {
		const char *name;
		rl_class c;
	} table[] = {
		{"dashboard", RL_VIEWS}, {"overview", RL_VIEWS}, {"cashflow", RL_VIEWS}, {"breakdown", RL_VIEWS},
		{"aging", RL_VIEWS}, {"leads_summary", RL_VIEWS}, {"top_customers", RL_VIEWS}, {"dso", RL_VIEWS},
		{"payment_behaviour", RL_VIEWS}, {"import", RL_IMPORTS}, {"tasks_submit", RL_EXPORTS},
		{"task_result", RL_EXPORTS}, {"match", RL_WRITES},
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (!strcmp(table[i].name, name))
			return table[i].c;
	return is_get ? RL_LISTS : RL_WRITES;
}

const char *ratelimit_class_name(rl_class c)
{
	static const char *const names[] = {"views", "lists", "writes", "imports", "exports"};
	return (unsigned)c < RL__CLASSES ? names[c] : "?";
}

static uint64_t key_of(int kind, const void *p, size_t n)
{
	uint64_t k = XXH3_64bits_withSeed(p, n, (uint64_t)kind * 0x9e3779b97f4a7c15ull);
	return k ? k : 1;
}

/* The slot of key, locked; a slot held by another key is taken over as
 * new (fresh is set). Unlock with unlock_slot. */
static slot_t *lock_slot(uint64_t key, bool *fresh)
{
	pthread_once(&once, init_locks);
	uint32_t i = (uint32_t)(key % SLOTS);
	pthread_mutex_lock(&stripes[i % STRIPES]);
	slot_t *s = &slots[i];
	*fresh = s->key != key;
	if (*fresh) {
		memset(s, 0, sizeof *s);
		s->key = key;
	}
	return s;
}

static void unlock_slot(uint64_t key)
{
	pthread_mutex_unlock(&stripes[(uint32_t)(key % SLOTS) % STRIPES]);
}

static int ceil_s(double x)
{
	return x <= 0 ? 0 : (int)ceil(x);
}

/* One token from bucket key under policy p; fills v. */
static bool take(uint64_t key, rl_policy p, rl_verdict *v)
{
	memset(v, 0, sizeof *v);
	if (p.per_minute <= 0 || p.burst <= 0)
		return true;
	double rate = p.per_minute / 60.0, now = clock_now_s();
	bool fresh;
	slot_t *s = lock_slot(key, &fresh);
	if (fresh) {
		s->tokens = p.burst;
		s->at = now;
	}
	s->tokens += (now - s->at) * rate;
	if (s->tokens > p.burst)
		s->tokens = p.burst;
	s->at = now;
	bool ok = s->tokens >= 1;
	if (ok)
		s->tokens -= 1;
	double left = s->tokens;
	unlock_slot(key);
	v->limited = true;
	v->limit = p.burst;
	v->remaining = (int)floor(left);
	v->reset_s = ceil_s((p.burst - left) / rate);
	v->window_s = ceil_s(p.burst / rate);
	v->retry_after = ok ? 0 : ceil_s((1 - left) / rate);
	if (!ok && v->retry_after < 1)
		v->retry_after = 1;
	return ok;
}

bool ratelimit_take(uint64_t principal, rl_class cls, rl_verdict *v)
{
	ratelimit_config c;
	config_get(&c);
	uint64_t k[2] = {principal, (uint64_t)cls};
	return take(key_of(K_PRINCIPAL, k, sizeof k), (unsigned)cls < RL__CLASSES ? c.cls[cls] : (rl_policy){0, 0}, v);
}

bool ratelimit_bad_token_blocked(uint64_t addr, int *retry_after)
{
	ratelimit_config c;
	config_get(&c);
	*retry_after = 0;
	if (c.bad_tokens.per_minute <= 0 || c.bad_tokens.burst <= 0)
		return false;
	uint64_t key = key_of(K_BADTOK, &addr, sizeof addr);
	double rate = c.bad_tokens.per_minute / 60.0, now = clock_now_s();
	bool fresh;
	slot_t *s = lock_slot(key, &fresh);
	double tokens = fresh ? c.bad_tokens.burst : s->tokens + (now - s->at) * rate;
	unlock_slot(key);
	if (tokens >= 1)
		return false;
	*retry_after = ceil_s((1 - tokens) / rate);
	if (*retry_after < 1)
		*retry_after = 1;
	return true;
}

void ratelimit_bad_token_note(uint64_t addr)
{
	ratelimit_config c;
	config_get(&c);
	rl_verdict v;
	take(key_of(K_BADTOK, &addr, sizeof addr), c.bad_tokens, &v);
}

/* ---- sign-in backoff ---- */

static double backoff_s(const ratelimit_config *c, double failures)
{
	double over = failures - c->signin_free_failures;
	if (over <= 0)
		return 0;
	double w = over >= 30 ? c->signin_max_backoff_s : pow(2, over - 1);
	return w > c->signin_max_backoff_s ? c->signin_max_backoff_s : w;
}

static bool signin_check(uint64_t key, double now, int *wait)
{
	bool fresh;
	slot_t *s = lock_slot(key, &fresh);
	double until = fresh || now - s->at > SIGNIN_FORGET_S ? 0 : s->until;
	unlock_slot(key);
	if (until > now) {
		int w = ceil_s(until - now);
		if (w > *wait)
			*wait = w;
		return false;
	}
	return true;
}

static void signin_fail(uint64_t key, const ratelimit_config *c, double now)
{
	bool fresh;
	slot_t *s = lock_slot(key, &fresh);
	if (!fresh && now - s->at > SIGNIN_FORGET_S)
		s->tokens = 0;
	s->tokens += 1;
	s->at = now;
	s->until = now + backoff_s(c, s->tokens);
	unlock_slot(key);
}

bool ratelimit_signin_allowed(uint64_t addr, const char *account, size_t account_len, int *retry_after)
{
	double now = clock_now_s();
	*retry_after = 0;
	bool a = signin_check(key_of(K_SIGNIN_ACCOUNT, account, account_len), now, retry_after);
	bool b = signin_check(key_of(K_SIGNIN_ADDR, &addr, sizeof addr), now, retry_after);
	return a && b;
}

void ratelimit_signin_failed(uint64_t addr, const char *account, size_t account_len)
{
	ratelimit_config c;
	config_get(&c);
	double now = clock_now_s();
	signin_fail(key_of(K_SIGNIN_ACCOUNT, account, account_len), &c, now);
	signin_fail(key_of(K_SIGNIN_ADDR, &addr, sizeof addr), &c, now);
}

void ratelimit_signin_succeeded(uint64_t addr, const char *account, size_t account_len)
{
	(void)addr;
	uint64_t key = key_of(K_SIGNIN_ACCOUNT, account, account_len);
	bool fresh;
	slot_t *s = lock_slot(key, &fresh);
	memset(s, 0, sizeof *s);
	unlock_slot(key);
}

void ratelimit_reset(void)
{
	pthread_once(&once, init_locks);
	for (unsigned i = 0; i < STRIPES; i++)
		pthread_mutex_lock(&stripes[i]);
	memset(slots, 0, sizeof slots);
	for (unsigned i = STRIPES; i-- > 0;)
		pthread_mutex_unlock(&stripes[i]);
}
