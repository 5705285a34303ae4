/* gen_names: the random text of the demo-data generator (gen.c): its PRNG,
 * customer names and the way a bank renders them, payment references, cost
 * categories, vendors and descriptions, lead contacts. Private to
 * src/ingest/gen*.c. Every function draws only from the gen_rng it is given,
 * so the same stream gives the same text. Text is appended raw (UTF-8, may
 * hold , " and LF): the caller CSV-quotes it. */
#ifndef BRISK_GEN_NAMES_H
#define BRISK_GEN_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/date.h"

/* xoshiro256** seeded through splitmix64. */
typedef struct {
	uint64_t s[4];
} gen_rng;

/* Seeds r from (seed, stream): distinct streams are independent, so each
 * entity of a data set draws from its own and does not shift the others. */
void gen_rng_seed(gen_rng *r, uint64_t seed, uint64_t stream);

static inline uint64_t gen_rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t gen_rng_next(gen_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = gen_rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = gen_rng_rotl(s[3], 45);
	return res;
}

/* Uniform in [0, n); n must be > 0. */
uint64_t gen_rng_below(gen_rng *r, uint64_t n);
/* Uniform in [lo, hi] (inclusive); lo <= hi. */
int64_t gen_rng_range(gen_rng *r, int64_t lo, int64_t hi);
/* Uniform in [0, 1). */
double gen_rng_unit(gen_rng *r);
/* True with probability p. */
int gen_rng_chance(gen_rng *r, double p);
/* Standard normal (Box-Muller). */
double gen_rng_normal(gen_rng *r);
/* median * exp(sigma * N(0,1)). */
double gen_rng_lognormal(gen_rng *r, double median, double sigma);
/* An index drawn from n weights (need not sum to 1); n > 0. */
size_t gen_rng_weighted(gen_rng *r, const double *w, size_t n);

/* A customer's name and where its legal suffix starts, for payer variants. */
typedef struct {
	char *name;      /* owned (xmalloc), UTF-8, NUL-terminated */
	size_t len;
	size_t base_len; /* bytes before " <suffix>", == len when suffix < 0 */
	int suffix;      /* index into the suffix table, -1 if none known */
} gen_name;

/* Fills out[0..n) with n distinct customer names, a few of them from a
 * fixed list of messy real-world forms (commas, quotes, non-ASCII). The
 * caller frees each out[i].name. n must not exceed 20000. */
void gen_names_customers(gen_rng *r, gen_name *out, size_t n);

/* Appends how a bank statement shows customer c as a payer: the name as is,
 * UPPER CASE, the suffix dropped or changed, a typo, "PAYMENT FROM ...",
 * or truncated. */
void gen_names_payer(gen_rng *r, const gen_name *c, buf_t *b);

/* Appends the canonical invoice number "INV-YYYY-NNNNNN". */
void gen_names_invoice_number(int year, uint32_t seq, buf_t *b);

/* Appends a payment reference for invoice (year, seq), in one of several
 * formats; about 4% mistype the number and about 10% carry nothing useful.
 * nparts > 1 marks part `part` (1-based) of a split payment. */
void gen_names_reference(gen_rng *r, int year, uint32_t seq, int part, int nparts, buf_t *b);

/* A payment that belongs to no invoice (refund, interest, unknown payer):
 * appends its payer and reference and returns its amount in cents (> 0). */
int64_t gen_names_unrelated(gen_rng *r, date_t d, buf_t *payer, buf_t *ref);

/* Cost categories, most frequent first (index = frequency rank). */
size_t gen_names_category_count(void);
/* Name of category i; *median and *sigma describe its amounts (lognormal). */
const char *gen_names_category(size_t i, double *median, double *sigma);
/* Appends a vendor of category i. */
void gen_names_vendor(gen_rng *r, size_t i, buf_t *b);
/* Appends a description for a cost of category i on day d; may be empty. */
void gen_names_description(gen_rng *r, size_t i, date_t d, buf_t *b);

/* Lead creators: a fixed team of GEN_NAMES_CREATORS first names. */
#define GEN_NAMES_CREATORS 8
const char *gen_names_creator(size_t i);
/* Appends a person's full name. */
void gen_names_person(gen_rng *r, buf_t *b);
/* Appends a mobile number in one of several national formats. */
void gen_names_mobile(gen_rng *r, buf_t *b);
/* A lead source ("website", "referral", ...); static storage. */
const char *gen_names_source(gen_rng *r);

#endif
