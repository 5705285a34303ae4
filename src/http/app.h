/* app: what the API handlers share (set on the server with
 * http_server_set_app): the response cache and, later, other services. */
#ifndef BRISK_APP_H
#define BRISK_APP_H

#include "cache/rcache.h"

#include "store/store.h"

typedef struct {
	store_t *store;
	rcache_t *cache; /* never NULL; may be disabled */
	struct warm *warm; /* cache warming, or NULL */
	struct tasks *tasks;   /* background tasks, or NULL */
	struct events *events; /* the SSE event hub, or NULL */
	struct monitor *monitor; /* performance, alerts, advisor; or NULL */
	struct notify *notify;   /* business alerts and their deliveries, or NULL */
} app_t;

#endif
