/* server: the HTTP front (h2o, one event loop per thread on a SO_REUSEPORT
 * listener) and the worker pool that computes answers off the loops.
 *
 * A request is copied out of h2o into an http_req_t on its loop, routed,
 * and either answered on the loop (cheap routes) or handed to a worker;
 * the worker's finished response is handed back to the loop through h2o's
 * multithread queue, so h2o is only ever touched by its own thread. */
#ifndef BRISK_SERVER_H
#define BRISK_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/policy.h"
#include "core/buf.h"
#include "http/query.h"
#include "store/store.h"

typedef enum { HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_OTHER } http_method;

#define HTTP_MAX_PARAMS 8  /* path parameters such as {id} */
#define HTTP_MAX_XHEADERS 6

typedef struct http_req {
	/* request (owned copies) */
	http_method method;
	char *path;            /* decoded, without query */
	char *raw_path;        /* as sent (routes match it) */
	char *param_mem;       /* decoded path parameters */
	char *raw_query;       /* after '?', NULL if none */
	query_t query;
	char *body;
	size_t body_len;
	char *content_type;
	char *bearer;          /* Authorization: Bearer token, or NULL */
	char *cookie;          /* Cookie header (a signed-in browser), or NULL */
	char *csrf;            /* X-CSRF-Token header, or NULL */
	bool tls;              /* arrived over HTTPS */
	char *if_none_match;
	bool accept_gzip, accept_zstd;
	char request_id[40];
	slice_t params[HTTP_MAX_PARAMS]; /* path parameters, in route order */
	int nparams;
	int64_t org;           /* after authentication */
	auth_principal who;    /* after authentication: user, role, scope */
	const struct http_route *route;
	/* response */
	int status;
	const char *content_type_out;
	buf_t out;
	char etag[64];         /* quoted strong ETag, or empty: computed from body */
	const char *encoding_out; /* body already compressed ("gzip"/"zstd") */
	bool defer;            /* set on the loop: "run me again on a worker" */
	bool audited;          /* the handler wrote its audit entry with its change */
	bool on_worker;        /* the handler runs on a worker thread */
	bool l1_looked;        /* the loop looked the view up in L1 (and counted it) */
	/* a worker looked at the data versions for this request (after it
	 * arrived): a later pass (admission) reuses that look, not a new one */
	bool vers_looked, vers_known;
	/* admission (admission.h): a handler about to do expensive work (a
	 * cache miss) sets admit = 1 + priority with defer; the server queues
	 * it for the admission pool and runs it again there (admitted). */
	signed char admit;
	bool admitted;
	/* rate limits (ratelimit.h) */
	uint64_t peer;         /* the peer's address key (http/peer.h: IPv4, or IPv6 /64; 0: unknown) */
	uint64_t principal;    /* who asks, for rate limits: set by auth (a user id);
	                          0 = derived from the bearer token */
	bool rl_checked;       /* this request's token was taken (once, loop or worker) */
	int rl_limit, rl_remaining, rl_reset, rl_window; /* RateLimit-* headers; rl_limit 0 = none */
	const char *rl_class;
	const char *xh_name[HTTP_MAX_XHEADERS];
	char *xh_value[HTTP_MAX_XHEADERS];
	int nxh;
	/* bookkeeping */
	double started;        /* monotonic seconds */
	void *priv;            /* server-private */
	void *priv2;
} http_req_t;

typedef struct http_server http_server_t;

typedef void (*http_handler_fn)(http_server_t *srv, http_req_t *r);

typedef struct http_route {
	http_method method;
	const char *pattern;  /* "/api/v1/costs/{id}": {x} matches one segment */
	http_handler_fn fn;
	bool auth;            /* needs a signed-in caller (token or session); the role: auth/policy.c */
	bool on_loop;         /* cheap: answered on the event loop */
	const char *name;     /* for metrics and logs ("overview") */
	bool loop_only;       /* must finish on the loop (streams): never deferred */
} http_route;

