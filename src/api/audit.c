/* audit.c — the audit trail as the API uses it: appending entries from write jobs, and the
 * endpoints auditors read it through: search (the operation log; action_prefix=auth. is the
 * login log), chain verification, and CSV export with the search's filters. Layer: api. */
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/common.h"
#include "api/api.h"
#include "auth/audit.h"

void sifa_api_worker_db_config(const struct sifa_api *api, struct sifa_db_config *ret_cfg, char *path, size_t size)
{
    snprintf(path, size, "%s", api->db.path);
    *ret_cfg = api->db;
    ret_cfg->path = path;
    ret_cfg->create = false;
}

int sifa_api_audit(struct sifa_db *db, const struct sifa_api *api, const char *actor, const char *address,
                   const char *action, const char *target, json_t *details_take, struct sifa_error *err)
{
    if (api->keyring == NULL) {
        json_decref(details_take);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "no_key_file", "密钥文件未加载,无法写审计日志");
    }
    struct sifa_audit_entry e = {.actor = actor, .address = address, .action = action, .target = target,
                                 .details = details_take};
    /* every caller is a write job: in the writer's savepoint for that job, or in a batch that is
     * rolled back whole if the job fails after changing rows (db/writer.c) */
    int rc = sifa_audit_append_in_savepoint(db, sifa_keyring_audit_key(api->keyring), &e, NULL, err);
    json_decref(details_take);
    return rc;
}

struct audit_later {
    const struct sifa_api *api;
    char actor[SIFA_NAME_MAX + 1];
    char address[64];
    char action[48];
    char target[200];
    json_t *details;
};

static int audit_later_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct audit_later *a = ctx;
    return sifa_api_audit(db, a->api, a->actor[0] ? a->actor : NULL, a->address, a->action, a->target,
                          json_incref(a->details), err);
}

static void audit_later_done(void *ctx, int status, const struct sifa_error *err)
{
    struct audit_later *a = ctx;
    if (status < 0)
        fprintf(stderr, "sifa: 审计写入失败 audit write failed: %s [%s]\n", err ? err->message : "",
                err ? err->code : "");
    json_decref(a->details);
    free(a);
}

void sifa_api_audit_later(struct sifa_req *req, const char *action, const char *target, json_t *details_take)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    struct audit_later *a = sifa_xcalloc(1, sizeof(*a));
    a->api = sifa_req_app(req);
    snprintf(a->actor, sizeof(a->actor), "%s", p ? p->user : "");
    snprintf(a->address, sizeof(a->address), "%s", sifa_req_peer(req));
    snprintf(a->action, sizeof(a->action), "%s", action);
    snprintf(a->target, sizeof(a->target), "%s", target ? target : "");
    a->details = details_take;
    if (sifa_db_writer_submit(sifa_server_writer(sifa_req_server(req)), audit_later_run, audit_later_done, a) < 0) {
        fprintf(stderr, "sifa: 审计队列已满,未记录 %s audit queue full\n", action);
        json_decref(a->details);
        free(a);
    }
}

struct audited_response {
    struct audit_later entry;
    int http_status;
    json_t *body;
    char etag[48];
};

static int audited_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct audited_response *a = ctx;
    return audit_later_run(db, &a->entry, err);
}

static void audited_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct audited_response *a = ctx;
    if (req != NULL) {
        if (status < 0) {
            /* No audit entry, no data: the read is refused rather than left unrecorded. */
            struct sifa_error e = {0};
            sifa_error_set(&e, SIFA_EUNAVAILABLE, "audit_unavailable", "无法记录审计日志,本次读取已拒绝:%s",
                           err ? err->message : "");
            sifa_resp_error(req, 503, &e);
            sifa_error_release(&e);
        } else {
            if (a->etag[0])
                sifa_resp_header(req, "etag", a->etag);
            sifa_resp_json(req, a->http_status, json_incref(a->body));
        }
    }
    json_decref(a->body);
    json_decref(a->entry.details);
    free(a);
}

