#include "ingest/optlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"

bool optlist_set(optlist *l, const char *name, const char *value)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->name[i], name)) {
			free(l->value[i]);
			l->value[i] = xstrdup(value);
			return true;
		}
	if (l->n == OPTLIST_MAX)
		return false;
	l->name[l->n] = xstrdup(name);
	l->value[l->n++] = xstrdup(value);
	return true;
}

const char *optlist_get(const optlist *l, const char *name)
{
	for (int i = 0; l && i < l->n; i++)
		if (!strcmp(l->name[i], name))
			return l->value[i];
	return NULL;
}

void optlist_free(optlist *l)
{
	for (int i = 0; i < l->n; i++) {
		free(l->name[i]);
		free(l->value[i]);
	}
	l->n = 0;
}

bool optlist_parse(optlist *l, const char *text, size_t len, char *why, size_t whylen)
{
	const char *p = text, *end = text + len;
	for (int ln = 1; p < end; ln++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n && memchr(p, '\0', n)) {
			/* would cut the name or value short without a word */
			snprintf(why, whylen, "line %d holds a NUL byte", ln);
			return false;
		}
		if (n) {
			const char *eq = memchr(p, '=', n);
			if (!eq || eq == p) {
				snprintf(why, whylen, "line %d: '%.*s' is not name=value", ln, (int)(n > 40 ? 40 : n), p);
				return false;
			}
			char name[64];
			size_t nn = (size_t)(eq - p);
			if (nn >= sizeof name) {
				snprintf(why, whylen, "line %d: option name too long", ln);
				return false;
			}
			memcpy(name, p, nn);
			name[nn] = '\0';
			if (optlist_get(l, name)) {
				snprintf(why, whylen, "option '%s' is given twice", name);
				return false;
			}
			/* "\n" is a line break of the value, "\\" a backslash */
			char *v = xmalloc(n - nn);
			size_t k = 0;
			for (const char *q = eq + 1; q < p + n; q++) {
				if (*q == '\\' && q + 1 < p + n && (q[1] == 'n' || q[1] == '\\')) {
					v[k++] = q[1] == 'n' ? '\n' : '\\';
					q++;
				} else {
					v[k++] = *q;
				}
			}
			v[k] = '\0';
			bool ok = optlist_set(l, name, v);
			free(v);
			if (!ok) {
				snprintf(why, whylen, "too many options (at most %d)", OPTLIST_MAX);
				return false;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return true;
}

void optlist_text(const optlist *l, buf_t *out)
{
	for (int i = 0; i < l->n; i++) {
		buf_printf(out, "%s=", l->name[i]);
		for (const char *c = l->value[i]; *c; c++)
			if (*c == '\n')
				buf_puts(out, "\\n");
			/* doubled before what reads as an escape: n, \ and a line
			 * break (written \n) */
			else if (*c == '\\' && (c[1] == 'n' || c[1] == '\\' || c[1] == '\n'))
				buf_puts(out, "\\\\");
			else
				buf_putc(out, *c);
		buf_putc(out, '\n');
	}
}

/* 'text' with each ' as '\'' (POSIX shell). */
static void shell_quote(buf_t *out, const char *s)
{
	bool plain = *s != '\0';
	for (const char *c = s; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,/=:", *c))
			plain = false;
	if (plain) {
		buf_puts(out, s);
		return;
	}
	buf_putc(out, '\'');
	for (const char *c = s; *c; c++)
		if (*c == '\'')
			buf_puts(out, "'\\''");
		else
			buf_putc(out, *c);
	buf_putc(out, '\'');
}

bool optlist_is_flag(const char *name)
{
	static const char *const flags[] = {"no_header", "decimal_comma", "currency", "plus", "parens", "round",
	                                    "trailing_minus",
	                                    "negate", "allow_duplicate_ids", "dry_run", "split", "detect", NULL};
	for (int f = 0; flags[f]; f++)
		if (!strcmp(flags[f], name))
			return true;
	return false;
}

void optlist_cmdline(const optlist *l, buf_t *out)
{
	for (int i = 0; i < l->n; i++) {
		buf_puts(out, " --");
		for (const char *c = l->name[i]; *c; c++)
			buf_putc(out, *c == '_' ? '-' : *c);
		/* flags are given bare */
		if (optlist_is_flag(l->name[i]) && !strcmp(l->value[i], "1"))
			continue;
		buf_putc(out, ' ');
		shell_quote(out, l->value[i]);
	}
}

/* The end of the list entry starting at p ("field=value" or
 * field="quoted, value"): the ',' after it or the end. */
static const char *entry_end(const char *p)
{
	const char *eq = strchr(p, '=');
	const char *comma = strchr(p, ',');
	if (!eq || (comma && comma < eq))
		return comma ? comma : p + strlen(p);
	p = eq + 1;
	if (*p == '"') {
		for (p++; *p; p++)
			if (*p == '"' && p[1] == '"')
				p++;
			else if (*p == '"') {
				p++;
				break;
			}
	}
	while (*p && *p != ',')
		p++;
	return p;
}

/* Does the list spec give field (the text before '=' of entry e)? */
static bool list_has(const char *spec, const char *e, size_t elen)
{
	const char *eq = memchr(e, '=', elen);
	size_t fl = eq ? (size_t)(eq - e) : elen;
	for (const char *p = spec; *p;) {
		const char *q = entry_end(p);
		const char *peq = memchr(p, '=', (size_t)(q - p));
		size_t pl = peq ? (size_t)(peq - p) : (size_t)(q - p);
		if (pl == fl && !strncasecmp(p, e, fl))
			return true;
		p = *q ? q + 1 : q;
	}
	return false;
}

bool optlist_list_has(const char *spec, const char *field)
{
	return spec && list_has(spec, field, strlen(field));
}

bool optlist_list_value(const char *spec, const char *field, char *out, size_t cap)
{
	size_t fl = strlen(field);
	for (const char *p = spec; p && *p;) {
		const char *q = entry_end(p);
		const char *eq = memchr(p, '=', (size_t)(q - p));
		if (eq && (size_t)(eq - p) == fl && !strncasecmp(p, field, fl)) {
			const char *v = eq + 1;
			size_t n = 0;
			if (*v == '"') {
				for (v++; v < q && n + 1 < cap; v++) {
					if (*v == '"' && v[1] == '"')
						v++;
					else if (*v == '"')
						break;
					out[n++] = *v;
				}
			} else {
				for (; v < q && n + 1 < cap; v++)
					out[n++] = *v;
			}
			out[n] = '\0';
			return true;
		}
		p = *q ? q + 1 : q;
	}
	return false;
}

static bool is_list(const char *name)
{
	return !strcmp(name, "map") || !strcmp(name, "set") || !strcmp(name, "default");
}

const char *optlayers_get(void *stack, const char *name)
{
	optlayers *s = stack;
	const char *v = s->get ? s->get(s->ud, name) : NULL;
	int i = 0;
	if (!v)
		for (; i < s->nlayers && !(v = optlist_get(s->layer[i], name)); i++)
			;
	else
		i = -1;
	if (!v || !is_list(name))
		return v;
	/* v came from level i (-1 = the caller): add the lower levels' entries
	 * for the fields above leave out. */
	buf_t b = BUF_INIT;
	buf_puts(&b, v);
	for (int j = i + 1; j < s->nlayers; j++) {
		const char *low = optlist_get(s->layer[j], name);
		for (const char *p = low; p && *p;) {
			const char *q = entry_end(p);
			buf_putc(&b, '\0');
			if (!list_has(b.p, p, (size_t)(q - p))) {
				b.len--;
				buf_putc(&b, ',');
				buf_put(&b, p, (size_t)(q - p));
			} else {
				b.len--;
			}
			p = *q ? q + 1 : q;
		}
	}
	buf_putc(&b, '\0');
	optlist_set(&s->joined, name, b.p);
	buf_free(&b);
	return optlist_get(&s->joined, name);
}

void optlayers_free(optlayers *s)
{
	optlist_free(&s->joined);
}
