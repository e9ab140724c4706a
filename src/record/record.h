/* record.h — the record engine: runs module definitions (model/) against the database.
 * Layer: record (above model, check, calendar, db). One table per module (m_<code>, one column
 * f_<field> per field, repeated groups and persons as JSON), a history row for every change,
 * gap-free numbering, materialised deadline columns (d_<deadline>_due) and an FTS5 trigram index
 * of the searchable fields. Records travel as flat JSON objects: the engine's members (id,
 * version, state, org, created_at, …) beside one member per field.
 *
 * Threads and transactions: every write function must run inside a transaction on the writer
 * connection (the group-commit writer gives each job a savepoint), so a failed write leaves
 * nothing behind. Read functions run on any connection. The model is borrowed and immutable. */
#ifndef SIFA_RECORD_H
#define SIFA_RECORD_H

#include "calendar/calendar.h"
#include "db/db.h"
#include "model/model.h"

/* The records a caller may see and change (the union of its roles' data scopes). Every engine
 * path — list, get, search, history, update, transition, delete, deadlines — applies it, so no
 * handler can forget it; a record outside the scope is "not found", never "forbidden", so its
 * existence does not leak. No scope at all (a NULL pointer, or one with nothing in it) lets
 * nothing through: a caller that forgot to set one sees no rows and creates nothing, and code
 * acting for the system rather than for a user (CLI, import, background jobs) says so with
 * SIFA_RECORD_SCOPE_ALL.
 *
 * Where records may be written (create, or an update that changes the org field): into the org
 * units of the org-based grants (orgs, subtrees), or — for a self-scope grant (creator) — into the
 * subtree of the user's own org unit (creator_org). "Only my records" says whose records one may
 * see, not where one may put them: without a bound a mediator of one village could file cases
 * under any town and have them counted in that town's figures. The user's own unit and below is
 * where such a user works, as RuoYi's 仅本人 users do. Applicants (citizens) are the exception the
 * role file states (file_with_any_org, creator_any_org): they file with the office of their choice.
 * The grants are a union here as for reads:
 * holding a second role never narrows what the first allowed, and an org-based role never lets
 * a self-scope grant reach beyond the user's own subtree. */
struct sifa_record_scope {
    bool all;
    size_t norgs;
    const char *const *orgs;     /* records of exactly these org units */
    size_t nsubtrees;
    const char *const *subtrees; /* records of these org units and every unit below them */
    const char *creator;         /* records this user created (NULL: none) */
    const char *creator_org;     /* with creator: the user's own org unit, whose subtree bounds where
                                  * such records may be put (NULL: nowhere — only modules without
                                  * an org field) */
    bool creator_any_org;        /* with creator: put anywhere — applicants (citizens) file with the
                                  * office of their choice; they still see only their own records */
};

/* Everything (all == true); static, never freed. */
extern const struct sifa_record_scope sifa_record_scope_all;
#define SIFA_RECORD_SCOPE_ALL (&sifa_record_scope_all)

/* Personal data (fields marked personal: true) is encrypted before it is stored, found by exact
 * match through a keyed hash (column h_<field>), and masked on the way out unless the caller may
 * see it. The record layer sits below auth, so the cryptography comes in as these callbacks
 * (the API and CLI wire them to auth/personal.h). */
enum sifa_mask_kind { SIFA_MASK_ID_NUMBER, SIFA_MASK_PHONE, SIFA_MASK_NAME, SIFA_MASK_TEXT };
struct sifa_record_crypto {
    /* New "pd1:…" text for plain[0..len). */
    int (*encrypt)(void *arg, const char *plain, size_t len, char **ret_text, struct sifa_error *err);
    /* New NUL-terminated plain text. */
    int (*decrypt)(void *arg, const char *text, char **ret_plain, size_t *ret_len, struct sifa_error *err);
    /* Keyed hash of value for exact-match lookups; scope separates fields ("module.field"). */
    void (*blind_index)(void *arg, const char *scope, const char *value, size_t len, char ret_hex[33]);
    /* Masked form into out; negative when out is too small. */
    int (*mask)(void *arg, enum sifa_mask_kind kind, const char *s, size_t len, char *out, size_t size);
    void *arg;
};