int sifa_api_respond_audited(struct sifa_req *req, int http_status, json_t *body_take, const char *etag,
                             const char *action, const char *target, json_t *details_take, struct sifa_error *err)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    struct audited_response *a = sifa_xcalloc(1, sizeof(*a));
    a->entry.api = sifa_req_app(req);
    snprintf(a->entry.actor, sizeof(a->entry.actor), "%s", p ? p->user : "");
    snprintf(a->entry.address, sizeof(a->entry.address), "%s", sifa_req_peer(req));
    snprintf(a->entry.action, sizeof(a->entry.action), "%s", action);
    snprintf(a->entry.target, sizeof(a->entry.target), "%s", target ? target : "");
    a->entry.details = details_take;
    a->http_status = http_status;
    a->body = body_take;
    snprintf(a->etag, sizeof(a->etag), "%s", etag ? etag : "");
    if (sifa_req_defer_write(req, audited_run, audited_done, a) < 0) {
        json_decref(a->body);
        json_decref(a->entry.details);
        free(a);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "写入队列已满,请稍后重试");
    }
    return 0;
}

/* The filters of GET /api/v1/audit and /audit/export from the query (borrowed from it). Paging
 * only when page is true. Unknown parameters are refused, so a misspelt filter never exports the
 * whole log. */
static int audit_filter_from_query(struct sifa_req *req, bool paging, struct sifa_audit_filter *f,
                                   struct sifa_error *err)
{
    static const char *const known[] = {"actor", "action", "action_prefix", "target", "address", "keyword",
                                        "since", "until", "page", "page_size"};
    const struct sifa_query *q = sifa_req_query(req);
    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < q->count; i++) {
        size_t k = 0;
        while (k < SIFA_ARRAY_SIZE(known) && strcmp(q->pairs[i].key, known[k]) != 0)
            k++;
        if (k == SIFA_ARRAY_SIZE(known) || (!paging && strncmp(q->pairs[i].key, "page", 4) == 0))
            return sifa_error_set_details(err, SIFA_EINVALID, "audit_bad_filter",
                                          json_pack("{s:s}", "filter", q->pairs[i].key), "不认识的查询条件 %s",
                                          q->pairs[i].key);
        if (sifa_query_count(q, q->pairs[i].key) > 1)
            return sifa_error_set_details(err, SIFA_EINVALID, "audit_bad_filter",
                                          json_pack("{s:s}", "filter", q->pairs[i].key), "查询条件 %s 只能给一次",
                                          q->pairs[i].key);
    }
    f->actor = sifa_query_get(q, "actor");
    f->action = sifa_query_get(q, "action");
    f->action_prefix = sifa_query_get(q, "action_prefix");
    f->target = sifa_query_get(q, "target");
    f->address = sifa_query_get(q, "address");
    f->keyword = sifa_query_get(q, "keyword");
    f->since = sifa_query_get(q, "since");
    f->until = sifa_query_get(q, "until");
    if (!paging)
        return 0;
    const char *page = sifa_query_get(q, "page"), *size = sifa_query_get(q, "page_size");
    char *end;
    f->page = page ? strtoll(page, &end, 10) : 1;
    if (page != NULL && (*page == '\0' || *end != '\0'))
        return sifa_error_set(err, SIFA_EINVALID, "audit_bad_filter", "page 应为正整数");
    f->page_size = size ? strtoll(size, &end, 10) : 50;
    if (size != NULL && (*size == '\0' || *end != '\0'))
        return sifa_error_set(err, SIFA_EINVALID, "audit_bad_filter", "page_size 应为正整数");
    return 0;
}

/* The filters as the export's audit entry records them. New. */
static json_t *audit_filter_json(const struct sifa_audit_filter *f)
{
    const char *const pairs[][2] = {{"actor", f->actor},   {"action", f->action},   {"action_prefix", f->action_prefix},
                                    {"target", f->target}, {"address", f->address}, {"keyword", f->keyword},
                                    {"since", f->since},   {"until", f->until}};
    json_t *j = json_object();
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(pairs); i++)
        if (pairs[i][1] != NULL)
            json_object_set_new(j, pairs[i][0], json_string(pairs[i][1]));
    return j;
}

struct audited_file {
    struct audit_later entry;
    char path[PATH_MAX];
    char content_type[128];
    char name[1024];
    bool remove;
};

static int audited_file_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct audited_file *a = ctx;
    return audit_later_run(db, &a->entry, err);
}

