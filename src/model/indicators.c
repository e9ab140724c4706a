/* indicators.c — parses indicators/<name>.yaml (each a list under `indicators:`) into
 * model->indicators, the figures of the bureau's statistics, and serialises one as JSON.
 * Layer: model. Walks libyaml's node tree as loader.c does: a size limit per file, a budget of
 * nodes visited (so aliases cannot multiply work), fixed limits on every list, and every error
 * collected with file:line:column, a stable code and a Chinese message rather than the first.
 * Derived kinds name other indicators by code, in any file and any order: they are resolved once
 * every file is read, and cycles are refused.
 * Invariants of a model's indicators after a successful load: codes are valid SQL names and
 * unique; every indicator comes after the indicators it refers to (base kinds first, then derived
 * kinds in dependency order) and a/b point into the same array; base kinds have a module, a date
 * field and an org field; condition values are in the stored text form of their field; on any
 * error the model has no indicators at all. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
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
#define INDICATORS_MAX 4096 /* in one model, over all files */
#define FILES_MAX 4096
#define WHERE_MAX 32        /* conditions of one indicator */
#define VALUES_MAX 256      /* values of one in / not_in */
#define BY_MAX 8            /* breakdown fields of one indicator */
#define TEXT_MAX 1000       /* bytes of a name, unit, description or condition value */
#define SCALE_MAX 1000000
#define DIGITS_MAX 6
#define NONE ((size_t)-1)

/* ---------- node access (the walk itself: yamlwalk.c) ---------- */

/* A copy of a scalar of at most TEXT_MAX bytes, or NULL after reporting why. */
static char *dup_text(struct sifa_yaml_walk *c, yaml_node_t *n, const char *what, bool required, yaml_node_t *parent)
{
    if (n == NULL) {
        if (required)
            sifa_yaml_error(c, parent, "missing_key", "缺少 %s", what);
        return NULL;
    }
    const char *s = sifa_yaml_scalar(n);
    if (s == NULL) {
        sifa_yaml_error(c, n, "not_scalar", "%s 必须是一个值,而不是列表或映射", what);
        return NULL;
    }
    if (strlen(s) > TEXT_MAX) {
        sifa_yaml_error(c, n, "bad_value", "%s 不能超过 %d 字节", what, TEXT_MAX);
        return NULL;
    }
    return sifa_xstrdup(s);
}

/* A strict decimal integer: optional '-', digits, nothing else. */
static bool int_text(const char *s, int64_t *ret)
{
    const char *p = s[0] == '-' ? s + 1 : s;
    if (*p < '0' || *p > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *ret = v;
    return true;
}

static bool parse_number(struct sifa_yaml_walk *c, yaml_node_t *n, const char *what, int64_t lo, int64_t hi,
                         int64_t *ret)
{
    const char *s = sifa_yaml_scalar(n);
    int64_t v;
    if (s == NULL || !int_text(s, &v) || v < lo || v > hi) {
        sifa_yaml_error(c, n, "bad_number", "%s 必须是 %lld 到 %lld 之间的整数", what, (long long)lo, (long long)hi);
        return false;
    }
    *ret = v;
    return true;
}

/* ---------- kinds, keys and operators ---------- */

static const char *const all_keys[] = {"code", "name", "unit", "description", "kind", "module", "date", "end",
                                       "org", "field", "where", "by", "of", "scale", "digits", "rounding", "days",
                                       "compare", NULL};
static const char *const count_keys[] = {"code", "name", "unit", "description", "kind", "module", "date", "org",
                                         "where", "by", NULL};
static const char *const field_keys[] = {"code", "name", "unit", "description", "kind", "module", "date", "org",
                                         "where", "by", "field", NULL};
static const char *const stock_keys[] = {"code", "name", "unit", "description", "kind", "module", "date", "end",
                                         "org", "where", "by", NULL};
static const char *const ratio_keys[] = {"code", "name", "unit", "description", "kind", "of", "scale", "digits",
                                         "rounding", NULL};
static const char *const share_keys[] = {"code", "name", "unit", "description", "kind", "of", "digits", "rounding",
                                         NULL};
static const char *const difference_keys[] = {"code", "name", "unit", "description", "kind", "of", NULL};
static const char *const per_day_keys[] = {"code", "name", "unit", "description", "kind", "of", "days", "digits",
                                           "rounding", NULL};
static const char *const change_keys[] = {"code", "name", "unit", "description", "kind", "of", "compare", "digits",
                                          "rounding", NULL};

static const struct kind_def {
    const char *name;
    enum sifa_indicator_kind kind;
    const char *const *keys; /* the keys an indicator of this kind may have */
} kinds[] = {
    {"count", SIFA_IND_COUNT, count_keys},          {"sum", SIFA_IND_SUM, field_keys},
    {"distinct", SIFA_IND_DISTINCT, field_keys},    {"stock", SIFA_IND_STOCK, stock_keys},
    {"ratio", SIFA_IND_RATIO, ratio_keys},          {"share", SIFA_IND_RATIO, share_keys},
    {"difference", SIFA_IND_DIFFERENCE, difference_keys}, {"per_day", SIFA_IND_PER_DAY, per_day_keys},
    {"change", SIFA_IND_CHANGE, change_keys},       {"total", SIFA_IND_TOTAL, difference_keys},
};

const char *sifa_indicator_kind_name(enum sifa_indicator_kind kind)
{
    switch (kind) {
    case SIFA_IND_COUNT:
        return "count";
    case SIFA_IND_SUM:
        return "sum";
    case SIFA_IND_DISTINCT:
        return "distinct";
    case SIFA_IND_STOCK:
        return "stock";
    case SIFA_IND_RATIO:
        return "ratio";
    case SIFA_IND_DIFFERENCE:
        return "difference";
    case SIFA_IND_PER_DAY:
        return "per_day";
    case SIFA_IND_CHANGE:
        return "change";
    case SIFA_IND_TOTAL:
        return "total";
    }
    return "unknown";
}

static bool kind_derived(enum sifa_indicator_kind kind)
{
    return kind >= SIFA_IND_RATIO;
}

static const struct {
    const char *name;
    enum sifa_cond_op op;
} ops[] = {
    {"eq", SIFA_COND_EQ},       {"ne", SIFA_COND_NE},   {"in", SIFA_COND_IN},   {"not_in", SIFA_COND_NOT_IN},
    {"empty", SIFA_COND_EMPTY}, {"not_empty", SIFA_COND_NOT_EMPTY},               {"gte", SIFA_COND_GTE},
    {"lte", SIFA_COND_LTE},     {"gt", SIFA_COND_GT},   {"lt", SIFA_COND_LT},
};

static const char *const cond_keys[] = {"field", "deadline", "on_time", "eq", "ne", "in", "not_in", "empty", "not_empty",
                                        "gte", "lte", "gt", "lt", NULL};

static const char *op_name(enum sifa_cond_op op)
{
    if (op == SIFA_COND_ON_TIME)
        return "on_time";
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(ops); i++)
        if (ops[i].op == op)
            return ops[i].name;
    return "unknown";
}

static bool op_range(enum sifa_cond_op op)
{
    return op == SIFA_COND_GTE || op == SIFA_COND_LTE || op == SIFA_COND_GT || op == SIFA_COND_LT;
}

static bool op_list(enum sifa_cond_op op)
{
    return op == SIFA_COND_IN || op == SIFA_COND_NOT_IN;
}

static bool op_no_value(enum sifa_cond_op op)
{
    return op == SIFA_COND_EMPTY || op == SIFA_COND_NOT_EMPTY;
}

/* ---------- releasing ---------- */

static void indicator_release(struct sifa_indicator *ind)
{
    for (size_t i = 0; i < ind->nwhere; i++) {
        for (size_t k = 0; k < ind->where[i].nvalues; k++)
            free(ind->where[i].values[k]);
        free(ind->where[i].values);
    }
    free(ind->where);
    free(ind->by);
    free(ind->code);
    free(ind->name);
    free(ind->unit);
    free(ind->description);
    free(ind->file);
}

