/* accounts.c — `sifa user`, `sifa org`, `sifa token`, `sifa audit` and `sifa key`: managing
 * accounts, org units, API tokens, the audit chain and the key file from the command line.
 * Layer: cli. Every change runs in one transaction with its audit entry (actor "cli"), so the
 * trail records what was done at the console as well as through the API. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "auth/accounts.h"
#include "auth/audit.h"
#include "auth/password.h"
#include "auth/personal.h"
#include "auth/roles.h"
#include "auth/secret.h"
#include "cli/cli.h"
#include "cli/config.h"

/* Options of the form --name value (or --flag), with the remaining --key value pairs passed to
 * the configuration. */
struct opts {
    const char *positional[4];
    int npositional;
    const char *names[16];
    const char *values[16];
    int n;
    char *rest[64];
    int nrest;
};

static const char *const config_keys_prefix = "--";

static bool is_own_option(const char *name, const char *const *own)
{
    for (size_t i = 0; own[i] != NULL; i++)
        if (strcmp(name, own[i]) == 0)
            return true;
    return false;
}

/* own: this command's options taking a value; flags: options without one. */
static void parse_opts(int argc, char **argv, const char *const *own, const char *const *flags, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], config_keys_prefix, 2) != 0) {
            if (o->npositional < 4)
                o->positional[o->npositional++] = argv[i];
        } else if (is_own_option(argv[i], flags) && o->n < 16) {
            o->names[o->n] = argv[i];
            o->values[o->n++] = "1";
        } else if (is_own_option(argv[i], own) && i + 1 < argc && o->n < 16) {
            o->names[o->n] = argv[i];
            o->values[o->n++] = argv[++i];
        } else if (o->nrest < 62) {
            o->rest[o->nrest++] = argv[i];
            if (i + 1 < argc && strcmp(argv[i], "--help") != 0)
                o->rest[o->nrest++] = argv[++i];
        }
    }
}

static const char *opt(const struct opts *o, const char *name)
{
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->names[i], name) == 0)
            return o->values[i];
    return NULL;
}

struct session {
    struct sifa_config cfg;
    struct sifa_db *db;
    struct sifa_roles *roles;
    struct sifa_keyring *keyring;
    struct sifa_error err;
};

static int open_session(struct opts *o, const char *usage, bool need_roles, bool need_keys, struct session *s,
                        int *ret_status)
{
    memset(s, 0, sizeof(*s));
    if (sifa_cli_load_config(o->nrest, o->rest, usage, &s->cfg, ret_status) < 0)
        return -1;
    json_t *errors = NULL;
    int rc = sifa_cli_migrate(&s->cfg.server.db, &s->err);
    if (rc >= 0)
        rc = sifa_db_open(&s->cfg.server.db, &s->db, &s->err);
    if (rc >= 0 && need_roles)
        rc = sifa_roles_load(s->cfg.roles_file, &s->roles, &errors, &s->err);
    json_decref(errors);
    if (rc >= 0 && need_keys)
        rc = sifa_keyring_load(s->cfg.key_file, &s->keyring, &s->err);
    if (rc < 0) {
        sifa_cli_print_error(&s->err);
        *ret_status = 1;
        return -1;
    }
    return 0;
}

static int close_session(struct session *s, int rc)
{
    if (rc < 0)
        sifa_cli_print_error(&s->err);
    sifa_db_close(s->db);
    sifa_roles_free(s->roles);
    sifa_keyring_free(s->keyring);
    sifa_error_release(&s->err);
    sifa_config_release(&s->cfg);
    return rc < 0 ? 1 : 0;
}

static int audit_cli(struct session *s, const char *action, const char *target, json_t *details_take)
{
    struct sifa_audit_entry e = {.actor = "cli", .address = "console", .action = action, .target = target,
                                 .details = details_take};
    int rc = sifa_audit_append(s->db, sifa_keyring_audit_key(s->keyring), &e, NULL, &s->err);
    json_decref(details_take);
    return rc;
}

/* Splits "a,b,c" into at most max borrowed pieces of buf (modified). */
static size_t split_list(char *buf, const char **out, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL && n < max; tok = strtok_r(NULL, ",", &save))
        if (*tok)
            out[n++] = tok;
    return n;
}

