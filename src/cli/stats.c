/* stats.c — `sifa stats`: read indicators, export periodic tables, verify the aggregates against
 * the records and rebuild them after a definition changes. Layer: cli. The command line has the
 * whole database in view (no row scope), like the other administration commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "record/record.h"
#include "stats/stats.h"
#include "stats/table.h"

static const char stats_usage[] =
    "用法 usage:\n"
    "  sifa stats show --period P [--org CODE] [--codes A,B] [--compare yoy|pop] [--by FIELD] [--json]\n"
    "  sifa stats table --period P [--org CODE] [--codes A,B | --table CODE] [--format csv|xlsx|json] [--out FILE]\n"
    "                   [--title T]\n"
    "  sifa stats verify [--year Y]     由记录重新计算全部指标并与汇总比对,有差异时退出码为 1\n"
    "  sifa stats rebuild [CODE...]     由记录重建汇总(指标定义变化后)\n\n"
    "期间 P: 2021 | 2021Q3 | 2021-07 | 2021-07-15 | 2021-01-01..2021-06-30\n"
    "table: 行为 --org 的下级单位(默认:唯一的顶级单位的下级)加合计行,列为指标;--table 用 indicators/ 中\n"
    "声明的统计表(如 enforcement_monthly 行政执法行为数据统计月报),其行可为某类单位(如各执法部门)。\n\n";

struct stats_opts {
    const char *period, *org, *codes, *compare, *by, *format, *out, *title, *table;
    bool json;
    int year;
    const char *names[64];
    size_t nnames;
};

/* Splits "a,b,c" into the indicators of the model (all of them when codes is NULL). */
static int pick_indicators(const struct sifa_model *model, const char *codes, const struct sifa_indicator ***ret,
                           size_t *ret_n, struct sifa_error *err)
{
    const struct sifa_indicator **list = sifa_xcalloc(model->nindicators + 1, sizeof(*list));
    size_t n = 0;
    if (codes == NULL) {
        for (size_t i = 0; i < model->nindicators; i++)
            list[n++] = &model->indicators[i];
    } else {
        char *copy = sifa_xstrdup(codes), *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
            const struct sifa_indicator *ind = sifa_model_indicator(model, tok);
            if (ind == NULL) {
                int r = sifa_error_set_details(err, SIFA_ENOTFOUND, "indicator_not_found", json_pack("{s:s}", "code", tok),
                                               "指标 %s 不存在", tok);
                free(copy);
                free(list);
                return r;
            }
            if (n < model->nindicators)
                list[n++] = ind;
        }
        free(copy);
    }
    *ret = list;
    *ret_n = n;
    return 0;
}

static void print_item(json_t *item)
{
    const char *text = json_string_value(json_object_get(item, "text"));
    const char *org = json_string_value(json_object_get(item, "org_name"));
    printf("%-28s %-14s %14s %-6s", json_string_value(json_object_get(item, "name")), org ? org : "全部",
           text ? text : "—", json_string_value(json_object_get(item, "unit")));
    if (text == NULL)
        printf("  (无数据 %s)", json_string_value(json_object_get(item, "reason")));
    json_t *change = json_object_get(item, "change");
    if (change != NULL)
        printf("  %s", json_string_value(json_object_get(change, "phrase")));
    else if (json_is_string(json_object_get(item, "phrase")))
        printf("  %s", json_string_value(json_object_get(item, "phrase")));
    json_t *bal = json_object_get(item, "balance");
    if (bal != NULL)
        printf("  期初 %lld + 新增 %lld − 减少 %lld = 期末 %lld", (long long)json_integer_value(json_object_get(bal, "opening")),
               (long long)json_integer_value(json_object_get(bal, "in")),
               (long long)json_integer_value(json_object_get(bal, "out")),
               (long long)json_integer_value(json_object_get(bal, "closing")));
    if (json_is_true(json_object_get(item, "stale")))
        printf("  [定义已变化,需 sifa stats rebuild]");
    printf("\n");
    size_t i;
    json_t *part;
    json_array_foreach(json_object_get(item, "breakdown"), i, part)
    {
        const char *pt = json_string_value(json_object_get(part, "text"));
        printf("    %-24s %14s\n", json_string_value(json_object_get(part, "label")), pt ? pt : "—");
    }
}

