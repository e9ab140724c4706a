/* sqlite.c — the SQLite engine behind db.h: connections, the per-connection prepared-statement
 * cache, binding and stepping, transactions and savepoints, online backup, integrity check and
 * counters. Layer: db. Every sqlite3 type and call of sifa lives in this file; writer.c and
 * migrations.c are written against db.h only, so a postgres.c can later sit beside this file
 * (behind a small engine table) without touching them. Invariants: a connection is used by one
 * thread at a time (opened with SQLITE_OPEN_NOMUTEX); a statement is either checked out (on the
 * connection's busy list) or idle (on the LRU list and in the hash index), never both; the
 * number of idle statements never exceeds the cache size; failures are mapped to sifa statuses
 * here and nowhere else (busy/locked → SIFA_EUNAVAILABLE "db_busy", constraint →
 * SIFA_ECONFLICT "db_constraint", everything else → SIFA_EINTERNAL "db_error"). */
#include "base/common.h"

#include "db/db.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
    DEFAULT_BUSY_TIMEOUT_MS = 5000,
    /* The writer runs every module's insert, history, audit, search and aggregate statements
     * (about six per module touched); 64 thrashed with 40 modules and every batch re-prepared
     * its flush statements, a third of the writer's time. */
    DEFAULT_STMT_CACHE_SIZE = 256,
    SAVEPOINT_NAME_MAX = 63,
    BACKUP_MAX_RETRIES = 1000, /* × 10 ms while the source is locked */
};

struct sifa_db_stmt {
    struct sifa_db *db;
    sqlite3_stmt *handle;
    char *sql; /* owned copy: the cache key */
    size_t sql_len;
    uint64_t hash;
    struct sifa_db_stmt *prev, *next; /* idle LRU list (MRU first) or the busy list */
    struct sifa_db_stmt *hnext;       /* hash chain, idle statements only */
    bool in_use;
    int bind_rc;  /* first failed bind (sqlite code), reported by the next step; 0 if none */
    int bind_idx;
};

struct sifa_db {
    sqlite3 *handle;
    char *path;
    size_t cache_size;
    size_t idle_count;
    struct sifa_db_stmt *idle_head, *idle_tail; /* LRU: head is most recently used */
    struct sifa_db_stmt *busy_head;             /* checked out, finalized by close if never done */
    struct sifa_db_stmt **buckets;              /* hash index of idle statements */
    size_t bucket_mask;
    struct sifa_db_stats stats;
    struct commit_hook *commit_hook; /* owned; sifa_db_on_commit's */
    bool have_file_id; /* dev and ino of the file opened, for sifa_db_ping */
    dev_t file_dev;
    ino_t file_ino;
};

/* ---- errors ---- */

/* Maps an SQLite result code (extended or primary) to a sifa status, fills err and counts it.
 * what says which operation failed, in Chinese. */
static int db_fail(struct sifa_db *db, int rc, const char *what, struct sifa_error *err)
{
    const char *msg = db != NULL && db->handle != NULL ? sqlite3_errmsg(db->handle) : sqlite3_errstr(rc);
    json_t *details = json_pack("{s:s, s:i}", "engine", "sqlite", "engine_code", rc);

    if (db != NULL)
        db->stats.errors++;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        if (db != NULL)
            db->stats.busy++;
        return sifa_error_set_details(err, SIFA_EUNAVAILABLE, "db_busy", details,
                                      "数据库繁忙，请稍后重试（%s：%s）", what, msg);
    case SQLITE_CONSTRAINT:
        return sifa_error_set_details(err, SIFA_ECONFLICT, "db_constraint", details,
                                      "数据违反数据库约束（%s：%s）", what, msg);
    default:
        return sifa_error_set_details(err, SIFA_EINTERNAL, "db_error", details, "数据库错误（%s：%s）", what,
                                      msg);
    }
}

/* ---- connection ---- */

void sifa_db_config_init(struct sifa_db_config *cfg, const char *path)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->path = path;
    cfg->synchronous_full = true;
    cfg->busy_timeout_ms = DEFAULT_BUSY_TIMEOUT_MS;
    cfg->stmt_cache_size = DEFAULT_STMT_CACHE_SIZE;
}

const char *sifa_db_engine(const struct sifa_db *db)
{
    (void)db;
    return "sqlite";
}

