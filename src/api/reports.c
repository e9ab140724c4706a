/* reports.c — the reports API: the annual report generated as a background job, its download, and
 * the narrative passages staff edit per year and org unit. Layer: api.
 *
 *   POST /api/v1/reports/annual {year, org?, format: html|md|docx|pdf, date?: YYYY-MM-DD}
 *        → 202 {"job": {id, kind: "report.annual", state: "queued", href, download}}, href (and
 *        Location) being GET /api/v1/reports/{id}. The report is built on the worker pool with the
 *        caller's data scope per module (a figure over a module the caller may not read shows as
 *        【无权查看】); the job row (GET /api/v1/jobs/{id}, for system administrators) carries
 *        {"progress": 0…100, "step"} in its result while it runs, and when done
 *        {progress: 100, format, bytes, filename, title, figures, missing, denied, download, …}.
 *        Each generated report is audited ("report.generate") with the job's completion.
 *   GET  /api/v1/reports/{id} → {id, state, format, year, org, progress, step}, with the error
 *        when failed and, when done, download and what the job has of the file (title, filename,
 *        bytes) and of its figures (figures: how many, missing and denied: their codes, stale).
 *        Only the user who asked for the report sees it (404 for anyone else).
 *   GET  /api/v1/reports/{id}/download → the file (attachment); 409 "report_not_ready" with the
 *        job's state and progress while it runs (callers without system.admin poll here), 422
 *        "report_failed" with its message when it failed. Only the user who asked for a report may
 *        download it (404 for anyone else), and each download is audited ("report.download").
 *   GET  /api/v1/reports/annual/{year}/passages[?org=] → the template's passages with the text in
 *        force for that year and org (stored, else the template's default).
 *   PUT  /api/v1/reports/annual/{year}/passages/{key} {text: string|null, org?} → stores a passage
 *        (null: back to the default); audited ("report.passage") in the same transaction.
 *
 * Files: generated reports are kept under <files_dir>/reports/<job id>.<format> (files_dir is
 * where uploads live; its other sub-directories are two hex digits, so the names never meet).
 * The template is reports/annual.md relative to the server's working directory, as the other
 * definition directories default to (modules, indicators); it is read at each use, so the
 * bureau's edits apply to the next report without a restart. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/common.h"
#include "api/api.h"
#include "report/report.h"
#include "stats/stats.h"

#pragma weak sifa_doc_to_docx
#pragma weak sifa_doc_to_pdf

#define JOB_KIND "report.annual"
#define JOB_ID_LEN 28 /* "rep-" + 24 hex digits: 96 random bits, unguessable like file ids */

static void utc_now_text(char *buf, size_t size)
{
    char text[21];
    sifa_utc_text(time(NULL), text);
    snprintf(buf, size, "%s", text);
}

static const struct {
    const char *name, *ext, *content_type;
} report_formats[] = {
    {"md", "md", "text/markdown; charset=utf-8"},
    {"html", "html", "text/html; charset=utf-8"},
    {"docx", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"pdf", "pdf", "application/pdf"},
};

typedef int (*render_fn)(const struct sifa_doc *, char **, size_t *, struct sifa_error *);

static int format_index(const char *name)
{
    for (size_t i = 0; name != NULL && i < SIFA_ARRAY_SIZE(report_formats); i++)
        if (strcmp(report_formats[i].name, name) == 0)
            return (int)i;
    return -1;
}

static render_fn renderer_of(int index)
{
    switch (index) {
    case 0:
        return sifa_doc_to_markdown;
    case 1:
        return sifa_doc_to_html;
    case 2:
        return sifa_doc_to_docx; /* NULL when the build has no DOCX renderer */
    default:
        return sifa_doc_to_pdf;
    }
}

static int field_error(struct sifa_error *err, const char *field, const char *code, const char *message)
{
    return sifa_error_set_details(err, SIFA_EINVALID, "validation",
                                  json_pack("[{s:s,s:s,s:s}]", "field", field, "code", code, "message", message),
                                  "请求内容有误:%s", message);
}

static int parse_year_text(const char *text, int *ret, struct sifa_error *err)
{
    char *end;
    errno = 0;
    long y = text ? strtol(text, &end, 10) : 0;
    if (text == NULL || end == text || *end != '\0' || errno != 0 || y < 1900 || y > 2999)
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_year", json_pack("{s:s?}", "year", text),
                                      "年份应为 1900 到 2999 之间的整数");
    *ret = (int)y;
    return 0;
}

