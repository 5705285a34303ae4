#include <ctype.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/analytics.h"
#include "analytics/internal.h"
#include "analytics/search.h"
#include "core/seal.h"
#include "store/searchidx.h"
#include "store/secret.h"
#include "core/mem.h"

/* DESIGN
 * One fixed statement per (entity, sort): every filter is always present
 * and switched off by binding NULL or an open bound, so the set of SQL
 * texts is finite and each is prepared once per connection.
 *
 * Keyset pagination: a page continues strictly after the last row's
 * (sort value k, rid), so a deep page seeks like the first instead of
 * skipping OFFSET rows. SQLite does not seek an index on a row value
 * (k, rid) < (?, ?): it seeks k <= ? and then steps over every row of the
 * cursor's own k (a busy day holds thousands). So the bound is split into
 * two arms that each seek, "k = ? AND rid < ?" and "k < ?", merged in
 * index order by UNION ALL; the LIMIT stops the merge early. The range
 * filter on the sort column is folded into that bound in C (the tighter
 * of the two), leaving the planner one range on the index it walks; the
 * other column's range carries a unary + so that the planner never walks
 * the wrong index (as it would, guessing without statistics).
 *
 * Parameters, the same for every statement:
 *   ?1 org  ?2 ?3 (sort value, rid) bound  ?4 ?5 date from/to
 *   ?6 ?7 amount min/max  ?8 q (lowercased)  ?9 category  ?10 status
 *   ?11 customer (payments: payer)  ?12 creator  ?13 vendor  ?14 limit
 * Columns: rid, the entity's columns in entity_def order, invoices'
 * outstanding, then k (the sort value). */

#define ARM(cols, t, key, cond, filt) "SELECT rid, " cols ", " key " AS k FROM " t " WHERE org = ?1 AND " cond filt
#define LIST4(cols, t, dc, amt, filt)                                                                          \
	{ARM(cols, t, dc, dc " = ?2 AND rid < ?3 AND +" amt " BETWEEN ?6 AND ?7", filt)                         \
	 " UNION ALL " ARM(cols, t, dc, dc " < ?2 AND " dc " >= ?4 AND +" amt " BETWEEN ?6 AND ?7", filt)       \
	 " ORDER BY k DESC, rid DESC LIMIT ?14",                                                                 \
	 ARM(cols, t, dc, dc " = ?2 AND rid > ?3 AND +" amt " BETWEEN ?6 AND ?7", filt)                          \
	 " UNION ALL " ARM(cols, t, dc, dc " > ?2 AND " dc " <= ?5 AND +" amt " BETWEEN ?6 AND ?7", filt)       \
	 " ORDER BY k, rid LIMIT ?14",                                                                           \
	 ARM(cols, t, amt, amt " = ?2 AND rid < ?3 AND +" dc " BETWEEN ?4 AND ?5", filt)                         \
	 " UNION ALL " ARM(cols, t, amt, amt " < ?2 AND " amt " >= ?6 AND +" dc " BETWEEN ?4 AND ?5", filt)     \
	 " ORDER BY k DESC, rid DESC LIMIT ?14",                                                                 \
	 ARM(cols, t, amt, amt " = ?2 AND rid > ?3 AND +" dc " BETWEEN ?4 AND ?5", filt)                         \
	 " UNION ALL " ARM(cols, t, amt, amt " > ?2 AND " amt " <= ?7 AND +" dc " BETWEEN ?4 AND ?5", filt)     \
	 " ORDER BY k, rid LIMIT ?14"}

#define Q(col) " OR instr(lower(" col "), ?8) > 0"
/* '' is stored for the org's own currency: a list names it. */
#define CUR "coalesce(nullif(currency, ''), (SELECT o.currency FROM orgs o WHERE o.id = ?1))"
#define EQ(col, n) " AND (?" n " IS NULL OR " col " = ?" n ")"

