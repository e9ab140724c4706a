/* error.c — see error.h. Layer: base. Owns nothing beyond the details of each error. */
#include "base/common.h"

#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 5, 0))) static void error_vset(struct sifa_error *err, int status, const char *code, json_t *details_take,
                       const char *fmt, va_list ap)
{
    json_decref(err->details);
    err->status = status;
    snprintf(err->code, sizeof(err->code), "%s", code);
    int n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
    if (n >= (int)sizeof(err->message)) {
        /* Cut at a character boundary: a half UTF-8 sequence would make the JSON envelope invalid.
         * The last character written starts at lead; drop it when its bytes did not all fit. */
        size_t len = sizeof(err->message) - 1, lead = len;
        while (lead > 0 && ((unsigned char)err->message[lead - 1] & 0xc0) == 0x80)
            lead--;
        if (lead > 0) {
            unsigned char c = (unsigned char)err->message[lead - 1];
            size_t need = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (lead - 1 + need > len)
                err->message[lead - 1] = '\0';
        }
    }
    err->details = details_take;
}

int sifa_error_set(struct sifa_error *err, int status, const char *code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        error_vset(err, status, code, NULL, fmt, ap);
        va_end(ap);
    }
    return status;
}

int sifa_error_set_details(struct sifa_error *err, int status, const char *code, json_t *details_take,
                           const char *fmt, ...)
{
    if (err == NULL) {
        json_decref(details_take);
        return status;
    }
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, status, code, details_take, fmt, ap);
    va_end(ap);
    return status;
}

void sifa_error_release(struct sifa_error *err)
{
    if (err == NULL)
        return;
    json_decref(err->details);
    memset(err, 0, sizeof(*err));
}

static const struct {
    int status;
    int http;
    const char *name;
} status_table[] = {
    {SIFA_OK, 200, "ok"},
    {SIFA_EINVALID, 400, "invalid"},
    {SIFA_ENOTFOUND, 404, "not_found"},
    {SIFA_ECONFLICT, 409, "conflict"},
    {SIFA_EDENIED, 403, "denied"},
    {SIFA_ELIMIT, 413, "limit"},
    {SIFA_EUNAVAILABLE, 503, "unavailable"},
    {SIFA_EINTERNAL, 500, "internal"},
    {SIFA_EUNSUPPORTED, 415, "unsupported"},
    {SIFA_EMETHOD, 405, "method_not_allowed"},
    {SIFA_EUNAUTHENTICATED, 401, "unauthenticated"},
    {SIFA_ETOOMANY, 429, "too_many_requests"},
};

int sifa_status_http(int status)
{
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
        if (status_table[i].status == status)
            return status_table[i].http;
    return 500;
}

const char *sifa_status_name(int status)
{
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
        if (status_table[i].status == status)
            return status_table[i].name;
    return status < 0 && status > -4096 ? "system" : "unknown";
}
