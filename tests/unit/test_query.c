/* test_query.c — unit tests for src/http/query.c: splitting, '+' and %XX decoding, repeated
 * keys, empty pieces, bad escapes, invalid UTF-8, and the byte and pair limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "http/query.h"

static int parse(const char *s, struct sifa_query *q, struct sifa_error *err)
{
    return sifa_query_parse(s, strlen(s), q, err);
}

static void test_basic(void **state)
{
    (void)state;
    struct sifa_query q;
    struct sifa_error err = {0};
    assert_int_equal(parse("page=2&size=50&q=%E8%B0%83%E8%A7%A3", &q, &err), 0);
    assert_int_equal(err.status, 0);
    assert_int_equal(q.count, 3);
    assert_string_equal(q.pairs[0].key, "page");
    assert_string_equal(q.pairs[0].value, "2");
    assert_int_equal(q.pairs[0].value_len, 1);
    assert_string_equal(q.pairs[1].key, "size");
    assert_string_equal(q.pairs[1].value, "50");
    assert_string_equal(q.pairs[2].key, "q");
    assert_string_equal(q.pairs[2].value, "调解");
    assert_int_equal(q.pairs[2].value_len, strlen("调解"));
    assert_string_equal(sifa_query_get(&q, "size"), "50");
    assert_null(sifa_query_get(&q, "Size"));
    assert_null(sifa_query_get(&q, "pag"));
    assert_int_equal(sifa_query_count(&q, "page"), 1);
    assert_int_equal(sifa_query_count(&q, "nope"), 0);
    sifa_query_release(&q);
    assert_null(q.buf);
    assert_int_equal(q.count, 0);
    sifa_query_release(&q); /* twice is fine */
    sifa_query_release(NULL);
}

static void test_empty(void **state)
{
    (void)state;
    struct sifa_query q;
    assert_int_equal(sifa_query_parse(NULL, 0, &q, NULL), 0);
    assert_int_equal(q.count, 0);
    assert_null(sifa_query_get(&q, "a"));
    sifa_query_release(&q);
    assert_int_equal(parse("", &q, NULL), 0);
    assert_int_equal(q.count, 0);
    sifa_query_release(&q);
    /* Only separators: no pairs. */
    assert_int_equal(parse("&&&", &q, NULL), 0);
    assert_int_equal(q.count, 0);
    sifa_query_release(&q);
}

static void test_plus_and_percent(void **state)
{
    (void)state;
    struct sifa_query q;
    assert_int_equal(parse("name=Zhang+San&note=a%2Bb%20c&k%65y=%7e&amp=%26%3D&mixed=%c3%A9", &q, NULL), 0);
    assert_int_equal(q.count, 5);
    assert_string_equal(sifa_query_get(&q, "name"), "Zhang San");
    assert_string_equal(sifa_query_get(&q, "note"), "a+b c");
    assert_string_equal(sifa_query_get(&q, "key"), "~");
    assert_string_equal(sifa_query_get(&q, "amp"), "&=");
    assert_int_equal(q.pairs[3].value_len, 2);
    assert_string_equal(sifa_query_get(&q, "mixed"), "é");
    sifa_query_release(&q);

    /* '+' in a key, '=' inside a value, and ';' is not a separator. */
    assert_int_equal(parse("a+b=1=2;c=3", &q, NULL), 0);
    assert_int_equal(q.count, 1);
    assert_string_equal(q.pairs[0].key, "a b");
    assert_string_equal(q.pairs[0].value, "1=2;c=3");
    assert_int_equal(q.pairs[0].value_len, 7);
    sifa_query_release(&q);
}

static void test_missing_parts(void **state)
{
    (void)state;
    struct sifa_query q;
    assert_int_equal(parse("flag&x=&=v&&y=1&", &q, NULL), 0);
    assert_int_equal(q.count, 4);
    assert_string_equal(q.pairs[0].key, "flag");
    assert_string_equal(q.pairs[0].value, "");
    assert_int_equal(q.pairs[0].value_len, 0);
    assert_string_equal(q.pairs[1].key, "x");
    assert_string_equal(q.pairs[1].value, "");
    assert_string_equal(q.pairs[2].key, "");
    assert_string_equal(q.pairs[2].value, "v");
    assert_string_equal(q.pairs[3].key, "y");
    assert_string_equal(q.pairs[3].value, "1");
    sifa_query_release(&q);
}

static void test_repeated_keys(void **state)
{
    (void)state;
    struct sifa_query q;
    assert_int_equal(parse("status=open&org=3&status=closed&status=", &q, NULL), 0);
    assert_int_equal(q.count, 4);
    assert_int_equal(sifa_query_count(&q, "status"), 3);
    assert_int_equal(sifa_query_count(&q, "org"), 1);
    assert_string_equal(sifa_query_get(&q, "status"), "open"); /* the first */
    assert_string_equal(q.pairs[2].value, "closed");
    assert_string_equal(q.pairs[3].value, "");
    sifa_query_release(&q);
}

static void expect_fail(const char *s, size_t len, const char *key_in_message)
{
    struct sifa_query q;
    q.buf = (char *)0x1; /* failure must leave q released */
    q.count = 7;
    struct sifa_error err = {0};
    assert_int_equal(sifa_query_parse(s, len, &q, &err), SIFA_EINVALID);
    assert_null(q.buf);
    assert_int_equal(q.count, 0);
    sifa_query_release(&q);
    assert_int_equal(err.status, SIFA_EINVALID);
    assert_string_equal(err.code, "bad_query");
    if (key_in_message != NULL) {
        if (strstr(err.message, key_in_message) == NULL)
            fail_msg("message \"%s\" does not name \"%s\"", err.message, key_in_message);
        assert_string_equal(json_string_value(json_object_get(err.details, "key")), key_in_message);
    }
    /* The message is valid UTF-8 whatever the input: jansson can carry it. */
    json_t *j = json_string(err.message);
    assert_non_null(j);
    json_decref(j);
    sifa_error_release(&err);
}

