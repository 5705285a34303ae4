#include "match/blocking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/mem.h"
#include "match/normalize.h"

/* DESIGN
 * Memory is proportional to the rows: every string lives once in a chunked
 * arena (pointers stay valid while it grows), invoices and payments are
 * flat arrays, and the hash indexes are open-addressed tables of
 * (64-bit key -> first element) whose chains run through the elements
 * themselves (next_num, next_amt), so an index costs 16 bytes per slot.
 *
 * The reference test of rule 1 is "contains": instead of searching every
 * number in every reference, each window of the canonical reference whose
 * length is one of the (few) lengths invoice numbers have is hashed and
 * looked up. Windows start only at bytes that begin some number.
 *
 * Customers are the distinct customer texts of the open invoices; the
 * inverted index maps name tokens to customers, and each customer lists its
 * invoices by issue date. It serves the one case the two hash indexes miss:
 * a mistyped reference on a partial payment (neither the number nor the
 * amount can be looked up), where the payer's customers' recent invoices
 * are compared, within a bounded budget. */

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

static const char *arena_dup(arena *a, const char *s, size_t n)
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

static void arena_free(arena *a)
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

static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

static void map_init(map *m, size_t expect)
{
	m->cap = 16;
	while (m->cap < expect * 2)
		m->cap *= 2;
	m->n = 0;
	m->s = xmalloc(m->cap * sizeof *m->s);
	for (size_t i = 0; i < m->cap; i++)
		m->s[i].val = BLOCKING_NONE;
}

static void map_free(map *m)
{
	free(m->s);
	memset(m, 0, sizeof *m);
}

static size_t map_slot(const map *m, uint64_t key)
{
	size_t i = mix(key) & (m->cap - 1);
	while (m->s[i].val != BLOCKING_NONE && m->s[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static uint32_t map_get(const map *m, uint64_t key)
{
	return m->cap ? m->s[map_slot(m, key)].val : BLOCKING_NONE;
}

static void map_put(map *m, uint64_t key, uint32_t val)
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

static uint32_t intern_customer(blocking_t *b, const char *s, size_t n, buf_t *tmp)
{
	uint64_t h = XXH3_64bits(s, n);
	uint32_t head = map_get(&b->custmap, h);
	for (uint32_t k = head; k != BLOCKING_NONE; k = b->cust[k].next)
		if (b->cust[k].raw_len == n && !memcmp(b->cust[k].raw, s, n))
			return k;
	GROW(b->cust, b->ncust, b->cap_cust);
	customer *c = &b->cust[b->ncust];
	c->raw = arena_dup(&b->a, s, n);
	c->raw_len = (uint16_t)n;
	buf_reset(tmp);
	norm_name(s, n, tmp);
	c->norm = arena_dup(&b->a, tmp->p ? tmp->p : "", tmp->len);
	c->norm_len = (uint16_t)tmp->len;
	c->next = head;
	map_put(&b->custmap, h, (uint32_t)b->ncust);
	return (uint32_t)b->ncust++;
}

static uint32_t find_cid(const blocking_t *b, const char *s, size_t n)
{
	for (uint32_t k = map_get(&b->cidmap, XXH3_64bits(s, n)); k != BLOCKING_NONE; k = b->cid[k].next)
		if (b->cid[k].len == n && !memcmp(b->cid[k].s, s, n))
			return k;
	return BLOCKING_NONE;
}

static uint32_t intern_cid(blocking_t *b, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	uint32_t k = find_cid(b, s, n);
	if (k != BLOCKING_NONE)
		return k;
	uint64_t h = XXH3_64bits(s, n);
	GROW(b->cid, b->ncid, b->cap_cid);
	b->cid[b->ncid] = (cid_entry){arena_dup(&b->a, s, n), (uint16_t)n, map_get(&b->cidmap, h)};
	map_put(&b->cidmap, h, (uint32_t)b->ncid);
	return (uint32_t)b->ncid++;
}

static bool cancelled(atomic_int *cancel)
{
	return cancel && atomic_load(cancel);
}

static const char *col(store_stmt_t *st, int i, size_t *n)
{
	const char *s = store_col_text(st, i, n);
	if (*n > UINT16_MAX)
		*n = UINT16_MAX; /* entity texts are at most 2000 bytes anyway */
	return s;
}

static int load_invoices(blocking_t *b, store_conn_t *c, int64_t org, atomic_int *cancel, char *err, size_t errlen)
{
	static const char *q = "SELECT rid, id, number, customer, customer_id, issue_date, due_date, amount, outstanding, "
	                       "currency FROM invoices WHERE org = ?1 AND outstanding > 0 AND status <> 'void' "
	                       "ORDER BY issue_date, rid";
	store_stmt_t *st = store_prepare(c, q);
	if (!st) {
		snprintf(err, errlen, "loading invoices: %s", store_errmsg(c));
		return -1;
	}
	store_bind_i64(st, 1, org);
	buf_t tmp = BUF_INIT;
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		if ((b->ninv & 0xffff) == 0 && cancelled(cancel))
			break;
		GROW(b->inv, b->ninv, b->cap_inv);
		blocking_invoice *v = &b->inv[b->ninv];
		size_t n;
		const char *s;
		v->rid = store_col_i64(st, 0);
		s = col(st, 1, &n);
		v->id = arena_dup(&b->a, s, n);
		v->id_len = (uint16_t)n;
		s = col(st, 2, &n);
		buf_reset(&tmp);
		norm_invoice(s, n, &tmp);
		n = tmp.len > UINT16_MAX ? UINT16_MAX : tmp.len;
		v->canon = arena_dup(&b->a, tmp.p ? tmp.p : "", n);
		v->canon_len = (uint16_t)n;
		s = col(st, 2, &n);
		buf_reset(&tmp);
		norm_invoice_key(s, n, &tmp);
		n = tmp.len > UINT16_MAX ? UINT16_MAX : tmp.len;
		v->key = arena_dup(&b->a, tmp.p ? tmp.p : "", n);
		v->key_len = (uint16_t)n;
		s = col(st, 3, &n);
		v->cust = intern_customer(b, s, n, &tmp);
		s = col(st, 4, &n);
		v->cid = intern_cid(b, s, n);
		v->issue = (date_t)store_col_i64(st, 5);
		v->due = (date_t)store_col_i64(st, 6);
		v->amount = store_col_i64(st, 7);
		v->outstanding = store_col_i64(st, 8);
		s = store_col_text(st, 9, &n);
		snprintf(v->cur, sizeof v->cur, "%.*s", (int)(n < 3 ? n : 3), s);
		v->next_num = v->next_amt = BLOCKING_NONE;
		b->ninv++;
	}
	store_reset(st);
	buf_free(&tmp);
	if (rc == STORE_ROW) {
		snprintf(err, errlen, "cancelled");
		return -1;
	}
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "loading invoices: %s", store_errmsg(c));
		return -1;
	}
	return 0;
}

