/* export.c — GET /api/v1/modules/{code}/records/export?format=xlsx|csv&<the list's filters>:
 * every record a list with the same filters, search and sort would show, as a spreadsheet (导出,
 * the button above every list). Layer: api. The route needs `<module>.export`; the rows are the
 * record engine's (sifa_record_list_each) with the caller's data scope for that permission and
 * its masking (personal data in clear only with `<module>.personal`). The file is written off the
 * event loop, on the worker pool with its own connection, row by row into a temporary file
 * (stats/table.h's streaming writer, so memory stays flat), then sent from disk. A result over
 * the cap (setting export.max_rows, default 100,000) is refused whole with 413
 * export_too_large, never truncated. Every export is audited ("records.export": module, format,
 * filters, rows, whether personal data was in clear) and the file is sent only once that entry
 * is committed (sifa_api_send_file_audited), as with reads of personal data in clear.
 *
 * Cells are for people: Chinese field names as headers, enum labels instead of codes, org unit
 * names, money in 元 with two decimals (a number in XLSX), dates and times as text (times in
 * Beijing time), yes/no as 是/否, a person or a repeated group (the parties) in one cell:
 * "张三(申请人); 李四(被申请人)" — each entry's first value, then its other values in brackets. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/common.h"
#include "base/text.h"
#include "api/api.h"
#include "record/record.h"
#include "stats/stats.h"
#include "stats/table.h"

#define EXPORT_ROWS_DEFAULT 100000
#define EXPORT_ROWS_SETTING "export.max_rows"
#define EXPORT_ROWS_LIMIT 1000000 /* the most the setting may allow */

struct export_job {
    const struct sifa_api *api;
    const struct sifa_module *m;
    struct sifa_db_config db;
    char db_path[PATH_MAX];
    struct sifa_record_ctx rc;
    struct sifa_api_scope scope; /* rc.scope points here */
    char actor[SIFA_NAME_MAX + 1];
    char address[64];
    enum sifa_table_format format;
    struct sifa_record_query_param *params; /* owned, with their strings */
    size_t nparams;
    json_t *filters; /* owned: the query as the audit entry records it */
    char path[PATH_MAX]; /* the temporary file; "" once removed */
    char filename[256];
    bool personal; /* personal data in clear */
    int64_t rows, max_rows;
    /* while writing (worker thread) */
    struct sifa_org_tree *tree;
    struct sifa_table_stream *stream;
    size_t ncols;
    struct sifa_cell *cells; /* ncols; texts owned until the row is written */
};

static void job_free(struct export_job *j)
{
    if (j->path[0])
        unlink(j->path);
    sifa_api_scope_release(&j->scope);
    for (size_t i = 0; i < j->nparams; i++) {
        free((char *)j->params[i].key);
        free((char *)j->params[i].value);
    }
    free(j->params);
    json_decref(j->filters);
    sifa_org_tree_free(j->tree);
    sifa_table_stream_free(j->stream);
    free(j->cells);
    free(j);
}

/* ---------- values as people read them ---------- */

static const char *enum_label(const struct sifa_field *f, const char *code)
{
    for (size_t i = 0; f->codes != NULL && i < f->codes->nitems; i++)
        if (strcmp(f->codes->items[i].code, code) == 0)
            return f->codes->items[i].label;
    return code;
}

/* "2024-03-05T01:30:00Z" (UTC, as stored) → "2024-03-05 09:30:00" (Beijing); other text as is. */
static void local_time(const char *s, char *out, size_t size)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6) {
        const char *rest = s + n;
        if (*rest == '.')
            rest += 1 + strspn(rest + 1, "0123456789");
        if (strcmp(rest, "Z") == 0 || strcmp(rest, "+00:00") == 0) {
            struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
                            .tm_sec = sec};
            time_t t = timegm(&tm) + 8 * 3600;
            gmtime_r(&t, &tm);
            snprintf(out, size, "%04d-%02d-%02d %02d:%02d:%02d", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
            return;
        }
    }
    snprintf(out, size, "%s", s);
}

static char *value_text(const struct export_job *j, const struct sifa_field *f, json_t *v);

/* "first(second, third)" from the non-empty texts of parts; NULL when all are empty. */
static char *joined_entry(char **parts, size_t n)
{
    struct sifa_strbuf b = {0};
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (parts[i] == NULL)
            continue;
        sifa_strbuf_puts(&b, used == 0 ? "" : used == 1 ? "(" : ", ");
        sifa_strbuf_puts(&b, parts[i]);
        used++;
    }
    if (used > 1)
        sifa_strbuf_puts(&b, ")");
    return b.data;
}