static void table_release(struct sifa_stat_table *t)
{
    free(t->code);
    free(t->title);
    free(t->file);
    free(t->columns);
    free(t->row_kind);
}

void sifa_model_indicators_free(struct sifa_model *model)
{
    for (size_t i = 0; i < model->ntables; i++)
        table_release(&model->tables[i]);
    free(model->tables);
    model->tables = NULL;
    model->ntables = 0;
    for (size_t i = 0; i < model->nindicators; i++)
        indicator_release(&model->indicators[i]);
    free(model->indicators);
    model->indicators = NULL;
    model->nindicators = 0;
}

/* ---------- one load: indicators of every file, before they are ordered ---------- */

struct ref {
    char *code;
    int line, column; /* of the code in `of` */
    size_t index;     /* into load.items once resolved, NONE when unknown */
};

struct pending {
    struct sifa_indicator ind; /* owned strings; a and b are set when the final array is built */
    struct ref of[2];
    size_t nof;
    bool bad;                  /* had errors: kept only so duplicates and references are checked */
    bool placed;               /* ordering: already in the final order */
    int walk;                  /* cycle search: 0 not seen, 1 on the current path, 2 done */
};

/* A table before its columns are resolved: their codes and where they were written. */
struct pending_table {
    struct sifa_stat_table t; /* owned strings; columns set by finish */
    struct ref *cols;
    size_t ncols;
};

struct load {
    struct sifa_model *model;
    json_t *errors; /* owned */
    struct pending_table *tables;
    size_t ntables;
    struct pending *items;
    size_t n, cap;
    bool full; /* INDICATORS_MAX reached and reported */
};

static void pending_release(struct pending *p)
{
    indicator_release(&p->ind);
    for (size_t i = 0; i < p->nof; i++)
        free(p->of[i].code);
}

static struct pending *find_pending(struct load *l, const char *code)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].ind.code, code) == 0)
            return &l->items[i];
    return NULL;
}

/* ---------- fields and conditions ---------- */

/* The field of module m named by scalar n, or NULL after reporting why. */
static const struct sifa_field *resolve_field(struct sifa_yaml_walk *c, const struct sifa_module *m, yaml_node_t *n,
                                              const char *what)
{
    const char *s = sifa_yaml_scalar(n);
    if (s == NULL) {
        sifa_yaml_error(c, n, "not_scalar", "%s 必须是一个字段代码", what);
        return NULL;
    }
    const struct sifa_field *f = sifa_module_field(m, s);
    if (f == NULL)
        sifa_yaml_error(c, n, "unknown_field", "%s 引用了模块 %s 中不存在的字段 \"%s\"", what, m->code, s);
    return f;
}

/* A date or datetime field, not personal (its stored value is sealed), or NULL after reporting. */
static const struct sifa_field *resolve_date_field(struct sifa_yaml_walk *c, const struct sifa_module *m,
                                                   yaml_node_t *n, const char *what)
{
    const struct sifa_field *f = resolve_field(c, m, n, what);
    if (f != NULL && f->type != SIFA_FIELD_DATE && f->type != SIFA_FIELD_DATETIME) {
        sifa_yaml_error(c, n, "bad_field_type", "%s 必须是 date 或 datetime 字段,%s 是 %s", what, f->code,
                        sifa_field_type_name(f->type));
        return NULL;
    }
    if (f != NULL && f->personal) {
        sifa_yaml_error(c, n, "bad_field_type", "%s 不能是个人信息字段 (%s 是 personal)", what, f->code);
        return NULL;
    }
    return f;
}

static bool date_text(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int mo = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || mo < 1 || mo > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[mo - 1] + (mo == 2 && leap ? 1 : 0);
}

/* 元 with at most two decimals ("10000.50", "-3", "0.5") to fen. */
static bool yuan_text(const char *s, int64_t *ret_fen)
{
    const char *p = s;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (*p < '0' || *p > '9')
        return false;
    int64_t yuan = 0, frac = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (yuan > (INT64_MAX / 100 - 1) / 10)
            return false;
        yuan = yuan * 10 + (*p - '0');
    }
    if (*p == '.') {
        p++;
        int digits = 0;
        for (; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
            frac = frac * 10 + (*p - '0');
        if (digits == 0 || digits > 2)
            return false;
        if (digits == 1)
            frac *= 10;
    }
    if (*p != '\0')
        return false;
    int64_t fen = yuan * 100 + frac;
    *ret_fen = neg ? -fen : fen;
    return true;
}

/* A plain decimal number: optional '-', digits, optionally '.' and digits. */
static bool decimal_text(const char *s, double *ret)
{
    const char *p = s[0] == '-' ? s + 1 : s;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        digits++;
    if (digits == 0)
        return false;
    if (*p == '.') {
        p++;
        size_t frac = 0;
        for (; *p >= '0' && *p <= '9'; p++)
            frac++;
        if (frac == 0)
            return false;
    }
    if (*p != '\0')
        return false;
    double v = strtod(s, NULL);
    if (!isfinite(v))
        return false;
    *ret = v;
    return true;
}

/* Characters of an org unit code or a user name, as the record engine accepts them. */
static bool name_text(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
              ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

/* Identity numbers and credit codes: letters and digits, kept upper-case as the record engine
 * stores them. */
static char *upper_alnum(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return NULL;
    char *out = sifa_xstrdup(s);
    for (size_t i = 0; i < n; i++) {
        char ch = out[i];
        if (ch >= 'a' && ch <= 'z')
            out[i] = (char)(ch - 'a' + 'A');
        else if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) {
            free(out);
            return NULL;
        }
    }
    return out;
}

/* The stored text form of value n for a condition on field f (NULL: the record's state) of
 * module m, or NULL after reporting why. */
