/* brisk match: the CLI face of src/match/matcher.c. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "core/buf.h"
#include "core/money.h"
#include "match/alias.h"
#include "match/matcher.h"
#include "match/rules.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: brisk match [options]\n"
	        "\n"
	        "Reconciles an organisation's payments with its open invoices (rules in\n"
	        "DATA.md): a match at or above the auto threshold is applied, one down to the\n"
	        "review threshold is proposed for review, the rest stay unmatched. Payments a\n"
	        "person confirmed, rejected or matched by hand, and those applied by an earlier\n"
	        "run, are left alone; proposals are decided again. Safe to re-run.\n"
	        "\n"
	        "options:\n"
	        "  --org ORG          organisation (default: default)\n"
	        "  --data DIR         data directory (default $BRISK_DATA or ./brisk-data)\n"
	        "  --dry-run          decide and report, store nothing\n"
	        "  --threads N        scoring threads (default: all cores)\n"
	        "  --report FILE      write every decision as CSV: payment_id,invoice_id,\n"
	        "                     amount_allocated,rule,confidence,decision\n"
	        "  --auto X           confidence to apply automatically (default 0.75)\n"
	        "  --review X         confidence to propose for review (default 0.5)\n"
	        "  --name-threshold X payer/customer name similarity for rules 2-3 (default 0.8)\n"
	        "  -q, --quiet        no progress bar\n"
	        "  --verbose          also print the time of each phase and the index size\n"
	        "\n"
	        "The organisation's own rules (thresholds, tolerances, date windows, which\n"
	        "rules are on; docs/api.md) apply unless an option above says otherwise.\n"
	        "Instead of a run:\n"
	        "  --rules            print the organisation's rules (JSON)\n"
	        "  --set-rules JSON   change some of them, e.g. '{\"writeoff_max\": \"5.00\",\n"
	        "                     \"rules\": {\"batch_amount\": false}}' (the change is kept)\n"
	        "  --rules-history    print the changes of the rules, newest first\n"
	        "  --aliases          print the payer spellings learned from confirmed matches\n"
	        "  --forget-alias P   forget the learned alias of payer P (a spelling or an account)\n");
}

enum { ADMIN_NONE, ADMIN_RULES, ADMIN_SET_RULES, ADMIN_HISTORY, ADMIN_ALIASES, ADMIN_FORGET };

/* The actions that replace a run: rules and aliases. */
static int admin(store_t *s, int64_t org, int action, const char *arg)
{
	buf_t out = BUF_INIT;
	char err[512];
	matcher_status st = MATCHER_OK;
	if (action == ADMIN_RULES) {
		score_opts o;
		store_conn_t *c = store_read_begin(s);
		if (rules_load(c, org, &o, err, sizeof err) != 0)
			st = MATCHER_FAILED;
		else
			rules_json(&o, &out);
		store_read_end(c);
	} else if (action == ADMIN_SET_RULES) {
		const char *user = getenv("USER");
		char actor[128];
		snprintf(actor, sizeof actor, "cli:%s", user && *user ? user : "?");
		st = rules_update(s, org, arg, strlen(arg), actor, &out, err, sizeof err);
	} else if (action == ADMIN_HISTORY) {
		st = rules_history(s, org, 1000, &out, err, sizeof err);
	} else if (action == ADMIN_ALIASES) {
		st = alias_list(s, org, &out, err, sizeof err);
	} else {
		st = alias_remove(s, org, arg, strlen(arg), err, sizeof err);
		if (st == MATCHER_OK)
			buf_printf(&out, "forgot the alias of '%s'", arg);
	}
	int rc = EXIT_OK;
	if (st == MATCHER_OK)
		printf("%s\n", out.p ? out.p : "");
	else
		rc = cli_fail("match", st == MATCHER_INVALID ? EXIT_USAGE : EXIT_FAIL, "%s", err);
	buf_free(&out);
	return rc;
}

typedef struct {
	FILE *f;
	buf_t row;
	int failed;
} report;

static void on_decision(void *ud, const matcher_decision *d)
{
	static const char *const verdicts[] = {"unmatched", "proposed", "applied"};
	report *r = ud;
	buf_t *b = &r->row;
	buf_reset(b);
	buf_csv_field(b, d->payment_id, d->payment_id_len);
	buf_putc(b, ',');
	if (d->invoice_id) {
		char m[MONEY_BUFSZ];
		buf_csv_field(b, d->invoice_id, d->invoice_id_len);
		buf_putc(b, ',');
		buf_put(b, m, money_format(d->amount, m));
	} else {
		buf_putc(b, ',');
	}
	buf_printf(b, ",%s,%.3f,%s\n", score_rule_name(d->rule), d->confidence, verdicts[d->verdict]);
	if (fwrite(b->p, 1, b->len, r->f) != b->len)
		r->failed = errno ? errno : EIO;
}

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
	/* The bar counts per mille; the count shown is payments (two passes). */
	progress_update(ud, total ? done * 1000 / total : 0, done / 2);
}

static bool parse_unit(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 1))
		return false;
	*out = v;
	return true;
}

