/* report.c — `sifa report annual`: the bureau's annual report on building a law-based government,
 * every figure read from the records' aggregates, written as Markdown, HTML, DOCX or PDF.
 * Layer: cli. The command line sees the whole database (no row scope), like the other
 * administration commands; each generation is audited ("report.generate", actor "cli") before
 * the report is written out, so no report leaves unrecorded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "auth/audit.h"
#include "auth/personal.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "record/record.h"
#include "report/report.h"
#include "stats/stats.h"

/* DOCX and PDF come from report/docx.c and report/pdf.c; a build without them still links, and
 * those formats are then refused as unsupported. */
#pragma weak sifa_doc_to_docx
#pragma weak sifa_doc_to_pdf


static const char report_usage[] =
    "用法 usage:\n"
    "  sifa report annual --year Y [--org CODE] --format html|md|docx|pdf [--out FILE] [--template FILE]\n"
    "                     [--date YYYY-MM-DD]\n\n"
    "生成法治政府建设年度报告:模板(默认 reports/annual.md)中每个数字都由记录统计得出,无数据的数字标为\n"
    "【无数据】;叙述段落取本年度、本单位已保存的文字,未保存的用模板中的默认文字。--out 缺省时写到标准输出\n"
    "(docx、pdf 必须给出 --out)。--date 为落款日期,缺省为今天。\n\n";

struct report_opts {
    const char *year, *org, *format, *out, *tmpl, *date;
};

/* The renderer for a format name, or NULL (unknown or not built). */
typedef int (*render_fn)(const struct sifa_doc *, char **, size_t *, struct sifa_error *);

static int pick_renderer(const char *format, render_fn *ret, struct sifa_error *err)
{
    render_fn fn = NULL;
    if (strcmp(format, "md") == 0 || strcmp(format, "markdown") == 0)
        fn = sifa_doc_to_markdown;
    else if (strcmp(format, "html") == 0)
        fn = sifa_doc_to_html;
    else if (strcmp(format, "docx") == 0 || strcmp(format, "pdf") == 0) {
        fn = strcmp(format, "docx") == 0 ? sifa_doc_to_docx : sifa_doc_to_pdf;
        if (fn == NULL)
            return sifa_error_set(err, SIFA_EUNSUPPORTED, "format_unsupported", "此版本不支持生成 %s 格式", format);
    } else {
        return sifa_error_set(err, SIFA_EINVALID, "usage", "--format 应为 html、md、docx 或 pdf");
    }
    *ret = fn;
    return 0;
}

static int parse_date(const char *text, int32_t *ret, struct sifa_error *err)
{
    struct sifa_period p;
    if (sifa_period_parse(text, &p, NULL) < 0 || p.kind != 'R' || p.from != p.to)
        return sifa_error_set(err, SIFA_EINVALID, "usage", "--date 应为 YYYY-MM-DD 格式的日期");
    *ret = p.from;
    return 0;
}

static int audit_generation(struct sifa_db *db, const struct sifa_keyring *keyring, const struct report_opts *o,
                            int year, json_t *info, struct sifa_error *err)
{
    json_t *details = json_pack("{s:i,s:s?,s:s,s:O,s:O,s:O}", "year", year, "org", o->org, "format", o->format, "figures",
                                json_object_get(info, "figures"), "missing", json_object_get(info, "missing"), "denied",
                                json_object_get(info, "denied"));
    struct sifa_audit_entry e = {.actor = "cli", .address = "console", .action = "report.generate",
                                 .target = "annual", .details = details};
    int rc = sifa_db_begin(db, err);
    if (rc >= 0) {
        rc = sifa_audit_append(db, sifa_keyring_audit_key(keyring), &e, NULL, err);
        if (rc >= 0)
            rc = sifa_db_commit(db, err);
        else
            sifa_db_rollback(db, NULL);
    }
    json_decref(details);
    return rc;
}

