#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/date.h"
#include "ingest/gen.h"

static const char usage[] =
	"usage: brisk gen [--scale N] [--seed S] [--out DIR] [--end YYYY-MM-DD]\n"
	"                 [--batch X] [--fees X] [--overpay X] [--accounts X]\n"
	"\n"
	"Writes realistic demo data: costs.csv, sales_orders.csv, invoices.csv,\n"
	"payments.csv, leads.csv, and truth.csv (payment_id,invoice_id: the true\n"
	"payment -> invoice matches). Same options, same bytes. The data holds\n"
	"what reconciliation must not confuse: look-alike customers (\"Sunrise\n"
	"Trading\" and \"Sunrise Trading International\"), Cyrillic and Greek\n"
	"customers paying in capitals, a customer's invoices of equal amounts.\n"
	"\n"
	"  --scale N   about N x 10,000 rows per file; fractions allowed (default 1)\n"
	"  --seed S    random seed, an unsigned integer (default 42)\n"
	"  --out DIR   output directory, created if missing (default ./brisk-gen)\n"
	"  --end DATE  last day of the two years of data (default today, UTC)\n"
	"  --batch X   share of payments that pay 2-4 invoices of a customer at once,\n"
	"              naming them or not (0 to 0.5; default 0); truth.csv then has a\n"
	"              row per invoice of such a payment\n"
	"  --fees X    share of single payments short by a bank fee (up to 2% of the\n"
	"              invoice and 10.00; default 0)\n"
	"  --overpay X share of single payments above the invoice (up to +10%; default 0)\n"
	"  --accounts X share of invoice payments that carry the payer's IBAN in a\n"
	"              payer_account column (0 to 1; default 0: no column); also writes\n"
	"              accounts.csv (account,customer_id,kind: own, second or group,\n"
	"              an account three customers of a group pay from)\n";

static void show_progress(void *ud, double frac)
{
	fprintf(stderr, "\rbrisk gen: %3d%%", (int)(frac * 100));
	if (frac >= 1)
		fputc('\n', stderr);
}

int cmd_gen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"scale", required_argument, NULL, 's'},
		{"seed", required_argument, NULL, 'r'},
		{"out", required_argument, NULL, 'o'},
		{"end", required_argument, NULL, 'e'},
		{"batch", required_argument, NULL, 'b'},
		{"fees", required_argument, NULL, 'f'},
		{"overpay", required_argument, NULL, 'v'},
		{"accounts", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	if (cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	gen_opts o;
	gen_opts_init(&o);
	const char *out = "./brisk-gen";
	char *end;
	int ch;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			errno = 0;
			o.scale = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o.scale > 0 && o.scale <= GEN_SCALE_MAX))
				return cli_fail("gen", EXIT_USAGE, "--scale wants a number > 0 and <= %g, not '%s'",
						GEN_SCALE_MAX, optarg);
			break;
		case 'r':
			errno = 0;
			o.seed = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-')
				return cli_fail("gen", EXIT_USAGE, "--seed wants an unsigned integer, not '%s'", optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case 'e':
			if (!date_parse(optarg, strlen(optarg), &o.end))
				return cli_fail("gen", EXIT_USAGE, "--end wants a date YYYY-MM-DD, not '%s'", optarg);
			break;
		case 'b':
		case 'f':
		case 'v':
		case 'a': {
			double *dst = ch == 'b' ? &o.batch : ch == 'f' ? &o.fees : ch == 'v' ? &o.overpay : &o.accounts;
			double most = ch == 'b' ? 0.5 : 1;
			errno = 0;
			*dst = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(*dst >= 0 && *dst <= most))
				return cli_fail("gen", EXIT_USAGE, "%s wants a share within [0, %g], not '%s'",
						ch == 'b'   ? "--batch"
						: ch == 'f' ? "--fees"
						: ch == 'v' ? "--overpay"
						            : "--accounts",
						most, optarg);
			break;
		}
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		case ':':
			return cli_fail("gen", EXIT_USAGE, "%s needs a value (see brisk gen --help)", argv[optind - 1]);
		default:
			return cli_fail("gen", EXIT_USAGE, "unknown option '%s' (see brisk gen --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_fail("gen", EXIT_USAGE, "unexpected argument '%s' (see brisk gen --help)", argv[optind]);

	if (isatty(STDERR_FILENO))
		o.progress = show_progress;
	char err[512];
	gen_counts n;
	double t0 = clock_now_s();
	if (gen_write(out, &o, &n, err, sizeof err) != 0)
		return cli_fail("gen", EXIT_FAIL, "%s", err);
	printf("brisk gen: %s: %" PRIu64 " costs, %" PRIu64 " sales_orders, %" PRIu64 " invoices, %" PRIu64
	       " payments, %" PRIu64 " leads, %" PRIu64 " truth (%" PRIu64 " customers) in %.2f s\n",
	       out, n.costs, n.sales_orders, n.invoices, n.payments, n.leads, n.truth, n.customers, clock_now_s() - t0);
	if (n.accounts)
		printf("brisk gen: %" PRIu64 " accounts in accounts.csv\n", n.accounts);
	return EXIT_OK;
}
