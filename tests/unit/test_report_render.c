/* test_report_render.c — unit tests for the DOCX, PDF and HTML renderers of the report document model
 * (src/report/docx.c, src/report/pdf.c), checked from the outside: python3's zipfile and
 * xml.etree read every part of the DOCX (texts in order, escaping, styles, page setup, the PAGE
 * field in the footer); pdftotext, pdfinfo and pdftoppm (poppler-utils) read the PDF (texts,
 * figures, page numbers, page count and size, title, the red of a missing figure). Also odd text
 * (control characters, invalid UTF-8), the empty document, reproducible DOCX bytes, four threads
 * rendering at once, and the limits; in HTML, the tooltips that tell a figure without data from one
 * the caller may not read. Files live in a mkdtemp directory removed by each test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/common.h"

#include "report/report.h"

#define TITLE "关于2021年度法治政府建设情况的报告"
#define ADDRESSEE "市委、市政府："
#define HEADING1 "一、主要举措和成效"
#define HEADING2 "（一）深化行政执法监督"
#define HEADING3 "1.执法案件数量稳步增长"
#define PARA_BEFORE "全年办理执法案件"
#define FIGURE "12033"
#define PARA_MIDDLE "件，复议"
#define MISSING "【无数据】"
#define PARA_AFTER "件。"
#define SPECIAL "符号 a<b & c>d \"引号\" 'x'"
#define SIGNATURE "慈溪市司法局"
#define DATE "2022年1月10日"

/* Under ASan: full stacks for every allocation, so that tests/unit/lsan.supp can name the two
 * leaking library functions (cairo 1.16, fontconfig 2.14) instead of whole libraries; libcairo and
 * libfontconfig have no frame pointers for the fast unwinder. */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
__attribute__((used)) const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
#endif

/* ---- helpers ---- */

struct tmp {
    char path[64];
};

static void tmp_make(struct tmp *d)
{
    snprintf(d->path, sizeof(d->path), "/tmp/sifa_test_render.XXXXXX");
    assert_non_null(mkdtemp(d->path));
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

/* Runs cmd through the shell and returns its whole stdout and stderr (new). */
static char *run(const char *cmd)
{
    char full[1024];
    snprintf(full, sizeof(full), "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t cap = 65536, len = 0;
    char *out = sifa_xmalloc(cap);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (len + 1 == cap) {
            cap *= 2;
            out = sifa_xrealloc(out, cap);
        }
    }
    out[len] = '\0';
    pclose(p);
    return out;
}

/* Runs python3 on script with the given argument; fails unless it prints exactly "OK". */
static void run_python(const struct tmp *d, const char *script, const char *arg)
{
    char script_path[128], cmd[512];
    snprintf(script_path, sizeof(script_path), "%s/check.py", d->path);
    write_file(script_path, script, strlen(script));
    snprintf(cmd, sizeof(cmd), "python3 '%s' '%s'", script_path, arg);
    char *out = run(cmd);
    unlink(script_path);
    if (strcmp(out, "OK\n") != 0)
        fail_msg("python check of %s: %s", arg, out);
    free(out);
}

/* The sample: every block kind, a figure, a missing figure, the XML special characters. */
static struct sifa_doc *sample(void)
{
    struct sifa_doc *doc = sifa_doc_new(TITLE);
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_TITLE), TITLE);
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_ADDRESSEE), ADDRESSEE);
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_HEADING1), HEADING1);
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_HEADING2), HEADING2);
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_HEADING3), HEADING3);
    struct sifa_doc_block *b = sifa_doc_add_block(doc, SIFA_BLOCK_PARAGRAPH);
    sifa_doc_add_text(b, PARA_BEFORE);
    sifa_doc_add_figure(b, FIGURE, "case_total", "/api/v1/records?module=case&year=2021", false);
    sifa_doc_add_text(b, PARA_MIDDLE);
    sifa_doc_add_figure(b, MISSING, "review_total", NULL, true);
    sifa_doc_add_text(b, PARA_AFTER);
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_PARAGRAPH), SPECIAL);
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_SIGNATURE), SIGNATURE);
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_DATE), DATE);
    return doc;
}

