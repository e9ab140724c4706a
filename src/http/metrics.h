/* metrics.h — request counters and latency histograms for /metrics (Prometheus text format).
 * Layer: http, internal to it. Counters are relaxed atomics updated by every loop thread and
 * read by whichever thread renders /metrics; exact cross-counter consistency is not needed. */
#ifndef SIFA_HTTP_METRICS_H
#define SIFA_HTTP_METRICS_H

#include "base/common.h"
#include "http/router.h"

struct sifa_metrics;

/* Route slots: 0..nroutes-1 for the table, then these two. */
enum { SIFA_METRICS_STATIC = -1, SIFA_METRICS_UNMATCHED = -2 };

/* routes borrowed for the metrics' life. *ret is new. */
void sifa_metrics_new(const struct sifa_route *routes, size_t nroutes, struct sifa_metrics **ret);
void sifa_metrics_free(struct sifa_metrics *m);
void sifa_metrics_observe(struct sifa_metrics *m, int route_index, int http_status, uint64_t duration_us);
void sifa_metrics_connection(struct sifa_metrics *m, int delta);
int64_t sifa_metrics_open_connections(const struct sifa_metrics *m);

/* Gauges and counters from other parts, appended when rendering. */
struct sifa_metrics_extra {
    uint64_t db_statements_prepared, db_statement_cache_hits, db_steps, db_errors, db_busy;
    uint64_t writer_jobs, writer_jobs_failed, writer_commits, writer_max_batch, writer_queue_depth;
    uint64_t writer_batches_run_again;
    uint64_t checkpoints_background, checkpoints_inline, checkpoint_pages, wal_pages;
    uint64_t workers_queued, workers_running, workers_done;
    int64_t requests_in_flight;
    uint64_t connections_refused;
};

/* Renders the text exposition into a new NUL-terminated string (*ret_text, free()). */
void sifa_metrics_render(const struct sifa_metrics *m, const struct sifa_metrics_extra *extra, char **ret_text,
                         size_t *ret_len);

#endif
