#include "store/schema_recent.h"

#include "store/schema_pg.h"
#include "store/searchidx.h"

/* The list continues schema.c's (see its DESIGN): append new migrations
 * at the end, never edit one that has shipped. */

/* PostgreSQL, migration 22: table t's org checked once per statement. */
#define ORG_CHECK(t)                                                                                         \
	"ALTER TABLE " t " DROP CONSTRAINT " t "_org_fkey;"                                                       \
	"CREATE TRIGGER " t "_org_ins AFTER INSERT ON " t " REFERENCING NEW TABLE AS new_rows"                    \
	"  FOR EACH STATEMENT EXECUTE FUNCTION org_named_rows();"                                                 \
	"CREATE TRIGGER " t "_org_upd AFTER UPDATE ON " t " REFERENCING NEW TABLE AS new_rows"                    \
	"  FOR EACH STATEMENT EXECUTE FUNCTION org_named_rows();"

const schema_migration schema_recent[] = {
	/* 18: how far each table's search index goes (searchidx.c): rows up to
	 * rid are indexed, those above are scanned by a search until the
	 * background catch-up indexes them, so a large import commits without
	 * building the index in its transaction. Everything is indexed now. */
	{.sql = "CREATE TABLE search_mark(tbl INTEGER PRIMARY KEY, rid INTEGER NOT NULL);"
	"INSERT INTO search_mark SELECT 1, coalesce(max(rid), 0) FROM costs;"
	"INSERT INTO search_mark SELECT 2, coalesce(max(rid), 0) FROM sales_orders;"
	"INSERT INTO search_mark SELECT 3, coalesce(max(rid), 0) FROM invoices;"
	"INSERT INTO search_mark SELECT 4, coalesce(max(rid), 0) FROM payments;"
	"INSERT INTO search_mark SELECT 5, coalesce(max(rid), 0) FROM leads;",
	 /* PostgreSQL: its trigram indexes are kept by the table writes */
	 .pg = "SELECT 1;"},
	/* 19: PostgreSQL keeps open_recv once per statement from its transition
	 * tables, not once per row: a row trigger updating the same (org, due
	 * date) row for every invoice of an import walks that row's growing
	 * chain of versions in one transaction (quadratic: 150k invoices due
	 * the same day took minutes). SQLite updates in place: unchanged. */
	{.sql = "SELECT 1;",
	 .pg = "DROP TRIGGER open_recv_ins ON invoices;"
	 "DROP TRIGGER open_recv_del ON invoices;"
	 "DROP TRIGGER open_recv_upd ON invoices;"
	 "DROP FUNCTION open_recv_keep();"
	 "CREATE FUNCTION open_recv_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	 "  IF TG_OP = 'INSERT' THEN"
	 "    INSERT INTO open_recv(org, due_date, cnt, total)"
	 "      SELECT org, due_date, count(*), sum(outstanding) FROM new_rows"
	 "      WHERE outstanding > 0 AND status <> 'void' AND currency = '' GROUP BY org, due_date"
	 "      ON CONFLICT(org, due_date) DO UPDATE SET cnt = open_recv.cnt + excluded.cnt,"
	 "      total = open_recv.total + excluded.total;"
	 "  ELSIF TG_OP = 'DELETE' THEN"
	 "    UPDATE open_recv SET cnt = open_recv.cnt - d.c, total = open_recv.total - d.t"
	 "      FROM (SELECT org, due_date, count(*) AS c, sum(outstanding) AS t FROM old_rows"
	 "            WHERE outstanding > 0 AND status <> 'void' AND currency = '' GROUP BY org, due_date) d"
	 "      WHERE open_recv.org = d.org AND open_recv.due_date = d.due_date;"
	 "  ELSE"
	 "    INSERT INTO open_recv(org, due_date, cnt, total)"
	 "      SELECT org, due_date, sum(c), sum(t) FROM ("
	 "        SELECT org, due_date, -1 AS c, -outstanding AS t FROM old_rows"
	 "          WHERE outstanding > 0 AND status <> 'void' AND currency = ''"
	 "        UNION ALL SELECT org, due_date, 1, outstanding FROM new_rows"
	 "          WHERE outstanding > 0 AND status <> 'void' AND currency = '') x"
	 "      GROUP BY org, due_date HAVING sum(c) <> 0 OR sum(t) <> 0"
	 "      ON CONFLICT(org, due_date) DO UPDATE SET cnt = open_recv.cnt + excluded.cnt,"
	 "      total = open_recv.total + excluded.total;"
	 "  END IF;"
	 "  RETURN NULL;"
	 "END $$;"
	 "CREATE TRIGGER open_recv_ins AFTER INSERT ON invoices REFERENCING NEW TABLE AS new_rows"
	 "  FOR EACH STATEMENT EXECUTE FUNCTION open_recv_rows();"
	 "CREATE TRIGGER open_recv_del AFTER DELETE ON invoices REFERENCING OLD TABLE AS old_rows"
	 "  FOR EACH STATEMENT EXECUTE FUNCTION open_recv_rows();"
	 "CREATE TRIGGER open_recv_upd AFTER UPDATE ON invoices REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
	 "  FOR EACH STATEMENT EXECUTE FUNCTION open_recv_rows();"},
	/* 20: PostgreSQL: the response cache instances share without Redis
	 * (store_shared_*, src/store/pg_lock.c); UNLOGGED, a crash may empty
	 * it. SQLite has none (one machine: the disk tier, L3). */
	{.sql = "SELECT 1;",
	 .pg = "CREATE UNLOGGED TABLE brisk_cache(k BYTEA PRIMARY KEY, v BYTEA NOT NULL, expires_ms BIGINT NOT NULL);"},
	/* 21: PostgreSQL's search index leaves the import's transaction, as
	 * SQLite's did in 18: the trigram index moves from the tables to a
	 * t_fts table per kind (searchidx.h) that search_mark says how far
	 * goes; a GIN insert per row made an import 5x slower. */
	{.sql = "SELECT 1;",
	 .pg = "CREATE TABLE search_mark(tbl BIGINT PRIMARY KEY, rid BIGINT NOT NULL);"
	 SEARCH_PG_TABLE("costs", SEARCH_PG_BODY_COSTS, "1")
	 SEARCH_PG_TABLE("sales_orders", SEARCH_PG_BODY_SALES_ORDERS, "2")
	 SEARCH_PG_TABLE("invoices", SEARCH_PG_BODY_INVOICES, "3")
	 SEARCH_PG_TABLE("payments", SEARCH_PG_BODY_PAYMENTS, "4")
	 SEARCH_PG_TABLE("leads", SEARCH_PG_BODY_LEADS, "5")},
	/* 22: PostgreSQL checks that the five kinds' rows name an existing org
	 * once per statement (over its transition table) instead of once per
	 * row (the foreign key's trigger, a third of an import's INSERT);
	 * deleting an org that rows still name fails as before. SQLite keeps
	 * its foreign keys (checked in place, cheaply). */
	{.sql = "SELECT 1;",
	 .pg = "CREATE FUNCTION org_named_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	 "  IF EXISTS (SELECT 1 FROM (SELECT DISTINCT org FROM new_rows) n"
	 "             WHERE NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = n.org)) THEN"
	 "    RAISE EXCEPTION 'insert or update on table \"%\" violates foreign key constraint \"%_org_fkey\"',"
	 "      TG_TABLE_NAME, TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation';"
	 "  END IF;"
	 "  RETURN NULL;"
	 "END $$;"
	 "CREATE FUNCTION org_keeps_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	 "  IF EXISTS (SELECT 1 FROM old_rows o WHERE EXISTS (SELECT 1 FROM costs t WHERE t.org = o.id)"
	 "      OR EXISTS (SELECT 1 FROM sales_orders t WHERE t.org = o.id)"
	 "      OR EXISTS (SELECT 1 FROM invoices t WHERE t.org = o.id)"
	 "      OR EXISTS (SELECT 1 FROM payments t WHERE t.org = o.id)"
	 "      OR EXISTS (SELECT 1 FROM leads t WHERE t.org = o.id)) THEN"
	 "    RAISE EXCEPTION 'delete on table \"orgs\" violates a foreign key: rows still name the organisation'"
	 "      USING ERRCODE = 'foreign_key_violation';"
	 "  END IF;"
	 "  RETURN NULL;"
	 "END $$;"
	 "CREATE TRIGGER orgs_keep AFTER DELETE ON orgs REFERENCING OLD TABLE AS old_rows"
	 "  FOR EACH STATEMENT EXECUTE FUNCTION org_keeps_rows();"
	 ORG_CHECK("costs") ORG_CHECK("sales_orders") ORG_CHECK("invoices") ORG_CHECK("payments") ORG_CHECK("leads")},
	/* 23: a data set's own data version, bumped by each write of its rows
	 * (dsrollup_flush): its views' cache keys embed it, so an import into
	 * one data set leaves the others' cached answers valid. */
	{.sql = "ALTER TABLE datasets ADD COLUMN version INTEGER NOT NULL DEFAULT 0;",
	 .pg = "ALTER TABLE datasets ADD COLUMN version BIGINT NOT NULL DEFAULT 0;"},
	/* 24: PostgreSQL: allocations' three foreign keys checked per
	 * statement (schema_pg.h). SQLite keeps its foreign keys. */
	{.sql = "SELECT 1;", .pg = ALLOC_CHECK_PG},
	/* 25: invoices_open keyed (org, issue_date), not (org, due_date,
	 * issue_date, outstanding): aging reads open_recv since 4, and the
	 * index's readers (the matcher's open invoices, match explain) only
	 * select its rows, the matcher in issue date order, which this key
	 * now gives without a sort. Its entries are 40% smaller, and an
	 * import in date order appends them instead of inserting them among
	 * the due dates: 16% less CPU for a 1M-row invoice file. */
	{.sql = "DROP INDEX invoices_open;"
	"CREATE INDEX invoices_open ON invoices(org, issue_date) WHERE outstanding > 0 AND status <> 'void';"},
	/* 26: PostgreSQL: the rollup's key carries cnt and total, so a view's
	 * range read is an index-only scan (the rows of a range lie together
	 * in the index, scattered in the heap: 960 monthly rows of a two-year
	 * overview touched ~170 heap pages). It needs the visibility map:
	 * pg.c vacuums the rollup after a bulk load. SQLite's rollup is
	 * WITHOUT ROWID, clustered on its key already. */
	{.sql = "SELECT 1;",
	 .pg = "ALTER TABLE rollup DROP CONSTRAINT rollup_pkey,"
	 "  ADD CONSTRAINT rollup_pkey PRIMARY KEY(org, metric, day, dim) INCLUDE (cnt, total);"},
};

const int schema_recent_count = (int)(sizeof schema_recent / sizeof schema_recent[0]);
