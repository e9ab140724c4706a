/* files.c — stored files behind attachment fields: content-addressed bytes on disk, a row per
 * upload in the files table, and the type check that refuses a file whose bytes do not match the
 * type it claims. Layer: record. A file is written to a temporary name, fsync'd and renamed, so a
 * crash never leaves a half file under a final name; the same bytes uploaded twice are stored once.
 * The accepted types are the documents a bureau exchanges: PDF, images, Office files, text. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/common.h"
#include "record/record.h"

static const struct {
    const char *type;
    const char *magic; /* NULL: no fixed signature (text) */
    size_t magic_len;
} accepted_types[] = {
    {"application/pdf", "%PDF-", 5},
    {"image/png", "\x89PNG\r\n\x1a\n", 8},
    {"image/jpeg", "\xff\xd8\xff", 3},
    {"image/gif", "GIF8", 4},
    {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "PK\x03\x04", 4},
    {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "PK\x03\x04", 4},
    {"application/msword", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8},
    {"application/vnd.ms-excel", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8},
    {"application/zip", "PK\x03\x04", 4},
    {"text/plain", NULL, 0},
    {"text/csv", NULL, 0},
};

int sifa_record_file_check_type(const char *content_type, const void *data, size_t size, struct sifa_error *err)
{
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(accepted_types); i++) {
        if (strcmp(accepted_types[i].type, content_type) != 0)
            continue;
        if (accepted_types[i].magic == NULL) {
            /* Text must be UTF-8 without NUL bytes: a binary file sent as text/plain is refused. */
            json_t *probe = memchr(data, 0, size) == NULL ? json_stringn(data, size) : NULL;
            if (probe == NULL)
                break;
            json_decref(probe);
            return 0;
        }
        if (size >= accepted_types[i].magic_len && memcmp(data, accepted_types[i].magic, accepted_types[i].magic_len) == 0)
            return 0;
        return sifa_error_set_details(err, SIFA_EUNSUPPORTED, "file_type", json_pack("{s:s}", "content_type", content_type),
                                      "文件内容与声明的类型 %s 不符", content_type);
    }
    return sifa_error_set_details(err, SIFA_EUNSUPPORTED, "file_type", json_pack("{s:s}", "content_type", content_type),
                                  "不接受 %s 类型的文件;可上传 PDF、图片(PNG/JPEG/GIF)、Word、Excel、ZIP 和文本文件",
                                  content_type);
}

bool sifa_record_file_id_valid(const char *id)
{
    if (strlen(id) != SIFA_FILE_ID_LEN)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* mkdir -p: the files directory is created on first use, parents included. */
static int mkdir_one(const char *path, struct sifa_error *err)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0750) != 0 && errno != EEXIST)
                return sifa_error_set(err, SIFA_EINTERNAL, "files_dir", "无法创建文件目录 %s:%s", buf, strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

int sifa_record_file_store(const char *files_dir, const char *name, const char *content_type, const void *data,
                           size_t size, json_t **ret_file, struct sifa_error *err)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, data, size);
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    char dir[4096], path[4200], tmp[4300];
    snprintf(dir, sizeof(dir), "%s/%.2s", files_dir, hex);
    snprintf(path, sizeof(path), "%s/%s", dir, hex);
    int rc = mkdir_one(files_dir, err);
    if (rc >= 0)
        rc = mkdir_one(dir, err);
    if (rc < 0)
        return rc;
    struct stat st;
    if (stat(path, &st) != 0 || (size_t)st.st_size != size) {
        unsigned char r[8];
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
            memset(r, 0, sizeof(r));
        snprintf(tmp, sizeof(tmp), "%s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x", path, r[0], r[1], r[2], r[3], r[4], r[5],
                 r[6], r[7]);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (fd < 0)
            return sifa_error_set(err, SIFA_EINTERNAL, "file_write", "无法写入文件:%s", strerror(errno));
        const char *p = data;
        size_t left = size;
        while (left > 0) {
            ssize_t w = write(fd, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                int e = errno;
                close(fd);
                unlink(tmp);
                return sifa_error_set(err, SIFA_EINTERNAL, "file_write", "无法写入文件:%s", strerror(e));
            }
            p += w;
            left -= (size_t)w;
        }
        if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            return sifa_error_set(err, SIFA_EINTERNAL, "file_write", "无法保存文件:%s", strerror(e));
        }
    }
    unsigned char r[SIFA_FILE_ID_LEN / 2];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return sifa_error_set(err, SIFA_EINTERNAL, "random", "无法生成文件编号");
    char id[SIFA_FILE_ID_LEN + 1];
    sodium_bin2hex(id, sizeof(id), r, sizeof(r));
    char at[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    *ret_file = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "id", id, "sha256", hex, "name", name, "size", (json_int_t)size,
                          "content_type", content_type, "created_at", at);
    return *ret_file != NULL ? 0 : sifa_error_set(err, SIFA_EINVALID, "bad_name", "文件名不是合法的 UTF-8");
}

