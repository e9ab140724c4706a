/* stats.h — reading indicators: periods, roll-up over the org tree, derived figures, year-on-year
 * phrases, staleness of aggregates. Layer: stats (above record and auth).
 *
 * Values are exact decimals (an integer r and a number of digits: r / 10^digits), so that a rate
 * of two counts, a money sum in fen and a change between years round exactly as declared
 * (8/11 → 72.73 at two digits, 12015/12033 → 99.9 at one) with no floating point in between.
 * Every read costs one indexed query per figure and period piece returning at most one row per
 * org unit, whatever the number of records. */
#ifndef SIFA_STATS_H
#define SIFA_STATS_H

#include "calendar/calendar.h"
#include "db/db.h"
#include "model/model.h"
#include "record/record.h"

/* ---- periods ---- */
struct sifa_period {
    char kind;        /* 'Y' year, 'Q' quarter, 'M' month, 'R' a range of days */
    int32_t from, to; /* yyyymmdd, inclusive */
    char label[48];   /* "2021", "2021Q3", "2021-07", "2021-01-01..2021-06-30" */
};
/* Parses 2021 | 2021Q3 | 2021-07 | 2021-07-15 | 2021-01-01..2021-06-30 (at most 100 years).
 * SIFA_EINVALID "bad_period" with a Chinese message otherwise. */
int sifa_period_parse(const char *text, struct sifa_period *ret, struct sifa_error *err);
/* The period compared with: the same days a year earlier (同比) or the period just before (环比). */
int sifa_period_shift(const struct sifa_period *p, enum sifa_compare how, struct sifa_period *ret,
                      struct sifa_error *err);
/* Splits [from, to] into the fewest whole years, months and days, in order (the levels the
 * aggregates keep; a quarter is its three months). */
struct sifa_period_piece {
    char level;      /* 'Y', 'M', 'D' */
    char period[16]; /* as stored in stat_values.period */
};
#define SIFA_PERIOD_PIECES_MAX 1024
int sifa_period_pieces(int32_t from, int32_t to, struct sifa_period_piece *out, size_t max, size_t *ret_n,
                       struct sifa_error *err);
void sifa_period_to_json(const struct sifa_period *p, json_t **ret);

/* ---- exact decimals ---- */
struct sifa_decimal {
    int64_t r;
    int digits;
};
/* round(num / den × 10^digits) by rule; den != 0. Returns false on overflow. */
bool sifa_decimal_divide(__int128 num, __int128 den, int digits, enum sifa_rounding rule, struct sifa_decimal *ret);
/* "72.73", "-3", "1131" */
void sifa_decimal_text(struct sifa_decimal d, char *out, size_t size);

/* ---- the org tree (table orgs) ---- */
struct sifa_org_node {
    char *code, *name, *kind;
    int parent; /* index, -1 for a root */
    char *parent_code;
};
struct sifa_org_tree {
    size_t n;
    struct sifa_org_node *nodes; /* sorted by code */
};
int sifa_org_tree_load(struct sifa_db *db, struct sifa_org_tree **ret, struct sifa_error *err);
void sifa_org_tree_free(struct sifa_org_tree *t);
int sifa_org_tree_find(const struct sifa_org_tree *t, const char *code); /* index or -1 */

/* ---- reading ---- */
/* Which records' figures the caller may read: the scope for a module, or NULL when it may not
 * read the module at all (its indicators are then refused). */
typedef const struct sifa_record_scope *(*sifa_stats_scope_fn)(void *arg, const struct sifa_module *m);
/* A sifa_stats_scope_fn for callers that act for the system (CLI, background jobs): every
 * module, every record (SIFA_RECORD_SCOPE_ALL). arg is unused. */
const struct sifa_record_scope *sifa_stats_scope_all(void *arg, const struct sifa_module *m);

struct sifa_stats_request {
    const struct sifa_model *model;       /* borrowed */
    const struct sifa_calendar *calendar; /* borrowed; NULL: per-day figures over working days fail */
    const struct sifa_org_tree *tree;     /* borrowed */
    sifa_stats_scope_fn scope_for;        /* NULL: nothing readable; sifa_stats_scope_all: everything */
    void *scope_arg;
    const struct sifa_indicator *const *indicators; /* what to read */
    size_t nindicators;
    const char *const *orgs; /* org unit codes; a NULL entry: every unit the caller may read */
    size_t norgs;
    struct sifa_period period;
    bool compare;            /* also the compared period and the change (同比/环比) */
    enum sifa_compare compare_how;
    const struct sifa_field *by; /* breakdown for indicators that declare it, or NULL (needs a period
                                  * of whole months: SIFA_EINVALID "breakdown_period" otherwise) */
};