static char *group_entry_text(const struct export_job *j, const struct sifa_field *f, json_t *entry)
{
    if (!json_is_object(entry))
        return value_text(j, NULL, entry);
    char **parts = sifa_xcalloc(f->nsub ? f->nsub : 1, sizeof(*parts));
    for (size_t k = 0; k < f->nsub; k++)
        parts[k] = value_text(j, &f->sub[k], json_object_get(entry, f->sub[k].code));
    char *s = joined_entry(parts, f->nsub);
    for (size_t k = 0; k < f->nsub; k++)
        free(parts[k]);
    free(parts);
    return s;
}

static char *person_text(json_t *v)
{
    static const char *const keys[] = {"name", "id_number", "phone"};
    char *parts[3];
    for (size_t k = 0; k < 3; k++) {
        const char *s = json_string_value(json_object_get(v, keys[k]));
        parts[k] = s != NULL && s[0] ? sifa_xstrdup(s) : NULL;
    }
    char *s = joined_entry(parts, 3);
    for (size_t k = 0; k < 3; k++)
        free(parts[k]);
    return s;
}

/* The text of one value (f may be NULL: shown as JSON would be); NULL for an empty value. New. */
static char *value_text(const struct export_job *j, const struct sifa_field *f, json_t *v)
{
    char buf[64];
    if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
        return NULL;
    if (f != NULL && f->type == SIFA_FIELD_GROUP && json_is_array(v)) {
        struct sifa_strbuf b = {0};
        size_t i;
        json_t *entry;
        json_array_foreach(v, i, entry)
        {
            char *s = group_entry_text(j, f, entry);
            if (s == NULL)
                continue;
            if (b.len > 0)
                sifa_strbuf_puts(&b, "; ");
            sifa_strbuf_puts(&b, s);
            free(s);
        }
        return b.data;
    }
    if (f != NULL && f->type == SIFA_FIELD_PERSON && json_is_object(v))
        return person_text(v);
    if (json_is_array(v)) { /* several attachments */
        struct sifa_strbuf b = {0};
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            char *s = value_text(j, f, item);
            if (s == NULL)
                continue;
            if (b.len > 0)
                sifa_strbuf_puts(&b, "; ");
            sifa_strbuf_puts(&b, s);
            free(s);
        }
        return b.data;
    }
    if (json_is_object(v)) { /* an attachment: its file name */
        const char *name = json_string_value(json_object_get(v, "name"));
        if (name == NULL)
            name = json_string_value(json_object_get(v, "id"));
        return name ? sifa_xstrdup(name) : NULL;
    }
    if (json_is_boolean(v))
        return sifa_xstrdup(json_is_true(v) ? "是" : "否");
    if (json_is_integer(v)) {
        if (f != NULL && f->type == SIFA_FIELD_MONEY) {
            json_int_t fen = json_integer_value(v);
            unsigned long long a = fen < 0 ? 0ull - (unsigned long long)fen : (unsigned long long)fen;
            snprintf(buf, sizeof(buf), "%s%llu.%02llu", fen < 0 ? "-" : "", a / 100, a % 100);
        } else {
            snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        }
        return sifa_xstrdup(buf);
    }
    if (json_is_real(v)) {
        snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
        return sifa_xstrdup(buf);
    }
    const char *s = json_string_value(v);
    if (s == NULL)
        return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (f != NULL && f->type == SIFA_FIELD_ENUM)
        return sifa_xstrdup(enum_label(f, s));
    if (f != NULL && f->type == SIFA_FIELD_ORG && j->tree != NULL) {
        int i = sifa_org_tree_find(j->tree, s);
        return sifa_xstrdup(i >= 0 ? j->tree->nodes[i].name : s);
    }
    if (f != NULL && f->type == SIFA_FIELD_DATETIME) {
        char local[64];
        local_time(s, local, sizeof(local));
        return sifa_xstrdup(local);
    }
    return sifa_xstrdup(s);
}

/* One cell: numbers as numbers (money in 元, two decimals), the rest as text. */
static void field_cell(const struct export_job *j, const struct sifa_field *f, json_t *v, struct sifa_cell *c)
{
    memset(c, 0, sizeof(*c));
    if (json_is_integer(v) && (f->type == SIFA_FIELD_MONEY)) {
        c->kind = SIFA_CELL_DECIMAL;
        c->decimal = (double)json_integer_value(v) / 100.0;
        c->digits = 2;
        return;
    }
    if (json_is_integer(v) && (f->type == SIFA_FIELD_INTEGER || f->type == SIFA_FIELD_REF ||
                               f->type == SIFA_FIELD_DECIMAL)) {
        c->kind = SIFA_CELL_INTEGER;
        c->integer = json_integer_value(v);
        return;
    }
    char *text = value_text(j, f, v);
    if (text != NULL) {
        c->kind = SIFA_CELL_TEXT;
        c->text = text;
    }
}

