#include "ingest/totals.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/money.h"

/* The field is a total word, alone or followed by a space or a colon
 * ("Summe Haben", "Total:", "Saldo per 31.01."). */
static bool total_word(slice_t s)
{
	static const char *const words[] = {"total", "totals", "grand total", "subtotal", "sub-total", "sum",
	                                    "summe", "gesamt", "gesamtsumme", "endsumme", "saldo", "endsaldo",
	                                    "anfangssaldo", "kontostand", "balance", "closing balance",
	                                    "opening balance", "totaal", "totale", "somme", "solde", "suma",
	                                    "razem", "saldo final", "saldo inicial", NULL};
	while (s.len && (s.p[0] == ' ' || s.p[0] == '*'))
		s.p++, s.len--;
	for (int i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);
		if (s.len >= n && !strncasecmp(s.p, words[i], n) && (s.len == n || s.p[n] == ' ' || s.p[n] == ':'))
			return true;
	}
	return false;
}

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

bool totals_check(totals_run *t, entity_kind k, const record_t *rec, char *why, size_t whylen)
{
	const entity_def *d = entity_get(k);
	int a = entity_col_index(d, "amount", 6);
	if (a < 0 || !rec->present[a])
		return false;
	int64_t v = rec->num[a];
	/* the sums first: the words are read only for a row that has one */
	bool total = t->n >= 2 && v != 0 &&
	             (v == t->sum || v == t->pos || v == t->neg || abs64(v) == abs64(t->sum) || abs64(v) == abs64(t->neg));
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
	if (!money_add(&t->sum, v) || !money_add(v > 0 ? &t->pos : &t->neg, v))
		memset(t, 0, sizeof *t);
	else
		t->n++;
	return false;
}
