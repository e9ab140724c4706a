/* fuzz_check_report.c — libFuzzer target for the report checker's claim parser
 * (src/report/check.c) without a database. The input, copied to a buffer of exactly its size so
 * ASan sees any read past the end, is checked as a report; one that starts like a ZIP archive also
 * goes through the DOCX reader first. Checks: success gives a result whose every claim has a
 * position inside the text (line and column from 1, the line no longer than the text), a known
 * status and kind, non-empty text and quote, and whose counts add up to the claims; the text
 * rendering never fails; failure is SIFA_EINVALID or SIFA_ELIMIT with a "report_" or "docx_" code
 * and a message that is valid UTF-8. No leaks. */
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "report/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(ok)                                                                                                  \
    do {                                                                                                           \
        if (!(ok)) {                                                                                               \
            fprintf(stderr, "fuzz_check_report: %s (line %d)\n", #ok, __LINE__);                                  \
            abort();                                                                                               \
        }                                                                                                          \
    } while (0)

static void check_failure(int rc, struct sifa_error *err)
{
    check(rc == SIFA_EINVALID || rc == SIFA_ELIMIT);
    check(err->status == rc);
    check(strncmp(err->code, "report_", 7) == 0 || strncmp(err->code, "docx_", 5) == 0);
    json_t *msg = json_string(err->message);
    check(msg != NULL);
    json_decref(msg);
    sifa_error_release(err);
}

static size_t count_lines(const char *s, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    return n;
}

static void check_text(const char *text, size_t len)
{
    json_t *result = NULL;
    struct sifa_error err = {0};
    int rc = sifa_report_check(text, len, NULL, &result, &err);
    if (rc < 0) {
        check(result == NULL);
        check_failure(rc, &err);
        return;
    }
    json_t *claims = json_object_get(result, "claims");
    check(json_is_array(claims));
    size_t lines = count_lines(text, len), counted[3] = {0, 0, 0}, i;
    json_t *c;
    json_array_foreach(claims, i, c)
    {
        json_int_t line = json_integer_value(json_object_get(c, "line"));
        json_int_t column = json_integer_value(json_object_get(c, "column"));
        check(line >= 1 && (size_t)line <= lines && column >= 1 && (size_t)column <= len);
        const char *status = json_string_value(json_object_get(c, "status"));
        check(status != NULL);
        if (strcmp(status, "OK") == 0)
            counted[0]++;
        else if (strcmp(status, "MISMATCH") == 0)
            counted[1]++;
        else
            check(strcmp(status, "UNVERIFIABLE") == 0 && ++counted[2] > 0);
        const char *kind = json_string_value(json_object_get(c, "kind"));
        check(kind != NULL && (strcmp(kind, "count") == 0 || strcmp(kind, "percent") == 0 ||
                               strcmp(kind, "change") == 0 || strcmp(kind, "other") == 0));
        const char *t = json_string_value(json_object_get(c, "text"));
        const char *q = json_string_value(json_object_get(c, "quote"));
        check(t != NULL && t[0] != '\0' && q != NULL && q[0] != '\0');
        check(strcmp(status, "MISMATCH") != 0 || json_is_string(json_object_get(c, "computed")));
        check(json_is_array(json_object_get(c, "checks")));
    }
    check(json_integer_value(json_object_get(result, "ok")) == (json_int_t)counted[0]);
    check(json_integer_value(json_object_get(result, "mismatches")) == (json_int_t)counted[1]);
    check(json_integer_value(json_object_get(result, "unverifiable")) == (json_int_t)counted[2]);
    char *s = sifa_report_check_to_text(result);
    check(s != NULL);
    free(s);
    json_decref(result);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = sifa_xmalloc(size == 0 ? 1 : size);
    memcpy(s, data, size);
    int year = sifa_report_check_year(s, size);
    check(year == 0 || (year >= 1900 && year <= 2100));
    if (sifa_report_is_docx(s, size)) {
        char *text = NULL;
        size_t len = 0;
        struct sifa_error err = {0};
        int rc = sifa_report_docx_text(s, size, &text, &len, &err);
        if (rc < 0) {
            check_failure(rc, &err);
        } else {
            check(text != NULL && strlen(text) == len);
            check_text(text, len);
            free(text);
        }
    }
    check_text(s, size);
    free(s);
    return 0;
}
