/* fuzz_import: import_run over arbitrary CSV for the costs kind, into a
 * store in a temporary directory under /tmp that lives for the whole run.
 *
 * Byte 0 holds the option bits: delimiter (bits 0-1), windows-1252 (2), no
 * header (3), lenient money with decimal comma (4), date format %d/%m/%Y
 * (5), skip one line (6), dry run (7); the rest is the file. Checks after
 * every input, on a separate connection: the row count moved by exactly
 * "inserted" (not at all on failure or dry run), the counts add up, and the
 * rollup cells of costs equal a recomputation from the rows, the org's
 * magnitude row the sum of the absolute amounts. The tables
 * are emptied every 512 inputs to keep the store small. */
#include <ftw.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "core/log.h"
#include "ingest/import.h"
#include "store/rollup.h"
#include "store/store.h"

/* ROLLUP_MAGNITUDE as SQL text */
#define MAG "512"
_Static_assert(ROLLUP_MAGNITUDE == 512, "MAG follows ROLLUP_MAGNITUDE");

static char dir[] = "/tmp/brisk-fuzz-import-XXXXXX";
static store_t *store;
static sqlite3 *check_db;
static int64_t org;

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void cleanup(void)
{
	sqlite3_close(check_db);
	store_close(store);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[256] = "";
	log_set_level(LOG_ERROR);
	FUZZ_CHECK(mkdtemp(dir), "mkdtemp");
	store = store_open(dir, NULL, err, sizeof err);
	FUZZ_CHECK(store, "store_open: %s", err);
	org = store_org_id(store, "fuzz", true, err, sizeof err);
	FUZZ_CHECK(org >= 0, "org: %s", err);
	char path[sizeof dir + 16];
	snprintf(path, sizeof path, "%s/brisk.db", dir);
	FUZZ_CHECK(sqlite3_open(path, &check_db) == SQLITE_OK, "open %s", path);
	sqlite3_busy_timeout(check_db, 5000);
	atexit(cleanup);
	return 0;
}

static int64_t one_i64(const char *sql)
{
	sqlite3_stmt *st;
	FUZZ_CHECK(sqlite3_prepare_v2(check_db, sql, -1, &st, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(check_db));
	int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return v;
}

/* Rollup cells of costs (daily and monthly, by category and vendor) that
 * differ from a recomputation over the rows. */
static const char *const rollup_diff =
	"WITH exp(metric, day, dim, cnt, total) AS ("
	" SELECT 2, date, category, count(*), sum(amount) FROM costs GROUP BY date, category"
	" UNION ALL SELECT 3, date, vendor, count(*), sum(amount) FROM costs GROUP BY date, vendor),"
	" both AS (SELECT * FROM exp UNION ALL SELECT metric | 256,"
	"   day - (CAST(strftime('%d', day * 86400, 'unixepoch') AS INTEGER) - 1), dim, cnt, total FROM exp),"
	" want AS (SELECT metric, day, dim, sum(cnt) AS cnt, sum(total) AS total FROM both GROUP BY 1, 2, 3),"
	" have AS (SELECT metric, day, dim, cnt, total FROM rollup WHERE metric <> " MAG ")"
	" SELECT count(*) FROM (SELECT * FROM (SELECT * FROM want EXCEPT SELECT * FROM have)"
	" UNION ALL SELECT * FROM (SELECT * FROM have EXCEPT SELECT * FROM want))";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[] = {',', ';', '\t', '|'};
	static uint64_t runs;
	if (size < 1)
		return 0;
	uint8_t bits = data[0];
	import_opts o;
	memset(&o, 0, sizeof o);
	o.kind = ENT_COSTS;
	o.org = org;
	o.delimiter = delims[bits & 3];
	o.encoding = bits & 4 ? ENC_CP1252 : ENC_UTF8;
	o.no_header = bits & 8;
	if (bits & 16) {
		o.parse.money_lenient = true;
		o.parse.money = (money_opts){.decimal = ',', .thousands = '.', .symbols = true, .plus = true,
		                             .parens = true, .round = true};
	}
	o.parse.date_format = bits & 32 ? "%d/%m/%Y" : NULL;
	o.skip_lines = bits & 64 ? 1 : 0;
	o.dry_run = bits & 128;

	int64_t before = one_i64("SELECT count(*) FROM costs");
	fuzz_reader in = {data + 1, size - 1, 0, 0};
	import_result res;
	char err[512] = "";
	int rc = import_run(store, fuzz_read, &in, &o, &res, err, sizeof err);
	int64_t after = one_i64("SELECT count(*) FROM costs");

	FUZZ_CHECK(res.inserted >= 0 && res.replaced >= 0 && res.rejected >= 0, "negative counts");
	FUZZ_CHECK(res.nkept == (res.rejected < IMPORT_KEEP_REJECTS ? res.rejected : IMPORT_KEEP_REJECTS),
	           "kept %d of %lld rejections", res.nkept, (long long)res.rejected);
	for (int i = 0; i < res.nkept; i++)
		FUZZ_CHECK(res.kept[i].line >= 1 && res.kept[i].reason[0], "rejection %d", i);
	if (rc == 0 && !o.dry_run)
		FUZZ_CHECK(after == before + res.inserted, "%lld rows, was %lld, inserted %lld", (long long)after,
		           (long long)before, (long long)res.inserted);
	else
		FUZZ_CHECK(after == before, "rows changed (%lld -> %lld) by a %s", (long long)before, (long long)after,
		           rc ? "failed import" : "dry run");
	if (rc != 0)
		FUZZ_CHECK(err[0] && res.inserted == 0 && res.replaced == 0, "a failure without a reason or with counts");
	int64_t bad = one_i64(rollup_diff);
	FUZZ_CHECK(bad == 0, "%lld rollup cells differ from the rows", (long long)bad);
	/* the org's magnitude row bounds every total */
	bad = one_i64("SELECT (SELECT coalesce(sum(abs(amount)), 0) FROM costs)"
	              " - (SELECT coalesce(sum(total), 0) FROM rollup WHERE metric = " MAG ")");
	FUZZ_CHECK(bad == 0, "the magnitude row is off by %lld", (long long)bad);
	if (++runs % 512 == 0)
		FUZZ_CHECK(sqlite3_exec(check_db, "BEGIN IMMEDIATE; DELETE FROM costs; DELETE FROM rollup; COMMIT", NULL,
		                        NULL, NULL) == SQLITE_OK,
		           "reset: %s", sqlite3_errmsg(check_db));
	return 0;
}
