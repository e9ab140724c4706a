/* system.c — system endpoints: health, metrics, information, integrity check, system
 * parameters (系统参数) and online backups run as background jobs.
 * Layer: api. Reads use the loop's connection; writes go through the group-commit writer;
 * anything that may take long (integrity check, backup) runs on the worker pool. */
#include "base/common.h"
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#ifndef SIFA_VERSION
#define SIFA_VERSION "0.1.0"
#endif

#define SETTING_VALUE_MAX 4096

static void utc_now_text(char *buf, size_t size)
{
    char text[21];
    sifa_utc_text(time(NULL), text);
    snprintf(buf, size, "%s", text);
}

/* ---------- health and metrics ---------- */

int sifa_api_healthz(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_error dberr = {0};
    if (sifa_db_ping(sifa_req_db(req), &dberr) < 0) {
        sifa_error_set_details(err, SIFA_EUNAVAILABLE, "database_unavailable",
                               json_pack("{s:s,s:s,s:s}", "database", "error", "reason", dberr.message, "cause",
                                         dberr.code),
                               "数据库不可用:%s", dberr.message);
        sifa_error_release(&dberr);
        return SIFA_EUNAVAILABLE;
    }
    sifa_resp_json(req, 200, json_pack("{s:s,s:s}", "status", "ok", "database", "ok"));
    return 0;
}

int sifa_api_metrics(struct sifa_req *req, struct sifa_error *err)
{
    (void)err;
    char *text;
    size_t len;
    sifa_server_render_metrics(sifa_req_server(req), &text, &len);
    sifa_resp_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
    return 0;
}

int sifa_api_system_info(struct sifa_req *req, struct sifa_error *err)
{
    (void)err;
    struct sifa_api *api = sifa_req_app(req);
    int64_t uptime_s = (sifa_now_unix_ms() - api->started_at_ms) / 1000;
    sifa_resp_json(req, 200,
                   json_pack("{s:s,s:s,s:s,s:I}", "name", "sifa", "title", "sifa 司法行政业务平台", "version",
                             SIFA_VERSION, "uptime_seconds", (json_int_t)uptime_s));
    return 0;
}

/* ---------- integrity check: long work, the response is sent when it is done ---------- */

struct integrity_work {
    struct sifa_db_config db;
    char path[4096];
    int64_t duration_ms;
};

static int integrity_run(void *ctx, struct sifa_error *err)
{
    struct integrity_work *w = ctx;
    int64_t start = sifa_now_unix_ms();
    struct sifa_db *db;
    int rc = sifa_db_open(&w->db, &db, err);
    if (rc < 0)
        return rc;
    rc = sifa_db_integrity_check(db, err);
    sifa_db_close(db);
    w->duration_ms = sifa_now_unix_ms() - start;
    return rc;
}

static void integrity_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct integrity_work *w = ctx;
    if (req != NULL) {
        if (status < 0)
            sifa_resp_error(req, 0, err);
        else
            sifa_resp_json(req, 200, json_pack("{s:b,s:I}", "ok", 1, "duration_ms", (json_int_t)w->duration_ms));
    }
    free(w);
}

int sifa_api_system_integrity(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    struct integrity_work *w = sifa_xcalloc(1, sizeof(*w));
    sifa_api_worker_db_config(api, &w->db, w->path, sizeof(w->path));
    if (sifa_req_defer_work(req, integrity_run, integrity_done, w) < 0) {
        free(w);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "后台任务队列已满,请稍后重试");
    }
    return 0;
}

/* ---------- system parameters ---------- */

static bool valid_setting_key(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > 64 || !(key[0] >= 'a' && key[0] <= 'z'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static json_t *setting_row(struct sifa_db_stmt *st)
{
    return json_pack("{s:s,s:s,s:s}", "key", sifa_db_column_text(st, 0), "value", sifa_db_column_text(st, 1),
                     "updated_at", sifa_db_column_text(st, 2));
}

int sifa_api_settings_list(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(sifa_req_db(req), "SELECT key, value, updated_at FROM kv_settings ORDER BY key", &st, err);
    if (rc < 0)
        return rc;
    json_t *items = json_array();
    while ((rc = sifa_db_step(st, err)) == SIFA_DB_ROW)
        json_array_append_new(items, setting_row(st));
    sifa_db_stmt_done(st);
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    sifa_resp_json(req, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)json_array_size(items)));
    return 0;
}

