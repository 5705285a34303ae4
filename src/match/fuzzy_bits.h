/* fuzzy_bits: the bit-parallel core of match/fuzzy.c (internal to fuzzy).
 *
 * UTF-8 decoding into code-point arrays, pattern-match vectors, and the
 * LCS (Indel) and Levenshtein distances over them. Nothing here allocates
 * except pattern vectors of long patterns and decoded long strings, both
 * freed by their *_free. Thread-safe, no global state. */
#ifndef BRISK_FUZZY_BITS_H
#define BRISK_FUZZY_BITS_H

#include <stddef.h>
#include <stdint.h>

#define CP_STACK 256  /* code points decoded on the stack */
#define PM1_SLOTS 128 /* map slots of a one-word pattern (>= 2 * 64) */

typedef struct {
	uint32_t *p;
	size_t len;
	uint32_t small[CP_STACK];
} cpstr_t;

typedef struct {
	uint64_t tab[256];
	int has_map;
	uint32_t keys[PM1_SLOTS];
	uint64_t vals[PM1_SLOTS];
} pm1_t;

typedef struct {
	size_t words;
	uint64_t *tab;  /* 256 rows of `words` words */
	size_t mask;    /* map slots - 1 */
	uint32_t *keys;
	uint64_t *vals; /* one row per slot */
	uint64_t *zero; /* the row of code points absent from the pattern */
} pmn_t;

typedef struct {
	size_t len;   /* pattern length in code points */
	size_t words; /* 1: use one; > 1: use many; 0: empty pattern */
	pm1_t one;
	pmn_t many;
} pm_t;


/* Decodes n bytes of UTF-8 into c (stack buffer or heap); never fails. */
void fz_cp_decode(cpstr_t *c, const char *s, size_t n);
void fz_cp_free(cpstr_t *c);
/* Builds the match vectors of pattern s (n code points); free with fz_pm_free. */
void fz_pm_build(pm_t *pm, const uint32_t *s, size_t n);
void fz_pm_free(pm_t *pm);
/* Whether code point c occurs in the pattern. */
int fz_pm_has(const pm_t *pm, uint32_t c);
/* LCS of the pattern and s, or a value below min_lcs once it cannot reach it. */
size_t fz_lcs_pm(const pm_t *pm, const uint32_t *s, size_t n, size_t min_lcs);
/* Levenshtein / Indel distance if at most max, else max + 1. */
size_t fz_lev_cp(const uint32_t *a, size_t m, const uint32_t *b, size_t n, size_t max);
size_t fz_indel_cp(const uint32_t *a, size_t m, const uint32_t *b, size_t n, size_t max);
/* Smallest LCS that keeps an Indel distance over lensum within max. */
size_t fz_min_lcs_for(size_t lensum, size_t max);

#endif
