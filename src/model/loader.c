/* loader.c — parses modules/<code>.yaml and modules/codes/<table>.yaml into struct sifa_model.
 * Layer: model. libyaml builds a node tree with positions; this file walks it with limits
 * (file size, nesting depth, a budget of nodes visited so aliases cannot multiply work) and
 * collects every error with file:line:column instead of stopping at the first, so that
 * `sifa modules check` shows a definition's author everything to fix at once.
 * Invariant: a model returned to callers passed every check here; engines may rely on codes
 * being valid SQL names, references resolving, and exactly one initial state per module. */
#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "base/common.h"
#include "model/internal.h"
#include "model/model.h"

#define NODE_BUDGET 200000
#define PATTERN_MAX 512          /* bytes of a field's pattern */
#define PATTERN_COPIES_MAX 10000 /* atoms of a pattern once its repetitions are written out */

/* How many atoms a POSIX extended regular expression becomes when glibc's regcomp writes out its
 * repetitions: E+ as E E*, E{n,m} as m copies of E — nested or stacked ("a+++…", "((a+)+)+…")
 * the copies multiply, and a line of a definition file could make regcomp take gigabytes (found
 * by fuzz_model). Saturates at SIZE_MAX / 2. Bracket expressions and escapes count as one atom;
 * groups left open count as closed at the end (regcomp refuses them, but may expand first). */
static size_t pattern_copies(const char *p)
{
    enum { DEPTH_MAX = 64 };
    size_t sum[DEPTH_MAX + 1] = {0}, last[DEPTH_MAX + 1] = {0};
    const size_t cap = SIZE_MAX / 2;
    int depth = 0;
    for (size_t i = 0; p[i] != '\0'; i++) {
        size_t atom = 0, factor = 1;
        char ch = p[i];
        if (ch == '\\' && p[i + 1] != '\0') {
            i++;
            atom = 1;
        } else if (ch == '[') {
            size_t j = i + 1;
            if (p[j] == '^')
                j++;
            if (p[j] == ']')
                j++;
            while (p[j] != '\0' && p[j] != ']')
                j++;
            i = p[j] == '\0' ? j - 1 : j;
            atom = 1;
        } else if (ch == '(') {
            if (depth == DEPTH_MAX)
                return cap;
            depth++;
            sum[depth] = last[depth] = 0;
            continue;
        } else if (ch == ')' && depth > 0) {
            atom = sum[depth] > 0 ? sum[depth] : 1;
            depth--;
        } else if (ch == '+') {
            factor = 2;
        } else if (ch == '{') {
            size_t n = 0, m = 0, j = i + 1;
            bool comma = false;
            for (; p[j] >= '0' && p[j] <= '9'; j++)
                n = n < 100000 ? n * 10 + (size_t)(p[j] - '0') : n;
            if (p[j] == ',') {
                comma = true;
                for (j++; p[j] >= '0' && p[j] <= '9'; j++)
                    m = m < 100000 ? m * 10 + (size_t)(p[j] - '0') : m;
            }
            if (p[j] != '}') {
                atom = 1; /* not a bound: regcomp decides */
            } else {
                factor = comma && m == 0 ? n + 1 : (m > n ? m : n);
                factor = factor > 0 ? factor : 1;
                i = j;
            }
        } else if (ch == '*' || ch == '?' || ch == '|' || ch == '^' || ch == '$') {
            continue;
        } else {
            atom = 1;
        }
        if (atom > 0) {
            last[depth] = atom;
            sum[depth] = sum[depth] + atom < cap ? sum[depth] + atom : cap;
        } else if (factor > 1) { /* repeats the last atom */
            size_t grown = last[depth] < cap / factor ? last[depth] * factor : cap;
            sum[depth] = sum[depth] - last[depth] + grown < cap ? sum[depth] - last[depth] + grown : cap;
            last[depth] = grown;
        }
    }
    for (; depth > 0; depth--) /* groups left open: regcomp may still write them out first */
        sum[depth - 1] = sum[depth - 1] + sum[depth] < cap ? sum[depth - 1] + sum[depth] : cap;
    return sum[0];
}

static char *dup_scalar(struct sifa_yaml_walk *c, yaml_node_t *n, const char *what, bool required, yaml_node_t *parent)
{
    if (n == NULL) {
        if (required)
            sifa_yaml_error(c, parent, "missing", "缺少 %s", what);
        return NULL;
    }
    const char *s = sifa_yaml_scalar(n);
    if (s == NULL) {
        sifa_yaml_error(c, n, "not_scalar", "%s 必须是一个值,而不是列表或映射", what);
        return NULL;
    }
    return sifa_xstrdup(s);
}

static char *dup_code(struct sifa_yaml_walk *c, yaml_node_t *n, const char *what, bool required, yaml_node_t *parent)
{
    char *s = dup_scalar(c, n, what, required, parent);
    if (s != NULL && !sifa_model_code_valid(s)) {
        sifa_yaml_error(c, n, "bad_code", "%s \"%s\" 只能由小写字母、数字和下划线组成,以字母开头,最长 %d 个字符", what,
                        s, SIFA_MODEL_CODE_MAX);
        free(s);
        return NULL;
    }
    return s;
}

static bool parse_bool(struct sifa_yaml_walk *c, yaml_node_t *n, const char *what, bool dflt)
{
    const char *s = sifa_yaml_scalar(n);
    if (n == NULL)
        return dflt;
    if (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0))
        return true;
    if (s != NULL && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0))
        return false;
    sifa_yaml_error(c, n, "bad_bool", "%s 必须是 true 或 false", what);
    return dflt;
}

static bool parse_int(struct sifa_yaml_walk *c, yaml_node_t *n, const char *what, int64_t *ret)
{
    const char *s = sifa_yaml_scalar(n);
    if (s == NULL) {
        sifa_yaml_error(c, n, "bad_integer", "%s 必须是整数", what);
        return false;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') {
        sifa_yaml_error(c, n, "bad_integer", "%s 必须是整数,而不是 \"%s\"", what, s);
        return false;
    }
    *ret = v;
    return true;
}

