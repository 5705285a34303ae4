/* fuzz_detect: import detection (src/ingest/detect*.c, `--detect`,
 * `detect=1` over HTTP) over an arbitrary file head.
 *
 * Byte 0: bits 0-2 the kind (mod 5), bit 3 "the head is the whole file",
 * bit 4 the caller gives options: then the bytes up to the first NUL are
 * their text form (optlist, "name=value" lines) and the head follows.
 *
 * Checks: a refusal says why; an accepted file has a confidence of 0-100,
 * at most DETECT_MAX_COLUMNS named columns and terminated notes; detection
 * never overrides an option the caller gave (the list options map, set and
 * default only add fields); what it chose, without options of the caller,
 * is accepted by the import's own option parser (detection must not pick
 * what the import then refuses); the chosen options survive their text
 * form (profiles store them so); two runs over the same head agree. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "core/buf.h"
#include "ingest/detect.h"
#include "ingest/options.h"
#include "ingest/optlist.h"

static const char *given_get(void *ud, const char *name)
{
	return optlist_get(ud, name);
}

static bool is_list_option(const char *name)
{
	return !strcmp(name, "map") || !strcmp(name, "set") || !strcmp(name, "default");
}

static void text_of(const optlist *l, buf_t *out)
{
	buf_reset(out);
	optlist_text(l, out);
	buf_putc(out, '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	entity_kind kind = (entity_kind)((data[0] & 7) % ENT__COUNT);
	bool eof = data[0] & 8;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	optlist given = {0};
	bool have_given = false;
	if (data[0] & 16) {
		const char *nul = memchr(p, '\0', n);
		if (!nul)
			return 0;
		char why[256];
		if (!optlist_parse(&given, p, (size_t)(nul - p), why, sizeof why)) {
			optlist_free(&given);
			return 0;
		}
		have_given = true;
		n -= (size_t)(nul - p) + 1;
		p = nul + 1;
	}
	if (n > DETECT_MAX_BYTES)
		n = DETECT_MAX_BYTES;

	detect_result r, again;
	char why[1024] = "", why2[1024] = "";
	bool ok = detect_run(kind, p, n, eof, have_given ? given_get : NULL, &given, &r, why, sizeof why);
	bool ok2 = detect_run(kind, p, n, eof, have_given ? given_get : NULL, &given, &again, why2, sizeof why2);
	FUZZ_CHECK(ok == ok2, "two runs over the same head differ");
	if (!ok) {
		FUZZ_CHECK(why[0] && memchr(why, '\0', sizeof why), "a refusal without a reason");
		FUZZ_CHECK(!strcmp(why, why2), "two refusals differ: '%s' / '%s'", why, why2);
	} else {
		FUZZ_CHECK(r.confidence >= 0 && r.confidence <= 100, "confidence %d", r.confidence);
		FUZZ_CHECK(r.ncolumns >= 0 && r.ncolumns <= DETECT_MAX_COLUMNS, "%d columns", r.ncolumns);
		for (int i = 0; i < r.ncolumns; i++)
			FUZZ_CHECK(r.columns[i], "column %d has no name", i);
		FUZZ_CHECK(memchr(r.notes, '\0', sizeof r.notes), "notes not terminated");
		for (int i = 0; i < r.opts.n; i++)
			FUZZ_CHECK(is_list_option(r.opts.name[i]) || !optlist_get(&given, r.opts.name[i]),
			           "detection overrode the caller's %s", r.opts.name[i]);

		buf_t t1 = BUF_INIT, t2 = BUF_INIT;
		text_of(&r.opts, &t1);
		text_of(&again.opts, &t2);
		FUZZ_CHECK(!strcmp(t1.p, t2.p) && r.confidence == again.confidence, "two runs chose differently");
		optlist back = {0};
		char w[256];
		FUZZ_CHECK(optlist_parse(&back, t1.p, t1.len - 1, w, sizeof w), "the chosen options' text: %s", w);
		text_of(&back, &t2);
		FUZZ_CHECK(!strcmp(t1.p, t2.p), "the chosen options change through their text form");
		optlist_free(&back);
		buf_free(&t1);
		buf_free(&t2);

		if (!have_given) {
			import_opts o = {.kind = kind};
			char w2[512] = "";
			FUZZ_CHECK(import_options_parse(&o, given_get, &r.opts, w2, sizeof w2),
			           "the import refuses what detection chose: %s", w2);
			import_opts_free(&o);
		}
	}
	detect_free(&r);
	detect_free(&again);
	optlist_free(&given);
	return 0;
}
