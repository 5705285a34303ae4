/* buf: a growable byte buffer (string builder) and a length-carrying slice.
 * Always NUL-terminated after any append, so p can be used as a C string. */
#ifndef BRISK_BUF_H
#define BRISK_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	const char *p;
	size_t len;
} slice_t;

#define SLICE_LIT(s) ((slice_t){(s), sizeof(s) - 1})
slice_t slice_cstr(const char *s);
int slice_eq_cstr(slice_t a, const char *s);      /* exact */
int slice_ieq_cstr(slice_t a, const char *s);     /* ASCII case-insensitive */
slice_t slice_trim(slice_t a);                    /* ASCII whitespace */

typedef struct {
	char *p;
	size_t len, cap;
} buf_t;

#define BUF_INIT {0}

void buf_reserve(buf_t *b, size_t extra);
void buf_put(buf_t *b, const void *data, size_t n);
void buf_puts(buf_t *b, const char *s);
void buf_putc(buf_t *b, char c);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf_t *b, const char *fmt, va_list ap);
void buf_put_i64(buf_t *b, int64_t v);
/* Appends a JSON string literal (quotes included), escaping as RFC 8259
 * requires; invalid UTF-8 bytes become U+FFFD so output is always valid. */
void buf_json_str(buf_t *b, const char *s, size_t n);
/* Appends a date (days since 1970-01-01) as a JSON string "YYYY-MM-DD". */
void buf_json_date(buf_t *b, int32_t days);
/* Appends a CSV field, quoted only when it holds , " CR or LF. */
void buf_csv_field(buf_t *b, const char *s, size_t n);
void buf_reset(buf_t *b);        /* len = 0, keeps memory */
void buf_free(buf_t *b);         /* releases memory; b is reusable */
char *buf_steal(buf_t *b);       /* caller owns the result (free()) */

#endif
