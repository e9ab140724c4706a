/* personal.c — see personal.h. Layer: auth. Key file I/O (create, load, rotate), value
 * encryption with XChaCha20-Poly1305 and blind indexes with keyed BLAKE2b. Invariants: a loaded
 * keyring has at least one key, ids strictly increasing, and its key block is read-only; key
 * material and file contents only ever sit in sodium_malloc memory (wiped on free) or in stack
 * buffers wiped before return. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/personal.h"

#include "base/common.h"

_Static_assert(SIFA_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "data key size");

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define B64_KEY_LEN 44                /* standard base64 of 32 bytes, with one '=' */
#define MAX_ID_DIGITS 9               /* ids stay far below INT_MAX */
#define MAX_HEADER (4 + MAX_ID_DIGITS + 1)

struct sifa_keyring {
    size_t nkeys;
    int *ids;           /* nkeys ids, strictly increasing; ids[nkeys - 1] is current */
    unsigned char *mat; /* sodium_malloc: index key, audit key, then the nkeys data keys */
};

static unsigned char *mat_index(const struct sifa_keyring *kr)
{
    return kr->mat;
}

static unsigned char *mat_audit(const struct sifa_keyring *kr)
{
    return kr->mat + SIFA_KEY_BYTES;
}

static unsigned char *mat_key(const struct sifa_keyring *kr, size_t i)
{
    return kr->mat + (2 + i) * SIFA_KEY_BYTES;
}

static int crypto_ready(struct sifa_error *err)
{
    if (sodium_init() < 0)
        return sifa_error_set(err, SIFA_EINTERNAL, "crypto_init", "加密库初始化失败");
    return 0;
}

static int io_error(struct sifa_error *err, const char *what, int errnum)
{
    return sifa_error_set(err, SIFA_EINTERNAL, "key_file_io", "密钥文件%s失败：%s", what, strerror(errnum));
}

/* ---- reading and writing files ---- */

/* Reads the key file into a new sodium_malloc buffer (NUL-terminated after *ret_len bytes) after
 * checking type, permissions and size. */
static int file_read(const char *path, char **ret_buf, size_t *ret_len, struct sifa_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT)
            return sifa_error_set(err, SIFA_ENOTFOUND, "key_file_missing", "密钥文件不存在");
        if (errno == ELOOP)
            return sifa_error_set(err, SIFA_EINVALID, "key_permissions", "密钥文件不能是符号链接");
        return io_error(err, "打开", errno);
    }
    struct stat st;
    int r = 0;
    char *buf = NULL;
    size_t len = 0;
    if (fstat(fd, &st) != 0) {
        r = io_error(err, "读取", errno);
    } else if (!S_ISREG(st.st_mode)) {
        r = sifa_error_set(err, SIFA_EINVALID, "key_permissions", "密钥文件必须是普通文件");
    } else if ((st.st_mode & 077) != 0) {
        r = sifa_error_set(err, SIFA_EINVALID, "key_permissions",
                           "密钥文件权限过宽（%03o）：只能由所有者读写，请执行 chmod 600",
                           (unsigned)(st.st_mode & 0777));
    } else if (st.st_size > SIFA_KEYRING_MAX_FILE) {
        r = sifa_error_set(err, SIFA_ELIMIT, "key_file_too_large", "密钥文件超过 %d 字节", SIFA_KEYRING_MAX_FILE);
    } else if ((buf = sodium_malloc(SIFA_KEYRING_MAX_FILE + 2)) == NULL) {
        r = sifa_error_set(err, SIFA_EINTERNAL, "key_file_io", "内存不足");
    } else {
        /* Read up to one byte past the limit: the file may have grown since fstat. */
        while (len <= SIFA_KEYRING_MAX_FILE) {
            ssize_t n = read(fd, buf + len, SIFA_KEYRING_MAX_FILE + 1 - len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                r = io_error(err, "读取", errno);
                break;
            }
            if (n == 0)
                break;
            len += (size_t)n;
        }
        if (r == 0 && len > SIFA_KEYRING_MAX_FILE)
            r = sifa_error_set(err, SIFA_ELIMIT, "key_file_too_large", "密钥文件超过 %d 字节",
                               SIFA_KEYRING_MAX_FILE);
    }
    close(fd);
    if (r < 0) {
        sodium_free(buf);
        return r;
    }
    buf[len] = '\0';
    *ret_buf = buf;
    *ret_len = len;
    return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Makes a rename or creation in path's directory durable. Best effort: a failure here leaves
 * a correct file that might not survive a power cut, so it is not reported. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    _cleanup_free_ char *dir = slash == NULL ? sifa_xstrdup(".")
                                             : sifa_xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Writes len bytes to a new file at path, mode 0600, fsynced. exclusive: fail with key_exists
 * when path exists; otherwise write a temporary file beside it and rename over it. */
