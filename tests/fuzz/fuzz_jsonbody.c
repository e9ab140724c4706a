/* fuzz_jsonbody.c — libFuzzer target for src/http/jsonbody.c. The first byte chooses the flags
 * (bit 0: SIFA_JSON_BODY_OBJECT) and the rest is the body, parsed under a 64 KiB limit.
 * Checks: success gives a value that serialises again (an object when asked); failure gives
 * "bad_json" or "body_too_large" with a message and details that are encodable JSON. */
#include <string.h>

#include "base/common.h"
#include "http/jsonbody.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = data[0] & 1u ? SIFA_JSON_BODY_OBJECT : 0;
    size_t len = size - 1;
    char *body = sifa_xmalloc(len);
    memcpy(body, data + 1, len);

    json_t *j = NULL;
    struct sifa_error err = {0};
    if (sifa_json_body_parse(body, len, 65536, flags, &j, &err) == 0) {
        check(j != NULL);
        check(!(flags & SIFA_JSON_BODY_OBJECT) || json_is_object(j));
        char *dump = json_dumps(j, JSON_ENCODE_ANY);
        check(dump != NULL);
        free(dump);
        json_decref(j);
    } else {
        check(err.status == SIFA_EINVALID || err.status == SIFA_ELIMIT);
        check(strcmp(err.code, "bad_json") == 0 || strcmp(err.code, "body_too_large") == 0);
        json_t *msg = json_string(err.message);
        check(msg != NULL);
        json_decref(msg);
        check(err.details != NULL);
        char *dump = json_dumps(err.details, 0);
        check(dump != NULL);
        free(dump);
    }
    sifa_error_release(&err);
    free(body);
    return 0;
}
