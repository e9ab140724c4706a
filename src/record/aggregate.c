/* aggregate.c — the aggregates behind every base indicator (count, sum, distinct, stock), kept
 * current by the record engine as records change, and their rebuild and verification.
 * Layer: record. Owns the tables stat_values, stat_keys and stat_definitions (migration 6) and
 * the connection's temporary tables temp.sifa_stat_touched and temp.sifa_stat_old_<module>.
 *
 * How: an indicator's definition becomes one SELECT over its module's rows that yields each
 * record's contributions (indicator, series, org, day, breakdown, key, value, 1). A write only
 * notes which record it touched (and, on its first change in the batch, a copy of the columns the
 * indicators read); before COMMIT, one statement per module adds the contributions of the touched
 * records as they are now and subtracts those of their old copies, into every level (day, month,
 * year). So an update that moves a record between org units, days or breakdowns moves its
 * contribution, one that changes nothing relevant cancels out, and a record changed many times in
 * a batch is evaluated once. Aggregates are stored by the record's own org
 * unit; the stats layer rolls them up the org tree when reading (at most one row per org unit and
 * period piece), so the cost of a read does not grow with the number of records, and moving an
 * org unit moves its figures without a rebuild.
 *
 * Verification does not trust the incremental path: it recomputes the day-level figures with
 * plain GROUP BY queries over the records and compares every level. Zero rows (every
 * contribution withdrawn) are kept and mean "no data"; readers and verify ignore them.
 *
 * SQL: stat_values and stat_keys are WITHOUT ROWID tables and the flush uses WITH … MATERIALIZED
 * (SQLite and PostgreSQL both accept it); its ungrouped form, whose rows may repeat a key, only
 * where the engine allows that (sifa_db_upsert_repeats_keys). Every value — indicator codes,
 * condition values, days — is bound; names come from the validated definitions. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "record/internal.h"
#include "record/record.h"

/* Levels: 'D' (day: totals only), 'M' (month) and 'Y' (year), both with breakdowns. A quarter is
 * read as its three months, and a breakdown needs whole months: breakdowns by day would multiply
 * the rows every write touches, which is what a write pays for. */
#define PERIOD_SQL(level, day)                                                                                       \
    "CASE " level " WHEN 'D' THEN " day " WHEN 'M' THEN substr(" day ", 1, 7) ELSE substr(" day ", 1, 4) END"
#define LEVELS_SQL "(SELECT 'M' AS level UNION ALL SELECT 'Y')"
#define ALL_LEVELS_SQL "(SELECT 'D' AS level UNION ALL SELECT 'M' UNION ALL SELECT 'Y')"

static bool is_base(const struct sifa_indicator *ind)
{
    return ind->module != NULL;
}

void sifa_aggregate_day_sql(const struct sifa_indicator *ind, bool end, struct sql *s)
{
    const struct sifa_field *f = end ? ind->end_field : ind->date_field;
    if (f == NULL) {
        sifa_sql_add(s, "NULL");
        return;
    }
    /* datetimes are stored as UTC text; the day they count for is the day in China */
    if (f->type == SIFA_FIELD_DATETIME)
        sifa_sql_add(s, "date(f_%s, '+8 hours')", sifa_rec_name_ok(f->code));
    else
        sifa_sql_add(s, "f_%s", sifa_rec_name_ok(f->code));
}

static void bind_cond_value(const struct sifa_indicator_cond *c, const char *value, struct bounds *b)
{
    if (c->field != NULL && sifa_rec_field_storage(c->field) == ST_INTEGER) {
        errno = 0;
        char *end;
        long long v = strtoll(value, &end, 10);
        sifa_bounds_add_int(b, errno == 0 && *end == '\0' ? v : 0); /* the loader normalised it */
    } else {
        sifa_bounds_add_text(b, value);
    }
}

static const char *key_column(const struct sifa_indicator *ind, char *buf, size_t size)
{
    const struct sifa_field *f = ind->field;
    /* A personal key is stored sealed; its keyed hash (h_) identifies the person. Without a
     * keyring (tests) the value is in clear and h_ is empty. */
    if (f->personal)
        snprintf(buf, size, "coalesce(h_%s, f_%s)", sifa_rec_name_ok(f->code), f->code);
    else
        snprintf(buf, size, "f_%s", sifa_rec_name_ok(f->code));
    return buf;
}

