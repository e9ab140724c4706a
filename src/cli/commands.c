/* commands.c — `sifa serve`, `sifa init`, `sifa backup`, `sifa modules`, `sifa deadlines`. Layer: cli. Parses options into a
 * struct sifa_config (defaults < file < environment < flags), then calls the layers below. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/common.h"
#include "api/api.h"
#include "auth/password.h"
#include "auth/personal.h"
#include "auth/roles.h"
#include "auth/schema.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "record/record.h"
#include "report/report.h"
#include "stats/stats.h"

void sifa_cli_print_error(const struct sifa_error *err)
{
    fprintf(stderr, "sifa: %s [%s]\n", err->message[0] ? err->message : "未知错误", err->code[0] ? err->code : "error");
}

ssize_t sifa_cli_read_line(FILE *f, char **buf, size_t *cap, size_t max)
{
    size_t len = 0;
    bool too_long = false;
    int c;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (len + 1 >= max) {
            too_long = true;
            continue;
        }
        if (len + 2 > *cap) {
            *cap = *cap ? *cap * 2 : 4096;
            *buf = sifa_xrealloc(*buf, *cap);
        }
        (*buf)[len++] = (char)c;
    }
    if (c == EOF && len == 0 && !too_long)
        return -1;
    if (*buf == NULL) {
        *cap = 16;
        *buf = sifa_xmalloc(*cap);
    }
    (*buf)[len] = '\0';
    return too_long ? -2 : (ssize_t)len;
}

static const char serve_usage[] =
    "用法 usage: sifa serve [--config FILE] [--KEY VALUE]...\n"
    "\n"
    "启动 HTTP 服务。Serves the API, /healthz, /metrics and the web front end.\n"
    "配置来源(后者优先)Settings, later sources win: defaults, the file given by --config,\n"
    "environment variables SIFA_<KEY> (e.g. SIFA_LISTEN=0.0.0.0:8080), then flags.\n"
    "\n"
    "  --config FILE              YAML 配置文件 (see sifa.conf.example)\n"
    "  --db FILE                  same as --database\n";

/* Parses [--config F] first, then the environment, then every --key value flag. */
int sifa_cli_load_config(int argc, char **argv, const char *usage, struct sifa_config *cfg, int *ret_status)
{
    struct sifa_error err = {0};
    sifa_config_init(cfg);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s%s", usage, sifa_config_help());
            *ret_status = 0;
            return -1;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sifa: --config 需要一个文件路径 [usage]\n");
                *ret_status = 2;
                return -1;
            }
            if (sifa_config_load_file(cfg, argv[i + 1], &err) < 0)
                goto fail;
        }
    }
    if (sifa_config_load_env(cfg, &err) < 0)
        goto fail;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "sifa: 无法识别的参数 \"%s\";用 --help 查看用法 [usage]\n", argv[i]);
            *ret_status = 2;
            return -1;
        }
        char key[64];
        snprintf(key, sizeof(key), "%s", argv[i] + 2);
        for (char *k = key; *k; k++)
            if (*k == '-')
                *k = '_';
        if (strcmp(key, "db") == 0)
            snprintf(key, sizeof(key), "database");
        char origin[96];
        snprintf(origin, sizeof(origin), "命令行参数 %s", argv[i]);
        if (sifa_config_set(cfg, key, argv[i + 1], origin, &err) < 0)
            goto fail;
        i++;
    }
    return 0;
fail:
    sifa_cli_print_error(&err);
    sifa_error_release(&err);
    *ret_status = 2;
    return -1;
}

int sifa_cli_migrate(const struct sifa_db_config *dbcfg, struct sifa_error *err)
{
    struct sifa_db *db;
    int rc = sifa_db_open(dbcfg, &db, err);
    if (rc < 0)
        return rc;
    rc = sifa_db_migrate(db, sifa_db_core_migrations, sifa_db_core_migrations_count, err);
    if (rc >= 0)
        rc = sifa_db_migrate(db, sifa_auth_migrations, sifa_auth_migrations_count, err);
    if (rc >= 0)
        rc = sifa_db_migrate(db, sifa_report_migrations, sifa_report_migrations_count, err);
    sifa_db_close(db);
    return rc;
}

