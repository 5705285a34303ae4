#include "notify/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "core/money.h"
#include "core/date.h"

void alert_rule_init(alert_rule *r, int64_t org)
{
	memset(r, 0, sizeof *r);
	r->org = org;
	r->enabled = true;
	strcpy(r->severity, "warning");
	strcpy(r->state, "ok");
}

void alert_rule_clear(alert_rule *r)
{
	free(r->channels);
	r->channels = NULL;
}

/* "90", "90s", "30m", "12h", "1d" (or an integer of seconds) -> seconds. */
static bool parse_duration(json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return *out >= 0 && *out <= 366 * 86400;
	}
	if (!json_is_string(v))
		return false;
	const char *s = json_string_value(v);
	char *end;
	long long n = strtoll(s, &end, 10);
	if (end == s || n < 0)
		return false;
	long long mul = !*end ? 1 : !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600
	                : !strcmp(end, "d") ? 86400 : -1;
	if (mul < 0 || n > 366LL * 86400 / mul)
		return false;
	*out = n * mul;
	return true;
}

/* An http(s) URL without spaces or controls, or a plain e-mail address:
 * both end up in requests and mail headers, so CR/LF must never pass. */
static bool valid_target(const char *s, bool email)
{
	size_t n = strlen(s);
	if (n == 0 || n > 500)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || (email && strchr("<>,;\"\\()[]", s[i])))
			return false;
	if (email) {
		const char *at = strchr(s, '@');
		return at && at != s && !strchr(at + 1, '@') && strchr(at + 1, '.') && at[1] != '.';
	}
	return (!strncmp(s, "http://", 7) && n > 7) || (!strncmp(s, "https://", 8) && n > 8);
}

int alert_channels_parse(json_t *o, const char *old, char **out, char *err, size_t errlen)
{
	json_t *ch = json_object();
	json_t *prev = old ? json_loads(old, 0, NULL) : NULL;
	static const char *const keys[] = {"webhooks", "emails"};
	int rc = 0;
	for (int k = 0; k < 2 && rc == 0; k++) {
		json_t *v = json_object_get(o, keys[k]);
		if (!v) /* an update naming one list keeps the other */
			v = json_object_get(prev, keys[k]);
		json_t *arr = json_array();
		json_object_set_new(ch, keys[k], arr);
		if (v && !json_is_array(v)) {
			snprintf(err, errlen, "%s must be an array of %s", keys[k], k ? "e-mail addresses" : "http(s) URLs");
			rc = -1;
		} else if (json_array_size(v) > RULE_MAX_TARGETS) {
			snprintf(err, errlen, "%s: at most %d", keys[k], RULE_MAX_TARGETS);
			rc = -1;
		}
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			if (rc)
				break;
			if (!json_is_string(e) || !valid_target(json_string_value(e), k == 1)) {
				snprintf(err, errlen, "%s[%zu] is not %s", keys[k], i,
				         k ? "an e-mail address such as ops@example.com" : "an http:// or https:// URL");
				rc = -1;
			} else
				json_array_append(arr, e);
		}
	}
	if (rc == 0) {
		free(*out);
		*out = json_dumps(ch, JSON_COMPACT);
	}
	json_decref(ch);
	json_decref(prev);
	return rc;
}

int notify_common_fields(json_t *o, bool create, const char *default_name, char *name, size_t namelen, bool *enabled,
                         char **channels, char *err, size_t errlen)
{
	json_t *v;
	if ((v = json_object_get(o, "name"))) {
		if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= namelen) {
			snprintf(err, errlen, "name is a string of 1 to %zu bytes", namelen - 1);
			return -1;
		}
		snprintf(name, namelen, "%s", json_string_value(v));
	} else if (create)
		snprintf(name, namelen, "%s", default_name);
	if ((v = json_object_get(o, "enabled"))) {
		if (!json_is_boolean(v)) {
			snprintf(err, errlen, "enabled must be true or false");
			return -1;
		}
		*enabled = json_is_true(v);
	}
	if ((create || json_object_get(o, "webhooks") || json_object_get(o, "emails")) &&
	    alert_channels_parse(o, *channels, channels, err, errlen) != 0)
		return -1;
	return 0;
}

