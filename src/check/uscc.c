/* uscc.c — unified social credit codes (GB 32100-2015): 18 characters from a 31-symbol alphabet
 * (digits and capitals without I, O, Z, S, V), positions 3-8 the division code, position 18 a
 * check character over the other 17 with weights 3^i mod 31. Layer: check. */
#include "base/common.h"
#include "check/check.h"

static const char uscc_alphabet[31] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const uint8_t uscc_weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

/* Value 0-30 of c (lowercase accepted), or -1. */
static int uscc_value(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    if (c == '\0')
        return -1;
    const char *p = memchr(uscc_alphabet, c, sizeof(uscc_alphabet));
    return p == NULL ? -1 : (int)(p - uscc_alphabet);
}

char sifa_check_uscc_checksum(const char first17[17])
{
    unsigned sum = 0;
    for (size_t i = 0; i < 17; i++) {
        int v = uscc_value(first17[i]);
        if (v < 0)
            return '\0';
        sum += (unsigned)v * uscc_weights[i];
    }
    return uscc_alphabet[(31 - sum % 31) % 31];
}

int sifa_check_uscc(const char *s, size_t len, struct sifa_uscc_info *ret_info, struct sifa_error *err)
{
    if (len > SIFA_CHECK_MAX_INPUT)
        return sifa_error_set(err, SIFA_EINVALID, "uscc_length", "%s", "统一社会信用代码过长，应为18位");
    sifa_check_trim(&s, &len);
    if (len != 18)
        return sifa_error_set(err, SIFA_EINVALID, "uscc_length", "%s", "统一社会信用代码应为18位");
    char code[19];
    for (size_t i = 0; i < 18; i++) {
        int v = uscc_value(s[i]);
        if (v < 0)
            return sifa_error_set(err, SIFA_EINVALID, "uscc_chars", "%s",
                                  "统一社会信用代码含有非法字符（只用数字和除I、O、Z、S、V以外的大写字母）");
        code[i] = uscc_alphabet[v];
    }
    code[18] = '\0';
    for (size_t i = 2; i < 8; i++)
        if (code[i] < '0' || code[i] > '9')
            return sifa_error_set(err, SIFA_EINVALID, "uscc_chars", "%s",
                                  "统一社会信用代码第3至8位应为行政区划代码（数字）");
    if (sifa_check_uscc_checksum(code) != code[17])
        return sifa_error_set(err, SIFA_EINVALID, "uscc_check_digit", "%s", "统一社会信用代码校验位错误");
    if (ret_info != NULL) {
        memcpy(ret_info->code, code, sizeof(code));
        ret_info->authority = code[0];
        ret_info->type = code[1];
        int32_t region = 0;
        for (size_t i = 2; i < 8; i++)
            region = region * 10 + (code[i] - '0');
        ret_info->region_code = region;
    }
    return 0;
}
