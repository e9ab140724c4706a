/* test_check.c — unit tests for src/check/: identity numbers (published examples, numbers built
 * with the checksum helper, every error code, leap days, 15-digit numbers with and without the
 * flag, single-digit and transposition errors), unified social credit codes, mobile numbers,
 * dates and date-times with zones, calendar arithmetic against known day counts, money text to
 * fen with every error code, and the bounds of every parser (no NUL terminator, limit). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "check/check.h"

#include <stdio.h>
#include <string.h>

#define TODAY 20240601

/* A heap copy of exactly len bytes, so ASan reports any read past the end. */
static char *exact_copy(const char *s, size_t len)
{
    char *p = malloc(len == 0 ? 1 : len);
    assert_non_null(p);
    memcpy(p, s, len);
    return p;
}

static void expect_err(const struct sifa_error *err, int rc, const char *code)
{
    assert_int_equal(rc, SIFA_EINVALID);
    assert_int_equal(err->status, SIFA_EINVALID);
    assert_string_equal(err->code, code);
    assert_true(strlen(err->message) > 0);
    json_t *msg = json_string(err->message); /* valid UTF-8 */
    assert_non_null(msg);
    json_decref(msg);
    assert_null(err->details);
}

/* ---- identity numbers ---- */

static int id_check(const char *s, unsigned flags, int32_t today, struct sifa_id_info *ret, struct sifa_error *err)
{
    size_t len = strlen(s);
    char *p = exact_copy(s, len);
    int rc = sifa_check_id_number(p, len, flags, today, ret, err);
    free(p);
    return rc;
}

static void id_ok(const char *s, unsigned flags, const char *number, int32_t birth, int32_t region, bool male)
{
    struct sifa_id_info info;
    struct sifa_error err = {0};
    int rc = id_check(s, flags, TODAY, &info, &err);
    if (rc != 0)
        fail_msg("\"%s\": %s %s", s, err.code, err.message);
    assert_string_equal(info.number, number);
    assert_int_equal(info.birth_date, birth);
    assert_int_equal(info.region_code, region);
    assert_int_equal(info.male, male);
    assert_int_equal(info.legacy, strlen(s) == 15);
    assert_int_equal(err.status, 0);
}

static void id_bad(const char *s, unsigned flags, int32_t today, const char *code)
{
    struct sifa_id_info info;
    memset(&info, 0x5a, sizeof(info));
    struct sifa_error err = {0};
    int rc = id_check(s, flags, today, &info, &err);
    if (rc == 0)
        fail_msg("\"%s\" accepted, expected %s", s, code);
    expect_err(&err, rc, code);
    for (size_t i = 0; i < sizeof(info); i++) /* ret_ untouched on failure */
        assert_int_equal(((unsigned char *)&info)[i], 0x5a);
    sifa_error_release(&err);
}

/* first17 + its check character. */
static void make_id(const char *first17, char out[19])
{
    assert_int_equal(strlen(first17), 17);
    memcpy(out, first17, 17);
    out[17] = sifa_check_id_checksum(first17);
    assert_int_not_equal(out[17], '\0');
    out[18] = '\0';
}

static void test_id_published(void **state)
{
    (void)state;
    /* The example of GB 11643 itself: Beijing Chaoyang, 1949-12-31, female. */
    id_ok("11010519491231002X", 0, "11010519491231002X", 19491231, 110105, false);
    id_ok("11010519491231002x", 0, "11010519491231002X", 19491231, 110105, false);
    assert_int_equal(sifa_check_id_checksum("11010519491231002"), 'X');
    /* The other common textbook example has a correct check digit but a birth date in 1880,
     * before SIFA_CHECK_ID_MIN_BIRTH. */
    assert_int_equal(sifa_check_id_checksum("44052418800101001"), '4');
    id_bad("440524188001010014", 0, TODAY, "id_birth_date");
    /* ret_info and err may be NULL. */
    assert_int_equal(sifa_check_id_number("11010519491231002X", 18, 0, TODAY, NULL, NULL), 0);
    assert_int_equal(sifa_check_id_number("11010519491231002Y", 18, 0, TODAY, NULL, NULL), SIFA_EINVALID);
}

