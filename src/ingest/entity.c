#include "ingest/entity.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "core/currency.h"
#include "core/utf8.h"

static const char *const sales_status[] = {"pending", "confirmed", "shipped", "completed", "cancelled", NULL};
static const char *const invoice_status[] = {"open", "void", NULL};
static const char *const lead_status[] = {"new", "contacted", "qualified", "proposal", "won", "lost", NULL};

#define ID {"id", COL_TEXT, false, NULL, NULL}

static const entity_def defs[ENT__COUNT] = {
	[ENT_COSTS] = {"costs", TBL_COSTS, 6,
		{ID, {"date", COL_DATE, true, NULL, NULL}, {"category", COL_TEXT, true, NULL, NULL},
		 {"amount", COL_MONEY, true, NULL, NULL}, {"vendor", COL_TEXT, false, NULL, ""},
		 {"description", COL_TEXT, false, NULL, ""}}},
	[ENT_SALES_ORDERS] = {"sales_orders", TBL_SALES_ORDERS, 5,
		{ID, {"date", COL_DATE, true, NULL, NULL}, {"customer", COL_TEXT, true, NULL, NULL},
		 {"status", COL_ENUM, true, sales_status, NULL}, {"amount", COL_MONEY, true, NULL, NULL}}},
	[ENT_INVOICES] = {"invoices", TBL_INVOICES, 9,
		{ID, {"number", COL_TEXT, true, NULL, NULL}, {"customer", COL_TEXT, true, NULL, NULL},
		 {"issue_date", COL_DATE, true, NULL, NULL}, {"due_date", COL_DATE, true, NULL, NULL},
		 {"amount", COL_MONEY, true, NULL, NULL}, {"customer_id", COL_TEXT, false, NULL, ""},
		 {"status", COL_ENUM, false, invoice_status, "open"}, {"currency", COL_CURRENCY, false, NULL, NULL}}},
	[ENT_PAYMENTS] = {"payments", TBL_PAYMENTS, 8,
		{ID, {"date", COL_DATE, true, NULL, NULL}, {"payer", COL_TEXT, true, NULL, NULL},
		 {"amount", COL_MONEY, true, NULL, NULL}, {"reference", COL_TEXT, false, NULL, ""},
		 {"customer_id", COL_TEXT, false, NULL, ""}, {"currency", COL_CURRENCY, false, NULL, NULL},
		 {"payer_account", COL_TEXT, false, NULL, ""}}},
	[ENT_LEADS] = {"leads", TBL_LEADS, 9,
		{ID, {"created_at", COL_TIMESTAMP, true, NULL, NULL}, {"creator", COL_TEXT, true, NULL, NULL},
		 {"status", COL_ENUM, true, lead_status, NULL}, {"name", COL_TEXT, false, NULL, ""},
		 {"mobile", COL_TEXT, false, NULL, ""}, {"source", COL_TEXT, false, NULL, ""},
		 {"followup_date", COL_DATE, false, NULL, NULL}, {"value", COL_MONEY, false, NULL, NULL}}},
};

/* Column positions used by the upserts below (must match defs). */
enum { C_DATE = 1, C_CATEGORY = 2, C_AMOUNT = 3, C_VENDOR = 4, C_DESC = 5 };
enum { S_DATE = 1, S_CUSTOMER = 2, S_STATUS = 3, S_AMOUNT = 4 };
enum { I_NUMBER = 1, I_CUSTOMER = 2, I_ISSUE = 3, I_DUE = 4, I_AMOUNT = 5, I_CUSTID = 6, I_STATUS = 7, I_CUR = 8 };
enum { P_DATE = 1, P_PAYER = 2, P_AMOUNT = 3, P_REF = 4, P_CUSTID = 5, P_CUR = 6, P_ACCOUNT = 7 };
enum { L_CREATED = 1, L_CREATOR = 2, L_STATUS = 3, L_NAME = 4, L_MOBILE = 5, L_SOURCE = 6, L_FOLLOWUP = 7, L_VALUE = 8 };

const entity_def *entity_get(entity_kind k)
{
	return k >= 0 && k < ENT__COUNT ? &defs[k] : NULL;
}

const entity_def *entity_by_name(const char *name, size_t len, entity_kind *kind)
{
	for (int k = 0; k < ENT__COUNT; k++)
		if (strlen(defs[k].name) == len && !strncmp(defs[k].name, name, len)) {
			if (kind)
				*kind = (entity_kind)k;
			return &defs[k];
		}
	return NULL;
}

int entity_col_index(const entity_def *d, const char *name, size_t len)
{
	slice_t s = slice_trim((slice_t){name, len});
	for (int i = 0; i < d->ncols; i++)
		if (slice_ieq_cstr(s, d->cols[i].name))
			return i;
	return -1;
}