/* A searched list (q of SEARCH_MIN_CHARS or more): the trigram index drives
 * (search.h) and the rows it names are sorted, so the cost follows the
 * matches; one statement per sort, the keyset bound is a plain OR. ?8 still
 * checks the columns exactly (filt), the index only narrows. The index
 * holds the rows up to rid ?16 (searchidx.h): those above it, just
 * imported and not indexed yet, are scanned by rid (the unary + keep the
 * planner on that range), so the answer never depends on the index's
 * progress. */
#define SARM(cols, t, key, keyset, dc, amt, filt)                                                              \
	"SELECT rid, " cols ", " key " AS k FROM " SEARCH_FROM(t) " WHERE " SEARCH_COND(t) " AND rid <= ?16"     \
	" AND org = ?1 AND (" keyset ") AND " dc " BETWEEN ?4 AND ?5 AND " amt " BETWEEN ?6 AND ?7" filt         \
	" UNION ALL SELECT rid, " cols ", " key " AS k FROM " t " WHERE rid > ?16 AND +org = ?1 AND (" keyset     \
	") AND +" dc " BETWEEN ?4 AND ?5 AND +" amt " BETWEEN ?6 AND ?7" filt
#define SEARCH4(cols, t, dc, amt, filt)                                                                        \
	{SARM(cols, t, dc, dc " = ?2 AND rid < ?3 OR " dc " < ?2", dc, amt, filt)                               \
	 " ORDER BY k DESC, rid DESC LIMIT ?14",                                                                 \
	 SARM(cols, t, dc, dc " = ?2 AND rid > ?3 OR " dc " > ?2", dc, amt, filt) " ORDER BY k, rid LIMIT ?14",  \
	 SARM(cols, t, amt, amt " = ?2 AND rid < ?3 OR " amt " < ?2", dc, amt, filt)                             \
	 " ORDER BY k DESC, rid DESC LIMIT ?14",                                                                 \
	 SARM(cols, t, amt, amt " = ?2 AND rid > ?3 OR " amt " > ?2", dc, amt, filt) " ORDER BY k, rid LIMIT ?14"}

/* Per kind: (columns, table, date column, amount column, filters). */
#define KINDS(X)                                                                                               \
	X(ENT_COSTS, "id, date, category, amount, vendor, description", "costs", "date", "amount",               \
	  " AND (?8 IS NULL" Q("id") Q("category") Q("vendor") Q("description") ")" EQ("category", "9")          \
	  EQ("vendor", "13"))                                                                                    \
	X(ENT_SALES_ORDERS, "id, date, customer, status, amount", "sales_orders", "date", "amount",               \
	  " AND (?8 IS NULL" Q("id") Q("customer") ")" EQ("status", "10") EQ("customer", "11"))                  \
	X(ENT_INVOICES, "id, number, customer, issue_date, due_date, amount, customer_id, status, " CUR           \
	  ", outstanding", "invoices", "issue_date", "amount",                                                                    \
	  " AND (?8 IS NULL" Q("id") Q("number") Q("customer") Q("customer_id") ")" EQ("status", "10")           \
	  EQ("customer", "11"))                                                                                  \
	X(ENT_PAYMENTS, "id, date, payer, amount, reference, customer_id, " CUR, "payments", "date", "amount",          \
	  " AND (?8 IS NULL" Q("id") Q("payer") Q("reference") Q("customer_id") ")" EQ("payer", "11"))           \
	/* A lead's amount is its value; a lead without one sorts as 0. */                                      \
	X(ENT_LEADS, "id, created_at, creator, status, name, mobile, source, followup_date, value", "leads",      \
	  "created_date", "coalesce(value, 0)",                                                                  \
	  " AND (?8 IS NULL" Q("id") Q("name") Q("creator") Q("mobile") Q("source") ")" EQ("status", "10")       \
	  EQ("creator", "12"))

#define AS_LIST(k, cols, t, dc, amt, filt) [k] = LIST4(cols, t, dc, amt, filt),
#define AS_SEARCH(k, cols, t, dc, amt, filt) [k] = SEARCH4(cols, t, dc, amt, filt),

