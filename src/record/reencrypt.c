/* reencrypt.c — walks every sealed personal value the record engine has stored, so that they can
 * be counted by key and moved to the current key (`sifa key reencrypt`, `sifa key retire`).
 * Layer: record. The engine seals values (see protect_record and history_add in store.c) in two
 * places: the f_ columns of module tables — a text column holds "pd1:…" itself, a JSON column
 * (person, group, attachment) holds it as a JSON string, at the top or inside a group's entries —
 * and the changes of record_history ({field: {old, new}}, a create's {"*created": {field: value}},
 * with the same shapes). The tables are taken from module_columns, not from the loaded
 * definitions, so a module or field whose definition has since been removed, or whose personal
 * flag was turned off, is still walked; deleted records are walked too. What counts as sealed is
 * only that a string starts with "pd1:"; the visitor decides (it knows the format, the record
 * layer does not).
 * Invariant: a value is only ever replaced by what the visitor returned, in the row it came
 * from, within the caller's transaction. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "record/internal.h"
#include "record/record.h"

#define SEALED_PREFIX "pd1:"

enum { PHASE_MODULES, PHASE_HISTORY, PHASE_DONE };

struct walk {
    sifa_record_sealed_fn visit;
    void *arg;
    const char *table;
    int64_t row_id;
    int64_t replaced;
};

static bool sealed_text(const char *s)
{
    return s != NULL && strncmp(s, SEALED_PREFIX, sizeof(SEALED_PREFIX) - 1) == 0;
}

/* Visits one text; *ret_new (new) when the visitor replaced it. */
static int visit_text(struct walk *w, const char *text, char **ret_new, struct sifa_error *err)
{
    *ret_new = NULL;
    if (!sealed_text(text))
        return 0;
    char *out = NULL;
    int r = w->visit(w->arg, w->table, w->row_id, text, &out, err);
    if (r < 0)
        return r;
    if (r > 0) {
        assert(out != NULL);
        *ret_new = out;
        w->replaced++;
        return 1;
    }
    return 0;
}

/* Visits every string in v, replacing in place; returns how many were replaced. Depth is bounded
 * by jansson's parser (JSON_PARSER_MAX_DEPTH). */
static int walk_json(struct walk *w, json_t *v, struct sifa_error *err)
{
    int changed = 0, r = 0;
    if (json_is_string(v)) {
        char *out;
        if ((r = visit_text(w, json_string_value(v), &out, err)) > 0) {
            json_string_set(v, out);
            free(out);
        }
        return r;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if ((r = walk_json(w, item, err)) < 0)
                return r;
            changed += r;
        }
    } else if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach(v, key, item)
        {
            if ((r = walk_json(w, item, err)) < 0)
                return r;
            changed += r;
        }
    }
    return changed;
}

/* The stored text of one column with its sealed values visited: *ret_new (new) when anything was
 * replaced. json: the column holds JSON (person, group, attachment fields; history changes). */
static int walk_column(struct walk *w, const char *text, bool json, char **ret_new, struct sifa_error *err)
{
    *ret_new = NULL;
    if (!json)
        return visit_text(w, text, ret_new, err);
    if (strstr(text, SEALED_PREFIX) == NULL)
        return 0; /* nothing sealed in it: spare the parse */
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    if (v == NULL)
        return 0; /* not JSON: nothing the engine sealed */
    int r = walk_json(w, v, err);
    if (r > 0) {
        *ret_new = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (*ret_new == NULL)
            r = sifa_error_set(err, SIFA_EINTERNAL, "reencrypt", "无法序列化重新加密后的值");
    }
    json_decref(v);
    return r;
}

static bool json_storage(const char *type_name)
{
    return strcmp(type_name, sifa_field_type_name(SIFA_FIELD_PERSON)) == 0 ||
           strcmp(type_name, sifa_field_type_name(SIFA_FIELD_GROUP)) == 0 ||
           strcmp(type_name, sifa_field_type_name(SIFA_FIELD_ATTACHMENT)) == 0;
}