static int load_closed(blocking_t *b, store_conn_t *c, int64_t org, atomic_int *cancel, char *err, size_t errlen)
{
	static const char *q = "SELECT number FROM invoices WHERE org = ?1 AND (outstanding <= 0 OR status = 'void')";
	store_stmt_t *st = store_prepare(c, q);
	if (!st) {
		snprintf(err, errlen, "loading invoices: %s", store_errmsg(c));
		return -1;
	}
	store_bind_i64(st, 1, org);
	map_init(&b->closedmap, 1024);
	buf_t tmp = BUF_INIT;
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		if ((b->nclosed & 0xffff) == 0 && cancelled(cancel))
			break;
		size_t n;
		const char *s = col(st, 0, &n);
		buf_reset(&tmp);
		norm_invoice(s, n, &tmp);
		if (!tmp.len)
			continue;
		n = tmp.len > UINT16_MAX ? UINT16_MAX : tmp.len;
		uint64_t h = XXH3_64bits(tmp.p, n);
		GROW(b->closed, b->nclosed, b->cap_closed);
		b->closed[b->nclosed] = (struct closed){arena_dup(&b->a, tmp.p, n), (uint16_t)n, map_get(&b->closedmap, h)};
		map_put(&b->closedmap, h, (uint32_t)b->nclosed++);
		b->cfirst[(unsigned char)tmp.p[0]] = 1;
		size_t k = 0;
		while (k < b->nclen && b->clen[k] != n)
			k++;
		if (k == b->nclen && k < CLOSED_LENS)
			b->clen[b->nclen++] = n;
	}
	store_reset(st);
	buf_free(&tmp);
	if (rc == STORE_ROW) {
		snprintf(err, errlen, "cancelled");
		return -1;
	}
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "loading invoices: %s", store_errmsg(c));
		return -1;
	}
	return 0;
}

