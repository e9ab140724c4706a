/* roles.h — roles as definitions (roles/roles.yaml): permissions and data scopes, and the checks
 * that run on them. Layer: auth. The loader validates every role (unknown scope, a read-only role
 * granted a write, a custom scope without orgs…) and reports every error with file:line:column;
 * the result is immutable and shared by all threads.
 *
 * Permissions are dotted names: "<module>.<action>" (read, create, update, delete, export,
 * personal, transition.<code>) and system ones (system.admin, users.manage, orgs.manage,
 * audit.read, modules.read, tokens.manage). A role's pattern may end in ".*" or start with "*."
 * and "*" alone grants everything. */
#ifndef SIFA_AUTH_ROLES_H
#define SIFA_AUTH_ROLES_H

#include "base/common.h"

enum sifa_scope_kind {
    SIFA_SCOPE_ALL,           /* 全部数据 */
    SIFA_SCOPE_CUSTOM,        /* 自定数据: the role's orgs and everything below them */
    SIFA_SCOPE_OWN_ORG,       /* 本部门数据 */
    SIFA_SCOPE_ORG_AND_BELOW, /* 本部门及以下数据 */
    SIFA_SCOPE_SELF,          /* 仅本人数据: records the user created */
};

struct sifa_role {
    char *code;
    char *name;
    enum sifa_scope_kind scope;
    size_t norgs;
    char **orgs; /* custom scope */
    size_t npermissions;
    char **permissions;
    bool read_only; /* inspectors: no write at all, every read audited */
    /* scope self only: the user's own records may be filed with any org unit. For applicants
     * (members of the public choose the office they apply to); staff with a self scope put
     * records only in their own org unit and below (record.h). */
    bool file_with_any_org;
};

struct sifa_roles {
    size_t n;
    struct sifa_role *roles;
};

/* Loads path. On failure SIFA_EINVALID and *ret_errors (new) lists {file,line,column,code,message}. */
int sifa_roles_load(const char *path, struct sifa_roles **ret_roles, json_t **ret_errors, struct sifa_error *err);
void sifa_roles_free(struct sifa_roles *roles);
const struct sifa_role *sifa_roles_find(const struct sifa_roles *roles, const char *code);

/* True when pattern grants permission ("*", "a.*", "*.read", exact). */
bool sifa_permission_match(const char *pattern, const char *permission);
bool sifa_role_grants(const struct sifa_role *role, const char *permission);
/* True for actions that change data (create, update, delete, transition…). */
bool sifa_permission_is_write(const char *permission);
const char *sifa_scope_name(enum sifa_scope_kind kind);

json_t *sifa_role_to_json(const struct sifa_role *role);

#endif
