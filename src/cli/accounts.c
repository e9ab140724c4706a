/* accounts.c — `sifa user`, `sifa org`, `sifa token`, `sifa audit` and `sifa key`: managing
 * accounts, org units, API tokens, the audit chain and the key file from the command line.
 * Layer: cli. Every change runs in one transaction with its audit entry (actor "cli"), so the
 * trail records what was done at the console as well as through the API. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
#include "record/record.h"

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
    "  sifa user add NAME --display-name 姓名 [--org CODE] --roles r1,r2 [--password-stdin [--no-change]]\n"
    "        --password-stdin  初始密码从标准输入读取 (initial password from stdin),与 passwd 一样默认为一次性密码\n"
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
            /* A password someone sets for another person is one-time, as with passwd and the
             * administrator's create in the API, unless the operator says otherwise. */
            bool one_time = opt(&o, "--password-stdin") != NULL && opt(&o, "--no-change") == NULL;
            rc = sifa_user_create(s.db, s.roles, name, display, opt(&o, "--org"), roles, nroles,
                                  opt(&o, "--password-stdin") ? hash : NULL, one_time, &s.err);
            if (rc >= 0)
                rc = audit_cli(&s, "user.create", name,
                               json_pack("{s:s,s:s?,s:b}", "roles", roles_buf, "org", opt(&o, "--org"), "must_change",
                                         one_time));
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

#define ORG_IMPORT_MAX 100000

/* Reads org units from a JSON-lines file (a parent before its children) into the open
 * transaction; the first bad line stops the import with its line number. Each line is parsed by
 * sifa_org_import_line (auth layer, fuzzed by tests/fuzz/fuzz_org_import.c); a UTF-8 byte-order
 * mark before the first line (spreadsheet exports) is skipped, a NUL inside a line refused. */
static int import_orgs(struct session *s, const char *path, size_t *ret_count)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return sifa_error_set(&s->err, SIFA_ENOTFOUND, "file_missing", "无法打开文件 %s", path);
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    int rc = 0;
    for (ssize_t got; rc >= 0 && (got = sifa_cli_read_line(f, &line, &cap, SIFA_ORG_IMPORT_LINE_MAX + 5)) != -1;) {
        lineno++; /* the limit leaves room for a BOM and a CR; the line itself is checked below */
        const char *text = line;
        size_t len = got >= 0 ? (size_t)got : 0;
        if (lineno == 1 && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
            text += 3;
            len -= 3;
        }
        if (got == -2)
            rc = sifa_error_set(&s->err, SIFA_ELIMIT, "line_too_long", "第 %zu 行超过 %d 字节", lineno,
                                SIFA_ORG_IMPORT_LINE_MAX);
        else if (memchr(text, '\0', len) != NULL)
            rc = sifa_error_set(&s->err, SIFA_EINVALID, "bad_line", "第 %zu 行含有空字符(NUL)", lineno);
        if (rc < 0)
            break;
        rc = sifa_org_import_line(s->db, text, len, "cli", &s->err);
        if (rc < 0) {
            char msg[sizeof(s->err.message)], ecode[sizeof(s->err.code)];
            snprintf(msg, sizeof(msg), "%s", s->err.message);
            snprintf(ecode, sizeof(ecode), "%s", s->err.code);
            sifa_error_set(&s->err, s->err.status, ecode, "第 %zu 行:%.400s", lineno, msg);
        } else if (rc == 0 && ++*ret_count > ORG_IMPORT_MAX) {
            rc = sifa_error_set(&s->err, SIFA_ELIMIT, "too_many_orgs", "一次最多导入 %d 个机构", ORG_IMPORT_MAX);
        }
    }
    free(line);
    fclose(f);
    return rc < 0 ? rc : 0;
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

static const char key_usage[] =
    "用法 usage: sifa key rotate | reencrypt [--batch N] | retire ID... | retire --older-than ID | list\n"
    "  rotate     在密钥文件末尾添加新密钥,此后新写入的个人信息用它加密;旧数据用旧密钥仍可解密。\n"
    "             Appends a new data key; new writes use it, old values still decrypt with old keys.\n"
    "             轮换后请重启所有 sifa serve 进程,它们才会使用新密钥。\n"
    "             Restart every sifa serve afterwards: a running server keeps the keys it started with.\n"
    "  reencrypt  把库中所有加密的个人信息(各业务表和修改历史)改用当前密钥重新加密,每批一个事务\n"
    "             (--batch 行数,默认 500);可中断后重跑,已是当前密钥的值跳过。记入审计日志 key.reencrypt。\n"
    "             Re-encrypts every sealed personal value (module tables and record history) under the\n"
    "             current key, in batches of --batch rows (default 500), one transaction each; safe to\n"
    "             interrupt and run again (values already under the current key are skipped). Audited.\n"
    "  retire     从密钥文件删除旧密钥;先逐个统计各密钥下的加密值,仍有数据用它加密时拒绝。\n"
    "             --older-than ID 删除编号小于 ID 的所有旧密钥。当前密钥不能删除。记入审计日志 key.retire。\n"
    "             Removes old keys from the key file, only when no stored value is encrypted under them\n"
    "             any more (counted first); --older-than ID removes every key older than ID. Audited.\n"
    "             删除前的备份仍需要旧密钥文件才能读取,请与备份一同妥善保存旧密钥文件。\n"
    "             Backups made before still need the old key file: keep a copy with them.\n"
    "  list       列出各密钥及其下的加密值个数 (each key and how many values are encrypted under it)\n"
    "顺序 order: rotate → 重启服务 restart servers → reencrypt → retire.\n\n";