void sifa_aggregate_where(const struct sifa_indicator *ind, struct sql *where, struct bounds *b)
{
    for (size_t i = 0; i < ind->nwhere; i++) {
        const struct sifa_indicator_cond *c = &ind->where[i];
        char col[SIFA_MODEL_CODE_MAX + 8] = "";
        if (c->field != NULL)
            snprintf(col, sizeof(col), "f_%s", sifa_rec_name_ok(c->field->code));
        else if (c->deadline == NULL)
            snprintf(col, sizeof(col), "state");
        static const char *const ops[] = {[SIFA_COND_GTE] = ">=", [SIFA_COND_LTE] = "<=", [SIFA_COND_GT] = ">",
                                          [SIFA_COND_LT] = "<"};
        switch (c->op) {
        case SIFA_COND_ON_TIME: {
            /* met, and no later than due. Due is a UTC timestamp for deadlines in hours and a day
             * otherwise; compare like with like (a day against the China-time day). */
            const struct sifa_deadline *d = c->deadline;
            const char *met = sifa_rec_name_ok(d->met_field->code), *code = sifa_rec_name_ok(d->code);
            bool met_is_day = d->met_field->type == SIFA_FIELD_DATE, due_is_day = d->unit != SIFA_DEADLINE_HOURS;
            char met_expr[SIFA_MODEL_CODE_MAX + 32], due_expr[SIFA_MODEL_CODE_MAX + 32];
            snprintf(met_expr, sizeof(met_expr), met_is_day || !due_is_day ? "f_%s" : "date(f_%s, '+8 hours')", met);
            snprintf(due_expr, sizeof(due_expr), !met_is_day || due_is_day ? "d_%s_due" : "date(d_%s_due, '+8 hours')",
                     code);
            sifa_sql_add(where, " AND %s(f_%s IS NOT NULL AND d_%s_due IS NOT NULL AND %s <= %s)",
                         strcmp(c->values[0], "1") == 0 ? "" : "NOT ", met, code, met_expr, due_expr);
            break;
        }
        case SIFA_COND_EQ:
            sifa_sql_add(where, " AND %s = ?", col);
            bind_cond_value(c, c->values[0], b);
            break;
        case SIFA_COND_NE:
            sifa_sql_add(where, " AND (%s IS NULL OR %s <> ?)", col, col);
            bind_cond_value(c, c->values[0], b);
            break;
        case SIFA_COND_IN:
        case SIFA_COND_NOT_IN:
            sifa_sql_add(where, c->op == SIFA_COND_IN ? " AND %s IN (" : " AND (%s IS NULL OR %s NOT IN (", col, col);
            for (size_t k = 0; k < c->nvalues; k++) {
                sifa_sql_add(where, k ? ", ?" : "?");
                bind_cond_value(c, c->values[k], b);
            }
            sifa_sql_add(where, c->op == SIFA_COND_IN ? ")" : "))");
            break;
        case SIFA_COND_EMPTY:
            if (c->field != NULL && sifa_rec_field_storage(c->field) == ST_TEXT)
                sifa_sql_add(where, " AND (%s IS NULL OR %s = '')", col, col);
            else
                sifa_sql_add(where, " AND %s IS NULL", col);
            break;
        case SIFA_COND_NOT_EMPTY:
            if (c->field != NULL && sifa_rec_field_storage(c->field) == ST_TEXT)
                sifa_sql_add(where, " AND %s IS NOT NULL AND %s <> ''", col, col);
            else
                sifa_sql_add(where, " AND %s IS NOT NULL", col);
            break;
        case SIFA_COND_GTE:
        case SIFA_COND_LTE:
        case SIFA_COND_GT:
        case SIFA_COND_LT:
            sifa_sql_add(where, " AND %s %s ?", col, ops[c->op]);
            bind_cond_value(c, c->values[0], b);
            break;
        }
    }
    if (ind->kind == SIFA_IND_STOCK && ind->end_field != NULL) {
        /* A record that leaves before it enters (a data error) was never in the register: it
         * counts neither as an entry nor as an exit, as a direct count would have it. */
        struct sql start = {0}, end = {0};
        sifa_aggregate_day_sql(ind, false, &start);
        sifa_aggregate_day_sql(ind, true, &end);
        sifa_sql_add(where, " AND (%s IS NULL OR %s >= %s)", end.buf, end.buf, start.buf);
        sifa_sql_release(&start);
        sifa_sql_release(&end);
    }
    if (ind->kind == SIFA_IND_SUM)
        sifa_sql_add(where, " AND f_%s IS NOT NULL", sifa_rec_name_ok(ind->field->code));
    if (ind->kind == SIFA_IND_DISTINCT) {
        char col[2 * SIFA_MODEL_CODE_MAX + 32];
        sifa_sql_add(where, " AND %s IS NOT NULL", key_column(ind, col, sizeof(col)));
    }
}

/* Appends the SELECTs (joined by UNION ALL) yielding the contributions of the records of one
 * indicator: columns indicator, series, org, day, dim, key, v, n. source: a table of rows shaped
 * like the module's (the flush's new or old rows), counted with sign; NULL: the module's live
 * records, counted once each. */
