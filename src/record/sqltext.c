/* sqltext.c — the record layer's SQL text builder, field storage classes and bound values
 * (see internal.h). Layer: record. Text is built only from validated names and fixed keywords. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "record/internal.h"

void sifa_sql_add(struct sql *s, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s->buf ? s->buf + s->len : NULL, s->buf ? s->cap - s->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            abort(); /* only on an invalid format, which is a bug */
        if (s->buf != NULL && s->len + (size_t)n < s->cap) {
            s->len += (size_t)n;
            return;
        }
        s->cap = (s->len + (size_t)n + 1) * 2 + 256;
        s->buf = sifa_xrealloc(s->buf, s->cap);
    }
}

void sifa_sql_release(struct sql *s)
{
    free(s->buf);
    memset(s, 0, sizeof(*s));
}

/* A direct-mapped table: a colliding entry replaces the one in its slot (it is rebuilt when next
 * needed). Entries borrow nothing from the model: the key's pointer is only compared, together
 * with the model's id (never reused), so a freed model's entries are never hits. */
struct module_sql_entry {
    uint64_t model_id;
    const struct sifa_module *m;
    enum sifa_module_sql kind;
    char *text; /* owned */
};
#define MODULE_SQL_SLOTS 1024 /* 3 kinds of every module of a model (at most 256) with room to spare */
static struct module_sql_entry module_sql[MODULE_SQL_SLOTS];
static pthread_mutex_t module_sql_lock = PTHREAD_MUTEX_INITIALIZER;

char *sifa_rec_module_sql(const struct sifa_model *model, const struct sifa_module *m, enum sifa_module_sql kind,
                          void (*build)(struct sql *s, const struct sifa_module *m))
{
    struct sql s = {0};
    if (model == NULL) {
        build(&s, m);
        return s.buf;
    }
    uint64_t h = (model->id * 0x9E3779B97F4A7C15ull) ^ ((uintptr_t)m >> 4) * 0xC2B2AE3D27D4EB4Full ^ (uint64_t)kind;
    struct module_sql_entry *e = &module_sql[(h ^ (h >> 29)) % MODULE_SQL_SLOTS];
    pthread_mutex_lock(&module_sql_lock);
    if (e->text != NULL && e->model_id == model->id && e->m == m && e->kind == kind) {
        char *copy = sifa_xstrdup(e->text);
        pthread_mutex_unlock(&module_sql_lock);
        return copy;
    }
    pthread_mutex_unlock(&module_sql_lock);
    build(&s, m); /* outside the lock: other modules' lookups need not wait for it */
    pthread_mutex_lock(&module_sql_lock);
    free(e->text);
    *e = (struct module_sql_entry){.model_id = model->id, .m = m, .kind = kind, .text = sifa_xstrdup(s.buf)};
    pthread_mutex_unlock(&module_sql_lock);
    return s.buf;
}

const char *sifa_rec_name_ok(const char *code)
{
    if (!sifa_model_code_valid(code))
        abort();
    return code;
}

enum storage sifa_rec_field_storage(const struct sifa_field *f)
{
    switch (f->type) {
    case SIFA_FIELD_INTEGER:
    case SIFA_FIELD_MONEY:
    case SIFA_FIELD_BOOL:
    case SIFA_FIELD_REF:
        return ST_INTEGER;
    case SIFA_FIELD_DECIMAL:
        return ST_REAL;
    case SIFA_FIELD_PERSON:
    case SIFA_FIELD_GROUP:
    case SIFA_FIELD_ATTACHMENT:
        return ST_JSON;
    default:
        return ST_TEXT;
    }
}

void sifa_rec_bind_bound(struct sifa_db_stmt *st, int idx, const struct bound *b)
{
    if (b->kind == B_INT)
        sifa_db_bind_int64(st, idx, b->i);
    else if (b->kind == B_REAL)
        sifa_db_bind_double(st, idx, b->d);
    else
        sifa_db_bind_text(st, idx, b->s, -1);
}

static struct bound *bounds_next(struct bounds *b)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->items = sifa_xrealloc(b->items, b->cap * sizeof(*b->items));
    }
    struct bound *x = &b->items[b->n++];
    memset(x, 0, sizeof(*x));
    return x;
}

void sifa_bounds_add_text(struct bounds *b, const char *s)
{
    struct bound *x = bounds_next(b);
    x->kind = B_TEXT;
    x->s = s;
}

void sifa_bounds_add_int(struct bounds *b, int64_t i)
{
    struct bound *x = bounds_next(b);
    x->kind = B_INT;
    x->i = i;
}

void sifa_bounds_bind(struct sifa_db_stmt *st, const struct bounds *b, int first)
{
    for (size_t i = 0; i < b->n; i++)
        sifa_rec_bind_bound(st, first + (int)i, &b->items[i]);
}

void sifa_bounds_release(struct bounds *b)
{
    free(b->items);
    memset(b, 0, sizeof(*b));
}
