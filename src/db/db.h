/* db.h — the one storage interface every layer above uses.
 * Layer: db. Callers see only struct sifa_db (a connection), struct sifa_db_stmt (a prepared
 * statement) and the writer (group commit). SQL uses `?` placeholders only; an engine that
 * wants another style ($1 for PostgreSQL) translates them, so callers never change. No
 * sqlite3 type or call appears in this header or above this layer.
 *
 * Threads: a struct sifa_db is used by one thread at a time (each event loop owns one for
 * reads; the writer thread owns one for writes). Statements are cached per connection: a
 * statement returned by sifa_db_prepare is borrowed until sifa_db_stmt_done, which resets it
 * and returns it to the cache; never keep one across requests.
 *
 * The portable SQL dialect callers write: `?` placeholders; `temp.<name>` for a connection's
 * temporary tables (SQLite's schema name; PostgreSQL resolves unqualified temporary tables first,
 * so its implementation drops the prefix); `INSERT … ON CONFLICT … DO UPDATE SET x = excluded.x`;
 * `||`, substr, LIKE … ESCAPE, RETURNING; in migration texts `id INTEGER PRIMARY KEY` declares an
 * auto-numbered id (BIGSERIAL for PostgreSQL). Everything else engine-specific is asked of this layer:
 * the auto-numbered id column (sifa_db_sql_auto_id) and search indexes (sifa_db_search_*).
 * scripts/check-layers.sh refuses SQLite names (sqlite3, fts5, MATCH, strftime, PRAGMA) above it.
 *
 * Errors: functions return 0 (or SIFA_DB_ROW/SIFA_DB_DONE from step) on success and a negative
 * enum sifa_status on failure, with err filled (code "db_busy", "db_constraint", "db_error"…). */
#ifndef SIFA_DB_H
#define SIFA_DB_H

#include "base/common.h"

#include <sys/types.h>

struct sifa_db;
struct sifa_db_stmt;
struct sifa_db_writer;

struct sifa_db_config {
    const char *path;          /* borrowed during open; file path of the database */
    bool synchronous_full;     /* true (default): an acknowledged commit survives power loss */
    int busy_timeout_ms;       /* how long a connection waits on a lock before SIFA_EUNAVAILABLE */
    size_t stmt_cache_size;    /* prepared statements kept per connection (0: default 256) */
    bool readonly;             /* open read-only (reader connections of the event loops) */
    bool create;               /* create the file when missing (sifa init), otherwise it must exist */
};

/* Fills cfg with the defaults above (synchronous FULL, 5000 ms busy timeout, cache 256). */
void sifa_db_config_init(struct sifa_db_config *cfg, const char *path);

enum { SIFA_DB_DONE = 0, SIFA_DB_ROW = 1 };
enum sifa_db_type { SIFA_DB_NULL, SIFA_DB_INTEGER, SIFA_DB_FLOAT, SIFA_DB_TEXT, SIFA_DB_BLOB };

/* Opens a connection: WAL journal, synchronous per cfg, busy timeout, foreign keys on.
 * *ret_db is new (sifa_db_close). */
int sifa_db_open(const struct sifa_db_config *cfg, struct sifa_db **ret_db, struct sifa_error *err);
/* Finalizes cached statements and closes. Accepts NULL. */
void sifa_db_close(struct sifa_db *db);
/* "sqlite" (later "postgresql"). */
const char *sifa_db_engine(const struct sifa_db *db);

/* The column type of an auto-numbered primary key id: "INTEGER PRIMARY KEY" (SQLite's rowid) or
 * "BIGSERIAL PRIMARY KEY" (PostgreSQL). Static. */
const char *sifa_db_sql_auto_id(const struct sifa_db *db);
/* Whether one INSERT … ON CONFLICT DO UPDATE may meet the same key in several of its rows (SQLite
 * applies the rows in turn; PostgreSQL refuses to change a row twice in one command). */
bool sifa_db_upsert_repeats_keys(const struct sifa_db *db);

/* ---- search indexes ----
 * A search index keeps one text (body) per record id and finds the ids whose body contains a
 * word, Chinese included, two-character words too. SQLite keeps it in an FTS5 table with the
 * trigram tokenizer (three characters and more go through the index, shorter words through LIKE
 * over the index's own text); PostgreSQL would keep a table with a pg_trgm GIN index. The SQL of
 * every operation comes from sifa_db_search_sql, so no caller names the engine's search syntax.
 * `index` must be an identifier ([a-z][a-z0-9_]*); `select` (INSERT_SELECT, DELETE_SELECT) is a
 * query text returning (id, body) or (id). Writes the statement into buf; 0, SIFA_EINVALID for
 * a bad name, SIFA_ELIMIT when it does not fit. */
