#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/mem.h"
#include "monitor/qstats.h"
#include "store/backend.h"
#include "store/searchidx.h"

/* DESIGN
 * The public face of the store: a dispatch over the backend's function
 * table (sqlite.c, pg.c), plus what both share: the data versions in
 * memory, the touched (org, table)s of a write, the change listener, the
 * watch thread, and statement timing for monitoring. Which backend runs is
 * decided once, at store_open, from the URL; no caller knows. */

static const store_backend *backend_for(const char *url)
{
	if (url && (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11)))
		return &store_pg_backend;
	return NULL;
}

store_t *store_open(const char *dir, const store_opts *opts, char *err, size_t errlen)
{
	store_opts d = {0};
	if (opts)
		d = *opts;
	if ((!d.url || !*d.url) && !d.embedded)
		d.url = getenv("DATABASE_URL");
	if (d.embedded)
		d.url = NULL;
	if (d.url && !*d.url)
		d.url = NULL;
	if (d.url && !backend_for(d.url)) {
		snprintf(err, errlen, "store URL must start with postgresql:// (got '%.40s')", d.url);
		return NULL;
	}
	if (d.read_urls && strspn(d.read_urls, ", \t") == strlen(d.read_urls))
		d.read_urls = NULL;
	if (d.read_urls && !d.url) {
		snprintf(err, errlen, "store.read_url (read replicas) needs a PostgreSQL store (store.url)");
		return NULL;
	}
	if (d.statement_timeout_ms <= 0)
		d.statement_timeout_ms = 60000;
	if (d.cache_kib <= 0)
		d.cache_kib = 64 * 1024;
	if (d.mmap_bytes == 0)
		d.mmap_bytes = (int64_t)1 << 30;
	else if (d.mmap_bytes < 0)
		d.mmap_bytes = 0; /* off: pages go through the bounded page cache */
	if (d.busy_timeout_ms <= 0)
		d.busy_timeout_ms = 5000;
	if (d.write_wait_ms <= 0)
		d.write_wait_ms = 3000;
	if (d.url) {
		/* The data directory still holds task files. */
		if (dir && mkdir(dir, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create data directory %s: %s", dir, strerror(errno));
			return NULL;
		}
		if (d.read_conns <= 0)
			d.read_conns = 20;
		return store_pg_backend.open(d.url, &d, err, errlen);
	}
	if (d.read_conns <= 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		d.read_conns = cores > 0 ? (int)cores * 2 : 4;
		if (d.read_conns < 2)
			d.read_conns = 2;
	}
	return store_sqlite_backend.open(dir, &d, err, errlen);
}

void store_common_init(store_t *s, const store_backend *be, const store_opts *o)
{
	s->be = be;
	s->opts = *o;
	s->opts.url = NULL; /* not kept: the caller owns it */
	s->opts.read_urls = NULL;
	wgate_init(&s->gate);
	pthread_mutex_init(&s->ver_lock, NULL);
	pthread_mutex_init(&s->refresh_lock, NULL);
}

void store_common_free(store_t *s)
{
	wgate_destroy(&s->gate);
	pthread_mutex_destroy(&s->ver_lock);
	pthread_mutex_destroy(&s->refresh_lock);
	free(s->vers);
}

void store_close(store_t *s)
{
	if (!s)
		return;
	searchidx_indexer_stop(s);
	if (s->watching) {
		atomic_store(&s->watch_stop, true);
		pthread_join(s->watch_tid, NULL);
		s->watching = false;
	}
	s->be->close(s);
}

const char *store_backend_name(store_t *s)
{
	return s->be->name;
}

uint64_t store_faults(store_t *s)
{
	return s->be->faults ? s->be->faults(s) : 0;
}

bool store_reachable(store_t *s, char *why, size_t whylen)
{
	if (whylen)
		why[0] = 0;
	return s->be->reachable ? s->be->reachable(s, why, whylen) : true;
}

static int64_t lock_key(int ns, int64_t id)
{
	return (int64_t)(((uint64_t)ns << 48) | ((uint64_t)id & 0xffffffffffffULL));
}

bool store_has_locks(store_t *s)
{
	return s->be->lock_try != NULL;
}

int store_lock_try(store_t *s, int ns, int64_t id)
{
	return s->be->lock_try ? s->be->lock_try(s, lock_key(ns, id)) : -1;
}

void store_lock_release(store_t *s, int ns, int64_t id)
{
	if (s->be->lock_release)
		s->be->lock_release(s, lock_key(ns, id));
}

int store_lock_held(store_t *s, int ns, int64_t id)
{
	return s->be->lock_held ? s->be->lock_held(s, lock_key(ns, id)) : -1;
}

void *store_shared_get(store_t *s, const void *key, size_t klen, size_t *n)
{
	return s->be->shared_get ? s->be->shared_get(s, key, klen, n) : NULL;
}

void store_shared_put(store_t *s, const void *key, size_t klen, const void *v, size_t n, uint64_t ttl_ms)
{
	if (s->be->shared_put)
		s->be->shared_put(s, key, klen, v, n, ttl_ms);
}

int store_schema_version(store_t *s)
{
	return s->schema_version;
}

store_conn_t *store_read_begin(store_t *s)
{
	return s->be->read_begin(s);
}

void store_read_end(store_conn_t *c)
{
	c->store->be->read_end(c);
}

/* Begins the transaction once the gate is held; releases it on failure. */
static store_conn_t *write_begin_held(store_t *s, bool nowait, char *err, size_t errlen)
{
	/* Another process's writer (a CLI import, another instance) is waited
	 * for no longer than this thread may wait at all (1 ms, not 0: 0 is
	 * no limit to PostgreSQL's lock_timeout). */
	bool bounded = store_thread_writes_bounded() && !nowait;
	s->begin_wait_ms = nowait ? 1 : s->opts.busy_timeout_ms;
	if (bounded && s->opts.write_wait_ms < s->begin_wait_ms)
		s->begin_wait_ms = s->opts.write_wait_ms;
	store_conn_t *c = s->be->write_begin(s, err, errlen);
	if (!c) {
		if (bounded && strstr(err, "busy"))
			wgate_note_refusal((s->begin_wait_ms + 999) / 1000, err);
		wgate_release(&s->gate);
		return NULL;
	}
	c->ntouch = 0;
	if (searchidx_begin(c) != 0) {
		snprintf(err, errlen, "cannot begin a write: %s", store_errmsg(c));
		s->be->rollback(c);
		wgate_release(&s->gate);
		return NULL;
	}
	return c;
}

store_conn_t *store_write_begin(store_t *s, char *err, size_t errlen)
{
	if (wgate_acquire(&s->gate, s->opts.write_wait_ms, false, err, errlen) != 0)
		return NULL;
	return write_begin_held(s, false, err, errlen);
}

store_conn_t *store_write_begin_org(store_t *s, int64_t org, char *err, size_t errlen)
{
	if (wgate_acquire(&s->gate, s->opts.write_wait_ms, false, err, errlen) != 0)
		return NULL;
	s->begin_org = org;
	store_conn_t *c = write_begin_held(s, false, err, errlen);
	s->begin_org = 0;
	return c;
}

store_conn_t *store_write_try_begin(store_t *s)
{
	char err[300];
	if (wgate_acquire(&s->gate, 0, true, err, sizeof err) != 0)
		return NULL;
	return write_begin_held(s, true, err, sizeof err);
}

void store_masks_add(int64_t **orgs, unsigned **masks, int *n, int *cap, int64_t org, unsigned mask)
{
	for (int i = 0; i < *n; i++)
		if ((*orgs)[i] == org) {
			(*masks)[i] |= mask;
			return;
		}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*orgs = xrealloc(*orgs, (size_t)*cap * sizeof **orgs);
		*masks = xrealloc(*masks, (size_t)*cap * sizeof **masks);
	}
	(*orgs)[*n] = org;
	(*masks)[(*n)++] = mask;
}

