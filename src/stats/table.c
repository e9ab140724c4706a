/* table.c — see table.h. Layer: stats. Owns the table's memory and the three exporters; the
 * only file that talks to libxlsxwriter. Invariants: cells holds cap * ncols cells of which the
 * first nrows * ncols are initialized; a TEXT cell owns a non-NULL text and every other cell has
 * text == NULL; subtitle and note are NULL or non-empty. Every exporter runs sifa_table_check
 * before it reads a cell, so the writers below may assume valid, bounded UTF-8. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "stats/table.h"

#include "base/common.h"
#include "base/csv.h"
#include "base/text.h"

/* ---- Building ------------------------------------------------------------------------------ */

/* Copies s (NULL stays NULL) before freeing the old value, so s may point into *slot. */
static void replace_string(char **slot, const char *s)
{
    char *copy = s != NULL ? sifa_xstrdup(s) : NULL;
    free(*slot);
    *slot = copy;
}

struct sifa_table *sifa_table_new(const char *title, size_t ncols)
{
    assert(title != NULL);
    assert(ncols >= 1);
    struct sifa_table *t = sifa_xcalloc(1, sizeof(*t));
    t->title = sifa_xstrdup(title);
    t->ncols = ncols;
    t->headers = sifa_xcalloc(ncols, sizeof(*t->headers));
    t->units = sifa_xcalloc(ncols, sizeof(*t->units));
    return t;
}

void sifa_table_set_subtitle(struct sifa_table *t, const char *subtitle)
{
    assert(t != NULL);
    replace_string(&t->subtitle, subtitle != NULL && subtitle[0] != '\0' ? subtitle : NULL);
}

void sifa_table_set_note(struct sifa_table *t, const char *note)
{
    assert(t != NULL);
    replace_string(&t->note, note != NULL && note[0] != '\0' ? note : NULL);
}

void sifa_table_set_header(struct sifa_table *t, size_t col, const char *name, const char *unit)
{
    assert(t != NULL && col < t->ncols);
    replace_string(&t->headers[col], name);
    replace_string(&t->units[col], unit != NULL && unit[0] != '\0' ? unit : NULL);
}

size_t sifa_table_add_row(struct sifa_table *t)
{
    assert(t != NULL && t->nrows <= t->cap);
    if (t->nrows == t->cap) {
        size_t cap = t->cap != 0 ? t->cap * 2 : 16;
        size_t count, bytes;
        if (cap < t->cap || __builtin_mul_overflow(cap, t->ncols, &count) ||
            __builtin_mul_overflow(count, sizeof(struct sifa_cell), &bytes)) {
            fprintf(stderr, "sifa: 统计表行数溢出 (table of %zu rows cannot grow)\n", t->nrows);
            abort();
        }
        t->cells = sifa_xrealloc(t->cells, bytes);
        t->cap = cap;
    }
    memset(&t->cells[t->nrows * t->ncols], 0, t->ncols * sizeof(struct sifa_cell));
    return t->nrows++;
}

/* The cell at (row, col), emptied of its old text: the setters then fill in the new value. */
static struct sifa_cell *cell_reset(struct sifa_table *t, size_t row, size_t col)
{
    assert(t != NULL && row < t->nrows && col < t->ncols);
    struct sifa_cell *c = &t->cells[row * t->ncols + col];
    free(c->text);
    memset(c, 0, sizeof(*c));
    return c;
}

void sifa_table_set_text(struct sifa_table *t, size_t row, size_t col, const char *text)
{
    char *copy = text != NULL ? sifa_xstrdup(text) : NULL; /* text may be the cell's own */
    struct sifa_cell *c = cell_reset(t, row, col);
    if (copy != NULL) {
        c->kind = SIFA_CELL_TEXT;
        c->text = copy;
    }
}

void sifa_table_set_integer(struct sifa_table *t, size_t row, size_t col, int64_t v)
{
    struct sifa_cell *c = cell_reset(t, row, col);
    c->kind = SIFA_CELL_INTEGER;
    c->integer = v;
}

void sifa_table_set_decimal(struct sifa_table *t, size_t row, size_t col, double v, int digits)
{
    struct sifa_cell *c = cell_reset(t, row, col);
    c->kind = SIFA_CELL_DECIMAL;
    c->decimal = v;
    c->digits = digits < 0 ? 0 : digits > SIFA_TABLE_MAX_DIGITS ? SIFA_TABLE_MAX_DIGITS : digits;
}

void sifa_table_free(struct sifa_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i].text);
    free(t->cells);
    for (size_t i = 0; i < t->ncols; i++) {
        free(t->headers[i]);
        free(t->units[i]);
    }
    free(t->headers);
    free(t->units);
    free(t->title);
    free(t->subtitle);
    free(t->note);
    free(t);
}

/* ---- Shared by the exporters --------------------------------------------------------------- */

/* Room for "%.*f" of any double with SIFA_TABLE_MAX_DIGITS places: DBL_MAX has 309 digits. */
#define NUMBER_BUF 400

