#include "match/jput.h"

void jput_money(buf_t *b, int64_t cents)
{
	buf_put_i64(b, cents);
}

void jput_date(buf_t *b, date_t d)
{
	buf_json_date(b, d);
}

void jput_text(buf_t *b, store_stmt_t *st, int col)
{
	size_t n;
	const char *s = store_col_text(st, col, &n);
	buf_json_str(b, s, n);
}

void jput_key(buf_t *b, bool *first, const char *k)
{
	if (!*first)
		buf_putc(b, ',');
	*first = false;
	buf_printf(b, "\"%s\":", k);
}


void jput_fields(buf_t *b, bool *first, store_stmt_t *st, const jput_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		jput_key(b, first, f[i].key);
		switch (f[i].kind) {
		case JPUT_MONEY:
			jput_money(b, store_col_i64(st, f[i].col));
			break;
		case JPUT_DATE:
			jput_date(b, (date_t)store_col_i64(st, f[i].col));
			break;
		case JPUT_CONF:
			buf_printf(b, "%.3f", store_col_double(st, f[i].col));
			break;
		default:
			jput_text(b, st, f[i].col);
		}
	}
}
