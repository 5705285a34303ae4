#include "http/admission.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/mem.h"

/* DESIGN
 * Jobs wait in one FIFO list per priority. A free worker takes, from the
 * highest priority that has one, the job whose organisation runs the
 * fewest jobs right now (oldest first among equals), skipping
 * organisations at their concurrency cap. So within a class the
 * organisations take turns, a flooding one never holds more than its cap
 * of workers, and the others find a free worker at once. While several
 * organisations have work (or had, within the last second), the cap is
 * also at most their share of the cores (cores / such organisations, at
 * least 1). Organisations
 * with queued or running jobs are counted in a small array (there are
 * few at a time; it is scanned). */

typedef struct node {
	struct node *next, *prev;
	void (*fn)(void *);
	void *arg;
	int64_t org;
} node_t;

typedef struct {
	int64_t org;
	int running, queued;
	double last; /* when its last job ended (monotonic s) */
} org_count;

/* An organisation whose last job ended this recently still counts as one
 * with work: a client asking one view after another is idle between
 * them for a moment only, and should not lose its share each time. */
#define RECENT_S 1.0

struct admission {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	node_t head[ADM__PRIOS]; /* sentinels */
	size_t nqueued;
	org_count *orgs;
	size_t norgs, orgs_cap;
	admission_opts o;
	int cores;
	bool stop;
	pthread_t *tids;
};

static org_count *org_find(admission_t *a, int64_t org, bool add)
{
	for (size_t i = 0; i < a->norgs; i++)
		if (a->orgs[i].org == org)
			return &a->orgs[i];
	if (!add)
		return NULL;
	if (a->norgs == a->orgs_cap) {
		a->orgs_cap = a->orgs_cap ? a->orgs_cap * 2 : 16;
		a->orgs = xrealloc(a->orgs, a->orgs_cap * sizeof *a->orgs);
	}
	a->orgs[a->norgs] = (org_count){org, 0, 0, 0};
	return &a->orgs[a->norgs++];
}

static void org_drop_if_idle(admission_t *a, org_count *c)
{
	if (c->running || c->queued || c->last)
		return;
	*c = a->orgs[--a->norgs];
}

/* Forgets organisations idle for longer than RECENT_S. */
static void orgs_expire(admission_t *a)
{
	double now = clock_now_s();
	for (size_t i = 0; i < a->norgs;) {
		org_count *c = &a->orgs[i];
		if (!c->running && !c->queued && now - c->last > RECENT_S)
			*c = a->orgs[--a->norgs];
		else
			i++;
	}
}

/* The next job to run, unlinked, or NULL when none may run now. */
static node_t *pick(admission_t *a)
{
	/* An organisation's cap shrinks to its share of the cores while others
	 * have work too: a flood then holds one core of two, not both. */
	orgs_expire(a);
	int cap = a->o.org_concurrency;
	int share = a->norgs ? a->cores / (int)a->norgs : a->cores;
	if (share < 1)
		share = 1;
	if (cap > share)
		cap = share;
	for (int p = 0; p < ADM__PRIOS; p++) {
		node_t *best = NULL;
		int best_running = 0;
		for (node_t *n = a->head[p].next; n != &a->head[p]; n = n->next) {
			org_count *c = org_find(a, n->org, false);
			int running = c ? c->running : 0;
			if (running >= cap)
				continue;
			if (!best || running < best_running) {
				best = n;
				best_running = running;
				if (running == 0)
					break; /* nobody can beat an idle org's oldest job */
			}
		}
		if (best) {
			best->prev->next = best->next;
			best->next->prev = best->prev;
			return best;
		}
	}
	return NULL;
}

static void *worker(void *p)
{
	admission_t *a = p;
	/* Misses yield the CPU to the event loops (nice is per thread on
	 * Linux): a cache hit is answered at once even while every worker
	 * computes. Lowering one's own priority needs no privilege. */
	if (a->o.nice > 0)
		setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), a->o.nice);
	pthread_mutex_lock(&a->lock);
	for (;;) {
		node_t *n = pick(a);
		if (!n) {
			if (a->stop && a->nqueued == 0)
				break;
			pthread_cond_wait(&a->cond, &a->lock);
			continue;
		}
		a->nqueued--;
		org_count *c = org_find(a, n->org, true);
		c->queued--;
		c->running++;
		pthread_mutex_unlock(&a->lock);
		n->fn(n->arg);
		pthread_mutex_lock(&a->lock);
		c = org_find(a, n->org, true);
		c->running--;
		c->last = clock_now_s();
		free(n);
		/* a job of this org may have waited on its cap */
		pthread_cond_broadcast(&a->cond);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

admission_t *admission_new(const admission_opts *o)
{
	admission_t *a = xcalloc(1, sizeof *a);
	a->o = *o;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores < 1)
		cores = 1;
	a->cores = (int)cores;
	if (a->o.threads <= 0)
		a->o.threads = (int)cores * 2;
	if (a->o.queue <= 0)
		a->o.queue = 1024;
	if (a->o.org_queue <= 0)
		a->o.org_queue = 256;
	if (a->o.org_concurrency <= 0)
		a->o.org_concurrency = a->o.threads / 2 > 0 ? a->o.threads / 2 : 1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	for (int p = 0; p < ADM__PRIOS; p++)
		a->head[p].next = a->head[p].prev = &a->head[p];
	a->tids = xcalloc((size_t)a->o.threads, sizeof *a->tids);
	for (int i = 0; i < a->o.threads; i++)
		pthread_create(&a->tids[i], NULL, worker, a);
	return a;
}

int admission_push(admission_t *a, int64_t org, adm_prio p, void (*fn)(void *), void *arg)
{
	if ((unsigned)p >= ADM__PRIOS)
		p = ADM_BULK;
	pthread_mutex_lock(&a->lock);
	if (a->stop || a->nqueued >= (size_t)a->o.queue) {
		pthread_mutex_unlock(&a->lock);
		return ADMISSION_FULL;
	}
	org_count *c = org_find(a, org, true);
	if (c->queued >= a->o.org_queue) {
		org_drop_if_idle(a, c);
		pthread_mutex_unlock(&a->lock);
		return ADMISSION_ORG_FULL;
	}
	c->queued++;
	node_t *n = xcalloc(1, sizeof *n);
	n->fn = fn;
	n->arg = arg;
	n->org = org;
	n->prev = a->head[p].prev;
	n->next = &a->head[p];
	n->prev->next = n;
	a->head[p].prev = n;
	a->nqueued++;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	return 0;
}

size_t admission_queued(admission_t *a)
{
	pthread_mutex_lock(&a->lock);
	size_t n = a->nqueued;
	pthread_mutex_unlock(&a->lock);
	return n;
}

void admission_free(admission_t *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	for (int i = 0; i < a->o.threads; i++)
		pthread_join(a->tids[i], NULL);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a->orgs);
	free(a->tids);
	free(a);
}

int admission_prio_of(const char *name)
{
	static const struct {
		const char *name;
		adm_prio p;
	} table[] = {
		{"list", ADM_LIST}, {"match_proposals", ADM_LIST}, {"explain", ADM_LIST},
		{"import", ADM_BULK}, {"task_result", ADM_BULK},
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (!strcmp(table[i].name, name))
			return (int)table[i].p;
	return -1;
}

const char *admission_prio_name(adm_prio p)
{
	static const char *const names[] = {"dashboard", "list", "bulk"};
	return (unsigned)p < ADM__PRIOS ? names[p] : "?";
}
