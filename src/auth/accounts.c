/* accounts.c — see accounts.h. Layer: auth. Plain SQL over the db interface; every value bound.
 * Org paths are maintained here: a unit's path is its parent's path plus "<code>/", so "is in
 * the subtree of X" is a prefix test that needs no recursive query on either engine.
 * Division codes are kept consistent with the tree here too: after every create and update the
 * units whose codes or ancestors changed are checked (shape, extends the nearest coded ancestor,
 * unique), inside the caller's transaction, so a refused change leaves nothing behind. */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "auth/accounts.h"
#include "auth/secret.h"

#define ORG_DEPTH_MAX 12

static const char *const org_kinds[] = {"city",      "district",     "town",      "street",
                                        "village",   "community",    "bureau",    "department",
                                        "judicial_office", "mediation_committee", "law_firm", "gov_unit",
                                        "enterprise", "other"};

static void iso_now(char out[32])
{
    sifa_utc_text(time(NULL), out);
}

static bool simple_code(const char *s, size_t max, bool allow_upper)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (allow_upper && c >= 'A' && c <= 'Z') || c == '_' ||
              c == '-' || c == '.'))
            return false;
    }
    return true;
}

bool sifa_org_code_valid(const char *code)
{
    return simple_code(code, SIFA_NAME_MAX, true);
}

bool sifa_org_kind_valid(const char *kind)
{
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(org_kinds); i++)
        if (strcmp(org_kinds[i], kind) == 0)
            return true;
    return false;
}

bool sifa_user_name_valid(const char *name)
{
    return simple_code(name, SIFA_NAME_MAX, false) && name[0] >= 'a' && name[0] <= 'z';
}

/* Runs sql with text parameters (NULL binds NULL); returns rows changed, or negative. */
static int exec_text(struct sifa_db *db, const char *sql, const char *const *params, size_t n, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, sql, &st, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (params[i] != NULL)
            sifa_db_bind_text(st, (int)i + 1, params[i], -1);
        else
            sifa_db_bind_null(st, (int)i + 1);
    }
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : (int)sifa_db_changes(db);
}

/* First column of the first row as a new string (NULL when no row or SQL NULL). */
static int query_text(struct sifa_db *db, const char *sql, const char *param, char **ret, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    *ret = NULL;
    int rc = sifa_db_prepare(db, sql, &st, err);
    if (rc < 0)
        return rc;
    if (param)
        sifa_db_bind_text(st, 1, param, -1);
    rc = sifa_db_step(st, err);
    if (rc == SIFA_DB_ROW && sifa_db_column_text(st, 0) != NULL)
        *ret = sifa_xstrdup(sifa_db_column_text(st, 0));
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : (rc == SIFA_DB_ROW);
}

/* ---------- division codes (GB/T 2260 and the statistical codes below county level) ---------- */

/* The code length each administrative kind must have; 0: any valid length ("other"); -1: none
 * allowed (departments, offices, committees, firms: they are not divisions). */
static int division_length_for_kind(const char *kind)
{
    static const struct {
        const char *kind;
        int len;
    } lengths[] = {{"city", 6},     {"district", 6}, {"town", 9}, {"street", 9},
                   {"village", 12}, {"community", 12}, {"other", 0}};
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(lengths); i++)
        if (strcmp(lengths[i].kind, kind) == 0)
            return lengths[i].len;
    return -1;
}

bool sifa_org_division_code_valid(const char *division_code)
{
    size_t n = strlen(division_code);
    if (n != 6 && n != 9 && n != 12)
        return false;
    for (size_t i = 0; i < n; i++)
        if (division_code[i] < '0' || division_code[i] > '9')
            return false;
    /* 00 is no province: a code that starts with it is a typo, not a division. */
    return !(division_code[0] == '0' && division_code[1] == '0');
}

/* The shape alone: digits of the right length for kind. */
static int check_division_shape(const char *division_code, const char *kind, struct sifa_error *err)
{
    if (!sifa_org_division_code_valid(division_code))
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_division_code",
                                      json_pack("{s:s}", "field", "division_code"),
                                      "行政区划代码 %.40s 格式有误:应为 6 位(省、市、县,GB/T 2260)、9 位(乡镇、街道)"
                                      "或 12 位(村、社区)数字",
                                      division_code);
    int want = division_length_for_kind(kind);
    if (want < 0)
        return sifa_error_set_details(err, SIFA_EINVALID, "division_code_not_allowed",
                                      json_pack("{s:s}", "field", "division_code"),
                                      "机构类型 %s 不是行政区划,不能有行政区划代码(只有市、区、乡镇、街道、村、社区和"
                                      "其他类型可以有)",
                                      kind);
    if (want > 0 && strlen(division_code) != (size_t)want)
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_division_code",
                                      json_pack("{s:s}", "field", "division_code"),
                                      "机构类型 %s 的行政区划代码应为 %d 位数字(市、区 6 位,乡镇、街道 9 位,村、社区 12 位)",
                                      kind, want);
    return 0;
}

/* The division code of the nearest ancestor of the unit at path that has one (new, or NULL when
 * none does). The path names every ancestor, so this is one primary-key lookup per level. */
