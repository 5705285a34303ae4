#include "store/sqlite_bulk.h"

#include <stdio.h>
#include <string.h>

/* DESIGN
 * Inserting a million rows into a table with secondary indexes writes
 * each index entry by entry, in the order of the rows (random for most
 * keys); CREATE INDEX over the loaded table sorts the entries once (on
 * two threads: PRAGMA threads) and writes each index page once. The
 * unique indexes stay, since they are the conflict targets the import's
 * statements name (ON CONFLICT(org, id)) and they keep rejecting what
 * they reject. Only a table with no row at all qualifies: its indexes
 * hold nothing that would have to be sorted again. SQLite's DDL is
 * transactional: a rollback or a crash brings the indexes back as they
 * were, and the commit (lite_commit) builds them before COMMIT, so no
 * path leaves the table without them. Other connections see the schema
 * change at the commit and prepare their statements again. */

bool lite_bulk_drop(sqlite3 *db, const char *table, buf_t *rebuild, char *err, size_t errlen)
{
	char *q = sqlite3_mprintf("SELECT 1 FROM main.\"%w\" LIMIT 1", table);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, q, -1, &st, NULL);
	sqlite3_free(q);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return true; /* rows: the indexes stay */
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return false;
	}
	static const char *list = "SELECT name, sql FROM main.sqlite_master WHERE type = 'index' AND tbl_name = ? "
	                          "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'";
	if (sqlite3_prepare_v2(db, list, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return false;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	buf_t names = BUF_INIT;
	size_t before = rebuild->len;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		buf_printf(&names, "DROP INDEX main.\"%s\";", (const char *)sqlite3_column_text(st, 0));
		buf_printf(rebuild, "%s;", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	bool ok = rc == SQLITE_DONE && (!names.len || sqlite3_exec(db, names.p, NULL, NULL, NULL) == SQLITE_OK);
	if (!ok) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		rebuild->len = before;
		if (rebuild->p)
			rebuild->p[before] = 0;
	}
	buf_free(&names);
	return ok;
}

int lite_bulk_rebuild(sqlite3 *db, buf_t *rebuild, char *err, size_t errlen)
{
	if (!rebuild->len)
		return 0;
	sqlite3_exec(db, "PRAGMA threads = 2", NULL, NULL, NULL);
	int rc = sqlite3_exec(db, rebuild->p, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "building the indexes after a bulk import: %s", sqlite3_errmsg(db));
	sqlite3_exec(db, "PRAGMA threads = 0", NULL, NULL, NULL);
	buf_reset(rebuild);
	return rc == SQLITE_OK ? 0 : -1;
}

/* DESIGN (triggers)
 * A row trigger is a program SQLite runs for every row (open_recv_ins:
 * an upsert into open_recv per invoice, a quarter of an invoice import's
 * CPU at 1M rows); a loader that sums the same deltas in memory and
 * writes them once per key does the work in a few hundred statements.
 * The trigger is dropped inside the transaction and created again, from
 * the text sqlite_master held, before COMMIT, as the dropped indexes are:
 * no committed state lacks it. */
int lite_bulk_suspend_trigger(sqlite3 *db, const char *name, buf_t *rebuild, char *err, size_t errlen)
{
	static const char *get = "SELECT sql FROM main.sqlite_master WHERE type = 'trigger' AND name = ?";
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, get, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	size_t before = rebuild->len;
	buf_printf(rebuild, "%s;", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	char *drop = sqlite3_mprintf("DROP TRIGGER main.\"%w\"", name);
	rc = sqlite3_exec(db, drop, NULL, NULL, NULL);
	sqlite3_free(drop);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		rebuild->len = before;
		if (rebuild->p)
			rebuild->p[before] = 0;
		return -1;
	}
	return 1;
}
