/* config: every setting of brisk serve in one plain struct, read once at
 * start from defaults, then an INI file, then BRISK_* environment
 * variables, then command-line flags (each overriding the one before).
 * Runtime code reads the struct, never strings. */
#ifndef BRISK_CONFIG_H
#define BRISK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_SETTINGS 160

typedef struct {
	/* [server] */
	char host[64];
	int port;
	int threads;          /* 0 = cores */
	int workers;          /* 0 = 2 x cores */
	int64_t max_body;     /* bytes */
	int max_connections;  /* open connections (0 = 4096) */
	int max_connections_per_address;
	int connection_reserve; /* extra connections that only serve health checks */
	char access_log[256]; /* "" = off, "-" = stderr */
	char tls_cert[512];   /* PEM chain: HTTPS + HTTP/2 by ALPN; "" = plain HTTP */
	char tls_key[512];
	int hsts_max_age;     /* seconds; 0 = no Strict-Transport-Security */
	/* [ratelimit] per principal and class: per minute and burst, 0 = off */
	int rl_views_pm, rl_views_burst, rl_lists_pm, rl_lists_burst, rl_writes_pm, rl_writes_burst;
	int rl_imports_pm, rl_imports_burst, rl_exports_pm, rl_exports_burst;
	int rl_bad_tokens_pm, rl_bad_tokens_burst; /* per peer address */
	int rl_signin_free_failures, rl_signin_max_backoff_s;
	/* [admission] */
	int adm_queue, adm_org_queue, adm_org_concurrency; /* 0 = defaults */
	int log_level;        /* 0 debug, 1 info, 2 warn, 3 error (log.h) */
	/* [store] */
	char data_dir[512];
	int read_conns;       /* 0 = 2 x cores */
	int64_t cache_mib;
	char store_url[512];  /* postgresql://...; "" = SQLite in data_dir */
	char store_read_url[2048]; /* read replicas: URLs separated by commas; "" = none */
	int pool_size;        /* PostgreSQL read connections (default 20) */
	int statement_timeout_ms; /* PostgreSQL statement_timeout (default 60000) */
	int write_wait_ms;        /* a request's wait for the store's writer (default 10000) */
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
	/* [notify] business alerts and their deliveries */
	int notify_tick_s;          /* timer evaluation (durations, days passing) */
	char smtp_url[256];         /* smtp://host:port; "" = no e-mail */
	char smtp_from[128];
	char smtp_user[128];
	char smtp_password[128];
	char operator_webhook[512]; /* performance alerts are posted here too */
	char operator_email[128];
	int notify_timeout_ms;      /* per delivery attempt */
	int notify_max_attempts;
	int notify_retry_s;         /* first backoff, doubled per attempt */
	/* Where each setting came from ("" = default, "FILE:LINE", "env VAR",
	 * "command line"), by table index; config_set records origin_now. */
	char origin[CONFIG_MAX_SETTINGS][96];
	char origin_now[96];
} config_t;

/* Fills c with defaults (port 8080, host 127.0.0.1, data ./brisk-data...). */
void config_defaults(config_t *c);
/* Reads an INI file over c. Returns false with "FILE:LINE: reason". */
bool config_load_file(config_t *c, const char *path, char *err, size_t errlen);
/* Reads an INI file over c and reports each error ("FILE:LINE: reason")
 * to on_err; keep_going goes on past the first. Returns the error count. */
typedef void (*config_error_fn)(void *ud, const char *msg);
int config_load_file_all(config_t *c, const char *path, bool keep_going, config_error_fn on_err, void *ud);
/* Applies the environment variables of the settings that have one
 * (BRISK_HOST, BRISK_PORT, BRISK_DATA, REDIS_URL...: config_describe's env). */
bool config_load_env(config_t *c, char *err, size_t errlen);
/* Sets one "section.key" (or bare key) from text; false with a reason (an
 * unknown key names the closest known one). */
bool config_set(config_t *c, const char *section, const char *key, const char *value, char *err, size_t errlen);

/* One setting as `brisk config check` shows it; strings point into static
 * tables or into c (valid while c is). value has secrets masked. */
typedef struct {
	const char *section, *key;
	const char *env;    /* its environment variable, or NULL */
	const char *origin; /* "default", "FILE:LINE", "env VAR", "command line" */
	bool reloadable;    /* SIGHUP applies it without a restart */
	char value[600];
} config_item;

/* The number of settings; config_describe fills setting i (false past the end). */
size_t config_count(void);
bool config_describe(const config_t *c, size_t i, config_item *out);
/* True when setting i differs between a and b. */
bool config_differs(const config_t *a, const config_t *b, size_t i);
/* Copies setting i (and its origin) from src to dst. */
void config_copy_setting(config_t *dst, const config_t *src, size_t i);

#endif
