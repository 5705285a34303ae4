#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "http/auth.h"
#include "http/authz.h"
#include "http/server_int.h"

/* DESIGN
 * Threads: `threads` event loops, each with its own listening socket bound
 * with SO_REUSEPORT (the kernel spreads connections; no accept lock), and
 * a shared pool of `workers` compute threads. A job carries the copied
 * request; the h2o request stays on its loop. If the client goes away
 * before the worker finishes, the request's pool disposal clears job->req
 * and the answer is dropped on arrival.
 *
 * Shutdown: the signal flag stops accepting, asks h2o to close idle
 * connections, and the loops keep running until no job is in flight. */

#define BIG_BODY ((size_t)1 << 20)

static http_server_t *signal_target;


/* A request that failed because the store (PostgreSQL) went away, or that
 * failed while it is away, is told so: 503 with Retry-After, never a 500
 * (nor a 422 for a write the store could not take). faults0: the store's
 * fault count before the handler ran. */
static void store_fault_reply(http_server_t *srv, http_req_t *r, uint64_t faults0)
{
	if (r->status < 500 && r->status != 422)
		return;
	char why[300];
	bool up = store_reachable(srv->store, why, sizeof why);
	bool hit = store_faults(srv->store) != faults0;
	if (up && !hit)
		return;
	if (r->status == 422 && !hit)
		return;
	if (!why[0])
		snprintf(why, sizeof why, "the connection was lost");
	if (r->status == 503) { /* the handler's own words; when to retry */
		for (int i = 0; i < r->nxh; i++)
			if (!strcmp(r->xh_name[i], "Retry-After"))
				return;
		http_add_header(r, "Retry-After", "2");
		return;
	}
	for (int i = 0; i < r->nxh; i++)
		free(r->xh_value[i]);
	r->nxh = 0;
	http_problem(r, 503, "the store is unavailable (%s); retry shortly", why);
	http_add_header(r, "Retry-After", "2");
}

/* A request that failed because its write was refused (the store's
 * writer stayed held past store.write_wait_ms, by an import) is told so:
 * 503, the reason, and Retry-After from the holder's progress, whatever
 * error the handler made of it. One that got by without (a deferred
 * stamp) keeps its answer. */
static void store_busy_reply(http_req_t *r)
{
	int retry = 0;
	char why[300];
	if (!store_thread_refusals(&retry, why, sizeof why) || r->status < 400)
		return;
	for (int i = 0; i < r->nxh; i++)
		free(r->xh_value[i]);
	r->nxh = 0;
	http_problem(r, 503, "%s", why);
	char v[16];
	snprintf(v, sizeof v, "%d", retry);
	http_add_header(r, "Retry-After", v);
}

static void run_handler(http_server_t *srv, http_req_t *r)
{
	const http_route *rt = r->route;
	/* a request never holds its worker for a whole import */
	store_thread_bound_writes(true);
	store_thread_refusals(NULL, NULL, 0);
	bool ok = authz_request(srv, r) && (!rt->auth || limits_check(srv, r));
	uint64_t faults = store_faults(srv->store);
	authz_carry audit;
	if (ok) {
		authz_before(r, &audit);
		rt->fn(srv, r);
	}
	store_busy_reply(r);
	store_thread_bound_writes(false);
	if (!ok || r->defer) {
		store_thread_on_commit(NULL, NULL);
		return; /* refused (answered), or r->defer: the store must be asked */
	}
	if (!r->status)
		http_problem(r, 500, "the handler produced no response");
	store_fault_reply(srv, r, faults);
	authz_after(srv, r);
}

static void anchor_dispose(void *p)
{
	req_anchor *a = p;
	if (a->job)
		a->job->req = NULL;
}

static void job_work(void *arg);

/* The handler found its work expensive (a cache miss): it runs again
 * from the admission pool. Resets what the first run answered. */
static bool requeue_admitted(http_server_t *srv, job_t *j)
{
	http_req_t *r = &j->r;
	buf_reset(&r->out);
	r->status = 0;
	r->defer = false;
	r->audited = false;
	r->etag[0] = '\0';
	for (int i = 0; i < r->nxh; i++)
		free(r->xh_value[i]);
	r->nxh = 0;
	return limits_admit(srv, j, job_work);
}

static void job_work(void *arg)
{
	job_t *j = arg;
	http_server_t *srv = j->loop->srv;
	run_handler(srv, &j->r);
	if (j->r.defer && j->r.admit > 0 && !j->r.admitted && requeue_admitted(srv, j))
		return;
	if (j->r.defer && !j->r.status)
		http_problem(&j->r, 500, "the handler deferred its work twice");
	const char *enc;
	srv_finish_response(&j->r, &enc);
	j->r.priv = (void *)enc;
	h2o_multithread_send_message(&j->loop->receiver, &j->msg);
}