static int invalid_key(struct sifa_error *err)
{
    return sifa_error_set_details(err, SIFA_EINVALID, "invalid_key", json_pack("{s:s}", "field", "key"),
                                  "参数名只能由小写字母、数字、下划线和点组成,以字母开头,最长 64 个字符");
}

int sifa_api_settings_get(struct sifa_req *req, struct sifa_error *err)
{
    const char *key = sifa_req_param(req, "key");
    if (!valid_setting_key(key))
        return invalid_key(err);
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(sifa_req_db(req), "SELECT key, value, updated_at FROM kv_settings WHERE key = ?", &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, key, -1);
    rc = sifa_db_step(st, err);
    if (rc == SIFA_DB_ROW) {
        json_t *row = setting_row(st);
        sifa_db_stmt_done(st);
        sifa_resp_json(req, 200, row);
        return 0;
    }
    sifa_db_stmt_done(st);
    if (rc < 0)
        return rc;
    return sifa_error_set_details(err, SIFA_ENOTFOUND, "not_found", json_pack("{s:s}", "key", key),
                                  "系统参数 %s 不存在", key);
}

struct setting_write {
    char key[72];
    char *value;
    char updated_at[32];
    const struct sifa_api *api;
    char actor[SIFA_NAME_MAX + 1];
    char address[64];
};

/* Whether a setting's values stay out of the audit log: a key with a word (between dots and
 * underscores) that names a credential. Settings are plain key/value text readable by admins, so
 * this only keeps such values from spreading into every audit reader's view and every export of
 * the log; the entry still says who changed which key when. */
static bool setting_secret(const char *key)
{
    static const char *const words[] = {"secret", "password", "passwd", "token", "key", "apikey", "credential",
                                        "credentials", "private"};
    for (const char *p = key; *p != '\0';) {
        size_t n = strcspn(p, "._");
        for (size_t i = 0; i < SIFA_ARRAY_SIZE(words); i++)
            if (strlen(words[i]) == n && strncmp(p, words[i], n) == 0)
                return true;
        p += n;
        if (*p != '\0')
            p++;
    }
    return false;
}

/* The stored value of key (*ret new; NULL when the key is not set). */
static int setting_value(struct sifa_db *db, const char *key, char **ret, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "SELECT value FROM kv_settings WHERE key = ?", &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, key, -1);
    rc = sifa_db_step(st, err);
    *ret = rc == SIFA_DB_ROW ? sifa_xstrdup(sifa_db_column_text(st, 0)) : NULL;
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}

/* The change and its audit entry ("setting.update": the key, the old and new value unless the
 * setting is secret) commit together, as user and org changes do. */
static int setting_write_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct setting_write *w = ctx;
    char *old = NULL;
    int rc = setting_value(db, w->key, &old, err);
    if (rc < 0)
        return rc;
    json_t *details = setting_secret(w->key)
                          ? json_pack("{s:s,s:b,s:b}", "key", w->key, "secret", 1, "created", old == NULL)
                          : json_pack("{s:s,s:s?,s:s}", "key", w->key, "old", old, "new", w->value);
    free(old);
    struct sifa_db_stmt *st;
    rc = sifa_db_prepare(db,
                             "INSERT INTO kv_settings (key, value, updated_at) VALUES (?, ?, ?) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                             &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, w->key, -1);
    sifa_db_bind_text(st, 2, w->value, -1);
    sifa_db_bind_text(st, 3, w->updated_at, -1);
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    if (rc < 0) {
        json_decref(details);
        return rc;
    }
    return sifa_api_audit(db, w->api, w->actor[0] ? w->actor : NULL, w->address, "setting.update", w->key, details,
                          err);
}

static void setting_write_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct setting_write *w = ctx;
    if (req != NULL) {
        if (status < 0)
            sifa_resp_error(req, 0, err);
        else
            sifa_resp_json(req, 200,
                           json_pack("{s:s,s:s,s:s}", "key", w->key, "value", w->value, "updated_at", w->updated_at));
    }
    free(w->value);
    free(w);
}

