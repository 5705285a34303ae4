#include "core/seal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* DESIGN
 * Tokens are a deterministic authenticated encryption (SIV style): the
 * nonce is a keyed BLAKE2b hash of the plaintext, then XSalsa20-Poly1305
 * (crypto_secretbox) seals it. Equal inputs give equal tokens (cursors are
 * stable and cacheable), distinct inputs never share a nonce, and opening
 * checks both the MAC and that the nonce is the hash of what it opened.
 * Subkeys for the hash, the box and the permutation are derived apart.
 *
 * The permutation is a 4-round balanced Feistel network over two 26-bit
 * halves with SipHash-2-4 as the round function: a bijection of [0, 2^52),
 * so ids map back exactly, and below 2^53 so JSON keeps them exact. */

#define NONCE crypto_secretbox_NONCEBYTES
#define MAC crypto_secretbox_MACBYTES
#define HALF_BITS 26
#define HALF_MASK ((UINT64_C(1) << HALF_BITS) - 1)
#define ROUNDS 4

static void subkey(const uint8_t key[SEAL_KEYBYTES], uint64_t id, uint8_t *out, size_t len)
{
	if (sodium_init() < 0)
		abort(); /* no usable randomness or CPU support: nothing can be sealed */
	crypto_kdf_derive_from_key(out, len, id, "brisksea", key);
}

static void nonce_of(const uint8_t key[SEAL_KEYBYTES], const void *pt, size_t len, uint8_t n[NONCE])
{
	uint8_t k[crypto_generichash_KEYBYTES];
	subkey(key, 1, k, sizeof k);
	crypto_generichash(n, NONCE, pt, len, k, sizeof k);
	sodium_memzero(k, sizeof k);
}

size_t seal_token(const uint8_t key[SEAL_KEYBYTES], const void *pt, size_t len, char *out)
{
	uint8_t box[NONCE + MAC + SEAL_MAX_PT];
	uint8_t k[crypto_secretbox_KEYBYTES];
	if (len > SEAL_MAX_PT)
		len = SEAL_MAX_PT;
	nonce_of(key, pt, len, box);
	subkey(key, 2, k, sizeof k);
	crypto_secretbox_easy(box + NONCE, pt, len, box, k);
	sodium_memzero(k, sizeof k);
	sodium_bin2base64(out, SEAL_TOKEN_BUFSZ, box, NONCE + MAC + len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return strlen(out);
}

int seal_open(const uint8_t key[SEAL_KEYBYTES], const char *tok, void *pt, size_t cap)
{
	uint8_t box[NONCE + MAC + SEAL_MAX_PT], plain[SEAL_MAX_PT], n[NONCE];
	uint8_t k[crypto_secretbox_KEYBYTES];
	size_t blen;
	if (!tok || strlen(tok) >= SEAL_TOKEN_BUFSZ ||
	    sodium_base642bin(box, sizeof box, tok, strlen(tok), NULL, &blen, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    blen < NONCE + MAC)
		return -1;
	size_t len = blen - NONCE - MAC;
	subkey(key, 2, k, sizeof k);
	int rc = crypto_secretbox_open_easy(plain, box + NONCE, blen - NONCE, box, k);
	sodium_memzero(k, sizeof k);
	if (rc != 0 || len > cap)
		return -1;
	nonce_of(key, plain, len, n);
	if (sodium_memcmp(n, box, NONCE) != 0)
		return -1;
	memcpy(pt, plain, len);
	return (int)len;
}

static uint64_t round_fn(const uint8_t k[crypto_shorthash_KEYBYTES], int round, uint64_t half)
{
	uint8_t in[9], h[crypto_shorthash_BYTES];
	in[0] = (uint8_t)round;
	for (int i = 0; i < 8; i++)
		in[1 + i] = (uint8_t)(half >> (8 * i));
	crypto_shorthash(h, in, sizeof in, k);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)h[i] << (8 * i);
	return v & HALF_MASK;
}

static uint64_t feistel(const uint8_t key[SEAL_KEYBYTES], uint64_t v, bool inverse)
{
	if (v >> (2 * HALF_BITS))
		return v;
	uint8_t k[crypto_shorthash_KEYBYTES];
	subkey(key, 3, k, sizeof k);
	uint64_t l = v >> HALF_BITS, r = v & HALF_MASK;
	for (int i = 0; i < ROUNDS; i++) {
		if (!inverse) {
			uint64_t t = l ^ round_fn(k, i, r);
			l = r;
			r = t;
		} else {
			uint64_t t = r ^ round_fn(k, ROUNDS - 1 - i, l);
			r = l;
			l = t;
		}
	}
	sodium_memzero(k, sizeof k);
	return l << HALF_BITS | r;
}

uint64_t seal_permute(const uint8_t key[SEAL_KEYBYTES], uint64_t v)
{
	return feistel(key, v, false);
}

uint64_t seal_unpermute(const uint8_t key[SEAL_KEYBYTES], uint64_t v)
{
	return feistel(key, v, true);
}
