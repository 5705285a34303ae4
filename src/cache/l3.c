#include "cache/l3.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"

struct l3 {
	char *dir;
	int64_t max_bytes;
	uint64_t ttl_ms;
	pthread_mutex_t lock; /* guards bytes/entries and trimming */
	int64_t bytes, entries;
	atomic_uint_fast64_t hits, misses, writes, evictions, errors;
};

static void path_of(const l3_t *d, uint64_t hash, char *out, size_t n)
{
	snprintf(out, n, "%s/%016llx.brc", d->dir, (unsigned long long)hash);
}

static void scan(l3_t *d)
{
	DIR *dir = opendir(d->dir);
	if (!dir)
		return;
	struct dirent *e;
	char p[4096];
	struct stat st;
	while ((e = readdir(dir))) {
		if (!strstr(e->d_name, ".brc"))
			continue;
		snprintf(p, sizeof p, "%s/%s", d->dir, e->d_name);
		if (stat(p, &st) == 0) {
			d->bytes += st.st_size;
			d->entries++;
		}
	}
	closedir(dir);
}

l3_t *l3_new(const char *dir, int64_t max_bytes, uint64_t ttl_ms, char *err, size_t errlen)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create cache directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	l3_t *d = xcalloc(1, sizeof *d);
	d->dir = xstrdup(dir);
	d->max_bytes = max_bytes > 0 ? max_bytes : (int64_t)256 << 20;
	d->ttl_ms = ttl_ms;
	pthread_mutex_init(&d->lock, NULL);
	scan(d);
	return d;
}

void l3_free(l3_t *d)
{
	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	free(d->dir);
	free(d);
}

bool l3_get(l3_t *d, uint64_t hash, buf_t *out)
{
	char p[4096];
	path_of(d, hash, p, sizeof p);
	int fd = open(p, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		atomic_fetch_add(&d->misses, 1);
		return false;
	}
	if (d->ttl_ms && (uint64_t)(time(NULL) - st.st_mtime) * 1000 > d->ttl_ms) {
		close(fd);
		atomic_fetch_add(&d->misses, 1);
		return false;
	}
	buf_reset(out);
	buf_reserve(out, (size_t)st.st_size);
	ssize_t n = read(fd, out->p, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		atomic_fetch_add(&d->errors, 1);
		return false;
	}
	out->len = (size_t)n;
	atomic_fetch_add(&d->hits, 1);
	return true;
}

typedef struct {
	char name[64];
	time_t mtime;
	off_t size;
} file_info;

static int by_mtime(const void *a, const void *b)
{
	const file_info *x = a, *y = b;
	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Deletes the oldest files until the directory is under 90% of budget.
 * Called with the lock held; rare (only when over budget). */
static void trim(l3_t *d)
{
	DIR *dir = opendir(d->dir);
	if (!dir)
		return;
	file_info *fs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	char p[4096];
	struct stat st;
	while ((e = readdir(dir))) {
		if (!strstr(e->d_name, ".brc") || strlen(e->d_name) >= sizeof fs[0].name)
			continue;
		snprintf(p, sizeof p, "%s/%s", d->dir, e->d_name);
		if (stat(p, &st) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			fs = xrealloc(fs, cap * sizeof *fs);
		}
		memcpy(fs[n].name, e->d_name, strlen(e->d_name) + 1);
		fs[n].mtime = st.st_mtime;
		fs[n].size = st.st_size;
		n++;
	}
	closedir(dir);
	qsort(fs, n, sizeof *fs, by_mtime);
	int64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += fs[i].size;
	for (size_t i = 0; i < n && total > d->max_bytes * 9 / 10; i++) {
		snprintf(p, sizeof p, "%s/%s", d->dir, fs[i].name);
		if (unlink(p) == 0) {
			total -= fs[i].size;
			atomic_fetch_add(&d->evictions, 1);
		}
	}
	int64_t left = 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof p, "%s/%s", d->dir, fs[i].name);
		if (stat(p, &st) == 0)
			left++;
	}
	d->bytes = total;
	d->entries = left;
	free(fs);
}

void l3_put(l3_t *d, uint64_t hash, const char *p, size_t n)
{
	char path[4096], tmp[4200];
	path_of(d, hash, path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.%d.%lx.tmp", path, getpid(), (unsigned long)pthread_self());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		atomic_fetch_add(&d->errors, 1);
		return;
	}
	bool ok = write(fd, p, n) == (ssize_t)n;
	close(fd);
	struct stat old;
	bool existed = stat(path, &old) == 0;
	/* rename is atomic: a reader sees the old file or the new, never half */
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		atomic_fetch_add(&d->errors, 1);
		return;
	}
	atomic_fetch_add(&d->writes, 1);
	pthread_mutex_lock(&d->lock);
	d->bytes += (int64_t)n - (existed ? old.st_size : 0);
	if (!existed)
		d->entries++;
	if (d->bytes > d->max_bytes)
		trim(d);
	pthread_mutex_unlock(&d->lock);
}

void l3_stats(l3_t *d, l3_stats_t *o)
{
	o->hits = atomic_load(&d->hits);
	o->misses = atomic_load(&d->misses);
	o->writes = atomic_load(&d->writes);
	o->evictions = atomic_load(&d->evictions);
	o->errors = atomic_load(&d->errors);
	pthread_mutex_lock(&d->lock);
	o->bytes = d->bytes;
	o->entries = d->entries;
	pthread_mutex_unlock(&d->lock);
}
