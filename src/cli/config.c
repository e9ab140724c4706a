/* config.c — see config.h. Layer: cli. One table lists every key with its type, the field it
 * sets and its help text, so the file, the environment, the flags and --help never disagree. */
#include "base/common.h"
#include "cli/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

enum key_type { KEY_STRING, KEY_INT, KEY_SIZE, KEY_MS, KEY_BOOL };

struct key_def {
    const char *key;
    enum key_type type;
    size_t offset; /* into struct sifa_config */
    const char *help;
};

#define SRV(field) offsetof(struct sifa_config, server) + offsetof(struct sifa_server_config, field)
#define DBF(field) offsetof(struct sifa_config, server) + offsetof(struct sifa_server_config, db) + \
    offsetof(struct sifa_db_config, field)

static const struct key_def key_defs[] = {
    {"listen", KEY_STRING, SRV(listen), "监听地址 host:port (listen address), default 127.0.0.1:8080"},
    {"database", KEY_STRING, offsetof(struct sifa_config, database), "SQLite 数据库文件 (database file), default data/sifa.db"},
    {"threads", KEY_INT, SRV(threads), "事件循环线程数 (event loops), 0 = one per core, at most 1024"},
    {"worker_threads", KEY_INT, SRV(worker_threads), "后台任务线程数 (threads for long work), default 2, at most 1024"},
    {"web_root", KEY_STRING, SRV(web_root), "前端文件目录 (front-end files), default web/dist"},
    {"tls_certificate", KEY_STRING, SRV(tls_certificate), "TLS 证书 PEM; with tls_key enables HTTPS and HTTP/2"},
    {"tls_key", KEY_STRING, SRV(tls_key), "TLS 私钥 PEM (private key)"},
    {"max_body_bytes", KEY_SIZE, SRV(max_body_bytes), "任何请求体的上限 (hard cap on request bodies), default 33554432"},
    {"max_header_bytes", KEY_SIZE, SRV(max_header_bytes),
     "请求行与请求头合计上限 (request line + headers), 1024..417792, default 16384"},
    {"max_headers", KEY_SIZE, SRV(max_headers), "请求头字段数上限 (header fields), 1..100, default 64"},
    {"request_timeout_ms", KEY_MS, SRV(request_timeout_ms), "接收一个请求的时限及 HTTP/1 空闲连接时限, default 10000"},
    {"idle_timeout_ms", KEY_MS, SRV(idle_timeout_ms), "HTTP/2 空闲连接时限 (idle HTTP/2 connections), default 30000"},
    {"shutdown_timeout_ms", KEY_MS, SRV(shutdown_timeout_ms), "停止时等待进行中请求的上限, default 10000"},
    {"max_connections", KEY_SIZE, SRV(max_connections), "最大并发连接数 (open connections), default 10000"},
    {"access_log", KEY_STRING, SRV(access_log), "访问日志 (JSON lines): a path, - for stdout, empty for none"},
    {"group_commit_max_batch", KEY_SIZE, SRV(group_commit_max_batch), "一次提交合并的最多写操作, default 1024"},
    {"synchronous_full", KEY_BOOL, DBF(synchronous_full), "true: 已确认的写入在断电后仍在 (durable commits), default true"},
    {"busy_timeout_ms", KEY_INT, DBF(busy_timeout_ms), "数据库锁等待时限 (lock wait), default 5000"},
    {"files_dir", KEY_STRING, offsetof(struct sifa_config, files_dir), "上传文件目录 (attachments), default data/files"},
    {"modules_dir", KEY_STRING, offsetof(struct sifa_config, modules_dir), "业务定义目录 (business-line definitions), default modules"},
    {"indicators_dir", KEY_STRING, offsetof(struct sifa_config, indicators_dir), "指标定义目录 (indicator definitions), default indicators"},
    {"report_template", KEY_STRING, offsetof(struct sifa_config, report_template), "年度报告模板 (annual report template), default reports/annual.md"},
    {"holidays_dir", KEY_STRING, offsetof(struct sifa_config, holidays_dir), "节假日数据目录 (holiday calendar), default data/holidays"},
    {"roles_file", KEY_STRING, offsetof(struct sifa_config, roles_file), "角色定义 (roles), default roles/roles.yaml"},
    {"key_file", KEY_STRING, offsetof(struct sifa_config, key_file), "密钥文件 (personal-data and audit keys), default data/sifa.key"},
    {"session_idle_minutes", KEY_INT, offsetof(struct sifa_config, session_idle_minutes), "会话空闲超时(分钟), default 30"},
    {"session_max_hours", KEY_INT, offsetof(struct sifa_config, session_max_hours), "会话最长时间(小时), default 12"},
    {"backup_dir", KEY_STRING, offsetof(struct sifa_config, backup_dir), "在线备份目录 (online backups), default data/backups"},
};