static void contributions_sql(const struct sifa_indicator *ind, const char *source, int sign, struct sql *s,
                              struct bounds *b, bool *first)
{
    const struct sifa_module *m = ind->module;
    char value[2 * SIFA_MODEL_CODE_MAX + 32] = "1", key[2 * SIFA_MODEL_CODE_MAX + 32] = "NULL";
    if (ind->kind == SIFA_IND_SUM)
        snprintf(value, sizeof(value), "f_%s", sifa_rec_name_ok(ind->field->code));
    if (ind->kind == SIFA_IND_DISTINCT)
        key_column(ind, key, sizeof(key));
    char org[SIFA_MODEL_CODE_MAX + 32] = "''";
    if (ind->org_field != NULL)
        snprintf(org, sizeof(org), "coalesce(f_%s, '')", sifa_rec_name_ok(ind->org_field->code));
    const char series_list[2] = {ind->kind == SIFA_IND_STOCK ? 'i' : 'v', 'o'};
    size_t nseries = ind->kind == SIFA_IND_STOCK && ind->end_field != NULL ? 2 : 1;
    for (size_t si = 0; si < nseries; si++) {
        struct sql day = {0};
        sifa_aggregate_day_sql(ind, series_list[si] == 'o', &day);
        for (size_t d = 0; d <= ind->nby; d++) {
            sifa_sql_add(s, "%sSELECT ? AS indicator, '%c' AS series, %s AS org, %s AS day, ", *first ? "" : " UNION ALL ",
                         series_list[si], org, day.buf);
            sifa_bounds_add_text(b, ind->code);
            if (d == 0) {
                sifa_sql_add(s, "'' AS dim, ");
            } else {
                const char *by = sifa_rec_name_ok(ind->by[d - 1]->code);
                sifa_sql_add(s, "'%s=' || coalesce(f_%s, '') AS dim, ", by, by);
            }
            if (source != NULL) /* a table of the flush statement's WITH clause: new or old rows */
                sifa_sql_add(s, "%s AS key, %s%s AS v, %d AS n FROM %s WHERE 1 = 1", key, sign < 0 ? "-" : "", value,
                             sign, source);
            else
                sifa_sql_add(s, "%s AS key, %s AS v, 1 AS n FROM m_%s WHERE deleted_at IS NULL", key, value,
                             sifa_rec_name_ok(m->code));
            sifa_sql_add(s, " AND %s IS NOT NULL", day.buf);
            sifa_aggregate_where(ind, s, b);
            *first = false;
        }
        sifa_sql_release(&day);
    }
}

static int exec_bound(struct sifa_db *db, const char *sql, const struct bounds *b, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, sql, &st, err);
    if (r < 0)
        return r;
    sifa_bounds_bind(st, b, 1);
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return r < 0 ? r : 0;
}

/* ---- touching records and flushing ----
 * A write does not compute anything: it notes the record in temp.sifa_stat_touched (fresh = 1 when
 * created in this batch) and, the first time an existing record is changed in the batch, copies
 * the columns the indicators read into temp.sifa_stat_old_<module>. Before COMMIT one statement per
 * module computes the contributions of the touched records as they are now (+) and as they were
 * (−) and adds them to every level (grouped first or not, see flush_sql). A record changed ten
 * times in a batch costs one snapshot and one evaluation. */

/* What the flush of one module needs, built once per model: the columns of its old-rows table and
 * the four flush statements (with and without old rows, grouped or not) with their constant
 * values. Values borrow the model's strings: a plan is used only while the model with that id is
 * alive (ids are never reused), and an evicted or stale plan is freed without touching them. */
struct flush_plan {
    uint64_t model_id;
    const struct sifa_module *m;
    bool used_by_indicators, has_keys;
    char *columns; /* "id, state, deleted_at, f_a, …" */
    char *create_old, *snapshot;
    /* [0]: new rows only, [1]: new and old rows; then [0]: each contribution upserted on its own,
     * [1]: grouped first (see flush_sql) */
    char *values_sql[2][2], *keys_sql[2][2];
    struct bounds values_b[2][2], keys_b[2][2];
    uint64_t used;
};
/* Up to this many records of a module in a batch (a group commit of live writes, which mostly
 * share their day, month and year figures) are grouped before the upsert; more (an import's
 * batch) are not. See flush_sql. */
#define FLUSH_GROUPED_MAX 128
#define FLUSH_PLANS 256 /* SIFA_MODEL_MODULES_MAX: every module of a model fits */
static struct flush_plan plans[FLUSH_PLANS];
static uint64_t plans_clock;
static pthread_mutex_t plans_lock = PTHREAD_MUTEX_INITIALIZER;

static void add_column(struct sql *cols, const char *name)
{
    char needle[SIFA_MODEL_CODE_MAX + 8];
    snprintf(needle, sizeof(needle), " %s,", name);
    if (cols->buf != NULL && strstr(cols->buf, needle) != NULL)
        return;
    sifa_sql_add(cols, " %s,", name);
}

static void add_field_column(struct sql *cols, const struct sifa_field *f)
{
    if (f == NULL)
        return;
    char name[SIFA_MODEL_CODE_MAX + 4];
    snprintf(name, sizeof(name), "f_%s", sifa_rec_name_ok(f->code));
    add_column(cols, name);
    if (f->personal) {
        snprintf(name, sizeof(name), "h_%s", f->code);
        add_column(cols, name);
    }
}

