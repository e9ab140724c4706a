/* test_audit.c — unit tests for the audit log (src/auth/audit.c) against real database files, one
 * fresh temporary directory per test. The tampering tests edit the tables with plain SQL through
 * sifa_db_exec, as someone with the sqlite3 shell would, and check that verify names the right
 * entry and reason. The attacker's re-hash re-implements the documented format (audit.h) here, so
 * these tests also pin that format: a change to it breaks test_rehash_with_key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/common.h"

#include "auth/audit.h"
#include "db/db.h"

static const unsigned char KEY[SIFA_AUDIT_KEY_BYTES] = "0123456789abcdef0123456789abcde";
static const unsigned char OTHER_KEY[SIFA_AUDIT_KEY_BYTES] = "fedcba9876543210fedcba987654321";
static const int64_t T0 = INT64_C(1714550400000); /* 2024-05-01T08:00:00.000Z */

struct fixture {
    char dir[64];
    char path[128];
    struct sifa_db *db;
};

static struct sifa_db *open_db(const char *path)
{
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, path);
    cfg.create = true;
    struct sifa_db *db = NULL;
    struct sifa_error err = {0};
    if (sifa_db_open(&cfg, &db, &err) < 0)
        fail_msg("open %s: %s %s", path, err.code, err.message);
    if (sifa_db_exec(db, sifa_audit_schema_sql, &err) < 0)
        fail_msg("schema: %s %s", err.code, err.message);
    sifa_error_release(&err);
    return db;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/sifa_test_audit.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/sifa.db", f->dir);
    f->db = open_db(f->path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sifa_db_close(f->db);
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

static void exec_ok(struct sifa_db *db, const char *sql)
{
    struct sifa_error err = {0};
    if (sifa_db_exec(db, sql, &err) < 0)
        fail_msg("exec %s: %s %s", sql, err.code, err.message);
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

/* Copies a text value of the first row of sql into buf ("" for NULL). */
static void query_text(struct sifa_db *db, const char *sql, char *buf, size_t size)
{
    struct sifa_db_stmt *st;
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_prepare(db, sql, &st, &err), 0);
    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_ROW);
    const char *s = sifa_db_column_text(st, 0);
    snprintf(buf, size, "%s", s != NULL ? s : "");
    sifa_db_stmt_done(st);
}

static void append_ok(struct sifa_db *db, const struct sifa_audit_entry *e, int64_t want_id)
{
    struct sifa_error err = {0};
    int64_t id = -1;
    int r = sifa_audit_append(db, KEY, e, &id, &err);
    if (r < 0)
        fail_msg("append: %s %s", err.code, err.message);
    assert_int_equal(id, want_id);
}

/* Appends entries 1…n in one transaction: actors user0…user2 and three actions in turn, one
 * minute apart from T0, details {"n": i}. */
static void append_many(struct sifa_db *db, int n)
{
    static const char *const actions[] = {"auth.login", "record.update", "record.read"};
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_begin(db, &err), 0);
    for (int i = 1; i <= n; i++) {
        char actor[16], address[32], target[48];
        snprintf(actor, sizeof(actor), "user%d", i % 3);
        snprintf(address, sizeof(address), "10.0.0.%d", i);
        snprintf(target, sizeof(target), "records/mediation/%d", i);
        json_t *details = json_pack("{s:i}", "n", i);
        struct sifa_audit_entry e = {
            .actor = actor,
            .address = address,
            .action = actions[i % 3],
            .target = target,
            .details = details,
            .at_ms = T0 + (int64_t)i * 60000,
        };
        append_ok(db, &e, i);
        json_decref(details);
    }
    assert_int_equal(sifa_db_commit(db, &err), 0);
}

static void verify_ok(struct sifa_db *db, int64_t want_count)
{
    struct sifa_error err = {0};
    int64_t n = -1;
    int r = sifa_audit_verify(db, KEY, &n, &err);
    if (r < 0)
        fail_msg("verify: %s %s", err.code, err.message);
    assert_int_equal(n, want_count);
}

