/* common.h — what every sifa source file includes first: standard headers, the error
 * structure, small helpers (cleanup attributes, array sizes), and banned.h last.
 * Layer: base. */
#ifndef SIFA_COMMON_H
#define SIFA_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

#define SIFA_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Scoped resources: `_cleanup_free_ char *s = …;` frees s when it leaves scope. */
static inline void sifa_freep(void *p)
{
    free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(sifa_freep)))

static inline void sifa_json_decrefp(json_t **p)
{
    json_decref(*p);
}
#define _cleanup_json_ __attribute__((cleanup(sifa_json_decrefp)))

/* Allocation that never returns NULL: out of memory aborts the process, as a server cannot
 * make progress without memory and every partial state would have to be unwound. */
void *sifa_xmalloc(size_t n);
void *sifa_xcalloc(size_t count, size_t n);
void *sifa_xrealloc(void *p, size_t n);
char *sifa_xstrdup(const char *s);
char *sifa_xstrndup(const char *s, size_t n);

/* Monotonic and wall clocks. */
uint64_t sifa_now_monotonic_ns(void);
int64_t sifa_now_unix_ms(void);
/* Starts a thread that receives no signals (they are the main thread's to handle: shutdown).
 * Returns 0 or pthread_create's error number. */
int sifa_thread_start(pthread_t *ret_thread, void *(*fn)(void *), void *arg);
/* unix_seconds as UTC text "2021-09-28T08:00:00Z" (20 bytes) into out (at least 21). */
void sifa_utc_text(int64_t unix_seconds, char out[static 21]);

/* Last, after every system header that declares a banned function: a later include of
 * <string.h> would otherwise see the macros. Files include system headers before this one. */
#include "base/banned.h"

#endif