static void plan_release(struct flush_plan *p)
{
    free(p->columns);
    free(p->create_old);
    free(p->snapshot);
    for (int k = 0; k < 2; k++)
        for (int g = 0; g < 2; g++) {
            free(p->values_sql[k][g]);
            free(p->keys_sql[k][g]);
            sifa_bounds_release(&p->values_b[k][g]);
            sifa_bounds_release(&p->keys_b[k][g]);
        }
    memset(p, 0, sizeof(*p));
}

/* One flush statement: into stat_values (keys false) or stat_keys, from the module's touched rows
 * and, with_old, its old rows. grouped: contributions to the same figure are summed before the
 * upsert. Which is cheaper depends on how many share a figure: a few live writes of one day
 * share most (same org, day, month and year), while a 1000-record import batch spread over a
 * year and 400 committees shares almost none below the year, and there the sorter of the
 * GROUP BY cost more than the upserts it saved (21 ms grouped, 13 ms not, a batch of mediation
 * cases). sifa_record_flush_aggregates picks by the number of records touched. */
static char *flush_sql(const struct sifa_model *model, const struct sifa_module *m, bool keys, bool with_old,
                       bool grouped, struct bounds *b)
{
    const char *code = sifa_rec_name_ok(m->code);
    struct sql s = {0};
    sifa_sql_add(&s,
                 "WITH r AS MATERIALIZED (SELECT m.* FROM temp.sifa_stat_touched t JOIN m_%s m ON m.id = t.id "
                 "WHERE t.module = ? AND m.deleted_at IS NULL)",
                 code);
    sifa_bounds_add_text(b, m->code);
    if (keys)
        sifa_sql_add(&s, " INSERT INTO stat_keys (indicator, level, period, dim, org, key, n) "
                         "SELECT indicator, l.level, " PERIOD_SQL("l.level", "day") ", dim, org, key, %s FROM (",
                     grouped ? "SUM(n)" : "n");
    else
        sifa_sql_add(&s, " INSERT INTO stat_values (indicator, series, level, period, dim, org, value, n) "
                         "SELECT indicator, series, l.level, " PERIOD_SQL("l.level", "day") ", dim, org, %s FROM (",
                     grouped ? "SUM(v), SUM(n)" : "v, n");
    bool first = true;
    for (int side = 0; side < (with_old ? 2 : 1); side++)
        for (size_t i = 0; i < model->nindicators; i++) {
            const struct sifa_indicator *ind = &model->indicators[i];
            if (ind->module == m && (ind->kind == SIFA_IND_DISTINCT) == keys) {
                char old[SIFA_MODEL_CODE_MAX + 32];
                snprintf(old, sizeof(old), "temp.sifa_stat_old_%s", code);
                contributions_sql(ind, side == 0 ? "r" : old, side == 0 ? 1 : -1, &s, b, &first);
            }
        }
    /* Ungrouped, a +1 and a −1 of one figure may leave a zero row: it means "no data", as one left
     * by withdrawn contributions does. */
    sifa_sql_add(&s, ") x CROSS JOIN " ALL_LEVELS_SQL " l WHERE (l.level <> 'D' OR dim = '') ");
    if (grouped)
        sifa_sql_add(&s, keys ? "GROUP BY 1, 2, 3, 4, 5, 6 HAVING SUM(n) <> 0 "
                              : "GROUP BY 1, 2, 3, 4, 5, 6 HAVING SUM(v) <> 0 OR SUM(n) <> 0 ");
    if (keys)
        sifa_sql_add(&s, "ON CONFLICT (indicator, level, period, dim, org, key) DO UPDATE SET n = stat_keys.n + excluded.n");
    else
        sifa_sql_add(&s, "ON CONFLICT (indicator, series, level, period, dim, org) DO UPDATE SET "
                         "value = stat_values.value + excluded.value, n = stat_values.n + excluded.n");
    return s.buf;
}