int sifa_api_settings_put(struct sifa_req *req, struct sifa_error *err)
{
    const char *key = sifa_req_param(req, "key");
    if (!valid_setting_key(key))
        return invalid_key(err);
    json_t *body = sifa_req_json(req);
    json_t *value = body != NULL ? json_object_get(body, "value") : NULL;
    if (!json_is_string(value))
        return sifa_error_set_details(
            err, SIFA_EINVALID, "validation",
            json_pack("[{s:s,s:s,s:s}]", "field", "value", "code", "required", "message", "必须提供字符串类型的 value"),
            "请求内容有误:value 必须是字符串");
    if (json_string_length(value) > SETTING_VALUE_MAX)
        return sifa_error_set_details(err, SIFA_EINVALID, "validation",
                                      json_pack("[{s:s,s:s,s:s}]", "field", "value", "code", "max_length", "message",
                                                "value 不能超过 4096 字节"),
                                      "请求内容有误:value 过长");
    struct setting_write *w = sifa_xcalloc(1, sizeof(*w));
    snprintf(w->key, sizeof(w->key), "%s", key);
    w->value = sifa_xstrdup(json_string_value(value));
    utc_now_text(w->updated_at, sizeof(w->updated_at));
    w->api = sifa_req_app(req);
    const struct sifa_principal *p = sifa_req_principal(req);
    snprintf(w->actor, sizeof(w->actor), "%s", p != NULL ? p->user : "");
    snprintf(w->address, sizeof(w->address), "%s", sifa_req_peer(req));
    if (sifa_req_defer_write(req, setting_write_run, setting_write_done, w) < 0) {
        free(w->value);
        free(w);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "写入队列已满,请稍后重试");
    }
    return 0;
}

/* ---------- backups: a background job the client polls ---------- */

struct backup_job {
    struct sifa_server *server;
    struct sifa_db_config db;
    char db_path[4096];
    char dest[4096];
    char id[40];
    char created_at[32];
};

static void new_job_id(char *buf, size_t size)
{
    unsigned char r[8];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        memset(r, 0, sizeof(r));
    snprintf(buf, size, "job-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

struct job_update {
    const char *id, *state, *result, *error, *finished_at;
};

static int job_update_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct job_update *u = ctx;
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "UPDATE jobs SET state = ?, result = ?, error = ?, finished_at = ? WHERE id = ?", &st,
                             err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, u->state, -1);
    if (u->result)
        sifa_db_bind_text(st, 2, u->result, -1);
    else
        sifa_db_bind_null(st, 2);
    if (u->error)
        sifa_db_bind_text(st, 3, u->error, -1);
    else
        sifa_db_bind_null(st, 3);
    if (u->finished_at)
        sifa_db_bind_text(st, 4, u->finished_at, -1);
    else
        sifa_db_bind_null(st, 4);
    sifa_db_bind_text(st, 5, u->id, -1);
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}

static int backup_run(void *ctx, struct sifa_error *err)
{
    struct backup_job *job = ctx;
    struct sifa_db_writer *writer = sifa_server_writer(job->server);
    struct job_update running = {job->id, "running", NULL, NULL, NULL};
    int rc = sifa_db_writer_run(writer, job_update_run, &running, err);
    if (rc < 0)
        return rc;
    struct sifa_db *db;
    rc = sifa_db_open(&job->db, &db, err);
    if (rc >= 0) {
        rc = sifa_db_backup(db, job->dest, err);
        sifa_db_close(db);
    }
    char finished[32];
    utc_now_text(finished, sizeof(finished));
    struct sifa_error uerr = {0};
    if (rc < 0) {
        struct job_update failed = {job->id, "failed", NULL, err->message, finished};
        sifa_db_writer_run(writer, job_update_run, &failed, &uerr);
    } else {
        struct stat st;
        long long bytes = stat(job->dest, &st) == 0 ? (long long)st.st_size : -1;
        json_t *result = json_pack("{s:s,s:I}", "path", job->dest, "bytes", (json_int_t)bytes);
        char *text = json_dumps(result, JSON_COMPACT);
        json_decref(result);
        struct job_update done = {job->id, "done", text, NULL, finished};
        rc = sifa_db_writer_run(writer, job_update_run, &done, err);
        free(text);
    }
    sifa_error_release(&uerr);
    return rc;
}

