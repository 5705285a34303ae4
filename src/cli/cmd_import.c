/* brisk import KIND FILE: the CLI face of src/ingest/import.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "core/log.h"
#include "ingest/import.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: brisk import KIND FILE [options]\n"
	        "\n"
	        "Imports a CSV file of one kind (costs, sales_orders, invoices, payments, leads)\n"
	        "into an organisation, in one transaction: either every valid row is stored or\n"
	        "none is. Rows that break the data contract are rejected with their line and\n"
	        "reason; the rest are imported. Re-importing a file is safe: rows with an\n"
	        "existing id are replaced. FILE may be - for standard input.\n"
	        "\n"
	        "options:\n"
	        "  --org ORG             organisation (default: default; created if missing)\n"
	        "  --data DIR            data directory (default $BRISK_DATA or ./brisk-data)\n"
	        "  --map F=HEADER,...    read field F from column HEADER (or position without a header)\n"
	        "  --set F=VALUE,...     constant value for a field the file lacks (status=completed)\n"
	        "  --rejects FILE        write rejected rows as CSV: line,reason,original columns\n"
	        "  --delimiter C         , ; tab or |  (default ,)\n"
	        "  --encoding E          utf-8 (default), windows-1252, iso-8859-1, iso-8859-2, windows-1250\n"
	        "  --skip N              lines to skip before the header\n"
	        "  --no-header           the file has no header: columns by position\n"
	        "  --date-format FMT     e.g. %%d/%%m/%%Y, %%m/%%d/%%Y, %%d.%%m.%%y, '%%d %%b %%Y'\n"
	        "  --decimal-comma       money uses , as the decimal mark\n"
	        "  --thousands C         accept C as thousands separator (, . space ')\n"
	        "  --currency            accept currency symbols and codes around amounts\n"
	        "  --plus                accept a leading +\n"
	        "  --parens              (12.50) means -12.50\n"
	        "  --round               round more than 2 decimals half-to-even to the cent\n"
	        "  --debit COL --credit COL   amount = credit - debit\n"
	        "  --dry-run             validate and report, store nothing\n"
	        "  -q, --quiet           no progress bar\n");
}

static ssize_t read_fd(void *ud, char *buf, size_t n)
{
	int fd = *(int *)ud;
	for (;;) {
		ssize_t r = read(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

static void on_progress(void *ud, uint64_t bytes, uint64_t rows)
{
	progress_update(ud, bytes, rows);
}

/* Opens the file, the rejects file and the store, imports, closes them.
 * Returns 0, or -1 with err ("FILE: reason" or "line N: reason"). */
