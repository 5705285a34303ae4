/* brisk export: the CLI face of src/report/export.c (the same code the
 * export task runs), synchronous, with a progress bar. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "report/export.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk export KIND --out FILE [--format csv|xlsx] [filters] [options]\n"
	           "\n"
	           "Writes every row of KIND (costs, sales_orders, invoices, payments, leads) that\n"
	           "matches the filters, in the order of the list API, to CSV (canonical DATA.md\n"
	           "forms: it imports back unchanged) or XLSX. The file appears only when complete.\n"
	           "\n"
	           "filters (as GET /api/v1/KIND takes them):\n"
	           "  --from DATE --to DATE    on the entity's date column (YYYY-MM-DD)\n"
	           "  --category X --status X --customer X --creator X --vendor X\n"
	           "  --min-amount N --max-amount N   amounts such as 12.50\n"
	           "  --q TEXT                 substring of the text columns (ASCII case-insensitive)\n"
	           "  --sort S                 -date (default), date, -amount, amount\n"
	           "  --fields a,b,c           columns (id is always included)\n"
	           "\n"
	           "options:\n"
	           "  --out FILE         where to write (required)\n"
	           "  --format F         csv or xlsx (default: from the file name, else csv)\n"
	           "  --org ORG          organisation (default: default)\n"
	           "  --data DIR         data directory (default $BRISK_DATA or ./brisk-data)\n"
	           "  -q, --quiet        no progress bar\n");
}

static void on_progress(void *ud, uint64_t rows, uint64_t estimate)
{
	progress_update(ud, estimate ? rows * 1000 / estimate : 0, rows);
}

int cmd_export(int argc, char **argv)
{
	/* long option names map onto the list API's parameter names */
	static const struct option opts[] = {
		{"from", required_argument, 0, 1},       {"to", required_argument, 0, 1},
		{"category", required_argument, 0, 1},   {"status", required_argument, 0, 1},
		{"customer", required_argument, 0, 1},   {"creator", required_argument, 0, 1},
		{"vendor", required_argument, 0, 1},     {"min-amount", required_argument, 0, 1},
		{"max-amount", required_argument, 0, 1}, {"q", required_argument, 0, 1},
		{"sort", required_argument, 0, 1},       {"fields", required_argument, 0, 1},
		{"out", required_argument, 0, 'o'},      {"format", required_argument, 0, 'f'},
		{"org", required_argument, 0, 'g'},      {"data", required_argument, 0, 'd'},
		{"quiet", no_argument, 0, 'q'},          {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	static const char *const api_names[] = {"from",     "to",         "category",   "status", "customer", "creator",
	                                        "vendor",   "min_amount", "max_amount", "q",      "sort",     "fields"};
	cli_params f = {0};
	const char *out = NULL, *format = NULL, *org = "default", *data = NULL;
	bool quiet = false;
	int c, idx;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:f:qh", opts, &idx)) != -1) {
		switch (c) {
		case 1:
			if (!cli_params_add(&f, api_names[idx], optarg, false))
				return cli_fail("export", EXIT_USAGE, "--%s is given twice", opts[idx].name);
			break;
		case 'o': out = optarg; break;
		case 'f': format = optarg; break;
		case 'g': org = optarg; break;
		case 'd': data = optarg; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *kind_name = argv[optind];
	entity_kind kind;
	if (!entity_by_name(kind_name, strlen(kind_name), &kind))
		return cli_fail("export", EXIT_USAGE, "unknown kind '%s' (costs, sales_orders, invoices, payments, leads)",
		                kind_name);
	if (!out)
		return cli_fail("export", EXIT_USAGE, "--out FILE is required");
	export_format fmt = EXPORT_CSV;
	if (format) {
		if (!export_format_parse(format, &fmt))
			return cli_fail("export", EXIT_USAGE, "--format must be csv or xlsx (not '%s')", format);
	} else {
		size_t ol = strlen(out);
		if (ol > 5 && !strcmp(out + ol - 5, ".xlsx"))
			fmt = EXPORT_XLSX;
	}
	char err[512];
	store_t *s = store_open(cli_data_dir(data), NULL, err, sizeof err);
	if (!s)
		return cli_fail("export", EXIT_FAIL, "%s", err);
	int rc = EXIT_OK;
	int64_t oid = store_org_id(s, org, false, err, sizeof err);
	if (oid < 0) {
		rc = cli_fail("export", EXIT_FAIL, "unknown organisation '%s'%s%s", org, *err ? ": " : "", err);
		goto done;
	}
	export_req q;
	if (!export_parse(&q, kind, oid, cli_params_get, &f, err, sizeof err)) {
		rc = cli_fail("export", EXIT_USAGE, "%s", err);
		goto done;
	}
	q.format = fmt;
	progress_t *pg = progress_new(quiet ? NULL : stderr, 1000, "rows");
	uint64_t rows = 0;
	int r = export_run(s, &q, out, on_progress, pg, NULL, &rows, err, sizeof err);
	progress_done(pg);
	progress_free(pg);
	if (r != 0) {
		rc = cli_fail("export", EXIT_FAIL, "%s", err);
		goto done;
	}
	if (!quiet)
		printf("export %s %s: %llu rows to %s\n", org, kind_name, (unsigned long long)rows, out);
done:
	store_close(s);
	return rc;
}