static int nearest_coded_ancestor(struct sifa_db *db, const char *path, char **ret_code, char **ret_division,
                                  struct sifa_error *err)
{
    *ret_code = *ret_division = NULL;
    size_t n = strlen(path);
    assert(n >= 2 && path[0] == '/' && path[n - 1] == '/');
    /* Skip the unit's own segment, then walk the ancestors from the nearest up. */
    size_t end = n - 1;
    while (end > 0 && path[end - 1] != '/')
        end--;
    while (end > 1) {
        size_t start = end - 1;
        while (start > 0 && path[start - 1] != '/')
            start--;
        char code[SIFA_NAME_MAX + 1];
        if (end - 1 - start > SIFA_NAME_MAX)
            return sifa_error_set(err, SIFA_EINTERNAL, "org_path", "机构路径 %.80s 有误", path);
        memcpy(code, path + start, end - 1 - start);
        code[end - 1 - start] = '\0';
        char *division = NULL;
        int rc = query_text(db, "SELECT division_code FROM orgs WHERE code = ?", code, &division, err);
        if (rc < 0)
            return rc;
        if (division != NULL) {
            *ret_code = sifa_xstrdup(code);
            *ret_division = division;
            return 0;
        }
        end = start;
    }
    return 0;
}

/* Checks that the unit (code, at path, with division_code) extends its nearest coded ancestor. */
static int check_division_in_tree(struct sifa_db *db, const char *code, const char *path, const char *division_code,
                                  struct sifa_error *err)
{
    char *anc = NULL, *anc_division = NULL;
    int rc = nearest_coded_ancestor(db, path, &anc, &anc_division, err);
    if (rc >= 0 && anc_division != NULL &&
        !(strlen(division_code) > strlen(anc_division) &&
          strncmp(division_code, anc_division, strlen(anc_division)) == 0))
        rc = sifa_error_set_details(err, SIFA_EINVALID, "division_code_mismatch",
                                    json_pack("{s:s,s:s,s:s}", "field", "division_code", "org", code, "ancestor", anc),
                                    "机构 %s 的行政区划代码 %s 应以上级机构 %s 的代码 %s 开头且更长"
                                    "(下级区划的代码延续上级的代码)",
                                    code, division_code, anc, anc_division);
    free(anc);
    free(anc_division);
    return rc;
}

static int check_division_unique(struct sifa_db *db, const char *code, const char *division_code,
                                 struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "SELECT code FROM orgs WHERE division_code = ? AND code <> ? LIMIT 1", &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, division_code, -1);
    sifa_db_bind_text(st, 2, code, -1);
    rc = sifa_db_step(st, err);
    char other[SIFA_NAME_MAX + 1] = "";
    if (rc == SIFA_DB_ROW)
        snprintf(other, sizeof(other), "%s", sifa_db_column_text(st, 0));
    sifa_db_stmt_done(st);
    if (rc < 0)
        return rc;
    if (rc == SIFA_DB_ROW)
        return sifa_error_set_details(err, SIFA_ECONFLICT, "division_code_exists",
                                      json_pack("{s:s,s:s}", "field", "division_code", "org", other),
                                      "行政区划代码 %s 已由机构 %s 使用,一个区划只能对应一个机构", division_code, other);
    return 0;
}

/* Every coded unit at or below path (the subtree after a move or a change of its top unit's
 * code) must still extend its nearest coded ancestor. Checking each against its nearest one is
 * enough: prefixes chain, so each then extends all coded units above it. */
static int check_division_subtree(struct sifa_db *db, const char *path, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db,
                             "SELECT code, path, division_code FROM orgs WHERE division_code IS NOT NULL "
                             "AND substr(path, 1, ?) = ? ORDER BY path",
                             &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_int64(st, 1, (int64_t)strlen(path));
    sifa_db_bind_text(st, 2, path, -1);
    json_t *units = json_array();
    while ((rc = sifa_db_step(st, err)) == SIFA_DB_ROW)
        json_array_append_new(units, json_pack("[s,s,s]", sifa_db_column_text(st, 0), sifa_db_column_text(st, 1),
                                               sifa_db_column_text(st, 2)));
    sifa_db_stmt_done(st);
    size_t i;
    json_t *u;
    json_array_foreach(units, i, u)
    {
        if (rc < 0)
            break;
        rc = check_division_in_tree(db, json_string_value(json_array_get(u, 0)),
                                    json_string_value(json_array_get(u, 1)),
                                    json_string_value(json_array_get(u, 2)), err);
    }
    json_decref(units);
    return rc < 0 ? rc : 0;
}

/* ---------- org units ---------- */

