#include "store/rollup.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/money.h"

/* DESIGN
 * An import of a million rows touches a few tens of thousands of rollup
 * cells; summing them in an open-addressing table and upserting once per
 * cell at commit costs far less than an upsert per row. */

typedef struct {
	uint64_t hash;
	int32_t metric;
	date_t day;
	const char *dim; /* in the accumulator's arena */
	uint32_t dimlen; /* dims are entity text: at most ENTITY_MAX_TEXT bytes */
	bool derived;    /* a daily cell whose sums its monthly cell holds (derive) */
	int64_t cnt, total;
} cell_t;

/* Open receivables (the open_recv table, by due date) ride along as
 * cells of a metric no rollup row has. */
#define RECV_METRIC 0x10000

/* A cell to sort: its key's head in two integers that order as the key
 * does (metric and day; the dim's first 8 bytes, zero-padded), so most
 * comparisons touch neither the cell nor its dim. */
typedef struct {
	uint64_t md, dim8;
	cell_t *c;
} sort_key;

/* Open addressing, kept under 3/4 full. */
typedef struct {
	cell_t *cells;
	size_t cap, n;
} table_t;

/* DESIGN (two tables)
 * Daily cells (and open receivables) and monthly ones live in tables of
 * their own, so that an importer can hand the daily ones to its writer
 * and keep the monthly ones (rollup_split_monthly) by moving a table, not
 * every cell. Dims are copied into an arena: an import adds a new cell
 * for about every other row (a customer's day), and a malloc and a free
 * each cost more than the rest of the cell. */
struct rollup_acc {
	int64_t org;
	table_t t[2];          /* [0] daily and open receivables, [1] monthly */
	arena_t dims;          /* the cells' dims; reset when both are empty */
	int64_t mag_cnt, mag;  /* pending change of the org's magnitude row */
	bool overflow;         /* a pending delta left int64: flush refuses */
	sort_key *order;       /* rollup_seal's: every cell in key order */
	sort_key *order_tmp;   /* its merge sort's (both order_cap long) */
	cell_t *sorted;        /* the cells order points at, copied in its order */
	size_t order_cap;
	bool sealed;           /* order is current (no cell added or moved) */
};

static void table_init(table_t *t)
{
	t->cap = 1024;
	t->n = 0;
	t->cells = xcalloc(t->cap, sizeof *t->cells);
}

static void table_clear(table_t *t)
{
	if (t->n)
		memset(t->cells, 0, t->cap * sizeof *t->cells);
	t->n = 0;
}

rollup_acc_t *rollup_acc_new(int64_t org)
{
	rollup_acc_t *a = xcalloc(1, sizeof *a);
	a->org = org;
	table_init(&a->t[0]);
	table_init(&a->t[1]);
	return a;
}

/* Empties both tables, keeping their memory and the arena's blocks. */
static void clear_cells(rollup_acc_t *a)
{
	table_clear(&a->t[0]);
	table_clear(&a->t[1]);
	arena_reset(&a->dims);
	a->sealed = false;
}

void rollup_acc_reset(rollup_acc_t *a)
{
	clear_cells(a);
	a->mag_cnt = a->mag = 0;
	a->overflow = false;
}

void rollup_acc_free(rollup_acc_t *a)
{
	if (!a)
		return;
	free(a->t[0].cells);
	free(a->t[1].cells);
	arena_free(&a->dims);
	free(a->order);
	free(a->order_tmp);
	free(a->sorted);
	free(a);
}

static uint64_t cell_hash(int32_t m, date_t day, const char *dim, size_t len)
{
	uint64_t seed = ((uint64_t)(uint32_t)m << 32) ^ (uint32_t)day;
	return XXH3_64bits_withSeed(dim, len, seed) | 1; /* 0 marks an empty slot */
}

static void grow(table_t *t)
{
	cell_t *old = t->cells;
	size_t oldcap = t->cap;
	t->cap *= 2;
	t->cells = xcalloc(t->cap, sizeof *t->cells);
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].hash)
			continue;
		size_t j = old[i].hash & (t->cap - 1);
		while (t->cells[j].hash)
			j = (j + 1) & (t->cap - 1);
		t->cells[j] = old[i];
	}
	free(old);
}

/* Adds to the cell (m, day, dim), made if new; returns it (valid until
 * the next add). */
