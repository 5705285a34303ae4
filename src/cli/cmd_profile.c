/* brisk profile save|list|show|delete: an organisation's named import
 * options (src/ingest/profile.c), used by brisk import --profile NAME and
 * profile= over HTTP. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ingest/options.h"
#include "ingest/profile.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk profile save NAME [--kind KIND] [IMPORT OPTIONS...] [--org ORG] [--data DIR]\n"
	           "       brisk profile list [--org ORG] [--data DIR]\n"
	           "       brisk profile show NAME [--org ORG] [--data DIR]\n"
	           "       brisk profile delete NAME [--org ORG] [--data DIR]\n"
	           "\n"
	           "A profile keeps the options of an import under a name, per organisation, so that\n"
	           "the next file of the same bank or package imports with\n"
	           "  brisk import KIND FILE --profile NAME\n"
	           "(over HTTP: profile=NAME). IMPORT OPTIONS are those of brisk import (--map,\n"
	           "--delimiter, --date-format, --decimal-comma, --split, ...); options given to\n"
	           "brisk import win over the profile's. --kind ties the profile to one kind and checks\n"
	           "the options against it. save replaces a profile of the same name.\n");
}

/* As brisk import reads them: --rule adds a line to the rules, --rules
 * FILE the file's lines, a repeated --where must hold too. False with a
 * message printed. */
static bool add_recoding(optlist *l, const char *name, const char *v)
{
	bool rule = !strcmp(name, "rule"), file = !strcmp(name, "rules"), where = !strcmp(name, "where");
	if (!rule && !file && !where)
		return true;
	const char *key = where ? "where" : "rules";
	const char *old = optlist_get(l, key);
	buf_t b = BUF_INIT;
	if (where)
		buf_printf(&b, "%s%s(%s)", old ? old : "", old ? " and " : "", v);
	else if (old)
		buf_puts(&b, old);
	if (rule)
		buf_printf(&b, "%s\n", v);
	if (file && !cli_read_rules(v, &b)) {
		cli_fail("profile", EXIT_USAGE, "--rules %s: %s", v, strerror(errno));
		buf_free(&b);
		return false;
	}
	buf_putc(&b, '\0');
	bool ok = optlist_set(l, key, b.p);
	buf_free(&b);
	if (!ok)
		cli_fail("profile", EXIT_USAGE, "too many options");
	return ok;
}

/* The import options of argv[from..] ("--date-format X", "--decimal-comma",
 * "--map=a=b") into l; the others (--org, --data, --kind) into the out
 * parameters. Returns false with a message printed. */
static bool parse_args(int argc, char **argv, int from, optlist *l, const char **org, const char **data,
                       const char **kind)
{
	for (int i = from; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0) {
			cli_fail("profile", EXIT_USAGE, "unexpected argument '%s'", a);
			return false;
		}
		char name[64];
		const char *eq = strchr(a + 2, '=');
		size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (n == 0 || n >= sizeof name) {
			cli_fail("profile", EXIT_USAGE, "bad option '%s'", a);
			return false;
		}
		for (size_t k = 0; k < n; k++)
			name[k] = a[2 + k] == '-' ? '_' : a[2 + k];
		name[n] = '\0';
		const char **slot = !strcmp(name, "org") ? org : !strcmp(name, "data") ? data : !strcmp(name, "kind") ? kind : NULL;
		bool known = slot != NULL || !strcmp(name, "rule");
		for (int k = 0; import_option_names[k]; k++)
			known |= !strcmp(import_option_names[k], name);
		if (!known || !strcmp(name, "profile")) {
			cli_fail("profile", EXIT_USAGE, "--%.*s is not an import option", (int)n, a + 2);
			return false;
		}
		const char *v = eq ? eq + 1 : NULL;
		if (!v && !optlist_is_flag(name)) {
			if (i + 1 == argc) {
				cli_fail("profile", EXIT_USAGE, "--%s needs a value", a + 2);
				return false;
			}
			v = argv[++i];
		}
		if (!v)
			v = "1";
		if (slot) {
			*slot = v;
			continue;
		}
		if (!add_recoding(l, name, v))
			return false;
		if (!strcmp(name, "rules") || !strcmp(name, "rule") || !strcmp(name, "where"))
			continue;
		const char *old = optlist_get(l, name);
		bool list = !strcmp(name, "map") || !strcmp(name, "set") || !strcmp(name, "default");
		if (old && !list) {
			cli_fail("profile", EXIT_USAGE, "--%s is given twice", a + 2);
			return false;
		}
		if (old) {
			char *j = malloc(strlen(old) + strlen(v) + 2);
			sprintf(j, "%s,%s", old, v);
			optlist_set(l, name, j);
			free(j);
		} else if (!optlist_set(l, name, v)) {
			cli_fail("profile", EXIT_USAGE, "too many options");
			return false;
		}
	}
	return true;
}

