/* store.c — module records in the database: schema sync, create, read, update, transitions,
 * soft delete, history, numbering, deadlines and lists with filters and Chinese full-text search.
 * Layer: record. SQL text is assembled only from names the model loader validated
 * ([a-z][a-z0-9_]*, re-checked here before use) and fixed keywords; every value is bound.
 * The search index DDL (FTS5 with the trigram tokenizer) is SQLite's; with PostgreSQL it becomes a
 * pg_trgm index behind the db interface — the one engine-specific piece left in this file.
 * Invariants: a record's version increases by one with every change and history holds one row
 * per version; d_<deadline>_due always reflects the record's current values; the search index
 * row of a record is rewritten in the same transaction as the record. */
#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "check/check.h"
#include "record/internal.h"
#include "record/record.h"

static const char *storage_sql(enum storage st)
{
    return st == ST_INTEGER ? "INTEGER" : st == ST_REAL ? "REAL" : "TEXT";
}

static bool module_has_search(const struct sifa_module *m)
{
    for (size_t i = 0; i < m->nfields; i++) {
        if (m->fields[i].searchable)
            return true;
        for (size_t k = 0; k < m->fields[i].nsub; k++)
            if (m->fields[i].sub[k].searchable)
                return true;
    }
    return false;
}

static bool field_personal_indexed(const struct sifa_field *f)
{
    return f->personal && (f->type == SIFA_FIELD_ID_NUMBER || f->type == SIFA_FIELD_PHONE ||
                           f->type == SIFA_FIELD_TEXT || f->type == SIFA_FIELD_PERSON);
}

static void iso_time(int64_t t, char out[32])
{
    sifa_utc_text(t, out);
}

static int32_t china_date(int64_t t)
{
    time_t tt = (time_t)(t + SIFA_CHECK_CHINA_UTC_OFFSET);
    struct tm tm;
    gmtime_r(&tt, &tm);
    return (int32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

static void date_text(int32_t ymd, char out[11])
{
    int y = (int)(ymd / 10000) % 10000, mo = (int)(ymd / 100 % 100) % 100, d = (int)(ymd % 100);
    snprintf(out, 11, "%04d-%02d-%02d", y < 0 ? 0 : y, mo < 0 ? 0 : mo, d < 0 ? 0 : d);
}

/* ---------- schema sync ---------- */

static int exec_sql(struct sifa_db *db, struct sql *s, struct sifa_error *err)
{
    return sifa_db_exec(db, s->buf, err);
}

static int registry_columns(struct sifa_db *db, const char *module, json_t **ret, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "SELECT name, type FROM module_columns WHERE module = ?", &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, module, -1);
    json_t *cols = json_object();
    while ((rc = sifa_db_step(st, err)) == SIFA_DB_ROW)
        json_object_set_new(cols, sifa_db_column_text(st, 0), json_string(sifa_db_column_text(st, 1)));
    sifa_db_stmt_done(st);
    if (rc < 0) {
        json_decref(cols);
        return rc;
    }
    *ret = cols;
    return 0;
}

static int registry_set(struct sifa_db *db, const char *module, const char *name, const char *type,
                        struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db,
                             "INSERT INTO module_columns (module, name, type) VALUES (?, ?, ?) "
                             "ON CONFLICT (module, name) DO UPDATE SET type = excluded.type",
                             &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, module, -1);
    sifa_db_bind_text(st, 2, name, -1);
    sifa_db_bind_text(st, 3, type, -1);
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}


static int registry_delete(struct sifa_db *db, const char *module, const char *name, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, "DELETE FROM module_columns WHERE module = ? AND name = ?", &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, module, -1);
    sifa_db_bind_text(st, 2, name, -1);
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}

static int count_sql(struct sifa_db *db, const char *sql, const char *bind, int64_t *ret, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, sql, &st, err);
    if (rc < 0)
        return rc;
    if (bind)
        sifa_db_bind_text(st, 1, bind, -1);
    rc = sifa_db_step(st, err);
    if (rc == SIFA_DB_ROW)
        *ret = sifa_db_column_int64(st, 0);
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}

static char *search_fields_signature(const struct sifa_module *m)
{
    struct sql s = {0};
    sifa_sql_add(&s, "%s", "");
    for (size_t i = 0; i < m->nfields; i++) {
        if (m->fields[i].searchable)
            sifa_sql_add(&s, "%s,", m->fields[i].code);
        for (size_t k = 0; k < m->fields[i].nsub; k++)
            if (m->fields[i].sub[k].searchable)
                sifa_sql_add(&s, "%s.%s,", m->fields[i].code, m->fields[i].sub[k].code);
    }
    return s.buf;
}

static int fts_rebuild(struct sifa_db *db, const struct sifa_module *m, struct sifa_error *err);

/* The name of a module's search index (see sifa_db_search_sql). */
static const char *search_index(const struct sifa_module *m, char *buf, size_t size)
{
    snprintf(buf, size, "m_%s_fts", sifa_rec_name_ok(m->code));
    return buf;
}

static int create_module_table(struct sifa_db *db, const struct sifa_module *m, struct sifa_error *err)
{
    struct sql s = {0};
    const char *code = sifa_rec_name_ok(m->code);
    sifa_sql_add(&s,
            "CREATE TABLE m_%s (id %s, version INTEGER NOT NULL, state TEXT NOT NULL, org TEXT, "
            "created_at TEXT NOT NULL, created_by TEXT, updated_at TEXT NOT NULL, updated_by TEXT, deleted_at TEXT, "
            "deleted_by TEXT",
            code, sifa_db_sql_auto_id(db));
    for (size_t i = 0; i < m->nfields; i++)
        sifa_sql_add(&s, ", f_%s %s", sifa_rec_name_ok(m->fields[i].code), storage_sql(sifa_rec_field_storage(&m->fields[i])));
    for (size_t i = 0; i < m->ndeadlines; i++)
        sifa_sql_add(&s, ", d_%s_due TEXT", sifa_rec_name_ok(m->deadlines[i].code));
    for (size_t i = 0; i < m->nfields; i++)
        if (field_personal_indexed(&m->fields[i]))
            sifa_sql_add(&s, ", h_%s TEXT", sifa_rec_name_ok(m->fields[i].code));
    sifa_sql_add(&s, ");\nCREATE INDEX m_%s_state ON m_%s (state);\nCREATE INDEX m_%s_org ON m_%s (org);\n", code, code,
            code, code);
    int rc = exec_sql(db, &s, err);
    sifa_sql_release(&s);
    if (rc < 0)
        return rc;
    rc = registry_set(db, m->code, "@table", "v1", err);
    for (size_t i = 0; rc >= 0 && i < m->nfields; i++)
        rc = registry_set(db, m->code, m->fields[i].code, sifa_field_type_name(m->fields[i].type), err);
    for (size_t i = 0; rc >= 0 && i < m->ndeadlines; i++) {
        char key[80];
        snprintf(key, sizeof(key), "@deadline.%s", m->deadlines[i].code);
        rc = registry_set(db, m->code, key, "deadline", err);
    }
    for (size_t i = 0; rc >= 0 && i < m->nfields; i++) {
        char key[80];
        snprintf(key, sizeof(key), "@hash.%s", m->fields[i].code);
        if (field_personal_indexed(&m->fields[i]))
            rc = registry_set(db, m->code, key, "blind_index", err);
    }
    return rc;
}

static int add_indexes(struct sifa_db *db, const struct sifa_module *m, struct sifa_error *err)
{
    struct sql s = {0};
    const char *code = sifa_rec_name_ok(m->code);
    for (size_t i = 0; i < m->ndeadlines; i++)
        sifa_sql_add(&s, "CREATE INDEX IF NOT EXISTS m_%s_d_%s ON m_%s (d_%s_due);\n", code, sifa_rec_name_ok(m->deadlines[i].code),
                code, m->deadlines[i].code);
    if (m->numbering != NULL)
        sifa_sql_add(&s, "CREATE UNIQUE INDEX IF NOT EXISTS m_%s_number ON m_%s (f_%s) WHERE f_%s IS NOT NULL;\n", code,
                code, sifa_rec_name_ok(m->numbering->field->code), m->numbering->field->code);
    for (size_t i = 0; i < m->nfields; i++) {
        enum sifa_field_type t = m->fields[i].type;
        if (field_personal_indexed(&m->fields[i]))
            sifa_sql_add(&s, "CREATE INDEX IF NOT EXISTS m_%s_h_%s ON m_%s (h_%s);\n", code, sifa_rec_name_ok(m->fields[i].code),
                    code, m->fields[i].code);
        else if (t == SIFA_FIELD_DATE || t == SIFA_FIELD_ENUM || t == SIFA_FIELD_REF || t == SIFA_FIELD_ORG)
            sifa_sql_add(&s, "CREATE INDEX IF NOT EXISTS m_%s_f_%s ON m_%s (f_%s);\n", code, sifa_rec_name_ok(m->fields[i].code),
                    code, m->fields[i].code);
    }
    int rc = s.buf ? exec_sql(db, &s, err) : 0;
    sifa_sql_release(&s);
    return rc;
}

static int sync_module(struct sifa_db *db, const struct sifa_module *m, json_t *changes, json_t *refusals,
                       struct sifa_error *err)
{
    json_t *cols = NULL;
    int rc = registry_columns(db, m->code, &cols, err);
    if (rc < 0)
        return rc;
    const char *code = sifa_rec_name_ok(m->code);
    if (json_object_get(cols, "@table") == NULL) {
        json_decref(cols);
        rc = create_module_table(db, m, err);
        if (rc >= 0)
            json_array_append_new(changes, json_pack("{s:s,s:s}", "module", m->code, "change", "create_table"));
        if (rc >= 0 && (rc = add_indexes(db, m, err)) >= 0 && module_has_search(m)) {
            char ddl[256], index[SIFA_MODEL_CODE_MAX + 8];
            if ((rc = sifa_db_search_sql(db, SIFA_DB_SEARCH_CREATE, search_index(m, index, sizeof(index)), NULL, ddl,
                                         sizeof(ddl), err)) >= 0)
                rc = sifa_db_exec(db, ddl, err);
            char *sig = search_fields_signature(m);
            if (rc >= 0)
                rc = registry_set(db, m->code, "@search", sig, err);
            free(sig);
        }
        return rc;
    }
    char sql[512];
    /* Fields removed or retyped. */
    const char *name;
    json_t *type;
    void *iter_tmp;
    json_object_foreach_safe(cols, iter_tmp, name, type)
    {
        if (name[0] == '@')
            continue;
        const struct sifa_field *f = sifa_module_field(m, name);
        if (f != NULL && strcmp(sifa_field_type_name(f->type), json_string_value(type)) == 0)
            continue;
        int64_t used = 0;
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM m_%s WHERE f_%s IS NOT NULL", code, sifa_rec_name_ok(name));
        if ((rc = count_sql(db, sql, NULL, &used, err)) < 0)
            goto out;
        if (used > 0) {
            json_array_append_new(
                refusals,
                json_pack("{s:s,s:s,s:s,s:I,s:s}", "module", m->code, "field", name, "change",
                          f == NULL ? "remove_field" : "change_type", "records", (json_int_t)used, "message",
                          f == NULL ? "定义中删除了仍有数据的字段" : "定义中改变了仍有数据的字段类型"));
            continue;
        }
        /* The column is empty: drop it (with its indexes); a retyped field is added back below
         * with its new storage type. */
        {
            struct sql s = {0};
            sifa_sql_add(&s, "DROP INDEX IF EXISTS m_%s_f_%s;\nDROP INDEX IF EXISTS m_%s_number;\n"
                        "ALTER TABLE m_%s DROP COLUMN f_%s;",
                    code, sifa_rec_name_ok(name), code, code, name);
            rc = exec_sql(db, &s, err);
            sifa_sql_release(&s);
        }
        if (rc >= 0)
            rc = registry_delete(db, m->code, name, err);
        json_array_append_new(changes, json_pack("{s:s,s:s,s:s}", "module", m->code, "field", name, "change",
                                                 f == NULL ? "drop_empty_field" : "retype_empty_field"));
        if (rc < 0)
            goto out;
        json_object_del(cols, name);
    }
    /* Fields added. */
    for (size_t i = 0; i < m->nfields; i++) {
        const struct sifa_field *f = &m->fields[i];
        if (json_object_get(cols, f->code) != NULL)
            continue;
        struct sql s = {0};
        sifa_sql_add(&s, "ALTER TABLE m_%s ADD COLUMN f_%s %s", code, sifa_rec_name_ok(f->code), storage_sql(sifa_rec_field_storage(f)));
        rc = exec_sql(db, &s, err);
        sifa_sql_release(&s);
        if (rc < 0 || (rc = registry_set(db, m->code, f->code, sifa_field_type_name(f->type), err)) < 0)
            goto out;
        json_array_append_new(changes, json_pack("{s:s,s:s,s:s}", "module", m->code, "field", f->code, "change",
                                                 "add_field"));
    }
    /* Deadlines added. */
    for (size_t i = 0; i < m->ndeadlines; i++) {
        char key[80];
        snprintf(key, sizeof(key), "@deadline.%s", m->deadlines[i].code);
        if (json_object_get(cols, key) != NULL)
            continue;
        {
            struct sql s = {0};
            sifa_sql_add(&s, "ALTER TABLE m_%s ADD COLUMN d_%s_due TEXT", code, sifa_rec_name_ok(m->deadlines[i].code));
            rc = exec_sql(db, &s, err);
            sifa_sql_release(&s);
            if (rc < 0)
                goto out;
        }
        if ((rc = registry_set(db, m->code, key, "deadline", err)) < 0)
            goto out;
    }
    /* Blind-index columns of personal fields. */
    for (size_t i = 0; i < m->nfields; i++) {
        char key[80];
        snprintf(key, sizeof(key), "@hash.%s", m->fields[i].code);
        if (!field_personal_indexed(&m->fields[i]) || json_object_get(cols, key) != NULL)
            continue;
        struct sql s = {0};
        sifa_sql_add(&s, "ALTER TABLE m_%s ADD COLUMN h_%s TEXT", code, sifa_rec_name_ok(m->fields[i].code));
        rc = exec_sql(db, &s, err);
        sifa_sql_release(&s);
        if (rc < 0 || (rc = registry_set(db, m->code, key, "blind_index", err)) < 0)
            goto out;
    }
    /* States still used by records must still exist. */
    {
        struct sifa_db_stmt *st;
        snprintf(sql, sizeof(sql), "SELECT state, COUNT(*) FROM m_%s GROUP BY state", code);
        if ((rc = sifa_db_prepare(db, sql, &st, err)) < 0)
            goto out;
        while ((rc = sifa_db_step(st, err)) == SIFA_DB_ROW) {
            const char *state = sifa_db_column_text(st, 0);
            if (sifa_module_state(m, state) == NULL)
                json_array_append_new(refusals, json_pack("{s:s,s:s,s:s,s:I,s:s}", "module", m->code, "state", state,
                                                          "change", "remove_state", "records",
                                                          (json_int_t)sifa_db_column_int64(st, 1), "message",
                                                          "定义中删除了仍有记录处于其中的状态"));
        }
        sifa_db_stmt_done(st);
        if (rc < 0)
            goto out;
    }
    if ((rc = add_indexes(db, m, err)) < 0)
        goto out;
    /* Search index follows the searchable fields. */
    {
        char *sig = search_fields_signature(m);
        json_t *old = json_object_get(cols, "@search");
        bool want = module_has_search(m);
        if (want && (old == NULL || strcmp(json_string_value(old), sig) != 0)) {
            char ddl[256], index[SIFA_MODEL_CODE_MAX + 8];
            if ((rc = sifa_db_search_sql(db, SIFA_DB_SEARCH_CREATE_IF_MISSING, search_index(m, index, sizeof(index)),
                                         NULL, ddl, sizeof(ddl), err)) >= 0)
                rc = sifa_db_exec(db, ddl, err);
            if (rc >= 0)
                rc = fts_rebuild(db, m, err);
            if (rc >= 0)
                rc = registry_set(db, m->code, "@search", sig, err);
            json_array_append_new(changes, json_pack("{s:s,s:s}", "module", m->code, "change", "rebuild_search"));
        }
        free(sig);
    }
out:
    json_decref(cols);
    return rc;
}

