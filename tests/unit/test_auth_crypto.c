/* test_auth_crypto.c — unit tests for the crypto half of src/auth/: the password policy (every
 * code, characters counted as UTF-8, the common list sorted and found), argon2id hashing at the
 * minimal test cost (round trip, wrong password, unknown account, rehash), tokens (unique, valid,
 * stable hash, comparison), key files (created 0600, loaded, refused when too open or malformed
 * with the line number, rotated atomically), encryption of personal data (round trip with
 * Chinese text and NULs, tampering, unknown keys, rotation, re-encryption), blind indexes, and
 * display masks with exact outputs, small buffers and malformed UTF-8. Files live in a mkdtemp
 * directory removed at the end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/password.h"
#include "auth/personal.h"
#include "auth/secret.h"

/* ---- helpers ---- */

static void expect_code(int rc, struct sifa_error *err, int status, const char *code)
{
    assert_int_equal(rc, status);
    assert_int_equal(err->status, status);
    assert_string_equal(err->code, code);
    assert_true(strlen(err->message) > 0);
    json_t *msg = json_string(err->message); /* valid UTF-8 */
    assert_non_null(msg);
    json_decref(msg);
    sifa_error_release(err);
}

static void policy_fails(const char *password, const char *user, const char *code)
{
    struct sifa_error err = {0};
    int rc = sifa_password_check_policy(password, user, &err);
    if (rc != SIFA_EINVALID || strcmp(err.code, code) != 0)
        fail_msg("policy for \"%s\": rc %d code %s, expected %s", password, rc, err.code, code);
    expect_code(rc, &err, SIFA_EINVALID, code);
}

static void policy_passes(const char *password, const char *user)
{
    struct sifa_error err = {0};
    int rc = sifa_password_check_policy(password, user, &err);
    if (rc != 0)
        fail_msg("policy for \"%s\": rc %d code %s", password, rc, err.code);
    assert_int_equal(err.status, 0);
}

struct dir {
    char path[64];
};

static void dir_make(struct dir *d)
{
    snprintf(d->path, sizeof(d->path), "/tmp/sifa-auth-XXXXXX");
    assert_non_null(mkdtemp(d->path));
}

static void dir_remove(struct dir *d)
{
    DIR *dh = opendir(d->path);
    assert_non_null(dh);
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", d->path, e->d_name);
        assert_int_equal(unlink(p), 0);
    }
    closedir(dh);
    assert_int_equal(rmdir(d->path), 0);
}

static void file_in(const struct dir *d, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", d->path, name);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 70000);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 69999, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static struct sifa_keyring *load_ok(const char *path)
{
    struct sifa_keyring *kr = NULL;
    struct sifa_error err = {0};
    int rc = sifa_keyring_load(path, &kr, &err);
    if (rc != 0)
        fail_msg("load %s: %d %s %s", path, rc, err.code, err.message);
    assert_non_null(kr);
    return kr;
}

static struct sifa_keyring *new_keyring(const struct dir *d, const char *name)
{
    char path[256];
    file_in(d, name, path, sizeof(path));
    struct sifa_error err = {0};
    assert_int_equal(sifa_keyring_create_file(path, &err), 0);
    return load_ok(path);
}

static char *encrypt_str(const struct sifa_keyring *kr, const char *plain)
{
    char *text = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_personal_encrypt(kr, plain, strlen(plain), &text, &err), 0);
    assert_non_null(text);
    return text;
}

static void decrypts_to(const struct sifa_keyring *kr, const char *text, const char *plain)
{
    char *out = NULL;
    size_t len = 0;
    struct sifa_error err = {0};
    int rc = sifa_personal_decrypt(kr, text, &out, &len, &err);
    if (rc != 0)
        fail_msg("decrypt: %d %s", rc, err.code);
    assert_int_equal(len, strlen(plain));
    assert_string_equal(out, plain);
    free(out);
}

static const char KEY_A[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
static const char KEY_B[] = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=";

/* ---- password policy ---- */

static void test_policy_length(void **state)
{
    (void)state;
    policy_fails("", NULL, "password_too_short");
    policy_fails("Xk9#mP2$q", NULL, "password_too_short");  /* 9 bytes */
    policy_fails("司法局安全密码", NULL, "password_too_short"); /* 21 bytes, 7 characters */
    policy_passes("司法局的安全密码真长", NULL); /* 30 bytes, 10 characters */
    char long_pw[200];
    memset(long_pw, 'a', 129);
    memcpy(long_pw, "Zq8!", 4);
    long_pw[129] = '\0';
    policy_fails(long_pw, NULL, "password_too_long");
    long_pw[128] = '\0';
    policy_passes(long_pw, NULL); /* exactly 128 bytes */
    /* 43 Chinese characters are 129 bytes: too long although well under 128 characters. */
    char zh[200] = "";
    for (int i = 0; i < 43; i++)
        memcpy(zh + 3 * i, i % 2 ? "司" : "法", 4);
    policy_fails(zh, NULL, "password_too_long");
}

static void test_policy_chinese_passes(void **state)
{
    (void)state;
    policy_passes("司法局的安全密码很长啊", NULL);
    policy_passes("Xk9#mP2$qL", NULL); /* exactly 10 ASCII characters */
    policy_passes("我的密码是Tz7!k", "zhangsan");
    policy_passes("correct horse battery staple", "admin");
}

static void test_policy_encoding(void **state)
{
    (void)state;
    policy_fails("abc\xff\xfe" "defghijk", NULL, "password_encoding");
    policy_fails("abcdefghi\xe5\x8f", NULL, "password_encoding"); /* truncated 司 */
    policy_fails("\xc0\xafxyzw12345", NULL, "password_encoding"); /* overlong '/' */
    policy_fails("tab\there12345", NULL, "password_encoding");
}

static void test_policy_trivial(void **state)
{
    (void)state;
    static const char *const trivial[] = {
        "aaaaaaaaaaaa", "AAAAAAAAAA", "密密密密密密密密密密", "1212121212", "abcabcabcabc", "abcdabcdab",
        "abcdefghij", "ABCDEFGHIJKL", "jihgfedcba", "2345678901", "9876543210", "0987654321",
        "poiuytrewq", "QWERTYUIOP", "asdfghjkl;'", "zxcvbnm,./", "!@#$%^&*()", "7890-=qwer",
    };
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(trivial); i++)
        policy_fails(trivial[i], NULL, "password_trivial");
}

