/* stats.c — reads indicators from the aggregates the record engine keeps (see stats.h and
 * record/aggregate.c): splits a period into whole years, quarters, months and days, sums each
 * piece's rows (one per org unit) into every ancestor unit the caller may see, and derives
 * ratios, differences, per-day figures and changes as exact decimals.
 * Layer: stats. Owns nothing persistent; the org tree and scopes are borrowed per request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "stats/stats.h"
#include "stats/table.h"

/* ---------- periods ---------- */

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static int32_t ymd(int y, int m, int d)
{
    return (int32_t)(y * 10000 + m * 100 + d);
}

static void date_str(int32_t d, char out[16])
{
    unsigned u = d < 0 ? 0u : (unsigned)d;
    snprintf(out, 16, "%04u-%02u-%02u", (u / 10000) % 10000, u / 100 % 100, u % 100);
}

/* The value of n decimal digits (already checked). */
static int digits_value(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static bool parse_day(const char *s, size_t len, int32_t *ret)
{
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = digits_value(s, 4), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    int32_t v = ymd(y, m, d);
    if (y < 1900 || y > 2999 || !sifa_calendar_date_valid(v))
        return false;
    *ret = v;
    return true;
}

static void set_label(struct sifa_period *p)
{
    int y = p->from / 10000, m = p->from / 100 % 100;
    char a[16], b[16];
    switch (p->kind) {
    case 'Y':
        snprintf(p->label, sizeof(p->label), "%04d", y);
        break;
    case 'Q':
        snprintf(p->label, sizeof(p->label), "%04dQ%d", y, (m + 2) / 3);
        break;
    case 'M':
        snprintf(p->label, sizeof(p->label), "%04d-%02d", y, m);
        break;
    default:
        date_str(p->from, a);
        date_str(p->to, b);
        if (p->from == p->to)
            snprintf(p->label, sizeof(p->label), "%s", a);
        else
            snprintf(p->label, sizeof(p->label), "%s..%s", a, b);
    }
}

static int bad_period(struct sifa_error *err, const char *text)
{
    return sifa_error_set_details(err, SIFA_EINVALID, "bad_period", json_pack("{s:s?}", "period", text),
                                  "统计期间“%.40s”无效,应为 2021、2021Q3、2021-07、2021-07-15 或 "
                                  "2021-01-01..2021-06-30",
                                  text ? text : "");
}

int sifa_period_parse(const char *text, struct sifa_period *ret, struct sifa_error *err)
{
    memset(ret, 0, sizeof(*ret));
    size_t len = text ? strlen(text) : 0;
    const char *dots = text ? strstr(text, "..") : NULL;
    if (len == 4 || (len == 6 && text[4] == 'Q') || (len == 7 && text[4] == '-')) {
        for (size_t i = 0; i < 4; i++)
            if (text[i] < '0' || text[i] > '9')
                return bad_period(err, text);
        int y = digits_value(text, 4);
        if (y < 1900 || y > 2999)
            return bad_period(err, text);
        if (len == 4) {
            ret->kind = 'Y';
            ret->from = ymd(y, 1, 1);
            ret->to = ymd(y, 12, 31);
        } else if (len == 6) {
            int q = text[5] - '0';
            if (q < 1 || q > 4)
                return bad_period(err, text);
            ret->kind = 'Q';
            ret->from = ymd(y, q * 3 - 2, 1);
            ret->to = ymd(y, q * 3, days_in_month(y, q * 3));
        } else {
            if (text[5] < '0' || text[5] > '9' || text[6] < '0' || text[6] > '9')
                return bad_period(err, text);
            int m = (text[5] - '0') * 10 + (text[6] - '0');
            if (m < 1 || m > 12)
                return bad_period(err, text);
            ret->kind = 'M';
            ret->from = ymd(y, m, 1);
            ret->to = ymd(y, m, days_in_month(y, m));
        }
    } else if (len == 10) {
        if (!parse_day(text, 10, &ret->from))
            return bad_period(err, text);
        ret->kind = 'R';
        ret->to = ret->from;
    } else if (dots != NULL && len == 22 && dots == text + 10) {
        if (!parse_day(text, 10, &ret->from) || !parse_day(text + 12, 10, &ret->to) || ret->to < ret->from ||
            ret->to / 10000 - ret->from / 10000 > 100)
            return bad_period(err, text);
        ret->kind = 'R';
    } else {
        return bad_period(err, text);
    }
    set_label(ret);
    return 0;
}

static int32_t add_days(int32_t d, int64_t n)
{
    int32_t out = d;
    if (sifa_calendar_date_add_days(d, n, &out, NULL) < 0)
        return d;
    return out;
}

static int32_t minus_year(int32_t d)
{
    int y = d / 10000 - 1, m = d / 100 % 100, day = d % 100;
    if (day > days_in_month(y, m))
        day = days_in_month(y, m);
    return ymd(y, m, day);
}

int sifa_period_shift(const struct sifa_period *p, enum sifa_compare how, struct sifa_period *ret, struct sifa_error *err)
{
    *ret = *p;
    int y = p->from / 10000, m = p->from / 100 % 100;
    if (y <= 1900)
        return sifa_error_set(err, SIFA_EINVALID, "bad_period", "对比期间超出范围");
    if (how == SIFA_COMPARE_PREVIOUS_YEAR || p->kind == 'Y') {
        ret->from = minus_year(p->from);
        ret->to = p->kind == 'R' ? minus_year(p->to) : p->kind == 'Y' ? ymd(y - 1, 12, 31)
                                                                       : ymd(y - 1, p->to / 100 % 100,
                                                                             days_in_month(y - 1, p->to / 100 % 100));
    } else if (p->kind == 'Q') {
        int q = (m + 2) / 3 - 1, qy = y;
        if (q == 0) {
            q = 4;
            qy--;
        }
        ret->from = ymd(qy, q * 3 - 2, 1);
        ret->to = ymd(qy, q * 3, days_in_month(qy, q * 3));
    } else if (p->kind == 'M') {
        int pm = m - 1, py = y;
        if (pm == 0) {
            pm = 12;
            py--;
        }
        ret->from = ymd(py, pm, 1);
        ret->to = ymd(py, pm, days_in_month(py, pm));
    } else {
        int64_t days = 0;
        sifa_calendar_date_diff(p->from, p->to, &days, NULL);
        ret->to = add_days(p->from, -1);
        ret->from = add_days(ret->to, -days);
    }
    set_label(ret);
    return 0;
}

int sifa_period_pieces(int32_t from, int32_t to, struct sifa_period_piece *out, size_t max, size_t *ret_n,
                       struct sifa_error *err)
{
    size_t n = 0;
    int32_t d = from;
    while (d <= to) {
        int y = d / 10000, m = d / 100 % 100, day = d % 100;
        struct sifa_period_piece p;
        int32_t end;
        if (m == 1 && day == 1 && ymd(y, 12, 31) <= to) {
            p.level = 'Y';
            snprintf(p.period, sizeof(p.period), "%04d", y);
            end = ymd(y, 12, 31);
        } else if (day == 1 && ymd(y, m, days_in_month(y, m)) <= to) {
            p.level = 'M';
            snprintf(p.period, sizeof(p.period), "%04d-%02d", y, m);
            end = ymd(y, m, days_in_month(y, m));
        } else {
            p.level = 'D';
            date_str(d, p.period);
            end = d;
        }
        if (n >= max)
            return sifa_error_set(err, SIFA_ELIMIT, "period_too_long", "统计期间分段过多");
        out[n++] = p;
        d = add_days(end, 1);
        if (d <= end)
            break;
    }
    *ret_n = n;
    return 0;
}

void sifa_period_to_json(const struct sifa_period *p, json_t **ret)
{
    char a[16], b[16];
    date_str(p->from, a);
    date_str(p->to, b);
    *ret = json_pack("{s:s,s:s,s:s}", "label", p->label, "from", a, "to", b);
}

/* ---------- exact decimals ---------- */

static __int128 pow10i(int n)
{
    __int128 v = 1;
    while (n-- > 0)
        v *= 10;
    return v;
}

bool sifa_decimal_divide(__int128 num, __int128 den, int digits, enum sifa_rounding rule, struct sifa_decimal *ret)
{
    if (den == 0 || digits < 0 || digits > 12)
        return false;
    if (den < 0) {
        num = -num;
        den = -den;
    }
    __int128 scaled = num * pow10i(digits);
    __int128 q = scaled / den, rem = scaled % den;
    if (rule == SIFA_ROUND_HALF_UP) {
        __int128 arem = rem < 0 ? -rem : rem;
        if (2 * arem >= den) /* half away from zero: 四舍五入 */
            q += scaled < 0 ? -1 : 1;
    }
    if (q > INT64_MAX || q < -INT64_MAX)
        return false;
    ret->r = (int64_t)q;
    ret->digits = digits;
    return true;
}

void sifa_decimal_text(struct sifa_decimal d, char *out, size_t size)
{
    if (d.digits <= 0) {
        snprintf(out, size, "%lld", (long long)d.r);
        return;
    }
    int64_t p = (int64_t)pow10i(d.digits);
    uint64_t a = d.r < 0 ? (uint64_t)(-(d.r + 1)) + 1 : (uint64_t)d.r;
    snprintf(out, size, "%s%llu.%0*llu", d.r < 0 ? "-" : "", (unsigned long long)(a / (uint64_t)p), d.digits & 15,
             (unsigned long long)(a % (uint64_t)p));
}

static json_t *decimal_json(struct sifa_decimal d)
{
    if (d.digits == 0)
        return json_integer(d.r);
    return json_real((double)d.r / (double)pow10i(d.digits));
}

/* ---------- the org tree ---------- */

static int compare_nodes(const void *a, const void *b)
{
    return strcmp(((const struct sifa_org_node *)a)->code, ((const struct sifa_org_node *)b)->code);
}

int sifa_org_tree_find(const struct sifa_org_tree *t, const char *code)
{
    if (t == NULL || code == NULL)
        return -1;
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(t->nodes[mid].code, code);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int sifa_org_tree_load(struct sifa_db *db, struct sifa_org_tree **ret, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, "SELECT code, name, kind, parent FROM orgs", &st, err);
    if (r < 0)
        return r;
    struct sifa_org_tree *t = sifa_xcalloc(1, sizeof(*t));
    size_t cap = 0;
    while ((r = sifa_db_step(st, err)) == SIFA_DB_ROW) {
        if (t->n == cap) {
            cap = cap ? cap * 2 : 64;
            t->nodes = sifa_xrealloc(t->nodes, cap * sizeof(*t->nodes));
        }
        const char *parent = sifa_db_column_text(st, 3);
        t->nodes[t->n++] = (struct sifa_org_node){sifa_xstrdup(sifa_db_column_text(st, 0)),
                                                  sifa_xstrdup(sifa_db_column_text(st, 1)),
                                                  sifa_xstrdup(sifa_db_column_text(st, 2)), -1,
                                                  parent ? sifa_xstrdup(parent) : NULL};
    }
    sifa_db_stmt_done(st);
    qsort(t->nodes, t->n, sizeof(*t->nodes), compare_nodes);
    for (size_t i = 0; i < t->n; i++)
        t->nodes[i].parent = sifa_org_tree_find(t, t->nodes[i].parent_code);
    if (r < 0) {
        sifa_org_tree_free(t);
        return r;
    }
    *ret = t;
    return 0;
}

void sifa_org_tree_free(struct sifa_org_tree *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->nodes[i].code);
        free(t->nodes[i].name);
        free(t->nodes[i].kind);
        free(t->nodes[i].parent_code);
    }
    free(t->nodes);
    free(t);
}

