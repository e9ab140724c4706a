/* test_model.c — unit tests for src/model (loader.c, json.c): the real modules/ directory loads
 * with the expected shape, and every kind of definition error is reported with its code and the
 * line and column of the offending YAML node, all errors of a file at once. Definitions are small
 * inline texts loaded with sifa_model_load_text; each variant changes one line of a base text
 * that loads cleanly, so the expected position is found from the text itself (col_of). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/model.h"

#include <stdio.h>
#include <string.h>

/* One code table for every inline definition. */
static const char CODES[] = "code: colors\n"
                            "name: Colors\n"
                            "items:\n"
                            "  - {code: red, label: Red}\n"
                            "  - {code: blue, label: Blue}\n";

/* A definition that loads without errors; the tests replace single lines of it. */
static const char BASE[] =
    /*  1 */ "code: demo\n"
    /*  2 */ "name: Demo\n"
    /*  3 */ "fields:\n"
    /*  4 */ "  - {code: title, name: Title, type: text, required: true}\n"
    /*  5 */ "  - {code: color, name: Color, type: enum, codes: colors}\n"
    /*  6 */ "  - {code: started_on, name: Started, type: date}\n"
    /*  7 */ "  - {code: days, name: Days, type: integer}\n"
    /*  8 */ "states:\n"
    /*  9 */ "  - {code: open, name: Open, initial: true}\n"
    /* 10 */ "  - {code: closed, name: Closed, final: true}\n"
    /* 11 */ "transitions:\n"
    /* 12 */ "  - {code: close, name: Close, from: [open], to: closed}\n"
    /* 13 */ "deadlines:\n"
    /* 14 */ "  - {code: finish, name: Finish, from: started_on, unit: natural_days, amount: 10, until: [closed]}\n";

/* ---- helpers ---- */

/* BASE with line `line` (1-based) replaced by repl (which may hold several lines, no trailing
 * newline). line = 0 appends repl as new lines at the end. New string. */
static char *with_line(int line, const char *repl)
{
    size_t cap = strlen(BASE) + strlen(repl) + 4;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    const char *p = BASE;
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
    struct sifa_model *model;
    json_t *errors;
    struct sifa_error err;
};

static struct loaded load(const char *text)
{
    struct loaded l = {0};
    l.rc = sifa_model_load_text("demo.yaml", text, strlen(text), CODES, strlen(CODES), &l.model, &l.errors, &l.err);
    return l;
}

static void loaded_release(struct loaded *l)
{
    sifa_model_free(l->model);
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

/* Loads text, expects failure with exactly `count` errors (0: do not check the count) of which
 * one has `code` at line:column; returns nothing, checks everything. */
static void expect_error(const char *text, size_t count, const char *code, int line, int column)
{
    struct loaded l = load(text);
    assert_int_equal(l.rc, SIFA_EINVALID);
    assert_null(l.model);
    assert_non_null(l.errors);
    assert_string_equal(l.err.code, "bad_definition");
    if (count != 0 && json_array_size(l.errors) != count)
        print_errors(l.errors);
    if (count != 0)
        assert_int_equal(json_array_size(l.errors), count);
    json_t *e = find_error(l.errors, code);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "file")), "demo.yaml");
    assert_non_null(json_string_value(json_object_get(e, "message")));
    if (json_integer_value(json_object_get(e, "line")) != line ||
        json_integer_value(json_object_get(e, "column")) != column)
        print_errors(l.errors);
    assert_int_equal(json_integer_value(json_object_get(e, "line")), line);
    assert_int_equal(json_integer_value(json_object_get(e, "column")), column);
    loaded_release(&l);
}

/* ---- the real definitions ---- */

