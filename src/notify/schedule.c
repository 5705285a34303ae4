#include "notify/schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/date.h"
#include "core/mem.h"
#include "notify/rules.h"

static const char *const weekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

void schedule_init(report_schedule *s, int64_t org)
{
	memset(s, 0, sizeof *s);
	s->org = org;
	s->enabled = true;
	s->at_minute = 6 * 60;
	s->delivered = true;
}

void schedule_clear(report_schedule *s)
{
	free(s->task);
	free(s->channels);
	s->task = s->channels = NULL;
}

/* "daily", "weekly:mon", "monthly:2" (days 1-28: every month has them). */
static bool valid_every(const char *e)
{
	if (!strcmp(e, "daily"))
		return true;
	if (!strncmp(e, "weekly:", 7)) {
		for (int i = 0; i < 7; i++)
			if (!strcmp(e + 7, weekdays[i]))
				return true;
		return false;
	}
	if (!strncmp(e, "monthly:", 8)) {
		char *end;
		long d = strtol(e + 8, &end, 10);
		return end != e + 8 && !*end && d >= 1 && d <= 28;
	}
	return false;
}

int schedule_from_json(json_t *o, bool create, schedule_check_fn check, report_schedule *s, char *err, size_t errlen)
{
	static const char *const known[] = {"name", "kind", "params", "every", "at", "webhooks", "emails", "enabled",
	                                    NULL};
	if (notify_known_fields(o, known, "{\"kind\":\"report\",\"every\":\"monthly:2\",\"emails\":[\"boss@example.com\"]}",
	                        err, errlen) != 0)
		return -1;
	json_t *v;
	json_t *kind = json_object_get(o, "kind"), *params = json_object_get(o, "params");
	if (create && !kind) {
		snprintf(err, errlen, "kind is required: report (the monthly PDF) or export");
		return -1;
	}
	if (kind || params) {
		json_t *old = s->task ? json_loads(s->task, 0, NULL) : NULL;
		if (!kind)
			kind = json_object_get(old, "kind");
		const char *k = json_string_value(kind);
		if (!k || (strcmp(k, "report") && strcmp(k, "export"))) {
			json_decref(old);
			snprintf(err, errlen, "kind must be report (the monthly PDF) or export (a list as CSV or XLSX)");
			return -1;
		}
		if (params && !json_is_object(params)) {
			json_decref(old);
			snprintf(err, errlen, "params must be an object: the task's params (see POST /api/v1/tasks)");
			return -1;
		}
		json_t *p = params ? json_incref(params) : json_object();
		char why[384];
		if (check && !check(k, p, why, sizeof why)) {
			snprintf(err, errlen, "params: %s", why);
			json_decref(p);
			json_decref(old);
			return -1;
		}
		json_t *t = json_pack("{s:s,s:o}", "kind", k, "params", p);
		free(s->task);
		s->task = json_dumps(t, JSON_COMPACT);
		json_decref(t);
		json_decref(old);
	}
	if ((v = json_object_get(o, "every")) || create) {
		if (!json_is_string(v) || !valid_every(json_string_value(v))) {
			snprintf(err, errlen, "every must be daily, weekly:mon (..sun) or monthly:D with D from 1 to 28");
			return -1;
		}
		snprintf(s->every, sizeof s->every, "%s", json_string_value(v));
	}
	if ((v = json_object_get(o, "at"))) {
		int h, m;
		char extra;
		if (!json_is_string(v) || sscanf(json_string_value(v), "%2d:%2d%c", &h, &m, &extra) != 2 || h < 0 ||
		    h > 23 || m < 0 || m > 59) {
			snprintf(err, errlen, "at is a time of day HH:MM, UTC (default 06:00)");
			return -1;
		}
		s->at_minute = h * 60 + m;
	}
	char dflt[sizeof s->name] = ""; /* on create kind is the body's (required), never old's freed one */
	if (create)
		snprintf(dflt, sizeof dflt, "%s %s", json_string_value(kind), s->every);
	if (notify_common_fields(o, create, dflt, s->name, sizeof s->name, &s->enabled, &s->channels, err, errlen) != 0)
		return -1;
	return 0;
}

