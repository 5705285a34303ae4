/* schema: PostgreSQL-only migration texts (plpgsql triggers) too long to
 * sit in schema_recent.c's list. Private to src/store/schema_recent.c. */
#ifndef BRISK_SCHEMA_PG_H
#define BRISK_SCHEMA_PG_H

/* Migration 24: allocations check their org, payment and invoice once per
 * statement over the transition table, not once per row through three
 * foreign keys' triggers (the matcher writes 512 rows per statement).
 * Writers are serialised by the writer lock, so no row named can be
 * deleted between the check and the commit, which is what the foreign
 * keys' row locks guarded. An update of those columns (none is made
 * today) is checked per row: transition tables refuse a column list.
 * Deleting a payment or an invoice deletes its allocations, as ON DELETE
 * CASCADE did. */
#define ALLOC_CHECK_PG                                                                                          \
	"ALTER TABLE allocations DROP CONSTRAINT allocations_org_fkey;"                                            \
	"ALTER TABLE allocations DROP CONSTRAINT allocations_payment_fkey;"                                        \
	"ALTER TABLE allocations DROP CONSTRAINT allocations_invoice_fkey;"                                        \
	"CREATE FUNCTION alloc_named_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"                          \
	"  IF EXISTS (SELECT 1 FROM new_rows n"                                                                    \
	"             WHERE NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = n.org)"                                  \
	"                OR NOT EXISTS (SELECT 1 FROM payments p WHERE p.rid = n.payment)"                         \
	"                OR NOT EXISTS (SELECT 1 FROM invoices i WHERE i.rid = n.invoice)) THEN"                   \
	"    RAISE EXCEPTION 'insert or update on table \"allocations\" violates a foreign key: "                  \
	"its org, payment or invoice does not exist' USING ERRCODE = 'foreign_key_violation';"                     \
	"  END IF;"                                                                                                \
	"  RETURN NULL;"                                                                                           \
	"END $$;"                                                                                                  \
	"CREATE FUNCTION alloc_named_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"                           \
	"  IF NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = NEW.org)"                                              \
	"     OR NOT EXISTS (SELECT 1 FROM payments p WHERE p.rid = NEW.payment)"                                  \
	"     OR NOT EXISTS (SELECT 1 FROM invoices i WHERE i.rid = NEW.invoice) THEN"                             \
	"    RAISE EXCEPTION 'insert or update on table \"allocations\" violates a foreign key: "                  \
	"its org, payment or invoice does not exist' USING ERRCODE = 'foreign_key_violation';"                     \
	"  END IF;"                                                                                                \
	"  RETURN NULL;"                                                                                           \
	"END $$;"                                                                                                  \
	"CREATE FUNCTION alloc_cascade() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"                             \
	"  IF TG_TABLE_NAME = 'payments' THEN"                                                                     \
	"    DELETE FROM allocations a USING old_rows o WHERE a.payment = o.rid;"                                  \
	"  ELSE"                                                                                                   \
	"    DELETE FROM allocations a USING old_rows o WHERE a.invoice = o.rid;"                                  \
	"  END IF;"                                                                                                \
	"  RETURN NULL;"                                                                                           \
	"END $$;"                                                                                                  \
	"CREATE TRIGGER allocations_named_ins AFTER INSERT ON allocations REFERENCING NEW TABLE AS new_rows"        \
	"  FOR EACH STATEMENT EXECUTE FUNCTION alloc_named_rows();"                                                \
	"CREATE TRIGGER allocations_named_upd AFTER UPDATE OF org, payment, invoice ON allocations"                \
	"  FOR EACH ROW EXECUTE FUNCTION alloc_named_row();"                                                       \
	"CREATE TRIGGER payments_alloc_del AFTER DELETE ON payments REFERENCING OLD TABLE AS old_rows"              \
	"  FOR EACH STATEMENT EXECUTE FUNCTION alloc_cascade();"                                                   \
	"CREATE TRIGGER invoices_alloc_del AFTER DELETE ON invoices REFERENCING OLD TABLE AS old_rows"              \
	"  FOR EACH STATEMENT EXECUTE FUNCTION alloc_cascade();"

#endif
