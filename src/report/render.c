/* render.c — the text renderers of the report document model: Markdown and a complete HTML page.
 * Layer: report. Both escape every character of the document that their format would read as
 * markup, make every figure a link to the records behind it, and show a missing figure so that it
 * cannot pass for a value (HTML: class "missing", red, with a tooltip that tells no data from a
 * figure the caller may not read, which also has class "denied"; Markdown: bold). Output is bounded as the
 * DOCX and PDF renderers bound theirs (DOC_MAX_BLOCKS blocks, DOC_MAX_TEXT bytes of text). */
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "report/report.h"

#define DOC_MAX_BLOCKS 10000
#define DOC_MAX_TEXT ((size_t)8 * 1024 * 1024)

/* A growable output buffer; the document's limits bound it (escaping at most sextuples a byte). */
struct out {
    char *p;
    size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n + 1)
            cap *= 2;
        o->p = sifa_xrealloc(o->p, cap);
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static int check_doc(const struct sifa_doc *doc, char **ret_buf, size_t *ret_len, const char *code,
                     struct sifa_error *err)
{
    if (doc == NULL || ret_buf == NULL || ret_len == NULL)
        return sifa_error_set(err, SIFA_EINTERNAL, code, "生成报告失败:参数为空");
    if (doc->nblocks > DOC_MAX_BLOCKS)
        return sifa_error_set(err, SIFA_ELIMIT, "document_too_large", "报告过大:共 %zu 段,超过 %d 段的上限",
                              doc->nblocks, DOC_MAX_BLOCKS);
    size_t total = doc->title ? strlen(doc->title) : 0;
    for (size_t i = 0; i < doc->nblocks; i++)
        for (size_t k = 0; k < doc->blocks[i].nruns; k++)
            total += strlen(doc->blocks[i].runs[k].text) + (doc->blocks[i].runs[k].href ? strlen(doc->blocks[i].runs[k].href) : 0);
    if (total > DOC_MAX_TEXT)
        return sifa_error_set(err, SIFA_ELIMIT, "document_too_large", "报告过大:文字共 %zu 字节,超过 8 MiB 的上限",
                              total);
    return 0;
}

/* ---------- Markdown ---------- */

/* Escapes what CommonMark reads as markup anywhere in a line; at the start of a block also what
 * would start a heading, list, quote or code block there. Line breaks inside a run become spaces:
 * a block is one paragraph. */
static void md_text(struct out *o, const char *s, bool block_start)
{
    if (block_start) {
        while (*s == ' ' || *s == '\t')
            s++;
        const char *d = s;
        while (*d >= '0' && *d <= '9')
            d++;
        if (d > s && (*d == '.' || *d == ')')) { /* "1." would start an ordered list */
            put(o, s, (size_t)(d - s));
            put(o, "\\", 1);
            s = d;
        } else if (*s == '#' || *s == '-' || *s == '+' || *s == '=') {
            put(o, "\\", 1);
        }
    }
    for (; *s; s++) {
        switch (*s) {
        case '\\': case '`': case '*': case '_': case '[': case ']': case '<': case '>': case '|': case '!': case '&':
        case '~': case '#':
            put(o, "\\", 1);
            put(o, s, 1);
            break;
        case '\n': case '\r': case '\t':
            put(o, " ", 1);
            break;
        default:
            put(o, s, 1);
        }
    }
}

/* A link destination: sifa's hrefs are paths with percent-encoded queries; escape what would end
 * or break the destination anyway. */