int sifa_org_create(struct sifa_db *db, const char *code, const char *name, const char *kind, const char *parent,
                    const char *division_code, const char *actor, struct sifa_error *err)
{
    if (!sifa_org_code_valid(code))
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_org_code", json_pack("{s:s}", "field", "code"),
                                      "机构代码只能由字母、数字、下划线、点和连字符组成,最长 %d 个字符", SIFA_NAME_MAX);
    if (name == NULL || *name == '\0' || strlen(name) > 200)
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_org_name", json_pack("{s:s}", "field", "name"),
                                      "机构名称必填,最长 200 字节");
    if (!sifa_org_kind_valid(kind))
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_org_kind", json_pack("{s:s}", "field", "kind"),
                                      "机构类型 %s 未知", kind);
    if (division_code != NULL && *division_code == '\0')
        division_code = NULL; /* an empty form field means none */
    if (division_code != NULL) {
        int rc = check_division_shape(division_code, kind, err);
        if (rc < 0)
            return rc;
    }
    char *path = NULL;
    char *parent_path = NULL;
    if (parent != NULL && *parent) {
        int rc = query_text(db, "SELECT path FROM orgs WHERE code = ?", parent, &parent_path, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return sifa_error_set_details(err, SIFA_EINVALID, "org_not_found", json_pack("{s:s}", "field", "parent"),
                                          "上级机构 %s 不存在", parent);
    }
    size_t n = (parent_path ? strlen(parent_path) : 1) + strlen(code) + 2;
    path = sifa_xmalloc(n);
    snprintf(path, n, "%s%s/", parent_path ? parent_path : "/", code);
    free(parent_path);
    char at[32];
    iso_now(at);
    const char *params[] = {code, name, kind, parent && *parent ? parent : NULL, path, division_code, at, at};
    int rc = exec_text(db,
                       "INSERT INTO orgs (code, name, kind, parent, path, division_code, created_at, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       params, 8, err);
    if (rc >= 0) {
        const char *h[] = {code, at, actor, "create", NULL, path};
        rc = exec_text(db, "INSERT INTO org_history (code, at, actor, change, old, new) VALUES (?, ?, ?, ?, ?, ?)", h, 6,
                       err);
    }
    if (rc >= 0 && division_code != NULL && (rc = check_division_unique(db, code, division_code, err)) >= 0)
        rc = check_division_in_tree(db, code, path, division_code, err);
    free(path);
    if (rc < 0 && err && strcmp(err->code, "db_constraint") == 0)
        return sifa_error_set_details(err, SIFA_ECONFLICT, "org_exists", json_pack("{s:s}", "field", "code"),
                                      "机构代码 %s 已存在", code);
    return rc < 0 ? rc : 0;
}

int sifa_org_import_line(struct sifa_db *db, const char *line, size_t len, const char *actor, struct sifa_error *err)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len > SIFA_ORG_IMPORT_LINE_MAX)
        return sifa_error_set(err, SIFA_ELIMIT, "line_too_long", "超过 %d 字节", SIFA_ORG_IMPORT_LINE_MAX);
    size_t blank = 0;
    while (blank < len && (line[blank] == ' ' || line[blank] == '\t'))
        blank++;
    if (blank == len)
        return 1;
    json_error_t jerr;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *code = json_string_value(json_object_get(o, "code"));
    const char *name = json_string_value(json_object_get(o, "name"));
    const char *kind = json_string_value(json_object_get(o, "kind"));
    json_t *parent = json_object_get(o, "parent"), *division = json_object_get(o, "division");
    int rc;
    if (!json_is_object(o) || code == NULL || name == NULL || kind == NULL ||
        (parent != NULL && !json_is_string(parent) && !json_is_null(parent)) ||
        (division != NULL && !json_is_string(division) && !json_is_null(division)))
        rc = sifa_error_set(err, SIFA_EINVALID, "bad_line",
                            "应为 JSON 对象,含文字 code、name、kind(parent、division 可选,须为文字)");
    else if ((rc = sifa_db_savepoint(db, "org_import_line", err)) >= 0) {
        /* sifa_org_create checks division codes after writing: a refused line must leave nothing */
        rc = sifa_org_create(db, code, name, kind, json_string_value(parent), json_string_value(division), actor, err);
        if (rc < 0)
            sifa_db_rollback_to(db, "org_import_line", NULL);
        int released = sifa_db_release(db, "org_import_line", rc < 0 ? NULL : err);
        if (rc >= 0)
            rc = released;
    }
    json_decref(o);
    return rc < 0 ? rc : 0;
}