int sifa_record_file_insert(struct sifa_db *db, const struct sifa_record_ctx *rc, json_t *file, struct sifa_error *err)
{
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db,
                            "INSERT INTO files (id, sha256, name, size, content_type, created_at, created_by) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)",
                            &st, err);
    if (r < 0)
        return r;
    sifa_db_bind_text(st, 1, json_string_value(json_object_get(file, "id")), -1);
    sifa_db_bind_text(st, 2, json_string_value(json_object_get(file, "sha256")), -1);
    sifa_db_bind_text(st, 3, json_string_value(json_object_get(file, "name")), -1);
    sifa_db_bind_int64(st, 4, json_integer_value(json_object_get(file, "size")));
    sifa_db_bind_text(st, 5, json_string_value(json_object_get(file, "content_type")), -1);
    sifa_db_bind_text(st, 6, json_string_value(json_object_get(file, "created_at")), -1);
    if (rc != NULL && rc->actor != NULL)
        sifa_db_bind_text(st, 7, rc->actor, -1);
    else
        sifa_db_bind_null(st, 7);
    r = sifa_db_step(st, err);
    sifa_db_stmt_done(st);
    return r < 0 ? r : 0;
}

int sifa_record_file_get(struct sifa_db *db, const char *files_dir, const char *id, json_t **ret_file,
                         char **ret_path, struct sifa_error *err)
{
    if (!sifa_record_file_id_valid(id))
        return sifa_error_set(err, SIFA_ENOTFOUND, "file_not_found", "文件不存在");
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, "SELECT id, sha256, name, size, content_type, created_at FROM files WHERE id = ?", &st,
                            err);
    if (r < 0)
        return r;
    sifa_db_bind_text(st, 1, id, -1);
    r = sifa_db_step(st, err);
    if (r == SIFA_DB_ROW) {
        const char *sha = sifa_db_column_text(st, 1);
        *ret_file = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "id", sifa_db_column_text(st, 0), "sha256", sha, "name",
                              sifa_db_column_text(st, 2), "size", (json_int_t)sifa_db_column_int64(st, 3),
                              "content_type", sifa_db_column_text(st, 4), "created_at", sifa_db_column_text(st, 5));
        if (ret_path != NULL) {
            size_t n = strlen(files_dir) + strlen(sha) + 8;
            *ret_path = sifa_xmalloc(n);
            snprintf(*ret_path, n, "%s/%.2s/%s", files_dir, sha, sha);
        }
    }
    sifa_db_stmt_done(st);
    if (r < 0)
        return r;
    if (r == SIFA_DB_DONE)
        return sifa_error_set(err, SIFA_ENOTFOUND, "file_not_found", "文件不存在");
    return 0;
}

int sifa_record_file_created_by(struct sifa_db *db, const char *id, char **ret_user, struct sifa_error *err)
{
    if (!sifa_record_file_id_valid(id))
        return sifa_error_set(err, SIFA_ENOTFOUND, "file_not_found", "文件不存在");
    struct sifa_db_stmt *st;
    int r = sifa_db_prepare(db, "SELECT created_by FROM files WHERE id = ?", &st, err);
    if (r < 0)
        return r;
    sifa_db_bind_text(st, 1, id, -1);
    r = sifa_db_step(st, err);
    char *user = NULL;
    if (r == SIFA_DB_ROW && sifa_db_column_text(st, 0) != NULL)
        user = sifa_xstrdup(sifa_db_column_text(st, 0));
    sifa_db_stmt_done(st);
    if (r < 0)
        return r;
    if (r == SIFA_DB_DONE)
        return sifa_error_set(err, SIFA_ENOTFOUND, "file_not_found", "文件不存在");
    *ret_user = user;
    return 0;
}
