#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/date.h"
#include "core/money.h"
#include "ingest/gen.h"

static const char *const files[] = {
	"costs.csv", "sales_orders.csv", "invoices.csv", "payments.csv", "leads.csv", "truth.csv",
};

/* ---- a strict RFC 4180 reader, enough for the generator's output ---- */

typedef struct {
	char **f;
	size_t nf;
} rec;

typedef struct {
	rec *r; /* r[0] is the header */
	size_t n;
} table;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *p = malloc((size_t)n + 1);
	cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	p[n] = '\0';
	*len = (size_t)n;
	return p;
}

static table load(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	size_t len;
	char *s = slurp(path, &len);
	cr_assert(len > 0 && s[len - 1] == '\n', "%s does not end in LF", name);
	table t = {0};
	size_t cap = 0;
	size_t i = 0;
	while (i < len) {
		rec r = {0};
		size_t fcap = 0;
		for (;;) {
			char *field = malloc(len - i + 1);
			size_t fl = 0;
			if (s[i] == '"') {
				i++;
				for (;;) {
					cr_assert(i < len, "%s: unterminated quote", name);
					if (s[i] == '"') {
						if (i + 1 < len && s[i + 1] == '"') {
							field[fl++] = '"';
							i += 2;
							continue;
						}
						i++;
						break;
					}
					field[fl++] = s[i++];
				}
				cr_assert(s[i] == ',' || s[i] == '\n', "%s: junk after a quoted field", name);
			} else {
				while (s[i] != ',' && s[i] != '\n') {
					cr_assert(s[i] != '"' && s[i] != '\r', "%s: bare quote or CR", name);
					field[fl++] = s[i++];
				}
			}
			field[fl] = '\0';
			if (r.nf == fcap)
				r.f = realloc(r.f, (fcap = fcap ? fcap * 2 : 16) * sizeof *r.f);
			r.f[r.nf++] = field;
			if (s[i++] == '\n')
				break;
		}
		if (t.n == cap)
			t.r = realloc(t.r, (cap = cap ? cap * 2 : 1024) * sizeof *t.r);
		t.r[t.n++] = r;
	}
	free(s);
	for (size_t k = 1; k < t.n; k++)
		cr_assert_eq(t.r[k].nf, t.r[0].nf, "%s row %zu: %zu fields, header has %zu", name, k,
			     t.r[k].nf, t.r[0].nf);
	return t;
}

static void table_free(table *t)
{
	for (size_t k = 0; k < t->n; k++) {
		for (size_t j = 0; j < t->r[k].nf; j++)
			free(t->r[k].f[j]);
		free(t->r[k].f);
	}
	free(t->r);
}

static size_t col(const table *t, const char *name)
{
	for (size_t j = 0; j < t->r[0].nf; j++)
		if (strcmp(t->r[0].f[j], name) == 0)
			return j;
	cr_assert_fail("no column %s", name);
	return 0;
}

/* ---- fixtures ---- */

static date_t end_date(void)
{
	return date_from_ymd(2025, 6, 30);
}

static gen_counts generate(char *dir, double scale, uint64_t seed)
{
	strcpy(dir, "/tmp/brisk-test-gen-XXXXXX");
	cr_assert(mkdtemp(dir));
	gen_opts o;
	gen_opts_init(&o);
	o.scale = scale;
	o.seed = seed;
	o.end = end_date();
	gen_counts n;
	char err[256];
	int rc = gen_write(dir, &o, &n, err, sizeof err);
	cr_assert_eq(rc, 0, "gen_write: %s", err);
	return n;
}