/* A sequence's items, or a single scalar treated as a one-item list. */
static size_t seq_items(struct sifa_yaml_walk *c, yaml_node_t *n, yaml_node_t ***ret_items)
{
    *ret_items = NULL;
    if (n == NULL)
        return 0;
    if (n->type == YAML_SCALAR_NODE) {
        *ret_items = sifa_xmalloc(sizeof(yaml_node_t *));
        (*ret_items)[0] = n;
        return 1;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return 0;
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    yaml_node_t **items = sifa_xcalloc(count ? count : 1, sizeof(*items));
    size_t k = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *item = sifa_yaml_node(c, *it);
        if (item != NULL)
            items[k++] = item;
    }
    *ret_items = items;
    return k;
}

bool sifa_model_code_valid(const char *code)
{
    size_t n = strlen(code);
    if (n == 0 || n > SIFA_MODEL_CODE_MAX || code[0] < 'a' || code[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++) {
        char ch = code[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return false;
    }
    return true;
}

static const struct {
    const char *name;
    enum sifa_field_type type;
} field_types[] = {
    {"text", SIFA_FIELD_TEXT},           {"longtext", SIFA_FIELD_LONGTEXT},   {"integer", SIFA_FIELD_INTEGER},
    {"decimal", SIFA_FIELD_DECIMAL},     {"money", SIFA_FIELD_MONEY},         {"date", SIFA_FIELD_DATE},
    {"datetime", SIFA_FIELD_DATETIME},   {"bool", SIFA_FIELD_BOOL},           {"enum", SIFA_FIELD_ENUM},
    {"ref", SIFA_FIELD_REF},             {"org", SIFA_FIELD_ORG},             {"user", SIFA_FIELD_USER},
    {"person", SIFA_FIELD_PERSON},       {"id_number", SIFA_FIELD_ID_NUMBER}, {"uscc", SIFA_FIELD_USCC},
    {"phone", SIFA_FIELD_PHONE},         {"attachment", SIFA_FIELD_ATTACHMENT}, {"group", SIFA_FIELD_GROUP},
};

const char *sifa_field_type_name(enum sifa_field_type type)
{
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(field_types); i++)
        if (field_types[i].type == type)
            return field_types[i].name;
    return "unknown";
}

/* ---------- code tables ---------- */

static void code_table_release(struct sifa_code_table *t)
{
    for (size_t i = 0; i < t->nitems; i++) {
        free(t->items[i].code);
        free(t->items[i].label);
    }
    free(t->items);
    free(t->code);
    free(t->name);
    free(t->standard);
}

static bool item_code_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SIFA_MODEL_CODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return false;
    }
    return true;
}

static void parse_code_table(struct sifa_yaml_walk *c, yaml_node_t *root, struct sifa_model *model)
{
    static const char *const keys[] = {"code", "name", "standard", "items", NULL};
    if (root == NULL || root->type != YAML_MAPPING_NODE) {
        sifa_yaml_error(c, root, "not_mapping", "代码表文件必须是一个映射 (code, name, items)");
        return;
    }
    sifa_yaml_check_keys(c, root, "代码表", keys, NULL, NULL);
    struct sifa_code_table t = {0};
    t.code = dup_code(c, sifa_yaml_map_get(c, root, "code"), "代码表 code", true, root);
    t.name = dup_scalar(c, sifa_yaml_map_get(c, root, "name"), "代码表 name", true, root);
    t.standard = dup_scalar(c, sifa_yaml_map_get(c, root, "standard"), "standard", false, root);
    yaml_node_t **items;
    yaml_node_t *items_node = sifa_yaml_map_get(c, root, "items");
    size_t n = seq_items(c, items_node, &items);
    if (n == 0)
        sifa_yaml_error(c, items_node ? items_node : root, "empty_code_table", "代码表必须至少有一项 (items)");
    t.items = sifa_xcalloc(n ? n : 1, sizeof(*t.items));
    static const char *const item_keys[] = {"code", "label", NULL};
    for (size_t i = 0; i < n; i++) {
        sifa_yaml_check_keys(c, items[i], "代码项", item_keys, NULL, NULL);
        char *code = dup_scalar(c, sifa_yaml_map_get(c, items[i], "code"), "代码项 code", true, items[i]);
        char *label = dup_scalar(c, sifa_yaml_map_get(c, items[i], "label"), "代码项 label", true, items[i]);
        if (code != NULL && !item_code_valid(code)) {
            sifa_yaml_error(c, items[i], "bad_code", "代码项 \"%s\" 只能由字母、数字和下划线组成", code);
            free(code);
            code = NULL;
        }
        for (size_t j = 0; code != NULL && j < t.nitems; j++)
            if (strcmp(t.items[j].code, code) == 0) {
                sifa_yaml_error(c, items[i], "duplicate_code", "代码项 \"%s\" 重复", code);
                free(code);
                code = NULL;
            }
        if (code == NULL || label == NULL) {
            free(code);
            free(label);
            continue;
        }
        t.items[t.nitems].code = code;
        t.items[t.nitems].label = label;
        t.nitems++;
    }
    free(items);
    for (size_t i = 0; t.code != NULL && i < model->ncode_tables; i++)
        if (strcmp(model->code_tables[i].code, t.code) == 0) {
            sifa_yaml_error(c, root, "duplicate_code_table", "代码表 \"%s\" 重复定义", t.code);
            code_table_release(&t);
            return;
        }
    if (t.code == NULL || t.name == NULL) {
        code_table_release(&t);
        return;
    }
    model->code_tables = sifa_xrealloc(model->code_tables, (model->ncode_tables + 1) * sizeof(*model->code_tables));
    model->code_tables[model->ncode_tables++] = t;
}

/* ---------- modules ---------- */

static void field_release(struct sifa_field *f)
{
    for (size_t i = 0; i < f->ntypes; i++)
        free(f->types[i]);
    free(f->types);
    free(f->code);
    free(f->name);
    free(f->pattern);
    free(f->default_value);
    free(f->ref_module);
    for (size_t i = 0; i < f->nsub; i++)
        field_release(&f->sub[i]);
    free(f->sub);
}

static void module_release(struct sifa_module *m)
{
    for (size_t i = 0; i < m->nfields; i++)
        field_release(&m->fields[i]);
    free(m->fields);
    for (size_t i = 0; i < m->nstates; i++) {
        free(m->states[i].code);
        free(m->states[i].name);
    }
    free(m->states);
    for (size_t i = 0; i < m->ntransitions; i++) {
        struct sifa_transition *t = &m->transitions[i];
        free(t->code);
        free(t->name);
        free(t->from);
        free(t->requires);
        free(t->sets);
        free(t->permission);
    }
    free(m->transitions);
    for (size_t i = 0; i < m->ndeadlines; i++) {
        free(m->deadlines[i].code);
        free(m->deadlines[i].name);
        free(m->deadlines[i].stop_states);
    }
    free(m->deadlines);
    if (m->numbering != NULL)
        free(m->numbering->pattern);
    free(m->numbering);
    free(m->code);
    free(m->name);
    free(m->group);
    free(m->file);
}