int sifa_org_update(struct sifa_db *db, const char *code, const char *name, const char *parent,
                    const char *division_code, const char *actor, struct sifa_error *err)
{
    char *old_path = NULL, *old_name = NULL, *kind = NULL;
    int rc = query_text(db, "SELECT path FROM orgs WHERE code = ?", code, &old_path, err);
    if (rc <= 0)
        return rc < 0 ? rc : sifa_error_set(err, SIFA_ENOTFOUND, "org_not_found", "机构 %s 不存在", code);
    char at[32];
    iso_now(at);
    if (division_code != NULL && *division_code) {
        if ((rc = query_text(db, "SELECT kind FROM orgs WHERE code = ?", code, &kind, err)) >= 0)
            rc = check_division_shape(division_code, kind ? kind : "", err);
        free(kind);
        if (rc < 0) {
            free(old_path);
            return rc;
        }
    }
    if (name != NULL) {
        if (*name == '\0' || strlen(name) > 200) {
            free(old_path);
            return sifa_error_set(err, SIFA_EINVALID, "bad_org_name", "机构名称必填,最长 200 字节");
        }
        query_text(db, "SELECT name FROM orgs WHERE code = ?", code, &old_name, NULL);
        const char *p[] = {name, at, code};
        rc = exec_text(db, "UPDATE orgs SET name = ?, updated_at = ? WHERE code = ?", p, 3, err);
        const char *h[] = {code, at, actor, "rename", old_name, name};
        if (rc >= 0)
            rc = exec_text(db, "INSERT INTO org_history (code, at, actor, change, old, new) VALUES (?, ?, ?, ?, ?, ?)",
                           h, 6, err);
        free(old_name);
    }
    char *new_path = NULL;
    if (rc >= 0 && parent != NULL) {
        char *parent_path = NULL;
        if (*parent) {
            rc = query_text(db, "SELECT path FROM orgs WHERE code = ?", parent, &parent_path, err);
            if (rc == 0)
                rc = sifa_error_set(err, SIFA_EINVALID, "org_not_found", "上级机构 %s 不存在", parent);
            else if (rc > 0 && strncmp(parent_path, old_path, strlen(old_path)) == 0)
                rc = sifa_error_set(err, SIFA_EINVALID, "org_cycle", "不能把机构 %s 移到它自己或它的下级之下", code);
        }
        if (rc >= 0) {
            size_t n = (parent_path ? strlen(parent_path) : 1) + strlen(code) + 2;
            new_path = sifa_xmalloc(n);
            snprintf(new_path, n, "%s%s/", parent_path ? parent_path : "/", code);
            /* Every unit of the subtree keeps its place below the moved one. */
            struct sifa_db_stmt *st;
            rc = sifa_db_prepare(db,
                                 "UPDATE orgs SET path = ? || substr(path, ?), updated_at = ? "
                                 "WHERE substr(path, 1, ?) = ?",
                                 &st, err);
            if (rc >= 0) {
                sifa_db_bind_text(st, 1, new_path, -1);
                sifa_db_bind_int64(st, 2, (int64_t)strlen(old_path) + 1);
                sifa_db_bind_text(st, 3, at, -1);
                sifa_db_bind_int64(st, 4, (int64_t)strlen(old_path));
                sifa_db_bind_text(st, 5, old_path, -1);
                rc = sifa_db_step(st, err);
                sifa_db_stmt_done(st);
            }
            const char *p[] = {*parent ? parent : NULL, code};
            if (rc >= 0)
                rc = exec_text(db, "UPDATE orgs SET parent = ? WHERE code = ?", p, 2, err);
            const char *h[] = {code, at, actor, "move", old_path, new_path};
            if (rc >= 0)
                rc = exec_text(db,
                               "INSERT INTO org_history (code, at, actor, change, old, new) VALUES (?, ?, ?, ?, ?, ?)",
                               h, 6, err);
        }
        free(parent_path);
    }
    /* division_code: NULL leaves it, "" clears it. Set after the move so that a unit moved to
     * another division and given that division's code in one request is checked as it ends up. */
    if (rc >= 0 && division_code != NULL) {
        char *old_division = NULL;
        const char *value = *division_code ? division_code : NULL;
        rc = query_text(db, "SELECT division_code FROM orgs WHERE code = ?", code, &old_division, err);
        const char *p[] = {value, at, code};
        if (rc >= 0)
            rc = exec_text(db, "UPDATE orgs SET division_code = ?, updated_at = ? WHERE code = ?", p, 3, err);
        const char *h[] = {code, at, actor, "division", old_division, value};
        if (rc >= 0)
            rc = exec_text(db, "INSERT INTO org_history (code, at, actor, change, old, new) VALUES (?, ?, ?, ?, ?, ?)",
                           h, 6, err);
        if (rc >= 0 && value != NULL)
            rc = check_division_unique(db, code, value, err);
        free(old_division);
    }
    /* A move or a new code can break the chain anywhere in the subtree (a coded village moved
     * under another town, a town given a code its villages do not extend); clearing a code
     * cannot, since the units below still extend the codes above it. */
    if (rc >= 0 && (parent != NULL || (division_code != NULL && *division_code)))
        rc = check_division_subtree(db, new_path ? new_path : old_path, err);
    free(new_path);
    free(old_path);
    return rc < 0 ? rc : 0;
}

static json_t *col(struct sifa_db_stmt *st, int i)
{
    const char *s = sifa_db_column_text(st, i);
    return s ? json_string(s) : json_null();
}

int sifa_org_list(struct sifa_db *db, json_t **ret_list, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db,
                             "SELECT code, name, kind, parent, path, division_code, active FROM orgs ORDER BY path", &st,
                             err);
    if (rc < 0)
        return rc;
    json_t *list = json_array();
    while ((rc = sifa_db_step(st, err)) == SIFA_DB_ROW)
        json_array_append_new(list, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "code", col(st, 0), "name", col(st, 1),
                                              "kind", col(st, 2), "parent", col(st, 3), "path", col(st, 4),
                                              "division_code", col(st, 5), "active",
                                              sifa_db_column_int64(st, 6) != 0));
    sifa_db_stmt_done(st);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *ret_list = list;
    return 0;
}

int sifa_org_history(struct sifa_db *db, const char *code, json_t **ret_list, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "SELECT at, actor, change, old, new FROM org_history WHERE code = ? ORDER BY id", &st,
                             err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, code, -1);
    json_t *list = json_array();
    while ((rc = sifa_db_step(st, err)) == SIFA_DB_ROW)
        json_array_append_new(list, json_pack("{s:o,s:o,s:o,s:o,s:o}", "at", col(st, 0), "actor", col(st, 1), "change",
                                              col(st, 2), "old", col(st, 3), "new", col(st, 4)));
    sifa_db_stmt_done(st);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *ret_list = list;
    return 0;
}

/* ---------- users ---------- */

static int check_org(struct sifa_db *db, const char *org, struct sifa_error *err)
{
    if (org == NULL)
        return 0;
    char *path;
    int rc = query_text(db, "SELECT path FROM orgs WHERE code = ?", org, &path, err);
    free(path);
    if (rc == 0)
        return sifa_error_set_details(err, SIFA_EINVALID, "org_not_found", json_pack("{s:s}", "field", "org"),
                                      "机构 %s 不存在", org);
    return rc < 0 ? rc : 0;
}

int sifa_user_set_roles(struct sifa_db *db, const struct sifa_roles *defs, const char *name,
                        const char *const *roles, size_t nroles, struct sifa_error *err)
{
    for (size_t i = 0; i < nroles; i++)
        if (sifa_roles_find(defs, roles[i]) == NULL)
            return sifa_error_set_details(err, SIFA_EINVALID, "unknown_role", json_pack("{s:s}", "role", roles[i]),
                                          "角色 %s 未定义(见 roles/roles.yaml)", roles[i]);
    if (nroles > SIFA_PRINCIPAL_ROLES_MAX)
        return sifa_error_set(err, SIFA_ELIMIT, "too_many_roles", "一个用户最多 %d 个角色", SIFA_PRINCIPAL_ROLES_MAX);
    const char *p[] = {name, NULL};
    int rc = exec_text(db, "DELETE FROM user_roles WHERE user_name = ?", p, 1, err);
    for (size_t i = 0; rc >= 0 && i < nroles; i++) {
        p[1] = roles[i];
        rc = exec_text(db, "INSERT INTO user_roles (user_name, role) VALUES (?, ?) ON CONFLICT DO NOTHING", p, 2, err);
    }
    return rc < 0 ? rc : 0;
}

