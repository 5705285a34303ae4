/* api: the /api/v1 routes. api.c holds the route table and the system
 * endpoints; api_views.c the dashboard views; api_rows.c the entity
 * collections (lists, writes, CSV import). */
#ifndef BRISK_API_H
#define BRISK_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http/server.h"
#include "ingest/import.h"

/* The whole route table (static). */
const http_route *api_routes(size_t *n);

/* Org settings read in the request's snapshot. */
typedef struct {
	char slug[128];
	char currency[8]; /* ISO 4217 */
	int minor_units;  /* its decimals: what "minor units" means in this org's money */
	int64_t opening_balance;
} api_org;

/* Loads the caller's org; false (and a 500 set on r) if it vanished. */
bool api_org_load(store_conn_t *c, http_req_t *r, api_org *o);
/* As api_org_load, for a request that looked at the versions (a view's):
 * the row read at the org's current settings version is kept and given
 * again without a statement while that version stands. */
bool api_org_load_known(store_t *s, store_conn_t *c, http_req_t *r, api_org *o);
/* Starts the standard envelope {"org":..,"currency":..,"minor_units":..,"data": in r->out;
 * api_envelope_end closes it. */
void api_envelope_begin(http_req_t *r, const api_org *o);
void api_envelope_end(http_req_t *r);
/* Rejects parameters outside allowed (NULL-terminated) with a 400 naming
 * the first unknown one. Returns false when it did. */
bool api_check_params(http_req_t *r, const char *const *allowed);

/* The request body as JSON (the caller json_decrefs it), or NULL with a
 * 415 (a Content-Type that is not JSON) or 400 (malformed) set on r; what
 * names the body in the 415 ("settings"). */
json_t *api_json_body(http_req_t *r, const char *what);

/* Reads a boolean parameter (1/true/yes, 0/false/no; absent = false).
 * Anything else is a 400 set on r, and false is returned. */
bool api_flag(http_req_t *r, const char *name, bool *out);

/* A cached view (api_views.c): computes the "data" member of the envelope
 * into out from c's snapshot; 0, or -1 with err. */
typedef int (*api_view_fn)(void *ud, store_conn_t *c, const api_org *o, buf_t *out, char *err, size_t errlen);
/* Serves r from the cache (ETag, 304, compression, tiers, single flight,
 * stale copy when the store fails) keyed by the route, km (the normalised
 * parameters) and the versions of tables; computing with fn(ud) on a
 * miss, from the admission pool. warmable: the cache warmer may replay the
 * request by its route and query alone. ud must live until it returns. */
void api_view_serve(http_server_t *srv, http_req_t *r, unsigned tables, const void *km, size_t kmlen, bool warmable,
                    api_view_fn fn, void *ud);

/* Route handlers. */
void api_views_dashboard(http_server_t *srv, http_req_t *r);
void api_views_overview(http_server_t *srv, http_req_t *r);
void api_views_cashflow(http_server_t *srv, http_req_t *r);
void api_views_breakdown(http_server_t *srv, http_req_t *r);
void api_views_aging(http_server_t *srv, http_req_t *r);
void api_views_leads_summary(http_server_t *srv, http_req_t *r);
void api_views_top_customers(http_server_t *srv, http_req_t *r);
void api_views_dso(http_server_t *srv, http_req_t *r);
void api_views_payment_behaviour(http_server_t *srv, http_req_t *r);
void api_cache_stats(http_server_t *srv, http_req_t *r);
void api_cache_clear(http_server_t *srv, http_req_t *r);
void api_match_run(http_server_t *srv, http_req_t *r);
void api_match_proposals(http_server_t *srv, http_req_t *r);
void api_match_confirm(http_server_t *srv, http_req_t *r);
void api_match_reject(http_server_t *srv, http_req_t *r);
void api_match_manual(http_server_t *srv, http_req_t *r);
void api_match_explain(http_server_t *srv, http_req_t *r);
void api_rules_get(http_server_t *srv, http_req_t *r);
void api_rules_put(http_server_t *srv, http_req_t *r);
void api_rules_history(http_server_t *srv, http_req_t *r);
void api_aliases_list(http_server_t *srv, http_req_t *r);
void api_aliases_delete(http_server_t *srv, http_req_t *r);
void api_rows_list(http_server_t *srv, http_req_t *r);
void api_rows_post(http_server_t *srv, http_req_t *r);
void api_rows_delete(http_server_t *srv, http_req_t *r);
/* Refuses (400) a query parameter that is not an import option or async. */
bool api_check_import_params(http_req_t *r);
void api_rows_import(http_server_t *srv, http_req_t *r);
/* A request body as a csv_read_fn (ud = the reader), and the query as an
 * option lookup (ud = &r->query), for the importers' parsers. */