static int run_read(struct sifa_db *db, const struct sifa_model *model, const struct sifa_calendar *cal,
                    const struct stats_opts *o, bool table, struct sifa_error *err)
{
    if (o->period == NULL)
        return sifa_error_set(err, SIFA_EINVALID, "usage", "缺少 --period");
    struct sifa_stats_request req = {.model = model, .calendar = cal, .scope_for = sifa_stats_scope_all};
    int r = sifa_period_parse(o->period, &req.period, err);
    if (r < 0)
        return r;
    if (o->compare != NULL) {
        req.compare = true;
        if (strcmp(o->compare, "yoy") == 0)
            req.compare_how = SIFA_COMPARE_PREVIOUS_YEAR;
        else if (strcmp(o->compare, "pop") == 0)
            req.compare_how = SIFA_COMPARE_PREVIOUS_PERIOD;
        else
            return sifa_error_set(err, SIFA_EINVALID, "usage", "--compare 应为 yoy(同比)或 pop(环比)");
    }
    const struct sifa_indicator **inds = NULL;
    size_t ninds = 0;
    const struct sifa_stat_table *declared = NULL;
    if (o->table != NULL) {
        if (!table || o->codes != NULL)
            return sifa_error_set(err, SIFA_EINVALID, "usage", "--table 只用于 sifa stats table,且不能与 --codes 同时给出");
        if ((declared = sifa_model_table(model, o->table)) == NULL)
            return sifa_error_set(err, SIFA_ENOTFOUND, "table_not_found", "统计表 %s 不存在", o->table);
        inds = sifa_xcalloc(declared->ncolumns, sizeof(*inds));
        for (size_t i = 0; i < declared->ncolumns; i++)
            inds[ninds++] = declared->columns[i];
    } else if ((r = pick_indicators(model, o->codes, &inds, &ninds, err)) < 0) {
        return r;
    }
    struct sifa_org_tree *tree = NULL;
    if ((r = sifa_org_tree_load(db, &tree, err)) < 0) {
        free(inds);
        return r;
    }
    req.tree = tree;
    req.indicators = inds;
    req.nindicators = ninds;
    if (o->by != NULL) {
        for (size_t i = 0; i < ninds && req.by == NULL; i++)
            if (inds[i]->module != NULL)
                req.by = sifa_module_field(inds[i]->module, o->by);
        if (req.by == NULL || req.by->type != SIFA_FIELD_ENUM)
            r = sifa_error_set(err, SIFA_EINVALID, "bad_breakdown", "--by %s 不是所选指标的代码字段", o->by);
    }
    const char **orgs = NULL;
    size_t norgs = 0;
    if (r >= 0 && table) {
        sifa_stats_table_rows(tree, o->org, declared ? declared->row_kind : NULL, &orgs, &norgs);
    } else if (r >= 0) {
        orgs = sifa_xcalloc(1, sizeof(*orgs));
        orgs[norgs++] = o->org;
    }
    req.orgs = orgs;
    req.norgs = norgs;
    if (r >= 0 && !table) {
        json_t *data;
        if ((r = sifa_stats_read(db, &req, &data, err)) >= 0) {
            if (o->json) {
                char *s = json_dumps(data, JSON_INDENT(2));
                printf("%s\n", s ? s : "null");
                free(s);
            } else {
                printf("统计期间 %s\n", json_string_value(json_object_get(json_object_get(data, "period"), "label")));
                size_t i;
                json_t *item;
                json_array_foreach(json_object_get(data, "items"), i, item) print_item(item);
            }
            json_decref(data);
        }
    } else if (r >= 0) {
        char title[256], subtitle[256];
        int parent = sifa_org_tree_find(tree, orgs[norgs - 1]);
        const char *unit = parent >= 0 ? tree->nodes[parent].name : "";
        if (o->title != NULL)
            snprintf(title, sizeof(title), "%s", o->title);
        else if (declared != NULL)
            snprintf(title, sizeof(title), "%s%s", strstr(declared->title, unit) ? "" : unit, declared->title);
        else
            snprintf(title, sizeof(title), "%s业务统计表", unit);
        snprintf(subtitle, sizeof(subtitle), "统计期间:%s  单位:%s", req.period.label,
                 parent >= 0 ? tree->nodes[parent].name : "全部");
        struct sifa_table *t = NULL;
        if ((r = sifa_stats_table(db, &req, title, subtitle, &t, err)) >= 0) {
            const char *format = o->format ? o->format : "csv";
            char *buf = NULL;
            size_t len = 0;
            if (strcmp(format, "xlsx") == 0) {
                if (o->out == NULL)
                    r = sifa_error_set(err, SIFA_EINVALID, "usage", "xlsx 需要 --out 文件");
                else
                    r = sifa_table_write_xlsx(t, o->out, err);
            } else if (strcmp(format, "csv") == 0 || strcmp(format, "json") == 0) {
                if (strcmp(format, "csv") == 0) {
                    r = sifa_table_to_csv(t, &buf, &len, err);
                } else {
                    json_t *j = sifa_table_to_json(t);
                    buf = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
                    len = buf ? strlen(buf) : 0;
                    json_decref(j);
                    if (buf == NULL)
                        r = sifa_table_check(t, err);
                }
                FILE *f = r >= 0 ? (o->out ? fopen(o->out, "wb") : stdout) : NULL;
                if (r >= 0 && f == NULL)
                    r = sifa_error_set(err, SIFA_EUNAVAILABLE, "write_failed", "无法写入 %s", o->out);
                if (f != NULL) {
                    bool ok = fwrite(buf, 1, len, f) == len;
                    if (f != stdout)
                        ok = fclose(f) == 0 && ok;
                    if (!ok)
                        r = sifa_error_set(err, SIFA_EUNAVAILABLE, "write_failed", "写入 %s 失败",
                                           o->out ? o->out : "标准输出");
                }
            } else {
                r = sifa_error_set(err, SIFA_EINVALID, "usage", "--format 应为 csv、xlsx 或 json");
            }
            free(buf);
            sifa_table_free(t);
        }
    }
    free(orgs);
    free(inds);
    sifa_org_tree_free(tree);
    return r;
}

