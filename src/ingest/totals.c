#include "ingest/totals.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/money.h"

/* A word with its length: every text field of every row is compared
 * with them, and a strlen of each word each time was 3% of an import. */
typedef struct {
	const char *s;
	size_t len;
} phrase;
#define P(lit) {lit, sizeof lit - 1}

/* The field is a total word, alone or followed by a space or a colon
 * ("Summe Haben", "Total:", "Saldo per 31.01."). */
static bool total_word(slice_t s)
{
	static const phrase words[] = {P("total"), P("totals"), P("grand total"), P("subtotal"), P("sub-total"),
		P("sum"), P("summe"), P("gesamt"), P("gesamtsumme"), P("endsumme"), P("saldo"), P("endsaldo"),
		P("anfangssaldo"), P("kontostand"), P("balance"), P("closing balance"), P("opening balance"),
		P("totaal"), P("totale"), P("somme"), P("solde"), P("suma"), P("razem"), P("saldo final"),
		P("saldo inicial")};
	while (s.len && (s.p[0] == ' ' || s.p[0] == '*'))
		s.p++, s.len--;
	for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
		size_t n = words[i].len;
		if (s.len >= n && !strncasecmp(s.p, words[i].s, n) && (s.len == n || s.p[n] == ' ' || s.p[n] == ':'))
			return true;
	}
	return false;
}

/* The whole field names an opening or closing balance ("Anfangssaldo",
 * "Saldo anterior", "Balance brought forward"): the account's state, not
 * money that moved, whatever its amount. */
static bool balance_phrase(slice_t s)
{
	static const phrase phrases[] = {P("anfangssaldo"), P("endsaldo"), P("alter kontostand"), P("neuer kontostand"),
		P("kontostand"), P("saldo alt"), P("saldo neu"), P("opening balance"), P("closing balance"),
		P("start balance"), P("end balance"), P("starting balance"), P("ending balance"),
		P("balance brought forward"), P("balance carried forward"), P("brought forward"), P("carried forward"),
		P("beginsaldo"), P("eindsaldo"), P("saldo anterior"), P("saldo inicial"), P("saldo final"),
		P("saldo do dia"), P("saldo iniziale"), P("saldo finale"), P("solde initial"), P("solde final"),
		P("solde précédent"), P("nouveau solde"), P("ancien solde"), P("saldo początkowe"), P("saldo końcowe"),
		P("saldo poczatkowe"), P("saldo koncowe"), P("počáteční zůstatek"), P("konečný zůstatek"),
		P("ingående saldo"), P("utgående saldo")};
	s = slice_trim(s);
	while (s.len && (s.p[0] == '*' || s.p[s.len - 1] == '*' || s.p[s.len - 1] == ':' || s.p[s.len - 1] == '.'))
		s = slice_trim(s.p[0] == '*' ? (slice_t){s.p + 1, s.len - 1} : (slice_t){s.p, s.len - 1});
	for (size_t i = 0; i < sizeof phrases / sizeof *phrases; i++)
		if (phrases[i].len == s.len && !strncasecmp(s.p, phrases[i].s, s.len))
			return true;
	return false;
}

bool totals_word(const char *v, size_t len)
{
	return total_word((slice_t){v, len}) || balance_phrase((slice_t){v, len});
}

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* v is one of the sums: all rows, the credits, the debits (signed or not). */
static bool is_sum(int64_t v, int64_t sum, int64_t pos, int64_t neg)
{
	return v == sum || v == pos || v == neg || abs64(v) == abs64(sum) || abs64(v) == abs64(neg);
}

/* Adds v to the sums; false when one would pass int64. */
static bool add(int64_t *sum, int64_t *pos, int64_t *neg, int64_t v)
{
	return money_add(sum, v) && money_add(v > 0 ? pos : neg, v);
}

bool totals_check(totals_run *t, entity_kind k, const record_t *rec, char *why, size_t whylen)
{
	const entity_def *d = entity_get(k);
	int a = entity_amount_col(k); /* leads have none */
	if (a < 0 || !rec->present[a])
		return false;
	int64_t v = rec->num[a];
	for (int i = 1; i < d->ncols; i++)
		if (d->cols[i].type == COL_TEXT && rec->present[i] && balance_phrase(rec->raw[i])) {
			snprintf(why, whylen,
			         "a balance line ('%.*s'), not a transaction: an account's state, not money that moved (remove "
			         "it from the file to import it anyway)",
			         (int)(rec->raw[i].len > 40 ? 40 : rec->raw[i].len), rec->raw[i].p);
			return true;
		}
	/* the sums first: the words are read only for a row that has one */
	bool total = t->n >= 2 && v != 0 &&
	             (is_sum(v, t->sum, t->pos, t->neg) || (t->rejected && is_sum(v, t->all, t->apos, t->aneg)));
	bool word = false;
	for (int i = 1; total && i < d->ncols && !word; i++)
		if (d->cols[i].type == COL_TEXT && rec->present[i])
			word = total_word(rec->raw[i]);
	if (total && word) {
		char m[MONEY_BUFSZ];
		money_format(v, m);
		snprintf(why, whylen,
		         "a total line, not a transaction: its amount %s is the sum of the %llu rows above it (remove it "
		         "from the file to import it anyway)",
		         m, (unsigned long long)t->n);
		memset(t, 0, sizeof *t);
		return true;
	}
	/* sums past int64 (a huge file of huge amounts): start over */
	if (!add(&t->sum, &t->pos, &t->neg, v) || !add(&t->all, &t->apos, &t->aneg, v))
		memset(t, 0, sizeof *t);
	else
		t->n++;
	return false;
}

void totals_rejected(totals_run *t, const import_opts *o, const layout_t *l, const csv_row_t *row, int minor)
{
	const money_opts *mo = o->parse.money_lenient ? &o->parse.money : NULL;
	int64_t v, de = 0, cr = 0;
	if (l->debit >= 0 && l->credit >= 0) {
		slice_t sd = (size_t)l->debit < row->nfields ? slice_trim(row->fields[l->debit]) : SLICE_LIT("");
		slice_t sc = (size_t)l->credit < row->nfields ? slice_trim(row->fields[l->credit]) : SLICE_LIT("");
		if ((!sd.len && !sc.len) || (sd.len && money_parse_minor(sd.p, sd.len, mo, minor, &de, NULL) != MONEY_OK) ||
		    (sc.len && money_parse_minor(sc.p, sc.len, mo, minor, &cr, NULL) != MONEY_OK) || !money_in_bounds(de) ||
		    !money_in_bounds(cr))
			return;
		v = cr - abs64(de);
	} else {
		int s = l->amount >= 0 ? l->src[l->amount] : -1;
		if (s < 0 || (size_t)s >= row->nfields)
			return;
		slice_t f = slice_trim(row->fields[s]);
		if (money_parse_minor(f.p, f.len, mo, minor, &v, NULL) != MONEY_OK || !money_in_bounds(v))
			return;
	}
	if (o->negate)
		v = -v;
	if (!add(&t->all, &t->apos, &t->aneg, v)) {
		memset(t, 0, sizeof *t);
		return;
	}
	t->n++;
	t->rejected = true;
}
