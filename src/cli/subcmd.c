#include "cli/subcmd.h"

#include <getopt.h>
#include <string.h>

#include "cli/cli.h"

#define MAX_OPTS 16

int subcmd_parse(int argc, char **argv, const subcmd_opt *opts, void (*usage)(FILE *), subcmd_args *out)
{
	/* the caller's options, then --data and --help: a long option's
	 * val is its index + 256, so it never clashes with a letter */
	subcmd_opt all[MAX_OPTS + 3];
	int n = 0;
	for (; opts[n].name && n < MAX_OPTS; n++)
		all[n] = opts[n];
	memset(out, 0, sizeof *out);
	all[n++] = (subcmd_opt){"data", 'd', &out->data, NULL};
	all[n++] = (subcmd_opt){"help", 'h', NULL, NULL};
	struct option lo[MAX_OPTS + 3];
	char shorts[3 * (MAX_OPTS + 2) + 1];
	size_t sl = 0;
	for (int i = 0; i < n; i++) {
		bool arg = all[i].value != NULL;
		lo[i] = (struct option){all[i].name, arg ? required_argument : no_argument, 0, 256 + i};
		if (all[i].letter) {
			shorts[sl++] = all[i].letter;
			if (arg)
				shorts[sl++] = ':';
		}
	}
	lo[n] = (struct option){0, 0, 0, 0};
	shorts[sl] = '\0';
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		int i = c >= 256 ? c - 256 : -1;
		for (int k = 0; i < 0 && k < n; k++)
			if (all[k].letter && all[k].letter == c)
				i = k;
		if (i < 0) {
			usage(stderr);
			return EXIT_USAGE;
		}
		if (!strcmp(all[i].name, "help")) {
			usage(stdout);
			return EXIT_OK;
		}
		if (all[i].value)
			*all[i].value = optarg;
		else
			*all[i].flag = true;
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	out->sub = argv[optind];
	out->args = argv + optind + 1;
	out->nargs = argc - optind - 1;
	return -1;
}