int sifa_user_create(struct sifa_db *db, const struct sifa_roles *defs, const char *name, const char *display_name,
                     const char *org, const char *const *roles, size_t nroles, const char *password_hash,
                     bool must_change_password, struct sifa_error *err)
{
    if (!sifa_user_name_valid(name))
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_user_name", json_pack("{s:s}", "field", "name"),
                                      "用户名只能由小写字母、数字、下划线、点和连字符组成,以字母开头,最长 %d 个字符",
                                      SIFA_NAME_MAX);
    if (display_name == NULL || *display_name == '\0' || strlen(display_name) > 120)
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_display_name",
                                      json_pack("{s:s}", "field", "display_name"), "姓名必填,最长 120 字节");
    int rc = check_org(db, org, err);
    if (rc < 0)
        return rc;
    char at[32];
    iso_now(at);
    const char *p[] = {name, display_name, org, password_hash, must_change_password ? "1" : "0", at, at};
    rc = exec_text(db,
                   "INSERT INTO users (name, display_name, org, password_hash, must_change_password, created_at, "
                   "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   p, 7, err);
    if (rc < 0 && err && strcmp(err->code, "db_constraint") == 0)
        return sifa_error_set_details(err, SIFA_ECONFLICT, "user_exists", json_pack("{s:s}", "field", "name"),
                                      "用户 %s 已存在", name);
    if (rc < 0)
        return rc;
    return sifa_user_set_roles(db, defs, name, roles, nroles, err);
}

static int update_user(struct sifa_db *db, const char *sql, const char *const *params, size_t n, const char *name,
                       struct sifa_error *err)
{
    int rc = exec_text(db, sql, params, n, err);
    if (rc == 0)
        return sifa_error_set(err, SIFA_ENOTFOUND, "user_not_found", "用户 %s 不存在", name);
    return rc < 0 ? rc : 0;
}

int sifa_user_set_password(struct sifa_db *db, const char *name, const char *password_hash, bool must_change,
                           struct sifa_error *err)
{
    char at[32];
    iso_now(at);
    const char *p[] = {password_hash, must_change ? "1" : "0", at, name};
    return update_user(db, "UPDATE users SET password_hash = ?, must_change_password = ?, updated_at = ? WHERE name = ?",
                       p, 4, name, err);
}

int sifa_user_set_disabled(struct sifa_db *db, const char *name, bool disabled, struct sifa_error *err)
{
    char at[32];
    iso_now(at);
    const char *p[] = {disabled ? "1" : "0", at, name};
    return update_user(db, "UPDATE users SET disabled = ?, updated_at = ? WHERE name = ?", p, 3, name, err);
}

int sifa_user_set_profile(struct sifa_db *db, const char *name, const char *display_name, const char *org,
                          struct sifa_error *err)
{
    char at[32];
    iso_now(at);
    int rc = check_org(db, org, err);
    if (rc < 0)
        return rc;
    const char *p[] = {display_name, org, at, name};
    return update_user(db,
                       "UPDATE users SET display_name = coalesce(?, display_name), org = coalesce(?, org), "
                       "updated_at = ? WHERE name = ?",
                       p, 4, name, err);
}

int sifa_user_auth_info(struct sifa_db *db, const char *name, char **ret_hash, bool *ret_disabled,
                        bool *ret_must_change, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "SELECT password_hash, disabled, must_change_password FROM users WHERE name = ?", &st,
                             err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, name, -1);
    rc = sifa_db_step(st, err);
    if (rc == SIFA_DB_ROW) {
        const char *h = sifa_db_column_text(st, 0);
        *ret_hash = h ? sifa_xstrdup(h) : NULL;
        *ret_disabled = sifa_db_column_int64(st, 1) != 0;
        *ret_must_change = sifa_db_column_int64(st, 2) != 0;
    }
    sifa_db_stmt_done(st);
    if (rc < 0)
        return rc;
    return rc == SIFA_DB_ROW ? 0 : sifa_error_set(err, SIFA_ENOTFOUND, "user_not_found", "用户不存在");
}

static json_t *user_roles(struct sifa_db *db, const char *name)
{
    json_t *roles = json_array();
    struct sifa_db_stmt *st;
    if (sifa_db_prepare(db, "SELECT role FROM user_roles WHERE user_name = ? ORDER BY role", &st, NULL) < 0)
        return roles;
    sifa_db_bind_text(st, 1, name, -1);
    while (sifa_db_step(st, NULL) == SIFA_DB_ROW)
        json_array_append_new(roles, json_string(sifa_db_column_text(st, 0)));
    sifa_db_stmt_done(st);
    return roles;
}

static const char user_columns[] = "SELECT name, display_name, org, disabled, must_change_password, created_at, "
                                   "password_hash IS NOT NULL FROM users";

