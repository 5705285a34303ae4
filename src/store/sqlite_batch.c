#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "monitor/qstats.h"
#include "store/sqlite_bulk.h"
#include "store/sqlite_int.h"

/* ---- bulk inserts: a staging table, one INSERT ... SELECT per batch ----
 *
 * A prepared INSERT per row pays, for every row, a statement start and end,
 * a statement journal (the entity tables have triggers) and the timing of
 * monitor/qstats. Rows are instead appended to a TEMP table (in memory, no
 * index, no trigger: what the sqlite3 shell's .import does) and go into
 * the real table with one statement per batch, which runs the same
 * triggers, constraints and conflict clause row by row, in batch order.
 * The rows that went in are the ones whose new rowid is above the table's
 * largest before the statement (SQLite gives max + 1 to each new row). */

typedef struct {
	store_batch_t base;
	lite_stmt st;            /* INSERT INTO temp stage: the caller's bindings */
	sqlite3_stmt *run, *clear;
	sqlite3_stmt *max, *match; /* prepared at the first run that asks which rows went in */
	char *table, *keycols;     /* "org, id" */
	const char *key;           /* the caller's SQL (qstats) */
	int nparams;
	size_t nrows;
	bool failed;
	char err[256];
} lite_batch;

static sqlite3_stmt *batch_prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		log_error("store: cannot prepare: %s: %s", sqlite3_errmsg(db), sql);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

void lite_batch_free(store_batch_t *base);

store_batch_t *lite_batch_new(store_conn_t *w, const char *insert_sql)
{
	char *table, *cols, *key;
	if (!store_parse_insert(insert_sql, &table, &cols, &key))
		return NULL;
	sqlite3 *db = LC(w)->db;
	lite_batch *b = xcalloc(1, sizeof *b);
	b->base.conn = w;
	b->key = insert_sql;
	buf_t q = BUF_INIT;
	/* The stage keeps the columns' affinities (CREATE ... AS), no
	 * constraint; its rowid is the row's place in the batch + 1. */
	buf_printf(&q, "CREATE TEMP TABLE IF NOT EXISTS brisk_stage_%s AS SELECT %s FROM main.%s WHERE 0", table, cols,
	           table);
	bool ok = sqlite3_exec(db, q.p, NULL, NULL, NULL) == SQLITE_OK;
	buf_reset(&q);
	int n = 1;
	for (const char *c = cols; *c; c++)
		n += *c == ',';
	b->nparams = n;
	buf_printf(&q, "INSERT INTO temp.brisk_stage_%s(%s) VALUES(?", table, cols);
	for (int i = 1; i < n; i++)
		buf_puts(&q, ",?");
	buf_putc(&q, ')');
	b->st.st = ok ? batch_prep(db, q.p) : NULL;
	b->st.base.conn = w;
	b->st.base.key = insert_sql;
	buf_reset(&q);
	/* WHERE true: SQLite reads ON CONFLICT after a bare FROM as a join's */
	buf_printf(&q, "INSERT INTO main.%s(%s) SELECT %s FROM temp.brisk_stage_%s WHERE true ORDER BY rowid ON CONFLICT(%s",
	           table, cols, cols, table, key);
	b->run = b->st.st ? batch_prep(db, q.p) : NULL;
	buf_reset(&q);
	buf_printf(&q, "DELETE FROM temp.brisk_stage_%s", table);
	b->clear = b->run ? batch_prep(db, q.p) : NULL;
	buf_free(&q);
	b->table = table;
	b->keycols = xstrndup(key, strcspn(key, ")"));
	free(cols);
	free(key);
	if (!b->clear) {
		lite_batch_free(&b->base);
		return NULL;
	}
	return &b->base;
}

store_stmt_t *lite_batch_stmt(store_batch_t *base)
{
	return &((lite_batch *)base)->st.base;
}

void lite_batch_row(store_batch_t *base)
{
	lite_batch *b = (lite_batch *)base;
	if (!b->failed && sqlite3_step(b->st.st) != SQLITE_DONE) {
		b->failed = true;
		snprintf(b->err, sizeof b->err, "staging a row: %s", sqlite3_errmsg(LC(base->conn)->db));
	}
	sqlite3_reset(b->st.st);
	sqlite3_clear_bindings(b->st.st);
	b->nrows++;
}

size_t lite_batch_rows(store_batch_t *base)
{
	return ((lite_batch *)base)->nrows;
}