/* Formats a DECIMAL cell's value with its digits into buf and returns the length, or 0 when the
 * value is NaN or infinite (exported as an empty cell). A negative value that rounds to zero
 * loses its sign: "-0.00" would only puzzle readers of a statistics table. */
static size_t decimal_text(const struct sifa_cell *c, char buf[static NUMBER_BUF])
{
    assert(c->kind == SIFA_CELL_DECIMAL);
    assert(c->digits >= 0 && c->digits <= SIFA_TABLE_MAX_DIGITS);
    if (!isfinite(c->decimal))
        return 0;
    int n = snprintf(buf, NUMBER_BUF, "%.*f", c->digits, c->decimal);
    assert(n > 0 && n < NUMBER_BUF);
    if (buf[0] == '-' && strspn(buf + 1, "0.") == (size_t)n - 1) {
        memmove(buf, buf + 1, (size_t)n); /* with the NUL */
        n--;
    }
    return (size_t)n;
}

/* The value every format exports for a finite DECIMAL cell: the one its text shows. */
static double decimal_rounded(const char *text)
{
    return strtod(text, NULL);
}

/* A header as shown: "名称(单位)", "名称", "(单位)" or "". New string. */
static char *header_text(const struct sifa_table *t, size_t col)
{
    const char *name = t->headers[col] != NULL ? t->headers[col] : "";
    const char *unit = t->units[col];
    if (unit == NULL)
        return sifa_xstrdup(name);
    size_t a = strlen(name), b = strlen(unit);
    char *s = sifa_xmalloc(a + b + 3);
    memcpy(s, name, a);
    s[a] = '(';
    memcpy(s + a + 1, unit, b);
    s[a + 1 + b] = ')';
    s[a + b + 2] = '\0';
    return s;
}

/* Counts the code points of s into *ret_chars; false when s is not strict UTF-8 or holds
 * U+FFFE/U+FFFF, which XML 1.0 (and so XLSX) cannot carry. */
static bool text_scan(const char *s, size_t *ret_chars)
{
    size_t len = strlen(s), chars = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = sifa_utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (n == 0 || cp == 0xfffe || cp == 0xffff)
            return false;
        i += n;
        chars++;
    }
    *ret_chars = chars;
    return true;
}

/* 0 when s is valid and extra + its length is within the limit, else the error for where. */
static int check_text(const char *s, size_t extra, const char *where, struct sifa_error *err)
{
    size_t chars;
    if (!text_scan(s, &chars))
        return sifa_error_set(err, SIFA_EINVALID, "table_bad_text", "统计表%s含有无效的 UTF-8 字节或字符",
                              where);
    if (chars > SIFA_TABLE_MAX_TEXT_CHARS - extra)
        return sifa_error_set(err, SIFA_ELIMIT, "table_too_large", "统计表%s超过 %u 个字符", where,
                              SIFA_TABLE_MAX_TEXT_CHARS);
    return 0;
}

int sifa_table_check(const struct sifa_table *t, struct sifa_error *err)
{
    assert(t != NULL && t->title != NULL && t->ncols >= 1);
    if (t->ncols > SIFA_TABLE_MAX_COLS)
        return sifa_error_set(err, SIFA_ELIMIT, "table_too_large", "统计表有 %zu 列，超过上限 %u 列",
                              t->ncols, SIFA_TABLE_MAX_COLS);
    if (t->nrows > SIFA_TABLE_MAX_ROWS)
        return sifa_error_set(err, SIFA_ELIMIT, "table_too_large", "统计表有 %zu 行，超过上限 %u 行",
                              t->nrows, SIFA_TABLE_MAX_ROWS);
    int r;
    if ((r = check_text(t->title, 0, "标题", err)) < 0 ||
        (t->subtitle != NULL && (r = check_text(t->subtitle, 0, "副标题", err)) < 0) ||
        (t->note != NULL && (r = check_text(t->note, 0, "注释", err)) < 0))
        return r;
    char where[64];
    for (size_t c = 0; c < t->ncols; c++) {
        /* Shown together as "名称(单位)": the limit applies to the whole. */
        size_t extra = 0;
        if (t->units[c] != NULL) {
            snprintf(where, sizeof(where), "第 %zu 列的单位", c + 1);
            if ((r = check_text(t->units[c], 2, where, err)) < 0)
                return r;
            text_scan(t->units[c], &extra);
            extra += 2;
        }
        snprintf(where, sizeof(where), "第 %zu 列表头", c + 1);
        if ((r = check_text(t->headers[c] != NULL ? t->headers[c] : "", extra, where, err)) < 0)
            return r;
    }
    for (size_t row = 0; row < t->nrows; row++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const struct sifa_cell *cell = &t->cells[row * t->ncols + c];
            if (cell->kind != SIFA_CELL_TEXT)
                continue;
            size_t chars;
            if (text_scan(cell->text, &chars) && chars <= SIFA_TABLE_MAX_TEXT_CHARS)
                continue; /* the common case, without formatting a place name */
            snprintf(where, sizeof(where), "第 %zu 行第 %zu 列", row + 1, c + 1);
            return check_text(cell->text, 0, where, err);
        }
    }
    return 0;
}