static void test_policy_common(void **state)
{
    (void)state;
    static const char *const common[] = {
        "woaini1314", "Password123", "1qaz2wsx3edc", "zhang123456", "WANG123456", "li12345678",
        "Aa123456789", "5201314520", "administrator", "1234qwer!@#$", "woaiwojia", "iloveyou123",
    };
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(common); i++)
        if (strlen(common[i]) >= 10)
            policy_fails(common[i], NULL, "password_common");
    assert_true(sifa_password_is_common("WoAiWoJia123"));
    policy_fails("woaini520", NULL, "password_too_short"); /* common, but refused by length first */
    assert_false(sifa_password_is_common("Xk9#mP2$qL"));
}

static void test_common_list_sorted(void **state)
{
    (void)state;
    size_t n = 0;
    const char *const *list = sifa_password_common_list(&n);
    assert_true(n >= 300);
    for (size_t i = 0; i < n; i++) {
        assert_true(strlen(list[i]) >= 10);
        for (const char *p = list[i]; *p; p++)
            assert_false(*p >= 'A' && *p <= 'Z');
        if (i > 0 && strcmp(list[i - 1], list[i]) >= 0)
            fail_msg("common list out of order at %zu: %s, %s", i, list[i - 1], list[i]);
        assert_true(sifa_password_is_common(list[i]));
    }
}

static void test_policy_contains_name(void **state)
{
    (void)state;
    policy_fails("Zhangsan!2024x", "zhangsan", "password_contains_name");
    policy_fails("x9!ZHANGSAN#q", "ZhangSan", "password_contains_name");
    policy_fails("我叫李四四四号Tz7!", "李四四", "password_contains_name");
    policy_passes("Xk9#liP2$qL", "li");   /* name shorter than 3 characters: not checked */
    policy_passes("x李四Tz7!k#wq", "李四"); /* 2 characters (6 bytes) */
    policy_passes("Xk9#mP2$qL", NULL);
    policy_passes("Xk9#mP2$qL", "");
}

/* ---- password hashing ---- */

static void test_hash_verify(void **state)
{
    (void)state;
    sifa_password_set_cost(true);
    char hash[SIFA_PASSWORD_HASH_MAX];
    char hash2[SIFA_PASSWORD_HASH_MAX];
    struct sifa_error err = {0};
    assert_int_equal(sifa_password_hash("司法局的安全密码很长啊", hash, &err), 0);
    assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
    assert_int_equal(sifa_password_verify(hash, "司法局的安全密码很长啊"), 0);
    assert_int_equal(sifa_password_verify(hash, "司法局的安全密码很长"), SIFA_EDENIED);
    assert_int_equal(sifa_password_verify(hash, ""), SIFA_EDENIED);
    /* Fresh salt: the same password hashes differently, both verify. */
    assert_int_equal(sifa_password_hash("司法局的安全密码很长啊", hash2, &err), 0);
    assert_string_not_equal(hash, hash2);
    assert_int_equal(sifa_password_verify(hash2, "司法局的安全密码很长啊"), 0);

    /* Unknown account and non-hash placeholders: denied, after a full dummy verification. */
    assert_int_equal(sifa_password_verify(NULL, "司法局的安全密码很长啊"), SIFA_EDENIED);
    assert_int_equal(sifa_password_verify(NULL, "sifa: no such account"), SIFA_EDENIED);
    assert_int_equal(sifa_password_verify("!locked", "anything"), SIFA_EDENIED);
    assert_int_equal(sifa_password_verify("", ""), SIFA_EDENIED);

    char long_pw[200];
    memset(long_pw, 'x', 129);
    long_pw[129] = '\0';
    memset(hash2, 0x5a, sizeof(hash2));
    expect_code(sifa_password_hash(long_pw, hash2, &err), &err, SIFA_EINVALID, "password_too_long");
    assert_int_equal((unsigned char)hash2[0], 0x5a); /* untouched */
}

