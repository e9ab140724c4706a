/* date.c — civil-date arithmetic for the calendar layer: yyyymmdd validation, conversion to and
 * from a day number (days since 1970-01-01, proleptic Gregorian, Howard Hinnant's
 * days_from_civil / civil_from_days), weekdays and day offsets. Layer: calendar. Pure functions,
 * no state; every result is range-checked to years 0001–9999 so day numbers stay far inside
 * int64_t and dates inside int32_t. Kept here rather than shared with check/ so that the
 * calendar depends on base/ only. */
#include "base/common.h"

#include "calendar/calendar.h"

#define DATE_MIN_YEAR 1
#define DATE_MAX_YEAR 9999

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of y-m-d (valid). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;                                  /* [0, 399] */
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;         /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *ret_y, int *ret_m, int *ret_d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;                                 /* [0, 146096] */
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);          /* [0, 365] */
    const int64_t mp = (5 * doy + 2) / 153;                               /* [0, 11] */
    const int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    const int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *ret_y = yoe + era * 400 + (m <= 2);
    *ret_m = m;
    *ret_d = d;
}

bool sifa_calendar_date_valid(int32_t date)
{
    if (date < 0)
        return false;
    int y = date / 10000, m = date / 100 % 100, d = date % 100;
    return y >= DATE_MIN_YEAR && y <= DATE_MAX_YEAR && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

static int bad_date(struct sifa_error *err, int32_t date)
{
    return sifa_error_set(err, SIFA_EINVALID, "calendar_date", "日期 %ld 无效，应为 yyyymmdd 格式的真实日期",
                          (long)date);
}

int sifa_calendar_date_to_days(int32_t date, int64_t *ret_days, struct sifa_error *err)
{
    if (!sifa_calendar_date_valid(date))
        return bad_date(err, date);
    *ret_days = days_from_civil(date / 10000, date / 100 % 100, date % 100);
    return 0;
}

int sifa_calendar_date_from_days(int64_t days, int32_t *ret_date, struct sifa_error *err)
{
    /* Bounds first, so civil_from_days never sees a value whose arithmetic could overflow. */
    static const int64_t lo = -719162;  /* 0001-01-01 */
    static const int64_t hi = 2932896;  /* 9999-12-31 */
    if (days < lo || days > hi)
        return sifa_error_set(err, SIFA_EINVALID, "calendar_range", "日期超出 0001-01-01 至 9999-12-31 的范围");
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    *ret_date = (int32_t)(y * 10000 + m * 100 + d);
    return 0;
}

int sifa_calendar_date_weekday(int32_t date)
{
    int64_t days;
    if (sifa_calendar_date_to_days(date, &days, NULL) < 0)
        return SIFA_EINVALID;
    /* 1970-01-01 was a Thursday (ISO 4). */
    int64_t r = (days + 3) % 7;
    if (r < 0)
        r += 7;
    return (int)r + 1;
}

int sifa_calendar_date_add_days(int32_t date, int64_t days, int32_t *ret_date, struct sifa_error *err)
{
    int64_t base;
    int r = sifa_calendar_date_to_days(date, &base, err);
    if (r < 0)
        return r;
    /* |base| < 3e6, so only an absurd offset needs guarding before the addition. */
    if (days > INT64_C(100000000) || days < -INT64_C(100000000))
        return sifa_error_set(err, SIFA_EINVALID, "calendar_range", "日期超出 0001-01-01 至 9999-12-31 的范围");
    return sifa_calendar_date_from_days(base + days, ret_date, err);
}

int sifa_calendar_date_diff(int32_t a, int32_t b, int64_t *ret_days, struct sifa_error *err)
{
    int64_t da, db;
    int r = sifa_calendar_date_to_days(a, &da, err);
    if (r < 0)
        return r;
    r = sifa_calendar_date_to_days(b, &db, err);
    if (r < 0)
        return r;
    *ret_days = db - da;
    return 0;
}