void schedule_json(const report_schedule *s, buf_t *out)
{
	char ts[24];
	buf_printf(out, "{\"id\":%lld,\"name\":", (long long)s->id);
	buf_json_str(out, s->name, strlen(s->name));
	json_t *t = json_loads(s->task ? s->task : "{}", 0, NULL);
	json_t *pj = json_object_get(t, "params");
	char *params = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
	buf_printf(out, ",\"kind\":\"%s\",\"params\":%s,\"every\":\"%s\",\"at\":\"%02d:%02d\",\"enabled\":%s",
	           json_string_value(json_object_get(t, "kind")) ? json_string_value(json_object_get(t, "kind")) : "",
	           params ? params : "{}", s->every, s->at_minute / 60, s->at_minute % 60, s->enabled ? "true" : "false");
	free(params);
	json_decref(t);
	buf_puts(out, ",\"channels\":");
	buf_puts(out, s->channels ? s->channels : "{}");
	date_utc_iso(s->next_run, ts);
	buf_printf(out, ",\"next_run\":\"%s\",\"last_run\":", ts);
	if (s->last_run) {
		date_utc_iso(s->last_run, ts);
		buf_printf(out, "\"%s\"", ts);
	} else
		buf_puts(out, "null");
	date_utc_iso(s->created_at, ts);
	buf_printf(out, ",\"created_at\":\"%s\"}", ts);
}

int64_t schedule_next(const report_schedule *s, int64_t now)
{
	date_t today = (date_t)(now / 86400);
	for (date_t d = today; d <= today + 62; d++) {
		int y, m, dd;
		date_to_ymd(d, &y, &m, &dd);
		bool ok = !strcmp(s->every, "daily") ||
		          (!strncmp(s->every, "weekly:", 7) && !strcmp(s->every + 7, weekdays[date_weekday(d) - 1])) ||
		          (!strncmp(s->every, "monthly:", 8) && atoi(s->every + 8) == dd);
		int64_t at = (int64_t)d * 86400 + (int64_t)s->at_minute * 60;
		if (ok && at > now)
			return at;
	}
	return now + 86400; /* unreachable for a valid schedule */
}

#define COLS "org, id, name, task, every, at_minute, channels, enabled, next_run, last_run, last_task, delivered, " \
             "created_at"

static void read_row(store_stmt_t *st, report_schedule *s)
{
	size_t n;
	const char *p;
	schedule_init(s, store_col_i64(st, 0));
	s->id = store_col_i64(st, 1);
	p = store_col_text(st, 2, &n);
	snprintf(s->name, sizeof s->name, "%.*s", (int)n, p);
	p = store_col_text(st, 3, &n);
	s->task = xstrndup(p, n);
	p = store_col_text(st, 4, &n);
	snprintf(s->every, sizeof s->every, "%.*s", (int)n, p);
	s->at_minute = (int)store_col_i64(st, 5);
	p = store_col_text(st, 6, &n);
	s->channels = xstrndup(p, n);
	s->enabled = store_col_i64(st, 7) != 0;
	s->next_run = store_col_i64(st, 8);
	s->last_run = store_col_i64(st, 9);
	s->last_task = store_col_i64(st, 10);
	s->delivered = store_col_i64(st, 11) != 0;
	s->created_at = store_col_i64(st, 12);
}

int schedule_insert(store_conn_t *w, report_schedule *s, int64_t now)
{
	store_stmt_t *st = store_prepare(w, "SELECT coalesce(max(id), 0) + 1 FROM report_schedules WHERE org = ?");
	if (!st)
		return -1;
	store_bind_i64(st, 1, s->org);
	if (store_step(st) != STORE_ROW) {
		store_reset(st);
		return -1;
	}
	s->id = store_col_i64(st, 0);
	store_reset(st);
	s->created_at = now;
	s->next_run = schedule_next(s, now);
	st = store_prepare(w, "INSERT INTO report_schedules(" COLS ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 1, ?)");
	if (!st)
		return -1;
	store_bind_i64(st, 1, s->org);
	store_bind_i64(st, 2, s->id);
	store_bind_text(st, 3, s->name, strlen(s->name));
	store_bind_text(st, 4, s->task, strlen(s->task));
	store_bind_text(st, 5, s->every, strlen(s->every));
	store_bind_i64(st, 6, s->at_minute);
	store_bind_text(st, 7, s->channels, strlen(s->channels));
	store_bind_i64(st, 8, s->enabled);
	store_bind_i64(st, 9, s->next_run);
	store_bind_i64(st, 10, s->created_at);
	return store_step(st) == STORE_DONE ? 0 : -1;
}

