#include "dataset/dsdef.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/date.h"
#include "core/utf8.h"

bool dsdef_name_ok(const char *s, size_t len)
{
	if (len < 1 || len > DSDEF_NAME_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

const char *dsdef_mtype_name(dsdef_mtype t)
{
	static const char *const names[] = {"money", "integer", "decimal"};
	return (unsigned)t <= DSM_DECIMAL ? names[t] : "?";
}

int dsdef_dim_index(const dsdef_t *d, const char *name)
{
	for (int i = 0; i < d->ndims; i++)
		if (!strcmp(d->dims[i].name, name))
			return i;
	return -1;
}

int dsdef_measure_index(const dsdef_t *d, const char *name)
{
	for (int i = 0; i < d->nmeasures; i++)
		if (!strcmp(d->measures[i].name, name))
			return i;
	return -1;
}

/* Refuses members outside allowed (NULL-terminated): a typo ("dimension")
 * must not silently drop what the user meant. */
static bool known_members(const json_t *o, const char *what, const char *const *allowed, char *why, size_t whylen)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		bool ok = false;
		for (int i = 0; allowed[i] && !ok; i++)
			ok = !strcmp(k, allowed[i]);
		if (!ok) {
			snprintf(why, whylen, "%s: unknown member '%.40s'", what, k);
			return false;
		}
	}
	return true;
}

/* A column name: non-empty text of valid UTF-8 up to DSDEF_COLUMN_MAX bytes
 * (trimmed; the header is matched trimmed and case-insensitively). */
static bool column(const json_t *v, const char *what, char *out, char *why, size_t whylen)
{
	if (!json_is_string(v)) {
		snprintf(why, whylen, "%s must be a column name (text)", what);
		return false;
	}
	slice_t s = slice_trim((slice_t){json_string_value(v), json_string_length(v)});
	if (!s.len || s.len > DSDEF_COLUMN_MAX || memchr(s.p, 0, s.len) || !utf8_valid(s.p, s.len, NULL)) {
		snprintf(why, whylen, "%s must be a column name of 1 to %d bytes of UTF-8 text", what, DSDEF_COLUMN_MAX);
		return false;
	}
	memcpy(out, s.p, s.len);
	out[s.len] = '\0';
	return true;
}

static bool name(const json_t *v, const char *what, char *out, char *why, size_t whylen)
{
	if (!json_is_string(v) || !dsdef_name_ok(json_string_value(v), json_string_length(v))) {
		snprintf(why, whylen, "%s must be a name of a lowercase letter then up to 39 lowercase letters, digits or _",
		         what);
		return false;
	}
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return true;
}

static bool parse_time(const json_t *t, dsdef_t *d, char *why, size_t whylen)
{
	static const char *const allowed[] = {"column", "grain", "format", NULL};
	if (!json_is_object(t)) {
		snprintf(why, whylen, "time must be an object {\"column\":..., \"grain\":\"day|month|quarter|year\"}");
		return false;
	}
	if (!known_members(t, "time", allowed, why, whylen) ||
	    !column(json_object_get(t, "column"), "time.column", d->time_column, why, whylen))
		return false;
	const json_t *g = json_object_get(t, "grain");
	d->grain = INTERVAL_DAY;
	if (g) {
		const char *s = json_is_string(g) ? json_string_value(g) : "";
		if (!interval_parse(s, strlen(s), &d->grain) || d->grain == INTERVAL_WEEK) {
			snprintf(why, whylen, "time.grain must be day, month, quarter or year");
			return false;
		}
	}
	const json_t *f = json_object_get(t, "format");
	d->time_format[0] = '\0';
	if (f) {
		const char *s = json_is_string(f) ? json_string_value(f) : NULL;
		char fw[160];
		if (!s || !*s || strlen(s) >= sizeof d->time_format) {
			snprintf(why, whylen, "time.format must be a date format of 1 to %zu bytes, e.g. \"%%m/%%d/%%Y\"",
			         sizeof d->time_format - 1);
			return false;
		}
		if (!date_fmt_check(s, fw, sizeof fw)) {
			snprintf(why, whylen, "time.format: %s", fw);
			return false;
		}
		snprintf(d->time_format, sizeof d->time_format, "%s", s);
	}
	return true;
}

