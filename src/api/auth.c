/* auth.c — who is calling and what they may do: the permission check the dispatcher runs before
 * every handler, login and logout, the current user, API tokens, and the data scope handed to the
 * record engine. Layer: api.
 *
 * A caller is identified by the session cookie (sifa_session, HttpOnly, SameSite=Strict, Secure
 * under TLS) or by "Authorization: Bearer <token>". Cookie-authenticated requests that change
 * state must carry the session's CSRF token in X-CSRF-Token (bearer tokens are not sent by
 * browsers on their own, so they need none). Route permissions may name path parameters:
 * "{code}.read" becomes "mediation_case.read" for /api/v1/modules/mediation_case/records. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "api/api.h"
#include "auth/accounts.h"
#include "auth/password.h"
#include "auth/secret.h"

#define COOKIE_NAME "sifa_session"
#define TOUCH_EVERY_SECONDS 60
#define LOGIN_WINDOW_SECONDS (15 * 60)
#define LOGIN_MAX_FAILURES_PER_USER 5
#define LOGIN_MAX_FAILURES_PER_ADDRESS 30

/* ---------- identifying the caller ---------- */

static void principal_free(void *p)
{
    sifa_principal_release(p);
    free(p);
}

/* The session token from the Cookie header, into buf; NULL when absent. */
static const char *session_cookie(struct sifa_req *req, char *buf, size_t size)
{
    char cookies[4096];
    if (sifa_req_header(req, "cookie", cookies, sizeof(cookies)) == NULL)
        return NULL;
    for (char *p = cookies; p != NULL && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        char *end = strchr(p, ';');
        if (strncmp(p, COOKIE_NAME "=", sizeof(COOKIE_NAME)) == 0) {
            const char *v = p + sizeof(COOKIE_NAME);
            size_t n = end ? (size_t)(end - v) : strlen(v);
            if (n >= size)
                return NULL;
            memcpy(buf, v, n);
            buf[n] = '\0';
            return buf;
        }
        p = end;
    }
    return NULL;
}

struct touch_job {
    char hash[65];
    int64_t now;
};

static int touch_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct touch_job *t = ctx;
    return sifa_session_touch(db, t->hash, t->now, err);
}

static void touch_done(void *ctx, int status, const struct sifa_error *err)
{
    (void)status;
    (void)err;
    free(ctx);
}

/* Establishes the principal of req (new in *ret) or fails with 401. */
static int identify(struct sifa_req *req, struct sifa_principal **ret, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    struct sifa_db *db = sifa_req_db(req);
    int64_t now = time(NULL);
    char auth[256], cookie[128];
    struct sifa_principal *p = sifa_xcalloc(1, sizeof(*p));
    int rc;
    if (sifa_req_header(req, "authorization", auth, sizeof(auth)) != NULL) {
        if (strncmp(auth, "Bearer ", 7) != 0)
            rc = sifa_error_set(err, SIFA_EUNAUTHENTICATED, "unauthenticated", "Authorization 应为 Bearer <令牌>");
        else
            rc = sifa_api_token_lookup(db, auth + 7, now, p, err);
    } else if (session_cookie(req, cookie, sizeof(cookie)) != NULL) {
        rc = sifa_session_lookup(db, cookie, now, &api->session_limits, p, err);
    } else {
        rc = sifa_error_set(err, SIFA_EUNAUTHENTICATED, "unauthenticated", "请先登录");
    }
    if (rc >= 0) {
        char user[SIFA_NAME_MAX + 1];
        snprintf(user, sizeof(user), "%s", p->user);
        rc = sifa_principal_load(db, api->roles, user, p, err);
    }
    if (rc < 0) {
        /* An unknown, expired or disabled identity is 401; a database failure stays what it is. */
        if (err->status == SIFA_EDENIED || err->status == SIFA_ENOTFOUND)
            err->status = SIFA_EUNAUTHENTICATED;
        principal_free(p);
        return err->status < 0 ? err->status : SIFA_EUNAUTHENTICATED;
    }
    /* Refresh often enough that an active user never idles out: at most every minute, and four
     * times within the idle limit when that is shorter. */
    int64_t touch_every = api->session_limits.idle_seconds / 4 < TOUCH_EVERY_SECONDS ? api->session_limits.idle_seconds / 4
                                                                                     : TOUCH_EVERY_SECONDS;
    if (!p->via_token && now - p->last_seen >= touch_every) {
        /* Idle time counts from the last request; refreshing it is not worth a write per request. */
        struct touch_job *t = sifa_xcalloc(1, sizeof(*t));
        snprintf(t->hash, sizeof(t->hash), "%s", p->session_hash);
        t->now = now;
        if (sifa_db_writer_submit(sifa_server_writer(sifa_req_server(req)), touch_run, touch_done, t) < 0)
            free(t);
    }
    *ret = p;
    return 0;
}

