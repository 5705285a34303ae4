#include "core/redisurl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool redisurl_parse(const char *url, redisurl_t *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof *u);
	u->port = 6379;
	const char *p = url;
	if (strncmp(p, "redis://", 8) != 0) {
		snprintf(err, errlen, "REDIS_URL must look like redis://host:port[/db], not '%s'", url);
		return false;
	}
	p += 8;
	const char *at = strchr(p, '@');
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *pw = colon ? colon + 1 : p;
		snprintf(u->password, sizeof u->password, "%.*s", (int)(at - pw), pw);
		p = at + 1;
	}
	size_t hl = strcspn(p, ":/");
	snprintf(u->host, sizeof u->host, "%.*s", (int)hl, p);
	p += hl;
	if (*p == ':') {
		u->port = atoi(p + 1);
		p += 1 + strspn(p + 1, "0123456789");
	}
	if (*p == '/')
		u->db = atoi(p + 1);
	if (!u->host[0] || u->port <= 0 || u->port > 65535) {
		snprintf(err, errlen, "bad REDIS_URL '%s'", url);
		return false;
	}
	return true;
}

/* Runs a setup command; false (with why) when refused. */
static bool setup(redisContext *c, const char *what, redisReply *r, char *why, size_t whylen)
{
	bool ok = r && r->type != REDIS_REPLY_ERROR;
	if (!ok)
		snprintf(why, whylen, "%s refused: %s", what, r && r->str ? r->str : c->errstr);
	if (r)
		freeReplyObject(r);
	return ok;
}

redisContext *redisurl_connect(const redisurl_t *u, int timeout_ms, char *why, size_t whylen)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	redisContext *c = redisConnectWithTimeout(u->host, u->port, tv);
	if (!c || c->err) {
		snprintf(why, whylen, "%s", c ? c->errstr : "cannot allocate a connection");
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if ((u->password[0] && !setup(c, "AUTH", redisCommand(c, "AUTH %s", u->password), why, whylen)) ||
	    (u->db && !setup(c, "SELECT", redisCommand(c, "SELECT %d", u->db), why, whylen))) {
		redisFree(c);
		return NULL;
	}
	return c;
}
