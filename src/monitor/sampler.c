#include "monitor/sampler.h"

#include <jansson.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "monitor/process.h"

struct sampler {
	store_t *store;
	rcache_t *cache;
	pthread_mutex_t mu;
	sampler_sample *ring;
	size_t cap, n, next; /* next: the slot the coming sample overwrites */
};

static void read_versions(store_t *st, uint64_t ver[TBL__COUNT]);

sampler_t *sampler_new(store_t *s, rcache_t *c, double history_s, double interval_s)
{
	sampler_t *sp = xcalloc(1, sizeof *sp);
	sp->store = s;
	sp->cache = c;
	pthread_mutex_init(&sp->mu, NULL);
	/* Two more than the history holds, so a full window always has a
	 * sample at least that old. */
	sp->cap = (size_t)(history_s / (interval_s > 0 ? interval_s : 1)) + 3;
	sp->ring = xcalloc(sp->cap, sizeof *sp->ring);
	sampler_push(sp);
	return sp;
}

void sampler_free(sampler_t *sp)
{
	if (!sp)
		return;
	pthread_mutex_destroy(&sp->mu);
	free(sp->ring);
	free(sp);
}

void sampler_take(sampler_t *sp, sampler_sample *s)
{
	memset(s, 0, sizeof *s);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->t = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
	sampler_cache_read(sp->cache, &s->cache);
	process_stats ps;
	process_read(&ps);
	s->cpu_s = ps.cpu_seconds;
	s->rss = ps.resident_bytes;
	store_file_sizes(sp->store, &s->db_bytes, &s->wal_bytes);
	read_versions(sp->store, s->ver);
}

void sampler_push(sampler_t *sp)
{
	sampler_sample s;
	sampler_take(sp, &s);
	pthread_mutex_lock(&sp->mu);
	sp->ring[sp->next] = s;
	sp->next = (sp->next + 1) % sp->cap;
	if (sp->n < sp->cap)
		sp->n++;
	pthread_mutex_unlock(&sp->mu);
}

bool sampler_window(sampler_t *sp, double window, sampler_sample *old, sampler_sample *now, bool live)
{
	if (live)
		sampler_take(sp, now);
	pthread_mutex_lock(&sp->mu);
	size_t newest = (sp->next + sp->cap - 1) % sp->cap;
	if (!live)
		*now = sp->ring[newest];
	*old = sp->ring[sp->n < sp->cap ? 0 : sp->next];
	for (size_t k = 0; k < sp->n; k++) {
		const sampler_sample *s = &sp->ring[(newest + sp->cap - k) % sp->cap];
		if (now->t - s->t >= window) {
			*old = *s;
			break;
		}
	}
	pthread_mutex_unlock(&sp->mu);
	return now->t > old->t;
}

static uint64_t jnum(json_t *o, const char *a, const char *b)
{
	json_t *v = b ? json_object_get(json_object_get(o, a), b) : json_object_get(o, a);
	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

static bool jbool(json_t *o, const char *a, const char *b)
{
	return json_is_true(json_object_get(json_object_get(o, a), b));
}

/* rcache exposes its statistics as JSON only: read them back from it. */
void sampler_cache_read(rcache_t *c, sampler_cache *s)
{
	memset(s, 0, sizeof *s);
	if (!c)
		return;
	buf_t b = BUF_INIT;
	rcache_stats_json(c, &b);
	json_t *o = json_loadb(b.p, b.len, 0, NULL);
	buf_free(&b);
	if (!o)
		return;
	s->l1_enabled = jbool(o, "l1", "enabled");
	s->l1_hits = jnum(o, "l1", "hits");
	s->l1_misses = jnum(o, "l1", "misses");
	s->l1_evictions = jnum(o, "l1", "evictions");
	s->l1_expirations = jnum(o, "l1", "expirations");
	s->l1_bytes = jnum(o, "l1", "bytes");
	s->l1_entries = jnum(o, "l1", "entries");
	s->l1_max_bytes = (int64_t)jnum(o, "l1", "max_bytes");
	s->l2_enabled = jbool(o, "l2", "enabled");
	s->l2_up = jbool(o, "l2", "up");
	s->l2_redis = s->l2_enabled && !json_object_get(json_object_get(o, "l2"), "backend");
	s->l2_hits = jnum(o, "l2", "hits");
	s->l2_misses = jnum(o, "l2", "misses");
	s->l3_enabled = jbool(o, "l3", "enabled");
	s->l3_hits = jnum(o, "l3", "hits");
	s->l3_misses = jnum(o, "l3", "misses");
	s->computed = jnum(o, "computed", NULL);
	json_decref(o);
}

static void read_versions(store_t *st, uint64_t ver[TBL__COUNT])
{
	static const char *q = "SELECT tbl, sum(version) FROM data_versions GROUP BY tbl";
	memset(ver, 0, TBL__COUNT * sizeof *ver);
	store_conn_t *c = store_read_begin(st);
	store_stmt_t *s = store_prepare(c, q);
	while (store_step(s) == STORE_ROW) {
		int64_t t = store_col_i64(s, 0);
		if (t >= 0 && t < TBL__COUNT)
			ver[t] = (uint64_t)store_col_i64(s, 1);
	}
	store_reset(s);
	store_read_end(c);
}