static void print_definition_errors(json_t *errors)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        fprintf(stderr, "%s:%d:%d: %s [%s]\n", json_string_value(json_object_get(e, "file")),
                (int)json_integer_value(json_object_get(e, "line")),
                (int)json_integer_value(json_object_get(e, "column")),
                json_string_value(json_object_get(e, "message")), json_string_value(json_object_get(e, "code")));
    }
}

/* Loads the business-line definitions and the holiday calendar, and brings the database's
 * tables in line with the definitions in one transaction. A missing modules directory means no
 * business lines (a bare system); invalid definitions stop start-up. */
int sifa_cli_load_business(const struct sifa_config *cfg, struct sifa_model **ret_model, struct sifa_calendar **ret_cal,
                         struct sifa_error *err)
{
    *ret_model = NULL;
    *ret_cal = NULL;
    json_t *errors = NULL;
    int rc = sifa_model_load_dir(cfg->modules_dir, ret_model, &errors, err);
    if (rc == SIFA_ENOTFOUND) {
        sifa_error_release(err);
        rc = 0;
    } else if (rc < 0) {
        if (errors)
            print_definition_errors(errors);
        json_decref(errors);
        return rc;
    }
    if (*ret_model != NULL) {
        rc = sifa_model_load_indicators(*ret_model, cfg->indicators_dir, &errors, err);
        if (rc == SIFA_ENOTFOUND) {
            sifa_error_release(err);
            rc = 0;
        } else if (rc < 0) {
            if (errors)
                print_definition_errors(errors);
            json_decref(errors);
            sifa_model_free(*ret_model);
            *ret_model = NULL;
            return rc;
        }
    }
    struct sifa_error calerr = {0};
    if (sifa_calendar_load_dir(cfg->holidays_dir, ret_cal, &calerr) < 0) {
        fprintf(stderr, "sifa: 警告:节假日数据不可用,工作日期限无法计算:%s [%s]\n", calerr.message, calerr.code);
        sifa_error_release(&calerr);
    }
    if (*ret_model == NULL)
        return 0;
    struct sifa_db *db;
    if ((rc = sifa_db_open(&cfg->server.db, &db, err)) < 0)
        return rc;
    json_t *changes = NULL;
    rc = sifa_db_begin(db, err);
    json_t *stale = NULL;
    if (rc >= 0)
        rc = sifa_record_sync_schema(db, *ret_model, &changes, err);
    if (rc >= 0)
        rc = sifa_stats_check_definitions(db, *ret_model, true, &stale, err);
    if (rc >= 0)
        rc = sifa_db_commit(db, err);
    else
        sifa_db_rollback(db, NULL);
    size_t i;
    json_t *c;
    json_array_foreach(changes, i, c)
    {
        const char *field = json_string_value(json_object_get(c, "field"));
        fprintf(stderr, "sifa: 表结构更新 schema: %s %s%s%s\n", json_string_value(json_object_get(c, "module")),
                json_string_value(json_object_get(c, "change")), field ? " " : "", field ? field : "");
    }
    json_decref(changes);
    json_array_foreach(stale, i, c)
    {
        const struct sifa_indicator *ind = sifa_model_indicator(*ret_model, json_string_value(c));
        fprintf(stderr, "sifa: 警告:指标“%s”(%s)的定义已变化,汇总数据仍按旧定义,请运行 sifa stats rebuild "
                        "(indicator definition changed; run sifa stats rebuild)\n",
                ind ? ind->name : "", json_string_value(c));
    }
    json_decref(stale);
    if (rc < 0 && err->details != NULL && json_is_array(err->details)) {
        json_array_foreach(err->details, i, c)
        {
            const char *field = json_string_value(json_object_get(c, "field"));
            const char *state = json_string_value(json_object_get(c, "state"));
            fprintf(stderr, "sifa: 拒绝 refused: 模块 %s %s %s:%s(%lld 条记录)\n",
                    json_string_value(json_object_get(c, "module")), field ? "字段" : "状态", field ? field : state,
                    json_string_value(json_object_get(c, "message")),
                    (long long)json_integer_value(json_object_get(c, "records")));
        }
    }
    sifa_db_close(db);
    return rc;
}