static bool org_exists(struct sifa_db *db, const char *code, struct sifa_error *err, int *ret_status)
{
    struct sifa_db_stmt *st;
    *ret_status = sifa_db_prepare(db, "SELECT 1 FROM orgs WHERE code = ?", &st, err);
    if (*ret_status < 0)
        return false;
    sifa_db_bind_text(st, 1, code, -1);
    int r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    *ret_status = r < 0 ? r : 0;
    return r == SIFA_DB_ROW;
}

/* Checks an org code given by the caller: NULL passes; an unknown one is 404 "org_not_found". */
static int check_org(struct sifa_req *req, const char *org, struct sifa_error *err)
{
    if (org == NULL)
        return 0;
    if (strlen(org) == 0 || strlen(org) > SIFA_NAME_MAX)
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "org_not_found", json_pack("{s:s}", "org", org),
                                      "单位 %s 不存在", org);
    int status;
    bool found = org_exists(sifa_req_db(req), org, err, &status);
    if (status < 0)
        return status;
    if (!found)
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "org_not_found", json_pack("{s:s}", "org", org),
                                      "单位 %s 不存在", org);
    return 0;
}

/* Sends err with 422 when the request was well-formed but its content is refused (as records.c
 * does), and returns status for the dispatcher (which then sends nothing more). */
static int refuse(struct sifa_req *req, int status, struct sifa_error *err)
{
    if (strcmp(err->code, "validation") == 0 || strcmp(err->code, "report_failed") == 0)
        sifa_resp_error(req, 422, err);
    return status;
}

/* ---------- generation: a job row, then the work on the worker pool ---------- */

struct report_job {
    struct sifa_server *server;
    const struct sifa_api *api;
    struct sifa_db_config db;
    char db_path[4096];
    char files_dir[4096];
    char id[JOB_ID_LEN + 1];
    char created_at[32];
    char actor[SIFA_NAME_MAX + 1];
    char address[64];
    char org[SIFA_NAME_MAX + 1];
    bool has_org;
    int year;
    int32_t date;
    int format; /* index into report_formats */
    /* the caller's scope per module, built before the request ends */
    size_t nscopes;
    struct {
        const struct sifa_module *m;
        bool allowed;
        struct sifa_api_scope scope;
    } scopes[SIFA_MODEL_MODULES_MAX];
};

static void report_job_free(struct report_job *job)
{
    if (job == NULL)
        return;
    for (size_t i = 0; i < job->nscopes; i++)
        if (job->scopes[i].allowed)
            sifa_api_scope_release(&job->scopes[i].scope);
    free(job);
}

static const struct sifa_record_scope *job_scope_for(void *arg, const struct sifa_module *m)
{
    struct report_job *job = arg;
    for (size_t i = 0; i < job->nscopes; i++)
        if (job->scopes[i].m == m)
            return job->scopes[i].allowed ? &job->scopes[i].scope.scope : NULL;
    return NULL; /* a module the job did not see: nothing */
}

/* One update of the job row; with audit_details (taken) the report.generate entry goes into the
 * same transaction. */
struct job_update {
    struct report_job *job;
    const char *state;
    json_t *result; /* borrowed */
    const char *error;
    bool finished;
    json_t *audit_details;
};

static int job_update_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct job_update *u = ctx;
    char *result = u->result ? json_dumps(u->result, JSON_COMPACT) : NULL;
    char finished[32];
    utc_now_text(finished, sizeof(finished));
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "UPDATE jobs SET state = ?, result = ?, error = ?, finished_at = ? WHERE id = ?", &st,
                             err);
    if (rc >= 0) {
        sifa_db_bind_text(st, 1, u->state, -1);
        if (result)
            sifa_db_bind_text(st, 2, result, -1);
        else
            sifa_db_bind_null(st, 2);
        if (u->error)
            sifa_db_bind_text(st, 3, u->error, -1);
        else
            sifa_db_bind_null(st, 3);
        if (u->finished)
            sifa_db_bind_text(st, 4, finished, -1);
        else
            sifa_db_bind_null(st, 4);
        sifa_db_bind_text(st, 5, u->job->id, -1);
        rc = sifa_db_step(st, err);
        sifa_db_stmt_done(st);
    }
    free(result);
    json_t *details = u->audit_details;
    u->audit_details = NULL;
    if (rc >= 0 && details != NULL)
        rc = sifa_api_audit(db, u->job->api, u->job->actor, u->job->address, "report.generate", u->job->id, details,
                            err);
    else
        json_decref(details);
    return rc < 0 ? rc : 0;
}

