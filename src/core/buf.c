#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/mem.h"
#include "core/utf8.h"

slice_t slice_cstr(const char *s)
{
	return (slice_t){s, s ? strlen(s) : 0};
}

int slice_eq_cstr(slice_t a, const char *s)
{
	size_t n = strlen(s);
	return a.len == n && memcmp(a.p, s, n) == 0;
}

int slice_ieq_cstr(slice_t a, const char *s)
{
	size_t n = strlen(s);
	return a.len == n && strncasecmp(a.p, s, n) == 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

slice_t slice_trim(slice_t a)
{
	while (a.len && is_space(a.p[0])) {
		a.p++;
		a.len--;
	}
	while (a.len && is_space(a.p[a.len - 1]))
		a.len--;
	return a;
}

void buf_reserve(buf_t *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap * 2 : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void buf_put(buf_t *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void buf_puts(buf_t *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

void buf_putc(buf_t *b, char c)
{
	buf_reserve(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	buf_reserve(b, 64);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	if (n >= 0 && (size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap2);
	}
	va_end(ap2);
	if (n > 0)
		b->len += (size_t)n;
}

void buf_printf(buf_t *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_put_i64(buf_t *b, int64_t v)
{
	char tmp[24];
	char *e = tmp + sizeof tmp, *q = e;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--q = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--q = '-';
	buf_put(b, q, (size_t)(e - q));
}

void buf_json_date(buf_t *b, int32_t days)
{
	char s[DATE_BUFSZ];
	date_format(days, s);
	buf_putc(b, '"');
	buf_put(b, s, 10);
	buf_putc(b, '"');
}

void buf_json_str(buf_t *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_reserve(b, n + 2);
	buf_putc(b, '"');
	const unsigned char *u = (const unsigned char *)s;
	size_t run = 0; /* start of a run of bytes copied verbatim */
	size_t i = 0;
	while (i < n) {
		unsigned char c = u[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t l = utf8_seq_len(u + i, n - i);
			if (l) {
				i += l;
				continue;
			}
		}
		buf_put(b, s + run, i - run);
		switch (c) {
		case '"': buf_put(b, "\\\"", 2); break;
		case '\\': buf_put(b, "\\\\", 2); break;
		case '\n': buf_put(b, "\\n", 2); break;
		case '\r': buf_put(b, "\\r", 2); break;
		case '\t': buf_put(b, "\\t", 2); break;
		default:
			if (c < 0x20) {
				char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
				buf_put(b, e, 6);
			} else {
				buf_put(b, "\xEF\xBF\xBD", 3); /* U+FFFD for an invalid byte */
			}
		}
		i++;
		run = i;
	}
	buf_put(b, s + run, n - run);
	buf_putc(b, '"');
}

void buf_csv_field(buf_t *b, const char *s, size_t n)
{
	int quote = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') {
			quote = 1;
			break;
		}
	if (!quote) {
		buf_put(b, s, n);
		return;
	}
	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_putc(b, '"');
		buf_putc(b, s[i]);
	}
	buf_putc(b, '"');
}

void buf_reset(buf_t *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

void buf_free(buf_t *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *buf_steal(buf_t *b)
{
	if (!b->p)
		buf_reserve(b, 0), b->p[0] = '\0';
	char *p = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}