static void test_real_modules_load(void **state)
{
    (void)state;
    struct sifa_model *model = NULL;
    json_t *errors = NULL;
    struct sifa_error err = {0};
    int rc = sifa_model_load_dir("modules", &model, &errors, &err);
    if (rc != 0)
        print_errors(errors);
    assert_int_equal(rc, 0);
    assert_null(errors);
    assert_non_null(model);
    /* other business lines may sit beside it; mediation_case and its four tables must be there */
    assert_true(model->nmodules >= 1);
    assert_true(model->ncode_tables >= 4);

    const struct sifa_module *m = sifa_model_module(model, "mediation_case");
    assert_non_null(m);
    assert_string_equal(m->name, "人民调解案件");
    assert_string_equal(m->file, "modules/mediation_case.yaml");
    assert_int_equal(strlen(m->hash), 64);
    assert_int_equal(m->nfields, 20);
    assert_int_equal(m->nstates, 4);
    assert_int_equal(m->ntransitions, 4);
    assert_int_equal(m->ndeadlines, 2);
    assert_non_null(m->org_field);
    assert_string_equal(m->org_field->code, "committee");
    assert_non_null(m->initial);
    assert_string_equal(m->initial->code, "registered");

    /* numbering */
    assert_non_null(m->numbering);
    assert_string_equal(m->numbering->field->code, "case_no");
    assert_string_equal(m->numbering->pattern, "({year})慈调字第{seq:05}号");
    assert_non_null(m->numbering->year_field);
    assert_string_equal(m->numbering->year_field->code, "received_on");
    assert_false(m->numbering->per_org);

    /* fields */
    const struct sifa_field *f = sifa_module_field(m, "source");
    assert_non_null(f);
    assert_int_equal(f->type, SIFA_FIELD_ENUM);
    assert_true(f->required);
    assert_non_null(f->codes);
    assert_string_equal(f->codes->code, "mediation_source");
    assert_int_equal(f->codes->nitems, 5);
    assert_non_null(sifa_code_table_item(f->codes, "walk_in"));
    assert_null(sifa_code_table_item(f->codes, "nope"));
    f = sifa_module_field(m, "extension_days");
    assert_non_null(f);
    assert_int_equal(f->type, SIFA_FIELD_INTEGER);
    assert_true(f->has_min && f->has_max);
    assert_int_equal(f->min, 0);
    assert_int_equal(f->max, 30);
    f = sifa_module_field(m, "amount");
    assert_int_equal(f->type, SIFA_FIELD_MONEY);
    f = sifa_module_field(m, "title");
    assert_true(f->searchable);
    assert_int_equal(f->max_length, 100);
    f = sifa_module_field(m, "parties");
    assert_non_null(f);
    assert_int_equal(f->type, SIFA_FIELD_GROUP);
    assert_int_equal(f->nsub, 4);
    assert_int_equal(f->max_items, 50);
    assert_string_equal(f->sub[1].code, "id_number");
    assert_int_equal(f->sub[1].type, SIFA_FIELD_ID_NUMBER);
    assert_true(f->sub[1].personal);
    assert_false(f->sub[1].searchable);
    assert_true(f->sub[0].searchable);
    assert_null(sifa_module_field(m, "nope"));

    /* states and transitions */
    assert_true(sifa_module_state(m, "concluded")->final);
    assert_true(sifa_module_state(m, "rejected")->final);
    assert_false(sifa_module_state(m, "accepted")->final);
    const struct sifa_transition *t = sifa_module_transition(m, "accept");
    assert_non_null(t);
    assert_int_equal(t->nfrom, 1);
    assert_string_equal(t->from[0]->code, "registered");
    assert_string_equal(t->to->code, "accepted");
    assert_int_equal(t->nrequires, 1);
    assert_string_equal(t->requires[0]->code, "dispute_type");
    assert_int_equal(t->nsets, 1);
    assert_string_equal(t->sets[0]->code, "accepted_on");
    t = sifa_module_transition(m, "conclude");
    assert_string_equal(t->requires[0]->code, "outcome");
    assert_null(sifa_module_transition(m, "nope"));

    /* deadlines */
    const struct sifa_deadline *d = &m->deadlines[0];
    assert_string_equal(d->code, "online_reply");
    assert_int_equal(d->unit, SIFA_DEADLINE_HOURS);
    assert_int_equal(d->amount, 72);
    assert_string_equal(d->start_field->code, "applied_at");
    assert_int_equal(d->nstop_states, 3);
    d = &m->deadlines[1];
    assert_string_equal(d->code, "conclusion");
    assert_int_equal(d->unit, SIFA_DEADLINE_NATURAL_DAYS);
    assert_int_equal(d->amount, 30);
    assert_string_equal(d->start_field->code, "accepted_on");
    assert_non_null(d->extension_field);
    assert_string_equal(d->extension_field->code, "extension_days");
    assert_int_equal(d->max_extension, 30);
    assert_int_equal(d->nstop_states, 1);
    assert_string_equal(d->stop_states[0]->code, "concluded");

    sifa_model_free(model);
    sifa_error_release(&err);
}