/* ---- CSV --------------------------------------------------------------------------------------
 * The output is bounded by the table, which sifa_table_check bounds; the buffer needs no other
 * maximum. */


static void buf_str(struct sifa_strbuf *b, const char *s)
{
    sifa_strbuf_add(b, s, strlen(s));
}

/* Quoting and defusing: base/csv.h, shared with the other CSV writers. */
static void csv_text(struct sifa_strbuf *b, const char *s)
{
    sifa_csv_field(b, s);
}

static void csv_cell(struct sifa_strbuf *b, const struct sifa_cell *c)
{
    char num[NUMBER_BUF];
    switch (c->kind) {
    case SIFA_CELL_EMPTY:
        break;
    case SIFA_CELL_TEXT:
        csv_text(b, c->text);
        break;
    case SIFA_CELL_INTEGER:
        snprintf(num, sizeof(num), "%" PRId64, c->integer);
        buf_str(b, num);
        break;
    case SIFA_CELL_DECIMAL:
        sifa_strbuf_add(b, num, decimal_text(c, num));
        break;
    }
}

/* A line of one text and ncols - 1 empty fields. */
static void csv_line_one(struct sifa_strbuf *b, const char *s, size_t ncols)
{
    csv_text(b, s);
    for (size_t i = 1; i < ncols; i++)
        sifa_strbuf_add(b, ",", 1);
    sifa_strbuf_add(b, "\r\n", 2);
}

int sifa_table_to_csv(const struct sifa_table *t, char **ret_buf, size_t *ret_len,
                      struct sifa_error *err)
{
    int r = sifa_table_check(t, err);
    if (r < 0)
        return r;
    struct sifa_strbuf b = {.data = sifa_xmalloc(4096), .len = 0, .cap = 4096};
    buf_str(&b, "\xef\xbb\xbf");
    csv_line_one(&b, t->title, t->ncols);
    if (t->subtitle != NULL)
        csv_line_one(&b, t->subtitle, t->ncols);
    for (size_t c = 0; c < t->ncols; c++) {
        _cleanup_free_ char *h = header_text(t, c);
        if (c > 0)
            sifa_strbuf_add(&b, ",", 1);
        csv_text(&b, h);
    }
    sifa_strbuf_add(&b, "\r\n", 2);
    for (size_t row = 0; row < t->nrows; row++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (c > 0)
                sifa_strbuf_add(&b, ",", 1);
            csv_cell(&b, &t->cells[row * t->ncols + c]);
        }
        sifa_strbuf_add(&b, "\r\n", 2);
    }
    if (t->note != NULL)
        csv_line_one(&b, t->note, t->ncols);
    *ret_buf = b.data;
    *ret_len = b.len;
    return 0;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

/* jansson returns NULL or -1 only without memory (texts were checked): abort like sifa_x*. */
static json_t *jnew(json_t *v)
{
    if (v == NULL) {
        fprintf(stderr, "sifa: 内存不足 (out of memory building JSON)\n");
        abort();
    }
    return v;
}

static void jset(json_t *obj, const char *key, json_t *v_take)
{
    if (json_object_set_new(obj, key, jnew(v_take)) < 0)
        jnew(NULL);
}

static void jappend(json_t *arr, json_t *v_take)
{
    if (json_array_append_new(arr, jnew(v_take)) < 0)
        jnew(NULL);
}

static json_t *jstring_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *json_cell(const struct sifa_cell *c)
{
    char num[NUMBER_BUF];
    switch (c->kind) {
    case SIFA_CELL_TEXT:
        return json_string(c->text);
    case SIFA_CELL_INTEGER:
        return json_integer(c->integer);
    case SIFA_CELL_DECIMAL:
        if (decimal_text(c, num) == 0)
            return json_null();
        return json_real(decimal_rounded(num));
    case SIFA_CELL_EMPTY:
        break;
    }
    return json_null();
}

json_t *sifa_table_to_json(const struct sifa_table *t)
{
    if (sifa_table_check(t, NULL) < 0)
        return NULL;
    json_t *root = jnew(json_object());
    jset(root, "title", json_string(t->title));
    jset(root, "subtitle", jstring_or_null(t->subtitle));
    json_t *columns = jnew(json_array());
    for (size_t c = 0; c < t->ncols; c++) {
        json_t *col = jnew(json_object());
        jset(col, "name", json_string(t->headers[c] != NULL ? t->headers[c] : ""));
        jset(col, "unit", jstring_or_null(t->units[c]));
        jappend(columns, col);
    }
    jset(root, "columns", columns);
    json_t *rows = jnew(json_array());
    for (size_t r = 0; r < t->nrows; r++) {
        json_t *row = jnew(json_array());
        for (size_t c = 0; c < t->ncols; c++)
            jappend(row, json_cell(&t->cells[r * t->ncols + c]));
        jappend(rows, row);
    }
    jset(root, "rows", rows);
    jset(root, "note", jstring_or_null(t->note));
    return root;
}

/* ---- XLSX ------------------------------------------------------------------------------------ */

