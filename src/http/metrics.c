/* metrics.c — see metrics.h. Layer: http. Owns fixed arrays of atomic counters, one row per
 * route plus "static" and "unmatched"; statuses are bucketed into a fixed list so memory is
 * bounded whatever clients send. Rendering writes to a memstream. */
#include "base/common.h"
#include "http/metrics.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static const int tracked_statuses[] = {200, 201, 202, 204, 206, 301, 302, 304, 400, 401, 403, 404,
                                       405, 408, 409, 412, 413, 414, 415, 422, 429, 500, 503, 0};
#define NSTATUS SIFA_ARRAY_SIZE(tracked_statuses) /* the last slot (0) collects any other status */

/* Upper bounds in microseconds; a final +Inf bucket is implied. */
static const uint64_t latency_bounds_us[] = {100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
                                             100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
#define NBUCKET (SIFA_ARRAY_SIZE(latency_bounds_us) + 1)

struct route_row {
    _Atomic uint64_t by_status[NSTATUS];
    _Atomic uint64_t latency[NBUCKET];
    _Atomic uint64_t latency_sum_us;
};

struct sifa_metrics {
    const struct sifa_route *routes;
    size_t nroutes;
    struct route_row *rows; /* nroutes + 2 */
    _Atomic int64_t open_connections;
    _Atomic uint64_t connections_total;
};

void sifa_metrics_new(const struct sifa_route *routes, size_t nroutes, struct sifa_metrics **ret)
{
    struct sifa_metrics *m = sifa_xcalloc(1, sizeof(*m));
    m->routes = routes;
    m->nroutes = nroutes;
    m->rows = sifa_xcalloc(nroutes + 2, sizeof(struct route_row));
    *ret = m;
}

void sifa_metrics_free(struct sifa_metrics *m)
{
    if (m == NULL)
        return;
    free(m->rows);
    free(m);
}

static size_t row_index(const struct sifa_metrics *m, int route_index)
{
    if (route_index >= 0 && (size_t)route_index < m->nroutes)
        return (size_t)route_index;
    return route_index == SIFA_METRICS_STATIC ? m->nroutes : m->nroutes + 1;
}

static const char *row_name(const struct sifa_metrics *m, size_t row)
{
    if (row < m->nroutes)
        return m->routes[row].name;
    return row == m->nroutes ? "static" : "unmatched";
}

void sifa_metrics_observe(struct sifa_metrics *m, int route_index, int http_status, uint64_t duration_us)
{
    struct route_row *r = &m->rows[row_index(m, route_index)];
    size_t s = NSTATUS - 1;
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (tracked_statuses[i] == http_status) {
            s = i;
            break;
        }
    atomic_fetch_add_explicit(&r->by_status[s], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < NBUCKET - 1 && duration_us > latency_bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&r->latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->latency_sum_us, duration_us, memory_order_relaxed);
}

void sifa_metrics_connection(struct sifa_metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->open_connections, delta, memory_order_relaxed);
    if (delta > 0)
        atomic_fetch_add_explicit(&m->connections_total, 1, memory_order_relaxed);
}

int64_t sifa_metrics_open_connections(const struct sifa_metrics *m)
{
    return atomic_load_explicit(&m->open_connections, memory_order_relaxed);
}

static uint64_t load(const _Atomic uint64_t *p)
{
    return atomic_load_explicit(p, memory_order_relaxed);
}

