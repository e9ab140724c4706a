/* fuzz_validate.c — libFuzzer target for src/record/validate.c. modules/ is loaded once (the
 * fuzzer runs from the repository root); each input is parsed as JSON (skipped when invalid) and
 * validated against mediation_case, partial and full, with a fixed clock. Checks: success gives
 * an object holding only fields of the module; failure gives SIFA_EINVALID "validation" with
 * details that serialise. No leaks. */
#include <string.h>

#include "base/common.h"
#include "record/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sifa_model *model;
static const struct sifa_module *module;

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void load_once(void)
{
    if (module != NULL)
        return;
    json_t *errors = NULL;
    struct sifa_error err = {0};
    if (sifa_model_load_dir("modules", &model, &errors, &err) < 0) {
        fprintf(stderr, "fuzz_validate: modules/ does not load (run from the repository root): %s\n", err.message);
        abort();
    }
    module = sifa_model_module(model, "mediation_case");
    check(module != NULL);
}

static void run(json_t *input, bool partial)
{
    struct sifa_record_ctx rc = {.model = model, .now = 1632794400};
    json_t *values = NULL;
    struct sifa_error err = {0};
    if (sifa_record_validate(&rc, module, input, partial, &values, &err) == 0) {
        check(json_is_object(values));
        const char *key;
        json_t *v;
        json_object_foreach(values, key, v)
        {
            check(sifa_module_field(module, key) != NULL);
        }
        char *dump = json_dumps(values, 0);
        check(dump != NULL);
        free(dump);
        json_decref(values);
    } else {
        check(err.status == SIFA_EINVALID);
        check(strcmp(err.code, "validation") == 0);
        check(values == NULL);
        char *dump = json_dumps(err.details, JSON_ENCODE_ANY);
        check(dump != NULL);
        free(dump);
    }
    sifa_error_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_once();
    json_t *input = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (input == NULL)
        return 0;
    run(input, true);
    run(input, false);
    json_decref(input);
    return 0;
}
