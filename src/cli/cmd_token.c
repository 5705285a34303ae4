/* brisk token create|list|revoke: API bearer tokens, stored hashed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/users.h"
#include "cli/cli.h"
#include "core/date.h"
#include "http/auth.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk token create (--org ORG | --user NAME) [--scope read|write] [--expires WHEN]\n"
	           "                          [--label TEXT] [--data DIR]\n"
	           "       brisk token list [--org ORG] [--data DIR]\n"
	           "       brisk token revoke ID [--data DIR]\n"
	           "\n"
	           "create prints a new bearer token. It acts as its user, with the user's role:\n"
	           "--user NAME (see 'brisk user'), or with --org alone the organisation's\n"
	           "generated admin user ORG-admin (both created if missing).\n"
	           "--scope read allows only GET and HEAD; write (the default) whatever the role may.\n"
	           "--expires: 30d, 12h, 90m, a date YYYY-MM-DD (UTC midnight), or never (default).\n"
	           "Only its hash is stored: keep the printed token, it cannot be shown again.\n"
	           "A revoked or expired token, or one of a disabled user, is refused (a running\n"
	           "server may accept it for up to 5 more seconds).\n");
}

/* Unix seconds for --expires; 0 = never; -1 when unreadable. */
static int64_t parse_expiry(const char *s)
{
	if (!strcmp(s, "never"))
		return 0;
	char *end;
	long n = strtol(s, &end, 10);
	if (end != s && n > 0 && end[1] == '\0' && strchr("dhm", *end))
		return (int64_t)time(NULL) + n * (*end == 'd' ? 86400 : *end == 'h' ? 3600 : 60);
	date_t day;
	if (strlen(s) == 10 && date_parse(s, 10, &day))
		return (int64_t)day * 86400;
	return -1;
}

int cmd_token(int argc, char **argv)
{
	static const struct option opts[] = {{"org", required_argument, 0, 'o'},     {"label", required_argument, 0, 'l'},
	                                      {"user", required_argument, 0, 'u'},    {"scope", required_argument, 0, 's'},
	                                      {"expires", required_argument, 0, 'e'}, {"data", required_argument, 0, 'd'},
	                                      {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
	const char *org = NULL, *label = "", *data = NULL, *user = NULL, *scope = "write", *expires = "never";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:l:u:s:e:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': org = optarg; break;
		case 'l': label = optarg; break;
		case 'u': user = optarg; break;
		case 's': scope = optarg; break;
		case 'e': expires = optarg; break;
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
		if (!org && !user)
			return cli_fail("token", EXIT_USAGE, "create needs --org ORG or --user NAME");
		if (strcmp(scope, "read") && strcmp(scope, "write"))
			return cli_fail("token", EXIT_USAGE, "--scope is read or write, not '%s'", scope);
		auth_token_opts o = {.label = label, .read_only = !strcmp(scope, "read"), .actor = cli_actor()};
		if ((o.expires_at = parse_expiry(expires)) < 0)
			return cli_fail("token", EXIT_USAGE, "--expires '%s': use 30d, 12h, 90m, YYYY-MM-DD or never", expires);
		if (o.expires_at && o.expires_at <= time(NULL))
			return cli_fail("token", EXIT_USAGE, "--expires '%s' is in the past", expires);
		store_t *s = store_open(cli_data_dir(data), NULL, err, sizeof err);
		if (!s)
			return cli_fail("token", EXIT_FAIL, "%s", err);
		int rc = 0;
		if (user) {
			auth_principal p;
			char hash[160];
			bool disabled;
			int found = users_find(s, user, &p, hash, sizeof hash, &disabled);
			if (found != 1) {
				store_close(s);
				return cli_fail("token", EXIT_FAIL, "no user named '%s' (see 'brisk user list')", user);
			}
			o.user = p.user;
		} else if ((o.org = store_org_id(s, org, true, err, sizeof err)) < 0) {
			rc = -1;
		}
		char tok[AUTH_TOKEN_BUFSZ];
		if (rc == 0)
			rc = auth_token_create_opts(s, &o, tok, err, sizeof err);
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
			rc = auth_token_revoke(s, atoll(argv[optind + 1]), cli_actor(), err, sizeof err);
		}
		store_close(s);
		return rc == 0 ? EXIT_OK : cli_fail("token", EXIT_FAIL, "%s", err);
	}
	return cli_fail("token", EXIT_USAGE, "unknown subcommand '%s' (create, list, revoke)", sub);
}