void store_write_touch(store_conn_t *c, int64_t org, unsigned mask)
{
	store_masks_add(&c->touch_org, &c->touch_mask, &c->ntouch, &c->captouch, org, mask);
}

void store_conn_free_touch(store_conn_t *c)
{
	free(c->touch_org);
	free(c->touch_mask);
	c->touch_org = NULL;
	c->touch_mask = NULL;
	c->ntouch = c->captouch = 0;
}

static store_org_versions *vers_find(store_t *s, int64_t org, bool create)
{
	for (int i = 0; i < s->nvers; i++)
		if (s->vers[i].org == org)
			return &s->vers[i];
	if (!create)
		return NULL;
	if (s->nvers == s->capvers) {
		s->capvers = s->capvers ? s->capvers * 2 : 8;
		s->vers = xrealloc(s->vers, (size_t)s->capvers * sizeof *s->vers);
	}
	store_org_versions *v = &s->vers[s->nvers++];
	memset(v, 0, sizeof *v);
	v->org = org;
	return v;
}

bool store_vers_put(store_t *s, int64_t org, int tbl, uint64_t v)
{
	if (tbl < 0 || tbl >= TBL__COUNT)
		return false;
	store_org_versions *o = vers_find(s, org, true);
	if (v <= o->v[tbl])
		return false;
	o->v[tbl] = v;
	return true;
}

