#include "store/copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "store/searchidx.h"

/* DESIGN
 * The source is read in one snapshot (a read transaction held for the whole
 * copy), so a server may keep running on it. Tables and columns come from
 * the catalogs (sqlite_master / pragma_table_info on the source,
 * information_schema on the target), so the copy follows the schema both
 * migrated to. Statement texts are built once per table and kept until the
 * end: connections cache statements by the text's address. Rows go in
 * through the store's bulk path (COPY on PostgreSQL) with ON CONFLICT DO
 * NOTHING on the primary key; the counts are checked inside the
 * transaction before it commits, so a row that met another organisation's
 * row id fails the copy of its organisation instead of being lost. */

#define BATCH_ROWS 5000

enum { K_INT, K_REAL, K_TEXT, K_BLOB }; /* a column's kind, from the source's declared type */

typedef struct {
	char *name;
	char **cols;
	int *kinds; /* K_* */
	int ncols;
	int org_col;     /* index of the org column, -1 = none */
	bool is_orgs;    /* the orgs table itself (filtered by id) */
	bool has_blob;   /* the bulk path carries no blobs: statements */
	bool derived;    /* counted, not copied (open_recv) */
	char *money;     /* "coalesce(sum(amount), 0) + ..." or NULL */
	char *pk;        /* the target's primary key columns, or NULL */
	char *ins, *del, *sel, *cnt, *ident; /* statement texts (kept: cache keys) */
} table;

typedef struct {
	table *t;
	int n;
} schema;

/* Tables the target derives or keeps per process (see copy.h). */
static bool excluded(const char *name)
{
	static const char *const skip[] = {"data_versions", "search_pending", "search_mark", "tasks",
	                                    "brisk_schema", "brisk_commits"};
	if (!strncmp(name, "sqlite_", 7) || strstr(name, "_fts"))
		return true;
	for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
		if (!strcmp(name, skip[i]))
			return true;
	return false;
}