static char *read_line_stdin(void)
{
    char buf[SIFA_PASSWORD_MAX_BYTES + 2];
    if (fgets(buf, sizeof(buf), stdin) == NULL)
        return NULL;
    buf[strcspn(buf, "\r\n")] = '\0';
    return sifa_xstrdup(buf);
}

static void free_secret(char *p)
{
    if (p != NULL) {
        sodium_memzero(p, strlen(p));
        free(p);
    }
}

static void print_json_list(json_t *list)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        char *line = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS);
        printf("%s\n", line ? line : "");
        free(line);
    }
}

/* ---------- sifa user ---------- */

static const char user_usage[] =
    "用法 usage:\n"
    "  sifa user add NAME --display-name 姓名 [--org CODE] --roles r1,r2 [--password-stdin]\n"
    "  sifa user passwd NAME [--no-change]\n"
    "        新密码从标准输入读取 (new password from stdin)。这是别人替用户设的密码,默认为一次性密码:\n"
    "        用户下次登录后须先修改才能做别的事;该用户的会话和访问令牌同时作废。\n"
    "        --no-change  不要求修改(仅用于用户本人在服务器上设置自己的密码)\n"
    "  sifa user disable NAME | enable NAME\n"
    "  sifa user roles NAME r1,r2\n"
    "  sifa user list\n\n";

int sifa_cli_user(int argc, char **argv)
{
    static const char *const own[] = {"--display-name", "--org", "--roles", NULL};
    static const char *const flags[] = {"--password-stdin", "--no-change", NULL};
    struct opts o;
    parse_opts(argc, argv, own, flags, &o);
    if (o.npositional < 1) {
        fprintf(stderr, "%s", user_usage);
        return 2;
    }
    const char *verb = o.positional[0], *name = o.npositional > 1 ? o.positional[1] : NULL;
    if (strcmp(verb, "list") != 0 && name == NULL) {
        fprintf(stderr, "%s", user_usage);
        return 2;
    }
    struct session s;
    int status = 1;
    if (open_session(&o, user_usage, true, strcmp(verb, "list") != 0, &s, &status) < 0) {
        sifa_config_release(&s.cfg);
        return status;
    }
    int rc = 0;
    if (strcmp(verb, "list") == 0) {
        json_t *list;
        if ((rc = sifa_user_list(s.db, &list, &s.err)) >= 0) {
            print_json_list(list);
            json_decref(list);
        }
        return close_session(&s, rc);
    }
    char *password = NULL;
    char hash[SIFA_PASSWORD_HASH_MAX];
    if (strcmp(verb, "passwd") == 0 || (strcmp(verb, "add") == 0 && opt(&o, "--password-stdin"))) {
        password = read_line_stdin();
        if (password == NULL)
            rc = sifa_error_set(&s.err, SIFA_EINVALID, "no_password", "标准输入中没有密码");
        if (rc >= 0)
            rc = sifa_password_check_policy(password, name, &s.err);
        if (rc >= 0)
            rc = sifa_password_hash(password, hash, &s.err);
        free_secret(password);
    }
    if (rc >= 0)
        rc = sifa_db_begin(s.db, &s.err);
    if (rc >= 0) {
        if (strcmp(verb, "add") == 0) {
            char roles_buf[1024];
            snprintf(roles_buf, sizeof(roles_buf), "%s", opt(&o, "--roles") ? opt(&o, "--roles") : "");
            const char *roles[SIFA_PRINCIPAL_ROLES_MAX];
            size_t nroles = split_list(roles_buf, roles, SIFA_PRINCIPAL_ROLES_MAX);
            const char *display = opt(&o, "--display-name") ? opt(&o, "--display-name") : name;
            rc = sifa_user_create(s.db, s.roles, name, display, opt(&o, "--org"), roles, nroles,
                                  opt(&o, "--password-stdin") ? hash : NULL, false, &s.err);
            if (rc >= 0)
                rc = audit_cli(&s, "user.create", name, json_pack("{s:s,s:s?}", "roles", roles_buf, "org", opt(&o, "--org")));
        } else if (strcmp(verb, "passwd") == 0) {
            /* Whoever types the password here knows it, so like the administrator's reset in the
             * API it is one-time unless the operator says it is the user's own. Either way what
             * was signed in with the old password ends with it. */
            bool one_time = opt(&o, "--no-change") == NULL;
            rc = sifa_user_set_password(s.db, name, hash, one_time, &s.err);
            if (rc >= 0)
                rc = sifa_session_revoke_user(s.db, name, time(NULL), &s.err);
            if (rc >= 0)
                rc = sifa_api_token_revoke_user(s.db, name, time(NULL), &s.err);
            if (rc >= 0)
                rc = audit_cli(&s, "user.password", name, json_pack("{s:b}", "must_change", one_time));
        } else if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0) {
            bool disable = strcmp(verb, "disable") == 0;
            rc = sifa_user_set_disabled(s.db, name, disable, &s.err);
            if (rc >= 0 && disable)
                rc = sifa_session_revoke_user(s.db, name, time(NULL), &s.err);
            if (rc >= 0)
                rc = audit_cli(&s, disable ? "user.disable" : "user.enable", name, NULL);
        } else if (strcmp(verb, "roles") == 0 && o.npositional > 2) {
            char roles_buf[1024];
            snprintf(roles_buf, sizeof(roles_buf), "%s", o.positional[2]);
            const char *roles[SIFA_PRINCIPAL_ROLES_MAX];
            size_t nroles = split_list(roles_buf, roles, SIFA_PRINCIPAL_ROLES_MAX);
            json_t *old = NULL;
            struct sifa_error e = {0};
            sifa_user_get(s.db, name, &old, &e);
            sifa_error_release(&e);
            rc = old ? sifa_user_set_roles(s.db, s.roles, name, roles, nroles, &s.err)
                     : sifa_error_set(&s.err, SIFA_ENOTFOUND, "user_not_found", "用户 %s 不存在", name);
            if (rc >= 0)
                rc = audit_cli(&s, "user.roles", name,
                               json_pack("{s:O,s:s}", "old", json_object_get(old, "roles"), "new", o.positional[2]));
            json_decref(old);
        } else {
            rc = sifa_error_set(&s.err, SIFA_EINVALID, "usage", "未知的子命令 %s", verb);
        }
        if (rc >= 0)
            rc = sifa_db_commit(s.db, &s.err);
        else
            sifa_db_rollback(s.db, NULL);
    }
    if (rc >= 0)
        printf("sifa: 完成 done: user %s %s\n", verb, name);
    return close_session(&s, rc);
}

