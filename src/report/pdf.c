/* pdf.c — the PDF renderer of the report document model (see report.h): cairo draws into a PDF
 * surface whose bytes stream into memory, pango lays out and breaks the lines. Layer: report.
 *
 * Owns, for one call: a pango font map and context of its own (so nothing is shared between threads
 * or kept between calls; fontconfig's configuration and cairo's font caches stay global in those
 * libraries), the cairo surface and context, one layout per block, and the output buffer until it
 * is handed to the caller. Reads the document, never keeps it.
 *
 * Layout, in PDF points (1/72 inch), the same as the DOCX renderer (docx.c), close to GB/T 9704:
 *   A4 595.28 x 841.89; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (a 156 x 225 mm
 *   版心); every body line exactly 28 pt, so 22 lines a page; 16 pt characters drawn 15.79 pt
 *   apart (a small negative letter spacing) so that 28 fill a line, like the DOCX character grid
 *   and GB/T 9704's 28 x 22. Fonts: Noto CJK (fonts-noto-cjk),
 *   the free stand-ins for the fonts GB/T 9704 names:
 *     title      Noto Serif CJK SC Bold 22 pt (for 方正小标宋), centred, lines of 35 pt, a line after;
 *     heading 1  Noto Sans CJK SC 16 pt (黑体);
 *     heading 2  a 楷体 where fontconfig has one (KaiTi, AR PL UKai), else Noto Sans CJK SC 16 pt;
 *     heading 3  Noto Serif CJK SC Bold 16 pt (仿宋 bold);
 *     body       Noto Serif CJK SC 16 pt (仿宋), justified, first line indented two characters;
 *     主送机关 flush left; signature and date right aligned four characters in (右空四字), a blank
 *     line before the first signature line.
 *   Titles and headings are kept with the first line of the next block; a paragraph may break
 *   between pages at any line. Page numbers "— N —" in Noto Serif CJK SC 14 pt (四号), centred,
 *   7 mm below the 版心. A missing figure is red; other figures are plain text (their hrefs are
 *   server-relative API paths, useless in a file, so no links). The PDF title is doc->title.
 * The two Noto families must be installed: without them CJK text would come out as empty boxes,
 * so the renderer refuses (pdf_failed) rather than produce an unreadable report.
 * Known: cairo 1.16.0 (Debian bookworm) leaks 768 bytes per embedded Noto CJK font per PDF inside
 * cairo_surface_finish (its CFF subsetter drops the FDArray index; fixed in cairo 1.17): a few KB
 * a report, suppressed for valgrind and LSan in tests/unit/{valgrind,lsan}.supp. */
#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "report/report.h"

#include "base/common.h"
#include "base/text.h"

#define DOC_MAX_BLOCKS 10000
#define DOC_MAX_TEXT ((size_t)8 * 1024 * 1024)

#define MM (72.0 / 25.4)
#define PAGE_W 595.28
#define PAGE_H 841.89
#define MARGIN_TOP (37 * MM)
#define MARGIN_BOTTOM (35 * MM)
#define MARGIN_LEFT (28 * MM)
#define MARGIN_RIGHT (26 * MM)
#define TEXT_W (PAGE_W - MARGIN_LEFT - MARGIN_RIGHT)
#define TEXT_BOTTOM (PAGE_H - MARGIN_BOTTOM)
#define LINE 28.0      /* exactly, every body line */
#define BODY_SIZE 16.0 /* 三号 */
/* 28 characters a line: the 16 pt characters are drawn 15.79 pt apart (letter spacing in pango
 * units, rounded down so that 28 of them do fit), like the character grid of the DOCX */
#define GRID_SPACING ((int)((TEXT_W / 28 - BODY_SIZE) * PANGO_SCALE) - 1)
#define PITCH (BODY_SIZE + (double)GRID_SPACING / PANGO_SCALE)
#define EPSILON 0.01

#define SERIF "Noto Serif CJK SC"
#define SANS "Noto Sans CJK SC"

struct block_style {
    const char *family;
    PangoWeight weight;
    double size, line;   /* font size, line height */
    double indent;       /* first line */
    double right;        /* right indent */
    PangoAlignment align;
    bool grid;           /* on the 28-character grid */
    bool justify, keep_next;
    double after;        /* space after the block */
};