static int files_backfill(struct sifa_db *db, const struct sifa_model *model, struct sifa_error *err);

int sifa_record_sync_schema(struct sifa_db *db, const struct sifa_model *model, json_t **ret_changes,
                            struct sifa_error *err)
{
    json_t *changes = json_array(), *refusals = json_array();
    int rc = 0;
    for (size_t i = 0; rc >= 0 && i < model->nmodules; i++)
        rc = sync_module(db, &model->modules[i], changes, refusals, err);
    if (rc >= 0 && json_array_size(refusals) == 0)
        rc = files_backfill(db, model, err);
    if (rc >= 0 && json_array_size(refusals) > 0) {
        json_t *first = json_array_get(refusals, 0);
        rc = sifa_error_set_details(
            err, SIFA_ECONFLICT, "destructive_change", json_incref(refusals),
            "业务定义的修改会丢失数据,已拒绝(共 %zu 处,第一处:模块 %s %s)。请先迁移或清空相关数据,"
            "或恢复原定义;手工处理方法见 docs/schema-changes.md",
            json_array_size(refusals), json_string_value(json_object_get(first, "module")),
            json_string_value(json_object_get(first, "message")));
    }
    json_decref(refusals);
    if (rc >= 0 && ret_changes != NULL)
        *ret_changes = changes;
    else
        json_decref(changes);
    return rc < 0 ? rc : 0;
}

/* ---------- rows to JSON ---------- */

static void select_columns(struct sql *s, const struct sifa_module *m)
{
    sifa_sql_add(s, "SELECT id, version, state, org, created_at, created_by, updated_at, updated_by");
    for (size_t i = 0; i < m->nfields; i++)
        sifa_sql_add(s, ", f_%s", sifa_rec_name_ok(m->fields[i].code));
    for (size_t i = 0; i < m->ndeadlines; i++)
        sifa_sql_add(s, ", d_%s_due", sifa_rec_name_ok(m->deadlines[i].code));
    sifa_sql_add(s, " FROM m_%s", sifa_rec_name_ok(m->code));
}

enum { COL_FIELDS = 8 };

static json_t *column_json(struct sifa_db_stmt *st, int col)
{
    enum sifa_db_type t = sifa_db_column_type(st, col);
    if (t == SIFA_DB_NULL)
        return json_null();
    if (t == SIFA_DB_INTEGER)
        return json_integer(sifa_db_column_int64(st, col));
    if (t == SIFA_DB_FLOAT)
        return json_real(sifa_db_column_double(st, col));
    return json_string(sifa_db_column_text(st, col));
}

static json_t *deadline_json(const struct sifa_record_ctx *rc, const struct sifa_deadline *d, const char *due,
                             const char *state)
{
    bool met = false;
    for (size_t k = 0; k < d->nstop_states; k++)
        met = met || strcmp(d->stop_states[k]->code, state) == 0;
    json_t *j = json_pack("{s:s,s:s,s:b}", "code", d->code, "name", d->name, "met", met);
    json_object_set_new(j, "due", due ? json_string(due) : json_null());
    if (due == NULL || met) {
        json_object_set_new(j, "overdue", json_false());
        return j;
    }
    if (d->unit == SIFA_DEADLINE_HOURS) {
        int64_t t;
        if (sifa_check_datetime(due, strlen(due), &t, NULL) == 0) {
            json_object_set_new(j, "overdue", json_boolean(rc->now > t));
            json_object_set_new(j, "hours_left", json_integer((t - rc->now) / 3600));
        }
    } else {
        int32_t ymd;
        if (sifa_check_date(due, strlen(due), &ymd, NULL) == 0) {
            int64_t today = sifa_check_date_to_days(china_date(rc->now));
            int64_t left = sifa_check_date_to_days(ymd) - today;
            json_object_set_new(j, "overdue", json_boolean(left < 0));
            json_object_set_new(j, "days_left", json_integer(left));
        }
    }
    return j;
}

static json_t *record_from_row(const struct sifa_record_ctx *rc, const struct sifa_module *m, struct sifa_db_stmt *st)
{
    json_t *r = json_object();
    json_object_set_new(r, "id", json_integer(sifa_db_column_int64(st, 0)));
    json_object_set_new(r, "version", json_integer(sifa_db_column_int64(st, 1)));
    const char *state = sifa_db_column_text(st, 2);
    json_object_set_new(r, "state", json_string(state));
    const struct sifa_state *sd = sifa_module_state(m, state);
    json_object_set_new(r, "state_name", sd ? json_string(sd->name) : json_null());
    json_object_set_new(r, "org", column_json(st, 3));
    json_object_set_new(r, "created_at", column_json(st, 4));
    json_object_set_new(r, "created_by", column_json(st, 5));
    json_object_set_new(r, "updated_at", column_json(st, 6));
    json_object_set_new(r, "updated_by", column_json(st, 7));
    for (size_t i = 0; i < m->nfields; i++) {
        const struct sifa_field *f = &m->fields[i];
        int col = COL_FIELDS + (int)i;
        json_t *v;
        if (sifa_db_column_type(st, col) == SIFA_DB_NULL)
            v = json_null();
        else if (sifa_rec_field_storage(f) == ST_JSON)
            v = json_loads(sifa_db_column_text(st, col), JSON_DECODE_ANY, NULL);
        else if (f->type == SIFA_FIELD_BOOL)
            v = json_boolean(sifa_db_column_int64(st, col) != 0);
        else
            v = column_json(st, col);
        json_object_set_new(r, f->code, v ? v : json_null());
    }
    json_t *deadlines = json_array();
    for (size_t i = 0; i < m->ndeadlines; i++) {
        int col = COL_FIELDS + (int)m->nfields + (int)i;
        json_array_append_new(deadlines, deadline_json(rc, &m->deadlines[i], sifa_db_column_text(st, col), state));
    }
    json_object_set_new(r, "deadlines", deadlines);
    return r;
}

static int reveal_record(const struct sifa_record_ctx *rc, const struct sifa_module *m, json_t *record,
                         struct sifa_error *err);

/* ---------- personal data ---------- */

/* v (not null) → a JSON string holding the encrypted JSON text of v. */
static int seal_value(const struct sifa_record_ctx *rc, json_t *v, json_t **ret, struct sifa_error *err)
{
    char *plain = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (plain == NULL)
        return sifa_error_set(err, SIFA_EINTERNAL, "seal", "无法序列化个人信息");
    char *text = NULL;
    int r = rc->crypto->encrypt(rc->crypto->arg, plain, strlen(plain), &text, err);
    sodium_memzero(plain, strlen(plain));
    free(plain);
    if (r < 0)
        return r;
    *ret = json_string(text);
    free(text);
    return 0;
}

static bool is_sealed(json_t *v)
{
    return json_is_string(v) && strncmp(json_string_value(v), "pd1:", 4) == 0;
}

static int open_value(const struct sifa_record_ctx *rc, json_t *v, json_t **ret, struct sifa_error *err)
{
    char *plain = NULL;
    size_t len = 0;
    int r = rc->crypto->decrypt(rc->crypto->arg, json_string_value(v), &plain, &len, err);
    if (r < 0)
        return r;
    *ret = json_loadb(plain, len, JSON_DECODE_ANY, NULL);
    sodium_memzero(plain, len);
    free(plain);
    return *ret ? 0 : sifa_error_set(err, SIFA_EINTERNAL, "personal_corrupt", "个人信息解密后格式有误");
}

static json_t *mask_string(const struct sifa_record_ctx *rc, enum sifa_mask_kind kind, json_t *v)
{
    if (!json_is_string(v))
        return json_string("***");
    char out[512];
    if (rc->crypto == NULL ||
        rc->crypto->mask(rc->crypto->arg, kind, json_string_value(v), json_string_length(v), out, sizeof(out)) < 0)
        return json_string("***");
    return json_string(out);
}

/* The masked form of a revealed value of field f (new reference). */
static json_t *mask_value(const struct sifa_record_ctx *rc, const struct sifa_field *f, json_t *v)
{
    switch (f->type) {
    case SIFA_FIELD_ID_NUMBER:
        return mask_string(rc, SIFA_MASK_ID_NUMBER, v);
    case SIFA_FIELD_PHONE:
        return mask_string(rc, SIFA_MASK_PHONE, v);
    case SIFA_FIELD_TEXT:
        return mask_string(rc, SIFA_MASK_NAME, v);
    case SIFA_FIELD_LONGTEXT:
        return mask_string(rc, SIFA_MASK_TEXT, v);
    case SIFA_FIELD_PERSON: {
        json_t *out = json_object();
        json_t *n = json_object_get(v, "name"), *id = json_object_get(v, "id_number"), *ph = json_object_get(v, "phone");
        if (n)
            json_object_set_new(out, "name", mask_string(rc, SIFA_MASK_NAME, n));
        if (id)
            json_object_set_new(out, "id_number", mask_string(rc, SIFA_MASK_ID_NUMBER, id));
        if (ph)
            json_object_set_new(out, "phone", mask_string(rc, SIFA_MASK_PHONE, ph));
        return out;
    }
    default:
        return json_string("***");
    }
}

/* A copy of record with every personal value sealed (top-level fields and group members). */
static int protect_record(const struct sifa_record_ctx *rc, const struct sifa_module *m, json_t *record,
                          json_t **ret, struct sifa_error *err)
{
    json_t *out = json_deep_copy(record);
    int r = 0;
    for (size_t i = 0; rc->crypto != NULL && i < m->nfields && r >= 0; i++) {
        const struct sifa_field *f = &m->fields[i];
        json_t *v = json_object_get(out, f->code);
        if (v == NULL || json_is_null(v) || !sifa_field_has_personal(f))
            continue;
        if (f->personal) {
            json_t *sealed;
            if ((r = seal_value(rc, v, &sealed, err)) >= 0)
                json_object_set_new(out, f->code, sealed);
            continue;
        }
        size_t idx;
        json_t *entry;
        json_array_foreach(v, idx, entry)
        {
            for (size_t k = 0; k < f->nsub && r >= 0; k++) {
                json_t *sv = json_object_get(entry, f->sub[k].code);
                json_t *sealed;
                if (f->sub[k].personal && sv != NULL && !json_is_null(sv) && (r = seal_value(rc, sv, &sealed, err)) >= 0)
                    json_object_set_new(entry, f->sub[k].code, sealed);
            }
        }
    }
    if (r < 0) {
        json_decref(out);
        return r;
    }
    *ret = out;
    return 0;
}

/* Opens and, unless rc->unmask, masks one stored value of f in place in obj[key]. */
static int reveal_member(const struct sifa_record_ctx *rc, const struct sifa_field *f, json_t *obj, const char *key,
                         struct sifa_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return 0;
    json_t *plain = NULL;
    if (is_sealed(v)) {
        if (rc->crypto == NULL) {
            json_object_set_new(obj, key, json_string("***"));
            return 0;
        }
        int r = open_value(rc, v, &plain, err);
        if (r < 0)
            return r;
    } else {
        plain = json_incref(v);
    }
    if (rc->unmask)
        json_object_set_new(obj, key, plain);
    else {
        json_object_set_new(obj, key, mask_value(rc, f, plain));
        json_decref(plain);
    }
    return 0;
}

static int reveal_record(const struct sifa_record_ctx *rc, const struct sifa_module *m, json_t *record,
                         struct sifa_error *err)
{
    int r = 0;
    for (size_t i = 0; i < m->nfields && r >= 0; i++) {
        const struct sifa_field *f = &m->fields[i];
        if (!sifa_field_has_personal(f))
            continue;
        if (f->personal) {
            r = reveal_member(rc, f, record, f->code, err);
            continue;
        }
        json_t *v = json_object_get(record, f->code);
        size_t idx;
        json_t *entry;
        json_array_foreach(v, idx, entry)
        {
            for (size_t k = 0; k < f->nsub && r >= 0; k++)
                if (f->sub[k].personal)
                    r = reveal_member(rc, &f->sub[k], entry, f->sub[k].code, err);
        }
    }
    return r;
}

/* The text a personal field is found by: id numbers upper-case, phones as 11 digits, a person by
 * the identity number (or the name when there is none). NULL when there is nothing to index. */
static char *index_text(const struct sifa_field *f, json_t *v)
{
    if (f->type == SIFA_FIELD_PERSON) {
        json_t *id = json_object_get(v, "id_number");
        v = json_is_string(id) ? id : json_object_get(v, "name");
    }
    if (!json_is_string(v))
        return NULL;
    char *s = sifa_xstrdup(json_string_value(v));
    if (f->type == SIFA_FIELD_ID_NUMBER || f->type == SIFA_FIELD_PERSON)
        for (char *p = s; *p; p++)
            if (*p == 'x')
                *p = 'X';
    if (f->type == SIFA_FIELD_PHONE) {
        char digits[12];
        if (sifa_check_phone(s, strlen(s), digits, NULL) == 0) {
            free(s);
            s = sifa_xstrdup(digits);
        }
    }
    return s;
}

static void blind_index_of(const struct sifa_record_ctx *rc, const struct sifa_module *m, const struct sifa_field *f,
                           const char *text, char out[33])
{
    char scope[2 * SIFA_MODEL_CODE_MAX + 2];
    snprintf(scope, sizeof(scope), "%s.%s", m->code, f->code);
    rc->crypto->blind_index(rc->crypto->arg, scope, text, strlen(text), out);
}

/* ---------- row scope ---------- */

#define SCOPE_PARAMS_MAX 64

const struct sifa_record_scope sifa_record_scope_all = {.all = true};

/* Appends " AND (…)" restricting rows to the scope and collects its parameters (borrowed
 * strings) into params. Nothing when the scope is all; no row at all when it is NULL. */
static int scope_sql(const struct sifa_record_scope *sc, struct sql *where, const char **params, size_t *nparams,
                     size_t max, struct sifa_error *err)
{
    if (sc == NULL) {
        sifa_sql_add(where, " AND 0 = 1");
        return 0;
    }
    if (sc->all)
        return 0;
    if (sc->norgs + sc->nsubtrees + (sc->creator != NULL) + *nparams > max)
        return sifa_error_set(err, SIFA_ELIMIT, "scope_too_large", "数据范围包含的机构过多");
    bool any = false;
    sifa_sql_add(where, " AND (");
    if (sc->norgs > 0) {
        sifa_sql_add(where, "org IN (");
        for (size_t i = 0; i < sc->norgs; i++) {
            sifa_sql_add(where, i ? ", ?" : "?");
            params[(*nparams)++] = sc->orgs[i];
        }
        sifa_sql_add(where, ")");
        any = true;
    }
    if (sc->nsubtrees > 0) {
        /* A subtree is a path prefix: portable SQL, no recursive query, uses orgs.path. */
        sifa_sql_add(where, "%sorg IN (SELECT o.code FROM orgs o JOIN orgs s ON substr(o.path, 1, length(s.path)) = s.path "
                       "WHERE s.code IN (",
                any ? " OR " : "");
        for (size_t i = 0; i < sc->nsubtrees; i++) {
            sifa_sql_add(where, i ? ", ?" : "?");
            params[(*nparams)++] = sc->subtrees[i];
        }
        sifa_sql_add(where, "))");
        any = true;
    }
    if (sc->creator != NULL) {
        sifa_sql_add(where, "%screated_by = ?", any ? " OR " : "");
        params[(*nparams)++] = sc->creator;
        any = true;
    }
    if (!any)
        sifa_sql_add(where, "0 = 1");
    sifa_sql_add(where, ")");
    return 0;
}

