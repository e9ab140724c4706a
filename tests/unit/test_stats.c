/* test_stats.c — unit tests for src/stats (periods, exact decimals and their rounding at the
 * boundaries, 同比/环比 shifts) and for the aggregates the record engine keeps (record/aggregate.c):
 * every indicator kind read through sifa_stats_read after creates, updates, transitions and
 * deletes on a real SQLite database, roll-up over the org tree, scopes, verification of tampered
 * aggregates and their rebuild. Runs from the repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/common.h"
#include "auth/schema.h"
#include "record/record.h"
#include "stats/stats.h"

/* ---------- periods ---------- */

static void period_is(const char *text, char kind, int32_t from, int32_t to, const char *label)
{
    struct sifa_period p;
    struct sifa_error err = {0};
    assert_int_equal(sifa_period_parse(text, &p, &err), 0);
    assert_int_equal(p.kind, kind);
    assert_int_equal(p.from, from);
    assert_int_equal(p.to, to);
    assert_string_equal(p.label, label);
}

static void test_period_parse(void **state)
{
    (void)state;
    period_is("2021", 'Y', 20210101, 20211231, "2021");
    period_is("2021Q1", 'Q', 20210101, 20210331, "2021Q1");
    period_is("2021Q4", 'Q', 20211001, 20211231, "2021Q4");
    period_is("2024-02", 'M', 20240201, 20240229, "2024-02");
    period_is("2021-02", 'M', 20210201, 20210228, "2021-02");
    period_is("2021-07-15", 'R', 20210715, 20210715, "2021-07-15");
    period_is("2021-01-01..2021-06-30", 'R', 20210101, 20210630, "2021-01-01..2021-06-30");
    const char *bad[] = {"", "21", "2021Q0", "2021Q5", "2021-00", "2021-13", "2021-02-29", "2021-1-01", "abcd",
                         "2021-06-30..2021-01-01", "1800", "2021-01-01..2200-01-01", "2021-01-01..", "2021Q1x"};
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(bad); i++) {
        struct sifa_period p;
        struct sifa_error err = {0};
        assert_int_equal(sifa_period_parse(bad[i], &p, &err), SIFA_EINVALID);
        assert_string_equal(err.code, "bad_period");
        sifa_error_release(&err);
    }
}

static void shifted(const char *text, enum sifa_compare how, const char *want)
{
    struct sifa_period p, prev;
    struct sifa_error err = {0};
    assert_int_equal(sifa_period_parse(text, &p, &err), 0);
    assert_int_equal(sifa_period_shift(&p, how, &prev, &err), 0);
    assert_string_equal(prev.label, want);
}

static void test_period_shift(void **state)
{
    (void)state;
    shifted("2021", SIFA_COMPARE_PREVIOUS_YEAR, "2020");
    shifted("2021", SIFA_COMPARE_PREVIOUS_PERIOD, "2020");
    shifted("2021Q3", SIFA_COMPARE_PREVIOUS_YEAR, "2020Q3");
    shifted("2021Q1", SIFA_COMPARE_PREVIOUS_PERIOD, "2020Q4");
    shifted("2021-07", SIFA_COMPARE_PREVIOUS_PERIOD, "2021-06");
    shifted("2021-01", SIFA_COMPARE_PREVIOUS_PERIOD, "2020-12");
    shifted("2021-03", SIFA_COMPARE_PREVIOUS_YEAR, "2020-03");
    shifted("2021-02", SIFA_COMPARE_PREVIOUS_YEAR, "2020-02"); /* 2020-02 has 29 days */
    shifted("2024-02-29", SIFA_COMPARE_PREVIOUS_YEAR, "2023-02-28");
    shifted("2021-01-01..2021-06-30", SIFA_COMPARE_PREVIOUS_YEAR, "2020-01-01..2020-06-30");
    shifted("2021-03-11..2021-03-20", SIFA_COMPARE_PREVIOUS_PERIOD, "2021-03-01..2021-03-10");
    struct sifa_period p, prev;
    assert_int_equal(sifa_period_parse("2020-02", &p, NULL), 0);
    assert_int_equal(sifa_period_shift(&p, SIFA_COMPARE_PREVIOUS_YEAR, &prev, NULL), 0);
    assert_int_equal(prev.to, 20190228);
}