static void test_id_constructed(void **state)
{
    (void)state;
    char id[19];
    make_id("11010119900307123", id);
    assert_string_equal(id, "110101199003071233");
    id_ok(id, 0, id, 19900307, 110101, true);
    make_id("11010519000101001", id); /* the earliest birth date accepted */
    assert_string_equal(id, "11010519000101001X");
    id_ok(id, 0, id, 19000101, 110105, true);

    /* Every province-level code on the list, and male/female from the 17th digit. */
    static const int provinces[] = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43,
                                    44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82};
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(provinces); i++) {
        char first[18];
        snprintf(first, sizeof(first), "%02d0102198506150%d%d", provinces[i], (int)(i % 10), (int)(i % 10));
        make_id(first, id);
        id_ok(id, 0, id, 19850615, provinces[i] * 10000 + 102, i % 2 == 1);
    }
    /* White space and U+3000 around the number are ignored. */
    id_ok(" \t11010519491231002X\xe3\x80\x80 ", 0, "11010519491231002X", 19491231, 110105, false);
}

static void test_id_errors(void **state)
{
    (void)state;
    id_bad("", 0, TODAY, "id_length");
    id_bad("11010519491231002", 0, TODAY, "id_length");
    id_bad("11010519491231002X1", 0, TODAY, "id_length");
    id_bad("1101051949123100", SIFA_CHECK_ID_ALLOW_LEGACY, TODAY, "id_length");
    char longer[200];
    memset(longer, '1', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    id_bad(longer, 0, TODAY, "id_length");
    /* An embedded NUL makes the length wrong, not a shorter valid number. */
    struct sifa_error err = {0};
    expect_err(&err, sifa_check_id_number("11010519491231002X\0", 19, 0, TODAY, NULL, &err), "id_length");
    sifa_error_release(&err);

    id_bad("1101051949123100XX", 0, TODAY, "id_chars");
    id_bad("11010519491231002Y", 0, TODAY, "id_chars");
    id_bad("110105194912310 2X", 0, TODAY, "id_chars");
    id_bad("11010519491231002\xc3", 0, TODAY, "id_chars");
    id_bad("１１０１０５", 0, TODAY, "id_chars"); /* 6 full-width digits = 18 bytes */
    id_bad("110105194912310", 0, TODAY, "id_legacy_not_allowed");
    id_bad("11010549123100X", SIFA_CHECK_ID_ALLOW_LEGACY, TODAY, "id_chars");

    char id[19];
    make_id("99010519491231002", id);
    id_bad(id, 0, TODAY, "id_region");
    make_id("00010519491231002", id);
    id_bad(id, 0, TODAY, "id_region");
    make_id("83000019491231002", id); /* Taiwan residence permits (830000) are not on the list */
    id_bad(id, 0, TODAY, "id_region");
    make_id("16010519491231002", id);
    id_bad(id, 0, TODAY, "id_region");

    make_id("11010519491331002", id); /* month 13 */
    id_bad(id, 0, TODAY, "id_birth_date");
    make_id("11010519490431002", id); /* April 31st */
    id_bad(id, 0, TODAY, "id_birth_date");
    make_id("11010518991231002", id); /* before 1900 */
    id_bad(id, 0, TODAY, "id_birth_date");
    make_id("11010520240602002", id); /* the day after "today" */
    id_bad(id, 0, TODAY, "id_birth_date");
    assert_int_equal(id_check(id, 0, 0, NULL, NULL), 0); /* 0: no upper bound */
    make_id("11010520240601002", id); /* born today */
    assert_int_equal(id_check(id, 0, TODAY, NULL, NULL), 0);

    id_bad("110105194912310021", 0, TODAY, "id_check_digit");
    id_bad("110105194912310020", 0, TODAY, "id_check_digit");
    id_bad("11010519491231002 ", 0, TODAY, "id_length"); /* trailing space trimmed: 17 left */
    id_bad("110101199003071234", 0, TODAY, "id_check_digit");
    id_bad("11010119900307123X", 0, TODAY, "id_check_digit");
}

static void test_id_leap_days(void **state)
{
    (void)state;
    char id[19];
    make_id("32010620000229004", id); /* 2000: divisible by 400 */
    assert_string_equal(id, "320106200002290043");
    id_ok(id, 0, id, 20000229, 320106, false);
    make_id("32010619960229005", id);
    id_ok(id, 0, id, 19960229, 320106, true);
    make_id("32010620200229001", id);
    id_ok(id, 0, id, 20200229, 320106, true);
    make_id("32010619000229001", id); /* 1900: divisible by 100, not 400 */
    id_bad(id, 0, TODAY, "id_birth_date");
    make_id("32010620210229001", id);
    id_bad(id, 0, TODAY, "id_birth_date");
    make_id("32010619990229001", id);
    id_bad(id, 0, TODAY, "id_birth_date");
}

static void test_id_legacy(void **state)
{
    (void)state;
    /* The 15-digit form of the standard example: 19 inserted, check character appended. */
    id_bad("110105491231002", 0, TODAY, "id_legacy_not_allowed");
    id_ok("110105491231002", SIFA_CHECK_ID_ALLOW_LEGACY, "11010519491231002X", 19491231, 110105, false);
    id_ok("320106850615013", SIFA_CHECK_ID_ALLOW_LEGACY, "320106198506150132", 19850615, 320106, true);
    assert_int_equal(sifa_check_id_checksum("32010619850615013"), '2');
    id_bad("320106000229013", SIFA_CHECK_ID_ALLOW_LEGACY, TODAY, "id_birth_date"); /* 1900-02-29 */
    id_ok("320106960229013", SIFA_CHECK_ID_ALLOW_LEGACY, "32010619960229013X", 19960229, 320106, true);
    assert_int_equal(sifa_check_id_checksum("32010619960229013"), 'X');
    id_bad("990106850615013", SIFA_CHECK_ID_ALLOW_LEGACY, TODAY, "id_region");
    /* 18-digit numbers still work with the flag. */
    id_ok("11010519491231002X", SIFA_CHECK_ID_ALLOW_LEGACY, "11010519491231002X", 19491231, 110105, false);
}

/* MOD 11-2 catches every single-digit error and every swap of adjacent different digits. */
static void test_id_single_errors(void **state)
{
    (void)state;
    char id[19];
    make_id("11010119900307123", id);
    for (size_t i = 0; i < 18; i++) {
        for (char c = '0'; c <= '9'; c++) {
            if (c == id[i])
                continue;
            char bad[19];
            memcpy(bad, id, sizeof(bad));
            bad[i] = c;
            assert_int_not_equal(sifa_check_id_number(bad, 18, 0, TODAY, NULL, NULL), 0);
        }
        if (i < 17 && id[i] != id[i + 1]) {
            char bad[19];
            memcpy(bad, id, sizeof(bad));
            bad[i] = id[i + 1];
            bad[i + 1] = id[i];
            assert_int_not_equal(sifa_check_id_number(bad, 18, 0, TODAY, NULL, NULL), 0);
        }
    }
    assert_int_equal(sifa_check_id_checksum("1101011990030712a"), '\0');
}

/* ---- unified social credit codes ---- */

static void uscc_bad(const char *s, const char *code)
{
    struct sifa_uscc_info info;
    memset(&info, 0x5a, sizeof(info));
    struct sifa_error err = {0};
    size_t len = strlen(s);
    char *p = exact_copy(s, len);
    int rc = sifa_check_uscc(p, len, &info, &err);
    free(p);
    if (rc == 0)
        fail_msg("\"%s\" accepted, expected %s", s, code);
    expect_err(&err, rc, code);
    for (size_t i = 0; i < sizeof(info); i++)
        assert_int_equal(((unsigned char *)&info)[i], 0x5a);
    sifa_error_release(&err);
}

static void test_uscc(void **state)
{
    (void)state;
    struct sifa_uscc_info info;
    struct sifa_error err = {0};
    assert_int_equal(sifa_check_uscc("91350100M000100Y43", 18, &info, &err), 0);
    assert_string_equal(info.code, "91350100M000100Y43");
    assert_int_equal(info.authority, '9');
    assert_int_equal(info.type, '1');
    assert_int_equal(info.region_code, 350100);
    assert_int_equal(sifa_check_uscc_checksum("91350100M000100Y4"), '3');
    assert_int_equal(sifa_check_uscc(" 91350100m000100y43 ", 20, &info, NULL), 0);
    assert_string_equal(info.code, "91350100M000100Y43");
    assert_int_equal(sifa_check_uscc("91350100M000100Y43", 18, NULL, NULL), 0);

    /* Codes built with the helper, including the case 31 - 0 → '0'. */
    char code[19] = "12330000MB0000000";
    int zero_found = 0;
    for (size_t k = 0; k < 31; k++) {
        code[16] = "0123456789ABCDEFGHJKLMNPQRTUWXY"[k];
        code[17] = sifa_check_uscc_checksum(code);
        code[18] = '\0';
        assert_int_not_equal(code[17], '\0');
        zero_found += code[17] == '0';
        assert_int_equal(sifa_check_uscc(code, 18, &info, NULL), 0);
        assert_int_equal(info.region_code, 330000);
    }
    assert_int_equal(zero_found, 1);

    uscc_bad("91350100M000100Y44", "uscc_check_digit");
    uscc_bad("91350100M000100Y40", "uscc_check_digit");
    uscc_bad("91350100M000100X43", "uscc_check_digit");
    uscc_bad("91350100M000100Y4", "uscc_length");
    uscc_bad("91350100M000100Y430", "uscc_length");
    uscc_bad("", "uscc_length");
    uscc_bad("91350100M000100I43", "uscc_chars"); /* I, O, Z, S, V are not used */
    uscc_bad("91350100O000100Y43", "uscc_chars");
    uscc_bad("91350100S000100Y43", "uscc_chars");
    uscc_bad("91350100M000100Y4Z", "uscc_chars");
    uscc_bad("91350100M000100Y4v", "uscc_chars");
    uscc_bad("91350100M00010-Y43", "uscc_chars");
    uscc_bad("91350100M000100Y4\xef", "uscc_chars");
    char first[18] = "913A0100M000100Y4"; /* a letter in the division code, correct check */
    char bad[19];
    memcpy(bad, first, 17);
    bad[17] = sifa_check_uscc_checksum(first);
    bad[18] = '\0';
    uscc_bad(bad, "uscc_chars");

    /* Every single-character substitution is caught. */
    const char *good = "91350100M000100Y43";
    for (size_t i = 0; i < 18; i++)
        for (size_t k = 0; k < 31; k++) {
            char c = "0123456789ABCDEFGHJKLMNPQRTUWXY"[k];
            if (c == good[i])
                continue;
            char v[19];
            memcpy(v, good, sizeof(v));
            v[i] = c;
            assert_int_not_equal(sifa_check_uscc(v, 18, NULL, NULL), 0);
        }
    assert_int_equal(sifa_check_uscc_checksum("91350100M000100I4"), '\0');
}

/* ---- mobile numbers ---- */

static void phone_ok(const char *s, const char *want)
{
    char num[12];
    struct sifa_error err = {0};
    size_t len = strlen(s);
    char *p = exact_copy(s, len);
    int rc = sifa_check_phone(p, len, num, &err);
    free(p);
    if (rc != 0)
        fail_msg("\"%s\": %s", s, err.code);
    assert_string_equal(num, want);
}

static void phone_bad(const char *s)
{
    char num[12] = "untouched";
    struct sifa_error err = {0};
    size_t len = strlen(s);
    char *p = exact_copy(s, len);
    int rc = sifa_check_phone(p, len, num, &err);
    free(p);
    if (rc == 0)
        fail_msg("\"%s\" accepted", s);
    expect_err(&err, rc, "phone_invalid");
    assert_string_equal(num, "untouched");
    sifa_error_release(&err);
}

static void test_phone(void **state)
{
    (void)state;
    phone_ok("13800138000", "13800138000");
    phone_ok("19912345678", "19912345678");
    phone_ok("+8613800138000", "13800138000");
    phone_ok("8613800138000", "13800138000");
    phone_ok("+86 138 0013 8000", "13800138000");
    phone_ok("+86-138-0013-8000", "13800138000");
    phone_ok("138-0013-8000", "13800138000");
    phone_ok("  15912345678\xe3\x80\x80", "15912345678");
    assert_int_equal(sifa_check_phone("13800138000", 11, NULL, NULL), 0);

    phone_bad("");
    phone_bad("12800138000");
    phone_bad("10800138000");
    phone_bad("23800138000");
    phone_bad("1380013800");
    phone_bad("138001380001");
    phone_bad("+13800138000");
    phone_bad("+1 2025550123");
    phone_bad("+ 86 13800138000");
    phone_bad("0086 13800138000");
    phone_bad("8713800138000");
    phone_bad("138--0013-8000");
    phone_bad("-13800138000");
    phone_bad("13800138000-");
    phone_bad("138 0013 800a");
    phone_bad("(+86)13800138000");
    phone_bad("１３８００１３８０００");
    phone_bad("+86");
    phone_bad("+");
    phone_bad("138001380001380013800138000");
}

/* ---- dates ---- */

static void date_ok(const char *s, int32_t want)
{
    int32_t v = -1;
    struct sifa_error err = {0};
    size_t len = strlen(s);
    char *p = exact_copy(s, len);
    int rc = sifa_check_date(p, len, &v, &err);
    free(p);
    if (rc != 0)
        fail_msg("\"%s\": %s", s, err.code);
    assert_int_equal(v, want);
}

static void date_bad(const char *s)
{
    int32_t v = -1;
    struct sifa_error err = {0};
    size_t len = strlen(s);
    char *p = exact_copy(s, len);
    int rc = sifa_check_date(p, len, &v, &err);
    free(p);
    if (rc == 0)
        fail_msg("\"%s\" accepted as %d", s, (int)v);
    expect_err(&err, rc, "date_invalid");
    assert_int_equal(v, -1);
    sifa_error_release(&err);
}

static void test_date(void **state)
{
    (void)state;
    date_ok("2021-09-28", 20210928);
    date_ok("2021年9月28日", 20210928);
    date_ok("2021年09月08日", 20210908);
    date_ok("2021年1月1日", 20210101);
    date_ok("２０２１年９月２８日", 20210928);
    date_ok(" 2020-02-29 ", 20200229);
    date_ok("2000-02-29", 20000229);
    date_ok("2024年2月29日", 20240229);
    date_ok("0001-01-01", 10101);
    date_ok("9999-12-31", 99991231);

    date_bad("");
    date_bad("2021-02-29");
    date_bad("1900-02-29");
    date_bad("2100-02-29");
    date_bad("2021年2月29日");
    date_bad("2021-04-31");
    date_bad("2021-13-01");
    date_bad("2021-00-10");
    date_bad("2021-01-00");
    date_bad("0000-01-01");
    date_bad("2021-9-28");
    date_bad("21-09-28");
    date_bad("2021/09/28");
    date_bad("2021-09-28x");
    date_bad("2021-09-28T00:00");
    date_bad("2021年9月28");
    date_bad("2021年123月1日");
    date_bad("2021年9月日");
    date_bad("2021\xe5\xb9");
    date_bad("20210928");
    date_bad("+2021-09-28");
    /* Not NUL-terminated: the parser stops at len. */
    int32_t v = 0;
    assert_int_equal(sifa_check_date("2021-09-28999", 10, &v, NULL), 0);
    assert_int_equal(v, 20210928);
}

static void datetime_ok(const char *s, int64_t want)
{
    int64_t v = -1;
    struct sifa_error err = {0};
    size_t len = strlen(s);
    char *p = exact_copy(s, len);
    int rc = sifa_check_datetime(p, len, &v, &err);
    free(p);
    if (rc != 0)
        fail_msg("\"%s\": %s", s, err.code);
    assert_int_equal(v, want);
}

static void datetime_bad(const char *s)
{
    int64_t v = -1;
    struct sifa_error err = {0};
    size_t len = strlen(s);
    char *p = exact_copy(s, len);
    int rc = sifa_check_datetime(p, len, &v, &err);
    free(p);
    if (rc == 0)
        fail_msg("\"%s\" accepted", s);
    expect_err(&err, rc, "datetime_invalid");
    assert_int_equal(v, -1);
    sifa_error_release(&err);
}

static void test_datetime(void **state)
{
    (void)state;
    const int64_t t = 1632789000; /* 2021-09-28T00:30:00Z */
    datetime_ok("2021-09-28T08:30:00+08:00", t);
    datetime_ok("2021-09-28T00:30:00Z", t);
    datetime_ok("2021-09-28t00:30:00z", t);
    datetime_ok("2021-09-28T00:30Z", t);
    datetime_ok("2021-09-28T08:30", t);
    datetime_ok("2021-09-28 08:30", t);
    datetime_ok("2021-09-28 08:30:00", t);
    datetime_ok("2021-09-28 08:30:00+08:00", t);
    datetime_ok("2021-09-28T00:30:00.123Z", t);
    datetime_ok("2021-09-28T00:30:00.999999999Z", t);
    datetime_ok("2021-09-27T19:30:00-05:00", t);
    datetime_ok("2021-09-28T06:00:00+05:30", t);
    datetime_ok("2021-09-28T00:30:00+00:00", t);
    datetime_ok("2021-09-28T00:30:00-00:00", t);
    datetime_ok("1970-01-01T00:00:00Z", 0);
    datetime_ok("1970-01-01 08:00:00", 0);
    datetime_ok("1970-01-01 00:00:00", -28800);
    datetime_ok("2000-02-29T23:59:59Z", 951868799);
    datetime_ok("0001-01-01T00:00:00Z", -62135596800);
    datetime_ok("9999-12-31T23:59:59Z", 253402300799);

    datetime_bad("");
    datetime_bad("2021-09-28");
    datetime_bad("2021-09-28T");
    datetime_bad("2021-09-28T24:00");
    datetime_bad("2021-09-28T08:60");
    datetime_bad("2021-09-28T08:30:60");
    datetime_bad("2021-09-28T8:30");
    datetime_bad("2021-09-28T08:30:0");
    datetime_bad("2021-09-28T08:30+0800");
    datetime_bad("2021-09-28T08:30+08");
    datetime_bad("2021-09-28T08:30+24:00");
    datetime_bad("2021-09-28T08:30:00.Z");
    datetime_bad("2021-09-28T08:30:00.1234567890Z");
    datetime_bad("2021-09-28T08:30:00ZZ");
    datetime_bad("2021-09-28T08:30:00 +08:00");
    datetime_bad("2021-09-28  08:30");
    datetime_bad("2021-02-29T00:00");
    datetime_bad("2021年9月28日 08:30");
    datetime_bad("2021-09-28X08:30");
}

static void test_calendar(void **state)
{
    (void)state;
    assert_int_equal(sifa_check_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(sifa_check_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(sifa_check_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(sifa_check_date_to_days(10101), SIFA_CHECK_DAYS_MIN);
    assert_int_equal(sifa_check_date_to_days(99991231), SIFA_CHECK_DAYS_MAX);
    assert_int_equal(sifa_check_date_from_days(SIFA_CHECK_DAYS_MIN), 10101);
    assert_int_equal(sifa_check_date_from_days(SIFA_CHECK_DAYS_MAX), 99991231);
    assert_int_equal(sifa_check_weekday(0), 4);                                /* Thursday */
    assert_int_equal(sifa_check_weekday(sifa_check_date_to_days(20210928)), 2); /* Tuesday */
    assert_int_equal(sifa_check_weekday(SIFA_CHECK_DAYS_MIN), 1);               /* Monday */
    assert_int_equal(sifa_check_weekday(-1), 3);
    assert_int_equal(sifa_check_weekday(-7), 4);
    assert_true(sifa_check_leap_year(2000));
    assert_false(sifa_check_leap_year(1900));
    assert_true(sifa_check_leap_year(2024));
    assert_false(sifa_check_leap_year(2023));
    assert_int_equal(sifa_check_month_days(2023, 2), 28);
    assert_int_equal(sifa_check_month_days(2024, 2), 29);
    assert_int_equal(sifa_check_month_days(2024, 13), 0);
    assert_false(sifa_check_date_valid(20210229));
    assert_false(sifa_check_date_valid(-20210101));
    assert_false(sifa_check_date_valid(100000101));
    assert_true(sifa_check_date_valid(20240229));

    /* Every day of 0001..9999 round-trips, counts consecutively and cycles the weekday. */
    int32_t prev = 0;
    for (int64_t d = SIFA_CHECK_DAYS_MIN; d <= SIFA_CHECK_DAYS_MAX; d++) {
        int32_t v = sifa_check_date_from_days(d);
        assert_true(sifa_check_date_valid(v));
        assert_true(v > prev);
        assert_int_equal(sifa_check_date_to_days(v), d);
        prev = v;
    }
    /* Beyond 0001..9999 (negative years) the day counts still round-trip. */
    for (int64_t d = -800000000; d < 800000000; d += 9876543) {
        int64_t y;
        int m, dd;
        sifa_check_civil_from_days(d, &y, &m, &dd);
        assert_int_equal(sifa_check_days_from_civil(y, m, dd), d);
        assert_int_equal(sifa_check_weekday(d + 7), sifa_check_weekday(d));
    }
}

/* ---- money ---- */

static void money_ok(const char *s, unsigned flags, int64_t want)
{
    int64_t v = -1;
    struct sifa_error err = {0};
    size_t len = strlen(s);
    char *p = exact_copy(s, len);
    int rc = sifa_check_money(p, len, flags, &v, &err);
    free(p);
    if (rc != 0)
        fail_msg("\"%s\": %s", s, err.code);
    assert_int_equal(v, want);
}

static void money_bad(const char *s, unsigned flags, const char *code)
{
    int64_t v = -7;
    struct sifa_error err = {0};
    size_t len = strlen(s);
    char *p = exact_copy(s, len);
    int rc = sifa_check_money(p, len, flags, &v, &err);
    free(p);
    if (rc == 0)
        fail_msg("\"%s\" accepted as %lld", s, (long long)v);
    expect_err(&err, rc, code);
    assert_int_equal(v, -7);
    sifa_error_release(&err);
}

static void test_money(void **state)
{
    (void)state;
    const unsigned neg = SIFA_CHECK_MONEY_ALLOW_NEGATIVE;
    money_ok("12.5元", 0, 1250);
    money_ok("1.78亿元", 0, 17800000000);
    money_ok("3,200万元", 0, 3200000000);
    money_ok("3200万", 0, 3200000000);
    money_ok("¥1,234.56", 0, 123456);
    money_ok("￥1,234.56", 0, 123456);
    money_ok("1234.56", 0, 123456);
    money_ok("0.5万元", 0, 500000);
    money_ok("１，２３４．５６元", 0, 123456);
    money_ok("１２万元", 0, 12000000);
    money_ok("3，200万元", 0, 3200000000);
    money_ok("5块", 0, 500);
    money_ok("12元", 0, 1200);
    money_ok("12 元", 0, 1200);
    money_ok("12 万元", 0, 12000000);
    money_ok("2亿", 0, 20000000000);
    money_ok(" 0 ", 0, 0);
    money_ok("0.01元", 0, 1);
    money_ok("007", 0, 700);
    money_ok("1,234,567.89", 0, 123456789);
    money_ok("+3元", 0, 300);
    money_ok("1.230元", 0, 123);
    money_ok("1.234567万元", 0, 1234567);
    money_ok("0.000000001亿元", 0, 10);
    money_ok("-12.5元", neg, -1250);
    money_ok("-¥12", neg, -1200);
    money_ok("¥-12", neg, -1200);
    money_ok("92233720368547758.07元", 0, INT64_MAX);
    money_ok("-92233720368547758.07", neg, -INT64_MAX);
    money_ok("922337203.6854775807亿元", 0, INT64_MAX);

    money_bad("1.234元", 0, "money_precision");
    money_bad("0.001", 0, "money_precision");
    money_bad("1.2345678万元", 0, "money_precision");
    money_bad("0.00000000001亿元", 0, "money_precision");
    money_bad("-12.5元", 0, "money_negative");
    money_bad("-0", 0, "money_negative");
    money_bad("92233720368547758.08元", 0, "money_overflow");
    money_bad("10000000000亿元", 0, "money_overflow");
    money_bad("99999999999999999999999999999999999", 0, "money_overflow");

    money_bad("", 0, "money_invalid");
    money_bad("   ", 0, "money_invalid");
    money_bad("元", 0, "money_invalid");
    money_bad("万元", 0, "money_invalid");
    money_bad("abc", 0, "money_invalid");
    money_bad("12..5", 0, "money_invalid");
    money_bad("12.", 0, "money_invalid");
    money_bad(".5元", 0, "money_invalid");
    money_bad("1,23元", 0, "money_invalid");
    money_bad("1234,567", 0, "money_invalid");
    money_bad("12,34", 0, "money_invalid");
    money_bad(",123", 0, "money_invalid");
    money_bad("123,", 0, "money_invalid");
    money_bad("1,,234", 0, "money_invalid");
    money_bad("1,234.5,6", 0, "money_invalid");
    money_bad("12元元", 0, "money_invalid");
    money_bad("12万亿元", 0, "money_invalid");
    money_bad("12元万", 0, "money_invalid");
    money_bad("1 2元", 0, "money_invalid");
    money_bad("--5", neg, "money_invalid");
    money_bad("+-5", neg, "money_invalid");
    money_bad("¥¥5", 0, "money_invalid");
    money_bad("5¥", 0, "money_invalid");
    money_bad("1e5", 0, "money_invalid");
    money_bad("0x10", 0, "money_invalid");
    money_bad("12\xe5\x85", 0, "money_invalid"); /* 元 cut short */
    money_bad("\xef\xbc", 0, "money_invalid");   /* a full-width digit cut short */
    money_bad("1000000000000000000000000000000000000000000000000000000000000000000", 0, "money_invalid");

    /* Not NUL-terminated and an embedded NUL. */
    int64_t v = 0;
    assert_int_equal(sifa_check_money("12元345", 5, 0, &v, NULL), 0);
    assert_int_equal(v, 1200);
    assert_int_equal(sifa_check_money("12\0", 3, 0, &v, NULL), SIFA_EINVALID);
}

static void test_text_helpers(void **state)
{
    (void)state;
    const char *s = "\xe3\x80\x80 x \t\xe3\x80\x80";
    size_t len = strlen(s);
    sifa_check_trim(&s, &len);
    assert_int_equal(len, 1);
    assert_int_equal(s[0], 'x');
    s = "\xe3\x80";
    len = 2;
    sifa_check_trim(&s, &len); /* half an ideographic space stays */
    assert_int_equal(len, 2);
    s = "   ";
    len = 3;
    sifa_check_trim(&s, &len);
    assert_int_equal(len, 0);

    size_t pos = 0;
    assert_int_equal(sifa_check_digit_at("7", 1, &pos), 7);
    assert_int_equal(pos, 1);
    assert_int_equal(sifa_check_digit_at("7", 1, &pos), -1);
    pos = 0;
    assert_int_equal(sifa_check_digit_at("\xef\xbc\x99", 3, &pos), 9);
    assert_int_equal(pos, 3);
    pos = 0;
    assert_int_equal(sifa_check_digit_at("\xef\xbc\x99", 2, &pos), -1);
    assert_int_equal(pos, 0);
    assert_int_equal(sifa_check_digit_at("\xef\xbc\x9a", 3, &pos), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_published),   cmocka_unit_test(test_id_constructed),
        cmocka_unit_test(test_id_errors),      cmocka_unit_test(test_id_leap_days),
        cmocka_unit_test(test_id_legacy),      cmocka_unit_test(test_id_single_errors),
        cmocka_unit_test(test_uscc),           cmocka_unit_test(test_phone),
        cmocka_unit_test(test_date),           cmocka_unit_test(test_datetime),
        cmocka_unit_test(test_calendar),       cmocka_unit_test(test_money),
        cmocka_unit_test(test_text_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
