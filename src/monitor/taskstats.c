#include "monitor/taskstats.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "monitor/metrics.h"

#define MAX_SERIES 96

struct count {
	char kind[32], status[16];
	double n;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct count series[MAX_SERIES]; /* registered, with their last value */
static size_t nseries;

/* Reads (kind, status, count) rows into out; -1 when there is no task table. */
static int read_counts(store_t *s, struct count *out, size_t max)
{
	static const char *q = "SELECT kind, status, count(*) FROM tasks GROUP BY kind, status";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	int n = 0;
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW && (size_t)n < max) {
		snprintf(out[n].kind, sizeof out[n].kind, "%s", store_col_text(st, 0, NULL));
		snprintf(out[n].status, sizeof out[n].status, "%s", store_col_text(st, 1, NULL));
		out[n++].n = (double)store_col_i64(st, 2);
	}
	store_reset(st);
	store_read_end(c);
	return rc == STORE_ERROR ? -1 : n;
}

static double series_value(void *arg)
{
	size_t i = (size_t)(uintptr_t)arg;
	pthread_mutex_lock(&mu);
	double v = i < nseries ? series[i].n : 0;
	pthread_mutex_unlock(&mu);
	return v;
}

bool taskstats_refresh(store_t *s)
{
	struct count now[MAX_SERIES];
	int n = read_counts(s, now, MAX_SERIES);
	if (n < 0)
		return false;
	for (int k = 0; k < n; k++) {
		pthread_mutex_lock(&mu);
		size_t i;
		for (i = 0; i < nseries; i++)
			if (!strcmp(series[i].kind, now[k].kind) && !strcmp(series[i].status, now[k].status))
				break;
		bool fresh = i == nseries && nseries < MAX_SERIES;
		if (fresh)
			series[nseries++] = now[k];
		pthread_mutex_unlock(&mu);
		if (fresh) {
			/* Registered outside our lock: a scrape holds the registry's
			 * lock and then takes ours. */
			buf_t labels = BUF_INIT;
			metrics_label_append(&labels, "kind", now[k].kind, strlen(now[k].kind));
			metrics_label_append(&labels, "status", now[k].status, strlen(now[k].status));
			metrics_gauge_func("brisk_tasks", "Background tasks in the store by kind and status", labels.p,
					   series_value, (void *)(uintptr_t)i);
			buf_free(&labels);
		}
	}
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nseries; i++) {
		series[i].n = 0;
		for (int k = 0; k < n; k++)
			if (!strcmp(series[i].kind, now[k].kind) && !strcmp(series[i].status, now[k].status))
				series[i].n = now[k].n;
	}
	pthread_mutex_unlock(&mu);
	return true;
}

void taskstats_json(store_t *s, buf_t *out)
{
	struct count c[MAX_SERIES];
	int n = read_counts(s, c, MAX_SERIES);
	if (n < 0) {
		buf_puts(out, "null");
		return;
	}
	double pending = 0, running = 0;
	for (int k = 0; k < n; k++) {
		if (!strcmp(c[k].status, "pending"))
			pending += c[k].n;
		else if (!strcmp(c[k].status, "running"))
			running += c[k].n;
	}
	buf_printf(out, "{\"pending\":%.0f,\"running\":%.0f,\"by_kind\":{", pending, running);
	/* rows come grouped by kind */
	for (int k = 0; k < n; k++) {
		bool first_of_kind = !k || strcmp(c[k].kind, c[k - 1].kind);
		if (first_of_kind) {
			if (k)
				buf_puts(out, "},");
			buf_json_str(out, c[k].kind, strlen(c[k].kind));
			buf_putc(out, ':');
			buf_putc(out, '{');
		} else {
			buf_putc(out, ',');
		}
		buf_json_str(out, c[k].status, strlen(c[k].status));
		buf_printf(out, ":%.0f", c[k].n);
	}
	buf_puts(out, n ? "}}}" : "}}");
}

void taskstats_reset_for_tests(void)
{
	pthread_mutex_lock(&mu);
	nseries = 0;
	pthread_mutex_unlock(&mu);
}
