/* writer.c — group commit: one thread owns the write connection and runs queued write jobs in
 * batches, one transaction (one fsync) per batch, each job in its own savepoint unless it is
 * alone in its batch or the batch can be run again (below). Layer: db.
 * Written against db.h only, so it serves every engine. Invariants: the queue is a ring buffer
 * guarded by `lock`, never longer than WRITER_MAX_QUEUE; only the writer thread touches the
 * connection after start; every job accepted by submit gets exactly one done call, with the
 * job's own status, or with the commit's error when the batch it succeeded in failed to commit;
 * once `stopping` is set nothing is accepted, and the thread exits only with an empty queue.
 *
 * Why batches of rerunnable jobs go without savepoints: a savepoint makes the engine copy every
 * page a job touches before changing it (SQLite's statement journal) — for an API create about
 * 25 pages, 100 KB copied and a hundred allocations, a tenth of the writer's time. So such a
 * batch first runs as one plain transaction. Most jobs that fail do so before they change a row
 * (a record not found, a stale version, a transition not allowed): the connection's count of
 * changed rows tells, and such a job is left out with its error while the others go on. Only a
 * job that fails after changing rows (a number conflict on insert, a full disk) needs undoing
 * alone: then everything is rolled back and the batch runs again the careful way, each job in a
 * savepoint, and only that run's results count. */
#include "base/common.h"

#include "db/db.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum {
    WRITER_MAX_QUEUE = 65536,
    WRITER_DEFAULT_BATCH = 1024,
    WRITER_INITIAL_QUEUE = 256,
};

static const char job_savepoint[] = "sifa_job";

struct writer_job {
    sifa_db_write_fn fn;
    sifa_db_write_done_fn done;
    void *ctx;
    unsigned flags; /* SIFA_DB_JOB_* */
};

struct sifa_db_writer {
    struct sifa_db *db; /* owned by the thread once started */
    struct sifa_db_checkpointer *checkpointer; /* owned: checkpoints off the writer thread */
    struct sifa_db_writer_hooks hooks;
    pthread_t thread;
    size_t max_batch;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t nonempty;
    struct writer_job *ring;
    size_t cap, head, count; /* cap is a power of two */
    bool stopping;
    struct sifa_db_writer_stats stats;

    /* Batch scratch, used by the writer thread only. */
    struct writer_job *batch;
    int *status;
    struct sifa_error *errs;
};

/* ---- the writer thread ---- */

static void fail_job(struct sifa_error *e, int status, const struct sifa_error *cause)
{
    sifa_error_release(e);
    if (cause != NULL && cause->status != 0) {
        e->status = status;
        memcpy(e->code, cause->code, sizeof(e->code));
        memcpy(e->message, cause->message, sizeof(e->message));
        e->details = json_deep_copy(cause->details); /* NULL stays NULL */
    } else {
        sifa_error_set(e, status, "db_error", "写入事务失败");
    }
}

enum batch_outcome { BATCH_FINISHED, BATCH_RUN_AGAIN };

/* Runs one batch in one transaction. Fills w->status/w->errs for jobs [0, n). isolate: each job
 * in a savepoint. optimistic (batches of rerunnable jobs, isolate false): a job that fails having
 * changed no row keeps its error and the batch goes on; the first that fails after changing rows
 * rolls the whole transaction back and the answer is BATCH_RUN_AGAIN, nothing filled. */
static enum batch_outcome run_transaction(struct sifa_db_writer *w, size_t n, bool isolate, bool optimistic)
{
    struct sifa_db *db = w->db;
    struct sifa_error txerr = {0};
    size_t ok = 0;

    int r = sifa_db_begin(db, &txerr);
    if (r < 0) {
        for (size_t i = 0; i < n; i++) {
            w->status[i] = r;
            fail_job(&w->errs[i], r, &txerr);
        }
        sifa_error_release(&txerr);
        return BATCH_FINISHED;
    }

