/* admin.c — managing org units, users, roles and sessions through the API (the screens of an
 * admin console, as in RuoYi: 部门管理, 用户管理, 角色, 在线用户 with forced logout), and a
 * user changing their own password. Layer: api.
 * Every change is one write job with its audit entry. Passwords are hashed on the worker pool
 * (argon2id) before the job is queued; a password never reaches the writer or the log. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "api/api.h"
#include "auth/accounts.h"
#include "auth/password.h"

enum admin_op {
    OP_ORG_CREATE,
    OP_ORG_UPDATE,
    OP_USER_CREATE,
    OP_USER_UPDATE,
    OP_USER_PASSWORD,
    OP_SELF_PASSWORD,
    OP_SESSION_REVOKE,
};

struct admin_job {
    enum admin_op op;
    const struct sifa_api *api;
    char actor[SIFA_NAME_MAX + 1];
    char address[64];
    char target[SIFA_NAME_MAX + 1];
    json_t *body;                          /* owned copy of the request body */
    char *password;                        /* owned, wiped; hashed on a worker */
    char *old_password;                    /* OP_SELF_PASSWORD */
    char *old_hash;                        /* OP_SELF_PASSWORD: the stored hash */
    bool old_ok;
    bool reused;                           /* OP_SELF_PASSWORD: the new password is the old one */
    bool own_session;                      /* OP_SESSION_REVOKE: the caller's own session */
    char hash[SIFA_PASSWORD_HASH_MAX];
    json_t *result;                        /* owned; the answer */
};

static void wipe_free(char *s)
{
    if (s != NULL) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

static void job_free(struct admin_job *j)
{
    json_decref(j->body);
    json_decref(j->result);
    wipe_free(j->password);
    wipe_free(j->old_password);
    free(j->old_hash);
    sodium_memzero(j->hash, sizeof(j->hash));
    free(j);
}

static const char *str(json_t *body, const char *key)
{
    return json_string_value(json_object_get(body, key));
}

/* Roles of a body as an array of borrowed strings; SIFA_EINVALID when malformed. */
static int body_roles(json_t *body, const char **roles, size_t *n, struct sifa_error *err)
{
    json_t *list = json_object_get(body, "roles");
    *n = 0;
    if (list == NULL)
        return 0;
    if (!json_is_array(list) || json_array_size(list) > SIFA_PRINCIPAL_ROLES_MAX)
        return sifa_error_set(err, SIFA_EINVALID, "bad_roles", "roles 应为角色代码的列表(最多 %d 个)",
                              SIFA_PRINCIPAL_ROLES_MAX);
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        if (!json_is_string(r))
            return sifa_error_set(err, SIFA_EINVALID, "bad_roles", "roles 应为角色代码的列表");
        roles[(*n)++] = json_string_value(r);
    }
    return 0;
}

/* division_code, when present, is a string or null (none); a number would lose leading digits
 * and be silently dropped, so it is refused rather than ignored. */
static int body_division(json_t *body, struct sifa_error *err)
{
    json_t *v = json_object_get(body, "division_code");
    if (v == NULL || json_is_null(v) || json_is_string(v))
        return 0;
    return sifa_error_set_details(err, SIFA_EINVALID, "bad_division_code", json_pack("{s:s}", "field", "division_code"),
                                  "division_code 应为字符串形式的行政区划代码(如 \"330282001\"),或 null 表示没有");
}