/* Moves the cursor to the module table after cur->module, or to the history when none is left. */
static int next_module(struct sifa_db *db, struct sifa_record_sealed_cursor *cur, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db,
                            "SELECT module FROM module_columns WHERE name = '@table' AND module > ? "
                            "ORDER BY module LIMIT 1",
                            &st, err);
    if (r < 0)
        return r;
    sifa_db_bind_text(st, 1, cur->module, -1);
    r = sifa_db_step(st, err);
    if (r == SIFA_DB_ROW)
        snprintf(cur->module, sizeof(cur->module), "%s", sifa_db_column_text(st, 0));
    sifa_db_stmt_done(st);
    if (r < 0)
        return r;
    if (r != SIFA_DB_ROW) {
        cur->phase = PHASE_HISTORY;
        cur->module[0] = '\0';
    } else if (!sifa_model_code_valid(cur->module)) {
        return sifa_error_set(err, SIFA_EINTERNAL, "bad_registry", "module_columns 中的模块名 %.64s 不合法",
                              cur->module);
    }
    cur->after_id = 0;
    return 0;
}

/* One batch of module table cur->module: up to max_rows rows after cur->after_id. */
static int module_batch(struct sifa_db *db, struct sifa_record_sealed_cursor *cur, int64_t max_rows, struct walk *w,
                        int64_t *ret_rows, struct sifa_error *err)
{
    /* The columns as the registry has them (in step with the table: store.c changes both in
     * one transaction). */
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db,
                            "SELECT name, type FROM module_columns WHERE module = ? AND substr(name, 1, 1) <> '@' "
                            "ORDER BY name",
                            &st, err);
    if (r < 0)
        return r;
    sifa_db_bind_text(st, 1, cur->module, -1);
    json_t *cols = json_array();
    while ((r = sifa_db_step(st, err)) == SIFA_DB_ROW)
        json_array_append_new(cols, json_pack("[s,b]", sifa_db_column_text(st, 0),
                                              json_storage(sifa_db_column_text(st, 1))));
    sifa_db_stmt_done(st);
    struct sql sel = {0};
    sifa_sql_add(&sel, "SELECT id");
    size_t ncols = json_array_size(cols);
    for (size_t i = 0; r >= 0 && i < ncols; i++) {
        const char *name = json_string_value(json_array_get(json_array_get(cols, i), 0));
        if (!sifa_model_code_valid(name))
            r = sifa_error_set(err, SIFA_EINTERNAL, "bad_registry", "module_columns 中的字段名 %.64s 不合法", name);
        else
            sifa_sql_add(&sel, ", f_%s", name);
    }
    sifa_sql_add(&sel, " FROM m_%s WHERE id > ? ORDER BY id LIMIT ?", cur->module);
    char table[SIFA_MODEL_CODE_MAX + 3];
    snprintf(table, sizeof(table), "m_%s", cur->module);
    w->table = table;
    json_t *updates = json_array(); /* [[id, {column: new text}]] applied once the read is done */
    int64_t rows = 0;
    if (r >= 0)
        r = sifa_db_prepare(db, sel.buf, &st, err);
    sifa_sql_release(&sel);
    if (r >= 0) {
        sifa_db_bind_int64(st, 1, cur->after_id);
        sifa_db_bind_int64(st, 2, max_rows);
        while (r >= 0 && (r = sifa_db_step(st, err)) == SIFA_DB_ROW) {
            rows++;
            w->row_id = cur->after_id = sifa_db_column_int64(st, 0);
            json_t *changed = NULL;
            for (size_t i = 0; r >= 0 && i < ncols; i++) {
                if (sifa_db_column_type(st, (int)i + 1) != SIFA_DB_TEXT)
                    continue;
                json_t *c = json_array_get(cols, i);
                char *out = NULL;
                r = walk_column(w, sifa_db_column_text(st, (int)i + 1), json_is_true(json_array_get(c, 1)), &out,
                                err);
                if (out != NULL) {
                    if (changed == NULL)
                        changed = json_object();
                    json_object_set_new(changed, json_string_value(json_array_get(c, 0)), json_string(out));
                    free(out);
                }
            }
            if (changed != NULL)
                json_array_append_new(updates, json_pack("[I,o]", (json_int_t)w->row_id, changed));
        }
        sifa_db_stmt_done(st);
    }
    size_t i;
    json_t *u;
    json_array_foreach(updates, i, u)
    {
        if (r < 0)
            break;
        struct sql upd = {0};
        sifa_sql_add(&upd, "UPDATE m_%s SET ", cur->module);
        const char *name;
        json_t *text;
        bool first = true;
        json_object_foreach(json_array_get(u, 1), name, text)
        {
            sifa_sql_add(&upd, "%sf_%s = ?", first ? "" : ", ", name);
            first = false;
        }
        sifa_sql_add(&upd, " WHERE id = ?");
        r = sifa_db_prepare(db, upd.buf, &st, err);
        sifa_sql_release(&upd);
        if (r < 0)
            break;
        int idx = 1;
        json_object_foreach(json_array_get(u, 1), name, text)
            sifa_db_bind_text(st, idx++, json_string_value(text), (ssize_t)json_string_length(text));
        sifa_db_bind_int64(st, idx, json_integer_value(json_array_get(u, 0)));
        r = sifa_db_step(st, err);
        sifa_db_stmt_done(st);
    }
    json_decref(updates);
    json_decref(cols);
    if (r < 0)
        return r;
    *ret_rows = rows;
    return 0;
}

