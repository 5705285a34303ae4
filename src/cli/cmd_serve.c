/* brisk serve: configuration, store, HTTP server; nothing else. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/serve.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "http/api.h"
#include "http/app.h"
#include "http/peer.h"
#include "http/ratelimit.h"
#include "http/warm.h"
#include "monitor/monitor.h"
#include "monitor/process.h"
#include "notify/notify.h"
#include "store/searchidx.h"
#include "tasks/events.h"
#include "tasks/tasks.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk serve [options]\n"
	           "\n"
	           "Serves the dashboards and the HTTP/JSON API. Settings come from defaults,\n"
	           "then --config FILE (INI), then BRISK_* environment variables, then flags.\n"
	           "\n"
	           "options:\n"
	           "  --config FILE       INI file of settings (every one: docs/operations.md)\n"
	           "  --data DIR          data directory (default $BRISK_DATA or ./brisk-data)\n"
	           "  --host ADDR         listen address (default 127.0.0.1; 0.0.0.0 for all IPv4,\n"
	           "                      ::1 or :: for IPv6: :: takes IPv4 clients too)\n"
	           "  --port N            listen port (default 8080; 0 = any free port)\n"
	           "  --threads N         event loops (default: cores)\n"
	           "  --workers N         compute threads (default: 2 x cores)\n"
	           "  --access-log FILE   one line per request (- = stderr; default off)\n"
	           "  --naive             compute views from base tables, not rollups (reference mode)\n"
	           "  --set SECTION.KEY=VALUE   any setting of the config file\n"
	           "\n"
	           "signals:\n"
	           "  SIGTERM, SIGINT     stop: requests in flight finish, then the store is closed\n"
	           "  SIGHUP              reload: read the settings again and apply server.log_level,\n"
	           "                      monitor.slow_query_ms and [alerts]; reopen the access log\n"
	           "\n"
	           "'brisk config check' shows the settings a start would use and where each\n"
	           "comes from.\n");
}

static void on_store_change(void *ud, int64_t org, unsigned mask)
{
	app_t *app = ud;
	rcache_publish_change(app->cache, org, mask);
	warm_org(app->warm, org);
	events_publish_data(app->events, org, mask);
	notify_changed(app->notify, org, mask);
}

/* Performance alerts of the monitor go to the operator's channels too. */
static void on_monitor_alert(void *ud, const char *json, bool firing)
{
	app_t *app = ud;
	notify_operator(app->notify, firing ? "[brisk] performance alert firing" : "[brisk] performance alert resolved",
	                json);
}

static notify_t *start_notify(const config_t *cfg, app_t *app)
{
	notify_opts no = {
		.tick_ms = cfg->notify_tick_s * 1000,
		.out = {.smtp_url = cfg->smtp_url, .smtp_from = cfg->smtp_from, .smtp_user = cfg->smtp_user,
		        .smtp_password = cfg->smtp_password, .timeout_ms = cfg->notify_timeout_ms,
		        .max_attempts = cfg->notify_max_attempts, .retry_base_ms = cfg->notify_retry_s * 1000},
		.operator_webhook = cfg->operator_webhook,
		.operator_email = cfg->operator_email,
	};
	notify_t *n = notify_new(app->store, app->events, &no);
	notify_start(n);
	monitor_on_alert(on_monitor_alert, app);
	return n;
}

/* The refresh task's work: warm the org's cache now. */
static void refresh_org(void *ud, int64_t org)
{
	app_t *app = ud;
	warm_org(app->warm, org);
}

static tasks_t *start_tasks(const config_t *cfg, app_t *app, char *err, size_t errlen)
{
	tasks_opts to = {
		.data_dir = cfg->data_dir,
		.workers = cfg->task_workers,
		.queue_cap = cfg->task_queue,
		.timeout_import = cfg->task_timeout_import,
		.timeout_match = cfg->task_timeout_match,
		.timeout_export = cfg->task_timeout_export,
		.timeout_report = cfg->task_timeout_report,
		.timeout_refresh = cfg->task_timeout_refresh,
		.import_async_bytes = cfg->task_async_bytes,
		.redis_url = cfg->task_redis ? cfg->redis_url : NULL,
		.lease_ms = cfg->task_lease_s * 1000,
		.events = app->events,
		.refresh = app->warm ? refresh_org : NULL,
		.refresh_ud = app,
	};
	tasks_t *t = tasks_new(app->store, &to, err, errlen);
	if (t)
		tasks_start(t);
	return t;
}