/* "{code}.read" with the request's parameters substituted, into out. */
static int expand_permission(struct sifa_req *req, const char *pattern, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = pattern; *p && o + 1 < size;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (end == NULL || end - p > 32)
                return -1;
            char name[40];
            snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
            const char *v = sifa_req_param(req, name);
            if (v == NULL)
                return -1;
            int n = snprintf(out + o, size - o, "%s", v);
            if (n < 0 || (size_t)n >= size - o)
                return -1;
            o += (size_t)n;
            p = end + 1;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return 0;
}

static bool safe_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

/* What a user holding a one-time password may still do: see who they are, change the password,
 * sign out. */
static bool allowed_before_password_change(const char *permission)
{
    return strcmp(permission, "self.read") == 0 || strcmp(permission, "self.password") == 0 ||
           strcmp(permission, "self.logout") == 0;
}

static bool module_has_attachment(const struct sifa_module *m)
{
    for (size_t i = 0; i < m->nfields; i++) {
        if (m->fields[i].type == SIFA_FIELD_ATTACHMENT)
            return true;
        for (size_t k = 0; k < m->fields[i].nsub; k++)
            if (m->fields[i].sub[k].type == SIFA_FIELD_ATTACHMENT)
                return true;
    }
    return false;
}

/* The route permission "attachments.write" (POST /api/v1/files): a file is uploaded only to be
 * put into an attachment field, so the caller must hold a permission that writes one — create,
 * update or a transition (transitions carry field values too) of a module with an attachment
 * field. A read-only role (inspectors) is granted no write, so it is refused; so is a user who
 * may write only modules without attachments. Without this any signed-in user could fill the
 * disk with files no record will ever cite. */
static bool may_attach(const struct sifa_api *api, const struct sifa_principal *p)
{
    for (size_t i = 0; api->model != NULL && i < api->model->nmodules; i++) {
        const struct sifa_module *m = &api->model->modules[i];
        if (!module_has_attachment(m))
            continue;
        char perm[160];
        snprintf(perm, sizeof(perm), "%s.create", m->code);
        if (sifa_principal_can(p, perm))
            return true;
        snprintf(perm, sizeof(perm), "%s.update", m->code);
        if (sifa_principal_can(p, perm))
            return true;
        for (size_t t = 0; t < m->ntransitions; t++) {
            snprintf(perm, sizeof(perm), "%s.transition.%s", m->code, m->transitions[t].code);
            if (sifa_principal_can(p, perm))
                return true;
        }
    }
    return false;
}

int sifa_api_authorize(struct sifa_req *req, const struct sifa_route *route, struct sifa_error *err)
{
    if (strcmp(route->permission, "public") == 0)
        return 0;
    struct sifa_principal *p = NULL;
    int rc = identify(req, &p, err);
    if (rc < 0)
        return rc;
    sifa_req_set_user(req, p->user);
    sifa_req_set_principal(req, p, principal_free);
    if (!p->via_token && !safe_method(sifa_req_method(req))) {
        char csrf[128];
        if (sifa_req_header(req, "x-csrf-token", csrf, sizeof(csrf)) == NULL || !sifa_token_equal(csrf, p->csrf))
            return sifa_error_set(err, SIFA_EDENIED, "csrf_failed",
                                  "请求缺少有效的 X-CSRF-Token(登录时返回的 csrf_token),已拒绝");
    }
    /* A one-time password (set by an administrator, who therefore knows it) opens only the way
     * to replacing it: before any other check that could let the request through, so that routes
     * every signed-in user may call ("authenticated") are closed too. Tokens are self.* as well,
     * but a token issued now would outlive the one-time password it was issued under. */
    if (p->must_change_password && !allowed_before_password_change(route->permission))
        return sifa_error_set(err, SIFA_EDENIED, "password_change_required", "请先修改初始密码");
    if (strcmp(route->permission, "authenticated") == 0)
        return 0;
    if (strcmp(route->permission, "attachments.write") == 0)
        return may_attach(sifa_req_app(req), p)
                   ? 0
                   : sifa_error_set_details(err, SIFA_EDENIED, "denied",
                                            json_pack("{s:s}", "permission", "attachments.write"),
                                            "无权上传文件(需要可填写附件的业务模块的新增、修改或流转权限)");
    char perm[160];
    if (expand_permission(req, route->permission, perm, sizeof(perm)) < 0)
        return sifa_error_set(err, SIFA_EINTERNAL, "bad_permission", "路由权限定义有误");
    if (strncmp(perm, "self.", 5) == 0)
        return 0;
    if (!sifa_principal_can(p, perm))
        return sifa_error_set_details(err, SIFA_EDENIED, "denied", json_pack("{s:s}", "permission", perm),
                                      "无权执行此操作(需要权限 %s)", perm);
    return 0;
}

