/* report.h — the bureau's reports: a document model every renderer shares, the annual report built
 * from a template in reports/ with figures read through the stats layer, its renderers (Markdown,
 * HTML, DOCX, PDF), and the checker that finds and verifies figure claims in any report text.
 * Layer: report (above stats).
 *
 * Ownership: a struct sifa_doc owns everything in it (sifa_doc_free); renderers read it and return
 * new buffers (free()). */
#ifndef SIFA_REPORT_H
#define SIFA_REPORT_H

#include "base/common.h"
#include "db/db.h"
#include "model/model.h"

/* ---- the document model ---- */

enum sifa_doc_run_kind {
    SIFA_RUN_TEXT,   /* plain text */
    SIFA_RUN_FIGURE, /* a figure from an indicator: text is its formatted value ("12033", "1.78亿") */
};

struct sifa_doc_run {
    enum sifa_doc_run_kind kind;
    char *text;      /* UTF-8, never NULL */
    char *indicator; /* FIGURE: the indicator code */
    char *href;      /* FIGURE: the drill-down of its records (API path with query), or NULL */
    bool missing;    /* FIGURE: no value to show: text says why ("【无数据】", "【无权查看】") */
    bool denied;     /* FIGURE, with missing: the caller may not read the records behind it */
};

enum sifa_doc_block_kind {
    SIFA_BLOCK_TITLE,     /* 关于…的报告 (centred, 2号小标宋 in GB/T 9704 terms) */
    SIFA_BLOCK_ADDRESSEE, /* 市委、市政府: (flush left, no indent) */
    SIFA_BLOCK_HEADING1,  /* 一、主要举措和成效 (黑体) */
    SIFA_BLOCK_HEADING2,  /* (一)… (楷体) */
    SIFA_BLOCK_HEADING3,  /* 1.… (仿宋 bold) */
    SIFA_BLOCK_PARAGRAPH, /* body text (3号仿宋, first line indented two characters) */
    SIFA_BLOCK_SIGNATURE, /* 慈溪市司法局 (right aligned) */
    SIFA_BLOCK_DATE,      /* 2022年1月10日 (right aligned) */
};

struct sifa_doc_block {
    enum sifa_doc_block_kind kind;
    size_t nruns;
    struct sifa_doc_run *runs;
};

struct sifa_doc {
    char *title; /* the document's title (also the first TITLE block's text) */
    size_t nblocks, cap;
    struct sifa_doc_block *blocks;
};

struct sifa_doc *sifa_doc_new(const char *title);
void sifa_doc_free(struct sifa_doc *doc);
/* Appends an empty block and returns it. */
struct sifa_doc_block *sifa_doc_add_block(struct sifa_doc *doc, enum sifa_doc_block_kind kind);
void sifa_doc_add_text(struct sifa_doc_block *b, const char *text);
void sifa_doc_add_figure(struct sifa_doc_block *b, const char *text, const char *indicator, const char *href,
                         bool missing);
/* A figure the caller may not read (missing and denied): text says so ("【无权查看】"). */
void sifa_doc_add_denied_figure(struct sifa_doc_block *b, const char *text, const char *indicator, const char *href);
/* The whole text of a block (runs concatenated; new string). */
char *sifa_doc_block_text(const struct sifa_doc_block *b);

/* ---- renderers (report/render.c, report/docx.c, report/pdf.c) ----
 * Each returns 0 and a new buffer, or a negative status with err set. */
int sifa_doc_to_markdown(const struct sifa_doc *doc, char **ret_buf, size_t *ret_len, struct sifa_error *err);
/* HTML: a complete page (UTF-8, escaped); every figure links to its href; a missing figure is marked
 * (class "missing") so that it cannot pass for a value. */
int sifa_doc_to_html(const struct sifa_doc *doc, char **ret_buf, size_t *ret_len, struct sifa_error *err);
/* DOCX (OOXML, opens in Word and WPS): A4, GB/T 9704-like margins and fonts, page numbers. */
int sifa_doc_to_docx(const struct sifa_doc *doc, char **ret_buf, size_t *ret_len, struct sifa_error *err);
/* PDF through cairo + pango with a Noto CJK font: A4, page numbers. */
int sifa_doc_to_pdf(const struct sifa_doc *doc, char **ret_buf, size_t *ret_len, struct sifa_error *err);

/* ---- the annual report: template (report/template.c) ----
 * A template is UTF-8 text (reports/annual.md; the syntax is described at the top of that file and
 * of template.c): lines "# " title, "## " "### " "#### " headings, "@addressee ", "@signature ",
 * "@date " lines, paragraphs (consecutive lines joined; a blank line ends one), <!-- comments -->,
 * and placeholders: {{code}} / {{code|format[:arg]}} a figure of indicator code; {{year}},
 * {{year-N}}, {{year+N}}, {{date}}, {{org_name}}; {{#passage key}}default text{{/passage}} and
 * {{passage:key}} narrative passages whose text staff edit per year and org.
 * A parsed template is immutable: any number of threads may read one. */
#define SIFA_REPORT_TEMPLATE_MAX_BYTES (512 * 1024)
#define SIFA_REPORT_PASSAGE_MAX_BYTES (32 * 1024) /* a passage's text, stored or default */
#define SIFA_REPORT_PASSAGE_KEY_MAX 64
#define SIFA_REPORT_PLACEHOLDERS_MAX 4096
#define SIFA_REPORT_PASSAGES_MAX 512