struct sifa_record_ctx {
    const struct sifa_model *model;       /* borrowed */
    const struct sifa_record_crypto *crypto; /* borrowed; NULL: personal data stored in clear (tests only) */
    bool unmask;                          /* the caller may see personal data in clear */
    bool masked_echo;                     /* sifa_record_validate: personal identity numbers and
                                           * phones containing '*' are kept as sent (masked echoes
                                           * of a caller without unmask; see sifa_record_update) */
    const struct sifa_record_scope *scope; /* borrowed; NULL: nothing (see above); SIFA_RECORD_SCOPE_ALL
                                            * for the CLI and system jobs */
    const struct sifa_calendar *calendar; /* borrowed; NULL: working-day deadlines are an error */
    const char *actor;                    /* user name for history, or NULL */
    /* sifa_record_deadlines_due only: the scope of each module (set *ret_scope, return 0) or 1 to
     * leave the module out. NULL: rc->scope for every module. */
    int (*module_scope)(void *arg, const struct sifa_module *m, const struct sifa_record_scope **ret_scope);
    void *module_scope_arg;
    int64_t now;                          /* unix seconds; tests may fix it */
};

/* Search-index maintenance is batched: record writes queue their index rows in a temporary
 * table of the connection, and sifa_record_flush_search applies them in one statement per
 * module. FTS5 flushes its in-memory terms at every statement savepoint, so writing the index
 * row by row inside a group-commit batch costs as much as the rest of the write together.
 * sifa_record_connection_init must run once on every connection that writes records (it creates
 * the temporary table); sifa_record_flush_search must run before each COMMIT (the writer's
 * before_commit hook; `sifa import` before each batch commit). Both are rolled back with the
 * transaction like any other write. */
int sifa_record_connection_init(struct sifa_db *db, struct sifa_error *err);
int sifa_record_flush_search(struct sifa_db *db, const struct sifa_model *model, struct sifa_error *err);
/* Writer hooks that do both (ctx: the model). */
int sifa_record_writer_on_open(struct sifa_db *db, void *model, struct sifa_error *err);
int sifa_record_writer_before_commit(struct sifa_db *db, void *model, struct sifa_error *err);

/* Brings the database in line with the model: creates missing tables, adds new columns and
 * indexes, rebuilds the search index when the searchable fields changed. Refuses destructive
 * changes (a field that holds data removed or retyped, a state still used by records) with
 * SIFA_ECONFLICT, code "destructive_change", and details listing each one; nothing changes then.
 * Must run inside a transaction. *ret_changes (new, may be NULL) lists what was done. */
int sifa_record_sync_schema(struct sifa_db *db, const struct sifa_model *model, json_t **ret_changes,
                            struct sifa_error *err);

/* Validates input against the module without touching the database. partial: only the members
 * present are checked (updates); otherwise required fields must be present (creates).
 * On success *ret_values is new: the normalised values (codes upper-cased, money in fen, dates
 * canonical…). On failure: SIFA_EINVALID, code "validation", details = [{field, code, message}]
 * naming every bad field. */
int sifa_record_validate(const struct sifa_record_ctx *rc, const struct sifa_module *module, json_t *input,
                         bool partial, json_t **ret_values, struct sifa_error *err);

/* Creates a record from validated values (see sifa_record_validate); *ret_record is new. */
int sifa_record_create(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *module,
                       json_t *values, json_t **ret_record, struct sifa_error *err);
/* The same, the record starting in state_code (NULL: the initial state) — for importing records
 * kept elsewhere before (a case concluded in 2020 is imported concluded; no transition fires).
 * Unknown state: SIFA_EINVALID "unknown_state". */