#define XLSX_SHEET_NAME "统计表"
#define XLSX_FONT "宋体"
#define XLSX_FONT_SIZE 11
#define XLSX_TITLE_FONT_SIZE 16
#define XLSX_LINE_HEIGHT 16.0  /* points per wrapped line at XLSX_FONT_SIZE */
#define XLSX_PAPER_A4 9
#define XLSX_MIN_WIDTH 8.0       /* column widths in Excel units (the width of '0') */
#define XLSX_MIN_FIRST_WIDTH 14.0 /* the first column usually names the rows: wider */
#define XLSX_MAX_WIDTH 50.0      /* longer texts wrap */
#define XLSX_HEADER_WRAP 16.0    /* a header longer than this wraps rather than widen */
#define XLSX_ZIP64_CELLS 20000000u /* beyond this many cells the zip may pass 4 GiB */

struct xlsx {
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *title, *subtitle, *header, *text, *blank, *integer, *note;
    lxw_format *decimal[SIFA_TABLE_MAX_DIGITS + 1]; /* made on first use */
    double *widths;                                 /* ncols */
};

static int xlsx_error(struct sifa_error *err, lxw_error e, const char *where)
{
    return sifa_error_set(err, SIFA_EINTERNAL, "xlsx_failed", "生成 Excel 文件失败（%s）：%s", where,
                          lxw_strerror(e));
}

/* A format with the sheet's font, vertically centred. NULL without memory. */
static lxw_format *xlsx_format(struct xlsx *x, bool border)
{
    lxw_format *f = workbook_add_format(x->wb);
    if (f == NULL)
        return NULL;
    format_set_font_name(f, XLSX_FONT);
    format_set_font_size(f, XLSX_FONT_SIZE);
    format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
    if (border)
        format_set_border(f, LXW_BORDER_THIN);
    return f;
}

static int xlsx_formats(struct xlsx *x, struct sifa_error *err)
{
    if ((x->title = xlsx_format(x, false)) == NULL || (x->subtitle = xlsx_format(x, false)) == NULL ||
        (x->header = xlsx_format(x, true)) == NULL || (x->text = xlsx_format(x, true)) == NULL ||
        (x->blank = xlsx_format(x, true)) == NULL || (x->integer = xlsx_format(x, true)) == NULL ||
        (x->note = xlsx_format(x, false)) == NULL)
        return xlsx_error(err, LXW_ERROR_MEMORY_MALLOC_FAILED, "格式");
    format_set_bold(x->title);
    format_set_font_size(x->title, XLSX_TITLE_FONT_SIZE);
    format_set_align(x->title, LXW_ALIGN_CENTER);
    format_set_align(x->subtitle, LXW_ALIGN_LEFT);
    format_set_bold(x->header);
    format_set_align(x->header, LXW_ALIGN_CENTER);
    format_set_text_wrap(x->header);
    format_set_align(x->text, LXW_ALIGN_LEFT);
    format_set_text_wrap(x->text);
    format_set_num_format(x->integer, "#,##0");
    format_set_align(x->note, LXW_ALIGN_LEFT);
    format_set_align(x->note, LXW_ALIGN_VERTICAL_TOP);
    format_set_text_wrap(x->note);
    return 0;
}

static lxw_format *xlsx_decimal_format(struct xlsx *x, int digits)
{
    assert(digits >= 0 && digits <= SIFA_TABLE_MAX_DIGITS);
    if (x->decimal[digits] == NULL) {
        lxw_format *f = xlsx_format(x, true);
        if (f == NULL)
            return NULL;
        char num_format[8 + SIFA_TABLE_MAX_DIGITS] = "#,##0";
        if (digits > 0) {
            size_t n = strlen(num_format);
            num_format[n] = '.';
            memset(num_format + n + 1, '0', (size_t)digits);
            num_format[n + 1 + (size_t)digits] = '\0';
        }
        format_set_num_format(f, num_format);
        x->decimal[digits] = f;
    }
    return x->decimal[digits];
}

/* Display width of a (checked) UTF-8 text, in Excel units. */
static double text_width(const char *s)
{
    size_t len = strlen(s);
    double w = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t n = sifa_utf8_decode((const unsigned char *)s + i, len - i, &cp);
        assert(n > 0); /* sifa_table_check ran */
        w += cp >= 0x1100 ? 2 : 1; /* CJK and other wide characters: rough, it only sizes columns */
        i += n;
    }
    return w;
}

/* Width of a number as "#,##0.00" shows it: its text plus one comma per three integer digits. */
static double number_width(const char *num)
{
    size_t len = strlen(num);
    size_t int_digits = strspn(num + (num[0] == '-'), "0123456789");
    return (double)len + (int_digits > 0 ? (double)((int_digits - 1) / 3) : 0);
}

static double cell_width(const struct sifa_cell *c)
{
    char num[NUMBER_BUF];
    switch (c->kind) {
    case SIFA_CELL_TEXT:
        return text_width(c->text);
    case SIFA_CELL_INTEGER:
        snprintf(num, sizeof(num), "%" PRId64, c->integer);
        return number_width(num);
    case SIFA_CELL_DECIMAL:
        return decimal_text(c, num) > 0 ? number_width(num) : 0;
    case SIFA_CELL_EMPTY:
        break;
    }
    return 0;
}