/* Runs st to completion; false on an error (the reason in err). */
static bool batch_exec(lite_batch *b, sqlite3_stmt *st, char *err, size_t errlen)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		snprintf(err, errlen, "%s", sqlite3_errmsg(LC(b->base.conn)->db));
	return rc == SQLITE_DONE;
}

/* The statements that tell which rows went in (a rowid table only). */
static bool batch_prep_match(lite_batch *b)
{
	if (b->match)
		return true;
	sqlite3 *db = LC(b->base.conn)->db;
	buf_t q = BUF_INIT;
	buf_printf(&q, "SELECT coalesce(max(rowid), 0) FROM main.%s", b->table);
	b->max = batch_prep(db, q.p);
	/* The key's columns equal between the stage and the table. */
	buf_reset(&q);
	buf_printf(&q, "SELECT s.rowid, t.rowid FROM temp.brisk_stage_%s AS s JOIN main.%s AS t ON ", b->table, b->table);
	const char *k = b->keycols;
	for (int i = 0; *k; i++) {
		while (*k == ' ')
			k++;
		size_t len = strcspn(k, ",");
		while (len && k[len - 1] == ' ')
			len--;
		buf_printf(&q, "%st.%.*s = s.%.*s", i ? " AND " : "", (int)len, k, (int)len, k);
		k += strcspn(k, ",");
		if (*k == ',')
			k++;
	}
	buf_puts(&q, " WHERE t.rowid > ? ORDER BY s.rowid");
	b->match = b->max ? batch_prep(db, q.p) : NULL;
	buf_free(&q);
	return b->match != NULL;
}

int lite_batch_run(store_batch_t *base, bool *inserted, char *err, size_t errlen)
{
	lite_batch *b = (lite_batch *)base;
	sqlite3 *db = LC(base->conn)->db;
	int rc = -1;
	uint64_t t0 = qstats_now_ns();
	if (b->failed) {
		snprintf(err, errlen, "%s", b->err);
		goto out;
	}
	if (!b->nrows) {
		rc = 0;
		goto out;
	}
	int64_t before = 0;
	if (inserted) {
		if (!batch_prep_match(b)) {
			snprintf(err, errlen, "%s", sqlite3_errmsg(db));
			goto out;
		}
		if (sqlite3_step(b->max) == SQLITE_ROW)
			before = sqlite3_column_int64(b->max, 0);
		sqlite3_reset(b->max);
	}
	if (!batch_exec(b, b->run, err, errlen))
		goto out;
	if (inserted) {
		if ((size_t)sqlite3_changes64(db) == b->nrows) {
			for (size_t i = 0; i < b->nrows; i++)
				inserted[i] = true;
		} else {
			/* A row went in if its key now names a row newer than the
			 * statement; of twins in the batch, only the first did (the
			 * later ones find a rowid no larger than one already seen). */
			memset(inserted, 0, b->nrows * sizeof *inserted);
			int64_t last = before;
			sqlite3_bind_int64(b->match, 1, before);
			int s;
			while ((s = sqlite3_step(b->match)) == SQLITE_ROW) {
				int64_t i = sqlite3_column_int64(b->match, 0) - 1, r = sqlite3_column_int64(b->match, 1);
				if (r > last && i >= 0 && (size_t)i < b->nrows) {
					inserted[i] = true;
					last = r;
				}
			}
			sqlite3_reset(b->match);
			if (s != SQLITE_DONE) {
				snprintf(err, errlen, "%s", sqlite3_errmsg(db));
				goto out;
			}
		}
	}
	rc = 0;
out:
	if (b->nrows)
		qstats_record(b->key, qstats_now_ns() - t0, true, b->nparams, 0);
	char ignored[8];
	batch_exec(b, b->clear, ignored, sizeof ignored);
	b->nrows = 0;
	b->failed = false;
	return rc;
}

int lite_batch_bulk(store_batch_t *base, char *err, size_t errlen)
{
	lite_batch *b = (lite_batch *)base;
	return lite_bulk_drop(LC(base->conn)->db, b->table, &LC(base->conn)->bulk, err, errlen) ? 0 : -1;
}

void lite_batch_free(store_batch_t *base)
{
	lite_batch *b = (lite_batch *)base;
	sqlite3_finalize(b->st.st);
	sqlite3_finalize(b->run);
	sqlite3_finalize(b->max);
	sqlite3_finalize(b->match);
	if (b->clear) {
		char ignored[8];
		batch_exec(b, b->clear, ignored, sizeof ignored);
	}
	sqlite3_finalize(b->clear);
	free(b->table);
	free(b->keycols);
	free(b);
}