static cell_t *add_cell(rollup_acc_t *a, int32_t m, date_t day, const char *dim, size_t len, int64_t cnt,
                        int64_t total)
{
	table_t *t = &a->t[m != RECV_METRIC && (m & ROLLUP_MONTHLY)];
	if ((t->n + 1) * 4 > t->cap * 3)
		grow(t);
	uint64_t h = cell_hash(m, day, dim, len);
	size_t j = h & (t->cap - 1);
	for (;; j = (j + 1) & (t->cap - 1)) {
		cell_t *c = &t->cells[j];
		if (!c->hash) {
			c->hash = h;
			c->metric = m;
			c->day = day;
			c->dim = arena_copy(&a->dims, dim, len);
			c->dimlen = (uint32_t)len;
			c->derived = false;
			c->cnt = cnt;
			c->total = total;
			t->n++;
			a->sealed = false;
			return c;
		}
		if (c->hash == h && c->metric == m && c->day == day && c->dimlen == len &&
		    memcmp(c->dim, dim, len) == 0) {
			if (__builtin_add_overflow(c->cnt, cnt, &c->cnt) ||
			    __builtin_add_overflow(c->total, total, &c->total))
				a->overflow = true;
			a->sealed = false; /* the sorted copy (rollup_seal) is stale */
			return c;
		}
	}
}

/* The metric each row feeds exactly once: the magnitude counts these. */
static bool primary_metric(rollup_metric m)
{
	return m == ROLLUP_CASH_IN || m == ROLLUP_COSTS_CATEGORY || m == ROLLUP_SALES_STATUS ||
	       m == ROLLUP_INVOICED || m == ROLLUP_LEADS || m == ROLLUP_CASH_IN_FX || m == ROLLUP_INVOICED_FX;
}

void rollup_add(rollup_acc_t *a, rollup_metric m, date_t day, const char *dim, size_t dimlen, int64_t cnt,
                int64_t total)
{
	if (primary_metric(m) && cnt) {
		/* Clamped like the migration that seeded the row, so retracting
		 * a row stored before the bound existed gives back what it added. */
		uint64_t u = total < 0 ? (uint64_t)0 - (uint64_t)total : (uint64_t)total;
		int64_t mag = u >= (uint64_t)MONEY_MAX_ABS ? MONEY_MAX_ABS - 1 : (int64_t)u;
		if (__builtin_add_overflow(a->mag_cnt, cnt, &a->mag_cnt) ||
		    __builtin_add_overflow(a->mag, cnt < 0 ? -mag : mag, &a->mag))
			a->overflow = true;
	}
	if (add_cell(a, (int32_t)m, day, dim, dimlen, cnt, total)->derived)
		add_cell(a, (int32_t)m | ROLLUP_MONTHLY, date_bucket_start(day, INTERVAL_MONTH), dim, dimlen, cnt, total);
}

/* DESIGN (monthly cells)
 * A row adds to its daily cell only; the monthly cells are summed from
 * the daily ones when they are needed (a seal, a split, a merge), one add
 * per daily cell instead of one per row: at 1M sales orders, 485k adds
 * to the customers' monthly cells instead of 970k. A daily cell once
 * counted in its monthly one (derived) passes any later add on at once. */
static void derive(rollup_acc_t *a)
{
	table_t *t = &a->t[0];
	for (size_t i = 0; i < t->cap; i++) {
		cell_t *c = &t->cells[i];
		if (!c->hash || c->derived || c->metric == RECV_METRIC)
			continue;
		c->derived = true;
		add_cell(a, c->metric | ROLLUP_MONTHLY, date_bucket_start(c->day, INTERVAL_MONTH), c->dim, c->dimlen,
		         c->cnt, c->total);
	}
}

const char *rollup_bound_reason(void)
{
	return "the organisation's totals would exceed the supported range (the sum of |amount| over its rows "
	       "must stay below 2^62 cents); nothing was stored";
}

/* Moves the org's magnitude row by the pending delta, refusing to leave
 * [0, ROLLUP_MAGNITUDE_MAX]. Read, check in C, write: SQLite's "+" would turn
 * an overflow into a REAL instead of failing. */
