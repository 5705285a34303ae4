#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "monitor/qstats.h"
#include "store/sqlite_bulk.h"
#include "store/sqlite_int.h"

/* ---- bulk inserts: the caller's INSERT, GROUP_ROWS rows per statement ----
 *
 * SQLite has no round trip to save, but each execution of a statement
 * pays its start and end (cursors opened and closed, the statement
 * journal, bindings, reset): about as much as inserting the row itself.
 * A batch keeps the values the caller binds for each row (lite_bind hands
 * them over) and runs them GROUP_ROWS at a time through the same INSERT
 * with that many VALUES tuples, which SQLite executes row by row in order
 * with the statement's conflict clause. The rows are written once,
 * straight into the table (no staging table). Which rows went in: all of
 * them when the statement changed as many rows as it had (always, for a
 * load into new keys); otherwise each row's key is looked up, and a row
 * went in if its key now names one of the rowids the statement gave out
 * (SQLite gives max + 1 to each new row: they are the last `changes` up
 * to sqlite3_last_insert_rowid), and no earlier row of the group claimed
 * it (twins: only the first went in). Rows left over at a run (fewer
 * than a group) go through the one-row statement, whose changes tell.
 * 256 rows per group took 3-5% less CPU than 64 at 1M rows (the limit
 * on parameters, 32766, allows about 2900 of an 11-column row). */

#define GROUP_ROWS 256
#define MAX_KEY 4

/* 32 bytes: a group holds 256 rows of them, written once per value */
typedef struct {
	int kind;   /* STORE_V_*; 0 = NULL (unbound) */
	bool owned; /* text or blob copied into the arena at offset off */
	union {
		int64_t i;
		double d;
	};
	union {
		const void *p;
		size_t off;
	};
	size_t len;
} lite_val;

struct lite_batch {
	store_batch_t base;
	lite_stmt st;         /* what the caller binds: the values come here */
	sqlite3_stmt *one;    /* the caller's INSERT */
	sqlite3_stmt *group;  /* the same with `rows` tuples; NULL: one row at a time */
	sqlite3_stmt *find;   /* rowid by key; NULL: not a rowid table */
	int n, rows;          /* parameters per row, rows per group */
	int key[MAX_KEY], nkey; /* the key columns' parameters (0-based) */
	lite_val *vals;       /* the pending rows' values, n per row */
	size_t pending;
	buf_t arena;          /* copied values of the pending rows */
	char *table;
	bool *inserted;       /* per row since the last run */
	size_t nrows, cap;
	uint64_t ns;          /* time spent in statements since the last run */
	bool failed;
	char err[256];
};

/* A statement kept for the whole load; NULL (not logged when quiet). */
static sqlite3_stmt *prep(sqlite3 *db, const char *sql, bool quiet)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		if (!quiet)
			log_error("store: cannot prepare: %s: %s", sqlite3_errmsg(db), sql);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* The next name of a list "a, b, c" ending at its end or at stop: its
 * start and length in *len; *p moves past it. NULL at the end. */
static const char *next_name(const char **p, const char *stop, size_t *len)
{
	const char *s = *p;
	while (*s == ' ' || *s == ',')
		s++;
	if (!*s || strchr(stop, *s))
		return NULL;
	size_t l = strcspn(s, stop), t = l;
	while (t && s[t - 1] == ' ')
		t--;
	*len = t;
	*p = s + l;
	return s;
}

/* The position of name in a comma-separated list of columns, or -1. */
static int col_pos(const char *cols, const char *name, size_t len)
{
	const char *c;
	size_t l;
	for (int i = 0; (c = next_name(&cols, ",", &l)); i++)
		if (l == len && !memcmp(c, name, len))
			return i;
	return -1;
}

/* The group statement and the key lookup, for an INSERT whose VALUES are
 * n plain `?` (row r's parameter k is then r * n + k + 1). */
