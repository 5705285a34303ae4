#include "analytics/reads.h"

#include <stdio.h>

#include "analytics/internal.h"
#include "core/log.h"

void an_reads_init(an_reads *r, store_conn_t *c, bool naive)
{
	r->c = c;
	r->naive = naive;
	r->n = r->ndone = 0;
	r->full = false;
	r->failed[0] = 0;
}

void an_reads_add(an_reads *r, const char *sql, int n, store_each_fn bind, store_each_fn row, void *ud)
{
	if (r->n == AN_READS_MAX) { /* a programming error: the views' lists are fixed */
		r->full = true;
		return;
	}
	r->v[r->n++] = (store_each_t){sql, n, bind, row, ud};
}

void an_reads_then(an_reads *r, an_reads_done_fn fn, void *ud)
{
	if (r->ndone < AN_READS_MAX) {
		r->done[r->ndone] = fn;
		r->done_ud[r->ndone++] = ud;
	} else {
		r->full = true;
		fn(ud, false); /* freed now: never run */
	}
}

void an_reads_fail(an_reads *r, const char *why)
{
	if (!r->failed[0])
		snprintf(r->failed, sizeof r->failed, "%s", why && *why ? why : "a read failed");
}

int an_reads_run(an_reads *r, const char *what, char *err, size_t errlen)
{
	int rc = 0;
	if (r->full) {
		log_error("analytics: more than %d gathered reads (%s)", AN_READS_MAX, what);
		snprintf(err, errlen, "internal error: too many reads for one view (%s)", what);
		rc = -1;
	} else if (r->failed[0]) {
		snprintf(err, errlen, "%s", r->failed);
		rc = -1;
	} else if (r->n && store_each_many(r->c, r->v, r->n) != 0) {
		rc = an_store_err(r->c, what, err, errlen);
	}
	for (int i = 0; i < r->ndone; i++)
		r->done[i](r->done_ud[i], rc == 0);
	an_reads_init(r, r->c, r->naive);
	return rc;
}
