/* api.h — the HTTP API: one route table (method, path, handler, permission, body limit, flags)
 * and the permission check the dispatcher runs before every handler.
 * Layer: api (above http and the services). Handlers only translate between HTTP and the
 * services; they never check permissions themselves (sifa_api_authorize does, once). */
#ifndef SIFA_API_H
#define SIFA_API_H

#include "auth/accounts.h"
#include "auth/personal.h"
#include "calendar/calendar.h"
#include "http/http.h"
#include "model/model.h"
#include "record/record.h"

/* Server-wide state handlers reach through sifa_req_app. Strings borrowed for the server's life. */
struct sifa_api {
    struct sifa_db_config db; /* for connections opened by long work on worker threads */
    const char *backup_dir;   /* where POST /api/v1/system/backups writes copies */
    const char *files_dir;    /* where uploaded files are stored */
    const char *report_template; /* the annual report's template file */
    int64_t started_at_ms;
    const struct sifa_model *model;       /* business lines; NULL when none are defined */
    const struct sifa_calendar *calendar; /* working days; NULL when data/holidays is missing */
    const struct sifa_roles *roles;       /* role definitions (roles/roles.yaml) */
    const struct sifa_keyring *keyring;   /* personal-data and audit keys (sifa init makes the file) */
    struct sifa_session_limits session_limits;
    struct sifa_record_crypto crypto; /* personal data through the keyring (sifa_api_crypto_init) */
};

/* Wires crypto's callbacks to auth/personal.h with keyring (borrowed for crypto's life). */
void sifa_api_crypto_init(struct sifa_record_crypto *crypto, const struct sifa_keyring *keyring);

/* The record engine's scope for one permission, with its strings owned (a write job may outlive
 * the request). Release with sifa_api_scope_release. */
struct sifa_api_scope {
    struct sifa_record_scope scope;
    const char **orgs, **subtrees;
    char *creator;
    char **strings;
    size_t n;
};
void sifa_api_scope_build(const struct sifa_principal *p, const char *permission, struct sifa_api_scope *ret);
void sifa_api_scope_release(struct sifa_api_scope *s);

/* For reads across modules (struct sifa_record_ctx module_scope, module_scope_arg = a struct
 * sifa_api_read_scopes with principal set, the rest zero): each module's `<module>.read` scope
 * of the caller, or 1 (module left out) without that permission. Each scope is valid until the
 * next call; release them all with sifa_api_read_scopes_release. */
struct sifa_api_read_scopes {
    const struct sifa_principal *principal; /* borrowed; NULL: every module left out */
    struct sifa_api_scope *scopes;          /* owned */
    size_t n;
};
int sifa_api_read_scope_of(void *arg, const struct sifa_module *m, const struct sifa_record_scope **ret_scope);
void sifa_api_read_scopes_release(struct sifa_api_read_scopes *rs);

/* Fills rc for an action ("read", "create", "transition.accept"…) on module code: the caller's
 * data scope for that permission goes into scope (owned there; release it), its name into actor. */
struct sifa_record_ctx;
void sifa_api_record_ctx(struct sifa_req *req, const char *code, const char *action, struct sifa_api_scope *scope,
                         char *actor, size_t actor_size, struct sifa_record_ctx *rc);
/* Sends a read's body (taken); personal data read in clear and every read by an inspector are
 * audited first (see records.c). ids_take: the ids of the records in the body. */
struct sifa_module;
int sifa_api_respond_read(struct sifa_req *req, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                          const char *what, json_t *ids_take, json_t *body_take, const char *etag,
                          struct sifa_error *err);
/* The "id" members of a list of records (new array). */
json_t *sifa_api_ids_of(json_t *items);

/* The database configuration for a connection opened by long work on a worker thread: a copy of
 * api's, with the path copied into path (its storage outlives the request), never creating. */
void sifa_api_worker_db_config(const struct sifa_api *api, struct sifa_db_config *ret_cfg, char *path, size_t size);

/* Queues an audit entry for req's caller as a write job of its own (after a read, an export…).
 * A failure to write it is printed to standard error, never hidden. details taken. */
void sifa_api_audit_later(struct sifa_req *req, const char *action, const char *target, json_t *details_take);

/* Sends body (taken) only after its audit entry is committed; if the entry cannot be written the
 * caller gets 503 and no data. For reads that must never go unrecorded (personal data in clear,
 * inspectors). etag may be NULL. */
int sifa_api_respond_audited(struct sifa_req *req, int http_status, json_t *body_take, const char *etag,
                             const char *action, const char *target, json_t *details_take, struct sifa_error *err);

/* Sends the file at path (sifa_resp_file) only after its audit entry is committed; 503
 * audit_unavailable and no file when the entry cannot be written. remove: path is a temporary
 * file, removed once sent (or refused), on failure of this call too. details taken. Returns 0, or
 * SIFA_EUNAVAILABLE "busy" (nothing sent: the caller sends err). */
int sifa_api_send_file_audited(struct sifa_req *req, const char *path, const char *content_type,
                               const char *download_name, bool remove, const char *action, const char *target,
                               json_t *details_take, struct sifa_error *err);

/* Sends body (taken) with 200 at once, or, when the caller holds a read-only role (inspectors:
 * "every read audited"), only after an audit entry (action, target, details) is committed, as
 * sifa_api_respond_audited does. For reads outside the record engine's (deadlines, figures).
 * details taken (dropped when no entry is written). */
