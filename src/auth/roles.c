/* roles.c — see roles.h. Layer: auth. libyaml's document API gives positions for messages;
 * the file is small (one per installation) and limited to SIFA_ROLES_FILE_MAX bytes. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "base/common.h"
#include "auth/roles.h"

#define SIFA_ROLES_FILE_MAX (256 * 1024)
#define SIFA_ROLES_MAX 200

static const char *const scope_names[] = {"all", "custom", "own_org", "org_and_below", "self"};

const char *sifa_scope_name(enum sifa_scope_kind kind)
{
    return (size_t)kind < SIFA_ARRAY_SIZE(scope_names) ? scope_names[kind] : "all";
}

bool sifa_permission_match(const char *pattern, const char *permission)
{
    if (strcmp(pattern, "*") == 0 || strcmp(pattern, permission) == 0)
        return true;
    size_t pl = strlen(pattern), ql = strlen(permission);
    if (pl >= 2 && strcmp(pattern + pl - 2, ".*") == 0) /* "mediation_case.*" */
        return ql > pl - 1 && strncmp(pattern, permission, pl - 1) == 0;
    if (pl >= 2 && strncmp(pattern, "*.", 2) == 0) { /* "*.read": that action of any module */
        const char *dot = strchr(permission, '.');
        if (dot == NULL || strcmp(dot + 1, pattern + 2) != 0)
            return false;
        /* Only business modules: "*.read" must not grant audit.read or users.manage. */
        static const char *const system_namespaces[] = {"system", "users", "orgs", "audit", "tokens",
                                                        "modules", "self", "files", "roles", "sessions", "reports"};
        for (size_t i = 0; i < SIFA_ARRAY_SIZE(system_namespaces); i++)
            if ((size_t)(dot - permission) == strlen(system_namespaces[i]) &&
                strncmp(permission, system_namespaces[i], (size_t)(dot - permission)) == 0)
                return false;
        return true;
    }
    return false;
}

bool sifa_role_grants(const struct sifa_role *role, const char *permission)
{
    if (role->read_only && sifa_permission_is_write(permission))
        return false;
    for (size_t i = 0; i < role->npermissions; i++)
        if (sifa_permission_match(role->permissions[i], permission))
            return true;
    return false;
}

bool sifa_permission_is_write(const char *permission)
{
    const char *dot = strchr(permission, '.');
    if (dot == NULL)
        return true;
    const char *action = dot + 1;
    return !(strcmp(action, "read") == 0 || strcmp(action, "export") == 0 || strcmp(action, "personal") == 0 ||
             strcmp(permission, "audit.read") == 0 || strcmp(permission, "modules.read") == 0);
}

struct ctx {
    const char *file;
    yaml_document_t *doc;
    json_t *errors;
};

static void add_error(struct ctx *c, const yaml_node_t *n, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_error(struct ctx *c, const yaml_node_t *n, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *m = json_string(msg);
    json_array_append_new(c->errors, json_pack("{s:s,s:i,s:i,s:s,s:o}", "file", c->file, "line",
                                               n ? (int)n->start_mark.line + 1 : 1, "column",
                                               n ? (int)n->start_mark.column + 1 : 1, "code", code, "message",
                                               m ? m : json_string("invalid")));
}

static yaml_node_t *map_get(struct ctx *c, yaml_node_t *map, const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(c->doc, p->value);
    }
    return NULL;
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 48 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static bool permission_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 120)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' ||
              s[i] == '*'))
            return false;
    return true;
}

/* Strings of a sequence node, as new copies; checks each with ok (NULL: any). */
static size_t string_list(struct ctx *c, yaml_node_t *n, const char *what, bool (*ok)(const char *), char ***ret)
{
    *ret = NULL;
    if (n == NULL)
        return 0;
    if (n->type != YAML_SEQUENCE_NODE) {
        add_error(c, n, "not_sequence", "%s 应为列表", what);
        return 0;
    }
    size_t cap = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start), k = 0;
    char **list = sifa_xcalloc(cap ? cap : 1, sizeof(char *));
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        const char *s = scalar(item);
        if (s == NULL || (ok != NULL && !ok(s))) {
            add_error(c, item, "bad_value", "%s 中的 \"%s\" 不合法", what, s ? s : "(非标量)");
            continue;
        }
        list[k++] = sifa_xstrdup(s);
    }
    *ret = list;
    return k;
}