static char *cond_value(struct sifa_yaml_walk *c, const struct sifa_module *m, const struct sifa_field *f,
                        yaml_node_t *n)
{
    const char *s = sifa_yaml_scalar(n);
    if (s == NULL) {
        sifa_yaml_error(c, n, "bad_value", "条件的值必须是单个值,而不是列表或映射");
        return NULL;
    }
    if (strlen(s) > TEXT_MAX) {
        sifa_yaml_error(c, n, "bad_value", "条件的值不能超过 %d 字节", TEXT_MAX);
        return NULL;
    }
    if (f == NULL) {
        if (sifa_module_state(m, s) == NULL) {
            sifa_yaml_error(c, n, "unknown_state", "模块 %s 没有状态 \"%s\"", m->code, s);
            return NULL;
        }
        return sifa_xstrdup(s);
    }
    char buf[32];
    int64_t v;
    double d;
    char *out = NULL;
    switch (f->type) {
    case SIFA_FIELD_ENUM:
        /* Stored exactly as the code table writes the code (validate.c compares with strcmp). */
        if (sifa_code_table_item(f->codes, s) != NULL)
            return sifa_xstrdup(s);
        sifa_yaml_error(c, n, "bad_value", "\"%s\" 不在字段 %s 的代码表 %s 中", s, f->code, f->codes->code);
        return NULL;
    case SIFA_FIELD_INTEGER:
        if (int_text(s, &v)) {
            snprintf(buf, sizeof(buf), "%lld", (long long)v);
            return sifa_xstrdup(buf);
        }
        sifa_yaml_error(c, n, "bad_value", "字段 %s 是整数,条件的值 \"%s\" 不是整数", f->code, s);
        return NULL;
    case SIFA_FIELD_MONEY:
        if (yuan_text(s, &v)) {
            snprintf(buf, sizeof(buf), "%lld", (long long)v);
            return sifa_xstrdup(buf);
        }
        sifa_yaml_error(c, n, "bad_value",
                        "字段 %s 是金额,条件的值应以元为单位、最多两位小数,如 10000.50,而不是 \"%s\"", f->code, s);
        return NULL;
    case SIFA_FIELD_DECIMAL:
        if (decimal_text(s, &d)) {
            snprintf(buf, sizeof(buf), "%.15g", d);
            return sifa_xstrdup(buf);
        }
        sifa_yaml_error(c, n, "bad_value", "字段 %s 是数字,条件的值 \"%s\" 不是数字", f->code, s);
        return NULL;
    case SIFA_FIELD_BOOL:
        if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
            return sifa_xstrdup("1");
        if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
            return sifa_xstrdup("0");
        sifa_yaml_error(c, n, "bad_value", "字段 %s 是是非字段,条件的值必须是 true 或 false", f->code);
        return NULL;
    case SIFA_FIELD_DATE:
        if (date_text(s))
            return sifa_xstrdup(s);
        sifa_yaml_error(c, n, "bad_value", "条件的值 \"%s\" 不是有效日期(YYYY-MM-DD,如 2024-01-31)", s);
        return NULL;
    case SIFA_FIELD_REF:
        if (int_text(s, &v) && v >= 1) {
            snprintf(buf, sizeof(buf), "%lld", (long long)v);
            return sifa_xstrdup(buf);
        }
        sifa_yaml_error(c, n, "bad_value", "字段 %s 引用记录,条件的值应为记录编号(正整数)", f->code);
        return NULL;
    case SIFA_FIELD_ORG:
    case SIFA_FIELD_USER:
        if (name_text(s))
            return sifa_xstrdup(s);
        sifa_yaml_error(c, n, "bad_value", "条件的值 \"%s\" 不是有效的%s", s,
                        f->type == SIFA_FIELD_ORG ? "机构代码" : "用户名");
        return NULL;
    case SIFA_FIELD_ID_NUMBER:
    case SIFA_FIELD_USCC:
        if ((out = upper_alnum(s, f->type == SIFA_FIELD_USCC ? 18 : 15, 18)) != NULL)
            return out;
        sifa_yaml_error(c, n, "bad_value", "字段 %s 的条件值格式不正确", f->code);
        return NULL;
    case SIFA_FIELD_PHONE:
        if (strlen(s) == 11 && s[0] == '1' && strspn(s, "0123456789") == 11)
            return sifa_xstrdup(s);
        sifa_yaml_error(c, n, "bad_value", "字段 %s 的条件值应为 11 位手机号码", f->code);
        return NULL;
    case SIFA_FIELD_TEXT:
        if (s[0] != '\0')
            return sifa_xstrdup(s);
        sifa_yaml_error(c, n, "bad_value", "条件的值不能为空文字;判断是否填写请用 empty: true 或 not_empty: true");
        return NULL;
    case SIFA_FIELD_DATETIME:
    case SIFA_FIELD_LONGTEXT:
    case SIFA_FIELD_PERSON:
    case SIFA_FIELD_ATTACHMENT:
    case SIFA_FIELD_GROUP:
        break; /* refused by parse_cond before any value is looked at */
    }
    sifa_yaml_error(c, n, "bad_field_type", "字段 %s 不能带值作为条件", f->code);
    return NULL;
}

/* One condition of where into *ret. False after reporting why. */
static bool parse_cond(struct sifa_yaml_walk *c, const struct sifa_module *m, yaml_node_t *n,
                       struct sifa_indicator_cond *ret)
{
    if (n->type != YAML_MAPPING_NODE) {
        sifa_yaml_error(c, n, "bad_condition", "每个条件必须是一个映射,如 {field: state, in: [accepted]}");
        return false;
    }
    if (!sifa_yaml_check_keys(c, n, "条件", cond_keys, NULL, NULL))
        return false;
    size_t before = c->nerrors;
    yaml_node_t *dn = sifa_yaml_map_get(c, n, "deadline");
    if (dn != NULL) {
        /* {deadline: online_reply, on_time: true}: only this form */
        const char *ds = sifa_yaml_scalar(dn);
        const struct sifa_deadline *d = NULL;
        for (size_t i = 0; ds != NULL && i < m->ndeadlines; i++)
            if (strcmp(m->deadlines[i].code, ds) == 0)
                d = &m->deadlines[i];
        yaml_node_t *on = sifa_yaml_map_get(c, n, "on_time");
        const char *os = sifa_yaml_scalar(on);
        if (sifa_yaml_map_get(c, n, "field") != NULL || sifa_yaml_map_size(n) != 2 || on == NULL)
            sifa_yaml_error(c, n, "bad_condition", "期限条件的写法是 {deadline: 期限代码, on_time: true|false}");
        else if (d == NULL)
            sifa_yaml_error(c, dn, "unknown_field", "%s 没有名为 %s 的期限", m->code, ds ? ds : "(非标量)");
        else if (d->met_field == NULL)
            sifa_yaml_error(c, dn, "bad_condition", "期限 %s 没有 met(办结时间字段),无法判断是否按期", d->code);
        else if (os == NULL || (strcmp(os, "true") != 0 && strcmp(os, "false") != 0))
            sifa_yaml_error(c, on, "bad_value", "on_time 的值只能是 true 或 false");
        if (c->nerrors != before)
            return false;
        struct sifa_indicator_cond cond = {.deadline = d, .op = SIFA_COND_ON_TIME, .nvalues = 1};
        cond.values = sifa_xcalloc(1, sizeof(*cond.values));
        cond.values[0] = sifa_xstrdup(strcmp(os, "true") == 0 ? "1" : "0");
        *ret = cond;
        return true;
    }
    yaml_node_t *fn = sifa_yaml_map_get(c, n, "field");
    const char *fs = sifa_yaml_scalar(fn);
    const struct sifa_field *f = NULL;
    bool state = false;
    if (fn == NULL)
        sifa_yaml_error(c, n, "missing_key", "条件缺少 field(字段代码,或 state 表示记录的状态)");
    else if (fs != NULL && strcmp(fs, "state") == 0)
        state = true;
    else
        f = resolve_field(c, m, fn, "条件的 field");

    size_t nops = 0;
    enum sifa_cond_op op = SIFA_COND_EQ;
    yaml_node_t *vn = NULL;
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(ops); i++) {
        yaml_node_t *v = sifa_yaml_map_get(c, n, ops[i].name);
        if (v == NULL)
            continue;
        if (++nops == 1) {
            op = ops[i].op;
            vn = v;
        }
    }
    if (nops == 0)
        sifa_yaml_error(c, n, "bad_condition",
                        "条件必须有一种比较:eq, ne, in, not_in, empty, not_empty, gte, lte, gt, lt");
    else if (nops > 1)
        sifa_yaml_error(c, n, "bad_condition", "一个条件只能有一种比较,现在有 %zu 种;多个条件请分开写", nops);
    if (c->nerrors != before || (!state && f == NULL))
        return false;

    if (state && !(op == SIFA_COND_EQ || op == SIFA_COND_NE || op_list(op))) {
        sifa_yaml_error(c, vn, "bad_condition", "状态条件只能用 eq, ne, in 或 not_in");
        return false;
    }
    if (f != NULL) {
        if (f->personal) {
            sifa_yaml_error(c, fn, "bad_field_type", "字段 %s 是个人信息 (personal),其值加密保存,不能作为条件",
                            f->code);
            return false;
        }
        if (f->type == SIFA_FIELD_LONGTEXT || f->type == SIFA_FIELD_GROUP || f->type == SIFA_FIELD_PERSON ||
            f->type == SIFA_FIELD_ATTACHMENT) {
            sifa_yaml_error(c, fn, "bad_field_type", "%s 字段 %s 不能作为条件", sifa_field_type_name(f->type), f->code);
            return false;
        }
        if (f->type == SIFA_FIELD_DATETIME && !op_no_value(op)) {
            sifa_yaml_error(c, vn, "bad_condition", "datetime 字段 %s 只能用 empty 或 not_empty 作条件", f->code);
            return false;
        }
        if (op_range(op) && f->type != SIFA_FIELD_INTEGER && f->type != SIFA_FIELD_MONEY &&
            f->type != SIFA_FIELD_DECIMAL && f->type != SIFA_FIELD_DATE) {
            sifa_yaml_error(c, vn, "bad_condition", "%s 只能用于 integer, money, decimal 或 date 字段,%s 是 %s",
                            op_name(op), f->code, sifa_field_type_name(f->type));
            return false;
        }
    }

    struct sifa_indicator_cond cond = {.field = f, .op = op};
    if (op_no_value(op)) {
        const char *s = sifa_yaml_scalar(vn);
        if (s == NULL || strcmp(s, "true") != 0) {
            sifa_yaml_error(c, vn, "bad_value", "%s 的值只能是 true", op_name(op));
            return false;
        }
        *ret = cond;
        return true;
    }
    yaml_node_t **items = NULL;
    size_t count = 1;
    if (op_list(op)) {
        if (vn->type != YAML_SEQUENCE_NODE || sifa_yaml_seq_size(vn) == 0 || sifa_yaml_seq_size(vn) > VALUES_MAX) {
            sifa_yaml_error(c, vn, "bad_value", "%s 的值必须是 1 到 %d 个值的列表,如 [a, b]", op_name(op), VALUES_MAX);
            return false;
        }
        count = sifa_yaml_seq_size(vn);
        items = sifa_xcalloc(count, sizeof(*items));
        for (size_t i = 0; i < count; i++)
            items[i] = sifa_yaml_node(c, vn->data.sequence.items.start[i]);
    } else {
        items = sifa_xcalloc(1, sizeof(*items));
        items[0] = vn;
    }
    cond.values = sifa_xcalloc(count, sizeof(*cond.values));
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        if (items[i] == NULL) { /* the node budget ran out; too_complex is reported at the end */
            ok = false;
            break;
        }
        char *v = cond_value(c, m, f, items[i]);
        if (v == NULL) {
            ok = false;
            continue;
        }
        cond.values[cond.nvalues++] = v;
    }
    free(items);
    if (!ok) {
        for (size_t i = 0; i < cond.nvalues; i++)
            free(cond.values[i]);
        free(cond.values);
        return false;
    }
    *ret = cond;
    return true;
}