/* verify must fail with audit_broken at id for reason; the message names the entry. */
static void verify_broken_with(struct sifa_db *db, const unsigned char *key, int64_t id, const char *reason)
{
    struct sifa_error err = {0};
    int64_t n = -7;
    int r = sifa_audit_verify(db, key, &n, &err);
    if (r != SIFA_ECONFLICT)
        fail_msg("verify returned %d (%s %s), wanted audit_broken %s at %" PRId64, r, err.code, err.message, reason,
                 id);
    assert_int_equal(n, -7); /* ret_ untouched on failure */
    assert_string_equal(err.code, "audit_broken");
    assert_non_null(err.details);
    assert_int_equal(json_integer_value(json_object_get(err.details, "id")), id);
    assert_string_equal(json_string_value(json_object_get(err.details, "reason")), reason);
    char want[64];
    snprintf(want, sizeof(want), "第 %" PRId64 " 条", id);
    if (strstr(err.message, want) == NULL)
        fail_msg("message \"%s\" does not name %s", err.message, want);
    sifa_error_release(&err);
}

static void verify_broken(struct sifa_db *db, int64_t id, const char *reason)
{
    verify_broken_with(db, KEY, id, reason);
}

/* The attacker's tool: recomputes entry id's hash per the format in audit.h with key and writes
 * it with plain SQL. */
static void put_field(crypto_generichash_state *h, const char *s, size_t len)
{
    unsigned char present = s != NULL;
    crypto_generichash_update(h, &present, 1);
    if (s == NULL)
        return;
    unsigned char b[8];
    uint64_t v = len;
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)(v & 0xff);
    crypto_generichash_update(h, b, 8);
    crypto_generichash_update(h, (const unsigned char *)s, len);
}

static void rehash(struct sifa_db *db, const unsigned char *key, int64_t id)
{
    struct sifa_db_stmt *st;
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_prepare(db,
                                     "SELECT prev_hash, at, actor, address, action, target, details FROM audit_log "
                                     "WHERE id = ?",
                                     &st, &err),
                     0);
    sifa_db_bind_int64(st, 1, id);
    assert_int_equal(sifa_db_step(st, &err), SIFA_DB_ROW);
    crypto_generichash_state h;
    assert_int_equal(crypto_generichash_init(&h, key, SIFA_AUDIT_KEY_BYTES, 32), 0);
    put_field(&h, "sifa.audit.entry.v1", strlen("sifa.audit.entry.v1"));
    for (int col = 0; col < 7; col++) {
        const char *s = sifa_db_column_text(st, col);
        put_field(&h, s, sifa_db_column_bytes(st, col));
        if (col == 0) {
            unsigned char b[8];
            uint64_t v = (uint64_t)id;
            for (int i = 7; i >= 0; i--, v >>= 8)
                b[i] = (unsigned char)(v & 0xff);
            crypto_generichash_update(&h, b, 8);
        }
    }
    sifa_db_stmt_done(st);
    unsigned char bin[32];
    char hex[65];
    crypto_generichash_final(&h, bin, sizeof(bin));
    sodium_bin2hex(hex, sizeof(hex), bin, sizeof(bin));
    char sql[160];
    snprintf(sql, sizeof(sql), "UPDATE audit_log SET hash = '%s' WHERE id = %" PRId64, hex, id);
    exec_ok(db, sql);
}

/* Swaps whole entries by renumbering, as `UPDATE … SET id` in the shell would. */
static void swap_rows(struct sifa_db *db, int a, int b)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "UPDATE audit_log SET id = -1 WHERE id = %d; UPDATE audit_log SET id = %d WHERE id = %d;"
             "UPDATE audit_log SET id = %d WHERE id = -1;",
             a, a, b, b);
    exec_ok(db, sql);
}

/* ---- append and verify ---- */

