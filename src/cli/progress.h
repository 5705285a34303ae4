/* progress: a one-line progress bar on a terminal (percent of bytes, rate). */
#ifndef BRISK_PROGRESS_H
#define BRISK_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct progress progress_t;

/* A bar writing to f when f is a TTY (NULL or not a TTY: silent). total is
 * the byte size (0 if unknown); unit names what is counted ("rows"). */
progress_t *progress_new(FILE *f, uint64_t total, const char *unit);
void progress_update(progress_t *p, uint64_t done, uint64_t count);
/* Clears the bar line. */
void progress_done(progress_t *p);
void progress_free(progress_t *p);

#endif
