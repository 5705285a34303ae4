/* schema: the store's tables as an ordered list of forward migrations. */
#ifndef BRISK_SCHEMA_H
#define BRISK_SCHEMA_H

/* Number of migrations; the schema version after all are applied. */
int schema_count(void);
/* SQL of migration n (1-based): one or more statements. */
const char *schema_sql(int n);

#endif
