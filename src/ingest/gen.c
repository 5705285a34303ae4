#include "ingest/gen.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/money.h"
#include "ingest/gen_accounts.h"
#include "ingest/gen_batch.h"
#include "ingest/gen_names.h"
#include "ingest/gen_int.h"

/*
 * DESIGN
 * Every entity is generated day by day, from the first day of the two years
 * to `end`: a weight curve (growth, quiet weekends, a yearly season, daily
 * noise) spreads the entity's target row count over the days, with rounding
 * carried so the total is exact, and rows come out sorted by date. Each
 * entity draws from its own PRNG stream of the seed, so a change to how one
 * entity is made leaves the others' bytes alone.
 *
 * The one relation that needs memory is invoice -> payments. While writing
 * invoices we append a compact payment plan (pay_rec, 32 bytes); afterwards
 * the plans are sorted by date and payments.csv and truth.csv are written
 * from them, drawing payer and reference text only then.
 */


static const char *const file_names[F_COUNT] = {
	"costs.csv", "sales_orders.csv", "invoices.csv", "payments.csv", "leads.csv", "truth.csv", "accounts.csv",
};

static const char *const file_headers[F_COUNT] = {
	"id,date,category,amount,vendor,description\n",
	"id,date,customer,status,amount\n",
	"id,number,customer,customer_id,issue_date,due_date,amount,status\n",
	"id,date,payer,amount,reference,customer_id\n",
	"id,created_at,creator,status,name,mobile,source,followup_date,value\n",
	"payment_id,invoice_id\n",
	"account,customer_id,kind\n",
};
#define PAYMENTS_ACCOUNT_HEADER "id,date,payer,amount,reference,customer_id,payer_account\n"