static int load_payments(blocking_t *b, store_conn_t *c, int64_t org, atomic_int *cancel, char *err, size_t errlen)
{
	/* A payment a person or an earlier run settled (any state but
	 * proposed) is left alone; proposals are decided again. */
	static const char *q = "SELECT rid, id, date, payer, amount, reference, customer_id, currency FROM payments p "
	                       "WHERE org = ?1 AND NOT EXISTS (SELECT 1 FROM allocations a "
	                       "WHERE a.payment = p.rid AND a.state <> 'proposed') ORDER BY date, rid";
	store_stmt_t *st = store_prepare(c, q);
	if (!st) {
		snprintf(err, errlen, "loading payments: %s", store_errmsg(c));
		return -1;
	}
	store_bind_i64(st, 1, org);
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		if ((b->npay & 0xffff) == 0 && cancelled(cancel))
			break;
		GROW(b->pay, b->npay, b->cap_pay);
		blocking_payment *p = &b->pay[b->npay];
		memset(p, 0, sizeof *p);
		size_t n;
		const char *s;
		p->rid = store_col_i64(st, 0);
		s = col(st, 1, &n);
		p->id = arena_dup(&b->a, s, n);
		p->id_len = (uint16_t)n;
		p->date = (date_t)store_col_i64(st, 2);
		s = col(st, 3, &n);
		p->payer = arena_dup(&b->a, s, n);
		p->payer_len = (uint16_t)n;
		p->amount = store_col_i64(st, 4);
		s = col(st, 5, &n);
		p->ref = arena_dup(&b->a, s, n);
		p->ref_len = (uint16_t)n;
		s = col(st, 6, &n);
		if (n) {
			uint32_t k = find_cid(b, s, n);
			p->cid = k == BLOCKING_NONE ? BLOCKING_CID_UNKNOWN : k;
		}
		s = store_col_text(st, 7, &n);
		snprintf(p->cur, sizeof p->cur, "%.*s", (int)(n < 3 ? n : 3), s);
		b->npay++;
	}
	store_reset(st);
	if (rc == STORE_ROW) {
		snprintf(err, errlen, "cancelled");
		return -1;
	}
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "loading payments: %s", store_errmsg(c));
		return -1;
	}
	return 0;
}

static int load_proposals(blocking_t *b, store_conn_t *c, int64_t org, char *err, size_t errlen)
{
	static const char *q = "SELECT payment, rid, invoice, rule, confidence, amount FROM allocations "
	                       "WHERE org = ?1 AND state = 'proposed'";
	store_stmt_t *st = store_prepare(c, q);
	if (!st) {
		snprintf(err, errlen, "loading proposals: %s", store_errmsg(c));
		return -1;
	}
	store_bind_i64(st, 1, org);
	map byrid = {0};
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		if (!byrid.cap) {
			map_init(&byrid, b->npay);
			for (size_t i = 0; i < b->npay; i++)
				map_put(&byrid, (uint64_t)b->pay[i].rid, (uint32_t)i);
		}
		uint32_t k = map_get(&byrid, (uint64_t)store_col_i64(st, 0));
		if (k == BLOCKING_NONE)
			continue;
		blocking_payment *p = &b->pay[k];
		p->prop_sig += blocking_alloc_sig(store_col_i64(st, 2), store_col_i64(st, 5));
		p->prop_n += p->prop_n < UINT8_MAX;
		if (p->prop_rid) {
			p->prop_rid = -1;
			continue;
		}
		size_t n;
		const char *rule = store_col_text(st, 3, &n);
		p->prop_rid = store_col_i64(st, 1);
		p->prop_inv = store_col_i64(st, 2);
		p->prop_rule = (uint8_t)score_rule_parse(rule, n);
		p->prop_conf = (float)store_col_double(st, 4);
	}
	store_reset(st);
	map_free(&byrid);
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "loading proposals: %s", store_errmsg(c));
		return -1;
	}
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static void build_number_index(blocking_t *b)
{
	map_init(&b->nummap, b->ninv);
	map_init(&b->amtmap, b->ninv);
	size_t cap = 0;
	b->min_len = b->min_digits = SIZE_MAX;
	/* Backwards, so that chains list invoices in issue order. */
	for (size_t i = b->ninv; i-- > 0;) {
		blocking_invoice *v = &b->inv[i];
		v->next_amt = map_get(&b->amtmap, (uint64_t)v->outstanding);
		map_put(&b->amtmap, (uint64_t)v->outstanding, (uint32_t)i);
		if (!v->canon_len)
			continue;
		uint64_t h = XXH3_64bits(v->canon, v->canon_len);
		v->next_num = map_get(&b->nummap, h);
		map_put(&b->nummap, h, (uint32_t)i);
		b->first[(unsigned char)v->canon[0]] = 1;
		if (v->canon_len < b->min_len)
			b->min_len = v->canon_len;
		if (v->canon_len > b->max_len)
			b->max_len = v->canon_len;
		size_t dg = 0;
		for (size_t k = 0; k < v->canon_len; k++)
			dg += v->canon[k] >= '0' && v->canon[k] <= '9';
		if (dg < b->min_digits)
			b->min_digits = dg;
		if (dg > b->max_digits)
			b->max_digits = dg;
		size_t k = 0;
		while (k < b->nlens && b->lens[k] != v->canon_len)
			k++;
		if (k == b->nlens) {
			GROW(b->lens, b->nlens, cap);
			b->lens[b->nlens++] = v->canon_len;
		}
	}
	if (b->min_len == SIZE_MAX)
		b->min_len = b->min_digits = 0;
	if (b->nlens)
		qsort(b->lens, b->nlens, sizeof *b->lens, cmp_size);
}