static void test_period_pieces(void **state)
{
    (void)state;
    struct sifa_period_piece out[SIFA_PERIOD_PIECES_MAX];
    size_t n = 0;
    assert_int_equal(sifa_period_pieces(20210101, 20211231, out, SIFA_PERIOD_PIECES_MAX, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].level, 'Y');
    assert_string_equal(out[0].period, "2021");
    assert_int_equal(sifa_period_pieces(20210101, 20210630, out, SIFA_PERIOD_PIECES_MAX, &n, NULL), 0);
    assert_int_equal(n, 6); /* a half year is its months */
    assert_string_equal(out[0].period, "2021-01");
    assert_string_equal(out[5].period, "2021-06");
    /* 14 days of February, March, 10 days of April */
    assert_int_equal(sifa_period_pieces(20210215, 20210410, out, SIFA_PERIOD_PIECES_MAX, &n, NULL), 0);
    assert_int_equal(n, 25);
    assert_string_equal(out[0].period, "2021-02-15");
    assert_string_equal(out[14].period, "2021-03");
    assert_int_equal(out[14].level, 'M');
    assert_string_equal(out[24].period, "2021-04-10");
    /* 2020-11-15 … 2022-02-03: days, December, 2021, January, days */
    assert_int_equal(sifa_period_pieces(20201115, 20220203, out, SIFA_PERIOD_PIECES_MAX, &n, NULL), 0);
    assert_int_equal(n, 16 + 1 + 1 + 1 + 3);
    assert_string_equal(out[16].period, "2020-12");
    assert_string_equal(out[17].period, "2021");
    assert_string_equal(out[18].period, "2022-01");
    struct sifa_error err = {0};
    assert_int_equal(sifa_period_pieces(20210102, 20211230, out, 10, &n, &err), SIFA_ELIMIT);
    sifa_error_release(&err);
}

/* ---------- exact decimals ---------- */

static void divided(int64_t num, int64_t den, int digits, enum sifa_rounding rule, const char *want)
{
    struct sifa_decimal d;
    char text[64];
    assert_true(sifa_decimal_divide(num, den, digits, rule, &d));
    sifa_decimal_text(d, text, sizeof(text));
    assert_string_equal(text, want);
}

static void test_rounding_at_the_boundaries(void **state)
{
    (void)state;
    divided(8 * 100, 11, 2, SIFA_ROUND_HALF_UP, "72.73");   /* the report printed 72.72: wrong */
    divided(8 * 100, 11, 2, SIFA_ROUND_DOWN, "72.72");      /* … unless the rule is to truncate */
    divided(12015 * 100, 12033, 1, SIFA_ROUND_HALF_UP, "99.9");
    divided(12015 * 100, 12033, 2, SIFA_ROUND_HALF_UP, "99.85");
    divided(4 * 100, 91, 2, SIFA_ROUND_HALF_UP, "4.40");   /* 败诉率 4.40% */
    divided((206 - 242) * 100, 242, 2, SIFA_ROUND_HALF_UP, "-14.88"); /* 同比下降 14.88% */
    divided(1 * 100, 8, 1, SIFA_ROUND_HALF_UP, "12.5");
    divided(1 * 100, 8, 0, SIFA_ROUND_HALF_UP, "13"); /* exactly half: away from zero */
    divided(-1 * 100, 8, 0, SIFA_ROUND_HALF_UP, "-13");
    divided(1 * 100, 8, 0, SIFA_ROUND_DOWN, "12");
    divided(-1 * 100, 8, 0, SIFA_ROUND_DOWN, "-12");
    divided(1, 3, 6, SIFA_ROUND_HALF_UP, "0.333333");
    divided(5, 1000, 2, SIFA_ROUND_HALF_UP, "0.01");
    divided(-5, 1000, 2, SIFA_ROUND_HALF_UP, "-0.01");
    divided(12033, 365, 0, SIFA_ROUND_HALF_UP, "33");
    divided(0, 7, 2, SIFA_ROUND_HALF_UP, "0.00");
    struct sifa_decimal d;
    assert_false(sifa_decimal_divide(1, 0, 2, SIFA_ROUND_HALF_UP, &d));
    assert_false(sifa_decimal_divide(INT64_MAX, 1, 6, SIFA_ROUND_HALF_UP, &d));
    char text[32];
    sifa_decimal_text((struct sifa_decimal){17800000000, 2}, text, sizeof(text)); /* 1.78亿元 in fen */
    assert_string_equal(text, "178000000.00");
    sifa_decimal_text((struct sifa_decimal){-5, 3}, text, sizeof(text));
    assert_string_equal(text, "-0.005");
}