/* ---------- visibility ---------- */

const struct sifa_record_scope *sifa_stats_scope_all(void *arg, const struct sifa_module *m)
{
    (void)arg;
    (void)m;
    return SIFA_RECORD_SCOPE_ALL;
}

/* Which org units' rows a scope lets through; slot n is "records without an org unit". No scope
 * (NULL): none, like the record engine. */
static bool *visible_units(const struct sifa_org_tree *t, const struct sifa_record_scope *sc)
{
    bool *vis = sifa_xcalloc(t->n + 1, sizeof(bool));
    for (size_t i = 0; sc != NULL && i <= t->n; i++) {
        if (sc->all) {
            vis[i] = true;
            continue;
        }
        if (i == t->n)
            continue;
        for (size_t k = 0; k < sc->norgs && !vis[i]; k++)
            vis[i] = strcmp(sc->orgs[k], t->nodes[i].code) == 0;
        for (int a = (int)i, depth = 0; a >= 0 && !vis[i] && depth < 64; a = t->nodes[a].parent, depth++)
            for (size_t k = 0; k < sc->nsubtrees && !vis[i]; k++)
                vis[i] = strcmp(sc->subtrees[k], t->nodes[a].code) == 0;
    }
    return vis;
}

/* ---------- reading ---------- */

/* Sums of one base series over a span, for every org unit (slot n: the whole). */
struct series_sums {
    const struct sifa_indicator *ind;
    char series;
    char dim[2 * SIFA_MODEL_CODE_MAX + 2];
    int32_t from, to; /* to only, from == 0: cumulative up to `to` */
    int64_t *value, *n;
    bool *any; /* a row (any unit) existed */
};

struct reader {
    struct sifa_db *db;
    const struct sifa_stats_request *req;
    struct series_sums **sums; /* each allocated apart: callers hold pointers across later loads */
    size_t nsums, capsums;
    struct {
        const struct sifa_module *m;
        bool *vis;
    } vis[SIFA_MODEL_MODULES_MAX];
    size_t nvis;
};

static const bool *module_visibility(struct reader *rd, const struct sifa_module *m)
{
    for (size_t i = 0; i < rd->nvis; i++)
        if (rd->vis[i].m == m)
            return rd->vis[i].vis;
    const struct sifa_record_scope *sc = rd->req->scope_for ? rd->req->scope_for(rd->req->scope_arg, m) : NULL;
    if (rd->nvis >= SIFA_MODEL_MODULES_MAX)
        return NULL;
    rd->vis[rd->nvis].m = m;
    rd->vis[rd->nvis].vis = visible_units(rd->req->tree, sc);
    return rd->vis[rd->nvis++].vis;
}