int sifa_cli_modules(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "check") != 0 || argc > 3) {
        fprintf(stderr, "用法 usage: sifa modules check [DIR [INDICATORS_DIR]]   检查业务定义和指标定义\n"
                        "(default: modules and indicators; with DIR only: the indicators directory beside DIR)\n");
        return 2;
    }
    const char *dir = argc >= 2 ? argv[1] : "modules";
    char indicators[4096];
    if (argc == 3) {
        snprintf(indicators, sizeof(indicators), "%s", argv[2]);
    } else if (argc == 2) {
        const char *slash = strrchr(dir, '/');
        if (slash != NULL && slash[1] == '\0') { /* "defs/modules/" */
            size_t n = (size_t)(slash - dir);
            while (n > 0 && dir[n - 1] != '/')
                n--;
            snprintf(indicators, sizeof(indicators), "%.*sindicators", (int)n, dir);
        } else {
            snprintf(indicators, sizeof(indicators), "%.*sindicators", slash ? (int)(slash - dir + 1) : 0, dir);
        }
    } else {
        snprintf(indicators, sizeof(indicators), "indicators");
    }
    struct sifa_model *model = NULL;
    json_t *errors = NULL;
    struct sifa_error err = {0};
    int rc = sifa_model_load_dir(dir, &model, &errors, &err);
    if (rc >= 0) {
        rc = sifa_model_load_indicators(model, indicators, &errors, &err);
        if (rc == SIFA_ENOTFOUND && argc < 3) { /* no indicators directory: nothing to check */
            sifa_error_release(&err);
            rc = 0;
        }
    }
    if (rc < 0) {
        if (errors)
            print_definition_errors(errors);
        else
            sifa_cli_print_error(&err);
        fprintf(stderr, "sifa: %zu 处错误 (%zu errors)\n", errors ? json_array_size(errors) : 1,
                errors ? json_array_size(errors) : 1);
        json_decref(errors);
        sifa_error_release(&err);
        sifa_model_free(model);
        return 1;
    }
    size_t fields = 0;
    for (size_t i = 0; i < model->nmodules; i++)
        fields += model->modules[i].nfields;
    printf("sifa: 业务定义检查通过 ok: %zu 个模块 modules, %zu 个字段 fields, %zu 个代码表 code tables, "
           "%zu 个指标 indicators, %zu 张统计表 tables\n",
           model->nmodules, fields, model->ncode_tables, model->nindicators, model->ntables);
    sifa_model_free(model);
    return 0;
}