static void prep_group(struct lite_batch *b, sqlite3 *db, const char *sql, const char *cols, const char *key)
{
	const char *v = strstr(sql, "VALUES(");
	if (!v)
		return;
	const char *t = v + 7, *e = t;
	int marks = 0;
	for (; *e && *e != ')'; e++) {
		if (*e == '?')
			marks++;
		else if (*e != ',' && *e != ' ')
			return; /* an expression or a numbered parameter */
	}
	if (*e != ')' || marks != b->n || b->n == 0)
		return;
	int limit = sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
	b->rows = limit / b->n < GROUP_ROWS ? limit / b->n : GROUP_ROWS;
	if (b->rows < 2)
		return;
	buf_t q = BUF_INIT;
	buf_put(&q, sql, (size_t)(t - 1 - sql));
	for (int r = 0; r < b->rows; r++) {
		buf_puts(&q, r ? ",(" : "(");
		buf_put(&q, t, (size_t)(e - t));
		buf_putc(&q, ')');
	}
	buf_puts(&q, e + 1);
	b->group = prep(db, q.p, false);
	/* key: "org, id) DO ..." */
	buf_reset(&q);
	buf_printf(&q, "SELECT rowid FROM main.%s WHERE ", b->table);
	const char *k = key, *name;
	size_t l;
	b->nkey = 0;
	while (b->nkey < MAX_KEY && (name = next_name(&k, ",)", &l))) {
		int pos = col_pos(cols, name, l);
		if (pos < 0) {
			b->nkey = 0;
			break;
		}
		buf_printf(&q, "%s%.*s = ?", b->nkey ? " AND " : "", (int)l, name);
		b->key[b->nkey++] = pos;
	}
	/* A WITHOUT ROWID table (the rollups) has no rowid to look up: its
	 * batches never ask which rows went in. */
	b->find = b->nkey && *k == ')' ? prep(db, q.p, true) : NULL;
	buf_free(&q);
}

void lite_batch_free(store_batch_t *base);

store_batch_t *lite_batch_new(store_conn_t *w, const char *insert_sql)
{
	char *table, *cols, *key;
	if (!store_parse_insert(insert_sql, &table, &cols, &key))
		return NULL;
	sqlite3 *db = LC(w)->db;
	struct lite_batch *b = xcalloc(1, sizeof *b);
	b->base.conn = w;
	b->table = table;
	b->one = prep(db, insert_sql, false);
	if (b->one) {
		b->n = sqlite3_bind_parameter_count(b->one);
		b->rows = 1;
		prep_group(b, db, insert_sql, cols, key);
		if (!b->group)
			b->rows = 1;
	}
	free(cols);
	free(key);
	if (!b->one) {
		lite_batch_free(&b->base);
		return NULL;
	}
	b->st.st = b->one;
	b->st.batch = b;
	b->st.base.conn = w;
	b->st.base.key = insert_sql;
	b->vals = xcalloc((size_t)b->rows * (size_t)(b->n ? b->n : 1), sizeof *b->vals);
	return &b->base;
}

store_stmt_t *lite_batch_stmt(store_batch_t *base)
{
	return &((struct lite_batch *)base)->st.base;
}

void lite_batch_bind(struct lite_batch *b, int idx, int kind, int64_t i, double d, const void *p, size_t len,
                     bool copy)
{
	if (idx < 1 || idx > b->n)
		return; /* as sqlite3_bind_*: out of range */
	lite_val *v = &b->vals[b->pending * (size_t)b->n + (size_t)(idx - 1)];
	v->kind = kind;
	if (kind == STORE_V_REAL)
		v->d = d;
	else
		v->i = i;
	v->len = len;
	v->owned = (kind == STORE_V_TEXT && copy) || kind == STORE_V_BLOB;
	if (v->owned) {
		v->off = b->arena.len;
		buf_put(&b->arena, p, len);
	} else {
		v->p = p;
	}
}

static void bind_val(sqlite3_stmt *st, int idx, const lite_val *v, const char *arena)
{
	const void *p = v->owned ? arena + v->off : v->p;
	switch (v->kind) {
	case STORE_V_INT: sqlite3_bind_int64(st, idx, v->i); break;
	case STORE_V_REAL: sqlite3_bind_double(st, idx, v->d); break;
	case STORE_V_TEXT: sqlite3_bind_text64(st, idx, p ? p : "", v->len, SQLITE_STATIC, SQLITE_UTF8); break;
	case STORE_V_BLOB: sqlite3_bind_blob64(st, idx, p ? p : "", v->len, SQLITE_STATIC); break;
	default: sqlite3_bind_null(st, idx); break;
	}
}

static void fail(struct lite_batch *b, sqlite3 *db)
{
	b->failed = true;
	snprintf(b->err, sizeof b->err, "%s", sqlite3_errmsg(db));
}

