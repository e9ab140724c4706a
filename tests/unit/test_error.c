/* test_error.c — unit tests for src/base/error.c: a message longer than struct sifa_error.message
 * is cut at a character boundary (a half UTF-8 sequence would make the JSON error envelope
 * invalid), whatever the offset of the cut; short messages, codes and details pass through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "base/text.h"

static void test_long_messages_cut_at_a_character(void **state)
{
    (void)state;
    /* every offset of the cut inside a 3-byte (司) and a 4-byte (𠀀) character */
    for (size_t pad = 0; pad < 8; pad++) {
        for (int wide = 0; wide < 2; wide++) {
            char msg[2048];
            size_t n = 0;
            memset(msg, 'a', pad);
            n = pad;
            const char *ch = wide ? "\xf0\xa0\x80\x80" : "\xe5\x8f\xb8";
            while (n + 4 < sizeof(msg)) {
                memcpy(msg + n, ch, strlen(ch));
                n += strlen(ch);
            }
            msg[n] = '\0';
            struct sifa_error err = {0};
            assert_int_equal(sifa_error_set(&err, SIFA_EINVALID, "long", "%s", msg), SIFA_EINVALID);
            size_t len = strlen(err.message);
            assert_true(len < sizeof(err.message));
            assert_true(len >= sizeof(err.message) - 4);
            assert_true(sifa_utf8_valid(err.message, len));
            assert_memory_equal(err.message, msg, len);
            sifa_error_release(&err);
        }
    }
}

static void test_short_message_and_details(void **state)
{
    (void)state;
    struct sifa_error err = {0};
    assert_int_equal(sifa_error_set_details(&err, SIFA_ENOTFOUND, "record_not_found", json_pack("{s:i}", "id", 7),
                                            "记录 %d 不存在", 7),
                     SIFA_ENOTFOUND);
    assert_string_equal(err.code, "record_not_found");
    assert_string_equal(err.message, "记录 7 不存在");
    assert_int_equal(json_integer_value(json_object_get(err.details, "id")), 7);
    sifa_error_release(&err);
    assert_null(err.details);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_messages_cut_at_a_character),
        cmocka_unit_test(test_short_message_and_details),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
