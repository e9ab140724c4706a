/* error.h — status codes and the error structure every layer reports failures with.
 * Layer: base (below everything). A function that can fail returns int: >= 0 on success,
 * a negative enum sifa_status (or -errno) on failure, and fills a caller-supplied
 * struct sifa_error with a stable machine code, a Chinese message for people, and optional
 * details. Only main.c, the CLI and the HTTP dispatcher print or send errors; lower layers
 * return them. One table (sifa_status_http) maps statuses to HTTP statuses. */
#ifndef SIFA_ERROR_H
#define SIFA_ERROR_H

#include <jansson.h>
#include <stdarg.h>

enum sifa_status {
    SIFA_OK = 0,
    SIFA_EINVALID = -1001,     /* bad input: 400 (422 for field validation is decided by caller) */
    SIFA_ENOTFOUND = -1002,    /* 404 */
    SIFA_ECONFLICT = -1003,    /* 409 */
    SIFA_EDENIED = -1004,      /* 403 */
    SIFA_ELIMIT = -1005,       /* a size or rate limit: 413 or 429 */
    SIFA_EUNAVAILABLE = -1006, /* database busy, shutting down: 503 */
    SIFA_EINTERNAL = -1007,    /* a bug or an I/O failure: 500 */
    SIFA_EUNSUPPORTED = -1008, /* 415 and similar */
    SIFA_EMETHOD = -1009,      /* 405 */
    SIFA_EUNAUTHENTICATED = -1010, /* 401: no valid session or token */
    SIFA_ETOOMANY = -1011,     /* 429: throttled */
};

struct sifa_error {
    int status;          /* enum sifa_status, 0 when no error was set */
    char code[48];       /* stable machine code, e.g. "bad_json", "db_busy" */
    char message[512];   /* Simplified Chinese, for people */
    json_t *details;     /* owned; NULL or any JSON value (field list, line/column…) */
};

/* Sets err (may be NULL: then nothing is recorded) and returns status, so callers can write
 * `return sifa_error_set(err, SIFA_EINVALID, "bad_json", "……");`. The message is a printf format.
 * Replaces (and frees) earlier details. */
int sifa_error_set(struct sifa_error *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Like sifa_error_set and takes ownership of details (may be NULL). */
int sifa_error_set_details(struct sifa_error *err, int status, const char *code, json_t *details_take,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Frees details and clears err. Accepts NULL. */
void sifa_error_release(struct sifa_error *err);

/* HTTP status for a sifa status (500 for unknown or -errno). */
int sifa_status_http(int status);

/* English name of a status for logs ("invalid", "not_found", …). Never NULL. */
const char *sifa_status_name(int status);

#endif
