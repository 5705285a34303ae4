/* brisk alert: business alert rules of an organisation from the shell
 * (the same rules, validation and storage as /api/v1/alert-rules). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "notify/notify.h"
#include "notify/rules.h"
#include "store/settings.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: brisk alert list --org ORG [--data DIR]\n"
	           "       brisk alert add --org ORG --figure NAME --op OP --threshold VALUE [--for DURATION]\n"
	           "                       [--name TEXT] [--severity LEVEL] [--webhook URL]... [--email ADDRESS]...\n"
	           "       brisk alert rm --org ORG --id ID\n"
	           "       brisk alert enable|disable --org ORG --id ID\n"
	           "       brisk alert figures --org ORG\n"
	           "       brisk alert history --org ORG [--id ID] [--limit N]\n"
	           "       brisk alert check --org ORG\n"
	           "       brisk alert secret --org ORG | --operator\n"
	           "\n"
	           "Alert rules watch a dashboard figure and tell when it crosses a line: a running\n"
	           "brisk serve evaluates them at every commit that changes what they read, and\n"
	           "on a timer, and delivers firings to the rules' webhooks and e-mail addresses.\n"
	           "Output is JSON, as the API's /api/v1/alert-rules gives it.\n"
	           "\n"
	           "options:\n"
	           "  --org ORG            the organisation\n"
	           "  --figure NAME        what to watch: see 'brisk alert figures' (cash_balance,\n"
	           "                       overdue_60_count, dso, largest_unmatched_payment...)\n"
	           "  --op OP              <, <=, > or >=: the rule fires while VALUE OP THRESHOLD holds\n"
	           "  --threshold VALUE    in the figure's unit: money as a decimal (20000.00), DSO in\n"
	           "                       days (45.5), counts as whole numbers\n"
	           "  --for DURATION       the condition must hold this long first: 90s, 30m, 12h, 1d\n"
	           "  --name TEXT          for messages (default: the figure and the operator)\n"
	           "  --severity LEVEL     info, warning (default) or critical\n"
	           "  --webhook URL        post signed JSON here when it fires or resolves (repeatable)\n"
	           "  --email ADDRESS      mail here through notify.smtp_url (repeatable)\n"
	           "  --id ID              the rule (list shows ids)\n"
	           "  --limit N            history entries, newest first (default 100)\n"
	           "  --data DIR           data directory (default $BRISK_DATA or ./brisk-data)\n"
	           "\n"
	           "check evaluates the rules now and records what fires or resolves (a running server\n"
	           "sends the deliveries); secret prints the organisation's webhook signing secret\n"
	           "(--operator: the one of notify.operator_webhook, which carries performance alerts).\n");
}

typedef struct {
	bool operator_key;
	const char *org, *data, *figure, *op, *threshold, *dur, *name, *severity, *id, *limit;
	json_t *webhooks, *emails;
} alert_args;

static int open_org(const alert_args *a, store_t **s, int64_t *org)
{
	char err[512];
	*s = store_open(cli_data_dir(a->data), NULL, err, sizeof err);
	if (!*s)
		return cli_fail("alert", EXIT_FAIL, "%s", err);
	*org = store_org_id(*s, a->org, false, err, sizeof err);
	if (*org < 0) {
		store_close(*s);
		*s = NULL;
		return cli_fail("alert", EXIT_FAIL, "%s", err[0] ? err : "no such organisation");
	}
	return EXIT_OK;
}

static int64_t parse_id(const char *s)
{
	char *end;
	long long v = s ? strtoll(s, &end, 10) : 0;
	return s && *s && !*end && v > 0 ? v : 0;
}

static int do_list(store_t *s, int64_t org, bool figures)
{
	store_conn_t *c = store_read_begin(s);
	org_settings os;
	if (!settings_get(c, org, &os)) {
		store_read_end(c);
		return cli_fail("alert", EXIT_FAIL, "cannot read the organisation's settings");
	}
	figure_ctx *x = figure_ctx_new(c, org, date_today());
	buf_t out = BUF_INIT;
	int rc = EXIT_OK;
	char err[256], txt[48];
	if (figures) {
		size_t n;
		const figure_def *f = figures_all(&n);
		for (size_t i = 0; i < n; i++) {
			int64_t v;
			bool null;
			if (figure_eval(x, &f[i], &v, &null, err, sizeof err) != 0) {
				rc = cli_fail("alert", EXIT_FAIL, "%s", err);
				break;
			}
			printf("%-26s %14s  %s\n", f[i].name, null ? "-" : figure_format(&f[i], os.minor, v, txt, sizeof txt),
			       f[i].what);
		}
	} else {
		alert_rule *rules;
		size_t n;
		if (alert_rules_list(c, org, 0, false, &rules, &n) != 0)
			rc = cli_fail("alert", EXIT_FAIL, "reading the rules: %s", store_errmsg(c));
		else {
			for (size_t i = 0; i < n; i++) {
				int64_t v;
				bool null;
				if (figure_eval(x, rules[i].fig, &v, &null, err, sizeof err) == 0) {
					rules[i].has_value = !null;
					rules[i].value = v;
				}
				buf_reset(&out);
				alert_rule_json(&rules[i], os.minor, &out);
				printf("%.*s\n", (int)out.len, out.p);
				alert_rule_clear(&rules[i]);
			}
			free(rules);
		}
	}
	buf_free(&out);
	figure_ctx_free(x);
	store_read_end(c);
	return rc;
}

/* add (id 0) or enable/disable/rm of rule id, in one write transaction. */
static int do_write(store_t *s, int64_t org, const char *sub, const alert_args *a)
{
	char err[512];
	int64_t id = parse_id(a->id);
	if (strcmp(sub, "add") && !id)
		return cli_fail("alert", EXIT_USAGE, "%s needs --id ID (a positive number: see 'brisk alert list')", sub);
	store_conn_t *w = store_write_begin(s, err, sizeof err);
	if (!w)
		return cli_fail("alert", EXIT_FAIL, "%s", err);
	org_settings os;
	alert_rule r;
	alert_rule_init(&r, org);
	int rc = EXIT_FAIL;
	if (!settings_get(w, org, &os)) {
		cli_fail("alert", EXIT_FAIL, "cannot read the organisation's settings");
		goto out;
	}
	if (!strcmp(sub, "rm")) {
		int n = alert_rule_delete(w, org, id);
		if (n <= 0) {
			cli_fail("alert", EXIT_FAIL, n == 0 ? "no rule %lld in '%s'" : "deleting rule %lld of '%s' failed",
			         (long long)id, a->org);
			goto out;
		}
	} else {
		json_t *o = json_object();
		if (id) {
			int f = alert_rule_get(w, org, id, &r);
			if (f != 1) {
				json_decref(o);
				cli_fail("alert", EXIT_FAIL, "no rule %lld in '%s'", (long long)id, a->org);
				goto out;
			}
			json_object_set_new(o, "enabled", json_boolean(!strcmp(sub, "enable")));
		} else {
			const char *keys[] = {"figure", "op", "threshold", "for", "name", "severity"};
			const char *vals[] = {a->figure, a->op, a->threshold, a->dur, a->name, a->severity};
			for (int i = 0; i < 6; i++)
				if (vals[i])
					json_object_set_new(o, keys[i], json_string(vals[i]));
			if (a->webhooks)
				json_object_set(o, "webhooks", a->webhooks);
			if (a->emails)
				json_object_set(o, "emails", a->emails);
		}
		int bad = alert_rule_from_json(o, os.minor, id == 0, &r, err, sizeof err);
		json_decref(o);
		if (bad) {
			rc = cli_fail("alert", EXIT_USAGE, "%s", err);
			goto out;
		}
		if ((id ? alert_rule_update(w, &r, err, sizeof err) : alert_rule_insert(w, &r, err, sizeof err)) != 0) {
			cli_fail("alert", EXIT_FAIL, "%s", err);
			goto out;
		}
	}
	if (store_write_commit(w, err, sizeof err) != 0) {
		w = NULL;
		cli_fail("alert", EXIT_FAIL, "%s", err);
		goto out;
	}
	w = NULL;
	if (!strcmp(sub, "rm"))
		printf("deleted rule %lld\n", (long long)id);
	else {
		buf_t out = BUF_INIT;
		alert_rule_json(&r, os.minor, &out);
		printf("%.*s\n", (int)out.len, out.p);
		buf_free(&out);
	}
	rc = EXIT_OK;
out:
	if (w)
		store_write_rollback(w);
	alert_rule_clear(&r);
	return rc;
}