static void backup_finish(void *ctx, int status, const struct sifa_error *err)
{
    (void)status;
    (void)err;
    free(ctx);
}

static int job_insert_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct backup_job *job = ctx;
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "INSERT INTO jobs (id, kind, state, created_at) VALUES (?, 'backup', 'queued', ?)",
                             &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, job->id, -1);
    sifa_db_bind_text(st, 2, job->created_at, -1);
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}

static void job_inserted(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct backup_job *job = ctx;
    if (status < 0) {
        if (req != NULL)
            sifa_resp_error(req, 0, err);
        free(job);
        return;
    }
    char id[40];
    snprintf(id, sizeof(id), "%s", job->id);
    /* The job row exists; the backup itself runs whether or not the client is still here. */
    if (sifa_server_submit_background(job->server, backup_run, backup_finish, job) < 0) {
        free(job);
        if (req != NULL) {
            struct sifa_error e = {0};
            sifa_error_set(&e, SIFA_EUNAVAILABLE, "busy", "后台任务队列已满,请稍后重试");
            sifa_resp_error(req, 0, &e);
            sifa_error_release(&e);
        }
        return;
    }
    if (req != NULL) {
        char location[96];
        snprintf(location, sizeof(location), "/api/v1/jobs/%s", id);
        sifa_resp_header(req, "location", location);
        sifa_resp_json(req, 202, json_pack("{s:{s:s,s:s,s:s,s:s}}", "job", "id", id, "kind", "backup", "state",
                                           "queued", "href", location));
    }
}

int sifa_api_backups_create(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    if (mkdir(api->backup_dir, 0750) != 0 && errno != EEXIST)
        return sifa_error_set(err, SIFA_EINTERNAL, "backup_dir", "无法创建备份目录 %s:%s", api->backup_dir,
                              strerror(errno));
    struct backup_job *job = sifa_xcalloc(1, sizeof(*job));
    job->server = sifa_req_server(req);
    sifa_api_worker_db_config(api, &job->db, job->db_path, sizeof(job->db_path));
    new_job_id(job->id, sizeof(job->id));
    utc_now_text(job->created_at, sizeof(job->created_at));
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    snprintf(job->dest, sizeof(job->dest), "%s/sifa-%s-%s.db", api->backup_dir, stamp, job->id + 4);
    if (sifa_req_defer_write(req, job_insert_run, job_inserted, job) < 0) {
        free(job);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "写入队列已满,请稍后重试");
    }
    return 0;
}

int sifa_api_jobs_get(struct sifa_req *req, struct sifa_error *err)
{
    const char *id = sifa_req_param(req, "id");
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(sifa_req_db(req),
                             "SELECT id, kind, state, created_at, finished_at, result, error FROM jobs WHERE id = ?", &st,
                             err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, id, -1);
    rc = sifa_db_step(st, err);
    if (rc != SIFA_DB_ROW) {
        sifa_db_stmt_done(st);
        if (rc < 0)
            return rc;
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "not_found", json_pack("{s:s}", "id", id), "任务 %s 不存在",
                                      id);
    }
    json_t *job = json_pack("{s:s,s:s,s:s,s:s}", "id", sifa_db_column_text(st, 0), "kind", sifa_db_column_text(st, 1),
                            "state", sifa_db_column_text(st, 2), "created_at", sifa_db_column_text(st, 3));
    const char *finished = sifa_db_column_text(st, 4), *result = sifa_db_column_text(st, 5),
               *error = sifa_db_column_text(st, 6);
    json_object_set_new(job, "finished_at", finished ? json_string(finished) : json_null());
    json_object_set_new(job, "result", result ? json_loads(result, 0, NULL) : json_null());
    json_object_set_new(job, "error", error ? json_string(error) : json_null());
    sifa_db_stmt_done(st);
    sifa_resp_json(req, 200, json_pack("{s:o}", "job", job));
    return 0;
}