/* The response cache's shared tier without Redis: the store's (PostgreSQL). */
static void *shared_get(void *ud, const void *key, size_t klen, size_t *n)
{
	return store_shared_get(ud, key, klen, n);
}

static void shared_put(void *ud, const void *key, size_t klen, const void *v, size_t n, uint64_t ttl_ms)
{
	store_shared_put(ud, key, klen, v, n, ttl_ms);
}

static int shared_lock(void *ud, uint64_t hash)
{
	return store_lock_try(ud, STORE_LOCK_CACHE, (int64_t)hash);
}

static void shared_unlock(void *ud, uint64_t hash)
{
	store_lock_release(ud, STORE_LOCK_CACHE, (int64_t)hash);
}

static void on_peer_change(void *ud, int64_t org, unsigned mask)
{
	app_t *app = ud;
	/* A peer committed: its versions are in the shared store; re-read them
	 * and warm what this instance serves. */
	store_refresh_versions(app->store);
	warm_org(app->warm, org);
	events_publish_data(app->events, org, mask);
}

/* SIGHUP: a thread waits for it (blocked in every other thread), reads the
 * settings again and applies those that can change at run time. */
typedef struct {
	pthread_t tid;
	atomic_bool stop;
	config_t cur; /* what runs: reloadable settings as last applied */
	serve_reload_fn fn;
	void *ud;
	http_server_t *srv;
	app_t *app;
} reloader_t;

static void reload_now(reloader_t *rl)
{
	char err[512];
	log_info("reload: SIGHUP received");
	if (!http_server_reopen_access_log(rl->srv, err, sizeof err))
		log_error("reload: %s", err);
	if (!rl->fn) {
		log_info("reload: no configuration to read again (access log reopened)");
		return;
	}
	config_t *next = xmalloc(sizeof *next);
	if (!rl->fn(next, err, sizeof err, rl->ud)) {
		log_error("reload: %s; the running settings stay", err);
		free(next);
		return;
	}
	int applied = 0, restart = 0;
	config_item now, was;
	for (size_t i = 0; config_describe(next, i, &now); i++) {
		if (!config_differs(&rl->cur, next, i))
			continue;
		config_describe(&rl->cur, i, &was);
		if (now.reloadable) {
			log_info("reload: %s.%s = %s (was %s)", now.section, now.key, now.value, was.value);
			config_copy_setting(&rl->cur, next, i);
			applied++;
		} else {
			log_warn("reload: %s.%s = %s needs a restart; %s stays in force", now.section, now.key, now.value,
			         was.value);
			restart++;
		}
	}
	free(next);
	log_set_level((log_level)rl->cur.log_level);
	monitor_opts mo;
	monitor_opts_from_config(&mo, &rl->cur);
	monitor_set_thresholds(rl->app->monitor, &mo);
	log_info("reload: done: %d setting%s applied, %d need%s a restart", applied, applied == 1 ? "" : "s", restart,
	         restart == 1 ? "s" : "");
}

static void *reload_main(void *arg)
{
	reloader_t *rl = arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	for (;;) {
		int sig;
		if (sigwait(&set, &sig))
			continue;
		if (atomic_load(&rl->stop))
			return NULL;
		reload_now(rl);
	}
}

