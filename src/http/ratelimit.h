/* ratelimit: token buckets per principal (a user, or an API token until
 * users exist) and route class; a bucket per peer address for refused
 * tokens; sign-in backoff per account and per address.
 *
 * Buckets live in a fixed table (no allocation per key): a key that
 * collides with another takes its slot with a full bucket, so a forgotten
 * principal costs nothing and memory never grows. Thread-safe. */
#ifndef BRISK_RATELIMIT_H
#define BRISK_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	RL_VIEWS,   /* dashboard views */
	RL_LISTS,   /* lists, proposals, task status, settings and other reads */
	RL_WRITES,  /* row writes, deletes, reconciliation decisions */
	RL_IMPORTS, /* CSV imports (sync or as tasks) */
	RL_EXPORTS, /* task submissions (exports, reports) and downloads */
	RL__CLASSES
} rl_class;

typedef struct {
	int per_minute; /* refill rate; 0 = no limit for this class */
	int burst;      /* bucket size: requests allowed at once */
} rl_policy;

typedef struct {
	rl_policy cls[RL__CLASSES];
	rl_policy bad_tokens;        /* refused tokens per peer address */
	int signin_free_failures;    /* failures before backoff starts */
	int signin_max_backoff_s;    /* the longest wait after repeated failures */
} ratelimit_config;

/* Applies c to every later decision (buckets are kept). Until called,
 * nothing is limited (the defaults are config.c's). */
void ratelimit_configure(const ratelimit_config *c);
/* The class a route (by its name and method: GET is a read) belongs to. */
rl_class ratelimit_class_of(const char *route_name, bool is_get);
const char *ratelimit_class_name(rl_class c);

typedef struct {
	bool limited;    /* the class has a policy: the fields below mean something */
	int limit;       /* the burst */
	int remaining;   /* requests left right now */
	int reset_s;     /* seconds until the bucket is full again */
	int retry_after; /* when refused: seconds until one request is allowed */
	int window_s;    /* seconds to refill a whole burst (RateLimit-Policy w=) */
} rl_verdict;

/* Takes one request of class cls from principal's bucket. False (refused)
 * with v->retry_after set when the bucket is empty. */
bool ratelimit_take(uint64_t principal, rl_class cls, rl_verdict *v);

/* Refused tokens per peer address (its key: http/peer.h): _blocked is true
 * while the address's bucket is empty (answer 429 without looking the
 * token up), with the wait in *retry_after; _note counts one refusal. */
bool ratelimit_bad_token_blocked(uint64_t addr, int *retry_after);
void ratelimit_bad_token_note(uint64_t addr);

/* Sign-in backoff (for the users/sessions code). Call _allowed before
 * checking a password: false means refuse now (429, Retry-After:
 * *retry_after) without checking. Call _failed after a wrong password
 * or an unknown account, _succeeded after a right one (clears the
 * account's failures; the address keeps its own). Backoff doubles from
 * 1 s after signin_free_failures failures up to signin_max_backoff_s,
 * separately per account and per address; failures are forgotten after
 * 15 minutes without one. account is the name as typed (any bytes). */
bool ratelimit_signin_allowed(uint64_t addr, const char *account, size_t account_len, int *retry_after);
void ratelimit_signin_failed(uint64_t addr, const char *account, size_t account_len);
void ratelimit_signin_succeeded(uint64_t addr, const char *account, size_t account_len);

/* Forgets every bucket and backoff (tests). */
void ratelimit_reset(void);

#endif