static void render_docx(const struct sifa_doc *doc, const char *path)
{
    struct sifa_error err = {0};
    char *buf = NULL;
    size_t len = 0;
    if (sifa_doc_to_docx(doc, &buf, &len, &err) < 0)
        fail_msg("to_docx: %s %s", err.code, err.message);
    assert_true(len > 4);
    assert_memory_equal(buf, "PK\x03\x04", 4);
    write_file(path, buf, len);
    free(buf);
}

static void render_pdf(const struct sifa_doc *doc, const char *path)
{
    struct sifa_error err = {0};
    char *buf = NULL;
    size_t len = 0;
    if (sifa_doc_to_pdf(doc, &buf, &len, &err) < 0)
        fail_msg("to_pdf: %s %s", err.code, err.message);
    assert_true(len > 5);
    assert_memory_equal(buf, "%PDF-", 5);
    write_file(path, buf, len);
    free(buf);
}

/* pdftotext -layout of path (new). */
static char *pdf_text(const char *path)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "pdftotext -layout -enc UTF-8 '%s' -", path);
    return run(cmd);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL)
        fail_msg("\"%s\" not found in:\n%s", needle, haystack);
}

/* Fails unless pdfinfo's output info has the line "<field>:  <value>" (any padding). */
static void assert_info(const char *info, const char *field, const char *value)
{
    size_t n = strlen(field);
    for (const char *line = info; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > n && strncmp(line, field, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            if ((size_t)(line + len - v) == strlen(value) && memcmp(v, value, strlen(value)) == 0)
                return;
            fail_msg("pdfinfo %s: \"%.*s\", not \"%s\"", field, (int)(line + len - v), v, value);
        }
        line += end ? len + 1 : len;
    }
    fail_msg("pdfinfo has no %s:\n%s", field, info);
}

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

/* ---- DOCX ---- */

