/* test_indicators.c — unit tests for src/model/indicators.c: indicator definitions load into
 * ordered, resolved, normalised structs; every kind of definition error is reported with its code
 * and the line and column of the offending YAML node; hashes follow what aggregates depend on;
 * the JSON form; loading a directory. Definitions are small inline texts over one inline module
 * (loaded once for the group); each error variant changes one line of a base text that loads
 * cleanly, so the expected position is found from the text itself (col_of). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model.h"

/* One code table: codes are compared case-sensitively, as the record engine stores them. */
static const char CODES[] = "code: dtype\n"
                            "name: 纠纷类型\n"
                            "items:\n"
                            "  - {code: family, label: 婚姻家庭}\n"
                            "  - {code: Neighbor, label: 邻里}\n";

static const char MODULE[] = "code: case\n"
                             "name: 调解案件\n"
                             "org_field: committee\n"
                             "fields:\n"
                             "  - {code: committee, name: 调委会, type: org}\n"
                             "  - {code: branch, name: 分支机构, type: org}\n"
                             "  - {code: home_org, name: 户籍地机构, type: org, personal: true}\n"
                             "  - {code: dispute_type, name: 纠纷类型, type: enum, codes: dtype}\n"
                             "  - {code: source, name: 来源, type: enum, codes: dtype}\n"
                             "  - {code: amount, name: 涉及金额, type: money}\n"
                             "  - {code: days, name: 天数, type: integer}\n"
                             "  - {code: score, name: 评分, type: decimal}\n"
                             "  - {code: received_on, name: 收案日期, type: date}\n"
                             "  - {code: concluded_on, name: 结案日期, type: date}\n"
                             "  - {code: applied_at, name: 申请时间, type: datetime}\n"
                             "  - {code: performed, name: 已履行, type: bool}\n"
                             "  - {code: title, name: 标题, type: text}\n"
                             "  - {code: summary, name: 简要情况, type: longtext}\n"
                             "  - {code: mediator, name: 调解员, type: user}\n"
                             "  - {code: related, name: 关联案件, type: ref, module: case}\n"
                             "  - {code: id_number, name: 身份证号, type: id_number, personal: true}\n"
                             "  - {code: phone, name: 电话, type: phone}\n"
                             "  - {code: parties, name: 当事人, type: group, fields: [{code: pname, name: 姓名, type: text}]}\n"
                             "states:\n"
                             "  - {code: registered, name: 登记, initial: true}\n"
                             "  - {code: accepted, name: 受理}\n"
                             "  - {code: concluded, name: 办结, final: true}\n"
                             "deadlines:\n"
                             "  - {code: conclude, name: 30日内办结, from: received_on, unit: natural_days, amount: 30,\n"
                             "     until: [concluded], met: concluded_on}\n"
                             "  - {code: reply, name: 72小时答复, from: applied_at, unit: hours, amount: 72, until: [accepted]}\n";

/* Definitions that load without errors, one of every kind; the tests replace single lines. */
static const char BASE[] =
    /*  1 */ "indicators:\n"
    /*  2 */ "  - code: cases\n"
    /*  3 */ "    name: 调处矛盾纠纷\n"
    /*  4 */ "    unit: 件\n"
    /*  5 */ "    description: 全年受理并调处的纠纷\n"
    /*  6 */ "    kind: count\n"
    /*  7 */ "    module: case\n"
    /*  8 */ "    date: received_on\n"
    /*  9 */ "    where:\n"
    /* 10 */ "      - {field: state, in: [accepted, concluded]}\n"
    /* 11 */ "      - {field: dispute_type, eq: Neighbor}\n"
    /* 12 */ "      - {field: concluded_on, not_empty: true}\n"
    /* 13 */ "      - {field: amount, gte: \"10000.50\"}\n"
    /* 14 */ "      - {field: performed, eq: true}\n"
    /* 15 */ "    by: [dispute_type, source]\n"
    /* 16 */ "  - {code: succeeded, name: 调解成功, unit: 件, kind: count, module: case, date: concluded_on, org: branch}\n"
    /* 17 */ "  - {code: amount_sum, name: 涉及金额, unit: 元, kind: sum, module: case, date: received_on, field: amount}\n"
    /* 18 */ "  - {code: persons, name: 当事人数, unit: 人, kind: distinct, module: case, date: applied_at, field: id_number}\n"
    /* 19 */ "  - {code: in_register, name: 在册, unit: 件, kind: stock, module: case, date: received_on, end: concluded_on}\n"
    /* 20 */ "  - {code: success_rate, name: 调解成功率, unit: \"%\", kind: ratio, of: [succeeded, cases]}\n"
    /* 21 */ "  - {code: rate_gap, name: 差, unit: \"%\", kind: difference, of: [success_rate, share_x]}\n"
    /* 22 */ "  - {code: share_x, name: 占比, unit: \"%\", kind: share, of: [succeeded, cases], digits: 1, rounding: down}\n"
    /* 23 */ "  - {code: daily, name: 日均, unit: 件/日, kind: per_day, of: cases, days: working}\n"
    /* 24 */ "  - {code: yoy, name: 同比, unit: \"%\", kind: change, of: cases, compare: previous_period}\n"
    /* 25 */ "  - {code: plain_ratio, name: 比值, unit: 倍, kind: ratio, of: [cases, succeeded], scale: 1, digits: 0}\n";

#define NBASE 11

static struct sifa_model *model;

/* ---- helpers ---- */

/* base with line `line` (1-based) replaced by repl (which may hold several lines, no trailing
 * newline). line = 0 appends repl as new lines at the end. New string. */
static char *with_line_of(const char *base, int line, const char *repl)
{
    size_t cap = strlen(base) + strlen(repl) + 4;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    const char *p = base;
    int n = 1;
    size_t len = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (n == line) {
            len += (size_t)snprintf(out + len, cap - len, "%s\n", repl);
        } else {
            memcpy(out + len, p, l);
            len += l;
            out[len] = '\0';
        }
        p += l;
        n++;
    }
    if (line == 0)
        len += (size_t)snprintf(out + len, cap - len, "%s\n", repl);
    return out;
}

static char *with_line(int line, const char *repl)
{
    return with_line_of(BASE, line, repl);
}

/* 1-based column (in characters) of needle in line `line` of text; fails the test when absent. */
static int col_of(const char *text, int line, const char *needle)
{
    const char *p = text;
    for (int n = 1; n < line; n++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    const char *eol = strchr(p, '\n');
    const char *hit = strstr(p, needle);
    assert_non_null(hit);
    assert_true(eol == NULL || hit < eol);
    int col = 1;
    for (const char *q = p; q < hit; q++)
        if (((unsigned char)*q & 0xc0) != 0x80)
            col++;
    return col;
}

struct loaded {
    int rc;
    json_t *errors;
    struct sifa_error err;
};

static struct loaded load_into(struct sifa_model *m, const char *text)
{
    struct loaded l = {0};
    l.errors = (json_t *)1; /* must be overwritten */
    l.rc = sifa_model_load_indicators_text(m, "ind.yaml", text, strlen(text), &l.errors, &l.err);
    return l;
}

static struct loaded load(const char *text)
{
    return load_into(model, text);
}

static void loaded_release(struct loaded *l)
{
    json_decref(l->errors);
    sifa_error_release(&l->err);
}

static void print_errors(json_t *errors)
{
    char *s = json_dumps(errors, JSON_INDENT(1));
    print_message("errors: %s\n", s ? s : "(null)");
    free(s);
}

/* The first error with that code. */
static json_t *find_error(json_t *errors, const char *code)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "code")), code) == 0)
            return e;
    }
    print_message("no error with code %s\n", code);
    print_errors(errors);
    return NULL;
}