/* Wrapped lines a text of width w needs in a column (or merged range) of width col. */
static double wrapped_lines(double w, double col)
{
    double usable = col > 2 ? col - 1 : 1;
    double lines = ceil(w / usable);
    return lines < 1 ? 1 : lines;
}

/* Sets column widths from the widest data (headers count up to XLSX_HEADER_WRAP; past that they
 * wrap) and the header row's height from the lines its widest header then needs. */
static int xlsx_columns(struct xlsx *x, const struct sifa_table *t, lxw_row_t header_row,
                        struct sifa_error *err)
{
    double header_lines = 1;
    for (size_t c = 0; c < t->ncols; c++) {
        _cleanup_free_ char *h = header_text(t, c);
        double hw = text_width(h);
        double w = hw < XLSX_HEADER_WRAP ? hw : XLSX_HEADER_WRAP;
        for (size_t r = 0; r < t->nrows; r++) {
            double cw = cell_width(&t->cells[r * t->ncols + c]);
            if (cw > w)
                w = cw;
        }
        w += 2; /* padding */
        double min = c == 0 ? XLSX_MIN_FIRST_WIDTH : XLSX_MIN_WIDTH;
        w = w < min ? min : w > XLSX_MAX_WIDTH ? XLSX_MAX_WIDTH : w;
        x->widths[c] = w;
        double lines = wrapped_lines(hw, w);
        if (lines > header_lines)
            header_lines = lines;
        lxw_error e = worksheet_set_column(x->ws, (lxw_col_t)c, (lxw_col_t)c, w, NULL);
        if (e != LXW_NO_ERROR)
            return xlsx_error(err, e, "列宽");
    }
    if (header_lines > 4)
        header_lines = 4;
    lxw_error e = worksheet_set_row(x->ws, header_row, XLSX_LINE_HEIGHT * header_lines + 4, NULL);
    return e == LXW_NO_ERROR ? 0 : xlsx_error(err, e, "行高");
}

/* One text across the whole width of the table: merged, unless there is one column (Excel
 * refuses to merge a single cell). */
static lxw_error xlsx_banner(struct xlsx *x, const struct sifa_table *t, lxw_row_t row, const char *s,
                             lxw_format *f)
{
    if (t->ncols == 1)
        return worksheet_write_string(x->ws, row, 0, s, f);
    return worksheet_merge_range(x->ws, row, 0, row, (lxw_col_t)(t->ncols - 1), s, f);
}

static lxw_error xlsx_cell(struct xlsx *x, lxw_row_t row, lxw_col_t col, const struct sifa_cell *c)
{
    char num[NUMBER_BUF];
    switch (c->kind) {
    case SIFA_CELL_TEXT:
        return worksheet_write_string(x->ws, row, col, c->text, x->text);
    case SIFA_CELL_INTEGER:
        return worksheet_write_number(x->ws, row, col, (double)c->integer, x->integer);
    case SIFA_CELL_DECIMAL:
        if (decimal_text(c, num) > 0) {
            lxw_format *f = xlsx_decimal_format(x, c->digits);
            if (f == NULL)
                return LXW_ERROR_MEMORY_MALLOC_FAILED;
            return worksheet_write_number(x->ws, row, col, decimal_rounded(num), f);
        }
        break;
    case SIFA_CELL_EMPTY:
        break;
    }
    return worksheet_write_blank(x->ws, row, col, x->blank); /* blank, but with its borders */
}

