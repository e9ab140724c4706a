/* audit.h — the append-only, tamper-evident audit log: who did what, from where, to what, when.
 * Layer: auth (includes base/ and db/ only). Every entry is chained to the one before it by a
 * keyed hash, and a head record remembers (and authenticates) the last entry, so that anyone who
 * edits the database directly — the sqlite3 shell, a restored backup, a disk editor — but does
 * not hold the 32-byte audit key cannot change, delete, insert, reorder or cut off entries without
 * sifa_audit_verify noticing. The key lives outside the database (a key file readable only by the
 * service account); whoever holds it can rewrite history, so it must not be stored beside the data.
 *
 * Format (version 1). Entry n (ids are 1, 2, 3… assigned here, never by the engine) stores
 *   hash_n = hex(BLAKE2b-256(key, "sifa.audit.entry.v1" ‖ F(prev_hash) ‖ I(id) ‖ F(at) ‖ F(actor)
 *                             ‖ F(address) ‖ F(action) ‖ F(target) ‖ F(details)))
 * where prev_hash of entry 1 is 64 × '0' and of entry n is hash_{n-1}; F(NULL) = 0x00,
 * F(s) = 0x01 ‖ uint64_be(len(s)) ‖ s (so ("ab","c") ≠ ("a","bc") and NULL ≠ ""), and
 * I(id) = uint64_be(id). `at` is "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC); details is the stored JSON
 * text exactly (compact, keys sorted) or NULL. The head record holds last_id, last_hash and
 *   mac = hex(BLAKE2b-256(key, "sifa.audit.head.v1" ‖ I(last_id) ‖ F(last_hash))).
 * The tag strings separate the two uses of the key: a head mac is never a valid entry hash.
 *
 * What the chain cannot see: an attacker who saved an old copy of the head row can put it back
 * and delete every entry after it (a rollback to an earlier, genuine state). Only a copy of the
 * head kept elsewhere (printed, exported, sent to another machine) detects that.
 *
 * Threads: functions take a connection, which one thread uses at a time (db.h). */
#ifndef SIFA_AUTH_AUDIT_H
#define SIFA_AUTH_AUDIT_H

#include "base/common.h"

#include "db/db.h"

enum {
    SIFA_AUDIT_KEY_BYTES = 32,
    SIFA_AUDIT_HASH_HEX = 64,         /* length of hash, prev_hash and mac (lowercase hex) */
    SIFA_AUDIT_TEXT_MAX = 256,        /* bytes of actor, address, target */
    SIFA_AUDIT_ACTION_MAX = 64,       /* bytes of action */
    SIFA_AUDIT_DETAILS_MAX = 65536,   /* bytes of the serialized details JSON */
    SIFA_AUDIT_PAGE_SIZE_MAX = 500,
    SIFA_AUDIT_PAGE_SIZE_DEFAULT = 50,
};

/* DDL of audit_log and audit_head with their indexes, in SQL that SQLite and PostgreSQL both
 * accept (PostgreSQL: audit_log.id wants BIGINT there). Run once, as a core migration. */
extern const char sifa_audit_schema_sql[];

/* One entry to append. Every pointer is borrowed for the call. Strings are UTF-8 and may be NULL
 * (a system action has no actor), except action, which must match [a-z][a-z0-9_.]* (e.g.
 * "auth.login", "record.update"). details (may be NULL) is stored as compact JSON with sorted
 * keys. at_ms is milliseconds since the Unix epoch, UTC; 0 means now. */
struct sifa_audit_entry {
    const char *actor;   /* user name, at most SIFA_AUDIT_TEXT_MAX bytes */
    const char *address; /* client IP address, same limit */
    const char *action;
    const char *target;  /* what was acted on ("records/mediation/42"), same limit */
    json_t *details;     /* borrowed, may be NULL; at most SIFA_AUDIT_DETAILS_MAX bytes as JSON */
    int64_t at_ms;       /* 0 = now */
};

/* Appends e as the next entry and moves the head to it. key is the 32-byte audit key.
 *
 * Must run inside the caller's write transaction, and appends must be serialised: in sifa every
 * append runs on the group-commit writer's connection (sifa_db_writer), one job at a time, so
 * reading the head and then inserting entry last_id + 1 cannot interleave with another append.
 * (A second process appending concurrently would fail on the primary key, never fork the chain.)
 * The entry and the head change together inside a savepoint, so a failure leaves neither.
 *
 * The head is the source of truth for the next id and prev_hash, and its mac is checked first:
 * after entries were deleted at the end the new entry still links to the real last hash, so the
 * gap stays visible to verify; after the head itself was edited or removed, nothing is appended
 * (extending a chain whose end cannot be trusted would launder the tampering).
 *
 * Returns 0 and sets *ret_id (may be NULL) to the new entry's id; otherwise *ret_id is untouched:
 *   SIFA_EINVALID  "audit_bad_action" (action NULL or not [a-z][a-z0-9_.]*, or longer than
 *                  SIFA_AUDIT_ACTION_MAX), "audit_bad_text" (a string is not valid UTF-8),
 *                  "audit_bad_time" (at_ms negative or after year 9999), "audit_bad_details"
 *                  (details cannot be serialized)
 *   SIFA_ELIMIT    "audit_too_large" (a string or details over its limit)
 *   SIFA_ECONFLICT "audit_broken" (head missing, edited, or behind the log; details {"reason"})
 *   SIFA_EINTERNAL "audit_crypto" (libsodium failed to initialise), and db errors from db.h. */
int sifa_audit_append(struct sifa_db *db, const unsigned char key[SIFA_AUDIT_KEY_BYTES],
                      const struct sifa_audit_entry *e, int64_t *ret_id, struct sifa_error *err);
