/* The text side of metrics.h: label escaping and reading, and the
 * formatting of values and family headers in the exposition format. */
#include "monitor/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void metrics_label_append(buf_t *labels, const char *name, const char *value, size_t len)
{
	if (labels->len)
		buf_putc(labels, ',');
	buf_puts(labels, name);
	buf_put(labels, "=\"", 2);
	for (size_t i = 0; i < len; i++) {
		char c = value[i];
		if (c == '\\')
			buf_put(labels, "\\\\", 2);
		else if (c == '"')
			buf_put(labels, "\\\"", 2);
		else if (c == '\n')
			buf_put(labels, "\\n", 2);
		else
			buf_putc(labels, c);
	}
	buf_putc(labels, '"');
}

bool metrics_label_get(const char *labels, const char *name, char *out, size_t n)
{
	if (!n)
		return false;
	size_t nl = strlen(name);
	const char *s = labels ? labels : "";
	while (*s) {
		const char *eq = strchr(s, '=');
		if (!eq || eq[1] != '"')
			return false;
		bool want = (size_t)(eq - s) == nl && memcmp(s, name, nl) == 0;
		size_t len = 0;
		for (s = eq + 2; *s && *s != '"'; s++) {
			char c = *s;
			if (c == '\\' && s[1]) {
				s++;
				c = *s == 'n' ? '\n' : *s;
			}
			if (want) {
				if (len + 1 >= n)
					return false;
				out[len++] = c;
			}
		}
		if (want) {
			out[len] = '\0';
			return true;
		}
		if (*s == '"')
			s++;
		if (*s == ',')
			s++;
	}
	return false;
}

/* Shortest text that reads back as the same double (as Prometheus' own
 * strconv 'g' does), but whole numbers in full: 20000, not 2e+04. */
void metrics_format_value(buf_t *out, double v)
{
	if (isnan(v)) {
		buf_puts(out, "NaN");
		return;
	}
	if (isinf(v)) {
		buf_puts(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	char tmp[32];
	if (v == (double)(int64_t)v && v > -1e15 && v < 1e15) {
		buf_put_i64(out, (int64_t)v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	buf_puts(out, tmp);
}

void metrics_format_family(buf_t *out, const char *name, const char *help, const char *type)
{
	buf_printf(out, "# HELP %s ", name);
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			buf_put(out, "\\\\", 2);
		else if (*p == '\n')
			buf_put(out, "\\n", 2);
		else
			buf_putc(out, *p);
	}
	buf_printf(out, "\n# TYPE %s %s\n", name, type);
}
