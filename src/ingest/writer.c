#include "ingest/writer.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/mem.h"
#include "store/rollup.h"

/* DESIGN
 * Two threads: the caller's reads, parses and validates, and copies each
 * record into a chunk (its text into an arena reused from one chunk to the
 * next); a writer thread owns the store connection while the import runs
 * and writes full chunks in order, while the caller fills the next free
 * one of a ring.
 * A chunk is staged with store_batch_* (a batch per kind: --split writes
 * payments and costs), which inserts the new rows in one statement per
 * batch and tells which went in. The others (an
 * id stored before, or repeated in the file with --allow-duplicate-ids)
 * then go through entity_upsert in file order, so the last row of an id
 * wins and the rollups retract exactly what they replace. A backend
 * without a bulk path gets entity_upsert for every row. Memory is bounded
 * by the batch (BATCH_ROWS records) and the rollup cells, never the file. */

#define BATCH_ROWS 5000
/* Chunks in the ring between the threads (2.5 MB each): the reader's and
 * the writer's time per chunk vary (a chunk that carries rollup cells
 * costs the writer several), and with two chunks each thread waited for
 * the other a third of the time (1M sales orders: 0.4-0.9 s each). */
#define WRITER_CHUNKS 8

/* Rollup cells held in memory before they are written (48 bytes each, in
 * a table kept under 3/4 full, and their dims): bounds an import's memory
 * whatever the file. 16000 keeps the table at 1.5-3 MiB, where 50000
 * took 6 and missed the cache (1M sales orders: 5% faster); a
 * date-ordered file writes each cell once either way. */
#define ROLLUP_FLUSH_CELLS 16000
/* Monthly cells (and the org's magnitude) kept back until the end, up to
 * this many (see hand_over): under 3/4 of a 65536-slot table (3 MiB), so
 * it never doubles (two years of 2000 customers fit). */
#define ROLLUP_MONTHLY_CELLS 49000

typedef struct {
	record_t rec;
	uint64_t line;
	entity_kind kind; /* the file's, or costs for a --split debit */
} pending;

/* Records copied out of the reader's buffers: one batch. */
typedef struct {
	pending *rows;
	size_t n;
	arena_t text; /* the rows' text */
	rollup_acc_t *acc; /* the reader's full accumulator: flushed after the rows */
} chunk;

struct import_writer {
	store_conn_t *w;
	entity_kind kind;
	int64_t org;
	/* the caller's: every row's own rollup deltas, summed as it reads */
	rollup_acc_t *racc;
	/* the caller's: the monthly cells and magnitude kept back (hand_over) */
	rollup_acc_t *mracc;
	/* emptied accumulators the reader takes for its next (chunk_clear):
	 * as many as the ring can have in flight, kept, never grown anew */
	rollup_acc_t *spares[WRITER_CHUNKS];
	int nspares;
	/* the writer thread's (the caller's once it has stopped): what
	 * replaced rows take back */
	rollup_acc_t *acc;
	/* the open receivables of the rows inserted, summed here while their
	 * trigger is suspended (recv_in_acc) */
	rollup_acc_t *recv;
	bool recv_in_acc;
	bool bulk;                          /* the backend has a bulk path */
	store_batch_t *batch[ENT__COUNT];   /* per kind, made at its first row */
	bool *inserted;
	size_t *pos; /* a batch's row i is the chunk's row pos[i] */
	bool checked[ENT__COUNT]; /* store_batch_bulk was considered */
	uint64_t inserted_n, replaced_n;
	/* the reader fills chunks[fill] while the writer writes the others */
	chunk chunks[WRITER_CHUNKS];
	int fill, next;       /* next: the chunk the writer takes next */
	pthread_t tid;
	bool started;
	pthread_mutex_t mu;   /* guards what follows */
	pthread_cond_t cv;
	bool busy[WRITER_CHUNKS]; /* handed to the writer, not yet written */
	bool stop;
	bool failed;
	char err[400];
};

