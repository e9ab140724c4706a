/* test_table.c — unit tests for the statistics table (src/stats/table.c): building and replacing
 * cells, the exact bytes of a CSV export (BOM, padding, RFC 4180 quoting, decimals, formula
 * defusing, empty and non-finite cells), the JSON shape, and XLSX files checked from the outside:
 * python3's zipfile and xml.etree read the shared strings, merges, cell values, number formats,
 * sheet name and page setup, and print "OK". Also the limits (columns, rows, text length),
 * invalid UTF-8, and I/O failures. Files live in a mkdtemp directory removed by each test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/common.h"

#include "stats/table.h"

#define TITLE "慈溪市行政执法行为数据统计月报"
#define SUBTITLE "统计期间:2021年7月  单位:慈溪市司法局"
#define NOTE "注：数据来源于行政执法监督平台"

/* ---- helpers ---- */

struct tmp {
    char path[64];
};

static void tmp_make(struct tmp *d)
{
    snprintf(d->path, sizeof(d->path), "/tmp/sifa_test_table.XXXXXX");
    assert_non_null(mkdtemp(d->path));
}

static size_t tmp_count(const struct tmp *d)
{
    DIR *dir = opendir(d->path);
    assert_non_null(dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(dir);
    return n;
}

static void tmp_remove(struct tmp *d)
{
    DIR *dir = opendir(d->path);
    assert_non_null(dir);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", d->path, e->d_name);
        unlink(p);
    }
    closedir(dir);
    rmdir(d->path);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* The sample: four columns, four rows, every kind of cell and every CSV special case. */
static struct sifa_table *sample(void)
{
    struct sifa_table *t = sifa_table_new(TITLE, 4);
    sifa_table_set_subtitle(t, SUBTITLE);
    sifa_table_set_note(t, NOTE);
    sifa_table_set_header(t, 0, "执法单位", NULL);
    sifa_table_set_header(t, 1, "案件数", "件");
    sifa_table_set_header(t, 2, "罚没金额", "万元");
    sifa_table_set_header(t, 3, "备注", "");

    size_t r = sifa_table_add_row(t);
    assert_int_equal(r, 0);
    sifa_table_set_text(t, r, 0, "市场监管局");
    sifa_table_set_integer(t, r, 1, 1234);
    sifa_table_set_decimal(t, r, 2, 3.456, 2);
    sifa_table_set_text(t, r, 3, "含,逗号");

    r = sifa_table_add_row(t);
    sifa_table_set_text(t, r, 0, "=SUM(A1:A9)");
    sifa_table_set_integer(t, r, 1, -5);
    sifa_table_set_decimal(t, r, 2, -0.001, 2); /* rounds to zero: no "-0.00" */
    sifa_table_set_text(t, r, 3, "他说\"好\"\n换行");

    r = sifa_table_add_row(t);
    sifa_table_set_text(t, r, 0, "-12"); /* a number: left alone */
    /* column 1 stays EMPTY */
    sifa_table_set_decimal(t, r, 2, NAN, 2);
    sifa_table_set_text(t, r, 3, "@cmd");

    r = sifa_table_add_row(t);
    sifa_table_set_text(t, r, 0, "+86 138");
    sifa_table_set_integer(t, r, 1, 0);
    sifa_table_set_decimal(t, r, 2, 1234567.891, 1);
    sifa_table_set_text(t, r, 3, "=HYPERLINK(\"x\",\"y\")");
    return t;
}

static const char SAMPLE_CSV[] =
    "\xef\xbb\xbf" TITLE ",,,\r\n"
    SUBTITLE ",,,\r\n"
    "执法单位,案件数(件),罚没金额(万元),备注\r\n"
    "市场监管局,1234,3.46,\"含,逗号\"\r\n"
    "'=SUM(A1:A9),-5,0.00,\"他说\"\"好\"\"\n换行\"\r\n"
    "-12,,,'@cmd\r\n"
    "'+86 138,0,1234567.9,\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"\r\n"
    NOTE ",,,\r\n";

static void expect_error(const struct sifa_error *err, int rc, int status, const char *code)
{
    assert_int_equal(rc, status);
    assert_int_equal(err->status, status);
    assert_string_equal(err->code, code);
    assert_true(strlen(err->message) > 0);
    json_t *msg = json_string(err->message); /* valid UTF-8 */
    assert_non_null(msg);
    json_decref(msg);
}

/* Runs python3 on script with the given argument and returns its whole stdout (new). */
static char *run_python(const struct tmp *d, const char *script, const char *arg)
{
    char script_path[128], cmd[512];
    snprintf(script_path, sizeof(script_path), "%s/check.py", d->path);
    write_file(script_path, script, strlen(script));
    snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' 2>&1", script_path, arg);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *out = sifa_xcalloc(1, 8192);
    size_t n = fread(out, 1, 8191, p);
    out[n] = '\0';
    pclose(p);
    unlink(script_path);
    return out;
}

/* Checks the sample's XLSX from the outside. */
static const char CHECK_SAMPLE_PY[] =
    "import sys, zipfile, xml.etree.ElementTree as ET\n"
    "NS = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}\n"
    "z = zipfile.ZipFile(sys.argv[1])\n"
    "sst = [''.join(si.itertext()) for si in ET.fromstring(z.read('xl/sharedStrings.xml')).findall('m:si', NS)]\n"
    "assert '" TITLE "' in sst, sst\n"
    "assert '" SUBTITLE "' in sst, sst\n"
    "assert '案件数(件)' in sst and '罚没金额(万元)' in sst and '备注' in sst, sst\n"
    "assert '=SUM(A1:A9)' in sst, sst  # text, not defused: XLSX has typed cells\n"
    "sheet = ET.fromstring(z.read('xl/worksheets/sheet1.xml'))\n"
    "merges = sorted(m.get('ref') for m in sheet.findall('m:mergeCells/m:mergeCell', NS))\n"
    "assert merges == ['A1:D1', 'A2:D2', 'A8:D8'], merges\n"
    "cells = {}\n"
    "for c in sheet.iter('{%s}c' % NS['m']):\n"
    "    v = c.find('m:v', NS)\n"
    "    assert c.find('m:f', NS) is None, 'formula in ' + c.get('r')\n"
    "    if v is None: cells[c.get('r')] = None\n"
    "    elif c.get('t') == 's': cells[c.get('r')] = sst[int(v.text)]\n"
    "    else: cells[c.get('r')] = float(v.text)\n"
    "assert cells['A1'] == '" TITLE "', cells['A1']\n"
    "assert cells['C3'] == '罚没金额(万元)'\n"
    "assert cells['A4'] == '市场监管局'\n"
    "assert cells['B4'] == 1234 and cells['C4'] == 3.46, (cells['B4'], cells['C4'])\n"
    "assert cells['A5'] == '=SUM(A1:A9)' and cells['B5'] == -5 and cells['C5'] == 0\n"
    "assert cells['D5'] == '他说\"好\"\\n换行', cells['D5']\n"
    "assert cells['B6'] is None and cells['C6'] is None  # empty and NaN: blank, bordered\n"
    "assert cells['C7'] == 1234567.9, cells['C7']\n"
    "assert cells['A8'] == '" NOTE "'\n"
    "styles = ET.fromstring(z.read('xl/styles.xml'))\n"
    "fmts = {n.get('numFmtId'): n.get('formatCode') for n in styles.findall('m:numFmts/m:numFmt', NS)}\n"
    "xfs = styles.findall('m:cellXfs/m:xf', NS)\n"
    "def fmt(ref):\n"
    "    c = [c for c in sheet.iter('{%s}c' % NS['m']) if c.get('r') == ref][0]\n"
    "    nid = xfs[int(c.get('s', '0'))].get('numFmtId')\n"
    "    return fmts.get(nid, {'3': '#,##0', '4': '#,##0.00'}.get(nid, nid))\n"
    "assert fmt('B4') == '#,##0', fmt('B4')\n"
    "assert fmt('C4') == '#,##0.00', fmt('C4')\n"
    "assert fmt('C7') == '#,##0.0', fmt('C7')\n"
    "fonts = styles.findall('m:fonts/m:font', NS)\n"
    "tf = fonts[int(xfs[int([c for c in sheet.iter('{%s}c' % NS['m']) if c.get('r') == 'A1'][0].get('s'))].get('fontId'))]\n"
    "assert tf.find('m:b', NS) is not None and tf.find('m:sz', NS).get('val') == '16'\n"
    "ps = sheet.find('m:pageSetup', NS)\n"
    "assert ps.get('orientation') == 'landscape' and ps.get('paperSize') == '9', ps.attrib\n"
    "wb = ET.fromstring(z.read('xl/workbook.xml'))\n"
    "names = [s.get('name') for s in wb.findall('m:sheets/m:sheet', NS)]\n"
    "assert names == ['统计表'], names\n"
    "cols = sheet.findall('m:cols/m:col', NS)\n"
    "assert len(cols) == 4 and float(cols[0].get('width')) >= 14, [c.attrib for c in cols]\n"
    "print('OK')\n";

static void check_sample_xlsx(const struct tmp *d, const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 4);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char magic[4];
    assert_int_equal(fread(magic, 1, 4, f), 4);
    fclose(f);
    assert_memory_equal(magic, "PK\x03\x04", 4);
    char *out = run_python(d, CHECK_SAMPLE_PY, path);
    if (strcmp(out, "OK\n") != 0)
        fail_msg("python check of %s: %s", path, out);
    free(out);
}

