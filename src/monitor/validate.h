/* validate: the HTTP scenarios of `brisk validate`, measured from the
 * outside like a client would, against a running server and (optionally)
 * a second one in naive mode over the same data:
 *   overview_cold    GET /api/v1/overview over two years, cache cleared
 *                    before each request (DELETE /api/v1/cache);
 *   overview_warm    the same request again and again (an L1 hit);
 *   cashflow_daily   GET /api/v1/cashflow by day over two years, cold;
 *   deep_pagination  GET /api/v1/payments?limit=100 following next_cursor
 *                    page after page: first pages and deep pages;
 *   concurrent       N keep-alive clients for S seconds over warm views.
 * Figures go to a targets_t (see targets.h); the runner (brisk validate)
 * builds the data, starts the servers and judges. */
#ifndef BRISK_VALIDATE_H
#define BRISK_VALIDATE_H

#include <stdio.h>

#include "monitor/targets.h"

typedef struct {
	const char *host;      /* default 127.0.0.1 */
	int port;              /* the server under test (rollups, cache on) */
	int naive_port;        /* the naive-mode server (cache off), 0 = none */
	const char *token;     /* an API token of the data's organisation */
	const char *from, *to; /* the two years, YYYY-MM-DD */
	int repeats;           /* samples per latency scenario (default 20) */
	int max_pages;         /* deep pagination: pages to walk at most (default 200) */
	double seconds;        /* the concurrent run (default 10) */
	int clients;           /* its connections (default 32) */
	FILE *log;             /* progress lines, or NULL */
} validate_http;

/* Runs the scenarios above, recording their figures in t. Returns 0, or -1
 * with a reason in err when a request fails (a status other than 200, a
 * broken connection): a functional failure, not a missed target. */
int validate_http_run(const validate_http *v, targets_t *t, char *err, size_t errlen);

#endif
