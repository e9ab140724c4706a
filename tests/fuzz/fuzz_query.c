/* fuzz_query.c — libFuzzer target for src/http/query.c. The whole input is a query string.
 * Checks: on success at most SIFA_QUERY_MAX_PARAMS pairs, each value's length as stated and every
 * key findable; on failure a "bad_query" error whose message and details are encodable JSON
 * (valid UTF-8), and the query left released. */
#include <string.h>

#include "base/common.h"
#include "http/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = sifa_xmalloc(size);
    memcpy(s, data, size);
    struct sifa_query q;
    struct sifa_error err = {0};
    if (sifa_query_parse(s, size, &q, &err) == 0) {
        check(q.count <= SIFA_QUERY_MAX_PARAMS);
        for (size_t i = 0; i < q.count; i++) {
            check(strlen(q.pairs[i].value) == q.pairs[i].value_len);
            check(sifa_query_get(&q, q.pairs[i].key) != NULL);
            check(sifa_query_count(&q, q.pairs[i].key) >= 1);
            json_t *k = json_string(q.pairs[i].key); /* valid UTF-8 */
            check(k != NULL);
            json_decref(k);
        }
    } else {
        check(err.status == SIFA_EINVALID && strcmp(err.code, "bad_query") == 0);
        check(q.buf == NULL && q.count == 0);
        json_t *msg = json_string(err.message);
        check(msg != NULL && err.details != NULL);
        json_decref(msg);
    }
    sifa_query_release(&q);
    sifa_error_release(&err);
    free(s);
    return 0;
}