#define KEY_BATCH_DEFAULT 500
#define KEY_BATCH_MAX 100000

/* Values found under each key id: a JSON object {"<id>": {"n": count, "at": "table#row"}}. */
struct key_census {
    json_t *by_key;
};

static int census_visit(void *arg, const char *table, int64_t row_id, const char *text, char **ret_text,
                        struct sifa_error *err)
{
    (void)ret_text;
    (void)err;
    struct key_census *c = arg;
    int id = sifa_personal_key_id(text);
    if (id < 0)
        return 0; /* starts like one but is not a sealed value */
    char key[16];
    snprintf(key, sizeof(key), "%d", id);
    json_t *e = json_object_get(c->by_key, key);
    if (e == NULL) {
        char at[96];
        snprintf(at, sizeof(at), "%s#%lld", table, (long long)row_id);
        e = json_pack("{s:I,s:s}", "n", (json_int_t)0, "at", at);
        json_object_set_new(c->by_key, key, e);
    }
    json_object_set_new(e, "n", json_integer(json_integer_value(json_object_get(e, "n")) + 1));
    return 0;
}

/* Counts the stored values by key id into *ret (new), reading in batches on the session's
 * connection (inside the caller's transaction, if any). */
static int key_census(struct session *s, json_t **ret)
{
    struct key_census c = {.by_key = json_object()};
    struct sifa_record_sealed_cursor cur = {0};
    int rc;
    while ((rc = sifa_record_sealed_step(s->db, &cur, KEY_BATCH_DEFAULT, census_visit, &c, NULL, &s->err)) > 0)
        ;
    if (rc < 0) {
        json_decref(c.by_key);
        return rc;
    }
    *ret = c.by_key;
    return 0;
}

static int64_t census_count(json_t *census, int id)
{
    char key[16];
    snprintf(key, sizeof(key), "%d", id);
    return json_integer_value(json_object_get(json_object_get(census, key), "n"));
}

struct key_reencrypt {
    const struct sifa_keyring *keyring;
    int current;
    int64_t moved, already, unreadable;
    char first_bad[256];
};

static int reencrypt_visit(void *arg, const char *table, int64_t row_id, const char *text, char **ret_text,
                           struct sifa_error *err)
{
    (void)err;
    struct key_reencrypt *c = arg;
    int id = sifa_personal_key_id(text);
    if (id < 0)
        return 0;
    if (id == c->current) {
        c->already++; /* what makes a second run cheap and an interrupted one resumable */
        return 0;
    }
    struct sifa_error e = {0};
    char *out = NULL;
    int r = sifa_personal_reencrypt(c->keyring, text, &out, &e);
    if (r < 0) {
        /* Left as it is, and reported: a value no key opens is not made worse by going on, and
         * `retire` will still count it under its key and refuse to remove that key. */
        c->unreadable++;
        if (c->first_bad[0] == '\0')
            snprintf(c->first_bad, sizeof(c->first_bad), "%.60s#%lld: %.160s", table, (long long)row_id, e.message);
        sifa_error_release(&e);
        return 0;
    }
    c->moved++;
    *ret_text = out;
    return 1;
}

