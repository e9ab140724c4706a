/* import.c — `sifa import`: loads records of one module from a JSON-lines file through the record
 * engine (validation, numbering, history, deadlines, search index — the same path as the API).
 * Layer: cli. Two passes: the first validates every line and reports every bad one (line number,
 * field, Chinese message) and writes nothing if any is bad; the second writes in transactions of
 * --batch records. Lines are limited to SIFA_IMPORT_LINE_MAX bytes. In the second pass a thread
 * of its own reads and validates the lines ahead of the one that writes them (struct line_pipe),
 * so that the write pass uses a second core instead of parsing between writes. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "cli/cli.h"
#include "api/api.h"
#include "auth/audit.h"
#include "auth/personal.h"
#include "cli/config.h"
#include "record/record.h"

#define SIFA_IMPORT_LINE_MAX (1024 * 1024)
#define SIFA_IMPORT_ERRORS_SHOWN 50

static const char import_usage[] =
    "用法 usage: sifa import --module CODE [--batch N] [--db FILE] FILE.jsonl\n\n"
    "按业务定义导入记录(每行一个 JSON 对象)。先校验全部行,有错则不写入;再按批提交。\n"
    "Imports records (one JSON object a line): validates every line first and writes nothing if any\n"
    "is bad, then commits in batches of N (default 1000). A line may give \"state\": the state the record\n"
    "was in where it was kept before (default: the module's initial state).\n\n";

/* Parses and validates one line. Returns 1 for a blank line, 0 with *ret_values, or negative. */
static int parse_line(const struct sifa_record_ctx *rc, const struct sifa_module *m, const char *line, ssize_t len,
                      json_t **ret_values, char *ret_state, size_t state_size, struct sifa_error *err)
{
    ret_state[0] = '\0';
    if (len == -2)
        return sifa_error_set(err, SIFA_ELIMIT, "line_too_long", "行超过 %d 字节", SIFA_IMPORT_LINE_MAX);
    size_t i = 0;
    while (i < (size_t)len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i == (size_t)len)
        return 1;
    json_error_t jerr;
    json_t *input = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
    if (input == NULL)
        return sifa_error_set(err, SIFA_EINVALID, "bad_json", "不是合法的 JSON(第 %d 列):%s", jerr.column, jerr.text);
    /* "state": the state the record was in where it was kept before (default: the initial one) */
    json_t *state = json_object_get(input, "state");
    if (state != NULL) {
        const char *code = json_string_value(state);
        if (code == NULL || sifa_module_state(m, code) == NULL) {
            json_decref(input);
            return sifa_error_set(err, SIFA_EINVALID, "unknown_state", "state 应为%s的状态代码", m->name);
        }
        snprintf(ret_state, state_size, "%s", code);
        json_object_del(input, "state");
    }
    int r = sifa_record_validate(rc, m, input, false, ret_values, err);
    json_decref(input);
    return r;
}

/* ---- the write pass's reader: lines parsed and validated on a thread ahead of the writer ----
 * The reader fills a bounded ring in file order; the writer takes from it. The ring's entries are
 * handed over under `lock`; values then belong to the writer. The reader only reads the model
 * and calendar, which nothing changes during an import. */
enum { PIPE_SLOTS = 1024, PIPE_BYTES = 32 * 1024 * 1024 }; /* lines, and their bytes, read ahead at most */

struct parsed_line {
    long long lineno;
    size_t bytes;   /* the line's length, counted against PIPE_BYTES */
    int r;          /* parse_line's result: 0, 1 (blank) or negative */
    json_t *values; /* owned when r == 0 */
    char state[SIFA_MODEL_CODE_MAX + 1];
    struct sifa_error err;
};

struct line_pipe {
    FILE *f;
    const struct sifa_record_ctx *rc;
    const struct sifa_module *m;
    pthread_t thread;
    pthread_mutex_t lock; /* guards what follows */
    pthread_cond_t filled, drained;
    struct parsed_line ring[PIPE_SLOTS];
    size_t head, count, bytes;
    bool at_end, stop, reader_waits;
};

