#include "ingest/split.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingest/detect_names.h"

enum { P_DATE = 1, P_PAYER = 2, P_AMOUNT = 3, P_REF = 4, P_CUR = 6, P_ACCOUNT = 7 };
enum { C_DATE = 1, C_CATEGORY = 2, C_AMOUNT = 3, C_VENDOR = 4, C_DESC = 5 };

/* The header column role names best, not the one taken (-1), or -1. */
static int role_column(const csv_row_t *h, detect_role role, int taken)
{
	int best = -1, score = 0;
	for (size_t i = 0; i < h->nfields; i++) {
		int sc = (int)i == taken ? 0 : detect_name_score(role, h->fields[i].p, h->fields[i].len);
		if (sc > score) {
			score = sc;
			best = (int)i;
		}
	}
	return best;
}

static bool category_column(const import_opts *o, const csv_row_t *h, int *col, char *err, size_t errlen)
{
	if (!h) {
		*col = atoi(o->split_category) - 1;
		if (*col >= 0)
			return true;
		snprintf(err, errlen, "split_category '%.40s': without a header, give a column position", o->split_category);
		return false;
	}
	slice_t want = slice_trim(slice_cstr(o->split_category));
	for (size_t i = 0; i < h->nfields; i++) {
		slice_t f = slice_trim(h->fields[i]);
		if (f.len == want.len && !strncasecmp(f.p, want.p, f.len)) {
			*col = (int)i;
			return true;
		}
	}
	snprintf(err, errlen, "split_category: the file has no column '%.60s'", o->split_category);
	return false;
}

bool split_plan(const import_opts *o, const csv_row_t *h, const layout_t *l, split_plan_t *p, char *err,
                size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->category = p->kind = p->own = -1;
	if (!o->split)
		return true;
	if (o->split_category && !category_column(o, h, &p->category, err, errlen))
		return false;
	if (!h || o->keep_transfers)
		return true;
	/* Never a column the record's own fields are read from: a type
	 * column mapped as the reference still says the kind, but the other
	 * party's account cannot be the own one too. */
	p->kind = role_column(h, ROLE_KIND, -1);
	p->own = role_column(h, ROLE_OWN_ACCOUNT, l->src[P_ACCOUNT]);
	return true;
}

/* An account number as compared: letters and digits, uppercase. */
static size_t account_key(slice_t v, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < v.len && n + 1 < cap; i++)
		if (isalnum((unsigned char)v.p[i]))
			out[n++] = (char)toupper((unsigned char)v.p[i]);
	out[n] = '\0';
	return n;
}

static bool is_own(const split_plan_t *p, const char *key)
{
	for (int i = 0; i < p->nown && i < SPLIT_OWN_MAX; i++)
		if (!strcmp(p->accounts[i], key))
			return true;
	return false;
}

void split_note(split_plan_t *p, const csv_row_t *row)
{
	if (p->own < 0 || p->nown > SPLIT_OWN_MAX || (size_t)p->own >= row->nfields)
		return;
	char key[36];
	if (account_key(row->fields[p->own], key, sizeof key) < 5 || is_own(p, key))
		return;
	if (p->nown == SPLIT_OWN_MAX) { /* a column of many accounts is the other party's, not the owner's */
		p->nown++;
		return;
	}
	memcpy(p->accounts[p->nown++], key, sizeof key);
}

/* Does v begin with "top-up", "top up" or "topup" (any case)? */
static bool topup_said(slice_t v)
{
	v = slice_trim(v);
	if (v.len < 5 || strncasecmp(v.p, "top", 3))
		return false;
	size_t i = 3 + (v.p[3] == '-' || v.p[3] == ' ' || v.p[3] == '_');
	return i + 2 <= v.len && !strncasecmp(v.p + i, "up", 2) &&
	       (i + 2 == v.len || !isalpha((unsigned char)v.p[i + 2]));
}

/* A kind column's own-transfer word. Revolut types every incoming bank
 * transfer TOPUP ("Payment from Acme GmbH": a customer's payment), and
 * only a top-up by the owner's card says so ("Top-Up by *1234"): a
 * top-up is a transfer only when another field of the line says it is
 * one. */
