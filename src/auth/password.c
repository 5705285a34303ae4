#include "auth/password.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

bool password_acceptable(const char *pw, char *err, size_t errlen)
{
	size_t n = strlen(pw);
	if (n < PASSWORD_MIN) {
		snprintf(err, errlen, "the password is %zu characters long; at least %d are needed", n, PASSWORD_MIN);
		return false;
	}
	if (n > PASSWORD_MAX) {
		snprintf(err, errlen, "the password is %zu characters long; at most %d are accepted", n, PASSWORD_MAX);
		return false;
	}
	return true;
}

int password_hash(const char *pw, char out[PASSWORD_HASH_BUFSZ], char *err, size_t errlen)
{
	_Static_assert(PASSWORD_HASH_BUFSZ >= crypto_pwhash_STRBYTES, "hash buffer too small");
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	if (crypto_pwhash_str_alg(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                          crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		snprintf(err, errlen, "cannot hash the password (out of memory)");
		return -1;
	}
	return 0;
}

static char dummy[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
	if (crypto_pwhash_str_alg(dummy, "brisk-no-such-user", 18, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                          crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
		dummy[0] = '\0';
}

bool password_verify(const char *hash, const char *pw)
{
	if (sodium_init() < 0)
		return false;
	if (!hash) {
		/* the same work as a real check, against a hash nobody has */
		pthread_once(&dummy_once, dummy_init);
		if (crypto_pwhash_str_verify(dummy, pw, strlen(pw)) == 0)
			return false; /* nobody knows that password; either way: no */
		return false;
	}
	if (strncmp(hash, "$argon2id$", 10))
		return false;
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}