static json_t *progress_json(const struct report_job *job, int percent, const char *step)
{
    return json_pack("{s:i,s:s,s:s,s:i,s:s?,s:s}", "progress", percent, "step", step, "created_by", job->actor, "year",
                     job->year, "org", job->has_org ? job->org : NULL, "format", report_formats[job->format].name);
}

static int progress(struct report_job *job, int percent, const char *step, struct sifa_error *err)
{
    json_t *result = progress_json(job, percent, step);
    struct job_update u = {job, "running", result, NULL, false, NULL};
    int rc = sifa_db_writer_run(sifa_server_writer(job->server), job_update_run, &u, err);
    json_decref(result);
    return rc;
}

static int mkdir_p(const char *path, struct sifa_error *err)
{
    if (mkdir(path, 0750) != 0 && errno != EEXIST)
        return sifa_error_set(err, SIFA_EINTERNAL, "report_dir", "无法创建目录 %s:%s", path, strerror(errno));
    return 0;
}

/* Writes buf to <files_dir>/reports/<id>.<ext> through a temporary name, so a download never sees a
 * partial file. */
static int store_file(const struct report_job *job, const char *buf, size_t len, struct sifa_error *err)
{
    char dir[4200], path[4300], tmp[4320];
    snprintf(dir, sizeof(dir), "%s/reports", job->files_dir);
    int rc = mkdir_p(job->files_dir, err);
    if (rc >= 0)
        rc = mkdir_p(dir, err);
    if (rc < 0)
        return rc;
    snprintf(path, sizeof(path), "%s/%s.%s", dir, job->id, report_formats[job->format].ext);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL)
        return sifa_error_set(err, SIFA_EINTERNAL, "report_write", "无法写入 %s:%s", tmp, strerror(errno));
    bool ok = fwrite(buf, 1, len, f) == len;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return sifa_error_set(err, SIFA_EINTERNAL, "report_write", "写入报告文件 %s 失败", path);
    }
    return 0;
}

/* Builds and renders the report; *ret_result new (the job's final result) on success. */
static int generate(struct report_job *job, json_t **ret_result, struct sifa_error *err)
{
    const struct sifa_api *api = job->api;
    if (api->model == NULL || api->model->nindicators == 0)
        return sifa_error_set(err, SIFA_ENOTFOUND, "no_indicators", "没有指标定义");
    render_fn render = renderer_of(job->format);
    if (render == NULL)
        return sifa_error_set(err, SIFA_EUNSUPPORTED, "format_unsupported", "此版本不支持生成 %s 格式",
                              report_formats[job->format].name);
    struct sifa_report_template *tmpl = NULL;
    struct sifa_db *db = NULL;
    struct sifa_org_tree *tree = NULL;
    json_t *stored = NULL, *texts = NULL, *info = NULL;
    struct sifa_doc *doc = NULL;
    char *buf = NULL;
    size_t len = 0;
    const char *org = job->has_org ? job->org : NULL;
    int rc = sifa_report_template_load(api->report_template ? api->report_template : "reports/annual.md", &tmpl, err);
    if (rc >= 0)
        rc = sifa_report_template_check(tmpl, api->model, err);
    if (rc >= 0)
        rc = progress(job, 20, "读取指标", err);
    if (rc >= 0)
        rc = sifa_db_open(&job->db, &db, err);
    if (rc >= 0)
        rc = sifa_org_tree_load(db, &tree, err);
    if (rc >= 0 && (rc = sifa_report_passages_load(db, job->year, org, &stored, err)) >= 0)
        texts = sifa_report_passages_texts(stored);
    if (rc >= 0) {
        struct sifa_report_request rq = {.tmpl = tmpl, .model = api->model, .calendar = api->calendar, .tree = tree,
                                         .scope_for = job_scope_for, .scope_arg = job, .year = job->year,
                                         .org = org, .date = job->date, .passages = texts};
        rc = sifa_report_annual_build(db, &rq, &doc, &info, err);
    }
    sifa_db_close(db);
    if (rc >= 0)
        rc = progress(job, 70, "排版", err);
    if (rc >= 0)
        rc = render(doc, &buf, &len, err);
    if (rc >= 0)
        rc = progress(job, 90, "保存", err);
    if (rc >= 0)
        rc = store_file(job, buf, len, err);
    if (rc >= 0) {
        char filename[600], download[96];
        snprintf(filename, sizeof(filename), "%s.%s", doc->title[0] ? doc->title : "年度报告",
                 report_formats[job->format].ext);
        snprintf(download, sizeof(download), "/api/v1/reports/%s/download", job->id);
        json_t *result = progress_json(job, 100, "完成");
        json_object_set_new(result, "bytes", json_integer((json_int_t)len));
        json_object_set_new(result, "title", json_string(doc->title));
        json_object_set_new(result, "filename", json_string(filename));
        json_object_set_new(result, "download", json_string(download));
        json_object_update(result, info);
        *ret_result = result;
    }
    free(buf);
    sifa_doc_free(doc);
    json_decref(info);
    json_decref(texts);
    json_decref(stored);
    sifa_org_tree_free(tree);
    sifa_report_template_free(tmpl);
    return rc;
}

