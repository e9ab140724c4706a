/* secret.c — see secret.h. Layer: auth. Stateless apart from libsodium's own initialisation. */
#include <sodium.h>
#include <string.h>

#include "auth/secret.h"

#include "base/common.h"

_Static_assert(SIFA_TOKEN_TEXT == sodium_base64_ENCODED_LEN(SIFA_TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
               "token text size");
_Static_assert(SIFA_TOKEN_HASH_HEX == 2 * crypto_generichash_BYTES + 1, "token hash size");

void sifa_token_new(char ret[SIFA_TOKEN_TEXT])
{
    if (sodium_init() < 0)
        abort(); /* no randomness source: issuing a guessable token would be worse than stopping */
    unsigned char bytes[SIFA_TOKEN_BYTES];
    randombytes_buf(bytes, sizeof(bytes));
    sodium_bin2base64(ret, SIFA_TOKEN_TEXT, bytes, sizeof(bytes), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(bytes, sizeof(bytes));
}

void sifa_token_hash(const char *token, char ret_hex[SIFA_TOKEN_HASH_HEX])
{
    unsigned char h[crypto_generichash_BYTES];
    /* BLAKE2b needs no initialisation; crypto_generichash cannot fail with these sizes. */
    crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(ret_hex, SIFA_TOKEN_HASH_HEX, h, sizeof(h));
}

bool sifa_token_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return false;
    size_t len = strlen(a);
    if (strlen(b) != len)
        return false;
    return sodium_memcmp(a, b, len) == 0;
}

bool sifa_token_valid_text(const char *s)
{
    if (s == NULL || strnlen(s, SIFA_TOKEN_TEXT) != SIFA_TOKEN_TEXT - 1)
        return false;
    for (size_t i = 0; i < SIFA_TOKEN_TEXT - 1; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}