void sifa_config_init(struct sifa_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    sifa_server_config_init(&cfg->server);
    cfg->database = "data/sifa.db";
    cfg->backup_dir = "data/backups";
    cfg->modules_dir = "modules";
    cfg->indicators_dir = "indicators";
    cfg->report_template = "reports/annual.md";
    cfg->roles_file = "roles/roles.yaml";
    cfg->key_file = "data/sifa.key";
    cfg->session_idle_minutes = 30;
    cfg->session_max_hours = 12;
    cfg->files_dir = "data/files";
    cfg->holidays_dir = "data/holidays";
    cfg->server.db.path = cfg->database;
}

void sifa_config_release(struct sifa_config *cfg)
{
    for (size_t i = 0; i < cfg->nstrings; i++)
        free(cfg->strings[i]);
    cfg->nstrings = 0;
}

/* Keys whose value has a range narrower than its type's. The header limits cannot exceed what
 * h2o 2.2.5 itself parses (lib/http1.c: H2O_MAX_HEADERS 100 fields, H2O_MAX_REQLEN 8192 + 4096 *
 * 100 bytes): above those h2o answers with its own canned 400 before sifa sees the request. */
static const struct {
    const char *key;
    unsigned long long min, max;
} key_ranges[] = {
    {"max_header_bytes", 1024, SIFA_H2O_MAX_REQUEST_HEAD_BYTES},
    {"max_headers", 1, SIFA_H2O_MAX_HEADERS},
    {"threads", 0, 1024},
    {"worker_threads", 0, 1024},
    {"request_timeout_ms", 1, UINT32_MAX},
    {"idle_timeout_ms", 1, UINT32_MAX},
    {"max_body_bytes", 1, SIZE_MAX},
    {"max_connections", 1, SIZE_MAX},
    {"group_commit_max_batch", 1, SIZE_MAX},
};

static int check_range(const char *key, unsigned long long v, const char *value, const char *origin,
                       struct sifa_error *err)
{
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(key_ranges); i++)
        if (strcmp(key_ranges[i].key, key) == 0 && (v < key_ranges[i].min || v > key_ranges[i].max))
            return sifa_error_set(err, SIFA_EINVALID, "config_bad_value", "%s:配置项 %s 必须在 %llu 到 %llu 之间,而不是 \"%s\"",
                                  origin, key, key_ranges[i].min, key_ranges[i].max, value);
    return 0;
}

static const struct key_def *find_key(const char *key)
{
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(key_defs); i++)
        if (strcmp(key_defs[i].key, key) == 0)
            return &key_defs[i];
    return NULL;
}

