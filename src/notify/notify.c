#include "notify/notify.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "notify/rules.h"
#include "notify/schedule.h"
#include "store/settings.h"
#include "tasks/events.h"
#include "tasks/tasks.h"
#include "core/date.h"

typedef struct {
	int64_t org;
	unsigned mask;
} dirty_t;

typedef struct {
	char *subject, *json;
} op_msg;

struct notify {
	store_t *store;
	struct events *ev;
	struct tasks *tasks;
	outbox_t *ob;
	int tick_ms;
	char *op_webhook, *op_email;
	pthread_t tid;
	bool started, stop, sched_soon;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	dirty_t *dirty;
	size_t ndirty, cap;
	op_msg *ops;
	size_t nops, opcap;
};

notify_t *notify_new(store_t *s, struct events *ev, const notify_opts *o)
{
	notify_t *n = xcalloc(1, sizeof *n);
	n->store = s;
	n->ev = ev;
	n->ob = outbox_new(s, o ? &o->out : NULL);
	n->tick_ms = o && o->tick_ms > 0 ? o->tick_ms : 60000;
	n->op_webhook = o && o->operator_webhook && *o->operator_webhook ? xstrdup(o->operator_webhook) : NULL;
	n->op_email = o && o->operator_email && *o->operator_email ? xstrdup(o->operator_email) : NULL;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->wake, NULL);
	return n;
}

void notify_schedules_soon(notify_t *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->sched_soon = true;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
}

void notify_set_tasks(notify_t *n, struct tasks *t)
{
	pthread_mutex_lock(&n->lock);
	n->tasks = t;
	pthread_mutex_unlock(&n->lock);
}

outbox_t *notify_outbox(notify_t *n)
{
	return n->ob;
}

void notify_changed(notify_t *n, int64_t org, unsigned mask)
{
	if (!n || !mask)
		return;
	pthread_mutex_lock(&n->lock);
	size_t i = 0;
	while (i < n->ndirty && n->dirty[i].org != org)
		i++;
	if (i == n->ndirty) {
		if (n->ndirty == n->cap) {
			n->cap = n->cap ? n->cap * 2 : 16;
			n->dirty = xrealloc(n->dirty, n->cap * sizeof *n->dirty);
		}
		n->dirty[n->ndirty++] = (dirty_t){org, 0};
	}
	n->dirty[i].mask |= mask;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
}

void notify_operator(notify_t *n, const char *subject, const char *json)
{
	if (!n || (!n->op_webhook && !n->op_email))
		return;
	pthread_mutex_lock(&n->lock);
	if (n->nops < 1000) { /* an alert storm must not grow memory without end */
		if (n->nops == n->opcap) {
			n->opcap = n->opcap ? n->opcap * 2 : 8;
			n->ops = xrealloc(n->ops, n->opcap * sizeof *n->ops);
		}
		n->ops[n->nops++] = (op_msg){xstrdup(subject), xstrdup(json)};
		pthread_cond_signal(&n->wake);
	}
	pthread_mutex_unlock(&n->lock);
}

static void org_slug(store_conn_t *c, int64_t org, char *out, size_t len)
{
	snprintf(out, len, "%lld", (long long)org);
	store_stmt_t *st = store_prepare(c, "SELECT slug FROM orgs WHERE id = ?");
	if (!st)
		return;
	store_bind_i64(st, 1, org);
	if (store_step(st) == STORE_ROW) {
		size_t l;
		const char *p = store_col_text(st, 0, &l);
		snprintf(out, len, "%.*s", (int)l, p);
	}
	store_reset(st);
}