int sifa_user_get(struct sifa_db *db, const char *name, json_t **ret_user, struct sifa_error *err)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "%s WHERE name = ?", user_columns);
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, sql, &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, name, -1);
    rc = sifa_db_step(st, err);
    char uname[SIFA_NAME_MAX + 1] = "";
    json_t *u = NULL;
    if (rc == SIFA_DB_ROW) {
        snprintf(uname, sizeof(uname), "%s", sifa_db_column_text(st, 0));
        u = json_pack("{s:o,s:o,s:o,s:b,s:b,s:o,s:b}", "name", col(st, 0), "display_name", col(st, 1), "org",
                      col(st, 2), "disabled", sifa_db_column_int64(st, 3) != 0, "must_change_password",
                      sifa_db_column_int64(st, 4) != 0, "created_at", col(st, 5), "has_password",
                      sifa_db_column_int64(st, 6) != 0);
    }
    sifa_db_stmt_done(st);
    if (rc < 0)
        return rc;
    if (u == NULL)
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "user_not_found", json_pack("{s:s}", "name", name),
                                      "用户 %s 不存在", name);
    json_object_set_new(u, "roles", user_roles(db, uname));
    *ret_user = u;
    return 0;
}

int sifa_user_list(struct sifa_db *db, json_t **ret_list, struct sifa_error *err)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "%s ORDER BY name", user_columns);
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, sql, &st, err);
    if (rc < 0)
        return rc;
    json_t *rows = json_array();
    while ((rc = sifa_db_step(st, err)) == SIFA_DB_ROW)
        json_array_append_new(rows, json_pack("{s:o,s:o,s:o,s:b,s:b,s:o,s:b}", "name", col(st, 0), "display_name",
                                              col(st, 1), "org", col(st, 2), "disabled",
                                              sifa_db_column_int64(st, 3) != 0, "must_change_password",
                                              sifa_db_column_int64(st, 4) != 0, "created_at", col(st, 5),
                                              "has_password", sifa_db_column_int64(st, 6) != 0));
    sifa_db_stmt_done(st);
    if (rc < 0) {
        json_decref(rows);
        return rc;
    }
    size_t i;
    json_t *u;
    json_array_foreach(rows, i, u) json_object_set_new(u, "roles", user_roles(db, json_string_value(json_object_get(u, "name"))));
    *ret_list = rows;
    return 0;
}

/* ---------- principal ---------- */

int sifa_principal_load(struct sifa_db *db, const struct sifa_roles *defs, const char *user,
                        struct sifa_principal *ret, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "SELECT display_name, org, disabled, must_change_password FROM users WHERE name = ?",
                             &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, user, -1);
    rc = sifa_db_step(st, err);
    bool disabled = false;
    if (rc == SIFA_DB_ROW) {
        snprintf(ret->user, sizeof(ret->user), "%s", user);
        snprintf(ret->display_name, sizeof(ret->display_name), "%s", sifa_db_column_text(st, 0));
        const char *org = sifa_db_column_text(st, 1);
        snprintf(ret->org, sizeof(ret->org), "%s", org ? org : "");
        disabled = sifa_db_column_int64(st, 2) != 0;
        ret->must_change_password = sifa_db_column_int64(st, 3) != 0;
    }
    sifa_db_stmt_done(st);
    if (rc < 0)
        return rc;
    if (rc != SIFA_DB_ROW)
        return sifa_error_set(err, SIFA_ENOTFOUND, "user_not_found", "用户不存在");
    if (disabled)
        return sifa_error_set(err, SIFA_EDENIED, "account_disabled", "账号已停用");
    if ((rc = sifa_db_prepare(db, "SELECT role FROM user_roles WHERE user_name = ? ORDER BY role", &st, err)) < 0)
        return rc;
    sifa_db_bind_text(st, 1, user, -1);
    ret->nroles = 0;
    while ((rc = sifa_db_step(st, err)) == SIFA_DB_ROW && ret->nroles < SIFA_PRINCIPAL_ROLES_MAX) {
        const struct sifa_role *r = sifa_roles_find(defs, sifa_db_column_text(st, 0));
        if (r != NULL)
            ret->roles[ret->nroles++] = r;
    }
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}

void sifa_principal_release(struct sifa_principal *p)
{
    if (p == NULL)
        return;
    json_decref(p->token_scopes);
    p->token_scopes = NULL;
}

bool sifa_principal_can(const struct sifa_principal *p, const char *permission)
{
    bool granted = false;
    for (size_t i = 0; i < p->nroles && !granted; i++)
        granted = sifa_role_grants(p->roles[i], permission);
    if (!granted || p->token_scopes == NULL)
        return granted;
    /* A token never has more than its user, and no more than the scopes it was issued with. */
    size_t i;
    json_t *s;
    json_array_foreach(p->token_scopes, i, s) if (json_is_string(s) &&
                                                  sifa_permission_match(json_string_value(s), permission)) return true;
    return false;
}

bool sifa_principal_read_only(const struct sifa_principal *p)
{
    for (size_t i = 0; i < p->nroles; i++)
        if (p->roles[i]->read_only)
            return true;
    return false;
}

/* ---------- sessions ---------- */

int sifa_session_create(struct sifa_db *db, const char *user, const char *address, const char *user_agent, int64_t now,
                        char *ret_token, char *ret_csrf, struct sifa_error *err)
{
    char token[SIFA_TOKEN_TEXT], csrf[SIFA_TOKEN_TEXT], hash[65];
    sifa_token_new(token);
    sifa_token_new(csrf);
    sifa_token_hash(token, hash);
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db,
                             "INSERT INTO sessions (id_hash, user_name, csrf, created_at, last_seen_at, address, "
                             "user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, hash, -1);
    sifa_db_bind_text(st, 2, user, -1);
    sifa_db_bind_text(st, 3, csrf, -1);
    sifa_db_bind_int64(st, 4, now);
    sifa_db_bind_int64(st, 5, now);
    sifa_db_bind_text(st, 6, address ? address : "", -1);
    sifa_db_bind_text(st, 7, user_agent ? user_agent : "", -1);
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    if (rc < 0)
        return rc;
    memcpy(ret_token, token, SIFA_TOKEN_TEXT);
    memcpy(ret_csrf, csrf, SIFA_TOKEN_TEXT);
    return 0;
}