/* The sample's DOCX: every part parses, the texts come in order, the page is set up. */
static const char CHECK_SAMPLE_DOCX_PY[] =
    "import sys, zipfile, xml.etree.ElementTree as ET\n"
    "W = '{http://schemas.openxmlformats.org/wordprocessingml/2006/main}'\n"
    "z = zipfile.ZipFile(sys.argv[1])\n"
    "assert z.testzip() is None\n"
    "names = z.namelist()\n"
    "for n in ['[Content_Types].xml', '_rels/.rels', 'word/document.xml', 'word/styles.xml',\n"
    "          'word/settings.xml', 'word/_rels/document.xml.rels', 'word/footer1.xml',\n"
    "          'docProps/core.xml', 'docProps/app.xml']:\n"
    "    assert n in names, (n, names)\n"
    "parts = {}\n"
    "for n in names:\n"
    "    assert n.endswith('.xml') or n.endswith('.rels'), n\n"
    "    parts[n] = ET.fromstring(z.read(n))\n"
    "ct = parts['[Content_Types].xml']\n"
    "over = {o.get('PartName'): o.get('ContentType') for o in ct}\n"
    "for n in names:\n"
    "    if n.endswith('.xml') and n != '[Content_Types].xml':\n"
    "        assert '/' + n in over, n\n"
    "assert over['/word/document.xml'].endswith('document.main+xml')\n"
    "assert over['/word/footer1.xml'].endswith('footer+xml')\n"
    "rels = {r.get('Target'): r.get('Id') for r in parts['word/_rels/document.xml.rels']}\n"
    "assert 'footer1.xml' in rels and 'styles.xml' in rels and 'settings.xml' in rels, rels\n"
    "top = {r.get('Target') for r in parts['_rels/.rels']}\n"
    "assert top >= {'word/document.xml', 'docProps/core.xml', 'docProps/app.xml'}, top\n"
    "doc = parts['word/document.xml']\n"
    "paras = doc.findall(W + 'body/' + W + 'p')\n"
    "texts = [''.join(t.text or '' for t in p.iter(W + 't')) for p in paras]\n"
    "want = ['" TITLE "', '" ADDRESSEE "', '" HEADING1 "', '" HEADING2 "', '" HEADING3 "',\n"
    "        '" PARA_BEFORE FIGURE PARA_MIDDLE MISSING PARA_AFTER "',\n"
    "        '符号 a<b & c>d \"引号\" \\'x\\'', '" SIGNATURE "', '" DATE "']\n"
    "assert texts == want, texts\n"
    "def style(p):\n"
    "    s = p.find(W + 'pPr/' + W + 'pStyle')\n"
    "    return None if s is None else s.get(W + 'val')\n"
    "styles = [style(p) for p in paras]\n"
    "assert styles == ['Title', 'Addressee', 'Heading1', 'Heading2', 'Heading3', None, None,\n"
    "                  'Signature', 'Date'], styles\n"
    "raw = z.read('word/document.xml').decode('utf-8')\n"
    "assert 'a&lt;b &amp; c&gt;d' in raw, raw\n"
    "red = [''.join(t.text for t in r.iter(W + 't')) for r in paras[5].iter(W + 'r')\n"
    "       if r.find(W + 'rPr/' + W + 'color') is not None]\n"
    "assert red == ['" MISSING "'], red\n"
    "sect = doc.find(W + 'body/' + W + 'sectPr')\n"
    "assert list(doc.find(W + 'body'))[-1] is sect\n"
    "sz = sect.find(W + 'pgSz')\n"
    "assert (sz.get(W + 'w'), sz.get(W + 'h')) == ('11906', '16838'), sz.attrib\n"
    "mar = sect.find(W + 'pgMar')\n"
    "got = [int(mar.get(W + k)) for k in ('top', 'bottom', 'left', 'right')]\n"
    "want = [round(mm * 1440 / 25.4) for mm in (37, 35, 28, 26)]\n"
    "assert got == want, (got, want)\n"
    "fref = sect.find(W + 'footerReference')\n"
    "assert rels['footer1.xml'] == fref.get('{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id')\n"
    "ftr = parts['word/footer1.xml']\n"
    "instr = ''.join(t.text for t in ftr.iter(W + 'instrText')).strip()\n"
    "assert instr == 'PAGE', instr\n"
    "kinds = [f.get(W + 'fldCharType') for f in ftr.iter(W + 'fldChar')]\n"
    "assert kinds == ['begin', 'separate', 'end'], kinds\n"
    "ft = ''.join(t.text for t in ftr.iter(W + 't'))\n"
    "assert ft == '— 1 —', ft\n"
    "st = {s.get(W + 'styleId'): s for s in parts['word/styles.xml'].iter(W + 'style')}\n"
    "def rpr(sid, tag, attr='val'):\n"
    "    e = st[sid].find(W + 'rPr/' + W + tag)\n"
    "    return None if e is None else e.get(W + attr)\n"
    "def ppr(sid, tag, attr):\n"
    "    e = st[sid].find(W + 'pPr/' + W + tag)\n"
    "    return None if e is None else e.get(W + attr)\n"
    "assert rpr('Normal', 'sz') == '32' and rpr('Normal', 'rFonts', 'eastAsia') == '仿宋_GB2312'\n"
    "assert ppr('Normal', 'spacing', 'line') == '560' and ppr('Normal', 'spacing', 'lineRule') == 'exact'\n"
    "assert ppr('Normal', 'ind', 'firstLineChars') == '200' and ppr('Normal', 'jc', 'val') == 'both'\n"
    "assert rpr('Title', 'sz') == '44' and rpr('Title', 'rFonts', 'eastAsia') == '方正小标宋简体'\n"
    "assert ppr('Title', 'jc', 'val') == 'center'\n"
    "assert rpr('Heading1', 'rFonts', 'eastAsia') == '黑体'\n"
    "assert rpr('Heading2', 'rFonts', 'eastAsia') == '楷体_GB2312'\n"
    "assert rpr('Heading3', 'rFonts', 'eastAsia') == '仿宋_GB2312' and st['Heading3'].find(W + 'rPr/' + W + 'b') is not None\n"
    "assert ppr('Addressee', 'ind', 'firstLineChars') == '0' and ppr('Addressee', 'jc', 'val') == 'left'\n"
    "assert ppr('Signature', 'jc', 'val') == 'right' and ppr('Date', 'jc', 'val') == 'right'\n"
    "assert rpr('Footer', 'sz') == '28' and rpr('Footer', 'rFonts', 'eastAsia') == '宋体'\n"
    "fonts = {f.get(W + 'name'): f.find(W + 'altName').get(W + 'val') for f in parts['word/fontTable.xml']}\n"
    "assert fonts['方正小标宋简体'] == '宋体' and fonts['仿宋_GB2312'] == '仿宋', fonts\n"
    "DC = '{http://purl.org/dc/elements/1.1/}'\n"
    "assert parts['docProps/core.xml'].find(DC + 'title').text == '" TITLE "'\n"
    "print('OK')\n";