/* ---------- sifa org ---------- */

static const char org_usage[] =
    "用法 usage:\n"
    "  sifa org add CODE --name 名称 --kind KIND [--parent CODE] [--division 330282]\n"
    "  sifa org move CODE --parent CODE|\"\"     (保留历史 history is kept)\n"
    "  sifa org rename CODE --name 名称\n"
    "  sifa org division CODE --division 330282001|\"\"   (设置或清除行政区划代码 set or clear)\n"
    "行政区划代码 division codes: 市、区 6 位 (GB/T 2260),乡镇、街道 9 位,村、社区 12 位;须以最近的有代码的\n"
    "      上级的代码开头,不能重复;部门、司法所、调解委员会等不是区划,没有代码。\n"
    "      city/district 6 digits, town/street 9, village/community 12; must extend the nearest coded\n"
    "      ancestor's code; unique; departments, offices, committees have none.\n"
    "  sifa org list\n"
    "  sifa org import FILE.jsonl   每行 {\"code\",\"name\",\"kind\",\"parent\",\"division\"},上级在前;一个事务,出错不写入\n"
    "KIND: city district town street village community bureau department judicial_office\n"
    "      mediation_committee law_firm gov_unit enterprise other\n\n";

#define ORG_IMPORT_LINE_MAX 4096
#define ORG_IMPORT_MAX 100000

/* Reads org units from a JSON-lines file (a parent before its children) into the open
 * transaction; the first bad line stops the import with its line number. */
