/* conn: the connection layer under h2o. Listening sockets, accepting under
 * a cap (total and per address: the oldest idle connection is shed first,
 * a small reserve stays for /healthz), and a check of every HTTP/1 request
 * head before h2o reads its body.
 *
 * h2o 2.2 reads a whole body before it hands the request over, so the head
 * is checked here, on the socket's read callback, ahead of h2o's parser: a
 * body that would be refused (no or a bad token, conflicting lengths, over
 * max_body, a path that takes none) has its Content-Length or
 * Transfer-Encoding header renamed in the buffer, h2o sees a request
 * without a body, on_req answers the reason, and the connection closes
 * without reading the rest. Heads of HTTP/2 streams are not seen here. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "http/auth.h"
#include "http/h2guard.h"
#include "http/peer.h"
#include "http/server_int.h"

#include <h2o/http1.h>
#include <h2o/http2.h>

/* Bodies up to this size are read whatever the head says: refusing them
 * early saves nothing, and their handler gives the precise answer. */
#define GUARD_MIN_BODY ((size_t)64 << 10)
/* An idle connection's input buffer above this is given back. */
#define BIG_INPUT ((size_t)1 << 20)

struct conn {
	h2o_linklist_t link; /* in loop->conns, oldest first */
	loop_t *loop;
	h2o_socket_t *sock;
	int fd;
	uint64_t addr;      /* the peer's key (peer.h): IPv4 address or IPv6 /64 */
	int active;         /* requests in progress */
	int refs;           /* active requests + callbacks running; freed at 0 once closed */
	bool closed, shed, reserve;
	/* HTTP/1 head check */
	h2o_socket_cb h1_read, h1_write;
	bool vetted;        /* the current request's head was checked */
	size_t req_len;     /* head + body of the checked request; 0 = unknown */
	int reject;         /* answer this status instead of the handler */
	bool drop_body;     /* the body was not read: close after answering */
	char why[240];
	/* HTTP/2 head check (h2guard.h) */
	h2o_socket_cb h2_read;
	bool h2_preface;    /* the HTTP/1 reader saw the h2c preface */
	h2guard_t *h2g;
};

static unsigned addr_slot(uint64_t addr)
{
	uint64_t h = addr * 0x9e3779b97f4a7c15ull;
	return (unsigned)(h >> (64 - CONN_ADDR_BITS));
}

/* At most one line a second, with how many were not printed. */
static void log_limited(const char *fmt, const char *addr, int limit)
{
	static atomic_long last, quiet;
	long now = (long)time(NULL);
	long prev = atomic_load(&last);
	if (prev == now || !atomic_compare_exchange_strong(&last, &prev, now)) {
		atomic_fetch_add(&quiet, 1);
		return;
	}
	long q = atomic_exchange(&quiet, 0);
	char line[256];
	snprintf(line, sizeof line, fmt, addr, limit);
	if (q)
		log_warn("serve: %s (and %ld more such events in the last second)", line, q);
	else
		log_warn("serve: %s", line);
}

static void conn_unref(conn_t *c)
{
	if (--c->refs == 0 && c->closed) {
		h2guard_free(c->h2g);
		free(c);
	}
}

static void on_conn_closed(void *data)
{
	conn_t *c = data;
	http_server_t *srv = c->loop->srv;
	h2o_linklist_unlink(&c->link);
	atomic_fetch_sub(&srv->nconns, 1);
	atomic_fetch_sub(&srv->addr_conns[addr_slot(c->addr)], 1);
	c->closed = true;
	c->sock = NULL;
	c->refs++;
	conn_unref(c);
}

static conn_t *conn_of_sock(h2o_socket_t *sock)
{
	return sock && sock->on_close.cb == on_conn_closed ? sock->on_close.data : NULL;
}

static conn_t *conn_of_req(h2o_req_t *req)
{
	if (!req->conn || !req->conn->callbacks->get_socket)
		return NULL;
	return conn_of_sock(req->conn->callbacks->get_socket(req->conn));
}

/* Closes the oldest idle connection of this loop (from addr when
 * same_addr): shutdown() makes h2o see the end of the stream and close
 * it the usual way. False when every connection is busy. */