static void audited_file_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct audited_file *a = ctx;
    if (req != NULL) {
        struct sifa_error e = {0};
        if (status < 0) {
            /* No audit entry, no file. */
            sifa_error_set(&e, SIFA_EUNAVAILABLE, "audit_unavailable", "无法记录审计日志,本次下载已拒绝:%s",
                           err ? err->message : "");
            sifa_resp_error(req, 503, &e);
        } else if (sifa_resp_file(req, a->path, a->content_type, a->name[0] ? a->name : NULL) < 0) {
            sifa_error_set(&e, SIFA_EINTERNAL, "file_missing", "文件内容已不在存储中");
            sifa_resp_error(req, 500, &e);
        }
        sifa_error_release(&e);
    }
    if (a->remove)
        unlink(a->path); /* h2o holds it open from sifa_resp_file on */
    json_decref(a->entry.details);
    free(a);
}

int sifa_api_send_file_audited(struct sifa_req *req, const char *path, const char *content_type,
                               const char *download_name, bool remove, const char *action, const char *target,
                               json_t *details_take, struct sifa_error *err)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    struct audited_file *a = sifa_xcalloc(1, sizeof(*a));
    a->entry.api = sifa_req_app(req);
    snprintf(a->entry.actor, sizeof(a->entry.actor), "%s", p ? p->user : "");
    snprintf(a->entry.address, sizeof(a->entry.address), "%s", sifa_req_peer(req));
    snprintf(a->entry.action, sizeof(a->entry.action), "%s", action);
    snprintf(a->entry.target, sizeof(a->entry.target), "%s", target ? target : "");
    a->entry.details = details_take;
    snprintf(a->path, sizeof(a->path), "%s", path);
    snprintf(a->content_type, sizeof(a->content_type), "%s", content_type);
    snprintf(a->name, sizeof(a->name), "%s", download_name ? download_name : "");
    a->remove = remove;
    if (sifa_req_defer_write(req, audited_file_run, audited_file_done, a) < 0) {
        if (remove)
            unlink(a->path);
        json_decref(a->entry.details);
        free(a);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "写入队列已满,请稍后重试");
    }
    return 0;
}

int sifa_api_respond_inspected(struct sifa_req *req, json_t *body_take, const char *action, const char *target,
                               json_t *details_take, struct sifa_error *err)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    if (p == NULL || !sifa_principal_read_only(p)) {
        json_decref(details_take);
        sifa_resp_json(req, 200, body_take);
        return 0;
    }
    return sifa_api_respond_audited(req, 200, body_take, NULL, action, target, details_take, err);
}

int sifa_api_audit_list(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_audit_filter f;
    int rc = audit_filter_from_query(req, true, &f, err);
    if (rc < 0)
        return rc;
    json_t *result;
    rc = sifa_audit_list(sifa_req_db(req), &f, &result, err);
    if (rc < 0)
        return rc;
    sifa_resp_json(req, 200, result);
    return 0;
}

struct verify_work {
    struct sifa_db_config db;
    char path[4096];
    unsigned char key[32];
    int64_t checked;
};

static int verify_run(void *ctx, struct sifa_error *err)
{
    struct verify_work *w = ctx;
    struct sifa_db *db;
    int rc = sifa_db_open(&w->db, &db, err);
    if (rc < 0)
        return rc;
    rc = sifa_audit_verify(db, w->key, &w->checked, err);
    sifa_db_close(db);
    return rc;
}

static void verify_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct verify_work *w = ctx;
    if (req != NULL) {
        if (status < 0 && strcmp(err->code, "audit_broken") == 0)
            sifa_resp_json(req, 200, json_pack("{s:b,s:I,s:O,s:s}", "ok", 0, "checked", (json_int_t)w->checked,
                                               "problem", err->details ? err->details : json_null(), "message",
                                               err->message));
        else if (status < 0)
            sifa_resp_error(req, 0, err);
        else
            sifa_resp_json(req, 200, json_pack("{s:b,s:I}", "ok", 1, "checked", (json_int_t)w->checked));
    }
    sodium_memzero(w->key, sizeof(w->key));
    free(w);
}

int sifa_api_audit_verify(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    if (api->keyring == NULL)
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "no_key_file", "密钥文件未加载");
    struct verify_work *w = sifa_xcalloc(1, sizeof(*w));
    sifa_api_worker_db_config(api, &w->db, w->path, sizeof(w->path));
    memcpy(w->key, sifa_keyring_audit_key(api->keyring), sizeof(w->key));
    if (sifa_req_defer_work(req, verify_run, verify_done, w) < 0) {
        free(w);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "后台任务队列已满,请稍后重试");
    }
    return 0;
}