/* Whether some error has code at line:column. */
static bool has_error_at(json_t *errors, const char *code, int line, int column)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "code")), code) == 0 &&
            json_integer_value(json_object_get(e, "line")) == line &&
            json_integer_value(json_object_get(e, "column")) == column)
            return true;
    }
    print_message("no error %s at %d:%d\n", code, line, column);
    print_errors(errors);
    return false;
}

/* Loads text, expects failure with exactly `count` errors (0: do not check the count) of which
 * one has `code` at line:column, and a model left without indicators. */
static void expect_error(const char *text, size_t count, const char *code, int line, int column)
{
    struct loaded l = load(text);
    assert_int_equal(l.rc, SIFA_EINVALID);
    assert_non_null(l.errors);
    assert_int_equal(model->nindicators, 0);
    assert_null(model->indicators);
    assert_string_equal(l.err.code, "bad_definition");
    assert_true(json_equal(l.err.details, l.errors));
    if (count != 0 && json_array_size(l.errors) != count)
        print_errors(l.errors);
    if (count != 0)
        assert_int_equal(json_array_size(l.errors), count);
    assert_true(has_error_at(l.errors, code, line, column));
    json_t *e = find_error(l.errors, code);
    assert_string_equal(json_string_value(json_object_get(e, "file")), "ind.yaml");
    assert_non_null(json_string_value(json_object_get(e, "message")));
    loaded_release(&l);
}

/* expect_error for BASE with one line replaced; the position is needle's in that line. */
static void expect_line_error(int line, const char *repl, size_t count, const char *code, const char *needle)
{
    char *t = with_line(line, repl);
    expect_error(t, count, code, line, col_of(t, line, needle));
    free(t);
}

/* Loads text and expects success. */
static void expect_ok(const char *text)
{
    struct loaded l = load(text);
    if (l.rc != 0)
        print_errors(l.errors);
    assert_int_equal(l.rc, 0);
    assert_null(l.errors);
    loaded_release(&l);
}

static const struct sifa_indicator *ind(const char *code)
{
    const struct sifa_indicator *i = sifa_model_indicator(model, code);
    assert_non_null(i);
    return i;
}

static size_t index_of(const struct sifa_indicator *i)
{
    assert_true(i >= model->indicators && i < model->indicators + model->nindicators);
    return (size_t)(i - model->indicators);
}

static int setup(void **state)
{
    (void)state;
    json_t *errors = NULL;
    struct sifa_error err = {0};
    int rc = sifa_model_load_text("case.yaml", MODULE, strlen(MODULE), CODES, strlen(CODES), &model, &errors, &err);
    if (rc != 0)
        print_errors(errors);
    json_decref(errors);
    sifa_error_release(&err);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    sifa_model_free(model);
    model = NULL;
    return 0;
}

/* ---- a valid file ---- */

static void test_base_loads(void **state)
{
    (void)state;
    expect_ok(BASE);
    assert_int_equal(model->nindicators, NBASE);
    const struct sifa_module *m = sifa_model_module(model, "case");

    const struct sifa_indicator *i = ind("cases");
    assert_int_equal(i->kind, SIFA_IND_COUNT);
    assert_string_equal(i->name, "调处矛盾纠纷");
    assert_string_equal(i->unit, "件");
    assert_string_equal(i->description, "全年受理并调处的纠纷");
    assert_string_equal(i->file, "ind.yaml");
    assert_int_equal(i->line, 2);
    assert_int_equal(i->column, 5);
    assert_ptr_equal(i->module, m);
    assert_ptr_equal(i->date_field, sifa_module_field(m, "received_on"));
    assert_null(i->end_field);
    assert_ptr_equal(i->org_field, sifa_module_field(m, "committee")); /* the module's default */
    assert_null(i->field);
    assert_null(i->a);
    assert_null(i->b);
    assert_int_equal(strlen(i->hash), 64);
    assert_int_equal(i->nwhere, 5);
    assert_null(i->where[0].field);
    assert_int_equal(i->where[0].op, SIFA_COND_IN);
    assert_int_equal(i->where[0].nvalues, 2);
    assert_string_equal(i->where[0].values[0], "accepted");
    assert_string_equal(i->where[0].values[1], "concluded");
    assert_ptr_equal(i->where[1].field, sifa_module_field(m, "dispute_type"));
    assert_int_equal(i->where[1].op, SIFA_COND_EQ);
    assert_int_equal(i->where[1].nvalues, 1);
    assert_string_equal(i->where[1].values[0], "Neighbor");
    assert_int_equal(i->where[2].op, SIFA_COND_NOT_EMPTY);
    assert_int_equal(i->where[2].nvalues, 0);
    assert_int_equal(i->where[3].op, SIFA_COND_GTE);
    assert_string_equal(i->where[3].values[0], "1000050"); /* 元 → fen */
    assert_int_equal(i->where[4].op, SIFA_COND_EQ);
    assert_string_equal(i->where[4].values[0], "1");
    assert_int_equal(i->nby, 2);
    assert_string_equal(i->by[0]->code, "dispute_type");
    assert_string_equal(i->by[1]->code, "source");

    i = ind("succeeded");
    assert_null(i->description);
    assert_string_equal(i->org_field->code, "branch");
    assert_string_equal(i->date_field->code, "concluded_on");
    assert_int_equal(i->nwhere, 0);
    assert_int_equal(i->nby, 0);
    assert_int_equal(i->line, 16);
    assert_int_equal(i->column, 5);

    i = ind("amount_sum");
    assert_int_equal(i->kind, SIFA_IND_SUM);
    assert_string_equal(i->field->code, "amount");
    i = ind("persons");
    assert_int_equal(i->kind, SIFA_IND_DISTINCT);
    assert_string_equal(i->field->code, "id_number"); /* personal: allowed as the key */
    assert_string_equal(i->date_field->code, "applied_at");
    i = ind("in_register");
    assert_int_equal(i->kind, SIFA_IND_STOCK);
    assert_string_equal(i->end_field->code, "concluded_on");

    i = ind("success_rate");
    assert_int_equal(i->kind, SIFA_IND_RATIO);
    assert_ptr_equal(i->a, ind("succeeded"));
    assert_ptr_equal(i->b, ind("cases"));
    assert_int_equal(i->scale, 100);
    assert_int_equal(i->digits, 2);
    assert_int_equal(i->rounding, SIFA_ROUND_HALF_UP);
    assert_string_equal(i->hash, "");
    assert_null(i->module);

    i = ind("share_x");
    assert_int_equal(i->kind, SIFA_IND_RATIO);
    assert_int_equal(i->scale, 100);
    assert_int_equal(i->digits, 1);
    assert_int_equal(i->rounding, SIFA_ROUND_DOWN);

    i = ind("rate_gap");
    assert_int_equal(i->kind, SIFA_IND_DIFFERENCE);
    assert_ptr_equal(i->a, ind("success_rate"));
    assert_ptr_equal(i->b, ind("share_x"));

    i = ind("daily");
    assert_int_equal(i->kind, SIFA_IND_PER_DAY);
    assert_ptr_equal(i->a, ind("cases"));
    assert_null(i->b);
    assert_int_equal(i->digits, 1);
    assert_int_equal(i->days, SIFA_DAYS_WORKING);

    i = ind("yoy");
    assert_int_equal(i->kind, SIFA_IND_CHANGE);
    assert_int_equal(i->digits, 2);
    assert_int_equal(i->compare, SIFA_COMPARE_PREVIOUS_PERIOD);

    i = ind("plain_ratio");
    assert_int_equal(i->scale, 1);
    assert_int_equal(i->digits, 0);

    assert_null(sifa_model_indicator(model, "nope"));
}