static int import_orgs(struct session *s, const char *path, size_t *ret_count)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return sifa_error_set(&s->err, SIFA_ENOTFOUND, "file_missing", "无法打开文件 %s", path);
    char line[ORG_IMPORT_LINE_MAX + 2];
    size_t lineno = 0;
    int rc = 0;
    while (rc >= 0 && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        size_t len = strlen(line);
        if (len > ORG_IMPORT_LINE_MAX) {
            rc = sifa_error_set(&s->err, SIFA_ELIMIT, "line_too_long", "第 %zu 行超过 %d 字节", lineno, ORG_IMPORT_LINE_MAX);
            break;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (*ret_count >= ORG_IMPORT_MAX) {
            rc = sifa_error_set(&s->err, SIFA_ELIMIT, "too_many_orgs", "一次最多导入 %d 个机构", ORG_IMPORT_MAX);
            break;
        }
        json_error_t jerr;
        json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
        const char *code = json_string_value(json_object_get(o, "code"));
        const char *name = json_string_value(json_object_get(o, "name"));
        const char *kind = json_string_value(json_object_get(o, "kind"));
        if (!json_is_object(o) || code == NULL || name == NULL || kind == NULL) {
            rc = sifa_error_set(&s->err, SIFA_EINVALID, "bad_line", "第 %zu 行应为含 code、name、kind 的 JSON 对象",
                                lineno);
        } else {
            rc = sifa_org_create(s->db, code, name, kind, json_string_value(json_object_get(o, "parent")),
                                 json_string_value(json_object_get(o, "division")), "cli", &s->err);
            if (rc < 0) {
                char msg[sizeof(s->err.message)], ecode[sizeof(s->err.code)];
                snprintf(msg, sizeof(msg), "%s", s->err.message);
                snprintf(ecode, sizeof(ecode), "%s", s->err.code);
                sifa_error_set(&s->err, s->err.status, ecode, "第 %zu 行:%.400s", lineno, msg);
            } else {
                (*ret_count)++;
            }
        }
        json_decref(o);
    }
    fclose(f);
    return rc;
}

int sifa_cli_org(int argc, char **argv)
{
    static const char *const own[] = {"--name", "--kind", "--parent", "--division", NULL};
    static const char *const flags[] = {NULL};
    struct opts o;
    parse_opts(argc, argv, own, flags, &o);
    if (o.npositional < 1 || (strcmp(o.positional[0], "list") != 0 && o.npositional < 2)) {
        fprintf(stderr, "%s", org_usage);
        return 2;
    }
    const char *verb = o.positional[0], *code = o.npositional > 1 ? o.positional[1] : NULL;
    struct session s;
    int status = 1;
    if (open_session(&o, org_usage, false, strcmp(verb, "list") != 0, &s, &status) < 0) {
        sifa_config_release(&s.cfg);
        return status;
    }
    int rc = 0;
    if (strcmp(verb, "list") == 0) {
        json_t *list;
        if ((rc = sifa_org_list(s.db, &list, &s.err)) >= 0) {
            print_json_list(list);
            json_decref(list);
        }
        return close_session(&s, rc);
    }
    if (strcmp(verb, "import") == 0) {
        size_t count = 0;
        rc = sifa_db_begin(s.db, &s.err);
        if (rc >= 0)
            rc = import_orgs(&s, code, &count);
        if (rc >= 0)
            rc = audit_cli(&s, "org.import", code, json_pack("{s:I}", "count", (json_int_t)count));
        if (rc >= 0)
            rc = sifa_db_commit(s.db, &s.err);
        else
            sifa_db_rollback(s.db, NULL);
        if (rc >= 0)
            printf("sifa: 已导入 %zu 个机构 imported %zu org units\n", count, count);
        return close_session(&s, rc);
    }
    rc = sifa_db_begin(s.db, &s.err);
    if (rc >= 0) {
        if (strcmp(verb, "add") == 0)
            rc = sifa_org_create(s.db, code, opt(&o, "--name"), opt(&o, "--kind") ? opt(&o, "--kind") : "",
                                 opt(&o, "--parent"), opt(&o, "--division"), "cli", &s.err);
        else if (strcmp(verb, "move") == 0 && opt(&o, "--parent") != NULL)
            rc = sifa_org_update(s.db, code, NULL, opt(&o, "--parent"), NULL, "cli", &s.err);
        else if (strcmp(verb, "rename") == 0 && opt(&o, "--name") != NULL)
            rc = sifa_org_update(s.db, code, opt(&o, "--name"), NULL, NULL, "cli", &s.err);
        else if (strcmp(verb, "division") == 0 && opt(&o, "--division") != NULL)
            rc = sifa_org_update(s.db, code, NULL, NULL, opt(&o, "--division"), "cli", &s.err);
        else
            rc = sifa_error_set(&s.err, SIFA_EINVALID, "usage", "用法有误,见 sifa org --help");
        if (rc >= 0)
            rc = audit_cli(&s, strcmp(verb, "add") == 0 ? "org.create" : "org.update", code,
                           json_pack("{s:s,s:s?,s:s?,s:s?}", "change", verb, "name", opt(&o, "--name"), "parent",
                                     opt(&o, "--parent"), "division_code", opt(&o, "--division")));
        if (rc >= 0)
            rc = sifa_db_commit(s.db, &s.err);
        else
            sifa_db_rollback(s.db, NULL);
    }
    if (rc >= 0)
        printf("sifa: 完成 done: org %s %s\n", verb, code);
    return close_session(&s, rc);
}