/* Fills the workbook; the caller closes or frees it. */
static int xlsx_fill(struct xlsx *x, const struct sifa_table *t, struct sifa_error *err)
{
    lxw_doc_properties props = {.title = t->title};
    lxw_error e = workbook_set_properties(x->wb, &props);
    if (e != LXW_NO_ERROR)
        return xlsx_error(err, e, "文档属性");
    x->ws = workbook_add_worksheet(x->wb, XLSX_SHEET_NAME);
    if (x->ws == NULL)
        return xlsx_error(err, LXW_ERROR_MEMORY_MALLOC_FAILED, "工作表");
    int r = xlsx_formats(x, err);
    if (r < 0)
        return r;

    lxw_row_t row = 0;
    if ((e = xlsx_banner(x, t, row, t->title, x->title)) != LXW_NO_ERROR ||
        (e = worksheet_set_row(x->ws, row, 30, NULL)) != LXW_NO_ERROR)
        return xlsx_error(err, e, "标题");
    row++;
    if (t->subtitle != NULL) {
        if ((e = xlsx_banner(x, t, row, t->subtitle, x->subtitle)) != LXW_NO_ERROR ||
            (e = worksheet_set_row(x->ws, row, 20, NULL)) != LXW_NO_ERROR)
            return xlsx_error(err, e, "副标题");
        row++;
    }
    lxw_row_t header_row = row++;
    for (size_t c = 0; c < t->ncols; c++) {
        _cleanup_free_ char *h = header_text(t, c);
        if ((e = worksheet_write_string(x->ws, header_row, (lxw_col_t)c, h, x->header)) != LXW_NO_ERROR)
            return xlsx_error(err, e, "表头");
    }
    for (size_t i = 0; i < t->nrows; i++, row++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if ((e = xlsx_cell(x, row, (lxw_col_t)c, &t->cells[i * t->ncols + c])) != LXW_NO_ERROR) {
                char where[64];
                snprintf(where, sizeof(where), "第 %zu 行第 %zu 列", i + 1, c + 1);
                return xlsx_error(err, e, where);
            }
        }
    }
    if ((r = xlsx_columns(x, t, header_row, err)) < 0)
        return r;
    if (t->note != NULL) {
        double total = 0, lines = 0;
        for (size_t c = 0; c < t->ncols; c++)
            total += x->widths[c];
        for (const char *p = t->note;;) { /* each line of the note wraps on its own */
            const char *nl = strchr(p, '\n');
            _cleanup_free_ char *line = sifa_xstrndup(p, nl != NULL ? (size_t)(nl - p) : strlen(p));
            lines += wrapped_lines(text_width(line), total);
            if (nl == NULL)
                break;
            p = nl + 1;
        }
        if (lines > 20)
            lines = 20; /* Excel's maximum row height is 409 points */
        if ((e = xlsx_banner(x, t, row, t->note, x->note)) != LXW_NO_ERROR ||
            (e = worksheet_set_row(x->ws, row, XLSX_LINE_HEIGHT * lines + 4, NULL)) != LXW_NO_ERROR)
            return xlsx_error(err, e, "注释");
    }

    worksheet_set_landscape(x->ws);
    worksheet_set_paper(x->ws, XLSX_PAPER_A4);
    worksheet_fit_to_pages(x->ws, 1, 0); /* one page wide, as many pages tall as it takes */
    worksheet_center_horizontally(x->ws);
    worksheet_freeze_panes(x->ws, header_row + 1, 0);
    if ((e = worksheet_repeat_rows(x->ws, header_row, header_row)) != LXW_NO_ERROR ||
        (e = worksheet_set_footer(x->ws, "&C第 &P 页，共 &N 页")) != LXW_NO_ERROR)
        return xlsx_error(err, e, "页面设置");
    return 0;
}

/* Writes a checked table to path; tmpdir (may be NULL) is for libxlsxwriter's own files. */
static int xlsx_write(const struct sifa_table *t, const char *path, const char *tmpdir,
                      struct sifa_error *err)
{
    lxw_workbook_options opts = {
        .constant_memory = 0, /* it would trade shared strings and merges for memory */
        .tmpdir = (char *)tmpdir, /* libxlsxwriter copies it and never writes through it */
        .use_zip64 = t->nrows * t->ncols > XLSX_ZIP64_CELLS,
    };
    struct xlsx x = {.wb = workbook_new_opt(path, &opts)};
    if (x.wb == NULL)
        return xlsx_error(err, LXW_ERROR_MEMORY_MALLOC_FAILED, "工作簿");
    x.widths = sifa_xcalloc(t->ncols, sizeof(*x.widths));
    int r = xlsx_fill(&x, t, err);
    free(x.widths);
    if (r < 0) {
        lxw_workbook_free(x.wb); /* nothing was written to path yet */
        return r;
    }
    errno = 0;
    lxw_error e = workbook_close(x.wb); /* frees the workbook whatever happens */
    if (e != LXW_NO_ERROR) {
        int saved = errno;
        /* After it opened path, the file is partial; a path it could not open is not ours. */
        if (e != LXW_ERROR_CREATING_XLSX_FILE)
            unlink(path);
        /* Only these two leave errno from the failed fopen()/tmpfile() for sure. */
        if (saved != 0 && (e == LXW_ERROR_CREATING_XLSX_FILE || e == LXW_ERROR_CREATING_TMPFILE))
            return sifa_error_set(err, SIFA_EINTERNAL, "xlsx_failed", "生成 Excel 文件失败：%s（%s）",
                                  lxw_strerror(e), strerror(saved));
        return xlsx_error(err, e, "写文件");
    }
    return 0;
}

int sifa_table_write_xlsx(const struct sifa_table *t, const char *path, struct sifa_error *err)
{
    assert(path != NULL);
    int r = sifa_table_check(t, err);
    if (r < 0)
        return r;
    return xlsx_write(t, path, NULL, err);
}

/* Reads the whole file behind fd from offset 0. */
static int read_all(int fd, char **ret_buf, size_t *ret_len, struct sifa_error *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return sifa_error_set(err, SIFA_EINTERNAL, "xlsx_failed", "读取临时 Excel 文件失败：%s",
                              strerror(errno));
    if (st.st_size < 0 || (uintmax_t)st.st_size >= SIZE_MAX)
        return sifa_error_set(err, SIFA_EINTERNAL, "xlsx_failed", "临时 Excel 文件过大");
    size_t size = (size_t)st.st_size;
    char *buf = sifa_xmalloc(size);
    for (size_t done = 0; done < size;) {
        ssize_t n = pread(fd, buf + done, size - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = n < 0 ? errno : EIO;
            free(buf);
            return sifa_error_set(err, SIFA_EINTERNAL, "xlsx_failed", "读取临时 Excel 文件失败：%s",
                                  strerror(saved));
        }
        done += (size_t)n;
    }
    *ret_buf = buf;
    *ret_len = size;
    return 0;
}