static bool shed_idle(loop_t *loop, uint64_t addr, bool same_addr)
{
	for (h2o_linklist_t *l = loop->conns.next; l != &loop->conns; l = l->next) {
		conn_t *c = H2O_STRUCT_FROM_MEMBER(conn_t, link, l);
		if (c->active || c->shed || (same_addr && c->addr != addr))
			continue;
		c->shed = true;
		shutdown(c->fd, SHUT_RDWR);
		return true;
	}
	return false;
}

/* ---- HTTP/1 head check ---- */

static void guard_read(h2o_socket_t *sock, const char *err);

/* Length of the head at p (through its empty line), 0 if incomplete. */
static size_t head_len(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return i + 2;
		if (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static bool name_is(const char *p, size_t n, const char *want)
{
	return n == strlen(want) && !strncasecmp(p, want, n);
}

static void trim(const char **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t'))
		(*p)++, (*n)--;
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r'))
		(*n)--;
}

static http_method method_of(const char *p, size_t n)
{
	static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "DELETE"};
	for (int i = 0; i < 5; i++)
		if (name_is(p, n, names[i]) && !strncmp(p, names[i], n))
			return (http_method)i;
	return HTTP_OTHER;
}

typedef struct {
	http_method method;
	const char *target;
	size_t target_len;
	char *entity_names[8]; /* Content-Length / Transfer-Encoding names, to rename */
	size_t entity_lens[8];
	int nentity;
	int ncl;
	bool has_te, cl_conflict, cl_bad;
	size_t cl;
	const char *auth;
	size_t auth_len;
	bool cookie; /* a Cookie header came: a session may stand for the token */
} head_t;

static bool head_parse(char *p, size_t n, head_t *h)
{
	memset(h, 0, sizeof *h);
	char *eol = memchr(p, '\n', n);
	char *sp1 = memchr(p, ' ', (size_t)(eol - p));
	if (!sp1)
		return false;
	h->method = method_of(p, (size_t)(sp1 - p));
	char *t = sp1 + 1;
	char *sp2 = memchr(t, ' ', (size_t)(eol - t));
	if (!sp2)
		return false;
	h->target = t;
	h->target_len = (size_t)(sp2 - t);
	const char *first_cl = NULL;
	size_t first_cl_len = 0;
	for (char *line = eol + 1; line < p + n;) {
		char *e = memchr(line, '\n', (size_t)(p + n - line));
		if (!e)
			break;
		char *colon = memchr(line, ':', (size_t)(e - line));
		if (colon) {
			size_t nl = (size_t)(colon - line);
			const char *v = colon + 1;
			size_t vl = (size_t)(e - v);
			trim(&v, &vl);
			bool cl = name_is(line, nl, "content-length"), te = name_is(line, nl, "transfer-encoding");
			if ((cl || te) && h->nentity < 8) {
				h->entity_names[h->nentity] = line;
				h->entity_lens[h->nentity++] = nl;
			}
			if (cl) {
				if (h->ncl++ == 0) {
					first_cl = v;
					first_cl_len = vl;
				} else if (vl != first_cl_len || memcmp(v, first_cl, vl)) {
					h->cl_conflict = true;
				}
				size_t x = 0;
				bool ok = vl > 0 && vl <= 18;
				for (size_t i = 0; ok && i < vl; i++) {
					ok = v[i] >= '0' && v[i] <= '9';
					x = x * 10 + (size_t)(v[i] - '0');
				}
				if (!ok)
					h->cl_bad = true;
				else if (h->ncl == 1)
					h->cl = x;
			} else if (te) {
				h->has_te = true;
			} else if (name_is(line, nl, "authorization")) {
				h->auth = v;
				h->auth_len = vl;
			} else if (name_is(line, nl, "cookie")) {
				h->cookie = true;
			}
		}
		line = e + 1;
	}
	return true;
}

static void refuse_body(conn_t *c, head_t *h, int status, const char *fmt, const char *arg)
{
	/* Same-length names h2o does not know: it sees no body. */
	for (int i = 0; i < h->nentity; i++) {
		size_t l = h->entity_lens[i];
		memcpy(h->entity_names[i], l == 14 ? "x-brisk-ignore" : "x-brisk-ignore-te", l == 14 ? 14 : 17);
	}
	c->reject = status;
	c->drop_body = true;
	snprintf(c->why, sizeof c->why, fmt, arg);
}

/* Whether anyone will take a large body of this request: -1 yes (read
 * it); else the status to answer without reading it (why gets the
 * detail), 0 when the handler answers (404, 405) on its own. */
static int judge_body(http_server_t *srv, http_method method, const char *target, size_t target_len,
                      const char *auth, size_t auth_len, bool cookie, char *why, size_t whylen)
{
	char path[MAX_URL + 1];
	size_t pl = strcspn(target, "? \r\n");
	if (pl > target_len)
		pl = target_len;
	if (pl > MAX_URL)
		return -1; /* answered 414 without reading anything large */
	memcpy(path, target, pl);
	path[pl] = '\0';
	http_req_t fr;
	memset(&fr, 0, sizeof fr);
	fr.method = method;
	fr.raw_path = path;
	char allow[64];
	const http_route *rt = router_find(srv, &fr, allow, sizeof allow);
	why[0] = '\0';
	if (!rt)
		return 0;
	if (!rt->auth)
		return -1;
	const char *tok = NULL;
	size_t tl = 0;
	if (auth && auth_len > 7 && !strncasecmp(auth, "Bearer ", 7)) {
		tok = auth + 7;
		tl = auth_len - 7;
		trim(&tok, &tl);
	}
	if (!tok && cookie)
		return -1; /* a signed-in browser: its session is checked with the request */
	if (!tok) {
		snprintf(why, whylen, "this call needs an API token: send 'Authorization: Bearer TOKEN' (the body was not read)");
		return 401;
	}
	int64_t org = auth_resolve_cached(tok, tl, NULL);
	if (org == AUTH_NEEDS_LOOKUP)
		org = auth_resolve(srv->store, tok, tl, NULL); /* one indexed read, only ahead of a large body */
	if (org == AUTH_UNAVAILABLE) {
		snprintf(why, whylen, "the store is unavailable, so the API token cannot be checked; retry shortly");
		return 503;
	}
	if (org < 0) {
		snprintf(why, whylen, "the API token is unknown or revoked (the body was not read)");
		return 401;
	}
	return -1;
}

/* Checks the head at offset off of the socket's input, if complete. */
static void vet(conn_t *c, size_t off)
{
	http_server_t *srv = c->loop->srv;
	h2o_buffer_t *in = c->sock->input;
	if (in->size <= off)
		return;
	char *p = in->bytes + off;
	size_t n = in->size - off;
	size_t hl = head_len(p, n < H2O_MAX_REQLEN ? n : H2O_MAX_REQLEN);
	if (!hl)
		return;
	c->vetted = true;
	c->req_len = 0;
	head_t h;
	if (!head_parse(p, hl, &h))
		return; /* h2o answers a malformed head itself */
	if (h.method == HTTP_OTHER && h.target_len == 1 && h.target[0] == '*' && !strncmp(p, "PRI ", 4))
		c->h2_preface = true; /* HTTP/2 with prior knowledge: h2o switches to its HTTP/2 reader */
	if (h.cl_conflict || h.cl_bad) {
		refuse_body(c, &h, 400, "%s", h.cl_conflict ? "two different Content-Length headers: the request is ambiguous"
		                                             : "the Content-Length header is not a number");
		return;
	}
	if (h.has_te && h.ncl) {
		refuse_body(c, &h, 400, "%s", "both Transfer-Encoding and Content-Length: the request is ambiguous");
		return;
	}
	if (h.ncl && h.cl > srv->cfg.max_body) {
		char lim[64];
		snprintf(lim, sizeof lim, "%zu", srv->cfg.max_body);
		refuse_body(c, &h, 413, "the body is larger than max_body (%s bytes)", lim);
		return;
	}
	if (!h.has_te)
		c->req_len = off + hl + h.cl;
	if (!h.has_te && h.cl < GUARD_MIN_BODY)
		return;
	char why[sizeof c->why];
	int st = judge_body(srv, h.method, h.target, h.target_len, h.auth, h.auth_len, h.cookie, why, sizeof why);
	if (st >= 0)
		refuse_body(c, &h, st, "%s", why);
}

static void h2_install(conn_t *c, h2o_socket_t *sock);
static void h2_rearm(conn_t *c);
static void h2_scan(conn_t *c, h2o_socket_t *sock, bool preface);

static void guard_read(h2o_socket_t *sock, const char *err)
{
	conn_t *c = conn_of_sock(sock);
	h2o_socket_cb next = c->h1_read;
	if (!err && !c->vetted)
		vet(c, 0);
	if (!err && c->h2_preface && !c->h2g) {
		/* h2c with prior knowledge: the frames after the preface are
		 * judged before h2o's HTTP/1 reader hands them to HTTP/2 */
		c->h2g = h2guard_new();
		h2_scan(c, sock, true);
	}
	c->refs++;
	next(sock, err);
	if (!c->closed && c->sock && c->h2g && !c->h2_read && sock->_cb.read && sock->_cb.read != c->h1_read &&
	    sock->_cb.read != guard_read)
		h2_install(c, sock);
	conn_unref(c);
}

/* ---- HTTP/2 head check (h2guard.h) ---- */

static int h2_judge(void *ud, const char *method, size_t method_len, const char *path, size_t path_len,
                    const char *auth, size_t auth_len, bool cookie, size_t cl, char *why, size_t whylen)
{
	conn_t *c = ud;
	http_server_t *srv = c->loop->srv;
	if (cl != SIZE_MAX && cl > srv->cfg.max_body) {
		snprintf(why, whylen, "the body is larger than max_body (%zu bytes)", srv->cfg.max_body);
		return 413;
	}
	if (cl != SIZE_MAX && cl < GUARD_MIN_BODY)
		return -1;
	char m[8];
	snprintf(m, sizeof m, "%.*s", (int)(method_len < 7 ? method_len : 7), method);
	return judge_body(srv, method_of(m, strlen(m)), path, path_len, auth, auth_len, cookie, why, whylen);
}

static void h2_scan(conn_t *c, h2o_socket_t *sock, bool preface)
{
	h2o_buffer_t *in = sock->input;
	size_t n = in->size;
	h2guard_scan(c->h2g, in->bytes, &n, preface, h2_judge, c);
	in->size = n;
}

static void h2_guard_read(h2o_socket_t *sock, const char *err)
{
	conn_t *c = conn_of_sock(sock);
	h2o_socket_cb next = c->h2_read;
	if (!err)
		h2_scan(c, sock, false);
	c->refs++;
	next(sock, err);
	if (!c->closed && c->sock == sock)
		h2guard_after(c->h2g, sock->input->size);
	h2_rearm(c);
	conn_unref(c);
}

/* h2o restarts reading with its own reader after a pause (a full write
 * buffer): the check goes back in front. */
static void h2_rearm(conn_t *c)
{
	if (!c->closed && c->sock && c->h2_read && c->sock->_cb.read == c->h2_read)
		c->sock->_cb.read = h2_guard_read;
}

/* h2o's HTTP/2 reader is in place: the check goes in front of it. */
static void h2_install(conn_t *c, h2o_socket_t *sock)
{
	if (c->closed || c->sock != sock || !sock->_cb.read)
		return;
	c->h2_read = sock->_cb.read;
	sock->_cb.read = h2_guard_read;
	h2guard_after(c->h2g, sock->input->size);
}

static void guard_write(h2o_socket_t *sock, const char *err)
{
	conn_t *c = conn_of_sock(sock);
	h2o_socket_cb next = c->h1_write;
	c->h1_write = NULL;
	/* The response is out: the next head gets checked, even one that
	 * already waits in the buffer (pipelining), before h2o parses it. */
	size_t next_at = c->req_len;
	c->vetted = false;
	c->reject = 0;
	c->drop_body = false;
	c->req_len = 0;
	if (!err && next_at)
		vet(c, next_at);
	c->refs++;
	next(sock, err);
	if (!c->closed && c->sock && c->sock->_cb.read == c->h1_read) {
		c->sock->_cb.read = guard_read;
		/* h2o keeps an input buffer at its largest: after a big body an
		 * idle keep-alive connection would hold it until it closes */
		h2o_buffer_t *in = c->sock->input;
		if (in->size == 0 && in->capacity >= BIG_INPUT) {
			h2o_buffer_dispose(&c->sock->input);
			h2o_buffer_init(&c->sock->input, &h2o_socket_buffer_prototype);
		}
	}
	conn_unref(c);
}

void conn_after_final_send(h2o_req_t *req)
{
	if (req->version >= 0x200)
		return;
	conn_t *c = conn_of_req(req);
	if (!c || !c->h1_read || c->closed)
		return;
	h2o_socket_t *sock = c->sock;
	if (sock->_cb.write && sock->_cb.write != guard_write) {
		c->h1_write = sock->_cb.write;
		sock->_cb.write = guard_write;
	}
}

/* ---- requests ---- */

static void on_req_pool_dispose(void *p)
{
	conn_t *c = *(conn_t **)p;
	c->active--;
	conn_unref(c);
}

bool conn_begin_request(h2o_req_t *req, http_req_t *r)
{
	conn_t *c = conn_of_req(req);
	if (!c)
		return false;
	conn_t **hold = h2o_mem_alloc_shared(&req->pool, sizeof *hold, on_req_pool_dispose);
	*hold = c;
	c->active++;
	c->refs++;
	r->peer = c->addr;
	if (req->version >= 0x200 && c->h2g) {
		h2_rearm(c);
		ssize_t ai = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
		h2o_iovec_t auth = ai >= 0 ? req->headers.entries[ai].value : h2o_iovec_init(NULL, 0);
		int status;
		char why[200];
		if (!req->entity.base && h2guard_refused(c->h2g, req->input.method.base, req->input.method.len,
		                                         req->input.path.base, req->input.path.len, auth.base, auth.len,
		                                         &status, why, sizeof why) && status > 0) {
			http_problem(r, status, "%s", why);
			if (status == 401)
				http_add_header(r, "WWW-Authenticate", "Bearer");
			return true;
		}
	}
	if (c->drop_body && req->version < 0x200) {
		req->http1_is_persistent = 0; /* the unread body must not be taken for a request */
		if (c->reject) {
			http_problem(r, c->reject, "%s", c->why);
			if (c->reject == 401)
				http_add_header(r, "WWW-Authenticate", "Bearer");
			return true;
		}
	}
	if (c->reserve && req->version < 0x200)
		req->http1_is_persistent = 0; /* a reserve connection serves one request */
	if (c->reserve && strcmp(r->path, "/healthz") && strcmp(r->path, "/readyz") && strcmp(r->path, "/metrics")) {
		http_problem(r, 503, "the server is at its connection limit; this connection only serves /healthz, "
		                     "/readyz and /metrics");
		http_add_header(r, "Retry-After", "1");
		if (req->version < 0x200)
			req->http1_is_persistent = 0;
		return true;
	}
	return false;
}

/* ---- accepting ---- */

/* The HTTP/1 head check goes in front of h2o's reader. */
static void guard_install(h2o_socket_t *sock)
{
	conn_t *c = conn_of_sock(sock);
	if (c && !c->closed && sock->_cb.read) {
		c->h1_read = sock->_cb.read;
		sock->_cb.read = guard_read;
	}
}

/* A TLS handshake is done: a head that came with it is checked before
 * h2o's HTTP/1 reader parses it (it does so as it starts). */
static void on_tls_ready(h2o_socket_t *sock, bool h2, struct timeval at)
{
	conn_t *c = conn_of_sock(sock);
	loop_t *loop = c->loop;
	if (h2) {
		c->h2g = h2guard_new();
		if (sock->input->size)
			h2_scan(c, sock, true);
		h2o_http2_accept(&loop->accept_ctx, sock, at);
		h2_install(c, sock);
		return;
	}
	if (sock->input->size)
		vet(c, 0);
	h2o_http1_accept(&loop->accept_ctx, sock, at);
	guard_install(sock);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
	if (err)
		return;
	loop_t *loop = listener->data;
	http_server_t *srv = loop->srv;
	h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
	if (!sock)
		return;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	h2o_socket_getpeername(sock, (struct sockaddr *)&ss);
	uint64_t addr = peer_key((struct sockaddr *)&ss);
	char as[PEER_NAME_BUFSZ];
	peer_name((struct sockaddr *)&ss, as);
	unsigned slot = addr_slot(addr);
	bool reserve = false;
	bool over_addr = atomic_load(&srv->addr_conns[slot]) >= srv->cfg.max_conns_per_addr;
	bool over_all = atomic_load(&srv->nconns) >= srv->cfg.max_conns;
	if (over_addr || over_all) {
		int lim = over_addr ? srv->cfg.max_conns_per_addr : srv->cfg.max_conns;
		if (shed_idle(loop, addr, over_addr)) {
			log_limited(over_addr ? "connection limit reached for %s (%d): closed its oldest idle connection "
			                        "(server.max_connections_per_address)"
			                      : "connection limit reached (%s connecting, limit %d): closed the oldest idle "
			                        "connection (server.max_connections)", as, lim);
		} else if (atomic_load(&srv->nconns) < srv->cfg.max_conns + srv->cfg.conn_reserve) {
			reserve = true; /* every connection busy: health checks still get through */
			log_limited("connection limit reached, every connection busy: %s gets a reserve connection that "
			            "only serves /healthz, /readyz and /metrics (limit %d)", as, lim);
		} else {
			log_limited("connection limit reached, every connection busy and the reserve used: refused %s "
			            "(limit %d)", as, lim);
			h2o_socket_close(sock);
			return;
		}
	}
	conn_t *c = xcalloc(1, sizeof *c);
	c->loop = loop;
	c->sock = sock;
	c->fd = h2o_socket_get_fd(sock);
	c->addr = addr;
	c->reserve = reserve;
	h2o_linklist_insert(&loop->conns, &c->link);
	atomic_fetch_add(&srv->nconns, 1);
	atomic_fetch_add(&srv->addr_conns[slot], 1);
	sock->on_close.cb = on_conn_closed;
	sock->on_close.data = c;
	if (srv->ssl_ctx) {
		tls_accept(loop, sock, on_tls_ready);
		return;
	}
	h2o_accept(&loop->accept_ctx, sock);
	guard_install(sock);
}

void conn_listen(loop_t *loop)
{
	h2o_linklist_init_anchor(&loop->conns);
	loop->listener = h2o_evloop_socket_create(loop->ctx.loop, loop->fd, H2O_SOCKET_FLAG_DONT_READ);
	loop->listener->data = loop;
	h2o_socket_read_start(loop->listener, on_accept);
}

/* A bound socket (IPv4 or IPv6; "::" takes both families); listening
 * (and shared with SO_REUSEPORT) when listen_it, else only proving the
 * port is free. -1 with err. */
static int bound_socket(const char *host, int port, bool listen_it, char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	socklen_t len;
	if (!peer_listen_addr(host, port, &addr, &len, err, errlen))
		return -1;
	int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", host, strerror(errno));
		return -1;
	}
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (addr.ss_family == AF_INET6) /* IPv4 clients too, as ::ffff:a.b.c.d */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	if (listen_it) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	if (bind(fd, (struct sockaddr *)&addr, len) != 0 || (listen_it && listen(fd, SOMAXCONN) != 0)) {
		snprintf(err, errlen, "cannot listen on %s port %d: %s%s", host, port, strerror(errno),
		         !listen_it && errno == EADDRINUSE ? " (is another brisk or server running there?)" : "");
		close(fd);
		return -1;
	}
	return fd;
}

int conn_probe_port(const char *host, int port, char *err, size_t errlen)
{
	return bound_socket(host, port, false, err, errlen);
}

int conn_open_listener(const char *host, int port, char *err, size_t errlen)
{
	return bound_socket(host, port, true, err, errlen);
}