static void cleanup(const char *dir)
{
	char path[512];
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static int64_t money(const char *s)
{
	int64_t v;
	money_status st = money_parse(s, strlen(s), &v);
	cr_assert_eq(st, MONEY_OK, "bad money '%s'", s);
	return v;
}

static date_t date(const char *s)
{
	date_t d;
	cr_assert(date_parse(s, strlen(s), &d), "bad date '%s'", s);
	return d;
}

static int in(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

/* ---- tests ---- */

Test(gen, deterministic)
{
	char a[64], b[64], c[64];
	generate(a, 0.1, 7);
	generate(b, 0.1, 7);
	generate(c, 0.1, 8);
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char pa[128], pb[128], pc[128];
		snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
		snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
		snprintf(pc, sizeof pc, "%s/%s", c, files[i]);
		size_t la, lb, lc;
		char *sa = slurp(pa, &la), *sb = slurp(pb, &lb), *sc = slurp(pc, &lc);
		cr_expect(la == lb && memcmp(sa, sb, la) == 0, "%s differs between two runs", files[i]);
		cr_expect(la != lc || memcmp(sa, sc, la) != 0, "%s ignores the seed", files[i]);
		free(sa);
		free(sb);
		free(sc);
	}
	cleanup(a);
	cleanup(b);
	cleanup(c);
}

Test(gen, row_counts_near_target)
{
	char dir[64];
	gen_counts n = generate(dir, 0.1, 42);
	cr_expect_eq(n.costs, 1000);
	cr_expect_eq(n.sales_orders, 1000);
	cr_expect_eq(n.invoices, 1000);
	cr_expect_eq(n.leads, 1000);
	cr_expect(n.payments >= 900 && n.payments <= 1150, "payments %" PRIu64, n.payments);
	cr_expect_eq(n.truth, n.payments);
	cr_expect_geq(n.customers, 200);
	const uint64_t want[] = {n.costs, n.sales_orders, n.invoices, n.payments, n.leads, n.truth};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		table t = load(dir, files[i]);
		cr_expect_eq(t.n - 1, want[i], "%s: %zu rows, counts say %" PRIu64, files[i], t.n - 1, want[i]);
		table_free(&t);
	}
	cleanup(dir);
}

