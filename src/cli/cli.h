/* cli: the subcommands of the brisk binary. Each cmd_X.c parses its own
 * arguments and calls library modules; main.c only dispatches.
 * Exit codes: 0 ok, 1 failure, 2 usage error. Errors go to stderr as one
 * line "brisk CMD: what failed (where)". */
#ifndef BRISK_CLI_H
#define BRISK_CLI_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/buf.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

int cmd_demo(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_org(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_routes(int argc, char **argv);
int cmd_alert(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_dataset(int argc, char **argv);

/* Who the audit log names for a change made from the command line
 * ("cli:LOGIN", static). */
const char *cli_actor(void);

/* Appends a rules file (brisk import --rules FILE) to rules, a line each.
 * False with errno set. */
bool cli_read_rules(const char *path, buf_t *rules);

/* An importer's reader over a file descriptor: ud points to the int fd.
 * read(2), retried on EINTR; -1 with errno on a failure. */
ssize_t cli_read_fd(void *ud, char *buf, size_t n);

/* The data directory: --data DIR if given, else $BRISK_DATA, else ./brisk-data. */
const char *cli_data_dir(const char *flag_value);

/* True when argv holds -h or --help. */
bool cli_wants_help(int argc, char **argv);

/* Prints "brisk CMD: message" to stderr and returns the code. */
int cli_fail(const char *cmd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Options collected under the API's parameter names, for the parsers the
 * CLI shares with HTTP (they read through cli_params_get, ud = the set).
 * Values are borrowed from argv unless joined. */
typedef struct {
	const char *name[32];
	const char *value[32];
	char *owned[32];
	int n;
} cli_params;

/* The value of name, or NULL. */
const char *cli_params_get(void *ud, const char *name);
/* Adds name=value. Given again: with join, "old,value" (a list option
 * repeated); else false (the caller says "given twice"). */
bool cli_params_add(cli_params *p, const char *name, const char *value, bool join);
/* Frees the joined values. */
void cli_params_free(cli_params *p);

#endif
