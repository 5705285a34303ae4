/* brisk token create|list|revoke: API bearer tokens, stored hashed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "http/auth.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk token create --org ORG [--label TEXT] [--data DIR]\n"
	           "       brisk token list [--org ORG] [--data DIR]\n"
	           "       brisk token revoke ID [--data DIR]\n"
	           "\n"
	           "create prints a new bearer token for the organisation (created if missing).\n"
	           "Only its hash is stored: keep the printed token, it cannot be shown again.\n");
}

int cmd_token(int argc, char **argv)
{
	static const struct option opts[] = {{"org", required_argument, 0, 'o'}, {"label", required_argument, 0, 'l'},
	                                      {"data", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'},
	                                      {0, 0, 0, 0}};
	const char *org = NULL, *label = "", *data = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:l:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': org = optarg; break;
		case 'l': label = optarg; break;
		case 'd': data = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *sub = argv[optind];
	char err[512];
	if (!strcmp(sub, "create")) {
		if (!org)
			return cli_fail("token", EXIT_USAGE, "create needs --org ORG");
		store_t *s = store_open(cli_data_dir(data), NULL, err, sizeof err);
		if (!s)
			return cli_fail("token", EXIT_FAIL, "%s", err);
		int64_t id = store_org_id(s, org, true, err, sizeof err);
		char tok[AUTH_TOKEN_BUFSZ];
		int rc = id < 0 ? -1 : auth_token_create(s, id, label, tok, err, sizeof err);
		store_close(s);
		if (rc != 0)
			return cli_fail("token", EXIT_FAIL, "%s", err);
		printf("%s\n", tok);
		return EXIT_OK;
	}
	if (!strcmp(sub, "list") || !strcmp(sub, "revoke")) {
		store_t *s = store_open(cli_data_dir(data), NULL, err, sizeof err);
		if (!s)
			return cli_fail("token", EXIT_FAIL, "%s", err);
		int rc;
		if (!strcmp(sub, "list")) {
			rc = auth_token_list(s, org, stdout, err, sizeof err);
		} else {
			if (optind + 1 >= argc) {
				store_close(s);
				return cli_fail("token", EXIT_USAGE, "revoke needs a token id (see 'brisk token list')");
			}
			rc = auth_token_revoke(s, atoll(argv[optind + 1]), err, sizeof err);
		}
		store_close(s);
		return rc == 0 ? EXIT_OK : cli_fail("token", EXIT_FAIL, "%s", err);
	}
	return cli_fail("token", EXIT_USAGE, "unknown subcommand '%s' (create, list, revoke)", sub);
}
