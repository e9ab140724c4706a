/* test_roles.c — role definitions (roles/roles.yaml): loading, errors with positions, and the
 * permission matching every request goes through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/roles.h"

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/sifa_test_roles.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_real_roles_load(void **state)
{
    (void)state;
    struct sifa_roles *roles = NULL;
    json_t *errors = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_roles_load("roles/roles.yaml", &roles, &errors, &err), 0);
    assert_null(errors);
    const struct sifa_role *admin = sifa_roles_find(roles, "admin");
    assert_non_null(admin);
    assert_int_equal(admin->scope, SIFA_SCOPE_ALL);
    assert_true(sifa_role_grants(admin, "users.manage"));
    const struct sifa_role *staff = sifa_roles_find(roles, "mediation_staff");
    assert_int_equal(staff->scope, SIFA_SCOPE_ORG_AND_BELOW);
    assert_true(sifa_role_grants(staff, "mediation_case.transition.accept"));
    assert_true(sifa_role_grants(staff, "mediation_case.personal"));
    assert_false(sifa_role_grants(staff, "legal_aid_case.read"));
    const struct sifa_role *lead = sifa_roles_find(roles, "leadership");
    assert_true(sifa_role_grants(lead, "legal_aid_case.read"));
    assert_false(sifa_role_grants(lead, "legal_aid_case.create"));
    assert_false(sifa_role_grants(lead, "audit.read")); /* "*.read" is for business modules only */
    const struct sifa_role *inspector = sifa_roles_find(roles, "inspector");
    assert_true(inspector->read_only);
    assert_true(sifa_role_grants(inspector, "audit.read"));
    assert_false(sifa_role_grants(inspector, "mediation_case.update"));
    assert_int_equal(sifa_roles_find(roles, "mediator")->scope, SIFA_SCOPE_SELF);
    /* applicants file with any office; a mediator only within its own unit */
    assert_true(sifa_roles_find(roles, "citizen")->file_with_any_org);
    assert_false(sifa_roles_find(roles, "mediator")->file_with_any_org);
    assert_null(sifa_roles_find(roles, "nobody"));
    sifa_roles_free(roles);
}

static void test_permission_match(void **state)
{
    (void)state;
    assert_true(sifa_permission_match("*", "anything.at.all"));
    assert_true(sifa_permission_match("mediation_case.*", "mediation_case.read"));
    assert_true(sifa_permission_match("mediation_case.*", "mediation_case.transition.accept"));
    assert_false(sifa_permission_match("mediation_case.*", "mediation_case_x.read"));
    assert_false(sifa_permission_match("mediation_case.*", "mediation_case"));
    assert_true(sifa_permission_match("*.read", "legal_aid_case.read"));
    assert_false(sifa_permission_match("*.read", "legal_aid_case.create"));
    assert_false(sifa_permission_match("*.read", "audit.read"));
    assert_false(sifa_permission_match("*.manage", "users.manage"));
    assert_true(sifa_permission_match("legal_aid_case.read", "legal_aid_case.read"));
    assert_false(sifa_permission_match("legal_aid_case.read", "legal_aid_case.readx"));
    assert_true(sifa_permission_is_write("mediation_case.create"));
    assert_true(sifa_permission_is_write("mediation_case.transition.accept"));
    assert_false(sifa_permission_is_write("mediation_case.read"));
    assert_false(sifa_permission_is_write("mediation_case.personal"));
}

/* Finds the error with code in errors; returns its line (or -1). */
static int error_line(json_t *errors, const char *code)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "code")), code) == 0)
            return (int)json_integer_value(json_object_get(e, "line"));
    }
    return -1;
}

static void test_errors_with_positions(void **state)
{
    (void)state;
    char *path = write_temp("roles:\n"
                            "  - code: a\n"
                            "    name: 甲\n"
                            "    scope: everything\n"
                            "    permissions: [\"x.read\"]\n"
                            "  - code: b\n"
                            "    name: 乙\n"
                            "    scope: custom\n"
                            "    permisions: []\n"
                            "  - code: c\n"
                            "    name: 丙\n"
                            "    scope: all\n"
                            "    read_only: true\n"
                            "    permissions: [\"x.create\"]\n"
                            "  - code: a\n"
                            "    name: 重复\n"
                            "    scope: all\n"
                            "  - code: Bad\n"
                            "    name: 坏\n"
                            "    scope: all\n"
                            "  - code: d\n"
                            "    name: 丁\n"
                            "    scope: own_org\n"
                            "    file_with_any_org: true\n");
    struct sifa_roles *roles = NULL;
    json_t *errors = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_roles_load(path, &roles, &errors, &err), SIFA_EINVALID);
    assert_null(roles);
    assert_string_equal(err.code, "bad_roles");
    assert_int_equal(error_line(errors, "bad_scope"), 4);
    assert_int_equal(error_line(errors, "unknown_key"), 9);
    assert_int_equal(error_line(errors, "custom_without_orgs"), 6);
    assert_int_equal(error_line(errors, "read_only_write"), 10);
    assert_int_equal(error_line(errors, "duplicate_role"), 15);
    assert_int_equal(error_line(errors, "bad_code"), 18);
    assert_int_equal(error_line(errors, "any_org_needs_self"), 24);
    assert_int_equal(json_array_size(errors), 7);
    json_decref(errors);
    sifa_error_release(&err);
    unlink(path);
    free(path);

    path = write_temp("roles: [\n");
    assert_int_equal(sifa_roles_load(path, &roles, &errors, &err), SIFA_EINVALID);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "code")), "yaml_syntax");
    json_decref(errors);
    sifa_error_release(&err);
    unlink(path);
    free(path);

    assert_int_equal(sifa_roles_load("/nonexistent/roles.yaml", &roles, &errors, &err), SIFA_ENOTFOUND);
    assert_string_equal(err.code, "roles_missing");
    sifa_error_release(&err);
}

static void test_role_json(void **state)
{
    (void)state;
    struct sifa_roles *roles = NULL;
    json_t *errors = NULL;
    assert_int_equal(sifa_roles_load("roles/roles.yaml", &roles, &errors, NULL), 0);
    json_t *j = sifa_role_to_json(sifa_roles_find(roles, "inspector"));
    assert_string_equal(json_string_value(json_object_get(j, "scope")), "all");
    assert_true(json_is_true(json_object_get(j, "read_only")));
    assert_true(json_array_size(json_object_get(j, "permissions")) >= 2);
    json_decref(j);
    sifa_roles_free(roles);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_roles_load),
        cmocka_unit_test(test_permission_match),
        cmocka_unit_test(test_errors_with_positions),
        cmocka_unit_test(test_role_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
