/* indicators.c — the statistics API: indicator values for any org unit and period (with 同比/环比),
 * their definitions, the records behind a figure (drill-down) and periodic tables as JSON, CSV or
 * XLSX. Layer: api. Every figure is read with the caller's row scope of the module it counts
 * (`<module>.read`), so a town's staff see their town's figures, and an indicator over a module
 * the caller may not read is refused (a derived one needs every base under it; a listing without
 * codes= leaves out what the caller may not read). A table without org= is the caller's own scope:
 * the highest units it may read (a town office's town, leadership's city), never units outside it.
 * Reads cost a few indexed queries and run on the event loop;
 * table exports are audited (exports are, per issue 4), and a table as a file (CSV, XLSX) also
 * needs `<module>.export` for every module it counts (see check_export and roles/roles.yaml);
 * the file is written on the worker pool and sent from disk once its audit entry is committed. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/common.h"
#include "api/api.h"
#include "record/record.h"
#include "stats/stats.h"
#include "stats/table.h"

/* Scopes by module for one request: built on first use, released with the request's reader. */
struct scopes {
    const struct sifa_principal *p;
    struct {
        const struct sifa_module *m;
        bool allowed;
        struct sifa_api_scope scope;
    } items[SIFA_MODEL_MODULES_MAX];
    size_t n;
};

static const struct sifa_record_scope *scope_for(void *arg, const struct sifa_module *m)
{
    struct scopes *s = arg;
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].m == m)
            return s->items[i].allowed ? &s->items[i].scope.scope : NULL;
    if (s->n >= SIFA_MODEL_MODULES_MAX)
        return NULL;
    char perm[SIFA_MODEL_CODE_MAX + 16];
    snprintf(perm, sizeof(perm), "%s.read", m->code);
    size_t i = s->n++;
    s->items[i].m = m;
    s->items[i].allowed = s->p != NULL && sifa_principal_can(s->p, perm);
    memset(&s->items[i].scope, 0, sizeof(s->items[i].scope));
    if (s->items[i].allowed)
        sifa_api_scope_build(s->p, perm, &s->items[i].scope);
    return s->items[i].allowed ? &s->items[i].scope.scope : NULL;
}

static void scopes_release(struct scopes *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].allowed)
            sifa_api_scope_release(&s->items[i].scope);
    free(s);
}

/* Everything a request needs to read figures; released by request_release. */
struct request {
    struct sifa_stats_request sr;
    const struct sifa_stat_table *table; /* a declared table, or NULL */
    struct sifa_org_tree *tree;
    const struct sifa_indicator **inds;
    const char **orgs; /* owned array, borrowed strings */
    struct scopes *scopes;
};

static void request_release(struct request *q)
{
    sifa_org_tree_free(q->tree);
    free(q->inds);
    free(q->orgs);
    if (q->scopes)
        scopes_release(q->scopes);
}

static int no_indicators(struct sifa_error *err)
{
    return sifa_error_set(err, SIFA_ENOTFOUND, "no_indicators", "没有指标定义");
}

static int default_period(const char *text, struct sifa_period *ret, struct sifa_error *err)
{
    if (text != NULL)
        return sifa_period_parse(text, ret, err);
    char year[8];
    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(year, sizeof(year), "%04d", (tm.tm_year + 1900) % 10000);
    return sifa_period_parse(year, ret, err);
}

/* Parses codes, org, period, compare and by into q. table: rows are the children of org (or of
 * the only root) and a total row. */