static void test_append_verify_100(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 100);
    verify_ok(f->db, 100);

    char buf[128], prev[128];
    query_text(f->db, "SELECT prev_hash FROM audit_log WHERE id = 1", buf, sizeof(buf));
    assert_string_equal(buf, "0000000000000000000000000000000000000000000000000000000000000000");
    query_text(f->db, "SELECT hash FROM audit_log WHERE id = 41", prev, sizeof(prev));
    query_text(f->db, "SELECT prev_hash FROM audit_log WHERE id = 42", buf, sizeof(buf));
    assert_string_equal(buf, prev);
    assert_int_equal(strlen(prev), 64);
    query_text(f->db, "SELECT at FROM audit_log WHERE id = 42", buf, sizeof(buf));
    assert_string_equal(buf, "2024-05-01T08:42:00.000Z");
    query_text(f->db, "SELECT details FROM audit_log WHERE id = 42", buf, sizeof(buf));
    assert_string_equal(buf, "{\"n\":42}");
    assert_int_equal(query_int(f->db, "SELECT last_id FROM audit_head"), 100);
    query_text(f->db, "SELECT hash FROM audit_log WHERE id = 100", prev, sizeof(prev));
    query_text(f->db, "SELECT last_hash FROM audit_head", buf, sizeof(buf));
    assert_string_equal(buf, prev);
}

static void test_empty_log_and_now(void **state)
{
    struct fixture *f = *state;
    verify_ok(f->db, 0);

    /* Outside a transaction append still changes entry and head together (its savepoint). */
    struct sifa_audit_entry e = {.action = "system.start"};
    int64_t before = sifa_now_unix_ms();
    append_ok(f->db, &e, 1);
    char at[64];
    query_text(f->db, "SELECT at FROM audit_log WHERE id = 1", at, sizeof(at));
    assert_int_equal(strlen(at), 24);
    assert_int_equal(at[10], 'T');
    assert_int_equal(at[19], '.');
    assert_int_equal(at[23], 'Z');
    time_t secs = (time_t)(before / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char year[16];
    snprintf(year, sizeof(year), "%04d", tm.tm_year + 1900);
    assert_memory_equal(at, year, 4);
    assert_int_equal(query_int(f->db, "SELECT COUNT(*) FROM audit_log WHERE actor IS NULL AND details IS NULL"), 1);
    verify_ok(f->db, 1);
}

static void test_append_validation(void **state)
{
    struct fixture *f = *state;
    struct sifa_error err = {0};
    int64_t id = -5;
    static const char *const bad_actions[] = {"", "Login", "1auth", "auth login", "auth-login", "_x",
                                              "a2345678901234567890123456789012345678901234567890123456789012345"};
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(bad_actions); i++) {
        struct sifa_audit_entry e = {.action = bad_actions[i], .at_ms = T0};
        assert_int_equal(sifa_audit_append(f->db, KEY, &e, &id, &err), SIFA_EINVALID);
        assert_string_equal(err.code, "audit_bad_action");
    }
    struct sifa_audit_entry none = {.actor = "x"};
    assert_int_equal(sifa_audit_append(f->db, KEY, &none, &id, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "audit_bad_action");

    char big[SIFA_AUDIT_TEXT_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct sifa_audit_entry e = {.action = "auth.login", .target = big, .at_ms = T0};
    assert_int_equal(sifa_audit_append(f->db, KEY, &e, &id, &err), SIFA_ELIMIT);
    assert_string_equal(err.code, "audit_too_large");
    big[SIFA_AUDIT_TEXT_MAX] = '\0'; /* exactly the limit is fine */
    e.actor = "\xe5\xbc\xa0\xff"; /* broken UTF-8 */
    assert_int_equal(sifa_audit_append(f->db, KEY, &e, &id, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "audit_bad_text");
    e.actor = "\xc0\xaf"; /* overlong "/" */
    assert_int_equal(sifa_audit_append(f->db, KEY, &e, &id, &err), SIFA_EINVALID);
    e.actor = "张三";
    e.at_ms = -1;
    assert_int_equal(sifa_audit_append(f->db, KEY, &e, &id, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "audit_bad_time");
    e.at_ms = T0;

    char *huge = malloc(SIFA_AUDIT_DETAILS_MAX);
    assert_non_null(huge);
    memset(huge, 'x', SIFA_AUDIT_DETAILS_MAX - 1);
    huge[SIFA_AUDIT_DETAILS_MAX - 1] = '\0';
    e.details = json_string(huge); /* with its quotes one byte over */
    free(huge);
    assert_int_equal(sifa_audit_append(f->db, KEY, &e, &id, &err), SIFA_ELIMIT);
    assert_string_equal(err.code, "audit_too_large");
    json_decref(e.details);
    e.details = NULL;

    assert_int_equal(id, -5);
    assert_int_equal(query_int(f->db, "SELECT COUNT(*) FROM audit_log"), 0);
    assert_int_equal(query_int(f->db, "SELECT COUNT(*) FROM audit_head"), 0);
    append_ok(f->db, &e, 1); /* target exactly SIFA_AUDIT_TEXT_MAX bytes */
    e.action = "a234567890123456789012345678901234567890123456789012345678901234"; /* 64 */
    append_ok(f->db, &e, 2);
    verify_ok(f->db, 2);
    sifa_error_release(&err);
}

/* ("ab","c") and ("a","bc"), NULL and "": distinct inputs give distinct hashes. */
static void test_encoding_unambiguous(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *actor, *address;
    } cases[] = {{"ab", "c"}, {"a", "bc"}, {NULL, ""}, {"", NULL}, {"", ""}, {NULL, NULL}};
    char hashes[SIFA_ARRAY_SIZE(cases)][128];
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(cases); i++) {
        char path[160];
        snprintf(path, sizeof(path), "%s/enc%zu.db", f->dir, i);
        struct sifa_db *db = open_db(path);
        struct sifa_audit_entry e = {.actor = cases[i].actor, .address = cases[i].address, .action = "x",
                                     .at_ms = T0};
        append_ok(db, &e, 1);
        query_text(db, "SELECT hash FROM audit_log WHERE id = 1", hashes[i], sizeof(hashes[i]));
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(hashes[i], hashes[k]);
        sifa_db_close(db);
    }
}

/* ---- tampering ---- */

static void test_tamper_update_actor(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 100);
    exec_ok(f->db, "UPDATE audit_log SET actor = 'admin' WHERE id = 42");
    verify_broken(f->db, 42, "hash_mismatch");
}

static void test_tamper_delete_middle(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 100);
    exec_ok(f->db, "DELETE FROM audit_log WHERE id = 50");
    verify_broken(f->db, 51, "id_gap");
}