static const struct sifa_code_table *find_code_table(const struct sifa_model *model, const char *code)
{
    for (size_t i = 0; i < model->ncode_tables; i++)
        if (strcmp(model->code_tables[i].code, code) == 0)
            return &model->code_tables[i];
    return NULL;
}

static bool parse_fields(struct sifa_yaml_walk *c, yaml_node_t *list, const struct sifa_model *model, int depth,
                         struct sifa_field **ret_fields, size_t *ret_n);

static bool parse_field(struct sifa_yaml_walk *c, yaml_node_t *n, const struct sifa_model *model, int depth,
                        struct sifa_field *f)
{
    static const char *const keys[] = {"code", "name", "type", "required", "personal", "searchable", "min", "max",
                                       "max_length", "pattern", "default", "codes", "module", "fields", "max_items",
                                       "allow_legacy_id", "types", NULL};
    memset(f, 0, sizeof(*f));
    if (n->type != YAML_MAPPING_NODE) {
        sifa_yaml_error(c, n, "not_mapping", "字段定义必须是一个映射");
        return false;
    }
    sifa_yaml_check_keys(c, n, "字段定义", keys, NULL, NULL);
    f->line = (int)n->start_mark.line + 1;
    f->column = (int)n->start_mark.column + 1;
    f->code = dup_code(c, sifa_yaml_map_get(c, n, "code"), "字段 code", true, n);
    f->name = dup_scalar(c, sifa_yaml_map_get(c, n, "name"), "字段 name", true, n);
    yaml_node_t *tn = sifa_yaml_map_get(c, n, "type");
    const char *type = sifa_yaml_scalar(tn);
    bool ok = f->code != NULL && f->name != NULL;
    bool type_ok = false;
    for (size_t i = 0; type != NULL && i < SIFA_ARRAY_SIZE(field_types); i++)
        if (strcmp(field_types[i].name, type) == 0) {
            f->type = field_types[i].type;
            type_ok = true;
        }
    if (!type_ok) {
        if (type == NULL)
            sifa_yaml_error(c, tn ? tn : n, "missing", "字段 %s 缺少 type", f->code ? f->code : "?");
        else
            sifa_yaml_error(
                c, tn, "unknown_type",
                "字段 %s 的类型 \"%s\" 未知;可用类型:text, longtext, integer, decimal, money, date, datetime, "
                "bool, enum, ref, org, user, person, id_number, uscc, phone, attachment, group",
                f->code ? f->code : "?", type);
        ok = false;
    }
    f->required = parse_bool(c, sifa_yaml_map_get(c, n, "required"), "required", false);
    f->personal = parse_bool(c, sifa_yaml_map_get(c, n, "personal"), "personal", false);
    f->searchable = parse_bool(c, sifa_yaml_map_get(c, n, "searchable"), "searchable", false);
    f->allow_legacy_id = parse_bool(c, sifa_yaml_map_get(c, n, "allow_legacy_id"), "allow_legacy_id", false);
    yaml_node_t *v;
    if ((v = sifa_yaml_map_get(c, n, "min")) != NULL)
        f->has_min = parse_int(c, v, "min", &f->min);
    if ((v = sifa_yaml_map_get(c, n, "max")) != NULL)
        f->has_max = parse_int(c, v, "max", &f->max);
    if (f->has_min && f->has_max && f->min > f->max)
        sifa_yaml_error(c, n, "bad_range", "字段 %s 的 min 大于 max", f->code ? f->code : "?");
    if ((v = sifa_yaml_map_get(c, n, "max_length")) != NULL && parse_int(c, v, "max_length", &f->max_length) &&
        (f->max_length < 1 || f->max_length > 1000000))
        sifa_yaml_error(c, v, "bad_range", "max_length 必须在 1 到 1000000 之间");
    if ((v = sifa_yaml_map_get(c, n, "max_items")) != NULL && parse_int(c, v, "max_items", &f->max_items) &&
        (f->max_items < 1 || f->max_items > 1000))
        sifa_yaml_error(c, v, "bad_range", "max_items 必须在 1 到 1000 之间");
    f->pattern = dup_scalar(c, sifa_yaml_map_get(c, n, "pattern"), "pattern", false, n);
    if (f->pattern != NULL && (strlen(f->pattern) > PATTERN_MAX || pattern_copies(f->pattern) > PATTERN_COPIES_MAX)) {
        sifa_yaml_error(c, sifa_yaml_map_get(c, n, "pattern"), "bad_pattern",
                        "pattern 过长或重复过多(最长 %d 字节;展开重复后最多 %d 项,如 a+++、((a+)+)+ 或 a{1000}{1000})",
                        PATTERN_MAX, PATTERN_COPIES_MAX);
    } else if (f->pattern != NULL) {
        regex_t re;
        if (regcomp(&re, f->pattern, REG_EXTENDED | REG_NOSUB) != 0)
            sifa_yaml_error(c, sifa_yaml_map_get(c, n, "pattern"), "bad_pattern", "pattern \"%s\" 不是合法的正则表达式",
                            f->pattern);
        else
            regfree(&re);
    }
    f->default_value = dup_scalar(c, sifa_yaml_map_get(c, n, "default"), "default", false, n);
    yaml_node_t *types = sifa_yaml_map_get(c, n, "types");
    if (types != NULL && !(type_ok && f->type == SIFA_FIELD_ATTACHMENT)) {
        sifa_yaml_error(c, types, "not_attachment", "只有 attachment 字段可以有 types");
    } else if (types != NULL) {
        yaml_node_t **items;
        size_t nt = seq_items(c, types, &items);
        f->types = sifa_xcalloc(nt ? nt : 1, sizeof(char *));
        for (size_t i = 0; i < nt; i++) {
            const char *t = sifa_yaml_scalar(items[i]);
            if (t == NULL || strchr(t, '/') == NULL || strlen(t) > 100)
                sifa_yaml_error(c, items[i], "bad_type", "types 中的每一项应为 MIME 类型,如 application/pdf");
            else
                f->types[f->ntypes++] = sifa_xstrdup(t);
        }
        free(items);
    }
    if (type_ok && f->type == SIFA_FIELD_ENUM) {
        yaml_node_t *cn = sifa_yaml_map_get(c, n, "codes");
        const char *codes = sifa_yaml_scalar(cn);
        if (codes == NULL) {
            sifa_yaml_error(c, cn ? cn : n, "missing", "枚举字段 %s 必须用 codes 指定代码表", f->code ? f->code : "?");
            ok = false;
        } else if ((f->codes = find_code_table(model, codes)) == NULL) {
            sifa_yaml_error(c, cn, "unknown_code_table",
                            "枚举字段 %s 引用的代码表 \"%s\" 不存在 (modules/codes/%s.yaml)", f->code ? f->code : "?",
                            codes, codes);
            ok = false;
        } else if (f->default_value != NULL && sifa_code_table_item(f->codes, f->default_value) == NULL) {
            sifa_yaml_error(c, sifa_yaml_map_get(c, n, "default"), "bad_default", "默认值 \"%s\" 不在代码表 %s 中",
                            f->default_value, codes);
        }
    } else if (sifa_yaml_map_get(c, n, "codes") != NULL) {
        sifa_yaml_error(c, sifa_yaml_map_get(c, n, "codes"), "not_enum", "只有 enum 字段可以有 codes");
    }
    if (type_ok && f->type == SIFA_FIELD_REF) {
        f->ref_module = dup_code(c, sifa_yaml_map_get(c, n, "module"), "引用字段的 module", true, n);
        ok = ok && f->ref_module != NULL;
    }
    yaml_node_t *sub = sifa_yaml_map_get(c, n, "fields");
    if (type_ok && f->type == SIFA_FIELD_GROUP) {
        if (depth >= 1) {
            sifa_yaml_error(c, n, "nested_group", "重复组 %s 中不能再嵌套重复组", f->code ? f->code : "?");
            ok = false;
        } else if (sub == NULL) {
            sifa_yaml_error(c, n, "missing", "重复组 %s 必须有 fields", f->code ? f->code : "?");
            ok = false;
        } else if (!parse_fields(c, sub, model, depth + 1, &f->sub, &f->nsub)) {
            ok = false;
        }
        if (f->max_items == 0)
            f->max_items = 100;
    } else if (sub != NULL) {
        sifa_yaml_error(c, sub, "not_group", "只有 group 字段可以有 fields");
    }
    /* An attachment's value is a reference ({"file_id", name, size, type}); sealing it would hide
     * the reference from the check that a file is read only through a record the reader may read
     * (sifa_record_file_cited), and the file's bytes are protected by that scope, not by sealing. */
    if (type_ok && f->personal && f->type == SIFA_FIELD_ATTACHMENT)
        sifa_yaml_error(c, n, "personal_attachment",
                        "附件字段 %s 不能标记为个人信息 (personal):附件按记录的数据范围控制访问",
                        f->code ? f->code : "?");
    if (type_ok && f->personal && f->searchable && f->type != SIFA_FIELD_GROUP)
        sifa_yaml_error(c, n, "personal_searchable",
                        "字段 %s 是个人信息 (personal),不能全文检索 (searchable);个人信息只能精确查找",
                        f->code ? f->code : "?");
    return ok;
}

