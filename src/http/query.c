#include "http/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long query_decode(const char *in, size_t len, char *out, bool plus_space)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '\0') /* raw NUL: would cut names short for strcmp */
			return -1;
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int h = hexval(in[i + 1]), l = hexval(in[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = (char)(h * 16 + l);
			if (c == '\0')
				return -1;
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		out[o++] = c;
	}
	return (long)o;
}

bool query_parse(query_t *q, const char *s, size_t len, char *why, size_t whylen)
{
	memset(q, 0, sizeof *q);
	if (!s || len == 0)
		return true;
	q->mem = xmalloc(len + 1 + QUERY_MAX);
	char *dst = q->mem;
	size_t i = 0;
	while (i <= len) {
		size_t j = i;
		while (j < len && s[j] != '&')
			j++;
		if (j > i) {
			if (q->n == QUERY_MAX) {
				snprintf(why, whylen, "too many query parameters (at most %d)", QUERY_MAX);
				return false;
			}
			const char *eq = memchr(s + i, '=', j - i);
			size_t nl = eq ? (size_t)(eq - (s + i)) : j - i;
			long dn = query_decode(s + i, nl, dst, true);
			if (dn <= 0) {
				snprintf(why, whylen, dn == 0 ? "a query parameter has no name" : "malformed %%-escape in the query string");
				return false;
			}
			char *name = dst;
			dst += dn;
			*dst++ = '\0';
			char *value = dst;
			if (eq) {
				long dv = query_decode(eq + 1, j - i - nl - 1, dst, true);
				if (dv < 0) {
					snprintf(why, whylen, "malformed %%-escape in parameter '%s'", name);
					return false;
				}
				dst += dv;
			}
			*dst++ = '\0';
			for (int k = 0; k < q->n; k++)
				if (!strcmp(q->name[k], name)) {
					snprintf(why, whylen, "parameter '%s' is given twice", name);
					return false;
				}
			q->name[q->n] = name;
			q->value[q->n] = value;
			q->n++;
		}
		i = j + 1;
	}
	return true;
}

void query_free(query_t *q)
{
	free(q->mem);
	memset(q, 0, sizeof *q);
}

const char *query_get(const query_t *q, const char *name)
{
	for (int i = 0; i < q->n; i++)
		if (!strcmp(q->name[i], name))
			return q->value[i];
	return NULL;
}

const char *query_unknown(const query_t *q, const char *const *allowed)
{
	for (int i = 0; i < q->n; i++) {
		bool ok = false;
		for (int k = 0; allowed[k]; k++)
			if (!strcmp(q->name[i], allowed[k])) {
				ok = true;
				break;
			}
		if (!ok)
			return q->name[i];
	}
	return NULL;
}
