/* brisk serve: configuration, store, HTTP server; nothing else. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/serve.h"
#include "core/config.h"
#include "core/log.h"
#include "http/api.h"
#include "http/app.h"
#include "http/warm.h"
#include "monitor/monitor.h"
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
	           "  --config FILE       INI file ([server] [store] [analytics] [cache]; see docs/operations.md)\n"
	           "  --data DIR          data directory (default $BRISK_DATA or ./brisk-data)\n"
	           "  --host ADDR         listen address (default 127.0.0.1; 0.0.0.0 for all)\n"
	           "  --port N            listen port (default 8080; 0 = any free port)\n"
	           "  --threads N         event loops (default: cores)\n"
	           "  --workers N         compute threads (default: 2 x cores)\n"
	           "  --access-log FILE   one line per request (- = stderr; default off)\n"
	           "  --naive             compute views from base tables, not rollups (reference mode)\n"
	           "  --set SECTION.KEY=VALUE   any setting of the config file\n");
}

static void on_store_change(void *ud, int64_t org, unsigned mask)
{
	app_t *app = ud;
	rcache_publish_change(app->cache, org, mask);
	warm_org(app->warm, org);
	events_publish_data(app->events, org, mask);
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

static void on_peer_change(void *ud, int64_t org, unsigned mask)
{
	app_t *app = ud;
	/* A peer committed: its versions are in the shared store; re-read them
	 * and warm what this instance serves. */
	store_refresh_versions(app->store);
	warm_org(app->warm, org);
	events_publish_data(app->events, org, mask);
}

int serve_run(const config_t *cfg, const char *announce)
{
	char err[512];
	log_set_level((log_level)cfg->log_level);
	store_opts so = {.read_conns = cfg->read_conns, .cache_kib = cfg->cache_mib * 1024};
	store_t *s = store_open(cfg->data_dir, &so, err, sizeof err);
	if (!s)
		return cli_fail("serve", EXIT_FAIL, "%s", err);
	http_config hc = {
		.host = cfg->host,
		.port = cfg->port,
		.threads = cfg->threads,
		.workers = cfg->workers,
		.max_body = (size_t)cfg->max_body,
		.access_log = cfg->access_log[0] ? cfg->access_log : NULL,
		.naive = cfg->naive,
	};
	size_t nroutes;
	const http_route *routes = api_routes(&nroutes);
	http_server_t *srv = http_server_new(&hc, s, routes, nroutes, err, sizeof err);
	if (!srv) {
		store_close(s);
		return cli_fail("serve", EXIT_FAIL, "%s", err);
	}
	rcache_opts co = {
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
	http_server_set_app(srv, &app);
	if (rcache_enabled(app.cache) && cfg->cache_warm) {
		app.warm = warm_new(srv);
		warm_all(app.warm);
	}
	store_on_change(s, on_store_change, &app);
	store_watch_versions(s, 5000);
	rcache_on_peer_change(app.cache, on_peer_change, &app);
	app.tasks = start_tasks(cfg, &app, err, sizeof err);
	if (!app.tasks)
		log_error("serve: background tasks are off: %s", err);
	http_server_handle_signals(srv);
	/* The line scripts and tests wait for: it carries the real port. */
	printf("brisk %s listening on http://%s:%d/ (data %s%s)\n", BRISK_VERSION, cfg->host, http_server_port(srv),
	       cfg->data_dir, cfg->naive ? ", naive mode" : "");
	if (announce)
		printf("%s\n", announce);
	fflush(stdout);
	http_server_run(srv);
	log_info("serve: shutting down: requests finished, closing the store");
	store_on_change(s, NULL, NULL);
	tasks_free(app.tasks);
	events_free(app.events);
	warm_free(app.warm);
	http_server_free(srv);
	monitor_free(app.monitor);
	rcache_free(app.cache);
	store_close(s);
	return EXIT_OK;
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
	config_t cfg;
	config_defaults(&cfg);
	char err[512];
	/* The config file comes first whatever its place on the line. */
	for (int i = 1; i < argc - 1; i++)
		if (!strcmp(argv[i], "--config") && !config_load_file(&cfg, argv[i + 1], err, sizeof err))
			return cli_fail("serve", EXIT_USAGE, "%s", err);
	if (!config_load_env(&cfg, err, sizeof err))
		return cli_fail("serve", EXIT_USAGE, "%s", err);
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:d:p:h", opts, NULL)) != -1) {
		const char *sec = "server", *key = NULL;
		switch (c) {
		case 'c': continue;
		case 'd': sec = "store", key = "data_dir"; break;
		case 'H': key = "host"; break;
		case 'p': key = "port"; break;
		case 't': key = "threads"; break;
		case 'w': key = "workers"; break;
		case 'a': key = "access_log"; break;
		case 'n': cfg.naive = true; continue;
		case 's': {
			char *eq = strchr(optarg, '='), *dot = strchr(optarg, '.');
			if (!eq || !dot || dot > eq)
				return cli_fail("serve", EXIT_USAGE, "--set takes SECTION.KEY=VALUE");
			char section[64], name[64];
			snprintf(section, sizeof section, "%.*s", (int)(dot - optarg), optarg);
			snprintf(name, sizeof name, "%.*s", (int)(eq - dot - 1), dot + 1);
			if (!config_set(&cfg, section, name, eq + 1, err, sizeof err))
				return cli_fail("serve", EXIT_USAGE, "%s", err);
			continue;
		}
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
		if (!config_set(&cfg, sec, key, optarg, err, sizeof err))
			return cli_fail("serve", EXIT_USAGE, "%s", err);
	}
	if (optind < argc)
		return cli_fail("serve", EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	return serve_run(&cfg, NULL);
}
