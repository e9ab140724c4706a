/* query.h — parses an application/x-www-form-urlencoded query string.
 * Layer: http. Keys and values are percent-decoded ('+' is a space) into one owned buffer; a
 * key may repeat (filters like status=a&status=b). Limits: SIFA_QUERY_MAX_BYTES of input and
 * SIFA_QUERY_MAX_PARAMS pairs; beyond them, or on a bad escape or invalid UTF-8 after decoding,
 * parsing fails with SIFA_EINVALID and err names the offending key. */
#ifndef SIFA_HTTP_QUERY_H
#define SIFA_HTTP_QUERY_H

#include "base/common.h"

#define SIFA_QUERY_MAX_BYTES 8192
#define SIFA_QUERY_MAX_PARAMS 64

struct sifa_query_pair {
    const char *key; /* NUL-terminated, into the query's buffer */
    const char *value;
    size_t value_len;
};

struct sifa_query {
    size_t count;
    struct sifa_query_pair pairs[SIFA_QUERY_MAX_PARAMS];
    char *buf; /* owned */
};

/* Parses s[0..len) (without the leading '?'). An empty string gives zero pairs. On success
 * *ret is initialised and must be released with sifa_query_release; on failure it is left
 * released (safe to release again). */
int sifa_query_parse(const char *s, size_t len, struct sifa_query *ret, struct sifa_error *err);
void sifa_query_release(struct sifa_query *q);

/* First value for key, or NULL. */
const char *sifa_query_get(const struct sifa_query *q, const char *key);
/* Number of values for key. */
size_t sifa_query_count(const struct sifa_query *q, const char *key);

#endif