static void test_bad_escapes(void **state)
{
    (void)state;
    expect_fail("a=1&b=%", 7, "b");
    expect_fail("a=1&b=%4", 8, "b");
    expect_fail("a=1&b=%zz", 9, "b");
    expect_fail("a=1&b=%4G&c=1", 13, "b");
    expect_fail("a=%00", 5, "a");
    expect_fail("k%=1", 4, "k%");
    expect_fail("k%0=1", 5, "k%0");
    expect_fail("%00=1", 5, "%00");
    expect_fail("a=b\0c", 5, "a");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    expect_fail("name=%FF", 8, "name");
    expect_fail("name=%C3", 8, "name");       /* truncated sequence */
    expect_fail("name=%C0%AF", 11, "name");   /* overlong '/' */
    expect_fail("name=%ED%A0%80", 14, "name"); /* surrogate */
    expect_fail("name=%F4%90%80%80", 17, "name"); /* above U+10FFFF */
    expect_fail("n\xff=1", 4, "n%FF");        /* raw byte in the key, quoted safely */
    expect_fail("%E8%B0=1", 8, "%E8%B0");

    /* Valid four-byte UTF-8 passes. */
    struct sifa_query q;
    assert_int_equal(parse("e=%F0%9F%98%80", &q, NULL), 0);
    assert_string_equal(sifa_query_get(&q, "e"), "\xF0\x9F\x98\x80");
    sifa_query_release(&q);
}

static void test_max_params(void **state)
{
    (void)state;
    char s[1024];
    size_t o = 0;
    for (int i = 0; i < SIFA_QUERY_MAX_PARAMS; i++)
        o += (size_t)snprintf(s + o, sizeof(s) - o, "%sk%d=%d", i ? "&" : "", i, i);
    struct sifa_query q;
    assert_int_equal(sifa_query_parse(s, o, &q, NULL), 0);
    assert_int_equal(q.count, SIFA_QUERY_MAX_PARAMS);
    assert_string_equal(sifa_query_get(&q, "k63"), "63");
    assert_string_equal(q.pairs[63].key, "k63");
    sifa_query_release(&q);

    /* Empty pieces do not count. */
    o += (size_t)snprintf(s + o, sizeof(s) - o, "&&&");
    assert_int_equal(sifa_query_parse(s, o, &q, NULL), 0);
    assert_int_equal(q.count, SIFA_QUERY_MAX_PARAMS);
    sifa_query_release(&q);

    /* The 65th pair fails, naming its key. */
    o += (size_t)snprintf(s + o, sizeof(s) - o, "k64=x");
    expect_fail(s, o, "k64");

    /* 64 flags without values each need two NULs: the buffer must hold them. */
    o = 0;
    for (int i = 0; i < SIFA_QUERY_MAX_PARAMS; i++)
        s[o++] = 'f', s[o++] = '&';
    assert_int_equal(sifa_query_parse(s, o - 1, &q, NULL), 0);
    assert_int_equal(q.count, SIFA_QUERY_MAX_PARAMS);
    assert_int_equal(sifa_query_count(&q, "f"), SIFA_QUERY_MAX_PARAMS);
    sifa_query_release(&q);
}

static void test_max_bytes(void **state)
{
    (void)state;
    char *s = malloc(SIFA_QUERY_MAX_BYTES + 1);
    memcpy(s, "q=", 2);
    memset(s + 2, 'x', SIFA_QUERY_MAX_BYTES - 1);
    struct sifa_query q;
    assert_int_equal(sifa_query_parse(s, SIFA_QUERY_MAX_BYTES, &q, NULL), 0);
    assert_int_equal(q.pairs[0].value_len, SIFA_QUERY_MAX_BYTES - 2);
    sifa_query_release(&q);
    expect_fail(s, SIFA_QUERY_MAX_BYTES + 1, NULL);
    struct sifa_error err = {0};
    assert_int_equal(sifa_query_parse(s, SIFA_QUERY_MAX_BYTES + 1, &q, &err), SIFA_EINVALID);
    assert_non_null(strstr(err.message, "8192"));
    sifa_error_release(&err);
    free(s);
}

static void test_long_key_quoted(void **state)
{
    (void)state;
    char s[300];
    memset(s, 'k', 200);
    memcpy(s + 200, "=%", 2);
    struct sifa_query q;
    struct sifa_error err = {0};
    assert_int_equal(sifa_query_parse(s, 202, &q, &err), SIFA_EINVALID);
    const char *key = json_string_value(json_object_get(err.details, "key"));
    assert_non_null(key);
    assert_true(strlen(key) < 80);
    assert_int_equal(strncmp(key, "kkkkkkkk", 8), 0);
    assert_non_null(strstr(key, "..."));
    sifa_error_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),          cmocka_unit_test(test_empty),
        cmocka_unit_test(test_plus_and_percent), cmocka_unit_test(test_missing_parts),
        cmocka_unit_test(test_repeated_keys),  cmocka_unit_test(test_bad_escapes),
        cmocka_unit_test(test_invalid_utf8),   cmocka_unit_test(test_max_params),
        cmocka_unit_test(test_max_bytes),      cmocka_unit_test(test_long_key_quoted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