static bool parse_dims(const json_t *a, dsdef_t *d, char *why, size_t whylen)
{
	static const char *const allowed[] = {"name", "column", NULL};
	if (!a)
		return true;
	if (!json_is_array(a) || json_array_size(a) > DSDEF_MAX_DIMS) {
		snprintf(why, whylen, "dimensions must be an array of at most %d {\"name\",\"column\"}", DSDEF_MAX_DIMS);
		return false;
	}
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) {
		char what[48];
		snprintf(what, sizeof what, "dimensions[%zu]", i);
		dsdef_dim *x = &d->dims[d->ndims++];
		if (!json_is_object(e)) {
			snprintf(why, whylen, "%s must be an object {\"name\",\"column\"}", what);
			return false;
		}
		if (!known_members(e, what, allowed, why, whylen) ||
		    !name(json_object_get(e, "name"), what, x->name, why, whylen))
			return false;
		const json_t *c = json_object_get(e, "column");
		if (!c)
			memcpy(x->column, x->name, sizeof x->name);
		else if (!column(c, what, x->column, why, whylen))
			return false;
	}
	return true;
}

static bool parse_measures(const json_t *a, dsdef_t *d, char *why, size_t whylen)
{
	static const char *const allowed[] = {"name", "column", "type", "scale", NULL};
	if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > DSDEF_MAX_MEASURES) {
		snprintf(why, whylen, "measures must be an array of 1 to %d {\"name\",\"column\",\"type\"}", DSDEF_MAX_MEASURES);
		return false;
	}
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) {
		char what[48];
		snprintf(what, sizeof what, "measures[%zu]", i);
		dsdef_measure *m = &d->measures[d->nmeasures++];
		if (!json_is_object(e)) {
			snprintf(why, whylen, "%s must be an object {\"name\",\"column\",\"type\"}", what);
			return false;
		}
		if (!known_members(e, what, allowed, why, whylen) || !name(json_object_get(e, "name"), what, m->name, why, whylen))
			return false;
		const json_t *c = json_object_get(e, "column");
		if (!c)
			memcpy(m->column, m->name, sizeof m->name);
		else if (!column(c, what, m->column, why, whylen))
			return false;
		const json_t *t = json_object_get(e, "type");
		const char *ts = json_is_string(t) ? json_string_value(t) : "";
		if (!strcmp(ts, "money"))
			m->type = DSM_MONEY;
		else if (!strcmp(ts, "integer"))
			m->type = DSM_INTEGER;
		else if (!strcmp(ts, "decimal"))
			m->type = DSM_DECIMAL;
		else {
			snprintf(why, whylen, "%s.type must be money, integer or decimal (never floating point)", what);
			return false;
		}
		const json_t *sc = json_object_get(e, "scale");
		m->scale = 0;
		if (m->type == DSM_DECIMAL) {
			if (!json_is_integer(sc) || json_integer_value(sc) < 0 || json_integer_value(sc) > DSDEF_MAX_SCALE) {
				snprintf(why, whylen, "%s: a decimal measure needs a scale from 0 to %d (digits after the point)", what,
				         DSDEF_MAX_SCALE);
				return false;
			}
			m->scale = (int)json_integer_value(sc);
		} else if (sc && !(m->type == DSM_INTEGER && json_is_integer(sc) && json_integer_value(sc) == 0)) {
			snprintf(why, whylen, "%s: scale applies to decimal measures only (money uses the currency's decimals)",
			         what);
			return false;
		}
	}
	return true;
}

static bool parse_columns(const json_t *a, const char *what, int max, char out[][DSDEF_COLUMN_MAX + 1], int *n,
                          char *why, size_t whylen)
{
	if (!a)
		return true;
	if (!json_is_array(a) || (int)json_array_size(a) > max) {
		snprintf(why, whylen, "%s must be an array of at most %d column names", what, max);
		return false;
	}
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) {
		char w[48];
		snprintf(w, sizeof w, "%s[%zu]", what, i);
		if (!column(e, w, out[*n], why, whylen))
			return false;
		for (int k = 0; k < *n; k++)
			if (!strcasecmp(out[k], out[*n])) {
				snprintf(why, whylen, "%s names column '%s' twice", what, out[k]);
				return false;
			}
		(*n)++;
	}
	return true;
}

/* Names are unique across dimensions and measures (filters and row
 * members use them), and no column feeds two of them. */
static bool check_unique(const dsdef_t *d, char *why, size_t whylen)
{
	const char *names[DSDEF_MAX_DIMS + DSDEF_MAX_MEASURES], *cols[DSDEF_MAX_DIMS + DSDEF_MAX_MEASURES + 1];
	int n = 0;
	for (int i = 0; i < d->ndims; i++)
		names[n] = d->dims[i].name, cols[n++] = d->dims[i].column;
	for (int i = 0; i < d->nmeasures; i++)
		names[n] = d->measures[i].name, cols[n++] = d->measures[i].column;
	cols[n] = d->time_column;
	for (int i = 0; i < n; i++)
		for (int k = i + 1; k <= n; k++) {
			if (k < n && !strcmp(names[i], names[k])) {
				snprintf(why, whylen, "the name '%s' is used twice (dimension and measure names must be unique)",
				         names[i]);
				return false;
			}
			if (!strcasecmp(cols[i], cols[k])) {
				snprintf(why, whylen, "column '%s' is used twice (time, dimensions and measures read one column each)",
				         cols[i]);
				return false;
			}
		}
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], d->time_column)) {
			snprintf(why, whylen, "'%s' names both the time column and a dimension or measure", names[i]);
			return false;
		}
	return true;
}

