#include "analytics/search.h"

#include <string.h>

#include "store/store.h"

/* DESIGN
 * The trigram tables use detail=none (a quarter of the size of a full
 * index, and faster to keep up to date): FTS5 then refuses phrase queries,
 * so a substring is asked for as the AND of its trigrams, each a one-token
 * phrase. That finds every row holding the substring and a few that hold
 * the trigrams elsewhere; the list statement's column test (instr over the
 * searched columns) removes those, so results are exactly the old scan's.
 * A handful of trigrams spread over q narrows as well as all of them.
 *
 * PostgreSQL reads the same statement with `t_fts MATCH ?15` turned into
 * `<searched columns> LIKE ?15` (dialect.c) over a pg_trgm GIN index on
 * that expression: the value is then a LIKE pattern, %q% with q's own %, _
 * and \ escaped, which the index narrows by q's trigrams. */

#define MAX_TRIGRAMS 8

/* Appends the 3-character run of q starting at byte off as a quoted term. */
static void put_trigram(buf_t *out, const char *q, const size_t *starts, size_t i)
{
	if (out->len)
		buf_putc(out, ' ');
	buf_putc(out, '"');
	for (size_t b = starts[i]; b < starts[i + 3]; b++) {
		if (q[b] == '"')
			buf_putc(out, '"');
		buf_putc(out, q[b]);
	}
	buf_putc(out, '"');
}

/* PostgreSQL: %q% as a LIKE pattern. */
static void like_pattern(const char *q, buf_t *out)
{
	buf_putc(out, '%');
	for (; *q; q++) {
		if (*q == '%' || *q == '_' || *q == '\\')
			buf_putc(out, '\\');
		buf_putc(out, *q);
	}
	buf_putc(out, '%');
}

bool search_terms(store_conn_t *c, const char *q, buf_t *out)
{
	buf_reset(out);
	size_t len = strlen(q);
	if (len > 1024)
		return false; /* callers bound q far below this */
	/* byte offset of each character, plus the end */
	size_t starts[1025], n = 0;
	for (size_t b = 0; b < len; b++)
		if (((unsigned char)q[b] & 0xc0) != 0x80)
			starts[n++] = b;
	starts[n] = len;
	if (n < SEARCH_MIN_CHARS)
		return false;
	if (!strcmp(store_backend_name(store_of(c)), "postgresql")) {
		like_pattern(q, out);
		return true;
	}
	size_t ntri = n - 2;
	size_t want = ntri < MAX_TRIGRAMS ? ntri : MAX_TRIGRAMS;
	size_t last = (size_t)-1;
	for (size_t k = 0; k < want; k++) {
		size_t i = want == 1 ? 0 : k * (ntri - 1) / (want - 1);
		if (i != last)
			put_trigram(out, q, starts, i);
		last = i;
	}
	return true;
}