static void test_docx_sample(void **state)
{
    (void)state;
    struct tmp d;
    tmp_make(&d);
    char path[128];
    snprintf(path, sizeof(path), "%s/sample.docx", d.path);
    struct sifa_doc *doc = sample();
    render_docx(doc, path);
    run_python(&d, CHECK_SAMPLE_DOCX_PY, path);

    /* The same document gives the same bytes. */
    char *a, *b;
    size_t alen, blen;
    assert_int_equal(sifa_doc_to_docx(doc, &a, &alen, NULL), 0);
    assert_int_equal(sifa_doc_to_docx(doc, &b, &blen, NULL), 0);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    free(a);
    free(b);
    sifa_doc_free(doc);
    tmp_remove(&d);
}

/* Odd text: control characters, invalid UTF-8, U+FFFF, newlines and tabs; an empty block; a
 * title with special characters. Everything still parses. */
static const char CHECK_ODD_DOCX_PY[] =
    "import sys, zipfile, xml.etree.ElementTree as ET\n"
    "W = '{http://schemas.openxmlformats.org/wordprocessingml/2006/main}'\n"
    "z = zipfile.ZipFile(sys.argv[1])\n"
    "parts = {n: ET.fromstring(z.read(n)) for n in z.namelist()}\n"
    "paras = parts['word/document.xml'].findall(W + 'body/' + W + 'p')\n"
    "assert len(paras) == 3, len(paras)\n"
    "texts = [''.join(t.text or '' for t in p.iter(W + 't')) for p in paras]\n"
    "assert texts == ['<&>', 'a\\ufffdb\\ufffdc\\ufffd\\ufffd甲乙丙', ''], texts\n"
    "assert len(list(paras[1].iter(W + 'br'))) == 1 and len(list(paras[1].iter(W + 'tab'))) == 1\n"
    "DC = '{http://purl.org/dc/elements/1.1/}'\n"
    "assert parts['docProps/core.xml'].find(DC + 'title').text == 'T<&>\"\\'\\ufffd', parts['docProps/core.xml'].find(DC + 'title').text\n"
    "print('OK')\n";

static struct sifa_doc *odd(void)
{
    struct sifa_doc *doc = sifa_doc_new("T<&>\"'\xff");
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_TITLE), "<&>");
    struct sifa_doc_block *b = sifa_doc_add_block(doc, SIFA_BLOCK_PARAGRAPH);
    sifa_doc_add_text(b, "a\x01\xff" "b\xef\xbf\xbf" "c\xe4\xb8");
    sifa_doc_add_figure(b, "", "x", NULL, false); /* empty: no run */
    sifa_doc_add_text(b, "甲\n乙\r\t丙\x7f");
    sifa_doc_add_block(doc, SIFA_BLOCK_DATE);
    return doc;
}

static void test_docx_odd_text(void **state)
{
    (void)state;
    struct tmp d;
    tmp_make(&d);
    char path[128];
    snprintf(path, sizeof(path), "%s/odd.docx", d.path);
    struct sifa_doc *doc = odd();
    render_docx(doc, path);
    run_python(&d, CHECK_ODD_DOCX_PY, path);
    sifa_doc_free(doc);
    tmp_remove(&d);
}

static const char CHECK_EMPTY_DOCX_PY[] =
    "import sys, zipfile, xml.etree.ElementTree as ET\n"
    "W = '{http://schemas.openxmlformats.org/wordprocessingml/2006/main}'\n"
    "z = zipfile.ZipFile(sys.argv[1])\n"
    "parts = {n: ET.fromstring(z.read(n)) for n in z.namelist()}\n"
    "body = list(parts['word/document.xml'].find(W + 'body'))\n"
    "assert [e.tag for e in body] == [W + 'sectPr'], body\n"
    "print('OK')\n";

static void test_docx_empty(void **state)
{
    (void)state;
    struct tmp d;
    tmp_make(&d);
    char path[128];
    snprintf(path, sizeof(path), "%s/empty.docx", d.path);
    struct sifa_doc *doc = sifa_doc_new(NULL);
    render_docx(doc, path);
    run_python(&d, CHECK_EMPTY_DOCX_PY, path);
    sifa_doc_free(doc);
    tmp_remove(&d);
}

