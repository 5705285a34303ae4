/* store backend PostgreSQL: bulk inserts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/buf.h"
#include "core/mem.h"
#include "monitor/qstats.h"
#include "store/pg_copy.h"
#include "store/pg_stmt.h"

typedef struct {
	store_batch_t base;
	pg_stmt st; /* receives the bindings of one row */
	char *table, *cols, *key; /* key: "k) DO ..." */
	int idpos;     /* 0-based position of the id column */
	bool orgfirst; /* the first column is org */
	/* A rollup cells batch (batch_cells): positions of metric and day,
	 * else -1; each row's metric and day, two per row. */
	int metpos, daypos;
	int64_t *cell;
	/* The direct path streams (batch_stream): the first ndone rows of the
	 * batch were handled as they came, kept[i] says which were sent;
	 * sent bytes of data are on their way; a failure waits in serr. */
	bool streaming; /* a COPY is open on the connection */
	size_t ndone, sent;
	bool *kept;
	char serr[256];
	/* rids reserved for streamed rows, [rid_next, rid_end) (rid_reserve);
	 * norid: the table has no rid sequence */
	int64_t rid_next, rid_end;
	bool norid;
	/* The direct path (see batch_direct): 0 not decided yet, 1 taken,
	 * -1 the stage. org: the first row's; mixed: another row's differed. */
	int direct;
	int64_t org;
	bool mixed;
	uint64_t *seen; /* hashes of the ids copied (0: free slot) */
	size_t nseen, seencap;
	buf_t data;    /* COPY text rows */
	buf_t ids;     /* each row's id, NUL-terminated */
	size_t *idoff;
	size_t *rowoff; /* where each row starts in data */
	size_t nrows, cap;
} pg_batch;

static void stream_row(pg_batch *b);

/* The 0-based position of the column named name in cols, or -1. */
static int col_pos(const char *cols, const char *name)
{
	size_t n = strlen(name);
	int i = 0;
	for (const char *c = cols; c && *c; i++) {
		while (*c == ' ')
			c++;
		if (!strncmp(c, name, n) && (c[n] == ',' || c[n] == ' ' || !c[n]))
			return i;
		c = strchr(c, ',');
		if (c)
			c++;
	}
	return -1;
}

store_batch_t *pgs_batch_new(store_conn_t *w, const char *insert_sql)
{
	char *table, *cols, *key;
	if (!store_parse_insert(insert_sql, &table, &cols, &key))
		return NULL;
	pg_batch *b = xcalloc(1, sizeof *b);
	b->base.conn = w;
	b->table = table;
	b->cols = cols;
	b->key = key;
	int n = 1;
	for (const char *c = cols; *c; c++)
		if (*c == ',')
			n++;
	b->idpos = col_pos(cols, "id");
	b->orgfirst = col_pos(cols, "org") == 0;
	bool cells = b->orgfirst && !strncmp(key, "org, metric, day, dim) DO UPDATE", 32);
	b->metpos = cells ? col_pos(cols, "metric") : -1;
	b->daypos = cells ? col_pos(cols, "day") : -1;
	if (b->daypos < 0)
		b->metpos = -1;
	b->st.base.conn = w;
	b->st.base.key = insert_sql;
	b->st.nparams = n;
	b->st.vals = xcalloc((size_t)n + 1, sizeof *b->st.vals);
	b->st.types = xcalloc((size_t)n + 1, sizeof *b->st.types);
	return &b->base;
}

store_stmt_t *pgs_batch_stmt(store_batch_t *base)
{
	return &((pg_batch *)base)->st.base;
}

/* One value in COPY's text format, written in place (this runs for
 * every value of an import, while the server waits for the batch). */
