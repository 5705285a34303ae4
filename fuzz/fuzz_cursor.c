/* fuzz_cursor: the list cursors of src/analytics/lists.c (the opaque
 * next_cursor a client sends back as ?cursor=). The codec is static to
 * lists.c, so the driver compiles that file in.
 *
 * Byte 0 picks the entity kind and the sort of the list; the rest is the
 * cursor text. Cursors are sealed (core/seal.h) under a fixed key and org
 * here. Checks: an accepted cursor encodes back to one that decodes to the
 * same position; a cursor of another kind, sort or org is refused; any
 * (key, rid) pair, taken from the input's first 16 bytes, survives an
 * encode/decode round trip. */
#include "../src/analytics/lists.c"

#include "common.h"

static const uint8_t sk[SEAL_KEYBYTES] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
#define ORG 7

/* put_cursor writes "...": the cursor text without its quotes. */
static const char *encode(buf_t *b, entity_kind k, analytics_sort s, int64_t key, int64_t rid)
{
	b->len = 0;
	put_cursor(b, sk, k, s, ORG, key, rid);
	FUZZ_CHECK(b->len >= 2 && b->p[0] == '"' && b->p[b->len - 1] == '"', "not a JSON string");
	b->p[b->len - 1] = '\0';
	return b->p + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	entity_kind k = (entity_kind)(data[0] % ENT__COUNT);
	analytics_sort s = (analytics_sort)(data[0] / ENT__COUNT % 4);
	char *text = xmalloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	buf_t b = BUF_INIT;
	int64_t key, rid, key2, rid2;
	if (get_cursor(sk, text, k, s, ORG, &key, &rid)) {
		const char *again = encode(&b, k, s, key, rid);
		FUZZ_CHECK(get_cursor(sk, again, k, s, ORG, &key2, &rid2) && key2 == key && rid2 == rid, "re-encoded '%s'",
		           again);
		FUZZ_CHECK(!get_cursor(sk, text, (entity_kind)((k + 1) % ENT__COUNT), s, ORG, &key2, &rid2),
		           "kind not checked");
		FUZZ_CHECK(!get_cursor(sk, text, k, (analytics_sort)((s + 1) % 4), ORG, &key2, &rid2), "sort not checked");
		FUZZ_CHECK(!get_cursor(sk, text, k, s, ORG + 1, &key2, &rid2), "org not checked");
	}
	if (size >= 17) {
		memcpy(&key, data + 1, 8);
		memcpy(&rid, data + 9, 8);
		const char *c = encode(&b, k, s, key, rid);
		FUZZ_CHECK(get_cursor(sk, c, k, s, ORG, &key2, &rid2) && key2 == key && rid2 == rid,
		           "round trip of %lld/%lld via '%s'",
		           (long long)key, (long long)rid, c);
	}
	buf_free(&b);
	free(text);
	return 0;
}
