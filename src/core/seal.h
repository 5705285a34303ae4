/* seal: opaque, authenticated tokens and numeric ids for what one
 * organisation sees of shared counters (list cursors, task ids), so that
 * nothing it is shown counts or names another organisation's rows. Keyed by
 * the store's secret (store/secret.h). */
#ifndef BRISK_SEAL_H
#define BRISK_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEAL_KEYBYTES 32
/* The longest plaintext a token carries, and the buffer a token needs. */
#define SEAL_MAX_PT 48
#define SEAL_TOKEN_BUFSZ 144

/* Encrypts and authenticates pt (len <= SEAL_MAX_PT) as base64url text in
 * out (SEAL_TOKEN_BUFSZ bytes, NUL-terminated); returns its length.
 * Deterministic: the same key and pt give the same token, so a cursor is
 * stable. Never fails for valid arguments. */
size_t seal_token(const uint8_t key[SEAL_KEYBYTES], const void *pt, size_t len, char *out);

/* Opens a token made by seal_token with this key; returns the plaintext
 * length (written into pt, at most cap bytes), or -1 when the token is
 * malformed, altered, too long or made with another key. */
int seal_open(const uint8_t key[SEAL_KEYBYTES], const char *tok, void *pt, size_t cap);

/* A keyed permutation of [0, 2^52) (exact as a JSON number): numbers that
 * look random and say nothing about how many came before. v >= 2^52 is
 * returned unchanged. seal_unpermute is its inverse. */
uint64_t seal_permute(const uint8_t key[SEAL_KEYBYTES], uint64_t v);
uint64_t seal_unpermute(const uint8_t key[SEAL_KEYBYTES], uint64_t v);

#endif