    bool broken = false; /* the transaction itself is gone or unusable */
    for (size_t i = 0; i < n && !broken; i++) {
        struct sifa_error *e = &w->errs[i];
        r = isolate ? sifa_db_savepoint(db, job_savepoint, e) : 0;
        if (r < 0) {
            w->status[i] = r;
            fail_job(&txerr, r, e);
            broken = true;
            break;
        }
        int64_t changes_before = optimistic ? sifa_db_total_changes(db) : 0;
        r = w->batch[i].fn(db, w->batch[i].ctx, e);
        if (r < 0) {
            if (e->status == 0)
                sifa_error_set(e, r, "db_job_failed", "写入操作失败（%s）", sifa_status_name(r));
            w->status[i] = r;
            /* It changed no row, and the transaction is still there: nothing of it to undo. (An
             * I/O error can end the transaction; the careful run then finds the batch broken.) */
            if (optimistic && sifa_db_in_transaction(db) && sifa_db_total_changes(db) == changes_before)
                continue;
            if (optimistic) {
                sifa_db_rollback(db, NULL);
                for (size_t k = 0; k <= i; k++) {
                    w->status[k] = 0;
                    sifa_error_release(&w->errs[k]);
                }
                return BATCH_RUN_AGAIN;
            }
            if (!isolate)
                continue; /* a job alone: ok stays 0 and the transaction is rolled back */
            /* Undo this job alone. If that fails (an I/O error can roll back the whole
             * transaction in SQLite), nothing of the batch can be trusted to commit. */
            struct sifa_error sperr = {0};
            if (sifa_db_rollback_to(db, job_savepoint, &sperr) < 0 || sifa_db_release(db, job_savepoint, &sperr) < 0) {
                broken = true;
                txerr = sperr; /* moves details; txerr was empty */
            } else {
                sifa_error_release(&sperr);
            }
            continue;
        }
        r = isolate ? sifa_db_release(db, job_savepoint, e) : 0;
        if (r < 0) {
            w->status[i] = r;
            fail_job(&txerr, r, e);
            broken = true;
            break;
        }
        w->status[i] = 0;
        ok++;
    }

    if (broken) {
        /* txerr holds the failure that broke the batch. */
        sifa_db_rollback(db, NULL);
        int st = txerr.status != 0 ? txerr.status : SIFA_EINTERNAL;
        for (size_t i = 0; i < n; i++) {
            /* Jobs not reached, and jobs that succeeded, share the transaction's fate; a job
             * that failed on its own keeps its own error. */
            if (w->status[i] >= 0 || w->errs[i].status == 0) {
                w->status[i] = st;
                fail_job(&w->errs[i], st, &txerr);
            }
        }
        sifa_error_release(&txerr);
        return BATCH_FINISHED;
    }

    if (ok == 0) {
        /* Every job failed and was undone: there is nothing to make durable. */
        sifa_db_rollback(db, NULL);
        return BATCH_FINISHED;
    }
    r = w->hooks.before_commit != NULL ? w->hooks.before_commit(db, w->hooks.ctx, &txerr) : 0;
    if (r >= 0)
        r = sifa_db_commit(db, &txerr);
    if (r < 0) {
        sifa_db_rollback(db, NULL); /* harmless when the engine already rolled back */
        for (size_t i = 0; i < n; i++) {
            if (w->status[i] >= 0) {
                w->status[i] = r;
                fail_job(&w->errs[i], r, &txerr);
            }
        }
        sifa_error_release(&txerr);
        return BATCH_FINISHED;
    }
    pthread_mutex_lock(&w->lock);
    w->stats.commits++;
    pthread_mutex_unlock(&w->lock);
    return BATCH_FINISHED;
}

/* A job alone in its batch needs no savepoint: if it fails, the whole transaction is rolled back,
 * which undoes exactly that job. A batch of rerunnable jobs first runs without savepoints (see
 * the top of the file). */
static void run_batch(struct sifa_db_writer *w, size_t n)
{
    bool rerunnable = n > 1;
    for (size_t i = 0; i < n && rerunnable; i++)
        rerunnable = (w->batch[i].flags & SIFA_DB_JOB_RERUNNABLE) != 0;
    if (rerunnable && run_transaction(w, n, false, true) == BATCH_FINISHED)
        return;
    if (rerunnable) {
        pthread_mutex_lock(&w->lock);
        w->stats.batches_run_again++;
        pthread_mutex_unlock(&w->lock);
    }
    run_transaction(w, n, n > 1, false);
}