static void copy_value(buf_t *out, const pg_val *v)
{
	switch (v->kind) {
	case STORE_V_INT: buf_put_i64(out, v->i); return;
	case STORE_V_REAL: buf_printf(out, "%.17g", v->d); return;
	case STORE_V_TEXT: {
		buf_reserve(out, 2 * v->len); /* each byte escaped at worst */
		char *o = out->p + out->len;
		for (size_t i = 0; i < v->len; i++) {
			char c = v->p[i];
			if (c != '\\' && c != '\n' && c != '\r' && c != '\t') {
				*o++ = c;
				continue;
			}
			*o++ = '\\';
			*o++ = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '\\';
		}
		out->len = (size_t)(o - out->p);
		out->p[out->len] = '\0';
		return;
	}
	default: buf_put(out, "\\N", 2); return; /* NULL (blobs are not imported) */
	}
}

void pgs_batch_row(store_batch_t *base)
{
	pg_batch *b = (pg_batch *)base;
	if (b->orgfirst && b->st.vals[0].kind == STORE_V_INT) {
		if (!b->nrows && !b->org)
			b->org = b->st.vals[0].i;
		b->mixed |= b->st.vals[0].i != b->org;
	} else {
		b->mixed = true;
	}
	if (b->nrows == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->idoff = xrealloc(b->idoff, b->cap * sizeof *b->idoff);
		b->rowoff = xrealloc(b->rowoff, (b->cap + 1) * sizeof *b->rowoff);
		b->kept = xrealloc(b->kept, b->cap * sizeof *b->kept);
		if (b->metpos >= 0)
			b->cell = xrealloc(b->cell, 2 * b->cap * sizeof *b->cell);
	}
	if (b->metpos >= 0) {
		const pg_val *m = &b->st.vals[b->metpos], *d = &b->st.vals[b->daypos];
		b->mixed |= m->kind != STORE_V_INT || d->kind != STORE_V_INT;
		b->cell[2 * b->nrows] = m->i;
		b->cell[2 * b->nrows + 1] = d->i;
	}
	b->rowoff[b->nrows] = b->data.len;
	bool stream = b->direct > 0 && !b->mixed && b->ndone == b->nrows && b->rid_next < b->rid_end;
	if (stream) {
		buf_put_i64(&b->data, b->rid_next++);
		buf_putc(&b->data, '\t');
	}
	for (int k = 0; k < b->st.nparams; k++) {
		if (k)
			buf_putc(&b->data, '\t');
		copy_value(&b->data, &b->st.vals[k]);
	}
	buf_putc(&b->data, '\n');
	b->idoff[b->nrows++] = b->ids.len;
	if (b->idpos >= 0)
		buf_put(&b->ids, b->st.vals[b->idpos].p, b->st.vals[b->idpos].len);
	buf_putc(&b->ids, 0);
	pg_stmt_clear(&b->st);
	if (stream)
		stream_row(b);
}

size_t pgs_batch_rows(store_batch_t *base)
{
	return ((pg_batch *)base)->nrows;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Starts sql (a COPY ... FROM STDIN); false with the reason in err. */
static bool copy_start(PGconn *pc, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(pc, sql);
	bool ok = PQresultStatus(r) == PGRES_COPY_IN;
	if (!ok)
		pg_first_line(err, errlen, PQerrorMessage(pc));
	PQclear(r);
	return ok;
}

/* Ends the COPY open on pc (failing it unless sent): whether it stored
 * everything, else the reason in err (unless err holds one already). */
static bool copy_end(PGconn *pc, bool sent, char *err, size_t errlen)
{
	PQputCopyEnd(pc, sent ? NULL : "brisk: sending failed");
	bool copied = sent;
	PGresult *r;
	while ((r = PQgetResult(pc))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			if (copied)
				pg_first_line(err, errlen, PQerrorMessage(pc));
			copied = false;
		}
		PQclear(r);
	}
	return copied;
}

/* Runs sql (a COPY ... FROM STDIN) with len bytes of data; false with the
 * reason in err. */
static bool copy_in(PGconn *pc, const char *sql, const char *data, size_t len, char *err, size_t errlen)
{
	if (!copy_start(pc, sql, err, errlen))
		return false;
	bool sent = PQputCopyData(pc, data ? data : "", (int)len) == 1;
	if (!sent)
		pg_first_line(err, errlen, PQerrorMessage(pc));
	return copy_end(pc, sent, err, errlen);
}