static bool parse_fields(struct sifa_yaml_walk *c, yaml_node_t *list, const struct sifa_model *model, int depth,
                         struct sifa_field **ret_fields, size_t *ret_n)
{
    if (list == NULL || list->type != YAML_SEQUENCE_NODE) {
        sifa_yaml_error(c, list, "not_sequence", "fields 必须是字段定义的列表");
        *ret_fields = NULL;
        *ret_n = 0;
        return false;
    }
    yaml_node_t **items;
    size_t n = seq_items(c, list, &items);
    if (n > SIFA_MODEL_FIELDS_MAX)
        sifa_yaml_error(c, list, "too_many_fields", "字段不能超过 %d 个", SIFA_MODEL_FIELDS_MAX);
    struct sifa_field *fields = sifa_xcalloc(n ? n : 1, sizeof(*fields));
    size_t k = 0;
    bool ok = n <= SIFA_MODEL_FIELDS_MAX;
    for (size_t i = 0; i < n && i < SIFA_MODEL_FIELDS_MAX; i++) {
        struct sifa_field f;
        bool fok = parse_field(c, items[i], model, depth, &f);
        for (size_t j = 0; f.code != NULL && j < k; j++)
            if (strcmp(fields[j].code, f.code) == 0) {
                sifa_yaml_error(c, items[i], "duplicate_field", "字段 \"%s\" 重复定义(第一次在第 %d 行)", f.code,
                                fields[j].line);
                fok = false;
            }
        if (!fok) {
            field_release(&f);
            ok = false;
            continue;
        }
        fields[k++] = f;
    }
    free(items);
    *ret_fields = fields;
    *ret_n = k;
    return ok;
}

/* Names reserved for the engine's own columns and API members. */
static bool reserved_field(const char *code)
{
    static const char *const reserved[] = {"id", "version", "state", "state_name", "org", "created_at", "updated_at",
                                           "created_by", "updated_by", "deleted_at", "deleted_by", "deadlines", NULL};
    for (size_t i = 0; reserved[i] != NULL; i++)
        if (strcmp(code, reserved[i]) == 0)
            return true;
    return false;
}

static const struct sifa_state *resolve_state(struct sifa_yaml_walk *c, const struct sifa_module *m, yaml_node_t *n,
                                              const char *what)
{
    const char *s = sifa_yaml_scalar(n);
    if (s == NULL) {
        sifa_yaml_error(c, n, "missing", "%s 必须是一个状态代码", what);
        return NULL;
    }
    const struct sifa_state *st = sifa_module_state(m, s);
    if (st == NULL)
        sifa_yaml_error(c, n, "unknown_state", "%s 引用了未定义的状态 \"%s\"", what, s);
    return st;
}

static const struct sifa_field *resolve_field(struct sifa_yaml_walk *c, const struct sifa_module *m, yaml_node_t *n,
                                              const char *what)
{
    const char *s = sifa_yaml_scalar(n);
    if (s == NULL) {
        sifa_yaml_error(c, n, "missing", "%s 必须是一个字段代码", what);
        return NULL;
    }
    const struct sifa_field *f = sifa_module_field(m, s);
    if (f == NULL)
        sifa_yaml_error(c, n, "unknown_field", "%s 引用了未定义的字段 \"%s\"", what, s);
    return f;
}