/* ---------- aggregates through the engine ---------- */

static const char MODULE[] =
    "code: entry\n"
    "name: 登记\n"
    "org_field: unit\n"
    "fields:\n"
    "  - {code: unit, name: 单位, type: org, required: true}\n"
    "  - {code: person, name: 人员, type: text, required: true, max_length: 32}\n"
    "  - {code: kind, name: 类别, type: enum, codes: kinds, required: true}\n"
    "  - {code: entered_on, name: 入册日期, type: date, required: true}\n"
    "  - {code: left_on, name: 出册日期, type: date}\n"
    "  - {code: amount, name: 金额, type: money, min: 0}\n"
    "states:\n"
    "  - {code: open, name: 在册, initial: true}\n"
    "  - {code: closed, name: 出册, final: true}\n"
    "transitions:\n"
    "  - {code: close, name: 出册, from: [open], to: closed, sets: [left_on]}\n";
static const char CODES[] = "code: kinds\nname: 类别\nitems:\n  - {code: a, label: 甲类}\n  - {code: b, label: 乙类}\n";
static const char INDICATORS[] =
    "indicators:\n"
    "  - {code: entries, name: 入册, unit: 人次, kind: count, module: entry, date: entered_on, by: [kind]}\n"
    "  - {code: a_entries, name: 甲类入册, unit: 人次, kind: count, module: entry, date: entered_on,\n"
    "     where: [{field: kind, eq: a}]}\n"
    "  - {code: amount, name: 金额, unit: 元, kind: sum, module: entry, date: entered_on, field: amount}\n"
    "  - {code: persons, name: 人员, unit: 人, kind: distinct, module: entry, date: entered_on, field: person}\n"
    "  - {code: register, name: 在册, unit: 人, kind: stock, module: entry, date: entered_on, end: left_on}\n"
    "  - {code: a_share, name: 甲类占比, unit: \"%\", kind: ratio, of: [a_entries, entries], digits: 2}\n"
    "  - {code: not_a, name: 非甲类, unit: 人次, kind: difference, of: [entries, a_entries]}\n"
    "  - {code: per_day, name: 日均入册, unit: 人次/日, kind: per_day, of: entries, digits: 3}\n"
    "  - {code: entries_yoy, name: 入册同比, unit: \"%\", kind: change, of: entries}\n"
    "  - {code: both, name: 合计, unit: 人次, kind: total, of: [entries, a_entries]}\n";

struct fixture {
    char dir[64], path[96];
    struct sifa_db *db;
    struct sifa_model *model;
    const struct sifa_module *m;
    struct sifa_record_ctx rc;
};

