/* dsdef: a data set's definition (issue 13): its name, the time column and
 * its grain, up to 8 text dimensions and 8 exact measures, an optional key
 * and required columns; parsed from JSON (the API body, the CLI's file),
 * validated once, and written back as JSON. */
#ifndef BRISK_DSDEF_H
#define BRISK_DSDEF_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/date.h"

#define DSDEF_MAX_DIMS 8
#define DSDEF_MAX_MEASURES 8
#define DSDEF_MAX_KEY 8
#define DSDEF_MAX_REQUIRED 16
#define DSDEF_NAME_MAX 40   /* [a-z][a-z0-9_]{0,39} */
#define DSDEF_COLUMN_MAX 200 /* bytes of a column name */
#define DSDEF_TITLE_MAX 200
#define DSDEF_MAX_SCALE 6

typedef enum { DSM_MONEY, DSM_INTEGER, DSM_DECIMAL } dsdef_mtype;

typedef struct {
	char name[DSDEF_NAME_MAX + 1];
	char column[DSDEF_COLUMN_MAX + 1];
} dsdef_dim;

typedef struct {
	char name[DSDEF_NAME_MAX + 1];
	char column[DSDEF_COLUMN_MAX + 1];
	dsdef_mtype type;
	int scale; /* decimal: 0..6; integer: 0; money: the org currency's minor units (set at use) */
} dsdef_measure;

typedef struct {
	char name[DSDEF_NAME_MAX + 1];
	char title[DSDEF_TITLE_MAX + 1];
	char time_column[DSDEF_COLUMN_MAX + 1];
	interval_t grain; /* DAY, MONTH, QUARTER or YEAR */
	/* the time column's date format (strptime-like; "" = YYYY-MM-DD), for
	 * imports that give none: Superstore's 11/8/2016 is %m/%d/%Y */
	char time_format[32];
	int ndims, nmeasures, nkey, nrequired;
	dsdef_dim dims[DSDEF_MAX_DIMS];
	dsdef_measure measures[DSDEF_MAX_MEASURES];
	char key[DSDEF_MAX_KEY][DSDEF_COLUMN_MAX + 1];
	char required[DSDEF_MAX_REQUIRED][DSDEF_COLUMN_MAX + 1];
} dsdef_t;

/* Fills d from a JSON definition (the contract's shape), checking every
 * rule (names, counts, grain, types, scales, duplicates, unknown members).
 * False with a one-line reason naming the member at fault. */
bool dsdef_from_json(const json_t *j, dsdef_t *d, char *why, size_t whylen);
/* The same from JSON text (len bytes). */
bool dsdef_parse(const char *text, size_t len, dsdef_t *d, char *why, size_t whylen);
/* Appends d as a JSON object (the definition, without stored figures). */
void dsdef_json(const dsdef_t *d, buf_t *out);
/* Whether s is a valid data set, dimension or measure name. */
bool dsdef_name_ok(const char *s, size_t len);
/* Index of the dimension / measure called name, or -1. */
int dsdef_dim_index(const dsdef_t *d, const char *name);
int dsdef_measure_index(const dsdef_t *d, const char *name);
/* "day", "month", "quarter", "year"; "money", "integer", "decimal". */
const char *dsdef_mtype_name(dsdef_mtype t);

#endif
