#include "core/arena.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define BLOCK_BYTES (256u * 1024)

struct arena_block {
	arena_block *next;
	size_t used, cap;
	char data[];
};

char *arena_alloc(arena_t *a, size_t len)
{
	while (!a->cur || a->cur->cap - a->cur->used < len) {
		if (a->cur && a->cur->next) {
			a->cur = a->cur->next;
			a->cur->used = 0;
			continue;
		}
		size_t cap = len > BLOCK_BYTES ? len : BLOCK_BYTES;
		arena_block *b = xmalloc(sizeof *b + cap);
		b->next = NULL;
		b->used = 0;
		b->cap = cap;
		if (a->cur)
			a->cur->next = b;
		else
			a->first = b;
		a->cur = b;
	}
	char *p = a->cur->data + a->cur->used;
	a->cur->used += len;
	return p;
}

char *arena_copy(arena_t *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len);
	if (len)
		memcpy(p, s, len);
	return p;
}

void arena_reset(arena_t *a)
{
	a->cur = a->first;
	if (a->cur)
		a->cur->used = 0;
}

void arena_free(arena_t *a)
{
	for (arena_block *b = a->first; b;) {
		arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->first = a->cur = NULL;
}
