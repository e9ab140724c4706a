/* jsonbody.h — reads a JSON request body safely.
 * Layer: http. Uses jansson with duplicate keys rejected, after a pre-scan that enforces a
 * nesting limit (jansson's own limit is far deeper than any sifa document needs) and a size limit.
 * On malformed JSON the error is SIFA_EINVALID, code "bad_json", a Chinese message, and details
 * {"line":L,"column":C,"position":P,"reason":"<jansson's text>"}. */
#ifndef SIFA_HTTP_JSONBODY_H
#define SIFA_HTTP_JSONBODY_H

#include "base/common.h"

#define SIFA_JSON_MAX_DEPTH 32

enum sifa_json_body_flags {
    SIFA_JSON_BODY_OBJECT = 1u << 0, /* the top-level value must be an object ("bad_json" otherwise) */
};

/* Parses body[0..len). max_bytes: SIFA_ELIMIT ("body_too_large") when len exceeds it.
 * *ret_json is new (json_decref). An empty body is "bad_json". */
int sifa_json_body_parse(const char *body, size_t len, size_t max_bytes, unsigned flags, json_t **ret_json,
                         struct sifa_error *err);

#endif