static const char *const list_sql[ENT__COUNT][4] = {KINDS(AS_LIST)};
static const char *const search_sql[ENT__COUNT][4] = {KINDS(AS_SEARCH)};

enum { F_CATEGORY = 1, F_STATUS = 2, F_CUSTOMER = 4, F_CREATOR = 8, F_VENDOR = 16 };

static const unsigned filters[ENT__COUNT] = {
	[ENT_COSTS] = F_CATEGORY | F_VENDOR,
	[ENT_SALES_ORDERS] = F_STATUS | F_CUSTOMER,
	[ENT_INVOICES] = F_STATUS | F_CUSTOMER,
	[ENT_PAYMENTS] = F_CUSTOMER,
	[ENT_LEADS] = F_STATUS | F_CREATOR,
};

#define MAX_Q 200

/* Columns a list shows (DATA.md), in entity_def order: a payment's
 * payer_account (an import field for the matcher) is not one of them. */
static const int listed[ENT__COUNT] = {
	[ENT_COSTS] = 6, [ENT_SALES_ORDERS] = 5, [ENT_INVOICES] = 9, [ENT_PAYMENTS] = 7, [ENT_LEADS] = 9,
};

int analytics_list_ncols(entity_kind k)
{
	const entity_def *d = entity_get(k);
	int n = 0;
	while (n < d->ncols && n < ENTITY_MAXCOLS && d->cols[n].name)
		n++;
	return n > listed[k] ? listed[k] : n;
}

static int ncols(const entity_def *d)
{
	for (int k = 0; k < ENT__COUNT; k++)
		if (d == entity_get((entity_kind)k))
			return analytics_list_ncols((entity_kind)k);
	return 0;
}

const char *const *lists_statements(size_t *n)
{
	*n = ENT__COUNT * 4;
	return &list_sql[0][0];
}

const char *const *lists_search_statements(size_t *n)
{
	*n = ENT__COUNT * 4;
	return &search_sql[0][0];
}

void analytics_list_params_init(analytics_list_params *lp, int64_t org)
{
	*lp = (analytics_list_params){.org = org};
}

uint32_t analytics_field_bit(entity_kind k, const char *name, size_t len)
{
	const entity_def *d = entity_get(k);
	if (!d)
		return 0;
	if (k == ENT_INVOICES && len == 11 && !memcmp(name, "outstanding", 11))
		return ANALYTICS_FIELD_OUTSTANDING;
	for (int i = 0; i < ncols(d); i++)
		if (strlen(d->cols[i].name) == len && !memcmp(d->cols[i].name, name, len))
			return 1u << i;
	return 0;
}

/* ---- cursors ----
 * A cursor is the sealed (core/seal.h) tuple ('L', kind, sort, org, sort
 * value, rid): opaque, bound to its org, collection and sort, and it cannot
 * be forged to start anywhere; the rid inside, a counter shared by every
 * org, is never shown. */

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#define CURSOR_PT 27

static void cursor_pt(uint8_t pt[CURSOR_PT], entity_kind k, analytics_sort s, int64_t org, int64_t key,
                      int64_t rid)
{
	pt[0] = 'L';
	pt[1] = (uint8_t)k;
	pt[2] = (uint8_t)s;
	put_u64(pt + 3, (uint64_t)org);
	put_u64(pt + 11, (uint64_t)key);
	put_u64(pt + 19, (uint64_t)rid);
}

static void put_cursor(buf_t *out, const uint8_t sk[SEAL_KEYBYTES], entity_kind k, analytics_sort s, int64_t org,
                       int64_t key, int64_t rid)
{
	uint8_t pt[CURSOR_PT];
	char tok[SEAL_TOKEN_BUFSZ];
	cursor_pt(pt, k, s, org, key, rid);
	size_t n = seal_token(sk, pt, sizeof pt, tok);
	buf_putc(out, '"');
	buf_put(out, tok, n);
	buf_putc(out, '"');
}