/* The plan of module m under model (plans_lock held). */
static struct flush_plan *flush_plan(const struct sifa_model *model, const struct sifa_module *m)
{
    struct flush_plan *victim = &plans[0];
    for (size_t i = 0; i < FLUSH_PLANS; i++) {
        if (plans[i].model_id == model->id && plans[i].m == m) {
            plans[i].used = ++plans_clock;
            return &plans[i];
        }
        if (plans[i].used < victim->used)
            victim = &plans[i];
    }
    plan_release(victim);
    victim->model_id = model->id;
    victim->m = m;
    victim->used = ++plans_clock;
    struct sql cols = {0};
    add_column(&cols, "id");
    add_column(&cols, "state");
    add_column(&cols, "deleted_at");
    bool has_values = false;
    for (size_t i = 0; i < model->nindicators; i++) {
        const struct sifa_indicator *ind = &model->indicators[i];
        if (ind->module != m)
            continue;
        victim->used_by_indicators = true;
        victim->has_keys = victim->has_keys || ind->kind == SIFA_IND_DISTINCT;
        has_values = has_values || ind->kind != SIFA_IND_DISTINCT;
        add_field_column(&cols, ind->date_field);
        add_field_column(&cols, ind->end_field);
        add_field_column(&cols, ind->org_field);
        add_field_column(&cols, ind->field);
        for (size_t k = 0; k < ind->nwhere; k++) {
            add_field_column(&cols, ind->where[k].field);
            if (ind->where[k].deadline != NULL) {
                char name[SIFA_MODEL_CODE_MAX + 8];
                snprintf(name, sizeof(name), "d_%s_due", sifa_rec_name_ok(ind->where[k].deadline->code));
                add_column(&cols, name);
                add_field_column(&cols, ind->where[k].deadline->met_field);
            }
        }
        for (size_t k = 0; k < ind->nby; k++)
            add_field_column(&cols, ind->by[k]);
    }
    if (!victim->used_by_indicators) {
        sifa_sql_release(&cols);
        return victim;
    }
    cols.buf[cols.len - 1] = '\0'; /* the last comma */
    victim->columns = sifa_xstrdup(cols.buf + 1);
    sifa_sql_release(&cols);
    const char *code = sifa_rec_name_ok(m->code);
    struct sql s = {0};
    sifa_sql_add(&s, "CREATE TEMP TABLE IF NOT EXISTS sifa_stat_old_%s (%s)", code, victim->columns);
    victim->create_old = s.buf;
    memset(&s, 0, sizeof(s));
    sifa_sql_add(&s, "INSERT INTO temp.sifa_stat_old_%s (%s) SELECT %s FROM m_%s WHERE id = ? AND deleted_at IS NULL",
                 code, victim->columns, victim->columns, code);
    victim->snapshot = s.buf;
    for (int k = 0; k < 2; k++)
        for (int g = 0; g < 2; g++) {
            if (has_values)
                victim->values_sql[k][g] = flush_sql(model, m, false, k == 1, g == 1, &victim->values_b[k][g]);
            if (victim->has_keys)
                victim->keys_sql[k][g] = flush_sql(model, m, true, k == 1, g == 1, &victim->keys_b[k][g]);
        }
    return victim;
}

static int step_bound(struct sifa_db *db, const char *sql, int64_t id, bool with_id, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, sql, &st, err);
    if (r < 0)
        return r;
    if (with_id)
        sifa_db_bind_int64(st, 1, id);
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return r < 0 ? r : 0;
}

int sifa_aggregate_capture(struct sifa_db *db, const struct sifa_model *model, const struct sifa_module *m, int64_t id,
                           int sign, struct sifa_error *err)
{
    if (model == NULL || model->nindicators == 0)
        return 0;
    pthread_mutex_lock(&plans_lock);
    struct flush_plan *plan = flush_plan(model, m);
    int r = 0;
    if (plan->used_by_indicators) {
        struct sifa_db_stmt *st;
        r = sifa_db_prepare(db,
                            "INSERT INTO temp.sifa_stat_touched (module, id, fresh) VALUES (?, ?, ?) "
                            "ON CONFLICT (module, id) DO NOTHING",
                            &st, err);
        if (r >= 0) {
            sifa_db_bind_text(st, 1, m->code, -1);
            sifa_db_bind_int64(st, 2, id);
            sifa_db_bind_int64(st, 3, sign > 0);
            r = sifa_db_step(st, err);
            sifa_db_stmt_done(st);
        }
        /* the record's state before its first change in this batch */
        if (r >= 0 && sign < 0 && sifa_db_changes(db) == 1) {
            r = step_bound(db, plan->create_old, 0, false, err);
            if (r >= 0)
                r = step_bound(db, plan->snapshot, id, true, err);
        }
    }
    pthread_mutex_unlock(&plans_lock);
    return r < 0 ? r : 0;
}

int sifa_aggregate_connection_init(struct sifa_db *db, struct sifa_error *err)
{
    return sifa_db_exec(db,
                        "CREATE TEMP TABLE IF NOT EXISTS sifa_stat_touched (module TEXT NOT NULL, id INTEGER NOT NULL, "
                        "fresh INTEGER NOT NULL, PRIMARY KEY (module, id))",
                        err);
}

static int query_flag(struct sifa_db *db, const char *sql, const char *module, bool *ret, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, sql, &st, err);
    if (r < 0)
        return r;
    if (module != NULL)
        sifa_db_bind_text(st, 1, module, -1);
    r = sifa_db_step(st, err);
    *ret = r == SIFA_DB_ROW && sifa_db_column_int64(st, 0) != 0;
    sifa_db_stmt_done(st);
    return r < 0 ? r : 0;
}

static int run_flush(struct sifa_db *db, const char *sql, const struct bounds *b, struct sifa_error *err)
{
    if (sql == NULL)
        return 0;
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, sql, &st, err);
    if (r < 0)
        return r;
    sifa_bounds_bind(st, b, 1);
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return r < 0 ? r : 0;
}

