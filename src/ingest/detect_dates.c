/* detect_dates: the date format of a file, decided by its values (a day
 * above 12), and where they cannot decide (02-01-2024 throughout), by
 * what the file says of its country: column names in a language whose
 * countries write the day first (Buchungstag, Fecha, Date d'opération,
 * Datum) or a decimal comma (no country that writes the month first uses
 * one). Nothing says month first: English names ("Posting Date") are
 * used by US banks and by UK exports alike. No evidence is a refusal
 * with the candidates. */
#include "ingest/detect_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/mem.h"
#include "ingest/sample.h"
#include "ingest/totals.h"

/* 1: fmt reads the day before the month; -1: the month first; 0 neither. */
static int day_first(const char *fmt)
{
	const char *d = fmt ? strstr(fmt, "%d") : NULL, *m = fmt ? strstr(fmt, "%m") : NULL;
	return d && m ? (d < m ? 1 : -1) : 0;
}

/* The first value two of fits read as different dates (its index), with
 * those formats' indexes in *a and *b; -1 when all agree. */
static int disagree(const char *const *fits, int nfits, const char **v, int n, int *a, int *b)
{
	timestamp_t t, u;
	for (int f = 1; f < nfits; f++)
		for (int i = 0; i < n; i++) {
			timestamp_parse_fmt(v[i], strlen(v[i]), fits[0], &t);
			timestamp_parse_fmt(v[i], strlen(v[i]), fits[f], &u);
			if (t.date != u.date) {
				*a = 0;
				*b = f;
				return i;
			}
		}
	return -1;
}

/* What the file says of the day's place: 1 day first, 0 nothing; why
 * names the evidence. */
static int date_order(ctx *c, char *why, size_t whylen)
{
	const char *dname = NULL;
	for (int i = 0; c->header >= 0 && i < c->g.n[c->header] && !dname; i++) {
		const char *h = dt_cell(&c->g, c->header, i);
		if (detect_date_order_name(h, strlen(h)) > 0)
			dname = h;
	}
	/* amounts with a decimal comma */
	const entity_def *d = entity_get(c->kind);
	const char **v = xmalloc(MAX_ROWS * sizeof *v);
	int comma = 0, dot = 0;
	int cols[3] = {c->debit, c->credit, -1};
	for (int i = 0; i < d->ncols; i++)
		if (c->col[i] >= 0 && d->cols[i].type == COL_MONEY && cols[2] < 0)
			cols[2] = c->col[i];
	for (int k = 0; k < 3; k++) {
		int n = cols[k] >= 0 ? dt_values(c, cols[k], v, MAX_ROWS) : 0;
		for (int i = 0; i < n; i++) {
			char m = dt_decimal_of(v[i]);
			comma += m == ',';
			dot += m == '.';
		}
	}
	free(v);
	bool dcomma = comma && !dot;
	size_t k = 0;
	why[0] = '\0';
	if (dname)
		k += (size_t)snprintf(why + k, whylen - k, "the column names are of a country that writes the day first ('%.40s')",
		                      dname);
	if (dcomma && k < whylen)
		snprintf(why + k, whylen - k, "%samounts have a decimal comma (day first)", k ? " and " : "");
	return dname || dcomma ? 1 : 0;
}

bool dt_pick_dates(ctx *c)
{
	if (dt_given(c, "date_format"))
		return true;
	const entity_def *d = entity_get(c->kind);
	const char **v = xmalloc(MAX_ROWS * 3 * sizeof *v);
	int n = 0, nkept = 0;
	/* A total line ("TOTAL", Xero's "Total Utilities") says nothing of the
	 * format: the import rejects it alone. */
	for (int i = 0; i < d->ncols; i++) {
		if (c->col[i] < 0 || (d->cols[i].type != COL_DATE && d->cols[i].type != COL_TIMESTAMP))
			continue;
		int got = dt_values(c, c->col[i], v + n, MAX_ROWS);
		for (int j = 0; j < got; j++)
			if (!totals_word(v[n + j], strlen(v[n + j])))
				v[n + nkept++] = v[n + j];
		n += nkept;
		nkept = 0;
	}
	bool ok = true;
	timestamp_t t;
	size_t nf;
	const char *const *fmts = sample_date_formats(&nf);
	const char *fits[24];
	int nfits = 0, bestk = 0;
	const char *bestf = NULL;
	for (size_t f = 0; f < nf && n; f++) {
		int k = 0;
		for (int i = 0; i < n; i++)
			k += timestamp_parse_fmt(v[i], strlen(v[i]), f ? fmts[f] : NULL, &t);
		if (k == n)
			fits[nfits++] = f ? fmts[f] : NULL;
		if (k > bestk) {
			bestk = k;
			bestf = fmts[f];
		}
	}
	if (!n)
		goto out;
	if (!nfits) {
		/* a total or balance line among the rows: rejected alone */
		if (bestf && (bestk * 10 >= n * 9 || (n >= 4 && bestk >= n - 1))) {
			dt_choose(c, "date_format", bestf);
			dt_note(c, 15, "date format %s reads %d of %d dates of the sample (the others will be rejected)", bestf,
			     bestk, n);
			goto out;
		}
		int bad = 0;
		for (int i = 0; i < n && bestf; i++)
			if (!timestamp_parse_fmt(v[i], strlen(v[i]), bestf, &t)) {
				bad = i;
				break;
			}
		snprintf(c->why, c->whylen, "no common date format reads the dates (e.g. '%.40s'): give --date-format", v[bad]);
		ok = false;
		goto out;
	}
	/* Formats that read every date: they must mean the same dates. */
	int a, b, ex = disagree(fits, nfits, v, n, &a, &b);
	if (ex >= 0) {
		char why[400];
		int order = date_order(c, why, sizeof why);
		/* Keep the day-first formats if the file's language or amounts
		 * say so. */
		int kept = 0;
		for (int f = 0; f < nfits && order == 1; f++)
			if (day_first(fits[f]) == order)
				fits[kept++] = fits[f];
		if (kept && disagree(fits, kept, v, n, &a, &b) < 0) {
			nfits = kept;
			dt_note(c, 15, "date format %s: no day above 12 in the sample decides, but %s", fits[0], why);
			goto chosen;
		}
		snprintf(c->why, c->whylen,
		         "cannot tell the date format: every date of the sample reads as %s and as %s (e.g. '%.30s'; "
		         "no day above 12 decides); candidates: --date-format '%s' or --date-format '%s'",
		         fits[a] ? fits[a] : "%Y-%m-%d", fits[b], v[ex], fits[a] ? fits[a] : "%Y-%m-%d", fits[b]);
		ok = false;
		goto out;
	}
	if (fits[0])
		dt_note(c, n < 5 ? 10 : 0, "date format %s reads all %d dates of the sample", fits[0], n);
chosen:
	if (fits[0])
		dt_choose(c, "date_format", fits[0]);
out:
	free(v);
	return ok;
}