/* Is org one of subtrees[] or below one of them? 1 yes, 0 no, negative on error. */
static int org_in_subtrees(struct sifa_db *db, const char *const *subtrees, size_t n, const char *org,
                           struct sifa_error *err)
{
    if (n == 0)
        return 0;
    struct sql s = {0};
    const char *params[SCOPE_PARAMS_MAX];
    size_t np = 0;
    struct sifa_record_scope sub = {.nsubtrees = n, .subtrees = subtrees};
    sifa_sql_add(&s, "SELECT COUNT(*) FROM (SELECT ? AS org) x WHERE 1 = 1");
    int r = scope_sql(&sub, &s, params, &np, SCOPE_PARAMS_MAX, err);
    struct sifa_db_stmt *st;
    if (r >= 0)
        r = sifa_db_prepare(db, s.buf, &st, err);
    sifa_sql_release(&s);
    if (r < 0)
        return r;
    sifa_db_bind_text(st, 1, org, -1);
    for (size_t i = 0; i < np; i++)
        sifa_db_bind_text(st, (int)i + 2, params[i], -1);
    r = sifa_db_step(st, err);
    int64_t count = r == SIFA_DB_ROW ? sifa_db_column_int64(st, 0) : 0;
    sifa_db_stmt_done(st);
    return r < 0 ? r : count > 0;
}

/* May a record be put in org (created there, or moved there) within the scope? The rule and its
 * reasons are in record.h beside struct sifa_record_scope: the org-based grants, or the self
 * grant bounded by the user's own subtree. 1 yes, 0 no, negative on error. */
static int scope_allows_org(struct sifa_db *db, const struct sifa_record_scope *sc, const char *org,
                            struct sifa_error *err)
{
    if (sc == NULL)
        return 0;
    if (sc->all)
        return 1;
    if (org == NULL)
        return 0;
    for (size_t i = 0; i < sc->norgs; i++)
        if (strcmp(sc->orgs[i], org) == 0)
            return 1;
    int r = org_in_subtrees(db, sc->subtrees, sc->nsubtrees, org, err);
    if (r != 0)
        return r;
    if (sc->creator != NULL && sc->creator_any_org)
        return 1;
    if (sc->creator != NULL && sc->creator_org != NULL) {
        const char *own[] = {sc->creator_org};
        return org_in_subtrees(db, own, 1, org, err);
    }
    return 0;
}

static int load_record(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m, int64_t id,
                       json_t **ret, struct sifa_error *err)
{
    struct sql s = {.buf = sifa_rec_module_sql(rc->model, m, SIFA_MODULE_SQL_SELECT, select_columns)};
    s.len = strlen(s.buf);
    s.cap = s.len + 1;
    sifa_sql_add(&s, " WHERE id = ? AND deleted_at IS NULL");
    const char *params[SCOPE_PARAMS_MAX];
    size_t np = 0;
    int r = scope_sql(rc->scope, &s, params, &np, SCOPE_PARAMS_MAX, err);
    struct sifa_db_stmt *st;
    if (r >= 0)
        r = sifa_db_prepare(db, s.buf, &st, err);
    sifa_sql_release(&s);
    if (r < 0)
        return r;
    sifa_db_bind_int64(st, 1, id);
    for (size_t i = 0; i < np; i++)
        sifa_db_bind_text(st, (int)i + 2, params[i], -1);
    r = sifa_db_step(st, err);
    json_t *rec = r == SIFA_DB_ROW ? record_from_row(rc, m, st) : NULL;
    sifa_db_stmt_done(st);
    if (r >= 0 && rec != NULL && (r = reveal_record(rc, m, rec, err)) >= 0) {
        *ret = rec;
        return 0;
    }
    json_decref(rec);
    if (r < 0)
        return r;
    if (r == SIFA_DB_DONE)
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "record_not_found", json_pack("{s:s,s:I}", "module", m->code,
                                                                                          "id", (json_int_t)id),
                                      "%s中不存在编号为 %lld 的记录", m->name, (long long)id);
    return 0;
}

int sifa_record_get(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *module, int64_t id,
                    json_t **ret_record, struct sifa_error *err)
{
    return load_record(db, rc, module, id, ret_record, err);
}

/* ---------- binding values ---------- */

static void bind_field(struct sifa_db_stmt *st, int idx, const struct sifa_field *f, json_t *v)
{
    if (v == NULL || json_is_null(v)) {
        sifa_db_bind_null(st, idx);
        return;
    }
    switch (sifa_rec_field_storage(f)) {
    case ST_INTEGER:
        sifa_db_bind_int64(st, idx, json_is_boolean(v) ? (json_is_true(v) ? 1 : 0) : json_integer_value(v));
        break;
    case ST_REAL:
        sifa_db_bind_double(st, idx, json_number_value(v));
        break;
    case ST_TEXT:
        sifa_db_bind_text(st, idx, json_string_value(v), (ssize_t)json_string_length(v));
        break;
    case ST_JSON: {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY); /* a sealed value is a JSON string */
        sifa_db_bind_text(st, idx, text ? text : "null", -1);
        free(text);
        break;
    }
    }
}

/* ---------- search index ---------- */

static void search_append(struct sql *body, json_t *v)
{
    if (json_is_string(v) && json_string_length(v) > 0)
        sifa_sql_add(body, "%s\n", json_string_value(v));
}

static char *search_body(const struct sifa_module *m, json_t *record)
{
    struct sql body = {0};
    sifa_sql_add(&body, "%s", "");
    for (size_t i = 0; i < m->nfields; i++) {
        const struct sifa_field *f = &m->fields[i];
        json_t *v = json_object_get(record, f->code);
        if (f->searchable && f->type != SIFA_FIELD_GROUP)
            search_append(&body, v);
        if (f->type == SIFA_FIELD_GROUP && json_is_array(v)) {
            size_t idx;
            json_t *entry;
            json_array_foreach(v, idx, entry)
            {
                for (size_t k = 0; k < f->nsub; k++)
                    if (f->sub[k].searchable)
                        search_append(&body, json_object_get(entry, f->sub[k].code));
            }
        }
    }
    return body.buf;
}

enum fts_mode { FTS_INSERT, FTS_REPLACE, FTS_REMOVE };

/* Queues the search-index change of one record (see sifa_record_flush_search). The latest change
 * of a record in a batch wins: the pending row is keyed by module and id (an upsert). */
static int fts_write(struct sifa_db *db, const struct sifa_module *m, int64_t id, json_t *record, enum fts_mode mode,
                     struct sifa_error *err)
{
    if (!module_has_search(m))
        return 0;
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db,
                             "INSERT INTO temp.sifa_search_pending (module, id, body, fresh) VALUES (?, ?, ?, ?) "
                             "ON CONFLICT (module, id) DO UPDATE SET body = excluded.body, fresh = excluded.fresh",
                             &st, err);
    if (rc < 0)
        return rc;
    char *body = mode == FTS_REMOVE ? NULL : search_body(m, record);
    sifa_db_bind_text(st, 1, m->code, -1);
    sifa_db_bind_int64(st, 2, id);
    if (body != NULL)
        sifa_db_bind_text(st, 3, body, -1);
    else
        sifa_db_bind_null(st, 3);
    sifa_db_bind_int64(st, 4, mode == FTS_INSERT);
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    free(body);
    return rc < 0 ? rc : 0;
}

int sifa_record_connection_init(struct sifa_db *db, struct sifa_error *err)
{
    int r = sifa_aggregate_connection_init(db, err);
    if (r < 0)
        return r;
    return sifa_db_exec(db,
                        "CREATE TEMP TABLE IF NOT EXISTS sifa_search_pending (module TEXT NOT NULL, id INTEGER NOT NULL, "
                        "body TEXT, fresh INTEGER NOT NULL, PRIMARY KEY (module, id))",
                        err);
}

static int exec_for_module(struct sifa_db *db, const char *sql, const char *module, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db, sql, &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_text(st, 1, module, -1);
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}

int sifa_record_flush_search(struct sifa_db *db, const struct sifa_model *model, struct sifa_error *err)
{
    int rc = sifa_record_flush_aggregates(db, model, err);
    if (rc < 0)
        return rc;
    /* Only the modules this batch touched: walking all of them prepared two statements per
     * searchable module per batch and pushed the writer's other statements out of the cache. */
    struct sifa_db_stmt *st;
    if ((rc = sifa_db_prepare(db, "SELECT DISTINCT module FROM temp.sifa_search_pending", &st, err)) < 0)
        return rc;
    const struct sifa_module **touched = sifa_xcalloc(model->nmodules ? model->nmodules : 1, sizeof(*touched));
    size_t ntouched = 0;
    while ((rc = sifa_db_step(st, err)) == SIFA_DB_ROW) {
        const struct sifa_module *m = sifa_model_module(model, sifa_db_column_text(st, 0));
        if (m != NULL && module_has_search(m) && ntouched < model->nmodules)
            touched[ntouched++] = m;
    }
    sifa_db_stmt_done(st);
    for (size_t i = 0; i < ntouched && rc >= 0; i++) {
        const struct sifa_module *m = touched[i];
        char sql[512], index[SIFA_MODEL_CODE_MAX + 8];
        search_index(m, index, sizeof(index));
        /* Rows written before this batch ("fresh" = 0) lose their old index entry first; a record
         * created in this batch has none (its later changes in the batch keep fresh = 0, and the
         * delete then finds nothing). */
        rc = sifa_db_search_sql(db, SIFA_DB_SEARCH_DELETE_SELECT, index,
                                "SELECT id FROM temp.sifa_search_pending WHERE module = ? AND fresh = 0", sql,
                                sizeof(sql), err);
        if (rc >= 0)
            rc = exec_for_module(db, sql, m->code, err);
        if (rc < 0)
            break;
        rc = sifa_db_search_sql(db, SIFA_DB_SEARCH_INSERT_SELECT, index,
                                "SELECT id, body FROM temp.sifa_search_pending WHERE module = ? AND body IS NOT NULL "
                                "ORDER BY id",
                                sql, sizeof(sql), err);
        if (rc >= 0)
            rc = exec_for_module(db, sql, m->code, err);
    }
    free(touched);
    if (rc >= 0 && ntouched > 0)
        rc = sifa_db_exec(db, "DELETE FROM temp.sifa_search_pending", err);
    return rc < 0 ? rc : 0;
}

int sifa_record_writer_on_open(struct sifa_db *db, void *model, struct sifa_error *err)
{
    (void)model;
    return sifa_record_connection_init(db, err);
}

int sifa_record_writer_before_commit(struct sifa_db *db, void *model, struct sifa_error *err)
{
    return model != NULL ? sifa_record_flush_search(db, model, err) : 0;
}

static int fts_rebuild(struct sifa_db *db, const struct sifa_module *m, struct sifa_error *err)
{
    char sql[512], index[SIFA_MODEL_CODE_MAX + 8];
    search_index(m, index, sizeof(index));
    int rc = sifa_db_search_sql(db, SIFA_DB_SEARCH_CLEAR, index, NULL, sql, sizeof(sql), err);
    if (rc >= 0)
        rc = sifa_db_exec(db, sql, err);
    if (rc < 0)
        return rc;
    struct sql s = {0};
    select_columns(&s, m);
    sifa_sql_add(&s, " WHERE deleted_at IS NULL");
    struct sifa_db_stmt *st;
    rc = sifa_db_prepare(db, s.buf, &st, err);
    sifa_sql_release(&s);
    if (rc < 0)
        return rc;
    struct sifa_record_ctx rc0 = {0};
    json_t *records = json_array();
    while ((rc = sifa_db_step(st, err)) == SIFA_DB_ROW)
        json_array_append_new(records, record_from_row(&rc0, m, st));
    sifa_db_stmt_done(st);
    if ((rc = sifa_db_search_sql(db, SIFA_DB_SEARCH_INSERT, index, NULL, sql, sizeof(sql), err)) < 0) {
        json_decref(records);
        return rc;
    }
    size_t i;
    json_t *r;
    json_array_foreach(records, i, r)
    {
        if (rc < 0)
            break;
        char *body = search_body(m, r);
        if ((rc = sifa_db_prepare(db, sql, &st, err)) >= 0) {
            sifa_db_bind_int64(st, 1, json_integer_value(json_object_get(r, "id")));
            sifa_db_bind_text(st, 2, body, -1);
            rc = sifa_db_step(st, err);
            sifa_db_stmt_done(st);
        }
        free(body);
    }
    json_decref(records);
    return rc < 0 ? rc : 0;
}

/* ---------- numbering and deadlines ---------- */

/* The number for seq under pattern ("({year})慈调字第{seq:05}号", "({year}){org_name}合审第{seq:04}号");
 * org_name is the record's unit (per_org numbering) or NULL; new string. */
static char *format_number(const char *pattern, int year, const char *org_name, int64_t seq)
{
    struct sql out = {0};
    sifa_sql_add(&out, "%s", "");
    for (const char *p = pattern; *p;) {
        if (strncmp(p, "{year}", 6) == 0) {
            sifa_sql_add(&out, "%d", year);
            p += 6;
        } else if (strncmp(p, "{org_name}", 10) == 0) {
            sifa_sql_add(&out, "%s", org_name ? org_name : "");
            p += 10;
        } else if (strncmp(p, "{seq", 4) == 0 && strchr(p, '}') != NULL) {
            const char *end = strchr(p, '}');
            int width = p[4] == ':' ? (int)strtol(p + 5, NULL, 10) : 0;
            sifa_sql_add(&out, "%0*lld", width, (long long)seq);
            p = end + 1;
        } else { /* the literal text up to the next placeholder, in one piece */
            const char *brace = strchr(p + 1, '{');
            size_t n = brace != NULL ? (size_t)(brace - p) : strlen(p);
            sifa_sql_add(&out, "%.*s", (int)n, p);
            p += n;
        }
    }
    return out.buf;
}

static int next_number(struct sifa_db *db, const struct sifa_module *m, json_t *record, const struct sifa_record_ctx *rc,
                       char **ret_number, struct sifa_error *err)
{
    const struct sifa_numbering *num = m->numbering;
    int year = china_date(rc->now) / 10000;
    if (num->year_field != NULL) {
        json_t *v = json_object_get(record, num->year_field->code);
        int32_t ymd;
        if (json_is_string(v) && json_string_length(v) >= 10 &&
            sifa_check_date(json_string_value(v), 10, &ymd, NULL) == 0)
            year = ymd / 10000;
    }
    const char *org = "";
    char *org_name = NULL;
    struct sifa_db_stmt *st;
    int r;
    if (num->per_org && m->org_field != NULL && json_is_string(json_object_get(record, m->org_field->code))) {
        org = json_string_value(json_object_get(record, m->org_field->code));
        if ((r = sifa_db_prepare(db, "SELECT name FROM orgs WHERE code = ?", &st, err)) < 0)
            return r;
        sifa_db_bind_text(st, 1, org, -1);
        if ((r = sifa_db_step(st, err)) == SIFA_DB_ROW)
            org_name = sifa_xstrdup(sifa_db_column_text(st, 0));
        sifa_db_stmt_done(st);
        if (r < 0)
            return r;
    }
    /* Two statements rather than `… RETURNING last`: see sifa_db_last_insert_id. Inside a
     * transaction (the writer's, an import's) no other create can come between them; outside one
     * another process could, and the unique index on the number with the retry in create_written
     * catches the clash, at the cost of a gap. */
    if ((r = sifa_db_prepare(db,
                             "INSERT INTO record_numbers (module, year, org, last) VALUES (?, ?, ?, 1) "
                             "ON CONFLICT (module, year, org) DO UPDATE SET last = record_numbers.last + 1",
                             &st, err)) < 0) {
        free(org_name);
        return r;
    }
    sifa_db_bind_text(st, 1, m->code, -1);
    sifa_db_bind_int64(st, 2, year);
    sifa_db_bind_text(st, 3, org, -1);
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    int64_t seq = 0;
    if (r >= 0 && (r = sifa_db_prepare(db, "SELECT last FROM record_numbers WHERE module = ? AND year = ? AND org = ?",
                                       &st, err)) >= 0) {
        sifa_db_bind_text(st, 1, m->code, -1);
        sifa_db_bind_int64(st, 2, year);
        sifa_db_bind_text(st, 3, org, -1);
        r = sifa_db_step(st, err);
        if (r == SIFA_DB_ROW)
            seq = sifa_db_column_int64(st, 0);
        else if (r >= 0)
            r = sifa_error_set(err, SIFA_EINTERNAL, "numbering", "编号计数器缺失（%s %d）", m->code, year);
        sifa_db_stmt_done(st);
    }
    if (r >= 0)
        *ret_number = format_number(num->pattern, year, org_name, seq);
    free(org_name);
    return r < 0 ? r : 0;
}