int serve_run(const config_t *cfg, const char *announce, serve_reload_fn reload, void *reload_ud)
{
	char err[512];
	/* Before any thread starts, so every thread inherits it: only the
	 * reload thread takes SIGHUP. */
	sigset_t hup;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &hup, NULL);
	process_heap_tune();
	log_set_level((log_level)cfg->log_level);
	store_opts so = {.url = cfg->store_url,
	                 .read_urls = cfg->store_read_url,
	                 .read_conns = cfg->store_url[0] ? cfg->pool_size : cfg->read_conns,
	                 .statement_timeout_ms = cfg->statement_timeout_ms,
	                 .write_wait_ms = cfg->write_wait_ms,
	                 .cache_kib = cfg->cache_mib * 1024};
	store_t *s = store_open(cfg->data_dir, &so, err, sizeof err);
	if (!s)
		return cli_fail("serve", EXIT_FAIL, "%s", err);
	http_config hc = {
		.host = cfg->host,
		.port = cfg->port,
		.threads = cfg->threads,
		.workers = cfg->workers,
		.max_body = (size_t)cfg->max_body,
		.max_conns = cfg->max_connections,
		.max_conns_per_addr = cfg->max_connections_per_address,
		.conn_reserve = cfg->connection_reserve,
		.access_log = cfg->access_log[0] ? cfg->access_log : NULL,
		.tls_cert = cfg->tls_cert[0] ? cfg->tls_cert : NULL,
		.tls_key = cfg->tls_key[0] ? cfg->tls_key : NULL,
		.hsts_max_age = cfg->hsts_max_age,
		.adm_queue = cfg->adm_queue,
		.adm_org_queue = cfg->adm_org_queue,
		.adm_org_concurrency = cfg->adm_org_concurrency,
		.naive = cfg->naive,
	};
	ratelimit_config rlc = {
		.cls = {[RL_VIEWS] = {cfg->rl_views_pm, cfg->rl_views_burst},
		        [RL_LISTS] = {cfg->rl_lists_pm, cfg->rl_lists_burst},
		        [RL_WRITES] = {cfg->rl_writes_pm, cfg->rl_writes_burst},
		        [RL_IMPORTS] = {cfg->rl_imports_pm, cfg->rl_imports_burst},
		        [RL_EXPORTS] = {cfg->rl_exports_pm, cfg->rl_exports_burst}},
		.bad_tokens = {cfg->rl_bad_tokens_pm, cfg->rl_bad_tokens_burst},
		.signin_free_failures = cfg->rl_signin_free_failures,
		.signin_max_backoff_s = cfg->rl_signin_max_backoff_s,
	};
	ratelimit_configure(&rlc);
	size_t nroutes;
	const http_route *routes = api_routes(&nroutes);
	http_server_t *srv = http_server_new(&hc, s, routes, nroutes, err, sizeof err);
	if (!srv) {
		store_close(s);
		return cli_fail("serve", EXIT_FAIL, "%s", err);
	}
	rcache_shared shared = {s, shared_get, shared_put, shared_lock, shared_unlock};
	rcache_opts co = {
		.shared = store_has_locks(s) ? &shared : NULL,
		.memory_bytes = cfg->cache_bytes,
		.ttl_ms = (uint64_t)cfg->cache_ttl_s * 1000,
		.redis_url = cfg->redis_url,
		.redis_timeout_ms = cfg->redis_timeout_ms,
		.disk_dir = cfg->cache_dir,
		.disk_bytes = cfg->cache_disk_bytes,
	};
	app_t app = {0};
	app.store = s;
	app.cache = rcache_new(&co, err, sizeof err);
	if (!app.cache) {
		http_server_free(srv);
		store_close(s);
		return cli_fail("serve", EXIT_FAIL, "%s", err);
	}
	monitor_opts mo;
	monitor_opts_from_config(&mo, cfg);
	char dbpath[600];
	snprintf(dbpath, sizeof dbpath, "%s/brisk.db", cfg->data_dir);
	mo.db_path = dbpath;
	app.monitor = monitor_new(&mo, s, app.cache);
	app.events = events_new(0, cfg->sse_heartbeat_s * 1000);
	app.notify = start_notify(cfg, &app);
	http_server_set_app(srv, &app);
	if (rcache_enabled(app.cache) && cfg->cache_warm) {
		app.warm = warm_new(srv);
		warm_all(app.warm);
	}
	store_on_change(s, on_store_change, &app);
	store_watch_versions(s, 5000);
	/* rows a large import left out of the search index get in here */
	searchidx_indexer_start(s);
	rcache_on_peer_change(app.cache, on_peer_change, &app);
	app.tasks = start_tasks(cfg, &app, err, sizeof err);
	notify_set_tasks(app.notify, app.tasks);
	if (!app.tasks)
		log_error("serve: background tasks are off: %s", err);
	http_server_handle_signals(srv);
	reloader_t *rl = xcalloc(1, sizeof *rl);
	rl->cur = *cfg;
	rl->fn = reload;
	rl->ud = reload_ud;
	rl->srv = srv;
	rl->app = &app;
	pthread_create(&rl->tid, NULL, reload_main, rl);
	/* The line scripts and tests wait for: it carries the real port. */
	bool v6 = peer_host_is_ipv6(cfg->host) && cfg->host[0] != '[';
	printf("brisk %s listening on %s://%s%s%s:%d/ (data %s%s)\n", BRISK_VERSION, http_server_tls(srv) ? "https" : "http",
	       v6 ? "[" : "", cfg->host, v6 ? "]" : "", http_server_port(srv),
	       cfg->data_dir, cfg->naive ? ", naive mode" : "");
	if (announce)
		printf("%s\n", announce);
	fflush(stdout);
	http_server_run(srv);
	log_info("serve: shutting down: requests finished, closing the store");
	atomic_store(&rl->stop, true);
	pthread_kill(rl->tid, SIGHUP);
	pthread_join(rl->tid, NULL);
	free(rl);
	/* after the task workers are gone: their last commits still call it */
	notify_stop(app.notify); /* it may be submitting a scheduled run */
	tasks_free(app.tasks);
	searchidx_indexer_stop(s); /* its commits call the listener too */
	store_on_change(s, NULL, NULL);
	monitor_on_alert(NULL, NULL);
	notify_free(app.notify);
	events_free(app.events);
	warm_free(app.warm);
	http_server_free(srv);
	monitor_free(app.monitor);
	rcache_free(app.cache);
	store_close(s);
	return EXIT_OK;
}

