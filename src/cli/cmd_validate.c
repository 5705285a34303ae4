/* brisk validate: proves the performance targets on this machine. Builds a
 * data set in a temporary directory (gen + import through the library),
 * reconciles it, starts the server in this process twice over the same
 * store (rollups with the cache, and the naive mode without it), runs the
 * HTTP scenarios of monitor/validate.h against both, and judges every
 * figure against the targets file. Exit 0: all targets met; 1: a target
 * missed or a scenario failed; 2: usage. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/validate_paths.h"
#include "core/date.h"
#include "http/api.h"
#include "http/app.h"
#include "http/auth.h"
#include "ingest/gen.h"
#include "ingest/import.h"
#include "match/matcher.h"
#include "monitor/process.h"
#include "monitor/targets.h"
#include "monitor/validate.h"

typedef struct {
	double scale;
	double seconds;
	int repeats, pages, clients;
	bool naive, keep;
	const char *mode;
	const char *targets, *output, *dir;
	uint64_t seed;
} vopts;

typedef struct {
	http_server_t *srv;
	app_t app;
	pthread_t tid;
	bool running;
} server_t;

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk validate [--quick|--detailed] [--scale N] [--output report.json] [--targets FILE]\n"
	           "\n"
	           "Builds a data set of that scale in a temporary directory, starts the server in\n"
	           "this process (and a second one in naive mode), runs the scenarios (import,\n"
	           "overview cold and warm, daily cash flow over two years, deep pagination,\n"
	           "reconciliation, concurrent clients), prints a table and exits 1 when a target\n"
	           "of the targets file is missed.\n"
	           "\n"
	           "options:\n"
	           "  --quick           small scale (0.2) and short runs, for CI (< 60 s)\n"
	           "  --detailed        scale 100 (1M rows per entity), longer runs\n"
	           "  --scale N         data set scale (1 = ~10,000 rows per entity; default 5)\n"
	           "  --seconds S       duration of the concurrent-clients run (default 10)\n"
	           "  --clients N       concurrent keep-alive clients (default 32)\n"
	           "  --targets FILE    targets (default: $BRISK_VALIDATE_TARGETS, else the installed\n"
	           "                    %s)\n"
	           "  --output FILE     write the results as JSON\n"
	           "  --no-naive        skip the naive-mode comparison\n"
	           "  --dir DIR         build the data set in DIR (kept) instead of a temporary one\n"
	           "  --keep            keep the temporary directory\n",
	        BRISK_TARGETS_INSTALLED);
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *targets_path(const char *flag)
{
	if (flag)
		return flag;
	const char *env = getenv("BRISK_VALIDATE_TARGETS");
	if (env && *env)
		return env;
	/* Installed, else the source tree this binary was built from, else
	 * relative to the working directory (a checkout). */
	if (access(BRISK_TARGETS_INSTALLED, R_OK) == 0)
		return BRISK_TARGETS_INSTALLED;
	if (access(BRISK_TARGETS_SOURCE, R_OK) == 0)
		return BRISK_TARGETS_SOURCE;
	return "bench/validate-targets.ini";
}

/* Gen + import: the import scenario. */
static int build_data(const vopts *o, const char *dir, store_t *s, int64_t org, targets_t *t, char *err,
		      size_t errlen)
{
	char csv[1100];
	snprintf(csv, sizeof csv, "%s/csv", dir);
	gen_opts go;
	gen_opts_init(&go);
	go.scale = o->scale;
	go.seed = o->seed;
	gen_counts gc;
	fprintf(stderr, "validate: generating scale %g data\n", o->scale);
	if (gen_write(csv, &go, &gc, err, errlen) != 0)
		return -1;
	fprintf(stderr, "validate: importing\n");
	int64_t rows = 0;
	double secs = 0, slowest = -1;
	for (int k = 0; k < ENT__COUNT; k++) {
		char path[1300];
		snprintf(path, sizeof path, "%s/%s.csv", csv, entity_get((entity_kind)k)->name);
		int fd = open(path, O_RDONLY);
		if (fd < 0) {
			snprintf(err, errlen, "%.600s: %s", path, strerror(errno));
			return -1;
		}
		import_opts io = {.kind = (entity_kind)k, .org = org};
		import_result *res = calloc(1, sizeof *res);
		double t0 = mono();
		int rc = import_run(s, cli_read_fd, &fd, &io, res, err, errlen);
		double dt = mono() - t0;
		close(fd);
		int64_t n = res->inserted + res->replaced;
		free(res);
		if (rc != 0)
			return -1;
		rows += n;
		secs += dt;
		double rate = dt > 0 ? (double)n / dt : 0;
		if (slowest < 0 || rate < slowest)
			slowest = rate;
	}
	targets_record(t, "import", "rows", (double)rows, NAN, "rows");
	targets_record(t, "import", "rows_per_s", secs > 0 ? (double)rows / secs : 0, NAN, "rows/s");
	targets_record(t, "import", "slowest_rows_per_s", slowest, NAN, "rows/s");
	targets_note(t, "import", "5 CSV files through import_run, one transaction each, %.2f s in all", secs);
	return 0;
}

