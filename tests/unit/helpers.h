/* helpers: small pieces shared by the unit tests (header only, static
 * inline, so every test executable stays one file): an in-memory CSV read
 * callback that can hand out its bytes in chunks of any size, temporary
 * directories, a deterministic PRNG so failures reproduce, and a store in a
 * temporary directory with imports into it and plain-SQL checks of it. */
#ifndef BRISK_TEST_HELPERS_H
#define BRISK_TEST_HELPERS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw flags */
#endif
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/buf.h"
#include "ingest/import.h"
#include "store/store.h"

/* ---- an in-memory reader for csv_read_fn ---- */

typedef struct {
	const char *p;
	size_t len, pos;
	size_t chunk; /* at most this many bytes per call; 0 = as many as asked */
	int fail_at;  /* return -1 once pos reaches this (-1 = never) */
} mem_reader;

static inline mem_reader mem_reader_of(const char *p, size_t len, size_t chunk)
{
	return (mem_reader){p, len, 0, chunk, -1};
}

static inline ssize_t mem_read(void *ud, char *buf, size_t n)
{
	mem_reader *m = ud;
	if (m->fail_at >= 0 && m->pos >= (size_t)m->fail_at)
		return -1;
	size_t left = m->len - m->pos;
	if (m->chunk && n > m->chunk)
		n = m->chunk;
	if (n > left)
		n = left;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/* A csv_read_fn over a file descriptor (ud points at the int). */
static inline ssize_t fd_read(void *ud, char *buf, size_t n)
{
	return read(*(int *)ud, buf, n);
}

/* ---- temporary directories ---- */

/* A fresh empty directory under /tmp; caller frees the path with
 * tmpdir_remove. */
static inline char *tmpdir_new(void)
{
	char tmpl[] = "/tmp/brisk-unit-XXXXXX";
	char *d = mkdtemp(tmpl);
	cr_assert_not_null(d, "mkdtemp failed");
	return strdup(d);
}

static inline int tmpdir_unlink_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes dir and everything below it, then frees the path. */
static inline void tmpdir_remove(char *dir)
{
	if (!dir)
		return;
	nftw(dir, tmpdir_unlink_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* ---- deterministic randomness ---- */

/* xorshift64: never returns 0 for a non-zero state. */
static inline uint64_t test_rng(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* Uniform-enough integer in [0, n). */
static inline size_t test_rng_below(uint64_t *state, size_t n)
{
	return n ? (size_t)(test_rng(state) % n) : 0;
}

/* ---- a store in a temporary directory ---- */

typedef struct {
	char *dir;
	store_t *store;
	int64_t org;
} store_fx;

/* Opens a fresh store and creates organisation slug in it. */
static inline void store_fx_open(store_fx *fx, const char *slug)
{
	char err[256] = "";
	fx->dir = tmpdir_new();
	fx->store = store_open(fx->dir, NULL, err, sizeof err);
	cr_assert_not_null(fx->store, "store_open: %s", err);
	fx->org = store_org_id(fx->store, slug, true, err, sizeof err);
	cr_assert_geq(fx->org, 0, "store_org_id: %s", err);
}

/* Closes the store, keeping its directory (to reopen it). */
static inline void store_fx_shut(store_fx *fx)
{
	store_close(fx->store);
	fx->store = NULL;
}

static inline void store_fx_reopen(store_fx *fx)
{
	char err[256] = "";
	fx->store = store_open(fx->dir, NULL, err, sizeof err);
	cr_assert_not_null(fx->store, "store_open again: %s", err);
}

static inline void store_fx_close(store_fx *fx)
{
	store_close(fx->store);
	tmpdir_remove(fx->dir);
	memset(fx, 0, sizeof *fx);
}

/* A separate plain sqlite3 connection to the store's file: what another
 * process would see, and a way to check results without the code under
 * test. Caller closes it with sqlite3_close. */
static inline sqlite3 *store_fx_db(const store_fx *fx)
{
	char path[4096];
	sqlite3 *db = NULL;
	snprintf(path, sizeof path, "%s/brisk.db", fx->dir);
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK, "open %s", path);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* The first column of the first row of sql (0 if none). */
static inline int64_t db_i64(const store_fx *fx, const char *sql)
{
	sqlite3 *db = store_fx_db(fx);
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
	int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Every row of sql as text, columns joined by '|', rows by '\n' (caller
 * frees): for comparing whole tables before and after. */
static inline char *db_text(const store_fx *fx, const char *sql)
{
	sqlite3 *db = store_fx_db(fx);
	sqlite3_stmt *st = NULL;
	buf_t b = BUF_INIT;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const unsigned char *t = sqlite3_column_text(st, i);
			if (i)
				buf_putc(&b, '|');
			buf_puts(&b, t ? (const char *)t : "NULL");
		}
		buf_putc(&b, '\n');
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	buf_putc(&b, '\0');
	return buf_steal(&b);
}

/* Import options for kind into the fixture's org (everything else zero). */
static inline import_opts fx_opts(const store_fx *fx, entity_kind kind)
{
	import_opts o;
	memset(&o, 0, sizeof o);
	o.kind = kind;
	o.org = fx->org;
	return o;
}

/* Imports csv text with o; returns import_run's result code. */
static inline int fx_import(store_fx *fx, const import_opts *o, const char *csv, size_t len, import_result *res,
                            char *err, size_t errlen)
{
	mem_reader m = mem_reader_of(csv, len, 0);
	err[0] = '\0';
	return import_run(fx->store, mem_read, &m, o, res, err, errlen);
}

/* Imports a file, asserting success. */
static inline void fx_import_file(store_fx *fx, entity_kind kind, const char *path, import_result *res)
{
	char err[512] = "";
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0, "open %s", path);
	import_opts o = fx_opts(fx, kind);
	int rc = import_run(fx->store, fd_read, &fd, &o, res, err, sizeof err);
	close(fd);
	cr_assert_eq(rc, 0, "import %s: %s", path, err);
}

#endif
