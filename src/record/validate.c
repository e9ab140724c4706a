/* validate.c — checks a record's input against its module definition and normalises it.
 * Layer: record. Pure: no database access, so it runs on an event loop before any write is
 * queued and every bad field is reported at once ({field, code, message} with a Chinese message).
 * Normal forms: text trimmed of nothing (kept as sent), money as integer fen, dates YYYY-MM-DD,
 * datetimes UTC "YYYY-MM-DDTHH:MM:SSZ", identity numbers and credit codes upper-case, phones as
 * 11 digits, groups as arrays of normalised objects. A JSON null clears an optional field. */
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "check/check.h"
#include "record/record.h"

#define TEXT_MAX_DEFAULT 200
#define LONGTEXT_MAX_DEFAULT 20000

static void add_problem(json_t *problems, const char *field, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_problem(json_t *problems, const char *field, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *m = json_string(msg);
    json_array_append_new(problems, json_pack("{s:s,s:s,s:o}", "field", field, "code", code, "message",
                                              m ? m : json_string("无效的值")));
}

/* Counts UTF-8 characters (input was validated as UTF-8 by jansson). */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

static void format_date(int32_t ymd, char out[11])
{
    int y = (int)(ymd / 10000) % 10000, mo = (int)(ymd / 100 % 100) % 100, d = (int)(ymd % 100);
    snprintf(out, 11, "%04d-%02d-%02d", y < 0 ? 0 : y, mo < 0 ? 0 : mo, d < 0 ? 0 : d);
}

static int32_t today_yyyymmdd(int64_t now)
{
    time_t t = (time_t)(now + SIFA_CHECK_CHINA_UTC_OFFSET);
    struct tm tm;
    gmtime_r(&t, &tm);
    return (int32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

static bool org_code_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-' ||
              c == '.'))
            return false;
    }
    return true;
}

static json_t *validate_value(const struct sifa_record_ctx *rc, const struct sifa_field *f, json_t *v,
                              const char *path, json_t *problems);

static json_t *validate_person(const struct sifa_record_ctx *rc, const struct sifa_field *f, json_t *v,
                               const char *path, json_t *problems)
{
    if (!json_is_object(v)) {
        add_problem(problems, path, "type", "%s 应为包含姓名、身份证号、电话的对象", f->name);
        return NULL;
    }
    json_t *out = json_object();
    const char *key;
    json_t *item;
    json_object_foreach(v, key, item)
    {
        if (strcmp(key, "name") != 0 && strcmp(key, "id_number") != 0 && strcmp(key, "phone") != 0) {
            char sub[256];
            snprintf(sub, sizeof(sub), "%s.%s", path, key);
            add_problem(problems, sub, "unknown_field", "%s 没有 %s 这一项(只有 name、id_number、phone)", f->name, key);
        }
    }
    char sub[256];
    json_t *name = json_object_get(v, "name");
    snprintf(sub, sizeof(sub), "%s.name", path);
    if (!json_is_string(name) || json_string_length(name) == 0)
        add_problem(problems, sub, "required", "%s 的姓名必填", f->name);
    else if (utf8_chars(json_string_value(name), json_string_length(name)) > 64)
        add_problem(problems, sub, "max_length", "%s 的姓名不能超过 64 个字符", f->name);
    else
        json_object_set(out, "name", name);
    struct sifa_field idf = {.code = "id_number", .name = "身份证号", .type = SIFA_FIELD_ID_NUMBER,
                             .allow_legacy_id = f->allow_legacy_id, .personal = f->personal};
    json_t *id = json_object_get(v, "id_number");
    snprintf(sub, sizeof(sub), "%s.id_number", path);
    if (id != NULL && !json_is_null(id)) {
        json_t *nid = validate_value(rc, &idf, id, sub, problems);
        if (nid)
            json_object_set_new(out, "id_number", nid);
    }
    struct sifa_field phf = {.code = "phone", .name = "电话", .type = SIFA_FIELD_PHONE, .personal = f->personal};
    json_t *ph = json_object_get(v, "phone");
    snprintf(sub, sizeof(sub), "%s.phone", path);
    if (ph != NULL && !json_is_null(ph)) {
        json_t *nph = validate_value(rc, &phf, ph, sub, problems);
        if (nph)
            json_object_set_new(out, "phone", nph);
    }
    return out;
}