int sifa_table_to_xlsx(const struct sifa_table *t, const char *tmpdir, char **ret_buf,
                       size_t *ret_len, struct sifa_error *err)
{
    assert(tmpdir != NULL);
    int r = sifa_table_check(t, err);
    if (r < 0)
        return r;
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/sifa-table-XXXXXX", tmpdir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return sifa_error_set(err, SIFA_EINTERNAL, "xlsx_failed", "临时目录路径过长");
    int fd = mkostemp(path, O_CLOEXEC); /* mode 0600 */
    if (fd < 0)
        return sifa_error_set(err, SIFA_EINTERNAL, "xlsx_failed", "无法在 %s 创建临时文件：%s", tmpdir,
                              strerror(errno));
    /* libxlsxwriter reopens path by name and truncates it; fd still names the same file, as no
     * one else can replace a 0600 file of ours in a sticky or private directory. */
    r = xlsx_write(t, path, tmpdir, err);
    if (r == 0)
        r = read_all(fd, ret_buf, ret_len, err);
    unlink(path);
    close(fd);
    return r;
}

/* ---- Streaming --------------------------------------------------------------------------------
 * A list export (every record of a search, up to a cap of ~10^5 rows) does not fit the table
 * above, which holds every cell in memory: rows go to the file as they come. CSV lines are
 * written through the same quoting and defusing as sifa_table_to_csv; XLSX uses libxlsxwriter's
 * constant-memory mode (each row is flushed to a temporary file when the next begins, strings
 * are stored inline instead of in sharedStrings.xml), so memory stays flat at any row count. */

struct sifa_table_stream {
    enum sifa_table_format format;
    size_t ncols;
    uint32_t rows;   /* data rows written */
    FILE *csv;       /* CSV */
    struct xlsx x;   /* XLSX */
    struct sifa_strbuf line; /* CSV: the line being built */
};

/* Cuts a text at SIFA_TABLE_MAX_TEXT_CHARS code points (Excel's cell limit), marking the cut with
 * "…". Returns s itself or a new string in *ret_owned. */
static const char *stream_text(const char *s, char **ret_owned)
{
    *ret_owned = NULL;
    size_t len = strlen(s), chars = 0, i = 0;
    while (i < len) {
        size_t n = sifa_utf8_decode((const unsigned char *)s + i, len - i, NULL);
        if (n == 0)
            n = 1; /* callers pass valid UTF-8; never loop on bad bytes */
        /* the last character that fits: keep it unless more follow (then "…" takes its place) */
        if (++chars == SIFA_TABLE_MAX_TEXT_CHARS && i + n < len) {
            char *cut = sifa_xmalloc(i + 4);
            memcpy(cut, s, i);
            memcpy(cut + i, "\xe2\x80\xa6", 4); /* "…" and the NUL */
            *ret_owned = cut;
            return cut;
        }
        i += n;
    }
    return s;
}

static int stream_io(struct sifa_error *err)
{
    return sifa_error_set(err, SIFA_EINTERNAL, "export_io", "写出导出文件失败：%s", strerror(errno));
}

int sifa_table_stream_open(const char *path, enum sifa_table_format format, const char *sheet_title, size_t ncols,
                           const char *const *headers, const char *tmpdir, struct sifa_table_stream **ret_stream,
                           struct sifa_error *err)
{
    assert(path != NULL && ncols >= 1 && headers != NULL);
    if (ncols > SIFA_TABLE_MAX_COLS)
        return sifa_error_set(err, SIFA_ELIMIT, "table_too_large", "列数超过 %u", SIFA_TABLE_MAX_COLS);
    struct sifa_table_stream *s = sifa_xcalloc(1, sizeof(*s));
    s->format = format;
    s->ncols = ncols;
    if (format == SIFA_TABLE_CSV) {
        s->csv = fopen(path, "we");
        if (s->csv == NULL) {
            int r = stream_io(err);
            sifa_table_stream_free(s);
            return r;
        }
        buf_str(&s->line, "\xef\xbb\xbf");
        for (size_t c = 0; c < ncols; c++) {
            if (c > 0)
                sifa_strbuf_add(&s->line, ",", 1);
            csv_text(&s->line, headers[c] ? headers[c] : "");
        }
        sifa_strbuf_add(&s->line, "\r\n", 2);
        if (fwrite(s->line.data, 1, s->line.len, s->csv) != s->line.len) {
            int r = stream_io(err);
            sifa_table_stream_free(s);
            return r;
        }
        *ret_stream = s;
        return 0;
    }
    lxw_workbook_options opts = {.constant_memory = LXW_TRUE, .tmpdir = (char *)tmpdir, .use_zip64 = LXW_TRUE};
    s->x.wb = workbook_new_opt(path, &opts);
    lxw_error e = LXW_ERROR_MEMORY_MALLOC_FAILED;
    if (s->x.wb == NULL || (s->x.ws = workbook_add_worksheet(s->x.wb, "数据")) == NULL)
        goto fail;
    lxw_doc_properties props = {.title = (char *)sheet_title};
    if (sheet_title != NULL && (e = workbook_set_properties(s->x.wb, &props)) != LXW_NO_ERROR)
        goto fail;
    s->x.header = xlsx_format(&s->x, true);
    s->x.text = xlsx_format(&s->x, false);
    s->x.integer = xlsx_format(&s->x, false);
    if (s->x.header == NULL || s->x.text == NULL || s->x.integer == NULL) {
        e = LXW_ERROR_MEMORY_MALLOC_FAILED;
        goto fail;
    }
    format_set_bold(s->x.header);
    format_set_align(s->x.header, LXW_ALIGN_CENTER);
    format_set_num_format(s->x.integer, "0");
    for (size_t c = 0; c < ncols; c++) {
        const char *h = headers[c] ? headers[c] : "";
        double w = text_width(h) + 4;
        w = w < XLSX_MIN_WIDTH ? XLSX_MIN_WIDTH : w > XLSX_MAX_WIDTH ? XLSX_MAX_WIDTH : w;
        if ((e = worksheet_set_column(s->x.ws, (lxw_col_t)c, (lxw_col_t)c, w, NULL)) != LXW_NO_ERROR ||
            (e = worksheet_write_string(s->x.ws, 0, (lxw_col_t)c, h, s->x.header)) != LXW_NO_ERROR)
            goto fail;
    }
    worksheet_freeze_panes(s->x.ws, 1, 0);
    *ret_stream = s;
    return 0;
fail:;
    int r = xlsx_error(err, e, "工作簿");
    sifa_table_stream_free(s);
    return r;
}