static void test_module_to_json(void **state)
{
    (void)state;
    struct sifa_model *model = NULL;
    json_t *errors = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_model_load_dir("modules", &model, &errors, &err), 0);
    json_t *j = sifa_module_to_json(sifa_model_module(model, "mediation_case"));
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "mediation_case");
    assert_string_equal(json_string_value(json_object_get(j, "org_field")), "committee");
    assert_string_equal(json_string_value(json_object_get(j, "initial_state")), "registered");

    json_t *fields = json_object_get(j, "fields");
    assert_int_equal(json_array_size(fields), 20);
    json_t *source = json_array_get(fields, 2);
    assert_string_equal(json_string_value(json_object_get(source, "code")), "source");
    assert_string_equal(json_string_value(json_object_get(source, "type")), "enum");
    assert_true(json_is_true(json_object_get(source, "required")));
    json_t *codes = json_object_get(source, "codes");
    assert_string_equal(json_string_value(json_object_get(codes, "code")), "mediation_source");
    assert_int_equal(json_array_size(json_object_get(codes, "items")), 5);
    json_t *parties = json_array_get(fields, 19);
    assert_string_equal(json_string_value(json_object_get(parties, "type")), "group");
    assert_int_equal(json_array_size(json_object_get(parties, "fields")), 4);
    assert_int_equal(json_integer_value(json_object_get(parties, "max_items")), 50);
    json_t *ext = json_array_get(fields, 16);
    assert_string_equal(json_string_value(json_object_get(ext, "code")), "extension_days");
    assert_int_equal(json_integer_value(json_object_get(ext, "max")), 30);

    json_t *states = json_object_get(j, "states");
    assert_int_equal(json_array_size(states), 4);
    assert_true(json_is_true(json_object_get(json_array_get(states, 0), "initial")));
    assert_true(json_is_true(json_object_get(json_array_get(states, 2), "final")));

    json_t *transitions = json_object_get(j, "transitions");
    assert_int_equal(json_array_size(transitions), 4);
    json_t *accept = json_array_get(transitions, 0);
    assert_string_equal(json_string_value(json_object_get(accept, "code")), "accept");
    assert_string_equal(json_string_value(json_object_get(accept, "to")), "accepted");
    assert_string_equal(json_string_value(json_array_get(json_object_get(accept, "from"), 0)), "registered");
    assert_string_equal(json_string_value(json_array_get(json_object_get(accept, "requires"), 0)), "dispute_type");
    assert_string_equal(json_string_value(json_array_get(json_object_get(accept, "sets"), 0)), "accepted_on");

    json_t *deadlines = json_object_get(j, "deadlines");
    assert_int_equal(json_array_size(deadlines), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(deadlines, 1), "unit")), "natural_days");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(deadlines, 1), "amount")), 30);
    assert_string_equal(json_string_value(json_object_get(json_array_get(deadlines, 0), "unit")), "hours");

    json_t *numbering = json_object_get(j, "numbering");
    assert_string_equal(json_string_value(json_object_get(numbering, "field")), "case_no");

    char *dump = json_dumps(j, 0);
    assert_non_null(dump);
    free(dump);
    json_decref(j);
    sifa_model_free(model);
    sifa_error_release(&err);
}

static void test_missing_dir(void **state)
{
    (void)state;
    struct sifa_model *model = NULL;
    json_t *errors = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_model_load_dir("tests/unit/fixtures/no_such_dir", &model, &errors, &err), SIFA_ENOTFOUND);
    assert_null(model);
    assert_null(errors);
    assert_string_equal(err.code, "modules_missing");
    sifa_error_release(&err);
}

/* A directory with errors in a code table and in a module: each error names its file. */
static void test_load_dir_errors_name_files(void **state)
{
    (void)state;
    struct sifa_model *model = NULL;
    json_t *errors = NULL;
    struct sifa_error err = {0};
    int rc = sifa_model_load_dir("tests/unit/fixtures/modules_bad", &model, &errors, &err);
    assert_int_equal(rc, SIFA_EINVALID);
    assert_null(model);
    assert_non_null(errors);
    if (json_array_size(errors) != 2)
        print_errors(errors);
    assert_int_equal(json_array_size(errors), 2);
    json_t *e = find_error(errors, "duplicate_code");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "file")), "tests/unit/fixtures/modules_bad/codes/levels.yaml");
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 6);
    assert_int_equal(json_integer_value(json_object_get(e, "column")), 5);
    e = find_error(errors, "unknown_type");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "file")), "tests/unit/fixtures/modules_bad/ticket.yaml");
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 6);
    assert_int_equal(json_integer_value(json_object_get(e, "column")), 44);
    /* err summarises the first error and carries them all */
    assert_string_equal(err.code, "bad_definition");
    assert_true(json_equal(err.details, errors));
    json_decref(errors);
    sifa_error_release(&err);
}

/* ---- definition errors ---- */

