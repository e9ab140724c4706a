/* check_report.c — POST /api/v1/reports/check: the raw body is a report (UTF-8 text, Markdown or
 * a DOCX file), the answer its figure claims, each OK, MISMATCH or UNVERIFIABLE, and the number
 * of mismatches (src/report/check.h). Query: year (default: the year the report's title or
 * opening states, else last year; the answer's year_source says which), org (an org unit code; default everything the caller may read). Layer: api.
 *
 * Claims are mapped to indicators with the caller's row scope of each module, as
 * GET /api/v1/indicators reads them: an indicator over a module the caller may not read is never
 * read, and its claims stay UNVERIFIABLE. The check reads up to 8 MiB of text and one figure per
 * indicator it names, so it runs on the worker pool with a read-only connection of its own; the
 * scopes are built on the event loop first (they depend on the request's principal). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "api/api.h"
#include "report/check.h"
#include "stats/stats.h"

struct module_scope {
    const struct sifa_module *m;
    bool allowed;
    struct sifa_api_scope scope;
};

struct check_work {
    const struct sifa_api *api;
    struct sifa_db_config db;
    char path[4096];
    char *body; /* a copy: the request's body may go with the request */
    size_t len;
    int year;
    char *org;
    struct module_scope *scopes; /* one per module of the model */
    size_t nscopes;
    json_t *result;
};

static const struct sifa_record_scope *work_scope(void *arg, const struct sifa_module *m)
{
    const struct check_work *w = arg;
    for (size_t i = 0; i < w->nscopes; i++)
        if (w->scopes[i].m == m)
            return w->scopes[i].allowed ? &w->scopes[i].scope.scope : NULL;
    return NULL;
}

static void work_free(struct check_work *w)
{
    for (size_t i = 0; i < w->nscopes; i++)
        if (w->scopes[i].allowed)
            sifa_api_scope_release(&w->scopes[i].scope);
    free(w->scopes);
    free(w->body);
    free(w->org);
    json_decref(w->result);
    free(w);
}

static int check_run(void *ctx, struct sifa_error *err)
{
    struct check_work *w = ctx;
    char *text = w->body;
    size_t len = w->len;
    char *docx_text = NULL;
    int rc = 0;
    if (sifa_report_is_docx(w->body, w->len)) {
        if ((rc = sifa_report_docx_text(w->body, w->len, &docx_text, &len, err)) < 0)
            return rc;
        text = docx_text;
    }
    const struct sifa_model *model = w->api->model;
    struct sifa_db *db = NULL;
    bool with_db = model != NULL && model->nindicators > 0;
    if (with_db && (rc = sifa_db_open(&w->db, &db, err)) < 0) {
        free(docx_text);
        return rc;
    }
    struct sifa_check_report_source src = {.db = db,
                                           .model = model,
                                           .calendar = w->api->calendar,
                                           .scope_for = work_scope,
                                           .scope_arg = w,
                                           .org = w->org};
    struct sifa_check_report_options opt = {.year = w->year, .source = with_db ? &src : NULL};
    rc = sifa_report_check(text, len, &opt, &w->result, err);
    sifa_db_close(db);
    free(docx_text);
    return rc;
}

static void check_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct check_work *w = ctx;
    if (req != NULL) {
        if (status < 0) {
            sifa_resp_error(req, 0, err);
        } else {
            sifa_resp_json(req, 200, w->result);
            w->result = NULL;
        }
    }
    work_free(w);
}

int sifa_api_check_report(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    const struct sifa_query *query = sifa_req_query(req);
    const char *year_text = sifa_query_get(query, "year");
    const char *org = sifa_query_get(query, "org");
    int year = 0;
    if (year_text != NULL) {
        char *end;
        long y = strtol(year_text, &end, 10);
        if (*year_text == '\0' || *end != '\0' || y < 1900 || y > 2100)
            return sifa_error_set_details(err, SIFA_EINVALID, "bad_year", json_pack("{s:s}", "year", year_text),
                                          "year 应为 1900 到 2100 之间的年份");
        year = (int)y;
    }
    if (org != NULL && (org[0] == '\0' || strlen(org) > 64))
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_org", json_pack("{s:s}", "org", org),
                                      "org 应为单位代码");
    size_t len = 0;
    const char *body = sifa_req_body(req, &len);
    if (len > SIFA_CHECK_REPORT_MAX)
        return sifa_error_set(err, SIFA_ELIMIT, "report_too_large", "报告超过 %d MiB 的上限",
                              SIFA_CHECK_REPORT_MAX / (1024 * 1024));
    struct check_work *w = sifa_xcalloc(1, sizeof(*w));
    w->api = api;
    sifa_api_worker_db_config(api, &w->db, w->path, sizeof(w->path));
    w->db.readonly = true;
    w->body = sifa_xmalloc(len + 1);
    if (len > 0)
        memcpy(w->body, body, len);
    w->body[len] = '\0';
    w->len = len;
    w->year = year;
    w->org = org ? sifa_xstrdup(org) : NULL;
    const struct sifa_principal *p = sifa_req_principal(req);
    if (api->model != NULL && api->model->nmodules > 0) {
        w->scopes = sifa_xcalloc(api->model->nmodules, sizeof(*w->scopes));
        for (size_t i = 0; i < api->model->nmodules; i++) {
            const struct sifa_module *m = &api->model->modules[i];
            char perm[SIFA_MODEL_CODE_MAX + 16];
            snprintf(perm, sizeof(perm), "%s.read", m->code);
            struct module_scope *s = &w->scopes[w->nscopes++];
            s->m = m;
            s->allowed = p != NULL && sifa_principal_can(p, perm);
            if (s->allowed)
                sifa_api_scope_build(p, perm, &s->scope);
        }
    }
    if (sifa_req_defer_work(req, check_run, check_done, w) < 0) {
        work_free(w);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "后台任务队列已满,请稍后重试");
    }
    return 0;
}
