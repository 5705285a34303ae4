#include "tasks/redisq.h"

#include <hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/redisurl.h"
#include "core/mem.h"

/* DESIGN
 * Every move between lists is one Lua script, so an item is always in
 * exactly one list, and a taken item never exists without its lease (the
 * reaper would otherwise hand it out twice). Waiting lists are LPUSHed and
 * RPOPped (first in, first out); an item handed back goes to the popping
 * end (RPUSH), ahead of newer work.
 *
 * One connection, serialised by a mutex: queue calls are a few per task
 * and per second, far from needing more. A failed call drops the
 * connection; the next call reconnects, at most once a second, so an
 * outage costs the callers one timeout each, not a storm. */

#define POP_LUA                                                                                          \
	"for i = 1, 3 do "                                                                                    \
	"  local item = redis.call('RPOP', KEYS[i]) "                                                       \
	"  if item then "                                                                                     \
	"    redis.call('LPUSH', KEYS[4], item) "                                                           \
	"    redis.call('SET', ARGV[1] .. item, ARGV[2], 'PX', ARGV[3]) "                                   \
	"    return item "                                                                                    \
	"  end "                                                                                              \
	"end "                                                                                                \
	"return false"

/* ack and requeue leave an item another instance holds alone */
#define ACK_LUA                                                                                          \
	"local l = redis.call('GET', ARGV[1] .. ARGV[2]) "                                                  \
	"if l and l ~= ARGV[3] then return 0 end "                                                            \
	"redis.call('LREM', KEYS[1], 1, ARGV[2]) "                                                          \
	"redis.call('DEL', ARGV[1] .. ARGV[2]) "                                                            \
	"return 1"

#define REQUEUE_LUA                                                                                      \
	"local l = redis.call('GET', ARGV[1] .. ARGV[2]) "                                                  \
	"if l and l ~= ARGV[3] then return 0 end "                                                            \
	"local n = redis.call('LREM', KEYS[1], 1, ARGV[2]) "                                                \
	"redis.call('DEL', ARGV[1] .. ARGV[2]) "                                                            \
	"if n == 0 and redis.call('LPOS', KEYS[2], ARGV[2]) then return 1 end "                             \
	"redis.call('RPUSH', KEYS[2], ARGV[2]) "                                                            \
	"return 1"

#define EACH_LUA                                                                                         \
	"return {redis.call('LRANGE', KEYS[1], 0, -1), redis.call('LRANGE', KEYS[2], 0, -1), "             \
	"redis.call('LRANGE', KEYS[3], 0, -1), redis.call('LRANGE', KEYS[4], 0, -1)}"

#define REAP_LUA                                                                                         \
	"local items = redis.call('LRANGE', KEYS[4], 0, -1) "                                               \
	"local n = 0 "                                                                                        \
	"for _, item in ipairs(items) do "                                                                    \
	"  if redis.call('EXISTS', ARGV[1] .. item) == 0 then "                                             \
	"    redis.call('LREM', KEYS[4], 1, item) "                                                         \
	"    local lv = tonumber(string.sub(item, 1, 1)) or 1 "                                             \
	"    if lv < 0 or lv > 2 then lv = 1 end "                                                           \
	"    redis.call('RPUSH', KEYS[lv + 1], item) "                                                      \
	"    n = n + 1 "                                                                                      \
	"  end "                                                                                              \
	"end "                                                                                                \
	"return n"

struct redisq {
	redisurl_t url;
	int timeout_ms;
	char owner[96];
	char qkey[PQ__LEVELS][96], pkey[96], lease[96];
	pthread_mutex_t lock;
	redisContext *c;
	double retry_at;
	bool warned;
};

redisq_t *redisq_new(const char *url, const char *prefix, int timeout_ms, const char *owner, char *err,
                     size_t errlen)
{
	redisq_t *q = xcalloc(1, sizeof *q);
	q->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
	snprintf(q->owner, sizeof q->owner, "%s", owner ? owner : "brisk");
	if (!redisurl_parse(url, &q->url, err, errlen)) {
		free(q);
		return NULL;
	}
	const char *pre = prefix ? prefix : "brisk:tasks";
	for (int i = 0; i < PQ__LEVELS; i++)
		snprintf(q->qkey[i], sizeof q->qkey[i], "%s:q:%d", pre, i);
	snprintf(q->pkey, sizeof q->pkey, "%s:processing", pre);
	snprintf(q->lease, sizeof q->lease, "%s:lease:", pre);
	pthread_mutex_init(&q->lock, NULL);
	return q;
}