/* ---- building ---- */

static void test_build(void **state)
{
    (void)state;
    struct sifa_table *t = sifa_table_new("T", 2);
    assert_string_equal(t->title, "T");
    assert_int_equal(t->ncols, 2);
    assert_null(t->headers[0]);
    assert_null(t->units[1]);
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(sifa_table_add_row(t), i);
    assert_int_equal(t->nrows, 100);
    assert_true(t->cap >= 100);
    for (size_t i = 0; i < 200; i++) {
        assert_int_equal(t->cells[i].kind, SIFA_CELL_EMPTY);
        assert_null(t->cells[i].text);
    }

    /* Replacing: text by text (even by itself), by a number, by NULL (EMPTY). */
    sifa_table_set_text(t, 99, 1, "一");
    sifa_table_set_text(t, 99, 1, t->cells[99 * 2 + 1].text);
    assert_string_equal(t->cells[99 * 2 + 1].text, "一");
    sifa_table_set_integer(t, 99, 1, 7);
    assert_int_equal(t->cells[99 * 2 + 1].kind, SIFA_CELL_INTEGER);
    assert_null(t->cells[99 * 2 + 1].text);
    sifa_table_set_text(t, 99, 1, "二");
    sifa_table_set_text(t, 99, 1, NULL);
    assert_int_equal(t->cells[99 * 2 + 1].kind, SIFA_CELL_EMPTY);
    assert_null(t->cells[99 * 2 + 1].text);

    /* Digits are clamped. */
    sifa_table_set_decimal(t, 0, 0, 1.5, -3);
    assert_int_equal(t->cells[0].digits, 0);
    sifa_table_set_decimal(t, 0, 0, 1.5, 99);
    assert_int_equal(t->cells[0].digits, SIFA_TABLE_MAX_DIGITS);

    /* "" removes a subtitle, a note, a unit; a string may be replaced by itself. */
    sifa_table_set_subtitle(t, "副");
    sifa_table_set_subtitle(t, t->subtitle);
    assert_string_equal(t->subtitle, "副");
    sifa_table_set_subtitle(t, "");
    assert_null(t->subtitle);
    sifa_table_set_note(t, "注");
    sifa_table_set_note(t, NULL);
    assert_null(t->note);
    sifa_table_set_header(t, 1, "名", "");
    assert_string_equal(t->headers[1], "名");
    assert_null(t->units[1]);
    sifa_table_free(t);
    sifa_table_free(NULL);
}

