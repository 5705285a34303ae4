#include "store/sqlite_wb.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"

/* DESIGN
 * A write of hundreds of MB (a 1M-row import) puts every page in the WAL,
 * and the checkpoint that follows its COMMIT fsyncs the WAL, copies it
 * into the database and fsyncs that. Left alone, the kernel writes none
 * of it back before the fsyncs (it starts after 30 s or at 10% of memory
 * dirty): each fsync then waits for the whole file, and the import's last
 * half second was spent waiting on the disk (WAL 0.25 s, database 0.2 s,
 * and the WAL's unlink at close 0.15 s to drop its dirty pages, at 1M
 * sales orders). sync_file_range(SYNC_FILE_RANGE_WRITE) only starts the
 * writeback and waits for nothing: asked every TICK_MS from a thread of
 * its own, the disk works while the import computes and while the
 * checkpoint copies, and SQLite's fsyncs find little left to write.
 * Durability is SQLite's, unchanged: its fsyncs still come at the same
 * moments. The database's descriptor is the store's, opened once and
 * closed after SQLite's connections (closing any descriptor of a file
 * drops the process's POSIX locks on it, SQLite's too); the WAL's is
 * ours (SQLite locks the -shm file, never the WAL). */

#define TICK_MS 20

struct lite_wb {
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	char *wal_path;
	int db_fd;
};

static void *wb_main(void *arg)
{
	lite_wb *w = arg;
	int wal = -1;
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		pthread_mutex_unlock(&w->mu);
		if (wal < 0)
			wal = open(w->wal_path, O_RDONLY | O_CLOEXEC);
		/* offset 0, length 0: the whole file, whatever it has grown to */
		if (wal >= 0)
			sync_file_range(wal, 0, 0, SYNC_FILE_RANGE_WRITE);
		if (w->db_fd >= 0)
			sync_file_range(w->db_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&w->mu);
		if (!w->stop)
			pthread_cond_timedwait(&w->cv, &w->mu, &until);
	}
	pthread_mutex_unlock(&w->mu);
	if (wal >= 0)
		close(wal);
	return NULL;
}

lite_wb *lite_wb_start(const char *wal_path, int db_fd)
{
	lite_wb *w = xcalloc(1, sizeof *w);
	w->wal_path = xstrdup(wal_path);
	w->db_fd = db_fd;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->tid, NULL, wb_main, w) != 0) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w->wal_path);
		free(w);
		return NULL;
	}
	return w;
}

void lite_wb_stop(lite_wb *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->tid, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->wal_path);
	free(w);
}