void redisq_free(redisq_t *q)
{
	if (!q)
		return;
	if (q->c)
		redisFree(q->c);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/* The connection (lock held), or NULL while Redis is unreachable. */
static redisContext *conn(redisq_t *q)
{
	if (q->c)
		return q->c;
	if (clock_now_s() < q->retry_at)
		return NULL;
	char why[160];
	redisContext *c = redisurl_connect(&q->url, q->timeout_ms, why, sizeof why);
	if (!c) {
		if (!q->warned)
			log_warn("tasks: the shared queue at redis %s:%d is unreachable (%s)", q->url.host, q->url.port, why);
		q->warned = true;
		q->retry_at = clock_now_s() + 1;
		return NULL;
	}
	if (q->warned)
		log_info("tasks: the shared queue at redis %s:%d is back", q->url.host, q->url.port);
	q->warned = false;
	q->c = c;
	return c;
}

/* Runs a command (lock held); NULL on a connection failure (dropped). */
static redisReply *run(redisq_t *q, int argc, const char **argv, const size_t *lens)
{
	redisContext *c = conn(q);
	if (!c)
		return NULL;
	redisReply *r = redisCommandArgv(c, argc, argv, lens);
	if (!r || c->err) {
		if (r)
			freeReplyObject(r);
		log_warn("tasks: redis queue call failed: %s", c->err ? c->errstr : "no reply");
		redisFree(c);
		q->c = NULL;
		q->retry_at = clock_now_s() + 1;
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		log_warn("tasks: redis queue refused a call: %.*s", (int)r->len, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static redisReply *command(redisq_t *q, int argc, const char **argv)
{
	size_t lens[16];
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	pthread_mutex_lock(&q->lock);
	redisReply *r = run(q, argc, argv, lens);
	pthread_mutex_unlock(&q->lock);
	return r;
}

static void item_of(int64_t id, pqueue_level lv, char out[40])
{
	snprintf(out, 40, "%d:%lld", (int)lv, (long long)id);
}

bool redisq_push(redisq_t *q, int64_t id, pqueue_level lv)
{
	if ((int)lv < 0 || lv >= PQ__LEVELS)
		lv = PQ_NORMAL;
	char item[40];
	item_of(id, lv, item);
	const char *argv[] = {"LPUSH", q->qkey[lv], item};
	redisReply *r = command(q, 3, argv);
	if (r)
		freeReplyObject(r);
	return r != NULL;
}

int redisq_pop(redisq_t *q, int64_t *id, pqueue_level *lv, int lease_ms)
{
	char ms[24];
	snprintf(ms, sizeof ms, "%d", lease_ms);
	const char *argv[] = {"EVAL", POP_LUA, "4", q->qkey[0], q->qkey[1], q->qkey[2], q->pkey, q->lease, q->owner, ms};
	redisReply *r = command(q, 10, argv);
	if (!r)
		return -1;
	int got = 0;
	if (r->type == REDIS_REPLY_STRING) {
		int l = 0;
		long long v = 0;
		if (sscanf(r->str, "%d:%lld", &l, &v) == 2 && l >= 0 && l < PQ__LEVELS) {
			*id = v;
			*lv = (pqueue_level)l;
			got = 1;
		} else {
			log_warn("tasks: dropping an unreadable item '%.*s' from the shared queue", (int)r->len, r->str);
		}
	}
	freeReplyObject(r);
	return got;
}

int redisq_renew(redisq_t *q, int64_t id, pqueue_level lv, int lease_ms)
{
	char item[40], key[160], ms[24];
	item_of(id, lv, item);
	snprintf(key, sizeof key, "%s%s", q->lease, item);
	snprintf(ms, sizeof ms, "%d", lease_ms);
	const char *argv[] = {"SET", key, q->owner, "PX", ms, "XX"};
	redisReply *r = command(q, 6, argv);
	if (!r)
		return -1;
	int ok = r->type == REDIS_REPLY_STATUS;
	freeReplyObject(r);
	return ok;
}

void redisq_ack(redisq_t *q, int64_t id, pqueue_level lv)
{
	char item[40];
	item_of(id, lv, item);
	const char *argv[] = {"EVAL", ACK_LUA, "1", q->pkey, q->lease, item, q->owner};
	redisReply *r = command(q, 7, argv);
	if (r)
		freeReplyObject(r);
}

bool redisq_requeue(redisq_t *q, int64_t id, pqueue_level lv)
{
	char item[40];
	item_of(id, lv, item);
	const char *argv[] = {"EVAL", REQUEUE_LUA, "2", q->pkey, q->qkey[lv], q->lease, item, q->owner};
	redisReply *r = command(q, 8, argv);
	if (r)
		freeReplyObject(r);
	return r != NULL;
}

int redisq_each(redisq_t *q, void (*each)(void *ud, int64_t id, pqueue_level lv), void *ud)
{
	const char *argv[] = {"EVAL", EACH_LUA, "4", q->qkey[0], q->qkey[1], q->qkey[2], q->pkey};
	redisReply *r = command(q, 7, argv);
	if (!r)
		return -1;
	int n = 0;
	for (size_t l = 0; r->type == REDIS_REPLY_ARRAY && l < r->elements; l++) {
		redisReply *list = r->element[l];
		for (size_t i = 0; list->type == REDIS_REPLY_ARRAY && i < list->elements; i++) {
			int lv = 0;
			long long v = 0;
			if (list->element[i]->type == REDIS_REPLY_STRING &&
			    sscanf(list->element[i]->str, "%d:%lld", &lv, &v) == 2 && lv >= 0 && lv < PQ__LEVELS) {
				each(ud, v, (pqueue_level)lv);
				n++;
			}
		}
	}
	freeReplyObject(r);
	return n;
}

int redisq_reap(redisq_t *q)
{
	const char *argv[] = {"EVAL", REAP_LUA, "4", q->qkey[0], q->qkey[1], q->qkey[2], q->pkey, q->lease};
	redisReply *r = command(q, 8, argv);
	if (!r)
		return -1;
	int n = r->type == REDIS_REPLY_INTEGER ? (int)r->integer : 0;
	freeReplyObject(r);
	return n;
}

void redisq_lengths(redisq_t *q, int64_t waiting[PQ__LEVELS], int64_t *processing)
{
	for (int i = 0; i <= PQ__LEVELS; i++) {
		const char *argv[] = {"LLEN", i < PQ__LEVELS ? q->qkey[i] : q->pkey};
		redisReply *r = command(q, 2, argv);
		int64_t n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
		if (r)
			freeReplyObject(r);
		if (i < PQ__LEVELS)
			waiting[i] = n;
		else
			*processing = n;
	}
}
