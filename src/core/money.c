#include "core/money.h"

#include <string.h>

#include "core/currency.h"

/*
 * DESIGN
 *
 * Both parsers work in two passes over the bytes: first the shape is checked
 * and the integer and fraction digit runs are located, then the digits are
 * accumulated into an unsigned magnitude with explicit overflow checks. The
 * magnitude limit for negatives is one larger than for positives so that
 * INT64_MIN cents is representable. Keeping syntax before arithmetic means a
 * malformed input always reports MONEY_SYNTAX, never a misleading overflow.
 *
 * money_parse_opts peels the decorations real exports put around a number
 * (currency symbol or code, sign, parentheses, spaces) in any reasonable order,
 * each at most once, and then reads the number with the file's decimal and
 * thousands characters. Rounding is half-to-even on the magnitude, which is
 * symmetric, so -0.125 rounds to -0.12 exactly as 0.125 rounds to 0.12.
 */

/* A located number: int digits and fraction digits, separators skipped. */
typedef struct {
	const char *p;     /* start of the digit run (may include separators) */
	const char *end;   /* end of the integer part */
	const char *frac;  /* first fraction digit, NULL if none */
	size_t nfrac;      /* fraction digit count */
} number_t;

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "1250.0000" (US Bank's four places) is exactly 1250.00: zeros past the
 * currency's places are dropped, anything else there stays a precision
 * error. Not after exactly three digits: "1.000" may be a thousand whose
 * separator was taken for the decimal mark, and that must stay refused. */
static void drop_zero_tail(number_t *n, size_t places)
{
	if (n->nfrac == 3)
		return;
	while (n->nfrac > places && n->frac[n->nfrac - 1] == '0')
		n->nfrac--;
}

static void trim_spaces(const char **s, size_t *len)
{
	while (*len && (*s)[0] == ' ') {
		(*s)++;
		(*len)--;
	}
	while (*len && (*s)[*len - 1] == ' ')
		(*len)--;
}

/*
 * Accumulates the digits of [p, end) into *mag, skipping any byte that is not
 * a digit (the caller has already validated separators). Fails when the
 * result would exceed lim.
 */
static bool acc_digits(uint64_t *mag, const char *p, const char *end, uint64_t lim)
{
	for (; p < end; p++) {
		if (!is_digit(*p))
			continue;
		unsigned d = (unsigned)(*p - '0');
		if (*mag > (lim - d) / 10)
			return false;
		*mag = *mag * 10 + d;
	}
	return true;
}


/*
 * Turns a located number into signed units of 10^-digits (cents for 2).
 * Fraction digits beyond digits are rounded half-to-even when round is set;
 * callers that do not allow rounding must reject them before calling.
 */
static money_status to_units(const number_t *n, bool neg, int digits, int64_t *out)
{
	uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t mag = 0, scale = 1;
	for (int i = 0; i < digits; i++)
		scale *= 10;

	if (!acc_digits(&mag, n->p, n->end, lim / scale))
		return MONEY_OVERFLOW;
	mag *= scale;
	uint64_t f = 0;
	for (int i = 0; i < digits; i++)
		f = f * 10 + ((size_t)i < n->nfrac ? (unsigned)(n->frac[i] - '0') : 0);
	if (mag > lim - f)
		return MONEY_OVERFLOW;
	mag += f;

	if (n->nfrac > (size_t)digits) {
		char first = n->frac[digits];
		bool rest_nonzero = false;
		for (size_t i = (size_t)digits + 1; i < n->nfrac; i++)
			if (n->frac[i] != '0')
				rest_nonzero = true;
		bool up = first > '5' || (first == '5' && (rest_nonzero || (mag & 1)));
		if (up) {
			if (mag == lim)
				return MONEY_OVERFLOW;
			mag++;
		}
	}

	if (!neg)
		*out = (int64_t)mag;
	else if (mag == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)mag;
	return MONEY_OK;
}

static money_status parse_strict(const char *s, size_t len, int minor, int64_t *out)
{
	if (!s)
		len = 0;
	trim_spaces(&s, &len);
	if (len == 0)
		return MONEY_EMPTY;

	const char *p = s, *end = s + len;
	bool neg = false;
	if (*p == '-') {
		neg = true;
		p++;
	}

	number_t n = {.p = p};
	while (p < end && is_digit(*p))
		p++;
	if (p == n.p)
		return MONEY_SYNTAX;
	n.end = p;
	if (p < end && *p == '.') {
		p++;
		n.frac = p;
		while (p < end && is_digit(*p))
			p++;
		n.nfrac = (size_t)(p - n.frac);
		if (n.nfrac == 0)
			return MONEY_SYNTAX;
	}
	if (p != end)
		return MONEY_SYNTAX;
	drop_zero_tail(&n, (size_t)minor);
	if (n.nfrac > (size_t)minor)
		return MONEY_PRECISION;
	return to_units(&n, neg, minor, out);
}

money_status money_parse(const char *s, size_t len, int64_t *out)
{
	return parse_strict(s, len, 2, out);
}

/* Currency symbols real exports print, each with the ISO 4217 code it
 * stands for, or "" when the symbol is shared ("$", "£", "¥", "kr"...): an
 * ambiguous symbol is accepted and ignored, never turned into a guess. Any
 * active ISO 4217 code (see currency.c) is accepted too. */
static const struct {
	const char *tok, *iso;
} currency_tokens[] = {
	{"US$", "USD"}, {"HK$", "HKD"}, {"NZ$", "NZD"}, {"R$", "BRL"}, {"S$", "SGD"}, {"A$", "AUD"},
	{"C$", ""}, {"\xe2\x82\xac" /* € */, "EUR"}, {"\xe2\x82\xb9" /* ₹ */, "INR"},
	{"\xe2\x82\xa9" /* ₩ */, "KRW"}, {"\xe2\x82\xb1" /* ₱ */, "PHP"}, {"\xe2\x82\xab" /* ₫ */, "VND"},
	{"\xe0\xb8\xbf" /* ฿ */, "THB"}, {"\xc2\xa3" /* £ */, ""}, {"\xc2\xa5" /* ¥ */, ""},
	{"z\xc5\x82" /* zł */, "PLN"}, {"K\xc4\x8d" /* Kč */, "CZK"}, {"RMB", "CNY"}, {"RM", "MYR"},
	{"Rp", "IDR"}, {"kr", ""}, {"Fr", ""}, {"$", ""},
};

static bool ascii_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of the currency token at p, 0 if none; its ISO code (or "")
 * into code. */
static size_t match_currency(const char *p, const char *end, char code[4])
{
	size_t best = 0;
	for (size_t i = 0; i < sizeof(currency_tokens) / sizeof(*currency_tokens); i++) {
		const char *t = currency_tokens[i].tok;
		size_t n = strlen(t);
		if (n <= best || (size_t)(end - p) < n || !ascii_ieq(p, t, n))
			continue;
		/* "USDX" or "RMB" read as "RM" + "B" must not pass as a code. */
		if (is_alpha(t[n - 1]) && p + n < end && is_alpha(p[n]))
			continue;
		best = n;
		memcpy(code, currency_tokens[i].iso, strlen(currency_tokens[i].iso) + 1);
	}
	if (best < 3 && end - p >= 3 && !(p + 3 < end && is_alpha(p[3])) && currency_canon(p, 3, code))
		best = 3;
	return best;
}

/*
 * Length of a space at p: ASCII space, and U+00A0 / U+202F, which
 * spreadsheets put between a symbol and the number or between digit groups.
 */
static size_t match_space(const char *p, const char *end)
{
	size_t n = (size_t)(end - p);
	if (n >= 1 && p[0] == ' ')
		return 1;
	if (n >= 2 && (unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0)
		return 2;
	if (n >= 3 && (unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
	    (unsigned char)p[2] == 0xaf)
		return 3;
	return 0;
}

/* Length of a minus sign at p: '-', or U+2212 MINUS SIGN, which
 * typesetting spreadsheets (Numbers, some French exports) print. */
static size_t match_minus(const char *p, const char *end)
{
	if (p < end && *p == '-')
		return 1;
	if (end - p >= 3 && (unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x88 && (unsigned char)p[2] == 0x92)
		return 3;
	return 0;
}

static const char *skip_spaces(const char *p, const char *end)
{
	size_t n;
	while ((n = match_space(p, end)))
		p += n;
	return p;
}

/* Length of a thousands separator at p, 0 if none. */
static size_t match_thousands(char t, const char *p, const char *end)
{
	if (!t || p >= end)
		return 0;
	if (t == ' ')
		return match_space(p, end);
	if (*p == t)
		return 1;
	/* Swiss exports print the apostrophe as U+2019. */
	if (t == '\'' && end - p >= 3 && (unsigned char)p[0] == 0xe2 &&
	    (unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0x99)
		return 3;
	return 0;
}

static money_status parse_opts(const char *s, size_t len, const money_opts *o, int digits, int64_t *out,
                               char code[4]);

money_status money_parse_opts(const char *s, size_t len, const money_opts *o, int64_t *out)
{
	return money_parse_minor(s, len, o, 2, out, NULL);
}

money_status money_parse_minor(const char *s, size_t len, const money_opts *o, int minor, int64_t *out,
                               char code[4])
{
	if (code)
		code[0] = '\0';
	if (minor < 0 || minor > MONEY_MAX_MINOR)
		return MONEY_SYNTAX;
	/* The zero options are the strict form, exactly (not a looser one). */
	if (!o || ((!o->decimal || o->decimal == '.') && !o->thousands && !o->symbols && !o->plus && !o->parens &&
	           !o->round && !o->trailing_minus))
		return parse_strict(s, len, minor, out);
	return parse_opts(s, len, o, minor, out, code);
}

money_status money_parse_units(const char *s, size_t len, const money_opts *o, int digits, int64_t *out)
{
	static const money_opts strict = {.decimal = '.'};
	if (digits < 2 || digits > 9)
		return MONEY_SYNTAX;
	return parse_opts(s, len, o ? o : &strict, digits, out, NULL);
}

int64_t money_round_units(int64_t v, int digits)
{
	int64_t scale = 1;
	for (int i = 2; i < digits; i++)
		scale *= 10;
	int64_t q = v / scale, r = v % scale;
	if (r < 0)
		r = -r;
	/* Half-to-even on the magnitude, like the parser. */
	if (r * 2 > scale || (r * 2 == scale && (q & 1)))
		q += v < 0 ? -1 : 1;
	return q;
}

static money_status parse_opts(const char *s, size_t len, const money_opts *o, int digits, int64_t *out,
                               char code[4])
{
	char found[4] = "";
	if (!s)
		len = 0;

	char dec = o->decimal ? o->decimal : '.';
	/* A separator equal to the decimal mark could never be told apart. */
	char th = o->thousands == dec ? 0 : o->thousands;
	const char *p = s, *end = s + len;

	p = skip_spaces(p, end);
	while (end > p) {
		size_t n = 0;
		if (end[-1] == ' ')
			n = 1;
		else if (end - p >= 2 && (unsigned char)end[-2] == 0xc2 && (unsigned char)end[-1] == 0xa0)
			n = 2;
		else if (end - p >= 3 && (unsigned char)end[-3] == 0xe2 &&
			 (unsigned char)end[-2] == 0x80 && (unsigned char)end[-1] == 0xaf)
			n = 3;
		if (!n)
			break;
		end -= n;
	}
	if (p == end)
		return MONEY_EMPTY;

	bool neg = false, sign = false, paren = false, sym = false;
	for (;;) {
		size_t n;
		if ((n = match_minus(p, end)) && !sign && !paren) {
			/* "- 5.00", "+ £1,100.00": a sign may stand apart. */
			neg = sign = true;
			p = skip_spaces(p + n, end);
		} else if (*p == '+' && o->plus && !sign && !paren) {
			sign = true;
			p = skip_spaces(p + 1, end);
		} else if (*p == '(' && o->parens && !paren && !sign) {
			neg = paren = true;
			p++;
		} else if (o->symbols && !sym && (n = match_currency(p, end, found))) {
			sym = true;
			p = skip_spaces(p + n, end);
		} else {
			break;
		}
		if (p == end)
			return MONEY_SYNTAX;
	}

	/* Integer part: plain digits, or 1-3 digits then groups of exactly 3. */
	number_t num = {.p = p};
	const char *group = p;
	bool grouped = false;
	for (;;) {
		while (p < end && is_digit(*p))
			p++;
		size_t glen = (size_t)(p - group);
		size_t tl = match_thousands(th, p, end);
		/* Only a separator with a digit after it: "1 234 €" ends at "234". */
		if (tl && !(p + tl < end && is_digit(p[tl])))
			tl = 0;
		if (grouped ? glen != 3 : glen == 0)
			return MONEY_SYNTAX;
		if (!tl)
			break;
		if (!grouped && glen > 3)
			return MONEY_SYNTAX;
		grouped = true;
		p += tl;
		group = p;
	}
	num.end = p;
	if (p < end && *p == dec) {
		p++;
		num.frac = p;
		while (p < end && is_digit(*p))
			p++;
		num.nfrac = (size_t)(p - num.frac);
		if (num.nfrac == 0)
			return MONEY_SYNTAX;
	}

	bool closed = !paren;
	for (;;) {
		size_t n;
		const char *q = skip_spaces(p, end);
		if (q < end && *q == ')' && !closed && q == p) {
			closed = true;
			p = q + 1;
		} else if (o->trailing_minus && !sign && !paren && (n = match_minus(q, end))) {
			/* "1.200,00-", "38,50 - EUR" */
			neg = sign = true;
			p = q + n;
		} else if (o->symbols && !sym && (n = match_currency(q, end, found))) {
			sym = true;
			p = q + n;
		} else {
			break;
		}
	}
	if (p != end || !closed)
		return MONEY_SYNTAX;
	if (code)
		memcpy(code, found, 4);
	drop_zero_tail(&num, (size_t)digits);
	if (num.nfrac > (size_t)digits && !o->round)
		return MONEY_PRECISION;
	return to_units(&num, neg, digits, out);
}

size_t money_format(int64_t cents, char *buf)
{
	return money_format_minor(cents, 2, buf);
}

size_t money_format_minor(int64_t cents, int minor, char *buf)
{
	/* Negating INT64_MIN in int64 is undefined; do it in unsigned. */
	uint64_t mag = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
	char tmp[MONEY_BUFSZ];
	size_t n = 0;

	if (minor < 0 || minor > MONEY_MAX_MINOR)
		minor = 2;
	for (int i = 0; i < minor; i++) {
		tmp[n++] = (char)('0' + mag % 10);
		mag /= 10;
	}
	if (minor)
		tmp[n++] = '.';
	do {
		tmp[n++] = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag);
	if (cents < 0)
		tmp[n++] = '-';

	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

const char *money_strerror(money_status st)
{
	switch (st) {
	case MONEY_OK:
		return "ok";
	case MONEY_EMPTY:
		return "empty amount";
	case MONEY_SYNTAX:
		return "not a valid amount";
	case MONEY_PRECISION:
		return "more than 2 decimal places";
	case MONEY_OVERFLOW:
		return "amount too large";
	case MONEY_BOUND:
		return "amount out of range: |amount| must be below 10^15 cents (10000000000000.00)";
	}
	return "unknown money error";
}

bool money_add(int64_t *acc, int64_t v)
{
	int64_t r;
	if (__builtin_add_overflow(*acc, v, &r))
		return false;
	*acc = r;
	return true;
}