static int setup_db(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/sifa_test_stats.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/s.db", f->dir);
    struct sifa_error err = {0};
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, f->path);
    cfg.create = true;
    cfg.synchronous_full = false;
    assert_int_equal(sifa_db_open(&cfg, &f->db, &err), 0);
    assert_int_equal(sifa_db_migrate(f->db, sifa_db_core_migrations, sifa_db_core_migrations_count, &err), 0);
    assert_int_equal(sifa_db_migrate(f->db, sifa_auth_migrations, sifa_auth_migrations_count, &err), 0);
    assert_int_equal(sifa_record_connection_init(f->db, &err), 0);
    json_t *errors = NULL;
    assert_int_equal(sifa_model_load_text("entry.yaml", MODULE, strlen(MODULE), CODES, strlen(CODES), &f->model,
                                          &errors, &err),
                     0);
    int r = sifa_model_load_indicators_text(f->model, "i.yaml", INDICATORS, strlen(INDICATORS), &errors, &err);
    if (r < 0) {
        char *s = json_dumps(errors, JSON_INDENT(1));
        print_message("%s\n", s ? s : err.message);
        free(s);
    }
    assert_int_equal(r, 0);
    f->m = sifa_model_module(f->model, "entry");
    /* city > t1 > u1, u2; city > t2 > u3 */
    assert_int_equal(sifa_db_exec(f->db,
                                  "INSERT INTO orgs (code, name, kind, parent, path, created_at, updated_at) VALUES "
                                  "('city', '市', 'city', NULL, '/city/', '', ''),"
                                  "('t1', '一镇', 'town', 'city', '/city/t1/', '', ''),"
                                  "('t2', '二镇', 'town', 'city', '/city/t2/', '', ''),"
                                  "('u1', '甲', 'other', 't1', '/city/t1/u1/', '', ''),"
                                  "('u2', '乙', 'other', 't1', '/city/t1/u2/', '', ''),"
                                  "('u3', '丙', 'other', 't2', '/city/t2/u3/', '', '')",
                                  &err),
                     0);
    json_t *changes = NULL;
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    assert_int_equal(sifa_record_sync_schema(f->db, f->model, &changes, &err), 0);
    assert_int_equal(sifa_db_commit(f->db, &err), 0);
    json_decref(changes);
    f->rc = (struct sifa_record_ctx){.model = f->model, .scope = SIFA_RECORD_SCOPE_ALL, .actor = "tester",
                                     .now = 1632787200};
    *state = f;
    return 0;
}

static int teardown_db(void **state)
{
    struct fixture *f = *state;
    sifa_db_close(f->db);
    sifa_model_free(f->model);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        print_message("could not remove %s\n", f->dir);
    free(f);
    return 0;
}

static int64_t create(struct fixture *f, const char *unit, const char *person, const char *kind, const char *entered,
                      const char *left, const char *amount)
{
    json_t *in = json_pack("{s:s,s:s,s:s,s:s}", "unit", unit, "person", person, "kind", kind, "entered_on", entered);
    if (left)
        json_object_set_new(in, "left_on", json_string(left));
    if (amount)
        json_object_set_new(in, "amount", json_string(amount));
    json_t *values = NULL, *rec = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_record_validate(&f->rc, f->m, in, false, &values, &err), 0);
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    assert_int_equal(sifa_record_create(f->db, &f->rc, f->m, values, &rec, &err), 0);
    assert_int_equal(sifa_record_flush_search(f->db, f->model, &err), 0);
    assert_int_equal(sifa_db_commit(f->db, &err), 0);
    int64_t id = json_integer_value(json_object_get(rec, "id"));
    json_decref(in);
    json_decref(values);
    json_decref(rec);
    return id;
}

static void update(struct fixture *f, int64_t id, json_t *in_take)
{
    json_t *values = NULL, *rec = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_record_validate(&f->rc, f->m, in_take, true, &values, &err), 0);
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    assert_int_equal(sifa_record_update(f->db, &f->rc, f->m, id, -1, values, &rec, &err), 0);
    assert_int_equal(sifa_record_flush_search(f->db, f->model, &err), 0);
    assert_int_equal(sifa_db_commit(f->db, &err), 0);
    json_decref(in_take);
    json_decref(values);
    json_decref(rec);
}

