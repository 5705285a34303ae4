/* brisk: the command-line front door. Only dispatches to cmd_*.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cmd_validate(int argc, char **argv); /* cmd_validate.c */
#include "monitor/qstats.h"

typedef struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} command_t;

static const command_t commands[] = {
	{"demo", cmd_demo, "generate demo data, import it and serve it"},
	{"serve", cmd_serve, "run the HTTP server"},
	{"import", cmd_import, "import a CSV file into the store"},
	{"profile", cmd_profile, "save, list, show or delete named import options"},
	{"dataset", cmd_dataset, "declare any CSV as a data set: create, list, describe, drop, import"},
	{"gen", cmd_gen, "generate a realistic data set as CSV files"},
	{"user", cmd_user, "add, list, disable users; set passwords and roles"},
	{"token", cmd_token, "create, list or revoke API tokens"},
	{"audit", cmd_audit, "show an organisation's audit log"},
	{"org", cmd_org, "show or set an organisation's currency and opening balance"},
	{"match", cmd_match, "reconcile payments with invoices"},
	{"report", cmd_report, "write the monthly management report (PDF)"},
	{"export", cmd_export, "export a filtered list to CSV or XLSX"},
	{"validate", cmd_validate, "benchmark scenarios against the performance targets"},
	{"config", cmd_config, "check a configuration file and show the effective settings"},
	{"migrate", cmd_migrate, "copy the embedded store into PostgreSQL and verify the copy"},
	{"index", cmd_index, "bring the text-search index up to date after a large import"},
	{"routes", cmd_routes, "list the HTTP routes of the server"},
	{"alert", cmd_alert, "business alert rules: add, list, history, check"},
	{"version", cmd_version, "print the version"},
};

static void usage(FILE *f)
{
	fprintf(f, "brisk %s - a fast business-dashboard server\n\n"
	           "usage: brisk COMMAND [options]\n\ncommands:\n", BRISK_VERSION);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "  %-9s %s\n", "help", "this text; 'brisk COMMAND --help' for one command");
	fprintf(f, "\nData directory: --data DIR, else $BRISK_DATA, else ./brisk-data\n");
}

const char *cli_actor(void)
{
	static char actor[80];
	const char *u = getenv("USER");
	snprintf(actor, sizeof actor, "cli:%.60s", u && *u ? u : "?");
	return actor;
}

const char *cli_data_dir(const char *flag_value)
{
	if (flag_value && *flag_value)
		return flag_value;
	const char *e = getenv("BRISK_DATA");
	return e && *e ? e : "./brisk-data";
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

int cli_fail(const char *cmd, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "brisk %s: %s\n", cmd, msg);
	return code;
}

const char *cli_params_get(void *ud, const char *name)
{
	const cli_params *p = ud;
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->name[i], name))
			return p->value[i];
	return NULL;
}

bool cli_params_add(cli_params *p, const char *name, const char *value, bool join)
{
	for (int i = 0; i < p->n; i++) {
		if (strcmp(p->name[i], name))
			continue;
		char *j;
		if (!join || asprintf(&j, "%s,%s", p->value[i], value) < 0)
			return false;
		free(p->owned[i]);
		p->owned[i] = j;
		p->value[i] = j;
		return true;
	}
	if (p->n == (int)(sizeof p->name / sizeof p->name[0]))
		return false;
	p->name[p->n] = name;
	p->owned[p->n] = NULL;
	p->value[p->n++] = value;
	return true;
}

void cli_params_free(cli_params *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->owned[i]);
	p->n = 0;
}

int cmd_version(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		printf("usage: brisk version\n\nPrints the version of brisk (also: brisk --version).\n");
		return EXIT_OK;
	}
	printf("brisk %s\n", BRISK_VERSION);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
		if (argc > 2) {
			/* "brisk help import" == "brisk import --help" */
			for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
				if (!strcmp(argv[2], commands[i].name)) {
					char *av[] = {argv[2], "--help", NULL};
					return commands[i].fn(2, av);
				}
		}
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(name, "--version"))
		return cmd_version(argc - 1, argv + 1);
	/* Batch commands run long statements on purpose (a million-row insert
	 * spills pages): slow-query warnings are for the server (which sets its
	 * own threshold from its configuration when it starts). */
	qstats_set_threshold(0);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(name, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "brisk: unknown command '%s' (try 'brisk help')\n", name);
	return EXIT_USAGE;
}