static json_t *validate_group(const struct sifa_record_ctx *rc, const struct sifa_field *f, json_t *v,
                              const char *path, json_t *problems)
{
    if (!json_is_array(v)) {
        add_problem(problems, path, "type", "%s 应为列表", f->name);
        return NULL;
    }
    if ((int64_t)json_array_size(v) > f->max_items) {
        add_problem(problems, path, "max_items", "%s 最多 %lld 项", f->name, (long long)f->max_items);
        return NULL;
    }
    if (f->required && json_array_size(v) == 0)
        add_problem(problems, path, "required", "%s 至少填写一项", f->name);
    json_t *out = json_array();
    size_t i;
    json_t *entry;
    json_array_foreach(v, i, entry)
    {
        char epath[256];
        snprintf(epath, sizeof(epath), "%s[%zu]", path, i);
        if (!json_is_object(entry)) {
            add_problem(problems, epath, "type", "%s 的每一项应为对象", f->name);
            continue;
        }
        json_t *nentry = json_object();
        const char *key;
        json_t *item;
        json_object_foreach(entry, key, item)
        {
            bool known = false;
            for (size_t k = 0; k < f->nsub; k++)
                known = known || strcmp(f->sub[k].code, key) == 0;
            if (!known) {
                char sub[320];
                snprintf(sub, sizeof(sub), "%s.%s", epath, key);
                add_problem(problems, sub, "unknown_field", "%s 没有 %s 这一项", f->name, key);
            }
        }
        for (size_t k = 0; k < f->nsub; k++) {
            const struct sifa_field *sf = &f->sub[k];
            char sub[320];
            snprintf(sub, sizeof(sub), "%s.%s", epath, sf->code);
            json_t *sv = json_object_get(entry, sf->code);
            if (sv == NULL || json_is_null(sv) || (json_is_string(sv) && json_string_length(sv) == 0)) {
                if (sf->required)
                    add_problem(problems, sub, "required", "%s 的 %s 必填", f->name, sf->name);
                continue;
            }
            json_t *nv = validate_value(rc, sf, sv, sub, problems);
            if (nv)
                json_object_set_new(nentry, sf->code, nv);
        }
        json_array_append_new(out, nentry);
    }
    return out;
}

/* Returns the normalised value (new) or NULL after adding a problem. v is not null. */
/* A masked echo of a personal identity number or phone ("330282********1234", "138****5678"): a
 * caller who sees the value only masked sends it back unchanged from a form. It cannot pass the
 * check-digit or number checks, so it is kept as sent here, and the writer (store.c,
 * keep_masked_echoes) turns it back into the stored value when it is the mask of that value, or
 * refuses it when it is not. Only when rc->masked_echo is set (updates and transitions by such a
 * caller); a create has no stored value to stand for. */
static bool masked_echo(const struct sifa_record_ctx *rc, const struct sifa_field *f, json_t *v)
{
    return rc->masked_echo && f->personal && (f->type == SIFA_FIELD_ID_NUMBER || f->type == SIFA_FIELD_PHONE) &&
           json_is_string(v) && strchr(json_string_value(v), '*') != NULL;
}