/* The figure's text (or "-" without a value) for one indicator, org (NULL: all) and period. */
static char *figure(struct fixture *f, const char *code, const char *org, const char *period)
{
    struct sifa_error err = {0};
    struct sifa_org_tree *tree = NULL;
    assert_int_equal(sifa_org_tree_load(f->db, &tree, &err), 0);
    const struct sifa_indicator *ind = sifa_model_indicator(f->model, code);
    assert_non_null(ind);
    const char *orgs[1] = {org};
    struct sifa_stats_request req = {.model = f->model, .tree = tree, .indicators = &ind, .nindicators = 1,
                                     .orgs = orgs, .norgs = 1, .scope_for = sifa_stats_scope_all};
    assert_int_equal(sifa_period_parse(period, &req.period, &err), 0);
    json_t *out = NULL;
    assert_int_equal(sifa_stats_read(f->db, &req, &out, &err), 0);
    const char *t = json_string_value(json_object_get(json_array_get(json_object_get(out, "items"), 0), "text"));
    char *s = strdup(t ? t : "-");
    json_decref(out);
    sifa_org_tree_free(tree);
    return s;
}

#define assert_figure(f, code, org, period, want)                                                                     \
    do {                                                                                                               \
        char *got_ = figure(f, code, org, period);                                                               \
        assert_string_equal(got_, want);                                                                               \
        free(got_);                                                                                                    \
    } while (0)

static void assert_verified(struct fixture *f, size_t want_diffs)
{
    json_t *diffs = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_record_aggregates_verify(f->db, f->model, 0, &diffs, &err), 0);
    if (json_array_size(diffs) != want_diffs) {
        char *s = json_dumps(diffs, JSON_INDENT(1));
        print_message("%s\n", s);
        free(s);
    }
    assert_int_equal(json_array_size(diffs), want_diffs);
    json_decref(diffs);
}

static void test_every_kind_follows_the_records(void **state)
{
    struct fixture *f = *state;
    create(f, "u1", "P1", "a", "2021-01-10", NULL, "100.50");
    int64_t p2 = create(f, "u1", "P2", "b", "2021-01-20", "2021-03-01", NULL);
    create(f, "u2", "P1", "a", "2021-06-01", NULL, "0.50");
    int64_t p3 = create(f, "u3", "P3", "a", "2021-07-01", "2022-01-05", "10");
    create(f, "u3", "P4", "b", "2020-05-05", NULL, NULL);
    assert_figure(f, "entries", NULL, "2021", "4");
    assert_figure(f, "entries", "t1", "2021", "3");
    assert_figure(f, "entries", "u3", "2021", "1");
    assert_figure(f, "a_entries", "city", "2021", "3");
    assert_figure(f, "amount", NULL, "2021", "111.00");
    assert_figure(f, "amount", "t1", "2021Q1", "100.50");
    assert_figure(f, "persons", NULL, "2021", "3");   /* P1 twice: one person */
    assert_figure(f, "persons", "t1", "2021", "2");
    assert_figure(f, "register", NULL, "2021", "4");  /* 5 entered up to 2021, P2 left */
    assert_figure(f, "register", NULL, "2021-02-28", "3"); /* P4, P1, P2 */
    assert_figure(f, "register", NULL, "2021-03-01", "2"); /* P2 left that day */
    assert_figure(f, "register", NULL, "2022", "3");
    assert_figure(f, "register", "t2", "2020", "1");
    assert_figure(f, "a_share", NULL, "2021", "75.00");
    assert_figure(f, "not_a", NULL, "2021", "1");
    assert_figure(f, "both", NULL, "2021", "7"); /* 4 + 3 */
    assert_figure(f, "per_day", NULL, "2021", "0.011"); /* 4/365 */
    assert_figure(f, "entries_yoy", NULL, "2021", "300.00"); /* (4 - 1) / 1 */
    assert_figure(f, "entries", NULL, "2021Q2", "1");
    assert_figure(f, "entries", NULL, "2021Q3", "1");
    assert_figure(f, "entries", NULL, "2019", "-");
    assert_figure(f, "a_share", NULL, "2019", "-");
    assert_verified(f, 0);

    /* a record moves unit and period; another changes kind; a third leaves and is deleted */
    update(f, p2, json_pack("{s:s,s:s}", "unit", "u3", "entered_on", "2022-02-02"));
    assert_figure(f, "entries", "t1", "2021", "2");
    assert_figure(f, "entries", "t2", "2022", "1");
    assert_figure(f, "register", NULL, "2021", "4"); /* P2 now enters in 2022 and left before it: never in */
    update(f, p3, json_pack("{s:s}", "kind", "b"));
    assert_figure(f, "a_entries", NULL, "2021", "2");
    assert_figure(f, "a_share", NULL, "2021", "66.67"); /* 2/3 */
    struct sifa_error err = {0};
    json_t *rec = NULL;
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    assert_int_equal(sifa_record_transition(f->db, &f->rc, f->m, p3, "close", -1, NULL, &rec, &err), 0);
    assert_int_equal(sifa_record_delete(f->db, &f->rc, f->m, p3, -1, &err), 0);
    assert_int_equal(sifa_record_flush_search(f->db, f->model, &err), 0);
    assert_int_equal(sifa_db_commit(f->db, &err), 0);
    json_decref(rec);
    assert_figure(f, "entries", NULL, "2021", "2");
    assert_figure(f, "amount", NULL, "2021", "101.00");
    assert_verified(f, 0);

    /* a rolled-back write leaves the aggregates alone */
    json_t *values = NULL, *in = json_pack("{s:s}", "unit", "u1");
    assert_int_equal(sifa_record_validate(&f->rc, f->m, in, true, &values, &err), 0);
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    assert_int_equal(sifa_record_update(f->db, &f->rc, f->m, p2, -1, values, &rec, &err), 0);
    assert_int_equal(sifa_record_flush_search(f->db, f->model, &err), 0);
    assert_int_equal(sifa_db_rollback(f->db, &err), 0);
    json_decref(rec);
    json_decref(values);
    json_decref(in);
    assert_figure(f, "entries", "t2", "2022", "1");
    assert_verified(f, 0);
}