bool dsdef_from_json(const json_t *j, dsdef_t *d, char *why, size_t whylen)
{
	static const char *const allowed[] = {"name", "title", "time", "dimensions", "measures", "key", "required", NULL};
	memset(d, 0, sizeof *d);
	if (!json_is_object(j)) {
		snprintf(why, whylen, "a data set definition is a JSON object");
		return false;
	}
	if (!known_members(j, "definition", allowed, why, whylen) ||
	    !name(json_object_get(j, "name"), "name", d->name, why, whylen))
		return false;
	const json_t *t = json_object_get(j, "title");
	if (t && !json_is_null(t)) {
		if (!json_is_string(t) || json_string_length(t) > DSDEF_TITLE_MAX ||
		    !utf8_valid(json_string_value(t), json_string_length(t), NULL) ||
		    memchr(json_string_value(t), 0, json_string_length(t))) {
			snprintf(why, whylen, "title must be text of at most %d bytes", DSDEF_TITLE_MAX);
			return false;
		}
		memcpy(d->title, json_string_value(t), json_string_length(t) + 1);
	}
	if (!json_object_get(j, "time")) {
		snprintf(why, whylen, "time is missing: {\"column\":\"Order Date\",\"grain\":\"day\"}");
		return false;
	}
	return parse_time(json_object_get(j, "time"), d, why, whylen) &&
	       parse_dims(json_object_get(j, "dimensions"), d, why, whylen) &&
	       parse_measures(json_object_get(j, "measures"), d, why, whylen) &&
	       parse_columns(json_object_get(j, "key"), "key", DSDEF_MAX_KEY, d->key, &d->nkey, why, whylen) &&
	       parse_columns(json_object_get(j, "required"), "required", DSDEF_MAX_REQUIRED, d->required, &d->nrequired,
	                     why, whylen) &&
	       check_unique(d, why, whylen);
}

bool dsdef_parse(const char *text, size_t len, dsdef_t *d, char *why, size_t whylen)
{
	json_error_t e;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		snprintf(why, whylen, "the definition is not valid JSON: %s (line %d, column %d)", e.text, e.line, e.column);
		return false;
	}
	bool ok = dsdef_from_json(j, d, why, whylen);
	json_decref(j);
	return ok;
}

static void str_member(buf_t *out, const char *k, const char *v)
{
	buf_printf(out, "\"%s\":", k);
	buf_json_str(out, v, strlen(v));
}

void dsdef_json(const dsdef_t *d, buf_t *out)
{
	buf_putc(out, '{');
	str_member(out, "name", d->name);
	buf_putc(out, ',');
	str_member(out, "title", d->title);
	buf_puts(out, ",\"time\":{");
	str_member(out, "column", d->time_column);
	buf_printf(out, ",\"grain\":\"%s\"", interval_name(d->grain));
	if (d->time_format[0]) {
		buf_putc(out, ',');
		str_member(out, "format", d->time_format);
	}
	buf_puts(out, "},\"dimensions\":[");
	for (int i = 0; i < d->ndims; i++) {
		buf_puts(out, i ? ",{" : "{");
		str_member(out, "name", d->dims[i].name);
		buf_putc(out, ',');
		str_member(out, "column", d->dims[i].column);
		buf_putc(out, '}');
	}
	buf_puts(out, "],\"measures\":[");
	for (int i = 0; i < d->nmeasures; i++) {
		const dsdef_measure *m = &d->measures[i];
		buf_puts(out, i ? ",{" : "{");
		str_member(out, "name", m->name);
		buf_putc(out, ',');
		str_member(out, "column", m->column);
		buf_printf(out, ",\"type\":\"%s\"", dsdef_mtype_name(m->type));
		if (m->type == DSM_DECIMAL)
			buf_printf(out, ",\"scale\":%d", m->scale);
		buf_putc(out, '}');
	}
	buf_puts(out, "],\"key\":[");
	for (int i = 0; i < d->nkey; i++) {
		if (i)
			buf_putc(out, ',');
		buf_json_str(out, d->key[i], strlen(d->key[i]));
	}
	buf_puts(out, "],\"required\":[");
	for (int i = 0; i < d->nrequired; i++) {
		if (i)
			buf_putc(out, ',');
		buf_json_str(out, d->required[i], strlen(d->required[i]));
	}
	buf_puts(out, "]}");
}