struct sifa_report_template;
/* Parses text[0..len) (name is used in messages: "reports/annual.md:12:5: …"). Errors:
 * SIFA_EINVALID "template_syntax" (details {file, line, column}), SIFA_ELIMIT "template_too_large".
 * *ret new (sifa_report_template_free). */
int sifa_report_template_parse(const char *text, size_t len, const char *name, struct sifa_report_template **ret,
                               struct sifa_error *err);
/* Reads and parses the file at path (SIFA_ENOTFOUND "template_missing" when it cannot be read). */
int sifa_report_template_load(const char *path, struct sifa_report_template **ret, struct sifa_error *err);
void sifa_report_template_free(struct sifa_report_template *t); /* accepts NULL */
/* Checks the template against the indicators: every code exists, money formats (元/万元/亿元) only on
 * indicators in 元. SIFA_EINVALID "template_indicator" / "template_format" with line:column. */
int sifa_report_template_check(const struct sifa_report_template *t, const struct sifa_model *model,
                               struct sifa_error *err);
/* The distinct indicator codes the template uses, in order of first use (borrowed from t). */
size_t sifa_report_template_ncodes(const struct sifa_report_template *t);
const char *sifa_report_template_code(const struct sifa_report_template *t, size_t i);
/* The passages, in template order: key and default text (paragraphs separated by one '\n'; "" when
 * the template gives none), both borrowed from t. find: index or -1. */
size_t sifa_report_template_npassages(const struct sifa_report_template *t);
const char *sifa_report_template_passage_key(const struct sifa_report_template *t, size_t i);
const char *sifa_report_template_passage_default(const struct sifa_report_template *t, size_t i);
int sifa_report_template_find_passage(const struct sifa_report_template *t, const char *key);

/* Formats one figure: item is an entry of sifa_stats_read's "items"; spec a format as written after
 * the '|' ("亿元:2", "余", "phrase"; NULL or "" for the indicator's own text). *ret_text new.
 * SIFA_ENOTFOUND "no_data" when the item has no value (or no change for "phrase"): the caller shows
 * the figure as missing, never as 0; SIFA_EINVALID "template_format" for a bad spec. */
int sifa_report_format_figure(const char *spec, json_t *item, char **ret_text, struct sifa_error *err);

struct sifa_calendar;
struct sifa_org_tree;
struct sifa_record_scope;
struct sifa_module;

struct sifa_report_request {
    const struct sifa_report_template *tmpl; /* borrowed; checked against model by the build */
    const struct sifa_model *model;          /* borrowed */
    const struct sifa_calendar *calendar;    /* borrowed; may be NULL */
    const struct sifa_org_tree *tree;        /* borrowed */
    /* the caller's row scope per module (see stats.h); sifa_stats_scope_all for the CLI and
     * system jobs; NULL: nothing readable. A figure over a
     * module the caller may not read is shown as missing ("【无权查看】"), the report still builds. */
    const struct sifa_record_scope *(*scope_for)(void *arg, const struct sifa_module *m);
    void *scope_arg;
    int year;            /* the report's year: figures for its 1 January … 31 December */
    const char *org;     /* org unit code, or NULL for everything the caller may see */
    int32_t date;        /* yyyymmdd printed by {{date}}; 0: today in China (UTC+8) */
    json_t *passages;    /* {key: text} stored for this year and org (borrowed), or NULL */
};

/* Builds the annual report: the figures through sifa_stats_read (one read for all, plus one per
 * figure over a stock until stats.c's series cache is fixed, see template.c), then the blocks of
 * the template. Thread-safe for distinct db connections (the template and model are read-only).
 * A figure without data is a FIGURE run with missing = true and text "【无数据】" (never a 0);
 * its href is "/api/v1/indicators/<code>/records?period=<year>[&org=<org>]".
 * *ret_doc new; *ret_info (may be NULL) new: {"figures": n, "missing": [codes], "denied": [codes],
 * "stale": [codes]}. Errors: those of sifa_report_template_check and sifa_stats_read
 * (e.g. SIFA_ENOTFOUND "org_not_found"), SIFA_EINVALID "bad_year". db: a read connection. */
int sifa_report_annual_build(struct sifa_db *db, const struct sifa_report_request *req, struct sifa_doc **ret_doc,
                             json_t **ret_info, struct sifa_error *err);

/* ---- passages (report/passages.c): narrative text per (year, org, key) ----
 * Table report_passages, created by the migration below (applied with the core and auth ones). */
extern const struct sifa_db_migration sifa_report_migrations[];
extern const size_t sifa_report_migrations_count;
/* The stored passages of year and org (NULL: the whole jurisdiction): *ret new
 * {key: {"text", "updated_at", "updated_by"}}. */
int sifa_report_passages_load(struct sifa_db *db, int year, const char *org, json_t **ret, struct sifa_error *err);
/* Checks a passage's text: UTF-8 (jansson guarantees it), at most SIFA_REPORT_PASSAGE_MAX_BYTES, no
 * control characters but newline, tab and carriage return. SIFA_EINVALID "validation" / SIFA_ELIMIT. */
int sifa_report_passage_validate(const char *text, struct sifa_error *err);
/* Stores (text != NULL) or removes (text == NULL: back to the template's default) one passage.
 * Runs on a writable connection, inside the caller's transaction. at: ISO time; actor may be NULL. */
int sifa_report_passage_put(struct sifa_db *db, int year, const char *org, const char *key, const char *text,
                            const char *actor, const char *at, struct sifa_error *err);
/* {key: text} of the stored passages, ready for sifa_report_request.passages (new). */
json_t *sifa_report_passages_texts(json_t *stored);

#endif