int notify_known_fields(json_t *o, const char *const *known, const char *example, char *err, size_t errlen)
{
	if (!json_is_object(o)) {
		snprintf(err, errlen, "expected an object such as %s", example);
		return -1;
	}
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		int i = 0;
		while (known[i] && strcmp(known[i], key))
			i++;
		if (!known[i]) {
			int n = snprintf(err, errlen, "unknown field '%.40s' (fields:", key);
			for (i = 0; known[i] && n > 0 && (size_t)n < errlen; i++)
				n += snprintf(err + n, errlen - (size_t)n, "%s %s", i ? "," : "", known[i]);
			if (n > 0 && (size_t)n < errlen)
				snprintf(err + n, errlen - (size_t)n, ")");
			return -1;
		}
	}
	return 0;
}

int alert_rule_from_json(json_t *o, int minor, bool create, alert_rule *r, char *err, size_t errlen)
{
	static const char *const known[] = {"name", "figure", "op", "threshold", "for", "severity",
	                                    "webhooks", "emails", "enabled", NULL};
	if (notify_known_fields(o, known, "{\"figure\":\"cash_balance\",\"op\":\"<\",\"threshold\":\"20000.00\"}",
	                        err, errlen) != 0)
		return -1;
	json_t *v;
	if (create)
		for (int i = 1; i <= 3; i++)
			if (!json_object_get(o, known[i])) {
				snprintf(err, errlen, "%s is required", known[i]);
				return -1;
			}
	if ((v = json_object_get(o, "figure"))) {
		const figure_def *f = json_is_string(v) ? figure_find(json_string_value(v), json_string_length(v)) : NULL;
		if (!f) {
			snprintf(err, errlen, "figure must be one of the names of GET /api/v1/alert-figures, such as "
			                      "cash_balance, overdue_60_count or dso");
			return -1;
		}
		if (r->fig && r->fig->unit != f->unit && !json_object_get(o, "threshold")) {
			snprintf(err, errlen, "changing the figure to one of another unit needs a new threshold");
			return -1;
		}
		r->fig = f;
	}
	if ((v = json_object_get(o, "op"))) {
		const char *s = json_is_string(v) ? json_string_value(v) : "";
		if (strcmp(s, "<") && strcmp(s, "<=") && strcmp(s, ">") && strcmp(s, ">=")) {
			snprintf(err, errlen, "op must be one of <, <=, >, >=");
			return -1;
		}
		snprintf(r->op, sizeof r->op, "%s", s);
	}
	if ((v = json_object_get(o, "threshold"))) {
		int dec = figure_decimals(r->fig, minor);
		if (json_is_integer(v))
			r->threshold = (int64_t)json_integer_value(v);
		else if (!json_is_string(v) ||
		         money_parse_minor(json_string_value(v), json_string_length(v), NULL, dec, &r->threshold, NULL) !=
		             MONEY_OK) {
			snprintf(err, errlen, "threshold of %s is an integer in %s or a decimal string with at most %d "
			                      "decimals, such as \"%s\"", r->fig->name,
			         r->fig->unit == FIG_MONEY ? "minor units" : r->fig->unit == FIG_DAYS ? "tenths of a day"
			                                                                              : "rows",
			         dec, dec == 2 ? "20000.00" : dec == 1 ? "45.0" : "10");
			return -1;
		}
		if (!money_in_bounds(r->threshold)) {
			snprintf(err, errlen, "threshold is out of range");
			return -1;
		}
	}
	if ((v = json_object_get(o, "for")) && !parse_duration(v, &r->for_s)) {
		snprintf(err, errlen, "for is a duration such as \"1d\", \"12h\", \"30m\" or seconds, at most a year");
		return -1;
	}
	if ((v = json_object_get(o, "severity"))) {
		const char *s = json_is_string(v) ? json_string_value(v) : "";
		if (strcmp(s, "info") && strcmp(s, "warning") && strcmp(s, "critical")) {
			snprintf(err, errlen, "severity must be info, warning or critical");
			return -1;
		}
		snprintf(r->severity, sizeof r->severity, "%s", s);
	}
	char dflt[sizeof r->name];
	snprintf(dflt, sizeof dflt, "%s %s", r->fig->name, r->op);
	if (notify_common_fields(o, create, dflt, r->name, sizeof r->name, &r->enabled, &r->channels, err, errlen) != 0)
		return -1;
	return 0;
}