static void role_release(struct sifa_role *r)
{
    for (size_t i = 0; i < r->norgs; i++)
        free(r->orgs[i]);
    free(r->orgs);
    for (size_t i = 0; i < r->npermissions; i++)
        free(r->permissions[i]);
    free(r->permissions);
    free(r->code);
    free(r->name);
}

void sifa_roles_free(struct sifa_roles *roles)
{
    if (roles == NULL)
        return;
    for (size_t i = 0; i < roles->n; i++)
        role_release(&roles->roles[i]);
    free(roles->roles);
    free(roles);
}

const struct sifa_role *sifa_roles_find(const struct sifa_roles *roles, const char *code)
{
    for (size_t i = 0; roles != NULL && i < roles->n; i++)
        if (strcmp(roles->roles[i].code, code) == 0)
            return &roles->roles[i];
    return NULL;
}

static void parse_role(struct ctx *c, yaml_node_t *n, struct sifa_roles *out)
{
    static const char *const keys[] = {"code",      "name",     "scope", "orgs", "permissions",
                                       "read_only", "file_with_any_org", NULL};
    if (n->type != YAML_MAPPING_NODE) {
        add_error(c, n, "not_mapping", "角色定义应为映射");
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const char *ks = scalar(k);
        bool known = false;
        for (size_t i = 0; ks && keys[i]; i++)
            known = known || strcmp(keys[i], ks) == 0;
        if (!known)
            add_error(c, k, "unknown_key", "角色定义中有未知的键 \"%s\"", ks ? ks : "?");
    }
    struct sifa_role r = {0};
    const char *code = scalar(map_get(c, n, "code")), *name = scalar(map_get(c, n, "name"));
    if (code == NULL || !code_ok(code)) {
        add_error(c, map_get(c, n, "code") ? map_get(c, n, "code") : n, "bad_code",
                  "角色 code 必填,只能由小写字母、数字和下划线组成");
        return;
    }
    if (name == NULL) {
        add_error(c, n, "missing", "角色 %s 缺少 name", code);
        return;
    }
    if (sifa_roles_find(out, code) != NULL) {
        add_error(c, n, "duplicate_role", "角色 \"%s\" 重复定义", code);
        return;
    }
    r.code = sifa_xstrdup(code);
    r.name = sifa_xstrdup(name);
    yaml_node_t *sn = map_get(c, n, "scope");
    const char *scope = scalar(sn);
    bool scope_ok = false;
    for (size_t i = 0; scope && i < SIFA_ARRAY_SIZE(scope_names); i++)
        if (strcmp(scope, scope_names[i]) == 0) {
            r.scope = (enum sifa_scope_kind)i;
            scope_ok = true;
        }
    if (!scope_ok)
        add_error(c, sn ? sn : n, "bad_scope", "角色 %s 的 scope 应为 all、custom、own_org、org_and_below 或 self", code);
    r.norgs = string_list(c, map_get(c, n, "orgs"), "orgs", NULL, &r.orgs);
    if (r.scope == SIFA_SCOPE_CUSTOM && r.norgs == 0)
        add_error(c, n, "custom_without_orgs", "角色 %s 的数据范围为 custom,必须用 orgs 列出机构", code);
    r.npermissions = string_list(c, map_get(c, n, "permissions"), "permissions", permission_ok, &r.permissions);
    yaml_node_t *ro = map_get(c, n, "read_only");
    r.read_only = scalar(ro) != NULL && strcmp(scalar(ro), "true") == 0;
    if (r.read_only)
        for (size_t i = 0; i < r.npermissions; i++)
            if (strcmp(r.permissions[i], "*") == 0 || (sifa_permission_is_write(r.permissions[i]) &&
                                                       strstr(r.permissions[i], "*") == NULL))
                add_error(c, n, "read_only_write", "只读角色 %s 不能授予写权限 %s", code, r.permissions[i]);
    yaml_node_t *anywhere = map_get(c, n, "file_with_any_org");
    r.file_with_any_org = scalar(anywhere) != NULL && strcmp(scalar(anywhere), "true") == 0;
    if (r.file_with_any_org && r.scope != SIFA_SCOPE_SELF)
        add_error(c, anywhere, "any_org_needs_self", "角色 %s:file_with_any_org 只能用于数据范围为 self 的角色", code);
    if (out->n >= SIFA_ROLES_MAX) {
        add_error(c, n, "too_many", "角色不能超过 %d 个", SIFA_ROLES_MAX);
        role_release(&r);
        return;
    }
    out->roles = sifa_xrealloc(out->roles, (out->n + 1) * sizeof(*out->roles));
    out->roles[out->n++] = r;
}