/* ---------- data scope for the record engine ---------- */

void sifa_api_scope_release(struct sifa_api_scope *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->strings[i]);
    free(s->strings);
    free(s->orgs);
    free(s->subtrees);
    free(s->creator);
    memset(s, 0, sizeof(*s));
}

static char *scope_keep(struct sifa_api_scope *s, const char *v)
{
    s->strings = sifa_xrealloc(s->strings, (s->n + 1) * sizeof(char *));
    s->strings[s->n] = sifa_xstrdup(v);
    return s->strings[s->n++];
}

/* The union of the data scopes of the roles that grant permission. Everything is copied: a write
 * job may outlive the request that queued it. */
void sifa_api_scope_build(const struct sifa_principal *p, const char *permission, struct sifa_api_scope *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->orgs = sifa_xcalloc(64, sizeof(char *));
    ret->subtrees = sifa_xcalloc(64, sizeof(char *));
    for (size_t i = 0; i < p->nroles; i++) {
        const struct sifa_role *r = p->roles[i];
        if (!sifa_role_grants(r, permission))
            continue;
        switch (r->scope) {
        case SIFA_SCOPE_ALL:
            ret->scope.all = true;
            break;
        case SIFA_SCOPE_CUSTOM:
            for (size_t k = 0; k < r->norgs && ret->scope.nsubtrees < 64; k++)
                ret->subtrees[ret->scope.nsubtrees++] = scope_keep(ret, r->orgs[k]);
            break;
        case SIFA_SCOPE_OWN_ORG:
            if (p->org[0] && ret->scope.norgs < 64)
                ret->orgs[ret->scope.norgs++] = scope_keep(ret, p->org);
            break;
        case SIFA_SCOPE_ORG_AND_BELOW:
            if (p->org[0] && ret->scope.nsubtrees < 64)
                ret->subtrees[ret->scope.nsubtrees++] = scope_keep(ret, p->org);
            break;
        case SIFA_SCOPE_SELF:
            if (ret->creator == NULL) {
                ret->creator = sifa_xstrdup(p->user);
                /* Where such a user may put records: their own unit and below (record.h). */
                if (p->org[0])
                    ret->scope.creator_org = scope_keep(ret, p->org);
            }
            if (r->file_with_any_org)
                ret->scope.creator_any_org = true;
            break;
        }
    }
    ret->scope.orgs = (const char *const *)ret->orgs;
    ret->scope.subtrees = (const char *const *)ret->subtrees;
    ret->scope.creator = ret->creator;
}

/* ---------- login and logout ---------- */

struct login {
    char user[SIFA_NAME_MAX + 1];
    char *password;
    char *hash; /* stored hash, NULL when unknown account or no password */
    bool exists, disabled, must_change;
    char address[64];
    char user_agent[256];
    int64_t now;
    bool ok;
    bool locked_now; /* this failure reached the lockout threshold */
    bool locked;     /* refused because the account or address is locked */
    char token[SIFA_TOKEN_TEXT], csrf[SIFA_TOKEN_TEXT];
    struct sifa_api *api;
};

static void login_free(struct login *l)
{
    if (l->password != NULL) {
        memset(l->password, 0, strlen(l->password));
        free(l->password);
    }
    free(l->hash);
    free(l);
}