/* ---- CSV ---- */

static void test_csv_sample(void **state)
{
    (void)state;
    struct sifa_table *t = sample();
    struct sifa_error err = {0};
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(sifa_table_to_csv(t, &buf, &len, &err), 0);
    assert_int_equal(len, strlen(SAMPLE_CSV));
    assert_string_equal(buf, SAMPLE_CSV);
    assert_int_equal(buf[len], '\0');
    free(buf);
    sifa_table_free(t);
}

static void test_csv_minimal(void **state)
{
    (void)state;
    /* One column, no subtitle, no note, no header name, no rows. */
    struct sifa_table *t = sifa_table_new("", 1);
    char *buf;
    size_t len;
    assert_int_equal(sifa_table_to_csv(t, &buf, &len, NULL), 0);
    assert_string_equal(buf, "\xef\xbb\xbf\r\n\r\n");
    free(buf);

    sifa_table_free(t);

    /* Defusing also applies to titles and headers; plain numbers are left alone. */
    t = sifa_table_new("=cmd", 1);
    sifa_table_set_header(t, 0, "-", "件");
    const char *texts[] = {"+1.5e3", "\t制表", "-.5", "-1e", "\r", ""};
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(texts); i++)
        sifa_table_set_text(t, sifa_table_add_row(t), 0, texts[i]);
    sifa_table_set_decimal(t, sifa_table_add_row(t), 0, INFINITY, 2);
    sifa_table_set_decimal(t, sifa_table_add_row(t), 0, -2.5e-7, 0);
    sifa_table_set_integer(t, sifa_table_add_row(t), 0, INT64_MIN);
    assert_int_equal(sifa_table_to_csv(t, &buf, &len, NULL), 0);
    assert_string_equal(buf, "\xef\xbb\xbf'=cmd\r\n"
                             "'-(件)\r\n"
                             "+1.5e3\r\n"
                             "'\t制表\r\n"
                             "-.5\r\n"
                             "'-1e\r\n"
                             "\"'\r\"\r\n"
                             "\r\n"
                             "\r\n"
                             "0\r\n"
                             "-9223372036854775808\r\n");
    free(buf);
    sifa_table_free(t);
}