/* Is number already held by a record of m (deleted ones included, as the unique index counts)? */
static int number_taken(struct sifa_db *db, const struct sifa_module *m, const char *number, struct sifa_error *err)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM m_%s WHERE f_%s = ?", sifa_rec_name_ok(m->code),
             sifa_rec_name_ok(m->numbering->field->code));
    int64_t taken = 0;
    int r = count_sql(db, sql, number, &taken, err);
    return r < 0 ? r : taken > 0;
}

static int64_t int_member(json_t *record, const struct sifa_field *f)
{
    if (f == NULL)
        return 0;
    json_t *v = json_object_get(record, f->code);
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* Computes the due text of deadline d for record (new string, or NULL when the start is not set).
 * The clock's amount grows by the extension granted (capped) and by the time it stood still. */
static int deadline_due(const struct sifa_record_ctx *rc, const struct sifa_deadline *d, json_t *record,
                        char **ret_due, struct sifa_error *err)
{
    *ret_due = NULL;
    json_t *start = json_object_get(record, d->start_field->code);
    if (!json_is_string(start))
        return 0;
    int64_t ext = int_member(record, d->extension_field);
    if (ext < 0)
        ext = 0;
    if (d->max_extension > 0 && ext > d->max_extension)
        ext = d->max_extension;
    int64_t suspended = int_member(record, d->suspended_field);
    if (suspended < 0)
        suspended = 0;
    int64_t amount = d->amount + ext + suspended;
    if (amount > 36500)
        amount = 36500;
    const char *s = json_string_value(start);
    if (d->unit == SIFA_DEADLINE_HOURS) {
        int64_t t;
        if (sifa_check_datetime(s, strlen(s), &t, NULL) < 0) {
            int32_t ymd;
            if (sifa_check_date(s, strlen(s), &ymd, NULL) < 0)
                return 0;
            t = sifa_check_date_to_days(ymd) * 86400 - SIFA_CHECK_CHINA_UTC_OFFSET;
        }
        char buf[32];
        iso_time(t + amount * 3600, buf);
        *ret_due = sifa_xstrdup(buf);
        return 0;
    }
    int32_t ymd;
    if (sifa_check_date(s, strlen(s) > 10 ? 10 : strlen(s), &ymd, NULL) < 0) {
        int64_t t;
        if (sifa_check_datetime(s, strlen(s), &t, NULL) < 0)
            return 0;
        ymd = china_date(t);
    }
    int32_t due;
    int r;
    if (d->unit == SIFA_DEADLINE_WORKING_DAYS) {
        if (rc->calendar == NULL)
            return sifa_error_set(err, SIFA_EUNAVAILABLE, "calendar_missing", "没有节假日数据,无法计算工作日期限 %s",
                                  d->name);
        r = sifa_calendar_add_working_days(rc->calendar, ymd, (int32_t)amount, &due, err);
    } else {
        r = sifa_calendar_add_natural_days(rc->calendar, ymd, (int32_t)amount, 0, &due, err);
    }
    if (r < 0)
        return r;
    char buf[11];
    date_text(due, buf);
    *ret_due = sifa_xstrdup(buf);
    return 0;
}

/* ---------- writes ---------- */

static int history_insert(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                          int64_t id, int64_t version, const char *action, const char *transition, json_t *changes,
                          struct sifa_error *err);

/* The key of a create's values in its history row ({"*created": {field: value…}}): no field code
 * can start with "*", so it never meets a field's {old, new}. */
#define HISTORY_CREATED "*created"

/* changes_in: {field: {old, new}} in clear; personal values are sealed in the history as in the
 * record itself. */
static int history_add(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m, int64_t id,
                       int64_t version, const char *action, const char *transition, json_t *changes_in,
                       struct sifa_error *err)
{
    json_t *changes = json_object();
    const char *key;
    json_t *change;
    int r = 0;
    json_object_foreach(changes_in, key, change)
    {
        const struct sifa_field *f = sifa_module_field(m, key);
        if (f == NULL || !sifa_field_has_personal(f) || rc->crypto == NULL) {
            json_object_set(changes, key, change);
            continue;
        }
        json_t *sealed = json_object();
        const char *side_names[] = {"old", "new"};
        for (size_t k = 0; k < 2 && r >= 0; k++) {
            json_t *side = json_object_get(change, side_names[k]);
            if (side == NULL || json_is_null(side)) { /* nothing to seal (a create's old side) */
                json_object_set_new(sealed, side_names[k], json_null());
                continue;
            }
            json_t *tmp = json_object();
            json_object_set(tmp, key, side);
            json_t *out = NULL;
            if ((r = protect_record(rc, m, tmp, &out, err)) >= 0)
                json_object_set(sealed, side_names[k], json_object_get(out, key));
            json_decref(out);
            json_decref(tmp);
        }
        json_object_set_new(changes, key, sealed);
    }
    if (r >= 0)
        r = history_insert(db, rc, m, id, version, action, transition, changes, err);
    json_decref(changes);
    return r;
}

/* changes: already sealed. */
static int history_insert(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                          int64_t id, int64_t version, const char *action, const char *transition, json_t *changes,
                          struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db,
                            "INSERT INTO record_history (module, record_id, version, at, actor, action, transition, "
                            "changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            &st, err);
    if (r < 0)
        return r;
    char at[32];
    iso_time(rc->now, at);
    char *text = json_dumps(changes, JSON_COMPACT);
    sifa_db_bind_text(st, 1, m->code, -1);
    sifa_db_bind_int64(st, 2, id);
    sifa_db_bind_int64(st, 3, version);
    sifa_db_bind_text(st, 4, at, -1);
    if (rc->actor)
        sifa_db_bind_text(st, 5, rc->actor, -1);
    else
        sifa_db_bind_null(st, 5);
    sifa_db_bind_text(st, 6, action, -1);
    if (transition)
        sifa_db_bind_text(st, 7, transition, -1);
    else
        sifa_db_bind_null(st, 7);
    sifa_db_bind_text(st, 8, text ? text : "{}", -1);
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    free(text);
    return r < 0 ? r : 0;
}

/* May this write cite file_id in field f? Citing a file makes it readable to whoever reads the
 * record, so knowing a file's id must not be enough: the file must already be in the record's
 * stored value, or be one the writer may read now (cited by a record in the writer's scope, or
 * uploaded by the writer and cited by no record yet). The CLI and system jobs (all records) may
 * cite any file. */
static int may_cite_file(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_field *f,
                         json_t *current, const char *file_id, bool *ret_ok, struct sifa_error *err)
{
    const char *old_id = json_string_value(json_object_get(json_object_get(current, f->code), "file_id"));
    if ((old_id != NULL && strcmp(old_id, file_id) == 0) || rc->scope == SIFA_RECORD_SCOPE_ALL) {
        *ret_ok = true;
        return 0;
    }
    bool readable = false, cited = false;
    int r = sifa_record_file_cited(db, rc, file_id, &readable, &cited, err);
    if (r < 0)
        return r;
    if (readable || cited) {
        *ret_ok = readable;
        return 0;
    }
    char *uploader = NULL;
    if ((r = sifa_record_file_created_by(db, file_id, &uploader, err)) < 0)
        return r;
    *ret_ok = uploader != NULL && rc->actor != NULL && strcmp(uploader, rc->actor) == 0;
    free(uploader);
    return 0;
}

static int check_refs(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m, json_t *values,
                      json_t *current, struct sifa_error *err)
{
    json_t *problems = json_array();
    for (size_t i = 0; i < m->nfields; i++) {
        const struct sifa_field *f = &m->fields[i];
        json_t *v = json_object_get(values, f->code);
        if (f->type == SIFA_FIELD_ATTACHMENT && json_is_object(v)) {
            const char *file_id = json_string_value(json_object_get(v, "file_id"));
            json_t *file = NULL;
            struct sifa_error ferr = {0};
            char msg[256];
            const char *problem = "file";
            msg[0] = '\0';
            int fr = file_id ? sifa_record_file_get(db, "", file_id, &file, NULL, &ferr) : SIFA_ENOTFOUND;
            if (fr == SIFA_ENOTFOUND) {
                snprintf(msg, sizeof(msg), "%s 引用的文件不存在,请先上传", f->name);
            } else if (fr < 0) {
                sifa_error_release(err);
                *err = ferr;
                json_decref(problems);
                return fr;
            } else {
                const char *ct = json_string_value(json_object_get(file, "content_type"));
                bool type_ok = f->ntypes == 0, citable = false;
                if ((fr = may_cite_file(db, rc, f, current, file_id, &citable, &ferr)) < 0) {
                    sifa_error_release(err);
                    *err = ferr;
                    json_decref(file);
                    json_decref(problems);
                    return fr;
                }
                for (size_t k = 0; k < f->ntypes; k++)
                    type_ok = type_ok || strcmp(f->types[k], ct) == 0;
                if (!citable && (problem = "file_not_citable"))
                    snprintf(msg, sizeof(msg), "%s:只能引用自己上传且尚未被其他记录引用的文件,或您有权查看的文件",
                             f->name);
                else if (!type_ok)
                    snprintf(msg, sizeof(msg), "%s 不接受 %s 类型的文件", f->name, ct);
                else if (f->has_max && json_integer_value(json_object_get(file, "size")) > f->max)
                    snprintf(msg, sizeof(msg), "%s 不能超过 %lld 字节", f->name, (long long)f->max);
                else
                    json_object_set_new(values, f->code,
                                        json_pack("{s:s,s:O,s:O,s:O}", "file_id", file_id, "name",
                                                  json_object_get(file, "name"), "size", json_object_get(file, "size"),
                                                  "content_type", json_object_get(file, "content_type")));
            }
            sifa_error_release(&ferr);
            json_decref(file);
            if (msg[0])
                json_array_append_new(problems, json_pack("{s:s,s:s,s:s}", "field", f->code, "code", problem, "message",
                                                          msg));
            continue;
        }
        if (f->type == SIFA_FIELD_ORG && json_is_string(v)) {
            /* A record of an org unit that does not exist would be in no one's scope and in no
             * unit's figures. */
            int64_t n = 0;
            int r = count_sql(db, "SELECT COUNT(*) FROM orgs WHERE code = ?", json_string_value(v), &n, err);
            if (r < 0) {
                json_decref(problems);
                return r;
            }
            if (n == 0) {
                char msg[256];
                snprintf(msg, sizeof(msg), "%s:单位 %.64s 不存在", f->name, json_string_value(v));
                json_array_append_new(problems, json_pack("{s:s,s:s,s:s}", "field", f->code, "code", "org_missing",
                                                          "message", msg));
            }
            continue;
        }
        if (f->type != SIFA_FIELD_REF || !json_is_integer(v))
            continue;
        const struct sifa_module *target = sifa_model_module(rc->model, f->ref_module);
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM m_%s WHERE id = ? AND deleted_at IS NULL",
                 sifa_rec_name_ok(target->code));
        struct sifa_db_stmt *st;
        int r = sifa_db_prepare(db, sql, &st, err);
        if (r < 0) {
            json_decref(problems);
            return r;
        }
        sifa_db_bind_int64(st, 1, json_integer_value(v));
        r = sifa_db_step(st, err);
        int64_t n = r == SIFA_DB_ROW ? sifa_db_column_int64(st, 0) : 0;
        sifa_db_stmt_done(st);
        if (r < 0) {
            json_decref(problems);
            return r;
        }
        if (n == 0) {
            char msg[256];
            snprintf(msg, sizeof(msg), "%s 引用的%s记录 %lld 不存在", f->name, target->name,
                     (long long)json_integer_value(v));
            json_array_append_new(problems, json_pack("{s:s,s:s,s:s}", "field", f->code, "code", "ref_missing",
                                                      "message", msg));
        }
    }
    if (json_array_size(problems) > 0)
        return sifa_error_set_details(err, SIFA_EINVALID, "validation", problems, "%s",
                                      json_string_value(json_object_get(json_array_get(problems, 0), "message")));
    json_decref(problems);
    return 0;
}

/* The columns write_row binds, in binding order: fields, deadline dues, blind indexes. Each is
 * followed by suffix (" = ?" for an UPDATE, nothing for an INSERT's column list). */
static void add_row_columns(struct sql *s, const struct sifa_module *m, const char *suffix)
{
    for (size_t i = 0; i < m->nfields; i++)
        sifa_sql_add(s, ", f_%s%s", sifa_rec_name_ok(m->fields[i].code), suffix);
    for (size_t i = 0; i < m->ndeadlines; i++)
        sifa_sql_add(s, ", d_%s_due%s", sifa_rec_name_ok(m->deadlines[i].code), suffix);
    for (size_t i = 0; i < m->nfields; i++)
        if (field_personal_indexed(&m->fields[i]))
            sifa_sql_add(s, ", h_%s%s", sifa_rec_name_ok(m->fields[i].code), suffix);
}

/* ---------- the file index (record_files): which live records cite which stored file ---------- */

static bool field_holds_attachment(const struct sifa_field *f);

static bool module_holds_attachments(const struct sifa_module *m)
{
    for (size_t k = 0; k < m->nfields; k++)
        if (field_holds_attachment(&m->fields[k]))
            return true;
    return false;
}

/* Every "file_id" string anywhere in v (an attachment, a list of them, a group's entries). */
static void collect_file_ids(json_t *v, json_t *ids, int depth)
{
    if (depth > 8)
        return;
    if (json_is_object(v)) {
        json_t *id = json_object_get(v, "file_id");
        if (json_is_string(id) && sifa_record_file_id_valid(json_string_value(id)))
            json_object_set_new(ids, json_string_value(id), json_true());
        const char *key;
        json_t *member;
        json_object_foreach(v, key, member) collect_file_ids(member, ids, depth + 1);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *entry;
        json_array_foreach(v, i, entry) collect_file_ids(entry, ids, depth + 1);
    }
}

static int files_unindex(struct sifa_db *db, const struct sifa_module *m, int64_t id, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, "DELETE FROM record_files WHERE module = ? AND record_id = ?", &st, err);
    if (r < 0)
        return r;
    sifa_db_bind_text(st, 1, m->code, -1);
    sifa_db_bind_int64(st, 2, id);
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return r < 0 ? r : 0;
}

/* Indexes the files record (values in clear or as stored: attachments are never sealed) cites;
 * replace: drop what the record cited before. */
static int files_index(struct sifa_db *db, const struct sifa_module *m, int64_t id, json_t *record, bool replace,
                       struct sifa_error *err)
{
    if (!module_holds_attachments(m))
        return 0;
    int r = replace ? files_unindex(db, m, id, err) : 0;
    json_t *ids = json_object();
    for (size_t k = 0; r >= 0 && k < m->nfields; k++)
        if (field_holds_attachment(&m->fields[k]))
            collect_file_ids(json_object_get(record, m->fields[k].code), ids, 0);
    const char *file_id;
    json_t *unused;
    json_object_foreach(ids, file_id, unused)
    {
        if (r < 0)
            break;
        struct sifa_db_stmt *st;
        if ((r = sifa_db_prepare(db,
                                 "INSERT INTO record_files (file_id, module, record_id) VALUES (?, ?, ?) "
                                 "ON CONFLICT (file_id, module, record_id) DO NOTHING",
                                 &st, err)) < 0)
            break;
        sifa_db_bind_text(st, 1, file_id, -1);
        sifa_db_bind_text(st, 2, m->code, -1);
        sifa_db_bind_int64(st, 3, id);
        r = sifa_db_step(st, err);
        sifa_db_stmt_done(st);
    }
    json_decref(ids);
    return r < 0 ? r : 0;
}

static void insert_sql(struct sql *s, const struct sifa_module *m)
{
    size_t nindexed = 0;
    for (size_t i = 0; i < m->nfields; i++)
        nindexed += field_personal_indexed(&m->fields[i]);
    sifa_sql_add(s, "INSERT INTO m_%s (state, org, updated_at, updated_by", sifa_rec_name_ok(m->code));
    add_row_columns(s, m, "");
    sifa_sql_add(s, ", version, created_at, created_by) VALUES (?, ?, ?, ?");
    for (size_t i = 0; i < m->nfields + m->ndeadlines + nindexed; i++)
        sifa_sql_add(s, ", ?");
    sifa_sql_add(s, ", 1, ?, ?)"); /* no RETURNING: see sifa_db_last_insert_id */
}

