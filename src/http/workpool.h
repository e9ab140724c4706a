/* workpool.h — a fixed pool of threads for long work (reports, imports, exports, backups).
 * Layer: http, internal to it (it knows nothing of h2o: the server posts completions back to
 * its loops from the after callback). The queue is bounded; submit refuses when full or stopping. */
#ifndef SIFA_HTTP_WORKPOOL_H
#define SIFA_HTTP_WORKPOOL_H

#include "base/common.h"

struct sifa_workpool;

/* work runs on a pool thread; after (may be NULL) runs right after on the same thread with
 * work's status and error (err is released after after returns). */
typedef int (*sifa_workpool_fn)(void *ctx, struct sifa_error *err);
typedef void (*sifa_workpool_after_fn)(void *ctx, int status, const struct sifa_error *err);

void sifa_workpool_new(int threads, size_t max_queue, struct sifa_workpool **ret_pool);
/* SIFA_EUNAVAILABLE when stopping or full (then nothing runs). Thread-safe. */
int sifa_workpool_submit(struct sifa_workpool *pool, sifa_workpool_fn work, sifa_workpool_after_fn after, void *ctx);
/* Runs everything queued, joins the threads and frees the pool. Accepts NULL. */
void sifa_workpool_free(struct sifa_workpool *pool);

struct sifa_workpool_stats {
    uint64_t queued, running, done;
};
void sifa_workpool_get_stats(struct sifa_workpool *pool, struct sifa_workpool_stats *ret_stats);

#endif