static int flush_magnitude(rollup_acc_t *a, store_conn_t *w)
{
	static const char *get = "SELECT cnt, total FROM rollup WHERE org = ? AND metric = ? AND day = 0 AND dim = ''";
	static const char *put = "INSERT INTO rollup(org, metric, day, dim, cnt, total) VALUES(?, ?, 0, '', ?, ?) "
	                         "ON CONFLICT(org, metric, day, dim) DO UPDATE SET cnt = excluded.cnt, "
	                         "total = excluded.total";
	if (a->overflow)
		return ROLLUP_E_BOUND;
	if (a->mag_cnt == 0 && a->mag == 0)
		return 0;
	int64_t cnt = 0, mag = 0;
	store_stmt_t *st = store_prepare(w, get);
	store_bind_i64(st, 1, a->org);
	store_bind_i64(st, 2, ROLLUP_MAGNITUDE);
	store_status rc = store_step(st);
	if (rc == STORE_ROW) {
		cnt = store_col_i64(st, 0);
		mag = store_col_i64(st, 1);
	}
	store_reset(st);
	if (rc != STORE_ROW && rc != STORE_DONE)
		return -1;
	/* A write that lowers the magnitude always passes, so an org seeded
	 * above the bound by old data can still delete its way back. */
	if (__builtin_add_overflow(cnt, a->mag_cnt, &cnt) || __builtin_add_overflow(mag, a->mag, &mag) ||
	    (a->mag > 0 && mag > ROLLUP_MAGNITUDE_MAX))
		return ROLLUP_E_BOUND;
	if (mag < 0)
		mag = 0; /* only rows stored before the bound can get here */
	st = store_prepare(w, put);
	store_bind_i64(st, 1, a->org);
	store_bind_i64(st, 2, ROLLUP_MAGNITUDE);
	store_bind_i64(st, 3, cnt);
	store_bind_i64(st, 4, mag);
	rc = store_step(st);
	store_reset(st);
	return rc == STORE_DONE ? 0 : -1;
}

/* (metric, day, dim) order, as the rollup table's key. Dims compare as
 * bytes, as SQLite's BINARY collation does. */
static int cell_cmp(const cell_t *a, const cell_t *b)
{
	if (a->metric != b->metric)
		return a->metric < b->metric ? -1 : 1;
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	size_t n = a->dimlen < b->dimlen ? a->dimlen : b->dimlen;
	int c = memcmp(a->dim, b->dim, n);
	return c ? c : (a->dimlen > b->dimlen) - (a->dimlen < b->dimlen);
}

static inline bool key_less(const sort_key *a, const sort_key *b)
{
	if (a->md != b->md)
		return a->md < b->md;
	if (a->dim8 != b->dim8)
		return a->dim8 < b->dim8;
	return cell_cmp(a->c, b->c) < 0;
}

/* Merge sort of k[0..n) with tmp of the same size: qsort's calls through
 * a pointer and its malloc of a buffer per call were a tenth of a
 * seal. */
static void sort_keys(sort_key *k, sort_key *tmp, size_t n)
{
	if (n <= 16) {
		for (size_t i = 1; i < n; i++) {
			sort_key v = k[i];
			size_t j = i;
			for (; j > 0 && key_less(&v, &k[j - 1]); j--)
				k[j] = k[j - 1];
			k[j] = v;
		}
		return;
	}
	size_t h = n / 2;
	sort_keys(k, tmp, h);
	sort_keys(k + h, tmp + h, n - h);
	if (!key_less(&k[h], &k[h - 1]))
		return; /* already in order: a date-ordered file's usual case */
	memcpy(tmp, k, n * sizeof *k);
	size_t i = 0, j = h, o = 0;
	while (i < h && j < n)
		k[o++] = key_less(&tmp[j], &tmp[i]) ? tmp[j++] : tmp[i++];
	while (i < h)
		k[o++] = tmp[i++];
	while (j < n)
		k[o++] = tmp[j++];
}

static sort_key key_of(cell_t *c)
{
	sort_key k = {((uint64_t)(uint32_t)c->metric << 32) | ((uint32_t)c->day ^ 0x80000000u), 0, c};
	for (size_t i = 0; i < 8; i++)
		k.dim8 = k.dim8 << 8 | (i < c->dimlen ? (unsigned char)c->dim[i] : 0);
	return k;
}

static size_t pending(const rollup_acc_t *a)
{
	return a->t[0].n + a->t[1].n;
}