static int admin_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct admin_job *j = ctx;
    int rc = 0;
    const char *action = "admin";
    json_t *details = NULL;
    int64_t now = time(NULL);
    switch (j->op) {
    case OP_ORG_CREATE:
        if ((rc = body_division(j->body, err)) >= 0)
            rc = sifa_org_create(db, j->target, str(j->body, "name"), str(j->body, "kind") ? str(j->body, "kind") : "",
                                 str(j->body, "parent"), str(j->body, "division_code"), j->actor, err);
        action = "org.create";
        details = json_deep_copy(j->body);
        break;
    case OP_ORG_UPDATE: {
        json_t *parent = json_object_get(j->body, "parent"), *division = json_object_get(j->body, "division_code");
        if ((rc = body_division(j->body, err)) >= 0)
            rc = sifa_org_update(db, j->target, str(j->body, "name"),
                                 parent == NULL ? NULL : json_is_null(parent) ? "" : json_string_value(parent),
                                 division == NULL ? NULL : json_is_null(division) ? "" : json_string_value(division),
                                 j->actor, err);
        action = "org.update";
        details = json_deep_copy(j->body);
        break;
    }
    case OP_USER_CREATE: {
        const char *roles[SIFA_PRINCIPAL_ROLES_MAX];
        size_t n;
        if ((rc = body_roles(j->body, roles, &n, err)) >= 0)
            rc = sifa_user_create(db, j->api->roles, j->target, str(j->body, "display_name"), str(j->body, "org"), roles,
                                  n, j->password ? j->hash : NULL, j->password != NULL, err);
        action = "user.create";
        details = json_pack("{s:O?,s:O?}", "org", json_object_get(j->body, "org"), "roles",
                            json_object_get(j->body, "roles"));
        break;
    }
    case OP_USER_UPDATE: {
        const char *roles[SIFA_PRINCIPAL_ROLES_MAX];
        size_t n;
        json_t *disabled = json_object_get(j->body, "disabled");
        if (str(j->body, "display_name") || str(j->body, "org"))
            rc = sifa_user_set_profile(db, j->target, str(j->body, "display_name"), str(j->body, "org"), err);
        if (rc >= 0 && json_object_get(j->body, "roles") != NULL && (rc = body_roles(j->body, roles, &n, err)) >= 0)
            rc = sifa_user_set_roles(db, j->api->roles, j->target, roles, n, err);
        if (rc >= 0 && json_is_boolean(disabled)) {
            rc = sifa_user_set_disabled(db, j->target, json_is_true(disabled), err);
            if (rc >= 0 && json_is_true(disabled))
                rc = sifa_session_revoke_user(db, j->target, now, err);
        }
        action = "user.update";
        details = json_deep_copy(j->body);
        break;
    }
    case OP_USER_PASSWORD:
        rc = sifa_user_set_password(db, j->target, j->hash, true, err);
        /* A reset is what follows a forgotten or leaked password: nothing signed in with the old
         * one, session or API token, may outlive it. */
        if (rc >= 0)
            rc = sifa_session_revoke_user(db, j->target, now, err);
        if (rc >= 0)
            rc = sifa_api_token_revoke_user(db, j->target, now, err);
        action = "user.password_reset";
        break;
    case OP_SELF_PASSWORD:
        if (!j->old_ok) {
            rc = sifa_error_set(err, SIFA_EDENIED, "wrong_password", "原密码不正确");
            break;
        }
        if (j->reused) {
            /* A one-time password kept as the lasting one stays known to whoever set it. */
            rc = sifa_error_set(err, SIFA_EINVALID, "password_reused", "新密码不能与原密码相同");
            break;
        }
        rc = sifa_user_set_password(db, j->target, j->hash, false, err);
        action = "user.password_change";
        break;
    case OP_SESSION_REVOKE:
        rc = sifa_session_revoke(db, j->target, now, err);
        action = "session.revoke";
        break;
    }
    if (rc < 0) {
        json_decref(details);
        return rc;
    }
    if (j->op == OP_USER_CREATE || j->op == OP_USER_UPDATE)
        rc = sifa_user_get(db, j->target, &j->result, err);
    if (rc >= 0)
        rc = sifa_api_audit(db, j->api, j->actor, j->address, action, j->target, details, err);
    else
        json_decref(details);
    return rc;
}

static void admin_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct admin_job *j = ctx;
    if (req != NULL) {
        if (status < 0)
            sifa_resp_error(req, strcmp(err->code, "wrong_password") == 0 ? 403 : 0, err);
        else if (j->result != NULL)
            sifa_resp_json(req, j->op == OP_USER_CREATE ? 201 : 200, json_incref(j->result));
        else {
            /* Ending one's own session here is a logout: the browser drops the cookie too. */
            if (j->own_session)
                sifa_api_clear_session_cookie(req);
            sifa_resp_json(req, j->op == OP_ORG_CREATE ? 201 : 200, json_pack("{s:b,s:s}", "ok", 1, "target", j->target));
        }
    }
    job_free(j);
}

static int submit_write(struct sifa_req *req, struct admin_job *j, struct sifa_error *err)
{
    if (sifa_req_defer_write(req, admin_run, admin_done, j) < 0) {
        job_free(j);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "服务繁忙,请稍后重试");
    }
    return 0;
}

/* On a worker: the new password's hash, and for a change of one's own password the check of the
 * old one (both argon2id, far too slow for an event loop). */
