#include "monitor/advisor.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analytics/analytics.h"
#include "core/mem.h"
#include "monitor/qstats.h"
#include "core/date.h"

#define MIN_VIEW_REQUESTS 20  /* a hit rate over fewer says nothing */
#define LOW_HIT_RATE 0.5
#define MIN_ROUTE_REQUESTS 20
#define WAL_LARGE_BYTES ((int64_t)64 << 20)
#define WAL_GROWTH_PER_MIN (8.0 * 1048576)
#define MAX_TABLES 64

enum { SEV_INFO, SEV_WARNING, SEV_CRITICAL };
static const char *const sev_names[] = {"info", "warning", "critical"};

/* One recommendation, rendered when the checks are done (they are sorted
 * by severity first). */
struct rec {
	int sev;
	char *json; /* the object without severity: {"kind":..,...} minus the leading brace */
};

struct report {
	struct rec *v;
	size_t n, cap;
	buf_t checks;
};

struct table_rows {
	char name[64];
	int64_t rows;
};

static void rec_add(struct report *r, int sev, const char *kind, const char *title, const char *detail,
		    const char *action, const char *evidence_json);
static void check_note(struct report *r, const char *kind, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void check_plans(struct report *r, const advisor_input *in);
static void check_views(struct report *r, const advisor_input *in);
static void check_routes(struct report *r, const advisor_input *in);
static void check_wal(struct report *r, const advisor_input *in);
static void check_cache_size(struct report *r, const advisor_input *in);
static void check_slow(struct report *r);

void advisor_report(const advisor_input *in, buf_t *out)
{
	struct report r = {0};
	check_plans(&r, in);
	check_views(&r, in);
	check_routes(&r, in);
	check_wal(&r, in);
	check_cache_size(&r, in);
	check_slow(&r);

	char ts[DATE_UTC_ISO_BUFSZ];
	date_utc_iso(time(NULL), ts);
	buf_printf(out, "{\"generated_at\":\"%s\",\"recommendations\":[", ts);
	bool first = true;
	for (int sev = SEV_CRITICAL; sev >= SEV_INFO; sev--)
		for (size_t i = 0; i < r.n; i++) {
			if (r.v[i].sev != sev)
				continue;
			buf_printf(out, "%s{\"severity\":\"%s\",%s", first ? "" : ",", sev_names[sev], r.v[i].json);
			first = false;
		}
	buf_puts(out, "],\"checks\":[");
	if (r.checks.len)
		buf_put(out, r.checks.p, r.checks.len);
	buf_puts(out, "]}");
	for (size_t i = 0; i < r.n; i++)
		free(r.v[i].json);
	free(r.v);
	buf_free(&r.checks);
}

unsigned advisor_view_tables(const char *view)
{
	static const struct {
		const char *name;
		unsigned tables;
	} map[] = {
		{"dashboard", 0xffffu},
		{"overview", 0xffffu},
		{"cashflow", TBL_BIT(TBL_PAYMENTS) | TBL_BIT(TBL_COSTS)},
		{"breakdown", TBL_BIT(TBL_COSTS) | TBL_BIT(TBL_SALES_ORDERS)},
		{"aging", TBL_BIT(TBL_INVOICES) | TBL_BIT(TBL_ALLOCATIONS) | TBL_BIT(TBL_PAYMENTS)},
		{"dso", TBL_BIT(TBL_INVOICES) | TBL_BIT(TBL_ALLOCATIONS) | TBL_BIT(TBL_PAYMENTS)},
		{"payment_behaviour", TBL_BIT(TBL_INVOICES) | TBL_BIT(TBL_ALLOCATIONS) | TBL_BIT(TBL_PAYMENTS)},
		{"leads_summary", TBL_BIT(TBL_LEADS)},
		{"top_customers", TBL_BIT(TBL_SALES_ORDERS)},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(map[i].name, view))
			return (map[i].tables | TBL_BIT(TBL_SETTINGS)) & ((1u << TBL__COUNT) - 1);
	return 0;
}

const char *advisor_table_name(store_table t)
{
	static const char *const names[TBL__COUNT] = {"costs", "sales_orders", "invoices", "payments",
						      "leads", "allocations", "settings", "datasets"};
	return (unsigned)t < TBL__COUNT ? names[t] : "?";
}

/* ---- recording findings ---- */

static void rec_add(struct report *r, int sev, const char *kind, const char *title, const char *detail,
		    const char *action, const char *evidence_json)
{
	buf_t b = BUF_INIT;
	buf_puts(&b, "\"kind\":");
	buf_json_str(&b, kind, strlen(kind));
	buf_puts(&b, ",\"title\":");
	buf_json_str(&b, title, strlen(title));
	buf_puts(&b, ",\"detail\":");
	buf_json_str(&b, detail, strlen(detail));
	buf_puts(&b, ",\"action\":");
	buf_json_str(&b, action, strlen(action));
	buf_printf(&b, ",\"evidence\":%s}", evidence_json && *evidence_json ? evidence_json : "{}");
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->v = xrealloc(r->v, r->cap * sizeof *r->v);
	}
	r->v[r->n++] = (struct rec){sev, buf_steal(&b)};
}