int sifa_record_flush_aggregates(struct sifa_db *db, const struct sifa_model *model, struct sifa_error *err)
{
    bool pending = false;
    int r = query_flag(db, "SELECT EXISTS (SELECT 1 FROM temp.sifa_stat_touched)", NULL, &pending, err);
    if (r < 0 || !pending)
        return r;
    /* the modules touched, whether an existing record of each was changed (then it has old rows),
     * and how many records (see flush_sql) */
    struct sifa_db_stmt *st;
    if ((r = sifa_db_prepare(db, "SELECT module, MIN(fresh), COUNT(*) FROM temp.sifa_stat_touched GROUP BY module", &st,
                             err)) < 0)
        return r;
    struct touched_module {
        const struct sifa_module *m;
        bool changed, grouped;
    } *touched = sifa_xcalloc(model && model->nmodules ? model->nmodules : 1, sizeof(*touched));
    size_t ntouched = 0;
    while ((r = sifa_db_step(st, err)) == SIFA_DB_ROW) {
        const struct sifa_module *m = model ? sifa_model_module(model, sifa_db_column_text(st, 0)) : NULL;
        if (m != NULL && ntouched < model->nmodules)
            touched[ntouched++] = (struct touched_module){m, sifa_db_column_int64(st, 1) == 0,
                                                          sifa_db_column_int64(st, 2) <= FLUSH_GROUPED_MAX ||
                                                              !sifa_db_upsert_repeats_keys(db)};
    }
    sifa_db_stmt_done(st);
    pthread_mutex_lock(&plans_lock);
    for (size_t i = 0; i < ntouched && r >= 0; i++) {
        const struct sifa_module *m = touched[i].m;
        struct flush_plan *plan = flush_plan(model, m);
        if (!plan->used_by_indicators)
            continue;
        int k = touched[i].changed ? 1 : 0, g = touched[i].grouped ? 1 : 0;
        r = run_flush(db, plan->values_sql[k][g], &plan->values_b[k][g], err);
        if (r >= 0)
            r = run_flush(db, plan->keys_sql[k][g], &plan->keys_b[k][g], err);
        if (r >= 0 && touched[i].changed) {
            char sql[SIFA_MODEL_CODE_MAX + 48];
            snprintf(sql, sizeof(sql), "DELETE FROM temp.sifa_stat_old_%s", sifa_rec_name_ok(m->code));
            r = sifa_db_exec(db, sql, err);
        }
    }
    pthread_mutex_unlock(&plans_lock);
    free(touched);
    if (r >= 0)
        r = sifa_db_exec(db, "DELETE FROM temp.sifa_stat_touched", err);
    return r < 0 ? r : 0;
}

static void now_text(char out[32])
{
    sifa_utc_text(time(NULL), out);
}

static bool selected(const char *code, const char *const *codes, size_t ncodes)
{
    if (codes == NULL)
        return true;
    for (size_t i = 0; i < ncodes; i++)
        if (strcmp(codes[i], code) == 0)
            return true;
    return false;
}

static int exec_code(struct sifa_db *db, const char *sql, const char *code, struct sifa_error *err)
{
    struct bounds b = {0};
    sifa_bounds_add_text(&b, code);
    int r = exec_bound(db, sql, &b, err);
    sifa_bounds_release(&b);
    return r;
}

/* Computes one indicator's day-level figures from the records into `values_table` and
 * `keys_table`, then its month, quarter and year figures from those day rows. year > 0: only
 * days of that year. */