static void parse_where(struct sifa_yaml_walk *c, yaml_node_t *n, struct sifa_indicator *ind)
{
    yaml_node_t *wn = sifa_yaml_map_get(c, n, "where");
    if (wn == NULL)
        return;
    if (wn->type != YAML_SEQUENCE_NODE) {
        sifa_yaml_error(c, wn, "bad_condition", "where 必须是条件的列表,如 [{field: state, in: [accepted]}]");
        return;
    }
    size_t count = sifa_yaml_seq_size(wn);
    if (count > WHERE_MAX) {
        sifa_yaml_error(c, wn, "bad_condition", "一个指标的条件不能超过 %d 个", WHERE_MAX);
        return;
    }
    ind->where = sifa_xcalloc(count, sizeof(*ind->where));
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = sifa_yaml_node(c, wn->data.sequence.items.start[i]);
        if (item != NULL && parse_cond(c, ind->module, item, &ind->where[ind->nwhere]))
            ind->nwhere++;
    }
}

static void parse_by(struct sifa_yaml_walk *c, yaml_node_t *n, struct sifa_indicator *ind)
{
    yaml_node_t *bn = sifa_yaml_map_get(c, n, "by");
    if (bn == NULL)
        return;
    bool one = bn->type == YAML_SCALAR_NODE; /* by: source, as loader.c reads one-item lists */
    if (!one && (bn->type != YAML_SEQUENCE_NODE || sifa_yaml_seq_size(bn) > BY_MAX)) {
        sifa_yaml_error(c, bn, "bad_value", "by 必须是至多 %d 个枚举字段代码的列表,如 [dispute_type, source]", BY_MAX);
        return;
    }
    size_t count = one ? 1 : sifa_yaml_seq_size(bn);
    ind->by = sifa_xcalloc(count, sizeof(*ind->by));
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = one ? bn : sifa_yaml_node(c, bn->data.sequence.items.start[i]);
        if (item == NULL)
            continue;
        const struct sifa_field *f = resolve_field(c, ind->module, item, "by");
        if (f == NULL)
            continue;
        if (f->type != SIFA_FIELD_ENUM || f->personal) {
            sifa_yaml_error(c, item, "bad_field_type", "by 只能是非个人信息的 enum 字段,%s 是 %s%s", f->code,
                            sifa_field_type_name(f->type), f->personal ? "(personal)" : "");
            continue;
        }
        bool dup = false;
        for (size_t k = 0; k < ind->nby; k++)
            dup = dup || ind->by[k] == f;
        if (dup) {
            sifa_yaml_error(c, item, "bad_value", "by 中的字段 %s 重复", f->code);
            continue;
        }
        ind->by[ind->nby++] = f;
    }
}

/* count, sum, distinct, stock: a module, its fields and conditions. */
static void parse_base(struct sifa_yaml_walk *c, yaml_node_t *n, struct load *l, struct sifa_indicator *ind)
{
    const char *code = ind->code ? ind->code : "?";
    yaml_node_t *mn = sifa_yaml_map_get(c, n, "module");
    if (mn == NULL) {
        sifa_yaml_error(c, n, "missing_key", "指标 %s 缺少 module(统计哪个业务模块的记录)", code);
        return;
    }
    const char *ms = sifa_yaml_scalar(mn);
    if (ms == NULL) {
        sifa_yaml_error(c, mn, "not_scalar", "module 必须是一个模块代码");
        return;
    }
    if ((ind->module = sifa_model_module(l->model, ms)) == NULL) {
        sifa_yaml_error(c, mn, "unknown_module", "指标 %s 引用的模块 \"%s\" 不存在", code, ms);
        return;
    }
    const struct sifa_module *m = ind->module;

    yaml_node_t *v = sifa_yaml_map_get(c, n, "date");
    if (v == NULL)
        sifa_yaml_error(c, n, "missing_key", "指标 %s 缺少 date(记录按哪个日期字段计入统计期)", code);
    else
        ind->date_field = resolve_date_field(c, m, v, "date");
    if ((v = sifa_yaml_map_get(c, n, "end")) != NULL)
        ind->end_field = resolve_date_field(c, m, v, "end");

    if ((v = sifa_yaml_map_get(c, n, "org")) != NULL) {
        const struct sifa_field *f = resolve_field(c, m, v, "org");
        if (f != NULL && (f->type != SIFA_FIELD_ORG || f->personal))
            sifa_yaml_error(c, v, "bad_field_type", "org 必须是非个人信息的 org 字段,%s 是 %s%s", f->code,
                            sifa_field_type_name(f->type), f->personal ? "(personal)" : "");
        else
            ind->org_field = f;
    } else if ((ind->org_field = m->org_field) == NULL) {
        sifa_yaml_error(c, n, "missing_key", "模块 %s 没有 org_field,指标 %s 须用 org 指定按哪个机构字段统计", m->code,
                        code);
    }

    if (ind->kind == SIFA_IND_SUM || ind->kind == SIFA_IND_DISTINCT) {
        bool sum = ind->kind == SIFA_IND_SUM;
        if ((v = sifa_yaml_map_get(c, n, "field")) == NULL) {
            sifa_yaml_error(c, n, "missing_key", "%s 指标 %s 缺少 field(%s)", sum ? "sum" : "distinct", code,
                            sum ? "对哪个整数或金额字段求和" : "按哪个字段去重计数");
        } else if ((ind->field = resolve_field(c, m, v, "field")) != NULL) {
            enum sifa_field_type t = ind->field->type;
            bool type_ok = sum ? (t == SIFA_FIELD_INTEGER || t == SIFA_FIELD_MONEY) && !ind->field->personal
                               : t == SIFA_FIELD_TEXT || t == SIFA_FIELD_INTEGER || t == SIFA_FIELD_ENUM ||
                                     t == SIFA_FIELD_REF || t == SIFA_FIELD_ORG || t == SIFA_FIELD_USER ||
                                     t == SIFA_FIELD_ID_NUMBER || t == SIFA_FIELD_USCC || t == SIFA_FIELD_PHONE ||
                                     t == SIFA_FIELD_DATE;
            if (!type_ok) {
                sifa_yaml_error(c, v, "bad_field_type",
                                sum ? "sum 的 field 必须是非个人信息的 integer 或 money 字段,%s 是 %s%s"
                                    : "distinct 的 field 必须是 text, integer, enum, ref, org, user, id_number, uscc, "
                                      "phone 或 date 字段,%s 是 %s%s",
                                ind->field->code, sifa_field_type_name(t), ind->field->personal ? "(personal)" : "");
                ind->field = NULL;
            }
        }
    }
    parse_where(c, n, ind);
    parse_by(c, n, ind);
}

