/* fuzz_template.c — libFuzzer target for src/report/template.c, the report template parser (a file
 * the bureau edits: reports/annual.md or the `report_template` setting). Checks: success gives a
 * template whose codes are non-empty and whose passages have a non-empty key of at most
 * SIFA_REPORT_PASSAGE_KEY_MAX bytes and a default text no longer than SIFA_REPORT_PASSAGE_MAX_BYTES,
 * each key found again by sifa_report_template_find_passage; failure gives SIFA_EINVALID or
 * SIFA_ELIMIT with a code and a message, and no template. No leaks (run under ASan/LSan). */
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sifa_report_template *t = NULL;
    struct sifa_error err = {0};
    int rc = sifa_report_template_parse((const char *)data, size, "fuzz.md", &t, &err);
    if (rc < 0) {
        if ((rc != SIFA_EINVALID && rc != SIFA_ELIMIT) || t != NULL || err.code[0] == '\0' || err.message[0] == '\0')
            abort();
        sifa_error_release(&err);
        return 0;
    }
    for (size_t i = 0; i < sifa_report_template_ncodes(t); i++)
        if (sifa_report_template_code(t, i) == NULL || sifa_report_template_code(t, i)[0] == '\0')
            abort();
    for (size_t i = 0; i < sifa_report_template_npassages(t); i++) {
        const char *key = sifa_report_template_passage_key(t, i);
        const char *text = sifa_report_template_passage_default(t, i);
        if (key == NULL || key[0] == '\0' || strlen(key) > SIFA_REPORT_PASSAGE_KEY_MAX || text == NULL ||
            strlen(text) > SIFA_REPORT_PASSAGE_MAX_BYTES || sifa_report_template_find_passage(t, key) < 0)
            abort();
    }
    sifa_report_template_free(t);
    return 0;
}