/* ---- PDF ---- */

/* Counts strongly red pixels of page 1 rendered by pdftoppm (P6 ppm). */
static const char COUNT_RED_PY[] =
    "import sys, subprocess\n"
    "ppm = subprocess.run(['pdftoppm', '-r', '50', '-f', '1', '-l', '1', sys.argv[1]], check=True,\n"
    "                     capture_output=True).stdout\n"
    "fields, pos = [], 0\n"
    "while len(fields) < 4:\n"
    "    while ppm[pos:pos + 1].isspace(): pos += 1\n"
    "    end = pos\n"
    "    while not ppm[end:end + 1].isspace(): end += 1\n"
    "    fields.append(ppm[pos:end]); pos = end\n"
    "assert fields[0] == b'P6' and fields[3] == b'255', fields\n"
    "px = ppm[pos + 1:]\n"
    "red = sum(1 for i in range(0, len(px), 3) if px[i] > 180 and px[i + 1] < 90 and px[i + 2] < 90)\n"
    "print('red' if red > 0 else 'none')\n";

static char *count_red(const struct tmp *d, const char *pdf)
{
    char script_path[128], cmd[512];
    snprintf(script_path, sizeof(script_path), "%s/red.py", d->path);
    write_file(script_path, COUNT_RED_PY, strlen(COUNT_RED_PY));
    snprintf(cmd, sizeof(cmd), "python3 '%s' '%s'", script_path, pdf);
    char *out = run(cmd);
    unlink(script_path);
    return out;
}

static void test_pdf_sample(void **state)
{
    (void)state;
    struct tmp d;
    tmp_make(&d);
    char path[128], cmd[256];
    snprintf(path, sizeof(path), "%s/sample.pdf", d.path);
    struct sifa_doc *doc = sample();
    render_pdf(doc, path);

    char *text = pdf_text(path);
    const char *want[] = {TITLE, ADDRESSEE, HEADING1, HEADING2, HEADING3,
                          PARA_BEFORE FIGURE PARA_MIDDLE MISSING PARA_AFTER,
                          SPECIAL, SIGNATURE, DATE, "— 1 —"};
    const char *at = text;
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(want); i++) { /* in order */
        const char *p = strstr(at, want[i]);
        if (p == NULL)
            fail_msg("\"%s\" not found (in order) in:\n%s", want[i], text);
        at = p + strlen(want[i]);
    }
    assert_null(strstr(text, "— 2 —"));
    free(text);

    snprintf(cmd, sizeof(cmd), "pdfinfo '%s'", path);
    char *info = run(cmd);
    assert_info(info, "Title", TITLE);
    assert_info(info, "Pages", "1");
    assert_info(info, "Page size", "595.28 x 841.89 pts (A4)");
    free(info);

    /* The missing figure is red; without it nothing is. */
    char *red = count_red(&d, path);
    assert_string_equal(red, "red\n");
    free(red);
    doc->blocks[5].runs[3].missing = false;
    render_pdf(doc, path);
    red = count_red(&d, path);
    assert_string_equal(red, "none\n");
    free(red);

    sifa_doc_free(doc);
    tmp_remove(&d);
}

/* Sixty paragraphs do not fit a page: more pages, each numbered; paragraphs wrap. */
static void test_pdf_pages(void **state)
{
    (void)state;
    struct tmp d;
    tmp_make(&d);
    char path[128], cmd[256];
    snprintf(path, sizeof(path), "%s/long.pdf", d.path);
    struct sifa_doc *doc = sifa_doc_new("长报告");
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_TITLE), "长报告");
    for (int i = 1; i <= 60; i++) {
        char s[128];
        snprintf(s, sizeof(s), "第%d段。", i);
        struct sifa_doc_block *b = sifa_doc_add_block(doc, i % 10 == 1 ? SIFA_BLOCK_HEADING1 : SIFA_BLOCK_PARAGRAPH);
        sifa_doc_add_text(b, s);
        if (i == 30) /* long enough to wrap: four lines at most 28 characters */
            for (int k = 0; k < 8; k++)
                sifa_doc_add_text(b, "依法行政是政府工作的基本准则，");
    }
    render_pdf(doc, path);

    char *text = pdf_text(path);
    assert_contains(text, "— 1 —");
    assert_contains(text, "— 2 —");
    assert_contains(text, "第1段。");
    assert_contains(text, "第60段。");
    /* page 1 holds "— 1 —" and page 2 "— 2 —" (pages end with a form feed) */
    char *ff = strchr(text, '\f');
    assert_non_null(ff);
    *ff = '\0';
    assert_contains(text, "— 1 —");
    assert_null(strstr(text, "— 2 —"));
    assert_contains(ff + 1, "— 2 —");
    free(text);

    snprintf(cmd, sizeof(cmd), "pdfinfo '%s'", path);
    char *info = run(cmd);
    /* 60 paragraphs + 3 wrapped lines + title (35 pt and a blank line) at 22 lines a page: 3 pages */
    assert_info(info, "Pages", "3");
    free(info);
    sifa_doc_free(doc);
    tmp_remove(&d);
}