static int file_write(const char *path, const char *buf, size_t len, bool exclusive, struct sifa_error *err)
{
    size_t plen = strlen(path);
    _cleanup_free_ char *tmp = exclusive ? NULL : sifa_xmalloc(plen + 8);
    int fd;
    if (exclusive) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0 && errno == EEXIST)
            return sifa_error_set(err, SIFA_ECONFLICT, "key_exists", "密钥文件已存在，不会覆盖");
    } else {
        snprintf(tmp, plen + 8, "%s.XXXXXX", path);
        fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    }
    if (fd < 0)
        return io_error(err, "创建", errno);
    const char *target = exclusive ? path : tmp;
    int e = fchmod(fd, 0600) != 0 ? -errno : 0; /* exact mode whatever the umask */
    if (e == 0)
        e = write_all(fd, buf, len);
    if (e == 0 && fsync(fd) != 0)
        e = -errno;
    if (close(fd) != 0 && e == 0)
        e = -errno;
    if (e == 0 && !exclusive && rename(tmp, path) != 0)
        e = -errno;
    if (e != 0) {
        unlink(target);
        return io_error(err, "写入", -e);
    }
    sync_parent_dir(path);
    return 0;
}

/* ---- parsing ---- */

struct parse_state {
    size_t nkeys;
    int last_id;
    bool have_index, have_audit;
};

static int syntax_error(struct sifa_error *err, size_t line, const char *what)
{
    return sifa_error_set_details(err, SIFA_EINVALID, "key_file_syntax", json_pack("{s:I}", "line", (json_int_t)line),
                                  "密钥文件第 %zu 行格式错误：%s", line, what);
}

static bool decode_key(const char *b64, size_t len, unsigned char out[SIFA_KEY_BYTES])
{
    size_t bin_len = 0;
    const char *end = NULL;
    if (len != B64_KEY_LEN)
        return false;
    if (sodium_base642bin(out, SIFA_KEY_BYTES, b64, len, NULL, &bin_len, &end, sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    return bin_len == SIFA_KEY_BYTES && end == b64 + len;
}

static bool parse_id(const char *s, size_t len, int *ret_id)
{
    if (len == 0 || len > MAX_ID_DIGITS || s[0] == '0')
        return false;
    int id = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        id = id * 10 + (s[i] - '0');
    }
    *ret_id = id;
    return true;
}

/* Parses one line [s, s + len) (no line end). kr NULL: only validate and count; otherwise store
 * keys into kr, whose block has room for st->nkeys from the counting pass. */
static int parse_line(const char *s, size_t len, size_t line, struct sifa_keyring *kr, struct parse_state *st,
                      struct sifa_error *err)
{
    size_t first = 0;
    while (first < len && (s[first] == ' ' || s[first] == '\t'))
        first++;
    if (first == len || s[first] == '#')
        return 0; /* blank line or comment */
    const char *field[4];
    size_t flen[4];
    size_t nf = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] == ' ' || s[i] == '\t') {
            i++;
            continue;
        }
        if (nf == SIFA_ARRAY_SIZE(field))
            return syntax_error(err, line, "字段过多");
        size_t start = i;
        while (i < len && s[i] != ' ' && s[i] != '\t')
            i++;
        field[nf] = s + start;
        flen[nf++] = i - start;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
            return syntax_error(err, line, "含有控制字符");
    unsigned char key[SIFA_KEY_BYTES];
    unsigned char *dest = key;
    int r = 0;
    if ((flen[0] == 5 && memcmp(field[0], "index", 5) == 0) || (flen[0] == 5 && memcmp(field[0], "audit", 5) == 0)) {
        bool is_index = field[0][0] == 'i';
        bool *have = is_index ? &st->have_index : &st->have_audit;
        if (nf != 2)
            return syntax_error(err, line, is_index ? "应为 index <base64>" : "应为 audit <base64>");
        if (*have)
            return syntax_error(err, line, is_index ? "index 行重复" : "audit 行重复");
        *have = true;
        if (kr != NULL)
            dest = is_index ? mat_index(kr) : mat_audit(kr);
        if (!decode_key(field[1], flen[1], dest))
            r = syntax_error(err, line, "密钥不是 32 字节的 base64");
    } else if (flen[0] == 3 && memcmp(field[0], "key", 3) == 0) {
        int id;
        if (nf != 3)
            return syntax_error(err, line, "应为 key <编号> <base64>");
        if (!parse_id(field[1], flen[1], &id))
            return syntax_error(err, line, "密钥编号应为正整数");
        if (id <= st->last_id)
            return syntax_error(err, line, "密钥编号必须逐行递增");
        if (kr == NULL && st->nkeys == SIFA_KEYRING_MAX_KEYS)
            return syntax_error(err, line, "密钥过多");
        if (kr != NULL) {
            kr->ids[st->nkeys] = id;
            dest = mat_key(kr, st->nkeys);
        }
        if (!decode_key(field[2], flen[2], dest))
            r = syntax_error(err, line, "密钥不是 32 字节的 base64");
        st->last_id = id;
        st->nkeys++;
    } else {
        return syntax_error(err, line, "未知的行类型");
    }
    sodium_memzero(key, sizeof(key));
    return r;
}