static int reconcile(store_t *s, int64_t org, targets_t *t, char *err, size_t errlen)
{
	fprintf(stderr, "validate: reconciliation\n");
	matcher_opts mo;
	matcher_opts_init(&mo);
	matcher_result r;
	double t0 = mono();
	if (matcher_run(s, org, &mo, &r, err, errlen) != 0)
		return -1;
	double dt = mono() - t0;
	targets_record(t, "reconciliation", "seconds", dt, NAN, "s");
	targets_record(t, "reconciliation", "payments", (double)r.payments, NAN, "payments");
	targets_record(t, "reconciliation", "payments_per_s", dt > 0 ? (double)r.payments / dt : 0, NAN,
	               "payments/s");
	targets_note(t, "reconciliation", "%lld applied, %lld proposed, %lld unmatched", (long long)r.applied,
	             (long long)r.proposed, (long long)r.unmatched);
	return 0;
}

static void *server_main(void *arg)
{
	http_server_run(arg);
	return NULL;
}

static int server_start(server_t *sv, store_t *s, bool naive, char *err, size_t errlen)
{
	memset(sv, 0, sizeof *sv);
	http_config hc = {.host = "127.0.0.1", .port = 0, .naive = naive};
	size_t n;
	const http_route *routes = api_routes(&n);
	sv->srv = http_server_new(&hc, s, routes, n, err, errlen);
	if (!sv->srv)
		return -1;
	/* The naive reference computes every answer: no cache in front. */
	rcache_opts co = {.memory_bytes = naive ? 0 : (int64_t)64 << 20, .ttl_ms = 600000};
	sv->app.store = s;
	sv->app.cache = rcache_new(&co, err, errlen);
	if (!sv->app.cache) {
		http_server_free(sv->srv);
		return -1;
	}
	http_server_set_app(sv->srv, &sv->app);
	store_watch_versions(s, 5000); /* as brisk serve: a stuck store never stalls a loop */
	pthread_create(&sv->tid, NULL, server_main, sv->srv);
	sv->running = true;
	return 0;
}