int store_write_commit(store_conn_t *c, char *err, size_t errlen)
{
	store_t *s = c->store;
	/* The table is named in the update: PostgreSQL finds a bare column
	 * ambiguous between the row and excluded. */
	static const char *bump =
		"INSERT INTO data_versions(org, tbl, version) VALUES(?, ?, 1) "
		"ON CONFLICT(org, tbl) DO UPDATE SET version = data_versions.version + 1 RETURNING version";
	/* Text-search index changes queued by triggers (searchidx.c). */
	if (searchidx_sync(c) != 0) {
		snprintf(err, errlen, "commit failed: updating the search index: %s", store_errmsg(c));
		s->be->rollback(c);
		c->ntouch = 0;
		wgate_release(&s->gate);
		return -1;
	}
	wgate_commit_hook(c); /* e.g. the request's audit entry, with its change */
	uint64_t (*newv)[TBL__COUNT] = xcalloc((size_t)c->ntouch + 1, sizeof *newv);
	for (int i = 0; i < c->ntouch; i++)
		for (int t = 0; t < TBL__COUNT; t++) {
			if (!(c->touch_mask[i] & TBL_BIT(t)))
				continue;
			store_stmt_t *st = store_prepare(c, bump);
			store_bind_i64(st, 1, c->touch_org[i]);
			store_bind_i64(st, 2, t);
			if (st && store_step(st) == STORE_ROW)
				newv[i][t] = (uint64_t)store_col_i64(st, 0);
			store_reset(st);
		}
	bool committed = s->be->commit(c, c->ntouch > 0, err, errlen) == 0;
	wgate_commit_outcome(committed);
	if (!committed) {
		c->ntouch = 0;
		free(newv);
		wgate_release(&s->gate);
		return -1;
	}
	pthread_mutex_lock(&s->ver_lock);
	for (int i = 0; i < c->ntouch; i++)
		for (int t = 0; t < TBL__COUNT; t++)
			if (newv[i][t])
				store_vers_put(s, c->touch_org[i], t, newv[i][t]);
	pthread_mutex_unlock(&s->ver_lock);
	free(newv);
	int n = c->ntouch;
	int64_t *orgs = xmalloc((size_t)n * sizeof *orgs + 1);
	unsigned *masks = xmalloc((size_t)n * sizeof *masks + 1);
	if (n) {
		memcpy(orgs, c->touch_org, (size_t)n * sizeof *orgs);
		memcpy(masks, c->touch_mask, (size_t)n * sizeof *masks);
	}
	c->ntouch = 0;
	wgate_release(&s->gate);
	if (s->on_change)
		for (int i = 0; i < n; i++)
			s->on_change(s->on_change_ud, orgs[i], masks[i]);
	free(orgs);
	free(masks);
	return 0;
}