static int compute_from_records(struct sifa_db *db, const struct sifa_indicator *ind, int year, const char *values_table,
                                const char *keys_table, struct sifa_error *err)
{
    char year_text[16];
    snprintf(year_text, sizeof(year_text), "%04d", year);
    struct sql s = {0};
    struct bounds b = {0};
    bool first = true;
    sifa_sql_add(&s,
                 "INSERT INTO %s (indicator, series, level, period, dim, org, value, n) "
                 "SELECT indicator, series, 'D', day, dim, org, SUM(v), SUM(n) FROM (",
                 values_table);
    contributions_sql(ind, NULL, 1, &s, &b, &first);
    sifa_sql_add(&s, ") x WHERE key IS NULL%s GROUP BY indicator, series, day, dim, org", year > 0 ? " AND substr(day, 1, 4) = ?" : "");
    if (year > 0)
        sifa_bounds_add_text(&b, year_text);
    int r = exec_bound(db, s.buf, &b, err);
    sifa_sql_release(&s);
    sifa_bounds_release(&b);
    if (r >= 0 && ind->kind == SIFA_IND_DISTINCT) {
        first = true;
        sifa_sql_add(&s,
                     "INSERT INTO %s (indicator, level, period, dim, org, key, n) "
                     "SELECT indicator, 'D', day, dim, org, key, SUM(n) FROM (",
                     keys_table);
        contributions_sql(ind, NULL, 1, &s, &b, &first);
        sifa_sql_add(&s, ") x WHERE key IS NOT NULL%s GROUP BY indicator, day, dim, org, key",
                     year > 0 ? " AND substr(day, 1, 4) = ?" : "");
        if (year > 0)
            sifa_bounds_add_text(&b, year_text);
        r = exec_bound(db, s.buf, &b, err);
        sifa_sql_release(&s);
        sifa_bounds_release(&b);
    }
    if (r >= 0) {
        sifa_sql_add(&s,
                     "INSERT INTO %s (indicator, series, level, period, dim, org, value, n) "
                     "SELECT indicator, series, l.level, " PERIOD_SQL("l.level", "period") ", dim, org, SUM(value), SUM(n) "
                     "FROM %s CROSS JOIN " LEVELS_SQL " l WHERE indicator = ? AND %s.level = 'D' "
                     "GROUP BY 1, 2, 3, 4, 5, 6",
                     values_table, values_table, values_table);
        r = exec_code(db, s.buf, ind->code, err);
        sifa_sql_release(&s);
    }
    if (r >= 0 && ind->kind == SIFA_IND_DISTINCT) {
        sifa_sql_add(&s,
                     "INSERT INTO %s (indicator, level, period, dim, org, key, n) "
                     "SELECT indicator, l.level, " PERIOD_SQL("l.level", "period") ", dim, org, key, SUM(n) "
                     "FROM %s CROSS JOIN " LEVELS_SQL " l WHERE indicator = ? AND %s.level = 'D' "
                     "GROUP BY 1, 2, 3, 4, 5, 6",
                     keys_table, keys_table, keys_table);
        r = exec_code(db, s.buf, ind->code, err);
        sifa_sql_release(&s);
    }
    /* breakdowns are kept by month and year only (see LEVELS_SQL) */
    if (r >= 0) {
        sifa_sql_add(&s, "DELETE FROM %s WHERE indicator = ? AND level = 'D' AND dim <> ''", values_table);
        r = exec_code(db, s.buf, ind->code, err);
        sifa_sql_release(&s);
    }
    if (r >= 0 && ind->kind == SIFA_IND_DISTINCT) {
        sifa_sql_add(&s, "DELETE FROM %s WHERE indicator = ? AND level = 'D' AND dim <> ''", keys_table);
        r = exec_code(db, s.buf, ind->code, err);
        sifa_sql_release(&s);
    }
    return r;
}

int sifa_record_aggregates_rebuild(struct sifa_db *db, const struct sifa_model *model, const char *const *codes,
                                   size_t ncodes, struct sifa_error *err)
{
    int r = sifa_record_flush_aggregates(db, model, err);
    char at[32];
    now_text(at);
    for (size_t i = 0; i < model->nindicators && r >= 0; i++) {
        const struct sifa_indicator *ind = &model->indicators[i];
        if (!is_base(ind) || !selected(ind->code, codes, ncodes))
            continue;
        r = exec_code(db, "DELETE FROM stat_values WHERE indicator = ?", ind->code, err);
        if (r >= 0)
            r = exec_code(db, "DELETE FROM stat_keys WHERE indicator = ?", ind->code, err);
        if (r >= 0)
            r = compute_from_records(db, ind, 0, "stat_values", "stat_keys", err);
        if (r >= 0) {
            struct bounds b = {0};
            sifa_bounds_add_text(&b, ind->code);
            sifa_bounds_add_text(&b, ind->hash);
            sifa_bounds_add_text(&b, at);
            r = exec_bound(db,
                           "INSERT INTO stat_definitions (indicator, hash, built_at) VALUES (?, ?, ?) "
                           "ON CONFLICT (indicator) DO UPDATE SET hash = excluded.hash, built_at = excluded.built_at",
                           &b, err);
            sifa_bounds_release(&b);
        }
    }
    return r;
}

#define VERIFY_DIFFS_MAX 1000

static int collect_diffs(struct sifa_db *db, const char *sql, const char *code, const char *year, json_t *diffs,
                         int64_t *total, bool keys, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, sql, &st, err);
    if (r < 0)
        return r;
    /* each half of the query takes (indicator, period pattern) */
    for (int k = 0; k < 2; k++) {
        sifa_db_bind_text(st, 2 * k + 1, code, -1);
        sifa_db_bind_text(st, 2 * k + 2, year, -1);
    }
    while ((r = sifa_db_step(st, err)) == SIFA_DB_ROW) {
        (*total)++;
        if (json_array_size(diffs) >= VERIFY_DIFFS_MAX)
            continue;
        /* columns: indicator, series, level, period, dim, org, key, expected value, expected n, actual value, actual n */
        json_t *d = json_object();
        static const char *const names[] = {"indicator", "series", "level", "period", "dim", "org", "key"};
        for (int c = 0; c < 7; c++) {
            if (c == 6 && !keys)
                continue;
            const char *t = sifa_db_column_text(st, c);
            json_object_set_new(d, names[c], t ? json_string(t) : json_null());
        }
        for (int side = 0; side < 2; side++) {
            int c = 7 + side * 2;
            json_t *v = sifa_db_column_text(st, c + 1) == NULL
                            ? json_pack("{s:I,s:I}", "value", (json_int_t)0, "n", (json_int_t)0)
                            : json_pack("{s:I,s:I}", "value", (json_int_t)sifa_db_column_int64(st, c), "n",
                                        (json_int_t)sifa_db_column_int64(st, c + 1));
            json_object_set_new(d, side == 0 ? "expected" : "actual", v);
        }
        json_array_append_new(diffs, d);
    }
    sifa_db_stmt_done(st);
    return r < 0 ? r : 0;
}

