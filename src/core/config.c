#include "core/config.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One row per setting: the parser, the listing of `brisk config check`,
 * the suggestions for a misspelt key and the reload all read this table,
 * so a new setting is one row. */
typedef enum { K_STR, K_INT, K_SIZE, K_BOOL, K_LEVEL } kind_t;

typedef struct {
	const char *section, *key;
	kind_t kind;
	size_t off, size;
	int64_t lo, hi;
	const char *env;  /* environment variable that sets it, or NULL */
	bool reloadable;  /* SIGHUP applies it to a running server */
} setting_t;

#define FIELD(f) offsetof(config_t, f), sizeof(((config_t *)0)->f)
#define STR(sec, key, f, env) {sec, key, K_STR, FIELD(f), 0, 0, env, false}
#define NUM(sec, key, f, lo, hi, env, rl) {sec, key, K_INT, FIELD(f), lo, hi, env, rl}
#define SIZE(sec, key, f, lo, hi, env, rl) {sec, key, K_SIZE, FIELD(f), lo, hi, env, rl}
#define BOOL(sec, key, f, env) {sec, key, K_BOOL, FIELD(f), 0, 0, env, false}

static const setting_t settings[] = {
	STR("server", "host", host, "BRISK_HOST"),
	NUM("server", "port", port, 0, 65535, "BRISK_PORT", false),
	NUM("server", "threads", threads, 0, 256, "BRISK_THREADS", false),
	NUM("server", "workers", workers, 0, 1024, "BRISK_WORKERS", false),
	SIZE("server", "max_body", max_body, 1024, (int64_t)16 << 30, NULL, false),
	NUM("server", "max_connections", max_connections, 1, 1000000, NULL, false),
	NUM("server", "max_connections_per_address", max_connections_per_address, 1, 1000000, NULL, false),
	NUM("server", "connection_reserve", connection_reserve, 1, 10000, NULL, false),
	{"server", "access_log", K_STR, FIELD(access_log), 0, 0, "BRISK_ACCESS_LOG", true},
	{"server", "log_level", K_LEVEL, FIELD(log_level), 0, 3, "BRISK_LOG", true},
	STR("server", "tls_cert", tls_cert, "BRISK_TLS_CERT"),
	STR("server", "tls_key", tls_key, "BRISK_TLS_KEY"),
	NUM("server", "hsts_max_age", hsts_max_age, 0, 63072000, NULL, false),
	NUM("ratelimit", "views_per_minute", rl_views_pm, 0, 100000000, NULL, false),
	NUM("ratelimit", "views_burst", rl_views_burst, 1, 1000000, NULL, false),
	NUM("ratelimit", "lists_per_minute", rl_lists_pm, 0, 100000000, NULL, false),
	NUM("ratelimit", "lists_burst", rl_lists_burst, 1, 1000000, NULL, false),
	NUM("ratelimit", "writes_per_minute", rl_writes_pm, 0, 100000000, NULL, false),
	NUM("ratelimit", "writes_burst", rl_writes_burst, 1, 1000000, NULL, false),
	NUM("ratelimit", "imports_per_minute", rl_imports_pm, 0, 100000000, NULL, false),
	NUM("ratelimit", "imports_burst", rl_imports_burst, 1, 1000000, NULL, false),
	NUM("ratelimit", "exports_per_minute", rl_exports_pm, 0, 100000000, NULL, false),
	NUM("ratelimit", "exports_burst", rl_exports_burst, 1, 1000000, NULL, false),
	NUM("ratelimit", "bad_tokens_per_minute", rl_bad_tokens_pm, 0, 100000000, NULL, false),
	NUM("ratelimit", "bad_tokens_burst", rl_bad_tokens_burst, 1, 1000000, NULL, false),
	NUM("ratelimit", "signin_free_failures", rl_signin_free_failures, 0, 1000, NULL, false),
	NUM("ratelimit", "signin_max_backoff_seconds", rl_signin_max_backoff_s, 1, 86400, NULL, false),
	NUM("admission", "queue", adm_queue, 1, 1000000, NULL, false),
	NUM("admission", "org_queue", adm_org_queue, 1, 1000000, NULL, false),
	NUM("admission", "org_concurrency", adm_org_concurrency, 0, 1024, NULL, false),
	STR("store", "data_dir", data_dir, "BRISK_DATA"),
	NUM("store", "read_conns", read_conns, 0, 256, NULL, false),
	NUM("store", "cache_mib", cache_mib, 1, 1 << 20, NULL, false),
	STR("store", "url", store_url, "DATABASE_URL"),
	STR("store", "read_url", store_read_url, "DATABASE_READ_URL"),
	NUM("store", "pool_size", pool_size, 1, 1000, NULL, false),
	NUM("store", "statement_timeout_ms", statement_timeout_ms, 1, 86400000, NULL, false),
	NUM("store", "write_wait_ms", write_wait_ms, 1, 3600000, NULL, false),
	BOOL("analytics", "naive", naive, "BRISK_NAIVE"),
	SIZE("cache", "memory_bytes", cache_bytes, 0, (int64_t)64 << 30, "BRISK_CACHE_BYTES", false),
	STR("cache", "redis_url", redis_url, "REDIS_URL"),
	BOOL("cache", "warm", cache_warm, NULL),
	NUM("cache", "ttl_seconds", cache_ttl_s, 1, 86400 * 30, NULL, false),
	NUM("cache", "redis_timeout_ms", redis_timeout_ms, 1, 60000, NULL, false),
	STR("cache", "disk_dir", cache_dir, "BRISK_CACHE_DIR"),
	SIZE("cache", "disk_bytes", cache_disk_bytes, 1 << 20, (int64_t)1 << 40, NULL, false),
	NUM("tasks", "workers", task_workers, 0, 256, NULL, false),
	NUM("tasks", "queue", task_queue, 1, 1000000, NULL, false),
	NUM("tasks", "timeout_import", task_timeout_import, 1, 86400, NULL, false),
	NUM("tasks", "timeout_match", task_timeout_match, 1, 86400, NULL, false),
	NUM("tasks", "timeout_export", task_timeout_export, 1, 86400, NULL, false),
	NUM("tasks", "timeout_report", task_timeout_report, 1, 86400, NULL, false),
	NUM("tasks", "timeout_refresh", task_timeout_refresh, 1, 86400, NULL, false),
	SIZE("tasks", "async_import_bytes", task_async_bytes, 0, (int64_t)16 << 30, NULL, false),
	BOOL("tasks", "redis_queue", task_redis, NULL),
	NUM("tasks", "lease_seconds", task_lease_s, 2, 3600, NULL, false),
	NUM("tasks", "sse_heartbeat_s", sse_heartbeat_s, 1, 3600, NULL, false),
	NUM("monitor", "slow_query_ms", slow_query_ms, 0, 3600000, "BRISK_SLOW_QUERY_MS", true),
	NUM("monitor", "interval_seconds", monitor_interval_s, 1, 3600, NULL, false),
	NUM("alerts", "dashboard_p95_warn_ms", alert_dash_p95_warn_ms, 1, 3600000, NULL, true),
	NUM("alerts", "dashboard_p95_critical_ms", alert_dash_p95_crit_ms, 1, 3600000, NULL, true),
	NUM("alerts", "api_p95_warn_ms", alert_api_p95_warn_ms, 1, 3600000, NULL, true),
	NUM("alerts", "api_p95_critical_ms", alert_api_p95_crit_ms, 1, 3600000, NULL, true),
	NUM("alerts", "latency_min_requests", alert_latency_min_requests, 1, 1000000000, NULL, true),
	NUM("alerts", "cache_hit_warn_percent", alert_cache_hit_warn_pct, 0, 100, NULL, true),
	NUM("alerts", "cache_hit_critical_percent", alert_cache_hit_crit_pct, 0, 100, NULL, true),
	NUM("alerts", "cache_min_requests", alert_cache_min_requests, 1, 1000000000, NULL, true),
	SIZE("alerts", "rss_warn_bytes", alert_rss_warn_bytes, 1 << 20, (int64_t)1 << 40, NULL, true),
	SIZE("alerts", "rss_critical_bytes", alert_rss_crit_bytes, 1 << 20, (int64_t)1 << 40, NULL, true),
	NUM("alerts", "cpu_warn_percent", alert_cpu_warn_pct, 1, 100, NULL, true),
	NUM("alerts", "cpu_critical_percent", alert_cpu_crit_pct, 1, 100, NULL, true),
	NUM("notify", "tick_seconds", notify_tick_s, 1, 86400, NULL, false),
	STR("notify", "smtp_url", smtp_url, "BRISK_SMTP_URL"),
	STR("notify", "smtp_from", smtp_from, NULL),
	STR("notify", "smtp_user", smtp_user, NULL),
	STR("notify", "smtp_password", smtp_password, "BRISK_SMTP_PASSWORD"),
	STR("notify", "operator_webhook", operator_webhook, NULL),
	STR("notify", "operator_email", operator_email, NULL),
	NUM("notify", "timeout_ms", notify_timeout_ms, 100, 600000, NULL, false),
	NUM("notify", "max_attempts", notify_max_attempts, 1, 100, NULL, false),
	NUM("notify", "retry_seconds", notify_retry_s, 1, 86400, NULL, false),
};
#define NSETTINGS (sizeof settings / sizeof settings[0])
_Static_assert(NSETTINGS <= CONFIG_MAX_SETTINGS, "raise CONFIG_MAX_SETTINGS");

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void config_defaults(config_t *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->host, sizeof c->host, "127.0.0.1");
	c->port = 8080;
	c->max_body = (int64_t)256 << 20;
	c->log_level = 1; /* info */
	c->max_connections = 4096;
	c->max_connections_per_address = 1024;
	c->connection_reserve = 32;
	c->hsts_max_age = 31536000;
	/* rate limits: they stop a runaway loop, not a busy script (a
	 * reconciliation check may explain thousands of payments in a row);
	 * admission control keeps tenants apart below them */
	c->rl_views_pm = 60000, c->rl_views_burst = 3000;
	c->rl_lists_pm = 60000, c->rl_lists_burst = 3000;
	c->rl_writes_pm = 30000, c->rl_writes_burst = 1500;
	c->rl_imports_pm = 6000, c->rl_imports_burst = 300;
	c->rl_exports_pm = 6000, c->rl_exports_burst = 300;
	c->rl_bad_tokens_pm = 1200, c->rl_bad_tokens_burst = 300;
	c->rl_signin_free_failures = 5, c->rl_signin_max_backoff_s = 300;
	c->adm_queue = 1024;
	c->adm_org_queue = 256; /* above the 64 busy connections one org is sized for (issue 17) */
	snprintf(c->data_dir, sizeof c->data_dir, "./brisk-data");
	c->cache_mib = 64;
	c->pool_size = 20;
	c->statement_timeout_ms = 60000;
	c->write_wait_ms = 10000;
	c->cache_bytes = (int64_t)64 << 20;
	c->cache_ttl_s = 600;
	c->cache_warm = true;
	c->redis_timeout_ms = 50;
	c->cache_disk_bytes = (int64_t)256 << 20;
	c->task_queue = 10000;
	c->task_timeout_import = 600;
	c->task_timeout_match = 900;
	c->task_timeout_export = 300;
	c->task_timeout_report = 300;
	c->notify_tick_s = 60;
	snprintf(c->smtp_from, sizeof c->smtp_from, "brisk@localhost");
	c->notify_timeout_ms = 10000;
	c->notify_max_attempts = 8;
	c->notify_retry_s = 5;
	c->task_timeout_refresh = 120;
	c->task_async_bytes = (int64_t)1 << 20;
	c->task_redis = true;
	c->task_lease_s = 15;
	c->sse_heartbeat_s = 15;
	c->slow_query_ms = 100;
	c->monitor_interval_s = 5;
	c->alert_dash_p95_warn_ms = 400;
	c->alert_dash_p95_crit_ms = 600;
	c->alert_api_p95_warn_ms = 200;
	c->alert_api_p95_crit_ms = 500;
	c->alert_latency_min_requests = 20;
	c->alert_cache_hit_warn_pct = 70;
	c->alert_cache_hit_crit_pct = 50;
	c->alert_cache_min_requests = 100;
	c->alert_rss_warn_bytes = (int64_t)512 << 20;
	c->alert_rss_crit_bytes = (int64_t)1 << 30;
	c->alert_cpu_warn_pct = 80;
	c->alert_cpu_crit_pct = 95;
	snprintf(c->origin_now, sizeof c->origin_now, "command line");
}

