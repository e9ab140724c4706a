/* fuzz_personal.c — libFuzzer target for src/auth/personal.c and mask.c. A key file is created
 * once in a mkdtemp directory, loaded, and both removed again (the keyring stays in memory for the
 * run). The first input byte picks an output buffer size (0-63) for the masks; the rest, copied to
 * a buffer of exactly its size so ASan sees any read past the end, goes to every mask function and,
 * NUL-terminated, to sifa_personal_decrypt. Checks: masks either fit (length returned, output
 * NUL-terminated there and valid UTF-8) or return SIFA_ELIMIT leaving ""; decrypt fails with
 * personal_corrupt or personal_unknown_key and untouched out-parameters (it cannot succeed without
 * the key), key_id agrees with is_encrypted; the input itself encrypts and decrypts back to the
 * same bytes; blind indexes are 32 hex digits and deterministic. */
#include <string.h>
#include <unistd.h>

#include "auth/personal.h"
#include "base/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok)
        abort();
}

static struct sifa_keyring *keyring(void)
{
    static struct sifa_keyring *kr;
    if (kr != NULL)
        return kr;
    char dir[] = "/tmp/sifa-fuzz-personal-XXXXXX";
    check(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof(path), "%s/keys", dir);
    check(sifa_keyring_create_file(path, NULL) == 0);
    check(sifa_keyring_rotate_file(path, NULL) == 2); /* two keys: "pd1:1:" and "pd1:2:" are both known */
    check(sifa_keyring_load(path, &kr, NULL) == 0);
    unlink(path);
    rmdir(dir);
    return kr;
}

static void check_utf8(const char *s)
{
    json_t *j = json_string(s);
    check(j != NULL);
    json_decref(j);
}

static void fuzz_mask(int (*f)(const char *, size_t, char *, size_t), const char *s, size_t len, size_t out_size)
{
    char *out = malloc(out_size == 0 ? 1 : out_size); /* exact size: ASan catches a write past it */
    check(out != NULL);
    memset(out, 'Z', out_size);
    int r = f(s, len, out_size == 0 ? NULL : out, out_size);
    if (r >= 0) {
        check((size_t)r < out_size && out[r] == '\0' && strlen(out) == (size_t)r);
        check_utf8(out);
    } else {
        check(r == SIFA_ELIMIT);
        check(out_size == 0 || out[0] == '\0');
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sifa_keyring *kr = keyring();
    if (size == 0)
        return 0;
    size_t out_size = data[0] % 64;
    size_t len = size - 1;
    char *s = malloc(len == 0 ? 1 : len);
    check(s != NULL);
    memcpy(s, data + 1, len);

    fuzz_mask(sifa_mask_id_number, s, len, out_size);
    fuzz_mask(sifa_mask_name, s, len, out_size);
    fuzz_mask(sifa_mask_phone, s, len, out_size);
    fuzz_mask(sifa_mask_text, s, len, out_size);
    fuzz_mask(sifa_mask_text, s, len, 4 * len + 8); /* always large enough */

    char *text = malloc(len + 1);
    check(text != NULL);
    memcpy(text, s, len);
    text[len] = '\0';
    char *plain = (char *)text;
    size_t plain_len = 777;
    struct sifa_error err = {0};
    int r = sifa_personal_decrypt(kr, text, &plain, &plain_len, &err);
    check(r == SIFA_EINVALID || r == SIFA_ENOTFOUND);
    check(err.status == r);
    check(strcmp(err.code, r == SIFA_EINVALID ? "personal_corrupt" : "personal_unknown_key") == 0);
    check_utf8(err.message);
    check(plain == text && plain_len == 777);
    sifa_error_release(&err);
    int id = sifa_personal_key_id(text);
    check((id > 0) == sifa_personal_is_encrypted(text));
    check(r != SIFA_ENOTFOUND || (id > 2));

    /* Round trip of the raw bytes (NULs included). */
    char *enc = NULL;
    check(sifa_personal_encrypt(kr, s, len, &enc, NULL) == 0);
    check(sifa_personal_key_id(enc) == 2);
    char *dec = NULL;
    size_t dec_len = 0;
    check(sifa_personal_decrypt(kr, enc, &dec, &dec_len, NULL) == 0);
    check(dec_len == len && memcmp(dec, s, len) == 0 && dec[len] == '\0');
    free(dec);
    free(enc);

    char h1[SIFA_BLIND_INDEX_HEX], h2[SIFA_BLIND_INDEX_HEX];
    sifa_personal_blind_index(kr, "person.name", s, len, h1);
    sifa_personal_blind_index(kr, "person.name", s, len, h2);
    check(strlen(h1) == 32 && strcmp(h1, h2) == 0);

    free(text);
    free(s);
    return 0;
}