/* The batch's rows as the stage takes them (but those copied already,
 * when copied is set): each prefixed by its place in the batch (the
 * INSERT ... SELECT keeps the batch's order). */
static void stage_rows(const pg_batch *b, const bool *copied, buf_t *out)
{
	for (size_t i = 0; i < b->nrows; i++) {
		if (copied && copied[i])
			continue;
		size_t end = i + 1 < b->nrows ? b->rowoff[i + 1] : b->data.len;
		buf_printf(out, "%zu\t", i);
		buf_put(out, b->data.p + b->rowoff[i], end - b->rowoff[i]);
	}
}

/* COPY into a stage table, then one INSERT ... SELECT ... ON CONFLICT:
 * rows whose key exists are skipped, and told. */
static int batch_stage(pg_batch *b, const bool *done, bool *inserted, char *err, size_t errlen)
{
	pg_conn *c = PC(b->base.conn);
	buf_t q = BUF_INIT, rows = BUF_INIT;
	int rc = -1;
	buf_printf(&q,
	           "CREATE TEMP TABLE IF NOT EXISTS brisk_stage_%s AS SELECT 0::bigint AS brisk_seq, %s FROM %s WITH NO DATA;"
	           "COPY brisk_stage_%s(brisk_seq, %s) FROM STDIN",
	           b->table, b->cols, b->table, b->table, b->cols);
	stage_rows(b, done, &rows);
	bool copied = copy_in(c->pc, q.p, rows.p, rows.len, err, errlen);
	buf_free(&rows);
	if (!copied)
		goto out;
	PGresult *r;
	buf_reset(&q);
	buf_printf(&q,
	           "INSERT INTO %s(%s) SELECT %s FROM brisk_stage_%s ORDER BY brisk_seq ON CONFLICT(%s%s",
	           b->table, b->cols, b->cols, b->table, b->key, inserted && b->idpos >= 0 ? " RETURNING id" : "");
	r = PQexec(c->pc, q.p);
	if (!inserted && PQresultStatus(r) == PGRES_COMMAND_OK) {
		PQclear(r);
		goto truncate;
	}
	if (PQresultStatus(r) != PGRES_TUPLES_OK || b->idpos < 0) {
		pg_first_line(err, errlen, PQerrorMessage(c->pc));
		PQclear(r);
		goto out;
	}
	/* Inserted: the first row of the batch holding each returned id (the
	 * rows went in in batch order; a later twin met the first). */
	int n = PQntuples(r);
	char **got = xmalloc(((size_t)n + 1) * sizeof *got);
	for (int i = 0; i < n; i++)
		got[i] = PQgetvalue(r, i, 0);
	qsort(got, (size_t)n, sizeof *got, cmp_str);
	bool *taken = xcalloc((size_t)n + 1, 1);
	for (size_t i = 0; i < b->nrows; i++) {
		if (done && done[i])
			continue; /* told by the path that took it */
		const char *id = b->ids.p + b->idoff[i];
		char **hit = n ? bsearch(&id, got, (size_t)n, sizeof *got, cmp_str) : NULL;
		/* twins sit side by side: step to the first one not yet taken */
		while (hit && hit > got && !strcmp(hit[-1], id))
			hit--;
		while (hit && hit < got + n && !strcmp(*hit, id) && taken[hit - got])
			hit++;
		inserted[i] = hit && hit < got + n && !strcmp(*hit, id);
		if (inserted[i])
			taken[hit - got] = true;
	}
	free(taken);
	free(got);
	PQclear(r);
truncate:
	buf_reset(&q);
	buf_printf(&q, "TRUNCATE brisk_stage_%s", b->table);
	rc = pg_run(c->pc, q.p, err, errlen) ? 0 : -1;
out:
	buf_free(&q);
	return rc;
}

