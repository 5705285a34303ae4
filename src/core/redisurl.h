/* redisurl: where a Redis server is (REDIS_URL) and how to reach it,
 * shared by the cache's L2 tier and the task queue. */
#ifndef BRISK_REDISURL_H
#define BRISK_REDISURL_H

#include <hiredis.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
	char host[256];
	int port; /* 6379 when not given */
	int db;
	char password[128];
} redisurl_t;

/* Parses redis://[[user]:password@]host[:port][/db]. False with a reason. */
bool redisurl_parse(const char *url, redisurl_t *out, char *err, size_t errlen);

/* Connects with connect and command timeouts of timeout_ms, then AUTH and
 * SELECT as the URL asks. NULL with a reason in why (never a half-set-up
 * connection). The caller frees the context with redisFree. */
redisContext *redisurl_connect(const redisurl_t *u, int timeout_ms, char *why, size_t whylen);

#endif