int sifa_cli_serve(int argc, char **argv)
{
    struct sifa_config cfg;
    int status = 1;
    if (sifa_cli_load_config(argc, argv, serve_usage, &cfg, &status) < 0) {
        sifa_config_release(&cfg);
        return status;
    }
    struct sifa_error err = {0};
    struct sifa_api api = {0};
    api.db = cfg.server.db;
    api.backup_dir = cfg.backup_dir;
    api.files_dir = cfg.files_dir;
    api.report_template = cfg.report_template;
    api.started_at_ms = sifa_now_unix_ms();
    cfg.server.authorize = sifa_api_authorize;
    struct sifa_server *server = NULL;
    struct sifa_model *model = NULL;
    struct sifa_calendar *calendar = NULL;
    struct sifa_roles *roles = NULL;
    struct sifa_keyring *keyring = NULL;
    json_t *role_errors = NULL;
    int rc = sifa_cli_migrate(&cfg.server.db, &err);
    if (rc >= 0)
        rc = sifa_cli_load_business(&cfg, &model, &calendar, &err);
    if (rc >= 0 && (rc = sifa_roles_load(cfg.roles_file, &roles, &role_errors, &err)) < 0 && role_errors)
        print_definition_errors(role_errors);
    json_decref(role_errors);
    if (rc >= 0)
        rc = sifa_keyring_load(cfg.key_file, &keyring, &err);
    if (rc >= 0) {
        api.model = model;
        api.calendar = calendar;
        api.roles = roles;
        api.keyring = keyring;
        sifa_api_crypto_init(&api.crypto, keyring);
        api.session_limits.idle_seconds = (int64_t)cfg.session_idle_minutes * 60;
        api.session_limits.absolute_seconds = (int64_t)cfg.session_max_hours * 3600;
        cfg.server.writer_hooks = (struct sifa_db_writer_hooks){sifa_record_writer_on_open,
                                                                sifa_record_writer_before_commit, model};
        rc = sifa_server_new(&cfg.server, sifa_api_routes, sifa_api_routes_count, &api, &server, &err);
    }
    if (rc < 0) {
        sifa_cli_print_error(&err);
        sifa_error_release(&err);
        sifa_model_free(model);
        sifa_calendar_free(calendar);
        sifa_roles_free(roles);
        sifa_keyring_free(keyring);
        sifa_config_release(&cfg);
        return 1;
    }
    fprintf(stderr, "sifa: 服务已启动 listening on %s (port %d), database %s\n", cfg.server.listen,
            sifa_server_port(server), cfg.server.db.path);
    status = 0;
    if (sifa_server_run(server, &err) < 0) {
        sifa_cli_print_error(&err);
        status = 1;
    }
    sifa_server_free(server);
    sifa_model_free(model);
    sifa_calendar_free(calendar);
    sifa_roles_free(roles);
    sifa_keyring_free(keyring);
    fprintf(stderr, "sifa: 服务已停止 stopped\n");
    sifa_error_release(&err);
    sifa_config_release(&cfg);
    return status;
}

static const char init_usage[] =
    "用法 usage: sifa init [--db FILE] [--key_file FILE] [--admin-password-stdin]\n\n"
    "创建数据库、密钥文件和第一个管理员 admin。Creates the database and its schema, the key file\n"
    "(personal-data encryption and the audit chain; keep it apart from backups of the database)\n"
    "and the first administrator \"admin\": with --admin-password-stdin its password is read from\n"
    "standard input, otherwise a one-time password is printed that must be changed at first login.\n"
    "On an existing database it only applies pending migrations.\n\n";

/* Reads one line (the password) from stdin without its newline; NULL on EOF. */
static char *read_password_line(void)
{
    char buf[SIFA_PASSWORD_MAX_BYTES + 2];
    if (fgets(buf, sizeof(buf), stdin) == NULL)
        return NULL;
    buf[strcspn(buf, "\r\n")] = '\0';
    return sifa_xstrdup(buf);
}

