/* docx.c — the DOCX renderer of the report document model (see report.h): a Word document laid out
 * close to GB/T 9704-2012 (党政机关公文格式) that opens in Word and WPS. Layer: report.
 *
 * Owns: the XML text of every part while it is built, and the libzip archive (an in-memory zip
 * source) until its bytes are copied into the caller's buffer. Reads the document, never keeps it.
 *
 * Why hand-written XML: an OOXML package is a zip of a few small, fixed XML parts; the only
 * variable content is the document's text, and the one thing it needs is escaping (done below,
 * which also replaces what XML 1.0 cannot carry: invalid UTF-8, control characters, U+FFFE/FFFF).
 * A DOCX library would be a large dependency for printf-sized templates; libzip does the zip.
 *
 * Layout (twips: 1/20 pt; half-points for font sizes):
 *   A4 11906 x 16838; margins top 37 mm (2098), bottom 35 mm (1984), left 28 mm (1587),
 *   right 26 mm (1474): a 156 x 225 mm 版心.
 *   Characters are set 0.25 pt closer (run spacing -5 twips in the defaults) so that 28 of them,
 *   15.75 pt each, fill the 442 pt line, as GB/T 9704 asks; lines are exactly 28 pt on a line grid
 *   (22 a page). Not a character grid (docGrid linesAndChars, charSpace -849, what Word's own
 *   公文 templates use): LibreOffice gives each 16 pt glyph that does not fit a 15.79 pt grid cell
 *   two cells, and printed 16 characters a line; spacing reads the same in Word, WPS and LibreOffice.
 *   Title: 方正小标宋简体 22 pt (二号), centred, off the grid, lines exactly 35 pt, a blank line after.
 *   Body (Normal): 仿宋_GB2312 16 pt (三号), justified, first line indented two characters.
 *   Heading 1 黑体, heading 2 楷体_GB2312, heading 3 仿宋_GB2312 bold: 16 pt, indented like the body,
 *   kept with the next paragraph. 主送机关 flush left. Signature and date right aligned four
 *   characters in from the margin (右空四字), a blank line before the first signature line.
 *   Footer: "— PAGE —" in 宋体 14 pt (四号), centred, 7 mm below the 版心.
 *   word/fontTable.xml names the fallbacks (altName) for fonts a machine may lack: 宋体 for
 *   方正小标宋简体, 仿宋 for 仿宋_GB2312, 楷体 for 楷体_GB2312.
 *   A missing figure is red so that it cannot pass for a value; other figures are plain text.
 *   Links (a figure's href) are left out: they are API paths relative to the server, meaningless in
 *   a file opened from disk or printed; the HTML rendering is where drill-downs live.
 * The output is deterministic: no timestamps in docProps, a fixed zip time on every entry. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zip.h>

#include "report/report.h"

#include "base/common.h"
#include "base/text.h"

#define DOC_MAX_BLOCKS 10000
#define DOC_MAX_TEXT ((size_t)8 * 1024 * 1024)

/* ---- a growing string ---- */


static void buf_puts(struct sifa_strbuf *b, const char *s)
{
    sifa_strbuf_add(b, s, strlen(s));
}

/* Text for XML (element content or an attribute value): the five special characters escaped;
 * invalid UTF-8 and U+FFFE/U+FFFF become U+FFFD (one per bad byte); control characters (C0 other
 * than tab and newline, DEL, C1: legal XML only in part, never meant in a report) are dropped. In run text (in_run) a newline becomes a line break and a tab a tab, which close and
 * reopen the w:t element; elsewhere they are escaped as character references. */
