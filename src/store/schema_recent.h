/* schema_recent: migrations 18 on, the end of schema.c's list (split
 * off to keep each file short). Private to src/store/schema*.c. */
#ifndef BRISK_SCHEMA_RECENT_H
#define BRISK_SCHEMA_RECENT_H

typedef struct {
	const char *sql; /* SQLite's text, also PostgreSQL's after dialect_pg_ddl */
	const char *pg;  /* PostgreSQL's own text where the two differ (triggers) */
} schema_migration;

/* Migrations 18 on, in order (schema.c numbers them after its own). */
extern const schema_migration schema_recent[];
extern const int schema_recent_count;

#endif
