/* query: a URL query string split into decoded name/value pairs. */
#ifndef BRISK_QUERY_H
#define BRISK_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#define QUERY_MAX 32

typedef struct {
	int n;
	char *name[QUERY_MAX];
	char *value[QUERY_MAX];
	char *mem; /* one allocation holding every decoded string */
} query_t;

/* Parses s (without '?'); '+' is a space, %XX decoded. Returns false with a
 * reason on malformed escapes, NUL bytes, duplicate names or more than
 * QUERY_MAX pairs. q must be freed with query_free either way. */
bool query_parse(query_t *q, const char *s, size_t len, char *why, size_t whylen);
void query_free(query_t *q);
/* The value of name, or NULL. */
const char *query_get(const query_t *q, const char *name);
/* Returns the first name not in the NULL-terminated allowed list, or NULL. */
const char *query_unknown(const query_t *q, const char *const *allowed);
/* Percent-decodes in place into out (out may equal in); returns the length
 * or -1 on a malformed escape. plus_space turns '+' into ' '. */
long query_decode(const char *in, size_t len, char *out, bool plus_space);

#endif