static void *writer_main(void *arg)
{
    struct sifa_db_writer *w = arg;
    pthread_setname_np(pthread_self(), "sifa-writer"); /* names show in top -H, perf, gdb */

    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (w->count == 0 && !w->stopping)
            pthread_cond_wait(&w->nonempty, &w->lock);
        if (w->count == 0) { /* stopping, and drained */
            pthread_mutex_unlock(&w->lock);
            break;
        }
        size_t n = w->count < w->max_batch ? w->count : w->max_batch;
        for (size_t i = 0; i < n; i++)
            w->batch[i] = w->ring[(w->head + i) & (w->cap - 1)];
        w->head = (w->head + n) & (w->cap - 1);
        w->count -= n;
        pthread_mutex_unlock(&w->lock);

        for (size_t i = 0; i < n; i++) {
            w->status[i] = 0;
            memset(&w->errs[i], 0, sizeof(w->errs[i]));
        }
        run_batch(w, n);

        /* Counters first: whoever a done callback wakes may read them at once. */
        uint64_t failed = 0;
        for (size_t i = 0; i < n; i++)
            failed += w->status[i] < 0;
        pthread_mutex_lock(&w->lock);
        w->stats.jobs += n;
        w->stats.jobs_failed += failed;
        if (n > w->stats.max_batch_seen)
            w->stats.max_batch_seen = n;
        pthread_mutex_unlock(&w->lock);

        for (size_t i = 0; i < n; i++) {
            w->batch[i].done(w->batch[i].ctx, w->status[i], w->status[i] < 0 ? &w->errs[i] : NULL);
            sifa_error_release(&w->errs[i]);
        }
    }
    return NULL;
}

/* ---- API ---- */

static void writer_free(struct sifa_db_writer *w)
{
    pthread_cond_destroy(&w->nonempty);
    pthread_mutex_destroy(&w->lock);
    free(w->ring);
    free(w->batch);
    free(w->status);
    free(w->errs);
    free(w);
}

int sifa_db_writer_start(const struct sifa_db_config *cfg, size_t max_batch, struct sifa_db_writer **ret_writer,
                         struct sifa_error *err)
{
    return sifa_db_writer_start_with(cfg, max_batch, NULL, ret_writer, err);
}

int sifa_db_writer_start_with(const struct sifa_db_config *cfg, size_t max_batch,
                              const struct sifa_db_writer_hooks *hooks, struct sifa_db_writer **ret_writer,
                              struct sifa_error *err)
{
    if (cfg == NULL || cfg->readonly)
        return sifa_error_set(err, SIFA_EINVALID, "db_config", "写入线程需要可写的数据库连接");
    if (max_batch == 0)
        max_batch = WRITER_DEFAULT_BATCH;
    if (max_batch > WRITER_MAX_QUEUE)
        max_batch = WRITER_MAX_QUEUE;

    struct sifa_db *db;
    int r = sifa_db_open(cfg, &db, err);
    if (r < 0)
        return r;

    /* on_open runs here, before the thread exists: the connection has no other user yet. */
    if (hooks != NULL && hooks->on_open != NULL && (r = hooks->on_open(db, hooks->ctx, err)) < 0) {
        sifa_db_close(db);
        return r;
    }
    struct sifa_db_checkpointer *checkpointer = NULL;
    if ((r = sifa_db_checkpointer_start(cfg, db, SIFA_DB_CHECKPOINT_TRIGGER, SIFA_DB_CHECKPOINT_LIMIT, &checkpointer,
                                        err)) < 0) {
        sifa_db_close(db);
        return r;
    }
    struct sifa_db_writer *w = sifa_xcalloc(1, sizeof(*w));
    w->db = db;
    w->checkpointer = checkpointer;
    if (hooks != NULL)
        w->hooks = *hooks;
    w->max_batch = max_batch;
    w->cap = WRITER_INITIAL_QUEUE;
    w->ring = sifa_xcalloc(w->cap, sizeof(*w->ring));
    w->batch = sifa_xcalloc(max_batch, sizeof(*w->batch));
    w->status = sifa_xcalloc(max_batch, sizeof(*w->status));
    w->errs = sifa_xcalloc(max_batch, sizeof(*w->errs));
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->nonempty, NULL);

    int e = sifa_thread_start(&w->thread, writer_main, w);
    if (e != 0) {
        sifa_db_checkpointer_stop(checkpointer);
        sifa_db_close(db);
        writer_free(w);
        char ebuf[128]; /* strerror is not thread-safe; this is GNU strerror_r (_GNU_SOURCE) */
        return sifa_error_set(err, SIFA_EINTERNAL, "thread_failed", "无法启动数据库写入线程：%s",
                              strerror_r(e, ebuf, sizeof(ebuf)));
    }
    *ret_writer = w;
    return 0;
}

