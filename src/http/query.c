/* query.c — application/x-www-form-urlencoded query strings (see query.h).
 * Layer: http. One pass over the input: pairs are split on '&' (empty pieces such as "a=1&&b=2"
 * or a trailing '&' are skipped), each key and value is decoded ('+' is a space, %XX a byte)
 * into the query's single buffer, NUL-terminated, then checked to be valid UTF-8 without NUL.
 * Invariants: the buffer is allocated once, sized from the input, and never grows; every key
 * and value points into it; count <= SIFA_QUERY_MAX_PARAMS. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

/* System headers first: banned.h, at the end of common.h, must come last. */
#include "base/common.h"
#include "base/text.h"
#include "http/query.h"

/* The most of an offending key quoted back in an error message. */
#define KEY_QUOTE_MAX 64

/* Fails with the raw key quoted: printable ASCII kept, anything else shown as %XX, so the
 * message stays valid UTF-8 whatever the input, and cut at KEY_QUOTE_MAX bytes. */
static int query_fail(const char *rawkey, size_t keylen, const char *why, struct sifa_error *err)
{
    char quoted[KEY_QUOTE_MAX * 3 + 4];
    size_t o = 0, i = 0;
    for (; i < keylen && o + 3 < KEY_QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)rawkey[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            quoted[o++] = (char)c;
        } else {
            int w = snprintf(quoted + o, sizeof(quoted) - o, "%%%02X", c);
            assert(w == 3);
            o += 3;
        }
    }
    if (i < keylen)
        quoted[o++] = '.', quoted[o++] = '.', quoted[o++] = '.';
    quoted[o] = '\0';
    json_t *details = json_pack("{s:s,s:s}", "key", quoted, "reason", why);
    return sifa_error_set_details(err, SIFA_EINVALID, "bad_query", details, "查询参数 \"%s\" 无效:%s", quoted, why);
}

int sifa_query_parse(const char *s, size_t len, struct sifa_query *ret, struct sifa_error *err)
{
    assert(ret != NULL);
    assert(s != NULL || len == 0);
    ret->count = 0;
    ret->buf = NULL;

    if (len > SIFA_QUERY_MAX_BYTES) {
        json_t *details = json_pack("{s:I}", "max_bytes", (json_int_t)SIFA_QUERY_MAX_BYTES);
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_query", details, "查询字符串超过 %d 字节的上限",
                                      SIFA_QUERY_MAX_BYTES);
    }

    /* Each pair needs at most its raw bytes plus two NULs; '=' pays for one of them, so a pair
     * outgrows its raw length by at most 2 bytes, and only SIFA_QUERY_MAX_PARAMS pairs are kept. */
    size_t cap = len + 2 * SIFA_QUERY_MAX_PARAMS;
    char *buf = sifa_xmalloc(cap);
    size_t used = 0;
    size_t count = 0;
    size_t pos = 0;
    struct sifa_query_pair pairs[SIFA_QUERY_MAX_PARAMS];

    while (pos < len) {
        const char *piece = s + pos;
        const char *amp = memchr(piece, '&', len - pos);
        size_t plen = amp != NULL ? (size_t)(amp - piece) : len - pos;
        pos += plen + (amp != NULL);
        if (plen == 0)
            continue;

        const char *eq = memchr(piece, '=', plen);
        size_t klen = eq != NULL ? (size_t)(eq - piece) : plen;
        const char *rawval = eq != NULL ? eq + 1 : piece + plen;
        size_t vlen = eq != NULL ? plen - klen - 1 : 0;

        if (count == SIFA_QUERY_MAX_PARAMS) {
            free(buf);
            return query_fail(piece, klen, "查询参数个数超过上限", err);
        }
        assert(used + klen + vlen + 2 <= cap);
        char *key = buf + used;
        ssize_t dk = sifa_percent_decode(piece, klen, true, key);
        if (dk < 0) {
            free(buf);
            return query_fail(piece, klen, "参数名含有无效的百分号转义或空字符", err);
        }
        if (!sifa_utf8_valid(key, (size_t)dk)) {
            free(buf);
            return query_fail(piece, klen, "参数名不是合法的 UTF-8", err);
        }
        key[dk] = '\0';
        used += (size_t)dk + 1;

        char *value = buf + used;
        ssize_t dv = sifa_percent_decode(rawval, vlen, true, value);
        if (dv < 0) {
            free(buf);
            return query_fail(piece, klen, "参数值含有无效的百分号转义或空字符", err);
        }
        if (!sifa_utf8_valid(value, (size_t)dv)) {
            free(buf);
            return query_fail(piece, klen, "参数值不是合法的 UTF-8", err);
        }
        value[dv] = '\0';
        used += (size_t)dv + 1;

        pairs[count++] = (struct sifa_query_pair){.key = key, .value = value, .value_len = (size_t)dv};
    }

    ret->count = count;
    memcpy(ret->pairs, pairs, count * sizeof(pairs[0]));
    ret->buf = buf;
    return 0;
}

void sifa_query_release(struct sifa_query *q)
{
    if (q == NULL)
        return;
    free(q->buf);
    q->buf = NULL;
    q->count = 0;
}

const char *sifa_query_get(const struct sifa_query *q, const char *key)
{
    if (q == NULL || key == NULL)
        return NULL;
    for (size_t i = 0; i < q->count; i++)
        if (strcmp(q->pairs[i].key, key) == 0)
            return q->pairs[i].value;
    return NULL;
}

size_t sifa_query_count(const struct sifa_query *q, const char *key)
{
    if (q == NULL || key == NULL)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < q->count; i++)
        if (strcmp(q->pairs[i].key, key) == 0)
            n++;
    return n;
}
