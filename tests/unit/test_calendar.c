/* test_calendar.c — unit tests for src/calendar/: the real data/holidays files (the required
 * 2021 National Day example, make-up days and weekday holidays in every year 2019–2026, the
 * number of working days per year), deadline arithmetic and its conventions, the civil-date
 * helpers, and the loader's errors (file:line, codes, limits, duplicates, missing years).
 * Runs from the repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/common.h"
#include "calendar/calendar.h"

#define DATA_DIR "data/holidays"

static struct sifa_calendar *real;

static int setup_real(void **state)
{
    (void)state;
    struct sifa_error err = {0};
    int r = sifa_calendar_load_dir(DATA_DIR, &real, &err);
    if (r < 0)
        fprintf(stderr, "load %s: %s (%s)\n", DATA_DIR, err.message, err.code);
    sifa_error_release(&err);
    return r < 0 ? -1 : 0;
}

static int teardown_real(void **state)
{
    (void)state;
    sifa_calendar_free(real);
    real = NULL;
    return 0;
}

static int32_t add_wd(int32_t start, int32_t n)
{
    int32_t out = -1;
    struct sifa_error err = {0};
    int r = sifa_calendar_add_working_days(real, start, n, &out, &err);
    if (r < 0)
        fprintf(stderr, "add_working_days(%ld, %ld): %s\n", (long)start, (long)n, err.message);
    assert_int_equal(r, 0);
    sifa_error_release(&err);
    return out;
}

static int workday(int32_t date)
{
    struct sifa_error err = {0};
    int r = sifa_calendar_is_workday(real, date, &err);
    if (r < 0)
        fprintf(stderr, "is_workday(%ld): %s\n", (long)date, err.message);
    sifa_error_release(&err);
    return r;
}

/* ---- The real data ------------------------------------------------------------------------ */

static void test_required_example(void **state)
{
    (void)state;
    /* 7 working days from 2021-09-28: 09-29 (1), 09-30 (2), [10-01..10-07 off], 10-08 (3),
     * 10-09 Saturday make-up (4), [10-10 Sunday], 10-11 (5), 10-12 (6), 10-13 (7). */
    assert_int_equal(add_wd(20210928, 7), 20211013);
    static const int32_t steps[] = {20210928, 20210929, 20210930, 20211008, 20211009,
                                    20211011, 20211012, 20211013};
    for (int32_t n = 0; n < (int32_t)SIFA_ARRAY_SIZE(steps); n++)
        assert_int_equal(add_wd(20210928, n), steps[n]);
    int32_t count = -1;
    assert_int_equal(sifa_calendar_working_days_between(real, 20210928, 20211013, &count, NULL), 0);
    assert_int_equal(count, 7);
    assert_int_equal(sifa_calendar_working_days_between(real, 20211013, 20210928, &count, NULL), 0);
    assert_int_equal(count, -7);
    assert_int_equal(sifa_calendar_working_days_between(real, 20211013, 20211013, &count, NULL), 0);
    assert_int_equal(count, 0);
    /* The make-up Sunday before the holiday counts too: from Saturday 09-25, 09-26 is day 1. */
    assert_int_equal(add_wd(20210925, 1), 20210926);
}

static void test_coverage(void **state)
{
    (void)state;
    for (int y = 2019; y <= 2026; y++)
        assert_true(sifa_calendar_covers_year(real, y));
    assert_false(sifa_calendar_covers_year(real, 2018));
    assert_false(sifa_calendar_covers_year(real, 2027));
    int first = 0, last = 0;
    sifa_calendar_year_range(real, &first, &last);
    assert_int_equal(first, 2019);
    assert_int_equal(last, 2026);
    sifa_calendar_year_range(real, NULL, NULL);
}

/* Every weekend make-up working day (调休上班) in the notices for 2019–2026. */
static const int32_t makeup_days[] = {
    20190202, 20190203, 20190428, 20190505, 20190929, 20191012,                       /* 2019 */
    20200119, 20200426, 20200509, 20200628, 20200927, 20201010,                       /* 2020 */
    20210207, 20210220, 20210425, 20210508, 20210918, 20210926, 20211009,             /* 2021 */
    20220129, 20220130, 20220402, 20220424, 20220507, 20221008, 20221009,             /* 2022 */
    20230128, 20230129, 20230423, 20230506, 20230625, 20231007, 20231008,             /* 2023 */
    20240204, 20240218, 20240407, 20240428, 20240511, 20240914, 20240929, 20241012,   /* 2024 */
    20250126, 20250208, 20250427, 20250928, 20251011,                                 /* 2025 */
    20260104, 20260214, 20260228, 20260509, 20260920, 20261010,                       /* 2026 */
};