static void parse_states(struct sifa_yaml_walk *c, yaml_node_t *root, struct sifa_module *m)
{
    static const char *const keys[] = {"code", "name", "initial", "final", NULL};
    yaml_node_t *list = sifa_yaml_map_get(c, root, "states");
    yaml_node_t **items;
    size_t n = seq_items(c, list, &items);
    if (n == 0) {
        sifa_yaml_error(c, list ? list : root, "missing", "模块必须至少定义一个状态 (states)");
        free(items);
        return;
    }
    m->states = sifa_xcalloc(n, sizeof(*m->states));
    for (size_t i = 0; i < n; i++) {
        sifa_yaml_check_keys(c, items[i], "状态定义", keys, NULL, NULL);
        struct sifa_state st = {0};
        st.code = dup_code(c, sifa_yaml_map_get(c, items[i], "code"), "状态 code", true, items[i]);
        st.name = dup_scalar(c, sifa_yaml_map_get(c, items[i], "name"), "状态 name", true, items[i]);
        st.initial = parse_bool(c, sifa_yaml_map_get(c, items[i], "initial"), "initial", false);
        st.final = parse_bool(c, sifa_yaml_map_get(c, items[i], "final"), "final", false);
        if (st.code != NULL && sifa_module_state(m, st.code) != NULL) {
            sifa_yaml_error(c, items[i], "duplicate_state", "状态 \"%s\" 重复定义", st.code);
            free(st.code);
            st.code = NULL;
        }
        if (st.code == NULL || st.name == NULL) {
            free(st.code);
            free(st.name);
            continue;
        }
        m->states[m->nstates++] = st;
    }
    free(items);
    size_t initials = 0;
    for (size_t i = 0; i < m->nstates; i++)
        if (m->states[i].initial) {
            initials++;
            m->initial = &m->states[i];
        }
    if (initials != 1)
        sifa_yaml_error(c, list, "initial_state", "必须恰好有一个初始状态 (initial: true),现在有 %zu 个", initials);
}

static void parse_transitions(struct sifa_yaml_walk *c, yaml_node_t *root, struct sifa_module *m)
{
    static const char *const keys[] = {"code", "name", "from", "to", "requires", "sets", "permission", NULL};
    yaml_node_t *list = sifa_yaml_map_get(c, root, "transitions");
    yaml_node_t **items;
    size_t n = seq_items(c, list, &items);
    m->transitions = sifa_xcalloc(n ? n : 1, sizeof(*m->transitions));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *tn = items[i];
        sifa_yaml_check_keys(c, tn, "流转定义", keys, NULL, NULL);
        struct sifa_transition t = {0};
        t.code = dup_code(c, sifa_yaml_map_get(c, tn, "code"), "流转 code", true, tn);
        t.name = dup_scalar(c, sifa_yaml_map_get(c, tn, "name"), "流转 name", true, tn);
        t.permission = dup_scalar(c, sifa_yaml_map_get(c, tn, "permission"), "permission", false, tn);
        yaml_node_t **sub;
        size_t ns = seq_items(c, sifa_yaml_map_get(c, tn, "from"), &sub);
        if (ns == 0)
            sifa_yaml_error(c, tn, "missing", "流转 %s 缺少 from(起始状态)", t.code ? t.code : "?");
        t.from = sifa_xcalloc(ns ? ns : 1, sizeof(*t.from));
        for (size_t k = 0; k < ns; k++) {
            const struct sifa_state *st = resolve_state(c, m, sub[k], "流转的 from");
            if (st != NULL)
                t.from[t.nfrom++] = st;
        }
        free(sub);
        yaml_node_t *to = sifa_yaml_map_get(c, tn, "to");
        if (to == NULL)
            sifa_yaml_error(c, tn, "missing", "流转 %s 缺少 to(目标状态)", t.code ? t.code : "?");
        else
            t.to = resolve_state(c, m, to, "流转的 to");
        ns = seq_items(c, sifa_yaml_map_get(c, tn, "requires"), &sub);
        t.requires = sifa_xcalloc(ns ? ns : 1, sizeof(*t.requires));
        for (size_t k = 0; k < ns; k++) {
            const struct sifa_field *f = resolve_field(c, m, sub[k], "流转的 requires");
            if (f != NULL)
                t.requires[t.nrequires++] = f;
        }
        free(sub);
        ns = seq_items(c, sifa_yaml_map_get(c, tn, "sets"), &sub);
        t.sets = sifa_xcalloc(ns ? ns : 1, sizeof(*t.sets));
        for (size_t k = 0; k < ns; k++) {
            const struct sifa_field *f = resolve_field(c, m, sub[k], "流转的 sets");
            if (f != NULL && f->type != SIFA_FIELD_DATE && f->type != SIFA_FIELD_DATETIME)
                sifa_yaml_error(c, sub[k], "bad_sets", "sets 只能设置 date 或 datetime 字段,%s 是 %s", f->code,
                                sifa_field_type_name(f->type));
            else if (f != NULL)
                t.sets[t.nsets++] = f;
        }
        free(sub);
        if (t.code != NULL && sifa_module_transition(m, t.code) != NULL) {
            sifa_yaml_error(c, tn, "duplicate_transition", "流转 \"%s\" 重复定义", t.code);
            free(t.code);
            t.code = NULL;
        }
        if (t.code == NULL || t.name == NULL || t.to == NULL || t.nfrom == 0) {
            free(t.code);
            free(t.name);
            free(t.from);
            free(t.requires);
            free(t.sets);
            free(t.permission);
            continue;
        }
        m->transitions[m->ntransitions++] = t;
    }
    free(items);
}

