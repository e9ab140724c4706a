/* table.h — a statistics table (统计表) and its exports: CSV, XLSX and JSON.
 * Layer: stats (includes only base/). A table is a title, an optional subtitle, ncols column
 * headers with optional units, nrows rows of typed cells and an optional footnote. The report
 * engines fill one and hand it to an exporter; this module knows nothing about indicators.
 * libxlsxwriter stays inside table.c: no lxw_* type crosses this header.
 *
 * Ownership: the table owns every string in it. Setters copy their arguments, which stay the
 * caller's. Exporters only read the table (const) and return new buffers (free()) or a new
 * json_t (json_decref). Fields may be read directly; change them only through the functions
 * below, which keep the invariants (cells has room for cap * ncols, cells[r * ncols + c] is
 * row r column c, an EMPTY or numeric cell has text == NULL).
 *
 * Limits: a table exports only when sifa_table_check accepts it — at most SIFA_TABLE_MAX_ROWS
 * data rows and SIFA_TABLE_MAX_COLS columns, every text valid UTF-8 without U+FFFE/U+FFFF and
 * at most SIFA_TABLE_MAX_TEXT_CHARS characters (Excel's cell limit). A table that passes the
 * check exports in every format, so the three exports never disagree about what is too large.
 *
 * Numbers: integers are exact in CSV and JSON; XLSX stores numbers as doubles, exact up to 2^53.
 * A decimal is rounded once, to its digits, by formatting it ("%.*f"); CSV prints that text,
 * and JSON and XLSX store the value read back from it, so every format shows the same number.
 * A decimal that is NaN or infinite (a rate over zero cases) is exported as an empty cell.
 *
 * Thread-safety: none inside a table; build it in one thread. Exporters take a const table, so
 * several threads may export one finished table at once. libxlsxwriter calls gmtime() when it
 * stamps the document's creation time, so an XLSX export running at the same time as another
 * gmtime() user may get a wrong creation time in docProps/core.xml; nothing else is shared.
 *
 * Error codes (struct sifa_error.code), with status:
 *   table_too_large  SIFA_ELIMIT     rows, columns or a text over the limits above
 *   table_bad_text   SIFA_EINVALID   a text that is not UTF-8, or holds U+FFFE/U+FFFF
 *   xlsx_failed      SIFA_EINTERNAL  libxlsxwriter or the file system failed (message says why)
 * Messages name the place: "标题", "第 3 列表头", "第 5 行第 2 列" (1-based data rows/columns). */
#ifndef SIFA_STATS_TABLE_H
#define SIFA_STATS_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* An XLSX sheet has 1,048,576 rows; title, subtitle, header and note take up to four of them. */
#define SIFA_TABLE_MAX_ROWS (1048576u - 4u)
#define SIFA_TABLE_MAX_COLS 16384u
#define SIFA_TABLE_MAX_TEXT_CHARS 32767u /* Unicode code points in one text, units included */
#define SIFA_TABLE_MAX_DIGITS 10         /* decimal places; set_decimal clamps to 0..this */

enum sifa_cell_kind {
    SIFA_CELL_EMPTY = 0, /* zeroed memory is an empty cell */
    SIFA_CELL_TEXT,
    SIFA_CELL_INTEGER,
    SIFA_CELL_DECIMAL,
};

struct sifa_cell {
    enum sifa_cell_kind kind;
    char *text;      /* TEXT: owned, never NULL; otherwise NULL */
    int64_t integer; /* INTEGER */
    double decimal;  /* DECIMAL */
    int digits;      /* DECIMAL: places after the point, 0..SIFA_TABLE_MAX_DIGITS */
};

struct sifa_table {
    char *title;    /* never NULL: row 1 of the sheet, merged across all columns */
    char *subtitle; /* NULL or e.g. "统计期间:2021年7月  单位:慈溪市司法局": merged row 2 */
    size_t ncols;   /* >= 1, fixed at creation */
    char **headers; /* ncols entries; NULL until set (exported as "") */
    char **units;   /* ncols entries; NULL or a unit: the header then reads "名称(件)" */
    size_t nrows, cap;
    struct sifa_cell *cells; /* cap * ncols, row-major; the first nrows * ncols are in use */
    char *note;     /* NULL or a footnote under the table (merged across all columns) */
};

/* ---- Building --------------------------------------------------------------------------------
 * These never fail: out of memory aborts, as with sifa_xmalloc. Arguments come from the program,
 * not from users: a NULL table, a NULL title, ncols == 0 or a row or column out of range is a
 * bug and fails an assert. ncols over the limit is accepted here and refused by the exporters,
 * so a table built from a definition reports the problem instead of crashing. */

/* A new table with ncols columns, no rows, no headers. title is copied. Free with
 * sifa_table_free. */
struct sifa_table *sifa_table_new(const char *title, size_t ncols);
/* Replaces the subtitle; NULL or "" removes it. */
void sifa_table_set_subtitle(struct sifa_table *t, const char *subtitle);
/* Replaces the footnote; NULL or "" removes it. May contain '\n'. */
void sifa_table_set_note(struct sifa_table *t, const char *note);
/* Sets column col's header name (NULL: none) and unit (NULL or "": none). */
void sifa_table_set_header(struct sifa_table *t, size_t col, const char *name, const char *unit);
/* Appends a row of EMPTY cells and returns its index (0-based). Rows are not limited here (see
 * sifa_table_check) but their count is: a row count whose cells would overflow size_t aborts. */
size_t sifa_table_add_row(struct sifa_table *t);
/* Each replaces the cell at (row, col), 0-based. set_text copies text; NULL makes the cell
 * EMPTY. set_decimal clamps digits to 0..SIFA_TABLE_MAX_DIGITS. */
