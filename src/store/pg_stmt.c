/* store backend PostgreSQL: prepared statements. */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "store/dialect.h"
#include "store/pg_stmt.h"

#define PLAN_GENERIC_SQL "SET LOCAL plan_cache_mode = force_generic_plan"
#define PLAN_AUTO_SQL "SET LOCAL plan_cache_mode = auto"

void pg_stmt_clear(pg_stmt *st)
{
	if (st->res)
		PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	st->nrows = 0;
	st->finished = false;
	for (int i = 0; i < st->nparams; i++) {
		free(st->vals[i].owned);
		memset(&st->vals[i], 0, sizeof st->vals[i]);
	}
}

void pg_stmt_free(pg_stmt *st)
{
	pg_stmt_clear(st);
	free(st->sql);
	free(st->types);
	free(st->vals);
	free(st);
}

/* The read's BEGIN and the statement's execution in one pipeline: one
 * round trip. Returns the statement's result (NULL on a send failure). */
static PGresult *exec_with_begin(pg_conn *c, pg_stmt *st, int n, const char *const *vals, const int *lens,
                                 const int *fmts)
{
	c->begin_pending = false;
	PGconn *pc = c->pc;
	if (PQenterPipelineMode(pc) != 1)
		return NULL;
	PGresult *res = NULL, *r;
	bool sent = PQsendQueryParams(pc, READ_BEGIN, 0, NULL, NULL, NULL, NULL, 0) == 1 &&
	            PQsendQueryPrepared(pc, st->name, n, vals, lens, fmts, 0) == 1 && PQpipelineSync(pc) == 1;
	if (sent) {
		/* BEGIN's result, the statement's, each ended by NULL, then the sync */
		bool begun = false;
		if ((r = PQgetResult(pc))) {
			begun = PQresultStatus(r) == PGRES_COMMAND_OK;
			if (!begun)
				res = r; /* its error is the statement's */
			else
				PQclear(r);
			while ((r = PQgetResult(pc)))
				PQclear(r);
		}
		if ((r = PQgetResult(pc))) {
			if (begun)
				res = r;
			else
				PQclear(r);
			while ((r = PQgetResult(pc)))
				PQclear(r);
		}
		while ((r = PQgetResult(pc))) { /* the sync */
			bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
			PQclear(r);
			if (sync)
				break;
		}
	}
	if (PQexitPipelineMode(pc) != 1) {
		/* results left behind (a broken exchange): the connection is
		 * replaced at its next use rather than trusted */
		PQfinish(pc);
		c->pc = NULL;
	}
	return res;
}

