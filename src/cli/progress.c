#include "cli/progress.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/mem.h"

struct progress {
	FILE *f;
	uint64_t total;
	const char *unit;
	double t0;
	bool shown;
};

progress_t *progress_new(FILE *f, uint64_t total, const char *unit)
{
	progress_t *p = xcalloc(1, sizeof *p);
	p->f = f && isatty(fileno(f)) ? f : NULL;
	p->total = total;
	p->unit = unit;
	p->t0 = clock_now_s();
	return p;
}

void progress_update(progress_t *p, uint64_t done, uint64_t count)
{
	if (!p || !p->f)
		return;
	double el = clock_now_s() - p->t0;
	double rate = el > 0 ? (double)count / el : 0;
	if (p->total) {
		int pct = (int)(done * 100 / p->total);
		int bars = pct * 30 / 100;
		fprintf(p->f, "\r[%.*s%*s] %3d%%  %llu %s  %.0f %s/s ", bars, "##############################",
		        30 - bars, "", pct, (unsigned long long)count, p->unit, rate, p->unit);
	} else {
		fprintf(p->f, "\r%llu %s  %.0f %s/s ", (unsigned long long)count, p->unit, rate, p->unit);
	}
	fflush(p->f);
	p->shown = true;
}

void progress_done(progress_t *p)
{
	if (p && p->f && p->shown) {
		fprintf(p->f, "\r\033[K");
		fflush(p->f);
	}
}

void progress_free(progress_t *p)
{
	free(p);
}
