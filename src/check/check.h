/* check.h — validators for the values Chinese government records are full of: citizen identity
 * numbers (GB 11643), unified social credit codes (GB 32100), mainland mobile numbers, dates and
 * times, and money written as text (元, 万元, 亿元). Layer: check (above base, below the record
 * engine; includes only base/ headers). Every parser takes (s, len): s need not be NUL-terminated,
 * may hold any bytes, and is never read at or past s[len]; inputs longer than a fixed limit are
 * rejected without being scanned. Leading and trailing ASCII white space and U+3000 (全角空格)
 * are ignored. Parsers return 0 on success and fill their ret_ out-parameters; on failure they
 * return SIFA_EINVALID, leave every ret_ untouched and fill err (may be NULL) with a stable code
 * from the list below and a Simplified Chinese message that never repeats the input (identity
 * numbers are personal data and messages reach logs). Nothing here allocates or keeps state:
 * every function is thread-safe.
 *
 * Error codes: id_length, id_chars, id_legacy_not_allowed, id_region, id_birth_date,
 * id_check_digit; uscc_length, uscc_chars, uscc_check_digit; phone_invalid; date_invalid,
 * datetime_invalid; money_invalid, money_precision, money_negative, money_overflow. */
#ifndef SIFA_CHECK_H
#define SIFA_CHECK_H

#include "base/common.h"

/* Longest input (bytes, before trimming) each parser looks at; longer input is invalid. */
#define SIFA_CHECK_MAX_INPUT 64

/* ---- Citizen identity numbers (GB 11643-1999) ---- */

/* Flag for sifa_check_id_number: also accept 15-digit numbers issued before 1999
 * (6-digit region, YYMMDD birth date in the 1900s, 3-digit sequence, no check character). */
#define SIFA_CHECK_ID_ALLOW_LEGACY 0x1u

/* Earliest accepted birth date: nobody a county justice bureau deals with was born earlier, and
 * the bound catches typos such as 1800 for 1980. */
#define SIFA_CHECK_ID_MIN_BIRTH 19000101

struct sifa_id_info {
    char number[19];     /* normalised 18 characters (15-digit input upgraded, 'x' → 'X'), NUL-terminated */
    int32_t birth_date;  /* yyyymmdd */
    int32_t region_code; /* the first six digits, e.g. 110105 */
    bool male;           /* odd 17th digit (15th of a legacy number) */
    bool legacy;         /* the input was a 15-digit number */
};

/* Validates an identity number: 18 characters (17 digits then the ISO 7064 MOD 11-2 check
 * character, a digit or X, lowercase x accepted), a province-level region code from GB/T 2260
 * (11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82), a real birth date between
 * SIFA_CHECK_ID_MIN_BIRTH and today_yyyymmdd (0: no upper bound), and the check character.
 * 15-digit numbers only with SIFA_CHECK_ID_ALLOW_LEGACY. Checks run in that order, so err names
 * the first problem: id_length, id_legacy_not_allowed, id_chars, id_region, id_birth_date,
 * id_check_digit. ret_info may be NULL. */
int sifa_check_id_number(const char *s, size_t len, unsigned flags, int32_t today_yyyymmdd,
                         struct sifa_id_info *ret_info, struct sifa_error *err);

/* The check character ('0'-'9' or 'X') for the first 17 characters of an 18-digit number, or
 * '\0' when one of them is not an ASCII digit. first17 need not be NUL-terminated. */
char sifa_check_id_checksum(const char first17[17]);

/* ---- Unified social credit codes (GB 32100-2015) ---- */

struct sifa_uscc_info {
    char code[19];       /* normalised 18 characters (uppercase), NUL-terminated */
    char authority;      /* position 1: registration authority ('1' 机构编制, '5' 民政, '9' 工商, 'Y' 其他…) */
    char type;           /* position 2: organisation type within that authority */
    int32_t region_code; /* positions 3-8: administrative division code */
};

/* Validates a unified social credit code: 18 characters from "0123456789ABCDEFGHJKLMNPQRTUWXY"
 * (no I, O, Z, S, V; lowercase accepted and normalised), positions 3-8 digits (the division
 * code), position 18 the GB 32100 check character. Codes: uscc_length, uscc_chars,
 * uscc_check_digit. ret_info may be NULL. */
int sifa_check_uscc(const char *s, size_t len, struct sifa_uscc_info *ret_info, struct sifa_error *err);

/* The check character for the first 17 characters of a code, or '\0' when one of them is not in
 * the alphabet (lowercase letters are accepted). first17 need not be NUL-terminated. */
char sifa_check_uscc_checksum(const char first17[17]);

/* ---- Mainland mobile numbers ---- */