int cmd_profile(int argc, char **argv)
{
	if (argc < 2 || cli_wants_help(argc, argv)) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *verb = argv[1];
	bool named = !strcmp(verb, "save") || !strcmp(verb, "show") || !strcmp(verb, "delete");
	if (!named && strcmp(verb, "list")) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (named && (argc < 3 || !strncmp(argv[2], "--", 2))) {
		return cli_fail("profile", EXIT_USAGE, "%s needs a profile NAME", verb);
	}
	const char *name = named ? argv[2] : NULL;
	const char *org = "default", *data = NULL, *kind = NULL;
	optlist l = {0};
	char why[400];
	int rc = EXIT_USAGE;
	store_t *s = NULL;
	if (!parse_args(argc, argv, named ? 3 : 2, &l, &org, &data, &kind))
		goto out;
	if (strcmp(verb, "save") && l.n) {
		rc = cli_fail("profile", EXIT_USAGE, "import options go with save only");
		goto out;
	}
	if (name && !profile_name_ok(name, why, sizeof why)) {
		rc = cli_fail("profile", EXIT_USAGE, "%s", why);
		goto out;
	}
	if (!strcmp(verb, "save") && !profile_check(&l, kind, why, sizeof why)) {
		rc = cli_fail("profile", EXIT_USAGE, "%s", why);
		goto out;
	}
	rc = EXIT_FAIL;
	if (!(s = store_open(cli_data_dir(data), NULL, why, sizeof why))) {
		rc = cli_fail("profile", EXIT_FAIL, "%s", why);
		goto out;
	}
	int64_t oid = store_org_id(s, org, !strcmp(verb, "save"), why, sizeof why);
	if (oid < 0) {
		rc = cli_fail("profile", EXIT_FAIL, "%s", why);
		goto out;
	}
	if (!strcmp(verb, "save")) {
		if (profile_save(s, oid, name, kind, &l, why, sizeof why) != 0) {
			rc = cli_fail("profile", EXIT_FAIL, "%s", why);
			goto out;
		}
		printf("profile %s saved (%d options)\n", name, l.n);
	} else if (!strcmp(verb, "list")) {
		buf_t b = BUF_INIT;
		if (profile_list_json(s, oid, &b) != 0) {
			buf_free(&b);
			rc = cli_fail("profile", EXIT_FAIL, "store error listing profiles");
			goto out;
		}
		printf("%.*s\n", (int)b.len, b.p);
		buf_free(&b);
	} else if (!strcmp(verb, "show")) {
		char k[16];
		int f = profile_load(s, oid, name, &l, k, why, sizeof why);
		if (f <= 0) {
			rc = cli_fail("profile", EXIT_FAIL, f == 0 ? "no profile '%s'" : "%s", f == 0 ? name : why);
			goto out;
		}
		buf_t b = BUF_INIT;
		optlist_cmdline(&l, &b);
		printf("brisk import %s FILE --profile %s\n  = brisk import %s FILE%.*s\n", k[0] ? k : "KIND", name,
		       k[0] ? k : "KIND", (int)b.len, b.p);
		buf_free(&b);
	} else {
		int f = profile_delete(s, oid, name, why, sizeof why);
		if (f <= 0) {
			rc = cli_fail("profile", EXIT_FAIL, f == 0 ? "no profile '%s'" : "%s", f == 0 ? name : why);
			goto out;
		}
		printf("profile %s deleted\n", name);
	}
	rc = EXIT_OK;
out:
	optlist_free(&l);
	store_close(s);
	return rc;
}