static int key_reencrypt(struct session *s, const struct opts *o)
{
    long long batch = opt(o, "--batch") ? strtoll(opt(o, "--batch"), NULL, 10) : KEY_BATCH_DEFAULT;
    if (batch < 1 || batch > KEY_BATCH_MAX)
        return sifa_error_set(&s->err, SIFA_EINVALID, "usage", "--batch 应为 1 到 %d", KEY_BATCH_MAX);
    struct key_reencrypt c = {.keyring = s->keyring, .current = sifa_keyring_current_id(s->keyring)};
    struct sifa_record_sealed_cursor cur = {0};
    int64_t batches = 0;
    int rc, more = 1;
    /* One transaction a batch: the server's writer waits for one batch at most, and what was
     * committed before an interruption stays done. */
    while (more > 0) {
        if ((rc = sifa_db_begin(s->db, &s->err)) < 0)
            break;
        more = rc = sifa_record_sealed_step(s->db, &cur, batch, reencrypt_visit, &c, NULL, &s->err);
        if (rc >= 0)
            rc = sifa_db_commit(s->db, &s->err);
        else
            sifa_db_rollback(s->db, NULL);
        if (rc < 0)
            break;
        batches++;
    }
    printf("sifa: 已用密钥 %d 重新加密 %lld 个值 re-encrypted %lld values under key %d; "
           "已是当前密钥 already current: %lld; 无法解密 unreadable: %lld\n",
           c.current, (long long)c.moved, (long long)c.moved, c.current, (long long)c.already,
           (long long)c.unreadable);
    /* Audited whatever the outcome: an interrupted run has changed stored data too. */
    struct sifa_error aerr = {0};
    int arc = sifa_db_begin(s->db, &aerr);
    if (arc >= 0) {
        struct sifa_audit_entry e = {.actor = "cli", .address = "console", .action = "key.reencrypt",
                                     .target = s->cfg.key_file,
                                     .details = json_pack("{s:i,s:I,s:I,s:I,s:I,s:b}", "key", c.current, "reencrypted",
                                                          (json_int_t)c.moved, "already_current",
                                                          (json_int_t)c.already, "unreadable",
                                                          (json_int_t)c.unreadable, "batches", (json_int_t)batches,
                                                          "complete", rc >= 0)};
        arc = sifa_audit_append(s->db, sifa_keyring_audit_key(s->keyring), &e, NULL, &aerr);
        json_decref(e.details);
        arc = arc >= 0 ? sifa_db_commit(s->db, &aerr) : (sifa_db_rollback(s->db, NULL), arc);
    }
    if (rc >= 0 && arc < 0) {
        sifa_error_set(&s->err, aerr.status, aerr.code, "%s", aerr.message);
        rc = arc;
    }
    sifa_error_release(&aerr);
    if (rc >= 0 && c.unreadable > 0)
        rc = sifa_error_set(&s->err, SIFA_EINVALID, "personal_unreadable",
                            "%lld 个加密值无法解密,保持原样(首个:%s);它们所用的密钥不能删除",
                            (long long)c.unreadable, c.first_bad);
    return rc;
}

static int key_retire(struct session *s, const struct opts *o)
{
    const int *ids;
    size_t nkeys = sifa_keyring_key_ids(s->keyring, &ids);
    int current = sifa_keyring_current_id(s->keyring);
    int retire[SIFA_KEYRING_MAX_KEYS];
    size_t n = 0;
    const char *older = opt(o, "--older-than");
    if (older != NULL) {
        char *end = NULL;
        long long bound = strtoll(older, &end, 10);
        if (end == older || *end != '\0' || bound < 1)
            return sifa_error_set(&s->err, SIFA_EINVALID, "usage", "--older-than 应为密钥编号");
        for (size_t i = 0; i < nkeys; i++)
            if (ids[i] < bound && ids[i] != current)
                retire[n++] = ids[i];
    } else {
        for (int i = 1; i < o->npositional && n < SIFA_ARRAY_SIZE(retire); i++) {
            char *end = NULL;
            long long id = strtoll(o->positional[i], &end, 10);
            if (end == o->positional[i] || *end != '\0' || id < 1 || id > INT32_MAX)
                return sifa_error_set(&s->err, SIFA_EINVALID, "usage", "密钥编号 %s 不是正整数", o->positional[i]);
            retire[n++] = (int)id;
        }
    }
    if (n == 0)
        return sifa_error_set(&s->err, SIFA_EINVALID, "usage",
                              older ? "没有比 %s 更旧的密钥可删除" : "请给出要删除的密钥编号%s", older ? older : "");
    for (size_t k = 0; k < n; k++) {
        if (retire[k] == current)
            return sifa_error_set(&s->err, SIFA_ECONFLICT, "key_current",
                                  "密钥 %d 是当前密钥,新写入的数据用它加密,不能删除;先执行 sifa key rotate", current);
        bool known = false;
        for (size_t i = 0; i < nkeys; i++)
            known = known || ids[i] == retire[k];
        if (!known)
            return sifa_error_set(&s->err, SIFA_ENOTFOUND, "key_not_found", "密钥文件中没有密钥 %d", retire[k]);
    }
    /* Counted and removed under the write lock, so no write through this database can slip a
     * value under the key between the count and the removal. */
    int rc = sifa_db_begin(s->db, &s->err);
    if (rc < 0)
        return rc;
    json_t *census = NULL;
    rc = key_census(s, &census);
    for (size_t k = 0; rc >= 0 && k < n; k++) {
        int64_t left = census_count(census, retire[k]);
        if (left > 0) {
            char key[16];
            snprintf(key, sizeof(key), "%d", retire[k]);
            rc = sifa_error_set_details(
                &s->err, SIFA_ECONFLICT, "key_in_use", json_pack("{s:i,s:I}", "key", retire[k], "values", (json_int_t)left),
                "密钥 %d 下仍有 %lld 个加密的个人信息(例如 %s),删除它会使这些数据无法解密;请先执行 sifa key "
                "reencrypt",
                retire[k], (long long)left,
                json_string_value(json_object_get(json_object_get(census, key), "at")));
        }
    }
    json_decref(census);
    /* The audit entry first, the file second, the commit last: an entry the log refuses (a
     * tampered chain) leaves the file as it was. Only a failing COMMIT after the rewrite (disk
     * full, I/O error) can leave the keys removed without the entry; that is said loudly. */
    json_t *list = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(list, json_integer(retire[k]));
    if (rc >= 0)
        rc = audit_cli(s, "key.retire", s->cfg.key_file, json_pack("{s:o}", "keys", list));
    else
        json_decref(list);
    if (rc >= 0)
        rc = sifa_keyring_retire_file(s->cfg.key_file, retire, n, &s->err);
    bool file_changed = rc >= 0;
    if (rc >= 0)
        rc = sifa_db_commit(s->db, &s->err);
    else
        sifa_db_rollback(s->db, NULL);
    if (rc < 0 && file_changed)
        fprintf(stderr, "sifa: 密钥已从密钥文件删除,但审计记录未能写入 keys were removed from the key file but "
                        "the audit entry was not committed\n");
    if (rc >= 0) {
        printf("sifa: 已删除密钥 retired key(s):");
        for (size_t k = 0; k < n; k++)
            printf(" %d", retire[k]);
        printf("\n");
    }
    return rc;
}