int sifa_session_lookup(struct sifa_db *db, const char *token, int64_t now, const struct sifa_session_limits *limits,
                        struct sifa_principal *ret, struct sifa_error *err)
{
    if (!sifa_token_valid_text(token))
        return sifa_error_set(err, SIFA_EDENIED, "session_expired", "登录已失效,请重新登录");
    char hash[65];
    sifa_token_hash(token, hash);
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db,
                             "SELECT user_name, csrf, created_at, last_seen_at, revoked_at FROM sessions WHERE id_hash = ?",
                             &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, hash, -1);
    rc = sifa_db_step(st, err);
    bool live = false;
    if (rc == SIFA_DB_ROW) {
        int64_t created = sifa_db_column_int64(st, 2), seen = sifa_db_column_int64(st, 3);
        live = sifa_db_column_type(st, 4) == SIFA_DB_NULL && now - seen <= limits->idle_seconds &&
               now - created <= limits->absolute_seconds;
        if (live) {
            snprintf(ret->user, sizeof(ret->user), "%s", sifa_db_column_text(st, 0));
            snprintf(ret->csrf, sizeof(ret->csrf), "%s", sifa_db_column_text(st, 1));
            snprintf(ret->session_hash, sizeof(ret->session_hash), "%s", hash);
            ret->last_seen = seen;
        }
    }
    sifa_db_stmt_done(st);
    if (rc < 0)
        return rc;
    return live ? 0 : sifa_error_set(err, SIFA_EDENIED, "session_expired", "登录已失效,请重新登录");
}

int sifa_session_touch(struct sifa_db *db, const char *session_hash, int64_t now, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_int64(st, 1, now);
    sifa_db_bind_text(st, 2, session_hash, -1);
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}

int sifa_session_revoke(struct sifa_db *db, const char *session_hash_or_prefix, int64_t now, struct sifa_error *err)
{
    size_t n = strlen(session_hash_or_prefix);
    if (n < 16 || n > 64)
        return sifa_error_set(err, SIFA_ENOTFOUND, "session_not_found", "会话不存在");
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db,
                             "UPDATE sessions SET revoked_at = ? WHERE substr(id_hash, 1, ?) = ? AND revoked_at IS NULL",
                             &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_int64(st, 1, now);
    sifa_db_bind_int64(st, 2, (int64_t)n);
    sifa_db_bind_text(st, 3, session_hash_or_prefix, -1);
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    if (rc < 0)
        return rc;
    return sifa_db_changes(db) > 0 ? 0 : sifa_error_set(err, SIFA_ENOTFOUND, "session_not_found", "会话不存在或已结束");
}

int sifa_session_revoke_user(struct sifa_db *db, const char *user, int64_t now, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "UPDATE sessions SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL", &st,
                             err);
    if (rc < 0)
        return rc;
    sifa_db_bind_int64(st, 1, now);
    sifa_db_bind_text(st, 2, user, -1);
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}

int sifa_session_list(struct sifa_db *db, int64_t now, const struct sifa_session_limits *limits, json_t **ret_list,
                      struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db,
                             "SELECT substr(id_hash, 1, 16), user_name, created_at, last_seen_at, address, user_agent "
                             "FROM sessions WHERE revoked_at IS NULL AND last_seen_at >= ? AND created_at >= ? "
                             "ORDER BY last_seen_at DESC",
                             &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_int64(st, 1, now - limits->idle_seconds);
    sifa_db_bind_int64(st, 2, now - limits->absolute_seconds);
    json_t *list = json_array();
    while ((rc = sifa_db_step(st, err)) == SIFA_DB_ROW)
        json_array_append_new(list, json_pack("{s:o,s:o,s:I,s:I,s:o,s:o}", "id", col(st, 0), "user", col(st, 1),
                                              "created_at", (json_int_t)sifa_db_column_int64(st, 2), "last_seen_at",
                                              (json_int_t)sifa_db_column_int64(st, 3), "address", col(st, 4),
                                              "user_agent", col(st, 5)));
    sifa_db_stmt_done(st);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *ret_list = list;
    return 0;
}

/* ---------- API tokens ---------- */

int sifa_api_token_create(struct sifa_db *db, const char *user, const char *name, json_t *scopes, int64_t now,
                          int64_t expires_at, char *ret_token, char ret_id[17], struct sifa_error *err)
{
    char token[SIFA_TOKEN_TEXT], hash[65];
    sifa_token_new(token);
    sifa_token_hash(token, hash);
    char id[17];
    snprintf(id, sizeof(id), "%.16s", hash + 48);
    char *scopes_text = json_dumps(scopes, JSON_COMPACT);
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db,
                             "INSERT INTO api_tokens (id, hash, user_name, name, scopes, created_at, expires_at) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             &st, err);
    if (rc >= 0) {
        sifa_db_bind_text(st, 1, id, -1);
        sifa_db_bind_text(st, 2, hash, -1);
        sifa_db_bind_text(st, 3, user, -1);
        sifa_db_bind_text(st, 4, name, -1);
        sifa_db_bind_text(st, 5, scopes_text ? scopes_text : "[]", -1);
        sifa_db_bind_int64(st, 6, now);
        sifa_db_bind_int64(st, 7, expires_at);
        rc = sifa_db_step(st, err);
        sifa_db_stmt_done(st);
    }
    free(scopes_text);
    if (rc < 0)
        return rc;
    memcpy(ret_token, token, SIFA_TOKEN_TEXT);
    memcpy(ret_id, id, 17);
    return 0;
}