void store_write_rollback(store_conn_t *c)
{
	c->store->be->rollback(c);
	c->ntouch = 0;
	wgate_release(&c->store->gate);
}

/* Every statement is timed from its first step to its last (DONE or an
 * error) or its reset, and reported to monitor/qstats. */
void store_stmt_timed(store_stmt_t *st)
{
	const store_backend *be = st->conn->store->be;
	qstats_record(st->key, qstats_now_ns() - st->t0, be->stmt_writes(st), be->stmt_nparams(st), st->shape);
	st->t0 = 0;
}

store_stmt_t *store_prepare(store_conn_t *c, const char *sql)
{
	return c->store->be->prepare(c, sql);
}

void store_bind_i64(store_stmt_t *st, int idx, int64_t v)
{
	if (st) {
		QSTATS_SHAPE_SET(st->shape, idx, QSTATS_P_INT);
		st->conn->store->be->bind(st, idx, STORE_V_INT, v, 0, NULL, 0, false);
	}
}

void store_bind_double(store_stmt_t *st, int idx, double v)
{
	if (st) {
		QSTATS_SHAPE_SET(st->shape, idx, QSTATS_P_REAL);
		st->conn->store->be->bind(st, idx, STORE_V_REAL, 0, v, NULL, 0, false);
	}
}

void store_bind_text(store_stmt_t *st, int idx, const char *s, size_t len)
{
	if (st) {
		QSTATS_SHAPE_SET(st->shape, idx, QSTATS_P_TEXT);
		st->conn->store->be->bind(st, idx, STORE_V_TEXT, 0, 0, s ? s : "", s ? len : 0, true);
	}
}

void store_bind_text_nocopy(store_stmt_t *st, int idx, const char *s, size_t len)
{
	if (st) {
		QSTATS_SHAPE_SET(st->shape, idx, QSTATS_P_TEXT);
		st->conn->store->be->bind(st, idx, STORE_V_TEXT, 0, 0, s ? s : "", s ? len : 0, false);
	}
}

void store_bind_blob(store_stmt_t *st, int idx, const void *p, size_t len)
{
	if (st) {
		QSTATS_SHAPE_SET(st->shape, idx, QSTATS_P_BLOB);
		st->conn->store->be->bind(st, idx, STORE_V_BLOB, 0, 0, p, len, true);
	}
}

void store_bind_null(store_stmt_t *st, int idx)
{
	if (st) {
		QSTATS_SHAPE_SET(st->shape, idx, QSTATS_P_NULL);
		st->conn->store->be->bind(st, idx, STORE_V_NULL, 0, 0, NULL, 0, false);
	}
}

store_status store_step(store_stmt_t *st)
{
	if (!st)
		return STORE_ERROR;
	if (!st->t0)
		st->t0 = qstats_now_ns();
	store_status r = st->conn->store->be->step(st);
	if (r != STORE_ROW)
		store_stmt_timed(st);
	return r;
}

int64_t store_col_i64(store_stmt_t *st, int col)
{
	return st->conn->store->be->col_i64(st, col);
}

double store_col_double(store_stmt_t *st, int col)
{
	return st->conn->store->be->col_double(st, col);
}

const char *store_col_text(store_stmt_t *st, int col, size_t *len)
{
	return st->conn->store->be->col_text(st, col, len);
}

bool store_col_is_null(store_stmt_t *st, int col)
{
	return st->conn->store->be->col_is_null(st, col);
}

void store_reset(store_stmt_t *st)
{
	if (st) {
		if (st->t0)
			store_stmt_timed(st);
		st->shape = 0;
		st->conn->store->be->reset(st);
	}
}

