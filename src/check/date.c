/* date.c — calendar arithmetic (proleptic Gregorian, days counted from 1970-01-01) and strict
 * parsers for dates ("2021-09-28", "2021年9月28日") and date-times ("2021-09-28T08:30:00+08:00",
 * "2021-09-28 08:30"). Layer: check. A time without a zone is China time, a fixed UTC+8: China
 * has had no daylight saving time since 1991, and records older than that carry dates only.
 * The day-count conversions follow Howard Hinnant's public-domain civil-calendar algorithms. */
#include <assert.h>

#include "base/common.h"
#include "check/check.h"

bool sifa_check_leap_year(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int sifa_check_month_days(int64_t year, int month)
{
    static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    return month == 2 && sifa_check_leap_year(year) ? 29 : days[month - 1];
}

static bool ymd_valid(int64_t y, int m, int d)
{
    return y >= 1 && y <= 9999 && d >= 1 && d <= sifa_check_month_days(y, m);
}

bool sifa_check_date_valid(int32_t yyyymmdd)
{
    if (yyyymmdd < 0)
        return false;
    return ymd_valid(yyyymmdd / 10000, yyyymmdd / 100 % 100, yyyymmdd % 100);
}

int64_t sifa_check_days_from_civil(int64_t year, int month, int day)
{
    assert(month >= 1 && month <= 12 && day >= 1 && day <= 31);
    assert(year > -1000000000 && year < 1000000000);
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                         /* [0, 399] */
    int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                 /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void sifa_check_civil_from_days(int64_t days, int64_t *ret_year, int *ret_month, int *ret_day)
{
    assert(days > -300000000000 && days < 300000000000);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11], March first */
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *ret_year = yoe + era * 400 + (m <= 2);
    *ret_month = m;
    *ret_day = d;
}

int sifa_check_weekday(int64_t days)
{
    int r = (int)(days % 7); /* (-7, 7) */
    return (r + 7 + 3) % 7 + 1;
}

int64_t sifa_check_date_to_days(int32_t yyyymmdd)
{
    assert(sifa_check_date_valid(yyyymmdd));
    return sifa_check_days_from_civil(yyyymmdd / 10000, yyyymmdd / 100 % 100, yyyymmdd % 100);
}

int32_t sifa_check_date_from_days(int64_t days)
{
    assert(days >= SIFA_CHECK_DAYS_MIN && days <= SIFA_CHECK_DAYS_MAX);
    int64_t y;
    int m, d;
    sifa_check_civil_from_days(days, &y, &m, &d);
    return (int32_t)(y * 10000 + m * 100 + d);
}

/* ---- parsing ---- */

/* Reads exactly n ASCII digits at s[*pos]. */
static bool fixed_digits(const char *s, size_t len, size_t *pos, size_t n, int *ret)
{
    if (len - *pos < n)
        return false;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[*pos + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *pos += n;
    *ret = v;
    return true;
}

/* Reads one or two ASCII or full-width digits. */
static bool short_number(const char *s, size_t len, size_t *pos, int *ret)
{
    size_t p = *pos;
    int a = sifa_check_digit_at(s, len, &p);
    if (a < 0)
        return false;
    int b = sifa_check_digit_at(s, len, &p);
    *pos = p;
    *ret = b < 0 ? a : a * 10 + b;
    return true;
}

static bool eat(const char *s, size_t len, size_t *pos, const char *lit)
{
    size_t n = strlen(lit);
    if (len - *pos < n || memcmp(s + *pos, lit, n) != 0)
        return false;
    *pos += n;
    return true;
}

/* "YYYY-MM-DD" at s[*pos], validated. */
static bool iso_date(const char *s, size_t len, size_t *pos, int32_t *ret)
{
    size_t p = *pos;
    int y, m, d;
    if (!fixed_digits(s, len, &p, 4, &y) || !eat(s, len, &p, "-") || !fixed_digits(s, len, &p, 2, &m) ||
        !eat(s, len, &p, "-") || !fixed_digits(s, len, &p, 2, &d) || !ymd_valid(y, m, d))
        return false;
    *pos = p;
    *ret = y * 10000 + m * 100 + d;
    return true;
}

/* "YYYY年M月D日", digits ASCII or full-width, the year exactly four of them. */
static bool chinese_date(const char *s, size_t len, size_t *pos, int32_t *ret)
{
    size_t p = *pos;
    int y = 0, m, d;
    for (int i = 0; i < 4; i++) {
        int v = sifa_check_digit_at(s, len, &p);
        if (v < 0)
            return false;
        y = y * 10 + v;
    }
    if (!eat(s, len, &p, "年") || !short_number(s, len, &p, &m) || !eat(s, len, &p, "月") ||
        !short_number(s, len, &p, &d) || !eat(s, len, &p, "日") || !ymd_valid(y, m, d))
        return false;
    *pos = p;
    *ret = y * 10000 + m * 100 + d;
    return true;
}

int sifa_check_date(const char *s, size_t len, int32_t *ret_yyyymmdd, struct sifa_error *err)
{
    int32_t v;
    if (len <= SIFA_CHECK_MAX_INPUT) {
        sifa_check_trim(&s, &len);
        size_t pos = 0;
        bool ok = iso_date(s, len, &pos, &v) && pos == len;
        if (!ok) {
            pos = 0;
            ok = chinese_date(s, len, &pos, &v) && pos == len;
        }
        if (ok) {
            if (ret_yyyymmdd != NULL)
                *ret_yyyymmdd = v;
            return 0;
        }
    }
    return sifa_error_set(err, SIFA_EINVALID, "date_invalid", "%s",
                          "日期无效，应为“YYYY-MM-DD”或“YYYY年M月D日”格式的有效日期");
}

/* The time and optional zone after the date: "HH:MM[:SS[.f…]][Z|±HH:MM]". Writes seconds since
 * midnight and the zone's offset east of UTC. */
static bool time_and_zone(const char *s, size_t len, size_t *pos, int *ret_seconds, int *ret_offset)
{
    size_t p = *pos;
    int h, mi, sec = 0;
    if (!fixed_digits(s, len, &p, 2, &h) || !eat(s, len, &p, ":") || !fixed_digits(s, len, &p, 2, &mi) ||
        h > 23 || mi > 59)
        return false;
    if (eat(s, len, &p, ":")) {
        if (!fixed_digits(s, len, &p, 2, &sec) || sec > 59)
            return false;
        if (eat(s, len, &p, ".")) {
            size_t start = p;
            while (p < len && p - start < 9 && s[p] >= '0' && s[p] <= '9')
                p++;
            if (p == start)
                return false;
        }
    }
    int offset = SIFA_CHECK_CHINA_UTC_OFFSET;
    if (p < len && (s[p] == 'Z' || s[p] == 'z')) {
        offset = 0;
        p++;
    } else if (p < len && (s[p] == '+' || s[p] == '-')) {
        int sign = s[p] == '-' ? -1 : 1;
        int oh, om;
        p++;
        if (!fixed_digits(s, len, &p, 2, &oh) || !eat(s, len, &p, ":") || !fixed_digits(s, len, &p, 2, &om) ||
            oh > 23 || om > 59)
            return false;
        offset = sign * (oh * 3600 + om * 60);
    }
    *pos = p;
    *ret_seconds = h * 3600 + mi * 60 + sec;
    *ret_offset = offset;
    return true;
}

int sifa_check_datetime(const char *s, size_t len, int64_t *ret_unix, struct sifa_error *err)
{
    if (len <= SIFA_CHECK_MAX_INPUT) {
        sifa_check_trim(&s, &len);
        size_t pos = 0;
        int32_t date;
        int seconds = 0, offset = 0;
        bool ok = iso_date(s, len, &pos, &date) && pos < len && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ');
        if (ok) {
            pos++;
            ok = time_and_zone(s, len, &pos, &seconds, &offset) && pos == len;
        }
        if (ok) {
            if (ret_unix != NULL)
                *ret_unix = sifa_check_date_to_days(date) * 86400 + seconds - offset;
            return 0;
        }
    }
    return sifa_error_set(err, SIFA_EINVALID, "datetime_invalid", "%s",
                          "时间无效，应为“YYYY-MM-DD HH:MM[:SS]”或“YYYY-MM-DDTHH:MM[:SS]+08:00”格式");
}
