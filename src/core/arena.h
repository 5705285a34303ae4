/* arena: text copied into blocks that are let go of all at once, and kept
 * for the next use (an import's batch of rows, a rollup accumulator's
 * dims): one bump of a pointer per copy instead of a malloc and a free. */
#ifndef BRISK_ARENA_H
#define BRISK_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block;

/* Zero-initialised is an empty arena of 256 KiB blocks. */
typedef struct {
	arena_block *first, *cur;
} arena_t;

/* Room for len bytes (no alignment: for text), valid until arena_reset or
 * arena_free. Never NULL: out of memory aborts, as xmalloc does. */
char *arena_alloc(arena_t *a, size_t len);
/* A copy of s[0..len) in the arena (not NUL-terminated). */
char *arena_copy(arena_t *a, const char *s, size_t len);
/* Forgets every allocation; the blocks stay for the next ones. */
void arena_reset(arena_t *a);
/* Frees the blocks; the arena is empty and usable again. */
void arena_free(arena_t *a);

#endif
