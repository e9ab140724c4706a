/* calendar.h — the working-day calendar (工作日历): which dates are working days under the
 * State Council General Office's yearly holiday notices, and deadline arithmetic in natural and
 * working days. Layer: calendar (includes only base/). The calendar is data: one text file a
 * year under data/holidays/ (format in data/holidays/README.md), loaded once into an immutable
 * struct sifa_calendar. A year without a file is not covered: every query that has to look at a
 * day of such a year fails with "calendar_year_missing" instead of guessing from weekends.
 *
 * Dates are int32_t yyyymmdd (20211013), proleptic Gregorian, years 0001–9999.
 *
 * Ownership: load functions return a new calendar (caller frees with sifa_calendar_free); names
 * returned by queries are borrowed from the calendar and valid until it is freed.
 * Thread-safety: a loaded calendar is never modified, so any number of threads may query it at
 * once; the date helpers are pure.
 *
 * Error codes (struct sifa_error.code), with status:
 *   calendar_syntax        SIFA_EINVALID      a data line or file name that does not parse
 *   calendar_date          SIFA_EINVALID      an impossible date, a date outside the file's
 *                                             year, a make-up day not on a weekend, a bad range;
 *                                             also an invalid date passed to a query
 *   calendar_duplicate     SIFA_EINVALID      one date listed twice (same file or two files)
 *   calendar_limit         SIFA_ELIMIT        file > 64 KiB, line > 512 bytes, too many years
 *   calendar_io            SIFA_ENOTFOUND (missing directory/file) or SIFA_EINTERNAL
 *   calendar_year_missing  SIFA_EUNAVAILABLE  a query needs a year that has no data file
 *   calendar_range         SIFA_EINVALID      a count out of range, or a result outside 0001–9999
 * Loader messages start with "file:line: " and details are {"file": …, "line": …}; year-missing
 * details are {"year": …}. */
#ifndef SIFA_CALENDAR_H
#define SIFA_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define SIFA_CALENDAR_MAX_FILE_BYTES (64 * 1024) /* one year file */
#define SIFA_CALENDAR_MAX_LINE_BYTES 512         /* one line, without its newline */
#define SIFA_CALENDAR_MAX_NAME_BYTES 64          /* the name after a date */
#define SIFA_CALENDAR_MAX_SPAN_DAYS 31           /* one holiday range, both ends included */
#define SIFA_CALENDAR_MAX_YEARS 200              /* last covered year − first covered year < this */
#define SIFA_CALENDAR_MIN_YEAR 1900              /* years a data file may describe */
#define SIFA_CALENDAR_MAX_YEAR 2999
#define SIFA_CALENDAR_MAX_COUNT 36600            /* |n| for the add_* functions */

struct sifa_calendar;

/* What a covered day is. Ordinary days follow the week; the other two come from a notice. */
enum sifa_calendar_day_kind {
    SIFA_CALENDAR_WORKDAY = 1, /* Monday–Friday, no notice applies: working day */
    SIFA_CALENDAR_WEEKEND = 2, /* Saturday or Sunday, no notice applies: not a working day */
    SIFA_CALENDAR_HOLIDAY = 3, /* off under a notice (放假), weekday or weekend: not a working day */
    SIFA_CALENDAR_MAKEUP = 4,  /* weekend make-up working day (调休上班): working day */
};

/* For sifa_calendar_add_natural_days: when the last day is not a working day, the deadline
 * becomes the next working day (民法典第二百零三条：期间的最后一日是法定休假日的，以法定休假日
 * 结束的次日为期间的最后一日). */
#define SIFA_CALENDAR_ROLL_TO_WORKDAY 0x1u

/* ---- Loading ------------------------------------------------------------------------------ */

/* Loads every year file in dir: files named by four digits (2021) are year files; README.md and
 * names starting with '.' are skipped; any other name is an error, so a stray "2027.txt" is not
 * silently ignored. At least one year file is required. A date listed in two files is
 * calendar_duplicate. dir must not be NULL. On success *ret_cal is a new calendar and 0 is
 * returned; on failure *ret_cal is untouched, err (may be NULL) is filled and a negative status
 * is returned. */
int sifa_calendar_load_dir(const char *dir, struct sifa_calendar **ret_cal, struct sifa_error *err);

/* Loads one year from memory, as if it were the file named "<year>" (that is the file name used
 * in messages). text need not be NUL-terminated and may contain any bytes (they are validated:
 * NUL, invalid UTF-8, over-long lines and files are errors). text may be NULL when len is 0.
 * Returns 0 and a new calendar covering exactly that year, or a negative status (see above). */
int sifa_calendar_load_text(int year, const char *text, size_t len, struct sifa_calendar **ret_cal,
                            struct sifa_error *err);