/* Validates a mainland mobile number: 11 digits starting 13-19, optionally preceded by "+86" or
 * "86", with spaces or hyphens between digits ("+86 138-0013-8000"). On success writes the 11
 * digits and a NUL to ret_number (may be NULL). Code: phone_invalid. */
int sifa_check_phone(const char *s, size_t len, char ret_number[12], struct sifa_error *err);

/* ---- Dates and times (proleptic Gregorian; China is UTC+8 all year, no DST) ---- */

/* Offset of Asia/Shanghai, used for times written without a zone. */
#define SIFA_CHECK_CHINA_UTC_OFFSET (8 * 3600)

/* Parses "YYYY-MM-DD" (two-digit month and day) or "YYYY年M月D日" (one or two digits, ASCII or
 * full-width) into yyyymmdd, year 0001-9999, a real calendar date. Code: date_invalid.
 * ret_yyyymmdd may be NULL. */
int sifa_check_date(const char *s, size_t len, int32_t *ret_yyyymmdd, struct sifa_error *err);

/* Parses "YYYY-MM-DDTHH:MM[:SS[.fraction]][zone]" or the same with a space instead of 'T', where
 * zone is "Z" or "±HH:MM"; without a zone the time is China time (UTC+8). A fraction of a second
 * is truncated. Writes seconds since 1970-01-01T00:00:00Z. Code: datetime_invalid.
 * ret_unix may be NULL. */
int sifa_check_datetime(const char *s, size_t len, int64_t *ret_unix, struct sifa_error *err);

/* True for a Gregorian leap year. */
bool sifa_check_leap_year(int64_t year);

/* Days in month (1-12) of year; 0 for a month out of range. */
int sifa_check_month_days(int64_t year, int month);

/* True when yyyymmdd is a real date with year 0001-9999. */
bool sifa_check_date_valid(int32_t yyyymmdd);

/* Days since 1970-01-01 of a proleptic Gregorian date; month 1-12 and day 1-31 (a day past the
 * end of the month counts on into the next). |year| must stay below 10^9. */
int64_t sifa_check_days_from_civil(int64_t year, int month, int day);

/* The date of a day count; |days| must stay below 3 * 10^11. All three out-parameters must be
 * non-NULL. */
void sifa_check_civil_from_days(int64_t days, int64_t *ret_year, int *ret_month, int *ret_day);

/* ISO weekday of a day count: 1 Monday … 7 Sunday (1970-01-01 was a Thursday, 4). */
int sifa_check_weekday(int64_t days);

/* yyyymmdd ↔ days since 1970-01-01. The date must be valid (sifa_check_date_valid); the day
 * count must lie within SIFA_CHECK_DAYS_MIN..SIFA_CHECK_DAYS_MAX (0001-01-01..9999-12-31). */
#define SIFA_CHECK_DAYS_MIN (-719162)
#define SIFA_CHECK_DAYS_MAX 2932896
int64_t sifa_check_date_to_days(int32_t yyyymmdd);
int32_t sifa_check_date_from_days(int64_t days);

/* ---- Money ---- */

/* Flag for sifa_check_money: accept a leading '-'. */
#define SIFA_CHECK_MONEY_ALLOW_NEGATIVE 0x1u

/* Parses money text into integer fen (1 元 = 100 fen): an optional sign ('+', or '-' with
 * SIFA_CHECK_MONEY_ALLOW_NEGATIVE), an optional '¥' or '￥', digits (ASCII or full-width) with
 * optional thousands separators ',' or '，' in groups of three, an optional decimal point ('.' or
 * '．') and fraction, then optionally "万" or "亿" and optionally "元" or "块" (spaces allowed
 * before the unit). Examples: "12.5元" 1250, "1.78亿元" 17800000000, "3,200万元" 3200000000,
 * "¥1,234.56" 123456, "0.5万元" 500000. Codes: money_invalid (syntax, empty, too long),
 * money_precision (a non-zero digit below one fen, "1.234元"; trailing zeros are fine),
 * money_negative, money_overflow (beyond int64). ret_fen may be NULL. */
int sifa_check_money(const char *s, size_t len, unsigned flags, int64_t *ret_fen, struct sifa_error *err);

/* ---- Text helpers shared by the parsers ---- */

/* Narrows [*s, *s + *len) by dropping leading and trailing ASCII white space and U+3000. */
void sifa_check_trim(const char **s, size_t *len);

/* Value 0-9 of the ASCII or full-width (U+FF10-U+FF19) digit at s[*pos], advancing *pos past
 * it; -1 (and *pos unchanged) when there is none before len. */
int sifa_check_digit_at(const char *s, size_t len, size_t *pos);

#endif
