/* GET/PUT /api/v1/settings: the caller's organisation settings. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/currency.h"
#include "core/money.h"
#include "http/api.h"
#include "store/settings.h"

static void write_settings(http_req_t *r, store_conn_t *c)
{
	api_org o;
	if (!api_org_load(c, r, &o))
		return;
	api_envelope_begin(r, &o);
	buf_puts(&r->out, "{\"currency\":");
	buf_json_str(&r->out, o.currency, strlen(o.currency));
	buf_printf(&r->out, ",\"minor_units\":%d,\"opening_balance\":%lld}", o.minor_units,
	           (long long)o.opening_balance);
	api_envelope_end(r);
	http_json(r, 200);
}

void api_settings_get(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	store_conn_t *c = store_read_begin(http_server_store(srv));
	write_settings(r, c);
	store_read_end(c);
}

/* opening_balance: integer minor units, or a decimal string in the minor
 * units of cur ("1234.56"; JPY "1234"). false with a 400 set on r. */
static bool read_balance(http_req_t *r, json_t *v, const char *cur, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return true;
	}
	int minor = currency_minor(cur, 3);
	if (json_is_string(v)) {
		money_status st = money_parse_minor(json_string_value(v), json_string_length(v), NULL, minor, out, NULL);
		if (st == MONEY_OK)
			return true;
		http_problem(r, 400, "opening_balance '%.40s': %s (%s has %d decimal places)", json_string_value(v),
		             st == MONEY_PRECISION ? "too many decimal places" : money_strerror(st), cur, minor);
		return false;
	}
	http_problem(r, 400, "opening_balance is integer minor units of %s or a decimal string such as \"%s\", never "
	                     "a floating-point number", cur, minor == 0 ? "1234" : minor == 3 ? "1234.567" : "1234.56");
	return false;
}

void api_settings_put(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	json_t *root = api_json_body(r, "settings");
	if (!root)
		return;
	store_conn_t *w = NULL;
	if (!json_is_object(root)) {
		http_problem(r, 400, "the body must be an object such as {\"currency\":\"EUR\",\"opening_balance\":0}");
		goto out;
	}
	const char *key;
	json_t *val, *jcur = NULL, *jbal = NULL, *jforce = NULL;
	json_object_foreach(root, key, val) {
		if (!strcmp(key, "currency"))
			jcur = val;
		else if (!strcmp(key, "opening_balance"))
			jbal = val;
		else if (!strcmp(key, "force"))
			jforce = val;
		else {
			http_problem(r, 400, "unknown setting '%.40s' (settings: currency, opening_balance, force)", key);
			goto out;
		}
	}
	if (jcur && !json_is_string(jcur)) {
		http_problem(r, 400, "currency must be an ISO 4217 code string such as \"EUR\"");
		goto out;
	}
	if (jforce && !json_is_boolean(jforce)) {
		http_problem(r, 400, "force must be true or false");
		goto out;
	}
	char code[4] = "";
	if (jcur && !currency_canon(json_string_value(jcur), json_string_length(jcur), code)) {
		http_problem(r, 400, "'%.16s' is not an ISO 4217 currency code (e.g. USD, EUR, JPY)", json_string_value(jcur));
		goto out;
	}
	char err[512];
	w = store_write_begin(http_server_store(srv), err, sizeof err);
	if (!w) {
		http_problem(r, 503, "%s", err);
		goto out;
	}
	org_settings cur;
	if (!settings_get(w, r->org, &cur)) {
		http_problem(r, 500, "the organisation of this token no longer exists");
		goto out;
	}
	int64_t bal = 0;
	if (jbal && !read_balance(r, jbal, code[0] ? code : cur.currency, &bal))
		goto out;
	settings_status st = settings_update(w, r->org, code[0] ? code : NULL, jbal ? &bal : NULL,
	                                     jforce && json_is_true(jforce), err, sizeof err);
	if (st != SETTINGS_OK) {
		http_problem(r, st == SETTINGS_CONFLICT ? 409 : st == SETTINGS_INVALID ? 400 : 500, "%s", err);
		goto out;
	}
	if (store_write_commit(w, err, sizeof err) != 0) {
		w = NULL;
		http_problem(r, 500, "%s", err);
		goto out;
	}
	w = NULL;
	store_conn_t *c = store_read_begin(http_server_store(srv));
	write_settings(r, c);
	store_read_end(c);
out:
	if (w)
		store_write_rollback(w);
	json_decref(root);
}