static void buf_xml_text(struct sifa_strbuf *b, const char *s, bool in_run)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        uint32_t cp;
        size_t k = sifa_utf8_decode(p, n, &cp);
        if (k == 0) {
            buf_puts(b, "\xef\xbf\xbd");
            p++, n--;
            continue;
        }
        switch (cp) {
        case '&': buf_puts(b, "&amp;"); break;
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '"': buf_puts(b, "&quot;"); break;
        case '\'': buf_puts(b, "&apos;"); break;
        case '\n': buf_puts(b, in_run ? "</w:t><w:br/><w:t xml:space=\"preserve\">" : "&#10;"); break;
        case '\t': buf_puts(b, in_run ? "</w:t><w:tab/><w:t xml:space=\"preserve\">" : "&#9;"); break;
        case 0xFFFE:
        case 0xFFFF: buf_puts(b, "\xef\xbf\xbd"); break;
        default:
            if (cp >= 0x20 && (cp < 0x7f || cp > 0x9f))
                sifa_strbuf_add(b, (const char *)p, k);
            break;
        }
        p += k, n -= k;
    }
}

/* ---- the fixed parts ---- */

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
#define NS_W "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#define NS_R "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define REL_TYPE "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
#define CT_WORD "application/vnd.openxmlformats-officedocument.wordprocessingml."

static const char CONTENT_TYPES_XML[] =
    XML_DECL
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Override PartName=\"/word/document.xml\" ContentType=\"" CT_WORD "document.main+xml\"/>"
    "<Override PartName=\"/word/styles.xml\" ContentType=\"" CT_WORD "styles+xml\"/>"
    "<Override PartName=\"/word/settings.xml\" ContentType=\"" CT_WORD "settings+xml\"/>"
    "<Override PartName=\"/word/fontTable.xml\" ContentType=\"" CT_WORD "fontTable+xml\"/>"
    "<Override PartName=\"/word/footer1.xml\" ContentType=\"" CT_WORD "footer+xml\"/>"
    "<Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>"
    "<Override PartName=\"/docProps/app.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.extended-properties+xml\"/>"
    "</Types>";

static const char PACKAGE_RELS_XML[] =
    XML_DECL
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"" REL_TYPE "officeDocument\" Target=\"word/document.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>"
    "<Relationship Id=\"rId3\" Type=\"" REL_TYPE "extended-properties\" Target=\"docProps/app.xml\"/>"
    "</Relationships>";

static const char DOCUMENT_RELS_XML[] =
    XML_DECL
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"" REL_TYPE "styles\" Target=\"styles.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"" REL_TYPE "settings\" Target=\"settings.xml\"/>"
    "<Relationship Id=\"rId3\" Type=\"" REL_TYPE "fontTable\" Target=\"fontTable.xml\"/>"
    "<Relationship Id=\"rId4\" Type=\"" REL_TYPE "footer\" Target=\"footer1.xml\"/>"
    "</Relationships>";

static const char APP_XML[] =
    XML_DECL
    "<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\" "
    "xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">"
    "<Application>sifa</Application><DocSecurity>0</DocSecurity>"
    "</Properties>";

static const char SETTINGS_XML[] =
    XML_DECL
    "<w:settings xmlns:w=\"" NS_W "\">"
    "<w:zoom w:percent=\"100\"/>"
    "<w:defaultTabStop w:val=\"420\"/>"
    "<w:characterSpacingControl w:val=\"compressPunctuation\"/>"
    "<w:compat><w:compatSetting w:name=\"compatibilityMode\" w:uri=\"http://schemas.microsoft.com/office/word\" w:val=\"15\"/></w:compat>"
    "<w:themeFontLang w:val=\"en-US\" w:eastAsia=\"zh-CN\"/>"
    "</w:settings>";

/* A font and the one to use where it is missing; charset 86 is GB2312. */
#define FONT(name, alt, family, pitch)                                                             \
    "<w:font w:name=\"" name "\"><w:altName w:val=\"" alt "\"/><w:charset w:val=\"86\"/>"         \
    "<w:family w:val=\"" family "\"/><w:pitch w:val=\"" pitch "\"/></w:font>"

static const char FONT_TABLE_XML[] =
    XML_DECL
    "<w:fonts xmlns:w=\"" NS_W "\">"
    FONT("方正小标宋简体", "宋体", "script", "fixed")
    FONT("仿宋_GB2312", "仿宋", "modern", "fixed")
    FONT("楷体_GB2312", "楷体", "modern", "fixed")
    FONT("黑体", "SimHei", "modern", "fixed")
    FONT("宋体", "SimSun", "auto", "variable")
    FONT("仿宋", "FangSong", "modern", "fixed")
    FONT("楷体", "KaiTi", "modern", "fixed")
    "</w:fonts>";