static void add_row(struct reader *rd, struct series_sums *s, const bool *vis, const char *org, int64_t value, int64_t n)
{
    const struct sifa_org_tree *t = rd->req->tree;
    int idx = org && org[0] ? sifa_org_tree_find(t, org) : -1;
    if (!vis[idx < 0 ? t->n : (size_t)idx] && !(idx < 0 && org && org[0] && vis[t->n]))
        return;
    s->value[t->n] += value;
    s->n[t->n] += n;
    s->any[t->n] = true;
    for (int a = idx, depth = 0; a >= 0 && depth < 64; a = t->nodes[a].parent, depth++) {
        s->value[a] += value;
        s->n[a] += n;
        s->any[a] = true;
    }
}

static int query_rows(struct reader *rd, struct series_sums *s, const bool *vis, const char *sql, const char *level,
                      const char *period, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(rd->db, sql, &st, err);
    if (r < 0)
        return r;
    char series[2] = {s->series, 0};
    sifa_db_bind_text(st, 1, s->ind->code, -1);
    sifa_db_bind_text(st, 2, series, -1);
    sifa_db_bind_text(st, 3, level, -1);
    sifa_db_bind_text(st, 4, period, -1);
    sifa_db_bind_text(st, 5, s->dim, -1);
    while ((r = sifa_db_step(st, err)) == SIFA_DB_ROW)
        add_row(rd, s, vis, sifa_db_column_text(st, 0), sifa_db_column_int64(st, 1), sifa_db_column_int64(st, 2));
    sifa_db_stmt_done(st);
    return r < 0 ? r : 0;
}

static int load_sums(struct reader *rd, struct series_sums *s, struct sifa_error *err)
{
    const bool *vis = module_visibility(rd, s->ind->module);
    if (vis == NULL)
        return sifa_error_set(err, SIFA_ELIMIT, "too_many_modules", "模块过多");
    int32_t from = s->from;
    int r = 0;
    if (from == 0) {
        /* cumulative: every whole year before `to`'s year, then the pieces of that year */
        char year[8];
        snprintf(year, sizeof(year), "%04d", (int)(s->to / 10000) % 10000);
        r = query_rows(rd, s, vis,
                       "SELECT org, SUM(value), SUM(n) FROM stat_values WHERE indicator = ? AND series = ? AND "
                       "level = ? AND period < ? AND dim = ? GROUP BY org",
                       "Y", year, err);
        from = ymd(s->to / 10000, 1, 1);
    }
    struct sifa_period_piece *pieces = sifa_xcalloc(SIFA_PERIOD_PIECES_MAX, sizeof(*pieces));
    size_t np = 0;
    if (r >= 0)
        r = sifa_period_pieces(from, s->to, pieces, SIFA_PERIOD_PIECES_MAX, &np, err);
    for (size_t i = 0; i < np && r >= 0; i++) {
        char level[2] = {pieces[i].level, 0};
        r = query_rows(rd, s, vis,
                       "SELECT org, value, n FROM stat_values WHERE indicator = ? AND series = ? AND level = ? AND "
                       "period = ? AND dim = ?",
                       level, pieces[i].period, err);
    }
    free(pieces);
    return r;
}

static int get_sums(struct reader *rd, const struct sifa_indicator *ind, char series, const char *dim, int32_t from,
                    int32_t to, struct series_sums **ret, struct sifa_error *err)
{
    for (size_t i = 0; i < rd->nsums; i++) {
        struct series_sums *s = rd->sums[i];
        if (s->ind == ind && s->series == series && strcmp(s->dim, dim) == 0 && s->from == from && s->to == to) {
            *ret = s;
            return 0;
        }
    }
    if (rd->nsums == rd->capsums) {
        rd->capsums = rd->capsums ? rd->capsums * 2 : 16;
        rd->sums = sifa_xrealloc(rd->sums, rd->capsums * sizeof(*rd->sums));
    }
    size_t slots = rd->req->tree->n + 1;
    struct series_sums *s = sifa_xcalloc(1, sizeof(*s));
    rd->sums[rd->nsums] = s;
    s->ind = ind;
    s->series = series;
    snprintf(s->dim, sizeof(s->dim), "%s", dim);
    s->from = from;
    s->to = to;
    s->value = sifa_xcalloc(slots, sizeof(int64_t));
    s->n = sifa_xcalloc(slots, sizeof(int64_t));
    s->any = sifa_xcalloc(slots, sizeof(bool));
    rd->nsums++;
    int r = load_sums(rd, s, err);
    *ret = s;
    return r;
}

/* A figure for one org slot. */
struct figure {
    bool has;
    const char *reason; /* static: why there is no value */
    struct sifa_decimal v;
    int64_t n;
    bool balance;
    struct sifa_decimal opening, in, out;
};

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int count_distinct(struct reader *rd, const struct sifa_indicator *ind, const char *dim, int32_t from, int32_t to,
                          int slot, struct figure *f, struct sifa_error *err)
{
    const struct sifa_org_tree *t = rd->req->tree;
    const bool *vis = module_visibility(rd, ind->module);
    if (vis == NULL)
        return sifa_error_set(err, SIFA_ELIMIT, "too_many_modules", "模块过多");
    struct sifa_period_piece *pieces = sifa_xcalloc(SIFA_PERIOD_PIECES_MAX, sizeof(*pieces));
    size_t np = 0;
    int r = sifa_period_pieces(from, to, pieces, SIFA_PERIOD_PIECES_MAX, &np, err);
    char **keys = NULL;
    size_t nkeys = 0, cap = 0;
    for (size_t i = 0; i < np && r >= 0; i++) {
        struct sifa_db_stmt *st;
        char level[2] = {pieces[i].level, 0};
        r = sifa_db_prepare(rd->db,
                            "SELECT org, key FROM stat_keys WHERE indicator = ? AND level = ? AND period = ? AND "
                            "dim = ? AND n > 0",
                            &st, err);
        if (r < 0)
            break;
        sifa_db_bind_text(st, 1, ind->code, -1);
        sifa_db_bind_text(st, 2, level, -1);
        sifa_db_bind_text(st, 3, pieces[i].period, -1);
        sifa_db_bind_text(st, 4, dim, -1);
        while ((r = sifa_db_step(st, err)) == SIFA_DB_ROW) {
            const char *org = sifa_db_column_text(st, 0);
            int idx = org && org[0] ? sifa_org_tree_find(t, org) : -1;
            if (!vis[idx < 0 ? t->n : (size_t)idx])
                continue;
            bool under = slot == (int)t->n;
            for (int a = idx, depth = 0; a >= 0 && !under && depth < 64; a = t->nodes[a].parent, depth++)
                under = a == slot;
            if (!under)
                continue;
            if (nkeys == cap) {
                cap = cap ? cap * 2 : 64;
                keys = sifa_xrealloc(keys, cap * sizeof(*keys));
            }
            keys[nkeys++] = sifa_xstrdup(sifa_db_column_text(st, 1));
        }
        sifa_db_stmt_done(st);
    }
    free(pieces);
    if (r >= 0) {
        if (nkeys > 1)
            qsort(keys, nkeys, sizeof(*keys), compare_strings);
        int64_t distinct = 0;
        for (size_t i = 0; i < nkeys; i++)
            if (i == 0 || strcmp(keys[i], keys[i - 1]) != 0)
                distinct++;
        f->has = nkeys > 0;
        f->reason = f->has ? NULL : "no_data";
        f->v = (struct sifa_decimal){distinct, 0};
        f->n = distinct;
    }
    for (size_t i = 0; i < nkeys; i++)
        free(keys[i]);
    free(keys);
    return r < 0 ? r : 0;
}