/* Identifiers from the catalogs go into SQL text: only plain ones. */
static bool plain_ident(const char *s)
{
	if (!*s || strlen(s) > 60)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static int kind_of(const char *decl)
{
	char up[64];
	size_t i = 0;
	for (; decl[i] && i < sizeof up - 1; i++)
		up[i] = (char)(decl[i] >= 'a' && decl[i] <= 'z' ? decl[i] - 32 : decl[i]);
	up[i] = 0;
	if (strstr(up, "INT"))
		return K_INT;
	if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
		return K_REAL;
	if (strstr(up, "BLOB") || !up[0])
		return K_BLOB;
	return K_TEXT;
}

static bool dst_has_column(store_conn_t *d, const char *tbl, const char *col)
{
	static const char *q = "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
	                       "AND table_name = ? AND column_name = ?";
	store_stmt_t *st = store_prepare(d, q);
	store_bind_text(st, 1, tbl, strlen(tbl));
	store_bind_text(st, 2, col, strlen(col));
	bool yes = store_step(st) == STORE_ROW;
	store_reset(st);
	return yes;
}

static void table_free(table *t)
{
	for (int i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	free(t->cols);
	free(t->kinds);
	free(t->name);
	free(t->money);
	free(t->pk);
	free(t->ins);
	free(t->del);
	free(t->sel);
	free(t->cnt);
	free(t->ident);
}

static void schema_free(schema *s)
{
	for (int i = 0; i < s->n; i++)
		table_free(&s->t[i]);
	free(s->t);
}

/* Builds the statement texts of a table whose columns are known. */
static void table_sql(table *t)
{
	buf_t cols = BUF_INIT, qs = BUF_INIT, b = BUF_INIT;
	for (int i = 0; i < t->ncols; i++) {
		buf_printf(&cols, "%s%s", i ? ", " : "", t->cols[i]);
		buf_printf(&qs, "%s?", i ? ", " : "");
	}
	const char *filter = t->is_orgs ? " WHERE id = ?" : t->org_col >= 0 ? " WHERE org = ?" : "";
	buf_printf(&b, "SELECT %s FROM %s%s ORDER BY %s", cols.p, t->name, filter, t->cols[0]);
	t->sel = xstrdup(b.p);
	buf_reset(&b);
	if (t->is_orgs) { /* updated in place: rows the copy does not know (tasks) refer to it */
		buf_printf(&b, "INSERT INTO orgs(%s) VALUES(%s) ON CONFLICT(id) DO UPDATE SET ", cols.p, qs.p);
		int k = 0;
		for (int i = 0; i < t->ncols; i++)
			if (strcmp(t->cols[i], "id"))
				buf_printf(&b, "%s%s = excluded.%s", k++ ? ", " : "", t->cols[i], t->cols[i]);
		if (!k)
			buf_puts(&b, "id = excluded.id");
	} else if (t->pk)
		buf_printf(&b, "INSERT INTO %s(%s) VALUES(%s) ON CONFLICT(%s) DO NOTHING", t->name, cols.p, qs.p, t->pk);
	else
		buf_printf(&b, "INSERT INTO %s(%s) VALUES(%s) ON CONFLICT DO NOTHING", t->name, cols.p, qs.p);
	t->ins = xstrdup(b.p);
	buf_reset(&b);
	buf_printf(&b, "DELETE FROM %s%s", t->name, filter);
	t->del = xstrdup(b.p);
	buf_reset(&b);
	if (t->derived) /* open_recv keeps emptied days as zeros: compare what it holds */
		buf_printf(&b, "SELECT coalesce(sum(cnt), 0), coalesce(sum(total), 0) FROM %s%s", t->name, filter);
	else
		buf_printf(&b, "SELECT count(*), %s FROM %s%s", t->money ? t->money : "0", t->name, filter);
	t->cnt = xstrdup(b.p);
	buf_free(&cols);
	buf_free(&qs);
	buf_free(&b);
}

/* The tables to copy, in the source's creation order (parents first). */
static int schema_load(store_conn_t *s, store_conn_t *d, schema *out, char *skipped, size_t skiplen, char *err,
                       size_t errlen)
{
	static const char *tables = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid";
	static const char *columns = "SELECT name, type FROM pragma_table_info(?) ORDER BY cid";
	static const char *pkq = "SELECT k.column_name FROM information_schema.table_constraints c "
	                         "JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name "
	                         "AND k.table_schema = c.table_schema AND k.table_name = c.table_name "
	                         "WHERE c.table_schema = current_schema() AND c.table_name = ? "
	                         "AND c.constraint_type = 'PRIMARY KEY' ORDER BY k.ordinal_position";
	static const char *identq = "SELECT column_name FROM information_schema.columns WHERE table_schema = "
	                            "current_schema() AND table_name = ? AND is_identity = 'YES'";
	static const char *const money[] = {"amount", "outstanding", "total", "value", "opening_balance"};
	memset(out, 0, sizeof *out);
	skipped[0] = 0;
	char **names = NULL;
	int nnames = 0;
	store_stmt_t *st = store_prepare(s, tables);
	if (!st) {
		snprintf(err, errlen, "the source is not an embedded (SQLite) store: %s", store_errmsg(s));
		return -1;
	}
	while (store_step(st) == STORE_ROW) {
		names = xrealloc(names, (size_t)(nnames + 1) * sizeof *names);
		names[nnames++] = xstrdup(store_col_text(st, 0, NULL));
	}
	store_reset(st);
	for (int i = 0; i < nnames; i++) {
		const char *n = names[i];
		if (excluded(n) || !plain_ident(n))
			continue;
		/* a table the target lacks, or one that is no organisation's */
		if (strcmp(n, "orgs") && !dst_has_column(d, n, "org")) {
			size_t used = strlen(skipped);
			snprintf(skipped + used, skiplen - used, "%s%s", used ? ", " : "", n);
			continue;
		}
		table t = {.name = xstrdup(n), .org_col = -1, .is_orgs = !strcmp(n, "orgs"), .derived = !strcmp(n, "open_recv")};
		buf_t m = BUF_INIT;
		st = store_prepare(s, columns);
		store_bind_text(st, 1, n, strlen(n));
		while (store_step(st) == STORE_ROW) {
			const char *c = store_col_text(st, 0, NULL);
			if (!plain_ident(c) || !dst_has_column(d, n, c))
				continue; /* the target has no such column: it keeps its default */
			t.cols = xrealloc(t.cols, (size_t)(t.ncols + 1) * sizeof *t.cols);
			t.kinds = xrealloc(t.kinds, (size_t)(t.ncols + 1) * sizeof *t.kinds);
			t.cols[t.ncols] = xstrdup(c);
			t.kinds[t.ncols] = kind_of(store_col_text(st, 1, NULL));
			if (t.kinds[t.ncols] == K_BLOB)
				t.has_blob = true;
			if (!strcmp(c, "org"))
				t.org_col = t.ncols;
			for (size_t k = 0; k < sizeof money / sizeof money[0]; k++)
				if (!strcmp(c, money[k]))
					buf_printf(&m, "%scoalesce(sum(%s), 0)", m.len ? " + " : "", c);
			t.ncols++;
		}
		store_reset(st);
		t.money = m.len ? xstrdup(m.p) : NULL;
		buf_free(&m);
		buf_t pk = BUF_INIT;
		st = store_prepare(d, pkq);
		store_bind_text(st, 1, n, strlen(n));
		while (store_step(st) == STORE_ROW)
			buf_printf(&pk, "%s%s", pk.len ? ", " : "", store_col_text(st, 0, NULL));
		store_reset(st);
		t.pk = pk.len ? xstrdup(pk.p) : NULL;
		buf_free(&pk);
		/* identity columns: their sequences move past the copied ids */
		buf_t id = BUF_INIT;
		st = store_prepare(d, identq);
		store_bind_text(st, 1, n, strlen(n));
		while (store_step(st) == STORE_ROW) {
			const char *c = store_col_text(st, 0, NULL);
			if (plain_ident(c))
				buf_printf(&id, "%sSELECT setval(pg_get_serial_sequence('%s', '%s'), "
				                "coalesce((SELECT max(%s) FROM %s), 0) + 1, false)",
				           id.len ? ";" : "", n, c, c, n);
		}
		store_reset(st);
		t.ident = id.len ? xstrdup(id.p) : NULL;
		buf_free(&id);
		if (!t.ncols || (t.org_col < 0 && !t.is_orgs)) {
			table_free(&t);
			continue;
		}
		table_sql(&t);
		out->t = xrealloc(out->t, (size_t)(out->n + 1) * sizeof *out->t);
		out->t[out->n++] = t;
	}
	for (int i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	if (!out->n || !out->t[0].is_orgs) {
		schema_free(out);
		snprintf(err, errlen, "the source store has no organisations table");
		return -1;
	}
	return 0;
}

/* Binds column i of the source row to parameter i + 1; the org column gets
 * the target's id. */
static void bind_row(store_stmt_t *src, store_stmt_t *dst, const table *t, int64_t dst_org)
{
	for (int i = 0; i < t->ncols; i++) {
		if (store_col_is_null(src, i)) {
			store_bind_null(dst, i + 1);
			continue;
		}
		if (i == t->org_col || (t->is_orgs && !strcmp(t->cols[i], "id"))) {
			store_bind_i64(dst, i + 1, dst_org);
			continue;
		}
		size_t len;
		const char *p;
		switch (t->kinds[i]) {
		case K_INT: store_bind_i64(dst, i + 1, store_col_i64(src, i)); break;
		case K_REAL: store_bind_double(dst, i + 1, store_col_double(src, i)); break;
		case K_BLOB:
			p = store_col_text(src, i, &len);
			store_bind_blob(dst, i + 1, p, len);
			break;
		default:
			p = store_col_text(src, i, &len);
			store_bind_text(dst, i + 1, p, len);
			break;
		}
	}
}

static bool count(store_conn_t *c, const table *t, int64_t org, int64_t *rows, int64_t *cents)
{
	store_stmt_t *st = store_prepare(c, t->cnt);
	store_bind_i64(st, 1, org);
	bool ok = store_step(st) == STORE_ROW;
	*rows = ok ? store_col_i64(st, 0) : -1;
	*cents = ok ? store_col_i64(st, 1) : 0;
	store_reset(st);
	return ok;
}

/* Copies the rows of t of source org src_id as dst_id. */
static int copy_rows(store_conn_t *r, store_conn_t *w, const table *t, int64_t src_id, int64_t dst_id, char *err,
                     size_t errlen)
{
	store_batch_t *b = t->has_blob || !t->pk ? NULL : store_batch_new(w, t->ins);
	store_stmt_t *sel = store_prepare(r, t->sel);
	store_bind_i64(sel, 1, src_id);
	store_status rc = STORE_DONE;
	int ret = 0;
	while (ret == 0 && (rc = store_step(sel)) == STORE_ROW) {
		if (b) {
			bind_row(sel, store_batch_stmt(b), t, dst_id);
			store_batch_row(b);
			if (store_batch_rows(b) >= BATCH_ROWS && store_batch_run(b, NULL, err, errlen) != 0)
				ret = -1;
			continue;
		}
		store_stmt_t *ins = store_prepare(w, t->ins);
		bind_row(sel, ins, t, dst_id);
		store_status s = store_step(ins);
		if (s != STORE_DONE) {
			snprintf(err, errlen, "%s: %s", t->name, store_errmsg(w));
			ret = -1;
		}
		store_reset(ins);
	}
	if (ret == 0 && rc != STORE_DONE) {
		snprintf(err, errlen, "reading %s from the source: %s", t->name, store_errmsg(r));
		ret = -1;
	}
	store_reset(sel);
	if (b) {
		if (ret == 0 && store_batch_run(b, NULL, err, errlen) != 0)
			ret = -1;
		store_batch_free(b);
	}
	return ret;
}

/* The target's id for the organisation: the one with its slug, else the
 * source's id if free, else the next free one. -1 on error. */
static int64_t map_org(store_conn_t *w, const char *slug, int64_t src_id, char *err, size_t errlen)
{
	static const char *by_slug = "SELECT id FROM orgs WHERE slug = ?";
	static const char *by_id = "SELECT 1 FROM orgs WHERE id = ?";
	static const char *next = "SELECT coalesce(max(id), 0) + 1 FROM orgs";
	store_stmt_t *st = store_prepare(w, by_slug);
	store_bind_text(st, 1, slug, strlen(slug));
	int64_t id = store_step(st) == STORE_ROW ? store_col_i64(st, 0) : -1;
	store_reset(st);
	if (id >= 0)
		return id;
	st = store_prepare(w, by_id);
	store_bind_i64(st, 1, src_id);
	bool taken = store_step(st) == STORE_ROW;
	store_reset(st);
	if (!taken)
		return src_id;
	st = store_prepare(w, next);
	id = store_step(st) == STORE_ROW ? store_col_i64(st, 0) : -1;
	store_reset(st);
	if (id < 0)
		snprintf(err, errlen, "cannot choose an id for '%s': %s", slug, store_errmsg(w));
	return id;
}

static int copy_org_rows(store_conn_t *r, store_t *dst, const schema *sc, copy_org *o,
                         void (*progress)(void *, const char *, const char *), void *ud, char *err, size_t errlen)
{
	store_conn_t *w = store_write_begin(dst, err, errlen);
	if (!w)
		return -1;
	int64_t id = map_org(w, o->slug, o->src_id, err, errlen);
	if (id < 0)
		goto fail;
	o->dst_id = id;
	/* rows come back under their old rids, which the search index may
	 * have passed: it starts over behind the copy */
	if (searchidx_restart(w) != 0) {
		snprintf(err, errlen, "clearing the search index: %s", store_errmsg(w));
		goto fail;
	}
	/* children first; open_recv follows its invoices by trigger */
	for (int i = sc->n - 1; i >= 0; i--) {
		const table *t = &sc->t[i];
		if (t->derived || t->is_orgs)
			continue;
		store_stmt_t *st = store_prepare(w, t->del);
		store_bind_i64(st, 1, id);
		store_status rc = store_step(st);
		store_reset(st);
		if (rc != STORE_DONE) {
			snprintf(err, errlen, "clearing %s: %s", t->name, store_errmsg(w));
			goto fail;
		}
	}
	for (int i = 0; i < sc->n; i++) {
		const table *t = &sc->t[i];
		if (t->derived)
			continue;
		if (progress)
			progress(ud, o->slug, t->name);
		if (copy_rows(r, w, t, o->src_id, id, err, errlen) != 0)
			goto fail;
		int64_t sr, sc_, dr, dc;
		if (!count(r, t, o->src_id, &sr, &sc_) || !count(w, t, id, &dr, &dc)) {
			snprintf(err, errlen, "counting %s: %s", t->name, store_errmsg(w));
			goto fail;
		}
		if (sr != dr) {
			snprintf(err, errlen,
			         "%s: %lld of %lld rows could not go in: their row ids belong to another organisation in "
			         "the target (migrate into an empty database, or one holding only this store's organisations)",
			         t->name, (long long)(sr - dr), (long long)sr);
			goto fail;
		}
	}
	for (int i = 0; i < sc->n; i++)
		if (sc->t[i].ident && store_exec(w, sc->t[i].ident) != 0) {
			snprintf(err, errlen, "moving the id sequence of %s: %s", sc->t[i].name, store_errmsg(w));
			goto fail;
		}
	/* every table's version moves on: no cache answers from before */
	store_write_touch(w, id, (1u << TBL__COUNT) - 1);
	return store_write_commit(w, err, errlen);
fail:
	store_write_rollback(w);
	return -1;
}

static bool verify(store_conn_t *r, store_t *dst, const schema *sc, copy_org *o)
{
	store_conn_t *d = store_read_begin(dst);
	o->counts = xcalloc((size_t)sc->n, sizeof *o->counts);
	o->equal = true;
	for (int i = 0; i < sc->n; i++) {
		const table *t = &sc->t[i];
		copy_count *c = &o->counts[o->ncounts++];
		snprintf(c->table, sizeof c->table, "%s", t->name);
		c->has_cents = t->money != NULL;
		c->derived = t->derived;
		bool ok = count(r, t, o->src_id, &c->src_rows, &c->src_cents) &&
		          count(d, t, o->dst_id, &c->dst_rows, &c->dst_cents);
		if (!ok || c->src_rows != c->dst_rows || c->src_cents != c->dst_cents)
			o->equal = false;
	}
	store_read_end(d);
	return o->equal;
}

int store_copy(store_t *src, store_t *dst, const char *slug, copy_result *res,
               void (*progress)(void *ud, const char *slug, const char *table), void *ud, char *err, size_t errlen)
{
	static const char *orgs_q = "SELECT id, slug FROM orgs ORDER BY id";
	memset(res, 0, sizeof *res);
	store_conn_t *r = store_read_begin(src);
	store_conn_t *d = store_read_begin(dst);
	schema sc;
	int rc = schema_load(r, d, &sc, res->skipped, sizeof res->skipped, err, errlen);
	store_read_end(d);
	if (rc != 0) {
		store_read_end(r);
		return -1;
	}
	store_stmt_t *st = store_prepare(r, orgs_q);
	while (store_step(st) == STORE_ROW) {
		const char *s = store_col_text(st, 1, NULL);
		if (slug && strcmp(s, slug))
			continue;
		res->orgs = xrealloc(res->orgs, (size_t)(res->norgs + 1) * sizeof *res->orgs);
		copy_org *o = &res->orgs[res->norgs++];
		memset(o, 0, sizeof *o);
		o->src_id = store_col_i64(st, 0);
		snprintf(o->slug, sizeof o->slug, "%s", s);
	}
	store_reset(st);
	if (!res->norgs) {
		snprintf(err, errlen, slug ? "the source has no organisation '%s'" : "the source has no organisations%s",
		         slug ? slug : "");
		rc = -1;
	}
	for (int i = 0; rc == 0 && i < res->norgs; i++) {
		char why[400];
		if (copy_org_rows(r, dst, &sc, &res->orgs[i], progress, ud, why, sizeof why) != 0) {
			snprintf(err, errlen, "organisation '%s': %s (nothing of it was written)", res->orgs[i].slug, why);
			rc = -1;
			break;
		}
		verify(r, dst, &sc, &res->orgs[i]);
	}
	store_read_end(r);
	schema_free(&sc);
	return rc;
}

void copy_result_free(copy_result *r)
{
	for (int i = 0; i < r->norgs; i++)
		free(r->orgs[i].counts);
	free(r->orgs);
	memset(r, 0, sizeof *r);
}
