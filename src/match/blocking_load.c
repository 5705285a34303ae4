#include "match/blocking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/mem.h"
#include "match/blocking_int.h"
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

/* Runs q (?1 = org) and hands each row to row, checking cancel every 65536
 * rows; 0, or -1 with "loading WHAT: ..." or "cancelled". */
static int load_rows(blocking_t *b, store_conn_t *c, const char *q, int64_t org, const char *what,
                     atomic_int *cancel, void (*row)(blocking_t *b, store_stmt_t *st, buf_t *tmp), char *err,
                     size_t errlen)
{
	store_stmt_t *st = store_prepare(c, q);
	if (!st) {
		snprintf(err, errlen, "loading %s: %s", what, store_errmsg(c));
		return -1;
	}
	store_bind_i64(st, 1, org);
	buf_t tmp = BUF_INIT;
	store_status rc;
	for (size_t i = 0; (rc = store_step(st)) == STORE_ROW; i++) {
		if ((i & 0xffff) == 0 && cancelled(cancel))
			break;
		row(b, st, &tmp);
	}
	store_reset(st);
	buf_free(&tmp);
	if (rc == STORE_ROW) {
		snprintf(err, errlen, "cancelled");
		return -1;
	}
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "loading %s: %s", what, store_errmsg(c));
		return -1;
	}
	return 0;
}

static void invoice_row(blocking_t *b, store_stmt_t *st, buf_t *tmp)
{
	GROW(b->inv, b->ninv, b->cap_inv);
	blocking_invoice *v = &b->inv[b->ninv];
	size_t n;
	const char *s;
	v->rid = store_col_i64(st, 0);
	s = col(st, 1, &n);
	v->id = arena_dup(&b->a, s, n);
	v->id_len = (uint16_t)n;
	s = col(st, 2, &n);
	buf_reset(tmp);
	norm_invoice(s, n, tmp);
	n = tmp->len > UINT16_MAX ? UINT16_MAX : tmp->len;
	v->canon = arena_dup(&b->a, tmp->p ? tmp->p : "", n);
	v->canon_len = (uint16_t)n;
	s = col(st, 2, &n);
	buf_reset(tmp);
	norm_invoice_key(s, n, tmp);
	n = tmp->len > UINT16_MAX ? UINT16_MAX : tmp->len;
	v->key = arena_dup(&b->a, tmp->p ? tmp->p : "", n);
	v->key_len = (uint16_t)n;
	s = col(st, 3, &n);
	v->cust = intern_customer(b, s, n, tmp);
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

static int load_invoices(blocking_t *b, store_conn_t *c, int64_t org, atomic_int *cancel, char *err, size_t errlen)
{
	static const char *q = "SELECT rid, id, number, customer, customer_id, issue_date, due_date, amount, outstanding, "
	                       "currency FROM invoices WHERE org = ?1 AND outstanding > 0 AND status <> 'void' "
	                       "ORDER BY issue_date, rid";
	return load_rows(b, c, q, org, "invoices", cancel, invoice_row, err, errlen);
}

static void closed_row(blocking_t *b, store_stmt_t *st, buf_t *tmp)
{
	size_t n;
	const char *s = col(st, 0, &n);
	buf_reset(tmp);
	norm_invoice(s, n, tmp);
	if (!tmp->len)
		return;
	n = tmp->len > UINT16_MAX ? UINT16_MAX : tmp->len;
	uint64_t h = XXH3_64bits(tmp->p, n);
	GROW(b->closed, b->nclosed, b->cap_closed);
	b->closed[b->nclosed] = (struct closed){arena_dup(&b->a, tmp->p, n), (uint16_t)n, map_get(&b->closedmap, h)};
	map_put(&b->closedmap, h, (uint32_t)b->nclosed++);
	b->cfirst[(unsigned char)tmp->p[0]] = 1;
	size_t k = 0;
	while (k < b->nclen && b->clen[k] != n)
		k++;
	if (k == b->nclen && k < CLOSED_LENS)
		b->clen[b->nclen++] = n;
}

static int load_closed(blocking_t *b, store_conn_t *c, int64_t org, atomic_int *cancel, char *err, size_t errlen)
{
	static const char *q = "SELECT number FROM invoices WHERE org = ?1 AND (outstanding <= 0 OR status = 'void')";
	map_init(&b->closedmap, 1024);
	return load_rows(b, c, q, org, "invoices", cancel, closed_row, err, errlen);
}

static void payment_row(blocking_t *b, store_stmt_t *st, buf_t *tmp)
{
	(void)tmp;
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
	s = store_col_text(st, 8, &n);
	p->account = n ? XXH3_64bits(s, n) | 1 : 0;
	b->npay++;
}

static int load_payments(blocking_t *b, store_conn_t *c, int64_t org, atomic_int *cancel, char *err, size_t errlen)
{
	/* A payment a person or an earlier run settled (any state but
	 * proposed) is left alone; proposals are decided again. */
	static const char *q = "SELECT rid, id, date, payer, amount, reference, customer_id, currency, payer_account "
	                       "FROM payments p "
	                       "WHERE org = ?1 AND NOT EXISTS (SELECT 1 FROM allocations a "
	                       "WHERE a.payment = p.rid AND a.state <> 'proposed') ORDER BY date, rid";
	return load_rows(b, c, q, org, "payments", cancel, payment_row, err, errlen);
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
	size_t nv = b->ninv ? b->ninv : 1;
	b->cust_issue = xmalloc(nv * sizeof *b->cust_issue);
	b->cust_out = xmalloc(nv * sizeof *b->cust_out);
	b->inv_cpos = xmalloc(nv * sizeof *b->inv_cpos);
	b->cust_span = xcalloc(b->ncust + 1, sizeof *b->cust_span);
	for (size_t e = 0; e < b->ninv; e++) {
		const blocking_invoice *v = &b->inv[b->cust_inv[e]];
		b->cust_issue[e] = v->issue;
		b->cust_out[e] = v->outstanding;
		b->inv_cpos[b->cust_inv[e]] = (uint32_t)e;
		if (v->due - v->issue > b->cust_span[v->cust])
			b->cust_span[v->cust] = v->due - v->issue;
	}

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
	map_free(&b->acctmap);
	free(b->closed);
	free(b->moved);
	free(b->keys);
	free(b->cust_start);
	free(b->cust_inv);
	free(b->cust_issue);
	free(b->cust_out);
	free(b->inv_cpos);
	free(b->cust_span);
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
	b->cust_out[b->inv_cpos[k]] = outstanding;
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
	m += b->ninv * (sizeof *b->cust_issue + sizeof *b->cust_out + sizeof *b->inv_cpos) + b->ncust * sizeof(int32_t);
	return m;
}

/* ---- candidates ---- */