static void keep(chunk *c, entity_kind k, const record_t *rec, uint64_t line)
{
	/* made at the chunk's first row: a small import fills one chunk of
	 * the ring, and needs 2.5 MB, not 20 */
	if (!c->rows)
		c->rows = xmalloc(BATCH_ROWS * sizeof *c->rows);
	pending *p = &c->rows[c->n++];
	p->rec = *rec;
	p->line = line;
	p->kind = k;
	for (int i = 0; i < entity_get(k)->ncols; i++)
		if (rec->present[i] && rec->raw[i].len)
			p->rec.raw[i].p = arena_copy(&c->text, rec->raw[i].p, rec->raw[i].len);
}

/* Empties a written chunk; its accumulator goes back to the reader (a
 * table of 16k+ cells, its dims and sort arrays are costly to grow anew:
 * page faults were a tenth of the reader's time). */
static void chunk_clear(import_writer *iw, chunk *c)
{
	if (c->acc) {
		rollup_acc_reset(c->acc);
		pthread_mutex_lock(&iw->mu);
		if (iw->nspares < WRITER_CHUNKS) {
			iw->spares[iw->nspares++] = c->acc;
			c->acc = NULL;
		}
		pthread_mutex_unlock(&iw->mu);
		rollup_acc_free(c->acc);
		c->acc = NULL;
	}
	c->n = 0;
	arena_reset(&c->text);
}

/* Records the first failure (the writer's or the caller's). */
static void set_failed(import_writer *iw, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_failed(import_writer *iw, const char *fmt, ...)
{
	pthread_mutex_lock(&iw->mu);
	if (!iw->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(iw->err, sizeof iw->err, fmt, ap);
		va_end(ap);
		iw->failed = true;
	}
	pthread_mutex_unlock(&iw->mu);
}

/* False with the first failure in err, if there was one. */
static bool check(import_writer *iw, char *err, size_t errlen)
{
	pthread_mutex_lock(&iw->mu);
	bool ok = !iw->failed;
	if (!ok)
		snprintf(err, errlen, "%s", iw->err);
	pthread_mutex_unlock(&iw->mu);
	return ok;
}

static bool flush_rollups(import_writer *iw, rollup_acc_t *acc)
{
	int rc = rollup_flush(acc, iw->w);
	if (rc == ROLLUP_E_BOUND)
		set_failed(iw, "%s", rollup_bound_reason());
	else if (rc != 0)
		set_failed(iw, "store error while updating rollups: %s; nothing was stored", store_errmsg(iw->w));
	return rc == 0;
}

/* Stores one row by the row-by-row path (replace when its id exists).
 * The reader summed its deltas: a replacement takes back the old row's.
 * A replacement's open receivable moves by the UPDATE's trigger, which
 * finds the old one's row in open_recv only once what is summed here
 * was written: that goes first. */
static bool upsert(import_writer *iw, const pending *p)
{
	bool replaced;
	char why[320];
	if (iw->recv_in_acc && rollup_pending(iw->recv) && !flush_rollups(iw, iw->recv))
		return false;
	if (entity_upsert_counted(iw->w, p->kind, iw->org, &p->rec, iw->acc, &replaced, why, sizeof why) != 0) {
		set_failed(iw, "line %llu: %s; nothing was stored", (unsigned long long)p->line, why);
		return false;
	}
	if (replaced) {
		iw->replaced_n++;
	} else {
		iw->inserted_n++;
		if (iw->recv_in_acc)
			entity_open_recv(iw->recv, p->kind, +1, &p->rec);
	}
	return true;
}

/* DESIGN (open receivables)
 * An invoice import of more than a chunk sums the open receivables of
 * the rows it inserts itself (entity_insert_trigger), where the store
 * lets it suspend the trigger doing it row by row (SQLite). */
static bool suspend_trigger(import_writer *iw, entity_kind k)
{
	const char *trig = entity_insert_trigger(k);
	if (!trig)
		return true;
	char why[320];
	int rc = store_suspend_trigger(iw->w, trig, why, sizeof why);
	if (rc < 0) {
		set_failed(iw, "store error: %s; nothing was stored", why);
		return false;
	}
	iw->recv_in_acc = rc == 1;
	return true;
}

/* DESIGN (bulk or not)
 * Building the date indexes at the commit (one sort) beats inserting
 * their entries row by row only when the rows come in no order: a file
 * in date order (most exports) appends each entry at the index's end,
 * which costs less CPU than the sort (measured, 1M rows: 4% less for
 * costs, 5% for invoices) and no sorter memory at the commit (16-27 MB
 * less at the peak), while a shuffled file took 19% more CPU without it.
 * The first chunk tells: dated rows going back at most once in a hundred. */
static bool date_ordered(const chunk *c, entity_kind k)
{
	size_t back = 0, n = 0;
	date_t last = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (c->rows[i].kind != k)
			continue;
		date_t d = entity_row_day(k, &c->rows[i].rec);
		back += n++ && d < last;
		last = d;
	}
	return back * 100 <= n;
}