/* On a worker: argon2id takes tens of milliseconds and must not hold an event loop. An unknown
 * account is checked against a dummy hash, so both answers take the same time. */
static int login_verify(void *ctx, struct sifa_error *err)
{
    (void)err;
    struct login *l = ctx;
    l->ok = sifa_password_verify(l->exists ? l->hash : NULL, l->password) == 0 && l->exists && !l->disabled;
    return 0;
}

static int login_record(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct login *l = ctx;
    int rc;
    if (l->ok) {
        /* Checked again here, where writes are serialised: attempts racing past the check on the
         * event loop must not slip a right guess through a lockout. */
        int64_t for_user = 0, for_address = 0;
        rc = sifa_login_failures(db, l->user, l->address, l->now - LOGIN_WINDOW_SECONDS, &for_user, &for_address, err);
        if (rc < 0)
            return rc;
        if (for_user >= LOGIN_MAX_FAILURES_PER_USER || for_address >= LOGIN_MAX_FAILURES_PER_ADDRESS) {
            l->ok = false;
            l->locked = true;
            return 0;
        }
        rc = sifa_login_failures_clear(db, l->user, err);
        if (rc >= 0)
            rc = sifa_session_create(db, l->user, l->address, l->user_agent, l->now, l->token, l->csrf, err);
        if (rc >= 0)
            rc = sifa_api_audit(db, l->api, l->user, l->address, "auth.login", l->user, NULL, err);
        return rc;
    }
    rc = sifa_login_failure_add(db, l->user, l->address, l->now, err);
    int64_t for_user = 0, for_address = 0;
    if (rc >= 0)
        rc = sifa_login_failures(db, l->user, l->address, l->now - LOGIN_WINDOW_SECONDS, &for_user, &for_address, err);
    /* Attempts that raced past the event loop's check while the lockout was being reached are
     * answered as locked too. */
    if (rc >= 0 && (for_user > LOGIN_MAX_FAILURES_PER_USER || for_address > LOGIN_MAX_FAILURES_PER_ADDRESS))
        l->locked = true;
    if (rc >= 0)
        rc = sifa_api_audit(db, l->api, NULL, l->address, "auth.login_failed", l->user,
                            json_pack("{s:b}", "known_user", l->exists), err);
    if (rc >= 0 && for_user == LOGIN_MAX_FAILURES_PER_USER) {
        l->locked_now = true;
        rc = sifa_api_audit(db, l->api, NULL, l->address, "auth.lockout", l->user,
                            json_pack("{s:I,s:i}", "failures", (json_int_t)for_user, "minutes", LOGIN_WINDOW_SECONDS / 60),
                            err);
    }
    /* The address lockout blocks every account from there, admins included: the entry says who
     * was shut out and why. Counted on the writer, so exactly one attempt sees the threshold. */
    if (rc >= 0 && for_address == LOGIN_MAX_FAILURES_PER_ADDRESS)
        rc = sifa_api_audit(db, l->api, NULL, l->address, "auth.lockout_address", l->address,
                            json_pack("{s:I,s:i}", "failures", (json_int_t)for_address, "minutes",
                                      LOGIN_WINDOW_SECONDS / 60),
                            err);
    return rc;
}

static void login_recorded(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct login *l = ctx;
    if (req != NULL) {
        if (status < 0) {
            sifa_resp_error(req, 0, err);
        } else if (l->locked) {
            struct sifa_error e = {0};
            sifa_resp_header(req, "retry-after", "900");
            sifa_error_set_details(&e, SIFA_ETOOMANY, "account_locked",
                                   json_pack("{s:i}", "retry_after_seconds", LOGIN_WINDOW_SECONDS),
                                   "登录失败次数过多,请 %d 分钟后再试", LOGIN_WINDOW_SECONDS / 60);
            sifa_resp_error(req, 0, &e);
            sifa_error_release(&e);
        } else if (!l->ok) {
            struct sifa_error e = {0};
            sifa_error_set(&e, SIFA_EUNAUTHENTICATED, "invalid_credentials", "用户名或密码错误");
            sifa_resp_error(req, 0, &e);
            sifa_error_release(&e);
        } else {
            char cookie[256];
            snprintf(cookie, sizeof(cookie), COOKIE_NAME "=%s; Path=/; HttpOnly; SameSite=Strict%s", l->token,
                     sifa_req_is_tls(req) ? "; Secure" : "");
            sifa_resp_header(req, "set-cookie", cookie);
            sifa_resp_header(req, "cache-control", "no-store");
            json_t *user = NULL;
            struct sifa_error e = {0};
            sifa_user_get(sifa_req_db(req), l->user, &user, &e);
            sifa_error_release(&e);
            sifa_resp_json(req, 200, json_pack("{s:o,s:s,s:b}", "user", user ? user : json_null(), "csrf_token", l->csrf,
                                               "must_change_password", l->must_change));
        }
    }
    login_free(l);
}