int cmd_match(int argc, char **argv)
{
	static const struct option opts[] = {
		{"org", required_argument, 0, 'o'},     {"data", required_argument, 0, 'd'},
		{"dry-run", no_argument, 0, 'n'},       {"threads", required_argument, 0, 't'},
		{"report", required_argument, 0, 'r'},  {"auto", required_argument, 0, 'a'},
		{"review", required_argument, 0, 'v'},  {"name-threshold", required_argument, 0, 'N'},
		{"quiet", no_argument, 0, 'q'},         {"verbose", no_argument, 0, 'V'},
		{"help", no_argument, 0, 'h'},          {"rules", no_argument, 0, 'R'},
		{"set-rules", required_argument, 0, 'S'}, {"rules-history", no_argument, 0, 'H'},
		{"aliases", no_argument, 0, 'A'},       {"forget-alias", required_argument, 0, 'F'},
		{0, 0, 0, 0}};
	int action = ADMIN_NONE;
	const char *action_arg = NULL;
	const char *org = "default", *data = NULL, *report_path = NULL;
	matcher_opts o;
	matcher_opts_init(&o);
	bool quiet = false, verbose = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:d:nt:r:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': org = optarg; break;
		case 'd': data = optarg; break;
		case 'n': o.dry_run = true; break;
		case 't': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 1 || n > 1024)
				return cli_fail("match", EXIT_USAGE, "--threads must be 1 to 1024");
			o.threads = (int)n;
			break;
		}
		case 'r': report_path = optarg; break;
		case 'a':
			if (!parse_unit(optarg, &o.score.auto_threshold))
				return cli_fail("match", EXIT_USAGE, "--auto must be a number within [0, 1]");
			break;
		case 'v':
			if (!parse_unit(optarg, &o.score.review_threshold))
				return cli_fail("match", EXIT_USAGE, "--review must be a number within [0, 1]");
			break;
		case 'N':
			if (!parse_unit(optarg, &o.score.name_threshold))
				return cli_fail("match", EXIT_USAGE, "--name-threshold must be a number within [0, 1]");
			break;
		case 'q': quiet = true; break;
		case 'V': verbose = true; break;
		case 'R': action = ADMIN_RULES; break;
		case 'S': action = ADMIN_SET_RULES, action_arg = optarg; break;
		case 'H': action = ADMIN_HISTORY; break;
		case 'A': action = ADMIN_ALIASES; break;
		case 'F': action = ADMIN_FORGET, action_arg = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	char why[160];
	if (!score_opts_check(&o.score, why, sizeof why))
		return cli_fail("match", EXIT_USAGE, "%s", why);

	report rep = {0};
	if (report_path) {
		rep.f = fopen(report_path, "w");
		if (!rep.f)
			return cli_fail("match", EXIT_FAIL, "%s: %s", report_path, strerror(errno));
		fputs("payment_id,invoice_id,amount_allocated,rule,confidence,decision\n", rep.f);
		o.on_decision = on_decision;
		o.decision_ud = &rep;
	}
	char err[512];
	int rc = EXIT_OK;
	/* A run reads every open invoice and payment once: mapped, the whole
	 * file would count in its resident memory (issue 15: <= 1 GB at a
	 * million payments); the page cache bounds it instead. */
	store_opts so = {.mmap_bytes = -1};
	store_t *s = store_open(cli_data_dir(data), &so, err, sizeof err);
	if (!s) {
		rc = cli_fail("match", EXIT_FAIL, "%s", err);
		goto out;
	}
	int64_t oid = store_org_id(s, org, false, err, sizeof err);
	if (oid < 0) {
		rc = cli_fail("match", EXIT_FAIL, "unknown organisation '%s'%s%s", org, *err ? ": " : "", err);
		goto out;
	}
	if (action != ADMIN_NONE) {
		rc = admin(s, oid, action, action_arg);
		goto out;
	}
	progress_t *pg = progress_new(quiet ? NULL : stderr, 1000, "payments");
	o.progress = on_progress;
	o.progress_ud = pg;
	matcher_result res;
	int mrc = matcher_run(s, oid, &o, &res, err, sizeof err);
	progress_done(pg);
	progress_free(pg);
	if (mrc != 0) {
		rc = cli_fail("match", EXIT_FAIL, "%s", err);
		goto out;
	}
	printf("match %s: %lld payments against %lld open invoices: applied %lld, proposed %lld, unmatched %lld "
	       "in %.2f s%s\n",
	       org, (long long)res.payments, (long long)res.invoices, (long long)res.applied, (long long)res.proposed,
	       (long long)res.unmatched, res.seconds, o.dry_run ? " [dry run: nothing stored]" : "");
	if (verbose) {
		printf("load %.2f s, score %.2f s, store %.2f s; index %.1f MiB\n", res.load_seconds, res.score_seconds,
		       res.store_seconds, (double)res.memory / (1 << 20));
		printf("processor: load %.2f s, score %.2f s, store %.2f s\n", res.load_cpu, res.score_cpu, res.store_cpu);
	}
out:
	store_close(s);
	if (rep.f) {
		if (fclose(rep.f) != 0 && !rep.failed)
			rep.failed = errno ? errno : EIO;
		if (rep.failed && rc == EXIT_OK)
			rc = cli_fail("match", EXIT_FAIL, "%s: %s", report_path, strerror(rep.failed));
	}
	buf_free(&rep.row);
	return rc;
}
