/* secret.h — random bearer tokens (session and API tokens): creation, the hash they are stored
 * under, constant-time comparison and a syntax check. Layer: auth (includes base/ only).
 * A token is 32 random bytes written as 43 characters of unpadded base64url; the database keeps
 * only sifa_token_hash(token), so a stolen database does not yield usable tokens. All functions
 * are thread-safe and allocate nothing. */
#ifndef SIFA_AUTH_SECRET_H
#define SIFA_AUTH_SECRET_H

#include "base/common.h"

#define SIFA_TOKEN_BYTES 32
#define SIFA_TOKEN_TEXT 44 /* 43 base64url characters and the NUL */
#define SIFA_TOKEN_HASH_HEX 65

/* Writes a new token from the system CSPRNG to ret (NUL-terminated). Cannot fail: libsodium's
 * initialisation failing (no randomness source) aborts the process, as nothing safe can follow. */
void sifa_token_new(char ret[SIFA_TOKEN_TEXT]);

/* Writes the lowercase hex BLAKE2b-256 of token (NUL-terminated, not NULL) to ret_hex. A plain
 * unkeyed hash suffices: tokens carry 256 bits of entropy, nothing to brute-force. */
void sifa_token_hash(const char *token, char ret_hex[SIFA_TOKEN_HASH_HEX]);

/* True when a and b (NUL-terminated; NULL gives false) are equal. Equal-length strings are compared
 * in constant time (sodium_memcmp); strings of different lengths are unequal at once, which
 * reveals only the length. */
bool sifa_token_equal(const char *a, const char *b);

/* True when s (may be NULL: false) is exactly 43 characters of the base64url alphabet
 * (A-Z a-z 0-9 - _). Reads at most 44 bytes of s. */
bool sifa_token_valid_text(const char *s);

#endif