/* Batches of more than FLUSH_GROUPED_MAX (128) records of a module are flushed contribution by
 * contribution, smaller ones grouped first: both must give the same figures. 300 records in one
 * transaction (many sharing a figure), then 200 of them changed in another (some twice, some
 * moved between units and years, some deleted), then one small batch. */
static void test_large_batches_give_the_same_figures(void **state)
{
    struct fixture *f = *state;
    struct sifa_error err = {0};
    static const char *const units[] = {"u1", "u2", "u3"};
    int64_t ids[300];
    long long a_2021 = 0, all_2021 = 0, t1_2021 = 0;
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    for (int i = 0; i < 300; i++) {
        char person[16], day[16];
        snprintf(person, sizeof(person), "P%d", i % 50);
        snprintf(day, sizeof(day), "%d-%02d-%02d", i % 4 == 0 ? 2020 : 2021, 1 + i % 12, 1 + i % 5);
        json_t *in = json_pack("{s:s,s:s,s:s,s:s,s:s}", "unit", units[i % 3], "person", person, "kind",
                               i % 3 == 1 ? "b" : "a", "entered_on", day, "amount", "1.25");
        json_t *values = NULL, *rec = NULL;
        assert_int_equal(sifa_record_validate(&f->rc, f->m, in, false, &values, &err), 0);
        assert_int_equal(sifa_record_create(f->db, &f->rc, f->m, values, &rec, &err), 0);
        ids[i] = json_integer_value(json_object_get(rec, "id"));
        json_decref(in);
        json_decref(values);
        json_decref(rec);
    }
    assert_int_equal(sifa_record_flush_search(f->db, f->model, &err), 0);
    assert_int_equal(sifa_db_commit(f->db, &err), 0);
    assert_verified(f, 0);

    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    for (int i = 0; i < 200; i++) {
        json_t *in = i % 2 == 0 ? json_pack("{s:s}", "unit", "u2") : json_pack("{s:s,s:s}", "kind", "b", "entered_on", "2021-12-31");
        for (int pass = 0; pass < (i % 7 == 0 ? 2 : 1); pass++) {
            json_t *values = NULL, *rec = NULL;
            assert_int_equal(sifa_record_validate(&f->rc, f->m, in, true, &values, &err), 0);
            assert_int_equal(sifa_record_update(f->db, &f->rc, f->m, ids[i], -1, values, &rec, &err), 0);
            json_decref(values);
            json_decref(rec);
        }
        json_decref(in);
    }
    for (int i = 200; i < 220; i++)
        assert_int_equal(sifa_record_delete(f->db, &f->rc, f->m, ids[i], -1, &err), 0);
    assert_int_equal(sifa_record_flush_search(f->db, f->model, &err), 0);
    assert_int_equal(sifa_db_commit(f->db, &err), 0);
    assert_verified(f, 0);
    update(f, ids[0], json_pack("{s:s}", "unit", "u3")); /* a batch of one: grouped */
    assert_verified(f, 0);

    /* the same figures counted here from what the loops above did */
    for (int i = 0; i < 300; i++) {
        if (i >= 200 && i < 220)
            continue;
        bool changed_odd = i < 200 && i % 2 == 1;
        int year = changed_odd ? 2021 : i % 4 == 0 ? 2020 : 2021;
        const char *unit = i == 0 ? "u3" : i < 200 && i % 2 == 0 ? "u2" : units[i % 3];
        bool is_a = !changed_odd && i % 3 != 1;
        if (year == 2021) {
            all_2021++;
            a_2021 += is_a;
            t1_2021 += strcmp(unit, "u3") != 0;
        }
    }
    char want[32];
    snprintf(want, sizeof(want), "%lld", all_2021);
    assert_figure(f, "entries", NULL, "2021", want);
    snprintf(want, sizeof(want), "%lld", a_2021);
    assert_figure(f, "a_entries", NULL, "2021", want);
    snprintf(want, sizeof(want), "%lld", t1_2021);
    assert_figure(f, "entries", "t1", "2021", want);
    snprintf(want, sizeof(want), "%.2f", (double)all_2021 * 1.25);
    assert_figure(f, "amount", NULL, "2021", want);
}