/* DESIGN (the direct path)
 * An organisation's first rows of a kind (onboarding; a move from
 * another tool) cannot meet a stored row: the import holds the single
 * writer lock, so no other transaction adds any before it commits. Such a
 * batch is COPYed straight into the table: no stage written and read
 * again, no INSERT ... SELECT, no conflict check per row (measured at 1M
 * cost rows: the INSERT ... SELECT was 75% of PostgreSQL's time). The one
 * conflict left is an id the import itself wrote before (a file with
 * --allow-duplicate-ids, a --split cost reusing an id): the hashes of the
 * ids copied are kept, and a row whose hash was seen is not copied but
 * told "not inserted", so the caller replaces by its row-by-row path, as
 * for a stored id (a hash shared by two ids only sends the second the
 * slow way). The choice is made once per batch object, at its first run;
 * a batch of rows naming another org goes by the stage from then on. */

/* Adds h to the ids seen; false if it was there. */
static bool seen_add(pg_batch *b, uint64_t h)
{
	h |= 1; /* 0 marks a free slot */
	if (2 * (b->nseen + 1) > b->seencap) {
		size_t cap = b->seencap ? 2 * b->seencap : 8192;
		uint64_t *t = xcalloc(cap, sizeof *t);
		for (size_t i = 0; i < b->seencap; i++)
			if (b->seen[i]) {
				size_t j = b->seen[i] & (cap - 1);
				while (t[j])
					j = (j + 1) & (cap - 1);
				t[j] = b->seen[i];
			}
		free(b->seen);
		b->seen = t;
		b->seencap = cap;
	}
	size_t j = h & (b->seencap - 1);
	while (b->seen[j]) {
		if (b->seen[j] == h)
			return false;
		j = (j + 1) & (b->seencap - 1);
	}
	b->seen[j] = h;
	b->nseen++;
	return true;
}

/* The direct path for the batch's rows from the one at from on. */
static int batch_direct(pg_batch *b, size_t from, bool *inserted, char *err, size_t errlen)
{
	buf_t q = BUF_INIT, rows = BUF_INIT;
	for (size_t i = from; i < b->nrows; i++) {
		const char *id = b->ids.p + b->idoff[i];
		inserted[i] = seen_add(b, XXH3_64bits(id, strlen(id)));
		if (inserted[i]) {
			size_t end = i + 1 < b->nrows ? b->rowoff[i + 1] : b->data.len;
			buf_put(&rows, b->data.p + b->rowoff[i], end - b->rowoff[i]);
		}
	}
	buf_printf(&q, "COPY %s(%s) FROM STDIN", b->table, b->cols);
	bool ok = !rows.len || copy_in(PC(b->base.conn)->pc, q.p, rows.p, rows.len, err, errlen);
	buf_free(&q);
	buf_free(&rows);
	return ok ? 0 : -1;
}

/* DESIGN (streaming)
 * Once the direct path is taken, a batch's rows go to the server while
 * the writer still formats the next ones, 64 KiB at a time, in one COPY
 * that the run ends: PostgreSQL stores them meanwhile instead of waiting
 * for the whole batch (the writer's formatting of 5,000 rows ran in turn
 * with the server's work, not beside it). From a batch's first row to
 * its run the connection is in COPY: the caller sends nothing else
 * between them (the importer adds a batch's rows, then runs it). A row
 * naming another org stops the streaming: that row and the rest go by
 * the stage at the run. */
enum { STREAM_BYTES = 64 << 10 };

/* Sends data up to end, opening the COPY first; a failure is kept. */
static void stream_send(pg_batch *b, size_t end)
{
	PGconn *pc = PC(b->base.conn)->pc;
	if (b->serr[0] || end <= b->sent)
		return;
	if (!b->streaming) {
		char sql[512];
		snprintf(sql, sizeof sql, "COPY %s(rid, %s) FROM STDIN", b->table, b->cols);
		if (!copy_start(pc, sql, b->serr, sizeof b->serr))
			return;
		b->streaming = true;
	}
	if (PQputCopyData(pc, b->data.p + b->sent, (int)(end - b->sent)) != 1)
		pg_first_line(b->serr, sizeof b->serr, PQerrorMessage(pc));
	b->sent = end;
}

