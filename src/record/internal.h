/* internal.h — what the record layer's files share and nothing above them may use: the SQL text
 * builder (names only; values are always bound), the storage class of each field type, bound
 * values, and the aggregate maintenance store.c calls on every write (aggregate.c).
 * Layer: record (private). */
#ifndef SIFA_RECORD_INTERNAL_H
#define SIFA_RECORD_INTERNAL_H

#include "db/db.h"
#include "model/model.h"

struct sql {
    char *buf; /* owned; NULL until the first sifa_sql_add */
    size_t len, cap;
};
void sifa_sql_add(struct sql *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sifa_sql_release(struct sql *s);

/* SQL text that depends on a module's definition alone (the row INSERT, UPDATE and SELECT),
 * formatted once per (model, module, kind) instead of once per record: formatting the INSERT of
 * a 25-field module was a tenth of the writer's work per create. build appends the text to s.
 * Returns a new string (a copy: another thread may evict the entry). model NULL (tests that
 * build modules by hand): built every time. */
enum sifa_module_sql { SIFA_MODULE_SQL_INSERT, SIFA_MODULE_SQL_UPDATE, SIFA_MODULE_SQL_SELECT, SIFA_MODULE_SQL_KINDS };
char *sifa_rec_module_sql(const struct sifa_model *model, const struct sifa_module *m, enum sifa_module_sql kind,
                          void (*build)(struct sql *s, const struct sifa_module *m));

/* Defensive: the loader already guarantees codes are [a-z][a-z0-9_]*; a failure here is a bug,
 * never input, and aborts. Returns code. */
const char *sifa_rec_name_ok(const char *code);

enum storage { ST_INTEGER, ST_REAL, ST_TEXT, ST_JSON };
enum storage sifa_rec_field_storage(const struct sifa_field *f);

/* A value bound to a statement parameter; s is borrowed. */
struct bound {
    enum { B_INT, B_REAL, B_TEXT } kind;
    int64_t i;
    double d;
    const char *s;
};
void sifa_rec_bind_bound(struct sifa_db_stmt *st, int idx, const struct bound *b);

/* A growing list of bound values. */
struct bounds {
    struct bound *items; /* owned */
    size_t n, cap;
};
void sifa_bounds_add_text(struct bounds *b, const char *s);
void sifa_bounds_add_int(struct bounds *b, int64_t i);
void sifa_bounds_bind(struct sifa_db_stmt *st, const struct bounds *b, int first);
void sifa_bounds_release(struct bounds *b);

/* ---- aggregates (aggregate.c) ----
 * Notes that record id of module m is written in this transaction: sign +1 after creating it,
 * -1 before changing or deleting it (the first such call in a batch keeps a copy of the columns
 * the indicators read). Nothing when no indicator uses m. Must run on the writing connection
 * inside the write's transaction; sifa_record_flush_aggregates turns the notes into figures. */
int sifa_aggregate_capture(struct sifa_db *db, const struct sifa_model *model, const struct sifa_module *m, int64_t id,
                           int sign, struct sifa_error *err);
/* Creates the connection's table of touched records (sifa_record_connection_init calls it). */
int sifa_aggregate_connection_init(struct sifa_db *db, struct sifa_error *err);
/* Appends " AND <the indicator's conditions>" over the module's table to where, binding values
 * into b. */
void sifa_aggregate_where(const struct sifa_indicator *ind, struct sql *where, struct bounds *b);
/* The SQL expression of the attribution day of a record for the indicator ("YYYY-MM-DD" or NULL);
 * end: the stock's leaving day instead. */
void sifa_aggregate_day_sql(const struct sifa_indicator *ind, bool end, struct sql *s);

#endif
