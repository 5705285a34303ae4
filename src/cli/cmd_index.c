/* brisk index: brings the text-search index up to date now (what a
 * running brisk serve does in the background after a large import). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "store/searchidx.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk index [--data DIR] [--quiet]\n"
	           "\n"
	           "Indexes for text search (q= on lists) the rows a large import left to the\n"
	           "index's catch-up. An import of 10000 rows or more commits without building\n"
	           "the index in its transaction; a running brisk serve (or the next one started)\n"
	           "indexes those rows in the background, and searches scan them meanwhile, so\n"
	           "their results are exact either way. This command does the catch-up at once,\n"
	           "in transactions of 50000 rows (a server may keep running). Nothing to do on\n"
	           "PostgreSQL, whose indexes are kept by the table writes.\n"
	           "\n"
	           "  --data DIR   data directory (default $BRISK_DATA, else ./brisk-data)\n"
	           "  --quiet      print only problems\n");
}

int cmd_index(int argc, char **argv)
{
	static const struct option opts[] = {{"data", required_argument, 0, 'd'},
	                                      {"quiet", no_argument, 0, 'q'},
	                                      {"help", no_argument, 0, 'h'},
	                                      {0, 0, 0, 0}};
	const char *data = NULL;
	bool quiet = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_fail("index", EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	char err[512];
	store_t *s = store_open(cli_data_dir(data), NULL, err, sizeof err);
	if (!s)
		return cli_fail("index", EXIT_FAIL, "%s", err);
	double t0 = clock_now_s();
	int64_t behind = 0;
	store_conn_t *r = store_read_begin(s);
	int rc = r ? searchidx_behind(r, &behind) : -1;
	if (r)
		store_read_end(r);
	while (rc == 1)
		rc = searchidx_catch_up(s, 50000, err, sizeof err);
	if (rc < 0 && !err[0])
		snprintf(err, sizeof err, "cannot read the store");
	store_close(s);
	if (rc < 0)
		return cli_fail("index", EXIT_FAIL, "%s (what was indexed before stays)", err);
	if (!quiet)
		printf("search index up to date (%lld rows were behind, %.2f s)\n", (long long)behind, clock_now_s() - t0);
	return EXIT_OK;
}