enum sifa_db_search_op {
    SIFA_DB_SEARCH_CREATE,           /* the index (fails when it exists) */
    SIFA_DB_SEARCH_CREATE_IF_MISSING,
    SIFA_DB_SEARCH_CLEAR,            /* every entry removed */
    SIFA_DB_SEARCH_INSERT,           /* one entry: ?1 id, ?2 body */
    SIFA_DB_SEARCH_INSERT_SELECT,    /* the (id, body) rows of `select` */
    SIFA_DB_SEARCH_DELETE_SELECT,    /* the entries of the ids `select` returns */
};
int sifa_db_search_sql(const struct sifa_db *db, enum sifa_db_search_op op, const char *index, const char *select,
                       char *buf, size_t size, struct sifa_error *err);
/* A subquery selecting the ids of index whose body contains word (2 to 256 bytes), written into
 * buf, and in *ret_param (new) the one value to bind for it. */
int sifa_db_search_match(const struct sifa_db *db, const char *index, const char *word, char *buf, size_t size,
                         char **ret_param, struct sifa_error *err);

/* Runs one or more statements without parameters (DDL, PRAGMA-free engine-neutral SQL). */
int sifa_db_exec(struct sifa_db *db, const char *sql, struct sifa_error *err);

/* Prepares sql (with `?` placeholders) or takes it from the cache. *ret_stmt is borrowed until
 * sifa_db_stmt_done. Preparing the same text twice without done in between gives two statements. */
int sifa_db_prepare(struct sifa_db *db, const char *sql, struct sifa_db_stmt **ret_stmt, struct sifa_error *err);
/* Resets, clears bindings and returns st to its connection's cache. Accepts NULL. */
void sifa_db_stmt_done(struct sifa_db_stmt *st);

/* Binding: idx counts from 1. Text and blobs are copied. len < 0 for text means strlen. */
int sifa_db_bind_null(struct sifa_db_stmt *st, int idx);
int sifa_db_bind_int64(struct sifa_db_stmt *st, int idx, int64_t v);
int sifa_db_bind_double(struct sifa_db_stmt *st, int idx, double v);
int sifa_db_bind_text(struct sifa_db_stmt *st, int idx, const char *s, ssize_t len);
int sifa_db_bind_blob(struct sifa_db_stmt *st, int idx, const void *p, size_t len);

/* SIFA_DB_ROW when a row is available, SIFA_DB_DONE at the end, negative on error. */
int sifa_db_step(struct sifa_db_stmt *st, struct sifa_error *err);

/* Column access for the current row; col counts from 0. Text and blob pointers are borrowed
 * until the next step or done. Text is NUL-terminated UTF-8; NULL for SQL NULL. */
int sifa_db_column_count(struct sifa_db_stmt *st);
enum sifa_db_type sifa_db_column_type(struct sifa_db_stmt *st, int col);
const char *sifa_db_column_name(struct sifa_db_stmt *st, int col);
int64_t sifa_db_column_int64(struct sifa_db_stmt *st, int col);
double sifa_db_column_double(struct sifa_db_stmt *st, int col);
const char *sifa_db_column_text(struct sifa_db_stmt *st, int col);
const void *sifa_db_column_blob(struct sifa_db_stmt *st, int col);
size_t sifa_db_column_bytes(struct sifa_db_stmt *st, int col);

/* True when db lives in memory only (":memory:" or an empty path): it has no file and no log. */
bool sifa_db_in_memory(const struct sifa_db *db);

/* Rows changed by the last INSERT/UPDATE/DELETE on this connection. */
int64_t sifa_db_changes(struct sifa_db *db);

/* The id (`id INTEGER PRIMARY KEY`) the last successful INSERT on this connection gave its row.
 * Preferred to `INSERT … RETURNING id` on hot paths: in SQLite a RETURNING clause makes the
 * statement a multi-write one, which copies every page it touches into a statement journal
 * first (measured: ≈ 6 % of an API create's writer time). A PostgreSQL engine would answer
 * it with currval() of the table's id sequence (pg_get_serial_sequence), not the session-wide
 * lastval(). */
int64_t sifa_db_last_insert_id(struct sifa_db *db);

/* True while db is inside a transaction (SQLite can end one by itself on an I/O error, a full
 * disk or lack of memory, rolling it back). */
bool sifa_db_in_transaction(struct sifa_db *db);

/* Rows inserted, updated or deleted by statements on this connection since it opened; it never
 * goes down. Equal before and after some work means the work changed no row (a statement that
 * failed took back its own changes). */
