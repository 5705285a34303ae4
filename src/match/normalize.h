/* normalize: canonical forms of names and invoice numbers for matching.
 *
 * Inputs are UTF-8 byte strings with explicit lengths; invalid bytes are
 * tolerated (see each function). Results are appended to a caller-owned
 * buf_t (reset it first for a fresh string); out->p stays NUL-terminated.
 * Nothing fails except by out-of-memory, which aborts (core/mem.h).
 * Pure functions: safe to call from several threads on distinct buffers. */
#ifndef BRISK_NORMALIZE_H
#define BRISK_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Appends the normalised form of a person or company name to out:
 *  - letters folded with full Unicode case folding (norm_fold); Latin,
 *    Greek and Cyrillic letters also lose their accents ("Café Müller" ->
 *    "cafe muller", "ß" -> "ss", "Æ" -> "ae", "Ł" -> "l", "ООО РОМАШКА" ->
 *    "ромашка", "Αθήνα" -> "αθηνα");
 *  - apostrophes are dropped ("O'Brien" -> "obrien", "Macy's" -> "macys");
 *    other punctuation, symbols, invalid bytes and any whitespace separate
 *    words, collapsed to one space with none at either end;
 *  - single letters joined by dots form one word ("S.A." -> "sa",
 *    "J.P. Morgan" -> "jp morgan");
 *  - company suffixes at the end are removed, repeatedly ("Foo Co., Ltd." ->
 *    "foo"): sdn bhd, bhd, ltd, limited, llc, inc, incorporated, gmbh, co,
 *    & co, and co, corp, corporation, plc, pty, pte, sa, sarl, bv, ag, llp,
 *    and the spelled-out and other countries' forms (sendirian berhad,
 *    berhad, s/b, company, private, public, pvt, sas, nv, kg, ab, aps, as,
 *    asa, oy, oyj, lda, spa, srl, kk, sp. z o.o., Greek ΑΕ, ΕΠΕ, ΙΚΕ);
 *    so is a leading "the", and a leading legal form (ООО, ЗАО, ОАО, ПАО,
 *    АО, ИП, ТОВ, PT, CV). A name is never reduced to nothing: a suffix or
 *    "the" that is the only word left stays ("The Co" -> "co").
 *  - a lone "&" is dropped ("Smith & Sons" -> "smith sons"). */
void norm_name(const char *in, size_t len, buf_t *out);

/* Appends the canonical invoice number to out (DATA.md, reconciliation rule
 * 1): ASCII letters upper-cased, other letters case-folded (norm_fold);
 * whitespace, '-', '_', '/', '#' and '.'
 * removed, as are no-break spaces and Unicode dashes (U+2010..U+2015,
 * U+2212); every other byte is kept as it is. Applied to a payment
 * reference too, so that "contains" is a plain substring search:
 * "inv 2025/004213" -> "INV2025004213". */
void norm_invoice(const char *in, size_t len, buf_t *out);

/* The full case folding of code point cp above U+007F (accents also
 * removed for Latin, Greek and Cyrillic): a static UTF-8 string and its
 * length, or NULL when cp folds to itself. */
const char *norm_fold(uint32_t cp, size_t *len);

/* norm_name of a bank's payer field, without the words banks put before the
 * name ("PAYMENT FROM ", "TRF FROM ", "IBG FROM ", "FROM ", ...). */
void norm_payer(const char *in, size_t len, buf_t *out);

/* Appends the structured form of an invoice number: its letter and digit
 * runs, '.'-separated, digits without leading zeros, letters folded as in
 * norm_invoice ("INV-2025-000042" -> "INV.2025.42", "0042" -> "42"). */
void norm_invoice_key(const char *in, size_t len, buf_t *out);

/* A number a payment reference writes, as norm_invoice_key would. */
typedef struct {
	size_t off, len; /* in the output buffer */
	bool bare;       /* without a prefix: compare with numbers whose prefix (and year) is left out */
} norm_key;

/* Appends to out the numbers of a payment reference as invoice keys and
 * fills keys[0..return) (at most max): a number with the word before it
 * ("INV42", "INV-42" -> "INV.42"), and the number alone ("42", "2025.42")
 * when it is introduced as an invoice ("#42", "Invoice 42", "Inv. No.
 * 0042"), zero-padded ("0042") or led by a year ("2025/42"). */
size_t norm_ref_keys(const char *ref, size_t len, buf_t *out, norm_key *keys, size_t max);

/* Splits s at runs of ASCII whitespace (a normalised name has single
 * spaces) into at most max slices pointing into s; returns the number of
 * tokens in s, which may exceed max (then only the first max are stored). */
size_t norm_tokens(const char *s, size_t len, slice_t *tok, size_t max);

#endif
