#include "store/schema.h"

#include <stddef.h>

#include "core/mem.h"
#include "store/dialect.h"
#include "store/schema_recent.h"
#include "store/searchidx.h"

/* DESIGN
 * Dates are INTEGER days since 1970-01-01 and money INTEGER cents: compact
 * keys, exact sums, and the same representation as in memory. Every entity
 * has an integer rid (cheap joins, stable keyset cursors) and the user's
 * text id unique per org (the upsert key). Indexes exist for the dashboard
 * and list paths only: each one costs import speed. tests/unit/test_store.c
 * runs EXPLAIN QUERY PLAN over the dashboard queries and fails on a scan.
 *
 * rollup holds per-(org, metric, day, dim) count and total, maintained in
 * the same transaction as the rows (see rollup.c). Monthly rows (metric
 * with ROLLUP_MONTHLY set, day = first of month) keep long ranges over
 * high-cardinality dims (customers, vendors) small.
 *
 * One list serves both backends: PostgreSQL runs each migration's SQLite
 * text through dialect_pg_ddl (BIGINT for INTEGER, identity rids, ...),
 * unless the entry gives its own PostgreSQL text (triggers: plpgsql).
 * Write new migrations in the subset both read; add a .pg text only for
 * what cannot be (triggers, SQLite-only functions).
 *
 * Never edit a migration that has shipped: append a new one (at the end
 * of schema_recent.c's list, which continues this one). */