static json_t *validate_value(const struct sifa_record_ctx *rc, const struct sifa_field *f, json_t *v,
                              const char *path, json_t *problems)
{
    struct sifa_error e = {0};
    json_t *out = NULL;
    if (masked_echo(rc, f, v))
        return json_incref(v);
    switch (f->type) {
    case SIFA_FIELD_TEXT:
    case SIFA_FIELD_LONGTEXT: {
        if (!json_is_string(v)) {
            add_problem(problems, path, "type", "%s 应为文字", f->name);
            break;
        }
        int64_t max = f->max_length ? f->max_length
                                    : (f->type == SIFA_FIELD_TEXT ? TEXT_MAX_DEFAULT : LONGTEXT_MAX_DEFAULT);
        const char *s = json_string_value(v);
        if ((int64_t)utf8_chars(s, json_string_length(v)) > max) {
            add_problem(problems, path, "max_length", "%s 不能超过 %lld 个字符", f->name, (long long)max);
            break;
        }
        if (strlen(s) != json_string_length(v)) {
            add_problem(problems, path, "type", "%s 含有不允许的空字符", f->name);
            break;
        }
        if (f->pattern != NULL) {
            regex_t re;
            int rcomp = regcomp(&re, f->pattern, REG_EXTENDED | REG_NOSUB);
            bool match = rcomp == 0 && regexec(&re, s, 0, NULL, 0) == 0;
            if (rcomp == 0)
                regfree(&re);
            if (!match) {
                add_problem(problems, path, "pattern", "%s 的格式不正确", f->name);
                break;
            }
        }
        out = json_incref(v);
        break;
    }
    case SIFA_FIELD_INTEGER:
    case SIFA_FIELD_MONEY: {
        int64_t n;
        if (json_is_integer(v)) {
            n = json_integer_value(v);
        } else if (f->type == SIFA_FIELD_MONEY && json_is_string(v)) {
            if (sifa_check_money(json_string_value(v), json_string_length(v), 0, &n, &e) < 0) {
                add_problem(problems, path, e.code, "%s:%s", f->name, e.message);
                break;
            }
        } else {
            add_problem(problems, path, "type",
                        f->type == SIFA_FIELD_MONEY ? "%s 应为以分为单位的整数,或“12.50元”“3,200万元”这样的金额"
                                                    : "%s 应为整数",
                        f->name);
            break;
        }
        if (f->type == SIFA_FIELD_MONEY && !f->has_min && n < 0) {
            add_problem(problems, path, "min", "%s 不能为负数", f->name);
            break;
        }
        if (f->has_min && n < f->min) {
            add_problem(problems, path, "min", "%s 不能小于 %lld", f->name, (long long)f->min);
            break;
        }
        if (f->has_max && n > f->max) {
            add_problem(problems, path, "max", "%s 不能大于 %lld", f->name, (long long)f->max);
            break;
        }
        out = json_integer(n);
        break;
    }
    case SIFA_FIELD_DECIMAL:
        if (!json_is_number(v)) {
            add_problem(problems, path, "type", "%s 应为数字", f->name);
            break;
        }
        if ((f->has_min && json_number_value(v) < (double)f->min) || (f->has_max && json_number_value(v) > (double)f->max)) {
            add_problem(problems, path, "range", "%s 超出允许的范围", f->name);
            break;
        }
        out = json_real(json_number_value(v));
        break;
    case SIFA_FIELD_BOOL:
        if (!json_is_boolean(v)) {
            add_problem(problems, path, "type", "%s 应为 true 或 false", f->name);
            break;
        }
        out = json_incref(v);
        break;
    case SIFA_FIELD_DATE: {
        int32_t ymd;
        if (!json_is_string(v) || sifa_check_date(json_string_value(v), json_string_length(v), &ymd, &e) < 0) {
            add_problem(problems, path, "date_invalid", "%s 应为有效日期,如 2021-09-28", f->name);
            break;
        }
        char buf[11];
        format_date(ymd, buf);
        out = json_string(buf);
        break;
    }
    case SIFA_FIELD_DATETIME: {
        int64_t t;
        if (!json_is_string(v) || sifa_check_datetime(json_string_value(v), json_string_length(v), &t, &e) < 0) {
            add_problem(problems, path, "datetime_invalid", "%s 应为有效时间,如 2021-09-28T09:30:00+08:00", f->name);
            break;
        }
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        char buf[32];
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
        out = json_string(buf);
        break;
    }
    case SIFA_FIELD_ENUM:
        if (!json_is_string(v) || sifa_code_table_item(f->codes, json_string_value(v)) == NULL) {
            add_problem(problems, path, "enum", "%s 的值不在代码表“%s”中", f->name, f->codes->name);
            break;
        }
        out = json_incref(v);
        break;
    case SIFA_FIELD_REF:
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            add_problem(problems, path, "type", "%s 应为所引用记录的编号 (id)", f->name);
            break;
        }
        out = json_incref(v);
        break;
    case SIFA_FIELD_ORG:
    case SIFA_FIELD_USER:
        if (!json_is_string(v) || !org_code_valid(json_string_value(v))) {
            add_problem(problems, path, "type", f->type == SIFA_FIELD_ORG ? "%s 应为机构代码" : "%s 应为用户名",
                        f->name);
            break;
        }
        out = json_incref(v);
        break;
    case SIFA_FIELD_ID_NUMBER: {
        struct sifa_id_info info;
        if (!json_is_string(v)) {
            add_problem(problems, path, "type", "%s 应为文字", f->name);
            break;
        }
        if (sifa_check_id_number(json_string_value(v), json_string_length(v),
                                 f->allow_legacy_id ? SIFA_CHECK_ID_ALLOW_LEGACY : 0, today_yyyymmdd(rc->now), &info,
                                 &e) < 0) {
            add_problem(problems, path, e.code, "%s:%s", f->name, e.message);
            break;
        }
        out = json_string(info.number);
        break;
    }
    case SIFA_FIELD_USCC: {
        struct sifa_uscc_info info;
        if (!json_is_string(v) || sifa_check_uscc(json_string_value(v), json_string_length(v), &info, &e) < 0) {
            add_problem(problems, path, e.code[0] ? e.code : "type", "%s:%s", f->name,
                        e.message[0] ? e.message : "应为统一社会信用代码");
            break;
        }
        out = json_string(info.code);
        break;
    }
    case SIFA_FIELD_PHONE: {
        char number[12];
        if (!json_is_string(v) || sifa_check_phone(json_string_value(v), json_string_length(v), number, &e) < 0) {
            add_problem(problems, path, "phone_invalid", "%s 应为 11 位手机号码", f->name);
            break;
        }
        out = json_string(number);
        break;
    }
    case SIFA_FIELD_PERSON:
        out = validate_person(rc, f, v, path, problems);
        break;
    case SIFA_FIELD_GROUP:
        out = validate_group(rc, f, v, path, problems);
        break;
    case SIFA_FIELD_ATTACHMENT: {
        /* A file uploaded through POST /api/v1/files; the writer checks that it exists and that its
         * size and type fit the field, and stores its name, size and type beside the id. */
        json_t *id = json_is_object(v) ? json_object_get(v, "file_id") : v;
        if (!json_is_string(id) || !sifa_record_file_id_valid(json_string_value(id))) {
            add_problem(problems, path, "type", "%s 应为已上传文件的编号 {\"file_id\": \"…\"}", f->name);
            break;
        }
        out = json_pack("{s:O}", "file_id", id);
        break;
    }
    }
    sifa_error_release(&e);
    return out;
}