/* The row just added: kept unless its id was copied before (then its
 * text leaves data, and the run tells it not inserted). */
static void stream_row(pg_batch *b)
{
	size_t i = b->nrows - 1;
	const char *id = b->ids.p + b->idoff[i];
	b->kept[i] = seen_add(b, XXH3_64bits(id, strlen(id)));
	if (!b->kept[i]) {
		b->data.len = b->rowoff[i];
		b->data.p[b->data.len] = '\0';
	}
	b->ndone++;
	if (b->data.len - b->sent >= STREAM_BYTES)
		stream_send(b, b->data.len);
}

/* The run of a streamed batch: the rest sent, the COPY ended; rows after
 * the streamed ones by the stage (another org's) or the direct path (the
 * rids reserved ran out). */
static int stream_end(pg_batch *b, bool *inserted, char *err, size_t errlen)
{
	stream_send(b, b->ndone < b->nrows ? b->rowoff[b->ndone] : b->data.len);
	bool ok = !b->serr[0];
	if (!ok)
		snprintf(err, errlen, "%s", b->serr);
	if (b->streaming)
		ok = copy_end(PC(b->base.conn)->pc, ok, err, errlen);
	b->streaming = false;
	b->sent = 0;
	b->serr[0] = '\0';
	memcpy(inserted, b->kept, b->ndone * sizeof *inserted);
	if (!ok)
		return -1;
	if (b->ndone == b->nrows)
		return 0;
	if (!b->mixed)
		return batch_direct(b, b->ndone, inserted, err, errlen);
	b->direct = -1; /* the stage from now on */
	bool *done = xcalloc(b->nrows, sizeof *done);
	memset(done, 1, b->ndone * sizeof *done);
	int rc = batch_stage(b, done, inserted, err, errlen);
	free(done);
	return rc;
}


/* Whether this batch may take the direct path: an import's (rows keyed by
 * org and id, skipped when stored, the caller told which went in) into an
 * org that has no row in the table yet. -1 on a store error. */
static int direct_ok(pg_batch *b, bool *inserted, char *err, size_t errlen)
{
	if (!inserted || b->idpos < 0 || b->mixed || strcmp(b->key, "org, id) DO NOTHING") ||
	    strncmp(b->cols, "org,", 4))
		return 0;
	PGconn *pc = PC(b->base.conn)->pc;
	char sql[200], org[24];
	snprintf(sql, sizeof sql, "SELECT EXISTS (SELECT 1 FROM %s WHERE org = $1)", b->table);
	snprintf(org, sizeof org, "%lld", (long long)b->org);
	const char *vals[1] = {org};
	PGresult *r = PQexecParams(pc, sql, 1, NULL, vals, NULL, NULL, 0);
	int rc = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		rc = !strcmp(PQgetvalue(r, 0, 0), "f");
	else
		pg_first_line(err, errlen, PQerrorMessage(pc));
	PQclear(r);
	return rc;
}

/* DESIGN (rollup cells)
 * A flush of rollup cells (distinct keys org, metric, day, dim) adds each
 * cell to the stored one. A cell cannot meet a stored one when its day
 * lies outside the days its org and metric hold already: all of them at
 * an org's first load of a kind, nearly all at the next flush of a file
 * in date order (only the day, or month, where the flushes meet). Those
 * are COPYed straight in: no stage written and read again, no conflict
 * check per cell (a stage and an INSERT ... SELECT ... ON CONFLICT was
 * about 0.3 s per flush of a 1M-row cost file). The rest take the stage.
 * The days held are read under the single writer lock: no other
 * transaction adds a cell before this one commits. */

/* The days org holds per metric of the batch: lo > hi when none. */
typedef struct {
	int64_t metric, lo, hi;
} held_days;

