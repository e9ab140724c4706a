/* audit.c — the audit trail as the API uses it: appending entries from write jobs, and the
 * endpoints auditors read it through (list, chain verification). Layer: api. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "api/api.h"
#include "auth/audit.h"

int sifa_api_audit(struct sifa_db *db, const struct sifa_api *api, const char *actor, const char *address,
                   const char *action, const char *target, json_t *details_take, struct sifa_error *err)
{
    if (api->keyring == NULL) {
        json_decref(details_take);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "no_key_file", "密钥文件未加载,无法写审计日志");
    }
    struct sifa_audit_entry e = {.actor = actor, .address = address, .action = action, .target = target,
                                 .details = details_take};
    int rc = sifa_audit_append(db, sifa_keyring_audit_key(api->keyring), &e, NULL, err);
    json_decref(details_take);
    return rc;
}

int sifa_api_audit_list(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_query *q = sifa_req_query(req);
    struct sifa_audit_filter f = {0};
    f.actor = sifa_query_get(q, "actor");
    f.action = sifa_query_get(q, "action");
    f.since = sifa_query_get(q, "since");
    f.until = sifa_query_get(q, "until");
    const char *page = sifa_query_get(q, "page"), *size = sifa_query_get(q, "page_size");
    f.page = page ? strtoll(page, NULL, 10) : 1;
    f.page_size = size ? strtoll(size, NULL, 10) : 50;
    json_t *result;
    int rc = sifa_audit_list(sifa_req_db(req), &f, &result, err);
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
    snprintf(w->path, sizeof(w->path), "%s", api->db.path);
    w->db = api->db;
    w->db.path = w->path;
    w->db.create = false;
    memcpy(w->key, sifa_keyring_audit_key(api->keyring), sizeof(w->key));
    if (sifa_req_defer_work(req, verify_run, verify_done, w) < 0) {
        free(w);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "后台任务队列已满,请稍后重试");
    }
    return 0;
}
