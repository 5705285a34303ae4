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
#include "core/currency.h"
#include "ingest/import.h"
#include "ingest/prepare.h"
#include "ingest/preview.h"
#include "monitor/process.h"
#include "store/settings.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: brisk import KIND FILE [options]\n"
	        "\n"
	        "Imports a CSV file of one kind (costs, sales_orders, invoices, payments, leads)\n"
	        "into an organisation, in one transaction: either every valid row is stored or\n"
	        "none is. Rows that break the data contract are rejected with their line and\n"
	        "reason (and the option that would read them, when there is one); the rest are\n"
	        "imported. Before anything is written, the first 1000 rows are checked against\n"
	        "the options (a date format or thousands separator that cannot be right stops\n"
	        "the import). Re-importing a file is safe: rows with an existing id are\n"
	        "replaced; rows without an id get one from their raw content. Ids repeated\n"
	        "within a file stop the import. FILE may be - for standard input.\n"
	        "Exports whose values are not brisk's (CRM stages, Sales and Profit, bank\n"
	        "descriptions) import with --compute, --values, rules and --where, applied in\n"
	        "that order before validation: worked examples in docs/import-recipes.md.\n"
	        "Exit status: 0 imported (warnings on stderr), 1 the file failed or every row\n"
	        "was rejected (nothing stored), 2 bad usage.\n"
	        "\n"
	        "options (over HTTP the same names with _ for -, e.g. date_format=):\n"
	        "  --org ORG             organisation (default: default; created if missing)\n"
	        "  --data DIR            data directory (default $BRISK_DATA or ./brisk-data)\n"
	        "  --map F=HEADER,...    read field F from column HEADER (or position without a header)\n"
	        "  --set F=VALUE,...     constant value for a field the file lacks (status=completed)\n"
	        "  --default F=VALUE,... value for a field when the file's is empty or missing\n"
	        "  --rejects FILE        write rejected rows as CSV: line,reason,original columns\n"
	        "  --delimiter C         , ; tab or |  (default ,)\n"
	        "  --encoding E          utf-8 (default), windows-1252, iso-8859-1, iso-8859-2, windows-1250\n"
	        "  --skip N              lines to skip before the header\n"
	        "  --no-header           the file has no header: columns by position\n"
	        "  --date-format FMT     for every date and timestamp field, e.g. %%d/%%m/%%Y, %%m/%%d/%%Y,\n"
	        "                        %%d.%%m.%%y, '%%d %%b %%Y' (%%y: 69-99 are 19yy, 00-68 20yy); a time\n"
	        "                        and offset may follow the date (or use %%H %%M %%S %%z)\n"
	        "  --decimal-comma       money uses , as the decimal mark\n"
	        "  --thousands C         accept C as thousands separator (, . space ')\n"
	        "  --currency            accept currency symbols and codes around amounts (an ISO\n"
	        "                        code is kept: the row's currency, see brisk org)\n"
	        "  --plus                accept a leading +\n"
	        "  --parens              (12.50) means -12.50\n"
	        "  --trailing-minus      12.50- means -12.50 (SAP and mainframe exports)\n"
	        "  --round               round more than 2 decimals half-to-even to the cent\n"
	        "  --debit COL --credit COL   amount = credit - debit (a debit is money out\n"
	        "                        whatever its sign; with --round rounded once, after)\n"
	        "  --negate              amounts have the opposite sign (card statements)\n"
	        "  --sign-column COL --negative-values V1,V2   a column whose values V1, V2...\n"
	        "                        make the (unsigned) amount negative, e.g. DR or O\n"
	        "  --allow-duplicate-ids an id repeated in the file: keep its last row\n"
	        "  --values F=FROM:TO,FROM:TO,...   recode a field's values (FROM ignores case and\n"
	        "                        spaces), e.g. status=Prospecting:new,Engaging:contacted\n"
	        "  --compute F=EXPR,...  a field from the columns: + - and * by a constant, exact\n"
	        "                        (amount=\"Sales - Profit\"), coalesce(a, b), abs(x);\n"
	        "                        a column name with spaces goes in [brackets]\n"
	        "  --where COND          keep only rows where COND holds (deal_stage != Lost,\n"
	        "                        amount != 0; and/or/not, = != < <= > >=, ~ pattern);\n"
	        "                        repeated: all must hold; left-out rows are counted as skipped\n"
	        "  --rule 'if COND then F=VALUE,...'   set fields on rows where COND holds\n"
	        "                        (description ~ SALARY|PAYROLL then category=Payroll);\n"
	        "                        two matching rules that disagree reject the row\n"
	        "  --rules FILE          rules, one per line (# comments)\n"
	        "  --dry-run             validate and report, store nothing; shows the first rows as\n"
	        "                        they would be stored\n"
	        "  --detect              choose the options from the file's first rows (encoding,\n"
	        "                        delimiter, header, columns, dates, amounts, signs); prints\n"
	        "                        them as a command line with a confidence; refuses with the\n"
	        "                        candidates when unsure. Options given win over detection\n"
	        "  --profile NAME        the options saved as NAME (brisk profile save); options\n"
	        "                        given win over the profile's\n"
	        "  --max-rejects N|P%%    more than N rejected rows (or P%% of the rows): store nothing\n"
	        "  --split               a bank statement (import as payments): credits are stored\n"
	        "                        as payments, debits as costs, in one transaction\n"
	        "  --split-category COL  with --split: the column of a cost's category (default\n"
	        "                        Uncategorised)\n"
	        "  --keep-transfers      with --split: store transfers between own accounts (a\n"
	        "                        payout, a withdrawal to the bank, a top-up; left out and\n"
	        "                        listed by default) as costs and payments\n"
	        "  --allow-overlap       store a statement whose lines twin another import's (the\n"
	        "                        same account in another format: refused by default)\n"
	        "  -q, --quiet           no progress bar\n");
}

