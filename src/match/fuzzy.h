/* fuzzy: string distances and similarity scores for reconciliation.
 *
 * Every function takes UTF-8 byte strings with explicit lengths (no NUL
 * needed, NULs are ordinary characters) and compares code points, not bytes:
 * "é" is one character. Bytes that are not valid UTF-8 are each treated as a
 * character of their own that equals only the same invalid byte, so any input
 * is accepted and nothing fails.
 *
 * Scores follow RapidFuzz's fuzz module with its default processing, which is
 * none: the caller normalises first (see match/normalize.h).
 *
 * All functions are pure and thread-safe; scratch memory is on the stack or
 * from core/mem.h (which aborts on out-of-memory), and none is kept. */
#ifndef BRISK_FUZZY_H
#define BRISK_FUZZY_H

#include <stddef.h>

/* Levenshtein distance (insertions, deletions, substitutions, each cost 1). */
size_t fuzzy_levenshtein(const char *a, size_t alen, const char *b, size_t blen);

/* Levenshtein distance if it is at most max, otherwise max + 1. Faster than
 * fuzzy_levenshtein when the strings' lengths differ by more than max.
 * For "a token within a small edit distance of an invoice number". */
size_t fuzzy_levenshtein_max(const char *a, size_t alen, const char *b, size_t blen,
                             size_t max);

/* Indel distance (insertions and deletions only, i.e. substitution costs 2):
 * alen_cp + blen_cp - 2 * longest common subsequence. */
size_t fuzzy_indel(const char *a, size_t alen, const char *b, size_t blen);

/* The ratio functions return a score in [0, 100], or 0 when the score is below
 * score_cutoff (pass 0 for no cutoff; a cutoff above 100 always gives 0).
 * With a cutoff the result is either 0 or exactly the score without one, and
 * work stops as soon as the cutoff is known to be out of reach. */

/* 100 * (1 - indel / (len_a + len_b)), code point lengths; two empty strings
 * score 100. Same as RapidFuzz fuzz.ratio and python-Levenshtein's ratio. */
double fuzzy_ratio(const char *a, size_t alen, const char *b, size_t blen,
                   double score_cutoff);

/* Best fuzzy_ratio of the shorter string against the windows of the longer
 * one (windows of the shorter's length, plus the shorter prefixes and
 * suffixes at the ends), as RapidFuzz fuzz.partial_ratio. All windows are
 * tried, so the result is the optimum also for needles over 64 characters. */
double fuzzy_partial_ratio(const char *a, size_t alen, const char *b, size_t blen,
                           double score_cutoff);

/* fuzzy_ratio of the strings with their whitespace-separated tokens sorted
 * (by code point) and joined by single spaces: word order does not matter. */
double fuzzy_token_sort_ratio(const char *a, size_t alen, const char *b, size_t blen,
                              double score_cutoff);

/* RapidFuzz fuzz.token_set_ratio: compares the common tokens plus each side's
 * own tokens; 100 when one token set contains the other (and they share one);
 * 0 when either string has no token. Duplicated tokens count once. */
double fuzzy_token_set_ratio(const char *a, size_t alen, const char *b, size_t blen,
                             double score_cutoff);

/* Jaro-Winkler similarity in [0, 1] (prefix weight 0.1, at most 4 prefix
 * characters, boost applied above 0.7), as RapidFuzz JaroWinkler. Two empty
 * strings give 1, one empty string gives 0. */
double fuzzy_jaro_winkler(const char *a, size_t alen, const char *b, size_t blen);

/* A string prepared for many fuzzy_ratio comparisons (one payer name against
 * every customer): decoding and the bit-vector tables are built once. */
typedef struct fuzzy_pattern fuzzy_pattern_t;

/* Copies s; the caller owns the result and releases it with
 * fuzzy_pattern_free. Never NULL (aborts on out-of-memory). */
fuzzy_pattern_t *fuzzy_pattern_new(const char *s, size_t len);

/* fuzzy_ratio(pattern, s, score_cutoff), same result. The pattern is only read,
 * so one pattern may be used by several threads at once. */
double fuzzy_pattern_ratio(const fuzzy_pattern_t *p, const char *s, size_t len,
                           double score_cutoff);

/* Releases p; NULL is allowed. */
void fuzzy_pattern_free(fuzzy_pattern_t *p);

#endif