/* Runs a PRAGMA that answers one row and copies its first column into buf (may be NULL). */
static int pragma_query(struct sifa_db *db, const char *sql, char *buf, size_t bufsize, struct sifa_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->handle, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(db, rc, "设置连接参数", err);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && buf != NULL) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        snprintf(buf, bufsize, "%s", v != NULL ? (const char *)v : "");
    } else if (rc == SQLITE_DONE && buf != NULL) {
        buf[0] = '\0';
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        int r = db_fail(db, rc, "设置连接参数", err);
        sqlite3_finalize(st);
        return r;
    }
    sqlite3_finalize(st);
    return 0;
}

static size_t next_pow2(size_t n)
{
    size_t p = 16;
    while (p < n)
        p <<= 1;
    return p;
}

static bool is_memory_path(const char *path)
{
    return strcmp(path, ":memory:") == 0 || path[0] == '\0';
}

/* Process-wide settings, once, before the first connection. Memory statistics off: with them on,
 * every SQLite allocation of every connection takes one global mutex that the writer and the
 * event loops' readers would share; sifa reports its own database counters instead. */
static pthread_once_t sqlite_configured = PTHREAD_ONCE_INIT;

static void configure_sqlite(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int sifa_db_open(const struct sifa_db_config *cfg, struct sifa_db **ret_db, struct sifa_error *err)
{
    if (cfg == NULL || cfg->path == NULL)
        return sifa_error_set(err, SIFA_EINVALID, "db_config", "未指定数据库文件路径");
    if (sqlite3_threadsafe() == 0)
        return sifa_error_set(err, SIFA_EINTERNAL, "db_error", "SQLite 库编译时未启用多线程支持");

    /* sqlite would report SQLITE_CANTOPEN for a missing file, which also covers permissions
     * and bad directories: check first so the common case gets an actionable message. */
    if (!cfg->create && !is_memory_path(cfg->path)) {
        struct stat sb;
        if (stat(cfg->path, &sb) != 0 && errno == ENOENT)
            return sifa_error_set(err, SIFA_ENOTFOUND, "db_missing",
                                  "数据库文件 %s 不存在，请先运行 `sifa init` 创建数据库", cfg->path);
    }

    pthread_once(&sqlite_configured, configure_sqlite);
    int flags = SQLITE_OPEN_NOMUTEX;
    if (cfg->readonly)
        flags |= SQLITE_OPEN_READONLY;
    else
        flags |= SQLITE_OPEN_READWRITE | (cfg->create ? SQLITE_OPEN_CREATE : 0);

    struct sifa_db *db = sifa_xcalloc(1, sizeof(*db));
    db->path = sifa_xstrdup(cfg->path);
    db->cache_size = cfg->stmt_cache_size ? cfg->stmt_cache_size : DEFAULT_STMT_CACHE_SIZE;
    size_t nb = next_pow2(db->cache_size * 2);
    db->buckets = sifa_xcalloc(nb, sizeof(*db->buckets));
    db->bucket_mask = nb - 1;

    int rc = sqlite3_open_v2(cfg->path, &db->handle, flags, NULL);
    if (rc != SQLITE_OK) {
        int r;
        if (db->handle == NULL) /* sqlite could not even allocate the handle */
            r = sifa_error_set(err, SIFA_EINTERNAL, "db_error", "无法打开数据库 %s：%s", cfg->path,
                               sqlite3_errstr(rc));
        else
            r = sifa_error_set(err, SIFA_EINTERNAL, "db_error", "无法打开数据库 %s：%s", cfg->path,
                               sqlite3_errmsg(db->handle));
        sifa_db_close(db);
        return r;
    }
    sqlite3_extended_result_codes(db->handle, 1);
    struct stat fst;
    if (!is_memory_path(cfg->path) && stat(cfg->path, &fst) == 0) {
        db->have_file_id = true;
        db->file_dev = fst.st_dev;
        db->file_ino = fst.st_ino;
    }
    sqlite3_busy_timeout(db->handle, cfg->busy_timeout_ms > 0 ? cfg->busy_timeout_ms : 0);

    char mode[32];
    int r = pragma_query(db, "PRAGMA foreign_keys = ON", NULL, 0, err);
    if (r >= 0) {
        /* A read-only connection cannot switch the journal mode; sifa init made the file WAL
         * and that setting is persistent, so readers only inherit it. */
        r = pragma_query(db, cfg->readonly ? "PRAGMA journal_mode" : "PRAGMA journal_mode = WAL", mode,
                         sizeof(mode), err);
        if (r >= 0 && !cfg->readonly && !is_memory_path(cfg->path) && strcmp(mode, "wal") != 0)
            r = sifa_error_set(err, SIFA_EINTERNAL, "db_error", "无法将数据库 %s 设为 WAL 模式（当前为 %s）",
                               cfg->path, mode);
    }
    if (r >= 0)
        r = pragma_query(db, cfg->synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                         NULL, 0, err);
    /* Statement journals and temporary tables stay in memory: they never need to survive a
     * crash (the WAL does), and on disk they cost a write for every statement of a batch. The
     * page cache is large enough that a group-commit batch does not spill to the WAL early. */
    if (r >= 0)
        r = pragma_query(db, "PRAGMA temp_store = MEMORY", NULL, 0, err);
    if (r >= 0)
        r = pragma_query(db, "PRAGMA cache_size = -32768", NULL, 0, err);
    /* When the log starts over it is cut back to this size on disk; without a limit it would keep
     * the largest size it ever reached (up to SIFA_DB_CHECKPOINT_LIMIT pages with a checkpointer). */
    if (r >= 0 && !cfg->readonly)
        r = pragma_query(db, "PRAGMA journal_size_limit = 16777216", NULL, 0, err);
    if (r < 0) {
        sifa_db_close(db);
        return r;
    }
    *ret_db = db;
    return 0;
}

static void stmt_free(struct sifa_db_stmt *st)
{
    sqlite3_finalize(st->handle);
    free(st->sql);
    free(st);
}

void sifa_db_close(struct sifa_db *db)
{
    if (db == NULL)
        return;
    for (struct sifa_db_stmt *st = db->idle_head, *next; st != NULL; st = next) {
        next = st->next;
        stmt_free(st);
    }
    /* Checked-out statements at close are a caller bug; finalize them anyway so the
     * connection closes and nothing leaks. */
    for (struct sifa_db_stmt *st = db->busy_head, *next; st != NULL; st = next) {
        next = st->next;
        stmt_free(st);
    }
    sqlite3_close_v2(db->handle); /* accepts NULL */
    free(db->commit_hook);
    free(db->buckets);
    free(db->path);
    free(db);
}

/* ---- statement cache ---- */

/* FNV-1a: the key is short SQL text, collisions are resolved by comparing the text. */
static uint64_t sql_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3u;
    }
    return h;
}

