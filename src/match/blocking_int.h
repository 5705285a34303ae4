/* blocking_int: the loaded data of match/blocking (internal to blocking.c
 * and blocking_load.c): the string arena, the u64 -> u32 hash maps and
 * struct blocking itself. */
#ifndef BRISK_BLOCKING_INT_H
#define BRISK_BLOCKING_INT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "match/blocking.h"


#define FALLBACK_DAYS 400   /* how far back a partial payment's invoice may be */
#define FALLBACK_BUDGET 4096 /* invoices compared per payment, at most */
#define FALLBACK_CUSTOMERS 16
#define AMOUNT_WALK_MAX 4096
#define CLOSED_LENS 16
#define KEY_WALK_MAX 256     /* invoices one written number may stand for, at most */

/* ---- arena ---- */

typedef struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
} chunk;

typedef struct {
	chunk *head;
	size_t bytes;
} arena;

static inline const char *arena_dup(arena *a, const char *s, size_t n)
{
	if (!a->head || a->head->cap - a->head->used < n) {
		size_t cap = n > (1u << 20) ? n : (1u << 20);
		chunk *c = xmalloc(sizeof *c + cap);
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
		a->bytes += sizeof *c + cap;
	}
	char *p = a->head->data + a->head->used;
	memcpy(p, s, n);
	a->head->used += n;
	return p;
}

static inline void arena_free(arena *a)
{
	while (a->head) {
		chunk *n = a->head->next;
		free(a->head);
		a->head = n;
	}
}

/* ---- u64 -> u32 map, open addressing ---- */

typedef struct {
	uint64_t key;
	uint32_t val; /* BLOCKING_NONE = empty slot */
} slot;

/* Key and value side by side: a lookup costs one cache miss, not two. */
typedef struct {
	slot *s;
	size_t cap, n;
} map;

static inline uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

static inline void map_init(map *m, size_t expect)
{
	m->cap = 16;
	while (m->cap < expect * 2)
		m->cap *= 2;
	m->n = 0;
	m->s = xmalloc(m->cap * sizeof *m->s);
	for (size_t i = 0; i < m->cap; i++)
		m->s[i].val = BLOCKING_NONE;
}

static inline void map_free(map *m)
{
	free(m->s);
	memset(m, 0, sizeof *m);
}

static inline size_t map_slot(const map *m, uint64_t key)
{
	size_t i = mix(key) & (m->cap - 1);
	while (m->s[i].val != BLOCKING_NONE && m->s[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static inline uint32_t map_get(const map *m, uint64_t key)
{
	return m->cap ? m->s[map_slot(m, key)].val : BLOCKING_NONE;
}

static inline void map_put(map *m, uint64_t key, uint32_t val)
{
	if ((m->n + 1) * 10 > m->cap * 7) {
		map old = *m;
		map_init(m, old.cap);
		for (size_t i = 0; i < old.cap; i++)
			if (old.s[i].val != BLOCKING_NONE)
				map_put(m, old.s[i].key, old.s[i].val);
		map_free(&old);
	}
	size_t i = map_slot(m, key);
	if (m->s[i].val == BLOCKING_NONE)
		m->n++;
	m->s[i].key = key;
	m->s[i].val = val;
}

/* ---- the loaded data ---- */

typedef struct {
	const char *raw, *norm;
	uint16_t raw_len, norm_len;
	uint32_t next; /* same raw-text hash */
} customer;

typedef struct {
	const char *s;
	uint16_t len;
	uint32_t next;
} cid_entry;

struct blocking {
	arena a;
	blocking_invoice *inv;
	size_t ninv, cap_inv;
	blocking_payment *pay;
	size_t npay, cap_pay;
	customer *cust;
	size_t ncust, cap_cust;
	cid_entry *cid; /* cid[0] unused: 0 means none */
	size_t ncid, cap_cid;
	map nummap, amtmap, custmap, cidmap, tokmap;
	map aliasmap; /* hash of a normalised payer -> customer (learned) */
	map acctmap;  /* hash of a payer's account -> customer (learned) */
	/* Amounts set after loading: amount -> first of a list in moved[]
	 * (append-only, so an invoice moved twice leaves a stale entry that
	 * lookups skip by checking the amount). */
	map movedmap;
	struct moved {
		uint32_t inv, next;
	} *moved;
	size_t nmoved, cap_moved;
	struct keyref {
		uint64_t h;
		uint32_t inv, next;
	} *keys;                         /* hashes of invoice keys' forms, chained from keymap */
	size_t nkeys;
	map keymap;
	/* Numbers of the paid and void invoices, canonical, by hash: a
	 * reference naming one of them is no evidence for another invoice. */
	map closedmap;
	struct closed {
		const char *canon;
		uint16_t len;
		uint32_t next;
	} *closed;
	size_t nclosed, cap_closed;
	size_t clen[16], nclen; /* their distinct lengths (the first 16) */
	uint8_t cfirst[256];    /* bytes that start one of them */
	uint32_t *cust_start, *cust_inv; /* customer -> invoices by issue date */
	date_t *cust_issue;              /* beside cust_inv: the invoice's issue date */
	int64_t *cust_out;               /* beside cust_inv: its outstanding amount */
	uint32_t *inv_cpos;              /* invoice -> its place in cust_inv */
	int32_t *cust_span;              /* customer -> longest due - issue */
	uint32_t *tok_start, *tok_cust;  /* token -> customers */
	size_t ntok;
	size_t *lens, nlens;             /* distinct number lengths, ascending */
	size_t min_len, max_len;
	size_t min_digits, max_digits;   /* digits in a number */
	uint8_t first[256];              /* bytes that start some number */
};

#define GROW(arr, n, cap)                                                 \
	do {                                                              \
		if ((n) == (cap)) {                                       \
			(cap) = (cap) ? (cap) * 2 : 1024;                 \
			(arr) = xrealloc((arr), (cap) * sizeof *(arr));   \
		}                                                         \
	} while (0)


#endif