static int do_history(store_t *s, int64_t org, const alert_args *a)
{
	int64_t limit = a->limit ? parse_id(a->limit) : 100;
	if (limit < 1 || limit > 1000)
		return cli_fail("alert", EXIT_USAGE, "--limit is a whole number from 1 to 1000");
	if (a->id && !parse_id(a->id))
		return cli_fail("alert", EXIT_USAGE, "--id is a rule id (a positive number)");
	store_conn_t *c = store_read_begin(s);
	buf_t out = BUF_INIT;
	int rc = alert_events_json(c, org, parse_id(a->id), (int)limit, &out);
	store_read_end(c);
	if (rc == 0)
		printf("%.*s\n", (int)out.len, out.p);
	buf_free(&out);
	return rc == 0 ? EXIT_OK : cli_fail("alert", EXIT_FAIL, "reading the history failed");
}

static int do_secret(store_t *s, int64_t org)
{
	char err[512], secret[65];
	store_conn_t *w = store_write_begin(s, err, sizeof err);
	if (!w)
		return cli_fail("alert", EXIT_FAIL, "%s", err);
	if (outbox_secret(w, org, secret) != 0) {
		store_write_rollback(w);
		return cli_fail("alert", EXIT_FAIL, "reading the secret failed");
	}
	if (store_write_commit(w, err, sizeof err) != 0)
		return cli_fail("alert", EXIT_FAIL, "%s", err);
	printf("%s\n", secret);
	return EXIT_OK;
}