static int held_read(pg_batch *b, held_days *h, int nh, char *err, size_t errlen)
{
	buf_t q = BUF_INIT, arr = BUF_INIT;
	buf_putc(&arr, '{');
	for (int i = 0; i < nh; i++) {
		if (i)
			buf_putc(&arr, ',');
		buf_put_i64(&arr, h[i].metric);
		h[i].lo = 1;
		h[i].hi = 0;
	}
	buf_putc(&arr, '}');
	/* each min and max is one descent of the (org, metric, day, dim) key */
	buf_printf(&q,
	           "SELECT m, (SELECT min(day) FROM %s WHERE org = $1 AND metric = m), "
	           "(SELECT max(day) FROM %s WHERE org = $1 AND metric = m) "
	           "FROM unnest($2::bigint[]) WITH ORDINALITY AS u(m, n) ORDER BY n",
	           b->table, b->table);
	char org[24];
	snprintf(org, sizeof org, "%lld", (long long)b->org);
	const char *vals[2] = {org, arr.p};
	PGconn *pc = PC(b->base.conn)->pc;
	PGresult *r = PQexecParams(pc, q.p, 2, NULL, vals, NULL, NULL, 0);
	int rc = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == nh) {
		for (int i = 0; i < nh; i++) {
			if (PQgetisnull(r, i, 1))
				continue;
			h[i].lo = strtoll(PQgetvalue(r, i, 1), NULL, 10);
			h[i].hi = strtoll(PQgetvalue(r, i, 2), NULL, 10);
		}
		rc = 0;
	} else {
		pg_first_line(err, errlen, PQerrorMessage(pc));
	}
	PQclear(r);
	buf_free(&q);
	buf_free(&arr);
	return rc;
}

static int batch_cells(pg_batch *b, char *err, size_t errlen)
{
	enum { MAX_METRICS = 64 };
	held_days h[MAX_METRICS];
	int nh = 0;
	for (size_t i = 0; i < b->nrows; i++) {
		int j = 0;
		while (j < nh && h[j].metric != b->cell[2 * i])
			j++;
		if (j == MAX_METRICS)
			return batch_stage(b, NULL, NULL, err, errlen); /* never met: the general way */
		if (j == nh)
			h[nh++].metric = b->cell[2 * i];
	}
	if (held_read(b, h, nh, err, errlen) != 0)
		return -1;
	bool *copied = xcalloc(b->nrows + 1, sizeof *copied);
	buf_t q = BUF_INIT, rows = BUF_INIT;
	size_t left = 0;
	for (size_t i = 0; i < b->nrows; i++) {
		int j = 0;
		while (h[j].metric != b->cell[2 * i])
			j++;
		int64_t day = b->cell[2 * i + 1];
		copied[i] = h[j].lo > h[j].hi || day < h[j].lo || day > h[j].hi;
		if (copied[i]) {
			size_t end = i + 1 < b->nrows ? b->rowoff[i + 1] : b->data.len;
			buf_put(&rows, b->data.p + b->rowoff[i], end - b->rowoff[i]);
		} else {
			left++;
		}
	}
	buf_printf(&q, "COPY %s(%s) FROM STDIN", b->table, b->cols);
	bool ok = !rows.len || copy_in(PC(b->base.conn)->pc, q.p, rows.p, rows.len, err, errlen);
	int rc = ok ? 0 : -1;
	if (ok && left)
		rc = batch_stage(b, copied, NULL, err, errlen);
	buf_free(&q);
	buf_free(&rows);
	free(copied);
	return rc;
}

/* DESIGN (rids)
 * A streamed row carries its rid, from a block reserved on the table's
 * sequence between two batches (the COPY must not be open then), instead
 * of the identity default calling nextval per row (measured: a fifth of
 * an unindexed COPY's server CPU). The single writer lock means no other
 * session takes values meanwhile; values reserved and not used are a gap,
 * as a rolled-back insert leaves. Small batches (a few rows written over
 * HTTP) do not reserve. */
enum { RID_BATCH_MIN = 1000 };

