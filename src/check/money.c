/* money.c — money written as text ("12.5元", "1.78亿元", "3,200万元", "¥1,234.56") parsed
 * exactly into integer fen. Layer: check. No floating point: the digits are kept as written and
 * scaled by the unit as decimal shifts, so "1.78亿元" is 17800000000 fen, not a rounding of
 * 1.78 × 10^10. A value that cannot be written in whole fen is refused rather than rounded. */
#include "base/common.h"
#include "check/check.h"

static int money_invalid(struct sifa_error *err)
{
    return sifa_error_set(err, SIFA_EINVALID, "money_invalid", "%s",
                          "金额格式无效，应为数字，可带千分位逗号、小数和单位（元、万元、亿元）");
}

static bool eat(const char *s, size_t len, size_t *pos, const char *lit)
{
    size_t n = strlen(lit);
    if (len - *pos < n || memcmp(s + *pos, lit, n) != 0)
        return false;
    *pos += n;
    return true;
}

int sifa_check_money(const char *s, size_t len, unsigned flags, int64_t *ret_fen, struct sifa_error *err)
{
    if (len > SIFA_CHECK_MAX_INPUT)
        return money_invalid(err);
    sifa_check_trim(&s, &len);
    size_t pos = 0;

    /* Sign and currency sign, in either order: "-¥5", "¥-5". */
    int sign = 0;
    bool currency = false;
    for (int round = 0; round < 2; round++) {
        if (sign == 0 && eat(s, len, &pos, "-"))
            sign = -1;
        else if (sign == 0 && eat(s, len, &pos, "+"))
            sign = 1;
        else if (!currency && (eat(s, len, &pos, "¥") || eat(s, len, &pos, "￥")))
            currency = true;
    }

    /* Integer part, optionally grouped by three with ',' or '，'. At most len digits. */
    uint8_t digits[SIFA_CHECK_MAX_INPUT];
    size_t n_int = 0, group = 0;
    bool grouped = false;
    for (;;) {
        int d = sifa_check_digit_at(s, len, &pos);
        if (d >= 0) {
            digits[n_int++] = (uint8_t)d;
            group++;
            continue;
        }
        if (!(eat(s, len, &pos, ",") || eat(s, len, &pos, "，")))
            break;
        /* The first group holds 1-3 digits, every later one exactly 3. */
        if (group == 0 || group > 3 || (grouped && group != 3))
            return money_invalid(err);
        grouped = true;
        group = 0;
    }
    if (n_int == 0 || (grouped && group != 3))
        return money_invalid(err);

    size_t n_frac = 0;
    if (eat(s, len, &pos, ".") || eat(s, len, &pos, "．")) {
        int d;
        while ((d = sifa_check_digit_at(s, len, &pos)) >= 0)
            digits[n_int + n_frac++] = (uint8_t)d;
        if (n_frac == 0)
            return money_invalid(err);
    }

    while (eat(s, len, &pos, " "))
        ;
    unsigned exponent = 2; /* fen per yuan = 10^2 */
    if (eat(s, len, &pos, "万"))
        exponent += 4;
    else if (eat(s, len, &pos, "亿"))
        exponent += 8;
    if (!eat(s, len, &pos, "元"))
        eat(s, len, &pos, "块");
    /* Trimming removed trailing spaces, so spaces not followed by a unit leave pos < len. */
    if (pos != len)
        return money_invalid(err);

    if (sign < 0 && !(flags & SIFA_CHECK_MONEY_ALLOW_NEGATIVE))
        return sifa_error_set(err, SIFA_EINVALID, "money_negative", "%s", "金额不能为负数");

    /* Digits past the fen place must all be zero. */
    size_t used_frac = n_frac < exponent ? n_frac : exponent;
    for (size_t i = n_int + used_frac; i < n_int + n_frac; i++)
        if (digits[i] != 0)
            return sifa_error_set(err, SIFA_EINVALID, "money_precision", "%s", "金额最多精确到分（元后两位小数）");

    int64_t fen = 0;
    for (size_t i = 0; i < n_int + used_frac + (exponent - used_frac); i++) {
        int64_t d = i < n_int + used_frac ? digits[i] : 0;
        if (__builtin_mul_overflow(fen, 10, &fen) || __builtin_add_overflow(fen, d, &fen))
            return sifa_error_set(err, SIFA_EINVALID, "money_overflow", "%s", "金额超出可处理的范围");
    }
    if (ret_fen != NULL)
        *ret_fen = sign < 0 ? -fen : fen;
    return 0;
}