static bool sql_writes(const char *sql)
{
	while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(')
		sql++;
	return strncasecmp(sql, "SELECT", 6) != 0 && strncasecmp(sql, "WITH", 4) != 0 &&
	       strncasecmp(sql, "VALUES", 6) != 0;
}

store_stmt_t *pgs_prepare(store_conn_t *base, const char *sql)
{
	pg_conn *c = PC(base);
	uintptr_t h = (uintptr_t)sql;
	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ull;
	unsigned i = (unsigned)(h >> 40) & (STMT_SLOTS - 1);
	for (unsigned probe = 0; probe < STMT_SLOTS; probe++, i = (i + 1) & (STMT_SLOTS - 1)) {
		pg_stmt *e = c->stmts[i];
		if (e && e->base.key == sql) {
			if (e->base.t0)
				store_stmt_timed(&e->base);
			e->base.shape = 0;
			pg_stmt_clear(e);
			return &e->base;
		}
		if (!e) {
			e = xcalloc(1, sizeof *e);
			e->base.key = sql;
			e->base.conn = base;
			e->sql = dialect_pg_query(sql, &e->nparams);
			e->writes = sql_writes(sql);
			e->generic = strstr(sql, STORE_PLAN_GENERIC) != NULL;
			e->vals = xcalloc((size_t)e->nparams + 1, sizeof *e->vals);
			e->types = xcalloc((size_t)e->nparams + 1, sizeof *e->types);
			e->row = -1;
			snprintf(e->name, sizeof e->name, "b%d", ++c->nnamed);
			c->stmts[i] = e;
			return &e->base;
		}
	}
	log_error("store: statement cache full");
	return NULL;
}

void pgs_bind(store_stmt_t *t, int idx, int kind, int64_t i, double d, const void *p, size_t len, bool copy)
{
	pg_stmt *st = PT(t);
	if (idx < 1 || idx > st->nparams)
		return;
	pg_val *v = &st->vals[idx - 1];
	free(v->owned);
	memset(v, 0, sizeof *v);
	v->kind = kind;
	v->i = i;
	v->d = d;
	v->len = len;
	if ((kind == STORE_V_TEXT || kind == STORE_V_BLOB) && copy) {
		v->owned = xmalloc(len + 1);
		memcpy(v->owned, p, len);
		v->owned[len] = 0;
		v->p = v->owned;
	} else {
		v->p = p;
	}
}

/* Prepares on this connection with types from the current bindings. */
static bool stmt_prepare(pg_conn *c, pg_stmt *st)
{
	Oid *types = xcalloc((size_t)st->nparams + 1, sizeof *types);
	/* A failed prepare aborts the transaction: a savepoint keeps the
	 * retry (and the caller's transaction) alive. Once per connection. */
	bool sp = PQtransactionStatus(c->pc) == PQTRANS_INTRANS && pg_run(c->pc, "SAVEPOINT brisk_prepare", NULL, 0);
	for (int k = 0; k < st->nparams; k++) {
		int kind = st->vals[k].kind;
		types[k] = kind == STORE_V_INT ? OID_INT8 : kind == STORE_V_REAL ? OID_FLOAT8 : kind == STORE_V_BLOB ? OID_BYTEA : 0;
	}
	/* A parameter no context types (`? IS NULL`, one the SQL skips) is
	 * named in the error: it becomes text, and the prepare is retried. */
	for (int tries = 0;; tries++) {
		PGresult *r = PQprepare(c->pc, st->name, st->sql, st->nparams, types);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		int bad = 0;
		if (!ok && state && (!strcmp(state, "42P18") || !strcmp(state, "42P08"))) {
			const char *m = strstr(PQresultErrorMessage(r), "parameter $");
			bad = m ? atoi(m + 11) : 0;
		}
		if (!ok)
			pg_first_line(c->err, sizeof c->err, PQerrorMessage(c->pc));
		PQclear(r);
		if (ok)
			break;
		if (sp)
			pg_run(c->pc, "ROLLBACK TO SAVEPOINT brisk_prepare", NULL, 0);
		if (bad < 1 || bad > st->nparams || types[bad - 1] != 0 || tries > st->nparams) {
			if (sp)
				pg_run(c->pc, "RELEASE SAVEPOINT brisk_prepare", NULL, 0);
			free(types);
			log_error("store: cannot prepare: %s: %s", c->err, st->sql);
			return false;
		}
		types[bad - 1] = OID_TEXT;
	}
	free(types);
	if (sp)
		pg_run(c->pc, "RELEASE SAVEPOINT brisk_prepare", NULL, 0);
	PGresult *r = PQdescribePrepared(c->pc, st->name);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		pg_first_line(c->err, sizeof c->err, PQerrorMessage(c->pc));
		PQclear(r);
		return false;
	}
	for (int k = 0; k < st->nparams && k < PQnparams(r); k++)
		st->types[k] = PQparamtype(r, k);
	PQclear(r);
	st->prepared = true;
	return true;
}

/* One value in the form PostgreSQL reads for the parameter's type. */
static void value_of(pg_val *v, Oid type, const char **val, int *len, int *fmt)
{
	char num[40];
	*fmt = 1;
	switch (v->kind) {
	case STORE_V_NULL:
		*val = NULL;
		*len = 0;
		return;
	case STORE_V_INT:
		if (type == OID_INT8) {
			v->be = htobe64((uint64_t)v->i);
			*val = (const char *)&v->be;
			*len = 8;
			return;
		}
		snprintf(num, sizeof num, "%lld", (long long)v->i);
		break;
	case STORE_V_REAL:
		if (type == OID_FLOAT8) {
			uint64_t u;
			memcpy(&u, &v->d, 8);
			v->be = htobe64(u);
			*val = (const char *)&v->be;
			*len = 8;
			return;
		}
		snprintf(num, sizeof num, "%.17g", v->d);
		break;
	default:
		/* text and bytea take raw bytes in binary */
		if (v->kind == STORE_V_BLOB || type == OID_TEXT || type == OID_VARCHAR || type == OID_BYTEA ||
		    type == 0) {
			*val = v->p;
			*len = (int)v->len;
			return;
		}
		if (!v->owned) { /* text for another type: PostgreSQL converts it */
			v->owned = xmalloc(v->len + 1);
			memcpy(v->owned, v->p, v->len);
			v->owned[v->len] = 0;
			v->p = v->owned;
		}
		*val = v->p;
		*len = 0;
		*fmt = 0;
		return;
	}
	free(v->owned);
	v->owned = xstrdup(num);
	*val = v->owned;
	*len = 0;
	*fmt = 0;
}