static void on_job_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
	while (!h2o_linklist_is_empty(messages)) {
		h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
		h2o_linklist_unlink(&m->link);
		job_t *j = (job_t *)m;
		http_server_t *srv = j->loop->srv;
		if (j->req) {
			req_anchor *a = j->r.priv2;
			a->job = NULL;
			srv_send_response(srv, j->req, &j->r, (const char *)j->r.priv);
		}
		size_t body = j->r.body_len;
		srv_req_free(&j->r);
		free(j);
		atomic_fetch_sub(&srv->inflight, 1);
		/* A large body's copies were freed into the allocator's arenas:
		 * hand them back to the system rather than keep the peak. */
		if (body >= BIG_BODY)
			malloc_trim(0);
	}
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
	loop_t *loop = H2O_STRUCT_FROM_MEMBER(loop_t, ctx, req->conn->ctx);
	http_server_t *srv = loop->srv;
	job_t *j = xcalloc(1, sizeof *j);
	j->loop = loop;
	j->req = req;
	http_req_t *r = &j->r;
	const char *enc = NULL;
	bool ok = srv_req_copy(req, r);
	if (conn_begin_request(req, r))
		ok = false; /* answered by the connection layer */
	if (ok) {
		char allow[64];
		r->route = router_find(srv, r, allow, sizeof allow);
		if (r->route && !router_decode_params(r)) {
			http_problem(r, 400, "malformed %%-escape in the path");
		} else if (!r->route) {
			if (allow[0]) {
				http_problem(r, 405, "%s is not allowed on %s (allowed: %s)", router_method_name(r->method), r->path, allow);
				http_add_header(r, "Allow", allow);
			} else {
				http_problem(r, 404, "no such resource: %s", r->path);
			}
		} else if (!r->route->on_loop && limits_early(srv, r)) {
			/* 429 before it waits for a worker */
		} else if (r->route->on_loop && (r->priv = req, run_handler(srv, r), !r->defer)) {
			/* answered on the loop */
			if (r->status == HTTP_STATUS_STREAMING) {
				srv_req_free(r);
				free(j);
				return 0;
			}
		} else {
			/* a deferred loop attempt starts over on the worker */
			buf_reset(&r->out);
			r->status = 0;
			r->etag[0] = '\0';
			r->on_worker = true;
			if (limits_early(srv, r))
				goto answer; /* a known session's flood: 429 before it queues */
			req_anchor *a = h2o_mem_alloc_shared(&req->pool, sizeof *a, anchor_dispose);
			a->job = j;
			r->priv2 = a;
			/* expensive work (a known miss, a list, an import) waits its
			 * turn in the admission pool; the rest takes a plain worker */
			bool expensive = r->admit > 0 || admission_prio_of(r->route->name) >= 0;
			r->defer = false;
			atomic_fetch_add(&srv->inflight, 1);
			if (expensive) {
				r->status = 0;
				if (limits_admit(srv, j, job_work))
					return 0;
				atomic_fetch_sub(&srv->inflight, 1);
				a->job = NULL;
			} else if (workq_push(srv->workers, job_work, j) != 0) {
				atomic_fetch_sub(&srv->inflight, 1);
				a->job = NULL;
				http_problem(r, 503, "the server is overloaded; retry shortly");
				http_add_header(r, "Retry-After", "1");
			} else {
				return 0;
			}
		}
	}
answer:
	srv_finish_response(r, &enc);
	srv_send_response(srv, req, r, enc);
	srv_req_free(r);
	free(j);
	return 0;
}

static bool loop_has_conns(loop_t *loop)
{
	return !h2o_linklist_is_empty(&loop->ctx.http1._conns) || !h2o_linklist_is_empty(&loop->ctx.http2._conns);
}

