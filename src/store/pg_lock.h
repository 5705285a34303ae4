/* pg_lock: locks across processes and instances on a PostgreSQL store:
 * session advisory locks held on one connection of this process (not a
 * pooled one: a session lock lives as long as its session). Private to
 * src/store; callers use store_lock_* (store.h). */
#ifndef BRISK_PG_LOCK_H
#define BRISK_PG_LOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct pg_locks pg_locks;

/* For the database url names; connects on first use. Never NULL. */
pg_locks *pg_locks_new(const char *url);
/* Closes the connection: every lock this process holds is released. */
void pg_locks_free(pg_locks *l);
/* 1 taken, 0 another session (or another caller of this process) holds
 * it, -1 the server cannot be reached now. */
int pg_locks_try(pg_locks *l, int64_t key);
/* Releases a lock held here (no-op otherwise). */
void pg_locks_release(pg_locks *l, int64_t key);
/* 1 still held here, 0 lost (the session dropped and another took the
 * lock before it could be taken again), -1 cannot tell now (the server is
 * away). Checks the session at most once a second (one round trip). */
int pg_locks_held(pg_locks *l, int64_t key);
/* The entry of the shared cache table (brisk_cache) under key, unexpired:
 * malloc'd (caller frees) with its size in *n, or NULL. */
void *pg_locks_cache_get(pg_locks *l, const void *key, size_t klen, size_t *n);
/* Stores (replaces) an entry living ttl_ms; failures are ignored (a cache). */
void pg_locks_cache_put(pg_locks *l, const void *key, size_t klen, const void *v, size_t n, uint64_t ttl_ms);

#endif