/* Writes the chunk's rows of kind k: the new ones in one batch, the
 * others replaced in file order. */
static bool write_kind(import_writer *iw, chunk *c, entity_kind k)
{
	char why[320];
	if (!iw->batch[k]) {
		iw->batch[k] = entity_batch_new(iw->w, k);
		if (!iw->batch[k]) {
			set_failed(iw, "store error: %s; nothing was stored", store_errmsg(iw->w));
			return false;
		}
	}
	/* A file of more than one chunk, not in date order, into an empty
	 * table: its indexes are built at the commit (store_batch_bulk). */
	if (!iw->checked[k]) {
		iw->checked[k] = true;
		if (c->n == BATCH_ROWS && !date_ordered(c, k) && store_batch_bulk(iw->batch[k], why, sizeof why) != 0) {
			set_failed(iw, "store error: %s; nothing was stored", why);
			return false;
		}
		if (c->n == BATCH_ROWS && !suspend_trigger(iw, k))
			return false;
		/* more than a chunk: the store may start writing back (store.h) */
		if (c->n == BATCH_ROWS)
			store_write_long(iw->w);
	}
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->rows[i].kind == k) {
			entity_batch_add(iw->batch[k], k, iw->org, &c->rows[i].rec);
			iw->pos[n++] = i;
		}
	if (!n)
		return true;
	if (store_batch_run(iw->batch[k], iw->inserted, why, sizeof why) != 0) {
		set_failed(iw, "lines %llu-%llu: store error: %s; nothing was stored",
		           (unsigned long long)c->rows[iw->pos[0]].line, (unsigned long long)c->rows[iw->pos[n - 1]].line, why);
		return false;
	}
	for (size_t j = 0; j < n; j++) {
		const pending *p = &c->rows[iw->pos[j]];
		if (iw->inserted[j]) {
			iw->inserted_n++;
			if (iw->recv_in_acc)
				entity_open_recv(iw->recv, k, +1, &p->rec);
		} else if (!upsert(iw, p)) {
			return false;
		}
	}
	return true;
}

/* Writes one chunk (writer thread): per kind (two with --split), new rows
 * in one batch, the others replaced in file order; then the rollup cells
 * the reader handed over with it, past the bound (high-cardinality
 * rollups, a cell per customer and day, would otherwise grow with the
 * file), already sorted. */
static bool write_chunk(import_writer *iw, chunk *c)
{
	if (!iw->bulk) {
		for (size_t i = 0; i < c->n; i++)
			if (!upsert(iw, &c->rows[i]))
				return false;
	} else {
		bool seen[ENT__COUNT] = {false};
		for (size_t i = 0; i < c->n; i++)
			seen[c->rows[i].kind] = true;
		for (int k = 0; k < ENT__COUNT; k++)
			if (seen[k] && !write_kind(iw, c, (entity_kind)k))
				return false;
	}
	if (c->acc && !flush_rollups(iw, c->acc))
		return false;
	return rollup_pending(iw->acc) <= ROLLUP_FLUSH_CELLS || flush_rollups(iw, iw->acc);
}