/* Every form of an invoice's key a reference may write (score_key_match):
 * the key, without its prefix, its last number, prefix and last number. */
static void build_key_index(blocking_t *b)
{
	b->keys = xmalloc((b->ninv ? b->ninv : 1) * 4 * sizeof *b->keys);
	map_init(&b->keymap, b->ninv * 3);
	buf_t tmp = BUF_INIT;
	for (size_t i = 0; i < b->ninv; i++) {
		const blocking_invoice *v = &b->inv[i];
		const char *k = v->key, *end = k + v->key_len;
		if (!v->key_len)
			continue;
		const char *dot1 = memchr(k, '.', v->key_len), *dotn = dot1;
		for (const char *d = dot1; d; d = memchr(d + 1, '.', (size_t)(end - d - 1)))
			dotn = d;
		bool prefixed = !(k[0] >= '0' && k[0] <= '9');
		const char *last = dotn && dotn[1] >= '0' && dotn[1] <= '9' ? dotn + 1 : NULL;
		uint64_t h[4];
		size_t nh = 0;
		h[nh++] = XXH3_64bits(k, v->key_len);
		if (prefixed && dot1)
			h[nh++] = XXH3_64bits(dot1 + 1, (size_t)(end - dot1 - 1));
		if (last)
			h[nh++] = XXH3_64bits(last, (size_t)(end - last));
		if (prefixed && last && dot1 != dotn) {
			buf_reset(&tmp);
			buf_put(&tmp, k, (size_t)(dot1 - k) + 1);
			buf_put(&tmp, last, (size_t)(end - last));
			h[nh++] = XXH3_64bits(tmp.p, tmp.len);
		}
		for (size_t j = 0; j < nh; j++) {
			bool dup = false;
			for (size_t m = 0; m < j && !dup; m++)
				dup = h[m] == h[j];
			if (dup)
				continue;
			b->keys[b->nkeys] = (struct keyref){h[j], (uint32_t)i, map_get(&b->keymap, h[j])};
			map_put(&b->keymap, h[j], (uint32_t)b->nkeys++);
		}
	}
	buf_free(&tmp);
}

static void build_customer_index(blocking_t *b)
{
	/* Customer -> invoices: a counting sort keeps the issue order. */
	b->cust_start = xcalloc(b->ncust + 1, sizeof *b->cust_start);
	b->cust_inv = xmalloc((b->ninv ? b->ninv : 1) * sizeof *b->cust_inv);
	for (size_t i = 0; i < b->ninv; i++)
		b->cust_start[b->inv[i].cust + 1]++;
	for (size_t c = 0; c < b->ncust; c++)
		b->cust_start[c + 1] += b->cust_start[c];
	uint32_t *fill = xmalloc((b->ncust + 1) * sizeof *fill);
	memcpy(fill, b->cust_start, (b->ncust + 1) * sizeof *fill);
	for (size_t i = 0; i < b->ninv; i++)
		b->cust_inv[fill[b->inv[i].cust]++] = (uint32_t)i;

	/* Token -> customers, in two passes over the names (count, fill). */
	map_init(&b->tokmap, b->ncust * 3);
	slice_t tok[16];
	uint32_t *count = NULL;
	size_t cap = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			b->tok_start = xcalloc(b->ntok + 1, sizeof *b->tok_start);
			for (size_t t = 0; t < b->ntok; t++)
				b->tok_start[t + 1] = b->tok_start[t] + count[t];
			b->tok_cust = xmalloc((b->tok_start[b->ntok] + 1) * sizeof *b->tok_cust);
			if (b->ntok)
				memcpy(count, b->tok_start, b->ntok * sizeof *count);
		}
		for (size_t c = 0; c < b->ncust; c++) {
			size_t nt = norm_tokens(b->cust[c].norm, b->cust[c].norm_len, tok, 16);
			nt = nt < 16 ? nt : 16;
			for (size_t k = 0; k < nt; k++) {
				uint64_t h = XXH3_64bits(tok[k].p, tok[k].len);
				/* A name repeating a token lists the customer once. */
				bool dup = false;
				for (size_t j = 0; j < k && !dup; j++)
					dup = tok[j].len == tok[k].len && !memcmp(tok[j].p, tok[k].p, tok[k].len);
				if (dup)
					continue;
				uint32_t t = map_get(&b->tokmap, h);
				if (pass == 0) {
					if (t == BLOCKING_NONE) {
						GROW(count, b->ntok, cap);
						count[b->ntok] = 0;
						t = (uint32_t)b->ntok++;
						map_put(&b->tokmap, h, t);
					}
					count[t]++;
				} else {
					b->tok_cust[count[t]++] = (uint32_t)c;
				}
			}
		}
	}
	if (!b->tok_start)
		b->tok_start = xcalloc(1, sizeof *b->tok_start);
	free(count);
	free(fill);
}

