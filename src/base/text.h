/* text.h — small text primitives every parser of untrusted input needs: strict UTF-8 decoding
 * and percent-decoding. Layer: base. One implementation each, so the router, the query parser,
 * the password policy and the masks agree on what a character is. */
#ifndef SIFA_TEXT_H
#define SIFA_TEXT_H

#include "base/common.h"

#include <sys/types.h>

/* Length (1-4) of the valid UTF-8 sequence at s and its code point, or 0 when it is not one: a
 * bad lead byte, a missing or bad continuation, an overlong form, a surrogate, or beyond U+10FFFF.
 * Reads at most len bytes. ret_cp may be NULL. */
size_t sifa_utf8_decode(const unsigned char *s, size_t len, uint32_t *ret_cp);
/* Strict UTF-8 for the whole of s[0..len) (NUL bytes allowed; callers that forbid them check). */
bool sifa_utf8_valid(const char *s, size_t len);
/* Value of a hex digit, or -1. */
int sifa_hex_value(unsigned char c);
/* Percent-decodes s[0..len) into out (room for len + 1 bytes) and NUL-terminates it; '+' becomes a
 * space when plus_is_space (form encoding). Returns the decoded length, or -1 on a '%' not followed
 * by two hex digits or on a NUL byte (raw or %00), which a C string cannot carry. */
ssize_t sifa_percent_decode(const char *s, size_t len, bool plus_is_space, char *out);

/* A growing, always NUL-terminated byte string (renderers and exporters build their output in one).
 * data is owned (free()); zero-initialise to start. Out of memory aborts, as sifa_x* do. */
struct sifa_strbuf {
    char *data;
    size_t len, cap;
};
void sifa_strbuf_add(struct sifa_strbuf *b, const void *s, size_t n);
void sifa_strbuf_puts(struct sifa_strbuf *b, const char *s);

#endif