static int request_build(struct sifa_req *req, bool table, struct request *q, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    const struct sifa_query *query = sifa_req_query(req);
    memset(q, 0, sizeof(*q));
    const struct sifa_model *model = api->model;
    if (model == NULL || model->nindicators == 0)
        return no_indicators(err);
    q->sr.model = model;
    q->sr.calendar = api->calendar;
    q->scopes = sifa_xcalloc(1, sizeof(*q->scopes));
    q->scopes->p = sifa_req_principal(req);
    q->sr.scope_for = scope_for;
    q->sr.scope_arg = q->scopes;
    int r = default_period(sifa_query_get(query, "period"), &q->sr.period, err);
    if (r < 0)
        return r;
    const char *compare = sifa_query_get(query, "compare");
    if (compare != NULL) {
        q->sr.compare = true;
        if (strcmp(compare, "yoy") == 0)
            q->sr.compare_how = SIFA_COMPARE_PREVIOUS_YEAR;
        else if (strcmp(compare, "pop") == 0)
            q->sr.compare_how = SIFA_COMPARE_PREVIOUS_PERIOD;
        else
            return sifa_error_set_details(err, SIFA_EINVALID, "bad_compare", json_pack("{s:s}", "compare", compare),
                                          "compare 应为 yoy(同比)或 pop(环比)");
    }
    q->inds = sifa_xcalloc(model->nindicators + 1, sizeof(*q->inds));
    const char *codes = sifa_query_get(query, "codes");
    const char *table_code = table ? sifa_query_get(query, "table") : NULL;
    if (table_code != NULL) {
        q->table = sifa_model_table(model, table_code);
        if (q->table == NULL)
            return sifa_error_set_details(err, SIFA_ENOTFOUND, "table_not_found", json_pack("{s:s}", "table", table_code),
                                          "统计表 %s 不存在", table_code);
        if (codes != NULL)
            return sifa_error_set(err, SIFA_EINVALID, "bad_table", "table 与 codes 不能同时给出");
        for (size_t i = 0; i < q->table->ncolumns && i < model->nindicators; i++)
            q->inds[q->sr.nindicators++] = q->table->columns[i];
    } else if (codes == NULL) {
        /* Every indicator the caller may read, and only those: one it may not read is left out
         * of a listing (named in codes= it is refused). The same test as the reader's, so that
         * what is listed is never refused (a 同比 of a total over two modules needs both). */
        for (size_t i = 0; i < model->nindicators; i++) {
            const struct sifa_indicator *ind = &model->indicators[i];
            if (sifa_stats_indicator_readable(&q->sr, ind, NULL))
                q->inds[q->sr.nindicators++] = ind;
        }
    } else {
        char *copy = sifa_xstrdup(codes), *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok != NULL && r >= 0; tok = strtok_r(NULL, ",", &save)) {
            const struct sifa_indicator *ind = sifa_model_indicator(model, tok);
            if (ind == NULL)
                r = sifa_error_set_details(err, SIFA_ENOTFOUND, "indicator_not_found", json_pack("{s:s}", "code", tok),
                                           "指标 %s 不存在", tok);
            else if (q->sr.nindicators < model->nindicators)
                q->inds[q->sr.nindicators++] = ind;
        }
        free(copy);
        if (r < 0)
            return r;
    }
    q->sr.indicators = q->inds;
    const char *by = sifa_query_get(query, "by");
    if (by != NULL) {
        for (size_t i = 0; i < q->sr.nindicators && q->sr.by == NULL; i++)
            if (q->inds[i]->module != NULL)
                for (size_t k = 0; k < q->inds[i]->nby; k++)
                    if (strcmp(q->inds[i]->by[k]->code, by) == 0)
                        q->sr.by = q->inds[i]->by[k];
        if (q->sr.by == NULL)
            return sifa_error_set_details(err, SIFA_EINVALID, "bad_breakdown", json_pack("{s:s}", "by", by),
                                          "所选指标不能按 %s 分类", by);
    }
    if ((r = sifa_org_tree_load(sifa_req_db(req), &q->tree, err)) < 0)
        return r;
    q->sr.tree = q->tree;
    const char *org = sifa_query_get(query, "org");
    if (org != NULL && sifa_org_tree_find(q->tree, org) < 0)
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "org_not_found", json_pack("{s:s}", "org", org),
                                      "单位 %s 不存在", org);
    if (!table) {
        q->orgs = sifa_xcalloc(1, sizeof(*q->orgs));
        q->orgs[0] = org;
        q->sr.norgs = 1;
    } else if (org != NULL) {
        sifa_stats_table_rows(q->tree, org, q->table ? q->table->row_kind : NULL, &q->orgs, &q->sr.norgs);
    } else {
        /* no org: the caller's own scope (a town office's town), never units it may not read */
        sifa_stats_table_rows_in_scope(&q->sr, q->table ? q->table->row_kind : NULL, &q->orgs, &q->sr.norgs);
    }
    q->sr.orgs = q->orgs;
    return 0;
}