/* Base kinds come first in file order, then every derived one after what it uses. */
static void test_order(void **state)
{
    (void)state;
    expect_ok(BASE);
    static const char *const want[] = {"cases",   "succeeded", "amount_sum", "persons", "in_register", "success_rate",
                                       "share_x", "daily",     "yoy",        "plain_ratio", "rate_gap"};
    assert_int_equal(model->nindicators, SIFA_ARRAY_SIZE(want));
    for (size_t k = 0; k < model->nindicators; k++) {
        const struct sifa_indicator *i = &model->indicators[k];
        assert_string_equal(i->code, want[k]);
        if (i->kind >= SIFA_IND_RATIO) {
            assert_non_null(i->a);
            assert_true(index_of(i->a) < k);
            if (i->b != NULL)
                assert_true(index_of(i->b) < k);
        }
    }
    /* a chain written backwards */
    expect_ok("indicators:\n"
              "  - {code: c3, name: 三, unit: 件, kind: difference, of: [c2, c1]}\n"
              "  - {code: c2, name: 二, unit: 件, kind: change, of: c1}\n"
              "  - {code: c1, name: 一, unit: 件, kind: per_day, of: c0}\n"
              "  - {code: c0, name: 零, unit: 件, kind: count, module: case, date: received_on}\n");
    assert_int_equal(model->nindicators, 4);
    assert_string_equal(model->indicators[0].code, "c0");
    assert_string_equal(model->indicators[1].code, "c1");
    assert_string_equal(model->indicators[2].code, "c2");
    assert_string_equal(model->indicators[3].code, "c3");
    assert_ptr_equal(model->indicators[3].a, &model->indicators[2]);
    assert_ptr_equal(model->indicators[3].b, &model->indicators[1]);
}

/* Values are normalised to the stored text form of their field. */
static void test_condition_values(void **state)
{
    (void)state;
    char *t = with_line(14, "      - {field: performed, eq: false}\n"
                            "      - {field: days, in: [\"007\", -3, 12]}\n"
                            "      - {field: amount, lt: 3}\n"
                            "      - {field: amount, gt: 0.5}\n"
                            "      - {field: score, lte: 10.50}\n"
                            "      - {field: received_on, gte: 2024-02-29}\n"
                            "      - {field: title, ne: 离婚纠纷}\n"
                            "      - {field: mediator, eq: zhang.san}\n"
                            "      - {field: related, eq: 12}\n"
                            "      - {field: phone, eq: \"13800138000\"}\n"
                            "      - {field: applied_at, empty: true}\n"
                            "      - {field: state, not_in: [registered]}\n"
                            "      - {field: branch, eq: org-01}");
    expect_ok(t);
    free(t);
    const struct sifa_indicator *i = ind("cases");
    assert_int_equal(i->nwhere, 4 + 13);
    const struct sifa_indicator_cond *w = &i->where[4];
    assert_string_equal(w[0].values[0], "0");
    assert_int_equal(w[1].op, SIFA_COND_IN);
    assert_int_equal(w[1].nvalues, 3);
    assert_string_equal(w[1].values[0], "7");
    assert_string_equal(w[1].values[1], "-3");
    assert_string_equal(w[1].values[2], "12");
    assert_int_equal(w[2].op, SIFA_COND_LT);
    assert_string_equal(w[2].values[0], "300");
    assert_int_equal(w[3].op, SIFA_COND_GT);
    assert_string_equal(w[3].values[0], "50");
    assert_int_equal(w[4].op, SIFA_COND_LTE);
    assert_string_equal(w[4].values[0], "10.5");
    assert_string_equal(w[5].values[0], "2024-02-29");
    assert_int_equal(w[6].op, SIFA_COND_NE);
    assert_string_equal(w[6].values[0], "离婚纠纷");
    assert_string_equal(w[7].values[0], "zhang.san");
    assert_string_equal(w[8].values[0], "12");
    assert_string_equal(w[9].values[0], "13800138000");
    assert_int_equal(w[10].op, SIFA_COND_EMPTY);
    assert_int_equal(w[10].nvalues, 0);
    assert_null(w[11].field);
    assert_int_equal(w[11].op, SIFA_COND_NOT_IN);
    assert_string_equal(w[11].values[0], "registered");
    assert_string_equal(w[12].field->code, "branch");
}

/* A model whose module has no org_field: an indicator must name one. */
static void test_org_needed_without_module_org(void **state)
{
    (void)state;
    static const char plain[] = "code: plain\nname: 无机构\nfields:\n"
                                "  - {code: on, name: 日期, type: date}\n"
                                "  - {code: unit_org, name: 机构, type: org}\n"
                                "states: [{code: open, name: 开, initial: true}]\n";
    struct sifa_model *m2 = NULL;
    json_t *errors = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_model_load_text("plain.yaml", plain, strlen(plain), NULL, 0, &m2, &errors, &err), 0);
    const char *text = "indicators:\n"
                       "  - {code: n, name: 数, unit: 件, kind: count, module: plain, date: on}\n";
    struct loaded l = load_into(m2, text);
    assert_int_equal(l.rc, SIFA_EINVALID);
    assert_int_equal(json_array_size(l.errors), 1);
    assert_true(has_error_at(l.errors, "missing_key", 2, 5));
    loaded_release(&l);
    l = load_into(m2, "indicators:\n"
                      "  - {code: n, name: 数, unit: 件, kind: count, module: plain, date: on, org: unit_org}\n");
    assert_int_equal(l.rc, 0);
    assert_int_equal(m2->nindicators, 1);
    assert_string_equal(m2->indicators[0].org_field->code, "unit_org");
    loaded_release(&l);
    sifa_model_free(m2); /* frees its indicators too (valgrind / LSan check) */
    sifa_error_release(&err);
}

/* ---- errors, each with its code and position ---- */

static void test_unknown_key(void **state)
{
    (void)state;
    expect_line_error(16,
                      "  - {code: succeeded, name: 调解成功, unit: 件, kind: count, module: case, date: concluded_on, "
                      "colour: red}",
                      1, "unknown_key", "colour");
    expect_line_error(10, "      - {field: state, in: [accepted], also: 1}", 1, "unknown_key", "also");
    expect_error("indicatorz: []\n", 0, "unknown_key", 1, 1);
    expect_line_error(16,
                      "  - {code: succeeded, name: 调解成功, unit: 件, kind: count, module: case, date: concluded_on, "
                      "date: received_on}",
                      1, "duplicate_key", "date: received_on");
}

static void test_missing_key(void **state)
{
    (void)state;
    expect_line_error(16, "  - {code: succeeded, unit: 件, kind: count, module: case, date: concluded_on}", 1,
                      "missing_key", "{");
    expect_line_error(16, "  - {code: succeeded, name: 成功, kind: count, module: case, date: concluded_on}", 1,
                      "missing_key", "{");
    expect_line_error(16, "  - {code: succeeded, name: 成功, unit: 件, module: case, date: concluded_on}", 1,
                      "missing_key", "{");
    expect_line_error(16, "  - {code: succeeded, name: 成功, unit: 件, kind: count, date: concluded_on}", 1,
                      "missing_key", "{");
    expect_line_error(16, "  - {code: succeeded, name: 成功, unit: 件, kind: count, module: case}", 1, "missing_key",
                      "{");
    expect_line_error(17, "  - {code: amount_sum, name: 金额, unit: 元, kind: sum, module: case, date: received_on}", 1,
                      "missing_key", "{");
    expect_line_error(22, "  - {code: share_x, name: 占比, unit: \"%\", kind: share}", 1, "missing_key", "{");
    expect_line_error(10, "      - {in: [accepted]}", 1, "missing_key", "{");
    /* the code itself: references to it then fail too */
    expect_line_error(16, "  - {name: 成功, unit: 件, kind: count, module: case, date: concluded_on}", 0, "missing_key",
                      "{");
    expect_error("foo: 1\n", 0, "missing_key", 1, 1);
}