static int hash_work(void *ctx, struct sifa_error *err)
{
    struct admin_job *j = ctx;
    if (j->op == OP_SELF_PASSWORD) {
        j->old_ok = sifa_password_verify(j->old_hash, j->old_password) == 0;
        /* Compared only once the old password is proven: otherwise the answer would tell a
         * caller holding a stolen session whether a guess was the password. Once proven, the
         * old password in clear is the stored one, so plain equality needs no second hash. */
        j->reused = j->old_ok && j->password != NULL && strcmp(j->old_password, j->password) == 0;
    }
    return j->password ? sifa_password_hash(j->password, j->hash, err) : 0;
}

static void hash_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct admin_job *j = ctx;
    if (req == NULL) {
        job_free(j);
        return;
    }
    if (status < 0) {
        sifa_resp_error(req, 0, err);
        job_free(j);
        return;
    }
    struct sifa_error e = {0};
    if (submit_write(req, j, &e) < 0) {
        sifa_resp_error(req, 0, &e);
        sifa_error_release(&e);
    }
}

static struct admin_job *job_new(struct sifa_req *req, enum admin_op op, const char *target)
{
    struct admin_job *j = sifa_xcalloc(1, sizeof(*j));
    const struct sifa_principal *p = sifa_req_principal(req);
    j->op = op;
    j->api = sifa_req_app(req);
    snprintf(j->actor, sizeof(j->actor), "%s", p ? p->user : "");
    snprintf(j->address, sizeof(j->address), "%s", sifa_req_peer(req));
    snprintf(j->target, sizeof(j->target), "%s", target ? target : "");
    json_t *body = sifa_req_json(req);
    j->body = body ? json_deep_copy(body) : json_object();
    return j;
}

/* Queues j, first through the worker when a password must be hashed or checked. */
static int submit(struct sifa_req *req, struct admin_job *j, struct sifa_error *err)
{
    if (j->password == NULL && j->op != OP_SELF_PASSWORD)
        return submit_write(req, j, err);
    if (sifa_req_defer_work(req, hash_work, hash_done, j) < 0) {
        job_free(j);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "服务繁忙,请稍后重试");
    }
    return 0;
}

static int take_password(struct sifa_req *req, struct admin_job *j, const char *key, const char *user,
                         struct sifa_error *err)
{
    const char *pw = str(sifa_req_json(req), key);
    if (pw == NULL)
        return sifa_error_set(err, SIFA_EINVALID, "password_required", "请提供 %s", key);
    int rc = sifa_password_check_policy(pw, user, err);
    if (rc < 0)
        return rc;
    j->password = sifa_xstrdup(pw);
    json_object_del(j->body, key); /* never into the audit details */
    return 0;
}

/* ---------- org units ---------- */

int sifa_api_orgs_list(struct sifa_req *req, struct sifa_error *err)
{
    json_t *list;
    int rc = sifa_org_list(sifa_req_db(req), &list, err);
    if (rc < 0)
        return rc;
    sifa_resp_json(req, 200, json_pack("{s:o}", "items", list));
    return 0;
}

int sifa_api_orgs_create(struct sifa_req *req, struct sifa_error *err)
{
    const char *code = str(sifa_req_json(req), "code");
    if (code == NULL || !sifa_org_code_valid(code))
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_org_code", json_pack("{s:s}", "field", "code"),
                                      "请提供合法的机构代码 code");
    return submit(req, job_new(req, OP_ORG_CREATE, code), err);
}

int sifa_api_orgs_update(struct sifa_req *req, struct sifa_error *err)
{
    return submit(req, job_new(req, OP_ORG_UPDATE, sifa_req_param(req, "code")), err);
}

int sifa_api_orgs_history(struct sifa_req *req, struct sifa_error *err)
{
    json_t *list;
    int rc = sifa_org_history(sifa_req_db(req), sifa_req_param(req, "code"), &list, err);
    if (rc < 0)
        return rc;
    sifa_resp_json(req, 200, json_pack("{s:o}", "items", list));
    return 0;
}

/* ---------- users and roles ---------- */

int sifa_api_users_list(struct sifa_req *req, struct sifa_error *err)
{
    json_t *list;
    int rc = sifa_user_list(sifa_req_db(req), &list, err);
    if (rc < 0)
        return rc;
    sifa_resp_json(req, 200, json_pack("{s:o,s:I}", "items", list, "total", (json_int_t)json_array_size(list)));
    return 0;
}

