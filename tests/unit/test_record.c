/* test_record.c — unit tests for src/record (validate.c, store.c) with the real definitions in
 * modules/ and the holiday data in data/holidays, against a fresh database in a temporary
 * directory per test. Covers validation and normalisation, numbering, get/update/transition/
 * delete with history and optimistic locking, list filters and full-text search, deadlines, and
 * schema synchronisation when a definition changes. The clock is fixed (rc.now) so every
 * number, date and deadline is deterministic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "auth/schema.h"
#include "record/record.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2021-09-28 10:00 China time (02:00 UTC), a Tuesday. */
#define NOW_2021_09_28 INT64_C(1632794400)
/* 2021-11-01 10:00 China time. */
#define NOW_2021_11_01 INT64_C(1635732000)

struct fixture {
    char dir[64];
    char path[128];
    struct sifa_db *db;
    struct sifa_model *model;
    struct sifa_calendar *calendar;
    const struct sifa_module *m;
    struct sifa_record_ctx rc;
};

/* ---- temporary files ---- */

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(path);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* ---- fixture ---- */

/* Commits the way the group-commit writer does: queued search-index rows first (see record.h). */
static int flush_commit(struct sifa_db *db, const struct sifa_model *model, struct sifa_error *err)
{
    int rc = sifa_record_flush_search(db, model, err);
    return rc < 0 ? rc : sifa_db_commit(db, err);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/sifa_test_record.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/sifa.db", f->dir);

    struct sifa_error err = {0};
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, f->path);
    cfg.create = true;
    cfg.synchronous_full = false;
    assert_int_equal(sifa_db_open(&cfg, &f->db, &err), 0);
    assert_int_equal(sifa_db_migrate(f->db, sifa_db_core_migrations, sifa_db_core_migrations_count, &err), 0);
    assert_int_equal(sifa_db_migrate(f->db, sifa_auth_migrations, sifa_auth_migrations_count, &err), 0);
    /* the org units the records below belong to (an unknown one is refused) */
    assert_int_equal(sifa_db_exec(f->db,
                                  "INSERT INTO orgs (code, name, kind, parent, path, created_at, updated_at) VALUES "
                                  "('cixi', '慈溪市', 'city', NULL, '/cixi/', '', ''),"
                                  "('cixi_01', '浒山街道人民调解委员会', 'mediation_committee', 'cixi', '/cixi/cixi_01/', '', ''),"
                                  "('cixi_02', '宗汉街道人民调解委员会', 'mediation_committee', 'cixi', '/cixi/cixi_02/', '', '')",
                                  &err),
                     0);
    assert_int_equal(sifa_record_connection_init(f->db, &err), 0);

    json_t *errors = NULL;
    int rc = sifa_model_load_dir("modules", &f->model, &errors, &err);
    if (rc < 0) {
        char *s = json_dumps(errors, JSON_INDENT(1));
        print_message("modules/ does not load: %s\n", s ? s : err.message);
        free(s);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(sifa_calendar_load_dir("data/holidays", &f->calendar, &err), 0);
    f->m = sifa_model_module(f->model, "mediation_case");
    assert_non_null(f->m);

    json_t *changes = NULL;
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    assert_int_equal(sifa_record_sync_schema(f->db, f->model, &changes, &err), 0);
    assert_int_equal(flush_commit(f->db, f->model, &err), 0);
    assert_true(json_array_size(changes) >= 1);
    json_decref(changes);

    f->rc = (struct sifa_record_ctx){.model = f->model, .calendar = f->calendar, .scope = SIFA_RECORD_SCOPE_ALL,
                                     .actor = "tester", .now = NOW_2021_09_28};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sifa_db_close(f->db);
    sifa_model_free(f->model);
    sifa_calendar_free(f->calendar);
    remove_tree(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static json_t *J(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (j == NULL)
        print_message("bad test JSON: %s: %s\n", text, je.text);
    assert_non_null(j);
    return j;
}

static void dump(const char *what, json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(1) | JSON_ENCODE_ANY);
    print_message("%s: %s\n", what, s ? s : "(null)");
    free(s);
}

static const char *str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static json_int_t num(json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

/* Validates text as input; expects success and returns the values (new). */
static json_t *valid(struct fixture *f, const char *text, bool partial)
{
    json_t *in = J(text);
    json_t *values = NULL;
    struct sifa_error err = {0};
    int rc = sifa_record_validate(&f->rc, f->m, in, partial, &values, &err);
    if (rc != 0)
        dump("unexpected validation problems", err.details);
    assert_int_equal(rc, 0);
    json_decref(in);
    sifa_error_release(&err);
    return values;
}

/* Validates text; expects failure and returns the problems (new). */
static json_t *invalid(struct fixture *f, const char *text, bool partial)
{
    json_t *in = J(text);
    json_t *values = NULL;
    struct sifa_error err = {0};
    int rc = sifa_record_validate(&f->rc, f->m, in, partial, &values, &err);
    assert_int_equal(rc, SIFA_EINVALID);
    assert_null(values);
    assert_string_equal(err.code, "validation");
    json_t *problems = json_incref(err.details);
    assert_true(json_is_array(problems));
    json_decref(in);
    sifa_error_release(&err);
    return problems;
}

/* The problem for field path, or NULL. */
static json_t *problem(json_t *problems, const char *field)
{
    size_t i;
    json_t *p;
    json_array_foreach(problems, i, p)
    {
        if (strcmp(str(p, "field"), field) == 0)
            return p;
    }
    return NULL;
}

static void expect_problem(json_t *problems, const char *field, const char *code)
{
    json_t *p = problem(problems, field);
    if (p == NULL || strcmp(str(p, "code"), code) != 0)
        dump("problems", problems);
    assert_non_null(p);
    assert_string_equal(str(p, "code"), code);
    assert_non_null(str(p, "message"));
}

/* Creates a record from input text (validated first) in its own transaction; returns it (new). */
static json_t *create(struct fixture *f, const char *text)
{
    json_t *values = valid(f, text, false);
    json_t *record = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    int rc = sifa_record_create(f->db, &f->rc, f->m, values, &record, &err);
    if (rc != 0)
        print_message("create failed: %s %s\n", err.code, err.message);
    assert_int_equal(rc, 0);
    assert_int_equal(flush_commit(f->db, f->model, &err), 0);
    json_decref(values);
    return record;
}

static int64_t record_id(json_t *record)
{
    return num(record, "id");
}

/* Updates (values from text, validated as partial) in a transaction; returns the status, the
 * record (new) in *ret on success, err filled on failure (rolled back). */
static int update(struct fixture *f, int64_t id, int64_t version, const char *text, json_t **ret,
                  struct sifa_error *err)
{
    json_t *values = valid(f, text, true);
    *ret = NULL;
    assert_int_equal(sifa_db_begin(f->db, NULL), 0);
    int rc = sifa_record_update(f->db, &f->rc, f->m, id, version, values, ret, err);
    if (rc == 0)
        assert_int_equal(flush_commit(f->db, f->model, NULL), 0);
    else
        assert_int_equal(sifa_db_rollback(f->db, NULL), 0);
    json_decref(values);
    return rc;
}

/* Like update without validation: values go to the engine as given. */
static int update_raw(struct fixture *f, int64_t id, const char *text, json_t **ret, struct sifa_error *err)
{
    json_t *values = J(text);
    assert_int_equal(sifa_db_begin(f->db, NULL), 0);
    int rc = sifa_record_update(f->db, &f->rc, f->m, id, -1, values, ret, err);
    if (rc == 0)
        assert_int_equal(flush_commit(f->db, f->model, NULL), 0);
    else
        assert_int_equal(sifa_db_rollback(f->db, NULL), 0);
    json_decref(values);
    return rc;
}

static int transition(struct fixture *f, int64_t id, const char *code, int64_t version, const char *text,
                      json_t **ret, struct sifa_error *err)
{
    json_t *values = text ? valid(f, text, true) : NULL;
    *ret = NULL;
    assert_int_equal(sifa_db_begin(f->db, NULL), 0);
    int rc = sifa_record_transition(f->db, &f->rc, f->m, id, code, version, values, ret, err);
    if (rc == 0)
        assert_int_equal(flush_commit(f->db, f->model, NULL), 0);
    else
        assert_int_equal(sifa_db_rollback(f->db, NULL), 0);
    json_decref(values);
    return rc;
}

static json_t *get(struct fixture *f, int64_t id)
{
    json_t *r = NULL;
    struct sifa_error err = {0};
    int rc = sifa_record_get(f->db, &f->rc, f->m, id, &r, &err);
    if (rc != 0)
        print_message("get %lld: %s\n", (long long)id, err.message);
    assert_int_equal(rc, 0);
    sifa_error_release(&err);
    return r;
}

/* The deadline object of code in record. */
static json_t *deadline(json_t *record, const char *code)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(record, "deadlines"), i, d)
    {
        if (strcmp(str(d, "code"), code) == 0)
            return d;
    }
    dump("record", record);
    fail_msg("no deadline %s", code);
    return NULL;
}

