/* password: argon2id password hashes (libsodium's crypto_pwhash_str, its
 * interactive limits: about 64 MiB and a fraction of a second a hash). */
#ifndef BRISK_PASSWORD_H
#define BRISK_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024
#define PASSWORD_HASH_BUFSZ 128

/* False with a reason when pw is too short or too long. */
bool password_acceptable(const char *pw, char *err, size_t errlen);
/* Hashes pw into out (an "$argon2id$..." string). 0, or -1 with a reason. */
int password_hash(const char *pw, char out[PASSWORD_HASH_BUFSZ], char *err, size_t errlen);
/* True when pw matches hash. An empty or malformed hash never matches; a
 * NULL hash still spends a hash's time, so an unknown user name cannot be
 * told from a wrong password by timing. */
bool password_verify(const char *hash, const char *pw);

#endif
