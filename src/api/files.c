/* files.c — uploads and downloads of the files attachment fields refer to:
 * POST /api/v1/files?name=<file name> with the bytes as the body and their Content-Type;
 * GET /api/v1/files/{id} (metadata) and GET /api/v1/files/{id}/content (the bytes).
 * Layer: api. Hashing and writing a file of several megabytes runs on the worker pool, the files
 * row goes through the group-commit writer, and the response is sent when both are done.
 *
 * Who may download: a file belongs to the records that cite it. It is readable by whoever may
 * read one of them (each module's `<module>.read` and data scope, as for deadlines), and, until
 * a record cites it, by the user who uploaded it (so a form can show what was just attached).
 * Anyone else gets 404 file_not_found, as for a record outside one's scope: the id's existence
 * does not leak. An inspector's downloads are audited (file.read) before they are answered.
 * Uploading needs a permission that writes an attachment field (route permission
 * "attachments.write", checked by sifa_api_authorize): read-only roles get 403. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "api/api.h"
#include "record/record.h"

#define FILE_NAME_MAX 200

struct upload {
    char files_dir[4096];
    char name[FILE_NAME_MAX * 4 + 1];
    char content_type[128];
    char *data; /* owned copy of the body: the worker must not read request memory */
    size_t size;
    json_t *file; /* owned; set by the worker */
    struct sifa_record_ctx rc;
    char actor[SIFA_NAME_MAX + 1]; /* rc.actor: the uploader, kept with the file */
};

static void upload_free(struct upload *u)
{
    free(u->data);
    json_decref(u->file);
    free(u);
}

static int upload_store(void *ctx, struct sifa_error *err)
{
    struct upload *u = ctx;
    return sifa_record_file_store(u->files_dir, u->name, u->content_type, u->data, u->size, &u->file, err);
}

static int upload_insert(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct upload *u = ctx;
    return sifa_record_file_insert(db, &u->rc, u->file, err);
}

static void upload_inserted(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct upload *u = ctx;
    if (req != NULL) {
        if (status < 0) {
            sifa_resp_error(req, 0, err);
        } else {
            char location[96];
            snprintf(location, sizeof(location), "/api/v1/files/%s", json_string_value(json_object_get(u->file, "id")));
            sifa_resp_header(req, "location", location);
            sifa_resp_json(req, 201, json_incref(u->file));
        }
    }
    upload_free(u);
}

static void upload_stored(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct upload *u = ctx;
    if (req == NULL) {
        upload_free(u);
        return;
    }
    if (status < 0) {
        sifa_resp_error(req, 0, err);
        upload_free(u);
        return;
    }
    free(u->data); /* the bytes are on disk now */
    u->data = NULL;
    if (sifa_req_defer_write(req, upload_insert, upload_inserted, u) < 0) {
        struct sifa_error e = {0};
        sifa_error_set(&e, SIFA_EUNAVAILABLE, "busy", "写入队列已满,请稍后重试");
        sifa_resp_error(req, 0, &e);
        sifa_error_release(&e);
        upload_free(u);
    }
}

