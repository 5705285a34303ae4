#include "monitor/targets.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

struct bound {
	char *scenario, *figure;
	bool is_max;
	double limit;
	int verdict; /* -1 not measured, 0 missed, 1 met */
};

struct figure {
	char *name, *unit;
	double value, naive;
};

struct scenario {
	char *name;
	struct figure *f;
	size_t nf, capf;
	char **notes;
	size_t nnotes;
};

struct targets {
	struct bound *b;
	size_t nb, capb;
	struct scenario *s;
	size_t ns, caps;
};

targets_t *targets_new(void)
{
	return xcalloc(1, sizeof(targets_t));
}

struct load_ctx {
	targets_t *t;
	char why[200];
};

static int on_key(void *ud, const char *section, const char *name, const char *value)
{
	struct load_ctx *x = ud;
	size_t n = strlen(name);
	bool is_max = n > 4 && !strcmp(name + n - 4, "_max"), is_min = n > 4 && !strcmp(name + n - 4, "_min");
	if (!*section) {
		snprintf(x->why, sizeof x->why, "'%s' is outside any [scenario] section", name);
		return 0;
	}
	if (!is_max && !is_min) {
		snprintf(x->why, sizeof x->why, "'%s' must end in _max or _min (a bound on a figure)", name);
		return 0;
	}
	char *end;
	errno = 0;
	double v = strtod(value, &end);
	if (errno || end == value || *end || !isfinite(v)) {
		snprintf(x->why, sizeof x->why, "'%s' is not a number for %s.%s", value, section, name);
		return 0;
	}
	targets_t *t = x->t;
	if (t->nb == t->capb) {
		t->capb = t->capb ? t->capb * 2 : 16;
		t->b = xrealloc(t->b, t->capb * sizeof *t->b);
	}
	t->b[t->nb++] = (struct bound){xstrdup(section), xstrndup(name, n - 4), is_max, v, -1};
	return 1;
}

targets_t *targets_load(const char *path, char *err, size_t errlen)
{
	struct load_ctx x = {targets_new(), ""};
	int rc = ini_parse(path, on_key, &x);
	if (rc == 0)
		return x.t;
	if (rc < 0)
		snprintf(err, errlen, "%s: cannot read: %s", path, rc == -1 ? strerror(errno) : "out of memory");
	else
		snprintf(err, errlen, "%s:%d: %s", path, rc, x.why[0] ? x.why : "syntax error (expected [section] or key = value)");
	targets_free(x.t);
	return NULL;
}

void targets_free(targets_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nb; i++) {
		free(t->b[i].scenario);
		free(t->b[i].figure);
	}
	for (size_t i = 0; i < t->ns; i++) {
		struct scenario *s = &t->s[i];
		for (size_t k = 0; k < s->nf; k++) {
			free(s->f[k].name);
			free(s->f[k].unit);
		}
		for (size_t k = 0; k < s->nnotes; k++)
			free(s->notes[k]);
		free(s->f);
		free(s->notes);
		free(s->name);
	}
	free(t->b);
	free(t->s);
	free(t);
}

static struct scenario *scenario_get(targets_t *t, const char *name)
{
	for (size_t i = 0; i < t->ns; i++)
		if (!strcmp(t->s[i].name, name))
			return &t->s[i];
	if (t->ns == t->caps) {
		t->caps = t->caps ? t->caps * 2 : 16;
		t->s = xrealloc(t->s, t->caps * sizeof *t->s);
	}
	struct scenario *s = &t->s[t->ns++];
	memset(s, 0, sizeof *s);
	s->name = xstrdup(name);
	return s;
}

void targets_record(targets_t *t, const char *scenario, const char *figure, double value, double naive,
		    const char *unit)
{
	struct scenario *s = scenario_get(t, scenario);
	for (size_t k = 0; k < s->nf; k++)
		if (!strcmp(s->f[k].name, figure)) {
			s->f[k].value = value;
			s->f[k].naive = naive;
			return;
		}
	if (s->nf == s->capf) {
		s->capf = s->capf ? s->capf * 2 : 8;
		s->f = xrealloc(s->f, s->capf * sizeof *s->f);
	}
	s->f[s->nf++] = (struct figure){xstrdup(figure), xstrdup(unit ? unit : ""), value, naive};
}

void targets_note(targets_t *t, const char *scenario, const char *fmt, ...)
{
	struct scenario *s = scenario_get(t, scenario);
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	s->notes = xrealloc(s->notes, (s->nnotes + 1) * sizeof *s->notes);
	s->notes[s->nnotes++] = xstrdup(msg);
}

static const struct figure *figure_find(const targets_t *t, const char *scenario, const char *figure)
{
	for (size_t i = 0; i < t->ns; i++)
		if (!strcmp(t->s[i].name, scenario))
			for (size_t k = 0; k < t->s[i].nf; k++)
				if (!strcmp(t->s[i].f[k].name, figure))
					return &t->s[i].f[k];
	return NULL;
}