static void parse_deadlines(struct sifa_yaml_walk *c, yaml_node_t *root, struct sifa_module *m)
{
    static const char *const keys[] = {"code", "name", "from", "unit", "amount", "extension", "max_extension",
                                       "suspended", "until", "met", NULL};
    yaml_node_t *list = sifa_yaml_map_get(c, root, "deadlines");
    yaml_node_t **items;
    size_t n = seq_items(c, list, &items);
    m->deadlines = sifa_xcalloc(n ? n : 1, sizeof(*m->deadlines));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *dn = items[i];
        sifa_yaml_check_keys(c, dn, "期限定义", keys, NULL, NULL);
        struct sifa_deadline d = {0};
        bool ok = true;
        d.code = dup_code(c, sifa_yaml_map_get(c, dn, "code"), "期限 code", true, dn);
        d.name = dup_scalar(c, sifa_yaml_map_get(c, dn, "name"), "期限 name", true, dn);
        yaml_node_t *from = sifa_yaml_map_get(c, dn, "from");
        if (from == NULL) {
            sifa_yaml_error(c, dn, "missing", "期限 %s 缺少 from(起算的日期字段)", d.code ? d.code : "?");
            ok = false;
        } else if ((d.start_field = resolve_field(c, m, from, "期限的 from")) != NULL &&
                   d.start_field->type != SIFA_FIELD_DATE && d.start_field->type != SIFA_FIELD_DATETIME) {
            sifa_yaml_error(c, from, "bad_event", "期限的 from 必须是 date 或 datetime 字段");
            ok = false;
        }
        ok = ok && d.start_field != NULL;
        const char *unit = sifa_yaml_scalar(sifa_yaml_map_get(c, dn, "unit"));
        if (unit != NULL && strcmp(unit, "natural_days") == 0)
            d.unit = SIFA_DEADLINE_NATURAL_DAYS;
        else if (unit != NULL && strcmp(unit, "working_days") == 0)
            d.unit = SIFA_DEADLINE_WORKING_DAYS;
        else if (unit != NULL && strcmp(unit, "hours") == 0)
            d.unit = SIFA_DEADLINE_HOURS;
        else {
            sifa_yaml_error(c, sifa_yaml_map_get(c, dn, "unit") ? sifa_yaml_map_get(c, dn, "unit") : dn, "bad_unit",
                            "期限的 unit 必须是 natural_days、working_days 或 hours");
            ok = false;
        }
        yaml_node_t *amount = sifa_yaml_map_get(c, dn, "amount");
        if (amount == NULL) {
            sifa_yaml_error(c, dn, "missing", "期限缺少 amount");
            ok = false;
        } else if (!parse_int(c, amount, "amount", &d.amount)) {
            ok = false;
        } else if (d.amount < 1 || d.amount > 3650) {
            sifa_yaml_error(c, amount, "bad_range", "期限的 amount 必须在 1 到 3650 之间");
            ok = false;
        }
        yaml_node_t *v;
        if ((v = sifa_yaml_map_get(c, dn, "extension")) != NULL &&
            (d.extension_field = resolve_field(c, m, v, "extension")) && d.extension_field->type != SIFA_FIELD_INTEGER)
            sifa_yaml_error(c, v, "bad_field_type", "extension 必须是 integer 字段");
        if ((v = sifa_yaml_map_get(c, dn, "max_extension")) != NULL)
            parse_int(c, v, "max_extension", &d.max_extension);
        if ((v = sifa_yaml_map_get(c, dn, "suspended")) != NULL &&
            (d.suspended_field = resolve_field(c, m, v, "suspended")) && d.suspended_field->type != SIFA_FIELD_INTEGER)
            sifa_yaml_error(c, v, "bad_field_type", "suspended 必须是 integer 字段");
        if ((v = sifa_yaml_map_get(c, dn, "met")) != NULL && (d.met_field = resolve_field(c, m, v, "met")) &&
            d.met_field->type != SIFA_FIELD_DATE && d.met_field->type != SIFA_FIELD_DATETIME)
            sifa_yaml_error(c, v, "bad_field_type", "met 必须是 date 或 datetime 字段");
        yaml_node_t **sub;
        size_t ns = seq_items(c, sifa_yaml_map_get(c, dn, "until"), &sub);
        d.stop_states = sifa_xcalloc(ns ? ns : 1, sizeof(*d.stop_states));
        for (size_t k = 0; k < ns; k++) {
            const struct sifa_state *st = resolve_state(c, m, sub[k], "期限的 until");
            if (st != NULL)
                d.stop_states[d.nstop_states++] = st;
        }
        free(sub);
        if (ns == 0) {
            sifa_yaml_error(c, dn, "missing", "期限 %s 缺少 until(到达哪些状态即视为按期完成)", d.code ? d.code : "?");
            ok = false;
        }
        for (size_t k = 0; d.code != NULL && k < m->ndeadlines; k++)
            if (strcmp(m->deadlines[k].code, d.code) == 0) {
                sifa_yaml_error(c, dn, "duplicate_deadline", "期限 \"%s\" 重复定义", d.code);
                ok = false;
            }
        if (!ok || d.code == NULL || d.name == NULL) {
            free(d.code);
            free(d.name);
            free(d.stop_states);
            continue;
        }
        m->deadlines[m->ndeadlines++] = d;
    }
    free(items);
}

static void parse_numbering(struct sifa_yaml_walk *c, yaml_node_t *root, struct sifa_module *m)
{
    static const char *const keys[] = {"field", "pattern", "year_from", "per_org", NULL};
    yaml_node_t *nn = sifa_yaml_map_get(c, root, "numbering");
    if (nn == NULL)
        return;
    sifa_yaml_check_keys(c, nn, "编号定义", keys, NULL, NULL);
    struct sifa_numbering num = {0};
    yaml_node_t *v = sifa_yaml_map_get(c, nn, "field");
    num.field = v ? resolve_field(c, m, v, "numbering.field") : NULL;
    if (v == NULL)
        sifa_yaml_error(c, nn, "missing", "numbering 缺少 field");
    if (num.field != NULL && num.field->type != SIFA_FIELD_TEXT) {
        sifa_yaml_error(c, v, "bad_field_type", "编号字段 %s 必须是 text 字段", num.field->code);
        num.field = NULL;
    }
    num.pattern = dup_scalar(c, sifa_yaml_map_get(c, nn, "pattern"), "numbering.pattern", true, nn);
    if (num.pattern != NULL) {
        const char *p = strstr(num.pattern, "{seq");
        const char *end = p ? strchr(p, '}') : NULL;
        bool ok = p != NULL && end != NULL;
        if (ok && end != p + 4) { /* {seq:05} */
            ok = p[4] == ':' && end - (p + 5) >= 1 && end - (p + 5) <= 2;
            for (const char *q = p + 5; ok && q < end; q++)
                ok = *q >= '0' && *q <= '9';
        }
        if (!ok)
            sifa_yaml_error(c, sifa_yaml_map_get(c, nn, "pattern"), "bad_pattern",
                            "编号模式必须包含 {seq} 或 {seq:05} 形式的序号占位符,可选 {year} 和 {org_name}");
    }
    if ((v = sifa_yaml_map_get(c, nn, "year_from")) != NULL && (num.year_field = resolve_field(c, m, v, "year_from")) &&
        num.year_field->type != SIFA_FIELD_DATE && num.year_field->type != SIFA_FIELD_DATETIME) {
        sifa_yaml_error(c, v, "bad_field_type", "year_from 必须是 date 或 datetime 字段");
        num.year_field = NULL;
    }
    num.per_org = parse_bool(c, sifa_yaml_map_get(c, nn, "per_org"), "per_org", false);
    /* A sequence per unit restarts at 1 in every unit: without the unit in the number, two units'
     * first numbers would be the same text. */
    if (num.per_org && m->org_field == NULL)
        sifa_yaml_error(c, sifa_yaml_map_get(c, nn, "per_org"), "numbering_org_missing",
                        "per_org: true 需要模块定义 org_field");
    else if (num.per_org && num.pattern != NULL && strstr(num.pattern, "{org_name}") == NULL)
        sifa_yaml_error(c, sifa_yaml_map_get(c, nn, "pattern"), "numbering_org_missing",
                        "per_org: true 时编号模式必须包含 {org_name},否则不同单位的编号会重复");
    if (num.field == NULL || num.pattern == NULL) {
        free(num.pattern);
        return;
    }
    m->numbering = sifa_xmalloc(sizeof(num));
    *m->numbering = num;
}

