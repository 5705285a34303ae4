#include "ingest/overlap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/mem.h"
#include "core/money.h"
#include "ingest/sample.h"

typedef struct {
	int64_t date, amount;
	uint64_t hash, line;
	bool cost; /* --split: a debit, stored as a cost of -amount */
} kept_row;

struct overlap {
	const import_opts *o;
	kept_row *rows;
	int n;
};

enum { AMOUNT = 3 }; /* payments and costs: date 1, amount 3 */

overlap_t *overlap_new(const import_opts *o)
{
	if (o->kind != ENT_PAYMENTS && o->kind != ENT_COSTS)
		return NULL;
	overlap_t *ov = xcalloc(1, sizeof *ov);
	ov->o = o;
	ov->rows = xmalloc(SAMPLE_ROWS * sizeof *ov->rows);
	return ov;
}

void overlap_add(overlap_t *ov, const record_t *rec, uint64_t hash, uint64_t line)
{
	if (!ov || ov->n == SAMPLE_ROWS || (rec->present[0] && slice_trim(rec->raw[0]).len))
		return;
	int64_t v = rec->num[AMOUNT];
	bool cost = ov->o->kind == ENT_PAYMENTS && ov->o->split && v < 0;
	ov->rows[ov->n++] = (kept_row){rec->num[1], cost ? -v : v, hash, line, cost};
}

/* Is id this row's derived id ("h" + hash, or "-N" after it)? */
static bool own_id(const char *id, size_t len, uint64_t hash)
{
	char mine[24];
	int n = snprintf(mine, sizeof mine, "h%016llx", (unsigned long long)hash);
	return len >= (size_t)n && !memcmp(id, mine, (size_t)n) && (len == (size_t)n || id[n] == '-');
}

bool overlap_verdict(overlap_t *ov, store_t *s, int64_t org, char *warn, size_t warnlen)
{
	if (!ov || !ov->n)
		return false;
	store_conn_t *c = store_read_begin(s);
	int64_t lo[2] = {0, 0}, hi[2] = {-1, -1};
	static const char *const range[2] = {
		"SELECT min(date), max(date) FROM payments WHERE org = ?",
		"SELECT min(date), max(date) FROM costs WHERE org = ?",
	};
	for (int t = 0; t < 2; t++) {
		store_stmt_t *st = store_prepare(c, range[t]);
		store_bind_i64(st, 1, org);
		if (store_step(st) == STORE_ROW && !store_col_is_null(st, 0)) {
			lo[t] = store_col_i64(st, 0);
			hi[t] = store_col_i64(st, 1);
		}
		store_reset(st);
	}
	int in_range = 0, twins = 0, own = 0;
	const kept_row *first = NULL;
	for (int i = 0; i < ov->n; i++) {
		const kept_row *r = &ov->rows[i];
		int t = r->cost || ov->o->kind == ENT_COSTS;
		if (r->date < lo[t] || r->date > hi[t])
			continue;
		in_range++;
		store_stmt_t *st = store_prepare(c, t ? "SELECT id FROM costs WHERE org = ? AND date = ? AND amount = ? LIMIT 16"
		                                      : "SELECT id FROM payments WHERE org = ? AND date = ? AND amount = ? "
		                                        "LIMIT 16");
		store_bind_i64(st, 1, org);
		store_bind_i64(st, 2, r->date);
		store_bind_i64(st, 3, r->amount);
		bool mine = false, other = false;
		while (store_step(st) == STORE_ROW) {
			size_t len;
			const char *id = store_col_text(st, 0, &len);
			if (own_id(id, len, r->hash))
				mine = true;
			else /* another file's derived id */
				other |= id[0] == 'h' && (len == 17 || (len > 18 && id[17] == '-'));
		}
		store_reset(st);
		own += mine;
		if (other && !mine && !twins++)
			first = r;
	}
	store_read_end(c);
	if (twins < 3 || twins * 2 < in_range || twins <= own)
		return false;
	char day[16], amt[MONEY_BUFSZ];
	date_format((date_t)first->date, day);
	money_format(first->cost ? -first->amount : first->amount, amt);
	snprintf(warn, warnlen,
	         "%d of %d rows dated within what is stored (of the first %d) twin a row another import stored under "
	         "other columns (e.g. line %llu: %s, %s): the same account in another format?",
	         twins, in_range, ov->n, (unsigned long long)first->line, day, amt);
	return true;
}

void overlap_free(overlap_t *ov)
{
	if (!ov)
		return;
	free(ov->rows);
	free(ov);
}