/* Queues the rule's deliveries and returns the event's JSON (malloc'd). */
static char *record_change(store_conn_t *w, const alert_rule *r, int minor, const char *slug, bool fired,
                           int64_t now, int *queued)
{
	buf_t msg = BUF_INIT, rule = BUF_INIT, ev = BUF_INIT;
	alert_rule_message(r, minor, fired, &msg);
	alert_rule_json(r, minor, &rule);
	const char *event = fired ? "fired" : "resolved";
	if (alert_event_add(w, r, event, msg.p, now) != 0)
		log_warn("notify: recording the %s of rule %lld: %s", event, (long long)r->id, store_errmsg(w));
	char ts[DATE_UTC_ISO_BUFSZ];
	date_utc_iso(now, ts);
	buf_printf(&ev, "{\"type\":\"alert\",\"event\":\"%s\",\"org\":", event);
	buf_json_str(&ev, slug, strlen(slug));
	buf_printf(&ev, ",\"at\":\"%s\",\"severity\":\"%s\",\"message\":", ts, r->severity);
	buf_json_str(&ev, msg.p, msg.len);
	buf_puts(&ev, ",\"rule\":");
	buf_put(&ev, rule.p, rule.len);
	buf_putc(&ev, '}');
	char subject[256], source[32];
	snprintf(subject, sizeof subject, "[brisk] %s %s: %s", fired ? "FIRING" : "resolved", r->severity, r->name);
	snprintf(source, sizeof source, "alert:%lld", (long long)r->id);
	json_t *ch = json_loads(r->channels ? r->channels : "{}", 0, NULL);
	static const char *const kinds[] = {"webhooks", "emails"};
	for (int k = 0; k < 2; k++) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(ch, kinds[k]), i, e) {
			const char *body = k == 0 ? ev.p : msg.p;
			if (outbox_add(w, r->org, source, k == 0 ? "webhook" : "email", json_string_value(e), subject, body,
			               NULL) == 0)
				(*queued)++;
		}
	}
	json_decref(ch);
	buf_free(&msg);
	buf_free(&rule);
	return buf_steal(&ev);
}

int notify_evaluate(notify_t *n, int64_t org, unsigned mask, char *err, size_t errlen)
{
	store_conn_t *c = store_read_begin(n->store);
	alert_rule *rules = NULL;
	size_t nr = 0;
	if (alert_rules_list(c, org, mask, true, &rules, &nr) != 0) {
		snprintf(err, errlen, "reading the alert rules: %s", store_errmsg(c));
		store_read_end(c);
		return -1;
	}
	int changes = 0, rc = 0;
	rule_step *steps = nr ? xcalloc(nr, sizeof *steps) : NULL;
	int64_t *vals = nr ? xcalloc(nr, sizeof *vals) : NULL;
	bool *has = nr ? xcalloc(nr, sizeof *has) : NULL;
	int64_t now = (int64_t)time(NULL);
	org_settings os = {.minor = 2};
	char slug[128] = "";
	if (nr) {
		settings_get(c, org, &os);
		org_slug(c, org, slug, sizeof slug);
		figure_ctx *x = figure_ctx_new(c, org, date_today());
		for (size_t i = 0; i < nr; i++) {
			bool null;
			if (figure_eval(x, rules[i].fig, &vals[i], &null, err, errlen) != 0) {
				rc = -1;
				break;
			}
			has[i] = !null;
			steps[i] = alert_rule_step(&rules[i], has[i], vals[i], now);
			changes += steps[i] != RULE_SAME;
		}
		figure_ctx_free(x);
	}
	store_read_end(c);
	int recorded = 0;
	if (rc == 0 && changes) {
		store_conn_t *w = store_write_begin(n->store, err, errlen);
		char **events = xcalloc(nr, sizeof *events);
		int queued = 0;
		if (!w)
			rc = -1;
		for (size_t i = 0; w && i < nr; i++) {
			if (steps[i] == RULE_SAME)
				continue;
			int a = alert_rule_apply(w, &rules[i], steps[i], has[i], vals[i], now);
			if (a < 0) {
				snprintf(err, errlen, "recording an alert: %s", store_errmsg(w));
				store_write_rollback(w);
				w = NULL;
				rc = -1;
				break;
			}
			if (a == 1 && (steps[i] == RULE_FIRE || steps[i] == RULE_RESOLVE))
				events[i] = record_change(w, &rules[i], os.minor, slug, steps[i] == RULE_FIRE, now, &queued);
		}
		if (w && store_write_commit(w, err, errlen) != 0)
			rc = -1;
		for (size_t i = 0; i < nr; i++) {
			if (rc == 0 && events[i]) {
				if (n->ev)
					events_publish(n->ev, org, events[i], strlen(events[i]));
				log_info("notify: org %s rule %lld %s", slug, (long long)rules[i].id,
				         steps[i] == RULE_FIRE ? "fired" : "resolved");
				recorded++;
			}
			free(events[i]);
		}
		free(events);
		if (rc == 0 && queued)
			outbox_kick(n->ob);
	}
	for (size_t i = 0; i < nr; i++)
		alert_rule_clear(&rules[i]);
	free(rules);
	free(steps);
	free(vals);
	free(has);
	return rc == 0 ? recorded : -1;
}