/* Empty for "required": absent, null, an empty list, or text of white space only (ASCII and the
 * ideographic space U+3000, which Chinese input methods type). */
static bool is_empty(json_t *v)
{
    if (v == NULL || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0))
        return true;
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    for (size_t i = 0; i < n;) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
            i++;
        else if (i + 3 <= n && memcmp(s + i, "\xe3\x80\x80", 3) == 0)
            i += 3;
        else
            return false;
    }
    return true;
}

int sifa_record_validate(const struct sifa_record_ctx *rc, const struct sifa_module *module, json_t *input,
                         bool partial, json_t **ret_values, struct sifa_error *err)
{
    json_t *problems = json_array();
    json_t *values = json_object();
    if (!json_is_object(input)) {
        json_decref(values);
        return sifa_error_set_details(err, SIFA_EINVALID, "validation", problems, "请求内容应为 JSON 对象");
    }
    const char *key;
    json_t *v;
    json_object_foreach(input, key, v)
    {
        if (sifa_module_field(module, key) == NULL)
            add_problem(problems, key, "unknown_field", "“%s”中没有字段 %s", module->name, key);
    }
    for (size_t i = 0; i < module->nfields; i++) {
        const struct sifa_field *f = &module->fields[i];
        v = json_object_get(input, f->code);
        if (v == NULL && partial)
            continue;
        if (v == NULL && f->default_value != NULL) {
            json_t *dflt = f->type == SIFA_FIELD_INTEGER ? json_integer(strtoll(f->default_value, NULL, 10))
                           : f->type == SIFA_FIELD_DECIMAL ? json_real(strtod(f->default_value, NULL))
                           : f->type == SIFA_FIELD_BOOL    ? json_boolean(strcmp(f->default_value, "true") == 0)
                                                           : json_string(f->default_value);
            json_t *nv = validate_value(rc, f, dflt, f->code, problems);
            json_decref(dflt);
            if (nv)
                json_object_set_new(values, f->code, nv);
            continue;
        }
        if (is_empty(v) && f->type != SIFA_FIELD_GROUP) {
            bool numbered = module->numbering != NULL && module->numbering->field == f;
            if (f->required && !numbered)
                add_problem(problems, f->code, "required", "%s 必填", f->name);
            else if (v != NULL)
                json_object_set_new(values, f->code, json_null());
            continue;
        }
        if (v == NULL || json_is_null(v)) {
            if (f->required)
                add_problem(problems, f->code, "required", "%s 至少填写一项", f->name);
            else if (v != NULL)
                json_object_set_new(values, f->code, json_null());
            continue;
        }
        json_t *nv = validate_value(rc, f, v, f->code, problems);
        if (nv)
            json_object_set_new(values, f->code, nv);
    }
    if (json_array_size(problems) > 0) {
        json_decref(values);
        json_t *first = json_array_get(problems, 0);
        return sifa_error_set_details(err, SIFA_EINVALID, "validation", problems, "有 %zu 处填写有误:%s",
                                      json_array_size(problems), json_string_value(json_object_get(first, "message")));
    }
    json_decref(problems);
    *ret_values = values;
    return 0;
}
