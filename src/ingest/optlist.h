/* optlist: import options as name/value pairs, outside of any parser: the
 * options a profile keeps, the ones --detect chose, and their layering over
 * what the caller gave (the caller wins). The text form is one "name=value"
 * a line, the API names (date_format, not --date-format); a line break in
 * a value (rules) is written \n, a backslash before n or \ doubled. */
#ifndef BRISK_OPTLIST_H
#define BRISK_OPTLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define OPTLIST_MAX 48

typedef struct {
	int n;
	char *name[OPTLIST_MAX];
	char *value[OPTLIST_MAX]; /* both owned (optlist_free) */
} optlist;

/* Sets name to value (copies; replaces an earlier value). False when full. */
bool optlist_set(optlist *l, const char *name, const char *value);
/* The value of name, or NULL. */
const char *optlist_get(const optlist *l, const char *name);
void optlist_free(optlist *l);

/* Parses the text form; false with a reason (a line without '=', a NUL
 * byte, a name given twice, too many). l is filled as far as it went (optlist_free). */
bool optlist_parse(optlist *l, const char *text, size_t len, char *why, size_t whylen);
/* Appends the text form to out. */
void optlist_text(const optlist *l, buf_t *out);
/* True if the option is a yes/no flag (--decimal-comma, not --skip N). */
bool optlist_is_flag(const char *name);
/* Appends the options as command-line flags (" --date-format '%d.%m.%Y'
 * --decimal-comma"), quoted for a POSIX shell. */
void optlist_cmdline(const optlist *l, buf_t *out);

/* Does the list option value spec ("date=Datum,amount=\"A, B\"") give
 * field? */
bool optlist_list_has(const char *spec, const char *field);

/* The value field has in the list spec (unquoted) into out (cap bytes);
 * false if spec does not give field. */
bool optlist_list_value(const char *spec, const char *field, char *out, size_t cap);

/* Reads options through a getter (as import_options_parse does) from a
 * stack: get(ud) first, then each layer in order. For the list options
 * (map, set, default) the entries of the layers below are added for the
 * fields the ones above leave out, so a detected mapping completes the
 * user's. Use optlayers_get as the getter, the stack as ud. */
typedef struct {
	const char *(*get)(void *ud, const char *name);
	void *ud;
	const optlist *layer[3];
	int nlayers;
	optlist joined; /* the list values built by optlayers_get */
} optlayers;

const char *optlayers_get(void *stack, const char *name);
void optlayers_free(optlayers *s);

#endif