void alert_rule_json(const alert_rule *r, int minor, buf_t *out)
{
	char tmp[64], ts[24];
	buf_printf(out, "{\"id\":%lld,\"name\":", (long long)r->id);
	buf_json_str(out, r->name, strlen(r->name));
	buf_printf(out, ",\"figure\":\"%s\",\"unit\":\"%s\",\"op\":\"%s\",\"threshold\":%lld,\"threshold_text\":\"%s\"",
	           r->fig->name, r->fig->unit == FIG_MONEY ? "money" : r->fig->unit == FIG_DAYS ? "days" : "count", r->op,
	           (long long)r->threshold, figure_format(r->fig, minor, r->threshold, tmp, sizeof tmp));
	buf_printf(out, ",\"for\":%lld,\"severity\":\"%s\",\"enabled\":%s,\"state\":\"%s\"", (long long)r->for_s,
	           r->severity, r->enabled ? "true" : "false", r->state);
	buf_puts(out, ",\"channels\":");
	buf_puts(out, r->channels ? r->channels : "{}");
	if (r->has_value)
		buf_printf(out, ",\"value\":%lld,\"value_text\":\"%s\"", (long long)r->value,
		           figure_format(r->fig, minor, r->value, tmp, sizeof tmp));
	else
		buf_puts(out, ",\"value\":null,\"value_text\":null");
	if (strcmp(r->state, "ok")) {
		date_utc_iso(r->since, ts);
		buf_printf(out, ",\"since\":\"%s\"", ts);
	} else
		buf_puts(out, ",\"since\":null");
	if (r->evaluated_at) {
		date_utc_iso(r->evaluated_at, ts);
		buf_printf(out, ",\"evaluated_at\":\"%s\"", ts);
	} else
		buf_puts(out, ",\"evaluated_at\":null");
	date_utc_iso(r->created_at, ts);
	buf_printf(out, ",\"created_at\":\"%s\"}", ts);
}

#define RULE_COLS "org, id, name, figure, op, threshold, for_s, severity, channels, enabled, state, since, " \
                  "evaluated_at, created_at, value"

static void read_row(store_stmt_t *st, alert_rule *r)
{
	size_t n;
	alert_rule_init(r, store_col_i64(st, 0));
	r->id = store_col_i64(st, 1);
	const char *s = store_col_text(st, 2, &n);
	snprintf(r->name, sizeof r->name, "%.*s", (int)n, s);
	s = store_col_text(st, 3, &n);
	r->fig = figure_find(s, n);
	if (!r->fig) /* a figure a newer version stored: show it, never evaluate it */
		r->fig = figure_find("cash_balance", 12), r->enabled = false;
	s = store_col_text(st, 4, &n);
	snprintf(r->op, sizeof r->op, "%.*s", (int)n, s);
	r->threshold = store_col_i64(st, 5);
	r->for_s = store_col_i64(st, 6);
	s = store_col_text(st, 7, &n);
	snprintf(r->severity, sizeof r->severity, "%.*s", (int)n, s);
	s = store_col_text(st, 8, &n);
	r->channels = xstrndup(s, n);
	r->enabled = r->enabled && store_col_i64(st, 9) != 0;
	s = store_col_text(st, 10, &n);
	snprintf(r->state, sizeof r->state, "%.*s", (int)n, s);
	r->since = store_col_i64(st, 11);
	r->evaluated_at = store_col_i64(st, 12);
	r->created_at = store_col_i64(st, 13);
	r->has_value = !store_col_is_null(st, 14);
	r->value = store_col_i64(st, 14);
}

static void bind_fields(store_stmt_t *st, const alert_rule *r, int at)
{
	store_bind_text(st, at, r->name, strlen(r->name));
	store_bind_text(st, at + 1, r->fig->name, strlen(r->fig->name));
	store_bind_text(st, at + 2, r->op, strlen(r->op));
	store_bind_i64(st, at + 3, r->threshold);
	store_bind_i64(st, at + 4, r->for_s);
	store_bind_text(st, at + 5, r->severity, strlen(r->severity));
	store_bind_text(st, at + 6, r->channels ? r->channels : "{}", r->channels ? strlen(r->channels) : 2);
	store_bind_i64(st, at + 7, r->enabled);
}

int alert_rule_insert(store_conn_t *w, alert_rule *r, char *err, size_t errlen)
{
	store_stmt_t *st = store_prepare(w, "SELECT coalesce(max(id), 0) + 1 FROM alert_rules WHERE org = ?");
	if (!st)
		goto fail;
	store_bind_i64(st, 1, r->org);
	if (store_step(st) != STORE_ROW) {
		store_reset(st);
		goto fail;
	}
	r->id = store_col_i64(st, 0);
	store_reset(st);
	r->created_at = (int64_t)time(NULL);
	st = store_prepare(w, "INSERT INTO alert_rules(org, id, name, figure, op, threshold, for_s, severity, channels, "
	                      "enabled, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (!st)
		goto fail;
	store_bind_i64(st, 1, r->org);
	store_bind_i64(st, 2, r->id);
	bind_fields(st, r, 3);
	store_bind_i64(st, 11, r->created_at);
	if (store_step(st) != STORE_DONE)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "storing the rule: %s", store_errmsg(w));
	return -1;
}