static void *writer_main(void *arg)
{
	import_writer *iw = arg;
	pthread_mutex_lock(&iw->mu);
	for (;;) {
		while (!iw->busy[iw->next] && !iw->stop)
			pthread_cond_wait(&iw->cv, &iw->mu);
		if (!iw->busy[iw->next])
			break; /* stopped with nothing left */
		chunk *c = &iw->chunks[iw->next];
		bool skip = iw->failed; /* abandoned or failed: only drain */
		pthread_mutex_unlock(&iw->mu);
		if (!skip)
			write_chunk(iw, c);
		chunk_clear(iw, c);
		pthread_mutex_lock(&iw->mu);
		iw->busy[iw->next] = false;
		iw->next = (iw->next + 1) % WRITER_CHUNKS;
		pthread_cond_broadcast(&iw->cv);
	}
	pthread_mutex_unlock(&iw->mu);
	return NULL;
}

import_writer *import_writer_new(store_conn_t *w, entity_kind k, int64_t org)
{
	import_writer *iw = xcalloc(1, sizeof *iw);
	iw->w = w;
	iw->kind = k;
	iw->org = org;
	iw->acc = rollup_acc_new(org);
	iw->racc = rollup_acc_new(org);
	iw->mracc = rollup_acc_new(org);
	iw->recv = rollup_acc_new(org);
	iw->batch[k] = entity_batch_new(w, k);
	iw->bulk = iw->batch[k] != NULL;
	iw->inserted = xmalloc(BATCH_ROWS * sizeof *iw->inserted);
	iw->pos = xmalloc(BATCH_ROWS * sizeof *iw->pos);
	pthread_mutex_init(&iw->mu, NULL);
	pthread_cond_init(&iw->cv, NULL);
	/* Without a thread (none could be started) the caller writes. */
	iw->started = pthread_create(&iw->tid, NULL, writer_main, iw) == 0;
	return iw;
}

/* DESIGN (who sums what)
 * The reader is the less busy thread (a quarter to a third of the
 * writer's CPU): it adds every row's rollup deltas as it reads, before
 * anyone knows whether the row is new or replaces one (its deltas are
 * the same either way), and sorts the cells before it hands them over
 * with a chunk once they pass the bound; the writer only takes back what
 * replaced rows held and writes the cells.
 * The cells handed over are the daily ones: the monthly cells and the
 * org's magnitude row stay with the reader (up to ROLLUP_MONTHLY_CELLS,
 * then they go too) and are written by the last flush. Their keys sort
 * after every daily one of the org (metric | ROLLUP_MONTHLY, then
 * ROLLUP_MAGNITUDE), so while they are not written, a date-ordered file's
 * daily cells of its last metric append at the end of the org's part of
 * the rollup index: the end of the b-tree in a store of one org, where
 * SQLite skips the descent and splits pages the cheap way (1M sales
 * orders, 485k customer-day cells: the writer's rollup CPU 0.88 -> 0.51 s,
 * the last flush after the rows 0.09 -> 0.18 s). The sums are the same;
 * the bound on the magnitude is checked at the last flush, before the
 * commit. */

/* Gives the reader an accumulator again after it handed its own over. */
static void take_spare(import_writer *iw)
{
	if (iw->racc)
		return;
	pthread_mutex_lock(&iw->mu);
	if (iw->nspares)
		iw->racc = iw->spares[--iw->nspares];
	pthread_mutex_unlock(&iw->mu);
	if (!iw->racc)
		iw->racc = rollup_acc_new(iw->org);
}