void rollup_seal(rollup_acc_t *a)
{
	if (a->sealed)
		return;
	derive(a);
	if (a->order_cap < pending(a) + 1) {
		free(a->order);
		free(a->order_tmp);
		free(a->sorted);
		a->order_cap = pending(a) + 1;
		a->order = xmalloc(a->order_cap * sizeof *a->order);
		a->order_tmp = xmalloc(a->order_cap * sizeof *a->order_tmp);
		a->sorted = xmalloc(a->order_cap * sizeof *a->sorted);
	}
	size_t n = 0;
	for (int t = 0; t < 2; t++)
		for (size_t i = 0; i < a->t[t].cap; i++)
			if (a->t[t].cells[i].hash)
				a->order[n++] = key_of(&a->t[t].cells[i]);
	sort_keys(a->order, a->order_tmp, n);
	/* The flush (often another thread) then reads the cells in order from
	 * one array, not scattered over the hash table: the sealing thread
	 * takes the cache misses. */
	for (size_t i = 0; i < n; i++) {
		a->sorted[i] = *a->order[i].c;
		a->order[i].c = &a->sorted[i];
	}
	a->sealed = true;
}

void rollup_open_recv(rollup_acc_t *a, date_t due, int64_t cnt, int64_t total)
{
	add_cell(a, RECV_METRIC, due, "", 0, cnt, total);
}

/* Adds every cell of src's table t to dst; both derived (derive), so the
 * daily cells stay so. */
static void merge_table(rollup_acc_t *dst, const rollup_acc_t *src, int t)
{
	for (size_t i = 0; i < src->t[t].cap; i++) {
		const cell_t *c = &src->t[t].cells[i];
		if (c->hash)
			add_cell(dst, c->metric, c->day, c->dim, c->dimlen, c->cnt, c->total)->derived = c->derived;
	}
}

static void merge_magnitude(rollup_acc_t *dst, rollup_acc_t *src)
{
	if (__builtin_add_overflow(dst->mag_cnt, src->mag_cnt, &dst->mag_cnt) ||
	    __builtin_add_overflow(dst->mag, src->mag, &dst->mag))
		dst->overflow = true;
	src->mag_cnt = src->mag = 0;
}

void rollup_acc_merge(rollup_acc_t *dst, rollup_acc_t *src)
{
	derive(dst);
	derive(src);
	merge_table(dst, src, 0);
	merge_table(dst, src, 1);
	merge_magnitude(dst, src);
	if (src->overflow)
		dst->overflow = true;
	clear_cells(src);
	src->overflow = false;
}

void rollup_split_monthly(rollup_acc_t *a, rollup_acc_t *monthly)
{
	derive(a);
	if (!monthly->t[1].n) {
		/* the usual case, monthly empty: the tables trade places; the
		 * dims are in a's arena, so monthly takes a copy of them */
		table_t mine = a->t[1];
		a->t[1] = monthly->t[1];
		monthly->t[1] = mine;
		for (size_t i = 0; i < mine.cap; i++)
			if (mine.cells[i].hash)
				mine.cells[i].dim = arena_copy(&monthly->dims, mine.cells[i].dim, mine.cells[i].dimlen);
	} else {
		merge_table(monthly, a, 1);
		table_clear(&a->t[1]);
	}
	a->sealed = monthly->sealed = false;
	merge_magnitude(monthly, a);
}

/* The open receivables' cells (n, in due-date order) into open_recv. */
static int flush_recv(rollup_acc_t *a, store_conn_t *w, const sort_key *order, size_t n)
{
	static const char *up = "INSERT INTO open_recv(org, due_date, cnt, total) VALUES(?, ?, ?, ?) "
	                        "ON CONFLICT(org, due_date) DO UPDATE SET cnt = open_recv.cnt + excluded.cnt, "
	                        "total = open_recv.total + excluded.total";
	for (size_t i = 0; i < n; i++) {
		const cell_t *c = order[i].c;
		if (c->cnt == 0 && c->total == 0)
			continue;
		store_stmt_t *st = store_prepare(w, up);
		store_bind_i64(st, 1, a->org);
		store_bind_i64(st, 2, c->day);
		store_bind_i64(st, 3, c->cnt);
		store_bind_i64(st, 4, c->total);
		store_status rc = store_step(st);
		store_reset(st);
		if (rc != STORE_DONE)
			return -1;
	}
	return 0;
}