static int parse_u64(const char *s, unsigned long long max, unsigned long long *ret)
{
    if (*s == '\0' || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *ret = v;
    return 0;
}

int sifa_config_set(struct sifa_config *cfg, const char *key, const char *value, const char *origin,
                    struct sifa_error *err)
{
    const struct key_def *def = find_key(key);
    if (def == NULL)
        return sifa_error_set(err, SIFA_EINVALID, "config_unknown_key", "%s:未知的配置项 \"%s\"", origin, key);
    char *field = (char *)cfg + def->offset;
    unsigned long long v;
    switch (def->type) {
    case KEY_STRING:
        if (cfg->nstrings >= SIFA_ARRAY_SIZE(cfg->strings))
            return sifa_error_set(err, SIFA_ELIMIT, "config_too_many", "%s:配置项过多", origin);
        cfg->strings[cfg->nstrings] = sifa_xstrdup(value);
        *(const char **)field = cfg->strings[cfg->nstrings++];
        break;
    case KEY_INT:
        if (parse_u64(value, INT_MAX, &v) != 0)
            return sifa_error_set(err, SIFA_EINVALID, "config_bad_value", "%s:配置项 %s 必须是非负整数,而不是 \"%s\"",
                                  origin, key, value);
        if (check_range(key, v, value, origin, err) < 0)
            return SIFA_EINVALID;
        *(int *)field = (int)v;
        break;
    case KEY_SIZE:
        if (parse_u64(value, SIZE_MAX, &v) != 0)
            return sifa_error_set(err, SIFA_EINVALID, "config_bad_value", "%s:配置项 %s 必须是非负整数,而不是 \"%s\"",
                                  origin, key, value);
        if (check_range(key, v, value, origin, err) < 0)
            return SIFA_EINVALID;
        *(size_t *)field = (size_t)v;
        break;
    case KEY_MS:
        if (parse_u64(value, UINT32_MAX, &v) != 0)
            return sifa_error_set(err, SIFA_EINVALID, "config_bad_value", "%s:配置项 %s 必须是毫秒数,而不是 \"%s\"",
                                  origin, key, value);
        if (check_range(key, v, value, origin, err) < 0)
            return SIFA_EINVALID;
        *(uint64_t *)field = v;
        break;
    case KEY_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
            *(bool *)field = true;
        else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
            *(bool *)field = false;
        else
            return sifa_error_set(err, SIFA_EINVALID, "config_bad_value", "%s:配置项 %s 必须是 true 或 false,而不是 \"%s\"",
                                  origin, key, value);
        break;
    }
    cfg->server.db.path = cfg->database;
    return 0;
}

int sifa_config_load_file(struct sifa_config *cfg, const char *path, struct sifa_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sifa_error_set(err, SIFA_ENOTFOUND, "config_missing", "无法打开配置文件 %s:%s", path, strerror(errno));
    char *buf = sifa_xmalloc(SIFA_CONFIG_MAX_BYTES + 1);
    size_t n = fread(buf, 1, SIFA_CONFIG_MAX_BYTES + 1, f);
    fclose(f);
    if (n > SIFA_CONFIG_MAX_BYTES) {
        free(buf);
        return sifa_error_set(err, SIFA_ELIMIT, "config_too_large", "配置文件 %s 超过 %d 字节", path,
                              SIFA_CONFIG_MAX_BYTES);
    }
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, n);
    int rc = 0, depth = 0;
    char key[128] = "", key_origin[512] = "";
    bool have_key = false;
    char seen_at[SIFA_ARRAY_SIZE(key_defs)][512]; /* where each key was set; "" if not yet */
    memset(seen_at, 0, sizeof(seen_at));
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = sifa_error_set(err, SIFA_EINVALID, "config_syntax", "%s:%zu:%zu:YAML 语法错误:%s", path,
                                parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                                parser.problem ? parser.problem : "unknown");
            break;
        }
        char origin[512];
        snprintf(origin, sizeof(origin), "%s:%zu:%zu", path, ev.start_mark.line + 1, ev.start_mark.column + 1);
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_MAPPING_START_EVENT:
            if (++depth > 1)
                rc = sifa_error_set(err, SIFA_EINVALID, "config_syntax", "%s:配置文件只能是一层 键: 值", origin);
            break;
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_ALIAS_EVENT:
            rc = sifa_error_set(err, SIFA_EINVALID, "config_syntax", "%s:配置文件只能是一层 键: 值", origin);
            break;
        case YAML_SCALAR_EVENT:
            if (depth != 1) {
                rc = sifa_error_set(err, SIFA_EINVALID, "config_syntax", "%s:配置文件必须是 键: 值 的映射", origin);
            } else if (!have_key) {
                snprintf(key, sizeof(key), "%s", (const char *)ev.data.scalar.value);
                snprintf(key_origin, sizeof(key_origin), "%s", origin);
                have_key = true;
            } else {
                /* A key given twice is a mistake (which one did the operator mean?), not an override. */
                const struct key_def *def = find_key(key);
                size_t k = def != NULL ? (size_t)(def - key_defs) : 0;
                if (def != NULL && seen_at[k][0] != '\0')
                    rc = sifa_error_set(err, SIFA_EINVALID, "config_duplicate_key", "%s:配置项 %s 重复,已在 %s 设置过",
                                        key_origin, key, seen_at[k]);
                else
                    rc = sifa_config_set(cfg, key, (const char *)ev.data.scalar.value, key_origin, err);
                if (rc >= 0 && def != NULL)
                    snprintf(seen_at[k], sizeof(seen_at[k]), "%s", key_origin);
                have_key = false;
            }
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    free(buf);
    return rc;
}

int sifa_config_load_env(struct sifa_config *cfg, struct sifa_error *err)
{
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(key_defs); i++) {
        char name[96] = "SIFA_";
        size_t n = 5;
        for (const char *k = key_defs[i].key; *k && n + 1 < sizeof(name); k++)
            name[n++] = (*k >= 'a' && *k <= 'z') ? (char)(*k - 32) : *k;
        name[n] = '\0';
        const char *v = getenv(name);
        if (v == NULL)
            continue;
        char origin[128];
        snprintf(origin, sizeof(origin), "环境变量 %s", name);
        int rc = sifa_config_set(cfg, key_defs[i].key, v, origin, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

const char *sifa_config_help(void)
{
    static char text[8192];
    if (text[0] == '\0') {
        size_t o = 0;
        for (size_t i = 0; i < SIFA_ARRAY_SIZE(key_defs) && o < sizeof(text); i++)
            o += (size_t)snprintf(text + o, sizeof(text) - o, "  --%-24s %s\n", key_defs[i].key, key_defs[i].help);
    }
    return text;
}
