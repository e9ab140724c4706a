/* check_report.c — `sifa check-report FILE`: finds the figure claims of a report (UTF-8 text,
 * Markdown or DOCX) and checks them (src/report/check.h); with a database, also against the
 * indicators. Layer: cli. Like the other administration commands it sees the whole database
 * (no row scope). Exit status: 0 no mismatch, 1 at least one MISMATCH, 2 usage errors and
 * anything that stops the check (unreadable file, invalid text, database errors) — 1 is kept
 * for mismatches so that scripts can tell a wrong report from a failed run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "report/check.h"
#include "stats/stats.h"

static const char check_usage[] =
    "用法 usage:\n"
    "  sifa check-report FILE [--year Y] [--org CODE] [--json] [--db FILE | --config FILE] [设置 settings]\n\n"
    "找出报告(UTF-8 文本、Markdown 或 DOCX;FILE 为 - 时读标准输入)中的每一处数字并核对:\n"
    "  部分与总数(“共…,其中…”、“…合计…”)、“等 N 个”列举、有分子分母的比率和占比、同比变化;\n"
    "  给出数据库(--db、--config 或 SIFA_DATABASE)时,还把能对应到指标(indicators/ 中的名称和单位)\n"
    "  的数字与该指标 --year 年度的数值比对。无法对应的数字记为 UNVERIFIABLE,不做猜测。\n"
    "--year 默认为报告标题或开头(前 600 字)写明的年份,没有则为上一年;--org 为单位代码(默认全部)。\n"
    "每处数字一行:行:列(按字符计)、OK / MISMATCH / UNVERIFIABLE、原文、应为的数值和说明;--json 输出 JSON。\n"
    "退出码:0 未发现错误,1 有 MISMATCH,2 用法错误或无法核查(文件、编码、数据库)。\n\n";

/* Reads a whole file (or standard input for "-"), at most SIFA_CHECK_REPORT_MAX bytes. */
static int read_input(const char *path, char **ret, size_t *ret_len, struct sifa_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        return sifa_error_set(err, SIFA_ENOTFOUND, "file_not_found", "无法打开 %s", path);
    size_t cap = 64 * 1024, len = 0;
    char *buf = sifa_xmalloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap > SIFA_CHECK_REPORT_MAX)
                break;
            cap *= 2;
            buf = sifa_xrealloc(buf, cap);
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    bool failed = ferror(f) != 0;
    if (f != stdin)
        fclose(f);
    if (failed) {
        free(buf);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "read_failed", "读取 %s 失败", path);
    }
    if (len > SIFA_CHECK_REPORT_MAX) {
        free(buf);
        return sifa_error_set(err, SIFA_ELIMIT, "report_too_large", "%s 超过 %d MiB 的上限", path,
                              SIFA_CHECK_REPORT_MAX / (1024 * 1024));
    }
    *ret = buf;
    *ret_len = len;
    return 0;
}

int sifa_cli_check_report(int argc, char **argv)
{
    const char *file = NULL, *org = NULL;
    bool json = false, want_db = getenv("SIFA_DATABASE") != NULL;
    int year = 0;
    char *rest[64];
    int nrest = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s%s", check_usage, sifa_config_help());
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--year") == 0 && i + 1 < argc) {
            char *end;
            long y = strtol(argv[++i], &end, 10);
            if (*end != '\0' || y < 1900 || y > 2100) {
                fprintf(stderr, "sifa: --year 应为 1900 到 2100 之间的年份 [usage]\n");
                return 2;
            }
            year = (int)y;
        } else if (strcmp(a, "--org") == 0 && i + 1 < argc) {
            org = argv[++i];
        } else if ((a[0] != '-' || strcmp(a, "-") == 0) && file == NULL) {
            file = a;
        } else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') == NULL && i + 1 < argc && nrest < 62) {
            /* a setting for sifa_cli_load_config: "--key value" */
            if (strcmp(a, "--db") == 0 || strcmp(a, "--database") == 0 || strcmp(a, "--config") == 0)
                want_db = true;
            rest[nrest++] = argv[i];
            rest[nrest++] = argv[++i];
        } else {
            fprintf(stderr, "sifa: 无法识别的参数 \"%s\" [usage]\n\n%s", a, check_usage);
            return 2;
        }
    }
    if (file == NULL) {
        fprintf(stderr, "sifa: 缺少要核查的文件 [usage]\n\n%s", check_usage);
        return 2;
    }
    if (org != NULL && !want_db) {
        fprintf(stderr, "sifa: --org 需要数据库(--db 或 --config) [usage]\n");
        return 2;
    }
    struct sifa_config cfg;
    int status = 2;
    if (sifa_cli_load_config(nrest, rest, check_usage, &cfg, &status) < 0) {
        sifa_config_release(&cfg);
        return status;
    }
    struct sifa_error err = {0};
    char *data = NULL, *text = NULL;
    size_t len = 0, tlen = 0;
    int rc = read_input(file, &data, &len, &err);
    if (rc >= 0 && sifa_report_is_docx(data, len)) {
        rc = sifa_report_docx_text(data, len, &text, &tlen, &err);
    } else if (rc >= 0) {
        text = data;
        tlen = len;
        data = NULL;
    }
    struct sifa_model *model = NULL;
    struct sifa_calendar *calendar = NULL;
    struct sifa_db *db = NULL;
    if (rc >= 0 && want_db) {
        rc = sifa_cli_migrate(&cfg.server.db, &err);
        if (rc >= 0)
            rc = sifa_cli_load_business(&cfg, &model, &calendar, &err);
        if (rc >= 0 && (model == NULL || model->nindicators == 0))
            rc = sifa_error_set(&err, SIFA_ENOTFOUND, "no_indicators", "没有指标定义 (%s)", cfg.indicators_dir);
        if (rc >= 0)
            rc = sifa_db_open(&cfg.server.db, &db, &err);
    }
    json_t *result = NULL;
    if (rc >= 0) {
        struct sifa_check_report_source src = {.db = db, .model = model, .calendar = calendar,
                                               .scope_for = sifa_stats_scope_all, .org = org};
        struct sifa_check_report_options opt = {.year = year, .source = want_db ? &src : NULL};
        rc = sifa_report_check(text, tlen, &opt, &result, &err);
    }
    status = 2;
    if (rc >= 0) {
        if (json) {
            char *s = json_dumps(result, JSON_INDENT(2));
            printf("%s\n", s ? s : "null");
            free(s);
        } else {
            char *s = sifa_report_check_to_text(result);
            fputs(s, stdout);
            free(s);
        }
        status = json_integer_value(json_object_get(result, "mismatches")) > 0 ? 1 : 0;
    } else {
        sifa_cli_print_error(&err);
        json_t *line = json_object_get(err.details, "line"), *column = json_object_get(err.details, "column");
        if (json_is_integer(line) && json_is_integer(column))
            fprintf(stderr, "sifa: 位置 %s:%lld:%lld\n", file, (long long)json_integer_value(line),
                    (long long)json_integer_value(column));
        else if (json_is_integer(line))
            fprintf(stderr, "sifa: 位置 %s:%lld\n", file, (long long)json_integer_value(line));
    }
    json_decref(result);
    sifa_error_release(&err);
    free(data);
    free(text);
    sifa_db_close(db);
    sifa_model_free(model);
    sifa_calendar_free(calendar);
    sifa_config_release(&cfg);
    return status;
}
