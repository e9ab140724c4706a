/* records.c — the generic API every business line gets from its definition:
 * /api/v1/modules (the definitions, for forms), and under /api/v1/modules/{code}/records list with
 * filters and Chinese search, create, get, update with optimistic concurrency (ETag / If-Match),
 * soft delete, transitions and history; /api/v1/deadlines lists what is due and overdue.
 * Layer: api. Validation runs here on the event loop (it is pure); writes go to the group-commit
 * writer as one job each, so a record, its history row, its number and its search index row
 * commit together or not at all. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "api/api.h"
#include "record/record.h"

/* Fills rc for an action ("read", "create", "transition.accept"…) on the request's module: the
 * caller's data scope for that permission goes into scope (owned there), its name into actor. */
static void record_ctx_for(struct sifa_req *req, const char *action, struct sifa_api_scope *scope, char *actor,
                           size_t actor_size, struct sifa_record_ctx *rc)
{
    sifa_api_record_ctx(req, sifa_req_param(req, "code"), action, scope, actor, actor_size, rc);
}

void sifa_api_record_ctx(struct sifa_req *req, const char *code, const char *action, struct sifa_api_scope *scope, char *actor, size_t actor_size, struct sifa_record_ctx *rc)
{
    struct sifa_api *api = sifa_req_app(req);
    const struct sifa_principal *p = sifa_req_principal(req);
    memset(rc, 0, sizeof(*rc));
    rc->model = api->model;
    rc->calendar = api->calendar;
    rc->crypto = api->keyring ? &api->crypto : NULL;
    rc->now = time(NULL);
    memset(scope, 0, sizeof(*scope));
    if (p != NULL) {
        char perm[160];
        snprintf(perm, sizeof(perm), "%s.%s", code ? code : "", action);
        sifa_api_scope_build(p, perm, scope);
        snprintf(perm, sizeof(perm), "%s.personal", code ? code : "");
        rc->unmask = sifa_principal_can(p, perm);
        rc->scope = &scope->scope;
        snprintf(actor, actor_size, "%s", p->user);
        rc->actor = actor;
    } else {
        /* No principal only for routes that need none; give such callers nothing. */
        scope->scope.all = false;
        rc->scope = &scope->scope;
    }
}

/* Read-side context: the scope lives in the caller's stack frame for the call. */
#define READ_CTX(req, rc)                                                                                              \
    struct sifa_api_scope read_scope_;                                                                                \
    char read_actor_[SIFA_NAME_MAX + 1];                                                                               \
    record_ctx_for(req, "read", &read_scope_, read_actor_, sizeof(read_actor_), rc)

static const struct sifa_module *find_module(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    const char *code = sifa_req_param(req, "code");
    const struct sifa_module *m = api->model ? sifa_model_module(api->model, code) : NULL;
    if (m == NULL)
        sifa_error_set_details(err, SIFA_ENOTFOUND, "module_not_found", json_pack("{s:s}", "module", code),
                               "业务模块 %s 不存在", code);
    return m;
}

static int parse_id(struct sifa_req *req, int64_t *ret, struct sifa_error *err)
{
    const char *s = sifa_req_param(req, "id");
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1)
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "record_not_found", json_pack("{s:s}", "id", s),
                                      "记录编号 %s 无效", s);
    *ret = v;
    return 0;
}

/* Version from If-Match ("3", W/"3" or 3); -1 when absent; SIFA_EINVALID when malformed. */
static int if_match_version(struct sifa_req *req, int64_t *ret, struct sifa_error *err)
{
    char buf[64];
    const char *v = sifa_req_header(req, "if-match", buf, sizeof(buf));
    *ret = -1;
    if (v == NULL)
        return 0;
    if (strncmp(v, "W/", 2) == 0)
        v += 2;
    if (*v == '"')
        v++;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || end == v || !(*end == '\0' || (*end == '"' && end[1] == '\0')) || n < 0)
        return sifa_error_set(err, SIFA_EINVALID, "bad_if_match", "If-Match 应为记录的版本号,如 \"3\"");
    *ret = n;
    return 0;
}

static void send_record(struct sifa_req *req, int status, json_t *record_take)
{
    char etag[48];
    snprintf(etag, sizeof(etag), "\"%lld\"", (long long)json_integer_value(json_object_get(record_take, "version")));
    sifa_resp_header(req, "etag", etag);
    sifa_resp_json(req, status, record_take);
}

