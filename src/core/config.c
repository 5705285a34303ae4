#include "core/config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void config_defaults(config_t *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->host, sizeof c->host, "127.0.0.1");
	c->port = 8080;
	c->max_body = (int64_t)256 << 20;
	snprintf(c->data_dir, sizeof c->data_dir, "./brisk-data");
	c->cache_mib = 64;
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

static bool parse_int(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	return parse_int_unit(v, lo, hi, out, false);
}

static bool parse_size(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	return parse_int_unit(v, lo, hi, out, true);
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

static bool set_str(char *dst, size_t n, const char *v)
{
	if (strlen(v) >= n)
		return false;
	memcpy(dst, v, strlen(v) + 1);
	return true;
}

bool config_set(config_t *c, const char *section, const char *key, const char *v, char *err, size_t errlen)
{
	int64_t n;
	bool ok = true;
	const char *s = section ? section : "";
#define IS(sec, k) ((!*s || !strcasecmp(s, sec)) && !strcasecmp(key, k))
	if (IS("server", "host"))
		ok = set_str(c->host, sizeof c->host, v);
	else if (IS("server", "port"))
		ok = parse_int(v, 0, 65535, &n) && (c->port = (int)n, true);
	else if (IS("server", "threads"))
		ok = parse_int(v, 0, 256, &n) && (c->threads = (int)n, true);
	else if (IS("server", "workers"))
		ok = parse_int(v, 0, 1024, &n) && (c->workers = (int)n, true);
	else if (IS("server", "max_body"))
		ok = parse_size(v, 1024, (int64_t)16 << 30, &c->max_body);
	else if (IS("server", "access_log"))
		ok = set_str(c->access_log, sizeof c->access_log, v);
	else if (IS("store", "data_dir"))
		ok = set_str(c->data_dir, sizeof c->data_dir, v);
	else if (IS("store", "read_conns"))
		ok = parse_int(v, 0, 256, &n) && (c->read_conns = (int)n, true);
	else if (IS("store", "cache_mib"))
		ok = parse_int(v, 1, 1 << 20, &c->cache_mib);
	else if (IS("analytics", "naive"))
		ok = parse_bool(v, &c->naive);
	else if (IS("cache", "memory_bytes"))
		ok = parse_size(v, 0, (int64_t)64 << 30, &c->cache_bytes);
	else if (IS("cache", "redis_url"))
		ok = set_str(c->redis_url, sizeof c->redis_url, v);
	else if (IS("cache", "warm"))
		ok = parse_bool(v, &c->cache_warm);
	else if (IS("cache", "ttl_seconds"))
		ok = parse_int(v, 1, 86400 * 30, &c->cache_ttl_s);
	else if (IS("cache", "redis_timeout_ms"))
		ok = parse_int(v, 1, 60000, &n) && (c->redis_timeout_ms = (int)n, true);
	else if (IS("cache", "disk_dir"))
		ok = set_str(c->cache_dir, sizeof c->cache_dir, v);
	else if (IS("cache", "disk_bytes"))
		ok = parse_size(v, 1 << 20, (int64_t)1 << 40, &c->cache_disk_bytes);
	else if (IS("tasks", "workers"))
		ok = parse_int(v, 0, 256, &n) && (c->task_workers = (int)n, true);
	else if (IS("tasks", "queue"))
		ok = parse_int(v, 1, 1000000, &n) && (c->task_queue = (int)n, true);
	else if (IS("tasks", "timeout_import"))
		ok = parse_int(v, 1, 86400, &n) && (c->task_timeout_import = (int)n, true);
	else if (IS("tasks", "timeout_match"))
		ok = parse_int(v, 1, 86400, &n) && (c->task_timeout_match = (int)n, true);
	else if (IS("tasks", "timeout_export"))
		ok = parse_int(v, 1, 86400, &n) && (c->task_timeout_export = (int)n, true);
	else if (IS("tasks", "timeout_report"))
		ok = parse_int(v, 1, 86400, &n) && (c->task_timeout_report = (int)n, true);
	else if (IS("tasks", "timeout_refresh"))
		ok = parse_int(v, 1, 86400, &n) && (c->task_timeout_refresh = (int)n, true);
	else if (IS("tasks", "async_import_bytes"))
		ok = parse_size(v, 0, (int64_t)16 << 30, &c->task_async_bytes);
	else if (IS("tasks", "redis_queue"))
		ok = parse_bool(v, &c->task_redis);
	else if (IS("tasks", "lease_seconds"))
		ok = parse_int(v, 2, 3600, &n) && (c->task_lease_s = (int)n, true);
	else if (IS("tasks", "sse_heartbeat_s"))
		ok = parse_int(v, 1, 3600, &n) && (c->sse_heartbeat_s = (int)n, true);
	else if (IS("monitor", "slow_query_ms"))
		ok = parse_int(v, 0, 3600000, &c->slow_query_ms);
	else if (IS("monitor", "interval_seconds"))
		ok = parse_int(v, 1, 3600, &c->monitor_interval_s);
	else if (IS("alerts", "dashboard_p95_warn_ms"))
		ok = parse_int(v, 1, 3600000, &c->alert_dash_p95_warn_ms);
	else if (IS("alerts", "dashboard_p95_critical_ms"))
		ok = parse_int(v, 1, 3600000, &c->alert_dash_p95_crit_ms);
	else if (IS("alerts", "api_p95_warn_ms"))
		ok = parse_int(v, 1, 3600000, &c->alert_api_p95_warn_ms);
	else if (IS("alerts", "api_p95_critical_ms"))
		ok = parse_int(v, 1, 3600000, &c->alert_api_p95_crit_ms);
	else if (IS("alerts", "latency_min_requests"))
		ok = parse_int(v, 1, 1000000000, &c->alert_latency_min_requests);
	else if (IS("alerts", "cache_hit_warn_percent"))
		ok = parse_int(v, 0, 100, &c->alert_cache_hit_warn_pct);
	else if (IS("alerts", "cache_hit_critical_percent"))
		ok = parse_int(v, 0, 100, &c->alert_cache_hit_crit_pct);
	else if (IS("alerts", "cache_min_requests"))
		ok = parse_int(v, 1, 1000000000, &c->alert_cache_min_requests);
	else if (IS("alerts", "rss_warn_bytes"))
		ok = parse_size(v, 1 << 20, (int64_t)1 << 40, &c->alert_rss_warn_bytes);
	else if (IS("alerts", "rss_critical_bytes"))
		ok = parse_size(v, 1 << 20, (int64_t)1 << 40, &c->alert_rss_crit_bytes);
	else if (IS("alerts", "cpu_warn_percent"))
		ok = parse_int(v, 1, 100, &c->alert_cpu_warn_pct);
	else if (IS("alerts", "cpu_critical_percent"))
		ok = parse_int(v, 1, 100, &c->alert_cpu_crit_pct);
	else {
		snprintf(err, errlen, "unknown setting '%s%s%s'", s, *s ? "." : "", key);
		return false;
	}
#undef IS
	if (!ok)
		snprintf(err, errlen, "bad value '%s' for %s%s%s", v, s, *s ? "." : "", key);
	return ok;
}

typedef struct {
	config_t *c;
	char *err;
	size_t errlen;
	bool failed;
	char section[64], key[64]; /* the setting that failed */
} ini_ctx;

static int on_ini(void *ud, const char *section, const char *name, const char *value)
{
	ini_ctx *x = ud;
	if (x->failed)
		return 0;
	if (!config_set(x->c, section, name, value, x->err, x->errlen)) {
		x->failed = true;
		snprintf(x->section, sizeof x->section, "%s", section);
		snprintf(x->key, sizeof x->key, "%s", name);
		return 0;
	}
	return 1;
}

/* True when line `want` of the file sets key inside [section]. */
static bool line_sets(const char *path, int want, const char *section, const char *key)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[1024], cur[64] = "";
	int n = 0;
	bool found = false;
	while (n < want && fgets(line, sizeof line, f)) {
		n++;
		char *p = line + strspn(line, " \t");
		if (*p == '[') {
			char *e = strchr(p, ']');
			if (e)
				snprintf(cur, sizeof cur, "%.*s", (int)(e - p - 1), p + 1);
			continue;
		}
		size_t kl = strcspn(p, "=:");
		while (kl && (p[kl - 1] == ' ' || p[kl - 1] == '\t'))
			kl--;
		if (n == want)
			found = !strcmp(cur, section) && kl == strlen(key) && !strncmp(p, key, kl);
	}
	fclose(f);
	return found;
}