static bool parse_int_unit(const char *v, int64_t lo, int64_t hi, int64_t *out, bool sized)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	/* sizes may carry a unit; an overflowing product is out of range */
	if (end != v && *end) {
		long long mul = 0;
		if (!strcasecmp(end, "k") || !strcasecmp(end, "kb") || !strcasecmp(end, "kib"))
			mul = 1024;
		else if (!strcasecmp(end, "m") || !strcasecmp(end, "mb") || !strcasecmp(end, "mib"))
			mul = 1024 * 1024;
		else if (!strcasecmp(end, "g") || !strcasecmp(end, "gb") || !strcasecmp(end, "gib"))
			mul = 1024LL * 1024 * 1024;
		if (mul) {
			if (!sized || __builtin_mul_overflow(n, mul, &n))
				return false;
			end += strlen(end);
		}
	}
	if (errno || end == v || *end || n < lo || n > hi)
		return false;
	*out = n;
	return true;
}

static bool parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "on"))
		*out = true;
	else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0") || !strcasecmp(v, "off"))
		*out = false;
	else
		return false;
	return true;
}

/* Stores text v into setting s of c; false when v is not a valid value. */
static bool store_value(config_t *c, const setting_t *s, const char *v)
{
	char *p = (char *)c + s->off;
	int64_t n = 0;
	bool b;
	switch (s->kind) {
	case K_STR:
		if (strlen(v) >= s->size)
			return false;
		memcpy(p, v, strlen(v) + 1);
		return true;
	case K_BOOL:
		if (!parse_bool(v, &b))
			return false;
		*(bool *)p = b;
		return true;
	case K_LEVEL:
		for (n = 0; n < 4 && strcasecmp(v, level_names[n]); n++)
			;
		if (n == 4)
			return false;
		break;
	case K_INT:
	case K_SIZE:
		if (!parse_int_unit(v, s->lo, s->hi, &n, s->kind == K_SIZE))
			return false;
		break;
	}
	if (s->size == sizeof(int))
		*(int *)p = (int)n;
	else
		*(int64_t *)p = n;
	return true;
}