static void login_verified(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct login *l = ctx;
    (void)status;
    (void)err;
    if (req == NULL) {
        login_free(l);
        return;
    }
    if (sifa_req_defer_write(req, login_record, login_recorded, l) < 0) {
        struct sifa_error e = {0};
        sifa_error_set(&e, SIFA_EUNAVAILABLE, "busy", "服务繁忙,请稍后重试");
        sifa_resp_error(req, 0, &e);
        sifa_error_release(&e);
        login_free(l);
    }
}

int sifa_api_login(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    json_t *body = sifa_req_json(req);
    const char *user = json_string_value(json_object_get(body, "user"));
    const char *password = json_string_value(json_object_get(body, "password"));
    if (user == NULL || password == NULL || strlen(user) > SIFA_NAME_MAX || strlen(password) > SIFA_PASSWORD_MAX_BYTES)
        return sifa_error_set(err, SIFA_EINVALID, "bad_login", "请提供用户名 (user) 和密码 (password)");
    struct login *l = sifa_xcalloc(1, sizeof(*l));
    l->api = api;
    l->now = time(NULL);
    snprintf(l->user, sizeof(l->user), "%s", user);
    snprintf(l->address, sizeof(l->address), "%s", sifa_req_peer(req));
    if (sifa_req_header(req, "user-agent", l->user_agent, sizeof(l->user_agent)) == NULL)
        l->user_agent[0] = '\0';
    l->password = sifa_xstrdup(password);

    int64_t for_user = 0, for_address = 0;
    struct sifa_db *db = sifa_req_db(req);
    int rc = sifa_login_failures(db, l->user, l->address, l->now - LOGIN_WINDOW_SECONDS, &for_user, &for_address, err);
    if (rc < 0) {
        login_free(l);
        return rc;
    }
    if (for_user >= LOGIN_MAX_FAILURES_PER_USER || for_address >= LOGIN_MAX_FAILURES_PER_ADDRESS) {
        login_free(l);
        sifa_resp_header(req, "retry-after", "900");
        return sifa_error_set_details(err, SIFA_ETOOMANY, for_user >= LOGIN_MAX_FAILURES_PER_USER ? "account_locked"
                                                                                                   : "too_many_attempts",
                                      json_pack("{s:i}", "retry_after_seconds", LOGIN_WINDOW_SECONDS),
                                      "登录失败次数过多,请 %d 分钟后再试", LOGIN_WINDOW_SECONDS / 60);
    }
    struct sifa_error e = {0};
    rc = sifa_user_auth_info(db, l->user, &l->hash, &l->disabled, &l->must_change, &e);
    l->exists = rc >= 0 && l->hash != NULL;
    sifa_error_release(&e);
    if (rc < 0 && rc != SIFA_ENOTFOUND) {
        login_free(l);
        return rc;
    }
    if (sifa_req_defer_work(req, login_verify, login_verified, l) < 0) {
        login_free(l);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "服务繁忙,请稍后重试");
    }
    return 0;
}

void sifa_api_clear_session_cookie(struct sifa_req *req)
{
    sifa_resp_header(req, "set-cookie", COOKIE_NAME "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
}

struct logout {
    char hash[65];
    char user[SIFA_NAME_MAX + 1];
    char address[64];
    struct sifa_api *api;
};

static int logout_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct logout *l = ctx;
    int rc = sifa_session_revoke(db, l->hash, time(NULL), err);
    if (rc >= 0)
        rc = sifa_api_audit(db, l->api, l->user, l->address, "auth.logout", l->user, NULL, err);
    return rc;
}