static void test_tamper_swap_details(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 100);
    exec_ok(f->db, "CREATE TEMP TABLE sw AS SELECT id, details FROM audit_log WHERE id IN (10, 20);"
                   "UPDATE audit_log SET details = (SELECT details FROM sw WHERE sw.id = 30 - audit_log.id)"
                   " WHERE id IN (10, 20);"
                   "DROP TABLE sw;");
    assert_int_equal(query_int(f->db, "SELECT COUNT(*) FROM audit_log WHERE id = 10 AND details = '{\"n\":20}'"), 1);
    verify_broken(f->db, 10, "hash_mismatch");
}

/* Whole entries moved: each is genuine, at the wrong place; verify says where it belongs. */
static void test_tamper_swap_rows(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 100);
    struct sifa_error err = {0};

    swap_rows(f->db, 10, 20);
    assert_int_equal(sifa_audit_verify(f->db, KEY, NULL, &err), SIFA_ECONFLICT);
    assert_string_equal(json_string_value(json_object_get(err.details, "reason")), "reordered");
    assert_int_equal(json_integer_value(json_object_get(err.details, "id")), 10);
    assert_int_equal(json_integer_value(json_object_get(err.details, "original_id")), 20);
    swap_rows(f->db, 10, 20);
    verify_ok(f->db, 100);

    swap_rows(f->db, 30, 31); /* neighbours */
    verify_broken(f->db, 30, "reordered");
    swap_rows(f->db, 30, 31);

    swap_rows(f->db, 99, 100); /* the last two: found through the head */
    assert_int_equal(sifa_audit_verify(f->db, KEY, NULL, &err), SIFA_ECONFLICT);
    assert_string_equal(json_string_value(json_object_get(err.details, "reason")), "reordered");
    assert_int_equal(json_integer_value(json_object_get(err.details, "id")), 99);
    assert_int_equal(json_integer_value(json_object_get(err.details, "original_id")), 100);
    swap_rows(f->db, 99, 100);
    verify_ok(f->db, 100);
    sifa_error_release(&err);
}

