/* Cache statistics and the org's cache reset. */
#include <string.h>

#include "http/api.h"
#include "http/app.h"

void api_cache_stats(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	app_t *app = http_server_app(srv);
	buf_puts(&r->out, "{\"data\":");
	rcache_stats_json(app->cache, &r->out);
	buf_putc(&r->out, '}');
	r->etag[0] = '\0';
	http_json(r, 200);
}

void api_cache_clear(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	app_t *app = http_server_app(srv);
	size_t n = rcache_clear_org(app->cache, r->org);
	buf_printf(&r->out, "{\"data\":{\"cleared\":%zu}}", n);
	http_json(r, 200);
}
