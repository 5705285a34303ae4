#include "monitor/alerts.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "core/date.h"

struct alert {
	char *id, *kind, *subject, *what, *unit;
	double value, warn, crit;
	bool below;
	alert_severity sev, reported; /* now, and as of the last round's end */
	bool seen;                    /* checked in the current round */
	double since, resolved_at, changed_at;
};

struct alerts {
	pthread_mutex_t mu;
	double now;
	struct alert *v;              /* every alert ever checked, firing or not */
	size_t n, cap;
	struct alert resolved[ALERTS_KEEP_RESOLVED]; /* copies, a ring */
	size_t nresolved, next_resolved;
};

static void alert_json(buf_t *out, const struct alert *x);
static void alert_message(const struct alert *x, char *msg, size_t n);

alerts_t *alerts_new(void)
{
	alerts_t *a = xcalloc(1, sizeof *a);
	pthread_mutex_init(&a->mu, NULL);
	return a;
}

static void alert_strings_free(struct alert *x)
{
	free(x->id);
	free(x->kind);
	free(x->subject);
	free(x->what);
	free(x->unit);
}

void alerts_free(alerts_t *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		alert_strings_free(&a->v[i]);
	for (size_t i = 0; i < a->nresolved; i++)
		alert_strings_free(&a->resolved[i]);
	free(a->v);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

void alerts_begin(alerts_t *a, double now)
{
	pthread_mutex_lock(&a->mu);
	a->now = now;
	for (size_t i = 0; i < a->n; i++)
		a->v[i].seen = false;
	pthread_mutex_unlock(&a->mu);
}

static alert_severity classify(const alert_check *c)
{
	if (isnan(c->value))
		return ALERT_OK;
	if (c->below)
		return c->value < c->crit ? ALERT_CRITICAL : c->value < c->warn ? ALERT_WARNING : ALERT_OK;
	return c->value > c->crit ? ALERT_CRITICAL : c->value > c->warn ? ALERT_WARNING : ALERT_OK;
}

static void set_str(char **dst, const char *v)
{
	if (*dst && v && !strcmp(*dst, v))
		return;
	free(*dst);
	*dst = xstrdup(v ? v : "");
}

void alerts_check(alerts_t *a, const alert_check *c)
{
	pthread_mutex_lock(&a->mu);
	struct alert *x = NULL;
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i].id, c->id))
			x = &a->v[i];
	if (!x) {
		if (a->n == a->cap) {
			a->cap = a->cap ? a->cap * 2 : 16;
			a->v = xrealloc(a->v, a->cap * sizeof *a->v);
		}
		x = &a->v[a->n++];
		memset(x, 0, sizeof *x);
		x->id = xstrdup(c->id);
	}
	set_str(&x->kind, c->kind);
	set_str(&x->subject, c->subject);
	set_str(&x->what, c->what);
	set_str(&x->unit, c->unit);
	x->value = c->value;
	x->warn = c->warn;
	x->crit = c->crit;
	x->below = c->below;
	x->seen = true;
	alert_severity sev = classify(c);
	if (sev != x->sev) {
		if (x->sev == ALERT_OK)
			x->since = a->now;
		if (sev == ALERT_OK)
			x->resolved_at = a->now;
		x->changed_at = a->now;
		x->sev = sev;
	}
	pthread_mutex_unlock(&a->mu);
}

static void keep_resolved(alerts_t *a, const struct alert *x)
{
	struct alert *slot = &a->resolved[a->next_resolved];
	if (a->nresolved == ALERTS_KEEP_RESOLVED)
		alert_strings_free(slot);
	else
		a->nresolved++;
	*slot = *x;
	slot->id = xstrdup(x->id);
	slot->kind = xstrdup(x->kind);
	slot->subject = xstrdup(x->subject);
	slot->what = xstrdup(x->what);
	slot->unit = xstrdup(x->unit);
	a->next_resolved = (a->next_resolved + 1) % ALERTS_KEEP_RESOLVED;
}

size_t alerts_end(alerts_t *a, alerts_change_fn fn, void *ud)
{
	size_t changes = 0;
	buf_t json = BUF_INIT;
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < a->n; i++) {
		struct alert *x = &a->v[i];
		if (!x->seen && x->sev != ALERT_OK) {
			x->sev = ALERT_OK;
			x->resolved_at = x->changed_at = a->now;
		}
		if (x->sev == x->reported)
			continue;
		alert_severity was = x->reported;
		x->reported = x->sev;
		if (x->sev == ALERT_OK)
			keep_resolved(a, x);
		changes++;
		if (fn) {
			/* The callback runs under the lock so changes reach it in
			 * order; it must not call back into this set. */
			char msg[512];
			buf_reset(&json);
			alert_json(&json, x);
			alert_message(x, msg, sizeof msg);
			fn(ud, json.p, msg, x->sev, was);
		}
	}
	pthread_mutex_unlock(&a->mu);
	buf_free(&json);
	return changes;
}