static void test_tamper_truncate(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 100);
    exec_ok(f->db, "DELETE FROM audit_log WHERE id > 97");
    verify_broken(f->db, 100, "truncated");

    /* Appending goes on from the head, so the hole stays visible instead of being sealed over. */
    struct sifa_audit_entry e = {.action = "auth.logout", .at_ms = T0};
    append_ok(f->db, &e, 101);
    verify_broken(f->db, 101, "id_gap");

    exec_ok(f->db, "DELETE FROM audit_log");
    verify_broken(f->db, 101, "truncated");
}

static void test_tamper_head(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 100);
    struct sifa_error err = {0};
    struct sifa_audit_entry e = {.action = "auth.logout", .at_ms = T0};
    int64_t id = -5;

    /* Hiding a truncation by moving the head back to a real entry: the mac gives it away. */
    exec_ok(f->db, "DELETE FROM audit_log WHERE id > 97;"
                   "UPDATE audit_head SET last_id = 97, last_hash = (SELECT hash FROM audit_log WHERE id = 97)");
    verify_broken(f->db, 97, "head_mismatch");
    /* …and nothing is appended on top of a head that cannot be trusted. */
    assert_int_equal(sifa_audit_append(f->db, KEY, &e, &id, &err), SIFA_ECONFLICT);
    assert_string_equal(err.code, "audit_broken");
    assert_string_equal(json_string_value(json_object_get(err.details, "reason")), "head_mismatch");
    assert_int_equal(id, -5);
    assert_int_equal(query_int(f->db, "SELECT MAX(id) FROM audit_log"), 97);

    exec_ok(f->db, "UPDATE audit_head SET mac = '0000000000000000000000000000000000000000000000000000000000000000'");
    verify_broken(f->db, 97, "head_mismatch");

    exec_ok(f->db, "DELETE FROM audit_head");
    verify_broken(f->db, 97, "head_mismatch");
    assert_int_equal(sifa_audit_append(f->db, KEY, &e, &id, &err), SIFA_ECONFLICT);
    assert_string_equal(err.code, "audit_broken");
    assert_int_equal(query_int(f->db, "SELECT COUNT(*) FROM audit_head"), 0);
    sifa_error_release(&err);
}

static void test_tamper_head_untouched_log(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 10);
    exec_ok(f->db, "UPDATE audit_head SET last_id = 11");
    verify_broken(f->db, 11, "head_mismatch");
}

/* A forged entry after the last one: bad hash, and the writer refuses to build on it. */
static void test_tamper_insert_after_head(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 10);
    exec_ok(f->db, "INSERT INTO audit_log (id, at, actor, action, prev_hash, hash)"
                   " SELECT 11, at, 'admin', 'auth.login', hash, hash FROM audit_log WHERE id = 10");
    verify_broken(f->db, 11, "hash_mismatch");
    struct sifa_error err = {0};
    struct sifa_audit_entry e = {.action = "auth.logout", .at_ms = T0};
    assert_int_equal(sifa_audit_append(f->db, KEY, &e, NULL, &err), SIFA_ECONFLICT);
    assert_string_equal(err.code, "audit_broken");
    assert_int_equal(query_int(f->db, "SELECT last_id FROM audit_head"), 10);
    sifa_error_release(&err);
}

/* The attacker edits entry 42 and recomputes its hash. With a guessed key it still fails; with
 * the real key the entry passes — which proves rehash() matches the format — and the next
 * entry's link breaks. */
static void test_rehash_with_key(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 100);
    exec_ok(f->db, "UPDATE audit_log SET actor = 'admin' WHERE id = 42");
    rehash(f->db, OTHER_KEY, 42);
    verify_broken(f->db, 42, "hash_mismatch");
    rehash(f->db, KEY, 42);
    verify_broken(f->db, 43, "chain_break");
}

static void test_wrong_key(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 5);
    verify_broken_with(f->db, OTHER_KEY, 1, "hash_mismatch");
    /* The head is keyed too: an empty log with a head fails on it. */
    exec_ok(f->db, "DELETE FROM audit_log");
    verify_broken_with(f->db, OTHER_KEY, 5, "head_mismatch");
}