#define RFONTS(f) "<w:rFonts w:ascii=\"" f "\" w:eastAsia=\"" f "\" w:hAnsi=\"" f "\" w:cs=\"" f "\"/>"
#define SIZE(hp) "<w:sz w:val=\"" hp "\"/><w:szCs w:val=\"" hp "\"/>"
#define NO_INDENT "<w:ind w:firstLineChars=\"0\" w:firstLine=\"0\"/>"

/* Paragraph styles, one per block kind (style ids are used by document.xml below). */
static const char STYLES_XML[] =
    XML_DECL
    "<w:styles xmlns:w=\"" NS_W "\">"
    "<w:docDefaults>"
    "<w:rPrDefault><w:rPr>" RFONTS("仿宋_GB2312") "<w:spacing w:val=\"-5\"/><w:kern w:val=\"2\"/>" SIZE("32")
    "<w:lang w:val=\"en-US\" w:eastAsia=\"zh-CN\" w:bidi=\"ar-SA\"/></w:rPr></w:rPrDefault>"
    "<w:pPrDefault><w:pPr><w:spacing w:before=\"0\" w:after=\"0\" w:line=\"560\" w:lineRule=\"exact\"/>"
    "</w:pPr></w:pPrDefault>"
    "</w:docDefaults>"
    /* body text */
    "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/><w:qFormat/>"
    "<w:pPr><w:spacing w:line=\"560\" w:lineRule=\"exact\"/>"
    "<w:ind w:firstLineChars=\"200\" w:firstLine=\"640\"/><w:jc w:val=\"both\"/></w:pPr>"
    "<w:rPr>" RFONTS("仿宋_GB2312") SIZE("32") "</w:rPr></w:style>"
    "<w:style w:type=\"character\" w:default=\"1\" w:styleId=\"DefaultParagraphFont\">"
    "<w:name w:val=\"Default Paragraph Font\"/><w:uiPriority w:val=\"1\"/><w:semiHidden/><w:unhideWhenUsed/></w:style>"
    /* 标题: 2号小标宋, centred */
    "<w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/><w:basedOn w:val=\"Normal\"/>"
    "<w:next w:val=\"Normal\"/><w:qFormat/>"
    "<w:pPr><w:keepNext/><w:snapToGrid w:val=\"0\"/>"
    "<w:spacing w:before=\"0\" w:after=\"560\" w:line=\"700\" w:lineRule=\"exact\"/>" NO_INDENT
    "<w:jc w:val=\"center\"/></w:pPr>"
    "<w:rPr>" RFONTS("方正小标宋简体") SIZE("44") "</w:rPr></w:style>"
    /* 主送机关: flush left */
    "<w:style w:type=\"paragraph\" w:styleId=\"Addressee\"><w:name w:val=\"Addressee\"/>"
    "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>"
    "<w:pPr>" NO_INDENT "<w:jc w:val=\"left\"/></w:pPr></w:style>"
    /* 一、 黑体 */
    "<w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/>"
    "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>"
    "<w:pPr><w:keepNext/><w:outlineLvl w:val=\"0\"/></w:pPr>"
    "<w:rPr>" RFONTS("黑体") "</w:rPr></w:style>"
    /* (一) 楷体 */
    "<w:style w:type=\"paragraph\" w:styleId=\"Heading2\"><w:name w:val=\"heading 2\"/>"
    "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>"
    "<w:pPr><w:keepNext/><w:outlineLvl w:val=\"1\"/></w:pPr>"
    "<w:rPr>" RFONTS("楷体_GB2312") "</w:rPr></w:style>"
    /* 1. 仿宋 bold */
    "<w:style w:type=\"paragraph\" w:styleId=\"Heading3\"><w:name w:val=\"heading 3\"/>"
    "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>"
    "<w:pPr><w:keepNext/><w:outlineLvl w:val=\"2\"/></w:pPr>"
    "<w:rPr>" RFONTS("仿宋_GB2312") "<w:b/><w:bCs/></w:rPr></w:style>"
    /* 发文机关署名 and 成文日期: right aligned, four characters in */
    "<w:style w:type=\"paragraph\" w:styleId=\"Signature\"><w:name w:val=\"Signature\"/>"
    "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Date\"/><w:qFormat/>"
    "<w:pPr><w:ind w:rightChars=\"400\" w:right=\"1280\" w:firstLineChars=\"0\" w:firstLine=\"0\"/>"
    "<w:jc w:val=\"right\"/></w:pPr></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Date\"><w:name w:val=\"Date\"/>"
    "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>"
    "<w:pPr><w:ind w:rightChars=\"400\" w:right=\"1280\" w:firstLineChars=\"0\" w:firstLine=\"0\"/>"
    "<w:jc w:val=\"right\"/></w:pPr></w:style>"
    /* page numbers: 4号宋体 */
    "<w:style w:type=\"paragraph\" w:styleId=\"Footer\"><w:name w:val=\"footer\"/>"
    "<w:basedOn w:val=\"Normal\"/><w:uiPriority w:val=\"99\"/><w:unhideWhenUsed/>"
    "<w:pPr><w:snapToGrid w:val=\"0\"/><w:spacing w:line=\"240\" w:lineRule=\"auto\"/>" NO_INDENT
    "<w:jc w:val=\"center\"/></w:pPr>"
    "<w:rPr>" RFONTS("宋体") SIZE("28") "</w:rPr></w:style>"
    "</w:styles>";