int sifa_api_token_lookup(struct sifa_db *db, const char *token, int64_t now, struct sifa_principal *ret,
                          struct sifa_error *err)
{
    if (!sifa_token_valid_text(token))
        return sifa_error_set(err, SIFA_EDENIED, "token_invalid", "访问令牌无效、已过期或已撤销");
    char hash[65];
    sifa_token_hash(token, hash);
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "SELECT user_name, scopes, expires_at, revoked_at FROM api_tokens WHERE hash = ?", &st,
                             err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, hash, -1);
    rc = sifa_db_step(st, err);
    bool live = false;
    if (rc == SIFA_DB_ROW && sifa_db_column_type(st, 3) == SIFA_DB_NULL && sifa_db_column_int64(st, 2) > now) {
        live = true;
        snprintf(ret->user, sizeof(ret->user), "%s", sifa_db_column_text(st, 0));
        ret->token_scopes = json_loads(sifa_db_column_text(st, 1), 0, NULL);
        if (ret->token_scopes == NULL)
            ret->token_scopes = json_array();
        ret->via_token = true;
    }
    sifa_db_stmt_done(st);
    if (rc < 0)
        return rc;
    return live ? 0 : sifa_error_set(err, SIFA_EDENIED, "token_invalid", "访问令牌无效、已过期或已撤销");
}

int sifa_api_token_revoke_user(struct sifa_db *db, const char *user, int64_t now, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "UPDATE api_tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL",
                             &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_int64(st, 1, now);
    sifa_db_bind_text(st, 2, user, -1);
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}

int sifa_api_token_revoke(struct sifa_db *db, const char *user_or_null, const char *id, int64_t now,
                          struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db,
                             "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL AND "
                             "(? IS NULL OR user_name = ?)",
                             &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_int64(st, 1, now);
    sifa_db_bind_text(st, 2, id, -1);
    if (user_or_null) {
        sifa_db_bind_text(st, 3, user_or_null, -1);
        sifa_db_bind_text(st, 4, user_or_null, -1);
    } else {
        sifa_db_bind_null(st, 3);
        sifa_db_bind_null(st, 4);
    }
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    if (rc < 0)
        return rc;
    return sifa_db_changes(db) > 0 ? 0 : sifa_error_set(err, SIFA_ENOTFOUND, "token_not_found", "令牌不存在或已撤销");
}

int sifa_api_token_list(struct sifa_db *db, const char *user_or_null, json_t **ret_list, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db,
                             "SELECT id, user_name, name, scopes, created_at, expires_at, revoked_at FROM api_tokens "
                             "WHERE (? IS NULL OR user_name = ?) ORDER BY created_at DESC",
                             &st, err);
    if (rc < 0)
        return rc;
    if (user_or_null) {
        sifa_db_bind_text(st, 1, user_or_null, -1);
        sifa_db_bind_text(st, 2, user_or_null, -1);
    } else {
        sifa_db_bind_null(st, 1);
        sifa_db_bind_null(st, 2);
    }
    json_t *list = json_array();
    while ((rc = sifa_db_step(st, err)) == SIFA_DB_ROW) {
        json_t *scopes = json_loads(sifa_db_column_text(st, 3), 0, NULL);
        json_t *t = json_pack("{s:o,s:o,s:o,s:o,s:I,s:I}", "id", col(st, 0), "user", col(st, 1), "name", col(st, 2),
                              "scopes", scopes ? scopes : json_array(), "created_at",
                              (json_int_t)sifa_db_column_int64(st, 4), "expires_at",
                              (json_int_t)sifa_db_column_int64(st, 5));
        json_object_set_new(t, "revoked_at", sifa_db_column_type(st, 6) == SIFA_DB_NULL
                                                 ? json_null()
                                                 : json_integer(sifa_db_column_int64(st, 6)));
        json_array_append_new(list, t);
    }
    sifa_db_stmt_done(st);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *ret_list = list;
    return 0;
}

/* ---------- login throttling ---------- */

int sifa_login_failures(struct sifa_db *db, const char *user, const char *address, int64_t since,
                        int64_t *ret_for_user, int64_t *ret_for_address, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db,
                             "SELECT (SELECT COUNT(*) FROM login_failures WHERE user_name = ? AND at >= ?), "
                             "(SELECT COUNT(*) FROM login_failures WHERE address = ? AND at >= ?)",
                             &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, user, -1);
    sifa_db_bind_int64(st, 2, since);
    sifa_db_bind_text(st, 3, address, -1);
    sifa_db_bind_int64(st, 4, since);
    rc = sifa_db_step(st, err);
    if (rc == SIFA_DB_ROW) {
        *ret_for_user = sifa_db_column_int64(st, 0);
        *ret_for_address = sifa_db_column_int64(st, 1);
    }
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}

int sifa_login_failure_add(struct sifa_db *db, const char *user, const char *address, int64_t now,
                           struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "INSERT INTO login_failures (user_name, address, at) VALUES (?, ?, ?)", &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, user, -1);
    sifa_db_bind_text(st, 2, address, -1);
    sifa_db_bind_int64(st, 3, now);
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}

int sifa_login_failures_clear(struct sifa_db *db, const char *user, struct sifa_error *err)
{
    const char *p[] = {user};
    int rc = exec_text(db, "DELETE FROM login_failures WHERE user_name = ?", p, 1, err);
    return rc < 0 ? rc : 0;
}