/* Which of the group's rows went in, when not all did (see above). */
static void group_inserted(struct lite_batch *b, sqlite3 *db, bool *in, int64_t changes)
{
	memset(in, 0, (size_t)b->rows * sizeof *in);
	if (!changes)
		return;
	if (!b->find) {
		b->failed = true;
		snprintf(b->err, sizeof b->err, "cannot tell which rows of %s went in", b->table);
		return;
	}
	int64_t last = sqlite3_last_insert_rowid(db), first = last - changes + 1, claimed = first - 1;
	for (int r = 0; r < b->rows; r++) {
		const lite_val *row = &b->vals[(size_t)r * (size_t)b->n];
		for (int k = 0; k < b->nkey; k++)
			bind_val(b->find, k + 1, &row[b->key[k]], b->arena.p);
		int rc = sqlite3_step(b->find);
		if (rc == SQLITE_ROW) {
			int64_t rid = sqlite3_column_int64(b->find, 0);
			if (rid > claimed && rid <= last) {
				in[r] = true;
				claimed = rid;
			}
		} else if (rc != SQLITE_DONE) {
			fail(b, db);
		}
		sqlite3_reset(b->find);
	}
}

/* Runs the pending rows: one group statement, or (fewer rows, or no
 * group statement) the one-row statement per row. */
static void flush_rows(struct lite_batch *b)
{
	sqlite3 *db = LC(b->base.conn)->db;
	size_t n = b->pending;
	if (b->nrows + n > b->cap) {
		b->cap = b->cap * 2 > b->nrows + n ? b->cap * 2 : b->nrows + n + 1024;
		b->inserted = xrealloc(b->inserted, b->cap * sizeof *b->inserted);
	}
	bool *in = &b->inserted[b->nrows];
	memset(in, 0, n * sizeof *in);
	uint64_t t0 = qstats_now_ns();
	if (b->failed) {
		/* nothing more runs: the caller rolls back */
	} else if (b->group && n == (size_t)b->rows) {
		for (size_t i = 0; i < n * (size_t)b->n; i++)
			bind_val(b->group, (int)i + 1, &b->vals[i], b->arena.p);
		if (sqlite3_step(b->group) == SQLITE_DONE) {
			int64_t c = sqlite3_changes64(db);
			if (c == (int64_t)n)
				memset(in, 1, n * sizeof *in);
			else
				group_inserted(b, db, in, c);
		} else {
			fail(b, db);
		}
		sqlite3_reset(b->group);
	} else {
		for (size_t r = 0; r < n && !b->failed; r++) {
			for (int k = 0; k < b->n; k++)
				bind_val(b->one, k + 1, &b->vals[r * (size_t)b->n + (size_t)k], b->arena.p);
			if (sqlite3_step(b->one) == SQLITE_DONE)
				in[r] = sqlite3_changes64(db) > 0;
			else
				fail(b, db);
			sqlite3_reset(b->one);
		}
	}
	b->ns += qstats_now_ns() - t0;
	b->nrows += n;
	b->pending = 0;
	/* unbound until bound again: NULL (only the kinds: the rest is
	 * written with the kind) */
	for (size_t i = 0; i < n * (size_t)b->n; i++)
		b->vals[i].kind = 0;
	buf_reset(&b->arena);
}

void lite_batch_row(store_batch_t *base)
{
	struct lite_batch *b = (struct lite_batch *)base;
	if (++b->pending == (size_t)b->rows)
		flush_rows(b);
}

size_t lite_batch_rows(store_batch_t *base)
{
	struct lite_batch *b = (struct lite_batch *)base;
	return b->nrows + b->pending;
}

int lite_batch_run(store_batch_t *base, bool *inserted, char *err, size_t errlen)
{
	struct lite_batch *b = (struct lite_batch *)base;
	if (b->pending)
		flush_rows(b);
	int rc = 0;
	if (b->failed) {
		snprintf(err, errlen, "%s", b->err);
		rc = -1;
	} else if (inserted && b->nrows) {
		memcpy(inserted, b->inserted, b->nrows * sizeof *inserted);
	}
	if (b->nrows)
		qstats_record(b->st.base.key, b->ns, true, b->n, 0);
	b->nrows = 0;
	b->ns = 0;
	b->failed = false;
	return rc;
}

int lite_batch_bulk(store_batch_t *base, char *err, size_t errlen)
{
	struct lite_batch *b = (struct lite_batch *)base;
	return lite_bulk_drop(LC(base->conn)->db, b->table, &LC(base->conn)->bulk, err, errlen) ? 0 : -1;
}

void lite_batch_free(store_batch_t *base)
{
	struct lite_batch *b = (struct lite_batch *)base;
	sqlite3_finalize(b->one);
	sqlite3_finalize(b->group);
	sqlite3_finalize(b->find);
	buf_free(&b->arena);
	free(b->vals);
	free(b->table);
	free(b->inserted);
	free(b);
}
