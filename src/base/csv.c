/* csv.c — see csv.h. Layer: base. */
#include <string.h>

#include "base/csv.h"

bool sifa_csv_is_plain_number(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = strspn(p, "0123456789");
    p += digits;
    if (*p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        digits += frac;
        p += 1 + frac;
    }
    if (digits == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        size_t exp = strspn(p, "0123456789");
        if (exp == 0)
            return false;
        p += exp;
    }
    return *p == '\0';
}

/* Spreadsheets run a field starting with one of these as a formula. */
static bool needs_defusing(const char *s)
{
    return s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL && !sifa_csv_is_plain_number(s);
}

void sifa_csv_field(struct sifa_strbuf *b, const char *s)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        sifa_strbuf_add(b, "\"", 1);
    if (needs_defusing(s))
        sifa_strbuf_add(b, "'", 1);
    if (!quote) {
        sifa_strbuf_puts(b, s);
        return;
    }
    for (const char *p = s;;) {
        const char *q = strchr(p, '"');
        if (q == NULL) {
            sifa_strbuf_puts(b, p);
            break;
        }
        sifa_strbuf_add(b, p, (size_t)(q - p) + 1);
        sifa_strbuf_add(b, "\"", 1); /* the doubled quote */
        p = q + 1;
    }
    sifa_strbuf_add(b, "\"", 1);
}