static int write_out(const char *path, const char *buf, size_t len, struct sifa_error *err)
{
    FILE *f = path ? fopen(path, "wb") : stdout;
    if (f == NULL)
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "write_failed", "无法写入 %s", path);
    bool ok = fwrite(buf, 1, len, f) == len;
    ok = (f != stdout ? fclose(f) == 0 : fflush(f) == 0) && ok;
    if (!ok)
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "write_failed", "写入 %s 失败", path ? path : "标准输出");
    return 0;
}

static void print_summary(const struct report_opts *o, json_t *info, size_t len)
{
    size_t nmissing = json_array_size(json_object_get(info, "missing")),
           ndenied = json_array_size(json_object_get(info, "denied"));
    fprintf(stderr, "sifa: 已生成 %s 年度报告 generated (%s, %zu 字节 bytes%s%s):%lld 个数字 figures", o->year,
            o->format, len, o->out ? " → " : "", o->out ? o->out : "",
            (long long)json_integer_value(json_object_get(info, "figures")));
    if (nmissing + ndenied == 0) {
        fprintf(stderr, ",全部有数据\n");
    } else {
        fprintf(stderr, ",%zu 个无数据 missing:", nmissing + ndenied);
        size_t i, shown = 0;
        json_t *v;
        json_array_foreach(json_object_get(info, "missing"), i, v) if (shown++ < 12) fprintf(stderr, " %s", json_string_value(v));
        json_array_foreach(json_object_get(info, "denied"), i, v) if (shown++ < 12) fprintf(stderr, " %s", json_string_value(v));
        fprintf(stderr, "%s\n", shown > 12 ? " …" : "");
    }
    json_t *stale = json_object_get(info, "stale");
    if (json_array_size(stale) > 0)
        fprintf(stderr, "sifa: 注意:%zu 个指标的定义已变化,汇总需 sifa stats rebuild 后才可信 (stale aggregates)\n",
                json_array_size(stale));
}

static int run_annual(const struct sifa_config *cfg, const struct report_opts *o, struct sifa_error *err)
{
    if (o->year == NULL)
        return sifa_error_set(err, SIFA_EINVALID, "usage", "缺少 --year");
    if (o->format == NULL)
        return sifa_error_set(err, SIFA_EINVALID, "usage", "缺少 --format(html、md、docx 或 pdf)");
    char *end;
    long year = strtol(o->year, &end, 10);
    if (*end != '\0' || end == o->year || year < 1900 || year > 2999)
        return sifa_error_set(err, SIFA_EINVALID, "usage", "--year 应为 1900 到 2999 之间的年份");
    render_fn render = NULL;
    int rc = pick_renderer(o->format, &render, err);
    if (rc < 0)
        return rc;
    if ((strcmp(o->format, "docx") == 0 || strcmp(o->format, "pdf") == 0) && o->out == NULL)
        return sifa_error_set(err, SIFA_EINVALID, "usage", "%s 格式需要 --out 文件", o->format);
    int32_t date = 0;
    if (o->date != NULL && (rc = parse_date(o->date, &date, err)) < 0)
        return rc;

    struct sifa_report_template *tmpl = NULL;
    struct sifa_model *model = NULL;
    struct sifa_calendar *calendar = NULL;
    struct sifa_db *db = NULL;
    struct sifa_keyring *keyring = NULL;
    struct sifa_org_tree *tree = NULL;
    json_t *stored = NULL, *texts = NULL, *info = NULL;
    struct sifa_doc *doc = NULL;
    char *buf = NULL;
    size_t len = 0;
    rc = sifa_report_template_load(o->tmpl ? o->tmpl : cfg->report_template, &tmpl, err);
    if (rc >= 0)
        rc = sifa_cli_migrate(&cfg->server.db, err);
    if (rc >= 0)
        rc = sifa_cli_load_business(cfg, &model, &calendar, err);
    if (rc >= 0 && (model == NULL || model->nindicators == 0))
        rc = sifa_error_set(err, SIFA_ENOTFOUND, "no_indicators", "没有指标定义 (%s)", cfg->indicators_dir);
    if (rc >= 0)
        rc = sifa_report_template_check(tmpl, model, err);
    if (rc >= 0)
        rc = sifa_keyring_load(cfg->key_file, &keyring, err);
    if (rc >= 0)
        rc = sifa_db_open(&cfg->server.db, &db, err);
    if (rc >= 0)
        rc = sifa_org_tree_load(db, &tree, err);
    if (rc >= 0 && o->org != NULL && sifa_org_tree_find(tree, o->org) < 0)
        rc = sifa_error_set_details(err, SIFA_ENOTFOUND, "org_not_found", json_pack("{s:s}", "org", o->org),
                                    "单位 %s 不存在", o->org);
    if (rc >= 0 && (rc = sifa_report_passages_load(db, (int)year, o->org, &stored, err)) >= 0)
        texts = sifa_report_passages_texts(stored);
    if (rc >= 0) {
        struct sifa_report_request req = {.tmpl = tmpl, .model = model, .calendar = calendar, .tree = tree,
                                          .scope_for = sifa_stats_scope_all, .year = (int)year, .org = o->org,
                                          .date = date, .passages = texts};
        rc = sifa_report_annual_build(db, &req, &doc, &info, err);
    }
    if (rc >= 0)
        rc = render(doc, &buf, &len, err);
    if (rc >= 0)
        rc = audit_generation(db, keyring, o, (int)year, info, err);
    if (rc >= 0)
        rc = write_out(o->out, buf, len, err);
    if (rc >= 0)
        print_summary(o, info, len);
    free(buf);
    sifa_doc_free(doc);
    json_decref(info);
    json_decref(texts);
    json_decref(stored);
    sifa_org_tree_free(tree);
    sifa_db_close(db);
    sifa_keyring_free(keyring);
    sifa_calendar_free(calendar);
    sifa_model_free(model);
    sifa_report_template_free(tmpl);
    return rc;
}