static bool get_cursor(const uint8_t sk[SEAL_KEYBYTES], const char *c, entity_kind k, analytics_sort s, int64_t org,
                       int64_t *key, int64_t *rid)
{
	uint8_t pt[SEAL_MAX_PT], want[CURSOR_PT];
	if (seal_open(sk, c, pt, sizeof pt) != CURSOR_PT)
		return false;
	cursor_pt(want, k, s, org, 0, 0);
	if (memcmp(pt, want, 11) != 0)
		return false; /* another org's, collection's or sort's cursor */
	*key = (int64_t)get_u64(pt + 11);
	*rid = (int64_t)get_u64(pt + 19);
	return true;
}

/* ---- the list ---- */

static void put_col(buf_t *out, store_stmt_t *st, int col, col_type t)
{
	size_t len;
	const char *s;
	char d[DATE_BUFSZ];
	if (store_col_is_null(st, col)) {
		buf_puts(out, "null");
		return;
	}
	switch (t) {
	case COL_DATE:
		date_format((date_t)store_col_i64(st, col), d);
		buf_putc(out, '"');
		buf_put(out, d, 10);
		buf_putc(out, '"');
		break;
	case COL_MONEY:
		buf_put_i64(out, store_col_i64(st, col));
		break;
	default:
		s = store_col_text(st, col, &len);
		buf_json_str(out, s, len);
		break;
	}
}

static int check_filters(entity_kind k, const analytics_list_params *lp, char *err, size_t errlen)
{
	static const struct {
		unsigned bit;
		const char *name;
		size_t off;
	} f[] = {
		{F_CATEGORY, "category", offsetof(analytics_list_params, category)},
		{F_STATUS, "status", offsetof(analytics_list_params, status)},
		{F_CUSTOMER, "customer", offsetof(analytics_list_params, customer)},
		{F_CREATOR, "creator", offsetof(analytics_list_params, creator)},
		{F_VENDOR, "vendor", offsetof(analytics_list_params, vendor)},
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		const char *v = *(const char *const *)((const char *)lp + f[i].off);
		if (v && !(filters[k] & f[i].bit)) {
			snprintf(err, errlen, "%s cannot be filtered by %s", entity_get(k)->name, f[i].name);
			return -1;
		}
	}
	return 0;
}

static void bind_opt(store_stmt_t *st, int idx, const char *s)
{
	if (s)
		store_bind_text(st, idx, s, strlen(s));
	else
		store_bind_null(st, idx);
}