/* The statement's bound values as libpq takes them (params_free). */
typedef struct {
	const char **vals;
	int *lens, *fmts;
} params;

static void params_of(pg_stmt *st, params *p)
{
	int n = st->nparams;
	p->vals = xcalloc((size_t)n + 1, sizeof *p->vals);
	p->lens = xcalloc((size_t)n + 1, sizeof *p->lens);
	p->fmts = xcalloc((size_t)n + 1, sizeof *p->fmts);
	for (int k = 0; k < n; k++)
		value_of(&st->vals[k], st->types[k], &p->vals[k], &p->lens[k], &p->fmts[k]);
}

static void params_free(params *p)
{
	free(p->vals);
	free(p->lens);
	free(p->fmts);
}

/* The connection is up and st prepared on it; false with the reason in
 * c->err (a lost connection counted as a fault). */
static bool ready(pg_conn *c, pg_stmt *st)
{
	if (!c->pc || PQstatus(c->pc) != CONNECTION_OK) {
		snprintf(c->err, sizeof c->err, "the connection to PostgreSQL is lost");
		if (!c->replica)
			pg_note_down(PS(c->base.store), c->err);
		return false;
	}
	return st->prepared || stmt_prepare(c, st);
}

store_status pgs_step(store_stmt_t *t)
{
	pg_stmt *st = PT(t);
	pg_conn *c = PC(t->conn);
	if (st->finished)
		return STORE_DONE;
	if (!st->res) {
		if (!ready(c, st)) {
			st->finished = true;
			return STORE_ERROR;
		}
		int n = st->nparams;
		params p;
		params_of(st, &p);
		if (c->begin_pending)
			st->res = exec_with_begin(c, st, n, p.vals, p.lens, p.fmts);
		else
			st->res = PQexecPrepared(c->pc, st->name, n, p.vals, p.lens, p.fmts, 0);
		params_free(&p);
		ExecStatusType rs = PQresultStatus(st->res);
		if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
			const char *state = PQresultErrorField(st->res, PG_DIAG_SQLSTATE);
			bool constraint = state && !strncmp(state, "23", 2);
			bool loss = pg_is_loss(c->pc, st->res);
			pg_first_line(c->err, sizeof c->err, PQerrorMessage(c->pc));
			if (loss && !c->replica)
				pg_note_down(PS(c->base.store), c->err);
			PQclear(st->res);
			st->res = NULL;
			st->finished = true;
			if (constraint)
				return STORE_CONSTRAINT;
			if (!loss)
				log_error("store: %s", c->err);
			return STORE_ERROR;
		}
		st->nrows = rs == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
		st->row = -1;
		c->changes = strtoll(PQcmdTuples(st->res), NULL, 10);
	}
	if (++st->row < st->nrows)
		return STORE_ROW;
	st->finished = true;
	return STORE_DONE;
}

static const char *cell(pg_stmt *st, int col)
{
	if (!st->res || st->row < 0 || st->row >= st->nrows || col < 0 || col >= PQnfields(st->res) ||
	    PQgetisnull(st->res, st->row, col))
		return NULL;
	return PQgetvalue(st->res, st->row, col);
}

int64_t pgs_col_i64(store_stmt_t *t, int col)
{
	const char *v = cell(PT(t), col);
	if (!v)
		return 0;
	if (v[0] == 't' || v[0] == 'f') /* booleans read as SQLite's 1 / 0 */
		return v[0] == 't';
	char *end;
	long long n = strtoll(v, &end, 10);
	if (*end == '.' || *end == 'e' || *end == 'E') /* numeric (sum, avg): truncates, as SQLite's cast */
		return (int64_t)strtod(v, NULL);
	return n;
}

double pgs_col_double(store_stmt_t *t, int col)
{
	const char *v = cell(PT(t), col);
	if (!v)
		return 0;
	if (v[0] == 't' || v[0] == 'f')
		return v[0] == 't';
	return strtod(v, NULL);
}

const char *pgs_col_text(store_stmt_t *t, int col, size_t *len)
{
	pg_stmt *st = PT(t);
	const char *v = cell(st, col);
	if (len)
		*len = v ? (size_t)PQgetlength(st->res, st->row, col) : 0;
	return v ? v : "";
}

bool pgs_col_is_null(store_stmt_t *t, int col)
{
	return cell(PT(t), col) == NULL;
}

void pgs_reset(store_stmt_t *t)
{
	pg_stmt_clear(PT(t));
}