blocking_t *blocking_load(store_conn_t *c, int64_t org, atomic_int *cancel, char *err, size_t errlen)
{
	blocking_t *b = xcalloc(1, sizeof *b);
	map_init(&b->custmap, 1024);
	map_init(&b->cidmap, 1024);
	b->cap_cid = 1024;
	b->cid = xmalloc(b->cap_cid * sizeof *b->cid);
	b->ncid = 1; /* 0 means "no customer id" */
	if (load_invoices(b, c, org, cancel, err, errlen) || load_closed(b, c, org, cancel, err, errlen) ||
	    load_payments(b, c, org, cancel, err, errlen) ||
	    load_proposals(b, c, org, err, errlen)) {
		blocking_free(b);
		return NULL;
	}
	build_number_index(b);
	build_key_index(b);
	build_customer_index(b);
	return b;
}

void blocking_free(blocking_t *b)
{
	if (!b)
		return;
	arena_free(&b->a);
	free(b->inv);
	free(b->pay);
	free(b->cust);
	free(b->cid);
	map_free(&b->nummap);
	map_free(&b->amtmap);
	map_free(&b->custmap);
	map_free(&b->cidmap);
	map_free(&b->tokmap);
	map_free(&b->movedmap);
	map_free(&b->closedmap);
	map_free(&b->keymap);
	map_free(&b->aliasmap);
	free(b->closed);
	free(b->moved);
	free(b->keys);
	free(b->cust_start);
	free(b->cust_inv);
	free(b->tok_start);
	free(b->tok_cust);
	free(b->lens);
	free(b);
}

const blocking_invoice *blocking_invoices(const blocking_t *b, size_t *n)
{
	*n = b->ninv;
	return b->inv;
}

const blocking_payment *blocking_payments(const blocking_t *b, size_t *n)
{
	*n = b->npay;
	return b->pay;
}

void blocking_set_outstanding(blocking_t *b, size_t k, int64_t outstanding)
{
	b->inv[k].outstanding = outstanding;
	if (outstanding <= 0)
		return;
	if (!b->movedmap.cap)
		map_init(&b->movedmap, 1024);
	GROW(b->moved, b->nmoved, b->cap_moved);
	b->moved[b->nmoved] = (struct moved){(uint32_t)k, map_get(&b->movedmap, (uint64_t)outstanding)};
	map_put(&b->movedmap, (uint64_t)outstanding, (uint32_t)b->nmoved++);
}

size_t blocking_bytes(const blocking_t *b)
{
	size_t m = b->a.bytes + b->cap_inv * sizeof *b->inv + b->cap_pay * sizeof *b->pay +
	           b->cap_cust * sizeof *b->cust + b->cap_cid * sizeof *b->cid + (b->ninv ? b->ninv : 1) * 4 * sizeof *b->keys;
	const map *maps[] = {&b->nummap, &b->amtmap, &b->cidmap, &b->tokmap, &b->closedmap, &b->keymap};
	m += b->cap_closed * sizeof *b->closed;
	for (size_t i = 0; i < 6; i++)
		m += maps[i]->cap * sizeof(slot);
	m += (b->ncust + 1 + b->ninv + b->ntok + 1 + (b->ntok ? b->tok_start[b->ntok] : 0)) * sizeof(uint32_t);
	return m;
}

/* ---- candidates ---- */

void blocking_scratch_free(blocking_scratch *s)
{
	score_payment_free(&s->pay);
	free(s->cand);
	free(s->cust);
	free(s->cust_sim);
	free(s->sims);
	memset(s, 0, sizeof *s);
}

#define SIM_CACHE 65536 /* per thread: 1 MiB */

struct blocking_sim {
	uint64_t key;
	float sim;
};

/* Payers repeat (a customer pays many invoices, written a few ways), so
 * similarities are cached per (payer text, customer) across payments. */