static int report_run(void *ctx, struct sifa_error *err)
{
    struct report_job *job = ctx;
    struct sifa_db_writer *writer = sifa_server_writer(job->server);
    int rc = progress(job, 5, "读取模板", err);
    json_t *result = NULL;
    if (rc >= 0)
        rc = generate(job, &result, err);
    if (rc >= 0) {
        /* done and its audit entry in one transaction: a report nobody recorded is never offered */
        json_t *details = json_pack("{s:i,s:s?,s:s,s:O?,s:O?,s:O?}", "year", job->year, "org",
                                    job->has_org ? job->org : NULL, "format", report_formats[job->format].name,
                                    "figures", json_object_get(result, "figures"), "missing",
                                    json_object_get(result, "missing"), "denied", json_object_get(result, "denied"));
        struct job_update u = {job, "done", result, NULL, true, details};
        rc = sifa_db_writer_run(writer, job_update_run, &u, err);
        json_decref(u.audit_details); /* not taken when the writer refused the job */
    }
    json_decref(result);
    if (rc < 0) {
        json_t *failed = progress_json(job, 100, "失败");
        json_object_set_new(failed, "code", json_string(err->code));
        if (err->details != NULL)
            json_object_set(failed, "details", err->details);
        struct job_update u = {job, "failed", failed, err->message, true, NULL};
        struct sifa_error uerr = {0};
        if (sifa_db_writer_run(writer, job_update_run, &u, &uerr) < 0)
            fprintf(stderr, "sifa: 报告任务 %s 状态写入失败:%s [%s]\n", job->id, uerr.message, uerr.code);
        sifa_error_release(&uerr);
        json_decref(failed);
    }
    return rc;
}

static void report_finish(void *ctx, int status, const struct sifa_error *err)
{
    struct report_job *job = ctx;
    if (status < 0 && err != NULL)
        fprintf(stderr, "sifa: 报告任务 %s 失败 report job failed: %s [%s]\n", job->id, err->message, err->code);
    report_job_free(job);
}

static int job_insert_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct report_job *job = ctx;
    json_t *result = progress_json(job, 0, "排队");
    char *text = json_dumps(result, JSON_COMPACT);
    json_decref(result);
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "INSERT INTO jobs (id, kind, state, created_at, result) VALUES (?, ?, 'queued', ?, ?)",
                             &st, err);
    if (rc >= 0) {
        sifa_db_bind_text(st, 1, job->id, -1);
        sifa_db_bind_text(st, 2, JOB_KIND, -1);
        sifa_db_bind_text(st, 3, job->created_at, -1);
        sifa_db_bind_text(st, 4, text, -1);
        rc = sifa_db_step(st, err);
        sifa_db_stmt_done(st);
    }
    free(text);
    return rc < 0 ? rc : 0;
}

/* The pool refused the job after its row was written: mark the row failed (a write of its own, as
 * this runs on the loop), so that nobody waits for it. The row keeps who asked (result's
 * created_by): without it the owner polling the job would be told it does not exist. Takes job. */
struct job_failure {
    struct job_update u;
    json_t *result; /* owned; u.result borrows it */
    char message[512];
};

static int job_failure_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct job_failure *f = ctx;
    return job_update_run(db, &f->u, err);
}

static void job_failure_done(void *ctx, int status, const struct sifa_error *err)
{
    struct job_failure *f = ctx;
    if (status < 0 && err != NULL)
        fprintf(stderr, "sifa: 报告任务 %s 状态写入失败:%s [%s]\n", f->u.job->id, err->message, err->code);
    report_job_free(f->u.job);
    json_decref(f->result);
    free(f);
}