/* Runs a list query from "k=v&k=v" (no escaping; values must not hold & or =). */
static int list(struct fixture *f, const char *query, json_t **ret, struct sifa_error *err)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", query);
    struct sifa_record_query_param params[32];
    size_t n = 0;
    for (char *p = buf; *p && n < 32;) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(p, '=');
        assert_non_null(eq);
        *eq = '\0';
        params[n].key = p;
        params[n].value = eq + 1;
        n++;
        if (!amp)
            break;
        p = amp + 1;
    }
    *ret = NULL;
    return sifa_record_list(f->db, &f->rc, f->m, params, n, ret, err);
}

static json_t *list_ok(struct fixture *f, const char *query)
{
    json_t *page = NULL;
    struct sifa_error err = {0};
    int rc = list(f, query, &page, &err);
    if (rc != 0)
        print_message("list %s: %s %s\n", query, err.code, err.message);
    assert_int_equal(rc, 0);
    sifa_error_release(&err);
    return page;
}

/* Total of a list query. */
static json_int_t list_total(struct fixture *f, const char *query)
{
    json_t *page = list_ok(f, query);
    json_int_t total = num(page, "total");
    json_decref(page);
    return total;
}

/* The titles of a page's items, joined by '|', into buf. */
static const char *titles(json_t *page, char *buf, size_t size)
{
    size_t i, len = 0;
    json_t *r;
    buf[0] = '\0';
    json_array_foreach(json_object_get(page, "items"), i, r)
    {
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "|" : "", str(r, "title"));
        if (len >= size)
            break;
    }
    return buf;
}

#define BASE_INPUT                                                                                                     \
    "\"committee\": \"cixi_01\", \"source\": \"walk_in\", \"title\": \"邻里纠纷\", \"received_on\": \"2021-09-28\""

/* ---- validation ---- */

static void test_validate_required(void **state)
{
    struct fixture *f = *state;
    json_t *p = invalid(f, "{}", false);
    if (json_array_size(p) != 4)
        dump("problems", p);
    assert_int_equal(json_array_size(p), 4);
    expect_problem(p, "committee", "required");
    expect_problem(p, "source", "required");
    expect_problem(p, "title", "required");
    expect_problem(p, "received_on", "required");
    json_decref(p);
    /* empty text counts as missing; a partial update may not clear a required field */
    p = invalid(f, "{\"title\": \"\", \"source\": null}", true);
    assert_int_equal(json_array_size(p), 2);
    expect_problem(p, "title", "required");
    expect_problem(p, "source", "required");
    json_decref(p);
    /* partial: absent members are not checked */
    json_t *v = valid(f, "{\"summary\": \"补充情况\"}", true);
    assert_int_equal(json_object_size(v), 1);
    json_decref(v);
    /* the numbered field is not required even though the number comes later */
    v = valid(f, "{" BASE_INPUT "}", false);
    assert_null(json_object_get(v, "case_no"));
    assert_string_equal(str(v, "committee"), "cixi_01");
    json_decref(v);
}

static void test_validate_unknown_and_enum(void **state)
{
    struct fixture *f = *state;
    json_t *p = invalid(f, "{\"nope\": 1}", true);
    assert_int_equal(json_array_size(p), 1);
    expect_problem(p, "nope", "unknown_field");
    json_decref(p);
    /* engine members are not input */
    p = invalid(f, "{\"id\": 3, \"state\": \"accepted\"}", true);
    assert_int_equal(json_array_size(p), 2);
    expect_problem(p, "id", "unknown_field");
    expect_problem(p, "state", "unknown_field");
    json_decref(p);
    p = invalid(f, "{\"source\": \"bogus\"}", true);
    assert_int_equal(json_array_size(p), 1);
    expect_problem(p, "source", "enum");
    json_decref(p);
    p = invalid(f, "{\"dispute_type\": 3}", true);
    expect_problem(p, "dispute_type", "enum");
    json_decref(p);
    json_t *v = valid(f, "{\"dispute_type\": \"neighborhood\", \"source\": \"online\"}", true);
    assert_string_equal(str(v, "dispute_type"), "neighborhood");
    json_decref(v);
    /* null clears an optional field */
    v = valid(f, "{\"dispute_type\": null}", true);
    assert_true(json_is_null(json_object_get(v, "dispute_type")));
    json_decref(v);
}

static void test_validate_money(void **state)
{
    struct fixture *f = *state;
    json_t *v = valid(f, "{\"amount\": \"1.5万元\"}", true);
    assert_true(json_is_integer(json_object_get(v, "amount")));
    assert_int_equal(num(v, "amount"), 1500000);
    json_decref(v);
    v = valid(f, "{\"amount\": \"12.50元\"}", true);
    assert_int_equal(num(v, "amount"), 1250);
    json_decref(v);
    v = valid(f, "{\"amount\": \"3,200万元\"}", true);
    assert_int_equal(num(v, "amount"), INT64_C(3200000000));
    json_decref(v);
    v = valid(f, "{\"amount\": 300}", true);
    assert_int_equal(num(v, "amount"), 300);
    json_decref(v);
    json_t *p = invalid(f, "{\"amount\": \"很多钱\"}", true);
    expect_problem(p, "amount", "money_invalid");
    json_decref(p);
    p = invalid(f, "{\"amount\": -5}", true);
    expect_problem(p, "amount", "min");
    json_decref(p);
    p = invalid(f, "{\"amount\": 1.5}", true);
    expect_problem(p, "amount", "type");
    json_decref(p);
    p = invalid(f, "{\"extension_days\": 31}", true);
    expect_problem(p, "extension_days", "max");
    json_decref(p);
}

static void test_validate_dates(void **state)
{
    struct fixture *f = *state;
    json_t *v = valid(f, "{\"received_on\": \"2021年9月28日\", \"accepted_on\": \"2021-09-29\"}", true);
    assert_string_equal(str(v, "received_on"), "2021-09-28");
    assert_string_equal(str(v, "accepted_on"), "2021-09-29");
    json_decref(v);
    v = valid(f, "{\"applied_at\": \"2021-09-27T09:00:00+08:00\"}", true);
    assert_string_equal(str(v, "applied_at"), "2021-09-27T01:00:00Z");
    json_decref(v);
    v = valid(f, "{\"applied_at\": \"2021-09-27 09:00\"}", true); /* China time without a zone */
    assert_string_equal(str(v, "applied_at"), "2021-09-27T01:00:00Z");
    json_decref(v);
    json_t *p = invalid(f, "{\"received_on\": \"2021-02-30\", \"accepted_on\": 20210928, \"applied_at\": \"昨天\"}", true);
    assert_int_equal(json_array_size(p), 3);
    expect_problem(p, "received_on", "date_invalid");
    expect_problem(p, "accepted_on", "date_invalid");
    expect_problem(p, "applied_at", "datetime_invalid");
    json_decref(p);
}

