/* mask.c — masking of personal data for display (declared in personal.h). Layer: auth.
 * Every function is one call of mask(): keep some leading and trailing characters, replace each
 * character between them with '*' or all of them with a fixed "***". Two passes over the input
 * (count characters, then write) and a bounded writer that never writes past out_size; input is
 * read strictly within [s, s + len). Stateless: thread-safe. */
#include <limits.h>
#include <string.h>

#include "auth/personal.h"
#include "base/common.h"
#include "base/text.h"

/* Length of the valid UTF-8 sequence at s (1-4) for a character other than NUL, 0 otherwise. */
static size_t utf8_char_len(const unsigned char *s, size_t len)
{
    if (len == 0 || s[0] == 0)
        return 0;
    return sifa_utf8_decode(s, len, NULL);
}

struct writer {
    char *out;
    size_t size; /* of out, including room for the NUL */
    size_t len;
    bool full;
};

static void put(struct writer *w, const char *s, size_t n)
{
    if (w->full || w->size == 0 || n >= w->size - w->len) {
        w->full = true;
        return;
    }
    memcpy(w->out + w->len, s, n);
    w->len += n;
}

static int finish(struct writer *w)
{
    if (w->full || w->size == 0 || w->len > INT_MAX) {
        if (w->size > 0)
            w->out[0] = '\0';
        return SIFA_ELIMIT;
    }
    w->out[w->len] = '\0';
    return (int)w->len;
}

static size_t count_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        size_t c = utf8_char_len((const unsigned char *)s + i, len - i);
        i += c == 0 ? 1 : c;
    }
    return n;
}

/* Writes the first head and last tail characters of s; the ones between become one '*' each, or,
 * when fill is not NULL, fill once. head + tail may exceed the count: then everything is kept. */
static int mask(const char *s, size_t len, size_t head, size_t tail, const char *fill, char *out, size_t out_size)
{
    struct writer w = {out, out_size, 0, false};
    size_t n = count_chars(s, len);
    size_t idx = 0;
    for (size_t i = 0; i < len && !w.full; idx++) {
        size_t c = utf8_char_len((const unsigned char *)s + i, len - i);
        if (idx < head || idx + tail >= n) {
            if (c == 0)
                put(&w, "?", 1);
            else
                put(&w, s + i, c);
        } else if (fill == NULL) {
            put(&w, "*", 1);
        } else if (idx == head) {
            put(&w, fill, strlen(fill));
        }
        i += c == 0 ? 1 : c;
    }
    return finish(&w);
}

int sifa_mask_id_number(const char *s, size_t len, char *out, size_t out_size)
{
    size_t n = count_chars(s, len);
    if (n == 18 || n == 15)
        return mask(s, len, 6, 4, NULL, out, out_size);
    return mask(s, len, 1, 0, NULL, out, out_size);
}

int sifa_mask_name(const char *s, size_t len, char *out, size_t out_size)
{
    size_t n = count_chars(s, len);
    return mask(s, len, n > 1 ? 1 : 0, 0, NULL, out, out_size);
}

int sifa_mask_phone(const char *s, size_t len, char *out, size_t out_size)
{
    bool mobile = len == 11;
    for (size_t i = 0; mobile && i < len; i++)
        mobile = s[i] >= '0' && s[i] <= '9';
    if (mobile)
        return mask(s, len, 3, 4, NULL, out, out_size);
    size_t n = count_chars(s, len);
    return mask(s, len, 0, n > 4 ? 4 : 0, NULL, out, out_size);
}

int sifa_mask_text(const char *s, size_t len, char *out, size_t out_size)
{
    size_t n = count_chars(s, len);
    if (n == 0)
        return mask(s, len, 0, 0, NULL, out, out_size);
    size_t keep = n > 6 ? 6 : n / 2;
    struct writer w = {out, out_size, 0, false};
    /* mask() writes fill only when a character is dropped; here "***" always follows. */
    int r = mask(s, len, keep, 0, "", out, out_size);
    if (r < 0)
        return r;
    w.len = (size_t)r;
    put(&w, "***", 3);
    return finish(&w);
}
