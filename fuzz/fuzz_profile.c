/* fuzz_profile: import profiles (src/ingest/profile.c, optlist.c): the
 * options of `brisk profile save` and POST /api/v1/profiles as stored
 * (the optlist text form, read back by every --profile NAME import).
 *
 * Byte 0 picks the kind the profile is for (0-4 a kind, else any), the
 * rest is the text form. Checks: a refused text or profile says why; the
 * text of an accepted list reads back to the same names and values (a
 * profile loads what was saved); an accepted profile's options keep passing
 * after that round trip; its JSON form (GET /api/v1/profiles) is an object
 * of the same values; its command line (shown after an import) splits back
 * into the same options under POSIX shell quoting. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "core/buf.h"
#include "ingest/entity.h"
#include "ingest/optlist.h"
#include "ingest/profile.h"

static void same(const optlist *a, const optlist *b, const char *what)
{
	FUZZ_CHECK(a->n == b->n, "%s: %d options, %d back", what, a->n, b->n);
	for (int i = 0; i < a->n; i++) {
		const char *v = optlist_get(b, a->name[i]);
		FUZZ_CHECK(v && !strcmp(v, a->value[i]), "%s: %s='%s' came back as '%s'", what, a->name[i], a->value[i],
		           v ? v : "(none)");
	}
}

/* Splits a POSIX shell word list as optlist_cmdline writes it (bare words
 * and '...' runs, ' as '\''), into opts: "--name value" or a bare flag. */
static void split_cmdline(const char *s, optlist *out)
{
	char *words[2 * OPTLIST_MAX + 2];
	int nw = 0;
	buf_t w = BUF_INIT;
	while (*s) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		buf_reset(&w);
		while (*s && *s != ' ') {
			if (*s == '\'') {
				const char *e = strchr(s + 1, '\'');
				FUZZ_CHECK(e, "an unclosed quote in the command line");
				buf_put(&w, s + 1, (size_t)(e - s - 1));
				s = e + 1;
			} else if (*s == '\\' && s[1]) {
				buf_putc(&w, s[1]);
				s += 2;
			} else {
				buf_putc(&w, *s++);
			}
		}
		buf_putc(&w, '\0');
		FUZZ_CHECK(nw < (int)(sizeof words / sizeof words[0]), "too many words");
		words[nw++] = strdup(w.p);
	}
	buf_free(&w);
	for (int i = 0; i < nw; i++) {
		FUZZ_CHECK(!strncmp(words[i], "--", 2), "'%s' is not an option", words[i]);
		char name[64];
		snprintf(name, sizeof name, "%s", words[i] + 2);
		for (char *c = name; *c; c++)
			if (*c == '-')
				*c = '_';
		bool bare = optlist_is_flag(name) && (i + 1 == nw || !strncmp(words[i + 1], "--", 2));
		FUZZ_CHECK(bare || i + 1 < nw, "--%s without its value", name);
		optlist_set(out, name, bare ? "1" : words[++i]);
	}
	for (int i = 0; i < nw; i++)
		free(words[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *kind = (data[0] & 7) < ENT__COUNT ? entity_get((entity_kind)(data[0] & 7))->name : "";
	optlist l = {0};
	char why[512] = "";
	if (!optlist_parse(&l, (const char *)data + 1, size - 1, why, sizeof why)) {
		FUZZ_CHECK(why[0], "a refused text without a reason");
		optlist_free(&l);
		return 0;
	}
	buf_t text = BUF_INIT;
	optlist_text(&l, &text);
	optlist back = {0};
	FUZZ_CHECK(optlist_parse(&back, text.p ? text.p : "", text.len, why, sizeof why), "own text refused: %s", why);
	why[0] = '\0';
	bool ok = profile_check(&l, kind, why, sizeof why);
	FUZZ_CHECK(ok || why[0], "a refused profile without a reason");
	if (ok) {
		same(&l, &back, "text form");
		char why2[512] = "";
		FUZZ_CHECK(profile_check(&back, kind, why2, sizeof why2), "refused after its text form: %s", why2);

		buf_t js = BUF_INIT;
		profile_options_json(&l, &js);
		json_error_t je;
		json_t *o = json_loadb(js.p, js.len, JSON_REJECT_DUPLICATES, &je);
		FUZZ_CHECK(json_is_object(o) && (int)json_object_size(o) == l.n, "JSON form: %s", je.text);
		for (int i = 0; i < l.n; i++) {
			json_t *v = json_object_get(o, l.name[i]);
			FUZZ_CHECK(json_is_string(v) && !strcmp(json_string_value(v), l.value[i]), "JSON of %s", l.name[i]);
		}
		json_decref(o);
		buf_free(&js);

		buf_t cl = BUF_INIT;
		optlist_cmdline(&l, &cl);
		buf_putc(&cl, '\0');
		optlist words = {0};
		split_cmdline(cl.p, &words);
		same(&l, &words, "command line");
		optlist_free(&words);
		buf_free(&cl);
	}
	optlist_free(&back);
	optlist_free(&l);
	buf_free(&text);
	return 0;
}
