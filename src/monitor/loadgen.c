#include "monitor/loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/mem.h"

/*
 * DESIGN
 *
 * Each load thread owns its connections and an epoll set. A connection
 * writes its request, waits for the whole response (parsed incrementally:
 * headers, then Content-Length bytes or chunks), records the latency and
 * sends the next one at once: a closed loop, like wrk, so the request rate
 * is what the server sustains. Latencies go to a per-thread array and are
 * merged and sorted at the end, so percentiles are exact.
 */

struct conn {
	int fd;
	size_t sent;
	buf_t in;           /* the response so far */
	double started;
	size_t next_path;
	buf_t req;          /* the request in flight */
};

struct worker {
	const loadgen_opts *o;
	_Atomic uint64_t *done;
	pthread_t tid;
	struct conn *conns;
	int nconns;
	double deadline;
	float *lat;          /* ms */
	size_t nlat, caplat;
	uint64_t ok, not_modified, failed, connect_errors, bytes;
	double sum_ms, max_ms;
};

struct loadgen_conn {
	char host[64];
	int port;
	int fd;
	buf_t in;
};

static int dial(const char *host, int port, char *err, size_t errlen)
{
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		snprintf(err, errlen, "bad address %s (an IPv4 address)", host);
		return -1;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		snprintf(err, errlen, "cannot connect to %s:%d: %s", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static void build_request(buf_t *b, const char *method, const char *path, const char *host, const char *token,
			  bool gzip, size_t body_len)
{
	buf_reset(b);
	buf_printf(b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: brisk-validate\r\n", method, path, host);
	if (token)
		buf_printf(b, "Authorization: Bearer %s\r\n", token);
	if (gzip)
		buf_puts(b, "Accept-Encoding: gzip\r\n");
	if (body_len || strcmp(method, "GET"))
		buf_printf(b, "Content-Length: %zu\r\nContent-Type: text/csv\r\n", body_len);
	buf_puts(b, "\r\n");
}

/* Looks at a response in p[0..n): 0 while incomplete, -1 when malformed,
 * else the byte length of the whole response, with its status and the
 * position of its headers' end (*hdr_end) and chunked flag. */
static long response_length(const char *p, size_t n, int *status, size_t *hdr_end, bool *chunked)
{
	const char *e = memmem(p, n, "\r\n\r\n", 4);
	if (!e)
		return n > 65536 ? -1 : 0;
	size_t h = (size_t)(e - p) + 4;
	if (n < 12 || strncmp(p, "HTTP/1.", 7) != 0)
		return -1;
	*status = atoi(p + 9);
	*hdr_end = h;
	*chunked = false;
	long clen = -1;
	for (const char *l = strstr(p, "\r\n") + 2; l < e; l = strstr(l, "\r\n") + 2) {
		if (!strncasecmp(l, "content-length:", 15))
			clen = atol(l + 15);
		else if (!strncasecmp(l, "transfer-encoding:", 18) && strstr(l, "chunked") &&
			 strstr(l, "chunked") < strstr(l, "\r\n"))
			*chunked = true;
	}
	if (*status == 304 || *status == 204 || (*status >= 100 && *status < 200))
		return (long)h;
	if (!*chunked)
		return clen < 0 ? -1 : (size_t)clen + h <= n ? (long)h + clen : 0;
	size_t at = h;
	for (;;) {
		const char *le = memmem(p + at, n - at, "\r\n", 2);
		if (!le)
			return 0;
		long sz = strtol(p + at, NULL, 16);
		if (sz < 0)
			return -1;
		at = (size_t)(le - p) + 2;
		if (sz == 0) {
			/* no trailers from h2o: the empty line ends it */
			return n >= at + 2 ? (long)at + 2 : 0;
		}
		if (n < at + (size_t)sz + 2)
			return 0;
		at += (size_t)sz + 2;
	}
}

static void dechunk(const char *p, size_t n, buf_t *out)
{
	size_t at = 0;
	while (at < n) {
		const char *le = memmem(p + at, n - at, "\r\n", 2);
		if (!le)
			return;
		long sz = strtol(p + at, NULL, 16);
		at = (size_t)(le - p) + 2;
		if (sz <= 0 || at + (size_t)sz > n)
			return;
		buf_put(out, p + at, (size_t)sz);
		at += (size_t)sz + 2;
	}
}

/* ---- the load ---- */

static void record(struct worker *w, double ms, int status, size_t bytes)
{
	if (w->nlat == w->caplat) {
		w->caplat = w->caplat ? w->caplat * 2 : 4096;
		w->lat = xrealloc(w->lat, w->caplat * sizeof *w->lat);
	}
	w->lat[w->nlat++] = (float)ms;
	w->sum_ms += ms;
	if (ms > w->max_ms)
		w->max_ms = ms;
	w->bytes += bytes;
	if (status >= 200 && status < 300)
		w->ok++;
	else if (status == 304)
		w->not_modified++;
	else
		w->failed++;
}

/* Sends as much of c's request as the socket takes, and waits for
 * writability only while some is left (level-triggered EPOLLOUT would
 * otherwise wake the loop all the time). */
static int conn_send(struct conn *c, int ep)
{
	while (c->sent < c->req.len) {
		ssize_t s = send(c->fd, c->req.p + c->sent, c->req.len - c->sent, MSG_NOSIGNAL);
		if (s < 0 && errno == EAGAIN)
			break;
		if (s <= 0)
			return -1;
		c->sent += (size_t)s;
	}
	struct epoll_event ev = {.events = EPOLLIN | (c->sent < c->req.len ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	return 0;
}

static bool conn_start(struct worker *w, struct conn *c, int ep)
{
	const loadgen_opts *o = w->o;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (o->max_requests && atomic_load(w->done) >= o->max_requests)
			return false;
		if (c->fd < 0) {
			char err[128];
			c->fd = dial(o->host, o->port, err, sizeof err);
			if (c->fd < 0) {
				w->connect_errors++;
				return false;
			}
			fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
			struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
			epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
		}
		build_request(&c->req, "GET", o->paths[c->next_path++ % o->npaths], o->host, o->token, o->gzip, 0);
		c->sent = 0;
		buf_reset(&c->in);
		c->started = clock_now_s();
		if (conn_send(c, ep) == 0)
			return true;
		/* The server closed this keep-alive connection: a new one. */
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	w->connect_errors++;
	return false;
}

static void conn_drop(struct worker *w, struct conn *c, int ep)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	w->connect_errors++;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int active = 0;
	for (int i = 0; i < w->nconns; i++) {
		w->conns[i].fd = -1;
		w->conns[i].next_path = (size_t)i;
		if (conn_start(w, &w->conns[i], ep))
			active++;
	}
	struct epoll_event evs[64];
	char tmp[65536];
	while (active > 0) {
		double left = w->deadline - clock_now_s();
		if (left <= 0)
			break;
		int n = epoll_wait(ep, evs, 64, (int)(left * 1000) + 1);
		for (int k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;
			if (c->sent < c->req.len && conn_send(c, ep) != 0) {
				conn_drop(w, c, ep);
				if (!conn_start(w, c, ep))
					active--;
				continue;
			}
			if (!(evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				continue;
			ssize_t r;
			while ((r = recv(c->fd, tmp, sizeof tmp, 0)) > 0)
				buf_put(&c->in, tmp, (size_t)r);
			int status;
			size_t hdr;
			bool chunked;
			long len = c->in.len ? response_length(c->in.p, c->in.len, &status, &hdr, &chunked) : 0;
			if (len > 0) {
				record(w, (clock_now_s() - c->started) * 1000, status, (size_t)len);
				atomic_fetch_add(w->done, 1);
				if (!conn_start(w, c, ep))
					active--;
			} else if (len < 0 || r == 0 || (r < 0 && errno != EAGAIN)) {
				conn_drop(w, c, ep);
				if (!conn_start(w, c, ep))
					active--;
			}
		}
	}
	for (int i = 0; i < w->nconns; i++)
		if (w->conns[i].fd >= 0)
			close(w->conns[i].fd);
	close(ep);
	return NULL;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

static double pct(const float *v, size_t n, double q)
{
	if (!n)
		return NAN;
	size_t k = (size_t)ceil(q * (double)n);
	return v[k ? k - 1 : 0];
}

int loadgen_run(const loadgen_opts *o_in, loadgen_result *res, char *err, size_t errlen)
{
	loadgen_opts o = *o_in;
	memset(res, 0, sizeof *res);
	if (!o.host)
		o.host = "127.0.0.1";
	if (o.connections <= 0)
		o.connections = 32;
	if (o.threads <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		o.threads = cpus > 0 ? (int)cpus : 1;
	}
	if (o.threads > o.connections)
		o.threads = o.connections;
	if (!(o.seconds > 0))
		o.seconds = 10;
	if (!o.npaths) {
		snprintf(err, errlen, "no paths to request");
		return -1;
	}
	/* Fail early and plainly when nothing listens. */
	int probe = dial(o.host, o.port, err, errlen);
	if (probe < 0)
		return -1;
	close(probe);

	_Atomic uint64_t done = 0;
	struct worker *w = xcalloc((size_t)o.threads, sizeof *w);
	double t0 = clock_now_s();
	for (int i = 0; i < o.threads; i++) {
		w[i].o = &o;
		w[i].done = &done;
		w[i].nconns = o.connections / o.threads + (i < o.connections % o.threads);
		w[i].conns = xcalloc((size_t)w[i].nconns, sizeof *w[i].conns);
		w[i].deadline = t0 + o.seconds;
		pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
	}
	size_t total = 0;
	double sum = 0;
	for (int i = 0; i < o.threads; i++) {
		pthread_join(w[i].tid, NULL);
		total += w[i].nlat;
	}
	res->seconds = clock_now_s() - t0;
	float *all = xmalloc((total + 1) * sizeof *all);
	size_t at = 0;
	for (int i = 0; i < o.threads; i++) {
		if (w[i].nlat) /* a worker that timed nothing has no array */
			memcpy(all + at, w[i].lat, w[i].nlat * sizeof *all);
		at += w[i].nlat;
		res->ok += w[i].ok;
		res->not_modified += w[i].not_modified;
		res->failed += w[i].failed;
		res->connect_errors += w[i].connect_errors;
		res->bytes += w[i].bytes;
		sum += w[i].sum_ms;
		if (w[i].max_ms > res->max_ms)
			res->max_ms = w[i].max_ms;
		for (int k = 0; k < w[i].nconns; k++) {
			buf_free(&w[i].conns[k].in);
			buf_free(&w[i].conns[k].req);
		}
		free(w[i].conns);
		free(w[i].lat);
	}
	free(w);
	qsort(all, total, sizeof *all, cmp_float);
	res->requests = total;
	res->rps = res->seconds > 0 ? (double)total / res->seconds : 0;
	res->mean_ms = total ? sum / (double)total : NAN;
	res->p50_ms = pct(all, total, 0.50);
	res->p90_ms = pct(all, total, 0.90);
	res->p99_ms = pct(all, total, 0.99);
	if (!total)
		res->max_ms = NAN;
	free(all);
	return 0;
}

/* ---- one blocking connection ---- */

loadgen_conn_t *loadgen_connect(const char *host, int port, char *err, size_t errlen)
{
	int fd = dial(host ? host : "127.0.0.1", port, err, errlen);
	if (fd < 0)
		return NULL;
	loadgen_conn_t *c = xcalloc(1, sizeof *c);
	snprintf(c->host, sizeof c->host, "%s", host ? host : "127.0.0.1");
	c->port = port;
	c->fd = fd;
	return c;
}

static int exchange(loadgen_conn_t *c, const buf_t *req, const char *body, size_t body_len, int *status,
		    buf_t *resp_body, char *err, size_t errlen)
{
	const char *parts[2] = {req->p, body};
	size_t lens[2] = {req->len, body ? body_len : 0};
	for (int i = 0; i < 2; i++)
		for (size_t off = 0; off < lens[i];) {
			ssize_t s = send(c->fd, parts[i] + off, lens[i] - off, MSG_NOSIGNAL);
			if (s <= 0) {
				snprintf(err, errlen, "send: %s", s < 0 ? strerror(errno) : "closed");
				return -1;
			}
			off += (size_t)s;
		}
	buf_reset(&c->in);
	char tmp[65536];
	for (;;) {
		size_t hdr;
		bool chunked;
		long len = c->in.len ? response_length(c->in.p, c->in.len, status, &hdr, &chunked) : 0;
		if (len < 0) {
			snprintf(err, errlen, "malformed response");
			return -1;
		}
		if (len > 0) {
			if (resp_body) {
				buf_reset(resp_body);
				if (chunked)
					dechunk(c->in.p + hdr, (size_t)len - hdr, resp_body);
				else
					buf_put(resp_body, c->in.p + hdr, (size_t)len - hdr);
			}
			return 0;
		}
		ssize_t r = recv(c->fd, tmp, sizeof tmp, 0);
		if (r <= 0) {
			snprintf(err, errlen, "recv: %s", r < 0 ? strerror(errno) : "connection closed");
			return -1;
		}
		buf_put(&c->in, tmp, (size_t)r);
	}
}

int loadgen_request(loadgen_conn_t *c, const char *method, const char *path, const char *token, const char *body,
		    size_t body_len, int *status, buf_t *resp_body, double *seconds, char *err, size_t errlen)
{
	buf_t req = BUF_INIT;
	build_request(&req, method, path, c->host, token, false, body ? body_len : 0);
	double t0 = clock_now_s();
	int rc = exchange(c, &req, body, body_len, status, resp_body, err, errlen);
	if (rc != 0) {
		/* The server may have closed an idle keep-alive connection. */
		close(c->fd);
		c->fd = dial(c->host, c->port, err, errlen);
		t0 = clock_now_s();
		rc = c->fd < 0 ? -1 : exchange(c, &req, body, body_len, status, resp_body, err, errlen);
	}
	if (seconds)
		*seconds = clock_now_s() - t0;
	buf_free(&req);
	return rc;
}

void loadgen_close(loadgen_conn_t *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	buf_free(&c->in);
	free(c);
}
