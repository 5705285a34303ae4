#include "ingest/profile.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/utf8.h"
#include "ingest/options.h"
#include "core/date.h"

bool profile_name_ok(const char *name, char *why, size_t whylen)
{
	size_t n = strlen(name);
	bool ok = n >= 1 && n <= 64;
	for (size_t i = 0; ok && i < n; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		     (name[i] >= '0' && name[i] <= '9') || strchr("._-", name[i]);
	if (!ok)
		snprintf(why, whylen, "profile name '%.70s': use 1 to 64 letters, digits, '.', '_' or '-'", name);
	return ok;
}

static const char *list_get(void *ud, const char *name)
{
	return optlist_get(ud, name);
}

static bool check_kind(const optlist *opts, entity_kind k, char *why, size_t whylen)
{
	import_opts o = {.kind = k};
	bool ok = import_options_parse(&o, list_get, (void *)opts, why, whylen);
	import_opts_free(&o);
	return ok;
}

/* A value the profile's text form keeps exactly and its JSON form can
 * carry: UTF-8, no control characters but tab and line breaks, and not
 * ending in a carriage return (the text form reads it as part of CRLF). */
static bool value_ok(const char *name, const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v), bad;
	if (!utf8_valid(v, n, &bad)) {
		snprintf(why, whylen, "option '%s': the value is not valid UTF-8 (byte %zu)", name, bad + 1);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
			snprintf(why, whylen, "option '%s': the value holds a control character (0x%02x at byte %zu)", name, c,
			         i + 1);
			return false;
		}
	}
	if (n && v[n - 1] == '\r') {
		snprintf(why, whylen, "option '%s': the value ends with a carriage return", name);
		return false;
	}
	/* a flag's command line form is the bare option: any other value
	 * would read back as the next option */
	static const char *const yes_no[] = {"1", "true", "yes", "0", "false", "no", NULL};
	bool flag_ok = !optlist_is_flag(name);
	for (int i = 0; !flag_ok && yes_no[i]; i++)
		flag_ok = !strcmp(v, yes_no[i]);
	if (!flag_ok) {
		snprintf(why, whylen, "option '%s' is a flag: 1, true, yes, 0, false or no, not '%.20s'", name, v);
		return false;
	}
	return true;
}

bool profile_check(const optlist *opts, const char *kind, char *why, size_t whylen)
{
	for (int i = 0; i < opts->n; i++)
		if (!value_ok(opts->name[i], opts->value[i], why, whylen))
			return false;
	for (int i = 0; i < opts->n; i++) {
		bool known = false;
		for (int j = 0; import_option_names[j]; j++)
			known |= !strcmp(import_option_names[j], opts->name[i]);
		if (!known || !strcmp(opts->name[i], "profile")) {
			snprintf(why, whylen, "'%s' is not an import option a profile can hold", opts->name[i]);
			return false;
		}
	}
	entity_kind k;
	if (kind && kind[0]) {
		if (!entity_by_name(kind, strlen(kind), &k)) {
			snprintf(why, whylen, "unknown kind '%.40s' (costs, sales_orders, invoices, payments, leads)", kind);
			return false;
		}
		return check_kind(opts, k, why, whylen);
	}
	char first[256] = "";
	for (int i = 0; i < ENT__COUNT; i++) {
		if (check_kind(opts, (entity_kind)i, why, whylen))
			return true;
		if (!first[0])
			snprintf(first, sizeof first, "%s", why);
	}
	snprintf(why, whylen, "%s", first);
	return false;
}

int profile_load(store_t *s, int64_t org, const char *name, optlist *opts, char *kind, char *why, size_t whylen)
{
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, "SELECT kind, options FROM import_profiles WHERE org = ? AND name = ?");
	int rc = 0;
	if (!st) {
		snprintf(why, whylen, "store error reading profiles: %s", store_errmsg(c));
		store_read_end(c);
		return -1;
	}
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, name, strlen(name));
	store_status ss = store_step(st);
	if (ss == STORE_ROW) {
		size_t kl, tl;
		const char *k = store_col_text(st, 0, &kl);
		const char *t = store_col_text(st, 1, &tl);
		if (kind)
			snprintf(kind, 16, "%.*s", (int)kl, k);
		rc = optlist_parse(opts, t, tl, why, whylen) ? 1 : -1;
	} else if (ss != STORE_DONE) {
		snprintf(why, whylen, "store error reading profiles: %s", store_errmsg(c));
		rc = -1;
	}
	store_reset(st);
	store_read_end(c);
	return rc;
}