static void test_validate_parties(void **state)
{
    struct fixture *f = *state;
    json_t *v = valid(f,
                      "{\"parties\": [{\"name\": \"张三\", \"id_number\": \"11010519491231002x\", "
                      "\"phone\": \"+86 138-0013-8000\", \"role\": \"申请人\"}, {\"name\": \"李四\"}]}",
                      true);
    json_t *parties = json_object_get(v, "parties");
    assert_int_equal(json_array_size(parties), 2);
    json_t *p0 = json_array_get(parties, 0);
    assert_string_equal(str(p0, "id_number"), "11010519491231002X");
    assert_string_equal(str(p0, "phone"), "13800138000");
    assert_string_equal(str(p0, "role"), "申请人");
    assert_int_equal(json_object_size(json_array_get(parties, 1)), 1);
    json_decref(v);

    json_t *p = invalid(f,
                        "{\"parties\": [{\"role\": \"申请人\", \"id_number\": \"110105194912310021\"}, "
                        "{\"name\": \"李四\", \"age\": 3, \"phone\": \"12345\"}, \"王五\"]}",
                        true);
    if (json_array_size(p) != 5)
        dump("problems", p);
    assert_int_equal(json_array_size(p), 5);
    expect_problem(p, "parties[0].name", "required");
    expect_problem(p, "parties[0].id_number", "id_check_digit");
    expect_problem(p, "parties[1].age", "unknown_field");
    expect_problem(p, "parties[1].phone", "phone_invalid");
    expect_problem(p, "parties[2]", "type");
    json_decref(p);

    p = invalid(f, "{\"parties\": {\"name\": \"张三\"}}", true);
    expect_problem(p, "parties", "type");
    json_decref(p);
    /* max_items: 50 */
    char big[8192] = "{\"parties\": [";
    size_t len = strlen(big);
    for (int i = 0; i < 51; i++)
        len += (size_t)snprintf(big + len, sizeof(big) - len, "%s{\"name\": \"甲%d\"}", i ? "," : "", i);
    snprintf(big + len, sizeof(big) - len, "]}");
    p = invalid(f, big, true);
    expect_problem(p, "parties", "max_items");
    json_decref(p);
}

static void test_validate_many_problems_at_once(void **state)
{
    struct fixture *f = *state;
    json_t *p = invalid(f,
                        "{\"title\": 5, \"source\": \"bogus\", \"received_on\": \"2021-02-30\", \"amount\": \"abc\", "
                        "\"nope\": 1, \"extension_days\": 31, \"performed\": \"yes\"}",
                        false);
    if (json_array_size(p) != 8)
        dump("problems", p);
    assert_int_equal(json_array_size(p), 8);
    expect_problem(p, "nope", "unknown_field");
    expect_problem(p, "committee", "required");
    expect_problem(p, "source", "enum");
    expect_problem(p, "title", "type");
    expect_problem(p, "received_on", "date_invalid");
    expect_problem(p, "amount", "money_invalid");
    expect_problem(p, "extension_days", "max");
    expect_problem(p, "performed", "type");
    json_decref(p);
    /* not an object */
    json_t *in = J("[1]");
    json_t *values = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_record_validate(&f->rc, f->m, in, false, &values, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "validation");
    json_decref(in);
    sifa_error_release(&err);
}

static void test_validate_text_limits(void **state)
{
    struct fixture *f = *state;
    /* max_length counts characters, not bytes: 100 Chinese characters fit, 101 do not */
    char text[1024] = "{\"title\": \"";
    size_t len = strlen(text);
    for (int i = 0; i < 100; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "纠");
    snprintf(text + len, sizeof(text) - len, "\"}");
    json_t *v = valid(f, text, true);
    json_decref(v);
    snprintf(text + len, sizeof(text) - len, "纷\"}");
    json_t *p = invalid(f, text, true);
    expect_problem(p, "title", "max_length");
    json_decref(p);
    /* a NUL inside text (jansson keeps it when built with a length) */
    json_t *in = json_pack("{s:s%}", "title", "a\0b", (size_t)3);
    assert_non_null(in);
    json_t *values = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_record_validate(&f->rc, f->m, in, true, &values, &err), SIFA_EINVALID);
    expect_problem(err.details, "title", "type");
    sifa_error_release(&err);
    json_decref(in);
    p = invalid(f, "{\"committee\": \"慈溪 调委会\"}", true);
    expect_problem(p, "committee", "type");
    json_decref(p);
}

/* ---- create, numbering, get ---- */

static void test_create_numbers(void **state)
{
    struct fixture *f = *state;
    json_t *r1 = create(f, "{" BASE_INPUT ", \"amount\": \"1.5万元\", \"parties\": [{\"name\": \"张三\"}]}");
    assert_string_equal(str(r1, "case_no"), "(2021)慈调字第00001号");
    assert_string_equal(str(r1, "state"), "registered");
    assert_string_equal(str(r1, "state_name"), "已登记");
    assert_int_equal(num(r1, "version"), 1);
    assert_string_equal(str(r1, "org"), "cixi_01");
    assert_string_equal(str(r1, "created_by"), "tester");
    assert_string_equal(str(r1, "created_at"), "2021-09-28T02:00:00Z");
    assert_int_equal(num(r1, "amount"), 1500000);
    assert_true(json_is_null(json_object_get(r1, "dispute_type")));
    assert_string_equal(str(json_array_get(json_object_get(r1, "parties"), 0), "name"), "张三");

    json_t *r2 = create(f, "{" BASE_INPUT "}");
    assert_string_equal(str(r2, "case_no"), "(2021)慈调字第00002号");
    assert_true(record_id(r2) > record_id(r1));
    /* the year comes from received_on, not from the clock: its own sequence */
    json_t *r3 = create(f, "{\"committee\": \"cixi_01\", \"source\": \"grid\", \"title\": \"旧案\", "
                           "\"received_on\": \"2020年12月30日\"}");
    assert_string_equal(str(r3, "case_no"), "(2020)慈调字第00001号");
    assert_string_equal(str(r3, "received_on"), "2020-12-30");
    json_t *r4 = create(f, "{" BASE_INPUT "}");
    assert_string_equal(str(r4, "case_no"), "(2021)慈调字第00003号");

    /* get returns what create returned */
    json_t *g = get(f, record_id(r1));
    assert_true(json_equal(g, r1));
    json_decref(g);

    json_t *none = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_record_get(f->db, &f->rc, f->m, 9999, &none, &err), SIFA_ENOTFOUND);
    assert_string_equal(err.code, "record_not_found");
    assert_null(none);
    sifa_error_release(&err);

    /* a number typed by staff that collides with an issued one */
    json_t *values = valid(f, "{" BASE_INPUT ", \"case_no\": \"(2021)慈调字第00001号\"}", false);
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    json_t *dup = NULL;
    assert_int_equal(sifa_record_create(f->db, &f->rc, f->m, values, &dup, &err), SIFA_ECONFLICT);
    assert_string_equal(err.code, "duplicate_number");
    assert_int_equal(sifa_db_rollback(f->db, NULL), 0);
    sifa_error_release(&err);
    json_decref(values);

    json_decref(r1);
    json_decref(r2);
    json_decref(r3);
    json_decref(r4);
}

/* ---- update, history, versions ---- */

