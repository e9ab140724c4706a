/* phone.c — mainland China mobile numbers: 11 digits beginning 13-19, as people write them
 * ("+86 138-0013-8000", "86 13800138000", "138 0013 8000"), normalised to the bare 11 digits.
 * Layer: check. Separators (space, hyphen) may only stand between digits, so stray punctuation
 * at either end or in pairs is refused rather than silently dropped. */
#include "base/common.h"
#include "check/check.h"

static int phone_invalid(struct sifa_error *err)
{
    return sifa_error_set(err, SIFA_EINVALID, "phone_invalid", "%s", "手机号码无效，应为以1开头的11位数字");
}

int sifa_check_phone(const char *s, size_t len, char ret_number[12], struct sifa_error *err)
{
    if (len > SIFA_CHECK_MAX_INPUT)
        return phone_invalid(err);
    sifa_check_trim(&s, &len);
    size_t i = 0;
    bool plus = false;
    if (i < len && s[i] == '+') {
        plus = true;
        i++;
    }
    char digits[14];
    size_t n = 0;
    bool after_digit = false;
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (n == sizeof(digits))
                return phone_invalid(err);
            digits[n++] = c;
            after_digit = true;
        } else if ((c == ' ' || c == '-') && after_digit) {
            after_digit = false;
        } else {
            return phone_invalid(err);
        }
    }
    if (!after_digit) /* empty, or ends with a separator */
        return phone_invalid(err);
    const char *num = digits;
    if (n == 13 && digits[0] == '8' && digits[1] == '6')
        num += 2;
    else if (n != 11 || plus) /* "+" must introduce the country code */
        return phone_invalid(err);
    if (num[0] != '1' || num[1] < '3')
        return phone_invalid(err);
    if (ret_number != NULL) {
        memcpy(ret_number, num, 11);
        ret_number[11] = '\0';
    }
    return 0;
}