Test(gen, every_amount_and_date_parses)
{
	char dir[64];
	generate(dir, 0.1, 42);
	date_t end = end_date(), start = date_add_months(end, -24) + 1;
	static const char *const order_st[] = {"pending", "confirmed", "shipped", "completed", "cancelled"};
	static const char *const lead_st[] = {"new", "contacted", "qualified", "proposal", "won", "lost"};

	table t = load(dir, "costs.csv");
	size_t cd = col(&t, "date"), ca = col(&t, "amount"), cc = col(&t, "category");
	for (size_t k = 1; k < t.n; k++) {
		date_t d = date(t.r[k].f[cd]);
		cr_expect(d >= start && d <= end);
		cr_expect_gt(money(t.r[k].f[ca]), 0);
		cr_expect_neq(t.r[k].f[cc][0], '\0');
	}
	table_free(&t);

	t = load(dir, "sales_orders.csv");
	cd = col(&t, "date"), ca = col(&t, "amount");
	size_t cs = col(&t, "status");
	for (size_t k = 1; k < t.n; k++) {
		date_t d = date(t.r[k].f[cd]);
		cr_expect(d >= start && d <= end);
		cr_expect_gt(money(t.r[k].f[ca]), 0);
		cr_expect(in(t.r[k].f[cs], order_st, 5), "order status %s", t.r[k].f[cs]);
	}
	table_free(&t);

	t = load(dir, "invoices.csv");
	size_t ci = col(&t, "issue_date"), cdue = col(&t, "due_date");
	ca = col(&t, "amount"), cs = col(&t, "status");
	for (size_t k = 1; k < t.n; k++) {
		date_t issue = date(t.r[k].f[ci]), due = date(t.r[k].f[cdue]);
		cr_expect(issue >= start && issue <= end && due >= issue + 7 && due <= issue + 60);
		cr_expect_gt(money(t.r[k].f[ca]), 0);
		cr_expect(!strcmp(t.r[k].f[cs], "open") || !strcmp(t.r[k].f[cs], "void"));
	}
	table_free(&t);

	t = load(dir, "payments.csv");
	cd = col(&t, "date"), ca = col(&t, "amount");
	for (size_t k = 1; k < t.n; k++) {
		date_t d = date(t.r[k].f[cd]);
		cr_expect(d >= start && d <= end);
		cr_expect_gt(money(t.r[k].f[ca]), 0);
		if (k > 1)
			cr_expect_geq(d, date(t.r[k - 1].f[cd]), "payments not sorted by date");
	}
	table_free(&t);

	t = load(dir, "leads.csv");
	size_t cc_at = col(&t, "created_at"), cf = col(&t, "followup_date"), cv = col(&t, "value");
	cs = col(&t, "status");
	size_t forms[4] = {0}; /* date only, T, space, with offset */
	for (size_t k = 1; k < t.n; k++) {
		const char *s = t.r[k].f[cc_at];
		timestamp_t ts;
		cr_expect(timestamp_parse(s, strlen(s), &ts), "bad created_at '%s'", s);
		cr_expect(ts.date >= start && ts.date <= end);
		forms[!ts.has_time ? 0 : s[10] == 'T' ? 1 : 2]++;
		forms[3] += ts.has_offset;
		if (t.r[k].f[cf][0])
			date(t.r[k].f[cf]);
		if (t.r[k].f[cv][0])
			cr_expect_gt(money(t.r[k].f[cv]), 0);
		cr_expect(in(t.r[k].f[cs], lead_st, 6), "lead status %s", t.r[k].f[cs]);
	}
	for (int i = 0; i < 4; i++)
		cr_expect_gt(forms[i], 20, "created_at form %d appears %zu times", i, forms[i]);
	table_free(&t);
	cleanup(dir);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(gen, invoice_numbers_unique)
{
	char dir[64];
	generate(dir, 0.3, 5);
	table t = load(dir, "invoices.csv");
	size_t cn = col(&t, "number"), cid = col(&t, "id");
	char **nums = malloc(t.n * sizeof *nums), **ids = malloc(t.n * sizeof *ids);
	for (size_t k = 1; k < t.n; k++) {
		nums[k - 1] = t.r[k].f[cn];
		ids[k - 1] = t.r[k].f[cid];
		int y;
		unsigned seq;
		char tail;
		cr_expect_eq(sscanf(nums[k - 1], "INV-%4d-%6u%c", &y, &seq, &tail), 2, "number %s", nums[k - 1]);
	}
	qsort(nums, t.n - 1, sizeof *nums, cmp_str);
	qsort(ids, t.n - 1, sizeof *ids, cmp_str);
	for (size_t k = 1; k + 1 < t.n; k++) {
		cr_expect(strcmp(nums[k - 1], nums[k]) != 0, "duplicate number %s", nums[k]);
		cr_expect(strcmp(ids[k - 1], ids[k]) != 0, "duplicate id %s", ids[k]);
	}
	free(nums);
	free(ids);
	table_free(&t);
	cleanup(dir);
}

/* Invoice rows looked up by id "IVnnnnnn" -> row index. */
static size_t inv_row(const char *id)
{
	return (size_t)strtoul(id + 2, NULL, 10);
}

static void normalise(const char *s, char *out)
{
	for (; *s; s++)
		if (!strchr(" -_/#", *s))
			*out++ = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
	*out = '\0';
}

Test(gen, truth_matches_payments_and_invoices)
{
	char dir[64];
	generate(dir, 0.3, 11);
	date_t end = end_date();
	table inv = load(dir, "invoices.csv"), pay = load(dir, "payments.csv"), tr = load(dir, "truth.csv");
	cr_assert_eq(tr.n, pay.n);
	size_t n_inv = inv.n - 1;
	int64_t *paid = calloc(n_inv + 1, sizeof *paid);
	int *npay = calloc(n_inv + 1, sizeof *npay);
	size_t ia = col(&inv, "amount"), ii = col(&inv, "issue_date"), idue = col(&inv, "due_date");
	size_t is = col(&inv, "status"), in_ = col(&inv, "number"), iid = col(&inv, "id");
	size_t pa = col(&pay, "amount"), pid = col(&pay, "id"), pref = col(&pay, "reference");
	size_t unrelated = 0, related = 0, ref_exact = 0, no_ref = 0;
	for (size_t k = 1; k < tr.n; k++) {
		cr_assert_str_eq(tr.r[k].f[0], pay.r[k].f[pid], "truth row %zu is not payment row %zu", k, k);
		if (!tr.r[k].f[1][0]) {
			unrelated++;
			continue;
		}
		related++;
		size_t row = inv_row(tr.r[k].f[1]);
		cr_assert(row >= 1 && row <= n_inv);
		cr_assert_str_eq(inv.r[row].f[iid], tr.r[k].f[1]);
		cr_expect_str_eq(inv.r[row].f[is], "open", "a void invoice was paid");
		cr_expect_geq(date(pay.r[k].f[col(&pay, "date")]), date(inv.r[row].f[ii]));
		paid[row] += money(pay.r[k].f[pa]);
		npay[row]++;
		char nref[256], nnum[64];
		normalise(pay.r[k].f[pref], nref);
		normalise(inv.r[row].f[in_], nnum);
		ref_exact += strstr(nref, nnum) != NULL;
		no_ref += !strstr(nref, "2023") && !strstr(nref, "2024") && !strstr(nref, "2025");
	}
	size_t split_done = 0;
	int bucket[5] = {0}; /* current, 1_30, 31_60, 61_90, over_90 */
	for (size_t row = 1; row <= n_inv; row++) {
		int64_t amount = money(inv.r[row].f[ia]);
		cr_expect_leq(paid[row], amount, "invoice %zu overpaid", row);
		date_t issue = date(inv.r[row].f[ii]);
		/* Every payment plan ends within 340 days of issue. */
		if (npay[row] && issue <= end - 340)
			cr_expect_eq(paid[row], amount, "old invoice %zu not fully paid", row);
		if (npay[row] > 1 && paid[row] == amount)
			split_done++;
		if (paid[row] < amount && !strcmp(inv.r[row].f[is], "open")) {
			int late = end - date(inv.r[row].f[idue]);
			bucket[late <= 0 ? 0 : late <= 30 ? 1 : late <= 60 ? 2 : late <= 90 ? 3 : 4]++;
		}
	}
	cr_expect_gt(split_done, n_inv / 100, "only %zu invoices paid in parts", split_done);
	for (int b = 0; b < 5; b++)
		cr_expect_gt(bucket[b], 0, "aging bucket %d empty", b);
	double total = (double)(tr.n - 1);
	cr_expect(unrelated > total * 0.015 && unrelated < total * 0.05, "unrelated %zu of %.0f", unrelated, total);
	cr_expect(ref_exact > related * 0.75 && ref_exact < related * 0.92, "exact refs %zu of %zu", ref_exact, related);
	cr_expect(no_ref > related * 0.06 && no_ref < related * 0.16, "useless refs %zu of %zu", no_ref, related);
	free(paid);
	free(npay);
	table_free(&inv);
	table_free(&pay);
	table_free(&tr);
	cleanup(dir);
}

/* Issue 15: --batch, --fees, --overpay. A batch payment has a truth row
 * per invoice and pays exactly their total; a fee is within 2% and 10.00,
 * an overpayment within +10%. */
Test(gen, batch_fee_and_overpayment_truth)
{
	char dir[64];
	strcpy(dir, "/tmp/brisk-test-gen-XXXXXX");
	cr_assert(mkdtemp(dir));
	gen_opts o;
	gen_opts_init(&o);
	o.scale = 0.5;
	o.end = end_date();
	o.batch = 0.1;
	o.fees = 0.05;
	o.overpay = 0.05;
	gen_counts n;
	char err[256];
	cr_assert_eq(gen_write(dir, &o, &n, err, sizeof err), 0, "%s", err);
	table inv = load(dir, "invoices.csv"), pay = load(dir, "payments.csv"), tr = load(dir, "truth.csv");
	cr_expect_eq(n.truth, tr.n - 1);
	size_t ia = col(&inv, "amount"), pa = col(&pay, "amount"), pid = col(&pay, "id");
	size_t batches = 0, fees = 0, over = 0, k = 1;
	for (size_t p = 1; p < pay.n; p++) {
		int64_t sum = 0;
		size_t rows = 0;
		for (; k < tr.n && !strcmp(tr.r[k].f[0], pay.r[p].f[pid]); k++, rows++)
			if (tr.r[k].f[1][0])
				sum += money(inv.r[inv_row(tr.r[k].f[1])].f[ia]);
		cr_assert_gt(rows, 0, "payment %s has no truth row", pay.r[p].f[pid]);
		int64_t amount = money(pay.r[p].f[pa]);
		if (rows > 1) {
			batches++;
			cr_expect_eq(amount, sum, "batch payment %s", pay.r[p].f[pid]);
		} else if (sum && amount < sum && sum - amount <= 1000 && (sum - amount) * 50 <= sum) {
			fees++;
		} else if (sum && amount > sum) {
			over++;
			cr_expect_leq(amount - sum, sum / 10 > 100 ? sum / 10 : 100);
		}
	}
	cr_expect_eq(k, tr.n, "truth rows in payment order");
	cr_expect_gt(batches, (pay.n - 1) / 50, "only %zu batch payments of %zu", batches, pay.n - 1);
	cr_expect_gt(fees, (pay.n - 1) / 100);
	cr_expect_gt(over, (pay.n - 1) / 100);
	table_free(&inv);
	table_free(&pay);
	table_free(&tr);
	cleanup(dir);
}

/* ISO 13616: moved to the end, letters as 10..35, the number mod 97 is 1. */
static bool iban_ok(const char *s)
{
	char c[64];
	size_t n = 0;
	for (; *s && n < sizeof c; s++)
		if (*s != ' ')
			c[n++] = *s;
	if (n < 15 || n > 34)
		return false;
	unsigned rem = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = c[(i + 4) % n];
		if (ch >= '0' && ch <= '9')
			rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
		else if (ch >= 'A' && ch <= 'Z')
			rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
		else
			return false;
	}
	return rem == 1;
}