int rollup_flush(rollup_acc_t *a, store_conn_t *w)
{
	static const char *up =
		"INSERT INTO rollup(org, metric, day, dim, cnt, total) VALUES(?, ?, ?, ?, ?, ?) "
		"ON CONFLICT(org, metric, day, dim) DO UPDATE SET cnt = rollup.cnt + excluded.cnt, "
		"total = rollup.total + excluded.total";
	static const char *gc = "DELETE FROM rollup WHERE org = ? AND cnt = 0 AND total = 0";
	int rc = flush_magnitude(a, w);
	bool retracted = false;
	/* Cells are distinct keys: one bulk statement where the store has it,
	 * in key order, so the rollup index takes them as appends rather than
	 * at random places (the hash order). */
	rollup_seal(a);
	sort_key *order = a->order;
	size_t all = pending(a), n = all;
	while (n && order[n - 1].c->metric == RECV_METRIC)
		n--; /* they sort last */
	if (rc == 0)
		rc = flush_recv(a, w, order + n, all - n);
	store_batch_t *b = store_batch_new(w, up);
	for (size_t i = 0; i < n && rc == 0; i++) {
		cell_t *c = order[i].c;
		if (c->cnt == 0 && c->total == 0)
			continue;
		if (c->cnt < 0)
			retracted = true;
		store_stmt_t *st = b ? store_batch_stmt(b) : store_prepare(w, up);
		store_bind_i64(st, 1, a->org);
		store_bind_i64(st, 2, c->metric);
		store_bind_i64(st, 3, c->day);
		store_bind_text_nocopy(st, 4, c->dim, c->dimlen); /* freed after the run */
		store_bind_i64(st, 5, c->cnt);
		store_bind_i64(st, 6, c->total);
		if (b) {
			store_batch_row(b);
			continue;
		}
		if (store_step(st) != STORE_DONE)
			rc = -1;
		store_reset(st);
	}
	if (b) {
		char why[256];
		if (rc == 0 && store_batch_run(b, NULL, why, sizeof why) != 0) {
			log_error("store: rollups: %s", why);
			rc = -1;
		}
		store_batch_free(b);
	}
	if (rc == 0 && retracted) {
		/* Cells emptied by deletes/replacements would otherwise linger as
		 * phantom dims (an "other" category with zero rows). */
		store_stmt_t *st = store_prepare(w, gc);
		store_bind_i64(st, 1, a->org);
		if (store_step(st) != STORE_DONE)
			rc = -1;
		store_reset(st);
	}
	clear_cells(a);
	a->mag_cnt = a->mag = 0;
	a->overflow = false;
	return rc;
}

size_t rollup_pending(const rollup_acc_t *a)
{
	return pending(a);
}

static void sum_rows(store_conn_t *c, int64_t org, int32_t m, date_t from, date_t to, const char *dim,
                     int64_t *cnt, int64_t *total)
{
	static const char *q_all = "SELECT coalesce(sum(cnt),0), coalesce(sum(total),0) FROM rollup "
	                           "WHERE org = ? AND metric = ? AND day BETWEEN ? AND ?";
	static const char *q_dim = "SELECT coalesce(sum(cnt),0), coalesce(sum(total),0) FROM rollup "
	                           "WHERE org = ? AND metric = ? AND day BETWEEN ? AND ? AND dim = ?";
	if (from > to)
		return;
	store_stmt_t *st = store_prepare(c, dim ? q_dim : q_all);
	store_bind_i64(st, 1, org);
	store_bind_i64(st, 2, m);
	store_bind_i64(st, 3, from);
	store_bind_i64(st, 4, to);
	if (dim)
		store_bind_text(st, 5, dim, strlen(dim));
	if (store_step(st) == STORE_ROW) {
		*cnt += store_col_i64(st, 0);
		*total += store_col_i64(st, 1);
	}
	store_reset(st);
}

void rollup_sum(store_conn_t *c, int64_t org, rollup_metric m, date_t from, date_t to, const char *dim,
                int64_t *cnt, int64_t *total)
{
	*cnt = *total = 0;
	if (from > to)
		return;
	/* Whole months strictly inside [from, to] come from monthly rows. */
	date_t m_first = date_bucket_start(from, INTERVAL_MONTH);
	if (m_first < from)
		m_first = date_bucket_next(from, INTERVAL_MONTH);
	date_t m_end = date_bucket_start(to + 1, INTERVAL_MONTH); /* exclusive */
	if (m_first >= m_end) {
		sum_rows(c, org, (int32_t)m, from, to, dim, cnt, total);
		return;
	}
	sum_rows(c, org, (int32_t)m, from, m_first - 1, dim, cnt, total);
	sum_rows(c, org, (int32_t)m | ROLLUP_MONTHLY, m_first, m_end - 1, dim, cnt, total);
	sum_rows(c, org, (int32_t)m, m_end, to, dim, cnt, total);
}
