/* workpool.c — see workpool.h. Layer: http. A mutex, a condition variable and a singly linked
 * FIFO; each item is freed by the pool after its after callback returns. */
#include "base/common.h"
#include "http/workpool.h"

#include <pthread.h>

struct work_item {
    struct work_item *next;
    sifa_workpool_fn work;
    sifa_workpool_after_fn after;
    void *ctx;
};

struct sifa_workpool {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    struct work_item *head, *tail;
    size_t queued, max_queue;
    uint64_t running, done;
    bool stopping;
    int nthreads;
    pthread_t *threads;
};

static void *worker_main(void *arg)
{
    struct sifa_workpool *pool = arg;
    pthread_setname_np(pthread_self(), "sifa-worker");
    pthread_mutex_lock(&pool->mutex);
    for (;;) {
        while (pool->head == NULL && !pool->stopping)
            pthread_cond_wait(&pool->cond, &pool->mutex);
        if (pool->head == NULL)
            break; /* stopping and drained */
        struct work_item *item = pool->head;
        pool->head = item->next;
        if (pool->head == NULL)
            pool->tail = NULL;
        pool->queued--;
        pool->running++;
        pthread_mutex_unlock(&pool->mutex);

        struct sifa_error err = {0};
        int status = item->work(item->ctx, &err);
        if (item->after != NULL)
            item->after(item->ctx, status, &err);
        sifa_error_release(&err);
        free(item);

        pthread_mutex_lock(&pool->mutex);
        pool->running--;
        pool->done++;
    }
    pthread_mutex_unlock(&pool->mutex);
    return NULL;
}

void sifa_workpool_new(int threads, size_t max_queue, struct sifa_workpool **ret_pool)
{
    struct sifa_workpool *pool = sifa_xcalloc(1, sizeof(*pool));
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->cond, NULL);
    pool->max_queue = max_queue;
    pool->nthreads = threads > 0 ? threads : 2;
    pool->threads = sifa_xcalloc((size_t)pool->nthreads, sizeof(pthread_t));
    for (int i = 0; i < pool->nthreads; i++)
        if (pthread_create(&pool->threads[i], NULL, worker_main, pool) != 0)
            abort(); /* cannot serve without threads; happens only when out of resources at start */
    *ret_pool = pool;
}

int sifa_workpool_submit(struct sifa_workpool *pool, sifa_workpool_fn work, sifa_workpool_after_fn after, void *ctx)
{
    pthread_mutex_lock(&pool->mutex);
    if (pool->stopping || pool->queued >= pool->max_queue) {
        pthread_mutex_unlock(&pool->mutex);
        return SIFA_EUNAVAILABLE;
    }
    struct work_item *item = sifa_xcalloc(1, sizeof(*item));
    item->work = work;
    item->after = after;
    item->ctx = ctx;
    if (pool->tail != NULL)
        pool->tail->next = item;
    else
        pool->head = item;
    pool->tail = item;
    pool->queued++;
    pthread_cond_signal(&pool->cond);
    pthread_mutex_unlock(&pool->mutex);
    return 0;
}

void sifa_workpool_free(struct sifa_workpool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->mutex);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->cond);
    free(pool->threads);
    free(pool);
}

void sifa_workpool_get_stats(struct sifa_workpool *pool, struct sifa_workpool_stats *ret_stats)
{
    pthread_mutex_lock(&pool->mutex);
    ret_stats->queued = pool->queued;
    ret_stats->running = pool->running;
    ret_stats->done = pool->done;
    pthread_mutex_unlock(&pool->mutex);
}
