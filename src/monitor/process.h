/* process: this process's resources read from /proc and getrusage, for the
 * process_* metrics of the Prometheus exposition (the names and meanings
 * of the standard client libraries) and for /api/v1/performance and the
 * resource alerts. Thread-safe; every call reads the kernel afresh. */
#ifndef BRISK_PROCESS_H
#define BRISK_PROCESS_H

#include "core/buf.h"

typedef struct {
	double cpu_seconds;     /* user + system; -1 when unknown (same below) */
	double resident_bytes;  /* RSS */
	double anon_bytes;      /* RssAnon: private memory, without mapped file pages */
	double virtual_bytes;
	double start_time;      /* seconds since the epoch */
	double open_fds;
	double max_fds;         /* soft limit; -1 when unlimited */
	double threads;
} process_stats;

typedef struct {
	double arena_bytes;   /* taken from the system by the arenas */
	double in_use_bytes;  /* allocated in the arenas */
	double free_bytes;    /* free in the arenas (part of it may be handed back) */
	double free_chunks;
	double mmap_bytes;    /* large allocations mapped one by one */
	double mmap_chunks;
} process_heap_stats;

/* Fills st; a figure the kernel does not give is -1. */
void process_read(process_stats *st);

/* Sets the allocator's policy for a long-running server: blocks of 128 KiB
 * and more mapped one by one (a fixed threshold; see process.c). Call
 * before threads start. */
void process_heap_tune(void);

/* Fills h from glibc's mallinfo2 (all arenas; brief lock of each). */
void process_heap(process_heap_stats *h);

/* Seconds since this process started (from /proc; falls back to the time
 * since the first call). */
double process_uptime(void);

/* Number of online CPUs (at least 1), to turn CPU seconds into a share. */
int process_cpus(void);

/* Appends the process_* families (HELP, TYPE and one sample each):
 * process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_start_time_seconds,
 * process_open_fds, process_max_fds, process_threads, then the heap's
 * brisk_heap_{arena,in_use,free,mmap}_bytes and brisk_heap_free_chunks.
 * Figures the kernel does not give are left out. */
void process_render(buf_t *out);

#endif
