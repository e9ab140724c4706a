/* test_db.c — unit tests for the db layer (sqlite.c, migrations.c, writer.c) against real
 * database files in a fresh temporary directory per test. Covers opening and pragmas,
 * migrations, value round trips, the statement cache, error mapping, transactions and
 * savepoints, backup and integrity check, and the group-commit writer under concurrency. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "db/db.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/sifa_test_db.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/sifa.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    DIR *d = opendir(f->dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[512];
            snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static struct sifa_db *open_db(const char *path, bool create)
{
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, path);
    cfg.create = create;
    struct sifa_db *db = NULL;
    struct sifa_error err = {0};
    int r = sifa_db_open(&cfg, &db, &err);
    if (r < 0)
        fail_msg("open %s: %s %s", path, err.code, err.message);
    sifa_error_release(&err);
    return db;
}

static void exec_ok(struct sifa_db *db, const char *sql)
{
    struct sifa_error err = {0};
    int r = sifa_db_exec(db, sql, &err);
    if (r < 0)
        fail_msg("exec %s: %s %s", sql, err.code, err.message);
    sifa_error_release(&err);
}

static int64_t query_int(struct sifa_db *db, const char *sql)
{
    struct sifa_db_stmt *st;
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_prepare(db, sql, &st, &err), 0);
    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_ROW);
    int64_t v = sifa_db_column_int64(st, 0);
    sifa_db_stmt_done(st);
    return v;
}

static void query_text(struct sifa_db *db, const char *sql, char *buf, size_t size)
{
    struct sifa_db_stmt *st;
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_prepare(db, sql, &st, &err), 0);
    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_ROW);
    const char *v = sifa_db_column_text(st, 0);
    snprintf(buf, size, "%s", v != NULL ? v : "(null)");
    sifa_db_stmt_done(st);
}

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* ---- open ---- */

static void test_open_missing(void **state)
{
    struct fixture *f = *state;
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, f->path);
    struct sifa_db *db = (struct sifa_db *)0x1;
    struct sifa_error err = {0};

    assert_int_equal(sifa_db_open(&cfg, &db, &err), SIFA_ENOTFOUND);
    assert_string_equal(err.code, "db_missing");
    assert_non_null(strstr(err.message, "sifa init"));
    assert_non_null(strstr(err.message, "不存在"));
    assert_ptr_equal(db, (struct sifa_db *)0x1); /* ret_ untouched on failure */
    assert_false(file_exists(f->path));
    sifa_error_release(&err);

    cfg.readonly = true;
    assert_int_equal(sifa_db_open(&cfg, &db, &err), SIFA_ENOTFOUND);
    assert_string_equal(err.code, "db_missing");
    sifa_error_release(&err);

    struct sifa_db_writer *w = NULL;
    assert_int_equal(sifa_db_writer_start(&cfg, 0, &w, &err), SIFA_EINVALID); /* readonly */
    sifa_error_release(&err);
    cfg.readonly = false;
    assert_int_equal(sifa_db_writer_start(&cfg, 0, &w, &err), SIFA_ENOTFOUND);
    assert_string_equal(err.code, "db_missing");
    assert_null(w);
    sifa_error_release(&err);

    sifa_db_close(NULL);
}

static void test_open_pragmas(void **state)
{
    struct fixture *f = *state;
    char buf[64];

    struct sifa_db *db = open_db(f->path, true);
    assert_true(file_exists(f->path));
    assert_string_equal(sifa_db_engine(db), "sqlite");
    query_text(db, "PRAGMA journal_mode", buf, sizeof(buf));
    assert_string_equal(buf, "wal");
    assert_int_equal(query_int(db, "PRAGMA synchronous"), 2); /* FULL */
    assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(db, "PRAGMA busy_timeout"), 5000);
    exec_ok(db, "CREATE TABLE t (x INTEGER)");
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_ping(db, &err), 0);
    sifa_db_close(db);

    /* synchronous NORMAL when asked; an existing file opens without create. */
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, f->path);
    cfg.synchronous_full = false;
    cfg.busy_timeout_ms = 250;
    assert_int_equal(sifa_db_open(&cfg, &db, &err), 0);
    assert_int_equal(query_int(db, "PRAGMA synchronous"), 1);
    assert_int_equal(query_int(db, "PRAGMA busy_timeout"), 250);
    sifa_db_close(db);

    /* Read-only: reads work, writes fail, journal mode is inherited. */
    sifa_db_config_init(&cfg, f->path);
    cfg.readonly = true;
    assert_int_equal(sifa_db_open(&cfg, &db, &err), 0);
    query_text(db, "PRAGMA journal_mode", buf, sizeof(buf));
    assert_string_equal(buf, "wal");
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 0);
    assert_int_equal(sifa_db_exec(db, "INSERT INTO t VALUES (1)", &err), SIFA_EINTERNAL);
    assert_string_equal(err.code, "db_error");
    assert_non_null(strstr(err.message, "数据库错误"));
    sifa_error_release(&err);
    sifa_db_close(db);

    /* A file that is not a database. */
    char junk[160];
    snprintf(junk, sizeof(junk), "%s/junk.db", f->dir);
    FILE *fp = fopen(junk, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an sqlite database ", fp);
    fclose(fp);
    sifa_db_config_init(&cfg, junk);
    db = (struct sifa_db *)0x1;
    assert_int_equal(sifa_db_open(&cfg, &db, &err), SIFA_EINTERNAL);
    assert_ptr_equal(db, (struct sifa_db *)0x1);
    sifa_error_release(&err);
}

/* ---- migrations ---- */