int sifa_record_create_in_state(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                                json_t *values, const char *state_code, json_t **ret_record, struct sifa_error *err);
/* A create in two halves, so that a writer thread does only the write: sifa_record_create_written
 * writes the record (initial state) and gives its id and *ret_written (new: the values as
 * stored, in clear, with the number it was given); sifa_record_compose_new then builds, on any
 * thread, the answer sifa_record_create gives (the same rc, at the same rc->now). */
int sifa_record_create_written(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *m,
                               json_t *values, int64_t *ret_id, json_t **ret_written, struct sifa_error *err);
int sifa_record_compose_new(const struct sifa_record_ctx *rc, const struct sifa_module *m, int64_t id, json_t *written,
                            json_t **ret_record, struct sifa_error *err);
/* Reads one record (not deleted); SIFA_ENOTFOUND otherwise. */
int sifa_record_get(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *module, int64_t id,
                    json_t **ret_record, struct sifa_error *err);
/* Changes fields. expected_version: the version the caller read (If-Match); a different current
 * version gives SIFA_ECONFLICT, code "stale_version", details {"current": <record>}.
 * Masked echoes: when the caller may not see personal data (!rc->unmask), a personal value (a
 * field, a person's member, a group row's member) equal to the mask of the stored value means
 * "unchanged": the stored value is kept and no change is recorded. A group row's member stands
 * for the one stored value of any row with that mask (rows move); when several differ, for the
 * same-index row's if no row can have moved (as many rows as stored) or that row's other members
 * agree, else SIFA_EINVALID "validation", code
 * "masked_value_ambiguous" (details name the member). Any other
 * value replaces the stored one, except a masked identity number or phone let through by
 * validation (rc->masked_echo) that is no stored value's mask: SIFA_EINVALID "validation", code
 * "masked_value". The same holds for sifa_record_transition. */
int sifa_record_update(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *module,
                       int64_t id, int64_t expected_version, json_t *values, json_t **ret_record,
                       struct sifa_error *err);
/* Fires a transition with optional validated field changes, atomically. An illegal transition
 * gives SIFA_ECONFLICT, code "illegal_transition", details {"state", "allowed": [codes]}; missing
 * required fields give SIFA_EINVALID "validation". expected_version < 0: not checked. */
int sifa_record_transition(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *module,
                           int64_t id, const char *transition, int64_t expected_version, json_t *values,
                           json_t **ret_record, struct sifa_error *err);
/* Soft delete (kept, hidden, audited in history). expected_version < 0: not checked. */
int sifa_record_delete(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *module,
                       int64_t id, int64_t expected_version, struct sifa_error *err);
/* Every change of a record, oldest first: [{version, at, actor, action, transition, changes}]. */
int sifa_record_history(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *module,
                        int64_t id, json_t **ret_history, struct sifa_error *err);

/* ---- files (attachments) ----
 * Files are content-addressed under files_dir (<sha256[0..1]>/<sha256>), described by a row of the
 * files table, and referenced from attachment fields by their random id. */
#define SIFA_FILE_ID_LEN 24
bool sifa_record_file_id_valid(const char *id);
/* Stores data (already validated: size and type) under files_dir and returns the new file's
 * metadata {id, sha256, name, size, content_type, created_at} (*ret_file new). Writes the bytes
 * (an fsync'd temporary file renamed into place); the caller then inserts the row with
 * sifa_record_file_insert on the writer connection. Runs on a worker thread. */
int sifa_record_file_store(const char *files_dir, const char *name, const char *content_type, const void *data,
                           size_t size, json_t **ret_file, struct sifa_error *err);
int sifa_record_file_insert(struct sifa_db *db, const struct sifa_record_ctx *rc, json_t *file,
                            struct sifa_error *err);