/* ---- JSON ---- */

static void test_json(void **state)
{
    (void)state;
    struct sifa_table *t = sample();
    json_t *j = sifa_table_to_json(t);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 5);
    assert_string_equal(json_string_value(json_object_get(j, "title")), TITLE);
    assert_string_equal(json_string_value(json_object_get(j, "subtitle")), SUBTITLE);
    assert_string_equal(json_string_value(json_object_get(j, "note")), NOTE);

    json_t *cols = json_object_get(j, "columns");
    assert_int_equal(json_array_size(cols), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 0), "name")), "执法单位");
    assert_true(json_is_null(json_object_get(json_array_get(cols, 0), "unit")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 2), "unit")), "万元");
    assert_true(json_is_null(json_object_get(json_array_get(cols, 3), "unit")));

    json_t *rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), 4);
    json_t *r0 = json_array_get(rows, 0), *r1 = json_array_get(rows, 1);
    json_t *r2 = json_array_get(rows, 2), *r3 = json_array_get(rows, 3);
    assert_int_equal(json_array_size(r0), 4);
    assert_string_equal(json_string_value(json_array_get(r0, 0)), "市场监管局");
    assert_true(json_is_integer(json_array_get(r0, 1)));
    assert_int_equal(json_integer_value(json_array_get(r0, 1)), 1234);
    assert_true(json_is_real(json_array_get(r0, 2)));
    assert_true(json_real_value(json_array_get(r0, 2)) == 3.46);
    assert_string_equal(json_string_value(json_array_get(r1, 0)), "=SUM(A1:A9)"); /* not defused */
    assert_true(json_real_value(json_array_get(r1, 2)) == 0.0);
    assert_false(signbit(json_real_value(json_array_get(r1, 2))));
    assert_true(json_is_null(json_array_get(r2, 1)));  /* EMPTY */
    assert_true(json_is_null(json_array_get(r2, 2)));  /* NaN */
    assert_true(json_real_value(json_array_get(r3, 2)) == 1234567.9);
    json_decref(j);

    /* No subtitle, no note: null. */
    sifa_table_set_subtitle(t, NULL);
    sifa_table_set_note(t, NULL);
    j = sifa_table_to_json(t);
    assert_true(json_is_null(json_object_get(j, "subtitle")));
    assert_true(json_is_null(json_object_get(j, "note")));
    json_decref(j);
    sifa_table_free(t);
}