static const char FOOTER_XML[] =
    XML_DECL
    "<w:ftr xmlns:w=\"" NS_W "\" xmlns:r=\"" NS_R "\">"
    "<w:p><w:pPr><w:pStyle w:val=\"Footer\"/><w:jc w:val=\"center\"/></w:pPr>"
    "<w:r><w:t xml:space=\"preserve\">— </w:t></w:r>"
    "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>"
    "<w:r><w:instrText xml:space=\"preserve\"> PAGE </w:instrText></w:r>"
    "<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>"
    "<w:r><w:t>1</w:t></w:r>"
    "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r>"
    "<w:r><w:t xml:space=\"preserve\"> —</w:t></w:r>"
    "</w:p></w:ftr>";

/* The section: A4 portrait, GB/T 9704 margins (mm to twips, 1440 / 25.4), the footer 7 mm below
 * the 版心 (35 mm - 7 mm - the 14 pt line), the 28 x 28pt grid. */
static const char SECTION_XML[] =
    "<w:sectPr>"
    "<w:footerReference w:type=\"default\" r:id=\"rId4\"/>"
    "<w:pgSz w:w=\"11906\" w:h=\"16838\"/>"
    "<w:pgMar w:top=\"2098\" w:right=\"1474\" w:bottom=\"1984\" w:left=\"1587\" w:header=\"851\" "
    "w:footer=\"1247\" w:gutter=\"0\"/>"
    "<w:pgNumType w:fmt=\"decimal\" w:start=\"1\"/>"
    "<w:cols w:space=\"425\"/>"
    "<w:docGrid w:type=\"lines\" w:linePitch=\"560\"/>"
    "</w:sectPr>";

/* ---- the variable parts ---- */

static const char *style_id(enum sifa_doc_block_kind kind)
{
    switch (kind) {
    case SIFA_BLOCK_TITLE: return "Title";
    case SIFA_BLOCK_ADDRESSEE: return "Addressee";
    case SIFA_BLOCK_HEADING1: return "Heading1";
    case SIFA_BLOCK_HEADING2: return "Heading2";
    case SIFA_BLOCK_HEADING3: return "Heading3";
    case SIFA_BLOCK_SIGNATURE: return "Signature";
    case SIFA_BLOCK_DATE: return "Date";
    case SIFA_BLOCK_PARAGRAPH: break;
    }
    return NULL; /* Normal */
}