int store_each_many(store_conn_t *c, const store_each_t *v, int k)
{
	store_stmt_t **st = xcalloc((size_t)k + 1, sizeof *st);
	int total = 0, rc = 0;
	for (int g = 0; g < k; g++) {
		if (!(st[g] = store_prepare(c, v[g].sql))) {
			free(st);
			return -1;
		}
		total += v[g].n;
	}
	if (total > 1 && c->store->be->each) {
		uint64_t t0 = qstats_now_ns();
		rc = c->store->be->each(c, st, v, k);
		for (int g = 0; g < k; g++) {
			st[g]->t0 = t0; /* monitoring sees one execution each, as long as all */
			store_reset(st[g]);
		}
		free(st);
		return rc;
	}
	for (int g = 0; g < k && rc == 0; g++)
		for (int i = 0; i < v[g].n && rc == 0; i++) {
			v[g].bind(v[g].ud, st[g], i);
			store_status r;
			while ((r = store_step(st[g])) == STORE_ROW)
				v[g].row(v[g].ud, st[g], i);
			store_reset(st[g]);
			rc = r == STORE_DONE ? 0 : -1;
		}
	free(st);
	return rc;
}

int store_each(store_conn_t *c, const char *sql, int n, store_each_fn bind, store_each_fn row, void *ud)
{
	store_each_t e = {sql, n, bind, row, ud};
	return store_each_many(c, &e, 1);
}

int store_exec(store_conn_t *c, const char *sql)
{
	return c->store->be->exec(c, sql);
}

int64_t store_changes(store_conn_t *c)
{
	return c->store->be->changes(c);
}

const char *store_errmsg(store_conn_t *c)
{
	return c->store->be->errmsg(c);
}

store_t *store_of(store_conn_t *c)
{
	return c->store;
}

uint64_t store_version(store_t *s, int64_t org, store_table t)
{
	pthread_mutex_lock(&s->ver_lock);
	store_org_versions *v = vers_find(s, org, false);
	uint64_t r = v ? v->v[t] : 0;
	pthread_mutex_unlock(&s->ver_lock);
	return r;
}

bool store_refresh_versions(store_t *s)
{
	/* A look that began after this call did is as good as one of its own:
	 * concurrent callers share it instead of queueing a look each. */
	uint64_t asked = qstats_now_ns();
	pthread_mutex_lock(&s->refresh_lock);
	if (s->look_started_ns > asked) {
		bool ok = s->look_ok;
		pthread_mutex_unlock(&s->refresh_lock);
		return ok;
	}
	uint64_t started = qstats_now_ns();
	atomic_store(&s->refresh_since_us, (uint64_t)(clock_now_s() * 1e6));
	bool ok = s->be->refresh(s);
	atomic_store(&s->refresh_since_us, 0);
	s->look_started_ns = started;
	s->look_ok = ok;
	pthread_mutex_unlock(&s->refresh_lock);
	return ok;
}

int store_refresh_versions_try(store_t *s)
{
	return s->be->refresh_try(s);
}

uint64_t store_version_reloads(store_t *s)
{
	return atomic_load(&s->reloads);
}

static void *watch_main(void *arg)
{
	store_t *s = arg;
	if (s->be->watch) {
		s->be->watch(s);
		return NULL;
	}
	while (!atomic_load(&s->watch_stop)) {
		store_refresh_versions(s);
		usleep((useconds_t)s->watch_period_us);
	}
	return NULL;
}

void store_watch_versions(store_t *s, unsigned period_us)
{
	if (s->watching)
		return;
	s->watch_period_us = period_us ? period_us : 1000;
	s->watching = pthread_create(&s->watch_tid, NULL, watch_main, s) == 0;
}

void store_on_change(store_t *s, store_change_fn fn, void *ud)
{
	s->on_change = fn;
	s->on_change_ud = ud;
}

void store_on_outside_change(store_t *s, store_change_fn fn, void *ud)
{
	pthread_mutex_lock(&s->ver_lock);
	s->on_outside = fn;
	s->on_outside_ud = ud;
	pthread_mutex_unlock(&s->ver_lock);
}