int sifa_record_aggregates_verify(struct sifa_db *db, const struct sifa_model *model, int year, json_t **ret_diffs,
                                  struct sifa_error *err)
{
    int r = sifa_db_exec(db,
                         "CREATE TEMP TABLE IF NOT EXISTS sifa_stat_expected (indicator TEXT, series TEXT, level TEXT, "
                         "period TEXT, dim TEXT, org TEXT, value INTEGER, n INTEGER, "
                         "PRIMARY KEY (indicator, series, level, period, dim, org)); "
                         "CREATE TEMP TABLE IF NOT EXISTS sifa_stat_expected_keys (indicator TEXT, level TEXT, "
                         "period TEXT, dim TEXT, org TEXT, key TEXT, n INTEGER, "
                         "PRIMARY KEY (indicator, level, period, dim, org, key)); "
                         "DELETE FROM temp.sifa_stat_expected; DELETE FROM temp.sifa_stat_expected_keys",
                         err);
    json_t *diffs = json_array();
    int64_t total = 0;
    char year_text[16];
    /* '%' matches every period: the LIKE below then filters nothing */
    if (year > 0)
        snprintf(year_text, sizeof(year_text), "%04d%%", year);
    else
        snprintf(year_text, sizeof(year_text), "%%");
    for (size_t i = 0; i < model->nindicators && r >= 0; i++) {
        const struct sifa_indicator *ind = &model->indicators[i];
        if (!is_base(ind))
            continue;
        r = compute_from_records(db, ind, year, "temp.sifa_stat_expected", "temp.sifa_stat_expected_keys", err);
        if (r < 0)
            break;
        /* expected rows missing or different in the aggregates, then aggregate rows with a
         * figure the records do not give */
        r = collect_diffs(db,
                          "SELECT e.indicator, e.series, e.level, e.period, e.dim, e.org, NULL, e.value, e.n, a.value, a.n "
                          "FROM temp.sifa_stat_expected e LEFT JOIN stat_values a ON a.indicator = e.indicator AND "
                          "a.series = e.series AND a.level = e.level AND a.period = e.period AND a.dim = e.dim AND "
                          "a.org = e.org WHERE e.indicator = ? AND e.period LIKE ? AND (a.value IS NULL OR "
                          "a.value <> e.value OR a.n <> e.n) "
                          "UNION ALL "
                          "SELECT a.indicator, a.series, a.level, a.period, a.dim, a.org, NULL, NULL, NULL, a.value, a.n "
                          "FROM stat_values a WHERE a.indicator = ? AND a.period LIKE ? AND (a.value <> 0 OR a.n <> 0) "
                          "AND NOT EXISTS (SELECT 1 FROM temp.sifa_stat_expected e WHERE e.indicator = a.indicator AND "
                          "e.series = a.series AND e.level = a.level AND e.period = a.period AND e.dim = a.dim AND "
                          "e.org = a.org)",
                          ind->code, year_text, diffs, &total, false, err);
        if (r >= 0 && ind->kind == SIFA_IND_DISTINCT)
            r = collect_diffs(
                db,
                "SELECT e.indicator, 'k', e.level, e.period, e.dim, e.org, e.key, e.n, e.n, a.n, a.n "
                "FROM temp.sifa_stat_expected_keys e LEFT JOIN stat_keys a ON a.indicator = e.indicator AND "
                "a.level = e.level AND a.period = e.period AND a.dim = e.dim AND a.org = e.org AND a.key = e.key "
                "WHERE e.indicator = ? AND e.period LIKE ? AND (a.n IS NULL OR a.n <> e.n) "
                "UNION ALL "
                "SELECT a.indicator, 'k', a.level, a.period, a.dim, a.org, a.key, NULL, NULL, a.n, a.n "
                "FROM stat_keys a WHERE a.indicator = ? AND a.period LIKE ? AND a.n <> 0 AND NOT EXISTS "
                "(SELECT 1 FROM temp.sifa_stat_expected_keys e WHERE e.indicator = a.indicator AND e.level = a.level "
                "AND e.period = a.period AND e.dim = a.dim AND e.org = a.org AND e.key = a.key)",
                ind->code, year_text, diffs, &total, true, err);
    }
    if (r >= 0)
        r = sifa_db_exec(db, "DELETE FROM temp.sifa_stat_expected; DELETE FROM temp.sifa_stat_expected_keys", err);
    if (r < 0) {
        json_decref(diffs);
        return r;
    }
    if (total > (int64_t)json_array_size(diffs))
        json_array_append_new(diffs, json_pack("{s:I}", "more", (json_int_t)(total - (int64_t)json_array_size(diffs))));
    *ret_diffs = diffs;
    return 0;
}