int sifa_api_files_upload(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    const char *name = sifa_query_get(sifa_req_query(req), "name");
    if (name == NULL || *name == '\0' || strlen(name) > FILE_NAME_MAX * 4 || strchr(name, '/') != NULL ||
        strchr(name, '\\') != NULL)
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_name", json_pack("{s:s}", "field", "name"),
                                      "请用查询参数 name 给出文件名(不含路径,最长 %d 个字符)", FILE_NAME_MAX);
    char ctype[128];
    if (sifa_req_header(req, "content-type", ctype, sizeof(ctype)) == NULL)
        return sifa_error_set(err, SIFA_EUNSUPPORTED, "file_type", "上传文件必须带 Content-Type");
    char *semi = strchr(ctype, ';');
    if (semi != NULL)
        *semi = '\0';
    for (char *p = ctype; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    size_t size;
    const char *body = sifa_req_body(req, &size);
    if (size == 0)
        return sifa_error_set(err, SIFA_EINVALID, "empty_file", "上传的文件是空的");
    int rc = sifa_record_file_check_type(ctype, body, size, err);
    if (rc < 0)
        return rc;
    struct upload *u = sifa_xcalloc(1, sizeof(*u));
    snprintf(u->files_dir, sizeof(u->files_dir), "%s", api->files_dir);
    snprintf(u->name, sizeof(u->name), "%s", name);
    snprintf(u->content_type, sizeof(u->content_type), "%s", ctype);
    u->data = sifa_xmalloc(size);
    memcpy(u->data, body, size);
    u->size = size;
    u->rc.now = time(NULL);
    const struct sifa_principal *p = sifa_req_principal(req);
    if (p != NULL) {
        snprintf(u->actor, sizeof(u->actor), "%s", p->user);
        u->rc.actor = u->actor;
    }
    if (sifa_req_defer_work(req, upload_store, upload_stored, u) < 0) {
        upload_free(u);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "后台任务队列已满,请稍后重试");
    }
    return 0;
}

/* 0 when the caller may read file id (see the top of this file), else SIFA_ENOTFOUND. */
static int file_access(struct sifa_req *req, const char *id, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    const struct sifa_principal *p = sifa_req_principal(req);
    struct sifa_api_read_scopes rs = {.principal = p};
    struct sifa_record_ctx rc = {.model = api->model, .now = time(NULL), .module_scope = sifa_api_read_scope_of,
                                 .module_scope_arg = &rs};
    bool readable = false, cited = false;
    char *uploader = NULL;
    int r = sifa_record_file_created_by(sifa_req_db(req), id, &uploader, err);
    bool own = r >= 0 && p != NULL && uploader != NULL && strcmp(uploader, p->user) == 0;
    if (r >= 0)
        r = sifa_record_file_cited(sifa_req_db(req), &rc, id, &readable, own ? &cited : NULL, err);
    sifa_api_read_scopes_release(&rs);
    free(uploader);
    if (r < 0)
        return r;
    if (readable || (own && !cited))
        return 0;
    return sifa_error_set(err, SIFA_ENOTFOUND, "file_not_found", "文件不存在");
}

int sifa_api_files_get(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    json_t *file;
    int rc = file_access(req, sifa_req_param(req, "id"), err);
    if (rc < 0)
        return rc;
    rc = sifa_record_file_get(sifa_req_db(req), api->files_dir, sifa_req_param(req, "id"), &file, NULL, err);
    if (rc < 0)
        return rc;
    char target[64];
    snprintf(target, sizeof(target), "files/%s", sifa_req_param(req, "id"));
    return sifa_api_respond_inspected(req, file, "file.read", target,
                                      json_pack("{s:O,s:s}", "name", json_object_get(file, "name"), "part", "metadata"),
                                      err);
}

int sifa_api_files_content(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    json_t *file;
    char *path;
    int rc = file_access(req, sifa_req_param(req, "id"), err);
    if (rc < 0)
        return rc;
    rc = sifa_record_file_get(sifa_req_db(req), api->files_dir, sifa_req_param(req, "id"), &file, &path, err);
    if (rc < 0)
        return rc;
    const struct sifa_principal *p = sifa_req_principal(req);
    const char *type = json_string_value(json_object_get(file, "content_type"));
    const char *name = json_string_value(json_object_get(file, "name"));
    if (p != NULL && sifa_principal_read_only(p)) {
        /* an inspector's read: the bytes go out once the entry is committed */
        char target[64];
        snprintf(target, sizeof(target), "files/%s", sifa_req_param(req, "id"));
        rc = sifa_api_send_file_audited(req, path, type, name, false, "file.read", target,
                                        json_pack("{s:s,s:s}", "name", name, "part", "content"), err);
    } else {
        rc = sifa_resp_file(req, path, type, name);
        if (rc < 0)
            sifa_error_set(err, SIFA_EINTERNAL, "file_missing", "文件记录存在,但存储中找不到文件内容");
    }
    free(path);
    json_decref(file);
    return rc;
}
