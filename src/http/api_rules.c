/* Reconciliation rules and learned aliases over HTTP (issue 15):
 * GET/PUT /api/v1/match/rules, GET /api/v1/match/rules/history,
 * GET/DELETE /api/v1/match/aliases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "match/alias.h"
#include "match/rules.h"

static int status_of(matcher_status st)
{
	return st == MATCHER_NOT_FOUND ? 404 : st == MATCHER_INVALID ? 422 : st == MATCHER_CONFLICT ? 409 : 503;
}

void api_rules_get(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	score_opts o;
	char err[256];
	store_conn_t *c = store_read_begin(http_server_store(srv));
	int rc = rules_load(c, r->org, &o, err, sizeof err);
	store_read_end(c);
	if (rc != 0) {
		http_problem(r, 500, "%s", err);
		return;
	}
	buf_puts(&r->out, "{\"data\":");
	rules_json(&o, &r->out);
	buf_putc(&r->out, '}');
	http_json(r, 200);
}

void api_rules_put(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	if (r->content_type && !strstr(r->content_type, "json")) {
		http_problem(r, 415, "send the rules as application/json");
		return;
	}
	char err[256];
	buf_t out = BUF_INIT;
	/* The history and the audit log name the user; a token of no user
	 * is named by its channel. */
	const char *actor = r->who.name[0] ? r->who.name : "api";
	matcher_status st = rules_update(http_server_store(srv), r->org, r->body, r->body_len, actor, &out, err,
	                                 sizeof err);
	if (st != MATCHER_OK) {
		http_problem(r, st == MATCHER_INVALID ? 422 : status_of(st), "%s", err);
	} else {
		buf_puts(&r->out, "{\"data\":");
		buf_put(&r->out, out.p, out.len);
		buf_putc(&r->out, '}');
		http_json(r, 200);
	}
	buf_free(&out);
}

void api_rules_history(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {"limit", NULL};
	if (!api_check_params(r, allowed))
		return;
	long long limit = 100;
	const char *v = query_get(&r->query, "limit");
	char *end;
	if (v && ((limit = strtoll(v, &end, 10)) < 1 || limit > 1000 || *end)) {
		http_problem(r, 400, "limit must be a whole number from 1 to 1000");
		return;
	}
	char err[256];
	buf_puts(&r->out, "{\"data\":");
	matcher_status st = rules_history(http_server_store(srv), r->org, (int)limit, &r->out, err, sizeof err);
	if (st != MATCHER_OK) {
		http_problem(r, status_of(st), "%s", err);
		return;
	}
	buf_putc(&r->out, '}');
	http_json(r, 200);
}

void api_aliases_list(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	char err[256];
	buf_puts(&r->out, "{\"data\":");
	matcher_status st = alias_list(http_server_store(srv), r->org, &r->out, err, sizeof err);
	if (st != MATCHER_OK) {
		http_problem(r, status_of(st), "%s", err);
		return;
	}
	buf_putc(&r->out, '}');
	http_json(r, 200);
}

void api_aliases_delete(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {"payer", NULL};
	if (!api_check_params(r, allowed))
		return;
	const char *payer = query_get(&r->query, "payer");
	if (!payer || !*payer) {
		http_problem(r, 400, "name the alias: ?payer=<the payer as listed, or as the bank writes it>");
		return;
	}
	char err[256];
	matcher_status st = alias_remove(http_server_store(srv), r->org, payer, strlen(payer), err, sizeof err);
	if (st != MATCHER_OK) {
		http_problem(r, status_of(st), "%s", err);
		return;
	}
	buf_puts(&r->out, "{\"data\":{\"removed\":");
	buf_json_str(&r->out, payer, strlen(payer));
	buf_puts(&r->out, "}}");
	http_json(r, 200);
}
