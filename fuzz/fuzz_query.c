/* fuzz_query: query_parse and query_decode over arbitrary bytes.
 * Checks: at most QUERY_MAX pairs, non-empty unique names, lookups find
 * their own values, a failure always says why, decoding never grows. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "http/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	query_t q;
	char why[128] = "";
	if (query_parse(&q, s, size, why, sizeof why)) {
		FUZZ_CHECK(q.n >= 0 && q.n <= QUERY_MAX, "%d pairs", q.n);
		for (int i = 0; i < q.n; i++) {
			FUZZ_CHECK(q.name[i][0], "empty name %d", i);
			FUZZ_CHECK(strlen(q.name[i]) + strlen(q.value[i]) <= size, "pair %d longer than the input", i);
			FUZZ_CHECK(query_get(&q, q.name[i]) == q.value[i], "lookup of '%s'", q.name[i]);
			for (int j = i + 1; j < q.n; j++)
				FUZZ_CHECK(strcmp(q.name[i], q.name[j]), "duplicate '%s'", q.name[i]);
		}
	} else {
		FUZZ_CHECK(why[0], "a failure without a reason");
	}
	query_free(&q);

	char *out = malloc(size ? size : 1); /* exact size: ASan sees overruns */
	long k = query_decode(s, size, out, size & 1);
	FUZZ_CHECK(k >= -1 && k <= (long)size, "decoded %ld of %zu", k, size);
	free(out);
	return 0;
}
