/* common: small pieces shared by the libFuzzer drivers (header only). */
#ifndef BRISK_FUZZ_COMMON_H
#define BRISK_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* A csv_read_fn over a byte array, at most chunk bytes per call (0 = as
 * many as asked), so the drivers can compare chunkings. */
typedef struct {
	const uint8_t *p;
	size_t len, pos, chunk;
} fuzz_reader;

static inline ssize_t fuzz_read(void *ud, char *buf, size_t n)
{
	fuzz_reader *r = ud;
	size_t left = r->len - r->pos;
	if (r->chunk && n > r->chunk)
		n = r->chunk;
	if (n > left)
		n = left;
	memcpy(buf, r->p + r->pos, n);
	r->pos += n;
	return (ssize_t)n;
}

/* An invariant broke: say which and abort, so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond, ...)                                                \
	do {                                                                     \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                    \
			fputc('\n', stderr);                                             \
			abort();                                                         \
		}                                                                    \
	} while (0)

#endif
