/* helpers: small pieces shared by the unit tests (header only, static
 * inline, so every test executable stays one file): an in-memory CSV read
 * callback that can hand out its bytes in chunks of any size, temporary
 * data directories, and a deterministic PRNG so failures reproduce. */
#ifndef BRISK_TEST_HELPERS_H
#define BRISK_TEST_HELPERS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw flags */
#endif
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

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

#endif