static void flush_operator(notify_t *n, op_msg *ops, size_t nops)
{
	char err[256];
	store_conn_t *w = store_write_begin(n->store, err, sizeof err);
	for (size_t i = 0; i < nops; i++) {
		if (w && n->op_webhook)
			outbox_add(w, 0, "monitor", "webhook", n->op_webhook, ops[i].subject, ops[i].json, NULL);
		if (w && n->op_email)
			outbox_add(w, 0, "monitor", "email", n->op_email, ops[i].subject, ops[i].json, NULL);
		free(ops[i].subject);
		free(ops[i].json);
	}
	if (w && store_write_commit(w, err, sizeof err) == 0)
		outbox_kick(n->ob);
	else
		log_warn("notify: operator messages lost: %s", err);
}

static void tick(notify_t *n)
{
	store_conn_t *c = store_read_begin(n->store);
	int64_t *orgs = NULL;
	size_t norgs = 0;
	int rc = alert_rule_orgs(c, &orgs, &norgs);
	store_read_end(c);
	char err[256];
	for (size_t i = 0; rc == 0 && i < norgs; i++)
		if (notify_evaluate(n, orgs[i], 0, err, sizeof err) < 0)
			log_warn("notify: evaluating org %lld: %s", (long long)orgs[i], err);
	free(orgs);
}


/* ---- scheduled reports ---- */

/* Queues the deliveries of run s of the schedule: its file attached to
 * e-mails (path "" when it failed: then why says so). */
static void deliver_run(notify_t *n, store_conn_t *w, const report_schedule *s, const char *path, const char *file,
                        const char *why)
{
	char subject[300], source[32];
	snprintf(source, sizeof source, "schedule:%lld", (long long)s->id);
	snprintf(subject, sizeof subject, "[brisk] %s: %s", s->name, why ? "failed" : file);
	buf_t text = BUF_INIT, ev = BUF_INIT;
	if (why)
		buf_printf(&text, "The scheduled run of \"%s\" failed: %s\n", s->name, why);
	else
		buf_printf(&text, "The scheduled run of \"%s\" produced %s, attached.\n", s->name, file);
	int64_t pub = n->tasks ? tasks_public_id(n->tasks, s->last_task) : 0;
	buf_printf(&ev, "{\"type\":\"schedule\",\"event\":\"%s\",\"schedule\":", why ? "failed" : "succeeded");
	schedule_json(s, &ev);
	buf_printf(&ev, ",\"task\":%lld,\"file\":", (long long)pub);
	buf_json_str(&ev, file ? file : "", file ? strlen(file) : 0);
	buf_printf(&ev, ",\"result_url\":\"/api/v1/tasks/%lld/result\",\"error\":", (long long)pub);
	if (why)
		buf_json_str(&ev, why, strlen(why));
	else
		buf_puts(&ev, "null");
	buf_putc(&ev, '}');
	json_t *ch = json_loads(s->channels ? s->channels : "{}", 0, NULL);
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(ch, "webhooks"), i, e)
		outbox_add(w, s->org, source, "webhook", json_string_value(e), subject, ev.p, NULL);
	json_array_foreach(json_object_get(ch, "emails"), i, e)
		outbox_add(w, s->org, source, "email", json_string_value(e), subject, text.p, path && *path ? path : NULL);
	json_decref(ch);
	if (n->ev)
		events_publish(n->ev, s->org, ev.p, ev.len);
	buf_free(&text);
	buf_free(&ev);
}