static void document_xml(const struct sifa_doc *doc, struct sifa_strbuf *b)
{
    buf_puts(b, XML_DECL "<w:document xmlns:w=\"" NS_W "\" xmlns:r=\"" NS_R "\"><w:body>");
    for (size_t i = 0; i < doc->nblocks; i++) {
        const struct sifa_doc_block *blk = &doc->blocks[i];
        const char *style = style_id(blk->kind);
        /* 正文下空一行 before the signature (once, not between signature lines) */
        bool gap = blk->kind == SIFA_BLOCK_SIGNATURE && i > 0 && doc->blocks[i - 1].kind != SIFA_BLOCK_SIGNATURE;
        buf_puts(b, "<w:p>");
        if (style != NULL || gap) {
            buf_puts(b, "<w:pPr>");
            if (style != NULL) {
                buf_puts(b, "<w:pStyle w:val=\"");
                buf_puts(b, style);
                buf_puts(b, "\"/>");
            }
            if (gap)
                buf_puts(b, "<w:spacing w:before=\"560\"/>");
            buf_puts(b, "</w:pPr>");
        }
        for (size_t k = 0; k < blk->nruns; k++) {
            const struct sifa_doc_run *run = &blk->runs[k];
            if (run->text[0] == '\0')
                continue;
            buf_puts(b, "<w:r>");
            if (run->kind == SIFA_RUN_FIGURE && run->missing)
                buf_puts(b, "<w:rPr><w:color w:val=\"FF0000\"/></w:rPr>");
            buf_puts(b, "<w:t xml:space=\"preserve\">");
            buf_xml_text(b, run->text, true);
            buf_puts(b, "</w:t></w:r>");
        }
        buf_puts(b, "</w:p>");
    }
    buf_puts(b, SECTION_XML);
    buf_puts(b, "</w:body></w:document>");
}

static void core_xml(const struct sifa_doc *doc, struct sifa_strbuf *b)
{
    buf_puts(b, XML_DECL
             "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" "
             "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" "
             "xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" "
             "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
             "<dc:title>");
    buf_xml_text(b, doc->title ? doc->title : "", false);
    buf_puts(b, "</dc:title><dc:creator>sifa</dc:creator><dc:language>zh-CN</dc:language></cp:coreProperties>");
}

/* ---- the package ---- */

/* 2021-01-01 00:00 local: any fixed time within the DOS date range keeps the bytes reproducible. */
static time_t fixed_mtime(void)
{
    struct tm tm = {.tm_year = 121, .tm_mon = 0, .tm_mday = 1, .tm_isdst = -1};
    return mktime(&tm);
}

static int zip_failed(struct sifa_error *err, const char *where, zip_error_t *ze)
{
    return sifa_error_set(err, SIFA_EINTERNAL, "docx_failed", "生成 Word 文档失败（%s）：%s", where,
                          ze != NULL ? zip_error_strerror(ze) : "未知错误");
}

/* Adds name with a copy of data[0..len) to za. */
static int add_part(zip_t *za, const char *name, const char *data, size_t len, time_t mtime,
                    struct sifa_error *err)
{
    char *copy = sifa_xmalloc(len > 0 ? len : 1);
    memcpy(copy, data, len);
    zip_source_t *src = zip_source_buffer(za, copy, len, 1);
    if (src == NULL) {
        free(copy);
        return zip_failed(err, name, zip_get_error(za));
    }
    zip_int64_t idx = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(src);
        return zip_failed(err, name, zip_get_error(za));
    }
    if (zip_file_set_mtime(za, (zip_uint64_t)idx, mtime, 0) < 0)
        return zip_failed(err, name, zip_get_error(za));
    return 0;
}