static void parse_module(struct sifa_yaml_walk *c, yaml_node_t *root, struct sifa_model *model,
                         const unsigned char *text, size_t len)
{
    static const char *const keys[] = {"code", "name", "group", "org_field", "fields", "states", "transitions",
                                       "deadlines", "numbering", NULL};
    if (root == NULL || root->type != YAML_MAPPING_NODE) {
        sifa_yaml_error(c, root, "not_mapping", "模块定义文件必须是一个映射 (code, name, fields, states…)");
        return;
    }
    sifa_yaml_check_keys(c, root, "模块定义", keys, NULL, NULL);
    struct sifa_module m = {0};
    m.file = sifa_xstrdup(c->file);
    m.code = dup_code(c, sifa_yaml_map_get(c, root, "code"), "模块 code", true, root);
    m.name = dup_scalar(c, sifa_yaml_map_get(c, root, "name"), "模块 name", true, root);
    m.group = dup_scalar(c, sifa_yaml_map_get(c, root, "group"), "模块 group", false, root);
    if (m.group != NULL && (strlen(m.group) == 0 || strlen(m.group) > 64))
        sifa_yaml_error(c, sifa_yaml_map_get(c, root, "group"), "bad_group",
                        "模块 group(菜单分组)不能为空,最长 64 字节");
    parse_fields(c, sifa_yaml_map_get(c, root, "fields"), model, 0, &m.fields, &m.nfields);
    for (size_t i = 0; i < m.nfields; i++)
        if (reserved_field(m.fields[i].code))
            sifa_yaml_error_at(c->errors, c->file, m.fields[i].line, m.fields[i].column, "reserved_field",
                               "字段名 \"%s\" 是系统保留字段", m.fields[i].code);
    yaml_node_t *of = sifa_yaml_map_get(c, root, "org_field");
    if (of != NULL) {
        m.org_field = resolve_field(c, &m, of, "org_field");
        if (m.org_field != NULL && m.org_field->type != SIFA_FIELD_ORG) {
            sifa_yaml_error(c, of, "bad_field_type", "org_field 必须指向 org 类型的字段,%s 是 %s", m.org_field->code,
                            sifa_field_type_name(m.org_field->type));
            m.org_field = NULL;
        }
    }
    parse_states(c, root, &m);
    parse_transitions(c, root, &m);
    parse_deadlines(c, root, &m);
    parse_numbering(c, root, &m);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, text, len);
    sodium_bin2hex(m.hash, sizeof(m.hash), digest, sizeof(digest));
    for (size_t i = 0; m.code != NULL && i < model->nmodules; i++)
        if (strcmp(model->modules[i].code, m.code) == 0) {
            sifa_yaml_error(c, root, "duplicate_module", "模块 \"%s\" 在 %s 中已定义", m.code, model->modules[i].file);
            free(m.code);
            m.code = NULL;
        }
    if (m.code == NULL || m.name == NULL) {
        module_release(&m);
        return;
    }
    model->modules = sifa_xrealloc(model->modules, (model->nmodules + 1) * sizeof(*model->modules));
    model->modules[model->nmodules++] = m;
}

enum doc_kind { DOC_MODULE, DOC_CODES };

static void load_doc(struct sifa_model *model, const char *file, const char *text, size_t len, enum doc_kind kind,
                     json_t *errors)
{
    struct sifa_yaml_walk c = {.file = file, .errors = errors, .budget = NODE_BUDGET};
    if (len > SIFA_MODEL_FILE_MAX) {
        sifa_yaml_error(&c, NULL, "file_too_large", "定义文件超过 %d 字节", SIFA_MODEL_FILE_MAX);
        return;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        json_array_append_new(errors, json_pack("{s:s,s:i,s:i,s:s,s:s+}", "file", file, "line",
                                                (int)parser.problem_mark.line + 1, "column",
                                                (int)parser.problem_mark.column + 1, "code", "yaml_syntax", "message",
                                                "YAML 语法错误:", parser.problem ? parser.problem : "未知"));
        yaml_parser_delete(&parser);
        return;
    }
    c.doc = &doc;
    /* Depth needs no check of its own: the walk below visits only the keys a definition has, at
     * most two levels of fields deep, and the node budget bounds the work aliases could add. */
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL)
        sifa_yaml_error(&c, NULL, "empty", "定义文件为空");
    else if (kind == DOC_MODULE)
        parse_module(&c, root, model, (const unsigned char *)text, len);
    else
        parse_code_table(&c, root, model);
    if (c.budget == 0)
        sifa_yaml_error(&c, root, "too_complex", "定义过于复杂(节点或别名过多)");
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
}

/* Cross-module checks once every module is known: references to other modules resolve. */
static void check_references(struct sifa_model *model, json_t *errors)
{
    for (size_t i = 0; i < model->nmodules; i++) {
        struct sifa_module *m = &model->modules[i];
        for (size_t k = 0; k < m->nfields; k++) {
            struct sifa_field *f = &m->fields[k];
            if (f->type == SIFA_FIELD_REF && f->ref_module != NULL && sifa_model_module(model, f->ref_module) == NULL)
                json_array_append_new(errors, json_pack("{s:s,s:i,s:i,s:s,s:s+}", "file", m->file, "line", f->line,
                                                        "column", f->column, "code", "unknown_module", "message",
                                                        "引用字段指向不存在的模块 ", f->ref_module));
        }
    }
}