static bool add_target(json_t **arr, const char *v)
{
	if (!*arr)
		*arr = json_array();
	return json_array_append_new(*arr, json_string(v)) == 0;
}

int cmd_alert(int argc, char **argv)
{
	static const struct option opts[] = {
		{"org", required_argument, 0, 'o'},       {"data", required_argument, 0, 'd'},
		{"figure", required_argument, 0, 'f'},    {"op", required_argument, 0, 'p'},
		{"threshold", required_argument, 0, 't'}, {"for", required_argument, 0, 'F'},
		{"name", required_argument, 0, 'n'},      {"severity", required_argument, 0, 's'},
		{"webhook", required_argument, 0, 'w'},   {"email", required_argument, 0, 'e'},
		{"id", required_argument, 0, 'i'},        {"limit", required_argument, 0, 'l'},
		{"operator", no_argument, 0, 'O'},        {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	alert_args a = {0};
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:d:f:p:t:F:n:s:w:e:i:l:Oh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': a.org = optarg; break;
		case 'd': a.data = optarg; break;
		case 'f': a.figure = optarg; break;
		case 'p': a.op = optarg; break;
		case 't': a.threshold = optarg; break;
		case 'F': a.dur = optarg; break;
		case 'n': a.name = optarg; break;
		case 's': a.severity = optarg; break;
		case 'w': add_target(&a.webhooks, optarg); break;
		case 'e': add_target(&a.emails, optarg); break;
		case 'i': a.id = optarg; break;
		case 'l': a.limit = optarg; break;
		case 'O': a.operator_key = true; break;
		case 'h': usage(stdout); rc = EXIT_OK; goto done;
		default: usage(stderr); rc = EXIT_USAGE; goto done;
		}
	}
	static const char *const subs[] = {"list", "add", "rm", "enable", "disable", "figures", "history", "check",
	                                   "secret", NULL};
	const char *sub = optind < argc ? argv[optind] : NULL;
	int k = 0;
	while (sub && subs[k] && strcmp(subs[k], sub))
		k++;
	if (!sub || !subs[k]) {
		rc = sub ? cli_fail("alert", EXIT_USAGE, "unknown subcommand '%s' (list, add, rm, enable, disable, figures, "
		                                         "history, check, secret)", sub)
		         : (usage(stderr), EXIT_USAGE);
		goto done;
	}
	if (optind + 1 < argc) {
		rc = cli_fail("alert", EXIT_USAGE, "unexpected argument '%s'", argv[optind + 1]);
		goto done;
	}
	if (a.operator_key && strcmp(sub, "secret")) {
		rc = cli_fail("alert", EXIT_USAGE, "--operator goes with 'secret'");
		goto done;
	}
	if (a.operator_key) { /* organisation 0: the operator's deliveries */
		char err[512];
		store_t *st = store_open(cli_data_dir(a.data), NULL, err, sizeof err);
		rc = st ? do_secret(st, 0) : cli_fail("alert", EXIT_FAIL, "%s", err);
		store_close(st);
		goto done;
	}
	if (!a.org) {
		rc = cli_fail("alert", EXIT_USAGE, "%s needs --org ORG", sub);
		goto done;
	}
	if (strcmp(sub, "add") && (a.figure || a.op || a.threshold || a.dur || a.name || a.severity || a.webhooks ||
	                          a.emails)) {
		rc = cli_fail("alert", EXIT_USAGE, "--figure, --op, --threshold, --for, --name, --severity, --webhook and "
		                                   "--email go with 'add'");
		goto done;
	}
	store_t *s = NULL;
	int64_t org = 0;
	if ((rc = open_org(&a, &s, &org)) != EXIT_OK)
		goto done;
	if (!strcmp(sub, "list") || !strcmp(sub, "figures"))
		rc = do_list(s, org, sub[0] == 'f');
	else if (!strcmp(sub, "history"))
		rc = do_history(s, org, &a);
	else if (!strcmp(sub, "secret"))
		rc = do_secret(s, org);
	else if (!strcmp(sub, "check")) {
		char err[512];
		notify_t *n = notify_new(s, NULL, NULL);
		int changed = notify_evaluate(n, org, 0, err, sizeof err);
		notify_free(n);
		if (changed < 0)
			rc = cli_fail("alert", EXIT_FAIL, "%s", err);
		else
			printf("%d rule%s fired or resolved\n", changed, changed == 1 ? "" : "s");
	} else
		rc = do_write(s, org, sub, &a);
	store_close(s);
done:
	json_decref(a.webhooks);
	json_decref(a.emails);
	return rc;
}
