/* fuzz_org_import.c — libFuzzer target for sifa_org_import_line (src/auth/accounts.c), the lines
 * of `sifa org import` (a file from another system or a spreadsheet). An in-memory database with
 * the core and auth tables is made once; each input is split into lines at '\n', all imported in
 * one transaction that is rolled back afterwards. Checks: a line that succeeds adds exactly one
 * org unit, whose code is then found with a path ending in "/<code>/"; a blank line adds none; a
 * refused line adds none and carries one of the documented codes and a message that is valid
 * UTF-8; nothing crashes, leaks or reads out of bounds (ASan, UBSan). */
#include <string.h>

#include "auth/accounts.h"
#include "auth/schema.h"
#include "base/common.h"
#include "db/db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok)
        abort();
}

static struct sifa_db *database(void)
{
    static struct sifa_db *db;
    if (db != NULL)
        return db;
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, ":memory:");
    cfg.create = true;
    struct sifa_error err = {0};
    check(sifa_db_open(&cfg, &db, &err) == 0);
    check(sifa_db_migrate(db, sifa_db_core_migrations, sifa_db_core_migrations_count, &err) == 0);
    check(sifa_db_migrate(db, sifa_auth_migrations, sifa_auth_migrations_count, &err) == 0);
    return db;
}

static int64_t org_count(struct sifa_db *db)
{
    struct sifa_db_stmt *st;
    struct sifa_error err = {0};
    check(sifa_db_prepare(db, "SELECT count(*) FROM orgs", &st, &err) == 0);
    check(sifa_db_step(st, &err) == SIFA_DB_ROW);
    int64_t n = sifa_db_column_int64(st, 0);
    sifa_db_stmt_done(st);
    return n;
}

static bool found_with_path(struct sifa_db *db, const char *code)
{
    struct sifa_db_stmt *st;
    struct sifa_error err = {0};
    check(sifa_db_prepare(db, "SELECT path FROM orgs WHERE code = ?", &st, &err) == 0);
    sifa_db_bind_text(st, 1, code, -1);
    bool ok = false;
    if (sifa_db_step(st, &err) == SIFA_DB_ROW) {
        const char *path = sifa_db_column_text(st, 0);
        size_t n = strlen(path), c = strlen(code);
        ok = n >= c + 2 && path[n - 1] == '/' && path[n - c - 2] == '/' && memcmp(path + n - c - 1, code, c) == 0;
    }
    sifa_db_stmt_done(st);
    return ok;
}

static bool documented(const char *code)
{
    static const char *const codes[] = {"line_too_long",          "bad_line",
                                        "bad_org_code",           "bad_org_name",
                                        "bad_org_kind",           "org_not_found",
                                        "org_exists",             "org_path",
                                        "bad_division_code",      "division_code_not_allowed",
                                        "division_code_mismatch", "division_code_exists",
                                        NULL};
    for (size_t i = 0; codes[i] != NULL; i++)
        if (strcmp(code, codes[i]) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sifa_db *db = database();
    struct sifa_error err = {0};
    check(sifa_db_begin(db, &err) == 0);
    size_t start = 0;
    while (start <= size) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl != NULL ? (size_t)(nl - data) : size;
        /* the line alone in a buffer of its own size, so that ASan sees any read past it */
        char *line = sifa_xmalloc(end - start + 1);
        memcpy(line, data + start, end - start);
        int64_t before = org_count(db);
        int r = sifa_org_import_line(db, line, end - start, "fuzz", &err);
        int64_t after = org_count(db);
        if (r == 0) {
            check(after == before + 1);
            json_t *o = json_loadb(line, end - start, 0, NULL);
            check(o != NULL && found_with_path(db, json_string_value(json_object_get(o, "code"))));
            json_decref(o);
        } else if (r == 1) {
            check(after == before);
        } else {
            check(r < 0 && after == before);
            if (!documented(err.code)) {
                fprintf(stderr, "undocumented error code %s: %s\n", err.code, err.message);
                abort();
            }
            json_t *msg = json_string(err.message); /* NULL unless valid UTF-8 */
            check(msg != NULL);
            json_decref(msg);
            sifa_error_release(&err);
        }
        free(line);
        if (nl == NULL)
            break;
        start = end + 1;
    }
    check(sifa_db_rollback(db, &err) == 0);
    return 0;
}
