#include "store/secret.h"

#include <sodium.h>
#include <string.h>

int secret_key(store_conn_t *c, uint8_t key[SEAL_KEYBYTES])
{
	static const char *sql = "SELECT secret FROM server_keys WHERE name = 'seal'";
	memset(key, 0, SEAL_KEYBYTES);
	store_stmt_t *st = store_prepare(c, sql);
	if (!st)
		return -1;
	int rc = -1;
	size_t len;
	if (store_step(st) == STORE_ROW) {
		/* hex text: the same in every backend */
		const char *p = store_col_text(st, 0, &len);
		size_t got = 0;
		if (len == 2 * SEAL_KEYBYTES &&
		    sodium_hex2bin(key, SEAL_KEYBYTES, p, len, NULL, &got, NULL) == 0 && got == SEAL_KEYBYTES)
			rc = 0;
		else
			memset(key, 0, SEAL_KEYBYTES);
	}
	store_reset(st);
	return rc;
}