static void logout_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    if (req != NULL) {
        if (status < 0) {
            sifa_resp_error(req, 0, err);
        } else {
            sifa_api_clear_session_cookie(req);
            sifa_resp_json(req, 200, json_pack("{s:b}", "ok", 1));
        }
    }
    free(ctx);
}

int sifa_api_logout(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    if (p->via_token)
        return sifa_error_set(err, SIFA_EINVALID, "not_a_session", "访问令牌请用 DELETE /api/v1/auth/tokens/{id} 撤销");
    struct logout *l = sifa_xcalloc(1, sizeof(*l));
    snprintf(l->hash, sizeof(l->hash), "%s", p->session_hash);
    snprintf(l->user, sizeof(l->user), "%s", p->user);
    snprintf(l->address, sizeof(l->address), "%s", sifa_req_peer(req));
    l->api = sifa_req_app(req);
    if (sifa_req_defer_write(req, logout_run, logout_done, l) < 0) {
        free(l);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "服务繁忙,请稍后重试");
    }
    return 0;
}

int sifa_api_me(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    json_t *user;
    int rc = sifa_user_get(sifa_req_db(req), p->user, &user, err);
    if (rc < 0)
        return rc;
    json_t *perms = json_array();
    for (size_t i = 0; i < p->nroles; i++)
        for (size_t k = 0; k < p->roles[i]->npermissions; k++)
            json_array_append_new(perms, json_string(p->roles[i]->permissions[k]));
    json_object_set_new(user, "permissions", perms);
    json_object_set_new(user, "via_token", json_boolean(p->via_token));
    json_object_set_new(user, "read_only", json_boolean(sifa_principal_read_only(p)));
    /* A page reloaded in the browser has lost the token login returned; a cross-site page cannot
     * read this same-origin response, so handing the session's token back here is safe. */
    if (!p->via_token) {
        json_object_set_new(user, "csrf_token", json_string(p->csrf));
        json_object_set_new(user, "must_change_password", json_boolean(p->must_change_password));
    }
    sifa_resp_json(req, 200, user);
    return 0;
}

/* ---------- API tokens ---------- */

struct token_job {
    char user[SIFA_NAME_MAX + 1];
    char name[128];
    json_t *scopes;
    int64_t now, expires_at;
    char token[SIFA_TOKEN_TEXT];
    char id[17];
    char address[64];
    struct sifa_api *api;
};

static int token_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct token_job *t = ctx;
    int rc = sifa_api_token_create(db, t->user, t->name, t->scopes, t->now, t->expires_at, t->token, t->id, err);
    if (rc >= 0)
        rc = sifa_api_audit(db, t->api, t->user, t->address, "auth.token_create", t->id,
                            json_pack("{s:s,s:O}", "name", t->name, "scopes", t->scopes), err);
    return rc;
}

static void token_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct token_job *t = ctx;
    if (req != NULL) {
        if (status < 0)
            sifa_resp_error(req, 0, err);
        else
            sifa_resp_json(req, 201, json_pack("{s:s,s:s,s:s,s:O,s:I}", "id", t->id, "token", t->token, "name", t->name,
                                               "scopes", t->scopes, "expires_at", (json_int_t)t->expires_at));
    }
    json_decref(t->scopes);
    free(t);
}

int sifa_api_tokens_create(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    json_t *body = sifa_req_json(req);
    const char *name = json_string_value(json_object_get(body, "name"));
    json_t *scopes = json_object_get(body, "scopes");
    json_t *days = json_object_get(body, "expires_in_days");
    if (name == NULL || *name == '\0' || strlen(name) > 100 || !json_is_array(scopes) || json_array_size(scopes) == 0 ||
        json_array_size(scopes) > 64 || (days != NULL && (!json_is_integer(days) || json_integer_value(days) < 1 ||
                                                          json_integer_value(days) > 366)))
        return sifa_error_set(err, SIFA_EINVALID, "bad_token_request",
                              "请提供 name、scopes(权限列表)和 expires_in_days(1 到 366 天,默认 90)");
    size_t i;
    json_t *s;
    json_array_foreach(scopes, i, s)
    {
        /* A token may not carry a permission its user does not have. */
        if (!json_is_string(s) || !sifa_principal_can(p, json_string_value(s)))
            return sifa_error_set_details(err, SIFA_EDENIED, "scope_not_held", json_pack("{s:O}", "scope", s),
                                          "不能授予令牌你本人没有的权限");
    }
    if (p->via_token)
        return sifa_error_set(err, SIFA_EDENIED, "denied", "访问令牌不能再签发令牌,请登录后操作");
    struct token_job *t = sifa_xcalloc(1, sizeof(*t));
    snprintf(t->user, sizeof(t->user), "%s", p->user);
    snprintf(t->name, sizeof(t->name), "%s", name);
    snprintf(t->address, sizeof(t->address), "%s", sifa_req_peer(req));
    t->scopes = json_deep_copy(scopes);
    t->now = time(NULL);
    t->expires_at = t->now + (days ? json_integer_value(days) : 90) * 86400;
    t->api = sifa_req_app(req);
    if (sifa_req_defer_write(req, token_run, token_done, t) < 0) {
        json_decref(t->scopes);
        free(t);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "服务繁忙,请稍后重试");
    }
    return 0;
}

