/* Reconciliation over HTTP: run, proposals, a person's decisions, explain. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "match/explain.h"
#include "match/matcher.h"

/* Starts the standard envelope (org, currency) for a GET answer. */
static bool envelope(http_server_t *srv, http_req_t *r)
{
	api_org o;
	store_conn_t *c = store_read_begin(http_server_store(srv));
	bool ok = api_org_load(c, r, &o);
	store_read_end(c);
	if (ok)
		api_envelope_begin(r, &o);
	return ok;
}

static int status_of(matcher_status st)
{
	switch (st) {
	case MATCHER_OK: return 200;
	case MATCHER_NOT_FOUND: return 404;
	case MATCHER_CONFLICT: return 409;
	case MATCHER_INVALID: return 422;
	default: return 503;
	}
}

/* Parses an optional threshold parameter into *out (0..1). */
static bool threshold(http_req_t *r, const char *name, double *out)
{
	const char *v = query_get(&r->query, name);
	if (!v)
		return true;
	char *end;
	double d = strtod(v, &end);
	if (*end || end == v || d < 0 || d > 1) {
		http_problem(r, 400, "'%s' must be a number from 0 to 1", name);
		return false;
	}
	*out = d;
	return true;
}

void api_match_run(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {"dry_run", "auto", "review", NULL};
	if (!api_check_params(r, allowed))
		return;
	matcher_opts o;
	matcher_opts_init(&o);
	if (!api_flag(r, "dry_run", &o.dry_run))
		return;
	if (!threshold(r, "auto", &o.score.auto_threshold) || !threshold(r, "review", &o.score.review_threshold))
		return;
	char err[256];
	if (!score_opts_check(&o.score, err, sizeof err)) {
		http_problem(r, 400, "%s", err);
		return;
	}
	matcher_result res;
	if (matcher_run(http_server_store(srv), r->org, &o, &res, err, sizeof err) != 0) {
		http_problem(r, strstr(err, "busy") ? 503 : 500, "reconciliation failed: %s", err);
		return;
	}
	buf_printf(&r->out,
	           "{\"data\":{\"payments\":%lld,\"invoices\":%lld,\"applied\":%lld,\"proposed\":%lld,"
	           "\"unmatched\":%lld,\"changed\":%lld,\"dry_run\":%s,\"seconds\":%.3f}}",
	           (long long)res.payments, (long long)res.invoices, (long long)res.applied, (long long)res.proposed,
	           (long long)res.unmatched, (long long)res.changed, o.dry_run ? "true" : "false", res.seconds);
	http_json(r, 200);
}

void api_match_proposals(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {"cursor", "limit", NULL};
	if (!api_check_params(r, allowed))
		return;
	long long limit = 100;
	const char *v;
	char *end;
	const char *cursor = query_get(&r->query, "cursor");
	if ((v = query_get(&r->query, "limit")) && ((limit = strtoll(v, &end, 10)) < 1 || limit > 1000 || *end)) {
		http_problem(r, 400, "limit must be a whole number from 1 to 1000");
		return;
	}
	char err[256];
	if (!envelope(srv, r))
		return;
	matcher_status st = explain_proposals(http_server_store(srv), r->org, cursor, (int)limit, &r->out, err, sizeof err);
	if (st != MATCHER_OK) {
		http_problem(r, st == MATCHER_INVALID ? 400 : status_of(st), "%s", err);
		return;
	}
	buf_putc(&r->out, '}');
	http_json(r, 200);
}

static void decided(http_req_t *r, matcher_status st, const char *err, const char *what)
{
	if (st != MATCHER_OK) {
		http_problem(r, status_of(st), "%s", err);
		return;
	}
	buf_printf(&r->out, "{\"data\":{\"payment_id\":");
	buf_json_str(&r->out, r->params[0].p, r->params[0].len);
	buf_printf(&r->out, ",\"decision\":\"%s\"}}", what);
	http_json(r, 200);
}

void api_match_confirm(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	char err[256];
	matcher_status st = matcher_confirm(http_server_store(srv), r->org, r->params[0].p, r->params[0].len, err, sizeof err);
	decided(r, st, err, "confirmed");
}

void api_match_reject(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	char err[256];
	matcher_status st = matcher_reject(http_server_store(srv), r->org, r->params[0].p, r->params[0].len, err, sizeof err);
	decided(r, st, err, "rejected");
}

/* POST /api/v1/match/manual {"payment_id","invoice_id","amount"?} */
void api_match_manual(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	json_t *root = api_json_body(r, "the match");
	if (!root)
		return;
	json_t *p = json_object_get(root, "payment_id"), *i = json_object_get(root, "invoice_id");
	json_t *a = json_object_get(root, "amount");
	if (!json_is_string(p) || !json_is_string(i) || (a && !json_is_integer(a))) {
		http_problem(r, 400, "send {\"payment_id\": \"...\", \"invoice_id\": \"...\", \"amount\": cents (optional, "
		                     "default: what is left of the payment)}");
		json_decref(root);
		return;
	}
	char err[256];
	matcher_status st = matcher_manual(http_server_store(srv), r->org, json_string_value(p), json_string_length(p),
	                                   json_string_value(i), json_string_length(i), a ? json_integer_value(a) : 0,
	                                   err, sizeof err);
	if (st != MATCHER_OK) {
		http_problem(r, status_of(st), "%s", err);
	} else {
		buf_puts(&r->out, "{\"data\":{\"payment_id\":");
		buf_json_str(&r->out, json_string_value(p), json_string_length(p));
		buf_puts(&r->out, ",\"invoice_id\":");
		buf_json_str(&r->out, json_string_value(i), json_string_length(i));
		buf_puts(&r->out, ",\"decision\":\"manual\"}}");
		http_json(r, 200);
	}
	json_decref(root);
}

void api_match_explain(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	char err[256];
	if (!envelope(srv, r))
		return;
	matcher_status st = explain_payment(http_server_store(srv), r->org, r->params[0].p, r->params[0].len, NULL,
	                                    &r->out, err, sizeof err);
	if (st != MATCHER_OK) {
		http_problem(r, status_of(st), "%s", err);
		return;
	}
	buf_putc(&r->out, '}');
	http_json(r, 200);
}
