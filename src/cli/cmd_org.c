/* brisk org show|set: an organisation's settings (currency, opening
 * balance). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/subcmd.h"
#include "core/currency.h"
#include "core/money.h"
#include "store/settings.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk org show --org ORG [--data DIR]\n"
	           "       brisk org set --org ORG [--currency CODE] [--opening-balance AMOUNT] [--force] [--data DIR]\n"
	           "\n"
	           "  --currency CODE          the organisation's currency, ISO 4217 (USD, EUR, JPY, KWD...);\n"
	           "                           default USD. Amounts are stored in its minor units (cents for\n"
	           "                           USD, whole yen for JPY, fils for KWD), so it is refused once\n"
	           "                           the organisation holds rows, unless --force\n"
	           "  --opening-balance AMOUNT cash at the start of the data, e.g. 1234.56 (JPY: 1234)\n"
	           "  --force                  change the currency of an organisation that holds rows: its\n"
	           "                           stored amounts are then read in the new currency\n"
	           "\n"
	           "set creates the organisation when it does not exist yet, so its currency can be\n"
	           "set before the first import.\n");
}

static void show(const char *slug, const org_settings *o)
{
	char bal[MONEY_BUFSZ];
	money_format_minor(o->opening_balance, o->minor, bal);
	printf("org: %s\ncurrency: %s (%d decimal place%s)\nopening_balance: %s %s\n", slug, o->currency, o->minor,
	       o->minor == 1 ? "" : "s", bal, o->currency);
}

int cmd_org(int argc, char **argv)
{
	const char *org = NULL, *currency = NULL, *opening = NULL;
	bool force = false;
	const subcmd_opt opts[] = {{"org", 'o', &org, NULL},
	                           {"currency", 'c', &currency, NULL},
	                           {"opening-balance", 'b', &opening, NULL},
	                           {"force", 'f', NULL, &force},
	                           {0}};
	subcmd_args a;
	int done = subcmd_parse(argc, argv, opts, usage, &a);
	if (done >= 0)
		return done;
	const char *sub = a.sub, *data = a.data;
	bool set = !strcmp(sub, "set");
	if (!set && strcmp(sub, "show"))
		return cli_fail("org", EXIT_USAGE, "unknown subcommand '%s' (show, set)", sub);
	if (a.nargs > 0)
		return cli_fail("org", EXIT_USAGE, "unexpected argument '%s'", a.args[0]);
	if (!org)
		return cli_fail("org", EXIT_USAGE, "%s needs --org ORG", sub);
	if (!set && (currency || opening || force))
		return cli_fail("org", EXIT_USAGE, "show takes no settings (did you mean 'brisk org set'?)");
	if (set && !currency && !opening)
		return cli_fail("org", EXIT_USAGE, "set needs --currency and/or --opening-balance");
	char code[4] = "";
	if (currency && !currency_canon(currency, strlen(currency), code))
		return cli_fail("org", EXIT_USAGE, "'%s' is not an ISO 4217 currency code (e.g. USD, EUR, JPY)", currency);

	char err[512];
	store_t *s = store_open(cli_data_dir(data), NULL, err, sizeof err);
	if (!s)
		return cli_fail("org", EXIT_FAIL, "%s", err);
	int rc = EXIT_FAIL;
	int64_t id = store_org_id(s, org, set, err, sizeof err);
	if (id < 0) {
		if (!set && !err[0])
			snprintf(err, sizeof err, "no organisation '%s' (create it with 'brisk org set' or an import)", org);
		cli_fail("org", EXIT_FAIL, "%s", err);
		goto out;
	}
	org_settings o;
	if (set) {
		store_conn_t *w = store_write_begin(s, err, sizeof err);
		if (!w) {
			cli_fail("org", EXIT_FAIL, "%s", err);
			goto out;
		}
		if (!settings_get(w, id, &o)) {
			store_write_rollback(w);
			cli_fail("org", EXIT_FAIL, "cannot read the settings of '%s'", org);
			goto out;
		}
		int64_t bal = 0;
		if (opening) {
			/* The balance is written in the currency being set, if any. */
			const char *cur = code[0] ? code : o.currency;
			int minor = currency_minor(cur, 3);
			money_status st = money_parse_minor(opening, strlen(opening), NULL, minor, &bal, NULL);
			if (st != MONEY_OK) {
				store_write_rollback(w);
				rc = cli_fail("org", EXIT_USAGE, "bad --opening-balance '%s': %s (%s has %d decimal places)",
				              opening, st == MONEY_PRECISION ? "too many decimal places" : money_strerror(st), cur,
				              minor);
				goto out;
			}
		}
		settings_status st = settings_update(w, id, code[0] ? code : NULL, opening ? &bal : NULL, force, err,
		                                     sizeof err);
		if (st != SETTINGS_OK) {
			store_write_rollback(w);
			cli_fail("org", EXIT_FAIL, "%s", err);
			goto out;
		}
		if (store_write_commit(w, err, sizeof err) != 0) {
			cli_fail("org", EXIT_FAIL, "%s", err);
			goto out;
		}
	}
	store_conn_t *r = store_read_begin(s);
	bool ok = settings_get(r, id, &o);
	store_read_end(r);
	if (!ok) {
		cli_fail("org", EXIT_FAIL, "cannot read the settings of '%s'", org);
		goto out;
	}
	show(org, &o);
	rc = EXIT_OK;
out:
	store_close(s);
	return rc;
}