static void test_base_loads(void **state)
{
    (void)state;
    struct loaded l = load(BASE);
    if (l.rc != 0)
        print_errors(l.errors);
    assert_int_equal(l.rc, 0);
    assert_null(l.errors);
    const struct sifa_module *m = sifa_model_module(l.model, "demo");
    assert_non_null(m);
    assert_int_equal(m->nfields, 4);
    assert_int_equal(m->fields[2].line, 6);
    assert_int_equal(m->fields[2].column, 5);
    assert_int_equal(m->ndeadlines, 1);
    assert_int_equal(m->ntransitions, 1);
    assert_null(m->org_field);
    assert_null(m->numbering);
    loaded_release(&l);
}

/* group files the module under a menu section of the front end; empty is refused where written */
static void test_module_group(void **state)
{
    (void)state;
    char *t = with_line(2, "name: Demo\ngroup: 人民调解");
    struct loaded l = load(t);
    assert_int_equal(l.rc, 0);
    const struct sifa_module *m = sifa_model_module(l.model, "demo");
    assert_string_equal(m->group, "人民调解");
    json_t *j = sifa_module_to_json(m);
    assert_string_equal(json_string_value(json_object_get(j, "group")), "人民调解");
    json_decref(j);
    loaded_release(&l);
    free(t);
    struct loaded plain = load(BASE);
    j = sifa_module_to_json(sifa_model_module(plain.model, "demo"));
    assert_true(json_is_null(json_object_get(j, "group")));
    json_decref(j);
    loaded_release(&plain);
    t = with_line(2, "name: Demo\ngroup: \"\"");
    expect_error(t, 1, "bad_group", 3, 8);
    free(t);
}

/* a sequence per org unit needs the unit in the number, and a module that says which unit */
static void test_numbering_per_org(void **state)
{
    (void)state;
    static const char ok[] = "code: demo\nname: Demo\norg_field: unit\n"
                             "numbering: {field: title, pattern: \"({year}){org_name}第{seq:03}号\", per_org: true}\n"
                             "fields:\n  - {code: title, name: Title, type: text}\n  - {code: unit, name: Unit, type: org}\n"
                             "states:\n  - {code: open, name: Open, initial: true}\n";
    struct loaded l = load(ok);
    if (l.rc != 0)
        print_errors(l.errors);
    assert_int_equal(l.rc, 0);
    assert_true(sifa_model_module(l.model, "demo")->numbering->per_org);
    loaded_release(&l);
    static const char no_name[] = "code: demo\nname: Demo\norg_field: unit\n"
                                  "numbering: {field: title, pattern: \"第{seq:03}号\", per_org: true}\n"
                                  "fields:\n  - {code: title, name: Title, type: text}\n  - {code: unit, name: Unit, type: org}\n"
                                  "states:\n  - {code: open, name: Open, initial: true}\n";
    l = load(no_name);
    assert_int_equal(l.rc, SIFA_EINVALID);
    assert_non_null(find_error(l.errors, "numbering_org_missing"));
    loaded_release(&l);
    static const char no_org[] = "code: demo\nname: Demo\n"
                                 "numbering: {field: title, pattern: \"{org_name}第{seq:03}号\", per_org: true}\n"
                                 "fields:\n  - {code: title, name: Title, type: text}\n"
                                 "states:\n  - {code: open, name: Open, initial: true}\n";
    l = load(no_org);
    assert_int_equal(l.rc, SIFA_EINVALID);
    assert_non_null(find_error(l.errors, "numbering_org_missing"));
    loaded_release(&l);
}

/* an attachment is protected by its record's scope; sealing its reference would hide it from that check */
static void test_personal_attachment_refused(void **state)
{
    (void)state;
    char *t = with_line(7, "  - {code: scan, name: Scan, type: attachment, personal: true}");
    expect_error(t, 1, "personal_attachment", 7, col_of(t, 7, "{"));
    free(t);
}

static void test_unknown_type(void **state)
{
    (void)state;
    char *t = with_line(7, "  - {code: days, name: Days, type: integr}");
    expect_error(t, 1, "unknown_type", 7, col_of(t, 7, "integr"));
    free(t);
}

static void test_duplicate_field(void **state)
{
    (void)state;
    char *t = with_line(7, "  - {code: days, name: Days, type: integer}\n"
                           "  - {code: days, name: Again, type: text}");
    expect_error(t, 1, "duplicate_field", 8, col_of(t, 8, "{"));
    free(t);
}

static void test_transition_to_unknown_state(void **state)
{
    (void)state;
    char *t = with_line(12, "  - {code: close, name: Close, from: [open], to: shut}");
    expect_error(t, 1, "unknown_state", 12, col_of(t, 12, "shut"));
    free(t);
}