/* A failure after the entry was inserted (here: the head update) leaves neither behind. */
static void test_append_atomic(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 3);
    exec_ok(f->db, "CREATE TRIGGER no_head BEFORE UPDATE ON audit_head BEGIN SELECT RAISE(ABORT, 'no'); END;");
    struct sifa_error err = {0};
    struct sifa_audit_entry e = {.action = "auth.logout", .at_ms = T0};
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    assert_true(sifa_audit_append(f->db, KEY, &e, NULL, &err) < 0);
    assert_int_equal(sifa_db_commit(f->db, &err), 0);
    assert_int_equal(query_int(f->db, "SELECT COUNT(*) FROM audit_log"), 3);
    exec_ok(f->db, "DROP TRIGGER no_head");
    verify_ok(f->db, 3);
    append_ok(f->db, &e, 4);
    verify_ok(f->db, 4);
    sifa_error_release(&err);
}

/* In the caller's savepoint (a write job): appended entries chain like any others; when the
 * head cannot be written the caller rolls its savepoint back and the log is as it was. */
static void test_append_in_savepoint(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 3);
    struct sifa_error err = {0};
    struct sifa_audit_entry e = {.action = "record.create", .target = "mediation_case/1", .at_ms = T0};
    int64_t id = 0;
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sifa_db_savepoint(f->db, "job", &err), 0);
        assert_int_equal(sifa_audit_append_in_savepoint(f->db, KEY, &e, &id, &err), 0);
        assert_int_equal(id, 4 + i);
        assert_int_equal(sifa_db_release(f->db, "job", &err), 0);
    }
    assert_int_equal(sifa_db_commit(f->db, &err), 0);
    verify_ok(f->db, 6);

    exec_ok(f->db, "CREATE TRIGGER no_head BEFORE UPDATE ON audit_head BEGIN SELECT RAISE(ABORT, 'no'); END;");
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    assert_int_equal(sifa_db_savepoint(f->db, "job", &err), 0);
    assert_true(sifa_audit_append_in_savepoint(f->db, KEY, &e, NULL, &err) < 0);
    assert_int_equal(sifa_db_rollback_to(f->db, "job", &err), 0);
    assert_int_equal(sifa_db_release(f->db, "job", &err), 0);
    assert_int_equal(sifa_db_commit(f->db, &err), 0);
    assert_int_equal(query_int(f->db, "SELECT COUNT(*) FROM audit_log"), 6);
    exec_ok(f->db, "DROP TRIGGER no_head");
    verify_ok(f->db, 6);
    sifa_error_release(&err);
}

/* ---- list ---- */

static json_t *list_ok(struct sifa_db *db, const struct sifa_audit_filter *flt)
{
    struct sifa_error err = {0};
    json_t *page = NULL;
    if (sifa_audit_list(db, flt, &page, &err) < 0)
        fail_msg("list: %s %s", err.code, err.message);
    return page;
}

static int64_t item_id(json_t *page, size_t i)
{
    return json_integer_value(json_object_get(json_array_get(json_object_get(page, "items"), i), "id"));
}

