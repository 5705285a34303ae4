/* gen_batch: the generator's payments that settle several invoices at once
 * (issue 15): a customer now and then pays two to four invoices with one
 * transfer. Private to src/ingest/gen*.c. */
#ifndef BRISK_GEN_BATCH_H
#define BRISK_GEN_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/date.h"
#include "ingest/gen_names.h"

#define GEN_BATCH_MAX 4

typedef struct {
	uint32_t inv[GEN_BATCH_MAX]; /* invoice row numbers, 1-based */
	uint32_t seq[GEN_BATCH_MAX]; /* their numbers' sequence and year */
	uint16_t year[GEN_BATCH_MAX];
	int64_t amount;              /* their total */
	date_t first_issue, when;    /* the first one's issue date; the latest planned payment */
	uint32_t customer;
	uint8_t n, want;
} gen_batch;

typedef struct {
	gen_batch *b;
	size_t n, cap;
	int32_t *open; /* per customer: the batch it is filling, -1 none */
	size_t ncust;
} gen_batches;

void gen_batches_init(gen_batches *g, size_t ncust);
void gen_batches_free(gen_batches *g);

/* Puts invoice inv (issued on issue, to be paid on when) into customer's
 * open batch, starting one that wants 2-4 invoices. Returns the batch
 * (index + 1) to pay now when it is complete, else 0; *closed gets a batch
 * closed early because its first invoice is over 45 days older (0: none). */
uint32_t gen_batches_add(gen_batches *g, gen_rng *r, uint32_t customer, uint32_t inv, uint32_t seq, int year,
                         int64_t amount, date_t issue, date_t when, uint32_t *closed);

/* Closes the batches still open; calls pay(ud, batch + 1) for each. */
void gen_batches_flush(gen_batches *g, void (*pay)(void *ud, uint32_t batch), void *ud);

/* Appends a batch payment's reference: its invoice numbers (most of the
 * time), or a text naming none. */
void gen_batch_reference(gen_rng *r, const gen_batch *b, buf_t *out);

#endif