size_t alerts_count(alerts_t *a, alert_severity sev)
{
	size_t n = 0;
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].reported != ALERT_OK && a->v[i].reported >= sev)
			n++;
	pthread_mutex_unlock(&a->mu);
	return n;
}

static int by_since(const void *p, const void *q)
{
	const struct alert *const *x = p, *const *y = q;
	return (*x)->since < (*y)->since ? -1 : (*x)->since > (*y)->since;
}

void alerts_json(alerts_t *a, buf_t *out)
{
	pthread_mutex_lock(&a->mu);
	const struct alert **firing = xmalloc((a->n + 1) * sizeof *firing);
	size_t nf = 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].reported != ALERT_OK)
			firing[nf++] = &a->v[i];
	qsort(firing, nf, sizeof *firing, by_since);
	buf_puts(out, "{\"firing\":[");
	for (size_t i = 0; i < nf; i++) {
		if (i)
			buf_putc(out, ',');
		alert_json(out, firing[i]);
	}
	buf_puts(out, "],\"resolved\":[");
	for (size_t i = 0; i < a->nresolved; i++) {
		if (i)
			buf_putc(out, ',');
		size_t k = (a->next_resolved + ALERTS_KEEP_RESOLVED - 1 - i) % ALERTS_KEEP_RESOLVED;
		alert_json(out, &a->resolved[k]);
	}
	buf_puts(out, "]}");
	pthread_mutex_unlock(&a->mu);
	free(firing);
}

const char *alerts_severity_name(alert_severity s)
{
	return s == ALERT_CRITICAL ? "critical" : s == ALERT_WARNING ? "warning" : "ok";
}

static void put_time(buf_t *out, double t)
{
	if (t <= 0) {
		buf_puts(out, "null");
		return;
	}
	char txt[DATE_UTC_ISO_BUFSZ];
	date_utc_iso((int64_t)t, txt);
	buf_printf(out, "\"%s\"", txt);
}

static void put_num(buf_t *out, double v)
{
	if (isfinite(v))
		buf_printf(out, "%.6g", v);
	else
		buf_puts(out, "null");
}

static void alert_json(buf_t *out, const struct alert *x)
{
	buf_puts(out, "{\"id\":");
	buf_json_str(out, x->id, strlen(x->id));
	buf_puts(out, ",\"kind\":");
	buf_json_str(out, x->kind, strlen(x->kind));
	buf_puts(out, ",\"subject\":");
	buf_json_str(out, x->subject, strlen(x->subject));
	buf_printf(out, ",\"severity\":\"%s\",\"state\":\"%s\",\"value\":", alerts_severity_name(x->sev),
		   x->sev == ALERT_OK ? "resolved" : "firing");
	put_num(out, x->value);
	buf_puts(out, ",\"unit\":");
	buf_json_str(out, x->unit, strlen(x->unit));
	buf_puts(out, ",\"warn\":");
	put_num(out, x->warn);
	buf_puts(out, ",\"critical\":");
	put_num(out, x->crit);
	char msg[512];
	alert_message(x, msg, sizeof msg);
	buf_puts(out, ",\"message\":");
	buf_json_str(out, msg, strlen(msg));
	buf_puts(out, ",\"since\":");
	put_time(out, x->since);
	buf_puts(out, ",\"resolved_at\":");
	put_time(out, x->sev == ALERT_OK ? x->resolved_at : 0);
	buf_puts(out, ",\"changed_at\":");
	put_time(out, x->changed_at);
	buf_putc(out, '}');
}

static void alert_message(const struct alert *x, char *msg, size_t n)
{
	if (x->sev == ALERT_OK)
		snprintf(msg, n, "%s is %.4g %s, back %s the warning threshold of %.4g %s", x->what, x->value, x->unit,
			 x->below ? "above" : "below", x->warn, x->unit);
	else
		snprintf(msg, n, "%s is %.4g %s (%s %s %.4g %s)", x->what, x->value, x->unit,
			 alerts_severity_name(x->sev), x->below ? "below" : "above",
			 x->sev == ALERT_CRITICAL ? x->crit : x->warn, x->unit);
}