int sifa_table_stream_row(struct sifa_table_stream *s, const struct sifa_cell *cells, struct sifa_error *err)
{
    if (s->rows >= SIFA_TABLE_MAX_ROWS)
        return sifa_error_set(err, SIFA_ELIMIT, "table_too_large", "行数超过 %u", SIFA_TABLE_MAX_ROWS);
    if (s->format == SIFA_TABLE_CSV) {
        s->line.len = 0;
        for (size_t c = 0; c < s->ncols; c++) {
            if (c > 0)
                sifa_strbuf_add(&s->line, ",", 1);
            if (cells[c].kind == SIFA_CELL_TEXT) {
                char *owned;
                csv_text(&s->line, stream_text(cells[c].text, &owned));
                free(owned);
            } else {
                csv_cell(&s->line, &cells[c]);
            }
        }
        sifa_strbuf_add(&s->line, "\r\n", 2);
        if (fwrite(s->line.data, 1, s->line.len, s->csv) != s->line.len)
            return stream_io(err);
        s->rows++;
        return 0;
    }
    lxw_row_t row = s->rows + 1;
    for (size_t c = 0; c < s->ncols; c++) {
        const struct sifa_cell *cell = &cells[c];
        lxw_error e = LXW_NO_ERROR;
        char num[NUMBER_BUF];
        if (cell->kind == SIFA_CELL_TEXT) {
            char *owned;
            e = worksheet_write_string(s->x.ws, row, (lxw_col_t)c, stream_text(cell->text, &owned), NULL);
            free(owned);
        } else if (cell->kind == SIFA_CELL_INTEGER) {
            e = worksheet_write_number(s->x.ws, row, (lxw_col_t)c, (double)cell->integer, s->x.integer);
        } else if (cell->kind == SIFA_CELL_DECIMAL && decimal_text(cell, num) > 0) {
            lxw_format *f = xlsx_decimal_format(&s->x, cell->digits);
            e = f == NULL ? LXW_ERROR_MEMORY_MALLOC_FAILED
                          : worksheet_write_number(s->x.ws, row, (lxw_col_t)c, decimal_rounded(num), f);
        }
        if (e != LXW_NO_ERROR) {
            char where[64];
            snprintf(where, sizeof(where), "第 %u 行第 %zu 列", s->rows + 1, c + 1);
            return xlsx_error(err, e, where);
        }
    }
    s->rows++;
    return 0;
}

int sifa_table_stream_close(struct sifa_table_stream *s, struct sifa_error *err)
{
    int r = 0;
    if (s->format == SIFA_TABLE_CSV) {
        FILE *f = s->csv;
        s->csv = NULL;
        if (fclose(f) != 0)
            r = stream_io(err);
    } else {
        worksheet_autofilter(s->x.ws, 0, 0, s->rows, (lxw_col_t)(s->ncols - 1));
        lxw_workbook *wb = s->x.wb;
        s->x.wb = NULL;
        lxw_error e = workbook_close(wb); /* frees the workbook whatever happens */
        if (e != LXW_NO_ERROR)
            r = xlsx_error(err, e, "写文件");
    }
    sifa_table_stream_free(s);
    return r;
}

void sifa_table_stream_free(struct sifa_table_stream *s)
{
    if (s == NULL)
        return;
    if (s->csv != NULL)
        fclose(s->csv);
    if (s->x.wb != NULL)
        lxw_workbook_free(s->x.wb);
    free(s->line.data);
    free(s);
}
