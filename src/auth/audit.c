#include "auth/audit.h"
#include "core/date.h"

#include <string.h>
#include <time.h>

int audit_add(store_conn_t *w, int64_t org, const char *actor, const char *action, const char *target,
              const char *detail)
{
	static const char *ins = "INSERT INTO audit(org, at, actor, action, target, detail) VALUES(?, ?, ?, ?, ?, ?)";
	store_stmt_t *st = store_prepare(w, ins);
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	store_bind_i64(st, 2, (int64_t)time(NULL));
	store_bind_text(st, 3, actor, strlen(actor));
	store_bind_text(st, 4, action, strlen(action));
	store_bind_text(st, 5, target ? target : "", target ? strlen(target) : 0);
	store_bind_text(st, 6, detail ? detail : "", detail ? strlen(detail) : 0);
	store_status rc = store_step(st);
	store_reset(st);
	return rc == STORE_DONE ? 0 : -1;
}

int audit_record(store_t *s, int64_t org, const char *actor, const char *action, const char *target,
                 const char *detail, char *err, size_t errlen)
{
	store_conn_t *w = store_write_begin(s, err, errlen);
	if (!w)
		return -1;
	if (audit_add(w, org, actor, action, target, detail) != 0) {
		snprintf(err, errlen, "cannot write the audit log: %s", store_errmsg(w));
		store_write_rollback(w);
		return -1;
	}
	return store_write_commit(w, err, errlen);
}

bool audit_json(store_conn_t *c, int64_t org, int64_t before, int limit, buf_t *out, int64_t *next)
{
	static const char *q = "SELECT id, at, actor, action, target, detail FROM audit "
	                       "WHERE org = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?";
	store_stmt_t *st = store_prepare(c, q);
	store_bind_i64(st, 1, org);
	store_bind_i64(st, 2, before);
	store_bind_i64(st, 3, before);
	store_bind_i64(st, 4, limit + 1);
	buf_putc(out, '[');
	int n = 0;
	int64_t last = 0;
	store_status rc;
	*next = 0;
	while ((rc = store_step(st)) == STORE_ROW) {
		if (n == limit) {
			*next = last;
			break;
		}
		size_t len;
		const char *v;
		char at[32];
		last = store_col_i64(st, 0);
		date_utc_iso(store_col_i64(st, 1), at);
		buf_printf(out, "%s{\"id\":%lld,\"at\":\"%s\",\"user\":", n ? "," : "", (long long)last, at);
		v = store_col_text(st, 2, &len);
		buf_json_str(out, v, len);
		buf_puts(out, ",\"action\":");
		v = store_col_text(st, 3, &len);
		buf_json_str(out, v, len);
		buf_puts(out, ",\"target\":");
		v = store_col_text(st, 4, &len);
		buf_json_str(out, v, len);
		buf_puts(out, ",\"detail\":");
		v = store_col_text(st, 5, &len);
		buf_json_str(out, v, len);
		buf_putc(out, '}');
		n++;
	}
	store_reset(st);
	buf_putc(out, ']');
	return rc == STORE_ROW || rc == STORE_DONE;
}

int audit_print(store_t *s, const char *org_slug, int limit, FILE *f, char *err, size_t errlen)
{
	static const char *q = "SELECT a.at, a.actor, a.action, a.target, a.detail FROM audit a JOIN orgs o ON o.id = a.org "
	                       "WHERE o.slug = ? ORDER BY a.id DESC LIMIT ?";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	store_bind_text(st, 1, org_slug, strlen(org_slug));
	store_bind_i64(st, 2, limit);
	fprintf(f, "%-20s  %-20s  %-14s  %-40s  %s\n", "when (UTC)", "user", "action", "target", "detail");
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		char at[32];
		date_utc_iso(store_col_i64(st, 0), at);
		fprintf(f, "%-20s  %-20s  %-14s  %-40s  %s\n", at, store_col_text(st, 1, NULL), store_col_text(st, 2, NULL),
		        store_col_text(st, 3, NULL), store_col_text(st, 4, NULL));
	}
	if (rc != STORE_DONE)
		snprintf(err, errlen, "cannot read the audit log: %s", store_errmsg(c));
	store_reset(st);
	store_read_end(c);
	return rc == STORE_DONE ? 0 : -1;
}