static bool declares_by(const struct sifa_indicator *ind, const char *dim)
{
    if (dim[0] == '\0')
        return true;
    for (size_t i = 0; i < ind->nby; i++) {
        size_t len = strlen(ind->by[i]->code);
        if (strncmp(dim, ind->by[i]->code, len) == 0 && dim[len] == '=')
            return true;
    }
    return false;
}

static void no_value(struct figure *f, const char *reason)
{
    f->has = false;
    f->reason = reason;
    f->v = (struct sifa_decimal){0, 0};
}

static const struct sifa_field *counted_org_field(const struct sifa_indicator *ind)
{
    return ind->org_field ? ind->org_field : ind->module->org_field;
}

/* A count or sum with no contribution in a period is 0, not "no data", when records of its
 * population were there: records of the same module dated by the same field and counted for the
 * same org field, as shown by any sibling count or sum that has contributions for the same org
 * slot, period and breakdown. (0 lost of 27 concluded cases is a 败诉率 of 0%, not a gap in the
 * data.) Without such a sibling nothing proves the population, and the figure stays without data. */
static int population_seen(struct reader *rd, const struct sifa_indicator *ind, const struct sifa_period *p, int slot,
                           const char *dim, bool *ret_seen, struct sifa_error *err)
{
    const struct sifa_model *model = rd->req->model;
    *ret_seen = false;
    for (size_t i = 0; model != NULL && i < model->nindicators && !*ret_seen; i++) {
        const struct sifa_indicator *sib = &model->indicators[i];
        if (sib == ind || (sib->kind != SIFA_IND_COUNT && sib->kind != SIFA_IND_SUM) || sib->module != ind->module ||
            sib->date_field != ind->date_field || counted_org_field(sib) != counted_org_field(ind) ||
            !declares_by(sib, dim))
            continue;
        struct series_sums *s;
        int r = get_sums(rd, sib, 'v', dim, p->from, p->to, &s, err);
        if (r < 0)
            return r;
        *ret_seen = s->n[slot] > 0;
    }
    return 0;
}

static int evaluate(struct reader *rd, const struct sifa_indicator *ind, const struct sifa_period *p, int slot,
                    const char *dim, struct figure *f, struct sifa_error *err)
{
    memset(f, 0, sizeof(*f));
    if (ind->module != NULL && !declares_by(ind, dim)) {
        no_value(f, "no_breakdown");
        return 0;
    }
    struct series_sums *s;
    int r;
    switch (ind->kind) {
    case SIFA_IND_COUNT:
    case SIFA_IND_SUM: {
        if ((r = get_sums(rd, ind, 'v', dim, p->from, p->to, &s, err)) < 0)
            return r;
        int digits = ind->kind == SIFA_IND_SUM && ind->field->type == SIFA_FIELD_MONEY ? 2 : 0;
        f->v = (struct sifa_decimal){s->value[slot], digits};
        f->n = s->n[slot];
        f->has = f->n > 0;
        if (!f->has && (r = population_seen(rd, ind, p, slot, dim, &f->has, err)) < 0)
            return r;
        if (!f->has)
            no_value(f, "no_data");
        return 0;
    }
    case SIFA_IND_DISTINCT:
        if ((r = count_distinct(rd, ind, dim, p->from, p->to, slot, f, err)) < 0)
            return r;
        if (!f->has && (r = population_seen(rd, ind, p, slot, dim, &f->has, err)) < 0)
            return r;
        if (f->has)
            f->reason = NULL;
        return 0;
    case SIFA_IND_STOCK: {
        struct series_sums *in_to, *in_before, *flow_in, *out_to = NULL, *out_before = NULL, *flow_out = NULL;
        int32_t before = add_days(p->from, -1);
        if ((r = get_sums(rd, ind, 'i', dim, 0, p->to, &in_to, err)) < 0 ||
            (r = get_sums(rd, ind, 'i', dim, 0, before, &in_before, err)) < 0 ||
            (r = get_sums(rd, ind, 'i', dim, p->from, p->to, &flow_in, err)) < 0)
            return r;
        if (ind->end_field != NULL &&
            ((r = get_sums(rd, ind, 'o', dim, 0, p->to, &out_to, err)) < 0 ||
             (r = get_sums(rd, ind, 'o', dim, 0, before, &out_before, err)) < 0 ||
             (r = get_sums(rd, ind, 'o', dim, p->from, p->to, &flow_out, err)) < 0))
            return r;
        int64_t closing = in_to->value[slot] - (out_to ? out_to->value[slot] : 0);
        int64_t opening = in_before->value[slot] - (out_before ? out_before->value[slot] : 0);
        f->v = (struct sifa_decimal){closing, 0};
        f->n = closing;
        f->has = in_to->n[slot] > 0;
        f->balance = true;
        f->opening = (struct sifa_decimal){opening, 0};
        f->in = (struct sifa_decimal){flow_in->value[slot], 0};
        f->out = (struct sifa_decimal){flow_out ? flow_out->value[slot] : 0, 0};
        if (!f->has)
            no_value(f, "no_data");
        return 0;
    }
    case SIFA_IND_RATIO:
    case SIFA_IND_DIFFERENCE:
    case SIFA_IND_TOTAL: {
        struct figure a, b;
        if ((r = evaluate(rd, ind->a, p, slot, dim, &a, err)) < 0 || (r = evaluate(rd, ind->b, p, slot, dim, &b, err)) < 0)
            return r;
        f->n = a.n;
        if (!a.has || !b.has) {
            no_value(f, !a.has ? a.reason : b.reason);
            return 0;
        }
        if (ind->kind != SIFA_IND_RATIO) {
            int d = a.v.digits > b.v.digits ? a.v.digits : b.v.digits;
            __int128 x = (__int128)a.v.r * pow10i(d - a.v.digits) +
                         (ind->kind == SIFA_IND_TOTAL ? 1 : -1) * (__int128)b.v.r * pow10i(d - b.v.digits);
            f->has = sifa_decimal_divide(x, pow10i(d), d, SIFA_ROUND_HALF_UP, &f->v);
            if (!f->has)
                no_value(f, "overflow");
            return 0;
        }
        if (b.v.r == 0) {
            no_value(f, "denominator_zero");
            return 0;
        }
        __int128 num = (__int128)a.v.r * pow10i(b.v.digits) * ind->scale;
        __int128 den = (__int128)b.v.r * pow10i(a.v.digits);
        f->has = sifa_decimal_divide(num, den, ind->digits, ind->rounding, &f->v);
        if (!f->has)
            no_value(f, "overflow");
        return 0;
    }
    case SIFA_IND_PER_DAY: {
        struct figure a;
        if ((r = evaluate(rd, ind->a, p, slot, dim, &a, err)) < 0)
            return r;
        f->n = a.n;
        if (!a.has) {
            no_value(f, a.reason);
            return 0;
        }
        int64_t days = 0;
        if (ind->days == SIFA_DAYS_WORKING) {
            int32_t wd = 0;
            struct sifa_error cerr = {0};
            if (rd->req->calendar == NULL ||
                sifa_calendar_working_days_between(rd->req->calendar, add_days(p->from, -1), p->to, &wd, &cerr) < 0) {
                sifa_error_release(&cerr);
                no_value(f, "no_calendar");
                return 0;
            }
            days = wd;
        } else {
            sifa_calendar_date_diff(p->from, p->to, &days, NULL);
            days++;
        }
        if (days <= 0) {
            no_value(f, "denominator_zero");
            return 0;
        }
        f->has = sifa_decimal_divide(a.v.r, (__int128)days * pow10i(a.v.digits), ind->digits, ind->rounding, &f->v);
        if (!f->has)
            no_value(f, "overflow");
        return 0;
    }
    case SIFA_IND_CHANGE: {
        struct sifa_period prev;
        struct figure a, b;
        if ((r = sifa_period_shift(p, ind->compare, &prev, err)) < 0 ||
            (r = evaluate(rd, ind->a, p, slot, dim, &a, err)) < 0 ||
            (r = evaluate(rd, ind->a, &prev, slot, dim, &b, err)) < 0)
            return r;
        f->n = a.n;
        if (!a.has || !b.has) {
            no_value(f, !a.has ? a.reason : "no_data_compared");
            return 0;
        }
        if (b.v.r == 0) {
            no_value(f, "base_zero");
            return 0;
        }
        __int128 cur = (__int128)a.v.r * pow10i(b.v.digits), base = (__int128)b.v.r * pow10i(a.v.digits);
        f->has = sifa_decimal_divide((cur - base) * 100, base, ind->digits, ind->rounding, &f->v);
        if (!f->has)
            no_value(f, "overflow");
        return 0;
    }
    }
    return 0;
}