int sifa_api_respond_inspected(struct sifa_req *req, json_t *body_take, const char *action, const char *target,
                               json_t *details_take, struct sifa_error *err);

/* Appends to the audit log on the writer connection, only inside a write job: the entry and the
 * log's head move with the job's own work (the writer undoes a failed job, in its savepoint or
 * with the whole batch — db/writer.c), so a failure here must fail the job. details taken. */
int sifa_api_audit(struct sifa_db *db, const struct sifa_api *api, const char *actor, const char *address,
                   const char *action, const char *target, json_t *details_take, struct sifa_error *err);

/* The most rows one export may hold (lists, the audit log): the setting export.max_rows when it
 * is a whole number from 1 to 1,000,000, else 100,000. Reads db (any connection; a worker's). */
int64_t sifa_api_export_max_rows(struct sifa_db *db);

extern const struct sifa_route sifa_api_routes[];
extern const size_t sifa_api_routes_count;

/* The dispatcher's permission hook (see struct sifa_server_config.authorize): identifies the
 * caller (session cookie or bearer token), checks CSRF for cookie-authenticated writes, expands
 * the route's permission with its path parameters and checks it against the caller's roles.
 * Route permissions: "public" (no login), "authenticated" (any logged-in caller), "self.*" (the
 * caller's own account, allowed even before a first password change), "attachments.write" (a
 * create, update or transition permission of some module with an attachment field: uploads), or
 * a permission name. */
int sifa_api_authorize(struct sifa_req *req, const struct sifa_route *route, struct sifa_error *err);

/* Adds the header that makes the browser drop the session cookie (logout, ending one's own
 * session through DELETE /api/v1/sessions/{id}). */
void sifa_api_clear_session_cookie(struct sifa_req *req);

/* Handlers, grouped by file. */
int sifa_api_healthz(struct sifa_req *req, struct sifa_error *err);
int sifa_api_metrics(struct sifa_req *req, struct sifa_error *err);
int sifa_api_system_info(struct sifa_req *req, struct sifa_error *err);
int sifa_api_system_integrity(struct sifa_req *req, struct sifa_error *err);
int sifa_api_settings_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_settings_get(struct sifa_req *req, struct sifa_error *err);
int sifa_api_settings_put(struct sifa_req *req, struct sifa_error *err);
int sifa_api_backups_create(struct sifa_req *req, struct sifa_error *err);
int sifa_api_jobs_get(struct sifa_req *req, struct sifa_error *err);
int sifa_api_routes_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_openapi(struct sifa_req *req, struct sifa_error *err);
int sifa_api_modules_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_modules_get(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_get(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_create(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_update(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_delete(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_transition(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_history(struct sifa_req *req, struct sifa_error *err);
int sifa_api_records_export(struct sifa_req *req, struct sifa_error *err);
int sifa_api_deadlines_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_indicators_read(struct sifa_req *req, struct sifa_error *err);
int sifa_api_indicators_definitions(struct sifa_req *req, struct sifa_error *err);
int sifa_api_indicators_table(struct sifa_req *req, struct sifa_error *err);
int sifa_api_indicators_records(struct sifa_req *req, struct sifa_error *err);
int sifa_api_reports_create(struct sifa_req *req, struct sifa_error *err);
int sifa_api_reports_get(struct sifa_req *req, struct sifa_error *err);
int sifa_api_reports_download(struct sifa_req *req, struct sifa_error *err);
int sifa_api_report_passages_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_report_passages_put(struct sifa_req *req, struct sifa_error *err);
int sifa_api_check_report(struct sifa_req *req, struct sifa_error *err);
int sifa_api_files_upload(struct sifa_req *req, struct sifa_error *err);
int sifa_api_files_get(struct sifa_req *req, struct sifa_error *err);
int sifa_api_files_content(struct sifa_req *req, struct sifa_error *err);
int sifa_api_login(struct sifa_req *req, struct sifa_error *err);
int sifa_api_logout(struct sifa_req *req, struct sifa_error *err);
int sifa_api_me(struct sifa_req *req, struct sifa_error *err);
int sifa_api_tokens_create(struct sifa_req *req, struct sifa_error *err);
int sifa_api_tokens_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_tokens_revoke(struct sifa_req *req, struct sifa_error *err);
int sifa_api_audit_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_audit_verify(struct sifa_req *req, struct sifa_error *err);
int sifa_api_audit_export(struct sifa_req *req, struct sifa_error *err);
int sifa_api_orgs_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_orgs_create(struct sifa_req *req, struct sifa_error *err);
int sifa_api_orgs_update(struct sifa_req *req, struct sifa_error *err);
int sifa_api_orgs_history(struct sifa_req *req, struct sifa_error *err);
int sifa_api_users_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_users_create(struct sifa_req *req, struct sifa_error *err);
int sifa_api_users_update(struct sifa_req *req, struct sifa_error *err);
int sifa_api_users_reset_password(struct sifa_req *req, struct sifa_error *err);
int sifa_api_self_password(struct sifa_req *req, struct sifa_error *err);
int sifa_api_roles_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_sessions_list(struct sifa_req *req, struct sifa_error *err);
int sifa_api_sessions_revoke(struct sifa_req *req, struct sifa_error *err);

#endif