static void *pipe_reader(void *arg)
{
    struct line_pipe *p = arg;
    char *line = NULL;
    size_t cap = 0;
    long long lineno = 0;
    for (ssize_t len; (len = sifa_cli_read_line(p->f, &line, &cap, SIFA_IMPORT_LINE_MAX)) != -1;) {
        struct parsed_line one = {.lineno = ++lineno, .bytes = len > 0 ? (size_t)len : 0};
        one.r = parse_line(p->rc, p->m, line, len, &one.values, one.state, sizeof(one.state), &one.err);
        pthread_mutex_lock(&p->lock);
        /* a full ring, or lines (up to a MiB each) holding too much memory: wait for the writer */
        while ((p->count == PIPE_SLOTS || p->bytes >= PIPE_BYTES) && !p->stop) {
            p->reader_waits = true;
            pthread_cond_wait(&p->drained, &p->lock);
        }
        p->reader_waits = false;
        bool writer_waits = p->count == 0;
        bool stop = p->stop;
        if (!stop) {
            p->ring[(p->head + p->count) % PIPE_SLOTS] = one;
            p->count++;
            p->bytes += one.bytes;
        }
        pthread_mutex_unlock(&p->lock);
        if (stop) {
            json_decref(one.values);
            sifa_error_release(&one.err);
            break;
        }
        if (writer_waits) /* only then can anyone sleep on an empty ring */
            pthread_cond_signal(&p->filled);
    }
    free(line);
    pthread_mutex_lock(&p->lock);
    p->at_end = true;
    pthread_mutex_unlock(&p->lock);
    pthread_cond_signal(&p->filled);
    return NULL;
}

static int pipe_open(struct line_pipe *p, FILE *f, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                     struct sifa_error *err)
{
    memset(p, 0, sizeof(*p));
    p->f = f;
    p->rc = rc;
    p->m = m;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->filled, NULL);
    pthread_cond_init(&p->drained, NULL);
    int e = sifa_thread_start(&p->thread, pipe_reader, p);
    if (e != 0) {
        pthread_cond_destroy(&p->drained);
        pthread_cond_destroy(&p->filled);
        pthread_mutex_destroy(&p->lock);
        char ebuf[128];
        return sifa_error_set(err, SIFA_EINTERNAL, "thread_failed", "无法启动读取线程:%s",
                              strerror_r(e, ebuf, sizeof(ebuf)));
    }
    return 0;
}

/* The next line in file order into *out (its values and err now the caller's); false at the end. */
static bool pipe_next(struct line_pipe *p, struct parsed_line *out)
{
    pthread_mutex_lock(&p->lock);
    while (p->count == 0 && !p->at_end)
        pthread_cond_wait(&p->filled, &p->lock);
    bool got = p->count > 0;
    if (got) {
        *out = p->ring[p->head];
        p->head = (p->head + 1) % PIPE_SLOTS;
        p->count--;
        p->bytes -= out->bytes;
    }
    /* The reader, far ahead, sleeps on a full ring: woken when half of it is free, it refills that
     * half in one go, instead of a wake-up (a system call here) for every line taken. */
    bool wake = got && p->reader_waits && p->count <= PIPE_SLOTS / 2 && p->bytes <= PIPE_BYTES / 2;
    pthread_mutex_unlock(&p->lock);
    if (wake)
        pthread_cond_signal(&p->drained);
    return got;
}

/* Stops the reader (wherever it is), joins it and frees what it parsed that nobody took. */
static void pipe_close(struct line_pipe *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_mutex_unlock(&p->lock);
    pthread_cond_signal(&p->drained);
    pthread_join(p->thread, NULL);
    for (; p->count > 0; p->count--, p->head = (p->head + 1) % PIPE_SLOTS) {
        json_decref(p->ring[p->head].values);
        sifa_error_release(&p->ring[p->head].err);
    }
    pthread_cond_destroy(&p->drained);
    pthread_cond_destroy(&p->filled);
    pthread_mutex_destroy(&p->lock);
}

