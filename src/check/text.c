/* text.c — byte-level helpers the check parsers share: trimming white space (ASCII and the
 * ideographic space U+3000 that Chinese input methods type) and reading ASCII or full-width
 * digits. Layer: check. Every read is bounded by the length passed in; nothing is allocated. */
#include "base/common.h"
#include "check/check.h"

/* UTF-8 of U+3000 IDEOGRAPHIC SPACE. */
static const char ideographic_space[3] = {'\xe3', '\x80', '\x80'};

static bool is_ascii_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

void sifa_check_trim(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;
    for (;;) {
        if (n >= 1 && is_ascii_space(p[0])) {
            p++;
            n--;
        } else if (n >= 3 && memcmp(p, ideographic_space, 3) == 0) {
            p += 3;
            n -= 3;
        } else {
            break;
        }
    }
    for (;;) {
        if (n >= 1 && is_ascii_space(p[n - 1]))
            n--;
        else if (n >= 3 && memcmp(p + n - 3, ideographic_space, 3) == 0)
            n -= 3;
        else
            break;
    }
    *s = p;
    *len = n;
}

int sifa_check_digit_at(const char *s, size_t len, size_t *pos)
{
    size_t i = *pos;
    if (i >= len)
        return -1;
    unsigned char c = (unsigned char)s[i];
    if (c >= '0' && c <= '9') {
        *pos = i + 1;
        return c - '0';
    }
    /* U+FF10..U+FF19 FULLWIDTH DIGIT ZERO..NINE are EF BC 90..99. */
    if (c == 0xef && len - i >= 3 && (unsigned char)s[i + 1] == 0xbc) {
        unsigned char c2 = (unsigned char)s[i + 2];
        if (c2 >= 0x90 && c2 <= 0x99) {
            *pos = i + 3;
            return c2 - 0x90;
        }
    }
    return -1;
}