void sifa_table_set_text(struct sifa_table *t, size_t row, size_t col, const char *text);
void sifa_table_set_integer(struct sifa_table *t, size_t row, size_t col, int64_t v);
void sifa_table_set_decimal(struct sifa_table *t, size_t row, size_t col, double v, int digits);
/* Frees t and everything in it. Accepts NULL. */
void sifa_table_free(struct sifa_table *t);

/* ---- Exporting ------------------------------------------------------------------------------ */

/* 0 when t is within the limits (see the top of this file), else table_too_large or
 * table_bad_text. The rows and columns are checked before any cell is read. Every exporter
 * calls this first; call it yourself to learn why sifa_table_to_json returned NULL. */
int sifa_table_check(const struct sifa_table *t, struct sifa_error *err);

/* CSV for Excel and for programs: UTF-8 with a BOM (so Excel picks the encoding), CRLF after
 * every line, RFC 4180 quoting (a field with , " CR or LF is quoted, " doubled). Lines: the
 * title, the subtitle if any, the headers ("名称(单位)"), the rows, the note if any. Title,
 * subtitle and note lines are padded with empty fields to ncols so every line has ncols fields.
 * Integers print as plain digits, decimals with exactly their digits ("-0.00" prints "0.00"),
 * EMPTY cells and non-finite decimals as nothing. A text (cell, header, title…) that starts with
 * = + - @ TAB or CR and is not a plain number ("-12", "+3.5", "1e5") gets a leading ' so a
 * spreadsheet does not run it as a formula. On success *ret_buf is a new NUL-terminated buffer
 * (free()) and *ret_len its length without the NUL; on failure both are left alone. */
int sifa_table_to_csv(const struct sifa_table *t, char **ret_buf, size_t *ret_len,
                      struct sifa_error *err);

/* Writes t as an .xlsx file at path (created or truncated; the file itself is written by
 * libxlsxwriter, which assembles it from temporary files in the system's temporary directory).
 * One worksheet "统计表", A4 landscape, one page wide, the header row repeated on every printed
 * page and frozen on screen. Returns 0, a sifa_table_check error, or SIFA_EINTERNAL
 * "xlsx_failed". On failure after libxlsxwriter opened path, the partial file is removed; a
 * file it could not open is left alone. libxlsxwriter also prints its own errors to stderr. */
int sifa_table_write_xlsx(const struct sifa_table *t, const char *path, struct sifa_error *err);

/* The same into memory: writes a file mkstemp() creates in tmpdir (not NULL; mode 0600; also
 * used for libxlsxwriter's own temporary files), reads it back and unlinks it, on failure too.
 * On success *ret_buf is a new buffer (free()) of *ret_len bytes; on failure both are left
 * alone. */
int sifa_table_to_xlsx(const struct sifa_table *t, const char *tmpdir, char **ret_buf,
                       size_t *ret_len, struct sifa_error *err);

/* A new JSON object {"title": s, "subtitle": s|null, "columns": [{"name": s, "unit": s|null}],
 * "rows": [[cell…]…], "note": s|null}; a cell is null (EMPTY or non-finite), a string, an
 * integer, or a real rounded to its digits. Texts are not defused: JSON is data, not a sheet.
 * NULL when sifa_table_check fails; out of memory aborts. Caller owns the result. */
json_t *sifa_table_to_json(const struct sifa_table *t);

/* ---- Streaming ------------------------------------------------------------------------------
 * For lists too long to hold as a table (a list export of up to ~10^5 records): a header row,
 * then rows written to the file as they come; memory stays flat. No title, subtitle or note:
 * row 1 is the header, so the file reads back as data (filters, re-import). CSV: BOM, CRLF and
 * the quoting and defusing of sifa_table_to_csv. XLSX: one sheet "数据", header bold and frozen,
 * an autofilter over the columns; libxlsxwriter's constant-memory mode stores strings inline in
 * the sheet (no xl/sharedStrings.xml). A text over SIFA_TABLE_MAX_TEXT_CHARS is cut, ending in
 * "…"; texts must be valid UTF-8 (the caller's data is validated; nothing is checked here).
 *
 * Ownership: the stream is new from _open and released by _close (which finishes the file) or
 * _free (which abandons it; the caller removes the partial file). headers and cells are borrowed
 * for the call. One thread at a time. */
enum sifa_table_format { SIFA_TABLE_CSV, SIFA_TABLE_XLSX };
struct sifa_table_stream;
/* Creates (or truncates) the file at path and writes the header row of ncols (≥ 1) texts
 * (NULL entries are empty). sheet_title (may be NULL): the XLSX document title. tmpdir (may be
 * NULL: the system's): libxlsxwriter's temporary files. Errors: table_too_large, xlsx_failed,
 * export_io (SIFA_EINTERNAL, the CSV file could not be written). */
int sifa_table_stream_open(const char *path, enum sifa_table_format format, const char *sheet_title, size_t ncols,
                           const char *const *headers, const char *tmpdir, struct sifa_table_stream **ret_stream,
                           struct sifa_error *err);
/* Appends one row of exactly ncols cells (see struct sifa_cell; DECIMAL digits 0..10). */
int sifa_table_stream_row(struct sifa_table_stream *s, const struct sifa_cell *cells, struct sifa_error *err);
/* Finishes the file and frees s, on failure too. */
int sifa_table_stream_close(struct sifa_table_stream *s, struct sifa_error *err);
/* Frees s without finishing the file. Accepts NULL. */
void sifa_table_stream_free(struct sifa_table_stream *s);

#endif