static int fail(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(ctx *c, const char *fmt, ...)
{
	if (!c->failed && c->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	c->failed = 1;
	return -1;
}

void gen_opts_init(gen_opts *o)
{
	memset(o, 0, sizeof *o);
	o->scale = 1;
	o->seed = 42;
	o->end = date_today();
}

/* ---- row output ---- */

void gen_put_date(ctx *c, buf_t *b, date_t d)
{
	int64_t k = (int64_t)d - c->start + DAY_PAD;
	if (k >= 0 && k < (int64_t)c->ndays + 2 * DAY_PAD) {
		buf_put(b, c->day_str[k], 10);
		return;
	}
	char s[DATE_BUFSZ];
	buf_put(b, s, date_format(d, s));
}

void gen_put_money(buf_t *b, int64_t cents)
{
	char s[MONEY_BUFSZ];
	buf_put(b, s, money_format(cents, s));
}

/* prefix + the number zero-padded to at least `width` digits. */
void gen_put_id(buf_t *b, const char *prefix, uint64_t n, int width)
{
	char s[24];
	int k = 0;
	do {
		s[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	while (k < width)
		s[k++] = '0';
	buf_puts(b, prefix);
	buf_reserve(b, (size_t)k);
	while (k)
		b->p[b->len++] = s[--k];
	b->p[b->len] = '\0';
}

void gen_put_field(buf_t *b, const buf_t *text)
{
	buf_csv_field(b, text->p, text->len);
}

void gen_put_cfield(buf_t *b, const char *s)
{
	buf_csv_field(b, s, strlen(s));
}

static void progress(ctx *c, uint64_t rows)
{
	c->done += rows;
	if (!c->o->progress || c->done < c->next_report)
		return;
	c->next_report = c->done + 16384;
	double frac = (double)c->done / (double)c->total;
	c->o->progress(c->o->ud, frac < 0.99 ? frac : 0.99);
}

/* Writes the row buffer (plus LF) to file f and empties it. */
int gen_emit(ctx *c, int f)
{
	buf_putc(&c->row, '\n');
	if (fwrite(c->row.p, 1, c->row.len, c->f[f]) != c->row.len)
		return fail(c, "%s/%s: %s", c->dir, file_names[f], strerror(errno));
	buf_reset(&c->row);
	if (f != F_TRUTH)
		progress(c, 1);
	return 0;
}

/* ---- shared shapes ---- */

static const double season[12] = {0.92, 0.85, 1.0, 1.0, 1.04, 0.98, 0.95, 0.96, 1.03, 1.08, 1.1, 1.12};

/* Spreads target rows over the days: rows per day follow growth over the
 * two years, quieter weekends (weekend = their weight), a yearly season and
 * daily noise; rounding is carried so the total is exactly target. */
uint32_t *gen_day_counts(ctx *c, uint64_t stream, uint64_t target, double weekend)
{
	gen_rng r;
	gen_rng_seed(&r, c->o->seed, S_DAYS * 100 + stream);
	double *w = xmalloc(c->ndays * sizeof *w), sum = 0;
	for (uint32_t i = 0; i < c->ndays; i++) {
		date_t d = c->start + (date_t)i;
		int y, m, dd;
		date_to_ymd(d, &y, &m, &dd);
		double x = (0.7 + 0.6 * i / c->ndays) * season[m - 1] * (0.75 + 0.5 * gen_rng_unit(&r));
		if (date_weekday(d) >= 6)
			x *= weekend;
		w[i] = x;
		sum += x;
	}
	uint32_t *n = xmalloc(c->ndays * sizeof *n);
	double cum = 0;
	uint64_t given = 0;
	for (uint32_t i = 0; i < c->ndays; i++) {
		cum += (double)target * w[i] / sum;
		uint64_t upto = i + 1 == c->ndays ? target : (uint64_t)llround(cum);
		if (upto < given)
			upto = given;
		if (upto > target)
			upto = target;
		n[i] = (uint32_t)(upto - given);
		given = upto;
	}
	free(w);
	return n;
}

/* Index of u in a cumulative table (the first entry > u). */
size_t gen_cdf_pick(const double *cdf, size_t n, double u)
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

size_t gen_pick_customer(ctx *c, gen_rng *r)
{
	return gen_cdf_pick(c->cust_cdf, c->ncust, gen_rng_unit(r) * c->cust_cdf[c->ncust - 1]);
}

int64_t gen_cents_of(double units, int64_t min, int64_t max)
{
	int64_t v = llround(units * 100);
	return v < min ? min : v > max ? max : v;
}

/* ---- customers ---- */

static void make_customers(ctx *c)
{
	gen_rng r;
	gen_rng_seed(&r, c->o->seed, S_CUSTOMERS);
	double s = c->o->scale;
	c->ncust = s >= 1 ? 2000 : (size_t)llround(2000 * s);
	if (c->ncust < 200)
		c->ncust = 200;
	gen_name *names = xmalloc(c->ncust * sizeof *names);
	gen_names_customers(&r, names, c->ncust);
	c->cust = xcalloc(c->ncust, sizeof *c->cust);
	c->cust_cdf = xmalloc(c->ncust * sizeof *c->cust_cdf);
	static const int terms[] = {7, 14, 30, 45, 60};
	static const double terms_w[] = {10, 20, 45, 15, 10};
	/* Payment habits: early, prompt, slow, very slow. */
	static const double habit_w[] = {20, 45, 25, 10};
	static const double habit_mean[] = {-5, 1, 14, 40};
	static const double habit_sd[] = {4, 4, 10, 20};
	static const double habit_bad[] = {0.003, 0.008, 0.02, 0.06};
	double cum = 0;
	for (size_t i = 0; i < c->ncust; i++) {
		customer *k = &c->cust[i];
		k->name = names[i];
		snprintf(k->id, sizeof k->id, "C%05u", (unsigned)(i + 1));
		k->size = gen_rng_lognormal(&r, 1500, 0.9);
		k->terms = terms[gen_rng_weighted(&r, terms_w, 5)];
		size_t h = gen_rng_weighted(&r, habit_w, 4);
		k->delay_mean = habit_mean[h];
		k->delay_sd = habit_sd[h];
		k->bad_debt = habit_bad[h];
		/* Zipf-like: a few customers bring much of the business. */
		cum += 1.0 / pow((double)(i + 1), 0.75);
		c->cust_cdf[i] = cum;
	}
	free(names);
}


static pay_rec *new_pay(ctx *c)
{
	if (c->npays == c->cap_pays) {
		c->cap_pays = c->cap_pays ? c->cap_pays * 2 : 4096;
		c->pays = xrealloc(c->pays, c->cap_pays * sizeof *c->pays);
	}
	pay_rec *p = &c->pays[c->npays];
	memset(p, 0, sizeof *p);
	p->seq = (uint32_t)c->npays++;
	return p;
}

/* A payment for batch k (1-based), unless it falls after the end. */
static void pay_batch(ctx *c, uint32_t k)
{
	const gen_batch *b = &c->batches.b[k - 1];
	if (b->when > c->end)
		return;
	pay_rec *p = new_pay(c);
	p->amount = b->amount;
	p->date = b->when;
	p->invoice = b->inv[0];
	p->customer = b->customer;
	p->inv_seq = b->seq[0];
	p->inv_year = b->year[0];
	p->part = p->nparts = 1;
	p->batch = k;
}

static void flush_batch(void *ud, uint32_t k)
{
	pay_batch(ud, k);
}

/* Plans how invoice `inv` gets paid: mostly once around the due date (the
 * customer's habit plus noise, a tail very late), ~5% in 2-3 parts that sum
 * to the amount, a few never. Payments after `end` have not happened yet,
 * which leaves recent and overdue invoices open for the aging buckets. */
static void plan_payments(ctx *c, gen_rng *r, uint32_t inv, size_t cu, int year, uint32_t seq,
			  date_t issue, date_t due, int64_t amount)
{
	const customer *k = &c->cust[cu];
	if (gen_rng_chance(r, k->bad_debt))
		return;
	double delay = k->delay_mean + k->delay_sd * gen_rng_normal(r);
	if (gen_rng_chance(r, 0.04))
		delay = (double)gen_rng_range(r, 60, 200);
	date_t when = due + (date_t)llround(delay);
	if (when < issue)
		when = issue + (date_t)gen_rng_range(r, 0, 3);
	int64_t parts[3] = {amount, 0, 0};
	int nparts = 1;
	if (c->batch_p > 0 && gen_rng_chance(r, c->batch_p)) {
		uint32_t closed, full = gen_batches_add(&c->batches, r, (uint32_t)cu, inv, seq, year, amount, issue, when,
		                                        &closed);
		if (closed)
			pay_batch(c, closed);
		if (full)
			pay_batch(c, full);
		return;
	}
	if (c->o->fees > 0 && gen_rng_chance(r, c->o->fees)) {
		int64_t most = amount / 50 < 1000 ? amount / 50 : 1000; /* 2%, 10.00 */
		if (most >= 50)
			parts[0] -= gen_rng_range(r, 50, most);
	} else if (c->o->overpay > 0 && gen_rng_chance(r, c->o->overpay)) {
		parts[0] += gen_rng_range(r, 100, amount / 10 > 100 ? amount / 10 : 100);
	}
	if (parts[0] != amount) {
		/* A fee or an overpayment: paid once. */
	} else if (gen_rng_chance(r, 0.05)) {
		nparts = gen_rng_chance(r, 0.7) ? 2 : 3;
		int64_t left = amount;
		for (int i = 0; i < nparts - 1; i++) {
			double share = 0.3 + 0.3 * gen_rng_unit(r);
			int64_t v = llround((double)left * share);
			if (v >= 100000 && gen_rng_chance(r, 0.5))
				v = v / 10000 * 10000; /* "pay 3,000 now" */
			if (v < 1)
				v = 1;
			parts[i] = v;
			left -= v;
		}
		parts[nparts - 1] = left;
		when -= (date_t)gen_rng_range(r, 0, 20);
		if (when < issue)
			when = issue;
	}
	for (int i = 0; i < nparts; i++) {
		if (i)
			when += (date_t)gen_rng_range(r, 7, 40);
		if (when > c->end)
			return;
		pay_rec *p = new_pay(c);
		p->amount = parts[i];
		p->date = when;
		p->invoice = inv;
		p->customer = (uint32_t)cu;
		p->inv_seq = seq;
		p->inv_year = (uint16_t)year;
		p->part = (uint8_t)(i + 1);
		p->nparts = (uint8_t)nparts;
	}
}

static int write_invoices(ctx *c, uint64_t target)
{
	gen_rng r;
	gen_rng_seed(&r, c->o->seed, S_INVOICES);
	uint32_t *per_day = gen_day_counts(c, S_INVOICES, target, 0.1);
	uint32_t id = 0, seq = 0;
	int cur_year = 0;
	for (uint32_t day = 0; day < c->ndays && !c->failed; day++) {
		date_t d = c->start + (date_t)day;
		int y, m, dd;
		date_to_ymd(d, &y, &m, &dd);
		if (y != cur_year) {
			cur_year = y;
			seq = 0;
		}
		for (uint32_t k = 0; k < per_day[day] && !c->failed; k++) {
			size_t ci = gen_pick_customer(c, &r);
			customer *cu = &c->cust[ci];
			/* Random cents keep equal amounts within a customer rare,
			 * except for the few repeated ones (ties, issue 21). */
			int64_t amount = gen_cents_of(gen_rng_lognormal(&r, cu->size, 0.6), 2000, 25000000);
			if (gen_rng_chance(&r, 0.05) && (!cu->fee || d - cu->fee_issue >= 28)) {
				if (!cu->fee)
					cu->fee = amount;
				amount = cu->fee;
				cu->fee_issue = d;
			}
			date_t due = d + cu->terms;
			int is_void = gen_rng_chance(&r, 0.01);
			seq++;
			buf_t *b = &c->row;
			gen_put_id(b, "IV", ++id, 6);
			buf_putc(b, ',');
			gen_names_invoice_number(y, seq, b);
			buf_putc(b, ',');
			buf_csv_field(b, cu->name.name, cu->name.len);
			buf_putc(b, ',');
			buf_puts(b, cu->id);
			buf_putc(b, ',');
			gen_put_date(c, b, d);
			buf_putc(b, ',');
			gen_put_date(c, b, due);
			buf_putc(b, ',');
			gen_put_money(b, amount);
			buf_puts(b, is_void ? ",void" : ",open");
			gen_emit(c, F_INVOICES);
			if (!is_void)
				plan_payments(c, &r, id, ci, y, seq, d, due, amount);
		}
	}
	free(per_day);
	c->n.invoices = id;
	return c->failed ? -1 : 0;
}

/* ---- payments and truth ---- */

static int pay_cmp(const void *a, const void *b)
{
	const pay_rec *x = a, *y = b;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int write_payments(ctx *c)
{
	gen_rng r, ra;
	gen_rng_seed(&r, c->o->seed, S_PAYMENTS);
	gen_rng_seed(&ra, c->o->seed, S_ACCOUNTS); /* its own: payments.csv keeps its other bytes */
	/* ~3% of all payments belong to no invoice. */
	size_t related = c->npays;
	size_t unrelated = (size_t)llround((double)related * 0.03 / 0.97);
	for (size_t i = 0; i < unrelated; i++) {
		pay_rec *p = new_pay(c);
		p->date = c->start + (date_t)gen_rng_below(&r, c->ndays);
	}
	qsort(c->pays, c->npays, sizeof *c->pays, pay_cmp);
	for (size_t i = 0; i < c->npays && !c->failed; i++) {
		const pay_rec *p = &c->pays[i];
		buf_t *b = &c->row;
		buf_reset(&c->tmp);
		buf_reset(&c->tmp2);
		int64_t amount = p->amount;
		if (p->batch) {
			gen_names_payer(&r, &c->cust[p->customer].name, &c->tmp);
			gen_batch_reference(&r, &c->batches.b[p->batch - 1], &c->tmp2);
		} else if (p->invoice) {
			gen_names_payer(&r, &c->cust[p->customer].name, &c->tmp);
			gen_names_reference(&r, p->inv_year, p->inv_seq, p->part, p->nparts, &c->tmp2);
		} else {
			amount = gen_names_unrelated(&r, p->date, &c->tmp, &c->tmp2);
		}
		gen_put_id(b, "PAY", i + 1, 6);
		buf_putc(b, ',');
		gen_put_date(c, b, p->date);
		buf_putc(b, ',');
		gen_put_field(b, &c->tmp);
		buf_putc(b, ',');
		gen_put_money(b, amount);
		buf_putc(b, ',');
		gen_put_field(b, &c->tmp2);
		buf_putc(b, ',');
		if (p->invoice && gen_rng_chance(&r, 0.25))
			buf_puts(b, c->cust[p->customer].id);
		if (c->o->accounts > 0) {
			buf_putc(b, ',');
			buf_reset(&c->tmp);
			if (p->invoice && gen_rng_chance(&ra, c->o->accounts))
				gen_account_pick(&ra, c->o->seed, p->customer, &c->tmp);
			else if (!p->invoice && gen_rng_chance(&ra, c->o->accounts))
				gen_account(c->o->seed, (uint32_t)(c->ncust + gen_rng_below(&ra, 100000)), GEN_ACCT_OWN,
				            &c->tmp); /* someone who is no customer */
			gen_put_field(b, &c->tmp);
		}
		if (gen_emit(c, F_PAYMENTS))
			break;
		const gen_batch *bt = p->batch ? &c->batches.b[p->batch - 1] : NULL;
		for (uint8_t k = 0; k < (bt ? bt->n : 1); k++) {
			gen_put_id(b, "PAY", i + 1, 6);
			buf_putc(b, ',');
			if (p->invoice)
				gen_put_id(b, "IV", bt ? bt->inv[k] : p->invoice, 6);
			gen_emit(c, F_TRUTH);
			c->n.truth++;
		}
	}
	c->n.payments = c->failed ? 0 : c->npays;
	if (c->failed)
		c->n.truth = 0;
	return c->failed ? -1 : 0;
}

/* ---- leads ---- */

/* ---- files ---- */

static int make_dirs(ctx *c, const char *dir)
{
	if (!*dir)
		return fail(c, "empty output directory name");
	char *p = xstrdup(dir);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char saved = *s;
		*s = '\0';
		struct stat st;
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			rc = fail(c, "%s: %s", p, strerror(errno));
			break;
		}
		if (!saved) {
			if (stat(p, &st) != 0)
				rc = fail(c, "%s: %s", p, strerror(errno));
			else if (!S_ISDIR(st.st_mode))
				rc = fail(c, "%s: %s", p, strerror(ENOTDIR));
			break;
		}
		*s = saved;
	}
	free(p);
	return rc;
}

static int open_files(ctx *c)
{
	buf_t path = BUF_INIT;
	for (int i = 0; i < F_COUNT; i++) {
		if (i == F_ACCOUNTS && !(c->o->accounts > 0))
			continue;
		const char *header = i == F_PAYMENTS && c->o->accounts > 0 ? PAYMENTS_ACCOUNT_HEADER : file_headers[i];
		buf_reset(&path);
		buf_printf(&path, "%s/%s", c->dir, file_names[i]);
		c->f[i] = fopen(path.p, "w");
		if (!c->f[i]) {
			fail(c, "%s: %s", path.p, strerror(errno));
			break;
		}
		setvbuf(c->f[i], NULL, _IOFBF, 1 << 18);
		if (fputs(header, c->f[i]) == EOF) {
			fail(c, "%s: %s", path.p, strerror(errno));
			break;
		}
	}
	buf_free(&path);
	return c->failed ? -1 : 0;
}

static void close_files(ctx *c)
{
	for (int i = 0; i < F_COUNT; i++) {
		if (!c->f[i])
			continue;
		errno = 0;
		int bad = ferror(c->f[i]);
		if (fclose(c->f[i]) != 0 || bad)
			fail(c, "%s/%s: %s", c->dir, file_names[i], strerror(errno ? errno : EIO));
		c->f[i] = NULL;
	}
}

int gen_write(const char *dir, const gen_opts *o, gen_counts *counts, char *err, size_t errlen)
{
	ctx c = {.o = o, .dir = dir, .err = err, .errlen = errlen};
	if (errlen)
		err[0] = '\0';
	if (!(o->scale > 0 && o->scale <= GEN_SCALE_MAX))
		return fail(&c, "scale must be > 0 and <= %g", GEN_SCALE_MAX);
	if (!(o->batch >= 0 && o->batch <= 0.5) || !(o->fees >= 0 && o->fees <= 1) ||
	    !(o->overpay >= 0 && o->overpay <= 1) || o->fees + o->overpay > 1 || !(o->accounts >= 0 && o->accounts <= 1))
		return fail(&c, "batch must be within [0, 0.5], fees and overpay within [0, 1] and at most 1 together, "
		                "accounts within [0, 1]");
	/* An invoice joins a batch with chance q; batches hold 2.6 invoices on
	 * average, so batch payments are a share q/2.6 / (1 - q + q/2.6) of all. */
	c.batch_p = o->batch > 0 ? 2.6 * o->batch / (1 + 1.6 * o->batch) : 0;
	c.end = o->end;
	c.start = date_add_months(o->end, -24) + 1;
	int y, m, d;
	date_to_ymd(c.start, &y, &m, &d);
	if (y < 2 || c.end > date_from_ymd(9998, 1, 1))
		return fail(&c, "end date out of range");
	c.ndays = (uint32_t)(c.end - c.start + 1);
	uint64_t target = (uint64_t)llround(10000 * o->scale);
	if (target < 1)
		target = 1;
	c.total = target * 5;
	if (make_dirs(&c, dir) || open_files(&c))
		goto out;

	size_t nstr = c.ndays + 2 * DAY_PAD;
	c.day_str = xmalloc(nstr * sizeof *c.day_str);
	for (size_t i = 0; i < nstr; i++)
		date_format(c.start - DAY_PAD + (date_t)i, c.day_str[i]);
	make_customers(&c);
	c.n.customers = c.ncust;
	gen_batches_init(&c.batches, c.ncust);
	if (!gen_write_costs(&c, target) && !gen_write_sales(&c, target) && !write_invoices(&c, target)) {
		gen_batches_flush(&c.batches, flush_batch, &c);
		if (!write_payments(&c) && !gen_write_leads(&c, target) && o->accounts > 0)
			gen_write_accounts(&c);
	}
out:
	close_files(&c);
	if (c.cust)
		for (size_t i = 0; i < c.ncust; i++)
			free(c.cust[i].name.name);
	free(c.cust);
	free(c.cust_cdf);
	free(c.pays);
	gen_batches_free(&c.batches);
	free(c.day_str);
	buf_free(&c.row);
	buf_free(&c.tmp);
	buf_free(&c.tmp2);
	if (c.failed)
		return -1;
	if (counts)
		*counts = c.n;
	if (o->progress)
		o->progress(o->ud, 1.0);
	return 0;
}
