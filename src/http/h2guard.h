/* h2guard: judges HTTP/2 requests on their headers before h2o reads their
 * bodies (h2o 2.2 buffers a stream's whole body before it hands the
 * request over, with no hook in between).
 *
 * The connection layer passes every read of an HTTP/2 connection through
 * h2guard_scan before h2o sees it. The scan walks the complete frames,
 * decodes each header block with h2o's own HPACK decoder into a table of
 * its own (fed the same blocks in the same order, it stays equal to
 * h2o's), and asks judge about each request that announces a body. A
 * refused request has END_STREAM set on its HEADERS frame, so h2o takes
 * it as complete without a body and the handler answers the reason; its
 * DATA frames are removed until the answer has left, and later ones make
 * h2o reset the stream (the client stops sending). A decoding failure stops the
 * checks on that connection (h2o then closes it anyway). */
#ifndef BRISK_H2GUARD_H
#define BRISK_H2GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct h2guard h2guard_t;

/* The verdict on a request with a body: -1 read it, else the status to
 * answer without it (why gets the detail; 0: the handler answers alone). */
typedef int (*h2guard_judge_fn)(void *ud, const char *method, size_t method_len, const char *path, size_t path_len,
                                const char *auth, size_t auth_len, bool cookie /* a Cookie header came */,
                                size_t content_length /* SIZE_MAX: unknown */, char *why, size_t whylen);

h2guard_t *h2guard_new(void);
void h2guard_free(h2guard_t *g);
/* Scans buf[0..*len) (frames from a frame boundary; skip_preface when the
 * client preface may lead). Changes buf in place and *len when frames are
 * removed. Incomplete trailing frames are left for the next scan. */
void h2guard_scan(h2guard_t *g, char *buf, size_t *len, bool skip_preface, h2guard_judge_fn judge, void *ud);
/* After h2o read the scanned buffer: left is what it did not consume. */
void h2guard_after(h2guard_t *g, size_t left);
/* True (once per refusal) when a bodyless request with this method, path
 * and authorization value is one whose body was dropped: status (0: let
 * the handler answer) and why to answer. */
bool h2guard_refused(h2guard_t *g, const char *method, size_t method_len, const char *path, size_t path_len,
                     const char *auth, size_t auth_len, int *status, char *why, size_t whylen);

#endif