static void print_diffs(json_t *diffs)
{
    size_t i;
    json_t *d;
    json_array_foreach(diffs, i, d)
    {
        if (json_object_get(d, "more") != NULL) {
            printf("……另有 %lld 处差异未列出\n", (long long)json_integer_value(json_object_get(d, "more")));
            continue;
        }
        json_t *e = json_object_get(d, "expected"), *a = json_object_get(d, "actual");
        const char *key = json_string_value(json_object_get(d, "key"));
        printf("差异 %s 序列 %s %s %s 单位“%s”%s%s%s: 应为 %lld(%lld 条),汇总为 %lld(%lld 条)\n",
               json_string_value(json_object_get(d, "indicator")), json_string_value(json_object_get(d, "series")),
               json_string_value(json_object_get(d, "level")), json_string_value(json_object_get(d, "period")),
               json_string_value(json_object_get(d, "org")),
               json_string_value(json_object_get(d, "dim"))[0] ? " 分类 " : "",
               json_string_value(json_object_get(d, "dim")), key ? " 键" : "",
               (long long)json_integer_value(json_object_get(e, "value")),
               (long long)json_integer_value(json_object_get(e, "n")),
               (long long)json_integer_value(json_object_get(a, "value")),
               (long long)json_integer_value(json_object_get(a, "n")));
    }
}

