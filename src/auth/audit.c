/* audit.c — the tamper-evident audit log of audit.h: append (hash chain plus authenticated head),
 * verify, list and CSV export. Layer: auth; storage only through db.h, hashing through libsodium
 * (BLAKE2b). Invariants: ids are assigned here as head.last_id + 1, so they run 1, 2, 3… and
 * are covered by the hash; an entry and the head move together inside one savepoint; nothing is
 * appended after a head whose mac does not verify; the bytes hashed are exactly the bytes stored
 * (details is serialized once, then hashed and stored as that text), so verify never depends on
 * how a JSON library re-serializes. SQL text is fixed or assembled from fixed fragments; every
 * value is bound. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "base/csv.h"

#include "auth/audit.h"
#include "db/db.h"

#include <assert.h>

enum {
    HASH_BYTES = 32, /* BLAKE2b-256 */
    AT_MAX = 32,     /* "YYYY-MM-DDTHH:MM:SS.mmmZ" is 24 */
};

/* 9999-12-31T23:59:59.999Z: `at` keeps four year digits, so text order is time order. */
static const int64_t AT_MS_MAX = INT64_C(253402300799999);

static const char ZERO_HASH[SIFA_AUDIT_HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";
static const char ENTRY_TAG[] = "sifa.audit.entry.v1";
static const char HEAD_TAG[] = "sifa.audit.head.v1";

const char sifa_audit_schema_sql[] =
    "CREATE TABLE audit_log (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    at TEXT NOT NULL,\n"
    "    actor TEXT,\n"
    "    address TEXT,\n"
    "    action TEXT NOT NULL,\n"
    "    target TEXT,\n"
    "    details TEXT,\n"
    "    prev_hash TEXT NOT NULL,\n"
    "    hash TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX audit_log_at ON audit_log (at);\n"
    "CREATE INDEX audit_log_actor ON audit_log (actor);\n"
    "CREATE INDEX audit_log_action ON audit_log (action);\n"
    "CREATE TABLE audit_head (\n"
    "    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),\n"
    "    last_id INTEGER NOT NULL,\n"
    "    last_hash TEXT NOT NULL,\n"
    "    mac TEXT NOT NULL\n"
    ");\n";

/* ---------- hashing ---------- */

static int crypto_ready(struct sifa_error *err)
{
    /* Thread-safe and cheap after the first call; 1 means "already initialised". */
    if (sodium_init() < 0)
        return sifa_error_set(err, SIFA_EINTERNAL, "audit_crypto", "密码库 libsodium 初始化失败");
    return 0;
}

static void put_u64(crypto_generichash_state *h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
    crypto_generichash_update(h, b, sizeof(b));
}

/* F(s) of audit.h: 0x00 for NULL, else 0x01, the length as 8 bytes big-endian, the bytes. */
static void put_field(crypto_generichash_state *h, const char *s, size_t len)
{
    unsigned char present = s != NULL;
    crypto_generichash_update(h, &present, 1);
    if (s == NULL)
        return;
    put_u64(h, (uint64_t)len);
    crypto_generichash_update(h, (const unsigned char *)s, len);
}

static void put_str(crypto_generichash_state *h, const char *s)
{
    put_field(h, s, s != NULL ? strlen(s) : 0);
}

static void keyed_begin(crypto_generichash_state *h, const unsigned char *key, const char *tag)
{
    crypto_generichash_init(h, key, SIFA_AUDIT_KEY_BYTES, HASH_BYTES);
    put_str(h, tag);
}

static void keyed_end(crypto_generichash_state *h, char out[SIFA_AUDIT_HASH_HEX + 1])
{
    unsigned char bin[HASH_BYTES];
    crypto_generichash_final(h, bin, sizeof(bin));
    sodium_bin2hex(out, SIFA_AUDIT_HASH_HEX + 1, bin, sizeof(bin));
    sodium_memzero(h, sizeof(*h));
}

/* The fields of one entry as hashed. Lengths are explicit: verify hashes what the database
 * returns, which may hold bytes (even NUL) that append would never have written. */
struct entry_text {
    int64_t id;
    const char *prev_hash;
    const char *at;
    const char *actor;
    const char *address;
    const char *action;
    const char *target;
    const char *details;
    size_t prev_hash_len, at_len, actor_len, address_len, action_len, target_len, details_len;
};

static void entry_hash(const unsigned char *key, const struct entry_text *t, char out[SIFA_AUDIT_HASH_HEX + 1])
{
    crypto_generichash_state h;
    keyed_begin(&h, key, ENTRY_TAG);
    put_field(&h, t->prev_hash, t->prev_hash_len);
    put_u64(&h, (uint64_t)t->id);
    put_field(&h, t->at, t->at_len);
    put_field(&h, t->actor, t->actor_len);
    put_field(&h, t->address, t->address_len);
    put_field(&h, t->action, t->action_len);
    put_field(&h, t->target, t->target_len);
    put_field(&h, t->details, t->details_len);
    keyed_end(&h, out);
}

static void head_mac(const unsigned char *key, int64_t last_id, const char *last_hash, size_t last_hash_len,
                     char out[SIFA_AUDIT_HASH_HEX + 1])
{
    crypto_generichash_state h;
    keyed_begin(&h, key, HEAD_TAG);
    put_u64(&h, (uint64_t)last_id);
    put_field(&h, last_hash, last_hash_len);
    keyed_end(&h, out);
}

/* Compares a stored hex value (any bytes, may be NULL) with a computed one. */
static bool hex_equal(const char *stored, size_t stored_len, const char *computed)
{
    return stored != NULL && stored_len == SIFA_AUDIT_HASH_HEX &&
           memcmp(stored, computed, SIFA_AUDIT_HASH_HEX) == 0;
}

/* ---------- validating an entry ---------- */

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t len;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, min = 0x80, c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, min = 0x800, c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, min = 0x10000, c &= 0x07;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            c = (c << 6) | (p[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

static bool action_valid(const char *a)
{
    if (a == NULL || !(a[0] >= 'a' && a[0] <= 'z'))
        return false;
    size_t i = 1;
    for (; a[i] != '\0'; i++) {
        char c = a[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
            return false;
    }
    return i <= SIFA_AUDIT_ACTION_MAX;
}

static int check_text(const char *what, const char *s, struct sifa_error *err)
{
    if (s == NULL)
        return 0;
    size_t n = strnlen(s, SIFA_AUDIT_TEXT_MAX + 1);
    if (n > SIFA_AUDIT_TEXT_MAX)
        return sifa_error_set_details(err, SIFA_ELIMIT, "audit_too_large",
                                      json_pack("{s:s, s:i}", "field", what, "max", SIFA_AUDIT_TEXT_MAX),
                                      "审计记录的%s过长（最多 %d 字节）", what, SIFA_AUDIT_TEXT_MAX);
    if (!utf8_valid(s, n))
        return sifa_error_set_details(err, SIFA_EINVALID, "audit_bad_text", json_pack("{s:s}", "field", what),
                                      "审计记录的%s不是有效的 UTF-8 文本", what);
    return 0;
}

/* Formats ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ"; ms is within 0…AT_MS_MAX. */
static void format_at(int64_t ms, char out[AT_MAX])
{
    assert(ms >= 0 && ms <= AT_MS_MAX);
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    /* The fields are in range already; the % only tell the compiler's truncation check so. */
    snprintf(out, AT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100,
             (int)(ms % 1000));
}

/* A growable buffer that refuses to pass max bytes (the serialized details). */
struct bounded_buf {
    char *data;
    size_t len, cap, max;
    bool overflow;
};

static int bounded_append(const char *buffer, size_t size, void *data)
{
    struct bounded_buf *b = data;
    if (size > b->max - b->len) {
        b->overflow = true;
        return -1;
    }
    if (b->len + size + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + size + 1)
            cap *= 2;
        if (cap > b->max + 1)
            cap = b->max + 1;
        b->data = sifa_xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, buffer, size);
    b->len += size;
    b->data[b->len] = '\0';
    return 0;
}

/* Serializes details into *ret_text (new) and its length; NULL details gives NULL text. */
static int details_text(json_t *details, char **ret_text, size_t *ret_len, struct sifa_error *err)
{
    if (details == NULL) {
        *ret_text = NULL;
        *ret_len = 0;
        return 0;
    }
    struct bounded_buf b = {.max = SIFA_AUDIT_DETAILS_MAX};
    int r = json_dump_callback(details, bounded_append, &b, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (r != 0 || b.data == NULL) {
        free(b.data);
        if (b.overflow)
            return sifa_error_set_details(err, SIFA_ELIMIT, "audit_too_large",
                                          json_pack("{s:s, s:i}", "field", "details", "max", SIFA_AUDIT_DETAILS_MAX),
                                          "审计记录的详情过长（最多 %d 字节）", SIFA_AUDIT_DETAILS_MAX);
        return sifa_error_set(err, SIFA_EINVALID, "audit_bad_details", "审计记录的详情无法转换为 JSON");
    }
    *ret_text = b.data;
    *ret_len = b.len;
    return 0;
}

/* ---------- the head ---------- */

struct head {
    bool present;
    bool mac_ok;
    int64_t last_id;
    char last_hash[SIFA_AUDIT_HASH_HEX + 1]; /* "" when the stored value is not 64 bytes */
};

static int head_read(struct sifa_db *db, const unsigned char *key, struct head *ret_head, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, "SELECT last_id, last_hash, mac FROM audit_head WHERE singleton = 1", &st, err);
    if (r < 0)
        return r;
    struct head h = {0};
    r = sifa_db_step(st, err);
    if (r == SIFA_DB_ROW) {
        h.present = true;
        h.last_id = sifa_db_column_int64(st, 0);
        const char *hash = sifa_db_column_text(st, 1);
        size_t hash_len = sifa_db_column_bytes(st, 1);
        const char *mac = sifa_db_column_text(st, 2);
        size_t mac_len = sifa_db_column_bytes(st, 2);
        char want[SIFA_AUDIT_HASH_HEX + 1];
        head_mac(key, h.last_id, hash, hash_len, want);
        /* An integer last_id stored as text would read as 0 and could still match a mac made
         * for 0: only a genuine integer counts. */
        h.mac_ok = sifa_db_column_type(st, 0) == SIFA_DB_INTEGER && h.last_id >= 0 && hex_equal(mac, mac_len, want);
        if (hash != NULL && hash_len == SIFA_AUDIT_HASH_HEX)
            memcpy(h.last_hash, hash, SIFA_AUDIT_HASH_HEX + 1);
        else
            h.mac_ok = false;
    }
    sifa_db_stmt_done(st);
    if (r < 0)
        return r;
    *ret_head = h;
    return 0;
}

static int head_write(struct sifa_db *db, const unsigned char *key, bool exists, int64_t last_id,
                      const char *last_hash, struct sifa_error *err)
{
    char mac[SIFA_AUDIT_HASH_HEX + 1];
    head_mac(key, last_id, last_hash, SIFA_AUDIT_HASH_HEX, mac);
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db,
                            exists ? "UPDATE audit_head SET last_id = ?, last_hash = ?, mac = ? WHERE singleton = 1"
                                   : "INSERT INTO audit_head (last_id, last_hash, mac, singleton) VALUES (?, ?, ?, 1)",
                            &st, err);
    if (r < 0)
        return r;
    sifa_db_bind_int64(st, 1, last_id);
    sifa_db_bind_text(st, 2, last_hash, SIFA_AUDIT_HASH_HEX);
    sifa_db_bind_text(st, 3, mac, SIFA_AUDIT_HASH_HEX);
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    if (r < 0)
        return r;
    if (sifa_db_changes(db) != 1) /* the head vanished between read and write: not serialised */
        return sifa_error_set(err, SIFA_ECONFLICT, "audit_broken", "审计日志头记录更新失败，请确认追加操作已串行执行");
    return 0;
}

static int log_is_empty(struct sifa_db *db, bool *ret_empty, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, "SELECT 1 FROM audit_log LIMIT 1", &st, err);
    if (r < 0)
        return r;
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    if (r < 0)
        return r;
    *ret_empty = r == SIFA_DB_DONE;
    return 0;
}

/* ---------- append ---------- */

static int broken(struct sifa_error *err, int64_t id, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fills err with SIFA_ECONFLICT "audit_broken", details {"id", "reason"} and the message. */
static int broken(struct sifa_error *err, int64_t id, const char *reason, const char *fmt, ...)
{
    char msg[sizeof(err->message)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return sifa_error_set_details(err, SIFA_ECONFLICT, "audit_broken",
                                  json_pack("{s:I, s:s}", "id", (json_int_t)id, "reason", reason), "%s", msg);
}

/* The part of append that runs inside the savepoint. */
static int append_locked(struct sifa_db *db, const unsigned char *key, struct entry_text *t,
                         struct sifa_error *err)
{
    struct head h;
    int r = head_read(db, key, &h, err);
    if (r < 0)
        return r;
    if (h.present && !h.mac_ok)
        return broken(err, h.last_id, "head_mismatch",
                      "审计日志头记录被篡改（校验码不符），已拒绝追加新记录；请运行 sifa audit verify 检查");
    if (!h.present) {
        bool empty;
        r = log_is_empty(db, &empty, err);
        if (r < 0)
            return r;
        if (!empty)
            return broken(err, 0, "head_mismatch",
                          "审计日志头记录缺失，已拒绝追加新记录；请运行 sifa audit verify 检查");
    }
    if (h.present && h.last_id == INT64_MAX)
        return sifa_error_set(err, SIFA_ELIMIT, "audit_too_large", "审计日志编号已用尽");

    t->id = h.present ? h.last_id + 1 : 1;
    t->prev_hash = h.present ? h.last_hash : ZERO_HASH;
    t->prev_hash_len = SIFA_AUDIT_HASH_HEX;
    char hash[SIFA_AUDIT_HASH_HEX + 1];
    entry_hash(key, t, hash);

    struct sifa_db_stmt *st;
    r = sifa_db_prepare(db,
                        "INSERT INTO audit_log (id, at, actor, address, action, target, details, prev_hash, hash)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        &st, err);
    if (r < 0)
        return r;
    sifa_db_bind_int64(st, 1, t->id);
    sifa_db_bind_text(st, 2, t->at, (ssize_t)t->at_len);
    sifa_db_bind_text(st, 3, t->actor, (ssize_t)t->actor_len);
    sifa_db_bind_text(st, 4, t->address, (ssize_t)t->address_len);
    sifa_db_bind_text(st, 5, t->action, (ssize_t)t->action_len);
    sifa_db_bind_text(st, 6, t->target, (ssize_t)t->target_len);
    sifa_db_bind_text(st, 7, t->details, (ssize_t)t->details_len);
    sifa_db_bind_text(st, 8, t->prev_hash, SIFA_AUDIT_HASH_HEX);
    sifa_db_bind_text(st, 9, hash, SIFA_AUDIT_HASH_HEX);
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    if (r == SIFA_ECONFLICT) /* an entry with that id exists: rows were added behind the head's back */
        return broken(err, t->id, "head_mismatch",
                      "审计日志已有第 %" PRId64 " 条记录但头记录未包含它，已拒绝追加新记录；请运行 sifa audit verify 检查",
                      t->id);
    if (r < 0)
        return r;
    return head_write(db, key, h.present, t->id, hash, err);
}

static int append(struct sifa_db *db, const unsigned char key[SIFA_AUDIT_KEY_BYTES],
                  const struct sifa_audit_entry *e, bool own_savepoint, int64_t *ret_id, struct sifa_error *err);

int sifa_audit_append(struct sifa_db *db, const unsigned char key[SIFA_AUDIT_KEY_BYTES],
                      const struct sifa_audit_entry *e, int64_t *ret_id, struct sifa_error *err)
{
    return append(db, key, e, true, ret_id, err);
}

int sifa_audit_append_in_savepoint(struct sifa_db *db, const unsigned char key[SIFA_AUDIT_KEY_BYTES],
                                   const struct sifa_audit_entry *e, int64_t *ret_id, struct sifa_error *err)
{
    return append(db, key, e, false, ret_id, err);
}

static int append(struct sifa_db *db, const unsigned char key[SIFA_AUDIT_KEY_BYTES],
                  const struct sifa_audit_entry *e, bool own_savepoint, int64_t *ret_id, struct sifa_error *err)
{
    int r = crypto_ready(err);
    if (r < 0)
        return r;
    if (!action_valid(e->action))
        return sifa_error_set(err, SIFA_EINVALID, "audit_bad_action",
                              "审计操作名称无效（须匹配 [a-z][a-z0-9_.]*，最长 %d 个字符）", SIFA_AUDIT_ACTION_MAX);
    if ((r = check_text("用户", e->actor, err)) < 0 || (r = check_text("地址", e->address, err)) < 0 ||
        (r = check_text("对象", e->target, err)) < 0)
        return r;
    if (e->at_ms < 0 || e->at_ms > AT_MS_MAX)
        return sifa_error_set(err, SIFA_EINVALID, "audit_bad_time", "审计记录的时间超出范围");

    char at[AT_MAX];
    format_at(e->at_ms != 0 ? e->at_ms : sifa_now_unix_ms(), at);
    _cleanup_free_ char *details = NULL;
    size_t details_len = 0;
    r = details_text(e->details, &details, &details_len, err);
    if (r < 0)
        return r;

    struct entry_text t = {
        .at = at,
        .at_len = strlen(at),
        .actor = e->actor,
        .actor_len = e->actor != NULL ? strlen(e->actor) : 0,
        .address = e->address,
        .address_len = e->address != NULL ? strlen(e->address) : 0,
        .action = e->action,
        .action_len = strlen(e->action),
        .target = e->target,
        .target_len = e->target != NULL ? strlen(e->target) : 0,
        .details = details,
        .details_len = details_len,
    };

    if (!own_savepoint) {
        if ((r = append_locked(db, key, &t, err)) < 0)
            return r;
        if (ret_id != NULL)
            *ret_id = t.id;
        return 0;
    }
    r = sifa_db_savepoint(db, "audit_append", err);
    if (r < 0)
        return r;
    r = append_locked(db, key, &t, err);
    if (r < 0) {
        /* The first error is the one to report; the rollback's own error would only hide it. */
        sifa_db_rollback_to(db, "audit_append", NULL);
        sifa_db_release(db, "audit_append", NULL);
        return r;
    }
    r = sifa_db_release(db, "audit_append", err);
    if (r < 0)
        return r;
    if (ret_id != NULL)
        *ret_id = t.id;
    return 0;
}

/* ---------- verify ---------- */

/* A row as the walk reads it; pointers are borrowed until the next step. */
static void row_text(struct sifa_db_stmt *st, struct entry_text *t, const char **ret_hash, size_t *ret_hash_len)
{
    /* Each text before its byte count, as the engine converts on the text call. */
    t->id = sifa_db_column_int64(st, 0);
    t->at = sifa_db_column_text(st, 1);
    t->at_len = sifa_db_column_bytes(st, 1);
    t->actor = sifa_db_column_text(st, 2);
    t->actor_len = sifa_db_column_bytes(st, 2);
    t->address = sifa_db_column_text(st, 3);
    t->address_len = sifa_db_column_bytes(st, 3);
    t->action = sifa_db_column_text(st, 4);
    t->action_len = sifa_db_column_bytes(st, 4);
    t->target = sifa_db_column_text(st, 5);
    t->target_len = sifa_db_column_bytes(st, 5);
    t->details = sifa_db_column_text(st, 6);
    t->details_len = sifa_db_column_bytes(st, 6);
    t->prev_hash = sifa_db_column_text(st, 7);
    t->prev_hash_len = sifa_db_column_bytes(st, 7);
    *ret_hash = sifa_db_column_text(st, 8);
    *ret_hash_len = sifa_db_column_bytes(st, 8);
}

/* The id of the first row whose column (hash or prev_hash, a fixed name) equals value; 0 if none. */
static int find_row(struct sifa_db *db, const char *sql, const char *value, size_t len, int64_t *ret_id,
                    struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, sql, &st, err);
    if (r < 0)
        return r;
    sifa_db_bind_text(st, 1, value, (ssize_t)len);
    r = sifa_db_step(st, err);
    int64_t id = r == SIFA_DB_ROW ? sifa_db_column_int64(st, 0) : 0;
    sifa_db_stmt_done(st);
    if (r < 0)
        return r;
    *ret_id = id;
    return 0;
}

/* A row whose hash does not match: is it a genuine entry sitting at the wrong position? The
 * candidates for its original id come from its neighbours in the chain (the row whose hash is
 * its prev_hash, the row whose prev_hash is its hash) and from the head; each is confirmed by
 * recomputing the keyed hash, so "reordered" is never claimed without proof. Sets *ret_orig to
 * the original id, or 0 when no candidate fits (then it is plain tampering). */
static int find_original_id(struct sifa_db *db, const unsigned char *key, const struct entry_text *row,
                            const char *hash, size_t hash_len, const struct head *h, int64_t *ret_orig,
                            struct sifa_error *err)
{
    int64_t cand[4];
    size_t n = 0;
    int64_t found;
    int r;

    if (hash == NULL || hash_len != SIFA_AUDIT_HASH_HEX) {
        *ret_orig = 0;
        return 0;
    }
    if (hex_equal(row->prev_hash, row->prev_hash_len, ZERO_HASH))
        cand[n++] = 1;
    if (row->prev_hash != NULL) {
        r = find_row(db, "SELECT id FROM audit_log WHERE hash = ? LIMIT 1", row->prev_hash, row->prev_hash_len,
                     &found, err);
        if (r < 0)
            return r;
        if (found > 0 && found < INT64_MAX)
            cand[n++] = found + 1;
    }
    r = find_row(db, "SELECT id FROM audit_log WHERE prev_hash = ? LIMIT 1", hash, hash_len, &found, err);
    if (r < 0)
        return r;
    if (found > 1)
        cand[n++] = found - 1;
    if (h->present && h->mac_ok && hex_equal(hash, hash_len, h->last_hash))
        cand[n++] = h->last_id;

    for (size_t i = 0; i < n; i++) {
        if (cand[i] == row->id)
            continue;
        struct entry_text moved = *row;
        moved.id = cand[i];
        char want[SIFA_AUDIT_HASH_HEX + 1];
        entry_hash(key, &moved, want);
        if (hex_equal(hash, hash_len, want)) {
            *ret_orig = cand[i];
            return 0;
        }
    }
    *ret_orig = 0;
    return 0;
}

/* Checks one row against the expected id and prev_hash. Returns 0 when it is intact. */
static int check_row(struct sifa_db *db, const unsigned char *key, const struct entry_text *t, const char *hash,
                     size_t hash_len, int64_t want_id, const char *want_prev, const struct head *h1,
                     struct sifa_error *err)
{
    if (t->id != want_id)
        return broken(err, t->id, "id_gap", "审计日志第 %" PRId64 " 条之前有记录被删除（编号应为 %" PRId64 "）", t->id,
                      want_id);
    char want[SIFA_AUDIT_HASH_HEX + 1];
    entry_hash(key, t, want);
    if (!hex_equal(hash, hash_len, want)) {
        int64_t orig;
        int r = find_original_id(db, key, t, hash, hash_len, h1, &orig, err);
        if (r < 0)
            return r;
        if (orig != 0) {
            sifa_error_set_details(err, SIFA_ECONFLICT, "audit_broken",
                                   json_pack("{s:I, s:s, s:I}", "id", (json_int_t)t->id, "reason", "reordered",
                                             "original_id", (json_int_t)orig),
                                   "审计日志第 %" PRId64 " 条的位置被调换（该内容原为第 %" PRId64 " 条）", t->id, orig);
            return SIFA_ECONFLICT;
        }
        return broken(err, t->id, "hash_mismatch", "审计日志第 %" PRId64 " 条被篡改（哈希不符）", t->id);
    }
    if (!hex_equal(t->prev_hash, t->prev_hash_len, want_prev))
        return broken(err, t->id, "chain_break", "审计日志第 %" PRId64 " 条与上一条的链接断开（前序哈希不符）", t->id);
    return 0;
}

/* The head against the walk's end. h1 was read before the walk and h2 after it: a writer
 * appending meanwhile moves the head forward, so entries up to h1 must all be there and no entry
 * may lie beyond h2; entries between the two were appended during the walk and are checked like
 * any other. Without concurrent appends h1 and h2 are the same. */
static int check_head(const struct head *h1, const struct head *h2, int64_t count, int64_t last_id,
                      const char *last_hash, struct sifa_error *err)
{
    const struct head *hs[2] = {h1, h2};
    for (size_t i = 0; i < 2; i++) {
        if (hs[i]->present && !hs[i]->mac_ok)
            return broken(err, hs[i]->last_id, "head_mismatch",
                          "审计日志头记录被篡改（校验码不符，其中记载的最后一条为第 %" PRId64 " 条）", hs[i]->last_id);
    }
    if (!h2->present) {
        if (count == 0 && !h1->present)
            return 0;
        return broken(err, last_id, "head_mismatch", "审计日志头记录缺失（日志最后一条为第 %" PRId64 " 条）", last_id);
    }
    int64_t lo = h1->present ? h1->last_id : 0;
    if (last_id < lo)
        return broken(err, lo, "truncated",
                      "审计日志末尾的记录被删除（头记录显示最后一条为第 %" PRId64 " 条，日志只到第 %" PRId64 " 条）", lo,
                      last_id);
    if (last_id > h2->last_id)
        return broken(err, h2->last_id + 1, "head_mismatch",
                      "审计日志第 %" PRId64 " 条起的记录不在头记录范围内", h2->last_id + 1);
    for (size_t i = 0; i < 2; i++) {
        if (hs[i]->present && hs[i]->last_id == last_id && strcmp(hs[i]->last_hash, last_hash) != 0)
            return broken(err, last_id, "head_mismatch", "审计日志头记录与第 %" PRId64 " 条不符", last_id);
    }
    return 0;
}

int sifa_audit_verify(struct sifa_db *db, const unsigned char key[SIFA_AUDIT_KEY_BYTES], int64_t *ret_checked,
                      struct sifa_error *err)
{
    int r = crypto_ready(err);
    if (r < 0)
        return r;
    struct head h1, h2;
    r = head_read(db, key, &h1, err);
    if (r < 0)
        return r;

    struct sifa_db_stmt *st;
    r = sifa_db_prepare(db,
                        "SELECT id, at, actor, address, action, target, details, prev_hash, hash"
                        " FROM audit_log ORDER BY id",
                        &st, err);
    if (r < 0)
        return r;
    int64_t count = 0, last_id = 0;
    char prev[SIFA_AUDIT_HASH_HEX + 1];
    memcpy(prev, ZERO_HASH, sizeof(prev));
    while ((r = sifa_db_step(st, err)) == SIFA_DB_ROW) {
        struct entry_text t;
        const char *hash;
        size_t hash_len;
        row_text(st, &t, &hash, &hash_len);
        r = check_row(db, key, &t, hash, hash_len, last_id + 1, prev, &h1, err);
        if (r < 0)
            break;
        assert(hash_len == SIFA_AUDIT_HASH_HEX); /* check_row compared it with a computed hash */
        memcpy(prev, hash, SIFA_AUDIT_HASH_HEX);
        last_id = t.id;
        count++;
    }
    sifa_db_stmt_done(st);
    if (r < 0)
        return r;

    r = head_read(db, key, &h2, err);
    if (r < 0)
        return r;
    r = check_head(&h1, &h2, count, last_id, prev, err);
    if (r < 0)
        return r;
    if (ret_checked != NULL)
        *ret_checked = count;
    return 0;
}

/* ---------- list and export ---------- */

/* since/until: a prefix of "YYYY-MM-DDTHH:MM:SS.mmmZ" of at least the year. */
static bool time_prefix_valid(const char *s)
{
    static const char tmpl[] = "0000-00-00T00:00:00.000Z";
    size_t n = strlen(s);
    if (n < 4 || n > sizeof(tmpl) - 1)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (tmpl[i] == '0' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != tmpl[i])
            return false;
    }
    return true;
}

/* The WHERE clause for f (fixed fragments only) and the values it binds, in order. */
struct where {
    char sql[320];
    const char *values[10];
    int count;
    char prefix_end[SIFA_AUDIT_ACTION_MAX + 2]; /* action_prefix's upper bound */
    char pattern[2 * SIFA_AUDIT_KEYWORD_MAX + 3]; /* keyword as a LIKE pattern */
};

static int bad_filter(struct sifa_error *err, const char *name, const char *message)
{
    return sifa_error_set_details(err, SIFA_EINVALID, "audit_bad_filter", json_pack("{s:s}", "filter", name), "%s",
                                  message);
}

/* The start of an action: [a-z][a-z0-9_.]*, or empty (everything). */
static bool action_prefix_valid(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > SIFA_AUDIT_ACTION_MAX || !(p[0] >= 'a' && p[0] <= 'z'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_' || p[i] == '.'))
            return false;
    return true;
}

static int where_build(const struct sifa_audit_filter *f, struct where *w, struct sifa_error *err)
{
    static const struct {
        const char *clause;
        size_t offset;
    } parts[] = {
        {"actor = ?", offsetof(struct sifa_audit_filter, actor)},
        {"action = ?", offsetof(struct sifa_audit_filter, action)},
        {"action >= ?", offsetof(struct sifa_audit_filter, action_prefix)},
        {"target = ?", offsetof(struct sifa_audit_filter, target)},
        {"address = ?", offsetof(struct sifa_audit_filter, address)},
        {"details LIKE ? ESCAPE '\\'", offsetof(struct sifa_audit_filter, keyword)},
        {"at >= ?", offsetof(struct sifa_audit_filter, since)},
        {"at < ?", offsetof(struct sifa_audit_filter, until)},
    };
    memset(w, 0, sizeof(*w));
    if (f == NULL)
        return 0;
    if ((f->since != NULL && !time_prefix_valid(f->since)) || (f->until != NULL && !time_prefix_valid(f->until)))
        return bad_filter(err, f->since != NULL && !time_prefix_valid(f->since) ? "since" : "until",
                          "时间条件格式无效（应为 UTC 时间，如 2024-05-01 或 2024-05-01T08:30:00Z）");
    if (f->action_prefix != NULL && !action_prefix_valid(f->action_prefix))
        return bad_filter(err, "action_prefix", "操作类别前缀无效（应为小写字母开头的操作名前段，如 auth.）");
    if ((f->target != NULL && strlen(f->target) > SIFA_AUDIT_TEXT_MAX) ||
        (f->address != NULL && strlen(f->address) > SIFA_AUDIT_TEXT_MAX))
        return bad_filter(err, f->target != NULL && strlen(f->target) > SIFA_AUDIT_TEXT_MAX ? "target" : "address",
                          "查询条件过长");
    if (f->keyword != NULL) {
        size_t n = strlen(f->keyword);
        if (n < 2 || n > SIFA_AUDIT_KEYWORD_MAX || !utf8_valid(f->keyword, n))
            return bad_filter(err, "keyword", "关键词应为 2 到 64 字节的文字");
        size_t k = 0;
        w->pattern[k++] = '%';
        for (size_t i = 0; i < n; i++) {
            if (f->keyword[i] == '%' || f->keyword[i] == '_' || f->keyword[i] == '\\')
                w->pattern[k++] = '\\';
            w->pattern[k++] = f->keyword[i];
        }
        w->pattern[k++] = '%';
        w->pattern[k] = '\0';
    }
    size_t len = 0;
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(parts); i++) {
        const char *v = *(const char *const *)((const char *)f + parts[i].offset);
        if (v == NULL)
            continue;
        int n = snprintf(w->sql + len, sizeof(w->sql) - len, "%s%s", w->count == 0 ? " WHERE " : " AND ",
                         parts[i].clause);
        assert(n > 0 && (size_t)n < sizeof(w->sql) - len);
        len += (size_t)n;
        if (parts[i].offset == offsetof(struct sifa_audit_filter, keyword)) {
            w->values[w->count++] = w->pattern;
        } else if (parts[i].offset == offsetof(struct sifa_audit_filter, action_prefix)) {
            /* actions are [a-z0-9_.]: every one that starts with v sorts before v + 0x7f */
            w->values[w->count++] = v;
            snprintf(w->prefix_end, sizeof(w->prefix_end), "%s\x7f", v);
            n = snprintf(w->sql + len, sizeof(w->sql) - len, " AND action < ?");
            assert(n > 0 && (size_t)n < sizeof(w->sql) - len);
            len += (size_t)n;
            w->values[w->count++] = w->prefix_end;
        } else {
            w->values[w->count++] = v;
        }
    }
    assert((size_t)w->count <= SIFA_ARRAY_SIZE(w->values));
    return 0;
}

int sifa_audit_filter_check(const struct sifa_audit_filter *f, struct sifa_error *err)
{
    struct where w;
    return where_build(f, &w, err);
}

static void where_bind(struct sifa_db_stmt *st, const struct where *w)
{
    for (int i = 0; i < w->count; i++)
        sifa_db_bind_text(st, i + 1, w->values[i], -1);
}

/* A text column as JSON: null for NULL (or bytes that are not UTF-8, which only tampering makes). */
static json_t *column_json_text(struct sifa_db_stmt *st, int col)
{
    const char *s = sifa_db_column_text(st, col);
    json_t *v = s != NULL ? json_stringn(s, sifa_db_column_bytes(st, col)) : NULL;
    return v != NULL ? v : json_null();
}

static json_t *column_json_details(struct sifa_db_stmt *st, int col)
{
    const char *s = sifa_db_column_text(st, col);
    if (s == NULL)
        return json_null();
    json_t *v = json_loadb(s, sifa_db_column_bytes(st, col), JSON_DECODE_ANY, NULL);
    return v != NULL ? v : column_json_text(st, col); /* not JSON (edited by hand): show the text */
}

int sifa_audit_list(struct sifa_db *db, const struct sifa_audit_filter *f, json_t **ret_page,
                    struct sifa_error *err)
{
    int64_t page = f != NULL && f->page != 0 ? f->page : 1;
    int64_t size = f != NULL && f->page_size != 0 ? f->page_size : SIFA_AUDIT_PAGE_SIZE_DEFAULT;
    if (size < 1 || size > SIFA_AUDIT_PAGE_SIZE_MAX)
        return sifa_error_set(err, SIFA_EINVALID, "audit_bad_filter", "每页条数须在 1 到 %d 之间",
                              SIFA_AUDIT_PAGE_SIZE_MAX);
    if (page < 1 || page > INT64_MAX / SIFA_AUDIT_PAGE_SIZE_MAX)
        return sifa_error_set(err, SIFA_EINVALID, "audit_bad_filter", "页码无效");
    struct where w;
    int r = where_build(f, &w, err);
    if (r < 0)
        return r;

    char sql[512];
    struct sifa_db_stmt *st;
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM audit_log%s", w.sql);
    r = sifa_db_prepare(db, sql, &st, err);
    if (r < 0)
        return r;
    where_bind(st, &w);
    r = sifa_db_step(st, err);
    int64_t total = r == SIFA_DB_ROW ? sifa_db_column_int64(st, 0) : 0;
    sifa_db_stmt_done(st);
    if (r < 0)
        return r;

    snprintf(sql, sizeof(sql),
             "SELECT id, at, actor, address, action, target, details FROM audit_log%s"
             " ORDER BY id DESC LIMIT ? OFFSET ?",
             w.sql);
    r = sifa_db_prepare(db, sql, &st, err);
    if (r < 0)
        return r;
    where_bind(st, &w);
    sifa_db_bind_int64(st, w.count + 1, size);
    sifa_db_bind_int64(st, w.count + 2, (page - 1) * size);
    _cleanup_json_ json_t *items = json_array();
    while ((r = sifa_db_step(st, err)) == SIFA_DB_ROW) {
        json_t *item = json_object();
        json_object_set_new(item, "id", json_integer(sifa_db_column_int64(st, 0)));
        json_object_set_new(item, "at", column_json_text(st, 1));
        json_object_set_new(item, "actor", column_json_text(st, 2));
        json_object_set_new(item, "address", column_json_text(st, 3));
        json_object_set_new(item, "action", column_json_text(st, 4));
        json_object_set_new(item, "target", column_json_text(st, 5));
        json_object_set_new(item, "details", column_json_details(st, 6));
        json_array_append_new(items, item);
    }
    sifa_db_stmt_done(st);
    if (r < 0)
        return r;
    *ret_page = json_pack("{s:O, s:I, s:I, s:I}", "items", items, "total", (json_int_t)total, "page",
                          (json_int_t)page, "page_size", (json_int_t)size);
    return 0;
}

/* One row: fields quoted and defused by base/csv.h (as every CSV sifa writes), built in line and
 * written at once. A NULL column is an empty field; text is NUL-terminated as SQLite hands it
 * over (a NUL inside a field could only come from editing the database, which verify reports). */
static void csv_row(struct sifa_strbuf *line, struct sifa_db_stmt *st)
{
    char id[24];
    snprintf(id, sizeof(id), "%" PRId64, sifa_db_column_int64(st, 0));
    line->len = 0;
    sifa_strbuf_puts(line, id);
    for (int col = 1; col <= 6; col++) {
        const char *s = sifa_db_column_text(st, col);
        sifa_strbuf_add(line, ",", 1);
        if (s != NULL)
            sifa_csv_field(line, s);
    }
    sifa_strbuf_add(line, "\r\n", 2);
}

int sifa_audit_export_csv(struct sifa_db *db, const struct sifa_audit_filter *f, FILE *out, int64_t *ret_rows,
                          struct sifa_error *err)
{
    static const char head[] = "\xEF\xBB\xBF"
                               "编号,时间,用户,地址,操作,对象,详情\r\n";
    struct where w;
    int r = where_build(f, &w, err);
    if (r < 0)
        return r;
    char sql[512];
    struct sifa_db_stmt *st;
    if (f != NULL && f->max_rows > 0) {
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM audit_log%s", w.sql);
        r = sifa_db_prepare(db, sql, &st, err);
        if (r < 0)
            return r;
        where_bind(st, &w);
        r = sifa_db_step(st, err);
        int64_t total = r == SIFA_DB_ROW ? sifa_db_column_int64(st, 0) : 0;
        sifa_db_stmt_done(st);
        if (r < 0)
            return r;
        if (total > f->max_rows)
            return sifa_error_set_details(err, SIFA_ELIMIT, "audit_export_too_large",
                                          json_pack("{s:I,s:I}", "total", (json_int_t)total, "max",
                                                    (json_int_t)f->max_rows),
                                          "符合条件的审计记录有 %lld 条,超过一次导出的上限 %lld 条,请缩小时间范围或增加条件",
                                          (long long)total, (long long)f->max_rows);
    }
    /* Entries appended since the count have higher ids: past the cap they are left out. */
    snprintf(sql, sizeof(sql),
             "SELECT id, at, actor, address, action, target, details FROM audit_log%s ORDER BY id LIMIT ?", w.sql);
    r = sifa_db_prepare(db, sql, &st, err);
    if (r < 0)
        return r;
    where_bind(st, &w);
    sifa_db_bind_int64(st, w.count + 1, f != NULL && f->max_rows > 0 ? f->max_rows : -1);

    struct sifa_strbuf line = {0};
    int64_t rows = 0;
    bool failed = fwrite(head, 1, sizeof(head) - 1, out) != sizeof(head) - 1;
    while (!failed && (r = sifa_db_step(st, err)) == SIFA_DB_ROW) {
        csv_row(&line, st);
        failed = fwrite(line.data, 1, line.len, out) != line.len;
        rows++;
    }
    sifa_db_stmt_done(st);
    free(line.data);
    if (!failed && fflush(out) != 0)
        failed = true;
    if (failed)
        return sifa_error_set(err, SIFA_EINTERNAL, "audit_export_io", "写出审计日志导出文件失败");
    if (r < 0)
        return r;
    if (ret_rows != NULL)
        *ret_rows = rows;
    return 0;
}