static void list_unlink(struct sifa_db_stmt **head, struct sifa_db_stmt **tail, struct sifa_db_stmt *st)
{
    if (st->prev != NULL)
        st->prev->next = st->next;
    else
        *head = st->next;
    if (st->next != NULL)
        st->next->prev = st->prev;
    else if (tail != NULL)
        *tail = st->prev;
    st->prev = st->next = NULL;
}

static void list_push_front(struct sifa_db_stmt **head, struct sifa_db_stmt **tail, struct sifa_db_stmt *st)
{
    st->prev = NULL;
    st->next = *head;
    if (*head != NULL)
        (*head)->prev = st;
    else if (tail != NULL)
        *tail = st;
    *head = st;
}

static void bucket_remove(struct sifa_db *db, struct sifa_db_stmt *st)
{
    struct sifa_db_stmt **pp = &db->buckets[st->hash & db->bucket_mask];
    while (*pp != st) {
        assert(*pp != NULL);
        pp = &(*pp)->hnext;
    }
    *pp = st->hnext;
    st->hnext = NULL;
}

/* Takes an idle statement out of the cache (LRU list and index) and checks it out. */
static void stmt_checkout(struct sifa_db *db, struct sifa_db_stmt *st)
{
    assert(!st->in_use);
    bucket_remove(db, st);
    list_unlink(&db->idle_head, &db->idle_tail, st);
    db->idle_count--;
    st->in_use = true;
    list_push_front(&db->busy_head, NULL, st);
}