typedef struct {
	const char *host;      /* default 127.0.0.1 */
	int port;              /* default 8080 */
	int threads;           /* event loops; default cores */
	int workers;           /* compute pool; default 2 x cores */
	size_t max_body;       /* bytes; default 256 MiB */
	int max_conns;         /* open connections; default 4096 (bounded by the fd limit) */
	int max_conns_per_addr;/* from one peer address; default 1024 */
	int conn_reserve;      /* beyond max_conns, for /healthz etc.; default 32 */
	const char *access_log;/* path, "-" = stderr, NULL = off */
	const char *tls_cert;  /* PEM certificate chain: serve HTTPS (and h2 by ALPN); NULL = plain */
	const char *tls_key;   /* PEM private key of tls_cert */
	int hsts_max_age;      /* Strict-Transport-Security max-age under TLS; 0 = no header */
	int adm_queue, adm_org_queue, adm_org_concurrency; /* admission.h; 0 = defaults */
	bool naive;            /* analytics from base tables */
} http_config;

/* Creates a server over an open store with routes (borrowed, static).
 * Returns NULL with a reason in err (e.g. the port is in use). */
http_server_t *http_server_new(const http_config *cfg, store_t *store, const http_route *routes, size_t nroutes,
                               char *err, size_t errlen);
/* Runs until http_server_stop (or SIGTERM/SIGINT when installed with
 * http_server_handle_signals); in-flight requests finish first. */
int http_server_run(http_server_t *srv);
void http_server_stop(http_server_t *srv);
void http_server_handle_signals(http_server_t *srv);
void http_server_free(http_server_t *srv);

store_t *http_server_store(http_server_t *srv);
/* An application pointer for handlers (set once before running). */
void http_server_set_app(http_server_t *srv, void *app);
void *http_server_app(http_server_t *srv);
/* Runs route handler fn as a worker would, outside any connection (cache
 * warming replays popular requests this way). r is built by the caller
 * with http_req_synthetic (param: the route's path parameter, borrowed, or
 * NULL) and freed with http_req_release. */
void http_req_synthetic(http_req_t *r, const http_route *route, int64_t org, const char *param, const char *query);
void http_req_release(http_req_t *r);
/* The server's routes (for replay by name). */
const http_route *http_server_route(http_server_t *srv, const char *name);
const http_config *http_server_config(http_server_t *srv);
/* Reopens the access log file at its path (after log rotation moved it);
 * a no-op when it is off or stderr. False with a reason. */
bool http_server_reopen_access_log(http_server_t *srv, char *err, size_t errlen);
/* True when the server speaks TLS. */
bool http_server_tls(http_server_t *srv);
/* The port actually bound (useful with port 0). */
int http_server_port(http_server_t *srv);

/* Streaming responses (server-sent events). A handler running ON THE LOOP
 * (route.on_loop) calls http_stream_start instead of producing a body: the
 * response headers go out at once and the stream stays open. Any thread
 * may then send chunks; they are delivered in order by the loop. When the
 * client goes away, on_close(ud) is called once (on the loop thread) and
 * later sends are dropped. The owner must call http_stream_release exactly
 * once when it no longer sends (after or instead of http_stream_end). */
typedef struct http_stream http_stream_t;
#define HTTP_STATUS_STREAMING (-1) /* r->status after http_stream_start */
http_stream_t *http_stream_start(http_req_t *r, const char *content_type, void (*on_close)(void *ud), void *ud);
/* Queues bytes (copied). Returns false once the stream is closed. */
bool http_stream_send(http_stream_t *s, const char *p, size_t n);
/* Ends the response after the queued bytes. */
void http_stream_end(http_stream_t *s);
void http_stream_release(http_stream_t *s);

/* Response helpers for handlers (any thread). */
void http_json(http_req_t *r, int status);  /* r->out already holds JSON */
/* True when the request's Content-Type is absent or exactly
 * application/json (parameters such as charset allowed). */
bool http_body_is_json(const http_req_t *r);
/* RFC 9457 problem+json with a person-readable detail. */
void http_problem(http_req_t *r, int status, const char *detail, ...) __attribute__((format(printf, 3, 4)));
void http_add_header(http_req_t *r, const char *name, const char *value);
/* Answers a failed write: 507 when err says the disk is full (true), else
 * status with err as the detail. */
bool http_store_failed(http_req_t *r, int status, const char *err);
/* True (and the response set to 304) when If-None-Match holds etag. */
bool http_not_modified(http_req_t *r, const char *etag);

#endif