static const schema_migration migrations[] = {
	/* 1: the base schema */
	{.sql =
	"CREATE TABLE orgs("
	"  id INTEGER PRIMARY KEY,"
	"  slug TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL,"
	"  currency TEXT NOT NULL DEFAULT 'USD',"
	"  opening_balance INTEGER NOT NULL DEFAULT 0,"
	"  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"
	"CREATE TABLE tokens("
	"  id INTEGER PRIMARY KEY,"
	"  org INTEGER NOT NULL REFERENCES orgs(id),"
	"  hash BLOB NOT NULL UNIQUE,"
	"  label TEXT NOT NULL DEFAULT '',"
	"  role TEXT NOT NULL DEFAULT 'admin',"
	"  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
	"  revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE data_versions("
	"  org INTEGER NOT NULL, tbl INTEGER NOT NULL, version INTEGER NOT NULL,"
	"  PRIMARY KEY(org, tbl)) WITHOUT ROWID;"
	"CREATE TABLE costs("
	"  rid INTEGER PRIMARY KEY,"
	"  org INTEGER NOT NULL REFERENCES orgs(id),"
	"  id TEXT NOT NULL,"
	"  date INTEGER NOT NULL,"
	"  category TEXT NOT NULL,"
	"  amount INTEGER NOT NULL,"
	"  vendor TEXT NOT NULL DEFAULT '',"
	"  description TEXT NOT NULL DEFAULT '');"
	"CREATE UNIQUE INDEX costs_id ON costs(org, id);"
	"CREATE INDEX costs_date ON costs(org, date);"
	"CREATE TABLE sales_orders("
	"  rid INTEGER PRIMARY KEY,"
	"  org INTEGER NOT NULL REFERENCES orgs(id),"
	"  id TEXT NOT NULL,"
	"  date INTEGER NOT NULL,"
	"  customer TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  amount INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX sales_orders_id ON sales_orders(org, id);"
	"CREATE INDEX sales_orders_date ON sales_orders(org, date);"
	"CREATE TABLE invoices("
	"  rid INTEGER PRIMARY KEY,"
	"  org INTEGER NOT NULL REFERENCES orgs(id),"
	"  id TEXT NOT NULL,"
	"  number TEXT NOT NULL,"
	"  customer TEXT NOT NULL,"
	"  customer_id TEXT NOT NULL DEFAULT '',"
	"  issue_date INTEGER NOT NULL,"
	"  due_date INTEGER NOT NULL,"
	"  amount INTEGER NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'open',"
	"  outstanding INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX invoices_id ON invoices(org, id);"
	"CREATE INDEX invoices_issue ON invoices(org, issue_date);"
	/* Receivables read only the open invoices: a partial index keeps aging
	 * proportional to what is unpaid, not to history. */
	"CREATE INDEX invoices_open ON invoices(org, due_date, issue_date, outstanding)"
	"  WHERE outstanding > 0 AND status <> 'void';"
	"CREATE TABLE payments("
	"  rid INTEGER PRIMARY KEY,"
	"  org INTEGER NOT NULL REFERENCES orgs(id),"
	"  id TEXT NOT NULL,"
	"  date INTEGER NOT NULL,"
	"  payer TEXT NOT NULL,"
	"  amount INTEGER NOT NULL,"
	"  reference TEXT NOT NULL DEFAULT '',"
	"  customer_id TEXT NOT NULL DEFAULT '');"
	"CREATE UNIQUE INDEX payments_id ON payments(org, id);"
	"CREATE INDEX payments_date ON payments(org, date);"
	"CREATE TABLE leads("
	"  rid INTEGER PRIMARY KEY,"
	"  org INTEGER NOT NULL REFERENCES orgs(id),"
	"  id TEXT NOT NULL,"
	"  created_at TEXT NOT NULL,"
	"  created_date INTEGER NOT NULL,"
	"  creator TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  mobile TEXT NOT NULL DEFAULT '',"
	"  source TEXT NOT NULL DEFAULT '',"
	"  followup_date INTEGER,"
	"  value INTEGER);"
	"CREATE UNIQUE INDEX leads_id ON leads(org, id);"
	"CREATE INDEX leads_created ON leads(org, created_date);"
	/* Follow-ups are asked about open leads only. */
	"CREATE INDEX leads_followup ON leads(org, followup_date, creator)"
	"  WHERE followup_date IS NOT NULL AND status NOT IN ('won','lost');"
	"CREATE TABLE allocations("
	"  rid INTEGER PRIMARY KEY,"
	"  org INTEGER NOT NULL REFERENCES orgs(id),"
	"  payment INTEGER NOT NULL REFERENCES payments(rid) ON DELETE CASCADE,"
	"  invoice INTEGER NOT NULL REFERENCES invoices(rid) ON DELETE CASCADE,"
	"  amount INTEGER NOT NULL,"
	"  pay_date INTEGER NOT NULL,"
	"  rule TEXT NOT NULL,"
	"  confidence REAL NOT NULL,"
	"  state TEXT NOT NULL,"
	"  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"
	"CREATE INDEX allocations_payment ON allocations(payment);"
	"CREATE INDEX allocations_invoice ON allocations(invoice);"
	"CREATE INDEX allocations_date ON allocations(org, pay_date);"
	"CREATE TABLE rollup("
	"  org INTEGER NOT NULL, metric INTEGER NOT NULL, day INTEGER NOT NULL,"
	"  dim TEXT NOT NULL, cnt INTEGER NOT NULL, total INTEGER NOT NULL,"
	"  PRIMARY KEY(org, metric, day, dim)) WITHOUT ROWID;"},
	/* 2: payment behaviour reads paid invoices by due date; only
	 * reconciliation makes an invoice paid, so imports do not pay for it. */
	{.sql = "CREATE INDEX invoices_paid_due ON invoices(org, due_date) WHERE status = 'paid';"},
	/* 3: background task records (src/tasks/taskrec.c). Files live under
	 * DATA/tasks; the row names them. The partial index keeps the restart
	 * scan (running, pending) and the cancel poll independent of history. */
	{.sql = "CREATE TABLE tasks("
	"  id INTEGER PRIMARY KEY,"
	"  org INTEGER NOT NULL REFERENCES orgs(id),"
	"  created_by TEXT NOT NULL DEFAULT '',"
	"  kind TEXT NOT NULL,"
	"  priority INTEGER NOT NULL DEFAULT 1,"
	"  params TEXT NOT NULL DEFAULT '{}',"
	"  status TEXT NOT NULL DEFAULT 'pending',"
	"  progress INTEGER NOT NULL DEFAULT 0,"
	"  message TEXT NOT NULL DEFAULT '',"
	"  created_at TEXT NOT NULL,"
	"  started_at TEXT,"
	"  finished_at TEXT,"
	"  result TEXT,"
	"  result_file TEXT,"
	"  result_name TEXT,"
	"  result_type TEXT,"
	"  error TEXT,"
	"  input_file TEXT,"
	"  owner TEXT NOT NULL DEFAULT '',"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  cancel_requested INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX tasks_org ON tasks(org, id);"
	"CREATE INDEX tasks_active ON tasks(status, id) WHERE status IN ('pending', 'running');"},
	/* 4: open receivables by due date, kept by triggers on every write path
	 * (imports, API writes, reconciliation): aging today reads a few hundred
	 * rows instead of every open invoice. */
	{.sql = "CREATE TABLE open_recv("
	"  org INTEGER NOT NULL, due_date INTEGER NOT NULL, cnt INTEGER NOT NULL, total INTEGER NOT NULL,"
	"  PRIMARY KEY(org, due_date)) WITHOUT ROWID;"
	"INSERT INTO open_recv SELECT org, due_date, count(*), sum(outstanding) FROM invoices"
	"  WHERE outstanding > 0 AND status <> 'void' GROUP BY org, due_date;"
	"CREATE TRIGGER open_recv_ins AFTER INSERT ON invoices"
	"  WHEN NEW.outstanding > 0 AND NEW.status <> 'void' BEGIN"
	"  INSERT INTO open_recv VALUES(NEW.org, NEW.due_date, 1, NEW.outstanding)"
	"    ON CONFLICT(org, due_date) DO UPDATE SET cnt = cnt + 1, total = total + excluded.total;"
	"END;"
	"CREATE TRIGGER open_recv_del AFTER DELETE ON invoices"
	"  WHEN OLD.outstanding > 0 AND OLD.status <> 'void' BEGIN"
	"  UPDATE open_recv SET cnt = cnt - 1, total = total - OLD.outstanding"
	"    WHERE org = OLD.org AND due_date = OLD.due_date;"
	"END;"
	"CREATE TRIGGER open_recv_upd AFTER UPDATE OF outstanding, status, due_date, org ON invoices"
	"  WHEN OLD.outstanding IS NOT NEW.outstanding OR OLD.status IS NOT NEW.status"
	"    OR OLD.due_date IS NOT NEW.due_date OR OLD.org IS NOT NEW.org BEGIN"
	"  UPDATE open_recv SET cnt = cnt - 1, total = total - OLD.outstanding"
	"    WHERE OLD.outstanding > 0 AND OLD.status <> 'void' AND org = OLD.org AND due_date = OLD.due_date;"
	"  INSERT INTO open_recv SELECT NEW.org, NEW.due_date, 1, NEW.outstanding"
	"    WHERE NEW.outstanding > 0 AND NEW.status <> 'void'"
	"    ON CONFLICT(org, due_date) DO UPDATE SET cnt = cnt + 1, total = total + excluded.total;"
	"END;",
	 /* PostgreSQL: one plpgsql function for the three events */
	 .pg = "CREATE TABLE open_recv("
	 "  org BIGINT NOT NULL, due_date BIGINT NOT NULL, cnt BIGINT NOT NULL, total BIGINT NOT NULL,"
	 "  PRIMARY KEY(org, due_date));"
	 "INSERT INTO open_recv SELECT org, due_date, count(*), sum(outstanding) FROM invoices"
	 "  WHERE outstanding > 0 AND status <> 'void' GROUP BY org, due_date;"
	 "CREATE FUNCTION open_recv_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	 "  IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.outstanding > 0 AND OLD.status <> 'void' THEN"
	 "    UPDATE open_recv SET cnt = cnt - 1, total = total - OLD.outstanding"
	 "      WHERE org = OLD.org AND due_date = OLD.due_date;"
	 "  END IF;"
	 "  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.outstanding > 0 AND NEW.status <> 'void' THEN"
	 "    INSERT INTO open_recv VALUES(NEW.org, NEW.due_date, 1, NEW.outstanding)"
	 "      ON CONFLICT(org, due_date) DO UPDATE SET cnt = open_recv.cnt + 1,"
	 "      total = open_recv.total + excluded.total;"
	 "  END IF;"
	 "  RETURN NULL;"
	 "END $$;"
	 "CREATE TRIGGER open_recv_ins AFTER INSERT ON invoices FOR EACH ROW"
	 "  WHEN (NEW.outstanding > 0 AND NEW.status <> 'void') EXECUTE FUNCTION open_recv_keep();"
	 "CREATE TRIGGER open_recv_del AFTER DELETE ON invoices FOR EACH ROW"
	 "  WHEN (OLD.outstanding > 0 AND OLD.status <> 'void') EXECUTE FUNCTION open_recv_keep();"
	 "CREATE TRIGGER open_recv_upd AFTER UPDATE OF outstanding, status, due_date, org ON invoices FOR EACH ROW"
	 "  WHEN (OLD.outstanding IS DISTINCT FROM NEW.outstanding OR OLD.status IS DISTINCT FROM NEW.status"
	 "    OR OLD.due_date IS DISTINCT FROM NEW.due_date OR OLD.org IS DISTINCT FROM NEW.org)"
	 "  EXECUTE FUNCTION open_recv_keep();"},
	/* 5: each org's magnitude (rollup.h ROLLUP_MAGNITUDE = 512): the sum of
	 * |amount| over the rows that feed totals, which every write keeps below
	 * 2^62 so that no total can overflow. Amounts are clamped as rollup_add
	 * clamps them, so that old oversized rows cannot make this seed fail. */
	{.sql = "INSERT INTO rollup(org, metric, day, dim, cnt, total)"
	"  SELECT org, 512, 0, '', count(*), sum(abs(min(max(a, -999999999999999), 999999999999999))) FROM ("
	"    SELECT org, amount AS a FROM costs UNION ALL"
	"    SELECT org, amount FROM sales_orders UNION ALL"
	"    SELECT org, amount FROM invoices WHERE status <> 'void' UNION ALL"
	"    SELECT org, amount FROM payments UNION ALL"
	"    SELECT org, coalesce(value, 0) FROM leads) GROUP BY org;",
	 /* PostgreSQL: least/greatest for SQLite's scalar min/max; a named subquery */
	 .pg = "INSERT INTO rollup(org, metric, day, dim, cnt, total)"
	 "  SELECT org, 512, 0, '', count(*), sum(abs(least(greatest(a, -999999999999999), 999999999999999))) FROM ("
	 "    SELECT org, amount AS a FROM costs UNION ALL"
	 "    SELECT org, amount FROM sales_orders UNION ALL"
	 "    SELECT org, amount FROM invoices WHERE status <> 'void' UNION ALL"
	 "    SELECT org, amount FROM payments UNION ALL"
	 "    SELECT org, coalesce(value, 0) FROM leads) AS m GROUP BY org;"},
	/* 6: DATA.md, void invoices are never outstanding: imports stored their
	 * amount (lists and exports showed it). Void rows were never in
	 * open_recv, so its triggers change nothing. */
	{.sql = "UPDATE invoices SET outstanding = 0 WHERE status = 'void' AND outstanding <> 0;"},
	/* 7: which options read each imported file (src/ingest/import.c): a
	 * file imported again with another mapping is said, not doubled. */
	{.sql = "CREATE TABLE import_files("
	"  org INTEGER NOT NULL REFERENCES orgs(id),"
	"  entity TEXT NOT NULL,"
	"  file_hash TEXT NOT NULL,"
	"  options_hash TEXT NOT NULL,"
	"  imported_at TEXT NOT NULL,"
	"  PRIMARY KEY(org, entity, file_hash));"},
	/* 8: payments and invoices carry a currency: '' is the organisation's
	 * own (orgs.currency), else the ISO 4217 code of a foreign one. Foreign
	 * rows never count in the org-currency figures: open_recv keeps the
	 * org's currency only (the triggers are rebuilt with that condition). */
	{.sql = "ALTER TABLE payments ADD COLUMN currency TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE invoices ADD COLUMN currency TEXT NOT NULL DEFAULT '';"
	"DROP TRIGGER open_recv_ins;"
	"DROP TRIGGER open_recv_del;"
	"DROP TRIGGER open_recv_upd;"
	"CREATE TRIGGER open_recv_ins AFTER INSERT ON invoices"
	"  WHEN NEW.outstanding > 0 AND NEW.status <> 'void' AND NEW.currency = '' BEGIN"
	"  INSERT INTO open_recv VALUES(NEW.org, NEW.due_date, 1, NEW.outstanding)"
	"    ON CONFLICT(org, due_date) DO UPDATE SET cnt = cnt + 1, total = total + excluded.total;"
	"END;"
	"CREATE TRIGGER open_recv_del AFTER DELETE ON invoices"
	"  WHEN OLD.outstanding > 0 AND OLD.status <> 'void' AND OLD.currency = '' BEGIN"
	"  UPDATE open_recv SET cnt = cnt - 1, total = total - OLD.outstanding"
	"    WHERE org = OLD.org AND due_date = OLD.due_date;"
	"END;"
	"CREATE TRIGGER open_recv_upd AFTER UPDATE OF outstanding, status, due_date, org, currency ON invoices"
	"  WHEN OLD.outstanding IS NOT NEW.outstanding OR OLD.status IS NOT NEW.status"
	"    OR OLD.due_date IS NOT NEW.due_date OR OLD.org IS NOT NEW.org OR OLD.currency IS NOT NEW.currency BEGIN"
	"  UPDATE open_recv SET cnt = cnt - 1, total = total - OLD.outstanding"
	"    WHERE OLD.outstanding > 0 AND OLD.status <> 'void' AND OLD.currency = ''"
	"    AND org = OLD.org AND due_date = OLD.due_date;"
	"  INSERT INTO open_recv SELECT NEW.org, NEW.due_date, 1, NEW.outstanding"
	"    WHERE NEW.outstanding > 0 AND NEW.status <> 'void' AND NEW.currency = ''"
	"    ON CONFLICT(org, due_date) DO UPDATE SET cnt = cnt + 1, total = total + excluded.total;"
	"END;",
	 /* PostgreSQL: the same condition in the one trigger function */
	 .pg = "ALTER TABLE payments ADD COLUMN currency TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE invoices ADD COLUMN currency TEXT NOT NULL DEFAULT '';"
	 "DROP TRIGGER open_recv_ins ON invoices;"
	 "DROP TRIGGER open_recv_del ON invoices;"
	 "DROP TRIGGER open_recv_upd ON invoices;"
	 "CREATE OR REPLACE FUNCTION open_recv_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	 "  IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.outstanding > 0 AND OLD.status <> 'void' AND OLD.currency = '' THEN"
	 "    UPDATE open_recv SET cnt = cnt - 1, total = total - OLD.outstanding"
	 "      WHERE org = OLD.org AND due_date = OLD.due_date;"
	 "  END IF;"
	 "  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.outstanding > 0 AND NEW.status <> 'void' AND NEW.currency = '' THEN"
	 "    INSERT INTO open_recv VALUES(NEW.org, NEW.due_date, 1, NEW.outstanding)"
	 "      ON CONFLICT(org, due_date) DO UPDATE SET cnt = open_recv.cnt + 1,"
	 "      total = open_recv.total + excluded.total;"
	 "  END IF;"
	 "  RETURN NULL;"
	 "END $$;"
	 "CREATE TRIGGER open_recv_ins AFTER INSERT ON invoices FOR EACH ROW"
	 "  WHEN (NEW.outstanding > 0 AND NEW.status <> 'void' AND NEW.currency = '') EXECUTE FUNCTION open_recv_keep();"
	 "CREATE TRIGGER open_recv_del AFTER DELETE ON invoices FOR EACH ROW"
	 "  WHEN (OLD.outstanding > 0 AND OLD.status <> 'void' AND OLD.currency = '') EXECUTE FUNCTION open_recv_keep();"
	 "CREATE TRIGGER open_recv_upd AFTER UPDATE OF outstanding, status, due_date, org, currency ON invoices"
	 "  FOR EACH ROW WHEN (OLD.outstanding IS DISTINCT FROM NEW.outstanding OR OLD.status IS DISTINCT FROM NEW.status"
	 "    OR OLD.due_date IS DISTINCT FROM NEW.due_date OR OLD.org IS DISTINCT FROM NEW.org"
	 "    OR OLD.currency IS DISTINCT FROM NEW.currency)"
	 "  EXECUTE FUNCTION open_recv_keep();"},
	/* 9: text search indexes (src/analytics/search.h). Contentless FTS5
	 * trigram tables, one per kind, rowid = the row's rid, over the searched
	 * columns joined by U+001F; detail=none and columnsize=0 keep them small
	 * and cheap to write (a search ANDs
	 * the trigrams of q and re-checks the columns, so false positives do
	 * not matter). Triggers queue each change in search_pending, which
	 * store_write_commit applies in one statement per table: SQLite 3.40's
	 * FTS5 flushes its buffer at every statement that writes it, so one
	 * FTS write per row made imports ten times slower. An update is queued
	 * only when a searched column changes. */
	{.sql = "CREATE TABLE search_pending(seq INTEGER PRIMARY KEY, tbl INTEGER NOT NULL, rid INTEGER NOT NULL,"
	"  del INTEGER NOT NULL, body TEXT NOT NULL);"
	"CREATE VIRTUAL TABLE costs_fts USING fts5(body, content='', detail='none', columnsize=0, tokenize='trigram');"
	"INSERT INTO costs_fts(rowid, body) SELECT rid, id || char(31) || category || char(31) || vendor || char(31) || description FROM costs;"
	"CREATE TRIGGER costs_fts_ins AFTER INSERT ON costs BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(1, NEW.rid, 0, NEW.id || char(31) || NEW.category || char(31) || NEW.vendor || char(31) || NEW.description);"
	"END;"
	"CREATE TRIGGER costs_fts_del AFTER DELETE ON costs BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(1, OLD.rid, 1, OLD.id || char(31) || OLD.category || char(31) || OLD.vendor || char(31) || OLD.description);"
	"END;"
	"CREATE TRIGGER costs_fts_upd AFTER UPDATE OF id, category, vendor, description ON costs BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(1, OLD.rid, 1, OLD.id || char(31) || OLD.category || char(31) || OLD.vendor || char(31) || OLD.description);"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(1, NEW.rid, 0, NEW.id || char(31) || NEW.category || char(31) || NEW.vendor || char(31) || NEW.description);"
	"END;"
	"CREATE VIRTUAL TABLE sales_orders_fts USING fts5(body, content='', detail='none', columnsize=0, tokenize='trigram');"
	"INSERT INTO sales_orders_fts(rowid, body) SELECT rid, id || char(31) || customer FROM sales_orders;"
	"CREATE TRIGGER sales_orders_fts_ins AFTER INSERT ON sales_orders BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(2, NEW.rid, 0, NEW.id || char(31) || NEW.customer);"
	"END;"
	"CREATE TRIGGER sales_orders_fts_del AFTER DELETE ON sales_orders BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(2, OLD.rid, 1, OLD.id || char(31) || OLD.customer);"
	"END;"
	"CREATE TRIGGER sales_orders_fts_upd AFTER UPDATE OF id, customer ON sales_orders BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(2, OLD.rid, 1, OLD.id || char(31) || OLD.customer);"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(2, NEW.rid, 0, NEW.id || char(31) || NEW.customer);"
	"END;"
	"CREATE VIRTUAL TABLE invoices_fts USING fts5(body, content='', detail='none', columnsize=0, tokenize='trigram');"
	"INSERT INTO invoices_fts(rowid, body) SELECT rid, id || char(31) || number || char(31) || customer || char(31) || customer_id FROM invoices;"
	"CREATE TRIGGER invoices_fts_ins AFTER INSERT ON invoices BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(3, NEW.rid, 0, NEW.id || char(31) || NEW.number || char(31) || NEW.customer || char(31) || NEW.customer_id);"
	"END;"
	"CREATE TRIGGER invoices_fts_del AFTER DELETE ON invoices BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(3, OLD.rid, 1, OLD.id || char(31) || OLD.number || char(31) || OLD.customer || char(31) || OLD.customer_id);"
	"END;"
	"CREATE TRIGGER invoices_fts_upd AFTER UPDATE OF id, number, customer, customer_id ON invoices BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(3, OLD.rid, 1, OLD.id || char(31) || OLD.number || char(31) || OLD.customer || char(31) || OLD.customer_id);"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(3, NEW.rid, 0, NEW.id || char(31) || NEW.number || char(31) || NEW.customer || char(31) || NEW.customer_id);"
	"END;"
	"CREATE VIRTUAL TABLE payments_fts USING fts5(body, content='', detail='none', columnsize=0, tokenize='trigram');"
	"INSERT INTO payments_fts(rowid, body) SELECT rid, id || char(31) || payer || char(31) || reference || char(31) || customer_id FROM payments;"
	"CREATE TRIGGER payments_fts_ins AFTER INSERT ON payments BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(4, NEW.rid, 0, NEW.id || char(31) || NEW.payer || char(31) || NEW.reference || char(31) || NEW.customer_id);"
	"END;"
	"CREATE TRIGGER payments_fts_del AFTER DELETE ON payments BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(4, OLD.rid, 1, OLD.id || char(31) || OLD.payer || char(31) || OLD.reference || char(31) || OLD.customer_id);"
	"END;"
	"CREATE TRIGGER payments_fts_upd AFTER UPDATE OF id, payer, reference, customer_id ON payments BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(4, OLD.rid, 1, OLD.id || char(31) || OLD.payer || char(31) || OLD.reference || char(31) || OLD.customer_id);"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(4, NEW.rid, 0, NEW.id || char(31) || NEW.payer || char(31) || NEW.reference || char(31) || NEW.customer_id);"
	"END;"
	"CREATE VIRTUAL TABLE leads_fts USING fts5(body, content='', detail='none', columnsize=0, tokenize='trigram');"
	"INSERT INTO leads_fts(rowid, body) SELECT rid, id || char(31) || name || char(31) || creator || char(31) || mobile || char(31) || source FROM leads;"
	"CREATE TRIGGER leads_fts_ins AFTER INSERT ON leads BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(5, NEW.rid, 0, NEW.id || char(31) || NEW.name || char(31) || NEW.creator || char(31) || NEW.mobile || char(31) || NEW.source);"
	"END;"
	"CREATE TRIGGER leads_fts_del AFTER DELETE ON leads BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(5, OLD.rid, 1, OLD.id || char(31) || OLD.name || char(31) || OLD.creator || char(31) || OLD.mobile || char(31) || OLD.source);"
	"END;"
	"CREATE TRIGGER leads_fts_upd AFTER UPDATE OF id, name, creator, mobile, source ON leads BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(5, OLD.rid, 1, OLD.id || char(31) || OLD.name || char(31) || OLD.creator || char(31) || OLD.mobile || char(31) || OLD.source);"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(5, NEW.rid, 0, NEW.id || char(31) || NEW.name || char(31) || NEW.creator || char(31) || NEW.mobile || char(31) || NEW.source);"
	"END;",
	 /* PostgreSQL: pg_trgm GIN indexes on the searched columns' expression
	  * (searchidx.h), which the dialect's LIKE names; kept by PostgreSQL
	  * itself, so no queue. pg_trgm is a trusted extension: the database's
	  * owner (or any role with CREATE on it) may create it. */
	 .pg = "CREATE EXTENSION IF NOT EXISTS pg_trgm;"
	 "CREATE INDEX costs_search ON costs USING gin ((" SEARCH_PG_BODY_COSTS ") gin_trgm_ops);"
	 "CREATE INDEX sales_orders_search ON sales_orders USING gin ((" SEARCH_PG_BODY_SALES_ORDERS ") gin_trgm_ops);"
	 "CREATE INDEX invoices_search ON invoices USING gin ((" SEARCH_PG_BODY_INVOICES ") gin_trgm_ops);"
	 "CREATE INDEX payments_search ON payments USING gin ((" SEARCH_PG_BODY_PAYMENTS ") gin_trgm_ops);"
	 "CREATE INDEX leads_search ON leads USING gin ((" SEARCH_PG_BODY_LEADS ") gin_trgm_ops);"},
	/* 10: the store's secret (src/store/secret.c), 32 random bytes as hex:
	 * list cursors and task ids shown to an org are sealed with it, so
	 * they reveal nothing about other orgs' rows or tasks. */
	{.sql = "CREATE TABLE server_keys(name TEXT PRIMARY KEY, secret TEXT NOT NULL);"
	"INSERT INTO server_keys VALUES('seal', lower(hex(randomblob(32))));",
	 .pg = "CREATE TABLE server_keys(name TEXT PRIMARY KEY, secret TEXT NOT NULL);"
	 "INSERT INTO server_keys VALUES('seal', md5(random()::text) || md5(random()::text));"},
	/* 11: business alerts (src/notify): rules with their state, the history
	 * of firings, the outbox of deliveries and each org's webhook signing
	 * secret. Ids are per organisation, so they say nothing of other orgs. */
	{.sql = "CREATE TABLE alert_rules("
	"  org INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
	"  id INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  figure TEXT NOT NULL,"
	"  op TEXT NOT NULL,"
	"  threshold INTEGER NOT NULL,"
	"  for_s INTEGER NOT NULL DEFAULT 0,"
	"  severity TEXT NOT NULL,"
	"  channels TEXT NOT NULL,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  state TEXT NOT NULL DEFAULT 'ok',"
	"  since INTEGER NOT NULL DEFAULT 0,"
	"  value INTEGER,"
	"  evaluated_at INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY(org, id));"
	"CREATE TABLE alert_events("
	"  org INTEGER NOT NULL,"
	"  id INTEGER NOT NULL,"
	"  rule INTEGER NOT NULL,"
	"  rule_name TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  event TEXT NOT NULL,"
	"  value INTEGER,"
	"  message TEXT NOT NULL,"
	"  PRIMARY KEY(org, id));"
	"CREATE TABLE notify_outbox("
	"  org INTEGER NOT NULL,"
	"  id INTEGER NOT NULL,"
	"  source TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  payload TEXT NOT NULL,"
	"  attachment TEXT NOT NULL DEFAULT '',"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending',"
	"  last_status INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  sent_at INTEGER,"
	"  PRIMARY KEY(org, id));"
	"CREATE INDEX notify_outbox_due ON notify_outbox(state, next_at);"
	"CREATE TABLE notify_keys(org INTEGER NOT NULL PRIMARY KEY, secret TEXT NOT NULL);"
	"CREATE TABLE report_schedules("
	"  org INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
	"  id INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  task TEXT NOT NULL,"
	"  every TEXT NOT NULL,"
	"  at_minute INTEGER NOT NULL,"
	"  channels TEXT NOT NULL,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  next_run INTEGER NOT NULL,"
	"  last_run INTEGER NOT NULL DEFAULT 0,"
	"  last_task INTEGER NOT NULL DEFAULT 0,"
	"  delivered INTEGER NOT NULL DEFAULT 1,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY(org, id));"},
	/* 12: reconciliation the way a bookkeeper works (issue 15): an
	 * allocation may write off the rest of its invoice (fees, a
	 * discount); payments holding an overpayment's credit and whose it
	 * is; payers' spellings learned as customers' aliases; the rules an
	 * organisation chose and their change history. */
	{.sql = "ALTER TABLE allocations ADD COLUMN writeoff INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE allocations ADD COLUMN writeoff_reason TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE payment_credits("
	"  payment INTEGER PRIMARY KEY REFERENCES payments(rid) ON DELETE CASCADE,"
	"  org INTEGER NOT NULL,"
	"  invoice INTEGER NOT NULL REFERENCES invoices(rid) ON DELETE CASCADE);"
	"CREATE INDEX payment_credits_org ON payment_credits(org);"
	"CREATE TABLE payer_aliases("
	"  org INTEGER NOT NULL,"
	"  payer TEXT NOT NULL,"
	"  spelling TEXT NOT NULL,"
	"  customer TEXT NOT NULL,"
	"  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
	"  PRIMARY KEY(org, payer));"
	"CREATE TABLE match_rules("
	"  org INTEGER PRIMARY KEY,"
	"  rules TEXT NOT NULL);"
	"CREATE TABLE match_rules_history("
	"  rid INTEGER PRIMARY KEY,"
	"  org INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  before TEXT NOT NULL,"
	"  after TEXT NOT NULL,"
	"  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"
	"CREATE INDEX match_rules_history_org ON match_rules_history(org, rid);"},
	/* 13: import profiles (src/ingest/profile.c): an organisation's named
	 * import options, as optlist text (name=value lines); kind '' = any. */
	{.sql = "CREATE TABLE import_profiles(org INTEGER NOT NULL REFERENCES orgs(id), name TEXT NOT NULL,"
	        " kind TEXT NOT NULL, options TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY(org, name));",
	 .pg = "CREATE TABLE import_profiles(org BIGINT NOT NULL REFERENCES orgs(id), name TEXT NOT NULL,"
	       " kind TEXT NOT NULL, options TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY(org, name));"},
	/* 14: users with roles and argon2id password hashes; tokens belong to
	 * a user and carry a scope and an expiry (0 = none); web sessions;
	 * the audit log. Tokens made before belong to a generated admin user
	 * of their org ("SLUG-admin", no password), so they keep working. */
	{.sql = "CREATE TABLE users("
	"  id INTEGER PRIMARY KEY,"
	"  org INTEGER NOT NULL REFERENCES orgs(id),"
	"  name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL,"
	"  pw_hash TEXT NOT NULL DEFAULT '',"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX users_org ON users(org);"
	"ALTER TABLE tokens ADD COLUMN user_id INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'write';"
	"ALTER TABLE tokens ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;"
	"INSERT INTO users(org, name, role) SELECT o.id, o.slug || '-admin', 'admin' FROM orgs o "
	"  WHERE EXISTS (SELECT 1 FROM tokens t WHERE t.org = o.id);"
	"UPDATE tokens SET user_id = (SELECT u.id FROM users u WHERE u.org = tokens.org);"
	"CREATE TABLE sessions("
	"  hash BLOB PRIMARY KEY,"
	"  user_id INTEGER NOT NULL,"
	"  csrf TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  seen_at INTEGER NOT NULL);"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE TABLE audit("
	"  id INTEGER PRIMARY KEY,"
	"  org INTEGER NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  target TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX audit_org ON audit(org, id);"},
	/* 15: new rows are indexed for search at commit from the table itself
	 * (searchidx.c: the rows above the largest rid the transaction began
	 * with), not queued one by one by a trigger: an import of a million
	 * rows no longer writes a million queue rows. Updates queue only the
	 * old text (what the index holds, which a contentless table cannot
	 * look up); the new text is read from the row at commit. */
	{.sql = "DROP TRIGGER costs_fts_ins;"
	"DROP TRIGGER costs_fts_upd;"
	"CREATE TRIGGER costs_fts_upd AFTER UPDATE OF id, category, vendor, description ON costs BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(1, OLD.rid, 1, OLD.id || char(31) || OLD.category || char(31) || OLD.vendor || char(31) || OLD.description);"
	"END;"
	"DROP TRIGGER sales_orders_fts_ins;"
	"DROP TRIGGER sales_orders_fts_upd;"
	"CREATE TRIGGER sales_orders_fts_upd AFTER UPDATE OF id, customer ON sales_orders BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(2, OLD.rid, 1, OLD.id || char(31) || OLD.customer);"
	"END;"
	"DROP TRIGGER invoices_fts_ins;"
	"DROP TRIGGER invoices_fts_upd;"
	"CREATE TRIGGER invoices_fts_upd AFTER UPDATE OF id, number, customer, customer_id ON invoices BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(3, OLD.rid, 1, OLD.id || char(31) || OLD.number || char(31) || OLD.customer || char(31) || OLD.customer_id);"
	"END;"
	"DROP TRIGGER payments_fts_ins;"
	"DROP TRIGGER payments_fts_upd;"
	"CREATE TRIGGER payments_fts_upd AFTER UPDATE OF id, payer, reference, customer_id ON payments BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(4, OLD.rid, 1, OLD.id || char(31) || OLD.payer || char(31) || OLD.reference || char(31) || OLD.customer_id);"
	"END;"
	"DROP TRIGGER leads_fts_ins;"
	"DROP TRIGGER leads_fts_upd;"
	"CREATE TRIGGER leads_fts_upd AFTER UPDATE OF id, name, creator, mobile, source ON leads BEGIN"
	"  INSERT INTO search_pending(tbl, rid, del, body) VALUES(5, OLD.rid, 1, OLD.id || char(31) || OLD.name || char(31) || OLD.creator || char(31) || OLD.mobile || char(31) || OLD.source);"
	"END;",
	 /* PostgreSQL: no queue (its search indexes are kept by the table) */
	 .pg = "SELECT 1;"},
	/* 16: data sets (issue 13): the catalogue, their rows in one generic
	 * table with fixed slots (d0..d7 text dimensions, m0..m7 exact integer
	 * measures; NULL = blank), and per (dimension, level, bucket, value)
	 * rollups of every measure (count, sum, min, max). See dataset/. The
	 * org column (unused by queries: ds ids are global) lets brisk migrate
	 * copy them as every organisation's table. */
	{.sql =
	"CREATE TABLE datasets("
	"  id INTEGER PRIMARY KEY,"
	"  org INTEGER NOT NULL REFERENCES orgs(id),"
	"  name TEXT NOT NULL,"
	"  def TEXT NOT NULL,"
	"  nrows INTEGER NOT NULL DEFAULT 0,"
	"  mag INTEGER NOT NULL DEFAULT 0,"
	"  created_at TEXT NOT NULL);"
	"CREATE UNIQUE INDEX datasets_name ON datasets(org, name);"
	"CREATE TABLE ds_rows("
	"  rid INTEGER PRIMARY KEY,"
	"  org INTEGER NOT NULL,"
	"  ds INTEGER NOT NULL,"
	"  rkey TEXT NOT NULL,"
	"  day INTEGER NOT NULL,"
	"  d0 TEXT NOT NULL DEFAULT '',"
	"  d1 TEXT NOT NULL DEFAULT '',"
	"  d2 TEXT NOT NULL DEFAULT '',"
	"  d3 TEXT NOT NULL DEFAULT '',"
	"  d4 TEXT NOT NULL DEFAULT '',"
	"  d5 TEXT NOT NULL DEFAULT '',"
	"  d6 TEXT NOT NULL DEFAULT '',"
	"  d7 TEXT NOT NULL DEFAULT '',"
	"  m0 INTEGER,"
	"  m1 INTEGER,"
	"  m2 INTEGER,"
	"  m3 INTEGER,"
	"  m4 INTEGER,"
	"  m5 INTEGER,"
	"  m6 INTEGER,"
	"  m7 INTEGER);"
	"CREATE UNIQUE INDEX ds_rows_key ON ds_rows(ds, rkey);"
	"CREATE INDEX ds_rows_day ON ds_rows(ds, day, rid);"
	"CREATE TABLE ds_rollup("
	"  org INTEGER NOT NULL,"
	"  ds INTEGER NOT NULL,"
	"  dim INTEGER NOT NULL,"
	"  lvl INTEGER NOT NULL,"
	"  bucket INTEGER NOT NULL,"
	"  val TEXT NOT NULL,"
	"  cnt INTEGER NOT NULL,"
	"  n0 INTEGER NOT NULL DEFAULT 0,"
	"  n1 INTEGER NOT NULL DEFAULT 0,"
	"  n2 INTEGER NOT NULL DEFAULT 0,"
	"  n3 INTEGER NOT NULL DEFAULT 0,"
	"  n4 INTEGER NOT NULL DEFAULT 0,"
	"  n5 INTEGER NOT NULL DEFAULT 0,"
	"  n6 INTEGER NOT NULL DEFAULT 0,"
	"  n7 INTEGER NOT NULL DEFAULT 0,"
	"  s0 INTEGER NOT NULL DEFAULT 0,"
	"  s1 INTEGER NOT NULL DEFAULT 0,"
	"  s2 INTEGER NOT NULL DEFAULT 0,"
	"  s3 INTEGER NOT NULL DEFAULT 0,"
	"  s4 INTEGER NOT NULL DEFAULT 0,"
	"  s5 INTEGER NOT NULL DEFAULT 0,"
	"  s6 INTEGER NOT NULL DEFAULT 0,"
	"  s7 INTEGER NOT NULL DEFAULT 0,"
	"  lo0 INTEGER,"
	"  lo1 INTEGER,"
	"  lo2 INTEGER,"
	"  lo3 INTEGER,"
	"  lo4 INTEGER,"
	"  lo5 INTEGER,"
	"  lo6 INTEGER,"
	"  lo7 INTEGER,"
	"  hi0 INTEGER,"
	"  hi1 INTEGER,"
	"  hi2 INTEGER,"
	"  hi3 INTEGER,"
	"  hi4 INTEGER,"
	"  hi5 INTEGER,"
	"  hi6 INTEGER,"
	"  hi7 INTEGER,"
	"  PRIMARY KEY(ds, dim, lvl, bucket, val)) WITHOUT ROWID;"
	"CREATE INDEX ds_rollup_val ON ds_rollup(ds, dim, val, lvl, bucket);"},
	/* 17: the payer's account (IBAN or account number, normalised) of a
	 * payment, and the accounts people's decisions taught (issue 15): a
	 * learned account names its customer before any spelling does. */
	{.sql = "ALTER TABLE payments ADD COLUMN payer_account TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE account_aliases("
	"  org INTEGER NOT NULL,"
	"  account TEXT NOT NULL,"
	"  customer TEXT NOT NULL,"
	"  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
	"  PRIMARY KEY(org, account));"},
};

#define NFIRST ((int)(sizeof migrations / sizeof migrations[0]))

/* Migration n (1-based), from this list or schema_recent.c's; NULL if out
 * of range. */
static const schema_migration *migration_at(int n)
{
	if (n >= 1 && n <= NFIRST)
		return &migrations[n - 1];
	if (n > NFIRST && n <= schema_count())
		return &schema_recent[n - NFIRST - 1];
	return NULL;
}

int schema_count(void)
{
	return NFIRST + schema_recent_count;
}

const char *schema_sql(int n)
{
	const schema_migration *m = migration_at(n);
	return m ? m->sql : NULL;
}

char *schema_sql_pg(int n)
{
	const schema_migration *m = migration_at(n);
	if (!m)
		return NULL;
	return m->pg ? xstrdup(m->pg) : dialect_pg_ddl(m->sql);
}
