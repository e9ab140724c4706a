/* test_jsonbody.c — unit tests for src/http/jsonbody.c: valid bodies, the size limit, the
 * nesting pre-scan (and its handling of strings), malformed JSON with line/column details,
 * duplicate keys, trailing data, the object-only flag and invalid UTF-8. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "http/jsonbody.h"

#define LIMIT 65536

static int parse(const char *s, unsigned flags, json_t **ret, struct sifa_error *err)
{
    return sifa_json_body_parse(s, strlen(s), LIMIT, flags, ret, err);
}

/* Expects "bad_json" at line/column/position; returns nothing, releases everything. */
static void expect_bad(const char *s, size_t len, unsigned flags, int line, int column, int position,
                       const char *reason_part, const char *message)
{
    json_t *j = (json_t *)0x1; /* must stay untouched on failure */
    struct sifa_error err = {0};
    assert_int_equal(sifa_json_body_parse(s, len, LIMIT, flags, &j, &err), SIFA_EINVALID);
    assert_ptr_equal(j, (json_t *)0x1);
    assert_int_equal(err.status, SIFA_EINVALID);
    assert_string_equal(err.code, "bad_json");
    if (message != NULL)
        assert_string_equal(err.message, message);
    if (line > 0) {
        assert_non_null(err.details);
        assert_int_equal(json_integer_value(json_object_get(err.details, "line")), line);
        assert_int_equal(json_integer_value(json_object_get(err.details, "column")), column);
        assert_int_equal(json_integer_value(json_object_get(err.details, "position")), position);
    }
    const char *reason = json_string_value(json_object_get(err.details, "reason"));
    assert_non_null(reason);
    if (reason_part != NULL && strstr(reason, reason_part) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", reason, reason_part);
    /* The whole error must be encodable as JSON (valid UTF-8 everywhere). */
    char *dump = json_dumps(err.details, 0);
    assert_non_null(dump);
    free(dump);
    json_t *msg = json_string(err.message);
    assert_non_null(msg);
    json_decref(msg);
    sifa_error_release(&err);
}

static void test_valid(void **state)
{
    (void)state;
    json_t *j = NULL;
    struct sifa_error err = {0};
    assert_int_equal(parse(" {\"name\": \"张三\", \"age\": 30, \"tags\": [\"a\", {\"b\": null}]}\n", SIFA_JSON_BODY_OBJECT,
                           &j, &err),
                     0);
    assert_int_equal(err.status, 0);
    assert_true(json_is_object(j));
    assert_string_equal(json_string_value(json_object_get(j, "name")), "张三");
    assert_int_equal(json_integer_value(json_object_get(j, "age")), 30);
    assert_int_equal(json_array_size(json_object_get(j, "tags")), 2);
    json_decref(j);

    /* Without the flag any value may be at the top. */
    assert_int_equal(parse("[1,2,3]", 0, &j, NULL), 0);
    assert_int_equal(json_array_size(j), 3);
    json_decref(j);
    assert_int_equal(parse("42", 0, &j, NULL), 0);
    assert_int_equal(json_integer_value(j), 42);
    json_decref(j);
    assert_int_equal(parse("\"s\"", 0, &j, NULL), 0);
    assert_string_equal(json_string_value(j), "s");
    json_decref(j);
    assert_int_equal(parse("null", 0, &j, NULL), 0);
    assert_true(json_is_null(j));
    json_decref(j);
}

static void test_size_limit(void **state)
{
    (void)state;
    const char *body = "{\"a\":\"0123456789\"}"; /* 18 bytes */
    json_t *j = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_json_body_parse(body, 18, 18, 0, &j, &err), 0);
    json_decref(j);
    j = NULL;
    assert_int_equal(sifa_json_body_parse(body, 18, 17, 0, &j, &err), SIFA_ELIMIT);
    assert_null(j);
    assert_int_equal(err.status, SIFA_ELIMIT);
    assert_string_equal(err.code, "body_too_large");
    assert_string_equal(err.message, "请求体超过 17 字节的上限");
    assert_int_equal(json_integer_value(json_object_get(err.details, "max_bytes")), 17);
    sifa_error_release(&err);
    /* The size is checked before anything is read: garbage over the limit is still "too large". */
    assert_int_equal(sifa_json_body_parse("{{{{", 4, 3, 0, &j, &err), SIFA_ELIMIT);
    sifa_error_release(&err);
    assert_int_equal(sifa_json_body_parse("{}", 2, 0, 0, &j, NULL), SIFA_ELIMIT);
}