/* Whether the caller (req->scope_for) may read ind: a base indicator when it may read the module
 * counted, a derived one when it may read every base indicator under it, through all the parts
 * of derived ones (a 同比 of a total over two modules needs both). When it may not and ret_denied
 * is not NULL, *ret_denied is set to a module refused (borrowed from the model). Only req's
 * scope_for and scope_arg are used. */
bool sifa_stats_indicator_readable(const struct sifa_stats_request *req, const struct sifa_indicator *ind,
                                   const struct sifa_module **ret_denied);

/* Reads every (indicator, org) pair. *ret is new:
 * {"period": {...}, "compare": {...}|null, "items": [{indicator, name, unit, kind, org, org_name,
 *   value (number|null), text, digits, n, has_data, reason (when no value), formula, stale,
 *   partial (the caller sees only part of the org's units), balance {opening,in,out,closing} (stock),
 *   breakdown [{code, label, value, text, n}], previous {value, text}, change {value, text, phrase}, phrase (change kinds:
 *   "同比下降14.88%")}]}
 * Refusals: SIFA_EDENIED "indicator_denied" (a module the caller may not read), SIFA_ENOTFOUND
 * "org_not_found" (an org unit unknown or wholly outside the caller's scope). */
int sifa_stats_read(struct sifa_db *db, const struct sifa_stats_request *req, json_t **ret, struct sifa_error *err);

/* The calendar years for which some base indicator has figures (a year-level aggregate with
 * records behind it), newest first: what a page defaults to when the last calendar year has
 * none (a county that keeps its records elsewhere until it moves). Counts and sums, stock
 * entries; a year with only distinct-count keys is not listed. Says nothing about which unit
 * the figures belong to. *ret_years is new: a JSON array of integers. */
int sifa_stats_years_with_data(struct sifa_db *db, const struct sifa_model *model, json_t **ret_years,
                               struct sifa_error *err);

/* Base indicators whose aggregates were built from another definition (stat_definitions) and
 * need `sifa stats rebuild`. An indicator over a module with no records at all is simply
 * registered (nothing to rebuild). Must run on a writable connection when register is true.
 * *ret_stale is new: a JSON array of codes. */
int sifa_stats_check_definitions(struct sifa_db *db, const struct sifa_model *model, bool register_empty,
                                 json_t **ret_stale, struct sifa_error *err);

/* A periodic table: one row per entry of req->orgs, the last being the total row ("合计": the
 * parent of the others, or NULL for everything the caller may see) when there are several; one
 * column per indicator, each cell the figure of that unit's subtree for req->period (empty when
 * there is no value). title and subtitle as given; the note lists each column's formula.
 * *ret is new (sifa_table_free). Refusals as sifa_stats_read's. */
struct sifa_table;
int sifa_stats_table(struct sifa_db *db, const struct sifa_stats_request *req, const char *title,
                     const char *subtitle, struct sifa_table **ret, struct sifa_error *err);
/* The org units directly under code (NULL: the roots), in code order, as borrowed strings; *ret
 * new (free()). */
void sifa_org_tree_children(const struct sifa_org_tree *t, const char *code, const char ***ret, size_t *ret_n);
/* The org units of kind anywhere below code (NULL: everywhere), in code order; as above. */
void sifa_org_tree_of_kind(const struct sifa_org_tree *t, const char *code, const char *kind, const char ***ret,
                           size_t *ret_n);
/* The rows of a periodic table under org (NULL: the only root if there is one, else everything):
 * the units of row_kind below it (NULL: its direct children), then org itself as the total row.
 * *ret new (free()); strings borrowed from t. */
void sifa_stats_table_rows(const struct sifa_org_tree *t, const char *org, const char *row_kind, const char ***ret,
                           size_t *ret_n);
/* The rows of a periodic table when no org unit is named: the table of the caller's own scope.
 * Its top units are those whose records of every module req->indicators count the caller may
 * read (req->scope_for), under no such unit: a town office's town, leadership's city. One top
 * unit: sifa_stats_table_rows for it; the roots: for the whole tree; several others (a custom
 * scope over two towns) or none (a self scope): each top unit (or its units of row_kind), then a
 * total of everything the caller may see (NULL). req->tree and the indicators must be set.
 * *ret new (free()); strings borrowed from req->tree. */
void sifa_stats_table_rows_in_scope(const struct sifa_stats_request *req, const char *row_kind, const char ***ret,
                                    size_t *ret_n);

/* The Chinese description of how a figure is computed (for the API and the report's notes). */
char *sifa_stats_formula(const struct sifa_indicator *ind);

#endif
