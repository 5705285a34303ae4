/* config: every setting of brisk serve in one plain struct, read once at
 * start from defaults, then an INI file, then BRISK_* environment
 * variables, then command-line flags (each overriding the one before).
 * Runtime code reads the struct, never strings. */
#ifndef BRISK_CONFIG_H
#define BRISK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	/* [server] */
	char host[64];
	int port;
	int threads;          /* 0 = cores */
	int workers;          /* 0 = 2 x cores */
	int64_t max_body;     /* bytes */
	char access_log[256]; /* "" = off, "-" = stderr */
	/* [store] */
	char data_dir[512];
	int read_conns;       /* 0 = 2 x cores */
	int64_t cache_mib;
	/* [analytics] */
	bool naive;
	/* [cache] */
	int64_t cache_bytes;  /* L1 size; 0 = off */
	int64_t cache_ttl_s;  /* lifetime bound of an entry, every tier */
	bool cache_warm;      /* recompute popular views after writes */
	char redis_url[256];  /* L2; "" = off */
	int redis_timeout_ms;
	char cache_dir[512];  /* L3; "" = off */
	int64_t cache_disk_bytes;
	/* [tasks] */
	int task_workers;         /* background task threads; 0 = cores */
	int task_queue;           /* queued tasks at most (submissions beyond fail) */
	int task_timeout_import;  /* seconds per kind */
	int task_timeout_match;
	int task_timeout_export;
	int task_timeout_report;
	int task_timeout_refresh;
	int64_t task_async_bytes; /* an import body larger than this runs as a task */
	bool task_redis;          /* queue in Redis when redis_url is set */
	int task_lease_s;         /* Redis: a dead worker's task is handed on after this */
	int sse_heartbeat_s;      /* ": ping" on idle event streams */
	/* [monitor] */
	int64_t slow_query_ms;       /* statements slower are logged and kept; 0 = off */
	int64_t monitor_interval_s;  /* sampling and alert evaluation period */
	/* [alerts] thresholds */
	int64_t alert_dash_p95_warn_ms, alert_dash_p95_crit_ms; /* dashboard views */
	int64_t alert_api_p95_warn_ms, alert_api_p95_crit_ms;   /* other API routes */
	int64_t alert_latency_min_requests;  /* per route per minute before judging */
	int64_t alert_cache_hit_warn_pct, alert_cache_hit_crit_pct; /* below these */
	int64_t alert_cache_min_requests;    /* lookups in 5 minutes before judging */
	int64_t alert_rss_warn_bytes, alert_rss_crit_bytes;
	int64_t alert_cpu_warn_pct, alert_cpu_crit_pct; /* of all cores over a minute */
} config_t;

/* Fills c with defaults (port 8080, host 127.0.0.1, data ./brisk-data...). */
void config_defaults(config_t *c);
/* Reads an INI file over c. Returns false with "FILE:LINE: reason". */
bool config_load_file(config_t *c, const char *path, char *err, size_t errlen);
/* Applies BRISK_HOST, BRISK_PORT, BRISK_THREADS, BRISK_WORKERS, BRISK_DATA,
 * BRISK_ACCESS_LOG, BRISK_NAIVE, BRISK_CACHE_BYTES, REDIS_URL, BRISK_CACHE_DIR,
 * BRISK_SLOW_QUERY_MS. */
bool config_load_env(config_t *c, char *err, size_t errlen);
/* Sets one "section.key" (or bare key) from text; false with a reason. */
bool config_set(config_t *c, const char *section, const char *key, const char *value, char *err, size_t errlen);

#endif