/* Columns: 记录编号, one per field, 状态, 登记时间. */
static size_t column_count(const struct sifa_module *m)
{
    return m->nfields + 3;
}

static int write_record(void *arg, json_t *record, struct sifa_error *err)
{
    struct export_job *j = arg;
    const struct sifa_module *m = j->m;
    struct sifa_cell *c = j->cells;
    memset(c, 0, j->ncols * sizeof(*c));
    c[0].kind = SIFA_CELL_INTEGER;
    c[0].integer = json_integer_value(json_object_get(record, "id"));
    for (size_t i = 0; i < m->nfields; i++)
        field_cell(j, &m->fields[i], json_object_get(record, m->fields[i].code), &c[1 + i]);
    const char *state = json_string_value(json_object_get(record, "state_name"));
    if (state == NULL)
        state = json_string_value(json_object_get(record, "state"));
    if (state != NULL) {
        c[m->nfields + 1].kind = SIFA_CELL_TEXT;
        c[m->nfields + 1].text = sifa_xstrdup(state);
    }
    const char *created = json_string_value(json_object_get(record, "created_at"));
    if (created != NULL) {
        char local[64];
        local_time(created, local, sizeof(local));
        c[m->nfields + 2].kind = SIFA_CELL_TEXT;
        c[m->nfields + 2].text = sifa_xstrdup(local);
    }
    int r = sifa_table_stream_row(j->stream, c, err);
    for (size_t i = 0; i < j->ncols; i++)
        free(c[i].text);
    if (r >= 0)
        j->rows++;
    return r;
}

int64_t sifa_api_export_max_rows(struct sifa_db *db)
{
    struct sifa_error err = {0};
    struct sifa_db_stmt *st;
    int64_t max = EXPORT_ROWS_DEFAULT;
    if (sifa_db_prepare(db, "SELECT value FROM kv_settings WHERE key = ?", &st, &err) < 0) {
        sifa_error_release(&err);
        return max;
    }
    sifa_db_bind_text(st, 1, EXPORT_ROWS_SETTING, -1);
    if (sifa_db_step(st, &err) == SIFA_DB_ROW) {
        const char *s = sifa_db_column_text(st, 0);
        char *end;
        errno = 0;
        long long v = s ? strtoll(s, &end, 10) : 0;
        if (s != NULL && errno == 0 && end != s && *end == '\0' && v >= 1 && v <= EXPORT_ROWS_LIMIT)
            max = v;
    }
    sifa_db_stmt_done(st);
    sifa_error_release(&err);
    return max;
}

static int export_run(void *ctx, struct sifa_error *err)
{
    struct export_job *j = ctx;
    struct sifa_db *db;
    int r = sifa_db_open(&j->db, &db, err);
    if (r < 0)
        return r;
    j->max_rows = sifa_api_export_max_rows(db);
    r = sifa_org_tree_load(db, &j->tree, err);
    const struct sifa_module *m = j->m;
    j->ncols = column_count(m);
    const char **headers = sifa_xcalloc(j->ncols, sizeof(*headers));
    char **owned = sifa_xcalloc(m->nfields ? m->nfields : 1, sizeof(*owned));
    headers[0] = "记录编号";
    for (size_t i = 0; i < m->nfields; i++) {
        if (m->fields[i].type == SIFA_FIELD_MONEY) {
            size_t n = strlen(m->fields[i].name) + sizeof("(元)");
            owned[i] = sifa_xmalloc(n);
            snprintf(owned[i], n, "%s(元)", m->fields[i].name);
            headers[1 + i] = owned[i];
        } else {
            headers[1 + i] = m->fields[i].name;
        }
    }
    headers[m->nfields + 1] = "状态";
    headers[m->nfields + 2] = "登记时间";
    const char *tmpdir = getenv("TMPDIR");
    if (tmpdir == NULL || tmpdir[0] == '\0')
        tmpdir = "/tmp";
    if (r >= 0)
        r = sifa_table_stream_open(j->path, j->format, m->name, j->ncols, headers, tmpdir, &j->stream, err);
    for (size_t i = 0; i < m->nfields; i++)
        free(owned[i]);
    free(owned);
    free(headers);
    j->cells = sifa_xcalloc(j->ncols, sizeof(*j->cells));
    if (r >= 0)
        r = sifa_record_list_each(db, &j->rc, m, j->params, j->nparams, j->max_rows, write_record, j, NULL, err);
    if (r >= 0) {
        struct sifa_table_stream *s = j->stream;
        j->stream = NULL;
        r = sifa_table_stream_close(s, err);
    }
    sifa_db_close(db);
    return r;
}

/* ---------- audit, then the file ---------- */