/* ---------- formulas and phrases ---------- */

char *sifa_stats_formula(const struct sifa_indicator *ind)
{
    char buf[1024];
    const char *rule = ind->rounding == SIFA_ROUND_DOWN ? "截尾" : "四舍五入";
    switch (ind->kind) {
    case SIFA_IND_COUNT:
    case SIFA_IND_SUM:
    case SIFA_IND_DISTINCT:
    case SIFA_IND_STOCK: {
        const char *what = ind->kind == SIFA_IND_COUNT      ? "记录数"
                           : ind->kind == SIFA_IND_SUM      ? "合计"
                           : ind->kind == SIFA_IND_DISTINCT ? "不重复计数"
                                                            : "在册数(期末)";
        int n = snprintf(buf, sizeof(buf), "%s:%s%s%s%s,按“%s”归入期间,按“%s”归入单位", ind->module->name,
                         ind->kind == SIFA_IND_SUM || ind->kind == SIFA_IND_DISTINCT ? "“" : "",
                         ind->kind == SIFA_IND_SUM || ind->kind == SIFA_IND_DISTINCT ? ind->field->name : "",
                         ind->kind == SIFA_IND_SUM || ind->kind == SIFA_IND_DISTINCT ? "”" : "", what,
                         ind->date_field->name, ind->org_field ? ind->org_field->name : "(无)");
        if (ind->kind == SIFA_IND_STOCK && ind->end_field != NULL && n > 0 && (size_t)n < sizeof(buf))
            snprintf(buf + n, sizeof(buf) - (size_t)n, ";“%s”为空或晚于期末者在册", ind->end_field->name);
        if (ind->nwhere > 0) {
            size_t len = strlen(buf);
            snprintf(buf + len, sizeof(buf) - len, ";另有 %zu 项筛选条件", ind->nwhere);
        }
        break;
    }
    case SIFA_IND_RATIO:
        snprintf(buf, sizeof(buf), "%s ÷ %s%s,保留 %d 位小数(%s)", ind->a->name, ind->b->name,
                 ind->scale == 100 ? " × 100%" : "", ind->digits, rule);
        break;
    case SIFA_IND_DIFFERENCE:
        snprintf(buf, sizeof(buf), "%s − %s", ind->a->name, ind->b->name);
        break;
    case SIFA_IND_TOTAL:
        snprintf(buf, sizeof(buf), "%s + %s", ind->a->name, ind->b->name);
        break;
    case SIFA_IND_PER_DAY:
        snprintf(buf, sizeof(buf), "%s ÷ 期间%s天数,保留 %d 位小数(%s)", ind->a->name,
                 ind->days == SIFA_DAYS_WORKING ? "工作日" : "自然日", ind->digits, rule);
        break;
    case SIFA_IND_CHANGE:
        snprintf(buf, sizeof(buf), "(本期%s − %s%s) ÷ %s%s × 100%%,保留 %d 位小数(%s)", ind->a->name,
                 ind->compare == SIFA_COMPARE_PREVIOUS_YEAR ? "上年同期" : "上期", ind->a->name,
                 ind->compare == SIFA_COMPARE_PREVIOUS_YEAR ? "上年同期" : "上期", ind->a->name, ind->digits, rule);
        break;
    }
    return sifa_xstrdup(buf);
}

/* "同比上升 3.20%" / "环比下降 1.5%" / "同比持平" from a change in percent. */
static void change_phrase(enum sifa_compare how, struct sifa_decimal change, char *out, size_t size)
{
    const char *base = how == SIFA_COMPARE_PREVIOUS_YEAR ? "同比" : "环比";
    if (change.r == 0) {
        snprintf(out, size, "%s持平", base);
        return;
    }
    struct sifa_decimal a = change;
    if (a.r < 0)
        a.r = -a.r;
    char num[48];
    sifa_decimal_text(a, num, sizeof(num));
    snprintf(out, size, "%s%s%s%%", base, change.r > 0 ? "上升" : "下降", num);
}

/* ---------- the request ---------- */

static void figure_json(json_t *item, const struct figure *f)
{
    char text[64];
    if (f->has) {
        sifa_decimal_text(f->v, text, sizeof(text));
        json_object_set_new(item, "value", decimal_json(f->v));
        json_object_set_new(item, "text", json_string(text));
    } else {
        json_object_set_new(item, "value", json_null());
        json_object_set_new(item, "text", json_null());
        json_object_set_new(item, "reason", json_string(f->reason ? f->reason : "no_data"));
    }
    json_object_set_new(item, "digits", json_integer(f->v.digits));
    json_object_set_new(item, "n", json_integer(f->n));
    json_object_set_new(item, "has_data", json_boolean(f->has));
}

static bool indicator_stale(const struct sifa_indicator *ind, json_t *built)
{
    if (ind->module != NULL) {
        const char *h = json_string_value(json_object_get(built, ind->code));
        return h == NULL || strcmp(h, ind->hash) != 0;
    }
    return (ind->a && indicator_stale(ind->a, built)) || (ind->b && indicator_stale(ind->b, built));
}

/* Depth-bounded: the model loader rejects cycles and chains deeper than SIFA_MODEL_DEPTH_MAX, so
 * the bound only turns a broken model into "not readable" instead of a stack overflow. */
static bool indicator_readable_at(const struct sifa_stats_request *req, const struct sifa_indicator *ind, int depth,
                                  const struct sifa_module **ret_denied)
{
    if (ind == NULL)
        return true;
    if (depth > SIFA_MODEL_DEPTH_MAX)
        return false;
    if (ind->module != NULL) {
        /* No scope function is no permission: a caller that forgot to say whose figures these
         * are gets none, never everything. */
        if (req->scope_for == NULL || req->scope_for(req->scope_arg, ind->module) == NULL) {
            if (ret_denied != NULL)
                *ret_denied = ind->module;
            return false;
        }
        return true;
    }
    /* every part, however deep: a 同比 of a total is as readable as the least readable base */
    return indicator_readable_at(req, ind->a, depth + 1, ret_denied) &&
           indicator_readable_at(req, ind->b, depth + 1, ret_denied);
}