static void test_update_and_history(void **state)
{
    struct fixture *f = *state;
    json_t *r = create(f, "{" BASE_INPUT ", \"mediator\": \"老王\"}");
    int64_t id = record_id(r);
    json_decref(r);

    struct sifa_error err = {0};
    json_t *u = NULL;
    f->rc.now += 3600;
    assert_int_equal(update(f, id, 1, "{\"title\": \"邻里纠纷(漏水)\", \"amount\": \"200元\"}", &u, &err), 0);
    assert_int_equal(num(u, "version"), 2);
    assert_string_equal(str(u, "title"), "邻里纠纷(漏水)");
    assert_int_equal(num(u, "amount"), 20000);
    assert_string_equal(str(u, "mediator"), "老王"); /* untouched members kept */
    assert_string_equal(str(u, "case_no"), "(2021)慈调字第00001号");
    assert_string_equal(str(u, "updated_at"), "2021-09-28T03:00:00Z");
    assert_string_equal(str(u, "created_at"), "2021-09-28T02:00:00Z");
    json_decref(u);

    json_t *h = NULL;
    assert_int_equal(sifa_record_history(f->db, &f->rc, f->m, id, &h, &err), 0);
    assert_int_equal(json_array_size(h), 2);
    json_t *h0 = json_array_get(h, 0), *h1 = json_array_get(h, 1);
    assert_string_equal(str(h0, "action"), "create");
    assert_int_equal(num(h0, "version"), 1);
    assert_string_equal(str(json_object_get(json_object_get(h0, "changes"), "title"), "new"), "邻里纠纷");
    assert_string_equal(str(h1, "action"), "update");
    assert_int_equal(num(h1, "version"), 2);
    assert_string_equal(str(h1, "actor"), "tester");
    assert_string_equal(str(h1, "at"), "2021-09-28T03:00:00Z");
    assert_true(json_is_null(json_object_get(h1, "transition")));
    json_t *changes = json_object_get(h1, "changes");
    assert_int_equal(json_object_size(changes), 2);
    assert_string_equal(str(json_object_get(changes, "title"), "old"), "邻里纠纷");
    assert_string_equal(str(json_object_get(changes, "title"), "new"), "邻里纠纷(漏水)");
    assert_true(json_is_null(json_object_get(json_object_get(changes, "amount"), "old")));
    assert_int_equal(num(json_object_get(changes, "amount"), "new"), 20000);
    json_decref(h);

    /* a stale version is refused with the current record */
    assert_int_equal(update(f, id, 1, "{\"title\": \"别人的修改\"}", &u, &err), SIFA_ECONFLICT);
    assert_string_equal(err.code, "stale_version");
    assert_null(u);
    assert_int_equal(num(json_object_get(err.details, "current"), "version"), 2);
    assert_string_equal(str(json_object_get(err.details, "current"), "title"), "邻里纠纷(漏水)");
    sifa_error_release(&err);
    json_t *g = get(f, id);
    assert_int_equal(num(g, "version"), 2);
    json_decref(g);
    /* version < 0: not checked */
    assert_int_equal(update(f, id, -1, "{\"mediator\": null}", &u, &err), 0);
    assert_int_equal(num(u, "version"), 3);
    assert_true(json_is_null(json_object_get(u, "mediator")));
    json_decref(u);
    /* unknown record */
    assert_int_equal(update(f, 9999, -1, "{\"mediator\": \"x\"}", &u, &err), SIFA_ENOTFOUND);
    sifa_error_release(&err);
}

/* ---- transitions ---- */