static void test_transition_from_unknown_state(void **state)
{
    (void)state;
    char *t = with_line(12, "  - {code: close, name: Close, from: [open, gone], to: closed}");
    expect_error(t, 1, "unknown_state", 12, col_of(t, 12, "gone"));
    free(t);
}

static void test_transition_missing_to(void **state)
{
    (void)state;
    char *t = with_line(12, "  - {code: close, name: Close, from: [open]}");
    expect_error(t, 1, "missing", 12, col_of(t, 12, "{"));
    free(t);
}

static void test_deadline_unknown_field(void **state)
{
    (void)state;
    char *t = with_line(14, "  - {code: finish, name: Finish, from: nofield, unit: natural_days, amount: 10, until: [closed]}");
    expect_error(t, 1, "unknown_field", 14, col_of(t, 14, "nofield"));
    free(t);
}

static void test_deadline_from_not_a_date(void **state)
{
    (void)state;
    char *t = with_line(14, "  - {code: finish, name: Finish, from: days, unit: natural_days, amount: 10, until: [closed]}");
    expect_error(t, 1, "bad_event", 14, col_of(t, 14, "days"));
    free(t);
}

static void test_deadline_bad_unit(void **state)
{
    (void)state;
    char *t = with_line(14, "  - {code: finish, name: Finish, from: started_on, unit: weeks, amount: 10, until: [closed]}");
    expect_error(t, 1, "bad_unit", 14, col_of(t, 14, "weeks"));
    free(t);
}

/* amount must be 1..3650: an out-of-range amount has to be reported, not silently dropped
 * together with the whole deadline. */
static void test_deadline_amount_out_of_range(void **state)
{
    (void)state;
    char *t = with_line(14, "  - {code: finish, name: Finish, from: started_on, unit: natural_days, amount: 0, until: [closed]}");
    struct loaded l = load(t);
    if (l.rc == 0)
        print_message("amount: 0 loaded without error; deadlines kept: %zu\n",
                      sifa_model_module(l.model, "demo")->ndeadlines);
    assert_int_equal(l.rc, SIFA_EINVALID);
    loaded_release(&l);
    expect_error(t, 1, "bad_range", 14, col_of(t, 14, "0,"));
    free(t);
}

static void test_enum_code_table_missing(void **state)
{
    (void)state;
    char *t = with_line(5, "  - {code: color, name: Color, type: enum, codes: colours}");
    expect_error(t, 1, "unknown_code_table", 5, col_of(t, 5, "colours"));
    free(t);
    t = with_line(5, "  - {code: color, name: Color, type: enum}");
    expect_error(t, 1, "missing", 5, col_of(t, 5, "{"));
    free(t);
}

static void test_no_initial_state(void **state)
{
    (void)state;
    char *t = with_line(9, "  - {code: open, name: Open}");
    /* points at the states list */
    expect_error(t, 1, "initial_state", 9, col_of(t, 9, "-"));
    free(t);
}

static void test_two_initial_states(void **state)
{
    (void)state;
    char *t = with_line(10, "  - {code: closed, name: Closed, final: true, initial: true}");
    expect_error(t, 1, "initial_state", 9, col_of(t, 9, "-"));
    free(t);
}

static void test_unknown_key(void **state)
{
    (void)state;
    char *t = with_line(4, "  - {code: title, name: Title, type: text, requird: true}");
    expect_error(t, 1, "unknown_key", 4, col_of(t, 4, "requird"));
    free(t);
    /* at the top level as well */
    t = with_line(0, "stats: []");
    expect_error(t, 1, "unknown_key", 15, 1);
    free(t);
}

/* The module loader walks the node tree as the indicator loader does (model/yamlwalk.c): a
 * scalar holding an escaped NUL is no text, a mapping may hold at most SIFA_YAML_KEYS_MAX keys,
 * and at most 1000 errors are listed. */