/* Issue 15: --accounts. Valid IBANs; an invoice payment's account is one
 * accounts.csv lists for the invoice's customer (a group's for several);
 * the other files keep their bytes, payments.csv its other columns. */
Test(gen, payer_accounts_and_their_truth)
{
	char dir[64], plain[64];
	strcpy(dir, "/tmp/brisk-test-gen-XXXXXX");
	strcpy(plain, "/tmp/brisk-test-gen-XXXXXX");
	cr_assert(mkdtemp(dir) && mkdtemp(plain));
	gen_opts o;
	gen_opts_init(&o);
	o.scale = 0.2;
	o.end = end_date();
	o.batch = 0.05;
	gen_counts n, n0;
	char err[256];
	cr_assert_eq(gen_write(plain, &o, &n0, err, sizeof err), 0, "%s", err);
	o.accounts = 0.5;
	cr_assert_eq(gen_write(dir, &o, &n, err, sizeof err), 0, "%s", err);
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		if (!strcmp(files[i], "payments.csv"))
			continue;
		char pa[512], pb[512];
		snprintf(pa, sizeof pa, "%s/%s", dir, files[i]);
		snprintf(pb, sizeof pb, "%s/%s", plain, files[i]);
		size_t la, lb;
		char *sa = slurp(pa, &la), *sb = slurp(pb, &lb);
		cr_expect(la == lb && memcmp(sa, sb, la) == 0, "%s changed with --accounts", files[i]);
		free(sa);
		free(sb);
	}
	table pay = load(dir, "payments.csv"), pay0 = load(plain, "payments.csv"), acc = load(dir, "accounts.csv");
	table inv = load(dir, "invoices.csv"), tr = load(dir, "truth.csv");
	cr_assert_eq(pay.n, pay0.n);
	cr_expect_eq(n.accounts, acc.n - 1);
	size_t pacc = col(&pay, "payer_account"), pid = col(&pay, "id"), icu = col(&inv, "customer_id");
	size_t aa = col(&acc, "account"), ac = col(&acc, "customer_id"), ak = col(&acc, "kind");
	size_t with = 0, spaced = 0, own = 0, group = 0, k = 1;
	for (size_t a = 1; a < acc.n; a++) {
		cr_expect(iban_ok(acc.r[a].f[aa]), "accounts.csv: %s is no IBAN", acc.r[a].f[aa]);
		group += !strcmp(acc.r[a].f[ak], "group");
	}
	for (size_t p = 1; p < pay.n; p++) {
		cr_assert_eq(pay.r[p].nf, pay0.r[p].nf + 1);
		for (size_t f = 0; f < pay0.r[p].nf; f++)
			cr_expect_str_eq(pay.r[p].f[f], pay0.r[p].f[f]);
		const char *iban = pay.r[p].f[pacc];
		for (; k < tr.n && strcmp(tr.r[k].f[0], pay.r[p].f[pid]) < 0; k++)
			;
		if (!*iban)
			continue;
		with++;
		spaced += strchr(iban, ' ') != NULL;
		cr_expect(iban_ok(iban), "%s: %s is no IBAN", pay.r[p].f[pid], iban);
		if (!tr.r[k].f[1][0])
			continue; /* pays no invoice: someone else's account */
		char compact[64];
		size_t cl = 0;
		for (const char *s = iban; *s && cl < sizeof compact - 1; s++)
			if (*s != ' ')
				compact[cl++] = *s;
		compact[cl] = '\0';
		const char *cust = inv.r[inv_row(tr.r[k].f[1])].f[icu];
		bool listed = false;
		for (size_t a = 1; a < acc.n && !listed; a++)
			listed = !strcmp(acc.r[a].f[aa], compact) && !strcmp(acc.r[a].f[ac], cust);
		cr_expect(listed, "%s: %s is not one of %s's accounts", pay.r[p].f[pid], iban, cust);
		own += listed;
	}
	cr_expect_gt(with, (pay.n - 1) / 3, "only %zu of %zu payments carry an account", with, pay.n - 1);
	cr_expect_gt(spaced, with / 5, "IBANs written in groups of four: %zu", spaced);
	cr_expect_gt(own, with / 2);
	cr_expect_gt(group, 0);
	table_free(&pay);
	table_free(&pay0);
	table_free(&acc);
	table_free(&inv);
	table_free(&tr);
	char path[512];
	snprintf(path, sizeof path, "%s/accounts.csv", dir);
	unlink(path);
	cleanup(dir);
	cleanup(plain);
}