unsigned entity_touch_mask(entity_kind k)
{
	unsigned m = TBL_BIT(defs[k].table);
	if (k == ENT_INVOICES || k == ENT_PAYMENTS)
		m |= TBL_BIT(TBL_ALLOCATIONS);
	return m;
}

/* Quotes at most 40 bytes of a value for an error message. */
static const char *show(slice_t v, char *tmp, size_t n)
{
	size_t l = v.len < 40 ? v.len : 40;
	snprintf(tmp, n, "'%.*s%s'", (int)l, v.p, v.len > 40 ? "..." : "");
	return tmp;
}

int entity_currency_col(entity_kind k)
{
	return k == ENT_INVOICES ? I_CUR : k == ENT_PAYMENTS ? P_CUR : -1;
}

int entity_amount_col(entity_kind k)
{
	switch (k) {
	case ENT_COSTS: return C_AMOUNT;
	case ENT_SALES_ORDERS: return S_AMOUNT;
	case ENT_INVOICES: return I_AMOUNT;
	case ENT_PAYMENTS: return P_AMOUNT;
	default: return -1;
	}
}

void entity_named_currency(entity_kind k, const record_t *r, const entity_parse_opts *o, char code[4])
{
	code[0] = '\0';
	int cc = entity_currency_col(k), a = entity_amount_col(k);
	slice_t v = cc >= 0 && r->present[cc] ? slice_trim(r->raw[cc]) : (slice_t){0};
	if (v.len) {
		if (!currency_canon(v.p, v.len, code))
			code[0] = '\0';
		return;
	}
	if (a < 0 || !r->present[a] || r->parsed[a])
		return;
	int64_t x;
	char found[4] = "";
	money_status st = money_parse_minor(r->raw[a].p, r->raw[a].len, o && o->money_lenient ? &o->money : NULL, 2,
	                                    &x, found);
	if (st == MONEY_OK || st == MONEY_PRECISION)
		memcpy(code, found, 4);
}

/* DESIGN (currencies)
 * A row's currency is its currency column, else the code written in its
 * amount (`EUR 95.00` with --currency), else the organisation's; the two
 * written ones must agree. Amounts are read with that currency's minor
 * units (JPY 0, KWD 3). A row in the org's currency stores '' (the column
 * then follows the org's setting); a foreign one stores its code. Entities
 * without a currency column are in the org's currency: a foreign code in
 * their amounts is a rejection, never a silent sum. */
static bool row_currency(entity_kind k, record_t *r, char cur[4], char *why, size_t whylen)
{
	int cc = entity_currency_col(k);
	cur[0] = '\0';
	if (cc < 0 || !r->present[cc])
		return true;
	slice_t v = slice_trim(r->raw[cc]);
	if (v.len == 0)
		return true;
	if (!currency_canon(v.p, v.len, cur)) {
		snprintf(why, whylen, "unknown currency '%.*s': expected an ISO 4217 code such as USD, EUR or JPY",
		         (int)(v.len < 20 ? v.len : 20), v.p);
		return false;
	}
	return true;
}

/* Parses one money value with the row's currency; a code written in the
 * value settles an open currency or must agree with a settled one. */
static bool parse_money(entity_kind k, const entity_col *c, slice_t v, const entity_parse_opts *o, char cur[4],
                        bool cur_fixed, int64_t *out, char *why, size_t whylen)
{
	const char *org = o && o->currency[0] ? o->currency : CURRENCY_DEFAULT;
	const char *eff = cur[0] ? cur : org;
	int minor = currency_minor(eff, 3);
	const money_opts *mo = o && o->money_lenient ? &o->money : NULL;
	char code[4], tmp[64];
	money_status st = money_parse_minor(v.p, v.len, mo, minor, out, code);
	if ((st == MONEY_OK || st == MONEY_PRECISION || st == MONEY_OVERFLOW) && code[0] && strcmp(code, eff) != 0) {
		if (cur_fixed) {
			snprintf(why, whylen, "%s %s is in %s but the row's currency is %s", c->name, show(v, tmp, sizeof tmp),
			         code, eff);
			return false;
		}
		if (entity_currency_col(k) < 0) {
			/* No column to keep it: refuse rather than sum it as the org's. */
			snprintf(why, whylen, "%s %s is in %s, the organisation's currency is %s (set it: org set --currency %s)",
			         c->name, show(v, tmp, sizeof tmp), code, eff, code);
			return false;
		}
		memcpy(cur, code, 4);
		if (currency_minor(code, 3) != minor) {
			minor = currency_minor(code, 3);
			st = money_parse_minor(v.p, v.len, mo, minor, out, code);
		}
	}
	if (st == MONEY_PRECISION && minor != 2) {
		snprintf(why, whylen, "bad %s %s: more than %d decimal place%s for %s", c->name, show(v, tmp, sizeof tmp),
		         minor, minor == 1 ? "" : "s", cur[0] ? cur : org);
		return false;
	}
	if (st != MONEY_OK) {
		snprintf(why, whylen, "bad %s %s: %s", c->name, show(v, tmp, sizeof tmp), money_strerror(st));
		return false;
	}
	return true;
}

