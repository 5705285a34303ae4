#include <stdio.h>
#include <string.h>

#include "ingest/csv.h"
#include "ingest/detect_int.h"

/* DESIGN
 * PayPal, Stripe, Revolut, Mollie... export each line as a gross amount,
 * a fee and a net. The bank (or the e-money balance) moves by the net: a
 * gross stored as the payment over-states the money in by every fee. The
 * net column is taken only when the sample's values prove it is gross
 * less the fee (one convention for all rows: fee signed, or fee as a
 * positive cost); a file without one gets the net computed when the
 * fees' sign tells which way, and is refused with both candidates when it
 * does not. */

/* Reads cell (row, col) with the file's money options. */
static bool amount_at(const ctx *c, int row, int col, int64_t *v)
{
	const char *s = c->g.n[row] >= 2 ? dt_cell(&c->g, row, col) : "";
	*v = 0;
	if (!*s)
		return true; /* an empty fee is no fee */
	return money_parse_opts(s, strlen(s), &c->money, v) == MONEY_OK;
}

/* Is column net the gross column less the fee on every row of the sample
 * that reads (the same convention on all)? */
static bool is_net(const ctx *c, int gross, int fee, int net)
{
	bool plus = true, minus = true; /* net = gross + fee, net = gross - fee */
	int rows = 0;
	for (int i = c->data; i < c->g.nrows; i++) {
		int64_t g, f, n;
		const char *gs = c->g.n[i] >= 2 ? dt_cell(&c->g, i, gross) : "";
		if (!*gs || !amount_at(c, i, gross, &g) || !amount_at(c, i, fee, &f) || !amount_at(c, i, net, &n))
			continue;
		rows++;
		plus &= n == g + f;
		minus &= n == g - f;
	}
	return rows && (plus || minus);
}

static void quote_name(char *out, size_t n, const char *name)
{
	snprintf(out, n, "[%s]", name);
}

bool dt_pick_net(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	int a = entity_col_index(d, "amount", 6);
	if ((c->kind != ENT_PAYMENTS && c->kind != ENT_COSTS) || a < 0 || c->col[a] < 0 || c->mapped[a] ||
	    c->debit >= 0 || c->header < 0 || dt_given(c, "compute"))
		return true;
	bool used[CSV_MAX_FIELDS];
	dt_used_columns(c, used);
	int fee = dt_best_column(c, ROLE_FEE, used);
	if (fee < 0)
		return true;
	int gross = c->col[a];
	const char *gname = dt_cell(&c->g, c->header, gross), *fname = dt_cell(&c->g, c->header, fee);
	int with_fee = 0, rows = 0, pos = 0, neg = 0;
	for (int i = c->data; i < c->g.nrows; i++) {
		int64_t g, f;
		const char *gs = c->g.n[i] >= 2 ? dt_cell(&c->g, i, gross) : "";
		if (!*gs || !amount_at(c, i, gross, &g) || !amount_at(c, i, fee, &f))
			continue;
		rows++;
		with_fee += f != 0;
		pos += f > 0;
		neg += f < 0;
	}
	/* a net column (or a "Total amount") the values prove */
	used[fee] = true;
	for (int pass = 0; pass < 2; pass++) {
		bool tried[CSV_MAX_FIELDS] = {0};
		int net;
		while ((net = dt_best_column(c, pass ? ROLE_AMOUNT : ROLE_NET, used)) >= 0) {
			used[net] = tried[net] = true;
			if (!is_net(c, gross, fee, net))
				continue;
			c->col[a] = net;
			dt_note(c, with_fee ? 0 : 5,
			        "amount from '%s', what reached the account: '%s' less the fee '%s' (%d of %d rows of the sample "
			        "carry a fee)",
			        dt_cell(&c->g, c->header, net), gname, fname, with_fee, rows);
			return true;
		}
		for (int k = 0; k < CSV_MAX_FIELDS; k++)
			if (tried[k])
				used[k] = false;
	}
	if (!with_fee)
		return true;
	/* No net column: computed, when the fees' sign says how. Fees all
	 * negative are signed (gross + fee); all positive are a cost taken
	 * from a signed or incoming amount (gross - fee). Costs are refused:
	 * whether their amounts count spending as positive is not known yet. */
	char g[80], f[80], expr[200];
	quote_name(g, sizeof g, gname);
	quote_name(f, sizeof f, fname);
	bool minus = !neg;
	if (c->kind == ENT_PAYMENTS && (!pos || !neg)) {
		snprintf(expr, sizeof expr, "amount=%s %c coalesce(%s, 0)", g, minus ? '-' : '+', f);
		c->col[a] = -1;
		dt_choose(c, "compute", expr);
		dt_note(c, 10, "amount computed as '%s' %s the fee '%s', what reached the account (%d of %d rows of the "
		        "sample carry a fee; no net column)",
		        gname, minus ? "less" : "plus", fname, with_fee, rows);
		return true;
	}
	snprintf(c->why, c->whylen,
	         "column '%.40s' holds fees beside the gross amounts '%.40s' (%d of %d rows of the sample) and their sign "
	         "does not tell how they were taken: candidates --compute 'amount=%s - coalesce(%s, 0)' or --compute "
	         "'amount=%s + coalesce(%s, 0)' (the net, what reached the account), or --map amount='%.40s' (the gross)",
	         fname, gname, with_fee, rows, g, f, g, f, gname);
	return false;
}