static void server_stop(server_t *sv)
{
	if (!sv->running)
		return;
	http_server_stop(sv->srv);
	pthread_join(sv->tid, NULL);
	http_server_free(sv->srv);
	rcache_free(sv->app.cache);
	sv->running = false;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int write_json(const vopts *o, targets_t *t, double started, double took, char *err, size_t errlen)
{
	buf_t b = BUF_INIT;
	char ts[DATE_UTC_ISO_BUFSZ];
	date_utc_iso((int64_t)started, ts);
	bool sanitized = false, optimized = false;
#if defined(__SANITIZE_ADDRESS__)
	sanitized = true;
#endif
#if defined(__OPTIMIZE__)
	optimized = true;
#endif
	buf_printf(&b, "{\"brisk_version\":\"%s\",\"started_at\":\"%s\",\"seconds\":%.1f,\"mode\":\"%s\",\"scale\":%g,"
	               "\"cpus\":%d,\"build\":{\"optimized\":%s,\"sanitizers\":%s},\"results\":",
	           BRISK_VERSION, ts, took, o->mode, o->scale, process_cpus(), optimized ? "true" : "false",
	           sanitized ? "true" : "false");
	targets_json(t, &b);
	buf_puts(&b, "}\n");
	FILE *f = fopen(o->output, "w");
	if (!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", o->output, strerror(errno));
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	return 0;
}

static int run(const vopts *o)
{
	char err[1024];
	targets_t *t = targets_load(targets_path(o->targets), err, sizeof err);
	if (!t)
		return cli_fail("validate", EXIT_FAIL, "%s", err);
	double started = (double)time(NULL), t0 = mono();
	char dir[1024];
	if (o->dir) {
		snprintf(dir, sizeof dir, "%s", o->dir);
		mkdir(dir, 0755);
	} else {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof dir, "%s/brisk-validate-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			targets_free(t);
			return cli_fail("validate", EXIT_FAIL, "cannot create a temporary directory: %s", strerror(errno));
		}
	}
	char data[1100];
	snprintf(data, sizeof data, "%s/data", dir);
	int code = EXIT_FAIL;
	server_t main_srv = {0}, naive_srv = {0};
	char token[AUTH_TOKEN_BUFSZ];
	store_t *s = store_open(data, NULL, err, sizeof err);
	if (!s)
		goto out;
	int64_t org = store_org_id(s, "validate", true, err, sizeof err);
	if (org < 0 || build_data(o, dir, s, org, t, err, sizeof err) != 0 || reconcile(s, org, t, err, sizeof err) != 0 ||
	    auth_token_create(s, org, "validate", token, err, sizeof err) != 0)
		goto out;
	if (server_start(&main_srv, s, false, err, sizeof err) != 0 ||
	    (o->naive && server_start(&naive_srv, s, true, err, sizeof err) != 0))
		goto out;
	char from[16], to[16];
	date_t end = date_today();
	date_format(end - 729, from);
	date_format(end, to);
	validate_http v = {.port = http_server_port(main_srv.srv),
	                   .naive_port = o->naive ? http_server_port(naive_srv.srv) : 0,
	                   .token = token, .from = from, .to = to, .repeats = o->repeats, .max_pages = o->pages,
	                   .seconds = o->seconds, .clients = o->clients, .log = stderr};
	if (validate_http_run(&v, t, err, sizeof err) != 0)
		goto out;
	process_stats ps;
	process_read(&ps);
	targets_record(t, "server", "rss_mb", ps.resident_bytes / 1048576.0, NAN, "MiB");
	targets_record(t, "server", "anon_rss_mb", ps.anon_bytes / 1048576.0, NAN, "MiB");
	targets_note(t, "server", "memory of this whole process: both servers, their caches, the load generator and "
	                          "the import's leftovers (an upper bound on one server's); rss counts the pages of "
	                          "the database file mapped by SQLite, anon_rss only private memory");
	code = EXIT_OK;
out:
	server_stop(&main_srv);
	server_stop(&naive_srv);
	store_close(s);
	if (code != EXIT_OK) {
		fprintf(stderr, "brisk validate: %s\n", err);
		targets_note(t, "error", "%s", err);
	}
	size_t missed = targets_judge(t);
	printf("\nbrisk validate (%s, scale %g, %d CPUs)%s\n\n", o->mode, o->scale, process_cpus(),
#if defined(__SANITIZE_ADDRESS__)
	       ": a sanitizer build, timings are not representative"
#else
	       ""
#endif
	);
	targets_table(t, stdout);
	printf("\n%zu target%s missed, %zu not measured; %.1f s\n", missed, missed == 1 ? "" : "s",
	       targets_unmeasured(t), mono() - t0);
	if (o->output && write_json(o, t, started, mono() - t0, err, sizeof err) != 0) {
		fprintf(stderr, "brisk validate: %s\n", err);
		code = EXIT_FAIL;
	}
	if (code == EXIT_OK && missed)
		code = EXIT_FAIL;
	fflush(stdout);
	targets_free(t);
	if (!o->dir && !o->keep)
		nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	else
		fprintf(stderr, "validate: data kept in %s\n", dir);
	return code;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"quick", no_argument, 0, 'q'},       {"detailed", no_argument, 0, 'D'},
		{"scale", required_argument, 0, 's'}, {"seconds", required_argument, 0, 'S'},
		{"clients", required_argument, 0, 'c'}, {"targets", required_argument, 0, 't'},
		{"output", required_argument, 0, 'o'}, {"no-naive", no_argument, 0, 'N'},
		{"dir", required_argument, 0, 'd'},   {"keep", no_argument, 0, 'k'},
		{"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
	vopts o = {.scale = 5, .seconds = 10, .repeats = 20, .pages = 200, .clients = 32, .naive = true,
	           .mode = "default", .seed = 42};
	double scale = -1, seconds = -1;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "qs:o:t:h", opts, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'q': o.mode = "quick"; break;
		case 'D': o.mode = "detailed"; break;
		case 's':
			scale = strtod(optarg, &end);
			if (*end || !(scale > 0) || scale > GEN_SCALE_MAX)
				return cli_fail("validate", EXIT_USAGE, "--scale must be a number above 0 (1 = ~10,000 rows per entity)");
			break;
		case 'S':
			seconds = strtod(optarg, &end);
			if (*end || !(seconds > 0) || seconds > 3600)
				return cli_fail("validate", EXIT_USAGE, "--seconds must be between 0 and 3600");
			break;
		case 'c':
			o.clients = (int)strtol(optarg, &end, 10);
			if (*end || o.clients < 1 || o.clients > 1024)
				return cli_fail("validate", EXIT_USAGE, "--clients must be 1 to 1024");
			break;
		case 't': o.targets = optarg; break;
		case 'o': o.output = optarg; break;
		case 'N': o.naive = false; break;
		case 'd': o.dir = optarg; break;
		case 'k': o.keep = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_fail("validate", EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	if (!strcmp(o.mode, "quick")) {
		o.scale = 0.2, o.seconds = 2, o.repeats = 5, o.pages = 20;
	} else if (!strcmp(o.mode, "detailed")) {
		o.scale = 100, o.seconds = 30, o.repeats = 50, o.pages = 1000;
	}
	if (scale > 0)
		o.scale = scale;
	if (seconds > 0)
		o.seconds = seconds;
	return run(&o);
}