static void test_migrate(void **state)
{
    struct fixture *f = *state;
    struct sifa_db *db = open_db(f->path, true);
    struct sifa_error err = {0};

    assert_int_equal(sifa_db_core_migrations_count, 5);
    assert_int_equal(sifa_db_core_migrations[0].version, 1);
    assert_string_equal(sifa_db_core_migrations[0].name, "core");
    assert_int_equal(sifa_db_core_migrations[1].version, 2);
    assert_string_equal(sifa_db_core_migrations[1].name, "records");
    assert_int_equal(sifa_db_core_migrations[2].version, 3);
    assert_string_equal(sifa_db_core_migrations[2].name, "files");
    assert_int_equal(sifa_db_core_migrations[3].version, 6); /* 4 and 5 are the auth layer's */
    assert_string_equal(sifa_db_core_migrations[3].name, "aggregates");
    assert_int_equal(sifa_db_core_migrations[4].version, 8); /* 7 is the report layer's */
    assert_string_equal(sifa_db_core_migrations[4].name, "record_files");

    assert_int_equal(sifa_db_migrate(db, sifa_db_core_migrations, sifa_db_core_migrations_count, &err), 0);
    assert_int_equal(sifa_db_migrate(db, sifa_db_core_migrations, sifa_db_core_migrations_count, &err), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migrations"), 5);
    char buf[64];
    query_text(db, "SELECT name FROM schema_migrations WHERE version = 1", buf, sizeof(buf));
    assert_string_equal(buf, "core");
    query_text(db, "SELECT applied_at FROM schema_migrations WHERE version = 1", buf, sizeof(buf));
    assert_int_equal(strlen(buf), 20); /* 2024-01-02T03:04:05Z */
    assert_int_equal(buf[10], 'T');

    /* The core tables exist and their constraints hold. */
    exec_ok(db, "INSERT INTO kv_settings (key, value, updated_at) VALUES ('k', '值', 'now')");
    exec_ok(db, "INSERT INTO jobs (id, kind, state, created_at) VALUES ('j1', 'report', 'queued', 'now')");
    assert_int_equal(sifa_db_exec(db, "INSERT INTO jobs (id, kind, state, created_at) VALUES ('j2', 'x', 'bogus', 'now')",
                                  &err),
                     SIFA_ECONFLICT);
    assert_string_equal(err.code, "db_constraint");
    sifa_error_release(&err);

    /* A recorded version under another name is refused, and nothing changes. */
    const struct sifa_db_migration renamed[] = {{1, "core_renamed", "CREATE TABLE should_not_exist (x INTEGER)"}};
    assert_int_equal(sifa_db_migrate(db, renamed, 1, &err), SIFA_ECONFLICT);
    assert_string_equal(err.code, "db_migration_mismatch");
    assert_non_null(strstr(err.message, "core_renamed"));
    sifa_error_release(&err);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'should_not_exist'"), 0);

    /* A failing migration leaves nothing behind: neither its first statement nor its record. */
    const struct sifa_db_migration more[] = {
        {1, "core", "not run"},
        {2, "records", "not run"},
        {3, "files", "not run"},
        {10, "good", "CREATE TABLE t2 (x INTEGER)"},
        {11, "bad", "CREATE TABLE t3 (x INTEGER); INSERT INTO no_such_table VALUES (1)"},
        {12, "after", "CREATE TABLE t4 (x INTEGER)"},
    };
    assert_int_equal(sifa_db_migrate(db, more, SIFA_ARRAY_SIZE(more), &err), SIFA_EINTERNAL);
    assert_non_null(strstr(err.message, "数据库迁移 11（bad）失败"));
    sifa_error_release(&err);
    assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migrations"), 6); /* the core's 5 and "good" */
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('t3', 't4')"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 't2'"), 1);

    /* Unordered or duplicate versions are a programming error. */
    const struct sifa_db_migration unordered[] = {{10, "good", "x"}, {1, "core", "x"}};
    assert_int_equal(sifa_db_migrate(db, unordered, 2, &err), SIFA_EINVALID);
    sifa_error_release(&err);

    /* The records survive reopening. */
    sifa_db_close(db);
    db = open_db(f->path, false);
    assert_int_equal(sifa_db_migrate(db, more, 4, &err), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migrations"), 6);
    sifa_db_close(db);
}

/* ---- values ---- */

/* Counts the ids of index whose body contains word, through sifa_db_search_match. */
static int64_t search_count(struct sifa_db *db, const char *index, const char *word)
{
    struct sifa_error err = {0};
    char sub[256], sql[320], *param = NULL;
    assert_int_equal(sifa_db_search_match(db, index, word, sub, sizeof(sub), &param, &err), 0);
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM (%s)", sub);
    struct sifa_db_stmt *st;
    assert_int_equal(sifa_db_prepare(db, sql, &st, &err), 0);
    sifa_db_bind_text(st, 1, param, -1);
    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_ROW);
    int64_t n = sifa_db_column_int64(st, 0);
    sifa_db_stmt_done(st);
    free(param);
    return n;
}

/* Search indexes through the engine-neutral texts: create, insert, insert from a query, delete by
 * a query, clear; words of three characters and more, two-character words, quotes and LIKE's
 * special characters as plain text; bad names refused before any SQL. */
static void test_search_index(void **state)
{
    struct fixture *f = *state;
    struct sifa_db *db = open_db(f->path, true);
    struct sifa_error err = {0};
    char sql[512];
    assert_int_equal(sifa_db_search_sql(db, SIFA_DB_SEARCH_CREATE, "idx", NULL, sql, sizeof(sql), &err), 0);
    exec_ok(db, sql);
    assert_int_equal(sifa_db_search_sql(db, SIFA_DB_SEARCH_CREATE_IF_MISSING, "idx", NULL, sql, sizeof(sql), &err), 0);
    exec_ok(db, sql);
    assert_int_equal(sifa_db_search_sql(db, SIFA_DB_SEARCH_INSERT, "idx", NULL, sql, sizeof(sql), &err), 0);
    const char *bodies[] = {"张三与李四相邻通行纠纷", "婚姻家庭纠纷 王五", "100%_\"引号\"纠纷"};
    for (int i = 0; i < 3; i++) {
        struct sifa_db_stmt *st;
        assert_int_equal(sifa_db_prepare(db, sql, &st, &err), 0);
        sifa_db_bind_int64(st, 1, i + 1);
        sifa_db_bind_text(st, 2, bodies[i], -1);
        assert_int_equal(sifa_db_step(st, &err), SIFA_DB_DONE);
        sifa_db_stmt_done(st);
    }
    assert_int_equal(search_count(db, "idx", "纠纷"), 3);      /* two characters */
    assert_int_equal(search_count(db, "idx", "张三"), 1);
    assert_int_equal(search_count(db, "idx", "婚姻家庭"), 1);  /* through the trigram index */
    assert_int_equal(search_count(db, "idx", "通行纠纷"), 1);
    assert_int_equal(search_count(db, "idx", "不存在的词"), 0);
    assert_int_equal(search_count(db, "idx", "0%"), 1);       /* % is a character, not a wildcard */
    assert_int_equal(search_count(db, "idx", "%_"), 1);
    assert_int_equal(search_count(db, "idx", "纠%"), 0);
    assert_int_equal(search_count(db, "idx", "\"引号\""), 1); /* quotes inside a phrase */

    exec_ok(db, "CREATE TABLE gone (id INTEGER)");
    exec_ok(db, "INSERT INTO gone VALUES (1), (3)");
    assert_int_equal(sifa_db_search_sql(db, SIFA_DB_SEARCH_DELETE_SELECT, "idx", "SELECT id FROM gone", sql,
                                        sizeof(sql), &err), 0);
    exec_ok(db, sql);
    assert_int_equal(search_count(db, "idx", "纠纷"), 1);
    assert_int_equal(sifa_db_search_sql(db, SIFA_DB_SEARCH_INSERT_SELECT, "idx",
                                        "SELECT id, '重新加入的纠纷' FROM gone", sql, sizeof(sql), &err), 0);
    exec_ok(db, sql);
    assert_int_equal(search_count(db, "idx", "重新加入"), 2);
    assert_int_equal(sifa_db_search_sql(db, SIFA_DB_SEARCH_CLEAR, "idx", NULL, sql, sizeof(sql), &err), 0);
    exec_ok(db, sql);
    assert_int_equal(search_count(db, "idx", "纠纷"), 0);

    /* names are identifiers; words 2 to 256 bytes; a statement that does not fit is refused */
    assert_int_equal(sifa_db_search_sql(db, SIFA_DB_SEARCH_CLEAR, "idx; DROP", NULL, sql, sizeof(sql), &err),
                     SIFA_EINVALID);
    sifa_error_release(&err);
    char *param = NULL;
    assert_int_equal(sifa_db_search_match(db, "Idx", "纠纷", sql, sizeof(sql), &param, &err), SIFA_EINVALID);
    sifa_error_release(&err);
    assert_int_equal(sifa_db_search_match(db, "idx", "a", sql, sizeof(sql), &param, &err), SIFA_EINVALID);
    sifa_error_release(&err);
    assert_null(param);
    assert_int_equal(sifa_db_search_sql(db, SIFA_DB_SEARCH_CREATE, "idx", NULL, sql, 10, &err), SIFA_ELIMIT);
    sifa_error_release(&err);
    assert_string_equal(sifa_db_sql_auto_id(db), "INTEGER PRIMARY KEY");
    sifa_db_close(db);
}

