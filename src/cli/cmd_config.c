/* brisk config check: what a server started with these settings would use,
 * where each value comes from, and whether the file and environment are
 * sound, without starting anything. */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/redisurl.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk config check [options]\n"
	           "\n"
	           "Validates a configuration file and the BRISK_* environment the way\n"
	           "'brisk serve' reads them (defaults, then --config FILE, then the\n"
	           "environment, then --set), and prints every effective setting with\n"
	           "its origin (default, FILE:LINE or env VAR). Passwords in URLs and\n"
	           "secrets are masked. Unknown keys are errors that name the closest\n"
	           "known setting. Exit status 0 when everything is usable, 1 when not.\n"
	           "\n"
	           "options:\n"
	           "  --config FILE       INI file to check (as given to brisk serve)\n"
	           "  --set SECTION.KEY=VALUE   a setting given on the command line\n"
	           "  --quiet             print the problems only\n");
}

typedef struct {
	int errors;
} check_t;

static void on_error(void *ud, const char *msg)
{
	check_t *k = ud;
	k->errors++;
	printf("error: %s\n", msg);
}

static void problem(check_t *k, const char *fmt, const char *a, const char *b)
{
	k->errors++;
	printf("error: ");
	printf(fmt, a, b);
	printf("\n");
}

/* A directory brisk must write to: there and writable, or creatable. */
static void check_dir(check_t *k, const char *setting, const char *path)
{
	struct stat st;
	if (!*path)
		return;
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			problem(k, "%s: '%s' is not a directory", setting, path);
		else if (access(path, W_OK | X_OK))
			problem(k, "%s: '%s' is not writable by this user", setting, path);
		return;
	}
	char copy[600];
	snprintf(copy, sizeof copy, "%s", path);
	const char *parent = dirname(copy);
	if (stat(parent, &st) || !S_ISDIR(st.st_mode) || access(parent, W_OK | X_OK))
		problem(k, "%s: '%s' does not exist and cannot be created here", setting, path);
}

static void check_file(check_t *k, const char *setting, const char *path)
{
	if (!*path || !strcmp(path, "-"))
		return;
	if (access(path, F_OK) == 0 ? access(path, W_OK) != 0 : false) {
		problem(k, "%s: '%s' is not writable by this user", setting, path);
		return;
	}
	char copy[600];
	snprintf(copy, sizeof copy, "%s", path);
	if (access(path, F_OK) && access(dirname(copy), W_OK | X_OK))
		problem(k, "%s: '%s' cannot be created (its folder is missing or not writable)", setting, path);
}

/* BRISK_* variables the settings table does not know, and that no other
 * part of brisk reads, are likely typos: warned, with the closest name. */
static void check_env(const config_t *c)
{
	static const char *const other[] = {"BRISK_TODAY", "BRISK_BIN", "BRISK_VALIDATE_TARGETS", NULL};
	extern char **environ;
	for (char **e = environ; *e; e++) {
		if (strncmp(*e, "BRISK_", 6))
			continue;
		char name[128];
		snprintf(name, sizeof name, "%.*s", (int)strcspn(*e, "="), *e);
		bool known = false;
		for (int i = 0; other[i]; i++)
			known |= !strcmp(name, other[i]);
		config_item it;
		for (size_t i = 0; !known && config_describe(c, i, &it); i++)
			known = it.env && !strcmp(it.env, name);
		if (!known)
			printf("warning: environment variable %s is not a brisk setting (ignored)\n", name);
	}
}

static int check(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, 0, 'c'}, {"set", required_argument, 0, 's'},
	                                     {"quiet", no_argument, 0, 'q'},       {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	const char *file = NULL;
	bool quiet = false;
	int nset = 0;
	char *sets[64];
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:qh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': file = optarg; break;
		case 'q': quiet = true; break;
		case 's':
			if (nset == 64)
				return cli_fail("config", EXIT_USAGE, "at most 64 --set options");
			sets[nset++] = optarg;
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_fail("config", EXIT_USAGE, "unexpected argument '%s'", argv[optind]);

	config_t *cfg = malloc(sizeof *cfg);
	if (!cfg)
		return cli_fail("config", EXIT_FAIL, "out of memory");
	config_defaults(cfg);
	check_t k = {0};
	char err[700];
	if (file)
		config_load_file_all(cfg, file, true, on_error, &k);
	if (!config_load_env(cfg, err, sizeof err))
		on_error(&k, err);
	for (int i = 0; i < nset; i++) {
		char *eq = strchr(sets[i], '='), *dot = strchr(sets[i], '.');
		if (!eq || !dot || dot > eq) {
			problem(&k, "--set %s: expected SECTION.KEY=VALUE%s", sets[i], "");
			continue;
		}
		char section[64], name[64];
		snprintf(section, sizeof section, "%.*s", (int)(dot - sets[i]), sets[i]);
		snprintf(name, sizeof name, "%.*s", (int)(eq - dot - 1), dot + 1);
		if (!config_set(cfg, section, name, eq + 1, err, sizeof err))
			problem(&k, "--set %s: %s", sets[i], err);
	}
	check_env(cfg);
	check_dir(&k, "store.data_dir", cfg->data_dir);
	check_dir(&k, "cache.disk_dir", cfg->cache_dir);
	check_file(&k, "server.access_log", cfg->access_log);
	if (cfg->redis_url[0]) {
		redisurl_t u;
		if (!redisurl_parse(cfg->redis_url, &u, err, sizeof err))
			problem(&k, "cache.redis_url: %s%s", err, "");
	}

	if (!quiet) {
		printf("%-36s %-28s %s\n", "SETTING", "VALUE", "ORIGIN");
		config_item it;
		for (size_t i = 0; config_describe(cfg, i, &it); i++) {
			char name[128];
			snprintf(name, sizeof name, "%s.%s", it.section, it.key);
			printf("%-36s %-28s %s%s\n", name, it.value, it.origin, it.reloadable ? " (reloadable)" : "");
		}
	}
	free(cfg);
	if (k.errors) {
		printf("%d problem%s found\n", k.errors, k.errors == 1 ? "" : "s");
		return EXIT_FAIL;
	}
	printf("configuration OK\n");
	return EXIT_OK;
}

int cmd_config(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[1], "check"))
		return cli_fail("config", EXIT_USAGE, "unknown subcommand '%s' (try 'brisk config check --help')", argv[1]);
	return check(argc - 1, argv + 1);
}
