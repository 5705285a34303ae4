#include "ingest/gen_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/money.h"

/* costs.csv, sales_orders.csv and leads.csv of brisk gen (see gen.c). */

/* ---- costs ---- */

int gen_write_costs(ctx *c, uint64_t target)
{
	gen_rng r;
	gen_rng_seed(&r, c->o->seed, S_COSTS);
	size_t ncat = gen_names_category_count();
	double cdf[64], cum = 0;
	for (size_t i = 0; i < ncat; i++) {
		cum += 1.0 / (double)(i + 1);
		cdf[i] = cum;
	}
	uint32_t *per_day = gen_day_counts(c, S_COSTS, target, 0.2);
	uint64_t id = 0;
	for (uint32_t day = 0; day < c->ndays && !c->failed; day++) {
		date_t d = c->start + (date_t)day;
		for (uint32_t k = 0; k < per_day[day] && !c->failed; k++) {
			size_t cat = gen_cdf_pick(cdf, ncat, gen_rng_unit(&r) * cum);
			double median, sigma;
			const char *name = gen_names_category(cat, &median, &sigma);
			int64_t amount = gen_cents_of(gen_rng_lognormal(&r, median, sigma), 100, 50000000);
			if (sigma <= 0.1) /* fixed charges such as rent are round */
				amount = (amount + 5000) / 10000 * 10000;
			buf_t *b = &c->row;
			gen_put_id(b, "EXP", ++id, 6);
			buf_putc(b, ',');
			gen_put_date(c, b, d);
			buf_putc(b, ',');
			gen_put_cfield(b, name);
			buf_putc(b, ',');
			gen_put_money(b, amount);
			buf_putc(b, ',');
			buf_reset(&c->tmp);
			gen_names_vendor(&r, cat, &c->tmp);
			gen_put_field(b, &c->tmp);
			buf_putc(b, ',');
			buf_reset(&c->tmp);
			gen_names_description(&r, cat, d, &c->tmp);
			gen_put_field(b, &c->tmp);
			gen_emit(c, F_COSTS);
		}
	}
	free(per_day);
	c->n.costs = id;
	return c->failed ? -1 : 0;
}

/* ---- sales orders ---- */

static const char *order_status(gen_rng *r, int age)
{
	static const char *const st[] = {"pending", "confirmed", "shipped", "completed", "cancelled"};
	static const double fresh[] = {40, 35, 18, 2, 5};   /* up to 3 days old */
	static const double recent[] = {8, 20, 42, 25, 5};  /* up to 14 days */
	static const double month[] = {1, 4, 15, 75, 5};    /* up to 30 days */
	static const double old[] = {0.2, 0.3, 0.5, 93, 6};
	const double *w = age <= 3 ? fresh : age <= 14 ? recent : age <= 30 ? month : old;
	return st[gen_rng_weighted(r, w, 5)];
}

int gen_write_sales(ctx *c, uint64_t target)
{
	gen_rng r;
	gen_rng_seed(&r, c->o->seed, S_SALES);
	uint32_t *per_day = gen_day_counts(c, S_SALES, target, 0.35);
	uint64_t id = 0;
	for (uint32_t day = 0; day < c->ndays && !c->failed; day++) {
		date_t d = c->start + (date_t)day;
		for (uint32_t k = 0; k < per_day[day] && !c->failed; k++) {
			const customer *cu = &c->cust[gen_pick_customer(c, &r)];
			int64_t amount = gen_cents_of(gen_rng_lognormal(&r, cu->size * 0.8, 0.7), 500, 50000000);
			buf_t *b = &c->row;
			gen_put_id(b, "SO", ++id, 6);
			buf_putc(b, ',');
			gen_put_date(c, b, d);
			buf_putc(b, ',');
			buf_csv_field(b, cu->name.name, cu->name.len);
			buf_putc(b, ',');
			buf_puts(b, order_status(&r, (int)(c->end - d)));
			buf_putc(b, ',');
			gen_put_money(b, amount);
			gen_emit(c, F_SALES);
		}
	}
	free(per_day);
	c->n.sales_orders = id;
	return c->failed ? -1 : 0;
}

/* ---- invoices and their payment plans ---- */
static const char *const lead_status[] = {"new", "contacted", "qualified", "proposal", "won", "lost"};