size_t targets_judge(targets_t *t)
{
	size_t missed = 0;
	for (size_t i = 0; i < t->nb; i++) {
		struct bound *b = &t->b[i];
		const struct figure *f = figure_find(t, b->scenario, b->figure);
		if (!f || isnan(f->value)) {
			b->verdict = -1;
			continue;
		}
		b->verdict = b->is_max ? f->value <= b->limit : f->value >= b->limit;
		if (!b->verdict)
			missed++;
	}
	return missed;
}

size_t targets_unmeasured(const targets_t *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nb; i++)
		n += t->b[i].verdict < 0;
	return n;
}

static const struct bound *bound_of(const targets_t *t, const char *scenario, const char *figure)
{
	for (size_t i = 0; i < t->nb; i++)
		if (!strcmp(t->b[i].scenario, scenario) && !strcmp(t->b[i].figure, figure))
			return &t->b[i];
	return NULL;
}

static void fmt_num(char *out, size_t n, double v)
{
	if (isnan(v))
		snprintf(out, n, "-");
	else if (fabs(v) >= 1000)
		snprintf(out, n, "%.0f", v);
	else if (fabs(v) >= 10)
		snprintf(out, n, "%.1f", v);
	else
		snprintf(out, n, "%.3g", v);
}

void targets_table(const targets_t *t, FILE *out)
{
	fprintf(out, "%-16s %-18s %12s %12s %14s  %s\n", "scenario", "figure", "brisk", "naive", "target", "verdict");
	for (size_t i = 0; i < t->ns; i++) {
		const struct scenario *s = &t->s[i];
		for (size_t k = 0; k < s->nf; k++) {
			const struct figure *f = &s->f[k];
			const struct bound *b = bound_of(t, s->name, f->name);
			char v[32], nv[32], tg[40] = "", lim[32];
			fmt_num(v, sizeof v, f->value);
			fmt_num(nv, sizeof nv, f->naive);
			if (b) {
				fmt_num(lim, sizeof lim, b->limit);
				snprintf(tg, sizeof tg, "%s %s", b->is_max ? "<=" : ">=", lim);
			}
			const char *verdict = !b ? "" : b->verdict > 0 ? "ok" : b->verdict == 0 ? "MISSED" : "not measured";
			fprintf(out, "%-16s %-18s %12s %12s %14s  %s%s%s\n", k ? "" : s->name, f->name, v, nv, tg,
				verdict, *f->unit ? "  " : "", f->unit);
		}
		for (size_t k = 0; k < s->nnotes; k++)
			fprintf(out, "%-16s   note: %s\n", s->nf ? "" : s->name, s->notes[k]);
	}
	for (size_t i = 0; i < t->nb; i++)
		if (t->b[i].verdict < 0)
			fprintf(out, "target %s.%s_%s was not measured (no such scenario or figure in this run)\n",
				t->b[i].scenario, t->b[i].figure, t->b[i].is_max ? "max" : "min");
}

static void put_num(buf_t *out, double v)
{
	if (isfinite(v))
		buf_printf(out, "%.6g", v);
	else
		buf_puts(out, "null");
}

void targets_json(const targets_t *t, buf_t *out)
{
	size_t missed = 0;
	buf_puts(out, "{\"scenarios\":[");
	for (size_t i = 0; i < t->ns; i++) {
		const struct scenario *s = &t->s[i];
		buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
		buf_json_str(out, s->name, strlen(s->name));
		buf_puts(out, ",\"notes\":[");
		for (size_t k = 0; k < s->nnotes; k++) {
			if (k)
				buf_putc(out, ',');
			buf_json_str(out, s->notes[k], strlen(s->notes[k]));
		}
		buf_puts(out, "],\"figures\":[");
		for (size_t k = 0; k < s->nf; k++) {
			const struct figure *f = &s->f[k];
			const struct bound *b = bound_of(t, s->name, f->name);
			buf_puts(out, k ? ",{\"name\":" : "{\"name\":");
			buf_json_str(out, f->name, strlen(f->name));
			buf_puts(out, ",\"value\":");
			put_num(out, f->value);
			buf_puts(out, ",\"unit\":");
			buf_json_str(out, f->unit, strlen(f->unit));
			buf_puts(out, ",\"naive\":");
			put_num(out, f->naive);
			if (b) {
				buf_printf(out, ",\"target\":{\"%s\":", b->is_max ? "max" : "min");
				put_num(out, b->limit);
				buf_printf(out, "},\"met\":%s}", b->verdict > 0 ? "true" : b->verdict == 0 ? "false" : "null");
				missed += b->verdict == 0;
			} else {
				buf_puts(out, ",\"target\":null,\"met\":null}");
			}
		}
		buf_puts(out, "]}");
	}
	buf_printf(out, "],\"missed\":%zu,\"unmeasured\":[", missed);
	bool first = true;
	for (size_t i = 0; i < t->nb; i++)
		if (t->b[i].verdict < 0) {
			char key[256];
			snprintf(key, sizeof key, "%s.%s_%s", t->b[i].scenario, t->b[i].figure,
				 t->b[i].is_max ? "max" : "min");
			if (!first)
				buf_putc(out, ',');
			buf_json_str(out, key, strlen(key));
			first = false;
		}
	buf_puts(out, "]}");
}