static void test_transitions(void **state)
{
    struct fixture *f = *state;
    json_t *r = create(f, "{" BASE_INPUT "}");
    int64_t id = record_id(r);
    json_decref(r);
    struct sifa_error err = {0};
    json_t *t = NULL;

    /* conclude is not allowed from registered: the allowed ones are listed */
    assert_int_equal(transition(f, id, "conclude", -1, "{\"outcome\": \"success\"}", &t, &err), SIFA_ECONFLICT);
    assert_string_equal(err.code, "illegal_transition");
    assert_string_equal(str(err.details, "state"), "registered");
    json_t *want = J("[\"accept\", \"reject\"]");
    if (!json_equal(json_object_get(err.details, "allowed"), want))
        dump("details", err.details);
    assert_true(json_equal(json_object_get(err.details, "allowed"), want));
    json_decref(want);
    sifa_error_release(&err);

    /* accept requires dispute_type */
    assert_int_equal(transition(f, id, "accept", 1, NULL, &t, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "validation");
    assert_int_equal(json_array_size(err.details), 1);
    assert_string_equal(str(json_array_get(err.details, 0), "field"), "dispute_type");
    assert_string_equal(str(json_array_get(err.details, 0), "code"), "required");
    sifa_error_release(&err);
    json_t *g = get(f, id);
    assert_string_equal(str(g, "state"), "registered");
    assert_int_equal(num(g, "version"), 1);
    json_decref(g);

    /* with the field given alongside, it fires and sets accepted_on to today */
    assert_int_equal(transition(f, id, "accept", 1, "{\"dispute_type\": \"neighborhood\"}", &t, &err), 0);
    assert_string_equal(str(t, "state"), "accepted");
    assert_string_equal(str(t, "state_name"), "已受理");
    assert_string_equal(str(t, "accepted_on"), "2021-09-28");
    assert_string_equal(str(t, "dispute_type"), "neighborhood");
    assert_int_equal(num(t, "version"), 2);
    json_decref(t);

    json_t *h = NULL;
    assert_int_equal(sifa_record_history(f->db, &f->rc, f->m, id, &h, &err), 0);
    json_t *last = json_array_get(h, json_array_size(h) - 1);
    assert_string_equal(str(last, "action"), "transition");
    assert_string_equal(str(last, "transition"), "accept");
    json_t *changes = json_object_get(last, "changes");
    assert_string_equal(str(json_object_get(changes, "state"), "old"), "registered");
    assert_string_equal(str(json_object_get(changes, "state"), "new"), "accepted");
    assert_string_equal(str(json_object_get(changes, "accepted_on"), "new"), "2021-09-28");
    json_decref(h);

    /* conclude requires outcome */
    assert_int_equal(transition(f, id, "conclude", 2, NULL, &t, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "validation");
    assert_string_equal(str(json_array_get(err.details, 0), "field"), "outcome");
    sifa_error_release(&err);
    /* a stale version is refused before anything else */
    assert_int_equal(transition(f, id, "conclude", 1, "{\"outcome\": \"success\"}", &t, &err), SIFA_ECONFLICT);
    assert_string_equal(err.code, "stale_version");
    sifa_error_release(&err);
    f->rc.now += 5 * 86400;
    assert_int_equal(transition(f, id, "conclude", 2, "{\"outcome\": \"success\"}", &t, &err), 0);
    assert_string_equal(str(t, "state"), "concluded");
    assert_string_equal(str(t, "concluded_on"), "2021-10-03");
    assert_true(json_is_true(json_object_get(deadline(t, "conclusion"), "met")));
    json_decref(t);

    /* unknown transition */
    assert_int_equal(transition(f, id, "archive", -1, NULL, &t, &err), SIFA_ENOTFOUND);
    assert_string_equal(err.code, "unknown_transition");
    sifa_error_release(&err);
    /* a final state allows only what leaves it */
    assert_int_equal(transition(f, id, "accept", -1, NULL, &t, &err), SIFA_ECONFLICT);
    want = J("[\"reopen\"]");
    assert_true(json_equal(json_object_get(err.details, "allowed"), want));
    json_decref(want);
    sifa_error_release(&err);
}

/* ---- delete ---- */

static void test_delete(void **state)
{
    struct fixture *f = *state;
    json_t *r1 = create(f, "{" BASE_INPUT "}");
    json_t *r2 = create(f, "{" BASE_INPUT "}");
    int64_t id = record_id(r1);
    assert_int_equal(list_total(f, "page=1"), 2);
    struct sifa_error err = {0};

    assert_int_equal(sifa_db_begin(f->db, NULL), 0);
    assert_int_equal(sifa_record_delete(f->db, &f->rc, f->m, id, 5, &err), SIFA_ECONFLICT);
    assert_string_equal(err.code, "stale_version");
    assert_int_equal(sifa_db_rollback(f->db, NULL), 0);
    sifa_error_release(&err);

    assert_int_equal(sifa_db_begin(f->db, NULL), 0);
    assert_int_equal(sifa_record_delete(f->db, &f->rc, f->m, id, 1, &err), 0);
    assert_int_equal(flush_commit(f->db, f->model, NULL), 0);

    json_t *g = NULL;
    assert_int_equal(sifa_record_get(f->db, &f->rc, f->m, id, &g, &err), SIFA_ENOTFOUND);
    sifa_error_release(&err);
    assert_int_equal(list_total(f, "page=1"), 1);
    assert_int_equal(list_total(f, "q=邻里纠纷"), 1);
    json_t *h = NULL;
    assert_int_equal(sifa_record_history(f->db, &f->rc, f->m, id, &h, &err), 0);
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(str(json_array_get(h, 1), "action"), "delete");
    assert_int_equal(num(json_array_get(h, 1), "version"), 2);
    json_decref(h);
    /* deleting again, updating or firing a transition: not found */
    assert_int_equal(sifa_db_begin(f->db, NULL), 0);
    assert_int_equal(sifa_record_delete(f->db, &f->rc, f->m, id, -1, &err), SIFA_ENOTFOUND);
    assert_int_equal(sifa_db_rollback(f->db, NULL), 0);
    sifa_error_release(&err);
    json_t *u = NULL;
    assert_int_equal(update(f, id, -1, "{\"title\": \"x\"}", &u, &err), SIFA_ENOTFOUND);
    sifa_error_release(&err);
    /* the number stays used: the next record does not reuse it */
    json_t *r3 = create(f, "{" BASE_INPUT "}");
    assert_string_equal(str(r3, "case_no"), "(2021)慈调字第00003号");
    json_decref(r1);
    json_decref(r2);
    json_decref(r3);
}

/* ---- lists ---- */

static void make_list_records(struct fixture *f)
{
    const char *inputs[] = {
        "{\"committee\": \"cixi_01\", \"source\": \"walk_in\", \"title\": \"邻里纠纷 张三与李四\", "
        "\"received_on\": \"2021-09-01\", \"dispute_type\": \"neighborhood\", \"amount\": 5000, "
        "\"parties\": [{\"name\": \"张三\", \"id_number\": \"11010519491231002X\"}, {\"name\": \"李四\"}]}",
        "{\"committee\": \"cixi_02\", \"source\": \"online\", \"title\": \"合同纠纷\", "
        "\"received_on\": \"2021-09-10\", \"summary\": \"货款拖欠三个月\", \"amount\": 120000}",
        "{\"committee\": \"cixi_01\", \"source\": \"grid\", \"title\": \"婚姻家庭纠纷 王五\", "
        "\"received_on\": \"2021-08-15\", \"dispute_type\": \"marriage_family\", \"mediator\": \"赵六\"}",
        "{\"committee\": \"cixi_02\", \"source\": \"walk_in\", \"title\": \"山林土地纠纷\", "
        "\"received_on\": \"2020-12-30\"}",
    };
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(inputs); i++)
        json_decref(create(f, inputs[i]));
}

static void test_list_filters(void **state)
{
    struct fixture *f = *state;
    make_list_records(f);
    char buf[512];

    json_t *page = list_ok(f, "page=1");
    assert_int_equal(num(page, "total"), 4);
    assert_int_equal(num(page, "page"), 1);
    assert_int_equal(num(page, "page_size"), 20);
    assert_string_equal(titles(page, buf, sizeof(buf)), "邻里纠纷 张三与李四|合同纠纷|婚姻家庭纠纷 王五|山林土地纠纷");
    json_decref(page);

    assert_int_equal(list_total(f, "source=walk_in"), 2);
    assert_int_equal(list_total(f, "source=walk_in&source=online"), 3);
    assert_int_equal(list_total(f, "source=walk_in&committee=cixi_02"), 1);
    assert_int_equal(list_total(f, "org=cixi_01"), 2);
    assert_int_equal(list_total(f, "org=cixi_01&org=cixi_02"), 4);
    assert_int_equal(list_total(f, "state=registered"), 4);
    assert_int_equal(list_total(f, "state=accepted"), 0);
    assert_int_equal(list_total(f, "received_on__gte=2021-09-01"), 2);
    assert_int_equal(list_total(f, "received_on__gte=2021-01-01&received_on__lt=2021-09-10"), 2);
    assert_int_equal(list_total(f, "received_on__gt=2021-09-10"), 0);
    assert_int_equal(list_total(f, "received_on__lte=2020-12-30"), 1);
    assert_int_equal(list_total(f, "amount__gte=10000"), 1);
    assert_int_equal(list_total(f, "amount__lt=10000"), 1);
    assert_int_equal(list_total(f, "dispute_type__empty=true"), 2);
    assert_int_equal(list_total(f, "dispute_type__empty=false"), 2);
    assert_int_equal(list_total(f, "parties__empty=true"), 3);
    assert_int_equal(list_total(f, "source__ne=walk_in"), 2);

    page = list_ok(f, "sort=-received_on");
    assert_string_equal(titles(page, buf, sizeof(buf)), "合同纠纷|邻里纠纷 张三与李四|婚姻家庭纠纷 王五|山林土地纠纷");
    json_decref(page);
    page = list_ok(f, "sort=received_on&page=2&page_size=3");
    assert_int_equal(num(page, "total"), 4);
    assert_int_equal(num(page, "page"), 2);
    assert_int_equal(num(page, "page_size"), 3);
    assert_string_equal(titles(page, buf, sizeof(buf)), "合同纠纷");
    json_decref(page);
    page = list_ok(f, "sort=-received_on&page=2&page_size=2");
    assert_string_equal(titles(page, buf, sizeof(buf)), "婚姻家庭纠纷 王五|山林土地纠纷");
    json_decref(page);
    page = list_ok(f, "page=3&page_size=2");
    assert_int_equal(json_array_size(json_object_get(page, "items")), 0);
    assert_int_equal(num(page, "total"), 4);
    json_decref(page);
}

static void test_list_search(void **state)
{
    struct fixture *f = *state;
    make_list_records(f);
    char buf[512];
    json_t *page = list_ok(f, "q=婚姻家庭");
    assert_string_equal(titles(page, buf, sizeof(buf)), "婚姻家庭纠纷 王五");
    json_decref(page);
    /* two-character words: in the title, in a party's name */
    page = list_ok(f, "q=张三");
    assert_string_equal(titles(page, buf, sizeof(buf)), "邻里纠纷 张三与李四");
    json_decref(page);
    page = list_ok(f, "q=王五");
    assert_string_equal(titles(page, buf, sizeof(buf)), "婚姻家庭纠纷 王五");
    json_decref(page);
    assert_int_equal(list_total(f, "q=纠纷"), 4);
    assert_int_equal(list_total(f, "q=货款拖欠"), 1);  /* summary */
    assert_int_equal(list_total(f, "q=赵六"), 1);      /* mediator */
    assert_int_equal(list_total(f, "q=李四"), 1);      /* second party */
    assert_int_equal(list_total(f, "q=不存在的词"), 0);
    assert_int_equal(list_total(f, "q=纠纷&source=walk_in"), 2);
    /* personal fields are not in the search index */
    assert_int_equal(list_total(f, "q=110105194912310"), 0);
    /* LIKE and FTS syntax characters are plain text */
    assert_int_equal(list_total(f, "q=纠%"), 0);
    assert_int_equal(list_total(f, "q=\"纠纷\" OR"), 0);

    /* an update moves the record in the index */
    json_t *u = NULL;
    struct sifa_error err = {0};
    assert_int_equal(update(f, 3, -1, "{\"title\": \"继承纠纷\"}", &u, &err), 0);
    json_decref(u);
    assert_int_equal(list_total(f, "q=婚姻家庭"), 0);
    assert_int_equal(list_total(f, "q=继承"), 1);
}

/* The writer's statements stay compiled: once a create has run, the next one (its insert, history,
 * audit-free search queue, aggregate and search flush) prepares nothing. The search flush used to
 * walk every module of the model, two statements each, which pushed the rest out of the cache. */
static void test_second_write_prepares_nothing(void **state)
{
    struct fixture *f = *state;
    json_decref(create(f, "{\"committee\": \"cixi_01\", \"source\": \"walk_in\", \"title\": \"邻里纠纷\", "
                          "\"received_on\": \"2021-09-01\"}"));
    struct sifa_db_stats s0, s1;
    sifa_db_get_stats(f->db, &s0);
    json_decref(create(f, "{\"committee\": \"cixi_02\", \"source\": \"grid\", \"title\": \"借贷纠纷\", "
                          "\"received_on\": \"2021-09-02\"}"));
    sifa_db_get_stats(f->db, &s1);
    assert_int_equal(s1.statements_prepared - s0.statements_prepared, 0);
    assert_true(s1.statement_cache_hits > s0.statement_cache_hits);
}

static void test_list_bad_filters(void **state)
{
    struct fixture *f = *state;
    make_list_records(f);
    const char *bad[] = {
        "colour=red",          "source__like=walk",   "state=archived",     "page=0",
        "page_size=201",       "page=x",              "sort=colour",        "sort=parties",
        "amount=abc",          "performed=maybe",     "dispute_type__empty=yes", "q=纠",
        "parties=张三",
    };
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(bad); i++) {
        json_t *page = NULL;
        struct sifa_error err = {0};
        int rc = list(f, bad[i], &page, &err);
        if (rc != SIFA_EINVALID)
            print_message("list %s: %d\n", bad[i], rc);
        assert_int_equal(rc, SIFA_EINVALID);
        assert_string_equal(err.code, "bad_filter");
        assert_null(page);
        sifa_error_release(&err);
    }
    json_t *page = NULL;
    struct sifa_error err = {0};
    assert_int_equal(list(f, "source=walk_in&colour=red", &page, &err), SIFA_EINVALID);
    assert_string_equal(str(err.details, "param"), "colour");
    sifa_error_release(&err);
}

