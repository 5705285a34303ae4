#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/analytics.h"
#include "analytics/internal.h"
#include "analytics/source.h"
#include "core/mem.h"

/* The WHERE terms repeat the partial index leads_followup's own, which is
 * what lets SQLite use it: all open leads with a follow-up up to the day.
 * Grouping in index order (followup_date, creator) streams without a sort;
 * the few hundred groups are folded per creator in C. */
const char leads_sql_followups[] =
	"SELECT followup_date, creator, count(*) FROM leads "
	"WHERE org = ?1 AND followup_date <= ?2 AND followup_date IS NOT NULL AND status NOT IN ('won','lost') "
	"GROUP BY followup_date, creator";
const char leads_sql_due[] = "SELECT count(*) FROM leads WHERE org = ? AND followup_date = ? "
                             "AND followup_date IS NOT NULL AND status NOT IN ('won','lost')";

static const char naive_followups[] =
	"SELECT followup_date, creator, count(*) FROM leads "
	"WHERE org = ?1 AND status <> 'won' AND status <> 'lost' AND followup_date IS NOT NULL "
	"GROUP BY creator, followup_date";
static const char naive_due[] = "SELECT count(*) FROM leads WHERE org = ? AND status <> 'won' "
                                "AND status <> 'lost' AND followup_date = ?";

static const char *const statuses[6] = {"new", "contacted", "qualified", "proposal", "won", "lost"};

/* Both follow-up reads take (org, day); each fills one output. */
typedef struct {
	int64_t org;
	date_t day;
	int64_t *n;    /* due today */
	an_items *out; /* per creator */
} day_ctx;

static void day_bind(void *ud, store_stmt_t *st, int i)
{
	day_ctx *x = ud;
	(void)i;
	store_bind_i64(st, 1, x->org);
	store_bind_i64(st, 2, x->day);
}

static void day_done(void *ud, bool ok)
{
	(void)ok;
	free(ud);
}

static void due_row(void *ud, store_stmt_t *st, int i)
{
	day_ctx *x = ud;
	(void)i;
	*x->n = store_col_i64(st, 0);
}

void an_followups_due_add(an_reads *rd, int64_t org, date_t day, int64_t *n)
{
	*n = 0;
	day_ctx *x = xmalloc(sizeof *x);
	*x = (day_ctx){org, day, n, NULL};
	an_reads_add(rd, rd->naive ? naive_due : leads_sql_due, 1, day_bind, due_row, x);
	an_reads_then(rd, day_done, x);
}

typedef struct {
	int64_t by_status[6];
	int64_t due, overdue;
} creator_counts;

static int status_index(const char *s, size_t len)
{
	for (int i = 0; i < 6; i++)
		if (strlen(statuses[i]) == len && !memcmp(statuses[i], s, len))
			return i;
	return -1;
}

static void fu_row(void *ud, store_stmt_t *st, int i)
{
	day_ctx *x = ud;
	(void)i;
	date_t fd = (date_t)store_col_i64(st, 0);
	int64_t n = store_col_i64(st, 2);
	size_t len;
	const char *k = store_col_text(st, 1, &len);
	/* Future follow-ups alone leave nothing to report. */
	if (fd <= x->day)
		an_items_add(x->out, k, len, fd == x->day ? n : 0, fd < x->day ? n : 0);
}

/* Follow-ups per creator, as items with cnt = due and total = overdue,
 * gathered into rd. */
static void followups_add(an_reads *rd, const analytics_params *p, an_items *out)
{
	day_ctx *x = xmalloc(sizeof *x);
	*x = (day_ctx){p->org, p->day, NULL, out};
	an_reads_add(rd, rd->naive ? naive_followups : leads_sql_followups, 1, day_bind, fu_row, x);
	an_reads_then(rd, day_done, x);
}

static size_t creator_len(const an_item *it)
{
	const char *sep = memrchr(it->key, '\x1f', it->klen);
	return sep ? (size_t)(sep - it->key) : it->klen;
}

int analytics_leads_summary(store_conn_t *c, const analytics_params *p, buf_t *out, char *err, size_t errlen)
{
	if (an_check_params(p, err, errlen) != 0)
		return -1;
	an_items created = {0}, fu = {0}, names = {0};
	creator_counts *cc = NULL;
	int rc = -1;
	/* one round trip of the store */
	an_reads rd;
	an_reads_init(&rd, c, p->naive);
	source_dim d = {ROLLUP_LEADS, p->from, p->to, &created};
	source_figures_add(&rd, p->org, NULL, 0, &d, 1);
	followups_add(&rd, p, &fu);
	if (an_reads_run(&rd, "leads", err, errlen) != 0)
		goto done;
	for (size_t i = 0; i < created.n; i++)
		an_items_add(&names, created.v[i].key, creator_len(&created.v[i]), 0, 0);
	for (size_t i = 0; i < fu.n; i++)
		an_items_add(&names, fu.v[i].key, fu.v[i].klen, 0, 0);
	an_items_sort_key(&names);
	cc = xcalloc(names.n ? names.n : 1, sizeof *cc);
	for (size_t i = 0; i < created.n; i++) {
		size_t cl = creator_len(&created.v[i]);
		an_item *n = an_items_find(&names, created.v[i].key, cl);
		int s = cl < created.v[i].klen ? status_index(created.v[i].key + cl + 1, created.v[i].klen - cl - 1) : -1;
		if (n && s >= 0)
			cc[n - names.v].by_status[s] += created.v[i].cnt;
	}
	for (size_t i = 0; i < fu.n; i++) {
		an_item *n = an_items_find(&names, fu.v[i].key, fu.v[i].klen);
		cc[n - names.v].due = fu.v[i].cnt;
		cc[n - names.v].overdue = fu.v[i].total;
	}
	buf_puts(out, "{\"date\":");
	an_put_date(out, p->day);
	buf_puts(out, ",\"creators\":[");
	for (size_t i = 0; i < names.n; i++) {
		int64_t total = 0;
		for (int s = 0; s < 6; s++)
			total += cc[i].by_status[s];
		buf_puts(out, i ? ",{\"creator\":" : "{\"creator\":");
		buf_json_str(out, names.v[i].key, names.v[i].klen);
		buf_printf(out, ",\"created\":%lld,\"by_status\":{", (long long)total);
		for (int s = 0; s < 6; s++)
			buf_printf(out, "%s\"%s\":%lld", s ? "," : "", statuses[s], (long long)cc[i].by_status[s]);
		buf_printf(out, "},\"followups_due\":%lld,\"overdue_followups\":%lld}", (long long)cc[i].due,
		           (long long)cc[i].overdue);
	}
	buf_puts(out, "]}");
	rc = 0;
done:
	free(cc);
	an_items_free(&created);
	an_items_free(&fu);
	an_items_free(&names);
	return rc;
}