bool config_load_file(config_t *c, const char *path, char *err, size_t errlen)
{
	char why[256] = "";
	ini_ctx x = {.c = c, .err = why, .errlen = sizeof why};
	int rc = ini_parse(path, on_ini, &x);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return false;
	}
	if (rc > 0) {
		/* inih reports the first bad line but not which kind of error it
		 * was: a setting we refused names its own line. */
		if (x.failed && line_sets(path, rc, x.section, x.key))
			snprintf(err, errlen, "%s:%d: %s", path, rc, why);
		else
			snprintf(err, errlen, "%s:%d: syntax error (expected [section] or key = value)", path, rc);
		return false;
	}
	return true;
}

bool config_load_env(config_t *c, char *err, size_t errlen)
{
	static const struct {
		const char *env, *section, *key;
	} map[] = {{"BRISK_HOST", "server", "host"},         {"BRISK_PORT", "server", "port"},
	           {"BRISK_THREADS", "server", "threads"},   {"BRISK_WORKERS", "server", "workers"},
	           {"BRISK_ACCESS_LOG", "server", "access_log"}, {"BRISK_DATA", "store", "data_dir"},
	           {"BRISK_NAIVE", "analytics", "naive"},   {"BRISK_CACHE_BYTES", "cache", "memory_bytes"},
	           {"REDIS_URL", "cache", "redis_url"},     {"BRISK_CACHE_DIR", "cache", "disk_dir"},
	           {"BRISK_SLOW_QUERY_MS", "monitor", "slow_query_ms"}};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		const char *v = getenv(map[i].env);
		if (v && *v && !config_set(c, map[i].section, map[i].key, v, err, errlen)) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, " (from %s)", map[i].env);
			return false;
		}
	}
	return true;
}