Test(gen, messy_customers_and_followups)
{
	char dir[64];
	generate(dir, 0.1, 3);
	table t = load(dir, "invoices.csv");
	size_t cc = col(&t, "customer");
	int comma = 0, quote = 0, utf8 = 0;
	for (size_t k = 1; k < t.n; k++) {
		const char *s = t.r[k].f[cc];
		comma |= strchr(s, ',') != NULL;
		quote |= strchr(s, '"') != NULL;
		for (; *s; s++)
			utf8 |= (unsigned char)*s >= 0x80;
	}
	cr_expect(comma && quote && utf8, "comma %d quote %d non-ASCII %d", comma, quote, utf8);
	table_free(&t);

	t = load(dir, "costs.csv");
	size_t cd = col(&t, "description");
	int nl = 0;
	for (size_t k = 1; k < t.n; k++)
		nl += strchr(t.r[k].f[cd], '\n') != NULL;
	cr_expect_gt(nl, 0, "no description with a newline");
	table_free(&t);

	t = load(dir, "leads.csv");
	size_t cf = col(&t, "followup_date"), cs = col(&t, "status");
	date_t end = end_date();
	int due = 0, overdue = 0, future = 0, none = 0;
	for (size_t k = 1; k < t.n; k++) {
		if (!strcmp(t.r[k].f[cs], "won") || !strcmp(t.r[k].f[cs], "lost"))
			continue;
		if (!t.r[k].f[cf][0]) {
			none++;
			continue;
		}
		date_t f = date(t.r[k].f[cf]);
		due += f == end;
		overdue += f < end;
		future += f > end;
	}
	cr_expect(due && overdue && future && none, "due %d overdue %d future %d none %d", due, overdue, future, none);
	table_free(&t);
	cleanup(dir);
}