bool entity_validate(entity_kind k, record_t *r, const entity_parse_opts *o, char *why, size_t whylen)
{
	const entity_def *d = &defs[k];
	char tmp[64], cur[4];
	if (!row_currency(k, r, cur, why, whylen))
		return false;
	bool cur_fixed = cur[0] != '\0';
	for (int i = 0; i < d->ncols; i++) {
		const entity_col *c = &d->cols[i];
		if (r->present[i])
			r->raw[i] = slice_trim(r->raw[i]);
		if (!r->present[i] || r->raw[i].len == 0) {
			if (c->required) {
				snprintf(why, whylen, "missing required field '%s'", c->name);
				return false;
			}
			r->present[i] = false;
			if (c->deflt) {
				r->raw[i] = slice_cstr(c->deflt);
				r->present[i] = c->type == COL_ENUM; /* enums validate their default */
				if (c->type != COL_ENUM)
					continue;
			} else {
				continue;
			}
		}
		slice_t v = r->raw[i];
		size_t bad;
		if (v.len > ENTITY_MAX_TEXT) {
			snprintf(why, whylen, "field '%s' is %zu bytes long (at most %d)", c->name, v.len, ENTITY_MAX_TEXT);
			return false;
		}
		if (!utf8_valid(v.p, v.len, &bad)) {
			snprintf(why, whylen, "field '%s' is not valid UTF-8 (byte %zu); set the file's encoding", c->name,
			         bad + 1);
			return false;
		}
		if (memchr(v.p, '\0', v.len)) {
			snprintf(why, whylen, "field '%s' contains a NUL byte", c->name);
			return false;
		}
		switch (c->type) {
		case COL_TEXT:
			break;
		case COL_DATE: {
			/* A time and offset after the date are accepted; the date is
			 * kept as written. */
			timestamp_t t;
			const char *fmt = o ? o->date_format : NULL;
			if (!timestamp_parse_fmt(v.p, v.len, fmt, &t)) {
				snprintf(why, whylen, "bad %s %s: expected %s", c->name, show(v, tmp, sizeof tmp),
				         fmt ? fmt : "YYYY-MM-DD");
				return false;
			}
			r->num[i] = t.date;
			break;
		}
		case COL_MONEY: {
			int64_t cents = r->parsed[i] ? r->num[i] : 0;
			if (!r->parsed[i] && !parse_money(k, c, v, o, cur, cur_fixed, &cents, why, whylen))
				return false;
			/* One bound for every write path (CSV, JSON, debit/credit):
			 * it is what keeps every total of an org inside int64. */
			if (!money_in_bounds(cents)) {
				snprintf(why, whylen, "bad %s %s: %s", c->name, show(v, tmp, sizeof tmp),
				         money_strerror(MONEY_BOUND));
				return false;
			}
			r->num[i] = cents;
			break;
		}
		case COL_CURRENCY:
			break; /* settled by row_currency and the amounts, stored below */
		case COL_TIMESTAMP:
			if (!timestamp_parse_fmt(v.p, v.len, o ? o->date_format : NULL, &r->ts)) {
				snprintf(why, whylen, "bad %s %s: expected %s[THH:MM:SS][Z|+HH:MM]", c->name,
				         show(v, tmp, sizeof tmp), o && o->date_format ? o->date_format : "YYYY-MM-DD");
				return false;
			}
			r->num[i] = r->ts.date;
			break;
		case COL_ENUM: {
			int found = -1;
			for (int j = 0; c->values[j]; j++)
				if (slice_ieq_cstr(v, c->values[j]))
					found = j;
			if (found < 0) {
				char list[160] = "";
				for (int j = 0; c->values[j]; j++)
					snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
					         c->values[j]);
				snprintf(why, whylen, "unknown %s %s: expected one of %s", c->name, show(v, tmp, sizeof tmp),
				         list);
				return false;
			}
			r->raw[i] = slice_cstr(c->values[found]);
			break;
		}
		}
	}
	if (k == ENT_INVOICES && r->num[I_DUE] < r->num[I_ISSUE]) {
		snprintf(why, whylen, "due_date is before issue_date");
		return false;
	}
	if (k == ENT_PAYMENTS && r->present[P_ACCOUNT] && r->raw[P_ACCOUNT].len > ENTITY_ACCOUNT_MAX) {
		snprintf(why, whylen, "payer_account is %zu bytes long: an IBAN or account number has at most %d",
		         r->raw[P_ACCOUNT].len, ENTITY_ACCOUNT_MAX);
		return false;
	}
	int cc = entity_currency_col(k);
	if (cc >= 0) {
		/* The org's own currency is stored as '' (see DESIGN above). */
		const char *org = o && o->currency[0] ? o->currency : CURRENCY_DEFAULT;
		r->present[cc] = cur[0] && strcmp(cur, org) != 0;
		memcpy(r->canon[cc], cur, 4);
		r->raw[cc] = r->present[cc] ? (slice_t){r->canon[cc], 3} : SLICE_LIT("");
	}
	return true;
}

