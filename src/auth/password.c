/* password.c — see password.h. Layer: auth. The policy works on Unicode code points decoded from
 * UTF-8 (at most SIFA_PASSWORD_MAX_BYTES of them); hashing is libsodium's crypto_pwhash_str
 * (argon2id). State: the cost switch (an atomic) and one dummy hash per cost, each computed once
 * under pthread_once. Buffers that held a password or a part of one are wiped before return. */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#include "auth/password.h"
#include "base/common.h"
#include "base/text.h"

_Static_assert(SIFA_PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES, "hash buffer size");

/* ---- cost ---- */

static atomic_bool minimal_cost;

void sifa_password_set_cost(bool minimal)
{
    atomic_store(&minimal_cost, minimal);
}

static unsigned long long cost_ops(bool minimal)
{
    return minimal ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
}

static size_t cost_mem(bool minimal)
{
    return minimal ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;
}

/* ---- policy ---- */

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* A unit of up to 4 code points repeated to the end: "aaaaaaaaaa", "1212121212", "abcabcabca". */
static bool is_periodic(const uint32_t *cp, size_t n)
{
    for (size_t p = 1; p <= 4 && p < n; p++) {
        size_t i = p;
        while (i < n && cp[i] == cp[i - p])
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/* Every step +1 (or every step -1) in code points, digits wrapping 9→0: "1234567890",
 * "abcdefghij", "9876543210", "ABCDEFGHIJ". */
static bool is_step_run(const uint32_t *cp, size_t n)
{
    for (int dir = -1; dir <= 1; dir += 2) {
        size_t i = 1;
        for (; i < n; i++) {
            uint32_t a = cp[i - 1], b = cp[i];
            bool digits = a >= '0' && a <= '9' && b >= '0' && b <= '9';
            bool ok = digits ? (int)((b - a + 10) % 10) == (dir > 0 ? 1 : 9) : (int64_t)b - (int64_t)a == dir;
            if (!ok)
                break;
        }
        if (i == n)
            return true;
    }
    return false;
}

/* A run along a keyboard row (US layout, the rows joined so walks may wrap to the next row),
 * forwards or backwards: "qwertyuiop", "poiuytrewq", "asdfghjkl;'". lower is ASCII lowercase. */
static bool is_keyboard_walk(const char *lower, size_t len)
{
    static const char *const rows[] = {
        "`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./",
        "/.,mnbvcxz';lkjhgfdsa\\][poiuytrewq=-0987654321`",
        "~!@#$%^&*()_+",
        "+_)(*&^%$#@!~",
    };
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(rows); i++)
        if (len <= strlen(rows[i]) && strstr(rows[i], lower) != NULL)
            return true;
    return false;
}

static bool contains_name(const char *lower, size_t len, const char *user_name)
{
    if (user_name == NULL)
        return false;
    size_t name_len = strnlen(user_name, SIFA_PASSWORD_MAX_BYTES + 1);
    if (name_len > len)
        return false;
    size_t chars = 0;
    for (size_t i = 0; i < name_len; i++)
        chars += ((unsigned char)user_name[i] & 0xc0) != 0x80;
    if (chars < 3)
        return false;
    char name[SIFA_PASSWORD_MAX_BYTES + 1];
    for (size_t i = 0; i < name_len; i++)
        name[i] = ascii_lower(user_name[i]);
    bool found = memmem(lower, len, name, name_len) != NULL;
    sodium_memzero(name, sizeof(name));
    return found;
}

static int check_policy(const char *password, size_t len, const char *lower, uint32_t *cp, const char *user_name,
                        struct sifa_error *err)
{
    size_t chars = 0;
    bool valid = true;
    for (size_t i = 0; i < len;) {
        size_t n = sifa_utf8_decode((const unsigned char *)password + i, len - i, &cp[chars]);
        if (n == 0 || cp[chars] < 0x20 || cp[chars] == 0x7f)
            valid = false;
        i += n == 0 ? 1 : n;
        chars++;
    }
    if (chars < SIFA_PASSWORD_MIN_CHARS)
        return sifa_error_set(err, SIFA_EINVALID, "password_too_short", "密码至少需要 %d 个字符",
                              SIFA_PASSWORD_MIN_CHARS);
    if (!valid)
        return sifa_error_set(err, SIFA_EINVALID, "password_encoding", "密码含有无效的字符编码或控制字符");
    if (is_periodic(cp, chars) || is_step_run(cp, chars) || is_keyboard_walk(lower, len))
        return sifa_error_set(err, SIFA_EINVALID, "password_trivial",
                              "密码过于简单：不能是重复的字符或连续的数字、字母、键盘序列");
    if (sifa_password_is_common(password))
        return sifa_error_set(err, SIFA_EINVALID, "password_common", "密码过于常见，容易被猜中，请换一个");
    if (contains_name(lower, len, user_name))
        return sifa_error_set(err, SIFA_EINVALID, "password_contains_name", "密码不能包含用户名");
    return 0;
}

int sifa_password_check_policy(const char *password, const char *user_name, struct sifa_error *err)
{
    size_t len = strnlen(password, SIFA_PASSWORD_MAX_BYTES + 1);
    if (len > SIFA_PASSWORD_MAX_BYTES)
        return sifa_error_set(err, SIFA_EINVALID, "password_too_long", "密码不能超过 %d 个字节（约 %d 个汉字）",
                              SIFA_PASSWORD_MAX_BYTES, SIFA_PASSWORD_MAX_BYTES / 3);
    char lower[SIFA_PASSWORD_MAX_BYTES + 1];
    uint32_t cp[SIFA_PASSWORD_MAX_BYTES];
    for (size_t i = 0; i < len; i++)
        lower[i] = ascii_lower(password[i]);
    lower[len] = '\0';
    int r = check_policy(password, len, lower, cp, user_name, err);
    sodium_memzero(lower, sizeof(lower));
    sodium_memzero(cp, sizeof(cp));
    return r;
}

/* ---- hashing ---- */

static int hash_with_cost(const char *password, size_t len, bool minimal, char out[crypto_pwhash_STRBYTES])
{
    if (sodium_init() < 0)
        return -1;
    return crypto_pwhash_str(out, password, len, cost_ops(minimal), cost_mem(minimal));
}

int sifa_password_hash(const char *password, char ret_hash[SIFA_PASSWORD_HASH_MAX], struct sifa_error *err)
{
    size_t len = strnlen(password, SIFA_PASSWORD_MAX_BYTES + 1);
    if (len > SIFA_PASSWORD_MAX_BYTES)
        return sifa_error_set(err, SIFA_EINVALID, "password_too_long", "密码不能超过 %d 个字节",
                              SIFA_PASSWORD_MAX_BYTES);
    char out[crypto_pwhash_STRBYTES];
    if (hash_with_cost(password, len, atomic_load(&minimal_cost), out) != 0)
        return sifa_error_set(err, SIFA_EINTERNAL, "password_hash_failed", "密码加密失败（内存不足）");
    memcpy(ret_hash, out, sizeof(out));
    return 0;
}

/* The dummy hash for unknown accounts, one per cost so the dummy takes as long as a real
 * verification at the same cost. If computing it fails (out of memory) it stays empty and
 * verification fails fast: a degraded timing guarantee, not a wrong answer. */
static char dummy_hash[2][crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once[2] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};

static void dummy_make(bool minimal)
{
    static const char pw[] = "sifa: no such account";
    char out[crypto_pwhash_STRBYTES];
    if (hash_with_cost(pw, sizeof(pw) - 1, minimal, out) == 0)
        memcpy(dummy_hash[minimal], out, sizeof(out));
}

static void dummy_make_default(void)
{
    dummy_make(false);
}

static void dummy_make_minimal(void)
{
    dummy_make(true);
}

static const char *dummy_get(void)
{
    bool minimal = atomic_load(&minimal_cost);
    pthread_once(&dummy_once[minimal], minimal ? dummy_make_minimal : dummy_make_default);
    return dummy_hash[minimal];
}

int sifa_password_verify(const char *stored_hash_or_null, const char *password)
{
    if (sodium_init() < 0)
        return SIFA_EDENIED;
    const char *hash = stored_hash_or_null;
    bool real = hash != NULL && strnlen(hash, crypto_pwhash_STRBYTES) < crypto_pwhash_STRBYTES &&
                strncmp(hash, crypto_pwhash_STRPREFIX, strlen(crypto_pwhash_STRPREFIX)) == 0;
    if (!real)
        hash = dummy_get();
    int r = crypto_pwhash_str_verify(hash, password, strlen(password));
    return real && r == 0 ? 0 : SIFA_EDENIED;
}

bool sifa_password_needs_rehash(const char *hash)
{
    if (sodium_init() < 0 || strnlen(hash, crypto_pwhash_STRBYTES) >= crypto_pwhash_STRBYTES)
        return true;
    bool minimal = atomic_load(&minimal_cost);
    return crypto_pwhash_str_needs_rehash(hash, cost_ops(minimal), cost_mem(minimal)) != 0;
}
