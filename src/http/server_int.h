/* server_int: what the files of the HTTP server share and nothing else
 * sees (server.c: loops and lifecycle; router.c: routes; reply.c: handler
 * helpers; stream.c: streaming responses). Only these include h2o. */
#ifndef BRISK_SERVER_INT_H
#define BRISK_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

/* the evloop flavour of libh2o: no libuv */
#define H2O_USE_LIBUV 0
#include <h2o.h>

#include "http/admission.h"
#include "http/server.h"
#include "http/workq.h"
#include "monitor/metrics.h"

struct http_server;
typedef struct conn conn_t;

/* Longest URL answered (414 beyond). */
#define MAX_URL 8192
/* Per-address connection counts live in 2^CONN_ADDR_BITS hashed slots. */
#define CONN_ADDR_BITS 16

typedef struct {
	struct http_server *srv;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	h2o_multithread_queue_t *queue;
	h2o_multithread_receiver_t receiver;
	h2o_multithread_receiver_t stream_receiver;
	h2o_linklist_t streams; /* open http_stream_t, loop thread only */
	h2o_linklist_t conns;   /* open conn_t, oldest first, loop thread only */
	h2o_socket_t *listener;
	int fd;
	pthread_t tid;
} loop_t;

typedef struct job {
	h2o_multithread_message_t msg; /* first: the queue hands us this */
	h2o_req_t *req;                /* NULL once the client is gone */
	loop_t *loop;
	http_req_t r;
} job_t;

typedef struct {
	job_t *job;
} req_anchor;

struct http_server {
	http_config cfg;
	store_t *store;
	const http_route *routes;
	size_t nroutes;
	h2o_globalconf_t config;
	loop_t *loops;
	workq_t *workers;      /* cheap work off the loop */
	admission_t *admission;/* expensive work: cache misses, lists, bulk */
	SSL_CTX *ssl_ctx;      /* NULL: plain HTTP */
	atomic_int stopping;
	atomic_int inflight;
	atomic_int nconns;                           /* open connections, every loop */
	atomic_int addr_conns[1 << CONN_ADDR_BITS]; /* open connections by hashed peer address */
	FILE *access;
	int port;
	void *app;
	metrics_histogram_t **hist; /* (nroutes + 1) x STATUS_SLOTS */
};

/* router.c: the route for r (NULL: allow gets the methods the path takes,
 * empty for an unknown path); parameters are decoded afterwards. */
const http_route *router_find(http_server_t *srv, http_req_t *r, char *allow, size_t allowlen);
bool router_decode_params(http_req_t *r);
const char *router_method_name(http_method m);
/* reply.c */
const char *reply_status_title(int status);
/* request.c: copies what handlers need out of h2o into r; false with r
 * set to a problem answer when the request breaks a limit (r is to be
 * freed with srv_req_free either way). */
bool srv_req_copy(h2o_req_t *req, http_req_t *r);
void srv_req_free(http_req_t *r);
/* response.c: after the handler, where it ran: ETag, 304, compression
 * (*encoding: the Content-Encoding, or NULL). Then, on the loop: the
 * answer's headers and body to h2o, logged and measured. */
void srv_finish_response(http_req_t *r, const char **encoding);
void srv_send_response(http_server_t *srv, h2o_req_t *req, http_req_t *r, const char *encoding);
/* Logs and measures one answered request. */
void srv_access_log(http_server_t *srv, h2o_req_t *req, http_req_t *r);
/* conn.c: listening sockets (-1 with err), the accept loop of a loop
 * thread, and per-request hooks: conn_begin_request counts the request
 * on its connection and answers it (true) when the connection layer
 * refused its body or the connection only serves health checks;
 * conn_after_final_send re-arms the head check for the next request. */
int conn_probe_port(const char *host, int port, char *err, size_t errlen);
int conn_open_listener(const char *host, int port, char *err, size_t errlen);
void conn_listen(loop_t *loop);
bool conn_begin_request(h2o_req_t *req, http_req_t *r);
void conn_after_final_send(h2o_req_t *req);
/* limits.c: rate limits of an authenticated request (false: answered
 * 429), refused-token floods per address, admission of a job (false:
 * answered 503), the security and RateLimit headers of every answer. */
bool limits_check(http_server_t *srv, http_req_t *r);
bool limits_bad_token_blocked(http_req_t *r);
void limits_bad_token(http_req_t *r);
bool limits_admit(http_server_t *srv, job_t *j, void (*fn)(void *));
/* On the loop: the rate limits of a request whose token or session
 * memory knows, so a flood is refused before it queues; sets r->org to
 * that hint. True when refused (answered). */
bool limits_early(http_server_t *srv, http_req_t *r);
void limits_headers(http_server_t *srv, h2o_req_t *req, http_req_t *r);
/* tls.c: the server's TLS context from cfg (NULL with err when it cannot
 * be built); the handshake of an accepted socket, then on_ready with the
 * protocol ALPN chose (the socket is closed instead when it fails). */
SSL_CTX *tls_context_new(const http_config *cfg, char *err, size_t errlen);
void tls_accept(loop_t *loop, h2o_socket_t *sock, void (*on_ready)(h2o_socket_t *sock, bool h2, struct timeval at));
/* stream.c: loop-side hooks. */
void stream_on_message(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);
void stream_end_all(loop_t *loop);

#endif