static void send_error(struct sifa_req *req, const struct sifa_error *err)
{
    /* Field validation is 422: the request was well-formed JSON but its content is refused. */
    sifa_resp_error(req, strcmp(err->code, "validation") == 0 ? 422 : 0, err);
}

/* ---------- read auditing ---------- */

/* Personal data read in clear is audited, and so is every read by a read-only (inspector) role:
 * who, from where, which records. Such a response is sent only once its audit entry is
 * committed. Returns the handler's status; the response is sent (now or after the audit). */
int sifa_api_respond_read(struct sifa_req *req, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                        const char *what, json_t *ids_take, json_t *body_take, const char *etag,
                        struct sifa_error *err)
{
    const struct sifa_principal *p = sifa_req_principal(req);
    bool personal = rc->unmask && sifa_module_has_personal(m) && json_array_size(ids_take) > 0;
    bool inspector = p != NULL && sifa_principal_read_only(p);
    if (p == NULL || (!personal && !inspector)) {
        json_decref(ids_take);
        if (etag)
            sifa_resp_header(req, "etag", etag);
        sifa_resp_json(req, 200, body_take);
        return 0;
    }
    char target[160];
    snprintf(target, sizeof(target), "%s/%s", m->code, what);
    return sifa_api_respond_audited(req, 200, body_take, etag, personal ? "record.read_personal" : "record.read",
                                    target, json_pack("{s:o}", "ids", ids_take), err);
}

json_t *sifa_api_ids_of(json_t *items)
{
    json_t *ids = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(items, i, r) json_array_append(ids, json_object_get(r, "id"));
    return ids;
}

/* ---------- definitions ---------- */

int sifa_api_modules_list(struct sifa_req *req, struct sifa_error *err)
{
    (void)err;
    struct sifa_api *api = sifa_req_app(req);
    json_t *items = json_array();
    for (size_t i = 0; api->model != NULL && i < api->model->nmodules; i++)
        json_array_append_new(items, sifa_module_to_json(&api->model->modules[i]));
    sifa_resp_json(req, 200, json_pack("{s:o}", "modules", items));
    return 0;
}

int sifa_api_modules_get(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_module *m = find_module(req, err);
    if (m == NULL)
        return SIFA_ENOTFOUND;
    sifa_resp_json(req, 200, sifa_module_to_json(m));
    return 0;
}

/* ---------- reads ---------- */

int sifa_api_records_list(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_module *m = find_module(req, err);
    if (m == NULL)
        return SIFA_ENOTFOUND;
    const struct sifa_query *q = sifa_req_query(req);
    struct sifa_record_query_param params[SIFA_QUERY_MAX_PARAMS];
    for (size_t i = 0; i < q->count; i++) {
        params[i].key = q->pairs[i].key;
        params[i].value = q->pairs[i].value;
    }
    struct sifa_record_ctx rc;
    READ_CTX(req, &rc);
    json_t *page;
    int r = sifa_record_list(sifa_req_db(req), &rc, m, params, q->count, &page, err);
    sifa_api_scope_release(&read_scope_);
    if (r < 0)
        return r;
    return sifa_api_respond_read(req, &rc, m, "list", sifa_api_ids_of(json_object_get(page, "items")), page, NULL, err);
}

int sifa_api_records_get(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_module *m = find_module(req, err);
    int64_t id;
    if (m == NULL)
        return SIFA_ENOTFOUND;
    int r = parse_id(req, &id, err);
    if (r < 0)
        return r;
    struct sifa_record_ctx rc;
    READ_CTX(req, &rc);
    json_t *record;
    r = sifa_record_get(sifa_req_db(req), &rc, m, id, &record, err);
    sifa_api_scope_release(&read_scope_);
    if (r < 0)
        return r;
    char etag[48];
    snprintf(etag, sizeof(etag), "\"%lld\"", (long long)json_integer_value(json_object_get(record, "version")));
    return sifa_api_respond_read(req, &rc, m, sifa_req_param(req, "id"), json_pack("[I]", (json_int_t)id), record, etag, err);
}