/* Levenshtein distance, for "did you mean"; long names are not compared. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[96];
	if (lb >= sizeof row / sizeof row[0] || la >= 96)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = (a[i - 1] | 32) == (b[j - 1] | 32) ? 0 : 1;
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The known "section.key" closest to what was written (NULL: none close). */
static const char *suggest(const char *section, const char *key, char *buf, size_t n)
{
	char typed[160];
	snprintf(typed, sizeof typed, "%s%s%s", section, *section ? "." : "", key);
	size_t best = (size_t)-1;
	const setting_t *hit = NULL;
	for (size_t i = 0; i < NSETTINGS; i++) {
		char full[160];
		snprintf(full, sizeof full, "%s.%s", settings[i].section, settings[i].key);
		size_t d = edit_distance(typed, full);
		/* a key right but in the wrong section, or a bare key */
		size_t dk = edit_distance(key, settings[i].key) + (*section && strcasecmp(section, settings[i].section) ? 1 : 0);
		if (dk < d)
			d = dk;
		if (d < best)
			best = d, hit = &settings[i];
	}
	size_t limit = strlen(key) < 6 ? 2 : 3;
	if (!hit || best > limit)
		return NULL;
	snprintf(buf, n, "%s.%s", hit->section, hit->key);
	return buf;
}