static void test_roundtrip(void **state)
{
    struct fixture *f = *state;
    struct sifa_db *db = open_db(f->path, true);
    struct sifa_error err = {0};
    struct sifa_db_stmt *st;
    exec_ok(db, "CREATE TABLE v (id INTEGER PRIMARY KEY, i INTEGER, d REAL, s TEXT, b BLOB)");

    static const char chinese[] = "司法局社区矫正：张三（身份证 11010519491231002X）✓";
    static const unsigned char blob[] = {0x00, 0xff, 0x10, 0x00, 0x80, 0x7f};
    const char *ins = "INSERT INTO v (id, i, d, s, b) VALUES (?, ?, ?, ?, ?)";

    struct {
        int64_t id, i;
        double d;
        const char *s;
        ssize_t slen;
        const void *b;
        size_t blen;
    } rows[] = {
        {1, INT64_MIN, -1.5, chinese, -1, blob, sizeof(blob)},
        {2, INT64_MAX, 1e300, chinese, 6, "", 0}, /* first two characters only; empty blob */
        {3, 0, 0.0, "", -1, NULL, 0},
    };
    for (size_t k = 0; k < SIFA_ARRAY_SIZE(rows); k++) {
        assert_int_equal(sifa_db_prepare(db, ins, &st, &err), 0);
        assert_int_equal(sifa_db_bind_int64(st, 1, rows[k].id), 0);
        assert_int_equal(sifa_db_bind_int64(st, 2, rows[k].i), 0);
        assert_int_equal(sifa_db_bind_double(st, 3, rows[k].d), 0);
        assert_int_equal(sifa_db_bind_text(st, 4, rows[k].s, rows[k].slen), 0);
        assert_int_equal(sifa_db_bind_blob(st, 5, rows[k].b, rows[k].blen), 0);
        assert_int_equal(sifa_db_step(st, &err), SIFA_DB_DONE);
        sifa_db_stmt_done(st);
        assert_int_equal(sifa_db_changes(db), 1);
    }
    /* A row of NULLs. */
    assert_int_equal(sifa_db_prepare(db, ins, &st, &err), 0);
    assert_int_equal(sifa_db_bind_int64(st, 1, 4), 0);
    for (int c = 2; c <= 5; c++)
        assert_int_equal(sifa_db_bind_null(st, c), 0);
    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_DONE);
    sifa_db_stmt_done(st);

    assert_int_equal(sifa_db_prepare(db, "SELECT id, i, d, s, b FROM v ORDER BY id", &st, &err), 0);
    assert_int_equal(sifa_db_column_count(st), 5);
    assert_string_equal(sifa_db_column_name(st, 3), "s");
    assert_null(sifa_db_column_name(st, 5));

    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_ROW);
    assert_int_equal(sifa_db_column_type(st, 1), SIFA_DB_INTEGER);
    assert_true(sifa_db_column_int64(st, 1) == INT64_MIN);
    assert_int_equal(sifa_db_column_type(st, 2), SIFA_DB_FLOAT);
    assert_true(sifa_db_column_double(st, 2) == -1.5);
    assert_int_equal(sifa_db_column_type(st, 3), SIFA_DB_TEXT);
    assert_string_equal(sifa_db_column_text(st, 3), chinese);
    assert_int_equal(sifa_db_column_bytes(st, 3), strlen(chinese));
    assert_int_equal(sifa_db_column_type(st, 4), SIFA_DB_BLOB);
    assert_int_equal(sifa_db_column_bytes(st, 4), sizeof(blob));
    assert_memory_equal(sifa_db_column_blob(st, 4), blob, sizeof(blob));

    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_ROW);
    assert_true(sifa_db_column_int64(st, 1) == INT64_MAX);
    assert_true(sifa_db_column_double(st, 2) == 1e300);
    assert_string_equal(sifa_db_column_text(st, 3), "司法");
    assert_int_equal(sifa_db_column_type(st, 4), SIFA_DB_BLOB); /* empty, but not NULL */
    assert_int_equal(sifa_db_column_bytes(st, 4), 0);

    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_ROW);
    assert_int_equal(sifa_db_column_int64(st, 1), 0);
    assert_int_equal(sifa_db_column_type(st, 3), SIFA_DB_TEXT);
    assert_string_equal(sifa_db_column_text(st, 3), "");
    assert_int_equal(sifa_db_column_type(st, 4), SIFA_DB_BLOB);

    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_ROW);
    for (int c = 1; c <= 4; c++)
        assert_int_equal(sifa_db_column_type(st, c), SIFA_DB_NULL);
    assert_null(sifa_db_column_text(st, 3));
    assert_null(sifa_db_column_blob(st, 4));
    assert_int_equal(sifa_db_column_bytes(st, 4), 0);
    /* Out-of-range columns are harmless. */
    assert_int_equal(sifa_db_column_type(st, 9), SIFA_DB_NULL);
    assert_null(sifa_db_column_text(st, -1));

    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_DONE);
    sifa_db_stmt_done(st);

    /* Lookup by a Chinese parameter. */
    assert_int_equal(sifa_db_prepare(db, "SELECT id FROM v WHERE s = ?", &st, &err), 0);
    assert_int_equal(sifa_db_bind_text(st, 1, "司法", -1), 0);
    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_ROW);
    assert_int_equal(sifa_db_column_int64(st, 0), 2);
    sifa_db_stmt_done(st);

    /* UPDATE changes count. */
    exec_ok(db, "UPDATE v SET i = 7 WHERE id >= 2");
    assert_int_equal(sifa_db_changes(db), 3);
    sifa_db_close(db);
}

/* ---- cache and errors ---- */

static void test_stmt_cache(void **state)
{
    struct fixture *f = *state;
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, f->path);
    cfg.create = true;
    cfg.stmt_cache_size = 2;
    struct sifa_db *db;
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_open(&cfg, &db, &err), 0);
    struct sifa_db_stmt *st, *st2;
    struct sifa_db_stats s0, s1;

    sifa_db_get_stats(db, &s0);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(sifa_db_prepare(db, "SELECT ?", &st, &err), 0);
        assert_int_equal(sifa_db_bind_int64(st, 1, i), 0);
        assert_int_equal(sifa_db_step(st, &err), SIFA_DB_ROW);
        assert_int_equal(sifa_db_column_int64(st, 0), i);
        sifa_db_stmt_done(st);
    }
    sifa_db_get_stats(db, &s1);
    assert_int_equal(s1.statements_prepared - s0.statements_prepared, 1);
    assert_int_equal(s1.statement_cache_hits - s0.statement_cache_hits, 9);
    assert_int_equal(s1.steps - s0.steps, 10);

    /* Bindings are cleared by done. */
    assert_int_equal(sifa_db_prepare(db, "SELECT ?", &st, &err), 0);
    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_ROW);
    assert_int_equal(sifa_db_column_type(st, 0), SIFA_DB_NULL);

    /* The same text checked out twice gives two statements. */
    assert_int_equal(sifa_db_prepare(db, "SELECT ?", &st2, &err), 0);
    assert_ptr_not_equal(st, st2);
    sifa_db_stmt_done(st);
    sifa_db_stmt_done(st2);

    /* LRU with room for 2: after A, B, C (C evicts the older of A and B), A compiles again. */
    sifa_db_get_stats(db, &s0);
    const char *sqls[] = {"SELECT 1", "SELECT 2", "SELECT 3", "SELECT 3", "SELECT 1"};
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(sqls); i++) {
        assert_int_equal(sifa_db_prepare(db, sqls[i], &st, &err), 0);
        sifa_db_stmt_done(st);
    }
    sifa_db_get_stats(db, &s1);
    assert_int_equal(s1.statements_prepared - s0.statements_prepared, 4);
    assert_int_equal(s1.statement_cache_hits - s0.statement_cache_hits, 1);
    sifa_db_stmt_done(NULL);

    /* A statement left checked out is finalized by close (no leak, no hang). */
    assert_int_equal(sifa_db_prepare(db, "SELECT 42", &st, &err), 0);
    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_ROW);
    sifa_db_close(db);
}

