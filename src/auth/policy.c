#include "auth/policy.h"

#include <stddef.h>
#include <string.h>

static const char *const role_names[] = {"public", "viewer", "analyst", "admin", "operator"};

const char *policy_role_name(int role)
{
	return role >= ROLE_PUBLIC && role <= ROLE_OPERATOR ? role_names[role] : "?";
}

int policy_role_parse(const char *s)
{
	for (int i = ROLE_VIEWER; i <= ROLE_OPERATOR; i++)
		if (s && !strcmp(s, role_names[i]))
			return i;
	return -1;
}

/* The table: every route of api.c by name. Writes of an organisation's
 * data are analyst; what changes who may do what (settings, the cache
 * everyone of the org shares) is admin; what shows every organisation's
 * load is operator. */
static const struct {
	const char *route;
	int role;
} rules[] = {
	/* the web page's shell and assets, probes, the API description */
	{"index", ROLE_PUBLIC},
	{"static", ROLE_PUBLIC},
	{"page_overview", ROLE_PUBLIC},
	{"page_receivables", ROLE_PUBLIC},
	{"page_leads", ROLE_PUBLIC},
	{"page_imports", ROLE_PUBLIC},
	{"page_performance", ROLE_PUBLIC},
	{"page_alerts", ROLE_PUBLIC},
	{"page_datasets", ROLE_PUBLIC},
	{"page_dataset", ROLE_PUBLIC},
	{"healthz", ROLE_PUBLIC},
	{"readyz", ROLE_PUBLIC},
	{"openapi", ROLE_PUBLIC},
	{"sign_in", ROLE_PUBLIC},
	/* reading one's organisation */
	{"session", ROLE_VIEWER},
	{"sign_out", ROLE_VIEWER},
	{"dashboard", ROLE_VIEWER},
	{"overview", ROLE_VIEWER},
	{"cashflow", ROLE_VIEWER},
	{"breakdown", ROLE_VIEWER},
	{"aging", ROLE_VIEWER},
	{"leads_summary", ROLE_VIEWER},
	{"top_customers", ROLE_VIEWER},
	{"dso", ROLE_VIEWER},
	{"payment_behaviour", ROLE_VIEWER},
	{"match_proposals", ROLE_VIEWER},
	{"explain", ROLE_VIEWER},
	{"match_rules", ROLE_VIEWER},
	{"profiles", ROLE_VIEWER},
	{"match_rules_history", ROLE_VIEWER},
	{"match_aliases", ROLE_VIEWER},
	{"tasks_list", ROLE_VIEWER},
	{"task", ROLE_VIEWER},
	{"task_result", ROLE_VIEWER},
	{"events", ROLE_VIEWER},
	{"settings", ROLE_VIEWER},
	{"list", ROLE_VIEWER},
	{"datasets", ROLE_VIEWER},
	{"dataset", ROLE_VIEWER},
	{"dataset_totals", ROLE_VIEWER},
	{"dataset_series", ROLE_VIEWER},
	{"dataset_breakdown", ROLE_VIEWER},
	{"dataset_pivot", ROLE_VIEWER},
	{"dataset_rows", ROLE_VIEWER},
	{"alert_figures", ROLE_VIEWER},
	{"alert_rules", ROLE_VIEWER},
	{"alert_rule", ROLE_VIEWER},
	{"alert_events", ROLE_VIEWER},
	{"schedules", ROLE_VIEWER},
	{"schedule", ROLE_VIEWER},
	/* changing one's organisation's data: imports, reconciliation, exports */
	{"match", ROLE_ANALYST},
	{"match_manual", ROLE_ANALYST},
	{"match_confirm", ROLE_ANALYST},
	{"match_reject", ROLE_ANALYST},
	{"match_aliases_delete", ROLE_ANALYST},
	{"profile_put", ROLE_ANALYST}, /* how the org's files are read: the importers' */
	{"profile_delete", ROLE_ANALYST},
	{"tasks_submit", ROLE_ANALYST},
	{"task_cancel", ROLE_ANALYST},
	{"import", ROLE_ANALYST},
	{"dataset_create", ROLE_ANALYST}, /* a new data set of the org's files: the importers' */
	{"dataset_infer", ROLE_ANALYST},
	{"dataset_import", ROLE_ANALYST},
	{"write", ROLE_ANALYST},
	{"delete", ROLE_ANALYST},
	/* business alerts and scheduled reports send the org's figures out
	 * (webhooks, e-mail): whoever may export them */
	{"alert_rule_create", ROLE_ANALYST},
	{"alert_rule_put", ROLE_ANALYST},
	{"alert_rule_delete", ROLE_ANALYST},
	{"schedule_create", ROLE_ANALYST},
	{"schedule_delete", ROLE_ANALYST},
	{"schedule_run", ROLE_ANALYST},
	/* users, settings, the audit log */
	{"settings_put", ROLE_ADMIN},
	{"match_rules_put", ROLE_ADMIN}, /* the org's reconciliation settings */
	{"cache_clear", ROLE_ADMIN},
	{"dataset_drop", ROLE_ADMIN}, /* its rows go with it */
	{"users", ROLE_ADMIN},
	{"users_add", ROLE_ADMIN},
	{"user_put", ROLE_ADMIN},
	{"tokens", ROLE_ADMIN},
	{"tokens_add", ROLE_ADMIN},
	{"token_delete", ROLE_ADMIN},
	{"audit", ROLE_ADMIN},
	{"alert_deliveries", ROLE_ADMIN}, /* where the org's figures went: URLs, addresses */
	/* the whole server */
	{"metrics", ROLE_OPERATOR},
	{"cache_stats", ROLE_OPERATOR},
	{"performance", ROLE_OPERATOR},
	{"performance_slow", ROLE_OPERATOR},
	{"performance_report", ROLE_OPERATOR},
	{"alerts", ROLE_OPERATOR},
};

int policy_route_role(const char *name)
{
	for (size_t i = 0; name && i < sizeof rules / sizeof rules[0]; i++)
		if (!strcmp(rules[i].route, name))
			return rules[i].role;
	return POLICY_NO_RULE;
}
