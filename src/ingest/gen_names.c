#include "ingest/gen_names.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* ---- PRNG ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

void gen_rng_seed(gen_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed;
	uint64_t mix = splitmix64(&x) ^ (stream * 0xD1B54A32D192ED03ull);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&mix);
}

uint64_t gen_rng_below(gen_rng *r, uint64_t n)
{
	/* Lemire's multiply-shift with rejection: unbiased, one draw usually. */
	unsigned __int128 m = (unsigned __int128)gen_rng_next(r) * n;
	uint64_t lo = (uint64_t)m;
	if (lo < n) {
		uint64_t t = -n % n;
		while (lo < t) {
			m = (unsigned __int128)gen_rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

int64_t gen_rng_range(gen_rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)gen_rng_below(r, (uint64_t)(hi - lo) + 1);
}

double gen_rng_unit(gen_rng *r)
{
	return (double)(gen_rng_next(r) >> 11) * 0x1.0p-53;
}

int gen_rng_chance(gen_rng *r, double p)
{
	return gen_rng_unit(r) < p;
}

double gen_rng_normal(gen_rng *r)
{
	double u1 = (double)((gen_rng_next(r) >> 11) + 1) * 0x1.0p-53;
	double u2 = gen_rng_unit(r);
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double gen_rng_lognormal(gen_rng *r, double median, double sigma)
{
	return median * exp(sigma * gen_rng_normal(r));
}

size_t gen_rng_weighted(gen_rng *r, const double *w, size_t n)
{
	double total = 0;
	for (size_t i = 0; i < n; i++)
		total += w[i];
	double u = gen_rng_unit(r) * total;
	for (size_t i = 0; i < n; i++) {
		if (u < w[i])
			return i;
		u -= w[i];
	}
	return n - 1;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *pick(gen_rng *r, const char *const *list, size_t n)
{
	return list[gen_rng_below(r, n)];
}

#define PICK(r, list) pick((r), (list), COUNT(list))

/* Appends the k-th of the '|'-separated alternatives in s (k wraps). */
static void put_alt(buf_t *b, const char *s, size_t k)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == '|';
	k %= n;
	while (k--)
		s = strchr(s, '|') + 1;
	const char *e = strchr(s, '|');
	buf_put(b, s, e ? (size_t)(e - s) : strlen(s));
}

static void put_random_alt(gen_rng *r, buf_t *b, const char *s)
{
	put_alt(b, s, gen_rng_below(r, 64));
}

/* ---- customers ---- */

static const char *const places[] = {
	"Penang", "Klang", "Kuching", "Ipoh", "Johor", "Melaka", "Seremban", "Sabah",
	"Borneo", "Straits", "Pacific", "Atlantic", "Northern", "Eastern", "Summit",
	"Atlas", "Golden", "Silver", "Evergreen", "Harbour", "Crescent", "Orchid",
	"Jade", "Sunrise", "Bayview", "Riverside", "Oakwood", "Maple", "Nordic",
	"Alpine", "Baltic", "Zürich", "Kraków", "Malmö", "São Paulo", "Montréal",
	"Düsseldorf", "Łódź", "Orient", "Meridian", "Pinnacle", "Horizon", "Lotus",
	"Phoenix", "Unity", "Prima", "Global", "Metro", "Coastal", "Highland",
};

static const char *const industries[] = {
	"Trading", "Logistics", "Engineering", "Holdings", "Supplies", "Technologies",
	"Foods", "Hardware", "Textiles", "Electronics", "Marine", "Plastics",
	"Builders", "Pharma", "Print & Packaging", "Auto Parts", "Furniture", "Agro",
	"Consulting", "Solutions", "Industries", "Enterprise", "Ventures",
	"Distributors", "Systems", "Medical", "Steel", "Timber", "Paper",
	"Chemicals", "Seafood", "Bakery", "Motors", "Optics", "Garments",
	"Interiors", "Security", "Travel", "Media", "Energy",
};

static const char *const surnames[] = {
	"Tan", "Lim", "Lee", "Wong", "Ng", "Chan", "Goh", "Ong", "Teo", "Koh",
	"Abdullah", "Rahman", "Ismail", "Kumar", "Singh", "Raj", "Nair", "Smith",
	"Jones", "Brown", "Taylor", "Müller", "Schröder", "Nowak", "Kowalczyk",
	"García", "Núñez", "Dubois", "Lefèvre", "Rossi", "Nguyễn", "Tanaka",
	"Suzuki", "O'Brien", "Andersen", "Søndergaard", "Ferreira", "Yılmaz",
};

static const char *const nicknames[] = {
	"Lucky Star", "Big Apple", "Happy Days", "Blue Ocean", "Red Lantern", "Ace",
	"Top Choice", "Double Happiness", "Fresh & Best", "Sunny Side",
};

/* Legal suffixes, their relative frequency, and how banks rewrite them. */
static const struct {
	const char *s;
	double w;
	const char *alts;
} suffixes[] = {
	{"Sdn Bhd", 30, "Sdn. Bhd.|SDN BHD|S/B|Sdn.Bhd|Sendirian Berhad"},
	{"Bhd", 4, "Berhad|Bhd.|BHD"},
	{"Ltd", 12, "Ltd.|Limited|LTD"},
	{"LLC", 6, "L.L.C.|Llc"},
	{"Inc", 6, "Inc.|Incorporated|INC"},
	{"GmbH", 5, "G.m.b.H.|GMBH"},
	{"& Co", 4, "and Co|& Company|& Co."},
	{"Pte Ltd", 8, "Pte. Ltd.|Private Limited|PTE LTD"},
	{"Co., Ltd.", 4, "Co Ltd|Company Limited"},
	{"PLC", 2, "plc|Public Limited Company"},
	{"Pty Ltd", 3, "Pty. Ltd.|PTY LTD"},
	{"S.A.", 2, "SA|S.A"},
	{"AG", 1, "A.G."},
	{"B.V.", 1, "BV|B.V"},
	{"Sp. z o.o.", 1, "Sp z oo|sp. z o.o."},
	{"", 8, ""},
};

/* Real-world shapes that templates do not produce. */
static const char *const specials[] = {
	"Müller GmbH", "Société Générale Café", "Łódź Trading Sp. z o.o.", "日本商事",
	"日本商事株式会社", "株式会社山田製作所", "北京贸易有限公司", "Café Zoë & Co",
	"Björk & Åberg AB", "Tan, Lim & Partners", "Smith, Jones & Co",
	"\"Best\" Bakery Ltd", "The \"Corner\" Shop, Bangsar", "O'Brien's Pub Ltd",
	"Ferreira & Filhos Lda", "Çelik İnşaat A.Ş.", "Αθηνά Trading Ltd",
	"ООО Ромашка", "Ngũ Phúc Trading", "Kedai Runcit Ah Seng", "Ah Huat Hardware Sdn Bhd",
	"Lee & Sons, Inc", "ACME Corp.", "Acme Corporation Bhd", "Mr. DIY Trading Sdn Bhd",
	"99 Speedmart Sdn Bhd", "Hüseyin's Kebab House", "Dr. Rao's Clinic", "Crème de la Crème Patisserie",
	"Zoë's Kitchen, LLC", "München Motoren GmbH", "Københavns Kaffe ApS",
};

/* Cyrillic and Greek customers (issue 21): banks print them in capitals,
 * so only a full Unicode case folding matches them. */
static const char *const cyr_forms[] = {"ООО", "ООО", "АО", "ЗАО", "ИП", "ТОВ"};
static const char *const cyr_words[] = {
	"Ромашка", "Вектор", "Альфа", "Техносервис", "Стройинвест", "Северный Ветер", "Гранит",
	"Меридиан", "Солнечный Берег", "Восток Логистик", "Промресурс", "Сибирь Торг", "Ёлка",
	"Заря", "Київ Трейд", "Дніпро Агро",
};
static const char *const greek_words[] = {
	"Αθηνά", "Όλυμπος", "Ερμής", "Ποσειδών", "Απόλλων", "Ήλιος", "Αιγαίο", "Ιωνία", "Κρήτη", "Δελφοί",
};
static const char *const greek_trades[] = {"Εμπορική", "Τεχνική", "Ναυτιλιακή", "Τρόφιμα", "Trading", "Logistics"};
static const char *const greek_forms[] = {"Α.Ε.", "ΕΠΕ", "ΙΚΕ", "Ltd", ""};

/* Words a second company adds to a name another one has ("Global
 * Logistics" and "Global Logistics Solutions"). */
static const char *const lookalike_words[] = {
	"International", "Solutions", "Holdings", "Global", "Group", "Services", "Asia", "Trading", "Enterprise",
};

static void intl_name(gen_rng *r, buf_t *b)
{
	if (gen_rng_chance(r, 0.6)) {
		buf_printf(b, "%s %s", PICK(r, cyr_forms), PICK(r, cyr_words));
		return;
	}
	const char *form = PICK(r, greek_forms);
	buf_printf(b, "%s %s%s%s", PICK(r, greek_words), PICK(r, greek_trades), *form ? " " : "", form);
}

/* A name like prev's with one more word before the legal suffix. */
static void lookalike_name(gen_rng *r, const gen_name *prev, buf_t *b)
{
	const char *w = PICK(r, lookalike_words);
	buf_put(b, prev->name, prev->base_len);
	buf_printf(b, " %s", w);
	buf_put(b, prev->name + prev->base_len, prev->len - prev->base_len);
}

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

static void set_suffix(gen_name *g)
{
	g->base_len = g->len;
	g->suffix = -1;
	for (size_t i = 0; i < COUNT(suffixes); i++) {
		size_t sl = strlen(suffixes[i].s);
		if (!sl || sl + 1 >= g->len)
			continue;
		if (g->name[g->len - sl - 1] == ' ' && memcmp(g->name + g->len - sl, suffixes[i].s, sl) == 0) {
			g->base_len = g->len - sl - 1;
			g->suffix = (int)i;
			return;
		}
	}
}

static void random_name(gen_rng *r, buf_t *b)
{
	double wsuf[COUNT(suffixes)];
	for (size_t i = 0; i < COUNT(suffixes); i++)
		wsuf[i] = suffixes[i].w;
	const char *suffix = suffixes[gen_rng_weighted(r, wsuf, COUNT(suffixes))].s;
	double u = gen_rng_unit(r);
	if (u < 0.62) {
		buf_printf(b, "%s %s", PICK(r, places), PICK(r, industries));
	} else if (u < 0.80) {
		buf_printf(b, "%s %s", PICK(r, surnames), PICK(r, industries));
	} else if (u < 0.88) {
		buf_printf(b, "%s & Sons", PICK(r, surnames));
	} else if (u < 0.94) {
		const char *a = PICK(r, surnames), *c = PICK(r, surnames);
		buf_printf(b, "%s, %s & Partners", a, c);
		return;
	} else {
		buf_printf(b, "\"%s\" %s", PICK(r, nicknames), PICK(r, industries));
	}
	if (*suffix)
		buf_printf(b, " %s", suffix);
}

void gen_names_customers(gen_rng *r, gen_name *out, size_t n)
{
	size_t cap = 64;
	while (cap < 2 * n)
		cap *= 2;
	uint32_t *set = xcalloc(cap, sizeof *set); /* 1-based index into out */
	buf_t b = BUF_INIT;
	size_t nspecial = n / 20 < COUNT(specials) ? n / 20 : COUNT(specials);
	size_t sp = 0;
	for (size_t i = 0; i < n;) {
		buf_reset(&b);
		/* Specials are spread over the list so that small scales get some. */
		double u = gen_rng_unit(r);
		if (sp < nspecial && gen_rng_below(r, n - i) < nspecial - sp)
			buf_puts(&b, specials[sp++]);
		else if (i > 0 && u < 0.04)
			lookalike_name(r, &out[i - 1], &b);
		else if (u < 0.07)
			intl_name(r, &b);
		else
			random_name(r, &b);
		uint64_t h = fnv1a(b.p, b.len);
		size_t k = h & (cap - 1);
		int dup = 0;
		while (set[k]) {
			const gen_name *o = &out[set[k] - 1];
			if (o->len == b.len && memcmp(o->name, b.p, b.len) == 0) {
				dup = 1;
				break;
			}
			k = (k + 1) & (cap - 1);
		}
		if (dup)
			continue;
		set[k] = (uint32_t)(i + 1);
		out[i].len = b.len;
		out[i].name = xstrndup(b.p, b.len);
		set_suffix(&out[i]);
		i++;
	}
	buf_free(&b);
	free(set);
}

/* Greek small letters U+03AC..U+03CE as capitals without their accents
 * (as Greek is written in capitals), low byte of U+03xx; 0 = unchanged. */
static const unsigned char greek_upper[] = {
	0x91, 0x95, 0x97, 0x99, 0, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E,
	0x9F, 0xA0, 0xA1, 0xA3, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0x9F, 0xA5, 0xA9,
};

/* ASCII, Latin-1 (à..þ -> À..Þ), Cyrillic and Greek letters; other
 * scripts are left as they are, as many bank systems do. */
static void upper_from(buf_t *b, size_t at)
{
	unsigned char *p = (unsigned char *)b->p;
	for (size_t i = at; i < b->len; i++) {
		unsigned char c = p[i], d = i + 1 < b->len ? p[i + 1] : 0;
		if (c >= 'a' && c <= 'z') {
			p[i] = (unsigned char)(c - 'a' + 'A');
		} else if (c == 0xC3 && d >= 0xA0 && d <= 0xBE && d != 0xB7) {
			p[++i] -= 0x20;
		} else if (c == 0xD0 && d >= 0xB0 && d <= 0xBF) { /* а..п */
			p[++i] -= 0x20;
		} else if (c == 0xD1 && d >= 0x80 && d <= 0x8F) { /* р..я */
			p[i] = 0xD0;
			p[++i] += 0x20;
		} else if (c == 0xD1 && d >= 0x90 && d <= 0x9F) { /* ѐ..џ */
			p[i] = 0xD0;
			p[++i] -= 0x10;
		} else if ((c == 0xCE && d >= 0xAC) || (c == 0xCF && d <= 0x8E && d >= 0x80)) {
			unsigned cp = (c == 0xCE ? 0x380u : 0x3C0u) + (d & 0x3F);
			if (cp >= 0x3AC && cp <= 0x3CE && greek_upper[cp - 0x3AC]) {
				p[i] = 0xCE;
				p[++i] = greek_upper[cp - 0x3AC];
			}
		}
	}
}

static void put_upper(buf_t *b, const char *s, size_t n)
{
	size_t at = b->len;
	buf_put(b, s, n);
	upper_from(b, at);
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* One substituted, dropped or doubled ASCII letter after the first byte;
 * non-ASCII bytes are left alone so the result stays valid UTF-8. */
static void put_typo(gen_rng *r, buf_t *b, const char *s, size_t n)
{
	size_t pos[256], np = 0;
	for (size_t i = 1; i < n && np < COUNT(pos); i++)
		if (is_alpha(s[i]))
			pos[np++] = i;
	if (!np) {
		buf_put(b, s, n);
		return;
	}
	size_t p = pos[gen_rng_below(r, np)];
	buf_put(b, s, p);
	switch (gen_rng_below(r, 3)) {
	case 0: {
		char c = (char)('a' + gen_rng_below(r, 26));
		if (c == s[p] || c == s[p] + 32)
			c = c == 'z' ? 'a' : (char)(c + 1);
		buf_putc(b, s[p] >= 'A' && s[p] <= 'Z' ? (char)(c - 32) : c);
		break;
	}
	case 1:
		break;
	default:
		buf_putc(b, s[p]);
		buf_putc(b, s[p]);
	}
	buf_put(b, s + p + 1, n - p - 1);
}

void gen_names_payer(gen_rng *r, const gen_name *c, buf_t *b)
{
	double u = gen_rng_unit(r);
	if (c->suffix < 0 && u >= 0.70 && u < 0.87)
		u = 0.1;
	if (u < 0.45) {
		buf_put(b, c->name, c->len);
	} else if (u < 0.70) {
		put_upper(b, c->name, c->len);
	} else if (u < 0.80) {
		if (gen_rng_chance(r, 0.5))
			put_upper(b, c->name, c->base_len);
		else
			buf_put(b, c->name, c->base_len);
	} else if (u < 0.87) {
		buf_put(b, c->name, c->base_len);
		buf_putc(b, ' ');
		put_random_alt(r, b, suffixes[c->suffix].alts);
	} else if (u < 0.92) {
		put_typo(r, b, c->name, c->len);
	} else if (u < 0.96) {
		buf_puts(b, gen_rng_chance(r, 0.5) ? "PAYMENT FROM " : "TRF FROM ");
		put_upper(b, c->name, c->len);
	} else {
		/* Banks cut payer names to a fixed field width; cut on a UTF-8
		 * character boundary. */
		size_t n = c->len < 20 ? c->len : 20;
		while (n < c->len && ((unsigned char)c->name[n] & 0xC0) == 0x80)
			n--;
		while (n && c->name[n - 1] == ' ')
			n--;
		put_upper(b, c->name, n);
	}
}

/* ---- references ---- */

void gen_names_invoice_number(int year, uint32_t seq, buf_t *b)
{
	buf_printf(b, "INV-%04d-%06u", year, seq);
}

static void mistype(gen_rng *r, char *d, size_t *n, size_t *split)
{
	size_t len = *n;
	switch (gen_rng_below(r, 3)) {
	case 0: {
		size_t p = gen_rng_below(r, len);
		d[p] = (char)('0' + (d[p] - '0' + 1 + gen_rng_below(r, 9)) % 10);
		break;
	}
	case 1: {
		size_t p = gen_rng_below(r, len);
		memmove(d + p, d + p + 1, len - p);
		*n = len - 1;
		if (p < *split)
			(*split)--;
		break;
	}
	default: {
		/* Transpose two adjacent digits that differ, else substitute. */
		size_t start = gen_rng_below(r, len - 1);
		for (size_t k = 0; k < len - 1; k++) {
			size_t p = (start + k) % (len - 1);
			if (d[p] != d[p + 1]) {
				char t = d[p];
				d[p] = d[p + 1];
				d[p + 1] = t;
				return;
			}
		}
		d[len - 1] = d[len - 1] == '9' ? '0' : (char)(d[len - 1] + 1);
	}
	}
}

static const char *const useless_refs[] = {
	"", "", "", "TRANSFER %u", "IBG PAYMENT", "FPX %u", "GIRO", "DuitNow Transfer",
	"INSTANT TRANSFER", "TT REMITTANCE %u", "Payment", "payment thanks", "CHQ %u",
};

void gen_names_reference(gen_rng *r, int year, uint32_t seq, int part, int nparts, buf_t *b)
{
	if (gen_rng_chance(r, 0.10)) {
		buf_printf(b, PICK(r, useless_refs), (unsigned)gen_rng_range(r, 10000, 999999));
		return;
	}
	char d[32];
	size_t n = (size_t)snprintf(d, sizeof d, "%04d%06u", year, seq);
	size_t split = 4;
	if (gen_rng_chance(r, 0.04 / 0.90))
		mistype(r, d, &n, &split);
	const char *y = d, *s = d + split;
	int yl = (int)split, sl = (int)(n - split);
	if (nparts > 1 && gen_rng_chance(r, 0.6)) {
		switch (gen_rng_below(r, 3)) {
		case 0: buf_printf(b, "INV-%.*s-%.*s part %d", yl, y, sl, s, part); break;
		case 1: buf_printf(b, "Partial pmt INV-%.*s-%.*s", yl, y, sl, s); break;
		default: buf_printf(b, "INV%.*s-%.*s (instalment %d/%d)", yl, y, sl, s, part, nparts);
		}
		return;
	}
	static const double w[] = {35, 10, 10, 8, 7, 10, 5, 5, 5, 5};
	switch (gen_rng_weighted(r, w, COUNT(w))) {
	case 0: buf_printf(b, "INV-%.*s-%.*s", yl, y, sl, s); break;
	case 1: buf_printf(b, "Payment for inv %.*s-%.*s", yl, y, sl, s); break;
	case 2: buf_printf(b, "INV%.*s%.*s", yl, y, sl, s); break;
	case 3: buf_printf(b, "inv/%.*s/%.*s", yl, y, sl, s); break;
	case 4: buf_printf(b, "#INV %.*s %.*s thanks", yl, y, sl, s); break;
	case 5: buf_printf(b, "IBG INV-%.*s-%.*s", yl, y, sl, s); break;
	case 6: buf_printf(b, "inv %.*s-%.*s", yl, y, sl, s); break;
	case 7: buf_printf(b, "Settlement INV_%.*s_%.*s", yl, y, sl, s); break;
	case 8: buf_printf(b, "%u/INV-%.*s-%.*s", (unsigned)gen_rng_range(r, 100, 9999), yl, y, sl, s); break;
	default: buf_printf(b, "Invoice INV-%.*s-%.*s, ref %u", yl, y, sl, s, (unsigned)gen_rng_range(r, 1000, 99999));
	}
}

static const char *const first_names[] = {
	"Wei Jie", "Mei Ling", "Siti", "Ahmad", "Nurul", "Arjun", "Priya", "Kavitha",
	"John", "Sarah", "Michael", "Emma", "David", "Olivia", "José", "María",
	"Zoë", "Łukasz", "Søren", "Hiroshi", "Yuki", "Minh", "Thu Trang", "Fatima",
	"Omar", "Chloé", "François", "Anna", "Lars", "Grace", "Daniel", "Hafiz",
};

static const char *const last_names[] = {
	"Tan", "Lim", "Lee", "Wong", "Ng", "binti Abdullah", "bin Ismail", "Kumar",
	"Pillai", "Smith", "Johnson", "Williams", "García", "Fernández", "Müller",
	"Kowalski", "Jørgensen", "Sato", "Nguyễn", "Trần", "Haddad", "Dupont",
	"O'Connor", "Rossi", "Chen", "Zhang", "Yamamoto", "Ali",
};

int64_t gen_names_unrelated(gen_rng *r, date_t d, buf_t *payer, buf_t *ref)
{
	static const char *const mon[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
		"JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
	static const char *const refunders[] = {"AirAsia Berhad", "Grab", "TNB",
		"Amazon Web Services", "Shell Malaysia", "LHDN", "Maxis Broadband",
		"IKEA Malaysia", "Agoda Company Pte Ltd", "MAYBANK"};
	int y, m, dd;
	switch (gen_rng_below(r, 5)) {
	case 0:
		date_to_ymd(d, &y, &m, &dd);
		buf_puts(payer, gen_rng_chance(r, 0.5) ? "BANK INTEREST" : "Interest credit");
		buf_printf(ref, "INTEREST %s %d", mon[m - 1], y);
		return gen_rng_range(r, 50, 8000);
	case 1:
		buf_puts(payer, PICK(r, refunders));
		buf_printf(ref, "REFUND %u", (unsigned)gen_rng_range(r, 100000, 999999));
		return (int64_t)(gen_rng_lognormal(r, 120, 1.0) * 100) + 1;
	case 2:
		buf_puts(payer, "CASH DEPOSIT");
		buf_printf(ref, "CDM %05u", (unsigned)gen_rng_range(r, 0, 99999));
		return gen_rng_range(r, 5, 500) * 1000;
	default:
		gen_names_person(r, payer);
		if (gen_rng_chance(r, 0.5))
			upper_from(payer, 0);
		if (gen_rng_chance(r, 0.5))
			buf_printf(ref, PICK(r, useless_refs), (unsigned)gen_rng_range(r, 10000, 999999));
		return (int64_t)(gen_rng_lognormal(r, 600, 1.2) * 100) + 1;
	}
}

/* ---- costs ---- */

static const struct {
	const char *name;
	double median, sigma;
	const char *vendors; /* '|'-separated */
	const char *items;
} categories[] = {
	{"Office Supplies", 60, 0.8, "Popular Bookstore|Staples|MR DIY|Officeworks|Amazon", "Printer paper|Toner cartridges|Pens and markers|Filing folders|Whiteboard"},
	{"Meals & Entertainment", 45, 0.7, "Starbucks|Old Town White Coffee|Café Müller|Nando's|GrabFood", "Team lunch|Client lunch|Coffee for meeting|Dinner with supplier"},
	{"Travel", 220, 1.0, "AirAsia|Malaysia Airlines|Grab|Marriott Hotels|Agoda|KTM Berhad", "Flight to Singapore|Hotel stay|Taxi to client site|Train tickets|Airport transfer"},
	{"Fuel", 70, 0.4, "Petronas|Shell|Caltex|BHPetrol", "Fuel for delivery van|Diesel|Petrol top-up"},
	{"Software", 120, 1.0, "Microsoft|Adobe|Atlassian|Slack|Zoom|JetBrains|Xero", "Monthly licence|Annual licence renewal|Seat upgrade|Add-on module"},
	{"Shipping & Postage", 35, 0.8, "Pos Malaysia|DHL Express|J&T Express|FedEx|Ninja Van", "Courier to customer|Parcel shipping|Registered mail|Express delivery"},
	{"Payroll", 3800, 0.35, "Payroll run|Staff salary|KWSP|PERKESO", "Monthly salary|Overtime|Commission|Bonus|EPF contribution"},
	{"Telephone & Internet", 150, 0.5, "Maxis|Celcom|TM Unifi|Digi|Time Fibre", "Fibre broadband|Mobile plan|Office phone line"},
	{"Utilities", 480, 0.4, "TNB|Air Selangor|Indah Water|SAJ", "Electricity bill|Water bill|Sewerage charges"},
	{"Repairs & Maintenance", 300, 0.9, "Ah Kow Aircond Service|FixIt Sdn Bhd|Handyman Pro", "Air-cond servicing|Plumbing repair|Door lock replacement|Lighting fix"},
	{"Marketing", 800, 1.0, "Canva|Mailchimp|Printcious|Agency Bold & Co", "Flyers|Email campaign|Brand design|Event booth"},
	{"Advertising", 600, 0.9, "Google Ads|Meta Platforms|LinkedIn|Star Media", "Search ads|Facebook campaign|Sponsored post|Newspaper ad"},
	{"Bank Fees", 12, 0.6, "Maybank|CIMB Bank|Public Bank|HSBC", "Transaction fee|Monthly account fee|IBG charges|FX conversion fee"},
	{"Professional Fees", 1500, 0.7, "KPMG|Deloitte|Lee, Tan & Associates|Baker \"Consulting\" LLP", "Tax advisory|Audit fee|Consulting|Company secretarial"},
	{"Cleaning", 250, 0.4, "CleanPro Services|Sparkle Cleaning|Maid Easy", "Office cleaning|Carpet cleaning|Window cleaning"},
	{"Parking & Tolls", 15, 0.6, "PLUS Malaysia|Touch 'n Go|Secure Parking", "Highway toll|Parking|Season parking"},
	{"Subscriptions", 40, 0.8, "The Star|Netflix|Spotify|Medium|LinkedIn Premium", "Newspaper subscription|Music for shop|Industry journal"},
	{"Equipment", 1200, 0.9, "Harvey Norman|Apple|Dell|Lenovo|Machines", "Laptop|Monitor|Office chairs|Label printer|Barcode scanner"},
	{"Inventory Purchases", 2500, 1.0, "Guan Seng Trading|Everbright Supplies|Nordic Wholesale|Tokyo Parts K.K.", "Stock replenishment|Seasonal stock|Bulk order|Spare parts"},
	{"Raw Materials", 3200, 0.9, "Steelcorp Bhd|Timber Master|PolyPlas Industries|Golden Resin", "Steel sheets|Timber|Plastic pellets|Resin"},
	{"Contractors", 2000, 0.7, "Freelancer: A. Rahman|Upwork|DevHouse Studio|José Fernández", "Web development|Bookkeeping|Graphic design|Installation work"},
	{"Training", 450, 0.7, "HRD Corp|Udemy|Coursera|SafetyFirst Academy", "Staff training|Online course|Safety workshop|First aid course"},
	{"Insurance", 900, 0.5, "Allianz|AIA|Great Eastern|Etiqa", "Fire insurance|Vehicle insurance|Medical insurance|Public liability"},
	{"Rent", 4500, 0.1, "Sunway Properties|IOI Properties|Mr. Wong (landlord)", "Office rent|Warehouse rent|Shop lot rent"},
	{"Cloud Hosting", 700, 0.6, "Amazon Web Services|Google Cloud|DigitalOcean|Hetzner|Cloudflare", "Servers|Storage|Bandwidth overage|Database hosting"},
	{"Legal Fees", 2200, 0.8, "Zul Rafique & Partners|Skrine|Shearn Delamore", "Contract review|Trademark filing|Debt recovery letter"},
	{"Accounting", 1100, 0.3, "SQL Accounting|Bookkeepers Plus|Tan & Co Chartered Accountants", "Monthly bookkeeping|Payroll processing|SST filing"},
	{"Staff Welfare", 150, 0.8, "Secret Recipe|Tesco|Lotus's|Big Pharmacy", "Birthday cake|Pantry snacks|Team outing|Festive hampers"},
	{"Recruitment", 900, 0.7, "JobStreet|LinkedIn Jobs|Hays|Indeed", "Job posting|Agency fee|Background check"},
	{"Vehicle Maintenance", 400, 0.7, "Proton Service Centre|Perodua Service|Bosch Car Service|Tyre Plus", "Car servicing|New tyres|Brake pads|Battery replacement"},
	{"Printing & Stationery", 90, 0.7, "Printcious|Fuji Xerox|Kinko's", "Business cards|Letterhead|Invoice books|Rubber stamp"},
	{"Entertainment", 300, 0.8, "Golden Screen Cinemas|Bowling Bowl|Karaoke Box", "Team outing|Client entertainment|Annual dinner"},
	{"Security", 600, 0.3, "Guardforce|Securicor|ADT", "Guard service|Alarm monitoring|CCTV maintenance"},
	{"Donations", 200, 1.0, "MERCY Malaysia|Red Crescent|Local temple|Mosque fund", "Charity donation|Community sponsorship|Festival donation"},
	{"Licences & Permits", 350, 0.8, "DBKL|MBPJ|SSM|Bomba", "Business licence|Signboard permit|Annual return|Fire certificate"},
	{"Taxes & Duties", 1800, 1.0, "LHDN|Royal Malaysian Customs|Stamp office", "Income tax instalment|SST payment|Import duty|Stamp duty"},
	{"Freight", 850, 0.8, "Maersk|Kerry Logistics|CJ Century|Tiong Nam", "Container freight|Inbound freight|Customs clearance"},
	{"Conferences", 1300, 0.7, "Web Summit|MATRADE|Expo Asia", "Conference ticket|Trade fair booth|Summit registration"},
	{"Medical", 120, 0.7, "Klinik Mediviron|Qualitas Clinic|Gleneagles", "Staff medical|Panel clinic|Health screening"},
	{"Miscellaneous", 80, 1.2, "Various|Petty cash|Shopee|Lazada", "Sundry expenses|Petty cash top-up|Miscellaneous items"},
};

size_t gen_names_category_count(void)
{
	return COUNT(categories);
}

const char *gen_names_category(size_t i, double *median, double *sigma)
{
	*median = categories[i].median;
	*sigma = categories[i].sigma;
	return categories[i].name;
}

void gen_names_vendor(gen_rng *r, size_t i, buf_t *b)
{
	put_random_alt(r, b, categories[i].vendors);
}

static const char *const months[] = {"January", "February", "March", "April", "May",
	"June", "July", "August", "September", "October", "November", "December"};

static const char *const projects[] = {"Project Phoenix", "Q4 launch", "Alpha",
	"Kuala Lumpur office", "Hari Raya promo", "Big Sale", "Rebrand"};

static const char *const approvers[] = {"Aisha", "Ben", "Chloe", "Daniel", "Farah"};

void gen_names_description(gen_rng *r, size_t i, date_t d, buf_t *b)
{
	double u = gen_rng_unit(r);
	if (u < 0.15)
		return;
	put_random_alt(r, b, categories[i].items);
	int y, m, dd;
	if (u < 0.55)
		return;
	if (u < 0.72) {
		date_to_ymd(d, &y, &m, &dd);
		buf_printf(b, ", %s %d", months[m - 1], y);
	} else if (u < 0.82) {
		buf_printf(b, " - PO-%05u", (unsigned)gen_rng_range(r, 1, 99999));
	} else if (u < 0.90) {
		buf_printf(b, " for \"%s\"", PICK(r, projects));
	} else if (u < 0.94) {
		buf_printf(b, "\nApproved by %s", PICK(r, approvers));
	} else {
		buf_printf(b, " (%u x unit, incl. SST)", (unsigned)gen_rng_range(r, 2, 40));
	}
}

/* ---- leads ---- */

static const char *const creators[GEN_NAMES_CREATORS] = {
	"Aisha", "Ben", "Chloe", "Daniel", "Farah", "Hiroshi", "Mei Ling", "Rajesh",
};

const char *gen_names_creator(size_t i)
{
	return creators[i % GEN_NAMES_CREATORS];
}

void gen_names_person(gen_rng *r, buf_t *b)
{
	buf_printf(b, "%s %s", PICK(r, first_names), PICK(r, last_names));
}

void gen_names_mobile(gen_rng *r, buf_t *b)
{
	unsigned a = (unsigned)gen_rng_range(r, 0, 9), x = (unsigned)gen_rng_range(r, 100, 999);
	unsigned z = (unsigned)gen_rng_range(r, 0, 9999);
	switch (gen_rng_below(r, 7)) {
	case 0: buf_printf(b, "+60 1%u-%03u %04u", a, x, z); break;
	case 1: buf_printf(b, "01%u-%03u %04u", a, x, z); break;
	case 2: buf_printf(b, "01%u%03u%04u", a, x, z); break;
	case 3: buf_printf(b, "+601%u%03u%04u", a, x, z); break;
	case 4: buf_printf(b, "+65 9%03u %04u", x, z); break;
	case 5: buf_printf(b, "+1 (415) 555-%04u", z); break;
	default: buf_printf(b, "+44 7700 9%05u", z);
	}
}

const char *gen_names_source(gen_rng *r)
{
	static const char *const src[] = {"website", "referral", "facebook", "google ads",
		"walk-in", "whatsapp", "trade show", "cold call", "instagram"};
	static const double w[] = {25, 18, 12, 12, 8, 10, 6, 6, 3};
	return src[gen_rng_weighted(r, w, COUNT(w))];
}
