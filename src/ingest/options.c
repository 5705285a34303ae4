#include "ingest/options.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "core/date.h"
#include "core/mem.h"
#include "ingest/recode.h"

const char *const import_option_names[] = {
	"map",      "set",    "default", "delimiter", "encoding", "skip",  "no_header",   "date_format",
	"decimal_comma", "thousands", "currency", "plus", "parens", "trailing_minus", "round", "debit", "credit", "negate",
	"sign_column", "negative_values", "allow_duplicate_ids", "dry_run", "values", "compute", "where", "rules",
	"max_rejects", "split", "split_category", "keep_transfers", "allow_overlap", "detect", "profile", NULL};

bool import_parse_encoding(const char *n, import_encoding *out)
{
	static const struct {
		const char *name;
		import_encoding e;
	} names[] = {{"utf-8", ENC_UTF8}, {"utf8", ENC_UTF8}, {"windows-1252", ENC_CP1252},
	             {"cp1252", ENC_CP1252}, {"iso-8859-1", ENC_LATIN1}, {"latin1", ENC_LATIN1},
	             {"iso-8859-2", ENC_LATIN2}, {"latin2", ENC_LATIN2}, {"windows-1250", ENC_CP1250},
	             {"cp1250", ENC_CP1250}};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcasecmp(n, names[i].name)) {
			*out = names[i].e;
			return true;
		}
	return false;
}

/* Splits "a=b,c=\"d, e\"" and stores each value in slots[index of a].
 * Values may be double-quoted (to hold commas; "" is a quote). The strings
 * live in one copy owned by the options (freed by import_opts_free). */
static bool parse_pairs(import_opts *o, const char **slots, const char *spec, char *why, size_t whylen)
{
	const entity_def *d = entity_get(o->kind);
	if (o->nowned == (int)(sizeof o->owned / sizeof o->owned[0])) {
		snprintf(why, whylen, "too many option lists");
		return false;
	}
	char *copy = xmalloc(strlen(spec) + 1);
	o->owned[o->nowned++] = copy;
	const char *p = spec;
	char *w = copy;
	while (*p) {
		const char *eq = strchr(p, '=');
		const char *comma = strchr(p, ',');
		if (!eq || (comma && comma < eq)) {
			size_t l = comma ? (size_t)(comma - p) : strlen(p);
			snprintf(why, whylen, "'%.*s' is not field=value", (int)(l > 60 ? 60 : l), p);
			return false;
		}
		char *name = w;
		memcpy(w, p, (size_t)(eq - p));
		w += eq - p;
		*w++ = '\0';
		p = eq + 1;
		char *val = w;
		if (*p == '"') {
			for (p++;; p++) {
				if (!*p) {
					snprintf(why, whylen, "unclosed quote in the value of '%s'", name);
					return false;
				}
				if (*p == '"' && p[1] == '"') {
					*w++ = '"';
					p++;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*w++ = *p;
				}
			}
			if (*p && *p != ',') {
				snprintf(why, whylen, "unexpected text after the quoted value of '%s'", name);
				return false;
			}
		} else {
			while (*p && *p != ',')
				*w++ = *p++;
		}
		*w++ = '\0';
		if (*p == ',')
			p++;
		int ci = entity_col_index(d, name, strlen(name));
		if (ci < 0) {
			snprintf(why, whylen, "'%s' is not a field of %s", name, d->name);
			return false;
		}
		if (slots[ci]) {
			snprintf(why, whylen, "'%s' is given twice", d->cols[ci].name);
			return false;
		}
		slots[ci] = val;
	}
	return true;
}

bool import_parse_map(import_opts *o, const char *spec, char *why, size_t whylen)
{
	return parse_pairs(o, o->map, spec, why, whylen);
}

bool import_parse_consts(import_opts *o, const char *spec, char *why, size_t whylen)
{
	return parse_pairs(o, o->consts, spec, why, whylen);
}

bool import_parse_defaults(import_opts *o, const char *spec, char *why, size_t whylen)
{
	return parse_pairs(o, o->defaults, spec, why, whylen);
}

