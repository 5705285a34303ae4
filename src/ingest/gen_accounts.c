#include "ingest/gen_accounts.h"

#include <string.h>

#include "ingest/gen_int.h"

/* Countries whose IBANs are all digits after the check digits, or a
 * four-letter bank code then digits: enough variety to trip a normaliser
 * that assumes one country. */
static const struct {
	const char *cc;
	const char *banks[4]; /* a letter bank code, or NULL: digits only */
	int digits;           /* digits after the bank code */
} countries[] = {
	{"DE", {NULL}, 18},
	{"NL", {"ABNA", "INGB", "RABO", "TRIO"}, 10},
	{"BE", {NULL}, 12},
	{"ES", {NULL}, 20},
	{"GB", {"NWBK", "BARC", "HSBC", "LOYD"}, 14},
	{"FR", {NULL}, 23},
};
#define NCOUNTRIES (sizeof countries / sizeof countries[0])

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static uint64_t key(uint64_t seed, uint64_t what, uint64_t n)
{
	return mix64(seed * 0x9E3779B97F4A7C15ull + what * 0xD1B54A32D192ED03ull + n + 1);
}

int gen_account_has_second(uint64_t seed, uint32_t cu)
{
	return key(seed, 7, cu) % 5 == 0;
}

/* ISO 13616: the BBAN, then the country letters as numbers and "00",
 * mod 97; the check digits are 98 minus that. */
static int check_digits(const char *cc, const char *bban, size_t n)
{
	char tail[3] = {cc[0], cc[1], 0};
	unsigned rem = 0;
	for (int pass = 0; pass < 2; pass++) {
		const char *s = pass ? tail : bban;
		size_t len = pass ? 2 : n;
		for (size_t i = 0; i < len; i++) {
			char ch = s[i];
			if (ch >= '0' && ch <= '9')
				rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
			else
				rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
		}
	}
	rem = rem * 100 % 97;
	return (int)(98 - rem);
}

void gen_account(uint64_t seed, uint32_t cu, int kind, buf_t *out)
{
	uint64_t who = kind == GEN_ACCT_GROUP ? (uint64_t)(cu / GEN_GROUP_SIZE) : cu;
	uint64_t h = key(seed, 11 + (uint64_t)kind, who);
	/* A customer's accounts share its country; a group's is its own. */
	size_t ci = (size_t)(key(seed, 3, kind == GEN_ACCT_GROUP ? who + (1ull << 40) : cu) % NCOUNTRIES);
	char bban[40];
	size_t n = 0;
	const char *bank = countries[ci].banks[0] ? countries[ci].banks[h % 4] : NULL;
	if (bank) {
		memcpy(bban, bank, 4);
		n = 4;
	}
	for (int i = 0; i < countries[ci].digits; i++) {
		if (i % 16 == 0)
			h = mix64(h + (uint64_t)i);
		bban[n++] = (char)('0' + (h >> (4 * (i % 16))) % 10);
	}
	char cd[3] = {0};
	int c = check_digits(countries[ci].cc, bban, n);
	cd[0] = (char)('0' + c / 10);
	cd[1] = (char)('0' + c % 10);
	buf_puts(out, countries[ci].cc);
	buf_puts(out, cd);
	buf_put(out, bban, n);
}

void gen_account_pick(gen_rng *r, uint64_t seed, uint32_t cu, buf_t *out)
{
	int kind = GEN_ACCT_OWN;
	if (gen_rng_chance(r, 0.03))
		kind = GEN_ACCT_GROUP;
	else if (gen_account_has_second(seed, cu) && gen_rng_chance(r, 0.3))
		kind = GEN_ACCT_SECOND;
	buf_t a = BUF_INIT;
	gen_account(seed, cu, kind, &a);
	if (gen_rng_chance(r, 0.4)) {
		for (size_t i = 0; i < a.len; i++) {
			if (i && i % 4 == 0)
				buf_putc(out, ' ');
			buf_putc(out, a.p[i]);
		}
	} else {
		buf_put(out, a.p, a.len);
	}
	buf_free(&a);
}

int gen_write_accounts(ctx *c)
{
	static const char *const kinds[] = {"own", "second", "group"};
	for (size_t cu = 0; cu < c->ncust && !c->failed; cu++)
		for (int kind = GEN_ACCT_OWN; kind <= GEN_ACCT_GROUP; kind++) {
			if (kind == GEN_ACCT_SECOND && !gen_account_has_second(c->o->seed, (uint32_t)cu))
				continue;
			buf_t *b = &c->row;
			gen_account(c->o->seed, (uint32_t)cu, kind, b);
			buf_putc(b, ',');
			buf_puts(b, c->cust[cu].id);
			buf_putc(b, ',');
			buf_puts(b, kinds[kind]);
			if (gen_emit(c, F_ACCOUNTS))
				break;
			c->n.accounts++;
		}
	return c->failed ? -1 : 0;
}