static int key_list(struct session *s)
{
    const int *ids;
    size_t nkeys = sifa_keyring_key_ids(s->keyring, &ids);
    json_t *census = NULL;
    int rc = key_census(s, &census);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < nkeys; i++)
        printf("key %d%s: %lld 个值 values\n", ids[i], i + 1 == nkeys ? " (当前 current)" : "",
               (long long)census_count(census, ids[i]));
    /* Values under a key the file no longer has: lost unless an old key file is found. */
    const char *id;
    json_t *e;
    json_object_foreach(census, id, e)
    {
        bool known = false;
        for (size_t i = 0; i < nkeys && !known; i++) {
            char key[16];
            snprintf(key, sizeof(key), "%d", ids[i]);
            known = strcmp(key, id) == 0;
        }
        if (!known)
            printf("key %s (密钥文件中没有 missing from the key file): %lld 个值 values, 例如 e.g. %s\n", id,
                   (long long)json_integer_value(json_object_get(e, "n")), json_string_value(json_object_get(e, "at")));
    }
    json_decref(census);
    return 0;
}

int sifa_cli_key(int argc, char **argv)
{
    static const char *const own[] = {"--batch", "--older-than", NULL};
    static const char *const flags[] = {NULL};
    struct opts o;
    parse_opts(argc, argv, own, flags, &o);
    const char *verb = o.npositional > 0 ? o.positional[0] : "";
    if (o.npositional < 1 && argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("%s", key_usage);
        return 0;
    }
    if (strcmp(verb, "rotate") != 0 && strcmp(verb, "reencrypt") != 0 && strcmp(verb, "retire") != 0 &&
        strcmp(verb, "list") != 0) {
        fprintf(stderr, "%s", key_usage);
        return 2;
    }
    struct session s;
    int status = 1;
    if (open_session(&o, key_usage, false, true, &s, &status) < 0) {
        sifa_config_release(&s.cfg);
        return status;
    }
    int rc;
    if (strcmp(verb, "reencrypt") == 0)
        return close_session(&s, key_reencrypt(&s, &o));
    if (strcmp(verb, "retire") == 0)
        return close_session(&s, key_retire(&s, &o));
    if (strcmp(verb, "list") == 0)
        return close_session(&s, key_list(&s));
    rc = sifa_keyring_rotate_file(s.cfg.key_file, &s.err);
    int new_id = rc;
    if (rc >= 0 && (rc = sifa_db_begin(s.db, &s.err)) >= 0) {
        rc = audit_cli(&s, "key.rotate", s.cfg.key_file, json_pack("{s:i}", "key", new_id));
        if (rc >= 0)
            rc = sifa_db_commit(s.db, &s.err);
        else
            sifa_db_rollback(s.db, NULL);
    }
    if (rc >= 0)
        printf("sifa: 已轮换密钥 key rotated: %s (新密钥 new key %d);请重启 sifa serve,再执行 sifa key reencrypt\n",
               s.cfg.key_file, new_id);
    return close_session(&s, rc);
}
