/* brisk audit: an organisation's audit log, newest first. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "auth/audit.h"
#include "cli/cli.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk audit --org ORG [--limit N] [--data DIR]\n"
	           "\n"
	           "Prints who changed what in the organisation, newest first (default 100\n"
	           "entries): imports, reconciliation runs and decisions, row writes and deletes,\n"
	           "exports and other tasks, settings, users and tokens, sign-ins and sign-outs.\n"
	           "The API serves the same log at GET /api/v1/audit (admin role).\n");
}

int cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {{"org", required_argument, 0, 'o'}, {"limit", required_argument, 0, 'n'},
	                                      {"data", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'},
	                                      {0, 0, 0, 0}};
	const char *org = NULL, *data = NULL;
	long limit = 100;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:n:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': org = optarg; break;
		case 'n': {
			char *end;
			limit = strtol(optarg, &end, 10);
			if (*end || limit < 1)
				return cli_fail("audit", EXIT_USAGE, "--limit must be a positive whole number");
			break;
		}
		case 'd': data = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_fail("audit", EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	if (!org)
		return cli_fail("audit", EXIT_USAGE, "--org ORG is needed");
	char err[512];
	store_t *s = store_open(cli_data_dir(data), NULL, err, sizeof err);
	if (!s)
		return cli_fail("audit", EXIT_FAIL, "%s", err);
	int rc = audit_print(s, org, (int)limit, stdout, err, sizeof err);
	store_close(s);
	return rc == 0 ? EXIT_OK : cli_fail("audit", EXIT_FAIL, "%s", err);
}