static void *loop_main(void *arg)
{
	loop_t *loop = arg;
	http_server_t *srv = loop->srv;
	h2o_evloop_t *ev = h2o_evloop_create();
	h2o_context_init(&loop->ctx, ev, &srv->config);
	/* handlers find their loop through the per-context handler slot */
	loop->accept_ctx.ctx = &loop->ctx;
	loop->accept_ctx.hosts = srv->config.hosts;
	loop->queue = h2o_multithread_create_queue(ev);
	h2o_multithread_register_receiver(loop->queue, &loop->receiver, on_job_done);
	h2o_multithread_register_receiver(loop->queue, &loop->stream_receiver, stream_on_message);
	h2o_linklist_init_anchor(&loop->streams);
	conn_listen(loop);
	bool closing = false;
	double deadline = 0;
	for (;;) {
		h2o_evloop_run(ev, 100);
		if (atomic_load(&srv->stopping) && !closing) {
			closing = true;
			h2o_socket_read_stop(loop->listener);
			h2o_socket_close(loop->listener);
			loop->listener = NULL;
			h2o_context_request_shutdown(&loop->ctx);
			stream_end_all(loop);
			deadline = clock_now_s() + 10;
			if (loop == srv->loops)
				log_info("serve: stopping: no new connections; requests already arriving or running are "
				         "answered first (10 s at most)");
			/* An idle keep-alive connection goes within a second; one whose
			 * request is still arriving re-arms its timer with every read,
			 * so an upload already being sent is read, run and answered. */
			loop->ctx.http1.req_timeout.timeout = 1000;
			loop->ctx.http2.idle_timeout.timeout = 1000;
		}
		if (closing && ((atomic_load(&srv->inflight) == 0 && !loop_has_conns(loop)) || clock_now_s() > deadline)) {
			/* Idle keep-alive connections would otherwise linger until their
			 * timeout: expire them now, then let the loop close them. */
			loop->ctx.http1.req_timeout.timeout = 0;
			loop->ctx.http2.idle_timeout.timeout = 0;
			loop->ctx.http2.graceful_shutdown_timeout.timeout = 0;
			double until = clock_now_s() + 2;
			while (loop_has_conns(loop) && clock_now_s() < until)
				h2o_evloop_run(ev, 10);
			break;
		}
	}
	h2o_multithread_unregister_receiver(loop->queue, &loop->receiver);
	h2o_multithread_unregister_receiver(loop->queue, &loop->stream_receiver);
	h2o_multithread_destroy_queue(loop->queue);
	/* request_shutdown armed the HTTP/2 grace timer; it has nothing left to do */
	if (h2o_timeout_is_linked(&loop->ctx.http2._graceful_shutdown_timeout))
		h2o_timeout_unlink(&loop->ctx.http2._graceful_shutdown_timeout);
	if (h2o_linklist_is_empty(&loop->ctx.http1._conns) && h2o_linklist_is_empty(&loop->ctx.http2._conns)) {
		h2o_context_dispose(&loop->ctx);
		h2o_evloop_destroy(ev);
	} else
		log_warn("serve: connections still open at exit; not disposing the loop");
	return NULL;
}

/* Connection caps within the descriptor limit (raised to its maximum):
 * the store, logs and accept itself need descriptors too. */
static void conn_limits(http_config *c)
{
	struct rlimit rl;
	long fds = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		fds = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1 << 20 ? 1 << 20 : (long)rl.rlim_cur;
	}
	if (c->conn_reserve <= 0)
		c->conn_reserve = 32;
	if (c->max_conns <= 0)
		c->max_conns = 4096;
	long room = fds - 256 - c->conn_reserve;
	if (room < 16)
		room = 16;
	if (c->max_conns > room) {
		log_warn("serve: server.max_connections lowered from %d to %ld: the process may open %ld files "
		         "(raise it with ulimit -n)", c->max_conns, room, fds);
		c->max_conns = (int)room;
	}
	if (c->max_conns_per_addr <= 0)
		c->max_conns_per_addr = 1024;
	if (c->max_conns_per_addr > c->max_conns)
		c->max_conns_per_addr = c->max_conns;
}

/* Undoes a half-made server: its first nfds listeners, its h2o config
 * (when made), the access log. Always NULL. */
static http_server_t *server_new_failed(http_server_t *srv, int nfds, bool config)
{
	for (int k = 0; k < nfds; k++)
		close(srv->loops[k].fd);
	if (config)
		h2o_config_dispose(&srv->config);
	if (srv->access && srv->access != stderr)
		fclose(srv->access);
	free(srv->hist);
	free(srv->loops);
	free(srv);
	return NULL;
}