static int rid_reserve(pg_batch *b, int64_t n, char *err, size_t errlen)
{
	static const char *sql = "SELECT setval(s::regclass, nextval(s::regclass) + $2 - 1) "
	                         "FROM pg_get_serial_sequence($1, 'rid') AS s WHERE s IS NOT NULL";
	char cnt[24];
	snprintf(cnt, sizeof cnt, "%lld", (long long)n);
	const char *vals[2] = {b->table, cnt};
	PGconn *pc = PC(b->base.conn)->pc;
	PGresult *r = PQexecParams(pc, sql, 2, NULL, vals, NULL, NULL, 0);
	int rc = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_first_line(err, errlen, PQerrorMessage(pc));
		rc = -1;
	} else if (PQntuples(r) != 1) {
		b->norid = true;
	} else {
		b->rid_end = strtoll(PQgetvalue(r, 0, 0), NULL, 10) + 1;
		b->rid_next = b->rid_end - n;
	}
	PQclear(r);
	return rc;
}

static int batch_load(pg_batch *b, bool *inserted, char *err, size_t errlen)
{
	pg_conn *c = PC(b->base.conn);
	int rc = 0;
	if (!inserted && b->metpos >= 0 && !b->mixed) {
		rc = batch_cells(b, err, errlen);
	} else if (b->ndone) {
		rc = stream_end(b, inserted, err, errlen);
	} else {
		if (b->direct == 0) {
			rc = direct_ok(b, inserted, err, errlen);
			b->direct = rc > 0 ? 1 : -1;
		} else if (b->mixed) {
			b->direct = -1;
		}
		if (rc >= 0)
			rc = b->direct > 0 ? batch_direct(b, 0, inserted, err, errlen)
			                   : batch_stage(b, NULL, inserted, err, errlen);
	}
	if (rc == 0 && b->direct > 0 && !b->mixed && b->nrows >= RID_BATCH_MIN && !b->norid &&
	    b->rid_end - b->rid_next < (int64_t)b->nrows)
		rc = rid_reserve(b, 4 * (int64_t)b->nrows, err, errlen);
	if (rc != 0) {
		snprintf(c->err, sizeof c->err, "%s", err); /* for store_errmsg */
		if (pg_is_loss(c->pc, NULL))
			pg_note_down(PS(c->base.store), err);
	}
	return rc;
}

/* Counts rows bulk-loaded into table by c's transaction (see pgs_commit). */
static void note_bulk(pg_conn *c, const char *table, size_t rows)
{
	int i = 0;
	while (i < c->nbulk && strcmp(c->bulk[i].table, table))
		i++;
	if (i == c->nbulk) {
		if (c->nbulk == (int)(sizeof c->bulk / sizeof c->bulk[0]) || strlen(table) >= sizeof c->bulk[0].table)
			return;
		snprintf(c->bulk[c->nbulk].table, sizeof c->bulk[0].table, "%s", table);
		c->bulk[c->nbulk++].rows = 0;
	}
	c->bulk[i].rows += (int64_t)rows;
}

int pgs_batch_run(store_batch_t *base, bool *inserted, char *err, size_t errlen)
{
	pg_batch *b = (pg_batch *)base;
	int rc = 0;
	if (b->nrows) {
		uint64_t t0 = qstats_now_ns();
		rc = batch_load(b, inserted, err, errlen);
		qstats_record(b->st.base.key, qstats_now_ns() - t0, true, b->st.nparams, 0);
		if (rc == 0)
			note_bulk(PC(b->base.conn), b->table, b->nrows);
	}
	buf_reset(&b->data);
	buf_reset(&b->ids);
	b->nrows = b->ndone = 0;
	b->mixed = false;
	return rc;
}

void pgs_batch_free(store_batch_t *base)
{
	pg_batch *b = (pg_batch *)base;
	if (b->streaming) /* rows added and never run: an abandoned import */
		copy_end(PC(b->base.conn)->pc, false, b->serr, sizeof b->serr);
	pg_stmt_clear(&b->st);
	free(b->st.vals);
	free(b->st.types);
	free(b->table);
	free(b->cols);
	free(b->key);
	free(b->idoff);
	free(b->rowoff);
	free(b->seen);
	free(b->cell);
	free(b->kept);
	buf_free(&b->data);
	buf_free(&b->ids);
	free(b);
}