static void mark_failed_later(struct report_job *job, const char *message)
{
    struct job_failure *f = sifa_xcalloc(1, sizeof(*f));
    snprintf(f->message, sizeof(f->message), "%s", message);
    f->result = progress_json(job, 100, "失败");
    json_object_set_new(f->result, "code", json_string("busy"));
    f->u = (struct job_update){job, "failed", f->result, f->message, true, NULL};
    if (sifa_db_writer_submit(sifa_server_writer(job->server), job_failure_run, job_failure_done, f) < 0) {
        report_job_free(job);
        json_decref(f->result);
        free(f);
    }
}

static void job_inserted(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct report_job *job = ctx;
    if (status < 0) {
        if (req != NULL)
            sifa_resp_error(req, 0, err);
        report_job_free(job);
        return;
    }
    char id[JOB_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", job->id);
    /* The job row exists; the report is built whether or not the client is still here. */
    if (sifa_server_submit_background(job->server, report_run, report_finish, job) < 0) {
        struct sifa_error e = {0};
        sifa_error_set(&e, SIFA_EUNAVAILABLE, "busy", "后台任务队列已满,请稍后重试");
        mark_failed_later(job, e.message);
        if (req != NULL)
            sifa_resp_error(req, 0, &e);
        sifa_error_release(&e);
        return;
    }
    if (req != NULL) {
        /* the report's own status, which whoever asked may poll (/api/v1/jobs/{id} needs
         * system.admin) */
        char location[96], download[96];
        snprintf(location, sizeof(location), "/api/v1/reports/%s", id);
        snprintf(download, sizeof(download), "/api/v1/reports/%s/download", id);
        sifa_resp_header(req, "location", location);
        sifa_resp_json(req, 202,
                       json_pack("{s:{s:s,s:s,s:s,s:s,s:s}}", "job", "id", id, "kind", JOB_KIND, "state", "queued", "href",
                                 location, "download", download));
    }
}

static void new_job_id(char *buf, size_t size)
{
    unsigned char r[12];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        abort(); /* the kernel's CSPRNG does not fail after boot; an id must never be guessable */
    size_t o = (size_t)snprintf(buf, size, "rep-");
    for (size_t i = 0; i < sizeof(r) && o + 2 < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%02x", r[i]);
}

int sifa_api_reports_create(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    json_t *body = sifa_req_json(req);
    if (!json_is_object(body))
        return sifa_error_set(err, SIFA_EINVALID, "bad_json", "请求体应为 JSON 对象 {year, format, org?}");
    json_t *year = json_object_get(body, "year"), *org = json_object_get(body, "org"),
           *format = json_object_get(body, "format"), *date = json_object_get(body, "date");
    if (!json_is_integer(year) || json_integer_value(year) < 1900 || json_integer_value(year) > 2999)
        return refuse(req, field_error(err, "year", "invalid", "year 应为 1900 到 2999 之间的年份(整数)"), err);
    int fi = format_index(json_string_value(format));
    if (fi < 0)
        return refuse(req, field_error(err, "format", "invalid", "format 应为 html、md、docx 或 pdf"), err);
    if (renderer_of(fi) == NULL)
        return sifa_error_set_details(err, SIFA_EUNSUPPORTED, "format_unsupported",
                                      json_pack("{s:s}", "format", report_formats[fi].name), "此版本不支持生成 %s 格式",
                                      report_formats[fi].name);
    if (org != NULL && !json_is_null(org) && !json_is_string(org))
        return refuse(req, field_error(err, "org", "invalid", "org 应为单位代码"), err);
    int32_t day = 0;
    if (date != NULL && !json_is_null(date)) {
        struct sifa_period p;
        if (!json_is_string(date) || sifa_period_parse(json_string_value(date), &p, NULL) < 0 || p.kind != 'R' ||
            p.from != p.to)
            return refuse(req, field_error(err, "date", "invalid", "date 应为 YYYY-MM-DD 格式的日期"), err);
        day = p.from;
    }
    const char *org_code = json_string_value(org);
    int rc = check_org(req, org_code, err);
    if (rc < 0)
        return rc;
    const struct sifa_principal *p = sifa_req_principal(req);
    struct report_job *job = sifa_xcalloc(1, sizeof(*job));
    job->server = sifa_req_server(req);
    job->api = api;
    sifa_api_worker_db_config(api, &job->db, job->db_path, sizeof(job->db_path));
    snprintf(job->files_dir, sizeof(job->files_dir), "%s", api->files_dir);
    new_job_id(job->id, sizeof(job->id));
    utc_now_text(job->created_at, sizeof(job->created_at));
    snprintf(job->actor, sizeof(job->actor), "%s", p ? p->user : "");
    snprintf(job->address, sizeof(job->address), "%s", sifa_req_peer(req));
    if (org_code != NULL) {
        job->has_org = true;
        snprintf(job->org, sizeof(job->org), "%s", org_code);
    }
    job->year = (int)json_integer_value(year);
    job->date = day;
    job->format = fi;
    for (size_t i = 0; api->model != NULL && i < api->model->nmodules && i < SIFA_MODEL_MODULES_MAX; i++) {
        const struct sifa_module *m = &api->model->modules[i];
        char perm[SIFA_MODEL_CODE_MAX + 16];
        snprintf(perm, sizeof(perm), "%s.read", m->code);
        job->scopes[i].m = m;
        job->scopes[i].allowed = p != NULL && sifa_principal_can(p, perm);
        if (job->scopes[i].allowed)
            sifa_api_scope_build(p, perm, &job->scopes[i].scope);
        job->nscopes++;
    }
    if (sifa_req_defer_write(req, job_insert_run, job_inserted, job) < 0) {
        report_job_free(job);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "写入队列已满,请稍后重试");
    }
    return 0;
}

/* ---------- download ---------- */

static bool valid_job_id(const char *id)
{
    if (id == NULL || strlen(id) != JOB_ID_LEN || strncmp(id, "rep-", 4) != 0)
        return false;
    for (const char *s = id + 4; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

/* The report job id of the caller: its state, its result (new) and its error text. Someone
 * else's report, or none, is "not found". */
static int load_own_report(struct sifa_req *req, const char *id, char state[16], json_t **ret_result, char *error,
                           size_t error_size, struct sifa_error *err)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    json_t *result = NULL;
    state[0] = '\0';
    error[0] = '\0';
    if (valid_job_id(id)) {
        struct sifa_db_stmt *st;
        int rc = sifa_db_prepare(sifa_req_db(req), "SELECT state, result, error FROM jobs WHERE id = ? AND kind = ?",
                                 &st, err);
        if (rc < 0)
            return rc;
        sifa_db_bind_text(st, 1, id, -1);
        sifa_db_bind_text(st, 2, JOB_KIND, -1);
        rc = sifa_db_step(st, err);
        if (rc == SIFA_DB_ROW) {
            snprintf(state, 16, "%s", sifa_db_column_text(st, 0));
            const char *text = sifa_db_column_text(st, 1), *e = sifa_db_column_text(st, 2);
            result = text ? json_loads(text, 0, NULL) : NULL;
            snprintf(error, error_size, "%s", e ? e : "");
        }
        sifa_db_stmt_done(st);
        if (rc < 0)
            return rc;
    }
    const char *owner = json_string_value(json_object_get(result, "created_by"));
    if (result == NULL || owner == NULL || p == NULL || strcmp(owner, p->user) != 0) {
        json_decref(result);
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "not_found", json_pack("{s:s}", "id", id ? id : ""),
                                      "报告 %s 不存在", id ? id : "");
    }
    *ret_result = result;
    return 0;
}

/* GET /api/v1/reports/{id}: the state of one's own report job, with its progress and, once done,
 * where to download it (GET /api/v1/jobs/{id} is for system administrators). */
int sifa_api_reports_get(struct sifa_req *req, struct sifa_error *err)
{
    const char *id = sifa_req_param(req, "id");
    char state[16], error[512];
    json_t *result = NULL;
    int rc = load_own_report(req, id, state, &result, error, sizeof(error), err);
    if (rc < 0)
        return rc;
    json_t *body = json_pack("{s:s,s:s,s:O?,s:O?,s:O?,s:O?,s:O?}", "id", id, "state", state, "format",
                             json_object_get(result, "format"), "year", json_object_get(result, "year"), "org",
                             json_object_get(result, "org"), "progress", json_object_get(result, "progress"), "step",
                             json_object_get(result, "step"));
    if (strcmp(state, "failed") == 0)
        json_object_set_new(body, "error", json_string(error));
    if (strcmp(state, "done") == 0) {
        char href[128];
        snprintf(href, sizeof(href), "/api/v1/reports/%s/download", id);
        json_object_set_new(body, "download", json_string(href));
        /* what the job row says of the finished report, so that its owner needs no system.admin */
        static const char *const done_keys[] = {"title", "filename", "bytes", "figures", "missing", "denied", "stale"};
        for (size_t i = 0; i < SIFA_ARRAY_SIZE(done_keys); i++) {
            json_t *v = json_object_get(result, done_keys[i]);
            if (v != NULL)
                json_object_set(body, done_keys[i], v);
        }
    }
    json_decref(result);
    sifa_resp_json(req, 200, body);
    return 0;
}

int sifa_api_reports_download(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    const char *id = sifa_req_param(req, "id");
    int rc = 0;
    json_t *result = NULL;
    char state[16], error[512];
    if ((rc = load_own_report(req, id, state, &result, error, sizeof(error), err)) < 0)
        return rc;
    if (strcmp(state, "failed") == 0) {
        sifa_error_set_details(err, SIFA_EINVALID, "report_failed",
                               json_pack("{s:s,s:s,s:O?}", "id", id, "state", state, "cause",
                                         json_object_get(result, "code")),
                               "报告生成失败:%s", error);
        json_decref(result);
        return refuse(req, SIFA_EINVALID, err);
    }
    if (strcmp(state, "done") != 0) {
        sifa_error_set_details(err, SIFA_ECONFLICT, "report_not_ready",
                               json_pack("{s:s,s:s,s:O?,s:O?}", "id", id, "state", state, "progress",
                                         json_object_get(result, "progress"), "step", json_object_get(result, "step")),
                               "报告尚未生成完毕(%s),请稍后再试", state);
        json_decref(result);
        return SIFA_ECONFLICT;
    }
    int fi = format_index(json_string_value(json_object_get(result, "format")));
    if (fi < 0) {
        json_decref(result);
        return sifa_error_set(err, SIFA_EINTERNAL, "bad_job", "报告任务 %s 的记录不完整", id);
    }
    char path[4300];
    snprintf(path, sizeof(path), "%s/reports/%s.%s", api->files_dir, id, report_formats[fi].ext);
    const char *filename = json_string_value(json_object_get(result, "filename"));
    sifa_resp_header(req, "content-security-policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'");
    rc = sifa_resp_file(req, path, report_formats[fi].content_type, filename ? filename : "report");
    if (rc < 0) {
        json_decref(result);
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "report_file_missing", json_pack("{s:s}", "id", id),
                                      "报告 %s 的文件已不存在,请重新生成", id);
    }
    sifa_api_audit_later(req, "report.download", id,
                         json_pack("{s:O?,s:O?,s:s}", "year", json_object_get(result, "year"), "org",
                                   json_object_get(result, "org"), "format", report_formats[fi].name));
    json_decref(result);
    return 0;
}