static void test_walk_limits(void **state)
{
    (void)state;
    /* "ti\0tle" would have been the code "ti" for C */
    char *t = with_line(4, "  - {code: \"ti\\0tle\", name: Title, type: text}");
    expect_error(t, 0, "not_scalar", 4, col_of(t, 4, "\"ti"));
    free(t);

    char line[2048] = "  - {code: title, name: Title, type: text";
    for (int k = 0; k < 62; k++)
        snprintf(line + strlen(line), sizeof(line) - strlen(line), ", k%d: 1", k);
    snprintf(line + strlen(line), sizeof(line) - strlen(line), "}");
    t = with_line(4, line);
    struct loaded l = load(t);
    assert_int_equal(l.rc, SIFA_EINVALID);
    json_t *e = find_error(l.errors, "unknown_key");
    assert_non_null(e);
    assert_non_null(strstr(json_string_value(json_object_get(e, "message")), "键过多"));
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 4);
    loaded_release(&l);
    free(t);

    /* 250 fields (the most a module may have is 256), each with five unknown keys: 1000 errors
     * listed, then one that says there were more */
    size_t cap = 250 * 96 + 64, len = 0;
    char *many = malloc(cap);
    assert_non_null(many);
    many[0] = '\0';
    for (int k = 0; k < 250; k++)
        len += (size_t)snprintf(many + len, cap - len, "%s  - {code: f%d, name: F, type: text, a: 1, b: 1, c: 1, d: 1, e: 1}",
                                k ? "\n" : "", k);
    t = with_line(4, many);
    l = load(t);
    assert_int_equal(l.rc, SIFA_EINVALID);
    assert_int_equal(json_array_size(l.errors), 1001);
    assert_string_equal(json_string_value(json_object_get(json_array_get(l.errors, 1000), "code")), "too_many_errors");
    loaded_release(&l);
    free(t);
    free(many);
}

/* A field's pattern is a POSIX regular expression that glibc writes out repetition by
 * repetition: stacked or nested repetitions would make loading the definition take gigabytes
 * (found by fuzz_model), so they are refused; ordinary patterns load. */
static void test_pattern_limits(void **state)
{
    (void)state;
    const char *bad[] = {
        "a++++++++++++++++++++++++++++++",
        "((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+",
        "(a{100}){101}",
        "x{1000}{1000}",
        "( open a++++++++++++++++++++++++++++++",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[256];
        snprintf(line, sizeof(line), "  - {code: title, name: Title, type: text, pattern: \"%s\"}", bad[i]);
        char *t = with_line(4, line);
        expect_error(t, 1, "bad_pattern", 4, col_of(t, 4, "\""));
        free(t);
    }
    const char *good[] = {"^[0-9-]{7,20}$", "^[0-9]{17}[0-9Xx]$", "^1[3-9][0-9]{9}$", "^[[:alnum:]_]+$",
                          "(ab|cd){1,50}"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char line[256];
        snprintf(line, sizeof(line), "  - {code: title, name: Title, type: text, pattern: \"%s\"}", good[i]);
        char *t = with_line(4, line);
        struct loaded l = load(t);
        if (l.rc != 0)
            print_errors(l.errors);
        assert_int_equal(l.rc, 0);
        loaded_release(&l);
        free(t);
    }
}

static void test_duplicate_key(void **state)
{
    (void)state;
    char *t = with_line(4, "  - {code: title, name: Title, type: text, type: date}");
    expect_error(t, 0, "duplicate_key", 4, col_of(t, 4, "type: date"));
    free(t);
}

/* The engine's own members cannot be field codes; the error points at the field. */
static void test_reserved_field(void **state)
{
    (void)state;
    char *t = with_line(7, "  - {code: id, name: Id, type: integer}");
    expect_error(t, 1, "reserved_field", 7, col_of(t, 7, "{"));
    free(t);
}

/* record_from_row (src/record/store.c) emits a "state_name" member beside the fields: a field of
 * that code would overwrite it, so the loader must reserve it like "state" and "deadlines". */
static void test_reserved_field_state_name(void **state)
{
    (void)state;
    char *t = with_line(7, "  - {code: state_name, name: StateName, type: text}");
    struct loaded l = load(t);
    assert_int_equal(l.rc, SIFA_EINVALID);
    assert_non_null(l.errors);
    assert_non_null(find_error(l.errors, "reserved_field"));
    loaded_release(&l);
    free(t);
}

static void test_personal_searchable(void **state)
{
    (void)state;
    char *t = with_line(4, "  - {code: title, name: Title, type: text, personal: true, searchable: true}");
    expect_error(t, 1, "personal_searchable", 4, col_of(t, 4, "{"));
    free(t);
}

static void test_bad_code(void **state)
{
    (void)state;
    char *t = with_line(7, "  - {code: Days, name: Days, type: integer}");
    expect_error(t, 1, "bad_code", 7, col_of(t, 7, "Days"));
    free(t);
    t = with_line(1, "code: demo-module");
    expect_error(t, 1, "bad_code", 1, col_of(t, 1, "demo-module"));
    free(t);
    /* longer than SIFA_MODEL_CODE_MAX */
    t = with_line(7, "  - {code: d123456789012345678901234567890123456789012345678, name: Days, type: integer}");
    expect_error(t, 1, "bad_code", 7, col_of(t, 7, "d1234"));
    free(t);
}