int sifa_api_records_history(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_module *m = find_module(req, err);
    int64_t id;
    if (m == NULL)
        return SIFA_ENOTFOUND;
    int r = parse_id(req, &id, err);
    if (r < 0)
        return r;
    struct sifa_record_ctx rc;
    READ_CTX(req, &rc);
    json_t *history;
    r = sifa_record_history(sifa_req_db(req), &rc, m, id, &history, err);
    sifa_api_scope_release(&read_scope_);
    if (r < 0)
        return r;
    return sifa_api_respond_read(req, &rc, m, "history", json_pack("[I]", (json_int_t)id), json_pack("{s:o}", "history", history),
                        NULL, err);
}

int sifa_api_deadlines_list(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_query *q = sifa_req_query(req);
    const char *within = sifa_query_get(q, "within_days"), *org = sifa_query_get(q, "org");
    long long days = 3;
    if (within != NULL) {
        char *end;
        errno = 0;
        days = strtoll(within, &end, 10);
        if (errno != 0 || end == within || *end != '\0' || days < 0 || days > 3650)
            return sifa_error_set(err, SIFA_EINVALID, "bad_filter", "within_days 应为 0 到 3650 之间的天数");
    }
    /* Each module's deadlines follow that module's read permission and scope. */
    struct sifa_api_read_scopes ds = {.principal = sifa_req_principal(req)};
    struct sifa_api *api = sifa_req_app(req);
    struct sifa_record_ctx rc = {.model = api->model, .calendar = api->calendar, .now = time(NULL),
                                 .module_scope = sifa_api_read_scope_of, .module_scope_arg = &ds};
    json_t *list;
    int r = sifa_record_deadlines_due(sifa_req_db(req), &rc, rc.now + days * 86400, org, &list, err);
    sifa_api_read_scopes_release(&ds);
    if (r < 0)
        return r;
    size_t overdue = 0, i;
    const struct sifa_principal *p = sifa_req_principal(req);
    bool inspector = p != NULL && sifa_principal_read_only(p);
    json_t *item, *seen = json_array();
    json_array_foreach(list, i, item)
    {
        overdue += json_is_true(json_object_get(item, "overdue"));
        if (inspector && i < 500) /* which records an inspector saw; bounded to keep the entry small */
            json_array_append_new(seen, json_sprintf("%s/%" JSON_INTEGER_FORMAT,
                                                     json_string_value(json_object_get(item, "module")),
                                                     json_integer_value(json_object_get(item, "record_id"))));
    }
    json_t *body = json_pack("{s:o,s:I,s:I,s:I}", "items", list, "total", (json_int_t)json_array_size(list), "overdue",
                             (json_int_t)overdue, "within_days", (json_int_t)days);
    return sifa_api_respond_inspected(req, body, "deadlines.read", "deadlines",
                                      json_pack("{s:I,s:s?,s:I,s:o}", "within_days", (json_int_t)days, "org", org,
                                                "total", (json_int_t)json_array_size(list), "records", seen),
                                      err);
}

/* ---------- writes ---------- */

enum write_kind { W_CREATE, W_UPDATE, W_TRANSITION, W_DELETE };

struct record_write {
    enum write_kind kind;
    const struct sifa_module *module;
    struct sifa_record_ctx rc;
    struct sifa_api_scope scope; /* rc.scope points here: owned by the job, not the request */
    char actor[SIFA_NAME_MAX + 1];
    char address[64];
    const struct sifa_api *api;
    int64_t id, expected_version;
    char transition[SIFA_MODEL_CODE_MAX + 1];
    json_t *values;  /* owned */
    json_t *result;  /* owned; set by the writer, or for a create composed on the loop from written */
    json_t *written; /* owned; a create's values as written (the writer does only the write) */
};

/* The change and its audit entry commit together (same job, same transaction). The entry names
 * the record and the fields changed, never their values: the history holds those, sealed. */