static void update_sql(struct sql *s, const struct sifa_module *m)
{
    sifa_sql_add(s, "UPDATE m_%s SET state = ?, org = ?, updated_at = ?, updated_by = ?", sifa_rec_name_ok(m->code));
    add_row_columns(s, m, " = ?");
    sifa_sql_add(s, ", version = version + 1 WHERE id = ? AND version = ? AND deleted_at IS NULL");
}

/* Writes every field and deadline column of record (the merged new state): a new row when
 * id == 0 (*ret_id receives it), otherwise row id at expected_version (*ret_changed = rows
 * changed, 0 when the version moved on). Creates and updates share this one path so that a
 * column can never be written one way on insert and another on update. */
static int write_row(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m, int64_t id,
                     int64_t expected_version, json_t *record, const char *state, int64_t *ret_id,
                     int64_t *ret_changed, json_t **ret_stored, struct sifa_error *err)
{
    char *dues_buf[32];
    char **dues = m->ndeadlines <= 32 ? dues_buf : sifa_xcalloc(m->ndeadlines, sizeof(char *));
    memset(dues, 0, sizeof(char *) * (m->ndeadlines <= 32 ? 32 : m->ndeadlines));
    int r = 0;
    for (size_t i = 0; r >= 0 && i < m->ndeadlines; i++)
        r = deadline_due(rc, &m->deadlines[i], record, &dues[i], err);
    json_t *stored = NULL;
    if (r >= 0)
        r = protect_record(rc, m, record, &stored, err);
    if (r >= 0) {
        char *sql = id == 0 ? sifa_rec_module_sql(rc->model, m, SIFA_MODULE_SQL_INSERT, insert_sql)
                            : sifa_rec_module_sql(rc->model, m, SIFA_MODULE_SQL_UPDATE, update_sql);
        struct sifa_db_stmt *st;
        r = sifa_db_prepare(db, sql, &st, err);
        free(sql);
        if (r >= 0) {
            char at[32];
            iso_time(rc->now, at);
            int idx = 1;
            sifa_db_bind_text(st, idx++, state, -1);
            json_t *org = m->org_field ? json_object_get(record, m->org_field->code) : NULL;
            if (json_is_string(org))
                sifa_db_bind_text(st, idx++, json_string_value(org), -1);
            else
                sifa_db_bind_null(st, idx++);
            sifa_db_bind_text(st, idx++, at, -1);
            if (rc->actor)
                sifa_db_bind_text(st, idx++, rc->actor, -1);
            else
                sifa_db_bind_null(st, idx++);
            for (size_t i = 0; i < m->nfields; i++)
                bind_field(st, idx++, &m->fields[i], json_object_get(stored, m->fields[i].code));
            for (size_t i = 0; i < m->ndeadlines; i++) {
                if (dues[i])
                    sifa_db_bind_text(st, idx++, dues[i], -1);
                else
                    sifa_db_bind_null(st, idx++);
            }
            for (size_t i = 0; i < m->nfields; i++) {
                const struct sifa_field *f = &m->fields[i];
                if (!field_personal_indexed(f))
                    continue;
                char *text = rc->crypto ? index_text(f, json_object_get(record, f->code)) : NULL;
                char hex[33];
                if (text != NULL) {
                    blind_index_of(rc, m, f, text, hex);
                    sifa_db_bind_text(st, idx++, hex, -1);
                } else {
                    sifa_db_bind_null(st, idx++);
                }
                free(text);
            }
            if (id == 0) {
                sifa_db_bind_text(st, idx++, at, -1);
                if (rc->actor)
                    sifa_db_bind_text(st, idx++, rc->actor, -1);
                else
                    sifa_db_bind_null(st, idx++);
            } else {
                sifa_db_bind_int64(st, idx++, id);
                sifa_db_bind_int64(st, idx++, expected_version);
            }
            r = sifa_db_step(st, err);
            int64_t new_id = r >= 0 && id == 0 ? sifa_db_last_insert_id(db) : 0;
            if (id == 0)
                *ret_id = new_id;
            sifa_db_stmt_done(st);
            if (r >= 0 && id != 0)
                *ret_changed = sifa_db_changes(db);
            if (r >= 0 && (id == 0 || *ret_changed > 0))
                r = files_index(db, m, id == 0 ? new_id : id, stored, id != 0, err);
        }
    }
    if (r >= 0 && ret_stored != NULL)
        *ret_stored = stored;
    else
        json_decref(stored);
    for (size_t i = 0; i < m->ndeadlines; i++)
        free(dues[i]);
    if (dues != dues_buf)
        free(dues);
    return r < 0 ? r : 0;
}

/* A record may be created, or moved by a change of its org field, only where the caller's scope
 * lets records be put (scope_allows_org). current: the record before an update (NULL for a
 * create); an update that leaves the org as it was needs no check, the record being already
 * within the caller's scope (it was found through it). Without any scope nothing is written. */
static int check_org_scope(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                           json_t *current, json_t *record, struct sifa_error *err)
{
    if (rc->scope == NULL)
        return sifa_error_set(err, SIFA_EDENIED, "no_scope", "没有%s的数据范围,不能写入", m->name);
    if (rc->scope->all || m->org_field == NULL)
        return 0;
    const char *org = json_string_value(json_object_get(record, m->org_field->code));
    if (current != NULL) {
        const char *was = json_string_value(json_object_get(current, m->org_field->code));
        if ((org == NULL && was == NULL) || (org != NULL && was != NULL && strcmp(org, was) == 0))
            return 0;
    }
    int r = scope_allows_org(db, rc->scope, org, err);
    if (r < 0)
        return r;
    if (r == 0)
        return sifa_error_set_details(err, SIFA_EDENIED, "org_out_of_scope",
                                      json_pack("{s:s,s:s?}", "field", m->org_field->code, "org", org),
                                      "%s %s 不在你的数据范围内", m->org_field->name, org ? org : "(空)");
    return 0;
}

/* The record as load_record would read it back, built from what was just written: the write
 * path answers without a second query. values holds every field's clear value (absent = null). */
static int record_compose(const struct sifa_record_ctx *rc, const struct sifa_module *m, int64_t id, int64_t version,
                          const char *state, json_t *values, json_t *created_at, json_t *created_by,
                          json_t **ret_record, struct sifa_error *err)
{
    char at[32];
    iso_time(rc->now, at);
    json_t *r = json_object();
    json_object_set_new(r, "id", json_integer(id));
    json_object_set_new(r, "version", json_integer(version));
    json_object_set_new(r, "state", json_string(state));
    const struct sifa_state *sd = sifa_module_state(m, state);
    json_object_set_new(r, "state_name", sd ? json_string(sd->name) : json_null());
    json_t *org = m->org_field ? json_object_get(values, m->org_field->code) : NULL;
    json_object_set_new(r, "org", json_is_string(org) ? json_incref(org) : json_null());
    json_object_set(r, "created_at", created_at ? created_at : json_null());
    json_object_set(r, "created_by", created_by ? created_by : json_null());
    json_object_set_new(r, "updated_at", json_string(at));
    json_object_set_new(r, "updated_by", rc->actor ? json_string(rc->actor) : json_null());
    for (size_t i = 0; i < m->nfields; i++) {
        json_t *v = json_object_get(values, m->fields[i].code);
        json_object_set(r, m->fields[i].code, v ? v : json_null());
    }
    json_t *deadlines = json_array();
    int rcode = 0;
    for (size_t i = 0; i < m->ndeadlines && rcode >= 0; i++) {
        char *due = NULL;
        rcode = deadline_due(rc, &m->deadlines[i], values, &due, err);
        if (rcode >= 0)
            json_array_append_new(deadlines, deadline_json(rc, &m->deadlines[i], due, state));
        free(due);
    }
    json_object_set_new(r, "deadlines", deadlines);
    if (rcode >= 0)
        rcode = reveal_record(rc, m, r, err);
    if (rcode < 0) {
        json_decref(r);
        return rcode;
    }
    *ret_record = r;
    return 0;
}

static int create_written(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                          json_t *values, const char *state_code, int64_t *ret_id, json_t **ret_record,
                          struct sifa_error *err);
static int compose_created(const struct sifa_record_ctx *rc, const struct sifa_module *m, int64_t id,
                           const struct sifa_state *state, json_t *record, json_t **ret_record, struct sifa_error *err);

int sifa_record_create(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                       json_t *values, json_t **ret_record, struct sifa_error *err)
{
    return sifa_record_create_in_state(db, rc, m, values, NULL, ret_record, err);
}

int sifa_record_compose_new(const struct sifa_record_ctx *rc, const struct sifa_module *m, int64_t id, json_t *written,
                            json_t **ret_record, struct sifa_error *err)
{
    return compose_created(rc, m, id, m->initial, written, ret_record, err);
}

int sifa_record_create_in_state(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                                json_t *values, const char *state_code, json_t **ret_record, struct sifa_error *err)
{
    int64_t id = 0;
    json_t *record = NULL;
    int r = create_written(db, rc, m, values, state_code, &id, &record, err);
    const struct sifa_state *state = state_code ? sifa_module_state(m, state_code) : m->initial;
    if (r >= 0 && ret_record != NULL) /* bulk imports need no answer */
        r = compose_created(rc, m, id, state, record, ret_record, err);
    json_decref(record);
    return r < 0 ? r : 0;
}

int sifa_record_create_written(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                               json_t *values, int64_t *ret_id, json_t **ret_written, struct sifa_error *err)
{
    return create_written(db, rc, m, values, NULL, ret_id, ret_written, err);
}

/* Writes the record; *ret_record (new) is what was written, in clear. */
static int create_written(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                          json_t *values, const char *state_code, int64_t *ret_id, json_t **ret_record,
                          struct sifa_error *err)
{
    const struct sifa_state *state = state_code ? sifa_module_state(m, state_code) : m->initial;
    if (state == NULL)
        return sifa_error_set_details(err, SIFA_EINVALID, "unknown_state", json_pack("{s:s}", "state", state_code),
                                      "%s没有状态 %s", m->name, state_code);
    int r = check_org_scope(db, rc, m, NULL, values, err);
    if (r < 0)
        return r;
    r = check_refs(db, rc, m, values, NULL, err);
    if (r < 0)
        return r;
    json_t *record = json_deep_copy(values);
    bool numbered = m->numbering != NULL && !json_is_string(json_object_get(record, m->numbering->field->code));
    int64_t id = 0, changed = 0;
    json_t *stored = NULL; /* the record as written: personal values sealed */
    for (int attempt = 0;; attempt++) {
        if (numbered) {
            char *number = NULL;
            if ((r = next_number(db, m, record, rc, &number, err)) < 0) {
                json_decref(record);
                return r;
            }
            json_object_set_new(record, m->numbering->field->code, json_string(number));
            free(number);
        }
        r = write_row(db, rc, m, 0, 0, record, state->code, &id, &changed, &stored, err);
        /* A number typed by staff (an old case entered by hand) may hold the sequence's next value:
         * the unique index refuses it, the counter has moved on, try the next one. Checked only
         * on a refusal, so the common path costs no lookup. */
        if (r >= 0 || !numbered || err == NULL || strcmp(err->code, "db_constraint") != 0 || attempt >= 10000)
            break;
        int taken = number_taken(db, m, json_string_value(json_object_get(record, m->numbering->field->code)), NULL);
        if (taken != 1)
            break;
        sifa_error_release(err);
    }
    /* The history of a create: every value as written, sealed ones as they are in the row (sealing
     * them again for the history would only cost another encryption each), in one object under
     * HISTORY_CREATED rather than as {field: {old: null, new: value}} pairs: sifa_record_history
     * answers the same, and the row is written in a third of the time and room. */
    json_t *changes = json_object(), *created = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(r >= 0 ? stored : record, key, v)
    {
        if (!json_is_null(v))
            json_object_set(created, key, v);
    }
    json_object_set_new(changes, HISTORY_CREATED, created);
    if (state != m->initial)
        json_object_set_new(changes, "state", json_pack("{s:n,s:s}", "old", "new", state->code));
    if (r >= 0)
        r = sifa_aggregate_capture(db, rc->model, m, id, +1, err);
    if (r >= 0)
        r = fts_write(db, m, id, record, FTS_INSERT, err);
    if (r >= 0)
        r = history_insert(db, rc, m, id, 1, "create", NULL, changes, err);
    json_decref(changes);
    json_decref(stored);
    if (r < 0) {
        json_decref(record);
        if (err != NULL && strcmp(err->code, "db_constraint") == 0 && m->numbering != NULL)
            sifa_error_set_details(err, SIFA_ECONFLICT, "duplicate_number",
                                   json_pack("{s:s}", "field", m->numbering->field->code), "%s 已被其他记录使用",
                                   m->numbering->field->name);
        return r;
    }
    *ret_id = id;
    *ret_record = record;
    return 0;
}

static int compose_created(const struct sifa_record_ctx *rc, const struct sifa_module *m, int64_t id,
                           const struct sifa_state *state, json_t *record, json_t **ret_record, struct sifa_error *err)
{
    char at[32];
    iso_time(rc->now, at);
    json_t *created_at = json_string(at), *created_by = rc->actor ? json_string(rc->actor) : json_null();
    int r = record_compose(rc, m, id, 1, state->code, record, created_at, created_by, ret_record, err);
    json_decref(created_at);
    json_decref(created_by);
    return r;
}

static json_t *stale_details(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m, int64_t id)
{
    json_t *current = NULL;
    if (load_record(db, rc, m, id, &current, NULL) < 0)
        return NULL;
    return json_pack("{s:o}", "current", current);
}

/* ---------- masked echoes ---------- */

/* sent with each member that is the mask of plain's same member replaced by plain's (new
 * reference). For a person, member by member; for any other personal value, the whole. */
static json_t *unmask_echo(const struct sifa_record_ctx *rc, const struct sifa_field *f, json_t *sent, json_t *plain)
{
    if (plain == NULL || json_is_null(plain) || sent == NULL || json_is_null(sent))
        return json_incref(sent);
    if (f->type == SIFA_FIELD_PERSON) {
        if (!json_is_object(sent) || !json_is_object(plain))
            return json_incref(sent);
        static const struct {
            const char *key;
            enum sifa_mask_kind kind;
        } members[] = {{"name", SIFA_MASK_NAME}, {"id_number", SIFA_MASK_ID_NUMBER}, {"phone", SIFA_MASK_PHONE}};
        json_t *out = json_copy(sent);
        for (size_t k = 0; k < SIFA_ARRAY_SIZE(members); k++) {
            json_t *sv = json_object_get(sent, members[k].key), *pv = json_object_get(plain, members[k].key);
            if (!json_is_string(sv) || !json_is_string(pv))
                continue;
            json_t *masked = mask_string(rc, members[k].kind, pv);
            if (json_equal(masked, sv))
                json_object_set(out, members[k].key, pv);
            json_decref(masked);
        }
        return out;
    }
    json_t *masked = mask_value(rc, f, plain);
    bool echo = json_equal(masked, sent);
    json_decref(masked);
    return json_incref(echo ? plain : sent);
}

/* Whether v still holds a masked identity number or phone (let through by validation as a
 * possible echo, see validate.c masked_echo) after unmask_echo found no stored value for it. */
static bool still_masked(const struct sifa_field *f, json_t *v)
{
    if (f->type == SIFA_FIELD_PERSON) {
        json_t *id = json_object_get(v, "id_number"), *ph = json_object_get(v, "phone");
        return (json_is_string(id) && strchr(json_string_value(id), '*') != NULL) ||
               (json_is_string(ph) && strchr(json_string_value(ph), '*') != NULL);
    }
    return (f->type == SIFA_FIELD_ID_NUMBER || f->type == SIFA_FIELD_PHONE) && json_is_string(v) &&
           strchr(json_string_value(v), '*') != NULL;
}

/* A problem for path: the field's name, then what is wrong with it. */
static void add_masked_problem(json_t *problems, const char *path, const char *code, const char *what,
                               const char *name)
{
    char msg[320];
    snprintf(msg, sizeof(msg), "%s %s", name, what);
    json_array_append_new(problems, json_pack("{s:s,s:s,s:s}", "field", path, "code", code, "message", msg));
}