static void test_bad_code(void **state)
{
    (void)state;
    expect_line_error(25, "  - {code: Plain_ratio, name: 比值, unit: 倍, kind: ratio, of: [cases, succeeded]}", 1,
                      "bad_code", "Plain_ratio");
    expect_line_error(25, "  - {code: plain_ratio, name: 比值, unit: 倍, kind: ratio, of: [cases, 9lives]}", 1,
                      "bad_code", "9lives");
    char repl[200];
    snprintf(repl, sizeof(repl), "  - {code: a%0*d, name: 比值, unit: 倍, kind: ratio, of: [cases, succeeded]}",
             SIFA_MODEL_CODE_MAX, 0);
    expect_line_error(25, repl, 1, "bad_code", "a0");
}

static void test_duplicate_indicator(void **state)
{
    (void)state;
    expect_line_error(17, "  - {code: succeeded, name: 又一个, unit: 元, kind: sum, module: case, date: received_on, "
                          "field: amount}",
                      1, "duplicate_indicator", "{");
    /* the message points at the first definition */
    char *t = with_line(17, "  - {code: cases, name: 又一个, unit: 件, kind: count, module: case, date: received_on}");
    struct loaded l = load(t);
    json_t *e = find_error(l.errors, "duplicate_indicator");
    assert_non_null(e);
    assert_non_null(strstr(json_string_value(json_object_get(e, "message")), "ind.yaml 第 2 行"));
    loaded_release(&l);
    free(t);
}

static void test_unknown_kind(void **state)
{
    (void)state;
    expect_line_error(16, "  - {code: succeeded, name: 成功, unit: 件, kind: counts, module: case, date: concluded_on}",
                      1, "unknown_kind", "counts");
}

static void test_unknown_module(void **state)
{
    (void)state;
    expect_line_error(7, "    module: cases", 1, "unknown_module", "cases");
}

static void test_unknown_field(void **state)
{
    (void)state;
    expect_line_error(8, "    date: received", 1, "unknown_field", "received");
    expect_line_error(11, "      - {field: dispute, eq: Neighbor}", 1, "unknown_field", "dispute");
    expect_line_error(15, "    by: [dispute_type, origin]", 1, "unknown_field", "origin");
    expect_line_error(19, "  - {code: in_register, name: 在册, unit: 件, kind: stock, module: case, date: received_on, "
                          "end: released_on}",
                      1, "unknown_field", "released_on");
    expect_line_error(16, "  - {code: succeeded, name: 成功, unit: 件, kind: count, module: case, date: concluded_on, "
                          "org: office}",
                      1, "unknown_field", "office");
    /* a sub-field of a group is not a field of the module */
    expect_line_error(11, "      - {field: pname, eq: x}", 1, "unknown_field", "pname");
}

static void test_bad_field_type(void **state)
{
    (void)state;
    expect_line_error(8, "    date: amount", 1, "bad_field_type", "amount");
    expect_line_error(15, "    by: [dispute_type, title]", 1, "bad_field_type", "title");
    expect_line_error(16, "  - {code: succeeded, name: 成功, unit: 件, kind: count, module: case, date: concluded_on, "
                          "org: title}",
                      1, "bad_field_type", "title");
    expect_line_error(16, "  - {code: succeeded, name: 成功, unit: 件, kind: count, module: case, date: concluded_on, "
                          "org: home_org}",
                      1, "bad_field_type", "home_org");
    expect_line_error(17, "  - {code: amount_sum, name: 金额, unit: 元, kind: sum, module: case, date: received_on, "
                          "field: score}",
                      1, "bad_field_type", "score");
    expect_line_error(18, "  - {code: persons, name: 人数, unit: 人, kind: distinct, module: case, date: applied_at, "
                          "field: parties}",
                      1, "bad_field_type", "parties");
    expect_line_error(19, "  - {code: in_register, name: 在册, unit: 件, kind: stock, module: case, date: received_on, "
                          "end: performed}",
                      1, "bad_field_type", "performed");
    /* conditions: personal, longtext, group, attachment-like values are never compared */
    expect_line_error(11, "      - {field: id_number, eq: \"110101199003070011\"}", 1, "bad_field_type", "id_number");
    expect_line_error(11, "      - {field: home_org, eq: x}", 1, "bad_field_type", "home_org");
    expect_line_error(11, "      - {field: summary, not_empty: true}", 1, "bad_field_type", "summary");
    expect_line_error(11, "      - {field: parties, empty: true}", 1, "bad_field_type", "parties");
}

static void test_bad_condition(void **state)
{
    (void)state;
    expect_line_error(11, "      - {field: title, gte: a}", 1, "bad_condition", "a}");
    expect_line_error(11, "      - {field: dispute_type, lt: Neighbor}", 1, "bad_condition", "Neighbor");
    expect_line_error(11, "      - {field: applied_at, eq: \"2024-01-01T00:00:00Z\"}", 1, "bad_condition", "\"2024");
    expect_line_error(11, "      - {field: state, empty: true}", 1, "bad_condition", "true");
    expect_line_error(11, "      - {field: dispute_type}", 1, "bad_condition", "{");
    expect_line_error(11, "      - {field: dispute_type, eq: Neighbor, ne: family}", 1, "bad_condition", "{");
    expect_line_error(11, "      - just_a_string", 1, "bad_condition", "just");
    expect_line_error(16, "  - {code: succeeded, name: 成功, unit: 件, kind: count, module: case, date: concluded_on, "
                          "where: {field: state, eq: accepted}}",
                      1, "bad_condition", "{field");
}

