/* settings: an organisation's settings (its currency and opening balance),
 * read for every view and import, changed by `brisk org set` and
 * PUT /api/v1/settings. */
#ifndef BRISK_SETTINGS_H
#define BRISK_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct {
	char currency[4];        /* ISO 4217, upper case */
	int minor;               /* its minor units: 0 (JPY), 2 (USD), 3 (KWD)... */
	int64_t opening_balance; /* minor units of currency */
} org_settings;

/* Reads org's settings through c (a read or write connection). False when
 * the org does not exist or the store fails. */
bool settings_get(store_conn_t *c, int64_t org, org_settings *out);

/* How many rows of org carry amounts in its currency (0: changing the
 * currency changes nothing stored); -1 when the store fails. */
int64_t settings_money_rows(store_conn_t *c, int64_t org);

typedef enum {
	SETTINGS_OK = 0,
	SETTINGS_INVALID,  /* a value is not acceptable (HTTP 400) */
	SETTINGS_CONFLICT, /* refused in the org's present state (HTTP 409) */
	SETTINGS_STORE,    /* the store failed */
} settings_status;

/* Changes org's settings inside the open write transaction w: currency
 * (NULL = unchanged; an ISO 4217 code, any case) and opening balance (NULL =
 * unchanged; minor units of the resulting currency). Changing the currency
 * of an org that holds rows (or a non-zero opening balance not given anew)
 * would change what every stored amount means, so it is refused unless
 * force; even then it is refused when some rows are stored explicitly in
 * the new currency. Touches TBL_SETTINGS. The reason goes into why. */
settings_status settings_update(store_conn_t *w, int64_t org, const char *currency, const int64_t *opening,
                                bool force, char *why, size_t whylen);

#endif