int64_t store_org_id(store_t *s, const char *slug, bool create, char *err, size_t errlen)
{
	static const char *q = "SELECT id FROM orgs WHERE slug = ?";
	store_conn_t *c = store_read_begin(s);
	store_stmt_t *st = store_prepare(c, q);
	store_bind_text(st, 1, slug, strlen(slug));
	int64_t id = store_step(st) == STORE_ROW ? store_col_i64(st, 0) : -1;
	store_reset(st);
	store_read_end(c);
	if (id >= 0 || !create) {
		if (id < 0)
			snprintf(err, errlen, "no organisation '%s'", slug);
		return id;
	}
	static const char *ins = "INSERT INTO orgs(slug, name) VALUES(?, ?) "
	                         "ON CONFLICT(slug) DO UPDATE SET slug = excluded.slug RETURNING id";
	c = store_write_begin(s, err, errlen);
	if (!c)
		return -1;
	st = store_prepare(c, ins);
	store_bind_text(st, 1, slug, strlen(slug));
	store_bind_text(st, 2, slug, strlen(slug));
	id = store_step(st) == STORE_ROW ? store_col_i64(st, 0) : -1;
	store_reset(st);
	if (id < 0) {
		snprintf(err, errlen, "cannot create organisation '%s': %s", slug, store_errmsg(c));
		store_write_rollback(c);
		return -1;
	}
	if (store_write_commit(c, err, errlen) != 0)
		return -1;
	return id;
}

bool store_parse_insert(const char *sql, char **table, char **cols, char **key)
{
	const char *p = strcasestr(sql, "INSERT INTO ");
	if (!p)
		return false;
	p += 12;
	const char *lp = strchr(p, '(');
	const char *rp = lp ? strchr(lp, ')') : NULL;
	const char *oc = rp ? strcasestr(rp, "ON CONFLICT(") : NULL;
	const char *ke = oc ? strchr(oc + 12, ')') : NULL;
	if (!ke || strchr(ke, '?'))
		return false;
	*table = xstrndup(p, (size_t)(lp - p));
	*cols = xstrndup(lp + 1, (size_t)(rp - lp - 1));
	*key = xstrdup(oc + 12);
	return true;
}

store_batch_t *store_batch_new(store_conn_t *w, const char *insert_sql)
{
	const store_backend *be = w->store->be;
	return be->batch_new ? be->batch_new(w, insert_sql) : NULL;
}

store_stmt_t *store_batch_stmt(store_batch_t *b)
{
	return b->conn->store->be->batch_stmt(b);
}

void store_batch_row(store_batch_t *b)
{
	b->conn->store->be->batch_row(b);
}

size_t store_batch_rows(store_batch_t *b)
{
	return b->conn->store->be->batch_rows(b);
}

int store_batch_run(store_batch_t *b, bool *inserted, char *err, size_t errlen)
{
	return b->conn->store->be->batch_run(b, inserted, err, errlen);
}

int store_batch_bulk(store_batch_t *b, char *err, size_t errlen)
{
	const store_backend *be = b->conn->store->be;
	return be->batch_bulk ? be->batch_bulk(b, err, errlen) : 0;
}

int store_suspend_trigger(store_conn_t *w, const char *name, char *err, size_t errlen)
{
	const store_backend *be = w->store->be;
	return be->suspend_trigger ? be->suspend_trigger(w, name, err, errlen) : 0;
}

void store_write_long(store_conn_t *w)
{
	const store_backend *be = w->store->be;
	if (be->write_long)
		be->write_long(w);
}

void store_batch_free(store_batch_t *b)
{
	if (b)
		b->conn->store->be->batch_free(b);
}

void store_file_sizes(store_t *s, int64_t *db_bytes, int64_t *wal_bytes)
{
	s->be->sizes(s, db_bytes, wal_bytes);
}

int64_t store_page_cache_bytes(store_t *s)
{
	return s->be->page_cache_bytes ? s->be->page_cache_bytes(s) : 0;
}