static void test_bad_value(void **state)
{
    (void)state;
    expect_line_error(11, "      - {field: dispute_type, eq: neighbor}", 1, "bad_value", "neighbor"); /* case matters */
    expect_line_error(13, "      - {field: amount, gte: \"10.505\"}", 1, "bad_value", "\"10.505");
    expect_line_error(13, "      - {field: amount, gte: 1e5}", 1, "bad_value", "1e5");
    expect_line_error(13, "      - {field: amount, gte: 99999999999999999999}", 1, "bad_value", "9999");
    expect_line_error(13, "      - {field: days, gte: 1.5}", 1, "bad_value", "1.5");
    expect_line_error(13, "      - {field: received_on, gte: 2023-02-29}", 1, "bad_value", "2023");
    expect_line_error(13, "      - {field: received_on, gte: 2023-2-1}", 1, "bad_value", "2023");
    expect_line_error(14, "      - {field: performed, eq: maybe}", 1, "bad_value", "maybe");
    expect_line_error(14, "      - {field: performed, in: []}", 1, "bad_value", "[]");
    expect_line_error(14, "      - {field: performed, in: true}", 1, "bad_value", "true");
    expect_line_error(14, "      - {field: performed, eq: [true]}", 1, "bad_value", "[true]");
    expect_line_error(12, "      - {field: concluded_on, not_empty: false}", 1, "bad_value", "false");
    expect_line_error(11, "      - {field: title, eq: \"\"}", 1, "bad_value", "\"\"");
    expect_line_error(11, "      - {field: phone, eq: \"12345\"}", 1, "bad_value", "\"12345");
    expect_line_error(11, "      - {field: related, eq: 0}", 1, "bad_value", "0}");
    expect_line_error(11, "      - {field: dispute_type, in: [family, nope]}", 1, "bad_value", "nope");
    expect_line_error(15, "    by: [dispute_type, dispute_type]", 1, "bad_value", "dispute_type]");
    expect_line_error(20, "  - {code: success_rate, name: 调解成功率, unit: \"%\", kind: ratio, of: succeeded}", 1,
                      "bad_value", "succeeded}");
    expect_line_error(20, "  - {code: success_rate, name: 调解成功率, unit: \"%\", kind: ratio, of: [succeeded]}", 1,
                      "bad_value", "[succeeded]");
    expect_line_error(23, "  - {code: daily, name: 日均, unit: 件/日, kind: per_day, of: [cases]}", 1, "bad_value",
                      "[cases]");
    expect_line_error(23, "  - {code: daily, name: 日均, unit: 件/日, kind: per_day, of: cases, days: weekdays}", 1,
                      "bad_value", "weekdays");
    expect_line_error(24, "  - {code: yoy, name: 同比, unit: \"%\", kind: change, of: cases, compare: last_year}", 1,
                      "bad_value", "last_year");
    expect_line_error(22, "  - {code: share_x, name: 占比, unit: \"%\", kind: share, of: [succeeded, cases], "
                          "rounding: up}",
                      1, "bad_value", "up}");
}

/* A message quoting a long value is cut at a character boundary, never replaced or invalid. */
static void test_long_value_message(void **state)
{
    (void)state;
    for (int pad = 0; pad < 3; pad++) { /* every position of the cut within a character */
        char line[1200];
        size_t len = (size_t)snprintf(line, sizeof(line), "      - {field: dispute_type, eq: \"%.*s", pad, "xx");
        for (int i = 0; i < 330; i++)
            len += (size_t)snprintf(line + len, sizeof(line) - len, "中");
        snprintf(line + len, sizeof(line) - len, "\"}");
        char *t = with_line(11, line);
        struct loaded l = load(t);
        json_t *e = find_error(l.errors, "bad_value");
        assert_non_null(e);
        const char *msg = json_string_value(json_object_get(e, "message"));
        assert_non_null(msg);
        if (msg[0] != '"')
            print_message("pad %d: %.80s\n", pad, msg);
        assert_true(strncmp(msg, "\"", 1) == 0);
        assert_true(strlen(msg) >= 505 && strlen(msg) <= 511);
        loaded_release(&l);
        free(t);
    }
}

static void test_unknown_state(void **state)
{
    (void)state;
    expect_line_error(10, "      - {field: state, in: [accepted, closed]}", 1, "unknown_state", "closed");
    expect_line_error(10, "      - {field: state, eq: Accepted}", 1, "unknown_state", "Accepted");
}

static void test_unknown_indicator(void **state)
{
    (void)state;
    expect_line_error(20, "  - {code: success_rate, name: 调解成功率, unit: \"%\", kind: ratio, of: [succeeded, casez]}",
                      1, "unknown_indicator", "casez");
    expect_line_error(23, "  - {code: daily, name: 日均, unit: 件/日, kind: per_day, of: nothing}", 1,
                      "unknown_indicator", "nothing");
}

static void test_cyclic_indicator(void **state)
{
    (void)state;
    /* itself */
    expect_line_error(23, "  - {code: daily, name: 日均, unit: 件/日, kind: per_day, of: daily}", 1, "cyclic_indicator",
                      "{");
    /* a longer cycle, reported once at its first member, with what depends on it left alone */
    const char *text = "indicators:\n"
                       "  - {code: base, name: 零, unit: 件, kind: count, module: case, date: received_on}\n"
                       "  - {code: user_of_cycle, name: 用, unit: 件, kind: change, of: r2}\n"
                       "  - {code: r1, name: 一, unit: 件, kind: ratio, of: [base, r3]}\n"
                       "  - {code: r2, name: 二, unit: 件, kind: difference, of: [r1, base]}\n"
                       "  - {code: r3, name: 三, unit: 件, kind: per_day, of: r2}\n";
    expect_error(text, 1, "cyclic_indicator", 4, 5);
    struct loaded l = load(text);
    const char *msg = json_string_value(json_object_get(json_array_get(l.errors, 0), "message"));
    assert_non_null(strstr(msg, "r1 → r3 → r2 → r1"));
    loaded_release(&l);
    /* two separate cycles: two errors */
    expect_error("indicators:\n"
                 "  - {code: a, name: 一, unit: 件, kind: per_day, of: b}\n"
                 "  - {code: b, name: 二, unit: 件, kind: per_day, of: a}\n"
                 "  - {code: c, name: 三, unit: 件, kind: change, of: c}\n",
                 2, "cyclic_indicator", 4, 5);
}

static void test_bad_number(void **state)
{
    (void)state;
    expect_line_error(25, "  - {code: plain_ratio, name: 比值, unit: 倍, kind: ratio, of: [cases, succeeded], scale: 0}",
                      1, "bad_number", "0}");
    expect_line_error(25, "  - {code: plain_ratio, name: 比值, unit: 倍, kind: ratio, of: [cases, succeeded], "
                          "scale: 1000001}",
                      1, "bad_number", "1000001");
    expect_line_error(25, "  - {code: plain_ratio, name: 比值, unit: 倍, kind: ratio, of: [cases, succeeded], "
                          "scale: 1.5}",
                      1, "bad_number", "1.5");
    expect_line_error(25, "  - {code: plain_ratio, name: 比值, unit: 倍, kind: ratio, of: [cases, succeeded], digits: 7}",
                      1, "bad_number", "7}");
    expect_line_error(25, "  - {code: plain_ratio, name: 比值, unit: 倍, kind: ratio, of: [cases, succeeded], "
                          "digits: -1}",
                      1, "bad_number", "-1");
    expect_line_error(23, "  - {code: daily, name: 日均, unit: 件/日, kind: per_day, of: cases, digits: two}", 1,
                      "bad_number", "two");
    /* the limits themselves are fine */
    char *t = with_line(25, "  - {code: plain_ratio, name: 比值, unit: 倍, kind: ratio, of: [cases, succeeded], "
                            "scale: 1000000, digits: 6}");
    expect_ok(t);
    free(t);
    assert_int_equal(ind("plain_ratio")->scale, 1000000);
    assert_int_equal(ind("plain_ratio")->digits, 6);
}