/* Whether a sent group row and a stored one agree on every member that is not personal data (the
 * same party, as far as the caller can tell them apart). */
static bool same_row(const struct sifa_field *g, json_t *sent_row, json_t *stored_row)
{
    for (size_t k = 0; k < g->nsub; k++) {
        if (g->sub[k].personal)
            continue;
        json_t *a = json_object_get(sent_row, g->sub[k].code), *b = json_object_get(stored_row, g->sub[k].code);
        if (!json_equal(a ? a : json_null(), b ? b : json_null()))
            return false;
    }
    return true;
}

/* One group row's personal member sf: the stored value, among all rows, whose mask it is — rows
 * move when one above is removed, so the row's index alone does not say which party it is. When
 * several different stored values share that mask (138****8000 for two phones), the row at the
 * same index wins if rows cannot have moved (as many rows sent as stored: the form only appends
 * and removes) or it is the same party (its other members agree); otherwise which one is meant
 * is unknown and the member is refused ("masked_value_ambiguous") rather than guessed. */
static json_t *unmask_group_member(const struct sifa_record_ctx *rc, const struct sifa_field *g,
                                   const struct sifa_field *sf, size_t row, json_t *sent_row, size_t nsent,
                                   json_t *stored_rows, const char *path, json_t *problems)
{
    json_t *sent = json_object_get(sent_row, sf->code);
    json_t *found = NULL;
    bool ambiguous = false;
    size_t j;
    json_t *srow;
    json_array_foreach(stored_rows, j, srow)
    {
        json_t *cand = unmask_echo(rc, sf, sent, json_object_get(srow, sf->code));
        if (json_equal(cand, sent) || (found != NULL && json_equal(cand, found))) {
            json_decref(cand);
            continue;
        }
        if (found == NULL)
            found = cand;
        else {
            ambiguous = true;
            json_decref(cand);
        }
    }
    if (found == NULL)
        return json_incref(sent);
    if (!ambiguous)
        return found;
    json_decref(found);
    json_t *same = json_array_get(stored_rows, row);
    if (same != NULL && (nsent == json_array_size(stored_rows) || same_row(g, sent_row, same))) {
        json_t *nv = unmask_echo(rc, sf, sent, json_object_get(same, sf->code));
        if (!json_equal(nv, sent))
            return nv;
        json_decref(nv);
    }
    add_masked_problem(problems, path, "masked_value_ambiguous",
                       "是遮蔽后的值,与多项的原值相符,无法判断是哪一个,请填写完整的值", sf->name);
    return json_incref(sent);
}

/* A copy of values (*ret new) in which every masked echo of a caller who sees personal data only
 * masked is replaced by the stored value it stands for (current holds the stored values in
 * clear), so the merge finds no change there and the mask is never written over the data. See
 * sifa_record_update's contract. */
static int keep_masked_echoes(const struct sifa_record_ctx *rc, const struct sifa_module *m, json_t *current,
                              json_t *values, json_t **ret, struct sifa_error *err)
{
    json_t *out = json_copy(values);
    json_t *problems = json_array();
    for (size_t i = 0; i < m->nfields; i++) {
        const struct sifa_field *f = &m->fields[i];
        json_t *sent = json_object_get(values, f->code);
        if (sent == NULL || json_is_null(sent) || !sifa_field_has_personal(f))
            continue;
        if (f->personal) {
            json_t *nv = unmask_echo(rc, f, sent, json_object_get(current, f->code));
            if (still_masked(f, nv))
                add_masked_problem(problems, f->code, "masked_value",
                                   "是遮蔽后的值,与当前记录不符,请填写完整的值", f->name);
            json_object_set_new(out, f->code, nv);
            continue;
        }
        json_t *stored_rows = json_object_get(current, f->code);
        json_t *rows = json_array();
        size_t idx;
        json_t *entry;
        json_array_foreach(sent, idx, entry)
        {
            json_t *row = json_copy(entry);
            for (size_t k = 0; k < f->nsub; k++) {
                const struct sifa_field *sf = &f->sub[k];
                json_t *sv = json_object_get(entry, sf->code);
                if (!sf->personal || sv == NULL || json_is_null(sv))
                    continue;
                char path[320];
                snprintf(path, sizeof(path), "%s[%zu].%s", f->code, idx, sf->code);
                size_t before = json_array_size(problems);
                json_t *nv = unmask_group_member(rc, f, sf, idx, entry, json_array_size(sent), stored_rows, path,
                                                 problems);
                if (json_array_size(problems) == before && still_masked(sf, nv) && json_equal(nv, sv))
                    add_masked_problem(problems, path, "masked_value",
                                       "是遮蔽后的值,与当前记录不符,请填写完整的值", sf->name);
                json_object_set_new(row, sf->code, nv);
            }
            json_array_append_new(rows, row);
        }
        json_object_set_new(out, f->code, rows);
    }
    if (json_array_size(problems) > 0) {
        json_decref(out);
        return sifa_error_set_details(err, SIFA_EINVALID, "validation", problems, "%s",
                                      json_string_value(json_object_get(json_array_get(problems, 0), "message")));
    }
    json_decref(problems);
    *ret = out;
    return 0;
}

/* Merges values into current, records the differences in changes (new object). */
static json_t *merge(const struct sifa_module *m, json_t *current, json_t *values, json_t **ret_changes)
{
    json_t *merged = json_object();
    json_t *changes = json_object();
    for (size_t i = 0; i < m->nfields; i++) {
        const char *code = m->fields[i].code;
        json_t *old = json_object_get(current, code);
        json_t *nv = json_object_get(values, code);
        json_object_set(merged, code, nv ? nv : old ? old : json_null());
        if (nv != NULL && !json_equal(nv, old ? old : json_null()))
            json_object_set_new(changes, code, json_pack("{s:O,s:O}", "old", old ? old : json_null(), "new", nv));
    }
    *ret_changes = changes;
    return merged;
}

static int apply_change(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m, int64_t id,
                        int64_t expected_version, json_t *values, const struct sifa_transition *t,
                        json_t **ret_record, struct sifa_error *err)
{
    /* The stored values, in clear whatever the caller may see: untouched fields are written back
     * from this copy, and writing back a masked value would destroy the data. */
    struct sifa_record_ctx internal = *rc;
    internal.unmask = true;
    json_t *current;
    int r = load_record(db, &internal, m, id, &current, err);
    if (r < 0)
        return r;
    int64_t version = json_integer_value(json_object_get(current, "version"));
    if (expected_version >= 0 && expected_version != version) {
        json_decref(current);
        return sifa_error_set_details(err, SIFA_ECONFLICT, "stale_version", stale_details(db, rc, m, id),
                                      "记录已被他人修改(当前版本 %lld,你提交的版本 %lld),请刷新后重试",
                                      (long long)version, (long long)expected_version);
    }
    const char *state = json_string_value(json_object_get(current, "state"));
    if (t != NULL) {
        bool allowed = false;
        for (size_t k = 0; k < t->nfrom; k++)
            allowed = allowed || strcmp(t->from[k]->code, state) == 0;
        if (!allowed) {
            json_t *list = json_array();
            for (size_t i = 0; i < m->ntransitions; i++)
                for (size_t k = 0; k < m->transitions[i].nfrom; k++)
                    if (strcmp(m->transitions[i].from[k]->code, state) == 0)
                        json_array_append_new(list, json_string(m->transitions[i].code));
            const struct sifa_state *sd = sifa_module_state(m, state);
            r = sifa_error_set_details(err, SIFA_ECONFLICT, "illegal_transition",
                                       json_pack("{s:s,s:s,s:o}", "state", state, "transition", t->code, "allowed",
                                                 list),
                                       "当前状态“%s”下不能执行“%s”", sd ? sd->name : state, t->name);
            json_decref(current);
            return r;
        }
    }
    /* values is borrowed: echoes are resolved in a copy that replaces it from here on. */
    json_t *own_values = NULL;
    if (!rc->unmask && (r = keep_masked_echoes(rc, m, current, values, &own_values, err)) < 0) {
        json_decref(current);
        return r;
    }
    if (own_values != NULL)
        values = own_values;
    if ((r = check_refs(db, rc, m, values, current, err)) < 0) {
        json_decref(own_values);
        json_decref(current);
        return r;
    }
    json_t *changes;
    json_t *merged = merge(m, current, values, &changes);
    if ((r = check_org_scope(db, rc, m, current, merged, err)) < 0) {
        json_decref(merged);
        json_decref(changes);
        json_decref(current);
        json_decref(own_values);
        return r;
    }
    if (t != NULL) {
        char at[32], day[11];
        iso_time(rc->now, at);
        date_text(china_date(rc->now), day);
        for (size_t k = 0; k < t->nsets; k++) {
            const struct sifa_field *f = t->sets[k];
            json_t *nv = json_string(f->type == SIFA_FIELD_DATE ? day : at);
            json_t *old = json_object_get(merged, f->code);
            if (json_object_get(values, f->code) == NULL) { /* a value given with the transition wins */
                json_object_set_new(changes, f->code, json_pack("{s:O,s:O}", "old", old ? old : json_null(), "new", nv));
                json_object_set(merged, f->code, nv);
            }
            json_decref(nv);
        }
        json_t *missing = json_array();
        for (size_t k = 0; k < t->nrequires; k++) {
            json_t *v = json_object_get(merged, t->requires[k]->code);
            if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0) ||
                (json_is_array(v) && json_array_size(v) == 0)) {
                char msg[256];
                snprintf(msg, sizeof(msg), "执行“%s”前必须填写 %s", t->name, t->requires[k]->name);
                json_array_append_new(missing, json_pack("{s:s,s:s,s:s}", "field", t->requires[k]->code, "code",
                                                         "required", "message", msg));
            }
        }
        if (json_array_size(missing) > 0) {
            r = sifa_error_set_details(err, SIFA_EINVALID, "validation", missing, "%s",
                                       json_string_value(json_object_get(json_array_get(missing, 0), "message")));
            json_decref(merged);
            json_decref(changes);
            json_decref(current);
            json_decref(own_values);
            return r;
        }
        json_decref(missing);
        if (strcmp(t->to->code, state) != 0)
            json_object_set_new(changes, "state", json_pack("{s:s,s:s}", "old", state, "new", t->to->code));
        state = t->to->code;
    }
    if (t == NULL && json_object_size(changes) == 0) {
        /* Nothing changes: no new version, no history row; answer with the record as it is, read
         * again as the caller may see it (current is in clear: a masked echo lands here). */
        json_decref(merged);
        json_decref(changes);
        json_decref(current);
        json_decref(own_values);
        r = load_record(db, rc, m, id, ret_record, err);
        return r < 0 ? r : 0;
    }
    char *state_copy = sifa_xstrdup(state);
    int64_t changed = 0;
    int64_t unused_id = 0;
    r = sifa_aggregate_capture(db, rc->model, m, id, -1, err);
    if (r >= 0)
        r = write_row(db, rc, m, id, version, merged, state_copy, &unused_id, &changed, NULL, err);
    if (r >= 0 && changed == 0)
        r = sifa_error_set_details(err, SIFA_ECONFLICT, "stale_version", stale_details(db, rc, m, id),
                                   "记录已被他人修改,请刷新后重试");
    if (r >= 0)
        r = fts_write(db, m, id, merged, FTS_REPLACE, err);
    if (r >= 0)
        r = history_add(db, rc, m, id, version + 1, t ? "transition" : "update", t ? t->code : NULL, changes, err);
    if (r >= 0)
        r = record_compose(rc, m, id, version + 1, state_copy, merged, json_object_get(current, "created_at"),
                           json_object_get(current, "created_by"), ret_record, err);
    free(state_copy);
    json_decref(merged);
    json_decref(changes);
    json_decref(current);
    json_decref(own_values);
    return r < 0 ? r : 0;
}

int sifa_record_update(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *module,
                       int64_t id, int64_t expected_version, json_t *values, json_t **ret_record,
                       struct sifa_error *err)
{
    return apply_change(db, rc, module, id, expected_version, values, NULL, ret_record, err);
}

int sifa_record_transition(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *module,
                           int64_t id, const char *transition, int64_t expected_version, json_t *values,
                           json_t **ret_record, struct sifa_error *err)
{
    const struct sifa_transition *t = sifa_module_transition(module, transition);
    if (t == NULL) {
        json_t *list = json_array();
        for (size_t i = 0; i < module->ntransitions; i++)
            json_array_append_new(list, json_string(module->transitions[i].code));
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "unknown_transition",
                                      json_pack("{s:s,s:o}", "transition", transition, "defined", list),
                                      "%s没有名为 %s 的流转", module->name, transition);
    }
    json_t *empty = values ? NULL : json_object();
    int r = apply_change(db, rc, module, id, expected_version, values ? values : empty, t, ret_record, err);
    json_decref(empty);
    return r;
}

int sifa_record_delete(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m, int64_t id,
                       int64_t expected_version, struct sifa_error *err)
{
    json_t *current;
    int r = load_record(db, rc, m, id, &current, err);
    if (r < 0)
        return r;
    int64_t version = json_integer_value(json_object_get(current, "version"));
    json_decref(current);
    if (expected_version >= 0 && expected_version != version)
        return sifa_error_set_details(err, SIFA_ECONFLICT, "stale_version", stale_details(db, rc, m, id),
                                      "记录已被他人修改,请刷新后重试");
    char sql[256], at[32];
    iso_time(rc->now, at);
    snprintf(sql, sizeof(sql),
             "UPDATE m_%s SET deleted_at = ?, deleted_by = ?, version = version + 1 WHERE id = ? AND version = ?",
             sifa_rec_name_ok(m->code));
    struct sifa_db_stmt *st;
    if ((r = sifa_aggregate_capture(db, rc->model, m, id, -1, err)) < 0)
        return r;
    if ((r = sifa_db_prepare(db, sql, &st, err)) < 0)
        return r;
    sifa_db_bind_text(st, 1, at, -1);
    if (rc->actor)
        sifa_db_bind_text(st, 2, rc->actor, -1);
    else
        sifa_db_bind_null(st, 2);
    sifa_db_bind_int64(st, 3, id);
    sifa_db_bind_int64(st, 4, version);
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    if (r < 0)
        return r;
    json_t *none = json_object();
    r = module_holds_attachments(m) ? files_unindex(db, m, id, err) : 0; /* a deleted record shows no file */
    if (r >= 0)
        r = fts_write(db, m, id, NULL, FTS_REMOVE, err);
    if (r >= 0)
        r = history_add(db, rc, m, id, version + 1, "delete", NULL, none, err);
    json_decref(none);
    return r < 0 ? r : 0;
}

/* A stored history row's changes as {field: {old, new}}: a create's values kept under
 * HISTORY_CREATED become {old: null, new: value} each, first and in their order. Takes stored. */
static json_t *history_changes(json_t *stored)
{
    json_t *created = json_object_get(stored, HISTORY_CREATED);
    if (!json_is_object(created))
        return stored;
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(created, key, v) json_object_set_new(out, key, json_pack("{s:n,s:O}", "old", "new", v));
    json_object_foreach(stored, key, v)
    {
        if (strcmp(key, HISTORY_CREATED) != 0)
            json_object_set(out, key, v);
    }
    json_decref(stored);
    return out;
}