/* ---------- export (CSV for Excel), written off the event loop ----------
 * The same filters as the list; the worker streams the matching entries into a temporary file
 * (never the whole log in memory) that is then sent from disk and removed. More entries than
 * the export cap (sifa_api_export_max_rows) is refused whole with 413. */

struct export_work {
    struct sifa_db_config db;
    char path[4096];
    char file[PATH_MAX]; /* the temporary file; "" once removed */
    /* the filter's strings, copied: the work may outlive the request */
    char *actor, *action, *action_prefix, *target, *address, *keyword, *since, *until;
    struct sifa_audit_filter filter;
    int64_t rows;
};

static void export_free(struct export_work *w)
{
    if (w->file[0])
        unlink(w->file);
    free(w->actor);
    free(w->action);
    free(w->action_prefix);
    free(w->target);
    free(w->address);
    free(w->keyword);
    free(w->since);
    free(w->until);
    free(w);
}

static int export_run(void *ctx, struct sifa_error *err)
{
    struct export_work *w = ctx;
    struct sifa_db *db;
    int rc = sifa_db_open(&w->db, &db, err);
    if (rc < 0)
        return rc;
    w->filter.max_rows = sifa_api_export_max_rows(db);
    FILE *f = fopen(w->file, "we");
    if (f == NULL) {
        sifa_db_close(db);
        return sifa_error_set(err, SIFA_EINTERNAL, "audit_export_io", "无法生成导出文件");
    }
    rc = sifa_audit_export_csv(db, &w->filter, f, &w->rows, err);
    if (fclose(f) != 0 && rc >= 0)
        rc = sifa_error_set(err, SIFA_EINTERNAL, "audit_export_io", "写出审计日志导出文件失败");
    sifa_db_close(db);
    return rc;
}

static void export_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct export_work *w = ctx;
    if (req != NULL) {
        if (status < 0) {
            sifa_resp_error(req, 0, err);
        } else {
            /* The log leaves only once its export is in the log: sent after the entry commits
             * (as record and statistics exports are), never with the entry merely queued. */
            struct sifa_error e = {0};
            if (sifa_api_send_file_audited(req, w->file, "text/csv; charset=utf-8", "审计日志.csv", true,
                                           "audit.export", "audit_log",
                                           json_pack("{s:o,s:I}", "filters", audit_filter_json(&w->filter), "rows",
                                                     (json_int_t)w->rows),
                                           &e) < 0)
                sifa_resp_error(req, 0, &e);
            sifa_error_release(&e);
            w->file[0] = '\0'; /* removed by the sender */
        }
    }
    export_free(w);
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? sifa_xstrdup(s) : NULL;
}

int sifa_api_audit_export(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    struct sifa_audit_filter f;
    int rc = audit_filter_from_query(req, false, &f, err);
    if (rc < 0)
        return rc;
    /* Malformed values (times, prefix, keyword) are refused here, before any work is queued. */
    if ((rc = sifa_audit_filter_check(&f, err)) < 0)
        return rc;
    struct export_work *w = sifa_xcalloc(1, sizeof(*w));
    sifa_api_worker_db_config(api, &w->db, w->path, sizeof(w->path));
    w->filter.actor = w->actor = dup_or_null(f.actor);
    w->filter.action = w->action = dup_or_null(f.action);
    w->filter.action_prefix = w->action_prefix = dup_or_null(f.action_prefix);
    w->filter.target = w->target = dup_or_null(f.target);
    w->filter.address = w->address = dup_or_null(f.address);
    w->filter.keyword = w->keyword = dup_or_null(f.keyword);
    w->filter.since = w->since = dup_or_null(f.since);
    w->filter.until = w->until = dup_or_null(f.until);
    const char *tmpdir = getenv("TMPDIR");
    if (tmpdir == NULL || tmpdir[0] == '\0')
        tmpdir = "/tmp";
    int n = snprintf(w->file, sizeof(w->file), "%s/sifa-audit-XXXXXX", tmpdir);
    int fd = n > 0 && (size_t)n < sizeof(w->file) ? mkostemp(w->file, O_CLOEXEC) : -1;
    if (fd < 0) {
        w->file[0] = '\0';
        export_free(w);
        return sifa_error_set(err, SIFA_EINTERNAL, "audit_export_io", "无法创建临时文件");
    }
    close(fd); /* reserved (mode 0600); the worker reopens it by name */
    if (sifa_req_defer_work(req, export_run, export_done, w) < 0) {
        export_free(w);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "后台任务队列已满,请稍后重试");
    }
    return 0;
}
