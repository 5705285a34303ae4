/* clock: monotonic time for measuring durations (never wall-clock time,
 * which jumps). Header-only: one vDSO call. */
#ifndef BRISK_CLOCK_H
#define BRISK_CLOCK_H

#include <time.h>

/* Seconds on the monotonic clock (arbitrary origin). */
static inline double clock_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