static void test_pdf_odd_and_empty(void **state)
{
    (void)state;
    struct tmp d;
    tmp_make(&d);
    char path[128];
    snprintf(path, sizeof(path), "%s/odd.pdf", d.path);
    struct sifa_doc *doc = odd();
    render_pdf(doc, path);
    char *text = pdf_text(path);
    assert_contains(text, "<&>");
    assert_contains(text, "甲");
    assert_contains(text, "丙");
    assert_contains(text, "— 1 —");
    free(text);
    sifa_doc_free(doc);

    doc = sifa_doc_new(NULL);
    render_pdf(doc, path);
    text = pdf_text(path);
    assert_contains(text, "— 1 —");
    free(text);
    sifa_doc_free(doc);
    tmp_remove(&d);
}

/* Renderers run in the server's worker threads: four at once, each its own font map. */
static void *render_both(void *arg)
{
    const struct sifa_doc *doc = arg;
    for (int i = 0; i < 2; i++) {
        char *buf = NULL;
        size_t len = 0;
        if (sifa_doc_to_pdf(doc, &buf, &len, NULL) < 0 || len < 5 || memcmp(buf, "%PDF-", 5) != 0)
            return (void *)"pdf";
        free(buf);
        if (sifa_doc_to_docx(doc, &buf, &len, NULL) < 0 || len < 4 || memcmp(buf, "PK\x03\x04", 4) != 0)
            return (void *)"docx";
        free(buf);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct sifa_doc *doc = sample();
    pthread_t threads[4];
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(threads); i++)
        assert_int_equal(pthread_create(&threads[i], NULL, render_both, doc), 0);
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(threads); i++) {
        void *failed = NULL;
        assert_int_equal(pthread_join(threads[i], &failed), 0);
        if (failed != NULL)
            fail_msg("thread %zu: %s failed", i, (const char *)failed);
    }
    sifa_doc_free(doc);
}

/* ---- limits ---- */

static void expect_too_large(const struct sifa_doc *doc)
{
    struct sifa_error err = {0};
    char *buf = NULL;
    size_t len = 0;
    expect_error(&err, sifa_doc_to_docx(doc, &buf, &len, &err), SIFA_ELIMIT, "document_too_large");
    assert_null(buf);
    sifa_error_release(&err);
    expect_error(&err, sifa_doc_to_pdf(doc, &buf, &len, &err), SIFA_ELIMIT, "document_too_large");
    assert_null(buf);
    sifa_error_release(&err);
}

static void test_limit_blocks(void **state)
{
    (void)state;
    struct sifa_doc *doc = sifa_doc_new("多");
    for (int i = 0; i < 10000; i++)
        sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_PARAGRAPH), "段");
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(sifa_doc_to_docx(doc, &buf, &len, NULL), 0); /* 10,000: allowed */
    free(buf);
    sifa_doc_add_block(doc, SIFA_BLOCK_PARAGRAPH);
    expect_too_large(doc);
    sifa_doc_free(doc);
}

static void test_limit_text(void **state)
{
    (void)state;
    size_t n = (size_t)8 * 1024 * 1024;
    char *big = sifa_xmalloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    struct sifa_doc *doc = sifa_doc_new("");
    struct sifa_doc_block *b = sifa_doc_add_block(doc, SIFA_BLOCK_PARAGRAPH);
    sifa_doc_add_text(b, big);
    free(big);
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(sifa_doc_to_docx(doc, &buf, &len, NULL), 0); /* exactly 8 MiB: allowed */
    free(buf);
    sifa_doc_add_figure(b, "1", "x", NULL, false);
    expect_too_large(doc);
    sifa_doc_free(doc);

    /* The title counts too. */
    big = sifa_xmalloc(n + 2);
    memset(big, 'b', n + 1);
    big[n + 1] = '\0';
    doc = sifa_doc_new(big);
    free(big);
    expect_too_large(doc);
    sifa_doc_free(doc);
}