static void test_not_allowed(void **state)
{
    (void)state;
    expect_line_error(16, "  - {code: succeeded, name: 成功, unit: 件, kind: count, module: case, date: concluded_on, "
                          "of: [cases, cases]}",
                      1, "not_allowed", "of:");
    expect_line_error(16, "  - {code: succeeded, name: 成功, unit: 件, kind: count, module: case, date: concluded_on, "
                          "end: concluded_on}",
                      1, "not_allowed", "end:");
    expect_line_error(16, "  - {code: succeeded, name: 成功, unit: 件, kind: count, module: case, date: concluded_on, "
                          "field: amount}",
                      1, "not_allowed", "field:");
    expect_line_error(20, "  - {code: success_rate, name: 调解成功率, unit: \"%\", kind: ratio, of: [succeeded, cases], "
                          "module: case}",
                      1, "not_allowed", "module:");
    expect_line_error(22, "  - {code: share_x, name: 占比, unit: \"%\", kind: share, of: [succeeded, cases], scale: 10}",
                      1, "not_allowed", "scale:");
    expect_line_error(21, "  - {code: rate_gap, name: 差, unit: \"%\", kind: difference, of: [success_rate, share_x], "
                          "digits: 2}",
                      1, "not_allowed", "digits:");
    expect_line_error(23, "  - {code: daily, name: 日均, unit: 件/日, kind: per_day, of: cases, compare: previous_year}",
                      1, "not_allowed", "compare:");
    expect_line_error(24, "  - {code: yoy, name: 同比, unit: \"%\", kind: change, of: cases, days: working}", 1,
                      "not_allowed", "days:");
}

/* Every error of a file is listed, not only the first. */
static void test_several_errors(void **state)
{
    (void)state;
    char *t = with_line(7, "    module: nope");
    char *t2 = with_line_of(t, 23, "  - {code: daily, name: 日均, unit: 件/日, kind: per_day, of: cases, days: x}");
    char *t3 = with_line_of(t2, 25, "  - {code: plain_ratio, name: 比值, unit: 倍, kind: ratio, of: [cases, x1]}");
    struct loaded l = load(t3);
    assert_int_equal(l.rc, SIFA_EINVALID);
    if (json_array_size(l.errors) != 3)
        print_errors(l.errors);
    assert_int_equal(json_array_size(l.errors), 3);
    assert_true(has_error_at(l.errors, "unknown_module", 7, col_of(t3, 7, "nope")));
    assert_true(has_error_at(l.errors, "bad_value", 23, col_of(t3, 23, "x}")));
    assert_true(has_error_at(l.errors, "unknown_indicator", 25, col_of(t3, 25, "x1")));
    /* err summarises the first */
    assert_non_null(strstr(l.err.message, "3 处错误"));
    assert_non_null(strstr(l.err.message, "ind.yaml:7:"));
    loaded_release(&l);
    free(t);
    free(t2);
    free(t3);
}

static void test_file_level_errors(void **state)
{
    (void)state;
    expect_error("indicators: [\n", 1, "yaml_syntax", 2, 1);
    expect_error("", 1, "empty", 1, 1);
    expect_error("- a\n- b\n", 1, "not_mapping", 1, 1);
    expect_error("indicators: {a: 1}\n", 1, "not_sequence", 1, 13);
    expect_error("indicators:\n  - just text\n", 1, "not_mapping", 2, 5);
    /* an empty list is fine */
    expect_ok("indicators: []\n");
    assert_int_equal(model->nindicators, 0);

    char *big = malloc(SIFA_MODEL_FILE_MAX + 2);
    assert_non_null(big);
    memset(big, '#', SIFA_MODEL_FILE_MAX + 1);
    big[SIFA_MODEL_FILE_MAX + 1] = '\0';
    expect_error(big, 1, "file_too_large", 1, 1);
    free(big);
}

static void test_tables(void **state)
{
    (void)state;
    char *text = NULL;
    /* a table after the indicators of the same file, columns in the order written */
    assert_true(asprintf(&text,
                         "%stables:\n"
                         "  - {code: town_table, title: 调解统计表, columns: [success_rate, cases, amount_sum]}\n"
                         "  - {code: agencies, title: 执法月报, rows: gov_unit, columns: [cases]}\n",
                         BASE) > 0);
    expect_ok(text);
    assert_int_equal(model->ntables, 2);
    const struct sifa_stat_table *t = sifa_model_table(model, "town_table");
    assert_non_null(t);
    assert_string_equal(t->title, "调解统计表");
    assert_null(t->row_kind);
    assert_int_equal(t->ncolumns, 3);
    assert_ptr_equal(t->columns[0], ind("success_rate"));
    assert_ptr_equal(t->columns[2], ind("amount_sum"));
    assert_string_equal(sifa_model_table(model, "agencies")->row_kind, "gov_unit");
    assert_null(sifa_model_table(model, "nope"));
    json_t *j = sifa_stat_table_to_json(t);
    assert_int_equal(json_array_size(json_object_get(j, "columns")), 3);
    json_decref(j);
    free(text);
    /* errors: an unknown column, a repeated table, a missing title, a bad row kind */
    assert_true(asprintf(&text,
                         "%stables:\n"                                            /* 26 */
                         "  - {code: t1, title: 表, columns: [cases, nope]}\n"   /* 27 */
                         "  - {code: t1, title: 表二, columns: [cases]}\n"       /* 28 */
                         "  - {code: t2, columns: [cases]}\n"                    /* 29 */
                         "  - {code: t3, title: 表, rows: Gov-Unit, columns: []}\n", /* 30 */
                         BASE) > 0);
    struct loaded l = load(text);
    assert_int_equal(l.rc, SIFA_EINVALID);
    assert_true(has_error_at(l.errors, "unknown_indicator", 27, 43));
    assert_true(has_error_at(l.errors, "duplicate_table", 28, 5));
    assert_true(has_error_at(l.errors, "missing_key", 29, 5));
    assert_true(has_error_at(l.errors, "bad_value", 30, 32));
    assert_true(has_error_at(l.errors, "not_sequence", 30, 51));
    assert_int_equal(model->ntables, 0);
    assert_int_equal(model->nindicators, 0);
    loaded_release(&l);
    free(text);
    /* a file of tables only */
    expect_ok("tables: []\n");
}

static void test_deadline_conditions(void **state)
{
    (void)state;
    char *text = NULL;
    assert_true(asprintf(&text,
                         "%s  - {code: on_time, name: 按期, unit: 件, kind: count, module: case, date: received_on,\n"
                         "     where: [{deadline: conclude, on_time: true}]}\n",
                         BASE) > 0);
    expect_ok(text);
    const struct sifa_indicator *i = ind("on_time");
    assert_int_equal(i->nwhere, 1);
    assert_int_equal(i->where[0].op, SIFA_COND_ON_TIME);
    assert_null(i->where[0].field);
    assert_string_equal(i->where[0].deadline->code, "conclude");
    assert_string_equal(i->where[0].values[0], "1");
    json_t *j = sifa_indicator_to_json(i);
    json_t *w = json_array_get(json_object_get(j, "where"), 0);
    assert_string_equal(json_string_value(json_object_get(w, "deadline")), "conclude");
    assert_string_equal(json_string_value(json_object_get(w, "op")), "on_time");
    json_decref(j);
    free(text);
    /* an unknown deadline, one without `met`, a bad value, a mixed form */
    const char *bad[][2] = {{"{deadline: nope, on_time: true}", "unknown_field"},
                            {"{deadline: reply, on_time: true}", "bad_condition"},
                            {"{deadline: conclude, on_time: maybe}", "bad_value"},
                            {"{deadline: conclude, on_time: true, field: state}", "bad_condition"}};
    for (size_t k = 0; k < SIFA_ARRAY_SIZE(bad); k++) {
        assert_true(asprintf(&text,
                             "%s  - {code: on_time, name: 按期, unit: 件, kind: count, module: case, date: received_on,\n"
                             "     where: [%s]}\n",
                             BASE, bad[k][0]) > 0);
        struct loaded l = load(text);
        assert_int_equal(l.rc, SIFA_EINVALID);
        assert_non_null(find_error(l.errors, bad[k][1]));
        loaded_release(&l);
        free(text);
    }
}