bool sifa_stats_indicator_readable(const struct sifa_stats_request *req, const struct sifa_indicator *ind,
                                   const struct sifa_module **ret_denied)
{
    return indicator_readable_at(req, ind, 0, ret_denied);
}

/* Does any unit the caller may see for this indicator sit at or under slot? */
static bool slot_visible(struct reader *rd, const struct sifa_indicator *ind, int slot, bool *ret_partial)
{
    if (ind->module == NULL) {
        bool pa = false, pb = false;
        bool va = ind->a == NULL || slot_visible(rd, ind->a, slot, &pa);
        bool vb = ind->b == NULL || slot_visible(rd, ind->b, slot, &pb);
        *ret_partial = pa || pb;
        return va && vb;
    }
    const struct sifa_org_tree *t = rd->req->tree;
    const bool *vis = module_visibility(rd, ind->module);
    if (vis == NULL)
        return false;
    bool any = false, all = true;
    for (size_t i = 0; i <= t->n; i++) {
        bool under = slot == (int)t->n;
        for (int a = i < t->n ? (int)i : -1, depth = 0; a >= 0 && !under && depth < 64; a = t->nodes[a].parent, depth++)
            under = a == slot;
        if (!under)
            continue;
        any = any || vis[i];
        all = all && vis[i];
    }
    *ret_partial = any && !all;
    return any;
}

static int read_item(struct reader *rd, const struct sifa_indicator *ind, int slot, json_t *built, json_t *item,
                     struct sifa_error *err)
{
    const struct sifa_stats_request *req = rd->req;
    struct figure f;
    int r = evaluate(rd, ind, &req->period, slot, "", &f, err);
    if (r < 0)
        return r;
    figure_json(item, &f);
    if (ind->kind == SIFA_IND_CHANGE && f.has) {
        char phrase[96];
        change_phrase(ind->compare, f.v, phrase, sizeof(phrase));
        json_object_set_new(item, "phrase", json_string(phrase));
    }
    char *formula = sifa_stats_formula(ind);
    json_object_set_new(item, "formula", json_string(formula));
    free(formula);
    json_object_set_new(item, "stale", json_boolean(indicator_stale(ind, built)));
    if (f.balance) {
        char o[32], i[32], x[32], c[32];
        sifa_decimal_text(f.opening, o, sizeof(o));
        sifa_decimal_text(f.in, i, sizeof(i));
        sifa_decimal_text(f.out, x, sizeof(x));
        sifa_decimal_text(f.v, c, sizeof(c));
        json_object_set_new(item, "balance",
                            json_pack("{s:I,s:I,s:I,s:I}", "opening", (json_int_t)f.opening.r, "in", (json_int_t)f.in.r,
                                      "out", (json_int_t)f.out.r, "closing", (json_int_t)f.v.r));
    }
    if (req->by != NULL && req->by->codes != NULL) {
        json_t *parts = json_array();
        for (size_t k = 0; k <= req->by->codes->nitems && r >= 0; k++) {
            const struct sifa_code_item *ci = k < req->by->codes->nitems ? &req->by->codes->items[k] : NULL;
            char dim[2 * SIFA_MODEL_CODE_MAX + 80];
            snprintf(dim, sizeof(dim), "%s=%s", req->by->code, ci ? ci->code : "");
            struct figure part;
            if ((r = evaluate(rd, ind, &req->period, slot, dim, &part, err)) < 0)
                break;
            if (part.reason != NULL && strcmp(part.reason, "no_breakdown") == 0)
                break;
            if (ci == NULL && !part.has)
                continue; /* no record without a value: leave the "unspecified" line out */
            json_t *pj = json_pack("{s:s?,s:s}", "code", ci ? ci->code : NULL, "label", ci ? ci->label : "未填写");
            figure_json(pj, &part);
            json_array_append_new(parts, pj);
        }
        if (json_array_size(parts) > 0)
            json_object_set_new(item, "breakdown", parts);
        else
            json_decref(parts);
    }
    if (r >= 0 && req->compare) {
        struct sifa_period prev;
        struct figure pf;
        if ((r = sifa_period_shift(&req->period, req->compare_how, &prev, err)) < 0 ||
            (r = evaluate(rd, ind, &prev, slot, "", &pf, err)) < 0)
            return r;
        json_t *pj = json_object();
        figure_json(pj, &pf);
        json_object_set_new(item, "previous", pj);
        if (f.has && pf.has && pf.v.r != 0) {
            struct sifa_decimal ch;
            __int128 cur = (__int128)f.v.r * pow10i(pf.v.digits), base = (__int128)pf.v.r * pow10i(f.v.digits);
            if (sifa_decimal_divide((cur - base) * 100, base, 2, SIFA_ROUND_HALF_UP, &ch)) {
                char text[48], phrase[96];
                sifa_decimal_text(ch, text, sizeof(text));
                change_phrase(req->compare_how, ch, phrase, sizeof(phrase));
                json_object_set_new(item, "change", json_pack("{s:o,s:s,s:s}", "value", decimal_json(ch), "text", text,
                                                              "phrase", phrase));
            }
        }
    }
    return r < 0 ? r : 0;
}

static int load_built(struct sifa_db *db, json_t **ret, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, "SELECT indicator, hash FROM stat_definitions", &st, err);
    if (r < 0)
        return r;
    json_t *built = json_object();
    while ((r = sifa_db_step(st, err)) == SIFA_DB_ROW)
        json_object_set_new(built, sifa_db_column_text(st, 0), json_string(sifa_db_column_text(st, 1)));
    sifa_db_stmt_done(st);
    if (r < 0) {
        json_decref(built);
        return r;
    }
    *ret = built;
    return 0;
}

