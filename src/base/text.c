/* text.c — see text.h. Layer: base. */
#include "base/common.h"
#include "base/text.h"

size_t sifa_utf8_decode(const unsigned char *s, size_t len, uint32_t *ret_cp)
{
    if (len == 0)
        return 0;
    uint32_t c = s[0];
    size_t n;
    uint32_t min;
    if (c < 0x80) {
        if (ret_cp)
            *ret_cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2, c &= 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, c &= 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, c &= 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    if (ret_cp)
        *ret_cp = c;
    return n;
}

bool sifa_utf8_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = sifa_utf8_decode((const unsigned char *)s + i, len - i, NULL);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

int sifa_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

ssize_t sifa_percent_decode(const char *s, size_t len, bool plus_is_space, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '%') {
            if (len - i < 3)
                return -1;
            int hi = sifa_hex_value((unsigned char)s[i + 1]), lo = sifa_hex_value((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0')
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (ssize_t)o;
}

void sifa_strbuf_add(struct sifa_strbuf *b, const void *s, size_t n)
{
    if (b->cap - b->len <= n) { /* keep room for the NUL */
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len <= n) {
            if (cap > SIZE_MAX / 2)
                abort(); /* a string of more than half the address space: a bug, never input */
            cap *= 2;
        }
        b->data = sifa_xrealloc(b->data, cap);
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sifa_strbuf_puts(struct sifa_strbuf *b, const char *s)
{
    sifa_strbuf_add(b, s, strlen(s));
}