static size_t pick_lead_status(gen_rng *r, int age)
{
	static const double week[] = {55, 30, 10, 3, 1, 1};
	static const double month[] = {15, 30, 20, 15, 10, 10};
	static const double quarter[] = {5, 10, 10, 10, 30, 35};
	static const double old[] = {2, 3, 3, 2, 40, 50};
	const double *w = age <= 7 ? week : age <= 30 ? month : age <= 90 ? quarter : old;
	return gen_rng_weighted(r, w, 6);
}

static void put_created_at(gen_rng *r, buf_t *b, ctx *c, date_t d)
{
	static const double form_w[] = {35, 25, 10, 12, 3, 15};
	size_t form = gen_rng_weighted(r, form_w, 6);
	gen_put_date(c, b, d);
	if (form == 5)
		return;
	int hh = (int)gen_rng_range(r, 8, 19), mm = (int)gen_rng_range(r, 0, 59);
	int ss = gen_rng_chance(r, 0.4) ? 0 : (int)gen_rng_range(r, 0, 59);
	buf_printf(b, "%c%02d:%02d:%02d", form == 1 ? ' ' : 'T', hh, mm, ss);
	if (form == 2)
		buf_putc(b, 'Z');
	else if (form == 3)
		buf_puts(b, "+08:00");
	else if (form == 4)
		buf_puts(b, "-05:00");
}

/* Follow-ups of open leads cluster around `end`: some due that day, some
 * overdue, some ahead, some not set; closed leads mostly have none. */
static date_t followup(ctx *c, gen_rng *r, date_t created, size_t status)
{
	date_t f;
	if (status >= 4) {
		if (gen_rng_chance(r, 0.7))
			return -1;
		f = created + (date_t)gen_rng_range(r, 0, 30);
		return f > c->end ? c->end : f;
	}
	double u = gen_rng_unit(r);
	if (u < 0.12)
		return -1;
	if (u < 0.30)
		f = c->end;
	else if (u < 0.65)
		f = c->end - (date_t)(gen_rng_chance(r, 0.8) ? gen_rng_range(r, 1, 14) : gen_rng_range(r, 15, 120));
	else
		f = c->end + (date_t)gen_rng_range(r, 1, 30);
	if (f < created)
		f = created + (date_t)gen_rng_range(r, 0, 10);
	return f;
}

int gen_write_leads(ctx *c, uint64_t target)
{
	gen_rng r;
	gen_rng_seed(&r, c->o->seed, S_LEADS);
	static const double creator_w[GEN_NAMES_CREATORS] = {1.6, 1.3, 1.2, 1.0, 1.0, 0.8, 0.6, 0.5};
	uint32_t *per_day = gen_day_counts(c, S_LEADS, target, 0.3);
	uint64_t id = 0;
	for (uint32_t day = 0; day < c->ndays && !c->failed; day++) {
		date_t d = c->start + (date_t)day;
		for (uint32_t k = 0; k < per_day[day] && !c->failed; k++) {
			buf_t *b = &c->row;
			size_t st = pick_lead_status(&r, (int)(c->end - d));
			gen_put_id(b, "LD", ++id, 6);
			buf_putc(b, ',');
			put_created_at(&r, b, c, d);
			buf_putc(b, ',');
			gen_put_cfield(b, gen_names_creator(gen_rng_weighted(&r, creator_w, GEN_NAMES_CREATORS)));
			buf_putc(b, ',');
			buf_puts(b, lead_status[st]);
			buf_putc(b, ',');
			buf_reset(&c->tmp);
			if (gen_rng_chance(&r, 0.95))
				gen_names_person(&r, &c->tmp);
			gen_put_field(b, &c->tmp);
			buf_putc(b, ',');
			buf_reset(&c->tmp);
			if (gen_rng_chance(&r, 0.88))
				gen_names_mobile(&r, &c->tmp);
			gen_put_field(b, &c->tmp);
			buf_putc(b, ',');
			if (gen_rng_chance(&r, 0.95))
				gen_put_cfield(b, gen_names_source(&r));
			buf_putc(b, ',');
			date_t f = followup(c, &r, d, st);
			if (f >= 0)
				gen_put_date(c, b, f);
			buf_putc(b, ',');
			if (gen_rng_chance(&r, 0.78)) {
				int64_t v = gen_cents_of(gen_rng_lognormal(&r, st == 4 ? 4000 : 2500, 1.0), 5000, 100000000);
				if (gen_rng_chance(&r, 0.7)) /* estimates are round */
					v = (v + 5000) / 10000 * 10000;
				gen_put_money(b, v);
			}
			gen_emit(c, F_LEADS);
		}
	}
	free(per_day);
	c->n.leads = id;
	return c->failed ? -1 : 0;
}