uint64_t sifa_model_new_id(void)
{
    static _Atomic uint64_t last;
    return atomic_fetch_add(&last, 1) + 1;
}

void sifa_model_free(struct sifa_model *model)
{
    if (model == NULL)
        return;
    sifa_model_indicators_free(model); /* they point into the modules: released first */
    for (size_t i = 0; i < model->nmodules; i++)
        module_release(&model->modules[i]);
    free(model->modules);
    for (size_t i = 0; i < model->ncode_tables; i++)
        code_table_release(&model->code_tables[i]);
    free(model->code_tables);
    free(model);
}

static int finish(struct sifa_model *model, json_t *errors, struct sifa_model **ret_model, json_t **ret_errors,
                  struct sifa_error *err)
{
    check_references(model, errors);
    if (json_array_size(errors) > 0) {
        size_t n = json_array_size(errors);
        json_t *first = json_array_get(errors, 0);
        sifa_error_set_details(err, SIFA_EINVALID, "bad_definition", json_incref(errors),
                               "业务定义有 %zu 处错误,第一处:%s:%d:%d:%s", n,
                               json_string_value(json_object_get(first, "file")),
                               (int)json_integer_value(json_object_get(first, "line")),
                               (int)json_integer_value(json_object_get(first, "column")),
                               json_string_value(json_object_get(first, "message")));
        sifa_model_free(model);
        *ret_errors = errors;
        return SIFA_EINVALID;
    }
    json_decref(errors);
    *ret_errors = NULL;
    *ret_model = model;
    return 0;
}

int sifa_model_load_text(const char *file, const char *text, size_t len, const char *codes_text, size_t codes_len,
                         struct sifa_model **ret_model, json_t **ret_errors, struct sifa_error *err)
{
    struct sifa_model *model = sifa_xcalloc(1, sizeof(*model));
    model->id = sifa_model_new_id();
    json_t *errors = json_array();
    if (codes_text != NULL)
        load_doc(model, "codes.yaml", codes_text, codes_len, DOC_CODES, errors);
    load_doc(model, file, text, len, DOC_MODULE, errors);
    return finish(model, errors, ret_model, ret_errors, err);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists *.yaml in dir, sorted, as new strings. */
static size_t list_yaml(const char *dir, char ***ret_names)
{
    *ret_names = NULL;
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    size_t n = 0, cap = 0;
    char **names = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 4096) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0 || e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = sifa_xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = sifa_xstrdup(e->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), compare_names);
    *ret_names = names;
    return n;
}

static int read_file(const char *path, char **ret_text, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -errno;
    char *buf = sifa_xmalloc(SIFA_MODEL_FILE_MAX + 2);
    size_t n = fread(buf, 1, SIFA_MODEL_FILE_MAX + 1, f);
    fclose(f);
    buf[n] = '\0';
    *ret_text = buf;
    *ret_len = n;
    return 0;
}

int sifa_model_load_dir(const char *dir, struct sifa_model **ret_model, json_t **ret_errors, struct sifa_error *err)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        *ret_errors = NULL;
        return sifa_error_set(err, SIFA_ENOTFOUND, "modules_missing", "业务定义目录 %s 不存在", dir);
    }
    struct sifa_model *model = sifa_xcalloc(1, sizeof(*model));
    model->id = sifa_model_new_id();
    json_t *errors = json_array();
    char path[4096];
    char **names;
    snprintf(path, sizeof(path), "%s/codes", dir);
    size_t n = list_yaml(path, &names);
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            char file[4096];
            snprintf(file, sizeof(file), pass == 0 ? "%s/codes/%s" : "%s/%s", dir, names[i]);
            char *text = NULL;
            size_t len = 0;
            if (read_file(file, &text, &len) == 0) {
                load_doc(model, file, text, len, pass == 0 ? DOC_CODES : DOC_MODULE, errors);
                free(text);
            } else {
                json_array_append_new(errors, json_pack("{s:s,s:i,s:i,s:s,s:s}", "file", file, "line", 1, "column", 1,
                                                        "code", "unreadable", "message", "无法读取文件"));
            }
            free(names[i]);
        }
        free(names);
        if (pass == 0)
            n = list_yaml(dir, &names);
    }
    return finish(model, errors, ret_model, ret_errors, err);
}

/* ---------- lookups ---------- */

const struct sifa_module *sifa_model_module(const struct sifa_model *model, const char *code)
{
    for (size_t i = 0; i < model->nmodules; i++)
        if (strcmp(model->modules[i].code, code) == 0)
            return &model->modules[i];
    return NULL;
}

bool sifa_field_has_personal(const struct sifa_field *field)
{
    if (field->personal)
        return true;
    for (size_t k = 0; k < field->nsub; k++)
        if (field->sub[k].personal)
            return true;
    return false;
}

bool sifa_module_has_personal(const struct sifa_module *module)
{
    for (size_t i = 0; i < module->nfields; i++)
        if (sifa_field_has_personal(&module->fields[i]))
            return true;
    return false;
}

const struct sifa_field *sifa_module_field(const struct sifa_module *module, const char *code)
{
    for (size_t i = 0; i < module->nfields; i++)
        if (strcmp(module->fields[i].code, code) == 0)
            return &module->fields[i];
    return NULL;
}

const struct sifa_state *sifa_module_state(const struct sifa_module *module, const char *code)
{
    for (size_t i = 0; i < module->nstates; i++)
        if (strcmp(module->states[i].code, code) == 0)
            return &module->states[i];
    return NULL;
}

const struct sifa_transition *sifa_module_transition(const struct sifa_module *module, const char *code)
{
    for (size_t i = 0; i < module->ntransitions; i++)
        if (strcmp(module->transitions[i].code, code) == 0)
            return &module->transitions[i];
    return NULL;
}

const struct sifa_code_item *sifa_code_table_item(const struct sifa_code_table *table, const char *code)
{
    for (size_t i = 0; i < table->nitems; i++)
        if (strcmp(table->items[i].code, code) == 0)
            return &table->items[i];
    return NULL;
}
