#include "monitor/process.h"

#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "monitor/metrics.h"

/* Seconds since the epoch at which this process started: its start time in
 * clock ticks after boot (field 22 of /proc/self/stat) plus the boot time. */
static double start_time(void)
{
	char line[1024];
	double btime = -1, ticks = -1;
	FILE *f = fopen("/proc/stat", "r");
	if (f) {
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "btime %lf", &btime) == 1)
				break;
		fclose(f);
	}
	f = fopen("/proc/self/stat", "r");
	if (f) {
		size_t n = fread(line, 1, sizeof line - 1, f);
		line[n] = '\0';
		fclose(f);
		/* The command name may hold spaces and ')': fields restart after
		 * the last ')', with field 3 (state) first. */
		char *p = strrchr(line, ')');
		unsigned long long start;
		if (p && sscanf(p + 1, " %*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
				&start) == 1)
			ticks = (double)start;
	}
	long hz = sysconf(_SC_CLK_TCK);
	if (btime < 0 || ticks < 0 || hz <= 0)
		return -1;
	return btime + ticks / (double)hz;
}

static double count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	long n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	/* Not counting the descriptor opendir itself held. */
	return (double)(n - 1);
}

/* Threads and RssAnon (kB) from /proc/self/status. */
static void read_status(double *threads, double *anon)
{
	*threads = *anon = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return;
	char line[256];
	double kb;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "Threads: %lf", threads) == 1)
			continue;
		if (sscanf(line, "RssAnon: %lf kB", &kb) == 1)
			*anon = kb * 1024;
	}
	fclose(f);
}

void process_read(process_stats *st)
{
	st->cpu_seconds = st->resident_bytes = st->virtual_bytes = -1;
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		st->cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
				  (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		unsigned long long vm, rss;
		long page = sysconf(_SC_PAGESIZE);
		if (fscanf(f, "%llu %llu", &vm, &rss) == 2 && page > 0) {
			st->resident_bytes = (double)rss * (double)page;
			st->virtual_bytes = (double)vm * (double)page;
		}
		fclose(f);
	}
	st->start_time = start_time();
	st->open_fds = count_fds();
	struct rlimit rl;
	st->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (double)rl.rlim_cur : -1;
	read_status(&st->threads, &st->anon_bytes);
}

double process_uptime(void)
{
	static double first; /* a benign race: any early value will do */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	double now = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
	if (!first)
		first = now;
	double st = start_time();
	double up = st >= 0 ? now - st : now - first;
	return up > 0 ? up : 0;
}

int process_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static void heap_render(buf_t *out);

static void put(buf_t *out, const char *name, const char *help, const char *type, double v)
{
	if (v < 0)
		return;
	metrics_format_family(out, name, help, type);
	buf_puts(out, name);
	buf_putc(out, ' ');
	metrics_format_value(out, v);
	buf_putc(out, '\n');
}

void process_render(buf_t *out)
{
	process_stats st;
	process_read(&st);
	put(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter",
	    st.cpu_seconds);
	put(out, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", st.resident_bytes);
	put(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", st.virtual_bytes);
	put(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge",
	    st.start_time);
	put(out, "process_open_fds", "Number of open file descriptors.", "gauge", st.open_fds);
	put(out, "process_max_fds", "Maximum number of open file descriptors.", "gauge", st.max_fds);
	put(out, "process_threads", "Number of OS threads in the process.", "gauge", st.threads);
	heap_render(out);
}

/* Large blocks at least this big are mapped one by one and unmapped when
 * freed. glibc's default threshold moves: each large block freed raises it
 * to that block's size (up to 32 MiB), after which every large transient
 * buffer (an answer's JSON, its gzip, an export's pages, a task's result)
 * is carved out of the arenas instead and, freed among the long-lived
 * entries of the L1 cache, stays there as free memory. Measured in a soak
 * (bench/soak.sh, minute 8): 65 MiB free in the arenas with the moving
 * threshold, 7 MiB with it fixed. Setting it also fixes the trim
 * threshold (128 KiB), so a freed top of an arena goes back at once. */
#define MMAP_THRESHOLD (128 << 10)

void process_heap_tune(void)
{
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
}

void process_heap(process_heap_stats *h)
{
	/* mallinfo2 sums every arena (it takes each arena's lock in turn). */
	struct mallinfo2 mi = mallinfo2();
	h->arena_bytes = (double)mi.arena;
	h->in_use_bytes = (double)mi.uordblks;
	h->free_bytes = (double)mi.fordblks;
	h->free_chunks = (double)mi.ordblks;
	h->mmap_bytes = (double)mi.hblkhd;
	h->mmap_chunks = (double)mi.hblks;
}

/* The allocator's view beside RSS: a heap whose in-use bytes stay flat
 * while its free bytes grow is fragmenting, not leaking. */
static void heap_render(buf_t *out)
{
	process_heap_stats h;
	process_heap(&h);
	put(out, "brisk_heap_arena_bytes", "Bytes the allocator's arenas took from the system (besides mmapped chunks).",
	    "gauge", h.arena_bytes);
	put(out, "brisk_heap_in_use_bytes", "Bytes in use in the allocator's arenas.", "gauge", h.in_use_bytes);
	put(out, "brisk_heap_free_bytes", "Free bytes held in the allocator's arenas.", "gauge", h.free_bytes);
	put(out, "brisk_heap_free_chunks", "Free chunks in the allocator's arenas.", "gauge", h.free_chunks);
	put(out, "brisk_heap_mmap_bytes", "Bytes in chunks mapped one by one (large allocations).", "gauge",
	    h.mmap_bytes);
}