int sifa_cli_report(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        fputs(report_usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (strcmp(argv[0], "annual") != 0) {
        fprintf(stderr, "sifa: 未知的 report 子命令 %s [usage]\n\n%s", argv[0], report_usage);
        return 2;
    }
    struct report_opts o = {0};
    char *rest[64];
    int nrest = 0;
    for (int i = 1; i < argc && nrest < 62; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--year") == 0       ? &o.year
                            : strcmp(a, "--org") == 0      ? &o.org
                            : strcmp(a, "--format") == 0   ? &o.format
                            : strcmp(a, "--out") == 0      ? &o.out
                            : strcmp(a, "--template") == 0 ? &o.tmpl
                            : strcmp(a, "--date") == 0     ? &o.date
                                                           : NULL;
        if (slot != NULL && i + 1 < argc) {
            *slot = argv[++i];
        } else if (slot != NULL) {
            fprintf(stderr, "sifa: %s 缺少取值 [usage]\n", a);
            return 2;
        } else {
            /* a setting for sifa_cli_load_config: "--key value" (or "--key=value", --help) */
            rest[nrest++] = argv[i];
            if (strncmp(a, "--", 2) == 0 && strchr(a, '=') == NULL && strcmp(a, "--help") != 0 && i + 1 < argc)
                rest[nrest++] = argv[++i];
        }
    }
    struct sifa_config cfg;
    int status = 1;
    if (sifa_cli_load_config(nrest, rest, report_usage, &cfg, &status) < 0) {
        sifa_config_release(&cfg);
        return status;
    }
    struct sifa_error err = {0};
    int rc = run_annual(&cfg, &o, &err);
    if (rc < 0) {
        sifa_cli_print_error(&err);
        status = strcmp(err.code, "usage") == 0 ? 2 : 1;
    } else {
        status = 0;
    }
    sifa_error_release(&err);
    sifa_config_release(&cfg);
    return status;
}