/* Two q parameters: both must apply (or the second be refused) — and nothing may read freed
 * memory: sifa_record_list frees the first search pattern while bounds[] still points at it. */
static void test_list_two_search_words(void **state)
{
    struct fixture *f = *state;
    make_list_records(f);
    json_t *page = NULL;
    struct sifa_error err = {0};
    int rc = list(f, "q=纠纷&q=张三", &page, &err);
    if (rc == 0) {
        assert_int_equal(num(page, "total"), 1);
        json_decref(page);
    } else {
        assert_string_equal(err.code, "bad_filter");
        sifa_error_release(&err);
    }
}

/* ---- deadlines ---- */

static void test_deadlines(void **state)
{
    struct fixture *f = *state;
    json_t *r = create(f, "{" BASE_INPUT ", \"source\": \"online\", \"applied_at\": \"2021-09-27T09:00:00+08:00\"}");
    int64_t id = record_id(r);
    json_t *d = deadline(r, "online_reply");
    assert_string_equal(str(d, "due"), "2021-09-30T01:00:00Z");
    assert_false(json_is_true(json_object_get(d, "overdue")));
    assert_int_equal(num(d, "hours_left"), 47);
    d = deadline(r, "conclusion");
    assert_true(json_is_null(json_object_get(d, "due")));
    json_decref(r);

    struct sifa_error err = {0};
    json_t *t = NULL;
    assert_int_equal(transition(f, id, "accept", -1, "{\"dispute_type\": \"debt\"}", &t, &err), 0);
    d = deadline(t, "conclusion");
    assert_string_equal(str(d, "due"), "2021-10-28"); /* 2021-09-28 + 30 natural days */
    assert_int_equal(num(d, "days_left"), 30);
    assert_false(json_is_true(json_object_get(d, "met")));
    assert_true(json_is_true(json_object_get(deadline(t, "online_reply"), "met")));
    json_decref(t);

    /* an extension agreed by the parties moves it */
    json_t *u = NULL;
    assert_int_equal(update(f, id, -1, "{\"extension_days\": 10}", &u, &err), 0);
    assert_string_equal(str(deadline(u, "conclusion"), "due"), "2021-11-07");
    json_decref(u);
    /* the extension is capped by max_extension (30) even when more reaches the engine */
    assert_int_equal(update_raw(f, id, "{\"extension_days\": 45}", &u, &err), 0);
    assert_string_equal(str(deadline(u, "conclusion"), "due"), "2021-11-27");
    json_decref(u);
    assert_int_equal(update(f, id, -1, "{\"extension_days\": null}", &u, &err), 0);
    assert_string_equal(str(deadline(u, "conclusion"), "due"), "2021-10-28");
    json_decref(u);
    /* a date given with accept wins over today */
    json_t *r2 = create(f, "{" BASE_INPUT "}");
    assert_int_equal(transition(f, record_id(r2), "accept", -1,
                                "{\"dispute_type\": \"debt\", \"accepted_on\": \"2021-01-31\"}", &t, &err),
                     0);
    assert_string_equal(str(t, "accepted_on"), "2021-01-31");
    assert_string_equal(str(deadline(t, "conclusion"), "due"), "2021-03-02");
    assert_true(json_is_true(json_object_get(deadline(t, "conclusion"), "overdue")));
    json_decref(t);
    json_decref(r2);
}

static void test_deadlines_due(void **state)
{
    struct fixture *f = *state;
    /* A: accepted on 2021-09-28, conclusion due 2021-10-28 */
    json_t *a = create(f, "{" BASE_INPUT ", \"title\": \"甲案\"}");
    json_t *t = NULL;
    struct sifa_error err = {0};
    assert_int_equal(transition(f, record_id(a), "accept", -1, "{\"dispute_type\": \"debt\"}", &t, &err), 0);
    json_decref(t);
    /* B: applied online, not answered: reply due 2021-09-30T01:00:00Z */
    json_t *b = create(f, "{" BASE_INPUT ", \"title\": \"乙案\", \"applied_at\": \"2021-09-27T09:00:00+08:00\"}");
    /* C: accepted and concluded in time: nothing due */
    json_t *c = create(f, "{" BASE_INPUT ", \"title\": \"丙案\"}");
    assert_int_equal(transition(f, record_id(c), "accept", -1, "{\"dispute_type\": \"debt\"}", &t, &err), 0);
    json_decref(t);
    assert_int_equal(transition(f, record_id(c), "conclude", -1, "{\"outcome\": \"success\"}", &t, &err), 0);
    json_decref(t);
    /* D: another committee, deleted after acceptance */
    json_t *d = create(f, "{" BASE_INPUT ", \"committee\": \"cixi_02\", \"title\": \"丁案\"}");
    assert_int_equal(transition(f, record_id(d), "accept", -1, "{\"dispute_type\": \"debt\"}", &t, &err), 0);
    json_decref(t);
    assert_int_equal(sifa_db_begin(f->db, NULL), 0);
    assert_int_equal(sifa_record_delete(f->db, &f->rc, f->m, record_id(d), -1, &err), 0);
    assert_int_equal(flush_commit(f->db, f->model, NULL), 0);

    struct sifa_record_ctx later = f->rc;
    later.now = NOW_2021_11_01;
    json_t *list = NULL;
    assert_int_equal(sifa_record_deadlines_due(f->db, &later, NOW_2021_11_01, NULL, &list, &err), 0);
    if (json_array_size(list) != 2)
        dump("due", list);
    assert_int_equal(json_array_size(list), 2);
    json_t *first = json_array_get(list, 0), *second = json_array_get(list, 1);
    /* ordered by due: B's reply (09-30) before A's conclusion (10-28) */
    assert_int_equal(num(first, "record_id"), record_id(b));
    assert_string_equal(str(first, "deadline"), "online_reply");
    assert_string_equal(str(first, "due"), "2021-09-30T01:00:00Z");
    assert_true(json_is_true(json_object_get(first, "overdue")));
    assert_string_equal(str(first, "number"), str(b, "case_no"));
    assert_string_equal(str(first, "module"), "mediation_case");
    assert_int_equal(num(second, "record_id"), record_id(a));
    assert_string_equal(str(second, "deadline"), "conclusion");
    assert_string_equal(str(second, "due"), "2021-10-28");
    assert_true(json_is_true(json_object_get(second, "overdue")));
    json_decref(list);

    /* before 2021-10-01 only B's reply is due; in another committee nothing */
    assert_int_equal(sifa_record_deadlines_due(f->db, &later, NOW_2021_09_28 + 3 * 86400, NULL, &list, &err), 0);
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(num(json_array_get(list, 0), "record_id"), record_id(b));
    json_decref(list);
    assert_int_equal(sifa_record_deadlines_due(f->db, &later, NOW_2021_11_01, "cixi_02", &list, &err), 0);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
}

/* deadlines_due promises the list ordered by due across deadlines: a conclusion due before a
 * reply must come first even though online_reply is defined first. */
static void test_deadlines_due_ordered_across_deadlines(void **state)
{
    struct fixture *f = *state;
    json_t *a = create(f, "{" BASE_INPUT ", \"title\": \"甲案\"}");
    json_t *t = NULL;
    struct sifa_error err = {0};
    /* conclusion due 2021-10-01 */
    assert_int_equal(transition(f, record_id(a), "accept", -1,
                                "{\"dispute_type\": \"debt\", \"accepted_on\": \"2021-09-01\"}", &t, &err),
                     0);
    json_decref(t);
    /* reply due 2021-10-08T01:00:00Z */
    json_t *b = create(f, "{" BASE_INPUT ", \"title\": \"乙案\", \"applied_at\": \"2021-10-05T09:00:00+08:00\"}");
    json_t *list = NULL;
    assert_int_equal(sifa_record_deadlines_due(f->db, &f->rc, NOW_2021_11_01, NULL, &list, &err), 0);
    assert_int_equal(json_array_size(list), 2);
    if (num(json_array_get(list, 0), "record_id") != record_id(a))
        dump("due", list);
    assert_string_equal(str(json_array_get(list, 0), "due"), "2021-10-01");
    assert_string_equal(str(json_array_get(list, 1), "due"), "2021-10-08T01:00:00Z");
    json_decref(list);
    json_decref(a);
    json_decref(b);
}