static void md_href(struct out *o, const char *href)
{
    for (const char *s = href; *s; s++) {
        if (*s == '(' || *s == ')' || *s == '\\' || *s == '<' || *s == '>')
            put(o, "\\", 1);
        if (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
            puts_(o, "%20");
        else
            put(o, s, 1);
    }
}

static void md_runs(struct out *o, const struct sifa_doc_block *b)
{
    for (size_t i = 0; i < b->nruns; i++) {
        const struct sifa_doc_run *r = &b->runs[i];
        bool start = i == 0;
        if (r->kind == SIFA_RUN_TEXT) {
            md_text(o, r->text, start);
            continue;
        }
        if (r->missing)
            puts_(o, "**");
        if (r->href != NULL) {
            puts_(o, "[");
            md_text(o, r->text, false);
            puts_(o, "](");
            md_href(o, r->href);
            puts_(o, ")");
        } else {
            md_text(o, r->text, start && !r->missing);
        }
        if (r->missing)
            puts_(o, "**");
    }
}

int sifa_doc_to_markdown(const struct sifa_doc *doc, char **ret_buf, size_t *ret_len, struct sifa_error *err)
{
    int rc = check_doc(doc, ret_buf, ret_len, "markdown_failed", err);
    if (rc < 0)
        return rc;
    struct out o = {0};
    for (size_t i = 0; i < doc->nblocks; i++) {
        const struct sifa_doc_block *b = &doc->blocks[i];
        if (b->nruns == 0)
            continue;
        switch (b->kind) {
        case SIFA_BLOCK_TITLE:
            puts_(&o, "# ");
            break;
        case SIFA_BLOCK_HEADING1:
            puts_(&o, "## ");
            break;
        case SIFA_BLOCK_HEADING2:
            puts_(&o, "### ");
            break;
        case SIFA_BLOCK_HEADING3:
            puts_(&o, "#### ");
            break;
        default: /* addressee, paragraphs, signature and date are paragraphs in Markdown */
            break;
        }
        md_runs(&o, b);
        puts_(&o, "\n\n");
    }
    if (o.p == NULL)
        put(&o, "", 0);
    *ret_buf = o.p;
    *ret_len = o.len;
    return 0;
}

/* ---------- HTML ---------- */

static void html_text(struct out *o, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            puts_(o, "&amp;");
            break;
        case '<':
            puts_(o, "&lt;");
            break;
        case '>':
            puts_(o, "&gt;");
            break;
        case '"':
            puts_(o, "&quot;");
            break;
        case '\'':
            puts_(o, "&#39;");
            break;
        default:
            put(o, s, 1);
        }
    }
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
static const char html_style[] =
    "</title>\n<style>\n"
    "body{margin:0;background:#f4f4f4;}\n"
    "article{max-width:156mm;margin:2em auto;padding:37mm 26mm 35mm 28mm;background:#fff;"
    "font:16pt/1.75 \"FangSong\",\"仿宋\",\"STFangsong\",\"Noto Serif CJK SC\",serif;color:#000;}\n"
    "h1{font:22pt/1.5 \"FZXiaoBiaoSong-B05S\",\"方正小标宋简体\",\"SimSun\",\"Noto Serif CJK SC\",serif;"
    "text-align:center;margin:0 0 1em;}\n"
    "h2{font:16pt/1.75 \"SimHei\",\"黑体\",\"Noto Sans CJK SC\",sans-serif;margin:0;text-indent:2em;}\n"
    "h3{font:16pt/1.75 \"KaiTi\",\"楷体\",\"STKaiti\",serif;margin:0;text-indent:2em;}\n"
    "h4{font-size:16pt;font-weight:bold;margin:0;text-indent:2em;}\n"
    "p{margin:0;text-indent:2em;text-align:justify;}\n"
    "p.addressee{text-indent:0;}\n"
    "p.signature,p.date{text-align:right;text-indent:0;padding-right:2em;}\n"
    "p.signature{margin-top:2em;}\n"
    "a.figure{color:inherit;text-decoration:none;border-bottom:1px dotted #888;}\n"
    "a.figure:hover{background:#eef5ff;}\n"
    ".missing{color:#c00;background:#fee;font-weight:bold;border-bottom:1px solid #c00;}\n"
    "@media print{body{background:#fff;}article{margin:0;padding:0;}a.figure{border:0;}}\n"
    "</style>\n</head>\n<body>\n<article>\n";

static void html_runs(struct out *o, const struct sifa_doc_block *b)
{
    for (size_t i = 0; i < b->nruns; i++) {
        const struct sifa_doc_run *r = &b->runs[i];
        if (r->kind == SIFA_RUN_TEXT) {
            html_text(o, r->text);
            continue;
        }
        const char *cls = r->denied ? "figure missing denied" : r->missing ? "figure missing" : "figure";
        if (r->href != NULL) {
            puts_(o, "<a class=\"");
            puts_(o, cls);
            puts_(o, "\" href=\"");
            html_text(o, r->href);
            puts_(o, "\"");
        } else {
            puts_(o, "<span class=\"");
            puts_(o, cls);
            puts_(o, "\"");
        }
        if (r->indicator != NULL) {
            puts_(o, " data-indicator=\"");
            html_text(o, r->indicator);
            puts_(o, "\"");
        }
        /* the reader must tell "nothing happened" from "not yours to see": a hidden figure is
         * not a zero and not a gap in the records */
        if (r->denied)
            puts_(o, " title=\"您无权查看该指标所依据的记录\"");
        else if (r->missing)
            puts_(o, " title=\"该指标在本期没有数据\"");
        puts_(o, ">");
        html_text(o, r->text);
        puts_(o, r->href != NULL ? "</a>" : "</span>");
    }
}

int sifa_doc_to_html(const struct sifa_doc *doc, char **ret_buf, size_t *ret_len, struct sifa_error *err)
{
    int rc = check_doc(doc, ret_buf, ret_len, "html_failed", err);
    if (rc < 0)
        return rc;
    struct out o = {0};
    puts_(&o, html_head);
    html_text(&o, doc->title ? doc->title : "");
    puts_(&o, html_style);
    for (size_t i = 0; i < doc->nblocks; i++) {
        const struct sifa_doc_block *b = &doc->blocks[i];
        if (b->nruns == 0)
            continue;
        const char *open, *close;
        switch (b->kind) {
        case SIFA_BLOCK_TITLE:
            open = "<h1>", close = "</h1>\n";
            break;
        case SIFA_BLOCK_ADDRESSEE:
            open = "<p class=\"addressee\">", close = "</p>\n";
            break;
        case SIFA_BLOCK_HEADING1:
            open = "<h2>", close = "</h2>\n";
            break;
        case SIFA_BLOCK_HEADING2:
            open = "<h3>", close = "</h3>\n";
            break;
        case SIFA_BLOCK_HEADING3:
            open = "<h4>", close = "</h4>\n";
            break;
        case SIFA_BLOCK_SIGNATURE:
            open = "<p class=\"signature\">", close = "</p>\n";
            break;
        case SIFA_BLOCK_DATE:
            open = "<p class=\"date\">", close = "</p>\n";
            break;
        default:
            open = "<p>", close = "</p>\n";
            break;
        }
        puts_(&o, open);
        html_runs(&o, b);
        puts_(&o, close);
    }
    puts_(&o, "</article>\n</body>\n</html>\n");
    *ret_buf = o.p;
    *ret_len = o.len;
    return 0;
}