/* ratio, difference, per_day, change: the indicators they use and how the result is shown. */
static void parse_derived(struct sifa_yaml_walk *c, yaml_node_t *n, struct pending *p)
{
    struct sifa_indicator *ind = &p->ind;
    const char *code = ind->code ? ind->code : "?";
    bool two = ind->kind == SIFA_IND_RATIO || ind->kind == SIFA_IND_DIFFERENCE || ind->kind == SIFA_IND_TOTAL;
    yaml_node_t *on = sifa_yaml_map_get(c, n, "of");
    if (on == NULL) {
        sifa_yaml_error(c, n, "missing_key", "指标 %s 缺少 of(%s)", code, two ? "两个指标代码 [a, b]" : "一个指标代码");
    } else if (two && (on->type != YAML_SEQUENCE_NODE || sifa_yaml_seq_size(on) != 2)) {
        sifa_yaml_error(c, on, "bad_value", "%s 的 of 必须是恰好两个指标代码的列表 [a, b]",
                        sifa_indicator_kind_name(ind->kind));
    } else if (!two && on->type != YAML_SCALAR_NODE) {
        sifa_yaml_error(c, on, "bad_value", "%s 的 of 必须是一个指标代码", sifa_indicator_kind_name(ind->kind));
    } else {
        for (size_t i = 0; i < (two ? 2u : 1u); i++) {
            yaml_node_t *item = two ? sifa_yaml_node(c, on->data.sequence.items.start[i]) : on;
            const char *s = sifa_yaml_scalar(item);
            if (item == NULL)
                continue;
            if (s == NULL || !sifa_model_code_valid(s)) {
                sifa_yaml_error(c, item, "bad_code", "of 中的 \"%s\" 不是有效的指标代码", s ? s : "(非标量)");
                continue;
            }
            p->of[p->nof++] = (struct ref){.code = sifa_xstrdup(s),
                                           .line = (int)item->start_mark.line + 1,
                                           .column = (int)item->start_mark.column + 1,
                                           .index = NONE};
        }
    }
    int64_t v;
    yaml_node_t *x;
    ind->digits = ind->kind == SIFA_IND_PER_DAY                                  ? 1
                  : ind->kind == SIFA_IND_DIFFERENCE || ind->kind == SIFA_IND_TOTAL ? 0
                                                                                      : 2;
    if (ind->kind == SIFA_IND_RATIO)
        ind->scale = 100;
    if ((x = sifa_yaml_map_get(c, n, "scale")) != NULL && parse_number(c, x, "scale", 1, SCALE_MAX, &v))
        ind->scale = v;
    if ((x = sifa_yaml_map_get(c, n, "digits")) != NULL && parse_number(c, x, "digits", 0, DIGITS_MAX, &v))
        ind->digits = (int)v;
    if ((x = sifa_yaml_map_get(c, n, "rounding")) != NULL) {
        const char *s = sifa_yaml_scalar(x);
        if (s != NULL && strcmp(s, "half_up") == 0)
            ind->rounding = SIFA_ROUND_HALF_UP;
        else if (s != NULL && strcmp(s, "down") == 0)
            ind->rounding = SIFA_ROUND_DOWN;
        else
            sifa_yaml_error(c, x, "bad_value", "rounding 必须是 half_up(四舍五入)或 down(舍去)");
    }
    if ((x = sifa_yaml_map_get(c, n, "days")) != NULL) {
        const char *s = sifa_yaml_scalar(x);
        if (s != NULL && strcmp(s, "calendar") == 0)
            ind->days = SIFA_DAYS_CALENDAR;
        else if (s != NULL && strcmp(s, "working") == 0)
            ind->days = SIFA_DAYS_WORKING;
        else
            sifa_yaml_error(c, x, "bad_value", "days 必须是 calendar(自然日)或 working(工作日)");
    }
    if ((x = sifa_yaml_map_get(c, n, "compare")) != NULL) {
        const char *s = sifa_yaml_scalar(x);
        if (s != NULL && strcmp(s, "previous_year") == 0)
            ind->compare = SIFA_COMPARE_PREVIOUS_YEAR;
        else if (s != NULL && strcmp(s, "previous_period") == 0)
            ind->compare = SIFA_COMPARE_PREVIOUS_PERIOD;
        else
            sifa_yaml_error(c, x, "bad_value", "compare 必须是 previous_year(同比)或 previous_period(环比)");
    }
}

static void parse_indicator(struct sifa_yaml_walk *c, struct load *l, yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE) {
        sifa_yaml_error(c, n, "not_mapping", "每个指标必须是一个映射 (code, name, unit, kind…)");
        return;
    }
    size_t before = c->nerrors;
    yaml_node_t *kn = sifa_yaml_map_get(c, n, "kind");
    const char *ks = sifa_yaml_scalar(kn);
    const struct kind_def *kd = NULL;
    for (size_t i = 0; ks != NULL && i < SIFA_ARRAY_SIZE(kinds); i++)
        if (strcmp(kinds[i].name, ks) == 0)
            kd = &kinds[i];
    if (!sifa_yaml_check_keys(c, n, "指标定义", all_keys, kd ? kd->keys : NULL, ks))
        return;
    struct pending p = {0};
    struct sifa_indicator *ind = &p.ind;
    ind->file = sifa_xstrdup(c->file);
    ind->line = (int)n->start_mark.line + 1;
    ind->column = (int)n->start_mark.column + 1;
    ind->code = dup_text(c, sifa_yaml_map_get(c, n, "code"), "指标 code", true, n);
    if (ind->code != NULL && !sifa_model_code_valid(ind->code)) {
        sifa_yaml_error(c, sifa_yaml_map_get(c, n, "code"), "bad_code",
                        "指标 code \"%s\" 只能由小写字母、数字和下划线组成,以字母开头,最长 %d 个字符", ind->code,
                        SIFA_MODEL_CODE_MAX);
        free(ind->code);
        ind->code = NULL;
    }
    ind->name = dup_text(c, sifa_yaml_map_get(c, n, "name"), "指标 name(中文名称)", true, n);
    ind->unit = dup_text(c, sifa_yaml_map_get(c, n, "unit"), "指标 unit(计量单位,如 件、人、%)", true, n);
    ind->description = dup_text(c, sifa_yaml_map_get(c, n, "description"), "description", false, n);
    if (kn == NULL)
        sifa_yaml_error(c, n, "missing_key", "指标 %s 缺少 kind", ind->code ? ind->code : "?");
    else if (kd == NULL)
        sifa_yaml_error(c, kn, "unknown_kind",
                        "指标类型 \"%s\" 未知;可用类型:count, sum, distinct, stock, ratio, share, difference, total, "
                        "per_day, change",
                        ks ? ks : "(非标量)");
    if (kd != NULL) {
        ind->kind = kd->kind;
        if (kind_derived(kd->kind))
            parse_derived(c, n, &p);
        else
            parse_base(c, n, l, ind);
    }
    p.bad = c->nerrors != before || kd == NULL;

    const struct pending *first = ind->code ? find_pending(l, ind->code) : NULL;
    if (first != NULL)
        sifa_yaml_error(c, n, "duplicate_indicator", "指标 \"%s\" 重复定义(第一次在 %s 第 %d 行)", ind->code,
                        first->ind.file, first->ind.line);
    if (ind->code != NULL && first == NULL && l->n >= INDICATORS_MAX && !l->full) {
        sifa_yaml_error(c, n, "too_many_indicators", "指标不能超过 %d 个", INDICATORS_MAX);
        l->full = true;
    }
    if (ind->code == NULL || first != NULL || l->n >= INDICATORS_MAX) {
        pending_release(&p);
        return;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = sifa_xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    l->items[l->n++] = p;
}

