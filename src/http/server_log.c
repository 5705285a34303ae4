/* server_log: reopening the access log on a reload (log rotation), kept
 * apart from server.c's request path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http/server_int.h"

bool http_server_reopen_access_log(http_server_t *srv, char *err, size_t errlen)
{
	const char *path = srv->cfg.access_log;
	if (!srv->access || srv->access == stderr || !path)
		return true;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot reopen access log %s: %s", path, strerror(errno));
		return false;
	}
	/* The FILE stays, its descriptor changes: loops writing meanwhile hold
	 * the stream's lock and finish on the old file or start on the new. */
	flockfile(srv->access);
	fflush(srv->access);
	int rc = dup2(fd, fileno(srv->access));
	funlockfile(srv->access);
	close(fd);
	if (rc < 0) {
		snprintf(err, errlen, "cannot reopen access log %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}