void import_opts_free(import_opts *o)
{
	for (int i = 0; i < o->nowned; i++)
		free(o->owned[i]);
	o->nowned = 0;
	recode_free(o->recode);
	o->recode = NULL;
}

/* A yes/no option; anything else is refused, so that a typo never
 * silently means "no" (dry_run=ture would write). */
static bool flag(const char *(*get)(void *ud, const char *name), void *ud, const char *name, bool *out, char *why,
                 size_t whylen)
{
	const char *v = get(ud, name);
	*out = false;
	if (!v)
		return true;
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"))
		*out = true;
	else if (strcmp(v, "0") && strcmp(v, "false") && strcmp(v, "no")) {
		snprintf(why, whylen, "'%s' must be 1, true, yes, 0, false or no, not '%.20s'", name, v);
		return false;
	}
	return true;
}

/* "x" or "" (a space) for thousands; the names people type for the others. */
static bool thousands_char(const char *v, char *out)
{
	if (!v[0] || !strcmp(v, "space") || !strcmp(v, " ")) {
		*out = ' ';
		return true;
	}
	if (!strcmp(v, "'") || !strcmp(v, "apostrophe")) {
		*out = '\'';
		return true;
	}
	if (strlen(v) == 1 && strchr(",.", v[0])) {
		*out = v[0];
		return true;
	}
	return false;
}

/* "N" rows or "P%" (0 to 100, up to 2 decimals). */
static bool max_rejects(import_opts *o, const char *v, char *why, size_t whylen)
{
	if (!v)
		return true;
	size_t n = strlen(v);
	bool pct = n && v[n - 1] == '%';
	int64_t x = 0;
	int frac = -1;
	size_t i = 0;
	for (; i < n - pct; i++) {
		if (v[i] == '.' && pct && frac < 0 && i > 0) {
			frac = 0;
		} else if (v[i] >= '0' && v[i] <= '9' && x < INT64_C(1000000000000) && frac < 2) {
			x = x * 10 + (v[i] - '0');
			frac += frac >= 0;
		} else {
			break;
		}
	}
	if (i != n - pct || i == 0 || frac == 0) {
		snprintf(why, whylen, "max_rejects must be a number of rows (100) or a share of them (5%%, 0.5%%), not '%.20s'", v);
		return false;
	}
	if (pct) {
		for (int k = frac < 0 ? 0 : frac; k < 2; k++)
			x *= 10;
		if (x > 10000) {
			snprintf(why, whylen, "max_rejects: a share is at most 100%%");
			return false;
		}
	}
	o->max_rejects_kind = pct ? MAXREJ_PERCENT : MAXREJ_COUNT;
	o->max_rejects = x;
	return true;
}