#define TABLES_MAX 256
#define TABLE_COLUMNS_MAX 64

static void pending_table_release(struct pending_table *p)
{
    table_release(&p->t);
    for (size_t i = 0; i < p->ncols; i++)
        free(p->cols[i].code);
    free(p->cols);
}

/* tables: [{code, title, columns: [indicator codes], rows: <org kind>}] */
static void parse_table(struct sifa_yaml_walk *c, struct load *l, yaml_node_t *n)
{
    static const char *const keys[] = {"code", "title", "columns", "rows", NULL};
    if (n->type != YAML_MAPPING_NODE) {
        sifa_yaml_error(c, n, "not_mapping", "每个统计表必须是一个映射 (code, title, columns, rows)");
        return;
    }
    if (!sifa_yaml_check_keys(c, n, "统计表定义", keys, NULL, NULL))
        return;
    struct pending_table p = {0};
    p.t.file = sifa_xstrdup(c->file);
    p.t.line = (int)n->start_mark.line + 1;
    p.t.column = (int)n->start_mark.column + 1;
    p.t.code = dup_text(c, sifa_yaml_map_get(c, n, "code"), "统计表 code", true, n);
    if (p.t.code != NULL && !sifa_model_code_valid(p.t.code)) {
        sifa_yaml_error(c, sifa_yaml_map_get(c, n, "code"), "bad_code",
                        "统计表 code \"%s\" 只能由小写字母、数字和下划线组成", p.t.code);
        free(p.t.code);
        p.t.code = NULL;
    }
    p.t.title = dup_text(c, sifa_yaml_map_get(c, n, "title"), "统计表 title(标题)", true, n);
    yaml_node_t *rows = sifa_yaml_map_get(c, n, "rows");
    p.t.row_kind = dup_text(c, rows, "rows(行所列单位的类别,如 gov_unit、town)", false, n);
    if (p.t.row_kind != NULL && !sifa_model_code_valid(p.t.row_kind))
        sifa_yaml_error(c, rows, "bad_value", "rows 应为单位类别代码,如 gov_unit、town");
    yaml_node_t *cols = sifa_yaml_map_get(c, n, "columns");
    if (cols == NULL) {
        sifa_yaml_error(c, n, "missing_key", "统计表缺少 columns(各列的指标代码)");
    } else if (cols->type != YAML_SEQUENCE_NODE || sifa_yaml_seq_size(cols) == 0 ||
               sifa_yaml_seq_size(cols) > TABLE_COLUMNS_MAX) {
        sifa_yaml_error(c, cols, "not_sequence", "columns 必须是 1 到 %d 个指标代码的列表", TABLE_COLUMNS_MAX);
    } else {
        p.cols = sifa_xcalloc(sifa_yaml_seq_size(cols), sizeof(*p.cols));
        for (yaml_node_item_t *it = cols->data.sequence.items.start; it < cols->data.sequence.items.top; it++) {
            yaml_node_t *item = sifa_yaml_node(c, *it);
            if (item == NULL)
                break;
            char *code = dup_text(c, item, "列的指标代码", true, cols);
            if (code == NULL)
                continue;
            p.cols[p.ncols++] = (struct ref){code, (int)item->start_mark.line + 1, (int)item->start_mark.column + 1, 0};
        }
    }
    for (size_t i = 0; p.t.code != NULL && i < l->ntables; i++)
        if (strcmp(l->tables[i].t.code, p.t.code) == 0) {
            sifa_yaml_error(c, n, "duplicate_table", "统计表 \"%s\" 重复定义(第一次在 %s 第 %d 行)", p.t.code,
                            l->tables[i].t.file, l->tables[i].t.line);
            free(p.t.code);
            p.t.code = NULL;
        }
    if (p.t.code == NULL || p.t.title == NULL || l->ntables >= TABLES_MAX) {
        if (l->ntables >= TABLES_MAX)
            sifa_yaml_error(c, n, "too_many_tables", "统计表不能超过 %d 个", TABLES_MAX);
        pending_table_release(&p);
        return;
    }
    l->tables = sifa_xrealloc(l->tables, (l->ntables + 1) * sizeof(*l->tables));
    l->tables[l->ntables++] = p;
}

static void parse_file(struct sifa_yaml_walk *c, struct load *l, yaml_node_t *root)
{
    static const char *const keys[] = {"indicators", "tables", NULL};
    if (root->type != YAML_MAPPING_NODE) {
        sifa_yaml_error(c, root, "not_mapping", "指标定义文件必须是一个映射,键为 indicators 和 tables");
        return;
    }
    if (!sifa_yaml_check_keys(c, root, "指标定义文件", keys, NULL, NULL))
        return;
    yaml_node_t *tables = sifa_yaml_map_get(c, root, "tables");
    if (tables != NULL && tables->type != YAML_SEQUENCE_NODE) {
        sifa_yaml_error(c, tables, "not_sequence", "tables 必须是统计表定义的列表");
    } else if (tables != NULL) {
        for (yaml_node_item_t *it = tables->data.sequence.items.start; it < tables->data.sequence.items.top; it++) {
            yaml_node_t *item = sifa_yaml_node(c, *it);
            if (item == NULL)
                break;
            parse_table(c, l, item);
        }
    }
    yaml_node_t *list = sifa_yaml_map_get(c, root, "indicators");
    if (list == NULL) {
        if (tables == NULL)
            sifa_yaml_error(c, root, "missing_key", "指标定义文件缺少 indicators");
        return;
    }
    if (list->type != YAML_SEQUENCE_NODE) {
        sifa_yaml_error(c, list, "not_sequence", "indicators 必须是指标定义的列表");
        return;
    }
    for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
        yaml_node_t *item = sifa_yaml_node(c, *it);
        if (item == NULL)
            break;
        parse_indicator(c, l, item);
    }
}

static void load_doc(struct load *l, const char *file, const char *text, size_t len)
{
    struct sifa_yaml_walk c = {.file = file, .errors = l->errors, .budget = NODE_BUDGET};
    if (len > SIFA_MODEL_FILE_MAX) {
        sifa_yaml_error(&c, NULL, "file_too_large", "定义文件超过 %d 字节", SIFA_MODEL_FILE_MAX);
        return;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        sifa_yaml_error_at(l->errors, file, (int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1,
                           "yaml_syntax", "YAML 语法错误:%s", parser.problem ? parser.problem : "未知");
        yaml_parser_delete(&parser);
        return;
    }
    c.doc = &doc;
    /* Depth needs no check of its own: the walk visits only the keys a definition has (file,
     * indicator, condition, value list: four levels), whatever the nesting of the text, and the
     * node budget bounds the work aliases could add. */
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL)
        sifa_yaml_error(&c, NULL, "empty", "定义文件为空");
    else
        parse_file(&c, l, root);
    if (c.budget == 0)
        sifa_yaml_error(&c, root, "too_complex", "定义过于复杂(节点或别名过多)");
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
}

/* ---------- resolving, ordering, installing ---------- */

static int compare_index_code(const void *a, const void *b, void *arg)
{
    const struct pending *items = arg;
    return strcmp(items[*(const size_t *)a].ind.code, items[*(const size_t *)b].ind.code);
}