int sifa_record_history(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m, int64_t id,
                        json_t **ret_history, struct sifa_error *err)
{
    /* The history of a record outside the caller's scope is as invisible as the record. A deleted
     * record's history stays readable to those who may see all of the module's records. */
    if (rc->scope == NULL || !rc->scope->all) {
        json_t *visible = NULL;
        int v = load_record(db, rc, m, id, &visible, err);
        json_decref(visible);
        if (v < 0)
            return v;
    }
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db,
                            "SELECT version, at, actor, action, transition, changes FROM record_history "
                            "WHERE module = ? AND record_id = ? ORDER BY id",
                            &st, err);
    if (r < 0)
        return r;
    sifa_db_bind_text(st, 1, m->code, -1);
    sifa_db_bind_int64(st, 2, id);
    json_t *list = json_array();
    while ((r = sifa_db_step(st, err)) == SIFA_DB_ROW) {
        json_t *changes = history_changes(json_loads(sifa_db_column_text(st, 5), 0, NULL));
        const char *ckey;
        json_t *change;
        json_object_foreach(changes, ckey, change)
        {
            const struct sifa_field *f = sifa_module_field(m, ckey);
            if (f == NULL || !sifa_field_has_personal(f))
                continue;
            const char *side_names[] = {"old", "new"};
            for (size_t k = 0; k < 2; k++) {
                json_t *tmp = json_pack("{s:O}", ckey, json_object_get(change, side_names[k]) ? json_object_get(change, side_names[k]) : json_null());
                struct sifa_error rerr = {0};
                if (reveal_record(rc, m, tmp, &rerr) >= 0)
                    json_object_set(change, side_names[k], json_object_get(tmp, ckey));
                else
                    json_object_set_new(change, side_names[k], json_string("***"));
                sifa_error_release(&rerr);
                json_decref(tmp);
            }
        }
        json_t *h = json_pack("{s:I,s:s,s:o,s:s,s:o,s:o}", "version", (json_int_t)sifa_db_column_int64(st, 0), "at",
                              sifa_db_column_text(st, 1), "actor", column_json(st, 2), "action",
                              sifa_db_column_text(st, 3), "transition", column_json(st, 4), "changes",
                              changes ? changes : json_object());
        json_array_append_new(list, h);
    }
    sifa_db_stmt_done(st);
    if (r < 0) {
        json_decref(list);
        return r;
    }
    if (json_array_size(list) == 0) {
        json_decref(list);
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "record_not_found",
                                      json_pack("{s:s,s:I}", "module", m->code, "id", (json_int_t)id),
                                      "%s中不存在编号为 %lld 的记录", m->name, (long long)id);
    }
    *ret_history = list;
    return 0;
}

/* ---------- lists ---------- */

