/* brisk migrate --to URL: copies an embedded (SQLite) store into
 * PostgreSQL and verifies the copy (src/store/copy.h does the work). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "store/copy.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk migrate --to postgresql://USER[:PASSWORD]@HOST[:PORT]/DB [--org ORG] [--data DIR] [--quiet]\n"
	           "\n"
	           "Copies the embedded store of the data directory (DIR/brisk.db) into the PostgreSQL\n"
	           "database the URL names, every organisation or only --org ORG, then counts the rows and\n"
	           "sums the money columns of every table on both sides and prints them. Exit 0 when every\n"
	           "figure is equal, 1 when the copy failed or a figure differs, 2 for bad usage.\n"
	           "\n"
	           "  --to URL     the target database (created schema and migrations are applied first);\n"
	           "               DATABASE_URL does not choose the source: it is always DIR/brisk.db\n"
	           "  --org ORG    copy this organisation only (by slug)\n"
	           "  --data DIR   the source data directory (default $BRISK_DATA, else ./brisk-data)\n"
	           "  --quiet      print only problems\n"
	           "\n"
	           "Safe to re-run: each organisation is copied in one transaction that first removes\n"
	           "what an earlier run copied of it, so the target ends equal to the source. Row ids are\n"
	           "kept, so migrate into an empty database or one holding only this store's organisations.\n"
	           "The source is read in one snapshot: a server may keep running on it, but writes made\n"
	           "after the copy began are not in the target (stop writers, or run it again). Task records\n"
	           "and search indexes are not copied (the target builds its own; task files stay in DIR).\n");
}

/* The URL without its password, for printing. */
static void url_shown(const char *url, char *out, size_t n)
{
	const char *auth = strstr(url, "://");
	const char *at = auth ? strchr(auth + 3, '@') : NULL;
	const char *colon = at ? memchr(auth + 3, ':', (size_t)(at - auth - 3)) : NULL;
	if (colon)
		snprintf(out, n, "%.*s:***%s", (int)(colon - url), url, at);
	else
		snprintf(out, n, "%s", url);
}

static void print_org(const copy_org *o)
{
	printf("organisation %s (id %lld -> %lld)\n", o->slug, (long long)o->src_id, (long long)o->dst_id);
	printf("  %-20s %12s %12s %20s %20s\n", "table", "source rows", "target rows", "source sum", "target sum");
	for (int i = 0; i < o->ncounts; i++) {
		const copy_count *c = &o->counts[i];
		bool eq = c->src_rows == c->dst_rows && c->src_cents == c->dst_cents;
		char name[80];
		snprintf(name, sizeof name, "%s%s", c->table, c->derived ? "*" : "");
		if (c->has_cents)
			printf("  %-20s %12lld %12lld %20lld %20lld  %s\n", name, (long long)c->src_rows,
			       (long long)c->dst_rows, (long long)c->src_cents, (long long)c->dst_cents,
			       eq ? "equal" : "DIFFERENT");
		else
			printf("  %-20s %12lld %12lld %20s %20s  %s\n", name, (long long)c->src_rows, (long long)c->dst_rows,
			       "-", "-", eq ? "equal" : "DIFFERENT");
	}
}

int cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {{"to", required_argument, 0, 't'},   {"org", required_argument, 0, 'o'},
	                                      {"data", required_argument, 0, 'd'}, {"quiet", no_argument, 0, 'q'},
	                                      {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
	const char *to = NULL, *org = NULL, *data = NULL;
	bool quiet = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:o:d:qh", opts, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'o': org = optarg; break;
		case 'd': data = optarg; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_fail("migrate", EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	if (!to)
		return cli_fail("migrate", EXIT_USAGE, "--to postgresql://... is required (the target database)");
	if (strncmp(to, "postgresql://", 13) && strncmp(to, "postgres://", 11))
		return cli_fail("migrate", EXIT_USAGE, "--to must be a postgresql:// URL (got '%.40s')", to);
	if (org && !*org)
		return cli_fail("migrate", EXIT_USAGE, "--org needs an organisation slug");
	const char *dir = cli_data_dir(data);
	char db[4096];
	snprintf(db, sizeof db, "%s/brisk.db", dir);
	struct stat sb;
	if (stat(db, &sb) != 0)
		return cli_fail("migrate", EXIT_FAIL, "no embedded store at %s: %s (give the source with --data DIR)", db,
		                strerror(errno));

	char err[1024], shown[512];
	store_opts so = {.embedded = true};
	store_t *src = store_open(dir, &so, err, sizeof err);
	if (!src)
		return cli_fail("migrate", EXIT_FAIL, "opening the source %s: %s", db, err);
	store_opts to_opts = {.url = to, .read_conns = 2};
	store_t *dst = store_open(NULL, &to_opts, err, sizeof err);
	if (!dst) {
		store_close(src);
		return cli_fail("migrate", EXIT_FAIL, "opening the target: %s", err);
	}
	url_shown(to, shown, sizeof shown);
	if (!quiet)
		printf("brisk migrate: %s -> %s\n", db, shown);
	copy_result res;
	int rc = store_copy(src, dst, org, &res, NULL, NULL, err, sizeof err);
	int bad = 0;
	for (int i = 0; i < res.norgs; i++) {
		if (res.orgs[i].counts && (!quiet || !res.orgs[i].equal))
			print_org(&res.orgs[i]);
		if (res.orgs[i].counts && !res.orgs[i].equal)
			bad++;
	}
	int code = EXIT_OK;
	fflush(stdout); /* the table before the verdict */
	if (rc != 0) {
		code = cli_fail("migrate", EXIT_FAIL, "%s", err);
	} else if (bad) {
		code = cli_fail("migrate", EXIT_FAIL, "verification failed: %d of %d organisations differ (see above)", bad,
		                res.norgs);
	} else if (!quiet) {
		printf("verified: every count and sum is equal (%d organisation%s; * = kept by the target's "
		       "triggers, not copied: its rows are open invoices)\n",
		       res.norgs, res.norgs == 1 ? "" : "s");
		if (res.skipped[0])
			printf("not copied (not an organisation's, or not in the target): %s\n", res.skipped);
	}
	copy_result_free(&res);
	store_close(dst);
	store_close(src);
	return code;
}
