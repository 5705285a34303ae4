/* brisk user add|list|disable|enable|passwd|role: the people who sign in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/password.h"
#include "auth/users.h"
#include "cli/cli.h"
#include "cli/subcmd.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk user add NAME --org ORG --role ROLE [--no-password] [--data DIR]\n"
	           "       brisk user list [--org ORG] [--data DIR]\n"
	           "       brisk user passwd NAME [--data DIR]\n"
	           "       brisk user role NAME ROLE [--data DIR]\n"
	           "       brisk user disable NAME [--data DIR]\n"
	           "       brisk user enable NAME [--data DIR]\n"
	           "\n"
	           "Roles: viewer (reads its organisation), analyst (also imports, reconciles,\n"
	           "exports), admin (also users, tokens, settings), operator (also the server-wide\n"
	           "monitoring: performance, slow queries, alerts, /metrics).\n"
	           "User names are unique across the server; the organisation is created if missing.\n"
	           "add and passwd read the password from the terminal (asked twice, not shown) or\n"
	           "else the first line of standard input; it is stored as an argon2id hash.\n"
	           "--no-password: an account for API tokens only (brisk token create --user NAME).\n"
	           "disable ends the user's sessions and its tokens stop working.\n");
}

/* One line of stdin, or (on a terminal) asked twice without echo. */
static int read_password(char *out, size_t outlen)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	char again[PASSWORD_MAX + 2];
	for (int round = 0; round < (tty ? 2 : 1); round++) {
		char *dst = round ? again : out;
		size_t dl = round ? sizeof again : outlen;
		if (tty) {
			fprintf(stderr, round ? "again: " : "password: ");
			tcgetattr(STDIN_FILENO, &old);
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
		}
		char *got = fgets(dst, (int)dl, stdin);
		if (tty) {
			tcsetattr(STDIN_FILENO, TCSANOW, &old);
			fputc('\n', stderr);
		}
		if (!got)
			return -1;
		dst[strcspn(dst, "\r\n")] = '\0';
	}
	if (tty && strcmp(out, again)) {
		fprintf(stderr, "brisk user: the two passwords differ\n");
		return -1;
	}
	return 0;
}

int cmd_user(int argc, char **argv)
{
	const char *org = NULL, *role_s = NULL;
	bool no_pw = false;
	const subcmd_opt opts[] = {{"org", 'o', &org, NULL}, {"role", 'r', &role_s, NULL},
	                           {"no-password", 'n', NULL, &no_pw}, {0}};
	subcmd_args a;
	int done = subcmd_parse(argc, argv, opts, usage, &a);
	if (done >= 0)
		return done;
	const char *sub = a.sub, *data = a.data;
	const char *name = a.nargs > 0 ? a.args[0] : NULL;
	bool known = !strcmp(sub, "add") || !strcmp(sub, "list") || !strcmp(sub, "passwd") || !strcmp(sub, "role") ||
	             !strcmp(sub, "disable") || !strcmp(sub, "enable");
	if (!known)
		return cli_fail("user", EXIT_USAGE, "unknown subcommand '%s' (add, list, passwd, role, disable, enable)", sub);
	if (strcmp(sub, "list") && !name)
		return cli_fail("user", EXIT_USAGE, "%s needs a user name", sub);
	int role = -1;
	if (!strcmp(sub, "add") || !strcmp(sub, "role")) {
		const char *rs = !strcmp(sub, "role") ? (a.nargs > 1 ? a.args[1] : NULL) : role_s;
		if (!rs)
			return cli_fail("user", EXIT_USAGE, "%s needs a role (viewer, analyst, admin or operator)", sub);
		if ((role = policy_role_parse(rs)) < 0)
			return cli_fail("user", EXIT_USAGE, "unknown role '%s' (viewer, analyst, admin or operator)", rs);
		if (!strcmp(sub, "add") && !org)
			return cli_fail("user", EXIT_USAGE, "add needs --org ORG");
	}
	char err[512];
	if (name && !users_name_valid(name, err, sizeof err))
		return cli_fail("user", EXIT_USAGE, "%s", err);
	char pw[PASSWORD_MAX + 2];
	bool want_pw = (!strcmp(sub, "add") && !no_pw) || !strcmp(sub, "passwd");
	if (want_pw) {
		if (read_password(pw, sizeof pw) != 0)
			return cli_fail("user", EXIT_FAIL, "no password given (or use --no-password for a token-only account)");
		if (!password_acceptable(pw, err, sizeof err))
			return cli_fail("user", EXIT_USAGE, "%s", err);
	}
	store_t *s = store_open(cli_data_dir(data), NULL, err, sizeof err);
	if (!s)
		return cli_fail("user", EXIT_FAIL, "%s", err);
	int rc = 0;
	if (!strcmp(sub, "list")) {
		rc = users_print(s, org, stdout, err, sizeof err);
	} else if (!strcmp(sub, "add")) {
		int64_t oid = store_org_id(s, org, true, err, sizeof err);
		rc = oid < 0 || users_add(s, oid, name, role, no_pw ? NULL : pw, cli_actor(), err, sizeof err) < 0 ? -1 : 0;
	} else if (!strcmp(sub, "passwd")) {
		rc = users_set_password(s, name, pw, cli_actor(), err, sizeof err);
	} else if (!strcmp(sub, "role")) {
		rc = users_set_role(s, name, role, cli_actor(), err, sizeof err);
	} else {
		rc = users_set_disabled(s, name, !strcmp(sub, "disable"), cli_actor(), err, sizeof err);
	}
	store_close(s);
	if (want_pw)
		explicit_bzero(pw, sizeof pw);
	return rc == 0 ? EXIT_OK : cli_fail("user", EXIT_FAIL, "%s", err);
}