static bool kind_transfer(const split_plan_t *p, const csv_row_t *row)
{
	slice_t v = row->fields[p->kind];
	if (!detect_own_transfer(v.p, v.len))
		return false;
	if (!topup_said(v))
		return true;
	for (size_t i = 0; i < row->nfields; i++)
		if ((int)i != p->kind && topup_said(row->fields[i]))
			return true;
	return false;
}

bool split_transfer(const import_opts *o, split_plan_t *p, const record_t *pay, const csv_row_t *row)
{
	if (!o->split || o->keep_transfers)
		return false;
	char said[96] = "";
	if (p->kind >= 0 && (size_t)p->kind < row->nfields && kind_transfer(p, row)) {
		slice_t v = slice_trim(row->fields[p->kind]);
		snprintf(said, sizeof said, "'%.*s'", (int)(v.len > 40 ? 40 : v.len), v.p);
	} else if (p->own >= 0 && p->nown <= SPLIT_OWN_MAX && pay->present[P_ACCOUNT]) {
		char key[36];
		if (account_key(pay->raw[P_ACCOUNT], key, sizeof key) < 5 || !is_own(p, key))
			return false;
		snprintf(said, sizeof said, "to or from own account %s", key);
	} else
		return false;
	if (p->transfers < 5)
		p->lines[p->transfers] = row->line;
	if (!p->transfers)
		memcpy(p->first, said, sizeof said);
	p->transfers++;
	return true;
}

void split_transfers_said(const split_plan_t *p, char *buf, size_t n)
{
	buf[0] = '\0';
	if (!p->transfers)
		return;
	size_t k = (size_t)snprintf(buf, n, "skipped %lld transfer%s between own accounts (line%s ", (long long)p->transfers,
	                             p->transfers > 1 ? "s" : "", p->transfers > 1 ? "s" : "");
	for (int64_t i = 0; i < p->transfers && i < 5 && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%llu", i ? ", " : "", (unsigned long long)p->lines[i]);
	if (k < n)
		snprintf(buf + k, n - k,
		         "%s: %s): they are neither costs nor customer payments; --keep-transfers (keep_transfers=1) "
		         "stores them as costs and payments",
		         p->transfers > 5 ? ", ..." : "", p->first);
}

bool split_is_debit(const import_opts *o, const record_t *pay)
{
	return o->split && pay->num[P_AMOUNT] < 0;
}

bool split_cost(const record_t *pay, const csv_row_t *row, int col, const entity_parse_opts *parse, record_t *cost,
                char *why, size_t whylen)
{
	if (pay->present[P_CUR]) {
		snprintf(why, whylen, "a debit in %.3s: costs are in the organisation's currency (import it apart)",
		         pay->canon[P_CUR]);
		return false;
	}
	memset(cost->present, 0, sizeof cost->present);
	memset(cost->parsed, 0, sizeof cost->parsed);
	cost->raw[0] = pay->raw[0];
	cost->present[0] = true;
	cost->raw[C_DATE] = pay->raw[P_DATE];
	cost->present[C_DATE] = true;
	slice_t cat = col >= 0 && (size_t)col < row->nfields ? slice_trim(row->fields[col]) : (slice_t){0};
	cost->raw[C_CATEGORY] = cat.len ? cat : SLICE_LIT(SPLIT_DEFAULT_CATEGORY);
	cost->present[C_CATEGORY] = true;
	cost->raw[C_AMOUNT] = SLICE_LIT("0");
	cost->present[C_AMOUNT] = cost->parsed[C_AMOUNT] = true;
	cost->num[C_AMOUNT] = -pay->num[P_AMOUNT];
	cost->raw[C_VENDOR] = pay->raw[P_PAYER];
	cost->present[C_VENDOR] = pay->present[P_PAYER];
	cost->raw[C_DESC] = pay->raw[P_REF];
	cost->present[C_DESC] = pay->present[P_REF];
	return entity_validate(ENT_COSTS, cost, parse, why, whylen);
}