int sifa_api_users_create(struct sifa_req *req, struct sifa_error *err)
{
    const char *name = str(sifa_req_json(req), "name");
    if (name == NULL || !sifa_user_name_valid(name))
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_user_name", json_pack("{s:s}", "field", "name"),
                                      "请提供合法的用户名 name(小写字母开头)");
    struct admin_job *j = job_new(req, OP_USER_CREATE, name);
    if (json_object_get(sifa_req_json(req), "password") != NULL) {
        int rc = take_password(req, j, "password", name, err);
        if (rc < 0) {
            job_free(j);
            return rc;
        }
    }
    return submit(req, j, err);
}

int sifa_api_users_update(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    const char *name = sifa_req_param(req, "name");
    json_t *disabled = json_object_get(sifa_req_json(req), "disabled");
    if (strcmp(name, p->user) == 0 && (json_is_true(disabled) || json_object_get(sifa_req_json(req), "roles")))
        return sifa_error_set(err, SIFA_EDENIED, "self_lockout", "不能停用自己或修改自己的角色,请由另一位管理员操作");
    return submit(req, job_new(req, OP_USER_UPDATE, name), err);
}

int sifa_api_users_reset_password(struct sifa_req *req, struct sifa_error *err)
{
    const char *name = sifa_req_param(req, "name");
    struct admin_job *j = job_new(req, OP_USER_PASSWORD, name);
    int rc = take_password(req, j, "password", name, err);
    if (rc < 0) {
        job_free(j);
        return rc;
    }
    return submit(req, j, err);
}

int sifa_api_self_password(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    if (p->via_token)
        return sifa_error_set(err, SIFA_EDENIED, "denied", "请登录后修改密码");
    const char *old = str(sifa_req_json(req), "old_password");
    if (old == NULL || strlen(old) > SIFA_PASSWORD_MAX_BYTES)
        return sifa_error_set(err, SIFA_EINVALID, "password_required", "请提供原密码 old_password");
    struct admin_job *j = job_new(req, OP_SELF_PASSWORD, p->user);
    int rc = take_password(req, j, "new_password", p->user, err);
    if (rc < 0) {
        job_free(j);
        return rc;
    }
    json_object_del(j->body, "old_password");
    j->old_password = sifa_xstrdup(old);
    bool disabled, must_change;
    struct sifa_error e = {0};
    if (sifa_user_auth_info(sifa_req_db(req), p->user, &j->old_hash, &disabled, &must_change, &e) < 0)
        j->old_hash = NULL;
    sifa_error_release(&e);
    return submit(req, j, err);
}

int sifa_api_roles_list(struct sifa_req *req, struct sifa_error *err)
{
    (void)err;
    const struct sifa_api *api = sifa_req_app(req);
    json_t *list = json_array();
    for (size_t i = 0; api->roles != NULL && i < api->roles->n; i++)
        json_array_append_new(list, sifa_role_to_json(&api->roles->roles[i]));
    sifa_resp_json(req, 200, json_pack("{s:o}", "items", list));
    return 0;
}

/* ---------- online users ---------- */

/* Whether id (a session's listed id, a prefix of its hash) names the caller's own session. */
static bool own_session(const struct sifa_principal *p, const char *id)
{
    size_t n = strlen(id);
    return p != NULL && !p->via_token && p->session_hash[0] != '\0' && n >= 16 &&
           strncmp(p->session_hash, id, n) == 0;
}

/* Each session says whether it is the caller's own ("current"), so that the page can warn an
 * admin before they force themselves out. */
int sifa_api_sessions_list(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_api *api = sifa_req_app(req);
    const struct sifa_principal *p = sifa_req_principal(req);
    json_t *list;
    int rc = sifa_session_list(sifa_req_db(req), time(NULL), &api->session_limits, &list, err);
    if (rc < 0)
        return rc;
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
        json_object_set_new(item, "current",
                            json_boolean(own_session(p, json_string_value(json_object_get(item, "id")))));
    sifa_resp_json(req, 200, json_pack("{s:o,s:I}", "items", list, "total", (json_int_t)json_array_size(list)));
    return 0;
}

int sifa_api_sessions_revoke(struct sifa_req *req, struct sifa_error *err)
{
    /* One's own session may be ended here too (the list marks it "current"); the answer then
     * clears the cookie as a logout does. */
    struct admin_job *j = job_new(req, OP_SESSION_REVOKE, sifa_req_param(req, "id"));
    j->own_session = own_session(sifa_req_principal(req), sifa_req_param(req, "id"));
    return submit(req, j, err);
}
