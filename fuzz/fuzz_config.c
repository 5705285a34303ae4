/* fuzz_config: config_load_file over an arbitrary INI file (the file brisk
 * serve --config reads), written to a memfd that is read back by path.
 *
 * Checks: a refusal always names the file and a line ("PATH:LINE: ...") or
 * says it cannot read it; an accepted file leaves the settings in range
 * (port 0-65535, no negative sizes or counts, strings terminated). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "core/config.h"
#include "core/log.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);
	fd = memfd_create("brisk-fuzz-config", 0);
	FUZZ_CHECK(fd >= 0, "memfd_create");
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	return 0;
}

#define TERMINATED(f) FUZZ_CHECK(memchr(c.f, 0, sizeof c.f), #f " not terminated")

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FUZZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size, "write");
	config_t c;
	config_defaults(&c);
	char err[512] = "";
	if (!config_load_file(&c, path, err, sizeof err)) {
		FUZZ_CHECK(!strncmp(err, path, strlen(path)) && err[strlen(path)] == ':', "reason '%s'", err);
		return 0;
	}
	FUZZ_CHECK(c.port >= 0 && c.port <= 65535, "port %d", c.port); /* 0 = any free port */
	FUZZ_CHECK(c.threads >= 0 && c.workers >= 0 && c.read_conns >= 0 && c.task_workers >= 0 && c.task_queue >= 0,
	           "negative count");
	FUZZ_CHECK(c.max_body >= 0 && c.cache_bytes >= 0 && c.cache_disk_bytes >= 0 && c.cache_mib >= 0 &&
	               c.task_async_bytes >= 0,
	           "negative size");
	TERMINATED(host);
	TERMINATED(access_log);
	TERMINATED(data_dir);
	TERMINATED(redis_url);
	TERMINATED(cache_dir);
	return 0;
}