int profile_save(store_t *s, int64_t org, const char *name, const char *kind, const optlist *opts, char *why,
                 size_t whylen)
{
	buf_t text = BUF_INIT;
	optlist_text(opts, &text);
	char now[DATE_UTC_ISO_BUFSZ];
	date_utc_iso(time(NULL), now);
	int rc = -1;
	store_conn_t *w = store_write_begin(s, why, whylen);
	if (!w)
		goto out;
	store_stmt_t *st = store_prepare(w, "INSERT INTO import_profiles(org, name, kind, options, updated_at) "
	                                    "VALUES(?,?,?,?,?) ON CONFLICT(org, name) DO UPDATE SET "
	                                    "kind = excluded.kind, options = excluded.options, "
	                                    "updated_at = excluded.updated_at");
	if (st) {
		store_bind_i64(st, 1, org);
		store_bind_text(st, 2, name, strlen(name));
		store_bind_text(st, 3, kind ? kind : "", kind ? strlen(kind) : 0);
		store_bind_text(st, 4, text.p ? text.p : "", text.len);
		store_bind_text(st, 5, now, strlen(now));
	}
	if (!st || store_step(st) != STORE_DONE) {
		snprintf(why, whylen, "store error saving the profile: %s", store_errmsg(w));
		if (st)
			store_reset(st);
		store_write_rollback(w);
		goto out;
	}
	store_reset(st);
	rc = store_write_commit(w, why, whylen);
out:
	buf_free(&text);
	return rc;
}

int profile_delete(store_t *s, int64_t org, const char *name, char *why, size_t whylen)
{
	store_conn_t *w = store_write_begin(s, why, whylen);
	if (!w)
		return -1;
	store_stmt_t *st = store_prepare(w, "DELETE FROM import_profiles WHERE org = ? AND name = ?");
	if (!st) {
		snprintf(why, whylen, "store error: %s", store_errmsg(w));
		store_write_rollback(w);
		return -1;
	}
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, name, strlen(name));
	store_status ss = store_step(st);
	int64_t n = store_changes(w);
	store_reset(st);
	if (ss != STORE_DONE) {
		snprintf(why, whylen, "store error: %s", store_errmsg(w));
		store_write_rollback(w);
		return -1;
	}
	if (store_write_commit(w, why, whylen) != 0)
		return -1;
	return n > 0;
}

void profile_options_json(const optlist *opts, buf_t *out)
{
	buf_putc(out, '{');
	for (int i = 0; i < opts->n; i++) {
		if (i)
			buf_putc(out, ',');
		buf_json_str(out, opts->name[i], strlen(opts->name[i]));
		buf_putc(out, ':');
		buf_json_str(out, opts->value[i], strlen(opts->value[i]));
	}
	buf_putc(out, '}');
}

int profile_list_json(store_t *s, int64_t org, buf_t *out)
{
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, "SELECT name, kind, options, updated_at FROM import_profiles "
	                                    "WHERE org = ? ORDER BY name");
	if (!st) {
		store_read_end(c);
		return -1;
	}
	store_bind_i64(st, 1, org);
	buf_putc(out, '[');
	int n = 0, rc = 0;
	store_status ss;
	while ((ss = store_step(st)) == STORE_ROW) {
		size_t l[4];
		const char *v[4];
		for (int i = 0; i < 4; i++)
			v[i] = store_col_text(st, i, &l[i]);
		buf_puts(out, n++ ? ",{\"name\":" : "{\"name\":");
		buf_json_str(out, v[0], l[0]);
		buf_puts(out, ",\"kind\":");
		buf_json_str(out, v[1], l[1]);
		optlist o = {0};
		char why[128];
		optlist_parse(&o, v[2], l[2], why, sizeof why);
		buf_puts(out, ",\"options\":");
		profile_options_json(&o, out);
		optlist_free(&o);
		buf_puts(out, ",\"updated_at\":");
		buf_json_str(out, v[3], l[3]);
		buf_putc(out, '}');
	}
	if (ss != STORE_DONE)
		rc = -1;
	buf_putc(out, ']');
	store_reset(st);
	store_read_end(c);
	return rc;
}