static void test_makeup_days(void **state)
{
    (void)state;
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(makeup_days); i++) {
        int32_t d = makeup_days[i];
        assert_true(sifa_calendar_date_weekday(d) >= 6);
        if (workday(d) != 1)
            fail_msg("%ld should be a make-up working day", (long)d);
        const char *name = NULL;
        assert_int_equal(sifa_calendar_day_kind(real, d, &name, NULL), SIFA_CALENDAR_MAKEUP);
        assert_non_null(name);
        assert_non_null(strstr(name, "调休上班"));
    }
}

static void test_weekday_holidays(void **state)
{
    (void)state;
    static const int32_t off[] = {
        20190101, 20190204, 20190405, 20190502, 20190503, 20190607, 20190913, 20191001, 20191007,
        20200101, 20200124, 20200130, 20200131 /* COVID extension */, 20200406, 20200505, 20200626,
        20201008, 20210101, 20210211, 20210405, 20210503, 20210614, 20210920, 20210921, 20211001,
        20211007, 20220103, 20220131, 20220404, 20220502, 20220603, 20220912, 20221007, 20230102,
        20230127, 20230405, 20230503, 20230622, 20230929, 20231006, 20240101, 20240212, 20240216,
        20240404, 20240405, 20240502, 20240610, 20240916, 20240917, 20241007, 20250101, 20250128,
        20250204, 20250404, 20250502, 20250505, 20250602, 20251001, 20251008, 20260101, 20260102,
        20260216, 20260220, 20260223, 20260406, 20260504, 20260505, 20260619, 20260925, 20261001,
        20261007,
    };
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(off); i++) {
        assert_true(sifa_calendar_date_weekday(off[i]) <= 5);
        if (workday(off[i]) != 0)
            fail_msg("%ld should be a holiday", (long)off[i]);
        assert_int_equal(sifa_calendar_day_kind(real, off[i], NULL, NULL), SIFA_CALENDAR_HOLIDAY);
    }
    /* Ordinary days around the holidays. */
    assert_int_equal(workday(20200203), 1); /* first day back after the COVID extension */
    assert_int_equal(workday(20240209), 1); /* 2024 除夕: only encouraged off, still a working day */
    assert_int_equal(workday(20211008), 1);
    assert_int_equal(workday(20211010), 0); /* an ordinary Sunday */
    assert_int_equal(workday(20200201), 0); /* make-up Saturday cancelled by 国办发明电〔2020〕1号 */
    assert_int_equal(workday(20221231), 0); /* Saturday, 2023 元旦 */
    assert_int_equal(workday(20250102), 1);

    const char *name = "x";
    assert_int_equal(sifa_calendar_day_kind(real, 20211001, &name, NULL), SIFA_CALENDAR_HOLIDAY);
    assert_string_equal(name, "国庆节");
    assert_int_equal(sifa_calendar_day_kind(real, 20200201, &name, NULL), SIFA_CALENDAR_HOLIDAY);
    assert_non_null(strstr(name, "延长"));
    assert_int_equal(sifa_calendar_day_kind(real, 20210927, &name, NULL), SIFA_CALENDAR_WORKDAY);
    assert_null(name);
    assert_int_equal(sifa_calendar_day_kind(real, 20210925, &name, NULL), SIFA_CALENDAR_WEEKEND);
    assert_null(name);
}

/* Working days per year, from the data. The totals follow from the rule "weekdays minus
 * statutory holiday days": 11 statutory days a year until 2024 (10 distinct in 2020, when
 * 中秋节 fell on 10-01), 13 from 2025. 2021 therefore has 250, not 251 (261 weekdays − 11);
 * 2020 had 251 under 国办发明电〔2019〕16号 and 249 after the COVID extension, which made
 * Friday 01-31 a holiday and cancelled the make-up Saturday 02-01. The figures agree with the
 * independent holiday-cn data set. */
static void test_working_days_per_year(void **state)
{
    (void)state;
    static const struct {
        int year;
        int32_t days;
    } expect[] = {
        {2019, 250}, {2020, 249}, {2021, 250}, {2022, 249}, {2023, 249}, {2024, 251}, {2025, 248}, {2026, 248},
    };
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(expect); i++) {
        int y = expect[i].year;
        int32_t count = -1;
        struct sifa_error err = {0};
        /* (y-1)-12-31 is not looked at: the interval is half-open on the left. */
        assert_int_equal(sifa_calendar_working_days_between(real, (y - 1) * 10000 + 1231, y * 10000 + 1231, &count,
                                                            &err),
                         0);
        if (count != expect[i].days)
            fail_msg("%d: %ld working days, expected %ld", y, (long)count, (long)expect[i].days);
        sifa_error_release(&err);
    }
    /* 2019–2026 together, and add_working_days agrees with working_days_between. */
    int32_t total = -1;
    assert_int_equal(sifa_calendar_working_days_between(real, 20181231, 20261231, &total, NULL), 0);
    assert_int_equal(total, 250 + 249 + 250 + 249 + 249 + 251 + 248 + 248);
    assert_int_equal(add_wd(20181231, 250), 20191231);
    assert_int_equal(add_wd(20181231, total), 20261231);
}