static void test_yaml_syntax_error(void **state)
{
    (void)state;
    char *t = with_line(2, "name: a: b");
    expect_error(t, 1, "yaml_syntax", 2, col_of(t, 2, ": b"));
    free(t);
    /* an unterminated flow mapping is reported too (its line at least) */
    t = with_line(6, "  - {code: started_on, name: Started, type: date");
    struct loaded l = load(t);
    assert_int_equal(l.rc, SIFA_EINVALID);
    json_t *e = find_error(l.errors, "yaml_syntax");
    assert_non_null(e);
    assert_true(json_integer_value(json_object_get(e, "line")) >= 6);
    loaded_release(&l);
    free(t);
}

static void test_several_errors_all_reported(void **state)
{
    (void)state;
    const char *lines[] = {
        "code: demo",
        "name: Demo",
        "fields:",
        "  - {code: title, name: Title, type: text, requird: true}",
        "  - {code: color, name: Color, type: enum, codes: colors}",
        "  - {code: started_on, name: Started, type: date}",
        "  - {code: days, name: Days, type: integr}",
        "states:",
        "  - {code: open, name: Open, initial: true}",
        "  - {code: closed, name: Closed, final: true}",
        "transitions:",
        "  - {code: close, name: Close, from: [open], to: shut}",
        "deadlines:",
        "  - {code: finish, name: Finish, from: started_on, unit: weeks, amount: 10, until: [closed]}",
    };
    char text[2048] = "";
    size_t len = 0;
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(lines); i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\n", lines[i]);
    struct loaded l = load(text);
    assert_int_equal(l.rc, SIFA_EINVALID);
    if (json_array_size(l.errors) != 4)
        print_errors(l.errors);
    assert_int_equal(json_array_size(l.errors), 4);
    struct {
        const char *code;
        int line;
        const char *at;
    } want[] = {{"unknown_key", 4, "requird"}, {"unknown_type", 7, "integr"}, {"unknown_state", 12, "shut"},
                {"bad_unit", 14, "weeks"}};
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(want); i++) {
        json_t *e = find_error(l.errors, want[i].code);
        assert_non_null(e);
        assert_int_equal(json_integer_value(json_object_get(e, "line")), want[i].line);
        assert_int_equal(json_integer_value(json_object_get(e, "column")), col_of(text, want[i].line, want[i].at));
    }
    /* the summary in err names the count and the first error */
    assert_non_null(strstr(l.err.message, "4"));
    assert_true(json_equal(l.err.details, l.errors));
    loaded_release(&l);
}

static void test_org_field_not_org(void **state)
{
    (void)state;
    char *t = with_line(0, "org_field: title");
    expect_error(t, 1, "bad_field_type", 15, col_of(t, 15, "title"));
    free(t);
    t = with_line(0, "org_field: nothing");
    expect_error(t, 1, "unknown_field", 15, col_of(t, 15, "nothing"));
    free(t);
}

static void test_numbering_without_seq(void **state)
{
    (void)state;
    char *t = with_line(0, "numbering:\n"
                           "  field: title\n"
                           "  pattern: \"No.{year}\"");
    expect_error(t, 1, "bad_pattern", 17, col_of(t, 17, "\"No."));
    free(t);
    /* a good pattern loads */
    t = with_line(0, "numbering:\n"
                     "  field: title\n"
                     "  pattern: \"No.{year}-{seq:04}\"\n"
                     "  year_from: started_on");
    struct loaded l = load(t);
    assert_int_equal(l.rc, 0);
    const struct sifa_module *m = sifa_model_module(l.model, "demo");
    assert_non_null(m->numbering);
    assert_string_equal(m->numbering->year_field->code, "started_on");
    loaded_release(&l);
    free(t);
    /* the numbered field must be text */
    t = with_line(0, "numbering:\n"
                     "  field: days\n"
                     "  pattern: \"{seq}\"");
    expect_error(t, 1, "bad_field_type", 16, col_of(t, 16, "days"));
    free(t);
}

static void test_group_nested_and_sub_errors(void **state)
{
    (void)state;
    char *t = with_line(7, "  - code: people\n"
                           "    name: People\n"
                           "    type: group\n"
                           "    fields:\n"
                           "      - {code: name, name: Name, type: txt}");
    expect_error(t, 1, "unknown_type", 11, col_of(t, 11, "txt"));
    free(t);
    t = with_line(7, "  - code: people\n"
                     "    name: People\n"
                     "    type: group\n"
                     "    fields:\n"
                     "      - {code: name, name: Name, type: text}\n"
                     "      - {code: phone, name: Phone, type: phone, personal: true, searchable: true}");
    expect_error(t, 1, "personal_searchable", 12, col_of(t, 12, "{"));
    free(t);
}