static int record_write_run(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct record_write *w = ctx;
    /* Submitted rerunnable (see submit): a run after a rolled-back one starts from nothing. The
     * inputs are not changed by a run in a way a rerun would notice (check_refs fills in an
     * attachment's file details again from its file_id). */
    json_decref(w->result);
    w->result = NULL;
    json_decref(w->written);
    w->written = NULL;
    if (w->kind == W_CREATE)
        w->id = 0;
    int rc = SIFA_EINTERNAL;
    const char *action = "record.change";
    switch (w->kind) {
    case W_CREATE:
        rc = sifa_record_create_written(db, &w->rc, w->module, w->values, &w->id, &w->written, err);
        action = "record.create";
        break;
    case W_UPDATE:
        rc = sifa_record_update(db, &w->rc, w->module, w->id, w->expected_version, w->values, &w->result, err);
        action = "record.update";
        break;
    case W_TRANSITION:
        rc = sifa_record_transition(db, &w->rc, w->module, w->id, w->transition, w->expected_version, w->values,
                                    &w->result, err);
        action = "record.transition";
        break;
    case W_DELETE:
        rc = sifa_record_delete(db, &w->rc, w->module, w->id, w->expected_version, err);
        action = "record.delete";
        break;
    }
    if (rc < 0)
        return rc;
    int64_t id = w->result ? json_integer_value(json_object_get(w->result, "id")) : w->id;
    char target[160];
    snprintf(target, sizeof(target), "%s/%lld", w->module->code, (long long)id);
    json_t *fields = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(w->values, key, v) json_array_append_new(fields, json_string(key));
    json_t *details = json_pack("{s:o}", "fields", fields);
    if (w->kind == W_TRANSITION)
        json_object_set_new(details, "transition", json_string(w->transition));
    rc = sifa_api_audit(db, w->api, w->actor, w->address, action, target, details, err);
    /* The answer to a write is the whole record, personal data in clear when the caller may see
     * it — fields it did not send among them (an update's answer holds the applicant's identity
     * number). That is a read of personal data like any other, so it is audited like one, in the
     * write's own transaction: the response goes out only after both commit, and a rolled-back
     * write leaves neither. Masking the answer instead would make every form re-read the record
     * it just saved (one more request, the same audit entry) to show what was saved. */
    if (rc >= 0 && (w->result != NULL || w->written != NULL) && w->rc.unmask && sifa_module_has_personal(w->module))
        rc = sifa_api_audit(db, w->api, w->actor, w->address, "record.read_personal", target,
                            json_pack("{s:[I],s:s}", "ids", (json_int_t)id, "via", action), err);
    return rc;
}

static void record_write_free(struct record_write *w)
{
    sifa_api_scope_release(&w->scope);
    json_decref(w->values);
    json_decref(w->result);
    json_decref(w->written);
    free(w);
}

static void record_write_done(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct record_write *w = ctx;
    if (req != NULL && status >= 0 && w->kind == W_CREATE) {
        /* The record is committed: whatever happens here, the answer is 201 with its location (an
         * error would invite a retry, and a second record). The writer already counted the
         * deadlines; only opening a stored value could fail — then the answer is the id. */
        struct sifa_error cerr = {0};
        if (sifa_record_compose_new(&w->rc, w->module, w->id, w->written, &w->result, &cerr) < 0) {
            fprintf(stderr, "sifa: 记录 %s/%lld 已创建,应答未能生成 created, answer not built: %s [%s]\n",
                    w->module->code, (long long)w->id, cerr.message, cerr.code);
            w->result = json_pack("{s:I,s:i}", "id", (json_int_t)w->id, "version", 1);
        }
        sifa_error_release(&cerr);
    }
    if (req != NULL) {
        if (status < 0) {
            send_error(req, err);
        } else if (w->kind == W_DELETE) {
            sifa_resp_bytes(req, 204, "application/json; charset=utf-8", "", 0);
        } else {
            if (w->kind == W_CREATE) {
                char location[160];
                snprintf(location, sizeof(location), "/api/v1/modules/%s/records/%lld", w->module->code,
                         (long long)w->id);
                sifa_resp_header(req, "location", location);
            }
            send_record(req, w->kind == W_CREATE ? 201 : 200, json_incref(w->result));
        }
    }
    record_write_free(w);
}

static int submit(struct sifa_req *req, struct record_write *w, struct sifa_error *err)
{
    if (sifa_req_defer_write_flags(req, record_write_run, record_write_done, w, SIFA_DB_JOB_RERUNNABLE) < 0) {
        record_write_free(w);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "写入队列已满,请稍后重试");
    }
    return 0;
}