bool pgs_stmt_writes(store_stmt_t *t)
{
	return PT(t)->writes;
}

int pgs_stmt_nparams(store_stmt_t *t)
{
	return PT(t)->nparams;
}

/* Takes one query's result in a pipeline (and the NULL that ends it);
 * false with the reason in c->err (the first failure's) if it failed. */
static bool pipeline_result(pg_conn *c, pg_stmt *st, bool first_failure)
{
	PGresult *r = PQgetResult(c->pc);
	ExecStatusType rs = PQresultStatus(r);
	bool ok = r && (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK);
	if (!ok && first_failure) {
		pg_first_line(c->err, sizeof c->err, r && rs != PGRES_PIPELINE_ABORTED ? PQresultErrorMessage(r)
		                                                                         : PQerrorMessage(c->pc));
		if (pg_is_loss(c->pc, r) && !c->replica)
			pg_note_down(PS(c->base.store), c->err);
		else
			log_error("store: %s", c->err);
	}
	bool got = r != NULL;
	if (st && ok) {
		st->res = r;
		st->nrows = rs == PGRES_TUPLES_OK ? PQntuples(r) : 0;
	} else {
		PQclear(r);
	}
	while (got && (r = PQgetResult(c->pc)))
		PQclear(r);
	return ok;
}

int pgs_each(store_conn_t *base, store_stmt_t *const *sts, const store_each_t *v, int k)
{
	pg_conn *c = PC(base);
	/* prepared first (a prepare is a round trip of its own), on the types
	 * of each statement's first set */
	for (int g = 0; g < k; g++)
		if (v[g].n > 0) {
			v[g].bind(v[g].ud, sts[g], 0);
			if (!ready(c, PT(sts[g])))
				return -1;
		}
	if (PQenterPipelineMode(c->pc) != 1) {
		pg_first_line(c->err, sizeof c->err, PQerrorMessage(c->pc));
		return -1;
	}
	bool begin = c->begin_pending, sent = true;
	c->begin_pending = false;
	if (begin)
		sent = PQsendQueryParams(c->pc, READ_BEGIN, 0, NULL, NULL, NULL, NULL, 0) == 1;
	/* A read's statements marked STORE_PLAN_GENERIC run on their generic
	 * plan (SET LOCAL: the read's transaction ends it), the others as
	 * PostgreSQL chooses: one SET where the marking changes. */
	bool *set = xcalloc((size_t)k + 1, sizeof *set);
	bool generic = false;
	for (int g = 0; g < k; g++) {
		bool want = !c->writer && v[g].n > 0 && PT(sts[g])->generic;
		if (v[g].n > 0 && want != generic) {
			set[g] = true;
			generic = want;
			sent = sent && PQsendQueryParams(c->pc, want ? PLAN_GENERIC_SQL : PLAN_AUTO_SQL, 0, NULL, NULL, NULL,
			                                 NULL, 0) == 1;
		}
		for (int i = 0; sent && i < v[g].n; i++) {
			pg_stmt *st = PT(sts[g]);
			pg_stmt_clear(st);
			v[g].bind(v[g].ud, sts[g], i);
			params p;
			params_of(st, &p);
			sent = PQsendQueryPrepared(c->pc, st->name, st->nparams, p.vals, p.lens, p.fmts, 0) == 1;
			params_free(&p);
		}
	}
	sent = sent && PQpipelineSync(c->pc) == 1;
	bool ok = sent;
	if (!sent)
		pg_first_line(c->err, sizeof c->err, PQerrorMessage(c->pc));
	if (sent && begin)
		ok = pipeline_result(c, NULL, true);
	for (int g = 0; g < k; g++) {
		if (sent && set[g] && !pipeline_result(c, NULL, ok))
			ok = false;
		for (int i = 0; sent && i < v[g].n; i++) {
			pg_stmt *st = PT(sts[g]);
			pg_stmt_clear(st);
			if (!pipeline_result(c, st, ok)) {
				ok = false;
				continue; /* the rest come back aborted: taken, not read */
			}
			for (st->row = 0; st->row < st->nrows; st->row++)
				v[g].row(v[g].ud, sts[g], i);
			pg_stmt_clear(st);
		}
	}
	free(set);
	PGresult *r;
	while (sent && (r = PQgetResult(c->pc))) { /* the sync */
		bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
		PQclear(r);
		if (sync)
			break;
	}
	if (PQexitPipelineMode(c->pc) != 1) { /* a broken exchange: replaced at the next use */
		PQfinish(c->pc);
		c->pc = NULL;
	}
	return ok ? 0 : -1;
}