static void test_errors(void **state)
{
    struct fixture *f = *state;
    struct sifa_db *db = open_db(f->path, true);
    struct sifa_error err = {0};
    struct sifa_db_stmt *st = NULL;
    struct sifa_db_stats s0, s1;
    exec_ok(db, "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT UNIQUE NOT NULL);"
                "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id))");
    exec_ok(db, "INSERT INTO parent (id, code) VALUES (1, 'a')");
    sifa_db_get_stats(db, &s0);

    /* Unique violation. */
    assert_int_equal(sifa_db_prepare(db, "INSERT INTO parent (id, code) VALUES (?, ?)", &st, &err), 0);
    sifa_db_bind_int64(st, 1, 2);
    sifa_db_bind_text(st, 2, "a", -1);
    assert_int_equal(sifa_db_step(st, &err), SIFA_ECONFLICT);
    assert_string_equal(err.code, "db_constraint");
    assert_non_null(strstr(err.message, "UNIQUE"));
    assert_non_null(strstr(err.message, "约束"));
    assert_non_null(err.details);
    sifa_db_stmt_done(st);
    sifa_error_release(&err);

    /* Foreign keys are enforced. */
    assert_int_equal(sifa_db_exec(db, "INSERT INTO child (id, parent_id) VALUES (1, 99)", &err), SIFA_ECONFLICT);
    assert_string_equal(err.code, "db_constraint");
    assert_non_null(strstr(err.message, "FOREIGN KEY"));
    sifa_error_release(&err);

    /* NOT NULL. */
    assert_int_equal(sifa_db_exec(db, "INSERT INTO parent (id, code) VALUES (3, NULL)", &err), SIFA_ECONFLICT);
    sifa_error_release(&err);

    /* A syntax error. */
    st = (struct sifa_db_stmt *)0x1;
    assert_int_equal(sifa_db_prepare(db, "SELEC nonsense", &st, &err), SIFA_EINTERNAL);
    assert_string_equal(err.code, "db_error");
    assert_ptr_equal(st, (struct sifa_db_stmt *)0x1);
    sifa_error_release(&err);

    /* More than one statement, or none, is refused by prepare. */
    assert_int_equal(sifa_db_prepare(db, "SELECT 1; SELECT 2", &st, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "db_multi_statement");
    sifa_error_release(&err);
    assert_int_equal(sifa_db_prepare(db, "  ", &st, &err), SIFA_EINVALID);
    sifa_error_release(&err);
    assert_int_equal(sifa_db_prepare(db, "SELECT 1;  \n", &st, &err), 0); /* trailing ; is fine */
    sifa_db_stmt_done(st);

    /* A bind out of range fails, and so does the step after it. */
    assert_int_equal(sifa_db_prepare(db, "SELECT ?", &st, &err), 0);
    assert_int_equal(sifa_db_bind_int64(st, 2, 1), SIFA_EINVALID);
    assert_int_equal(sifa_db_step(st, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "db_bind");
    sifa_db_stmt_done(st);
    sifa_error_release(&err);

    sifa_db_get_stats(db, &s1);
    assert_true(s1.errors - s0.errors >= 7);
    assert_int_equal(query_int(db, "SELECT count(*) FROM parent"), 1);

    /* Lock contention maps to db_busy after the timeout. */
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, f->path);
    cfg.busy_timeout_ms = 50;
    struct sifa_db *other;
    assert_int_equal(sifa_db_open(&cfg, &other, &err), 0);
    assert_int_equal(sifa_db_begin(db, &err), 0);
    assert_int_equal(sifa_db_begin(other, &err), SIFA_EUNAVAILABLE);
    assert_string_equal(err.code, "db_busy");
    assert_non_null(strstr(err.message, "繁忙"));
    sifa_error_release(&err);
    sifa_db_get_stats(other, &s1);
    assert_int_equal(s1.busy, 1);
    /* Readers are not blocked by the writer (WAL). */
    assert_int_equal(query_int(other, "SELECT count(*) FROM parent"), 1);
    assert_int_equal(sifa_db_commit(db, &err), 0);
    assert_int_equal(sifa_db_begin(other, &err), 0);
    assert_int_equal(sifa_db_rollback(other, &err), 0);
    sifa_db_close(other);
    sifa_db_close(db);
}

static void test_transactions(void **state)
{
    struct fixture *f = *state;
    struct sifa_db *db = open_db(f->path, true);
    struct sifa_error err = {0};
    exec_ok(db, "CREATE TABLE t (x TEXT)");

    assert_int_equal(sifa_db_begin(db, &err), 0);
    exec_ok(db, "INSERT INTO t VALUES ('a')");
    assert_int_equal(sifa_db_savepoint(db, "sp1", &err), 0);
    exec_ok(db, "INSERT INTO t VALUES ('b')");
    assert_int_equal(sifa_db_savepoint(db, "sp_2", &err), 0); /* nested */
    exec_ok(db, "INSERT INTO t VALUES ('c')");
    assert_int_equal(sifa_db_release(db, "sp_2", &err), 0);
    assert_int_equal(sifa_db_rollback_to(db, "sp1", &err), 0); /* undoes b and c */
    assert_int_equal(sifa_db_release(db, "sp1", &err), 0);
    exec_ok(db, "INSERT INTO t VALUES ('d')");
    assert_int_equal(sifa_db_commit(db, &err), 0);

    char buf[64];
    query_text(db, "SELECT group_concat(x, ',') FROM (SELECT x FROM t ORDER BY x)", buf, sizeof(buf));
    assert_string_equal(buf, "a,d");

    assert_int_equal(sifa_db_begin(db, &err), 0);
    exec_ok(db, "INSERT INTO t VALUES ('e')");
    assert_int_equal(sifa_db_rollback(db, &err), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 2);

    /* Names are spliced into SQL: anything but [a-z][a-z0-9_]* is refused. */
    const char *bad[] = {"", "Sp", "1sp", "_sp", "sp-1", "sp; DROP TABLE t", "sp 1", "空",
                         "a234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(bad); i++) {
        assert_int_equal(sifa_db_savepoint(db, bad[i], &err), SIFA_EINVALID);
        assert_string_equal(err.code, "db_bad_savepoint");
        sifa_error_release(&err);
    }
    assert_int_equal(sifa_db_savepoint(db, NULL, &err), SIFA_EINVALID);
    assert_int_equal(sifa_db_rollback_to(db, "Bad", &err), SIFA_EINVALID);
    assert_int_equal(sifa_db_release(db, "x;", &err), SIFA_EINVALID);
    sifa_error_release(&err);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 2);

    /* Commit without a transaction is an error, not a crash. */
    assert_int_equal(sifa_db_commit(db, &err), SIFA_EINTERNAL);
    sifa_error_release(&err);
    sifa_db_close(db);
}