/* The text of the opening tag of the figure run whose data-indicator is code (new), or NULL. */
static char *figure_tag(const char *html, const char *code)
{
    char attr[96];
    snprintf(attr, sizeof(attr), "data-indicator=\"%s\"", code);
    const char *at = strstr(html, attr);
    if (at == NULL)
        return NULL;
    const char *open = at;
    while (open > html && *open != '<')
        open--;
    const char *close = strchr(at, '>');
    return close ? strndup(open, (size_t)(close - open + 1)) : NULL;
}

/* HTML: a figure the caller may not read says so in its tooltip; it used to carry the tooltip of
 * a figure without data ("该指标在本期没有数据"), as if nothing had happened. */
static void test_html_denied_and_missing_figures(void **state)
{
    (void)state;
    struct sifa_doc *doc = sifa_doc_new(TITLE);
    struct sifa_doc_block *b = sifa_doc_add_block(doc, SIFA_BLOCK_PARAGRAPH);
    sifa_doc_add_text(b, PARA_BEFORE);
    sifa_doc_add_figure(b, FIGURE, "case_total", "/api/v1/indicators/case_total/records?period=2021", false);
    sifa_doc_add_figure(b, "【无数据】", "review_total", "/api/v1/indicators/review_total/records?period=2021", true);
    sifa_doc_add_denied_figure(b, "【无权查看】", "secret_total", "/api/v1/indicators/secret_total/records?period=2021");
    sifa_doc_add_denied_figure(b, "【无权查看】", "secret_rate", NULL);
    assert_true(b->runs[3].missing && b->runs[3].denied);
    assert_true(b->runs[2].missing && !b->runs[2].denied);
    struct sifa_error err = {0};
    char *html = NULL;
    size_t len = 0;
    if (sifa_doc_to_html(doc, &html, &len, &err) < 0)
        fail_msg("to_html: %s %s", err.code, err.message);
    char *value = figure_tag(html, "case_total"), *none = figure_tag(html, "review_total"),
         *denied = figure_tag(html, "secret_total"), *denied_span = figure_tag(html, "secret_rate");
    assert_non_null(value);
    assert_non_null(none);
    assert_non_null(denied);
    assert_non_null(denied_span);
    assert_null(strstr(value, "title="));
    assert_non_null(strstr(none, "title=\"该指标在本期没有数据\""));
    assert_non_null(strstr(none, "class=\"figure missing\""));
    for (char *tag = denied;; tag = denied_span) {
        assert_non_null(strstr(tag, "title=\"您无权查看该指标所依据的记录\""));
        assert_null(strstr(tag, "没有数据"));
        assert_non_null(strstr(tag, "class=\"figure missing denied\"")); /* still flagged, and told apart */
        if (tag == denied_span)
            break;
    }
    assert_int_equal(strncmp(denied_span, "<span ", 6), 0);
    free(value);
    free(none);
    free(denied);
    free(denied_span);
    free(html);
    sifa_doc_free(doc);
}

static void test_null_arguments(void **state)
{
    (void)state;
    struct sifa_error err = {0};
    char *buf = NULL;
    size_t len = 0;
    expect_error(&err, sifa_doc_to_docx(NULL, &buf, &len, &err), SIFA_EINTERNAL, "docx_failed");
    sifa_error_release(&err);
    expect_error(&err, sifa_doc_to_pdf(NULL, &buf, &len, &err), SIFA_EINTERNAL, "pdf_failed");
    sifa_error_release(&err);
    assert_null(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docx_sample),     cmocka_unit_test(test_docx_odd_text),
        cmocka_unit_test(test_docx_empty),      cmocka_unit_test(test_pdf_sample),
        cmocka_unit_test(test_pdf_pages),       cmocka_unit_test(test_pdf_odd_and_empty),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_limit_blocks),    cmocka_unit_test(test_limit_text),
        cmocka_unit_test(test_null_arguments), cmocka_unit_test(test_html_denied_and_missing_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