void entity_derive_id(entity_kind k, record_t *r, uint64_t seq)
{
	const entity_def *d = &defs[k];
	buf_t b = BUF_INIT;
	for (int i = 1; i < d->ncols; i++) {
		/* A row in the org's currency hashes as before the column existed. */
		if (i == entity_currency_col(k) && !r->present[i])
			continue;
		if (r->present[i])
			buf_put(&b, r->raw[i].p, r->raw[i].len);
		buf_putc(&b, '\x1f');
	}
	uint64_t h = XXH3_64bits_withSeed(b.p, b.len, (uint64_t)k);
	buf_free(&b);
	snprintf(r->idbuf, sizeof r->idbuf, "h%016llx", (unsigned long long)h);
	if (seq)
		snprintf(r->idbuf + 17, sizeof r->idbuf - 17, "-%llu", (unsigned long long)seq);
	r->raw[0] = slice_cstr(r->idbuf);
	r->present[0] = true;
}

static void bind_opt_text(store_stmt_t *st, int idx, const record_t *r, int col)
{
	if (r->present[col])
		store_bind_text_nocopy(st, idx, r->raw[col].p, r->raw[col].len);
	else
		store_bind_text_nocopy(st, idx, "", 0);
}

#define TXT(col) r->raw[col].p, r->raw[col].len

/* Adds (sign=+1) or retracts (sign=-1) one row's rollup contributions. The
 * values come either from a record or from the stored old row. */
static void roll_cost(rollup_acc_t *a, int sign, date_t day, slice_t cat, slice_t vendor, int64_t amount)
{
	rollup_add(a, ROLLUP_COSTS_CATEGORY, day, cat.p, cat.len, sign, sign * amount);
	rollup_add(a, ROLLUP_COSTS_VENDOR, day, vendor.p, vendor.len, sign, sign * amount);
}

static void roll_sale(rollup_acc_t *a, int sign, date_t day, slice_t cust, slice_t status, int64_t amount)
{
	rollup_add(a, ROLLUP_SALES_STATUS, day, status.p, status.len, sign, sign * amount);
	if (!slice_eq_cstr(status, "cancelled"))
		rollup_add(a, ROLLUP_SALES_CUSTOMER, day, cust.p, cust.len, sign, sign * amount);
}

/* Foreign-currency rows go to their own metrics (dim = the code), so the
 * org-currency figures never sum them. */
static void roll_invoice(rollup_acc_t *a, int sign, date_t issue, slice_t status, slice_t cur, int64_t amount)
{
	if (slice_eq_cstr(status, "void"))
		return;
	if (cur.len)
		rollup_add(a, ROLLUP_INVOICED_FX, issue, cur.p, cur.len, sign, sign * amount);
	else
		rollup_add(a, ROLLUP_INVOICED, issue, "", 0, sign, sign * amount);
}

static void roll_payment(rollup_acc_t *a, int sign, date_t day, slice_t cur, int64_t amount)
{
	if (cur.len)
		rollup_add(a, ROLLUP_CASH_IN_FX, day, cur.p, cur.len, sign, sign * amount);
	else
		rollup_add(a, ROLLUP_CASH_IN, day, "", 0, sign, sign * amount);
}

static void roll_lead(rollup_acc_t *a, int sign, date_t day, slice_t creator, slice_t status, int64_t value)
{
	char dim[ENTITY_MAX_TEXT + 32];
	size_t n = creator.len;
	memcpy(dim, creator.p, n);
	dim[n++] = '\x1f';
	memcpy(dim + n, status.p, status.len);
	n += status.len;
	rollup_add(a, ROLLUP_LEADS, day, dim, n, sign, sign * value);
}

