/* loadgen: a small HTTP/1.1 keep-alive client and load generator for
 * `brisk validate` (no external tools needed).
 *
 * loadgen_run drives N connections from T threads (epoll, one request in
 * flight per connection, as wrk does) for a time or a request count and
 * reports throughput and exact latency percentiles (every latency is kept
 * and sorted). loadgen_conn is a blocking single connection for the
 * scenario steps that need answers (tokens, cursors, cache clears).
 * Only plain HTTP over IPv4; responses with Content-Length or chunked. */
#ifndef BRISK_LOADGEN_H
#define BRISK_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct {
	const char *host;          /* IPv4 address (default 127.0.0.1) */
	int port;
	const char *const *paths;  /* GET targets, taken in turn by each connection */
	size_t npaths;
	const char *token;         /* sent as Authorization: Bearer, or NULL */
	int connections;           /* default 32 */
	int threads;               /* default: online CPUs, at most connections */
	double seconds;            /* run time (default 10; with max_requests, an upper bound) */
	uint64_t max_requests;     /* stop after this many responses in all; 0 = time only */
	bool gzip;                 /* send Accept-Encoding: gzip */
} loadgen_opts;

typedef struct {
	uint64_t requests;         /* responses received */
	uint64_t ok, not_modified, failed; /* 2xx, 304, anything else */
	uint64_t connect_errors;   /* connections refused or dropped mid-response */
	uint64_t bytes;            /* response bytes, headers included */
	double seconds, rps;
	double mean_ms, p50_ms, p90_ms, p99_ms, max_ms; /* NaN without responses */
} loadgen_result;

/* Runs the load and fills res. Returns 0, or -1 with a reason in err when
 * nothing could run (bad options, no connection at all). */
int loadgen_run(const loadgen_opts *o, loadgen_result *res, char *err, size_t errlen);

typedef struct loadgen_conn loadgen_conn_t;

/* Opens a blocking keep-alive connection. NULL with a reason in err. */
loadgen_conn_t *loadgen_connect(const char *host, int port, char *err, size_t errlen);
/* Sends one request (body may be NULL) and reads the answer: its status,
 * its body (de-chunked; NULL to discard) and the time from sending to the
 * last byte. Reconnects once if the server had closed the connection.
 * Returns 0, or -1 with a reason in err. */
int loadgen_request(loadgen_conn_t *c, const char *method, const char *path, const char *token, const char *body,
		    size_t body_len, int *status, buf_t *resp_body, double *seconds, char *err, size_t errlen);
/* Closes c; NULL is a no-op. */
void loadgen_close(loadgen_conn_t *c);

#endif