Test(gen, reports_os_errors)
{
	char path[] = "/tmp/brisk-test-gen-file-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	char dir[128], err[256];
	snprintf(dir, sizeof dir, "%s/sub", path);
	gen_opts o;
	gen_opts_init(&o);
	o.scale = 0.01;
	cr_expect_eq(gen_write(dir, &o, NULL, err, sizeof err), -1);
	cr_expect(strstr(err, path) && strstr(err, "Not a directory"), "err: %s", err);
	cr_expect_eq(gen_write(path, &o, NULL, err, sizeof err), -1);
	cr_expect(strstr(err, path) != NULL, "err: %s", err);
	o.scale = 0;
	cr_expect_eq(gen_write("/tmp", &o, NULL, err, sizeof err), -1);
	cr_expect(strstr(err, "scale") != NULL, "err: %s", err);
	unlink(path);
}

struct prog {
	int calls, backwards;
	double last;
};

static void on_progress(void *ud, double frac)
{
	struct prog *p = ud;
	p->backwards += frac < p->last || frac > 1;
	p->last = frac;
	p->calls++;
}

Test(gen, progress_reaches_one)
{
	char dir[64];
	strcpy(dir, "/tmp/brisk-test-gen-XXXXXX");
	cr_assert(mkdtemp(dir));
	struct prog p = {0};
	gen_opts o;
	gen_opts_init(&o);
	o.scale = 2;
	o.end = end_date();
	o.progress = on_progress;
	o.ud = &p;
	char err[256];
	cr_assert_eq(gen_write(dir, &o, NULL, err, sizeof err), 0, "%s", err);
	cr_expect_gt(p.calls, 2);
	cr_expect_eq(p.backwards, 0);
	cr_expect_eq(p.last, 1.0);
	cleanup(dir);
}

