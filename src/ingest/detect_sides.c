/* detect_sides: which way the money of a file moves. Without a header,
 * two unsigned amount columns never filled on one row are a debit and a
 * credit column, told apart by a running balance; and a file of costs whose
 * money mostly comes in is a bank statement, not costs. */
#include "ingest/detect_int.h"

#include <stdio.h>
#include <string.h>

#include "ingest/csv.h"
#include "ingest/layout.h"
#include "ingest/optlist.h"

/* An amount of a file whose notation is not chosen yet: '.' decimals
 * first, then ','. False when neither reads it. */
static bool some_amount(const char *v, bool comma, int64_t *x)
{
	money_opts m = {.decimal = comma ? ',' : '.', .thousands = comma ? '.' : ',', .symbols = true, .plus = true};
	return money_parse_opts(v, strlen(v), &m, x) == MONEY_OK;
}

/* A cell of the pair: 0 when empty (or a written zero, as some exports
 * fill the other side); false when it is signed or not an amount. */
static bool side_value(const char *v, bool comma, int64_t *x)
{
	*x = 0;
	return !*v || (!strpbrk(v, "-(") && some_amount(v, comma, x) && *x >= 0 && money_in_bounds(*x));
}

/* An amount in the file's notation once chosen (c->money), else in
 * either common one; within money's bounds, so sums cannot overflow. */
static bool read_amount(const ctx *c, const char *v, bool comma, int64_t *x)
{
	bool ok = c->money.decimal ? money_parse_opts(v, strlen(v), &c->money, x) == MONEY_OK : some_amount(v, comma, x);
	return ok && money_in_bounds(*x);
}

/* Does the running balance in column bal follow the moves (credit -
 * debit; debit < 0: credit is a signed amount), in the file's order or the
 * reverse (newest first)? */
static bool balance_follows(const ctx *c, int debit, int credit, int bal, bool comma)
{
	bool fwd = true, back = true;
	int64_t prev = 0, prev_move = 0;
	int n = 0;
	for (int i = c->data; i < c->g.nrows; i++) {
		if (c->g.n[i] < 2)
			continue;
		int64_t b, dv = 0, cv;
		bool ok = read_amount(c, dt_cell(&c->g, i, bal), comma, &b) &&
		          (debit < 0 ? read_amount(c, dt_cell(&c->g, i, credit), comma, &cv)
		                     : side_value(dt_cell(&c->g, i, debit), comma, &dv) &&
		                           side_value(dt_cell(&c->g, i, credit), comma, &cv));
		if (!ok)
			return false;
		if (n++) {
			fwd &= b - prev == cv - dv;
			back &= prev - b == prev_move;
		}
		prev = b;
		prev_move = cv - dv;
	}
	return n >= 2 && (fwd || back);
}

bool dt_split_sides(ctx *c, const int *money, int nmoney)
{
	for (int x = 0; x < nmoney; x++)
		for (int y = x + 1; y < nmoney; y++) {
			int a = money[x], b = money[y], ra = 0, rb = 0;
			bool pair = true, comma = false;
			for (int i = c->data; i < c->g.nrows && pair; i++) {
				if (c->g.n[i] < 2)
					continue;
				const char *va = dt_cell(&c->g, i, a), *vb = dt_cell(&c->g, i, b);
				comma |= dt_decimal_of(va) == ',' || dt_decimal_of(vb) == ',';
				int64_t xa, xb;
				pair = side_value(va, false, &xa) || side_value(va, true, &xa);
				pair = pair && (side_value(vb, false, &xb) || side_value(vb, true, &xb));
				pair = pair && (xa != 0) + (xb != 0) == 1;
				ra += xa != 0;
				rb += xb != 0;
			}
			if (!pair || !ra || !rb)
				continue;
			for (int z = 0; z < nmoney; z++) {
				int k = money[z];
				if (k == a || k == b || dt_filled(c, k) < 100)
					continue;
				if (balance_follows(c, a, b, k, comma) || balance_follows(c, b, a, k, comma)) {
					bool ab = balance_follows(c, a, b, k, comma);
					int debit = ab ? a : b, credit = ab ? b : a;
					/* A bank's balance grows with the money in, a card's
					 * (what is owed) with the charges: only when the money
					 * out is also the more frequent side do the two agree. */
					if ((ab ? ra : rb) <= (ab ? rb : ra))
						break;
					c->debit = debit;
					c->credit = credit;
					dt_note(c, 0, "columns %d and %d are never filled on one row: debit %d and credit %d, as the "
					        "balance in column %d and the more frequent money out say", a + 1, b + 1, debit + 1,
					        credit + 1, k + 1);
					return true;
				}
			}
			snprintf(c->why, c->whylen,
			         "columns %d and %d hold unsigned amounts, never both on one row: a debit and a credit column, "
			         "but nothing says which is which (a running balance and the more frequent side must agree; a "
			         "card's balance grows with its charges): give --debit %d --credit %d (money out, money in), "
			         "or the reverse",
			         a + 1, b + 1, a + 1, b + 1);
			return false;
		}
	return true;
}

/* The sample's money as a costs import would store it (cost = s * x, x
 * the amount or credit - debit, s = -1 with negate): how many rows bring
 * money in (-cost > 0), and about how much each way. */