/* ---- backup and integrity ---- */

static void test_backup(void **state)
{
    struct fixture *f = *state;
    struct sifa_db *db = open_db(f->path, true);
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_migrate(db, sifa_db_core_migrations, sifa_db_core_migrations_count, &err), 0);
    exec_ok(db, "CREATE TABLE r (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    exec_ok(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
                "INSERT INTO r (id, name) SELECT i, '记录' || i FROM n");
    assert_int_equal(sifa_db_integrity_check(db, &err), 0);

    char dest[160];
    snprintf(dest, sizeof(dest), "%s/backup.db", f->dir);
    assert_int_equal(sifa_db_backup(db, dest, &err), 0);
    struct stat sb;
    assert_int_equal(stat(dest, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    /* Never overwrites. */
    assert_int_equal(sifa_db_backup(db, dest, &err), SIFA_ECONFLICT);
    assert_string_equal(err.code, "backup_exists");
    sifa_error_release(&err);
    char bad_dest[200];
    snprintf(bad_dest, sizeof(bad_dest), "%s/no_such_dir/backup.db", f->dir);
    assert_int_equal(sifa_db_backup(db, bad_dest, &err), SIFA_EINTERNAL);
    sifa_error_release(&err);

    /* Later writes to the source do not reach the copy. */
    exec_ok(db, "INSERT INTO r (id, name) VALUES (1001, 'after')");

    struct sifa_db *copy = open_db(dest, false);
    assert_int_equal(query_int(copy, "SELECT count(*) FROM r"), 1000);
    assert_int_equal(query_int(copy, "SELECT sum(id) FROM r"), 500500);
    char buf[64];
    query_text(copy, "SELECT name FROM r WHERE id = 42", buf, sizeof(buf));
    assert_string_equal(buf, "记录42");
    assert_int_equal(query_int(copy, "SELECT count(*) FROM schema_migrations"), 5);
    assert_int_equal(sifa_db_integrity_check(copy, &err), 0);
    assert_int_equal(sifa_db_migrate(copy, sifa_db_core_migrations, sifa_db_core_migrations_count, &err), 0);
    sifa_db_close(copy);
    sifa_db_close(db);
}

static void test_integrity_corrupt(void **state)
{
    struct fixture *f = *state;
    struct sifa_db *db = open_db(f->path, true);
    struct sifa_error err = {0};
    exec_ok(db, "CREATE TABLE r (id INTEGER PRIMARY KEY, name TEXT NOT NULL); CREATE INDEX r_name ON r (name)");
    exec_ok(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) "
                "INSERT INTO r (id, name) SELECT i, 'name-' || i FROM n");
    int64_t pages = query_int(db, "PRAGMA page_count");
    int64_t page_size = query_int(db, "PRAGMA page_size");
    sifa_db_close(db); /* checkpoints: everything is in the main file now */

    /* Scribble over the middle of a page late in the file (index or table leaves). */
    int fd = open(f->path, O_WRONLY);
    assert_true(fd >= 0);
    unsigned char junk[256];
    memset(junk, 0xa5, sizeof(junk));
    assert_int_equal(pwrite(fd, junk, sizeof(junk), (off_t)((pages - 3) * page_size + 100)), (ssize_t)sizeof(junk));
    close(fd);

    db = open_db(f->path, false);
    int r = sifa_db_integrity_check(db, &err);
    assert_int_equal(r, SIFA_EINTERNAL);
    assert_string_equal(err.code, "db_corrupt");
    sifa_error_release(&err);
    sifa_db_close(db);
}

/* The health check reads the file, not only the page cache: a query answers from the cache after
 * the header was overwritten under an open connection; the ping does not. */
static void test_ping_reads_the_file(void **state)
{
    struct fixture *f = *state;
    struct sifa_db *db = open_db(f->path, true);
    struct sifa_error err = {0};
    exec_ok(db, "CREATE TABLE t (x INTEGER)");
    assert_int_equal(sifa_db_ping(db, &err), 0);

    int fd = open(f->path, O_WRONLY);
    assert_true(fd >= 0);
    unsigned char zeros[100] = {0};
    assert_int_equal(pwrite(fd, zeros, sizeof(zeros), 0), (ssize_t)sizeof(zeros));
    close(fd);
    assert_int_equal(sifa_db_ping(db, &err), SIFA_EUNAVAILABLE);
    assert_string_equal(err.code, "db_unreadable");
    sifa_error_release(&err);

    char moved[600];
    snprintf(moved, sizeof(moved), "%s.moved", f->path);
    assert_int_equal(truncate(f->path, 0), 0);
    assert_true(sifa_db_ping(db, &err) < 0);
    sifa_error_release(&err);
    assert_int_equal(rename(f->path, moved), 0);
    assert_int_equal(sifa_db_ping(db, &err), SIFA_EUNAVAILABLE);
    sifa_error_release(&err);
    sifa_db_close(db);
    unlink(moved);
}

/* ---- writer ---- */

struct insert_job {
    int thread, n;
    atomic_int *done_count;
    atomic_int *failed;
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
};

static int insert_fn(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct insert_job *j = ctx;
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, "INSERT INTO w (thread, n, note) VALUES (?, ?, ?)", &st, err);
    if (r < 0)
        return r;
    sifa_db_bind_int64(st, 1, j->thread);
    sifa_db_bind_int64(st, 2, j->n);
    sifa_db_bind_text(st, 3, "写入", -1);
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return r < 0 ? r : 0;
}

static void insert_done(void *ctx, int status, const struct sifa_error *err)
{
    /* Runs on the writer thread: cmocka's asserts must stay on the test's thread, so
     * anything unexpected is counted and checked there. */
    struct insert_job *j = ctx;
    if (status < 0 || err != NULL)
        atomic_fetch_add(j->failed, 1);
    pthread_mutex_lock(j->lock);
    atomic_fetch_add(j->done_count, 1);
    pthread_cond_broadcast(j->cond);
    pthread_mutex_unlock(j->lock);
}

static const char writer_schema[] = "CREATE TABLE w (id INTEGER PRIMARY KEY, thread INTEGER NOT NULL, "
                                    "n INTEGER NOT NULL, note TEXT, UNIQUE (thread, n))";

static struct sifa_db_writer *start_writer(const char *path, size_t max_batch)
{
    struct sifa_db *db = open_db(path, true);
    exec_ok(db, writer_schema);
    sifa_db_close(db);
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, path);
    struct sifa_db_writer *w = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_writer_start(&cfg, max_batch, &w, &err), 0);
    assert_non_null(w);
    return w;
}

enum { THREADS = 8, PER_THREAD = 500 };

struct submitter {
    struct sifa_db_writer *w;
    struct insert_job *jobs; /* PER_THREAD of them */
    int rejected;
};

static void *submitter_main(void *arg)
{
    struct submitter *s = arg;
    for (int i = 0; i < PER_THREAD; i++)
        if (sifa_db_writer_submit(s->w, insert_fn, insert_done, &s->jobs[i]) < 0)
            s->rejected++;
    return NULL;
}