static void export_written(struct sifa_req *req, void *ctx, int status, const struct sifa_error *err)
{
    struct export_job *j = ctx;
    if (req == NULL) {
        job_free(j);
        return;
    }
    if (status < 0) {
        sifa_resp_error(req, 0, err);
        job_free(j);
        return;
    }
    char target[160];
    snprintf(target, sizeof(target), "%s/export", j->m->code);
    const char *format = j->format == SIFA_TABLE_CSV ? "csv" : "xlsx";
    const char *type = j->format == SIFA_TABLE_CSV ? "text/csv; charset=utf-8"
                                                   : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    json_t *details = json_pack("{s:s,s:s,s:O,s:I,s:b}", "module", j->m->code, "format", format, "filters", j->filters,
                                "rows", (json_int_t)j->rows, "personal", j->personal);
    struct sifa_error e = {0};
    /* the temporary file is the sender's now: it removes it once sent */
    if (sifa_api_send_file_audited(req, j->path, type, j->filename, true, "records.export", target, details, &e) < 0)
        sifa_resp_error(req, 0, &e);
    sifa_error_release(&e);
    j->path[0] = '\0';
    job_free(j);
}

int sifa_api_records_export(struct sifa_req *req, struct sifa_error *err)
{
    struct sifa_api *api = sifa_req_app(req);
    const char *code = sifa_req_param(req, "code");
    const struct sifa_module *m = api->model ? sifa_model_module(api->model, code) : NULL;
    if (m == NULL)
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "module_not_found", json_pack("{s:s}", "module", code),
                                      "业务模块 %s 不存在", code);
    const struct sifa_query *q = sifa_req_query(req);
    const char *format = sifa_query_get(q, "format");
    if (format == NULL)
        format = "xlsx";
    if (sifa_query_count(q, "format") > 1 || (strcmp(format, "xlsx") != 0 && strcmp(format, "csv") != 0))
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_format", json_pack("{s:s}", "format", format),
                                      "format 应为 xlsx 或 csv");

    struct export_job *j = sifa_xcalloc(1, sizeof(*j));
    j->api = api;
    j->m = m;
    snprintf(j->address, sizeof(j->address), "%s", sifa_req_peer(req));
    j->format = strcmp(format, "csv") == 0 ? SIFA_TABLE_CSV : SIFA_TABLE_XLSX;
    sifa_api_worker_db_config(api, &j->db, j->db_path, sizeof(j->db_path));
    sifa_api_record_ctx(req, code, "export", &j->scope, j->actor, sizeof(j->actor), &j->rc);
    j->personal = j->rc.unmask && sifa_module_has_personal(m);
    j->params = sifa_xcalloc(q->count ? q->count : 1, sizeof(*j->params));
    j->filters = json_object();
    for (size_t i = 0; i < q->count; i++) {
        const char *k = q->pairs[i].key, *v = q->pairs[i].value;
        if (strcmp(k, "format") == 0)
            continue;
        j->params[j->nparams].key = sifa_xstrdup(k);
        j->params[j->nparams].value = sifa_xstrdup(v);
        j->nparams++;
        if (strcmp(k, "page") == 0 || strcmp(k, "page_size") == 0)
            continue; /* the export takes every page */
        json_t *prev = json_object_get(j->filters, k);
        if (prev == NULL)
            json_object_set_new(j->filters, k, json_string(v));
        else if (json_is_array(prev))
            json_array_append_new(prev, json_string(v));
        else
            json_object_set_new(j->filters, k, json_pack("[O,s]", prev, v));
    }

    /* "人民调解案件-20261129.xlsx", the date in Beijing time */
    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(j->filename, sizeof(j->filename), "%s-%04d%02d%02d.%s", m->name, (tm.tm_year + 1900) % 10000,
             tm.tm_mon + 1, tm.tm_mday, format);

    const char *tmpdir = getenv("TMPDIR");
    if (tmpdir == NULL || tmpdir[0] == '\0')
        tmpdir = "/tmp";
    int n = snprintf(j->path, sizeof(j->path), "%s/sifa-export-XXXXXX", tmpdir);
    int fd = n > 0 && (size_t)n < sizeof(j->path) ? mkostemp(j->path, O_CLOEXEC) : -1;
    if (fd < 0) {
        j->path[0] = '\0';
        job_free(j);
        return sifa_error_set(err, SIFA_EINTERNAL, "export_io", "无法创建临时文件");
    }
    close(fd); /* reserved (mode 0600); the writer reopens it by name */
    if (sifa_req_defer_work(req, export_run, export_written, j) < 0) {
        job_free(j);
        return sifa_error_set(err, SIFA_EUNAVAILABLE, "busy", "后台任务队列已满,请稍后重试");
    }
    return 0;
}
