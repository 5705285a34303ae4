/* brisk report: the CLI face of src/report/report.c (the same code the
 * report task runs), synchronous, with a progress bar. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "core/date.h"
#include "report/report.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk report --month YYYY-MM --out FILE.pdf [options]\n"
	           "\n"
	           "Writes the monthly management report of an organisation as a PDF (A4, %d\n"
	           "pages): KPIs with their change against the month before, the cash flow of\n"
	           "the last twelve months, costs by category, receivables aging, top customers,\n"
	           "lead follow-ups and the slowest payers. The file appears only when complete.\n"
	           "\n"
	           "options:\n"
	           "  --month YYYY-MM    the month (default: the last complete month)\n"
	           "  --out FILE         where to write the PDF (required)\n"
	           "  --org ORG          organisation (default: default)\n"
	           "  --data DIR         data directory (default $BRISK_DATA or ./brisk-data)\n"
	           "  -q, --quiet        no progress bar\n",
	        REPORT_PAGES);
}

static void on_progress(void *ud, int pct, const char *what)
{
	progress_update(ud, (uint64_t)pct, (uint64_t)pct);
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{"month", required_argument, 0, 'm'}, {"out", required_argument, 0, 'o'},
		{"org", required_argument, 0, 'g'},   {"data", required_argument, 0, 'd'},
		{"quiet", no_argument, 0, 'q'},       {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	const char *month = NULL, *out = NULL, *org = "default", *data = NULL;
	bool quiet = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'm': month = optarg; break;
		case 'o': out = optarg; break;
		case 'g': org = optarg; break;
		case 'd': data = optarg; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!out)
		return cli_fail("report", EXIT_USAGE, "--out FILE is required");
	int y, m, d;
	if (month) {
		if (!report_month_parse(month, &y, &m))
			return cli_fail("report", EXIT_USAGE, "--month must be YYYY-MM, e.g. 2025-06 (not '%s')", month);
	} else {
		date_to_ymd(date_add_months(date_today(), -1), &y, &m, &d);
	}
	char err[512];
	store_t *s = store_open(cli_data_dir(data), NULL, err, sizeof err);
	if (!s)
		return cli_fail("report", EXIT_FAIL, "%s", err);
	int rc = EXIT_OK;
	int64_t oid = store_org_id(s, org, false, err, sizeof err);
	if (oid < 0) {
		rc = cli_fail("report", EXIT_FAIL, "unknown organisation '%s'%s%s", org, *err ? ": " : "", err);
		goto done;
	}
	progress_t *pg = progress_new(quiet ? NULL : stderr, 100, "%");
	int r = report_run(s, oid, y, m, out, on_progress, pg, NULL, err, sizeof err);
	progress_done(pg);
	progress_free(pg);
	if (r != 0) {
		rc = cli_fail("report", EXIT_FAIL, "%s", err);
		goto done;
	}
	if (!quiet)
		printf("report %s %04d-%02d: %s (%d pages)\n", org, y, m, out, REPORT_PAGES);
done:
	store_close(s);
	report_shutdown();
	return rc;
}