static void wait_count(atomic_int *count, int want, pthread_mutex_t *lock, pthread_cond_t *cond)
{
    pthread_mutex_lock(lock);
    while (atomic_load(count) < want)
        pthread_cond_wait(cond, lock);
    pthread_mutex_unlock(lock);
}

static void test_writer_concurrent(void **state)
{
    struct fixture *f = *state;
    struct sifa_db_writer *w = start_writer(f->path, 256);
    atomic_int done_count = 0, failed = 0;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

    struct insert_job *jobs = calloc(THREADS * PER_THREAD, sizeof(*jobs));
    assert_non_null(jobs);
    struct submitter subs[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++)
            jobs[t * PER_THREAD + i] = (struct insert_job){t, i, &done_count, &failed, &lock, &cond};
        subs[t] = (struct submitter){w, &jobs[t * PER_THREAD], 0};
    }
    uint64_t t0 = sifa_now_monotonic_ns();
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, submitter_main, &subs[t]), 0);
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(subs[t].rejected, 0);
    }
    wait_count(&done_count, THREADS * PER_THREAD, &lock, &cond);
    uint64_t t1 = sifa_now_monotonic_ns();
    assert_int_equal(atomic_load(&failed), 0);

    struct sifa_db_writer_stats ws;
    sifa_db_writer_get_stats(w, &ws);
    assert_int_equal(ws.jobs, THREADS * PER_THREAD);
    assert_int_equal(ws.jobs_failed, 0);
    assert_true(ws.commits >= 1);
    assert_true(ws.commits < ws.jobs); /* batching happened */
    assert_true(ws.max_batch_seen > 1 && ws.max_batch_seen <= 256);
    assert_int_equal(ws.queue_depth, 0);
    print_message("writer: %d jobs in %" PRIu64 " commits (largest batch %" PRIu64 "), %.0f jobs/s\n",
                  THREADS * PER_THREAD, ws.commits, ws.max_batch_seen,
                  THREADS * PER_THREAD / ((double)(t1 - t0) / 1e9));

    /* Another connection, opened while the writer runs, sees every committed row. */
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, f->path);
    cfg.readonly = true;
    struct sifa_db *reader;
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_open(&cfg, &reader, &err), 0);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w"), THREADS * PER_THREAD);
    assert_int_equal(query_int(reader, "SELECT count(DISTINCT thread) FROM w"), THREADS);
    assert_int_equal(query_int(reader, "SELECT sum(n) FROM w"), THREADS * (PER_THREAD - 1) * PER_THREAD / 2);

    /* writer_run: returns fn's status, and the row is visible at return. */
    struct insert_job one = {99, 0, &done_count, &failed, &lock, &cond};
    assert_int_equal(sifa_db_writer_run(w, insert_fn, &one, &err), 0);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w WHERE thread = 99"), 1);
    assert_int_equal(sifa_db_writer_run(w, insert_fn, &one, &err), SIFA_ECONFLICT); /* duplicate */
    assert_string_equal(err.code, "db_constraint");
    sifa_error_release(&err);

    sifa_db_close(reader);
    sifa_db_writer_stop(w);
    sifa_db_writer_stop(NULL);
    free(jobs);
}

/* A job that blocks the writer until the test opens the gate, so the test can queue a batch. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started, open;
    int status; /* the gate job's, set by gate_done */
};

static int gate_fn(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    (void)db;
    (void)err;
    struct gate *g = ctx;
    pthread_mutex_lock(&g->lock);
    g->started = true;
    pthread_cond_broadcast(&g->cond);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
    return 0;
}

static void gate_done(void *ctx, int status, const struct sifa_error *err)
{
    (void)err;
    struct gate *g = ctx;
    pthread_mutex_lock(&g->lock);
    g->status = status;
    pthread_mutex_unlock(&g->lock);
}

static void gate_wait_started(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    while (!g->started)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

struct result {
    int status;
    char code[48];
    atomic_int *done_count;
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
    int tag;
    int runs; /* times tagged_fn ran (on the writer thread; read after done) */
};

/* Inserts its row, then (tag 2) a duplicate: its first insert must be undone with it. */
static int tagged_fn(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    struct result *res = ctx;
    res->runs++;
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, "INSERT INTO w (thread, n) VALUES (?, ?)", &st, err);
    if (r < 0)
        return r;
    sifa_db_bind_int64(st, 1, 1000 + res->tag);
    sifa_db_bind_int64(st, 2, 0);
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    if (r < 0 || res->tag != 2)
        return r < 0 ? r : 0;
    r = sifa_db_prepare(db, "INSERT INTO w (thread, n) VALUES (1001, 0)", &st, err);
    if (r < 0)
        return r;
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return r < 0 ? r : 0;
}

static void tagged_done(void *ctx, int status, const struct sifa_error *err)
{
    struct result *res = ctx;
    pthread_mutex_lock(res->lock);
    res->status = status;
    if (err != NULL)
        snprintf(res->code, sizeof(res->code), "%s", err->code);
    atomic_fetch_add(res->done_count, 1);
    pthread_cond_broadcast(res->cond);
    pthread_mutex_unlock(res->lock);
}

static int failing_fn(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    (void)db;
    (void)ctx;
    (void)err;
    return SIFA_EINVALID; /* without filling err: the writer supplies one */
}

/* Fails after ending the transaction, as SQLite does by itself on an I/O error. */
static int ending_fn(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    (void)ctx;
    sifa_db_rollback(db, NULL);
    return sifa_error_set(err, SIFA_EINTERNAL, "db_error", "磁盘已满（测试）");
}

static void test_writer_failing_job_isolated(void **state)
{
    struct fixture *f = *state;
    struct sifa_db_writer *w = start_writer(f->path, 64);
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, 1};
    atomic_int done_count = 0;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

    assert_int_equal(sifa_db_writer_submit(w, gate_fn, gate_done, &g), 0);
    gate_wait_started(&g);
    struct sifa_db_writer_stats before;
    sifa_db_writer_get_stats(w, &before);

    struct result res[4];
    for (int i = 0; i < 4; i++)
        res[i] = (struct result){.status = 1, .done_count = &done_count, .lock = &lock, .cond = &cond, .tag = i + 1};
    for (int i = 0; i < 3; i++)
        assert_int_equal(sifa_db_writer_submit(w, tagged_fn, tagged_done, &res[i]), 0);
    assert_int_equal(sifa_db_writer_submit(w, failing_fn, tagged_done, &res[3]), 0);
    struct sifa_db_writer_stats queued;
    sifa_db_writer_get_stats(w, &queued);
    assert_int_equal(queued.queue_depth, 4);
    gate_open(&g);
    wait_count(&done_count, 4, &lock, &cond);

    pthread_mutex_lock(&g.lock);
    assert_int_equal(g.status, 0);
    pthread_mutex_unlock(&g.lock);
    assert_int_equal(res[0].status, 0);
    assert_int_equal(res[1].status, SIFA_ECONFLICT);
    assert_string_equal(res[1].code, "db_constraint");
    assert_int_equal(res[2].status, 0);
    assert_int_equal(res[3].status, SIFA_EINVALID);
    assert_string_equal(res[3].code, "db_job_failed");

    struct sifa_db_writer_stats after;
    sifa_db_writer_get_stats(w, &after);
    assert_int_equal(after.jobs, 5);
    assert_int_equal(after.jobs_failed, 2);
    assert_int_equal(after.max_batch_seen, 4); /* all four ran in one batch … */
    assert_int_equal(after.commits, 2);       /* … committed once (the gate had its own) */

    struct sifa_db *reader = open_db(f->path, false);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w WHERE thread = 1001"), 1);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w WHERE thread = 1002"), 0); /* undone */
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w WHERE thread = 1003"), 1);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w"), 2);
    sifa_db_close(reader);

    /* A batch where every job fails commits nothing. */
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_writer_run(w, failing_fn, NULL, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "db_job_failed");
    sifa_error_release(&err);
    sifa_db_writer_get_stats(w, &after);
    assert_int_equal(after.commits, 2);
    /* A job alone in its batch runs without a savepoint: what it wrote before failing is undone
     * with the transaction. */
    struct result lone = {.tag = 2};
    assert_int_equal(sifa_db_writer_run(w, tagged_fn, &lone, &err), SIFA_ECONFLICT);
    assert_string_equal(err.code, "db_constraint");
    sifa_error_release(&err);
    sifa_db_writer_get_stats(w, &after);
    assert_int_equal(after.commits, 2);
    reader = open_db(f->path, false);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w WHERE thread = 1002"), 0);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w"), 2);
    sifa_db_close(reader);
    sifa_db_writer_stop(w);
}