static bool only_space(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

int sifa_db_prepare(struct sifa_db *db, const char *sql, struct sifa_db_stmt **ret_stmt, struct sifa_error *err)
{
    size_t len = strlen(sql);
    uint64_t h = sql_hash(sql, len);

    for (struct sifa_db_stmt *st = db->buckets[h & db->bucket_mask]; st != NULL; st = st->hnext) {
        if (st->hash == h && st->sql_len == len && memcmp(st->sql, sql, len) == 0) {
            stmt_checkout(db, st);
            db->stats.statement_cache_hits++;
            *ret_stmt = st;
            return 0;
        }
    }

    sqlite3_stmt *handle = NULL;
    const char *tail = NULL;
    if (len > INT32_MAX - 1)
        return sifa_error_set(err, SIFA_ELIMIT, "db_sql_too_long", "SQL 语句过长");
    int rc = sqlite3_prepare_v3(db->handle, sql, (int)len + 1, SQLITE_PREPARE_PERSISTENT, &handle, &tail);
    if (rc != SQLITE_OK)
        return db_fail(db, rc, "编译 SQL 语句", err);
    if (handle == NULL) {
        db->stats.errors++;
        return sifa_error_set(err, SIFA_EINVALID, "db_empty_sql", "SQL 语句为空");
    }
    if (tail != NULL && !only_space(tail)) {
        /* Only the first statement would run; refuse rather than silently drop the rest. */
        sqlite3_finalize(handle);
        db->stats.errors++;
        return sifa_error_set(err, SIFA_EINVALID, "db_multi_statement",
                              "sifa_db_prepare 只接受一条 SQL 语句，多条语句请用 sifa_db_exec");
    }
    db->stats.statements_prepared++;

    struct sifa_db_stmt *st = sifa_xcalloc(1, sizeof(*st));
    st->db = db;
    st->handle = handle;
    st->sql = sifa_xstrndup(sql, len);
    st->sql_len = len;
    st->hash = h;
    st->in_use = true;
    list_push_front(&db->busy_head, NULL, st);
    *ret_stmt = st;
    return 0;
}

void sifa_db_stmt_done(struct sifa_db_stmt *st)
{
    if (st == NULL)
        return;
    struct sifa_db *db = st->db;
    assert(st->in_use);
    sqlite3_reset(st->handle); /* the step that failed already reported its error */
    sqlite3_clear_bindings(st->handle);
    st->bind_rc = 0;
    st->bind_idx = 0;
    list_unlink(&db->busy_head, NULL, st);
    st->in_use = false;

    list_push_front(&db->idle_head, &db->idle_tail, st);
    size_t b = st->hash & db->bucket_mask;
    st->hnext = db->buckets[b];
    db->buckets[b] = st;
    db->idle_count++;

    while (db->idle_count > db->cache_size) {
        struct sifa_db_stmt *old = db->idle_tail;
        bucket_remove(db, old);
        list_unlink(&db->idle_head, &db->idle_tail, old);
        db->idle_count--;
        stmt_free(old);
    }
}

/* ---- binding ---- */

static int bind_result(struct sifa_db_stmt *st, int idx, int rc)
{
    if (rc == SQLITE_OK)
        return 0;
    st->db->stats.errors++;
    if (st->bind_rc == 0) {
        st->bind_rc = rc;
        st->bind_idx = idx;
    }
    switch (rc & 0xff) {
    case SQLITE_RANGE:
        return SIFA_EINVALID;
    case SQLITE_TOOBIG:
        return SIFA_ELIMIT;
    default:
        return SIFA_EINTERNAL;
    }
}

int sifa_db_bind_null(struct sifa_db_stmt *st, int idx)
{
    return bind_result(st, idx, sqlite3_bind_null(st->handle, idx));
}

int sifa_db_bind_int64(struct sifa_db_stmt *st, int idx, int64_t v)
{
    return bind_result(st, idx, sqlite3_bind_int64(st->handle, idx, (sqlite3_int64)v));
}

int sifa_db_bind_double(struct sifa_db_stmt *st, int idx, double v)
{
    return bind_result(st, idx, sqlite3_bind_double(st->handle, idx, v));
}

int sifa_db_bind_text(struct sifa_db_stmt *st, int idx, const char *s, ssize_t len)
{
    if (s == NULL)
        return sifa_db_bind_null(st, idx);
    size_t n = len < 0 ? strlen(s) : (size_t)len;
    return bind_result(st, idx, sqlite3_bind_text64(st->handle, idx, s, n, SQLITE_TRANSIENT, SQLITE_UTF8));
}

int sifa_db_bind_blob(struct sifa_db_stmt *st, int idx, const void *p, size_t len)
{
    /* sqlite binds NULL for a NULL pointer; an empty blob is a value, not NULL. */
    if (len == 0 || p == NULL)
        return bind_result(st, idx, sqlite3_bind_zeroblob(st->handle, idx, 0));
    return bind_result(st, idx, sqlite3_bind_blob64(st->handle, idx, p, len, SQLITE_TRANSIENT));
}

/* ---- stepping and columns ---- */

int sifa_db_step(struct sifa_db_stmt *st, struct sifa_error *err)
{
    struct sifa_db *db = st->db;
    if (st->bind_rc != 0) {
        /* Callers rarely check every bind; a statement with a failed bind never runs. */
        int status = (st->bind_rc & 0xff) == SQLITE_RANGE ? SIFA_EINVALID
                     : (st->bind_rc & 0xff) == SQLITE_TOOBIG ? SIFA_ELIMIT
                                                             : SIFA_EINTERNAL;
        return sifa_error_set(err, status, "db_bind", "绑定第 %d 个参数失败：%s", st->bind_idx,
                              sqlite3_errstr(st->bind_rc));
    }
    db->stats.steps++;
    int rc = sqlite3_step(st->handle);
    if (rc == SQLITE_ROW)
        return SIFA_DB_ROW;
    if (rc == SQLITE_DONE)
        return SIFA_DB_DONE;
    return db_fail(db, rc, "执行 SQL 语句", err);
}

static bool col_ok(struct sifa_db_stmt *st, int col)
{
    return col >= 0 && col < sqlite3_column_count(st->handle);
}

int sifa_db_column_count(struct sifa_db_stmt *st)
{
    return sqlite3_column_count(st->handle);
}

enum sifa_db_type sifa_db_column_type(struct sifa_db_stmt *st, int col)
{
    if (!col_ok(st, col))
        return SIFA_DB_NULL;
    switch (sqlite3_column_type(st->handle, col)) {
    case SQLITE_INTEGER:
        return SIFA_DB_INTEGER;
    case SQLITE_FLOAT:
        return SIFA_DB_FLOAT;
    case SQLITE_TEXT:
        return SIFA_DB_TEXT;
    case SQLITE_BLOB:
        return SIFA_DB_BLOB;
    default:
        return SIFA_DB_NULL;
    }
}

const char *sifa_db_column_name(struct sifa_db_stmt *st, int col)
{
    return col_ok(st, col) ? sqlite3_column_name(st->handle, col) : NULL;
}

int64_t sifa_db_column_int64(struct sifa_db_stmt *st, int col)
{
    return col_ok(st, col) ? (int64_t)sqlite3_column_int64(st->handle, col) : 0;
}

double sifa_db_column_double(struct sifa_db_stmt *st, int col)
{
    return col_ok(st, col) ? sqlite3_column_double(st->handle, col) : 0.0;
}

const char *sifa_db_column_text(struct sifa_db_stmt *st, int col)
{
    return col_ok(st, col) ? (const char *)sqlite3_column_text(st->handle, col) : NULL;
}

const void *sifa_db_column_blob(struct sifa_db_stmt *st, int col)
{
    return col_ok(st, col) ? sqlite3_column_blob(st->handle, col) : NULL;
}

size_t sifa_db_column_bytes(struct sifa_db_stmt *st, int col)
{
    return col_ok(st, col) ? (size_t)sqlite3_column_bytes(st->handle, col) : 0;
}

int64_t sifa_db_changes(struct sifa_db *db)
{
    return (int64_t)sqlite3_changes64(db->handle);
}

bool sifa_db_in_transaction(struct sifa_db *db)
{
    return sqlite3_get_autocommit(db->handle) == 0;
}

int64_t sifa_db_total_changes(struct sifa_db *db)
{
    return (int64_t)sqlite3_total_changes64(db->handle);
}

bool sifa_db_in_memory(const struct sifa_db *db)
{
    return is_memory_path(db->path);
}

int64_t sifa_db_last_insert_id(struct sifa_db *db)
{
    return (int64_t)sqlite3_last_insert_rowid(db->handle);
}

/* ---- exec, transactions ---- */

const char *sifa_db_sql_auto_id(const struct sifa_db *db)
{
    (void)db;
    return "INTEGER PRIMARY KEY";
}

bool sifa_db_upsert_repeats_keys(const struct sifa_db *db)
{
    (void)db;
    return true;
}

static bool identifier_ok(const char *s)
{
    if (s == NULL || !(*s >= 'a' && *s <= 'z'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

int sifa_db_search_sql(const struct sifa_db *db, enum sifa_db_search_op op, const char *index, const char *select,
                       char *buf, size_t size, struct sifa_error *err)
{
    (void)db;
    if (!identifier_ok(index))
        return sifa_error_set(err, SIFA_EINVALID, "db_bad_name", "检索索引名 \"%s\" 不合法", index ? index : "");
    int n = -1;
    switch (op) {
    case SIFA_DB_SEARCH_CREATE:
    case SIFA_DB_SEARCH_CREATE_IF_MISSING:
        n = snprintf(buf, size, "CREATE VIRTUAL TABLE %s%s USING fts5(body, tokenize = 'trigram')",
                     op == SIFA_DB_SEARCH_CREATE_IF_MISSING ? "IF NOT EXISTS " : "", index);
        break;
    case SIFA_DB_SEARCH_CLEAR:
        n = snprintf(buf, size, "DELETE FROM %s", index);
        break;
    case SIFA_DB_SEARCH_INSERT:
        n = snprintf(buf, size, "INSERT INTO %s (rowid, body) VALUES (?, ?)", index);
        break;
    case SIFA_DB_SEARCH_INSERT_SELECT:
        if (select != NULL)
            n = snprintf(buf, size, "INSERT INTO %s (rowid, body) %s", index, select);
        break;
    case SIFA_DB_SEARCH_DELETE_SELECT:
        if (select != NULL)
            n = snprintf(buf, size, "DELETE FROM %s WHERE rowid IN (%s)", index, select);
        break;
    }
    if (n < 0)
        return sifa_error_set(err, SIFA_EINVALID, "db_bad_search_op", "检索索引操作不合法");
    if ((size_t)n >= size)
        return sifa_error_set(err, SIFA_ELIMIT, "db_sql_too_long", "SQL 语句过长");
    return 0;
}

int sifa_db_search_match(const struct sifa_db *db, const char *index, const char *word, char *buf, size_t size,
                         char **ret_param, struct sifa_error *err)
{
    (void)db;
    if (!identifier_ok(index))
        return sifa_error_set(err, SIFA_EINVALID, "db_bad_name", "检索索引名 \"%s\" 不合法", index ? index : "");
    size_t len = word ? strlen(word) : 0, chars = 0;
    if (len < 2 || len > 256)
        return sifa_error_set(err, SIFA_EINVALID, "db_bad_search_word", "检索词应为 2 到 256 字节");
    for (size_t k = 0; k < len; k++)
        chars += ((unsigned char)word[k] & 0xc0) != 0x80;
    /* The trigram index answers three characters and more, as one quoted phrase (a quote doubled);
     * shorter words (张三, 离婚) are a LIKE over the index's own text, with % _ \ escaped. */
    bool phrase = chars >= 3;
    char *param = sifa_xmalloc(len * 2 + 3), *q = param;
    *q++ = phrase ? '"' : '%';
    for (const char *p = word; *p; p++) {
        if (phrase && *p == '"')
            *q++ = '"';
        else if (!phrase && (*p == '%' || *p == '_' || *p == '\\'))
            *q++ = '\\';
        *q++ = *p;
    }
    *q++ = phrase ? '"' : '%';
    *q = '\0';
    int n = phrase ? snprintf(buf, size, "SELECT rowid FROM %s WHERE %s MATCH ?", index, index)
                   : snprintf(buf, size, "SELECT rowid FROM %s WHERE body LIKE ? ESCAPE '\\'", index);
    if (n < 0 || (size_t)n >= size) {
        free(param);
        return sifa_error_set(err, SIFA_ELIMIT, "db_sql_too_long", "SQL 语句过长");
    }
    *ret_param = param;
    return 0;
}

int sifa_db_exec(struct sifa_db *db, const char *sql, struct sifa_error *err)
{
    int rc = sqlite3_exec(db->handle, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_fail(db, rc, "执行 SQL", err);
    return 0;
}

/* Runs one parameterless statement through the cache: transaction control runs once per
 * request (and per job in the writer), so it is worth not compiling it each time. */
static int run_simple(struct sifa_db *db, const char *sql, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, sql, &st, err);
    if (r < 0)
        return r;
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return r < 0 ? r : 0;
}

int sifa_db_begin(struct sifa_db *db, struct sifa_error *err)
{
    return run_simple(db, "BEGIN IMMEDIATE", err);
}

int sifa_db_commit(struct sifa_db *db, struct sifa_error *err)
{
    return run_simple(db, "COMMIT", err);
}

int sifa_db_rollback(struct sifa_db *db, struct sifa_error *err)
{
    return run_simple(db, "ROLLBACK", err);
}

static bool savepoint_name_ok(const char *name)
{
    if (name == NULL || !(name[0] >= 'a' && name[0] <= 'z'))
        return false;
    size_t i = 1;
    for (; name[i] != '\0'; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return i <= SAVEPOINT_NAME_MAX;
}

/* The name is spliced into SQL (savepoints take no parameters), hence the strict check. */
static int savepoint_cmd(struct sifa_db *db, const char *verb, const char *name, struct sifa_error *err)
{
    if (!savepoint_name_ok(name))
        return sifa_error_set(err, SIFA_EINVALID, "db_bad_savepoint",
                              "保存点名称无效（须匹配 [a-z][a-z0-9_]*，最长 %d 个字符）", SAVEPOINT_NAME_MAX);
    char sql[32 + SAVEPOINT_NAME_MAX];
    snprintf(sql, sizeof(sql), "%s %s", verb, name);
    return run_simple(db, sql, err);
}

int sifa_db_savepoint(struct sifa_db *db, const char *name, struct sifa_error *err)
{
    return savepoint_cmd(db, "SAVEPOINT", name, err);
}

int sifa_db_release(struct sifa_db *db, const char *name, struct sifa_error *err)
{
    return savepoint_cmd(db, "RELEASE", name, err);
}

int sifa_db_rollback_to(struct sifa_db *db, const char *name, struct sifa_error *err)
{
    return savepoint_cmd(db, "ROLLBACK TO", name, err);
}

int sifa_db_checkpoint(struct sifa_db *db, int *ret_log_pages, int *ret_copied_pages, struct sifa_error *err)
{
    int log = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(db->handle, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (ret_log_pages != NULL)
        *ret_log_pages = log;
    if (ret_copied_pages != NULL)
        *ret_copied_pages = copied;
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) /* extended codes are on */
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "db_checkpoint_busy", "另一个检查点正在进行");
    return rc == SQLITE_OK ? 0 : db_fail(db, rc, "检查点", err);
}

struct commit_hook {
    void (*fn)(void *ctx, int log_pages);
    void *ctx;
};

static int on_wal_commit(void *arg, sqlite3 *handle, const char *schema, int log_pages)
{
    (void)handle;
    (void)schema;
    const struct commit_hook *h = arg;
    h->fn(h->ctx, log_pages);
    return SQLITE_OK;
}

void sifa_db_on_commit(struct sifa_db *db, void (*fn)(void *ctx, int log_pages), void *ctx)
{
    /* The hook's argument lives in the connection so that it needs no owner of its own. */
    free(db->commit_hook);
    db->commit_hook = NULL;
    if (fn == NULL) {
        sqlite3_wal_autocheckpoint(db->handle, 1000); /* SQLite's default */
        return;
    }
    db->commit_hook = sifa_xmalloc(sizeof(*db->commit_hook));
    *db->commit_hook = (struct commit_hook){fn, ctx};
    sqlite3_wal_hook(db->handle, on_wal_commit, db->commit_hook); /* replaces the automatic checkpoints */
}

/* Three cheap checks, each catching what the others cannot. A query alone is not enough: SQLite
 * answers it from the connection's page cache, which in WAL mode stays valid for as long as the
 * WAL is unchanged, so a truncated, overwritten or unreadable file goes unnoticed until a page
 * falls out of the cache. Hence also one read of the file's 100-byte header through the
 * connection's own file handle (the VFS's xRead: a pread, bypassing the page cache; served from
 * the OS cache in practice), and a stat of the path (a file deleted or renamed away leaves the
 * connection writing to a file nobody will ever read again). */
int sifa_db_ping(struct sifa_db *db, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, "SELECT count(*) FROM sqlite_master", &st, err);
    if (r < 0)
        return r;
    r = sifa_db_step(st, err);
    if (r == SIFA_DB_ROW && sifa_db_column_int64(st, 0) < 1)
        r = sifa_error_set(err, SIFA_EUNAVAILABLE, "db_unreadable", "数据库中没有任何表");
    sifa_db_stmt_done(st);
    if (r < 0)
        return r;
    if (is_memory_path(db->path))
        return 0;

    sqlite3_file *file = NULL;
    if (sqlite3_file_control(db->handle, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || file == NULL ||
        file->pMethods == NULL)
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "db_unreadable", "无法取得数据库文件 %s 的句柄", db->path);
    unsigned char header[100];
    int rc = file->pMethods->xRead(file, header, sizeof(header), 0);
    if (rc != SQLITE_OK)
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "db_unreadable", "无法读取数据库文件 %s:%s", db->path,
                              rc == SQLITE_IOERR_SHORT_READ ? "文件被截断" : sqlite3_errstr(rc));
    if (memcmp(header, "SQLite format 3", 16) != 0)
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "db_unreadable", "数据库文件 %s 的文件头已损坏", db->path);

    struct stat fst;
    if (db->have_file_id &&
        (stat(db->path, &fst) != 0 || fst.st_dev != db->file_dev || fst.st_ino != db->file_ino))
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "db_replaced",
                              "数据库文件 %s 已被删除或替换,服务仍在使用原来的文件,请重启服务", db->path);
    return 0;
}