/* ---------- sifa token ---------- */

static const char token_usage[] =
    "用法 usage: sifa token create --user NAME --name 用途 --scopes p1,p2 [--days N]\n"
    "            sifa token revoke ID | sifa token list\n"
    "为程序签发访问令牌(只显示一次,库中只存哈希)。Issues an API token for a program; it is printed once\n"
    "and only its hash is stored. Use it as: Authorization: Bearer <token>.\n\n";

int sifa_cli_token(int argc, char **argv)
{
    static const char *const own[] = {"--user", "--name", "--scopes", "--days", NULL};
    static const char *const flags[] = {NULL};
    struct opts o;
    parse_opts(argc, argv, own, flags, &o);
    if (o.npositional < 1) {
        fprintf(stderr, "%s", token_usage);
        return 2;
    }
    const char *verb = o.positional[0];
    struct session s;
    int status = 1;
    if (open_session(&o, token_usage, strcmp(verb, "create") == 0, strcmp(verb, "list") != 0, &s, &status) < 0) {
        sifa_config_release(&s.cfg);
        return status;
    }
    int rc = 0;
    if (strcmp(verb, "list") == 0) {
        json_t *list;
        if ((rc = sifa_api_token_list(s.db, NULL, &list, &s.err)) >= 0) {
            print_json_list(list);
            json_decref(list);
        }
        return close_session(&s, rc);
    }
    char token[SIFA_TOKEN_TEXT], id[17];
    rc = sifa_db_begin(s.db, &s.err);
    if (rc >= 0 && strcmp(verb, "create") == 0) {
        const char *user = opt(&o, "--user"), *name = opt(&o, "--name"), *scopes_text = opt(&o, "--scopes");
        long long days = opt(&o, "--days") ? strtoll(opt(&o, "--days"), NULL, 10) : 90;
        json_t *scopes = json_array();
        if (scopes_text != NULL) {
            char buf[2048];
            snprintf(buf, sizeof(buf), "%s", scopes_text);
            const char *list[64];
            size_t n = split_list(buf, list, 64);
            for (size_t i = 0; i < n; i++)
                json_array_append_new(scopes, json_string(list[i]));
        }
        struct sifa_principal p = {0};
        if (user == NULL || name == NULL || json_array_size(scopes) == 0 || days < 1 || days > 3660)
            rc = sifa_error_set(&s.err, SIFA_EINVALID, "usage", "需要 --user、--name、--scopes,--days 为 1 到 3660");
        else
            rc = sifa_principal_load(s.db, s.roles, user, &p, &s.err);
        size_t i;
        json_t *sc;
        json_array_foreach(scopes, i, sc) if (rc >= 0 && !sifa_principal_can(&p, json_string_value(sc))) rc =
            sifa_error_set(&s.err, SIFA_EDENIED, "scope_not_held", "用户 %s 没有权限 %s,不能授予令牌", user,
                           json_string_value(sc));
        int64_t now = time(NULL);
        if (rc >= 0)
            rc = sifa_api_token_create(s.db, user, name, scopes, now, now + days * 86400, token, id, &s.err);
        if (rc >= 0)
            rc = audit_cli(&s, "auth.token_create", id, json_pack("{s:s,s:s,s:O}", "user", user, "name", name, "scopes", scopes));
        json_decref(scopes);
    } else if (rc >= 0 && strcmp(verb, "revoke") == 0 && o.npositional > 1) {
        rc = sifa_api_token_revoke(s.db, NULL, o.positional[1], time(NULL), &s.err);
        if (rc >= 0)
            rc = audit_cli(&s, "auth.token_revoke", o.positional[1], NULL);
    } else if (rc >= 0) {
        rc = sifa_error_set(&s.err, SIFA_EINVALID, "usage", "用法有误,见 sifa token --help");
    }
    if (rc >= 0)
        rc = sifa_db_commit(s.db, &s.err);
    else
        sifa_db_rollback(s.db, NULL);
    if (rc >= 0 && strcmp(verb, "create") == 0)
        printf("%s\n", token);
    else if (rc >= 0)
        printf("sifa: 完成 done\n");
    return close_session(&s, rc);
}