static void test_empty(void **state)
{
    (void)state;
    expect_bad("", 0, 0, 0, 0, 0, NULL, NULL);
    expect_bad(NULL, 0, SIFA_JSON_BODY_OBJECT, 0, 0, 0, NULL, NULL);
    expect_bad("  \n", 3, 0, 2, 0, 3, "end of file", NULL);
}

static void test_malformed_positions(void **state)
{
    (void)state;
    const char *s = "{\n  \"a\": 1,\n  \"b\": tru\n}";
    expect_bad(s, strlen(s), 0, 3, 10, 22, "invalid token", "请求体不是合法的 JSON:第 3 行第 10 列附近有错误");
    s = "{\"a\":1,}";
    expect_bad(s, strlen(s), 0, 1, 8, 8, "expected", "请求体不是合法的 JSON:第 1 行第 8 列附近有错误");
    s = "\n\n  [1,\n   2,,3]";
    expect_bad(s, strlen(s), 0, 4, 6, 14, "unexpected token", NULL);
    s = "[1,2";
    expect_bad(s, strlen(s), 0, 1, 4, 4, "']' expected", NULL);
    /* Columns count characters, positions count bytes. */
    s = "{\"k\":\"调解\",x}";
    expect_bad(s, strlen(s), 0, 1, 11, 15, NULL, "请求体不是合法的 JSON:第 1 行第 11 列附近有错误");
    /* \u0000 cannot become a C string. */
    s = "{\"a\":\"\\u0000\"}";
    expect_bad(s, strlen(s), 0, 1, 13, 13, "\\u0000", NULL);
    /* A raw NUL byte. */
    expect_bad("{\"a\":\0}", 7, 0, 1, 6, 6, NULL, NULL);
}

static void test_trailing_data(void **state)
{
    (void)state;
    const char *s = "{\"a\":1}\n{";
    expect_bad(s, strlen(s), 0, 2, 1, 9, "end of file expected", NULL);
    s = "{\"a\":1} x";
    expect_bad(s, strlen(s), 0, 1, 9, 9, "end of file expected", NULL);
    s = "1 2";
    expect_bad(s, strlen(s), 0, 1, 3, 3, "end of file expected", NULL);
    /* Trailing whitespace is fine. */
    json_t *j = NULL;
    assert_int_equal(parse("{\"a\":1}\r\n\t ", SIFA_JSON_BODY_OBJECT, &j, NULL), 0);
    json_decref(j);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    const char *s = "{\"a\":1,\"a\":2}";
    expect_bad(s, strlen(s), 0, 1, 10, 10, "duplicate object key", NULL);
    s = "{\"x\":{\"k\":1,\"k\":1}}";
    expect_bad(s, strlen(s), SIFA_JSON_BODY_OBJECT, 1, 15, 15, "duplicate", NULL);
    /* Same key in sibling objects is fine. */
    json_t *j = NULL;
    assert_int_equal(parse("[{\"a\":1},{\"a\":2}]", 0, &j, NULL), 0);
    json_decref(j);
}

static void test_object_flag(void **state)
{
    (void)state;
    expect_bad("[1]", 3, SIFA_JSON_BODY_OBJECT, 1, 1, 1, "object", "请求体必须是一个 JSON 对象");
    expect_bad("\n  \"s\"", 6, SIFA_JSON_BODY_OBJECT, 2, 3, 4, "object", NULL);
    expect_bad("null", 4, SIFA_JSON_BODY_OBJECT, 1, 1, 1, "object", NULL);
    expect_bad("3.5", 3, SIFA_JSON_BODY_OBJECT, 1, 1, 1, "object", NULL);
    json_t *j = NULL;
    assert_int_equal(parse("{}", SIFA_JSON_BODY_OBJECT, &j, NULL), 0);
    assert_int_equal(json_object_size(j), 0);
    json_decref(j);
}

static char *nested(int depth, char open, char close)
{
    char *s = malloc((size_t)depth * 2 + 1);
    memset(s, open, (size_t)depth);
    memset(s + depth, close, (size_t)depth);
    s[depth * 2] = '\0';
    return s;
}