ssize_t cli_read_fd(void *ud, char *buf, size_t n)
{
	int fd = *(int *)ud;
	for (;;) {
		ssize_t r = read(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

bool cli_read_rules(const char *path, buf_t *rules)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_put(rules, chunk, n);
	bool ok = !ferror(f);
	fclose(f);
	buf_putc(rules, '\n');
	return ok;
}

static void on_progress(void *ud, uint64_t bytes, uint64_t rows)
{
	progress_update(ud, bytes, rows);
}

typedef struct {
	int shown, minor;
} preview_state;

#define PREVIEW_ROWS 10
/* From this size on an import is a bulk load (store_opts.bulk_load): about
 * 100k rows, where the copy the WAL costs starts to show. */
#define BULK_LOAD_BYTES (8u << 20)

static void on_preview(void *ud, entity_kind k, const record_t *rec, uint64_t line)
{
	preview_state *ps = ud;
	if (ps->shown++ >= PREVIEW_ROWS)
		return;
	buf_t b = BUF_INIT;
	preview_text(k, rec, ps->minor, &b);
	printf("  line %llu -> %s: %.*s\n", (unsigned long long)line, entity_get(k)->name, (int)b.len, b.p);
	buf_free(&b);
}

/* "map: ..." reads "--map: ..." on the command line: "--" before the
 * reasons that start with a list option's name, "" for the others. */
static const char *flag_prefix(const char *why)
{
	static const char *const lists[] = {"map:", "set:", "default:", "values", "compute", "where:"};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		if (!strncmp(why, lists[i], strlen(lists[i])))
			return "--";
	return "";
}

/* Opens the file, the rejects file and the store, imports, closes them.
 * Returns 0, or -1 with err ("FILE: reason" or "line N: reason"). */
static int run(import_opts *o, cli_params *g, const char *path, const char *rejects, const char *dir, const char *org,
               bool quiet, import_result *res, char *err, size_t errlen)
{
	int rc = -1;
	store_t *s = NULL;
	import_prep prep;
	memset(&prep, 0, sizeof prep);
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
	/* A page cache for the indexes' working set (rows go in mostly in key
	 * order: 8 MiB imported 300k invoices as fast as 64), not the server's
	 * 64 MiB per connection, so a file of any size imports in bounded
	 * memory (issue 14: <= 100 MB for a million rows). */
	store_opts so = {.read_conns = 2, .cache_kib = 16 * 1024, .mmap_bytes = -1};
	/* A file of some size writes its pages once where no other process
	 * has the store open (store_opts.bulk_load): a 1M-row file 20% sooner. */
	so.bulk_load = !o->dry_run && total >= BULK_LOAD_BYTES;
	if (!(s = store_open(dir, &so, err, errlen)))
		goto out;
	if ((o->org = store_org_id(s, org, true, err, errlen)) < 0)
		goto out;
	char why[512];
	if (!import_prepare(&prep, s, o, cli_params_get, g, cli_read_fd, &fd, why, sizeof why)) {
		snprintf(err, errlen, "%s%s%s", prep.refused ? "detection is unsure: " : "", flag_prefix(why), why);
		goto out;
	}
	if (prep.detected) {
		buf_t b = BUF_INIT;
		import_prep_cmdline(&prep, o, path, &b);
		fprintf(stderr, "detected (confidence %d%%): %.*s\n", prep.det.confidence, (int)b.len, b.p);
		if (prep.det.notes[0])
			fprintf(stderr, "  because: %s\n", prep.det.notes);
		fprintf(stderr, "  from the first %zu bytes of the file, in %.3f s\n", prep.hlen, prep.detect_seconds);
		buf_free(&b);
	}
	preview_state ps = {0, 2};
	if (o->dry_run) {
		org_settings set;
		store_conn_t *c = store_read_begin(s);
		if (settings_get(c, o->org, &set))
			ps.minor = set.minor;
		store_read_end(c);
		o->preview = on_preview;
		o->preview_ud = &ps;
		printf("first rows as they would be stored:\n");
	}
	/* as `brisk serve` does: the import's transient tables (rollup cells,
	 * a few MiB each, made and freed per flush) would otherwise raise
	 * glibc's mmap threshold and stay in the heap (RSS 90 -> 74 MB at 1M
	 * sales orders) */
	process_heap_tune();
	progress_t *pg = progress_new(quiet ? NULL : stderr, total, "rows");
	o->progress = on_progress;
	o->progress_ud = pg;
	rc = import_run(s, import_prep_read, &prep, o, res, err, errlen);
	progress_done(pg);
	progress_free(pg);
	if (rc != 0 && strncmp(err, "line ", 5) != 0) {
		char tmp[512];
		snprintf(tmp, sizeof tmp, "%s: %s", path, err);
		snprintf(err, errlen, "%s", tmp);
	}
out:
	import_prep_free(&prep);
	store_close(s);
	if (fd > 0)
		close(fd);
	if (o->rejects)
		fclose(o->rejects);
	return rc;
}

int cmd_import(int argc, char **argv)
{
	/* Long options whose name, with _ for -, is an import option. */
	static const struct option opts[] = {
		{"org", required_argument, 0, 'o'},       {"data", required_argument, 0, 'd'},
		{"map", required_argument, 0, 'm'},       {"set", required_argument, 0, 's'},
		{"rejects", required_argument, 0, 'r'},   {"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},            {"default", required_argument, 0, 0},
		{"delimiter", required_argument, 0, 0},   {"encoding", required_argument, 0, 0},
		{"skip", required_argument, 0, 0},        {"no-header", no_argument, 0, 0},
		{"date-format", required_argument, 0, 0}, {"decimal-comma", no_argument, 0, 0},
		{"thousands", required_argument, 0, 0},   {"currency", no_argument, 0, 0},
		{"plus", no_argument, 0, 0},              {"parens", no_argument, 0, 0},
		{"trailing-minus", no_argument, 0, 0},
		{"round", no_argument, 0, 0},             {"debit", required_argument, 0, 0},
		{"credit", required_argument, 0, 0},      {"negate", no_argument, 0, 0},
		{"sign-column", required_argument, 0, 0}, {"negative-values", required_argument, 0, 0},
		{"allow-duplicate-ids", no_argument, 0, 0}, {"dry-run", no_argument, 0, 0},
		{"values", required_argument, 0, 'V'},    {"compute", required_argument, 0, 'C'},
		{"where", required_argument, 0, 'W'},     {"rule", required_argument, 0, 'R'},
		{"rules", required_argument, 0, 'F'},
		{"detect", no_argument, 0, 0},            {"profile", required_argument, 0, 0},
		{"max-rejects", required_argument, 0, 0}, {"split", no_argument, 0, 0},
		{"split-category", required_argument, 0, 0}, {"keep-transfers", no_argument, 0, 0},
		{"allow-overlap", no_argument, 0, 0},
		{0, 0, 0, 0}};
	const char *org = "default", *data = NULL, *rejects = NULL;
	cli_params g = {0};
	import_opts o = {0};
	/* Repeated recoding options add up: values and compute as lists,
	 * --where as "all of them", rules one per line. */
	buf_t where = BUF_INIT, rules = BUF_INIT;
	const char *where1 = NULL; /* the only --where, as typed (its errors point into it) */
	int nwhere = 0;
	bool quiet = false;
	int c, idx, rc = EXIT_USAGE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:d:m:s:r:qh", opts, &idx)) != -1) {
		switch (c) {
		case 0: {
			/* the API's name: the long option's with _ for - */
			char name[32];
			snprintf(name, sizeof name, "%s", opts[idx].name);
			for (char *p = name; *p; p++)
				*p = *p == '-' ? '_' : *p;
			const char *api = name; /* kept by g: the table's own string */
			for (int k = 0; import_option_names[k]; k++)
				if (!strcmp(import_option_names[k], name))
					api = import_option_names[k];
			if (api == name) {
				rc = cli_fail("import", EXIT_USAGE, "--%s is not an import option", opts[idx].name);
				goto out;
			}
			if (!cli_params_add(&g, api, optarg ? optarg : "1", !strcmp(api, "default"))) {
				rc = cli_fail("import", EXIT_USAGE, "--%s is given twice", opts[idx].name);
				goto out;
			}
			break;
		}
		case 'o': org = optarg; break;
		case 'd': data = optarg; break;
		case 'm': cli_params_add(&g, "map", optarg, true); break;
		case 's': cli_params_add(&g, "set", optarg, true); break;
		case 'r': rejects = optarg; break;
		case 'V': cli_params_add(&g, "values", optarg, true); break;
		case 'C': cli_params_add(&g, "compute", optarg, true); break;
		case 'W':
			where1 = optarg;
			buf_printf(&where, "%s(%s)", nwhere++ ? " and " : "", optarg);
			break;
		case 'R': buf_printf(&rules, "%s\n", optarg); break;
		case 'F':
			if (!cli_read_rules(optarg, &rules)) {
				rc = cli_fail("import", EXIT_USAGE, "--rules %s: %s", optarg, strerror(errno));
				goto out;
			}
			break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); rc = EXIT_OK; goto out;
		default: usage(stderr); goto out;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		goto out;
	}
	const char *kind = argv[optind], *path = argv[optind + 1];
	if (!entity_by_name(kind, strlen(kind), &o.kind)) {
		rc = cli_fail("import", EXIT_USAGE, "unknown kind '%s' (costs, sales_orders, invoices, payments, leads)", kind);
		goto out;
	}
	if (nwhere) {
		buf_putc(&where, '\0');
		cli_params_add(&g, "where", nwhere == 1 ? where1 : where.p, false);
	}
	if (rules.len) {
		buf_putc(&rules, '\0');
		cli_params_add(&g, "rules", rules.p, false);
	}
	char why[320];
	{
		/* Bad options are a usage error before the store is opened; a
		 * profile or detection adds options later (run). */
		import_opts check = {.kind = o.kind};
		bool ok = import_options_parse(&check, cli_params_get, &g, why, sizeof why);
		import_opts_free(&check);
		if (!ok) {
			rc = cli_fail("import", EXIT_USAGE, "%s%s", flag_prefix(why), why);
			goto out;
		}
	}
	import_result res;
	char err[900];
	rc = run(&o, &g, path, rejects, cli_data_dir(data), org, quiet, &res, err, sizeof err);
	if (rc != 0) {
		/* "line N: why" becomes "FILE:N: why", the compiler convention */
		unsigned long long line;
		int off = 0;
		if (sscanf(err, "line %llu: %n", &line, &off) == 1 && off > 0)
			rc = cli_fail("import", EXIT_FAIL, "%s:%llu: %s", path, line, err + off);
		else
			rc = cli_fail("import", EXIT_FAIL, "%s", err);
		goto out;
	}
	for (int i = 0; i < res.nkept && i < 10; i++)
		fprintf(stderr, "%s:%llu: rejected: %s\n", path, (unsigned long long)res.kept[i].line, res.kept[i].reason);
	if (res.rejected > 10)
		fprintf(stderr, "... and %lld more rejected rows%s\n", (long long)(res.rejected - 10),
		        rejects ? " (all in the rejects file)" : " (use --rejects FILE to get them all)");
	for (int i = 0; i < res.nwarnings; i++)
		fprintf(stderr, "%s: warning: %s\n", path, res.warnings[i]);
	double rows = (double)(res.inserted + res.replaced + res.rejected);
	char skipped[64] = "", split[128] = "";
	if (o.where)
		snprintf(skipped, sizeof skipped, ", skipped %lld (--where)", (long long)res.skipped);
	if (o.split)
		snprintf(split, sizeof split, " (%lld debits as costs, skipped %lld transfers between own accounts)",
		         (long long)res.split_costs, (long long)res.split_transfers);
	printf("%s %s: inserted %lld, replaced %lld, rejected %lld%s in %.2f s (%.0f rows/s)%s%s\n", kind, path,
	       (long long)res.inserted, (long long)res.replaced, (long long)res.rejected, skipped, res.seconds,
	       res.seconds > 0 ? rows / res.seconds : 0, split, o.dry_run ? " [dry run: nothing stored]" : "");
	rc = EXIT_OK;
	if (res.inserted + res.replaced == 0 && res.rejected > 0)
		rc = cli_fail("import", EXIT_FAIL, "%s: every row was rejected: nothing was stored", path);
out:
	import_opts_free(&o);
	cli_params_free(&g);
	buf_free(&where);
	buf_free(&rules);
	return rc;
}