static void test_needs_rehash(void **state)
{
    (void)state;
    sifa_password_set_cost(true);
    char hash[SIFA_PASSWORD_HASH_MAX];
    assert_int_equal(sifa_password_hash("Xk9#mP2$qLz", hash, NULL), 0);
    assert_false(sifa_password_needs_rehash(hash));
    assert_true(sifa_password_needs_rehash("not a hash"));
    assert_true(sifa_password_needs_rehash(""));
    /* Hashed at the test cost, so the default cost wants a rehash (checked without hashing). */
    sifa_password_set_cost(false);
    assert_true(sifa_password_needs_rehash(hash));
    sifa_password_set_cost(true);
}

/* ---- tokens ---- */

static void test_tokens(void **state)
{
    (void)state;
    char a[SIFA_TOKEN_TEXT], b[SIFA_TOKEN_TEXT];
    sifa_token_new(a);
    sifa_token_new(b);
    assert_int_equal(strlen(a), 43);
    assert_true(sifa_token_valid_text(a));
    assert_true(sifa_token_valid_text(b));
    assert_string_not_equal(a, b);
    assert_true(sifa_token_equal(a, a));
    assert_false(sifa_token_equal(a, b));
    assert_false(sifa_token_equal(a, "short"));
    assert_false(sifa_token_equal(NULL, a));
    assert_false(sifa_token_equal(a, NULL));

    char h1[SIFA_TOKEN_HASH_HEX], h2[SIFA_TOKEN_HASH_HEX], h3[SIFA_TOKEN_HASH_HEX];
    sifa_token_hash(a, h1);
    sifa_token_hash(a, h2);
    sifa_token_hash(b, h3);
    assert_int_equal(strlen(h1), 64);
    assert_string_equal(h1, h2);
    assert_string_not_equal(h1, h3);
    /* BLAKE2b-256 of "abc", from RFC 7693's reference implementation. */
    sifa_token_hash("abc", h1);
    assert_string_equal(h1, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");

    /* 100 tokens, all distinct. */
    char many[100][SIFA_TOKEN_TEXT];
    for (int i = 0; i < 100; i++) {
        sifa_token_new(many[i]);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(many[i], many[j]);
    }
}

static void test_token_valid_text(void **state)
{
    (void)state;
    assert_true(sifa_token_valid_text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_"));
    assert_false(sifa_token_valid_text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-"));   /* 42 */
    assert_false(sifa_token_valid_text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_a")); /* 44 */
    assert_false(sifa_token_valid_text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO+/"));
    assert_false(sifa_token_valid_text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO=="));
    assert_false(sifa_token_valid_text(""));
    assert_false(sifa_token_valid_text(NULL));
}

/* ---- key files ---- */

static void test_keyring_create_load(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    char path[256];
    file_in(&d, "keys", path, sizeof(path));
    struct sifa_error err = {0};
    mode_t old = umask(0);
    assert_int_equal(sifa_keyring_create_file(path, &err), 0);
    umask(old);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *text = read_text(path);
    assert_non_null(strstr(text, "\nindex "));
    assert_non_null(strstr(text, "\naudit "));
    assert_non_null(strstr(text, "\nkey 1 "));
    free(text);

    expect_code(sifa_keyring_create_file(path, &err), &err, SIFA_ECONFLICT, "key_exists");

    struct sifa_keyring *kr = load_ok(path);
    assert_int_equal(sifa_keyring_current_id(kr), 1);
    const unsigned char *audit = sifa_keyring_audit_key(kr);
    assert_non_null(audit);
    unsigned char zero[32] = {0};
    assert_memory_not_equal(audit, zero, 32);
    sifa_keyring_free(kr);
    sifa_keyring_free(NULL);

    char missing[256];
    file_in(&d, "nope", missing, sizeof(missing));
    struct sifa_keyring *kr2 = (struct sifa_keyring *)&d; /* must stay untouched */
    expect_code(sifa_keyring_load(missing, &kr2, &err), &err, SIFA_ENOTFOUND, "key_file_missing");
    assert_ptr_equal(kr2, (struct sifa_keyring *)&d);
    dir_remove(&d);
}

static void test_keyring_permissions(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    char path[256];
    file_in(&d, "keys", path, sizeof(path));
    struct sifa_error err = {0};
    assert_int_equal(sifa_keyring_create_file(path, &err), 0);
    struct sifa_keyring *kr = NULL;
    assert_int_equal(chmod(path, 0644), 0);
    expect_code(sifa_keyring_load(path, &kr, &err), &err, SIFA_EINVALID, "key_permissions");
    assert_int_equal(chmod(path, 0640), 0);
    expect_code(sifa_keyring_load(path, &kr, &err), &err, SIFA_EINVALID, "key_permissions");
    assert_int_equal(chmod(path, 0602), 0);
    expect_code(sifa_keyring_load(path, &kr, &err), &err, SIFA_EINVALID, "key_permissions");
    expect_code(sifa_keyring_rotate_file(path, &err), &err, SIFA_EINVALID, "key_permissions");
    assert_null(kr);
    assert_int_equal(chmod(path, 0400), 0);
    sifa_keyring_free(load_ok(path));

    char link[256];
    file_in(&d, "link", link, sizeof(link));
    assert_int_equal(symlink(path, link), 0);
    expect_code(sifa_keyring_load(link, &kr, &err), &err, SIFA_EINVALID, "key_permissions");
    expect_code(sifa_keyring_create_file(link, &err), &err, SIFA_ECONFLICT, "key_exists");
    dir_remove(&d);
}

static void expect_syntax(const char *path, const char *text, json_int_t line)
{
    write_text(path, text, 0600);
    struct sifa_keyring *kr = NULL;
    struct sifa_error err = {0};
    int rc = sifa_keyring_load(path, &kr, &err);
    assert_null(kr);
    if (rc != SIFA_EINVALID || strcmp(err.code, "key_file_syntax") != 0)
        fail_msg("expected key_file_syntax, got %d %s for:\n%s", rc, err.code, text);
    if (line > 0) {
        assert_non_null(err.details);
        assert_int_equal(json_integer_value(json_object_get(err.details, "line")), line);
        char want[32];
        snprintf(want, sizeof(want), "第 %d 行", (int)line);
        assert_non_null(strstr(err.message, want));
    }
    expect_code(rc, &err, SIFA_EINVALID, "key_file_syntax");
}

static void test_keyring_syntax(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    char path[256], text[1024];
    file_in(&d, "keys", path, sizeof(path));

    /* A hand-written valid file: comments, blank lines, CRLF, tabs, id gaps. */
    snprintf(text, sizeof(text), "# comment\r\n\nindex %s\r\naudit\t%s\nkey 1 %s\n  key 3 %s  \n", KEY_A, KEY_B,
             KEY_A, KEY_B);
    write_text(path, text, 0600);
    struct sifa_keyring *kr = load_ok(path);
    assert_int_equal(sifa_keyring_current_id(kr), 3);
    sifa_keyring_free(kr);

    snprintf(text, sizeof(text), "index %s\naudit %s\nkey 1 %s\nkye 2 %s\n", KEY_A, KEY_B, KEY_A, KEY_B);
    expect_syntax(path, text, 4);
    snprintf(text, sizeof(text), "index %s\naudit %s\n\nkey 1 %s=\n", KEY_A, KEY_B, KEY_A);
    expect_syntax(path, text, 4); /* 45 characters */
    snprintf(text, sizeof(text), "index %s\naudit %s\nkey 1 %.43s\n", KEY_A, KEY_B, KEY_A);
    expect_syntax(path, text, 3); /* 43 characters */
    snprintf(text, sizeof(text), "index %s\naudit %s\nkey 1 %.42s==\n", KEY_A, KEY_B, KEY_A);
    expect_syntax(path, text, 3); /* 31 bytes */
    snprintf(text, sizeof(text), "index %s\naudit %s\nkey 0 %s\n", KEY_A, KEY_B, KEY_A);
    expect_syntax(path, text, 3);
    snprintf(text, sizeof(text), "index %s\naudit %s\nkey 01 %s\n", KEY_A, KEY_B, KEY_A);
    expect_syntax(path, text, 3);
    snprintf(text, sizeof(text), "index %s\naudit %s\nkey -1 %s\n", KEY_A, KEY_B, KEY_A);
    expect_syntax(path, text, 3);
    snprintf(text, sizeof(text), "index %s\naudit %s\nkey 2 %s\nkey 2 %s\n", KEY_A, KEY_B, KEY_A, KEY_B);
    expect_syntax(path, text, 4);
    snprintf(text, sizeof(text), "index %s\naudit %s\nkey 2 %s\nkey 1 %s\n", KEY_A, KEY_B, KEY_A, KEY_B);
    expect_syntax(path, text, 4);
    snprintf(text, sizeof(text), "index %s\naudit %s\nkey 1\n", KEY_A, KEY_B);
    expect_syntax(path, text, 3);
    snprintf(text, sizeof(text), "index %s\naudit %s\nkey 1 %s extra\n", KEY_A, KEY_B, KEY_A);
    expect_syntax(path, text, 3);
    snprintf(text, sizeof(text), "index %s\nindex %s\naudit %s\nkey 1 %s\n", KEY_A, KEY_A, KEY_B, KEY_A);
    expect_syntax(path, text, 2);
    snprintf(text, sizeof(text), "index %s\naudit %s\nkey 1 %s\nkey 9999999999 %s\n", KEY_A, KEY_B, KEY_A, KEY_B);
    expect_syntax(path, text, 4);
    snprintf(text, sizeof(text), "index %s\naudit %s\nkey 1 %s\x01\n", KEY_A, KEY_B, KEY_A);
    expect_syntax(path, text, 3);
    /* Missing entries: no line to blame. */
    snprintf(text, sizeof(text), "audit %s\nkey 1 %s\n", KEY_B, KEY_A);
    expect_syntax(path, text, 0);
    snprintf(text, sizeof(text), "index %s\nkey 1 %s\n", KEY_B, KEY_A);
    expect_syntax(path, text, 0);
    snprintf(text, sizeof(text), "index %s\naudit %s\n", KEY_A, KEY_B);
    expect_syntax(path, text, 0);
    expect_syntax(path, "", 0);

    /* Over the size limit. */
    char *big = malloc(SIFA_KEYRING_MAX_FILE + 100);
    assert_non_null(big);
    memset(big, '#', SIFA_KEYRING_MAX_FILE + 99);
    big[SIFA_KEYRING_MAX_FILE + 99] = '\0';
    write_text(path, big, 0600);
    free(big);
    struct sifa_error err = {0};
    expect_code(sifa_keyring_load(path, &kr, &err), &err, SIFA_ELIMIT, "key_file_too_large");
    dir_remove(&d);
}

/* ---- encryption ---- */

static const char ZH_TEXT[] = "张三，身份证号330282199001011234，住浙江省宁波市海曙区中山西路1号；2019年因盗窃罪判处有期徒刑一年。";

static void test_encrypt_round_trip(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    struct sifa_keyring *kr = new_keyring(&d, "keys");
    char *t1 = encrypt_str(kr, ZH_TEXT);
    char *t2 = encrypt_str(kr, ZH_TEXT);
    assert_int_equal(strncmp(t1, "pd1:1:", 6), 0);
    assert_string_not_equal(t1, t2); /* random nonce */
    assert_null(strstr(t1, "张三"));
    decrypts_to(kr, t1, ZH_TEXT);
    decrypts_to(kr, t2, ZH_TEXT);
    assert_true(sifa_personal_is_encrypted(t1));
    assert_int_equal(sifa_personal_key_id(t1), 1);

    /* Empty value, and bytes with NULs. */
    char *e = NULL;
    assert_int_equal(sifa_personal_encrypt(kr, NULL, 0, &e, NULL), 0);
    decrypts_to(kr, e, "");
    static const char bin[] = {'a', 0, 'b', 0};
    char *tb = NULL;
    assert_int_equal(sifa_personal_encrypt(kr, bin, sizeof(bin), &tb, NULL), 0);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(sifa_personal_decrypt(kr, tb, &out, &len, NULL), 0);
    assert_int_equal(len, sizeof(bin));
    assert_memory_equal(out, bin, sizeof(bin));
    assert_int_equal(out[len], '\0');
    free(out);

    /* ret_len may be NULL. */
    assert_int_equal(sifa_personal_decrypt(kr, t1, &out, NULL, NULL), 0);
    assert_string_equal(out, ZH_TEXT);
    free(out);

    /* Too long. */
    struct sifa_error err = {0};
    char *huge = calloc(1, SIFA_PERSONAL_MAX_PLAIN + 1);
    assert_non_null(huge);
    char *never = (char *)&d;
    expect_code(sifa_personal_encrypt(kr, huge, SIFA_PERSONAL_MAX_PLAIN + 1, &never, &err), &err, SIFA_ELIMIT,
                "personal_too_long");
    assert_ptr_equal(never, (char *)&d);
    free(huge);

    /* A second key file cannot read the first one's values. */
    struct sifa_keyring *other = new_keyring(&d, "other");
    expect_code(sifa_personal_decrypt(other, t1, &out, &len, &err), &err, SIFA_EINVALID, "personal_corrupt");

    free(t1);
    free(t2);
    free(e);
    free(tb);
    sifa_keyring_free(kr);
    sifa_keyring_free(other);
    dir_remove(&d);
}

static void expect_corrupt(const struct sifa_keyring *kr, const char *text)
{
    char *out = (char *)kr;
    size_t len = 12345;
    struct sifa_error err = {0};
    int rc = sifa_personal_decrypt(kr, text, &out, &len, &err);
    if (rc != SIFA_EINVALID)
        fail_msg("decrypt of \"%s\" gave %d %s", text, rc, err.code);
    expect_code(rc, &err, SIFA_EINVALID, "personal_corrupt");
    assert_ptr_equal(out, (char *)kr);
    assert_int_equal(len, 12345);
}

static void test_decrypt_tampered(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    struct sifa_keyring *kr = new_keyring(&d, "keys");
    char *t = encrypt_str(kr, "李四 13800138000");
    size_t n = strlen(t);

    /* Every character of the payload changed in turn (except the last, whose low bits base64 may
     * ignore): always refused. */
    for (size_t i = 6; i + 1 < n; i++) {
        char saved = t[i];
        t[i] = saved == 'A' ? 'B' : 'A';
        expect_corrupt(kr, t);
        t[i] = saved;
    }
    decrypts_to(kr, t, "李四 13800138000");

    /* Moved to another key id or version, truncated, extended, garbled. */
    char buf[512];
    snprintf(buf, sizeof(buf), "pd2:%s", t + 4);
    expect_corrupt(kr, buf);
    snprintf(buf, sizeof(buf), "%.*s", (int)(n - 1), t);
    expect_corrupt(kr, buf);
    snprintf(buf, sizeof(buf), "%sA", t);
    expect_corrupt(kr, buf);
    snprintf(buf, sizeof(buf), "%s=", t);
    expect_corrupt(kr, buf);
    snprintf(buf, sizeof(buf), "pd1:01:%s", t + 6);
    expect_corrupt(kr, buf);
    expect_corrupt(kr, "");
    expect_corrupt(kr, "pd1:");
    expect_corrupt(kr, "pd1:1");
    expect_corrupt(kr, "pd1:1:");
    expect_corrupt(kr, "pd1:1:AAAA");
    expect_corrupt(kr, "pd1::AAAA");
    expect_corrupt(kr, "pd1:x:AAAA");
    expect_corrupt(kr, "pd1:1:!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    expect_corrupt(kr, "张三");
    assert_false(sifa_personal_is_encrypted("张三"));
    assert_false(sifa_personal_is_encrypted(NULL));
    assert_false(sifa_personal_is_encrypted("pd1:1"));
    assert_false(sifa_personal_is_encrypted("pd1:1234567890:x"));
    assert_true(sifa_personal_is_encrypted("pd1:12:"));
    assert_int_equal(sifa_personal_key_id("pd1:12:abc"), 12);
    assert_int_equal(sifa_personal_key_id("pd1:0:abc"), -1);
    assert_int_equal(sifa_personal_key_id(NULL), -1);

    /* An id this keyring does not have. */
    snprintf(buf, sizeof(buf), "pd1:7:%s", t + 6);
    struct sifa_error err = {0};
    char *out = NULL;
    expect_code(sifa_personal_decrypt(kr, buf, &out, NULL, &err), &err, SIFA_ENOTFOUND, "personal_unknown_key");
    assert_null(out);
    free(t);
    sifa_keyring_free(kr);
    dir_remove(&d);
}

static void test_rotate(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    char path[256];
    file_in(&d, "keys", path, sizeof(path));
    struct sifa_error err = {0};
    assert_int_equal(sifa_keyring_create_file(path, &err), 0);
    struct sifa_keyring *k1 = load_ok(path);
    char *old = encrypt_str(k1, "王五");
    char idx1[SIFA_BLIND_INDEX_HEX];
    sifa_personal_blind_index(k1, "person.id_number", "330282199001011234", 18, idx1);
    char audit1[32];
    memcpy(audit1, sifa_keyring_audit_key(k1), 32);
    char *before = read_text(path);

    assert_int_equal(sifa_keyring_rotate_file(path, &err), 2);
    assert_int_equal(sifa_keyring_rotate_file(path, &err), 3);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *after = read_text(path);
    assert_int_equal(strncmp(before, after, strlen(before)), 0); /* old lines kept as they were */
    assert_non_null(strstr(after, "\nkey 3 "));
    free(before);
    free(after);

    struct sifa_keyring *k3 = load_ok(path);
    assert_int_equal(sifa_keyring_current_id(k3), 3);
    decrypts_to(k3, old, "王五");
    char *fresh = encrypt_str(k3, "王五");
    assert_int_equal(sifa_personal_key_id(fresh), 3);
    assert_int_equal(strncmp(fresh, "pd1:3:", 6), 0);
    /* The old keyring does not know key 3. */
    char *out = NULL;
    expect_code(sifa_personal_decrypt(k1, fresh, &out, NULL, &err), &err, SIFA_ENOTFOUND, "personal_unknown_key");

    /* Re-encryption moves values to the current key. */
    char *moved = NULL;
    assert_int_equal(sifa_personal_reencrypt(k3, old, &moved, &err), 1);
    assert_int_equal(sifa_personal_key_id(moved), 3);
    decrypts_to(k3, moved, "王五");
    char *again = NULL;
    assert_int_equal(sifa_personal_reencrypt(k3, moved, &again, &err), 0);
    assert_string_not_equal(again, moved);
    decrypts_to(k3, again, "王五");
    char *never = (char *)&d;
    expect_code(sifa_personal_reencrypt(k3, "pd1:1:AAAA", &never, &err), &err, SIFA_EINVALID, "personal_corrupt");
    assert_ptr_equal(never, (char *)&d);

    /* Index and audit keys are never rotated. */
    char idx3[SIFA_BLIND_INDEX_HEX];
    sifa_personal_blind_index(k3, "person.id_number", "330282199001011234", 18, idx3);
    assert_string_equal(idx1, idx3);
    assert_memory_equal(audit1, sifa_keyring_audit_key(k3), 32);

    /* No temporary files left behind. */
    DIR *dh = opendir(d.path);
    int files = 0;
    for (struct dirent *e; (e = readdir(dh)) != NULL;)
        files += e->d_name[0] != '.';
    closedir(dh);
    assert_int_equal(files, 1);

    /* Rotating a missing file. */
    char missing[256];
    file_in(&d, "none", missing, sizeof(missing));
    expect_code(sifa_keyring_rotate_file(missing, &err), &err, SIFA_ENOTFOUND, "key_file_missing");

    free(old);
    free(fresh);
    free(moved);
    free(again);
    sifa_keyring_free(k1);
    sifa_keyring_free(k3);
    dir_remove(&d);
}

static void test_retire(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    char path[256];
    file_in(&d, "keys", path, sizeof(path));
    struct sifa_error err = {0};
    assert_int_equal(sifa_keyring_create_file(path, &err), 0);
    assert_int_equal(sifa_keyring_rotate_file(path, &err), 2);
    assert_int_equal(sifa_keyring_rotate_file(path, &err), 3);
    struct sifa_keyring *k3 = load_ok(path);
    char *under2 = NULL;
    {
        /* A value under key 2 (the current key of a keyring loaded before the third rotation). */
        char *text = read_text(path);
        char *cut = strstr(text, "\nkey 3 ");
        assert_non_null(cut);
        cut[1] = '\0';
        char two[256];
        file_in(&d, "two", two, sizeof(two));
        write_text(two, text, 0600);
        struct sifa_keyring *k2 = load_ok(two);
        under2 = encrypt_str(k2, "赵六");
        sifa_keyring_free(k2);
        free(text);
    }
    char *before = read_text(path);

    /* The current key and unknown keys are refused, and the file is left as it was. */
    int cur[] = {3}, unknown[] = {1, 9};
    expect_code(sifa_keyring_retire_file(path, cur, 1, &err), &err, SIFA_ECONFLICT, "key_current");
    expect_code(sifa_keyring_retire_file(path, unknown, 2, &err), &err, SIFA_ENOTFOUND, "key_not_found");
    char *same = read_text(path);
    assert_string_equal(before, same);
    free(same);

    int old[] = {1};
    assert_int_equal(sifa_keyring_retire_file(path, old, 1, &err), 1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *after = read_text(path);
    assert_null(strstr(after, "\nkey 1 "));
    assert_non_null(strstr(after, "\nkey 2 "));
    assert_non_null(strstr(after, "\nkey 3 "));
    assert_non_null(strstr(after, "\nindex "));
    assert_non_null(strstr(after, "\naudit "));
    assert_non_null(strstr(after, "# sifa personal-data keys")); /* comments kept */
    free(after);

    struct sifa_keyring *k = load_ok(path);
    const int *ids;
    assert_int_equal(sifa_keyring_key_ids(k, &ids), 2);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 3);
    assert_int_equal(sifa_keyring_current_id(k), 3);
    decrypts_to(k, under2, "赵六");
    /* A value under the retired key no longer opens: why retiring must wait for reencrypt. */
    char *under1 = NULL;
    {
        char *text = before;
        char *cut = strstr(text, "\nkey 2 ");
        cut[1] = '\0';
        char one[256];
        file_in(&d, "one", one, sizeof(one));
        write_text(one, text, 0600);
        struct sifa_keyring *k1 = load_ok(one);
        under1 = encrypt_str(k1, "钱七");
        sifa_keyring_free(k1);
    }
    char *out = NULL;
    expect_code(sifa_personal_decrypt(k, under1, &out, NULL, &err), &err, SIFA_ENOTFOUND, "personal_unknown_key");
    decrypts_to(k3, under1, "钱七");

    free(before);
    free(under1);
    free(under2);
    sifa_keyring_free(k);
    sifa_keyring_free(k3);
    sifa_error_release(&err);
    dir_remove(&d);
}

static void test_blind_index(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    struct sifa_keyring *a = new_keyring(&d, "a");
    struct sifa_keyring *b = new_keyring(&d, "b");
    char h1[SIFA_BLIND_INDEX_HEX], h2[SIFA_BLIND_INDEX_HEX], h3[SIFA_BLIND_INDEX_HEX], h4[SIFA_BLIND_INDEX_HEX];
    const char *v = "张三";
    sifa_personal_blind_index(a, "person.name", v, strlen(v), h1);
    sifa_personal_blind_index(a, "person.name", v, strlen(v), h2);
    assert_int_equal(strlen(h1), 32);
    assert_string_equal(h1, h2);
    sifa_personal_blind_index(a, "person.alias", v, strlen(v), h3);
    assert_string_not_equal(h1, h3);
    sifa_personal_blind_index(b, "person.name", v, strlen(v), h4);
    assert_string_not_equal(h1, h4);
    sifa_personal_blind_index(a, "person.name", "张四", strlen("张四"), h2);
    assert_string_not_equal(h1, h2);
    /* The separator keeps scope and value apart: ("ab", "c") differs from ("a", "bc"). */
    sifa_personal_blind_index(a, "ab", "c", 1, h2);
    sifa_personal_blind_index(a, "a", "bc", 2, h3);
    assert_string_not_equal(h2, h3);
    sifa_personal_blind_index(a, "person.name", NULL, 0, h2);
    assert_int_equal(strlen(h2), 32);

    /* Same file loaded twice: same index (it is deterministic across processes). */
    char path[256];
    file_in(&d, "a", path, sizeof(path));
    struct sifa_keyring *a2 = load_ok(path);
    sifa_personal_blind_index(a2, "person.name", v, strlen(v), h2);
    assert_string_equal(h1, h2);
    sifa_keyring_free(a);
    sifa_keyring_free(a2);
    sifa_keyring_free(b);
    dir_remove(&d);
}

/* ---- masks ---- */

typedef int (*mask_fn)(const char *, size_t, char *, size_t);

/* Runs f on an exact heap copy of in (so ASan sees reads past the end) and checks the output;
 * then checks that every buffer one byte too small is refused with "". */
static void expect_mask(mask_fn f, const char *in, size_t in_len, const char *want)
{
    char *copy = malloc(in_len == 0 ? 1 : in_len);
    assert_non_null(copy);
    memcpy(copy, in, in_len);
    char out[256];
    int rc = f(in_len == 0 ? NULL : copy, in_len, out, sizeof(out));
    if (rc < 0 || strcmp(out, want) != 0)
        fail_msg("mask of \"%.*s\": rc %d \"%s\", expected \"%s\"", (int)in_len, in, rc, rc < 0 ? "" : out, want);
    assert_int_equal(rc, strlen(want));
    json_t *j = json_string(out); /* valid UTF-8 */
    assert_non_null(j);
    json_decref(j);
    char *exact = malloc(strlen(want) + 1);
    assert_non_null(exact);
    assert_int_equal(f(copy, in_len, exact, strlen(want) + 1), rc);
    assert_string_equal(exact, want);
    for (size_t size = 0; size <= strlen(want); size++) {
        char small[256];
        memset(small, 'Z', sizeof(small));
        assert_int_equal(f(copy, in_len, small, size), SIFA_ELIMIT);
        if (size > 0)
            assert_int_equal(small[0], '\0');
        assert_int_equal(small[size], 'Z'); /* nothing written past the buffer */
    }
    free(exact);
    free(copy);
}

#define MASK(f, in, want) expect_mask(f, in, sizeof(in) - 1, want)

static void test_mask_id_number(void **state)
{
    (void)state;
    MASK(sifa_mask_id_number, "330282199001011234", "330282********1234");
    MASK(sifa_mask_id_number, "33028219900101123X", "330282********123X");
    MASK(sifa_mask_id_number, "330282900101123", "330282*****1123");
    MASK(sifa_mask_id_number, "12345", "1****");
    MASK(sifa_mask_id_number, "1", "1");
    MASK(sifa_mask_id_number, "", "");
    MASK(sifa_mask_id_number, "3302821990010112345", "3******************");
    MASK(sifa_mask_id_number, "\xff" "30282199001011234", "?30282********1234");
    MASK(sifa_mask_id_number, "一二三四五六七八九十一二三四五六七八", "一二三四五六********五六七八");
}

static void test_mask_name(void **state)
{
    (void)state;
    MASK(sifa_mask_name, "张三", "张*");
    MASK(sifa_mask_name, "欧阳修", "欧**");
    MASK(sifa_mask_name, "阿依古丽·买买提", "阿*******");
    MASK(sifa_mask_name, "张", "*");
    MASK(sifa_mask_name, "A", "*");
    MASK(sifa_mask_name, "", "");
    MASK(sifa_mask_name, "John Smith", "J*********");
    MASK(sifa_mask_name, "\xe5\xbc", "?*");             /* truncated 张: two bad bytes */
    MASK(sifa_mask_name, "\xe5\xbc\xa0\xe4", "张*");     /* 张 then a stray lead byte */
    MASK(sifa_mask_name, "\xc0\x80x", "?**");           /* overlong NUL */
    MASK(sifa_mask_name, "\xed\xa0\x80", "?**");         /* surrogate */
    expect_mask(sifa_mask_name, "\0abc", 4, "?***");    /* NUL byte */
}

static void test_mask_phone(void **state)
{
    (void)state;
    MASK(sifa_mask_phone, "13800138000", "138****8000");
    MASK(sifa_mask_phone, "+8613800138000", "**********8000");
    MASK(sifa_mask_phone, "0571-88881234", "*********1234");
    MASK(sifa_mask_phone, "12345", "*2345");
    MASK(sifa_mask_phone, "1234", "****");
    MASK(sifa_mask_phone, "", "");
    MASK(sifa_mask_phone, "1380013800a", "*******800a");
    MASK(sifa_mask_phone, "电话一三八零零一三八零零零", "*********八零零零");
}

static void test_mask_text(void **state)
{
    (void)state;
    MASK(sifa_mask_text, "浙江省宁波市海曙区中山西路1号", "浙江省宁波市***");
    MASK(sifa_mask_text, "浙江省宁波市海", "浙江省宁波市***");
    MASK(sifa_mask_text, "浙江省宁波市", "浙江省***");
    MASK(sifa_mask_text, "吸毒", "吸***");
    MASK(sifa_mask_text, "a", "***");
    MASK(sifa_mask_text, "", "");
    MASK(sifa_mask_text, "No. 1 Zhongshan Road", "No. 1 ***");
    MASK(sifa_mask_text, "ab\xff\xfe" "cdefg", "ab??cd***");
}

int main(void)
{
    sifa_password_set_cost(true);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_length),
        cmocka_unit_test(test_policy_chinese_passes),
        cmocka_unit_test(test_policy_encoding),
        cmocka_unit_test(test_policy_trivial),
        cmocka_unit_test(test_policy_common),
        cmocka_unit_test(test_common_list_sorted),
        cmocka_unit_test(test_policy_contains_name),
        cmocka_unit_test(test_hash_verify),
        cmocka_unit_test(test_needs_rehash),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_token_valid_text),
        cmocka_unit_test(test_keyring_create_load),
        cmocka_unit_test(test_keyring_permissions),
        cmocka_unit_test(test_keyring_syntax),
        cmocka_unit_test(test_encrypt_round_trip),
        cmocka_unit_test(test_decrypt_tampered),
        cmocka_unit_test(test_rotate),
        cmocka_unit_test(test_retire),
        cmocka_unit_test(test_blind_index),
        cmocka_unit_test(test_mask_id_number),
        cmocka_unit_test(test_mask_name),
        cmocka_unit_test(test_mask_phone),
        cmocka_unit_test(test_mask_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
