/* brisk token create|list|revoke: API bearer tokens, stored hashed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/users.h"
#include "cli/cli.h"
#include "cli/subcmd.h"
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

int cmd_token(int argc, char **argv)
{
	const char *org = NULL, *label = "", *user = NULL, *scope = "write", *expires = "never";
	const subcmd_opt opts[] = {{"org", 'o', &org, NULL},     {"label", 'l', &label, NULL},
	                           {"user", 'u', &user, NULL},   {"scope", 's', &scope, NULL},
	                           {"expires", 'e', &expires, NULL}, {0}};
	subcmd_args a;
	int done = subcmd_parse(argc, argv, opts, usage, &a);
	if (done >= 0)
		return done;
	const char *sub = a.sub, *data = a.data;
	char err[512];
	if (!strcmp(sub, "create")) {
		if (!org && !user)
			return cli_fail("token", EXIT_USAGE, "create needs --org ORG or --user NAME");
		if (strcmp(scope, "read") && strcmp(scope, "write"))
			return cli_fail("token", EXIT_USAGE, "--scope is read or write, not '%s'", scope);
		auth_token_opts o = {.label = label, .read_only = !strcmp(scope, "read"), .actor = cli_actor()};
		if ((o.expires_at = auth_expiry_parse(expires, (int64_t)time(NULL))) < 0)
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
			char *end = NULL;
			long long id = a.nargs == 1 ? strtoll(a.args[0], &end, 10) : 0;
			if (!end || *end || id <= 0) {
				store_close(s);
				return cli_fail("token", EXIT_USAGE, "revoke needs one token id, a number (see 'brisk token list')");
			}
			rc = auth_token_revoke(s, id, 0, cli_actor(), err, sizeof err);
		}
		store_close(s);
		return rc == 0 ? EXIT_OK : cli_fail("token", EXIT_FAIL, "%s", err);
	}
	return cli_fail("token", EXIT_USAGE, "unknown subcommand '%s' (create, list, revoke)", sub);
}