/* Copies the whole of a (closed) zip source into a new buffer. */
static int read_source(zip_source_t *src, char **ret_buf, size_t *ret_len, struct sifa_error *err)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_source_stat(src, &st) < 0 || !(st.valid & ZIP_STAT_SIZE))
        return zip_failed(err, "读取", zip_source_error(src));
    if (zip_source_open(src) < 0)
        return zip_failed(err, "读取", zip_source_error(src));
    size_t len = (size_t)st.size;
    char *out = sifa_xmalloc(len > 0 ? len : 1);
    zip_int64_t n = zip_source_read(src, out, len);
    zip_source_close(src);
    if (n < 0 || (size_t)n != len) {
        free(out);
        return zip_failed(err, "读取", zip_source_error(src));
    }
    *ret_buf = out;
    *ret_len = len;
    return 0;
}

static int check_size(const struct sifa_doc *doc, struct sifa_error *err)
{
    if (doc->nblocks > DOC_MAX_BLOCKS)
        return sifa_error_set(err, SIFA_ELIMIT, "document_too_large", "报告过大：共 %zu 段，超过 %d 段的上限",
                              doc->nblocks, DOC_MAX_BLOCKS);
    size_t total = doc->title ? strlen(doc->title) : 0;
    for (size_t i = 0; i < doc->nblocks; i++)
        for (size_t k = 0; k < doc->blocks[i].nruns; k++)
            total += strlen(doc->blocks[i].runs[k].text);
    if (total > DOC_MAX_TEXT)
        return sifa_error_set(err, SIFA_ELIMIT, "document_too_large", "报告过大：文字共 %zu 字节，超过 8 MiB 的上限",
                              total);
    return 0;
}

int sifa_doc_to_docx(const struct sifa_doc *doc, char **ret_buf, size_t *ret_len, struct sifa_error *err)
{
    if (doc == NULL || ret_buf == NULL || ret_len == NULL)
        return sifa_error_set(err, SIFA_EINTERNAL, "docx_failed", "生成 Word 文档失败：参数为空");
    int r = check_size(doc, err);
    if (r < 0)
        return r;

    struct sifa_strbuf document = {0}, core = {0};
    document_xml(doc, &document);
    core_xml(doc, &core);
    const struct {
        const char *name, *data;
        size_t len;
    } parts[] = {
        {"[Content_Types].xml", CONTENT_TYPES_XML, sizeof(CONTENT_TYPES_XML) - 1},
        {"_rels/.rels", PACKAGE_RELS_XML, sizeof(PACKAGE_RELS_XML) - 1},
        {"docProps/core.xml", core.data, core.len},
        {"docProps/app.xml", APP_XML, sizeof(APP_XML) - 1},
        {"word/document.xml", document.data, document.len},
        {"word/_rels/document.xml.rels", DOCUMENT_RELS_XML, sizeof(DOCUMENT_RELS_XML) - 1},
        {"word/styles.xml", STYLES_XML, sizeof(STYLES_XML) - 1},
        {"word/settings.xml", SETTINGS_XML, sizeof(SETTINGS_XML) - 1},
        {"word/fontTable.xml", FONT_TABLE_XML, sizeof(FONT_TABLE_XML) - 1},
        {"word/footer1.xml", FOOTER_XML, sizeof(FOOTER_XML) - 1},
    };

    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    if (src == NULL) {
        r = zip_failed(err, "创建", &ze);
        goto out;
    }
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    if (za == NULL) {
        r = zip_failed(err, "创建", &ze);
        zip_source_free(src);
        goto out;
    }
    zip_source_keep(src); /* survives zip_close, which writes into it */
    time_t mtime = fixed_mtime();
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(parts); i++) {
        if ((r = add_part(za, parts[i].name, parts[i].data, parts[i].len, mtime, err)) < 0) {
            zip_discard(za);
            zip_source_free(src);
            goto out;
        }
    }
    if (zip_close(za) < 0) {
        r = zip_failed(err, "写入", zip_get_error(za));
        zip_discard(za);
        zip_source_free(src);
        goto out;
    }
    r = read_source(src, ret_buf, ret_len, err);
    zip_source_free(src);
out:
    zip_error_fini(&ze);
    free(document.data);
    free(core.data);
    return r;
}