static const setting_t *find(const char *section, const char *key)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if ((!*section || !strcasecmp(section, settings[i].section)) && !strcasecmp(key, settings[i].key))
			return &settings[i];
	return NULL;
}

bool config_set(config_t *c, const char *section, const char *key, const char *v, char *err, size_t errlen)
{
	const char *sec = section ? section : "";
	const setting_t *s = find(sec, key);
	if (!s) {
		char hint[160];
		const char *h = suggest(sec, key, hint, sizeof hint);
		snprintf(err, errlen, "unknown setting '%s%s%s'%s%s%s", sec, *sec ? "." : "", key, h ? " (did you mean " : "",
		         h ? h : "", h ? "?)" : "");
		return false;
	}
	if (!store_value(c, s, v)) {
		snprintf(err, errlen, "bad value '%s' for %s%s%s", v, sec, *sec ? "." : "", key);
		return false;
	}
	snprintf(c->origin[s - settings], sizeof c->origin[0], "%s", c->origin_now);
	return true;
}

typedef struct {
	config_t *c;
	FILE *f;
	const char *path;
	int line;          /* lines read so far: the line being parsed */
	config_error_fn on_err;
	void *ud;
	int errors;
	int failed_line;   /* the first setting refused, 0 if none */
	bool keep_going;
	bool in_value;     /* the last line set a value (continuations follow) */
} ini_ctx;

