/* GET /api/v1/events: the org's server-sent events (src/tasks/events.h):
 * task progress and data changes, heartbeats, replay after Last-Event-ID. */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/* the evloop flavour of libh2o: no libuv */
#define H2O_USE_LIBUV 0
#include <h2o.h>

#include "http/api.h"
#include "http/api_tasks.h"
#include "http/app.h"
#include "tasks/events.h"

/* DESIGN
 * The hub owns each subscription and releases the stream (end + release)
 * when it drops it. The stream's close callback may run after that, so it
 * carries a number, not a pointer: closing an unknown key is a no-op. The
 * callback only gets its ud, hence the process's one hub in a static. */

static _Atomic(events_t *) close_hub;
static atomic_uint_fast64_t next_key;

static bool sse_send(void *ud, const char *p, size_t n)
{
	return http_stream_send(ud, p, n);
}

static void sse_release(void *ud)
{
	http_stream_end(ud);
	http_stream_release(ud);
}

static void sse_closed(void *ud)
{
	events_t *e = atomic_load(&close_hub);
	if (e)
		events_close(e, (uint64_t)(uintptr_t)ud);
}

/* Last-Event-ID from the request headers. http_req_t does not copy it, so
 * it is read from h2o's request, which a route running on the loop owns
 * (r->priv, as http_stream_start uses it). */
static void last_event_id(http_req_t *r, char *out, size_t n)
{
	out[0] = '\0';
	const char *q = query_get(&r->query, "last_event_id");
	if (q) {
		snprintf(out, n, "%s", q);
		return;
	}
	h2o_req_t *req = r->priv;
	if (!req)
		return;
	ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("last-event-id"), -1);
	if (i >= 0) {
		h2o_iovec_t v = req->headers.entries[i].value;
		snprintf(out, n, "%.*s", (int)(v.len < n ? v.len : n - 1), v.base);
	}
}

void api_events_stream(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {"last_event_id", NULL};
	if (!api_check_params(r, allowed))
		return;
	app_t *app = http_server_app(srv);
	if (!app || !app->events) {
		http_problem(r, 503, "the event stream is not running on this server");
		return;
	}
	atomic_store(&close_hub, app->events);
	char last[32];
	last_event_id(r, last, sizeof last);
	uint64_t key = atomic_fetch_add(&next_key, 1) + 1;
	http_stream_t *s = http_stream_start(r, "text/event-stream; charset=utf-8", sse_closed, (void *)(uintptr_t)key);
	events_subscribe(app->events, key, r->org, last, sse_send, sse_release, s);
}
