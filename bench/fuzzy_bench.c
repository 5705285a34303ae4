/* fuzzy_bench: throughput of match/fuzzy on company-name pairs.
 *
 *   fuzzy_bench [-n PAIRS] [--seed S] [--repeat R] [--dump FILE]
 *
 * Generates PAIRS deterministic pairs of 20-40 character company names, the
 * second a copy of the first with one to three typos (every fourth pair is
 * two unrelated names), and prints one line per measurement:
 * "name<TAB>pairs per second<TAB>checksum", the best of R runs (default 3:
 * shared machines are noisy). --dump writes the pairs as
 * "a<TAB>b<TAB>fuzzy_ratio" lines so bench/fuzzy.sh can time other
 * implementations on the same input and check that they agree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "match/fuzzy.h"

static const char *const first[] = {
	"Northwind", "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Cyberdyne",
	"Tyrell", "Soylent", "Hooli", "Vandelay", "Massive", "Pied Piper", "Blue Sun",
	"Caf\xc3\xa9 M\xc3\xbcller", "Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale", "Kr\xc3\xa4mer",
	"Golden Lotus", "Tan Brothers", "Lim & Sons", "Ng Family", "Oceanic", "Pacific Rim",
};
static const char *const middle[] = {
	"Trading", "Holdings", "Logistics", "Foods", "Engineering", "Textiles", "Imports",
	"Industries", "Consulting", "Electronics", "Furniture", "Pharma", "Motors", "Supplies",
	"Bakery", "Construction", "Shipping", "Services",
};
static const char *const last[] = {
	"Sdn Bhd", "Ltd", "Pte Ltd", "GmbH", "Inc", "LLC", "Co", "Corp", "PLC", "S.A.", "",
};

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define PICK(a) (a[rnd() % (sizeof a / sizeof a[0])])

/* "First Middle[ Suffix]" of 20..40 bytes. */
static size_t make_name(char *out)
{
	for (;;) {
		const char *f = PICK(first), *m = PICK(middle), *l = PICK(last);
		int n = snprintf(out, 64, "%s %s%s%s", f, m, *l ? " " : "", l);
		if (n >= 20 && n <= 40)
			return (size_t)n;
	}
}

/* One to three ASCII typos: substitution, deletion, insertion or swap. Bytes
 * of multi-byte characters are left alone so the result stays UTF-8. */
static size_t add_typos(char *s, size_t n)
{
	int k = 1 + (int)(rnd() % 3);
	for (int t = 0; t < k && n > 2; t++) {
		size_t at = rnd() % (n - 1);
		if ((unsigned char)s[at] >= 0x80 || (unsigned char)s[at + 1] >= 0x80)
			continue;
		char c = (char)('a' + rnd() % 26);
		switch (rnd() % 4) {
		case 0: s[at] = c; break;
		case 1: memmove(s + at, s + at + 1, n - at); n--; break;
		case 2: memmove(s + at + 1, s + at, n - at + 1); s[at] = c; n++; break;
		default: { char x = s[at]; s[at] = s[at + 1]; s[at + 1] = x; }
		}
	}
	s[n] = '\0';
	return n;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
	char a[64], b[64];
	size_t la, lb;
} pair_t;

static double run_ratio(const pair_t *p, size_t n, double cutoff)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += fuzzy_ratio(p[i].a, p[i].la, p[i].b, p[i].lb, cutoff);
	return sum;
}

static double run_token_set(const pair_t *p, size_t n, double cutoff)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += fuzzy_token_set_ratio(p[i].a, p[i].la, p[i].b, p[i].lb, cutoff);
	return sum;
}

static double run_levenshtein(const pair_t *p, size_t n, double cutoff)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (double)fuzzy_levenshtein(p[i].a, p[i].la, p[i].b, p[i].lb);
	return sum;
}

/* One payer name against every customer name: the first Q second names as
 * patterns, each against all n first names. */
static size_t pattern_count(size_t n)
{
	return n < 100 ? n : 100;
}

static double run_pattern(const pair_t *p, size_t n, double cutoff)
{
	double sum = 0;
	for (size_t k = 0; k < pattern_count(n); k++) {
		fuzzy_pattern_t *pat = fuzzy_pattern_new(p[k].b, p[k].lb);
		for (size_t i = 0; i < n; i++)
			sum += fuzzy_pattern_ratio(pat, p[i].a, p[i].la, cutoff);
		fuzzy_pattern_free(pat);
	}
	return sum;
}

static const struct {
	const char *name;
	double (*fn)(const pair_t *, size_t, double);
	double cutoff;
} runs[] = {
	{"fuzzy_ratio", run_ratio, 0},
	{"fuzzy_ratio_cutoff80", run_ratio, 80},
	{"fuzzy_token_set_ratio", run_token_set, 0},
	{"fuzzy_levenshtein", run_levenshtein, 0},
	{"fuzzy_pattern_ratio", run_pattern, 0},
	{"fuzzy_pattern_ratio_cutoff80", run_pattern, 80},
};

int main(int argc, char **argv)
{
	size_t n = 200000;
	int repeat = 3;
	const char *dump = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			n = strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			rng = strtoull(argv[++i], NULL, 10) | 1;
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			repeat = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--dump") && i + 1 < argc) {
			dump = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [-n PAIRS] [--seed S] [--repeat R] [--dump FILE]\n",
			        argv[0]);
			return 2;
		}
	}
	if (n == 0)
		n = 1;
	if (repeat < 1)
		repeat = 1;

	pair_t *p = xmalloc(n * sizeof *p);
	for (size_t i = 0; i < n; i++) {
		p[i].la = make_name(p[i].a);
		if (i % 4 == 3) {
			p[i].lb = make_name(p[i].b);
		} else {
			memcpy(p[i].b, p[i].a, p[i].la + 1);
			p[i].lb = add_typos(p[i].b, p[i].la);
		}
	}

	if (dump) {
		FILE *f = fopen(dump, "w");
		if (!f) {
			perror(dump);
			return 1;
		}
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s\t%s\t%.12f\n", p[i].a, p[i].b,
			        fuzzy_ratio(p[i].a, p[i].la, p[i].b, p[i].lb, 0));
		if (fclose(f) != 0) {
			perror(dump);
			return 1;
		}
	}

	for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
		double best = 0, sum = 0;
		for (int r = 0; r < repeat; r++) {
			double t0 = now();
			sum = runs[k].fn(p, n, runs[k].cutoff);
			double dt = now() - t0;
			if (r == 0 || dt < best)
				best = dt;
		}
		size_t pairs = runs[k].fn == run_pattern ? n * pattern_count(n) : n;
		printf("%s\t%.0f\t%.3f\n", runs[k].name, (double)pairs / best, sum);
	}
	free(p);
	return 0;
}