int sifa_roles_load(const char *path, struct sifa_roles **ret_roles, json_t **ret_errors, struct sifa_error *err)
{
    *ret_errors = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sifa_error_set(err, SIFA_ENOTFOUND, "roles_missing", "角色定义文件 %s 不存在", path);
    char *buf = sifa_xmalloc(SIFA_ROLES_FILE_MAX + 1);
    size_t len = fread(buf, 1, SIFA_ROLES_FILE_MAX + 1, f);
    fclose(f);
    json_t *errors = json_array();
    struct ctx c = {.file = path, .errors = errors};
    struct sifa_roles *roles = sifa_xcalloc(1, sizeof(*roles));
    if (len > SIFA_ROLES_FILE_MAX) {
        add_error(&c, NULL, "file_too_large", "角色定义文件超过 %d 字节", SIFA_ROLES_FILE_MAX);
    } else {
        yaml_parser_t parser;
        yaml_document_t doc;
        yaml_parser_initialize(&parser);
        yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
        if (!yaml_parser_load(&parser, &doc)) {
            json_array_append_new(errors, json_pack("{s:s,s:i,s:i,s:s,s:s+}", "file", path, "line",
                                                    (int)parser.problem_mark.line + 1, "column",
                                                    (int)parser.problem_mark.column + 1, "code", "yaml_syntax",
                                                    "message", "YAML 语法错误:", parser.problem ? parser.problem : "?"));
        } else {
            c.doc = &doc;
            yaml_node_t *root = yaml_document_get_root_node(&doc);
            yaml_node_t *list = map_get(&c, root, "roles");
            if (list == NULL || list->type != YAML_SEQUENCE_NODE)
                add_error(&c, root, "missing", "角色定义文件应为 roles: [ … ]");
            else
                for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++)
                    parse_role(&c, yaml_document_get_node(&doc, *it), roles);
            yaml_document_delete(&doc);
        }
        yaml_parser_delete(&parser);
    }
    free(buf);
    if (json_array_size(errors) > 0) {
        json_t *first = json_array_get(errors, 0);
        sifa_error_set(err, SIFA_EINVALID, "bad_roles", "角色定义有 %zu 处错误,第一处:%s:%d:%s", json_array_size(errors),
                       path, (int)json_integer_value(json_object_get(first, "line")),
                       json_string_value(json_object_get(first, "message")));
        sifa_roles_free(roles);
        *ret_errors = errors;
        return SIFA_EINVALID;
    }
    json_decref(errors);
    *ret_roles = roles;
    return 0;
}

json_t *sifa_role_to_json(const struct sifa_role *r)
{
    json_t *perms = json_array(), *orgs = json_array();
    for (size_t i = 0; i < r->npermissions; i++)
        json_array_append_new(perms, json_string(r->permissions[i]));
    for (size_t i = 0; i < r->norgs; i++)
        json_array_append_new(orgs, json_string(r->orgs[i]));
    return json_pack("{s:s,s:s,s:s,s:o,s:o,s:b,s:b}", "code", r->code, "name", r->name, "scope",
                     sifa_scope_name(r->scope), "orgs", orgs, "permissions", perms, "read_only", r->read_only,
                     "file_with_any_org", r->file_with_any_org);
}