int sifa_cli_stats(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        fputs(stats_usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    const char *sub = argv[0];
    struct stats_opts o = {0};
    char *rest[64];
    int nrest = 0;
    for (int i = 1; i < argc && nrest < 62; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--period") == 0    ? &o.period
                            : strcmp(a, "--org") == 0     ? &o.org
                            : strcmp(a, "--codes") == 0   ? &o.codes
                            : strcmp(a, "--compare") == 0 ? &o.compare
                            : strcmp(a, "--by") == 0      ? &o.by
                            : strcmp(a, "--format") == 0  ? &o.format
                            : strcmp(a, "--out") == 0     ? &o.out
                            : strcmp(a, "--title") == 0   ? &o.title
                            : strcmp(a, "--table") == 0   ? &o.table
                                                          : NULL;
        if (slot != NULL && i + 1 < argc) {
            *slot = argv[++i];
        } else if (strcmp(a, "--json") == 0) {
            o.json = true;
        } else if (strcmp(a, "--year") == 0 && i + 1 < argc) {
            char *end;
            long y = strtol(argv[++i], &end, 10);
            if (*end != '\0' || y < 1900 || y > 2999) {
                fprintf(stderr, "sifa: --year 应为 1900 到 2999 之间的年份 [usage]\n");
                return 2;
            }
            o.year = (int)y;
        } else if (a[0] != '-' && strcmp(sub, "rebuild") == 0 && o.nnames < SIFA_ARRAY_SIZE(o.names)) {
            o.names[o.nnames++] = a;
        } else {
            /* a setting for sifa_cli_load_config: "--key value" (or "--key=value", --help) */
            rest[nrest++] = argv[i];
            if (strncmp(a, "--", 2) == 0 && strchr(a, '=') == NULL && strcmp(a, "--help") != 0 && i + 1 < argc)
                rest[nrest++] = argv[++i];
        }
    }
    if (strcmp(sub, "show") != 0 && strcmp(sub, "table") != 0 && strcmp(sub, "verify") != 0 &&
        strcmp(sub, "rebuild") != 0) {
        fprintf(stderr, "sifa: 未知的 stats 子命令 %s [usage]\n\n%s", sub, stats_usage);
        return 2;
    }
    struct sifa_config cfg;
    int status = 1;
    if (sifa_cli_load_config(nrest, rest, stats_usage, &cfg, &status) < 0) {
        sifa_config_release(&cfg);
        return status;
    }
    struct sifa_error err = {0};
    struct sifa_model *model = NULL;
    struct sifa_calendar *calendar = NULL;
    struct sifa_db *db = NULL;
    int rc = sifa_cli_migrate(&cfg.server.db, &err);
    if (rc >= 0)
        rc = sifa_cli_load_business(&cfg, &model, &calendar, &err);
    if (rc >= 0 && (model == NULL || model->nindicators == 0))
        rc = sifa_error_set(&err, SIFA_ENOTFOUND, "no_indicators", "没有指标定义 (%s)", cfg.indicators_dir);
    if (rc >= 0)
        rc = sifa_db_open(&cfg.server.db, &db, &err);
    if (rc >= 0)
        rc = sifa_record_connection_init(db, &err);
    status = 1;
    if (rc >= 0 && (strcmp(sub, "show") == 0 || strcmp(sub, "table") == 0)) {
        rc = run_read(db, model, calendar, &o, strcmp(sub, "table") == 0, &err);
        status = rc < 0 ? 1 : 0;
    } else if (rc >= 0 && strcmp(sub, "rebuild") == 0) {
        for (size_t i = 0; i < o.nnames && rc >= 0; i++) {
            const struct sifa_indicator *ind = sifa_model_indicator(model, o.names[i]);
            if (ind == NULL || ind->module == NULL)
                rc = sifa_error_set(&err, SIFA_ENOTFOUND, "indicator_not_found", "基础指标 %s 不存在", o.names[i]);
        }
        if (rc >= 0 && (rc = sifa_db_begin(db, &err)) >= 0) {
            rc = sifa_record_aggregates_rebuild(db, model, o.nnames ? o.names : NULL, o.nnames, &err);
            if (rc >= 0)
                rc = sifa_db_commit(db, &err);
            else
                sifa_db_rollback(db, NULL);
        }
        if (rc >= 0) {
            printf("sifa: 已重建汇总 rebuilt: %zu 个指标\n", o.nnames ? o.nnames : model->nindicators);
            status = 0;
        }
    } else if (rc >= 0) {
        json_t *diffs = NULL;
        if ((rc = sifa_db_begin(db, &err)) >= 0) {
            rc = sifa_record_aggregates_verify(db, model, o.year, &diffs, &err);
            sifa_db_rollback(db, NULL); /* verify writes only temporary tables */
        }
        if (rc >= 0) {
            print_diffs(diffs);
            size_t n = json_array_size(diffs);
            if (n == 0)
                printf("sifa: 汇总与记录一致 ok: %zu 个指标%s\n", model->nindicators, o.year ? "(所选年份)" : "");
            else
                printf("sifa: 汇总与记录不一致 MISMATCH,见上 (run sifa stats rebuild after fixing the cause)\n");
            status = n == 0 ? 0 : 1;
        }
        json_decref(diffs);
    }
    if (rc < 0)
        sifa_cli_print_error(&err);
    sifa_error_release(&err);
    sifa_db_close(db);
    sifa_model_free(model);
    sifa_calendar_free(calendar);
    sifa_config_release(&cfg);
    return status;
}