int sifa_stats_read(struct sifa_db *db, const struct sifa_stats_request *req, json_t **ret, struct sifa_error *err)
{
    struct reader rd = {.db = db, .req = req};
    int32_t after = add_days(req->period.to, 1);
    if (req->by != NULL && (req->period.from % 100 != 1 || after % 100 != 1))
        return sifa_error_set_details(err, SIFA_EINVALID, "breakdown_period",
                                      json_pack("{s:s}", "period", req->period.label),
                                      "分类统计按整月汇总,期间须为整月、季度或年度(%s 不是)", req->period.label);
    json_t *built = NULL;
    int r = load_built(db, &built, err);
    if (r < 0)
        return r;
    const struct sifa_org_tree *t = req->tree;
    json_t *items = json_array();
    for (size_t i = 0; i < req->nindicators && r >= 0; i++) {
        const struct sifa_indicator *ind = req->indicators[i];
        const struct sifa_module *denied = NULL;
        if (!sifa_stats_indicator_readable(req, ind, &denied)) {
            const char *module = denied != NULL ? denied->code : "";
            r = sifa_error_set_details(err, SIFA_EDENIED, "indicator_denied",
                                       json_pack("{s:s,s:s}", "indicator", ind->code, "module", module),
                                       "无权查看指标“%s”(需要 %s 的查看权限)", ind->name, module);
            break;
        }
        for (size_t k = 0; k < req->norgs && r >= 0; k++) {
            const char *org = req->orgs[k];
            int slot = (int)t->n;
            if (org != NULL && (slot = sifa_org_tree_find(t, org)) < 0) {
                r = sifa_error_set_details(err, SIFA_ENOTFOUND, "org_not_found", json_pack("{s:s}", "org", org),
                                           "单位 %s 不存在", org);
                break;
            }
            bool partial = false;
            if (!slot_visible(&rd, ind, slot, &partial) && org != NULL) {
                r = sifa_error_set_details(err, SIFA_ENOTFOUND, "org_not_found", json_pack("{s:s}", "org", org),
                                           "单位 %s 不存在或不在你的数据范围内", org);
                break;
            }
            json_t *item = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?,s:b}", "indicator", ind->code, "name", ind->name,
                                     "unit", ind->unit, "kind", sifa_indicator_kind_name(ind->kind), "org", org,
                                     "org_name", org ? t->nodes[slot].name : NULL, "partial", partial);
            r = read_item(&rd, ind, slot, built, item, err);
            json_array_append_new(items, item);
        }
    }
    for (size_t i = 0; i < rd.nsums; i++) {
        free(rd.sums[i]->value);
        free(rd.sums[i]->n);
        free(rd.sums[i]->any);
        free(rd.sums[i]);
    }
    free(rd.sums);
    for (size_t i = 0; i < rd.nvis; i++)
        free(rd.vis[i].vis);
    json_decref(built);
    if (r < 0) {
        json_decref(items);
        return r;
    }
    json_t *period, *compare = NULL;
    sifa_period_to_json(&req->period, &period);
    if (req->compare) {
        struct sifa_period prev;
        if (sifa_period_shift(&req->period, req->compare_how, &prev, NULL) >= 0)
            sifa_period_to_json(&prev, &compare);
    }
    *ret = json_pack("{s:o,s:o,s:o}", "period", period, "compare", compare ? compare : json_null(), "items", items);
    return 0;
}

static int compare_years_desc(const void *a, const void *b)
{
    return *(const int *)b - *(const int *)a;
}

/* Per indicator and series, one seek per year present (the next period after the last one
 * found), not a scan of every org unit's rows: a few hundred index lookups for a county. */
int sifa_stats_years_with_data(struct sifa_db *db, const struct sifa_model *model, json_t **ret_years,
                               struct sifa_error *err)
{
    enum { YEARS_MAX = 200 };
    int years[YEARS_MAX];
    size_t nyears = 0;
    int r = 0;
    for (size_t i = 0; model != NULL && i < model->nindicators && r >= 0; i++) {
        const struct sifa_indicator *ind = &model->indicators[i];
        if (ind->module == NULL || ind->kind == SIFA_IND_DISTINCT)
            continue;
        const char *series = ind->kind == SIFA_IND_STOCK ? "i" : "v";
        char after[8] = "";
        for (int guard = 0; guard < YEARS_MAX && r >= 0; guard++) {
            struct sifa_db_stmt *st;
            r = sifa_db_prepare(db,
                                "SELECT period FROM stat_values WHERE indicator = ?1 AND series = ?2 AND level = 'Y' "
                                "AND period > ?3 AND n <> 0 ORDER BY period LIMIT 1",
                                &st, err);
            if (r < 0)
                break;
            sifa_db_bind_text(st, 1, ind->code, -1);
            sifa_db_bind_text(st, 2, series, -1);
            sifa_db_bind_text(st, 3, after, -1);
            r = sifa_db_step(st, err);
            const char *period = r == SIFA_DB_ROW ? sifa_db_column_text(st, 0) : NULL;
            int year = 0;
            for (int d = 0; period != NULL && strlen(period) == 4 && d < 4 && period[d] >= '0' && period[d] <= '9'; d++)
                year = year * 10 + (period[d] - '0');
            if (period != NULL)
                snprintf(after, sizeof(after), "%.4s", period);
            sifa_db_stmt_done(st);
            if (r != SIFA_DB_ROW)
                break;
            bool known = false;
            for (size_t k = 0; k < nyears; k++)
                known = known || years[k] == year;
            if (year > 0 && !known && nyears < YEARS_MAX)
                years[nyears++] = year;
        }
    }
    if (r < 0)
        return r;
    qsort(years, nyears, sizeof(years[0]), compare_years_desc);
    json_t *list = json_array();
    for (size_t k = 0; k < nyears; k++)
        json_array_append_new(list, json_integer(years[k]));
    *ret_years = list;
    return 0;
}

int sifa_stats_check_definitions(struct sifa_db *db, const struct sifa_model *model, bool register_empty,
                                 json_t **ret_stale, struct sifa_error *err)
{
    json_t *built = NULL;
    int r = load_built(db, &built, err);
    if (r < 0)
        return r;
    json_t *stale = json_array();
    for (size_t i = 0; i < model->nindicators && r >= 0; i++) {
        const struct sifa_indicator *ind = &model->indicators[i];
        if (ind->module == NULL)
            continue;
        const char *h = json_string_value(json_object_get(built, ind->code));
        if (h != NULL && strcmp(h, ind->hash) == 0)
            continue;
        if (!sifa_model_code_valid(ind->module->code))
            abort();
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT EXISTS (SELECT 1 FROM m_%s)", ind->module->code);
        struct sifa_db_stmt *st;
        if ((r = sifa_db_prepare(db, sql, &st, err)) < 0)
            break;
        r = sifa_db_step(st, err);
        bool has_records = r == SIFA_DB_ROW && sifa_db_column_int64(st, 0) != 0;
        sifa_db_stmt_done(st);
        if (r < 0)
            break;
        r = 0;
        if (has_records || !register_empty) {
            json_array_append_new(stale, json_string(ind->code));
            continue;
        }
        if ((r = sifa_db_prepare(db,
                                 "INSERT INTO stat_definitions (indicator, hash, built_at) VALUES (?, ?, ?) "
                                 "ON CONFLICT (indicator) DO UPDATE SET hash = excluded.hash, built_at = excluded.built_at",
                                 &st, err)) < 0)
            break;
        char now[21];
        sifa_utc_text(sifa_now_unix_ms() / 1000, now);
        sifa_db_bind_text(st, 1, ind->code, -1);
        sifa_db_bind_text(st, 2, ind->hash, -1);
        sifa_db_bind_text(st, 3, now, -1);
        r = sifa_db_step(st, err);
        sifa_db_stmt_done(st);
        r = r < 0 ? r : 0;
    }
    json_decref(built);
    if (r < 0) {
        json_decref(stale);
        return r;
    }
    *ret_stale = stale;
    return 0;
}

void sifa_org_tree_children(const struct sifa_org_tree *t, const char *code, const char ***ret, size_t *ret_n)
{
    int parent = code ? sifa_org_tree_find(t, code) : -1;
    const char **list = sifa_xcalloc(t->n + 1, sizeof(*list));
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->nodes[i].parent == parent && (code == NULL || parent >= 0))
            list[n++] = t->nodes[i].code;
    *ret = list;
    *ret_n = n;
}