static int parse_file(const char *buf, size_t len, struct sifa_keyring *kr, struct parse_state *ret_st,
                      struct sifa_error *err)
{
    struct parse_state st = {0};
    size_t line = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl == NULL ? len : (size_t)(nl - buf);
        size_t stop = end > pos && buf[end - 1] == '\r' ? end - 1 : end;
        int r = parse_line(buf + pos, stop - pos, ++line, kr, &st, err);
        if (r < 0)
            return r;
        pos = end + 1;
    }
    if (!st.have_index)
        return sifa_error_set(err, SIFA_EINVALID, "key_file_syntax", "密钥文件缺少 index 行");
    if (!st.have_audit)
        return sifa_error_set(err, SIFA_EINVALID, "key_file_syntax", "密钥文件缺少 audit 行");
    if (st.nkeys == 0)
        return sifa_error_set(err, SIFA_EINVALID, "key_file_syntax", "密钥文件缺少 key 行");
    *ret_st = st;
    return 0;
}

static void keyring_free(struct sifa_keyring *kr)
{
    if (kr == NULL)
        return;
    sodium_free(kr->mat); /* makes the block writable, wipes and unmaps it */
    free(kr->ids);
    free(kr);
}

void sifa_keyring_free(struct sifa_keyring *kr)
{
    keyring_free(kr);
}

int sifa_keyring_load(const char *path, struct sifa_keyring **ret, struct sifa_error *err)
{
    int r = crypto_ready(err);
    if (r < 0)
        return r;
    char *buf;
    size_t len;
    r = file_read(path, &buf, &len, err);
    if (r < 0)
        return r;
    struct parse_state st;
    struct sifa_keyring *kr = NULL;
    r = parse_file(buf, len, NULL, &st, err);
    if (r == 0) {
        kr = sifa_xcalloc(1, sizeof(*kr));
        kr->ids = sifa_xcalloc(st.nkeys, sizeof(int));
        kr->mat = sodium_malloc((2 + st.nkeys) * SIFA_KEY_BYTES);
        if (kr->mat == NULL)
            r = sifa_error_set(err, SIFA_EINTERNAL, "key_file_io", "内存不足");
    }
    if (r == 0) {
        struct parse_state again;
        r = parse_file(buf, len, kr, &again, err);
        if (r == 0) {
            assert(again.nkeys == st.nkeys); /* the same bytes parsed a second time */
            kr->nkeys = again.nkeys;
        }
    }
    sodium_free(buf);
    if (r < 0) {
        keyring_free(kr);
        return r;
    }
    sodium_mprotect_readonly(kr->mat);
    *ret = kr;
    return 0;
}

