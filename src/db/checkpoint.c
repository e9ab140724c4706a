/* checkpoint.c — a checkpointer thread: copies the write-ahead log into the database file on a
 * connection of its own, so that the thread that commits (the group-commit writer, `sifa
 * import`) does not stop for it. Layer: db. Written against db.h only.
 *
 * Why: with the engine's automatic checkpoints the committing thread, right after a commit,
 * copies every page the log holds into the database file and syncs it — a tenth of the time of
 * a bulk import, and a stall of every queued write in the server. Here the commit hook only
 * wakes this thread. It checkpoints without blocking anyone; the log is reset by the engine once
 * a checkpoint has copied everything before the next write transaction begins. Under a
 * continuous stream of commits that moment may not come, so when the log reaches limit_pages
 * the committing thread checkpoints itself, as it would have without this thread — finding
 * most pages already copied; if the thread is in the middle of a checkpoint, it waits for that
 * one to end first — and the log stays within the limit and one commit. As with the engine's own
 * checkpoints, it can grow past that only while readers keep old pages in use or another process
 * (a `sifa import` beside the server) holds the checkpoint. On disk the log is cut back to the
 * connection's journal_size_limit whenever it starts over.
 *
 * Invariants: the hook and the thread share only `lock`-guarded state; stop wakes the thread,
 * joins it and restores the connection's own checkpoints before returning. */
#include "base/common.h"

#include "db/db.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct sifa_db_checkpointer {
    struct sifa_db *committer; /* borrowed: the connection whose commits we follow */
    struct sifa_db *own;       /* owned: the thread's connection */
    int trigger_pages, limit_pages;
    pthread_t thread;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake, idle;
    bool wanted, stopping, running;
    struct sifa_db_checkpointer_stats stats;
};

static void after_commit(void *ctx, int log_pages)
{
    struct sifa_db_checkpointer *c = ctx;
    bool behind = log_pages >= c->limit_pages;
    pthread_mutex_lock(&c->lock);
    c->stats.log_pages = log_pages;
    bool wake = !behind && log_pages >= c->trigger_pages && !c->wanted;
    if (wake)
        c->wanted = true;
    pthread_mutex_unlock(&c->lock);
    if (wake)
        pthread_cond_signal(&c->wake);
    if (behind) {
        struct sifa_error err = {0};
        for (int attempt = 0; attempt < 4; attempt++) {
            if (sifa_db_checkpoint(c->committer, NULL, NULL, &err) >= 0) {
                pthread_mutex_lock(&c->lock);
                c->stats.inline_++; /* checkpoints done, not commits that found the log long */
                pthread_mutex_unlock(&c->lock);
                break;
            }
            if (err.status != SIFA_EUNAVAILABLE)
                break;
            sifa_error_release(&err);
            /* the thread holds the checkpoint: let it finish (it copies without waiting for us) */
            pthread_mutex_lock(&c->lock);
            while (c->running)
                pthread_cond_wait(&c->idle, &c->lock);
            pthread_mutex_unlock(&c->lock);
        }
        sifa_error_release(&err);
    }
}

static void *checkpointer_main(void *arg)
{
    struct sifa_db_checkpointer *c = arg;
    pthread_setname_np(pthread_self(), "sifa-checkpoint");
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->wanted && !c->stopping)
            pthread_cond_wait(&c->wake, &c->lock);
        if (c->stopping)
            break;
        c->wanted = false;
        c->running = true;
        pthread_mutex_unlock(&c->lock);
        int copied = 0;
        struct sifa_error err = {0};
        int r = sifa_db_checkpoint(c->own, NULL, &copied, &err);
        if (r < 0 && err.status != SIFA_EUNAVAILABLE)
            fprintf(stderr, "sifa: 检查点失败 checkpoint failed: %s [%s]\n", err.message, err.code);
        sifa_error_release(&err);
        pthread_mutex_lock(&c->lock);
        c->running = false;
        pthread_cond_broadcast(&c->idle);
        if (r >= 0) {
            c->stats.background++;
            c->stats.pages += (uint64_t)(copied > 0 ? copied : 0);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

int sifa_db_checkpointer_start(const struct sifa_db_config *cfg, struct sifa_db *db, int trigger_pages,
                               int limit_pages, struct sifa_db_checkpointer **ret, struct sifa_error *err)
{
    if (cfg == NULL || cfg->readonly || db == NULL || trigger_pages < 1 || limit_pages <= trigger_pages)
        return sifa_error_set(err, SIFA_EINVALID, "db_config", "检查点线程的参数无效");
    if (sifa_db_in_memory(db)) { /* a second connection would open another, empty database */
        *ret = NULL;
        return 0;
    }
    struct sifa_db *own;
    int r = sifa_db_open(cfg, &own, err);
    if (r < 0)
        return r;
    struct sifa_db_checkpointer *c = sifa_xcalloc(1, sizeof(*c));
    c->committer = db;
    c->own = own;
    c->trigger_pages = trigger_pages;
    c->limit_pages = limit_pages;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->idle, NULL);
    int e = sifa_thread_start(&c->thread, checkpointer_main, c);
    if (e != 0) {
        sifa_db_close(own);
        pthread_cond_destroy(&c->idle);
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->lock);
        free(c);
        char ebuf[128];
        return sifa_error_set(err, SIFA_EINTERNAL, "thread_failed", "无法启动检查点线程：%s",
                              strerror_r(e, ebuf, sizeof(ebuf)));
    }
    sifa_db_on_commit(db, after_commit, c);
    *ret = c;
    return 0;
}

void sifa_db_checkpointer_stop(struct sifa_db_checkpointer *c)
{
    if (c == NULL)
        return;
    sifa_db_on_commit(c->committer, NULL, NULL);
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_mutex_unlock(&c->lock);
    pthread_cond_signal(&c->wake);
    pthread_join(c->thread, NULL);
    struct sifa_error err = {0};
    sifa_db_checkpoint(c->own, NULL, NULL, &err); /* what the last commits left */
    sifa_error_release(&err);
    sifa_db_close(c->own);
    pthread_cond_destroy(&c->idle);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void sifa_db_checkpointer_get_stats(struct sifa_db_checkpointer *c, struct sifa_db_checkpointer_stats *ret)
{
    if (c == NULL) {
        *ret = (struct sifa_db_checkpointer_stats){0};
        return;
    }
    pthread_mutex_lock(&c->lock);
    *ret = c->stats;
    pthread_mutex_unlock(&c->lock);
}