/* Reads a file's metadata; *ret_path (new) is where its bytes are. */
int sifa_record_file_get(struct sifa_db *db, const char *files_dir, const char *id, json_t **ret_file,
                         char **ret_path, struct sifa_error *err);
/* Who uploaded the file: *ret_user new, NULL for none recorded (uploads before users were
 * recorded, the CLI). SIFA_ENOTFOUND when there is no such file. */
int sifa_record_file_created_by(struct sifa_db *db, const char *id, char **ret_user, struct sifa_error *err);
/* Whether a record the caller may read cites the file (an attachment field, at the top or in a
 * group's entries): *ret_readable. Modules follow rc->module_scope as in sifa_record_deadlines_due
 * (NULL: rc->scope for every module). *ret_cited (may be NULL): whether any record, readable or
 * not, cites it (looked up only when no readable one does). A malformed id: SIFA_ENOTFOUND. */
int sifa_record_file_cited(struct sifa_db *db, const struct sifa_record_ctx *rc, const char *file_id,
                           bool *ret_readable, bool *ret_cited, struct sifa_error *err);
/* Checks the bytes look like the declared type (magic numbers) and the type is one the files API
 * accepts; SIFA_EUNSUPPORTED "file_type" otherwise. */
int sifa_record_file_check_type(const char *content_type, const void *data, size_t size, struct sifa_error *err);

/* A list query, built from URL parameters by sifa_record_query_parse. */
#define SIFA_RECORD_PAGE_SIZE_MAX 200
struct sifa_record_query_param {
    const char *key;   /* borrowed */
    const char *value; /* borrowed */
};
/* Lists records. params: field filters (f=v, repeated for a set; f__gte, f__lte, f__gt, f__lt;
 * f__empty=true|false), state, org (exact codes), org_under (an org unit and every unit below it;
 * unknown code: SIFA_ENOTFOUND "org_not_found"), q (full-text, Chinese, two characters and more), sort
 * (field or -field, also id, created_at, updated_at), page (from 1), page_size (≤ 200).
 * Unknown parameters or bad values: SIFA_EINVALID "bad_filter". *ret_page is new:
 * {"items": [...], "total": N, "page": P, "page_size": S}. */
int sifa_record_list(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *module,
                     const struct sifa_record_query_param *params, size_t nparams, json_t **ret_page,
                     struct sifa_error *err);

/* Every record matching params, in the list's order, handed to each (record borrowed for the
 * call; a negative return stops the walk and is returned): the filters, search, sort, scope and
 * masking of sifa_record_list, for exports. page and page_size are accepted and ignored (an export
 * takes the whole result). More than max_rows matching records: SIFA_ELIMIT "export_too_large",
 * details {total, max}, before each is called (or, should rows be added during the walk, when
 * the limit is passed). *ret_total (may be NULL): the number of records walked. */
int sifa_record_list_each(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_module *module,
                          const struct sifa_record_query_param *params, size_t nparams, int64_t max_rows,
                          int (*each)(void *arg, json_t *record, struct sifa_error *err), void *arg,
                          int64_t *ret_total, struct sifa_error *err);

/* ---- indicator aggregates ----
 * Every write of a record (create, update, transition, delete) queues its contribution to the
 * base indicators over its module — minus what it contributed before, plus what it contributes
 * now — in a temporary table of the connection, in the write's own transaction; flushing adds
 * the queued deltas to the aggregates (table stat_values: per indicator, series, level Y/Q/M/D,
 * period, breakdown and the record's own org unit; stat_keys for distinct counts). Roll-up over
 * the org tree happens when read (stats layer), so moving an org unit needs no rebuild.
 * sifa_record_flush_search (the writer's before_commit hook) flushes these too. Series: 'v' the
 * value of count/sum/distinct; stock: 'i' entries (by the start day), 'o' exits (by the end day). */
int sifa_record_flush_aggregates(struct sifa_db *db, const struct sifa_model *model, struct sifa_error *err);