void sifa_metrics_render(const struct sifa_metrics *m, const struct sifa_metrics_extra *x, char **ret_text,
                         size_t *ret_len)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        abort(); /* only fails without memory */

    fputs("# HELP sifa_http_requests_total HTTP requests by route and status.\n"
          "# TYPE sifa_http_requests_total counter\n",
          f);
    for (size_t row = 0; row < m->nroutes + 2; row++)
        for (size_t s = 0; s < NSTATUS; s++) {
            uint64_t v = load(&m->rows[row].by_status[s]);
            if (v == 0)
                continue;
            if (tracked_statuses[s] != 0)
                fprintf(f, "sifa_http_requests_total{route=\"%s\",status=\"%d\"} %" PRIu64 "\n", row_name(m, row),
                        tracked_statuses[s], v);
            else
                fprintf(f, "sifa_http_requests_total{route=\"%s\",status=\"other\"} %" PRIu64 "\n", row_name(m, row),
                        v);
        }

    fputs("# HELP sifa_http_request_duration_seconds Time from the first byte of a request to the end of its "
          "response.\n# TYPE sifa_http_request_duration_seconds histogram\n",
          f);
    for (size_t row = 0; row < m->nroutes + 2; row++) {
        uint64_t cumulative = 0;
        for (size_t b = 0; b < NBUCKET; b++)
            cumulative += load(&m->rows[row].latency[b]);
        if (cumulative == 0)
            continue;
        const char *name = row_name(m, row);
        cumulative = 0;
        for (size_t b = 0; b < NBUCKET; b++) {
            cumulative += load(&m->rows[row].latency[b]);
            if (b < NBUCKET - 1)
                fprintf(f, "sifa_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %" PRIu64 "\n", name,
                        (double)latency_bounds_us[b] / 1e6, cumulative);
            else
                fprintf(f, "sifa_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", name,
                        cumulative);
        }
        fprintf(f, "sifa_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
                (double)load(&m->rows[row].latency_sum_us) / 1e6);
        fprintf(f, "sifa_http_request_duration_seconds_count{route=\"%s\"} %" PRIu64 "\n", name, cumulative);
    }

    fprintf(f,
            "# HELP sifa_http_open_connections Client connections open now.\n"
            "# TYPE sifa_http_open_connections gauge\nsifa_http_open_connections %" PRId64 "\n"
            "# HELP sifa_http_connections_total Client connections accepted.\n"
            "# TYPE sifa_http_connections_total counter\nsifa_http_connections_total %" PRIu64 "\n"
            "# HELP sifa_http_connections_refused_total Connections closed at once because of max_connections.\n"
            "# TYPE sifa_http_connections_refused_total counter\nsifa_http_connections_refused_total %" PRIu64 "\n"
            "# HELP sifa_http_requests_in_flight Requests being handled now.\n"
            "# TYPE sifa_http_requests_in_flight gauge\nsifa_http_requests_in_flight %" PRId64 "\n",
            sifa_metrics_open_connections(m), load(&m->connections_total), x->connections_refused,
            x->requests_in_flight);

    fprintf(f,
            "# HELP sifa_db_statements_prepared_total SQL statements compiled (statement cache misses).\n"
            "# TYPE sifa_db_statements_prepared_total counter\nsifa_db_statements_prepared_total %" PRIu64 "\n"
            "# HELP sifa_db_statement_cache_hits_total Prepared statements reused from the cache.\n"
            "# TYPE sifa_db_statement_cache_hits_total counter\nsifa_db_statement_cache_hits_total %" PRIu64 "\n"
            "# HELP sifa_db_steps_total Statement steps on the read connections.\n"
            "# TYPE sifa_db_steps_total counter\nsifa_db_steps_total %" PRIu64 "\n"
            "# HELP sifa_db_errors_total Database errors on the read connections.\n"
            "# TYPE sifa_db_errors_total counter\nsifa_db_errors_total %" PRIu64 "\n"
            "# HELP sifa_db_busy_total Lock waits that timed out.\n"
            "# TYPE sifa_db_busy_total counter\nsifa_db_busy_total %" PRIu64 "\n",
            x->db_statements_prepared, x->db_statement_cache_hits, x->db_steps, x->db_errors, x->db_busy);
    fprintf(f,
            "# HELP sifa_db_write_jobs_total Write jobs run by the group-commit writer.\n"
            "# TYPE sifa_db_write_jobs_total counter\nsifa_db_write_jobs_total %" PRIu64 "\n"
            "# HELP sifa_db_write_jobs_failed_total Write jobs rolled back.\n"
            "# TYPE sifa_db_write_jobs_failed_total counter\nsifa_db_write_jobs_failed_total %" PRIu64 "\n"
            "# HELP sifa_db_commits_total Transactions committed by the writer (one durable sync each).\n"
            "# TYPE sifa_db_commits_total counter\nsifa_db_commits_total %" PRIu64 "\n"
            "# HELP sifa_db_commit_batch_max Most write jobs committed together so far.\n"
            "# TYPE sifa_db_commit_batch_max gauge\nsifa_db_commit_batch_max %" PRIu64 "\n"
            "# HELP sifa_db_write_queue_depth Write jobs waiting.\n"
            "# TYPE sifa_db_write_queue_depth gauge\nsifa_db_write_queue_depth %" PRIu64 "\n"
            "# HELP sifa_db_write_batches_run_again_total Batches run a second time, each job in a savepoint, "
            "because a job failed in the first run without savepoints.\n"
            "# TYPE sifa_db_write_batches_run_again_total counter\nsifa_db_write_batches_run_again_total %" PRIu64
            "\n",
            x->writer_jobs, x->writer_jobs_failed, x->writer_commits, x->writer_max_batch, x->writer_queue_depth,
            x->writer_batches_run_again);
    fprintf(f,
            "# HELP sifa_db_checkpoints_total Checkpoints of the write-ahead log: by the checkpointer thread, and "
            "by the writer when a commit found the log at its limit.\n"
            "# TYPE sifa_db_checkpoints_total counter\n"
            "sifa_db_checkpoints_total{thread=\"checkpointer\"} %" PRIu64 "\n"
            "sifa_db_checkpoints_total{thread=\"writer\"} %" PRIu64 "\n"
            "# HELP sifa_db_checkpoint_pages_total Pages the checkpointer copied into the database file.\n"
            "# TYPE sifa_db_checkpoint_pages_total counter\nsifa_db_checkpoint_pages_total %" PRIu64 "\n"
            "# HELP sifa_db_wal_pages Pages in the write-ahead log after the last commit.\n"
            "# TYPE sifa_db_wal_pages gauge\nsifa_db_wal_pages %" PRIu64 "\n",
            x->checkpoints_background, x->checkpoints_inline, x->checkpoint_pages, x->wal_pages);
    fprintf(f,
            "# HELP sifa_worker_jobs_queued Long jobs waiting for a worker.\n"
            "# TYPE sifa_worker_jobs_queued gauge\nsifa_worker_jobs_queued %" PRIu64 "\n"
            "# HELP sifa_worker_jobs_running Long jobs running.\n"
            "# TYPE sifa_worker_jobs_running gauge\nsifa_worker_jobs_running %" PRIu64 "\n"
            "# HELP sifa_worker_jobs_done_total Long jobs finished.\n"
            "# TYPE sifa_worker_jobs_done_total counter\nsifa_worker_jobs_done_total %" PRIu64 "\n",
            x->workers_queued, x->workers_running, x->workers_done);
    fclose(f);
    *ret_text = text;
    *ret_len = len;
}