int sifa_api_indicators_read(struct sifa_req *req, struct sifa_error *err)
{
    struct request q;
    int r = request_build(req, false, &q, err);
    json_t *data = NULL;
    if (r >= 0)
        r = sifa_stats_read(sifa_req_db(req), &q.sr, &data, err);
    request_release(&q);
    if (r < 0)
        return r;
    const struct sifa_query *query = sifa_req_query(req);
    return sifa_api_respond_inspected(req, data, "stats.read", "indicators",
                                      json_pack("{s:s?,s:s?,s:s?,s:s?}", "codes", sifa_query_get(query, "codes"),
                                                "period", sifa_query_get(query, "period"), "org",
                                                sifa_query_get(query, "org"), "compare",
                                                sifa_query_get(query, "compare")),
                                      err);
}

int sifa_api_indicators_definitions(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    json_t *list = json_array();
    json_t *stale = NULL;
    if (api->model != NULL && sifa_stats_check_definitions(sifa_req_db(req), api->model, false, &stale, err) < 0) {
        json_decref(list);
        return err->status;
    }
    for (size_t i = 0; api->model != NULL && i < api->model->nindicators; i++) {
        const struct sifa_indicator *ind = &api->model->indicators[i];
        json_t *j = sifa_indicator_to_json(ind);
        char *formula = sifa_stats_formula(ind);
        json_object_set_new(j, "formula", json_string(formula));
        free(formula);
        bool is_stale = false;
        size_t k;
        json_t *c;
        json_array_foreach(stale, k, c) is_stale = is_stale || strcmp(json_string_value(c), ind->code) == 0;
        json_object_set_new(j, "stale", json_boolean(is_stale));
        json_array_append_new(list, j);
    }
    json_decref(stale);
    json_t *years = NULL;
    if (sifa_stats_years_with_data(sifa_req_db(req), api->model, &years, err) < 0) {
        json_decref(list);
        return err->status;
    }
    json_t *tables = json_array();
    for (size_t i = 0; api->model != NULL && i < api->model->ntables; i++)
        json_array_append_new(tables, sifa_stat_table_to_json(&api->model->tables[i]));
    sifa_resp_json(req, 200, json_pack("{s:o,s:o,s:o}", "indicators", list, "tables", tables, "years", years));
    return 0;
}

/* ---------- a table as a file, written off the event loop ---------- */

struct table_file {
    struct sifa_table *t; /* owned; built on the loop, only read on the worker */
    bool xlsx;
    char path[PATH_MAX]; /* the temporary file; "" once handed on or removed */
    char name[320];      /* the download's name */
    char title[256];
    json_t *details; /* owned: the audit entry's */
};

static void table_file_free(struct table_file *f)
{
    if (f->path[0])
        unlink(f->path);
    sifa_table_free(f->t);
    json_decref(f->details);
    free(f);
}

static int table_file_run(void *ctx, struct sifa_error *err)
{
    struct table_file *f = ctx;
    if (f->xlsx)
        return sifa_table_write_xlsx(f->t, f->path, err);
    char *buf = NULL;
    size_t len = 0;
    int r = sifa_table_to_csv(f->t, &buf, &len, err);
    if (r < 0)
        return r;
    FILE *out = fopen(f->path, "we");
    bool ok = out != NULL && fwrite(buf, 1, len, out) == len;
    if (out != NULL && fclose(out) != 0)
        ok = false;
    free(buf);
    return ok ? 0 : sifa_error_set(err, SIFA_EINTERNAL, "export_io", "写出统计表文件失败");
}