/* One job of a batch for run_gated_batch. */
struct batch_job {
    sifa_db_write_fn fn;
    struct result *res;
    unsigned flags;
};

/* Runs jobs[0, n) as one batch: holds the writer with a gate job while they are queued, then
 * waits until *done_count reaches done_total. *ret_before: the writer's counters with the gate's
 * batch still running (so the gate's commit counts in the difference). */
static void run_gated_batch(struct sifa_db_writer *w, const struct batch_job *jobs, size_t n, atomic_int *done_count,
                            int done_total, pthread_mutex_t *lock, pthread_cond_t *cond,
                            struct sifa_db_writer_stats *ret_before)
{
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, 1};
    assert_int_equal(sifa_db_writer_submit(w, gate_fn, gate_done, &g), 0);
    gate_wait_started(&g);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sifa_db_writer_submit_flags(w, jobs[i].fn, tagged_done, jobs[i].res, jobs[i].flags), 0);
    sifa_db_writer_get_stats(w, ret_before);
    gate_open(&g);
    wait_count(done_count, done_total, lock, cond);
}

/* Rerunnable jobs share a batch without savepoints; when one fails the batch is rolled back and
 * run again with them, and only the second run counts. */
static void test_writer_rerunnable_batch(void **state)
{
    struct fixture *f = *state;
    struct sifa_db_writer *w = start_writer(f->path, 64);
    atomic_int done_count = 0;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    struct result res[14];
    for (int i = 0; i < 14; i++)
        res[i] = (struct result){.status = 1, .done_count = &done_count, .lock = &lock, .cond = &cond};
    const unsigned R = SIFA_DB_JOB_RERUNNABLE;
    struct sifa_db_writer_stats before, after;

    /* Round 1: tags 1, 2 (inserts, then fails on a duplicate), 3 — all rerunnable. */
    for (int i = 0; i < 3; i++)
        res[i].tag = i + 1;
    run_gated_batch(w, (struct batch_job[]){{tagged_fn, &res[0], R}, {tagged_fn, &res[1], R}, {tagged_fn, &res[2], R}},
                    3, &done_count, 3, &lock, &cond, &before);
    assert_int_equal(res[0].status, 0);
    assert_int_equal(res[1].status, SIFA_ECONFLICT);
    assert_string_equal(res[1].code, "db_constraint");
    assert_int_equal(res[2].status, 0);
    assert_int_equal(res[0].runs, 2); /* the plain run, rolled back, then the careful one */
    assert_int_equal(res[1].runs, 2);
    assert_int_equal(res[2].runs, 1); /* the plain run stopped before it */
    sifa_db_writer_get_stats(w, &after);
    assert_int_equal(after.batches_run_again, before.batches_run_again + 1);
    assert_int_equal(after.commits, before.commits + 2); /* the gate's batch, then this one */
    assert_int_equal(after.jobs_failed, before.jobs_failed + 1);
    struct sifa_db *reader = open_db(f->path, false);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w WHERE thread = 1001"), 1); /* once, not twice */
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w WHERE thread = 1002"), 0);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w WHERE thread = 1003"), 1);
    sifa_db_close(reader);

    /* Round 2: rerunnable jobs that all succeed run once, in one plain transaction. */
    for (int i = 3; i < 6; i++)
        res[i].tag = i + 1;
    run_gated_batch(w, (struct batch_job[]){{tagged_fn, &res[3], R}, {tagged_fn, &res[4], R}, {tagged_fn, &res[5], R}},
                    3, &done_count, 6, &lock, &cond, &before);
    for (int i = 3; i < 6; i++) {
        assert_int_equal(res[i].status, 0);
        assert_int_equal(res[i].runs, 1);
    }
    sifa_db_writer_get_stats(w, &after);
    assert_int_equal(after.batches_run_again, before.batches_run_again);
    assert_int_equal(after.commits, before.commits + 2);

    /* Round 3: one job that is not rerunnable puts the whole batch in savepoints from the start. */
    res[6].tag = 2; /* fails: 1001 exists */
    res[7].tag = 8;
    run_gated_batch(w, (struct batch_job[]){{tagged_fn, &res[6], R}, {tagged_fn, &res[7], 0}}, 2, &done_count, 8,
                    &lock, &cond, &before);
    assert_int_equal(res[6].status, SIFA_ECONFLICT);
    assert_int_equal(res[6].runs, 1);
    assert_int_equal(res[7].status, 0);
    assert_int_equal(res[7].runs, 1);
    sifa_db_writer_get_stats(w, &after);
    assert_int_equal(after.batches_run_again, before.batches_run_again);
    reader = open_db(f->path, false);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w WHERE thread = 1002"), 0);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w WHERE thread = 1008"), 1);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w"), 6); /* 1001, 1003, 1004–1006, 1008 */
    sifa_db_close(reader);

    /* Round 4: a rerunnable job that fails before changing a row is left out; the others run once
     * in the same plain transaction (a stale version or a record not found costs no rerun). */
    struct result *more = &res[8];
    for (int i = 0; i < 3; i++)
        more[i].tag = 11 + i;
    run_gated_batch(w,
                    (struct batch_job[]){{tagged_fn, &more[0], R}, {failing_fn, &more[1], R}, {tagged_fn, &more[2], R}},
                    3, &done_count, 11, &lock, &cond, &before);
    assert_int_equal(more[0].status, 0);
    assert_int_equal(more[0].runs, 1);
    assert_int_equal(more[1].status, SIFA_EINVALID);
    assert_string_equal(more[1].code, "db_job_failed");
    assert_int_equal(more[2].status, 0);
    assert_int_equal(more[2].runs, 1);
    sifa_db_writer_get_stats(w, &after);
    assert_int_equal(after.batches_run_again, before.batches_run_again);
    assert_int_equal(after.commits, before.commits + 2);
    assert_int_equal(after.jobs_failed, before.jobs_failed + 1);
    reader = open_db(f->path, false);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w WHERE thread IN (1011, 1013)"), 2);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w"), 8);
    sifa_db_close(reader);

    /* Round 5: a job that fails having ended the transaction (SQLite rolls back by itself on an
     * I/O error or a full disk) must not let the jobs after it write outside one: the batch
     * fails whole and nothing of it is written. */
    struct result *last = &res[11];
    for (int i = 0; i < 3; i++)
        last[i].tag = 21 + i;
    run_gated_batch(w,
                    (struct batch_job[]){{tagged_fn, &last[0], R}, {ending_fn, &last[1], R}, {tagged_fn, &last[2], R}},
                    3, &done_count, 14, &lock, &cond, &before);
    for (int i = 0; i < 3; i++)
        assert_true(last[i].status < 0);
    sifa_db_writer_get_stats(w, &after);
    assert_int_equal(after.commits, before.commits + 1); /* the gate's batch only */
    reader = open_db(f->path, false);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w WHERE thread IN (1021, 1023)"), 0);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w"), 8);
    sifa_db_close(reader);
    sifa_db_writer_stop(w);
}