/* ---- schema synchronisation ---- */

/* Writes dir/modules with mediation_case.yaml = the real file with each `from` line replaced by
 * the matching `to` ("" removes the line), and the code tables it uses. Returns the loaded
 * model (new). */
static struct sifa_model *modified_model(struct fixture *f, const char *const *from, const char *const *to, size_t n)
{
    char path[256], mod[200];
    snprintf(mod, sizeof(mod), "%s/modules", f->dir);
    mkdir(mod, 0700);
    snprintf(path, sizeof(path), "%s/codes", mod);
    mkdir(path, 0700);
    const char *tables[] = {"agreement_form", "dispute_type", "mediation_outcome", "mediation_source",
                            "mediation_committee_level"};
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(tables); i++) {
        snprintf(path, sizeof(path), "modules/codes/%s.yaml", tables[i]);
        char *text = read_text(path);
        snprintf(path, sizeof(path), "%s/codes/%s.yaml", mod, tables[i]);
        write_text(path, text);
        free(text);
    }
    char *text = read_text("modules/mediation_case.yaml");
    for (size_t i = 0; i < n; i++) {
        char *hit = strstr(text, from[i]);
        if (hit == NULL)
            print_message("line not found in modules/mediation_case.yaml: %s\n", from[i]);
        assert_non_null(hit);
        size_t cap = strlen(text) + strlen(to[i]) + 1;
        char *out = malloc(cap);
        assert_non_null(out);
        snprintf(out, cap, "%.*s%s%s", (int)(hit - text), text, to[i], hit + strlen(from[i]));
        free(text);
        text = out;
    }
    snprintf(path, sizeof(path), "%s/mediation_case.yaml", mod);
    write_text(path, text);
    free(text);
    struct sifa_model *model = NULL;
    json_t *errors = NULL;
    struct sifa_error err = {0};
    int rc = sifa_model_load_dir(mod, &model, &errors, &err);
    if (rc != 0)
        dump("errors", errors);
    assert_int_equal(rc, 0);
    return model;
}

/* Syncs model; on failure rolls back and returns the status with err filled. */
static int sync_model(struct fixture *f, struct sifa_model *model, json_t **ret_changes, struct sifa_error *err)
{
    assert_int_equal(sifa_db_begin(f->db, NULL), 0);
    int rc = sifa_record_sync_schema(f->db, model, ret_changes, err);
    if (rc == 0)
        assert_int_equal(flush_commit(f->db, f->model, NULL), 0);
    else
        assert_int_equal(sifa_db_rollback(f->db, NULL), 0);
    return rc;
}

/* Switches the fixture to model (freeing the previous one). */
static void use_model(struct fixture *f, struct sifa_model *model)
{
    sifa_model_free(f->model);
    f->model = model;
    f->rc.model = model;
    f->m = sifa_model_module(model, "mediation_case");
    assert_non_null(f->m);
}

static bool has_change(json_t *changes, const char *field, const char *change)
{
    size_t i;
    json_t *c;
    json_array_foreach(changes, i, c)
    {
        const char *fd = str(c, "field");
        if (strcmp(str(c, "change"), change) == 0 && (field == NULL || (fd && strcmp(fd, field) == 0)))
            return true;
    }
    return false;
}

#define MEDIATOR_LINE "  - {code: mediator, name: 调解员, type: text, max_length: 32, searchable: true}\n"
#define PERFORMED_LINE "  - {code: performed, name: 协议已履行, type: bool}\n"
#define AMOUNT_LINE "  - {code: amount, name: 涉及金额, type: money, min: 0}\n"
#define FORM_LINE "  - {code: agreement_form, name: 协议形式, type: enum, codes: agreement_form}\n"
#define VENUE_LINE "  - {code: venue, name: 调解地点, type: text}\n"

static void test_schema_add_and_remove_fields(void **state)
{
    struct fixture *f = *state;
    json_t *r = create(f, "{" BASE_INPUT ", \"mediator\": \"老王\", \"amount\": 100}");
    int64_t id = record_id(r);
    json_decref(r);
    struct sifa_error err = {0};
    json_t *changes = NULL;

    /* the same definition again: nothing to do */
    assert_int_equal(sync_model(f, f->model, &changes, &err), 0);
    assert_int_equal(json_array_size(changes), 0);
    json_decref(changes);

    /* a new field: added, the record keeps its data and has the new field empty */
    {
        const char *from[] = {MEDIATOR_LINE};
        const char *to[] = {MEDIATOR_LINE VENUE_LINE};
        use_model(f, modified_model(f, from, to, 1));
    }
    assert_int_equal(sync_model(f, f->model, &changes, &err), 0);
    assert_true(has_change(changes, "venue", "add_field"));
    json_decref(changes);
    r = get(f, id);
    assert_string_equal(str(r, "mediator"), "老王");
    assert_int_equal(num(r, "amount"), 100);
    assert_string_equal(str(r, "case_no"), "(2021)慈调字第00001号");
    assert_non_null(json_object_get(r, "venue"));
    assert_true(json_is_null(json_object_get(r, "venue")));
    json_decref(r);
    json_t *u = NULL;
    assert_int_equal(update(f, id, -1, "{\"venue\": \"村委会\"}", &u, &err), 0);
    assert_string_equal(str(u, "venue"), "村委会");
    json_decref(u);

    /* removing a field that holds data is refused, and nothing changes */
    {
        const char *from[] = {MEDIATOR_LINE};
        const char *to[] = {VENUE_LINE};
        struct sifa_model *m2 = modified_model(f, from, to, 1);
        assert_int_equal(sync_model(f, m2, &changes, &err), SIFA_ECONFLICT);
        assert_string_equal(err.code, "destructive_change");
        assert_int_equal(json_array_size(err.details), 1);
        json_t *d = json_array_get(err.details, 0);
        assert_string_equal(str(d, "field"), "mediator");
        assert_string_equal(str(d, "change"), "remove_field");
        assert_int_equal(num(d, "records"), 1);
        sifa_error_release(&err);
        sifa_model_free(m2);
    }
    r = get(f, id);
    assert_string_equal(str(r, "mediator"), "老王");
    json_decref(r);

    /* changing the type of a field that holds data is refused */
    {
        const char *from[] = {MEDIATOR_LINE, AMOUNT_LINE};
        const char *to[] = {MEDIATOR_LINE VENUE_LINE, "  - {code: amount, name: 涉及金额, type: integer, min: 0}\n"};
        struct sifa_model *m2 = modified_model(f, from, to, 2);
        assert_int_equal(sync_model(f, m2, &changes, &err), SIFA_ECONFLICT);
        assert_string_equal(err.code, "destructive_change");
        assert_int_equal(json_array_size(err.details), 1);
        assert_string_equal(str(json_array_get(err.details, 0), "field"), "amount");
        assert_string_equal(str(json_array_get(err.details, 0), "change"), "change_type");
        sifa_error_release(&err);
        sifa_model_free(m2);
    }

    /* removing an empty field is allowed */
    {
        const char *from[] = {MEDIATOR_LINE, PERFORMED_LINE};
        const char *to[] = {MEDIATOR_LINE VENUE_LINE, ""};
        use_model(f, modified_model(f, from, to, 2));
    }
    assert_int_equal(sync_model(f, f->model, &changes, &err), 0);
    assert_true(has_change(changes, "performed", "drop_empty_field"));
    json_decref(changes);
    r = get(f, id);
    assert_null(json_object_get(r, "performed"));
    assert_string_equal(str(r, "venue"), "村委会");
    assert_string_equal(str(r, "mediator"), "老王");
    json_decref(r);
    assert_int_equal(list_total(f, "q=邻里纠纷"), 1);
}

/* Retyping an empty field must give the new type's storage: an integer field that took over an
 * empty text column has to come back as a JSON integer and compare as a number. */