int sifa_api_tokens_list(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    json_t *list;
    int rc = sifa_api_token_list(sifa_req_db(req), sifa_principal_can(p, "tokens.manage") ? NULL : p->user, &list, err);
    if (rc < 0)
        return rc;
    sifa_resp_json(req, 200, json_pack("{s:o}", "items", list));
    return 0;
}

struct revoke_job {
    char user[SIFA_NAME_MAX + 1];
    bool any_user;
    char id[40];
    char address[64];
    struct sifa_api *api;
};

static int revoke_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct revoke_job *r = ctx;
    int rc = sifa_api_token_revoke(db, r->any_user ? NULL : r->user, r->id, time(NULL), err);
    if (rc >= 0)
        rc = sifa_api_audit(db, r->api, r->user, r->address, "auth.token_revoke", r->id, NULL, err);
    return rc;
}

static void revoke_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    if (req != NULL) {
        if (status < 0)
            sifa_resp_error(req, 0, err);
        else
            sifa_resp_bytes(req, 204, "application/json; charset=utf-8", "", 0);
    }
    free(ctx);
}

int sifa_api_tokens_revoke(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    struct revoke_job *r = sifa_xcalloc(1, sizeof(*r));
    snprintf(r->user, sizeof(r->user), "%s", p->user);
    r->any_user = sifa_principal_can(p, "tokens.manage");
    snprintf(r->id, sizeof(r->id), "%s", sifa_req_param(req, "id"));
    snprintf(r->address, sizeof(r->address), "%s", sifa_req_peer(req));
    r->api = sifa_req_app(req);
    if (sifa_req_defer_write(req, revoke_run, revoke_done, r) < 0) {
        free(r);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "服务繁忙,请稍后重试");
    }
    return 0;
}

/* ---------- personal data: the record engine's crypto callbacks ---------- */

static int crypto_encrypt(void *arg, const char *plain, size_t len, char **ret_text, struct sifa_error *err)
{
    return sifa_personal_encrypt(arg, plain, len, ret_text, err);
}

static int crypto_decrypt(void *arg, const char *text, char **ret_plain, size_t *ret_len, struct sifa_error *err)
{
    return sifa_personal_decrypt(arg, text, ret_plain, ret_len, err);
}

static void crypto_blind_index(void *arg, const char *scope, const char *value, size_t len, char ret_hex[33])
{
    sifa_personal_blind_index(arg, scope, value, len, ret_hex);
}

static int crypto_mask(void *arg, enum sifa_mask_kind kind, const char *s, size_t len, char *out, size_t size)
{
    (void)arg;
    switch (kind) {
    case SIFA_MASK_ID_NUMBER:
        return sifa_mask_id_number(s, len, out, size);
    case SIFA_MASK_PHONE:
        return sifa_mask_phone(s, len, out, size);
    case SIFA_MASK_NAME:
        return sifa_mask_name(s, len, out, size);
    case SIFA_MASK_TEXT:
        return sifa_mask_text(s, len, out, size);
    }
    return SIFA_EINVALID;
}

void sifa_api_crypto_init(struct sifa_record_crypto *crypto, const struct sifa_keyring *keyring)
{
    crypto->encrypt = crypto_encrypt;
    crypto->decrypt = crypto_decrypt;
    crypto->blind_index = crypto_blind_index;
    crypto->mask = crypto_mask;
    crypto->arg = (void *)keyring;
}
