#include "ingest/prepare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "ingest/profile.h"

static bool yes(const char *v)
{
	return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"));
}

/* Reads the first DETECT_MAX_BYTES (or to the end). */
static void read_head(import_prep *p)
{
	p->head = xmalloc(DETECT_MAX_BYTES);
	while (p->hlen < DETECT_MAX_BYTES) {
		ssize_t n = p->fn(p->ud, p->head + p->hlen, DETECT_MAX_BYTES - p->hlen);
		if (n <= 0) {
			p->eof = n == 0;
			p->err = n;
			return;
		}
		p->hlen += (size_t)n;
	}
}

ssize_t import_prep_read(void *ud, char *buf, size_t n)
{
	import_prep *p = ud;
	if (p->hpos < p->hlen) {
		size_t k = p->hlen - p->hpos < n ? p->hlen - p->hpos : n;
		memcpy(buf, p->head + p->hpos, k);
		p->hpos += k;
		return (ssize_t)k;
	}
	if (p->err < 0)
		return p->err;
	if (p->eof)
		return 0;
	return p->fn(p->ud, buf, n);
}

bool import_prepare(import_prep *p, store_t *s, import_opts *o, const char *(*get)(void *ud, const char *name),
                    void *ud, csv_read_fn fn, void *fud, char *why, size_t whylen)
{
	memset(p, 0, sizeof *p);
	p->fn = fn;
	p->ud = fud;
	p->layers.get = get;
	p->layers.ud = ud;
	const char *name = get(ud, "profile");
	if (name) {
		char kind[16] = "";
		int rc = profile_name_ok(name, why, whylen) ? profile_load(s, o->org, name, &p->profile, kind, why, whylen)
		                                            : -1;
		if (rc == 0)
			snprintf(why, whylen, "no profile '%.64s' in this organisation (brisk profile list)", name);
		if (rc <= 0)
			return false;
		const char *k = entity_get(o->kind)->name;
		if (kind[0] && strcmp(kind, k)) {
			snprintf(why, whylen, "profile '%.64s' is for %s, not %s", name, kind, k);
			return false;
		}
		p->layers.layer[p->layers.nlayers++] = &p->profile;
	}
	const char *det = optlayers_get(&p->layers, "detect");
	if (det && !yes(det) && strcmp(det, "0") && strcmp(det, "false") && strcmp(det, "no")) {
		snprintf(why, whylen, "'detect' must be 1, true, yes, 0, false or no, not '%.20s'", det);
		return false;
	}
	if (yes(det)) {
		double t0 = clock_now_s();
		read_head(p);
		if (p->err < 0) {
			snprintf(why, whylen, "cannot read the file");
			return false;
		}
		if (!detect_run(o->kind, p->head, p->hlen, p->eof, optlayers_get, &p->layers, &p->det, why, whylen)) {
			p->refused = true;
			return false;
		}
		p->detected = true;
		p->detect_seconds = clock_now_s() - t0;
		p->layers.layer[p->layers.nlayers++] = &p->det.opts;
	}
	return import_options_parse(o, optlayers_get, &p->layers, why, whylen);
}

void import_prep_cmdline(const import_prep *p, const import_opts *o, const char *file, buf_t *out)
{
	buf_printf(out, "brisk import %s %s", entity_get(o->kind)->name, file);
	/* what the caller gave, then what the profile and detection added */
	static const char *const skip[] = {"detect", "dry_run", "profile", NULL};
	optlist all = {0};
	for (int i = 0; import_option_names[i]; i++) {
		bool hidden = false;
		for (int j = 0; skip[j]; j++)
			hidden |= !strcmp(skip[j], import_option_names[i]);
		const char *v = hidden ? NULL : optlayers_get((void *)&p->layers, import_option_names[i]);
		if (v)
			optlist_set(&all, import_option_names[i], v);
	}
	optlist_cmdline(&all, out);
	optlist_free(&all);
}

void import_prep_free(import_prep *p)
{
	optlayers_free(&p->layers);
	optlist_free(&p->profile);
	detect_free(&p->det);
	free(p->head);
	p->head = NULL;
}