static void report(ini_ctx *x, int line, const char *why)
{
	char msg[900];
	snprintf(msg, sizeof msg, "%s:%d: %s", x->path, line, why);
	x->errors++;
	x->on_err(x->ud, msg);
}

#define SYNTAX "syntax error (expected [section] or key = value)"

/* inih reads through this so every setting knows its own line. inih
 * returns only its first syntax error, so to report every bad line the
 * lines are judged here too, as inih does: blank, comment, [section],
 * key = value, or an indented continuation of the value above. */
static char *read_line(char *str, int num, void *stream)
{
	ini_ctx *x = stream;
	char *r = fgets(str, num, x->f);
	if (!r)
		return r;
	x->line++;
	if (x->keep_going) {
		const char *p = r + strspn(r, " \t\r\n");
		bool indented = p != r && *p;
		if (*p && *p != ';' && *p != '#' && !(indented && x->in_value)) {
			bool ok = *p == '[' ? strchr(p, ']') != NULL : strcspn(p, "=:") < strlen(p);
			if (!ok)
				report(x, x->line, SYNTAX);
			x->in_value = ok && *p != '[';
		}
	}
	return r;
}

static int on_ini(void *ud, const char *section, const char *name, const char *value)
{
	ini_ctx *x = ud;
	if (x->failed_line && !x->keep_going)
		return 0;
	snprintf(x->c->origin_now, sizeof x->c->origin_now, "%s:%d", x->path, x->line);
	char why[600];
	if (!config_set(x->c, section, name, value, why, sizeof why)) {
		if (!x->failed_line)
			x->failed_line = x->line;
		report(x, x->line, why);
		return 0;
	}
	return 1;
}

int config_load_file_all(config_t *c, const char *path, bool keep_going, config_error_fn on_err, void *ud)
{
	ini_ctx x = {.c = c, .path = path, .on_err = on_err, .ud = ud, .keep_going = keep_going};
	if (!(x.f = fopen(path, "r"))) {
		char why[300];
		snprintf(why, sizeof why, "%s: cannot read: %s", path, strerror(errno));
		on_err(ud, why);
		return 1;
	}
	char saved[sizeof c->origin_now];
	memcpy(saved, c->origin_now, sizeof saved);
	int rc = ini_parse_stream(read_line, &x, on_ini, &x);
	fclose(x.f);
	memcpy(c->origin_now, saved, sizeof saved);
	/* inih returns the first bad line whatever its kind: one no setting
	 * claimed is a syntax error (reported first when it comes first). */
	if (rc > 0 && rc != x.failed_line && !keep_going) {
		x.errors = 0;
		report(&x, rc, SYNTAX);
	} else if (rc < 0) {
		report(&x, 0, "cannot parse (out of memory)");
	}
	return x.errors;
}

typedef struct {
	char *err;
	size_t errlen;
	bool set;
} first_err;

static void keep_last(void *ud, const char *msg)
{
	first_err *f = ud;
	snprintf(f->err, f->errlen, "%s", msg);
	f->set = true;
}

bool config_load_file(config_t *c, const char *path, char *err, size_t errlen)
{
	first_err f = {err, errlen, false};
	/* Without keep_going only the first error is reported, but a syntax
	 * error found before it is reported after it: the last one wins. */
	return config_load_file_all(c, path, false, keep_last, &f) == 0;
}

bool config_load_env(config_t *c, char *err, size_t errlen)
{
	char saved[sizeof c->origin_now];
	memcpy(saved, c->origin_now, sizeof saved);
	bool ok = true;
	/* every variable is applied, so a check sees the rest; the first
	 * error is the one reported */
	for (size_t i = 0; i < NSETTINGS; i++) {
		const char *v = settings[i].env ? getenv(settings[i].env) : NULL;
		if (!v || !*v)
			continue;
		snprintf(c->origin_now, sizeof c->origin_now, "env %s", settings[i].env);
		char why[600];
		if (!config_set(c, settings[i].section, settings[i].key, v, why, sizeof why) && ok) {
			snprintf(err, errlen, "%s (from %s)", why, settings[i].env);
			ok = false;
		}
	}
	memcpy(c->origin_now, saved, sizeof saved);
	return ok;
}