bool import_options_parse(import_opts *o, const char *(*get)(void *ud, const char *name), void *ud, char *why,
                          size_t whylen)
{
	const char *v;
	if ((v = get(ud, "delimiter"))) {
		if (!strcmp(v, "tab") || !strcmp(v, "\t") || !strcmp(v, "\\t"))
			o->delimiter = '\t';
		else if (strlen(v) == 1 && strchr(",;|", v[0]))
			o->delimiter = v[0];
		else {
			snprintf(why, whylen, "delimiter must be , ; tab or |");
			return false;
		}
	}
	if ((v = get(ud, "encoding")) && !import_parse_encoding(v, &o->encoding)) {
		snprintf(why, whylen,
		         "unknown encoding '%.40s' (utf-8, windows-1252, iso-8859-1, iso-8859-2, windows-1250)", v);
		return false;
	}
	if ((v = get(ud, "skip"))) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || end == v || n < 0 || n > 1000) {
			snprintf(why, whylen, "skip must be a number of lines from 0 to 1000");
			return false;
		}
		o->skip_lines = (int)n;
	}
	bool comma;
	if (!flag(get, ud, "no_header", &o->no_header, why, whylen) || !flag(get, ud, "decimal_comma", &comma, why, whylen) ||
	    !flag(get, ud, "currency", &o->parse.money.symbols, why, whylen) ||
	    !flag(get, ud, "plus", &o->parse.money.plus, why, whylen) ||
	    !flag(get, ud, "parens", &o->parse.money.parens, why, whylen) ||
	    !flag(get, ud, "trailing_minus", &o->parse.money.trailing_minus, why, whylen) ||
	    !flag(get, ud, "round", &o->parse.money.round, why, whylen) ||
	    !flag(get, ud, "negate", &o->negate, why, whylen) ||
	    !flag(get, ud, "allow_duplicate_ids", &o->allow_duplicate_ids, why, whylen) ||
	    !flag(get, ud, "dry_run", &o->dry_run, why, whylen))
		return false;
	if (!flag(get, ud, "split", &o->split, why, whylen) ||
	    !flag(get, ud, "keep_transfers", &o->keep_transfers, why, whylen) ||
	    !flag(get, ud, "allow_overlap", &o->allow_overlap, why, whylen) || !max_rejects(o, get(ud, "max_rejects"), why, whylen))
		return false;
	o->split_category = get(ud, "split_category");
	o->parse.date_format = get(ud, "date_format");
	o->parse.money.decimal = comma ? ',' : '.';
	if ((v = get(ud, "thousands")) && !thousands_char(v, &o->parse.money.thousands)) {
		snprintf(why, whylen, "thousands must be , . ' or a space, not '%.20s'", v);
		return false;
	}
	o->parse.money_lenient = o->parse.money.decimal == ',' || o->parse.money.thousands || o->parse.money.symbols ||
	                         o->parse.money.plus || o->parse.money.parens || o->parse.money.round ||
	                         o->parse.money.trailing_minus;
	o->debit = get(ud, "debit");
	o->credit = get(ud, "credit");
	o->sign_column = get(ud, "sign_column");
	o->negative_values = get(ud, "negative_values");
	static const struct {
		const char *name;
		bool (*parse)(import_opts *, const char *, char *, size_t);
	} lists[] = {{"map", import_parse_map}, {"set", import_parse_consts}, {"default", import_parse_defaults}};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		char w[256];
		if ((v = get(ud, lists[i].name)) && !lists[i].parse(o, v, w, sizeof w)) {
			snprintf(why, whylen, "%s: %s", lists[i].name, w);
			return false;
		}
	}
	o->values = get(ud, "values");
	o->compute = get(ud, "compute");
	o->where = get(ud, "where");
	o->rules = get(ud, "rules");
	recode_free(o->recode);
	if (!recode_parse(o->kind, o->values, o->compute, o->where, o->rules, &o->recode, why, whylen))
		return false;
	return import_options_check(o, why, whylen);
}

static bool same_name(const char *a, const char *b)
{
	slice_t x = slice_trim(slice_cstr(a)), y = slice_trim(slice_cstr(b));
	return x.len == y.len && strncasecmp(x.p, y.p, x.len) == 0;
}

/* Without a header, a column is a 1-based position. */
static bool position_ok(const import_opts *o, const char *name, const char *what, char *why, size_t whylen)
{
	if (!o->no_header || !name)
		return true;
	char *end;
	long pos = strtol(name, &end, 10);
	if (*end || end == name || pos < 1 || pos > 256) {
		snprintf(why, whylen, "%s '%.40s': without a header, give a column position (1, 2, ...)", what, name);
		return false;
	}
	return true;
}