static void table_file_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct table_file *f = ctx;
    if (req != NULL && status < 0) {
        sifa_resp_error(req, 0, err);
    } else if (req != NULL) {
        struct sifa_error e = {0};
        const char *type = f->xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                                   : "text/csv; charset=utf-8";
        json_t *details = f->details;
        f->details = NULL;
        if (sifa_api_send_file_audited(req, f->path, type, f->name, true, "stats.export", f->title, details, &e) < 0)
            sifa_resp_error(req, 0, &e);
        sifa_error_release(&e);
        f->path[0] = '\0'; /* the sender removes it */
    }
    table_file_free(f);
}

/* Takes t and details. */
static int table_file_submit(struct sifa_req *req, struct sifa_table *t, bool xlsx, const char *title,
                             const char *period_label, json_t *details, struct sifa_error *err)
{
    struct table_file *f = sifa_xcalloc(1, sizeof(*f));
    f->t = t;
    f->xlsx = xlsx;
    f->details = details;
    snprintf(f->title, sizeof(f->title), "%s", title);
    snprintf(f->name, sizeof(f->name), "%s-%s.%s", title, period_label, xlsx ? "xlsx" : "csv");
    const char *tmpdir = getenv("TMPDIR");
    if (tmpdir == NULL || tmpdir[0] == '\0')
        tmpdir = "/tmp";
    int n = snprintf(f->path, sizeof(f->path), "%s/sifa-table-XXXXXX", tmpdir);
    int fd = n > 0 && (size_t)n < sizeof(f->path) ? mkostemp(f->path, O_CLOEXEC) : -1;
    if (fd < 0) {
        f->path[0] = '\0';
        table_file_free(f);
        return sifa_error_set(err, SIFA_EINTERNAL, "export_io", "无法创建临时文件");
    }
    close(fd); /* reserved (mode 0600); the worker reopens it by name */
    if (sifa_req_defer_work(req, table_file_run, table_file_done, f) < 0) {
        table_file_free(f);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "后台任务队列已满,请稍后重试");
    }
    return 0;
}

/* The first module behind ind (through the parts of derived indicators) that p may not export,
 * or NULL when it may export them all. */
static const struct sifa_module *unexportable(const struct sifa_principal *p, const struct sifa_indicator *ind,
                                              int depth)
{
    if (ind == NULL || depth > SIFA_MODEL_DEPTH_MAX)
        return NULL;
    if (ind->module != NULL) {
        char perm[SIFA_MODEL_CODE_MAX + 16];
        snprintf(perm, sizeof(perm), "%s.export", ind->module->code);
        return p != NULL && sifa_principal_can(p, perm) ? NULL : ind->module;
    }
    const struct sifa_module *m = unexportable(p, ind->a, depth + 1);
    return m != NULL ? m : unexportable(p, ind->b, depth + 1);
}

/* A table as a file (CSV, XLSX) takes the data out, like a list's 导出: it needs <module>.export
 * for every module its indicators count (roles/roles.yaml explains the rule), beside the read
 * permission reading them needs. As JSON it is a read (shown on screen) and needs read only. */
static int check_export(struct sifa_req *req, const struct request *q, struct sifa_error *err)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    for (size_t i = 0; i < q->sr.nindicators; i++) {
        const struct sifa_module *m = unexportable(p, q->inds[i], 0);
        if (m != NULL)
            return sifa_error_set_details(err, SIFA_EDENIED, "export_denied",
                                          json_pack("{s:s,s:s,s:s}", "indicator", q->inds[i]->code, "module", m->code,
                                                    "permission", "export"),
                                          "无权导出指标“%s”(需要%s的导出权限 %s.export)", q->inds[i]->name, m->name,
                                          m->code);
    }
    return 0;
}

