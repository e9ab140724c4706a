/* fuzz_check.c — libFuzzer target for src/check/. The first byte chooses the flags (bit 0:
 * SIFA_CHECK_ID_ALLOW_LEGACY, bit 1: SIFA_CHECK_MONEY_ALLOW_NEGATIVE); the rest, copied to a
 * buffer of exactly its size so ASan sees any read past the end, goes to every parser.
 * Checks: on success the result is consistent (a normalised identity number or credit code
 * validates again to the same result and carries its check character, a phone number is 11
 * digits, a date is valid and round-trips through day counts, a negative amount only with the
 * flag); on failure SIFA_EINVALID with a code, a message that is valid UTF-8, no details, and the
 * out-parameter untouched. The calendar functions get the leading bytes as a day count. */
#include <string.h>

#include "base/common.h"
#include "check/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void check_failure(int rc, struct sifa_error *err, const char *prefix)
{
    check(rc == SIFA_EINVALID);
    check(err->status == SIFA_EINVALID);
    check(strncmp(err->code, prefix, strlen(prefix)) == 0);
    check(err->details == NULL);
    json_t *msg = json_string(err->message);
    check(msg != NULL);
    json_decref(msg);
    sifa_error_release(err);
}

static bool untouched(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0xa5)
            return false;
    return true;
}

static void fuzz_id(const char *s, size_t len, unsigned flags)
{
    struct sifa_id_info info;
    struct sifa_error err = {0};
    memset(&info, 0xa5, sizeof(info));
    int rc = sifa_check_id_number(s, len, flags, 20240601, &info, &err);
    if (rc != 0) {
        check(untouched(&info, sizeof(info)));
        check_failure(rc, &err, "id_");
        return;
    }
    check(strlen(info.number) == 18);
    check(sifa_check_id_checksum(info.number) == info.number[17]);
    check(sifa_check_date_valid(info.birth_date) && info.birth_date >= SIFA_CHECK_ID_MIN_BIRTH);
    check(info.birth_date <= 20240601);
    check(!info.legacy || (flags & SIFA_CHECK_ID_ALLOW_LEGACY));
    struct sifa_id_info again;
    check(sifa_check_id_number(info.number, 18, 0, 20240601, &again, NULL) == 0);
    check(strcmp(again.number, info.number) == 0 && again.birth_date == info.birth_date &&
          again.region_code == info.region_code && again.male == info.male);
}

static void fuzz_uscc(const char *s, size_t len)
{
    struct sifa_uscc_info info;
    struct sifa_error err = {0};
    memset(&info, 0xa5, sizeof(info));
    int rc = sifa_check_uscc(s, len, &info, &err);
    if (rc != 0) {
        check(untouched(&info, sizeof(info)));
        check_failure(rc, &err, "uscc_");
        return;
    }
    check(strlen(info.code) == 18);
    check(sifa_check_uscc_checksum(info.code) == info.code[17]);
    check(info.region_code >= 0 && info.region_code <= 999999);
    struct sifa_uscc_info again;
    check(sifa_check_uscc(info.code, 18, &again, NULL) == 0 && strcmp(again.code, info.code) == 0);
}

static void fuzz_phone(const char *s, size_t len)
{
    char num[12];
    struct sifa_error err = {0};
    memset(num, 0xa5, sizeof(num));
    int rc = sifa_check_phone(s, len, num, &err);
    if (rc != 0) {
        check(untouched(num, sizeof(num)));
        check_failure(rc, &err, "phone_invalid");
        return;
    }
    check(strlen(num) == 11 && num[0] == '1' && num[1] >= '3' && num[1] <= '9');
    check(strspn(num, "0123456789") == 11);
}

static void fuzz_dates(const char *s, size_t len)
{
    int32_t date = -1;
    struct sifa_error err = {0};
    int rc = sifa_check_date(s, len, &date, &err);
    if (rc != 0) {
        check(date == -1);
        check_failure(rc, &err, "date_invalid");
    } else {
        check(sifa_check_date_valid(date));
        check(sifa_check_date_from_days(sifa_check_date_to_days(date)) == date);
    }

    int64_t t = -1;
    rc = sifa_check_datetime(s, len, &t, &err);
    if (rc != 0) {
        check(t == -1);
        check_failure(rc, &err, "datetime_invalid");
    } else {
        /* 0001-01-01T00:00+23:59 .. 9999-12-31T23:59:59-23:59 */
        check(t >= -62135596800 - 86400 && t <= 253402300799 + 86400);
    }
}

static void fuzz_money(const char *s, size_t len, unsigned flags)
{
    int64_t fen = 0x5a5a5a5a;
    struct sifa_error err = {0};
    int rc = sifa_check_money(s, len, flags, &fen, &err);
    if (rc != 0) {
        check(fen == 0x5a5a5a5a);
        check_failure(rc, &err, "money_");
        return;
    }
    check(fen >= 0 || (flags & SIFA_CHECK_MONEY_ALLOW_NEGATIVE));
    check(fen != INT64_MIN);
}

static void fuzz_calendar(const uint8_t *data, size_t size)
{
    if (size < 8)
        return;
    int64_t raw;
    memcpy(&raw, data, sizeof(raw));
    int64_t span = SIFA_CHECK_DAYS_MAX - SIFA_CHECK_DAYS_MIN + 1;
    int64_t days = SIFA_CHECK_DAYS_MIN + (int64_t)((uint64_t)raw % (uint64_t)span);
    int32_t date = sifa_check_date_from_days(days);
    check(sifa_check_date_valid(date));
    check(sifa_check_date_to_days(date) == days);
    int wd = sifa_check_weekday(days);
    check(wd >= 1 && wd <= 7 && sifa_check_weekday(days + 1) == wd % 7 + 1);
    int64_t wide = raw % 200000000000; /* the documented range of civil_from_days */
    int64_t y;
    int m, d;
    sifa_check_civil_from_days(wide, &y, &m, &d);
    check(m >= 1 && m <= 12 && d >= 1 && d <= sifa_check_month_days(y, m));
    check(sifa_check_days_from_civil(y, m, d) == wide);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned id_flags = data[0] & 1u ? SIFA_CHECK_ID_ALLOW_LEGACY : 0;
    unsigned money_flags = data[0] & 2u ? SIFA_CHECK_MONEY_ALLOW_NEGATIVE : 0;
    size_t len = size - 1;
    char *s = sifa_xmalloc(len == 0 ? 1 : len);
    memcpy(s, data + 1, len);

    fuzz_id(s, len, id_flags);
    fuzz_uscc(s, len);
    fuzz_phone(s, len);
    fuzz_dates(s, len);
    fuzz_money(s, len, money_flags);
    fuzz_calendar(data + 1, len);

    const char *t = s;
    size_t tl = len;
    sifa_check_trim(&t, &tl);
    check(t >= s && t + tl <= s + len);
    size_t pos = 0;
    while (pos < len) {
        size_t before = pos;
        int v = sifa_check_digit_at(s, len, &pos);
        check(v == -1 ? pos == before : (v <= 9 && pos > before && pos <= len));
        if (v < 0)
            pos++;
    }
    free(s);
    return 0;
}