int sifa_cli_init(int argc, char **argv)
{
    bool password_stdin = false;
    char *rest[64];
    int nrest = 0;
    for (int i = 0; i < argc && nrest < 62; i++) {
        if (strcmp(argv[i], "--admin-password-stdin") == 0)
            password_stdin = true;
        else
            rest[nrest++] = argv[i];
    }
    struct sifa_config cfg;
    int status = 1;
    if (sifa_cli_load_config(nrest, rest, init_usage, &cfg, &status) < 0) {
        sifa_config_release(&cfg);
        return status;
    }
    struct sifa_error err = {0};
    cfg.server.db.create = true;
    struct sifa_roles *roles = NULL;
    json_t *role_errors = NULL;
    struct sifa_db *db = NULL;
    char *password = NULL;
    bool generated = false;
    int rc = sifa_cli_migrate(&cfg.server.db, &err);
    if (rc >= 0 && access(cfg.key_file, F_OK) != 0) {
        rc = sifa_keyring_create_file(cfg.key_file, &err);
        if (rc >= 0)
            printf("sifa: 已创建密钥文件 key file created: %s (请单独妥善备份 back it up apart from the database)\n",
                   cfg.key_file);
    }
    if (rc >= 0 && (rc = sifa_roles_load(cfg.roles_file, &roles, &role_errors, &err)) < 0 && role_errors)
        print_definition_errors(role_errors);
    json_decref(role_errors);
    if (rc >= 0)
        rc = sifa_db_open(&cfg.server.db, &db, &err);
    char *existing_hash = NULL;
    bool disabled = false, must_change = false;
    bool have_admin = false;
    if (rc >= 0) {
        struct sifa_error e = {0};
        have_admin = sifa_user_auth_info(db, "admin", &existing_hash, &disabled, &must_change, &e) == 0;
        sifa_error_release(&e);
        free(existing_hash);
    }
    if (rc >= 0 && !have_admin) {
        if (password_stdin) {
            password = read_password_line();
            if (password == NULL)
                rc = sifa_error_set(&err, SIFA_EINVALID, "no_password", "标准输入中没有密码");
            else
                rc = sifa_password_check_policy(password, "admin", &err);
        } else {
            /* 16 characters from an unambiguous alphabet: about 80 bits. */
            static const char alphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
            unsigned char r[16];
            randombytes_buf(r, sizeof(r));
            password = sifa_xmalloc(17);
            for (size_t i = 0; i < 16; i++)
                password[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
            password[16] = '\0';
            generated = true;
        }
        char hash[SIFA_PASSWORD_HASH_MAX];
        if (rc >= 0)
            rc = sifa_password_hash(password, hash, &err);
        const char *admin_roles[] = {"admin"};
        if (rc >= 0 && (rc = sifa_db_begin(db, &err)) >= 0) {
            rc = sifa_user_create(db, roles, "admin", "系统管理员", NULL, admin_roles, 1, hash, generated, &err);
            if (rc >= 0)
                rc = sifa_db_commit(db, &err);
            else
                sifa_db_rollback(db, NULL);
        }
    }
    if (rc < 0) {
        sifa_cli_print_error(&err);
        status = 1;
    } else {
        printf("sifa: 数据库已就绪 database ready: %s\n", cfg.server.db.path);
        if (generated)
            printf("sifa: 管理员 admin 的一次性密码 one-time password for admin: %s\n"
                   "      首次登录后必须修改 (must be changed at first login)\n",
                   password);
        status = 0;
    }
    if (password != NULL) {
        sodium_memzero(password, strlen(password));
        free(password);
    }
    sifa_db_close(db);
    sifa_roles_free(roles);
    sifa_error_release(&err);
    sifa_config_release(&cfg);
    return status;
}

static const char backup_usage[] = "用法 usage: sifa backup --out FILE [--db FILE]\n\n"
                                   "在线备份:服务运行时也可执行,得到一致的数据库副本。\n"
                                   "Online backup: a consistent copy even while sifa serves.\n\n";

int sifa_cli_backup(int argc, char **argv)
{
    const char *out = NULL;
    char *rest[64];
    int nrest = 0;
    for (int i = 0; i < argc && nrest < 62; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else
            rest[nrest++] = argv[i];
    }
    struct sifa_config cfg;
    int status = 1;
    if (sifa_cli_load_config(nrest, rest, backup_usage, &cfg, &status) < 0) {
        sifa_config_release(&cfg);
        return status;
    }
    if (out == NULL) {
        fprintf(stderr, "sifa: 需要 --out FILE 指定备份文件 [usage]\n");
        sifa_config_release(&cfg);
        return 2;
    }
    struct sifa_error err = {0};
    struct sifa_db *db = NULL;
    int rc = sifa_db_open(&cfg.server.db, &db, &err);
    if (rc >= 0)
        rc = sifa_db_backup(db, out, &err);
    sifa_db_close(db);
    if (rc < 0) {
        sifa_cli_print_error(&err);
        sifa_error_release(&err);
        sifa_config_release(&cfg);
        return 1;
    }
    printf("sifa: 备份完成 backup written: %s\n", out);
    sifa_config_release(&cfg);
    return 0;
}

static const char deadlines_usage[] =
    "用法 usage: sifa deadlines [--within N] [--org CODE] [--db FILE]\n\n"
    "列出 N 天内到期和已超期的期限(默认 3 天)。Lists deadlines due within N days and overdue ones.\n\n";

int sifa_cli_deadlines(int argc, char **argv)
{
    long long within = 3;
    const char *org = NULL;
    char *rest[64];
    int nrest = 0;
    for (int i = 0; i < argc && nrest < 62; i++) {
        if (strcmp(argv[i], "--within") == 0 && i + 1 < argc) {
            char *end;
            within = strtoll(argv[++i], &end, 10);
            if (*end != '\0' || within < 0 || within > 3650) {
                fprintf(stderr, "sifa: --within 应为 0 到 3650 之间的天数 [usage]\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--org") == 0 && i + 1 < argc) {
            org = argv[++i];
        } else {
            rest[nrest++] = argv[i];
        }
    }
    struct sifa_config cfg;
    int status = 1;
    if (sifa_cli_load_config(nrest, rest, deadlines_usage, &cfg, &status) < 0) {
        sifa_config_release(&cfg);
        return status;
    }
    struct sifa_error err = {0};
    struct sifa_model *model = NULL;
    struct sifa_calendar *calendar = NULL;
    struct sifa_db *db = NULL;
    json_t *list = NULL;
    int rc = sifa_cli_load_business(&cfg, &model, &calendar, &err);
    if (rc >= 0 && model == NULL)
        rc = sifa_error_set(&err, SIFA_ENOTFOUND, "no_modules", "没有业务定义 (%s)", cfg.modules_dir);
    if (rc >= 0)
        rc = sifa_db_open(&cfg.server.db, &db, &err);
    if (rc >= 0) {
        struct sifa_record_ctx rctx = {.model = model, .calendar = calendar, .scope = SIFA_RECORD_SCOPE_ALL,
                                       .now = time(NULL)};
        rc = sifa_record_deadlines_due(db, &rctx, rctx.now + within * 86400, org, &list, &err);
    }
    if (rc < 0) {
        sifa_cli_print_error(&err);
        status = 1;
    } else {
        size_t i, overdue = 0;
        json_t *item;
        printf("%-8s %-12s %-24s %-28s %s\n", "状态", "到期", "业务", "期限", "案号/记录");
        json_array_foreach(list, i, item)
        {
            bool late = json_is_true(json_object_get(item, "overdue"));
            overdue += late;
            const char *number = json_string_value(json_object_get(item, "number"));
            printf("%-8s %-12s %-24s %-28s %s (#%lld)\n", late ? "已超期" : "将到期",
                   json_string_value(json_object_get(item, "due")),
                   json_string_value(json_object_get(item, "module_name")),
                   json_string_value(json_object_get(item, "name")), number ? number : "",
                   (long long)json_integer_value(json_object_get(item, "record_id")));
        }
        printf("共 %zu 项,其中已超期 %zu 项 (%zu due, %zu overdue)\n", json_array_size(list), overdue,
               json_array_size(list), overdue);
        status = 0;
    }
    json_decref(list);
    sifa_db_close(db);
    sifa_model_free(model);
    sifa_calendar_free(calendar);
    sifa_error_release(&err);
    sifa_config_release(&cfg);
    return status;
}