/* ---------- passages ---------- */

static int load_template(const struct sifa_api *api, struct sifa_report_template **ret, struct sifa_error *err)
{
    return sifa_report_template_load(api->report_template ? api->report_template : "reports/annual.md", ret, err);
}

static json_t *passage_json(const struct sifa_report_template *t, size_t i, json_t *stored)
{
    const char *key = sifa_report_template_passage_key(t, i), *def = sifa_report_template_passage_default(t, i);
    json_t *s = json_object_get(stored, key);
    json_t *text = json_object_get(s, "text");
    return json_pack("{s:s,s:s,s:s,s:b,s:O?,s:O?}", "key", key, "text", json_is_string(text) ? json_string_value(text) : def,
                     "default", def, "stored", s != NULL, "updated_at", json_object_get(s, "updated_at"), "updated_by",
                     json_object_get(s, "updated_by"));
}

int sifa_api_report_passages_list(struct sifa_req *req, struct sifa_error *err)
{
    int year;
    int rc = parse_year_text(sifa_req_param(req, "year"), &year, err);
    if (rc < 0)
        return rc;
    const char *org = sifa_query_get(sifa_req_query(req), "org");
    if ((rc = check_org(req, org, err)) < 0)
        return rc;
    struct sifa_report_template *t = NULL;
    json_t *stored = NULL;
    if ((rc = load_template(sifa_req_app(req), &t, err)) < 0)
        return rc;
    if ((rc = sifa_report_passages_load(sifa_req_db(req), year, org, &stored, err)) < 0) {
        sifa_report_template_free(t);
        return rc;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < sifa_report_template_npassages(t); i++)
        json_array_append_new(items, passage_json(t, i, stored));
    sifa_report_template_free(t);
    json_decref(stored);
    sifa_resp_json(req, 200,
                   json_pack("{s:i,s:s?,s:o,s:I}", "year", year, "org", org, "items", items, "total",
                             (json_int_t)json_array_size(items)));
    return 0;
}