static void test_not_a_mapping_and_empty(void **state)
{
    (void)state;
    const char *t = "- just\n- a list\n";
    expect_error(t, 1, "not_mapping", 1, 1);
    struct loaded l = load("");
    assert_int_equal(l.rc, SIFA_EINVALID);
    assert_non_null(find_error(l.errors, "empty"));
    loaded_release(&l);
}

static void test_bad_codes_text(void **state)
{
    (void)state;
    const char *codes = "code: colors\nname: Colors\nitems:\n  - {code: red, label: Red}\n  - {code: red, label: Again}\n";
    struct sifa_model *model = NULL;
    json_t *errors = NULL;
    struct sifa_error err = {0};
    int rc = sifa_model_load_text("demo.yaml", BASE, strlen(BASE), codes, strlen(codes), &model, &errors, &err);
    assert_int_equal(rc, SIFA_EINVALID);
    json_t *e = find_error(errors, "duplicate_code");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "file")), "codes.yaml");
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 5);
    assert_int_equal(json_integer_value(json_object_get(e, "column")), 5);
    json_decref(errors);
    sifa_error_release(&err);
}

static void test_code_valid(void **state)
{
    (void)state;
    assert_true(sifa_model_code_valid("a"));
    assert_true(sifa_model_code_valid("mediation_case2"));
    assert_false(sifa_model_code_valid(""));
    assert_false(sifa_model_code_valid("1a"));
    assert_false(sifa_model_code_valid("_a"));
    assert_false(sifa_model_code_valid("aB"));
    assert_false(sifa_model_code_valid("a-b"));
    assert_false(sifa_model_code_valid("a b"));
    assert_false(sifa_model_code_valid("a;drop"));
    char s[SIFA_MODEL_CODE_MAX + 2];
    memset(s, 'a', sizeof(s) - 1);
    s[sizeof(s) - 1] = '\0';
    assert_false(sifa_model_code_valid(s)); /* 49 characters */
    s[SIFA_MODEL_CODE_MAX] = '\0';
    assert_true(sifa_model_code_valid(s)); /* 48 */
    assert_string_equal(sifa_field_type_name(SIFA_FIELD_ID_NUMBER), "id_number");
    assert_string_equal(sifa_field_type_name(SIFA_FIELD_GROUP), "group");
}

/* A YAML alias bomb stays within the node budget and is reported, not expanded. */
static void test_alias_bomb(void **state)
{
    (void)state;
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof(text), "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 9; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len,
                                "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i,
                                i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    len += (size_t)snprintf(text + len, sizeof(text) - len, "code: demo\nname: Demo\nfields: *a8\n");
    struct loaded l = load(text);
    assert_int_equal(l.rc, SIFA_EINVALID);
    assert_true(json_array_size(l.errors) > 0);
    loaded_release(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_modules_load),
        cmocka_unit_test(test_module_to_json),
        cmocka_unit_test(test_missing_dir),
        cmocka_unit_test(test_load_dir_errors_name_files),
        cmocka_unit_test(test_base_loads),
        cmocka_unit_test(test_module_group),
        cmocka_unit_test(test_numbering_per_org),
        cmocka_unit_test(test_personal_attachment_refused),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_duplicate_field),
        cmocka_unit_test(test_transition_to_unknown_state),
        cmocka_unit_test(test_transition_from_unknown_state),
        cmocka_unit_test(test_transition_missing_to),
        cmocka_unit_test(test_deadline_unknown_field),
        cmocka_unit_test(test_deadline_from_not_a_date),
        cmocka_unit_test(test_deadline_bad_unit),
        cmocka_unit_test(test_deadline_amount_out_of_range),
        cmocka_unit_test(test_enum_code_table_missing),
        cmocka_unit_test(test_no_initial_state),
        cmocka_unit_test(test_two_initial_states),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_walk_limits),
        cmocka_unit_test(test_pattern_limits),
        cmocka_unit_test(test_reserved_field),
        cmocka_unit_test(test_reserved_field_state_name),
        cmocka_unit_test(test_personal_searchable),
        cmocka_unit_test(test_bad_code),
        cmocka_unit_test(test_yaml_syntax_error),
        cmocka_unit_test(test_several_errors_all_reported),
        cmocka_unit_test(test_org_field_not_org),
        cmocka_unit_test(test_numbering_without_seq),
        cmocka_unit_test(test_group_nested_and_sub_errors),
        cmocka_unit_test(test_not_a_mapping_and_empty),
        cmocka_unit_test(test_bad_codes_text),
        cmocka_unit_test(test_code_valid),
        cmocka_unit_test(test_alias_bomb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
