/* fuzz_indicators.c — libFuzzer target for src/model/indicators.c. The input is an indicators
 * file loaded with sifa_model_load_indicators_text into a fixed model (one module beside one code
 * table, built once). Checks: success gives indicators whose codes are valid SQL names and unique,
 * where every derived one comes after the indicators it uses (a, and b for ratio and difference,
 * point earlier into the same array), base kinds have a module, a date field, an org field of that
 * module and a 64-digit hash, and each serialises (sifa_indicator_to_json); failure gives
 * SIFA_EINVALID, a model without indicators and a non-empty error array of {file, line >= 1,
 * column >= 1, code, message}. No leaks (run under ASan/LSan). */
#include <string.h>

#include "base/common.h"
#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
                             "  - {code: dispute_type, name: 纠纷类型, type: enum, codes: dtype}\n"
                             "  - {code: amount, name: 涉及金额, type: money}\n"
                             "  - {code: days, name: 天数, type: integer}\n"
                             "  - {code: score, name: 评分, type: decimal}\n"
                             "  - {code: received_on, name: 收案日期, type: date}\n"
                             "  - {code: concluded_on, name: 结案日期, type: date}\n"
                             "  - {code: applied_at, name: 申请时间, type: datetime}\n"
                             "  - {code: performed, name: 已履行, type: bool}\n"
                             "  - {code: title, name: 标题, type: text}\n"
                             "  - {code: summary, name: 简要情况, type: longtext}\n"
                             "  - {code: related, name: 关联案件, type: ref, module: case}\n"
                             "  - {code: id_number, name: 身份证号, type: id_number, personal: true}\n"
                             "  - {code: phone, name: 电话, type: phone}\n"
                             "  - {code: parties, name: 当事人, type: group, fields: [{code: pname, name: 姓名, type: text}]}\n"
                             "states:\n"
                             "  - {code: registered, name: 登记, initial: true}\n"
                             "  - {code: accepted, name: 受理}\n"
                             "  - {code: concluded, name: 办结, final: true}\n";

static struct sifa_model *model;

static void check(bool ok)
{
    if (!ok)
        abort();
}

static bool field_of(const struct sifa_module *m, const struct sifa_field *f)
{
    return f != NULL && f >= m->fields && f < m->fields + m->nfields;
}

static void check_indicator(size_t k)
{
    const struct sifa_indicator *ind = &model->indicators[k];
    check(sifa_model_code_valid(ind->code));
    check(sifa_model_indicator(model, ind->code) == ind); /* unique: the first with its code */
    check(ind->name != NULL && ind->unit != NULL && ind->file != NULL && ind->line >= 1 && ind->column >= 1);
    if (ind->kind >= SIFA_IND_RATIO) {
        check(ind->a != NULL && ind->a >= model->indicators && ind->a < ind);
        bool two = ind->kind == SIFA_IND_RATIO || ind->kind == SIFA_IND_DIFFERENCE;
        check(two ? ind->b != NULL && ind->b >= model->indicators && ind->b < ind : ind->b == NULL);
        check(ind->module == NULL && ind->hash[0] == '\0');
        check(ind->digits >= 0 && ind->digits <= 6);
        check(ind->kind != SIFA_IND_RATIO || (ind->scale >= 1 && ind->scale <= 1000000));
    } else {
        const struct sifa_module *m = ind->module;
        check(m != NULL && m >= model->modules && m < model->modules + model->nmodules);
        check(field_of(m, ind->date_field));
        check(ind->date_field->type == SIFA_FIELD_DATE || ind->date_field->type == SIFA_FIELD_DATETIME);
        check(ind->end_field == NULL || field_of(m, ind->end_field));
        check(field_of(m, ind->org_field) && ind->org_field->type == SIFA_FIELD_ORG);
        check((ind->kind == SIFA_IND_SUM || ind->kind == SIFA_IND_DISTINCT) == (ind->field != NULL));
        check(ind->a == NULL && ind->b == NULL && strlen(ind->hash) == 64);
        for (size_t i = 0; i < ind->nwhere; i++) {
            const struct sifa_indicator_cond *w = &ind->where[i];
            check(w->field == NULL || (field_of(m, w->field) && !w->field->personal));
            bool none = w->op == SIFA_COND_EMPTY || w->op == SIFA_COND_NOT_EMPTY;
            bool many = w->op == SIFA_COND_IN || w->op == SIFA_COND_NOT_IN;
            check(none ? w->nvalues == 0 : many ? w->nvalues >= 1 : w->nvalues == 1);
            for (size_t v = 0; v < w->nvalues; v++) {
                check(w->values[v] != NULL);
                if (w->field == NULL)
                    check(sifa_module_state(m, w->values[v]) != NULL);
                else if (w->field->type == SIFA_FIELD_ENUM)
                    check(sifa_code_table_item(w->field->codes, w->values[v]) != NULL);
            }
        }
        for (size_t i = 0; i < ind->nby; i++)
            check(field_of(m, ind->by[i]) && ind->by[i]->type == SIFA_FIELD_ENUM);
    }
    json_t *j = sifa_indicator_to_json(ind);
    check(j != NULL);
    char *dump = json_dumps(j, 0);
    check(dump != NULL);
    free(dump);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (model == NULL) {
        json_t *errors = NULL;
        struct sifa_error err = {0};
        check(sifa_model_load_text("case.yaml", MODULE, strlen(MODULE), CODES, strlen(CODES), &model, &errors,
                                   &err) == 0);
        sifa_error_release(&err);
    }
    json_t *errors = NULL;
    struct sifa_error err = {0};
    int rc = sifa_model_load_indicators_text(model, "fuzz.yaml", (const char *)data, size, &errors, &err);
    if (rc == 0) {
        check(errors == NULL);
        check(model->nindicators == 0 || model->indicators != NULL);
        for (size_t k = 0; k < model->nindicators; k++)
            check_indicator(k);
    } else {
        check(rc == SIFA_EINVALID);
        check(model->nindicators == 0 && model->indicators == NULL);
        check(json_is_array(errors) && json_array_size(errors) > 0);
        check(strcmp(err.code, "bad_definition") == 0);
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
