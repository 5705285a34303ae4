/* fuzz_money: money_parse and money_parse_opts over arbitrary text.
 *
 * Byte 0 holds the option bits: decimal ',' (bit 0), thousands separator
 * (bits 1-3: none , . space '), symbols (4), plus (5), parens (6), round
 * (7); the rest is the amount. Checks: format(parse(x)) parses back to the
 * same cents; NULL options and {decimal '.'} are exactly the strict form;
 * anything strict accepts, the lenient forms with '.' accept alike; a
 * failure never writes the output. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "core/money.h"

static void round_trip(int64_t v)
{
	char buf[MONEY_BUFSZ];
	size_t k = money_format(v, buf);
	FUZZ_CHECK(k == strlen(buf) && k < MONEY_BUFSZ, "format length %zu", k);
	int64_t w = 0;
	money_status st = money_parse(buf, k, &w);
	FUZZ_CHECK(st == MONEY_OK && w == v, "\"%s\" (from %lld) parses back as %lld, status %d", buf, (long long)v,
	           (long long)w, st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char seps[] = {0, ',', '.', ' ', '\'', 0, 0, 0};
	if (size < 1)
		return 0;
	uint8_t bits = data[0];
	const char *s = (const char *)data + 1;
	size_t n = size - 1;

	int64_t strict = 777;
	money_status st = money_parse(s, n, &strict);
	if (st == MONEY_OK)
		round_trip(strict);
	else
		FUZZ_CHECK(strict == 777, "failed parse wrote %lld", (long long)strict);

	int64_t v = 777;
	FUZZ_CHECK(money_parse_opts(s, n, NULL, &v) == st && (st != MONEY_OK || v == strict), "NULL opts differ");
	/* {decimal '.'} is exactly the strict form (this driver once found
	 * "1 \xC2\xA0" accepted by one and not the other). */
	money_opts canon = {.decimal = '.'};
	v = 777;
	money_status sc = money_parse_opts(s, n, &canon, &v);
	FUZZ_CHECK(sc == st && (st != MONEY_OK || v == strict), "{decimal '.'} differs from strict: %d vs %d", sc, st);

	money_opts o = {
		.decimal = bits & 1 ? ',' : '.',
		.thousands = seps[(bits >> 1) & 7],
		.symbols = bits & 16,
		.plus = bits & 32,
		.parens = bits & 64,
		.round = bits & 128,
	};
	v = 777;
	money_status sl = money_parse_opts(s, n, &o, &v);
	if (sl == MONEY_OK)
		round_trip(v);
	else
		FUZZ_CHECK(v == 777, "failed lenient parse wrote %lld", (long long)v);
	if (st == MONEY_OK && o.decimal == '.')
		FUZZ_CHECK(sl == MONEY_OK && v == strict, "strict %lld but lenient (bits 0x%02x) status %d value %lld",
		           (long long)strict, bits, sl, (long long)v);
	FUZZ_CHECK(money_strerror(sl) && money_strerror(sl)[0], "no reason for status %d", sl);
	return 0;
}