static void print_problem(long long lineno, const struct sifa_error *err)
{
    if (err->details != NULL && json_is_array(err->details)) {
        size_t i;
        json_t *p;
        json_array_foreach(err->details, i, p)
        {
            fprintf(stderr, "第 %lld 行 line %lld: %s: %s [%s]\n", lineno, lineno,
                    json_string_value(json_object_get(p, "field")), json_string_value(json_object_get(p, "message")),
                    json_string_value(json_object_get(p, "code")));
        }
    } else {
        fprintf(stderr, "第 %lld 行 line %lld: %s [%s]\n", lineno, lineno, err->message, err->code);
    }
}

int sifa_cli_import(int argc, char **argv)
{
    const char *module_code = NULL, *path = NULL;
    long long batch = 1000;
    char *rest[64];
    int nrest = 0;
    for (int i = 0; i < argc && nrest < 62; i++) {
        if (strcmp(argv[i], "--module") == 0 && i + 1 < argc) {
            module_code = argv[++i];
        } else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            char *end;
            batch = strtoll(argv[++i], &end, 10);
            if (*end != '\0' || batch < 1 || batch > 1000000) {
                fprintf(stderr, "sifa: --batch 应为 1 到 1000000 [usage]\n");
                return 2;
            }
        } else if (strncmp(argv[i], "--", 2) == 0) {
            rest[nrest++] = argv[i];
            if (i + 1 < argc && strcmp(argv[i], "--help") != 0)
                rest[nrest++] = argv[++i];
        } else {
            path = argv[i];
        }
    }
    struct sifa_config cfg;
    int status = 1;
    if (sifa_cli_load_config(nrest, rest, import_usage, &cfg, &status) < 0) {
        sifa_config_release(&cfg);
        return status;
    }
    if (module_code == NULL || path == NULL) {
        fprintf(stderr, "%s", import_usage);
        sifa_config_release(&cfg);
        return 2;
    }
    struct sifa_error err = {0};
    struct sifa_model *model = NULL;
    struct sifa_calendar *calendar = NULL;
    struct sifa_db *db = NULL;
    struct sifa_db_checkpointer *checkpointer = NULL;
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    long long lineno = 0, bad = 0, written = 0;
    int rc = sifa_cli_load_business(&cfg, &model, &calendar, &err);
    const struct sifa_module *m = rc >= 0 && model ? sifa_model_module(model, module_code) : NULL;
    if (rc >= 0 && m == NULL)
        rc = sifa_error_set(&err, SIFA_ENOTFOUND, "module_not_found", "业务模块 %s 不存在", module_code);
    if (rc >= 0 && (f = fopen(path, "rb")) == NULL)
        rc = sifa_error_set(&err, SIFA_ENOTFOUND, "file_missing", "无法打开 %s:%s", path, strerror(errno));
    struct sifa_keyring *keyring = NULL;
    struct sifa_record_crypto crypto;
    if (rc >= 0)
        rc = sifa_keyring_load(cfg.key_file, &keyring, &err);
    if (rc >= 0)
        sifa_api_crypto_init(&crypto, keyring);
    struct sifa_record_ctx rctx = {.model = model, .calendar = calendar, .scope = SIFA_RECORD_SCOPE_ALL,
                                   .actor = "import", .now = time(NULL),
                                   .crypto = keyring ? &crypto : NULL};
    /* Pass 1: validate everything. */
    for (ssize_t len; rc >= 0 && (len = sifa_cli_read_line(f, &line, &cap, SIFA_IMPORT_LINE_MAX)) != -1;) {
        lineno++;
        json_t *values = NULL;
        struct sifa_error lerr = {0};
        char state[SIFA_MODEL_CODE_MAX + 1];
        int r = parse_line(&rctx, m, line, len, &values, state, sizeof(state), &lerr);
        json_decref(values);
        if (r < 0) {
            if (bad++ < SIFA_IMPORT_ERRORS_SHOWN)
                print_problem(lineno, &lerr);
        }
        sifa_error_release(&lerr);
    }
    if (rc >= 0 && bad > 0)
        rc = sifa_error_set(&err, SIFA_EINVALID, "import_invalid", "%lld 行有错误,未导入任何记录 (%lld bad lines, nothing imported)",
                            bad, bad);
    /* Pass 2: write in batches. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rc >= 0) {
        rewind(f);
        rc = sifa_db_open(&cfg.server.db, &db, &err);
        if (rc >= 0)
            rc = sifa_record_connection_init(db, &err);
        /* the log is copied into the database file on another thread while this one writes */
        if (rc >= 0)
            rc = sifa_db_checkpointer_start(&cfg.server.db, db, SIFA_DB_CHECKPOINT_TRIGGER, SIFA_DB_CHECKPOINT_LIMIT,
                                            &checkpointer, &err);
    }
    long long in_batch = 0;
    struct line_pipe *pipe = rc >= 0 ? sifa_xmalloc(sizeof(*pipe)) : NULL;
    if (rc >= 0 && (rc = pipe_open(pipe, f, &rctx, m, &err)) < 0) {
        free(pipe);
        pipe = NULL;
    }
    for (struct parsed_line pl; rc >= 0 && pipe_next(pipe, &pl);) {
        lineno = pl.lineno;
        json_t *values = pl.values;
        if (pl.r == 1)
            continue;
        if (pl.r < 0) { /* the file changed since the first pass */
            sifa_error_release(&err);
            err = pl.err;
            rc = pl.r;
            break;
        }
        if (in_batch == 0 && (rc = sifa_db_begin(db, &err)) < 0) {
            json_decref(values);
            break;
        }
        rc = sifa_record_create_in_state(db, &rctx, m, values, pl.state[0] ? pl.state : NULL, NULL, &err);
        json_decref(values);
        if (rc < 0) {
            print_problem(lineno, &err);
            break;
        }
        written++;
        if (++in_batch == batch) {
            rc = sifa_record_flush_search(db, model, &err);
            if (rc >= 0)
                rc = sifa_db_commit(db, &err);
            if (rc >= 0) /* otherwise the batch is rolled back below and not counted as committed */
                in_batch = 0;
        }
    }
    if (pipe != NULL) {
        pipe_close(pipe);
        free(pipe);
    }
    if (rc >= 0 && in_batch > 0) {
        rc = sifa_record_flush_search(db, model, &err);
        if (rc >= 0)
            rc = sifa_db_commit(db, &err);
    } else if (rc < 0 && in_batch > 0) {
        sifa_db_rollback(db, NULL);
    }
    /* One audit entry for the import: who ran it is the console, what went in is counted. */
    if (written > 0 && keyring != NULL && sifa_db_begin(db, NULL) >= 0) {
        json_t *details = json_pack("{s:s,s:I,s:b}", "file", path, "records", (json_int_t)written, "complete", rc >= 0);
        struct sifa_audit_entry e = {.actor = "cli", .address = "console", .action = "record.import",
                                     .target = module_code, .details = details};
        struct sifa_error aerr = {0};
        int ar = sifa_audit_append(db, sifa_keyring_audit_key(keyring), &e, NULL, &aerr);
        if (ar >= 0)
            ar = sifa_db_commit(db, &aerr);
        if (ar < 0) {
            sifa_db_rollback(db, NULL);
            fprintf(stderr, "sifa: 审计写入失败 audit write failed: %s [%s]\n", aerr.message, aerr.code);
        }
        sifa_error_release(&aerr);
        json_decref(details);
    }
    sifa_db_checkpointer_stop(checkpointer); /* within the time measured: its last checkpoint too */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc < 0) {
        sifa_cli_print_error(&err);
        if (written > 0)
            fprintf(stderr, "sifa: 已提交 %lld 条(按批提交,失败批次已回滚)committed before the failure: %lld\n",
                    written - in_batch, written - in_batch);
        status = 1;
    } else {
        printf("sifa: 已导入 %lld 条记录 imported %lld records in %.2f s (%.0f records/s)\n", written, written, secs,
               secs > 0 ? (double)written / secs : 0.0);
        status = 0;
    }
    free(line);
    if (f)
        fclose(f);
    sifa_db_close(db);
    sifa_model_free(model);
    sifa_calendar_free(calendar);
    sifa_keyring_free(keyring);
    sifa_error_release(&err);
    sifa_config_release(&cfg);
    return status;
}