static slice_t cur_of(const record_t *r, int col)
{
	return r->present[col] ? r->raw[col] : SLICE_LIT("");
}

static void roll_record(rollup_acc_t *a, entity_kind k, int sign, const record_t *r)
{
	switch (k) {
	case ENT_COSTS:
		roll_cost(a, sign, (date_t)r->num[C_DATE], r->raw[C_CATEGORY],
		          r->present[C_VENDOR] ? r->raw[C_VENDOR] : SLICE_LIT(""), r->num[C_AMOUNT]);
		break;
	case ENT_SALES_ORDERS:
		roll_sale(a, sign, (date_t)r->num[S_DATE], r->raw[S_CUSTOMER], r->raw[S_STATUS], r->num[S_AMOUNT]);
		break;
	case ENT_INVOICES:
		roll_invoice(a, sign, (date_t)r->num[I_ISSUE], r->raw[I_STATUS], cur_of(r, I_CUR), r->num[I_AMOUNT]);
		break;
	case ENT_PAYMENTS:
		roll_payment(a, sign, (date_t)r->num[P_DATE], cur_of(r, P_CUR), r->num[P_AMOUNT]);
		break;
	case ENT_LEADS:
		roll_lead(a, sign, (date_t)r->num[L_CREATED], r->raw[L_CREATOR], r->raw[L_STATUS],
		          r->present[L_VALUE] ? r->num[L_VALUE] : 0);
		break;
	default:
		break;
	}
}

/* Per kind: insert-if-new, read the old row's rollup inputs, replace. */
static const char *const ins_sql[ENT__COUNT] = {
	[ENT_COSTS] = "INSERT INTO costs(org, id, date, category, amount, vendor, description) "
	              "VALUES(?,?,?,?,?,?,?) ON CONFLICT(org, id) DO NOTHING",
	[ENT_SALES_ORDERS] = "INSERT INTO sales_orders(org, id, date, customer, status, amount) "
	                     "VALUES(?,?,?,?,?,?) ON CONFLICT(org, id) DO NOTHING",
	[ENT_INVOICES] = "INSERT INTO invoices(org, id, number, customer, customer_id, issue_date, due_date, "
	                 "amount, status, outstanding, currency) VALUES(?,?,?,?,?,?,?,?,?,?,?) "
	                 "ON CONFLICT(org, id) DO NOTHING",
	[ENT_PAYMENTS] = "INSERT INTO payments(org, id, date, payer, amount, reference, customer_id, currency, "
	                 "payer_account) VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(org, id) DO NOTHING",
	[ENT_LEADS] = "INSERT INTO leads(org, id, created_at, created_date, creator, status, name, mobile, source, "
	              "followup_date, value) VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(org, id) DO NOTHING",
};

static const char *const old_sql[ENT__COUNT] = {
	[ENT_COSTS] = "SELECT rid, date, category, vendor, amount FROM costs WHERE org = ? AND id = ?",
	[ENT_SALES_ORDERS] = "SELECT rid, date, customer, status, amount FROM sales_orders WHERE org = ? AND id = ?",
	[ENT_INVOICES] = "SELECT rid, issue_date, currency, status, amount FROM invoices WHERE org = ? AND id = ?",
	[ENT_PAYMENTS] = "SELECT rid, date, currency, '', amount FROM payments WHERE org = ? AND id = ?",
	[ENT_LEADS] = "SELECT rid, created_date, creator, status, coalesce(value, 0) FROM leads "
	              "WHERE org = ? AND id = ?",
};

static const char *const upd_sql[ENT__COUNT] = {
	[ENT_COSTS] = "UPDATE costs SET date=?3, category=?4, amount=?5, vendor=?6, description=?7 WHERE rid=?1",
	[ENT_SALES_ORDERS] = "UPDATE sales_orders SET date=?3, customer=?4, status=?5, amount=?6 WHERE rid=?1",
	[ENT_INVOICES] = "UPDATE invoices SET number=?3, customer=?4, customer_id=?5, issue_date=?6, due_date=?7, "
	                 "amount=?8, status=?9, outstanding=?10, currency=?11 WHERE rid=?1",
	[ENT_PAYMENTS] = "UPDATE payments SET date=?3, payer=?4, amount=?5, reference=?6, customer_id=?7, currency=?8, "
	                 "payer_account=?9 WHERE rid=?1",
	[ENT_LEADS] = "UPDATE leads SET created_at=?3, created_date=?4, creator=?5, status=?6, name=?7, mobile=?8, "
	              "source=?9, followup_date=?10, value=?11 WHERE rid=?1",
};

