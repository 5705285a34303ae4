#include "http/workq.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/mem.h"

typedef struct {
	void (*fn)(void *);
	void *arg;
} job_t;

struct workq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	job_t *ring;
	size_t cap, head, n;
	bool stop;
	int nthreads;
	pthread_t *tids;
};

static void *worker(void *p)
{
	workq_t *q = p;
	for (;;) {
		pthread_mutex_lock(&q->lock);
		while (q->n == 0 && !q->stop)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->n == 0 && q->stop) {
			pthread_mutex_unlock(&q->lock);
			return NULL;
		}
		job_t j = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->n--;
		pthread_mutex_unlock(&q->lock);
		j.fn(j.arg);
	}
}

workq_t *workq_new(int nthreads, size_t capacity)
{
	workq_t *q = xcalloc(1, sizeof *q);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->cap = capacity;
	q->ring = xcalloc(capacity, sizeof *q->ring);
	q->nthreads = nthreads;
	q->tids = xcalloc((size_t)nthreads, sizeof *q->tids);
	for (int i = 0; i < nthreads; i++)
		pthread_create(&q->tids[i], NULL, worker, q);
	return q;
}

int workq_push(workq_t *q, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&q->lock);
	if (q->n == q->cap || q->stop) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	q->ring[(q->head + q->n) % q->cap] = (job_t){fn, arg};
	q->n++;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

size_t workq_pending(workq_t *q)
{
	pthread_mutex_lock(&q->lock);
	size_t n = q->n;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void workq_free(workq_t *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (int i = 0; i < q->nthreads; i++)
		pthread_join(q->tids[i], NULL);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q->ring);
	free(q->tids);
	free(q);
}