static double name_sim(const blocking_t *b, blocking_scratch *s, uint32_t cust)
{
	if (!s->sims)
		s->sims = xcalloc(SIM_CACHE, sizeof *s->sims);
	uint64_t key = mix(s->payer_hash + 0x9E3779B97F4A7C15ull * (cust + 1)) | 1;
	struct blocking_sim *e = &s->sims[key & (SIM_CACHE - 1)];
	if (e->key == key)
		return e->sim;
	const customer *c = &b->cust[cust];
	if (blocking_is_alias(b, s, cust)) {
		e->key = key;
		e->sim = 1.0f;
		return 1.0;
	}
	/* Below 0.5 only "clash" matters, so the ratio may stop early. */
	double sim = score_name_sim(s->pay.payer.p, s->pay.payer.len, c->norm, c->norm_len, 0.5);
	e->key = key;
	e->sim = (float)sim;
	return e->sim;
}

static int cid_rel(uint32_t pay_cid, uint32_t inv_cid)
{
	if (!pay_cid || !inv_cid)
		return 0;
	return pay_cid == inv_cid ? 1 : -1;
}

static void add(const blocking_t *b, const score_opts *o, blocking_scratch *s, uint32_t pay_cid, uint32_t k)
{
	/* Matching never crosses currencies: 95.00 EUR does not pay 95.00 USD. */
	if (strncmp(b->inv[k].cur, s->cur, sizeof s->cur) != 0)
		return;
	for (size_t i = 0; i < s->ncand; i++)
		if (s->cand[i].inv == k)
			return;
	GROW(s->cand, s->ncand, s->cap);
	const blocking_invoice *v = &b->inv[k];
	score_invoice si = {v->canon, v->canon_len, v->outstanding, v->issue, v->due, v->key, v->key_len};
	score_cand *c = &s->cand[s->ncand++];
	c->inv = k;
	score_pair(o, &s->pay, &si, name_sim(b, s, v->cust), cid_rel(pay_cid, v->cid), c);
}

/* An invoice of the right amount holds rule 2 or 3 only when the customer
 * agrees: others are not worth scoring. */
static void add_agreeing(const blocking_t *b, const score_opts *o, blocking_scratch *s, uint32_t pay_cid, uint32_t k)
{
	int rel = cid_rel(pay_cid, b->inv[k].cid);
	if (rel > 0 || (rel == 0 && name_sim(b, s, b->inv[k].cust) >= o->name_threshold))
		add(b, o, s, pay_cid, k);
}

#define TOKEN_LIST_MAX 5000 /* a token this common names no one in particular */

static void similar_customers(const blocking_t *b, const score_opts *o, blocking_scratch *s)
{
	s->ncust = 0;
	slice_t tok[16];
	size_t nt = norm_tokens(s->pay.payer.p, s->pay.payer.len, tok, 16);
	nt = nt < 16 ? nt : 16;
	/* The two rarest tokens of the payer: a customer similar enough shares
	 * one of them, and common words ("trading") would list everybody. */
	uint32_t p0 = BLOCKING_NONE, p1 = BLOCKING_NONE;
	uint32_t n0 = 0, n1 = 0;
	for (size_t k = 0; k < nt; k++) {
		uint32_t t = map_get(&b->tokmap, XXH3_64bits(tok[k].p, tok[k].len));
		if (t == BLOCKING_NONE || t == p0 || t == p1)
			continue;
		uint32_t n = b->tok_start[t + 1] - b->tok_start[t];
		if (n > TOKEN_LIST_MAX)
			continue;
		if (p0 == BLOCKING_NONE || n < n0) {
			p1 = p0, n1 = n0;
			p0 = t, n0 = n;
		} else if (p1 == BLOCKING_NONE || n < n1) {
			p1 = t, n1 = n;
		}
	}
	uint32_t pick[2] = {p0, p1};
	for (int j = 0; j < 2 && pick[j] != BLOCKING_NONE; j++) {
		for (uint32_t e = b->tok_start[pick[j]]; e < b->tok_start[pick[j] + 1]; e++) {
			uint32_t cu = b->tok_cust[e];
			double sim = name_sim(b, s, cu);
			if (sim < o->name_threshold)
				continue;
			bool dup = false;
			for (size_t k = 0; k < s->ncust && !dup; k++)
				dup = s->cust[k] == cu;
			if (dup)
				continue;
			if (s->ncust == s->cap_cust) {
				s->cap_cust = s->cap_cust ? s->cap_cust * 2 : 16;
				s->cust = xrealloc(s->cust, s->cap_cust * sizeof *s->cust);
				s->cust_sim = xrealloc(s->cust_sim, s->cap_cust * sizeof *s->cust_sim);
			}
			s->cust[s->ncust] = cu;
			s->cust_sim[s->ncust++] = (float)sim;
		}
	}
}