/* The status of the run's task: 1 finished (*ok, path/file of its result
 * or why it failed), 0 still going, -1 gone. */
static int run_state(notify_t *n, const report_schedule *s, bool *ok, char *path, size_t plen, char *file,
                     size_t flen, char *why, size_t wlen)
{
	buf_t out = BUF_INIT;
	tasks_status st = tasks_get(n->tasks, s->org, s->last_task, &out);
	json_t *j = st == TASKS_OK ? json_loadb(out.p, out.len, 0, NULL) : NULL;
	buf_free(&out);
	if (!j)
		return -1;
	const char *status = json_string_value(json_object_get(j, "status"));
	int rc = 1;
	*ok = status && !strcmp(status, "succeeded");
	if (!status || !strcmp(status, "pending") || !strcmp(status, "running"))
		rc = 0;
	else if (*ok) {
		taskrec_t rec;
		char err[256];
		if (tasks_result(n->tasks, s->org, s->last_task, &rec, path, plen, err, sizeof err) == TASKS_OK) {
			snprintf(file, flen, "%s", rec.result_name ? rec.result_name : "result");
			taskrec_clear(&rec);
		} else {
			*ok = false;
			snprintf(why, wlen, "%s", err);
		}
	} else {
		const char *e = json_string_value(json_object_get(j, "error"));
		snprintf(why, wlen, "the task ended %s%s%s", status, e ? ": " : "", e ? e : "");
	}
	json_decref(j);
	return rc;
}