/* Recomputes the aggregates of the given base indicators (NULL: every base indicator of the
 * model) from the records, replacing what was there, and records their definition hashes in
 * stat_definitions. Runs inside the caller's transaction. */
int sifa_record_aggregates_rebuild(struct sifa_db *db, const struct sifa_model *model, const char *const *codes,
                                   size_t ncodes, struct sifa_error *err);
/* Recomputes every base indicator from the records with plain GROUP BY queries (not the
 * incremental path) and compares with the aggregates at every level. year > 0: only periods of
 * that year. *ret_diffs (new) lists each difference: {indicator, series, level, period, dim, org,
 * expected: {value, n}, actual: {value, n}}; empty when all agree. */
int sifa_record_aggregates_verify(struct sifa_db *db, const struct sifa_model *model, int year, json_t **ret_diffs,
                                  struct sifa_error *err);

/* The records behind a figure, paged like sifa_record_list (scope and masking included). */
struct sifa_indicator_slice {
    char series;      /* 'v' value, 'i' entries, 'o' exits, 's' stock in register on `to` */
    const char *from; /* first day "YYYY-MM-DD" (not used for 's') */
    const char *to;   /* last day */
    const char *org;  /* org unit whose subtree the records belong to, or NULL: all */
    const struct sifa_field *by; /* breakdown field, or NULL */
    const char *by_value;        /* its code ("" or NULL: records without a value) */
};
int sifa_record_list_indicator(struct sifa_db *db, const struct sifa_record_ctx *rc, const struct sifa_indicator *ind,
                               const struct sifa_indicator_slice *slice, int64_t page, int64_t page_size,
                               json_t **ret_page, struct sifa_error *err);

/* Deadlines due before `before` (unix seconds) and not met, across every module, optionally for
 * one org unit: [{module, record_id, number, deadline, name, due, overdue}] ordered by due. */
int sifa_record_deadlines_due(struct sifa_db *db, const struct sifa_record_ctx *rc, int64_t before, const char *org,
                              json_t **ret_list, struct sifa_error *err);

/* ---- sealed personal values (reencrypt.c), for `sifa key reencrypt` and `sifa key retire` ----
 * Walks every sealed personal value ("pd1:…" text) the engine stored: the f_ columns of every
 * module table the database has (as module_columns lists them, so also modules and fields whose
 * definitions have since been removed; deleted records included), then the changes of
 * record_history. The walk is in batches so that a caller can commit between them; a cursor
 * zeroed before the first step starts at the beginning.
 * visit (called with each such text, borrowed, and the table and row it is in) returns 1 and sets
 * *ret_text (new, freed by the walk) to have the value replaced in its row, 0 to leave it, or a
 * negative status to stop the walk (returned). */
typedef int (*sifa_record_sealed_fn)(void *arg, const char *table, int64_t row_id, const char *text, char **ret_text,
                                     struct sifa_error *err);
struct sifa_record_sealed_cursor {
    int phase;                             /* private */
    char module[SIFA_MODEL_CODE_MAX + 1];  /* private */
    int64_t after_id;                      /* private */
};
/* Visits the values of up to max_rows (> 0) rows of one table after the cursor, applies the
 * replacements and moves the cursor on. Replacing runs on the writer connection inside a
 * transaction (the caller's: commit after each step to keep transactions short); a walk whose
 * visitor never replaces only reads. *ret_replaced (may be NULL): values replaced by this step.
 * Returns 1 while rows are left, 0 when the walk is complete, or a negative status. A row written
 * by someone else between steps is seen again only if it is after the cursor. */
int sifa_record_sealed_step(struct sifa_db *db, struct sifa_record_sealed_cursor *cur, int64_t max_rows,
                            sifa_record_sealed_fn visit, void *arg, int64_t *ret_replaced, struct sifa_error *err);

#endif
