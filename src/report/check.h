/* check.h — the report checker: finds every figure claim in a report's text (UTF-8 text, Markdown,
 * or the text of a DOCX) and checks what it can: parts against their whole ("共634件,其中保留
 * 361件,废止、修改273件"), "等" lists and runs of quoted names against the number after them,
 * rates and shares against their numerator and denominator in the text, year-on-year changes
 * against both years' values, and — with a database — every claim that maps to an indicator
 * (indicators/<file>.yaml, by its name and unit) against the indicator's value read through
 * sifa_stats_read with the caller's scope. Layer: report (above stats).
 *
 * Each claim ends OK, MISMATCH or UNVERIFIABLE. The checker is conservative: a claim is a MISMATCH
 * only when the figures it is checked against are found with confidence (a partition that ends
 * its sentence, a rate's numerator named by the rate, a claim mapped to exactly one indicator with
 * no doubt about its period or scope); otherwise a difference leaves it UNVERIFIABLE with a note.
 * Values are exact decimals and are rounded half up to the number of digits the report writes.
 *
 * Ownership: results are new JSON values (json_decref) and new strings (free()). Thread-safety:
 * no shared state; the database connection in the options is used only during the call. */
#ifndef SIFA_REPORT_CHECK_H
#define SIFA_REPORT_CHECK_H

#include "stats/stats.h"

#define SIFA_CHECK_REPORT_MAX (8 * 1024 * 1024) /* bytes of text (and of a DOCX file) */
#define SIFA_CHECK_REPORT_LINE_MAX (64 * 1024) /* bytes of one line, without its newline */
#define SIFA_CHECK_REPORT_CLAIMS_MAX 20000     /* figure claims in one report */
#define SIFA_CHECK_REPORT_YEAR_CHARS 600       /* the opening searched for the report's year */

/* Where figures come from for the claims that map to indicators. All borrowed for the call. */
struct sifa_check_report_source {
    struct sifa_db *db;                   /* a connection that can read the aggregates */
    const struct sifa_model *model;       /* modules and indicators; no indicators: nothing maps */
    const struct sifa_calendar *calendar; /* NULL: per-day figures over working days are unverifiable */
    sifa_stats_scope_fn scope_for;        /* the caller's scope; sifa_stats_scope_all for the CLI; NULL: none */
    void *scope_arg;
    const char *org; /* org unit code whose figures the report gives; NULL: everything in scope */
};

struct sifa_check_report_options {
    int year; /* the report's year; 0: the year its opening states (sifa_report_check_year), else
               * last year (a report is written about the year that ended) */
    const struct sifa_check_report_source *source; /* NULL: only the checks within the text */
};

/* Checks text[0..len) (need not be NUL-terminated; a UTF-8 BOM is skipped; lines end in LF or
 * CRLF). opt may be NULL (text checks, year from the text). On success *ret is new:
 *   {"year": 2021, "year_source": "given"|"text"|"default" (opt->year; the report's opening;
 *    neither: last year, with which the database can confirm a figure but not refute one),
 *    "org": null|code, "database": bool,
 *    "claims": [{"line", "column" (1-based, in characters, of the figure's first character),
 *                "text" ("72.72%", "超过5万人"), "quote" (its clause),
 *                "value" ("72.72"; a fall is negative: 同比下降14.88% is "-14.88"),
 *                "unit" ("%", "件", "亿元"), "kind" ("count"|"percent"|"change"|"other"),
 *                "approx" (null|"at_least"|"at_most"|"about"),
 *                "status" ("OK"|"MISMATCH"|"UNVERIFIABLE"),
 *                "computed" (the value as it should be written: at the digits written, rounded
 *                            half up; or null),
 *                "checks": [{"type" ("sum"|"total"|"list"|"rate"|"share"|"change"|"indicator"),
 *                            "status", "computed", "explanation", "indicator"?, "name"?}],
 *                "note" (why it is unverifiable, or null)}],
 *    "mismatches": N, "ok": N, "unverifiable": N}
 * A claim maps to an indicator when the indicator's name ends the words before the figure (only
 * filler words such as 全市, 共 before it) or ends with them and the rest of the name occurs
 * earlier in the sentence, and the units agree; it is compared with the indicator's value for the
 * year and org through sifa_stats_read (a rate with its two counts, a change with both years).
 * With a year neither given nor in the opening, the database can confirm but not refute.
 * Errors: SIFA_ELIMIT "report_too_large" | "report_line_too_long" | "report_too_many_claims";
 * SIFA_EINVALID "report_bad_utf8" | "report_nul" with details {"line", "column", "offset"};
 * SIFA_ENOTFOUND "org_not_found"; database errors as sifa_stats_read's. */
int sifa_report_check(const char *text, size_t len, const struct sifa_check_report_options *opt, json_t **ret,
                      struct sifa_error *err);

/* The result of sifa_report_check as text for people: one line per claim ("31:245  MISMATCH
 * 调解成功率为72.72%  应为 72.73 …") and a summary. New string. */
char *sifa_report_check_to_text(const json_t *result);

/* The year a report is about, as its opening states it: the first "YYYY年" (2000–2100) in its
 * title (the first non-blank line), else in its first SIFA_CHECK_REPORT_YEAR_CHARS characters
 * ("2021年是……"); the end of a range ("2021-2025年") does not count. 0 when there is none. */
int sifa_report_check_year(const char *text, size_t len);

/* True when data starts like a ZIP archive (a DOCX file). */
bool sifa_report_is_docx(const void *data, size_t len);

/* The text of a DOCX file (word/document.xml): one line per paragraph, runs joined, tabs kept,
 * XML entities decoded. *ret_text is new and NUL-terminated. SIFA_EINVALID "docx_invalid" when it
 * is not a readable DOCX; SIFA_ELIMIT "report_too_large" beyond SIFA_CHECK_REPORT_MAX of text
 * (or a document.xml over 64 MiB). */
int sifa_report_docx_text(const void *data, size_t len, char **ret_text, size_t *ret_len, struct sifa_error *err);

#endif