static int noop_fn(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    (void)db;
    (void)ctx;
    (void)err;
    return 0;
}

static void count_done(void *ctx, int status, const struct sifa_error *err)
{
    (void)err;
    atomic_int *n = ctx;
    if (status == 0)
        atomic_fetch_add(n, 1);
}

static void test_writer_stop_drains(void **state)
{
    struct fixture *f = *state;
    struct sifa_db_writer *w = start_writer(f->path, 100);
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, 1};
    atomic_int done_count = 0, failed = 0, noops = 0;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

    /* Hold the writer, fill the queue to its bound, then stop: every accepted job runs. */
    assert_int_equal(sifa_db_writer_submit(w, gate_fn, gate_done, &g), 0);
    gate_wait_started(&g);
    enum { N = 2000, MAX_QUEUE = 65536 };
    struct insert_job *jobs = calloc(N, sizeof(*jobs));
    assert_non_null(jobs);
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct insert_job){7, i, &done_count, &failed, &lock, &cond};
        assert_int_equal(sifa_db_writer_submit(w, insert_fn, insert_done, &jobs[i]), 0);
    }
    int accepted = N;
    while (sifa_db_writer_submit(w, noop_fn, count_done, &noops) == 0)
        accepted++;
    assert_int_equal(accepted, MAX_QUEUE);
    assert_int_equal(sifa_db_writer_submit(w, noop_fn, count_done, &noops), SIFA_EUNAVAILABLE);
    assert_int_equal(sifa_db_writer_submit(w, NULL, count_done, &noops), SIFA_EINVALID);

    gate_open(&g);
    sifa_db_writer_stop(w);
    assert_int_equal(g.status, 0);
    assert_int_equal(atomic_load(&done_count), N);
    assert_int_equal(atomic_load(&failed), 0);
    assert_int_equal(atomic_load(&noops), MAX_QUEUE - N);

    struct sifa_db *reader = open_db(f->path, false);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM w WHERE thread = 7"), N);
    assert_int_equal(sifa_db_integrity_check(reader, NULL), 0);
    sifa_db_close(reader);
    free(jobs);
}

/* The checkpointer copies the log into the database file on its own thread: after enough
 * commits it has run, the log never grows far past its limit (the committing connection
 * checkpoints itself then), every row is there afterwards, and the connection gets its own
 * checkpoints back when it stops. */
/* Threads of this process now (Linux: one directory each under /proc/self/task). */
static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static int create_w_fn(struct sifa_db *db, void *ctx, struct sifa_error *err)
{
    (void)ctx;
    int r = sifa_db_exec(db, writer_schema, err);
    return r < 0 ? r : sifa_db_exec(db, "INSERT INTO w (thread, n) VALUES (1, 1)", err);
}

/* A writer on a database in memory has no log to checkpoint: it starts its own thread only (a
 * checkpointer's second connection would open another, empty database). */
static void test_writer_in_memory(void **state)
{
    (void)state;
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, ":memory:");
    cfg.create = true;
    struct sifa_error err = {0};
    int before = thread_count();
    struct sifa_db_writer *w = NULL;
    assert_int_equal(sifa_db_writer_start(&cfg, 0, &w, &err), 0);
    assert_int_equal(thread_count(), before + 1);
    assert_int_equal(sifa_db_writer_run(w, create_w_fn, NULL, &err), 0);
    struct sifa_db_writer_stats ws;
    sifa_db_writer_get_stats(w, &ws);
    assert_int_equal(ws.commits, 1);
    assert_int_equal(ws.checkpoints.background + ws.checkpoints.inline_, 0);
    sifa_db_writer_stop(w);
    assert_int_equal(thread_count(), before);
}

static void test_checkpointer(void **state)
{
    struct fixture *f = *state;
    struct sifa_db *db = open_db(f->path, true);
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_exec(db, "CREATE TABLE c (id INTEGER PRIMARY KEY, body BLOB)", &err), 0);
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, f->path);
    struct sifa_db_checkpointer *c = NULL;
    assert_int_equal(sifa_db_checkpointer_start(&cfg, db, 20, 10, &c, &err), SIFA_EINVALID); /* limit <= trigger */
    sifa_error_release(&err);
    enum { TRIGGER = 20, LIMIT = 200, COMMITS = 400 };
    assert_int_equal(sifa_db_checkpointer_start(&cfg, db, TRIGGER, LIMIT, &c, &err), 0);
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    off_t high = 0;
    for (int i = 0; i < COMMITS; i++) {
        assert_int_equal(sifa_db_begin(db, &err), 0);
        struct sifa_db_stmt *st;
        assert_int_equal(sifa_db_prepare(db, "INSERT INTO c (body) VALUES (zeroblob(12000))", &st, &err), 0);
        assert_int_equal(sifa_db_step(st, &err), SIFA_DB_DONE);
        sifa_db_stmt_done(st);
        assert_int_equal(sifa_db_commit(db, &err), 0);
        struct stat sb;
        if (stat(wal, &sb) == 0 && sb.st_size > high)
            high = sb.st_size;
    }
    struct sifa_db_checkpointer_stats cs;
    sifa_db_checkpointer_get_stats(c, &cs);
    assert_true(cs.background > 0);
    assert_true(cs.pages > 0);
    assert_true(cs.log_pages > 0 && cs.log_pages < LIMIT + 10);
    /* 400 commits of 4 pages would make a log of 1600 pages; it stays within its limit and one
     * commit (a commit that finds the log at the limit checkpoints, waiting for the checkpointer's
     * own checkpoint to end first if need be) */
    assert_true(high > 0 && high <= (off_t)(LIMIT + 8) * (4096 + 24) + 32);
    assert_true(cs.inline_ > 0);
    sifa_db_checkpointer_stop(c);
    assert_int_equal(sifa_db_exec(db, "INSERT INTO c (body) VALUES (x'00')", &err), 0); /* its own hook again */
    struct sifa_db *reader = open_db(f->path, false);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM c"), COMMITS + 1);
    assert_int_equal(sifa_db_integrity_check(reader, NULL), 0);
    sifa_db_close(reader);
    sifa_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_reads_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stmt_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integrity_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_failing_job_isolated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_rerunnable_batch, setup, teardown),
        cmocka_unit_test(test_writer_in_memory),
        cmocka_unit_test_setup_teardown(test_writer_stop_drains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpointer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
