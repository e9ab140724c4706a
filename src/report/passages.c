/* passages.c — the annual report's narrative passages as staff edit them: one text per (year, org
 * unit, key), the key naming a {{#passage key}} of the template. A passage that was never stored
 * reads as the template's default text. Layer: report. The whole jurisdiction (no org unit) is
 * stored with org = '' so that the primary key needs no NULL. */
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "base/text.h"
#include "report/report.h"

/* Versions continue the core (1–3, 6) and auth (4, 5) numbering; sifa_cli_migrate applies this list
 * after those. */
const struct sifa_db_migration sifa_report_migrations[] = {
    {7, "report_passages",
     "CREATE TABLE report_passages (\n"
     "    year INTEGER NOT NULL,\n"
     "    org TEXT NOT NULL,\n"
     "    key TEXT NOT NULL,\n"
     "    text TEXT NOT NULL,\n"
     "    updated_at TEXT NOT NULL,\n"
     "    updated_by TEXT,\n"
     "    PRIMARY KEY (year, org, key)\n"
     ");\n"},
};
const size_t sifa_report_migrations_count = SIFA_ARRAY_SIZE(sifa_report_migrations);

int sifa_report_passages_load(struct sifa_db *db, int year, const char *org, json_t **ret, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc = sifa_db_prepare(db,
                             "SELECT key, text, updated_at, updated_by FROM report_passages WHERE year = ? AND org = ? "
                             "ORDER BY key",
                             &st, err);
    if (rc < 0)
        return rc;
    sifa_db_bind_int64(st, 1, year);
    sifa_db_bind_text(st, 2, org ? org : "", -1);
    json_t *out = json_object();
    while ((rc = sifa_db_step(st, err)) == SIFA_DB_ROW) {
        const char *by = sifa_db_column_text(st, 3);
        json_object_set_new(out, sifa_db_column_text(st, 0),
                            json_pack("{s:s,s:s,s:s?}", "text", sifa_db_column_text(st, 1), "updated_at",
                                      sifa_db_column_text(st, 2), "updated_by", by));
    }
    sifa_db_stmt_done(st);
    if (rc < 0) {
        json_decref(out);
        return rc;
    }
    *ret = out;
    return 0;
}

json_t *sifa_report_passages_texts(json_t *stored)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(stored, key, v)
    {
        json_t *text = json_object_get(v, "text");
        if (json_is_string(text))
            json_object_set(out, key, text);
    }
    return out;
}

int sifa_report_passage_validate(const char *text, struct sifa_error *err)
{
    size_t len = strlen(text);
    if (len > SIFA_REPORT_PASSAGE_MAX_BYTES)
        return sifa_error_set_details(err, SIFA_ELIMIT, "validation",
                                      json_pack("[{s:s,s:s,s:s}]", "field", "text", "code", "max_length", "message",
                                                "段落文字不能超过 32768 字节"),
                                      "段落文字过长(最多 %d 字节)", SIFA_REPORT_PASSAGE_MAX_BYTES);
    if (!sifa_utf8_valid(text, len))
        return sifa_error_set_details(err, SIFA_EINVALID, "validation",
                                      json_pack("[{s:s,s:s,s:s}]", "field", "text", "code", "invalid", "message",
                                                "段落文字不是有效的 UTF-8"),
                                      "段落文字不是有效的 UTF-8");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f)
            return sifa_error_set_details(err, SIFA_EINVALID, "validation",
                                          json_pack("[{s:s,s:s,s:s}]", "field", "text", "code", "invalid", "message",
                                                    "段落文字中不能有控制字符"),
                                          "段落文字中不能有控制字符(位置 %zu)", i);
    }
    return 0;
}

int sifa_report_passage_put(struct sifa_db *db, int year, const char *org, const char *key, const char *text,
                            const char *actor, const char *at, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int rc;
    if (text == NULL) {
        rc = sifa_db_prepare(db, "DELETE FROM report_passages WHERE year = ? AND org = ? AND key = ?", &st, err);
    } else {
        if ((rc = sifa_report_passage_validate(text, err)) < 0)
            return rc;
        rc = sifa_db_prepare(db,
                             "INSERT INTO report_passages (year, org, key, text, updated_at, updated_by) "
                             "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (year, org, key) DO UPDATE SET "
                             "text = excluded.text, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                             &st, err);
    }
    if (rc < 0)
        return rc;
    sifa_db_bind_int64(st, 1, year);
    sifa_db_bind_text(st, 2, org ? org : "", -1);
    sifa_db_bind_text(st, 3, key, -1);
    if (text != NULL) {
        sifa_db_bind_text(st, 4, text, -1);
        sifa_db_bind_text(st, 5, at ? at : "", -1);
        if (actor != NULL)
            sifa_db_bind_text(st, 6, actor, -1);
        else
            sifa_db_bind_null(st, 6);
    }
    rc = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return rc < 0 ? rc : 0;
}
