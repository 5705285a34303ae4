/* serve: the shared "open store, start server, wait for a signal" path of
 * brisk serve and brisk demo. */
#ifndef BRISK_CLI_SERVE_H
#define BRISK_CLI_SERVE_H

#include "core/config.h"

/* Runs the server until SIGTERM/SIGINT; prints announce (if any) once
 * listening. Returns an exit code. */
int serve_run(const config_t *cfg, const char *announce);

#endif