static void test_alias_bomb(void **state)
{
    (void)state;
    /* 32 conditions of 256 values each, in every one of 3000 references to one indicator: the
     * node budget stops the walk long before it would have visited 24 million nodes */
    size_t cap = 64 * 1024, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "s: &s [accepted");
    for (int i = 1; i < 256; i++)
        len += (size_t)snprintf(text + len, cap - len, ", accepted");
    len += (size_t)snprintf(text + len, cap - len, "]\nw: &w [&c {field: state, in: *s}");
    for (int i = 1; i < 32; i++)
        len += (size_t)snprintf(text + len, cap - len, ", *c");
    len += (size_t)snprintf(text + len, cap - len,
                            "]\nd: &d {code: c, name: n, unit: u, kind: count, module: case, date: received_on, "
                            "where: *w}\nindicators: [*d");
    for (int i = 1; i < 3000; i++)
        len += (size_t)snprintf(text + len, cap - len, ", *d");
    snprintf(text + len, cap - len, "]\n");
    struct loaded l = load(text);
    assert_int_equal(l.rc, SIFA_EINVALID);
    assert_non_null(find_error(l.errors, "too_complex"));
    assert_true(json_array_size(l.errors) < 100);
    loaded_release(&l);
    free(text);
}

/* Errors are listed up to a limit, the last entry saying there were more. */
static void test_many_errors(void **state)
{
    (void)state;
    size_t cap = 64 * 1024, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "indicators:\n");
    for (int i = 0; i < 500; i++)
        len += (size_t)snprintf(text + len, cap - len, "  - {code: c%d}\n", i); /* 3 errors each */
    struct loaded l = load(text);
    assert_int_equal(l.rc, SIFA_EINVALID);
    assert_int_equal(json_array_size(l.errors), 1001);
    assert_string_equal(json_string_value(json_object_get(json_array_get(l.errors, 999), "code")), "missing_key");
    assert_string_equal(json_string_value(json_object_get(json_array_get(l.errors, 1000), "code")), "too_many_errors");
    assert_int_equal(model->nindicators, 0);
    loaded_release(&l);
    /* many indicators sharing one definition by alias: each a duplicate */
    l = load("indicators: [&d {code: c, name: n, unit: u, kind: count, module: case, date: received_on}, *d, *d]\n");
    assert_int_equal(l.rc, SIFA_EINVALID);
    assert_int_equal(json_array_size(l.errors), 2);
    assert_non_null(find_error(l.errors, "duplicate_indicator"));
    loaded_release(&l);
    free(text);
}

/* ---- hash ---- */

static void copy_hash(const char *code, char out[65])
{
    snprintf(out, 65, "%s", ind(code)->hash);
}

static void test_hash(void **state)
{
    (void)state;
    char h0[65], h1[65], s0[65], s1[65];
    expect_ok(BASE);
    copy_hash("cases", h0);
    copy_hash("succeeded", s0);
    assert_int_equal(strlen(h0), 64);
    assert_string_not_equal(h0, s0);

    /* name, unit, description: not what the figures depend on */
    char *t = with_line(3, "    name: 另一个名称");
    char *t2 = with_line_of(t, 5, "    description: 改过的说明");
    char *t3 = with_line_of(t2, 4, "    unit: 宗");
    expect_ok(t3);
    copy_hash("cases", h1);
    assert_string_equal(h0, h1);
    free(t);
    free(t2);
    free(t3);

    /* a condition's value, operator, field; the breakdown; the date: each changes it */
    static const struct {
        int line;
        const char *repl;
    } changes[] = {
        {13, "      - {field: amount, gte: \"10000.51\"}"},
        {13, "      - {field: amount, gt: \"10000.50\"}"},
        {13, "      - {field: days, gte: \"1000050\"}"},
        {10, "      - {field: state, in: [accepted]}"},
        {15, "    by: [dispute_type]"},
        {8, "    date: concluded_on"},
        {6, "    kind: stock"},
    };
    for (size_t k = 0; k < SIFA_ARRAY_SIZE(changes); k++) {
        t = with_line(changes[k].line, changes[k].repl);
        expect_ok(t);
        copy_hash("cases", h1);
        assert_string_not_equal(h0, h1);
        copy_hash("succeeded", s1); /* other indicators are untouched */
        assert_string_equal(s0, s1);
        free(t);
    }
    /* the same value written differently normalises to the same hash */
    t = with_line(13, "      - {field: amount, gte: 10000.5}");
    expect_ok(t);
    copy_hash("cases", h1);
    assert_string_equal(h0, h1);
    free(t);
}

/* ---- JSON ---- */

static void test_to_json(void **state)
{
    (void)state;
    expect_ok(BASE);
    json_t *j = sifa_indicator_to_json(ind("cases"));
    assert_non_null(j);
    json_t *want = json_loads("{\"code\": \"cases\", \"name\": \"调处矛盾纠纷\", \"unit\": \"件\","
                              " \"description\": \"全年受理并调处的纠纷\", \"kind\": \"count\", \"module\": \"case\","
                              " \"date\": \"received_on\", \"end\": null, \"org\": \"committee\", \"field\": null,"
                              " \"where\": ["
                              "  {\"field\": \"state\", \"op\": \"in\", \"values\": [\"accepted\", \"concluded\"]},"
                              "  {\"field\": \"dispute_type\", \"op\": \"eq\", \"values\": [\"Neighbor\"]},"
                              "  {\"field\": \"concluded_on\", \"op\": \"not_empty\", \"values\": []},"
                              "  {\"field\": \"amount\", \"op\": \"gte\", \"values\": [\"1000050\"]},"
                              "  {\"field\": \"performed\", \"op\": \"eq\", \"values\": [\"1\"]}],"
                              " \"by\": [\"dispute_type\", \"source\"]}",
                              0, NULL);
    assert_non_null(want);
    if (!json_equal(j, want))
        print_errors(j);
    assert_true(json_equal(j, want));
    json_decref(j);
    json_decref(want);

    j = sifa_indicator_to_json(ind("in_register"));
    assert_string_equal(json_string_value(json_object_get(j, "end")), "concluded_on");
    assert_true(json_is_null(json_object_get(j, "description")));
    json_decref(j);

    static const struct {
        const char *code, *json;
    } derived[] = {
        {"success_rate", "{\"code\": \"success_rate\", \"name\": \"调解成功率\", \"unit\": \"%\", \"description\": null,"
                         " \"kind\": \"ratio\", \"of\": [\"succeeded\", \"cases\"], \"scale\": 100, \"digits\": 2,"
                         " \"rounding\": \"half_up\"}"},
        {"share_x", "{\"code\": \"share_x\", \"name\": \"占比\", \"unit\": \"%\", \"description\": null,"
                    " \"kind\": \"ratio\", \"of\": [\"succeeded\", \"cases\"], \"scale\": 100, \"digits\": 1,"
                    " \"rounding\": \"down\"}"},
        {"rate_gap", "{\"code\": \"rate_gap\", \"name\": \"差\", \"unit\": \"%\", \"description\": null,"
                     " \"kind\": \"difference\", \"of\": [\"success_rate\", \"share_x\"]}"},
        {"daily", "{\"code\": \"daily\", \"name\": \"日均\", \"unit\": \"件/日\", \"description\": null,"
                  " \"kind\": \"per_day\", \"of\": [\"cases\"], \"days\": \"working\", \"digits\": 1,"
                  " \"rounding\": \"half_up\"}"},
        {"yoy", "{\"code\": \"yoy\", \"name\": \"同比\", \"unit\": \"%\", \"description\": null,"
                " \"kind\": \"change\", \"of\": [\"cases\"], \"compare\": \"previous_period\", \"digits\": 2,"
                " \"rounding\": \"half_up\"}"},
    };
    for (size_t k = 0; k < SIFA_ARRAY_SIZE(derived); k++) {
        j = sifa_indicator_to_json(ind(derived[k].code));
        want = json_loads(derived[k].json, 0, NULL);
        assert_non_null(want);
        if (!json_equal(j, want))
            print_errors(j);
        assert_true(json_equal(j, want));
        json_decref(j);
        json_decref(want);
    }
}