static void test_schema_retype_empty_field(void **state)
{
    struct fixture *f = *state;
    json_t *r = create(f, "{" BASE_INPUT "}");
    int64_t id = record_id(r);
    json_decref(r);
    r = create(f, "{" BASE_INPUT "}");
    int64_t id2 = record_id(r);
    json_decref(r);
    struct sifa_error err = {0};
    json_t *changes = NULL;
    const char *from[] = {FORM_LINE};
    const char *to[] = {"  - {code: agreement_form, name: 协议份数, type: integer}\n"};
    use_model(f, modified_model(f, from, to, 1));
    assert_int_equal(sync_model(f, f->model, &changes, &err), 0);
    assert_true(has_change(changes, "agreement_form", "retype_empty_field"));
    json_decref(changes);
    json_t *u = NULL;
    assert_int_equal(update(f, id, -1, "{\"agreement_form\": 10}", &u, &err), 0);
    json_decref(u);
    assert_int_equal(update(f, id2, -1, "{\"agreement_form\": 9}", &u, &err), 0);
    json_decref(u);
    r = get(f, id);
    if (!json_is_integer(json_object_get(r, "agreement_form")))
        dump("agreement_form", json_object_get(r, "agreement_form"));
    assert_true(json_is_integer(json_object_get(r, "agreement_form")));
    assert_int_equal(num(r, "agreement_form"), 10);
    json_decref(r);
    /* 10 > 9 as numbers (as text "10" < "9") */
    assert_int_equal(list_total(f, "agreement_form__gt=9"), 1);
}

/* Creates from text under the fixture's scope; returns the engine's status (err filled, rolled
 * back on failure) and the new record's id in *ret_id. */
static int create_status(struct fixture *f, const char *text, int64_t *ret_id, struct sifa_error *err)
{
    json_t *values = valid(f, text, false);
    json_t *record = NULL;
    assert_int_equal(sifa_db_begin(f->db, NULL), 0);
    int rc = sifa_record_create(f->db, &f->rc, f->m, values, &record, err);
    if (rc == 0) {
        assert_int_equal(flush_commit(f->db, f->model, NULL), 0);
        *ret_id = record_id(record);
    } else {
        assert_int_equal(sifa_db_rollback(f->db, NULL), 0);
    }
    json_decref(record);
    json_decref(values);
    return rc;
}

/* A context without a scope sees and writes nothing (it used to mean "everything": a caller that
 * forgot its scope leaked every record); SIFA_RECORD_SCOPE_ALL is how the CLI asks for all. */
static void test_scope_none_denies_all_allows(void **state)
{
    struct fixture *f = *state;
    make_list_records(f);
    /* one with a deadline due: an online application not answered */
    json_decref(create(f, "{" BASE_INPUT ", \"applied_at\": \"2021-09-27T09:00:00+08:00\"}"));
    json_t *page = list_ok(f, "page=1");
    int64_t id = num(json_array_get(json_object_get(page, "items"), 0), "id");
    json_decref(page);
    struct sifa_error err = {0};
    json_t *out = NULL;

    f->rc.scope = NULL;
    assert_int_equal(list_total(f, "page=1"), 0);
    assert_int_equal(list_total(f, "org=cixi_01"), 0);
    assert_int_equal(sifa_record_get(f->db, &f->rc, f->m, id, &out, &err), SIFA_ENOTFOUND);
    assert_string_equal(err.code, "record_not_found");
    sifa_error_release(&err);
    assert_int_equal(sifa_record_history(f->db, &f->rc, f->m, id, &out, &err), SIFA_ENOTFOUND);
    sifa_error_release(&err);
    assert_int_equal(update(f, id, -1, "{\"title\": \"改\"}", &out, &err), SIFA_ENOTFOUND);
    sifa_error_release(&err);
    int64_t created = 0;
    assert_int_equal(create_status(f, "{" BASE_INPUT "}", &created, &err), SIFA_EDENIED);
    assert_string_equal(err.code, "no_scope");
    sifa_error_release(&err);
    struct sifa_record_ctx later = f->rc;
    later.now = NOW_2021_11_01;
    assert_int_equal(sifa_record_deadlines_due(f->db, &later, NOW_2021_11_01 + 400 * 86400, NULL, &out, &err), 0);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);

    f->rc.scope = SIFA_RECORD_SCOPE_ALL;
    assert_int_equal(list_total(f, "page=1"), 5);
    json_decref(get(f, id));
    later = f->rc;
    later.now = NOW_2021_11_01;
    assert_int_equal(sifa_record_deadlines_due(f->db, &later, NOW_2021_11_01 + 400 * 86400, NULL, &out, &err), 0);
    assert_true(json_array_size(out) > 0);
    json_decref(out);
}

/* Where a self-scope grant (仅本人) may put records: its own org subtree, and with an org-based
 * grant beside it the union of the two, never anywhere (it used to allow any org). */
static void test_scope_self_writes_within_own_subtree(void **state)
{
    struct fixture *f = *state;
    struct sifa_error err = {0};
    json_t *out = NULL;
    int64_t mine = 0, other = 0;
    f->rc.scope = SIFA_RECORD_SCOPE_ALL;
    assert_int_equal(create_status(f, "{" BASE_INPUT ", \"committee\": \"cixi_02\"}", &other, &err), 0);

    /* a mediator of cixi_01: records they create, put in cixi_01 and below */
    struct sifa_record_scope self = {.creator = "mediator", .creator_org = "cixi_01"};
    f->rc.scope = &self;
    f->rc.actor = "mediator";
    assert_int_equal(create_status(f, "{" BASE_INPUT ", \"committee\": \"cixi_02\"}", &mine, &err), SIFA_EDENIED);
    assert_string_equal(err.code, "org_out_of_scope");
    sifa_error_release(&err);
    assert_int_equal(create_status(f, "{" BASE_INPUT "}", &mine, &err), 0);
    assert_int_equal(list_total(f, "page=1"), 1); /* only their own */
    assert_int_equal(update(f, mine, -1, "{\"title\": \"调解员改标题\"}", &out, &err), 0);
    json_decref(out);
    assert_int_equal(update(f, mine, -1, "{\"committee\": \"cixi_02\"}", &out, &err), SIFA_EDENIED);
    assert_string_equal(err.code, "org_out_of_scope");
    sifa_error_release(&err);
    assert_int_equal(update(f, other, -1, "{\"title\": \"x\"}", &out, &err), SIFA_ENOTFOUND);
    sifa_error_release(&err);
    /* without an org unit of their own: nowhere */
    struct sifa_record_scope homeless = {.creator = "mediator"};
    f->rc.scope = &homeless;
    assert_int_equal(create_status(f, "{" BASE_INPUT "}", &mine, &err), SIFA_EDENIED);
    sifa_error_release(&err);

    /* judicial office of cixi_01 and mediator: may not move their own record to cixi_02 */
    const char *const sub[] = {"cixi_01"};
    struct sifa_record_scope both = {.nsubtrees = 1, .subtrees = sub, .creator = "mediator", .creator_org = "cixi_01"};
    f->rc.scope = &both;
    assert_int_equal(update(f, mine, -1, "{\"committee\": \"cixi_02\"}", &out, &err), SIFA_EDENIED);
    assert_string_equal(err.code, "org_out_of_scope");
    sifa_error_release(&err);
    /* a user of the whole city plus a self grant: the org-based grant decides */
    const char *const city[] = {"cixi"};
    struct sifa_record_scope wide = {.nsubtrees = 1, .subtrees = city, .creator = "mediator", .creator_org = "cixi_01"};
    f->rc.scope = &wide;
    assert_int_equal(update(f, mine, -1, "{\"committee\": \"cixi_02\"}", &out, &err), 0);
    json_decref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_validate_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_unknown_and_enum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_money, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_dates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_parties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_many_problems_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_text_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_and_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_write_prepares_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_bad_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadlines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadlines_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadlines_due_ordered_across_deadlines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_add_and_remove_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_retype_empty_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scope_none_denies_all_allows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scope_self_writes_within_own_subtree, setup, teardown),
        /* last: under ASan the use-after-free it exposes aborts the process */
        cmocka_unit_test_setup_teardown(test_list_two_search_words, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