/* Partial payments with a mistyped reference: the recent invoices of the
 * payer's customers that the payment fits into and whose number is near. */
static void fallback(const blocking_t *b, const score_opts *o, blocking_scratch *s, uint32_t cid)
{
	similar_customers(b, o, s);
	/* The best-named customers only: "Tan, Ng & Partners" resembles every
	 * "X, Y & Partners" above the threshold, but itself best. */
	float top = 0;
	for (size_t j = 0; j < s->ncust; j++)
		top = s->cust_sim[j] > top ? s->cust_sim[j] : top;
	size_t kept = 0;
	for (size_t j = 0; j < s->ncust; j++)
		if (s->cust_sim[j] >= top - 0.05f) {
			s->cust[kept] = s->cust[j];
			s->cust_sim[kept++] = s->cust_sim[j];
		}
	s->ncust = kept;
	if (s->ncust > FALLBACK_CUSTOMERS)
		return; /* the payer's name picks no one in particular */
	size_t budget = FALLBACK_BUDGET;
	date_t hi = s->pay.date + o->days_before_issue, lo = s->pay.date - FALLBACK_DAYS;
	for (size_t j = 0; j < s->ncust && budget; j++) {
		uint32_t cu = s->cust[j];
		uint32_t l = b->cust_start[cu], r = b->cust_start[cu + 1];
		while (l < r) { /* first invoice issued after hi */
			uint32_t m = l + (r - l) / 2;
			if (b->inv[b->cust_inv[m]].issue <= hi)
				l = m + 1;
			else
				r = m;
		}
		for (uint32_t e = l; e-- > b->cust_start[cu] && budget; budget--) {
			const blocking_invoice *v = &b->inv[b->cust_inv[e]];
			if (v->issue < lo)
				break;
			if (v->outstanding <= s->pay.amount)
				continue;
			if (score_ref_distance(&s->pay, v->canon, v->canon_len, o->max_ref_distance) <= o->max_ref_distance)
				add(b, o, s, cid, b->cust_inv[e]);
		}
	}
}

void blocking_candidates(const blocking_t *b, const score_opts *o, size_t i, blocking_scratch *s)
{
	const blocking_payment *p = &b->pay[i];
	s->ncand = 0;
	memcpy(s->cur, p->cur, sizeof s->cur);
	size_t d = (size_t)o->max_ref_distance;
	score_payment_prepare(&s->pay, p->payer, p->payer_len, p->ref, p->ref_len, p->amount, p->date,
	                      b->min_len > d ? b->min_len - d : 1, b->max_len + d);
	s->payer_hash = XXH3_64bits(s->pay.payer.p, s->pay.payer.len);
	const char *r = s->pay.ref.p;
	size_t rl = s->pay.ref.len;
	for (size_t at = 0; at < rl; at++) {
		if (!b->first[(unsigned char)r[at]])
			continue;
		for (size_t k = 0; k < b->nlens && at + b->lens[k] <= rl; k++)
			for (uint32_t v = map_get(&b->nummap, XXH3_64bits(r + at, b->lens[k])); v != BLOCKING_NONE;
			     v = b->inv[v].next_num)
				add(b, o, s, p->cid, v);
	}
	/* Paid and void invoices the reference names. */
	s->closed_named = 0;
	for (size_t at = 0; at < rl && b->nclosed; at++) {
		if (!b->cfirst[(unsigned char)r[at]] || (at && !s->pay.start.p[at] && r[at - 1] >= '0' && r[at - 1] <= '9' &&
		                                        r[at] >= '0' && r[at] <= '9'))
			continue; /* not where a number starts */
		for (size_t k = 0; k < b->nclen; k++)
			for (uint32_t v = at + b->clen[k] <= rl ? map_get(&b->closedmap, XXH3_64bits(r + at, b->clen[k]))
			                                        : BLOCKING_NONE;
			     v != BLOCKING_NONE; v = b->closed[v].next)
				if (score_ref_contains(&s->pay, b->closed[v].canon, b->closed[v].len)) {
					s->closed_named++;
					break;
				}
	}
	/* Numbers written otherwise: "INV42", "#42", "2025/42". */
	for (size_t k = 0; k < s->pay.nkey; k++) {
		uint64_t h = XXH3_64bits(s->pay.keys.p + s->pay.key[k].off, s->pay.key[k].len);
		size_t walk = 0;
		for (uint32_t e = map_get(&b->keymap, h); e != BLOCKING_NONE && walk < KEY_WALK_MAX; e = b->keys[e].next)
			if (b->keys[e].h == h && b->inv[b->keys[e].inv].outstanding > 0 && ++walk)
				add(b, o, s, p->cid, b->keys[e].inv);
	}
	/* Invoices of the same amount, as loaded or as set since; on data with
	 * many equal amounts (a subscription price) the walk is bounded. */
	size_t walk = 0;
	for (uint32_t v = p->amount > 0 ? map_get(&b->amtmap, (uint64_t)p->amount) : BLOCKING_NONE;
	     v != BLOCKING_NONE && walk < AMOUNT_WALK_MAX; v = b->inv[v].next_amt, walk++)
		if (b->inv[v].outstanding == p->amount)
			add_agreeing(b, o, s, p->cid, v);
	for (uint32_t m = p->amount > 0 ? map_get(&b->movedmap, (uint64_t)p->amount) : BLOCKING_NONE;
	     m != BLOCKING_NONE && walk < AMOUNT_WALK_MAX; m = b->moved[m].next, walk++)
		if (b->inv[b->moved[m].inv].outstanding == p->amount)
			add_agreeing(b, o, s, p->cid, b->moved[m].inv);
	bool near = false;
	for (size_t k = 0; k < s->ncand && !near; k++)
		near = s->cand[k].ref_dist <= o->max_ref_distance && (s->cand[k].flags & SCORE_AMOUNT_FITS) &&
		       !(s->cand[k].flags & SCORE_CUST_CLASH);
	/* Only a token with about as many digits as a number can be one
	 * mistyped ("TRANSFER 733683" is not). */
	bool numberish = false;
	for (size_t k = 0; k < s->pay.ntok && !numberish; k++)
		numberish = s->pay.tok[k].ndigits + d >= b->min_digits && s->pay.tok[k].ndigits <= b->max_digits + d;
	if (!near && numberish && p->amount > 0)
		fallback(b, o, s, p->cid);
}