/* Issue 21: what reconciliation must not confuse. Look-alike customers (one
 * name is another's plus a word), Cyrillic and Greek customers whose payer
 * names come in capitals, and invoices of one customer with equal amounts. */
Test(gen, lookalikes_scripts_and_ties)
{
	char dir[64];
	generate(dir, 0.3, 5);
	table inv = load(dir, "invoices.csv"), pay = load(dir, "payments.csv");
	size_t cc = col(&inv, "customer"), ca = col(&inv, "amount"), cid = col(&inv, "customer_id");
	int cyr = 0, greek = 0, lookalike = 0, ties = 0;
	for (size_t k = 1; k < inv.n; k++) {
		const char *s = inv.r[k].f[cc];
		cyr |= strstr(s, "\xd0\x9e\xd0\x9e\xd0\x9e ") != NULL || strstr(s, "\xd0\x90\xd0\x9e ") != NULL; /* ООО, АО */
		greek |= (unsigned char)s[0] == 0xCE;
		for (size_t j = 1; j < k && j < 400; j++) {
			const char *o = inv.r[j].f[cc];
			size_t ol = strlen(o), sl = strlen(s);
			/* "X Solutions Sdn Bhd" against "X Sdn Bhd": same start, one word more */
			if (sl > ol + 4 && strcmp(s, o) && !strncmp(s, o, 6) && strlen(strchr(o, ' ') ? strchr(o, ' ') : o) > 0) {
				const char *sp = strrchr(o, ' ');
				lookalike |= sp && !strncmp(s, o, (size_t)(sp - o)) && strstr(s, sp);
			}
			ties += !strcmp(inv.r[j].f[cid], inv.r[k].f[cid]) && !strcmp(inv.r[j].f[ca], inv.r[k].f[ca]);
		}
	}
	cr_expect(cyr && greek && lookalike, "Cyrillic %d Greek %d look-alike %d", cyr, greek, lookalike);
	cr_expect_gt(ties, 0, "no customer has two invoices of the same amount");
	/* capitals: ООО РОМАШКА-like payers exist */
	int upper_cyr = 0;
	size_t cp = col(&pay, "payer");
	for (size_t k = 1; k < pay.n; k++)
		upper_cyr |= strstr(pay.r[k].f[cp], "\xd0\x9e\xd0\x9e\xd0\x9e \xd0") != NULL &&
		             (unsigned char)pay.r[k].f[cp][7] == 0xD0 && (unsigned char)pay.r[k].f[cp][8] < 0xB0;
	cr_expect(upper_cyr, "no Cyrillic payer in capitals");
	table_free(&inv);
	table_free(&pay);
	cleanup(dir);
}