int sifa_db_writer_submit(struct sifa_db_writer *w, sifa_db_write_fn fn, sifa_db_write_done_fn done, void *ctx)
{
    return sifa_db_writer_submit_flags(w, fn, done, ctx, 0);
}

int sifa_db_writer_submit_flags(struct sifa_db_writer *w, sifa_db_write_fn fn, sifa_db_write_done_fn done, void *ctx,
                                unsigned flags)
{
    if (w == NULL || fn == NULL || done == NULL)
        return SIFA_EINVALID;
    pthread_mutex_lock(&w->lock);
    if (w->stopping || w->count >= WRITER_MAX_QUEUE) {
        pthread_mutex_unlock(&w->lock);
        return SIFA_EUNAVAILABLE;
    }
    if (w->count == w->cap) {
        /* Grow and unwrap: the jobs move to [0, count). */
        size_t ncap = w->cap * 2;
        struct writer_job *ring = sifa_xcalloc(ncap, sizeof(*ring));
        for (size_t i = 0; i < w->count; i++)
            ring[i] = w->ring[(w->head + i) & (w->cap - 1)];
        free(w->ring);
        w->ring = ring;
        w->cap = ncap;
        w->head = 0;
    }
    w->ring[(w->head + w->count) & (w->cap - 1)] = (struct writer_job){fn, done, ctx, flags};
    w->count++;
    bool wake = w->count == 1; /* the thread only sleeps on an empty queue */
    pthread_mutex_unlock(&w->lock);
    if (wake)
        pthread_cond_signal(&w->nonempty);
    return 0;
}

struct run_waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool finished;
    int status;
    struct sifa_error err;
    sifa_db_write_fn fn;
    void *ctx;
};

static int run_fn(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct run_waiter *rw = ctx;
    return rw->fn(db, rw->ctx, err);
}

static void run_done(void *ctx, int status, const struct sifa_error *err)
{
    struct run_waiter *rw = ctx;
    pthread_mutex_lock(&rw->lock);
    rw->status = status;
    if (status < 0 && err != NULL)
        fail_job(&rw->err, status, err);
    rw->finished = true;
    /* Signal under the lock: the waiter's stack frame (and the condvar) may vanish as soon
     * as it sees finished. */
    pthread_cond_signal(&rw->cond);
    pthread_mutex_unlock(&rw->lock);
}

int sifa_db_writer_run(struct sifa_db_writer *w, sifa_db_write_fn fn, void *ctx, struct sifa_error *err)
{
    if (w == NULL || fn == NULL)
        return sifa_error_set(err, SIFA_EINVALID, "db_writer", "写入任务参数无效");
    if (pthread_equal(pthread_self(), w->thread))
        return sifa_error_set(err, SIFA_EINVALID, "db_writer", "不能在写入线程内同步提交写入任务（会死锁）");

    struct run_waiter rw = {.fn = fn, .ctx = ctx};
    pthread_mutex_init(&rw.lock, NULL);
    pthread_cond_init(&rw.cond, NULL);
    int r = sifa_db_writer_submit(w, run_fn, run_done, &rw);
    if (r < 0) {
        r = sifa_error_set(err, r, "db_busy", "数据库写入队列已满或正在关闭，请稍后重试");
    } else {
        pthread_mutex_lock(&rw.lock);
        while (!rw.finished)
            pthread_cond_wait(&rw.cond, &rw.lock);
        pthread_mutex_unlock(&rw.lock);
        r = rw.status;
        if (r < 0 && err != NULL) {
            sifa_error_release(err);
            *err = rw.err; /* moves details */
            rw.err.details = NULL;
        }
    }
    sifa_error_release(&rw.err);
    pthread_cond_destroy(&rw.cond);
    pthread_mutex_destroy(&rw.lock);
    return r;
}

void sifa_db_writer_stop(struct sifa_db_writer *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_mutex_unlock(&w->lock);
    pthread_cond_signal(&w->nonempty);
    pthread_join(w->thread, NULL);
    assert(w->count == 0);
    sifa_db_checkpointer_stop(w->checkpointer);
    sifa_db_close(w->db);
    writer_free(w);
}

void sifa_db_writer_get_stats(struct sifa_db_writer *w, struct sifa_db_writer_stats *ret_stats)
{
    pthread_mutex_lock(&w->lock);
    *ret_stats = w->stats;
    ret_stats->queue_depth = w->count;
    pthread_mutex_unlock(&w->lock);
    sifa_db_checkpointer_get_stats(w->checkpointer, &ret_stats->checkpoints);
}