static void test_list(void **state)
{
    struct fixture *f = *state;
    append_many(f->db, 30);

    json_t *page = list_ok(f->db, NULL);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 30);
    assert_int_equal(json_integer_value(json_object_get(page, "page")), 1);
    assert_int_equal(json_integer_value(json_object_get(page, "page_size")), 50);
    assert_int_equal(json_array_size(json_object_get(page, "items")), 30);
    assert_int_equal(item_id(page, 0), 30); /* newest first */
    json_t *item = json_array_get(json_object_get(page, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(item, "at")), "2024-05-01T08:30:00.000Z");
    assert_string_equal(json_string_value(json_object_get(item, "actor")), "user0");
    assert_string_equal(json_string_value(json_object_get(item, "address")), "10.0.0.30");
    assert_string_equal(json_string_value(json_object_get(item, "action")), "auth.login");
    assert_string_equal(json_string_value(json_object_get(item, "target")), "records/mediation/30");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(item, "details"), "n")), 30);
    json_decref(page);

    struct sifa_audit_filter flt = {.page = 2, .page_size = 7};
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 30);
    assert_int_equal(json_array_size(json_object_get(page, "items")), 7);
    assert_int_equal(item_id(page, 0), 23);
    assert_int_equal(item_id(page, 6), 17);
    json_decref(page);

    flt.page = 5; /* the last, partial page */
    page = list_ok(f->db, &flt);
    assert_int_equal(json_array_size(json_object_get(page, "items")), 2);
    assert_int_equal(item_id(page, 1), 1);
    json_decref(page);
    flt.page = 6;
    page = list_ok(f->db, &flt);
    assert_int_equal(json_array_size(json_object_get(page, "items")), 0);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 30);
    json_decref(page);

    flt = (struct sifa_audit_filter){.actor = "user1"};
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 10);
    assert_int_equal(item_id(page, 0), 28);
    json_decref(page);

    flt = (struct sifa_audit_filter){.actor = "user1", .action = "record.update"}; /* i % 3 == 1 */
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 10);
    json_decref(page);
    flt.action = "auth.login";
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 0);
    json_decref(page);

    flt = (struct sifa_audit_filter){.since = "2024-05-01T08:10", .until = "2024-05-01T08:20"};
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 10); /* 08:10 … 08:19 */
    assert_int_equal(item_id(page, 0), 19);
    assert_int_equal(item_id(page, 9), 10);
    json_decref(page);
    flt = (struct sifa_audit_filter){.since = "2024-05-01T08:29:00.000Z"};
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 2);
    json_decref(page);
    flt = (struct sifa_audit_filter){.until = "2024-05-01"};
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 0);
    json_decref(page);

    /* a namespace: "record." is record.update and record.read (i % 3 != 0), "auth." the logins */
    flt = (struct sifa_audit_filter){.action_prefix = "record."};
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 20);
    json_decref(page);
    flt = (struct sifa_audit_filter){.action_prefix = "auth."};
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 10);
    assert_int_equal(item_id(page, 0), 30);
    json_decref(page);
    flt = (struct sifa_audit_filter){.action_prefix = "rec"};
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 20);
    json_decref(page);
    flt = (struct sifa_audit_filter){.action_prefix = "records."}; /* not a prefix of record.* */
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 0);
    json_decref(page);
    /* exact target and address; a keyword in the details (LIKE's wildcards are literal) */
    flt = (struct sifa_audit_filter){.target = "records/mediation/7"};
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 1);
    assert_int_equal(item_id(page, 0), 7);
    json_decref(page);
    flt = (struct sifa_audit_filter){.target = "records/mediation/"};
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 0);
    json_decref(page);
    flt = (struct sifa_audit_filter){.address = "10.0.0.12", .action_prefix = "auth."};
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 1);
    json_decref(page);
    flt = (struct sifa_audit_filter){.keyword = ":2"}; /* {"n":2}, {"n":20} … {"n":29} */
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 11);
    json_decref(page);
    flt = (struct sifa_audit_filter){.keyword = "n%"};
    page = list_ok(f->db, &flt);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 0);
    json_decref(page);

    struct sifa_error err = {0};
    static const struct sifa_audit_filter bad[] = {
        {.page_size = 501}, {.page_size = -1}, {.page = -1}, {.page = INT64_MAX},
        {.since = "yesterday"}, {.until = "2024-05-01 08:00"}, {.since = "202"}, {.since = "2024-05-01T08:00:00.000Z1"},
        {.action_prefix = ""}, {.action_prefix = "Auth."}, {.action_prefix = "auth%"}, {.action_prefix = "a'"},
        {.keyword = "x"}, {.keyword = "\xff\xfe"},
        {.keyword = "0123456789012345678901234567890123456789012345678901234567890123456789"},
    };
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(bad); i++) {
        page = NULL;
        assert_int_equal(sifa_audit_list(f->db, &bad[i], &page, &err), SIFA_EINVALID);
        assert_string_equal(err.code, "audit_bad_filter");
        assert_null(page);
    }
    flt = (struct sifa_audit_filter){.page_size = 500};
    page = list_ok(f->db, &flt);
    json_decref(page);
    sifa_error_release(&err);
}

/* ---- CSV export ---- */