/* One batch of record_history after cur->after_id. */
static int history_batch(struct sifa_db *db, struct sifa_record_sealed_cursor *cur, int64_t max_rows, struct walk *w,
                         int64_t *ret_rows, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, "SELECT id, changes FROM record_history WHERE id > ? ORDER BY id LIMIT ?", &st, err);
    if (r < 0)
        return r;
    sifa_db_bind_int64(st, 1, cur->after_id);
    sifa_db_bind_int64(st, 2, max_rows);
    w->table = "record_history";
    json_t *updates = json_array();
    int64_t rows = 0;
    while (r >= 0 && (r = sifa_db_step(st, err)) == SIFA_DB_ROW) {
        rows++;
        w->row_id = cur->after_id = sifa_db_column_int64(st, 0);
        char *out = NULL;
        r = walk_column(w, sifa_db_column_text(st, 1), true, &out, err);
        if (out != NULL) {
            json_array_append_new(updates, json_pack("[I,s]", (json_int_t)w->row_id, out));
            free(out);
        }
    }
    sifa_db_stmt_done(st);
    size_t i;
    json_t *u;
    json_array_foreach(updates, i, u)
    {
        if (r < 0)
            break;
        if ((r = sifa_db_prepare(db, "UPDATE record_history SET changes = ? WHERE id = ?", &st, err)) < 0)
            break;
        sifa_db_bind_text(st, 1, json_string_value(json_array_get(u, 1)), -1);
        sifa_db_bind_int64(st, 2, json_integer_value(json_array_get(u, 0)));
        r = sifa_db_step(st, err);
        sifa_db_stmt_done(st);
    }
    json_decref(updates);
    if (r < 0)
        return r;
    *ret_rows = rows;
    return 0;
}

int sifa_record_sealed_step(struct sifa_db *db, struct sifa_record_sealed_cursor *cur, int64_t max_rows,
                            sifa_record_sealed_fn visit, void *arg, int64_t *ret_replaced, struct sifa_error *err)
{
    assert(max_rows > 0);
    struct walk w = {.visit = visit, .arg = arg};
    int r = 0;
    int64_t rows = 0;
    if (cur->phase == PHASE_MODULES && cur->module[0] == '\0')
        r = next_module(db, cur, err);
    if (r >= 0 && cur->phase == PHASE_MODULES) {
        r = module_batch(db, cur, max_rows, &w, &rows, err);
        /* A short batch is the table's last: the next step starts on the next table. */
        if (r >= 0 && rows < max_rows)
            r = next_module(db, cur, err);
    } else if (r >= 0 && cur->phase == PHASE_HISTORY) {
        r = history_batch(db, cur, max_rows, &w, &rows, err);
        if (r >= 0 && rows < max_rows)
            cur->phase = PHASE_DONE;
    }
    if (r < 0)
        return r;
    if (ret_replaced != NULL)
        *ret_replaced = w.replaced;
    return cur->phase == PHASE_DONE ? 0 : 1;
}