struct passage_write {
    const struct sifa_api *api;
    int year;
    char org[SIFA_NAME_MAX + 1];
    bool has_org;
    char key[SIFA_REPORT_PASSAGE_KEY_MAX + 1];
    char *text; /* NULL: back to the default */
    char *def;  /* the template's default */
    char actor[SIFA_NAME_MAX + 1];
    char address[64];
    char at[32];
};

static void passage_write_free(struct passage_write *w)
{
    free(w->text);
    free(w->def);
    free(w);
}

static int passage_write_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct passage_write *w = ctx;
    const char *org = w->has_org ? w->org : NULL;
    int rc = sifa_report_passage_put(db, w->year, org, w->key, w->text, w->actor, w->at, err);
    if (rc < 0)
        return rc;
    char target[160];
    snprintf(target, sizeof(target), "%d/%s/%s", w->year, org ? org : "", w->key);
    json_t *details = json_pack("{s:i,s:s?,s:s,s:b,s:I}", "year", w->year, "org", org, "key", w->key, "reset",
                                w->text == NULL, "bytes", (json_int_t)(w->text ? strlen(w->text) : 0));
    return sifa_api_audit(db, w->api, w->actor, w->address, "report.passage", target, details, err);
}

static void passage_write_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct passage_write *w = ctx;
    if (req != NULL) {
        if (status < 0)
            sifa_resp_error(req, 0, err);
        else
            sifa_resp_json(req, 200,
                           json_pack("{s:i,s:s?,s:s,s:s,s:s,s:b,s:s?,s:s?}", "year", w->year, "org",
                                     w->has_org ? w->org : NULL, "key", w->key, "text", w->text ? w->text : w->def,
                                     "default", w->def, "stored", w->text != NULL, "updated_at",
                                     w->text ? w->at : NULL, "updated_by", w->text ? w->actor : NULL));
    }
    passage_write_free(w);
}