int alert_rule_update(store_conn_t *w, const alert_rule *r, char *err, size_t errlen)
{
	/* A changed rule starts over: its old state judged another condition. */
	store_stmt_t *st = store_prepare(w, "UPDATE alert_rules SET name = ?, figure = ?, op = ?, threshold = ?, "
	                                    "for_s = ?, severity = ?, channels = ?, enabled = ?, state = 'ok', since = 0 "
	                                    "WHERE org = ? AND id = ?");
	if (!st) {
		snprintf(err, errlen, "updating the rule: %s", store_errmsg(w));
		return -1;
	}
	bind_fields(st, r, 1);
	store_bind_i64(st, 9, r->org);
	store_bind_i64(st, 10, r->id);
	if (store_step(st) != STORE_DONE) {
		snprintf(err, errlen, "updating the rule: %s", store_errmsg(w));
		return -1;
	}
	return 0;
}

int alert_rule_delete(store_conn_t *w, int64_t org, int64_t id)
{
	store_stmt_t *st = store_prepare(w, "DELETE FROM alert_rules WHERE org = ? AND id = ?");
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	store_bind_i64(st, 2, id);
	if (store_step(st) != STORE_DONE)
		return -1;
	return (int)store_changes(w);
}

int alert_rule_get(store_conn_t *c, int64_t org, int64_t id, alert_rule *r)
{
	store_stmt_t *st = store_prepare(c, "SELECT " RULE_COLS " FROM alert_rules WHERE org = ? AND id = ?");
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	store_bind_i64(st, 2, id);
	store_status s = store_step(st);
	if (s == STORE_ROW)
		read_row(st, r);
	store_reset(st);
	return s == STORE_ROW ? 1 : s == STORE_DONE ? 0 : -1;
}