/* ---- XLSX ---- */

static void test_xlsx_file(void **state)
{
    (void)state;
    struct tmp d;
    tmp_make(&d);
    char path[128];
    snprintf(path, sizeof(path), "%s/sample.xlsx", d.path);
    struct sifa_table *t = sample();
    struct sifa_error err = {0};
    if (sifa_table_write_xlsx(t, path, &err) < 0)
        fail_msg("write_xlsx: %s %s", err.code, err.message);
    check_sample_xlsx(&d, path);
    sifa_table_free(t);
    tmp_remove(&d);
}

static void test_xlsx_memory(void **state)
{
    (void)state;
    struct tmp d;
    tmp_make(&d);
    struct sifa_table *t = sample();
    struct sifa_error err = {0};
    char *buf = NULL;
    size_t len = 0;
    if (sifa_table_to_xlsx(t, d.path, &buf, &len, &err) < 0)
        fail_msg("to_xlsx: %s %s", err.code, err.message);
    assert_int_equal(tmp_count(&d), 0); /* the temporary file is gone */
    assert_true(len > 1000);
    assert_memory_equal(buf, "PK\x03\x04", 4);
    char path[128];
    snprintf(path, sizeof(path), "%s/copy.xlsx", d.path);
    write_file(path, buf, len);
    free(buf);
    check_sample_xlsx(&d, path);
    sifa_table_free(t);
    tmp_remove(&d);
}

static const char CHECK_ONE_COLUMN_PY[] =
    "import sys, zipfile, xml.etree.ElementTree as ET\n"
    "NS = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}\n"
    "z = zipfile.ZipFile(sys.argv[1])\n"
    "sst = [''.join(si.itertext()) for si in ET.fromstring(z.read('xl/sharedStrings.xml')).findall('m:si', NS)]\n"
    "sheet = ET.fromstring(z.read('xl/worksheets/sheet1.xml'))\n"
    "assert sheet.find('m:mergeCells', NS) is None\n"
    "cells = {c.get('r'): c for c in sheet.iter('{%s}c' % NS['m'])}\n"
    "assert sst[int(cells['A1'].find('m:v', NS).text)] == '合计'\n"
    "assert sst[int(cells['A3'].find('m:v', NS).text)] == '(件)'\n"
    "assert cells['A4'].find('m:v', NS).text == '42'\n"
    "assert sst[int(cells['A5'].find('m:v', NS).text)] == '控制_x0001_字符'  # Excel shows U+0001\n"
    "assert sst[int(cells['A6'].find('m:v', NS).text)] == '注一\\n注二'\n"
    "print('OK')\n";

static void test_xlsx_one_column(void **state)
{
    (void)state;
    struct tmp d;
    tmp_make(&d);
    char path[128];
    snprintf(path, sizeof(path), "%s/one.xlsx", d.path);
    /* One column: nothing to merge (Excel refuses single-cell merges). A control character is
     * libxlsxwriter's to escape; a header with only a unit reads "(件)". */
    struct sifa_table *t = sifa_table_new("合计", 1);
    sifa_table_set_subtitle(t, "副标题");
    sifa_table_set_note(t, "注一\n注二");
    sifa_table_set_header(t, 0, NULL, "件");
    sifa_table_set_integer(t, sifa_table_add_row(t), 0, 42);
    sifa_table_set_text(t, sifa_table_add_row(t), 0, "控制\x01字符");
    struct sifa_error err = {0};
    if (sifa_table_write_xlsx(t, path, &err) < 0)
        fail_msg("write_xlsx: %s %s", err.code, err.message);
    char *out = run_python(&d, CHECK_ONE_COLUMN_PY, path);
    if (strcmp(out, "OK\n") != 0)
        fail_msg("python check: %s", out);
    free(out);
    sifa_table_free(t);
    tmp_remove(&d);
}

