#include "match/proposals.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/seal.h"
#include "match/jput.h"
#include "store/secret.h"

/* The review list: proposals by payment, a payment for several invoices
 * as one entry, pages under a sealed cursor. */

#define PCURSOR_PT 17

/* A proposals cursor: ('P', org, last payment rid), sealed. */
static void pcursor_pt(uint8_t pt[PCURSOR_PT], int64_t org, int64_t rid)
{
	pt[0] = 'P';
	for (int i = 0; i < 8; i++) {
		pt[1 + i] = (uint8_t)((uint64_t)org >> (8 * i));
		pt[9 + i] = (uint8_t)((uint64_t)rid >> (8 * i));
	}
}

/* One invoice of a proposal: {invoice_id, invoice_number, customer,
 * outstanding, amount, writeoff}. */
static const jput_field invoice_fields[] = {
	{"invoice_id", 6, JPUT_TEXT}, {"invoice_number", 7, JPUT_TEXT}, {"customer", 8, JPUT_TEXT},
	{"outstanding", 9, JPUT_MONEY}, {"amount", 12, JPUT_MONEY},     {"writeoff", 13, JPUT_MONEY},
};

static void put_proposed_invoice(buf_t *out, store_stmt_t *st)
{
	bool first = true;
	buf_putc(out, '{');
	jput_fields(out, &first, st, invoice_fields, 6);
	buf_putc(out, '}');
}

matcher_status explain_proposals(store_t *s, int64_t org, const char *cursor, int limit, buf_t *out, char *err,
                                 size_t errlen)
{
	static const char *q = "SELECT a.payment, p.id, p.date, p.payer, p.amount, p.reference, i.id, i.number, "
	                       "i.customer, i.outstanding, a.rule, a.confidence, a.amount, a.writeoff FROM allocations a "
	                       "JOIN payments p ON p.rid = a.payment JOIN invoices i ON i.rid = a.invoice "
	                       "WHERE a.org = ?1 AND a.state = 'proposed' AND a.payment > ?2 "
	                       "ORDER BY a.payment, a.rid LIMIT ?3";
	if (limit < 1 || limit > 1000) {
		snprintf(err, errlen, "limit must be 1 to 1000");
		return MATCHER_INVALID;
	}
	size_t at = out->len;
	store_conn_t *c = store_read_begin(s);
	uint8_t sk[SEAL_KEYBYTES];
	if (secret_key(c, sk) != 0) {
		snprintf(err, errlen, "reading the store key: %s", store_errmsg(c));
		store_read_end(c);
		return MATCHER_FAILED;
	}
	int64_t after_rid = 0;
	if (cursor) {
		uint8_t pt[SEAL_MAX_PT], want[PCURSOR_PT];
		pcursor_pt(want, org, 0);
		if (seal_open(sk, cursor, pt, sizeof pt) != PCURSOR_PT || memcmp(pt, want, 9) != 0) {
			snprintf(err, errlen, "cursor must be the next_cursor of the previous page");
			store_read_end(c);
			return MATCHER_INVALID;
		}
		for (int i = 0; i < 8; i++)
			after_rid |= (int64_t)((uint64_t)pt[9 + i] << (8 * i));
	}
	store_stmt_t *st = store_prepare(c, q);
	store_bind_i64(st, 1, org);
	store_bind_i64(st, 2, after_rid);
	/* Rows, not payments: a payment for several invoices has one each. */
	store_bind_i64(st, 3, ((int64_t)limit + 1) * 16);
	buf_puts(out, "{\"proposals\":[");
	int n = 0;
	int64_t last = 0, next = 0;
	store_status rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		int64_t pay = store_col_i64(st, 0);
		if (pay == last) {
			/* The same payment, another invoice: a payment for several. */
			buf_putc(out, ',');
			put_proposed_invoice(out, st);
			continue;
		}
		if (last)
			buf_puts(out, "]}");
		if (n == limit) {
			/* One payment more than asked says whether a next page exists. */
			next = last;
			last = 0;
			break;
		}
		last = pay;
		buf_puts(out, n++ ? ",{" : "{");
		bool first = true;
		static const jput_field head[] = {
			{"payment_id", 1, JPUT_TEXT}, {"date", 2, JPUT_DATE},     {"payer", 3, JPUT_TEXT},
			{"amount", 4, JPUT_MONEY},    {"reference", 5, JPUT_TEXT},
		};
		static const jput_field tail[] = {{"rule", 10, JPUT_TEXT}, {"confidence", 11, JPUT_CONF}};
		jput_fields(out, &first, st, head, 5);
		jput_fields(out, &first, st, invoice_fields, 4); /* the first invoice's */
		jput_fields(out, &first, st, tail, 2);
		jput_key(out, &first, "invoices");
		buf_putc(out, '[');
		put_proposed_invoice(out, st);
	}
	if (last && rc == STORE_DONE)
		buf_puts(out, "]}");
	store_reset(st);
	if (rc != STORE_ROW && rc != STORE_DONE) {
		snprintf(err, errlen, "reading proposals: %s", store_errmsg(c));
		store_read_end(c);
		out->len = at;
		if (out->p)
			out->p[at] = '\0';
		return MATCHER_FAILED;
	}
	store_read_end(c);
	buf_puts(out, "],\"next_cursor\":");
	if (next) {
		uint8_t pt[PCURSOR_PT];
		char tok[SEAL_TOKEN_BUFSZ];
		pcursor_pt(pt, org, next);
		buf_putc(out, '"');
		buf_put(out, tok, seal_token(sk, pt, sizeof pt, tok));
		buf_putc(out, '"');
	} else
		buf_puts(out, "null");
	buf_putc(out, '}');
	return MATCHER_OK;
}
