/* GET /api/v1/import-profiles, PUT and DELETE /api/v1/import-profiles/{name}:
 * the organisation's saved import options (src/ingest/profile.c), which an
 * import uses with profile=NAME. The web Imports page saves the mapping a
 * user chose on its preview as one. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "http/api.h"
#include "ingest/profile.h"

void api_profiles_list(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	if (!api_check_params(r, allowed))
		return;
	buf_t b = BUF_INIT;
	if (profile_list_json(http_server_store(srv), r->org, &b) != 0) {
		buf_free(&b);
		http_problem(r, 500, "store error reading the profiles");
		return;
	}
	buf_puts(&r->out, "{\"data\":");
	buf_put(&r->out, b.p, b.len);
	buf_putc(&r->out, '}');
	buf_free(&b);
	http_json(r, 200);
}

/* The {name} segment as a checked C string in out; false with a 400 set. */
static bool name_param(http_req_t *r, char *out, size_t cap)
{
	slice_t s = r->params[0];
	char why[160];
	snprintf(out, cap, "%.*s", (int)(s.len < cap ? s.len : cap - 1), s.p);
	if (s.len >= cap || !profile_name_ok(out, why, sizeof why)) {
		http_problem(r, 400, "%s", s.len >= cap ? "profile name too long (at most 64 characters)" : why);
		return false;
	}
	return true;
}

void api_profiles_put(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	char name[80];
	if (!api_check_params(r, allowed) || !name_param(r, name, sizeof name))
		return;
	json_t *root = api_json_body(r, "a profile");
	if (!root)
		return;
	optlist l = {0};
	json_t *kind = json_object_get(root, "kind"), *opts = json_object_get(root, "options");
	const char *key;
	json_t *val;
	char why[400];
	if (!json_is_object(root) || !json_is_object(opts) || (kind && !json_is_string(kind)) ||
	    json_object_size(root) != 1u + (kind != NULL)) {
		http_problem(r, 400, "the body must be {\"kind\":\"payments\",\"options\":{\"delimiter\":\";\",...}} "
		                     "(kind optional; option values are strings, as in the import's query)");
		goto out;
	}
	json_object_foreach(opts, key, val) {
		if (!json_is_string(val)) {
			http_problem(r, 400, "option '%.40s' must be a string (as in the import's query: \"1\" for a flag)", key);
			goto out;
		}
		if (!optlist_set(&l, key, json_string_value(val))) {
			http_problem(r, 400, "too many options (at most %d)", OPTLIST_MAX);
			goto out;
		}
	}
	const char *k = kind ? json_string_value(kind) : "";
	if (!profile_check(&l, k, why, sizeof why)) {
		http_problem(r, 400, "%s", why);
		goto out;
	}
	if (profile_save(http_server_store(srv), r->org, name, k, &l, why, sizeof why) != 0) {
		http_problem(r, strstr(why, "busy") ? 503 : 500, "%s", why);
		goto out;
	}
	buf_puts(&r->out, "{\"data\":{\"name\":");
	buf_json_str(&r->out, name, strlen(name));
	buf_puts(&r->out, ",\"kind\":");
	buf_json_str(&r->out, k, strlen(k));
	buf_puts(&r->out, ",\"options\":");
	profile_options_json(&l, &r->out);
	buf_puts(&r->out, "}}");
	http_json(r, 200);
out:
	optlist_free(&l);
	json_decref(root);
}

void api_profiles_delete(http_server_t *srv, http_req_t *r)
{
	static const char *const allowed[] = {NULL};
	char name[80], why[256];
	if (!api_check_params(r, allowed) || !name_param(r, name, sizeof name))
		return;
	int rc = profile_delete(http_server_store(srv), r->org, name, why, sizeof why);
	if (rc < 0)
		http_problem(r, 500, "%s", why);
	else if (rc == 0)
		http_problem(r, 404, "no profile '%s'", name);
	else {
		buf_puts(&r->out, "{\"deleted\":true}");
		http_json(r, 200);
	}
}
