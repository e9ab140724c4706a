/* idnum.c — citizen identity numbers (GB 11643-1999): the ISO 7064 MOD 11-2 check character,
 * province-level region codes (GB/T 2260), birth dates and the 15-digit numbers of the first
 * generation cards. Layer: check. Messages never quote the number: it is personal data. */
#include <assert.h>

#include "base/common.h"
#include "check/check.h"

/* Weight of position i is 2^(17 - i) mod 11; the remainder of the weighted sum picks the check
 * character so that the sum including it is 1 mod 11. */
static const uint8_t id_weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
static const char id_check_chars[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

char sifa_check_id_checksum(const char first17[17])
{
    unsigned sum = 0;
    for (size_t i = 0; i < 17; i++) {
        if (!is_digit(first17[i]))
            return '\0';
        sum += (unsigned)(first17[i] - '0') * id_weights[i];
    }
    return id_check_chars[sum % 11];
}

/* Province-level codes of GB/T 2260 plus 71 (Taiwan), 81 (Hong Kong), 82 (Macao). */
static bool province_valid(int p)
{
    return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) || (p >= 41 && p <= 46) ||
           (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71 || p == 81 || p == 82;
}

static int32_t digits_value(const char *s, size_t n)
{
    int32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int sifa_check_id_number(const char *s, size_t len, unsigned flags, int32_t today_yyyymmdd,
                         struct sifa_id_info *ret_info, struct sifa_error *err)
{
    if (len > SIFA_CHECK_MAX_INPUT)
        return sifa_error_set(err, SIFA_EINVALID, "id_length", "%s", "身份证号过长，应为18位");
    sifa_check_trim(&s, &len);
    bool allow_legacy = flags & SIFA_CHECK_ID_ALLOW_LEGACY;
    if (len != 18 && len != 15)
        return sifa_error_set(err, SIFA_EINVALID, "id_length", "%s",
                              allow_legacy ? "身份证号应为18位（或15位旧号码）" : "身份证号应为18位");
    bool legacy = len == 15;
    if (legacy && !allow_legacy)
        return sifa_error_set(err, SIFA_EINVALID, "id_legacy_not_allowed", "%s",
                              "不接受15位旧身份证号，请填写18位身份证号");

    /* Upgrade a legacy number the way the 1999 standard did: insert the century "19" before
     * YYMMDD and append the check character. Then both forms are checked alike. */
    char num[19];
    size_t body = legacy ? 15 : 17;
    for (size_t i = 0; i < body; i++)
        if (!is_digit(s[i]))
            return sifa_error_set(err, SIFA_EINVALID, "id_chars", "%s",
                                  legacy ? "15位身份证号应全部为数字" : "身份证号前17位应为数字，最后一位为数字或X");
    if (legacy) {
        memcpy(num, s, 6);
        num[6] = '1';
        num[7] = '9';
        memcpy(num + 8, s + 6, 9);
    } else {
        char last = s[17];
        if (last == 'x')
            last = 'X';
        if (!is_digit(last) && last != 'X')
            return sifa_error_set(err, SIFA_EINVALID, "id_chars", "%s", "身份证号前17位应为数字，最后一位为数字或X");
        memcpy(num, s, 17);
        num[17] = last;
    }
    num[18] = '\0';

    if (!province_valid(digits_value(num, 2)))
        return sifa_error_set(err, SIFA_EINVALID, "id_region", "%s", "身份证号的地区码无效");

    int32_t birth = digits_value(num + 6, 8);
    if (!sifa_check_date_valid(birth))
        return sifa_error_set(err, SIFA_EINVALID, "id_birth_date", "%s", "身份证号中的出生日期不是有效日期");
    if (birth < SIFA_CHECK_ID_MIN_BIRTH)
        return sifa_error_set(err, SIFA_EINVALID, "id_birth_date", "%s", "身份证号中的出生日期早于1900年");
    if (today_yyyymmdd > 0 && birth > today_yyyymmdd)
        return sifa_error_set(err, SIFA_EINVALID, "id_birth_date", "%s", "身份证号中的出生日期晚于今天");

    char check = sifa_check_id_checksum(num);
    assert(check != '\0'); /* the 17 digits were checked above */
    if (legacy)
        num[17] = check;
    else if (num[17] != check)
        return sifa_error_set(err, SIFA_EINVALID, "id_check_digit", "%s", "身份证号校验位错误");

    if (ret_info != NULL) {
        memcpy(ret_info->number, num, sizeof(num));
        ret_info->birth_date = birth;
        ret_info->region_code = digits_value(num, 6);
        ret_info->male = (num[16] - '0') % 2 == 1;
        ret_info->legacy = legacy;
    }
    return 0;
}