static struct block_style block_style(enum sifa_doc_block_kind kind)
{
    struct block_style s = {SERIF, PANGO_WEIGHT_NORMAL, BODY_SIZE, LINE, 2 * PITCH, 0, PANGO_ALIGN_LEFT,
                            true, false, false, 0};
    switch (kind) {
    case SIFA_BLOCK_TITLE:
        s.weight = PANGO_WEIGHT_BOLD;
        s.size = 22; /* 二号 */
        s.line = 35;
        s.indent = 0;
        s.align = PANGO_ALIGN_CENTER;
        s.grid = false;
        s.keep_next = true;
        s.after = LINE;
        break;
    case SIFA_BLOCK_ADDRESSEE:
        s.indent = 0;
        break;
    case SIFA_BLOCK_HEADING1:
        s.family = SANS;
        s.keep_next = true;
        break;
    case SIFA_BLOCK_HEADING2:
        s.family = "楷体_GB2312,KaiTi,楷体,AR PL UKai CN," SANS;
        s.keep_next = true;
        break;
    case SIFA_BLOCK_HEADING3:
        s.weight = PANGO_WEIGHT_BOLD;
        s.keep_next = true;
        break;
    case SIFA_BLOCK_PARAGRAPH:
        s.justify = true;
        break;
    case SIFA_BLOCK_SIGNATURE:
    case SIFA_BLOCK_DATE:
        s.indent = 0;
        s.right = 4 * PITCH;
        s.align = PANGO_ALIGN_RIGHT;
        break;
    }
    return s;
}

/* ---- text ---- */


/* Appends s as pango takes it: invalid UTF-8 and U+FFFE/U+FFFF become U+FFFD; control characters
 * (C0 other than tab, DEL, C1) are dropped; a newline becomes U+2028 (a line break inside the paragraph, as in
 * the DOCX, so the next line is not indented again). */
static void buf_text(struct sifa_strbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        uint32_t cp;
        size_t k = sifa_utf8_decode(p, n, &cp);
        if (k == 0 || cp == 0xFFFE || cp == 0xFFFF)
            sifa_strbuf_add(b, "\xef\xbf\xbd", 3);
        else if (cp == '\n')
            sifa_strbuf_add(b, "\xe2\x80\xa8", 3);
        else if ((cp >= 0x20 && (cp < 0x7f || cp > 0x9f)) || cp == '\t')
            sifa_strbuf_add(b, p, k);
        if (k == 0)
            k = 1;
        p += k, n -= k;
    }
}

/* ---- the drawing state ---- */

struct pdf {
    struct sifa_strbuf out; /* the PDF's bytes */
    cairo_surface_t *surface;
    cairo_t *cr;
    PangoFontMap *fontmap;
    PangoContext *ctx;
    int page;       /* current page, from 1 */
    double y;       /* top of the next line */
};

static cairo_status_t write_out(void *closure, const unsigned char *data, unsigned int length)
{
    struct pdf *pdf = closure;
    sifa_strbuf_add(&pdf->out, data, length);
    return CAIRO_STATUS_SUCCESS;
}

static PangoLayout *new_layout(struct pdf *pdf, const char *family, PangoWeight weight, double size)
{
    PangoLayout *layout = pango_layout_new(pdf->ctx);
    PangoFontDescription *fd = pango_font_description_new();
    pango_font_description_set_family(fd, family);
    pango_font_description_set_weight(fd, weight);
    pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
    pango_layout_set_font_description(layout, fd);
    pango_font_description_free(fd);
    return layout;
}

/* Page number "— N —", centred under the 版心, its top 7 mm below it; then the page is done. The
 * spaces are EN SPACEs (half an em, like a space in 宋体: Noto's is narrower). */
static void end_page(struct pdf *pdf)
{
    char text[64];
    snprintf(text, sizeof(text), "—\xe2\x80\x82%d\xe2\x80\x82—", pdf->page);
    PangoLayout *layout = new_layout(pdf, SERIF, PANGO_WEIGHT_NORMAL, 14);
    pango_layout_set_text(layout, text, -1);
    pango_layout_set_width(layout, (int)(TEXT_W * PANGO_SCALE));
    pango_layout_set_alignment(layout, PANGO_ALIGN_CENTER);
    cairo_set_source_rgb(pdf->cr, 0, 0, 0);
    cairo_move_to(pdf->cr, MARGIN_LEFT, TEXT_BOTTOM + 7 * MM);
    pango_cairo_show_layout(pdf->cr, layout);
    g_object_unref(layout);
    cairo_show_page(pdf->cr);
}

static void start_page(struct pdf *pdf)
{
    pdf->page++;
    pdf->y = MARGIN_TOP;
}