size_t entity_norm_account(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t')
			continue;
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] == 0xa0) { /* no-break space */
			i++;
			continue;
		}
		out[n++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	return n;
}

static void bind_account(store_stmt_t *st, int idx, const record_t *r)
{
	char acc[ENTITY_ACCOUNT_MAX]; /* entity_validate refused longer ones */
	size_t n = r->present[P_ACCOUNT] ? entity_norm_account(r->raw[P_ACCOUNT].p, r->raw[P_ACCOUNT].len, acc, sizeof acc)
	                                 : 0;
	store_bind_text(st, idx, acc, n); /* a local buffer: copied */
}

/* Binds the row's values from index 3 on (1 = org or rid, 2 = id). */
static void bind_values(store_stmt_t *st, entity_kind k, const record_t *r)
{
	char ts[TIMESTAMP_BUFSZ];
	switch (k) {
	case ENT_COSTS:
		store_bind_i64(st, 3, r->num[C_DATE]);
		store_bind_text_nocopy(st, 4, TXT(C_CATEGORY));
		store_bind_i64(st, 5, r->num[C_AMOUNT]);
		bind_opt_text(st, 6, r, C_VENDOR);
		bind_opt_text(st, 7, r, C_DESC);
		break;
	case ENT_SALES_ORDERS:
		store_bind_i64(st, 3, r->num[S_DATE]);
		store_bind_text_nocopy(st, 4, TXT(S_CUSTOMER));
		store_bind_text_nocopy(st, 5, TXT(S_STATUS));
		store_bind_i64(st, 6, r->num[S_AMOUNT]);
		break;
	case ENT_INVOICES:
		store_bind_text_nocopy(st, 3, TXT(I_NUMBER));
		store_bind_text_nocopy(st, 4, TXT(I_CUSTOMER));
		bind_opt_text(st, 5, r, I_CUSTID);
		store_bind_i64(st, 6, r->num[I_ISSUE]);
		store_bind_i64(st, 7, r->num[I_DUE]);
		store_bind_i64(st, 8, r->num[I_AMOUNT]);
		store_bind_text_nocopy(st, 9, TXT(I_STATUS));
		/* DATA.md: a void invoice is never outstanding. */
		store_bind_i64(st, 10, slice_eq_cstr(r->raw[I_STATUS], "void") ? 0 : r->num[I_AMOUNT]);
		bind_opt_text(st, 11, r, I_CUR);
		break;
	case ENT_PAYMENTS:
		store_bind_i64(st, 3, r->num[P_DATE]);
		store_bind_text_nocopy(st, 4, TXT(P_PAYER));
		store_bind_i64(st, 5, r->num[P_AMOUNT]);
		bind_opt_text(st, 6, r, P_REF);
		bind_opt_text(st, 7, r, P_CUSTID);
		bind_opt_text(st, 8, r, P_CUR);
		bind_account(st, 9, r);
		break;
	case ENT_LEADS: {
		size_t n = timestamp_format(&r->ts, ts);
		store_bind_text(st, 3, ts, n); /* a local buffer: copied */
		store_bind_i64(st, 4, r->ts.date);
		store_bind_text_nocopy(st, 5, TXT(L_CREATOR));
		store_bind_text_nocopy(st, 6, TXT(L_STATUS));
		bind_opt_text(st, 7, r, L_NAME);
		bind_opt_text(st, 8, r, L_MOBILE);
		bind_opt_text(st, 9, r, L_SOURCE);
		if (r->present[L_FOLLOWUP])
			store_bind_i64(st, 10, r->num[L_FOLLOWUP]);
		else
			store_bind_null(st, 10);
		if (r->present[L_VALUE])
			store_bind_i64(st, 11, r->num[L_VALUE]);
		else
			store_bind_null(st, 11);
		break;
	}
	default:
		break;
	}
}

int entity_invoice_refresh(store_conn_t *w, int64_t invoice_rid)
{
	static const char *q =
		"UPDATE invoices SET outstanding = CASE WHEN status = 'void' THEN 0 ELSE amount - a.paid END, "
		"status = CASE WHEN status = 'void' THEN 'void' WHEN a.paid = 0 THEN 'open' "
		"WHEN a.paid >= amount THEN 'paid' ELSE 'partial' END "
		"FROM (SELECT coalesce(sum(amount + writeoff), 0) AS paid FROM allocations "
		"      WHERE invoice = ?1 AND state IN ('applied','confirmed','manual')) AS a "
		"WHERE rid = ?1";
	store_stmt_t *st = store_prepare(w, q);
	store_bind_i64(st, 1, invoice_rid);
	int rc = store_step(st) == STORE_DONE ? 0 : -1;
	store_reset(st);
	return rc;
}

