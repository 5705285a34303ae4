#include "tasks/pqueue.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* DESIGN
 * One ring buffer per level, each sized to the whole capacity so that any
 * mix of levels fits; a shared count enforces the bound. Three rings of
 * 8-byte ids cost 24 bytes per slot of capacity, nothing for the default
 * 10,000-task queue. Removal (a cancelled pending task) shifts the tail of
 * its ring: rare, and bounded by the queue length. */

typedef struct {
	int64_t *ids;
	size_t head, len;
} ring;

struct pqueue {
	size_t cap, len;
	ring lv[PQ__LEVELS];
};

pqueue_t *pqueue_new(size_t cap)
{
	if (cap < 1)
		cap = 1;
	pqueue_t *q = xcalloc(1, sizeof *q);
	q->cap = cap;
	for (int i = 0; i < PQ__LEVELS; i++)
		q->lv[i].ids = xmalloc(cap * sizeof(int64_t));
	return q;
}

void pqueue_free(pqueue_t *q)
{
	if (!q)
		return;
	for (int i = 0; i < PQ__LEVELS; i++)
		free(q->lv[i].ids);
	free(q);
}

bool pqueue_push(pqueue_t *q, pqueue_level lv, int64_t id)
{
	if ((int)lv < 0 || lv >= PQ__LEVELS || q->len >= q->cap)
		return false;
	ring *r = &q->lv[lv];
	r->ids[(r->head + r->len) % q->cap] = id;
	r->len++;
	q->len++;
	return true;
}

bool pqueue_pop(pqueue_t *q, int64_t *id, pqueue_level *lv)
{
	for (int i = 0; i < PQ__LEVELS; i++) {
		ring *r = &q->lv[i];
		if (!r->len)
			continue;
		*id = r->ids[r->head];
		r->head = (r->head + 1) % q->cap;
		r->len--;
		q->len--;
		if (lv)
			*lv = (pqueue_level)i;
		return true;
	}
	return false;
}

bool pqueue_remove(pqueue_t *q, int64_t id)
{
	for (int i = 0; i < PQ__LEVELS; i++) {
		ring *r = &q->lv[i];
		for (size_t k = 0; k < r->len; k++) {
			if (r->ids[(r->head + k) % q->cap] != id)
				continue;
			for (size_t j = k; j + 1 < r->len; j++)
				r->ids[(r->head + j) % q->cap] = r->ids[(r->head + j + 1) % q->cap];
			r->len--;
			q->len--;
			return true;
		}
	}
	return false;
}

size_t pqueue_len(const pqueue_t *q)
{
	return q->len;
}

size_t pqueue_level_len(const pqueue_t *q, pqueue_level lv)
{
	return (int)lv >= 0 && lv < PQ__LEVELS ? q->lv[lv].len : 0;
}

static const char *const level_names[PQ__LEVELS] = {"interactive", "normal", "bulk"};

const char *pqueue_level_name(pqueue_level lv)
{
	return (int)lv >= 0 && lv < PQ__LEVELS ? level_names[lv] : "unknown";
}

bool pqueue_level_parse(const char *s, pqueue_level *out)
{
	for (int i = 0; i < PQ__LEVELS; i++)
		if (!strcmp(s, level_names[i])) {
			*out = (pqueue_level)i;
			return true;
		}
	return false;
}