int sifa_api_indicators_table(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_query *query = sifa_req_query(req);
    const char *format = sifa_query_get(query, "format");
    if (format == NULL)
        format = "json";
    if (strcmp(format, "json") != 0 && strcmp(format, "csv") != 0 && strcmp(format, "xlsx") != 0)
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_format", json_pack("{s:s}", "format", format),
                                      "format 应为 json、csv 或 xlsx");
    struct request q;
    int r = request_build(req, true, &q, err);
    struct sifa_table *t = NULL;
    char title[256], subtitle[256];
    if (r >= 0 && strcmp(format, "json") != 0)
        r = check_export(req, &q, err);
    if (r >= 0) {
        const char *given = sifa_query_get(query, "title");
        int parent = sifa_org_tree_find(q.tree, q.orgs[q.sr.norgs - 1]);
        const char *unit = parent >= 0 ? q.tree->nodes[parent].name : "全部";
        if (given != NULL && strlen(given) < 200)
            snprintf(title, sizeof(title), "%s", given);
        else if (q.table != NULL && strstr(q.table->title, unit) == NULL && parent >= 0)
            snprintf(title, sizeof(title), "%s%s", unit, q.table->title);
        else if (q.table != NULL)
            snprintf(title, sizeof(title), "%s", q.table->title);
        else
            snprintf(title, sizeof(title), "%s业务统计表", unit);
        snprintf(subtitle, sizeof(subtitle), "统计期间:%s  单位:%s", q.sr.period.label, unit);
        r = sifa_stats_table(sifa_req_db(req), &q.sr, title, subtitle, &t, err);
    }
    char period_label[48];
    snprintf(period_label, sizeof(period_label), "%s", q.sr.period.label);
    request_release(&q);
    if (r < 0)
        return r;
    json_t *details = json_pack("{s:s,s:s,s:s?}", "format", format, "period", period_label, "org",
                                sifa_query_get(query, "org"));
    if (strcmp(format, "json") == 0) {
        json_t *j = sifa_table_to_json(t);
        const struct sifa_principal *p = sifa_req_principal(req);
        if (j == NULL) {
            r = sifa_table_check(t, err);
        } else if (p != NULL && sifa_principal_read_only(p)) {
            /* an inspector's read: sent only once its entry is committed (the entry below) */
            sifa_table_free(t);
            return sifa_api_respond_audited(req, 200, j, NULL, "stats.export", title, details, err);
        } else {
            sifa_resp_json(req, 200, j);
        }
    } else {
        /* The file is written on the worker pool and sent from disk once audited. */
        return table_file_submit(req, t, strcmp(format, "xlsx") == 0, title, period_label, details, err);
    }
    sifa_table_free(t);
    if (r < 0) {
        json_decref(details);
        return r;
    }
    sifa_api_audit_later(req, "stats.export", title, details);
    return 0;
}

/* GET /api/v1/indicators/{code}/records: the records behind one figure. part=a|b chooses the
 * numerator or denominator of a ratio or difference (default a); series=in|out|stock for a stock
 * (default stock: in register at the period's end); by and value select one breakdown line. */
