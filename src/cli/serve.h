/* serve: the shared "open store, start server, wait for a signal" path of
 * brisk serve and brisk demo. */
#ifndef BRISK_CLI_SERVE_H
#define BRISK_CLI_SERVE_H

#include "core/config.h"

/* Reads the settings again for a SIGHUP reload: fills out, or false with
 * a reason (the running settings then stay). */
typedef bool (*serve_reload_fn)(config_t *out, char *err, size_t errlen, void *ud);

/* Runs the server until SIGTERM/SIGINT; prints announce (if any) once
 * listening. On SIGHUP it reopens the access log and, with reload, reads
 * the settings again and applies the reloadable ones (log level, slow-query
 * and alert thresholds); the others are logged as needing a restart.
 * Returns an exit code. */
int serve_run(const config_t *cfg, const char *announce, serve_reload_fn reload, void *reload_ud);

#endif
