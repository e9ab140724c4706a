/* doc.c — the report document model (see report.h): titles, headings, paragraphs made of text and
 * figure runs. Layer: report. Owns every string in a document. */
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "report/report.h"

struct sifa_doc *sifa_doc_new(const char *title)
{
    struct sifa_doc *doc = sifa_xcalloc(1, sizeof(*doc));
    doc->title = sifa_xstrdup(title ? title : "");
    return doc;
}

void sifa_doc_free(struct sifa_doc *doc)
{
    if (doc == NULL)
        return;
    for (size_t i = 0; i < doc->nblocks; i++) {
        struct sifa_doc_block *b = &doc->blocks[i];
        for (size_t k = 0; k < b->nruns; k++) {
            free(b->runs[k].text);
            free(b->runs[k].indicator);
            free(b->runs[k].href);
        }
        free(b->runs);
    }
    free(doc->blocks);
    free(doc->title);
    free(doc);
}

struct sifa_doc_block *sifa_doc_add_block(struct sifa_doc *doc, enum sifa_doc_block_kind kind)
{
    if (doc->nblocks == doc->cap) {
        doc->cap = doc->cap ? doc->cap * 2 : 32;
        doc->blocks = sifa_xrealloc(doc->blocks, doc->cap * sizeof(*doc->blocks));
    }
    struct sifa_doc_block *b = &doc->blocks[doc->nblocks++];
    memset(b, 0, sizeof(*b));
    b->kind = kind;
    return b;
}

static struct sifa_doc_run *add_run(struct sifa_doc_block *b)
{
    b->runs = sifa_xrealloc(b->runs, (b->nruns + 1) * sizeof(*b->runs));
    struct sifa_doc_run *r = &b->runs[b->nruns++];
    memset(r, 0, sizeof(*r));
    return r;
}

void sifa_doc_add_text(struct sifa_doc_block *b, const char *text)
{
    if (text == NULL || text[0] == '\0')
        return;
    /* consecutive text runs are one run */
    if (b->nruns > 0 && b->runs[b->nruns - 1].kind == SIFA_RUN_TEXT) {
        struct sifa_doc_run *r = &b->runs[b->nruns - 1];
        size_t a = strlen(r->text), n = strlen(text);
        r->text = sifa_xrealloc(r->text, a + n + 1);
        memcpy(r->text + a, text, n + 1);
        return;
    }
    struct sifa_doc_run *r = add_run(b);
    r->kind = SIFA_RUN_TEXT;
    r->text = sifa_xstrdup(text);
}

void sifa_doc_add_figure(struct sifa_doc_block *b, const char *text, const char *indicator, const char *href,
                         bool missing)
{
    struct sifa_doc_run *r = add_run(b);
    r->kind = SIFA_RUN_FIGURE;
    r->text = sifa_xstrdup(text ? text : "");
    r->indicator = indicator ? sifa_xstrdup(indicator) : NULL;
    r->href = href ? sifa_xstrdup(href) : NULL;
    r->missing = missing;
}

void sifa_doc_add_denied_figure(struct sifa_doc_block *b, const char *text, const char *indicator, const char *href)
{
    sifa_doc_add_figure(b, text, indicator, href, true);
    b->runs[b->nruns - 1].denied = true;
}

char *sifa_doc_block_text(const struct sifa_doc_block *b)
{
    size_t len = 0;
    for (size_t i = 0; i < b->nruns; i++)
        len += strlen(b->runs[i].text);
    char *out = sifa_xmalloc(len + 1), *p = out;
    for (size_t i = 0; i < b->nruns; i++) {
        size_t n = strlen(b->runs[i].text);
        memcpy(p, b->runs[i].text, n);
        p += n;
    }
    *p = '\0';
    return out;
}