static struct record_write *write_new(struct sifa_req *req, enum write_kind kind, const struct sifa_module *m)
{
    struct record_write *w = sifa_xcalloc(1, sizeof(*w));
    w->kind = kind;
    w->module = m;
    w->expected_version = -1;
    char action[SIFA_MODEL_CODE_MAX + 16];
    if (kind == W_TRANSITION)
        snprintf(action, sizeof(action), "transition.%s", sifa_req_param(req, "name"));
    else
        snprintf(action, sizeof(action), "%s", kind == W_CREATE ? "create" : kind == W_UPDATE ? "update" : "delete");
    record_ctx_for(req, action, &w->scope, w->actor, sizeof(w->actor), &w->rc);
    snprintf(w->address, sizeof(w->address), "%s", sifa_req_peer(req));
    w->api = sifa_req_app(req);
    return w;
}

/* Validates the body (or an empty object when there is none); on failure sends the error. */
static int validated_body(struct sifa_req *req, const struct sifa_module *m, bool partial, json_t **ret_values,
                          struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    struct sifa_record_ctx rc = {.model = api->model, .calendar = api->calendar, .now = time(NULL)};
    /* A caller who sees personal data masked sends the masks back from a form; on a change (not a
     * create) such a masked identity number or phone passes here and the writer keeps the
     * stored value it stands for (sifa_record_update). */
    const struct sifa_principal *p = sifa_req_principal(req);
    char perm[160];
    snprintf(perm, sizeof(perm), "%s.personal", m->code);
    rc.masked_echo = partial && p != NULL && !sifa_principal_can(p, perm);
    json_t *body = sifa_req_json(req);
    json_t *empty = body ? NULL : json_object();
    int r = sifa_record_validate(&rc, m, body ? body : empty, partial, ret_values, err);
    json_decref(empty);
    return r;
}

int sifa_api_records_create(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_module *m = find_module(req, err);
    if (m == NULL)
        return SIFA_ENOTFOUND;
    if (sifa_req_json(req) == NULL)
        return sifa_error_set(err, SIFA_EINVALID, "bad_json", "请求体为空,应为记录内容的 JSON 对象");
    json_t *values;
    if (validated_body(req, m, false, &values, err) < 0) {
        send_error(req, err);
        return 0;
    }
    struct record_write *w = write_new(req, W_CREATE, m);
    w->values = values;
    return submit(req, w, err);
}

int sifa_api_records_update(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_module *m = find_module(req, err);
    int64_t id, version;
    if (m == NULL)
        return SIFA_ENOTFOUND;
    int r = parse_id(req, &id, err);
    if (r < 0 || (r = if_match_version(req, &version, err)) < 0)
        return r;
    if (version < 0) {
        sifa_error_set(err, SIFA_EINVALID, "if_match_required",
                       "修改记录必须带上 If-Match 请求头(读取记录时得到的 ETag),以免覆盖他人的修改");
        sifa_resp_error(req, 428, err);
        return 0;
    }
    json_t *values;
    if (validated_body(req, m, true, &values, err) < 0) {
        send_error(req, err);
        return 0;
    }
    struct record_write *w = write_new(req, W_UPDATE, m);
    w->id = id;
    w->expected_version = version;
    w->values = values;
    return submit(req, w, err);
}

int sifa_api_records_delete(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_module *m = find_module(req, err);
    int64_t id, version;
    if (m == NULL)
        return SIFA_ENOTFOUND;
    int r = parse_id(req, &id, err);
    if (r < 0 || (r = if_match_version(req, &version, err)) < 0)
        return r;
    struct record_write *w = write_new(req, W_DELETE, m);
    w->id = id;
    w->expected_version = version;
    return submit(req, w, err);
}

int sifa_api_records_transition(struct sifa_req *req, struct sifa_error *err)
{
    const struct sifa_module *m = find_module(req, err);
    int64_t id, version;
    if (m == NULL)
        return SIFA_ENOTFOUND;
    int r = parse_id(req, &id, err);
    if (r < 0 || (r = if_match_version(req, &version, err)) < 0)
        return r;
    json_t *values;
    if (validated_body(req, m, true, &values, err) < 0) {
        send_error(req, err);
        return 0;
    }
    struct record_write *w = write_new(req, W_TRANSITION, m);
    w->id = id;
    w->expected_version = version;
    w->values = values;
    snprintf(w->transition, sizeof(w->transition), "%s", sifa_req_param(req, "name"));
    return submit(req, w, err);
}