static void test_xlsx_io_errors(void **state)
{
    (void)state;
    struct tmp d;
    tmp_make(&d);
    struct sifa_table *t = sample();
    struct sifa_error err = {0};
    char path[128];
    snprintf(path, sizeof(path), "%s/no/such/dir/x.xlsx", d.path);
    expect_error(&err, sifa_table_write_xlsx(t, path, &err), SIFA_EINTERNAL, "xlsx_failed");
    sifa_error_release(&err);

    char *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/missing", d.path);
    expect_error(&err, sifa_table_to_xlsx(t, path, &buf, &len, &err), SIFA_EINTERNAL, "xlsx_failed");
    assert_null(buf);
    assert_int_equal(len, 0);
    sifa_error_release(&err);
    assert_int_equal(tmp_count(&d), 0);
    sifa_table_free(t);
    tmp_remove(&d);
}

/* ---- limits and bad text ---- */

/* Every exporter refuses t with status and code, writes no file and returns nothing. */
static void expect_refused(struct sifa_table *t, int status, const char *code)
{
    struct tmp d;
    tmp_make(&d);
    struct sifa_error err = {0};
    expect_error(&err, sifa_table_check(t, &err), status, code);
    sifa_error_release(&err);

    char *buf = NULL;
    size_t len = 0;
    expect_error(&err, sifa_table_to_csv(t, &buf, &len, &err), status, code);
    sifa_error_release(&err);
    expect_error(&err, sifa_table_to_xlsx(t, d.path, &buf, &len, &err), status, code);
    sifa_error_release(&err);
    assert_null(buf);
    assert_int_equal(len, 0);

    char path[128];
    snprintf(path, sizeof(path), "%s/x.xlsx", d.path);
    expect_error(&err, sifa_table_write_xlsx(t, path, &err), status, code);
    sifa_error_release(&err);
    assert_int_equal(tmp_count(&d), 0);
    assert_null(sifa_table_to_json(t));
    tmp_remove(&d);
}

static void test_limit_columns(void **state)
{
    (void)state;
    struct sifa_table *t = sifa_table_new("宽表", SIFA_TABLE_MAX_COLS);
    assert_int_equal(sifa_table_check(t, NULL), 0);
    sifa_table_free(t);
    t = sifa_table_new("宽表", SIFA_TABLE_MAX_COLS + 1);
    sifa_table_add_row(t);
    expect_refused(t, SIFA_ELIMIT, "table_too_large");
    sifa_table_free(t);
}

static void test_limit_rows(void **state)
{
    (void)state;
    /* Without allocating a million rows: nrows is set by hand to one past the limit. The check
     * looks at nrows before any cell, so cells (NULL here) are never read; nrows is put back
     * before sifa_table_free, which walks the cells. */
    struct sifa_table *t = sifa_table_new("长表", 3);
    t->nrows = SIFA_TABLE_MAX_ROWS + 1;
    expect_refused(t, SIFA_ELIMIT, "table_too_large");
    t->nrows = 0;
    sifa_table_free(t);
}

static void test_limit_text(void **state)
{
    (void)state;
    char *s = sifa_xmalloc(SIFA_TABLE_MAX_TEXT_CHARS + 2);
    memset(s, 'a', SIFA_TABLE_MAX_TEXT_CHARS);
    s[SIFA_TABLE_MAX_TEXT_CHARS] = '\0';

    struct sifa_table *t = sifa_table_new("文字", 2);
    size_t r = sifa_table_add_row(t);
    sifa_table_set_text(t, r, 1, s); /* exactly the limit */
    assert_int_equal(sifa_table_check(t, NULL), 0);
    s[SIFA_TABLE_MAX_TEXT_CHARS] = 'a';
    s[SIFA_TABLE_MAX_TEXT_CHARS + 1] = '\0';
    sifa_table_set_text(t, r, 1, s); /* one over */
    expect_refused(t, SIFA_ELIMIT, "table_too_large");
    struct sifa_error err = {0};
    sifa_table_check(t, &err);
    assert_non_null(strstr(err.message, "第 1 行第 2 列"));
    sifa_error_release(&err);
    sifa_table_set_text(t, r, 1, "ok");

    /* A header with its unit: name + "(" + unit + ")" counts. */
    s[SIFA_TABLE_MAX_TEXT_CHARS - 3] = '\0';
    sifa_table_set_header(t, 0, s, "件"); /* 32764 + 3 = 32767 */
    assert_int_equal(sifa_table_check(t, NULL), 0);
    s[SIFA_TABLE_MAX_TEXT_CHARS - 3] = 'a';
    s[SIFA_TABLE_MAX_TEXT_CHARS - 2] = '\0';
    sifa_table_set_header(t, 0, s, "件");
    expect_refused(t, SIFA_ELIMIT, "table_too_large");
    sifa_table_check(t, &err);
    assert_non_null(strstr(err.message, "第 1 列表头"));
    sifa_error_release(&err);
    sifa_table_free(t);
    free(s);
}

