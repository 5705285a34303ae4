#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static _Atomic int min_level = -1; /* a reload changes it while threads log */

void log_set_level(log_level lv)
{
	min_level = (int)lv;
}

static int current_level(void)
{
	if (min_level < 0) {
		const char *e = getenv("BRISK_LOG");
		min_level = LOG_INFO;
		if (e) {
			if (!strcasecmp(e, "debug")) min_level = LOG_DEBUG;
			else if (!strcasecmp(e, "warn")) min_level = LOG_WARN;
			else if (!strcasecmp(e, "error")) min_level = LOG_ERROR;
		}
	}
	return min_level;
}

void log_msg(log_level lv, const char *fmt, ...)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	if ((int)lv < current_level())
		return;
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	                 ts.tv_nsec / 1000000, names[lv]);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	/* One write per line so concurrent threads do not interleave. */
	size_t len = strlen(line);
	line[len++] = '\n';
	fwrite(line, 1, len, stderr);
}