/* ---- backup, integrity ---- */

int sifa_db_backup(struct sifa_db *db, const char *dest_path, struct sifa_error *err)
{
    /* O_EXCL makes "refuse an existing file" race-free; sqlite accepts the empty file. 0600:
     * the copy holds the same personal data as the database. */
    int fd = open(dest_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return sifa_error_set(err, SIFA_ECONFLICT, "backup_exists", "备份目标 %s 已存在，不会覆盖", dest_path);
        char ebuf[128]; /* strerror is not thread-safe; this is GNU strerror_r (_GNU_SOURCE) */
        return sifa_error_set(err, SIFA_EINTERNAL, "backup_failed", "无法创建备份文件 %s：%s", dest_path,
                              strerror_r(errno, ebuf, sizeof(ebuf)));
    }
    close(fd);

    sqlite3 *dest = NULL;
    int rc = sqlite3_open_v2(dest_path, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    int r = 0;
    if (rc != SQLITE_OK) {
        r = sifa_error_set(err, SIFA_EINTERNAL, "backup_failed", "无法打开备份文件 %s：%s", dest_path,
                           dest != NULL ? sqlite3_errmsg(dest) : sqlite3_errstr(rc));
        goto out;
    }
    sqlite3_backup *b = sqlite3_backup_init(dest, "main", db->handle, "main");
    if (b == NULL) {
        r = sifa_error_set(err, SIFA_EINTERNAL, "backup_failed", "无法开始备份：%s", sqlite3_errmsg(dest));
        goto out;
    }
    /* One step copies every page under a single read transaction: in WAL mode that is a
     * consistent snapshot and writers are not blocked meanwhile. */
    int tries = 0;
    for (;;) {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_DONE)
            break;
        if (((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) && ++tries < BACKUP_MAX_RETRIES) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        break;
    }
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        db->stats.errors++;
        if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
            db->stats.busy++;
            r = sifa_error_set(err, SIFA_EUNAVAILABLE, "db_busy", "数据库繁忙，备份未完成：%s", sqlite3_errstr(rc));
        } else {
            r = sifa_error_set(err, SIFA_EINTERNAL, "backup_failed", "备份到 %s 失败：%s", dest_path,
                               sqlite3_errmsg(dest));
        }
    }