bool import_options_check(const import_opts *o, char *why, size_t whylen)
{
	const entity_def *d = entity_get(o->kind);
	for (int i = 0; i < d->ncols; i++) {
		const char *f = d->cols[i].name;
		if (o->consts[i] && o->map[i]) {
			snprintf(why, whylen, "set %s=... and map %s=... both give '%s': keep one", f, f, f);
			return false;
		}
		if (o->consts[i] && o->defaults[i]) {
			snprintf(why, whylen, "set %s=... and default %s=... both give '%s': keep one (default fills only empty values)",
			         f, f, f);
			return false;
		}
		if (recode_computes(o->recode, i) && (o->consts[i] || o->map[i])) {
			snprintf(why, whylen, "compute %s=... and %s %s=... both give '%s': keep one", f, o->map[i] ? "map" : "set", f,
			         f);
			return false;
		}
	}
	if ((o->debit != NULL) != (o->credit != NULL)) {
		snprintf(why, whylen, "debit and credit columns go together");
		return false;
	}
	int amount = -1; /* the entity's amount: the first money column */
	for (int i = d->ncols - 1; i >= 0; i--)
		if (d->cols[i].type == COL_MONEY)
			amount = i;
	if (o->debit) {
		if (same_name(o->debit, o->credit)) {
			snprintf(why, whylen, "debit and credit are the same column '%.40s'", o->debit);
			return false;
		}
		if (amount >= 0 && (o->map[amount] || o->consts[amount] || recode_computes(o->recode, amount))) {
			snprintf(why, whylen, "debit/credit compute '%s': do not also map, set or compute it", d->cols[amount].name);
			return false;
		}
	}
	if ((o->sign_column != NULL) != (o->negative_values != NULL)) {
		snprintf(why, whylen, "sign_column and negative_values go together (e.g. sign column 'Type' with values DR,O)");
		return false;
	}
	if (o->sign_column && o->debit) {
		snprintf(why, whylen, "a sign column and debit/credit columns both decide the sign: keep one");
		return false;
	}
	if (o->negative_values && !slice_trim(slice_cstr(o->negative_values)).len) {
		snprintf(why, whylen, "negative_values is empty");
		return false;
	}
	if (o->parse.money.thousands && o->parse.money.thousands == (o->parse.money.decimal ? o->parse.money.decimal : '.')) {
		snprintf(why, whylen, "thousands separator '%c' is also the decimal mark: with decimal_comma use thousands . "
		         "(or a space); without it, thousands ,", o->parse.money.thousands);
		return false;
	}
	if (o->split && o->kind != ENT_PAYMENTS) {
		snprintf(why, whylen, "split reads a bank statement as payments (credits) and costs (debits): import it "
		                      "as payments");
		return false;
	}
	if ((o->split_category || o->keep_transfers) && !o->split) {
		snprintf(why, whylen, "%s is an option of split: give split too",
		         o->split_category ? "split_category" : "keep_transfers");
		return false;
	}
	if (o->parse.date_format && !date_fmt_check(o->parse.date_format, why, whylen))
		return false;
	if (!position_ok(o, o->debit, "debit", why, whylen) || !position_ok(o, o->credit, "credit", why, whylen) ||
	    !position_ok(o, o->sign_column, "sign_column", why, whylen))
		return false;
	for (int i = 0; i < d->ncols; i++)
		if (!position_ok(o, o->map[i], "map", why, whylen))
			return false;
	return true;
}

static void hash_str(XXH3_state_t *st, const char *s)
{
	XXH3_64bits_update(st, s ? s : "\x01", s ? strlen(s) + 1 : 1);
}

uint64_t import_options_hash(const import_opts *o)
{
	XXH3_state_t *st = XXH3_createState();
	XXH3_64bits_reset(st);
	const entity_def *d = entity_get(o->kind);
	for (int i = 0; i < d->ncols; i++) {
		hash_str(st, o->map[i]);
		hash_str(st, o->consts[i]);
		hash_str(st, o->defaults[i]);
	}
	const char *strs[] = {o->debit, o->credit, o->sign_column, o->negative_values, o->parse.date_format};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		hash_str(st, strs[i]);
	/* Only when given: imports without recoding keep their earlier hash. */
	const char *recoding[] = {o->values, o->compute, o->where, o->rules};
	for (size_t i = 0; i < sizeof recoding / sizeof recoding[0]; i++)
		if (recoding[i]) {
			XXH3_64bits_update(st, &i, sizeof i);
			hash_str(st, recoding[i]);
		}
	if (o->split) { /* only then: earlier imports keep their hash */
		hash_str(st, "split");
		hash_str(st, o->split_category);
		if (o->keep_transfers)
			hash_str(st, "keep_transfers");
	}
	const money_opts *m = &o->parse.money;
	char flags[] = {o->delimiter, (char)o->encoding, (char)o->skip_lines, o->no_header, o->negate,
	                o->parse.money_lenient, m->decimal, m->thousands, m->symbols, m->plus, m->parens, m->round};
	XXH3_64bits_update(st, flags, sizeof flags);
	if (m->trailing_minus) /* only then: earlier imports keep their hash */
		hash_str(st, "trailing_minus");
	uint64_t h = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return h;
}