/* Resolves every `of` to an index into l->items; unknown codes are reported. */
static void resolve_refs(struct load *l)
{
    if (l->n == 0)
        return;
    size_t *sorted = sifa_xcalloc(l->n, sizeof(*sorted));
    for (size_t i = 0; i < l->n; i++)
        sorted[i] = i;
    qsort_r(sorted, l->n, sizeof(*sorted), compare_index_code, l->items);
    for (size_t i = 0; i < l->n; i++) {
        struct pending *p = &l->items[i];
        for (size_t k = 0; k < p->nof; k++) {
            size_t lo = 0, hi = l->n;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int cmp = strcmp(l->items[sorted[mid]].ind.code, p->of[k].code);
                if (cmp == 0) {
                    p->of[k].index = sorted[mid];
                    break;
                }
                if (cmp < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (p->of[k].index == NONE)
                sifa_yaml_error_at(l->errors, p->ind.file, p->of[k].line, p->of[k].column, "unknown_indicator",
                                   "指标 %s 引用的指标 \"%s\" 不存在", p->ind.code, p->of[k].code);
        }
    }
    free(sorted);
}

/* Whether p can be placed: every indicator it refers to is placed (or unknown, already reported:
 * a missing reference must not also look like a cycle). */
static bool deps_placed(const struct load *l, const struct pending *p)
{
    for (size_t k = 0; k < p->nof; k++)
        if (p->of[k].index != NONE && !l->items[p->of[k].index].placed)
            return false;
    return true;
}

/* Reports the cycles among indicators that could not be placed: each of them refers to another
 * unplaced one, so a walk along unplaced references from any of them ends in a cycle. */
static void report_cycles(struct load *l)
{
    size_t *path = sifa_xcalloc(l->n, sizeof(*path));
    for (size_t i = 0; i < l->n; i++) {
        if (l->items[i].placed || l->items[i].walk != 0)
            continue;
        size_t len = 0, x = i;
        while (l->items[x].walk == 0) {
            l->items[x].walk = 1;
            path[len++] = x;
            const struct pending *p = &l->items[x];
            size_t next = NONE;
            for (size_t k = 0; k < p->nof && next == NONE; k++)
                if (p->of[k].index != NONE && !l->items[p->of[k].index].placed)
                    next = p->of[k].index;
            assert(next != NONE); /* x is unplaced only because of an unplaced reference */
            x = next;
        }
        if (l->items[x].walk == 1) { /* a new cycle: path from x to the end */
            size_t start = 0;
            while (path[start] != x)
                start++;
            size_t first = start; /* named from its earliest member, whatever the walk began with */
            for (size_t k = start; k < len; k++)
                if (path[k] < path[first])
                    first = k;
            char msg[400];
            size_t used = 0;
            for (size_t k = 0; k <= len - start && used < sizeof(msg); k++) {
                size_t at = path[start + (first - start + k) % (len - start)];
                int w = snprintf(msg + used, sizeof(msg) - used, "%s%s", k ? " → " : "", l->items[at].ind.code);
                used += w > 0 ? (size_t)w : 0;
            }
            if (used >= sizeof(msg)) { /* cut at a character boundary, with an ellipsis */
                size_t end = sizeof(msg) - 4;
                while (end > 0 && ((unsigned char)msg[end] & 0xc0) == 0x80)
                    end--;
                snprintf(msg + end, sizeof(msg) - end, "…");
            }
            const struct sifa_indicator *ind = &l->items[path[first]].ind;
            sifa_yaml_error_at(l->errors, ind->file, ind->line, ind->column, "cyclic_indicator", "指标循环引用:%s",
                               msg);
        }
        for (size_t k = 0; k < len; k++)
            l->items[path[k]].walk = 2;
    }
    free(path);
}

static void hash_token(crypto_hash_sha256_state *st, const char *s)
{
    if (s == NULL) {
        crypto_hash_sha256_update(st, (const unsigned char *)"~;", 2);
        return;
    }
    char len[32];
    int n = snprintf(len, sizeof(len), "%zu:", strlen(s));
    crypto_hash_sha256_update(st, (const unsigned char *)len, (size_t)n);
    crypto_hash_sha256_update(st, (const unsigned char *)s, strlen(s));
    crypto_hash_sha256_update(st, (const unsigned char *)";", 1);
}

static void hash_count(crypto_hash_sha256_state *st, size_t n)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%zu", n);
    hash_token(st, buf);
}

/* SHA-256 over a canonical string of what a base indicator's aggregates depend on: every token
 * length-prefixed, so no two definitions give the same string. Names and descriptions are left
 * out: renaming an indicator must not rebuild its aggregates. */
static void indicator_hash(struct sifa_indicator *ind)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    hash_token(&st, "sifa-indicator-1");
    hash_token(&st, sifa_indicator_kind_name(ind->kind));
    hash_token(&st, ind->module->code);
    hash_token(&st, ind->date_field->code);
    hash_token(&st, ind->end_field ? ind->end_field->code : NULL);
    hash_token(&st, ind->org_field->code);
    hash_token(&st, ind->field ? ind->field->code : NULL);
    hash_count(&st, ind->nwhere);
    for (size_t i = 0; i < ind->nwhere; i++) {
        const struct sifa_indicator_cond *w = &ind->where[i];
        hash_token(&st, w->field ? w->field->code : w->deadline ? "deadline" : "state");
        if (w->deadline != NULL)
            hash_token(&st, w->deadline->code);
        hash_token(&st, op_name(w->op));
        hash_count(&st, w->nvalues);
        for (size_t k = 0; k < w->nvalues; k++)
            hash_token(&st, w->values[k]);
    }
    hash_count(&st, ind->nby);
    for (size_t i = 0; i < ind->nby; i++)
        hash_token(&st, ind->by[i]->code);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(ind->hash, sizeof(ind->hash), digest, sizeof(digest));
}

/* Orders, resolves and installs the load's indicators into its model, or reports why not. Frees
 * the pending list either way. */
static int finish(struct load *l, json_t **ret_errors, struct sifa_error *err)
{
    resolve_refs(l);
    size_t *order = sifa_xcalloc(l->n ? l->n : 1, sizeof(*order));
    size_t norder = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!kind_derived(l->items[i].ind.kind) || l->items[i].bad) {
            /* bad ones are placed too, so that nothing refers to them as if in a cycle */
            l->items[i].placed = true;
            order[norder++] = i;
        }
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t i = 0; i < l->n; i++) {
            struct pending *p = &l->items[i];
            if (!p->placed && deps_placed(l, p)) {
                p->placed = true;
                order[norder++] = i;
                progress = true;
            }
        }
    }
    if (norder < l->n)
        report_cycles(l);

    /* table columns name indicators of any file */
    for (size_t t = 0; t < l->ntables; t++)
        for (size_t k = 0; k < l->tables[t].ncols; k++) {
            struct ref *ref = &l->tables[t].cols[k];
            const struct pending *target = find_pending(l, ref->code);
            if (target == NULL)
                sifa_yaml_error_at(l->errors, l->tables[t].t.file, ref->line, ref->column, "unknown_indicator",
                                   "统计表 %s 的列 %s 不是已定义的指标", l->tables[t].t.code, ref->code);
            else
                ref->index = (size_t)(target - l->items);
        }

    struct sifa_model *model = l->model;
    sifa_model_indicators_free(model);
    if (json_array_size(l->errors) > 0) {
        for (size_t t = 0; t < l->ntables; t++)
            pending_table_release(&l->tables[t]);
        free(l->tables);
        for (size_t i = 0; i < l->n; i++)
            pending_release(&l->items[i]);
        free(l->items);
        free(order);
        size_t n = json_array_size(l->errors);
        json_t *first = json_array_get(l->errors, 0);
        sifa_error_set_details(err, SIFA_EINVALID, "bad_definition", json_incref(l->errors),
                               "指标定义有 %zu 处错误,第一处:%s:%d:%d:%s", n,
                               json_string_value(json_object_get(first, "file")),
                               (int)json_integer_value(json_object_get(first, "line")),
                               (int)json_integer_value(json_object_get(first, "column")),
                               json_string_value(json_object_get(first, "message")));
        *ret_errors = l->errors;
        return SIFA_EINVALID;
    }
    assert(norder == l->n);
    /* The final array is complete before any pointer into it is taken. */
    size_t *pos = sifa_xcalloc(l->n ? l->n : 1, sizeof(*pos));
    struct sifa_indicator *arr = sifa_xcalloc(l->n ? l->n : 1, sizeof(*arr));
    for (size_t k = 0; k < l->n; k++) {
        arr[k] = l->items[order[k]].ind;
        pos[order[k]] = k;
    }
    for (size_t k = 0; k < l->n; k++) {
        const struct pending *p = &l->items[order[k]];
        if (kind_derived(arr[k].kind)) {
            arr[k].a = &arr[pos[p->of[0].index]];
            arr[k].b = p->nof == 2 ? &arr[pos[p->of[1].index]] : NULL;
            assert(arr[k].a < &arr[k] && (arr[k].b == NULL || arr[k].b < &arr[k]));
        } else {
            indicator_hash(&arr[k]);
        }
        for (size_t i = 0; i < p->nof; i++)
            free(p->of[i].code);
    }
    model->indicators = arr;
    model->nindicators = l->n;
    model->tables = l->ntables ? sifa_xcalloc(l->ntables, sizeof(*model->tables)) : NULL;
    for (size_t t = 0; t < l->ntables; t++) {
        struct pending_table *pt = &l->tables[t];
        pt->t.columns = sifa_xcalloc(pt->ncols ? pt->ncols : 1, sizeof(*pt->t.columns));
        for (size_t k = 0; k < pt->ncols; k++) {
            pt->t.columns[k] = &arr[pos[pt->cols[k].index]];
            free(pt->cols[k].code);
        }
        pt->t.ncolumns = pt->ncols;
        free(pt->cols);
        model->tables[t] = pt->t;
    }
    model->ntables = l->ntables;
    free(l->tables);
    model->id = sifa_model_new_id();
    free(pos);
    free(order);
    free(l->items);
    json_decref(l->errors);
    *ret_errors = NULL;
    return 0;
}

