/* fuzz_calendar.c — libFuzzer target for src/calendar/: the whole input is the text of a year
 * file, loaded as 2020 (a leap year) and as 2021. Checks: on failure an invalid/limit status
 * with a calendar_* code, a "2020:"/"2021:" prefixed message that is valid UTF-8 and details;
 * on success every day of the year answers 0 or 1 consistently with day_kind, the neighbouring
 * years are reported missing, and counting agrees with adding working days. */
#include <string.h>

#include "base/common.h"
#include "calendar/calendar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void check_failure(int year, int r, const struct sifa_error *err)
{
    static const char *const codes[] = {"calendar_syntax", "calendar_date", "calendar_duplicate", "calendar_limit"};
    check(r == err->status && (r == SIFA_EINVALID || r == SIFA_ELIMIT));
    bool known = false;
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(codes); i++)
        known = known || strcmp(err->code, codes[i]) == 0;
    check(known);
    char prefix[8];
    snprintf(prefix, sizeof(prefix), "%d:", year);
    check(strncmp(err->message, prefix, strlen(prefix)) == 0);
    json_t *msg = json_string(err->message); /* valid UTF-8 */
    check(msg != NULL && err->details != NULL);
    json_decref(msg);
}

static void check_calendar(const struct sifa_calendar *cal, int year)
{
    check(sifa_calendar_covers_year(cal, year));
    check(!sifa_calendar_covers_year(cal, year - 1) && !sifa_calendar_covers_year(cal, year + 1));
    int32_t prev_dec31 = (year - 1) * 10000 + 1231, dec31 = year * 10000 + 1231, jan1 = year * 10000 + 101;
    int32_t works = 0;
    int32_t date = jan1;
    for (;;) {
        const char *name = NULL;
        int kind = sifa_calendar_day_kind(cal, date, &name, NULL);
        int w = sifa_calendar_is_workday(cal, date, NULL);
        check(kind >= SIFA_CALENDAR_WORKDAY && kind <= SIFA_CALENDAR_MAKEUP);
        check(w == (kind == SIFA_CALENDAR_WORKDAY || kind == SIFA_CALENDAR_MAKEUP));
        check((name != NULL) == (kind == SIFA_CALENDAR_HOLIDAY || kind == SIFA_CALENDAR_MAKEUP));
        if (name != NULL)
            check(name[0] != '\0' && strlen(name) <= SIFA_CALENDAR_MAX_NAME_BYTES);
        if (kind == SIFA_CALENDAR_MAKEUP)
            check(sifa_calendar_date_weekday(date) >= 6);
        works += w;
        if (date == dec31)
            break;
        check(sifa_calendar_date_add_days(date, 1, &date, NULL) == 0);
    }
    struct sifa_error err = {0};
    check(sifa_calendar_is_workday(cal, prev_dec31, &err) == SIFA_EUNAVAILABLE);
    check(strcmp(err.code, "calendar_year_missing") == 0);
    sifa_error_release(&err);
    check(sifa_calendar_is_workday(cal, (year + 1) * 10000 + 101, NULL) == SIFA_EUNAVAILABLE);

    int32_t count = -1;
    check(sifa_calendar_working_days_between(cal, prev_dec31, dec31, &count, NULL) == 0);
    check(count == works && count >= 0 && count <= 366);
    if (count > 0) {
        int32_t last = 0;
        check(sifa_calendar_add_working_days(cal, prev_dec31, count, &last, NULL) == 0);
        check(last / 10000 == year && sifa_calendar_is_workday(cal, last, NULL) == 1);
        int32_t back = -1;
        check(sifa_calendar_working_days_between(cal, last, prev_dec31, &back, NULL) == 0);
        check(back == -count);
        int32_t beyond;
        check(sifa_calendar_add_working_days(cal, prev_dec31, count + 1, &beyond, NULL) == SIFA_EUNAVAILABLE);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so reading past the end is caught by ASan. */
    char *text = sifa_xmalloc(size);
    if (size > 0)
        memcpy(text, data, size);
    for (int year = 2020; year <= 2021; year++) {
        struct sifa_calendar *cal = NULL;
        struct sifa_error err = {0};
        int r = sifa_calendar_load_text(year, text, size, &cal, &err);
        if (r == 0) {
            check(cal != NULL && err.status == 0);
            check_calendar(cal, year);
        } else {
            check(cal == NULL);
            check_failure(year, r, &err);
        }
        sifa_calendar_free(cal);
        sifa_error_release(&err);
    }
    free(text);
    return 0;
}
