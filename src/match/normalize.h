/* normalize: canonical forms of names and invoice numbers for matching.
 *
 * Inputs are UTF-8 byte strings with explicit lengths; invalid bytes are
 * tolerated (see each function). Results are appended to a caller-owned
 * buf_t (reset it first for a fresh string); out->p stays NUL-terminated.
 * Nothing fails except by out-of-memory, which aborts (core/mem.h).
 * Pure functions: safe to call from several threads on distinct buffers. */
#ifndef BRISK_NORMALIZE_H
#define BRISK_NORMALIZE_H

#include <stddef.h>

#include "core/buf.h"

/* Appends the normalised form of a person or company name to out:
 *  - letters folded to lower case; Latin-1 and Latin Extended-A letters also
 *    lose their accents ("Café Müller" -> "cafe muller", "ß" -> "ss",
 *    "Æ" -> "ae", "Ł" -> "l"); other scripts are kept as they are;
 *  - apostrophes are dropped ("O'Brien" -> "obrien", "Macy's" -> "macys");
 *    other punctuation, symbols, invalid bytes and any whitespace separate
 *    words, collapsed to one space with none at either end;
 *  - single letters joined by dots form one word ("S.A." -> "sa",
 *    "J.P. Morgan" -> "jp morgan");
 *  - company suffixes at the end are removed, repeatedly ("Foo Co., Ltd." ->
 *    "foo"): sdn bhd, bhd, ltd, limited, llc, inc, incorporated, gmbh, co,
 *    & co, and co, corp, corporation, plc, pty, pte, sa, sarl, bv, ag, llp;
 *    so is a leading "the". A name is never reduced to nothing: a suffix or
 *    "the" that is the only word left stays ("The Co" -> "co").
 *  - a lone "&" is dropped ("Smith & Sons" -> "smith sons"). */
void norm_name(const char *in, size_t len, buf_t *out);

/* Appends the canonical invoice number to out (DATA.md, reconciliation rule
 * 1): ASCII letters upper-cased; whitespace, '-', '_', '/', '#' and '.'
 * removed, as are no-break spaces and Unicode dashes (U+2010..U+2015,
 * U+2212); every other byte is kept as it is. Applied to a payment
 * reference too, so that "contains" is a plain substring search:
 * "inv 2025/004213" -> "INV2025004213". */
void norm_invoice(const char *in, size_t len, buf_t *out);

/* Splits s at runs of ASCII whitespace (a normalised name has single
 * spaces) into at most max slices pointing into s; returns the number of
 * tokens in s, which may exceed max (then only the first max are stored). */
size_t norm_tokens(const char *s, size_t len, slice_t *tok, size_t max);

#endif
