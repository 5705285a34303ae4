/* subcmd: the argument parsing the commands made of subcommands share
 * (brisk org, token, user): options into the caller's variables by
 * table, --data and --help for every one, then the subcommand word and
 * the words after it. GNU getopt order: options may come anywhere. */
#ifndef BRISK_SUBCMD_H
#define BRISK_SUBCMD_H

#include <stdbool.h>
#include <stdio.h>

typedef struct {
	const char *name;   /* the long option, without "--" */
	char letter;        /* its short form, or 0 */
	const char **value; /* takes an argument: stored here (borrowed from argv) */
	bool *flag;         /* or takes none: set true */
} subcmd_opt;

typedef struct {
	const char *data; /* --data DIR, or NULL */
	const char *sub;  /* the subcommand */
	char **args;      /* the words after it */
	int nargs;
} subcmd_args;

/* Parses argv (argv[0] the command) against opts, terminated by a zero
 * name. -1: go on with out filled. Otherwise the exit code to return:
 * EXIT_OK after printing usage to stdout for --help; EXIT_USAGE after
 * printing it to stderr for an unknown option or no subcommand. */
int subcmd_parse(int argc, char **argv, const subcmd_opt *opts, void (*usage)(FILE *), subcmd_args *out);

#endif