/* Frees a calendar. Accepts NULL. Names borrowed from it become invalid. */
void sifa_calendar_free(struct sifa_calendar *cal);

/* ---- What the calendar covers -------------------------------------------------------------- */

/* True if cal has a data file for year. cal must not be NULL. */
bool sifa_calendar_covers_year(const struct sifa_calendar *cal, int year);

/* First and last covered years (there may be gaps between them: use covers_year). Never fails;
 * either out-parameter may be NULL. */
void sifa_calendar_year_range(const struct sifa_calendar *cal, int *ret_first, int *ret_last);

/* ---- Queries (cal must not be NULL; err may be NULL) --------------------------------------- */

/* 1 if date is a working day (Monday–Friday and not a holiday, or a make-up day), 0 if not;
 * negative on failure (calendar_date, calendar_year_missing). */
int sifa_calendar_is_workday(const struct sifa_calendar *cal, int32_t date, struct sifa_error *err);

/* The kind of date (a positive enum sifa_calendar_day_kind) or a negative status. When ret_name
 * is not NULL it receives, on success, the borrowed name of the notice entry ("国庆节",
 * "国庆节调休上班") or NULL for an ordinary day. */
int sifa_calendar_day_kind(const struct sifa_calendar *cal, int32_t date, const char **ret_name,
                           struct sifa_error *err);

/* The date of the n-th working day after start: start itself is not counted, whatever it is,
 * and counting begins the next day (“N个工作日内” counted from the day after the triggering
 * event). So n = 1 is the first working day after start; n = 0 returns start unchanged; the
 * result is always a working day when n >= 1. Example: 7 working days from 2021-09-28 is
 * 2021-10-13 (09-29, 09-30, 10-08, 10-09 make-up Saturday, 10-11, 10-12, 10-13).
 * 0 <= n <= SIFA_CALENDAR_MAX_COUNT, else calendar_range. start must be a valid date; every day
 * after start up to the result must lie in a covered year (calendar_year_missing otherwise).
 * Returns 0 and sets *ret_date. */
int sifa_calendar_add_working_days(const struct sifa_calendar *cal, int32_t start, int32_t n, int32_t *ret_date,
                                   struct sifa_error *err);

/* The first working day strictly after date: the same as add_working_days(date, 1). */
int sifa_calendar_next_workday(const struct sifa_calendar *cal, int32_t date, int32_t *ret_date,
                               struct sifa_error *err);

/* start + n natural days (start not counted, 民法典第二百零一条; n may be negative,
 * |n| <= SIFA_CALENDAR_MAX_COUNT). With flags = 0 this is pure date arithmetic, cal may be NULL
 * and no year needs to be covered. With SIFA_CALENDAR_ROLL_TO_WORKDAY a result that is not a
 * working day moves forward to the next working day (cal must not be NULL then, and the years
 * looked at must be covered). Returns 0 and sets *ret_date. */
int sifa_calendar_add_natural_days(const struct sifa_calendar *cal, int32_t start, int32_t n, unsigned flags,
                                   int32_t *ret_date, struct sifa_error *err);

/* Number of working days d with a < d <= b (the same convention as add_working_days, so
 * add_working_days(a, n) = b implies working_days_between(a, b) = n); when b < a the result is
 * minus the count for (b, a]; 0 when a == b. Every day in the half-open interval must be in a
 * covered year. Returns 0 and sets *ret_count. */
int sifa_calendar_working_days_between(const struct sifa_calendar *cal, int32_t a, int32_t b, int32_t *ret_count,
                                       struct sifa_error *err);

/* ---- Civil-date helpers (pure; no calendar needed) ----------------------------------------- */

/* True if date is a real yyyymmdd date in years 0001–9999. */
bool sifa_calendar_date_valid(int32_t date);

/* ISO weekday of a valid date: 1 = Monday … 7 = Sunday; negative (SIFA_EINVALID) if invalid. */
int sifa_calendar_date_weekday(int32_t date);

/* Days since 1970-01-01 (negative before) of a valid date. Returns 0 or calendar_date. */
int sifa_calendar_date_to_days(int32_t date, int64_t *ret_days, struct sifa_error *err);

/* The yyyymmdd date of a day number from date_to_days. Returns 0 or calendar_range when the
 * result would be outside 0001–9999. */
int sifa_calendar_date_from_days(int64_t days, int32_t *ret_date, struct sifa_error *err);

/* date + days (days may be negative). Returns 0, calendar_date or calendar_range. */
int sifa_calendar_date_add_days(int32_t date, int64_t days, int32_t *ret_date, struct sifa_error *err);

/* b − a in days (negative when b is earlier). Returns 0 or calendar_date. */
int sifa_calendar_date_diff(int32_t a, int32_t b, int64_t *ret_days, struct sifa_error *err);

#endif