/* Where the settings came from, kept so that SIGHUP can read them again
 * the same way: the file, then the environment, then the flags. */
typedef struct {
	const char *file;
	struct {
		const char *section, *key, *value;
	} flags[64];
	int nflags;
} serve_source;

static bool build_config(const serve_source *src, config_t *cfg, char *err, size_t errlen)
{
	config_defaults(cfg);
	if (src->file && !config_load_file(cfg, src->file, err, errlen))
		return false;
	if (!config_load_env(cfg, err, errlen))
		return false;
	for (int i = 0; i < src->nflags; i++)
		if (!config_set(cfg, src->flags[i].section, src->flags[i].key, src->flags[i].value, err, errlen))
			return false;
	return true;
}

static bool reload_config(config_t *out, char *err, size_t errlen, void *ud)
{
	return build_config(ud, out, err, errlen);
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, 0, 'c'}, {"data", required_argument, 0, 'd'},
		{"host", required_argument, 0, 'H'},   {"port", required_argument, 0, 'p'},
		{"threads", required_argument, 0, 't'}, {"workers", required_argument, 0, 'w'},
		{"access-log", required_argument, 0, 'a'}, {"naive", no_argument, 0, 'n'},
		{"set", required_argument, 0, 's'},    {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	static serve_source src; /* static: the reload thread reads it */
	static char names[64][2][64];
	char err[512];
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:d:p:h", opts, NULL)) != -1) {
		const char *sec = "server", *key = NULL, *value = optarg;
		switch (c) {
		case 'c': src.file = optarg; continue;
		case 'd': sec = "store", key = "data_dir"; break;
		case 'H': key = "host"; break;
		case 'p': key = "port"; break;
		case 't': key = "threads"; break;
		case 'w': key = "workers"; break;
		case 'a': key = "access_log"; break;
		case 'n': sec = "analytics", key = "naive", value = "true"; break;
		case 's': {
			char *eq = strchr(optarg, '='), *dot = strchr(optarg, '.');
			if (!eq || !dot || dot > eq)
				return cli_fail("serve", EXIT_USAGE, "--set takes SECTION.KEY=VALUE");
			if (src.nflags == 64)
				return cli_fail("serve", EXIT_USAGE, "too many options");
			snprintf(names[src.nflags][0], sizeof names[0][0], "%.*s", (int)(dot - optarg), optarg);
			snprintf(names[src.nflags][1], sizeof names[0][1], "%.*s", (int)(eq - dot - 1), dot + 1);
			sec = names[src.nflags][0], key = names[src.nflags][1], value = eq + 1;
			break;
		}
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
		if (src.nflags == 64)
			return cli_fail("serve", EXIT_USAGE, "too many options");
		src.flags[src.nflags].section = sec;
		src.flags[src.nflags].key = key;
		src.flags[src.nflags++].value = value;
	}
	if (optind < argc)
		return cli_fail("serve", EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	static config_t cfg;
	if (!build_config(&src, &cfg, err, sizeof err))
		return cli_fail("serve", EXIT_USAGE, "%s", err);
	return serve_run(&cfg, NULL, reload_config, &src);
}