int sifa_api_indicators_records(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    const struct sifa_query *query = sifa_req_query(req);
    const char *code = sifa_req_param(req, "code");
    const struct sifa_indicator *ind = api->model ? sifa_model_indicator(api->model, code) : NULL;
    if (ind == NULL)
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "indicator_not_found", json_pack("{s:s}", "code", code),
                                      "指标 %s 不存在", code);
    const char *part = sifa_query_get(query, "part");
    while (ind->module == NULL) {
        bool b = part != NULL && strcmp(part, "b") == 0 && ind->b != NULL;
        ind = b ? ind->b : ind->a;
        part = NULL; /* deeper levels follow their first part */
    }
    struct sifa_period period;
    int r = default_period(sifa_query_get(query, "period"), &period, err);
    if (r < 0)
        return r;
    struct sifa_indicator_slice slice = {.series = ind->kind == SIFA_IND_STOCK ? 's' : 'v'};
    const char *series = sifa_query_get(query, "series");
    if (series != NULL && ind->kind == SIFA_IND_STOCK) {
        if (strcmp(series, "in") == 0)
            slice.series = 'i';
        else if (strcmp(series, "out") == 0 && ind->end_field != NULL)
            slice.series = 'o';
        else if (strcmp(series, "stock") != 0)
            return sifa_error_set(err, SIFA_EINVALID, "bad_series", "series 应为 stock、in 或 out");
    }
    char from[16], to[16];
    unsigned f = (unsigned)period.from, t = (unsigned)period.to;
    snprintf(from, sizeof(from), "%04u-%02u-%02u", f / 10000 % 10000, f / 100 % 100, f % 100);
    snprintf(to, sizeof(to), "%04u-%02u-%02u", t / 10000 % 10000, t / 100 % 100, t % 100);
    slice.from = from;
    slice.to = to;
    slice.org = sifa_query_get(query, "org");
    const char *by = sifa_query_get(query, "by");
    if (by != NULL) {
        for (size_t k = 0; k < ind->nby; k++)
            if (strcmp(ind->by[k]->code, by) == 0)
                slice.by = ind->by[k];
        if (slice.by == NULL)
            return sifa_error_set_details(err, SIFA_EINVALID, "bad_breakdown", json_pack("{s:s}", "by", by),
                                          "指标 %s 不能按 %s 分类", ind->code, by);
        slice.by_value = sifa_query_get(query, "value");
    }
    int64_t page = 1, page_size = 20;
    const char *ps = sifa_query_get(query, "page"), *pss = sifa_query_get(query, "page_size");
    char *end;
    if (ps != NULL && ((page = strtoll(ps, &end, 10)) < 1 || *end != '\0' || page > 1000000))
        return sifa_error_set(err, SIFA_EINVALID, "bad_filter", "page 应为 1 到 1000000 之间的整数");
    if (pss != NULL && ((page_size = strtoll(pss, &end, 10)) < 1 || *end != '\0' || page_size > SIFA_RECORD_PAGE_SIZE_MAX))
        return sifa_error_set(err, SIFA_EINVALID, "bad_filter", "page_size 应为 1 到 200 之间的整数");
    struct sifa_record_ctx rc;
    struct sifa_api_scope scope;
    char actor[SIFA_NAME_MAX + 1];
    sifa_api_record_ctx(req, ind->module->code, "read", &scope, actor, sizeof(actor), &rc);
    const struct sifa_principal *p = sifa_req_principal(req);
    char perm[SIFA_MODEL_CODE_MAX + 16];
    snprintf(perm, sizeof(perm), "%s.read", ind->module->code);
    json_t *page_json = NULL;
    if (p == NULL || !sifa_principal_can(p, perm))
        r = sifa_error_set_details(err, SIFA_EDENIED, "indicator_denied",
                                   json_pack("{s:s,s:s}", "indicator", ind->code, "module", ind->module->code),
                                   "无权查看指标“%s”的记录", ind->name);
    else
        r = sifa_record_list_indicator(sifa_req_db(req), &rc, ind, &slice, page, page_size, &page_json, err);
    sifa_api_scope_release(&scope);
    if (r < 0)
        return r;
    json_object_set_new(page_json, "indicator", json_string(ind->code));
    json_t *pj;
    sifa_period_to_json(&period, &pj);
    json_object_set_new(page_json, "period", pj);
    return sifa_api_respond_read(req, &rc, ind->module, "indicator", sifa_api_ids_of(json_object_get(page_json, "items")),
                                 page_json, NULL, err);
}