static void test_kind_names(void **state)
{
    (void)state;
    static const char *const names[] = {"count", "sum",        "distinct", "stock",
                                        "ratio", "difference", "per_day",  "change"};
    for (size_t k = 0; k < SIFA_ARRAY_SIZE(names); k++)
        assert_string_equal(sifa_indicator_kind_name((enum sifa_indicator_kind)k), names[k]);
}

/* ---- loading again, loading a directory ---- */

static void test_load_replaces(void **state)
{
    (void)state;
    expect_ok(BASE);
    assert_int_equal(model->nindicators, NBASE);
    /* the same codes again are not duplicates of the earlier load: they replace it */
    expect_ok("indicators:\n"
              "  - {code: cases, name: 只有一个, unit: 件, kind: count, module: case, date: received_on}\n");
    assert_int_equal(model->nindicators, 1);
    assert_string_equal(model->indicators[0].name, "只有一个");
    /* a failed load leaves none */
    expect_error("indicators:\n  - {code: cases}\n", 0, "missing_key", 2, 5);
    assert_int_equal(model->nindicators, 0);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[600];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        if (S_ISDIR(st.st_mode))
            remove_dir(path);
        else
            assert_int_equal(unlink(path), 0);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

static void test_load_dir(void **state)
{
    (void)state;
    char dir[] = "/tmp/sifa-test-indicators-XXXXXX";
    assert_non_null(mkdtemp(dir));
    json_t *errors = NULL;
    struct sifa_error err = {0};

    /* empty: fine, no indicators */
    assert_int_equal(sifa_model_load_indicators(model, dir, &errors, &err), 0);
    assert_null(errors);
    assert_int_equal(model->nindicators, 0);

    /* derived in the first file (by name), its base in the second; other files are ignored */
    write_file(dir, "b_base.yaml",
               "indicators:\n"
               "  - {code: cases, name: 案件数, unit: 件, kind: count, module: case, date: received_on}\n"
               "  - {code: succeeded, name: 成功数, unit: 件, kind: count, module: case, date: concluded_on}\n");
    write_file(dir, "a_rates.yaml",
               "indicators:\n"
               "  - {code: success_rate, name: 成功率, unit: \"%\", kind: ratio, of: [succeeded, cases]}\n");
    write_file(dir, "notes.txt", "not: [yaml\n");
    write_file(dir, "old.yaml.bak", "not: [yaml\n");
    write_file(dir, ".hidden.yaml", "not: [yaml\n");
    assert_int_equal(sifa_model_load_indicators(model, dir, &errors, &err), 0);
    assert_null(errors);
    assert_int_equal(model->nindicators, 3);
    assert_string_equal(model->indicators[0].code, "cases");
    assert_string_equal(model->indicators[1].code, "succeeded");
    assert_string_equal(model->indicators[2].code, "success_rate");
    assert_ptr_equal(model->indicators[2].a, &model->indicators[1]);
    assert_ptr_equal(model->indicators[2].b, &model->indicators[0]);
    char path[256];
    snprintf(path, sizeof(path), "%s/b_base.yaml", dir);
    assert_string_equal(model->indicators[0].file, path);
    snprintf(path, sizeof(path), "%s/a_rates.yaml", dir);
    assert_string_equal(model->indicators[2].file, path);

    /* a code defined in two files: reported in the second, naming the first */
    write_file(dir, "c_more.yaml",
               "indicators:\n"
               "  - {code: x, name: 新, unit: 件, kind: count, module: case, date: received_on}\n"
               "  - {code: cases, name: 重复, unit: 件, kind: count, module: case, date: received_on}\n");
    assert_int_equal(sifa_model_load_indicators(model, dir, &errors, &err), SIFA_EINVALID);
    assert_non_null(errors);
    assert_int_equal(json_array_size(errors), 1);
    assert_int_equal(model->nindicators, 0);
    json_t *e = json_array_get(errors, 0);
    assert_string_equal(json_string_value(json_object_get(e, "code")), "duplicate_indicator");
    snprintf(path, sizeof(path), "%s/c_more.yaml", dir);
    assert_string_equal(json_string_value(json_object_get(e, "file")), path);
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 3);
    assert_int_equal(json_integer_value(json_object_get(e, "column")), 5);
    assert_non_null(strstr(json_string_value(json_object_get(e, "message")), "b_base.yaml"));
    assert_string_equal(err.code, "bad_definition");
    json_decref(errors);
    errors = NULL;
    sifa_error_release(&err);

    /* an error in a reference across files names the file that holds it */
    snprintf(path, sizeof(path), "%s/c_more.yaml", dir);
    assert_int_equal(unlink(path), 0);
    static const char bad_ref[] =
        "indicators:\n"
        "  - {code: success_rate, name: 成功率, unit: \"%\", kind: ratio, of: [succeeded, casez]}\n";
    write_file(dir, "a_rates.yaml", bad_ref);
    assert_int_equal(sifa_model_load_indicators(model, dir, &errors, &err), SIFA_EINVALID);
    assert_int_equal(json_array_size(errors), 1);
    e = json_array_get(errors, 0);
    assert_string_equal(json_string_value(json_object_get(e, "code")), "unknown_indicator");
    snprintf(path, sizeof(path), "%s/a_rates.yaml", dir);
    assert_string_equal(json_string_value(json_object_get(e, "file")), path);
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 2);
    assert_int_equal(json_integer_value(json_object_get(e, "column")), col_of(bad_ref, 2, "casez"));
    json_decref(errors);
    errors = NULL;
    sifa_error_release(&err);

    remove_dir(dir);
}

static void test_missing_dir(void **state)
{
    (void)state;
    json_t *errors = (json_t *)1;
    struct sifa_error err = {0};
    assert_int_equal(sifa_model_load_indicators(model, "tests/unit/fixtures/no_such_dir", &errors, &err),
                     SIFA_ENOTFOUND);
    assert_null(errors);
    assert_string_equal(err.code, "indicators_missing");
    sifa_error_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_loads),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_deadline_conditions),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_condition_values),
        cmocka_unit_test(test_org_needed_without_module_org),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_missing_key),
        cmocka_unit_test(test_bad_code),
        cmocka_unit_test(test_duplicate_indicator),
        cmocka_unit_test(test_unknown_kind),
        cmocka_unit_test(test_unknown_module),
        cmocka_unit_test(test_unknown_field),
        cmocka_unit_test(test_bad_field_type),
        cmocka_unit_test(test_bad_condition),
        cmocka_unit_test(test_bad_value),
        cmocka_unit_test(test_long_value_message),
        cmocka_unit_test(test_unknown_state),
        cmocka_unit_test(test_unknown_indicator),
        cmocka_unit_test(test_cyclic_indicator),
        cmocka_unit_test(test_bad_number),
        cmocka_unit_test(test_not_allowed),
        cmocka_unit_test(test_several_errors),
        cmocka_unit_test(test_file_level_errors),
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_many_errors),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_load_replaces),
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_missing_dir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
