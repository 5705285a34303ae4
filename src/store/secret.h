/* secret: the store's own random key (table server_keys, created once by
 * schema migration 10), which seals what an organisation is shown of shared
 * counters (core/seal.h). It lives with the data, so tokens stay valid
 * across restarts and on every instance sharing the store. */
#ifndef BRISK_SECRET_H
#define BRISK_SECRET_H

#include <stdint.h>

#include "core/seal.h"
#include "store/store.h"

/* Reads the key into key. Returns 0, or -1 when the store cannot be read
 * (then key is zeroed: tokens made with it are refused elsewhere). */
int secret_key(store_conn_t *c, uint8_t key[SEAL_KEYBYTES]);

#endif
