/* brisk validate's pieces: the targets file and its verdicts, and the load
 * generator against a small HTTP server in this test (Content-Length and
 * chunked answers, keep-alive, a server that closes connections). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"
#include "monitor/loadgen.h"
#include "monitor/targets.h"

static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	sprintf(path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

Test(monitor_targets, bounds_and_verdicts)
{
	char *dir = tmpdir_new();
	char *p = write_file(dir, "t.ini",
			     "; comment\n[overview_cold]\np50_ms_max = 10\n[import]\nrows_per_s_min = 1000\n"
			     "[typo]\nfoo_max = 1\n");
	char err[256];
	targets_t *t = targets_load(p, err, sizeof err);
	cr_assert_not_null(t, "%s", err);
	targets_record(t, "overview_cold", "p50_ms", 12.5, 40, "ms");
	targets_record(t, "overview_cold", "p95_ms", 20, NAN, "ms");
	targets_record(t, "import", "rows_per_s", 999, NAN, "rows/s");
	cr_assert_eq(targets_judge(t), 2);
	cr_assert_eq(targets_unmeasured(t), 1, "typo.foo was never recorded");
	targets_record(t, "overview_cold", "p50_ms", 10, 40, "ms"); /* a bound is inclusive */
	targets_record(t, "import", "rows_per_s", 1000, NAN, "rows/s");
	cr_assert_eq(targets_judge(t), 0);

	buf_t b = BUF_INIT;
	targets_json(t, &b);
	json_t *j = json_loadb(b.p, b.len, 0, NULL);
	cr_assert_not_null(j, "%s", b.p);
	json_t *s0 = json_array_get(json_object_get(j, "scenarios"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(s0, "name")), "overview_cold");
	json_t *f0 = json_array_get(json_object_get(s0, "figures"), 0);
	cr_assert_float_eq(json_number_value(json_object_get(f0, "naive")), 40, 1e-9);
	cr_assert_float_eq(json_number_value(json_object_get(json_object_get(f0, "target"), "max")), 10, 1e-9);
	cr_assert(json_is_true(json_object_get(f0, "met")));
	json_t *f1 = json_array_get(json_object_get(s0, "figures"), 1);
	cr_assert(json_is_null(json_object_get(f1, "target")));
	cr_assert(json_is_null(json_object_get(f1, "naive")));
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "unmeasured"), 0)), "typo.foo_max");
	json_decref(j);
	buf_free(&b);

	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	targets_table(t, f);
	fclose(f);
	cr_assert(strstr(out, "overview_cold") && strstr(out, "<= 10") && strstr(out, "not measured"), "%s", out);
	free(out);
	targets_free(t);
	free(p);
	tmpdir_remove(dir);
}

Test(monitor_targets, bad_files_name_the_line)
{
	char *dir = tmpdir_new();
	const char *cases[][2] = {{"[a]\np50_ms = 3\n", ":2: 'p50_ms' must end in _max or _min"},
				  {"[a]\n\np50_ms_max = fast\n", ":3: 'fast' is not a number"},
				  {"p50_ms_max = 3\n", ":1: 'p50_ms_max' is outside any [scenario]"},
				  {"[a\n", ":1: "}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *p = write_file(dir, "bad.ini", cases[i][0]);
		char err[256] = "";
		cr_assert_null(targets_load(p, err, sizeof err));
		cr_assert(strstr(err, cases[i][1]), "case %zu: %s", i, err);
		free(p);
	}
	char err[256];
	cr_assert_null(targets_load("/nonexistent/t.ini", err, sizeof err));
	cr_assert(strstr(err, "cannot read"));
	tmpdir_remove(dir);
}

/* ---- a tiny HTTP server for the load generator ---- */

struct tiny {
	int fd, port;
	pthread_t tid;
	_Atomic int requests;
	int close_every; /* close the connection after this many answers (0 = keep-alive) */
};

