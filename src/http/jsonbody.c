/* jsonbody.c — request bodies parsed as JSON with size, nesting and duplicate-key limits (see
 * jsonbody.h). Layer: http. Three steps: the size check, a pre-scan that counts '[' and '{'
 * outside strings (so jansson never recurses deeper than SIFA_JSON_MAX_DEPTH), and json_loadb
 * over the whole body, which must hold exactly one value. Positions in errors follow jansson's
 * convention: lines from 1, columns counted in UTF-8 characters from 1, position in bytes read.
 * Every text copied into an error is made valid UTF-8 first, since a message or detail that is
 * not would make the error envelope itself unencodable. */
#include <assert.h>
#include <string.h>

/* System headers first: banned.h, at the end of common.h, must come last. */
#include "base/common.h"
#include "http/jsonbody.h"

/* Where a byte offset lies, counted as jansson counts. */
struct text_pos {
    int line;
    int column;
    size_t position;
};

static struct text_pos pos_of(const char *s, size_t offset)
{
    struct text_pos p = {.line = 1, .column = 0, .position = offset + 1};
    for (size_t i = 0; i <= offset; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' && i < offset) {
            p.line++;
            p.column = 0;
        } else if ((c & 0xC0) != 0x80) {
            p.column++;
        }
    }
    return p;
}

/* Returns the offset of the first bracket nested deeper than SIFA_JSON_MAX_DEPTH, or len when
 * there is none. Sets *first to the offset of the first non-whitespace byte (len if none). */
static size_t depth_scan(const char *s, size_t len, size_t *first)
{
    int depth = 0;
    bool in_string = false;
    *first = len;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (*first == len && c != ' ' && c != '\t' && c != '\n' && c != '\r')
            *first = i;
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped byte cannot end the string */
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > SIFA_JSON_MAX_DEPTH)
                return i;
        } else if (c == ']' || c == '}') {
            /* Unbalanced closers are jansson's to report; they must not earn extra depth. */
            if (depth > 0)
                depth--;
        }
    }
    return len;
}

/* Copies s into out (size > 0) as valid UTF-8: each byte that does not start a well-formed
 * sequence becomes '?'. Cuts at a character boundary when out is full. */
static void utf8_sanitize(const char *s, char *out, size_t size)
{
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        size_t n = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        bool ok = true;
        if (c < 0x80) {
            n = 0;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            ok = false;
        }
        if (ok && n > 0) {
            if (len - i - 1 < n || u[i + 1] < lo || u[i + 1] > hi)
                ok = false;
            for (size_t k = 2; ok && k <= n; k++)
                if (u[i + k] < 0x80 || u[i + k] > 0xBF)
                    ok = false;
        }
        size_t take = ok ? n + 1 : 1;
        if (o + take >= size)
            break;
        if (ok)
            memcpy(out + o, u + i, take);
        else
            out[o] = '?';
        o += take;
        i += take;
    }
    out[o] = '\0';
}

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* {"line","column","position","reason"}; reason is English (jansson's words or ours). */
static json_t *details_new(struct text_pos p, const char *reason)
{
    char clean[JSON_ERROR_TEXT_LENGTH + 1];
    utf8_sanitize(reason, clean, sizeof(clean));
    return json_pack("{s:i,s:i,s:I,s:s}", "line", p.line, "column", p.column, "position", (json_int_t)p.position,
                     "reason", clean);
}

int sifa_json_body_parse(const char *body, size_t len, size_t max_bytes, unsigned flags, json_t **ret_json,
                         struct sifa_error *err)
{
    assert(ret_json != NULL);
    assert(body != NULL || len == 0);

    if (len > max_bytes) {
        json_t *details = json_pack("{s:I}", "max_bytes", (json_int_t)max_bytes);
        return sifa_error_set_details(err, SIFA_ELIMIT, "body_too_large", details, "请求体超过 %zu 字节的上限",
                                      max_bytes);
    }
    if (len == 0)
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_json", json_pack("{s:s}", "reason", "empty body"),
                                      "请求体为空,应为 JSON");

    size_t first;
    size_t deep = depth_scan(body, len, &first);
    if (deep < len) {
        struct text_pos p = pos_of(body, deep);
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_json",
                                      details_new(p, "maximum nesting depth " STRINGIFY(SIFA_JSON_MAX_DEPTH) " exceeded"),
                                      "请求体 JSON 嵌套超过 %d 层:第 %d 行第 %d 列附近有错误", SIFA_JSON_MAX_DEPTH,
                                      p.line, p.column);
    }

    json_error_t jerr;
    json_t *json = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (json == NULL) {
        struct text_pos p = {.line = jerr.line, .column = jerr.column, .position = (size_t)jerr.position};
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_json", details_new(p, jerr.text),
                                      "请求体不是合法的 JSON:第 %d 行第 %d 列附近有错误", p.line, p.column);
    }
    if ((flags & SIFA_JSON_BODY_OBJECT) && !json_is_object(json)) {
        json_decref(json);
        assert(first < len); /* jansson accepted a value, so there is a non-blank byte */
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_json",
                                      details_new(pos_of(body, first), "top-level value must be an object"),
                                      "请求体必须是一个 JSON 对象");
    }
    *ret_json = json;
    return 0;
}