/* A replaced payment whose amount or date changed no longer supports its
 * allocations: they are removed and the invoices recomputed. */
static int payment_changed(store_conn_t *w, int64_t payment_rid)
{
	static const char *sel = "SELECT DISTINCT invoice FROM allocations WHERE payment = ?";
	static const char *del = "DELETE FROM allocations WHERE payment = ?";
	int64_t inv[64];
	int n = 0, rc = 0;
	store_stmt_t *st = store_prepare(w, sel);
	store_bind_i64(st, 1, payment_rid);
	while (store_step(st) == STORE_ROW && n < 64)
		inv[n++] = store_col_i64(st, 0);
	store_reset(st);
	if (n == 0)
		return 0;
	st = store_prepare(w, del);
	store_bind_i64(st, 1, payment_rid);
	if (store_step(st) != STORE_DONE)
		rc = -1;
	store_reset(st);
	for (int i = 0; i < n && rc == 0; i++)
		rc = entity_invoice_refresh(w, inv[i]);
	return rc;
}

store_batch_t *entity_batch_new(store_conn_t *w, entity_kind k)
{
	return store_batch_new(w, ins_sql[k]);
}

void entity_batch_add(store_batch_t *b, entity_kind k, int64_t org, const record_t *r)
{
	store_stmt_t *st = store_batch_stmt(b);
	store_bind_i64(st, 1, org);
	store_bind_text_nocopy(st, 2, TXT(0));
	bind_values(st, k, r);
	store_batch_row(b);
}

date_t entity_row_day(entity_kind k, const record_t *r)
{
	switch (k) {
	case ENT_COSTS: return (date_t)r->num[C_DATE];
	case ENT_SALES_ORDERS: return (date_t)r->num[S_DATE];
	case ENT_INVOICES: return (date_t)r->num[I_ISSUE];
	case ENT_PAYMENTS: return (date_t)r->num[P_DATE];
	case ENT_LEADS: return (date_t)r->num[L_CREATED];
	default: return 0;
	}
}

void entity_inserted(rollup_acc_t *acc, entity_kind k, const record_t *r)
{
	roll_record(acc, k, +1, r);
}

const char *entity_insert_trigger(entity_kind k)
{
	return k == ENT_INVOICES ? "open_recv_ins" : NULL;
}

void entity_open_recv(rollup_acc_t *acc, entity_kind k, int sign, const record_t *r)
{
	/* open_recv_ins's condition: outstanding > 0 (a void invoice has
	 * none), not void, in the org's currency. */
	if (k != ENT_INVOICES || r->num[I_AMOUNT] <= 0 || slice_eq_cstr(r->raw[I_STATUS], "void") ||
	    cur_of(r, I_CUR).len)
		return;
	rollup_open_recv(acc, (date_t)r->num[I_DUE], sign, sign * r->num[I_AMOUNT]);
}

/* entity_upsert's body: acc_new NULL when the caller already added the
 * row's own deltas (entity_upsert_counted). */
static int upsert(store_conn_t *w, entity_kind k, int64_t org, const record_t *r, rollup_acc_t *acc,
                  rollup_acc_t *acc_new, bool *replaced, char *why, size_t whylen)
{
	*replaced = false;
	/* The record's text outlives each step, so binding it uncopied is safe. */
	store_stmt_t *st = store_prepare(w, ins_sql[k]);
	store_bind_i64(st, 1, org);
	store_bind_text_nocopy(st, 2, TXT(0));
	bind_values(st, k, r);
	store_status rc = store_step(st);
	store_reset(st);
	if (rc != STORE_DONE)
		goto fail;
	if (store_changes(w) == 1) {
		if (acc_new)
			roll_record(acc_new, k, +1, r);
		return 0;
	}
	/* The id exists: retract the old row's rollups, then replace it. */
	st = store_prepare(w, old_sql[k]);
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, TXT(0));
	if (store_step(st) != STORE_ROW) {
		store_reset(st);
		goto fail;
	}
	int64_t rid = store_col_i64(st, 0);
	date_t oday = (date_t)store_col_i64(st, 1);
	size_t l2, l3;
	const char *t2 = store_col_text(st, 2, &l2);
	const char *t3 = store_col_text(st, 3, &l3);
	int64_t oamount = store_col_i64(st, 4);
	slice_t s2 = {t2, l2}, s3 = {t3, l3};
	bool pay_moved = false;
	switch (k) {
	case ENT_COSTS: roll_cost(acc, -1, oday, s2, s3, oamount); break;
	case ENT_SALES_ORDERS: roll_sale(acc, -1, oday, s2, s3, oamount); break;
	case ENT_INVOICES: roll_invoice(acc, -1, oday, s3, s2, oamount); break;
	case ENT_PAYMENTS:
		roll_payment(acc, -1, oday, s2, oamount);
		/* A payment now in another currency no longer pays what it paid. */
		pay_moved = oday != (date_t)r->num[P_DATE] || oamount != r->num[P_AMOUNT] ||
		            s2.len != cur_of(r, P_CUR).len || memcmp(s2.p, cur_of(r, P_CUR).p, s2.len) != 0;
		break;
	case ENT_LEADS: roll_lead(acc, -1, oday, s2, s3, oamount); break;
	default: break;
	}
	store_reset(st);
	st = store_prepare(w, upd_sql[k]);
	store_bind_i64(st, 1, rid);
	bind_values(st, k, r);
	rc = store_step(st);
	store_reset(st);
	if (rc != STORE_DONE)
		goto fail;
	if (k == ENT_INVOICES && entity_invoice_refresh(w, rid) != 0)
		goto fail;
	if (pay_moved && payment_changed(w, rid) != 0)
		goto fail;
	if (acc_new)
		roll_record(acc_new, k, +1, r);
	*replaced = true;
	return 0;