int analytics_list(store_conn_t *c, entity_kind k, const analytics_list_params *lp, buf_t *out, char *err,
                   size_t errlen)
{
	const entity_def *d = entity_get(k);
	if (!d) {
		snprintf(err, errlen, "unknown entity");
		return -1;
	}
	int limit = lp->limit ? lp->limit : 100;
	if (limit < 1 || limit > 1000) {
		snprintf(err, errlen, "limit must be 1..1000");
		return -1;
	}
	if ((unsigned)lp->sort > ANALYTICS_SORT_AMOUNT_ASC) {
		snprintf(err, errlen, "unknown sort");
		return -1;
	}
	if (check_filters(k, lp, err, errlen) != 0)
		return -1;
	bool desc = lp->sort == ANALYTICS_SORT_DATE_DESC || lp->sort == ANALYTICS_SORT_AMOUNT_DESC;
	bool by_date = lp->sort == ANALYTICS_SORT_DATE_DESC || lp->sort == ANALYTICS_SORT_DATE_ASC;
	int64_t from = lp->has_from ? lp->from : INT32_MIN, to = lp->has_to ? lp->to : INT32_MAX;
	int64_t lo = lp->has_min ? lp->min_amount : INT64_MIN, hi = lp->has_max ? lp->max_amount : INT64_MAX;
	/* The open end of the sort column's range is the starting bound. */
	int64_t key = by_date ? (desc ? to : from) : (desc ? hi : lo), rid = desc ? INT64_MAX : INT64_MIN;
	uint8_t sk[SEAL_KEYBYTES];
	if (secret_key(c, sk) != 0)
		return an_store_err(c, "reading the store key", err, errlen);
	if (lp->cursor) {
		int64_t ck, cr;
		if (!get_cursor(sk, lp->cursor, k, lp->sort, lp->org, &ck, &cr)) {
			snprintf(err, errlen, "invalid cursor");
			return -1;
		}
		if (desc ? (ck < key || (ck == key && cr < rid)) : (ck > key || (ck == key && cr > rid))) {
			key = ck;
			rid = cr;
		}
	}
	char q[MAX_Q + 1];
	bool has_q = lp->q && lp->q[0];
	if (has_q) {
		size_t n = strlen(lp->q);
		if (n > MAX_Q) {
			snprintf(err, errlen, "q is longer than %d bytes", MAX_Q);
			return -1;
		}
		for (size_t i = 0; i <= n; i++)
			q[i] = (char)tolower((unsigned char)lp->q[i]);
	}
	buf_t terms = BUF_INIT;
	bool indexed = has_q && search_terms(c, q, &terms);
	store_stmt_t *st = store_prepare(c, indexed ? search_sql[k][lp->sort] : list_sql[k][lp->sort]);
	if (!st) {
		buf_free(&terms);
		return an_store_err(c, "prepare", err, errlen);
	}
	if (indexed) {
		int64_t upto;
		if (!searchidx_upto(c, d->name, &upto)) {
			buf_free(&terms);
			store_reset(st);
			return an_store_err(c, "search index", err, errlen);
		}
		store_bind_text(st, 15, terms.p, terms.len);
		store_bind_i64(st, 16, upto);
	}
	buf_free(&terms);
	store_bind_i64(st, 1, lp->org);
	store_bind_i64(st, 2, key);
	store_bind_i64(st, 3, rid);
	store_bind_i64(st, 4, from);
	store_bind_i64(st, 5, to);
	store_bind_i64(st, 6, lo);
	store_bind_i64(st, 7, hi);
	bind_opt(st, 8, has_q ? q : NULL);
	bind_opt(st, 9, lp->category);
	bind_opt(st, 10, lp->status);
	bind_opt(st, 11, lp->customer);
	bind_opt(st, 12, lp->creator);
	bind_opt(st, 13, lp->vendor);
	store_bind_i64(st, 14, limit + 1); /* one more tells whether a next page exists */

	uint32_t fields = lp->fields ? lp->fields | 1u : ~0u;
	int nc = ncols(d);
	int sort_col = 1 + nc + (k == ENT_INVOICES);
	int64_t last_key = 0, last_rid = 0;
	int n = 0;
	store_status rc;
	buf_puts(out, "{\"items\":[");
	while ((rc = store_step(st)) == STORE_ROW) {
		if (n == limit)
			break;
		buf_puts(out, n ? ",{" : "{");
		bool first = true;
		for (int i = 0; i < nc; i++) {
			if (!(fields & (1u << i)))
				continue;
			buf_printf(out, "%s\"%s\":", first ? "" : ",", d->cols[i].name);
			put_col(out, st, 1 + i, d->cols[i].type);
			first = false;
		}
		if (k == ENT_INVOICES && (fields & ANALYTICS_FIELD_OUTSTANDING))
			buf_printf(out, ",\"outstanding\":%lld", (long long)store_col_i64(st, 1 + nc));
		buf_putc(out, '}');
		last_key = store_col_i64(st, sort_col);
		last_rid = store_col_i64(st, 0);
		n++;
	}
	store_reset(st);
	if (rc != STORE_ROW && rc != STORE_DONE)
		return an_store_err(c, "list", err, errlen);
	buf_puts(out, "],\"next_cursor\":");
	if (rc == STORE_ROW)
		put_cursor(out, sk, k, lp->sort, lp->org, last_key, last_rid);
	else
		buf_puts(out, "null");
	buf_putc(out, '}');
	return 0;
}