static void test_verify_finds_tampering_and_rebuild_repairs_it(void **state)
{
    struct fixture *f = *state;
    create(f, "u1", "P1", "a", "2021-01-10", NULL, NULL);
    create(f, "u2", "P2", "b", "2021-05-10", NULL, NULL);
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_exec(f->db, "UPDATE stat_values SET value = 7 WHERE indicator = 'entries' AND "
                                         "level = 'M' AND period = '2021-05' AND dim = ''",
                                  &err),
                     0);
    assert_int_equal(sifa_db_exec(f->db, "DELETE FROM stat_keys WHERE indicator = 'persons' AND level = 'Y'", &err), 0);
    assert_verified(f, 3); /* one value, two keys (P1 and P2) */
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    assert_int_equal(sifa_record_aggregates_rebuild(f->db, f->model, NULL, 0, &err), 0);
    assert_int_equal(sifa_db_commit(f->db, &err), 0);
    assert_verified(f, 0);
    assert_figure(f, "entries", NULL, "2021-05", "1");
    assert_figure(f, "persons", NULL, "2021", "2");
    json_t *stale = NULL;
    assert_int_equal(sifa_stats_check_definitions(f->db, f->model, false, &stale, &err), 0);
    assert_int_equal(json_array_size(stale), 0);
    json_decref(stale);
}

static const struct sifa_record_scope *only_t1(void *arg, const struct sifa_module *m)
{
    (void)m;
    return arg;
}