fail:
	snprintf(why, whylen, "store error: %s", store_errmsg(w));
	return -1;
}

int entity_upsert(store_conn_t *w, entity_kind k, int64_t org, const record_t *r, rollup_acc_t *acc,
                  bool *replaced, char *why, size_t whylen)
{
	return upsert(w, k, org, r, acc, acc, replaced, why, whylen);
}

int entity_upsert_counted(store_conn_t *w, entity_kind k, int64_t org, const record_t *r, rollup_acc_t *acc,
                          bool *replaced, char *why, size_t whylen)
{
	return upsert(w, k, org, r, acc, NULL, replaced, why, whylen);
}

int entity_delete(store_conn_t *w, entity_kind k, int64_t org, const char *id, size_t idlen, rollup_acc_t *acc)
{
	static const char *const del_sql[ENT__COUNT] = {
		[ENT_COSTS] = "DELETE FROM costs WHERE rid = ?",
		[ENT_SALES_ORDERS] = "DELETE FROM sales_orders WHERE rid = ?",
		[ENT_INVOICES] = "DELETE FROM invoices WHERE rid = ?",
		[ENT_PAYMENTS] = "DELETE FROM payments WHERE rid = ?",
		[ENT_LEADS] = "DELETE FROM leads WHERE rid = ?",
	};
	static const char *inv_of_payment = "SELECT DISTINCT invoice FROM allocations WHERE payment = ?";
	store_stmt_t *st = store_prepare(w, old_sql[k]);
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, id, idlen);
	store_status rc = store_step(st);
	if (rc != STORE_ROW) {
		store_reset(st);
		return rc == STORE_DONE ? 0 : -1;
	}
	int64_t rid = store_col_i64(st, 0);
	date_t oday = (date_t)store_col_i64(st, 1);
	size_t l2, l3;
	const char *t2 = store_col_text(st, 2, &l2);
	const char *t3 = store_col_text(st, 3, &l3);
	slice_t s2 = {t2, l2}, s3 = {t3, l3};
	int64_t oamount = store_col_i64(st, 4);
	switch (k) {
	case ENT_COSTS: roll_cost(acc, -1, oday, s2, s3, oamount); break;
	case ENT_SALES_ORDERS: roll_sale(acc, -1, oday, s2, s3, oamount); break;
	case ENT_INVOICES: roll_invoice(acc, -1, oday, s3, s2, oamount); break;
	case ENT_PAYMENTS: roll_payment(acc, -1, oday, s2, oamount); break;
	case ENT_LEADS: roll_lead(acc, -1, oday, s2, s3, oamount); break;
	default: break;
	}
	store_reset(st);
	/* A deleted payment frees the invoices it paid (allocations cascade). */
	int64_t inv[64];
	int ninv = 0;
	if (k == ENT_PAYMENTS) {
		st = store_prepare(w, inv_of_payment);
		store_bind_i64(st, 1, rid);
		while (store_step(st) == STORE_ROW && ninv < 64)
			inv[ninv++] = store_col_i64(st, 0);
		store_reset(st);
	}
	st = store_prepare(w, del_sql[k]);
	store_bind_i64(st, 1, rid);
	rc = store_step(st);
	store_reset(st);
	if (rc != STORE_DONE)
		return -1;
	for (int i = 0; i < ninv; i++)
		if (entity_invoice_refresh(w, inv[i]) != 0)
			return -1;
	return 1;
}
