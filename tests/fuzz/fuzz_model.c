/* fuzz_model.c — libFuzzer target for src/model (loader.c, json.c). The input is a module
 * definition loaded with sifa_model_load_text beside one fixed code table. Checks: success gives
 * a model whose modules serialise (sifa_module_to_json) and whose codes are valid SQL names;
 * failure gives SIFA_EINVALID with a non-empty error array of {file, line >= 1, column >= 1,
 * code, message}. No leaks (run under ASan/LSan). */
#include <string.h>

#include "base/common.h"
#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CODES[] = "code: colors\n"
                            "name: 颜色\n"
                            "items:\n"
                            "  - {code: red, label: 红}\n"
                            "  - {code: blue, label: 蓝}\n";

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void check_module(const struct sifa_module *m)
{
    check(sifa_model_code_valid(m->code));
    check(m->initial != NULL);
    for (size_t i = 0; i < m->nfields; i++) {
        check(sifa_model_code_valid(m->fields[i].code));
        check(sifa_module_field(m, m->fields[i].code) != NULL);
        for (size_t k = 0; k < m->fields[i].nsub; k++)
            check(sifa_model_code_valid(m->fields[i].sub[k].code));
        if (m->fields[i].type == SIFA_FIELD_ENUM)
            check(m->fields[i].codes != NULL);
    }
    for (size_t i = 0; i < m->nstates; i++)
        check(sifa_model_code_valid(m->states[i].code));
    for (size_t i = 0; i < m->ntransitions; i++) {
        check(m->transitions[i].to != NULL && m->transitions[i].nfrom > 0);
        check(sifa_model_code_valid(m->transitions[i].code));
    }
    for (size_t i = 0; i < m->ndeadlines; i++) {
        check(m->deadlines[i].start_field != NULL);
        check(sifa_model_code_valid(m->deadlines[i].code));
    }
    json_t *j = sifa_module_to_json(m);
    check(j != NULL);
    char *dump = json_dumps(j, 0);
    check(dump != NULL);
    free(dump);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sifa_model *model = NULL;
    json_t *errors = NULL;
    struct sifa_error err = {0};
    int rc = sifa_model_load_text("fuzz.yaml", (const char *)data, size, CODES, strlen(CODES), &model, &errors, &err);
    if (rc == 0) {
        check(model != NULL && errors == NULL);
        for (size_t i = 0; i < model->nmodules; i++)
            check_module(&model->modules[i]);
        sifa_model_free(model);
    } else {
        check(rc == SIFA_EINVALID);
        check(model == NULL);
        check(json_is_array(errors) && json_array_size(errors) > 0);
        size_t i;
        json_t *e;
        json_array_foreach(errors, i, e)
        {
            check(json_is_string(json_object_get(e, "file")));
            check(json_is_string(json_object_get(e, "code")));
            check(json_is_string(json_object_get(e, "message")));
            check(json_integer_value(json_object_get(e, "line")) >= 1);
            check(json_integer_value(json_object_get(e, "column")) >= 1);
        }
        char *dump = json_dumps(errors, 0);
        check(dump != NULL);
        free(dump);
        json_decref(errors);
    }
    sifa_error_release(&err);
    return 0;
}