int sifa_api_report_passages_put(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    int year;
    int rc = parse_year_text(sifa_req_param(req, "year"), &year, err);
    if (rc < 0)
        return rc;
    const char *key = sifa_req_param(req, "key");
    json_t *body = sifa_req_json(req);
    if (!json_is_object(body))
        return sifa_error_set(err, SIFA_EINVALID, "bad_json", "请求体应为 JSON 对象 {text, org?}");
    json_t *text = json_object_get(body, "text"), *org = json_object_get(body, "org");
    if (text == NULL || !(json_is_string(text) || json_is_null(text)))
        return refuse(req, field_error(err, "text", "required", "text 应为字符串(null 表示恢复模板中的默认文字)"), err);
    if (org != NULL && !json_is_null(org) && !json_is_string(org))
        return refuse(req, field_error(err, "org", "invalid", "org 应为单位代码"), err);
    const char *org_code = json_string_value(org);
    if (org_code == NULL)
        org_code = sifa_query_get(sifa_req_query(req), "org");
    if (json_is_string(text) && (rc = sifa_report_passage_validate(json_string_value(text), err)) < 0)
        return rc == SIFA_ELIMIT ? rc : refuse(req, rc, err);
    if ((rc = check_org(req, org_code, err)) < 0)
        return rc;
    struct sifa_report_template *t = NULL;
    if ((rc = load_template(sifa_req_app(req), &t, err)) < 0)
        return rc;
    int at = sifa_report_template_find_passage(t, key);
    if (at < 0) {
        sifa_report_template_free(t);
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "passage_not_found", json_pack("{s:s}", "key", key ? key : ""),
                                      "报告模板中没有段落 %s", key ? key : "");
    }
    const struct sifa_principal *p = sifa_req_principal(req);
    struct passage_write *w = sifa_xcalloc(1, sizeof(*w));
    w->api = api;
    w->year = year;
    if (org_code != NULL) {
        w->has_org = true;
        snprintf(w->org, sizeof(w->org), "%s", org_code);
    }
    snprintf(w->key, sizeof(w->key), "%s", key);
    w->text = json_is_string(text) ? sifa_xstrdup(json_string_value(text)) : NULL;
    w->def = sifa_xstrdup(sifa_report_template_passage_default(t, (size_t)at));
    sifa_report_template_free(t);
    snprintf(w->actor, sizeof(w->actor), "%s", p ? p->user : "");
    snprintf(w->address, sizeof(w->address), "%s", sifa_req_peer(req));
    utc_now_text(w->at, sizeof(w->at));
    if (sifa_req_defer_write(req, passage_write_run, passage_write_done, w) < 0) {
        passage_write_free(w);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "写入队列已满,请稍后重试");
    }
    return 0;
}