static void check_note(struct report *r, const char *kind, bool ok, const char *fmt, ...)
{
	char note[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(note, sizeof note, fmt, ap);
	va_end(ap);
	buf_printf(&r->checks, "%s{\"kind\":\"%s\",\"ok\":%s,\"note\":", r->checks.len ? "," : "", kind,
		   ok ? "true" : "false");
	buf_json_str(&r->checks, note, strlen(note));
	buf_putc(&r->checks, '}');
}

/* ---- plan_scan ---- */

static int64_t table_rows(sqlite3 *db, struct table_rows *cache, size_t *ncache, const char *table)
{
	for (size_t i = 0; i < *ncache; i++)
		if (!strcmp(cache[i].name, table))
			return cache[i].rows;
	int64_t rows = -1;
	char sql[160];
	/* Only names that are real tables: the plan also names indexes,
	 * subqueries and CTEs. */
	snprintf(sql, sizeof sql, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '%.60s'", table);
	sqlite3_stmt *st;
	bool is_table = false;
	if (!strchr(table, '\'') && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		is_table = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	if (is_table) {
		snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%.60s\"", table);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				rows = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	if (*ncache < MAX_TABLES) {
		snprintf(cache[*ncache].name, sizeof cache[0].name, "%s", table);
		cache[(*ncache)++].rows = rows;
	}
	return rows;
}

/* The table a plan line reads in full: "SCAN t" ("SCAN TABLE t" in older
 * SQLite, "SCAN t USING INDEX i" in index order), or a SEARCH constrained
 * by the organisation only ("SEARCH t USING INDEX i (org=?)"), which reads
 * every row of the organisation. False for real searches and non-tables. */
static bool scanned_table(const char *detail, char *table, size_t n)
{
	bool search = !strncmp(detail, "SEARCH ", 7);
	if (!search && strncmp(detail, "SCAN ", 5) != 0)
		return false;
	const char *p = detail + (search ? 7 : 5);
	if (!strncmp(p, "TABLE ", 6))
		p += 6;
	size_t len = strcspn(p, " ");
	if (!len || len >= n || !strncmp(p, "CONSTANT", 8) || *p == '(')
		return false;
	if (search) {
		const char *c = strchr(p, '(');
		if (!c || strcmp(c, "(org=?)") != 0)
			return false;
	}
	memcpy(table, p, len);
	table[len] = '\0';
	return true;
}

static void check_plans(struct report *r, const advisor_input *in)
{
	sqlite3 *db = NULL;
	if (!in->db_path || sqlite3_open_v2(in->db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		check_note(r, "plan_scan", true, "skipped: no database file to read plans from");
		return;
	}
	int64_t large = in->large_rows > 0 ? in->large_rows : 10000;
	struct table_rows rows[MAX_TABLES];
	size_t nrows = 0, nstmts, found = 0;
	const char *const *stmts = analytics_statements(&nstmts);
	buf_t sql = BUF_INIT, plan = BUF_INIT, ev = BUF_INIT;
	for (size_t i = 0; i < nstmts; i++) {
		buf_reset(&sql);
		buf_printf(&sql, "EXPLAIN QUERY PLAN %s", stmts[i]);
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, sql.p, -1, &st, NULL) != SQLITE_OK)
			continue;
		buf_reset(&plan);
		char worst[64] = "";
		int64_t worst_rows = -1;
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *d = (const char *)sqlite3_column_text(st, 3);
			if (!d)
				continue;
			if (plan.len)
				buf_puts(&plan, "; ");
			buf_puts(&plan, d);
			char t[64];
			if (scanned_table(d, t, sizeof t)) {
				int64_t n = table_rows(db, rows, &nrows, t);
				if (n > worst_rows) {
					worst_rows = n;
					snprintf(worst, sizeof worst, "%s", t);
				}
			}
		}
		sqlite3_finalize(st);
		if (worst_rows < large)
			continue;
		found++;
		qstats_stmt qs;
		bool ran = qstats_find(stmts[i], &qs);
		double mean_ms = ran && qs.count ? qs.total_s * 1e3 / (double)qs.count : 0;
		/* A scan that actually costs time matters more than one on paper. */
		int sev = ran && (mean_ms > 10 || qs.p95_s > 0.05) ? SEV_WARNING : SEV_INFO;
		buf_reset(&ev);
		buf_puts(&ev, "{\"sql\":");
		buf_json_str(&ev, stmts[i], strlen(stmts[i]));
		buf_puts(&ev, ",\"plan\":");
		buf_json_str(&ev, plan.p, plan.len);
		buf_printf(&ev, ",\"table\":\"%s\",\"table_rows\":%lld,\"executions\":%llu,\"mean_ms\":%.3f,\"p95_ms\":%.3f}",
			   worst, (long long)worst_rows, ran ? (unsigned long long)qs.count : 0ULL, mean_ms,
			   ran ? qs.p95_s * 1e3 : 0.0);
		char title[160], detail[600], action[400];
		snprintf(title, sizeof title, "A dashboard statement scans table %s (%lld rows)", worst,
			 (long long)worst_rows);
		snprintf(detail, sizeof detail,
			 "Its query plan reads every row of %s (of the organisation, at best) instead of searching an "
			 "index for the rows it needs (plan: %.300s). %s",
			 worst,
			 plan.p, ran ? "It has run; see executions and mean_ms." : "It has not run since start.");
		snprintf(action, sizeof action,
			 "Add an index on %s over the columns this statement filters on (org first, then the date or "
			 "key it restricts), or read a rollup instead; check with EXPLAIN QUERY PLAN that the plan "
			 "says SEARCH.",
			 worst);
		rec_add(r, sev, "plan_scan", title, detail, action, ev.p);
	}
	check_note(r, "plan_scan", found == 0, "%zu statements' plans read; %zu scan a table of %lld rows or more",
		   nstmts, found, (long long)large);
	buf_free(&sql);
	buf_free(&plan);
	buf_free(&ev);
	sqlite3_close(db);
}

/* ---- view_hit_rate ---- */

static void check_views(struct report *r, const advisor_input *in)
{
	size_t judged = 0, low = 0;
	for (size_t i = 0; i < in->nviews; i++) {
		const advisor_view *v = &in->views[i];
		uint64_t total = v->hits + v->misses;
		if (total < MIN_VIEW_REQUESTS)
			continue;
		judged++;
		double hr = (double)v->hits / (double)total;
		if (hr >= LOW_HIT_RATE)
			continue;
		low++;
		unsigned tables = advisor_view_tables(v->name);
		uint64_t writes = 0;
		char tnames[256] = "";
		for (int t = 0; t < TBL__COUNT; t++)
			if (tables & TBL_BIT(t) && in->writes[t]) {
				writes += in->writes[t];
				snprintf(tnames + strlen(tnames), sizeof tnames - strlen(tnames), "%s%s (%llu)",
					 *tnames ? ", " : "", advisor_table_name((store_table)t),
					 (unsigned long long)in->writes[t]);
			}
		double minutes = in->window_s / 60;
		double write_interval = writes ? in->window_s / (double)writes : INFINITY;
		bool full = in->l1_max_bytes > 0 && (double)in->l1_bytes >= 0.9 * (double)in->l1_max_bytes;
		char cause[600], action[400];
		if (!in->cache_enabled) {
			snprintf(cause, sizeof cause, "the response cache is off ([cache] memory_bytes = 0)");
			snprintf(action, sizeof action, "Turn the cache on: [cache] memory_bytes = 64MiB.");
		} else if (writes && write_interval < (double)in->ttl_s) {
			snprintf(cause, sizeof cause,
				 "the data it reads changes every %.0f s on average (%llu writes in %.0f min: %s); each "
				 "write makes its cached answers unreachable, so a hit needs two requests between writes",
				 write_interval, (unsigned long long)writes, minutes, tnames);
			snprintf(action, sizeof action,
				 "Batch the writes (one import instead of many small ones), or accept the misses: the "
				 "cache is exact, a longer TTL would not help.");
		} else if (in->l1_expirations > in->l1_evictions && in->l1_expirations > 0) {
			snprintf(cause, sizeof cause,
				 "entries expire before its data changes: the TTL is %lld s while its tables had %s in "
				 "the last %.0f min, and L1 dropped %llu entries by TTL against %llu to make room",
				 (long long)in->ttl_s, writes ? tnames : "no writes", minutes,
				 (unsigned long long)in->l1_expirations, (unsigned long long)in->l1_evictions);
			double want = writes ? write_interval * 2 : (double)in->ttl_s * 6;
			if (want > 86400)
				want = 86400;
			snprintf(action, sizeof action,
				 "Raise [cache] ttl_seconds to about %.0f: freshness does not depend on it (keys embed "
				 "data versions), only memory does.",
				 want);
		} else if (full && in->l1_evictions) {
			snprintf(cause, sizeof cause,
				 "the cache is full (%llu of %lld bytes) and evicted %llu entries: its answers are pushed "
				 "out before they are asked again",
				 (unsigned long long)in->l1_bytes, (long long)in->l1_max_bytes,
				 (unsigned long long)in->l1_evictions);
			snprintf(action, sizeof action, "Raise [cache] memory_bytes to about %lld.",
				 (long long)in->l1_max_bytes * 2);
		} else {
			snprintf(cause, sizeof cause,
				 "its requests rarely repeat: parameters (dates, ranges) differ between requests, so "
				 "each is a new key");
			snprintf(action, sizeof action,
				 "Round the ranges clients ask for (whole months, 'today'), or warm the common ones.");
		}
		char title[160], detail[900], ev[512];
		snprintf(title, sizeof title, "View %s is served from the cache only %.0f%% of the time", v->name,
			 hr * 100);
		snprintf(detail, sizeof detail, "%llu of %llu answers were computed; likely cause: %s.",
			 (unsigned long long)v->misses, (unsigned long long)total, cause);
		snprintf(ev, sizeof ev,
			 "{\"view\":\"%s\",\"hits\":%llu,\"misses\":%llu,\"hit_rate\":%.4f,\"writes_in_window\":%llu,"
			 "\"window_seconds\":%.0f,\"ttl_seconds\":%lld,\"l1_expirations\":%llu,\"l1_evictions\":%llu}",
			 v->name, (unsigned long long)v->hits, (unsigned long long)v->misses, hr,
			 (unsigned long long)writes, in->window_s, (long long)in->ttl_s,
			 (unsigned long long)in->l1_expirations, (unsigned long long)in->l1_evictions);
		rec_add(r, SEV_WARNING, "view_hit_rate", title, detail, action, ev);
	}
	check_note(r, "view_hit_rate", low == 0, "%zu views with %d+ requests judged; %zu below %.0f%%", judged,
		   MIN_VIEW_REQUESTS, low, LOW_HIT_RATE * 100);
}

/* ---- slow_route ---- */

static void check_routes(struct report *r, const advisor_input *in)
{
	size_t judged = 0, slow = 0;
	qstats_stmt top[3];
	size_t ntop = qstats_top(top, 3);
	for (size_t i = 0; i < in->nroutes; i++) {
		const advisor_route *rt = &in->routes[i];
		if (rt->cls == 0 || rt->count < MIN_ROUTE_REQUESTS || !isfinite(rt->p95_ms))
			continue;
		judged++;
		double limit = rt->cls == 1 ? in->dash_warn_ms : in->api_warn_ms;
		if (rt->p95_ms <= limit)
			continue;
		slow++;
		buf_t ev = BUF_INIT;
		buf_printf(&ev, "{\"route\":\"%s\",\"requests_15m\":%llu,\"p95_ms\":%.1f,\"threshold_ms\":%.0f,"
				"\"top_statements\":[",
			   rt->name, (unsigned long long)rt->count, rt->p95_ms, limit);
		for (size_t k = 0; k < ntop; k++) {
			buf_puts(&ev, k ? ",{\"sql\":" : "{\"sql\":");
			buf_json_str(&ev, top[k].text, strlen(top[k].text));
			buf_printf(&ev, ",\"total_ms\":%.1f,\"count\":%llu}", top[k].total_s * 1e3,
				   (unsigned long long)top[k].count);
		}
		buf_puts(&ev, "]}");
		char title[160], detail[400];
		snprintf(title, sizeof title, "Route %s is slow: p95 %.0f ms over 15 minutes", rt->name, rt->p95_ms);
		snprintf(detail, sizeof detail,
			 "Its p95 is above the %.0f ms threshold of its class over %llu requests. The statements that "
			 "took the most store time are in the evidence.",
			 limit, (unsigned long long)rt->count);
		rec_add(r, rt->p95_ms > 2 * limit ? SEV_CRITICAL : SEV_WARNING, "slow_route", title, detail,
			"Look at the top statements' plans (see plan_scan) and at the view's hit rate; a dashboard "
			"view should read rollups and be served from the cache.",
			ev.p);
		buf_free(&ev);
	}
	check_note(r, "slow_route", slow == 0, "%zu routes with %d+ requests in 15 min judged; %zu above threshold",
		   judged, MIN_ROUTE_REQUESTS, slow);
}

/* ---- wal_growth ---- */

static void check_wal(struct report *r, const advisor_input *in)
{
	bool big = in->wal_bytes > WAL_LARGE_BYTES && in->wal_bytes > in->db_bytes / 2;
	bool growing = isfinite(in->wal_growth_bytes_per_min) && in->wal_growth_bytes_per_min > WAL_GROWTH_PER_MIN;
	if (big || growing) {
		char title[160], detail[500], ev[256];
		snprintf(title, sizeof title, "The write-ahead log is %.0f MiB%s", (double)in->wal_bytes / 1048576,
			 growing ? " and growing" : "");
		snprintf(detail, sizeof detail,
			 "The WAL is %.0f MiB beside a %.0f MiB database%s. It only shrinks when a checkpoint can "
			 "finish, which a long read transaction (an export, a stuck request) prevents; every read "
			 "then searches a longer log.",
			 (double)in->wal_bytes / 1048576, (double)in->db_bytes / 1048576,
			 growing ? " and grew steadily over the window" : "");
		snprintf(ev, sizeof ev, "{\"wal_bytes\":%lld,\"db_bytes\":%lld,\"growth_bytes_per_min\":%.0f}",
			 (long long)in->wal_bytes, (long long)in->db_bytes,
			 isfinite(in->wal_growth_bytes_per_min) ? in->wal_growth_bytes_per_min : 0.0);
		rec_add(r, growing ? SEV_WARNING : SEV_INFO, "wal_growth", title, detail,
			"Find long-running readers (exports, stuck requests) and end them; then run "
			"PRAGMA wal_checkpoint(TRUNCATE) at a quiet moment. Large imports in one transaction also "
			"grow the WAL until they commit.",
			ev);
	}
	check_note(r, "wal_growth", !(big || growing), "WAL %.1f MiB, database %.1f MiB",
		   (double)in->wal_bytes / 1048576, (double)in->db_bytes / 1048576);
}

/* ---- cache_size ---- */

static void check_cache_size(struct report *r, const advisor_input *in)
{
	bool full = in->l1_max_bytes > 0 && (double)in->l1_bytes >= 0.9 * (double)in->l1_max_bytes;
	/* Evictions against misses: how many computations may be for answers
	 * that were cached once and pushed out. */
	bool churn = in->l1_evictions > 0 && in->l1_misses > 0 &&
		     (double)in->l1_evictions >= 0.2 * (double)in->l1_misses;
	if (in->cache_enabled && full && churn) {
		char title[160], detail[500], action[200], ev[300];
		snprintf(title, sizeof title, "The memory cache is too small: %llu evictions while full",
			 (unsigned long long)in->l1_evictions);
		snprintf(detail, sizeof detail,
			 "L1 holds %llu entries in %.1f of %.1f MiB and has evicted %llu live entries against %llu "
			 "misses: answers people ask for again are pushed out and computed again.",
			 (unsigned long long)in->l1_entries, (double)in->l1_bytes / 1048576,
			 (double)in->l1_max_bytes / 1048576, (unsigned long long)in->l1_evictions,
			 (unsigned long long)in->l1_misses);
		snprintf(action, sizeof action, "Raise [cache] memory_bytes to about %.0f MiB.",
			 (double)in->l1_max_bytes * 2 / 1048576);
		snprintf(ev, sizeof ev,
			 "{\"l1_bytes\":%llu,\"l1_max_bytes\":%lld,\"l1_entries\":%llu,\"l1_evictions\":%llu,"
			 "\"l1_misses\":%llu}",
			 (unsigned long long)in->l1_bytes, (long long)in->l1_max_bytes,
			 (unsigned long long)in->l1_entries, (unsigned long long)in->l1_evictions,
			 (unsigned long long)in->l1_misses);
		rec_add(r, SEV_WARNING, "cache_size", title, detail, action, ev);
	}
	check_note(r, "cache_size", !(in->cache_enabled && full && churn),
		   "L1 %s: %.1f of %.1f MiB, %llu evictions, %llu misses", in->cache_enabled ? "on" : "off",
		   (double)in->l1_bytes / 1048576, (double)in->l1_max_bytes / 1048576,
		   (unsigned long long)in->l1_evictions, (unsigned long long)in->l1_misses);
}

/* ---- slow_queries ---- */

static void check_slow(struct report *r)
{
	qstats_totals t;
	qstats_get_totals(&t);
	if (t.slow) {
		qstats_stmt top[1];
		size_t n = qstats_top(top, 1);
		char title[160], detail[700];
		snprintf(title, sizeof title, "%llu statements ran slower than %.0f ms", (unsigned long long)t.slow,
			 qstats_threshold() * 1e3);
		snprintf(detail, sizeof detail,
			 "GET /api/v1/performance/slow-queries lists the last ones with their parameter shapes. The "
			 "statement with the most store time overall: %.400s",
			 n ? top[0].text : "(none)");
		char ev[128];
		snprintf(ev, sizeof ev, "{\"slow\":%llu,\"executions\":%llu}", (unsigned long long)t.slow,
			 (unsigned long long)t.executions);
		rec_add(r, SEV_INFO, "slow_queries", title, detail,
			"Read their plans with EXPLAIN QUERY PLAN; a write held up by a long import shows here too.", ev);
	}
	check_note(r, "slow_queries", t.slow == 0, "%llu of %llu statements above %.0f ms", (unsigned long long)t.slow,
		   (unsigned long long)t.executions, qstats_threshold() * 1e3);
}