int64_t sifa_db_total_changes(struct sifa_db *db);

/* Transactions. begin takes the write lock at once (BEGIN IMMEDIATE in SQLite) so that two
 * writers never deadlock on a lock upgrade. Savepoints nest inside a transaction; name must
 * match [a-z][a-z0-9_]*. */
int sifa_db_begin(struct sifa_db *db, struct sifa_error *err);
int sifa_db_commit(struct sifa_db *db, struct sifa_error *err);
int sifa_db_rollback(struct sifa_db *db, struct sifa_error *err);
int sifa_db_savepoint(struct sifa_db *db, const char *name, struct sifa_error *err);
int sifa_db_release(struct sifa_db *db, const char *name, struct sifa_error *err);
int sifa_db_rollback_to(struct sifa_db *db, const char *name, struct sifa_error *err);

/* Checks the database is really readable, for /healthz: a query on the schema, one read of the
 * file's header bypassing the page cache, and that the path still names the file the connection
 * has open. Cheap (no page of data is read). Returns 0, or SIFA_EUNAVAILABLE ("db_unreadable",
 * "db_replaced") or the query's failure with err filled. Same thread rules as the connection. */
int sifa_db_ping(struct sifa_db *db, struct sifa_error *err);

/* Migrations: applied in version order, each in its own transaction, recorded in
 * schema_migrations(version, name, applied_at). Versions already recorded are skipped; a
 * recorded version whose name differs from the given one is refused (SIFA_ECONFLICT). */
struct sifa_db_migration {
    int version;
    const char *name;
    const char *sql;
};
int sifa_db_migrate(struct sifa_db *db, const struct sifa_db_migration *migrations, size_t count,
                    struct sifa_error *err);
/* The core schema's migrations (schema_migrations itself is created by sifa_db_migrate). */
extern const struct sifa_db_migration sifa_db_core_migrations[];
extern const size_t sifa_db_core_migrations_count;

/* Online copy of the whole database to dest_path (a new file), consistent while writers go on. */
int sifa_db_backup(struct sifa_db *db, const char *dest_path, struct sifa_error *err);
/* Runs the engine's integrity check; SIFA_EINTERNAL with the first problem in err when it fails. */
int sifa_db_integrity_check(struct sifa_db *db, struct sifa_error *err);

/* ---- checkpoints (WAL) ---- (the writer starts a checkpointer for its connection)
 * sifa_db_checkpoint copies what it can of the write-ahead log into the database file without
 * waiting for anyone (SQLite: a PASSIVE checkpoint); ret_log_pages and ret_copied_pages may be NULL.
 * SIFA_EUNAVAILABLE when another checkpoint is running (not a failure: try again later).
 * sifa_db_on_commit replaces the engine's own checkpoint after commits (SQLite's every 1000 WAL
 * pages, run by the committing thread) by fn(ctx, log_pages) after each commit of db, on the
 * committing thread; fn NULL restores the engine's own. fn may call sifa_db_checkpoint on db. */
int sifa_db_checkpoint(struct sifa_db *db, int *ret_log_pages, int *ret_copied_pages, struct sifa_error *err);
void sifa_db_on_commit(struct sifa_db *db, void (*fn)(void *ctx, int log_pages), void *ctx);

/* A checkpointer: checkpoints on a thread and connection of its own, so that the thread that
 * commits (the writer, an import) does not stop to copy pages into the database file. Once the
 * log holds trigger_pages after a commit of db it wakes; if it falls behind (the log reaches
 * limit_pages) the committing thread checkpoints itself as the engine would (the log stays
 * bounded). db is borrowed: stop the checkpointer before closing it. *ret is new, or NULL for a
 * database in memory (it has no log; stop and get_stats accept NULL). */
struct sifa_db_checkpointer;
int sifa_db_checkpointer_start(const struct sifa_db_config *cfg, struct sifa_db *db, int trigger_pages,
                               int limit_pages, struct sifa_db_checkpointer **ret, struct sifa_error *err);
/* Runs a last checkpoint, joins the thread, gives db its own checkpoints back. Accepts NULL. */
void sifa_db_checkpointer_stop(struct sifa_db_checkpointer *c);
struct sifa_db_checkpointer_stats {
    uint64_t background; /* checkpoints run on the checkpointer's thread */
    uint64_t inline_;    /* checkpoints run by a committing thread that found the log at its limit */
    uint64_t pages;      /* pages copied into the database file by the checkpointer's thread */
    int log_pages;       /* the log's length after the last commit */
};
void sifa_db_checkpointer_get_stats(struct sifa_db_checkpointer *c, struct sifa_db_checkpointer_stats *ret);
#define SIFA_DB_CHECKPOINT_TRIGGER 1000 /* pages (4 MiB): the engine's own default interval */
#define SIFA_DB_CHECKPOINT_LIMIT 16000  /* pages (64 MiB) */