typedef struct {
	const char *p;
	size_t len, pos;
} api_mem_reader;
ssize_t api_mem_read(void *ud, char *buf, size_t n);
const char *api_query_value(void *ud, const char *name);
/* Answers an import's report (200), or 422 when no row was valid. */
void api_import_report(http_req_t *r, const import_result *res);
void api_settings_get(http_server_t *srv, http_req_t *r);
void api_profiles_list(http_server_t *srv, http_req_t *r);
void api_profiles_put(http_server_t *srv, http_req_t *r);
void api_profiles_delete(http_server_t *srv, http_req_t *r);
void api_settings_put(http_server_t *srv, http_req_t *r);
void api_alerts_figures(http_server_t *srv, http_req_t *r);
void api_alerts_list(http_server_t *srv, http_req_t *r);
void api_alerts_get(http_server_t *srv, http_req_t *r);
void api_alerts_create(http_server_t *srv, http_req_t *r);
void api_alerts_put(http_server_t *srv, http_req_t *r);
void api_alerts_delete(http_server_t *srv, http_req_t *r);
void api_alerts_events(http_server_t *srv, http_req_t *r);
void api_alerts_deliveries(http_server_t *srv, http_req_t *r);
void api_schedules_list(http_server_t *srv, http_req_t *r);
void api_schedules_create(http_server_t *srv, http_req_t *r);
void api_schedules_get(http_server_t *srv, http_req_t *r);
void api_schedules_delete(http_server_t *srv, http_req_t *r);
void api_schedules_run(http_server_t *srv, http_req_t *r);
/* api_auth.c: sign-in sessions, users, API tokens, the audit log */
void api_session_create(http_server_t *srv, http_req_t *r);
void api_session_get(http_server_t *srv, http_req_t *r);
void api_session_delete(http_server_t *srv, http_req_t *r);
void api_users_list(http_server_t *srv, http_req_t *r);
void api_users_add(http_server_t *srv, http_req_t *r);
void api_user_put(http_server_t *srv, http_req_t *r);
void api_tokens_list(http_server_t *srv, http_req_t *r);
void api_tokens_create(http_server_t *srv, http_req_t *r);
void api_token_delete(http_server_t *srv, http_req_t *r);
void api_audit_list(http_server_t *srv, http_req_t *r);
/* api_datasets.c: data sets (issue 13) */
void api_datasets_list(http_server_t *srv, http_req_t *r);
void api_datasets_create(http_server_t *srv, http_req_t *r);
void api_datasets_infer(http_server_t *srv, http_req_t *r);
void api_datasets_get(http_server_t *srv, http_req_t *r);
void api_datasets_drop(http_server_t *srv, http_req_t *r);
void api_datasets_import(http_server_t *srv, http_req_t *r);
void api_datasets_totals(http_server_t *srv, http_req_t *r);
void api_datasets_series(http_server_t *srv, http_req_t *r);
void api_datasets_breakdown(http_server_t *srv, http_req_t *r);
void api_datasets_pivot(http_server_t *srv, http_req_t *r);
void api_datasets_rows(http_server_t *srv, http_req_t *r);

#endif