static void *tiny_conn(void *arg)
{
	void **a = arg;
	struct tiny *t = a[0];
	int fd = (int)(intptr_t)a[1];
	free(a);
	char buf[8192];
	size_t have = 0;
	int served = 0;
	for (;;) {
		ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
		if (r <= 0)
			break;
		have += (size_t)r;
		char *end;
		while ((end = memmem(buf, have, "\r\n\r\n", 4))) {
			size_t used = (size_t)(end - buf) + 4;
			int n = atomic_fetch_add(&t->requests, 1);
			char resp[512];
			if (strstr(buf, "GET /chunked"))
				snprintf(resp, sizeof resp,
					 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
			else if (strstr(buf, "GET /missing"))
				snprintf(resp, sizeof resp, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno");
			else
				snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nrequest %04d", n % 10000);
			send(fd, resp, strlen(resp), MSG_NOSIGNAL);
			memmove(buf, buf + used, have - used);
			have -= used;
			if (t->close_every && ++served % t->close_every == 0)
				goto done;
		}
	}
done:
	close(fd);
	return NULL;
}

static void *tiny_accept(void *arg)
{
	struct tiny *t = arg;
	for (;;) {
		int c = accept(t->fd, NULL, NULL);
		if (c < 0)
			break;
		void **a = malloc(2 * sizeof *a);
		a[0] = t;
		a[1] = (void *)(intptr_t)c;
		pthread_t tid;
		pthread_create(&tid, NULL, tiny_conn, a);
		pthread_detach(tid);
	}
	return NULL;
}

static void tiny_start(struct tiny *t, int close_every)
{
	memset(t, 0, sizeof *t);
	t->close_every = close_every;
	t->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(t->fd, (struct sockaddr *)&a, sizeof a), 0);
	listen(t->fd, 128);
	socklen_t al = sizeof a;
	getsockname(t->fd, (struct sockaddr *)&a, &al);
	t->port = ntohs(a.sin_port);
	pthread_create(&t->tid, NULL, tiny_accept, t);
}

static void tiny_stop(struct tiny *t)
{
	shutdown(t->fd, SHUT_RDWR);
	close(t->fd);
	pthread_join(t->tid, NULL);
}

Test(monitor_targets, loadgen_counts_every_response)
{
	struct tiny t;
	tiny_start(&t, 0);
	const char *const paths[] = {"/a", "/chunked", "/missing"};
	loadgen_opts o = {.port = t.port, .paths = paths, .npaths = 3, .connections = 8, .threads = 2,
			  .seconds = 10, .max_requests = 3000, .token = "tok"};
	loadgen_result r;
	char err[256];
	cr_assert_eq(loadgen_run(&o, &r, err, sizeof err), 0, "%s", err);
	cr_assert_geq(r.requests, 3000);
	cr_assert_leq(r.requests, 3000 + 8, "at most one in flight per connection beyond the cap");
	cr_assert_eq(r.ok + r.failed + r.not_modified, r.requests);
	cr_assert(r.failed > r.requests / 4 && r.failed < r.requests / 2, "a third are 404s: %llu of %llu",
		  (unsigned long long)r.failed, (unsigned long long)r.requests);
	cr_assert_eq(r.connect_errors, 0);
	cr_assert(r.p50_ms > 0 && r.p50_ms <= r.p90_ms && r.p90_ms <= r.p99_ms && r.p99_ms <= r.max_ms);
	cr_assert(r.rps > 0);
	tiny_stop(&t);
}

Test(monitor_targets, loadgen_reconnects_when_the_server_closes)
{
	struct tiny t;
	tiny_start(&t, 3);
	const char *const paths[] = {"/a"};
	loadgen_opts o = {.port = t.port, .paths = paths, .npaths = 1, .connections = 4, .threads = 1,
			  .seconds = 10, .max_requests = 200};
	loadgen_result r;
	char err[256];
	cr_assert_eq(loadgen_run(&o, &r, err, sizeof err), 0, "%s", err);
	cr_assert_geq(r.ok, 200);

	loadgen_conn_t *c = loadgen_connect("127.0.0.1", t.port, err, sizeof err);
	cr_assert_not_null(c, "%s", err);
	buf_t body = BUF_INIT;
	int status;
	double secs;
	for (int i = 0; i < 7; i++) {
		cr_assert_eq(loadgen_request(c, "GET", "/chunked", NULL, NULL, 0, &status, &body, &secs, err, sizeof err), 0,
			     "request %d: %s", i, err);
		cr_assert_eq(status, 200);
		cr_assert_str_eq(body.p, "hello world", "de-chunked");
	}
	cr_assert_eq(loadgen_request(c, "GET", "/missing", NULL, NULL, 0, &status, &body, &secs, err, sizeof err), 0);
	cr_assert_eq(status, 404);
	buf_free(&body);
	loadgen_close(c);
	tiny_stop(&t);

	o.port = t.port;
	cr_assert_eq(loadgen_run(&o, &r, err, sizeof err), -1, "nothing listens any more");
	cr_assert(strstr(err, "cannot connect"), "%s", err);
}
