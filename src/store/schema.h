/* schema: the store's tables as an ordered list of forward migrations. */
#ifndef BRISK_SCHEMA_H
#define BRISK_SCHEMA_H

/* Number of migrations; the schema version after all are applied. */
int schema_count(void);
/* SQLite's SQL of migration n (1-based): one or more statements. */
const char *schema_sql(int n);
/* PostgreSQL's SQL of migration n, malloc'd (caller frees); NULL if out of
 * range. */
char *schema_sql_pg(int n);

#endif