void sifa_org_tree_of_kind(const struct sifa_org_tree *t, const char *code, const char *kind, const char ***ret,
                           size_t *ret_n)
{
    int top = code ? sifa_org_tree_find(t, code) : -1;
    const char **list = sifa_xcalloc(t->n + 1, sizeof(*list));
    size_t n = 0;
    for (size_t i = 0; i < t->n && (code == NULL || top >= 0); i++) {
        if (t->nodes[i].kind == NULL || strcmp(t->nodes[i].kind, kind) != 0 || (int)i == top)
            continue;
        bool under = code == NULL;
        for (int a = t->nodes[i].parent, depth = 0; a >= 0 && !under && depth < 64; a = t->nodes[a].parent, depth++)
            under = a == top;
        if (under)
            list[n++] = t->nodes[i].code;
    }
    *ret = list;
    *ret_n = n;
}

void sifa_stats_table_rows(const struct sifa_org_tree *t, const char *org, const char *row_kind, const char ***ret,
                           size_t *ret_n)
{
    const char *parent = org;
    if (parent == NULL) {
        const char **roots = NULL;
        size_t nroots = 0;
        sifa_org_tree_children(t, NULL, &roots, &nroots);
        parent = nroots == 1 ? roots[0] : NULL;
        if (parent == NULL && row_kind == NULL) {
            /* several roots: they are the rows, the total is everything */
            const char **rows = sifa_xcalloc(nroots + 1, sizeof(*rows));
            memcpy(rows, roots, nroots * sizeof(*rows));
            rows[nroots] = NULL;
            free(roots);
            *ret = rows;
            *ret_n = nroots + 1;
            return;
        }
        free(roots);
    }
    const char **units = NULL;
    size_t n = 0;
    if (row_kind != NULL)
        sifa_org_tree_of_kind(t, parent, row_kind, &units, &n);
    else
        sifa_org_tree_children(t, parent, &units, &n);
    units[n++] = parent; /* room was left for it: both lists hold up to t->n + 1 entries */
    *ret = units;
    *ret_n = n;
}

/* Marks in vis (t->n + 1 slots, all true on entry) only the units visible for every module ind
 * counts. */
static void intersect_visibility(const struct sifa_stats_request *req, const struct sifa_indicator *ind, int depth,
                                 bool *vis)
{
    if (ind == NULL || depth > SIFA_MODEL_DEPTH_MAX)
        return;
    if (ind->module == NULL) {
        intersect_visibility(req, ind->a, depth + 1, vis);
        intersect_visibility(req, ind->b, depth + 1, vis);
        return;
    }
    const struct sifa_record_scope *sc = req->scope_for ? req->scope_for(req->scope_arg, ind->module) : NULL;
    bool *mine = visible_units(req->tree, sc);
    for (size_t i = 0; i <= req->tree->n; i++)
        vis[i] = vis[i] && mine[i];
    free(mine);
}

void sifa_stats_table_rows_in_scope(const struct sifa_stats_request *req, const char *row_kind, const char ***ret,
                                    size_t *ret_n)
{
    const struct sifa_org_tree *t = req->tree;
    bool *vis = sifa_xcalloc(t->n + 1, sizeof(bool));
    for (size_t i = 0; i <= t->n; i++)
        vis[i] = true;
    for (size_t i = 0; i < req->nindicators; i++)
        intersect_visibility(req, req->indicators[i], 0, vis);
    /* the caller's top units: visible, under no visible unit (org_and_below of a town: the town;
     * all: the roots) */
    const char **tops = sifa_xcalloc(t->n + 1, sizeof(*tops));
    size_t ntops = 0;
    bool all_roots = true;
    for (size_t i = 0; i < t->n; i++) {
        bool top = vis[i];
        for (int a = t->nodes[i].parent, depth = 0; a >= 0 && top && depth < 64; a = t->nodes[a].parent, depth++)
            top = !vis[a];
        if (top) {
            tops[ntops++] = t->nodes[i].code;
            all_roots = all_roots && t->nodes[i].parent < 0;
        }
    }
    free(vis);
    if (ntops == 1 || (ntops > 1 && all_roots)) {
        /* one unit: its table, as if org= had named it; every root: the whole tree's */
        sifa_stats_table_rows(t, ntops == 1 ? tops[0] : NULL, row_kind, ret, ret_n);
        free(tops);
        return;
    }
    /* Several units side by side (a custom scope over two towns), or none (a self scope: only the
     * caller's own records, which no unit holds in full): each unit's rows, then a total of
     * everything the caller may see. */
    const char **rows = sifa_xcalloc(t->n + 1, sizeof(*rows));
    size_t n = 0;
    for (size_t k = 0; k < ntops; k++) {
        int idx = sifa_org_tree_find(t, tops[k]);
        if (row_kind == NULL || (idx >= 0 && t->nodes[idx].kind != NULL && strcmp(t->nodes[idx].kind, row_kind) == 0)) {
            rows[n++] = tops[k];
            continue;
        }
        const char **units = NULL;
        size_t nunits = 0;
        sifa_org_tree_of_kind(t, tops[k], row_kind, &units, &nunits);
        for (size_t u = 0; u < nunits && n < t->n; u++)
            rows[n++] = units[u];
        free(units);
    }
    free(tops);
    rows[n++] = NULL; /* room: at most t->n units above, each once (tops do not nest) */
    *ret = rows;
    *ret_n = n;
}

int sifa_stats_table(struct sifa_db *db, const struct sifa_stats_request *req, const char *title,
                     const char *subtitle, struct sifa_table **ret, struct sifa_error *err)
{
    json_t *data;
    int r = sifa_stats_read(db, req, &data, err);
    if (r < 0)
        return r;
    struct sifa_table *t = sifa_table_new(title, req->nindicators + 1);
    if (subtitle != NULL)
        sifa_table_set_subtitle(t, subtitle);
    sifa_table_set_header(t, 0, "单位", NULL);
    struct {
        char *buf;
        size_t len;
    } note = {0};
    FILE *nf = open_memstream(&note.buf, &note.len);
    for (size_t c = 0; c < req->nindicators; c++) {
        sifa_table_set_header(t, c + 1, req->indicators[c]->name, req->indicators[c]->unit);
        char *formula = sifa_stats_formula(req->indicators[c]);
        if (nf != NULL)
            fprintf(nf, "%s%s:%s", c ? "\n" : "注:", req->indicators[c]->name, formula);
        free(formula);
    }
    if (nf != NULL) {
        fclose(nf);
        sifa_table_set_note(t, note.buf);
        free(note.buf);
    }
    json_t *items = json_object_get(data, "items");
    for (size_t row = 0; row < req->norgs; row++) {
        size_t ri = sifa_table_add_row(t);
        const char *org = req->orgs[row];
        int idx = sifa_org_tree_find(req->tree, org);
        bool total = org == NULL || (req->norgs > 1 && row == req->norgs - 1);
        sifa_table_set_text(t, ri, 0, total ? "合计" : idx >= 0 ? req->tree->nodes[idx].name : org);
        for (size_t c = 0; c < req->nindicators; c++) {
            /* items come indicator by indicator, org by org */
            json_t *item = json_array_get(items, c * req->norgs + row);
            json_t *v = json_object_get(item, "value");
            int digits = (int)json_integer_value(json_object_get(item, "digits"));
            if (json_is_integer(v) && digits == 0)
                sifa_table_set_integer(t, ri, c + 1, json_integer_value(v));
            else if (json_is_number(v))
                sifa_table_set_decimal(t, ri, c + 1, json_number_value(v), digits);
        }
    }
    json_decref(data);
    *ret = t;
    return 0;
}
