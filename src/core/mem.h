/* mem: allocation with one out-of-memory policy: print and abort. Callers
 * never check for NULL (as Redis' zmalloc and h2o's h2o_mem_alloc do). */
#ifndef BRISK_MEM_H
#define BRISK_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