static void test_year_missing(void **state)
{
    (void)state;
    struct sifa_error err = {0};
    assert_int_equal(sifa_calendar_is_workday(real, 20270104, &err), SIFA_EUNAVAILABLE);
    assert_string_equal(err.code, "calendar_year_missing");
    assert_non_null(strstr(err.message, "2027"));
    assert_int_equal(json_integer_value(json_object_get(err.details, "year")), 2027);
    sifa_error_release(&err);

    assert_int_equal(sifa_calendar_is_workday(real, 20181231, &err), SIFA_EUNAVAILABLE);
    assert_string_equal(err.code, "calendar_year_missing");
    sifa_error_release(&err);
    /* 2018-12-29 is listed in the 2019 file as a make-up day, but 2018 is still not covered. */
    assert_int_equal(sifa_calendar_is_workday(real, 20181229, &err), SIFA_EUNAVAILABLE);
    sifa_error_release(&err);

    /* Running off the end of the data is an error, not a weekend-only guess. */
    int32_t out = 12345;
    assert_int_equal(add_wd(20261225, 4), 20261231);
    assert_int_equal(sifa_calendar_add_working_days(real, 20261225, 5, &out, &err), SIFA_EUNAVAILABLE);
    assert_string_equal(err.code, "calendar_year_missing");
    assert_int_equal(out, 12345); /* untouched on failure */
    sifa_error_release(&err);
    int32_t count = 777;
    assert_int_equal(sifa_calendar_working_days_between(real, 20261230, 20270105, &count, &err), SIFA_EUNAVAILABLE);
    assert_int_equal(count, 777);
    sifa_error_release(&err);
    /* err may be NULL. */
    assert_int_equal(sifa_calendar_is_workday(real, 20300101, NULL), SIFA_EUNAVAILABLE);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct sifa_error err = {0};
    int32_t out = 1;
    assert_int_equal(sifa_calendar_is_workday(real, 20210230, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "calendar_date");
    sifa_error_release(&err);
    assert_int_equal(sifa_calendar_is_workday(real, -20210101, NULL), SIFA_EINVALID);
    assert_int_equal(sifa_calendar_add_working_days(real, 20211301, 1, &out, NULL), SIFA_EINVALID);
    assert_int_equal(sifa_calendar_add_working_days(real, 20210101, -1, &out, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "calendar_range");
    sifa_error_release(&err);
    assert_int_equal(sifa_calendar_add_working_days(real, 20210101, SIFA_CALENDAR_MAX_COUNT + 1, &out, NULL),
                     SIFA_EINVALID);
    assert_int_equal(out, 1);
}

static void test_next_workday(void **state)
{
    (void)state;
    int32_t out = 0;
    assert_int_equal(sifa_calendar_next_workday(real, 20210930, &out, NULL), 0);
    assert_int_equal(out, 20211008);
    assert_int_equal(sifa_calendar_next_workday(real, 20211008, &out, NULL), 0);
    assert_int_equal(out, 20211009); /* make-up Saturday */
    assert_int_equal(sifa_calendar_next_workday(real, 20211009, &out, NULL), 0);
    assert_int_equal(out, 20211011);
    assert_int_equal(sifa_calendar_next_workday(real, 20200123, &out, NULL), 0);
    assert_int_equal(out, 20200203); /* COVID extension: back on Monday 02-03 */
    assert_int_equal(sifa_calendar_next_workday(real, 20250127, &out, NULL), 0);
    assert_int_equal(out, 20250205);
    assert_int_equal(sifa_calendar_next_workday(real, 20260213, &out, NULL), 0);
    assert_int_equal(out, 20260214); /* make-up Saturday before 春节 */
    assert_int_equal(sifa_calendar_next_workday(real, 20260214, &out, NULL), 0);
    assert_int_equal(out, 20260224);
    /* Across a year boundary inside the data. */
    assert_int_equal(sifa_calendar_next_workday(real, 20221230, &out, NULL), 0);
    assert_int_equal(out, 20230103);
    /* Start is not looked at, so a start in an uncovered year is fine. */
    assert_int_equal(sifa_calendar_next_workday(real, 20181231, &out, NULL), 0);
    assert_int_equal(out, 20190102);
}

static void test_natural_days(void **state)
{
    (void)state;
    int32_t out = 0;
    struct sifa_error err = {0};
    /* Pure arithmetic: no calendar needed, any year. */
    assert_int_equal(sifa_calendar_add_natural_days(NULL, 20210928, 3, 0, &out, NULL), 0);
    assert_int_equal(out, 20211001);
    assert_int_equal(sifa_calendar_add_natural_days(NULL, 20301231, 1, 0, &out, NULL), 0);
    assert_int_equal(out, 20310101);
    assert_int_equal(sifa_calendar_add_natural_days(NULL, 20240301, -1, 0, &out, NULL), 0);
    assert_int_equal(out, 20240229);
    assert_int_equal(sifa_calendar_add_natural_days(real, 20210901, 30, 0, &out, NULL), 0);
    assert_int_equal(out, 20211001);
    /* Last day on a holiday: the day after the holiday ends (民法典第二百零三条). */
    assert_int_equal(sifa_calendar_add_natural_days(real, 20210901, 30, SIFA_CALENDAR_ROLL_TO_WORKDAY, &out, NULL),
                     0);
    assert_int_equal(out, 20211008);
    /* A make-up Sunday is a working day: no roll. */
    assert_int_equal(sifa_calendar_add_natural_days(real, 20210925, 1, SIFA_CALENDAR_ROLL_TO_WORKDAY, &out, NULL), 0);
    assert_int_equal(out, 20210926);
    /* An ordinary Saturday rolls to Monday. */
    assert_int_equal(sifa_calendar_add_natural_days(real, 20211015, 1, SIFA_CALENDAR_ROLL_TO_WORKDAY, &out, NULL), 0);
    assert_int_equal(out, 20211018);
    /* Rolling needs the data. */
    out = 5;
    assert_int_equal(sifa_calendar_add_natural_days(real, 20261231, 2, SIFA_CALENDAR_ROLL_TO_WORKDAY, &out, &err),
                     SIFA_EUNAVAILABLE);
    assert_string_equal(err.code, "calendar_year_missing");
    sifa_error_release(&err);
    assert_int_equal(sifa_calendar_add_natural_days(NULL, 20210101, 1, SIFA_CALENDAR_ROLL_TO_WORKDAY, &out, NULL),
                     SIFA_EINVALID);
    assert_int_equal(sifa_calendar_add_natural_days(NULL, 20210101, 1, 0x80, &out, NULL), SIFA_EINVALID);
    assert_int_equal(sifa_calendar_add_natural_days(NULL, 20210101, SIFA_CALENDAR_MAX_COUNT + 1, 0, &out, NULL),
                     SIFA_EINVALID);
    assert_int_equal(sifa_calendar_add_natural_days(NULL, 99991231, 1, 0, &out, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "calendar_range");
    sifa_error_release(&err);
    assert_int_equal(out, 5);
}

static void test_date_helpers(void **state)
{
    (void)state;
    assert_true(sifa_calendar_date_valid(20200229));
    assert_false(sifa_calendar_date_valid(20210229));
    assert_false(sifa_calendar_date_valid(19000229));
    assert_true(sifa_calendar_date_valid(20000229));
    assert_true(sifa_calendar_date_valid(10101));
    assert_true(sifa_calendar_date_valid(99991231));
    assert_false(sifa_calendar_date_valid(0));
    assert_false(sifa_calendar_date_valid(100000101));
    assert_false(sifa_calendar_date_valid(20211131));
    assert_false(sifa_calendar_date_valid(20210001));
    assert_false(sifa_calendar_date_valid(INT32_MIN));

    assert_int_equal(sifa_calendar_date_weekday(20211013), 3);
    assert_int_equal(sifa_calendar_date_weekday(19700101), 4);
    assert_int_equal(sifa_calendar_date_weekday(20260104), 7);
    assert_int_equal(sifa_calendar_date_weekday(10101), 1);
    assert_int_equal(sifa_calendar_date_weekday(19691231), 3);
    assert_true(sifa_calendar_date_weekday(20210230) < 0);

    int64_t days = 1;
    assert_int_equal(sifa_calendar_date_to_days(19700101, &days, NULL), 0);
    assert_int_equal(days, 0);
    assert_int_equal(sifa_calendar_date_to_days(10101, &days, NULL), 0);
    assert_int_equal(days, -719162);
    assert_int_equal(sifa_calendar_date_to_days(99991231, &days, NULL), 0);
    assert_int_equal(days, 2932896);
    assert_int_equal(sifa_calendar_date_to_days(20000301, &days, NULL), 0);
    assert_int_equal(days, 11017);

    /* Round trip over a long range, one day at a time. */
    int32_t prev = 18991230; /* day -25568 is 1899-12-31 */
    for (int64_t d = -25568; d < 400000; d++) {
        int32_t date = 0;
        assert_int_equal(sifa_calendar_date_from_days(d, &date, NULL), 0);
        int64_t back = 0;
        assert_int_equal(sifa_calendar_date_to_days(date, &back, NULL), 0);
        assert_int_equal(back, d);
        assert_true(date > prev);
        prev = date;
    }
    int32_t out = 3;
    assert_int_equal(sifa_calendar_date_from_days(-719163, &out, NULL), SIFA_EINVALID);
    assert_int_equal(sifa_calendar_date_from_days(2932897, &out, NULL), SIFA_EINVALID);
    assert_int_equal(sifa_calendar_date_from_days(INT64_MIN, &out, NULL), SIFA_EINVALID);
    assert_int_equal(out, 3);

    assert_int_equal(sifa_calendar_date_add_days(20211231, 1, &out, NULL), 0);
    assert_int_equal(out, 20220101);
    assert_int_equal(sifa_calendar_date_add_days(20200228, 1, &out, NULL), 0);
    assert_int_equal(out, 20200229);
    assert_int_equal(sifa_calendar_date_add_days(20200301, -366, &out, NULL), 0);
    assert_int_equal(out, 20190301);
    assert_int_equal(sifa_calendar_date_add_days(20200301, INT64_MAX, &out, NULL), SIFA_EINVALID);
    assert_int_equal(sifa_calendar_date_add_days(20200230, 1, &out, NULL), SIFA_EINVALID);

    assert_int_equal(sifa_calendar_date_diff(20210928, 20211013, &days, NULL), 0);
    assert_int_equal(days, 15);
    assert_int_equal(sifa_calendar_date_diff(20211013, 20210928, &days, NULL), 0);
    assert_int_equal(days, -15);
    assert_int_equal(sifa_calendar_date_diff(20211013, 20211032, &days, NULL), SIFA_EINVALID);
}

/* ---- The loader's errors ------------------------------------------------------------------ */

/* Loads text for year and expects failure with status, code and a message that starts with
 * prefix ("2021:3: "); checks details.line. */
static void expect_error(int year, const char *text, size_t len, int status, const char *code, const char *prefix,
                         int line)
{
    struct sifa_calendar *cal = (struct sifa_calendar *)0x1;
    struct sifa_error err = {0};
    int r = sifa_calendar_load_text(year, text, len, &cal, &err);
    if (r != status || strcmp(err.code, code) != 0 || strncmp(err.message, prefix, strlen(prefix)) != 0)
        fail_msg("got %d %s \"%s\", expected %d %s \"%s…\"", r, err.code, err.message, status, code, prefix);
    assert_ptr_equal(cal, (struct sifa_calendar *)0x1);
    if (line > 0)
        assert_int_equal(json_integer_value(json_object_get(err.details, "line")), line);
    else
        assert_null(json_object_get(err.details, "line"));
    /* The message is valid UTF-8, so it can go into a JSON response. */
    json_t *msg = json_string(err.message);
    assert_non_null(msg);
    json_decref(msg);
    sifa_error_release(&err);
}

#define EXPECT(year, text, status, code, prefix, line)                                                              \
    expect_error(year, text, strlen(text), status, code, prefix, line)

static void test_load_text_ok(void **state)
{
    (void)state;
    static const char text[] = "\xef\xbb\xbf# 注释\r\n"
                               "\r\n"
                               "   # indented comment\n"
                               "holiday\t2021-10-01..2021-10-07\t国庆节  \r\n"
                               "workday 2021-09-26 国庆节调休上班\n"
                               "workday 2022-01-08 下一年一月的调休\n"
                               "workday 2020-12-26 上一年十二月的调休\n"
                               "holiday 2021-05-05 单日"; /* no final newline */
    struct sifa_calendar *cal = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_calendar_load_text(2021, text, strlen(text), &cal, &err), 0);
    assert_int_equal(err.status, 0);
    assert_true(sifa_calendar_covers_year(cal, 2021));
    assert_false(sifa_calendar_covers_year(cal, 2022));
    const char *name = NULL;
    assert_int_equal(sifa_calendar_day_kind(cal, 20211001, &name, NULL), SIFA_CALENDAR_HOLIDAY);
    assert_string_equal(name, "国庆节");
    assert_int_equal(sifa_calendar_day_kind(cal, 20210926, &name, NULL), SIFA_CALENDAR_MAKEUP);
    assert_int_equal(sifa_calendar_day_kind(cal, 20210505, &name, NULL), SIFA_CALENDAR_HOLIDAY);
    assert_string_equal(name, "单日");
    assert_int_equal(sifa_calendar_is_workday(cal, 20210918, NULL), 0); /* not in this text: a Saturday */
    assert_int_equal(sifa_calendar_is_workday(cal, 20220108, NULL), SIFA_EUNAVAILABLE);
    sifa_calendar_free(cal);
    sifa_calendar_free(NULL);

    /* Exactly the line limit is fine. */
    char line[SIFA_CALENDAR_MAX_LINE_BYTES + 64];
    int n = snprintf(line, sizeof(line), "holiday 2021-01-01 元旦\n#");
    memset(line + n, 'x', (size_t)SIFA_CALENDAR_MAX_LINE_BYTES - 1);
    line[n + SIFA_CALENDAR_MAX_LINE_BYTES - 1] = '\n';
    assert_int_equal(sifa_calendar_load_text(2021, line, (size_t)n + SIFA_CALENDAR_MAX_LINE_BYTES, &cal, NULL), 0);
    sifa_calendar_free(cal);
}

static void test_load_text_errors(void **state)
{
    (void)state;
    const int inv = SIFA_EINVALID;
    EXPECT(2021, "# x\nholiday 2021-10-01 国庆节\nfoo 2021-01-01 x\n", inv, "calendar_syntax", "2021:3: ", 3);
    EXPECT(2021, "holiday 2021-10-01 国庆节\nHoliday 2021-01-01 x\n", inv, "calendar_syntax", "2021:2: ", 2);
    EXPECT(2021, "holiday 2021-02-30 不存在\n", inv, "calendar_date", "2021:1: 日期 2021-02-30 不存在", 1);
    EXPECT(2021, "holiday 2021-1-01 x\n", inv, "calendar_syntax", "2021:1: ", 1);
    EXPECT(2021, "holiday 2021/10/01 x\n", inv, "calendar_syntax", "2021:1: ", 1);
    EXPECT(2021, "holiday 2021-10-01...2021-10-07 x\n", inv, "calendar_syntax", "2021:1: ", 1);
    EXPECT(2021, "holiday 2021-10-01\n", inv, "calendar_syntax", "2021:1: ", 1);
    EXPECT(2021, "holiday 2021-10-01   \n", inv, "calendar_syntax", "2021:1: ", 1);
    EXPECT(2021, "holiday\n", inv, "calendar_syntax", "2021:1: 缺少日期", 1);
    EXPECT(2021, "\n\nholiday 2021-10-01 名\x01称\n", inv, "calendar_syntax", "2021:3: ", 3);
    /* Dates outside the file's year. */
    EXPECT(2021, "holiday 2021-10-01 a\nholiday 2022-01-01 元旦\n", inv, "calendar_date", "2021:2: ", 2);
    EXPECT(2021, "holiday 2021-12-31..2022-01-01 元旦\n", inv, "calendar_date", "2021:1: ", 1);
    EXPECT(2021, "holiday 2021-10-07..2021-10-01 a\n", inv, "calendar_date", "2021:1: ", 1);
    EXPECT(2021, "holiday 2021-01-01..2021-02-01 a\n", inv, "calendar_date", "2021:1: ", 1); /* 32 days */
    EXPECT(2021, "holiday 2021-10-01 a\nworkday 2021-09-27 周一\n", inv, "calendar_date",
           "2021:2: 调休上班日 2021-09-27 是星期一", 2);
    EXPECT(2021, "holiday 2021-10-01 a\nworkday 2020-11-28 太早\n", inv, "calendar_date", "2021:2: ", 2);
    EXPECT(2021, "holiday 2021-10-01 a\nworkday 2022-02-05 太晚\n", inv, "calendar_date", "2021:2: ", 2);
    EXPECT(2021, "holiday 2021-10-01 a\nworkday 2023-01-07 隔年\n", inv, "calendar_date", "2021:2: ", 2);
    EXPECT(2021, "workday 2021-09-25..2021-09-26 x\n", inv, "calendar_syntax", "2021:1: ", 1);
    /* Duplicates, naming the first line. */
    EXPECT(2021, "holiday 2021-10-01..2021-10-07 国庆节\n# c\nworkday 2021-10-02 x\n", inv, "calendar_duplicate",
           "2021:3: 日期 2021-10-02 已在第 1 行出现", 3);
    EXPECT(2021, "holiday 2021-10-01..2021-10-07 国庆节\nholiday 2021-10-07..2021-10-08 x\n", inv,
           "calendar_duplicate", "2021:2: 日期 2021-10-07 已在第 1 行出现", 2);
    EXPECT(2021, "holiday 2021-10-01 a\nworkday 2021-09-26 x\nworkday 2021-09-26 x\n", inv, "calendar_duplicate",
           "2021:3: ", 3);
    /* A year needs at least one holiday line: an empty file is not "weekends only". */
    EXPECT(2021, "", inv, "calendar_syntax", "2021: ", 0);
    EXPECT(2021, "# 只有注释\nworkday 2021-09-26 x\n", inv, "calendar_syntax", "2021: ", 0);
    /* Bytes. */
    static const char nul[] = "holiday 2021-10-01 a\nholiday 2021-10-02 b\0c\n";
    expect_error(2021, nul, sizeof(nul) - 1, inv, "calendar_syntax", "2021:2: 含有 NUL", 2);
    EXPECT(2021, "holiday 2021-10-01 a\n\n# \xe5\x9b\n", inv, "calendar_syntax", "2021:3: ", 3);
    EXPECT(2021, "holiday 2021-10-01 \xc0\xaf\n", inv, "calendar_syntax", "2021:1: ", 1);
    EXPECT(2021, "holiday 2021-10-01 \xed\xa0\x80\n", inv, "calendar_syntax", "2021:1: ", 1);
    /* Years. */
    EXPECT(1800, "holiday 1800-01-01 x\n", inv, "calendar_date", "1800: ", 0);
    EXPECT(3000, "holiday 3000-01-01 x\n", inv, "calendar_date", "3000: ", 0);

    /* Limits. */
    char line[SIFA_CALENDAR_MAX_LINE_BYTES + 64];
    int n = snprintf(line, sizeof(line), "holiday 2021-01-01 元旦\n\n#");
    memset(line + n, 'x', (size_t)SIFA_CALENDAR_MAX_LINE_BYTES);
    expect_error(2021, line, (size_t)n + SIFA_CALENDAR_MAX_LINE_BYTES, SIFA_ELIMIT, "calendar_limit", "2021:3: ", 3);
    char name[SIFA_CALENDAR_MAX_NAME_BYTES + 40];
    n = snprintf(name, sizeof(name), "holiday 2021-01-01 ");
    memset(name + n, 'n', (size_t)SIFA_CALENDAR_MAX_NAME_BYTES + 1);
    expect_error(2021, name, (size_t)n + SIFA_CALENDAR_MAX_NAME_BYTES + 1, inv, "calendar_syntax", "2021:1: ", 1);
    size_t big = SIFA_CALENDAR_MAX_FILE_BYTES + 1;
    char *huge = sifa_xmalloc(big);
    memset(huge, '\n', big);
    memcpy(huge, "holiday 2021-01-01 x", 20);
    expect_error(2021, huge, big, SIFA_ELIMIT, "calendar_limit", "2021: ", 0);
    free(huge);
}

/* ---- load_dir ----------------------------------------------------------------------------- */

struct tmpdir {
    char path[64];
    char files[8][32];
    size_t nfiles;
};

static void tmp_init(struct tmpdir *t)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->path, sizeof(t->path), "/tmp/sifa-cal-XXXXXX");
    assert_non_null(mkdtemp(t->path));
}

