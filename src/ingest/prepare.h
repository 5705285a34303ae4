/* prepare: the options of one import, from what the caller gave (CLI
 * flags, the HTTP query, a task's JSON), a saved profile (profile=NAME)
 * and detection (detect=1), the caller winning over the profile and both
 * over detection; and the reader that gives import_run the whole file
 * again after detection looked at its first bytes. One path for the CLI,
 * HTTP and background tasks. */
#ifndef BRISK_PREPARE_H
#define BRISK_PREPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ingest/csv.h"
#include "ingest/detect.h"
#include "ingest/options.h"
#include "ingest/optlist.h"
#include "store/store.h"

typedef struct {
	optlayers layers;
	optlist profile;
	detect_result det;
	bool detected;          /* det holds what detection chose */
	bool refused;           /* detection was unsure: why says the candidates */
	double detect_seconds;  /* reading the sample and detecting */
	csv_read_fn fn;
	void *ud;
	char *head;             /* bytes detection read, replayed */
	size_t hlen, hpos;
	bool eof;
	ssize_t err;
} import_prep;

/* Fills o (zeroed by the caller, kind and org set) from get/ud, the
 * profile it names and detection when it asks for it (reading the first
 * bytes of the file through fn/fud). Returns true, or false with why: a
 * bad option, an unknown profile, detection refusing (p->refused). The
 * strings of o live until import_prep_free. */
bool import_prepare(import_prep *p, store_t *s, import_opts *o, const char *(*get)(void *ud, const char *name),
                    void *ud, csv_read_fn fn, void *fud, char *why, size_t whylen);
/* The reader to give import_run (ud = p): the bytes read ahead, then the
 * rest of the file. */
ssize_t import_prep_read(void *p, char *buf, size_t n);
/* Appends the command line detection chose: "brisk import KIND FILE ..."
 * with the options it added. */
void import_prep_cmdline(const import_prep *p, const import_opts *o, const char *file, buf_t *out);
void import_prep_free(import_prep *p);

#endif