/* Hands the chunk being filled to the writer and waits for the next free one. */
static void hand_over(import_writer *iw)
{
	chunk *c = &iw->chunks[iw->fill];
	if (rollup_pending(iw->racc) > ROLLUP_FLUSH_CELLS) {
		rollup_split_monthly(iw->racc, iw->mracc);
		if (rollup_pending(iw->mracc) > ROLLUP_MONTHLY_CELLS)
			rollup_acc_merge(iw->racc, iw->mracc);
		rollup_seal(iw->racc);
		c->acc = iw->racc;
		iw->racc = NULL;
	}
	if (!iw->started) {
		write_chunk(iw, &iw->chunks[iw->fill]);
		chunk_clear(iw, &iw->chunks[iw->fill]);
		take_spare(iw);
		return;
	}
	pthread_mutex_lock(&iw->mu);
	iw->busy[iw->fill] = true;
	iw->fill = (iw->fill + 1) % WRITER_CHUNKS;
	pthread_cond_broadcast(&iw->cv);
	while (iw->busy[iw->fill])
		pthread_cond_wait(&iw->cv, &iw->mu);
	pthread_mutex_unlock(&iw->mu);
	take_spare(iw);
}

bool import_writer_add(import_writer *iw, entity_kind k, const record_t *rec, uint64_t line, char *err,
                       size_t errlen)
{
	chunk *c = &iw->chunks[iw->fill];
	keep(c, k, rec, line);
	entity_inserted(iw->racc, k, rec);
	if (c->n == BATCH_ROWS)
		hand_over(iw);
	return check(iw, err, errlen);
}

/* Stops the writer thread once it has written what it was handed (or at
 * once after a failure, or when abandon is set). */
static void stop_writer(import_writer *iw, bool abandon)
{
	if (!iw->started)
		return;
	pthread_mutex_lock(&iw->mu);
	iw->stop = true;
	if (abandon)
		iw->failed = true;
	pthread_cond_broadcast(&iw->cv);
	pthread_mutex_unlock(&iw->mu);
	pthread_join(iw->tid, NULL);
	iw->started = false;
}

bool import_writer_finish(import_writer *iw, char *err, size_t errlen)
{
	if (iw->chunks[iw->fill].n)
		hand_over(iw);
	/* sorted while the writer still writes the last chunks: the monthly
	 * cells are the reader's alone */
	rollup_seal(iw->mracc);
	stop_writer(iw, false);
	/* The connection is the caller's again: one flush of what is left,
	 * with the retractions, so the bound checks the sum of additions and
	 * retractions; then the monthly cells, in key order after the daily
	 * ones (hand_over). Their magnitude only adds, so the first check
	 * refuses nothing the sum of both would pass, and the second refuses
	 * what one check of the sum refused. */
	rollup_acc_merge(iw->racc, iw->acc);
	rollup_acc_merge(iw->racc, iw->recv);
	if (check(iw, err, errlen))
		flush_rollups(iw, iw->racc);
	if (check(iw, err, errlen))
		flush_rollups(iw, iw->mracc);
	return check(iw, err, errlen);
}

void import_writer_counts(const import_writer *iw, uint64_t *inserted, uint64_t *replaced)
{
	*inserted = iw->inserted_n;
	*replaced = iw->replaced_n;
}

void import_writer_free(import_writer *iw)
{
	if (!iw)
		return;
	stop_writer(iw, true);
	for (int k = 0; k < ENT__COUNT; k++)
		store_batch_free(iw->batch[k]);
	rollup_acc_free(iw->acc);
	rollup_acc_free(iw->racc);
	rollup_acc_free(iw->mracc);
	for (int i = 0; i < iw->nspares; i++)
		rollup_acc_free(iw->spares[i]);
	rollup_acc_free(iw->recv);
	for (int i = 0; i < WRITER_CHUNKS; i++) {
		rollup_acc_free(iw->chunks[i].acc);
		arena_free(&iw->chunks[i].text);
		free(iw->chunks[i].rows);
	}
	pthread_mutex_destroy(&iw->mu);
	pthread_cond_destroy(&iw->cv);
	free(iw->inserted);
	free(iw->pos);
	free(iw);
}