int alert_rules_list(store_conn_t *c, int64_t org, unsigned mask, bool enabled_only, alert_rule **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	store_stmt_t *st = store_prepare(c, "SELECT " RULE_COLS " FROM alert_rules WHERE org = ? ORDER BY id");
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	size_t cap = 0;
	store_status s;
	while ((s = store_step(st)) == STORE_ROW) {
		alert_rule r;
		read_row(st, &r);
		if ((mask && !(r.fig->tables & mask)) || (enabled_only && !r.enabled)) {
			alert_rule_clear(&r);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		(*out)[(*n)++] = r;
	}
	store_reset(st);
	return s == STORE_DONE ? 0 : -1;
}

int alert_rule_orgs(store_conn_t *c, int64_t **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	store_stmt_t *st = store_prepare(c, "SELECT DISTINCT org FROM alert_rules WHERE enabled = 1 ORDER BY org");
	if (!st)
		return -1;
	size_t cap = 0;
	store_status s;
	while ((s = store_step(st)) == STORE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		(*out)[(*n)++] = store_col_i64(st, 0);
	}
	store_reset(st);
	return s == STORE_DONE ? 0 : -1;
}

static bool holds(const alert_rule *r, int64_t v)
{
	switch (r->op[0]) {
	case '<':
		return r->op[1] ? v <= r->threshold : v < r->threshold;
	default:
		return r->op[1] ? v >= r->threshold : v > r->threshold;
	}
}

rule_step alert_rule_step(const alert_rule *r, bool has_value, int64_t value, int64_t now)
{
	bool h = has_value && holds(r, value);
	if (!strcmp(r->state, "firing"))
		return h ? RULE_SAME : RULE_RESOLVE;
	if (!strcmp(r->state, "pending")) {
		if (!h)
			return RULE_CANCEL;
		return now - r->since >= r->for_s ? RULE_FIRE : RULE_SAME;
	}
	if (!h)
		return RULE_SAME;
	return r->for_s > 0 ? RULE_PENDING : RULE_FIRE;
}

int alert_rule_apply(store_conn_t *w, alert_rule *r, rule_step step, bool has_value, int64_t value, int64_t now)
{
	char was[8];
	snprintf(was, sizeof was, "%s", r->state);
	switch (step) {
	case RULE_PENDING:
		strcpy(r->state, "pending");
		r->since = now;
		break;
	case RULE_FIRE:
		if (!strcmp(r->state, "ok"))
			r->since = now;
		strcpy(r->state, "firing");
		break;
	case RULE_CANCEL:
	case RULE_RESOLVE:
		strcpy(r->state, "ok");
		r->since = 0;
		break;
	case RULE_SAME:
		break;
	}
	r->has_value = has_value;
	r->value = value;
	r->evaluated_at = now;
	store_stmt_t *st = store_prepare(w, "UPDATE alert_rules SET state = ?, since = ?, value = ?, evaluated_at = ? "
	                                    "WHERE org = ? AND id = ? AND state = ?");
	if (!st)
		return -1;
	store_bind_text(st, 1, r->state, strlen(r->state));
	store_bind_i64(st, 2, r->since);
	if (has_value)
		store_bind_i64(st, 3, value);
	else
		store_bind_null(st, 3);
	store_bind_i64(st, 4, now);
	store_bind_i64(st, 5, r->org);
	store_bind_i64(st, 6, r->id);
	store_bind_text(st, 7, was, strlen(was));
	if (store_step(st) != STORE_DONE)
		return -1;
	return store_changes(w) == 1 ? 1 : 0;
}

int alert_event_add(store_conn_t *w, const alert_rule *r, const char *event, const char *message, int64_t now)
{
	store_stmt_t *st = store_prepare(w, "INSERT INTO alert_events(org, id, rule, rule_name, at, event, value, message) "
	                                    "SELECT ?, coalesce(max(id), 0) + 1, ?, ?, ?, ?, ?, ? FROM alert_events "
	                                    "WHERE org = ?");
	if (!st)
		return -1;
	store_bind_i64(st, 1, r->org);
	store_bind_i64(st, 2, r->id);
	store_bind_text(st, 3, r->name, strlen(r->name));
	store_bind_i64(st, 4, now);
	store_bind_text(st, 5, event, strlen(event));
	if (r->has_value)
		store_bind_i64(st, 6, r->value);
	else
		store_bind_null(st, 6);
	store_bind_text(st, 7, message, strlen(message));
	store_bind_i64(st, 8, r->org);
	return store_step(st) == STORE_DONE ? 0 : -1;
}

int alert_events_json(store_conn_t *c, int64_t org, int64_t rule, int limit, buf_t *out)
{
	store_stmt_t *st = store_prepare(c, "SELECT id, rule, rule_name, event, at, value, message FROM alert_events "
	                                    "WHERE org = ? AND (? = 0 OR rule = ?) ORDER BY id DESC LIMIT ?");
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	store_bind_i64(st, 2, rule);
	store_bind_i64(st, 3, rule);
	store_bind_i64(st, 4, limit);
	buf_puts(out, "{\"items\":[");
	store_status s;
	bool first = true;
	while ((s = store_step(st)) == STORE_ROW) {
		size_t n;
		char ts[24];
		const char *p;
		buf_printf(out, "%s{\"id\":%lld,\"rule\":%lld,\"rule_name\":", first ? "" : ",",
		           (long long)store_col_i64(st, 0), (long long)store_col_i64(st, 1));
		p = store_col_text(st, 2, &n);
		buf_json_str(out, p, n);
		p = store_col_text(st, 3, &n);
		buf_puts(out, ",\"event\":");
		buf_json_str(out, p, n);
		date_utc_iso(store_col_i64(st, 4), ts);
		buf_printf(out, ",\"at\":\"%s\",\"value\":", ts);
		if (store_col_is_null(st, 5))
			buf_puts(out, "null");
		else
			buf_put_i64(out, store_col_i64(st, 5));
		p = store_col_text(st, 6, &n);
		buf_puts(out, ",\"message\":");
		buf_json_str(out, p, n);
		buf_putc(out, '}');
		first = false;
	}
	store_reset(st);
	buf_puts(out, "]}");
	return s == STORE_DONE ? 0 : -1;
}

void alert_rule_message(const alert_rule *r, int minor, bool firing, buf_t *out)
{
	char v[48], t[48];
	if (r->has_value)
		figure_format(r->fig, minor, r->value, v, sizeof v);
	else
		snprintf(v, sizeof v, "undefined");
	figure_format(r->fig, minor, r->threshold, t, sizeof t);
	if (firing)
		buf_printf(out, "%s: %s is %s (%s %s)", r->name, r->fig->what, v, r->op, t);
	else
		buf_printf(out, "%s resolved: %s is %s (no longer %s %s)", r->name, r->fig->what, v, r->op, t);
}