static void new_page(struct pdf *pdf)
{
    end_page(pdf);
    start_page(pdf);
}

static bool at_page_top(const struct pdf *pdf)
{
    return pdf->y <= MARGIN_TOP + EPSILON;
}

/* The text of a block for pango, and red for its missing figures. */
static PangoLayout *block_layout(struct pdf *pdf, const struct sifa_doc_block *blk, const struct block_style *s)
{
    PangoLayout *layout = new_layout(pdf, s->family, s->weight, s->size);
    struct sifa_strbuf text = {0};
    sifa_strbuf_add(&text, "", 0);
    PangoAttrList *attrs = pango_attr_list_new();
    for (size_t k = 0; k < blk->nruns; k++) {
        const struct sifa_doc_run *run = &blk->runs[k];
        size_t start = text.len;
        buf_text(&text, run->text);
        if (run->kind == SIFA_RUN_FIGURE && run->missing && text.len > start) {
            PangoAttribute *a = pango_attr_foreground_new(0xffff, 0, 0);
            a->start_index = (guint)start;
            a->end_index = (guint)text.len;
            pango_attr_list_insert(attrs, a);
        }
    }
    if (s->grid) {
        PangoAttribute *a = pango_attr_letter_spacing_new(GRID_SPACING);
        a->start_index = 0;
        a->end_index = (guint)text.len;
        pango_attr_list_insert(attrs, a);
    }
    pango_layout_set_text(layout, text.data, (int)text.len);
    pango_layout_set_attributes(layout, attrs);
    pango_attr_list_unref(attrs);
    free(text.data);
    pango_layout_set_width(layout, (int)((TEXT_W - s->right) * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_indent(layout, (int)(s->indent * PANGO_SCALE));
    pango_layout_set_alignment(layout, s->align);
    pango_layout_set_justify(layout, s->justify);
    return layout;
}

/* 正文下空一行 before the signature (once, not between signature lines) */
static double gap_before(const struct sifa_doc *doc, size_t i)
{
    const struct sifa_doc_block *blk = &doc->blocks[i];
    return blk->kind == SIFA_BLOCK_SIGNATURE && i > 0 && doc->blocks[i - 1].kind != SIFA_BLOCK_SIGNATURE ? LINE
                                                                                                      : 0;
}

/* The room a title or heading at i needs at the bottom of a page: itself, the titles and headings
 * right after it, and the first line of the block they introduce (as Word's "keep with next"
 * chains). Beyond a page it stops counting: then nothing can keep them together anyway. */
static double keep_room(struct pdf *pdf, const struct sifa_doc *doc, size_t i, int lines)
{
    struct block_style s = block_style(doc->blocks[i].kind);
    double need = lines * s.line + s.after;
    for (size_t j = i + 1; j < doc->nblocks && need <= TEXT_BOTTOM - MARGIN_TOP; j++) {
        struct block_style t = block_style(doc->blocks[j].kind);
        need += gap_before(doc, j);
        if (!t.keep_next) {
            need += t.line;
            break;
        }
        PangoLayout *layout = block_layout(pdf, &doc->blocks[j], &t);
        need += pango_layout_get_line_count(layout) * t.line + t.after;
        g_object_unref(layout);
    }
    return need;
}

static void draw_block(struct pdf *pdf, const struct sifa_doc *doc, size_t i)
{
    const struct sifa_doc_block *blk = &doc->blocks[i];
    struct block_style s = block_style(blk->kind);
    PangoLayout *layout = block_layout(pdf, blk, &s);

    if (!at_page_top(pdf))
        pdf->y += gap_before(doc, i);
    /* a title or heading starts a page rather than end one */
    if (s.keep_next && !at_page_top(pdf) &&
        pdf->y + keep_room(pdf, doc, i, pango_layout_get_line_count(layout)) > TEXT_BOTTOM + EPSILON)
        new_page(pdf);

    PangoLayoutIter *it = pango_layout_get_iter(layout);
    do {
        if (pdf->y + s.line > TEXT_BOTTOM + EPSILON)
            new_page(pdf);
        PangoLayoutLine *line = pango_layout_iter_get_line_readonly(it);
        PangoRectangle logical;
        pango_layout_iter_get_line_extents(it, NULL, &logical);
        double ascent = (double)(pango_layout_iter_get_baseline(it) - logical.y) / PANGO_SCALE;
        double height = (double)logical.height / PANGO_SCALE;
        double baseline = pdf->y + (s.line - height) / 2 + ascent;
        cairo_set_source_rgb(pdf->cr, 0, 0, 0);
        cairo_move_to(pdf->cr, MARGIN_LEFT + (double)logical.x / PANGO_SCALE, baseline);
        pango_cairo_show_layout_line(pdf->cr, line);
        pdf->y += s.line;
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
    g_object_unref(layout);
    pdf->y += s.after;
}

/* ---- setup ---- */

static int pdf_failed(struct sifa_error *err, const char *what)
{
    return sifa_error_set(err, SIFA_EINTERNAL, "pdf_failed", "生成 PDF 文件失败：%s", what);
}

/* The family fontconfig really gives for family (pango substitutes silently). */
static bool have_font(struct pdf *pdf, const char *family)
{
    PangoFontDescription *fd = pango_font_description_from_string(family);
    pango_font_description_set_absolute_size(fd, BODY_SIZE * PANGO_SCALE);
    PangoFont *font = pango_font_map_load_font(pdf->fontmap, pdf->ctx, fd);
    pango_font_description_free(fd);
    if (font == NULL)
        return false;
    PangoFontDescription *got = pango_font_describe(font);
    const char *name = pango_font_description_get_family(got);
    bool ok = name != NULL && strcasecmp(name, family) == 0;
    pango_font_description_free(got);
    g_object_unref(font);
    return ok;
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

static void pdf_free(struct pdf *pdf)
{
    if (pdf->ctx != NULL)
        g_object_unref(pdf->ctx);
    if (pdf->fontmap != NULL)
        g_object_unref(pdf->fontmap);
    if (pdf->cr != NULL)
        cairo_destroy(pdf->cr);
    if (pdf->surface != NULL)
        cairo_surface_destroy(pdf->surface);
    free(pdf->out.data);
}

int sifa_doc_to_pdf(const struct sifa_doc *doc, char **ret_buf, size_t *ret_len, struct sifa_error *err)
{
    if (doc == NULL || ret_buf == NULL || ret_len == NULL)
        return pdf_failed(err, "参数为空");
    int r = check_size(doc, err);
    if (r < 0)
        return r;

    struct pdf pdf = {0};
    pdf.fontmap = pango_cairo_font_map_new();
    pdf.ctx = pango_font_map_create_context(pdf.fontmap);
    if (!have_font(&pdf, SERIF) || !have_font(&pdf, SANS)) {
        r = pdf_failed(err, "缺少字体 " SERIF " 或 " SANS "（Debian 软件包 fonts-noto-cjk）");
        goto out;
    }

    pdf.surface = cairo_pdf_surface_create_for_stream(write_out, &pdf, PAGE_W, PAGE_H);
    if (cairo_surface_status(pdf.surface) != CAIRO_STATUS_SUCCESS) {
        r = pdf_failed(err, cairo_status_to_string(cairo_surface_status(pdf.surface)));
        goto out;
    }
    struct sifa_strbuf title = {0};
    sifa_strbuf_add(&title, "", 0);
    buf_text(&title, doc->title ? doc->title : "");
    cairo_pdf_surface_set_metadata(pdf.surface, CAIRO_PDF_METADATA_TITLE, title.data);
    cairo_pdf_surface_set_metadata(pdf.surface, CAIRO_PDF_METADATA_CREATOR, "sifa");
    free(title.data);

    pdf.cr = cairo_create(pdf.surface);
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(pdf.ctx, fo);
    cairo_font_options_destroy(fo);
    pango_cairo_context_set_resolution(pdf.ctx, 72);
    pango_context_set_round_glyph_positions(pdf.ctx, FALSE);
    pango_context_set_language(pdf.ctx, pango_language_from_string("zh-cn"));
    pango_cairo_update_context(pdf.cr, pdf.ctx);

    start_page(&pdf);
    for (size_t i = 0; i < doc->nblocks; i++)
        draw_block(&pdf, doc, i);
    end_page(&pdf);

    cairo_status_t st = cairo_status(pdf.cr);
    cairo_destroy(pdf.cr);
    pdf.cr = NULL;
    cairo_surface_finish(pdf.surface);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(pdf.surface);
    if (st != CAIRO_STATUS_SUCCESS) {
        r = pdf_failed(err, cairo_status_to_string(st));
        goto out;
    }
    *ret_buf = pdf.out.data;
    *ret_len = pdf.out.len;
    pdf.out.data = NULL;
out:
    pdf_free(&pdf);
    return r;
}
