/* dialect: SQL written for SQLite (the callers' portable subset) turned
 * into PostgreSQL's, for src/store/pg.c. */
#ifndef BRISK_STORE_DIALECT_H
#define BRISK_STORE_DIALECT_H

/* A statement: `?` and `?N` placeholders become `$N`, SQLite's unary `+`
 * (an index hint) is dropped, instr() becomes strpos(), char() chr(). Sets *nparams to the highest parameter.
 * Returns malloc'd text (never NULL). */
char *dialect_pg_query(const char *sql, int *nparams);

/* Schema text: INTEGER -> BIGINT (PostgreSQL's is 32-bit), INTEGER PRIMARY
 * KEY -> an identity column, REAL -> DOUBLE PRECISION, BLOB -> BYTEA,
 * WITHOUT ROWID dropped, SQLite's UTC timestamp default -> to_char(now()).
 * Triggers are not translated (schema.c gives PostgreSQL's own text).
 * Returns malloc'd text. */
char *dialect_pg_ddl(const char *sql);

#endif
