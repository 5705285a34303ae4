/* brisk demo: a realistic data set, imported and served, in one command.
 * A second run finds the data (and its token) and only serves. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/serve.h"
#include "core/config.h"
#include "auth/users.h"
#include "http/auth.h"
#include "http/peer.h"
#include "ingest/gen.h"
#include "ingest/import.h"
#include "match/matcher.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk demo [--scale N] [--port P] [--host ADDR] [--data DIR] [--seed S]\n"
	           "\n"
	           "Generates two years of realistic business data (scale 5: ~50,000 rows per\n"
	           "entity), imports it into the organisation 'demo', creates an API token and\n"
	           "serves it. Running it again reuses the existing data and token.\n");
}

static void on_progress(void *ud, uint64_t bytes, uint64_t rows)
{
	progress_update(ud, bytes, rows);
}

static int import_file(store_t *s, int64_t org, entity_kind k, const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return cli_fail("demo", EXIT_FAIL, "%s: %s", path, strerror(errno));
	struct stat st;
	fstat(fd, &st);
	import_opts o = {.kind = k, .org = org};
	progress_t *pg = progress_new(stderr, (uint64_t)st.st_size, "rows");
	o.progress = on_progress;
	o.progress_ud = pg;
	import_result *res = malloc(sizeof *res);
	char err[512];
	int rc = import_run(s, cli_read_fd, &fd, &o, res, err, sizeof err);
	progress_done(pg);
	progress_free(pg);
	close(fd);
	if (rc == 0)
		printf("  %-13s %8lld rows in %.2f s\n", entity_get(k)->name, (long long)(res->inserted + res->replaced),
		       res->seconds);
	free(res);
	return rc == 0 ? EXIT_OK : cli_fail("demo", EXIT_FAIL, "%s: %s", path, err);
}

static int prepare(const char *dir, double scale, uint64_t seed, char *token, size_t toklen)
{
	char path[1200], err[512];
	snprintf(path, sizeof path, "%s/demo-token.txt", dir);
	FILE *f = fopen(path, "r");
	if (f) {
		bool ok = fgets(token, (int)toklen, f) != NULL;
		fclose(f);
		token[strcspn(token, "\n")] = '\0';
		if (ok && token[0]) {
			printf("brisk demo: reusing the data in %s\n", dir);
			return EXIT_OK;
		}
	}
	store_t *s = store_open(dir, NULL, err, sizeof err);
	if (!s)
		return cli_fail("demo", EXIT_FAIL, "%s", err);
	int64_t org = store_org_id(s, "demo", true, err, sizeof err);
	if (org < 0) {
		store_close(s);
		return cli_fail("demo", EXIT_FAIL, "%s", err);
	}
	char csvdir[1024];
	snprintf(csvdir, sizeof csvdir, "%s/demo-csv", dir);
	gen_opts go;
	gen_opts_init(&go);
	go.scale = scale;
	go.seed = seed;
	/* Payments as they come: some for several invoices, some short by a
	 * fee, a few above the invoice (issue 15). */
	go.batch = 0.05;
	go.fees = 0.02;
	go.overpay = 0.01;
	printf("brisk demo: generating scale %g data into %s\n", scale, csvdir);
	if (gen_write(csvdir, &go, NULL, err, sizeof err) != 0) {
		store_close(s);
		return cli_fail("demo", EXIT_FAIL, "%s", err);
	}
	printf("brisk demo: importing\n");
	for (int k = 0; k < ENT__COUNT; k++) {
		snprintf(path, sizeof path, "%s/%s.csv", csvdir, entity_get((entity_kind)k)->name);
		int rc = import_file(s, org, (entity_kind)k, path);
		if (rc != EXIT_OK) {
			store_close(s);
			return rc;
		}
	}
	/* Reconcile, so receivables show what a real business would see. */
	matcher_opts mo;
	matcher_opts_init(&mo);
	matcher_result mr;
	if (matcher_run(s, org, &mo, &mr, err, sizeof err) == 0)
		printf("  reconciled    %8lld payments: %lld applied, %lld proposed for review, %lld unmatched (%.2f s)\n",
		       (long long)mr.payments, (long long)mr.applied, (long long)mr.proposed, (long long)mr.unmatched,
		       mr.seconds);
	else
		fprintf(stderr, "brisk demo: reconciliation failed (%s); serving unreconciled data\n", err);
	/* The demo's one user sees everything, the Performance page included. */
	auth_principal who;
	char hash[160];
	bool disabled;
	auth_token_opts to = {.label = "demo", .actor = "brisk demo"};
	if (users_find(s, "demo-operator", &who, hash, sizeof hash, &disabled) == 1)
		to.user = who.user;
	else
		to.user = users_add(s, org, "demo-operator", ROLE_OPERATOR, NULL, "brisk demo", err, sizeof err);
	int rc = to.user < 0 ? -1 : auth_token_create_opts(s, &to, token, err, sizeof err);
	store_close(s);
	if (rc != 0)
		return cli_fail("demo", EXIT_FAIL, "%s", err);
	snprintf(path, sizeof path, "%s/demo-token.txt", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dprintf(fd, "%s\n", token) < 0)
		return cli_fail("demo", EXIT_FAIL, "%s: %s", path, strerror(errno));
	close(fd);
	return EXIT_OK;
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {{"scale", required_argument, 0, 's'}, {"port", required_argument, 0, 'p'},
	                                      {"host", required_argument, 0, 'H'}, {"data", required_argument, 0, 'd'},
	                                      {"seed", required_argument, 0, 'S'}, {"help", no_argument, 0, 'h'},
	                                      {0, 0, 0, 0}};
	config_t cfg;
	config_defaults(&cfg);
	char err[512];
	if (!config_load_env(&cfg, err, sizeof err))
		return cli_fail("demo", EXIT_USAGE, "%s", err);
	double scale = 5;
	uint64_t seed = 42;
	const char *data = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:p:d:h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 's':
			scale = strtod(optarg, &end);
			if (*end || scale <= 0 || scale > GEN_SCALE_MAX)
				return cli_fail("demo", EXIT_USAGE, "--scale must be a number above 0 (1 = ~10,000 rows per entity)");
			break;
		case 'p':
			if (!config_set(&cfg, "server", "port", optarg, err, sizeof err))
				return cli_fail("demo", EXIT_USAGE, "%s", err);
			break;
		case 'H':
			if (!config_set(&cfg, "server", "host", optarg, err, sizeof err))
				return cli_fail("demo", EXIT_USAGE, "%s", err);
			break;
		case 'd': data = optarg; break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (data)
		snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data);
	char token[AUTH_TOKEN_BUFSZ];
	int rc = prepare(cfg.data_dir, scale, seed, token, sizeof token);
	if (rc != EXIT_OK)
		return rc;
	char announce[512];
	/* a wildcard address is not one to open: its loopback is */
	const char *host = !strcmp(cfg.host, "0.0.0.0") ? "127.0.0.1" : !strcmp(cfg.host, "::") ? "::1" : cfg.host;
	bool v6 = peer_host_is_ipv6(host) && host[0] != '[';
	snprintf(announce, sizeof announce,
	         "\n  Open http://%s%s%s:%d/#token=%s\n  API token (org 'demo'): %s\n  Stop with Ctrl-C.\n",
	         v6 ? "[" : "", host, v6 ? "]" : "", cfg.port, token, token);
	return serve_run(&cfg, announce, NULL, NULL);
}