/* The same for a caller that undoes its own work when this fails — inside a savepoint it rolls
 * back, or in a transaction it rolls back whole (the writer's jobs do one or the other): the
 * entry and the head then move together with the caller's work, and this one does not open a
 * savepoint of its own (two statements fewer for every write). A caller that went on after a
 * failure here without undoing could commit an entry without its head. */
int sifa_audit_append_in_savepoint(struct sifa_db *db, const unsigned char key[SIFA_AUDIT_KEY_BYTES],
                                   const struct sifa_audit_entry *e, int64_t *ret_id, struct sifa_error *err);

/* Walks every entry in id order and checks that ids run 1, 2, 3… without a gap, that each hash
 * is the keyed hash of its entry, that each prev_hash is the previous entry's hash, and that the
 * head is authentic and points at the last entry. Safe to run on a read-only connection while
 * the writer appends (entries appended during the walk are not mistaken for tampering).
 *
 * Returns 0 and sets *ret_checked (may be NULL) to the number of entries when the log is intact.
 * On the first problem: SIFA_ECONFLICT "audit_broken", with err->details
 * {"id": <entry>, "reason": <reason>} and a Chinese message naming the entry, where reason is
 *   "hash_mismatch"  the entry was edited (or the key is wrong: then at id 1);
 *   "reordered"      the entry is genuine but belongs at another position (whole rows swapped
 *                    or renumbered; details also hold "original_id");
 *   "chain_break"    the entry's own hash is valid but prev_hash does not link to its predecessor;
 *   "id_gap"         entries before this one are missing (id is the first entry after the gap);
 *   "truncated"      entries at the end are missing (id is the head's last_id);
 *   "head_mismatch"  the head was edited or removed, or entries exist that it never covered.
 * Also SIFA_EINTERNAL "audit_crypto" and db errors. */
int sifa_audit_verify(struct sifa_db *db, const unsigned char key[SIFA_AUDIT_KEY_BYTES], int64_t *ret_checked,
                      struct sifa_error *err);

/* Which entries to list or export. Every field is optional (NULL or 0). Strings are borrowed for
 * the call; every value is bound as a parameter, never pasted into SQL. since and until compare
 * with `at` as text: give UTC in the same format or a prefix of it ("2024-05-01",
 * "2024-05-01T08:30"); since is inclusive, until exclusive. action_prefix selects a namespace
 * ("auth." is the login log: logins, failures, logouts, password changes); it must look like the
 * start of an action ([a-z][a-z0-9_.]*, at most SIFA_AUDIT_ACTION_MAX bytes) and is matched as a
 * range over the action index. keyword finds entries whose details contain it (a scan of the
 * entries the other conditions leave, so give a time range on a large log); it is 2 to
 * SIFA_AUDIT_KEYWORD_MAX bytes of UTF-8, and % _ \ in it are literal. */
enum { SIFA_AUDIT_KEYWORD_MAX = 64 };
struct sifa_audit_filter {
    const char *actor;         /* exact match */
    const char *action;        /* exact match */
    const char *action_prefix; /* actions starting with it */
    const char *target;        /* exact match, at most SIFA_AUDIT_TEXT_MAX bytes */
    const char *address;       /* exact match, at most SIFA_AUDIT_TEXT_MAX bytes */
    const char *keyword;       /* contained in details */
    const char *since;
    const char *until;
    int64_t page;       /* from 1; 0 = 1 (list only) */
    int64_t page_size;  /* 1…SIFA_AUDIT_PAGE_SIZE_MAX; 0 = SIFA_AUDIT_PAGE_SIZE_DEFAULT (list only) */
    int64_t max_rows;   /* export only: more matching entries is SIFA_ELIMIT; 0 = no limit */
};

/* Checks f's values as list and export would, without the database: 0 or SIFA_EINVALID
 * "audit_bad_filter" (details {"filter": name}). Page and page size are not checked. */
int sifa_audit_filter_check(const struct sifa_audit_filter *f, struct sifa_error *err);

/* One page of entries matching f (may be NULL: everything), newest (highest id) first:
 *   {"items": [{"id", "at", "actor", "address", "action", "target", "details"}…],
 *    "total": <matching entries>, "page": n, "page_size": n}
 * Absent values are JSON null; details is the stored JSON value. *ret_page is new (json_decref).
 * Returns 0, or SIFA_EINVALID "audit_bad_filter" (bad page, page size, time, prefix, text or
 * keyword; details {"filter": name}) and db errors. */
int sifa_audit_list(struct sifa_db *db, const struct sifa_audit_filter *f, json_t **ret_page,
                    struct sifa_error *err);

/* Streams every entry matching f (may be NULL; page and page_size are ignored), oldest first, to
 * out as CSV that Excel opens directly: a UTF-8 byte order mark, the header row
 * 编号,时间,用户,地址,操作,对象,详情, CRLF line ends, fields quoted per RFC 4180 when they hold a
 * comma, quote, CR or LF. A text cell starting with =, +, -, @, tab or CR that is not a plain
 * number gets a leading ' so a spreadsheet shows it as text instead of running it as a formula
 * (CSV injection; base/csv.h, as every CSV sifa writes). out is
 * borrowed and not closed; on failure it holds a partial export. *ret_rows (may be NULL) is set
 * to the number of entries written on success.
 * Returns 0, or SIFA_EINVALID "audit_bad_filter", SIFA_ELIMIT "audit_export_too_large" (more than
 * f->max_rows entries match; details {"total", "max"}; checked before anything is written),
 * SIFA_EINTERNAL "audit_export_io" (write failed) and db errors. */
int sifa_audit_export_csv(struct sifa_db *db, const struct sifa_audit_filter *f, FILE *out, int64_t *ret_rows,
                          struct sifa_error *err);

#endif