static void tmp_write(struct tmpdir *t, const char *name, const char *text, size_t len)
{
    bool known = false;
    for (size_t i = 0; i < t->nfiles; i++)
        known = known || strcmp(t->files[i], name) == 0;
    if (!known) {
        assert_true(t->nfiles < SIFA_ARRAY_SIZE(t->files));
        snprintf(t->files[t->nfiles++], sizeof(t->files[0]), "%s", name);
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", t->path, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void tmp_remove(struct tmpdir *t)
{
    for (size_t i = 0; i < t->nfiles; i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", t->path, t->files[i]);
        unlink(path);
    }
    assert_int_equal(rmdir(t->path), 0);
}

#define WRITE(t, name, text) tmp_write(t, name, text, strlen(text))

static void expect_dir_error(const struct tmpdir *t, int status, const char *code, const char *file, int line,
                             const char *contains)
{
    struct sifa_calendar *cal = NULL;
    struct sifa_error err = {0};
    int r = sifa_calendar_load_dir(t->path, &cal, &err);
    char prefix[160];
    if (line > 0)
        snprintf(prefix, sizeof(prefix), "%s/%s:%d: ", t->path, file, line);
    else if (file != NULL)
        snprintf(prefix, sizeof(prefix), "%s/%s: ", t->path, file);
    else
        snprintf(prefix, sizeof(prefix), "%s: ", t->path);
    if (r != status || strcmp(err.code, code) != 0 || strncmp(err.message, prefix, strlen(prefix)) != 0 ||
        (contains && strstr(err.message, contains) == NULL))
        fail_msg("got %d %s \"%s\", expected %d %s \"%s…%s\"", r, err.code, err.message, status, code, prefix,
                 contains ? contains : "");
    assert_null(cal);
    sifa_error_release(&err);
}

static void test_load_dir(void **state)
{
    (void)state;
    struct tmpdir t;
    struct sifa_calendar *cal = NULL;
    struct sifa_error err = {0};

    /* Not there. */
    assert_int_equal(sifa_calendar_load_dir("/nonexistent/sifa/holidays", &cal, &err), SIFA_ENOTFOUND);
    assert_string_equal(err.code, "calendar_io");
    sifa_error_release(&err);
    assert_null(cal);

    /* Empty. */
    tmp_init(&t);
    expect_dir_error(&t, SIFA_ENOTFOUND, "calendar_io", NULL, 0, NULL);
    /* README.md and dot files are skipped; years may have gaps. */
    WRITE(&t, "README.md", "说明\n");
    WRITE(&t, ".2021.swp", "garbage");
    WRITE(&t, "2021", "holiday 2021-10-01..2021-10-07 国庆节\nworkday 2021-10-09 调休\n");
    WRITE(&t, "2023", "holiday 2023-01-01..2023-01-02 元旦\n");
    assert_int_equal(sifa_calendar_load_dir(t.path, &cal, &err), 0);
    assert_true(sifa_calendar_covers_year(cal, 2021));
    assert_false(sifa_calendar_covers_year(cal, 2022));
    assert_true(sifa_calendar_covers_year(cal, 2023));
    assert_int_equal(sifa_calendar_is_workday(cal, 20211009, NULL), 1);
    assert_int_equal(sifa_calendar_is_workday(cal, 20230102, NULL), 0);
    assert_int_equal(sifa_calendar_is_workday(cal, 20220104, &err), SIFA_EUNAVAILABLE);
    assert_string_equal(err.code, "calendar_year_missing");
    sifa_error_release(&err);
    sifa_calendar_free(cal);
    cal = NULL;

    /* A make-up day of one file that another file lists: duplicate, reported at the later file. */
    WRITE(&t, "2022", "# 2022\nholiday 2022-01-01..2022-01-03 元旦\n");
    WRITE(&t, "2021", "holiday 2021-10-01 a\nworkday 2022-01-01 下一年\n");
    expect_dir_error(&t, SIFA_EINVALID, "calendar_duplicate", "2022", 2, "2021 第 2 行");

    /* A malformed file: its path and line. */
    WRITE(&t, "2021", "holiday 2021-10-01 a\n\nworkday 2021-10-04 周一\n");
    expect_dir_error(&t, SIFA_EINVALID, "calendar_date", "2021", 3, "星期一");
    WRITE(&t, "2021", "holiday 2021-10-01 a\n");

    /* Too big. */
    size_t big = SIFA_CALENDAR_MAX_FILE_BYTES + 1;
    char *huge = sifa_xmalloc(big);
    memset(huge, '#', big);
    tmp_write(&t, "2023", huge, big);
    free(huge);
    expect_dir_error(&t, SIFA_ELIMIT, "calendar_limit", "2023", 0, NULL);
    WRITE(&t, "2023", "holiday 2023-01-01..2023-01-02 元旦\n");

    /* A stray name is an error, not silently ignored. */
    WRITE(&t, "2024.txt", "holiday 2024-01-01 元旦\n");
    expect_dir_error(&t, SIFA_EINVALID, "calendar_syntax", NULL, 0, "2024.txt");

    tmp_remove(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_required_example), cmocka_unit_test(test_coverage),
        cmocka_unit_test(test_makeup_days),      cmocka_unit_test(test_weekday_holidays),
        cmocka_unit_test(test_working_days_per_year), cmocka_unit_test(test_year_missing),
        cmocka_unit_test(test_bad_arguments),    cmocka_unit_test(test_next_workday),
        cmocka_unit_test(test_natural_days),     cmocka_unit_test(test_date_helpers),
        cmocka_unit_test(test_load_text_ok),     cmocka_unit_test(test_load_text_errors),
        cmocka_unit_test(test_load_dir),
    };
    return cmocka_run_group_tests(tests, setup_real, teardown_real);
}