int sifa_model_load_indicators_text(struct sifa_model *model, const char *file, const char *text, size_t len,
                                    json_t **ret_errors, struct sifa_error *err)
{
    struct load l = {.model = model, .errors = json_array()};
    load_doc(&l, file, text, len);
    return finish(&l, ret_errors, err);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists *.yaml in dir (not hidden ones), sorted, as new strings; -errno when dir cannot be read. */
static int list_yaml(const char *dir, char ***ret_names, size_t *ret_n)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -errno;
    size_t n = 0, cap = 0;
    char **names = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < FILES_MAX) {
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
    *ret_n = n;
    return 0;
}

/* Reads up to SIFA_MODEL_FILE_MAX + 1 bytes (one more than allowed, so that load_doc sees an
 * oversized file as such). */
static int read_file(const char *path, char **ret_text, size_t *ret_len)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EISDIR;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -errno;
    char *buf = sifa_xmalloc(SIFA_MODEL_FILE_MAX + 2);
    size_t n = fread(buf, 1, SIFA_MODEL_FILE_MAX + 1, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) {
        free(buf);
        return -EIO;
    }
    buf[n] = '\0';
    *ret_text = buf;
    *ret_len = n;
    return 0;
}

int sifa_model_load_indicators(struct sifa_model *model, const char *dir, json_t **ret_errors, struct sifa_error *err)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        *ret_errors = NULL;
        return sifa_error_set(err, SIFA_ENOTFOUND, "indicators_missing", "指标定义目录 %s 不存在", dir);
    }
    struct load l = {.model = model, .errors = json_array()};
    char **names = NULL;
    size_t n = 0;
    if (list_yaml(dir, &names, &n) < 0)
        sifa_yaml_error_at(l.errors, dir, 1, 1, "unreadable", "无法读取指标定义目录");
    for (size_t i = 0; i < n; i++) {
        char file[4096];
        snprintf(file, sizeof(file), "%s/%s", dir, names[i]);
        char *text = NULL;
        size_t len = 0;
        if (read_file(file, &text, &len) == 0) {
            load_doc(&l, file, text, len);
            free(text);
        } else {
            sifa_yaml_error_at(l.errors, file, 1, 1, "unreadable", "无法读取文件");
        }
        free(names[i]);
    }
    free(names);
    return finish(&l, ret_errors, err);
}

/* ---------- lookups and JSON ---------- */

const struct sifa_indicator *sifa_model_indicator(const struct sifa_model *model, const char *code)
{
    for (size_t i = 0; i < model->nindicators; i++)
        if (strcmp(model->indicators[i].code, code) == 0)
            return &model->indicators[i];
    return NULL;
}

const struct sifa_stat_table *sifa_model_table(const struct sifa_model *model, const char *code)
{
    for (size_t i = 0; i < model->ntables; i++)
        if (strcmp(model->tables[i].code, code) == 0)
            return &model->tables[i];
    return NULL;
}

json_t *sifa_stat_table_to_json(const struct sifa_stat_table *table)
{
    json_t *cols = json_array();
    for (size_t i = 0; i < table->ncolumns; i++)
        json_array_append_new(cols, json_string(table->columns[i]->code));
    return json_pack("{s:s,s:s,s:o,s:s?}", "code", table->code, "title", table->title, "columns", cols, "rows",
                     table->row_kind);
}

static json_t *code_or_null(const struct sifa_field *f)
{
    return f != NULL ? json_string(f->code) : json_null();
}

json_t *sifa_indicator_to_json(const struct sifa_indicator *ind)
{
    json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "code", ind->code, "name", ind->name, "unit", ind->unit, "kind",
                          sifa_indicator_kind_name(ind->kind));
    if (j == NULL)
        return NULL;
    json_object_set_new(j, "description", ind->description ? json_string(ind->description) : json_null());
    if (!kind_derived(ind->kind)) {
        json_t *where = json_array(), *by = json_array();
        for (size_t i = 0; i < ind->nwhere; i++) {
            const struct sifa_indicator_cond *w = &ind->where[i];
            json_t *values = json_array();
            for (size_t k = 0; k < w->nvalues; k++)
                json_array_append_new(values, json_string(w->values[k]));
            json_array_append_new(where, json_pack("{s:s,s:s,s:o}", w->deadline ? "deadline" : "field",
                                                   w->field      ? w->field->code
                                                   : w->deadline ? w->deadline->code
                                                                 : "state",
                                                   "op", op_name(w->op), "values", values));
        }
        for (size_t i = 0; i < ind->nby; i++)
            json_array_append_new(by, json_string(ind->by[i]->code));
        json_object_set_new(j, "module", json_string(ind->module->code));
        json_object_set_new(j, "date", code_or_null(ind->date_field));
        json_object_set_new(j, "end", code_or_null(ind->end_field));
        json_object_set_new(j, "org", code_or_null(ind->org_field));
        json_object_set_new(j, "field", code_or_null(ind->field));
        json_object_set_new(j, "where", where);
        json_object_set_new(j, "by", by);
        return j;
    }
    json_t *of = json_array();
    json_array_append_new(of, json_string(ind->a->code));
    if (ind->b != NULL)
        json_array_append_new(of, json_string(ind->b->code));
    json_object_set_new(j, "of", of);
    if (ind->kind == SIFA_IND_RATIO)
        json_object_set_new(j, "scale", json_integer(ind->scale));
    if (ind->kind == SIFA_IND_PER_DAY)
        json_object_set_new(j, "days", json_string(ind->days == SIFA_DAYS_WORKING ? "working" : "calendar"));
    if (ind->kind == SIFA_IND_CHANGE)
        json_object_set_new(j, "compare", json_string(ind->compare == SIFA_COMPARE_PREVIOUS_PERIOD ? "previous_period"
                                                                                                   : "previous_year"));
    if (ind->kind != SIFA_IND_DIFFERENCE && ind->kind != SIFA_IND_TOTAL) {
        json_object_set_new(j, "digits", json_integer(ind->digits));
        json_object_set_new(j, "rounding", json_string(ind->rounding == SIFA_ROUND_DOWN ? "down" : "half_up"));
    }
    return j;
}