static int run(import_opts *o, const char *path, const char *rejects, const char *dir, const char *org, bool quiet,
               import_result *res, char *err, size_t errlen)
{
	int rc = -1;
	store_t *s = NULL;
	int fd = strcmp(path, "-") ? open(path, O_RDONLY) : 0;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	uint64_t total = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	if (rejects && !(o->rejects = fopen(rejects, "w"))) {
		snprintf(err, errlen, "%s: %s", rejects, strerror(errno));
		goto out;
	}
	if (!(s = store_open(dir, NULL, err, errlen)))
		goto out;
	if ((o->org = store_org_id(s, org, true, err, errlen)) < 0)
		goto out;
	progress_t *pg = progress_new(quiet ? NULL : stderr, total, "rows");
	o->progress = on_progress;
	o->progress_ud = pg;
	rc = import_run(s, read_fd, &fd, o, res, err, errlen);
	progress_done(pg);
	progress_free(pg);
	if (rc != 0 && strncmp(err, "line ", 5) != 0) {
		char tmp[512];
		snprintf(tmp, sizeof tmp, "%s: %s", path, err);
		snprintf(err, errlen, "%s", tmp);
	}
out:
	store_close(s);
	if (fd > 0)
		close(fd);
	if (o->rejects)
		fclose(o->rejects);
	return rc;
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{"org", required_argument, 0, 'o'},       {"data", required_argument, 0, 'd'},
		{"map", required_argument, 0, 'm'},       {"set", required_argument, 0, 's'},
		{"rejects", required_argument, 0, 'r'},   {"delimiter", required_argument, 0, 'D'},
		{"encoding", required_argument, 0, 'e'},  {"skip", required_argument, 0, 'k'},
		{"no-header", no_argument, 0, 'H'},       {"date-format", required_argument, 0, 'f'},
		{"decimal-comma", no_argument, 0, 'c'},   {"thousands", required_argument, 0, 't'},
		{"currency", no_argument, 0, 'C'},        {"plus", no_argument, 0, 'p'},
		{"parens", no_argument, 0, 'P'},          {"round", no_argument, 0, 'R'},
		{"debit", required_argument, 0, 'b'},     {"credit", required_argument, 0, 'B'},
		{"dry-run", no_argument, 0, 'n'},         {"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
	const char *org = "default", *data = NULL, *map = NULL, *set = NULL, *rejects = NULL;
	import_opts o = {0};
	bool quiet = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:d:m:s:r:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': org = optarg; break;
		case 'd': data = optarg; break;
		case 'm': map = optarg; break;
		case 's': set = optarg; break;
		case 'r': rejects = optarg; break;
		case 'D':
			if (!strcmp(optarg, "tab") || !strcmp(optarg, "\\t"))
				o.delimiter = '\t';
			else if (strlen(optarg) == 1 && strchr(",;\t|", optarg[0]))
				o.delimiter = optarg[0];
			else
				return cli_fail("import", EXIT_USAGE, "--delimiter must be , ; tab or |");
			break;
		case 'e':
			if (!import_parse_encoding(optarg, &o.encoding))
				return cli_fail("import", EXIT_USAGE, "unknown encoding '%s'", optarg);
			break;
		case 'k': o.skip_lines = atoi(optarg); break;
		case 'H': o.no_header = true; break;
		case 'f': o.parse.date_format = optarg; break;
		case 'c': o.parse.money.decimal = ','; o.parse.money_lenient = true; break;
		case 't': o.parse.money.thousands = optarg[0]; o.parse.money_lenient = true; break;
		case 'C': o.parse.money.symbols = true; o.parse.money_lenient = true; break;
		case 'p': o.parse.money.plus = true; o.parse.money_lenient = true; break;
		case 'P': o.parse.money.parens = true; o.parse.money_lenient = true; break;
		case 'R': o.parse.money.round = true; o.parse.money_lenient = true; break;
		case 'b': o.debit = optarg; break;
		case 'B': o.credit = optarg; break;
		case 'n': o.dry_run = true; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *kind = argv[optind], *path = argv[optind + 1];
	if (!entity_by_name(kind, strlen(kind), &o.kind))
		return cli_fail("import", EXIT_USAGE, "unknown kind '%s' (costs, sales_orders, invoices, payments, leads)", kind);
	if (o.parse.money_lenient && !o.parse.money.decimal)
		o.parse.money.decimal = '.';
	char why[256];
	if (map && !import_parse_map(&o, map, why, sizeof why)) {
		import_opts_free(&o);
		return cli_fail("import", EXIT_USAGE, "--map: %s", why);
	}
	if (set && !import_parse_consts(&o, set, why, sizeof why)) {
		import_opts_free(&o);
		return cli_fail("import", EXIT_USAGE, "--set: %s", why);
	}
	import_result res;
	char err[512];
	int rc = run(&o, path, rejects, cli_data_dir(data), org, quiet, &res, err, sizeof err);
	import_opts_free(&o);
	if (rc != 0) {
		/* "line N: why" becomes "FILE:N: why", the compiler convention */
		unsigned long long line;
		int off = 0;
		if (sscanf(err, "line %llu: %n", &line, &off) == 1 && off > 0)
			return cli_fail("import", EXIT_FAIL, "%s:%llu: %s", path, line, err + off);
		return cli_fail("import", EXIT_FAIL, "%s", err);
	}
	for (int i = 0; i < res.nkept && i < 10; i++)
		fprintf(stderr, "%s:%llu: rejected: %s\n", path, (unsigned long long)res.kept[i].line, res.kept[i].reason);
	if (res.rejected > 10)
		fprintf(stderr, "... and %lld more rejected rows%s\n", (long long)(res.rejected - 10),
		        rejects ? " (all in the rejects file)" : " (use --rejects FILE to get them all)");
	double rows = (double)(res.inserted + res.replaced + res.rejected);
	printf("%s %s: inserted %lld, replaced %lld, rejected %lld in %.2f s (%.0f rows/s)%s\n", kind, path,
	       (long long)res.inserted, (long long)res.replaced, (long long)res.rejected, res.seconds,
	       res.seconds > 0 ? rows / res.seconds : 0, o.dry_run ? " [dry run: nothing stored]" : "");
	return EXIT_OK;
}