void blocking_payer_customers(const blocking_t *b, const score_opts *o, blocking_scratch *s)
{
	similar_customers(b, o, s);
	uint32_t a = b->aliasmap.cap ? map_get(&b->aliasmap, s->payer_hash) : BLOCKING_NONE;
	bool listed = false;
	for (size_t k = 0; k < s->ncust && !listed; k++)
		listed = s->cust[k] == a;
	if (a != BLOCKING_NONE && !listed) {
		if (s->ncust == s->cap_cust) {
			s->cap_cust = s->cap_cust ? s->cap_cust * 2 : 16;
			s->cust = xrealloc(s->cust, s->cap_cust * sizeof *s->cust);
			s->cust_sim = xrealloc(s->cust_sim, s->cap_cust * sizeof *s->cust_sim);
		}
		s->cust[s->ncust] = a;
		s->cust_sim[s->ncust++] = 1.0f;
	}
	/* Best first (insertion sort: a handful). */
	for (size_t i = 1; i < s->ncust; i++)
		for (size_t j = i; j > 0 && s->cust_sim[j] > s->cust_sim[j - 1]; j--) {
			uint32_t c = s->cust[j];
			float f = s->cust_sim[j];
			s->cust[j] = s->cust[j - 1], s->cust_sim[j] = s->cust_sim[j - 1];
			s->cust[j - 1] = c, s->cust_sim[j - 1] = f;
		}
}

const uint32_t *blocking_customer_invoices(const blocking_t *b, uint32_t k, size_t *n)
{
	*n = b->cust_start[k + 1] - b->cust_start[k];
	return b->cust_inv + b->cust_start[k];
}

uint32_t blocking_find_customer(const blocking_t *b, const char *s, size_t n)
{
	for (uint32_t k = map_get(&b->custmap, XXH3_64bits(s, n)); k != BLOCKING_NONE; k = b->cust[k].next)
		if (b->cust[k].raw_len == n && !memcmp(b->cust[k].raw, s, n))
			return k;
	return BLOCKING_NONE;
}

void blocking_add_alias(blocking_t *b, const char *payer_norm, size_t plen, const char *cust, size_t clen)
{
	uint32_t k = blocking_find_customer(b, cust, clen);
	if (k == BLOCKING_NONE)
		return; /* the customer has nothing open: nothing to find */
	if (!b->aliasmap.cap)
		map_init(&b->aliasmap, 64);
	map_put(&b->aliasmap, XXH3_64bits(payer_norm, plen), k);
}

bool blocking_is_alias(const blocking_t *b, const blocking_scratch *s, uint32_t k)
{
	return b->aliasmap.cap && map_get(&b->aliasmap, s->payer_hash) == k;
}