static void test_depth(void **state)
{
    (void)state;
    json_t *j = NULL;
    char *s = nested(SIFA_JSON_MAX_DEPTH, '[', ']');
    assert_int_equal(parse(s, 0, &j, NULL), 0);
    int d = 0;
    for (json_t *it = j; json_is_array(it); it = json_array_get(it, 0))
        d++;
    assert_int_equal(d, 32);
    json_decref(j);
    free(s);

    s = nested(SIFA_JSON_MAX_DEPTH + 1, '[', ']');
    expect_bad(s, strlen(s), 0, 1, 33, 33, "nesting", "请求体 JSON 嵌套超过 32 层:第 1 行第 33 列附近有错误");
    free(s);

    /* Objects and arrays count together. */
    char buf[512];
    size_t o = 0;
    for (int i = 0; i < 33; i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s", i % 2 ? "[" : "{\"k\":");
    expect_bad(buf, o, 0, 1, 97, 97, "nesting", NULL);

    /* Depth is the nesting at one point, not a total: two siblings 31 deep inside one array. */
    char *a = nested(31, '[', ']');
    size_t alen = strlen(a);
    char *two = malloc(alen * 2 + 4);
    int tn = snprintf(two, alen * 2 + 4, "[%s,%s]", a, a);
    assert_int_equal(sifa_json_body_parse(two, (size_t)tn, LIMIT, 0, &j, NULL), 0);
    json_decref(j);
    free(two);
    free(a);

    /* Stray closers do not buy depth. */
    s = nested(SIFA_JSON_MAX_DEPTH + 1, '[', ']');
    char *stray = malloc(strlen(s) + 40);
    int n = snprintf(stray, strlen(s) + 40, "]]]]]]]]]]%s", s);
    expect_bad(stray, (size_t)n, 0, 1, 43, 43, "nesting", NULL);
    free(stray);
    free(s);
}

static void test_depth_skips_strings(void **state)
{
    (void)state;
    /* 40 brackets inside a string, with escaped quotes and backslashes, are not nesting. */
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "{\"k\":\"%s\\\"[[[\\\\\",\"z\":\"]]]\\\\\"}",
                     "[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{");
    json_t *j = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_json_body_parse(buf, (size_t)n, LIMIT, SIFA_JSON_BODY_OBJECT, &j, &err), 0);
    assert_string_equal(json_string_value(json_object_get(j, "k")),
                        "[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{\"[[[\\");
    assert_string_equal(json_string_value(json_object_get(j, "z")), "]]]\\");
    json_decref(j);

    /* An escaped quote does not end the string: the 33 brackets after it are text. */
    char *deep = nested(33, '[', ']');
    n = snprintf(buf, sizeof(buf), "[\"\\\"%s\"]", deep);
    assert_int_equal(sifa_json_body_parse(buf, (size_t)n, LIMIT, 0, &j, NULL), 0);
    json_decref(j);
    /* But "\\" does end it before the quote: the brackets after are real. */
    n = snprintf(buf, sizeof(buf), "[\"\\\\\",%s]", deep);
    expect_bad(buf, (size_t)n, 0, 1, 38, 38, "nesting", NULL);
    free(deep);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    expect_bad("\"\xff\"", 3, 0, 1, 1, 1, "0xff", NULL);
    expect_bad("{\"a\":\"\xc3\"}", 9, 0, 0, 0, 0, NULL, NULL);
    expect_bad("{\"a\":\"\xed\xa0\x80\"}", 11, 0, 0, 0, 0, NULL, NULL); /* surrogate */
    expect_bad("{\"\xc0\xaf\":1}", 8, 0, 0, 0, 0, NULL, NULL);          /* overlong */
    /* Invalid bytes outside strings are quoted back by jansson: the detail stays valid UTF-8. */
    expect_bad("[\xff\xfe\xfd]", 5, 0, 0, 0, 0, NULL, NULL);
    expect_bad("[tru\xe8\xb0]", 7, 0, 0, 0, 0, NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_empty),        cmocka_unit_test(test_malformed_positions),
        cmocka_unit_test(test_trailing_data), cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_object_flag),  cmocka_unit_test(test_depth),
        cmocka_unit_test(test_depth_skips_strings), cmocka_unit_test(test_invalid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