size_t config_count(void)
{
	return NSETTINGS;
}

/* Hides every "password=SECRET" (a URL's query, a libpq conninfo string)
 * up to the next '&', ' ' or ';'. */
static void mask_password_params(char *v, size_t n)
{
	for (char *p = strcasestr(v, "password="); p; p = strcasestr(p, "password=")) {
		p += strlen("password=");
		size_t len = strcspn(p, "& ;");
		if (!len)
			continue;
		char rest[600];
		snprintf(rest, sizeof rest, "%s", p + len);
		snprintf(p, n - (size_t)(p - v), "***%s", rest);
	}
}

/* Hides a URL's password (scheme://user:SECRET@host) in place. */
static void mask_url(char *v, size_t n)
{
	mask_password_params(v, n);
	char *scheme = strstr(v, "://");
	if (!scheme)
		return;
	char *auth = scheme + 3, *at = strchr(auth, '@');
	char *slash = strchr(auth, '/');
	if (!at || (slash && slash < at))
		return;
	char *colon = memchr(auth, ':', (size_t)(at - auth));
	char *from = colon ? colon + 1 : auth; /* redis://SECRET@host is a password too */
	if (from == at)
		return;
	char rest[600];
	snprintf(rest, sizeof rest, "%s", at);
	snprintf(from, n - (size_t)(from - v), "***%s", rest);
}

/* mask_url on each of a list of URLs separated by commas or spaces. */
static void mask_urls(char *v, size_t n)
{
	char out[2200] = "", one[2200];
	size_t used = 0;
	for (const char *p = v; *p && used < sizeof out;) {
		size_t sep = strspn(p, ", \t"), len = strcspn(p + sep, ", \t");
		snprintf(one, sizeof one, "%.*s", (int)len, p + sep);
		mask_url(one, sizeof one);
		used += (size_t)snprintf(out + used, sizeof out - used, "%.*s%s", (int)sep, p, one);
		p += sep + len;
	}
	snprintf(v, n, "%s", out);
}

static bool secret_name(const char *key)
{
	static const char *const words[] = {"password", "secret", "token", "passwd", "_key"};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasestr(key, words[i]))
			return true;
	return false;
}

bool config_describe(const config_t *c, size_t i, config_item *out)
{
	if (i >= NSETTINGS)
		return false;
	const setting_t *s = &settings[i];
	const char *p = (const char *)c + s->off;
	memset(out, 0, sizeof *out);
	out->section = s->section;
	out->key = s->key;
	out->env = s->env;
	out->reloadable = s->reloadable;
	out->origin = c->origin[i][0] ? c->origin[i] : "default";
	switch (s->kind) {
	case K_STR:
		snprintf(out->value, sizeof out->value, "%s", p);
		if (secret_name(s->key) && *p)
			snprintf(out->value, sizeof out->value, "***");
		else
			mask_urls(out->value, sizeof out->value);
		break;
	case K_BOOL:
		snprintf(out->value, sizeof out->value, "%s", *(const bool *)p ? "true" : "false");
		break;
	case K_LEVEL:
		snprintf(out->value, sizeof out->value, "%s", level_names[*(const int *)p & 3]);
		break;
	case K_INT:
	case K_SIZE:
		snprintf(out->value, sizeof out->value, "%lld",
		         (long long)(s->size == sizeof(int) ? *(const int *)p : *(const int64_t *)p));
		break;
	}
	return true;
}

bool config_differs(const config_t *a, const config_t *b, size_t i)
{
	if (i >= NSETTINGS)
		return false;
	const setting_t *s = &settings[i];
	const char *pa = (const char *)a + s->off, *pb = (const char *)b + s->off;
	return s->kind == K_STR ? strcmp(pa, pb) != 0 : memcmp(pa, pb, s->size) != 0;
}

void config_copy_setting(config_t *dst, const config_t *src, size_t i)
{
	if (i >= NSETTINGS)
		return;
	memcpy((char *)dst + settings[i].off, (const char *)src + settings[i].off, settings[i].size);
	memcpy(dst->origin[i], src->origin[i], sizeof dst->origin[i]);
}