static char *export(struct sifa_db *db, const struct sifa_audit_filter *flt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    struct sifa_error err = {0};
    int r = sifa_audit_export_csv(db, flt, out, NULL, &err);
    fclose(out);
    if (r < 0)
        fail_msg("export: %s %s", err.code, err.message);
    return buf;
}

static void test_export_csv(void **state)
{
    struct fixture *f = *state;
    json_t *d1 = json_integer(-3); /* a plain number: not defused */
    json_t *d2 = json_pack("{s:s, s:i}", "note", "第一行\n第二行", "b", 1);
    json_t *d3 = json_pack("{s:s}", "x", "@SUM(A1)");
    struct sifa_audit_entry rows[] = {
        {.actor = "张三", .address = "192.168.1.10", .action = "auth.login", .details = d1, .at_ms = T0},
        {.actor = "李四,王五", .action = "record.update", .target = "记录 \"甲\"", .details = d2, .at_ms = T0 + 1500},
        {.actor = "=HYPERLINK(\"http://x\",\"点我\")", .address = "-1+1", .action = "record.delete",
         .target = "多行\n文本", .details = d3, .at_ms = T0 + 2000},
    };
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(rows); i++)
        append_ok(f->db, &rows[i], (int64_t)i + 1);
    json_decref(d1);
    json_decref(d2);
    json_decref(d3);

    char *csv = export(f->db, NULL);
    assert_string_equal(csv, "\xEF\xBB\xBF"
                             "编号,时间,用户,地址,操作,对象,详情\r\n"
                             "1,2024-05-01T08:00:00.000Z,张三,192.168.1.10,auth.login,,-3\r\n"
                             "2,2024-05-01T08:00:01.500Z,\"李四,王五\",,record.update,\"记录 \"\"甲\"\"\","
                             "\"{\"\"b\"\":1,\"\"note\"\":\"\"第一行\\n第二行\"\"}\"\r\n"
                             "3,2024-05-01T08:00:02.000Z,\"'=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\",'-1+1,"
                             "record.delete,\"多行\n文本\",\"{\"\"x\"\":\"\"@SUM(A1)\"\"}\"\r\n");
    free(csv);

    struct sifa_audit_filter flt = {.action = "auth.login", .page = 9, .page_size = 1};
    csv = export(f->db, &flt);
    assert_string_equal(csv, "\xEF\xBB\xBF"
                             "编号,时间,用户,地址,操作,对象,详情\r\n"
                             "1,2024-05-01T08:00:00.000Z,张三,192.168.1.10,auth.login,,-3\r\n");
    free(csv);

    /* the cap: more matching entries than max_rows is refused before anything is written */
    struct sifa_error err = {0};
    flt = (struct sifa_audit_filter){.action_prefix = "record.", .max_rows = 1};
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    assert_non_null(mem);
    assert_int_equal(sifa_audit_export_csv(f->db, &flt, mem, NULL, &err), SIFA_ELIMIT);
    assert_string_equal(err.code, "audit_export_too_large");
    fclose(mem);
    assert_int_equal(len, 0);
    free(buf);
    flt.max_rows = 2;
    int64_t written = -1;
    mem = open_memstream(&buf, &len);
    assert_int_equal(sifa_audit_export_csv(f->db, &flt, mem, &written, &err), 0);
    fclose(mem);
    free(buf);
    assert_int_equal(written, 2);

    flt = (struct sifa_audit_filter){.since = "bad"};
    FILE *out = fopen("/dev/null", "w");
    assert_non_null(out);
    assert_int_equal(sifa_audit_export_csv(f->db, &flt, out, NULL, &err), SIFA_EINVALID);
    fclose(out);
    /* A full disk: the error is reported, not swallowed. */
    out = fopen("/dev/full", "w");
    if (out != NULL) {
        assert_int_equal(sifa_audit_export_csv(f->db, NULL, out, NULL, &err), SIFA_EINTERNAL);
        assert_string_equal(err.code, "audit_export_io");
        fclose(out);
    }
    sifa_error_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_verify_100, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_log_and_now, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encoding_unambiguous, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_update_actor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_delete_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_swap_details, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_swap_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_truncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_head_untouched_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_insert_after_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rehash_with_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_in_savepoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_csv, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