static void test_bad_text(void **state)
{
    (void)state;
    const char *bad[] = {"\xff", "半个\xe4\xb8", "\xef\xbf\xbf", "\xef\xbf\xbe", "\xed\xa0\x80"};
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(bad); i++) {
        struct sifa_table *t = sifa_table_new("好", 2);
        sifa_table_set_text(t, sifa_table_add_row(t), 1, bad[i]);
        expect_refused(t, SIFA_EINVALID, "table_bad_text");
        sifa_table_free(t);

        t = sifa_table_new("好", 2);
        switch (i % 4) {
        case 0: sifa_table_set_note(t, bad[i]); break;
        case 1: sifa_table_set_header(t, 1, "名", bad[i]); break;
        case 2: sifa_table_set_subtitle(t, bad[i]); break;
        default: sifa_table_free(t); t = sifa_table_new(bad[i], 2); break;
        }
        expect_refused(t, SIFA_EINVALID, "table_bad_text");
        sifa_table_free(t);
    }
}

/* ---- streaming ---- */

static char *slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = sifa_xcalloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    *ret_len = n;
    return buf;
}

static void stream_rows(const char *path, enum sifa_table_format format)
{
    static const char *const headers[] = {"编号", "名称", "金额(元)", "备注"};
    struct sifa_error err = {0};
    struct sifa_table_stream *s = NULL;
    if (sifa_table_stream_open(path, format, "测试", 4, headers, NULL, &s, &err) < 0)
        fail_msg("stream_open: %s %s", err.code, err.message);
    struct sifa_cell row[4] = {
        {.kind = SIFA_CELL_INTEGER, .integer = 7},
        {.kind = SIFA_CELL_TEXT, .text = (char *)"张三(申请人); 李四,\"乙\""},
        {.kind = SIFA_CELL_DECIMAL, .decimal = 1234.5, .digits = 2},
        {.kind = SIFA_CELL_TEXT, .text = (char *)"=SUM(A1)"},
    };
    assert_int_equal(sifa_table_stream_row(s, row, &err), 0);
    struct sifa_cell empty[4] = {{.kind = SIFA_CELL_INTEGER, .integer = 8}};
    assert_int_equal(sifa_table_stream_row(s, empty, &err), 0);
    assert_int_equal(sifa_table_stream_close(s, &err), 0);
}

static void test_stream_csv(void **state)
{
    (void)state;
    struct tmp d;
    tmp_make(&d);
    char path[128];
    snprintf(path, sizeof(path), "%s/stream.csv", d.path);
    stream_rows(path, SIFA_TABLE_CSV);
    size_t len;
    char *got = slurp(path, &len);
    assert_string_equal(got, "\xef\xbb\xbf"
                             "编号,名称,金额(元),备注\r\n"
                             "7,\"张三(申请人); 李四,\"\"乙\"\"\",1234.50,'=SUM(A1)\r\n"
                             "8,,,\r\n");
    free(got);
    unlink(path);
    tmp_remove(&d);
}

/* A streamed text of exactly the cell limit is written whole; one character more and it is cut
 * to the limit, its last character replaced by "…". Multi-byte characters are counted as one. */
static void stream_one_text(const char *path, const char *text)
{
    static const char *const headers[] = {"备注"};
    struct sifa_error err = {0};
    struct sifa_table_stream *s = NULL;
    assert_int_equal(sifa_table_stream_open(path, SIFA_TABLE_CSV, "测试", 1, headers, NULL, &s, &err), 0);
    struct sifa_cell row[1] = {{.kind = SIFA_CELL_TEXT, .text = (char *)text}};
    assert_int_equal(sifa_table_stream_row(s, row, &err), 0);
    assert_int_equal(sifa_table_stream_close(s, &err), 0);
}