static void cost_flows(const ctx *c, int amount, bool negate, int *in, double *sum_in, double *sum_out)
{
	*in = 0;
	*sum_in = *sum_out = 0;
	for (int i = c->data; i < c->g.nrows; i++) {
		if (c->g.n[i] < 2)
			continue;
		int64_t x = 0, dv = 0, cv = 0;
		if (c->debit >= 0) {
			const char *d = dt_cell(&c->g, i, c->debit), *k = dt_cell(&c->g, i, c->credit);
			if ((*d && !read_amount(c, d, false, &dv)) || (*k && !read_amount(c, k, false, &cv)))
				continue;
			/* a debit column is money out whatever its sign (layout.c) */
			x = (cv < 0 ? -cv : cv) - (dv < 0 ? -dv : dv);
		} else {
			const char *a = dt_cell(&c->g, i, c->col[amount]);
			if (!*a || !read_amount(c, a, false, &x))
				continue;
		}
		const char *negs = c->indicator >= 0 ? optlist_get(&c->r->opts, "negative_values") : NULL;
		if (negs && layout_in_list(slice_cstr(dt_cell(&c->g, i, c->indicator)), negs))
			x = -x; /* ING's Af Bij: the sign column's words */
		double in_v = negate ? (double)x : -(double)x;
		if (in_v > 0) {
			++*in;
			*sum_in += in_v / 100;
		} else {
			*sum_out -= in_v / 100;
		}
	}
}

/* A card's statement (Amex, Discover): its charges positive, the card's
 * own repayments negative and worded as such. The words, as an extended
 * regular expression for --where. */
#define CARD_PAYMENT "THANK YOU|AUTOPAY|PAYMENT RECEIVED|DIRECTPAY"

static bool card_payment(const char *v)
{
	static const char *const words[] = {"thank you", "autopay", "payment received", "directpay"};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasestr(v, words[i]))
			return true;
	return false;
}

bool dt_card_statement(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	int amount = entity_amount_col(c->kind);
	if ((c->kind != ENT_PAYMENTS && c->kind != ENT_COSTS) || amount < 0 || c->col[amount] < 0 || c->debit >= 0 ||
	    c->indicator >= 0 || !c->signed_values || dt_given(c, "negate") || dt_given(c, "where") ||
	    optlist_get(&c->r->opts, "negate") || optlist_get(&c->r->opts, "compute"))
		return false;
	int pos = 0, neg = 0, paid = 0, text = -1;
	for (int i = c->data; i < c->g.nrows; i++) {
		const char *a = c->g.n[i] >= 2 ? dt_cell(&c->g, i, c->col[amount]) : "";
		int64_t x;
		if (!*a || money_parse_opts(a, strlen(a), &c->money, &x) != MONEY_OK || !x)
			continue;
		pos += x > 0;
		neg += x < 0;
		for (int f = 1; x < 0 && f < d->ncols; f++)
			if (c->col[f] >= 0 && d->cols[f].type == COL_TEXT && card_payment(dt_cell(&c->g, i, c->col[f]))) {
				paid++;
				text = text < 0 ? c->col[f] : text;
				break;
			}
	}
	if (!paid || text < 0 || pos * 5 < (pos + neg) * 3 || c->header < 0)
		return false;
	char where[160];
	snprintf(where, sizeof where, "[%.100s] !~ '" CARD_PAYMENT "'", dt_cell(&c->g, c->header, text));
	if (strchr(dt_cell(&c->g, c->header, text), ']') || strchr(dt_cell(&c->g, c->header, text), '\''))
		return false;
	dt_choose(c, "where", where);
	if (c->kind == ENT_PAYMENTS)
		dt_choose(c, "negate", "1");
	dt_note(c, 10,
	        "a card's statement: %d charges positive, and %d repayments of the card ('%.30s') left out as transfers "
	        "between own accounts%s",
	        pos, paid, dt_cell(&c->g, c->header, text), c->kind == ENT_PAYMENTS ? "; charges are money out (--negate)" : "");
	return true;
}

bool dt_costs_one_way(ctx *c)
{
	int amount = entity_amount_col(c->kind);
	if (c->kind != ENT_COSTS || (c->debit < 0 && (amount < 0 || c->col[amount] < 0)) || dt_given(c, "where"))
		return true;
	const char *neg = optlist_get(&c->r->opts, "negate");
	int in;
	double sum_in, sum_out;
	cost_flows(c, amount, (neg && !strcmp(neg, "1")) || dt_given(c, "negate"), &in, &sum_in, &sum_out);
	if (!in)
		return true;
	if (sum_in >= sum_out) {
		snprintf(c->why, c->whylen,
		         "%d rows of the sample are money in (about %lld in, %lld out): as costs they would make the costs "
		         "negative. A bank statement's money in is customer payments: import it with `brisk import payments "
		         "FILE --split` (money in to payments, money out to costs), or give --negate if the file's signs are "
		         "the other way",
		         in, (long long)sum_in, (long long)sum_out);
		return false;
	}
	dt_note(c, 10, "%d rows of the sample are money in: stored as negative costs (refunds); if they are customer "
	        "payments, import the file with payments --split", in);
	return true;
}