http_server_t *http_server_new(const http_config *cfg, store_t *store, const http_route *routes, size_t nroutes,
                               char *err, size_t errlen)
{
	http_server_t *srv = xcalloc(1, sizeof *srv);
	srv->cfg = *cfg;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores < 1)
		cores = 1;
	if (!srv->cfg.host)
		srv->cfg.host = "127.0.0.1";
	if (srv->cfg.threads <= 0)
		srv->cfg.threads = (int)cores;
	if (srv->cfg.workers <= 0)
		srv->cfg.workers = (int)cores * 2;
	if (!srv->cfg.max_body)
		srv->cfg.max_body = (size_t)256 << 20;
	conn_limits(&srv->cfg);
	srv->store = store;
	srv->routes = routes;
	srv->nroutes = nroutes;
	srv->hist = xcalloc((nroutes + 1) * 16, sizeof *srv->hist);
	if (cfg->access_log) {
		srv->access = strcmp(cfg->access_log, "-") ? fopen(cfg->access_log, "a") : stderr;
		if (!srv->access) {
			snprintf(err, errlen, "cannot open access log %s: %s", cfg->access_log, strerror(errno));
			return server_new_failed(srv, 0, false);
		}
		setvbuf(srv->access, NULL, _IOLBF, 0);
	}
	h2o_config_init(&srv->config);
	srv->config.max_request_entity_size = srv->cfg.max_body;
	srv->config.server_name = h2o_iovec_init(H2O_STRLIT("brisk"));
	h2o_hostconf_t *host = h2o_config_register_host(&srv->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
	h2o_handler_t *h = h2o_create_handler(path, sizeof *h);
	h->on_req = on_req;

	srv->loops = xcalloc((size_t)srv->cfg.threads, sizeof *srv->loops);
	int port = cfg->port;
	/* SO_REUSEPORT would let a second brisk share the port silently (and
	 * take half the connections): a plain bind first proves it is free. */
	if (port != 0) {
		int probe = conn_probe_port(srv->cfg.host, port, err, errlen);
		if (probe < 0)
			return server_new_failed(srv, 0, true);
		close(probe);
	}
	for (int i = 0; i < srv->cfg.threads; i++) {
		srv->loops[i].srv = srv;
		srv->loops[i].fd = conn_open_listener(srv->cfg.host, port, err, errlen);
		if (srv->loops[i].fd < 0)
			return server_new_failed(srv, i, true);
		if (port == 0) {
			/* bind the other loops to the port the kernel chose */
			struct sockaddr_storage a;
			socklen_t al = sizeof a;
			getsockname(srv->loops[i].fd, (struct sockaddr *)&a, &al);
			port = ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
			                                     : ((struct sockaddr_in *)&a)->sin_port);
		}
	}
	srv->port = port;
	if (srv->cfg.tls_cert || srv->cfg.tls_key) {
		if (!srv->cfg.tls_cert || !srv->cfg.tls_key || !*srv->cfg.tls_cert || !*srv->cfg.tls_key) {
			snprintf(err, errlen, "TLS needs both server.tls_cert and server.tls_key");
		} else {
			srv->ssl_ctx = tls_context_new(&srv->cfg, err, errlen);
		}
		if (!srv->ssl_ctx)
			return server_new_failed(srv, srv->cfg.threads, true);
	}
	srv->workers = workq_new(srv->cfg.workers, 4096);
	admission_opts ao = {.threads = srv->cfg.workers,
	                     .queue = srv->cfg.adm_queue,
	                     .org_queue = srv->cfg.adm_org_queue,
	                     .org_concurrency = srv->cfg.adm_org_concurrency,
	                     .nice = 5};
	srv->admission = admission_new(&ao);
	return srv;
}

int http_server_run(http_server_t *srv)
{
	for (int i = 0; i < srv->cfg.threads; i++)
		pthread_create(&srv->loops[i].tid, NULL, loop_main, &srv->loops[i]);
	for (int i = 0; i < srv->cfg.threads; i++)
		pthread_join(srv->loops[i].tid, NULL);
	return 0;
}

void http_server_stop(http_server_t *srv)
{
	atomic_store(&srv->stopping, 1);
}

static void on_signal(int sig)
{
	(void)sig;
	if (signal_target)
		atomic_store(&signal_target->stopping, 1);
}

void http_server_handle_signals(http_server_t *srv)
{
	signal_target = srv;
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void http_server_free(http_server_t *srv)
{
	if (!srv)
		return;
	admission_free(srv->admission);
	workq_free(srv->workers);
	if (srv->ssl_ctx)
		SSL_CTX_free(srv->ssl_ctx);
	h2o_config_dispose(&srv->config);
	if (srv->access && srv->access != stderr)
		fclose(srv->access);
	if (signal_target == srv)
		signal_target = NULL;
	free(srv->loops);
	free(srv->hist);
	free(srv);
}

void http_server_set_app(http_server_t *srv, void *app)
{
	srv->app = app;
}

void *http_server_app(http_server_t *srv)
{
	return srv->app;
}

const http_route *http_server_route(http_server_t *srv, const char *name)
{
	for (size_t i = 0; i < srv->nroutes; i++)
		if (!strcmp(srv->routes[i].name, name))
			return &srv->routes[i];
	return NULL;
}

store_t *http_server_store(http_server_t *srv)
{
	return srv->store;
}

const http_config *http_server_config(http_server_t *srv)
{
	return &srv->cfg;
}

bool http_server_tls(http_server_t *srv)
{
	return srv->ssl_ctx != NULL;
}

int http_server_port(http_server_t *srv)
{
	return srv->port;
}