void notify_run_schedules(notify_t *n)
{
	pthread_mutex_lock(&n->lock);
	struct tasks *t = n->tasks;
	pthread_mutex_unlock(&n->lock);
	if (!t)
		return;
	int64_t now = (int64_t)time(NULL);
	store_conn_t *c = store_read_begin(n->store);
	report_schedule *list = NULL;
	size_t cnt = 0;
	int rc = schedule_list(c, 0, now, &list, &cnt);
	store_read_end(c);
	char err[512];
	for (size_t i = 0; rc == 0 && i < cnt; i++) {
		report_schedule *s = &list[i];
		store_conn_t *w = NULL;
		if (!s->delivered) {
			bool ok = false;
			char path[600] = "", file[160] = "", why[600] = "";
			int st = s->last_task ? run_state(n, s, &ok, path, sizeof path, file, sizeof file, why, sizeof why)
			         : now - s->last_run > 600 ? -1 : 0; /* submitting; or an instance died doing it */
			if (st == 0)
				continue;
			if (st < 0)
				snprintf(why, sizeof why, "the run's task is gone");
			if (!(w = store_write_begin(n->store, err, sizeof err)))
				continue;
			deliver_run(n, w, s, ok ? path : NULL, ok ? file : NULL, ok ? NULL : why);
			schedule_delivered(w, s);
			if (store_write_commit(w, err, sizeof err) == 0)
				outbox_kick(n->ob);
			continue;
		}
		if (!s->enabled || s->next_run > now || !(w = store_write_begin(n->store, err, sizeof err)))
			continue;
		int claimed = schedule_claim(w, s, now, 0);
		if (claimed != 1 || store_write_commit(w, err, sizeof err) != 0) {
			if (claimed != 1)
				store_write_rollback(w);
			continue;
		}
		json_t *task = json_loads(s->task, 0, NULL);
		char *params = json_dumps(json_object_get(task, "params"), JSON_COMPACT);
		int64_t id = 0;
		tasks_status ts = tasks_submit(t, s->org, json_string_value(json_object_get(task, "kind")), params, -1, NULL,
		                               &id, err, sizeof err);
		free(params);
		json_decref(task);
		if (!(w = store_write_begin(n->store, err, sizeof err)))
			continue;
		store_stmt_t *st = store_prepare(w, "UPDATE report_schedules SET last_task = ? WHERE org = ? AND id = ?");
		if (ts == TASKS_OK && st) {
			store_bind_i64(st, 1, id);
			store_bind_i64(st, 2, s->org);
			store_bind_i64(st, 3, s->id);
			store_step(st);
			log_info("notify: schedule %lld of org %lld started task %lld", (long long)s->id, (long long)s->org,
			         (long long)tasks_public_id(t, id));
		} else {
			deliver_run(n, w, s, NULL, NULL, err);
			schedule_delivered(w, s);
		}
		if (store_write_commit(w, err, sizeof err) == 0)
			outbox_kick(n->ob);
	}
	for (size_t i = 0; i < cnt; i++)
		schedule_clear(&list[i]);
	free(list);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Evaluation batches start at most this often: a burst of single-row
 * writes costs one evaluation per org per gap, not one per write, and an
 * alert still follows its commit within about this long. */
#define EVAL_GAP_MS 200

static void *run(void *arg)
{
	notify_t *n = arg;
	int64_t next_tick = mono_ms() + n->tick_ms, last_batch = 0;
	for (;;) {
		pthread_mutex_lock(&n->lock);
		while (!n->stop && !n->nops && !n->sched_soon) {
			int64_t deadline = next_tick;
			if (n->ndirty && last_batch + EVAL_GAP_MS < deadline)
				deadline = last_batch + EVAL_GAP_MS;
			int64_t wait = deadline - mono_ms();
			if (wait <= 0)
				break;
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += wait / 1000;
			ts.tv_nsec += (wait % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&n->wake, &n->lock, &ts);
		}
		if (n->stop) {
			pthread_mutex_unlock(&n->lock);
			break;
		}
		dirty_t *dirty = n->dirty;
		size_t ndirty = n->ndirty;
		op_msg *ops = n->ops;
		size_t nops = n->nops;
		n->dirty = NULL;
		n->ndirty = n->cap = 0;
		n->ops = NULL;
		n->nops = n->opcap = 0;
		bool sched = n->sched_soon;
		n->sched_soon = false;
		pthread_mutex_unlock(&n->lock);
		if (sched)
			notify_run_schedules(n);
		char err[256];
		for (size_t i = 0; i < ndirty; i++)
			if (notify_evaluate(n, dirty[i].org, dirty[i].mask, err, sizeof err) < 0)
				log_warn("notify: evaluating org %lld: %s", (long long)dirty[i].org, err);
		if (ndirty)
			last_batch = mono_ms();
		free(dirty);
		if (nops)
			flush_operator(n, ops, nops);
		free(ops);
		if (mono_ms() >= next_tick) {
			tick(n);
			notify_run_schedules(n);
			next_tick = mono_ms() + n->tick_ms;
		}
	}
	return NULL;
}

void notify_start(notify_t *n)
{
	outbox_start(n->ob);
	if (pthread_create(&n->tid, NULL, run, n) == 0)
		n->started = true;
}

void notify_stop(notify_t *n)
{
	if (!n || !n->started)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = true;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
	pthread_join(n->tid, NULL);
	n->started = false;
	outbox_free(n->ob);
	n->ob = NULL;
}

void notify_free(notify_t *n)
{
	if (!n)
		return;
	notify_stop(n);
	outbox_free(n->ob);
	for (size_t i = 0; i < n->nops; i++) {
		free(n->ops[i].subject);
		free(n->ops[i].json);
	}
	free(n->ops);
	free(n->dirty);
	free(n->op_webhook);
	free(n->op_email);
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->wake);
	free(n);
}
