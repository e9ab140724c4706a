/* routes.c — the route table: every endpoint sifa serves, one line each, and the permission
 * check run before any handler. Layer: api. A route without a permission cannot be built
 * (the router refuses a NULL permission at start) and a test enumerates this table through
 * GET /api/v1/system/routes to check every route has a rule. */
#include "base/common.h"
#include "api/api.h"

#include <string.h>

#define KB 1024

const struct sifa_route sifa_api_routes[] = {
    /* method  path                               handler                     permission   body    flags */
    {"GET", "/healthz", sifa_api_healthz, "public", 0, SIFA_ROUTE_NO_LOG, "healthz"},
    {"GET", "/metrics", sifa_api_metrics, "public", 0, SIFA_ROUTE_NO_LOG, "metrics"},
    {"GET", "/api/v1/system/info", sifa_api_system_info, "public", 0, 0, "system.info"},
    {"GET", "/api/v1/system/routes", sifa_api_routes_list, "public", 0, 0, "system.routes"},
    {"GET", "/api/openapi.json", sifa_api_openapi, "public", 0, 0, "openapi"},
    {"GET", "/api/v1/system/integrity", sifa_api_system_integrity, "system.admin", 0, 0, "system.integrity"},
    {"GET", "/api/v1/system/settings", sifa_api_settings_list, "system.admin", 0, 0, "settings.list"},
    {"GET", "/api/v1/system/settings/{key}", sifa_api_settings_get, "system.admin", 0, 0, "settings.get"},
    {"PUT", "/api/v1/system/settings/{key}", sifa_api_settings_put, "system.admin", 64 * KB, SIFA_ROUTE_JSON_BODY,
     "settings.put"},
    {"POST", "/api/v1/system/backups", sifa_api_backups_create, "system.admin", 0, 0, "backups.create"},
    {"GET", "/api/v1/jobs/{id}", sifa_api_jobs_get, "system.admin", 0, 0, "jobs.get"},

    {"POST", "/api/v1/auth/login", sifa_api_login, "public", 4 * KB, SIFA_ROUTE_JSON_BODY, "auth.login"},
    {"POST", "/api/v1/auth/logout", sifa_api_logout, "self.logout", 0, 0, "auth.logout"},
    {"GET", "/api/v1/auth/me", sifa_api_me, "self.read", 0, 0, "auth.me"},
    {"POST", "/api/v1/auth/tokens", sifa_api_tokens_create, "self.tokens", 16 * KB, SIFA_ROUTE_JSON_BODY,
     "tokens.create"},
    {"GET", "/api/v1/auth/tokens", sifa_api_tokens_list, "self.tokens", 0, 0, "tokens.list"},
    {"DELETE", "/api/v1/auth/tokens/{id}", sifa_api_tokens_revoke, "self.tokens", 0, 0, "tokens.revoke"},
    {"POST", "/api/v1/auth/password", sifa_api_self_password, "self.password", 4 * KB, SIFA_ROUTE_JSON_BODY,
     "auth.password"},
    {"GET", "/api/v1/orgs", sifa_api_orgs_list, "authenticated", 0, 0, "orgs.list"},
    {"POST", "/api/v1/orgs", sifa_api_orgs_create, "orgs.manage", 4 * KB, SIFA_ROUTE_JSON_BODY, "orgs.create"},
    {"PATCH", "/api/v1/orgs/{code}", sifa_api_orgs_update, "orgs.manage", 4 * KB, SIFA_ROUTE_JSON_BODY, "orgs.update"},
    {"GET", "/api/v1/orgs/{code}/history", sifa_api_orgs_history, "orgs.manage", 0, 0, "orgs.history"},
    {"GET", "/api/v1/users", sifa_api_users_list, "users.manage", 0, 0, "users.list"},
    {"POST", "/api/v1/users", sifa_api_users_create, "users.manage", 8 * KB, SIFA_ROUTE_JSON_BODY, "users.create"},
    {"PATCH", "/api/v1/users/{name}", sifa_api_users_update, "users.manage", 8 * KB, SIFA_ROUTE_JSON_BODY,
     "users.update"},
    {"POST", "/api/v1/users/{name}/password", sifa_api_users_reset_password, "users.manage", 4 * KB,
     SIFA_ROUTE_JSON_BODY, "users.password"},
    {"GET", "/api/v1/roles", sifa_api_roles_list, "authenticated", 0, 0, "roles.list"},
    {"GET", "/api/v1/sessions", sifa_api_sessions_list, "users.manage", 0, 0, "sessions.list"},
    {"DELETE", "/api/v1/sessions/{id}", sifa_api_sessions_revoke, "users.manage", 0, 0, "sessions.revoke"},
    {"GET", "/api/v1/audit", sifa_api_audit_list, "audit.read", 0, 0, "audit.list"},
    {"GET", "/api/v1/audit/verify", sifa_api_audit_verify, "audit.read", 0, 0, "audit.verify"},
    {"GET", "/api/v1/audit/export", sifa_api_audit_export, "audit.read", 0, 0, "audit.export"},

    {"GET", "/api/v1/modules", sifa_api_modules_list, "modules.read", 0, 0, "modules.list"},
    {"GET", "/api/v1/modules/{code}", sifa_api_modules_get, "modules.read", 0, 0, "modules.get"},
    {"GET", "/api/v1/modules/{code}/records", sifa_api_records_list, "{code}.read", 0, 0, "records.list"},
    /* 导出: the list's filters, search and sort, every page, as XLSX or CSV (src/api/export.c). */
    {"GET", "/api/v1/modules/{code}/records/export", sifa_api_records_export, "{code}.export", 0, 0,
     "records.export"},
    {"POST", "/api/v1/modules/{code}/records", sifa_api_records_create, "{code}.create", 256 * KB,
     SIFA_ROUTE_JSON_BODY, "records.create"},
    {"GET", "/api/v1/modules/{code}/records/{id}", sifa_api_records_get, "{code}.read", 0, 0, "records.get"},
    {"PATCH", "/api/v1/modules/{code}/records/{id}", sifa_api_records_update, "{code}.update", 256 * KB,
     SIFA_ROUTE_JSON_BODY, "records.update"},
    {"DELETE", "/api/v1/modules/{code}/records/{id}", sifa_api_records_delete, "{code}.delete", 0, 0,
     "records.delete"},
    {"POST", "/api/v1/modules/{code}/records/{id}/transitions/{name}", sifa_api_records_transition,
     "{code}.transition.{name}", 256 * KB, SIFA_ROUTE_JSON_BODY, "records.transition"},
    {"GET", "/api/v1/modules/{code}/records/{id}/history", sifa_api_records_history, "{code}.read", 0, 0,
     "records.history"},
    /* Across modules: each module's records are filtered by the caller's permissions and scope. */
    {"GET", "/api/v1/deadlines", sifa_api_deadlines_list, "authenticated", 0, 0, "deadlines.list"},
    /* Indicators: each figure is read with the caller's scope of the module it counts. */
    {"GET", "/api/v1/indicators", sifa_api_indicators_read, "authenticated", 0, 0, "indicators.read"},
    {"GET", "/api/v1/indicators/definitions", sifa_api_indicators_definitions, "authenticated", 0, 0,
     "indicators.definitions"},
    {"GET", "/api/v1/indicators/table", sifa_api_indicators_table, "authenticated", 0, 0, "indicators.table"},
    {"GET", "/api/v1/indicators/{code}/records", sifa_api_indicators_records, "authenticated", 0, 0,
     "indicators.records"},
    /* Reports: the annual report is generated by a background job (GET /api/v1/jobs/{id} for its
     * progress), then downloaded; narrative passages are kept per year and org; any report text
     * can be checked. */
    {"POST", "/api/v1/reports/annual", sifa_api_reports_create, "reports.generate", 4 * KB, SIFA_ROUTE_JSON_BODY,
     "reports.create"},
    {"GET", "/api/v1/reports/{id}", sifa_api_reports_get, "reports.generate", 0, 0, "reports.get"},
    {"GET", "/api/v1/reports/{id}/download", sifa_api_reports_download, "reports.generate", 0, 0,
     "reports.download"},
    {"GET", "/api/v1/reports/annual/{year}/passages", sifa_api_report_passages_list, "reports.generate", 0, 0,
     "reports.passages.list"},
    {"PUT", "/api/v1/reports/annual/{year}/passages/{key}", sifa_api_report_passages_put, "reports.edit", 64 * KB,
     SIFA_ROUTE_JSON_BODY, "reports.passages.put"},
    {"POST", "/api/v1/reports/check", sifa_api_check_report, "authenticated", 8 * 1024 * KB, SIFA_ROUTE_RAW_BODY,
     "reports.check"},
    /* Files: an upload needs a permission that writes an attachment field ("attachments.write",
     * see sifa_api_authorize); a download needs a readable record citing the file, or to be its
     * uploader while no record cites it (src/api/files.c); anyone else gets 404. */
    {"POST", "/api/v1/files", sifa_api_files_upload, "attachments.write", 20 * 1024 * KB, SIFA_ROUTE_RAW_BODY,
     "files.upload"},
    {"GET", "/api/v1/files/{id}", sifa_api_files_get, "authenticated", 0, 0, "files.get"},
    {"GET", "/api/v1/files/{id}/content", sifa_api_files_content, "authenticated", 0, 0, "files.content"},
};
const size_t sifa_api_routes_count = SIFA_ARRAY_SIZE(sifa_api_routes);

int sifa_api_routes_list(struct sifa_req *req, struct sifa_error *err)
{
    (void)err;
    json_t *list = json_array();
    for (size_t i = 0; i < sifa_api_routes_count; i++) {
        const struct sifa_route *r = &sifa_api_routes[i];
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:I,s:b}", "method", r->method, "path", r->pattern,
                                              "name", r->name, "permission", r->permission, "max_body",
                                              (json_int_t)r->max_body, "json_body",
                                              (r->flags & SIFA_ROUTE_JSON_BODY) != 0));
    }
    sifa_resp_json(req, 200, json_pack("{s:o}", "routes", list));
    return 0;
}