static void test_stream_text_at_the_limit(void **state)
{
    (void)state;
    struct tmp d;
    tmp_make(&d);
    char path[128];
    snprintf(path, sizeof(path), "%s/limit.csv", d.path);
    const size_t head = strlen("\xef\xbb\xbf" "备注\r\n");
    size_t max = SIFA_TABLE_MAX_TEXT_CHARS;
    char *text = sifa_xmalloc(3 * (max + 1) + 1); /* "调" is 3 bytes */
    for (size_t i = 0; i <= max; i++)
        memcpy(text + 3 * i, "调", 3);
    text[3 * max] = '\0'; /* exactly the limit */
    stream_one_text(path, text);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *got = sifa_xcalloc(1, 3 * max + 64);
    size_t n = fread(got, 1, 3 * max + 63, f);
    fclose(f);
    assert_int_equal(n, head + 3 * max + 2);
    assert_memory_equal(got + head, text, 3 * max);
    assert_memory_equal(got + head + 3 * max, "\r\n", 2);

    memcpy(text + 3 * max, "调", 4); /* one more, and the NUL */
    stream_one_text(path, text);
    f = fopen(path, "rb");
    assert_non_null(f);
    n = fread(got, 1, 3 * max + 63, f);
    fclose(f);
    assert_int_equal(n, head + 3 * (max - 1) + 3 + 2); /* max - 1 characters, "…", CRLF */
    assert_memory_equal(got + head, text, 3 * (max - 1));
    assert_memory_equal(got + head + 3 * (max - 1), "\xe2\x80\xa6\r\n", 5);
    free(got);
    free(text);
    unlink(path);
    tmp_remove(&d);
}

static const char CHECK_STREAM_PY[] =
    "import sys, zipfile, xml.etree.ElementTree as ET\n"
    "NS = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}\n"
    "z = zipfile.ZipFile(sys.argv[1])\n"
    "sheet = ET.fromstring(z.read('xl/worksheets/sheet1.xml'))\n"
    "cells = {}\n"
    "for c in sheet.iter('{%s}c' % NS['m']):\n"
    "    if c.get('t') == 'inlineStr': cells[c.get('r')] = ''.join(c.find('m:is', NS).itertext())\n"
    "    else: cells[c.get('r')] = float(c.find('m:v', NS).text)\n"
    "assert cells['A1'] == '编号' and cells['D1'] == '备注', cells\n"
    "assert cells['A2'] == 7 and cells['C2'] == 1234.5, cells\n"
    "assert cells['B2'] == '张三(申请人); 李四,\"乙\"' and cells['D2'] == '=SUM(A1)', cells\n"
    "assert cells['A3'] == 8 and 'B3' not in cells, cells\n"
    "assert sheet.find('m:autoFilter', NS).get('ref') == 'A1:D3'\n"
    "print('OK')\n";

static void test_stream_xlsx(void **state)
{
    (void)state;
    struct tmp d;
    tmp_make(&d);
    char path[128];
    snprintf(path, sizeof(path), "%s/stream.xlsx", d.path);
    stream_rows(path, SIFA_TABLE_XLSX);
    char *out = run_python(&d, CHECK_STREAM_PY, path);
    if (strcmp(out, "OK\n") != 0)
        fail_msg("python check of %s: %s", path, out);
    free(out);
    unlink(path);
    tmp_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build),          cmocka_unit_test(test_csv_sample),
        cmocka_unit_test(test_csv_minimal),    cmocka_unit_test(test_json),
        cmocka_unit_test(test_xlsx_file),      cmocka_unit_test(test_xlsx_memory),
        cmocka_unit_test(test_xlsx_one_column), cmocka_unit_test(test_xlsx_io_errors),
        cmocka_unit_test(test_limit_columns),  cmocka_unit_test(test_limit_rows),
        cmocka_unit_test(test_limit_text),     cmocka_unit_test(test_bad_text),
        cmocka_unit_test(test_stream_csv),     cmocka_unit_test(test_stream_xlsx),
        cmocka_unit_test(test_stream_text_at_the_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