static void key_line(char *out, size_t size, const char *label, int id)
{
    unsigned char key[SIFA_KEY_BYTES];
    char b64[B64_KEY_LEN + 1];
    crypto_aead_xchacha20poly1305_ietf_keygen(key);
    sodium_bin2base64(b64, sizeof(b64), key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
    if (id > 0)
        snprintf(out, size, "%s %d %s\n", label, id, b64);
    else
        snprintf(out, size, "%s %s\n", label, b64);
    sodium_memzero(key, sizeof(key));
    sodium_memzero(b64, sizeof(b64));
}

#define LINE_MAX_LEN 80

int sifa_keyring_create_file(const char *path, struct sifa_error *err)
{
    int r = crypto_ready(err);
    if (r < 0)
        return r;
    static const char header[] = "# sifa personal-data keys: mode 0600, back it up safely; losing it loses the data.\n";
    size_t size = sizeof(header) + 3 * LINE_MAX_LEN;
    char *buf = sodium_malloc(size);
    if (buf == NULL)
        return sifa_error_set(err, SIFA_EINTERNAL, "key_file_io", "内存不足");
    memcpy(buf, header, sizeof(header));
    size_t len = sizeof(header) - 1;
    key_line(buf + len, size - len, "index", 0);
    len += strlen(buf + len);
    key_line(buf + len, size - len, "audit", 0);
    len += strlen(buf + len);
    key_line(buf + len, size - len, "key", 1);
    len += strlen(buf + len);
    r = file_write(path, buf, len, true, err);
    sodium_free(buf);
    return r;
}

/* The key file at path, read and parsed for a rewrite: *ret_text new (even when parsing fails,
 * so the caller frees it), st filled. */
static int key_file_load(const char *path, char **ret_text, size_t *ret_len, struct parse_state *st,
                         struct sifa_error *err)
{
    int r = crypto_ready(err);
    if (r < 0)
        return r;
    if ((r = file_read(path, ret_text, ret_len, err)) < 0)
        return r;
    return parse_file(*ret_text, *ret_len, NULL, st, err);
}

int sifa_keyring_rotate_file(const char *path, struct sifa_error *err)
{
    char *old = NULL;
    size_t old_len;
    struct parse_state st;
    int r = key_file_load(path, &old, &old_len, &st, err);
    if (r < 0 && old == NULL)
        return r;
    if (r == 0 && st.nkeys == SIFA_KEYRING_MAX_KEYS)
        r = sifa_error_set(err, SIFA_ELIMIT, "key_file_too_large", "密钥已达 %d 个，请先删除不再使用的旧密钥",
                           SIFA_KEYRING_MAX_KEYS);
    if (r == 0 && st.last_id >= 999999999)
        r = sifa_error_set(err, SIFA_ELIMIT, "key_file_too_large", "密钥编号已用尽");
    size_t size = old_len + 1 + LINE_MAX_LEN;
    char *buf = r == 0 ? sodium_malloc(size) : NULL;
    if (r == 0 && buf == NULL)
        r = sifa_error_set(err, SIFA_EINTERNAL, "key_file_io", "内存不足");
    if (r == 0) {
        memcpy(buf, old, old_len);
        size_t len = old_len;
        if (len > 0 && buf[len - 1] != '\n')
            buf[len++] = '\n';
        key_line(buf + len, size - len, "key", st.last_id + 1);
        len += strlen(buf + len);
        if (len > SIFA_KEYRING_MAX_FILE)
            r = sifa_error_set(err, SIFA_ELIMIT, "key_file_too_large", "密钥文件将超过 %d 字节，请先删除不再使用的旧密钥",
                               SIFA_KEYRING_MAX_FILE);
        else
            r = file_write(path, buf, len, false, err);
    }
    sodium_free(buf);
    sodium_free(old);
    return r < 0 ? r : st.last_id + 1;
}

/* The id of the data key a line holds, or 0 when the line is no key line. The file has been
 * parsed before, so a key line is "key", blanks, the id, blanks, the key. */
static int line_key_id(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (len - i < 4 || memcmp(s + i, "key", 3) != 0 || (s[i + 3] != ' ' && s[i + 3] != '\t'))
        return 0;
    i += 3;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t start = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    int id;
    return parse_id(s + start, i - start, &id) ? id : 0;
}

static bool id_listed(const int *ids, size_t n, int id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

int sifa_keyring_retire_file(const char *path, const int *ids, size_t nids, struct sifa_error *err)
{
    char *old = NULL;
    size_t old_len;
    struct parse_state st;
    int r = key_file_load(path, &old, &old_len, &st, err);
    if (r < 0 && old == NULL)
        return r;
    /* Every id must be a key of the file, and never the current one: what is written now is
     * encrypted under it. */
    for (size_t k = 0; r == 0 && k < nids; k++) {
        bool found = false;
        for (size_t pos = 0; pos < old_len && !found;) {
            const char *nl = memchr(old + pos, '\n', old_len - pos);
            size_t end = nl == NULL ? old_len : (size_t)(nl - old);
            found = line_key_id(old + pos, end - pos) == ids[k];
            pos = end + 1;
        }
        if (!found)
            r = sifa_error_set(err, SIFA_ENOTFOUND, "key_not_found", "密钥文件中没有密钥 %d", ids[k]);
        else if (ids[k] == st.last_id)
            r = sifa_error_set(err, SIFA_ECONFLICT, "key_current",
                               "密钥 %d 是当前密钥,新写入的数据用它加密,不能删除;先执行 sifa key rotate", ids[k]);
    }
    char *buf = r == 0 ? sodium_malloc(old_len + 1) : NULL;
    if (r == 0 && buf == NULL)
        r = sifa_error_set(err, SIFA_EINTERNAL, "key_file_io", "内存不足");
    if (r == 0) {
        size_t len = 0;
        for (size_t pos = 0; pos < old_len;) {
            const char *nl = memchr(old + pos, '\n', old_len - pos);
            size_t end = nl == NULL ? old_len : (size_t)(nl - old) + 1;
            if (!id_listed(ids, nids, line_key_id(old + pos, end - pos))) {
                memcpy(buf + len, old + pos, end - pos);
                len += end - pos;
            }
            pos = end;
        }
        r = file_write(path, buf, len, false, err);
    }
    sodium_free(buf);
    sodium_free(old);
    return r < 0 ? r : (int)nids;
}

size_t sifa_keyring_key_ids(const struct sifa_keyring *kr, const int **ret_ids)
{
    *ret_ids = kr->ids;
    return kr->nkeys;
}

const unsigned char *sifa_keyring_audit_key(const struct sifa_keyring *kr)
{
    return mat_audit(kr);
}

int sifa_keyring_current_id(const struct sifa_keyring *kr)
{
    assert(kr->nkeys > 0);
    return kr->ids[kr->nkeys - 1];
}

/* Index of key id in kr, or -1. */
static ptrdiff_t find_key(const struct sifa_keyring *kr, int id)
{
    size_t lo = 0, hi = kr->nkeys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (kr->ids[mid] == id)
            return (ptrdiff_t)mid;
        if (kr->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* ---- values ---- */

/* Parses "pd1:<id>:" at the start of text: the id and the length of "pd1:<id>" (the additional
 * data). Reads no further than the first byte that does not fit. */
static bool parse_header(const char *text, int *ret_id, size_t *ret_ad_len)
{
    static const size_t plen = sizeof(SIFA_PERSONAL_PREFIX) - 1;
    if (text == NULL || strncmp(text, SIFA_PERSONAL_PREFIX, plen) != 0)
        return false;
    size_t n = 0;
    while (n <= MAX_ID_DIGITS && text[plen + n] >= '0' && text[plen + n] <= '9')
        n++;
    int id;
    if (text[plen + n] != ':' || !parse_id(text + plen, n, &id))
        return false;
    *ret_id = id;
    *ret_ad_len = plen + n;
    return true;
}

bool sifa_personal_is_encrypted(const char *text)
{
    int id;
    size_t ad_len;
    return parse_header(text, &id, &ad_len);
}

int sifa_personal_key_id(const char *text)
{
    int id;
    size_t ad_len;
    return parse_header(text, &id, &ad_len) ? id : -1;
}

int sifa_personal_encrypt(const struct sifa_keyring *kr, const char *plain, size_t len, char **ret_text,
                          struct sifa_error *err)
{
    int r = crypto_ready(err);
    if (r < 0)
        return r;
    if (len > SIFA_PERSONAL_MAX_PLAIN)
        return sifa_error_set(err, SIFA_ELIMIT, "personal_too_long", "个人信息字段过长（超过 %d 字节）",
                              SIFA_PERSONAL_MAX_PLAIN);
    size_t cur = kr->nkeys - 1;
    char ad[MAX_HEADER + 1];
    int ad_len = snprintf(ad, sizeof(ad), SIFA_PERSONAL_PREFIX "%d", kr->ids[cur]);
    assert(ad_len > 0 && (size_t)ad_len < sizeof(ad));

    size_t bin_len = NONCE_BYTES + len + TAG_BYTES;
    unsigned char *bin = sifa_xmalloc(bin_len);
    randombytes_buf(bin, NONCE_BYTES);
    unsigned long long clen;
    crypto_aead_xchacha20poly1305_ietf_encrypt(bin + NONCE_BYTES, &clen, (const unsigned char *)plain, len,
                                               (const unsigned char *)ad, (unsigned long long)ad_len, NULL, bin,
                                               mat_key(kr, cur));
    assert(clen == len + TAG_BYTES);

    size_t b64_size = sodium_base64_ENCODED_LEN(bin_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *text = sifa_xmalloc((size_t)ad_len + 1 + b64_size);
    memcpy(text, ad, (size_t)ad_len);
    text[ad_len] = ':';
    sodium_bin2base64(text + ad_len + 1, b64_size, bin, bin_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    free(bin);
    *ret_text = text;
    return 0;
}

static int corrupt(struct sifa_error *err)
{
    return sifa_error_set(err, SIFA_EINVALID, "personal_corrupt", "加密的个人信息已损坏或被篡改，无法解密");
}

int sifa_personal_decrypt(const struct sifa_keyring *kr, const char *text, char **ret_plain, size_t *ret_len,
                          struct sifa_error *err)
{
    int r = crypto_ready(err);
    if (r < 0)
        return r;
    int id;
    size_t ad_len;
    if (!parse_header(text, &id, &ad_len))
        return corrupt(err);
    ptrdiff_t k = find_key(kr, id);
    if (k < 0)
        return sifa_error_set(err, SIFA_ENOTFOUND, "personal_unknown_key",
                              "加密的个人信息使用了密钥 %d，但密钥文件中没有该密钥", id);

    const char *b64 = text + ad_len + 1;
    size_t max_b64 = sodium_base64_ENCODED_LEN(NONCE_BYTES + SIFA_PERSONAL_MAX_PLAIN + TAG_BYTES,
                                               sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t b64_len = strnlen(b64, max_b64);
    if (b64_len >= max_b64)
        return corrupt(err);
    size_t bin_cap = b64_len / 4 * 3 + 3;
    if (bin_cap < NONCE_BYTES + TAG_BYTES)
        return corrupt(err);
    _cleanup_free_ unsigned char *bin = sifa_xmalloc(bin_cap);
    size_t bin_len = 0;
    const char *end = NULL;
    if (sodium_base642bin(bin, bin_cap, b64, b64_len, NULL, &bin_len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) !=
            0 ||
        end != b64 + b64_len || bin_len < NONCE_BYTES + TAG_BYTES)
        return corrupt(err);

    size_t plain_len = bin_len - NONCE_BYTES - TAG_BYTES;
    char *plain = sifa_xmalloc(plain_len + 1);
    unsigned long long mlen;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)plain, &mlen, NULL, bin + NONCE_BYTES,
                                                   bin_len - NONCE_BYTES, (const unsigned char *)text, ad_len, bin,
                                                   mat_key(kr, (size_t)k)) != 0) {
        free(plain);
        return corrupt(err);
    }
    assert(mlen == plain_len);
    plain[plain_len] = '\0';
    *ret_plain = plain;
    if (ret_len != NULL)
        *ret_len = plain_len;
    return 0;
}

int sifa_personal_reencrypt(const struct sifa_keyring *kr, const char *text, char **ret_text, struct sifa_error *err)
{
    char *plain;
    size_t len;
    int r = sifa_personal_decrypt(kr, text, &plain, &len, err);
    if (r < 0)
        return r;
    char *out;
    r = sifa_personal_encrypt(kr, plain, len, &out, err);
    sodium_memzero(plain, len);
    free(plain);
    if (r < 0)
        return r;
    *ret_text = out;
    return sifa_personal_key_id(text) == sifa_keyring_current_id(kr) ? 0 : 1;
}

void sifa_personal_blind_index(const struct sifa_keyring *kr, const char *scope, const char *value, size_t len,
                               char ret_hex[SIFA_BLIND_INDEX_HEX])
{
    crypto_generichash_state st;
    unsigned char h[16];
    crypto_generichash_init(&st, mat_index(kr), SIFA_KEY_BYTES, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)scope, strlen(scope) + 1); /* with the NUL */
    if (len > 0)
        crypto_generichash_update(&st, (const unsigned char *)value, len);
    crypto_generichash_final(&st, h, sizeof(h));
    sodium_bin2hex(ret_hex, SIFA_BLIND_INDEX_HEX, h, sizeof(h));
    sodium_memzero(&st, sizeof(st));
}
