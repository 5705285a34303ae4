#include "ingest/gen_batch.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define BATCH_SPAN 45 /* days: invoices further apart are not paid together */

void gen_batches_init(gen_batches *g, size_t ncust)
{
	memset(g, 0, sizeof *g);
	g->ncust = ncust;
	g->open = xmalloc((ncust ? ncust : 1) * sizeof *g->open);
	for (size_t i = 0; i < ncust; i++)
		g->open[i] = -1;
}

void gen_batches_free(gen_batches *g)
{
	free(g->b);
	free(g->open);
	memset(g, 0, sizeof *g);
}

uint32_t gen_batches_add(gen_batches *g, gen_rng *r, uint32_t customer, uint32_t inv, uint32_t seq, int year,
                         int64_t amount, date_t issue, date_t when, uint32_t *closed)
{
	*closed = 0;
	int32_t k = g->open[customer];
	if (k >= 0 && issue - g->b[k].first_issue > BATCH_SPAN) {
		*closed = (uint32_t)k + 1;
		g->open[customer] = k = -1;
	}
	if (k < 0) {
		if (g->n == g->cap) {
			g->cap = g->cap ? g->cap * 2 : 1024;
			g->b = xrealloc(g->b, g->cap * sizeof *g->b);
		}
		k = (int32_t)g->n++;
		memset(&g->b[k], 0, sizeof g->b[k]);
		g->b[k].customer = customer;
		g->b[k].first_issue = issue;
		g->b[k].want = (uint8_t)(gen_rng_chance(r, 0.6) ? 2 : gen_rng_chance(r, 0.6) ? 3 : 4);
		g->open[customer] = k;
	}
	gen_batch *b = &g->b[k];
	b->inv[b->n] = inv;
	b->seq[b->n] = seq;
	b->year[b->n] = (uint16_t)year;
	b->n++;
	b->amount += amount;
	if (when > b->when)
		b->when = when;
	if (b->n < b->want)
		return 0;
	g->open[customer] = -1;
	return (uint32_t)k + 1;
}

void gen_batches_flush(gen_batches *g, void (*pay)(void *ud, uint32_t batch), void *ud)
{
	for (size_t c = 0; c < g->ncust; c++)
		if (g->open[c] >= 0) {
			pay(ud, (uint32_t)g->open[c] + 1);
			g->open[c] = -1;
		}
}

void gen_batch_reference(gen_rng *r, const gen_batch *b, buf_t *out)
{
	static const char *const none[] = {"PAYMENT", "Invoices, thank you", "REMITTANCE ADVICE TO FOLLOW",
	                                   "Settlement of account", "Monthly payment", ""};
	if (b->n < 2 || gen_rng_chance(r, 0.35)) {
		buf_puts(out, none[gen_rng_below(r, sizeof none / sizeof none[0])]);
		return;
	}
	static const char *const lead[] = {"", "Inv ", "Payment ", "INVOICES "};
	static const char *const sep[] = {" ", ", ", "/", " + "};
	buf_puts(out, lead[gen_rng_below(r, 4)]);
	const char *s = sep[gen_rng_below(r, 4)];
	for (uint8_t i = 0; i < b->n; i++) {
		if (i)
			buf_puts(out, s);
		buf_printf(out, "INV-%04u-%06u", (unsigned)b->year[i], (unsigned)b->seq[i]);
	}
}