int schedule_get(store_conn_t *c, int64_t org, int64_t id, report_schedule *s)
{
	store_stmt_t *st = store_prepare(c, "SELECT " COLS " FROM report_schedules WHERE org = ? AND id = ?");
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	store_bind_i64(st, 2, id);
	store_status r = store_step(st);
	if (r == STORE_ROW)
		read_row(st, s);
	store_reset(st);
	return r == STORE_ROW ? 1 : r == STORE_DONE ? 0 : -1;
}

int schedule_delete(store_conn_t *w, int64_t org, int64_t id)
{
	store_stmt_t *st = store_prepare(w, "DELETE FROM report_schedules WHERE org = ? AND id = ?");
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	store_bind_i64(st, 2, id);
	return store_step(st) == STORE_DONE ? (int)store_changes(w) : -1;
}

int schedule_list(store_conn_t *c, int64_t org, int64_t now, report_schedule **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	store_stmt_t *st = org ? store_prepare(c, "SELECT " COLS " FROM report_schedules WHERE org = ? ORDER BY id")
	                       : store_prepare(c, "SELECT " COLS " FROM report_schedules WHERE (enabled = 1 AND "
	                                          "next_run <= ?) OR delivered = 0 ORDER BY org, id");
	if (!st)
		return -1;
	store_bind_i64(st, 1, org ? org : now);
	size_t cap = 0;
	store_status r;
	while ((r = store_step(st)) == STORE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		read_row(st, &(*out)[(*n)++]);
	}
	store_reset(st);
	return r == STORE_DONE ? 0 : -1;
}

int schedule_claim(store_conn_t *w, report_schedule *s, int64_t now, int64_t task)
{
	int64_t next = schedule_next(s, now);
	store_stmt_t *st = store_prepare(w, "UPDATE report_schedules SET next_run = ?, last_run = ?, last_task = ?, "
	                                    "delivered = 0 WHERE org = ? AND id = ? AND next_run = ?");
	if (!st)
		return -1;
	store_bind_i64(st, 1, next);
	store_bind_i64(st, 2, now);
	store_bind_i64(st, 3, task);
	store_bind_i64(st, 4, s->org);
	store_bind_i64(st, 5, s->id);
	store_bind_i64(st, 6, s->next_run);
	if (store_step(st) != STORE_DONE)
		return -1;
	if (store_changes(w) != 1)
		return 0;
	s->next_run = next;
	s->last_run = now;
	s->last_task = task;
	s->delivered = false;
	return 1;
}

int schedule_delivered(store_conn_t *w, const report_schedule *s)
{
	store_stmt_t *st = store_prepare(w, "UPDATE report_schedules SET delivered = 1 WHERE org = ? AND id = ? AND "
	                                    "last_task = ?");
	if (!st)
		return -1;
	store_bind_i64(st, 1, s->org);
	store_bind_i64(st, 2, s->id);
	store_bind_i64(st, 3, s->last_task);
	return store_step(st) == STORE_DONE ? 0 : -1;
}

int schedule_run_now(store_conn_t *w, int64_t org, int64_t id, int64_t now)
{
	store_stmt_t *st = store_prepare(w, "UPDATE report_schedules SET next_run = ? WHERE org = ? AND id = ?");
	if (!st)
		return -1;
	store_bind_i64(st, 1, now);
	store_bind_i64(st, 2, org);
	store_bind_i64(st, 3, id);
	return store_step(st) == STORE_DONE ? (int)store_changes(w) : -1;
}
