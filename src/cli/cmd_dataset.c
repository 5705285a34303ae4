/* brisk dataset create|list|describe|drop|import: the CLI face of
 * src/dataset (issue 13). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/audit.h"
#include "cli/cli.h"
#include "core/mem.h"
#include "dataset/dsimport.h"
#include "dataset/dsinfer.h"
#include "dataset/dsstore.h"
#include "store/settings.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: brisk dataset create --file DEF.json [--org ORG] [--data DIR]\n"
	        "       brisk dataset create --infer FILE [--name NAME] [format options]\n"
	        "       brisk dataset list [--org ORG] [--data DIR]\n"
	        "       brisk dataset describe NAME [--org ORG] [--data DIR]\n"
	        "       brisk dataset drop NAME [--org ORG] [--data DIR]\n"
	        "       brisk dataset import NAME FILE [options]\n"
	        "\n"
	        "A data set is any CSV with a time column, text dimensions and exact measures,\n"
	        "declared by a JSON definition (docs/api.md, \"Data sets\"):\n"
	        "  {\"name\":\"orders\",\"time\":{\"column\":\"Order Date\",\"grain\":\"day\"},\n"
	        "   \"dimensions\":[{\"name\":\"region\",\"column\":\"Region\"}],\n"
	        "   \"measures\":[{\"name\":\"sales\",\"column\":\"Sales\",\"type\":\"money\"},\n"
	        "                {\"name\":\"qty\",\"column\":\"Quantity\",\"type\":\"integer\"}],\n"
	        "   \"key\":[\"Order ID\"]}\n"
	        "grain: day, month, quarter or year; types: money (the currency's minor units),\n"
	        "integer, decimal with \"scale\" 0-6. Never floating point.\n"
	        "--infer FILE prints a definition proposed from the file's first 500 rows, with\n"
	        "the reasons on stderr; save it, check it, then create --file it.\n"
	        "import reads the file in one transaction (all valid rows or none), rejects bad\n"
	        "rows with line and reason, and is idempotent: by the key, or by content.\n"
	        "Exit status: 0 done, 1 failed (nothing stored), 2 bad usage.\n"
	        "\n"
	        "options:\n"
	        "  --org ORG             organisation (default: default)\n"
	        "  --data DIR            data directory (default $BRISK_DATA or ./brisk-data)\n"
	        "  --file DEF.json       the definition (create)\n"
	        "  --infer FILE          propose a definition from FILE (create)\n"
	        "  --name NAME           the name of the proposed definition (default dataset)\n"
	        "  --rejects FILE        write rejected rows as CSV: line,reason,original columns\n"
	        "  --delimiter C, --encoding E, --skip N, --date-format FMT, --decimal-comma,\n"
	        "  --thousands C, --currency, --plus, --parens, --round, --dry-run,\n"
	        "  --max-rejects N|P%%    as for brisk import\n");
}

static bool slurp(const char *path, size_t max, buf_t *out)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f)
		return false;
	char chunk[65536];
	size_t n;
	while (out->len < max && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_put(out, chunk, n);
	bool ok = !ferror(f);
	if (f != stdin)
		fclose(f);
	return ok;
}

static void print_one(void *ud, const dsstore_info *i)
{
	printf("%-24s %10lld rows  %-7s %d dimension%s, %d measure%s  %s\n", i->def.name, (long long)i->rows,
	       interval_name(i->def.grain), i->def.ndims, i->def.ndims == 1 ? "" : "s", i->def.nmeasures,
	       i->def.nmeasures == 1 ? "" : "s", i->def.title);
}

int cmd_dataset(int argc, char **argv)
{
	enum { O_ORG = 256, O_DATA, O_FILE, O_INFER, O_NAME, O_REJECTS, O_QUIET };
	static const struct option longopts[] = {
		{"org", required_argument, 0, O_ORG},       {"data", required_argument, 0, O_DATA},
		{"file", required_argument, 0, O_FILE},     {"infer", required_argument, 0, O_INFER},
		{"name", required_argument, 0, O_NAME},     {"rejects", required_argument, 0, O_REJECTS},
		{"delimiter", required_argument, 0, 'D'},   {"encoding", required_argument, 0, 'E'},
		{"skip", required_argument, 0, 'S'},        {"date-format", required_argument, 0, 'F'},
		{"decimal-comma", no_argument, 0, 'c'},     {"thousands", required_argument, 0, 'T'},
		{"currency", no_argument, 0, 'C'},          {"plus", no_argument, 0, 'P'},
		{"parens", no_argument, 0, 'R'},            {"round", no_argument, 0, 'r'},
		{"dry-run", no_argument, 0, 'n'},           {"max-rejects", required_argument, 0, 'M'},
		{"quiet", no_argument, 0, 'q'},             {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	static const struct {
		int c;
		const char *name;
	} params[] = {{'D', "delimiter"}, {'E', "encoding"}, {'S', "skip"},   {'F', "date_format"}, {'c', "decimal_comma"},
	              {'T', "thousands"}, {'C', "currency"}, {'P', "plus"},   {'R', "parens"},      {'r', "round"},
	              {'n', "dry_run"},   {'M', "max_rejects"}};
	const char *org = "default", *data = NULL, *file = NULL, *infer = NULL, *name = "dataset", *rejects = NULL;
	cli_params cp = {0};
	int rc = EXIT_USAGE, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (c) {
		case O_ORG: org = optarg; break;
		case O_DATA: data = optarg; break;
		case O_FILE: file = optarg; break;
		case O_INFER: infer = optarg; break;
		case O_NAME: name = optarg; break;
		case O_REJECTS: rejects = optarg; break;
		case 'q': break;
		case 'h': usage(stdout); cli_params_free(&cp); return EXIT_OK;
		default: {
			const char *pn = NULL;
			for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
				if (params[i].c == c)
					pn = params[i].name;
			if (!pn) {
				usage(stderr);
				goto out;
			}
			if (!cli_params_add(&cp, pn, optarg ? optarg : "1", false)) {
				rc = cli_fail("dataset", EXIT_USAGE, "--%s given twice", pn);
				goto out;
			}
		}
		}
	}
	if (optind >= argc) {
		usage(stderr);
		goto out;
	}
	const char *verb = argv[optind];
	char **args = argv + optind + 1;
	int nargs = argc - optind - 1;
	char err[600];
	import_opts o = {0};
	if (!dsimport_options(&o, cli_params_get, &cp, err, sizeof err)) {
		rc = cli_fail("dataset", EXIT_USAGE, "%s", err);
		import_opts_free(&o);
		goto out;
	}
	if (!strcmp(verb, "create") && infer) {
		/* no store needed: the proposal goes to stdout, the reasons to stderr */
		buf_t body = BUF_INIT, outj = BUF_INIT;
		if (!slurp(infer, 4u << 20, &body)) {
			rc = cli_fail("dataset", EXIT_FAIL, "cannot read %s: %s", infer, strerror(errno));
		} else if (!dsinfer_run(body.p ? body.p : "", body.len, name, &o, 2, &outj, err, sizeof err)) {
			rc = cli_fail("dataset", EXIT_FAIL, "%s: %s", infer, err);
		} else {
			json_t *j = json_loadb(outj.p, outj.len, 0, NULL);
			char *def = json_dumps(json_object_get(j, "definition"), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			printf("%s\n", def);
			size_t i;
			json_t *n;
			json_array_foreach(json_object_get(j, "notes"), i, n)
				fprintf(stderr, "# %s\n", json_string_value(n));
			free(def);
			json_decref(j);
			rc = EXIT_OK;
		}
		buf_free(&body);
		buf_free(&outj);
		import_opts_free(&o);
		goto out;
	}
	store_t *s = store_open(cli_data_dir(data), NULL, err, sizeof err);
	if (!s) {
		rc = cli_fail("dataset", EXIT_FAIL, "%s", err);
		import_opts_free(&o);
		goto out;
	}
	int64_t oid = store_org_id(s, org, !strcmp(verb, "create") || !strcmp(verb, "import"), err, sizeof err);
	rc = EXIT_FAIL;
	if (oid < 0) {
		cli_fail("dataset", EXIT_FAIL, "no organisation '%s'%s%s", org, *err ? ": " : "", err);
	} else if (!strcmp(verb, "create")) {
		buf_t def = BUF_INIT;
		dsdef_t *d = xmalloc(sizeof *d);
		if (!file || nargs) {
			rc = cli_fail("dataset", EXIT_USAGE, "create takes --file DEF.json (or --infer FILE)");
		} else if (!slurp(file, 1u << 20, &def)) {
			cli_fail("dataset", EXIT_FAIL, "cannot read %s: %s", file, strerror(errno));
		} else if (!dsdef_parse(def.p ? def.p : "", def.len, d, err, sizeof err)) {
			cli_fail("dataset", EXIT_FAIL, "%s: %s", file, err);
		} else {
			int k = dsstore_create(s, oid, d, err, sizeof err);
			if (k == 1)
				cli_fail("dataset", EXIT_FAIL, "a data set '%s' already exists in %s", d->name, org);
			else if (k < 0)
				cli_fail("dataset", EXIT_FAIL, "%s", err);
			else {
				audit_record(s, oid, cli_actor(), "dataset_create", d->name, "", err, sizeof err);
				printf("created data set '%s' in %s\n", d->name, org);
				rc = EXIT_OK;
			}
		}
		free(d);
		buf_free(&def);
	} else if (!strcmp(verb, "list") && !nargs) {
		store_conn_t *rc0 = store_read_begin(s);
		int n = dsstore_list(rc0, oid, print_one, NULL);
		store_read_end(rc0);
		rc = n < 0 ? cli_fail("dataset", EXIT_FAIL, "store error") : EXIT_OK;
	} else if (!strcmp(verb, "describe") && nargs == 1) {
		store_conn_t *rc0 = store_read_begin(s);
		dsstore_info *i = xmalloc(sizeof *i);
		int k = dsstore_get(rc0, oid, args[0], i);
		if (k == 1) {
			buf_t out = BUF_INIT;
			dsstore_json(rc0, i, &out);
			json_t *j = json_loadb(out.p, out.len, 0, NULL);
			char *txt = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			printf("%s\n", txt);
			free(txt);
			json_decref(j);
			buf_free(&out);
			rc = EXIT_OK;
		} else {
			cli_fail("dataset", EXIT_FAIL, k == 0 ? "no data set '%s' in %s" : "store error reading '%s' of %s", args[0], org);
		}
		free(i);
		store_read_end(rc0);
	} else if (!strcmp(verb, "drop") && nargs == 1) {
		int k = dsstore_drop(s, oid, args[0], err, sizeof err);
		if (k == 1) {
			audit_record(s, oid, cli_actor(), "dataset_drop", args[0], "", err, sizeof err);
			printf("dropped data set '%s' of %s\n", args[0], org);
			rc = EXIT_OK;
		} else {
			cli_fail("dataset", EXIT_FAIL, k == 0 ? "no data set '%s' in %s" : "%s", k == 0 ? args[0] : err, org);
		}
	} else if (!strcmp(verb, "import") && nargs == 2) {
		int fd = strcmp(args[1], "-") ? open(args[1], O_RDONLY | O_CLOEXEC) : 0;
		FILE *rj = rejects ? fopen(rejects, "w") : NULL;
		if (fd < 0 || (rejects && !rj)) {
			cli_fail("dataset", EXIT_FAIL, "cannot open %s: %s", fd < 0 ? args[1] : rejects, strerror(errno));
		} else {
			import_result *res = xmalloc(sizeof *res);
			o.org = oid;
			o.rejects = rj;
			int k = dsimport_run(s, args[0], cli_read_fd, &fd, &o, res, err, sizeof err);
			if (k != 0) {
				cli_fail("dataset", EXIT_FAIL, "%s", err);
			} else {
				printf("%s%lld inserted, %lld replaced, %lld rejected in %.2f s\n", o.dry_run ? "dry run: " : "",
				       (long long)res->inserted, (long long)res->replaced, (long long)res->rejected, res->seconds);
				for (int i = 0; i < res->nkept && i < 20; i++)
					fprintf(stderr, "line %llu: %s\n", (unsigned long long)res->kept[i].line, res->kept[i].reason);
				if (res->rejected > 20)
					fprintf(stderr, "... %lld more rejected%s\n", (long long)res->rejected - 20,
					        rejects ? " (all in the rejects file)" : " (--rejects FILE keeps them all)");
				rc = res->inserted + res->replaced == 0 && res->rejected ? EXIT_FAIL : EXIT_OK;
			}
			free(res);
		}
		if (fd > 0)
			close(fd);
		if (rj)
			fclose(rj);
	} else {
		usage(stderr);
		rc = EXIT_USAGE;
	}
	import_opts_free(&o);
	store_close(s);
out:
	cli_params_free(&cp);
	return rc;
}