/* ---------- sifa audit ---------- */

static const char audit_usage[] = "用法 usage: sifa audit verify | sifa audit export [--out FILE]\n"
                                  "verify 检查审计日志的哈希链,指出第一条被篡改、删除或调换的记录。\n\n";

int sifa_cli_audit(int argc, char **argv)
{
    static const char *const own[] = {"--out", NULL};
    static const char *const flags[] = {NULL};
    struct opts o;
    parse_opts(argc, argv, own, flags, &o);
    if (o.npositional < 1) {
        fprintf(stderr, "%s", audit_usage);
        return 2;
    }
    struct session s;
    int status = 1;
    if (open_session(&o, audit_usage, false, true, &s, &status) < 0) {
        sifa_config_release(&s.cfg);
        return status;
    }
    int rc;
    if (strcmp(o.positional[0], "verify") == 0) {
        int64_t checked = 0;
        rc = sifa_audit_verify(s.db, sifa_keyring_audit_key(s.keyring), &checked, &s.err);
        if (rc >= 0)
            printf("sifa: 审计日志完整 audit log intact: %lld 条 entries\n", (long long)checked);
        else if (strcmp(s.err.code, "audit_broken") == 0) {
            json_t *d = s.err.details;
            printf("sifa: 审计日志已被破坏 BROKEN at entry %lld (%s)\n", (long long)json_integer_value(json_object_get(d, "id")),
                   json_string_value(json_object_get(d, "reason")));
        }
    } else if (strcmp(o.positional[0], "export") == 0) {
        FILE *out = opt(&o, "--out") ? fopen(opt(&o, "--out"), "wb") : stdout;
        rc = out ? sifa_audit_export_csv(s.db, NULL, out, NULL, &s.err)
                 : sifa_error_set(&s.err, SIFA_EINVALID, "bad_out", "无法写入 %s", opt(&o, "--out"));
        if (out && out != stdout)
            fclose(out);
    } else {
        rc = sifa_error_set(&s.err, SIFA_EINVALID, "usage", "用法有误,见 sifa audit --help");
    }
    return close_session(&s, rc);
}

/* ---------- sifa key ---------- */

static const char key_usage[] = "用法 usage: sifa key rotate\n"
                                "轮换个人信息加密密钥:新写入使用新密钥,旧数据用旧密钥仍可解密。\n\n";

int sifa_cli_key(int argc, char **argv)
{
    static const char *const own[] = {NULL};
    static const char *const flags[] = {NULL};
    struct opts o;
    parse_opts(argc, argv, own, flags, &o);
    if (o.npositional < 1 || strcmp(o.positional[0], "rotate") != 0) {
        fprintf(stderr, "%s", key_usage);
        return 2;
    }
    struct session s;
    int status = 1;
    if (open_session(&o, key_usage, false, true, &s, &status) < 0) {
        sifa_config_release(&s.cfg);
        return status;
    }
    int rc = sifa_keyring_rotate_file(s.cfg.key_file, &s.err);
    if (rc >= 0 && (rc = sifa_db_begin(s.db, &s.err)) >= 0) {
        rc = audit_cli(&s, "key.rotate", s.cfg.key_file, NULL);
        if (rc >= 0)
            rc = sifa_db_commit(s.db, &s.err);
        else
            sifa_db_rollback(s.db, NULL);
    }
    if (rc >= 0)
        printf("sifa: 已轮换密钥 key rotated: %s\n", s.cfg.key_file);
    return close_session(&s, rc);
}