/* Counters of one connection, for /metrics. */
struct sifa_db_stats {
    uint64_t statements_prepared; /* compiled from text */
    uint64_t statement_cache_hits;
    uint64_t steps;
    uint64_t errors;
    uint64_t busy;                /* SQLITE_BUSY after the timeout */
};
void sifa_db_get_stats(const struct sifa_db *db, struct sifa_db_stats *ret_stats);

/* ---- group commit ----
 * One writer thread owns the write connection. Requests submit write jobs; the writer takes
 * every job queued (up to max_batch), runs each inside BEGIN IMMEDIATE … COMMIT, each job in its
 * own savepoint or as if it were (a failing job is rolled back alone), commits once, and then
 * calls each job's done callback with the job's own status. One fsync makes a whole batch durable, so durability
 * does not cap throughput at one fsync per request. done runs on the writer thread: it must be
 * short (post a message to an event loop, signal a condition). */
typedef int (*sifa_db_write_fn)(struct sifa_db *db, void *ctx, struct sifa_error *err);
typedef void (*sifa_db_write_done_fn)(void *ctx, int status, const struct sifa_error *err);

/* Opens the write connection from cfg and starts the thread. *ret_writer is new (stop frees). */
int sifa_db_writer_start(const struct sifa_db_config *cfg, size_t max_batch, struct sifa_db_writer **ret_writer,
                         struct sifa_error *err);

/* Work the layers above attach to the writer's connection: on_open runs once, before the writer
 * thread starts, (e.g. create temporary tables); before_commit runs after the batch's
 * jobs and before COMMIT, inside the transaction (e.g. apply work the jobs queued, once per
 * batch instead of once per job). A failing before_commit rolls the whole batch back and every
 * job gets its error. Either may be NULL; ctx is borrowed for the writer's life. */
struct sifa_db_writer_hooks {
    int (*on_open)(struct sifa_db *db, void *ctx, struct sifa_error *err);
    int (*before_commit)(struct sifa_db *db, void *ctx, struct sifa_error *err);
    void *ctx;
};
int sifa_db_writer_start_with(const struct sifa_db_config *cfg, size_t max_batch,
                              const struct sifa_db_writer_hooks *hooks, struct sifa_db_writer **ret_writer,
                              struct sifa_error *err);
/* Queues a job. ctx is borrowed until done is called. Thread-safe. SIFA_EUNAVAILABLE (done not
 * called) after stop began or when the queue holds max_queue jobs. */
int sifa_db_writer_submit(struct sifa_db_writer *w, sifa_db_write_fn fn, sifa_db_write_done_fn done, void *ctx);
/* The same with flags. SIFA_DB_JOB_RERUNNABLE promises that fn may run again after the
 * transaction it ran in was rolled back, and that the last run alone decides its effects and
 * what it leaves in ctx (it resets its outputs first, changes nothing outside the database, and
 * whatever it changes in its inputs a second run changes the same way). A batch of such jobs
 * runs without per-job savepoints — they cost a copy of every page a job touches; a job that
 * fails having changed no row is simply left out, and one that fails after changing rows has
 * the batch rolled back and run again with savepoints (writer.c). */
enum { SIFA_DB_JOB_RERUNNABLE = 1u << 0 };
int sifa_db_writer_submit_flags(struct sifa_db_writer *w, sifa_db_write_fn fn, sifa_db_write_done_fn done, void *ctx,
                                unsigned flags);
/* Submits and waits: for the CLI and tests. Returns fn's status or a commit failure. */
int sifa_db_writer_run(struct sifa_db_writer *w, sifa_db_write_fn fn, void *ctx, struct sifa_error *err);
/* Finishes every queued job, joins the thread and closes the connection. Accepts NULL. */
void sifa_db_writer_stop(struct sifa_db_writer *w);

struct sifa_db_writer_stats {
    uint64_t jobs;          /* jobs run */
    uint64_t jobs_failed;
    uint64_t commits;       /* transactions committed (= fsyncs of the WAL with synchronous FULL) */
    uint64_t batches_run_again; /* batches of rerunnable jobs run a second time, with savepoints */
    uint64_t max_batch_seen;
    uint64_t queue_depth;   /* jobs waiting now */
    struct sifa_db_checkpointer_stats checkpoints; /* of the writer's checkpointer */
};
void sifa_db_writer_get_stats(struct sifa_db_writer *w, struct sifa_db_writer_stats *ret_stats);

#endif