static int bad_filter(struct sifa_error *err, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad_filter(struct sifa_error *err, const char *key, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *k = json_string(key);
    return sifa_error_set_details(err, SIFA_EINVALID, "bad_filter", json_pack("{s:o}", "param", k ? k : json_null()),
                                  "查询条件有误:%s", msg);
}

static int convert_value(const struct sifa_field *f, const char *key, const char *value, struct bound *b,
                         struct sifa_error *err)
{
    char *end;
    switch (sifa_rec_field_storage(f)) {
    case ST_INTEGER:
        if (f->type == SIFA_FIELD_BOOL) {
            if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
                return bad_filter(err, key, "%s 应为 true 或 false", key);
            b->kind = B_INT;
            b->i = strcmp(value, "true") == 0;
            return 0;
        }
        errno = 0;
        b->i = strtoll(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0')
            return bad_filter(err, key, "%s 应为整数", key);
        b->kind = B_INT;
        return 0;
    case ST_REAL:
        errno = 0;
        b->d = strtod(value, &end);
        if (errno != 0 || end == value || *end != '\0')
            return bad_filter(err, key, "%s 应为数字", key);
        b->kind = B_REAL;
        return 0;
    case ST_TEXT:
        b->kind = B_TEXT;
        b->s = value;
        return 0;
    case ST_JSON:
        return bad_filter(err, key, "%s 只能按是否为空筛选(%s__empty=true)", key, f->code);
    }
    return 0;
}

#define MAX_BOUND 128

/* sifa_record_list, with optional extra conditions (" AND …" over the module's table, values in
 * extra) and a fixed order (" ORDER BY …") that replaces the sort parameter: the drill-down of an
 * indicator lists its records through here, so scope, masking and paging are the same. */
/* each (NULL: one page into *ret_page): every matching record in order goes to each->fn instead,
 * page and page_size are ignored, and *ret_page holds only {"total"}. */
struct list_each {
    int64_t max_rows;
    int (*fn)(void *arg, json_t *record, struct sifa_error *err);
    void *arg;
};

static int list_records(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                        const struct sifa_record_query_param *params, size_t nparams, const char *extra_where,
                        const struct bounds *extra, const char *fixed_order, const struct list_each *each,
                        json_t **ret_page, struct sifa_error *err)
{
    struct sql where = {0};
    struct bound bounds[MAX_BOUND];
    size_t nb = 0;
    int64_t page = 1, page_size = 20;
    const char *sort = NULL;
    char *search_pattern = NULL;
    bool *used = sifa_xcalloc(nparams ? nparams : 1, sizeof(bool));
    char(*hashes)[33] = sifa_xcalloc(nparams ? nparams : 1, 33);
    size_t nhashes = 0;
    int r = 0;
    sifa_sql_add(&where, " WHERE deleted_at IS NULL");
    {
        const char *scope_params[SCOPE_PARAMS_MAX];
        size_t nsp = 0;
        r = scope_sql(rc->scope, &where, scope_params, &nsp, SCOPE_PARAMS_MAX, err);
        for (size_t i = 0; i < nsp; i++)
            bounds[nb++] = (struct bound){.kind = B_TEXT, .s = scope_params[i]};
    }
    if (r >= 0 && extra_where != NULL) {
        if (nb + extra->n > MAX_BOUND / 2) {
            r = sifa_error_set(err, SIFA_ELIMIT, "too_many_conditions", "统计口径的条件过多");
        } else {
            sifa_sql_add(&where, "%s", extra_where);
            for (size_t i = 0; i < extra->n; i++)
                bounds[nb++] = extra->items[i];
        }
    }

    for (size_t i = 0; i < nparams && r >= 0; i++) {
        const char *key = params[i].key, *value = params[i].value;
        char *end;
        if (strcmp(key, "page") == 0 || strcmp(key, "page_size") == 0) {
            errno = 0;
            long long v = strtoll(value, &end, 10);
            if (errno != 0 || end == value || *end != '\0' || v < 1 ||
                (strcmp(key, "page_size") == 0 && v > SIFA_RECORD_PAGE_SIZE_MAX) || v > 1000000)
                r = bad_filter(err, key, "%s 应为 1 到 %d 之间的整数", key,
                               strcmp(key, "page") == 0 ? 1000000 : SIFA_RECORD_PAGE_SIZE_MAX);
            else if (strcmp(key, "page") == 0)
                page = v;
            else
                page_size = v;
            used[i] = true;
        } else if (strcmp(key, "sort") == 0) {
            sort = value;
            used[i] = true;
        } else if (strcmp(key, "q") == 0) {
            used[i] = true;
            if (search_pattern != NULL) {
                r = bad_filter(err, key, "搜索词只能有一个 (q)");
                break;
            }
            size_t chars = 0, len = strlen(value);
            for (size_t k = 0; k < len; k++)
                chars += ((unsigned char)value[k] & 0xc0) != 0x80;
            if (!module_has_search(m)) {
                r = bad_filter(err, key, "%s没有可检索的字段", m->name);
            } else if (chars < 2 || len > 256) {
                r = bad_filter(err, key, "搜索词应为 2 到 256 字节之间,至少两个字");
            } else if (nb + 1 < MAX_BOUND) {
                /* two-character words (common in Chinese: 张三, 离婚) too: see sifa_db_search_match */
                char sub[256], index[SIFA_MODEL_CODE_MAX + 8], *param = NULL;
                if ((r = sifa_db_search_match(db, search_index(m, index, sizeof(index)), value, sub, sizeof(sub), &param, err)) < 0)
                    break;
                sifa_sql_add(&where, " AND id IN (%s)", sub);
                free(search_pattern);
                search_pattern = param;
                bounds[nb++] = (struct bound){.kind = B_TEXT, .s = search_pattern};
            }
        }
    }

    /* state and org: sets of equal values */
    const char *special[] = {"state", "org"};
    for (size_t s = 0; s < 2 && r >= 0; s++) {
        size_t count = 0;
        for (size_t i = 0; i < nparams; i++)
            if (strcmp(params[i].key, special[s]) == 0) {
                if (s == 0 && sifa_module_state(m, params[i].value) == NULL) {
                    r = bad_filter(err, "state", "%s没有状态 %s", m->name, params[i].value);
                    break;
                }
                if (nb >= MAX_BOUND) {
                    r = bad_filter(err, special[s], "查询条件过多");
                    break;
                }
                sifa_sql_add(&where, count == 0 ? " AND %s IN (?" : ", ?", special[s]);
                bounds[nb++] = (struct bound){.kind = B_TEXT, .s = params[i].value};
                used[i] = true;
                count++;
            }
        if (count > 0)
            sifa_sql_add(&where, ")");
    }

    /* org_under: records of these org units or any unit below them (repeated: the union), by
     * the path prefix of the orgs table as the data scope's subtrees are, so a subtree of any
     * size is one bound parameter, not a list of every code in it. An unknown code is 404
     * org_not_found rather than an empty list: a typo or a unit since removed must not read
     * as "no records". */
    {
        size_t count = 0;
        for (size_t i = 0; i < nparams && r >= 0; i++) {
            if (strcmp(params[i].key, "org_under") != 0)
                continue;
            used[i] = true;
            int64_t known = 0;
            if ((r = count_sql(db, "SELECT count(*) FROM orgs WHERE code = ?", params[i].value, &known, err)) < 0)
                break;
            if (known == 0) {
                r = sifa_error_set_details(err, SIFA_ENOTFOUND, "org_not_found",
                                           json_pack("{s:s,s:s}", "field", "org_under", "org", params[i].value),
                                           "机构 %s 不存在", params[i].value);
                break;
            }
            if (nb >= MAX_BOUND) {
                r = bad_filter(err, "org_under", "查询条件过多");
                break;
            }
            sifa_sql_add(&where, count == 0 ? " AND org IN (SELECT o.code FROM orgs o JOIN orgs s ON "
                                              "substr(o.path, 1, length(s.path)) = s.path WHERE s.code IN (?"
                                            : ", ?");
            bounds[nb++] = (struct bound){.kind = B_TEXT, .s = params[i].value};
            count++;
        }
        if (count > 0 && r >= 0)
            sifa_sql_add(&where, "))");
    }

    static const struct {
        const char *suffix, *op;
    } ops[] = {{"__gte", ">="}, {"__lte", "<="}, {"__gt", ">"}, {"__lt", "<"}, {"__ne", "<>"}};
    for (size_t fi = 0; fi < m->nfields && r >= 0; fi++) {
        const struct sifa_field *f = &m->fields[fi];
        size_t flen = strlen(f->code), count = 0;
        for (size_t i = 0; i < nparams && r >= 0; i++) {
            const char *key = params[i].key;
            if (strncmp(key, f->code, flen) != 0 || (key[flen] != '\0' && key[flen] != '_'))
                continue;
            const char *suffix = key + flen;
            if (nb >= MAX_BOUND) {
                r = bad_filter(err, key, "查询条件过多");
                break;
            }
            if (*suffix == '\0' && f->personal && rc->crypto != NULL) {
                /* Encrypted values are found through their keyed hash, by exact match only. */
                if (!field_personal_indexed(f)) {
                    r = bad_filter(err, key, "个人信息字段 %s 不能用作查询条件", key);
                    break;
                }
                json_t *probe = json_string(params[i].value);
                char *text = probe ? index_text(f, f->type == SIFA_FIELD_PERSON ? NULL : probe) : NULL;
                if (f->type == SIFA_FIELD_PERSON && probe) {
                    json_t *person = json_pack("{s:O}", "id_number", probe);
                    text = index_text(f, person);
                    json_decref(person);
                }
                json_decref(probe);
                if (text == NULL) {
                    r = bad_filter(err, key, "%s 的查询值无效", key);
                    break;
                }
                blind_index_of(rc, m, f, text, hashes[nhashes]);
                free(text);
                sifa_sql_add(&where, count == 0 ? " AND h_%s IN (?" : ", ?", sifa_rec_name_ok(f->code));
                bounds[nb++] = (struct bound){.kind = B_TEXT, .s = hashes[nhashes++]};
                count++;
                used[i] = true;
                continue;
            }
            if (*suffix == '\0') {
                struct bound b;
                if ((r = convert_value(f, key, params[i].value, &b, err)) < 0)
                    break;
                sifa_sql_add(&where, count == 0 ? " AND f_%s IN (?" : ", ?", sifa_rec_name_ok(f->code));
                bounds[nb++] = b;
                count++;
                used[i] = true;
                continue;
            }
            if (f->personal && strcmp(suffix, "__empty") != 0) {
                r = bad_filter(err, key, "个人信息字段 %s 只能按等于或是否为空查询", f->code);
                break;
            }
            if (strcmp(suffix, "__empty") == 0) {
                bool empty = strcmp(params[i].value, "true") == 0;
                if (!empty && strcmp(params[i].value, "false") != 0) {
                    r = bad_filter(err, key, "%s 应为 true 或 false", key);
                    break;
                }
                sifa_sql_add(&where, empty ? " AND (f_%s IS NULL OR f_%s = '' OR f_%s = '[]')"
                                      : " AND NOT (f_%s IS NULL OR f_%s = '' OR f_%s = '[]')",
                        f->code, f->code, f->code);
                used[i] = true;
                continue;
            }
            for (size_t o = 0; o < SIFA_ARRAY_SIZE(ops); o++)
                if (strcmp(suffix, ops[o].suffix) == 0) {
                    struct bound b;
                    if ((r = convert_value(f, key, params[i].value, &b, err)) < 0)
                        break;
                    sifa_sql_add(&where, " AND f_%s %s ?", f->code, ops[o].op);
                    bounds[nb++] = b;
                    used[i] = true;
                }
        }
        if (count > 0)
            sifa_sql_add(&where, ")");
    }
    for (size_t i = 0; i < nparams && r >= 0; i++)
        if (!used[i])
            r = bad_filter(err, params[i].key, "不认识的查询参数 %s(可用:字段代码及其 __gte/__lte/__gt/__lt/__ne/__empty 后缀、"
                                               "state、org、org_under、q、sort、page、page_size)",
                           params[i].key);

    struct sql order = {0};
    if (r >= 0 && fixed_order != NULL) {
        sifa_sql_add(&order, "%s", fixed_order);
    } else if (r >= 0) {
        bool desc = sort != NULL && sort[0] == '-';
        const char *col = sort ? sort + desc : "id";
        if (strcmp(col, "id") == 0 || strcmp(col, "created_at") == 0 || strcmp(col, "updated_at") == 0 ||
            strcmp(col, "state") == 0)
            sifa_sql_add(&order, " ORDER BY %s %s, id %s", col, desc ? "DESC" : "ASC", desc ? "DESC" : "ASC");
        else if (sifa_module_field(m, col) != NULL && sifa_rec_field_storage(sifa_module_field(m, col)) != ST_JSON &&
                 !sifa_module_field(m, col)->personal)
            sifa_sql_add(&order, " ORDER BY f_%s %s, id %s", sifa_rec_name_ok(col), desc ? "DESC" : "ASC", desc ? "DESC" : "ASC");
        else
            r = bad_filter(err, "sort", "不能按 %s 排序", col);
    }

    int64_t total = 0;
    json_t *items = json_array();
    if (r >= 0) {
        struct sql count_sql_text = {0};
        sifa_sql_add(&count_sql_text, "SELECT COUNT(*) FROM m_%s%s", sifa_rec_name_ok(m->code), where.buf);
        struct sifa_db_stmt *st;
        r = sifa_db_prepare(db, count_sql_text.buf, &st, err);
        sifa_sql_release(&count_sql_text);
        if (r >= 0) {
            for (size_t i = 0; i < nb; i++)
                sifa_rec_bind_bound(st, (int)i + 1, &bounds[i]);
            r = sifa_db_step(st, err);
            if (r == SIFA_DB_ROW)
                total = sifa_db_column_int64(st, 0);
            sifa_db_stmt_done(st);
        }
    }
    if (r >= 0 && each != NULL && total > each->max_rows)
        r = sifa_error_set_details(err, SIFA_ELIMIT, "export_too_large",
                                   json_pack("{s:I,s:I}", "total", (json_int_t)total, "max", (json_int_t)each->max_rows),
                                   "符合条件的记录有 %lld 条,超过一次导出的上限 %lld 条,请缩小查询范围后再导出",
                                   (long long)total, (long long)each->max_rows);
    if (r >= 0 && each != NULL) {
        page = 1;
        page_size = each->max_rows + 1; /* one more than allowed: rows added since the count */
    }
    if (r >= 0) {
        struct sql s = {0};
        select_columns(&s, m);
        sifa_sql_add(&s, "%s%s LIMIT ? OFFSET ?", where.buf, order.buf);
        struct sifa_db_stmt *st;
        r = sifa_db_prepare(db, s.buf, &st, err);
        sifa_sql_release(&s);
        if (r >= 0) {
            for (size_t i = 0; i < nb; i++)
                sifa_rec_bind_bound(st, (int)i + 1, &bounds[i]);
            sifa_db_bind_int64(st, (int)nb + 1, page_size);
            sifa_db_bind_int64(st, (int)nb + 2, (page - 1) * page_size);
            int64_t rows = 0;
            while (each != NULL && (r = sifa_db_step(st, err)) == SIFA_DB_ROW) {
                if (++rows > each->max_rows) {
                    r = sifa_error_set(err, SIFA_ELIMIT, "export_too_large", "记录数超过一次导出的上限 %lld 条",
                                       (long long)each->max_rows);
                    break;
                }
                json_t *rec = record_from_row(rc, m, st);
                r = reveal_record(rc, m, rec, err);
                if (r >= 0)
                    r = each->fn(each->arg, rec, err);
                json_decref(rec);
                if (r < 0)
                    break;
            }
            while (each == NULL && (r = sifa_db_step(st, err)) == SIFA_DB_ROW)
                json_array_append_new(items, record_from_row(rc, m, st));
            sifa_db_stmt_done(st);
            size_t ri;
            json_t *rec;
            json_array_foreach(items, ri, rec) if (r >= 0) r = reveal_record(rc, m, rec, err);
        }
    }
    sifa_sql_release(&where);
    sifa_sql_release(&order);
    free(search_pattern);
    free(used);
    free(hashes);
    if (r < 0) {
        json_decref(items);
        return r;
    }
    *ret_page = json_pack("{s:o,s:I,s:I,s:I}", "items", items, "total", (json_int_t)total, "page", (json_int_t)page,
                          "page_size", (json_int_t)page_size);
    return 0;
}

int sifa_record_list(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                     const struct sifa_record_query_param *params, size_t nparams, json_t **ret_page,
                     struct sifa_error *err)
{
    return list_records(db, rc, m, params, nparams, NULL, NULL, NULL, NULL, ret_page, err);
}

int sifa_record_list_each(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                          const struct sifa_record_query_param *params, size_t nparams, int64_t max_rows,
                          int (*each)(void *arg, json_t *record, struct sifa_error *err), void *arg,
                          int64_t *ret_total, struct sifa_error *err)
{
    assert(max_rows >= 0 && each != NULL);
    struct list_each e = {.max_rows = max_rows, .fn = each, .arg = arg};
    json_t *page = NULL;
    int r = list_records(db, rc, m, params, nparams, NULL, NULL, NULL, &e, &page, err);
    if (r < 0)
        return r;
    if (ret_total != NULL)
        *ret_total = json_integer_value(json_object_get(page, "total"));
    json_decref(page);
    return 0;
}

int sifa_record_list_indicator(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_indicator *ind,
                               const struct sifa_indicator_slice *slice, int64_t page, int64_t page_size,
                               json_t **ret_page, struct sifa_error *err)
{
    const struct sifa_module *m = ind->module;
    if (m == NULL)
        return sifa_error_set(err, SIFA_EINVALID, "derived_indicator", "派生指标没有直接对应的记录");
    struct sql where = {0}, day = {0}, order = {0};
    struct bounds b = {0};
    sifa_aggregate_where(ind, &where, &b);
    bool stock_at = ind->kind == SIFA_IND_STOCK && slice->series == 's';
    sifa_aggregate_day_sql(ind, slice->series == 'o', &day);
    if (stock_at) {
        /* in register on the last day: entered on or before it, not left by then */
        sifa_sql_add(&where, " AND %s <= ?", day.buf);
        sifa_bounds_add_text(&b, slice->to);
        if (ind->end_field != NULL) {
            struct sql end = {0};
            sifa_aggregate_day_sql(ind, true, &end);
            sifa_sql_add(&where, " AND (%s IS NULL OR %s > ?)", end.buf, end.buf);
            sifa_bounds_add_text(&b, slice->to);
            sifa_sql_release(&end);
        }
    } else {
        sifa_sql_add(&where, " AND %s >= ? AND %s <= ?", day.buf, day.buf);
        sifa_bounds_add_text(&b, slice->from);
        sifa_bounds_add_text(&b, slice->to);
    }
    if (slice->org != NULL) {
        sifa_sql_add(&where, " AND f_%s IN (SELECT o.code FROM orgs o JOIN orgs s ON substr(o.path, 1, length(s.path)) = "
                             "s.path WHERE s.code = ?)",
                     sifa_rec_name_ok(ind->org_field->code));
        sifa_bounds_add_text(&b, slice->org);
    }
    if (slice->by != NULL) {
        if (slice->by_value != NULL && slice->by_value[0] != '\0') {
            sifa_sql_add(&where, " AND f_%s = ?", sifa_rec_name_ok(slice->by->code));
            sifa_bounds_add_text(&b, slice->by_value);
        } else {
            sifa_sql_add(&where, " AND (f_%s IS NULL OR f_%s = '')", sifa_rec_name_ok(slice->by->code), slice->by->code);
        }
    }
    sifa_sql_add(&order, " ORDER BY %s, id", day.buf);
    char page_text[24], size_text[24];
    snprintf(page_text, sizeof(page_text), "%lld", (long long)page);
    snprintf(size_text, sizeof(size_text), "%lld", (long long)page_size);
    struct sifa_record_query_param params[] = {{"page", page_text}, {"page_size", size_text}};
    int r = list_records(db, rc, m, params, 2, where.buf, &b, order.buf, NULL, ret_page, err);
    sifa_sql_release(&where);
    sifa_sql_release(&day);
    sifa_sql_release(&order);
    sifa_bounds_release(&b);
    return r;
}

struct due_item {
    int64_t at, id;
    json_t *item; /* borrowed */
};

static int compare_due(const void *a, const void *b)
{
    const struct due_item *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int sifa_record_deadlines_due(struct sifa_db *db, const struct sifa_record_ctx *rc, int64_t before, const char *org,
                              json_t **ret_list, struct sifa_error *err)
{
    json_t *list = json_array();
    int r = 0;
    char before_day[11], before_at[32];
    date_text(china_date(before), before_day);
    iso_time(before, before_at);
    for (size_t i = 0; i < rc->model->nmodules && r >= 0; i++) {
        const struct sifa_module *m = &rc->model->modules[i];
        const struct sifa_record_scope *module_scope = rc->scope;
        if (m->ndeadlines > 0 && rc->module_scope != NULL && rc->module_scope(rc->module_scope_arg, m, &module_scope) != 0)
            continue;
        for (size_t k = 0; k < m->ndeadlines && r >= 0; k++) {
            const struct sifa_deadline *d = &m->deadlines[k];
            struct sql s = {0};
            sifa_sql_add(&s, "SELECT id, d_%s_due, state%s%s FROM m_%s WHERE deleted_at IS NULL AND d_%s_due IS NOT NULL "
                        "AND d_%s_due <= ?",
                    sifa_rec_name_ok(d->code), m->numbering ? ", f_" : "", m->numbering ? m->numbering->field->code : "",
                    sifa_rec_name_ok(m->code), d->code, d->code);
            for (size_t q = 0; q < d->nstop_states; q++)
                sifa_sql_add(&s, q == 0 ? " AND state NOT IN (?" : ", ?");
            if (d->nstop_states)
                sifa_sql_add(&s, ")");
            if (org)
                sifa_sql_add(&s, " AND org = ?");
            const char *scope_params[SCOPE_PARAMS_MAX];
            size_t nsp = 0;
            r = scope_sql(module_scope, &s, scope_params, &nsp, SCOPE_PARAMS_MAX, err);
            struct sifa_db_stmt *st;
            if (r >= 0)
                r = sifa_db_prepare(db, s.buf, &st, err);
            sifa_sql_release(&s);
            if (r < 0)
                break;
            int idx = 1;
            sifa_db_bind_text(st, idx++, d->unit == SIFA_DEADLINE_HOURS ? before_at : before_day, -1);
            for (size_t q = 0; q < d->nstop_states; q++)
                sifa_db_bind_text(st, idx++, d->stop_states[q]->code, -1);
            if (org)
                sifa_db_bind_text(st, idx++, org, -1);
            for (size_t q = 0; q < nsp; q++)
                sifa_db_bind_text(st, idx++, scope_params[q], -1);
            while ((r = sifa_db_step(st, err)) == SIFA_DB_ROW) {
                json_t *dl = deadline_json(rc, d, sifa_db_column_text(st, 1), sifa_db_column_text(st, 2));
                json_t *item = json_pack("{s:s,s:s,s:I,s:s,s:s,s:O,s:O}", "module", m->code, "module_name", m->name,
                                         "record_id", (json_int_t)sifa_db_column_int64(st, 0), "deadline", d->code,
                                         "name", d->name, "due", json_object_get(dl, "due"), "overdue",
                                         json_object_get(dl, "overdue"));
                json_object_set_new(item, "number", m->numbering ? column_json(st, 3) : json_null());
                json_decref(dl);
                json_array_append_new(list, item);
            }
            sifa_db_stmt_done(st);
        }
    }
    if (r < 0) {
        json_decref(list);
        return r;
    }
    /* Day deadlines end at 24:00 China time; hour deadlines at their instant: one scale for both. */
    size_t n = json_array_size(list);
    struct due_item *items = sifa_xcalloc(n ? n : 1, sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i);
        const char *due = json_string_value(json_object_get(item, "due"));
        int64_t t = 0;
        int32_t ymd;
        if (due != NULL && strlen(due) == 10 && sifa_check_date(due, 10, &ymd, NULL) == 0)
            t = (sifa_check_date_to_days(ymd) + 1) * 86400 - SIFA_CHECK_CHINA_UTC_OFFSET;
        else if (due != NULL)
            sifa_check_datetime(due, strlen(due), &t, NULL);
        items[i] = (struct due_item){t, json_integer_value(json_object_get(item, "record_id")), item};
    }
    qsort(items, n, sizeof(*items), compare_due);
    json_t *sorted = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(sorted, items[i].item);
    free(items);
    json_decref(list);
    *ret_list = sorted;
    return 0;
}

/* ---------- which records cite a file ---------- */

static bool field_holds_attachment(const struct sifa_field *f)
{
    if (f->type == SIFA_FIELD_ATTACHMENT)
        return true;
    for (size_t k = 0; k < f->nsub; k++)
        if (field_holds_attachment(&f->sub[k]))
            return true;
    return false;
}

/* The records citing a file come from the file index (record_files, kept by every write), then
 * each is looked up by id under the caller's scope for its module: a read costs a few index
 * lookups however many records the modules hold. */
int sifa_record_file_cited(struct sifa_db *db, const struct sifa_record_ctx *rc, const char *file_id,
                           bool *ret_readable, bool *ret_cited, struct sifa_error *err)
{
    if (!sifa_record_file_id_valid(file_id))
        return sifa_error_set(err, SIFA_ENOTFOUND, "file_not_found", "文件不存在");
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, "SELECT module, record_id FROM record_files WHERE file_id = ? LIMIT 1000", &st, err);
    if (r < 0)
        return r;
    sifa_db_bind_text(st, 1, file_id, -1);
    json_t *citing = json_array(); /* [[module, id]…]: read first, then looked up one by one */
    while ((r = sifa_db_step(st, err)) == SIFA_DB_ROW)
        json_array_append_new(citing, json_pack("[s,I]", sifa_db_column_text(st, 0),
                                                (json_int_t)sifa_db_column_int64(st, 1)));
    sifa_db_stmt_done(st);
    bool readable = false, cited = false;
    size_t i;
    json_t *pair;
    json_array_foreach(citing, i, pair)
    {
        if (r < 0 || readable)
            break;
        const struct sifa_module *m =
            rc->model ? sifa_model_module(rc->model, json_string_value(json_array_get(pair, 0))) : NULL;
        if (m == NULL || !module_holds_attachments(m))
            continue; /* a module no longer defined, or without attachments now: nothing shows the file */
        cited = true;
        const struct sifa_record_scope *module_scope = rc->scope;
        if (rc->module_scope != NULL && rc->module_scope(rc->module_scope_arg, m, &module_scope) != 0)
            continue; /* the caller may not read this module */
        struct sql q = {0};
        sifa_sql_add(&q, "SELECT 1 FROM m_%s WHERE id = ? AND deleted_at IS NULL", sifa_rec_name_ok(m->code));
        const char *scope_params[SCOPE_PARAMS_MAX];
        size_t nsp = 0;
        r = scope_sql(module_scope, &q, scope_params, &nsp, SCOPE_PARAMS_MAX, err);
        if (r >= 0)
            r = sifa_db_prepare(db, q.buf, &st, err);
        sifa_sql_release(&q);
        if (r < 0)
            break;
        sifa_db_bind_int64(st, 1, json_integer_value(json_array_get(pair, 1)));
        for (size_t k = 0; k < nsp; k++)
            sifa_db_bind_text(st, (int)k + 2, scope_params[k], -1);
        r = sifa_db_step(st, err);
        readable = r == SIFA_DB_ROW;
        sifa_db_stmt_done(st);
    }
    json_decref(citing);
    if (r < 0)
        return r;
    *ret_readable = readable;
    if (ret_cited != NULL)
        *ret_cited = cited;
    return 0;
}

/* Fills the file index from the records when it has never been filled (a database from before
 * it; record_files_filled says it was): attachments are read from every module's live rows. */
static int files_backfill(struct sifa_db *db, const struct sifa_model *model, struct sifa_error *err)
{
    bool done = false;
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, "SELECT 1 FROM record_files_filled", &st, err);
    if (r < 0)
        return r;
    r = sifa_db_step(st, err);
    done = r == SIFA_DB_ROW;
    sifa_db_stmt_done(st);
    if (r < 0 || done)
        return r < 0 ? r : 0;
    for (size_t i = 0; r >= 0 && i < model->nmodules; i++) {
        const struct sifa_module *m = &model->modules[i];
        if (!module_holds_attachments(m))
            continue;
        struct sql q = {0};
        sifa_sql_add(&q, "SELECT id");
        for (size_t k = 0; k < m->nfields; k++)
            if (field_holds_attachment(&m->fields[k]))
                sifa_sql_add(&q, ", f_%s", sifa_rec_name_ok(m->fields[k].code));
        sifa_sql_add(&q, " FROM m_%s WHERE deleted_at IS NULL", sifa_rec_name_ok(m->code));
        r = sifa_db_prepare(db, q.buf, &st, err);
        sifa_sql_release(&q);
        if (r < 0)
            break;
        json_t *rows = json_array(); /* [id, {field: value}] read first, indexed after */
        while ((r = sifa_db_step(st, err)) == SIFA_DB_ROW) {
            json_t *values = json_object();
            int col = 1;
            for (size_t k = 0; k < m->nfields; k++) {
                if (!field_holds_attachment(&m->fields[k]))
                    continue;
                const char *text = sifa_db_column_text(st, col++);
                json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
                if (v != NULL)
                    json_object_set_new(values, m->fields[k].code, v);
            }
            json_array_append_new(rows, json_pack("[I,o]", (json_int_t)sifa_db_column_int64(st, 0), values));
        }
        sifa_db_stmt_done(st);
        size_t n;
        json_t *row;
        json_array_foreach(rows, n, row)
        {
            if (r < 0)
                break;
            r = files_index(db, m, json_integer_value(json_array_get(row, 0)), json_array_get(row, 1), true, err);
        }
        json_decref(rows);
    }
    if (r < 0)
        return r;
    char at[32];
    iso_time(time(NULL), at);
    if ((r = sifa_db_prepare(db,
                             "INSERT INTO record_files_filled (singleton, filled_at) VALUES (1, ?)",
                             &st, err)) < 0)
        return r;
    sifa_db_bind_text(st, 1, at, -1);
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return r < 0 ? r : 0;
}
