/* router: routes matched on the raw path; parameters decoded after. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "http/server_int.h"

#include "http/query.h"

/* Matches the raw (still %-encoded) path, so an escaped '/' inside an id
 * stays inside its segment; parameters are decoded after a match. */
static bool match_route(const http_route *rt, const char *path, http_req_t *r)
{
	const char *p = rt->pattern, *s = path;
	int np = 0;
	while (*p && *s) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			const char *seg_end = strchr(s, '/');
			if (!seg_end)
				seg_end = s + strlen(s);
			if (seg_end == s || np >= HTTP_MAX_PARAMS)
				return false;
			r->params[np++] = (slice_t){s, (size_t)(seg_end - s)};
			p = close + 1;
			s = seg_end;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	if (*p || *s)
		return false;
	r->nparams = np;
	return true;
}

/* Decodes the matched parameters into r->param_mem. False on a bad escape. */
bool router_decode_params(http_req_t *r)
{
	size_t total = 0;
	for (int i = 0; i < r->nparams; i++)
		total += r->params[i].len + 1;
	free(r->param_mem);
	r->param_mem = xmalloc(total + 1);
	char *w = r->param_mem;
	for (int i = 0; i < r->nparams; i++) {
		long n = query_decode(r->params[i].p, r->params[i].len, w, false);
		if (n < 0)
			return false;
		w[n] = '\0';
		r->params[i] = (slice_t){w, (size_t)n};
		w += n + 1;
	}
	return true;
}

const char *router_method_name(http_method m)
{
	static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OTHER"};
	return names[m];
}

/* Literal segments of a pattern: "/api/v1/match" outranks "/api/v1/{kind}". */
static int specificity(const char *pattern)
{
	int n = 0;
	for (const char *p = pattern; *p; p++)
		if (*p == '/' && p[1] && p[1] != '{')
			n++;
	return n;
}

/* Finds the route. Among the patterns that match the path only the most
 * specific ones count, so a literal path is never shadowed by a
 * parameter route. On no match, allow gets the methods the path does take
 * (empty: unknown path, a 404). */
const http_route *router_find(http_server_t *srv, http_req_t *r, char *allow, size_t allowlen)
{
	allow[0] = '\0';
	http_method m = r->method == HTTP_HEAD ? HTTP_GET : r->method;
	int best = -1;
	for (size_t i = 0; i < srv->nroutes; i++)
		if (match_route(&srv->routes[i], r->raw_path, r) && specificity(srv->routes[i].pattern) > best)
			best = specificity(srv->routes[i].pattern);
	for (size_t i = 0; i < srv->nroutes; i++) {
		if (specificity(srv->routes[i].pattern) != best || !match_route(&srv->routes[i], r->raw_path, r))
			continue;
		if (srv->routes[i].method == m)
			return &srv->routes[i];
		const char *name = router_method_name(srv->routes[i].method);
		if (!strstr(allow, name)) {
			size_t l = strlen(allow);
			snprintf(allow + l, allowlen - l, "%s%s", l ? ", " : "", name);
			if (srv->routes[i].method == HTTP_GET)
				snprintf(allow + strlen(allow), allowlen - strlen(allow), ", HEAD");
		}
	}
	return NULL;
}