static void test_scope_limits_the_roll_up(void **state)
{
    struct fixture *f = *state;
    create(f, "u1", "P1", "a", "2021-01-10", NULL, NULL);
    create(f, "u3", "P2", "a", "2021-01-10", NULL, NULL);
    const char *subtrees[] = {"t1"};
    struct sifa_record_scope scope = {.nsubtrees = 1, .subtrees = subtrees};
    struct sifa_error err = {0};
    struct sifa_org_tree *tree = NULL;
    assert_int_equal(sifa_org_tree_load(f->db, &tree, &err), 0);
    const struct sifa_indicator *ind = sifa_model_indicator(f->model, "entries");
    const char *orgs[] = {NULL, "city", "t1"};
    struct sifa_stats_request req = {.model = f->model, .tree = tree, .indicators = &ind, .nindicators = 1,
                                     .orgs = orgs, .norgs = 3, .scope_for = only_t1, .scope_arg = &scope};
    assert_int_equal(sifa_period_parse("2021", &req.period, &err), 0);
    json_t *out = NULL;
    assert_int_equal(sifa_stats_read(f->db, &req, &out, &err), 0);
    json_t *items = json_object_get(out, "items");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "value")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "value")), 1);
    assert_true(json_is_true(json_object_get(json_array_get(items, 1), "partial")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 2), "value")), 1);
    json_decref(out);
    const char *other[] = {"t2"};
    req.orgs = other;
    req.norgs = 1;
    assert_int_equal(sifa_stats_read(f->db, &req, &out, &err), SIFA_ENOTFOUND);
    assert_string_equal(err.code, "org_not_found");
    sifa_error_release(&err);

    /* no scope function: nothing readable (it used to mean everything) */
    req.orgs = orgs;
    req.norgs = 3;
    req.scope_for = NULL;
    assert_int_equal(sifa_stats_read(f->db, &req, &out, &err), SIFA_EDENIED);
    assert_string_equal(err.code, "indicator_denied");
    sifa_error_release(&err);
    /* the explicit everything: both towns */
    req.scope_for = sifa_stats_scope_all;
    assert_int_equal(sifa_stats_read(f->db, &req, &out, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(out, "items"), 0), "value")), 2);
    json_decref(out);
    sifa_org_tree_free(tree);
}

/* Every indicator, for several units, with the compared period, in one read: many series are
 * loaded while a stock holds pointers to earlier ones (a use-after-free under ASan once), and
 * each figure equals the one read alone. A distinct figure without data sorts nothing. */
static void test_many_figures_in_one_read(void **state)
{
    struct fixture *f = *state;
    create(f, "u1", "P1", "a", "2021-01-10", NULL, NULL);
    create(f, "u3", "P2", "b", "2020-03-10", "2021-05-01", "5");
    struct sifa_error err = {0};
    struct sifa_org_tree *tree = NULL;
    assert_int_equal(sifa_org_tree_load(f->db, &tree, &err), 0);
    const struct sifa_indicator *inds[32];
    size_t n = 0;
    for (size_t i = 0; i < f->model->nindicators && n < 32; i++)
        inds[n++] = &f->model->indicators[i];
    const char *orgs[] = {NULL, "city", "t1", "t2", "u1", "u2", "u3"};
    struct sifa_stats_request req = {.model = f->model, .tree = tree, .indicators = inds, .nindicators = n,
                                     .orgs = orgs, .norgs = 7, .compare = true, .scope_for = sifa_stats_scope_all};
    assert_int_equal(sifa_period_parse("2021", &req.period, &err), 0);
    json_t *out = NULL;
    assert_int_equal(sifa_stats_read(f->db, &req, &out, &err), 0);
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(out, "items"), i, item)
    {
        const char *org = json_string_value(json_object_get(item, "org"));
        const char *code = json_string_value(json_object_get(item, "indicator"));
        const char *text = json_string_value(json_object_get(item, "text"));
        if (strcmp(code, "per_day") == 0 || (org != NULL && strcmp(org, "city") != 0))
            continue;
        char *alone = figure(f, code, org, "2021");
        assert_string_equal(text ? text : "-", alone);
        free(alone);
    }
    json_decref(out);
    /* a period where the distinct figure has no data */
    assert_figure(f, "persons", "u2", "2019", "-");
    sifa_org_tree_free(tree);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_period_parse),
        cmocka_unit_test(test_period_shift),
        cmocka_unit_test(test_period_pieces),
        cmocka_unit_test(test_rounding_at_the_boundaries),
        cmocka_unit_test_setup_teardown(test_every_kind_follows_the_records, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_large_batches_give_the_same_figures, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_verify_finds_tampering_and_rebuild_repairs_it, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_scope_limits_the_roll_up, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_many_figures_in_one_read, setup_db, teardown_db),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