out:
    rc = sqlite3_close(dest);
    if (r == 0 && rc != SQLITE_OK)
        r = sifa_error_set(err, SIFA_EINTERNAL, "backup_failed", "关闭备份文件 %s 失败：%s", dest_path,
                           sqlite3_errstr(rc));
    if (r < 0)
        unlink(dest_path);
    return r;
}

int sifa_db_integrity_check(struct sifa_db *db, struct sifa_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->handle, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(db, rc, "完整性检查", err);
    rc = sqlite3_step(st);
    int r = 0;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (v == NULL || strcmp(v, "ok") != 0) {
            db->stats.errors++;
            r = sifa_error_set(err, SIFA_EINTERNAL, "db_corrupt", "数据库完整性检查未通过：%s",
                               v != NULL ? v : "（无说明）");
        }
    } else if (rc == SQLITE_DONE) {
        r = sifa_error_set(err, SIFA_EINTERNAL, "db_corrupt", "数据库完整性检查没有返回结果");
    } else {
        /* SQLITE_CORRUPT while checking is itself the answer: keep the code callers test. */
        r = db_fail(db, rc, "完整性检查", err);
        if (r == SIFA_EINTERNAL && err != NULL)
            snprintf(err->code, sizeof(err->code), "%s", "db_corrupt");
    }
    sqlite3_finalize(st);
    return r;
}

void sifa_db_get_stats(const struct sifa_db *db, struct sifa_db_stats *ret_stats)
{
    *ret_stats = db->stats;
}
